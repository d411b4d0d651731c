"""The memorisation artefact of a confirm run made visible: which evaluation queries have a relevant document that
is also relevant to a training query, and the *document prior*, a baseline that knows nothing but that.

With ``S`` the documents relevant (grade > 0) to some fit (training) query, a query ``q`` is *seen* when one of its
relevant documents is in ``S``. The document-prior baseline scores

    s_c(q, x) = qᵀx + c · 1[x ∈ S]

(the dense cosine plus a constant for documents relevant to some training query), with ``c`` from
:data:`PRIOR_GRID` chosen by validation nDCG@10 (ties: the smaller ``c``); the test queries are never used.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from simrank.real.evaluate import evaluate, run_from_scores, write_trec_run

__all__ = ["PRIOR_GRID", "PRIOR_MODEL", "prior_baseline", "query_flags", "seen_documents"]

PRIOR_GRID = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5)  # c, in cosine units
PRIOR_MODEL = "dense+prior"  # its name in baselines.parquet


class JudgedQueries(Protocol):
    """What this module reads of an evaluation set (:class:`simrank.real.evalsets.EvalSet` is one; that module
    imports this one, so the type is structural): ``grades`` ``[n, N]``, the dense baseline's scores
    ``proxies["dense"]`` ``[n, N]`` and the judgments ``qrels``."""

    name: str
    query_ids: list[str]
    doc_ids: tuple[str, ...]
    grades: np.ndarray
    qrels: pd.DataFrame
    proxies: dict[str, np.ndarray]


def seen_documents(train_grades: np.ndarray) -> np.ndarray:
    """``1[x ∈ S]``, ``[N]``: documents relevant to some training query (``train_grades`` ``[fit queries, N]``)."""
    return np.asarray((np.asarray(train_grades) > 0).any(axis=0))  # numpy types `any` as maybe a scalar


def _seen_queries(grades: np.ndarray, seen: np.ndarray) -> np.ndarray:
    return ((np.asarray(grades) > 0) & seen[None]).any(axis=1)


def query_flags(eval_sets: Sequence[JudgedQueries], seen: np.ndarray) -> pd.DataFrame:
    """One row per query of every evaluation set with judgments on the training corpus (``test``, ``val``):
    ``set``, ``query_id``, ``seen`` (a relevant document in ``S``), in each set's query order."""
    rows = []
    for ev in eval_sets:
        for query_id, flag in zip(ev.query_ids, _seen_queries(ev.grades, seen)):
            rows.append({"set": ev.name, "query_id": query_id, "seen": bool(flag)})
    return pd.DataFrame(rows)


def _prior_run(ev: JudgedQueries, seen: np.ndarray, c: float, depth: int) -> tuple[pd.DataFrame, dict, np.ndarray]:
    scores = ev.proxies["dense"] + c * seen[None].astype(ev.proxies["dense"].dtype)
    run = run_from_scores(scores, ev.query_ids, ev.doc_ids, depth)
    result = evaluate(run, ev.qrels)
    return run, result.mean, result.per_query["nDCG@10"].reindex(ev.query_ids).to_numpy(np.float32)


def prior_baseline(
    val: JudgedQueries, test: JudgedQueries, seen: np.ndarray, depth: int, out: Path | None = None
) -> tuple[float, list[dict]]:
    """The document-prior baseline: ``c`` chosen on ``val`` (nDCG@10 over :data:`PRIOR_GRID`), then scored on
    ``val`` and ``test``.

    Args:
      val: the validation :class:`~simrank.real.evalsets.EvalSet`.
      test: the test :class:`~simrank.real.evalsets.EvalSet`.
      seen: ``[N]`` :func:`seen_documents`.
      depth: run depth.
      out: if given, the runs are written to ``out/runs/baseline-<set>-dense+prior-full.trec``.

    Returns:
      ``(c, rows)``: the chosen constant and one baselines row per set (``set``, ``model`` = :data:`PRIOR_MODEL`,
      ``mode`` = ``full``, ``nDCG@10``, ``RR@10``, ``R@100``, ``ndcg10_q``, ``prior_c``).
    """
    val_ndcg = [float(np.mean(_prior_run(val, seen, c, depth)[2])) for c in PRIOR_GRID]
    c = PRIOR_GRID[int(np.argmax(val_ndcg))]  # argmax: the first (smallest) c among ties
    rows = []
    for ev in (val, test):
        run, means, per_query = _prior_run(ev, seen, c, depth)
        if out is not None:
            write_trec_run(Path(out) / "runs" / f"baseline-{ev.name}-{PRIOR_MODEL}-full.trec", run, PRIOR_MODEL)
        rows.append(
            {
                "set": ev.name,
                "model": PRIOR_MODEL,
                "mode": "full",
                "nDCG@10": float(np.mean(per_query)),
                "RR@10": means.get("RR@10", np.nan),
                "R@100": means.get("R@100", np.nan),
                "ndcg10_q": per_query,
                "prior_c": c,
            }
        )
    return c, rows
