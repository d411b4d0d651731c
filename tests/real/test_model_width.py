"""One compiled width per trainer and measurement: models trained and measured ``width`` at a time give each model
the outputs of its own inputs, and a trainer compiles once per (loss, steps) whatever the number of models, the
epochs drawn or the pool."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simrank.groups import EpochGroups, GroupIndex
from simrank.real.confirm.design import load_real_config
from simrank.real.confirm.training import _stack, in_width, make_measure, make_real_student, make_train_fn

TINY = Path(__file__).parent / "tiny-confirm.toml"


@given(st.integers(1, 13), st.integers(1, 6), st.integers(0, 2**16))
@settings(max_examples=40, deadline=None)
def test_in_width_gives_every_model_the_outputs_of_its_own_rows(m, width, seed):
    """A row-wise function of per-model rows, a shared argument and redrawn groups' index tables: in chunks of
    ``width`` (the last padded) the outputs are exactly the direct call's, ``m`` rows, whatever ``m`` and ``width``."""
    rng = np.random.default_rng(seed)
    x, shared = rng.normal(size=(m, 3)).astype(np.float32), rng.normal(size=3).astype(np.float32)
    epochs = GroupIndex(*(rng.integers(0, 5, size=(m, 2, 4)) for _ in range(5)))
    groups = EpochGroups(np.zeros((5, 3)), np.zeros((7, 3)), epochs)

    def fn(x, shared, groups):
        return {"y": x * shared + groups.epochs.doc_id.sum(axis=(1, 2))[:, None], "n": np.full(len(x), len(x))}

    direct = fn(x, shared, groups)
    chunked = in_width(fn, width, (x, shared, groups), (0, None, EpochGroups(None, None, 0)))
    np.testing.assert_array_equal(chunked["y"], direct["y"])
    assert chunked["n"].shape == (m,) and (chunked["n"] == width).all()  # every call had the one width


def _tiny_groups(tiny_beir, cfg, n_models: int, epochs: int) -> tuple:
    from simrank.real.confirm.inputs import prepare
    from simrank.real.confirm.training import _draw

    data = prepare(tiny_beir, cfg)
    drawn = [_draw(data.pools["teacher"], cfg, "bm25", 4, [s, 4, 1], epochs)[0] for s in range(n_models)]
    return data, _stack(drawn)


def test_trainer_in_width_matches_the_direct_call_and_compiles_once(tiny_beir):
    """5 models at width 4 (two calls, the second padded) from groups with more epochs than 10 steps read and query
    vectors padded to 3 extra rows train to the direct call's parameters and risks on the exact epochs; a call with
    another number of models and more epochs reuses the one compilation."""
    cfg = replace(load_real_config(TINY), redraw="epoch")
    data, groups = _tiny_groups(tiny_beir, cfg, 5, cfg.epochs(10) + 2)
    student = make_real_student("full", data.test.docs.shape[1])
    keys = jax.random.split(jax.random.PRNGKey(0), 5)
    lr, tau = jnp.asarray([0.001, 0.003, 0.01, 0.03, 0.01]), jnp.ones(5)
    exact = groups._replace(epochs=jax.tree_util.tree_map(lambda a: a[:, : cfg.epochs(10)], groups.epochs))
    direct = make_train_fn(student, "kl", 10, cfg)(keys, exact, lr, tau)
    wide = make_train_fn(student, "kl", 10, cfg, width=4, query_rows=groups.queries.shape[0] + 3)
    chunked = wide(keys, groups, lr, tau)
    for a, b in zip(jax.tree_util.tree_leaves(chunked), jax.tree_util.tree_leaves(direct)):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-6)
    wide(keys[:2], exact._replace(epochs=jax.tree_util.tree_map(lambda a: a[:2], exact.epochs)), lr[:2], tau[:2])
    assert wide.compiled._cache_size() == 1


def test_measure_in_width_is_the_direct_measure_with_one_compilation(tiny_beir):
    """The start (1 model) and 5 trained-like models measured at width 4: every per-query measure equals the direct
    call's, and both calls share one compilation."""
    cfg = load_real_config(TINY)
    from simrank.real.confirm.inputs import prepare

    data = prepare(tiny_beir, cfg)
    student = make_real_student("full", data.test.docs.shape[1])
    rng = np.random.default_rng(0)
    init = student.init(jax.random.PRNGKey(0))
    params = jax.tree_util.tree_map(lambda a: np.stack([a + 0.05 * rng.normal(size=a.shape) for _ in range(5)]), init)
    params = jax.tree_util.tree_map(lambda a: a.astype(np.float32), params)
    sets, tau = {"test": data.test.arrays()}, jnp.ones(5)
    direct = make_measure(student, 10)(params, sets, tau)
    wide = make_measure(student, 10, width=4)
    chunked = wide(params, sets, tau)
    assert chunked.keys() == direct.keys()
    for key in direct:
        np.testing.assert_allclose(chunked[key], np.asarray(direct[key]), rtol=1e-6, atol=1e-6, err_msg=key)
    wide(jax.tree_util.tree_map(lambda a: a[:1], params), sets, tau[:1])
    assert wide.compiled._cache_size() == 1
