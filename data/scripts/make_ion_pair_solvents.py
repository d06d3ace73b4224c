r"""Make data/ion_pair_solvents/pmf.csv: SYNTHETIC ion-pair potential of mean force, two solvents.

All values are COMPUTED from a stated continuum model, not measured or
simulated: the potential of mean force of a cation-anion pair (charges +1
and -1 e) in a dielectric continuum, a Lennard-Jones core plus the
generalized Born (GB) electrostatics of W. C. Still, A. Tempczyk, R. C.
Hawley and T. Hendrickson, J. Am. Chem. Soc. 112, 6127 (1990),
doi:10.1021/ja00172a038, with fixed Born radii:

.. math::

    W(r) = 4\epsilon[(\sigma/r)^{12} - (\sigma/r)^6]
           + k_e q_+ q_- \left[\frac{1}{\varepsilon_{in} r}
           - \left(\frac{1}{\varepsilon_{in}} - \frac{1}{\varepsilon_r}\right)
             \frac{1}{f_{GB}(r)}\right],
    \qquad f_{GB} = \sqrt{r^2 + R_+ R_- e^{-r^2/(4 R_+ R_-)}},

the Coulomb energy in the solute's interior permittivity (eps_in = 1) plus
the change of the GB polarisation energy with r (with fixed Born radii the
two self terms do not depend on r: W is relative to the separated ions).
At large r, f_GB -> r and W -> k_e q_+ q_- / (eps_r r): the solvent's full
screening; at contact the ions exclude solvent from between them and the
effective permittivity is much smaller (about 10 at 3 angstrom in the
water-like solvent).

CHOSEN values (of the order of those of alkali halide ion pairs; nothing
here claims to be a real salt): LJ epsilon/k_B = 40 K, sigma = 3.5
angstrom; Born radii R_+ = 1.7 angstrom, R_- = 2.0 angstrom; eps_in = 1.
Solvents (static relative permittivity eps_r, refractive index n; the
electronic permittivity is n^2):

* water-like: eps_r = 78.4, n = 1.333 (close to water at 298 K);
* hexane-like: eps_r = 1.89, n = 1.3748 (n^2 = eps_r: a non-polar solvent
  whose static permittivity is all electronic; close to n-hexane at 293 K,
  eps_r about 1.89 and n_D about 1.375).

The model knows nothing of solvent structure (no solvent-separated minimum)
or of dielectric saturation; it is the stated source of a study of
screening conventions (docs/electrostatics.md), not a prediction of real
ion pairing.

File: one row per (solvent, r): ``solvent, r_angstrom, eps_r, n_refractive,
W_kJ_per_mol, u_W_kJ_per_mol``, r = R_MIN, R_MIN + R_STEP, ..., R_MAX
angstrom in each solvent. u_W = U_ABS + U_REL |W| is a CHOSEN weight (the
values are exact model evaluations and do not scatter by it).

Usage (from the repository root)::

    python data/scripts/make_ion_pair_solvents.py [--force] [--manifest]

Refuses to overwrite the file without ``--force``; prints its sha256 and the
package versions used, or with ``--manifest`` its data/manifest.toml entry.
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

OUT = REPO_ROOT / "data" / "ion_pair_solvents" / "pmf.csv"
EPSILON_K, SIGMA = 40.0, 3.5  # LJ core of the pair: epsilon/k_B in K, sigma in angstrom
BORN_PLUS, BORN_MINUS = 1.7, 2.0  # Born radii, angstrom
EPS_IN = 1.0
SOLVENTS = {"water": (78.4, 1.333), "hexane": (1.89, 1.3748)}  # eps_r, n
R_MIN, R_MAX, R_STEP = 2.5, 12.0, 0.25
U_ABS, U_REL = 0.05, 0.01


def pmf(r, eps_r):
    """W(r) in kJ/mol (module docstring) of the +1/-1 pair in a solvent of permittivity eps_r."""
    from bayesff.units import COULOMB_KJ_PER_MOL_ANGSTROM as KE
    from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K as R

    r = np.asarray(r, dtype=float)
    eps = EPSILON_K * R
    s6 = (SIGMA / r) ** 6
    lj = 4.0 * eps * (s6 * s6 - s6)
    rr = BORN_PLUS * BORN_MINUS
    f_gb = np.sqrt(r * r + rr * np.exp(-r * r / (4.0 * rr)))
    qq = -1.0
    return lj + KE * qq * (1.0 / (EPS_IN * r) - (1.0 / EPS_IN - 1.0 / eps_r) / f_gb)


def csv_text() -> str:
    r = np.round(np.arange(R_MIN, R_MAX + 1e-9, R_STEP), 10)
    out = io.StringIO()
    out.write("solvent,r_angstrom,eps_r,n_refractive,W_kJ_per_mol,u_W_kJ_per_mol\n")
    for name, (eps_r, n) in SOLVENTS.items():
        w = pmf(r, eps_r)
        u = U_ABS + U_REL * np.abs(w)
        for ri, wi, ui in zip(r, w, u, strict=True):
            out.write(f"{name},{ri:g},{eps_r:g},{n:g},{wi:.10g},{ui:.4g}\n")
    return out.getvalue()


def versions() -> dict[str, str]:
    return {"python": platform.python_version(), "numpy": np.__version__}


def manifest_text(sha: str) -> str:
    vtext = ", ".join(f"{k} {v}" for k, v in versions().items())
    solv = "; ".join(f"{k}-like: eps_r = {e:g}, n = {n:g}" for k, (e, n) in SOLVENTS.items())
    src = (
        "synthetic: potential of mean force of a +1/-1 ion pair in a dielectric continuum, "
        f"W(r) = LJ(r; epsilon/k = {EPSILON_K:g} K, sigma = {SIGMA:g} angstrom) + k_e q+ q- "
        "[1/(eps_in r) - (1/eps_in - 1/eps_r)/f_GB(r)], f_GB = sqrt(r^2 + R+ R- exp(-r^2/(4 R+ "
        "R-))), the generalized Born model of W. C. Still, A. Tempczyk, R. C. Hawley, T. "
        "Hendrickson, J. Am. Chem. Soc. 112, 6127 (1990), doi:10.1021/ja00172a038, with fixed "
        f"Born radii R+ = {BORN_PLUS:g}, R- = {BORN_MINUS:g} angstrom, eps_in = {EPS_IN:g}; "
        "k_e = 1389.35457 kJ mol^-1 angstrom e^-2, R = 8.31446261815324 J/(mol K) (CODATA "
        f"2018); all parameters CHOSEN. Solvents: {solv} (close to water at 298 K and n-hexane "
        f"at 293 K; n^2 is the electronic permittivity). r = {R_MIN:g}, {R_MIN + R_STEP:g}, "
        f"..., {R_MAX:g} angstrom; 10 significant digits, no noise. {vtext}."
    )
    units = {
        "solvent": "text",
        "r_angstrom": "angstrom",
        "eps_r": "1",
        "n_refractive": "1",
        "W_kJ_per_mol": "kJ/mol",
        "u_W_kJ_per_mol": "kJ/mol",
    }
    return (
        "[[files]]\n"
        'path = "ion_pair_solvents/pmf.csv"\n'
        'kind = "synthetic"\n'
        'title = "SYNTHETIC potential of mean force of a +1/-1 ion pair in a water-like and a '
        'hexane-like dielectric continuum (LJ core + generalized Born electrostatics)"\n'
        f'source = "{src}"\n'
        'licence = "Computed by the bayesff developers; distributed under the bayesff licence '
        '(MIT)."\n'
        'script = "data/scripts/make_ion_pair_solvents.py"\n'
        f'sha256 = "{sha}"\n'
        f'uncertainty = "u_W = {U_ABS:g} kJ/mol + {U_REL:g} |W|: a CHOSEN weight, not a '
        'measured uncertainty; the values are exact model evaluations."\n'
        "[files.units]\n" + "".join(f'{c} = "{u}"\n' for c, u in units.items())
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--force", action="store_true", help="overwrite an existing file")
    ap.add_argument("--manifest", action="store_true", help="print the manifest entry")
    args = ap.parse_args(argv)
    if args.out.exists() and not args.force:
        print(f"{args.out} exists; use --force", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(csv_text())
    sha = hashlib.sha256(args.out.read_bytes()).hexdigest()
    if args.manifest:
        print(manifest_text(sha))
    else:
        print(f"{args.out}: sha256 {sha}")
        print("versions:", versions())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
