"""The competing modes each task of a sweep starts from: its Laplace start alone, no sampling.

A run's check of the modes' shares (``bayesff.inference.diagnostics``: the share of the
draws nearest each competing mode of its Laplace start gets R-hat and ESS like any other
function of the draws) has something to check only where the Laplace start found more than
one competing mode. Runs made before that check existed, whose run files are gone, can be
sorted without sampling again: this script runs each task's Laplace start exactly as its
calibration does (the task's problem and settings, the same seed and keys, the same
starting draws, the sweep's row padding) and writes one row per task:

    task, sampler, modes, optima, log_density_gaps, seconds

where ``modes`` is the number of distinct competing modes (1: the check would have had
nothing to check; empty for a task without a Laplace start, ``init = "central"``) and
``log_density_gaps`` how far below the best optimum each optimisation ended (nats). A
task with ``modes`` > 1 that was sampled with NUTS is one whose modes' shares are not
known to be converged unless it is run again.

    PYTHONPATH=. python scripts/atlas_laplace_modes.py models/atlas/atlas.toml OUT.csv \
        [--only potential=mie --only training=B2_VLE]

Tasks are taken structure by structure, so each log density compiles once (about 20-60 s
each on the 2-core CPU; the optimisations take seconds). Used on 2026-11-30 for the 112 runs
the atlas page carries over (docs/atlas.md).
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import time
from pathlib import Path

from bayesff.cli.argtypes import axis_labels
from bayesff.cli.sweep import _only
from bayesff.inference import laplace_modes
from bayesff.inference.calibrate import _groups, row_counts
from bayesff.io import atomic_path
from bayesff.sweep import check_sweep

FIELDS = ["task", "sampler", "modes", "optima", "log_density_gaps", "seconds"]


def task_modes(problems: dict, log=print) -> list[dict]:
    """One row per task (task name -> problem): its Laplace start's competing modes
    (:func:`bayesff.inference.laplace_modes`)."""
    names = list(problems)
    probs = [problems[n] for n in names]
    rows = []
    # structure by structure (each log density compiles once), each padded as the sweep
    # pads a structure's batches
    for idx in _groups(probs, {}, len(probs)):
        pad = row_counts([probs[i] for i in idx])
        for i in idx:
            t = time.perf_counter()
            found = laplace_modes(probs[i], pad_rows=pad)
            row = {"task": names[i], "sampler": probs[i].inference.sampler, "modes": ""}
            if found.modes is not None:
                # how the optimisations ended, without the log's hint on sampling
                gaps = re.sub(r", \d+ competing modes.*", "", found.summary.split("; ", 1)[-1])
                row.update(
                    modes=found.modes,
                    optima=probs[i].inference.chains,
                    log_density_gaps=gaps,
                    seconds=round(time.perf_counter() - t, 1),
                )
            rows.append(row)
            log(f"{names[i]}: {row['modes'] or 'no'} mode(s); {found.summary}")
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sweep")
    ap.add_argument("out", help="CSV to write (replaced atomically)")
    ap.add_argument(
        "--only", action="append", default=[], type=axis_labels, help="AXIS=LABEL[,LABEL...]"
    )
    args = ap.parse_args(argv)
    _, problems, errors = check_sweep(args.sweep, only=_only(args.only))
    if errors:
        sys.exit("invalid tasks: " + "; ".join(f"{k}: {v}" for k, v in errors.items()))
    rows = task_modes(problems)
    with atomic_path(Path(args.out)) as tmp, tmp.open("w", newline="") as fh:
        w = csv.DictWriter(fh, FIELDS)
        w.writeheader()
        w.writerows(rows)
    several = [r["task"] for r in rows if r["modes"] != "" and r["modes"] > 1]
    print(f"{len(rows)} tasks; {len(several)} with competing modes: {', '.join(several)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
