"""Prior specifications as data.

A :class:`PriorSpec` is what a problem file writes
(``prior = { dist = "LogNormal", median = 120.0, scale = 0.3 }``) or what a
potential declares as the default prior of a parameter. It is validated
eagerly (no numpyro import) and turned into a numpyro distribution only by
the model layer, after conversion to the parameter's unit.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field

from bayesff.errors import ProblemError

__all__ = ["DISTRIBUTIONS", "Parameter", "Pooling", "PriorSpec", "Support"]

# distribution -> (required arguments, description of the arguments)
DISTRIBUTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "LogNormal": (("median", "scale"), "median > 0 (in the parameter's unit), scale = sd of ln"),
    "Normal": (("loc", "scale"), "mean and standard deviation"),
    "TruncatedNormal": (("loc", "scale", "low", "high"), "normal restricted to [low, high]"),
    "Uniform": (("low", "high"), "flat on [low, high]"),
    "HalfNormal": (("scale",), "|Normal(0, scale)|"),
}


@dataclass(frozen=True)
class Support:
    """Where a parameter is allowed to live.

    Parameters
    ----------
    kind
        ``"real"``, ``"positive"``, ``"greater_than"`` or ``"interval"``.
    low, high
        Bounds for ``"greater_than"`` (``low``) and ``"interval"``.
    """

    kind: str = "real"
    low: float = -math.inf
    high: float = math.inf

    def __post_init__(self):
        if self.kind not in ("real", "positive", "greater_than", "interval"):
            raise ValueError(f"unknown support kind {self.kind!r}")
        if self.kind == "positive":
            object.__setattr__(self, "low", 0.0)

    def contains(self, x: float) -> bool:
        """Whether ``x`` lies in the support (open at ``low`` for positive/greater_than)."""
        if self.kind == "real":
            return math.isfinite(x)
        if self.kind in ("positive", "greater_than"):
            return x > self.low
        return self.low <= x <= self.high

    def describe(self) -> str:
        return {
            "real": "any real number",
            "positive": "> 0",
            "greater_than": f"> {self.low:g}",
            "interval": f"in [{self.low:g}, {self.high:g}]",
        }[self.kind]


#: A TruncatedNormal whose loc lies further than this many scales outside [low, high]
#: has a normalising mass below 1e-9: numpyro's truncation underflows beyond about 8
#: (its draws then fall outside the bounds) and such a prior is a typo in any case.
TRUNCATION_SD = 6.0


#: A prior whose scale is below this fraction of its centre (LogNormal: the scale of ln x
#: itself) is a point: its draws agree to 12 digits, the sampler's step in the parameter
#: underflows and its diagnostics are NaN (input audit, 2026-11-30: scale = 1e-300 ran and
#: wrote R-hat NaN). The same floor as the data's relative uncertainty floor.
DEGENERATE_SCALE = 1e-12
#: A prior must stay finite (and a LogNormal above zero) this many scales from its centre,
#: where its mass is 6e-7: LogNormal scale = 500 reaches exp(2500), beyond float64.
PRIOR_TAIL_SD = 5.0
_LN_MAX = math.log(sys.float_info.max)  # 709.8
_LN_MIN = math.log(sys.float_info.min)  # -708.4: the smallest normal float64


@dataclass(frozen=True)
class PriorSpec:
    """A prior distribution, in the unit of the parameter it belongs to.

    Parameters
    ----------
    dist
        One of :data:`DISTRIBUTIONS`.
    args
        The distribution's arguments, e.g. ``{"median": 120.0, "scale": 0.3}``.
    where
        File and field it came from, used in error messages.
    """

    dist: str
    args: dict[str, float] = field(default_factory=dict)
    where: str | None = field(default=None, compare=False)

    def __post_init__(self):
        if self.dist not in DISTRIBUTIONS:
            raise ProblemError(
                f"unknown prior distribution {self.dist!r}; expected one of "
                f"{', '.join(DISTRIBUTIONS)}",
                self.where,
            )
        required, meaning = DISTRIBUTIONS[self.dist]
        missing = [a for a in required if a not in self.args]
        extra = [a for a in self.args if a not in required]
        if missing or extra:
            raise ProblemError(
                f"{self.dist} prior takes exactly {', '.join(required)} ({meaning}); "
                f"missing {missing or 'none'}, unexpected {extra or 'none'}",
                self.where,
            )
        for a, v in self.args.items():
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
                raise ProblemError(
                    f"prior argument {a!r} must be a finite number, got {v!r}", self.where
                )
        a = self.args
        if "scale" in a and a["scale"] <= 0:
            raise ProblemError(f"prior scale must be > 0, got {a['scale']!r}", self.where)
        if self.dist == "LogNormal" and a["median"] <= 0:
            raise ProblemError(f"LogNormal median must be > 0, got {a['median']!r}", self.where)
        if "low" in a and "high" in a and not a["low"] < a["high"]:
            raise ProblemError(
                f"prior needs low < high, got low={a['low']!r}, high={a['high']!r}", self.where
            )
        self._check_width()
        if self.dist == "TruncatedNormal":
            za, zb = ((a[k] - a["loc"]) / a["scale"] for k in ("low", "high"))
            if za > TRUNCATION_SD or zb < -TRUNCATION_SD:
                raise ProblemError(
                    f"TruncatedNormal(loc={a['loc']:g}, scale={a['scale']:g}) has almost no "
                    f"mass in [{a['low']:g}, {a['high']:g}] (loc lies "
                    f"{min(abs(za), abs(zb)):.3g} scales outside; its normalising mass "
                    f"underflows and draws fall outside the bounds): put loc within "
                    f"{TRUNCATION_SD:g} scales of the interval, or use a Uniform prior",
                    self.where,
                )

    def _check_width(self) -> None:
        """Neither a point (:data:`DEGENERATE_SCALE`) nor wider than float64 holds
        (:data:`PRIOR_TAIL_SD`)."""
        a = self.args
        if "scale" not in a:
            return
        centre = 1.0 if self.dist == "LogNormal" else abs(a.get("loc", 0.0))
        if a["scale"] < DEGENERATE_SCALE * centre or a["scale"] < 1e-150:
            below = "1e-150" if a["scale"] < 1e-150 else f"{DEGENERATE_SCALE:g} of its centre"
            raise ProblemError(
                f"prior scale {a['scale']:g} makes the prior a point (below {below}): the "
                "sampler cannot move in it; fix the parameter with value = ... instead",
                self.where,
            )
        reach = PRIOR_TAIL_SD * a["scale"]
        if self.dist == "LogNormal":  # ln x from ln(median) - reach to ln(median) + reach
            ln_m = math.log(a["median"])
            inside = ln_m + reach < _LN_MAX and ln_m - reach > _LN_MIN
        else:
            inside = math.isfinite(abs(a.get("loc", 0.0)) + reach)
        if not inside:
            hint = (
                f" (median x exp(+-{reach:.3g})); the scale of a LogNormal is that of ln x: "
                "0.3 is a factor of 1.35"
                if self.dist == "LogNormal"
                else ""
            )
            raise ProblemError(
                f"prior scale {a['scale']:g} is too wide: {PRIOR_TAIL_SD:g} scales from its "
                f"centre the prior leaves the float64 range{hint}",
                self.where,
            )

    def __hash__(self) -> int:
        # frozen with a dict field: hash the arguments as sorted items, so that
        # potentials (whose parameter tables hold default priors) are hashable keys
        return hash((self.dist, tuple(sorted(self.args.items()))))

    @classmethod
    def from_mapping(cls, m: dict, where: str | None = None) -> PriorSpec:
        """Build from a TOML table such as ``{dist = "Uniform", low = 3.0, high = 4.0}``."""
        if not isinstance(m, dict) or "dist" not in m:
            raise ProblemError(
                f"a prior is a table with a 'dist' key and its arguments, got {m!r}", where
            )
        args = {k: v for k, v in m.items() if k != "dist"}
        return cls(m["dist"], args, where)

    def scaled(self, factor: float) -> PriorSpec:
        """The same prior for ``factor * x`` (a change of unit); ``factor > 0``."""
        a = dict(self.args)
        for k in ("median", "loc", "scale", "low", "high"):
            if k in a and not (self.dist == "LogNormal" and k == "scale"):
                a[k] = a[k] * factor
        return PriorSpec(self.dist, a, self.where)

    def support_interval(self) -> tuple[float, float]:
        """Closed hull of the prior's support."""
        a = self.args
        if self.dist in ("Uniform", "TruncatedNormal"):
            return a["low"], a["high"]
        if self.dist in ("LogNormal", "HalfNormal"):
            return 0.0, math.inf
        return -math.inf, math.inf

    def check_within(self, support: Support, where: str | None = None) -> None:
        """Raise if the prior puts mass outside the parameter's support."""
        lo, hi = self.support_interval()
        ok = {
            "real": True,
            "positive": lo >= 0.0,
            "greater_than": lo >= support.low,
            "interval": lo >= support.low and hi <= support.high,
        }[support.kind]
        if not ok:
            raise ProblemError(
                f"{self.dist} prior covers [{lo:g}, {hi:g}] but the parameter must be "
                f"{support.describe()}; choose a prior inside the support",
                where or self.where,
            )

    def median(self) -> float:
        """A central value, used as the initial point of the sampler."""
        a = self.args
        return {
            "LogNormal": lambda: a["median"],
            "Normal": lambda: a["loc"],
            "TruncatedNormal": lambda: min(max(a["loc"], a["low"]), a["high"]),
            "Uniform": lambda: 0.5 * (a["low"] + a["high"]),
            "HalfNormal": lambda: 0.6745 * a["scale"],
        }[self.dist]()

    def hyper(self) -> tuple[float, ...]:
        """The distribution's arguments as numbers, in the order of
        :func:`bayesff.model.prior_distribution`.

        The model receives these as data (not closed-over constants), so one
        compiled sampler serves every prior of the same family.
        """
        a = self.args
        if self.dist == "LogNormal":
            return (math.log(a["median"]), a["scale"])
        return tuple(float(a[k]) for k in DISTRIBUTIONS[self.dist][0])

    def describe(self) -> str:
        return f"{self.dist}({', '.join(f'{k}={v:g}' for k, v in self.args.items())})"


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


@dataclass(frozen=True)
class Pooling:
    """Partial pooling of potential parameters over groups of targets (``[pooling]``).

    Each group of targets (``group = "..."`` of a target: a molecule of a series)
    has its own value of every pooled parameter, ``theta_g = theta exp(eta_g)``,
    the shared ``theta`` with the problem's prior and ``eta_g ~ Normal(0, omega)``,
    ``omega ~ HalfNormal(prior_scale)`` per parameter (a log-deviation: 0.2 is a
    spread of about 20 % between groups). A group with training rows is pinned by
    its data (its ``theta_g`` is a posterior site, ``<param>_pooled``, in the
    problem's unit); a group without any is predicted from the population, a new
    ``eta`` per draw. Targets without a group use the shared parameters. Pooled
    parameters must be positive (they vary by a factor).

    With a ``covariate`` for a pooled parameter (a number per group: 1/carbon number
    along a homologous series) its population has a trend,
    ``theta_g = theta exp(b (x_g - xbar) + eta_g)``, with a slope
    ``b ~ Normal(0, trend_scale)`` (``slope_<param>_pooled``, log-change per unit of
    the covariate) and ``xbar`` the mean covariate of the trained groups, so ``theta``
    is the population's value there. A group without
    training rows is then predicted along the trend, not from an exchangeable
    population: what lets a series be extrapolated to longer members.

    Attributes
    ----------
    parameters
        Names of free potential parameters to pool.
    prior_scale
        Scale of the HalfNormal prior of each ``omega`` (dimensionless: a
        log-deviation).
    covariate
        Pooled parameter -> {group name -> its value of that parameter's covariate}
        (any unit; every group of the problem's targets needs one), for the
        parameters with a trend; ``None`` for none.
    trend_scale
        Standard deviation of the Normal prior of each slope, in log-change per
        unit of the covariate.
    new_group_inadequacy
        ``"borrowed"`` (default): a target of a group with no training rows whose
        observable is trained with an ``inferred_scale`` inadequacy in other groups
        (n-decane's vapour pressure, when C1-C8's are trained) predicts its held-out
        rows with the scale, and the form, of one of those trained targets, picked at
        random per posterior draw (a new group misses the model as a trained group
        does); ``"none"``: with its stated uncertainty and floor only.
    """

    parameters: tuple[str, ...]
    prior_scale: float = 0.2
    covariate: dict[str, dict[str, float]] | None = field(default=None, hash=False)
    trend_scale: float = 1.0
    new_group_inadequacy: str = "borrowed"

    def __post_init__(self):
        object.__setattr__(self, "parameters", tuple(self.parameters))
        if self.covariate is not None:
            cov = {q: dict(x) for q, x in self.covariate.items()}
            object.__setattr__(self, "covariate", cov)
