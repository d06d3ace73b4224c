"""Energy, virial and tail corrections of molecular configurations (issue 31 items 1, 8)."""

from __future__ import annotations

import dataclasses
import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads
from scipy.spatial import cKDTree

from bayesff.errors import ProblemError
from bayesff.potentials import forcefield as ff
from bayesff.potentials.topology import SCALING, TRAPPE_UA_ALKANE, trappe_topology
from bayesff.simulate.molecules import lattice_configuration
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K as R_GAS
from bayesff.units import KJ_PER_MOL_PER_A3_IN_MPA

PUB = TRAPPE_UA_ALKANE.published_parameters()
PARAMS = {k: PUB[k] for k in ("epsilon_CH3", "sigma_CH3", "epsilon_CH2", "sigma_CH2")}


def _configuration(carbons_counts, r_cut=7.0, tail=False, seed=3):
    """Molecules in all-trans geometry on a lattice at ~450 kg/m^3, each site then
    displaced at random by 0.15 angstrom (so angles and torsions are not at their
    minima and the bonds are slightly off, which the energies must not care about)."""
    topo = trappe_topology(sorted({c for c, _ in carbons_counts}), r_cut_angstrom=r_cut, tail=tail)
    names = {m.n_sites: m.name for m in topo.molecules}
    system = ff.System(topo, tuple((names[c], n) for c, n in carbons_counts))
    R, box = lattice_configuration(system, 450.0, seed=seed)
    R = R + np.random.default_rng(seed).normal(scale=0.15, size=R.shape)
    return system, R, box


def _lj(r, eps, sig):
    s6 = (sig / r) ** 6
    return 4 * eps * (s6 * s6 - s6), 4 * eps * (-12 * s6 * s6 + 6 * s6) / r


def _numpy_reference(system, R, box, params, chain_lengths):
    """Independent double loop: LJ over every pair of sites i < j of different
    molecules, or of one chain more than three bonds apart (|i - j| > 3 on a linear
    chain), minimum image, truncated at r_c; harmonic angles; the TraPPE torsion in
    its published cosine form with the arccos dihedral; the molecular virial
    sum u'(r) r_ij . R_IJ / r over intermolecular pairs, R_IJ the centre-of-mass
    separation (molecules made whole first)."""
    topo = system.topology
    rc = topo.r_cut_angstrom
    types = ["CH3" if k in (0, n - 1) else "CH2" for n in chain_lengths for k in range(n)]
    mol = np.concatenate([[m] * n for m, n in enumerate(chain_lengths)])
    local = np.concatenate([np.arange(n) for n in chain_lengths])
    mass = np.array([15.035 if t == "CH3" else 14.027 for t in types])
    eps = {t: params[f"epsilon_{t}"] for t in ("CH3", "CH2")}
    sig = {t: params[f"sigma_{t}"] for t in ("CH3", "CH2")}
    starts = np.cumsum([0, *chain_lengths])
    whole = R.copy()
    for m in range(len(chain_lengths)):
        sl = slice(starts[m], starts[m + 1])
        d = R[sl] - R[starts[m]]
        whole[sl] = R[starts[m]] + d - box * np.round(d / box)
    com = np.array(
        [
            np.sum(mass[starts[m] : starts[m + 1], None] * whole[starts[m] : starts[m + 1]], 0)
            / mass[starts[m] : starts[m + 1]].sum()
            for m in range(len(chain_lengths))
        ]
    )
    u_nb = 0.0
    w = 0.0
    n = len(R)
    for i in range(n):
        for j in range(i + 1, n):
            if mol[i] == mol[j] and abs(local[i] - local[j]) <= 3:
                continue
            d = whole[i] - whole[j]
            shift = box * np.round(d / box)
            d = d - shift
            r = math.sqrt(d @ d)
            if r >= rc:
                continue
            e = math.sqrt(eps[types[i]] * eps[types[j]])
            s = 0.5 * (sig[types[i]] + sig[types[j]])
            u, du = _lj(r, e, s)
            u_nb += u
            if mol[i] != mol[j]:
                w += du * (d @ (com[mol[i]] - com[mol[j]] - shift)) / r
    u_angle = u_tors = 0.0
    k_theta = 62500.0 * R_GAS
    c1, c2, c3 = (x * R_GAS for x in (355.03, -68.19, 791.32))
    for m, nc in enumerate(chain_lengths):
        x = whole[starts[m] : starts[m + 1]]
        for k in range(nc - 2):
            u1, u2 = x[k] - x[k + 1], x[k + 2] - x[k + 1]
            theta = math.acos(u1 @ u2 / math.sqrt((u1 @ u1) * (u2 @ u2)))
            u_angle += 0.5 * k_theta * (theta - math.radians(114.0)) ** 2
        for k in range(nc - 3):
            b1, b2, b3 = x[k + 1] - x[k], x[k + 2] - x[k + 1], x[k + 3] - x[k + 2]
            n1, n2 = np.cross(b1, b2), np.cross(b2, b3)
            phi = math.acos(np.clip(n1 @ n2 / math.sqrt((n1 @ n1) * (n2 @ n2)), -1, 1))
            u_tors += c1 * (1 + math.cos(phi)) + c2 * (1 - math.cos(2 * phi))
            u_tors += c3 * (1 + math.cos(3 * phi))
    return u_nb, u_angle, u_tors, w


def test_energy_and_virial_against_a_numpy_double_loop():
    """12 butanes and 5 hexanes (68 sites, r_c = 7 angstrom): each term of the JAX
    energy and the molecular virial equal an independent NumPy double loop
    (_numpy_reference) to 1e-8 relative (both float64; the measured agreement is
    ~1e-14, the tolerance is the issue's)."""
    system, R, box = _configuration([(4, 12), (6, 5)])
    ref_nb, ref_angle, ref_tors, ref_w = _numpy_reference(
        system, R, box, PARAMS, [4] * 12 + [6] * 5
    )
    t = jax.jit(partial(ff.energy_terms, system))(R, box, PARAMS)
    assert float(t.nonbonded) == pytest.approx(ref_nb, rel=1e-8)
    assert float(t.angles) == pytest.approx(ref_angle, rel=1e-8)
    assert float(t.torsions) == pytest.approx(ref_tors, rel=1e-8)
    assert float(t.pairs14) == 0.0 and float(t.bonds) == 0.0 and float(t.tail) == 0.0
    assert float(t.total) == pytest.approx(ref_nb + ref_angle + ref_tors, rel=1e-8)
    w = float(jax.jit(partial(ff.molecular_virial, system))(R, box, PARAMS))
    assert w == pytest.approx(ref_w, rel=1e-8)


def test_butane_has_no_intramolecular_lj_and_pentane_one_pair():
    """Hand count: one isolated butane has no LJ at all under TraPPE (every pair within
    three bonds); one pentane's only LJ pair is (0, 4), so its nonbonded energy is
    exactly u_CH3-CH3(r_04)."""
    topo = trappe_topology([4, 5])
    rng = np.random.default_rng(0)
    butane = ff.System(topo, (("n-butane", 1),))
    x = rng.normal(scale=1.5, size=(4, 3))
    assert float(ff.energy_terms(butane, x, None, PARAMS).nonbonded) == 0.0
    pentane = ff.System(topo, (("n-pentane", 1),))
    x = rng.normal(scale=2.0, size=(5, 3))
    r04 = np.linalg.norm(x[0] - x[4])
    expected = _lj(r04, PARAMS["epsilon_CH3"], PARAMS["sigma_CH3"])[0]
    assert float(ff.energy_terms(pentane, x, None, PARAMS).nonbonded) == pytest.approx(
        expected, rel=1e-13
    )


@pytest.mark.parametrize(
    ("form", "rule", "scaling"),
    [
        ("lj", "lorentz_berthelot", "trappe"),
        ("lj", "geometric", "opls"),
        ("mie", "lorentz_berthelot", "amber"),
    ],
)
def test_energy_against_openmm_reference_platform(form, rule, scaling):
    """The same configuration in OpenMM (Reference platform, double precision):
    total energies equal to 1e-8 relative, for TraPPE LJ (NonbondedForce), a
    geometric rule with OPLS 1-4 scaling and Mie 16-6/14-6 with AMBER 1-4 scaling
    (CustomNonbondedForce and CustomBondForce), liquid and isolated molecule. No tail
    here (OpenMM's mixture tail differs by O(1/N): test_tail_*)."""
    pytest.importorskip("openmm", reason="OpenMM is not installed (optional extra 'molecular')")
    from bayesff.simulate.engines.openmm_engine import potential_energy

    system, R, box = _configuration([(4, 10), (6, 6)])
    mols = tuple(
        dataclasses.replace(m, scaling=SCALING[scaling]) for m in system.topology.molecules
    )
    topo = dataclasses.replace(system.topology, molecules=mols, form=form, combining_rule=rule)
    system = ff.System(topo, system.counts)
    p = dict(PARAMS)
    if form == "mie":
        p |= {"n_CH3": 16.0, "m_CH3": 6.0, "n_CH2": 14.0, "m_CH2": 6.0}
    e = float(jax.jit(partial(ff.energy, system))(R, box, p))
    assert e == pytest.approx(potential_energy(system, p, R, box), rel=1e-8)
    one = ff.System(topo, (("n-hexane", 1),))
    x = R[40:46]
    assert float(jax.jit(partial(ff.energy, one, box=None))(x, params=p)) == pytest.approx(
        potential_energy(one, p, x, None), rel=1e-8
    )


def test_tail_corrections_against_the_closed_form():
    """LJ tail corrections (Allen and Tildesley, Computer Simulation of Liquids, 2nd ed.
    2017, eqs. 2.143-2.144): U_tail = (8/3) pi N rho eps sigma^3 [(1/3)(sigma/r_c)^9 -
    (sigma/r_c)^3] and p_tail = (16/3) pi rho^2 eps sigma^3 [(2/3)(sigma/r_c)^9 -
    (sigma/r_c)^3], for every pair of site types with Lorentz-Berthelot parameters
    and the pair counts N_a N_b (rho = N/V summed likewise); to 1e-12 relative (the
    quadrature of cutoff.tail_correction is exact for LJ up to rounding)."""
    topo = trappe_topology([4, 6], r_cut_angstrom=11.0, tail=True)
    system = ff.System(topo, (("n-butane", 30), ("n-hexane", 20)))
    V = 40.0**3
    u, p = ff.tail(system, PARAMS, V)
    counts = {"CH3": 2 * 50, "CH2": 2 * 30 + 4 * 20}
    u_ref = p_ref = 0.0
    rc = 11.0
    for a, na in counts.items():
        for b, nb in counts.items():
            e = math.sqrt(PARAMS[f"epsilon_{a}"] * PARAMS[f"epsilon_{b}"])
            s = 0.5 * (PARAMS[f"sigma_{a}"] + PARAMS[f"sigma_{b}"])
            x = s / rc
            u_ref += (8 / 3) * math.pi * na * (nb / V) * e * s**3 * (x**9 / 3 - x**3)
            p_ref += (16 / 3) * math.pi * (na * nb / V**2) * e * s**3 * (2 * x**9 / 3 - x**3)
    assert float(u) == pytest.approx(u_ref, rel=1e-12)
    assert float(p) == pytest.approx(p_ref * KJ_PER_MOL_PER_A3_IN_MPA, rel=1e-12)
    # inside energy_terms, at the box volume
    R = np.zeros((system.n_sites, 3))
    box = np.full(3, 40.0)
    assert float(ff.energy_terms(system, R + 0.0, box, PARAMS).tail) == pytest.approx(
        u_ref, rel=1e-12
    )


def test_tail_of_one_site_type_equals_openmm_dispersion_correction():
    """For a single site type (the LJ fluid: methane sites) OpenMM's dispersion
    correction 8 pi N^2/V [sigma^12 eps/(9 r_c^9) - sigma^6 eps/(3 r_c^3)] and
    bayesff's tail are the same formula: energies with and without the tail differ by
    the same amount in both, to 1e-9 relative of the tail."""
    pytest.importorskip("openmm", reason="OpenMM is not installed (optional extra 'molecular')")
    from bayesff.simulate.engines.openmm_engine import potential_energy

    e0 = eo0 = None
    for tail in (False, True):
        topo = trappe_topology([1], r_cut_angstrom=9.0, tail=tail)
        system = ff.System(topo, (("methane", 64),))
        p = {"epsilon_CH4": PUB["epsilon_CH4"], "sigma_CH4": PUB["sigma_CH4"]}
        rng = np.random.default_rng(1)
        R = (np.indices((4, 4, 4)).reshape(3, -1).T + 0.5) * 5.0 + rng.normal(0, 0.2, (64, 3))
        box = np.full(3, 20.0)
        e = float(jax.jit(partial(ff.energy, system))(R, box, p))
        eo = potential_energy(system, p, R, box)
        if tail:
            tail_j = float(ff.tail(system, p, 20.0**3)[0])
            assert (e - e0) == pytest.approx(tail_j, rel=1e-12)
            assert (eo - eo0) == pytest.approx(tail_j, rel=1e-9)
        e0, eo0 = e, eo


def test_neighbour_pairs_give_the_all_pairs_energy():
    """A candidate list within r_c + 1 angstrom (scipy's periodic k-d tree), padded
    with the sentinel N as jax-md's OrderedSparse list is, gives the all-pairs energy
    to 1e-12: padding and candidates beyond r_c are masked, not counted."""
    system, R, box = _configuration([(4, 12), (6, 5)])
    tree = cKDTree(np.mod(R, box), boxsize=box)
    pairs = tree.query_pairs(system.topology.r_cut_angstrom + 1.0, output_type="ndarray").T
    pad = np.full((2, 37), system.n_sites)
    padded = np.concatenate([pairs, pad], axis=1).astype(np.int32)
    energy = jax.jit(partial(ff.energy, system))
    e_all = float(energy(R, box, PARAMS))
    e_nl = float(energy(R, box, PARAMS, padded))
    assert e_nl == pytest.approx(e_all, rel=1e-12)


def test_gradients_match_finite_differences():
    """jax.grad of the energy (with tail) in every nonbonded parameter and in the
    positions, and of the molecular pressure in the parameters, against central
    differences (jax.test_util.check_grads, order 1, float64: its default step and
    tolerance)."""
    system, R, box = _configuration([(4, 6), (6, 4)], tail=True, r_cut=6.5)
    p = {k: jnp.asarray(v) for k, v in PARAMS.items()}
    energy = jax.jit(partial(ff.energy, system))
    check_grads(lambda q: energy(R, box, q), (p,), order=1, modes=["fwd", "rev"])
    check_grads(lambda x: energy(x, box, p), (jnp.asarray(R),), order=1, modes=["rev"])
    pressure = jax.jit(partial(ff.molecular_pressure, system))
    check_grads(lambda q: pressure(R, box, q, 300.0), (p,), order=1, modes=["rev"])


def test_virial_is_the_volume_derivative_of_the_energy():
    """W = dU/dlambda under molecular scaling: the pressure's configurational part
    equals -dU/dV of the scaled configuration by central differences (h = 1e-6,
    agreement to 1e-6 relative: the difference quotient's truncation error is
    O(h^2) and its rounding ~1e-16 |U| / h)."""
    system, R, box = _configuration([(4, 8), (6, 4)])
    a = system.arrays
    whole = np.asarray(ff.unwrap(system, jnp.asarray(R), jnp.asarray(box)))
    m = a["mass"]
    com = np.array(
        [np.average(whole[a["site_molecule"] == k], axis=0, weights=m[a["site_molecule"] == k])
         for k in range(system.n_molecules)]
    )[a["site_molecule"]]  # fmt: skip

    energy = jax.jit(partial(ff.energy, system))

    def u(lam):
        return float(energy(whole + (lam - 1) * com, lam * box, PARAMS))

    h = 1e-6
    fd = (u(1 + h) - u(1 - h)) / (2 * h)
    w = jax.jit(partial(ff.molecular_virial, system))(R, box, PARAMS)
    assert float(w) == pytest.approx(fd, rel=1e-6)


def test_box_smaller_than_twice_the_cutoff_is_refused():
    """A box edge below 2 r_c is a ProblemError naming the box (minimum image would
    miss pairs)."""
    system = ff.System(trappe_topology([4], r_cut_angstrom=7.0), (("n-butane", 2),))
    with pytest.raises(
        ProblemError, match=r"box: box edge 13\.9 .* smaller than twice the cut-off"
    ):
        ff.check_box(system, 13.9)
    with pytest.raises(ProblemError, match="expected parameters"):
        ff.check_params(system.topology, {"epsilon_CH3": 1.0})


def test_energy_is_jit_and_vmap_compatible():
    """The energy of a stack of frames by vmap under jit equals frame-by-frame
    evaluation (to 1e-13)."""
    system, R, box = _configuration([(4, 4), (6, 3)], r_cut=6.0)
    frames = np.stack([R, R + 0.05, R - 0.05])
    f = jax.jit(jax.vmap(lambda x: ff.energy(system, x, box, PARAMS)))
    one = jax.jit(partial(ff.energy, system))
    np.testing.assert_allclose(f(frames), [float(one(x, box, PARAMS)) for x in frames], rtol=1e-13)
