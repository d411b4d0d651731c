"""``simrank real confirm`` end to end on the tiny generated collection, its bad-input errors through
the CLI entry point (one line on stderr, exit 2), and a small run on SciFact when it is present."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from conftest import rewrite_npz, write_qrels

from simrank.cli import main
from simrank.real.beir import EMBEDDINGS_FILE, default_data_dir
from simrank.real.confirm import Grid, run_confirm
from simrank.real.report import confirm_figure, render_markdown, summary_table, verdicts

TINY = Grid(
    losses=("lce", "kl"),
    samplers=("random", "bm25", "teacher+filter"),
    group_sizes=(4,),
    seeds=2,
    pool_size=10,
    n_groups=32,
    steps=20,
    batch_size=16,
)


def test_tiny_confirm_end_to_end(tiny_beir, tmp_path):
    out = tmp_path / "out"
    results, kappas, meta = run_confirm(tiny_beir, out, TINY, eval_dirs=(tiny_beir,))
    assert results.zs_tiny_ndcg10.between(0, 1).all() and results.zs_tiny_ndcg10_rerank.between(0, 1).all()
    assert len(results) == 2 * 3 * 2 == meta["n_models"]
    assert {"config", "seed", "simrank_version", "ndcg10", "ndcg10_rerank", "kl_corpus", "kappa"} <= set(results)
    assert pd.read_parquet(out / "results.parquet").shape == results.shape
    # the in-jit measures equal ir_measures on the written runs (both pytrec_eval formulas, binary qrels)
    assert meta["timings"]["max_ir_measures_discrepancy"] < 1e-5
    assert (out / "runs" / "diag-lce-bm25-k4-rerank.trec").is_file()
    assert results.ndcg10.between(0, 1).all() and (results.kl_corpus >= 0).all()
    assert (results[results.sampler == "random"].kappa == 1.0).all()
    assert np.isinf(results[results.sampler == "bm25"].kappa).all()  # top-M misses most of the corpus
    np.testing.assert_array_less(kappas[kappas.eta > 0].kappa, 1 / TINY.eta + 1e-9)
    table = summary_table(results)
    assert len(table) == 6 and (table.n == 2).all() and table.group.notna().all()
    assert [v["prediction"] for v in verdicts(results, kappas)] == ["P4", "P5", "P8", "P10", "P11"]
    paths = confirm_figure(results, pd.read_parquet(out / "baselines.parquet"), out / "figure")
    assert all(p.is_file() for p in paths)
    report = render_markdown(out)
    assert "**P4**" in report and "| kl | random |" in report.replace("| 4 | kl | random |", "| kl | random |")


def _cli(monkeypatch, capsys, *args) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["simrank", "real", "confirm", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    return exc.value.code, capsys.readouterr().err


def _broken(tiny_beir, problem: str):
    if problem == "no positive":
        write_qrels(tiny_beir / "qrels" / "train.tsv", [("q0", "d0", 1), ("q1", "d3", 0)])
        return tiny_beir, "no positive"
    if problem == "missing":
        return tiny_beir / "absent", "missing file"
    with np.load(tiny_beir / EMBEDDINGS_FILE) as z:
        doc_emb, doc_ids = z["doc_emb"].copy(), z["doc_ids"].copy()
    if problem == "nan":
        doc_emb[3, 0] = np.nan
        rewrite_npz(tiny_beir, doc_emb=doc_emb)
        return tiny_beir, "NaN/inf"
    doc_ids[0] = "not-a-doc"
    rewrite_npz(tiny_beir, doc_ids=doc_ids)
    return tiny_beir, "do not match"


@pytest.mark.parametrize("problem", ["no positive", "missing", "nan", "mismatched ids"])
def test_bad_input_is_one_line_exit_2(tiny_beir, tmp_path, monkeypatch, capsys, problem):
    data, message = _broken(tiny_beir, problem)
    code, err = _cli(monkeypatch, capsys, "--data", str(data), "--out", str(tmp_path / "o"), "--quick")
    assert code == 2 and err.startswith("error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_bad_seeds_is_one_line_exit_2(tiny_beir, tmp_path, monkeypatch, capsys):
    code, err = _cli(monkeypatch, capsys, "--data", str(tiny_beir), "--out", str(tmp_path / "o"), "--seeds", "0")
    assert code == 2 and "--seeds" in err and err.count("\n") == 1


SCIFACT = default_data_dir()


@pytest.mark.slow
@pytest.mark.skipif(
    not (SCIFACT / EMBEDDINGS_FILE).is_file(),
    reason=f"SciFact with embeddings not found at {SCIFACT}; set SIMRANK_DATA to run this check",
)
def test_small_confirm_on_scifact(tmp_path):
    grid = Grid(losses=("lce", "kl"), samplers=("random", "bm25"), group_sizes=(4,), seeds=2, steps=50)
    results, _, meta = run_confirm(SCIFACT, tmp_path, grid)
    baselines = pd.read_parquet(tmp_path / "baselines.parquet").set_index(["model", "mode"])["nDCG@10"]
    # the README's reference values: dense 0.645, hybrid teacher 0.708 (ir_measures, full ranking)
    assert baselines[("dense", "full")] == pytest.approx(0.645, abs=5e-4)
    assert baselines[("teacher", "full")] == pytest.approx(0.708, abs=5e-4)
    # every student starts as the dense retriever; 50 small steps keep it within 5 nDCG points of it
    assert results.ndcg10.between(0.595, 0.695).all()
    assert meta["timings"]["max_ir_measures_discrepancy"] < 1e-5
