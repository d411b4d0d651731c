"""``simrank advise --empirical`` on the tiny generated collection: grouped folds and a held-out decide part,
successive halving that keeps the better half, the chosen set within the margin, the held-out check, the
report files, and every bad input through the CLI (one line, exit 2, nothing written)."""

from __future__ import annotations

import json
import math
import stat
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simrank.advise.empirical import EmpiricalConfig, advise_empirical, load_empirical, rung_plan
from simrank.errors import ConfigError
from simrank.real.data.beir import load_collection

from conftest import make_tiny_beir, run_advise

TINY = EmpiricalConfig(
    budget_minutes=5.0,
    samplers=("random", "bm25", "bm25@0.5"),
    losses=("kl", "lce"),
    group_sizes=(4,),
    pool_size=10,
    learning_rate=0.1,
    n_groups=32,
    batch_size=16,
    max_steps=40,
    n_resamples=200,
)
CLI_ARGS = ["--empirical", "--sampler", "random", "--sampler", "bm25", "--loss", "kl", "--group-size", "4"]
CLI_ARGS += ["--pool-size", "10", "--max-steps", "40"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_beir(tmp_path_factory.mktemp("empirical"))


@pytest.fixture(scope="module")
def run(tiny):
    data = load_empirical(tiny, TINY)
    return data, advise_empirical(data, TINY)


@given(st.integers(1, 200))
def test_rung_plan_halves_down_to_two(n):
    plan = rung_plan(n)
    assert plan[0] == n and plan[-1] <= 2
    assert all(b == math.ceil(a / 2) for a, b in zip(plan, plan[1:]))
    assert len(plan) == max(1, math.ceil(math.log2(n)))


def test_folds_are_grouped_and_the_decide_part_is_held_out(tiny, run):
    data, _ = run
    cv, decide = set(data.cv.query_ids), set(data.decide.query_ids)
    assert cv and decide and not cv & decide
    collection = load_collection(tiny, splits=("train", "test"))
    judged = {q for s in ("train", "test") for q in collection.qrels[s].query_id}
    assert cv | decide == judged  # every query with a relevant document, in exactly one part
    np.testing.assert_array_equal(data.pool.queries, data.cv.queries)  # pool rows are the cv queries, in order
    assert sorted(set(data.fold.tolist())) == list(range(TINY.folds))
    qrels = pd.concat([collection.qrels["train"], collection.qrels["test"]])
    part = {q: int(f) for q, f in zip(data.cv.query_ids, data.fold)} | {q: -1 for q in data.decide.query_ids}
    for _, rows in qrels[qrels.relevance > 0].groupby("doc_id").query_id:
        assert len({part[q] for q in rows}) == 1  # queries sharing a relevant document share a part


def test_halving_keeps_the_better_half_and_the_chosen_set_is_within_the_margin(run):
    _, advice = run
    rungs, entries = advice["rungs"], {e["candidate"]: e for e in advice["candidates"]}
    assert [len(r["candidates"]) for r in rungs] == rung_plan(len(TINY.candidates))
    for a, b in zip(rungs, rungs[1:]):
        assert b["steps"] == 2 * a["steps"]
        assert set(b["candidates"]) == set(a["candidates"][: len(b["candidates"])])
        assert a["cv_ndcg10"] == sorted(a["cv_ndcg10"], reverse=True)
    final = rungs[-1]
    best = final["cv_ndcg10"][0]
    assert advice["chosen"] == [n for n, v in zip(final["candidates"], final["cv_ndcg10"]) if best - v <= TINY.margin]
    for name, e in entries.items():
        assert e["cv_ndcg10"]["low"] <= e["cv_ndcg10"]["mean"] <= e["cv_ndcg10"]["high"]
        assert e["within_margin"] == (name in advice["chosen"])
        assert e["rung_reached"] == max(i for i, r in enumerate(rungs) if name in r["candidates"])
        assert e["diagnostics"]["delta_hat"] > 0 and 0 <= e["diagnostics"]["locality"] <= 1
    assert entries[final["candidates"][0]]["rank"] == 1
    assert entries[final["candidates"][0]]["cv_minus_best"]["mean"] == 0.0
    h = advice["held_out"]
    assert h["queries"] == len(run[0].decide.query_ids)
    assert h["best_ndcg10"] == max(e["decide_ndcg10"]["mean"] for e in entries.values())
    assert h["hit"] == (h["best_ndcg10"] - h["top_choice_ndcg10"] <= TINY.margin)


def test_budget_sizes_the_rungs(tiny):
    data = load_empirical(tiny, TINY)
    rungs = len(rung_plan(len(TINY.candidates)))
    small = advise_empirical(data, replace(TINY, max_steps=80))
    assert small["timing"]["s0"] == 80 // 2 ** (rungs - 1) and small["timing"]["capped"]
    assert [r["steps"] for r in small["rungs"]] == [20 * 2**i for i in range(rungs)]
    with pytest.raises(ConfigError, match="--max-steps 20 is not allowed"):
        advise_empirical(data, replace(TINY, max_steps=20))
    with pytest.raises(ConfigError, match="--budget 0.001 minutes is too small"):
        advise_empirical(data, replace(TINY, budget_minutes=0.001))


def test_cli_writes_advice_and_report(tiny, tmp_path, monkeypatch, capsys):
    out = tmp_path / "advice"
    code, text, err = run_advise(
        monkeypatch, capsys, *CLI_ARGS, "--budget", "5", "--data", str(tiny), "--out", str(out)
    )
    assert code == 0, err
    advice = json.loads((out / "advice.json").read_text())
    assert advice["settings"]["mode"] == "empirical" and len(advice["candidates"]) == 2
    assert "held-out: top choice" in text and "chosen (within 0.01" in text
    report = (out / "report.md").read_text()
    assert "## Successive halving" in report and "**Held-out check**" in report
    for name in ("advice.json", "report.md"):
        assert stat.S_IMODE((out / name).stat().st_mode) & 0o044 == 0o044  # readable by others


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "--empirical needs --budget MINUTES"),
        (["--budget", "0"], "--budget"),
        (["--budget", "0.001"], "is too small"),
        (["--budget", "5", "--sampler", "nope"], "--sampler 'nope' is not allowed"),
        (["--budget", "5", "--loss", "nope"], "--loss 'nope' is not allowed"),
        (["--budget", "5", "--folds", "1"], "--folds 1 is not allowed"),
        (["--budget", "5", "--pool-size", "30"], "--pool-size 30 is not allowed"),
        (["--budget", "5", "--negatives", "run.trec"], "--negatives 'run.trec' is not allowed with --empirical"),
    ],
)
def test_bad_input_is_one_line_exit_2(tiny, tmp_path, monkeypatch, capsys, args, message):
    out = tmp_path / "advice"
    code, _, err = run_advise(monkeypatch, capsys, *CLI_ARGS, *args, "--data", str(tiny), "--out", str(out))
    assert code == 2 and message in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert not out.exists()


def test_budget_without_empirical_is_refused(tiny, tmp_path, monkeypatch, capsys):
    code, _, err = run_advise(monkeypatch, capsys, "--budget", "5", "--data", str(tiny), "--out", str(tmp_path / "o"))
    assert code == 2 and "--budget needs --empirical" in err and err.count("\n") == 1, err
