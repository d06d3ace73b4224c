"""Issue 29: bayesff sweep (C3) against calibrate_many (C2b) on the same 20 problems.

Each part runs in its own process with its own compile cache, so neither finds the
other's compiled programs:

* ``cold``: C2b, then C3, each with an empty cache (both trace and compile);
* ``warm``: C3 once to fill a cache (not timed), then C3 and C2b with that cache (neither
  compiles: what a user sees from the second sweep of a structure on).

Run: ``python benchmarks/many_sweep_vs_batch.py OUT.json`` (parts of benchmarks/many.py).
The previous version of this script ran C3 cold and then C2b with C3's cache, which
compared a compiling sweep with a calibrate_many that did not compile.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def part(name: str) -> dict:
    """One part in this process (the child's side): C3 or C2b."""
    sys.path.insert(0, str(HERE))
    import many

    from bayesff.runtime import configure

    configure()
    if name == "C3":
        return many.many_in_sweep(print)
    return many.many_sweep_problems(print)


def _child(name: str, cache: str) -> dict:
    env = {**os.environ, "BAYESFF_CACHE_DIR": cache}
    out = subprocess.run(
        [sys.executable, __file__, "--part", name],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    print(out.stdout.strip().splitlines()[-2], flush=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    if sys.argv[1] == "--part":
        res = part(sys.argv[2])
        print(json.dumps(res, default=float), flush=True)
        return
    res = {}
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        print("cold: C2b (calibrate_many), own empty cache", flush=True)
        res["cold_calibrate_many"] = _child("C2b", a)
        print("cold: C3 (sweep), own empty cache", flush=True)
        res["cold_sweep"] = _child("C3", b)
    with tempfile.TemporaryDirectory() as c:
        print("warm: C3 to fill a cache (not compared)", flush=True)
        res["fill"] = _child("C3", c)
        print("warm: C3 (sweep)", flush=True)
        res["warm_sweep"] = _child("C3", c)
        print("warm: C2b (calibrate_many)", flush=True)
        res["warm_calibrate_many"] = _child("C2b", c)
    for k in ("cold", "warm"):
        ratio = res[f"{k}_sweep"]["wall_s"] / res[f"{k}_calibrate_many"]["wall_s"]
        res[f"{k}_ratio"] = ratio
        print(
            f"{k}: sweep {res[f'{k}_sweep']['wall_s']:.1f} s, calibrate_many "
            f"{res[f'{k}_calibrate_many']['wall_s']:.1f} s, ratio {ratio:.2f}",
            flush=True,
        )
    Path(sys.argv[1]).write_text(json.dumps(res, indent=1, default=float))


if __name__ == "__main__":
    main()
