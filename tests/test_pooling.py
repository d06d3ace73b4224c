"""Partial pooling of parameters over groups of targets (``[pooling]``, issue 30 item 3c).

Known truth: second virial coefficients of five Lennard-Jones "molecules" that share
sigma = 3.405 angstrom and differ in epsilon, epsilon_g = 120 K exp(eta_g) with
eta = (-0.10, -0.02, 0.05, 0.12) for the four trained groups and -0.04 for a fifth,
held-out one. B2 at 10 temperatures (150-400 K) per molecule, exact LJ B2 (bayesff's
quadrature, itself checked against the LJ B2 series in tests/observables) plus
Gaussian noise of the stated 0.3 cm3/mol.

* Recovery: each trained molecule's epsilon_g lies in its 90 % interval, and the
  intervals are narrow (each molecule is pinned by its own curve: B2 to 0.3 cm3/mol
  resolves epsilon to well under 1 %).
* Prediction of a new molecule from the population: its epsilon is a new draw
  epsilon exp(omega z), so its interval is wide (omega is the spread of the four
  trained ones, about 0.1) and still holds the truth; the predicted B2 of the new
  molecule is far wider than that of a trained one.
* Negative control: the same data under one shared epsilon (no pooling) do not fit:
  the standardised residuals of the trained rows are far above 1 (the molecules'
  B2 differ by tens of cm3/mol, the noise is 0.3).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bayesff import sites
from bayesff.errors import ProblemError
from bayesff.inference import calibrate
from bayesff.model import structure_of
from bayesff.observables import SECOND_VIRIAL
from bayesff.potentials import get_potential
from bayesff.priors import Pooling
from bayesff.problem import InferenceSettings, load_problem
from bayesff.targets import Target
from bayesff.units import to_internal

from support import lj_problem, pooled_lj_toml

T = np.linspace(150.0, 400.0, 10)
ETA = {"mol_a": -0.10, "mol_b": -0.02, "mol_c": 0.05, "mol_d": 0.12}
ETA_NEW = ("mol_e", -0.04)
EPS0, SIGMA, U = 120.0, 3.405, 0.3
SETTINGS = InferenceSettings(chains=2, warmup=300, samples=300, prior_draws=10, seed=11)


def _b2(eps_k: float) -> np.ndarray:
    params = {"epsilon": to_internal(eps_k, "K", "energy"), "sigma": SIGMA}
    return np.asarray(SECOND_VIRIAL.build(get_potential("lennard_jones"))(params, {"T_K": T}))


def _targets(grouped: bool = True) -> list[Target]:
    rng = np.random.default_rng(5)
    out = []
    for name, eta in [*ETA.items(), ETA_NEW]:
        y = _b2(EPS0 * np.exp(eta)) + rng.normal(0.0, U, T.size)
        trained = name != ETA_NEW[0]
        t = Target.from_arrays(
            f"B2_{name}", SECOND_VIRIAL, {"T_K": T}, y, U, train=np.full(T.size, trained)
        )
        if not trained:
            t = t.replace(holdout={"new molecule": np.ones(T.size, bool)})
        out.append(t.replace(group=name) if grouped else t)
    return out


def _pooled_problem():
    p = lj_problem(_targets(grouped=False), SETTINGS, name="pooled_lj")
    return p.replace(targets=_targets(), pooling=Pooling(("epsilon",), prior_scale=0.2))


@pytest.fixture(scope="module")
def pooled_run():
    return calibrate(_pooled_problem(), progress=False, log=None)


def test_structure_names_trained_and_new_groups():
    s = structure_of(_pooled_problem())
    assert s.groups == tuple(ETA) and s.new_groups == (ETA_NEW[0],)
    assert sites.group_value("epsilon") in s.latent_names
    assert sites.znew("epsilon", sites.POOLED) in s.new_environment_sites()


def test_pooled_groups_recover_their_own_epsilon(pooled_run):
    post = pooled_run.datatree["posterior"]
    own = post[sites.group_value("epsilon")]
    assert list(own[f"group_{sites.POOLED}"].values) == list(ETA)
    assert own.attrs["units"] == "K"
    eps = own.values.reshape(-1, len(ETA))  # (chain x draw, group), K
    truth = EPS0 * np.exp(np.array(list(ETA.values())))
    lo, hi = np.quantile(eps, [0.05, 0.95], axis=0)
    assert np.all((lo <= truth) & (truth <= hi)), (lo, truth, hi)
    assert np.all((hi - lo) / truth < 0.03)  # each molecule pinned by its own curve
    omega = post[sites.omega("epsilon", sites.POOLED)].values
    assert 0.03 < np.median(omega) < 0.4  # the four eta spread with sd 0.095


def test_new_group_is_predicted_from_the_population(pooled_run):
    dt = pooled_run.datatree
    new = dt["predictions"][sites.mean(f"B2_{ETA_NEW[0]}")].values.reshape(-1, T.size)
    old = dt["posterior_predictive"][sites.mean("B2_mol_b")].values.reshape(-1, T.size)
    truth = _b2(EPS0 * np.exp(ETA_NEW[1]))
    lo, hi = np.quantile(new, [0.05, 0.95], axis=0)
    assert np.all((lo <= truth) & (truth <= hi))
    # the population's spread (omega ~ 0.1 in ln epsilon) against one pinned molecule
    assert np.all(np.std(new, axis=0) > 10 * np.std(old, axis=0))
    assert sites.znew("epsilon", sites.POOLED) not in dt["posterior"]


def test_one_shared_epsilon_does_not_fit_the_same_data():
    targets = [t for t in _targets(grouped=False) if t.train.any()]
    run = calibrate(lj_problem(targets, SETTINGS, name="shared_lj"), progress=False, log=None)
    z = []
    for t in targets:
        mean = run.datatree["posterior_predictive"][sites.mean(t.name)].values
        z.append((t.values - mean.reshape(-1, T.size).mean(axis=0)) / U)
    assert np.sqrt(np.mean(np.square(z))) > 10.0


def test_pooling_round_trips_through_the_problem_file(tmp_path):
    p = _pooled_problem()
    doc = p.document()
    assert doc["pooling"] == {
        "parameters": ["epsilon"],
        "prior_scale": 0.2,
        "new_group_inadequacy": "borrowed",
    }
    assert [t.get("group") for t in doc["targets"]] == [*ETA, ETA_NEW[0]]
    assert "pooling   epsilon per group" in p.describe()


def test_check_lists_the_groups_and_notes_names_that_differ_only_in_case():
    """Audit F11: a typo in a target's group ("mol_bb" for "mol_b") made a group of its own
    without a word. `bayesff check` (Problem.describe) now lists every group with its
    number of targets, and notes two groups whose names differ only in case or separators
    ("Mol-B" and "mol_b"). Names that differ otherwise (mol_a, mol_b) are legitimate groups."""
    p = _pooled_problem()
    assert "groups: mol_a (1), mol_b (1), mol_c (1), mol_d (1), mol_e (1)" in p.describe()
    assert "NOTE" not in p.describe()
    extra = [t.replace(name=t.name + "_again").with_train(False, "t") for t in p.targets[:2]]
    q = p.replace(targets=[*p.targets, extra[0], extra[1].replace(group="mol_bb")])
    text = q.describe()
    assert "mol_a (2), mol_b (1)" in text and "mol_bb (1)" in text
    assert "NOTE" not in text
    q = p.replace(targets=[*p.targets, extra[1].replace(group="Mol-B")])
    assert "NOTE: groups 'mol_b' and 'Mol-B' differ only in case or separators" in q.describe()


def _toml(tmp_path, pooling: str, group: str = 'group = "a"', name: str = "B2") -> str:
    target = f'[[targets]]\nname = "{name}"\nobservable = "second_virial"\ndata = "{{csv}}"\n'
    return pooled_lj_toml(tmp_path, pooling, target + group + "\n")


@pytest.mark.parametrize(
    "pooling, group, name, field, words",
    [
        ("", 'group = "a"', "B2", "B2'.group", "no [pooling] section"),
        (
            '[pooling]\nparameters = ["sigma"]',
            'group = "a"',
            "B2",
            "[pooling].parameters",
            "distinct sampled parameters",
        ),
        (
            '[pooling]\nparameters = ["epsilon"]\nprior_scale = -1',
            'group = "a"',
            "B2",
            "[pooling].prior_scale",
            "got -1",
        ),
        (
            '[pooling]\nparameters = ["epsilon"]',
            "",
            "B2",
            "[[targets]].group",
            "no target with a group",
        ),
        (
            '[pooling]\nparameters = ["epsilon"]',
            'group = "a"',
            "pooled",
            "target 'pooled'",
            "may not be named",
        ),
    ],
)
def test_bad_pooling_is_refused_with_the_field(tmp_path, pooling, group, name, field, words):
    with pytest.raises(ProblemError) as e:
        load_problem(_toml(tmp_path, pooling, group, name))
    assert field in str(e.value) and words in str(e.value)
    assert "p.toml" in str(e.value)


def test_a_pooled_problem_file_loads(tmp_path):
    p = load_problem(_toml(tmp_path, '[pooling]\nparameters = ["epsilon"]\nprior_scale = 0.1'))
    assert p.pooling == Pooling(("epsilon",), 0.1)
    assert p.targets[0].group == "a"
    assert p.pooling_groups() == (("a",), ())


def test_a_signed_parameter_cannot_be_pooled(tmp_path):
    """A pooled value varies by a factor, theta exp(eta): a charge (support: any real
    number) would keep its sign in every group, so pooling it is refused by name."""
    text = Path(_toml(tmp_path, '[pooling]\nparameters = ["q_i"]')).read_text()
    text = text.replace('kind = "lennard_jones"', 'kind = "lj_coulomb"').replace(
        "[parameters.sigma]",
        '[parameters.q_i]\nunit = "e"\nprior = { dist = "Normal", loc = 0.5, scale = 0.2 }\n'
        '[parameters.q_j]\nunit = "e"\nvalue = -0.5\n[parameters.sigma]',
    )
    f = tmp_path / "signed.toml"
    f.write_text(text)
    with pytest.raises(ProblemError) as e:
        load_problem(str(f))
    msg = str(e.value)
    assert "[pooling].parameters" in msg and "must be positive" in msg and "q_i" in msg, msg


def test_one_group_with_two_fixed_values_is_refused(tmp_path):
    """A group is one molecule: its targets must share their fixed values (a chain's
    segment count). Two targets of group 'a', one at the problem's sigma (3.4 angstrom)
    and one fixing 3.5, were accepted (input audit, 2026-11-28); two groups may differ."""
    targets = "".join(
        f'[[targets]]\nname = "B2_{n}"\nobservable = "second_virial"\ndata = "{{{csv}}}"\n'
        f'group = "{g}"\n{extra}'
        for n, csv, g, extra in (
            ("x", "csv", "a", ""),
            ("y", "csv2", "a", "fixed = {{ sigma = 3.5 }}\n"),
        )
    )
    pooling = '[pooling]\nparameters = ["epsilon"]\n'
    with pytest.raises(ProblemError, match=r"target 'B2_y'.fixed.sigma: group 'a' is one mol"):
        load_problem(pooled_lj_toml(tmp_path, pooling, targets))
    other = pooled_lj_toml(
        tmp_path, pooling, targets.replace('group = "a"\nfixed', 'group = "b"\nfixed')
    )
    assert {t.group for t in load_problem(other).targets} == {"a", "b"}
