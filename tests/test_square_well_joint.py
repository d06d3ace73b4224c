"""The square-well joint-transferability case (models/argon_sw_*.toml).

Study: studies.square_well (``python -m studies.square_well``); docs/square_well.md.

(a) the first-peak features of data/scripts/yarnell_features.py on analytic g(r)
    and on the shipped data; (b) the problem files load; (c) inference on known
    truth: synthetic B2 + r_peak from a known square well are recovered, and the
    joint tolerance probability is high; (d) negative control: r_peak from a
    larger core than the B2 implies gives a low joint tolerance probability.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import tomllib

import numpy as np
import pytest

from support import ROOT, manifest_entry

FEATURES_SCRIPT = ROOT / "data" / "scripts" / "yarnell_features.py"
FEATURES_CSV = ROOT / "data" / "argon_yarnell1973" / "features_85K_target.csv"
SW_MODELS = ("argon_sw_joint", "argon_sw_b2", "argon_sw_structure")
R_KJ = 0.00831446261815324  # kJ/(mol K), CODATA 2018 (bayesff.units)


def _features_module():
    spec = importlib.util.spec_from_file_location("yarnell_features", FEATURES_SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ------------------------------------------------------------------------- (a) features


def test_features_exact_on_analytic_peaks():
    """Gaussian and parabolic peaks: position and height exact; n_coord by a closed form."""
    yf = _features_module()
    dr = 0.01
    r = dr * np.arange(1, 1200)
    # Gaussian centred on a grid point: the 3-point parabola is symmetric, so its
    # vertex is the grid point and its height the Gaussian's, exactly (to rounding).
    r0, h, w = 3.70, 2.1, 0.25
    g = 1.0 + h * np.exp(-0.5 * ((r - r0) / w) ** 2)
    f = yf.features(r, g, 0.02)
    assert f["r_peak_angstrom"] == pytest.approx(r0, abs=1e-12)
    assert f["g_peak"] == pytest.approx(1.0 + h, abs=1e-12)
    # A parabolic cap off the grid: the 3-point parabola is the function itself.
    r0 = 3.7071
    g = np.maximum(3.0 - 4.0 * (r - r0) ** 2, 0.0)
    f = yf.features(r, g, 0.02)
    assert f["r_peak_angstrom"] == pytest.approx(r0, abs=1e-10)
    assert f["g_peak"] == pytest.approx(3.0, abs=1e-10)
    # g = 0 below a, 1 - cos(2 pi (r - a) / L) above: peak at a + L/2, first minimum
    # at a + L (inside the (1.05, 1.75) r_peak window), and
    # n = 4 pi rho [((a + L)^3 - a^3) / 3 - 2 L / k^2], k = 2 pi / L (closed form;
    # the x^2 cos(kx) term integrates to 2L/k^2, the others to 0). Tolerance: the
    # rectangle rule on dr = 0.01 and the interpolated r_min, O(dr^2) ~ 1e-4 relative.
    a, L, rho = 3.0, 2.0, 0.02
    k = 2 * np.pi / L
    g = np.where(r < a, 0.0, 1.0 - np.cos(k * (r - a)))
    f = yf.features(r, g, rho)
    n_exact = 4 * np.pi * rho * (((a + L) ** 3 - a**3) / 3 - 2 * L / k**2)
    assert f["r_peak_angstrom"] == pytest.approx(a + L / 2, abs=1e-9)
    assert f["r_min_angstrom"] == pytest.approx(a + L, abs=1e-9)
    assert f["n_coord"] == pytest.approx(n_exact, rel=2e-4)


def test_features_csv_reproduces_from_the_script():
    """The shipped features_85K_target.csv is what the script computes from the data."""
    yf = _features_module()
    row, _variants, terms = yf.derive()
    assert FEATURES_CSV.read_text() == yf.csv_text(row)
    # Yarnell et al. (1973) g(r) as analysed in docs/structure.md (same estimator):
    # first peak 3.707 angstrom, height 3.075, coordination number 12.07.
    assert row["r_peak_angstrom"] == pytest.approx(3.707, abs=5e-4)
    assert row["g_peak"] == pytest.approx(3.075, abs=5e-4)
    assert row["n_coord"] == pytest.approx(12.07, abs=5e-3)
    for k, t in terms.items():
        assert all(v >= 0 for v in t.values()), k
    # the manifest entry (merged from data/manifest.d/sw.toml) records this file's hash
    sha = hashlib.sha256(FEATURES_CSV.read_bytes()).hexdigest()
    doc = tomllib.loads((ROOT / "data" / "manifest.toml").read_text())
    entry = [e for e in doc["files"] if e["path"] == "argon_yarnell1973/features_85K_target.csv"]
    assert entry and entry[0]["sha256"] == sha
    assert "ASSUMED" in entry[0]["uncertainty"]


# ---------------------------------------------------------------------- (b) problem files


@pytest.mark.parametrize("name", SW_MODELS)
def test_problem_files_check(name, capsys):
    from bayesff.cli import main

    assert main(["check", str(ROOT / "models" / f"{name}.toml")]) == 0
    assert "is valid" in capsys.readouterr().out


# --------------------------------------------------------- (c), (d) inference on synthetic data

#: Known truth of the synthetic square well (sigma angstrom, epsilon/k K, lambda).
TRUTH = {"sigma": 3.4, "epsilon": 100.0, "lam": 1.5}
#: B2 training and held-out temperatures, K.
T_TRAIN = (110.0, 150.0, 200.0, 260.0, 330.0, 420.0, 500.0)
T_HOLDOUT = (90.0, 600.0, 700.0)
#: The structure row: a milder state than argon's triple point (faster OZ solves).
T_STRUCT, RHO_STRUCT = 120.0, 0.016
#: Cheap OZ settings, the same for the synthetic data and the fit (consistent by construction).
OPTS = {"closure": "vm", "n": 256, "max_iter": 200}
TAU_S, TAU_T = 0.05, 0.05


def _sw_values(sigma, epsilon, lam):
    import jax.numpy as jnp

    from bayesff.observables.structure import FIRST_PEAK_POSITION
    from bayesff.observables.virial import second_virial
    from bayesff.potentials.pair import SQUARE_WELL

    p = {"epsilon": epsilon * R_KJ, "sigma": sigma, "lam": lam}
    T = np.array(T_TRAIN + T_HOLDOUT)
    b2 = np.asarray(second_virial(SQUARE_WELL, p, T))
    env = {"T_K": jnp.array([T_STRUCT]), "rho_per_A3": jnp.array([RHO_STRUCT])}
    r = float(FIRST_PEAK_POSITION.build(SQUARE_WELL, **OPTS)(p, env)[0])
    return T, b2, r


def _write_synthetic(tmp_path, r_sigma: float):
    """Synthetic B2 from TRUTH and r_peak from a square well with core r_sigma (noise-free)."""
    T, b2, _ = _sw_values(**TRUTH)
    _, _, r_peak = _sw_values(r_sigma, TRUTH["epsilon"], TRUTH["lam"])
    assert math.isfinite(r_peak)
    d = tmp_path / "data"
    d.mkdir()
    u = np.maximum(0.01 * np.abs(b2), 0.5)
    lines = ["T_K,B2_cm3_per_mol,u_B2_cm3_per_mol"]
    lines += [f"{t:g},{b:.6f},{s:.6f}" for t, b, s in zip(T, b2, u, strict=True)]
    (d / "b2.csv").write_text("\n".join(lines) + "\n")
    (d / "rpeak.csv").write_text(
        "T_K,rho_per_A3,r_peak_angstrom,u_r_peak_angstrom\n"
        f"{T_STRUCT:g},{RHO_STRUCT:g},{r_peak:.6f},0.02\n"
    )
    entries = []
    for name, units in (
        ("b2.csv", {"T_K": "K", "B2_cm3_per_mol": "cm^3/mol", "u_B2_cm3_per_mol": "cm^3/mol"}),
        (
            "rpeak.csv",
            {
                "T_K": "K",
                "rho_per_A3": "1/angstrom^3",
                "r_peak_angstrom": "angstrom",
                "u_r_peak_angstrom": "angstrom",
            },
        ),
    ):
        here = "tests/test_square_well_joint.py"
        entries.append(
            manifest_entry(d, name, units, title="SYNTHETIC square well", source=here, script=here)
        )
    (d / "manifest.toml").write_text("\n".join(entries))
    return d


def _problem(data_dir):
    from bayesff.problem import Problem

    doc = tomllib.loads(
        f"""
[problem]
name = "sw_synthetic"
[potential]
kind = "square_well"
[parameters.sigma]
unit = "angstrom"
prior = {{ dist = "Uniform", low = 3.0, high = 4.0 }}
[parameters.epsilon]
unit = "K"
prior = {{ dist = "LogNormal", median = 100.0, scale = 0.5 }}
[parameters.lam]
unit = "1"
prior = {{ dist = "Uniform", low = 1.2, high = 2.0 }}
[[targets]]
name = "B2"
observable = "second_virial"
data = "b2.csv"
train = {{ T_K = [110.0, 500.0] }}
inadequacy = {{ kind = "inferred_scale", form = "relative", prior_scale = 0.05 }}
[[targets]]
name = "r_peak"
observable = "first_peak_position"
data = "rpeak.csv"
options = {{ closure = "{OPTS["closure"]}", n = {OPTS["n"]}, max_iter = {OPTS["max_iter"]} }}
[transferability]
holdout = [ {{ target = "B2", select = {{ T_K = [80.0, 100.0] }} }},
            {{ target = "B2", select = {{ T_K = [550.0, 750.0] }} }} ]
tolerance = {{ B2 = {{ rel = {TAU_T} }}, r_peak = {{ abs = {TAU_S} }} }}
[inference]
chains = 1
warmup = 80
samples = 100
seed = 3
max_tree_depth = 5
prior_draws = 8
"""
    )
    return Problem.from_dict(doc, path=str(data_dir / "sw.toml"), base_dirs=(data_dir,))


def _joint(dt):
    """(joint tolerance probability, P(structure), P(thermo)) from the run's aligned draws.

    The study's own functions (studies.square_well): r_peak's one row, and
    the B2 states in the held-out ranges of _problem (80-100 K and 550-750 K).
    """
    from studies import square_well

    e = square_well.errors(dt, thermo_T_K=((80.0, 100.0), (550.0, 750.0)))
    assert e["B2_T_K"].tolist() == [90.0, 600.0, 700.0]
    p = square_well.probabilities(e, TAU_S, TAU_T)
    return p["p_joint"], p["p_structure"], p["p_thermo"]


@pytest.mark.slow
def test_known_truth_recovered_and_joint_probability_high(tmp_path):
    """Synthetic B2 (7 training states) + r_peak from one square well: recovered.

    Truth inside the central 90 % posterior interval of every parameter (a
    well-specified model on noise-free data: the posterior is centred near the
    truth, so this fails only if the inference is broken), and the joint
    tolerance probability (tau_s = 0.05 angstrom, tau_t = 5 %) high.
    """
    from bayesff.inference import calibrate
    from bayesff.transferability import evaluate

    problem = _problem(_write_synthetic(tmp_path, TRUTH["sigma"]))
    run = calibrate(problem, progress=False, log=None)
    post = run.datatree["posterior"]
    for name, true in TRUTH.items():
        lo, hi = np.quantile(post[name].values.ravel(), [0.05, 0.95])
        assert lo <= true <= hi, (name, lo, true, hi)
    p_joint, p_s, p_t = _joint(run.datatree)
    assert p_joint >= 0.9, (p_joint, p_s, p_t)
    # the library's own joint (held-out B2 only: r_peak has no held-out rows) agrees
    res = evaluate(run.datatree)
    assert res.joint["p_all_within_tolerance"] >= p_joint


@pytest.mark.slow
def test_negative_control_core_mismatch_flagged(tmp_path):
    """r_peak from a core 0.3 angstrom larger than the B2 implies: not jointly transferable.

    The square well's first peak sits at contact, so r_peak fixes sigma; the B2 of
    the truth then cannot be met with that core, and no posterior draw satisfies
    both tolerances: the joint probability is low, and the held-out B2 states are
    flagged (verdict not "transferable").
    """
    from bayesff.inference import calibrate
    from bayesff.transferability import evaluate

    problem = _problem(_write_synthetic(tmp_path, TRUTH["sigma"] + 0.3))
    run = calibrate(problem, progress=False, log=None)
    p_joint, p_s, p_t = _joint(run.datatree)
    assert p_joint <= 0.1, (p_joint, p_s, p_t)
    res = evaluate(run.datatree)
    assert any(g["verdict"] != "transferable" for g in res.groups if g["target"] == "B2")


def test_errors_and_joint_probability_on_handmade_draws():
    """Exact probabilities from four hand-chosen draws (no sampling).

    r_peak (obs 3.70 angstrom, tau_s = 0.05): draws 3.70, 3.71, 3.80 and a failed OZ solve
    (NaN): within for draws 0 and 1. B2 at 90, 600, 700 K (obs -200, 20, 22 cm^3/mol,
    tau_t = 5 %): draw 1 misses at 600 K by 10 %, the others are exact. So P(structure) =
    1/2, P(thermo) = 3/4, P(joint) = 1/4 (only draw 0 passes both), not their product 3/8.
    """
    from handmade_runs import build_run, target

    from bayesff.observables import get_observable
    from studies import square_well

    nan = float("nan")
    r_peak = target(
        "r_peak",
        get_observable("first_peak_position"),
        {"T_K": [85.0], "rho_per_A3": [0.02125]},
        [3.70],
        u=0.02,
    )
    b2 = target(
        "B2",
        get_observable("second_virial"),
        {"T_K": [90.0, 600.0, 700.0]},
        [-200.0, 20.0, 22.0],
        u=1.0,
        train=np.zeros(3, bool),
    )
    r = np.array([[3.70], [3.71], [3.80], [nan]])
    b = np.array([[-200.0, 20.0, 22.0], [-200.0, 22.0, 22.0], [-200.0, 20.0, 22.0]] * 2)[:4]
    dt = build_run(
        [r_peak, b2],
        {
            "r_peak": {"train": {"model": r, "rep": r, "ll": np.zeros((4, 1))}},
            "B2": {"holdout": {"model": b, "rep": b}},
        },
        potential="square_well",
    )
    e = square_well.errors(dt, thermo_T_K=((80.0, 100.0), (550.0, 750.0)))
    np.testing.assert_allclose(e["structure_error"], [0.0, 0.01, 0.10, nan], atol=1e-12)
    np.testing.assert_allclose(e["thermo_error"], [0.0, 0.1, 0.0, 0.0], atol=1e-12)
    p = square_well.probabilities(e, 0.05, 0.05)
    assert (p["p_structure"], p["p_thermo"], p["p_joint"]) == (0.5, 0.75, 0.25)
    assert p["product_of_marginals"] == 0.375 and p["failed_oz_fraction"] == 0.25
    # a range that leaves out 90 K: only the two high-T states count
    assert square_well.errors(dt, thermo_T_K=((500.0, 750.0),))["B2_T_K"].tolist() == [
        600.0,
        700.0,
    ]
