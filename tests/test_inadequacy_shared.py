"""One inferred inadequacy scale shared by several targets (``inadequacy.shared``).

A transferable force field (model (b) of docs/chains.md: one Mie segment type for every
n-alkane) misses each molecule's vapour pressure by its own amount. With a scale per
target the posterior can fit one molecule almost exactly (its tau near zero, the
parameters pinned to it) or not, two regimes between which the chains of (b12) did not
mix. A scale shared by the property's targets asks the question of a transferable model
instead ("how far does it miss this property along the series?"), and a molecule held
out of the series predicts with that scale.

Known truth: B2 (120-280 K) of one Lennard-Jones fluid (epsilon/k 120 K, sigma 3.405
angstrom) read as five "molecules", each with the same relative model misfit, y = B2 (1 +
tau e), e ~ N(0, 1), tau = 5 %; four trained, and two copies of a held-out fifth, one
sharing the scale and one not (a stated uncertainty of 0.05 cm3/mol, far below the
misfit).

* Recovery: the 90 % interval of the shared tau holds 0.05, and the held-out target that
  shares the scale holds at least 21 of its 30 observations in their 90 % predictive
  interval (a binomial(30, 0.9) count falls below 21 with probability about 0.001).
* Negative control: its copy that does not share (same observations, no scale of its
  own: nothing trains one) holds at most half of them.
"""

from __future__ import annotations

import numpy as np
import pytest

from bayesff import runfile, sites
from bayesff.errors import ProblemError
from bayesff.inference import calibrate
from bayesff.model import structure_of
from bayesff.observables import SECOND_VIRIAL, get_observable
from bayesff.potentials import get_potential
from bayesff.problem import InferenceSettings, load_problem
from bayesff.report.summary import build_summary, validate_summary
from bayesff.targets import Inadequacy, Target
from bayesff.units import to_internal

from support import lj_problem, pooled_lj_toml

T_TRAIN = np.linspace(120.0, 280.0, 20)
T_NEW = np.linspace(120.0, 280.0, 30)
TAU = 0.05
U = 0.05  # cm3/mol
SETTINGS = InferenceSettings(chains=2, warmup=400, samples=400, prior_draws=10, seed=3)
SHARED = Inadequacy("inferred_scale", form="relative", prior_scale=0.1, shared="B2_misfit")


def _b2(T: np.ndarray) -> np.ndarray:
    params = {"epsilon": to_internal(120.0, "K", "energy"), "sigma": 3.405}
    return np.asarray(SECOND_VIRIAL.build(get_potential("lennard_jones"))(params, {"T_K": T}))


def _problem():
    rng = np.random.default_rng(7)
    targets = []
    for g in ("m0", "m1", "m2", "m3"):
        y = _b2(T_TRAIN) * (1.0 + TAU * rng.normal(size=T_TRAIN.size))
        y = y + rng.normal(0.0, U, T_TRAIN.size)
        targets.append(
            Target.from_arrays(f"B2_{g}", SECOND_VIRIAL, {"T_K": T_TRAIN}, y, U)
            .replace(inadequacy=SHARED)
        )  # fmt: skip
    y = _b2(T_NEW) * (1.0 + TAU * rng.normal(size=T_NEW.size)) + rng.normal(0.0, U, T_NEW.size)
    off = np.zeros(T_NEW.size, bool)
    held = {"longer molecule": np.ones(T_NEW.size, bool)}
    for name, inad in (("B2_new", SHARED), ("B2_new_alone", Inadequacy())):
        t = Target.from_arrays(name, SECOND_VIRIAL, {"T_K": T_NEW}, y, U, train=off)
        targets.append(t.replace(holdout=held, inadequacy=inad))
    return lj_problem(targets, SETTINGS, name="shared_scale_lj")


@pytest.fixture(scope="module")
def run():
    return calibrate(_problem(), progress=False, log=None)


def _inside_90(run, target: str) -> int:
    r = runfile.rows(run.datatree, target, "heldout")
    pred, y = r.replicated.reshape(-1, T_NEW.size), r.observed
    lo, hi = np.quantile(pred, [0.05, 0.95], axis=0)
    return int(np.sum((lo <= y) & (y <= hi)))


def test_the_shared_scale_is_one_site():
    s = structure_of(_problem())
    taus = [n for n in s.latent_names if n.startswith("tau_")]
    assert taus == [sites.tau("B2_misfit")]
    assert s.folded_names == (sites.tau("B2_misfit"),)
    new = next(t for t in s.targets if t.name == "B2_new")
    assert new.inadequacy == "inferred_scale" and new.n_rows == 0 and new.shared == "B2_misfit"
    alone = next(t for t in s.targets if t.name == "B2_new_alone")
    assert alone.inadequacy == "none"
    assert "shared as tau_B2_misfit" in _problem().describe()


def test_the_shared_scale_is_recovered_and_predicts_the_held_out_target(run):
    tau = run.datatree["posterior"][sites.tau("B2_misfit")].values.ravel()
    lo, hi = np.quantile(tau, [0.05, 0.95])
    assert lo <= TAU <= hi, (lo, hi)
    assert _inside_90(run, "B2_new") >= 21
    assert _inside_90(run, "B2_new_alone") <= 15  # negative control
    info = {t.name: t for t in runfile.targets(run.datatree)}
    assert str(info["B2_new"].attrs["inadequacy_shared"]) == "B2_misfit"
    assert str(info["B2_m0"].attrs["inadequacy_shared"]) == "B2_misfit"
    assert str(info["B2_new_alone"].attrs["inadequacy_shared"]) == ""
    # the report says so: one scale, not one per target
    summary = build_summary(run.datatree, None)
    validate_summary(summary)
    assert summary["targets"]["B2_m0"]["inadequacy"]["shared"] == "B2_misfit"
    assert summary["targets"]["B2_new_alone"]["inadequacy"]["shared"] is None


def _toml(tmp_path, a: str, b: str, train_b: str = "") -> str:
    def esc(text):  # pooled_lj_toml formats the text
        return text.replace("{", "{{").replace("}", "}}")

    a, b, train_b = esc(a), esc(b), esc(train_b)
    targets = "".join(
        f'[[targets]]\nname = "{n}"\nobservable = "second_virial"\ndata = "{{{csv}}}"\n'
        f"inadequacy = {inad}\n{extra}"
        for n, csv, inad, extra in (("B2_a", "csv", a, ""), ("B2_b", "csv2", b, train_b))
    )
    return pooled_lj_toml(tmp_path, "", targets, name="shared_check")


def test_a_problem_file_shares_a_scale_and_round_trips(tmp_path):
    inad = '{ kind = "inferred_scale", prior_scale = 0.2, shared = "misfit" }'
    p = load_problem(_toml(tmp_path, inad, inad))
    assert [t.inadequacy.shared for t in p.targets] == ["misfit", "misfit"]
    # a problem built in Python writes the field into its document (the run file's text)
    doc = _problem().document()
    shared = {t["name"]: t["inadequacy"] for t in doc["targets"]}
    assert shared["B2_m0"]["shared"] == shared["B2_new"]["shared"] == "B2_misfit"
    assert shared["B2_new_alone"] == "none"


@pytest.mark.parametrize(
    ("a", "b", "train_b", "field", "words"),
    [
        (
            '{ kind = "inferred_scale", shared = "m" }',
            '{ kind = "inferred_scale", form = "absolute", shared = "m" }',
            "",
            "target 'B2_b'.inadequacy.form",
            "needs one form",
        ),
        (
            '{ kind = "inferred_scale", prior_scale = 0.1, shared = "m" }',
            '{ kind = "inferred_scale", prior_scale = 0.3, shared = "m" }',
            "",
            "target 'B2_b'.inadequacy.prior_scale",
            "needs one prior_scale",
        ),
        (
            '{ kind = "inferred_scale", shared = "B2_b" }',
            '"none"',
            "",
            "target 'B2_a'.inadequacy.shared",
            "its variable tau_B2_b is already the name of a target, a target's scale",
        ),
        (
            '"none"',
            '{ kind = "inferred_scale", shared = "m" }',
            "train = false\n[transferability]\n"
            'holdout = [ { target = "B2_b", select = { T_K = [0.0, 1000.0] } } ]\n',
            "target 'B2_b'.inadequacy.shared",
            "no target sharing scale 'm' has training rows",
        ),
        (
            '{ kind = "gp", shared = "m" }',
            '"none"',
            "",
            "targets[0] (B2_a).inadequacy.shared",
            "a gp inadequacy has none",
        ),
        (
            '{ kind = "inferred_scale", shared = "two words" }',
            '"none"',
            "",
            "targets[0] (B2_a).inadequacy.shared",
            "inadequacy shared 'two words' is not allowed",
        ),
    ],
)
def test_bad_shared_scales_are_refused_with_the_field(tmp_path, a, b, train_b, field, words):
    with pytest.raises(ProblemError) as e:
        load_problem(_toml(tmp_path, a, b, train_b))
    assert words in str(e.value), e.value
    assert field in str(e.value), e.value
    assert "p.toml" in str(e.value), e.value


def test_a_shared_name_that_would_clash_with_a_target_is_refused(tmp_path):
    """tau_<shared> must not be a target's name (a target called tau_m, shared = "m"):
    otherwise the model has two sites of one name and fails when traced, naming nothing."""
    inad = '{{ kind = "inferred_scale", shared = "m" }}'  # pooled_lj_toml formats the text
    targets = "".join(
        f'[[targets]]\nname = "{n}"\nobservable = "second_virial"\ndata = "{{csv}}"\n'
        f"inadequacy = {inad}\n"
        for n in ("tau_m", "B2_b")
    )
    with pytest.raises(ProblemError, match="its variable tau_m is already the name") as e:
        load_problem(pooled_lj_toml(tmp_path, "", targets, name="shared_clash"))
    assert "target 'tau_m'.inadequacy.shared" in str(e.value)


def test_an_absolute_scale_shared_across_units_is_refused():
    """An absolute scale is in its observable's unit: B2 (cm3/mol) and a liquid density
    (mol/L) cannot share one; relative scales can."""
    rho = get_observable("saturated_liquid_density")
    T = np.linspace(90.0, 130.0, 5)
    absolute = Inadequacy("inferred_scale", form="absolute", prior_scale=0.1, shared="s")
    b2 = Target.from_arrays("B2", SECOND_VIRIAL, {"T_K": T * 2}, _b2(T * 2), U)
    liquid = Target.from_arrays("rho_l", rho, {"T_K": T}, np.full(5, 30.0), 0.01)
    with pytest.raises(ProblemError, match="needs one unit") as e:
        lj_problem(
            [b2.replace(inadequacy=absolute), liquid.replace(inadequacy=absolute)],
            SETTINGS,
            name="shared_units",
        )
    assert "target 'rho_l'.inadequacy.shared" in str(e.value)
    relative = Inadequacy("inferred_scale", form="relative", prior_scale=0.1, shared="s")
    p = lj_problem(
        [b2.replace(inadequacy=relative), liquid.replace(inadequacy=relative)],
        SETTINGS,
        name="shared_units",
    )
    assert [t.inadequacy.shared for t in p.targets] == ["s", "s"]
