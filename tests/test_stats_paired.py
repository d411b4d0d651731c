"""Query-level paired bootstrap and randomisation tests, Holm and Benjamini-Hochberg (simrank.stats)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sst

from simrank.stats import (
    benjamini_hochberg,
    holm,
    paired_bootstrap,
    paired_randomization_test,
    randomization_tests,
)


def test_bootstrap_of_a_constant_shift_is_exact_and_antisymmetric():
    a = np.random.default_rng(0).normal(size=(3, 50))
    r = paired_bootstrap(a + 0.25, a)
    assert r.mean == pytest.approx(0.25) and r.low == pytest.approx(0.25) and r.high == pytest.approx(0.25)
    assert (r.n_queries, r.n_seeds) == (50, 3)
    b = a + np.random.default_rng(1).normal(size=a.shape)
    fwd, back = paired_bootstrap(a, b), paired_bootstrap(b, a)
    assert fwd.mean == pytest.approx(-back.mean)
    assert fwd.low == pytest.approx(-back.high, abs=0.02) and fwd.high == pytest.approx(-back.low, abs=0.02)


def test_bootstrap_interval_matches_the_normal_interval_for_many_queries():
    # d ~ N(0.1, 1) over n = 400 queries: the percentile interval is mean ± 1.96/sqrt(n) up to bootstrap error
    d = np.random.default_rng(2).normal(0.1, 1.0, 400)
    r = paired_bootstrap(d, np.zeros_like(d), n_boot=4000)
    half = 1.96 * d.std(ddof=1) / np.sqrt(d.size)
    assert r.low == pytest.approx(d.mean() - half, abs=0.15 * half)
    assert r.high == pytest.approx(d.mean() + half, abs=0.15 * half)


def test_two_way_bootstrap_widens_with_seed_noise():
    rng = np.random.default_rng(3)
    queries = rng.normal(0, 0.2, 100)
    quiet = queries + rng.normal(0, 0.01, (5, 1))
    noisy = queries + rng.normal(0, 0.5, (5, 1))  # a per-seed offset shared by all queries
    width = [
        paired_bootstrap(x, np.zeros_like(x)).high - paired_bootstrap(x, np.zeros_like(x)).low for x in (quiet, noisy)
    ]
    assert width[1] > 3 * width[0]


def test_randomization_p_value_of_five_equal_differences():
    # all 2^5 sign patterns: |mean| >= 1 only for all-plus and all-minus, so the exact p is 2/32
    n_perm = 20_000
    p = paired_randomization_test(np.ones(5), np.zeros(5), n_perm=n_perm)
    sd = np.sqrt((1 / 16) * (15 / 16) / n_perm)
    assert p == pytest.approx(1 / 16, abs=5 * sd)
    assert paired_randomization_test(np.arange(5.0), np.arange(5.0)) == 1.0  # no difference at all


def test_randomization_test_rejects_a_clear_shift_and_holds_its_level():
    rng = np.random.default_rng(4)
    assert paired_randomization_test(rng.normal(0.3, 1, 300), np.zeros(300), n_perm=2000) < 0.01
    # under H0 (symmetric differences) p < 0.05 in about 5% of 200 data sets: binomial 5 sd bound
    ps = [paired_randomization_test(rng.normal(0, 1, 30), np.zeros(30), n_perm=400, random_state=i) for i in range(200)]
    rate = np.mean(np.array(ps) < 0.05)
    assert abs(rate - 0.05) < 5 * np.sqrt(0.05 * 0.95 / 200)


def test_bad_paired_input_raises():
    with pytest.raises(ValueError, match="equal shapes"):
        paired_bootstrap(np.zeros(4), np.zeros(5))
    with pytest.raises(ValueError, match="NaN"):
        paired_randomization_test(np.array([0.0, np.nan, 1.0]), np.zeros(3))


def test_holm_and_bh_on_a_worked_example():
    p = np.array([0.01, 0.04, 0.03, np.nan])
    np.testing.assert_allclose(holm(p)[:3], [0.03, 0.06, 0.06])
    np.testing.assert_allclose(benjamini_hochberg(p)[:3], [0.03, 0.04, 0.04])
    assert np.isnan(holm(p)[3]) and np.isnan(benjamini_hochberg(p)[3])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=30))
def test_adjustments_are_ordered_and_bh_matches_scipy(ps):
    p = np.array(ps)
    bh, hm = benjamini_hochberg(p), holm(p)
    np.testing.assert_allclose(bh, sst.false_discovery_control(p, method="bh"), rtol=1e-12, atol=1e-15)
    assert np.all(p <= bh + 1e-15) and np.all(bh <= hm + 1e-15) and np.all(hm <= 1.0)


def test_batched_randomization_tests_equal_the_single_tests():
    rng = np.random.default_rng(5)
    d = rng.normal(0.05, 1.0, (4, 40))
    batched = randomization_tests(d, n_perm=3000, random_state=2)
    single = [paired_randomization_test(x, np.zeros_like(x), n_perm=3000, random_state=2) for x in d]
    np.testing.assert_array_equal(batched, single)
