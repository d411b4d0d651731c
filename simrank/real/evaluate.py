"""Ranking evaluation with ``ir_measures`` (pytrec_eval), and TREC run / qrels files.

Measures (``MEASURES``), per query with binary or graded relevance ``rel(d)``::

    nDCG@10 = DCG@10 / ideal DCG@10,   DCG@10 = sum_{i<=10} rel(d_i) / log2(i + 1)
    RR@10   = 1 / (rank of the first relevant document), 0 if none in the top 10
    R@100   = |relevant in top 100| / |relevant|

The mean is over the queries of the qrels; a query absent from the run scores 0.
Full-ranking mode ranks every document; re-ranking mode (``candidates``, e.g. each query's
BM25 top-100 from :meth:`~simrank.real.data.bm25.BM25Index.top_k`) ranks only those documents.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import ir_measures
import numpy as np
import pandas as pd

from simrank.real._util import atomic_write, top_k
from simrank.real.data.beir import DataError

__all__ = [
    "MEASURES",
    "TREC_RUN_LINE",
    "evaluate",
    "evaluate_scores",
    "Evaluation",
    "read_trec_run",
    "run_from_scores",
    "write_trec_qrels",
    "write_trec_run",
]

MEASURES = ("nDCG@10", "RR@10", "R@100")


class Evaluation(NamedTuple):
    per_query: pd.DataFrame  # index query_id (qrels order), one column per measure
    mean: dict[str, float]


def run_from_scores(
    scores: np.ndarray,
    query_ids: Sequence[str],
    doc_ids: Sequence[str],
    depth: int = 100,
    candidates: np.ndarray | None = None,
) -> pd.DataFrame:
    """Run (``query_id, doc_id, score``, best first per query) of the top ``depth`` documents of each
    row of ``scores [n_queries, n_docs]``; with ``candidates`` (int ``[n_queries, m]`` document
    indices) only those documents are ranked."""
    if scores.shape != (len(query_ids), len(doc_ids)):
        raise ValueError(f"scores shape {scores.shape}, expected ({len(query_ids)}, {len(doc_ids)}) = (queries, docs)")
    if candidates is None:
        idx, vals = top_k(scores, depth)
    else:
        sub_idx, vals = top_k(np.take_along_axis(scores, candidates, axis=1), depth)
        idx = np.take_along_axis(candidates, sub_idx, axis=1)
    return pd.DataFrame(
        {
            "query_id": np.repeat(np.asarray(query_ids, dtype=object), idx.shape[1]),
            "doc_id": np.asarray(doc_ids, dtype=object)[idx.ravel()],
            "score": vals.ravel().astype(np.float64),
        }
    )


def evaluate(run: pd.DataFrame, qrels: pd.DataFrame, measures: Sequence[str] = MEASURES) -> Evaluation:
    """Per-query and mean ``measures`` of ``run`` (``query_id, doc_id, score``) against ``qrels``
    (``query_id, doc_id, relevance``)."""
    qids = list(dict.fromkeys(qrels.query_id))
    run = run[run.query_id.isin(set(qids))].astype({"score": np.float64})
    parsed = [ir_measures.parse_measure(m) for m in measures]
    names = {p: name for p, name in zip(parsed, measures)}  # the given spelling (str of a measure, once each)
    rows = [
        (m.query_id, names[m.measure], m.value)
        for m in ir_measures.iter_calc(parsed, _nested(qrels, "relevance", int), _nested(run, "score", float))
    ]
    per_query = (
        pd.DataFrame(rows, columns=["query_id", "measure", "value"])
        .pivot(index="query_id", columns="measure", values="value")
        .reindex(index=qids, columns=list(measures))
        .fillna(0.0)
        .rename_axis(index="query_id", columns=None)
    )
    return Evaluation(per_query, {m: float(per_query[m].mean()) for m in measures})


def _nested(frame: pd.DataFrame, column: str, kind: type) -> dict[str, dict[str, float]]:
    """``{query_id: {doc_id: value}}`` of a run or qrels frame: ir_measures' own input form, built in one pass (its
    DataFrame reader iterates rows as named tuples, the largest cost of a confirm run's checks)."""
    nested: dict[str, dict] = {}
    for q, d, v in zip(frame.query_id.tolist(), frame.doc_id.tolist(), frame[column].tolist()):
        nested.setdefault(str(q), {})[str(d)] = kind(v)
    return nested


def evaluate_scores(
    scores: np.ndarray,
    query_ids: Sequence[str],
    doc_ids: Sequence[str],
    qrels: pd.DataFrame,
    candidates: np.ndarray | None = None,
    measures: Sequence[str] = MEASURES,
) -> Evaluation:
    """:func:`evaluate` of the depth-100 :func:`run_from_scores` of a score matrix."""
    return evaluate(run_from_scores(scores, query_ids, doc_ids, candidates=candidates), qrels, measures)


_SPACE = re.compile(r"\s")


def _check_fields(values, what: str) -> None:
    """Every value is a non-empty single token (no whitespace): one regular-expression scan of all of them joined
    by NUL, the first bad value named only when there is one."""
    strings = [str(v) for v in values]
    if "" in strings or _SPACE.search("\0".join(strings)):
        bad = next(v for v, s in zip(values, strings) if not s or _SPACE.search(s))
        raise ValueError(f"{what} {bad!r} is empty or has whitespace; TREC files need non-empty single tokens")


def write_trec_run(path: str | os.PathLike, run: pd.DataFrame, tag: str) -> None:
    """Write ``qid Q0 docid rank score tag`` lines (queries sorted by id, rank 1 = highest score)."""
    _check_fields([tag], "tag")
    _check_fields(run.query_id.unique(), "query_id")
    _check_fields(run.doc_id.unique(), "doc_id")
    df = run.sort_values(["query_id", "score"], ascending=[True, False], kind="stable")
    ranks = df.groupby("query_id", sort=False).cumcount() + 1
    columns = (df.query_id.tolist(), df.doc_id.tolist(), ranks.tolist(), df.score.astype(np.float64).tolist())
    with atomic_write(path) as f:
        f.write("".join(f"{q} Q0 {d} {r} {s!r} {tag}\n" for q, d, r, s in zip(*columns)))


TREC_RUN_LINE = "'qid Q0 docid rank score tag' (6 whitespace-separated fields, integer rank, finite score)"


def read_trec_run(path: str | os.PathLike) -> pd.DataFrame:
    """Read a TREC run file (``qid Q0 docid rank score tag`` per line; blank lines skipped).

    Returns ``query_id, doc_id, score, line`` (``line`` = 1-based line number, for error messages).
    A malformed line, an empty run or a repeated (query, document) pair raises :class:`DataError`
    naming the file and the line.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"missing file {path}")
    rows = []
    seen: dict[tuple[str, str], int] = {}
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            fields = line.split()
            try:
                if len(fields) != 6:
                    raise ValueError
                query_id, _, doc_id, rank, score, _ = fields
                int(rank)
                value = float(score)
                if not math.isfinite(value):
                    raise ValueError
            except ValueError:
                raise DataError(
                    f"{path}:{n}: {line.strip()!r} is not a TREC run line; expected {TREC_RUN_LINE}"
                ) from None
            if (query_id, doc_id) in seen:
                raise DataError(
                    f"{path}:{n}: duplicate (query, document) pair ({query_id!r}, {doc_id!r}), first on line "
                    f"{seen[query_id, doc_id]}; expected each pair once"
                )
            seen[query_id, doc_id] = n
            rows.append((query_id, doc_id, value, n))
    if not rows:
        raise DataError(f"{path}:1: empty run (no lines); expected {TREC_RUN_LINE}")
    return pd.DataFrame(rows, columns=["query_id", "doc_id", "score", "line"])


def write_trec_qrels(path: str | os.PathLike, qrels: pd.DataFrame) -> None:
    """Write ``qid 0 docid relevance`` lines, in the order of ``qrels``."""
    _check_fields(qrels.query_id.unique(), "query_id")
    _check_fields(qrels.doc_id.unique(), "doc_id")
    with atomic_write(path) as f:
        for q, d, rel in qrels[["query_id", "doc_id", "relevance"]].itertuples(index=False):
            f.write(f"{q} 0 {d} {int(rel)}\n")
