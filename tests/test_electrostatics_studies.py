"""The electrostatics studies of issue 14 in miniature, through the shipped problem files.

* Ion clusters (models/ion_clusters/): fixed charges + LJ fitted on dimers of a polarisable
  ion model, trimers held out. At alpha = 0 the reference IS the fitted model at s = 1
  (data/scripts/make_ion_clusters.py evaluates the polarisable model with zero
  polarisabilities, whose energy is then the fixed-charge sum, and the cation's LJ values
  are the fitted model's prior medians), so the posterior must put s at 1 and the trimers
  must transfer; at alpha = 3.5 angstrom^3 many-body induction makes the trimers fail.
* Ion pair in two solvents (models/ion_pair_solvents/): a screening fitted to a water-like
  potential of mean force fails in a hexane-like solvent unless the convention carries the
  solvent (ECC).

Short chains (2 x 200 + 200): the checks below are far from the thresholds they test, so
Monte Carlo error (a few percent of a posterior sd) cannot flip them; the seeds are fixed.
"""

from __future__ import annotations

import numpy as np
import pytest

from bayesff import runfile
from bayesff.inference import calibrate, calibrate_many
from bayesff.problem import Problem
from bayesff.transferability import evaluate

from support import ROOT

SHORT = dict(chains=2, warmup=200, samples=200, progress=False, log=None)


def _ion_problem(tag: str) -> Problem:
    """models/ion_clusters/ion_clusters.toml on the data of one polarisability."""
    import tomllib

    path = ROOT / "models" / "ion_clusters" / "ion_clusters.toml"
    doc = tomllib.loads(path.read_text())
    for t in doc["targets"]:
        t["data"] = t["data"].replace("alpha3p5", tag)
    doc["problem"]["name"] = f"ion_clusters_{tag}"
    doc["inference"]["prior_draws"] = 20
    return Problem.from_dict(doc, path=str(path), base_dirs=(ROOT,))


def _held_out(run, target: str):
    """Posterior-mean held-out prediction, the observations and the verdicts of ``target``."""
    dt = run.datatree
    pred = np.asarray(dt["predictions"][f"{target}_model"].values).mean(axis=(0, 1))
    obs = runfile.rows(dt, target, "holdout").observed
    verdicts = {g["group"]: g["verdict"] for g in evaluate(dt).groups if g["target"] == target}
    return pred, np.asarray(obs), verdicts


@pytest.mark.slow
def test_ion_clusters_alpha_to_zero_limit():
    """s -> 1 and the trimer error -> 0 as the reference's polarisability goes to 0.

    At alpha = 0 the data are exact values of the fitted model at s = 1 (module
    docstring), weighted by 0.05 kJ/mol: s within 1e-3 of 1 and a trimer RMS error below
    0.05 kJ/mol (the weight) are loose bounds on an exact recovery. At alpha = 3.5 the full
    run (docs/electrostatics.md) gives s = 1.03 and a trimer RMS error of ~20 kJ/mol; the
    bounds |s - 1| > 0.01 and RMS > 5 kJ/mol leave a wide margin. The verdicts must read
    transferable and not transferable.
    """
    runs = calibrate_many([_ion_problem("alpha0"), _ion_problem("alpha3p5")], **SHORT)
    s = [float(r.datatree["posterior"]["s"].mean()) for r in runs]
    rms = []
    verdicts = []
    for r in runs:
        pred, obs, v = _held_out(r, "E_trimers")
        rms.append(float(np.sqrt(np.mean((pred - obs) ** 2))))
        verdicts.append(set(v.values()))
    assert abs(s[0] - 1.0) < 1e-3, s
    assert rms[0] < 0.05, rms
    assert verdicts[0] == {"transferable"}, verdicts
    assert s[1] - 1.0 > 0.01, s
    assert rms[1] > 5.0, rms
    assert verdicts[1] == {"not transferable"}, verdicts


def _solvent_problem(name: str) -> Problem:
    path = ROOT / "models" / "ion_pair_solvents" / f"{name}.toml"
    p = Problem.from_toml(path)
    import dataclasses

    p.inference = dataclasses.replace(p.inference, prior_draws=20)
    return p


@pytest.mark.slow
def test_water_fitted_screening_fails_in_hexane_and_ecc_carries_over():
    """One effective permittivity fitted in water fails in hexane; ECC transfers at long range.

    Reference: the source's hexane-like PMF (generalized Born, data/scripts/
    make_ion_pair_solvents.py) tends to k_e q q / (1.89 r) at large r. The effective
    permittivity fitted in water (~64 in the full run) screens it about 30 times too
    much: every held-out point is off by more than 50 % (the full run: 83-98 %). Under ECC
    the screening in hexane is n^2 = 1.89 at every r, which the source reaches beyond ~4
    angstrom (the full run: errors below 3 % there, 13 % at contact, where the source's
    interior permittivity 1 makes its screening 1.76); the bound 3 % beyond 4 angstrom
    tests that the convention, not the fit, carries the solvent.
    """
    eff = calibrate(_solvent_problem("effective"), **SHORT)
    pred, obs, verdicts = _held_out(eff, "W")
    assert verdicts == {"hexane": "not transferable"}
    assert np.all(np.abs(pred - obs) / np.abs(obs) > 0.5)

    ecc = calibrate(_solvent_problem("ecc"), **SHORT)
    pred, obs, _ = _held_out(ecc, "W")
    r = np.asarray(runfile.rows(ecc.datatree, "W", "holdout").env["r"], float)
    far = r >= 4.0
    assert np.max(np.abs(pred[far] - obs[far]) / np.abs(obs[far])) < 0.03
