"""Simulators: programs that generate configurations, apart from the forward models.

Forward models (:mod:`bayesff.observables`) are pure functions of arrays; they
never simulate. The simulators here produce the reference runs that the
MD forward models reweight (through :mod:`bayesff.workflows.prepare`):

:mod:`~bayesff.simulate.lj_md`
    NVT Langevin MD of a one-component fluid of a pair potential (jax-md).
"""
