"""The bias sweep end to end: schema, sane values, reproducibility, and one-line errors at the CLI."""

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simrank.config import load_experiment
from simrank.runner import RUN_COLUMNS, build_data, config_hash, seeded_world
from simrank.sweep import RESULT_COLUMNS, run_experiment

from tiny import SIMRANK, tiny_config

TINY = tiny_config()


@pytest.fixture(scope="module")
def quick_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("quick")
    proc = subprocess.run(
        [*SIMRANK, "run", "bias-sweep", "--quick", "--out", str(out), "--no-progress"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return out, proc.stdout


def test_quick_sweep_writes_the_documented_schema(quick_sweep):
    out, stdout = quick_sweep
    df = pd.read_parquet(out / "results.parquet")
    assert list(df.columns) == RESULT_COLUMNS
    assert {"results.parquet", "config.json", "config.toml", "figure.png", "figure.pdf"} <= {
        p.name for p in out.iterdir()
    }
    assert df["simrank_version"].nunique() == 1 and df["experiment_hash"].nunique() == 1
    assert df["code_commit"].nunique() == 1 and pd.to_datetime(df["run_time"]).dt.tz is not None
    assert "gap_mean" in stdout and "rows in" in stdout
    assert np.isfinite(df[["train_risk", "test_risk", "ndcg10", "rr10", "entropy_pair"]].to_numpy()).all()


def test_quick_sweep_values_are_sane(quick_sweep):
    df = pd.read_parquet(quick_sweep[0] / "results.parquet")
    assert df["gap"].mean() >= 0
    by_pool = df.groupby("pool_size")[["locality", "delta_hat"]].mean().sort_values("locality")
    assert np.all(np.diff(by_pool["delta_hat"]) < 0), by_pool  # more local groups are smaller
    by_tau = df.groupby("tau")[["entropy_pair", "entropy_list"]].mean().sort_index()
    assert np.all(np.diff(by_tau.to_numpy(), axis=0) > 0), by_tau  # lower tau, lower entropy
    assert df["ndcg10"].between(0, 1).all() and df["kendall_teacher"].between(-1, 1).all()


def test_same_seed_same_numbers(tmp_path):
    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    exp = load_experiment(str(config))
    a = run_experiment(exp, tmp_path / "a", progress=False)
    b = run_experiment(exp, tmp_path / "b", progress=False)
    pd.testing.assert_frame_equal(a.drop(columns=RUN_COLUMNS), b.drop(columns=RUN_COLUMNS))
    by_config = {p.json(): config_hash(p) for p in exp.points()}
    assert a["config_hash"].tolist() == a["config"].map(by_config).tolist()  # recomputable from each point
    assert a["config_hash"].nunique() == len(by_config) == a["config"].nunique()
    assert len(a) == 2 * 2 * 2 * 2 and a["seed"].nunique() == 2


@pytest.mark.parametrize(
    "edit, needle",
    [
        ('[sampler]\nkind = "nearest"', "sampler.kind = 'nearest'"),
        ('[loss]\nname = "hinge"', "loss.name = 'hinge'"),
        ("[teacher]\ntau = 0.0", "teacher.tau = 0.0"),
        ('[sampler]\nkind = "uniform"\neta = 1.5', "sampler.eta = 1.5"),
        ("[data]\ngroup_size = 500", "data.group_size = 500"),
        ('[grid]\n"teacher.tau" = [1.0, -2.0]', "teacher.tau = -2.0"),
    ],
)
def test_bad_config_is_one_line_and_exit_2(tmp_path, edit, needle):
    config = tmp_path / "bad.toml"
    config.write_text('name = "bad"\n[world]\nn_docs = 50\ndim = 4\n' + edit + "\n")
    proc = subprocess.run([*SIMRANK, "run", str(config), "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert needle in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_config_file(tmp_path):
    proc = subprocess.run([*SIMRANK, "run", str(tmp_path / "nope.toml")], capture_output=True, text=True)
    assert proc.returncode == 2 and "does not exist" in proc.stderr and "Traceback" not in proc.stderr


def test_list_shows_the_bias_sweep():
    proc = subprocess.run([*SIMRANK, "list"], capture_output=True, text=True)
    assert proc.returncode == 0 and "bias-sweep" in proc.stdout


def test_each_seed_draws_its_own_world_unless_fixed(tmp_path):
    """Default: one world (corpus, relevance map) and teacher perturbation per seed, shared by every grid
    point of that seed; ``[data] world_per_seed = false`` gives every seed the configured world."""
    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    points = load_experiment(str(config)).points()
    (a, stats_a), (b, stats_b) = build_data(points[0], 0), build_data(points[0], 1)
    assert stats_a["world_seed"] != stats_b["world_seed"] and not np.allclose(a["docs"], b["docs"])
    assert build_data(points[-1], 0)[1]["world_seed"] == stats_a["world_seed"]
    teachers = {seeded_world(points[0], seed)[1].random_state for seed in range(3)}
    assert len(teachers) == 3
    config.write_text(TINY.replace("[data]\n", "[data]\nworld_per_seed = false\n"))
    (point, *_) = load_experiment(str(config)).points()
    (a, stats_a), (b, stats_b) = build_data(point, 0), build_data(point, 1)
    assert stats_a["world_seed"] == stats_b["world_seed"] == point.world.random_state
    np.testing.assert_array_equal(a["docs"], b["docs"])
    assert seeded_world(point, 1) == (point.world, point.teacher)


def test_seeds_per_world_nests_seeds_in_worlds(tmp_path):
    """``[data] seeds_per_world = 3``: seeds 0-2 share one world and teacher, seed 3 starts the next; seeds of one
    world still draw their own queries."""
    config = tmp_path / "tiny.toml"
    config.write_text(TINY.replace("[data]\n", "[data]\nseeds_per_world = 3\n"))
    (point, *_) = load_experiment(str(config)).points()
    worlds = [seeded_world(point, seed) for seed in range(4)]
    assert worlds[0] == worlds[1] == worlds[2] != worlds[3]
    (a, _), (b, _) = build_data(point, 0), build_data(point, 2)
    np.testing.assert_array_equal(a["docs"], b["docs"])
    assert not np.allclose(a["eval_queries"], b["eval_queries"])


def test_code_commit_names_the_checkout_or_says_unknown(tmp_path, monkeypatch):
    import simrank.runner as runner

    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=Path(runner.__file__).parent, capture_output=True, text=True
    )
    commit = runner.code_commit()
    if head.returncode == 0:
        assert commit.removesuffix("+dirty") == head.stdout.strip()
    else:
        assert commit == "unknown"
    monkeypatch.setattr(runner, "__file__", str(tmp_path / "runner.py"))  # a folder outside any git checkout
    runner.code_commit.cache_clear()
    try:
        assert runner.code_commit() == "unknown"
        git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
        (tmp_path / "runner.py").write_text("a\n")
        for args in (["init", "-q"], ["add", "runner.py"], ["commit", "-qm", "c"]):
            subprocess.run([*git, *args], check=True)
        sha = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
        runner.code_commit.cache_clear()
        assert runner.code_commit() == sha
        (tmp_path / "runner.py").write_text("b\n")  # a tracked file edited after the commit
        runner.code_commit.cache_clear()
        assert runner.code_commit() == sha + "+dirty"
    finally:
        runner.code_commit.cache_clear()


def test_quick_sweep_writes_a_per_query_table_beside_the_results(quick_sweep):
    """per_query.parquet holds one row per model × evaluation query (query ids 0..n_eval_queries − 1, no pair
    twice), and each model's mean over its rows equals its ndcg10 and rr10 in results.parquet."""
    import json

    out, _ = quick_sweep
    results = pd.read_parquet(out / "results.parquet")
    table = pd.read_parquet(out / "per_query.parquet")
    n_eval = [json.loads(c)["data"]["n_eval_queries"] for c in results.config]
    assert len(table) == sum(n_eval) and not table.duplicated(["config_hash", "seed", "query_id"]).any()
    assert set(table.query_id) == set(range(max(n_eval)))
    means = table.groupby(["config_hash", "seed"])[["nDCG@10", "RR@10"]].mean()
    expected = results.set_index(["config_hash", "seed"])[["ndcg10", "rr10"]]
    # float32 means of n values in [0, 1]: summation error below n ulp(1)
    atol = max(n_eval) * np.finfo(np.float32).eps
    np.testing.assert_allclose(means.loc[expected.index].to_numpy(), expected.to_numpy(), rtol=0, atol=atol)
    assert set(np.unique(table["RR@10"])) <= {0.0, *(np.float32(1 / r) for r in range(1, 11))}  # 1/rank or 0


#: The tiny run at commit 4e6bb67, before the per-query RR@10 arrays were added to the compiled evaluation.
TINY_REFERENCE = Path(__file__).parent / "data" / "tiny_run_4e6bb67.json"


def test_tiny_run_keeps_every_stored_column_bit_identical(tmp_path):
    """Adding per-query outputs must not move any stored number: every measure column of results.parquet and the
    per-query nDCG@10 of a tiny run equal, bit for bit, those written at 4e6bb67 (``float.hex`` in
    tests/data/tiny_run_4e6bb67.json; skipped under another jax, whose compiler may sum in another order). Its new
    per-query RR@10 averages to the rr10 column within float32 summation error (n ulp(1) for n queries)."""
    import json

    import jax

    reference = json.loads(TINY_REFERENCE.read_text())
    if jax.__version__ != reference["jax"]:
        pytest.skip(f"reference written under jax {reference['jax']}, this is {jax.__version__}")
    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    results = run_experiment(load_experiment(str(config)), tmp_path / "run", progress=False, layout="per_loss")
    for column, stored in reference["columns"].items():
        values = results[column].tolist()
        if results[column].dtype.kind == "f":
            values = [float(v).hex() for v in values]
        assert values == stored, column
    table = pd.read_parquet(tmp_path / "run" / "per_query.parquet").set_index(["config_hash", "seed"])
    rows = list(zip(results.config_hash, results.seed))
    ndcg = [[float(v).hex() for v in table.loc[key].sort_values("query_id")["nDCG@10"]] for key in rows]
    assert ndcg == reference["nDCG@10"]
    rr = np.array([table.loc[key].sort_values("query_id")["RR@10"].mean() for key in rows])
    n_eval = len(reference["nDCG@10"][0])
    np.testing.assert_allclose(rr, results["rr10"], rtol=0, atol=n_eval * np.finfo(np.float32).eps)
