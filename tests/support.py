"""Helpers shared by tests: paths and a writer of data manifests."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import jax

ROOT = Path(__file__).resolve().parent.parent

#: ``jax.jit`` for a program a test compiles once and runs a few times (a gradient check
#: of the coexistence solve): without LLVM's optimisation passes, as bayesff compiles its
#: one-shot programs (bayesff.inference.exported.ONE_SHOT). Measured 2026-11-30 on the
#: SAFT-VR Mie chain's reverse and forward Jacobians: 423 against 618 s to compile, the
#: values equal to 1e-13.
jit_once = functools.partial(jax.jit, compiler_options={"xla_backend_optimization_level": 0})
ARGON_B2 = ROOT / "data" / "argon" / "b2.csv"

PROBLEM_TOML = """\
[problem]
name = "toy"
description = "test problem"

[potential]
kind = "lennard_jones"

[parameters.epsilon]
unit = "K"
prior = { dist = "LogNormal", median = 120.0, scale = 0.3 }

[parameters.sigma]
unit = "angstrom"
prior = { dist = "Uniform", low = 3.0, high = 4.0 }

[[targets]]
name = "B2"
observable = "second_virial"
data = "data/b2.csv"
train = { T_K = [110.0, 500.0] }

[transferability]
holdout = [ { target = "B2", select = { T_K = [85.0, 110.0] } } ]
tolerance = { B2 = { rel = 0.05 } }

[inference]
chains = 2
warmup = 100
samples = 100
"""


def pooled_lj_toml(tmp_path: Path, pooling: str, targets: str, name: str = "pool_check") -> str:
    """An LJ B2 problem file (epsilon free, sigma fixed at 3.4 angstrom) for the tests of
    ``[pooling]``: ``pooling`` and ``targets`` are TOML text, ``{csv}`` in ``targets``
    the path of a two-row B2 file written beside it with its manifest, ``{csv2}`` another
    such file (other values: two targets trained on one file would count it twice)."""
    csv, csv2 = tmp_path / "b2.csv", tmp_path / "b2_other.csv"
    csv.write_text("T_K,B2_cm3_per_mol,u_B2_cm3_per_mol\n200,-40,1\n300,-15,1\n")
    csv2.write_text("T_K,B2_cm3_per_mol,u_B2_cm3_per_mol\n200,-41,1\n300,-16,1\n")
    units = {"T_K": "K", "B2_cm3_per_mol": "cm^3/mol", "u_B2_cm3_per_mol": "cm^3/mol"}
    (tmp_path / "manifest.toml").write_text(
        manifest_entry(tmp_path, csv.name, units) + manifest_entry(tmp_path, csv2.name, units)
    )
    f = tmp_path / "p.toml"
    f.write_text(
        f"""[problem]
name = "{name}"
[potential]
kind = "lennard_jones"
[parameters.epsilon]
unit = "K"
prior = {{ dist = "LogNormal", median = 120.0, scale = 0.3 }}
[parameters.sigma]
unit = "angstrom"
value = 3.4
{pooling}
{targets.format(csv=csv, csv2=csv2)}"""
    )
    return str(f)


def two_groups_toml(tmp_path: Path, pooling: str, name: str, target: str = "") -> str:
    """:func:`pooled_lj_toml` with two B2 targets in groups ``a`` and ``b`` and ``[pooling]``
    of epsilon; ``pooling``: TOML lines added to ``[pooling]``, ``target``: to each target."""
    target = target.replace("{", "{{").replace("}", "}}")  # pooled_lj_toml formats the text
    targets = "".join(
        f'[[targets]]\nname = "B2_{g}"\nobservable = "second_virial"\ndata = "{{csv}}"\n'
        f'group = "{g}"\n{target}'
        for g in ("a", "b")
    )
    pooling = f'[pooling]\nparameters = ["epsilon"]\n{pooling}'
    return pooled_lj_toml(tmp_path, pooling, targets, name=name)


def manifest_entry(
    data_dir: Path,
    name: str,
    units: dict,
    *,
    title: str = "test copy",
    source: str = "copy of data/argon/b2.csv for tests",
    script: str = "tests/conftest.py",
) -> str:
    """One ``[[files]]`` entry of a manifest for data_dir/name, with its real sha256."""
    sha = hashlib.sha256((data_dir / name).read_bytes()).hexdigest()
    unit_lines = "\n".join(f'{k} = "{v}"' for k, v in units.items())
    return (
        f'[[files]]\npath = "{name}"\nkind = "synthetic"\ntitle = "{title}"\n'
        f'source = "{source}"\nlicence = "MIT"\nscript = "{script}"\nsha256 = "{sha}"\n'
        f"[files.units]\n{unit_lines}\n"
    )


#: Prior centre of the VLE input tests' LJ problems (argon's: epsilon/k 120 K, sigma
#: 3.4 angstrom).
VLE_LJ_PRIORS = """[parameters.epsilon]
unit = "K"
prior = { dist = "LogNormal", median = 120.0, scale = 0.3 }
[parameters.sigma]
unit = "angstrom"
prior = { dist = "LogNormal", median = 3.4, scale = 0.15 }
"""

_VLE_FILE_PROBLEM = """[problem]
name = "{name}"
[potential]
kind = "{kind}"
cutoff = {{ scheme = "none" }}
{parameters}
{targets}
[inference]
chains = 1
warmup = 10
samples = 10
"""


def vle_target(name: str, observable: str, data: str, column: str, extra: str = "") -> str:
    """A ``[[targets]]`` table reading COLUMN of DATA with its ``u_`` column as noise."""
    return (
        f'[[targets]]\nname = "{name}"\nobservable = "{observable}"\ndata = "{data}"\n'
        f'noise = {{ column = "u_{column}" }}\n{extra}'
    )


def vle_file_problem(
    tmp_path: Path,
    files: dict,
    targets: str,
    *,
    source: str,
    name: str,
    kind: str = "lennard_jones",
    priors: str = VLE_LJ_PRIORS,
):
    """A problem file in tmp_path with its data files (name -> (csv text, column units))
    and their manifest (``source``: the test module that made them), loaded."""
    from bayesff.problem import Problem

    entries = []
    for fname, (text, units) in files.items():
        (tmp_path / fname).write_text(text)
        entries.append(manifest_entry(tmp_path, fname, units, source=source, script=source))
    (tmp_path / "manifest.toml").write_text("\n".join(entries))
    path = tmp_path / "p.toml"
    path.write_text(
        _VLE_FILE_PROBLEM.format(name=name, kind=kind, parameters=priors, targets=targets)
    )
    return Problem.from_toml(path)


def write_manifest(data_dir: Path, name: str = "b2.csv", units: dict | None = None) -> None:
    """Write data_dir/manifest.toml listing data_dir/name with its real sha256."""
    units = units or {"T_K": "K", "B2_cm3_per_mol": "cm^3/mol", "u_B2_cm3_per_mol": "cm^3/mol"}
    (data_dir / "manifest.toml").write_text(manifest_entry(data_dir, name, units))


def lj_problem(targets, settings, name: str = "synthetic_lj"):
    """An LJ problem with the shipped argon priors (epsilon/K ~ LogNormal(120, 0.3),
    sigma/angstrom ~ Uniform(3, 4)) on the given targets."""
    from bayesff.potentials import get_potential
    from bayesff.priors import PriorSpec
    from bayesff.problem import Parameter, Problem

    return Problem(
        name=name,
        potential=get_potential("lennard_jones"),
        parameters={
            "epsilon": Parameter(
                "epsilon", "K", PriorSpec("LogNormal", {"median": 120.0, "scale": 0.3})
            ),
            "sigma": Parameter(
                "sigma", "angstrom", PriorSpec("Uniform", {"low": 3.0, "high": 4.0})
            ),
        },
        targets=targets,
        inference=settings,
    )


def lj_reference_eos(t_star: float, rho_star: float, kind: str = "LJ126_TholJPCRD2016"):
    """(p*, u*) of the LJ fluid from a reference EOS in teqp (Thol et al. 2016 by default,
    doi:10.1063/1.4945000): p* = rho* T* (1 + Ar01), u* = T* Ar10. Needs teqp."""
    import numpy as np
    import teqp

    model = teqp.make_model({"kind": kind, "model": {}})
    z = np.array([1.0])
    p = rho_star * t_star * (1.0 + model.get_Ar01(t_star, rho_star, z))
    return float(p), float(t_star * model.get_Ar10(t_star, rho_star, z))
