"""The semi-synthetic arm (simrank.real.semisynthetic) and the grouped query split (simrank.real.splits)."""

from __future__ import annotations

import sys
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simrank.cli import main
from simrank.errors import ConfigError
from simrank.measures import listwise_entropy, temperature_for_entropy
from simrank.paths import PAPER_DIR, PROJECT_ROOT
from simrank.predictions.base import OUTCOMES
from simrank.predictions.paper import render
from simrank.real._util import top_k
from simrank.real.data.beir import EMBEDDINGS_FILE
from simrank.real.semisynthetic import (
    SECTIONS,
    agreement_at,
    gap_shares,
    load_semi_config,
    render_semi,
    run_semi,
    semi_blocks,
    semi_verdicts,
    share_outcome,
    teacher_labels,
    teacher_map,
)
from simrank.real.splits import grouped_query_split, query_components

TINY = Path(__file__).with_name("tiny-semi.toml")
RESULTS = PROJECT_ROOT / "results" / "real-semi"
PARTS = {"train": 0.6, "tune": 0.2, "decide": 0.2}


@st.composite
def qrels_frames(draw) -> pd.DataFrame:
    n_q, n_d = draw(st.integers(3, 30)), draw(st.integers(1, 40))
    pairs = draw(st.lists(st.tuples(st.integers(0, n_q - 1), st.integers(0, n_d - 1), st.integers(0, 2)), min_size=1))
    return pd.DataFrame(
        {
            "query_id": [f"q{q}" for q, _, _ in pairs],
            "doc_id": [f"d{d}" for _, d, _ in pairs],
            "relevance": [r for *_, r in pairs],
        }
    )


@given(qrels=qrels_frames(), seed=st.integers(0, 2**16))
@settings(max_examples=60, deadline=None)
def test_grouped_split_is_a_partition_that_never_shares_a_relevant_document(qrels, seed):
    parts = grouped_query_split(qrels, PARTS, seed)
    positive = qrels[qrels.relevance > 0]
    assigned = [q for ids in parts.values() for q in ids]
    assert sorted(assigned) == sorted(set(positive.query_id))  # every query with a positive, exactly once
    part_of = {q: name for name, ids in parts.items() for q in ids}
    for _, queries in positive.groupby("doc_id").query_id:
        assert len({part_of[q] for q in queries}) == 1
    # the greedy fill overshoots a target by at most one component, so it undershoots by at most two
    biggest, n = max((len(c) for c in query_components(qrels)), default=0), len(assigned)
    for name, ids in parts.items():
        assert len(ids) - PARTS[name] * n <= biggest + 1e-9
        assert PARTS[name] * n - len(ids) <= 2 * biggest + 1e-9


def test_grouped_split_rejects_bad_fractions_in_one_line():
    qrels = pd.DataFrame({"query_id": ["a"], "doc_id": ["x"], "relevance": [1]})
    with pytest.raises(ConfigError, match="split fractions"):
        grouped_query_split(qrels, {"train": 0.5, "tune": 0.4}, 0)


@given(seed=st.integers(0, 2**16), c=st.floats(0.1, 4.0))
@settings(max_examples=25, deadline=None)
def test_teacher_map_scales_the_correction_to_c_times_the_dense_spread(seed, c):
    rng = np.random.default_rng(seed)
    q, x, pool, docs = (rng.standard_normal((n, 6)) for n in (9, 9, 12, 20))
    m = teacher_map(q, x, pool, docs, c)
    dense = (pool @ docs.T).std(axis=1).mean()
    correction = (pool @ (m - np.eye(6)) @ docs.T).std(axis=1).mean()
    assert correction == pytest.approx(c * dense, rel=1e-9)
    assert np.allclose((m - np.eye(6)) / np.linalg.norm(m - np.eye(6)), (q.T @ x) / np.linalg.norm(q.T @ x))


@given(seed=st.integers(0, 2**16))
@settings(max_examples=25, deadline=None)
def test_agreement_is_the_top10_overlap_and_one_for_the_teacher_itself(seed):
    rng = np.random.default_rng(seed)
    g, f = rng.standard_normal((4, 30)), rng.standard_normal((4, 30))
    labels = teacher_labels(g)
    assert (labels.sum(axis=1) == 10).all()
    assert np.allclose(agreement_at(top_k(g, 12)[0], labels), 1.0)
    got = agreement_at(top_k(f, 10)[0], labels)
    want = [len(set(top_k(f, 10)[0][i]) & set(top_k(g, 10)[0][i])) / 10 for i in range(4)]
    assert np.allclose(got, want)


@given(seed=st.integers(0, 2**16), tau=st.floats(0.05, 20.0))
@settings(max_examples=20, deadline=None)
def test_listwise_temperature_for_entropy_recovers_tau(seed, tau):
    g = np.random.default_rng(seed).standard_normal((16, 8)) * 3
    target = float(np.mean(listwise_entropy(jnp.asarray(g), tau)))
    assert temperature_for_entropy(g, target, kind="listwise") == pytest.approx(tau, rel=1e-4)
    with pytest.raises(ValueError, match="kind = 'both'"):
        temperature_for_entropy(g, target, kind="both")


def test_share_outcome_follows_the_registered_rule():
    assert share_outcome(0.5, 0.9, 0.5) == "met"
    assert share_outcome(0.1, 0.49, 0.5) == "not met"
    assert share_outcome(0.49, 0.51, 0.5) == "inconclusive"


def test_the_registered_config_loads_and_bad_semi_keys_are_one_line(tmp_path):
    cfg = load_semi_config()
    assert cfg.gammas == (0.0, 0.5, 1.0) and cfg.real.losses == ("lce", "kl") and cfg.real.exclude_positive
    bad = tmp_path / "bad.toml"
    for text, message in [("[semi]\ncolour = 1\n", "semi.colour"), ("[semi]\ngammas = [1.5]\n", "semi.gammas")]:
        bad.write_text(text)
        with pytest.raises(ConfigError, match=message):
            load_semi_config(bad)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One semi run on the tiny BEIR collection of conftest (2 γ × 2 seeds × 2 losses × 6 cells)."""
    from conftest import make_tiny_beir

    tmp = tmp_path_factory.mktemp("semi")
    root = make_tiny_beir(tmp)
    results, meta = run_semi(root, tmp / "out", load_semi_config(TINY))
    return root, tmp / "out", results, meta


def test_tiny_run_writes_every_model_and_measures_the_start_as_the_dense_retriever(tiny_run):
    root, out, results, meta = tiny_run
    assert len(results) == 2 * 2 * 2 * 6 == meta["n_models"]
    splits = pd.read_parquet(out / "splits.parquet")
    assert sorted(splits.split.unique()) == ["decide", "train", "tune"]
    n_decide = (splits.split == "decide").sum()
    assert all(len(v) == n_decide for v in results.agree_q)
    for name in ("agree", "ndcg", "gold"):
        assert results[name].between(0, 1).all()
    baselines = pd.read_parquet(out / "baselines.parquet")
    teacher = baselines[baselines.model == "teacher"]
    assert all(np.allclose(v, 1.0) for v in teacher.agree_q)
    # the start (α qᵀx, h = 0) ranks as the dense retriever: its agreement recomputed from the raw vectors
    from simrank.real.semisynthetic import _load, _sets

    cfg = load_semi_config(TINY)
    data = _load(root, cfg, EMBEDDINGS_FILE)
    for gamma in cfg.gammas:
        sets, _ = _sets(data, gamma)
        dense_top = top_k(data.eval_vectors["decide"] @ data.docs.T, 10)[0]
        start = baselines[(baselines.gamma == gamma) & (baselines.model == "start")].iloc[0]
        assert np.allclose(start.agree_q, agreement_at(dense_top, sets["decide"]["grades"]))


def test_tiny_run_decides_with_the_synthetic_rules_and_renders(tiny_run):
    _, out, results, meta = tiny_run
    baselines = pd.read_parquet(out / "baselines.parquet")
    verdicts = semi_verdicts(results, baselines, meta["config"]["real"])
    assert set(verdicts) == {0.0, 1.0}
    assert all(set(v) == {"P4", "P5", "P10", "P11"} for v in verdicts.values())
    assert all(r.outcome in OUTCOMES for v in verdicts.values() for r in v.values())
    shares = gap_shares(results, baselines, meta["config"]["real"], 4)
    assert len(shares) == 2 * 2 * 3 and (shares.share_low <= shares.share_high + 1e-12).all()
    text = render_semi(out)
    assert all(f"<!-- BEGIN generated:{name} -->" in text for name, _ in SECTIONS)


def _cli(monkeypatch, capsys, *args) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["simrank", "real", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    return exc.value.code, capsys.readouterr().err


def test_semi_bad_input_is_one_line_exit_2(tmp_path, monkeypatch, capsys):
    for args, message in [
        (["semi", "--config", str(tmp_path / "absent.toml"), "--data", str(tmp_path)], "absent.toml"),
        (["semi-report", "--out", str(tmp_path)], "no results.parquet"),
    ]:
        code, err = _cli(monkeypatch, capsys, *args)
        assert code == 2 and err.startswith("error: ") and message in err and err.count("\n") == 1, err


def test_committed_real_semi_paper_blocks_match_the_committed_results():
    text = (PAPER_DIR / "real-semi.md").read_text()
    generated = semi_blocks(RESULTS)
    assert all(f"<!-- BEGIN generated:{name} -->" in text for name in generated)
    assert render(text, generated) == text, (
        "paper/real-semi.md is stale: run `simrank real semi-report --out results/real-semi --paper paper/real-semi.md`"
    )
