"""Calibration problems: built from a TOML file or in Python, validated eagerly.

A problem is a potential (with its cut-off convention), priors on its
parameters, targets with a training/held-out split, transferability settings
and inference settings. Every check runs here, before anything is traced or
sampled, and each error names the file and field, what was expected and what
was found. The file's shape is checked against :data:`bayesff.schemas.PROBLEM_SCHEMA`
(jsonschema), its meaning by the code below. See ``models/argon_lj_b2.toml``.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tomli_w

from bayesff import sites, units
from bayesff.errors import DataError, ProblemError
from bayesff.io import not_a_file
from bayesff.observables.conventions import unmatched_temperatures
from bayesff.potentials import plugins
from bayesff.potentials.cutoff import wrap_cutoff
from bayesff.priors import Parameter, Pooling
from bayesff.problem_text import build_from_document, describe, document
from bayesff.schemas import (
    NAME_PATTERN,
    PROBLEM_SCHEMA,
    TARGET_NAME_PATTERN,
    check_name,
    parse_toml,
    validate,
)
from bayesff.settings import INIT_STRATEGIES, SAMPLERS, InferenceSettings
from bayesff.targets import Target

__all__ = [
    "INIT_STRATEGIES",
    "SAMPLERS",
    "InferenceSettings",
    "Parameter",
    "Pooling",
    "Problem",
    "dump_problem",
    "load_problem",
    "problem_from_dict",
    "read_text",
]


@dataclass(frozen=True, eq=False)
class Problem:
    """A calibration problem (an immutable record; a changed problem is a new one).

    Built from a problem file (:func:`load_problem`, :meth:`from_toml`) or in
    Python; everything is checked at construction, where defaults are filled in
    (parameters the problem does not name, the forward models' error floors).
    :meth:`replace` gives a copy with some fields changed, checked again.

    Attributes
    ----------
    name
        Used for ``runs/NAME`` and ``reports/NAME`` (:data:`~bayesff.schemas.NAME_PATTERN`).
    potential
        The potential, wrapped by its cut-off convention.
    parameters
        One entry per potential parameter (defaults filled in).
    targets
        Observables with data and training/held-out masks.
    tolerance
        Target name -> ``{"rel": delta}``, ``{"abs": delta}`` or both; a
        prediction passes when ``|pred - obs| <= abs + rel |obs|``.
    inference
        Sampler settings.
    description, source_text, path, cutoff
        What the problem is, the problem file's text (stored in the run; for
        a problem built in Python, :meth:`document` writes one), its path,
        and the cut-off convention as written.
    candidates
        Named parameter sets (``{"name": ..., "values": {param: value}}``, in
        the problem's units) judged by the field's deterministic rule next to
        the posterior, e.g. the literature values or epsilon +/- 5 %.
    base_potential
        The potential before its cut-off wrapper.
    potential_source
        Where the potential comes from: ``{"kind": ..., "module": ...,
        "version": ...}`` (:func:`bayesff.potentials.plugins.describe`).
    pooling
        Partial pooling of parameters over groups of targets (:class:`Pooling`),
        or ``None``.
    """

    name: str
    potential: object
    parameters: dict[str, Parameter]
    targets: tuple[Target, ...]
    tolerance: dict[str, dict] = field(default_factory=dict)
    inference: InferenceSettings = field(default_factory=InferenceSettings)
    description: str = ""
    source_text: str = ""
    path: str | None = None
    cutoff: dict = field(default_factory=lambda: {"scheme": "none"})
    candidates: tuple[dict, ...] = ()
    base_potential: object = None
    potential_source: dict | None = None
    pooling: Pooling | None = None

    def __post_init__(self):
        where = self.path or f"problem {self.name!r}"
        # normalised while it is built (object.__setattr__: the record is frozen)
        set_ = functools.partial(object.__setattr__, self)
        set_("targets", tuple(self.targets))
        set_("candidates", tuple(self.candidates))
        set_("parameters", dict(self.parameters))
        set_("tolerance", dict(self.tolerance))
        if self.base_potential is None:
            # a per-target cut-off applies to the bare potential, never on top of
            # the problem's own cut-off
            set_("base_potential", getattr(self.potential, "unwrapped", None) or self.potential)
        if self.potential_source is None:
            set_("potential_source", plugins.describe(self.base_potential))
        self._agree_cutoff(where)
        check_name(self.name, NAME_PATTERN, f"{where}: [problem].name", "problem name")
        if not isinstance(self.description, str):
            raise ProblemError(
                f"description must be a string, got {self.description!r}",
                f"{where}: [problem].description",
            )
        self._check_parameters(where)
        self._check_targets(where)
        self._check_pooling(where)
        self._check_tolerance(where)
        self._check_candidates(where)
        self._check_cutoffs(where)
        self._apply_floors(where)
        self._check_repairs(where)
        self._check_forward_models(where)

    # ------------------------------------------------------------ validation
    def _agree_cutoff(self, where: str) -> None:
        """The cut-off table (recorded, and applied to targets' own conventions' bases) says
        what the potential solved: a wrapper given without its table
        (``Problem(potential=truncated(LJ, 8.5))``) gains its table; a table naming another
        convention than the potential's is refused (review, 2026-11-30: the document said
        the table, the sampler solved the potential)."""
        # the cut-off the problem applies to its base potential (a plug-in may return a
        # cut-off potential: that one is its base, cut by the plug-in, not by the problem)
        applied = self.potential is not self.base_potential
        cut = getattr(self.potential, "cut_off", None) if applied else None
        given = self.cutoff or {"scheme": "none"}
        at = f"{where}: [potential].cutoff"
        if cut is not None and given.get("scheme") == "none":
            table = {"scheme": cut[0], "r_c": cut[1], "unit": "angstrom"}
            object.__setattr__(self, "cutoff", table)
            return
        wrapped = wrap_cutoff(self.base_potential, given, at)
        expected = None if wrapped is self.base_potential else wrapped.cut_off
        if expected != cut:

            def say(c):
                return "no cut-off" if c is None else f"{c[0]} at r_c = {c[1]:g} angstrom"

            raise ProblemError(
                f"the potential {self.potential.name!r} has {say(cut)}, but the cut-off table "
                f"{given!r} says {say(expected)}: give the table the potential was wrapped "
                "with, or change the cut-off with Problem.replace(cutoff=...), which wraps the "
                "base potential again",
                at,
            )

    def _check_parameters(self, where: str) -> None:
        specs = {p.name: p for p in self.potential.params}
        unknown = [p for p in self.parameters if p not in specs]
        if unknown:
            raise ProblemError(
                f"{self.potential.name} has no parameter(s) {', '.join(unknown)}; its parameters "
                f"are {', '.join(specs)}",
                f"{where}: [parameters]",
            )
        params = dict(self.parameters)
        defaulted = tuple(n for n in specs if n not in params)
        # the build-time checks at the prior centre say when a default took part
        object.__setattr__(self, "_defaulted", defaulted)
        for pname, spec in specs.items():
            if pname not in params:
                params[pname] = Parameter(pname, spec.prior_unit, spec.default_prior)
            p = params[pname]
            _check_parameter(
                p.unit,
                p.prior,
                p.value,
                spec.dimension,
                spec.support,
                spec.unit,
                f"{where}: [parameters.{pname}]",
            )
        # potential order, so the posterior lists parameters as the potential does
        object.__setattr__(self, "parameters", {n: params[n] for n in specs})
        if all(p.fixed for p in self.parameters.values()):
            raise ProblemError(
                "every parameter is fixed: nothing to calibrate", f"{where}: [parameters]"
            )

    def _check_site_names(self, where: str) -> None:
        """No target is named as a parameter or as a site of another target or of the
        pooling (``epsilon``, ``tau_B2``, ``B2_model``): the model's sites and the run
        file's variables would clash (NumPyro's "all sites must have unique names" when
        the sampler was built, after check had passed)."""
        params = list(self.parameters)
        taken = {p: f"parameter {p!r}" for p in params}
        for name in sites.reserved_by_pooling(params):
            taken.setdefault(name, "a site of the parameters' pooling")
        for t in self.targets:
            nuisances = [n.name for n in t.nuisance.values()]
            for name in sites.reserved(t.name, params, nuisances):
                taken.setdefault(name, f"a site of target {t.name!r}")
        for t in self.targets:
            if t.name in taken:
                raise ProblemError(
                    f"target name {t.name!r} is also the name of {taken[t.name]} in the model "
                    "and its run file; rename the target",
                    f"{where}: target {t.name!r}",
                )

    def _check_targets(self, where: str) -> None:
        if not self.targets:
            raise ProblemError("at least one target is needed", f"{where}: [[targets]]")
        names = [t.name for t in self.targets]
        if len(set(names)) != len(names):
            raise ProblemError(
                f"target names must be unique, got {names}", f"{where}: [[targets]]"
            )
        self._check_site_names(where)
        for t in self.targets:
            tw = f"{where}: target {t.name!r}"
            check_name(t.name, TARGET_NAME_PATTERN, tw, "target name")
            if not t.observable.accepts(self.potential.kind):
                raise ProblemError(
                    f"observable {t.observable.name} needs a {t.observable.potential_kind} "
                    f"potential, {self.potential.name} is a {self.potential.kind} potential",
                    tw,
                )
            if not t.train.any() and not t.holdout:
                raise ProblemError("the training selection keeps no rows", f"{tw}.train")
            for n in t.nuisance.values():
                spec = next(s for s in t.observable.nuisance if s.name == n.name)
                _check_parameter(
                    n.unit,
                    n.prior,
                    n.value,
                    spec.dimension,
                    spec.support,
                    spec.unit,
                    f"{tw}.nuisance.{n.name}",
                )
            self._check_target_fixed(t, tw)
            if t.repair != "none" and (
                wrap_cutoff(self.base_potential, t.cutoff or {"scheme": "none"}, tw)
                is self.potential
            ):  # the same convention (wrap_cutoff gives one object per convention)
                raise ProblemError(
                    f"repair {t.repair!r} maps B2 between two cut-off conventions, but this "
                    f"target's cutoff {t.cutoff!r} is the problem's own: the repair would do "
                    "nothing; give the target another cutoff or remove the repair",
                    f"{tw}.repair",
                )
            if t.inadequacy.form == "log" and t.inadequacy.kind == "inferred_scale":
                self._check_log_form(t, tw)
            if t.inadequacy.kind == "hierarchical":
                self._check_hierarchical(t, tw)
        if not any(t.train.any() for t in self.targets):
            raise ProblemError(
                "no target has training rows: nothing to calibrate", f"{where}: [[targets]]"
            )
        self._check_shared_scales(where)
        self._check_counted_twice(where)

    def _check_counted_twice(self, where: str) -> None:
        """No measurement is trained on twice: two targets of one observable (under one
        molecule's fixed values and group) whose training rows share a state and an
        observed value are one data file given twice, and the likelihood would count
        it twice (halving its uncertainty). Rows within one file are checked when it is
        read (``duplicates``)."""
        seen: dict[tuple, tuple[str, int]] = {}
        for t in self.targets:
            if np.ndim(t.values) != 1:
                continue
            same = (t.observable.name, repr(sorted(t.conventions.fixed.items())), t.group)
            cols = [np.asarray(t.env[c]) for c in t.observable.env_columns]
            for i in np.flatnonzero(t.train):
                row = b"".join(np.ascontiguousarray(c[i]).tobytes() for c in cols)
                key = (*same, row, np.float64(t.values[i]).tobytes())
                first = seen.setdefault(key, (t.name, int(i)))
                if first[0] != t.name:
                    state = ", ".join(
                        f"{c} = {t.env_display(c)[i]:g}"
                        for c in t.observable.env_columns
                        if np.ndim(t.env[c]) == 1
                    )
                    raise ProblemError(
                        f"training row {i} ({state}) has the same state and observed "
                        f"value as row {first[1]} of target {first[0]!r}, of the same "
                        f"observable {t.observable.name!r}: one measurement trained on "
                        "twice counts twice in the likelihood; give the data once (or "
                        "hold one of the targets out: train = false)",
                        f"{where}: target {t.name!r}",
                    )

    def _check_shared_scales(self, where: str) -> None:
        """Targets naming one ``inadequacy.shared`` scale: one form and prior scale (and
        one unit for an absolute scale), at least one with training rows, and a variable
        ``tau_<name>`` that no target, target's own scale or model mean, or parameter
        already has."""
        names = {t.name for t in self.targets}
        # the names its variable tau_<shared> must not take: another target's own scale,
        # a target, a target's model mean, a parameter
        taken = (
            {sites.tau(n) for n in names}
            | names
            | {sites.mean(n) for n in names}
            | set(self.parameters)
        )
        first: dict[str, Target] = {}
        for t in self.targets:
            inad = t.inadequacy
            if inad.shared is None:
                continue
            sw = f"{where}: target {t.name!r}.inadequacy.shared"
            if sites.tau(inad.shared) in taken:
                raise ProblemError(
                    f"shared scale {inad.shared!r}: its variable {sites.tau(inad.shared)} "
                    "is already the name of a target, a target's scale or model mean, or a "
                    "parameter; choose another name",
                    sw,
                )
            f = first.setdefault(inad.shared, t)
            for key in ("form", "prior_scale"):
                if getattr(inad, key) != getattr(f.inadequacy, key):
                    raise ProblemError(
                        f"every target sharing scale {inad.shared!r} needs one {key}: "
                        f"{f.name!r} has {getattr(f.inadequacy, key)!r}, this one "
                        f"{getattr(inad, key)!r}",
                        f"{where}: target {t.name!r}.inadequacy.{key}",
                    )
            if inad.form == "absolute" and t.observable.unit != f.observable.unit:
                # an absolute scale is in the observable's unit: one number for two units
                # has no meaning (relative and log scales are dimensionless)
                raise ProblemError(
                    f"an absolute scale shared as {inad.shared!r} needs one unit: "
                    f"{f.name!r} is in {f.observable.unit}, this one in "
                    f"{t.observable.unit}; use form relative or log, or another name",
                    sw,
                )
        for share, f in first.items():
            if not any(t.train.any() for t in self.targets if t.inadequacy.shared == share):
                raise ProblemError(
                    f"no target sharing scale {share!r} has training rows, so nothing "
                    "infers it; train one of them or drop shared",
                    f"{where}: target {f.name!r}.inadequacy.shared",
                )

    def _check_target_fixed(self, t: Target, tw: str) -> None:
        """A target's own fixed parameter values: fixed parameters of the potential, in
        their support (the value is in the problem's unit of that parameter)."""
        specs = {p.name: p for p in self.potential.params}
        for pname, value in t.fixed.items():
            fw = f"{tw}.fixed.{pname}"
            if pname not in specs:
                raise ProblemError(
                    f"{self.potential.name} has no parameter {pname!r}; its parameters are "
                    f"{', '.join(specs)}",
                    fw,
                )
            p = self.parameters[pname]
            if not p.fixed:
                raise ProblemError(
                    f"{pname} is sampled (it has a prior in [parameters.{pname}]); a per-target "
                    f"value replaces a fixed one: give [parameters.{pname}] a value",
                    fw,
                )
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            spec = specs[pname]
            if not ok or not math.isfinite(value):
                raise ProblemError(f"expected a finite number ({p.unit}), got {value!r}", fw)
            if not spec.support.contains(self.to_internal(pname, float(value))):
                raise ProblemError(
                    f"value {value!r} {p.unit} is outside the support "
                    f"({spec.support.describe()} {spec.unit})",
                    fw,
                )

    @staticmethod
    def _check_log_form(t: Target, tw: str) -> None:
        """A multiplicative (log-normal) error needs positive observations and rows that
        are independent (a curve's covariance is of y, not of ln y)."""
        if t.error_model.kind != "independent":
            raise ProblemError(
                f"inadequacy form 'log' needs the independent error model, got "
                f"{t.error_model.kind!r}",
                f"{tw}.inadequacy.form",
            )
        bad = np.flatnonzero(~(np.asarray(t.values, float) > 0).reshape(t.n, -1).all(axis=1))
        if bad.size:
            i = int(bad[0])
            at = ", ".join(f"{c} {v[i]:g}" for c, v in t.env.items() if np.ndim(v) == 1)
            raise ProblemError(
                f"inadequacy form 'log' needs positive observed values; row {i} ({at}) is "
                f"{np.array2string(np.asarray(t.values, float)[i])} ({bad.size} such rows)",
                f"{tw}.inadequacy.form",
            )

    def _check_hierarchical(self, t: Target, tw: str) -> None:
        specs = {p.name: p for p in self.potential.params}
        inad = t.inadequacy
        unknown = [q for q in inad.parameters or () if q not in specs]
        if unknown:
            raise ProblemError(
                f"cannot pool {', '.join(unknown)}: not parameters of "
                f"{self.potential.name} ({', '.join(specs)})",
                f"{tw}.inadequacy.parameters",
            )
        pooled = self.pooled_parameters(t)
        free = self.free_parameters
        if not pooled or any(q not in free for q in pooled):
            raise ProblemError(
                f"hierarchical needs free parameters to pool; got {list(pooled) or 'none'} "
                f"(free: {', '.join(free)}); name them in inadequacy.parameters",
                f"{tw}.inadequacy.parameters",
            )
        if t.train.sum() < inad.bands:
            raise ProblemError(
                f"{inad.bands} bands need at least {inad.bands} training rows, "
                f"got {int(t.train.sum())}",
                f"{tw}.inadequacy.bands",
            )

    def _check_pooling(self, where: str) -> None:
        """``[pooling]``: free parameters, a positive scale, groups on the targets, at
        least one group with training rows; a target's group needs ``[pooling]``."""
        pw = f"{where}: [pooling]"
        grouped = [t for t in self.targets if t.group is not None]
        if self.pooling is None:
            if grouped:
                raise ProblemError(
                    f"target {grouped[0].name!r} names group {grouped[0].group!r}, but the "
                    "problem has no [pooling] section saying which parameters its groups "
                    "pool; add [pooling] parameters = [...] or remove the group",
                    f"{where}: target {grouped[0].name!r}.group",
                )
            return
        pool = self.pooling
        free = self.free_parameters
        bad = [q for q in pool.parameters if q not in free]
        if bad or len(set(pool.parameters)) != len(pool.parameters):
            raise ProblemError(
                f"expected distinct sampled parameters of {self.potential.name} "
                f"({', '.join(free)}), got {list(pool.parameters)}",
                f"{pw}.parameters",
            )
        specs = {sp.name: sp for sp in self.potential.params}
        signed = [q for q in pool.parameters if not specs[q].support.low >= 0]
        if signed:
            raise ProblemError(
                f"a pooled parameter varies by a factor between groups, so it must be "
                f"positive; {', '.join(signed)} may be negative "
                f"({specs[signed[0]].support.describe()})",
                f"{pw}.parameters",
            )
        scale = pool.prior_scale
        if isinstance(scale, bool) or not (isinstance(scale, (int, float)) and 0 <= scale < 10):
            raise ProblemError(
                f"expected a log-deviation scale in [0, 10), got {scale!r}", f"{pw}.prior_scale"
            )
        plain = [q for q in pool.parameters if q not in (pool.covariate or {})]
        if scale == 0 and plain:
            raise ProblemError(
                "prior_scale = 0 puts every group on its parameters' trends exactly, but "
                f"{', '.join(plain)} has no trend: give it a covariate or a positive scale",
                f"{pw}.prior_scale",
            )
        if sites.POOLED in {t.name for t in self.targets}:
            raise ProblemError(
                f"a target may not be named {sites.POOLED!r} in a problem with [pooling] "
                "(the pooling's run-file variables end in that name)",
                f"{where}: target {sites.POOLED!r}",
            )
        first: dict[str, Target] = {}  # group -> its first target
        for t in grouped:
            f = first.setdefault(t.group, t)

            def value(x: Target, k: str):  # its own fixed value, else the problem's
                return x.fixed.get(k, self.parameters[k].value)

            clash = [k for k in {**f.fixed, **t.fixed} if value(t, k) != value(f, k)]
            if clash:  # one molecule with two segment counts: two molecules, one group
                k = clash[0]
                raise ProblemError(
                    f"group {t.group!r} is one molecule, but its targets fix {k} differently: "
                    f"{f.name!r} at {value(f, k)!r}, this one at {value(t, k)!r}; give them "
                    "one value or separate groups",
                    f"{where}: target {t.name!r}.fixed.{k}",
                )
            if t.inadequacy.kind == "hierarchical":
                raise ProblemError(
                    "a target of a pooled group cannot also have a hierarchical inadequacy "
                    "(both give the parameters their own values); use inferred_scale or none",
                    f"{where}: target {t.name!r}.inadequacy",
                )
        if not any(t.train.any() for t in grouped):
            raise ProblemError(
                "no target with a group has training rows: the spread between groups "
                "cannot be learned; give the trained targets their groups",
                f"{where}: [[targets]].group",
            )
        self._check_trend(pw)

    def _check_trend(self, pw: str) -> None:
        """``[pooling] covariate`` and ``trend_scale``: pooled parameters, a finite number
        for every group and no other name, two distinct values among the trained groups."""
        pool = self.pooling
        scale = pool.trend_scale
        if isinstance(scale, bool) or not (
            isinstance(scale, (int, float)) and 0 < scale < math.inf
        ):
            raise ProblemError(
                f"expected a positive finite slope scale, got {scale!r}", f"{pw}.trend_scale"
            )
        trained, new = self.pooling_groups()
        for q, cov in (pool.covariate or {}).items():
            if q not in pool.parameters:
                raise ProblemError(
                    f"a trend is for a pooled parameter ({', '.join(pool.parameters)}); got {q!r}",
                    f"{pw}.covariate.{q}",
                )
            for g, x in cov.items():
                if g not in (*trained, *new):
                    raise ProblemError(
                        f"{g!r} is not a group of any target; groups are "
                        f"{', '.join((*trained, *new))}",
                        f"{pw}.covariate.{q}.{g}",
                    )
                if isinstance(x, bool) or not (isinstance(x, (int, float)) and math.isfinite(x)):
                    raise ProblemError(
                        f"expected a finite number, got {x!r}", f"{pw}.covariate.{q}.{g}"
                    )
            missing = [g for g in (*trained, *new) if g not in cov]
            if missing:
                raise ProblemError(
                    f"every group needs a value of the trend's covariate; missing for "
                    f"{', '.join(missing)}",
                    f"{pw}.covariate.{q}",
                )
            if len({float(cov[g]) for g in trained}) < 2:
                raise ProblemError(
                    "a trend needs trained groups at two or more values of the covariate; "
                    f"got {', '.join(f'{g} = {cov[g]}' for g in trained)}",
                    f"{pw}.covariate.{q}",
                )

    def pooling_covariate(self, param: str) -> tuple[np.ndarray, np.ndarray]:
        """(trained groups', new groups') covariate of a pooled parameter's trend, centred
        on the trained groups' mean (zeros for a parameter without a trend)."""
        trained, new = self.pooling_groups()
        cov = (self.pooling.covariate or {}).get(param) if self.pooling is not None else None
        if not cov:
            return np.zeros(len(trained)), np.zeros(len(new))
        x = np.array([float(cov[g]) for g in trained])
        x_new = np.array([float(cov[g]) for g in new])
        return x - x.mean(), x_new - x.mean()

    def borrowed_inadequacy(self, target) -> tuple[str, ...]:
        """Names of the trained targets whose inadequacy scale ``target`` borrows.

        A target with no training rows, of a group under ``[pooling]`` with
        ``new_group_inadequacy = "borrowed"``, borrows from every target of the same
        observable with an ``inferred_scale`` inadequacy and training rows in a trained
        group, and takes their inadequacy form (all must share one; a target that
        declares ``inferred_scale`` itself borrows only from those of its own form).
        Empty otherwise: a target of a shared scale (``inadequacy.shared``) predicts
        with that scale, and any other carries only its stated uncertainty and floor.
        """
        pool = self.pooling
        own = target.inadequacy
        if (
            pool is None
            or pool.new_group_inadequacy != "borrowed"
            or target.group is None
            or target.train.any()
            or own.kind not in ("none", "inferred_scale")
            or own.shared is not None
        ):
            return ()
        donors = [
            t
            for t in self.targets
            if t.group is not None
            and t.train.any()
            and t.observable.name == target.observable.name
            and t.inadequacy.kind == "inferred_scale"
            and (own.kind == "none" or t.inadequacy.form == own.form)
        ]
        if len({t.inadequacy.form for t in donors}) != 1:
            return ()  # none, or forms that do not mix (a relative and a log scale)
        return tuple(t.name for t in donors)

    def pooling_groups(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(groups with training rows, groups without), each in order of first appearance."""
        order = list(dict.fromkeys(t.group for t in self.targets if t.group is not None))
        trained = {t.group for t in self.targets if t.group is not None and t.train.any()}
        return (
            tuple(g for g in order if g in trained),
            tuple(g for g in order if g not in trained),
        )

    def _check_tolerance(self, where: str) -> None:
        names = [t.name for t in self.targets]
        for tname, tol in self.tolerance.items():
            twhere = f"{where}: [transferability].tolerance.{tname}"
            if tname not in names:
                raise ProblemError(f"no target named {tname!r}; targets are {names}", twhere)
            if not (isinstance(tol, dict) and tol and set(tol) <= {"rel", "abs"}):
                raise ProblemError(
                    f"expected {{ rel = delta }}, {{ abs = delta }} or both, got {tol!r}", twhere
                )
            for k, value in tol.items():
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
                if not ok or not (0 < value < math.inf):
                    raise ProblemError(f"{k} must be a finite number > 0, got {value!r}", twhere)

    def _check_candidates(self, where: str) -> None:
        specs = {s.name: s for s in self.potential.params}
        names = []
        for i, c in enumerate(self.candidates):
            cw = f"{where}: [transferability].candidates[{i}]"
            if not isinstance(c, dict) or not isinstance(c.get("name"), str):
                raise ProblemError(f"expected {{ name = ..., PARAM = value, ... }}, got {c!r}", cw)
            values = c.get("values", {})
            unknown = [k for k in values if k not in specs]
            if unknown:
                raise ProblemError(
                    f"unknown parameter(s) {', '.join(unknown)}; "
                    f"parameters are {', '.join(specs)}",
                    cw,
                )
            missing = [n for n in self.free_parameters if n not in values]
            if missing:
                raise ProblemError(f"missing value(s) for {', '.join(missing)}", cw)
            for k, v in values.items():
                p = self.parameters[k]
                ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                if not ok or not specs[k].support.contains(self.to_internal(k, float(v))):
                    raise ProblemError(
                        f"{k} = {v!r} {p.unit} is not a number in the support "
                        f"({specs[k].support.describe()} {specs[k].unit})",
                        cw,
                    )
            names.append(c["name"])
        if len(set(names)) != len(names):
            raise ProblemError(f"candidate names must be unique, got {names}", where)

    def _check_cutoffs(self, where: str) -> None:
        """A cut-off radius outside the repulsive core at the prior centre.

        r_c below the potential's core size (sigma) cuts away the attraction and part of
        the repulsion: no cut-off convention means that (WCA's is at 2^(1/6) sigma), and
        it is a unit slip (r_c in nm read as angstrom) or a typo.
        """
        if self.base_potential.kind == "molecular":
            self._check_molecular_cutoff(where)
        if self.base_potential.kind != "pair":
            return
        centre = self._centre()
        names = [p.name for p in self.base_potential.params]
        if any(n not in centre for n in names):
            return
        places = [(self.cutoff, f"{where}: [potential].cutoff")]
        places += [(t.cutoff, f"{where}: target {t.name!r}.cutoff") for t in self.targets]
        for cut, at in places:
            if not cut or cut.get("scheme", "none") == "none":
                continue
            r_c = units.to_internal(float(cut["r_c"]), cut["unit"], "length", where=at)
            core = float(self.base_potential.length_scale(**{n: centre[n] for n in names}))
            if r_c < core:
                raise ProblemError(
                    f"r_c = {r_c:g} angstrom lies inside the repulsive core (its size at the "
                    f"prior centre is {core:.4g} angstrom): the cut-off would remove the "
                    f"attraction and part of the repulsion; cut-offs are 2.5-5 times that "
                    f"(check r_c's unit)",
                    at,
                )

    def _check_molecular_cutoff(self, where: str) -> None:
        """A force field's r_cut outside every site's repulsive core at the prior centre.

        Otherwise ``bayesff check`` passed and the reference MD failed minutes later with
        NaN coordinates (input audit, 2026-11-30: r_cut = 1 angstrom for sigma 3.75).
        """
        topology = getattr(self.base_potential, "topology", None)
        centre = self._centre()
        sigmas = {n: v for n, v in centre.items() if n.startswith("sigma_")}
        if topology is None or not sigmas:
            return
        name, core = max(sigmas.items(), key=lambda kv: kv[1])
        r_cut = float(topology.r_cut_angstrom)
        if r_cut < core:
            raise ProblemError(
                f"r_cut = {r_cut:g} angstrom lies inside the repulsive core ({name} is "
                f"{core:.4g} angstrom at the prior centre): the cut-off would remove the "
                "attraction and part of the repulsion; cut-offs are 2.5-5 times sigma "
                "(check r_cut's unit)",
                f"{where}: [potential].r_cut",
            )

    def _check_forward_models(self, where: str) -> None:
        """Each target's forward model builds (cached: the model builds the same one).

        An option value the builder refuses (``nodes_per_panel = 0``, a method for
        another kind of potential) or a potential its observable cannot predict with (a
        VLE target under a cut-off) passed ``bayesff check`` and failed in
        ``calibrate``, naming neither file nor target.
        """
        for t in self.targets:
            tw = f"{where}: target {t.name!r}"
            try:
                t.forward(self).build()
            except (ProblemError, DataError) as e:
                raise type(e)(e.message, f"{tw}: {e.where}" if e.where else tw) from None
            except (ValueError, TypeError) as e:
                at = f"{tw}.options" if t.options else tw
                raise ProblemError(" ".join(str(e).split()), at) from None

    def _centre(self) -> dict:
        """Each parameter at its prior median (its value where fixed), internal units."""
        return {
            n: self.to_internal(n, p.value if p.fixed else p.prior.median())
            for n, p in self.parameters.items()
        }

    def _defaults_note(self, t: Target) -> str:
        """``"; note: ..."`` naming the free parameters whose prior is the potential's
        default (no ``[parameters.NAME]`` table) and its centre, for a build-time check at
        the prior centre that failed (input audit: a ``mie_chain`` problem without
        ``[parameters.segments]`` was told to check its density's unit); else ``""``."""
        free = [
            n
            for n in getattr(self, "_defaulted", ())
            if not self.parameters[n].fixed and n not in t.fixed
        ]
        if not free:
            return ""
        said = [
            f"{n} {p.prior.describe()}, centre {p.prior.median():.4g}"
            + ("" if p.unit in ("", "1") else f" {p.unit}")
            for n, p in ((n, self.parameters[n]) for n in free)
        ]
        return (
            f"; note: the problem gives no [parameters.{free[0]}]"
            + "".join(f", [parameters.{n}]" for n in free[1:])
            + f", so the potential's default prior was used ({'; '.join(said)})"
        )

    def _check_repairs(self, where: str) -> None:
        """A ``match_b2`` repair must map the prior centre at its temperatures.

        Where the two conventions' B2 cannot be matched by one factor on epsilon (far
        above B2's maximum, or a factor beyond e^+-3), every draw's prediction of the
        target is NaN: a held-out group would read "no value" for every draw after the
        whole run. Solved here once, at the centre, for the reference temperature (or
        each used row's), before anything is sampled.
        """
        centre = self._centre()
        names = [p.name for p in self.potential.params]
        for t in self.targets:
            used = t.train | t.holdout_mask()
            if t.repair != "match_b2" or not used.any():
                continue
            ref = t.repair_reference_T_K
            T = np.asarray(t.env["T_K"], float)[used] if ref is None else np.array([ref])
            to = wrap_cutoff(self.base_potential, t.cutoff or {"scheme": "none"}, where)
            at = {**centre, **{n: self.to_internal(n, v) for n, v in t.fixed.items()}}
            bad = unmatched_temperatures(self.potential, to, {n: at[n] for n in names}, T)
            if not bad.any():
                continue
            k = int(np.flatnonzero(bad)[0])
            at_T = f"reference_T_K = {ref:g}" if ref is not None else f"the row at T_K = {T[k]:g}"
            raise ProblemError(
                f"repair 'match_b2' has no solution at {at_T} at the prior centre: no factor "
                f"on epsilon in [e^-3, e^3] makes B2 under the target's cutoff equal B2 under "
                f"the problem's there (far above B2's maximum, B2 hardly depends on epsilon), "
                f"so every prediction would be NaN; choose a reference temperature near the "
                f"data's",
                f"{where}: target {t.name!r}.repair",
            )

    def _apply_floors(self, where: str) -> None:
        """Forward-model error floors (observable hook), at the centre of the priors.

        The floor depends on the parameters only through the reduced state
        (T k_B / epsilon, rho sigma^3) and the unit conversion; it is evaluated
        once at the prior medians (fixed values where fixed) and recorded in
        the run (constant_data ``<target>_floor``). docs/inadequacy.md.
        """
        centre = self._centre()
        targets = []
        for t in self.targets:
            f = t.observable.error_floor
            if f is not None:
                pot = self.potential if t.cutoff is None else self.base_potential
                # the target's own fixed values (a molecule's segment count) count here
                at = {**centre, **{n: self.to_internal(n, v) for n, v in t.fixed.items()}}
                # rows neither trained on nor held out are never predicted: not checked
                used = t.train | t.holdout_mask()
                model_floor = np.zeros(t.n)
                if used.any():
                    env = {c: np.asarray(v)[used] for c, v in t.env.items()}
                    # a ProblemError or DataError (a site column) says which target and file,
                    # as other checks do (a ClusterEnergyError keeps its own place)
                    try:
                        floor = f(pot, at, env, np.asarray(t.values)[used], t.options)
                    except (ProblemError, DataError) as e:
                        source = f", data {t.data_path}" if t.data_path else ""
                        here = f"{where}: target {t.name!r}{source}"
                        raise type(e)(
                            e.message + _rows_hint(t, e.message) + self._defaults_note(t),
                            f"{here}: {e.where}" if e.where else here,
                        ) from None
                    model_floor[used] = np.asarray(floor, float)
                # a floor the user set is kept where it is larger, never lowered below the
                # forward model's validated error; from the floor as given, not as raised by
                # an earlier problem (review, 2026-11-30: a closure changed in Python kept the
                # old closure's larger floor)
                given = t.floor if t.floor_given is None else t.floor_given
                floor = np.maximum(np.asarray(given, dtype=float), model_floor)
                t = t.replace(floor=floor, floor_given=given)
            targets.append(t)
        object.__setattr__(self, "targets", tuple(targets))

    def replace(self, **changes) -> Problem:
        """A copy with some fields changed (checked again, as a new problem).

        A problem read from a file keeps the file's text (:meth:`document`, recorded in
        its runs and hashed by :meth:`fingerprint`) only while the text still says what
        the problem is: a change to a parameter, a target (its data, split, error model,
        inadequacy), the pooling or the potential drops it, and the copy's document is
        written from its objects. Changes to ``inference``, ``path`` and the targets'
        prepared runs (``aux``) keep it. Before 2026-11-30 the text was always kept, so a
        file's problem changed in Python recorded the file, and two error models or
        poolings of it had one fingerprint (a checkpoint of one resumed as the other).
        """
        where = f"problem {self.name!r}: [potential]"
        if "base_potential" in changes and "potential" not in changes:
            raise ProblemError(
                "base_potential follows the potential: give potential= (and cutoff= for a "
                "cut-off), not base_potential alone, which would leave the potential solved",
                where,
            )
        if "potential" in changes:
            pot = changes["potential"]
            base = getattr(pot, "unwrapped", None) or pot
            if pot is not self.potential and base is not self.base_potential:
                # the new potential's own base and source, not the old one's
                changes.setdefault("base_potential", None)
                changes.setdefault("potential_source", None)
            if "cutoff" in changes and getattr(pot, "cut_off", None) is None:
                changes["potential"] = wrap_cutoff(base, changes["cutoff"], f"{where}.cutoff")
            changes.setdefault("cutoff", {"scheme": "none"})  # a wrapper's own is taken
        elif "cutoff" in changes:
            pot = wrap_cutoff(self.base_potential, changes["cutoff"], f"{where}.cutoff")
            changes["potential"] = pot
        new = dataclasses.replace(self, **changes)
        if new.source_text and "source_text" not in changes and new._content() != self._content():
            new = dataclasses.replace(new, source_text="")
        return new

    def with_target(self, target: Target) -> Problem:
        """A copy in which ``target`` replaces the target of the same name."""
        if target.name not in {t.name for t in self.targets}:
            raise ProblemError(f"no target named {target.name!r}", f"problem {self.name!r}")
        return self.replace(targets=[target if t.name == target.name else t for t in self.targets])

    # ------------------------------------------------------------------ views
    @property
    def free_parameters(self) -> list[str]:
        """Names of sampled parameters, in the potential's order."""
        return [p.name for p in self.potential.params if not self.parameters[p.name].fixed]

    def pooled_parameters(self, t: Target) -> tuple[str, ...]:
        """Parameters a hierarchical target pools (default: the free energy parameters)."""
        if t.inadequacy.parameters is not None:
            return tuple(t.inadequacy.parameters)
        specs = {s.name: s for s in self.potential.params}
        return tuple(n for n in self.free_parameters if specs[n].dimension == "energy")

    def to_internal(self, name: str, value):
        """Convert a parameter value from the problem's unit to the internal unit."""
        spec = next(s for s in self.potential.params if s.name == name)
        return units.to_internal(value, self.parameters[name].unit, spec.dimension)

    def fingerprint(self) -> str:
        """sha256 of everything that shapes the posterior except the sampler settings.

        The problem's document (:meth:`document`) without its ``[inference]`` table,
        canonicalised (tables' keys sorted, comments and layout dropped), then the
        data as loaded (values, uncertainties, environments, splits) and prepared
        arrays (``Target.aux``: MD reference runs), target by target in name order.
        Two texts of the same problem, in another key order or with other comments,
        have the same fingerprint (before 2026-11-27 the text itself was hashed: a
        sweep whose base files moved a parameter ran its tasks again; docs/runfile.md).
        Sweeps skip a task whose run has the same fingerprint (and settings); a
        checkpoint is resumed only under the same fingerprint.
        """
        return self._canonical_hash(self.document(), prepared=True)

    def legacy_fingerprint(self) -> str:
        """The fingerprint that run files written before 2026-11-27 record: sha256 of
        the problem text (the file as written, ``[inference]`` and comments included),
        then the data in the problem's target order."""
        return self._hash(self.source_text or self.document_text(), self.targets, canonical=False)

    def matches(self, fingerprint: str) -> bool:
        """Whether a recorded fingerprint is this problem's: :meth:`fingerprint`, or
        :meth:`legacy_fingerprint` (runs made before 2026-11-27 are still this problem's)."""
        return bool(fingerprint) and fingerprint in (self.fingerprint(), self.legacy_fingerprint())

    @staticmethod
    def _hash(text: str, targets, *, canonical: bool, prepared: bool = True) -> str:
        """sha256 of ``text``, then each target's name, data arrays, splits, floor,
        covariance (only where it has one, so that other fingerprints are unchanged) and
        aux (environments and hold-out groups by name when ``canonical``; neither aux nor
        floor when not ``prepared``: both come from prepared runs and the forward model)."""
        order = sorted if canonical else list
        h = hashlib.sha256()
        h.update(text.encode())
        for t in targets:
            h.update(t.name.encode())
            env = [t.env[k] for k in order(t.env)]
            floor = (t.floor,) if prepared else ()
            for a in (t.values, t.uncertainties, t.train, *floor, *env):
                h.update(np.ascontiguousarray(a, dtype=float).tobytes())
            for g in order(t.holdout):
                m = t.holdout[g]
                h.update(g.encode() + np.asarray(m, bool).tobytes())
            if t.covariance is not None:
                # read from a file the text only names: another file's matrix is another problem
                h.update(b"covariance" + np.ascontiguousarray(t.covariance, dtype=float).tobytes())
            for k, v in sorted((t.aux or {}).items()) if prepared else ():
                h.update(k.encode() + np.ascontiguousarray(v).tobytes())
        return h.hexdigest()

    def _content(self) -> str:
        """A hash of what the problem is, written from its objects, whatever its text says:
        its document less ``[inference]`` (:func:`~bayesff.problem_text.document`), a
        plug-in's source and its targets' data, splits and covariances; not what prepared
        runs add (``aux``, and the floors of their standard errors), which the text names
        in a comment."""
        return self._canonical_hash(document(self), prepared=False)

    def _canonical_hash(self, doc: dict, *, prepared: bool) -> str:
        """:meth:`_hash` of ``doc`` less ``[inference]`` as canonical JSON with the
        plug-in's source, then the targets in name order."""
        doc = {k: v for k, v in doc.items() if k != "inference"}
        # sort_keys orders every table; arrays (targets, hold-out groups) keep their order
        text = json.dumps(doc, sort_keys=True, default=_plain, separators=(",", ":"))
        targets = sorted(self.targets, key=lambda t: t.name)
        return self._hash(text + self._plugin_source(), targets, canonical=True, prepared=prepared)

    def _plugin_source(self) -> str:
        """A plug-in potential's module, qualname and version as text; ``""`` for bayesff's
        own potentials (so that their fingerprints are unchanged). Another version of a
        plug-in is another problem (review, 2026-11-30: an upgraded plug-in resumed the old
        one's checkpoint)."""
        src = self.potential_source or {}
        own = (src.get("module") or "bayesff").split(".")[0] == "bayesff"
        if own and "provider" not in src:
            return ""
        keys = ("module", "qualname", "version", "provider", "provider_version")
        # with the potential solved: a plug-in that returns a truncated LJ names the
        # cut-off only there (the file's text says kind = "module:factory")
        return json.dumps(
            {"name": self.potential.name, **{k: src.get(k, "") for k in keys}}, sort_keys=True
        )

    def describe(self) -> str:
        """Human-readable account of what will be fitted (``bayesff check``)."""

        return describe(self)

    def document(self) -> dict:
        """The problem as a problem-file document (TOML tables as dicts).

        For a problem read from a file this is the file; for one built in
        Python it is written from the objects (data arrays are named, not
        embedded: the run file holds them), so that every run records what it
        solved.
        """
        if self.source_text:
            return tomllib.loads(self.source_text)
        return document(self)

    def document_text(self) -> str:
        """:meth:`document` as TOML text (:func:`dump_problem`)."""
        return dump_problem(self)

    # ------------------------------------------------------------- from TOML
    @classmethod
    def from_toml(
        cls,
        path: str | Path,
        *,
        prepared: bool | str | Path = True,
        allow_plugins: tuple[str, ...] = (),
    ) -> Problem:
        """Read and validate a problem file.

        Relative data paths are resolved against the problem file's directory,
        then against its parent (so ``data/...`` works from ``models/``).
        ``prepared``: where MD targets read their prepared reference runs
        (:mod:`bayesff.prepared`): ``True`` (default) ``prepared/NAME`` in the
        current directory, a directory, or ``False`` not to read them (a
        problem that cannot be calibrated; ``bayesff prepare`` loads it so).
        ``allow_plugins``: modules the file may name as ``kind =
        "module:factory"`` (:mod:`bayesff.potentials.plugins`; with those of
        the user's configuration file and of an enclosing
        ``plugins.allow_plugins`` block).
        """
        return load_problem(path, prepared=prepared, cls=cls, allow_plugins=allow_plugins)

    @classmethod
    def from_dict(
        cls,
        doc: dict,
        *,
        path: str = "<dict>",
        source_text: str = "",
        base_dirs: tuple[Path, ...] | None = None,
        prepared: bool | str | Path = True,
        allow_plugins: tuple[str, ...] = (),
    ) -> Problem:
        """Build from a parsed problem document (the TOML structure as dicts).

        Relative data paths are resolved against ``base_dirs`` (default: the
        current directory at call time); ``prepared`` and ``allow_plugins`` as
        for :meth:`from_toml`.
        """

        return problem_from_dict(
            doc,
            path=path,
            source_text=source_text,
            base_dirs=base_dirs,
            prepared=prepared,
            cls=cls,
            allow_plugins=allow_plugins,
        )


def load_problem(
    path: str | Path,
    *,
    prepared: bool | str | Path = True,
    cls: type = Problem,
    allow_plugins: tuple[str, ...] = (),
) -> Problem:
    """Read and validate a problem file (see :meth:`Problem.from_toml`).

    ``allow_plugins``: modules the file may name as ``kind = "module:factory"``
    (:mod:`bayesff.potentials.plugins`); nothing else is imported because a
    file names it.
    """
    path = Path(path)
    text = read_text(path, "problem file")
    doc = parse_toml(text, str(path))
    if "sweep" in doc and "problem" not in doc:  # a sweep file's own table, no problem's
        raise ProblemError(
            f"a sweep file, not a problem file: check it with bayesff sweep --check {path}",
            str(path),
        )
    return problem_from_dict(
        doc,
        path=str(path),
        source_text=text,
        base_dirs=_base_dirs(path),
        prepared=prepared,
        cls=cls,
        allow_plugins=allow_plugins,
    )


def problem_from_dict(
    doc: dict,
    *,
    path: str = "<dict>",
    source_text: str = "",
    base_dirs: tuple[Path, ...] | None = None,
    prepared: bool | str | Path = True,
    cls: type = Problem,
    allow_plugins: tuple[str, ...] = (),
) -> Problem:
    """A problem from a parsed problem document (see :meth:`Problem.from_dict`)."""
    validate(doc, PROBLEM_SCHEMA, path)
    if isinstance(allow_plugins, str):  # one module given as a string, not its letters
        allow_plugins = (allow_plugins,)
    with plugins.allow_plugins(*allow_plugins):
        return build_from_document(
            cls,
            doc,
            path=path,
            source_text=source_text,
            base_dirs=base_dirs or (Path.cwd(),),
            prepared=prepared,
        )


def dump_problem(problem: Problem) -> str:
    """A problem as problem-file text: the file it was read from, or, for one built in
    Python, its document written as TOML (data arrays named, not embedded)."""
    if problem.source_text:
        return problem.source_text
    return tomli_w.dumps(document(problem))


def _check_parameter(unit, prior, value, dimension, support, internal_unit, where: str) -> None:
    """A parameter's unit, prior or fixed value against its spec."""
    factor = units.factor(unit, dimension, where=f"{where}.unit")
    if value is not None:
        if not (math.isfinite(value) and support.contains(value * factor)):
            raise ProblemError(
                f"value {value!r} {unit} is outside the support "
                f"({support.describe()} {internal_unit})",
                f"{where}.value",
            )
        return
    if prior is None:
        raise ProblemError("a parameter needs a prior or a fixed value", where)
    prior.scaled(factor).check_within(support, f"{where}.prior")


def _base_dirs(path: Path) -> tuple[Path, ...]:
    d = path.resolve().parent
    return (d, d.parent, Path.cwd())


def read_text(path: Path, what: str) -> str:
    """A UTF-8 text file (a leading byte-order mark is dropped), with clear errors."""
    path = Path(path)
    try:
        why = not_a_file(path)
        if why is not None:
            raise ProblemError(f"{what} {why}, expected a TOML file", str(path))
        if not path.is_file():
            raise ProblemError(f"{what} not found: {path}")
        raw = path.read_bytes()
    except OSError as e:  # a name too long for the file system, no permission, a link loop
        raise ProblemError(f"{what} cannot be read: {e.strerror or e}", str(path)) from None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]  # a UTF-8 byte-order mark (some Windows editors write one)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ProblemError(
            f"not UTF-8 text: byte {raw[e.start]:#04x} at offset {e.start} cannot be decoded",
            str(path),
        ) from None


def _plain(value):
    """A value of a problem document as JSON can write it, in full: NumPy arrays and
    scalars as lists and numbers (``str`` would round and elide a long array), anything
    else (a TOML date) as its ISO text."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"a problem document holds a {type(value).__name__}: {value!r}")


def _rows_hint(t: Target, message: str) -> str:
    """``"; ..."`` pointing a refusal that asks to leave rows out to the target's ``rows``
    filter (a file need not be edited or copied for it); ``""`` where it does not apply."""
    if t.data_path is None or "leave out the row" not in message:
        return ""
    col = next((c for c in t.observable.env_columns if np.ndim(t.env[c]) == 1), None)
    if col is None:
        return ""
    return (
        f"; a filter on the target, rows = {{ {col} = [low, high] }} in the file's units, "
        "leaves rows of its file out"
    )
