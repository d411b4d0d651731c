"""Samplers: each exposes ν_q, and its draws follow ν_q (chi-square goodness of fit at fixed seeds)."""

import numpy as np
import pytest
from scipy import stats

from simrank.errors import ConfigError
from simrank.groups import draw_groups, world_query_set
from simrank.samplers import SamplingContext, make_sampler, sample_categorical
from simrank.teacher import Teacher
from simrank.world import WorldConfig

N = 40


@pytest.fixture(scope="module")
def context():
    world = WorldConfig(n_docs=N, dim=4, random_state=3).generate()
    qs = world_query_set(world, Teacher(noise=0.2), 1, random_state=4)
    positives = np.array([int(np.argmax(qs.teacher_scores[0]))])
    return SamplingContext(positives=positives, proxies=qs.proxies)


SPECS = [
    dict(kind="uniform"),
    dict(kind="local", pool_size=7),
    dict(kind="teacher_top", pool_size=5),
    dict(kind="tempered", beta=3.0),
    dict(kind="local", pool_size=5, eta=0.3),
    dict(kind="local", pool_size=6, offset=4, eta=0.5),
    dict(kind="tempered", beta=2.0, filter_margin=0.1),
]


def chi_square_p(counts: np.ndarray, probs: np.ndarray) -> float:
    """Pearson chi-square p-value of observed counts against probabilities (cells with p > 0)."""
    support = probs > 0
    assert counts[~support].sum() == 0, "a draw fell outside the support of nu"
    expected = probs[support] * counts.sum()
    return stats.chisquare(counts[support], expected).pvalue


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: "-".join(f"{k}={v}" for k, v in s.items()))
def test_draws_follow_nu(context, spec):
    nu = make_sampler(**spec).distribution(context)
    assert nu.shape == (1, N) and np.allclose(nu.sum(1), 1.0) and (nu >= 0).all()
    draws = sample_categorical(nu, 40_000, np.random.default_rng(0))[0]
    counts = np.bincount(draws, minlength=N)
    # Under H0 the p-value is uniform: a fixed-seed test fails by chance with probability 1e-3.
    assert chi_square_p(counts, nu[0]) > 1e-3


def test_goodness_of_fit_detects_a_wrong_distribution(context):
    """Negative control: tempered draws tested against the uniform distribution are rejected."""
    nu = make_sampler(kind="tempered", beta=3.0).distribution(context)
    counts = np.bincount(sample_categorical(nu, 40_000, np.random.default_rng(0))[0], minlength=N)
    assert chi_square_p(counts, np.full(N, 1.0 / N)) < 1e-6


def test_local_is_uniform_over_the_top_m(context):
    nu = make_sampler(kind="local", pool_size=7).distribution(context)[0]
    top = np.argsort(-context.proxies["dense"][0])[:7]
    assert set(np.flatnonzero(nu)) == set(top) and np.allclose(nu[top], 1 / 7)


def test_local_offset_skips_the_top_ranks(context):
    """offset k: uniform over proxy ranks k+1 … k+M, disjoint from the top k; offset 0 is the top M."""
    order = np.argsort(-context.proxies["truth"][0])
    nu = make_sampler(kind="local", proxy="truth", pool_size=7, offset=5).distribution(context)[0]
    assert set(np.flatnonzero(nu)) == set(order[5:12]) and np.allclose(nu[order[5:12]], 1 / 7)
    top = make_sampler(kind="local", proxy="truth", pool_size=7).distribution(context)
    assert np.array_equal(top, make_sampler(kind="local", proxy="truth", pool_size=7, offset=0).distribution(context))
    with pytest.raises(
        ConfigError,
        match="pool_size = 36 is not allowed with sampler.offset = 5; offset \\+ pool_size must be <= the corpus size 40",
    ):
        make_sampler(kind="local", pool_size=36, offset=5).distribution(context)


def test_mixture_and_filter_formulas(context):
    base = make_sampler(kind="local", pool_size=5).distribution(context)
    mixed = make_sampler(kind="local", pool_size=5, eta=0.25).distribution(context)
    assert np.allclose(mixed, 0.75 * base + 0.25 / N)
    filtered = make_sampler(kind="uniform", filter_margin=0.5).distribution(context)[0]
    g = context.proxies["teacher"][0]
    keep = g < g[context.positives[0]] - 0.5
    assert np.allclose(filtered[keep], 1 / keep.sum()) and (filtered[~keep] == 0).all()


def test_groups_put_the_positive_first_and_record_log_nu():
    world = WorldConfig(n_docs=N, dim=4).generate()
    qs = world_query_set(world, Teacher(), 6, random_state=1)
    groups, nu = draw_groups(qs, make_sampler(kind="local", pool_size=9), 30, 4, np.random.default_rng(2))
    assert groups.docs.shape == (30, 4, 4) and groups.teacher_scores.shape == (30, 4)
    assert np.allclose(groups.docs, world.docs[groups.doc_id])
    negatives_nu = np.take_along_axis(nu, groups.doc_id[:, 1:], axis=1)
    assert (negatives_nu > 0).all() and np.allclose(np.exp(groups.log_nu[:, 1:]), negatives_nu, rtol=1e-5)


@pytest.mark.parametrize(
    "spec, needle",
    [
        (dict(kind="nearest"), "sampler.kind = 'nearest'"),
        (dict(kind="local"), "sampler.pool_size"),
        (dict(kind="uniform", eta=1.5), "sampler.eta = 1.5"),
        (dict(kind="tempered", beta=-1.0), "sampler.beta = -1.0"),
        (dict(kind="local", pool_size=5, offset=-1), "sampler.offset = -1"),
        (dict(kind="local", pool_size=5, offset=2.5), "sampler.offset = 2.5"),
        (dict(kind="tempered", beta=1.0, offset=3), "sampler.offset = 3 is not allowed with sampler.kind = 'tempered'"),
    ],
)
def test_bad_specs_name_the_value(spec, needle):
    with pytest.raises(ConfigError) as err:
        make_sampler(**spec)
    assert needle in str(err.value) and "\n" not in str(err.value)
