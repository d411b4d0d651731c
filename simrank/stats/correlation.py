"""Pearson and Spearman correlations with Fisher-z confidence intervals."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from scipy import stats as _st

from simrank.stats._common import _as_1d, _check_prob

__all__ = ["CorrResult", "pearson_ci", "spearman"]


class CorrResult(NamedTuple):
    """Correlation coefficient with Fisher-z confidence interval."""

    r: float
    low: float
    high: float
    p: float
    n: int


def _snap_unit(r: float) -> float:
    """Clip to [-1, 1] and snap values within 1e-12 of +/-1 (rounding error) to +/-1."""
    r = float(np.clip(r, -1.0, 1.0))
    return math.copysign(1.0, r) if 1.0 - abs(r) < 1e-12 else r


def _fisher_ci(r: float, n: int, se: float, confidence: float) -> tuple[float, float]:
    if not math.isfinite(r) or not math.isfinite(se):
        return math.nan, math.nan
    if abs(r) >= 1.0:
        return r, r
    z = math.atanh(r)
    zc = float(_st.norm.ppf(0.5 + confidence / 2.0))
    return math.tanh(z - zc * se), math.tanh(z + zc * se)


def _xy(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    xa, ya = _as_1d(x, "x"), _as_1d(y, "y")
    if xa.size != ya.size:
        raise ValueError(f"x and y must have equal length, got {xa.size} and {ya.size}")
    if xa.size < 3:
        raise ValueError("a correlation needs at least 3 pairs")
    return xa, ya


def pearson_ci(x: Any, y: Any, confidence: float = 0.95) -> CorrResult:
    """Pearson correlation with a Fisher-z confidence interval.

    ``r`` and the two-sided p-value are scipy's ``pearsonr`` (``t = r *
    sqrt((n-2)/(1-r^2))`` on ``n-2`` df).  The interval::

        z = atanh(r),  se = 1/sqrt(n-3),  z* = Phi^{-1}((1+confidence)/2)
        low, high = tanh(z -/+ z* * se)

    needs ``n >= 4`` (NaN bounds for ``n == 3``); ``|r| == 1`` (to within 1e-12) gives
    ``low = high = r``; a constant input gives ``r = NaN``.
    """
    return _correlation(x, y, confidence, _st.pearsonr, lambda r, n: 1.0 / math.sqrt(n - 3))


def spearman(x: Any, y: Any, confidence: float = 0.95) -> CorrResult:
    """Spearman rank correlation with a Fisher-z confidence interval.

    ``rho`` and the two-sided p-value are scipy's ``spearmanr`` (t
    approximation on ``n-2`` df).  The interval uses the Bonett & Wright
    (2000) standard error for Spearman's rho::

        z = atanh(rho),  se = sqrt((1 + rho^2/2) / (n-3))
        low, high = tanh(z -/+ z* * se),  z* = Phi^{-1}((1+confidence)/2)

    needs ``n >= 4``; ``|rho| == 1`` (to within 1e-12) gives ``low = high = rho``; constant input
    gives NaN.

    Examples:
      >>> r = spearman([1, 2, 3, 4, 5], [2, 4, 5, 4.5, 10])  # one swapped pair: 1 − 6·2/(5·24)
      >>> round(r.r, 4), round(r.low, 4), round(r.high, 4), r.n
      (0.9, -0.1689, 0.9961, 5)
    """
    return _correlation(x, y, confidence, _st.spearmanr, lambda rho, n: math.sqrt((1.0 + rho * rho / 2.0) / (n - 3)))


def _correlation(x: Any, y: Any, confidence: float, test, standard_error) -> CorrResult:
    """``test(x, y)``'s statistic and p-value with a Fisher-z interval of standard error
    ``standard_error(r, n)`` (NaN for ``n <= 3``); NaN throughout for a constant input."""
    confidence = _check_prob(confidence, "confidence")
    xa, ya = _xy(x, y)
    n = xa.size
    if np.ptp(xa) == 0 or np.ptp(ya) == 0:
        return CorrResult(math.nan, math.nan, math.nan, math.nan, n)
    res = test(xa, ya)
    r = _snap_unit(res.statistic)
    se = standard_error(r, n) if n > 3 else math.nan
    low, high = _fisher_ci(r, n, se, confidence)
    return CorrResult(r, low, high, float(res.pvalue), n)
