"""Worlds, students and the vmapped trainer."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from threadpoolctl import threadpool_info

from simrank.errors import ConfigError
from simrank.groups import draw_groups, one_blas_thread, world_query_set
from simrank.losses import kl_distill
from simrank.samplers import make_sampler
from simrank.students import MLP_BACKWARDS, bilinear, make_student, mlp
from simrank.teacher import Teacher
from simrank.trainer import TrainConfig, group_scores, make_trainer, mean_loss, vmap_models
from simrank.world import WorldConfig


@pytest.mark.parametrize("geometry", ["isotropic", "cone", "clustered"])
@pytest.mark.parametrize("sphere", [False, True])
def test_world_generation(geometry, sphere):
    cfg = WorldConfig(geometry=geometry, sphere=sphere, n_docs=200, dim=6, random_state=5)
    a, b = cfg.generate(), cfg.generate()
    assert np.array_equal(a.docs, b.docs) and a.docs.shape == (200, 6)
    if sphere:
        assert np.allclose(np.linalg.norm(a.docs, axis=1), 1.0, atol=1e-5)
    q = a.sample_queries(10, 0)
    p = a.positive_distribution(q)
    assert np.allclose(p.sum(1), 1.0)
    grades = a.grades(q)
    assert grades.min() == 0 and grades.max() == 3 and (grades == 3).sum(1).min() >= 1


def test_cone_world_has_high_cosine_similarity():
    cone = WorldConfig(geometry="cone", n_docs=300, dim=8).generate().docs
    iso = WorldConfig(geometry="isotropic", n_docs=300, dim=8).generate().docs

    def mean_cos(x):
        u = x / np.linalg.norm(x, axis=1, keepdims=True)
        return (u @ u.T).mean()

    assert mean_cos(cone) > 0.5 > abs(mean_cos(iso))


def test_raw_cone_has_isotropic_norms_and_smaller_pairwise_distances():
    """Same random_state, same noise z: ‖x_cone‖ = ‖z‖ = ‖x_iso‖, and over 1000 disjoint (independent) pairs the
    squared distance is smaller in the cone (E = 2 in the isotropic world); 4 standard errors each side."""
    cone, iso = (
        WorldConfig(geometry=g, n_docs=2000, dim=8, random_state=3).generate().docs for g in ("cone", "isotropic")
    )
    np.testing.assert_allclose(np.linalg.norm(cone, axis=1), np.linalg.norm(iso, axis=1), rtol=1e-5)

    def pair_sq_dist(x):
        return np.sum((x[0::2] - x[1::2]) ** 2, axis=1)

    d_iso, d_cone = pair_sq_dist(iso), pair_sq_dist(cone)
    se = lambda x: x.std(ddof=1) / np.sqrt(x.size)  # noqa: E731
    assert abs(d_iso.mean() - 2.0) < 4 * se(d_iso)
    diff = d_iso - d_cone
    assert diff.mean() > 4 * se(diff)


def test_sphere_cone_is_the_direction_of_c_u_plus_noise():
    """The unit-sphere cone world is x = (c·u + z)/‖c·u + z‖ from the generator's stream, bit for bit (the raw
    cone's rescaling draws no random numbers), for documents and (shifted) queries."""
    cfg = WorldConfig(geometry="cone", sphere=True, n_docs=300, dim=8, random_state=11)
    world = cfg.generate()
    rng = np.random.default_rng(cfg.random_state)
    u = rng.standard_normal(8)
    u /= np.linalg.norm(u)
    rng.standard_normal(8), rng.standard_normal((cfg.n_topics, 8)), rng.standard_normal((8, 8))
    rng.standard_normal((8, 8))  # shift direction, topic centres, relevance and non-bilinear maps
    v = cfg.cone_strength * u + rng.standard_normal((300, 8)) / np.sqrt(8)
    assert np.array_equal(world.docs, (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32))
    q = np.random.default_rng(5).standard_normal((20, 8)) / np.sqrt(8)
    v = cfg.cone_strength * u + q + 1.0 * world.shift_direction
    expected = (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)
    assert np.array_equal(world.sample_queries(20, 5, shift=1.0), expected)


def test_bad_world_and_teacher_values():
    with pytest.raises(ConfigError, match="world.geometry = 'torus'"):
        WorldConfig(geometry="torus")
    with pytest.raises(ConfigError, match="teacher.tau = 0"):
        Teacher(tau=0)


@pytest.fixture(scope="module")
def groups():
    world = WorldConfig(n_docs=100, dim=4, random_state=1).generate()
    qs = world_query_set(world, Teacher(noise=0.2), 16, random_state=2)
    g, _ = draw_groups(qs, make_sampler(kind="uniform"), 64, 4, np.random.default_rng(3))
    return g


def test_norm_bound_is_enforced(groups):
    student = bilinear(4, norm_bound=0.5)
    train = make_trainer(student, kl_distill, TrainConfig(steps=50, learning_rate=0.5))
    params, _ = train(jax.random.PRNGKey(0), groups, {"tau": 0.2})
    assert float(jnp.linalg.norm(student.matrix(params))) <= 0.5 + 1e-5


@pytest.mark.parametrize(
    "student",
    [bilinear(4), bilinear(4, structure="low_rank", rank=2), mlp(4, hidden=8)],
    ids=["full", "low_rank", "mlp"],
)
def test_training_lowers_the_loss(groups, student):
    train = make_trainer(student, kl_distill, TrainConfig(steps=100, batch_size=None, learning_rate=0.05))
    params, curve = train(jax.random.PRNGKey(0), groups, {"tau": 1.0})
    initial = mean_loss(student, kl_distill, student.init(jax.random.PRNGKey(0)), groups, {"tau": 1.0})
    final = mean_loss(student, kl_distill, params, groups, {"tau": 1.0})
    assert float(final) < 0.8 * float(initial) and curve[-1] < curve[0]


def test_vmap_over_seeds_equals_a_loop(groups):
    student = mlp(4, hidden=8)
    train = make_trainer(student, kl_distill, TrainConfig(steps=30, batch_size=16))
    keys = jax.random.split(jax.random.PRNGKey(7), 3)
    stacked = jax.tree_util.tree_map(lambda a: jnp.stack([a] * 3), groups)
    taus = {"tau": jnp.array([0.5, 1.0, 2.0])}
    batched, _ = jax.jit(jax.vmap(train))(keys, stacked, taus)
    for i in range(3):
        single, _ = jax.jit(train)(keys[i], groups, {"tau": taus["tau"][i]})
        for a, b in zip(jax.tree_util.tree_leaves(single), jax.tree_util.tree_leaves(batched)):
            np.testing.assert_allclose(a, b[i], rtol=1e-4, atol=1e-5)


def test_models_trained_in_blocks_equal_one_vmap(groups):
    """``vmap_models`` with blocks of 2 (``lax.map`` over blocks, each vmapped) trains the same 4 MLP models as
    one vmap over all 4, to float32 round-off (the programs may sum in another order; tolerances as for the
    loop above); a block that does not divide the models is refused."""
    train = make_trainer(mlp(4, hidden=8), kl_distill, TrainConfig(steps=30, batch_size=16))
    keys = jax.random.split(jax.random.PRNGKey(5), 4)
    stacked = jax.tree_util.tree_map(lambda a: jnp.stack([a] * 4), groups)
    hyper = {"tau": jnp.array([0.5, 1.0, 2.0, 4.0])}
    whole = jax.jit(vmap_models(train, hyper))(keys, stacked, hyper)
    blocked = jax.jit(vmap_models(train, hyper, 2))(keys, stacked, hyper)
    for a, b in zip(jax.tree_util.tree_leaves(whole), jax.tree_util.tree_leaves(blocked)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="block = 3 does not divide the 4 models"):
        vmap_models(train, hyper, 3)(keys, stacked, hyper)


def test_student_factory_errors():
    with pytest.raises(ConfigError, match="student.kind = 'forest'"):
        make_student("forest", 4)
    with pytest.raises(ConfigError, match="student.rank"):
        make_student("bilinear", 4, structure="low_rank")


@pytest.mark.parametrize("optimizer", ["adam"])  # SGD scales its update the same way (no state)
def test_lr_scale_equals_the_scaled_learning_rate(groups, optimizer):
    student = bilinear(4)
    base = TrainConfig(steps=40, batch_size=16, learning_rate=1.0, optimizer=optimizer, weight_decay=0.01)
    scaled = TrainConfig(steps=40, batch_size=16, learning_rate=0.03, optimizer=optimizer, weight_decay=0.01)
    a, _ = jax.jit(make_trainer(student, kl_distill, base))(
        jax.random.PRNGKey(0), groups, {"tau": 1.0, "lr_scale": 0.03}
    )
    b, _ = jax.jit(make_trainer(student, kl_distill, scaled))(jax.random.PRNGKey(0), groups, {"tau": 1.0})
    np.testing.assert_allclose(a["w"], b["w"], rtol=1e-4, atol=1e-6)
    assert float(jnp.abs(b["w"]).max()) > 1e-3  # it did train
    # a schedule that is 0 from step 10 on leaves the parameters where step 10 left them
    stop = jnp.where(jnp.arange(40) < 10, 0.03, 0.0)
    c, _ = jax.jit(make_trainer(student, kl_distill, base))(
        jax.random.PRNGKey(0), groups, {"tau": 1.0, "lr_scale": stop}
    )
    frozen = TrainConfig(steps=40, batch_size=16, learning_rate=1.0, optimizer=optimizer, weight_decay=0.01)
    d, _ = jax.jit(make_trainer(student, kl_distill, frozen))(
        jax.random.PRNGKey(0), groups, {"tau": 1.0, "lr_scale": stop * 0}
    )
    assert not np.allclose(c["w"], a["w"]) and np.allclose(d["w"], 0.0)


@settings(max_examples=5, deadline=None)
@given(
    dim=st.integers(1, 6),
    hidden=st.integers(1, 9),
    shape=st.sampled_from([(5,), (2, 3), ()]),
    k=st.integers(1, 7),
    seed=st.integers(0, 2**16),
)
def test_mlp_hand_written_backward_equals_autodiff(dim, hidden, shape, k, seed):
    """The ``manual`` MLP (first layer fused per group, hand-written chain rule) and the ``autodiff`` reference
    (feature rows ``[q; x; q⊙x]``): the same scores, and the same gradients in the parameters and in the inputs
    (the Lipschitz measure needs ∂f/∂x) to float32 round-off; the two sum the same products in another order
    (the query part once per group): scores within a few ulps (rtol 1e-5, atol 1e-6); a gradient sums up to
    n = 35 items' products whose first layer is rounded differently, so up to ≈ n · 2ε ≈ 1e-5 of its scale
    (ε = 1.2e-7; atol 1e-5 · max(1, max |∂|): measured 1.8e-6 on an entry of 0.07 of ∂W₂)."""
    rng = np.random.default_rng(seed)
    query = jnp.asarray(rng.normal(size=(*shape, dim)), jnp.float32)
    docs = jnp.asarray(rng.normal(size=(*shape, k, dim)), jnp.float32)
    weights = jnp.asarray(rng.normal(size=(*shape, k)), jnp.float32)
    fast, reference = mlp(dim, hidden), mlp(dim, hidden, backward="autodiff")
    params = fast.init(jax.random.key(seed))

    def objective(student):
        return lambda p, q, x: jnp.sum(weights * jnp.tanh(student.apply(p, q, x)))

    np.testing.assert_allclose(
        fast.apply(params, query, docs), reference.apply(params, query, docs), rtol=1e-5, atol=1e-6
    )
    got = jax.grad(objective(fast), argnums=(0, 1, 2))(params, query, docs)
    want = jax.grad(objective(reference), argnums=(0, 1, 2))(params, query, docs)
    for a, b in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * max(1.0, float(np.abs(b).max())))


@settings(max_examples=10, deadline=None)
@given(
    dim=st.integers(1, 6),
    hidden=st.integers(1, 9),
    n=st.integers(2, 6),
    n_docs=st.integers(1, 40),
    backward=st.sampled_from(MLP_BACKWARDS),
    seed=st.integers(0, 2**16),
)
def test_mlp_shared_corpus_scores_equal_the_feature_rows(dim, hidden, n, n_docs, backward, seed):
    """Queries ``[n, d]`` against one corpus ``[1, N, d]`` (the evaluation path: ``x W_x`` once per document,
    ``[q; x; q⊙x]`` never built) score as the same corpus copied into one group per query (``[n, N, d]``:
    the feature rows ``[q; x; q⊙x]`` through the whole network), to
    float32 round-off: the first layer's ``3d`` products are summed in another order, a few ulps of the
    largest term (rtol 1e-5, atol 1e-5)."""
    rng = np.random.default_rng(seed)
    query = jnp.asarray(rng.normal(size=(n, dim)), jnp.float32)
    docs = jnp.asarray(rng.normal(size=(1, n_docs, dim)), jnp.float32)
    student = mlp(dim, hidden, backward)
    params = student.init(jax.random.key(seed))
    want = student.apply(params, query, jnp.broadcast_to(docs, (n, n_docs, dim)))  # one group per query: the rows
    got = student.apply(params, query, docs)
    assert got.shape == (n, n_docs)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(jax.jit(student.apply)(params, query, docs), want, rtol=1e-5, atol=1e-5)


def test_mlp_layouts_train_to_the_same_parameters(groups):
    """100 vmapped Adam steps of both MLP layouts end at the same parameters and scores to float32 round-off:
    the two programs' gradients differ by a few ulps (test above), which Adam's normalised steps carry
    through ReLU kinks into a few 1e-5 of the scores after 300 steps (measured 3e-5 on 3 of 512), hence
    rtol 1e-3, atol 1e-4."""
    keys = jax.random.split(jax.random.PRNGKey(3), 2)
    stacked = jax.tree_util.tree_map(lambda a: jnp.stack([a] * 2), groups)
    hyper = {"tau": jnp.array([0.5, 2.0])}
    trained = {}
    for backward in MLP_BACKWARDS:
        student = mlp(4, hidden=8, backward=backward)
        params, _ = jax.jit(jax.vmap(make_trainer(student, kl_distill, TrainConfig(steps=100, batch_size=16))))(
            keys, stacked, hyper
        )
        trained[backward] = params, jax.vmap(lambda p: group_scores(student, p, groups))(params)
    for a, b in zip(jax.tree_util.tree_leaves(trained["manual"]), jax.tree_util.tree_leaves(trained["autodiff"])):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)


def test_mlp_backward_is_a_config_error():
    with pytest.raises(ConfigError, match="backward = 'numeric'"):
        mlp(4, backward="numeric")


def test_one_blas_thread_is_scoped_and_changes_no_number():
    """Inside the block every BLAS library runs one thread; after it the caller's counts are back; the
    data built inside equal those built outside, bit for bit."""
    world = WorldConfig(n_docs=300, dim=8).generate()
    before = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    outside = world_query_set(world, Teacher(), n_queries=40, random_state=1)
    with one_blas_thread():
        assert {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"} == {1}
        inside = world_query_set(world, Teacher(), n_queries=40, random_state=1)
    assert [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"] == before
    for name in ("queries", "teacher_scores", "positive_probs", "grades"):
        assert np.array_equal(getattr(outside, name), getattr(inside, name))
    assert all(np.array_equal(outside.proxies[k], inside.proxies[k]) for k in outside.proxies)
