"""Query-level paired comparisons (real-data confirmation): two-way bootstrap and sign-flip randomisation."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from simrank.stats._common import _check_prob

__all__ = ["PairedQueryResult", "paired_bootstrap", "paired_randomization_test", "randomization_tests"]


class PairedQueryResult(NamedTuple):
    """Mean paired difference with a percentile bootstrap interval, over ``n_queries`` (and ``n_seeds``)."""

    mean: float
    low: float
    high: float
    n_queries: int
    n_seeds: int


def _paired_diffs(a: Any, b: Any) -> np.ndarray:
    """``a − b`` as a ``[seeds, queries]`` float array (a 1-D input is one seed)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim not in (1, 2) or a.shape[-1] < 2:
        raise ValueError(
            f"paired values need equal shapes [queries] or [seeds, queries] with >= 2 queries, got {a.shape}, {b.shape}"
        )
    d = (a - b).reshape(-1, a.shape[-1]) if a.ndim == 2 else (a - b)[None]
    if not np.all(np.isfinite(d)):
        raise ValueError("paired values contain NaN or inf")
    return d


def paired_bootstrap(
    a: Any, b: Any, n_boot: int = 10_000, confidence: float = 0.95, random_state: int = 0
) -> PairedQueryResult:
    r"""Percentile bootstrap interval of the mean paired difference ``mean(a − b)``.

    ``a``, ``b``: ``[queries]`` or ``[seeds, queries]``, paired element-wise (the same query, and the same
    seed, under two systems).  Each replicate resamples queries with replacement and, for 2-D input,
    independently seeds with replacement (a two-way bootstrap: the interval covers query and seed
    variation), and takes the mean of ``d = a − b`` over the resampled cells::

        d*_r = mean_{s in S*_r, i in Q*_r} d[s, i],   interval = quantiles (1 ± confidence)/2 of d*_r

    Returns:
      :class:`PairedQueryResult` ``(mean, low, high, n_queries, n_seeds)``.
    """
    confidence = _check_prob(confidence, "confidence")
    d = _paired_diffs(a, b)
    n_s, n_q = d.shape
    rng = np.random.default_rng(random_state)
    boot = np.empty(n_boot)
    for start in range(0, n_boot, 500):  # bounded memory: 500 replicates at a time
        r = min(500, n_boot - start)
        qi = rng.integers(0, n_q, (r, n_q))
        si = rng.integers(0, n_s, (r, n_s)) if n_s > 1 else np.zeros((r, 1), np.int64)
        per_seed = d[:, qi].mean(axis=-1)  # [n_s, r]: mean over resampled queries, per seed
        boot[start : start + r] = np.take_along_axis(per_seed.T, si, axis=1).mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(boot, [tail, 1.0 - tail])
    return PairedQueryResult(float(d.mean()), float(low), float(high), n_q, n_s)


def paired_randomization_test(a: Any, b: Any, n_perm: int = 10_000, random_state: int = 0) -> float:
    r"""Two-sided sign-flip randomisation test of ``mean(a − b) = 0`` over queries.

    With per-query differences ``d_i`` (averaged over seeds for ``[seeds, queries]`` input), under H0
    each ``d_i`` is symmetric about 0, so ``T = |mean_i ε_i d_i|`` with random signs ``ε_i = ±1`` is the
    null distribution of ``|mean d|``::

        p = (1 + #{r : T_r >= |mean d|}) / (1 + n_perm)

    (never 0; a tolerance of 1e-12 counts ties).  Returns the p-value.
    """
    return float(randomization_tests(_paired_diffs(a, b).mean(axis=0)[None], n_perm, random_state)[0])


def randomization_tests(diffs: Any, n_perm: int = 10_000, random_state: int = 0) -> np.ndarray:
    """:func:`paired_randomization_test` of many comparisons at once: ``diffs [tests, queries]`` holds each
    comparison's per-query differences; all share the same sign draws (so each p equals the single test's
    with the same ``random_state``).  Returns ``[tests]`` p-values."""
    d = np.asarray(diffs, dtype=np.float64)
    if d.ndim != 2 or d.shape[1] < 2 or not np.all(np.isfinite(d)):
        raise ValueError(f"diffs must be a finite [tests, queries] array with >= 2 queries, got shape {d.shape}")
    n = d.shape[1]
    observed = np.abs(d.mean(axis=1))
    total = d.sum(axis=1)
    rng = np.random.default_rng(random_state)
    hits = np.zeros(d.shape[0], np.int64)
    for start in range(0, n_perm, 2000):
        r = min(2000, n_perm - start)
        bytes_ = rng.integers(0, 256, size=(r, -(-n // 8)), dtype=np.uint8)
        plus = np.unpackbits(bytes_, axis=1)[:, :n].astype(np.float64)  # 1: ε_i = +1, 0: ε_i = −1
        hits += np.sum(np.abs((2.0 * (plus @ d.T) - total) / n) >= observed - 1e-12, axis=0)
    return (1 + hits) / (1 + n_perm)
