"""Equivalence testing: two one-sided tests (TOST) and groups of levels equivalent to a reference."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _st

from simrank.stats._common import (
    _as_1d,
    _as_list,
    _check_columns,
    _group_label,
    _level_records,
    _level_table,
    _sorted,
)

__all__ = ["TOSTResult", "tost", "equivalence_groups"]


@dataclass(frozen=True)
class TOSTResult:
    """Result of :func:`tost`.  ``diff = mean(a) - mean(b)``."""

    diff: float
    p_lower: float
    p_upper: float
    p: float
    equivalent: bool
    margin: float
    alpha: float
    ci_low: float
    ci_high: float
    df: float = math.nan
    se: float = math.nan


def _tost_verdict(p_lower: float, p_upper: float, alpha: float) -> bool:
    """The TOST decision rule: equivalent iff BOTH one-sided p-values < alpha."""
    return bool(p_lower < alpha and p_upper < alpha)


def tost(a: Any, b: Any, margin: float, alpha: float = 0.05, paired: bool = False) -> TOSTResult:
    r"""Two one-sided t-tests (Schuirmann's TOST) for equivalence of two means.

    ``diff = mean(a) - mean(b)`` (for ``paired=True``: ``mean(a_i - b_i)``).

    * Unpaired (Welch, unequal variances)::

          se = sqrt(s_a^2/n_a + s_b^2/n_b)
          df = se^4 / ((s_a^2/n_a)^2/(n_a-1) + (s_b^2/n_b)^2/(n_b-1))

    * Paired: ``d_i = a_i - b_i``, ``se = sd(d, ddof=1)/sqrt(n)``, ``df = n-1``.

    The two one-sided nulls and their p-values (``T`` ~ Student t with ``df``)::

        H0_lower: diff <= -margin   t_lower = (diff + margin)/se   p_lower = P(T >= t_lower)
        H0_upper: diff >= +margin   t_upper = (diff - margin)/se   p_upper = P(T <= t_upper)

    ``p = max(p_lower, p_upper)`` and the means are declared **equivalent only
    when both one-sided p-values are below alpha**, i.e. ``p < alpha``.  (Not
    rejecting a difference test, or rejecting just one side, is *not*
    evidence of equivalence.)  Equivalently, the ``1 - 2*alpha`` confidence
    interval ``diff -/+ t_{df, 1-alpha} * se`` -- reported as
    ``ci_low, ci_high`` -- lies strictly inside ``(-margin, +margin)``.

    Degenerate case ``se == 0`` (no spread at all): the t statistics are
    +/-infinite, so ``p_lower = 0`` if ``diff > -margin`` else 1, ``p_upper =
    0`` if ``diff < margin`` else 1, and the CI is ``[diff, diff]``.

    Raises ``ValueError`` if ``margin <= 0`` (or not finite), if ``alpha`` is
    not in (0, 0.5), if a sample has fewer than 2 values, or if paired samples
    differ in length.

    Examples:
      >>> a, b = [0.80, 0.82, 0.81, 0.83], [0.81, 0.82, 0.80, 0.82]
      >>> r = tost(a, b, margin=0.05, paired=True)  # d = (-0.01, 0, 0.01, 0.01)
      >>> r.equivalent, round(r.diff, 4), round(r.p, 4), r.df
      (True, 0.0025, 0.0011, 3.0)
      >>> r = tost(a, [0.60, 0.62, 0.61, 0.60], margin=0.05)  # Welch: a difference of 0.21 is not within ±0.05
      >>> r.equivalent, round(r.diff, 4), round(r.p, 4)
      (False, 0.2075, 1.0)
    """
    margin_f = float(margin)
    if not (math.isfinite(margin_f) and margin_f > 0):
        raise ValueError(f"margin must be a finite number > 0, got margin={margin!r}")
    alpha = float(alpha)
    if not (0.0 < alpha < 0.5):
        raise ValueError(f"alpha must lie strictly between 0 and 0.5, got alpha={alpha!r}")
    x = _as_1d(a, "a")
    y = _as_1d(b, "b")

    if paired:
        if x.size != y.size:
            raise ValueError(f"paired samples must have equal length, got {x.size} and {y.size}")
        if x.size < 2:
            raise ValueError("paired TOST needs at least 2 pairs")
        d = x - y
        diff = float(np.mean(d))
        se = float(np.std(d, ddof=1) / math.sqrt(d.size))
        dof = float(d.size - 1)
    else:
        if x.size < 2 or y.size < 2:
            raise ValueError(f"unpaired TOST needs >= 2 values per sample, got {x.size} and {y.size}")
        diff = float(np.mean(x) - np.mean(y))
        va = float(np.var(x, ddof=1)) / x.size
        vb = float(np.var(y, ddof=1)) / y.size
        s = va + vb
        se = math.sqrt(s)
        if s > 0:
            wa, wb = va / s, vb / s  # scaled to avoid under/overflow in the 4th powers
            dof = 1.0 / (wa * wa / (x.size - 1) + wb * wb / (y.size - 1))
        else:
            dof = float(x.size + y.size - 2)

    if se > 0:
        t_lower = (diff + margin_f) / se
        t_upper = (diff - margin_f) / se
        p_lower = float(_st.t.sf(t_lower, dof))
        p_upper = float(_st.t.cdf(t_upper, dof))
        half = float(_st.t.ppf(1.0 - alpha, dof)) * se
    else:
        p_lower = 0.0 if diff > -margin_f else 1.0
        p_upper = 0.0 if diff < margin_f else 1.0
        half = 0.0
    p = max(p_lower, p_upper)
    return TOSTResult(
        diff=diff,
        p_lower=p_lower,
        p_upper=p_upper,
        p=p,
        equivalent=_tost_verdict(p_lower, p_upper, alpha),
        margin=margin_f,
        alpha=alpha,
        ci_low=diff - half,
        ci_high=diff + half,
        df=dof,
        se=se,
    )


def equivalence_groups(
    df: pd.DataFrame,
    by: list[str] | str,
    value: str,
    margin: float,
    alpha: float = 0.05,
    seed_col: str | None = "seed",
    paired: bool | None = None,
) -> pd.DataFrame:
    """Greedy grouping of the levels of ``by`` into TOST-equivalence groups.

    Procedure (exactly):

    1. Observations per level.  If ``seed_col`` is a column of ``df``, rows are
       averaged within each (level, seed) cell, giving one observation per seed;
       otherwise (or with ``seed_col=None``) every row is one observation.
    2. Levels are sorted by their mean observation, descending (ties broken by
       the natural order of the level labels).
    3. Repeat until every level has a group: the best (highest mean) level that
       has no group yet becomes the *reference* of a new group, labelled
       ``"A"``, ``"B"``, ... ``"Z"``, ``"AA"``, ...  Every other level without a
       group, taken in descending order of mean, joins this group iff
       ``tost(reference, level, margin, alpha).equivalent``.
    4. Pairing: with ``paired=None`` (default) a pair is tested with the paired
       TOST when ``seed_col`` is used and both levels were run on exactly the
       same set of seeds (aligned by seed), otherwise with Welch's TOST.
       ``paired=True/False`` forces one or the other (``True`` raises if the seed
       sets differ).  A level with fewer than 2 observations is never declared
       equivalent to anything (its ``p`` is NaN) and ends up alone.

    Membership means "equivalent to the group's reference", not to every other
    member: equivalence is not transitive.

    Returns one row per level with columns ``by + [f"{value}_mean", "n",
    "group", "reference", "p_tost"]``, sorted by mean descending; ``reference``
    is True for the level that founded its group and ``p_tost`` is the TOST
    ``p = max(p_lower, p_upper)`` against the reference of its group (NaN for
    the reference itself).

    Examples:
      >>> df = pd.DataFrame({
      ...     "loss": ["kl"] * 3 + ["listnet"] * 3 + ["lce"] * 3,
      ...     "seed": [0, 1, 2] * 3,
      ...     "ndcg": [0.80, 0.82, 0.81, 0.81, 0.82, 0.80, 0.70, 0.73, 0.72],
      ... })
      >>> groups = equivalence_groups(df, "loss", "ndcg", margin=0.05)  # paired over the seeds
      >>> groups[["loss", "group", "reference"]].values.tolist()
      [['kl', 'A', True], ['listnet', 'A', False], ['lce', 'B', True]]
    """
    by = _as_list(by)
    _check_columns(df, by + [value])
    use_seeds = seed_col is not None and seed_col in df.columns
    if paired and not use_seeds:
        raise ValueError("paired=True needs a seed column present in the data frame")

    obs: dict[tuple, pd.Series] = {}
    if use_seeds and seed_col is not None:
        levels, seeds, M = _level_table(df, by, value, seed_col)
        for j, lv in enumerate(levels):
            col = M[:, j]
            keep = ~np.isnan(col)
            obs[lv] = pd.Series(col[keep], index=[s for s, k in zip(seeds, keep) if k])
    else:
        _as_1d(df[value].to_numpy(), name=f"column {value!r}")
        for key, grp in df.groupby(by, sort=True, observed=True, dropna=False):
            key = key if isinstance(key, tuple) else (key,)
            obs[key] = pd.Series(grp[value].to_numpy(dtype=float))
        levels = _sorted(obs)

    means = {lv: float(obs[lv].mean()) for lv in levels}
    # stable sort: descending mean, ties keep label order
    order = sorted(levels, key=lambda lv: -means[lv])

    def _test(ref: tuple, lv: tuple) -> float:
        x, y = obs[ref], obs[lv]
        if len(x) < 2 or len(y) < 2:
            return math.nan
        same_seeds = use_seeds and set(x.index) == set(y.index)
        do_pair = same_seeds if paired is None else bool(paired)
        if do_pair:
            if not same_seeds:
                raise ValueError(f"paired=True but levels {ref} and {lv} were run on different seeds")
            y = y.loc[x.index]
            return tost(x.to_numpy(), y.to_numpy(), margin, alpha, paired=True).p
        return tost(x.to_numpy(), y.to_numpy(), margin, alpha, paired=False).p

    # validate margin/alpha even if there is a single level
    if not (math.isfinite(float(margin)) and float(margin) > 0):
        raise ValueError(f"margin must be a finite number > 0, got margin={margin!r}")

    group: dict[tuple, str] = {}
    is_ref: dict[tuple, bool] = {}
    pval: dict[tuple, float] = {}
    k = 0
    for ref in order:
        if ref in group:
            continue
        label = _group_label(k)
        k += 1
        group[ref], is_ref[ref], pval[ref] = label, True, math.nan
        for lv in order:
            if lv in group:
                continue
            p = _test(ref, lv)
            if not math.isnan(p) and p < alpha:
                group[lv], is_ref[lv], pval[lv] = label, False, p

    rows = [
        {
            **_level_records(by, lv),
            f"{value}_mean": means[lv],
            "n": len(obs[lv]),
            "group": group[lv],
            "reference": is_ref[lv],
            "p_tost": pval[lv],
        }
        for lv in order
    ]
    return pd.DataFrame(rows, columns=by + [f"{value}_mean", "n", "group", "reference", "p_tost"])
