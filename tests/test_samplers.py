"""Samplers: each exposes ν_q, and its draws follow ν_q (chi-square goodness of fit at fixed seeds)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from tolerances import binom_tol

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
    dict(kind="stratified", strata=4, proxy="teacher"),
    dict(kind="stratified", strata=3, proxy="teacher", pool_size=12, exclude_positive=True),
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


# ----------------------------------------------------------------------------- stratified sampler


def _context(scores: np.ndarray, positive: int) -> SamplingContext:
    return SamplingContext(positives=np.array([positive]), proxies={"teacher": scores[None].astype(np.float64)})


@st.composite
def stratified_cases(draw):
    """Distinct integer scores (so the top-M pool and the stratum of every document are unambiguous), a
    positive, a number of strata and an optional pool."""
    n_docs = draw(st.integers(2, 30))
    scores = np.array(draw(st.lists(st.integers(-500, 500), min_size=n_docs, max_size=n_docs, unique=True)))
    positive = draw(st.integers(0, n_docs - 1))
    exclude = draw(st.booleans())
    pool_size = draw(st.none() | st.integers(1, n_docs - exclude))
    return scores, positive, draw(st.integers(1, 8)), pool_size, exclude


def _reference_strata(scores: np.ndarray, pool: np.ndarray, strata: int) -> np.ndarray:
    """Stratum of every pool document in integer arithmetic: ``min(S (s − lo) // (hi − lo), S − 1)``."""
    lo, hi = int(scores[pool].min()), int(scores[pool].max())
    if hi == lo:
        return np.zeros(len(scores), np.int64)
    return np.minimum(strata * (scores.astype(np.int64) - lo) // (hi - lo), strata - 1)


@given(stratified_cases())
@settings(max_examples=200, deadline=None)
def test_stratified_gives_each_non_empty_stratum_equal_mass(case):
    scores, positive, strata, pool_size, exclude = case
    nu = make_sampler(
        kind="stratified", strata=strata, proxy="teacher", pool_size=pool_size, exclude_positive=exclude
    ).distribution(_context(scores, positive))[0]
    candidates = [i for i in np.argsort(-scores) if not (exclude and i == positive)]
    pool = np.zeros(len(scores), bool)
    pool[candidates[: pool_size or len(candidates)]] = True
    assert np.isclose(nu.sum(), 1.0) and (nu >= 0).all()
    assert (nu[~pool] == 0).all() and (nu[pool] > 0).all()  # support = the pool
    stratum = _reference_strata(scores, pool, strata)
    occupied = np.unique(stratum[pool])
    for b in occupied:  # mass 1/S⁺ per non-empty stratum, shared equally by its documents
        members = pool & (stratum == b)
        assert np.isclose(nu[members].sum(), 1.0 / len(occupied))
        assert np.allclose(nu[members], nu[members][0])


@given(stratified_cases())
@settings(max_examples=50, deadline=None)
def test_one_stratum_is_uniform_over_the_pool(case):
    scores, positive, _, pool_size, exclude = case
    ctx = _context(scores, positive)
    one = make_sampler(kind="stratified", strata=1, proxy="teacher", pool_size=pool_size, exclude_positive=exclude)
    if pool_size is None:
        expected = np.full(len(scores), 1.0 / (len(scores) - exclude))
        expected[positive] = 0.0 if exclude else expected[positive]
    else:
        expected = make_sampler(
            kind="local", proxy="teacher", pool_size=pool_size, exclude_positive=exclude
        ).distribution(ctx)[0]
    assert np.allclose(one.distribution(ctx)[0], expected)


def test_stratified_draws_give_each_stratum_its_share(context):
    """Monte Carlo: over n draws each of the S⁺ non-empty strata's frequency is 1/S⁺ within 4 binomial SDs
    (tolerance from n; a fixed seed), while uniform draws over the same pool are not (negative control)."""
    sampler = make_sampler(kind="stratified", strata=5, proxy="teacher", pool_size=25)
    nu = sampler.distribution(context)[0]
    pool = nu > 0
    scores = context.proxies["teacher"][0]
    lo, hi = scores[pool].min(), scores[pool].max()
    stratum = np.minimum(np.floor(5 * (scores - lo) / (hi - lo)), 4).astype(int)
    occupied = np.unique(stratum[pool])
    n = 40_000
    draws = sample_categorical(nu[None], n, np.random.default_rng(1))[0]
    assert pool[draws].all()
    share = 1.0 / len(occupied)
    tol = binom_tol(share, n, k=4.0)
    freq = np.array([(stratum[draws] == b).mean() for b in occupied])
    assert np.all(np.abs(freq - share) <= tol), (freq, share, tol)
    uniform = make_sampler(kind="local", proxy="teacher", pool_size=25).distribution(context)
    uniform_draws = sample_categorical(uniform, n, np.random.default_rng(1))[0]
    uniform_freq = np.array([(stratum[uniform_draws] == b).mean() for b in occupied])
    assert np.any(np.abs(uniform_freq - share) > tol)  # the strata are unequal in size: uniform is detected


def test_exclude_positive_keeps_m_negatives_and_never_the_positive(context):
    positive = int(context.positives[0])
    for spec in (
        dict(kind="teacher_top"),
        dict(kind="local", proxy="teacher"),
        dict(kind="ensemble", proxies=("teacher", "dense")),
    ):
        plain = make_sampler(**spec, pool_size=6).distribution(context)[0]
        excluded = make_sampler(**spec, pool_size=6, exclude_positive=True).distribution(context)[0]
        assert plain[positive] > 0  # the teacher's top-1 is in its top-6 pool
        assert excluded[positive] == 0 and np.isclose(excluded.sum(), 1.0)
        assert (excluded > 0).sum() >= 6  # the pool still holds M documents (the union of several: more)
    teacher_top = make_sampler(kind="teacher_top", pool_size=6, exclude_positive=True).distribution(context)[0]
    order = [i for i in np.argsort(-context.proxies["teacher"][0]) if i != positive]
    assert set(np.flatnonzero(teacher_top)) == set(order[:6])


def test_exclude_positive_off_by_default_leaves_nu_unchanged(context):
    """The default keeps today's ν bit for bit (the synthetic i.i.d. setting)."""
    for spec in (dict(kind="teacher_top", pool_size=6), dict(kind="local", pool_size=7, offset=2)):
        assert np.array_equal(
            make_sampler(**spec).distribution(context),
            make_sampler(**spec, exclude_positive=False).distribution(context),
        )


@pytest.mark.parametrize(
    "spec, needle",
    [
        (dict(kind="stratified"), "sampler.kind = 'stratified' needs sampler.strata"),
        (dict(kind="stratified", strata=0), "sampler.strata = 0 is not allowed; it must be an integer >= 1"),
        (dict(kind="stratified", strata=2.5), "sampler.strata = 2.5 is not allowed"),
        (dict(kind="local", pool_size=5, strata=3), "sampler.strata = 3 is not allowed with sampler.kind = 'local'"),
        (dict(kind="stratified", strata=3, pool_size=0), "sampler.pool_size = 0"),
        (dict(kind="uniform", exclude_positive=True), "sampler.exclude_positive = true is not allowed"),
        (dict(kind="tempered", beta=1.0, exclude_positive=True), "with sampler.kind = 'tempered'; only with local"),
    ],
)
def test_bad_stratified_and_exclusion_specs_name_the_value(spec, needle):
    with pytest.raises(ConfigError) as err:
        make_sampler(**spec)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_pool_too_large_without_the_positive_is_one_line(context):
    with pytest.raises(ConfigError, match="pool_size = 40 is not allowed; it must be <= the corpus size 40 less"):
        make_sampler(kind="stratified", strata=2, pool_size=40, exclude_positive=True).distribution(context)
