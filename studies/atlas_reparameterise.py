"""One atlas task sampled in other coordinates: does a run that mixes badly converge?

Takes a task of ``models/atlas/atlas.toml`` as the sweep builds it and samples it in

- ``lstar``: a two-centre form in L* = L / sigma (``two_centre_lj_lstar``,
  ``two_centre_lj_quadrupole_lstar``), the task's L prior divided by its prior median
  of sigma and bounded at the EOS's edge, L* <= 0.8;
- ``vdw``: the Mie form in its van der Waals energy epsilon_vdw = alpha(n, 6) epsilon
  (``mie_vdw``), the task's epsilon prior median times alpha(16, 6) (16: the n prior's
  centre), same log-scale;
- ``critical``: a two-centre form in critical-point coordinates (``two_centre_lj_critical``,
  ``two_centre_lj_quadrupole_critical``): L* as ``lstar``, epsilon_c = epsilon T*c(L*) and
  l_c = sigma / rho*c(L*)^(1/3) with the task's epsilon and sigma priors moved to those
  coordinates at L*'s prior centre (same log-scales); the Mie n-6 form in
  ``mie_critical``, epsilon_c = epsilon T*c(n) and l_c = sigma / rho*c(n)^(1/3) with the
  priors moved at n's prior centre;
- ``qstar``: the 2CLJQ form in ln Q*^2 = ln(Q^2 / (4 pi eps0 epsilon sigma^5))
  (``two_centre_lj_quadrupole_qstar``): the task's LogNormal Q prior moved to Q*^2 at the
  prior centre of (epsilon, sigma) (median Q*^2 there, twice the log-scale), as a
  TruncatedNormal in ln Q*^2 bounded at the EOS's edge, Q*^2 <= 4;
- ``same``: the task unchanged (the baseline, in the same process),

optionally with other sampler settings (``--target-accept``, ``--warmup``, ``--samples``),

and prints the diagnostics, the leapfrog steps per draw and the step size per chain. The
two-centre coordinates start from a task with a prior on L: the atlas's own two-centre
tasks of ethane, ethylene and CO2 were so until they moved to critical-point coordinates
(2026-11-27; docs/atlas.md quotes the runs made on the earlier file,
``git show 640136d:models/atlas/atlas.toml``)::

    python -m studies.atlas_reparameterise carbon_dioxide-2cljq-VLE lstar
    python -m studies.atlas_reparameterise argon-mie-VLE vdw
    python -m studies.atlas_reparameterise neon-mie-VLE critical --warmup 1000 --samples 1000

The 2CLJQ tasks with L fixed are sampled in ln Q*^2 by the atlas itself since 2026-11-28
(make_atlas.py's ``LN_Q2_STAR``), so ``qstar`` takes a task in Q (as in
``git show a8e40a8:models/atlas/atlas.toml``; docs/atlas.md quotes the fluorine-2CLJQ-B2
runs made from it).

Nothing is written. docs/atlas.md quotes its results.
"""

from __future__ import annotations

import argparse
import copy
import math
import time

import numpy as np
import tomli_w

import bayesff
from bayesff import Problem, calibrate, runfile
from bayesff.potentials.molecular import two_centre_critical_point
from bayesff.potentials.pair import mie_critical_point, vdw_alpha
from bayesff.sweep import expand
from bayesff.units import COULOMB_KJ_PER_MOL_ANGSTROM, to_internal

#: The EOS's validated edge of L* = L / sigma (Lisal et al. 2004; docs/vle.md).
L_STAR_EDGE = 0.8
#: The 2CLJQ EOS's validated edge of Q*^2 (Stoll et al. 2001; docs/vle.md).
Q2_STAR_EDGE = 4.0


def _ln_q2_star_prior(par: dict) -> dict:
    """The task's LogNormal Q prior as a prior of ln Q*^2 at the prior centre of (epsilon,
    sigma), bounded at ln 4."""
    entry = par.pop("Q")
    q = entry["prior"]
    if q.get("dist") != "LogNormal":
        raise SystemExit(f"qstar needs a LogNormal prior on Q, found {q}")
    eps = to_internal(par["epsilon"]["prior"]["median"], par["epsilon"]["unit"], "energy")
    sig = to_internal(par["sigma"]["prior"]["median"], par["sigma"]["unit"], "length")
    q_int = to_internal(q["median"], entry["unit"], "quadrupole")
    ln_q2 = math.log(COULOMB_KJ_PER_MOL_ANGSTROM * q_int**2 / (eps * sig**5))
    if ln_q2 >= math.log(Q2_STAR_EDGE):
        raise SystemExit(
            f"the Q prior's median gives Q*^2 = {math.exp(ln_q2):.3g} at the prior centre of "
            f"(epsilon, sigma), at or beyond the EOS's edge {Q2_STAR_EDGE:g}"
        )
    return {
        "dist": "TruncatedNormal",
        "loc": ln_q2,
        "scale": 2 * q["scale"],  # Q*^2 goes as Q^2
        "low": math.log(1e-3),
        "high": math.log(Q2_STAR_EDGE),
    }


def _mie_critical(d: dict) -> None:
    """Move a Mie n-6 task to ``mie_critical`` in place: its epsilon and sigma priors moved
    to epsilon_c = epsilon T*c(n) and l_c = sigma / rho*c(n)^(1/3) at n's prior centre."""
    par = d["parameters"]
    if "epsilon" not in par:
        raise SystemExit(
            f"critical needs a Mie task in (epsilon, sigma, n); this one has {sorted(par)} "
            "(the atlas samples Mie in critical-point coordinates since 2026-11-28)"
        )
    if par.get("m", {}).get("value") != 6.0:
        raise SystemExit(f"mie_critical is the Mie n-6 form; this task has m = {par.get('m')}")
    n0 = par["n"]["prior"].get("loc", 16.0)
    tc, rc = (float(x) for x in mie_critical_point(n0))
    e, s = par.pop("epsilon"), par.pop("sigma")
    par.pop("m")
    e_prior = dict(e["prior"]) | {"median": e["prior"]["median"] * tc}
    s_prior = dict(s["prior"]) | {"median": s["prior"]["median"] / rc ** (1 / 3)}
    d["parameters"] = {
        "epsilon_c": {"unit": e["unit"], "prior": e_prior},
        "l_c": {"unit": s["unit"], "prior": s_prior},
        **par,
    }
    d["potential"]["kind"] = "mie_critical"


def reparameterised(doc: dict, form: str) -> dict:
    """The task's problem document in the coordinates ``form`` names."""
    d = copy.deepcopy(doc)
    par = d["parameters"]
    if form == "critical" and d["potential"]["kind"] in ("mie", "mie_critical"):
        _mie_critical(d)
    elif form in ("lstar", "critical"):
        if "prior" not in par.get("L", {}):
            raise SystemExit(
                f"{form} needs a two-centre task with a prior on L; this one has parameters "
                f"{sorted(par)} (the atlas samples ethane, ethylene and CO2 in critical-point "
                "coordinates since 2026-11-27: their tasks are already so)"
            )
        L = par.pop("L")["prior"]
        if L.get("dist") != "TruncatedNormal":
            raise SystemExit(f"expected a TruncatedNormal prior on L, found {L}")
        sig = par["sigma"]["prior"]["median"]
        prior = {"dist": "TruncatedNormal", "loc": L["loc"] / sig, "scale": L["scale"] / sig}
        prior |= {"low": L["low"] / sig, "high": L_STAR_EDGE}
        par["L_star"] = {"unit": "1", "prior": prior}
        d["potential"]["kind"] += "_lstar"
        if form == "critical":
            tc, rc = (float(x) for x in two_centre_critical_point(prior["loc"]))
            e, s = par.pop("epsilon"), par.pop("sigma")
            e_prior = dict(e["prior"]) | {"median": e["prior"]["median"] * tc}
            s_prior = dict(s["prior"]) | {"median": s["prior"]["median"] / rc ** (1 / 3)}
            par["epsilon_c"] = {"unit": e["unit"], "prior": e_prior}
            par["l_c"] = {"unit": s["unit"], "prior": s_prior}
            d["potential"]["kind"] = d["potential"]["kind"].replace("_lstar", "_critical")
    elif form == "qstar":
        if d["potential"]["kind"].endswith("_qstar"):
            raise SystemExit(
                "the task is already sampled in ln Q*^2 (the atlas's 2CLJQ tasks with L fixed "
                "since 2026-11-28): qstar needs a task in Q"
            )
        if d["potential"]["kind"] != "two_centre_lj_quadrupole":
            raise SystemExit(f"qstar needs a two_centre_lj_quadrupole task, not {d['potential']}")
        if "prior" not in par.get("Q", {}):
            raise SystemExit(
                f"qstar needs a 2CLJQ task with a prior on Q; this one has {sorted(par)}"
            )
        par["lnQ2_star"] = {"unit": "1", "prior": _ln_q2_star_prior(par)}
        d["potential"]["kind"] += "_qstar"
    elif form == "vdw":
        if d["potential"]["kind"] != "mie":
            raise SystemExit(f"vdw needs a Mie task in (epsilon, sigma, n), not {d['potential']}")
        e = par.pop("epsilon")
        prior = dict(e["prior"]) | {"median": e["prior"]["median"] * float(vdw_alpha(16.0, 6.0))}
        d["parameters"] = {"epsilon_vdw": {"unit": e["unit"], "prior": prior}, **par}
        d["potential"]["kind"] = "mie_vdw"
    return d


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("task", help="an atlas task, e.g. carbon_dioxide-2cljq-VLE")
    ap.add_argument("form", choices=("lstar", "critical", "vdw", "qstar", "same"))
    ap.add_argument("--sweep", default="models/atlas/atlas.toml")
    ap.add_argument(
        "--target-accept", type=float, help="NUTS's target acceptance (default: the task's)"
    )
    ap.add_argument("--warmup", type=int, help="warm-up draws per chain (default: the task's)")
    ap.add_argument("--samples", type=int, help="kept draws per chain (default: the task's)")
    args = ap.parse_args(argv)
    bayesff.configure()
    tasks = {t.name: t for t in expand(args.sweep)[1]}
    if args.task not in tasks:
        raise SystemExit(f"no task {args.task!r} in {args.sweep}")
    t = tasks[args.task]
    d = reparameterised(t.document, args.form)
    for key in ("target_accept", "warmup", "samples"):
        if getattr(args, key) is not None:
            d.setdefault("inference", {})[key] = getattr(args, key)
    print("inference:", d.get("inference"))
    print("parameters:", d["parameters"])
    problem = Problem.from_dict(
        d, path=f"{args.task} ({args.form})", source_text=tomli_w.dumps(d), base_dirs=t.base_dirs
    )
    t0 = time.perf_counter()
    run = calibrate(problem, progress=False)
    ss = run.datatree["sample_stats"]
    print(f"wall {time.perf_counter() - t0:.0f} s")
    print(run.diagnostics)
    print("posterior means:", {k: float(v.mean()) for k, v in run.datatree["posterior"].items()})
    for k, v in runfile.derived_parameters(run.datatree).items():  # e.g. Q of the qstar form
        x = np.asarray(v)
        print(f"  derived {k} ({v.attrs['units']}): mean {x.mean():.4g}, sd {x.std():.3g}")
    for k, v in run.datatree["posterior"].items():
        x = np.asarray(v)
        if x.ndim == 2:  # (chain, draw): where each chain sits, to tell modes from funnels
            print(f"  {k}: chain means {x.mean(1).round(4)}, chain sds {x.std(1).round(4)}")
    steps = np.asarray(ss["n_steps"]).mean(axis=1).round(1)
    print(f"leapfrog steps per draw {steps}, step size {np.asarray(ss['step_size']).mean(1)}")


if __name__ == "__main__":
    main()
