"""Targets: an observable, its environments, observed values and noise model.

A :class:`Target` holds the rows of one data file (or arrays given in
Python): environments in internal units, observed values (a scalar or a
vector per row) and their standard uncertainties, which rows train the model
and which are held out (in named groups), the model-inadequacy term, nuisance
parameters of the observation, and the forward model's options. Its
:meth:`Target.forward` is a hashable key (:class:`Forward`) of the forward
model, so that problems with the same forward model share a compiled sampler.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import functools
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jax
import numpy as np

from bayesff import units
from bayesff.configdata import Configurations, configuration_rows, site_units
from bayesff.data import (
    NONNEGATIVE_DIMENSIONS,
    POSITIVE_DIMENSIONS,
    UNCERTAINTY_ABS_FLOOR,
    UNCERTAINTY_REL_FLOOR,
    LoadedRows,
    ManifestEntry,
    find_manifest,
    load_table,
    read_manifest,
)
from bayesff.errors import DataError, ProblemError, UnitError
from bayesff.observables._spec import Observable, get_observable
from bayesff.observables.conventions import matched_builder
from bayesff.potentials.cutoff import wrap_cutoff
from bayesff.priors import PriorSpec
from bayesff.schemas import TARGET_NAME_PATTERN, check_name

__all__ = [
    "ERROR_MODELS",
    "INADEQUACY_KINDS",
    "Conventions",
    "ErrorModel",
    "Forward",
    "Inadequacy",
    "Likelihood",
    "LoadedRows",
    "Nuisance",
    "Observations",
    "Split",
    "Target",
    "configuration_targets",
    "freeze",
    "select_rows",
]

INADEQUACY_KINDS = ("none", "inferred_scale", "hierarchical", "gp")
INADEQUACY_FORMS = ("relative", "absolute", "log")


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
        ``tau_<target>``. Widens every prediction alike. With ``form = "log"`` the
        error is multiplicative, for positive quantities whose misfit may reach
        factors of two (vapour pressures of a transferable model):
        :math:`\ln y_i \sim N(\ln f_i, \sqrt{(u_i^2 + e_i^2)/f_i^2 + \tau^2})`, a
        log-normal density of :math:`y_i` (its log-likelihood is of y, so it compares
        with the other forms' by LOO); a row with :math:`f_i \le 0` has density zero.
        With ``shared = "NAME"`` every target naming NAME has one scale, the
        posterior variable ``tau_NAME`` (one misfit per property of a transferable
        model across molecules, instead of one per molecule); a target of the set
        without training rows predicts with it.
    ``"hierarchical"``
        per-environment parameters with partial pooling: the training rows
        are cut into ``bands`` contiguous bands of the environment coordinate
        and each pooled parameter varies by band,
        :math:`\theta_{k,b} = \theta_k \exp(\eta_{k,b})`,
        :math:`\eta_{k,b} \sim N(0, \omega_k)`, :math:`\omega_k \sim \mathrm{HalfNormal}(\tau_0)`
        (posterior variables ``omega_<param>_<target>``: the relative
        between-environment spread of the parameter, a direct measure of
        non-transferability). A held-out group is a new environment with a
        fresh :math:`\eta \sim N(0, \omega_k)`.
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
    shared
        ``inferred_scale``: the name of a scale shared by every target that names it
        (``tau_<shared>``); None: the target's own scale.
    """

    kind: str = "none"
    form: str = "relative"
    prior_scale: float = 0.1
    parameters: tuple[str, ...] | None = None
    bands: int = 4
    gp_basis: int = 20
    shared: str | None = None

    def __post_init__(self):
        if self.kind not in INADEQUACY_KINDS:
            raise ProblemError(
                f"unknown inadequacy {self.kind!r}; expected one of {', '.join(INADEQUACY_KINDS)}"
            )
        if self.form not in INADEQUACY_FORMS:
            raise ProblemError(
                f"inadequacy form must be one of {', '.join(INADEQUACY_FORMS)}, got {self.form!r}"
            )
        if self.form == "log" and self.kind not in ("none", "inferred_scale"):
            raise ProblemError(
                f"inadequacy form 'log' is an error model of inferred_scale, not of {self.kind}"
            )
        ps = self.prior_scale
        if not (isinstance(ps, (int, float)) and not isinstance(ps, bool) and 0 < ps < np.inf):
            raise ProblemError(f"inadequacy prior_scale must be > 0, got {self.prior_scale!r}")
        if (
            not (isinstance(self.bands, int) and not isinstance(self.bands, bool))
            or self.bands < 2
        ):
            raise ProblemError(f"inadequacy bands must be an integer >= 2, got {self.bands!r}")
        gb = self.gp_basis
        if not (isinstance(gb, int) and not isinstance(gb, bool)) or gb < 4:
            raise ProblemError(
                f"inadequacy gp_basis must be an integer >= 4, got {self.gp_basis!r}"
            )
        if self.shared is not None:
            if self.kind != "inferred_scale":
                raise ProblemError(
                    "inadequacy shared names the scale of an inferred_scale inadequacy; "
                    f"a {self.kind} inadequacy has none",
                    "shared",
                )
            check_name(self.shared, TARGET_NAME_PATTERN, "shared", "inadequacy shared")
        if self.parameters is not None:
            if isinstance(self.parameters, str) or not all(
                isinstance(p, str) for p in self.parameters
            ):
                raise ProblemError(
                    f"inadequacy parameters must be a list of names, got {self.parameters!r}"
                )
            object.__setattr__(self, "parameters", tuple(self.parameters))

    @classmethod
    def from_value(cls, value, where: str | None = None) -> Inadequacy:
        """From a problem file: a kind name or a table of the fields above."""
        fields = {"kind", "form", "prior_scale", "parameters", "bands", "gp_basis", "shared"}
        if isinstance(value, dict) and value.get("kind") == "none" and set(value) != {"kind"}:
            extra = ", ".join(sorted(set(value) - {"kind"}))
            raise ProblemError(
                f"inadequacy kind 'none' takes no other fields, got {extra}: they would be "
                'ignored (did you mean kind = "inferred_scale"?). To switch a base\'s '
                'inadequacy off in a sweep\'s set, write inadequacy = "none": a string '
                "replaces the base's table, a table is merged into it",
                where,
            )
        own = {"parameters": "hierarchical", "bands": "hierarchical", "gp_basis": "gp"}
        if isinstance(value, dict) and value.get("kind") in INADEQUACY_KINDS:
            stray = sorted(k for k, kind in own.items() if k in value and value["kind"] != kind)
            if stray:
                raise ProblemError(
                    f"inadequacy kind {value['kind']!r} does not use "
                    + ", ".join(f"{k} (a setting of {own[k]!r})" for k in stray)
                    + ": it would be ignored; remove it or change the kind",
                    where,
                )
        try:
            if isinstance(value, str):
                return cls(kind=value)
            if isinstance(value, dict) and "kind" in value and set(value) <= fields:
                return cls(**value)
        except ProblemError as e:
            # a field's own error (``shared``) is placed under the table's location
            at = f"{where}.{e.where}" if where and e.where else where or e.where
            raise ProblemError(e.message, at) from None
        raise ProblemError(
            f"inadequacy must be one of {', '.join(INADEQUACY_KINDS)} or a table with kind and "
            f"optional {', '.join(sorted(fields - {'kind'}))}, got {value!r}",
            where,
        )


ERROR_MODELS = ("independent", "covariance", "discrepancy_gp")


#: The GP discrepancy's prior median length scale over the [0, 1]-scaled coordinate.
DEFAULT_GP_LENGTH_SCALE = 0.1


@dataclass(frozen=True)
class ErrorModel:
    r"""How the errors of a target's rows are correlated (a curve: S(q), g(r), a scan).

    With model means :math:`f_i`, data :math:`y_i`, stated standard
    uncertainties :math:`u_i` and the inadequacy and floor variances
    :math:`v_i` (:class:`Inadequacy`, forward-model floor):

    ``"independent"``
        :math:`y_i \sim N(f_i, \sqrt{u_i^2 + v_i})` independently (every point
        is a separate measurement).
    ``"covariance"``
        :math:`y \sim MVN(f, C + \mathrm{diag}(v))` with a full covariance
        matrix C of the curve's errors: read from a data file (``data``, an
        n x n CSV with provenance, rows and columns in the target's row order)
        or estimated by block bootstrap from replicate curves or a trajectory
        (``replicates``: a CSV of curves, one per row, on the target's grid;
        ``block_length`` consecutive replicates are resampled together).
    ``"discrepancy_gp"``
        :math:`y = f + \delta(x) + \epsilon`, :math:`\epsilon_i \sim N(0,
        \sqrt{u_i^2 + v_i})`, :math:`\delta \sim GP(0, a^2 k_{5/2}(|x - x'| /
        \ell))` with the Matern-5/2 correlation :math:`k_{5/2}(r) = (1 + \sqrt5 r +
        5r^2/3) e^{-\sqrt5 r}` over the curve's coordinate x (the environment column
        that varies, scaled to [0, 1] over the target's rows), marginalised:
        :math:`y \sim MVN(f, K + \mathrm{diag}(u^2 + v))`, with
        :math:`a \sim \mathrm{HalfNormal}(a_0)` (``amplitude_scale``, in the
        observable's unit) and :math:`\ell \sim \mathrm{LogNormal}(\ln
        \ell_0, 0.75)` (``length_scale``, scaled coordinate). Posterior
        variables ``delta_amplitude_<target>``, ``delta_length_<target>``.

    The multivariate likelihood is evaluated through a Cholesky factor
    (numpyro's ``MultivariateNormal``), or for the GP discrepancy by tinygp's
    ``GaussianProcess`` (dense Cholesky for short curves, its O(n)
    quasiseparable solver for long ones: :data:`bayesff.model.QUASISEP_MIN_ROWS`). A curve is
    one observation of the pointwise log-likelihood. Held-out rows of a
    correlated target are predicted with the error model's marginal (not
    conditioned on the training residuals).
    """

    kind: str = "independent"
    data: str | None = None
    replicates: str | None = None
    block_length: int | None = None
    amplitude_scale: float | None = None
    length_scale: float | None = None  # None: DEFAULT_GP_LENGTH_SCALE

    def __post_init__(self):
        if self.kind not in ERROR_MODELS:
            raise ProblemError(
                f"unknown error model {self.kind!r}; expected one of {', '.join(ERROR_MODELS)}"
            )
        given = [k for k in ("data", "replicates", "block_length") if getattr(self, k) is not None]
        if self.kind != "covariance" and given:
            raise ProblemError(
                f"{', '.join(given)} belong to a covariance error model; a {self.kind} error "
                "model takes none (they would be ignored). To replace a base's covariance "
                f'model in a sweep\'s set, write error_model = "{self.kind}": a string '
                "replaces the base's table, a table is merged into it"
            )
        gp_only = [k for k in ("amplitude_scale", "length_scale") if getattr(self, k) is not None]
        if self.kind != "discrepancy_gp" and gp_only:
            raise ProblemError(
                f"{', '.join(gp_only)} belong to a discrepancy_gp error model; a {self.kind} "
                "error model takes none (they would be ignored). To replace a base's GP "
                f'discrepancy in a sweep\'s set, write error_model = "{self.kind}": a string '
                "replaces the base's table, a table is merged into it"
            )
        if self.kind == "covariance" and (self.data is None) == (self.replicates is None):
            raise ProblemError(
                "a covariance error model needs exactly one of data (a covariance file) or "
                "replicates (curves to bootstrap)"
            )
        if self.block_length is not None and (
            not isinstance(self.block_length, int) or self.block_length < 1
        ):
            raise ProblemError(f"block_length must be an integer >= 1, got {self.block_length!r}")
        for k in ("amplitude_scale", "length_scale"):
            v = getattr(self, k)
            if v is not None and not (isinstance(v, (int, float)) and 0 < v < np.inf):
                raise ProblemError(f"{k} must be a finite number > 0, got {v!r}")

    @property
    def correlated(self) -> bool:
        return self.kind != "independent"

    @property
    def gp_length_scale(self) -> float:
        """The GP discrepancy's prior length scale l_0 (scaled coordinate)."""
        return DEFAULT_GP_LENGTH_SCALE if self.length_scale is None else float(self.length_scale)


@dataclass(frozen=True)
class Nuisance:
    """A nuisance parameter of a target (e.g. an energy offset), in ``unit``.

    ``prior`` is in ``unit``; ``value`` fixes it instead (the prior is then a
    point: the model still receives it as data).
    """

    name: str
    unit: str
    dimension: str
    prior: PriorSpec | None
    value: float | None = None

    @property
    def factor(self) -> float:
        return units.factor(self.unit, self.dimension)


def freeze(value):
    """A hashable copy of option values (dicts and lists to sorted tuples)."""
    if isinstance(value, dict):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    if isinstance(value, np.ndarray):
        return tuple(value.ravel().tolist()), value.shape
    return value


@dataclass(frozen=True)
class Forward:
    """A forward model as a hashable key: ``builder(potential, **options)``.

    Two targets with equal keys (the same builder, an equal potential and
    equal options) build the same ``predict`` function, so the model code,
    and the sampler compiled from it, is shared.
    """

    builder: Callable
    potential: Any
    options: tuple = ()
    raw_options: dict = field(default_factory=dict, compare=False, hash=False)

    def build(self):
        """``predict(params, env, **nuisance)`` (built once per key)."""
        return _build(self)


@functools.lru_cache(maxsize=512)
def _build(fwd: Forward):

    # Built on first use, which may be inside a trace (the model is traced by the
    # sampler, the post-processing, ...): evaluate the builder's own constants eagerly,
    # so the cached predict function never holds a tracer of the trace that built it.
    with jax.ensure_compile_time_eval():
        return fwd.builder(fwd.potential, **fwd.raw_options)


def _read_only(a, dtype=None) -> np.ndarray:
    """``a`` as an array that cannot be written to (copied unless it is one already)."""
    a = np.asarray(a, dtype=dtype)
    if a.flags.writeable:
        a = a.copy()
        a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Observations:
    """A target's rows as observed (internal units; values in the observable's unit).

    Attributes
    ----------
    env
        Environment column -> array, leading axis one entry per row.
    values, uncertainties
        Observations and their standard uncertainties, shape ``(n,)`` or
        ``(n, *value shape)`` for vector rows.
    labels
        Row labels for the run file when rows are not named by an environment
        column (configuration ids), else ``None``.
    file_units
        Column -> unit as given in the source file (for selections and reports).
    extra_columns
        The file's other numeric columns in their file units (selections such as
        ``T_over_Tc``).
    provenance
        The data file's manifest entry, or ``None`` for arrays given in Python.
    data_path
        How the data file is named (the problem file's ``data``).
    file_excluded
        Rows of the file that were left out, as ``"line N: reason"``.
    aux
        Prepared arrays the forward model reads (MD reference runs,
        :mod:`bayesff.prepared`), or ``None``.
    read_options
        How the file was read, as a problem file's target writes it (``rows``,
        ``duplicates``, ``noise``), only where not the reader's default: a problem
        built in Python records them in its document, so that the run's problem can
        be read back from the run (``{}`` for arrays given in Python).
    """

    env: dict
    values: np.ndarray
    uncertainties: np.ndarray
    labels: np.ndarray | None = None
    file_units: dict = field(default_factory=dict)
    extra_columns: dict = field(default_factory=dict)
    provenance: ManifestEntry | None = None
    data_path: str | None = None
    file_excluded: tuple = ()
    aux: dict | None = None
    read_options: dict = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "env", {k: _read_only(v) for k, v in self.env.items()})
        object.__setattr__(self, "values", _read_only(self.values, float))
        object.__setattr__(self, "uncertainties", _read_only(self.uncertainties, float))
        if self.labels is not None:
            object.__setattr__(self, "labels", _read_only(self.labels))
        object.__setattr__(self, "file_units", dict(self.file_units))
        object.__setattr__(self, "extra_columns", dict(self.extra_columns))
        object.__setattr__(self, "file_excluded", tuple(self.file_excluded))
        if self.aux is not None:
            object.__setattr__(self, "aux", {k: _read_only(v) for k, v in self.aux.items()})


@dataclass(frozen=True, eq=False)
class Split:
    """Which rows train the model and which are held out, in named groups.

    ``train`` is a boolean mask; ``holdout`` maps a group label to a boolean
    mask of rows outside training (each held-out row in one group).
    ``selection`` holds the rules the masks were made by, as a problem file writes
    them: ``"train"`` (a ``{column: [low, high]}`` table, ``False`` or ``None`` for
    every row) and ``"holdout"`` (label -> table), where they are known (``{}``: masks
    given in Python). A problem's document writes them only where they still give
    the masks (:meth:`Target.recorded_selection`).
    """

    train: np.ndarray
    holdout: dict = field(default_factory=dict)
    selection: dict = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "train", _read_only(self.train, bool))
        object.__setattr__(
            self, "holdout", {g: _read_only(m, bool) for g, m in self.holdout.items()}
        )


@dataclass(frozen=True, eq=False)
class Likelihood:
    """How a target's observations relate to the model beyond their stated uncertainties.

    Attributes
    ----------
    inadequacy
        Model-inadequacy term (:class:`Inadequacy`).
    error_model, covariance
        How the rows' errors are correlated (:class:`ErrorModel`), and the
        covariance matrix of a ``covariance`` error model.
    floor
        Per-row floor of the model error (observable's unit) added in
        quadrature: the forward model's validated error (zeros when none).
    nuisance
        Nuisance parameters of the observation by name (defaults from the
        observable's table).
    floor_given
        The floor as given (by the user, or by prepared MD runs) before the
        problem raised it to the forward model's validated error (``None``:
        ``floor`` is as given). A problem changed later raises this one again,
        so a forward model with a smaller error lowers the floor.
    """

    inadequacy: Inadequacy = field(default_factory=Inadequacy)
    error_model: ErrorModel = field(default_factory=ErrorModel)
    covariance: np.ndarray | None = None
    floor: np.ndarray | None = None
    nuisance: dict = field(default_factory=dict)
    floor_given: np.ndarray | None = None

    def __post_init__(self):
        for k in ("covariance", "floor", "floor_given"):
            if getattr(self, k) is not None:
                object.__setattr__(self, k, _read_only(getattr(self, k), float))
        object.__setattr__(self, "nuisance", dict(self.nuisance))


@dataclass(frozen=True)
class Conventions:
    """The conventions a target is predicted under.

    Attributes
    ----------
    cutoff
        Cut-off convention to predict this target under, when it differs from
        the problem's (``{"scheme": ..., "r_c": ..., "unit": ...}``); ``None``
        uses the problem's potential.
    repair
        ``"none"``, or ``"match_b2"``: map the parameters from the problem's
        convention to this target's one so that B2 agrees at each temperature
        (:mod:`bayesff.observables.conventions`).
    repair_reference_T_K
        With ``repair = "match_b2"``: solve the mapping once at this
        temperature (K) and apply it at every temperature.
    options
        Keyword options for the observable's forward model (e.g.
        ``{"closure": "py", "n": 1024}``); only ``observable.options`` names.
    fixed
        Potential parameters given their own fixed value for this target
        (name -> value in the problem's unit of that parameter), replacing the
        problem's fixed value: the segment count of each molecule of a
        transferable chain model (``fixed = { segments = 2.0 }``). Checked by the
        problem (a fixed parameter of its potential, a value in its support).
    group
        The group of targets this target belongs to under the problem's
        ``[pooling]`` (a molecule of a series: its saturated density and vapour
        pressure share one group), or ``None``: predicted with the shared
        parameters. Each group draws its own values of the pooled parameters
        around the shared ones (:class:`bayesff.problem.Pooling`).
    """

    cutoff: dict | None = None
    repair: str = "none"
    repair_reference_T_K: float | None = None
    options: dict = field(default_factory=dict)
    fixed: dict = field(default_factory=dict)
    group: str | None = None

    def __post_init__(self):
        if self.cutoff is not None:
            object.__setattr__(self, "cutoff", dict(self.cutoff))
        object.__setattr__(self, "options", dict(self.options))
        object.__setattr__(self, "fixed", dict(self.fixed))


#: Which part of a :class:`Target` each of its flat fields lives in (:meth:`Target.replace`).
_PART_OF = {
    **{f: "data" for f in Observations.__dataclass_fields__},
    **{f: "split" for f in Split.__dataclass_fields__},
    **{f: "likelihood" for f in Likelihood.__dataclass_fields__},
    **{f: "conventions" for f in Conventions.__dataclass_fields__},
}


def _part(part: str, name: str):
    """A read-only view of field ``name`` of part ``part`` as an attribute of Target."""
    return property(lambda self: getattr(getattr(self, part), name), doc=f"``{part}.{name}``.")


def _check_noise_value(u: float, values: np.ndarray, obs: Observable, where: str) -> None:
    """A constant uncertainty obeys the data files' floors (:data:`bayesff.data.
    UNCERTAINTY_REL_FLOOR` of each value, :data:`bayesff.data.UNCERTAINTY_ABS_FLOOR`):
    below them the residuals measure round-off, not physics."""
    need = np.maximum(UNCERTAINTY_ABS_FLOOR, UNCERTAINTY_REL_FLOOR * np.abs(values))
    low = np.flatnonzero(np.reshape(u < need, (len(values), -1)).any(axis=1))
    if low.size:
        i = int(low[0])
        raise ProblemError(
            f"noise value {u:g} {obs.unit} is below {UNCERTAINTY_REL_FLOOR:g} x the observed "
            f"value of row {i} ({float(np.max(np.abs(values[i]))):g} {obs.unit}; "
            f"{low.size} such row(s)), as a data file's uncertainty may not be: the residuals "
            "would measure round-off; expected a standard uncertainty of the measurement",
            f"{where}.noise",
        )


@dataclass(frozen=True, eq=False)
class Target:
    """An observable with observed values at a set of environments (an immutable record).

    A target is four parts, each frozen: its :class:`Observations` (``data``),
    its :class:`Split` into training and held-out rows, its :class:`Likelihood`
    (inadequacy, error model, floor, nuisance) and its :class:`Conventions`
    (cut-off, repair, forward-model options). Their fields read as the target's
    own (``t.values`` is ``t.data.values``); a changed target is a new one
    (:meth:`replace`, :meth:`with_train`, :meth:`with_holdout`).

    Attributes
    ----------
    name
        Target name (a variable of the run file).
    observable
        The forward model.
    data, split, likelihood, conventions
        The parts (see their classes for their fields).
    """

    name: str
    observable: Observable
    data: Observations
    split: Split
    likelihood: Likelihood = field(default_factory=Likelihood)
    conventions: Conventions = field(default_factory=Conventions)

    def __post_init__(self):
        lk = self.likelihood
        nuisance = dict(lk.nuisance)
        for spec in self.observable.nuisance:
            if spec.name not in nuisance:
                nuisance[spec.name] = Nuisance(
                    spec.name, spec.prior_unit, spec.dimension, spec.default_prior
                )
        floor = np.zeros(self.n) if lk.floor is None else lk.floor
        if nuisance != lk.nuisance or lk.floor is None:
            object.__setattr__(
                self, "likelihood", dataclasses.replace(lk, nuisance=nuisance, floor=floor)
            )

    env = _part("data", "env")
    values = _part("data", "values")
    uncertainties = _part("data", "uncertainties")
    labels = _part("data", "labels")
    file_units = _part("data", "file_units")
    extra_columns = _part("data", "extra_columns")
    provenance = _part("data", "provenance")
    data_path = _part("data", "data_path")
    file_excluded = _part("data", "file_excluded")
    aux = _part("data", "aux")
    read_options = _part("data", "read_options")
    train = _part("split", "train")
    holdout = _part("split", "holdout")
    selection = _part("split", "selection")
    inadequacy = _part("likelihood", "inadequacy")
    error_model = _part("likelihood", "error_model")
    covariance = _part("likelihood", "covariance")
    floor = _part("likelihood", "floor")
    floor_given = _part("likelihood", "floor_given")
    nuisance = _part("likelihood", "nuisance")
    cutoff = _part("conventions", "cutoff")
    repair = _part("conventions", "repair")
    repair_reference_T_K = _part("conventions", "repair_reference_T_K")
    options = _part("conventions", "options")
    fixed = _part("conventions", "fixed")
    group = _part("conventions", "group")

    def replace(self, **changes) -> Target:
        """A copy with some fields changed, named as the flat fields above
        (``t.replace(floor=f, inadequacy=Inadequacy("gp"))``) or as parts."""
        top, parts = {}, {}
        if "floor" in changes:
            # a floor set here is the given one (the problem raises it to the model's error)
            changes = {"floor_given": None, **changes}
        for k, v in changes.items():
            if k in self.__dataclass_fields__:
                top[k] = v
            elif k in _PART_OF:
                parts.setdefault(_PART_OF[k], {})[k] = v
            else:
                raise TypeError(f"Target has no field {k!r}")
        for part, ch in parts.items():
            top[part] = dataclasses.replace(top.get(part, getattr(self, part)), **ch)
        return dataclasses.replace(self, **top)

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def value_shape(self) -> tuple[int, ...]:
        return tuple(np.shape(self.values)[1:])

    # ------------------------------------------------------------------ rows
    def holdout_mask(self) -> np.ndarray:
        """Rows in any held-out group."""
        m = np.zeros(self.n, bool)
        for g in self.holdout.values():
            m |= g
        return m

    def excluded_mask(self) -> np.ndarray:
        """Rows neither trained on nor held out (reported by ``check`` and in the run)."""
        return ~(self.train | self.holdout_mask())

    def holdout_group_index(self) -> np.ndarray:
        """Index of each row's held-out group (-1 for other rows), in ``holdout`` order."""
        idx = np.full(self.n, -1)
        for g, mask in enumerate(self.holdout.values()):
            idx[mask] = g
        return idx

    def holdout_labels(self) -> np.ndarray:
        """Each row's held-out group label ("" for other rows)."""
        out = np.full(self.n, "", dtype=object)
        for g, mask in self.holdout.items():
            out[mask] = g
        return out.astype(str)

    def coordinate(self) -> np.ndarray:
        """The first environment column (internal units): bands and GP run along it."""
        return np.asarray(self.env[self.observable.env_columns[0]], dtype=float).reshape(
            self.n, -1
        )[:, 0]

    def bands(self) -> np.ndarray:
        """Hierarchical band of each training row (contiguous in the coordinate); -1 elsewhere."""
        band = np.full(self.n, -1)
        train_idx = np.flatnonzero(self.train)
        order = train_idx[np.argsort(self.coordinate()[train_idx], kind="stable")]
        for b, chunk in enumerate(np.array_split(order, self.inadequacy.bands)):
            band[chunk] = b
        return band

    def curve_coordinate(self) -> np.ndarray:
        """The coordinate a correlated error model runs along, scaled to [0, 1] over all rows.

        The environment column that varies most (q for S(q) at one state).
        """
        cols = [c for c in self.observable.env_columns if np.ndim(self.env[c]) == 1]
        spans = [np.ptp(np.asarray(self.env[c], float)) for c in cols]
        x = np.asarray(self.env[cols[int(np.argmax(spans))]], float) if cols else np.arange(self.n)
        lo, hi = float(x.min()), float(x.max())
        return (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)

    def gp_coordinate(self) -> np.ndarray:
        """The coordinate scaled to [-1, 1] over training and held-out rows (GP inadequacy)."""
        x = self.coordinate()
        used = self.train | self.holdout_mask()
        lo, hi = float(x[used].min()), float(x[used].max())
        return (2.0 * (x - lo) / (hi - lo) - 1.0) if hi > lo else np.zeros_like(x)

    def nuisance_parameters(self) -> list[Nuisance]:
        """The sampled nuisance parameters (fixed ones are passed as data)."""
        return [n for n in self.nuisance.values() if n.prior is not None]

    def env_display(self, column: str) -> np.ndarray:
        """An environment column in its file unit (or the internal unit)."""
        dim = next(f.dimension for f in self.observable.env if f.column == column)
        unit = self.file_units.get(column, units.INTERNAL_UNITS[dim])
        return units.from_internal(self.env[column], unit, dim)

    # --------------------------------------------------------------- forward
    def forward(self, problem) -> Forward:
        """The hashable forward-model key of this target within ``problem``.

        Under its own cut-off convention if it has one (a calibration under one
        convention tested in another), with the B2-matching repair if asked.
        """

        if self.cutoff is None:
            pot = problem.potential
        else:
            pot = wrap_cutoff(problem.base_potential, self.cutoff, f"target {self.name!r}.cutoff")
        if self.repair == "match_b2":
            opts = {
                "observable": self.observable,
                "potential_from": problem.potential,
                "reference_T_K": self.repair_reference_T_K,
                **self.options,
            }
            return Forward(matched_builder, pot, freeze(opts), opts)
        opts = dict(self.options)
        return Forward(self.observable.build, pot, freeze(opts), opts)

    # ------------------------------------------------------------- builders
    @classmethod
    def from_file(
        cls,
        name: str,
        observable: str | Observable,
        path,
        *,
        train: dict | bool | None = None,
        noise_column: str | None = None,
        noise_value: float | None = None,
        inadequacy: Inadequacy | None = None,
        data_label: str | None = None,
        where: str | None = None,
        duplicates: str = "error",
        rows: dict | None = None,
    ) -> Target:
        """Build a target from a data file listed in a ``manifest.toml``.

        Parameters
        ----------
        name
            Target name.
        observable
            Observable or its registry name, e.g. ``"second_virial"``.
        path
            Data file.
        train
            Training selection ``{column: [low, high]}`` in the file's units;
            ``None`` trains on every row; ``False`` uses no row for training
            (a held-out target, predicted only; its group is its name).
        noise_column
            Column of standard uncertainties (default: the observable's).
        noise_value
            A constant standard uncertainty (observable's unit) instead of a
            column, for files that carry none (reference forces).
        inadequacy
            Model-inadequacy term (default none).
        data_label
            How the file is named in reports (default: ``path``).
        where
            Problem file and field, for error messages.
        duplicates
            ``"error"`` (default): rows repeated exactly in the file are an
            error; ``"drop"``: keep the first, report the others as excluded.
        rows
            Row filter ``{column: [low, high]}`` in the file's units (inclusive):
            the target holds only these rows of the file, and the others are
            reported as excluded (``None``: every row). Every row of the file is
            still read and checked as data (numbers, units, duplicates); the
            filter then applies before the observable's checks of the rows (an
            equation of state's range at the prior centre) and before ``train``.
        """
        where = where or f"target {name!r}"
        obs = (
            get_observable(observable, f"{where}.observable")
            if isinstance(observable, str)
            else observable
        )
        selection = rows
        if obs.layout == "configurations":
            if selection is not None:
                select_rows({}, selection, f"{where}.rows")  # says why it cannot
            rows = configuration_rows(obs, path, f"{where}.data")
        else:
            rows = _load_rows(obs, path, noise_column, noise_value is not None, where, duplicates)
            if selection is not None:
                rows = _filter_rows(obs, rows, selection, path, f"{where}.rows")
            _check_subcritical(obs, rows, path, where)
        unc = rows.uncertainties
        if noise_value is not None:
            unc = np.full(np.shape(rows.values), float(noise_value))
            _check_noise_value(float(noise_value), np.asarray(rows.values, float), obs, where)
        elif unc is None:
            raise ProblemError(
                f"{path} has no uncertainty column; give noise = {{ value = U }} "
                f"(a standard uncertainty in {obs.unit})",
                f"{where}.noise",
            )
        n = len(rows.values)
        target = cls(
            name=name,
            observable=obs,
            data=Observations(
                env=rows.env,
                values=np.asarray(rows.values, dtype=float),
                uncertainties=np.asarray(unc, dtype=float),
                labels=rows.labels,
                file_units=rows.file_units,
                extra_columns=dict(rows.extra),
                provenance=rows.entry,
                data_path=data_label or str(path),
                file_excluded=tuple(rows.excluded),
                read_options=_read_options(selection, duplicates, noise_column, noise_value, obs),
            ),
            split=Split(np.ones(n, bool), selection={"train": None, "holdout": {}}),
            likelihood=Likelihood(inadequacy=inadequacy or Inadequacy()),
        )
        return target.with_train(train, where)

    def with_train(self, train, where: str) -> Target:
        """This target under a training selection (see :meth:`from_file`)."""
        if train is False:
            # a target never used in training: every row is held out
            return self.replace(
                train=np.zeros(self.n, bool),
                holdout={self.name: np.ones(self.n, bool)},
                selection={"train": False, "holdout": {}},
            )
        if train is None:
            return self
        mask = select_rows(self._env_file_units(), train, f"{where}.train")
        if not mask.any():
            filtered = any("rows filter" in e for e in self.file_excluded)
            of = f", of the {self.n} its rows filter kept," if filtered else ""
            raise ProblemError(
                f"the training selection keeps no rows{of} (use train = false for a target "
                "that is only predicted)",
                f"{where}.train",
            )
        rules = _plain_rule(train)
        known = {"train": rules, "holdout": {}} if self.selection.get("holdout") == {} else {}
        return self.replace(train=mask, selection=known)

    def recorded_selection(self) -> dict | None:
        """The rules of :attr:`Split.selection` where they still make this target's masks
        (``{"train": rule, "holdout": {label: table}}``), else ``None``: masks set in
        Python, or a split changed after the rules made it. A problem's document writes
        them, so that a problem built in Python can be read back from its run's document
        (a sensitivity refit) as the problem it was."""
        rules = self.selection
        if "train" not in rules or "holdout" not in rules:
            return None
        train, groups = rules["train"], rules["holdout"]
        try:
            if isinstance(train, dict):
                mask = select_rows(self._env_file_units(), train, "")
            else:
                mask = np.full(self.n, train is not False)
            want = {self.name: ~mask} if train is False and not groups else {}
            for label, select in groups.items():
                want[label] = select_rows(self._env_file_units(), select, "") & ~mask
        except ProblemError:
            return None
        same = (
            np.array_equal(mask, self.train)
            and list(want) == list(self.holdout)
            and all(np.array_equal(want[g], self.holdout[g]) for g in want)
        )
        return {"train": train, "holdout": dict(groups)} if same else None

    def _empty_holdout(self, chosen: int) -> str:
        """Why a held-out selection kept no row: it selects none of the target's rows
        (of those its rows filter kept, where one did), or only trained ones."""
        if chosen == 0:
            filtered = any("rows filter" in e for e in self.file_excluded)
            of = " that its rows filter kept" if filtered else ""
            return (
                f"the selection keeps no rows: none of the {self.n} rows of target "
                f"{self.name!r}{of} lies in it"
            )
        # the training selection is the cause, not a filter (the sweep names its setter)
        return (
            f"the selection keeps no rows outside the training set: its {chosen} rows of "
            f"target {self.name!r} are all trained on"
        )

    def _env_file_units(self) -> dict[str, np.ndarray]:
        """Columns a selection may name: 1-D environment columns and the file's other ones."""
        cols = {
            c: self.env_display(c)
            for c in self.observable.env_columns
            if np.ndim(self.env[c]) == 1
        }
        return {**self.extra_columns, **cols}

    def with_holdout(self, label: str, select: dict, where: str | None = None) -> Target:
        """This target with the rows in ``select`` (file units) and outside training held
        out as group ``label``; raises if it selects no row or overlaps another group."""
        where = where or f"target {self.name!r} holdout {label!r}"
        holdout = self.holdout
        rules = dict(self.selection.get("holdout", {}))
        if (
            not self.train.any()
            and set(holdout) == {self.name}
            and holdout[self.name].all()
            and label != self.name
        ):
            # train = false held every row out as one group; named groups replace it, so
            # a predicted-only target can predict some of its file's rows
            holdout, rules = {}, {}
        if label in holdout:
            raise ProblemError(f"a held-out group named {label!r} exists already", where)
        chosen = select_rows(self._env_file_units(), select, f"{where}.select")
        mask = chosen & ~self.train
        if not mask.any():
            raise ProblemError(self._empty_holdout(int(chosen.sum())), where)
        for other, m in holdout.items():
            if (m & mask).any():
                raise ProblemError(
                    f"overlaps held-out group {other!r} in {int((m & mask).sum())} row(s); "
                    "each held-out row belongs to one group",
                    where,
                )
        known = {}
        if "train" in self.selection and set(rules) == set(holdout):
            rules[label] = _plain_rule(select)
            known = {"train": self.selection["train"], "holdout": rules}
        return self.replace(holdout={**holdout, label: mask}, selection=known)

    @classmethod
    def from_arrays(
        cls,
        name: str,
        observable: Observable | str,
        env: dict,
        values,
        uncertainties,
        *,
        train=None,
        inadequacy: Inadequacy | None = None,
        file_units: dict | None = None,
    ) -> Target:
        """Build a target from arrays already in internal units (for Python use).

        ``train``: a boolean mask of training rows (default all); the other
        rows are held out as one group named ``"held out"``.
        """
        if isinstance(observable, str):
            observable = get_observable(observable, f"target {name!r}.observable")
        try:
            values = np.asarray(values, dtype=float)
            unc = np.broadcast_to(np.asarray(uncertainties, dtype=float), values.shape).copy()
            env = {k: np.asarray(v, dtype=float) for k, v in env.items()}
        except (TypeError, ValueError) as e:
            raise ProblemError(
                f"values, uncertainties and environment columns must be numbers, the "
                f"uncertainties a scalar or of the values' shape {np.shape(values)}: {e}",
                f"target {name!r}",
            ) from None
        # state columns (T_K, p_MPa, ...); configurations carry their own checks
        dims = {f.column: f.dimension for f in observable.env}
        for k, v in env.items() if observable.layout != "configurations" else ():
            v = np.atleast_1d(v)
            positive = k == "T_K" or dims.get(k) in POSITIVE_DIMENSIONS
            nonnegative = dims.get(k) in NONNEGATIVE_DIMENSIONS
            in_range = (v > 0) if positive else (v >= 0) if nonnegative else True
            bad = np.argwhere(~(np.isfinite(v) & in_range))
            if bad.size:  # the first bad cell: its row is its first index
                rule = (
                    "finite and > 0"
                    if positive
                    else "finite and >= 0"
                    if nonnegative
                    else "finite"
                )
                got = float(v[tuple(bad[0])])
                raise ProblemError(
                    f"environment column {k!r} must be {rule}, got {got!r} at row {bad[0][0]}",
                    f"target {name!r}",
                )
        missing = [c for c in observable.env_columns if c not in env]
        if missing:
            raise ProblemError(
                f"environment lacks {', '.join(missing)}; {observable.name} needs "
                f"{', '.join(observable.env_columns)}",
                f"target {name!r}",
            )
        for k, v in env.items():
            if v.shape[:1] != values.shape[:1]:
                raise ProblemError(
                    f"environment column {k!r} has {v.shape[:1]} rows, values have "
                    f"{values.shape[:1]}",
                    f"target {name!r}",
                )
        if not (np.all(np.isfinite(values)) and np.all(np.isfinite(unc)) and np.all(unc > 0)):
            raise ProblemError(
                "values must be finite and uncertainties finite and > 0", f"target {name!r}"
            )
        n = values.shape[0]
        train = np.ones(n, bool) if train is None else np.asarray(train, bool)
        return cls(
            name=name,
            observable=observable,
            data=Observations(env, values, unc, file_units=dict(file_units or {})),
            split=Split(train, {"held out": ~train} if (~train).any() else {}),
            likelihood=Likelihood(inadequacy=inadequacy or Inadequacy()),
        )


def _load_rows(
    obs: Observable, path, noise_column, noise_given: bool, where, duplicates="error"
) -> LoadedRows:
    """The standard layout: one row per observation, env columns, value, uncertainty."""
    # another column than the default u_X, named by the problem file's noise field
    named = noise_column not in (None, obs.uncertainty_column)
    noise_column = noise_column or obs.uncertainty_column
    cols = {f.column: f.dimension for f in obs.env}
    cols[obs.value_column] = obs.dimension
    if not noise_given and noise_column in cols:  # it would be read as an uncertainty too
        raise ProblemError(
            f"the noise column holds the standard uncertainties of {obs.value_column} "
            f"(in {obs.unit}); {noise_column!r} is the observable's "
            f"{'value' if noise_column == obs.value_column else 'environment'} column",
            f"{where}.noise.column",
        )
    if not noise_given:
        _check_noise_column(obs, path, noise_column, f"{where}.noise.column", named)
        cols[noise_column] = obs.dimension
    try:
        table = load_table(
            path,
            cols,
            where=f"{where}.data",
            positive=() if noise_given else (noise_column,),
            key_columns=tuple(obs.env_columns),
            duplicates=duplicates,
            uncertainty_pairs=None if noise_given else {noise_column: obs.value_column},
        )
    except UnitError:
        if not noise_given:  # a noise column in a unit of another quantity: the field's fault
            _check_noise_unit(obs, path, noise_column, f"{where}.noise.column")
        raise
    # values in the observable's reporting unit
    rep = units.factor(obs.unit, obs.dimension)
    return LoadedRows(
        env={c: table.columns[c] for c in obs.env_columns},
        values=table.columns[obs.value_column] / rep,
        uncertainties=None if noise_given else table.columns[noise_column] / rep,
        file_units={c: table.file_units[c] for c in obs.env_columns},
        entry=table.entry,
        excluded=[f"line {e.line}: {e.reason}" for e in table.excluded],
        extra=_extra_columns(path, table, set(cols), duplicates, where),
        lines=tuple(table.lines),
    )


def _filter_rows(obs: Observable, rows: LoadedRows, selection, path, where: str) -> LoadedRows:
    """The rows of a file that a target's ``rows`` filter keeps (file units, inclusive);
    the others become one excluded entry naming the filter and their file lines."""
    display = {
        f.column: units.from_internal(
            np.asarray(rows.env[f.column], float), rows.file_units[f.column], f.dimension
        )
        for f in obs.env
        if np.ndim(rows.env[f.column]) == 1
    }
    keep = select_rows({**display, **rows.extra}, selection, where)
    n = keep.size
    if not keep.any():
        spans = "; ".join(
            f"the file's {c} spans [{np.min(v):.15g}, {np.max(v):.15g}]"
            for c, v in {**display, **rows.extra}.items()
            if c in selection
        )
        raise ProblemError(
            f"the rows filter {_selection_text(selection)} keeps none of the {n} rows of "
            f"{path} ({spans}); the bounds are in the file's units",
            where,
        )
    if keep.all():
        return rows
    dropped = np.flatnonzero(~keep)
    lines = [rows.lines[i] for i in dropped] if len(rows.lines) == n else []
    at = f" (file lines {_spans(lines)})" if lines else ""
    note = f"{dropped.size} rows outside the rows filter {_selection_text(selection)}{at}"
    return dataclasses.replace(
        rows,
        env={c: np.asarray(v)[keep] for c, v in rows.env.items()},
        values=np.asarray(rows.values)[keep],
        uncertainties=None if rows.uncertainties is None else np.asarray(rows.uncertainties)[keep],
        labels=None if rows.labels is None else np.asarray(rows.labels)[keep],
        extra={c: np.asarray(v)[keep] for c, v in rows.extra.items()},
        excluded=[*rows.excluded, note],
        lines=tuple(rows.lines[i] for i in np.flatnonzero(keep)) if lines else (),
    )


def _selection_text(selection: dict) -> str:
    """A selection as given (``:g`` rounded 101.8701 to 101.87, so that a refusal showed
    a file's 101.87 inside bounds that excluded it): integers as integers, other numbers
    by their shortest exact text."""
    return ", ".join(
        f"{c} = [{_number_text(lo)}, {_number_text(hi)}]" for c, (lo, hi) in selection.items()
    )


def _number_text(x) -> str:
    if isinstance(x, numbers.Integral):
        return str(int(x))
    x = float(x)
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)


def _spans(lines: list[int]) -> str:
    """``[2, 3, 4, 9]`` -> ``"2-4, 9"``."""
    out, start = [], lines[0]
    for a, b in zip(lines, [*lines[1:], None], strict=True):
        if b != a + 1:
            out.append(f"{start}-{a}" if a != start else f"{a}")
            start = b
    return ", ".join(out)


def _check_subcritical(obs: Observable, rows: LoadedRows, path, where: str) -> None:
    """Refuse a saturation row that its own file puts above the fluid's critical point
    (``T_over_Tc`` > 1): two coexisting phases do not exist there, so the file mixes up
    fluids or columns."""
    t_over = rows.extra.get("T_over_Tc")
    if not obs.subcritical or t_over is None:
        return
    above = np.flatnonzero(np.asarray(t_over) > 1.0)
    if above.size:
        i = int(above[0])
        env = ", ".join(f"{c} = {float(v[i]):g}" for c, v in rows.env.items())
        raise ProblemError(
            f"{path}: {above.size} row(s) with T_over_Tc > 1, the first ({env}) at "
            f"T_over_Tc = {float(t_over[i]):g}: a {obs.name} exists only below the fluid's "
            "critical temperature (T_over_Tc < 1); is the file, or its T_over_Tc column, "
            "another fluid's?",
            f"{where}.data",
        )


def _header(path) -> list[str] | None:
    """The column names of a CSV data file; ``None`` if its first line cannot be read
    (:func:`~bayesff.data.load_table` then says why)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            first = fh.readline()
        return [h.strip() for h in next(csv.reader([first]), [])]
    except (OSError, UnicodeError, csv.Error):  # an oversized field: load_table says so
        return None


def _check_noise_column(obs: Observable, path, column: str, where: str, named: bool) -> None:
    """Refuse a noise column that holds another column's uncertainties or is a value.

    The uncertainty column of a value column ``X`` is ``u_X`` (docs/vle.md), so
    ``u_X`` with ``X`` another column of the file holds X's uncertainties (the vapour
    density's on a liquid-density target), and a column ``C`` beside a ``u_C`` is a
    value with its own uncertainties. Other names (``sigma_B2``) are not judged. A column
    the file lacks is the noise field's typo when the problem file ``named`` it (not the
    default ``u_X``, whose absence is the data file's fault, which the loader reports).
    """
    header = _header(path)
    if header is None:
        return
    expected = (
        f"expected {obs.uncertainty_column!r} or another column of standard uncertainties "
        f"of {obs.value_column} (in a {obs.dimension} unit such as {obs.unit})"
    )
    if column not in header and named:  # a typo in the problem file's noise field
        others = [h for h in header if h != obs.value_column and h not in obs.env_columns]
        near = difflib.get_close_matches(column, others, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise ProblemError(
            f"no column {column!r} in {path}{hint}; its columns are {', '.join(header)}; "
            f"{expected}",
            where,
        )
    other = column.removeprefix("u_")
    if column.startswith("u_") and other in header and other != obs.value_column:
        raise ProblemError(
            f"{column!r} holds the uncertainties of {other!r} in {path} (the uncertainty "
            f"column is 'u_' + the value column), not of this target's value column "
            f"{obs.value_column!r}; {expected}",
            where,
        )
    if f"u_{column}" in header:
        raise ProblemError(
            f"{column!r} is a value column of {path} (it has its own uncertainty column "
            f"'u_{column}' beside it), not a column of uncertainties; {expected}",
            where,
        )


def _check_noise_unit(obs: Observable, path, column: str, where: str) -> None:
    """Blame the noise field when the manifest gives its column a unit of another quantity.

    Called when loading raised a :class:`~bayesff.errors.UnitError` (which names the
    manifest); an unknown unit is the manifest's fault and is left to that error.
    """
    try:
        manifest = find_manifest(Path(path))
        rel = Path(path).resolve().relative_to(manifest.parent).as_posix()
        entry = read_manifest(manifest).get(rel)
    except (DataError, OSError, ValueError):
        return
    unit = entry.units.get(column) if entry is not None else None
    dims = units.dimensions_of(unit) if isinstance(unit, str) else ()
    if dims and obs.dimension not in dims:
        raise ProblemError(
            f"column {column!r} of {path} is in {unit!r} (a {' or '.join(dims)} unit, "
            f"{manifest}), but the noise column holds the standard uncertainties of "
            f"{obs.value_column} (a {obs.dimension}, in a unit such as {obs.unit}); expected "
            f"{obs.uncertainty_column!r} or another column of uncertainties of "
            f"{obs.value_column}",
            where,
        ) from None


def _extra_columns(path, table, used: set, duplicates: str, where: str) -> dict:
    """The file's other numeric columns, in their file units, for selections (T_over_Tc),
    for the rows ``table`` kept (picked by file line: with ``duplicates = "drop"`` the
    target's load drops rows by its key columns that this second load keeps)."""
    extra = {}
    for col, unit in table.entry.units.items():
        if col in used or unit == "text":
            continue
        dims = units.dimensions_of(unit)
        if dims:
            extra[col] = "temperature" if "temperature" in dims else dims[0]
    if not extra:
        return {}
    # any sign: a column beside the target's own may hold differences (drho_mol_per_L)
    t2 = load_table(path, extra, where=f"{where}.data", duplicates=duplicates, signed=True)
    at = {line: i for i, line in enumerate(t2.lines)}
    if not all(line in at for line in table.lines):
        return {}  # not expected: the rows cannot be matched, so no column is offered
    pick = np.array([at[line] for line in table.lines], int)
    return {
        c: units.from_internal(np.asarray(t2.columns[c])[pick], t2.file_units[c], dim)
        for c, dim in extra.items()
    }


def _plain_rule(rule):
    """A selection rule (``{column: [low, high]}``, ``True``/``False``/``None``) as plain
    Python numbers, as a problem document writes it (numpy scalars would not serialise)."""
    if isinstance(rule, dict):
        return {str(c): [float(x) for x in _pair(r) or r] for c, r in rule.items()}
    return rule if rule is None else bool(rule)


def _read_options(rows, duplicates, noise_column, noise_value, obs: Observable) -> dict:
    """How a data file was read, as a problem file's target writes it: only what is not
    the reader's default (see :attr:`Observations.read_options`)."""
    out = {}
    if rows is not None:
        out["rows"] = _plain_rule(rows)
    if duplicates != "error":
        out["duplicates"] = duplicates
    if noise_value is not None:
        out["noise"] = {"value": float(noise_value)}
    elif noise_column is not None and noise_column != obs.uncertainty_column:
        out["noise"] = {"column": noise_column}
    return out


def select_rows(target_env_display: dict[str, np.ndarray], select: dict, where: str) -> np.ndarray:
    """Rows whose environment lies in every ``column = [low, high]`` range (inclusive).

    Ranges are in the file's unit of the column (the unit its name states).
    """
    if not isinstance(select, dict) or not select:
        raise ProblemError(
            f"a selection is a table of column = [low, high], got {select!r}", where
        )
    if not target_env_display:  # configurations: no column a row could be selected by
        raise ProblemError(
            "this target has no environment column to select rows by (its rows are "
            "configurations): train on or hold out the whole file (train = true or false)",
            where,
        )
    n = len(next(iter(target_env_display.values())))
    mask = np.ones(n, bool)
    for col, rng in select.items():
        if col not in target_env_display:
            raise ProblemError(
                f"cannot select on {col!r}; environment columns are "
                f"{', '.join(target_env_display)}",
                where,
            )
        given = rng
        rng = _pair(rng)
        if rng is None:
            raise ProblemError(
                f"{col} must be [low, high] with finite low <= high, got {given!r}", where
            )
        v = target_env_display[col]
        # the file-unit values come back from internal units: allow a few ulp so
        # that a bound equal to a value in the file selects it
        lo = rng[0] - 1e-9 * abs(rng[0])
        hi = rng[1] + 1e-9 * abs(rng[1])
        mask &= (v >= lo) & (v <= hi)
    return mask


def _pair(rng) -> list[float] | None:
    """A selection's ``[low, high]`` as two floats, or ``None`` if it is not one: a list
    (TOML) or, from Python, a tuple or 1-D array, of two finite real numbers (not
    booleans), low <= high."""
    if isinstance(rng, np.ndarray) and rng.ndim == 1:
        rng = rng.tolist()
    if not isinstance(rng, (list, tuple)) or len(rng) != 2:
        return None
    if not all(isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_)) for x in rng):
        return None
    try:
        lo, hi = (float(x) for x in rng)
    except OverflowError:  # an integer beyond float64 (from Python)
        return None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
        return None
    return [lo, hi]


def correlation_covariance(path, u: np.ndarray, where: str) -> np.ndarray:
    """C = diag(u) R diag(u) from a correlation file (columns i, j, R; see :class:`ErrorModel`)."""
    table = load_table(
        path, {"i": "dimensionless", "j": "dimensionless", "R": "dimensionless"}, where=where
    )
    n = u.shape[0]
    i = table.columns["i"].astype(int)
    j = table.columns["j"].astype(int)
    if (table.columns["i"] != i).any() or (table.columns["j"] != j).any():
        raise ProblemError("i and j must be integer row indices", where)
    if i.min() < 0 or j.min() < 0 or i.max() >= n or j.max() >= n:
        raise ProblemError(f"row indices must lie in [0, {n - 1}] (the target's rows)", where)
    r = np.eye(n)
    r[i, j] = table.columns["R"]
    r[j, i] = table.columns["R"]
    if not np.allclose(np.diag(r), 1.0):
        raise ProblemError("a correlation matrix has ones on its diagonal", where)
    try:
        np.linalg.cholesky(r)
    except np.linalg.LinAlgError:
        raise ProblemError("the correlation matrix is not positive definite", where) from None
    return u[:, None] * r * u[None, :]


def bootstrap_covariance(
    curves: np.ndarray, block_length: int = 1, n_boot: int = 2000, seed: int = 0
) -> np.ndarray:
    """Covariance of the mean of replicate curves by a moving-block bootstrap.

    Parameters
    ----------
    curves
        (R, n): R replicates (or consecutive trajectory blocks) of a curve of n points.
    block_length
        Consecutive replicates resampled together (1: independent replicates;
        longer blocks keep the correlation between neighbouring replicates of
        a trajectory). Kuensch, Ann. Stat. 17, 1217 (1989), doi:10.1214/aos/1176347265.
    n_boot, seed
        Bootstrap resamples and their seed.

    Returns
    -------
    numpy.ndarray
        (n, n) covariance of the mean curve.
    """
    curves = np.asarray(curves, dtype=float)
    r = curves.shape[0]
    if not 1 <= block_length <= r:
        raise ValueError(f"block_length must be in [1, {r}], got {block_length}")
    rng = np.random.default_rng(seed)
    n_blocks = -(-r // block_length)
    starts = rng.integers(0, r - block_length + 1, size=(n_boot, n_blocks))
    idx = (starts[..., None] + np.arange(block_length)).reshape(n_boot, -1)[:, :r]
    means = curves[idx].mean(axis=1)
    return np.cov(means, rowvar=False)


def replicate_covariance(target: Target, path, em: ErrorModel, where: str) -> np.ndarray:
    """The block-bootstrap covariance of a target's replicate curves (see :class:`ErrorModel`)."""
    obs = target.observable
    cols = {f.column: f.dimension for f in obs.env}
    cols[obs.value_column] = obs.dimension
    cols["replicate"] = "dimensionless"
    table = load_table(path, cols, where=where)
    rep = table.columns["replicate"]
    labels = np.unique(rep)
    n = target.n
    curves = []
    for lab in labels:
        sel = rep == lab
        if sel.sum() != n:
            raise ProblemError(
                f"replicate {lab:g} has {int(sel.sum())} rows; the target has {n}", where
            )
        for c in obs.env_columns:
            if not np.allclose(table.columns[c][sel], target.env[c]):
                raise ProblemError(
                    f"replicate {lab:g} is not on the target's grid (column {c})", where
                )
        rep_unit = units.factor(obs.unit, obs.dimension)
        curves.append(table.columns[obs.value_column][sel] / rep_unit)
    if len(curves) < 2:
        raise ProblemError("a covariance needs at least 2 replicates", where)
    return bootstrap_covariance(np.stack(curves), em.block_length or 1)


def configuration_targets(
    configs: Configurations,
    *,
    noise_E: float | None,
    noise_F: float | None,
    train: bool = True,
    offset=None,
    inadequacy=None,
):
    """Energy and force targets of a configuration set, for a problem built in Python.

    Parameters
    ----------
    configs
        The configurations with their reference energies and/or forces.
    noise_E, noise_F
        Standard uncertainty of each energy (kJ/mol) and of each force
        component (kJ/mol/angstrom); ``None`` leaves that target out.
    train
        Train on the set (``False``: predicted only, a held-out set).
    offset
        The energy offset b: a :class:`~bayesff.priors.PriorSpec` (kJ/mol), a
        number (fixed, kJ/mol) or ``None`` (the observable's default prior).
    inadequacy
        A :class:`~bayesff.targets.Inadequacy` for both targets (default none).

    Returns
    -------
    list of Target
        ``E_<name>`` (configuration_energy) and ``F_<name>`` (configuration_forces).
    """
    env = {"positions_angstrom": configs.positions, **configs.sites}
    mask = np.full(configs.n_configs, bool(train))
    out = []
    for kind, values, u in (("E", configs.energy, noise_E), ("F", configs.forces, noise_F)):
        if u is None:
            continue
        if values is None:
            raise ProblemError(
                f"noise_{kind} is given but set {configs.name!r} has no "
                f"{'energies' if kind == 'E' else 'forces'}",
                "configuration_targets",
            )
        obs = get_observable("configuration_energy" if kind == "E" else "configuration_forces")
        t = Target.from_arrays(
            f"{kind}_{configs.name}",
            obs,
            env,
            values,
            u,
            train=mask,
            inadequacy=inadequacy,
            file_units={"positions_angstrom": "angstrom", **site_units(configs)},
        )
        t = t.replace(labels=np.asarray(configs.config_ids))
        if kind == "E" and offset is not None:
            if isinstance(offset, PriorSpec):
                b = Nuisance("offset", "kJ/mol", "energy", offset)
            else:
                b = Nuisance("offset", "kJ/mol", "energy", None, float(offset))
            t = t.replace(nuisance={**t.nuisance, "offset": b})
        out.append(t)
    return out
