"""Integration check on the real SciFact copy (``$SIMRANK_DATA`` or ``../shared/data/scifact``)."""

from __future__ import annotations

import pytest

from simrank.real.data.beir import (
    EMBEDDINGS_FILE,
    default_data_dir,
    load_collection,
    load_embeddings,
)

DATA = default_data_dir()
pytestmark = pytest.mark.skipif(
    not (DATA / "corpus.jsonl").is_file(),
    reason=f"SciFact not found at {DATA}; set SIMRANK_DATA to a BEIR-layout SciFact folder",
)


@pytest.fixture(scope="module")
def scifact():
    c = load_collection(DATA)
    return c, load_embeddings(DATA / EMBEDDINGS_FILE, c)


def test_counts_and_embeddings(scifact):
    c, e = scifact
    assert len(c.doc_ids) == 5183 and len(c.query_ids) == 1109 + 300 and len(c.unlabeled_query_ids) == 300
    assert {k: (len(v), v.query_id.nunique()) for k, v in c.qrels.items()} == {"train": (919, 809), "test": (339, 300)}
    assert e.doc_emb.shape == (5183, 384) and e.query_emb.shape == (1409, 384)


def test_reference_ndcg(scifact):
    """The README's reference nDCG@10 on the test split: BM25 0.662, dense 0.645, hybrid 0.708."""
    from simrank.real.data.bm25 import BM25Index
    from simrank.real.data.teacher import teacher_scores
    from simrank.real.evaluate import evaluate_scores

    c, e = scifact
    qrels = c.qrels["test"]
    qids = list(dict.fromkeys(qrels.query_id))
    bm25, dense = BM25Index.build(c).scores(c.query_texts_for(qids)), e.dense_scores(qids)
    for kind, want in [("bm25", 0.662), ("dense", 0.645), ("hybrid", 0.708)]:
        got = evaluate_scores(teacher_scores(kind, bm25, dense, (1.0, 1.0)), qids, c.doc_ids, qrels).mean["nDCG@10"]
        assert got == pytest.approx(want, abs=1e-3), kind
