from __future__ import annotations

import numpy as np
import pytest

from simrank.real.data.beir import load_collection
from simrank.real.data.bm25 import BM25Index

from conftest import N_DOCS


@pytest.fixture
def index(tiny_beir):
    return BM25Index.build(load_collection(tiny_beir))


def test_rare_word_ranks_its_document_first(index):
    s = index.scores(["the protein of zeta3", "zeta17 cell", "zeta29"])
    assert s.shape == (3, N_DOCS) and s.dtype == np.float32
    assert [index.doc_ids[j] for j in s.argmax(axis=1)] == ["d3", "d17", "d29"]


def test_unknown_and_stopword_queries_score_zero(index):
    np.testing.assert_array_equal(index.scores(["the of and", "unseenword"]), 0.0)


def test_batches_and_top_k_agree_with_dense_scores(index):
    texts = [f"cancer zeta{i} dose" for i in range(7)]
    full = index.scores(texts)
    np.testing.assert_array_equal(index.scores(texts, batch_size=3), full)
    idx, vals = index.top_k(texts, 5, batch_size=2)
    assert idx.shape == vals.shape == (7, 5)
    np.testing.assert_array_equal(vals, np.take_along_axis(full, idx, axis=1))
    np.testing.assert_array_equal(vals, -np.sort(-full, axis=1)[:, :5])
    assert index.top_k(texts[:1], 100)[0].shape == (1, N_DOCS)
