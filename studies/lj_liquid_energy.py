"""Check the molecular MD pipeline's liquid energy against the Thol et al. (2016) LJ EOS.

The enthalpy of vaporisation of the alkane study (docs/alkanes.md) is made of the
liquid's potential energy per molecule with a 10 angstrom cut-off and analytic tail
corrections. This runs the same engine and settings on the one-site LJ fluid (TraPPE
methane's epsilon/k = 148 K, sigma = 3.73 angstrom: r_c = 2.68 sigma) at a liquid state,
T* = 0.8, p* = 0.1, and compares the NPT density and potential energy per site with the
reference EOS (M. Thol et al., J. Phys. Chem. Ref. Data 45, 023101 (2016), via teqp):
rho* from p* = rho* T* (1 + A^r_01), u_res* = T* A^r_10.

Run from the repository root (about 3 minutes on 2 cores)::

    python -m studies.lj_liquid_energy
"""

from __future__ import annotations

import numpy as np
import teqp
from scipy.optimize import brentq

import bayesff
from bayesff.potentials import forcefield as ff
from bayesff.potentials.topology import topology_from_dict
from bayesff.simulate import engines, timeseries
from bayesff.simulate.molecules import lattice_configuration
from bayesff.units import AVOGADRO, KJ_PER_MOL_PER_A3_IN_MPA
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K as R_GAS

EPS_K, SIGMA, MASS, N = 148.0, 3.73, 16.043, 500
T_STAR, P_STAR = 0.8, 0.1


def main() -> dict:
    bayesff.configure()
    topo = topology_from_dict(
        {
            "form": "lj",
            "combining_rule": "lorentz_berthelot",
            "r_cut": 10.0,
            "r_cut_unit": "angstrom",
            "tail": True,
            "site_types": {"M": {"mass": MASS, "mass_unit": "g/mol"}},
            "molecules": [{"name": "m", "sites": ["M"]}],
        }
    )
    system = ff.System(topo, (("m", N),))
    params = {"epsilon_M": EPS_K * R_GAS, "sigma_M": SIGMA}
    R, box = lattice_configuration(system, 600.0, seed=0)
    settings = engines.RunSettings(
        T_K=T_STAR * EPS_K,
        p_MPa=P_STAR * EPS_K * R_GAS / SIGMA**3 * KJ_PER_MOL_PER_A3_IN_MPA,
        n_equil=20000,
        n_steps=60000,
        sample_every=100,
        dt_fs=4.0,
    )
    traj = engines.run(engines.SimulatedSystem(system, params), engines.State(R, box), settings)
    to_star = SIGMA**3 * AVOGADRO / MASS / 1e27  # kg/m^3 -> rho*
    rho = timeseries.average(traj.density_kg_per_m3 * to_star)
    u = timeseries.average(traj.potential_energy / N / (EPS_K * R_GAS))
    model = teqp.make_model({"kind": "LJ126_TholJPCRD2016", "model": {}})
    z = np.array([1.0])
    rho_eos = brentq(lambda r: r * T_STAR * (1 + model.get_Ar01(T_STAR, r, z)) - P_STAR, 0.6, 1.0)
    u_eos = T_STAR * model.get_Ar10(T_STAR, rho_eos, z)
    out = {
        "rho_star": (rho.mean, rho.sem, rho_eos),
        "u_star": (u.mean, u.sem, u_eos),
        "ns_per_day": traj.ns_per_day,
    }
    for k in ("rho_star", "u_star"):
        m, s, e = out[k]
        print(f"{k}: MD {m:.4f} +- {s:.4f}, Thol EOS {e:.4f} ({100 * (m / e - 1):+.2f} %)")
    return out


if __name__ == "__main__":
    main()
