"""The chain-MD study's table (studies/mie_chain_md.py): rows of two engines in one file.

The study resumes by skipping the (parameters, temperature, engine) states already in its
table. Rows written before the ``engine`` column existed are OpenMM's; a jax-md run of
the same state must not be skipped because of them, and rewriting the table must keep
every row's values under its own column whatever the order they were read in.
"""

from __future__ import annotations

from studies import mie_chain_md as study

OLD = (
    "parameters,epsilon_K,sigma_angstrom,n,T_K,p_MPa,rho_md_mol_per_L\n"
    "posterior mean,251.135,3.96714,12.5663,255.07,0.1,10.5589\n"
)
P = {"epsilon": 251.135, "sigma": 3.96714, "n": 12.5663}


def test_rows_without_an_engine_are_openmms_and_do_not_stand_for_jax_md(tmp_path):
    path = tmp_path / "md.csv"
    path.write_text(OLD)
    (row,) = study.done_rows(path)
    assert (row["engine"], row["seed"]) == ("openmm", 0)
    assert study._same_state(row, P, 255.07, "openmm")
    assert not study._same_state(row, P, 255.07, "jax-md")
    assert not study._same_state(row, P, 255.07, "openmm", seed=1)
    assert not study._same_state(row, P, 329.47, "openmm")
    assert not study._same_state(row, {**P, "n": 12.6}, 255.07, "openmm")


def test_rewriting_a_table_of_old_and_new_rows_keeps_values_under_their_columns(tmp_path):
    path = tmp_path / "md.csv"
    path.write_text(OLD)
    rows = study.done_rows(path)
    new = {"parameters": "posterior mean", "engine": "jax-md", "seed": 0}
    new |= {k: v for k, v in rows[0].items() if k not in new}
    new["rho_md_mol_per_L"] = 10.7585
    study.write_rows([*rows, new], path)
    back = study.done_rows(path)
    assert [r["engine"] for r in back] == ["openmm", "jax-md"]
    assert [r["rho_md_mol_per_L"] for r in back] == [10.5589, 10.7585]
    assert path.read_text().splitlines()[0].startswith("parameters,engine,seed,epsilon_K")
