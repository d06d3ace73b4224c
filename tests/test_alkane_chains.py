"""Mie chains for the n-alkanes (issue 30): per-target fixed parameters, the problem files
of models/alkane_chains/, and recovery of known segment parameters.

References and tolerances are stated per test. The forward models are the package's own
(bayesff.observables), verified elsewhere against teqp and closed forms
(tests/observables/); here they are the truth that synthetic data come from.
"""

from __future__ import annotations

import copy
import importlib.util
import tomllib

import jax
import numpy as np
import pytest
from numpyro.handlers import substitute, trace

import bayesff
from bayesff import sites
from bayesff.errors import ProblemError
from bayesff.inference.assemble import forward_at
from bayesff.model import arrays, model_of, structure_of
from bayesff.problem import Problem
from bayesff.targets import Target

from support import ARGON_B2, ROOT

MODELS = ROOT / "models" / "alkane_chains"


def _mie_b2_doc(fixed_a=None, fixed_b=None) -> dict:
    """Two B2 targets of a Mie n-6 fluid on argon's B2 file, n fixed at 13 for the problem."""
    targets = []
    for name, fixed in (("B2a", fixed_a), ("B2b", fixed_b)):
        t = {"name": name, "observable": "second_virial", "data": str(ARGON_B2)}
        if fixed is not None:
            t["fixed"] = fixed
        targets.append(t)
    return {
        "problem": {"name": "fixed_per_target"},
        "potential": {"kind": "mie"},
        "parameters": {
            "epsilon": {
                "unit": "K",
                "prior": {"dist": "LogNormal", "median": 120.0, "scale": 0.3},
            },
            "sigma": {"unit": "angstrom", "prior": {"dist": "Uniform", "low": 3.0, "high": 4.0}},
            "n": {"unit": "1", "value": 13.0},
            "m": {"unit": "1", "value": 6.0},
        },
        "targets": targets,
    }


def _make_models():
    """models/alkane_chains/make_models.py as a module (it is not a package)."""
    spec = importlib.util.spec_from_file_location("make_models", MODELS / "make_models.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _means(problem, latent: dict) -> dict:
    """Model means of every target at the given latent values (one trace of the model)."""
    model = model_of(structure_of(problem))
    tr = trace(substitute(model, data=latent)).get_trace(arrays(problem))
    return {t.name: np.asarray(tr[sites.mean(t.name)]["value"]) for t in problem.targets}


# ------------------------------------------------------------------ per-target fixed values


def test_fixed_per_target_reaches_the_forward_model():
    """A target's ``fixed = { n = ... }`` replaces the problem's fixed n for that target only.

    Reference: the bare B2 forward model (bayesff.get_observable("second_virial")) at the
    same (epsilon, sigma) and n = 12, 13, 14; the model's means must equal it to 1e-12
    relative (the same arithmetic, so only rounding may differ). The two targets with a
    fixed n share one vmapped call (model._stacked_means); the target without keeps the
    problem's n = 13."""
    doc = _mie_b2_doc({"n": 12.0}, {"n": 14.0})
    doc["targets"].append({"name": "B2c", "observable": "second_virial", "data": str(ARGON_B2)})
    p = Problem.from_dict(doc, path="fixed.toml")
    assert p.targets[0].fixed == {"n": 12.0} and p.targets[2].fixed == {}
    s = structure_of(p)
    assert [t.fixed for t in s.targets] == [("n",), ("n",), ()]
    assert float(arrays(p).targets["B2b"].fixed["n"]) == 14.0
    eps_K, sigma = 125.0, 3.45
    means = _means(p, {"epsilon": eps_K, "sigma": sigma})
    predict = bayesff.get_observable("second_virial").build(p.potential)
    env = {"T_K": np.asarray(p.targets[0].env["T_K"])}
    eps = p.to_internal("epsilon", eps_K)
    for name, n in (("B2a", 12.0), ("B2b", 14.0), ("B2c", 13.0)):
        want = np.asarray(predict({"epsilon": eps, "sigma": sigma, "n": n, "m": 6.0}, env))
        np.testing.assert_allclose(means[name], want, rtol=1e-12)
    assert not np.allclose(means["B2a"], means["B2b"], rtol=1e-3)
    # the bare forward model at named parameters (candidates, the start-error check) too
    for t, n in zip(p.targets, (12.0, 14.0, 13.0), strict=True):
        want = np.asarray(predict({"epsilon": eps, "sigma": sigma, "n": n, "m": 6.0}, env))
        got = forward_at(p, t, {"epsilon": eps_K, "sigma": sigma, "n": 13.0, "m": 6.0})
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_fixed_per_target_is_written_and_described():
    """A problem built in Python writes its per-target values into its document and
    ``bayesff check``'s account (the run file records the document)."""
    p = Problem.from_dict(_mie_b2_doc({"n": 12.0}), path="fixed.toml")
    built = p.replace(source_text="")
    assert built.document()["targets"][0]["fixed"] == {"n": 12.0}
    assert "parameter n fixed at 12 for this target" in p.describe()


@pytest.mark.parametrize(
    ("fixed", "message"),
    [
        ({"lambda": 12.0}, "mie has no parameter 'lambda'; its parameters are epsilon"),
        ({"epsilon": 120.0}, "epsilon is sampled (it has a prior in [parameters.epsilon])"),
        ({"m": 7.5}, "value 7.5 1 is outside the support"),
        ({"n": float("nan")}, "expected a finite number (1), got nan"),
    ],
)
def test_fixed_per_target_bad_input_names_file_and_field(fixed, message):
    """Bad per-target values: a ProblemError naming the file, the target and the field
    ``fixed.<parameter>``, with what was expected (mie's ParamSpec table: m in [4, 6])."""
    with pytest.raises(ProblemError) as e:
        Problem.from_dict(_mie_b2_doc(fixed), path="models/bad.toml")
    text = str(e.value)
    assert message in text
    assert "models/bad.toml: target 'B2a'.fixed." in text


def test_fixed_per_target_must_be_numbers():
    """The schema refuses a value that is not a number and names the field."""
    with pytest.raises(ProblemError, match=r"targets.*0.*fixed.*n"):
        Problem.from_dict(_mie_b2_doc({"n": "twelve"}), path="models/bad.toml")


# ------------------------------------------------------------------ the shipped problem files


def test_transferable_model_file_has_the_segment_rule_and_the_split():
    """models/alkane_chains/transferable.toml: segments m_s = 1 + (C - 1)/3 per molecule
    (the rule docs/chains.md cites), rho_l and p_sat of C1-C8 trained (0.5-0.9 Tc), every
    target of C10 and C12 predicted only. The file is the one make_models.py writes."""
    text = (MODELS / "transferable.toml").read_text()
    doc = tomllib.loads(text)
    for t in doc["targets"]:
        carbon = int(t["name"].rpartition("_c")[2])
        assert t["fixed"]["segments"] == pytest.approx(1 + (carbon - 1) / 3, rel=1e-15)
        trained = t.get("train") is not False
        assert trained == (carbon <= 8 and t["name"].split("_c")[0] in ("rho_l", "p_sat"))
    names = {t["name"] for t in doc["targets"]}
    assert {"rho_l_c10", "p_sat_c10", "dH_vap_c10", "rho_comp_c10", "rho_comp_c12"} <= names
    # one inadequacy scale per property shared by the molecules, held-out ones included
    shared = {t["name"]: t.get("inadequacy", {}).get("shared") for t in doc["targets"]}
    assert {shared[f"rho_l_c{c}"] for c in (1, 2, 3, 4, 5, 6, 7, 8, 10, 12)} == {"rho_l"}
    assert {shared[f"p_sat_c{c}"] for c in (1, 2, 3, 4, 5, 6, 7, 8, 10, 12)} == {"p_sat"}
    latent = structure_of(bayesff.load_problem(MODELS / "transferable.toml", prepared=False))
    assert [n for n in latent.latent_names if n.startswith("tau")] == ["tau_rho_l", "tau_p_sat"]
    # the generator writes the same file again (no hand edits)
    make = _make_models()
    assert (
        make.transferable(
            "alkane_transferable",
            doc["problem"]["description"],
            make.HEADER_B,
            inference=make._inference(laplace=True),
            kind="mie_chain_vdw",
        )
        == text
    )
    # (b) samples the van der Waals energy: its prior centre is epsilon/k_B = 295 K at the
    # centre of n's prior (n = 16), as (b12)'s epsilon prior at n = 12 is
    assert doc["potential"]["kind"] == "mie_chain_vdw"
    centre = doc["parameters"]["epsilon_vdw"]["prior"]["median"]
    n_mid = 0.5 * (
        doc["parameters"]["n"]["prior"]["low"] + doc["parameters"]["n"]["prior"]["high"]
    )
    assert centre / bayesff.potentials.vdw_alpha(n_mid, 6.0) == pytest.approx(295.0, rel=1e-3)


def test_pooled_model_file_groups_each_molecule_and_predicts_c10_c12_from_the_population():
    """models/alkane_chains/pooled.toml (model c): every target names its molecule's
    group, epsilon and sigma are pooled, C1-C8 are the trained groups and n-decane and
    n-dodecane the groups predicted from the population; the p_sat targets of (b) carry
    the multiplicative error; the generator writes the same files again."""
    problem = bayesff.load_problem(MODELS / "pooled.toml", prepared=False)
    assert problem.pooling.parameters == ("epsilon", "sigma")
    trained, new = problem.pooling_groups()
    assert trained == tuple(f"c{c}" for c in range(1, 9)) and new == ("c10", "c12")
    assert all(t.group == "c" + t.name.rpartition("_c")[2] for t in problem.targets)
    assert problem.inference.adapt_mass is False and problem.inference.init == "laplace"
    make = _make_models()
    assert _written_again("pooled.toml", make.HEADER_C, make.POOLING)
    b = tomllib.loads((MODELS / "transferable.toml").read_text())
    forms = {t["name"]: t.get("inadequacy", {}).get("form") for t in b["targets"]}
    assert forms["p_sat_c4"] == "log" and forms["rho_l_c4"] == "relative"


def test_trend_model_file_puts_epsilon_on_1_over_c_and_sigma_on_1_over_segments():
    """models/alkane_chains/trend.toml (model d): epsilon's covariate is 1/C and sigma's
    1/m_s, m_s = 1 + (C - 1)/3, for every molecule (C1-C8, C10, C12), no spread about the
    trends; C1-C8 trained, n-decane and n-dodecane predicted along the trends; the
    generator writes the same file again."""
    problem = bayesff.load_problem(MODELS / "trend.toml", prepared=False)
    pool = problem.pooling
    assert pool.parameters == ("epsilon", "sigma") and pool.prior_scale == 0.0
    carbon = {f"c{c}": c for c in (1, 2, 3, 4, 5, 6, 7, 8, 10, 12)}
    assert pool.covariate["epsilon"] == pytest.approx({g: 1 / c for g, c in carbon.items()})
    assert pool.covariate["sigma"] == pytest.approx(
        {g: 1 / (1 + (c - 1) / 3) for g, c in carbon.items()}
    )
    assert problem.pooling_groups() == (tuple(f"c{c}" for c in range(1, 9)), ("c10", "c12"))
    assert "predicted along the trends: c10, c12" in problem.describe()
    make = _make_models()
    assert _written_again("trend.toml", make.HEADER_D, make.pooling_with_trend())


def _written_again(file: str, header: str, pooling: str) -> bool:
    """Whether make_models.py's transferable() writes a pooled model file unchanged."""
    text = (MODELS / file).read_text()
    doc = tomllib.loads(text)["problem"]
    again = _make_models().transferable(
        doc["name"],
        doc["description"],
        header,
        inadequacy='{ kind = "inferred_scale", form = "relative", prior_scale = 0.05 }',
        pooling=pooling,
    )
    return again == text


# ------------------------------------------------------------------ recovery, end to end

#: Known segment parameters of the synthetic chains (epsilon/k_B in K, sigma in angstrom);
#: near what SAFT-VR Mie chains of alkane-like segments look like, not a published set.
TRUE = {"epsilon": 280.0, "sigma": 4.0}
CHAINS = (5, 8, 11)  # carbon numbers -> segments 1 + (C - 1)/3 = 2.33, 3.33, 4.33
HELD_OUT = 14


@pytest.mark.slow
def test_recovers_segment_parameters_from_three_chain_lengths(tmp_path):
    """Synthetic saturated liquid densities and vapour pressures of three chain lengths
    from the package's own SAFT-VR Mie forward model at known (epsilon, sigma) (n = 14,
    m = 6 fixed), with Gaussian noise of 0.5 % (density) and 2 % (pressure), are fitted
    by one transferable model (per-target segment counts, stacked forward calls): the 90 %
    central intervals must cover the true values, and the held-out fourth chain length
    must be judged (evaluate) with its states inside the 90 % predictive interval at the
    rate the noise allows (>= 60 % of 8 states; a fixed seed).

    Slow (compilation of the SAFT-VR Mie coexistence with its gradient into the sampler
    and the post-processing: 218 s for the whole test on an idle 2-core CPU from an empty
    compilation cache, of which about 130 s XLA compilation and 60 s tracing, docs/chains.md;
    54 s with the programs in the cache, 2026-11-28). It is the end-to-end run of a small
    transferable model in CI (issue 30, item 7): calibrate, held-out predictions, evaluate."""
    bayesff.configure()
    pot = bayesff.get_potential("mie_chain")
    eps = TRUE["epsilon"] * 8.314462618e-3
    rng = np.random.default_rng(0)
    targets = []
    # one compiled forward model per property, called for every chain length
    predictors = {
        name: jax.jit(bayesff.get_observable(name).build(pot))
        for name in ("saturated_liquid_density", "vapour_pressure")
    }
    for carbon in (*CHAINS, HELD_OUT):
        seg = 1 + (carbon - 1) / 3
        # 0.55-0.85 of an estimate of the chain's T_c (T*_c ~ 1.2 + 0.13 segments here)
        tc = (1.2 + 0.13 * seg) * TRUE["epsilon"]
        T = np.linspace(0.55, 0.85, 8) * tc
        for obs_name, rel in (("saturated_liquid_density", 0.005), ("vapour_pressure", 0.02)):
            predict = predictors[obs_name]
            params = {"epsilon": eps, "sigma": TRUE["sigma"], "n": 14.0, "m": 6.0, "segments": seg}
            y0 = np.asarray(predict(params, {"T_K": T}))
            assert np.all(np.isfinite(y0)), (obs_name, carbon, y0)
            y = y0 * (1 + rel * rng.standard_normal(y0.shape))
            prefix = "rho_l" if obs_name.startswith("sat") else "p_sat"
            t = Target.from_arrays(
                f"{prefix}_c{carbon}",
                obs_name,
                {"T_K": T},
                y,
                rel * np.abs(y0),
                train=np.full(T.size, carbon != HELD_OUT),
            )
            targets.append(t.replace(fixed={"segments": seg}))
    problem = Problem(
        name="chain_recovery",
        potential=pot,
        parameters={
            "epsilon": bayesff.Parameter(
                "epsilon", "K", bayesff.PriorSpec("LogNormal", {"median": 290.0, "scale": 0.1})
            ),
            "sigma": bayesff.Parameter(
                "sigma", "angstrom", bayesff.PriorSpec("LogNormal", {"median": 4.0, "scale": 0.1})
            ),
            "n": bayesff.Parameter("n", "1", None, 14.0),
            "m": bayesff.Parameter("m", "1", None, 6.0),
            "segments": bayesff.Parameter("segments", "1", None, 1.0),
        },
        targets=targets,
        tolerance={f"{p}_c{HELD_OUT}": {"rel": 0.05} for p in ("rho_l", "p_sat")},
        inference=bayesff.InferenceSettings(chains=2, warmup=150, samples=150, seed=1),
    )
    run = bayesff.calibrate(problem, out=tmp_path / "posterior.nc", progress=False)
    post = run.datatree["posterior"]
    for name, truth in TRUE.items():
        x = np.asarray(post[name]).reshape(-1)
        lo, hi = np.quantile(x, [0.05, 0.95])
        assert lo <= truth <= hi, (name, lo, truth, hi)
    res = bayesff.evaluate(run.datatree)
    held = [s for s in res.states if s["target"].endswith(f"_c{HELD_OUT}")]
    assert len(held) == 16
    for prefix in ("rho_l", "p_sat"):
        inside = [s["inside90"] for s in held if s["target"].startswith(prefix)]
        assert np.mean(inside) >= 0.6, (prefix, inside)


def test_per_molecule_sweep_gives_each_molecule_its_data_and_segments():
    """models/alkane_chains/per_molecule_sweep.toml (model a; studies/alkane_chains.py
    builds its problems from the same sets): each molecule's own data files, which exist,
    and its segment count 1 + (C - 1)/3. That every task is a valid problem is checked by
    tests/test_models.py (shipped sweeps), not again here (ten EOS problems to build)."""
    sweep = tomllib.loads((MODELS / "per_molecule_sweep.toml").read_text())
    values = {v["label"]: copy.deepcopy(v["set"]) for v in sweep["axes"][0]["values"]}
    assert list(values) == ["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c10", "c12"]
    molecule = {f"c{c}": m for m, c in _make_models().MOLECULES}
    for label, s in values.items():
        carbon = int(label[1:])
        assert s["parameters"]["segments"]["value"] == pytest.approx(1 + (carbon - 1) / 3)
        for t in s["targets"].values():
            assert t["data"].endswith(f"_{molecule[label]}.csv")
            assert (ROOT / t["data"]).is_file()


def test_study_counts_states_a_model_cannot_predict():
    """A held-out state without a finite prediction (model c's drawn molecule above its
    critical temperature) has no error: the study counts it instead of failing (it crashed
    on such a state, 2026-11-26), and the errors of the others are summarised."""
    from types import SimpleNamespace

    from studies import alkane_chains as study

    states = [
        {"target": "rho_l_c10", "rel_error": 0.1},
        {"target": "rho_l_c10", "rel_error": None},
        {"target": "rho_l_c10", "rel_error": -0.3},
        {"target": "p_sat_c10", "rel_error": None},
    ]
    res = SimpleNamespace(states=states)
    got = study._abs_rel(res, "rho_l_c10")
    assert got == {"median": pytest.approx(0.2), "max": pytest.approx(0.3), "unpredicted": 1}
    assert study._abs_rel(res, "p_sat_c10") == {"unpredicted": 1}
    assert study._abs_rel(res, "dH_vap_c10") == {}
    assert ("dH_vap", 3) not in study._common_heldout()
    assert ("rho_comp", 1) in study._common_heldout()


def test_study_carries_the_models_it_did_not_compute_and_marks_them():
    """--carry: a model neither calibrated nor read from a run file this time (model a's
    ten molecules and its elpd sum, c) keeps its rows from the previous report, marked with
    that report's command; the models computed now (b) replace theirs, never doubled."""
    from studies import alkane_chains as study

    old = {
        "command": "python -m studies.alkane_chains",
        "models": {"a_c1": {"posterior": {}}, "b": {"posterior": {"n": 1}}, "c": {}},
        "groups": [{"model": "a_c1"}, {"model": "b"}, {"model": "c"}],
        "heldout_errors": [{"model": "b"}, {"model": "c"}],
        "elpd": [{"model": "a (sum over C1-C8)"}, {"model": "b"}],
    }
    old_states = [{"model": "a_c10"}, {"model": "b"}, {"model": "c"}]
    new = {
        "models": {"b": {"posterior": {"n": 2}}},
        "groups": [{"model": "b"}],
        "heldout_errors": [{"model": "b"}],
        "elpd": [{"model": "b", "x": 1}],
    }
    states = [{"model": "b", "new": True}]
    study._carry((old, old_states), new, states)
    assert set(new["models"]) == {"a_c1", "b", "c"}
    assert new["models"]["b"] == {"posterior": {"n": 2}}
    assert new["models"]["c"]["carried"].endswith("(python -m studies.alkane_chains)")
    assert [r["model"] for r in new["groups"]] == ["b", "a_c1", "c"]
    assert [r["model"] for r in new["elpd"]] == ["b", "a (sum over C1-C8)"]
    assert states == [{"model": "b", "new": True}, {"model": "a_c10"}, {"model": "c"}]
    assert new["carried"] == ["a", "c"]


def test_study_reads_model_b_epsilon_from_its_van_der_waals_energy():
    """Model (b)'s posterior table gives epsilon/k_B = epsilon_vdw / alpha(n, m) draw by draw
    (alpha written out in handmade_runs; m fixed at 5.5 in the run's problem), next to
    epsilon_vdw itself."""
    from handmade_runs import vdw_alpha_closed_form, vdw_run

    from studies import alkane_chains as study

    dt, draws = vdw_run("mie_chain_vdw")
    got = study._posterior(dt, ["epsilon", "sigma", "n"])
    eps = np.array(draws["epsilon_vdw"]) / vdw_alpha_closed_form(np.array(draws["n"]), 5.5)
    assert got["epsilon"]["mean"] == pytest.approx(eps.mean(), rel=1e-12)
    assert got["epsilon"]["q05"] == pytest.approx(np.quantile(eps, 0.05), rel=1e-12)
    assert got["epsilon_vdw"]["mean"] == pytest.approx(110.0, rel=1e-12)
    assert list(got) == ["epsilon", "sigma", "n", "epsilon_vdw"]
