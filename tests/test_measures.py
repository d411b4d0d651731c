"""Measures on hand-built groups and scores."""

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simrank.measures import (
    IR_NAMES,
    average_ranks,
    cosine_diameter,
    diameter,
    diameter_summary,
    ir_name,
    kappa,
    kendall_tau,
    lipschitz,
    listwise_entropy,
    ndcg_at,
    pairwise_entropy,
    rank_correlation,
    recall_at,
    rr_at,
)
from simrank.students import bilinear


def test_diameter_of_a_right_triangle():
    docs = jnp.array([[[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]]])
    assert np.allclose(diameter(docs), [5.0])
    assert np.allclose(diameter(docs, where=jnp.array([[True, True, False]])), [3.0])
    assert np.allclose(cosine_diameter(jnp.array([[[1.0, 0.0], [0.0, 2.0]]])), [1.0])


def test_diameter_summary():
    s = diameter_summary(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 2.0]))
    assert s["delta_max"] == 3.0 and np.isclose(s["delta_rms"], np.sqrt((1 + 4 + 36) / 3))


def test_entropies():
    g = jnp.zeros((1, 4))
    assert np.allclose(pairwise_entropy(g, 1.0), np.log(2))
    assert np.allclose(listwise_entropy(g, 1.0), np.log(4))
    g2 = jnp.array([[1.0, 0.0]])
    p = 1 / (1 + np.exp(-1 / 0.5))
    assert np.allclose(pairwise_entropy(g2, 0.5), -(p * np.log(p) + (1 - p) * np.log(1 - p)), atol=1e-6)
    # entropy decreases as the temperature decreases
    g3 = jnp.array([[2.0, 1.0, 0.0, -1.0]])
    assert float(pairwise_entropy(g3, 0.3)[0]) < float(pairwise_entropy(g3, 3.0)[0])


def test_kappa():
    mu = np.full((1, 4), 0.25)
    assert np.allclose(kappa(mu, mu), 1.0)
    assert np.isinf(kappa(mu, np.array([[0.5, 0.5, 0.0, 0.0]])))[0]
    nu = np.array([[0.7, 0.1, 0.1, 0.1]])
    assert np.allclose(kappa(mu, nu), 2.5)


def test_ndcg_and_rr_by_hand():
    grades = jnp.array([[0, 2, 0, 1]])
    scores = jnp.array([[4.0, 3.0, 2.0, 1.0]])  # ranking: d0 (0), d1 (2), d2 (0), d3 (1)
    dcg = 3 / np.log2(3) + 1 / np.log2(5)
    idcg = 3 / np.log2(2) + 1 / np.log2(3)
    assert np.allclose(ndcg_at(scores, grades, 4), dcg / idcg)
    assert np.allclose(rr_at(scores, grades, 4), 0.5)
    assert np.allclose(ndcg_at(grades.astype(float), grades, 2), 1.0)
    assert np.allclose(rr_at(scores, jnp.zeros((1, 4)), 4), 0.0)


def test_kendall_tau():
    a = jnp.array([[1.0, 2.0, 3.0, 4.0]])
    assert np.allclose(kendall_tau(a, a), 1.0) and np.allclose(kendall_tau(a, -a), -1.0)
    assert np.allclose(kendall_tau(a, jnp.array([[1.0, 2.0, 4.0, 3.0]])), 1 - 2 / 6)


def test_lipschitz_of_bilinear_is_max_norm_of_w_transpose_q():
    student = bilinear(3)
    w = jnp.array([[1.0, 2.0, 0.0], [0.0, 1.0, -1.0], [3.0, 0.0, 1.0]])
    queries = jnp.array([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
    docs = jnp.ones((5, 3))
    expected = max(np.linalg.norm(w.T @ q) for q in np.asarray(queries))
    assert np.allclose(lipschitz(student.apply, {"w": w}, queries, docs), expected, rtol=1e-5)


def test_rank_correlation_by_hand_with_ties():
    a = jnp.array([1.0, 2.0, 2.0, 5.0])
    b = jnp.array([4.0, 3.0, 1.0, 2.0])
    assert np.allclose(average_ranks(a), [1.0, 2.5, 2.5, 4.0])  # the tied pair shares ranks 2 and 3
    # centred ranks r = (-1.5, 0, 0, 1.5), s = (1.5, 0.5, -1.5, -0.5): Σrs = -3, Σr² = 4.5, Σs² = 5
    assert np.allclose(rank_correlation(a, b), -3 / np.sqrt(4.5 * 5))
    assert np.allclose(rank_correlation(a, a**3), 1.0) and np.allclose(rank_correlation(a, -a), -1.0)
    assert np.isnan(rank_correlation(a, jnp.full(4, 0.7)))  # constant nDCG across queries: NaN, no crash


def test_rank_correlation_matches_scipy_rowwise():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(0)
    a = rng.integers(0, 4, size=(5, 12)).astype(np.float32)  # many ties
    b = rng.normal(size=(5, 12)).astype(np.float32)
    expected = [spearmanr(x, y).statistic for x, y in zip(a, b)]
    assert np.allclose(rank_correlation(jnp.asarray(a), jnp.asarray(b)), expected, atol=1e-5)


def test_recall_at_counts_relevant_documents_in_the_top_cutoff():
    scores = jnp.array([[0.9, 0.8, 0.1, 0.5], [0.1, 0.2, 0.3, 0.4], [1.0, 0.0, 0.5, 0.2]])
    relevance = jnp.array([[1, 0, 2, 0], [0, 0, 0, 0], [0, 1, 0, 3]])
    # row 0: top-2 = {0, 1}, relevant {0, 2} -> 1/2; row 1: nothing relevant -> 0; row 2: top-2 = {0, 2} -> 0/2
    assert np.allclose(recall_at(scores, relevance, 2), [0.5, 0.0, 0.0])
    assert np.allclose(recall_at(scores, relevance, 4), [1.0, 0.0, 1.0])  # cutoff = N retrieves everything
    assert recall_at(scores[None], relevance[None], 3).shape == (1, 3)  # leading batch axes


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(0, 3), min_size=12, max_size=30),
    st.integers(0, 2**31 - 1),
    st.sampled_from([1, 5, 10]),
)
def test_ndcg_both_gains_match_ir_measures_on_graded_labels(grades, seed, cutoff):
    """``gain="linear"`` is ir_measures' (trec_eval's) ``nDCG@k``; ``gain="exponential"`` is ir_measures'
    ``nDCG`` with gains ``2^g − 1``; RR@k agrees too (distinct scores, so no tie-breaking convention matters)."""
    ir_measures = pytest.importorskip("ir_measures")  # the `real` extra
    scores = np.random.default_rng(seed).permutation(len(grades)).astype(float)
    qrels = [ir_measures.Qrel("q", f"d{i}", g) for i, g in enumerate(grades)]
    run = [ir_measures.ScoredDoc("q", f"d{i}", s) for i, s in enumerate(scores)]
    exponential = ir_measures.nDCG(cutoff=cutoff, gains={g: 2**g - 1 for g in range(4)})
    linear, rr = ir_measures.nDCG @ cutoff, ir_measures.RR(rel=1) @ cutoff
    # one measure per call: ir_measures 0.4.3 applies one measure's custom gains to the others of the same call
    want = {m: ir_measures.calc_aggregate([m], qrels, run)[m] for m in (linear, exponential, rr)}
    s, g = jnp.asarray(scores[None]), jnp.asarray(np.array(grades)[None])
    assert float(ndcg_at(s, g, cutoff, gain="linear")[0]) == pytest.approx(want[linear], abs=1e-5)
    assert float(ndcg_at(s, g, cutoff)[0]) == pytest.approx(want[exponential], abs=1e-5)
    assert float(rr_at(s, g, cutoff)[0]) == pytest.approx(want[rr], abs=1e-6)


def test_the_gains_differ_on_graded_labels_and_agree_on_binary_ones():
    scores, grades = jnp.array([[4.0, 3.0, 2.0, 1.0]]), jnp.array([[0, 1, 0, 3]])
    assert float(ndcg_at(scores, grades, 4)[0]) == pytest.approx(0.4777, abs=1e-4)  # the example
    assert float(ndcg_at(scores, grades, 4, gain="linear")[0]) == pytest.approx(0.5296, abs=1e-4)
    binary = jnp.array([[0, 1, 0, 1]])
    assert np.allclose(ndcg_at(scores, binary, 4), ndcg_at(scores, binary, 4, gain="linear"))


@pytest.mark.parametrize("measure", [ndcg_at, rr_at, recall_at])
def test_a_cutoff_beyond_the_list_is_one_clear_error(measure):
    with pytest.raises(ValueError, match=r"cutoff = 10 must be an integer in \[1, 4\] \(the list has 4 documents\)"):
        measure(jnp.zeros((1, 4)), jnp.ones((1, 4)), 10)
    with pytest.raises(ValueError, match="gain = 'log' is not allowed; choose one of exponential, linear"):
        ndcg_at(jnp.zeros((1, 4)), jnp.ones((1, 4)), 2, gain="log")


@settings(max_examples=100, deadline=None)
@given(
    prefix=st.sampled_from(["", "val_", "zs_vaswani_", "d_"]),
    stored=st.sampled_from(sorted(IR_NAMES)),
    suffix=st.sampled_from(["", "_q", "_mean", "_low", "_rerank"]),
)
def test_ir_name_maps_every_stored_measure_keeping_prefix_and_suffix(prefix, stored, suffix):
    """``ir_name(prefix + stored + suffix) = prefix + IR_NAMES[stored] + suffix``, and a second pass changes nothing."""
    name = ir_name(prefix + stored + suffix)
    assert name == prefix + IR_NAMES[stored] + suffix
    assert ir_name(name) == name


def test_ir_name_gives_one_name_to_the_kl_ndcg_spearman_and_leaves_other_columns():
    """The synthetic and the real Spearman column read the same; a column that merely contains a measure's letters
    (``ndcg100``, ``xrr10``) or no measure keeps its name."""
    assert ir_name("kl_ndcg_corr") == ir_name("kl_ndcg_spearman") == "Spearman(KL, nDCG@10)"
    for column in ("seed", "ndcg100", "xrr10", "gap", "kl_corpus"):
        assert ir_name(column) == column
