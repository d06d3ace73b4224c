"""Calibration problems: built from a TOML file or in Python, validated eagerly.

A problem is a potential (with its cut-off convention), priors on its
parameters, targets with a training/held-out split, transferability settings
and inference settings. Every check runs here, before anything is traced or
sampled, and each error names the file and field, what was expected and what
was found. See ``models/argon_lj_b2.toml`` for the file format.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from bayesff import units
from bayesff.errors import ProblemError
from bayesff.potentials import cutoff as _cutoff
from bayesff.potentials import gp as _gp  # noqa: F401  (registers kind = "gp")
from bayesff.potentials._spec import PairPotential, ParamSpec, TorsionPotential, get_potential
from bayesff.priors import PriorSpec
from bayesff.targets import Inadequacy, Target

__all__ = ["InferenceSettings", "Parameter", "Problem"]

_TOP_KEYS = {"problem", "potential", "parameters", "targets", "transferability", "inference"}
_CUTOFF_SCHEMES = ("none", "truncated", "shifted", "force_shifted")


@dataclass(frozen=True)
class Parameter:
    """A potential parameter as the problem states it.

    Parameters
    ----------
    name
        Name in the potential's parameter table.
    unit
        Unit the prior (and the posterior) is expressed in, e.g. ``"K"`` for
        epsilon/k_B; converted to the internal unit inside the model.
    prior
        Prior in ``unit``; ``None`` with ``value`` set means fixed.
    value
        Fixed value in ``unit`` (not sampled).
    """

    name: str
    unit: str
    prior: PriorSpec | None = None
    value: float | None = None

    @property
    def fixed(self) -> bool:
        return self.value is not None


#: Values of ``[inference] init`` (see :class:`InferenceSettings`).
INIT_STRATEGIES = ("central", "laplace")


@dataclass(frozen=True)
class InferenceSettings:
    """NUTS settings.

    Attributes
    ----------
    chains, warmup, samples
        Number of chains (vectorised on one device) and of warm-up and kept
        draws per chain.
    seed
        PRNG seed; the same seed and problem give the same draws.
    target_accept
        NUTS target acceptance probability.
    max_tree_depth
        NUTS maximum tree depth.
    prior_draws
        Number of draws from the prior (and prior predictive) stored in the run.
    nodes_per_panel
        Gauss-Legendre nodes per panel of the B2 quadrature (accuracy setting).
    dense_mass
        Adapt a dense mass matrix in warm-up (default). Force-field parameters
        are strongly correlated (epsilon with sigma); a dense metric halves the
        number of leapfrog steps per draw and doubles the ESS on argon B2.
    thin
        Keep every ``thin``-th draw of each chain in the run file (default 1,
        all). For problems whose held-out predictions are expensive (a liquid
        density is several integral-equation solves per draw and state), the
        posterior predictive, predictions and diagnostics use the kept draws.
    init
        Where chains start and with which metric warm-up begins. ``"central"``
        (default): each chain at a random point of the central half of every
        prior, identity mass matrix. ``"laplace"``: find the posterior mode
        (L-BFGS in NumPyro's unconstrained space), take the inverse Hessian there
        (finite differences of the gradient) as the initial inverse mass matrix,
        and start each chain at a draw from that Gaussian, widened 2x so that
        R-hat can still detect chains that do not mix. For expensive models
        whose parameters are strongly correlated (epsilon with sigma), warm-up
        otherwise spends most of its gradients on long trajectories with an
        unadapted metric (measured on argon_joint: docs/joint.md).
    """

    chains: int = 4
    warmup: int = 1000
    samples: int = 1000
    seed: int = 0
    target_accept: float = 0.8
    max_tree_depth: int = 10
    prior_draws: int = 500
    nodes_per_panel: int = 16
    dense_mass: bool = True
    thin: int = 1
    init: str = "central"

    def __post_init__(self):
        for k in (
            "chains",
            "warmup",
            "samples",
            "max_tree_depth",
            "prior_draws",
            "nodes_per_panel",
            "thin",
        ):
            v = getattr(self, k)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ProblemError(f"{k} must be a positive integer, got {v!r}", "[inference]")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ProblemError(
                f"seed must be a non-negative integer, got {self.seed!r}", "[inference]"
            )
        ta = self.target_accept
        if not isinstance(ta, (int, float)) or isinstance(ta, bool) or not 0.0 < ta < 1.0:
            raise ProblemError(
                f"target_accept must be in (0, 1), got {self.target_accept!r}", "[inference]"
            )
        if self.init not in INIT_STRATEGIES:
            raise ProblemError(
                f"init must be one of {', '.join(map(repr, INIT_STRATEGIES))}, got {self.init!r}",
                "[inference]",
            )
        if not isinstance(self.dense_mass, bool):
            raise ProblemError(
                f"dense_mass must be true or false, got {self.dense_mass!r}", "[inference]"
            )


@dataclass
class Problem:
    """A calibration problem.

    Attributes
    ----------
    name
        Used for ``runs/NAME`` and ``reports/NAME``.
    potential
        The pair or torsion potential, wrapped by its cut-off convention.
    parameters
        One entry per potential parameter (defaults filled in).
    targets
        Observables with data and training/held-out masks.
    tolerance
        Target name -> ``{"rel": delta}`` or ``{"abs": delta}`` for the
        transferability verdicts.
    inference
        Sampler settings.
    description, source_text, path, cutoff
        What the problem is, the problem file's text (stored in the run), its
        path, and the cut-off convention as written.
    candidates
        Named parameter sets (``{"name": ..., "values": {param: value}}``, in
        the problem's units) judged by the field's deterministic rule next to
        the posterior, e.g. the literature values or epsilon +/- 5 %.
    """

    name: str
    potential: PairPotential | TorsionPotential
    parameters: dict[str, Parameter]
    targets: list[Target]
    tolerance: dict[str, dict] = field(default_factory=dict)
    inference: InferenceSettings = field(default_factory=InferenceSettings)
    description: str = ""
    source_text: str = ""
    path: str | None = None
    cutoff: dict = field(default_factory=lambda: {"scheme": "none"})
    candidates: list[dict] = field(default_factory=list)
    base_potential: PairPotential | TorsionPotential | None = None

    def __post_init__(self):
        where = self.path or f"problem {self.name!r}"
        if self.base_potential is None:
            # a per-target cut-off applies to the bare potential, never on top of
            # the problem's own cut-off
            self.base_potential = getattr(self.potential, "unwrapped", None) or self.potential
        if not self.name or not all(c.isalnum() or c in "_-." for c in self.name):
            raise ProblemError(
                f"name must be non-empty letters, digits, '_', '-', '.', got {self.name!r}",
                f"{where}: [problem].name",
            )
        specs = {p.name: p for p in self.potential.params}
        unknown = [p for p in self.parameters if p not in specs]
        if unknown:
            raise ProblemError(
                f"{self.potential.name} has no parameter(s) {', '.join(unknown)}; its parameters "
                f"are {', '.join(specs)}",
                f"{where}: [parameters]",
            )
        for pname, spec in specs.items():
            if pname not in self.parameters:
                self.parameters[pname] = Parameter(pname, spec.prior_unit, spec.default_prior)
            self._check_parameter(self.parameters[pname], spec, f"{where}: [parameters.{pname}]")
        if not self.targets:
            raise ProblemError("at least one target is needed", f"{where}: [[targets]]")
        names = [t.name for t in self.targets]
        if len(set(names)) != len(names):
            raise ProblemError(
                f"target names must be unique, got {names}", f"{where}: [[targets]]"
            )
        for t in self.targets:
            if t.observable.potential_kind != self.potential.kind:
                raise ProblemError(
                    f"observable {t.observable.name} needs a {t.observable.potential_kind} "
                    f"potential, {self.potential.name} is a {self.potential.kind} potential",
                    f"{where}: target {t.name!r}",
                )
            if not t.train.any() and not t.holdout:
                raise ProblemError(
                    "the training selection keeps no rows", f"{where}: target {t.name!r}.train"
                )
            inad = t.inadequacy
            if inad.kind == "hierarchical":
                free = self.free_parameters
                pooled = (
                    list(inad.parameters)
                    if inad.parameters is not None
                    else [n for n in free if specs[n].dimension == "energy"]
                )
                if not pooled or any(q in specs and q not in free for q in pooled):
                    raise ProblemError(
                        f"hierarchical needs free parameters to pool; got {pooled or 'none'} "
                        f"(free: {', '.join(free)}); name them in inadequacy.parameters",
                        f"{where}: target {t.name!r}.inadequacy.parameters",
                    )
                unknown = [q for q in inad.parameters or () if q not in specs]
                if unknown:
                    raise ProblemError(
                        f"cannot pool {', '.join(unknown)}: not parameters of "
                        f"{self.potential.name} ({', '.join(specs)})",
                        f"{where}: target {t.name!r}.inadequacy.parameters",
                    )
                if t.train.sum() < inad.bands:
                    raise ProblemError(
                        f"{inad.bands} bands need at least {inad.bands} training rows, "
                        f"got {int(t.train.sum())}",
                        f"{where}: target {t.name!r}.inadequacy.bands",
                    )
        if not any(t.train.any() for t in self.targets):
            raise ProblemError(
                "no target has training rows: nothing to calibrate", f"{where}: [[targets]]"
            )
        for tname, tol in self.tolerance.items():
            twhere = f"{where}: [transferability].tolerance.{tname}"
            if tname not in names:
                raise ProblemError(f"no target named {tname!r}; targets are {names}", twhere)
            if not (isinstance(tol, dict) and len(tol) == 1 and set(tol) <= {"rel", "abs"}):
                raise ProblemError(
                    f"expected {{ rel = delta }} or {{ abs = delta }}, got {tol!r}", twhere
                )
            value = next(iter(tol.values()))
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
                raise ProblemError(f"tolerance must be > 0, got {tol!r}", twhere)
        self._check_candidates(where)
        if all(p.fixed for p in self.parameters.values()):
            raise ProblemError(
                "every parameter is fixed: nothing to calibrate", f"{where}: [parameters]"
            )

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
                ok = isinstance(v, (int, float)) and not isinstance(v, bool)
                if not ok or not specs[k].support.contains(self.to_internal(k, float(v))):
                    raise ProblemError(
                        f"{k} = {v!r} {p.unit} is not a number in the support "
                        f"({specs[k].support.describe()} {specs[k].unit})",
                        cw,
                    )
            names.append(c["name"])
        if len(set(names)) != len(names):
            raise ProblemError(f"candidate names must be unique, got {names}", where)

    @staticmethod
    def _check_parameter(p: Parameter, spec: ParamSpec, where: str) -> None:
        factor = units.factor(p.unit, spec.dimension, where=f"{where}.unit")
        if p.fixed:
            if not spec.support.contains(p.value * factor):
                raise ProblemError(
                    f"value {p.value!r} {p.unit} is outside the support "
                    f"({spec.support.describe()} {spec.unit})",
                    f"{where}.value",
                )
            return
        if p.prior is None:
            raise ProblemError("a parameter needs a prior or a fixed value", where)
        p.prior.scaled(factor).check_within(spec.support, f"{where}.prior")

    # ------------------------------------------------------------------ views
    @property
    def free_parameters(self) -> list[str]:
        """Names of sampled parameters, in the potential's order."""
        return [p.name for p in self.potential.params if not self.parameters[p.name].fixed]

    def to_internal(self, name: str, value):
        """Convert a parameter value from the problem's unit to the internal unit."""
        spec = next(s for s in self.potential.params if s.name == name)
        return units.to_internal(value, self.parameters[name].unit, spec.dimension)

    def describe(self) -> str:
        """Human-readable account of what will be fitted (``bayesff check``)."""
        lines = [f"problem   {self.name}: {self.description}".rstrip(": ")]
        lines.append(f"potential {self.potential.name}")
        lines.append("parameters")
        for spec in self.potential.params:
            p = self.parameters[spec.name]
            what = f"fixed at {p.value:g}" if p.fixed else f"prior {p.prior.describe()}"
            lines.append(f"  {spec.name:<10} [{p.unit}] {what}   ({spec.description})")
        for t in self.targets:
            inad = t.inadequacy.kind
            scale_name = {"inferred_scale": "tau", "hierarchical": "omega", "gp": "alpha"}
            if inad != "none":
                inad += (
                    f" ({t.inadequacy.form}, {scale_name[inad]} ~ "
                    f"HalfNormal({t.inadequacy.prior_scale:g}))"
                )
            lines.append(
                f"target    {t.name}: {t.observable.name} [{t.observable.unit}], "
                f"{int(t.train.sum())} training rows of {t.n}, inadequacy {inad}"
            )
            for col in t.observable.env_columns:
                v = t.env_display(col)
                if t.train.any():
                    lines.append(f"  train {col} in [{v[t.train].min():g}, {v[t.train].max():g}]")
                else:
                    lines.append(f"  not trained on: predicted only ({col} as held out below)")
                for g, m in t.holdout.items():
                    if m.any():
                        lines.append(
                            f"  held out {g!r}: {int(m.sum())} rows, {col} in "
                            f"[{v[m].min():g}, {v[m].max():g}]"
                        )
            if t.provenance is not None:
                lines.append(f"  data {t.data_path} ({t.provenance.kind}): {t.provenance.source}")
        s = self.inference
        lines.append(
            f"inference NUTS, {s.chains} chains x ({s.warmup} warm-up + {s.samples} draws), "
            f"seed {s.seed}, float64"
        )
        return "\n".join(lines)

    # ------------------------------------------------------------- from TOML
    @classmethod
    def from_toml(cls, path: str | Path) -> Problem:
        """Read and validate a problem file.

        Relative data paths are resolved against the problem file's directory,
        then against its parent (so ``data/...`` works from ``models/``).
        """
        path = Path(path)
        if not path.is_file():
            raise ProblemError(f"problem file not found: {path}")
        text = path.read_text()
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ProblemError(f"not valid TOML: {e}", str(path)) from None
        return cls.from_dict(doc, path=str(path), source_text=text, base_dirs=_base_dirs(path))

    @classmethod
    def from_dict(
        cls,
        doc: dict,
        *,
        path: str = "<dict>",
        source_text: str = "",
        base_dirs: tuple[Path, ...] | None = None,
    ) -> Problem:
        """Build from a parsed problem document (the TOML structure as dicts).

        Relative data paths are resolved against ``base_dirs`` (default: the
        current directory at call time).
        """
        base_dirs = base_dirs or (Path.cwd(),)
        unknown = set(doc) - _TOP_KEYS
        if unknown:
            raise ProblemError(
                f"unknown section(s) {', '.join(sorted(unknown))}; expected "
                f"{', '.join(sorted(_TOP_KEYS))}",
                path,
            )
        prob = _table(doc, "problem", path, required=True)
        name = _get(prob, "name", str, f"{path}: [problem]")
        description = prob.get("description", "")

        pot_t = _table(doc, "potential", path, required=True)
        kind = _get(pot_t, "kind", str, f"{path}: [potential]")
        base = get_potential(kind, f"{path}: [potential].kind")
        options = {k: v for k, v in pot_t.items() if k not in ("kind", "cutoff")}
        configure = getattr(base, "configure", None)
        if configure is not None:
            # a configurable potential (the GP: base, basis, box) is built from its options
            base = configure(options, f"{path}: [potential]")
        elif options:
            raise ProblemError(
                f"unknown key(s) {', '.join(sorted(options))} for potential {kind!r}; "
                "expected kind and cutoff",
                f"{path}: [potential]",
            )
        cut = pot_t.get("cutoff", {"scheme": "none"})
        potential = _wrap_cutoff(base, cut, f"{path}: [potential].cutoff")

        params = {}
        for pname, ptab in _table(doc, "parameters", path).items():
            pw = f"{path}: [parameters.{pname}]"
            if not isinstance(ptab, dict):
                raise ProblemError(
                    f"expected a table with unit and prior or value, got {ptab!r}", pw
                )
            extra = set(ptab) - {"unit", "prior", "value"}
            if extra:
                raise ProblemError(
                    f"unknown key(s) {', '.join(sorted(extra))}; expected unit, prior or value", pw
                )
            if "unit" not in ptab:
                raise ProblemError("missing 'unit' (a parameter's unit is never guessed)", pw)
            if ("prior" in ptab) == ("value" in ptab):
                raise ProblemError("give exactly one of 'prior' (sampled) or 'value' (fixed)", pw)
            prior = (
                PriorSpec.from_mapping(ptab["prior"], f"{pw}.prior") if "prior" in ptab else None
            )
            value = ptab.get("value")
            if value is not None and (
                not isinstance(value, (int, float)) or isinstance(value, bool)
            ):
                raise ProblemError(f"value must be a number, got {value!r}", f"{pw}.value")
            params[pname] = Parameter(
                pname, ptab["unit"], prior, None if value is None else float(value)
            )

        targets_t = doc.get("targets", [])
        if not isinstance(targets_t, list):
            raise ProblemError("targets must be an array of tables ([[targets]])", path)
        targets = [_target_from_table(t, i, path, base_dirs) for i, t in enumerate(targets_t)]

        tr = _table(doc, "transferability", path)
        extra = set(tr) - {"holdout", "tolerance", "candidates"}
        if extra:
            raise ProblemError(
                f"unknown key(s) {', '.join(sorted(extra))}", f"{path}: [transferability]"
            )
        by_name = {t.name: t for t in targets}
        for i, h in enumerate(tr.get("holdout", [])):
            hw = f"{path}: [transferability].holdout[{i}]"
            if not isinstance(h, dict) or "target" not in h or "select" not in h:
                raise ProblemError(
                    f"expected {{ target = NAME, select = {{...}} }}, got {h!r}", hw
                )
            if h["target"] not in by_name:
                raise ProblemError(
                    f"no target named {h['target']!r}; targets are {list(by_name)}", hw
                )
            extra = set(h) - {"target", "select", "name"}
            if extra:
                raise ProblemError(
                    f"unknown key(s) {', '.join(sorted(extra))}; expected target, select, name", hw
                )
            sel = h["select"]
            ok = isinstance(sel, dict) and all(
                isinstance(v, list) and len(v) == 2 and all(isinstance(x, (int, float)) for x in v)
                for v in sel.values()
            )
            if not ok:
                raise ProblemError(
                    f"select must be a table of column = [low, high], got {sel!r}", f"{hw}.select"
                )
            if "name" in h and not isinstance(h["name"], str):
                raise ProblemError(f"name must be a string, got {h['name']!r}", f"{hw}.name")
            label = h.get("name") or ", ".join(f"{c} {lo:g}-{hi:g}" for c, (lo, hi) in sel.items())
            by_name[h["target"]].add_holdout(label, h["select"], hw)
        tolerance = tr.get("tolerance", {})
        if not isinstance(tolerance, dict):
            raise ProblemError(
                f"tolerance must be a table {{ TARGET = {{ rel = delta }} }}, got {tolerance!r}",
                f"{path}: [transferability].tolerance",
            )
        candidates = []
        for i, c in enumerate(tr.get("candidates", [])):
            if not isinstance(c, dict) or "name" not in c:
                raise ProblemError(
                    f"expected {{ name = ..., PARAM = value, ... }}, got {c!r}",
                    f"{path}: [transferability].candidates[{i}]",
                )
            candidates.append(
                {"name": c["name"], "values": {k: v for k, v in c.items() if k != "name"}}
            )

        inf = _table(doc, "inference", path)
        known = set(InferenceSettings.__dataclass_fields__)
        extra = set(inf) - known
        if extra:
            raise ProblemError(
                f"unknown key(s) {', '.join(sorted(extra))}; expected {', '.join(sorted(known))}",
                f"{path}: [inference]",
            )
        try:
            settings = InferenceSettings(**inf)
        except ProblemError as e:
            raise ProblemError(e.message, f"{path}: [inference]") from None

        return cls(
            name=name,
            potential=potential,
            parameters=params,
            targets=targets,
            tolerance=tolerance,
            inference=settings,
            description=description,
            source_text=source_text,
            path=path,
            cutoff=cut,
            candidates=candidates,
            base_potential=base,
        )


def _base_dirs(path: Path) -> tuple[Path, ...]:
    d = path.resolve().parent
    return (d, d.parent, Path.cwd())


def _table(doc: dict, key: str, path: str, required: bool = False) -> dict:
    if key not in doc:
        if required:
            raise ProblemError(f"missing section [{key}]", path)
        return {}
    t = doc[key]
    if not isinstance(t, dict):
        raise ProblemError(f"[{key}] must be a table, got {type(t).__name__}", path)
    return t


def _get(t: dict, key: str, typ, where: str):
    if key not in t:
        raise ProblemError(f"missing key {key!r}", where)
    if not isinstance(t[key], typ):
        raise ProblemError(f"{key!r} must be a {typ.__name__}, got {t[key]!r}", where)
    return t[key]


def wrap_cutoff(base, cut: dict, where: str = "cutoff"):
    """The potential ``base`` under the cut-off convention ``cut`` (validated)."""
    return _wrap_cutoff(base, cut, where)


def _wrap_cutoff(base, cut, where: str):
    if not isinstance(cut, dict) or "scheme" not in cut:
        raise ProblemError(f"expected {{ scheme = ... }}, got {cut!r}", where)
    scheme = cut["scheme"]
    if scheme not in _CUTOFF_SCHEMES:
        raise ProblemError(
            f"unknown cut-off scheme {scheme!r}; expected one of {', '.join(_CUTOFF_SCHEMES)}",
            where,
        )
    if scheme == "none":
        if set(cut) - {"scheme"}:
            raise ProblemError("scheme 'none' takes no other keys", where)
        return base
    if base.kind != "pair":
        raise ProblemError(f"a cut-off applies to pair potentials, not {base.kind}", where)
    extra = set(cut) - {"scheme", "r_c", "unit"}
    if extra:
        raise ProblemError(
            f"unknown key(s) {', '.join(sorted(extra))}; expected scheme, r_c, unit", where
        )
    r_c = cut.get("r_c")
    if not isinstance(r_c, (int, float)) or isinstance(r_c, bool) or r_c <= 0:
        raise ProblemError(f"{scheme} needs r_c > 0, got {cut.get('r_c')!r}", where)
    r_c = units.to_internal(float(cut["r_c"]), cut.get("unit"), "length", where=f"{where}.unit")
    return getattr(_cutoff, scheme)(base, r_c)


def _target_from_table(t: dict, i: int, path: str, base_dirs) -> Target:
    from bayesff.observables import get_observable

    where = f"{path}: targets[{i}]"
    if not isinstance(t, dict):
        raise ProblemError(f"expected a table, got {t!r}", where)
    allowed = {
        "name",
        "observable",
        "data",
        "train",
        "noise",
        "inadequacy",
        "cutoff",
        "repair",
        "options",
    }
    extra = set(t) - allowed
    if extra:
        raise ProblemError(
            f"unknown key(s) {', '.join(sorted(extra))}; expected {', '.join(sorted(allowed))}",
            where,
        )
    name = _get(t, "name", str, where)
    where = f"{path}: targets[{i}] ({name})"
    obs = get_observable(_get(t, "observable", str, where), f"{where}.observable")
    data_rel = _get(t, "data", str, where)
    data_path = next((b / data_rel for b in base_dirs if (b / data_rel).is_file()), None)
    if data_path is None:
        raise ProblemError(
            f"data file {data_rel!r} not found (looked in {', '.join(str(b) for b in base_dirs)})",
            f"{where}.data",
        )
    noise = t.get("noise", {"column": obs.uncertainty_column})
    if not isinstance(noise, dict) or set(noise) != {"column"}:
        raise ProblemError(
            f"expected noise = {{ column = NAME }}, got {noise!r}", f"{where}.noise"
        )
    inad_obj = Inadequacy.from_value(t.get("inadequacy", "none"), f"{where}.inadequacy")
    train = t.get("train")
    if train is not None and train is not False and not isinstance(train, dict):
        raise ProblemError(
            f"train must be a selection {{ column = [low, high] }} or false, got {train!r}",
            f"{where}.train",
        )
    target = Target.from_file(
        name,
        obs,
        data_path,
        train=train,
        noise_column=noise["column"],
        inadequacy=inad_obj,
        data_label=data_rel,
        where=where,
    )
    if "cutoff" in t:
        # validated now (scheme, r_c, unit); applied to the potential by the model
        _wrap_cutoff(get_potential("lennard_jones"), t["cutoff"], f"{where}.cutoff")
        target.cutoff = dict(t["cutoff"])
    repair = t.get("repair", "none")
    ref_T = None
    if isinstance(repair, dict):
        ok = set(repair) <= {"method", "reference_T_K"} and "method" in repair
        ref_T = repair.get("reference_T_K")
        if not ok or (ref_T is not None and not (isinstance(ref_T, (int, float)) and ref_T > 0)):
            raise ProblemError(
                f"expected {{ method = 'match_b2', reference_T_K = T > 0 }}, got {repair!r}",
                f"{where}.repair",
            )
        repair = repair["method"]
    if repair not in ("none", "match_b2"):
        raise ProblemError(
            "repair must be 'none' or 'match_b2' (or a table with method and reference_T_K), "
            f"got {repair!r}",
            f"{where}.repair",
        )
    if repair != "none" and obs.name != "second_virial":
        raise ProblemError(
            f"repair 'match_b2' maps B2 between conventions; it is defined for second_virial "
            f"targets, not {obs.name}",
            f"{where}.repair",
        )
    if repair != "none" and "cutoff" not in t:
        raise ProblemError("repair needs a cutoff different from the problem's", f"{where}.repair")
    target.repair = repair
    target.repair_reference_T_K = None if ref_T is None else float(ref_T)
    target.options = _target_options(t.get("options", {}), obs, f"{where}.options")
    return target


def _target_options(options, obs, where: str) -> dict:
    """A target's forward-model options, checked against what its observable accepts."""
    if not isinstance(options, dict):
        raise ProblemError(f"expected a table of options, got {options!r}", where)
    accepted = obs.options or ()
    extra = sorted(set(options) - set(accepted))
    if extra:
        expected = ", ".join(accepted) if accepted else "none (this observable takes no options)"
        raise ProblemError(f"unknown option(s) {', '.join(extra)}; expected {expected}", where)
    return dict(options)
