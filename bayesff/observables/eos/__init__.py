"""Equations of state of model fluids (LJ, Mie, two-centre LJ, Mie chains), pure JAX.

See :mod:`bayesff.observables.eos._base` for the contract every model fulfils.
"""

from bayesff.observables.eos._base import ReducedEOS, Validity, load_coefficients

__all__ = ["ReducedEOS", "Validity", "load_coefficients"]
