"""The TraPPE-UA study's own arithmetic (studies/alkanes.py): the direct-MD table read
from prepared headers. The MD and the calibrations themselves are tested in
tests/test_workflows_molecular.py; the study's figures are in docs/alkanes.md."""

from __future__ import annotations

import json

import pytest

from studies import alkanes


def test_eos_rows_are_the_data_files():
    """n-butane's rows and molar mass come from data/alkanes (CoolProp's reference EOS):
    at 244.44 K, 10.84946 mol/L and 23.798804 kJ/mol; M = 58.1222 g/mol."""
    eos = alkanes._eos_rows("n-butane")
    assert eos["molar_mass"] == pytest.approx(58.1222, rel=1e-6)
    row = eos["rows"][244.44]
    assert row["rho_l_mol_per_L"] == pytest.approx(10.84946)
    assert row["dH_vap_kJ_per_mol"] == pytest.approx(23.798804)


def test_direct_md_delta_h_vap_by_hand(tmp_path, monkeypatch):
    """One run of 128 butanes at 244.44 K and 0.030054783 MPa with <U_liq> = -2000 kJ/mol,
    <U_gas> = 4 kJ/mol and 630 kg/m^3: Delta H_vap = 4 + 2000/128 + R T - p M/rho
    = 4 + 15.625 + 2.032387 - 0.0027728 = 21.654614 kJ/mol (R = 8.314462618 J/mol/K,
    M = 58.1222 g/mol), against the EOS's 23.798804; the density against 10.84946 mol/L.
    Runs made before the gas energy was recorded are left out."""
    run = {
        "T_K": 244.44,
        "p_MPa": 0.030054783,
        "density_kg_per_m3": 630.0,
        "potential_energy_kJ_per_mol": -2000.0,
        "gas_energy_kJ_per_mol": 4.0,
        "reference": {"epsilon_CH3": 0.8, "sigma_CH3": 3.75},
    }
    old = {k: v for k, v in run.items() if k != "gas_energy_kJ_per_mol"}
    head = {"molecule": "n-butane", "simulate": {"n_molecules": 128}, "runs": [run, old]}
    (tmp_path / "n-butane_abc.json").write_text(json.dumps(head))
    (tmp_path / "manifest.json").write_text("{}")
    monkeypatch.setattr(alkanes, "PREPARED", tmp_path)
    (row,) = alkanes._direct_md()
    want = 4.0 + 2000.0 / 128 + 8.314462618e-3 * 244.44 - 0.030054783 * 58.1222 / 630.0
    assert want == pytest.approx(21.654614, abs=1e-6)
    assert row["dH_vap_kJ_per_mol"] == pytest.approx(want, rel=1e-9)
    assert row["dH_vap_rel_error"] == pytest.approx(want / 23.798804 - 1.0, rel=1e-8)
    assert row["density_rel_error"] == pytest.approx(630.0 / (10.84946 * 58.1222) - 1.0)
