"""Subcommands of the workflows: ``bayesff active`` and ``bayesff study NAME``.

Each ``add_*_parser(subparsers)`` adds its parser to the ``bayesff``
command's subparsers and sets ``func``, a function of the parsed arguments
that returns the exit status. This module imports only :mod:`argparse`; the
workflows (and jax) are imported when a command runs, so ``bayesff --help``
stays fast. :func:`add_parsers` adds them all.

    bayesff active runs/lj_force/posterior.nc -k 3 --target pool
    bayesff study classical-vs-ml --quick
    bayesff study delta-learning
    bayesff study square-well --reuse
    bayesff study argon-joint --reuse
    bayesff study inadequacy
    bayesff study ion-clusters
    bayesff study ion-pair-solvents
    bayesff study polar-gases --reuse
"""

from __future__ import annotations

from bayesff.argtypes import count as _count
from bayesff.argtypes import nonnegative as _nonnegative

__all__ = ["add_active_parser", "add_parsers", "add_study_parser"]


def _log(args):
    if getattr(args, "quiet", False):
        return None
    return lambda *a, **k: print(*a, **k, flush=True)


def add_parsers(subparsers) -> None:
    """Add ``active``, ``study``, ``prepare``, ``refine``, ``atlas`` and ``sensitivity`` to
    the ``bayesff`` command's subparsers."""
    from bayesff import sensitivity
    from bayesff.workflows import atlas, prepare, refine

    add_active_parser(subparsers)
    add_study_parser(subparsers)
    prepare.add_parser(subparsers)
    refine.add_parser(subparsers)
    atlas.add_parser(subparsers)
    sensitivity.add_parser(subparsers)


# ------------------------------------------------------------------------------- active


def add_active_parser(subparsers) -> None:
    """``bayesff active RUN``: the held-out environments where the posterior disagrees most."""
    c = subparsers.add_parser(
        "active",
        help="which held-out environments of a run to label next (posterior disagreement)",
        description="Rank a run's held-out rows (the candidate pool: a held-out group or a "
        "target with train = false) by the spread of the posterior draws there.",
    )
    c.add_argument("run", help="run file, e.g. runs/NAME/posterior.nc")
    c.add_argument("--target", help="target whose held-out rows are the pool")
    c.add_argument("--group", help="only this held-out group")
    c.add_argument("-k", type=_count(1), default=5, help="how many to choose (default 5)")
    c.add_argument(
        "--method",
        choices=("committee", "variance"),
        default="committee",
        help="score: sd of the draws (committee, default) or their variance",
    )
    c.add_argument(
        "--threshold", type=_nonnegative, help="choose nothing scoring below this (score unit)"
    )
    c.set_defaults(func=_cmd_active)


def _cmd_active(args) -> int:
    import numpy as np

    from bayesff.workflows.active import query, run_pool

    pool = run_pool(args.run, args.target, args.group)
    q = query(pool, k=args.k, method=args.method, threshold=args.threshold)
    unit = pool.unit if args.method == "committee" else f"({pool.unit})^2"
    cands = (
        q.candidates
        if isinstance(q.candidates, dict)
        else {next(iter(pool.env_units), "x"): q.candidates}
    )
    head = [f"{c} [{pool.env_units.get(c, '')}]" for c in cands]
    where = f"{pool.target}" + (f", group {pool.group!r}" if pool.group else "")
    print(f"{len(q)} of {np.size(q.scores)} candidates of {where}, by {args.method} score:")
    print("  ".join(["rank", *head, f"score [{unit}]"]))
    for i in range(len(q)):
        vals = [f"{np.asarray(v)[i]:.6g}" for v in cands.values()]
        print("  ".join([f"{i + 1:>4}", *vals, f"{q.score[i]:.4g}"]))
    if q.converged:
        print(f"converged: no candidate scores {args.threshold:g} {unit} or more")
    return 0


# -------------------------------------------------------------------------------- study


def add_study_parser(subparsers) -> None:
    """``bayesff study NAME``: the package's studies (docs/transfer_ml.md, gp.md, ...)."""
    c = subparsers.add_parser("study", help="run one of bayesff's studies (figures and tables)")
    sub = c.add_subparsers(dest="study", required=True)
    _classical_vs_ml(sub)
    _delta_learning(sub)
    _square_well(sub)
    _argon_joint(sub)
    _inadequacy(sub)
    _electrostatics(sub)


def _classical_vs_ml(sub) -> None:
    c = sub.add_parser(
        "classical-vs-ml", help="LJ vs a GP on pair forces; active learning (docs/transfer_ml.md)"
    )
    c.add_argument("--out", default="reports/classical_vs_ml", help="output folder")
    c.add_argument("--data", default=None, help="training file (default: the shipped one)")
    c.add_argument("--seed", type=_count(0), default=0, help="NUTS seed")
    c.add_argument("--quick", action="store_true", help="fewer draws and seeds (smoke test)")
    c.add_argument("--no-hsgp", action="store_true", help="skip the LJ + HSGP model")
    c.add_argument("--quiet", action="store_true", help="no progress lines")
    c.set_defaults(func=_cmd_classical_vs_ml)


def _cmd_classical_vs_ml(args) -> int:
    from bayesff.workflows import classical_vs_ml as s

    res = s.run_study(
        out=args.out,
        data=args.data or s.DEFAULT_DATA,
        seed=args.seed,
        quick=args.quick,
        hsgp=not args.no_hsgp,
        log=_log(args),
    )
    print(s.comparison_markdown(res["comparison"]))
    print(s.active_learning_markdown(res["active_learning"]))
    return 0


def _delta_learning(sub) -> None:
    c = sub.add_parser(
        "delta-learning",
        help="GP correction on LJ vs on a bare wall, against HFD-ID1 (docs/gp.md)",
    )
    c.add_argument("--out", default="reports/argon_gp", help="output folder")
    c.set_defaults(func=_cmd_delta_learning)


def _cmd_delta_learning(args) -> int:
    from bayesff.workflows import delta_learning

    delta_learning.run_study(args.out)
    return 0


def _runs_options(c, out: str) -> None:
    c.add_argument("--runs", default="runs", help="run folder (default runs/)")
    c.add_argument("--out", default=out, help=f"output folder (default {out})")
    c.add_argument("--models", default="models", help="folder of the problem files")
    c.add_argument("--reuse", action="store_true", help="read existing run files")
    c.add_argument("--quiet", action="store_true", help="no progress lines")


def _square_well(sub) -> None:
    c = sub.add_parser(
        "square-well", help="square well: joint structure and B2 tolerance (docs/square_well.md)"
    )
    _runs_options(c, "reports/argon_sw_joint")
    c.add_argument("--no-report", action="store_true", help="skip the HTML report")
    c.add_argument(
        "--closure-check", action="store_true", help="only the VM/PY scan (~1 min), then exit"
    )
    c.set_defaults(func=_cmd_square_well)


def _cmd_square_well(args) -> int:
    import json
    from pathlib import Path

    from bayesff.workflows import square_well

    if args.closure_check:
        rows = square_well.closure_check(log=_log(args) or (lambda *a, **k: None))
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "closure_check.json").write_text(json.dumps(rows, indent=1) + "\n")
        return 0
    square_well.run_study(
        runs=args.runs,
        out=args.out,
        reuse=args.reuse,
        report=not args.no_report,
        models_dir=args.models,
        log=_log(args),
    )
    return 0


def _argon_joint(sub) -> None:
    c = sub.add_parser(
        "argon-joint", help="argon LJ and Mie: B2-only, structure-only, joint (docs/joint.md)"
    )
    _runs_options(c, "reports/argon_joint")
    c.add_argument("--skip", default="", help="comma-separated problem names not to calibrate")
    for opt in ("chains", "warmup", "samples"):
        c.add_argument(f"--{opt}", type=_count(1), metavar="N", help=f"override {opt}")
    c.set_defaults(func=_cmd_argon_joint)


def _cmd_argon_joint(args) -> int:
    from bayesff.workflows import argon_joint

    overrides = {k: getattr(args, k) for k in ("chains", "warmup", "samples")}
    res = argon_joint.run_study(
        runs=args.runs,
        out=args.out,
        reuse=args.reuse,
        skip={x for x in args.skip.split(",") if x},
        models_dir=args.models,
        log=_log(args),
        **{k: v for k, v in overrides.items() if v is not None},
    )
    print(argon_joint.write_markdown(res))
    return 0


def _inadequacy(sub) -> None:
    c = sub.add_parser(
        "inadequacy", help="argon B2 under each inadequacy option (docs/inadequacy.md)"
    )
    c.add_argument("--base", default="models/argon_lj_b2.toml", help="the problem to vary")
    c.add_argument("--out", default="runs/inadequacy_study", help="run files and results.json")
    c.add_argument("--doc", default="docs/inadequacy.md", help="markdown file to update")
    c.add_argument("--no-doc", action="store_true", help="leave the documentation alone")
    c.add_argument("--root", default=".", help="where data paths are resolved (repository)")
    c.add_argument("--quiet", action="store_true", help="no progress lines, only the table")
    c.set_defaults(func=_cmd_inadequacy)


def _cmd_inadequacy(args) -> int:
    from bayesff.workflows import inadequacy

    res = inadequacy.run_study(
        base=args.base,
        out=args.out,
        doc=None if args.no_doc else args.doc,
        root=args.root,
        log=_log(args),
    )
    print(res["table"])
    return 0


_ELECTROSTATICS_HELP = {
    "ion-clusters": "charge scaling fitted on ion pairs, trimers held out "
    "(docs/electrostatics.md)",
    "ion-pair-solvents": "screening fitted in water, hexane held out (docs/electrostatics.md)",
    "polar-gases": "Stockmayer B2 of polar gases; fitted vs measured dipole "
    "(docs/electrostatics.md)",
}


def _electrostatics(sub) -> None:
    for name, text in _ELECTROSTATICS_HELP.items():
        c = sub.add_parser(name, help=text)
        _runs_options(c, f"reports/{name.replace('-', '_')}")
        c.add_argument("--data", default="data", help="data folder (default data/)")
        c.add_argument("--no-report", action="store_true", help="no HTML report per run")
        c.add_argument("--tasks", default="", help="comma-separated task names (default all)")
        for opt in ("chains", "warmup", "samples", "seed"):
            c.add_argument(f"--{opt}", type=_count(1 if opt != "seed" else 0), metavar="N")
        c.set_defaults(func=_cmd_electrostatics, study_name=name)


def _cmd_electrostatics(args) -> int:
    from bayesff.workflows import electrostatics

    overrides = {k: getattr(args, k) for k in ("chains", "warmup", "samples", "seed")}
    entries = electrostatics.run_study(
        args.study_name,
        runs=args.runs,
        out=args.out,
        reuse=args.reuse,
        models_dir=args.models,
        data_dir=args.data,
        report=not args.no_report,
        tasks=[t for t in args.tasks.split(",") if t] or None,
        log=_log(args),
        **{k: v for k, v in overrides.items() if v is not None},
    )
    print(electrostatics.write_markdown(args.study_name, entries))
    return 0
