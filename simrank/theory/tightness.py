"""How tight Theorem 3L can be (theory.md §4.5): the mean gap's effective dimension as a trace, the gap's shape
and its q95/mean floor at several ``n``, the gap's variance split, and the power of the violation check.

The population is a fixed pool of ``M`` i.i.d. pairs of the default world and training sets are drawn from it
with replacement, so the sets are i.i.d. draws of the pool's law ``ν`` and every population quantity
(``R(W)``, ``H_ν``, the Hessian ``J`` and the gradient covariance ``K``) is exact for ``ν``: the only
Monte Carlo error is over training sets.  Per set the gap is also taken at the pool's ball minimiser ``W*``,
which does not depend on the set, so ``E[R(W*) − R̂_S(W*)] = 0`` and
``E[gap(Ŵ)] = E[gap(Ŵ) − gap(W*)]``: the control-variate mean, whose spread is second order (``∝ 1/n``)
where the gap's is first order (``∝ 1/√n``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import skew

from simrank.stats import mean_ci
from simrank.theory import bounds as T
from simrank.theory import monte_carlo as MC

__all__ = [
    "chunks",
    "gap_summary",
    "population_pool",
    "sandwich_trace",
    "simulate_gaps",
    "size_summary",
    "skewness_se",
    "tightness_block",
    "tightness_run",
    "TightnessConfig",
    "variance_split",
    "read_run",
    "write_run",
]


@dataclass(frozen=True)
class TightnessConfig:
    """A pool of ``pool`` pairs of the default world; ``n_sets[i]`` training sets of ``sizes[i]`` pairs drawn from it;
        the sets of the first size also carry Theorem 3L (``S₁, S₂`` halves, shell constants on ``shell_sample`` pool
        pairs drawn afresh per set); ``check_sets`` is the size of the violation check quoted in theory.md (200). The sets
    come in chunks of ``chunk``, each with its own seed ``(seed, size index, chunk index)``, so chunks can run apart."""

    pool: int = 100_000
    sizes: tuple[int, ...] = (10_000, 40_000, 60_000)
    n_sets: tuple[int, ...] = (400, 50, 50)
    chunk: int = 100
    norm_bound: float = 4.0
    delta: float = 0.05
    shell_sample: int = 10_000
    check_sets: int = 200
    seed: int = 0


POOL_CHUNK = 20_000  # queries per call of iid_groups (it holds every query's scores of the whole corpus)


def population_pool(size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float, float]:
    """``size`` i.i.d. pairs of the default world (:func:`~simrank.theory.monte_carlo.default_world`) as pair features.

    Returns ``(U [size, 1, d²], y [size, 1], τ, ρ_∞)`` with ``ρ_∞ = R_Q · diam(corpus)`` the world's almost-sure bound.
    """
    world, teacher, sampler, _ = MC.default_world()
    parts = [
        MC.iid_groups(world, teacher, sampler, min(POOL_CHUNK, size - start), 2, rng)
        for start in range(0, size, POOL_CHUNK)
    ]
    features = [T.pair_features(g.query, g.docs, g.teacher_scores) for g in parts]
    U, y = np.concatenate([f[0] for f in features]), np.concatenate([f[1] for f in features])
    rho_inf = T.world_rho_inf(world.docs, 1.0 if world.config.sphere else float("inf"))
    return U, y, float(teacher.tau), rho_inf


def sandwich_trace(hessian: ArrayLike, covariance: ArrayLike, w: ArrayLike | None = None) -> float:
    """Takeuchi's ``d_eff = tr(J⁻¹K)``, or on the tangent space of the sphere ``‖W‖ = ‖w‖`` when ``w`` is given:
    ``tr((PJP)⁺ PKP)`` with ``P = I − wwᵀ/‖w‖²`` and ``J`` the Hessian of the Lagrangian ``∇²R + λI``.

    To second order the empirical minimiser's mean gap is ``E[R(Ŵ) − R̂_S(Ŵ)] ≈ d_eff/n``: with ``g`` the gradient
    noise ``∇R̂_S(W*) − ∇R(W*)`` (covariance ``K/n``), ``Ŵ − W* ≈ −(PJP)⁺Pg`` and the gap minus its mean-zero
    part at ``W*`` is ``gᵀ(PJP)⁺g``.  ``d_eff`` is the parameter count (``d² − 1`` on the sphere) when ``K = J``.

    Examples:
      >>> sandwich_trace(np.eye(3), 2 * np.eye(3))
      6.0
      >>> round(sandwich_trace(np.eye(3), np.eye(3), np.array([1.0, 0.0, 0.0])), 12)
      2.0
    """
    J, K = np.asarray(hessian, np.float64), np.asarray(covariance, np.float64)
    if w is None:
        return float(np.trace(np.linalg.solve(J, K)))
    w = np.asarray(w, np.float64)
    P = np.eye(len(w)) - np.outer(w, w) / (w @ w)
    return float(np.trace(np.linalg.pinv(P @ J @ P, hermitian=True) @ P @ K @ P))


def _risk(w, U, y, tau):
    return jnp.mean(T.draw_losses(w, U, y, tau))


def _effective_dimension(U: np.ndarray, y: np.ndarray, tau: float, w: np.ndarray) -> dict:
    """``d_eff`` of :func:`sandwich_trace` at the pool's ball minimiser ``w`` (the constraint binds: ``λ > 0``).

    ``∇R``, the per-pair gradients and ``∇²R`` by automatic differentiation of
    :func:`~simrank.theory.bounds.draw_losses` over the whole pool (exact for its law); ``λ = −⟨w, ∇R⟩/‖w‖²``.
    """
    with T.x64(True):
        U_, y_, w_ = jnp.asarray(U), jnp.asarray(y), jnp.asarray(w)
        per_pair = np.asarray(jax.jacfwd(T.draw_losses)(w_, U_, y_, tau))  # [M, D]
        hess = np.asarray(jax.hessian(_risk)(w_, U_, y_, tau))
    grad = per_pair.mean(0)
    lam = float(-(w @ grad) / (w @ w))
    J, K = hess + lam * np.eye(len(w)), np.cov(per_pair, rowvar=False)
    return {
        "d_eff": sandwich_trace(J, K, w),
        "d_eff_unconstrained": sandwich_trace(hess, K),
        "multiplier": lam,
        "tangent_residual": float(np.linalg.norm(grad + lam * w)),
        "parameters": len(w),
    }


def simulate_gaps(
    pool: tuple[np.ndarray, np.ndarray, float, float],
    w_star: np.ndarray,
    n: int,
    n_sets: int,
    config: TightnessConfig,
    rng: np.random.Generator,
    localised: bool = False,
) -> pd.DataFrame:
    """``n_sets`` training sets of ``n`` pairs drawn from the pool, one row each.

    Columns: ``gap_S = R(Ŵ) − R̂_S(Ŵ)`` and ``gap_S2 = R(Ŵ) − R̂_{S₂}(Ŵ)`` at the ball minimiser ``Ŵ`` of ``S``
    (``S₂`` its second half); ``star_S``, ``star_S2``: the same at the pool minimiser ``W*`` (mean zero);
    ``entropy_S``, ``entropy_S2``: the ``W``-independent terms ``H_ν − Ĥ``; with ``localised``: Theorem 3L's
    ``bound`` for ``Ŵ`` and its terms (``variance`` and ``range`` of ``ε₀`` at ``W₀``, ``uniform`` over the shell),
    and the gap at ``W₀`` itself, ``gap_w0 = R(W₀) − R̂_{S₂}(W₀)``, which ``ε₀`` alone bounds at level ``δ/2``.
    """
    U, y, tau, _ = pool
    B, half = config.norm_bound, n // 2
    rows = []
    with T.x64(True):
        losses = jax.jit(T.draw_losses)
        U_, y_ = jnp.asarray(U), jnp.asarray(y)
        entropy = float(np.mean(T.draw_entropies(y_, tau)))
        risk_star = float(np.mean(losses(jnp.asarray(w_star), U_, y_, tau)))
        for _ in range(n_sets):
            idx = rng.integers(0, len(U), n)
            U_S, y_S = U[idx], y[idx]
            w_hat, residual = MC.ball_minimiser(U_S, y_S, tau, B, w_star)
            at_hat = np.asarray(losses(jnp.asarray(w_hat), U_S, y_S, tau))
            at_star = np.asarray(losses(jnp.asarray(w_star), U_S, y_S, tau))
            h_S = np.asarray(T.draw_entropies(y_S, tau))
            risk_hat = float(np.mean(losses(jnp.asarray(w_hat), U_, y_, tau)))
            row = {
                "n": n,
                "gap_S": risk_hat - at_hat.mean(),
                "gap_S2": risk_hat - at_hat[half:].mean(),
                "star_S": risk_star - at_star.mean(),
                "star_S2": risk_star - at_star[half:].mean(),
                "entropy_S": entropy - h_S.mean(),
                "entropy_S2": entropy - h_S[half:].mean(),
                "kkt_residual": residual,
            }
            if localised:
                row |= _localised(pool, (U_S, y_S), w_hat, w_star, config, rng, losses)
            rows.append(row)
    return pd.DataFrame(rows)


def _localised(pool, sample, w_hat, w_star, config: TightnessConfig, rng, losses) -> dict:
    """Theorem 3L for ``Ŵ`` on one set (``W₀`` the ball minimiser of ``S₁``), as in
    :func:`~simrank.theory.monte_carlo.t3_monte_carlo` but with the shell constants on fresh pool pairs."""
    U, y, tau, rho_inf = pool
    (U_S, y_S), half, dim = sample, len(sample[0]) // 2, int(round(math.sqrt(U.shape[-1])))
    w0, residual = MC.ball_minimiser(U_S[:half], y_S[:half], tau, config.norm_bound, w_star)
    at_w0 = np.asarray(losses(jnp.asarray(w0), U_S[half:], y_S[half:], tau))
    range_w0 = T.ranknet_range(float(np.linalg.norm(w0.reshape(dim, -1), 2)), rho_inf)
    shell = rng.integers(0, len(U), config.shell_sample)
    moments = partial(T.shell_moments, U[shell], y[shell], tau, w0)
    local = T.localised_t3_bound(at_w0, range_w0, float(np.linalg.norm(w_hat - w0)), moments, rho_inf, config.delta)
    # ε₀'s range term alone: the empirical Bernstein deviation of losses with no spread
    range_term = T.empirical_bernstein_deviation(np.zeros(len(at_w0)), range_w0, config.delta / 2)
    return {
        "bound": local["bound"],
        "at_w0": local["at_w0"],
        "variance": local["at_w0"] - range_term,
        "range": range_term,
        "uniform": local["uniform"],
        "gap_w0": float(np.mean(losses(jnp.asarray(w0), U, y, tau))) - at_w0.mean(),
        "w0_residual": residual,
    }


def chunks(config: TightnessConfig) -> list[tuple[int, int]]:
    """Every chunk of a run as ``(size index, chunk index)``, in the order of the table.

    Examples:
      >>> chunks(TightnessConfig(n_sets=(400, 200, 100), chunk=200))
      [(0, 0), (0, 1), (1, 0), (2, 0)]
    """
    return [(i, c) for i, m in enumerate(config.n_sets) for c in range(math.ceil(m / config.chunk))]


def tightness_run(
    config: TightnessConfig = TightnessConfig(),
    progress: Callable[[str], None] | None = None,
    only: Sequence[tuple[int, int]] | None = None,
    on_chunk: Callable[[tuple[int, int], pd.DataFrame], None] | None = None,
) -> tuple[pd.DataFrame, dict]:
    """The pool, its minimiser and ``d_eff``, and :func:`simulate_gaps` at every size (Theorem 3L at the first).

    Args:
      config: the run.
      progress: called with a line of text after each stage (or ``None``).
      only: the chunks to run (:func:`chunks`; all when ``None``): the table of all chunks is the concatenation of
        the tables of any partition of them, in the order of :func:`chunks`.
      on_chunk: called with each chunk and its table as soon as it is done (or ``None``).

    Returns:
      ``(per-set table, scalars)`` with the scalars ``d_eff``, ``d_eff_unconstrained``, ``multiplier``,
      ``tangent_residual``, ``parameters``, ``pool_kkt_residual`` and ``config``.
    """
    pool = population_pool(config.pool, np.random.default_rng((config.seed, len(config.sizes))))
    U, y, tau, _ = pool
    w_star, residual = MC.ball_minimiser(U, y, tau, config.norm_bound, np.ones(U.shape[-1]))
    scalars = _effective_dimension(U, y, tau, w_star) | {"pool_kkt_residual": residual, "config": asdict(config)}
    if progress is not None:
        progress(f"pool of {config.pool} pairs: d_eff = tr(J⁻¹K) = {scalars['d_eff']:.3f}")
    tables = []
    for i, c in chunks(config) if only is None else only:
        n, m = config.sizes[i], min(config.chunk, config.n_sets[i] - c * config.chunk)
        rng = np.random.default_rng((config.seed, i, c))
        tables.append(simulate_gaps(pool, w_star, n, m, config, rng, localised=i == 0))
        if on_chunk is not None:
            on_chunk((i, c), tables[-1])
        if progress is not None:
            progress(
                f"n = {n}, chunk {c}: {m} sets, n × mean gap = {n * (tables[-1].gap_S - tables[-1].star_S).mean():.3f}"
            )
    return pd.concat(tables, ignore_index=True), scalars


def skewness_se(m: int) -> float:
    """Standard error of the sample skewness of ``m`` Gaussian draws, ``√(6m(m−1)/((m−2)(m+1)(m+3)))``.

    Examples:
      >>> round(skewness_se(200), 3)
      0.172
    """
    return math.sqrt(6 * m * (m - 1) / ((m - 2) * (m + 1) * (m + 3)))


def variance_split(gap: ArrayLike, **terms: ArrayLike) -> dict[str, dict[str, float]]:
    """Per term ``t`` of ``gap = Σ t``: the covariance share ``Cov(gap, t)/Var(gap)`` (the shares add to 1 and one
    can exceed 1 when terms are negatively correlated), ``R² = Corr(gap, t)²`` (the fraction of ``Var(gap)`` that
    ``t`` explains alone) and ``Var(t)/Var(gap)``.

    Args:
      gap: the per-set gaps.
      terms: the per-set terms, by name; they must add up to ``gap``.

    Examples:
      >>> split = variance_split(np.array([0.0, 2.0, 4.0]), a=np.array([0.0, 1.0, 2.0]), b=np.array([0.0, 1.0, 2.0]))
      >>> split["a"]
      {'covariance_share': 0.5, 'r2': 1.0, 'variance_share': 0.25}
    """
    gap = np.asarray(gap, np.float64)
    parts = {name: np.asarray(t, np.float64) for name, t in terms.items()}
    if not np.allclose(sum(parts.values()), gap, rtol=1e-9, atol=1e-12):
        raise ValueError("the terms do not add up to the gap")
    var = gap.var(ddof=1)
    return {
        name: {
            "covariance_share": round(float(np.cov(gap, t)[0, 1] / var), 12),
            "r2": round(float(np.corrcoef(gap, t)[0, 1] ** 2), 12),
            "variance_share": round(float(t.var(ddof=1) / var), 12),
        }
        for name, t in parts.items()
    }


def _ratio_ci(
    gap: np.ndarray, centred: np.ndarray, rng: np.random.Generator, n_boot: int = 2000
) -> tuple[float, float]:
    """95% bootstrap interval over sets of ``q95(gap)/mean(centred)``."""
    idx = rng.integers(0, len(gap), (n_boot, len(gap)))
    ratios = np.quantile(gap[idx], 0.95, axis=1) / centred[idx].mean(1)
    return float(np.quantile(ratios, 0.025)), float(np.quantile(ratios, 0.975))


def size_summary(group: pd.DataFrame, n: int, rng: np.random.Generator) -> dict:
    """The numbers of one size ``n`` (see :func:`gap_summary`) from its rows of the table.

    Args:
      group: the rows of one size (columns ``gap_S``, ``gap_S2``, ``star_S``, ``star_S2``).
      n: the size.
      rng: for the bootstrap intervals.
    """
    ci = mean_ci(n * (group.gap_S - group.star_S).to_numpy())
    per = {"n_sets": len(group), "n_mean_gap": (ci.mean, ci.low, ci.high)}
    per["skew"] = float(skew(group.gap_S2, bias=False))
    per["skew_se"] = skewness_se(len(group))
    for name in ("gap_S2", "gap_S"):
        gap, centred = group[name].to_numpy(), (group[name] - group[name.replace("gap", "star")]).to_numpy()
        per[f"floor_{name}"] = float(np.quantile(gap, 0.95) / centred.mean())
        per[f"floor_{name}_ci"] = _ratio_ci(gap, centred, rng)
    return per


def gap_summary(table: pd.DataFrame, scalars: dict, seed: int = 0) -> dict:
    """The numbers of theory.md §4.5 from :func:`tightness_run`'s table and scalars.

    Per size ``n``: ``n × mean gap`` with its t-interval (control-variate mean ``gap_S − star_S``, to compare with
    ``d_eff``), the skewness of ``gap_S2`` with its standard error, and the floor ``q95(gap)/mean gap`` for
    ``gap_S2`` (what Theorem 3L bounds) and ``gap_S`` (Theorem 3) with bootstrap intervals.  At the first size:
    :func:`variance_split` of ``gap_S2`` into the entropy term, the KL part at ``W*`` and the second-order rest,
    Theorem 3L's terms, ``bound/q95``, and the smallest failing factors
    (:func:`~simrank.theory.monte_carlo.smallest_failing_factor`) of the whole bound and of ``ε₀`` at ``W₀``, over
    the first ``check_sets`` sets and over all of them.
    """
    rng = np.random.default_rng(seed)
    cfg = scalars["config"]
    out: dict = {"d_eff": scalars["d_eff"], "parameters": scalars["parameters"], "sizes": {}}
    for n, group in table.groupby("n", sort=True):
        out["sizes"][int(n)] = size_summary(group, int(n), rng)
    first = table[table.n == cfg["sizes"][0]]
    gap = first.gap_S2.to_numpy()
    kl_star = (first.star_S2 - first.entropy_S2).to_numpy()
    rest = (first.gap_S2 - first.star_S2).to_numpy()
    out["split"] = variance_split(gap, entropy=first.entropy_S2.to_numpy(), kl_at_w_star=kl_star, second_order=rest)
    out["split_two"] = variance_split(gap, entropy=first.entropy_S2.to_numpy(), kl=gap - first.entropy_S2.to_numpy())
    bound = first.bound.to_numpy()
    out["bound"] = {key: float(first[key].mean()) for key in ("bound", "variance", "range", "uniform")}
    out["bound_q95"] = float(bound.mean() / np.quantile(gap, 0.95))
    out["violations"] = (int(np.sum(gap > bound)), len(gap))
    factors = {}
    for sets in (cfg["check_sets"], len(first)):
        part = first.iloc[:sets]
        factors[sets] = {
            "bound": MC.smallest_failing_factor(
                part.gap_S2.to_numpy(), part.bound.to_numpy(), MC.allowed_violations(sets, cfg["delta"])
            ),
            "at_w0": MC.smallest_failing_factor(
                part.gap_w0.to_numpy(), part.at_w0.to_numpy(), MC.allowed_violations(sets, cfg["delta"] / 2)
            ),
        }
    out["factors"] = factors
    out["w0_violations"] = int(np.sum(first.gap_w0 > first.at_w0))
    return out


def _ci(pair: tuple[float, float], digits: int = 1) -> str:
    return f"[{pair[0]:.{digits}f}, {pair[1]:.{digits}f}]"


def tightness_block(table: pd.DataFrame, scalars: dict) -> str:
    """Markdown for theory.md's ``T3-TIGHTNESS`` block (regenerated by ``simrank theory tightness --paper``)."""
    s, cfg = gap_summary(table, scalars), scalars["config"]
    sizes = s["sizes"]
    first = cfg["sizes"][0]
    per_n = "; ".join(
        f"$n={n}$ ({p['n_sets']} sets): $n\\times$ mean gap $={p['n_mean_gap'][0]:.2f}$ {_ci(p['n_mean_gap'][1:], 2)}, "
        f"skewness of $R-\\hat R_{{S_2}}$ ${p['skew']:.2f}$ (s.e. ${p['skew_se']:.2f}$), q95/mean "
        f"${p['floor_gap_S2']:.1f}$ {_ci(p['floor_gap_S2_ci'])} for $R-\\hat R_{{S_2}}$ and ${p['floor_gap_S']:.1f}$ "
        f"{_ci(p['floor_gap_S_ci'])} for $R-\\hat R_S$"
        for n, p in sizes.items()
    )
    beyond = [n for n, p in sizes.items() if p["floor_gap_S2_ci"][0] > 20]
    within = [n for n, p in sizes.items() if p["floor_gap_S2_ci"][1] < 20]
    split, two = s["split"], s["split_two"]
    b = s["bound"]
    f_check, f_all = s["factors"][cfg["check_sets"]], s["factors"][s["sizes"][first]["n_sets"]]

    def term(name: str, label: str) -> str:
        t = split[name]
        return (
            f"{label}: covariance share ${100 * t['covariance_share']:.0f}\\%$, $R^2={t['r2']:.2f}$, "
            f"variance ${100 * t['variance_share']:.0f}\\%$ of the gap's"
        )

    terms = "; ".join(
        [
            term("entropy", "entropy term $E=H_\\nu-\\hat H_{S_2}$"),
            term("kl_at_w_star", "KL part at $W^*$"),
            term("second_order", "the rest $\\text{gap}(\\hat W)-\\text{gap}(W^*)$"),
        ]
    )
    return (
        f"*Tightness (generated by `simrank theory tightness --paper paper/theory.md`).* Population: a pool of "
        f"{cfg['pool']} i.i.d. pairs of the default world above, so $R$, $H_\\nu$, $J$ and $K$ are exact for its law; "
        f"training sets are drawn from it with replacement ($B={cfg['norm_bound']:g}$, $\\delta={cfg['delta']:g}$), "
        f"$\\hat W$ is the set's ball minimiser, and the mean gap is the control-variate mean "
        f"$\\mathbb E[\\text{{gap}}(\\hat W)-\\text{{gap}}(W^*)]$ ($W^*$ the pool's minimiser, so the second term has "
        f"mean 0). $d_{{\\mathrm{{eff}}}}=\\operatorname{{tr}}((PJP)^+PKP)={s['d_eff']:.2f}$ on the tangent space at "
        f"$W^*$ (multiplier $\\lambda={scalars['multiplier']:.3f}$; {s['parameters']} entries of $W$). {per_n}. "
        f"The floor q95/mean of $R-\\hat R_{{S_2}}$ is above 20 (whole interval) at "
        f"{', '.join(f'$n={n}$' for n in beyond) or 'no simulated $n$'} and below 20 at "
        f"{', '.join(f'$n={n}$' for n in within) or 'no simulated $n$'}.\n\n"
        f"*Variance of $R-\\hat R_{{S_2}}$ at $n={first}$.* {terms}. "
        f"Two-term split (as in the block above): $E$ ${100 * two['entropy']['covariance_share']:.0f}\\%$ "
        f"(covariance share), $R^2={two['entropy']['r2']:.2f}$; KL term "
        f"${100 * two['kl']['covariance_share']:.0f}\\%$, $R^2={two['kl']['r2']:.2f}$.\n\n"
        f"*Theorem 3L at $n={first}$* (mean over sets): bound ${b['bound']:.4f}$ = variance term ${b['variance']:.4f}$ "
        f"(${100 * b['variance'] / b['bound']:.0f}\\%$) + range term ${b['range']:.4f}$ "
        f"(${100 * b['range'] / b['bound']:.0f}\\%$) + shell term ${b['uniform']:.4f}$ "
        f"(${100 * b['uniform'] / b['bound']:.0f}\\%$); bound/q95 $={s['bound_q95']:.2f}$; violations "
        f"{s['violations'][0]}/{s['violations'][1]}. Smallest factor $f$ at which bound$/f$ is violated more often "
        f"than allowed: ${f_check['bound']:.2f}$ over the first {cfg['check_sets']} sets, ${f_all['bound']:.2f}$ over "
        f"all {s['violations'][1]}; for $\\varepsilon_0$ alone against the gap at $W_0$ (level $\\delta/2$, $W_0$ refitted "
        f"on every set's $S_1$; {s['w0_violations']} violations): ${f_check['at_w0']:.2f}$ and ${f_all['at_w0']:.2f}$."
    )


def write_run(table: pd.DataFrame, scalars: dict, stem: Path) -> None:
    """Write the per-set table to ``stem.parquet`` and the scalars to ``stem.json``."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    table.to_parquet(stem.with_suffix(".parquet"))
    stem.with_suffix(".json").write_text(json.dumps(scalars, indent=2) + "\n")


def read_run(stem: Path) -> tuple[pd.DataFrame, dict]:
    """The table and scalars that :func:`write_run` wrote."""
    return pd.read_parquet(stem.with_suffix(".parquet")), json.loads(stem.with_suffix(".json").read_text())
