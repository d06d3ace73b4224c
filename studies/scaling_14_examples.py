"""Re-mapping OPLS-AA 1-4 scaling to AMBER (or CHARMM): when can per-atom factors do it?

What it shows: for chains, rings and fused/caged networks (united-atom heavy
atoms, UA, and all-atom, AA), the least-squares system ln f_i + ln f_j = b_ij
(LJ, epsilon_i' = epsilon_i f_i^2) and ln g_i + ln g_j = b_ij (Coulomb,
q_i' = q_i g_i) that makes AMBER's 1-4 factors (LJ 0.5, Coulomb 1/1.2)
reproduce OPLS-AA's (0.5, 0.5) intramolecular pair energies; its rank, RMS
residual (a relative pair-energy error) and diagnosis; and the Bayesian
irreducible residual sigma_res (90 % interval). Formulation and proofs:
docs/scaling_14.md. Run from the repository root:

    python -m studies.scaling_14_examples            # full table, about 1-2 minutes
    python -m studies.scaling_14_examples --no-bayes # least squares only, instant
    python -m studies.scaling_14_examples --to charmm  # OPLS-AA -> CHARMM (1.0, 1.0)

References: W. L. Jorgensen, D. S. Maxwell, J. Tirado-Rives, J. Am. Chem. Soc.
118, 11225 (1996), doi:10.1021/ja9621760 (OPLS-AA); W. D. Cornell et al.,
J. Am. Chem. Soc. 117, 5179 (1995), doi:10.1021/ja00124a002 (AMBER).
"""

from __future__ import annotations

import argparse

from bayesff.potentials.scaling import (
    CONVENTIONS,
    OPLS,
    Molecule,
    solve_remap,
    topological_distances,
)
from studies.remap import bayesian_remap


def decalin() -> Molecule:
    """Decalin heavy atoms: two fused 6-rings (naphthalene numbering, 4a = 4, 8a = 9)."""
    bonds = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 9), (9, 0)]
    bonds += [(4, 5), (5, 6), (6, 7), (7, 8), (8, 9)]
    return Molecule(["C"] * 10, bonds)


def adamantane() -> Molecule:
    """Adamantane heavy atoms: bridgeheads 0..3, a CH2 (4..9) on each bridgehead pair."""
    bonds, k = [], 4
    for i in range(4):
        for j in range(i + 1, 4):
            bonds += [(i, k), (j, k)]
            k += 1
    return Molecule(["C"] * 10, bonds)


def molecules() -> dict[str, Molecule]:
    """The examples: chains, rings, networks."""
    return {
        "butane (UA)": Molecule.chain(4),
        "pentane (UA)": Molecule.chain(5),
        "hexane (UA)": Molecule.chain(6),
        "ethane (AA)": Molecule.chain(2).with_hydrogens(),
        "butane (AA)": Molecule.chain(4).with_hydrogens(),
        "cyclohexane (UA)": Molecule.ring(6),
        "cycloheptane (UA)": Molecule.ring(7),
        "cyclooctane (UA)": Molecule.ring(8),
        "cyclohexane (AA)": Molecule.ring(6).with_hydrogens(),
        "decalin (UA)": decalin(),
        "adamantane (UA)": adamantane(),
    }


def table(
    bayes: bool = True, num_warmup: int = 500, num_samples: int = 1000, to: str = "amber"
) -> list[dict]:
    """One row per molecule and kind (LJ, Coulomb), OPLS-AA -> ``to`` (default AMBER)."""
    target = CONVENTIONS[to]
    rows = []
    for name, mol in molecules().items():
        for kind in ("lj", "coulomb"):
            res = solve_remap(mol, OPLS, target, kind)
            row = {
                "molecule": name,
                "kind": kind,
                "n_atoms": mol.n_atoms,
                "diameter": int(topological_distances(mol).max()),
                "n_pairs": res.n_equations,
                "rank": res.rank,
                "rms_residual": res.rms_residual,
                "consistent": res.consistent,
                "diagnosis": res.diagnosis,
            }
            if bayes:
                post = bayesian_remap(
                    mol, OPLS, target, kind, num_warmup=num_warmup, num_samples=num_samples
                )
                row["sigma_res_90"] = (post["sigma_res"]["q05"], post["sigma_res"]["q95"])
                row["sigma_res_identified"] = post["sigma_res_identified"]
            rows.append(row)
    return rows


def format_table(rows: list[dict]) -> str:
    """A Markdown table."""
    bayes = "sigma_res_90" in rows[0]
    head = "| molecule | kind | n atoms | diam. | n pairs | rank | RMS residual | diagnosis |"
    rule = "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"
    if bayes:
        head += " sigma_res 90 % |"
        rule += " --- |"
    lines = [head, rule]
    for r in rows:
        line = (
            f"| {r['molecule']} | {r['kind']} | {r['n_atoms']} | {r['diameter']} | "
            f"{r['n_pairs']} | {r['rank']} | {r['rms_residual']:.4f} | {r['diagnosis']} |"
        )
        if bayes:
            lo, hi = r["sigma_res_90"]
            note = "" if r["sigma_res_identified"] else " (prior: no redundant pair)"
            line += f" [{lo:.2g}, {hi:.2g}]{note} |"
        lines.append(line)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-bayes", action="store_true", help="least squares only")
    parser.add_argument("--num-warmup", type=int, default=500)
    parser.add_argument("--num-samples", type=int, default=1000)
    parser.add_argument("--to", choices=["amber", "charmm"], default="amber")
    args = parser.parse_args(argv)
    rows = table(not args.no_bayes, args.num_warmup, args.num_samples, args.to)
    print(format_table(rows))


if __name__ == "__main__":
    main()
