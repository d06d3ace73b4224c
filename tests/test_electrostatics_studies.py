"""The electrostatics studies of issue 14 in miniature (studies.electrostatics).

* Ion clusters (models/ion_clusters/): fixed charges + LJ fitted on dimers of a polarisable
  ion model, trimers held out. At alpha = 0 the reference IS the fitted model at s = 1
  (data/scripts/make_ion_clusters.py evaluates the polarisable model with zero
  polarisabilities, whose energy is then the fixed-charge sum, and the cation's LJ values
  are the fitted model's prior medians): the known truth s = 1 must be recovered and the
  trimers must transfer. At alpha = 3.5 angstrom^3 many-body induction makes the pair model
  wrong for trimers: the negative control, which the verdict must flag.
* Ion pair in two solvents (models/ion_pair_solvents/): a screening fitted to a water-like
  potential of mean force fails in a hexane-like solvent (negative control) unless the
  convention carries the solvent (ECC).
* Stockmayer B2 (models/polar_gases/): known-truth recovery of a dipole moment from B2
  values computed with the Stockmayer model itself, and the dipole check's verdicts.

Short chains (2 x 200 + 200): the checks below are far from the thresholds they test, so
Monte Carlo error (a few percent of a posterior sd) cannot flip them; the seeds are fixed.
"""

from __future__ import annotations

import csv
import tomllib

import numpy as np
import pytest

from bayesff import runfile
from bayesff.inference import calibrate
from bayesff.problem import Problem
from studies import electrostatics as es

from support import ROOT

SHORT = dict(chains=2, warmup=200, samples=200)


def _study(name, tmp_path, tasks):
    return es.run_study(
        name,
        runs=tmp_path / "runs",
        out=tmp_path / "out",
        models_dir=ROOT / "models",
        data_dir=ROOT / "data",
        report=False,
        tasks=tasks,
        log=None,
        **SHORT,
    )


@pytest.mark.slow
def test_ion_clusters_known_truth_and_negative_control(tmp_path):
    """alpha = 0: s = 1 recovered, trimers transfer; alpha = 3.5: flagged not transferable.

    At alpha = 0 the data are exact values of the fitted model at s = 1 (module
    docstring), weighted by 0.05 kJ/mol: s within 1e-3 of 1 and a trimer RMS error below
    0.05 kJ/mol (the weight) are loose bounds on an exact recovery. At alpha = 3.5 the
    full run (docs/electrostatics.md) gives s = 1.029 and a trimer RMS error of 28 kJ/mol;
    the bounds s - 1 > 0.01 and RMS > 5 kJ/mol leave a wide margin. The verdicts (tolerance
    2 kJ/mol) must read transferable and not transferable. The study also writes its table,
    numbers and figure.
    """
    e = _study("ion-clusters", tmp_path, ["alpha0", "alpha3p5"])
    a0, a35 = e["alpha0"], e["alpha3p5"]
    assert abs(a0["s"]["mean"] - 1.0) < 1e-3, a0["s"]
    assert a0["trimer_rms_error_kJ_per_mol"] < 0.05, a0
    assert a0["trimer_verdict"] == "transferable"
    assert a35["s"]["mean"] - 1.0 > 0.01, a35["s"]
    assert a35["trimer_rms_error_kJ_per_mol"] > 5.0, a35
    assert a35["trimer_verdict"] == "not transferable"
    for ext in ("json", "md", "png"):
        assert (tmp_path / "out" / f"ion_clusters.{ext}").stat().st_size > 0
    assert "| 3.5 |" in (tmp_path / "out" / "ion_clusters.md").read_text()


@pytest.mark.slow
def test_water_fitted_screening_fails_in_hexane_and_ecc_carries_over(tmp_path):
    """One effective permittivity fitted in water fails in hexane; ECC transfers at long range.

    Reference: the source's hexane-like PMF (generalized Born, data/scripts/
    make_ion_pair_solvents.py) tends to k_e q q / (1.89 r) at large r. The effective
    permittivity fitted in water (64 in the full run) screens it about 30 times too
    much: every held-out point is off by more than 50 % (the full run: 94-97 %), and the
    verdict must say so (negative control). Under ECC the screening in hexane is
    n^2 = 1.89 at every r, which the source reaches beyond ~4 angstrom (the full run:
    errors below 3 % there, 13 % at contact, where the source's interior permittivity 1
    makes its screening 1.76); the bound 3 % beyond 4 angstrom tests that the convention,
    not the fit, carries the solvent.
    """
    e = _study("ion-pair-solvents", tmp_path, ["ion_pair_effective", "ion_pair_ecc"])
    eff, ecc = e["ion_pair_effective"], e["ion_pair_ecc"]
    assert eff["hexane_verdict"] == "not transferable"
    assert min(eff["curves"]["W_hexane_model"]) > 0.5 * min(eff["curves"]["W_hexane_observed"])
    rel = np.abs(
        np.subtract(eff["curves"]["W_hexane_model"], eff["curves"]["W_hexane_observed"])
    ) / np.abs(eff["curves"]["W_hexane_observed"])
    assert np.all(rel > 0.5), rel
    assert ecc["hexane_rel_error_beyond_4A_max"] < 0.03, ecc


def _stockmayer_b2_file(tmp_path, epsilon_K, sigma, mu_D):
    """B2 of the Stockmayer model itself on the water file's temperatures, u = 2 % |B2|."""
    from bayesff.observables.orientational import second_virial_linear
    from bayesff.potentials import get_potential
    from bayesff.units import DEBYE_E_ANGSTROM, GAS_CONSTANT_KJ_PER_MOL_K

    with (ROOT / "data" / "polar_gases" / "b2_water.csv").open() as fh:
        T = np.array([float(r["T_K"]) for r in csv.DictReader(fh)])
    params = {
        "epsilon": epsilon_K * GAS_CONSTANT_KJ_PER_MOL_K,
        "sigma": sigma,
        "mu": mu_D * DEBYE_E_ANGSTROM,
    }
    b2 = np.asarray(second_virial_linear(get_potential("stockmayer"), params, T))
    d = tmp_path / "data"
    d.mkdir()
    with (d / "b2.csv").open("w") as fh:
        fh.write("T_K,B2_cm3_per_mol,u_B2_cm3_per_mol\n")
        for t, b in zip(T, b2, strict=True):
            fh.write(f"{t:.6g},{b:.10g},{0.02 * abs(b) + 0.5:.6g}\n")
    from support import write_manifest

    write_manifest(d)
    return d


@pytest.mark.slow
def test_stockmayer_dipole_recovered_and_dipole_check_verdicts(tmp_path):
    """The dipole that generated B2 is recovered; the dipole check passes it and fails 1.5x.

    Reference: B2(T) of the Stockmayer model at epsilon/k = 350 K, sigma = 3.0 angstrom,
    mu = 1.85 D (water-like values; exact quadrature, weighted by 2 % + 0.5 cm^3/mol), on
    the temperatures of data/polar_gases/b2_water.csv, through the shipped problem file
    (models/polar_gases/stockmayer_b2.toml). The model contains the truth, so mu = 1.85 D
    must lie in the posterior's 90 % interval, and the dipole check against the true value
    (tolerance 10 %) must pass while against 1.5 x the true value (50 % off, far outside
    the posterior) it must fail: the check can fail. The held-out B2 ends of the true
    model may be uncertain (extrapolation) but never not transferable.
    """
    _stockmayer_b2_file(tmp_path, 350.0, 3.0, 1.85)
    path = ROOT / "models" / "polar_gases" / "stockmayer_b2.toml"
    doc = tomllib.loads(path.read_text())
    doc["targets"][0]["data"] = "data/b2.csv"
    doc["targets"][0]["inadequacy"] = "none"
    doc["inference"]["prior_draws"] = 20
    problem = Problem.from_dict(doc, path=str(path), base_dirs=(tmp_path,))
    run = calibrate(problem, progress=False, log=None, **SHORT)
    dt = run.datatree
    mu = np.asarray(runfile.latents(dt)["mu"].values).ravel()
    lo, hi = np.quantile(mu, [0.05, 0.95])
    assert lo < 1.85 < hi, (lo, hi)
    good = es.dipole_entry(dt, 1.85)
    assert good["verdict"] == "pass", good
    bad = es.dipole_entry(dt, 1.5 * 1.85)
    assert bad["verdict"] == "fail", bad
    # the held-out ends are extrapolations: with 2 % weights the posterior's spread there may
    # exceed the 5 % tolerance (uncertain), but the true model must never be flagged wrong
    assert "not transferable" not in good["b2_verdicts"].values(), good["b2_verdicts"]


def test_unknown_study_and_task_are_errors(tmp_path):
    """A study or task name that does not exist is an error naming the choices."""
    with pytest.raises(ValueError, match="ion-clusters"):
        es.run_study("no-such-study", runs=tmp_path, log=None)
    with pytest.raises(ValueError, match="alpha0p25"):
        es.get_runs(
            "ion-clusters", runs=tmp_path, models_dir=ROOT / "models", tasks=["alpha9"], log=None
        )


def test_study_commands_parse():
    """``python -m studies.electrostatics ion-clusters|ion-pair-solvents|polar-gases`` take the
    documented options."""
    p = es.parser()
    a = p.parse_args(["ion-clusters", "--tasks", "alpha0,alpha3p5", "--chains", "2"])
    assert (a.study, a.tasks, a.chains, a.out) == ("ion-clusters", "alpha0,alpha3p5", 2, None)
    assert es.STUDIES[a.study].out == "reports/ion_clusters"
    a = p.parse_args(["polar-gases", "--reuse", "--no-report"])
    assert a.reuse and a.no_report and es.STUDIES[a.study].out == "reports/polar_gases"
    assert p.parse_args(["ion-pair-solvents"]).study == "ion-pair-solvents"
