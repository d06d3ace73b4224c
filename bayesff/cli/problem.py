"""``bayesff check`` and ``bayesff list``: problems, potentials and forward models."""

from __future__ import annotations

from bayesff.cli.allow import allowing_plugins
from bayesff.cli.command import EXIT_OK
from bayesff.observables import list_observables
from bayesff.potentials import list_potentials
from bayesff.problem import Problem

__all__ = ["COMMANDS"]


def _check(args) -> int:
    problem = Problem.from_toml(args.problem)  # a sweep file is told to use sweep --check
    print(problem.describe())
    print(f"ok: {args.problem} is valid")
    return EXIT_OK


def _list(args) -> int:
    print("potentials (parameters: name [internal unit] support; default prior [its unit])")
    for name, pot in list_potentials().items():
        print(f"  {name} ({pot.kind}): {pot.description}")
        for p in pot.params:
            print(
                f"      {p.name:<8} [{p.unit}] {p.support.describe()}; "
                f"default {p.default_prior.describe()} [{p.prior_unit}]"
            )
    print(
        "  your own: an entry point of 'bayesff.potentials', or kind = 'module:factory' "
        "with --allow-plugin MODULE (docs/extending.md)"
    )
    print("observables (environment columns -> value column [unit])")
    for name, obs in list_observables().items():
        extra = f"; nuisance: {', '.join(n.name for n in obs.nuisance)}" if obs.nuisance else ""
        kinds = obs.potential_kind
        kinds = kinds if isinstance(kinds, str) else "|".join(kinds)
        print(
            f"  {name} ({kinds}): {', '.join(obs.env_columns)} -> "
            f"{obs.value_column} [{obs.unit}]; {obs.description}{extra}"
        )
    print("cut-off schemes: none, truncated, shifted, force_shifted (r_c with unit)")
    print(
        "inadequacy: none, inferred_scale (form relative|absolute, prior_scale), hierarchical "
        "(parameters, bands, prior_scale), gp (form, prior_scale, gp_basis)"
    )
    return EXIT_OK


COMMANDS = {
    "check": allowing_plugins(_check),
    "list": _list,
}
