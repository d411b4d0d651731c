"""Means with Student-t confidence intervals, one number per seed, and grouped summaries."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats as _st

from simrank.stats._common import _as_1d, _as_list, _check_columns, _check_prob

__all__ = ["MeanCI", "mean_ci", "summarise"]


class MeanCI(NamedTuple):
    """Mean with a two-sided Student-t confidence interval."""

    mean: float
    low: float
    high: float
    n: int
    sem: float


def mean_ci(values: Any, confidence: float = 0.95) -> MeanCI:
    r"""Mean of ``values`` with a two-sided Student-t confidence interval.

    With ``n`` observations :math:`x_1..x_n` (typically one per seed)::

        mean = (1/n) * sum_i x_i
        s    = sqrt( sum_i (x_i - mean)^2 / (n - 1) )        # ddof = 1
        sem  = s / sqrt(n)
        t*   = t_{n-1}.ppf((1 + confidence) / 2)
        low, high = mean -/+ t* * sem

    ``n == 1`` gives ``low = high = sem = nan`` (no spread can be estimated).
    ``n == 0`` or non-finite values raise ``ValueError``.

    Examples:
      >>> r = mean_ci([1.0, 2.0, 3.0])  # sem = 1/sqrt(3), t*_2 = 4.303
      >>> r.mean, round(r.low, 4), round(r.high, 4), r.n
      (2.0, -0.4841, 4.4841, 3)
    """
    confidence = _check_prob(confidence, "confidence")
    x = _as_1d(values)
    n = int(x.size)
    if n == 0:
        raise ValueError("mean_ci needs at least one value")
    m = float(np.mean(x))
    if n == 1:
        return MeanCI(m, math.nan, math.nan, 1, math.nan)
    sem = float(np.std(x, ddof=1) / math.sqrt(n))
    half = float(_st.t.ppf(0.5 + confidence / 2.0, n - 1)) * sem
    return MeanCI(m, m - half, m + half, n, sem)


def summarise(df: pd.DataFrame, by: list[str] | str, value: str, confidence: float = 0.95) -> pd.DataFrame:
    """Group ``df`` by ``by`` and apply :func:`mean_ci` to ``value`` in each group.

    Each row of ``df`` is one observation (normally one seed).  For every group
    ``g`` the output row holds ``value_mean = mean(g)``, ``value_low/high =
    mean -/+ t_{n-1, (1+confidence)/2} * s/sqrt(n)`` and ``n``; a group with a
    single row has NaN bounds.  Columns are ``by + [f"{value}_mean",
    f"{value}_low", f"{value}_high", "n"]``, groups sorted by ``by``.

    Examples:
      >>> df = pd.DataFrame({"loss": ["kl"] * 3 + ["lce"] * 3, "ndcg": [0.80, 0.82, 0.81, 0.70, 0.73, 0.72]})
      >>> summarise(df, "loss", "ndcg").round(4).values.tolist()
      [['kl', 0.81, 0.7852, 0.8348, 3], ['lce', 0.7167, 0.6787, 0.7546, 3]]
    """
    by = _as_list(by)
    _check_columns(df, by + [value])
    _check_prob(confidence, "confidence")
    rows = []
    for key, grp in df.groupby(by, sort=True, observed=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        r = mean_ci(grp[value].to_numpy(), confidence)
        rows.append(
            {**dict(zip(by, key)), f"{value}_mean": r.mean, f"{value}_low": r.low, f"{value}_high": r.high, "n": r.n}
        )
    cols = by + [f"{value}_mean", f"{value}_low", f"{value}_high", "n"]
    out = pd.DataFrame(rows, columns=cols)
    out["n"] = out["n"].astype(int)
    return out
