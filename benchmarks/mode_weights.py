"""The posterior mass of each mode of a two-mode run, by importance sampling.

A third estimate of how much posterior mass a minor mode holds, independent of
how well any Markov chain passes between the modes: draws from a proposal
built around each mode's draws (a mixture of multivariate Student-t
densities, with a wide defensive component) are weighted by the problem's own
unnormalised posterior density, and the mass of a region is the weighted
fraction of the proposal's draws in it. Self-normalised importance sampling is
consistent for any proposal that covers the posterior; the run's draws only shape the
proposal, so a sampler that under- or over-weights a mode does not carry its
error into the estimate. Pareto-smoothed importance weights (arviz-stats'
``psislw``) give the Pareto k that says whether the estimate can be trusted
(k < 0.7).

The coordinates are the logarithm of each positive parameter, the logit of
each bounded one (the Jacobian added) and the value of one on the real line, so
that the Student-t proposal sees unbounded, roughly elliptical modes. The
density is the problem's NumPyro model (``bayesff.model``), evaluated on its
training rows: this script reads the package's internals, as a benchmark may
and a study (studies/) does not.

Used for the methane-Mie-B2+VLE run of the atlas (docs/atlas.md, "Parallel
tempering for the runs with two modes"), whose NUTS and tempered runs
disagreed on the minor mode's weight::

    python benchmarks/mode_weights.py methane-mie-B2_VLE RUN.nc \
        --split tau_rho_l=0.03 [--draws 40000] [--seed 0]

``RUN.nc`` is any run file of the task (its draws shape the proposal); the
problem is the sweep's task (``--sweep``, default models/atlas/atlas.toml), or a problem
file given instead of the task (``--allow-plugin MODULE`` for a plugin it names).
tests/test_tempering.py checks it on a posterior whose split is known by quadrature.
"""

from __future__ import annotations

import argparse
import time

import arviz_stats  # noqa: F401  (the xarray accessor .azstats)
import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from numpyro.infer.util import log_density
from scipy import special, stats

import bayesff
from bayesff.model import arrays, model_of, structure_of
from bayesff.sweep import _problem, expand

#: share of the proposal in its wide defensive Student-t over all the draws (the rest is
#: split evenly between the two modes' own)
DEFENSIVE = 0.1
#: Student-t degrees of freedom, and the widening of each mode's scale (1.5 gave an
#: importance-sampling ESS of 51 in 4000 draws on methane-Mie-B2+VLE, 1.0 gave 202)
NU, WIDEN = 5.0, 1.0


#: prior families whose support is the whole real line (without low and high)
REAL_LINE = ("Normal", "StudentT", "Cauchy", "Logistic", "Laplace")


def _bounds(problem, name: str) -> tuple[float, float]:
    """The support (low, high) of a latent site's prior: bounded where it has low and high,
    the real line for the families of :data:`REAL_LINE`, else (0, inf) (the positive
    parameters and the inadequacy scales)."""
    p = problem.parameters.get(name)
    if p is not None and "low" in p.prior.args and "high" in p.prior.args:
        return float(p.prior.args["low"]), float(p.prior.args["high"])
    if p is not None and p.prior.dist in REAL_LINE:
        return -np.inf, np.inf
    return 0.0, np.inf


def to_y(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Unbounded coordinate of a value in (lo, hi): logit if bounded, log if positive, the
    value itself on the real line."""
    if np.isfinite(hi):
        return special.logit((x - lo) / (hi - lo))
    if np.isfinite(lo):
        return np.log(x - lo)
    return np.asarray(x, float)


def from_y(y, lo: float, hi: float):
    """The value of an unbounded coordinate, and log |dx/dy| (JAX arrays)."""
    if np.isfinite(hi):
        s = jax.nn.sigmoid(y)
        return lo + (hi - lo) * s, jnp.log(hi - lo) + jnp.log(s) + jnp.log1p(-s)
    if np.isfinite(lo):
        return lo + jnp.exp(y), y
    return y, jnp.zeros_like(y)


def _student(y: np.ndarray, nu: float, widen: float):
    """A multivariate Student-t fitted to draws ``y`` (N, D), its covariance widened."""
    return stats.multivariate_t(loc=y.mean(0), shape=widen**2 * np.cov(y.T), df=nu)


def _proposal(y: np.ndarray, minor: np.ndarray, widen: float, n: int, seed: int):
    """``n`` draws from the proposal (a Student-t about each mode's draws, and a wide
    defensive one about all of them) and the proposal's log density at each."""
    parts = [_student(y[~minor], NU, widen), _student(y[minor], NU, widen)]
    parts.append(_student(y, NU, 2.0 * widen))
    mix = np.array([(1 - DEFENSIVE) / 2, (1 - DEFENSIVE) / 2, DEFENSIVE])
    rng = np.random.default_rng(seed)
    which = rng.choice(3, size=n, p=mix)
    yq = np.empty((n, y.shape[1]))
    for j, q in enumerate(parts):
        k = int((which == j).sum())
        yq[which == j] = q.rvs(size=k, random_state=rng).reshape(k, -1)
    log_q = special.logsumexp(
        np.stack([np.log(m) + q.logpdf(yq) for m, q in zip(mix, parts, strict=True)]), axis=0
    )
    return yq, log_q


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("task", help="a task of --sweep, or a problem file (.toml)")
    ap.add_argument("run", help="a run file of the task: its draws shape the proposal")
    ap.add_argument("--split", required=True, help="NAME=VALUE: the minor mode is NAME > VALUE")
    ap.add_argument("--sweep", default="models/atlas/atlas.toml")
    ap.add_argument("--draws", type=int, default=40000)
    ap.add_argument("--chunk", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--widen", type=float, default=WIDEN, help="each mode's scale factor")
    ap.add_argument(
        "--allow-plugin", action="append", default=[], help="a module a problem file may name"
    )
    args = ap.parse_args(argv)
    split_name, split_value = args.split.split("=")
    split_value = float(split_value)
    bayesff.configure()

    if args.task.endswith(".toml"):
        problem = bayesff.load_problem(args.task, allow_plugins=tuple(args.allow_plugin))
    else:
        _, tasks = expand(args.sweep)
        problem = _problem({t.name: t for t in tasks}[args.task])
    structure = structure_of(problem)
    names = list(structure.latent_names)
    model, data = model_of(structure), arrays(problem)
    bounds = [_bounds(problem, k) for k in names]

    post = bayesff.load_run(args.run)["posterior"].ds
    draws = np.stack([post[k].values.ravel() for k in names], axis=1)
    y = np.stack([to_y(draws[:, i], *bounds[i]) for i in range(len(names))], axis=1)
    minor = draws[:, names.index(split_name)] > split_value
    print(f"run's draws: {len(y)}, {minor.mean():.4f} with {split_name} > {split_value}")

    yq, log_q = _proposal(y, minor, args.widen, args.draws, args.seed)

    @jax.jit
    @jax.vmap
    def log_target(yrow):
        params, jac = {}, 0.0
        for i, k in enumerate(names):
            params[k], lj = from_y(yrow[i], *bounds[i])
            jac = jac + lj
        return log_density(model, (data,), {}, params)[0] + jac

    t0 = time.perf_counter()
    chunks = np.array_split(yq, max(1, len(yq) // args.chunk))
    log_p = np.concatenate([np.asarray(log_target(jnp.asarray(c))) for c in chunks])
    wall = time.perf_counter() - t0
    bad = ~np.isfinite(log_p)
    log_w = np.where(bad, -np.inf, log_p - log_q)
    # psislw smooths exp(-ll) (PSIS-LOO's convention): it is given -log w
    neg = xr.DataArray(-log_w[None, ~bad], dims=("chain", "draw"))
    smoothed, k_hat = neg.azstats.psislw(r_eff=1.0, dim=["chain", "draw"])
    w = np.zeros_like(log_w)
    w[~bad] = np.exp(smoothed.values.ravel())
    values = np.stack([from_y(yq[:, i], *bounds[i])[0] for i in range(len(names))], axis=1)
    in_minor = np.asarray(values[:, names.index(split_name)]) > split_value
    mass = float(w[in_minor].sum())
    ess = 1.0 / float(np.sum(w**2))
    # the ratio estimator's standard error: sum of w_i^2 (1[i] - mass)^2
    se = float(np.sqrt(np.sum(w**2 * (in_minor - mass) ** 2)))
    print(
        f"importance sampling: {args.draws} proposal draws ({wall:.1f} s), "
        f"{int(bad.sum())} without a finite density, Pareto k {float(k_hat):.2f}, "
        f"ESS {ess:.0f}"
    )
    print(f"mass with {split_name} > {split_value}: {mass:.4f} +- {se:.4f}")
    for i, k in enumerate(names):
        v = np.asarray(values[:, i])
        m = float(np.sum(w * v))
        sd = float(np.sqrt(np.sum(w * (v - m) ** 2)))
        run = f"{draws[:, i].mean():.4f} +- {draws[:, i].std():.4f}"
        print(f"  {k}: {m:.4f} +- {sd:.4f}   (run: {run})")


if __name__ == "__main__":
    main()
