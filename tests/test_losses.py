"""Tests for simrank.losses: hand values, properties, gradients, extremes, composition."""

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simrank.losses import (
    LOSSES,
    binary_entropy,
    get_loss,
    kl_distill,
    lce,
    listnet,
    margin_mse,
    pair_mask,
    ranknet_hard,
    ranknet_soft,
    softmax_entropy,
)

NAMES = list(LOSSES)
PROPS = settings(max_examples=25, deadline=None)


def softplus(x):
    return math.log1p(math.exp(-abs(x))) + max(x, 0.0)


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def h2(p):
    return -sum(t * math.log(t) for t in (p, 1 - p) if t > 0)


# ----------------------------------------------------------------------------- float64 numpy reference


def np_log_softmax(z):
    z = z - z.max()
    return z - np.log(np.exp(z).sum())


def np_loss(name, f, g, tau, w):
    """Float64 re-implementation of each formula (no mask; weights as documented)."""
    f, g, w = (np.asarray(a, np.float64) for a in (f, g, w))
    logq = np_log_softmax(f + np.log(w))
    logp = np_log_softmax(g / tau + np.log(w))
    p = np.exp(logp)
    if name == "lce":
        return -logq[0]
    if name == "kl":
        return np.sum(p * (logp - logq))
    if name == "listnet":
        return -np.sum(p * logq)
    if name == "margin_mse":
        err = (f[0] - f[1:]) - (g[0] - g[1:]) / tau
        return np.sum(w[1:] * err**2) / np.sum(w[1:])
    i, j = np.triu_indices(len(f), 1)
    d, dg = f[i] - f[j], g[i] - g[j]
    target = 1 / (1 + np.exp(-dg / tau)) if name == "ranknet_soft" else 0.5 * (1 + np.sign(dg))
    bce = np.logaddexp(0, d) - target * d
    return np.sum(w[i] * w[j] * bce) / np.sum(w[i] * w[j])


# ----------------------------------------------------------------------------- strategies


@st.composite
def groups(draw, lo=-5.0, hi=5.0):
    k = draw(st.sampled_from([2, 3, 5]))  # few shapes, few compilations; masks give every size 1..5
    fl = st.floats(lo, hi, width=32, allow_subnormal=False)
    f = np.array(draw(st.lists(fl, min_size=k, max_size=k)), np.float32)
    g = np.array(draw(st.lists(fl, min_size=k, max_size=k)), np.float32)
    tau = draw(st.sampled_from([0.25, 0.5, 1.0, 2.0, 4.0]))
    mask = np.array([True] + draw(st.lists(st.booleans(), min_size=k - 1, max_size=k - 1)))
    w = np.array(draw(st.lists(st.floats(0.125, 8.0, width=32), min_size=k, max_size=k)), np.float32)
    perm = np.concatenate([[0], 1 + np.array(draw(st.permutations(range(k - 1))), int)])
    return f, g, tau, mask, w, perm


def close(a, b, rtol=2e-5, atol=2e-5):
    return np.allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=rtol, atol=atol)


# ----------------------------------------------------------------------------- jitted batteries


@jax.jit
def all_losses(f, g, tau, where=None, weights=None):
    """Every loss at once, jitted: one compilation per shape keeps the property tests fast."""
    return {n: loss(f, g, tau=tau, where=where, weights=weights) for n, loss in LOSSES.items()}


@jax.jit
def all_values_and_grads(f, g, tau, where=None, weights=None):
    """(sum of per-list losses, its gradient in f) for every loss, jitted."""
    return {
        n: jax.value_and_grad(lambda x: loss(x, g, tau=tau, where=where, weights=weights, reduce_fn=jnp.sum))(f)
        for n, loss in LOSSES.items()
    }


def assert_all_close(a, b, rtol=1e-5, atol=1e-5):
    for name in NAMES:
        assert close(a[name], b[name], rtol, atol), (name, a[name], b[name])


# ----------------------------------------------------------------------------- hand-derived values


@pytest.mark.parametrize("f0,f1", [(0.0, 0.0), (2.0, -1.0), (-3.0, 1.5)])
def test_lce_k2_is_softplus(f0, f1):
    assert close(lce(jnp.array([f0, f1])), softplus(f1 - f0))
    w = 3.0  # importance weight on the negative: log(1 + w e^{f1 - f0})
    assert close(lce(jnp.array([f0, f1]), weights=jnp.array([1.0, w])), math.log1p(w * math.exp(f1 - f0)))


def test_lce_k3_and_teacher_ignored():
    f = [1.0, 2.0, -0.5]
    expected = -f[0] + math.log(sum(math.exp(x) for x in f))
    assert close(lce(jnp.array(f)), expected)
    assert close(lce(jnp.array(f), jnp.array([9.0, 0.0, 0.0]), tau=0.1), expected)


def test_kl_and_listnet_k2_by_hand():
    f, g, tau = [0.3, -0.7], [2.0, 1.0], 0.5
    p0 = sigmoid((g[0] - g[1]) / tau)
    q0 = sigmoid(f[0] - f[1])
    p, q = (p0, 1 - p0), (q0, 1 - q0)
    kl = sum(pi * math.log(pi / qi) for pi, qi in zip(p, q))
    ce = -sum(pi * math.log(qi) for pi, qi in zip(p, q))
    assert close(kl_distill(jnp.array(f), jnp.array(g), tau=tau), kl)
    assert close(listnet(jnp.array(f), jnp.array(g), tau=tau), ce)


@pytest.mark.parametrize("tau", [0.5, 1.0, 3.0])
def test_kl_and_margin_zero_at_teacher(tau):
    g = jnp.array([1.0, -2.0, 0.5, 3.0])
    f = g / tau + 7.0
    assert abs(float(kl_distill(f, g, tau=tau))) < 1e-6
    assert abs(float(margin_mse(f, g, tau=tau))) < 1e-8
    # listnet floor = teacher entropy
    assert close(listnet(f, g, tau=tau), softmax_entropy(g / tau))


def test_margin_mse_k3_by_hand():
    f, g = jnp.array([1.0, 0.0, 2.0]), jnp.array([0.0, 0.0, 1.0])
    # errors: (1 - 0) - 0 = 1 and (1 - 2) - (0 - 1)/0.5 = 1
    assert close(margin_mse(f, g, tau=0.5), 1.0)
    assert close(margin_mse(f, jnp.zeros(3), weights=jnp.array([1.0, 3.0, 1.0])), (3 * 1 + 1 * 1) / 4)


@pytest.mark.parametrize("tau", [0.5, 2.0])
def test_ranknet_soft_floor_at_teacher(tau):
    g = [0.4, 1.0, -1.2]
    pairs = [(0, 1), (0, 2), (1, 2)]
    floor = np.mean([h2(sigmoid((g[i] - g[j]) / tau)) for i, j in pairs])
    assert close(ranknet_soft(jnp.array(g) / tau, jnp.array(g), tau=tau), floor)


def test_ranknet_hard_k2_and_ties():
    f = jnp.array([0.2, 1.1])
    assert close(ranknet_hard(f, jnp.array([1.0, 0.0]), tau=0.01), softplus(-(0.2 - 1.1)))
    assert close(ranknet_hard(f, jnp.array([0.0, 1.0])), softplus(0.2 - 1.1))
    d = 0.2 - 1.1
    assert close(ranknet_hard(f, jnp.array([1.0, 1.0])), softplus(d) - 0.5 * d)


def test_entropies():
    assert close(binary_entropy(jnp.array([0.0, 0.5, 1.0])), [0.0, math.log(2), 0.0])
    assert close(softmax_entropy(jnp.zeros(4)), math.log(4))
    assert close(softmax_entropy(jnp.array([1.0, 5.0, 1.0]), where=jnp.array([True, False, True])), math.log(2))


def test_pair_mask():
    m = pair_mask(jnp.array([True, False, True]))
    assert np.array_equal(m, [[False, False, True], [False, False, False], [False, False, False]])


def test_registry():
    assert get_loss("kl") is kl_distill
    with pytest.raises(ValueError, match="unknown loss 'nope'; allowed: lce, kl"):
        get_loss("nope")


# ----------------------------------------------------------------------------- properties


def t1_violation(listnet_fn, f, g, tau):
    """|listnet - KL - H(softmax(g/tau))|, relative to the size of listnet (T1 identity)."""
    ln = float(listnet_fn(f, g, tau=tau))
    rhs = float(kl_distill(f, g, tau=tau)) + float(softmax_entropy(jnp.asarray(g) / tau))
    return abs(ln - rhs) / (1.0 + abs(ln))


T1_TOL = 1e-5


@PROPS
@given(groups())
def test_t1_identity(grp):
    f, g, tau, *_ = grp
    assert t1_violation(lambda *a, tau: all_losses(*a, tau)["listnet"], f, g, tau) < T1_TOL


def test_t1_check_catches_wrong_listnet():
    def listnet_no_temperature(f, g, *, tau=1.0):
        return -jnp.sum(jax.nn.softmax(g) * jax.nn.log_softmax(f))

    f, g = jnp.array([0.5, -1.0, 2.0]), jnp.array([1.0, 0.0, -1.0])
    assert t1_violation(listnet, f, g, 0.5) < T1_TOL
    assert t1_violation(listnet_no_temperature, f, g, 0.5) > 100 * T1_TOL


@PROPS
@given(groups())
def test_floors(grp):
    f, g, tau, *_ = grp
    losses = all_losses(f, g, tau)
    assert float(losses["kl"]) >= -1e-6
    i, j = np.triu_indices(len(f), 1)
    floor = np.mean([h2(sigmoid((g[a] - g[b]) / tau)) for a, b in zip(i, j)])
    assert float(losses["ranknet_soft"]) - floor >= -1e-5


@PROPS
@given(groups(), st.floats(-50, 50, width=32))
def test_shift_invariance(grp, c):
    f, g, tau, mask, w, _ = grp
    a = all_losses(f, g, tau, mask, w)
    assert_all_close(a, all_losses(f + np.float32(c), g, tau, mask, w), rtol=1e-4, atol=1e-4)


@PROPS
@given(groups())
def test_masking_equals_deleting(grp):
    f, g, tau, mask, w, _ = grp
    deleted = all_losses(f[mask], g[mask], tau, None, w[mask])
    garbage = np.where(mask, f, np.nan).astype(np.float32), np.where(mask, g, np.inf).astype(np.float32)
    assert_all_close(all_losses(*garbage, tau, mask, w), deleted)  # masked scores must not leak in


@PROPS
@given(groups())
def test_unit_weights_equal_no_weights(grp):
    f, g, tau, mask, *_ = grp
    assert_all_close(all_losses(f, g, tau, mask, np.ones_like(f)), all_losses(f, g, tau, mask))


@PROPS
@given(groups())
def test_permuting_negatives(grp):
    f, g, tau, mask, w, perm = grp
    assert_all_close(all_losses(f, g, tau, mask, w), all_losses(f[perm], g[perm], tau, mask[perm], w[perm]))


@PROPS
@given(groups(lo=-3.0, hi=3.0))
def test_values_match_float64_reference(grp):
    f, g, tau, _, w, _ = grp
    got = all_losses(f, g, tau, None, w)
    assert_all_close(got, {n: np_loss(n, f, g, tau, w) for n in NAMES}, rtol=1e-4, atol=1e-4)


# ----------------------------------------------------------------------------- gradients


@settings(max_examples=10, deadline=None)
@given(groups(lo=-3.0, hi=3.0))
def test_grad_vs_finite_differences(grp):
    f, g, tau, _, w, _ = grp
    f64, eps = f.astype(np.float64), 1e-6
    for name, (_, got) in all_values_and_grads(f, g, tau, None, w).items():
        fd = np.array(
            [
                (np_loss(name, f64 + eps * e, g, tau, w) - np_loss(name, f64 - eps * e, g, tau, w)) / (2 * eps)
                for e in np.eye(len(f))
            ]
        )
        assert close(got, fd, rtol=1e-3, atol=1e-4), (name, got, fd)


# ----------------------------------------------------------------------------- extremes


@pytest.mark.parametrize("masked", [False, True])
def test_extreme_scores_finite(masked):
    rng = np.random.default_rng(0)
    f = jnp.asarray(rng.uniform(-1e4, 1e4, (4, 6)), jnp.float32)
    g = jnp.asarray(rng.uniform(-1e4, 1e4, (4, 6)), jnp.float32)
    mask = weights = None
    if masked:
        mask = np.ones((4, 6), bool)
        mask[:, [2, 5]] = False
        mask[3, 1:] = False  # a list with the positive only
        f = jnp.where(mask, f, -jnp.inf)
        weights = jnp.asarray(rng.uniform(0, 5, (4, 6)), jnp.float32)
    for tau in [1e-3, 1e-2, 1.0]:
        for name, (val, grad) in all_values_and_grads(f, g, tau, mask, weights).items():
            assert np.isfinite(val) and np.all(np.isfinite(grad)), (name, tau)


# ----------------------------------------------------------------------------- composition


def test_jit_vmap_grad_compose():
    rng = np.random.default_rng(1)
    f = jnp.asarray(rng.normal(size=(2, 3, 5)), jnp.float32)
    g = jnp.asarray(rng.normal(size=(2, 3, 5)), jnp.float32)
    per_list = jax.jit(jax.vmap(jax.vmap(lambda x, y: {n: jax.grad(fn)(x, y, tau=0.5) for n, fn in LOSSES.items()})))
    grads = per_list(f, g)
    means = jax.jit(lambda x, y: {n: fn(x, y, tau=0.5, reduce_fn=jnp.mean) for n, fn in LOSSES.items()})(f, g)
    per_list_losses = all_losses(f, g, 0.5)
    for name, (total, grad) in all_values_and_grads(f, g, 0.5).items():
        assert per_list_losses[name].shape == (2, 3)
        assert close(grads[name], grad, rtol=1e-5, atol=1e-6), name
        assert close(total, jnp.sum(per_list_losses[name])), name
        assert close(means[name], jnp.mean(per_list_losses[name])), name


# ----------------------------------------------------------------------------- RankNet pairs


def np_ranknet_positive(name, f, g, tau, w):
    """Float64 reference of ``pairs="positive"``: the ``w_j``-weighted mean of the k = 2 loss on ``(0, j)``."""
    per_pair = [np_loss(name, f[[0, j]], g[[0, j]], tau, w[[0, j]]) for j in range(1, len(f))]
    return np.sum(w[0] * w[1:] * np.array(per_pair)) / np.sum(w[0] * w[1:])


@PROPS
@given(groups(lo=-3.0, hi=3.0))
def test_positive_pairs_match_the_float64_reference(grp):
    f, g, tau, _, w, _ = grp
    for name, fn in (("ranknet_soft", ranknet_soft), ("ranknet_hard", ranknet_hard)):
        got = fn(f, g, tau=tau, weights=w, pairs="positive")
        assert close(got, np_ranknet_positive(name, f, g, tau, w), rtol=1e-4, atol=1e-4), name


@PROPS
@given(groups())
def test_positive_pairs_masking_equals_deleting(grp):
    f, g, tau, mask, w, _ = grp
    for fn in (ranknet_soft, ranknet_hard):
        deleted = fn(f[mask], g[mask], tau=tau, weights=w[mask], pairs="positive")
        garbage = np.where(mask, f, np.nan).astype(np.float32), np.where(mask, g, np.inf).astype(np.float32)
        assert close(fn(*garbage, tau=tau, where=mask, weights=w, pairs="positive"), deleted)


def test_pairs_agree_at_k2_and_differ_when_negatives_disagree():
    f2, g2 = jnp.array([0.3, 1.0]), jnp.array([1.0, -1.0])
    assert float(ranknet_soft(f2, g2, pairs="positive")) == float(ranknet_soft(f2, g2))  # one pair: the same
    f, g = jnp.array([1.0, 0.0, 0.0]), jnp.array([2.0, 1.0, -1.0])  # the student ties the two negatives
    assert float(ranknet_hard(f, g, pairs="positive")) == pytest.approx(softplus(-1.0))
    assert float(ranknet_hard(f, g)) == pytest.approx((2 * softplus(-1.0) + softplus(0.0)) / 3)


def test_default_pairs_is_every_pair_bit_for_bit():
    """The default config runs the registered function itself: today's numbers, bit for bit."""
    from simrank.losses import LossConfig, configured_loss

    assert (
        LossConfig("ranknet_soft").fn() is ranknet_soft and configured_loss("ranknet_hard", pairs="all") is ranknet_hard
    )
    rng = np.random.default_rng(0)
    f, g = (jnp.asarray(rng.normal(size=(16, 8)), jnp.float32) for _ in range(2))
    assert np.array_equal(ranknet_soft(f, g, tau=0.5), ranknet_soft(f, g, tau=0.5, pairs="all"))
    positive = LossConfig("ranknet_soft", pairs="positive").fn()
    assert np.array_equal(positive(f, g, tau=0.5), ranknet_soft(f, g, tau=0.5, pairs="positive"))
    assert not np.allclose(positive(f, g, tau=0.5), ranknet_soft(f, g, tau=0.5))


@pytest.mark.parametrize(
    "options, needle",
    [
        (dict(name="kl", pairs="positive"), "loss.pairs = 'positive' is not allowed with loss.name = 'kl'; only with"),
        (dict(name="ranknet_soft", pairs="negatives"), "loss.pairs = 'negatives' is not allowed; choose one of all"),
    ],
)
def test_bad_pairs_is_one_line(options, needle):
    from simrank.errors import ConfigError
    from simrank.losses import LossConfig

    with pytest.raises(ConfigError) as err:
        LossConfig(**options)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_the_runner_trains_each_pairs_option_with_its_own_loss(tmp_path):
    """A grid over ``loss.pairs``: the ``all`` points reproduce a config without the key bit for bit (the default is
    today's loss), and the ``positive`` points train a different model."""
    from simrank.config import load_experiment
    from simrank.runner import RUN_COLUMNS
    from simrank.sweep import run_experiment

    from tiny import tiny_config

    base = tiny_config(seeds=1, steps=20, losses=("ranknet_hard",)).replace('"sampler.pool_size" = [120, 10]\n', "")
    paths = {}
    for name, extra in (("default", ""), ("pairs", '"loss.pairs" = ["all", "positive"]\n')):
        paths[name] = tmp_path / f"{name}.toml"
        paths[name].write_text(base + extra)
    measures = ["train_risk", "test_risk", "ndcg10", "kendall_teacher"]
    default = run_experiment(load_experiment(str(paths["default"])), tmp_path / "a", progress=False)
    grid = run_experiment(load_experiment(str(paths["pairs"])), tmp_path / "b", progress=False)
    pairs = grid["config"].map(lambda c: json.loads(c)["loss"]["pairs"])
    every = grid[pairs == "all"].drop(columns=RUN_COLUMNS).reset_index(drop=True)
    assert np.array_equal(every[measures].to_numpy(), default.drop(columns=RUN_COLUMNS)[measures].to_numpy())
    positive = grid[pairs == "positive"].reset_index(drop=True)
    assert not np.allclose(positive["train_risk"], every["train_risk"])
