"""``bayesff export RUN --format F [--topology FILE]``: force-field files of a run's posterior.

A ``mie_chain`` run exports its tangent-bead chain (:func:`bayesff.export.chain_topology`):
``bayesff export RUN --format lammps --molar-mass 58.12 [--segments 2] [--r-cut 14]``.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from bayesff import runfile
from bayesff.cli.command import EXIT_OK, logger
from bayesff.defaults import CHAIN_R_CUT_ANGSTROM
from bayesff.errors import ProblemError
from bayesff.export import (
    CHAIN_KINDS,
    chain_run_parameters,
    chain_segments,
    render_chain_ensemble,
    render_ensemble,
    run_parameters,
    stale_exports,
    write_files,
)
from bayesff.io import confined, not_a_file
from bayesff.potentials.topology import topology_from_dict
from bayesff.schemas import NAME_PATTERN, parse_toml

__all__ = ["COMMANDS"]


#: Where exports go without --out: ``exports/<problem name>/<format>``.
EXPORTS_ROOT = "exports"


def _topology(path: str):
    p = Path(path)
    if not p.is_file():
        raise ProblemError("no such topology file", path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ProblemError(f"cannot read the topology file ({e})", path) from None
    try:
        return topology_from_dict(parse_toml(text, path))
    except ProblemError as e:
        raise ProblemError(e.message, f"{path}: {e.where}" if e.where else path) from None


def _run_topology(dt, where: str):
    """The topology of a run whose problem is a forcefield with [[molecules]]."""
    doc = parse_toml(str(dt.attrs.get("problem_text", "")), where)
    pot = doc.get("potential", {})
    if pot.get("kind") != "forcefield" or "molecules" not in doc:
        raise ProblemError(
            f"the run's potential is {pot.get('kind', 'unknown')!r}, not a forcefield with "
            "[[molecules]]: give the molecules with --topology FILE",
            where,
        )
    opts = {k: v for k, v in pot.items() if k not in ("kind", "cutoff")}
    return topology_from_dict({**opts, "molecules": doc["molecules"]})


#: The nonbonded model a force field's parameters were calibrated with: a --topology file
#: exports other molecules with them, never another model.
_NONBONDED_MODEL = ("form", "combining_rule", "r_cut_angstrom", "tail")


def _check_same_model(topology, dt, args) -> None:
    """A ``--topology`` file keeps the run's nonbonded model (when the run has one): its
    form, combining rule, cut-off and tail. Before (export audit, 2026-11-30) a file with
    another rule or cut-off re-mixed the unlike pairs and changed the cut-off silently."""
    doc = parse_toml(str(dt.attrs.get("problem_text", "")), args.run)
    if doc.get("potential", {}).get("kind") != "forcefield" or "molecules" not in doc:
        return  # the run's problem has no molecules: nothing to compare
    run_topo = _run_topology(dt, args.run)

    def same(k):
        a, b = getattr(topology, k), getattr(run_topo, k)
        # a cut-off given in nm is the run's angstrom to a float step, not exactly
        return math.isclose(a, b, rel_tol=1e-9) if k == "r_cut_angstrom" else a == b

    differ = [
        f"{k} {getattr(topology, k)!r} (the run's: {getattr(run_topo, k)!r})"
        for k in _NONBONDED_MODEL
        if not same(k)
    ]
    if differ:
        raise ProblemError(
            f"the topology's nonbonded model differs from the one the run was calibrated "
            f"with: {'; '.join(differ)}; its parameters hold for the run's model only, so "
            "give the run's values in the topology file (its molecules may differ)",
            f"--topology {args.topology}",
        )


def _chain_files(args, dt, label: str) -> dict[str, str]:
    """The files of a mie_chain run: its tangent-bead chain, mean and draws."""
    if args.topology:
        raise ProblemError(
            "a mie_chain run exports its own chain of tangent beads: give --molar-mass "
            "(and --segments), not --topology",
            "--topology",
        )
    if args.molar_mass is None:
        raise ProblemError(
            "a mie_chain run needs the molecule's molar mass for the bead mass: give "
            "--molar-mass G_PER_MOL (n-butane: 58.12)",
            "--molar-mass",
        )
    mean, draws, _ = chain_run_parameters(dt, args.draws, where=args.run)
    segments = chain_segments(dt, args.segments, where=args.run)
    r_cut = CHAIN_R_CUT_ANGSTROM if args.r_cut is None else args.r_cut
    sigma = max([float(mean["sigma"]), *(float(s) for s in draws.get("sigma", ()))])
    if r_cut <= sigma:
        # the rule a problem's cut-off obeys: a cut-off inside the repulsive core is a
        # force field with no repulsion left between beads
        raise ProblemError(
            f"a cut-off of {r_cut:g} angstrom lies inside the beads' repulsive core (sigma "
            f"up to {sigma:.4g} angstrom in the exported parameter sets); expected a cut-off "
            f"above sigma (default {CHAIN_R_CUT_ANGSTROM:g})",
            "--r-cut",
        )
    return render_chain_ensemble(args.format, mean, draws, segments, args.molar_mass, r_cut, label)


def _out_folder(args, name: str) -> Path:
    """``--out``, a folder (or one to make); else ``exports/<problem name>/<format>``, the
    name checked first: a run file is data from elsewhere, and its problem name (``..``,
    an absolute path) must not choose where bayesff writes."""
    if args.out:
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise ProblemError(
                f"{args.out!r} {not_a_file(out) or 'is a file'}: expected a folder for the "
                "exported files (made if missing)",
                "--out",
            )
        return out
    if not re.fullmatch(NAME_PATTERN, name):
        raise ProblemError(
            f"the run's problem name {name!r} cannot name an export folder (expected "
            f"{NAME_PATTERN}); give the folder with --out",
            f"{args.run}: problem_name",
        )
    folder = Path(EXPORTS_ROOT) / name / args.format
    confined(folder, EXPORTS_ROOT, "export folder")  # a symbolic link out of exports/
    return folder


def _export(args) -> int:
    # a topology file is read before the run file: the cheaper check first
    topology = _topology(args.topology) if args.topology else None
    dt = runfile.read(args.run)
    name = str(dt.attrs.get("problem_name", "run"))
    fingerprint = str(dt.attrs.get("problem_fingerprint", "")) or "unknown"
    if runfile.potential_kind(dt, args.run) in CHAIN_KINDS:
        files = _chain_files(args, dt, f"{name} {fingerprint}")
    else:
        chain_only = [
            f"--{k.replace('_', '-')}"
            for k in ("molar_mass", "segments", "r_cut")
            if getattr(args, k) is not None
        ]
        if chain_only:  # they would be ignored
            raise ProblemError(
                f"{', '.join(chain_only)} belong to a mie_chain run's export; this run's "
                f"potential is {runfile.potential_kind(dt, args.run)!r} (its cut-off and "
                "masses come from its problem or --topology)",
                chain_only[0],
            )
        if topology is None:
            topology = _run_topology(dt, args.run)
        else:
            _check_same_model(topology, dt, args)
        mean, draws = run_parameters(dt, topology, args.draws, where=args.run)
        files = render_ensemble(args.format, mean, draws, topology, f"{name} {fingerprint}")
    out = _out_folder(args, name)
    stale = stale_exports(files, out) if args.force else []
    paths = write_files(files, out, force=args.force)
    log = logger(args)
    log(f"{len(paths)} {args.format} file(s) in {out}: the posterior mean, {args.draws} draws")
    if stale:
        names = ", ".join(p.name for p in stale[:3]) + (", ..." if len(stale) > 3 else "")
        log(f"removed {len(stale)} file(s) of the earlier export this one replaced: {names}")
    if getattr(args, "quiet", False):
        print(out)
    return EXIT_OK


COMMANDS = {"export": _export}
