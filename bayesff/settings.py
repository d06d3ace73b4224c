"""Sampler settings of a problem (``[inference]``): :class:`InferenceSettings`."""

from __future__ import annotations

from dataclasses import dataclass, fields

from bayesff.errors import ProblemError

__all__ = ["INIT_STRATEGIES", "SAMPLERS", "InferenceSettings"]


#: Values of ``[inference] init`` (see :class:`InferenceSettings`).
INIT_STRATEGIES = ("central", "laplace")
#: Values of ``[inference] sampler``.
SAMPLERS = ("nuts", "chees", "tempered")


@dataclass(frozen=True)
class InferenceSettings:
    """Sampler settings.

    Attributes
    ----------
    chains, warmup, samples
        Number of chains (vectorised on one device) and of warm-up and kept
        draws per chain.
    seed
        PRNG seed; the same seed and problem give the same draws.
    target_accept
        Target acceptance probability of the step-size adaptation.
    max_tree_depth
        NUTS maximum tree depth.
    prior_draws
        Number of draws from the prior (and prior predictive) stored in the run.
    dense_mass
        Adapt a dense mass matrix in warm-up (default). Force-field parameters
        are strongly correlated (epsilon with sigma); a dense metric halves the
        number of leapfrog steps per draw and doubles the ESS on argon B2.
    adapt_mass
        Adapt the mass matrix in warm-up (default). ``false`` keeps the Laplace
        start's inverse Hessian (needs ``init = "laplace"``) and adapts only the
        step size: for data-rich models of many parameters (an inferred scale per
        target, groups of a pooling), where warm-up's first estimate from 25 draws is
        singular and the posterior is near its Gaussian at the mode.
    thin
        Keep every ``thin``-th draw of each chain in the run file (default 1,
        all). For problems whose held-out predictions are expensive (a liquid
        density is several integral-equation solves per draw and state), the
        posterior predictive, predictions and diagnostics use the kept draws.
    init
        ``"central"`` (default): each chain starts at a random point of the
        central half of every prior, identity mass matrix. ``"laplace"``: find
        the posterior mode, take the inverse Hessian there as the initial
        inverse mass matrix, and start each chain at a draw from that
        Gaussian, widened 2x so that R-hat can still detect chains that do not
        mix; for expensive models with correlated parameters (docs/joint.md).
    sampler
        ``"nuts"`` (default; numpyro's NUTS, vectorised chains) or
        ``"chees"`` (ChEES-HMC, blackjax: many short chains in lockstep, for
        GPUs; use 32-256 chains). ChEES always starts from the Laplace start
        (chains from wide priors can settle in a secondary mode that a common
        trajectory length never leaves). ``"tempered"``: NUTS within parallel
        tempering (:mod:`bayesff.inference.tempering`), for posteriors with modes
        between which NUTS passes rarely; each chain runs ``temperatures`` replicas.
    temperatures
        Replicas per chain of ``sampler = "tempered"`` (default 4; the cold one
        included): each iteration costs that many NUTS steps.
    max_temperature
        The hottest replica's temperature (``sampler = "tempered"``, default 10): its
        likelihood is raised to 1 / max_temperature. The others lie between it and 1
        in geometric steps.
    """

    chains: int = 4
    warmup: int = 1000
    samples: int = 1000
    seed: int = 0
    target_accept: float = 0.8
    max_tree_depth: int = 10
    prior_draws: int = 500
    dense_mass: bool = True
    adapt_mass: bool = True
    thin: int = 1
    init: str = "central"
    sampler: str = "nuts"
    temperatures: int = 4
    max_temperature: float = 10.0

    def __post_init__(self):
        limits = {
            "chains": (1, 4096),
            "warmup": (1, 10**7),
            "samples": (1, 10**7),
            "max_tree_depth": (1, 15),
            "prior_draws": (1, 10**6),
            "thin": (1, 10**6),
        }
        for k, (lo, hi) in limits.items():
            v = getattr(self, k)
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                raise ProblemError(
                    f"{k} must be an integer in [{lo}, {hi}], got {v!r}", "[inference]"
                )
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or not 0 <= self.seed:
            raise ProblemError(
                f"seed must be a non-negative integer, got {self.seed!r}", "[inference]"
            )
        if self.seed >= 2**63:
            raise ProblemError(f"seed must be below 2**63, got {self.seed!r}", "[inference]")
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
        if self.sampler not in SAMPLERS:
            raise ProblemError(
                f"sampler must be one of {', '.join(map(repr, SAMPLERS))}, got {self.sampler!r}",
                "[inference]",
            )
        self._check_tempering()
        if not isinstance(self.dense_mass, bool):
            raise ProblemError(
                f"dense_mass must be true or false, got {self.dense_mass!r}", "[inference]"
            )
        if not isinstance(self.adapt_mass, bool):
            raise ProblemError(
                f"adapt_mass must be true or false, got {self.adapt_mass!r}", "[inference]"
            )
        if not self.adapt_mass and (self.init != "laplace" or self.sampler != "nuts"):
            raise ProblemError(
                "adapt_mass = false keeps the Laplace start's mass matrix: it needs "
                f"init = 'laplace' and sampler = 'nuts', got init = {self.init!r}, "
                f"sampler = {self.sampler!r}",
                "[inference]",
            )
        if self.thin > self.samples:
            raise ProblemError(
                f"thin ({self.thin}) keeps no draw of {self.samples} samples", "[inference]"
            )

    def _check_tempering(self) -> None:
        k, t = self.temperatures, self.max_temperature
        if not isinstance(k, int) or isinstance(k, bool) or not 2 <= k <= 64:
            raise ProblemError(
                f"temperatures must be an integer in [2, 64], got {k!r}", "[inference]"
            )
        if not isinstance(t, (int, float)) or isinstance(t, bool) or not 1.0 < t <= 1e6:
            raise ProblemError(
                f"max_temperature must be a number in (1, 1e6], got {t!r}", "[inference]"
            )

    def replace(self, **changes) -> InferenceSettings:
        """A copy with some settings changed (``None`` values are ignored)."""
        kw = {f.name: getattr(self, f.name) for f in fields(self)}
        kw.update({k: v for k, v in changes.items() if v is not None})
        return InferenceSettings(**kw)
