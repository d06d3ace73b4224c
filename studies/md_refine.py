"""Example: prepare and refine a problem with MD targets from Python.

The product is ``bayesff prepare PROBLEM`` and ``bayesff refine PROBLEM``
(bayesff.workflows.prepare, bayesff.workflows.refine; docs/md.md). This script
only shows the same two calls from Python, with a shorter run per round. Run
from the repository root::

    python -m studies.md_refine models/argon_md.toml --rounds 3 --chains 2 \
        --warmup 200 --samples 200

then ``bayesff calibrate models/argon_md.toml`` samples with the refined reference runs.
"""

from __future__ import annotations

import argparse

from bayesff.runtime import configure
from bayesff.workflows.prepare import prepare
from bayesff.workflows.refine import refine


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("problem", help="problem file with MD targets")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--chains", type=int, default=None)
    ap.add_argument("--warmup", type=int, default=None)
    ap.add_argument("--samples", type=int, default=None)
    ap.add_argument("--force", action="store_true", help="replace earlier rounds' run files")
    args = ap.parse_args(argv)
    configure()
    prepare(args.problem)  # the reference runs that are missing or stale
    result = refine(
        args.problem,
        max_rounds=args.rounds,
        force=args.force,
        chains=args.chains,
        warmup=args.warmup,
        samples=args.samples,
    )
    print(f"{result.status} after {len(result.rounds)} round(s); last run {result.run_path}")
    return 0 if result.converged else 1


if __name__ == "__main__":
    raise SystemExit(main())
