"""The molecular force field as a problem's potential: ``kind = "forcefield"``.

A problem file that calibrates a molecular force field (sites bonded into
molecules, nonbonded LJ or Mie between site types) names the potential
``forcefield`` and describes the system in the file itself: the nonbonded
model in ``[potential]`` and the molecules in top-level ``[[molecules]]``
tables (the dict form of :func:`bayesff.potentials.topology.topology_from_dict`)::

    [potential]
    kind = "forcefield"
    form = "lj"                          # or "mie"
    combining_rule = "lorentz_berthelot" # or "geometric", "explicit"
    r_cut = 10.0
    r_cut_unit = "angstrom"
    tail = true
    site_types = { CH3 = { mass = 15.035, mass_unit = "g/mol" },
                   CH2 = { mass = 14.027, mass_unit = "g/mol" } }

    [[molecules]]
    name = "n-butane"
    alkane = { carbons = 4 }             # TraPPE-UA bonded terms, or sites/bonds/... by hand

The potential's parameters are the topology's nonbonded parameters
(:func:`~bayesff.potentials.topology.parameter_names`: ``epsilon_CH3``,
``sigma_CH3``, ...), shared by every molecule through the site types; the
bonded terms are fixed constants of the topology. Nothing in the file is
code: the molecules are data, validated field by field before any work.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bayesff.errors import ProblemError, UnitError
from bayesff.potentials import forcefield as ff
from bayesff.potentials._spec import ParamSpec, register
from bayesff.potentials.topology import Topology, parameter_specs, topology_from_dict

__all__ = ["FORCEFIELD", "OPTION_KEYS", "ForceFieldPotential"]

#: Keys of ``[potential]`` (besides ``kind`` and ``cutoff``) and top-level ``molecules``.
OPTION_KEYS = ("form", "combining_rule", "r_cut", "r_cut_unit", "tail", "site_types", "molecules")


@dataclass(frozen=True)
class ForceFieldPotential:
    """A molecular force field: a :class:`~bayesff.potentials.topology.Topology` whose
    nonbonded parameters are calibrated (``kind = "molecular"``).

    Parameters
    ----------
    topology
        Site types, molecules and the nonbonded model; ``None`` only for the
        registry's unconfigured entry, which :meth:`configure` turns into a
        usable potential.
    """

    topology: Topology | None = None
    name: str = "forcefield"
    description: str = (
        "molecular force field: LJ or Mie sites in bonded molecules (bonds, angles, "
        "torsions, 1-4 scaling), a cut-off with tail corrections; the nonbonded parameters "
        "of each site type are calibrated"
    )
    reference: str = "bayesff.potentials.forcefield (docs/molecular.md)"
    kind: str = field(default="molecular", init=False)

    @property
    def params(self) -> tuple[ParamSpec, ...]:
        """One :class:`~bayesff.potentials.ParamSpec` per nonbonded parameter."""
        return () if self.topology is None else parameter_specs(self.topology)

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def energy(self, counts, positions, box, **params):
        """Potential energy (kJ/mol) of a configuration of ``counts`` molecules.

        ``counts``: ``((molecule name, number), ...)``; positions (N, 3) and box
        edges (3,) in angstrom (``box=None``: isolated molecules).
        """
        system = ff.System(self._configured(), tuple(counts))
        return ff.energy(system, positions, box, params)

    def _configured(self) -> Topology:
        if self.topology is None:
            raise ProblemError(
                "the forcefield potential needs its molecules: give [potential] form, "
                "combining_rule, r_cut, r_cut_unit, tail, site_types and [[molecules]] tables",
                "[potential]",
            )
        return self.topology

    def configure(self, options: dict, where: str = "[potential]") -> ForceFieldPotential:
        """The potential of a problem file's ``[potential]`` options and ``[[molecules]]``.

        Raises
        ------
        ProblemError
            Naming the file (``where``) and the field: unknown keys, missing site
            types or molecules, and every error of
            :func:`~bayesff.potentials.topology.topology_from_dict`.
        UnitError
            A unit that is unknown or of the wrong dimension, named the same way.
        """
        extra = sorted(set(options) - set(OPTION_KEYS))
        if extra:
            raise ProblemError(
                f"unknown key(s) {', '.join(extra)} for a forcefield potential; expected "
                f"kind, {', '.join(k for k in OPTION_KEYS if k != 'molecules')} and "
                "top-level [[molecules]] tables",
                where,
            )
        required = ("site_types", "molecules", "r_cut", "r_cut_unit")
        missing = [k for k in required if k not in options]
        if missing:
            shown = ["[[molecules]] tables" if k == "molecules" else k for k in missing]
            raise ProblemError(
                f"a forcefield potential needs {', '.join(shown)} (nothing is guessed)", where
            )
        try:
            topo = topology_from_dict(options)
        except (ProblemError, UnitError) as e:  # a unit's error too: it names the file
            # UnitError is ProblemError's sibling (both BayesffError): without it here a
            # bad mass_unit or r_cut_unit lost the file name (input audit)
            field_ = e.where or ""
            if field_.startswith("topology."):
                field_ = field_[len("topology.") :]
            # molecules are a top-level table of the file; the rest sit in [potential]
            file_ = where[: -len("[potential]")] if where.endswith("[potential]") else ""
            if field_.startswith("molecules"):
                loc = f"{file_}{field_}"
            else:
                loc = f"{where}.{field_}".rstrip(".")
            raise type(e)(e.message, loc) from None
        return ForceFieldPotential(topo)


#: The registry's entry: configured from a problem file (``kind = "forcefield"``).
FORCEFIELD = register(ForceFieldPotential())
