"""TOST and equivalence groups (simrank.stats.equivalence)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from tolerances import binom_tol

from simrank import stats as S
from simrank.stats.equivalence import _group_label, _tost_verdict

_floats = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)


def test_tost_identical_samples_equivalent():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, size=500)
    r = S.tost(x, x.copy(), margin=0.5)
    assert r.diff == 0.0
    assert r.equivalent
    assert r.p < 1e-10
    assert -0.5 < r.ci_low <= 0.0 <= r.ci_high < 0.5
    rp = S.tost(x, x.copy(), margin=0.5, paired=True)  # zero-variance differences
    assert rp.equivalent and rp.p == 0.0


def test_tost_three_margins_apart_not_equivalent():
    rng = np.random.default_rng(1)
    margin = 0.1
    a = rng.normal(0.0, 0.05, size=30)
    b = a + 3 * margin + rng.normal(0, 0.01, size=30)
    for paired in (False, True):
        r = S.tost(a, b, margin=margin, paired=paired)
        assert not r.equivalent
        assert r.p > 0.5
        assert r.diff == pytest.approx(-3 * margin, abs=0.02)


def test_tost_pvalues_hand_computation_welch():
    a = np.array([1.0, 1.2, 0.9, 1.1, 1.05])
    b = np.array([1.02, 0.98, 1.01, 1.0, 0.97, 1.03, 0.99])
    margin, alpha = 0.2, 0.05
    na, nb = len(a), len(b)
    va, vb = a.var(ddof=1) / na, b.var(ddof=1) / nb
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    diff = a.mean() - b.mean()
    p_lo = 1 - sps.t.cdf((diff + margin) / se, df)
    p_up = sps.t.cdf((diff - margin) / se, df)
    r = S.tost(a, b, margin, alpha)
    assert r.diff == pytest.approx(diff)
    assert r.df == pytest.approx(df)
    assert r.p_lower == pytest.approx(p_lo)
    assert r.p_upper == pytest.approx(p_up)
    assert r.p == pytest.approx(max(p_lo, p_up))
    q = sps.t.ppf(1 - alpha, df)
    assert r.ci_low == pytest.approx(diff - q * se)
    assert r.ci_high == pytest.approx(diff + q * se)
    # the one-sided tests agree with scipy's Welch t-test shifted by the margin
    assert r.p_lower == pytest.approx(sps.ttest_ind(a + margin, b, equal_var=False, alternative="greater").pvalue)
    assert r.p_upper == pytest.approx(sps.ttest_ind(a - margin, b, equal_var=False, alternative="less").pvalue)
    # decision == CI inside (-margin, margin)
    assert r.equivalent == (-margin < r.ci_low and r.ci_high < margin)


def test_tost_pvalues_hand_computation_paired():
    a = np.array([0.51, 0.48, 0.55, 0.50, 0.47, 0.53])
    b = np.array([0.50, 0.49, 0.52, 0.51, 0.45, 0.50])
    margin = 0.03
    d = a - b
    n = len(d)
    se = d.std(ddof=1) / math.sqrt(n)
    p_lo = sps.t.sf((d.mean() + margin) / se, n - 1)
    p_up = sps.t.cdf((d.mean() - margin) / se, n - 1)
    r = S.tost(a, b, margin, paired=True)
    assert r.df == n - 1
    assert r.p_lower == pytest.approx(p_lo)
    assert r.p_upper == pytest.approx(p_up)
    assert r.p_lower == pytest.approx(sps.ttest_rel(a + margin, b, alternative="greater").pvalue)


@pytest.mark.parametrize("bad", [0, 0.0, -0.1, float("nan"), float("inf")])
def test_tost_margin_must_be_positive(bad):
    with pytest.raises(ValueError, match="margin"):
        S.tost([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], margin=bad)


def test_tost_message_names_the_value():
    with pytest.raises(ValueError, match=r"-0\.25"):
        S.tost([1.0, 2.0], [1.0, 2.0], margin=-0.25)


def test_tost_input_errors():
    with pytest.raises(ValueError):
        S.tost([1.0, 2.0, 3.0], [1.0, 2.0], margin=1.0, paired=True)
    with pytest.raises(ValueError):
        S.tost([1.0], [1.0, 2.0], margin=1.0)
    with pytest.raises(ValueError):
        S.tost([1.0, 2.0], [1.0, 2.0], margin=1.0, alpha=0.6)


@pytest.mark.parametrize("paired", [False, True])
def test_tost_type1_error_at_margin_boundary(paired):
    """True difference exactly = margin: equivalence must be declared <= alpha of the time."""
    reps, alpha, margin = 2000, 0.05, 1.0
    rng = np.random.default_rng(777 + paired)
    rejections = 0
    for _ in range(reps):
        if paired:
            b = rng.normal(0.0, 1.0, size=25)
            a = b + margin + rng.normal(0.0, 1.0, size=25)
        else:  # unequal n and variance to exercise Welch
            a = rng.normal(margin, 1.5, size=40)
            b = rng.normal(0.0, 0.7, size=25)
        rejections += S.tost(a, b, margin, alpha, paired=paired).equivalent
    rate = rejections / reps
    assert rate <= alpha + binom_tol(alpha, reps), rate


def test_tost_inverted_rule_negative_control():
    """A published study declared equivalence when the TOST p-value was NOT below alpha.

    Construct examples on which that inverted rule and the correct rule disagree,
    in both directions, and check that ``tost`` follows the correct one.
    """

    def inverted(r):  # the erroneous rule: "no significant TOST -> equivalent"
        return r.p >= r.alpha

    def either_side(r):  # another common mistake: only one side needs rejecting
        return min(r.p_lower, r.p_upper) < r.alpha

    # (1) clearly different means (3 margins apart): correct -> NOT equivalent
    a = np.array([0.0, 0.1, -0.1, 0.05, -0.05, 0.02])
    b = a + 0.3
    r = S.tost(a, b, margin=0.1)
    assert not r.equivalent
    assert inverted(r) is True and either_side(r) is True
    assert r.equivalent != inverted(r)
    assert r.equivalent != either_side(r)

    # (2) essentially identical, tight samples: correct -> equivalent, inverted says not
    x = np.linspace(-0.01, 0.01, 20)
    r2 = S.tost(x, x[::-1] + 0.001, margin=0.1)
    assert r2.equivalent
    assert inverted(r2) is False
    # and the library decision is exactly "both one-sided p below alpha"
    assert _tost_verdict(0.01, 0.04, 0.05) is True
    assert _tost_verdict(0.01, 0.06, 0.05) is False
    assert _tost_verdict(0.06, 0.01, 0.05) is False


@settings(max_examples=150, deadline=None)
@given(
    a=st.lists(_floats, min_size=2, max_size=15),
    b=st.lists(_floats, min_size=2, max_size=15),
    margin=st.floats(min_value=1e-3, max_value=1e3),
    alpha=st.sampled_from([0.01, 0.05, 0.1]),
)
def test_tost_symmetric_in_swap_unpaired(a, b, margin, alpha):
    r1 = S.tost(a, b, margin, alpha)
    r2 = S.tost(b, a, margin, alpha)
    assert r1.equivalent == r2.equivalent
    assert r1.diff == -r2.diff
    assert r1.p_lower == pytest.approx(r2.p_upper, abs=1e-12)
    assert r1.p_upper == pytest.approx(r2.p_lower, abs=1e-12)
    assert r1.p == pytest.approx(r2.p, abs=1e-12)
    assert r1.ci_low == pytest.approx(-r2.ci_high, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(
    ab=st.integers(min_value=2, max_value=12).flatmap(
        lambda n: st.tuples(st.lists(_floats, min_size=n, max_size=n), st.lists(_floats, min_size=n, max_size=n))
    ),
    margin=st.floats(min_value=1e-3, max_value=1e3),
)
def test_tost_symmetric_in_swap_paired(ab, margin):
    a, b = ab
    r1 = S.tost(a, b, margin, paired=True)
    r2 = S.tost(b, a, margin, paired=True)
    assert r1.equivalent == r2.equivalent
    assert r1.diff == -r2.diff
    assert r1.p == pytest.approx(r2.p, abs=1e-12)


def _seeded_df(means: dict, n_seeds: int, sd: float, rng) -> pd.DataFrame:
    rows = []
    for seed in range(n_seeds):
        shared = rng.normal(0, sd)  # seed effect shared by all levels
        for lv, mu in means.items():
            rows.append({"method": lv, "seed": seed, "score": mu + shared + rng.normal(0, sd / 5)})
    return pd.DataFrame(rows)


def test_equivalence_groups_basic():
    rng = np.random.default_rng(3)
    df = _seeded_df({"m1": 1.00, "m2": 0.995, "m3": 0.50, "m4": 0.49, "m5": 0.0}, 10, 0.02, rng)
    out = S.equivalence_groups(df, "method", "score", margin=0.05)
    assert list(out.columns) == ["method", "score_mean", "n", "group", "reference", "p_tost"]
    g = dict(zip(out["method"], out["group"]))
    assert g == {"m1": "A", "m2": "A", "m3": "B", "m4": "B", "m5": "C"}
    assert list(out["method"]) == ["m1", "m2", "m3", "m4", "m5"]  # sorted by mean, descending
    refs = out.loc[out["reference"], "method"].tolist()
    assert refs == ["m1", "m3", "m5"]
    assert out.loc[out["reference"], "p_tost"].isna().all()
    assert (out.loc[~out["reference"], "p_tost"] < 0.05).all()


def test_equivalence_groups_anchor_on_reference_not_chain():
    # b is within margin of a and c is within margin of b, but c is NOT within margin of a:
    # greedy anchoring on the best level must put c in a new group.
    rng = np.random.default_rng(4)
    df = _seeded_df({"a": 1.0, "b": 0.93, "c": 0.86}, 12, 0.01, rng)
    out = S.equivalence_groups(df, ["method"], "score", margin=0.1)
    g = dict(zip(out["method"], out["group"]))
    assert g == {"a": "A", "b": "A", "c": "B"}


def test_equivalence_groups_without_seed_column_and_labels():
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"k": np.repeat(["x", "y"], 50), "v": np.r_[rng.normal(0, 0.1, 50), rng.normal(0, 0.1, 50)]})
    out = S.equivalence_groups(df, "k", "v", margin=0.2, seed_col=None)
    assert set(out["group"]) == {"A"}
    assert [_group_label(i) for i in (0, 1, 25, 26, 27, 51, 52)] == ["A", "B", "Z", "AA", "AB", "AZ", "BA"]
    with pytest.raises(ValueError, match="margin"):
        S.equivalence_groups(df, "k", "v", margin=0.0, seed_col=None)
