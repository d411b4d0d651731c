"""The data mode's prediction (``simrank advise --data DIR --negatives …``): the empirical world it predicts in, the
principal coordinates of its student, the ranking with the certificate beside it, and its agreement with the
``--empirical`` mode's trained outcome."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simrank.advise.analysis import AdviceConfig, advise, load_inputs
from simrank.advise.prediction import (
    PredictionConfig,
    empirical_agreement,
    empirical_world,
    predict_data,
    principal_projection,
)
from simrank.samplers import Uniform
from simrank.teacher import Teacher
from simrank.theory.monte_carlo import EmpiricalWorld, iid_groups
from simrank.world import WorldConfig

from conftest import run_advise

TINY = AdviceConfig(taus=(0.3, 1.0), etas=(0.0, 0.5), group_size=4, pool_size=10)
FAST = PredictionConfig(loss="kl", rank=4, population=500)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(3, 12), d=st.integers(2, 6), data=st.data())
def test_principal_projection_keeps_the_most_energy(n, d, data):
    """``P`` is orthonormal and keeps at least the energy ``‖X Pᵀ‖²`` of any other ``r`` orthonormal directions (here:
    random ones and the coordinate axes); a matrix of rank ``r`` is kept exactly."""
    seed = data.draw(st.integers(0, 2**16))
    r = data.draw(st.integers(1, d))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    P = principal_projection(X, r)
    np.testing.assert_allclose(P @ P.T, np.eye(r), atol=1e-10)
    kept = np.sum((X @ P.T) ** 2)
    other = np.linalg.qr(rng.standard_normal((d, r)))[0].T
    assert kept >= np.sum((X @ other.T) ** 2) - 1e-9
    assert kept >= np.sum(X[:, :r] ** 2) - 1e-9
    low = rng.standard_normal((n, r)) @ rng.standard_normal((r, d))
    Q = principal_projection(low, r)
    np.testing.assert_allclose(low @ Q.T @ Q, low, atol=1e-8)


def test_empirical_world_resamples_its_queries_uniformly(tiny_beir):
    """Every drawn query is one of the pool's rows, each row drawn with share 1/4 within 4 binomial standard errors
    (n = 20,000 draws, fixed seed); the teacher scores and proxies travel with the row."""
    inp = load_inputs(tiny_beir, ["bm25"], config=TINY)
    world = empirical_world(inp.qs, principal_projection(inp.qs.docs, 4))
    pool, n = world.pool, 20_000
    qs = world.query_set(n, np.random.default_rng(0))
    rows = [int(np.argmin(np.abs(pool.queries - q).sum(1))) for q in qs.queries]
    np.testing.assert_array_equal(qs.queries, pool.queries[rows])
    np.testing.assert_array_equal(qs.teacher_scores, pool.teacher_scores[rows])
    np.testing.assert_array_equal(qs.proxies["bm25"], pool.proxies["bm25"][rows])
    share = np.bincount(rows, minlength=pool.n_queries) / n
    p = 1 / pool.n_queries
    assert np.all(np.abs(share - p) <= 4 * math.sqrt(p * (1 - p) / n)), share
    # the positive is the teacher's top document; queries and documents are in the r = 4 coordinates
    assert np.array_equal(pool.positive_probs.argmax(1), inp.qs.teacher_scores.argmax(1))
    assert pool.docs.shape == (inp.qs.n_docs, 4) and pool.queries.shape == (inp.qs.n_queries, 4)


def test_iid_groups_refuses_a_mismatched_teacher(tiny_beir):
    inp = load_inputs(tiny_beir, ["bm25"], config=TINY)
    empirical = empirical_world(inp.qs, principal_projection(inp.qs.docs, 4))
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="teacher=None"):
        iid_groups(empirical, Teacher(), Uniform(), 4, 3, rng)
    with pytest.raises(ValueError, match="needs its teacher"):
        iid_groups(WorldConfig(n_docs=20, dim=3).generate(), None, Uniform(), 4, 3, rng)
    groups = iid_groups(empirical, None, Uniform(), 6, 3, rng)
    assert groups.docs.shape == (6, 3, 4)


def test_prediction_ranks_candidates_with_the_certificate_beside(tiny_beir):
    """Ranks follow the predicted excess; uniform negatives (random) at η = 0 and 0.5 are the same law (identical
    prediction) and, being the uniform target law itself, have no bias, so every other candidate's bias is at least
    theirs; each candidate carries its source's certificate at its η, vacuous exactly when F ≥ A_μ(f₀) or ∞."""
    inp = load_inputs(tiny_beir, ["random", "bm25", "dense"], config=TINY)
    advice = advise(inp, TINY)
    prediction = predict_data(inp, advice, TINY, FAST)
    cands = prediction["candidates"]
    assert [c["rank"] for c in cands] == list(range(1, 7))
    assert [c["predicted_excess"] for c in cands] == sorted(c["predicted_excess"] for c in cands)
    by = {(c["source"], c["eta"]): c for c in cands}
    assert set(by) == {(s, e) for s in ("random", "bm25", "dense") for e in (0.0, 0.5)}
    assert by[("random", 0.0)]["predicted_excess"] == by[("random", 0.5)]["predicted_excess"]
    assert by[("random", 0.0)]["bias"] == 0.0
    assert all(c["bias"] >= 0.0 for c in cands)
    assert by[("bm25", 0.0)]["bias"] > 0.0  # top-10 pools miss two thirds of the uniform target's documents
    n = prediction["settings"]["n_train"]
    for c in cands:
        assert c["predicted_excess"] == pytest.approx(c["bias"] + (c["variance"] + c["drift"]) / n, rel=1e-12)
    entries = {e["source"]: e for e in advice["sources"]}
    for c in cands:
        bound = entries[c["source"]]["bound_by_eta"][str(c["eta"])]
        assert c["guarantee"] == bound
        assert c["vacuous"] == (bound is None or bound >= entries[c["source"]]["t3"]["risk_mu"])


def test_teacher_run_without_every_document_gives_no_prediction(tiny_beir):
    """The target law is over the whole corpus: teacher scores with holes make the prediction unavailable (a reason
    in the output), never a NaN ranking."""
    inp = load_inputs(tiny_beir, ["random"], config=TINY)
    inp.qs.teacher_scores[0, 3] = np.nan
    prediction = predict_data(inp, {"sources": []}, TINY, FAST)
    assert "unavailable" in prediction and "needs every document's score" in prediction["unavailable"]


def test_data_mode_report_and_cli(tiny_beir, tmp_path, monkeypatch, capsys):
    """The CLI prints the ranked prediction with the guarantee column and the prediction's recommendation; the
    report has the prediction first and no recommendation from a vacuous guarantee."""
    out = tmp_path / "advice"
    args = ["--data", str(tiny_beir), "--negatives", "random", "--negatives", "bm25", "--group-size", "4",
            "--pool-size", "10", "--tau", "1", "--eta", "0", "--eta", "0.5", "--rank", "4", "--population", "500"]  # fmt: skip
    code, text, err = run_advise(monkeypatch, capsys, *args, "--out", str(out))
    assert code == 0, err
    advice = json.loads((out / "advice.json").read_text())
    top = advice["prediction"]["candidates"][0]
    assert "guarantee on the μ-risk" in text and f"predicted: {top['source']} with η = {top['eta']:g}" in text
    report = (out / "report.md").read_text()
    assert report.index("## Prediction") < report.index("## Sources") < report.index("## Guarantee on the μ-risk")
    assert "| guarantee on the μ-risk | vacuous |" in report
    assert f"**The prediction recommends {top['source']} with η = {top['eta']:g}**" in report
    vacuous = advice["recommendations"][0]["vacuous"]
    assert ("**No recommendation from the guarantee**" in report) == vacuous
    assert ("The guarantee is lowest for" in report) == (not vacuous)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--loss", "kl", "--loss", "lce"], "the data mode takes one --loss"),
        (["--loss", "ranknet_hard"], "--loss 'ranknet_hard' is not allowed in the data mode"),
        (["--rank", "0"], "--rank 0 is not allowed"),
        (["--rank", "17"], "--rank 17 is not allowed; it must be <= the embedding dimension 16"),
        (["--label-tau", "0"], "--label-tau"),
        (["--target-law", "top3"], "--target-law 'top3' is not allowed"),
    ],
)
def test_bad_prediction_options_are_one_line_exit_2(tiny_beir, tmp_path, monkeypatch, capsys, args, message):
    out = tmp_path / "advice"
    code, _, err = run_advise(monkeypatch, capsys, "--data", str(tiny_beir), "--negatives", "random", "--group-size", "4",
                        "--tau", "1", "--eta", "0", *args, "--out", str(out))  # fmt: skip
    assert code == 2 and message in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert not out.exists()


def test_empirical_agreement_matches_candidates_by_name():
    """Only the loss's shared candidates count, ranked among themselves; a reversed order gives ρ = −1."""
    pred = {
        "settings": {"loss": "lce"},
        "candidates": [
            {"source": "random", "eta": 0.0, "predicted_excess": 0.1},
            {"source": "bm25", "eta": 0.5, "predicted_excess": 0.2},
            {"source": "bm25", "eta": 0.0, "predicted_excess": 0.3},
            {"source": "teacher", "eta": 0.5, "predicted_excess": 0.05},  # not trained by the empirical mode
        ],
    }
    emp = {
        "candidates": [
            {"sampler": "random", "loss": "lce", "decide_ndcg10": {"mean": 0.60}},
            {"sampler": "bm25@0.5", "loss": "lce", "decide_ndcg10": {"mean": 0.65}},
            {"sampler": "bm25", "loss": "lce", "decide_ndcg10": {"mean": 0.70}},
            {"sampler": "bm25", "loss": "kl", "decide_ndcg10": {"mean": 0.10}},
        ]
    }
    agree = empirical_agreement(pred, emp)
    assert agree["n"] == 3 and agree["spearman"] == -1.0
    assert [(r["candidate"], r["rank"], r["ndcg10"]) for r in agree["table"]] == [
        ("random", 1, 0.60),
        ("bm25@0.5", 2, 0.65),
        ("bm25", 3, 0.70),
    ]


def test_empirical_world_is_exported():
    from simrank import theory

    assert theory.EmpiricalWorld is EmpiricalWorld


def test_builtin_teacher_source_is_the_teachers_top_m(tiny_beir, tmp_path):
    """``--negatives teacher``: uniform over each query's 10 highest teacher scores; with a ``--teacher`` run it is
    refused (the run itself is the source to pass)."""
    from simrank.groups import sampling_distribution
    from simrank.real.data.beir import DataError

    inp = load_inputs(tiny_beir, ["teacher"], config=TINY)
    qs = inp.qs
    rows = np.arange(qs.n_queries)
    nu = sampling_distribution(qs, inp.sources["teacher"], rows, qs.positive_probs.argmax(1))
    top = np.argsort(-qs.teacher_scores, axis=1)[:, :10]
    expected = np.zeros_like(nu)
    np.put_along_axis(expected, top, 0.1, axis=1)
    np.testing.assert_allclose(nu, expected)
    run = tmp_path / "teacher.trec"
    run.write_text("".join(f"q{j} Q0 d{d} {d + 1} {-float(d)} t\n" for j in range(4) for d in range(30)))
    with pytest.raises(DataError, match="--negatives teacher is the built-in teacher's top-M"):
        load_inputs(tiny_beir, ["teacher"], teacher=run, config=TINY)
