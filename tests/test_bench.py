"""The benchmark's building blocks, functionally (never timing): the reference executor computes the same
numbers as the vmapped sweep, slopes recover power laws, and ``simrank bench --quick`` reports everything."""

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simrank.bench import experiment, slopes
from simrank.config import load_experiment
from simrank.runner import RUN_COLUMNS, plan
from simrank.sweep import run_experiment

from tiny import tiny_config

TINY = tiny_config("tiny-bench", seeds=1, losses=("kl", "ranknet_soft"))


def test_reference_executor_matches_vmapped_sweep(tmp_path):
    """One call per model (width-1 chunks) reproduces the vmapped chunk to float32 rounding.

    The two programs differ only in the batching of XLA's reductions, so each value differs by a few
    float32 ulps (eps = 1.2e-7) per operation; 40 optimiser steps of a bilinear student (a smooth,
    well-conditioned problem) amplify that by far less than 1e3, hence rtol 1e-4 (measured: ~5e-6).
    (An MLP's ReLU kinks can amplify rounding into visibly different trajectories, so the check uses
    the bilinear student the default sweep's headline numbers come from.)
    """
    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    exp = load_experiment(str(config))
    assert all(width == 1 for _, width in plan(exp, 1)) and len(plan(exp)) == 2  # one chunk per loss
    vmapped = run_experiment(exp, tmp_path / "vmapped", progress=False)
    reference = run_experiment(exp, tmp_path / "reference", progress=False, executor="reference")
    assert len(list((tmp_path / "reference" / "parts").glob("*.parquet"))) == len(vmapped) == 8
    floats = [c for c in vmapped.columns if vmapped[c].dtype.kind == "f"]
    others = [c for c in vmapped.columns if c not in floats + RUN_COLUMNS]
    pd.testing.assert_frame_equal(reference[others], vmapped[others])
    np.testing.assert_allclose(reference[floats].to_numpy(), vmapped[floats].to_numpy(), rtol=1e-4, atol=1e-5)


def test_building_a_large_world_never_allocates_an_n_by_n_matrix():
    """Data for N = 10000 documents (every [queries, N] matrix the sweep builds) stays far below the
    N² · 4 bytes = 400 MB of a single N×N float32 matrix (numpy allocations traced by tracemalloc)."""
    import tracemalloc

    from simrank.runner import build_data

    n_docs = 10_000
    exp = experiment(
        {
            "single": True,
            "set": {
                "world.n_docs": n_docs,
                "world.dim": 16,
                "data.n_train": 64,
                "data.n_queries": 16,
                "data.n_test": 64,
                "data.n_eval_queries": 8,
            },
        }
    )
    (point,) = exp.points()
    tracemalloc.start()
    try:
        arrays, _ = build_data(point, seed=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert arrays["eval_teacher_scores"].shape == (8, n_docs)
    assert peak < n_docs * n_docs * 4 / 8


@settings(max_examples=30, deadline=None)
@given(
    power=st.floats(-1.0, 2.5),
    scale=st.floats(1e-3, 1e3),
    values=st.lists(st.integers(1, 10**6), min_size=2, max_size=6, unique=True),
)
def test_slopes_recover_exact_power_laws(power, scale, values):
    table = pd.DataFrame({"factor": "world.n_docs", "value": values, "cpu_seconds": [scale * v**power for v in values]})
    assert slopes(table)["world.n_docs"] == pytest.approx(power, abs=1e-6)


def test_experiment_spec_single_point_and_overrides():
    exp = experiment({"single": True, "set": {"world.n_docs": 5000, "data.group_size": 16, "seeds": 3}})
    (point,) = exp.points()
    assert (point.world.n_docs, point.data.group_size, exp.seeds) == (5000, 16, 3)
    assert point.sections["sampler"]["pool_size"] == 50 and point.sections["sampler"]["eta"] == 0.0
    full = experiment({})
    assert full.hash == load_experiment("bias-sweep").hash  # the benchmark times the real default sweep
    quick = experiment({"quick": True})
    assert quick.seeds == 1 and quick.base["train"]["steps"] < full.base["train"]["steps"]


@pytest.mark.slow
def test_bench_quick_reports_every_measurement(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "simrank", "bench", "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr
    for tag in (
        "[sweep]",
        "[layout]",
        "[reference]",
        "[floor]",
        "[agreement]",
        "[roofline]",
        "[mlp]",
        "[data]",
        "[cold]",
        "[trainer]",
        "[costs]",
        "[torch]",
        "[large]",
        "[scaling]",
        "log-log slopes",
        "[memory]",
        "[targets]",
    ):
        assert tag in proc.stdout
    report = json.loads((tmp_path / "bench.json").read_text())
    assert set(report["sweeps"]) == {"per_loss_cold", "per_loss_warm", "switch_cold", "switch_warm"}
    assert report["sweep"]["models"] == report["reference"]["models"] == report["reference"]["subset_models"]
    for key in ("speedup_vs_switch_warm", "speedup_vs_switch_cold", "floor_ratio", "matmul_fraction"):
        assert report[key] > 0
    if importlib.util.find_spec("torch") is None:
        assert report["speedup_vs_torch"] is None and "[torch] bilinear skipped" in proc.stdout
    else:
        assert report["speedup_vs_torch"] > 0
    assert report["speedup_vs_torch_mlp"] is None and report["mlp_ms_per_model"] is None  # --quick: no MLP
    assert report["peak_gflops"] > 0 and report["cold_over_warm"] > 0 and report["data_build"]["one_thread"] > 0
    assert set(report["roofline"]) == {"bilinear"} and 0 < report["roofline"]["bilinear"]["train_fraction_of_peak"]
    assert {"p4", "large_world"} == set(report["large"])
    assert {(r["student"], r["loss"]) for r in report["training_costs"]} == {
        ("bilinear", loss) for loss in ("lce", "kl", "margin_mse", "ranknet_soft")
    }
    # float32 rounding as derived above, relative to max(|value|, 1e-3): near-zero gaps inflate it 10x
    assert report["reference"]["max_rel_diff"]["bilinear"] < 1e-3
    assert set(report["slopes"]) == {"world.n_docs", "world.dim", "data.group_size", "seeds"}
    assert 0 < report["trainer"]["flops_per_s"] and 0 < report["sweep"]["peak_rss"]
    scaling = pd.read_csv(tmp_path / "scaling.csv")
    assert (scaling["seconds"] > 0).all() and len(scaling) == 8
    assert {"scaling.png", "scaling.pdf", "scaling.txt"} <= {p.name for p in tmp_path.iterdir()}


def test_flop_counts_from_shapes_known_answers():
    """The default point (d = 8, k = 8, hidden 32, 32 evaluation queries, N = 1000, 512 train and test
    groups), counted by hand: bilinear 3·(2·64 + 2·64) = 768 FLOP per group and step; MLP (first layer fused
    per group) 2·(8·(4·8·32 + 3·32² + 2·32) + 2·8·32) = 2·(8·4160 + 512) = 67584; evaluation of the MLP
    2·2048·8·(512 + 1024 + 32) + 2·2048·256 for the groups plus, for the corpus (x W_x once per document),
    2·(1000 + 32)·256 + 2·32·1000·(256 + 1024 + 32)."""
    from simrank.bench import evaluation_flops, training_flops

    points = {p.sections["student"]["kind"]: p for p in experiment({"single": False}).points()}
    assert training_flops(points["bilinear"]) == 768
    assert training_flops(points["mlp"]) == 67584
    assert evaluation_flops(points["mlp"]) == (
        2 * 2048 * 8 * 1568 + 2 * 2048 * 256 + 2 * 1032 * 256 + 2 * 32 * 1000 * 1312
    )
    assert evaluation_flops(points["bilinear"]) == 2 * (32 + 2048) * 64 + 2 * (32 * 1000 + 2048 * 8) * 8


def test_train_block_keeps_a_block_of_mlp_activations_in_cache():
    """The default MLP point: 64 groups of 8 items and 32 hidden units are 64 KiB of activations a model, so
    blocks of 2 models fill TRAIN_BLOCK_BYTES = 128 KiB (the largest divisor of the width that fits); 8 hidden
    units: 16 KiB, blocks of 8 (of 120; of 12: 6); the bilinear student and a chunk of 2 or fewer: one vmap."""
    import dataclasses

    from simrank.runner import TRAIN_BLOCK_BYTES, train_block

    assert TRAIN_BLOCK_BYTES == 128 * 1024
    points = {p.sections["student"]["kind"]: p for p in experiment({"single": False}).points()}
    mlp = points["mlp"]
    assert [train_block(mlp, w) for w in (120, 24, 7, 2, 1)] == [2, 2, 1, None, None]
    narrow = dataclasses.replace(mlp, sections={**mlp.sections, "student": {"kind": "mlp", "hidden": 8}})
    assert train_block(narrow, 120) == 8 and train_block(narrow, 12) == 6
    assert train_block(points["bilinear"], 120) is None
