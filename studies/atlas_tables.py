"""The verdict tables of docs/atlas.md, from the atlas's own files.

Reads ``reports/atlas/atlas.csv`` (written by ``bayesff sweep models/atlas/atlas.toml`` or
``bayesff atlas models/atlas/atlas.toml``) and ``runs/atlas/summary.csv`` (the tasks'
walls) and prints, per training set, one Markdown row per run: diagnostics, then the
verdict and P(all states within tolerance) of each held-out group (T transferable, U
uncertain, N not transferable; ``~`` marks a cell within its Monte Carlo error of a
threshold). Only what the atlas wrote is shown; a task without a run file is left out.

    python -m studies.atlas_tables                      # every form
    python -m studies.atlas_tables --potential lj       # one form
    python -m studies.atlas_tables --counts             # verdict counts per group
"""

from __future__ import annotations

import argparse
import csv
from collections import Counter
from pathlib import Path

#: Held-out groups in column order: (atlas.csv key, column heading).
GROUPS = (
    ("B2/low T", "B2 low T"),
    ("B2/high T", "B2 high T"),
    ("B2/B2", "B2 (all)"),
    ("rho_l/low T", "rho_l low T"),
    ("rho_l/high T", "rho_l high T"),
    ("p_sat/low T", "p_sat low T"),
    ("p_sat/high T", "p_sat high T"),
    ("rho_l/rho_l", "rho_l (all)"),
    ("p_sat/p_sat", "p_sat (all)"),
    ("rho_v/rho_v", "rho_v"),
    ("dH_vap/dH_vap", "dH_vap"),
    ("p/p", "dense p"),
    ("E_res/E_res", "dense E_res"),
)
LETTER = {"transferable": "T", "uncertain": "U", "not transferable": "N"}


def _cell(row: dict, key: str) -> str:
    verdict = row.get(f"verdict[{key}]", "")
    if not verdict:
        return ""
    p = row.get(f"p_all_within[{key}]", "")
    near = "~" if row.get(f"verdict_mc[{key}]", "").startswith("within") else ""
    return f"{LETTER.get(verdict, verdict)}{near} {float(p):.2f}" if p else LETTER[verdict]


def _read(path: Path) -> list[dict]:
    with path.open() as fh:
        return list(csv.DictReader(fh))


def table(rows: list[dict], walls: dict[str, str], training: str) -> list[str]:
    """Markdown lines of one training set's runs (groups no run has are left out)."""
    mine = [r for r in rows if r.get("training") == training and r.get("rhat_max")]
    groups = [(k, h) for k, h in GROUPS if any(r.get(f"verdict[{k}]") for r in mine)]
    head = ["task", "wall s", "R-hat", "bulk ESS", "div."] + [h for _, h in groups]
    out = [
        "| " + " | ".join(head) + " |",
        "| --- | " + " | ".join(["---:"] * 4 + ["---"] * len(groups)) + " |",
    ]
    for r in mine:
        wall = walls.get(r["task"], "")
        diag = [
            r["task"],
            f"{float(wall):.0f}" if wall else "",
            f"{float(r['rhat_max']):.3f}",
            f"{float(r['ess_bulk_min']):.0f}",
            r.get("divergences", ""),
        ]
        out.append("| " + " | ".join(diag + [_cell(r, k) for k, _ in groups]) + " |")
    return out


def counts(rows: list[dict]) -> list[str]:
    """Per training set and held-out group: how many runs got T, U and N."""
    out = []
    for training in sorted({r["training"] for r in rows if r.get("rhat_max")}):
        mine = [r for r in rows if r["training"] == training and r.get("rhat_max")]
        for key, head in GROUPS:
            c = Counter(LETTER.get(r.get(f"verdict[{key}]", ""), "") for r in mine)
            c.pop("", None)
            if c:
                out.append(f"{training:7s} {head:13s} " + " ".join(f"{k} {c[k]}" for k in "TUN"))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--atlas", type=Path, default=Path("reports/atlas/atlas.csv"))
    ap.add_argument("--summary", type=Path, default=Path("runs/atlas/summary.csv"))
    ap.add_argument("--potential", action="append", help="only these forms (repeatable)")
    ap.add_argument("--counts", action="store_true", help="verdict counts per group")
    args = ap.parse_args(argv)
    rows = _read(args.atlas)
    if args.potential:
        rows = [r for r in rows if r["potential"] in args.potential]
    walls = {}
    if args.summary.is_file():
        walls = {r["task"]: r.get("wall_time_s", "") for r in _read(args.summary)}
    if args.counts:
        print("\n".join(counts(rows)))
        return 0
    for training in ("B2", "VLE", "B2+VLE"):
        lines = table(rows, walls, training)
        if len(lines) > 2:
            print(f"\nTrained on {training}:\n")
            print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
