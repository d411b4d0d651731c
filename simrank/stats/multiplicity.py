"""Multiple-comparison adjustments of p-values: Holm (family-wise) and Benjamini-Hochberg (false discovery rate)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["holm", "benjamini_hochberg"]


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (NaNs stay NaN and are not counted)."""
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    m = q.size
    if m == 0:
        return out
    order = np.argsort(q, kind="stable")
    adj = np.empty(m)
    running = 0.0
    for rank, idx in enumerate(order):
        running = max(running, min(1.0, (m - rank) * q[idx]))
        adj[idx] = running
    out[ok] = adj
    return out


def holm(pvalues: Any) -> np.ndarray:
    """Holm step-down adjusted p-values (family-wise error control): with ``p_(1) <= … <= p_(m)``,
    ``p̃_(i) = max_{j <= i} min(1, (m − j + 1) p_(j))``; NaNs stay NaN and are not counted."""
    return _holm(np.asarray(pvalues, dtype=np.float64))


def benjamini_hochberg(pvalues: Any) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (false discovery rate): with ``p_(1) <= … <= p_(m)``,
    ``p̃_(i) = min_{j >= i} min(1, m p_(j) / j)``; NaNs stay NaN and are not counted."""
    p = np.asarray(pvalues, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    if q.size == 0:
        return out
    order = np.argsort(q, kind="stable")
    scaled = q[order] * q.size / np.arange(1, q.size + 1)
    adj = np.empty(q.size)
    adj[order] = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    out[ok] = adj
    return out
