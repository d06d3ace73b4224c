"""Calibrate a problem with MD targets, moving the MD reference until the ESS allows.

The outer loop of "re-simulate when the ESS drops" (docs/md.md, "MD targets in a
problem file"): inside NUTS an MD target in reweight mode rejects parameters
whose ESS / n_frames falls below ess_min, so the posterior is truncated to the
region the reference runs can speak for. This script

1. calibrates the problem (bayesff.inference.calibrate),
2. checks the ESS fraction of the reference runs at the posterior draws
   (bayesff.observables.md_targets.refine) and prints it per target and state,
3. if the draws pile up at the edge of the trust region (median ESS / n below
   --ess-target, or draws below ess_min), sets every MD target's reference to
   the posterior mean (internal units) and calibrates again,

at most --rounds times. The last run is written to runs/NAME/posterior.nc (or
--out); the problem text stored in it ends with a comment giving the reference
it was run with. If the reference stops moving but the check still fails, the
posterior is wider than the trust region: use fewer particles (its reach grows
as 1/sqrt(N)) or read the result as truncated.

Usage (repository root)::

    python scripts/md_refine.py models/argon_md.toml --rounds 3 [--chains 2 --warmup 300
        --samples 300] [--out runs/argon_md/posterior.nc] [--force]
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path


def _problem(doc, path: Path, text: str, round_no: int, reference):
    from bayesff.problem import Problem

    note = ""
    if reference is not None:
        ref = ", ".join(f"{k} = {v:.8g}" for k, v in reference.items())
        note = f"\n# md_refine.py round {round_no}: MD reference set to {{ {ref} }}\n"
    resolved = path.resolve()
    return Problem.from_dict(
        doc,
        path=str(path),
        source_text=text + note,
        base_dirs=(resolved.parent, resolved.parent.parent, Path.cwd()),
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("problem", type=Path, help="problem file (TOML) with MD targets")
    ap.add_argument("--rounds", type=int, default=3, help="at most this many calibrations")
    ap.add_argument("--chains", type=int, default=None)
    ap.add_argument("--warmup", type=int, default=None)
    ap.add_argument("--samples", type=int, default=None)
    ap.add_argument("--draws", type=int, default=100, help="posterior draws checked (100)")
    ap.add_argument("--ess-target", type=float, default=0.5, help="median ESS/n to reach")
    ap.add_argument("--out", type=Path, default=None, help="run file of the last round")
    ap.add_argument("--force", action="store_true", help="replace an existing run file")
    args = ap.parse_args(argv)
    if args.rounds < 1:
        ap.error("--rounds must be >= 1")

    from bayesff.inference import calibrate, write_datatree
    from bayesff.observables.md_targets import refine, set_reference

    text = args.problem.read_text()
    doc = tomllib.loads(text)
    reference = None
    out = args.out
    for round_no in range(1, args.rounds + 1):
        problem = _problem(doc, args.problem, text, round_no, reference)
        if out is None:
            out = Path("runs") / problem.name / "posterior.nc"
        if out.exists() and not args.force:
            print(f"{out} exists; pass --force to replace it", file=sys.stderr)
            return 1
        print(f"--- round {round_no}: reference {reference or 'as in the problem file'}")
        run = calibrate(
            problem,
            chains=args.chains,
            warmup=args.warmup,
            samples=args.samples,
        )
        print(run.summary())
        report = refine(problem, run, n_draws=args.draws, ess_target=args.ess_target)
        print(report.format(), flush=True)
        last = round_no == args.rounds or not report.needs_resimulation
        if last:
            write_datatree(run.datatree, out, force=args.force)
            print(f"wrote {out}")
            if report.needs_resimulation:
                print(
                    f"still outside the trust region after {round_no} round(s): the result "
                    "is truncated; run more rounds, or fewer particles (see the docstring)"
                )
            return 0 if not report.needs_resimulation else 2
        reference = report.reference
        doc = set_reference(doc, reference)
    return 2  # pragma: no cover - the loop always returns


if __name__ == "__main__":
    raise SystemExit(main())
