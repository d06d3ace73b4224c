"""What a user writes today: B2 of Lennard-Jones by ``scipy.integrate.quad``, sampled with emcee.

The posterior is the one bayesff samples for ``models/argon_lj_b2.toml``:
the training rows, priors, inadequacy prior and noise model are read from the
:class:`bayesff.Problem` (not re-typed), and :func:`check_log_density` checks
the log density against the NumPyro model's (differences between points, so
that normalising constants cancel).

Units: epsilon/k_B in K, sigma in angstrom, T in K, B2 in cm^3/mol.
"""

from __future__ import annotations

import math
import time

import numpy as np
from scipy import constants, integrate

__all__ = [
    "QUAD_OPTS",
    "b2_quad",
    "check_against_bayesff",
    "check_log_density",
    "make_log_prob",
    "matching_log_prob",
    "run_emcee",
]

#: 2 pi N_A in cm^3/mol per angstrom^3.
_TWO_PI_NA_CM3 = 2.0 * math.pi * constants.N_A * 1e-24
#: quad settings: tight relative tolerance, panel split at 2.5 sigma so the
#: finite part (repulsive wall and well) and the r^-6 tail (QAGI on (2.5 sigma, inf))
#: are integrated separately.
QUAD_OPTS = {"epsrel": 1e-10, "limit": 200}
_SPLIT = 2.5


def b2_quad(T, eps_K, sigma_A):
    r"""B2(T) of LJ 12-6 in cm^3/mol by adaptive quadrature.

    .. math:: B_2 = -2\pi N_A \int_0^\infty (e^{-u(r)/k_BT} - 1)\, r^2\, dr,
              \qquad u/k_B = 4\varepsilon[(\sigma/r)^{12} - (\sigma/r)^6]
    """
    b = 4.0 * eps_K / T

    def f(r):
        x6 = (sigma_A / r) ** 6
        return math.expm1(-b * (x6 * x6 - x6)) * r * r

    split = _SPLIT * sigma_A
    eabs = 1e-12 * sigma_A**3
    i1, _ = integrate.quad(f, 0.0, split, epsabs=eabs, **QUAD_OPTS)
    i2, _ = integrate.quad(f, split, np.inf, epsabs=eabs, **QUAD_OPTS)
    return -_TWO_PI_NA_CM3 * (i1 + i2)


def check_against_bayesff(rtol: float = 1e-6) -> list[dict]:
    """Compare :func:`b2_quad` with ``bayesff.observables.virial.second_virial``.

    Raises
    ------
    AssertionError
        If any point differs by more than ``rtol`` (relative).
    """
    from bayesff import units
    from bayesff.observables.virial import second_virial
    from bayesff.potentials.pair import LENNARD_JONES

    points = [(120.0, 3.4, 110.0), (120.0, 3.4, 300.0), (90.0, 3.2, 700.0), (150.0, 3.8, 150.0)]
    rows = []
    for eps, sig, T in points:
        params = {"epsilon": units.to_internal(eps, "K", "energy"), "sigma": sig}
        ref = float(second_virial(LENNARD_JONES, params, T))
        got = b2_quad(T, eps, sig)
        rel = abs(got - ref) / abs(ref)
        rows.append({"epsilon_K": eps, "sigma_A": sig, "T_K": T, "bayesff": ref, "quad": got,
                     "rel_diff": rel})  # fmt: skip
        if not rel <= rtol:
            raise AssertionError(
                f"scipy quad B2 disagrees with bayesff second_virial at eps={eps} K, "
                f"sigma={sig} A, T={T} K: {got!r} vs {ref!r} (rel {rel:.2e} > {rtol:g})"
            )
    return rows


# --------------------------------------------------------------- log density
def _log_prior_fn(spec):
    """Closed-form log pdf of a bayesff PriorSpec (in the parameter's unit)."""
    a = spec.args
    d = spec.dist
    if d == "LogNormal":
        mu, s = math.log(a["median"]), a["scale"]
        c = -math.log(s) - 0.5 * math.log(2 * math.pi)

        def lognormal(x):
            if not x > 0:
                return -math.inf
            return c - math.log(x) - 0.5 * ((math.log(x) - mu) / s) ** 2

        return lognormal
    if d == "Uniform":
        lo, hi = a["low"], a["high"]
        c = -math.log(hi - lo)
        return lambda x: c if lo < x < hi else -math.inf
    if d == "HalfNormal":
        return _half_normal(a["scale"])
    if d == "Normal":
        mu, s = a["loc"], a["scale"]
        c = -math.log(s) - 0.5 * math.log(2 * math.pi)
        return lambda x: c - 0.5 * ((x - mu) / s) ** 2
    raise NotImplementedError(f"baseline has no log pdf for prior {d}")


def _half_normal(scale):
    c = 0.5 * math.log(2 / math.pi) - math.log(scale)
    return lambda x: c - 0.5 * (x / scale) ** 2 if x >= 0 else -math.inf


def make_log_prob(problem, relative_to: str = "model"):
    """The log posterior (up to a constant) of ``problem`` for emcee.

    Parameters
    ----------
    relative_to
        Scale of a relative inadequacy term: ``"model"`` (s_i = |B2_i(theta)|,
        bayesff's current likelihood) or ``"observed"`` (s_i = |y_i|, its
        earlier one). :func:`matching_log_prob` picks the one that agrees with
        the package's NumPyro model.

    Returns
    -------
    log_prob, names
        ``log_prob(theta)`` with ``theta`` ordered as ``names`` (free potential
        parameters, then the inadequacy scale).
    """
    if problem.potential.name != "lennard_jones" or len(problem.targets) != 1:
        raise NotImplementedError("the baseline covers one B2 target of LJ 12-6")
    free = problem.free_parameters
    assert free == ["epsilon", "sigma"], free
    assert problem.parameters["epsilon"].unit == "K"
    assert problem.parameters["sigma"].unit == "angstrom"
    t = problem.targets[0]
    assert t.observable.name == "second_virial"
    assert t.inadequacy.kind == "inferred_scale"
    T = np.asarray(t.env["T_K"][t.train], float)  # internal unit of temperature is K
    y = np.asarray(t.values[t.train], float)
    u = np.asarray(t.uncertainties[t.train], float)
    if relative_to not in ("model", "observed"):
        raise ValueError(f"relative_to must be 'model' or 'observed', got {relative_to!r}")
    relative = t.inadequacy.form == "relative"
    on_model = relative and relative_to == "model"
    s = np.abs(y) if relative else np.ones_like(y)
    priors = [_log_prior_fn(problem.parameters[n].prior) for n in free]
    prior_tau = _half_normal(t.inadequacy.prior_scale)
    names = [*free, f"tau_{t.name}"]
    T_l, y_l, u2, s2 = list(T), list(y), list(u**2), list(s**2)
    half_log_2pi = 0.5 * math.log(2 * math.pi)

    def log_prob(theta):
        eps, sig, tau = (float(v) for v in theta)
        lp = priors[0](eps) + priors[1](sig) + prior_tau(tau)
        if not math.isfinite(lp):
            return -math.inf
        for Ti, yi, u2i, s2i in zip(T_l, y_l, u2, s2, strict=True):
            mu = b2_quad(Ti, eps, sig)
            var = u2i + tau * tau * (mu * mu if on_model else s2i)
            lp -= 0.5 * (yi - mu) ** 2 / var + 0.5 * math.log(var) + half_log_2pi
        return lp

    return log_prob, names


def check_log_density(problem, log_prob, names, atol: float = 1e-6) -> dict:
    """Check ``log_prob`` against the NumPyro model (differences between points).

    Raises
    ------
    AssertionError
        If log p(a) - log p(b) differs from NumPyro's by more than ``atol``.
    """
    import jax.numpy as jnp
    from numpyro.infer.util import log_density

    from bayesff.model import arrays, model_of, structure_of

    model = model_of(structure_of(problem))
    data = arrays(problem)
    pts = [(120.0, 3.4, 0.02), (118.0, 3.42, 0.035), (140.0, 3.3, 0.01)]

    def np_lp(p):
        params = {n: jnp.asarray(v) for n, v in zip(names, p, strict=True)}
        return float(log_density(model, (data,), {}, params)[0])

    ref = [np_lp(p) for p in pts]
    mine = [log_prob(np.asarray(p)) for p in pts]
    out = {"points": pts, "numpyro": ref, "baseline": mine, "max_abs_diff_of_differences": 0.0}
    for k in (1, 2):
        d = abs((ref[k] - ref[0]) - (mine[k] - mine[0]))
        out["max_abs_diff_of_differences"] = max(out["max_abs_diff_of_differences"], d)
        if not d <= atol:
            raise AssertionError(
                f"baseline log density differs from the NumPyro model's: at {pts[k]} vs "
                f"{pts[0]} the difference is {mine[k] - mine[0]!r} vs {ref[k] - ref[0]!r}"
            )
    out["constant_offset"] = mine[0] - ref[0]
    return out


def matching_log_prob(problem):
    """The baseline log density that matches the package's NumPyro model.

    Tries the relative-inadequacy scale |B2(theta)| and then |y|; returns
    ``(log_prob, names, check, relative_to)`` for the first one whose log-density
    differences agree with NumPyro's, and raises if neither does.
    """
    errors = []
    for rel in ("model", "observed"):
        log_prob, names = make_log_prob(problem, relative_to=rel)
        try:
            check = check_log_density(problem, log_prob, names)
        except AssertionError as e:
            errors.append(f"relative to {rel}: {e}")
            continue
        return log_prob, names, check, rel
    msg = "no baseline log density matches the NumPyro model:\n"
    raise AssertionError(msg + "\n".join(errors))


# -------------------------------------------------------------------- emcee
def ess_bulk_walkers(chain) -> np.ndarray:
    """Bulk ESS per parameter, walkers treated as chains; ``chain`` is (step, walker, dim)."""
    import arviz as az

    x = np.moveaxis(np.asarray(chain), 0, 1)  # (walker, step, dim)
    return np.array([float(az.ess(x[..., k], method="bulk")) for k in range(x.shape[-1])])


def run_emcee(
    problem,
    target_ess: float,
    *,
    n_walkers: int = 32,
    check_every: int = 200,
    burn_factor: float = 5.0,
    min_burn: int = 100,
    max_seconds: float = 900.0,
    seed: int = 0,
    log=print,
) -> dict:
    """Run emcee on the problem's posterior until min bulk ESS >= ``target_ess``.

    Walkers start in a small ball around the prior medians. Every
    ``check_every`` steps the integrated autocorrelation time tau is
    estimated (``emcee.autocorr``, ``tol=0``), the first
    ``max(min_burn, burn_factor * max(tau))`` steps are discarded and the bulk
    ESS of the rest is computed (walkers as chains). Stops at the target or,
    at the next check after ``max_seconds``, with ESS/s extrapolated.
    """
    import emcee

    log_prob, names, _, relative_to = matching_log_prob(problem)
    t = problem.targets[0]
    center = np.array(
        [problem.parameters[n].prior.median() for n in problem.free_parameters]
        + [0.6745 * t.inadequacy.prior_scale]
    )
    rng = np.random.default_rng(seed)
    p0 = center * (1.0 + 1e-3 * rng.standard_normal((n_walkers, len(center))))
    sampler = emcee.EnsembleSampler(n_walkers, len(center), log_prob)
    state = p0
    t0 = time.perf_counter()
    history = []
    capped = False
    while True:
        state = sampler.run_mcmc(state, check_every, progress=False)
        elapsed = time.perf_counter() - t0
        chain = sampler.get_chain()
        n_steps = chain.shape[0]
        act = emcee.autocorr.integrated_time(chain, tol=0)
        burn = int(min(max(min_burn, math.ceil(burn_factor * float(np.max(act)))), n_steps // 2))
        ess = ess_bulk_walkers(chain[burn:])
        history.append(
            {
                "steps": n_steps,
                "seconds": elapsed,
                "burn": burn,
                "min_ess": float(ess.min()),
                "act_max": float(np.max(act)),
            }
        )
        log(
            f"  emcee: {n_steps} steps, {elapsed:7.1f} s, tau_max {np.max(act):5.1f}, "
            f"burn {burn}, min bulk ESS {ess.min():7.1f} / {target_ess:.0f}"
        )
        if ess.min() >= target_ess:
            break
        if elapsed >= max_seconds:
            capped = True
            break
    wall = time.perf_counter() - t0
    min_ess = float(ess.min())
    rate = min_ess / wall
    n_evals = n_steps * n_walkers
    return {
        "names": names,
        "relative_inadequacy_scale": relative_to,
        "walkers": n_walkers,
        "steps": n_steps,
        "burn_in": burn,
        "autocorr_time": dict(zip(names, map(float, act), strict=True)),
        "ess_bulk": dict(zip(names, map(float, ess), strict=True)),
        "min_ess_bulk": min_ess,
        "wall_s": wall,
        "ess_per_s": rate,
        "target_ess": target_ess,
        "capped": capped,
        "extrapolated_wall_s_to_target": (target_ess / rate) if capped else None,
        "acceptance_fraction": float(np.mean(sampler.acceptance_fraction)),
        "log_prob_evals": n_evals,
        "b2_quad_evals": n_evals * int(t.train.sum()),
        "s_per_log_prob": wall / n_evals,
        "posterior_mean": dict(
            zip(names, map(float, chain[burn:].reshape(-1, len(names)).mean(0)), strict=True)
        ),
        "posterior_sd": dict(
            zip(names, map(float, chain[burn:].reshape(-1, len(names)).std(0)), strict=True)
        ),
        "history": history,
    }
