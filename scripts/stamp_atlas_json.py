"""Stamp an atlas.json written before its entries recorded their runs' problem fingerprint
and sampler settings, so that ``bayesff atlas SWEEP --previous atlas.json`` can carry its
entries over (bayesff.sweep.build_atlas).

A page shows a run only when the run file's fingerprint and settings are those of the sweep
file's task at the time the page is written (the rule by which a sweep skips a task). So an
entry of a page committed at COMMIT was made from the problem of its task in COMMIT's sweep
file; this script expands that sweep file (a temporary git worktree of COMMIT), builds each
task's problem as a sweep does, with the package as it is now (the fingerprint has not
changed since 2026-11-27, Problem.fingerprint), and writes each entry's ``fingerprint``
and ``settings``. It refuses a page that is not COMMIT's own (byte for byte), and
touches no entry that already has a fingerprint or has no results.

    python scripts/stamp_atlas_json.py reports/atlas/atlas.json --commit 3a82c63 \
        --sweep models/atlas/atlas.toml

Used once, on 2026-11-30, for the page of 2026-11-29 (docs/atlas.md).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bayesff.io import atomic_path
from bayesff.sweep import _prepare, expand

ROOT = Path(__file__).resolve().parent.parent


def _git(*args: str) -> bytes:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True).stdout


def stamps(commit: str, sweep: str) -> dict[str, tuple[str, str]]:
    """task -> (fingerprint, settings) of COMMIT's sweep file."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        _git("worktree", "add", "--detach", str(tree), commit)
        try:
            _, tasks = expand(tree / sweep)
            _prepare(tasks, log=print)  # the sweep's own fingerprint and settings stamp
            return {t.name: (t.fingerprint, t.settings) for t in tasks if not t.error}
        finally:
            _git("worktree", "remove", "--force", str(tree))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("page", help="the atlas.json to stamp (replaced)")
    ap.add_argument("--commit", required=True, help="the commit that wrote this page")
    ap.add_argument("--sweep", default="models/atlas/atlas.toml", help="relative to the repo")
    args = ap.parse_args(argv)
    page = Path(args.page)
    rel = page.resolve().relative_to(ROOT).as_posix()
    if page.read_bytes() != _git("show", f"{args.commit}:{rel}"):
        sys.exit(f"{page} is not the page committed at {args.commit}: not stamped")
    doc = json.loads(page.read_text(encoding="utf-8"))
    found = stamps(args.commit, args.sweep)
    n = 0
    for e in doc["entries"]:
        if e.get("fingerprint") or e.get("status") not in ("done", "skipped"):
            continue
        if e["task"] not in found:
            sys.exit(f"{e['task']}: no such task in {args.sweep} at {args.commit}")
        e["fingerprint"], e["settings"] = found[e["task"]]
        n += 1
    with atomic_path(page) as tmp:
        tmp.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    print(f"{page}: {n} of {len(doc['entries'])} entries stamped from {args.commit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
