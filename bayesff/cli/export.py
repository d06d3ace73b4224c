"""``bayesff export RUN --format F [--topology FILE]``: force-field files of a run's posterior."""

from __future__ import annotations

from pathlib import Path

from bayesff import runfile
from bayesff.cli.argtypes import count
from bayesff.cli.command import EXIT_OK, Command, logger
from bayesff.errors import ProblemError
from bayesff.export import FORMATS, render_ensemble, run_parameters, write_files
from bayesff.potentials.topology import topology_from_dict
from bayesff.schemas import parse_toml

__all__ = ["COMMANDS"]


def _export_arguments(c) -> None:
    c.add_argument("run", help="run file, e.g. runs/butane/posterior.nc")
    c.add_argument("--format", required=True, choices=FORMATS, help="the engine's file format")
    c.add_argument(
        "--topology",
        metavar="FILE",
        help="TOML file of the molecules and site types (docs/molecular.md, dict form); "
        "its parameter names must be the run's. Default: the molecules of the run's own "
        "problem (a forcefield potential)",
    )
    c.add_argument(
        "--draws",
        type=count(0),
        default=0,
        metavar="K",
        help="also K posterior draws, evenly spaced (default 0: the mean only)",
    )
    c.add_argument("--out", help="folder for the files (default exports/NAME/FORMAT)")
    c.add_argument("--force", action="store_true", help="replace files that exist")
    c.add_argument("--quiet", action="store_true", help="only the folder's path")


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


def _export(args) -> int:
    # a topology file is read before the run file: the cheaper check first
    topology = _topology(args.topology) if args.topology else None
    dt = runfile.read(args.run)
    if topology is None:
        topology = _run_topology(dt, args.run)
    mean, draws = run_parameters(dt, topology, args.draws, where=args.run)
    name = str(dt.attrs.get("problem_name", "run"))
    fingerprint = str(dt.attrs.get("problem_fingerprint", "")) or "unknown"
    files = render_ensemble(args.format, mean, draws, topology, f"{name} {fingerprint}")
    out = Path(args.out) if args.out else Path("exports") / name / args.format
    paths = write_files(files, out, force=args.force)
    log = logger(args)
    log(f"{len(paths)} {args.format} file(s) in {out}: the posterior mean, {args.draws} draws")
    if getattr(args, "quiet", False):
        print(out)
    return EXIT_OK


COMMANDS = {"export": Command(_export_arguments, _export)}
