"""The real-data QuerySet builder and the residual student, on the tiny generated collection."""

from __future__ import annotations

from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from simrank.errors import ConfigError
from simrank.groups import draw_groups
from simrank.real.confirm.design import ALPHA_INIT
from simrank.real.confirm.training import make_real_student, pad_groups
from simrank.real.data.beir import EMBEDDINGS_FILE, DataError, load_collection, load_embeddings
from simrank.real.data.bm25 import BM25Index
from simrank.real.data.queryset import judged_queries, real_query_set, teacher_positives, teacher_query_set
from simrank.real.data.teacher import hybrid_teacher_scores
from simrank.samplers import make_sampler


@pytest.fixture
def parts(tiny_beir):
    c = load_collection(tiny_beir)
    return c, load_embeddings(tiny_beir / EMBEDDINGS_FILE, c), BM25Index.build(c)


def test_data_error_is_a_config_error():
    assert issubclass(DataError, ConfigError)


def test_train_query_set_uses_train_judgments_only(parts):
    c, e, bm25 = parts
    train = c.qrels["train"]
    qs = real_query_set(c, e, bm25, judged_queries(train), train)
    assert qs.queries.shape == (4, 16) and qs.docs.shape == (30, 16) and set(qs.proxies) == {"bm25", "dense", "teacher"}
    # q{j} is judged relevant to d{3j} only: p_q is the point mass there, grades the same indicator
    expected = np.zeros((4, 30))
    expected[np.arange(4), [c.doc_ids.index(f"d{3 * j}") for j in range(4)]] = 1.0
    np.testing.assert_array_equal(qs.positive_probs, expected)
    np.testing.assert_array_equal(qs.grades, expected.astype(np.int32))
    np.testing.assert_allclose(
        qs.teacher_scores, hybrid_teacher_scores(qs.proxies["bm25"], qs.proxies["dense"]), rtol=1e-6
    )
    # the test judgments never enter: dropping them leaves every array unchanged
    no_test = replace(c, qrels={"train": train, "test": train.iloc[:0]})
    again = real_query_set(no_test, e, bm25, judged_queries(train), train)
    for a, b in [
        (qs.teacher_scores, again.teacher_scores),
        (qs.positive_probs, again.positive_probs),
        (qs.grades, again.grades),
    ]:
        np.testing.assert_array_equal(a, b)


def test_positive_probs_uniform_over_several_positives(parts):
    c, e, bm25 = parts
    test = c.qrels["test"]  # q4 has two judged positives, d12 and d1
    qs = real_query_set(c, e, bm25, ["q4"], test, teacher="bm25")
    nonzero = {c.doc_ids[j]: p for j, p in enumerate(qs.positive_probs[0]) if p > 0}
    assert nonzero == {"d12": 0.5, "d1": 0.5}
    np.testing.assert_array_equal(qs.teacher_scores, qs.proxies["bm25"])


def test_teacher_positive_for_unlabelled_queries(parts):
    c, e, bm25 = parts
    qs = real_query_set(c, e, bm25, ["u0", "u1"], c.qrels["train"], teacher="dense", teacher_positive=True)
    np.testing.assert_array_equal(qs.positive_probs.argmax(1), qs.teacher_scores.argmax(1))
    np.testing.assert_array_equal(qs.positive_probs.max(1), [1.0, 1.0])
    assert qs.grades.sum() == 0


def test_query_without_positive_is_one_line_error(parts):
    c, e, bm25 = parts
    with pytest.raises(DataError, match=r"queries \['u0'\].*no positive") as err:
        real_query_set(c, e, bm25, ["q0", "u0"], c.qrels["train"])
    assert "\n" not in str(err.value)
    zero = pd.DataFrame({"query_id": ["q0"], "doc_id": ["d0"], "relevance": [0]})
    with pytest.raises(DataError, match="no positive"):
        real_query_set(c, e, bm25, ["q0"], zero)


def test_bm25_top_m_negatives_come_from_the_bm25_pool(parts):
    c, e, bm25 = parts
    qs = real_query_set(c, e, bm25, judged_queries(c.qrels["train"]), c.qrels["train"])
    groups, _ = draw_groups(qs, make_sampler("local", pool_size=5, proxy="bm25"), 40, 4, np.random.default_rng(0))
    kth = np.sort(qs.proxies["bm25"], axis=1)[:, -5]  # 5th largest BM25 score per query
    neg_scores = np.take_along_axis(qs.proxies["bm25"][groups.query_id], groups.doc_id[:, 1:], axis=1)
    assert np.all(neg_scores >= kth[groups.query_id][:, None])


@pytest.mark.parametrize("name", ["diag", "full", "lowrank"])
def test_residual_student_is_alpha_cosine_plus_bilinear(name):
    """The fast path qᵀ(αI + W)x equals α·cos + the base student's own score, for random parameters."""
    student = make_real_student(name, 6)
    key_q, key_x, key_p = jax.random.split(jax.random.PRNGKey(0), 3)
    q, x = jax.random.normal(key_q, (3, 6)), jax.random.normal(key_x, (3, 5, 6))
    params = jax.tree_util.tree_map(lambda p: p + 0.3 * jax.random.normal(key_p, p.shape), student.init(key_p))
    base = {"diag": jnp.diag, "full": lambda w: w}
    if name == "lowrank":
        matrix = params["base"]["u"] @ params["base"]["v"].T
    else:
        matrix = base[name](params["base"]["w"])
    expected = params["alpha"] * jnp.einsum("nd,nkd->nk", q, x) + jnp.einsum("nd,de,nke->nk", q, matrix, x)
    np.testing.assert_allclose(student.apply(params, q, x), expected, rtol=1e-5, atol=1e-5)
    init = student.init(key_p)
    if name != "lowrank":  # zero correction at init: the student is the scaled dense retriever
        np.testing.assert_allclose(student.apply(init, q, x), ALPHA_INIT * jnp.einsum("nd,nkd->nk", q, x), rtol=1e-6)


def test_teacher_positives_top1_and_softmax():
    g = np.array([[0.0, 2.0, 1.0], [3.0, 3.0, -1.0]])
    np.testing.assert_array_equal(teacher_positives(g, "teacher_top1"), [[0, 1, 0], [1, 0, 0]])  # ties: first
    soft = teacher_positives(g, "teacher_softmax", tau=0.5)
    np.testing.assert_allclose(soft[0], np.exp(g[0] / 0.5) / np.exp(g[0] / 0.5).sum())
    np.testing.assert_allclose(soft.sum(axis=1), 1.0)
    with pytest.raises(DataError, match="teacher_top1"):
        teacher_positives(g, "gold")


def test_teacher_query_set_labels_unjudged_queries_with_the_teacher(parts):
    c, emb, bm25 = parts
    vectors = emb.doc_emb[[0, 5]]  # title pseudo-queries of d0 and d5
    qs = teacher_query_set(emb, bm25, vectors, ["Title 0", "Title 5"])
    assert qs.grades.shape == (2, 0) and qs.teacher_scores.shape == (2, len(c.doc_ids))
    np.testing.assert_array_equal(qs.positive_probs.argmax(axis=1), qs.teacher_scores.argmax(axis=1))
    np.testing.assert_allclose(qs.proxies["dense"], vectors @ emb.doc_emb.T, rtol=1e-6)
    groups, _ = draw_groups(qs, make_sampler(kind="uniform"), 6, 3, np.random.default_rng(0))
    np.testing.assert_array_equal(groups.doc_id[:, 0], qs.teacher_scores.argmax(axis=1)[[0, 1, 0, 1, 0, 1]])


def test_pad_groups_masks_the_extra_items(parts):
    c, emb, bm25 = parts
    qs = teacher_query_set(emb, bm25, emb.doc_emb[:3], ["Title 0", "Title 1", "Title 2"])
    groups, _ = draw_groups(qs, make_sampler(kind="uniform"), 4, 2, np.random.default_rng(0))
    padded = pad_groups(groups, 5)
    assert padded.docs.shape == (4, 5, groups.docs.shape[2]) and padded.where[:, 2:].sum() == 0
    np.testing.assert_array_equal(padded.doc_id[:, :2], groups.doc_id)
    from simrank.losses import kl_distill

    f = jnp.asarray(np.random.default_rng(1).normal(size=(4, 5)))
    np.testing.assert_allclose(
        kl_distill(f, padded.teacher_scores, where=padded.where), kl_distill(f[:, :2], groups.teacher_scores), rtol=1e-6
    )


def test_lowrank_student_learns_a_correction_far_beyond_norm_one():
    """A teacher ``qᵀ(α₀ I + W*)x`` with a rank-2 ``W*`` of Frobenius norm 40 (``α₀ = 20``): the lowrank student under
    its default cap fits it (MarginMSE falls below 2% of its start and ``‖U Vᵀ‖_F`` exceeds 20), while the old cap
    ``‖U Vᵀ‖_F ≤ 1`` (negative control) cannot (its loss stays above half its start)."""
    from simrank.groups import Groups
    from simrank.losses import margin_mse
    from simrank.real.confirm.design import lowrank_norm_bound
    from simrank.trainer import TrainConfig, make_trainer, mean_loss

    d, n, k, n_docs = 8, 256, 8, 200
    rng = np.random.default_rng(0)
    unit = lambda m: m / np.linalg.norm(m, axis=-1, keepdims=True)  # noqa: E731
    corpus, queries = unit(rng.normal(size=(n_docs, d))), unit(rng.normal(size=(n, d)))
    a, b = np.linalg.qr(rng.normal(size=(d, 2)))[0], np.linalg.qr(rng.normal(size=(d, 2)))[0]
    target = 40.0 / np.sqrt(2) * a @ b.T  # ‖W*‖_F = 40
    doc_id = rng.integers(0, n_docs, (n, k))
    docs = corpus[doc_id]
    g = np.einsum("nd,de,nke->nk", queries, ALPHA_INIT * np.eye(d) + target, docs)
    groups = Groups(
        query=queries.astype(np.float32),
        docs=docs.astype(np.float32),
        query_id=np.arange(n, dtype=np.int32),
        doc_id=doc_id.astype(np.int32),
        teacher_scores=g.astype(np.float32),
        log_nu=np.zeros((n, k), np.float32),
        where=np.ones((n, k), bool),
    )
    config = TrainConfig(steps=300, batch_size=64, learning_rate=0.1)
    outcome = {}
    for label, bound in (("default", None), ("old cap", 1.0)):
        student = make_real_student("lowrank", d, rank=4, norm_bound=bound)
        start = mean_loss(student, margin_mse, student.project(student.init(jax.random.PRNGKey(0))), groups, {})
        params, _ = jax.jit(make_trainer(student, margin_mse, config))(jax.random.PRNGKey(0), groups, {})
        norm = float(jnp.linalg.norm(params["base"]["u"] @ params["base"]["v"].T))
        outcome[label] = (float(mean_loss(student, margin_mse, params, groups, {})) / float(start), norm)
    assert lowrank_norm_bound(4) == 2 * ALPHA_INIT
    assert outcome["default"][0] < 0.02 and outcome["default"][1] > 20, outcome
    assert outcome["old cap"][0] > 0.5 and outcome["old cap"][1] <= 1.0 + 1e-4, outcome
