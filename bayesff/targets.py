"""Targets: an observable, its environments, observed values and noise model."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bayesff import units
from bayesff.data import ManifestEntry, load_table
from bayesff.errors import ProblemError
from bayesff.observables._spec import Observable, get_observable

__all__ = ["INADEQUACY_KINDS", "Inadequacy", "Target", "select_rows"]

INADEQUACY_KINDS = ("none", "inferred_scale", "hierarchical", "gp")


@dataclass(frozen=True)
class Inadequacy:
    r"""Model-inadequacy (discrepancy) term of one target.

    With forward model :math:`f_i(\theta)`, data :math:`y_i` and standard
    uncertainties :math:`u_i`, and the scale :math:`s_i = |f_i(\theta)|` for
    ``form = "relative"`` or :math:`s_i = 1` for ``form = "absolute"``:

    ``"none"``
        :math:`y_i \sim N(f_i(\theta), u_i)`.
    ``"inferred_scale"``
        an extra error scale in quadrature,
        :math:`y_i \sim N(f_i, \sqrt{u_i^2 + \tau^2 s_i^2})`,
        :math:`\tau \sim \mathrm{HalfNormal}(\tau_0)`; posterior variable
        ``tau_<target>``. Widens every prediction alike.
    ``"hierarchical"``
        per-environment parameters with partial pooling: the training rows
        are cut into ``bands`` contiguous bands of the environment coordinate
        and each pooled parameter varies by band,
        :math:`\theta_{k,b} = \theta_k \exp(\omega_k z_{k,b})`,
        :math:`z_{k,b} \sim N(0, 1)`, :math:`\omega_k \sim \mathrm{HalfNormal}(\tau_0)`
        (posterior variables ``omega_<param>_<target>``: the relative
        between-environment spread of the parameter, a direct measure of
        non-transferability). A held-out environment is a new band with a
        fresh :math:`\\eta \\sim N(0, \\omega_k)`.
    ``"gp"``
        a Gaussian-process discrepancy over the environment coordinate x
        (the first environment column),
        :math:`y_i \sim N(f_i + s_i\, g(x_i), u_i)`,
        :math:`g \sim GP(0, \alpha^2 \exp(-(x - x')^2 / 2\ell^2))` in the
        Hilbert-space approximation of numpyro.contrib.hsgp with ``gp_basis``
        basis functions on the coordinate scaled to [-1, 1] over training and
        held-out rows, :math:`\alpha \sim \mathrm{HalfNormal}(\tau_0)`,
        :math:`\ell \sim \mathrm{LogNormal}(\ln 0.5, 0.5)` (scaled units).
        Posterior variables ``alpha_<target>``, ``length_<target>``.
        Away from the training rows g reverts to its prior, so predictive
        intervals widen where there is no data.

    Parameters
    ----------
    kind, form, prior_scale
        As above; ``prior_scale`` is :math:`\tau_0`.
    parameters
        ``hierarchical``: names of the pooled parameters (default: the free
        energy parameters, e.g. epsilon: a well depth that may drift with the
        environment; pooling epsilon and sigma together within a narrow band
        of B2 data leaves a ridge that NUTS samples badly).
    bands
        ``hierarchical``: number of environment bands of the training rows.
    gp_basis
        ``gp``: number of HSGP basis functions.
    """

    kind: str = "none"
    form: str = "relative"
    prior_scale: float = 0.1
    parameters: tuple[str, ...] | None = None
    bands: int = 4
    gp_basis: int = 20

    def __post_init__(self):
        if self.kind not in INADEQUACY_KINDS:
            raise ProblemError(
                f"unknown inadequacy {self.kind!r}; expected one of {', '.join(INADEQUACY_KINDS)}"
            )
        if self.form not in ("relative", "absolute"):
            raise ProblemError(f"inadequacy form must be relative or absolute, got {self.form!r}")
        ps = self.prior_scale
        if not (isinstance(ps, (int, float)) and not isinstance(ps, bool) and ps > 0):
            raise ProblemError(f"inadequacy prior_scale must be > 0, got {self.prior_scale!r}")
        if not (isinstance(self.bands, int) and self.bands >= 2):
            raise ProblemError(f"inadequacy bands must be an integer >= 2, got {self.bands!r}")
        if not (isinstance(self.gp_basis, int) and self.gp_basis >= 4):
            raise ProblemError(
                f"inadequacy gp_basis must be an integer >= 4, got {self.gp_basis!r}"
            )
        if self.parameters is not None:
            object.__setattr__(self, "parameters", tuple(self.parameters))

    @classmethod
    def from_value(cls, value, where: str | None = None) -> Inadequacy:
        """From a problem file: a kind name or a table of the fields above."""
        fields = {"kind", "form", "prior_scale", "parameters", "bands", "gp_basis"}
        try:
            if isinstance(value, str):
                return cls(kind=value)
            if isinstance(value, dict) and "kind" in value and set(value) <= fields:
                return cls(**value)
        except ProblemError as e:
            raise ProblemError(e.message, where) from None
        raise ProblemError(
            f"inadequacy must be one of {', '.join(INADEQUACY_KINDS)} or a table with kind and "
            f"optional {', '.join(sorted(fields - {'kind'}))}, got {value!r}",
            where,
        )


@dataclass
class Target:
    """An observable with observed values at a set of environments.

    Attributes
    ----------
    name
        Target name (a variable of the run file).
    observable
        The forward model.
    env
        Environment column -> array (internal units), one entry per row.
    values, uncertainties
        Observations and their standard uncertainties, in ``observable.unit``.
    train
        Boolean mask of rows used for calibration.
    holdout
        Group label -> boolean mask of held-out rows (never training rows).
    inadequacy
        Model-inadequacy term.
    file_units
        Column -> unit as given in the source file (for selections and reports).
    provenance
        The data file's manifest entry, or ``None`` for arrays given in Python.
    cutoff
        Cut-off convention to predict this target under, when it differs from
        the problem's (``{"scheme": ..., "r_c": ..., "unit": ...}``); ``None``
        uses the problem's potential. This is how a calibration under one
        convention is tested in another.
    repair
        ``"none"``, or ``"match_b2"``: map the parameters from the problem's
        convention to this target's one so that B2 agrees at each temperature
        (:mod:`bayesff.observables.conventions`).
    repair_reference_T_K
        With ``repair = "match_b2"``: solve the mapping once at this
        temperature (K) and apply it at every temperature, a T-independent
        rescaling of epsilon; ``None`` maps at each temperature.
    options
        Keyword options for the observable's forward model (e.g.
        ``{"closure": "py", "n": 1024}`` for a structure target); only the
        names in ``observable.options`` are accepted.
    """

    name: str
    observable: Observable
    env: dict[str, np.ndarray]
    values: np.ndarray
    uncertainties: np.ndarray
    train: np.ndarray
    holdout: dict[str, np.ndarray] = field(default_factory=dict)
    inadequacy: Inadequacy = field(default_factory=Inadequacy)
    file_units: dict[str, str] = field(default_factory=dict)
    provenance: ManifestEntry | None = None
    data_path: str | None = None
    cutoff: dict | None = None
    repair: str = "none"
    repair_reference_T_K: float | None = None
    options: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.values)

    def env_display(self, column: str) -> np.ndarray:
        """An environment column in its file unit (or the internal unit)."""
        dim = next(f.dimension for f in self.observable.env if f.column == column)
        unit = self.file_units.get(column, units.INTERNAL_UNITS[dim])
        return units.from_internal(self.env[column], unit, dim)

    @classmethod
    def from_file(
        cls,
        name: str,
        observable: str | Observable,
        path,
        *,
        train: dict | None = None,
        noise_column: str | None = None,
        inadequacy: Inadequacy | None = None,
        data_label: str | None = None,
        where: str | None = None,
    ) -> Target:
        """Build a target from a data file listed in a ``manifest.toml``.

        Parameters
        ----------
        name
            Target name.
        observable
            Observable or its registry name, e.g. ``"second_virial"``.
        path
            CSV data file.
        train
            Training selection ``{column: [low, high]}`` in the file's units;
            ``None`` trains on every row; ``False`` uses no row for training
            (a held-out target, predicted only; its group is its name).
        noise_column
            Column of standard uncertainties (default: the observable's).
        inadequacy
            Model-inadequacy term (default none).
        data_label
            How the file is named in reports (default: ``path``).
        where
            Problem file and field, for error messages.
        """
        where = where or f"target {name!r}"
        obs = (
            get_observable(observable, f"{where}.observable")
            if isinstance(observable, str)
            else observable
        )
        noise_column = noise_column or obs.uncertainty_column
        cols = {f.column: f.dimension for f in obs.env}
        cols[obs.value_column] = obs.dimension
        cols[noise_column] = obs.dimension
        table = load_table(path, cols, where=f"{where}.data", positive=(noise_column,))
        # values in the observable's reporting unit
        rep = units.factor(obs.unit, obs.dimension)
        target = cls(
            name=name,
            observable=obs,
            env={c: table.columns[c] for c in obs.env_columns},
            values=table.columns[obs.value_column] / rep,
            uncertainties=table.columns[noise_column] / rep,
            train=np.ones(table.n_rows, bool),
            inadequacy=inadequacy or Inadequacy(),
            file_units={c: table.file_units[c] for c in obs.env_columns},
            provenance=table.entry,
            data_path=data_label or str(path),
        )
        if train is False:
            # a target never used in training: every row is held out
            target.train = np.zeros(table.n_rows, bool)
            target.holdout[name] = np.ones(table.n_rows, bool)
        elif train is not None:
            target.train = select_rows(target._env_file_units(), train, f"{where}.train")
            if not target.train.any():
                raise ProblemError(
                    "the training selection keeps no rows (use train = false for a target "
                    "that is only predicted)",
                    f"{where}.train",
                )
        return target

    def _env_file_units(self) -> dict[str, np.ndarray]:
        return {c: self.env_display(c) for c in self.observable.env_columns}

    def add_holdout(self, label: str, select: dict, where: str | None = None) -> np.ndarray:
        """Mark rows in ``select`` (file units) and outside training as held out.

        Returns the mask; raises if it selects no row.
        """
        where = where or f"target {self.name!r} holdout {label!r}"
        if label in self.holdout:
            raise ProblemError(f"a held-out group named {label!r} exists already", where)
        mask = select_rows(self._env_file_units(), select, f"{where}.select") & ~self.train
        if not mask.any():
            raise ProblemError("the selection keeps no rows outside the training set", where)
        for other, m in self.holdout.items():
            if (m & mask).any():
                raise ProblemError(
                    f"overlaps held-out group {other!r} in {int((m & mask).sum())} row(s); "
                    "each held-out row belongs to one group",
                    where,
                )
        self.holdout[label] = mask
        return mask

    @classmethod
    def from_arrays(
        cls,
        name: str,
        observable: Observable,
        env: dict,
        values,
        uncertainties,
        *,
        train=None,
        inadequacy: Inadequacy | None = None,
    ) -> Target:
        """Build a target from arrays already in internal units (for Python use)."""
        values = np.asarray(values, dtype=float)
        unc = np.broadcast_to(np.asarray(uncertainties, dtype=float), values.shape).copy()
        env = {k: np.asarray(v, dtype=float) for k, v in env.items()}
        missing = [c for c in observable.env_columns if c not in env]
        if missing:
            raise ProblemError(
                f"environment lacks {', '.join(missing)}; {observable.name} needs "
                f"{', '.join(observable.env_columns)}",
                f"target {name!r}",
            )
        for k, v in env.items():
            if v.shape != values.shape:
                raise ProblemError(
                    f"environment column {k!r} has shape {v.shape}, values have {values.shape}",
                    f"target {name!r}",
                )
        if not (np.all(np.isfinite(values)) and np.all(np.isfinite(unc)) and np.all(unc > 0)):
            raise ProblemError(
                "values must be finite and uncertainties finite and > 0", f"target {name!r}"
            )
        train = np.ones(values.shape, bool) if train is None else np.asarray(train, bool)
        return cls(
            name, observable, env, values, unc, train, inadequacy=inadequacy or Inadequacy()
        )


def select_rows(target_env_display: dict[str, np.ndarray], select: dict, where: str) -> np.ndarray:
    """Rows whose environment lies in every ``column = [low, high]`` range (inclusive).

    Ranges are in the file's unit of the column (the unit its name states).
    """
    n = len(next(iter(target_env_display.values())))
    mask = np.ones(n, bool)
    if not isinstance(select, dict) or not select:
        raise ProblemError(
            f"a selection is a table of column = [low, high], got {select!r}", where
        )
    for col, rng in select.items():
        if col not in target_env_display:
            raise ProblemError(
                f"cannot select on {col!r}; environment columns are "
                f"{', '.join(target_env_display)}",
                where,
            )
        ok = (
            isinstance(rng, list)
            and len(rng) == 2
            and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in rng)
            and rng[0] <= rng[1]
        )
        if not ok:
            raise ProblemError(f"{col} must be [low, high] with low <= high, got {rng!r}", where)
        v = target_env_display[col]
        # the file-unit values come back from internal units: allow a few ulp so
        # that a bound equal to a value in the file selects it
        lo = rng[0] - 1e-9 * abs(rng[0])
        hi = rng[1] + 1e-9 * abs(rng[1])
        mask &= (v >= lo) & (v <= hi)
    return mask
