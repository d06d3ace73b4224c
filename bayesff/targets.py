"""Targets: an observable, its environments, observed values and noise model."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bayesff import units
from bayesff.data import ManifestEntry, load_table
from bayesff.errors import ProblemError
from bayesff.observables._spec import Observable, get_observable

__all__ = ["INADEQUACY_KINDS", "Inadequacy", "Target", "select_rows"]

INADEQUACY_KINDS = ("none", "inferred_scale")


@dataclass(frozen=True)
class Inadequacy:
    r"""Model-inadequacy (discrepancy) term of one target.

    ``kind = "none"``: :math:`y_i \sim N(f_i(\theta), u_i)`.

    ``kind = "inferred_scale"``: an extra, inferred error scale added in
    quadrature to the measurement uncertainty,

    .. math:: y_i \sim N\left(f_i(\theta), \sqrt{u_i^2 + \tau^2 s_i^2}\right),
              \qquad \tau \sim \mathrm{HalfNormal}(\tau_0)

    with :math:`s_i = |y_i|` for ``form = "relative"`` (tau is a fraction) or
    :math:`s_i = 1` for ``form = "absolute"`` (tau in the observable's unit).
    tau is a parameter of the posterior named ``tau_<target>``: a large tau
    says the potential cannot reproduce the data within their uncertainty.
    """

    kind: str = "none"
    form: str = "relative"
    prior_scale: float = 0.1

    def __post_init__(self):
        if self.kind not in INADEQUACY_KINDS:
            raise ProblemError(
                f"unknown inadequacy {self.kind!r}; expected one of {', '.join(INADEQUACY_KINDS)}"
            )
        if self.form not in ("relative", "absolute"):
            raise ProblemError(f"inadequacy form must be relative or absolute, got {self.form!r}")
        if not self.prior_scale > 0:
            raise ProblemError(f"inadequacy prior_scale must be > 0, got {self.prior_scale!r}")


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
            ``None`` trains on every row.
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
        table = load_table(path, cols, where=f"{where}.data")
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
        if train is not None:
            target.train = select_rows(target._env_file_units(), train, f"{where}.train")
        return target

    def _env_file_units(self) -> dict[str, np.ndarray]:
        return {c: self.env_display(c) for c in self.observable.env_columns}

    def add_holdout(self, label: str, select: dict, where: str | None = None) -> np.ndarray:
        """Mark rows in ``select`` (file units) and outside training as held out.

        Returns the mask; raises if it selects no row.
        """
        where = where or f"target {self.name!r} holdout {label!r}"
        mask = select_rows(self._env_file_units(), select, f"{where}.select") & ~self.train
        if not mask.any():
            raise ProblemError("the selection keeps no rows outside the training set", where)
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
        mask &= (v >= rng[0]) & (v <= rng[1])
    return mask
