"""Groups redrawn every epoch (simrank.groups.draw_epochs, EpochGroups) and the trainer's epoch schedule."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simrank.groups import EpochGroups, draw_epochs, draw_groups, world_query_set
from simrank.losses import kl_distill
from simrank.samplers import categorical_cdf, make_sampler, sample_categorical, sample_cdf
from simrank.students import bilinear
from simrank.teacher import Teacher
from simrank.trainer import TrainConfig, epoch_of_steps, make_trainer, n_epochs
from simrank.world import WorldConfig


@pytest.fixture(scope="module")
def qs():
    world = WorldConfig(n_docs=60, dim=4, random_state=1).generate()
    return world_query_set(world, Teacher(noise=0.2), 12, random_state=2)


SAMPLERS = {
    "uniform": {"kind": "uniform"},
    "local_excluding": {"kind": "local", "proxy": "dense", "pool_size": 10, "exclude_positive": True},
    "teacher_top": {"kind": "teacher_top", "pool_size": 10},
}


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_each_epoch_is_draw_groups_with_its_own_generator(qs, name):
    """Epoch e of draw_epochs is bit-for-bit draw_groups with generator e (ν reused or recomputed per changed row),
    and epoch 0's ν is draw_groups' ν."""
    sampler = make_sampler(**SAMPLERS[name])
    seeds = [[5, 4, e] for e in range(4)]
    redrawn, nu = draw_epochs(qs, sampler, 30, 4, [np.random.default_rng(s) for s in seeds])
    assert redrawn.n_epochs == 4 and redrawn.n_groups == 30
    for e, seed in enumerate(seeds):
        once, nu_once = draw_groups(qs, sampler, 30, 4, np.random.default_rng(seed))
        for a, b in zip(redrawn.take(e), once):
            np.testing.assert_array_equal(a, b)
        if e == 0:
            np.testing.assert_array_equal(nu, nu_once)


def test_epochs_differ_and_the_same_seeds_give_the_same_epochs(qs):
    sampler = make_sampler(kind="local", proxy="dense", pool_size=20)

    def draw(base):
        return draw_epochs(qs, sampler, 48, 5, [np.random.default_rng([base, e]) for e in range(3)])[0]

    first, again, other = draw(0), draw(0), draw(1)
    for a, b in zip(jax.tree_util.tree_leaves(first), jax.tree_util.tree_leaves(again)):
        np.testing.assert_array_equal(a, b)
    negatives = first.epochs.doc_id[:, :, 1:]
    assert (negatives[0] != negatives[1]).mean() > 0.5 and (negatives[1] != negatives[2]).mean() > 0.5
    assert (first.epochs.doc_id != other.epochs.doc_id).any()


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 5), n_docs=st.integers(1, 7), draws=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_sample_cdf_of_categorical_cdf_is_sample_categorical(n, n_docs, draws, seed):
    """One CDF table serves any number of draws; each draw is sample_categorical's (same generator state)."""
    nu = np.random.default_rng(seed).random((n, n_docs)) + 1e-3
    cdf = categorical_cdf(nu)
    np.testing.assert_array_equal(
        sample_cdf(cdf, draws, np.random.default_rng(seed)), sample_categorical(nu, draws, np.random.default_rng(seed))
    )
    rows = np.arange(n)[::-1].copy()
    np.testing.assert_array_equal(categorical_cdf(nu[rows], rows), cdf[rows])


@settings(max_examples=30, deadline=None)
@given(steps=st.integers(1, 300), batch=st.integers(1, 64), n=st.integers(1, 200))
def test_the_epoch_schedule_passes_n_groups_per_epoch_and_stays_in_range(steps, batch, n):
    """e_t = ⌊t b / n⌋ (b = min(batch, n)): non-decreasing, starts at 0, ends at E − 1 with E = n_epochs, and each
    epoch serves at most ⌈n / b⌉ steps."""
    cfg = TrainConfig(steps=steps, batch_size=batch)
    epochs = n_epochs(cfg, n)
    e = np.asarray(epoch_of_steps(steps, min(batch, n), n, epochs))
    assert e[0] == 0 and e[-1] == epochs - 1 and (np.diff(e) >= 0).all()
    assert np.bincount(e).max() <= -(-n // min(batch, n))
    assert np.asarray(epoch_of_steps(steps, min(batch, n), n, 1)).max() == 0  # one epoch: every step reads it


def _groups(qs, epochs: int, same: bool) -> EpochGroups:
    sampler = make_sampler(kind="uniform")
    seeds = [[3] if same else [3, e] for e in range(epochs)]
    return draw_epochs(qs, sampler, 32, 4, [np.random.default_rng(s) for s in seeds])[0]


def test_trainer_on_identical_epochs_equals_training_on_the_groups(qs):
    """Epochs that are all the same groups train exactly as those groups do (the epoch index changes nothing else)."""
    train = make_trainer(bilinear(4), kl_distill, TrainConfig(steps=12, batch_size=8, learning_rate=0.1))
    redrawn = _groups(qs, 3, same=True)
    key = jax.random.PRNGKey(0)
    p_epochs, c_epochs = jax.jit(train)(key, redrawn, {"tau": 1.0})
    p_once, c_once = jax.jit(train)(key, redrawn.take(0), {"tau": 1.0})
    np.testing.assert_allclose(c_epochs, c_once, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(p_epochs["w"], p_once["w"], rtol=1e-6, atol=1e-7)


def test_trainer_reads_later_epochs(qs):
    """With distinct epochs, steps after the first epoch see other groups: the loss curve matches the one-epoch run
    for exactly the first ⌈n / b⌉ = 4 steps, then differs (full batch: step t reads epoch t)."""
    train = make_trainer(bilinear(4), kl_distill, TrainConfig(steps=12, batch_size=8, learning_rate=0.1))
    redrawn = _groups(qs, 3, same=False)
    key = jax.random.PRNGKey(0)
    _, curve = jax.jit(train)(key, redrawn, {"tau": 1.0})
    _, curve_first = jax.jit(train)(key, redrawn.take(0), {"tau": 1.0})
    np.testing.assert_allclose(curve[:4], curve_first[:4], rtol=1e-6)
    assert not np.allclose(curve[4:], curve_first[4:])
    full = make_trainer(bilinear(4), kl_distill, TrainConfig(steps=3, batch_size=None, learning_rate=0.1))
    _, full_curve = jax.jit(full)(key, redrawn, {"tau": 1.0})
    _, full_first = jax.jit(full)(key, redrawn.take(0), {"tau": 1.0})
    np.testing.assert_allclose(full_curve[0], full_first[0], rtol=1e-6)
    assert not np.isclose(float(full_curve[1]), float(full_first[1]))
