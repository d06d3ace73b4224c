"""Issue 29: bayesff sweep (C3) against calibrate_many (C2b) on the same 20 problems,
C3 first with an empty compile cache. Run: BAYESFF_CACHE_DIR=$(mktemp -d) python
benchmarks/many_sweep_vs_batch.py OUT.json (parts of benchmarks/many.py)."""

import json
import sys

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
import many


def main():
    from bayesff.runtime import configure

    configure()
    res = {}
    print("C3 (first, empty compile cache)", flush=True)
    res["sweep_20"] = many.many_in_sweep(print)
    print(json.dumps(res, default=float), flush=True)
    print("C2b (second: finds C3's compiled programs in the cache)", flush=True)
    res["calibrate_many_sweep_problems_20"] = many.many_sweep_problems(print)
    print(json.dumps(res, default=float), flush=True)
    open(sys.argv[1], "w").write(json.dumps(res, indent=1, default=float))


if __name__ == "__main__":
    main()
