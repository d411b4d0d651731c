"""The committed real-data run (results/real-confirm) is the design in experiments/real-confirm.toml, and two of
its tuning models retrain to the numbers in its tuning.parquet."""

from __future__ import annotations

import json
import time

import jax
import numpy as np
import pandas as pd
import pytest

from simrank.paths import PROJECT_ROOT
from simrank.real.confirm.design import RealConfig, load_real_config
from simrank.real.data.beir import EMBEDDINGS_FILE, data_checksums, default_data_dir

RESULTS = PROJECT_ROOT / "results" / "real-confirm"
META = json.loads((RESULTS / "meta.json").read_text())
SCIFACT = default_data_dir()


def test_committed_design_equals_the_experiment_config():
    """Every field of the committed run's design equals experiments/real-confirm.toml's (fields added since take
    their defaults, which reproduce the code that wrote the run); the recorded hash, when there is one, too."""
    committed, config = RealConfig.from_dict(META["config"]), load_real_config()
    assert committed == config, {
        k: (v, getattr(config, k)) for k, v in committed.as_dict().items() if v != config.as_dict()[k]
    }
    if "config_hash" in META:
        assert META["config_hash"] == config.hash


def test_design_comparison_detects_a_changed_key(tmp_path):
    """Negative control: one changed value in the TOML makes the designs differ, and the hash with them."""
    text = (PROJECT_ROOT / "experiments" / "real-confirm.toml").read_text()
    changed = tmp_path / "real-confirm.toml"
    changed.write_text(text.replace("pool_size = 100", "pool_size = 50", 1))
    assert load_real_config(changed) != RealConfig.from_dict(META["config"])
    assert load_real_config(changed).hash != load_real_config().hash


def test_data_checksums_name_every_input_file(tmp_path):
    from conftest import make_tiny_beir

    root = make_tiny_beir(tmp_path)
    sums = data_checksums(root)
    assert {"corpus.jsonl", "queries.jsonl", EMBEDDINGS_FILE, "qrels/train.tsv", "qrels/test.tsv"} <= set(sums)
    (root / "qrels" / "test.tsv").write_text((root / "qrels" / "test.tsv").read_text() + "\n")
    assert data_checksums(root)["qrels/test.tsv"] != sums["qrels/test.tsv"]


@pytest.mark.skipif(
    not (SCIFACT / EMBEDDINGS_FILE).is_file(),
    reason=f"SciFact with embeddings not found at {SCIFACT}; set SIMRANK_DATA to run this check",
)
def test_two_committed_tuning_models_retrain_to_their_numbers():
    """Retrain the diag student's KL tuning models at 150 steps, seed 0, the two smallest learning rates, exactly as
    the run did (same groups, keys and compiled trainer); their validation nDCG@10 and training risk match
    tuning.parquet (nDCG to 1e-6, the risk to a relative 1e-5: float32 sums in another batch width)."""
    from simrank.real.confirm.inputs import prepare
    from simrank.real.confirm.training import make_measure, make_real_student, make_train_fn, tune_batch, tuning_groups

    cfg = load_real_config()
    start = time.perf_counter()
    data = prepare(SCIFACT, cfg)
    student = make_real_student("diag", data.test.docs.shape[1], cfg.lowrank_rank, cfg.lowrank_norm_bound)
    batch = [(lr, cfg.tau, 0) for lr in cfg.learning_rates["diag"][:2]]
    groups = {0: tuning_groups(data.pools["teacher"], cfg, 0)}
    measure = make_measure(student, 100)
    val, risk = tune_batch(make_train_fn(student, "kl", 150, cfg), measure, {"val": data.val.arrays()}, groups, batch)
    elapsed = time.perf_counter() - start
    tuning = pd.read_parquet(RESULTS / "tuning.parquet")
    for (lr, _, seed), v, r in zip(batch, val, risk):
        row = tuning[
            (tuning.student == "diag")
            & (tuning.arm == "kl")
            & (tuning.steps == 150)
            & (tuning.seed == seed)
            & np.isclose(tuning.learning_rate, lr)
        ]
        assert len(row) == 1
        assert v == pytest.approx(row.val_ndcg10.iloc[0], abs=1e-6), (lr, v, row.val_ndcg10.iloc[0])
        assert r == pytest.approx(row.train_risk.iloc[0], rel=1e-5), (lr, r, row.train_risk.iloc[0])
    print(f"retrained 2 tuning models in {elapsed:.1f} s ({jax.devices()[0].platform})")


GROUPED_RUNS = {"real-confirm-grouped-quick": True, "real-confirm-grouped": False}


@pytest.mark.parametrize("name", sorted(GROUPED_RUNS))
def test_committed_grouped_run_is_its_config_and_its_report_is_fresh(name):
    """results/real-confirm-grouped (the full run) and results/real-confirm-grouped-quick (the [quick] table) are
    experiments/real-confirm-grouped.toml's runs, their τ are the ones their entropies give, and each report.md is
    what its files render to."""
    from simrank.real.confirm.report import render_markdown

    folder = PROJECT_ROOT / "results" / name
    meta = json.loads((folder / "meta.json").read_text())
    config = load_real_config(PROJECT_ROOT / "experiments" / "real-confirm-grouped.toml", quick=GROUPED_RUNS[name])
    assert RealConfig.from_dict(meta["config"]) == config and meta["config_hash"] == config.hash
    assert [float(h) for h in meta["taus"]] == list(config.entropies)
    assert (folder / "report.md").read_text() == render_markdown(folder), (
        f"stale: run `simrank real report --out results/{name}`"
    )
