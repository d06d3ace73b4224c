"""Start-up of the ``bayesff`` command: a command's ``--help``, against what it cost before.

Before 2026-12-01 a command's parser was built by importing the command's own module,
which imports jax, numpyro and arviz; now every command's arguments come from
:mod:`bayesff.cli.arguments` (standard library only). Each figure is the median wall
time of a new process, ``--repeat`` times:

- ``bayesff --help`` and ``bayesff calibrate --help`` as shipped;
- the baseline, measured in the same run: a new process that imports
  ``bayesff.cli.calibrate`` (the module the old parser imported) and then prints the
  same help, which is what ``bayesff calibrate --help`` did before.

    python benchmarks/cli_startup.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

#: The old path: the command's module first, then the help.
_BASELINE = (
    "import bayesff.cli.calibrate\nfrom bayesff.cli import main\nmain(['calibrate', '--help'])\n"
)


def _median_s(argv: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = subprocess.run(argv, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        if r.returncode != 0 or "usage: bayesff" not in r.stdout:
            raise SystemExit(f"{argv} failed: {r.returncode} {r.stderr[-500:]}")
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    exe = Path(sys.executable).parent / "bayesff"
    cmd = [str(exe)] if exe.is_file() else [shutil.which("bayesff") or "bayesff"]
    rows = [
        ("bayesff --help", _median_s([*cmd, "--help"], args.repeat)),
        ("bayesff calibrate --help", _median_s([*cmd, "calibrate", "--help"], args.repeat)),
        (
            "baseline: import the command's module, then its help",
            _median_s([sys.executable, "-c", _BASELINE], args.repeat),
        ),
    ]
    base = rows[-1][1]
    print(f"{'':55s} {'median s':>9s} {'vs baseline':>12s}")
    for name, s in rows:
        print(f"{name:55s} {s:9.3f} {base / s:11.1f}x")


if __name__ == "__main__":
    main()
