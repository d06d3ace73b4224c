"""Fit the critical-point start of bayesff's SAFT-VR Mie to teqp's critical points.

``bayesff.observables.eos.saft_vr_mie.critical_estimate(segments, lambda_r, lambda_a)``
gives (T_c*, rho_c*) as a start for the critical-point Newton. Its coefficients are ours,
not published: this script solves teqp's SAFT-VR Mie (the same model, Lafitte et al.,
J. Chem. Phys. 139, 154504 (2013)) for its critical point on a grid of

    segments m in [1, 16], lambda_r in [8, 50], lambda_a in [5, 7]

(teqp's ``solve_pure_critical``, continued along m from each monomer), fits

    ln T_c*          = P_T(u, v, w) + t Q_T(u, v)
    ln (m rho_c*)    = P_rho(u, v, w) + t Q_rho(u, v)

with u = m^(-1/2), v = ln alpha (alpha = C (1/(lambda_a - 3) - 1/(lambda_r - 3)), the van
der Waals constant of the Mie segment over 2 pi), w = lambda_a - 6,
t = tanh(10 (0.57 - alpha)) (the switch of the model's gamma_c correction, Eq. A37, which
puts a kink into the critical line), P of total degree 4 (degree <= 2 in w) and Q of
degree 1, by minimax (iteratively reweighted least squares on the log errors), and writes
the coefficients into the ``critical_estimate`` entry of
``bayesff/observables/eos/data/saft_vr_mie_lafitte2013.json``. It then measures the fit at
random off-grid parameters and prints the new sha256 of the JSON, which goes into
``_COEFFICIENT_SHA256`` of ``saft_vr_mie.py``.

    python scripts/fit_saft_critical_estimate.py     # about two minutes on the 2-core CPU

Needs teqp (>= 0.23; the test dependency group).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from pathlib import Path

import numpy as np
import teqp

JSON_PATH = (
    Path(__file__).resolve().parents[1]
    / "bayesff"
    / "observables"
    / "eos"
    / "data"
    / "saft_vr_mie_lafitte2013.json"
)

AVOGADRO = 6.02214076e23
# teqp works in SI; any (sigma, epsilon) gives the same reduced critical point.
SIGMA_M, EPSILON_K = 1e-10, 100.0

SEGMENTS = (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16)
LAMBDA_R = (8, 9, 10, 11, 12, 13, 14, 16, 18, 20, 22, 25, 30, 35, 40, 45, 50)
LAMBDA_A = (5, 5.25, 5.5, 5.75, 6, 6.25, 6.5, 6.75, 7)
POLY_DEGREE, TANH_DEGREE, W_DEGREE = 4, 1, 2


def teqp_model(m, lambda_r, lambda_a):
    return teqp.make_model(
        {
            "kind": "SAFT-VR-Mie",
            "model": {
                "coeffs": [
                    {
                        "name": "segment",
                        "m": float(m),
                        "sigma_m": SIGMA_M,
                        "epsilon_over_k": EPSILON_K,
                        "lambda_r": float(lambda_r),
                        "lambda_a": float(lambda_a),
                        "BibTeXKey": "Lafitte-JCP-2013",
                    }
                ]
            },
        }
    )


def alpha_vdw(lambda_r, lambda_a):
    c = (
        lambda_r
        / (lambda_r - lambda_a)
        * (lambda_r / lambda_a) ** (lambda_a / (lambda_r - lambda_a))
    )
    return c * (1.0 / (lambda_a - 3.0) - 1.0 / (lambda_r - 3.0))


def teqp_critical(m, lambda_r, lambda_a, start):
    """(T_c*, rho_c*) of teqp's SAFT-VR Mie from a reduced start (T*, rho*)."""
    t0, r0 = start
    tc, rc = teqp_model(m, lambda_r, lambda_a).solve_pure_critical(
        t0 * EPSILON_K, r0 / (AVOGADRO * SIGMA_M**3)
    )
    return tc / EPSILON_K, rc * AVOGADRO * SIGMA_M**3


def grid():
    rows = []
    for la in LAMBDA_A:
        for lr in LAMBDA_R:
            # Monomer start from the near-linear T_c*(alpha) of Mie fluids; then along m.
            start = (0.2 + 1.25 * alpha_vdw(lr, la), 0.3)
            for m in SEGMENTS:
                tc, rc = teqp_critical(m, lr, la, start)
                rows.append((m, lr, la, tc, rc))
                start = (tc, 0.8 * rc)
    return np.array(rows)


def terms():
    poly = [
        (i, j, k)
        for i in range(POLY_DEGREE + 1)
        for j in range(POLY_DEGREE + 1 - i)
        for k in range(min(POLY_DEGREE - i - j, W_DEGREE) + 1)
    ]
    tanh = [(i, j) for i in range(TANH_DEGREE + 1) for j in range(TANH_DEGREE + 1 - i)]
    return poly, tanh


def design(m, lambda_r, lambda_a, poly, tanh):
    alpha = alpha_vdw(lambda_r, lambda_a)
    u, v, w = m**-0.5, np.log(alpha), lambda_a - 6.0
    t = np.tanh(10.0 * (0.57 - alpha))
    cols = [u**i * v**j * w**k for i, j, k in poly] + [t * u**i * v**j for i, j in tanh]
    return np.stack(cols, axis=-1)


def minimax(a, y, iterations=300):
    """Least squares reweighted towards the largest residuals (Lawson's algorithm)."""
    weight = np.full(len(y), 1.0 / len(y))
    for _ in range(iterations):
        sw = np.sqrt(weight)
        coef = np.linalg.lstsq(a * sw[:, None], y * sw, rcond=None)[0]
        r = np.abs(a @ coef - y)
        weight = weight * (r / r.max() + 1e-3)
        weight /= weight.sum()
    return coef


def check(coef_t, coef_r, poly, tanh, n, seed):
    """Largest relative errors of the fit at n random parameters (m <= 8, lambda_r <= 40)."""
    rng = np.random.default_rng(seed)
    worst = np.zeros(2)
    for _ in range(n):
        m, lr, la = rng.uniform(1, 8), rng.uniform(8, 40), rng.uniform(5, 7)
        row = design(np.array(m), np.array(lr), np.array(la), poly, tanh)
        est = (float(np.exp(row @ coef_t)), float(np.exp(row @ coef_r)) / m)
        ref = teqp_critical(m, lr, la, est)
        worst = np.maximum(worst, np.abs(np.array(est) / np.array(ref) - 1.0))
    return worst


def _dumps(doc) -> str:
    """JSON with two-space indents and each list of numbers on one line."""
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    return (
        re.sub(
            r"\[\s*([-+0-9.eE,\s]+?)\s*\]",
            lambda mt: "[" + ", ".join(x.strip() for x in mt.group(1).split(",")) + "]",
            text,
        )
        + "\n"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", type=int, default=500, help="random off-grid checks")
    args = parser.parse_args(argv)
    data = grid()
    m, lr, la, tc, rc = data.T
    poly, tanh = terms()
    a = design(m, lr, la, poly, tanh)
    coef_t = minimax(a, np.log(tc))
    coef_r = minimax(a, np.log(m * rc))
    err_t = np.abs(np.exp(a @ coef_t) / tc - 1.0).max()
    err_r = np.abs(np.exp(a @ coef_r) / (m * rc) - 1.0).max()
    off_t, off_r = check(coef_t, coef_r, poly, tanh, args.check, seed=7)
    print(
        f"grid of {len(data)} critical points: max relative error "
        f"T_c* {err_t:.4f}, rho_c* {err_r:.4f}"
    )
    print(f"{args.check} random (m <= 8, lambda_r <= 40): T_c* {off_t:.4f}, rho_c* {off_r:.4f}")

    doc = json.loads(JSON_PATH.read_text())
    doc["critical_estimate"] = {
        "description": (
            "NOT PUBLISHED: bayesff's fit to the critical points of teqp "
            f"{teqp.__version__}'s SAFT-VR Mie, made by scripts/fit_saft_critical_estimate.py. "
            "ln Tc* = sum_p ln_Tc[p] term_p and ln(m rhoc*) = sum_p ln_m_rhoc[p] term_p, "
            "terms: u^i v^j w^k for each [i, j, k] of 'poly', then t u^i v^j for each [i, j] "
            "of 'tanh'; u = m^-1/2, v = ln alpha, w = lambda_a - 6, "
            "t = tanh(10 (0.57 - alpha)), alpha = C (1/(lambda_a - 3) - 1/(lambda_r - 3))"
        ),
        "grid": {"segments": SEGMENTS, "lambda_r": LAMBDA_R, "lambda_a": LAMBDA_A},
        "max_relative_error_on_grid": {
            "T_c": round(float(err_t), 4),
            "rho_c": round(float(err_r), 4),
        },
        "max_relative_error_random": {
            "n": args.check,
            "range": "segments 1-8, lambda_r 8-40, lambda_a 5-7",
            "T_c": round(float(off_t), 4),
            "rho_c": round(float(off_r), 4),
        },
        "poly": [list(p) for p in poly],
        "tanh": [list(p) for p in tanh],
        "ln_Tc": [float(x) for x in coef_t],
        "ln_m_rhoc": [float(x) for x in coef_r],
    }
    JSON_PATH.write_text(_dumps(doc))
    print(f"wrote {JSON_PATH}\nsha256 {hashlib.sha256(JSON_PATH.read_bytes()).hexdigest()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
