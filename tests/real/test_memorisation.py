"""The memorisation split (queries with a relevant document seen in training) and the document-prior baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simrank.real.confirm.memorisation import PRIOR_GRID, PRIOR_MODEL, prior_baseline, query_flags, seen_documents


class _Set:
    """An evaluation set as prior_baseline reads it: names, ids, grades, qrels and the dense proxy."""

    def __init__(self, name, dense, grades):
        self.name, self.proxies, self.grades = name, {"dense": np.asarray(dense, np.float32)}, np.asarray(grades)
        self.query_ids = [f"{name}{i}" for i in range(len(grades))]
        self.doc_ids = tuple(f"d{j}" for j in range(self.grades.shape[1]))
        self.qrels = pd.DataFrame(
            [
                {"query_id": q, "doc_id": d, "relevance": int(g)}
                for q, row in zip(self.query_ids, self.grades)
                for d, g in zip(self.doc_ids, row)
                if g > 0
            ]
        )


def test_seen_documents_and_query_flags():
    train = np.array([[0, 1, 0, 0], [0, 0, 0, 2]])
    seen = seen_documents(train)
    assert seen.tolist() == [False, True, False, True]
    ev = _Set("test", np.zeros((3, 4)), [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 1]])
    flags = query_flags([ev], seen)
    assert flags.seen.tolist() == [False, True, True] and flags.query_id.tolist() == ev.query_ids


def test_prior_is_chosen_on_validation_and_helps_exactly_the_seen_queries():
    """Twelve documents; the relevant document of every query ranks 3rd by the cosine (0.78 under 0.9 and 0.85).
    Validation queries all ask for seen documents, so the smallest c that lifts them to rank 1 (c > 0.12) wins; on
    test it lifts the seen query to rank 1 and pushes the unseen one from rank 3 to 4 (a seen document at 0.7
    overtakes it)."""
    n_docs = 12
    seen = np.zeros(n_docs, bool)
    seen[[0, 1, 2]] = True

    def dense_for(target, above, seen_below=None):
        row = np.linspace(0.0, 0.1, n_docs)
        row[above], row[target] = [0.9, 0.85], 0.78
        if seen_below is not None:
            row[seen_below] = 0.7
        return row

    val = _Set("val", [dense_for(0, [5, 6]), dense_for(1, [7, 8])], np.eye(n_docs)[[0, 1]])
    test = _Set("test", [dense_for(2, [5, 6]), dense_for(9, [5, 6], seen_below=0)], np.eye(n_docs)[[2, 9]])
    c, rows = prior_baseline(val, test, seen, depth=10)
    assert c == 0.15 == min(x for x in PRIOR_GRID if 0.78 + x > 0.9)
    by_set = {r["set"]: r for r in rows}
    assert all(r["model"] == PRIOR_MODEL and r["prior_c"] == c for r in rows)
    assert by_set["val"]["ndcg10_q"].tolist() == pytest.approx([1.0, 1.0])
    seen_q, unseen_q = by_set["test"]["ndcg10_q"]
    assert seen_q == pytest.approx(1.0) and unseen_q == pytest.approx(1 / np.log2(5))  # rank 4
