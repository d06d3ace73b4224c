"""Fit the critical-point coordinate of ``mie_critical`` to bayesff's SAFT-VR Mie monomer.

``bayesff.potentials.mie_critical_point(n)`` gives (T*c, rho*c) of the Mie n-6 fluid as
quintics in x = 12 / n, ``MIE_CRITICAL_LN_T_STAR`` and ``MIE_CRITICAL_LN_RHO_STAR`` in
``bayesff/potentials/pair.py``. The coefficients are bayesff's, not published: this script
solves the critical point of the EOS the VLE observables use (SAFT-VR Mie, Lafitte et al.,
J. Chem. Phys. 139, 154504 (2013), one segment, lambda_a = 6;
``bayesff.observables.eos.thermo.critical_point``) at 175 n in [6.5, 50], fits ln T*c and
ln rho*c by least squares, rounds to 5 decimals, prints the coefficients to paste and the
largest relative error of the rounded fit on the grid::

    python scripts/fit_mie_critical_coordinate.py     # about 30 s on the 2-core CPU

The coordinate only has to be smooth and follow the critical point closely for the
posterior's ridge to straighten; ``tests/potentials/test_mie_critical.py`` checks it
against the solved critical point and teqp's.
"""

from __future__ import annotations

import jax
import numpy as np

import bayesff
from bayesff.observables.eos.saft_vr_mie import SAFT_VR_MIE
from bayesff.observables.eos.thermo import critical_point

N_GRID = np.linspace(6.5, 50.0, 175)
DEGREE = 5


def main() -> None:
    bayesff.configure()
    solve = jax.vmap(lambda n: critical_point(SAFT_VR_MIE, segments=1.0, lambda_r=n, lambda_a=6.0))
    cp = jax.jit(solve)(N_GRID)
    if not np.all(np.asarray(cp.status) == 0):
        raise SystemExit("a critical point did not solve: refine the grid or the starts")
    x = 12.0 / N_GRID
    poly = np.polynomial.polynomial
    for name, y in (("LN_T_STAR", np.log(cp.T_star)), ("LN_RHO_STAR", np.log(cp.rho_star))):
        c = np.round(poly.polyfit(x, y, DEGREE), 5)
        err = np.max(np.abs(np.expm1(poly.polyval(x, c) - y)))
        print(f"MIE_CRITICAL_{name} = {tuple(c.tolist())}  # max rel. error {err:.2e}")


if __name__ == "__main__":
    main()
