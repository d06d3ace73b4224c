"""Make data/ion_clusters/: SYNTHETIC energies of ion dimers and trimers, polarisable reference.

All values are COMPUTED from a model, not measured or taken from quantum
chemistry: the Thole-damped induced-dipole model of
``bayesff.potentials.polarisable`` (registered as ``polarisable``, two site
types), with full charges (s = 1), Thole's exponential damping a = 0.39
(the AMOEBA value: P. Ren and J. W. Ponder, J. Phys. Chem. B 107, 5933
(2003), doi:10.1021/jp027815+; B. T. Thole, Chem. Phys. 59, 341 (1981),
doi:10.1016/0301-0104(81)85176-2), Lennard-Jones cores mixed by
Lorentz-Berthelot, and isotropic polarisabilities

* type 0, a monovalent cation (charge +1 e): alpha_0 = alpha / 20;
* type 1, a monovalent anion (charge -1 e): alpha_1 = alpha,

for alpha in ALPHAS (angstrom^3). The ratio 1/20 and the values of alpha
are CHOSEN: a small, hard cation and a large, soft anion, alpha from 0 (no
polarisation: the model is then exactly the fixed-charge model with s = 1)
to 3.5 angstrom^3. The LJ parameters are CHOSEN too (LJ below): they give
the cation-anion dimer a minimum near 2.25 angstrom at alpha = 0. Nothing
here claims to be sodium chloride.

Files written, for each alpha (``A`` = alpha with the point as 'p':
``alpha0``, ``alpha0p25``, ..., ``alpha3p5``), in the configuration format
of ``bayesff.configdata`` (one row per atom: ``config_id, atom, x_angstrom, y_angstrom, z_angstrom,
charge_e, type, E_kJ_per_mol, Fx_kJ_per_mol_A, Fy_kJ_per_mol_A,
Fz_kJ_per_mol_A``; E the configuration's total interaction energy relative
to separated ions, repeated on each of its rows; F = -grad E by JAX
autodiff):

* ``dimers_A.csv``: N_DIMERS cation-anion pairs, r uniform in
  [R_MIN, R_MAX] angstrom, random orientation and centre
  (``bayesff.configdata.random_dimers``);
* ``trimers_A.csv``: N_TRIMERS / 2 cation-anion-cation and N_TRIMERS / 2
  anion-cation-anion triangles: the two distances from the central ion
  uniform in [D_MIN, D_MAX] angstrom, the angle at the central ion uniform
  in [ANGLE_MIN, ANGLE_MAX] degrees, random orientation and centre.

The geometries are the same for every alpha (one seeded generator), so
that only the polarisability changes between files. The trimer energies are
NOT pairwise additive when alpha > 0: the induced dipoles are solved for
the whole cluster (many-body induction), which is what a pair model fitted
on the dimers cannot know.

Usage (from the repository root)::

    python data/scripts/make_ion_clusters.py [--force] [--manifest] [--out-dir data/ion_clusters]

Refuses to overwrite existing files without ``--force``; prints each file's
sha256 and the package versions used, or with ``--manifest`` the
data/manifest.toml entries of the files.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import platform
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

DEFAULT_OUT = REPO_ROOT / "data" / "ion_clusters"
SEED = 2003
ALPHAS = (0.0, 0.25, 0.5, 1.0, 2.0, 3.5)  # anion polarisability volume, angstrom^3
CATION_FRACTION = 1.0 / 20.0  # alpha_0 = alpha / 20
THOLE_A = 0.39
#: Lennard-Jones per type: epsilon/k_B in K, sigma in angstrom (chosen).
LJ = {"epsilon_0_K": 60.0, "sigma_0": 2.2, "epsilon_1_K": 60.0, "sigma_1": 3.8}
N_DIMERS, N_TRIMERS = 40, 60
R_MIN, R_MAX = 2.1, 8.0
D_MIN, D_MAX = 2.2, 3.6
ANGLE_MIN, ANGLE_MAX = 75.0, 180.0
HEADER = (
    "config_id,atom,x_angstrom,y_angstrom,z_angstrom,charge_e,type,E_kJ_per_mol,"
    "Fx_kJ_per_mol_A,Fy_kJ_per_mol_A,Fz_kJ_per_mol_A"
)


def tag(alpha: float) -> str:
    """File tag of a polarisability: 3.5 -> 'alpha3p5', 0 -> 'alpha0'."""
    return "alpha" + f"{alpha:g}".replace(".", "p")


def reference_params(alpha: float) -> dict:
    """Parameters of the polarisable reference (internal units: kJ/mol, angstrom)."""
    from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K as R

    return {
        "s": 1.0,
        "thole_a": THOLE_A,
        "alpha_0": CATION_FRACTION * alpha,
        "alpha_1": alpha,
        "epsilon_0": LJ["epsilon_0_K"] * R,
        "sigma_0": LJ["sigma_0"],
        "epsilon_1": LJ["epsilon_1_K"] * R,
        "sigma_1": LJ["sigma_1"],
    }


def geometries(rng: np.random.Generator):
    """Dimer and trimer positions with their site columns (charge_e, type)."""
    from bayesff.configdata import _place, random_dimers

    xd = random_dimers(rng, N_DIMERS, R_MIN, R_MAX)
    sd = {"charge_e": np.tile([1.0, -1.0], (N_DIMERS, 1)), "type": np.tile([0, 1], (N_DIMERS, 1))}
    xs, charges = [], []
    half = N_TRIMERS // 2
    for q in ([1.0, -1.0, 1.0], [-1.0, 1.0, -1.0]):
        d1 = rng.uniform(D_MIN, D_MAX, half)
        d2 = rng.uniform(D_MIN, D_MAX, half)
        th = np.radians(rng.uniform(ANGLE_MIN, ANGLE_MAX, half))
        local = np.zeros((half, 3, 3))  # atom 1 is the central ion, at the origin
        local[:, 0, 0] = d1
        local[:, 2, 0] = d2 * np.cos(th)
        local[:, 2, 1] = d2 * np.sin(th)
        xs.append(_place(rng, local, 2.0))
        charges.append(np.tile(q, (half, 1)))
    q = np.concatenate(charges)
    st = {"charge_e": q, "type": (q < 0).astype(int)}
    return (xd, sd), (np.concatenate(xs), st)


def configs_csv(positions: np.ndarray, sites: dict, alpha: float) -> str:
    from bayesff.configdata import reference_configurations
    from bayesff.potentials import POLARISABLE

    # round first, so that E and F belong to the positions exactly as written
    c = reference_configurations(
        POLARISABLE, reference_params(alpha), np.round(positions, 10), sites=sites
    )
    out = io.StringIO()
    out.write(HEADER + "\n")
    for m in range(c.n_configs):
        for i in range(c.n_atoms):
            x, f = c.positions[m, i], c.forces[m, i]
            out.write(
                f"{m},{i},{x[0]:.10f},{x[1]:.10f},{x[2]:.10f},{sites['charge_e'][m, i]:g},"
                f"{int(sites['type'][m, i])},{c.energy[m]:.12g},"
                f"{f[0]:.12g},{f[1]:.12g},{f[2]:.12g}\n"
            )
    return out.getvalue()


def versions() -> dict[str, str]:
    import jax

    return {"python": platform.python_version(), "numpy": np.__version__, "jax": jax.__version__}


def files() -> dict[str, str]:
    """File name -> text, for every alpha."""
    (xd, sd), (xt, st) = geometries(np.random.default_rng(SEED))
    out = {}
    for a in ALPHAS:
        out[f"dimers_{tag(a)}.csv"] = configs_csv(xd, sd, a)
        out[f"trimers_{tag(a)}.csv"] = configs_csv(xt, st, a)
    return out


UNITS = {
    "config_id": "1",
    "atom": "1",
    "x_angstrom": "angstrom",
    "y_angstrom": "angstrom",
    "z_angstrom": "angstrom",
    "charge_e": "e",
    "type": "1",
    "E_kJ_per_mol": "kJ/mol",
    "Fx_kJ_per_mol_A": "kJ/mol/angstrom",
    "Fy_kJ_per_mol_A": "kJ/mol/angstrom",
    "Fz_kJ_per_mol_A": "kJ/mol/angstrom",
}


def manifest_text(shas: dict[str, str], vers: dict[str, str]) -> str:
    """The data/manifest.toml entries of the files (name -> sha256)."""
    vtext = ", ".join(f"{k} {v}" for k, v in vers.items())
    model = (
        "the Thole-damped induced-dipole model bayesff.potentials.polarisable (registered "
        f"'polarisable', 2 site types), s = 1, Thole a = {THOLE_A} (Ren and Ponder, J. Phys. "
        "Chem. B 107, 5933 (2003), doi:10.1021/jp027815+; Thole, Chem. Phys. 59, 341 (1981), "
        "doi:10.1016/0301-0104(81)85176-2), induced dipoles solved as one linear system, "
        f"LJ epsilon_0/k = {LJ['epsilon_0_K']:g} K, sigma_0 = {LJ['sigma_0']:g} angstrom "
        f"(cation, type 0), epsilon_1/k = {LJ['epsilon_1_K']:g} K, sigma_1 = "
        f"{LJ['sigma_1']:g} angstrom (anion, type 1), Lorentz-Berthelot mixing; "
        "polarisabilities alpha_1 = ALPHA (anion), alpha_0 = ALPHA/20 (cation); all values "
        "CHOSEN, not fitted to any real ion"
    )
    out = []
    for name, sha in shas.items():
        kind, a = name.removesuffix(".csv").split("_alpha")
        alpha = float(a.replace("p", "."))
        m = model.replace("ALPHA/20", f"{CATION_FRACTION * alpha:g} angstrom^3").replace(
            "ALPHA", f"{alpha:g} angstrom^3"
        )
        if kind == "dimers":
            title = (
                f"SYNTHETIC energies and forces of {N_DIMERS} cation-anion dimers (r = "
                f"{R_MIN:g}-{R_MAX:g} angstrom) from a polarisable ion model, anion "
                f"polarisability {alpha:g} angstrom^3"
            )
            geo = (
                f"{N_DIMERS} dimers from numpy.random.default_rng({SEED}) via "
                f"bayesff.configdata.random_dimers (r uniform in [{R_MIN:g}, {R_MAX:g}] "
                "angstrom, random rotation, centre uniform in [-2, 2]^3 angstrom)"
            )
        else:
            title = (
                f"SYNTHETIC energies and forces of {N_TRIMERS} ion trimers (+-+ and -+-) from "
                f"a polarisable ion model, anion polarisability {alpha:g} angstrom^3: "
                + (
                    "many-body induction, not pairwise additive"
                    if alpha > 0
                    else "no polarisation, pairwise additive"
                )
            )
            geo = (
                f"{N_TRIMERS // 2} cation-anion-cation then {N_TRIMERS // 2} "
                "anion-cation-anion triangles from the same generator, drawn after the dimers "
                f"(distances from the central ion uniform in [{D_MIN:g}, {D_MAX:g}] angstrom, "
                f"angle at the central ion uniform in [{ANGLE_MIN:g}, {ANGLE_MAX:g}] deg, "
                "random rotation and centre)"
            )
        src = (
            f"synthetic: {geo}, positions rounded to 1e-10 angstrom; E = energy of {m}; "
            "F = -grad E (JAX autodiff); 12 significant digits, no noise. E is the interaction "
            "energy relative to the separated ions. One row per atom; charge_e and type are "
            f"the site columns. {vtext}."
        )
        out.append(
            "[[files]]\n"
            f'path = "ion_clusters/{name}"\n'
            'kind = "synthetic"\n'
            f'title = "{title}"\n'
            f'source = "{src}"\n'
            'licence = "Computed by the bayesff developers; distributed under the bayesff '
            'licence (MIT)."\n'
            'script = "data/scripts/make_ion_clusters.py"\n'
            f'sha256 = "{sha}"\n'
            'uncertainty = "none: exact model evaluations (rounding <= 5e-12 relative). The '
            'noise scale of a fit is chosen by the problem (models/ion_clusters/)."\n'
            "[files.units]\n" + "".join(f'{c} = "{u}"\n' for c, u in UNITS.items())
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out-dir", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--force", action="store_true", help="overwrite existing files")
    ap.add_argument("--manifest", action="store_true", help="print the data/manifest.toml entries")
    args = ap.parse_args(argv)
    from bayesff.runtime import configure

    configure(x64=True, compilation_cache=False)  # float64 before any array exists
    texts = files()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    existing = [n for n in texts if (args.out_dir / n).exists()]
    if existing and not args.force:
        print(f"{', '.join(existing)} exist in {args.out_dir}; use --force", file=sys.stderr)
        return 1
    shas = {}
    for name, text in texts.items():
        p = args.out_dir / name
        p.write_text(text)
        shas[name] = hashlib.sha256(p.read_bytes()).hexdigest()
        print(f"{p}: sha256 {shas[name]}", file=sys.stderr if args.manifest else sys.stdout)
    if args.manifest:
        print(manifest_text(shas, versions()))
    else:
        print("versions:", versions())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
