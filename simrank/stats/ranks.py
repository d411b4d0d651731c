"""Rank stability of levels across seeds and pairwise significance of their order."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _st

from simrank.stats._common import _as_list, _check_prob, _level_table
from simrank.stats.multiplicity import _holm

__all__ = ["rank_stability", "pairwise_rank_significance"]


def _level_name(by: list[str], lv: tuple):
    return lv[0] if len(by) == 1 else lv


def rank_stability(df: pd.DataFrame, by: list[str] | str, value: str, seed_col: str = "seed") -> dict[str, Any]:
    """How well single seeds reproduce the ranking of the seed-averaged means.

    Let ``x[s, l]`` be the mean of ``value`` for level ``l`` on seed ``s``
    (rows in one (level, seed) cell are averaged) and ``m[l] = mean_s x[s, l]``
    the seed-averaged mean (over the seeds where ``l`` was run).  Higher is
    better.  The overall winner ``top1 = argmax_l m[l]`` (ties: first level in
    label order).

    * ``top1_fraction = (1/S) * sum_s c_s`` where ``c_s = 1/k_s`` if ``top1`` is
      among the ``k_s`` levels attaining ``max_l x[s, l]`` on seed ``s`` and 0
      otherwise (a ``k``-way tie counts as the probability of picking ``top1``
      by a fair tie-break).  Only seeds on which ``top1`` was run count.
    * ``mean_kendall_tau = mean_s tau_b(x[s, :], m)`` over the levels present on
      seed ``s``; seeds with fewer than 2 levels or a constant ranking (tau
      undefined) are skipped.

    Returns a dict with ``top1`` (the level label; a tuple if ``by`` has several
    columns), ``top1_fraction``, ``mean_kendall_tau``, ``n_seeds``,
    ``n_levels``, and ``per_seed`` (a DataFrame: seed, top1 credit, tau).

    Examples:
      >>> df = pd.DataFrame({
      ...     "loss": ["kl"] * 3 + ["listnet"] * 3 + ["lce"] * 3,
      ...     "seed": [0, 1, 2] * 3,
      ...     "ndcg": [0.80, 0.82, 0.81, 0.81, 0.82, 0.80, 0.70, 0.73, 0.72],
      ... })
      >>> r = rank_stability(df, "loss", "ndcg")  # kl wins seed 2, ties listnet on seed 1, loses seed 0
      >>> r["top1"], r["top1_fraction"], r["n_seeds"]
      ('kl', 0.5, 3)
    """
    by = _as_list(by)
    levels, seeds, M = _level_table(df, by, value, seed_col)
    if not levels:
        raise ValueError("no data")
    m = np.nanmean(M, axis=0)
    top = int(np.argmax(m))
    credits, taus, seed_ids = [], [], []
    for s, row in zip(seeds, M):
        present = ~np.isnan(row)
        tau = math.nan
        if present.sum() >= 2:
            xs, ms = row[present], m[present]
            if np.ptp(xs) > 0 and np.ptp(ms) > 0:
                tau = float(_st.kendalltau(xs, ms).statistic)
        c = math.nan
        if present[top]:
            best = np.nanmax(row)
            winners = np.flatnonzero(row == best)
            c = 1.0 / winners.size if top in winners else 0.0
        credits.append(c)
        taus.append(tau)
        seed_ids.append(s)
    credits_a = np.array(credits, dtype=float)
    taus_a = np.array(taus, dtype=float)
    return {
        "top1": _level_name(by, levels[top]),
        "top1_fraction": float(np.nanmean(credits_a)) if np.any(~np.isnan(credits_a)) else math.nan,
        "mean_kendall_tau": float(np.nanmean(taus_a)) if np.any(~np.isnan(taus_a)) else math.nan,
        "n_seeds": len(seeds),
        "n_levels": len(levels),
        "per_seed": pd.DataFrame({seed_col: seed_ids, "top1_credit": credits_a, "kendall_tau": taus_a}),
    }


def pairwise_rank_significance(
    df: pd.DataFrame,
    by: list[str] | str,
    value: str,
    seed_col: str = "seed",
    alpha: float = 0.05,
    adjust: str | None = None,
) -> pd.DataFrame:
    """Paired t-test over seeds for every pair of levels: is their order significant?

    Levels are sorted by seed-averaged mean, descending; for each pair
    ``(hi, lo)`` with ``hi`` ranked above ``lo`` and over the ``n`` seeds on
    which both were run::

        d_s = x[s, hi] - x[s, lo]
        t   = mean(d) / (sd(d, ddof=1) / sqrt(n)),   df = n - 1
        p   = 2 * P(T_{n-1} >= |t|)                  (two-sided)

    If ``sd(d) == 0``: ``p = 0`` when ``mean(d) != 0`` (the same order on every
    seed) and ``p = 1`` otherwise; ``n < 2`` gives ``p = NaN``.  ``adjust``
    may be ``None`` (default), ``"holm"`` or ``"bonferroni"``; it fills
    ``p_adj`` (equal to ``p`` when ``None``).  ``significant = p_adj < alpha``
    and the order ``hi > lo`` is significant only if in addition
    ``mean(d) > 0``.

    Returns columns ``["level_hi", "level_lo", "mean_diff", "t", "df", "p",
    "p_adj", "n", "significant"]`` (a level is a tuple when ``by`` has several
    columns).

    Examples:
      >>> df = pd.DataFrame({
      ...     "loss": ["kl"] * 3 + ["listnet"] * 3 + ["lce"] * 3,
      ...     "seed": [0, 1, 2] * 3,
      ...     "ndcg": [0.80, 0.82, 0.81, 0.81, 0.82, 0.80, 0.70, 0.73, 0.72],
      ... })
      >>> r = pairwise_rank_significance(df, "loss", "ndcg")
      >>> r[["level_hi", "level_lo", "significant"]].values.tolist()
      [['kl', 'listnet', False], ['kl', 'lce', True], ['listnet', 'lce', True]]
    """
    by = _as_list(by)
    _check_prob(alpha, "alpha")
    if adjust not in (None, "holm", "bonferroni"):
        raise ValueError(f"adjust must be None, 'holm' or 'bonferroni', got {adjust!r}")
    levels, seeds, M = _level_table(df, by, value, seed_col)
    m = np.nanmean(M, axis=0)
    order = sorted(range(len(levels)), key=lambda j: -m[j])
    recs = []
    for i, j in itertools.combinations(order, 2):
        both = ~np.isnan(M[:, i]) & ~np.isnan(M[:, j])
        d = M[both, i] - M[both, j]
        n = int(d.size)
        md = float(d.mean()) if n else math.nan
        if n < 2:
            t, p = math.nan, math.nan
        else:
            sd = float(np.std(d, ddof=1))
            if sd > 0:
                t = md / (sd / math.sqrt(n))
                p = float(2.0 * _st.t.sf(abs(t), n - 1))
            else:
                t = math.copysign(math.inf, md) if md != 0 else math.nan
                p = 0.0 if md != 0 else 1.0
        recs.append(
            {
                "level_hi": _level_name(by, levels[i]),
                "level_lo": _level_name(by, levels[j]),
                "mean_diff": md,
                "t": t,
                "df": float(n - 1),
                "p": p,
                "n": n,
            }
        )
    cols = ["level_hi", "level_lo", "mean_diff", "t", "df", "p", "p_adj", "n", "significant"]
    out = pd.DataFrame(recs, columns=[c for c in cols if c not in ("p_adj", "significant")])
    p = out["p"].to_numpy(dtype=float)
    if adjust == "holm":
        padj = _holm(p)
    elif adjust == "bonferroni":
        k = int(np.sum(~np.isnan(p)))
        padj = np.minimum(1.0, p * k)
    else:
        padj = p.copy()
    out["p_adj"] = padj
    with np.errstate(invalid="ignore"):
        out["significant"] = (padj < alpha) & (out["mean_diff"].to_numpy(dtype=float) > 0)
    return out[cols]
