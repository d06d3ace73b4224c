"""Ctrl-C during `bayesff calibrate`: exit status and time to exit, by when it arrives.

Sends SIGINT to ``bayesff calibrate models/argon_lj_b2.toml`` (20000 draws per chain, so
the run is still going) at evenly spaced delays after start, and prints, per delay, the
exit status (130 expected), the seconds from the signal to the exit and the last line
the command printed. The first half second is the C extensions' initialisation (numpy,
jaxlib), where a KeyboardInterrupt broke the import (exit 1) or aborted the process
(exit -6) before bayesff.interrupts held it back.

    python benchmarks/ctrl_c_latency.py [--from 0.2] [--to 5.0] [--n 15]
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: the CLI with SIGINT handled as at a terminal (a background shell may ignore it)
CLI = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'bayesff'; runpy.run_module('bayesff.cli', run_name='__main__')"
)


def one(after_s: float, out: Path) -> tuple[int, float, str]:
    """Exit status, seconds from SIGINT to exit, and the last line printed."""
    args = ["calibrate", "models/argon_lj_b2.toml", "--out", str(out), "--samples", "20000"]
    proc = subprocess.Popen(
        [sys.executable, "-c", CLI, *args, "--no-progress", "--quiet"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    time.sleep(after_s)
    t = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    lines = [x for x in err.strip().splitlines() if x.strip()]
    return proc.returncode, time.perf_counter() - t, lines[-1][:90] if lines else ""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--from", dest="start", type=float, default=0.2)
    p.add_argument("--to", dest="stop", type=float, default=5.0)
    p.add_argument("--n", type=int, default=15)
    a = p.parse_args()
    step = (a.stop - a.start) / max(a.n - 1, 1)
    ok = 0
    print("after_s  exit  to_exit_s  last line")
    with tempfile.TemporaryDirectory() as d:
        for k in range(a.n):
            after = a.start + k * step
            code, dt, last = one(after, Path(d) / f"run{k}" / "posterior.nc")
            ok += code == 130
            print(f"{after:7.2f}  {code:4d}  {dt:9.2f}  {last}", flush=True)
    print(f"exit 130 in {ok} of {a.n}")


if __name__ == "__main__":
    main()
