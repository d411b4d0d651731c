"""The corrected real-data design: grouped train / tune / decide splits, τ solved for a teacher entropy, grids that
extend at an edge, agreement with the teacher, and the choice of (learning rate, steps, τ)."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simrank.errors import ConfigError
from simrank.groups import Groups
from simrank.paths import PROJECT_ROOT
from simrank.real.confirm.design import RealConfig, extend_grid, load_real_config
from simrank.real.confirm.run import best_setting, choose
from simrank.real.confirm.training import mean_entropy, tau_for_entropy, top_overlap

TINY = Path(__file__).parent / "tiny-confirm.toml"


@given(
    st.lists(st.floats(1e-3, 1e3), min_size=1, max_size=6, unique=True),
    st.booleans(),
)
def test_extend_grid_goes_beyond_the_edge_it_sits_on_and_not_from_inside(grid, integer):
    values = sorted(grid)
    low, high = extend_grid(tuple(grid), values[0]), extend_grid(tuple(grid), values[-1])
    if len(values) > 1:
        assert low is not None and low < values[0]
    assert high is not None and high > values[-1]
    if len(values) > 2:
        assert extend_grid(tuple(grid), values[1]) is None
    if integer:
        steps = tuple(sorted({max(1, round(v)) for v in grid}))
        new = extend_grid(steps, steps[-1], integer=True)
        assert new is not None and new == int(new) and new > steps[-1]


def test_extend_grid_examples():
    assert extend_grid((0.001, 0.003, 0.01, 0.03), 0.03) == pytest.approx(0.09)
    assert extend_grid((0.001, 0.003, 0.01, 0.03), 0.001) == pytest.approx(1 / 3000)
    assert extend_grid((150, 400), 400, integer=True) == round(400 * 400 / 150)
    assert extend_grid((1, 2), 1, integer=True) is None  # 1 · 1/2 rounds to 1 (at least 1): already tried


def _groups(scores: np.ndarray, where: np.ndarray | None = None) -> Groups:
    n, k = scores.shape
    return Groups(
        query=np.zeros((n, 2), np.float32),
        docs=np.zeros((n, k, 2), np.float32),
        query_id=np.zeros(n, np.int32),
        doc_id=np.zeros((n, k), np.int32),
        teacher_scores=scores.astype(np.float32),
        log_nu=np.zeros((n, k), np.float32),
        where=np.ones((n, k), bool) if where is None else where,
    )


@given(st.integers(0, 2**16), st.floats(0.1, 1.9))
@settings(max_examples=25, deadline=None)
def test_tau_for_entropy_reaches_the_target_entropy(seed, target):
    scores = np.random.default_rng(seed).normal(0.0, 5.0, (64, 8))
    groups = _groups(scores)
    tau = tau_for_entropy(groups, target)
    assert mean_entropy(groups, tau) == pytest.approx(target, abs=1e-4)
    assert mean_entropy(groups, tau * 1.5) > mean_entropy(groups, tau)  # monotone: more τ, more entropy


def test_tau_for_entropy_counts_valid_items_only_and_rejects_an_unreachable_target():
    scores = np.zeros((4, 8))
    where = np.zeros((4, 8), bool)
    where[:, :2] = True  # two valid items with equal scores: entropy log 2 at every τ
    groups = _groups(scores, where)
    assert mean_entropy(groups, 1.0) == pytest.approx(math.log(2), abs=1e-6)
    with pytest.raises(ValueError, match="outside the range"):
        tau_for_entropy(groups, 1.0)


def test_top_overlap_counts_the_shared_top_k():
    teacher = jnp.asarray([[5.0, 4.0, 3.0, 2.0, 1.0]])
    assert float(top_overlap(teacher, teacher, 2)[0]) == 1.0
    assert float(top_overlap(-teacher, teacher, 2)[0]) == 0.0
    assert float(top_overlap(jnp.asarray([[5.0, 0.0, 4.0, 0.0, 0.0]]), teacher, 2)[0]) == 0.5


def test_choose_picks_learning_rate_steps_and_tau_by_mean_tune_ndcg():
    rows = [
        {"student": "full", "arm": "kl", "learning_rate": lr, "steps": 10, "tau": tau, "seed": s, "val_start": 0.5}
        | {"val_ndcg10": 0.5 + (0.1 if (lr, tau) == (0.01, 2.0) else 0.0) + 0.001 * s}
        for lr in (0.001, 0.01)
        for tau in (0.5, 2.0)
        for s in (0, 1)
    ]
    tuning = pd.DataFrame(rows)
    assert best_setting(tuning, "full", "kl") == (0.01, 10, 2.0)
    cfg = RealConfig(losses=("kl",), students=("full",), supervised=False, learn_min=0.2)
    chosen, demoted = choose(tuning, cfg)
    assert chosen[("full", "kl")] == (0.01, 10, 2.0) and demoted == ["full"]  # gain 0.1 < learn_min 0.2


def test_design_checks_the_new_keys():
    assert RealConfig(entropies=(0.5,)).taus("kl", (3.0,)) == (3.0,)
    assert RealConfig(entropies=(0.5,)).taus("lce", (3.0,)) == (1.0,)
    assert RealConfig().taus("kl", ()) == (1.0,)
    with pytest.raises(ConfigError, match=r"teacher.entropies value 2.5"):
        RealConfig(entropies=(2.5,))  # >= log 8
    with pytest.raises(ConfigError, match="split.kind"):
        RealConfig(split="random")
    with pytest.raises(ConfigError, match="split.fractions"):
        RealConfig(split_fractions=(0.5, 0.5))
    with pytest.raises(ConfigError, match="tune.extend"):
        RealConfig(tune_extend=-1)
    with pytest.raises(ConfigError, match="rule.learn_on"):
        RealConfig(learn_on="decide")


def test_prepare_with_grouped_splits_pools_both_qrels_files(tiny_beir):
    """On the tiny collection (q0-q3 judged in train, q4-q7 in test) the three splits cover the eight queries, no
    tune or decide query has a relevant document of a train query, and each set is judged by the pooled qrels of its
    own queries."""
    from simrank.real.confirm.inputs import prepare

    cfg = RealConfig(
        split="grouped", split_fractions=(0.5, 0.25, 0.25), students=("full",), group_sizes=(2,), tune_group_size=2
    )
    data = prepare(tiny_beir, cfg)
    fit = data.pool_sizes["train"]
    val, test = data.val.query_ids, data.test.query_ids
    assert fit + len(val) + len(test) == 8 and not set(val) & set(test)
    relevant = data.pools["gold"].grades > 0
    for ev in (data.val, data.test):
        assert set(ev.qrels.query_id) == set(ev.query_ids)
        assert not ((ev.grades > 0) & relevant.any(axis=0)[None]).any()  # no relevant document seen in training


def test_redraw_is_checked_and_the_designs_say_which_they_use():
    with pytest.raises(ConfigError, match="train.redraw"):
        RealConfig(redraw="step")
    assert RealConfig().redraw == "once" and RealConfig().epochs(400) == 1
    assert RealConfig(redraw="epoch").epochs(400) == 13  # ⌊399 · 64 / 2048⌋ + 1
    grouped = load_real_config(PROJECT_ROOT / "experiments" / "real-confirm-grouped.toml")
    assert grouped.redraw == "epoch" and load_real_config().redraw == "once"


def test_redrawn_real_groups_differ_between_epochs_and_repeat_under_the_same_seed(tiny_beir, tmp_path):
    """train.redraw = "epoch": every epoch of a cell's groups has fresh negatives from the same sampler, the same seed
    gives the same epochs, and a tiny confirm run trains on them end to end (the run reads cfg.epochs(steps))."""
    from simrank.groups import EpochGroups
    from simrank.real.confirm.inputs import prepare
    from simrank.real.confirm.run import run_confirm
    from simrank.real.confirm.training import _draw, tuning_groups

    cfg = replace(load_real_config(TINY), redraw="epoch")
    pool = prepare(tiny_beir, cfg).pools["teacher"]
    groups, _ = _draw(pool, cfg, "bm25", 4, [0, 4, 1], epochs=3)
    again, _ = _draw(pool, cfg, "bm25", 4, [0, 4, 1], epochs=3)
    assert isinstance(groups, EpochGroups) and groups.n_epochs == 3
    np.testing.assert_array_equal(groups.epochs.doc_id, again.epochs.doc_id)
    negatives = groups.epochs.doc_id[:, :, 1:4]
    assert (negatives[0] != negatives[1]).any() and (negatives[1] != negatives[2]).any()
    assert tuning_groups(pool, cfg, 0, steps=10).n_epochs == cfg.epochs(10) == 5  # ⌊9 · 16 / 32⌋ + 1
    results, meta = run_confirm(tiny_beir, tmp_path, replace(cfg, seeds=1, losses=("kl",), supervised=False))
    assert len(results) == 8 and results.ndcg10.between(0, 1).all() and meta["config"]["redraw"] == "epoch"
