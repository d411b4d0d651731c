"""Evaluation sets of the real-data path: queries ranked over a whole corpus with their graded judgments and
the baseline score matrices (BM25, dense, teacher), for the test and validation splits and for zero-shot
collections (:func:`load_zero_shot`: another BEIR folder's ``test`` qrels, ranked by models trained elsewhere).
Measured in-jit by :func:`simrank.real.confirm.training.make_measure` and with ``ir_measures`` by
:mod:`simrank.real.evaluate`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from simrank.real.confirm.design import DEPTH, RealConfig
from simrank.real.data.beir import EMBEDDINGS_FILE, Collection, DataError, Embeddings, load_collection, load_embeddings
from simrank.real.data.bm25 import BM25Index
from simrank.real.data.queryset import judged_queries, real_query_set

__all__ = ["EvalSet", "eval_set", "load_zero_shot", "positive_queries"]


@dataclass
class EvalSet:
    """Queries ranked over a whole corpus: vectors, graded judgments and baseline score matrices."""

    name: str  # "test", "val" or "zs_<collection>"
    query_ids: list[str]
    doc_ids: tuple[str, ...]
    queries: np.ndarray  # [n, d]
    docs: np.ndarray  # [N, d]
    grades: np.ndarray  # [n, N]
    qrels: pd.DataFrame
    proxies: dict[str, np.ndarray] = field(repr=False)  # bm25, dense, teacher: [n, N]
    candidates: np.ndarray | None = None  # [n, DEPTH] BM25 top-100 (re-ranking), test only

    def arrays(self) -> dict:
        out = {"queries": self.queries, "docs": self.docs, "grades": self.grades}
        if self.candidates is not None:
            mask = np.zeros(self.grades.shape, bool)
            np.put_along_axis(mask, self.candidates, True, axis=1)
            out |= {"candidate_mask": mask, "teacher": self.proxies["teacher"]}
        return out


def eval_set(
    name: str,
    collection: Collection,
    embeddings: Embeddings,
    bm25: BM25Index,
    query_ids: Sequence[str],
    qrels: pd.DataFrame,
    cfg: RealConfig,
    rerank: bool,
) -> EvalSet:
    """The evaluation set ``name`` of ``query_ids`` (judged by ``qrels``) over ``collection``, with the design's
    teacher; ``rerank``: also each query's BM25 top-``DEPTH`` candidates (the test split's re-ranking mode)."""
    qs = real_query_set(
        collection,
        embeddings,
        bm25,
        query_ids,
        qrels,
        teacher=cfg.teacher,
        teacher_weights=cfg.teacher_weights,
        teacher_positive=True,
    )
    candidates = None
    if rerank:
        candidates, _ = bm25.top_k(collection.query_texts_for(query_ids), min(DEPTH, qs.n_docs))
    return EvalSet(
        name, list(query_ids), collection.doc_ids, qs.queries, qs.docs, qs.grades, qrels, qs.proxies, candidates
    )


def positive_queries(qrels: pd.DataFrame) -> list[str]:
    """The judged queries of ``qrels`` with at least one relevant (relevance > 0) document."""
    return judged_queries(qrels[qrels.relevance > 0])


def load_zero_shot(data_dir: Path, cfg: RealConfig, dim: int, embeddings_file: str = EMBEDDINGS_FILE) -> EvalSet:
    """A zero-shot collection: its ``test`` qrels (queries with a relevant document), embeddings and BM25."""
    collection = load_collection(data_dir, splits=("test",))
    embeddings = load_embeddings(Path(data_dir) / embeddings_file, collection)
    if embeddings.doc_emb.shape[1] != dim:
        raise DataError(
            f"--eval-data {data_dir}: embedding dim {embeddings.doc_emb.shape[1]}, expected {dim} (the training data's)"
        )
    qrels = collection.qrels["test"]
    ids = positive_queries(qrels)
    if not ids:
        raise DataError(
            f"--eval-data {data_dir}: qrels/test.tsv has no judged query with a relevant document (relevance > 0); "
            "a zero-shot collection needs test judgments"
        )
    qrels = qrels[qrels.query_id.isin(set(ids))]
    return eval_set(
        f"zs_{Path(data_dir).name}", collection, embeddings, BM25Index.build(collection), ids, qrels, cfg, False
    )
