r"""Force-field files for MD engines from calibrated parameters (posterior mean, draws).

:func:`render` is a pure function of (format, parameter table, topology,
fingerprint) returning the text of one file; :func:`render_ensemble` renders
the posterior mean and K draws (``mean.<ext>``, ``draw_0000.<ext>``, ...), so
that a user can carry the parameter uncertainty into production runs. Nothing
is written to disk by those two; :func:`run_parameters` takes the parameters
out of a run file (posterior mean and K evenly spaced draws, converted to
internal units) and :func:`write_files` writes the files atomically, refusing to
overwrite unless asked. ``bayesff export RUN --format F --topology FILE``
(:mod:`bayesff.cli.export`) joins the three.

Formats and unit conversions (internal: angstrom, kJ/mol, rad):

- ``"openmm"``: an OpenMM ``ForceField`` XML (nm, kJ/mol): atom types with
  masses, one residue template per molecule type, harmonic bonds and angles,
  Ryckaert-Bellemans torsions, and ``NonbondedForce`` (LJ, Lorentz-Berthelot)
  or ``CustomNonbondedForce`` (geometric rule, Mie; only without 1-4 LJ).
  Fixed bonds are written with k = 0: create the system with
  ``constraints=app.AllBonds`` (said in the header).
- ``"lammps"``: an include file for ``units real`` (kcal/mol, angstrom):
  ``pair_style lj/cut`` or ``mie/cut`` with the cut-off, ``pair_modify shift no tail``,
  ``special_bonds lj 0 0 s14``, one ``mass`` per atom type (g/mol) and one
  ``pair_coeff`` per pair of atom types
  (1..T in the topology's order), unlike pairs written out so that no mixing
  rule is needed.
- ``"gromacs"``: the nonbonded section of a topology (nm, kJ/mol):
  ``[ defaults ]`` (fudgeLJ = the 1-4 factor), ``[ atomtypes ]`` and
  ``[ nonbond_params ]`` for every unlike pair. LJ only (GROMACS has no Mie
  form); the header names the .mdp settings of the calibrated, truncated
  potential (``vdw-modifier = None``).

Each file starts with a comment giving the fingerprint of the run it came
from, which draw it is, the units and what the file does not contain.

Mie chains (``mie_chain`` runs): :func:`chain_topology` is the force field a
parameter set stands for, ``segments`` tangent beads of one type ``M`` (mass =
molar mass / segments) joined by fixed bonds of length sigma, Mie n-m between
beads of different molecules and between beads of one chain three or more bonds
apart (1-2 and 1-3 pairs excluded); :func:`chain_run_parameters` and
:func:`render_chain_ensemble` write the posterior mean and draws, each with its
own bond length. No angle term: SAFT-VR Mie's chain is freely jointed.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

from bayesff import runfile, units
from bayesff.defaults import EXPORT_FORMATS
from bayesff.errors import ProblemError
from bayesff.io import atomic_write_bytes
from bayesff.potentials.chain import MIE_CHAIN, MIE_CHAIN_VDW
from bayesff.potentials.topology import (
    Topology,
    parameter_names,
    parameter_specs,
    topology_from_dict,
)
from bayesff.schemas import parse_toml
from bayesff.units import CALORIE_J

__all__ = [
    "CHAIN_KINDS",
    "CHAIN_PARAMETERS",
    "EXTENSIONS",
    "FORMATS",
    "chain_run_parameters",
    "chain_segments",
    "chain_topology",
    "render",
    "render_chain_ensemble",
    "render_ensemble",
    "run_parameters",
    "stale_exports",
    "write_files",
]

FORMATS = EXPORT_FORMATS
EXTENSIONS = {"openmm": "xml", "lammps": "lmp", "gromacs": "itp"}

_NM = 0.1  # nm per angstrom


def _check(fmt: str, params: Mapping, topology: Topology, fingerprint: str) -> dict[str, float]:
    if fmt not in FORMATS:
        raise ProblemError(f"unknown format {fmt!r}; expected one of {FORMATS}", "export.format")
    _check_header_text(fingerprint)
    names = parameter_names(topology)
    missing = [n for n in names if n not in params]
    extra = sorted(set(params) - set(names))
    if missing or extra:
        raise ProblemError(
            f"expected parameters {list(names)}; missing {missing}, unknown {extra}",
            "export.parameters",
        )
    out = {}
    for n in names:
        v = float(np.asarray(params[n]))
        if not math.isfinite(v):
            raise ProblemError(f"parameter {n} is not finite ({v})", "export.parameters")
        out[n] = v
    return out


def _lj14(topology: Topology, fmt: str) -> float:
    values = {m.scaling.lj14 for m in topology.molecules}
    if len(values) != 1:
        raise ProblemError(
            f"{fmt} takes one 1-4 LJ factor for the whole force field; the molecules use "
            f"{sorted(values)}",
            "export",
        )
    return values.pop()


def _pair_values(topology: Topology, p: dict) -> dict[tuple[str, str], tuple[float, ...]]:
    """(epsilon kJ/mol, sigma angstrom, n, m) of every pair of site types (a <= b in order)."""
    names = topology.type_names
    out = {}
    for i, a in enumerate(names):
        for b in names[i:]:
            ea, eb = p[f"epsilon_{a}"], p[f"epsilon_{b}"]
            sa, sb = p[f"sigma_{a}"], p[f"sigma_{b}"]
            if a == b:
                eps, sig = ea, sa
            elif topology.combining_rule == "explicit":
                eps, sig = p[f"epsilon_{a}_{b}"], p[f"sigma_{a}_{b}"]
            elif topology.combining_rule == "geometric":
                eps, sig = math.sqrt(ea * eb), math.sqrt(sa * sb)
            else:
                eps, sig = math.sqrt(ea * eb), 0.5 * (sa + sb)
            if topology.form == "mie":
                n = 0.5 * (p[f"n_{a}"] + p[f"n_{b}"])
                m = 0.5 * (p[f"m_{a}"] + p[f"m_{b}"])
            else:
                n, m = 12.0, 6.0
            out[(a, b)] = (eps, sig, n, m)
    return out


def _g(x: float) -> str:
    return f"{float(x) + 0.0:.12g}"  # + 0.0 turns -0.0 into 0


#: What every exported file says in its first lines (:func:`_header`).
_MARK = "bayesff export: run"


def _check_header_text(fingerprint) -> None:
    """The run's name and fingerprint, written into a comment line: one printable line.

    A line break would end the comment and make the rest of a run file's problem name a
    LAMMPS command or GROMACS directive (a run file is data from elsewhere)."""
    if (
        not isinstance(fingerprint, str)
        or not fingerprint.strip()
        or not fingerprint.isprintable()
    ):
        raise ProblemError(
            "the fingerprint must be a non-empty single-line string of printable characters, "
            f"found {fingerprint!r}",
            "export.fingerprint",
        )


def _header(comment: str, fingerprint: str, label: str, lines: list[str]) -> list[str]:
    body = [
        f"{_MARK} {fingerprint}",
        f"parameters: {label}",
        *lines,
    ]
    if comment == "<!--":
        # "--" may not appear inside an XML comment, and "-->" would end it early: every
        # dash followed by a dash gets a space ("---" -> "- - -"), so no "--" is left
        return ["<!--", *(f"  {re.sub(r'-(?=-)', '- ', x)}" for x in body), "-->"]
    return [f"{comment} {x}" for x in body]


# --------------------------------------------------------------------------- OpenMM


def _openmm(topo: Topology, p: dict, fingerprint: str, label: str) -> str:
    lj14 = _lj14(topo, "OpenMM XML")
    lines = _header(
        "<!--",
        fingerprint,
        label,
        [
            "units: nm, kJ/mol, rad, amu (OpenMM); the cut-off "
            f"{topo.r_cut_angstrom * _NM:g} nm is a createSystem argument "
            "(nonbondedCutoff)",
            _openmm_tail_note(topo),
            "fixed bonds are written with k = 0: createSystem(..., constraints=app.AllBonds)",
        ],
    )
    lines += ["<ForceField>", *_openmm_types_and_residues(topo)]
    lines += _openmm_bonded(*_bonded_tables(topo))
    lines += _openmm_nonbonded(topo, p, lj14)
    lines.append("</ForceField>")
    return "\n".join(lines) + "\n"


def _uses_nonbonded_force(topo: Topology) -> bool:
    """LJ with Lorentz-Berthelot: OpenMM's NonbondedForce; the rest a CustomNonbondedForce."""
    return topo.form == "lj" and topo.combining_rule == "lorentz_berthelot"


def _openmm_tail_note(topo: Topology) -> str:
    """How the calibration's tail correction is switched on or off in OpenMM.

    A NonbondedForce carries it in the XML (``useDispersionCorrection``, which OpenMM
    turns on when absent); a CustomNonbondedForce's long-range correction cannot be set
    from a ForceField XML (createSystem refuses ``useDispersionCorrection`` for it) and is
    off unless the user switches it on.
    """
    if _uses_nonbonded_force(topo):
        state = "on" if topo.tail else "off"
        return (
            f"tail correction {state} as calibrated: the NonbondedForce's useDispersionCorrection"
        )
    if not topo.tail:
        return "no tail correction, as calibrated (a CustomNonbondedForce has none by default)"
    return (
        "the calibration used the tail correction, which OpenMM cannot read from this XML: "
        "after createSystem, call setUseLongRangeCorrection(True) on the "
        "CustomNonbondedForce (without it energies and pressures lack the tail)"
    )


def _openmm_types_and_residues(topo: Topology) -> list[str]:
    lines = [" <AtomTypes>"]
    for t in topo.site_types:
        lines.append(f'  <Type name="{t.name}" class="{t.name}" mass="{_g(t.mass_g_per_mol)}"/>')
    lines += [" </AtomTypes>", " <Residues>"]
    for m in topo.molecules:
        lines.append(f"  <Residue name={quoteattr(m.name)}>")
        for k, s in enumerate(m.sites):
            lines.append(f'   <Atom name="S{k}" type="{s}"/>')
        for b in m.bonds:
            lines.append(f'   <Bond atomName1="S{b.i}" atomName2="S{b.j}"/>')
        lines.append("  </Residue>")
    lines.append(" </Residues>")
    return lines


def _bonded_tables(topo: Topology) -> tuple[dict, dict, dict]:
    """Bond, angle and torsion parameters by site-type classes (OpenMM units), each
    class tuple once; the same classes with different parameters are an error."""
    bonds, angles, torsions = {}, {}, {}
    for m in topo.molecules:
        s = m.sites
        for b in m.bonds:
            key = tuple(sorted((s[b.i], s[b.j])))
            k = 0.0 if b.fixed else b.k_kJ_per_mol_A2 / _NM**2
            _unique(bonds, key, (b.length_angstrom * _NM, k), "bond")
        for a in m.angles:
            key = (s[a.i], s[a.j], s[a.k])
            key = min(key, key[::-1])
            _unique(angles, key, (a.theta0_rad, a.k_kJ_per_mol_rad2), "angle")
        for t in m.torsions:
            key = (s[t.i], s[t.j], s[t.k], s[t.l])
            key = min(key, key[::-1])
            _unique(torsions, key, t.ryckaert_bellemans(), "torsion")
    return bonds, angles, torsions


def _openmm_bonded(bonds: dict, angles: dict, torsions: dict) -> list[str]:
    lines = []
    if bonds:
        lines.append(" <HarmonicBondForce>")
        for (a, b), (r0, k) in bonds.items():
            lines.append(f'  <Bond class1="{a}" class2="{b}" length="{_g(r0)}" k="{_g(k)}"/>')
        lines.append(" </HarmonicBondForce>")
    if angles:
        lines.append(" <HarmonicAngleForce>")
        for (a, b, c), (th, k) in angles.items():
            lines.append(
                f'  <Angle class1="{a}" class2="{b}" class3="{c}" angle="{_g(th)}" k="{_g(k)}"/>'
            )
        lines.append(" </HarmonicAngleForce>")
    if torsions:
        lines.append(" <RBTorsionForce>")
        for (a, b, c, d), cs in torsions.items():
            coeffs = " ".join(f'c{k}="{_g(x)}"' for k, x in enumerate(cs))
            lines.append(
                f'  <Proper class1="{a}" class2="{b}" class3="{c}" class4="{d}" {coeffs}/>'
            )
        lines.append(" </RBTorsionForce>")
    return lines


def _openmm_nonbonded(topo: Topology, p: dict, lj14: float) -> list[str]:
    if _uses_nonbonded_force(topo):
        # the tail as calibrated: OpenMM turns the dispersion correction on when absent
        lines = [
            f' <NonbondedForce coulomb14scale="1" lj14scale="{_g(lj14)}" '
            f'useDispersionCorrection="{bool(topo.tail)}">'
        ]
        for t in topo.type_names:
            lines.append(
                f'  <Atom type="{t}" charge="0" sigma="{_g(p[f"sigma_{t}"] * _NM)}" '
                f'epsilon="{_g(p[f"epsilon_{t}"])}"/>'
            )
        return [*lines, " </NonbondedForce>"]
    if topo.combining_rule == "explicit":
        raise ProblemError(
            "OpenMM XML export supports the Lorentz-Berthelot and geometric rules; "
            "explicit unlike pairs need the LAMMPS or GROMACS format",
            "export.openmm",
        )
    if lj14 not in (0.0, 1.0):
        raise ProblemError(
            "a CustomNonbondedForce (geometric rule or Mie) cannot scale 1-4 pairs in "
            "OpenMM XML; only molecules with 1-4 LJ excluded (lj14 = 0) or in full "
            f"(lj14 = 1) export, found lj14 = {lj14:g}",
            "export.openmm",
        )
    sig = "sqrt(sig1*sig2)" if topo.combining_rule == "geometric" else "0.5*(sig1+sig2)"
    if topo.form == "mie":
        energy = (
            "C*eps*((sig/r)^n-(sig/r)^m); C=(n/(n-m))*(n/m)^(m/(n-m)); "
            f"eps=sqrt(eps1*eps2); sig={sig}; n=0.5*(n1+n2); m=0.5*(m1+m2)"
        )
        per = ("sig", "eps", "n", "m")
    else:
        energy = f"4*eps*((sig/r)^12-(sig/r)^6); eps=sqrt(eps1*eps2); sig={sig}"
        per = ("sig", "eps")
    # bondCutoff: pairs within that many bonds are excluded (3: 1-2, 1-3, 1-4; 2: 1-2, 1-3)
    cutoff = 3 if lj14 == 0.0 else 2
    lines = [f' <CustomNonbondedForce energy="{energy}" bondCutoff="{cutoff}">']
    lines += [f'  <PerParticleParameter name="{x}"/>' for x in per]
    for t in topo.type_names:
        vals = {"sig": p[f"sigma_{t}"] * _NM, "eps": p[f"epsilon_{t}"]}
        if topo.form == "mie":
            vals |= {"n": p[f"n_{t}"], "m": p[f"m_{t}"]}
        attrs = " ".join(f'{k}="{_g(vals[k])}"' for k in per)
        lines.append(f'  <Atom type="{t}" {attrs}/>')
    return [*lines, " </CustomNonbondedForce>"]


def _unique(table: dict, key, value, what: str) -> None:
    if key in table and not np.allclose(table[key], value, rtol=1e-12, atol=0.0):
        raise ProblemError(
            f"two {what} terms on site types {key} have different parameters; an OpenMM "
            "force field assigns terms by type",
            "export.openmm",
        )
    table.setdefault(key, value)


# --------------------------------------------------------------------------- LAMMPS


def _lammps(topo: Topology, p: dict, fingerprint: str, label: str) -> str:
    lj14 = _lj14(topo, "LAMMPS")
    kcal = 1.0 / CALORIE_J
    types = ", ".join(f"{k + 1} = {t}" for k, t in enumerate(topo.type_names))
    lines = _header(
        "#",
        fingerprint,
        label,
        [
            "units real: epsilon in kcal/mol, sigma and cut-off in angstrom",
            f"atom types: {types}",
            "bonded terms are not included (see the molecule definition)",
        ],
    )
    style = "lj/cut" if topo.form == "lj" else "mie/cut"
    lines.append(f"pair_style {style} {_g(topo.r_cut_angstrom)}")
    # shift no is LAMMPS's default; said here because the calibrated potential is truncated
    lines.append(f"pair_modify shift no tail {'yes' if topo.tail else 'no'}")
    lines.append(f"special_bonds lj 0.0 0.0 {_g(lj14)}")
    index = {t: k + 1 for k, t in enumerate(topo.type_names)}
    masses = {t.name: t.mass_g_per_mol for t in topo.site_types}
    lines += [f"mass {index[t]} {_g(masses[t])}  # {t}, g/mol" for t in topo.type_names]
    for (a, b), (eps, sig, n, m) in _pair_values(topo, p).items():
        extra = "" if topo.form == "lj" else f" {_g(n)} {_g(m)}"
        lines.append(
            f"pair_coeff {index[a]} {index[b]} {_g(eps * kcal)} {_g(sig)}{extra}  # {a}-{b}"
        )
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- GROMACS


def _gromacs(topo: Topology, p: dict, fingerprint: str, label: str) -> str:
    if topo.form != "lj":
        raise ProblemError("GROMACS has no Mie form; export LJ, or use LAMMPS", "export.gromacs")
    lj14 = _lj14(topo, "GROMACS")
    lines = _header(
        ";",
        fingerprint,
        label,
        [
            "units: nm, kJ/mol; nonbonded section only ([ moleculetype ] with nrexcl = 3 "
            "and the bonded terms are not included)",
            f"cut-off {topo.r_cut_angstrom * _NM:g} nm (rvdw), "
            f"DispCorr = {'EnerPres' if topo.tail else 'no'} in the .mdp file",
            # GROMACS's Verlet scheme shifts the potential to zero at rvdw by default;
            # the calibrated potential is truncated, not shifted
            "vdwtype = Cut-off and vdw-modifier = None in the .mdp file (the default, "
            "Potential-shift, is not the calibrated potential)",
        ],
    )
    comb = 3 if topo.combining_rule == "geometric" else 2
    lines += [
        "[ defaults ]",
        "; nbfunc  comb-rule  gen-pairs  fudgeLJ  fudgeQQ",
        f"  1  {comb}  yes  {_g(lj14)}  1.0",
        "",
        "[ atomtypes ]",
        "; name  mass  charge  ptype  sigma(nm)  epsilon(kJ/mol)",
    ]
    masses = {t.name: t.mass_g_per_mol for t in topo.site_types}
    for t in topo.type_names:
        lines.append(
            f"  {t}  {_g(masses[t])}  0.0  A  {_g(p[f'sigma_{t}'] * _NM)}  {_g(p[f'epsilon_{t}'])}"
        )
    unlike = [(k, v) for k, v in _pair_values(topo, p).items() if k[0] != k[1]]
    if unlike:
        lines += ["", "[ nonbond_params ]", "; i  j  func  sigma(nm)  epsilon(kJ/mol)"]
        for (a, b), (eps, sig, _, _) in unlike:
            lines.append(f"  {a}  {b}  1  {_g(sig * _NM)}  {_g(eps)}")
    return "\n".join(lines) + "\n"


_RENDER = {"openmm": _openmm, "lammps": _lammps, "gromacs": _gromacs}


def render(
    fmt: str,
    params: Mapping[str, float],
    topology: Topology,
    fingerprint: str,
    label: str = "mean",
) -> str:
    """The text of one force-field file.

    Parameters
    ----------
    fmt
        ``"openmm"``, ``"lammps"`` or ``"gromacs"`` (:data:`FORMATS`).
    params
        Every nonbonded parameter of the topology
        (:func:`~bayesff.potentials.topology.parameter_names`), internal units
        (kJ/mol, angstrom).
    topology
        Site types, molecules and the nonbonded model.
    fingerprint
        The run's fingerprint (one line), written into the header.
    label
        Which parameters these are (``"mean"``, ``"draw 3 of 100"``).

    Raises
    ------
    ProblemError
        For an unknown format, missing or non-finite parameters, a blank
        fingerprint, or a model the format cannot express.
    """
    p = _check(fmt, params, topology, fingerprint)
    return _RENDER[fmt](topology, p, fingerprint.strip(), label)


def render_ensemble(
    fmt: str,
    mean: Mapping[str, float],
    draws: Mapping[str, np.ndarray],
    topology: Topology,
    fingerprint: str,
) -> dict[str, str]:
    """The posterior mean and every draw as files: ``{file name: text}``.

    ``draws`` maps each parameter to its K draws (internal units, shape (K,)),
    giving ``draw_0000.<ext>`` ... in draw order, beside ``mean.<ext>``.
    """
    ext = EXTENSIONS.get(fmt, "txt")
    sizes = {np.asarray(v).shape for v in draws.values()}
    if len(sizes) != 1 or len(next(iter(sizes))) != 1:
        raise ProblemError(
            f"draws must be one (K,) array per parameter, found shapes {sorted(sizes)}",
            "export.draws",
        )
    k_draws = next(iter(sizes))[0]
    out = {f"mean.{ext}": render(fmt, mean, topology, fingerprint, "posterior mean")}
    for k in range(k_draws):
        p = {n: float(np.asarray(v)[k]) for n, v in draws.items()}
        out[f"draw_{k:04d}.{ext}"] = render(
            fmt, p, topology, fingerprint, f"posterior draw {k + 1} of {k_draws}"
        )
    return out


def _evenly_spaced(total: int, n_draws: int, where: str) -> np.ndarray:
    """Indices of ``n_draws`` draws evenly spaced over ``total`` (first and last included)."""
    if not isinstance(n_draws, int) or not 0 <= n_draws <= total:
        raise ProblemError(f"draws must be 0-{total} (the run's draws), found {n_draws}", where)
    pick = np.unique(np.linspace(0, total - 1, n_draws).round().astype(int))
    if len(pick) != n_draws:  # only when n_draws is close to total; spacing 1 then
        pick = np.arange(n_draws)
    return pick


def run_parameters(
    dt, topology: Topology, n_draws: int = 0, where: str = "run file"
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """The posterior mean and ``n_draws`` posterior draws of a run, as a topology needs them.

    Parameters
    ----------
    dt
        A run file as read by :func:`bayesff.runfile.read`.
    topology
        The molecules whose nonbonded parameters
        (:func:`~bayesff.potentials.topology.parameter_names`) the run calibrated;
        each must be a parameter of the run, with the same name.
    n_draws
        Number of posterior draws, evenly spaced over all chains and draws (the
        first and the last included), so the choice is reproducible; 0 for the
        mean only.
    where
        Where the run came from, for messages.

    Returns
    -------
    mean, draws
        ``{name: value}`` and ``{name: (n_draws,) array}`` in internal units
        (kJ/mol, angstrom), converted from each variable's ``units`` attribute.

    Raises
    ------
    ProblemError
        A run without a posterior, a parameter the topology needs that the run
        does not have (the message lists both), a unit of the wrong dimension, or
        more draws than the run holds.
    """
    post = runfile.latents(dt, "posterior")
    if post is None:
        raise ProblemError("the run has no posterior group to export", where)
    specs = {s.name: s for s in parameter_specs(topology)}
    missing = [n for n in specs if n not in post.data_vars]
    if missing:
        have = sorted(str(v) for v in post.data_vars)
        raise ProblemError(
            f"the force field needs parameters {list(specs)}; the run has {have}, "
            f"without {missing}",
            where,
        )
    total = int(post.sizes.get("chain", 1) * post.sizes.get("draw", 1))
    pick = _evenly_spaced(total, n_draws, where)
    mean, draws = {}, {}
    for name, spec in specs.items():
        da = post[name]
        flat = np.asarray(da.values, dtype=float).reshape(-1)
        unit = str(da.attrs.get("units", spec.unit))
        if flat.size != total:
            raise ProblemError(
                f"parameter {name!r} has {flat.size} values per draw set, expected one per "
                "draw (a scalar parameter)",
                where,
            )
        value = units.to_internal(flat, unit, spec.dimension, where=f"{where}: {name}.units")
        mean[name] = float(np.mean(value))
        draws[name] = np.asarray(value)[pick]
    return mean, draws


def _written_by_export(path: Path) -> bool:
    """Whether ``path`` is a regular file whose first lines carry :data:`_MARK`."""
    try:
        with path.open("rb") as fh:
            return path.is_file() and _MARK.encode() in fh.read(512)
    except OSError:
        return False


def stale_exports(names, out_dir: str | os.PathLike) -> list[Path]:
    """Files of an earlier export in ``out_dir`` that writing ``names`` would leave beside
    the new ones: bayesff exports (:data:`_MARK`) of the same format (file extension)
    whose names are not among ``names`` (an earlier export's extra draws)."""
    out, names = Path(out_dir), set(names)
    if not out.is_dir():
        return []
    exts = {Path(n).suffix for n in names}
    return sorted(
        p
        for p in out.iterdir()
        if p.suffix in exts and p.name not in names and _written_by_export(p)
    )


def write_files(
    files: Mapping[str, str], out_dir: str | os.PathLike, *, force: bool = False
) -> list[Path]:
    """Write ``{file name: text}`` into ``out_dir``, each file atomically.

    Refuses (before writing anything) when a file exists and ``force`` is not
    given, or when a name is not a plain file name; returns the paths written. With
    ``force``, an earlier export in ``out_dir`` is replaced whole: its files this one does
    not write (:func:`stale_exports`, e.g. its extra draws) are removed after the new
    files are written, so no folder mixes two runs' files.
    """
    out = Path(out_dir)
    paths = []
    for name in files:
        if not name or Path(name).name != name or name.startswith("."):
            raise ProblemError(f"not a plain file name: {name!r}", "export")
        paths.append(out / name)
    existing = [str(p) for p in paths if p.exists()]
    if existing and not force:
        raise ProblemError(
            f"{len(existing)} file(s) exist already (first {existing[0]}); pass --force "
            "to replace them",
            str(out),
        )
    foreign = [p for p in existing if not _written_by_export(Path(p))]
    if foreign:  # --force replaces earlier exports, never a file of the user's own
        raise ProblemError(
            f"{foreign[0]} exists and is not a bayesff export (its first lines do not say "
            f"{_MARK!r}); --force replaces only earlier exports: choose another --out",
            str(out),
        )
    stale = stale_exports(files, out) if force else []
    for path, text in zip(paths, files.values(), strict=True):
        atomic_write_bytes(path, text.encode())
    for path in stale:
        path.unlink(missing_ok=True)
    return paths


# --------------------------------------------------------------------------- Mie chains

#: The ``mie_chain`` parameters a chain force field needs (``segments`` is given apart).
CHAIN_PARAMETERS = ("epsilon", "sigma", "n", "m")
#: The chain potentials a chain force field is exported from: kind -> its potential
#: (``mie_chain_vdw`` carries epsilon_vdw = alpha(n, m) epsilon in place of epsilon).
CHAIN_KINDS = {"mie_chain": MIE_CHAIN, "mie_chain_vdw": MIE_CHAIN_VDW}


def chain_topology(
    segments: int, molar_mass_g_per_mol: float, sigma_angstrom: float, r_cut_angstrom: float
) -> Topology:
    """The tangent Mie chain of a ``mie_chain`` parameter set, as a :class:`Topology`.

    Parameters
    ----------
    segments
        Beads per molecule (an integer >= 1: MD needs whole beads).
    molar_mass_g_per_mol
        The molecule's molar mass, g/mol; each bead carries 1/segments of it.
    sigma_angstrom
        The bead diameter, angstrom: also the (fixed) bond length of tangent beads.
    r_cut_angstrom
        Cut-off of the pair potential, angstrom (with the analytic tail).

    Returns
    -------
    Topology
        One site type ``M`` (parameters ``epsilon_M``, ``sigma_M``, ``n_M``, ``m_M``),
        one molecule ``chain``; 1-2 and 1-3 pairs excluded, further pairs of one chain
        interact in full (``lj14 = 1``).
    """
    if isinstance(segments, bool) or not isinstance(segments, int | np.integer) or segments < 1:
        raise ProblemError(
            f"segments must be a whole number >= 1 for MD, found {segments!r}", "export.segments"
        )
    for name, v in (
        ("molar mass", molar_mass_g_per_mol),
        ("sigma", sigma_angstrom),
        ("cut-off", r_cut_angstrom),
    ):
        if not (isinstance(v, int | float | np.floating) and math.isfinite(v) and v > 0):
            raise ProblemError(f"the {name} must be a positive number, found {v!r}", "export")
    bonds = [
        {"sites": [i, i + 1], "length": float(sigma_angstrom), "length_unit": "angstrom"}
        for i in range(int(segments) - 1)
    ]
    return topology_from_dict(
        {
            "form": "mie",
            "combining_rule": "geometric",
            "r_cut": float(r_cut_angstrom),
            "r_cut_unit": "angstrom",
            "tail": True,
            "site_types": {
                "M": {"mass": molar_mass_g_per_mol / int(segments), "mass_unit": "g/mol"}
            },
            "molecules": [
                {
                    "name": "chain",
                    "sites": ["M"] * int(segments),
                    "bonds": bonds,
                    "scaling": {"lj14": 1.0},
                }
            ],
        }
    )


def _fixed_values(dt, where: str) -> dict[str, tuple[float, str | None]]:
    """Parameters the run's problem fixed (``[parameters.X] value = v``): ``{name: (v,
    unit)}`` as written (``unit`` ``None`` where the problem gives none).

    A value some target fixes for itself (a transferable chain model's segments, one per
    molecule) is only the default of the other targets: the parameter is left out unless
    every target ends up with the same value (:func:`_per_target_values`)."""
    text = str(dt.attrs.get("problem_text", ""))
    if not text:
        return {}
    doc = parse_toml(text, where)
    params = doc.get("parameters", {})
    per_target = _per_target_values(doc)
    out = {}
    for k, v in params.items():
        if not (isinstance(v, Mapping) and isinstance(v.get("value"), int | float)):
            continue
        if k in per_target and len(set(per_target[k].values())) > 1:
            continue
        value = next(iter(per_target[k].values())) if k in per_target else v["value"]
        out[k] = (float(value), v.get("unit") if isinstance(v.get("unit"), str) else None)
    return out


def _per_target_values(doc: Mapping) -> dict[str, dict[str, float]]:
    """``{parameter: {target: value}}`` for each parameter some target of a problem's
    TOML fixes for itself; targets that do not fix it hold the problem's value."""
    targets = [t for t in doc.get("targets", []) if isinstance(t, Mapping)]
    params = doc.get("parameters", {})
    names = {k for t in targets if isinstance(t.get("fixed"), Mapping) for k in t["fixed"]}
    out: dict[str, dict[str, float]] = {}
    for k in names:
        default = params.get(k, {}).get("value") if isinstance(params.get(k), Mapping) else None
        out[k] = {}
        for i, t in enumerate(targets):
            own = t.get("fixed") if isinstance(t.get("fixed"), Mapping) else {}
            value = own.get(k, default)
            if isinstance(value, int | float):
                out[k][str(t.get("name", f"targets[{i}]"))] = float(value)
    return out


def _per_target_note(dt, name: str, where: str) -> str:
    """Why a parameter has no single fixed value: the targets' own values, or ''."""
    text = str(dt.attrs.get("problem_text", ""))
    values = _per_target_values(parse_toml(text, where)).get(name, {}) if text else {}
    if len(set(values.values())) < 2:
        return ""
    shown = ", ".join(f"{t}: {v:g}" for t, v in list(values.items())[:6])
    more = f", ... ({len(values)} targets)" if len(values) > 6 else ""
    return f"its targets fix {name} each for itself, to different values ({shown}{more})"


def chain_run_parameters(
    dt, n_draws: int = 0, where: str = "run file"
) -> tuple[dict[str, float], dict[str, np.ndarray], float | None]:
    """Posterior mean and draws of a chain run's (epsilon, sigma, n, m).

    Parameters
    ----------
    dt
        A run file (:func:`bayesff.runfile.read`) of a ``mie_chain`` or
        ``mie_chain_vdw`` problem (the latter's epsilon is epsilon_vdw / alpha(n, m),
        draw by draw).
    n_draws
        Posterior draws besides the mean, evenly spaced (as :func:`run_parameters`).
    where
        Where the run came from, for messages.

    Returns
    -------
    mean, draws, segments
        Internal units (epsilon kJ/mol, sigma angstrom); a parameter the problem fixed
        (``m`` = 6, usually) is that value in every draw. ``segments``: the problem's
        fixed value, or ``None`` if it has none (a transferable model fixes it per
        target).
    """
    post = runfile.latents(dt, "posterior")
    if post is None:
        raise ProblemError("the run has no posterior group to export", where)
    fixed = _fixed_values(dt, where)
    potential = CHAIN_KINDS.get(runfile.potential_kind(dt, where), MIE_CHAIN)
    names = (potential.params[0].name, *CHAIN_PARAMETERS[1:])
    total = int(post.sizes.get("chain", 1) * post.sizes.get("draw", 1))
    pick = _evenly_spaced(total, n_draws, where)
    values = {}
    for spec in (s for s in potential.params if s.name in names):
        if spec.name in post.data_vars:
            da = post[spec.name]
            flat = np.asarray(da.values, dtype=float).reshape(-1)
            unit = str(da.attrs.get("units", spec.prior_unit))
        elif spec.name in fixed:  # in the unit the problem fixed it in (sigma in nm, ...)
            value, unit = fixed[spec.name]
            flat, unit = np.full(total, value), unit or spec.prior_unit
        else:
            note = _per_target_note(dt, spec.name, where)
            why = (
                f"the run has no one value of {spec.name!r}: {note}, so its parameters are "
                f"no single force field (export a run with one {spec.name})"
                if note
                else f"the run has no posterior of {spec.name!r} and its problem does not fix it"
            )
            raise ProblemError(f"{why}; a {potential.name} run has {list(names)}", where)
        values[spec.name] = np.asarray(
            units.to_internal(flat, unit, spec.dimension, where=f"{where}: {spec.name}.units")
        )
    for d in potential.derived:  # epsilon of a mie_chain_vdw run, draw by draw
        values[d.name] = d.value(*(values[n] for n in d.inputs))
    mean = {k: float(np.mean(values[k])) for k in CHAIN_PARAMETERS}
    draws = {k: values[k][pick] for k in CHAIN_PARAMETERS}
    return mean, draws, fixed["segments"][0] if "segments" in fixed else None


def chain_segments(dt, requested: int | None, where: str = "run file") -> int:
    """The whole number of beads a chain run's force field is exported with.

    Parameters
    ----------
    dt
        A ``mie_chain`` run file.
    requested
        ``--segments``, or ``None``.
    where
        Where the run came from, for messages.

    Returns
    -------
    int
        The problem's fixed ``segments``; or ``requested`` where the problem fixes none
        (a transferable model fixes it per target) or sampled it, in which case
        ``requested`` must lie inside the posterior's 90 % interval of ``segments``
        (epsilon, sigma and n were fitted for that many beads, not any other).

    Raises
    ------
    ProblemError
        A fixed non-integer count (no chain of whole beads), a ``requested`` count that
        differs from the fixed one or lies outside the sampled interval, or none given
        where one is needed.
    """
    fixed = _fixed_values(dt, where).get("segments", (None, None))[0]
    post = runfile.latents(dt, "posterior")
    if fixed is not None and fixed != int(fixed):
        raise ProblemError(
            f"the run was calibrated with segments = {fixed:g}: its parameters stand for no "
            "chain of whole beads, so there is no MD force field to export (calibrate with a "
            "whole number of segments)",
            where,
        )
    if fixed is not None:
        if requested is not None and requested != fixed:
            raise ProblemError(
                f"the run was calibrated with segments = {fixed:g}; --segments {requested} "
                "would export a different molecule",
                "--segments",
            )
        return int(fixed)
    if post is not None and "segments" in post.data_vars:
        draws = np.asarray(post["segments"].values, dtype=float).reshape(-1)
        lo, hi = (float(q) for q in np.quantile(draws, [0.05, 0.95]))
        whole = list(range(math.ceil(lo), math.floor(hi) + 1))
        fits = f"whole numbers inside it: {whole}" if whole else "no whole number lies inside it"
        if requested is None or not lo <= requested <= hi:
            given = "no --segments was given" if requested is None else f"--segments {requested}"
            raise ProblemError(
                f"the run sampled segments (posterior mean {float(np.mean(draws)):.4g}, 90 % "
                f"interval [{lo:.4g}, {hi:.4g}]; {fits}) and {given}: epsilon, sigma and n "
                "were fitted for that many beads, so expected --segments N inside the "
                "interval (or a calibration with segments fixed at a whole number)",
                "--segments",
            )
        return int(requested)
    if requested is None:
        values = _per_target_note(dt, "segments", where)
        raise ProblemError(
            "the run's problem does not fix one segment count "
            f"({values or 'a transferable model fixes it per target'}): "
            "give --segments N for the molecule to export",
            "--segments",
        )
    return int(requested)


def render_chain_ensemble(
    fmt: str,
    mean: Mapping[str, float],
    draws: Mapping[str, np.ndarray],
    segments: int,
    molar_mass_g_per_mol: float,
    r_cut_angstrom: float,
    fingerprint: str,
) -> dict[str, str]:
    """Chain force-field files of the posterior mean and each draw: ``{file name: text}``.

    ``mean`` and ``draws`` as :func:`chain_run_parameters` returns them; each file's
    topology has its own bond length (sigma of that parameter set).
    """
    ext = EXTENSIONS.get(fmt, "txt")
    k_draws = len(np.asarray(draws["epsilon"]))
    sets = [("mean", "posterior mean", dict(mean))]
    for k in range(k_draws):
        p = {n: float(np.asarray(draws[n])[k]) for n in CHAIN_PARAMETERS}
        sets.append((f"draw_{k:04d}", f"posterior draw {k + 1} of {k_draws}", p))
    out = {}
    for stem, label, p in sets:
        topo = chain_topology(segments, molar_mass_g_per_mol, p["sigma"], r_cut_angstrom)
        site = {f"{n}_M": p[n] for n in CHAIN_PARAMETERS}
        out[f"{stem}.{ext}"] = render(
            fmt, site, topo, fingerprint, f"{label}; {segments} tangent beads, bond = sigma"
        )
    return out
