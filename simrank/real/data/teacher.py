"""Teacher score matrices for distillation on real data, from BM25 and dense scores.

Each input is ``[n_queries, n_docs]`` over the full corpus. Per-query z-score of a row ``s``::

    z(s) = (s - mean(s)) / max(std(s), eps)        (population std over the corpus)

``hybrid = w_bm25 * z(bm25) + w_dense * z(dense)``; ``bm25`` and ``dense`` return the raw scores.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "STD_FLOOR",
    "TEACHERS",
    "hybrid_teacher_scores",
    "teacher_scores",
    "zscore_rows",
]

TEACHERS = ("hybrid", "bm25", "dense")
STD_FLOOR = 1e-6


def zscore_rows(scores: np.ndarray, eps: float = STD_FLOOR) -> np.ndarray:
    """Row-wise ``(s - mean) / max(std, eps)``, float32."""
    s = np.asarray(scores, dtype=np.float64)
    z = (s - s.mean(axis=1, keepdims=True)) / np.maximum(s.std(axis=1, keepdims=True), eps)
    return z.astype(np.float32)


def hybrid_teacher_scores(
    bm25_scores: np.ndarray, dense_scores: np.ndarray, weights: tuple[float, float] = (1.0, 1.0)
) -> np.ndarray:
    """``w_bm25 * z(bm25_scores) + w_dense * z(dense_scores)``, float32 ``[n_queries, n_docs]``."""
    if np.shape(bm25_scores) != np.shape(dense_scores):
        raise ValueError(f"bm25_scores shape {np.shape(bm25_scores)} != dense_scores shape {np.shape(dense_scores)}")
    w_bm25, w_dense = weights
    return w_bm25 * zscore_rows(bm25_scores) + w_dense * zscore_rows(dense_scores)


def teacher_scores(
    kind: str, bm25_scores: np.ndarray, dense_scores: np.ndarray, weights: tuple[float, float] = (1.0, 1.0)
) -> np.ndarray:
    """Scores of teacher ``kind`` in :data:`TEACHERS` (``weights`` is used by ``hybrid`` only)."""
    if kind == "hybrid":
        return hybrid_teacher_scores(bm25_scores, dense_scores, weights)
    if kind == "bm25":
        return np.asarray(bm25_scores, dtype=np.float32)
    if kind == "dense":
        return np.asarray(dense_scores, dtype=np.float32)
    raise ValueError(f"unknown teacher kind {kind!r}; expected one of {', '.join(TEACHERS)}")
