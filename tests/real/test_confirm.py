"""``simrank real confirm`` end to end on the tiny generated collection, its bad-input errors through the CLI
entry point (one line on stderr, exit 2, nothing written), and a small run on SciFact when it is present."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simrank.cli import main
from simrank.real.confirm.design import load_real_config
from simrank.real.confirm.report import blocks, render_markdown
from simrank.real.confirm.run import run_confirm
from simrank.real.confirm.stats import agreement, learning_cells, load_run, query_tests, real_verdicts
from simrank.real.data.beir import EMBEDDINGS_FILE, default_data_dir

from conftest import rewrite_npz, write_qrels

TINY = Path(__file__).parent / "tiny-confirm.toml"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One tiny confirm run (tiny collection as training data and as its own zero-shot collection)."""
    from conftest import make_tiny_beir

    root = make_tiny_beir(tmp_path_factory.mktemp("data"))
    out = tmp_path_factory.mktemp("out")
    results, meta = run_confirm(root, out, load_real_config(TINY), eval_dirs=(root,))
    return root, out, results, meta


def test_tiny_confirm_writes_every_table(tiny_run):
    _, out, results, meta = tiny_run
    cfg = load_real_config(TINY)
    arms = {a.name: a for a in cfg.arms}
    assert set(arms) == {"lce", "kl", "lce_gold"} and arms["lce_gold"].label_source == "gold"
    assert len(results) == meta["n_models"] == len(arms) * 4 * 2 * 2  # arms × samplers × group sizes × seeds
    assert set(results.label_source) == {"teacher_top1", "gold"}
    assert (results[results.arm != "lce_gold"].label_source == "teacher_top1").all()
    # same information: the primary arms use one learning rate grid and the same training groups per cell
    tuning = pd.read_parquet(out / "tuning.parquet")
    assert len(tuning) == len(arms) * 4 * 1 * 2  # learning rates × steps × tuning seeds
    chosen = {(c["student"], c["arm"]): (c["learning_rate"], c["steps"]) for c in meta["chosen"]}
    for row in results.itertuples():
        assert (row.learning_rate, row.steps) == chosen[(row.student, row.arm)]
        assert len(row.curve) == 10 and len(row.ndcg10_q) == 4 and len(row.zs_tiny_ndcg10_q) == 4
    assert results.ndcg10.between(0, 1).all() and results.zs_tiny_ndcg10.between(0, 1).all()
    assert meta["queries"] == {"train": 2, "unlabeled": 2, "titles": 5, "validation": 2, "test": 4}
    assert meta["timings"]["max_ir_measures_discrepancy"] < 1e-5  # in-jit measures = ir_measures
    assert (out / "runs" / "full-lce-teacher-k4-rerank.trec").is_file()
    assert {"config", "seed", "simrank_version", "d_val", "d_test", "d_zs_tiny", "kappa"} <= set(results)
    assert json.loads(results.config.iloc[0])["label_source"] in ("teacher_top1", "gold")
    # the start of a bilinear residual student ranks as the dense retriever
    b = pd.read_parquet(out / "baselines.parquet")
    start = b[(b["set"] == "test") & (b.model == "start:full")].ndcg10_q.iloc[0]
    dense = b[(b["set"] == "test") & (b.model == "dense") & (b["mode"] == "full")].ndcg10_q.iloc[0]
    np.testing.assert_allclose(start, dense, atol=1e-6)
    # provenance, the memorisation split and the document prior
    assert meta["config_hash"] == cfg.hash and set(meta["data_checksums"]) == {str(root) for root in (tiny_run[0],)}
    assert len(meta["code_commit"]) >= 7
    flags = pd.read_parquet(out / "queries.parquet")
    assert flags.groupby("set").size().to_dict() == {"test": 4, "val": 2}
    prior = b[b.model == "dense+prior"]
    assert set(prior["set"]) == {"val", "test"} and prior.prior_c.nunique() == 1


@pytest.mark.slow
def test_same_seed_same_numbers(tiny_run, tmp_path):
    root, _, results, _ = tiny_run
    cfg = replace(load_real_config(TINY), students=("full",), losses=("kl",), supervised=False, seeds=1)
    again, _ = run_confirm(root, tmp_path, cfg)
    first = results[(results.arm == "kl") & (results.seed == 0)].reset_index(drop=True)
    np.testing.assert_allclose(again.ndcg10, first.ndcg10[: len(again)], rtol=0, atol=0)


def test_tiny_report(tiny_run):
    _, out, _, _ = tiny_run
    run = load_run(out)
    tests = query_tests(run, "full")
    assert {"movement", "vs teacher", "loss vs LCE (teacher labels)", "gold vs teacher labels"} <= set(tests.family)
    assert (tests.p_holm >= tests.p - 1e-12).all() and tests.p.between(0, 1).all()
    cells = learning_cells(run)
    assert set(cells.arm) == {"lce", "kl", "lce_gold"} and cells.learns.dtype == bool
    table = agreement(real_verdicts(run, "full"))
    assert list(table.prediction) == ["P4", "P5", "P8", "P10", "P11"]
    assert set(table.real) <= {"supported", "refuted", "inconclusive"}
    generated = blocks(out)
    report = render_markdown(out, generated=generated)
    assert "Agreement" in report and "tiny" in generated["real-zeroshot"] and "lce_gold" in generated["real-movement"]


def _cli(monkeypatch, capsys, *args) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["simrank", "real", "confirm", "--config", str(TINY), *args])
    with pytest.raises(SystemExit) as exc:
        main()
    return exc.value.code, capsys.readouterr().err


def _broken(root: Path, problem: str) -> tuple[list[str], str]:
    if problem == "no train qrels":
        (root / "qrels" / "train.tsv").unlink()
        return ["--data", str(root)], "no qrels/train.tsv"
    if problem == "no positive":
        write_qrels(root / "qrels" / "train.tsv", [("q0", "d0", 1), ("q1", "d3", 0)])
        return ["--data", str(root)], "no positive"
    if problem == "missing":
        return ["--data", str(root / "absent")], "(--data) does not exist; set it with --data DIR or the SIMRANK_DATA"
    if problem == "eval without judged queries":
        other = root.parent / "other"
        other.mkdir()
        for name in ("corpus.jsonl", "queries.jsonl", "queries-unlabeled.jsonl", EMBEDDINGS_FILE):
            (other / name).write_bytes((root / name).read_bytes())
        (other / "qrels").mkdir()
        write_qrels(other / "qrels" / "test.tsv", [("q4", "d12", 0)])
        return ["--data", str(root), "--eval-data", str(other)], "no judged query"
    if problem == "bad query source":
        return ["--data", str(root), "--queries", "train,web"], "queries.sources"
    with np.load(root / EMBEDDINGS_FILE) as z:
        doc_emb, doc_ids = z["doc_emb"].copy(), z["doc_ids"].copy()
    if problem == "nan":
        doc_emb[3, 0] = np.nan
        rewrite_npz(root, doc_emb=doc_emb)
        return ["--data", str(root)], "NaN/inf"
    doc_ids[0] = "not-a-doc"
    rewrite_npz(root, doc_ids=doc_ids)
    return ["--data", str(root)], "do not match"


@pytest.mark.parametrize(
    "problem",
    [
        "no train qrels",
        "no positive",
        "missing",
        "nan",
        "mismatched ids",
        "eval without judged queries",
        "bad query source",
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tiny_beir, tmp_path, monkeypatch, capsys, problem):
    args, message = _broken(tiny_beir, problem)
    out = tmp_path / "o"
    code, err = _cli(monkeypatch, capsys, *args, "--out", str(out), "--quick")
    assert code == 2 and err.startswith("error: ") and message in err, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


def test_bad_seeds_is_one_line_exit_2(tiny_beir, tmp_path, monkeypatch, capsys):
    code, err = _cli(monkeypatch, capsys, "--data", str(tiny_beir), "--out", str(tmp_path / "o"), "--seeds", "0")
    assert code == 2 and "--seeds" in err and err.count("\n") == 1


def test_config_errors_are_one_line(tmp_path):
    from simrank.errors import ConfigError

    bad = tmp_path / "bad.toml"
    for text, message in [
        ('[grid]\nlosses = ["lce", "hinge"]\n', "grid.losses"),
        ("[grid]\nbogus = 1\n", "unknown config key 'grid.bogus'"),
        ('[labels]\nprimary = "gold"\n', "labels.primary"),
        ("[tune]\nlearning_rates = { full = [0.0] }\n", "tune.learning_rates.full"),
        ("[colour]\nx = 1\n", "unknown config key 'colour'"),
    ]:
        bad.write_text(text)
        with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
            load_real_config(bad)


def test_default_and_quick_configs_load():
    default, quick = load_real_config(), load_real_config(quick=True)
    assert default.students == ("full", "diag") and quick.students == ("full",)
    assert (
        quick.seeds < default.seeds
        and quick.n_titles < default.n_titles
        and max(quick.tune_steps) < max(default.tune_steps)
    )
    assert {a.label_source for a in default.arms} == {"teacher_top1", "gold"}


SCIFACT = default_data_dir()


@pytest.mark.slow
@pytest.mark.skipif(
    not (SCIFACT / EMBEDDINGS_FILE).is_file(),
    reason=f"SciFact with embeddings not found at {SCIFACT}; set SIMRANK_DATA to run this check",
)
def test_small_confirm_on_scifact(tmp_path):
    cfg = replace(
        load_real_config(quick=True),
        losses=("lce", "kl"),
        samplers=("random", "bm25"),
        group_sizes=(4,),
        tune_steps=(50,),
        tune_group_size=4,
    )
    results, meta = run_confirm(SCIFACT, tmp_path, cfg)
    baselines = pd.read_parquet(tmp_path / "baselines.parquet")
    test = baselines[(baselines["set"] == "test") & (baselines["mode"] == "full")].set_index("model")["nDCG@10"]
    # the README's reference values: dense 0.645, hybrid teacher 0.708 (ir_measures, full ranking)
    assert test["dense"] == pytest.approx(0.645, abs=5e-4) and test["teacher"] == pytest.approx(0.708, abs=5e-4)
    assert meta["timings"]["max_ir_measures_discrepancy"] < 1e-5
    assert results.ndcg10.between(0.5, 0.8).all()


def test_exclude_positive_and_positive_pairs_from_the_real_config(tiny_beir, tmp_path):
    """``sampler.exclude_positive`` keeps the positive out of every top-M pool (the teacher's pool draws it as a
    negative without it: teacher top-1 positives); ``loss.pairs`` reaches the pairwise losses only."""
    import jax.numpy as jnp

    from simrank.losses import kl_distill, ranknet_soft
    from simrank.real.confirm.inputs import prepare
    from simrank.real.confirm.training import _draw

    cfg_file = tmp_path / "c.toml"
    text = TINY.read_text().replace("pool_size = 10\n", "pool_size = 10\nexclude_positive = true\n")
    cfg_file.write_text(text + '[loss]\npairs = "positive"\n')
    on, off = load_real_config(cfg_file), load_real_config(TINY)
    assert on.sampler("teacher")["exclude_positive"] and "exclude_positive" not in on.sampler("random")
    assert off.exclude_positive is False and off.pairs == "all" and off.loss_fn("ranknet_soft") is ranknet_soft
    f, g = jnp.array([1.0, 0.0, 0.5]), jnp.array([2.0, 1.0, -1.0])
    assert float(on.loss_fn("ranknet_soft")(f, g)) == float(ranknet_soft(f, g, pairs="positive"))
    assert on.loss_fn("kl") is kl_distill
    pool = prepare(tiny_beir, off).pools["teacher"]
    for cfg, expect_positive in ((off, True), (on, False)):
        groups, _ = _draw(pool, cfg, "teacher", 4, [0, 4, 2])
        negative_is_positive = (groups.doc_id[:, 1:4] == groups.doc_id[:, :1]).any()
        assert bool(negative_is_positive) == expect_positive


def test_tiny_redraw_writes_the_per_query_table_and_a_readable_figure(tiny_run):
    """``redraw`` writes per_query.parquet with one row per model × evaluation query, the BEIR query ids of
    queries.parquet (test, validation) and of the zero-shot collection's qrels, and per-model means equal to the
    results table's ``ndcg10`` / ``val_ndcg10`` / ``zs_tiny_ndcg10``; the figure is a
    grid (no side longer than 12 in at 150 dpi) with one panel per student × arm."""
    from PIL import Image

    from simrank.real.confirm.report import PER_QUERY_KEYS, redraw, summary_table
    from simrank.real.data.beir import load_collection

    root, out, results, _ = tiny_run
    redraw(out)
    table = pd.read_parquet(out / "per_query.parquet")
    queries = pd.read_parquet(out / "queries.parquet")
    qrels = load_collection(root, splits=("test",)).qrels["test"]
    zero_shot = sorted(set(qrels.query_id[qrels.relevance > 0]))  # the collection's judged test queries
    assert set(table["set"]) == {"test", "val", "zs_tiny"}
    for name, column in (("test", "ndcg10"), ("val", "val_ndcg10"), ("zs_tiny", "zs_tiny_ndcg10")):
        part = table[table["set"] == name]
        ids = queries.loc[queries["set"] == name, "query_id"] if name != "zs_tiny" else pd.Series(zero_shot)
        assert len(part) == len(results) * len(ids) and set(part.query_id) == set(ids)
        assert not part.duplicated([*PER_QUERY_KEYS, "query_id"]).any()
        means = part.groupby(PER_QUERY_KEYS, sort=False)["nDCG@10"].mean()
        np.testing.assert_allclose(means.loc[results.set_index(PER_QUERY_KEYS).index], results[column], atol=1e-6)
    # the tiny collection is its own zero-shot collection: one model gives a query the same nDCG@10 in both sets,
    # so the ids are attached to the right values, not only the right set of ids
    by_query = table.set_index([*PER_QUERY_KEYS, "query_id"])
    test, zs = by_query[by_query["set"] == "test"], by_query[by_query["set"] == "zs_tiny"]
    np.testing.assert_allclose(zs.loc[test.index, "nDCG@10"], test["nDCG@10"], atol=1e-6)
    width, height = Image.open(out / "figure.png").size
    assert max(width, height) <= 12 * 150
    assert {"nDCG@10_mean", "nDCG@10_low", "nDCG@10_high"} <= set(summary_table(results).columns)


def test_per_query_table_refuses_ids_that_do_not_match(tiny_run):
    """Negative control: a queries table with one test id missing is refused in one line naming the column."""
    from simrank.real.confirm.report import per_query_table

    _, out, results, _ = tiny_run
    queries = pd.read_parquet(out / "queries.parquet")
    short = queries.drop(queries.index[queries["set"] == "test"][:1])
    with pytest.raises(ValueError, match="ndcg10_q"):
        per_query_table(results, short)


def test_the_confirm_command_writes_the_per_query_table_beside_its_results(tiny_beir, tmp_path, monkeypatch):
    """``simrank real confirm`` itself (not only ``simrank real report``) leaves per_query.parquet next to
    results.parquet, with the test and zero-shot query ids, and keeps its programs in the persistent compilation
    cache ($XDG_CACHE_HOME/simrank/jax)."""
    from simrank.runner import COMPILE_CACHE_ENV, use_compile_cache

    out = tmp_path / "out"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(COMPILE_CACHE_ENV, raising=False)
    monkeypatch.setattr(
        sys,
        "argv",
        ["simrank", "real", "confirm", "--config", str(TINY), "--data", str(tiny_beir), "--eval-data", str(tiny_beir)]
        + ["--out", str(out)],
    )
    try:
        with pytest.raises(SystemExit) as exc:
            main()
    finally:
        use_compile_cache(False)  # the rest of the session compiles as before, into no folder
    assert exc.value.code == 0
    assert any(files for _, _, files in os.walk(tmp_path / "cache" / "simrank" / "jax"))
    table = pd.read_parquet(out / "per_query.parquet")
    results = pd.read_parquet(out / "results.parquet")
    assert set(table["set"]) == {"test", "val", f"zs_{tiny_beir.name}"}
    assert len(table[table["set"] == "test"]) == len(results) * len(results.ndcg10_q.iloc[0])
