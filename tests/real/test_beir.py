from __future__ import annotations

import numpy as np
import pytest

from simrank.real.data.beir import (
    EMBEDDINGS_FILE,
    DataError,
    default_data_dir,
    load_collection,
    load_embeddings,
)

from conftest import (
    DIM,
    N_DOCS,
    N_LABELLED,
    N_UNLABELLED,
    rewrite_npz,
    write_jsonl,
    write_qrels,
)


def test_collection_round_trip(tiny_beir):
    c = load_collection(tiny_beir)
    assert c.doc_ids == tuple(f"d{i}" for i in range(N_DOCS))
    assert c.doc_texts[3].startswith("Title 3 ") and c.doc_texts[3].endswith(" zeta3")
    assert len(c.query_ids) == len(c.query_texts) == N_LABELLED + N_UNLABELLED
    assert c.unlabeled_query_ids == ("u0", "u1") == c.query_ids[-2:]
    assert c.query_texts_for(["q1", "u0"]) == ["the protein of zeta3", "cell and zeta1"]
    assert set(c.qrels) == {"train", "test"}
    test = c.qrels["test"]
    assert list(test.columns) == ["query_id", "doc_id", "relevance"]
    assert test.relevance.dtype == np.int64 and len(test) == 5
    assert list(test.iloc[0]) == ["q4", "d12", 1]
    with pytest.raises(AttributeError):
        c.doc_ids = ()


def test_embeddings_aligned_to_collection(tiny_beir):
    c = load_collection(tiny_beir)
    e = load_embeddings(tiny_beir / EMBEDDINGS_FILE, c)
    with np.load(tiny_beir / EMBEDDINGS_FILE) as z:
        stored = dict(zip(z["doc_ids"].tolist(), z["doc_emb"]))
        q_stored = dict(zip(z["query_ids"].tolist(), z["query_emb"]))
    assert e.doc_emb.shape == (N_DOCS, DIM) and e.doc_emb.dtype == np.float32
    np.testing.assert_array_equal(e.doc_emb, np.stack([stored[d] for d in c.doc_ids]))
    s = e.dense_scores(["q2", "u1"])
    assert s.shape == (2, N_DOCS)
    np.testing.assert_allclose(s[1], e.doc_emb @ q_stored["u1"], atol=1e-6)


def test_default_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("SIMRANK_DATA", str(tmp_path))
    assert default_data_dir() == tmp_path
    monkeypatch.delenv("SIMRANK_DATA")
    assert default_data_dir().parts[-3:] == ("shared", "data", "scifact")


def _missing_queries(root):
    (root / "queries.jsonl").unlink()


def _bad_json_line(root):
    lines = (root / "corpus.jsonl").read_text().splitlines(keepends=True)
    lines[2] = '{"_id": "d2", "title": "T"\n'
    (root / "corpus.jsonl").write_text("".join(lines))


def _title_not_string(root):
    write_jsonl(root / "corpus.jsonl", [{"_id": "d0", "title": None, "text": "x"}])


def _unknown_doc(root):
    write_qrels(root / "qrels" / "test.tsv", [("q4", "d12", 1), ("q4", "ghost-doc", 1)])


def _unknown_query(root):
    write_qrels(root / "qrels" / "train.tsv", [("q0", "d0", 1), ("ghost-query", "d1", 1)])


def _unlabelled_query_judged(root):
    write_qrels(root / "qrels" / "train.tsv", [("u0", "d1", 1)])


def _bad_header(root):
    (root / "qrels" / "test.tsv").write_text("qid\tdocid\trel\nq4\td12\t1\n")


def _bad_score(root):
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq4\td12\thigh\n")


def _duplicate_judgment(root):
    write_qrels(root / "qrels" / "test.tsv", [("q4", "d12", 1), ("q4", "d12", 0)])


def _duplicate_doc(root):
    write_jsonl(root / "corpus.jsonl", [{"_id": "d0", "title": "", "text": "a"}] * 2)


CORRUPTIONS = [
    (_missing_queries, "queries.jsonl", "missing file"),
    (_bad_json_line, "corpus.jsonl:3", "invalid JSON"),
    (_title_not_string, "'title' is None", "expected a string"),
    (_unknown_doc, "['ghost-doc'] (1 in all)", "not in corpus.jsonl"),
    (_unknown_query, "['ghost-query'] (1 in all)", "not in queries.jsonl"),
    (_unlabelled_query_judged, "['u0']", "not in queries.jsonl"),
    (_bad_header, "('qid', 'docid', 'rel')", "expected ('query-id', 'corpus-id', 'score')"),
    (_bad_score, "test.tsv:2", "integer score"),
    (_duplicate_judgment, "[('q4', 'd12')] (1 in all)", "duplicate judgments"),
    (_duplicate_doc, "['d0']", "duplicate ids"),
]


@pytest.mark.parametrize("corrupt,value,expected", CORRUPTIONS, ids=[c[0].__name__ for c in CORRUPTIONS])
def test_collection_errors(tiny_beir, corrupt, value, expected):
    corrupt(tiny_beir)
    with pytest.raises(DataError) as err:
        load_collection(tiny_beir)
    msg = str(err.value)
    assert "\n" not in msg and value in msg and expected in msg


def _nan_vector(z):
    emb = z["doc_emb"].copy()
    emb[4, 0] = np.nan
    return {"doc_emb": emb}, f"id {str(z['doc_ids'][4])!r} has NaN/inf"


def _unnormalised(z):
    emb = z["query_emb"].copy()
    emb[1] *= 2
    return {"query_emb": emb}, "id 'q1' has norm 2"


def _mismatched_doc_ids(z):
    ids = z["doc_ids"].astype("<U8")
    ids[ids == "d7"] = "stray"
    return {"doc_ids": ids}, "missing ['d7'] (1 in all), extra ['stray'] (1 in all)"


def _missing_query_ids(z):
    return {"query_ids": z["query_ids"][:-1], "query_emb": z["query_emb"][:-1]}, "missing ['u1']"


def _float64(z):
    return {"doc_emb": z["doc_emb"].astype(np.float64)}, "doc_emb is float64"


def _wrong_rows(z):
    return {"doc_emb": z["doc_emb"][:-1]}, f"(29, {DIM}), expected float32 of shape (30, dim)"


def _dim_mismatch(z):
    return {"query_emb": np.eye(len(z["query_ids"]), DIM + 1, dtype=np.float32)}, f"query_emb dim {DIM + 1}"


def _numeric_ids(z):
    return {"doc_ids": np.arange(len(z["doc_ids"]))}, "doc_ids is int64"


BAD_EMBEDDINGS = [
    _nan_vector,
    _unnormalised,
    _mismatched_doc_ids,
    _missing_query_ids,
    _float64,
    _wrong_rows,
    _dim_mismatch,
    _numeric_ids,
]


@pytest.mark.parametrize("corrupt", BAD_EMBEDDINGS, ids=[c.__name__ for c in BAD_EMBEDDINGS])
def test_embedding_errors(tiny_beir, corrupt):
    c = load_collection(tiny_beir)
    with np.load(tiny_beir / EMBEDDINGS_FILE) as z:
        changes, value = corrupt({k: z[k] for k in z.files})
    rewrite_npz(tiny_beir, **changes)
    with pytest.raises(DataError) as err:
        load_embeddings(tiny_beir / EMBEDDINGS_FILE, c)
    msg = str(err.value)
    assert "\n" not in msg and value in msg


def test_missing_embeddings_file(tiny_beir):
    with pytest.raises(DataError, match="missing file .*nope.npz"):
        load_embeddings(tiny_beir / "nope.npz", load_collection(tiny_beir))
