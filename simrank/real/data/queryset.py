"""Build a :class:`simrank.groups.QuerySet` from a BEIR collection, so that the real data flow through
the same samplers, groups, losses, students, trainer and measures as the synthetic worlds.

For the queries ``Q`` (rows) and the corpus ``D`` (columns):

* ``docs = doc_emb``, ``queries = query_emb[Q]`` (unit-norm MiniLM vectors);
* ``proxies = {"bm25": BM25(q, x), "dense": <q, x>, "teacher": g}``;
* ``teacher_scores g``: :func:`simrank.real.data.teacher.teacher_scores` of ``teacher`` (``hybrid`` =
  ``w_bm25 z(bm25) + w_dense z(dense)``, or ``bm25`` / ``dense`` alone as weaker teachers);
* ``positive_probs p_q(x) = 1[rel(q, x) > 0] / |{x : rel(q, x) > 0}|`` over the judgments of ONE
  qrels split (the training split for training sets: test judgments never enter training); with
  ``teacher_positive=True`` a query without a judged positive gets ``p_q = δ(argmax_x g(q, x))``
  (for distillation on unlabelled queries);
* ``grades = rel(q, x)`` from the same split (0 where unjudged).

:func:`teacher_query_set` builds a training set without judgments (unlabelled claims, pseudo-queries):
any query vectors and texts, positives from the teacher (:func:`teacher_positives`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from simrank.groups import QuerySet
from simrank.real.data.beir import Collection, DataError, Embeddings
from simrank.real.data.bm25 import BM25Index
from simrank.real.data.teacher import TEACHERS, teacher_scores

__all__ = ["grade_matrix", "judged_queries", "real_query_set", "teacher_positives", "teacher_query_set"]


def judged_queries(qrels: pd.DataFrame) -> list[str]:
    """Query ids of a qrels split, in first-appearance order."""
    return list(dict.fromkeys(qrels.query_id))


def grade_matrix(qrels: pd.DataFrame, query_ids: Sequence[str], doc_ids: Sequence[str]) -> np.ndarray:
    """``grades[i, j] = rel(query_ids[i], doc_ids[j])`` (0 where unjudged), int32."""
    row = {q: i for i, q in enumerate(query_ids)}
    col = {d: j for j, d in enumerate(doc_ids)}
    grades = np.zeros((len(query_ids), len(doc_ids)), np.int32)
    judged = qrels[qrels.query_id.isin(row.keys())]
    rows, cols = judged.query_id.map(row).to_numpy(np.int64), judged.doc_id.map(col).to_numpy(np.int64)
    grades[rows, cols] = judged.relevance.to_numpy()
    return grades


def real_query_set(
    collection: Collection,
    embeddings: Embeddings,
    bm25: BM25Index,
    query_ids: Sequence[str],
    qrels: pd.DataFrame,
    *,
    teacher: str = "hybrid",
    teacher_weights: tuple[float, float] = (1.0, 1.0),
    teacher_positive: bool = False,
) -> QuerySet:
    """The :class:`QuerySet` of ``query_ids`` with positives and grades from the split ``qrels``.

    A query with no judged positive raises :class:`DataError` (one line) unless ``teacher_positive``.
    """
    if teacher not in TEACHERS:
        raise DataError(f"teacher = {teacher!r} is not allowed; choose one of {', '.join(TEACHERS)}")
    query_ids = list(query_ids)
    dense = embeddings.dense_scores(query_ids)
    lexical = bm25.scores(collection.query_texts_for(query_ids))
    g = teacher_scores(teacher, lexical, dense, teacher_weights)
    grades = grade_matrix(qrels, query_ids, collection.doc_ids)
    positive = (grades > 0).astype(np.float64)
    n_pos = positive.sum(axis=1, keepdims=True)
    if teacher_positive:
        top = np.zeros_like(positive)
        top[np.arange(len(query_ids)), g.argmax(axis=1)] = 1.0
        positive, n_pos = np.where(n_pos > 0, positive, top), np.maximum(n_pos, 1.0)
    elif (missing := np.flatnonzero(n_pos[:, 0] == 0)).size:
        ids = [query_ids[i] for i in missing[:5]]
        raise DataError(
            f"queries {ids}{' ...' if missing.size > 5 else ''} ({missing.size} in all) have no positive "
            "(relevance > 0) in the qrels split; the LCE loss needs one judged positive per training query"
        )
    return QuerySet(
        docs=embeddings.doc_emb,
        queries=embeddings.query_emb[[embeddings.query_row[q] for q in query_ids]],
        teacher_scores=g,
        positive_probs=positive / n_pos,
        grades=grades,
        proxies={"bm25": lexical, "dense": dense, "teacher": g},
    )


def teacher_positives(g: np.ndarray, label: str, tau: float = 1.0) -> np.ndarray:
    """Positive distributions ``p_q`` from teacher scores ``g [n, N]``: ``teacher_top1`` puts all mass on
    ``argmax_x g(q, x)``; ``teacher_softmax`` is ``softmax(g_q / τ)``.  Returns float64 ``[n, N]``."""
    if label == "teacher_top1":
        top = np.zeros(g.shape, np.float64)
        top[np.arange(g.shape[0]), g.argmax(axis=1)] = 1.0
        return top
    if label == "teacher_softmax":
        z = np.asarray(g, np.float64) / tau
        p = np.exp(z - z.max(axis=1, keepdims=True))
        return p / p.sum(axis=1, keepdims=True)
    raise DataError(f"label = {label!r} is not allowed; choose one of teacher_top1, teacher_softmax")


def teacher_query_set(
    embeddings: Embeddings,
    bm25: BM25Index,
    vectors: np.ndarray,
    texts: Sequence[str],
    *,
    label: str = "teacher_top1",
    tau: float = 1.0,
    teacher: str = "hybrid",
    teacher_weights: tuple[float, float] = (1.0, 1.0),
) -> QuerySet:
    """The :class:`QuerySet` of queries given as unit vectors ``[n, d]`` and texts, with teacher positives
    (:func:`teacher_positives`) and no grades (``[n, 0]``: they are trained on, never ranked)."""
    if teacher not in TEACHERS:
        raise DataError(f"teacher = {teacher!r} is not allowed; choose one of {', '.join(TEACHERS)}")
    vectors = np.asarray(vectors, np.float32)
    dense = vectors @ embeddings.doc_emb.T
    lexical = bm25.scores(list(texts))
    g = teacher_scores(teacher, lexical, dense, teacher_weights)
    return QuerySet(
        docs=embeddings.doc_emb,
        queries=vectors,
        teacher_scores=g,
        positive_probs=teacher_positives(g, label, tau),
        grades=np.zeros((len(vectors), 0), np.int8),
        proxies={"bm25": lexical, "dense": dense, "teacher": g},
    )
