"""First-peak features of the measured g(r) of liquid argon at 85 K (Yarnell et al. 1973).

Source: J. L. Yarnell, M. J. Katz, R. G. Wenzel and S. H. Koenig, "Structure
Factor and Radial Distribution Function for Liquid Argon at 85 K", Phys. Rev.
A 7, 2130 (1973), doi:10.1103/PhysRevA.7.2130 (``data/argon_yarnell1973/gr_85K.csv``
and ``sq_85K.csv``, provenance in ``data/manifest.toml``).

What it writes: ``data/argon_yarnell1973/features_85K_target.csv``, one row,
columns ``T_K, rho_per_A3, r_peak_angstrom, u_r_peak_angstrom, g_peak, u_g_peak,
n_coord, u_n_coord`` -- the target file of the observables
``first_peak_position``, ``first_peak_height`` and ``coordination_number``.

Definitions (the same as the forward models', imported from
:mod:`bayesff.observables.structure`):

* ``r_peak_angstrom``, ``g_peak``: :func:`~bayesff.observables.structure.first_peak`,
  the vertex of the parabola through the grid maximum of g and its two
  neighbours;
* ``n_coord``: :func:`~bayesff.observables.structure.coordination_number`,
  4 pi rho times the integral of r^2 g(r) (rectangle rule on the grid) up to
  the first minimum of g, located the same way in (1.05, 1.75) x r_peak.

Applied to the published g(r) (uniform grid r_i = i x 0.0681 angstrom, the
grid the solver's convention assumes: cell edges at r_i + dr/2).

Uncertainties (ASSUMED: the paper quotes none for these features). Each is
the half-range of the feature over a set of defensible variants of the same
measurement, combined in quadrature with a resolution term:

* variants of g(r) (systematic: the transform's termination ripples): the
  published g(r) (the authors' transform of S(q)), our own sine transform of
  the published S(q) over the whole measured range (q = 0.029-11.75
  1/angstrom, trapezoid rule, no window), and the same truncated at
  q_max = 11 1/angstrom, which moves the termination ripples; all on the
  published r grid. (A Lorch window was tried and left out: it removes the
  ripples by broadening the peak, lowering g_peak by 14 %, a resolution change
  rather than an uncertainty of the measurement.)
* variants of the estimator (published g only): the vertex of a least-squares
  parabola through 5 and 7 grid points around the maximum (and, for n_coord,
  around the first minimum) instead of 3;
* noise: the standard deviation of each feature over 200 transforms of S(q)
  with independent Gaussian noise of the target file's assumed u_S_q = 0.02
  added to every point (numpy default_rng(1973)), with g = 0 imposed where
  the published g is 0 (r < 3.27 angstrom, the core, as the authors did:
  unmasked, the transformed noise, ~1.7 at r -> 0, would put the "peak" in
  the core);
* resolution: for r_peak, dr / sqrt(12) = 0.0197 angstrom (a uniform error
  over one grid cell of the tabulated g); for n_coord, n times the relative
  uncertainty of the density, |0.0213 - 0.02125| / 0.02125 (the two values
  quoted for this state); none for g_peak.

u = sqrt((half-range of the variants)^2 + noise^2 + resolution^2). The
half-range (not the standard deviation of a uniform distribution,
range / sqrt(12)) is a deliberately generous choice; every term is printed so
that the choice can be checked.

Usage (from the repository root)::

    python data/scripts/yarnell_features.py [--force]

Prints the features, every variant and the sha256 of the file it wrote (copy it
into the manifest entry).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_ROOT / "data" / "argon_yarnell1973"
OUT = DATA_DIR / "features_85K_target.csv"
T_K = 85.0
RHO_PER_A3 = 0.02125
#: the other density quoted for this state (docs/structure.md); its difference sets u_rho
RHO_ALT_PER_A3 = 0.0213
#: truncation of the alternative transform, 1/angstrom (the data end at 11.75)
Q_MAX_ALT = 11.0
#: the S(q) target file's ASSUMED standard uncertainty (data/scripts/copy_yarnell1973.py)
U_S_Q = 0.02
N_NOISE_DRAWS = 200
NOISE_SEED = 1973
COLUMNS = (
    "T_K",
    "rho_per_A3",
    "r_peak_angstrom",
    "u_r_peak_angstrom",
    "g_peak",
    "u_g_peak",
    "n_coord",
    "u_n_coord",
)


def read_two_columns(path: Path, x_col: str, y_col: str) -> tuple[np.ndarray, np.ndarray]:
    """The two named columns of a CSV file as float arrays."""
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    header = [h.strip() for h in rows[0]]
    if header[:2] != [x_col, y_col]:
        raise ValueError(f"{path}: expected header {x_col},{y_col}, found {','.join(header)}")
    body = np.array([[float(a), float(b)] for a, b, *_ in rows[1:] if a.strip()])
    return body[:, 0], body[:, 1]


def features(r, g, rho_per_A3: float) -> dict[str, float]:
    """First-peak position and height and coordination number of g(r) on a uniform grid.

    The definitions of the forward models (:func:`bayesff.observables.structure.first_peak`
    and :func:`~bayesff.observables.structure.coordination_number`).

    Parameters
    ----------
    r
        Uniform grid r_i = i dr, angstrom.
    g
        g(r) on the grid.
    rho_per_A3
        Number density, 1/angstrom^3.

    Returns
    -------
    dict
        ``r_peak_angstrom``, ``g_peak``, ``n_coord``, ``r_min_angstrom``.
    """
    from bayesff.observables.structure import coordination_number, first_peak

    r = np.asarray(r, dtype=float)
    g = np.asarray(g, dtype=float)
    r_peak, g_peak = first_peak(r, g)
    n, r_min = coordination_number(r, g, rho_per_A3)
    return {
        "r_peak_angstrom": float(r_peak),
        "g_peak": float(g_peak),
        "n_coord": float(n),
        "r_min_angstrom": float(r_min),
    }


def _lsq_vertex(r, g, i, half_width: int) -> tuple[float, float]:
    """Vertex of the least-squares parabola through g[i - w : i + w + 1]."""
    sl = slice(i - half_width, i + half_width + 1)
    x = r[sl] - r[i]
    a, b, c = np.polyfit(x, g[sl], 2)
    xv = -b / (2 * a)
    return float(r[i] + xv), float(c - b * b / (4 * a))


def windowed_features(r, g, rho_per_A3: float, half_width: int) -> dict[str, float]:
    """As :func:`features` but with (2 w + 1)-point least-squares parabolas at the extrema."""
    from bayesff.observables.structure import FIRST_MIN_WINDOW

    r = np.asarray(r, dtype=float)
    g = np.asarray(g, dtype=float)
    i_max = int(np.argmax(g))
    r_peak, g_peak = _lsq_vertex(r, g, i_max, half_width)
    lo, hi = FIRST_MIN_WINDOW
    masked = np.where((r > lo * r_peak) & (r < hi * r_peak), g, np.inf)
    r_min, _ = _lsq_vertex(r, g, int(np.argmin(masked)), half_width)
    dr = r[1] - r[0]
    cum = 4.0 * np.pi * rho_per_A3 * dr * np.cumsum(r**2 * g)
    n = float(np.interp(r_min, r + 0.5 * dr, cum))
    return {"r_peak_angstrom": r_peak, "g_peak": g_peak, "n_coord": n, "r_min_angstrom": r_min}


def g_from_sq(q, s, r, rho_per_A3: float, lorch: bool) -> np.ndarray:
    r"""g(r) from S(q) by the sine transform, trapezoid rule over the measured q.

    .. math:: g(r) = 1 + \frac{1}{2\pi^2 \rho r} \int_0^{q_{max}} q\,[S(q) - 1]\,
              M(q) \sin(q r)\, dq

    with M = 1 or the Lorch function sin(pi q / q_max) / (pi q / q_max). The
    interval (0, q_1) is added with S(0) = S(q_1) (q_1 = 0.029 1/angstrom; its
    contribution is ~1e-3 of the peak).
    """
    q = np.concatenate([[0.0], np.asarray(q, float)])
    s = np.concatenate([[s[0]], np.asarray(s, float)])
    m = np.sinc(q / q[-1]) if lorch else np.ones_like(q)
    integrand = (q * (s - 1.0) * m)[None, :] * np.sin(np.outer(r, q))
    return 1.0 + np.trapezoid(integrand, q, axis=1) / (2.0 * np.pi**2 * rho_per_A3 * r)


def derive() -> tuple[dict[str, float], dict[str, dict[str, float]], dict[str, dict]]:
    """The features of the published g(r), their assumed uncertainties, and every variant.

    Returns
    -------
    (row, variants, terms)
        ``row``: the CSV row (column -> value); ``variants``: name -> features;
        ``terms``: feature -> the uncertainty terms (half_range, noise,
        resolution) combined in quadrature.
    """
    r, g = read_two_columns(DATA_DIR / "gr_85K.csv", "r_angstrom", "g_r")
    q, s = read_two_columns(DATA_DIR / "sq_85K.csv", "q_inv_angstrom", "S_q")
    dr = float(r[1] - r[0])
    if not np.allclose(np.diff(r), dr, rtol=0, atol=2e-4) or abs(r[0] - dr) > 2e-4:
        raise ValueError(f"g(r) grid is not r_i = i dr (dr = {dr}); the definitions need it")
    variants = {
        "published g, 3-point parabola (the definition)": features(r, g, RHO_PER_A3),
        "published g, 5-point least squares": windowed_features(r, g, RHO_PER_A3, 2),
        "published g, 7-point least squares": windowed_features(r, g, RHO_PER_A3, 3),
        "sine transform of S(q), no window": features(
            r, g_from_sq(q, s, r, RHO_PER_A3, lorch=False), RHO_PER_A3
        ),
        "sine transform of S(q), q_max = 11 1/angstrom": features(
            r,
            g_from_sq(q[q <= Q_MAX_ALT], s[q <= Q_MAX_ALT], r, RHO_PER_A3, lorch=False),
            RHO_PER_A3,
        ),
    }
    noise = noise_sd(q, s, r, g)
    best = variants["published g, 3-point parabola (the definition)"]

    def half_range(key):
        v = [x[key] for x in variants.values()]
        return 0.5 * (max(v) - min(v))

    u_rho_rel = abs(RHO_ALT_PER_A3 - RHO_PER_A3) / RHO_PER_A3
    resolution = {
        "r_peak_angstrom": dr / np.sqrt(12.0),
        "g_peak": 0.0,
        "n_coord": u_rho_rel * best["n_coord"],
    }
    terms = {
        k: {"half_range": half_range(k), "noise": noise[k], "resolution": resolution[k]}
        for k in ("r_peak_angstrom", "g_peak", "n_coord")
    }
    u = {k: float(np.sqrt(sum(v**2 for v in t.values()))) for k, t in terms.items()}
    u_r, u_g, u_n = u["r_peak_angstrom"], u["g_peak"], u["n_coord"]
    row = {
        "T_K": T_K,
        "rho_per_A3": RHO_PER_A3,
        "r_peak_angstrom": round(best["r_peak_angstrom"], 4),
        "u_r_peak_angstrom": round(u_r, 4),
        "g_peak": round(best["g_peak"], 4),
        "u_g_peak": round(u_g, 4),
        "n_coord": round(best["n_coord"], 3),
        "u_n_coord": round(u_n, 3),
    }
    return row, variants, terms


def noise_sd(q, s, r, g_published, n_draws: int = N_NOISE_DRAWS) -> dict[str, float]:
    """Standard deviation of each feature over transforms of S(q) + N(0, U_S_Q) noise.

    g is set to 0 where ``g_published`` is 0 (the core).
    """
    rng = np.random.default_rng(NOISE_SEED)
    outside_core = g_published > 0
    out = []
    for _ in range(n_draws):
        s_noisy = s + U_S_Q * rng.standard_normal(s.shape)
        g_noisy = g_from_sq(q, s_noisy, r, RHO_PER_A3, lorch=False) * outside_core
        out.append(features(r, g_noisy, RHO_PER_A3))
    return {
        k: float(np.std([f[k] for f in out], ddof=1))
        for k in ("r_peak_angstrom", "g_peak", "n_coord")
    }


def csv_text(row: dict[str, float]) -> str:
    """The target file's text: header and one row."""
    return ",".join(COLUMNS) + "\n" + ",".join(f"{row[c]:g}" for c in COLUMNS) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--force", action="store_true", help="overwrite the existing file")
    args = ap.parse_args(argv)
    row, variants, terms = derive()
    for name, f in variants.items():
        print(
            f"{name:<50} r_peak {f['r_peak_angstrom']:.4f} A  g_peak {f['g_peak']:.4f}  "
            f"n_coord {f['n_coord']:.3f}  r_min {f['r_min_angstrom']:.3f} A"
        )
    for k, t in terms.items():
        print(f"u({k}): " + ", ".join(f"{a} {b:.4f}" for a, b in t.items()))
    text = csv_text(row)
    print(text, end="")
    if OUT.exists() and not args.force:
        if OUT.read_text() == text:
            print(f"{OUT.relative_to(REPO_ROOT)} is up to date")
        else:
            sys.exit(f"{OUT} exists and differs; pass --force to overwrite")
    else:
        OUT.write_text(text)
    sha = hashlib.sha256(OUT.read_bytes()).hexdigest()
    print(f"{OUT.relative_to(REPO_ROOT)}  sha256 {sha}")
    print(f"Python {sys.version.split()[0]}, numpy {np.__version__}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
