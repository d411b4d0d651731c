from __future__ import annotations

import math
import os

import ir_measures
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simrank.real._util import atomic_write
from simrank.real.evaluate import (
    MEASURES,
    evaluate,
    evaluate_scores,
    run_from_scores,
    write_trec_qrels,
    write_trec_run,
)

QRELS = pd.DataFrame({"query_id": ["q1", "q1", "q2"], "doc_id": ["a", "c", "b"], "relevance": [1, 1, 1]})
DOCS = ["a", "b", "c", "d"]


def test_perfect_run_scores_one():
    run = pd.DataFrame({"query_id": ["q1", "q1", "q1", "q2"], "doc_id": ["c", "a", "d", "b"], "score": [3.0, 2, 1, 5]})
    ev = evaluate(run, QRELS)
    assert ev.mean == {m: 1.0 for m in MEASURES}
    assert list(ev.per_query.index) == ["q1", "q2"] and list(ev.per_query.columns) == list(MEASURES)


def test_small_run_matches_hand_computation():
    # q1 ranks b, a, c, d: relevant at ranks 2 and 3. q2 is missing from the run: all measures 0.
    scores = np.array([[3.0, 4.0, 2.0, 1.0]])
    ev = evaluate_scores(scores, ["q1"], DOCS, QRELS)
    ndcg = (1 / math.log2(3) + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    np.testing.assert_allclose(ev.per_query.loc["q1"].to_numpy(), [ndcg, 0.5, 1.0])
    np.testing.assert_allclose(ev.per_query.loc["q2"].to_numpy(), [0.0, 0.0, 0.0])
    assert ev.mean == pytest.approx({"nDCG@10": ndcg / 2, "RR@10": 0.25, "R@100": 0.5})


def test_rerank_mode_only_ranks_candidates():
    scores = np.array([[3.0, 4.0, 2.0, 1.0], [0.0, 1.0, 2.0, 3.0]])
    run = run_from_scores(scores, ["q1", "q2"], DOCS, depth=2, candidates=np.array([[0, 3, 2], [1, 0, 2]]))
    assert run.doc_id.tolist() == ["a", "c", "c", "b"]
    assert run.query_id.tolist() == ["q1", "q1", "q2", "q2"]
    assert run.score.tolist() == [3.0, 2.0, 2.0, 1.0]
    ev = evaluate_scores(scores, ["q1", "q2"], DOCS, QRELS, candidates=np.array([[0, 2], [0, 3]]))
    assert ev.mean["R@100"] == 0.5  # q2's relevant doc b is not a candidate


def test_trec_files_round_trip(tmp_path):
    run = pd.DataFrame(
        {"query_id": ["q2", "q1", "q1", "q1"], "doc_id": ["b", "d", "a", "c"], "score": [0.5, 1 / 3, 2.0, 2 / 3]}
    )
    write_trec_run(tmp_path / "run.txt", run, tag="bm25")
    lines = (tmp_path / "run.txt").read_text().splitlines()
    assert lines[0] == "q1 Q0 a 1 2.0 bm25" and lines[1].split()[:4] == ["q1", "Q0", "c", "2"]
    back = pd.DataFrame(ir_measures.read_trec_run(str(tmp_path / "run.txt")))
    merged = back.merge(run, on=["query_id", "doc_id"])
    assert len(merged) == len(run) and (merged.score_x == merged.score_y).all()

    write_trec_qrels(tmp_path / "qrels.txt", QRELS)
    assert (tmp_path / "qrels.txt").read_text().splitlines()[0] == "q1 0 a 1"
    back = pd.DataFrame(ir_measures.read_trec_qrels(str(tmp_path / "qrels.txt")))
    pd.testing.assert_frame_equal(back[["query_id", "doc_id", "relevance"]], QRELS, check_dtype=False)
    assert sorted(os.listdir(tmp_path)) == ["qrels.txt", "run.txt"]


def test_trec_writer_rejects_whitespace(tmp_path):
    run = pd.DataFrame({"query_id": ["q 1"], "doc_id": ["a"], "score": [1.0]})
    with pytest.raises(ValueError, match="query_id 'q 1'"):
        write_trec_run(tmp_path / "run.txt", run, tag="t")
    assert not list(tmp_path.iterdir())


@given(st.lists(st.text(max_size=4), min_size=1, max_size=6))
def test_trec_field_check_rejects_exactly_the_empty_and_whitespace_ids(ids):
    """The one-scan check raises iff some id is empty or holds a whitespace character, and names the first such id."""
    from simrank.real.evaluate import _check_fields

    bad = [v for v in ids if not v or any(c.isspace() for c in v)]
    if not bad:
        _check_fields(ids, "doc_id")
        return
    with pytest.raises(ValueError) as err:
        _check_fields(ids, "doc_id")
    assert str(err.value).startswith(f"doc_id {bad[0]!r} is empty")


def test_atomic_write_keeps_old_file_on_error(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(path) as f:
        f.write("new")
        raise RuntimeError
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["f.txt"]


def test_evaluate_equals_ir_measures_on_the_frames_themselves():
    """evaluate hands ir_measures nested dicts; its per-query values are ir_measures' on the DataFrames (random run
    with ties and graded judgments)."""
    rng = np.random.default_rng(4)
    queries, docs = [f"q{i}" for i in range(12)], [f"d{j}" for j in range(40)]
    qrels = pd.DataFrame(
        [(q, d, int(rng.integers(1, 3))) for q in queries for d in rng.choice(docs, 3, replace=False)],
        columns=["query_id", "doc_id", "relevance"],
    )
    run = run_from_scores(np.round(rng.normal(size=(12, 40)), 1), queries, docs, depth=20)
    ours = evaluate(run, qrels).per_query
    parsed = [ir_measures.parse_measure(m) for m in MEASURES]
    for m in ir_measures.iter_calc(parsed, qrels, run):
        assert ours.loc[m.query_id, str(m.measure)] == pytest.approx(m.value, abs=1e-12)
