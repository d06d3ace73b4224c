"""1-4 scaling conventions: pair enumeration, the ln f / ln g system, its diagnosis.

References are hand derivations written in each docstring (L = ln(0.5 / (1/1.2))
= ln 0.6 is the OPLS -> AMBER Coulomb 1-4 right-hand side), graph theory
proved in docs/scaling_14.md, and, for the Bayesian version
(studies.remap, sampled by bayesff.calibrate), a 1-D quadrature of
the exact marginal posterior of sigma_res.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from bayesff.potentials.pair import lennard_jones
from bayesff.potentials.scaling import (
    AMBER,
    CHARMM,
    OPLS,
    Convention,
    Molecule,
    Pair,
    pair_classes,
    remap_system,
    solve_remap,
    topological_distances,
)
from studies.remap import bayesian_remap

L = math.log(0.6)  # OPLS -> AMBER Coulomb: ln(0.5 / (1 / 1.2))
# Least-squares solutions of these integer systems are exact to float64
# round-off (~1e-15 |L|); 1e-12 leaves a margin of 1000.
ATOL = 1e-12


def _load_examples():
    """studies/scaling_14_examples.py as a module (its molecule builders are used here;
    the hand-derived results below check them)."""
    from studies import scaling_14_examples

    return scaling_14_examples


EXAMPLES = _load_examples()
decalin = EXAMPLES.decalin
adamantane = EXAMPLES.adamantane


def test_butane_pair_counts():
    """United-atom butane C1-C2-C3-C4 by hand: 3 bonds, 2 angles (1-3), 1 dihedral (1-4)."""
    pc = pair_classes(Molecule.chain(4))
    assert pc == {
        "1-2": [(0, 1), (1, 2), (2, 3)],
        "1-3": [(0, 2), (1, 3)],
        "1-4": [(0, 3)],
        "nonbonded": [],
    }


def test_all_atom_butane_pair_counts():
    """C4H10 (acyclic, 14 atoms, 91 pairs) by hand.

    1-2 = 13 bonds; 1-3 = sum over atoms of C(degree, 2) = 4 carbons x 6 = 24;
    1-4 = sum over bonds of (deg_j - 1)(deg_k - 1) = 3 C-C bonds x 9 = 27
    (C-H bonds give 0); non-bonded = 91 - 13 - 24 - 27 = 27.
    """
    mol = Molecule.chain(4).with_hydrogens()
    assert mol.n_atoms == 14
    counts = {k: len(v) for k, v in pair_classes(mol).items()}
    assert counts == {"1-2": 13, "1-3": 24, "1-4": 27, "nonbonded": 27}


def test_rings_use_shortest_path():
    """In a 5-ring (0, 2) is 1-3 by one side and 1-4 by the other: shortest wins.

    So a 5-ring has 5 bonds, 5 1-3 pairs and nothing else; a 6-ring has its three
    para pairs as 1-4 (two paths of length 3, counted once).
    """
    pc5 = pair_classes(Molecule.ring(5))
    assert (len(pc5["1-2"]), len(pc5["1-3"]), pc5["1-4"], pc5["nonbonded"]) == (5, 5, [], [])
    assert pair_classes(Molecule.ring(6))["1-4"] == [(0, 3), (1, 4), (2, 5)]


def test_hexane_pair_counts_and_distances():
    """Chain of 6: 1-4 pairs (0,3),(1,4),(2,5); beyond: 1-5 (0,4),(1,5), 1-6 (0,5)."""
    mol = Molecule.chain(6)
    pc = pair_classes(mol)
    assert pc["1-4"] == [(0, 3), (1, 4), (2, 5)]
    assert pc["nonbonded"] == [(0, 4), (0, 5), (1, 5)]
    d = topological_distances(mol)
    np.testing.assert_array_equal(d, np.abs(np.subtract.outer(np.arange(6), np.arange(6))))


def test_disconnected_fragments_are_nonbonded():
    """Two ethane-like fragments: cross pairs have distance -1 and are non-bonded."""
    mol = Molecule(["C"] * 4, [(0, 1), (2, 3)])
    assert topological_distances(mol)[0, 2] == -1
    assert pair_classes(mol)["nonbonded"] == [(0, 2), (0, 3), (1, 2), (1, 3)]


@pytest.mark.parametrize(
    ("atoms", "bonds", "match"),
    [
        ([], [], "at least one atom"),
        (["C", "C"], [(0, 2)], r"atom index 2 out of range 0\.\.1 \(2 atoms\)"),
        (["C", "C"], [(-1, 0)], "atom index -1 out of range"),
        (["C", "C"], [(1, 1)], "bonds atom 1 to itself"),
        (["C", "C", "C"], [(0, 1), (1, 0)], r"bond 1 = \(1, 0\) duplicates bond 0 = \(0, 1\)"),
        (["C", "C"], [(0, 1.0)], "atom indices must be integers"),
        (["C", "C"], [(0, 1, 2)], "must be a pair of atom indices"),
        (["C", 6], [], "atom 1 must be a label string"),
    ],
)
def test_bad_molecules_are_rejected(atoms, bonds, match):
    with pytest.raises(ValueError, match=match):
        Molecule(atoms, bonds)


def test_bad_conventions_and_kinds_are_rejected():
    mol = Molecule.chain(4)
    with pytest.raises(ValueError, match=r"coulomb14 must be a finite number > 0, found 0\.0"):
        remap_system(mol, OPLS, Convention("none", 0.5, 0.0))
    with pytest.raises(ValueError, match="unknown convention 'gromos'"):
        remap_system(mol, "gromos", AMBER)
    with pytest.raises(ValueError, match="kind must be one of"):
        remap_system(mol, OPLS, AMBER, kind="vdw")
    with pytest.raises(ValueError, match="valence 4"):
        Molecule(["C"] * 6, [(0, k) for k in range(1, 6)]).with_hydrogens()


def test_convention_values():
    """GROMACS [defaults] fudgeLJ / fudgeQQ of oplsaa.ff, amber99.ff, charmm27.ff."""
    assert (OPLS.lj14, OPLS.coulomb14) == (0.5, 0.5)
    assert AMBER.lj14 == 0.5 and AMBER.coulomb14 == pytest.approx(0.8333, abs=1e-4)
    assert (CHARMM.lj14, CHARMM.coulomb14) == (1.0, 1.0)


# --------------------------------------------------------------------------- the linear system


def test_system_rows_for_butane():
    """Butane: one row, x0 + x3 = ln(0.5 / 0.8333) for Coulomb, 0 for LJ (0.5 / 0.5)."""
    M, b, pairs = remap_system(Molecule.chain(4), OPLS, AMBER, kind="coulomb")
    np.testing.assert_array_equal(M, [[1.0, 0.0, 0.0, 1.0]])
    np.testing.assert_allclose(b, [L], rtol=1e-15)
    assert pairs == (Pair(0, 3, "1-4"),)
    np.testing.assert_array_equal(remap_system(Molecule.chain(4), "opls", "amber", "lj").b, [0])


def test_butane_chain_exact_by_hand():
    """x0 + x3 = L, atoms 1, 2 free: minimum norm x = (L/2, 0, 0, L/2), g_end = sqrt(0.6)."""
    res = solve_remap(Molecule.chain(4), OPLS, AMBER, "coulomb")
    np.testing.assert_allclose(res.log_factors, [L / 2, 0, 0, L / 2], atol=ATOL)
    np.testing.assert_allclose(res.factors, [math.sqrt(0.6), 1, 1, math.sqrt(0.6)], atol=ATOL)
    assert (res.rank, res.n_unknowns, res.n_equations) == (1, 4, 1)
    assert res.consistent and res.diagnosis == "under-determined"
    assert res.residual_pairs == ()


def test_pentane_chain_exact_by_hand():
    """Pentane: x0 + x3 = L, x1 + x4 = L (1-4), x0 + x4 = 0 (1-5); atom 2 in no pair.

    Solutions x = (t, L + t, 0, L - t, -t); the norm is smallest at t = 0, so
    g = (1, 0.6, 1, 0.6, 1).
    """
    res = solve_remap(Molecule.chain(5), OPLS, AMBER, "coulomb")
    np.testing.assert_allclose(res.factors, [1, 0.6, 1, 0.6, 1], atol=ATOL)
    assert (res.rank, res.n_equations, res.diagnosis) == (3, 3, "under-determined")
    assert res.max_abs_residual < ATOL


def test_seven_ring_is_exact():
    """7-ring: every non-excluded pair is 1-4 (i, i+3), an odd 7-cycle: unique x = L/2."""
    res = solve_remap(Molecule.ring(7), OPLS, AMBER, "coulomb")
    assert (res.rank, res.n_equations, res.diagnosis) == (7, 7, "exact")
    np.testing.assert_allclose(res.factors, np.full(7, math.sqrt(0.6)), atol=ATOL)


def test_hexane_chain_inconsistent_by_hand():
    """Hexane: the 4-cycle 0-4-1-5 of the interaction graph carries an inconsistency.

    Rows: x0+x3 = L, x1+x4 = L, x2+x5 = L, x0+x4 = 0, x0+x5 = 0, x1+x5 = 0. The
    graph is bipartite ({0,1,2} | {3,4,5}), connected: rank 5. Its left null
    space is y = (+1 on 04, -1 on 14, +1 on 15, -1 on 05), and y.b = -L, so the
    least-squares residual is (y.b / y.y) y: -L/4 on 04 and 15, +L/4 on 14 and
    05, 0 on 03 and 25; RMS over 6 pairs = |L| / (2 sqrt 6).
    """
    res = solve_remap(Molecule.chain(6), OPLS, AMBER, "coulomb")
    assert (res.rank, res.n_unknowns, res.n_equations) == (5, 6, 6)
    assert not res.consistent and res.diagnosis == "inconsistent"
    by_pair = {(p.i, p.j): r for p, r in zip(res.pairs, res.residual, strict=True)}
    expected = {(0, 3): 0, (2, 5): 0, (0, 4): -L / 4, (1, 5): -L / 4, (1, 4): L / 4, (0, 5): L / 4}
    for key, value in expected.items():
        assert by_pair[key] == pytest.approx(value, abs=ATOL)
    assert {(p.i, p.j) for p in res.residual_pairs} == {(0, 4), (1, 4), (1, 5), (0, 5)}
    assert res.rms_residual == pytest.approx(abs(L) / (2 * math.sqrt(6)), rel=1e-12)


def test_eight_ring_inconsistent_by_hand():
    """8-ring: 8 pairs 1-4 (i, i+3) and 4 pairs 1-5 (i, i+4); non-bipartite, rank 8.

    The unique least-squares x is invariant under the ring's rotations, so
    x = c: minimise 8 (2c - L)^2 + 4 (2c)^2 -> c = L/3, g = 0.6^(1/3). Residuals
    L/3 (1-4) and -2L/3 (1-5); RMS = sqrt((8/9 + 16/9) L^2 / 12) = sqrt(2) |L| / 3.
    """
    res = solve_remap(Molecule.ring(8), OPLS, AMBER, "coulomb")
    assert (res.rank, res.n_unknowns, res.n_equations, res.redundancy) == (8, 8, 12, 4)
    assert res.diagnosis == "inconsistent"
    np.testing.assert_allclose(res.factors, np.full(8, 0.6 ** (1 / 3)), atol=ATOL)
    expected = [L / 3 if p.cls == "1-4" else -2 * L / 3 for p in res.pairs]
    np.testing.assert_allclose(res.residual, expected, atol=ATOL)
    assert res.rms_residual == pytest.approx(math.sqrt(2) * abs(L) / 3, rel=1e-12)


def test_consistent_network_over_determined():
    """Adamantane (diameter 4) by hand: 12 1-4 pairs (each bridgehead with the 3 CH2
    not bonded to it), x_bh + x_CH2 = L, and 3 1-5 pairs (opposite CH2),
    x_CH2 + x_CH2' = 0. Naming CH2 by its bridgeheads, (ab)-(cd)-a-(bc)-d-(ab) is
    an odd cycle, so rank 10 and the unique solution is x_CH2 = 0, x_bh = L:
    g = 0.6 on the bridgeheads, 1 on the CH2."""
    res = solve_remap(adamantane(), OPLS, AMBER, "coulomb")
    np.testing.assert_allclose(res.factors, [0.6] * 4 + [1.0] * 6, atol=ATOL)
    assert (res.rank, res.n_equations, res.diagnosis) == (
        10,
        15,
        "over-determined and consistent",
    )
    assert res.max_abs_residual < ATOL


def _bipartite_components(n: int, edges) -> int:
    """Count bipartite components (isolated vertices included) by 2-colouring."""
    adj = [[] for _ in range(n)]
    for i, j in edges:
        adj[i].append(j)
        adj[j].append(i)
    colour, count = [-1] * n, 0
    for s in range(n):
        if colour[s] >= 0:
            continue
        colour[s], stack, ok = 0, [s], True
        while stack:
            u = stack.pop()
            for v in adj[u]:
                if colour[v] < 0:
                    colour[v] = 1 - colour[u]
                    stack.append(v)
                elif colour[v] == colour[u]:
                    ok = False
        count += ok
    return count


MOLECULES = {
    **{f"chain{n}": Molecule.chain(n) for n in range(1, 11)},
    **{f"ring{n}": Molecule.ring(n) for n in range(3, 13)},
    **{f"chain{n}_aa": Molecule.chain(n).with_hydrogens() for n in range(1, 6)},
    **{f"ring{n}_aa": Molecule.ring(n).with_hydrogens() for n in range(3, 8)},
    "decalin": decalin(),
    "adamantane": adamantane(),
    "two_fragments": Molecule(["C"] * 8, [(0, 1), (1, 2), (2, 3), (4, 5), (5, 6), (6, 7)]),
}


@pytest.mark.parametrize("name", sorted(MOLECULES))
def test_rank_is_n_minus_bipartite_components(name):
    """rank of the unsigned incidence matrix = n - (number of bipartite components).

    Proof in docs/scaling_14.md; checked here against an independent 2-colouring.
    """
    mol = MOLECULES[name]
    res = solve_remap(mol, OPLS, AMBER, "coulomb")
    edges = [(p.i, p.j) for p in res.pairs]
    assert res.rank == mol.n_atoms - _bipartite_components(mol.n_atoms, edges)


@pytest.mark.parametrize("name", sorted(MOLECULES))
def test_diameter_decides_except_at_four(name):
    """Connected molecules of topological diameter <= 3 are consistent (x = L/2 on
    every atom in a pair), of diameter >= 5 inconsistent (the 4-cycle of a
    geodesic of 6 atoms); see docs/scaling_14.md. The one disconnected case here,
    two butanes, is inconsistent: the unscaled cross pairs give x = L/2 on one
    butane's 1-4 atoms and x = -L/2 on the other's, whose 1-4 row needs +L."""
    mol = MOLECULES[name]
    d = topological_distances(mol)
    res = solve_remap(mol, OPLS, AMBER, "coulomb")
    if (d < 0).any():
        assert not res.consistent
    elif d.max() <= 3:
        assert res.consistent
    elif d.max() >= 5:
        assert not res.consistent


def test_lj_opls_to_amber_is_trivial_and_charmm_scales_linearly():
    """LJ 1-4 is 0.5 in OPLS and AMBER: b = 0 and f = 1 is exact. OPLS -> CHARMM has
    b14 = ln 0.5; b is linear in b14, so the residual is the Coulomb one times
    ln 0.5 / ln 0.6."""
    mol = Molecule.chain(6)
    lj = solve_remap(mol, OPLS, AMBER, "lj")
    assert lj.consistent and np.allclose(lj.factors, 1.0, atol=ATOL)
    assert lj.diagnosis == "under-determined"  # bipartite: x + t(1,1,1,-1,-1,-1) also solves
    ch = solve_remap(mol, OPLS, CHARMM, "lj")
    co = solve_remap(mol, OPLS, AMBER, "coulomb")
    np.testing.assert_allclose(ch.residual, co.residual * math.log(0.5) / L, atol=ATOL)


def test_intermolecular_pairs_force_f_to_one():
    """With a second copy of butane, rows 2 x_i = 0 pin every x_i to 0: the 1-4 row
    x0 + x3 = L can no longer hold, while LJ OPLS -> AMBER (b = 0) still can."""
    mol = Molecule.chain(4)
    res = solve_remap(mol, OPLS, AMBER, "coulomb", intermolecular=True)
    assert res.n_equations == 1 + 10 and res.rank == 4
    assert res.diagnosis == "inconsistent"
    assert solve_remap(mol, OPLS, AMBER, "lj", intermolecular=True).consistent


@pytest.mark.parametrize("name", ["chain5", "ring7", "adamantane"])
def test_consistent_remap_reproduces_pair_energies(name):
    """End to end: random eps_i, sigma_i, q_i, distances; the OPLS energy of every
    pair equals the AMBER energy with eps_i f_i^2 and q_i g_i (geometric epsilon,
    Lorentz sigma kept fixed per pair). Coulomb constant 1389.35 kJ/mol A / e^2;
    it cancels in the comparison."""
    mol = MOLECULES[name]
    rng = np.random.default_rng(0)
    n = mol.n_atoms
    eps, sig, q = rng.uniform(0.2, 1.0, n), rng.uniform(3.0, 4.0, n), rng.normal(0.0, 0.4, n)
    f = solve_remap(mol, OPLS, AMBER, "lj").factors
    g = solve_remap(mol, OPLS, AMBER, "coulomb").factors
    pc = pair_classes(mol)

    def energies(conv, eps, q):
        out = []
        for cls in ("1-4", "nonbonded"):
            for i, j in pc[cls]:
                r = 2.5 + i + j / 10.0
                s_lj, s_c = (conv.lj14, conv.coulomb14) if cls == "1-4" else (1.0, 1.0)
                e_lj = float(lennard_jones(r, np.sqrt(eps[i] * eps[j]), (sig[i] + sig[j]) / 2))
                out.append(s_lj * e_lj + s_c * 1389.35 * q[i] * q[j] / r)
        return np.array(out)

    np.testing.assert_allclose(
        energies(AMBER, eps * f**2, q * g), energies(OPLS, eps, q), rtol=1e-12, atol=1e-12
    )


# --------------------------------------------------------------------------- Bayesian


def _sigma_quadrature_cdf(mol, kind, *, s=1.0, tau=0.5, floor=1e-3):
    """Exact marginal posterior CDF of sigma_res on a grid, independent of the SVD path.

    b ~ N(0, s^2 M M^T + (sigma^2 + floor^2) I) after integrating x out, times
    the HalfNormal(tau) prior; trapezoid rule on 4000 log-spaced points in
    [1e-7, 6 tau] (the prior mass above 6 tau is 2e-9).
    """
    M, b, _ = remap_system(mol, OPLS, AMBER, kind)
    grid = np.geomspace(1e-7, 6 * tau, 4000)
    base = s**2 * M @ M.T
    logp = np.array(
        [
            stats.multivariate_normal.logpdf(b, cov=base + (g**2 + floor**2) * np.eye(len(b)))
            for g in grid
        ]
    ) + stats.halfnorm.logpdf(grid, scale=tau)
    p = np.exp(logp - logp.max())
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (p[1:] + p[:-1]) * np.diff(grid))])
    return grid, cdf / cdf[-1]


def _check_against_quadrature(mol, out, kind="coulomb"):
    """Reference CDF at the sampled quantiles within 4 Monte Carlo standard errors.

    The standard error of a quantile's CDF level is sqrt(q (1 - q) / ESS) with
    ESS the effective sample size of the draws (numpyro's estimator).
    """
    from numpyro.diagnostics import effective_sample_size

    grid, cdf = _sigma_quadrature_cdf(mol, kind)
    st = out["settings"]
    draws = out["samples"]["sigma_res"].reshape(st["num_chains"], st["num_samples"])
    ess = float(effective_sample_size(draws))
    assert ess > 200
    for q in (0.05, 0.5, 0.95):
        level = np.interp(out["sigma_res"][f"q{round(100 * q):02d}"], grid, cdf)
        assert abs(level - q) < 4 * math.sqrt(q * (1 - q) / ess), (q, level, ess)
    return grid, cdf


@pytest.mark.slow
def test_bayesian_ring_has_irreducible_residual():
    """8-ring, inconsistent: sigma_res concentrates near sqrt(RSS / (m - rank)) =
    sqrt((8/3) L^2 / 4) = 0.417 (least squares above), far from the floor 1e-3;
    the posterior mean of ln g is L/3 up to shrinkage by the N(0, 1) prior,
    a relative 1 / (1 + S^2 / sigma^2) ~ 3 % for the uniform mode (S^2 = 6),
    within Monte Carlo error."""
    mol = Molecule.ring(8)
    out = bayesian_remap(mol, OPLS, AMBER, "coulomb", seed=1)
    _check_against_quadrature(mol, out)
    assert out["sigma_res"]["q05"] > 0.2
    assert out["redundancy"] == 4 and out["sigma_res_identified"]
    assert out["num_divergences"] == 0
    # Per-atom posterior sd of ln g ~ sigma sqrt((M^T M)^-1_ii) ~ 0.33: 4 Monte Carlo
    # standard errors over the draws plus the ~3 % shrinkage bias.
    n_draws = out["samples"]["sigma_res"].size
    tol = 4 * out["log_factor_sd"] / math.sqrt(n_draws) + 0.03 * abs(L / 3)
    assert np.all(np.abs(out["log_factor_mean"] - L / 3) < tol)


@pytest.mark.slow
def test_bayesian_consistent_chain_has_no_residual():
    """All-atom ethane (a 2-carbon chain), consistent with 4 redundant pairs (K3,3 of
    H-H 1-4 pairs): the posterior of sigma_res ~ prior x (sigma^2 + floor^2)^-2
    stays within a few times the floor 1e-3; q95 < 5e-3 is checked against the
    quadrature (its q95 is ~2e-3). Each H's ln g is L/2."""
    mol = Molecule.chain(2).with_hydrogens()
    out = bayesian_remap(mol, OPLS, AMBER, "coulomb", seed=2)
    _check_against_quadrature(mol, out)
    assert out["sigma_res"]["q95"] < 5e-3
    assert out["num_divergences"] == 0
    # The H-H system is bipartite (rank 5 of 6): only x_i + x_j = L is pinned.
    x = out["log_factor_mean"]
    np.testing.assert_allclose(x[2:5, None] + x[None, 5:8], L, atol=0.01)


@pytest.mark.slow
def test_bayesian_tree_of_pairs_leaves_sigma_at_prior():
    """Butane (one 1-4 pair, m = rank = 1): no redundant pair, so the data say
    nothing about sigma_res; its posterior is (nearly) the HalfNormal(0.5) prior,
    q95 ~ 0.98, and it must not be read as 'consistent' or 'inconsistent'."""
    mol = Molecule.chain(4)
    out = bayesian_remap(mol, OPLS, AMBER, "coulomb", seed=3)
    assert not out["sigma_res_identified"]
    _check_against_quadrature(mol, out)
    assert out["sigma_res"]["q95"] > 0.5
    # the funnel of sampling ln g and sigma_res together (ln g pinned to sigma_res where the
    # data speak) is removed by integrating half of ln g's prior out (studies.remap)
    assert out["num_divergences"] == 0


def test_bayesian_rejects_bad_settings():
    with pytest.raises(ValueError, match="sigma_floor must be finite and > 0"):
        bayesian_remap(Molecule.chain(4), OPLS, AMBER, sigma_floor=0.0)
    with pytest.raises(ValueError, match="num_samples must be a positive integer"):
        bayesian_remap(Molecule.chain(4), OPLS, AMBER, num_samples=0)


# --------------------------------------------------------------------------- example


def test_example_script_runs():
    """studies/scaling_14_examples.py runs (deterministic table only, no NUTS)."""
    rows = EXAMPLES.table(bayes=False)
    by_name = {(r["molecule"], r["kind"]): r for r in rows}
    assert by_name[("butane (UA)", "coulomb")]["diagnosis"] == "under-determined"
    assert by_name[("cyclooctane (UA)", "coulomb")]["diagnosis"] == "inconsistent"
    assert all(r["consistent"] for r in rows if r["kind"] == "lj")
