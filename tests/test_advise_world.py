"""``simrank advise --world``: one advice entry per grid point with the sweep's ``config_hash``, ranks by the predicted
excess, the validation's hit and Spearman, the convergence check, bad input, and ``paper/advise.md`` is current."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simrank.advise.validation import RERUNS, STEPS, WORLDS, render_paper, world_config
from simrank.advise.worlds import SESOI, advise_world, convergence_gap, validate_world
from simrank.config import load_experiment
from simrank.errors import ConfigError
from simrank.sweep import run_experiment

from tiny import SIMRANK

ROOT = Path(__file__).resolve().parents[1]

TINY = """
name = "tiny-advise"
seeds = 2
[world]
n_docs = 60
dim = 3
sphere = true
nonbilinear = 0.5
[teacher]
noise = 0.3
[sampler]
kind = "local"
proxy = "dense"
[train]
steps = 200
learning_rate = 0.05
[data]
group_size = 4
n_train = 128
n_queries = 128
n_test = 64
n_eval_queries = 16
kendall_docs = 16
world_per_seed = false
[grid]
"sampler.pool_size" = [60, 6]
"sampler.eta" = [0.0, 0.5]
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny config, its advice (small populations) and its sweep."""
    folder = tmp_path_factory.mktemp("advise-world")
    config = folder / "tiny.toml"
    config.write_text(TINY)
    exp = load_experiment(str(config))
    advice = advise_world(exp, population=1500)
    return config, exp, advice, run_experiment(exp, folder / "sweep", progress=False)


def test_one_entry_per_grid_point_with_the_sweeps_hash(tiny):
    _, exp, advice, results = tiny
    entries = advice["candidates"]
    assert len(entries) == len(exp.points()) == 4
    assert {e["config_hash"] for e in entries} == set(results["config_hash"])  # the hash `simrank run` writes
    for e in entries:
        assert {"sampler.pool_size", "sampler.eta", "predicted_excess", "rank", "bias", "variance"} <= set(e)
        assert e["predicted_excess"] == pytest.approx(e["bias"] + (e["variance"] + e["drift"]) / 128)
    # rank 1 = smallest prediction; entries sorted by rank
    assert [e["rank"] for e in entries] == sorted(e["rank"] for e in entries)
    excess = [e["predicted_excess"] for e in entries]
    assert excess == sorted(excess) and entries[0]["rank"] == 1
    # the uniform pool (M = N) has no bias against the uniform target; the 6-document pool has
    by_point = {(e["sampler.pool_size"], e["sampler.eta"]): e for e in entries}
    assert by_point[(60, 0.0)]["bias"] < by_point[(6, 0.0)]["bias"]


def test_validation_hit_and_spearman(tiny):
    _, exp, advice, results = tiny
    report = validate_world(exp, advice, results, check_convergence=False)
    table = pd.DataFrame(report["table"])
    assert len(table) == 4 and (table["seeds"] == 2).all()
    best = table["ndcg10"].max()
    assert report["best_ndcg10"] == best
    assert report["hit"] == bool(table.loc[table["rank"] == 1, "ndcg10"].iloc[0] >= best - SESOI)
    assert report["random_hit_rate"] == pytest.approx(float((table["ndcg10"] >= best - SESOI).mean()))
    # negative control: the reversed advice has the opposite Spearman
    reversed_advice = {**advice, "candidates": [{**e, "rank": 5 - e["rank"]} for e in advice["candidates"]]}
    flipped = validate_world(exp, reversed_advice, results, check_convergence=False)
    assert flipped["spearman"] == pytest.approx(-report["spearman"])
    # a measured order planted to agree with the advice gives +1
    rank_of = {e["config_hash"]: e["rank"] for e in advice["candidates"]}
    planted = results.assign(ndcg10=[1.0 - 0.1 * rank_of[h] for h in results["config_hash"]])
    agree = validate_world(exp, advice, planted, check_convergence=False)
    assert agree["spearman"] == pytest.approx(1.0) and agree["hit"]


def test_convergence_gap(tiny):
    _, exp, _, results = tiny
    row = results.iloc[0]
    point = next(p for p in exp.points() if p.json() == row["config"])
    gap = convergence_gap(point, int(row["seed"]), float(row["train_risk"]))
    assert 0.0 <= gap < 0.1  # 200 Adam steps on 128 groups make over 90% of the achievable decrease
    # the starting scorer (all scores 0: W = 0) has made none of the achievable decrease: gap 1
    from simrank.losses import get_loss

    train = __import__("simrank.runner", fromlist=["build_data"]).build_data(point, int(row["seed"]))[0]["train"]
    g = np.asarray(train.teacher_scores, np.float64)
    risk_zero = float(np.mean(get_loss(point.loss)(np.zeros_like(g), g, tau=point.tau)))
    assert convergence_gap(point, int(row["seed"]), risk_zero) == pytest.approx(1.0)


def test_cli_world_writes_advice_and_validation(tiny, tmp_path):
    config = tiny[0]
    out = tmp_path / "out"
    cmd = [*SIMRANK, "advise", "--world", str(config), "--population", "1500", "--out", str(out)]
    proc = subprocess.run([*cmd, "--validate"], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    advice = json.loads((out / "advice.json").read_text())
    validation = json.loads((out / "validation.json").read_text())
    assert len(advice["candidates"]) == 4 and validation["candidates"] == 4
    assert (out / "sweep" / "results.parquet").is_file()
    assert (out / "advice.json").stat().st_mode & 0o777 == 0o644
    assert "Spearman" in proc.stdout


@pytest.mark.parametrize(
    ("axis", "match"),
    [('"loss.name" = ["kl", "lce"]', "grid axis 'loss.name' is not allowed"),
     ('"teacher.tau" = [0.5, 2.0]', "grid axis 'teacher.tau' is not allowed")],
)  # fmt: skip
def test_incomparable_axes_are_refused(tmp_path, axis, match):
    config = tmp_path / "bad.toml"
    config.write_text(TINY + axis + "\n")
    with pytest.raises(ConfigError, match=match):
        advise_world(load_experiment(str(config)), population=100)
    proc = subprocess.run([*SIMRANK, "advise", "--world", str(config)], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "loss" in proc.stderr + axis


def test_mlp_student_is_refused(tmp_path):
    config = tmp_path / "mlp.toml"
    config.write_text(TINY.replace("[train]", '[student]\nkind = "mlp"\n[train]'))
    with pytest.raises(ConfigError, match="full unconstrained bilinear"):
        advise_world(load_experiment(str(config)), population=100)


def test_registry_worlds_are_valid_configs(tmp_path):
    """12 worlds, each a loadable config with 6 candidates; none is a T7 development world (N = 64, d = 4)."""
    assert len(WORLDS) >= 12
    for name in WORLDS:
        path = tmp_path / f"{name}.toml"
        path.write_text(world_config(name))
        exp = load_experiment(str(path))
        assert len(exp.points()) == 6
        assert exp.points()[0].world.n_docs != 64


def test_rerun_changes_only_the_steps(tmp_path):
    """A converged re-run (deviation D29) is the registered world with more steps and nothing else changed."""
    for name, steps in RERUNS.items():
        assert name in WORLDS and steps > STEPS
        (tmp_path / "a.toml").write_text(world_config(name))
        (tmp_path / "b.toml").write_text(world_config(name, steps))
        registered, rerun = (load_experiment(str(tmp_path / f)) for f in ("a.toml", "b.toml"))
        assert registered.base["train"]["steps"] == STEPS and rerun.base["train"]["steps"] == steps
        rerun.base["train"]["steps"] = STEPS
        assert rerun.base == registered.base and rerun.grid == registered.grid


def test_rerun_summary_replaces_the_registered_row(tmp_path):
    """The headline with the re-run in place counts the re-run's hit and Spearman instead of the registered ones."""
    import pandas as pd

    from simrank.advise.validation import _rerun_summary

    cand = '{"sampler.eta": 0.5, "sampler.pool_size": 12}'
    row = dict(recommended=cand, best=cand, recommended_ndcg10=0.5, best_ndcg10=0.5)
    table = pd.DataFrame([dict(world="a", hit=True, spearman=1.0, max_convergence_gap=0.01, **row),
                          dict(world="b", hit=False, spearman=-1.0, max_convergence_gap=0.4, **row)])  # fmt: skip
    assert _rerun_summary(table, tmp_path) == []  # no re-run table: nothing
    rerun = pd.DataFrame([dict(world="b", steps=4000, hit=True, spearman=0.5, max_convergence_gap=0.02, **row)])
    rerun.to_csv(tmp_path / "worlds12_rerun.csv", index=False)
    text = "\n".join(_rerun_summary(table, tmp_path))
    assert "| b | 4,000 | 0.4 → 0.02 |" in text
    assert "every one converged" in text and "hit rate 2 of 2 = 100% (registered run: 1 of 2 = 50%)" in text
    assert "mean Spearman 0.75 (registered run: 0.00)" in text


@pytest.mark.skipif(not (ROOT / "results/advise/worlds12.csv").is_file(), reason="no committed validation tables")
def test_paper_advise_is_current():
    """``paper/advise.md`` is what ``simrank advise validate`` renders from ``results/advise/``."""
    assert (ROOT / "paper/advise.md").read_text() == render_paper(ROOT / "results/advise")
