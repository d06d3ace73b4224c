"""The atlas-reparameterisation study (studies/atlas_reparameterise.py) builds the task it
names in the coordinates it names, and nothing else changes.

References: the L* prior is the task's L prior divided by the prior median of sigma,
bounded at the two-centre EOS's edge L* = 0.8 (Lisal et al. 2004, docs/vle.md); the
epsilon_vdw prior median is the epsilon median times alpha(16, 6) = C (1/3 - 1/13) with
C = (16/10) (16/6)^(6/10) (the Mie prefactor; alpha(12, 6) = 8/9 is checked in
tests/potentials/test_pair.py).
"""

from __future__ import annotations

import copy

import pytest

from bayesff.potentials import mie_critical_point
from bayesff.potentials.molecular import two_centre_critical_point
from bayesff.sweep import expand
from studies import atlas_reparameterise as study


@pytest.fixture(scope="module")
def tasks():
    return {t.name: t for t in expand("models/atlas/atlas.toml")[1]}


def _usual_form(doc: dict) -> dict:
    """A carbon-dioxide task in (epsilon, sigma, L), as the atlas had it until 2026-11-27."""
    d = copy.deepcopy(doc)
    d["potential"]["kind"] = "two_centre_lj_quadrupole"
    d["parameters"] = {
        "epsilon": {"unit": "K", "prior": {"dist": "LogNormal", "median": 136.5, "scale": 0.4}},
        "sigma": {
            "unit": "angstrom",
            "prior": {"dist": "LogNormal", "median": 3.178, "scale": 0.15},
        },
        "L": {
            "unit": "angstrom",
            "prior": {
                "dist": "TruncatedNormal",
                "loc": 2.32,
                "scale": 0.696,
                "low": 0.464,
                "high": 4.64,
            },
        },
        "Q": doc["parameters"]["Q"],
    }
    return d


def _in_q(doc: dict) -> dict:
    """A fluorine 2CLJQ task in Q, as the atlas had it until 2026-11-28 (LogNormal(0.778 B,
    0.3): Q*^2 = 0.5 at the prior centre of (epsilon, sigma); git show
    a8e40a8:models/atlas/atlas.toml)."""
    d = copy.deepcopy(doc)
    d["potential"]["kind"] = "two_centre_lj_quadrupole"
    del d["parameters"]["lnQ2_star"]
    d["parameters"]["Q"] = {
        "unit": "B",
        "prior": {"dist": "LogNormal", "median": 0.778, "scale": 0.3},
    }
    return d


def _usual_mie(doc: dict) -> dict:
    """An argon Mie task in (epsilon, sigma, n), as the atlas had it until 2026-11-28."""
    d = copy.deepcopy(doc)
    d["potential"]["kind"] = "mie"
    d["parameters"] = {
        "epsilon": {"unit": "K", "prior": {"dist": "LogNormal", "median": 133.6, "scale": 0.3}},
        "sigma": {
            "unit": "angstrom",
            "prior": {"dist": "LogNormal", "median": 3.377, "scale": 0.15},
        },
        "n": doc["parameters"]["n"],
        "m": {"unit": "1", "value": 6.0},
    }
    return d


def test_a_task_without_an_l_prior_is_refused(tasks):
    with pytest.raises(SystemExit, match="critical-point"):
        study.reparameterised(tasks["carbon_dioxide-2cljq-VLE"].document, "lstar")


def test_critical_moves_the_epsilon_and_sigma_medians_to_the_critical_coordinates(tasks):
    """epsilon_c = epsilon T*c(L*_0) and l_c = sigma / rho*c(L*_0)^(1/3) at the L* prior's
    centre, so that the prior's centre is the same model (the map is the potential's own,
    checked against the EOS's critical point in tests/potentials/)."""
    doc = _usual_form(tasks["carbon_dioxide-2cljq-VLE"].document)
    d = study.reparameterised(doc, "critical")
    par = d["parameters"]
    assert d["potential"]["kind"] == "two_centre_lj_quadrupole_critical"
    assert set(par) == {"epsilon_c", "l_c", "L_star", "Q"}
    tc, rc = (float(x) for x in two_centre_critical_point(2.32 / 3.178))
    assert par["epsilon_c"]["prior"]["median"] == pytest.approx(136.5 * tc, rel=1e-12)
    assert par["l_c"]["prior"]["median"] == pytest.approx(3.178 / rc ** (1 / 3), rel=1e-12)
    assert par["epsilon_c"]["prior"]["scale"] == 0.4 and par["l_c"]["prior"]["scale"] == 0.15


def test_critical_moves_a_mie_task_to_mie_critical_at_the_n_prior_centre(tasks):
    """epsilon_c = epsilon T*c(16) and l_c = sigma / rho*c(16)^(1/3) at the n prior's centre
    (16), m = 6 dropped (the form is n-6), n's prior and everything else kept."""
    doc = _usual_mie(tasks["argon-mie-VLE"].document)
    d = study.reparameterised(doc, "critical")
    par, old = d["parameters"], doc["parameters"]
    assert d["potential"]["kind"] == "mie_critical"
    assert list(par) == ["epsilon_c", "l_c", "n"]
    tc, rc = (float(x) for x in mie_critical_point(16.0))
    e, s = old["epsilon"]["prior"], old["sigma"]["prior"]
    assert par["epsilon_c"]["prior"]["median"] == pytest.approx(e["median"] * tc, rel=1e-12)
    assert par["l_c"]["prior"]["median"] == pytest.approx(s["median"] / rc ** (1 / 3), rel=1e-12)
    assert par["epsilon_c"]["prior"]["scale"] == e["scale"]
    assert par["n"] == old["n"]
    assert {k: v for k, v in d.items() if k != "parameters" and k != "potential"} == {
        k: v for k, v in doc.items() if k != "parameters" and k != "potential"
    }
    bad = copy.deepcopy(doc)
    bad["parameters"]["m"] = {"unit": "1", "value": 5.0}
    with pytest.raises(SystemExit, match="n-6"):
        study.reparameterised(bad, "critical")
    # the atlas's own Mie tasks are already so
    for form in ("critical", "vdw"):
        with pytest.raises(SystemExit, match=r"\(epsilon, sigma, n\)"):
            study.reparameterised(tasks["argon-mie-VLE"].document, form)


def test_lstar_divides_the_l_prior_by_sigma_and_bounds_it_at_the_edge(tasks):
    doc = _usual_form(tasks["carbon_dioxide-2cljq-VLE"].document)
    d = study.reparameterised(doc, "lstar")
    L, sig = doc["parameters"]["L"]["prior"], doc["parameters"]["sigma"]["prior"]["median"]
    p = d["parameters"]["L_star"]["prior"]
    assert d["potential"]["kind"] == "two_centre_lj_quadrupole_lstar"
    assert "L" not in d["parameters"]
    assert p["loc"] == pytest.approx(L["loc"] / sig) and p["high"] == 0.8
    assert p["scale"] == pytest.approx(L["scale"] / sig)
    rest = {k: v for k, v in d.items() if k not in ("parameters", "potential")}
    assert rest == {k: v for k, v in doc.items() if k not in ("parameters", "potential")}
    assert doc["potential"]["kind"] == "two_centre_lj_quadrupole"  # the task is not changed


def test_vdw_scales_the_epsilon_median_by_alpha_16_6(tasks):
    doc = _usual_mie(tasks["argon-mie-VLE"].document)
    d = study.reparameterised(doc, "vdw")
    c = (16 / 10) * (16 / 6) ** (6 / 10)
    alpha = c * (1 / 3 - 1 / 13)
    e = doc["parameters"]["epsilon"]["prior"]
    assert d["potential"]["kind"] == "mie_vdw"
    assert d["parameters"]["epsilon_vdw"]["prior"]["median"] == pytest.approx(
        e["median"] * alpha, rel=1e-12
    )
    assert d["parameters"]["epsilon_vdw"]["prior"]["scale"] == e["scale"]


def test_qstar_moves_the_q_prior_to_ln_q_star2_at_the_prior_centre_bounded_at_4(tasks):
    """The fluorine task's Q prior, LogNormal(0.778 B, 0.3), whose median the atlas chose to
    give Q*^2 = 0.5 at the prior centre of (epsilon, sigma) (models/atlas/make_atlas.py),
    becomes a TruncatedNormal of ln Q*^2 centred at ln 0.5 (to the 3 digits of 0.778),
    scale 0.6 (Q*^2 goes as Q^2), bounded at ln 4 (the 2CLJQ EOS's validated edge, Stoll
    et al. 2001). A task of another form is refused."""
    import math

    doc = _in_q(tasks["fluorine-2cljq-B2"].document)
    d = study.reparameterised(doc, "qstar")
    par = d["parameters"]
    assert d["potential"]["kind"] == "two_centre_lj_quadrupole_qstar"
    assert "Q" not in par and "Q" in doc["parameters"]  # the task itself is not changed
    p = par["lnQ2_star"]["prior"]
    assert p["dist"] == "TruncatedNormal" and p["high"] == pytest.approx(math.log(4.0))
    assert p["loc"] == pytest.approx(math.log(0.5), abs=0.01)
    assert p["scale"] == pytest.approx(2 * doc["parameters"]["Q"]["prior"]["scale"])
    assert par["epsilon"] == doc["parameters"]["epsilon"]
    with pytest.raises(SystemExit, match="two_centre_lj_quadrupole task"):
        study.reparameterised(tasks["carbon_dioxide-2cljq-VLE"].document, "qstar")
    with pytest.raises(SystemExit, match="already sampled in ln Q"):
        study.reparameterised(tasks["fluorine-2cljq-B2"].document, "qstar")


def test_qstar_reads_the_q_prior_in_its_own_unit_and_refuses_a_centre_beyond_the_edge(tasks):
    """The same Q prior written in e angstrom^2 (1 B = 0.20819434 e angstrom^2) gives the same
    ln Q*^2 prior; a median three times larger (Q*^2 = 4.5 at the centre) is refused."""
    import math

    doc = _in_q(tasks["fluorine-2cljq-B2"].document)
    want = study.reparameterised(doc, "qstar")["parameters"]["lnQ2_star"]["prior"]["loc"]
    q = doc["parameters"]["Q"]
    q["unit"], q["prior"]["median"] = "e*angstrom^2", q["prior"]["median"] * 0.20819434
    got = study.reparameterised(doc, "qstar")["parameters"]["lnQ2_star"]["prior"]["loc"]
    assert got == pytest.approx(want, abs=1e-6)
    q["prior"]["median"] *= 3.0
    with pytest.raises(SystemExit, match="beyond the EOS's edge"):
        study.reparameterised(doc, "qstar")
    assert math.isfinite(want)
