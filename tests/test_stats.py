"""Tests for simrank.stats."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from simrank import stats as S


def binom_tol(p: float, n: int, k: float = 3.0) -> float:
    """k binomial standard deviations of an empirical proportion over n trials."""
    return k * math.sqrt(p * (1 - p) / n)


# --------------------------------------------------------------------------
# mean_ci
# --------------------------------------------------------------------------


def test_mean_ci_hand_computation():
    x = [1.0, 2.0, 3.0, 4.0]
    # mean 2.5, sample var = (2.25+0.25+0.25+2.25)/3 = 5/3, sem = sqrt(5/3)/2
    sem = math.sqrt(5 / 3) / 2
    t975_3 = 3.182446305284263  # Student t_{3}, 0.975 quantile (tables: 3.182)
    r = S.mean_ci(x)
    assert r.n == 4
    assert r.mean == pytest.approx(2.5)
    assert r.sem == pytest.approx(sem)
    assert r.low == pytest.approx(2.5 - t975_3 * sem)
    assert r.high == pytest.approx(2.5 + t975_3 * sem)


@pytest.mark.parametrize("conf", [0.8, 0.9, 0.95, 0.99])
def test_mean_ci_matches_scipy_interval(conf):
    rng = np.random.default_rng(1)
    x = rng.normal(3.0, 2.0, size=7)
    lo, hi = sps.t.interval(conf, len(x) - 1, loc=x.mean(), scale=sps.sem(x))
    r = S.mean_ci(x, confidence=conf)
    assert r.low == pytest.approx(lo)
    assert r.high == pytest.approx(hi)
    assert r.sem == pytest.approx(sps.sem(x))


def test_mean_ci_single_value_and_errors():
    r = S.mean_ci([4.2])
    assert r.mean == 4.2 and r.n == 1
    assert math.isnan(r.low) and math.isnan(r.high) and math.isnan(r.sem)
    with pytest.raises(ValueError):
        S.mean_ci([])
    with pytest.raises(ValueError):
        S.mean_ci([1.0, float("nan")])
    with pytest.raises(ValueError):
        S.mean_ci([1.0, 2.0], confidence=1.0)


def test_mean_ci_coverage_monte_carlo():
    reps, n = 2000, 5
    rng = np.random.default_rng(20240601)
    X = rng.standard_normal((reps, n))
    hits = 0
    for row in X:
        r = S.mean_ci(row, 0.95)
        hits += r.low <= 0.0 <= r.high
    cover = hits / reps
    assert abs(cover - 0.95) <= binom_tol(0.95, reps), cover


# --------------------------------------------------------------------------
# summarise
# --------------------------------------------------------------------------


def test_summarise_columns_and_values():
    df = pd.DataFrame(
        {
            "teacher": ["t1"] * 4 + ["t2"] * 3 + ["t3"],
            "loss": ["l"] * 8,
            "seed": [0, 1, 2, 3, 0, 1, 2, 0],
            "ndcg": [0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.6, 0.9],
        }
    )
    out = S.summarise(df, ["teacher", "loss"], "ndcg")
    assert list(out.columns) == ["teacher", "loss", "ndcg_mean", "ndcg_low", "ndcg_high", "n"]
    assert list(out["teacher"]) == ["t1", "t2", "t3"]
    assert list(out["n"]) == [4, 3, 1]
    ref = S.mean_ci([0.5, 0.7, 0.6])
    row = out.iloc[1]
    assert row["ndcg_mean"] == pytest.approx(ref.mean)
    assert row["ndcg_low"] == pytest.approx(ref.low)
    assert row["ndcg_high"] == pytest.approx(ref.high)
    assert math.isnan(out.iloc[2]["ndcg_low"])


# --------------------------------------------------------------------------
# TOST
# --------------------------------------------------------------------------


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
    assert S._tost_verdict(0.01, 0.04, 0.05) is True
    assert S._tost_verdict(0.01, 0.06, 0.05) is False
    assert S._tost_verdict(0.06, 0.01, 0.05) is False


_floats = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)


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


@settings(max_examples=200, deadline=None)
@given(x=st.lists(_floats, min_size=1, max_size=30), conf=st.floats(min_value=0.5, max_value=0.999))
def test_mean_ci_brackets_mean(x, conf):
    r = S.mean_ci(x, conf)
    assert r.n == len(x)
    if r.n >= 2:
        assert r.low <= r.mean <= r.high
    else:
        assert math.isnan(r.low) and math.isnan(r.high)


# --------------------------------------------------------------------------
# equivalence groups
# --------------------------------------------------------------------------


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
    assert [S._group_label(i) for i in (0, 1, 25, 26, 27, 51, 52)] == ["A", "B", "Z", "AA", "AB", "AZ", "BA"]
    with pytest.raises(ValueError, match="margin"):
        S.equivalence_groups(df, "k", "v", margin=0.0, seed_col=None)


# --------------------------------------------------------------------------
# two-way ANOVA
# --------------------------------------------------------------------------


def _design(ka, kb, r, cell_fn, noise, rng, counts=None):
    rows = []
    for i in range(ka):
        for j in range(kb):
            nij = r if counts is None else counts[i][j]
            for _ in range(nij):
                rows.append({"A": f"a{i}", "B": f"b{j}", "y": cell_fn(i, j) + rng.normal(0, noise)})
    return pd.DataFrame(rows)


def test_anova_balanced_matches_hand_computation():
    rng = np.random.default_rng(10)
    ka, kb, r = 3, 4, 5
    df = _design(ka, kb, r, lambda i, j: i * 0.5 + (j % 2) * 0.3 + (i == j) * 0.4, 1.0, rng)
    out = S.two_way_anova(df, "A", "B", "y")
    assert list(out.index) == ["A", "B", "A:B", "Residual"]
    assert list(out.columns) == ["sum_sq", "df", "F", "p", "eta_sq", "partial_eta_sq", "omega_sq"]

    y = df["y"].to_numpy()
    gm = y.mean()
    ma = df.groupby("A")["y"].mean()
    mb = df.groupby("B")["y"].mean()
    cell = df.groupby(["A", "B"])["y"].transform("mean").to_numpy()
    ss_a = kb * r * ((ma - gm) ** 2).sum()
    ss_b = ka * r * ((mb - gm) ** 2).sum()
    ss_cells = ((cell - gm) ** 2).sum()
    ss_ab = ss_cells - ss_a - ss_b
    ss_res = ((y - cell) ** 2).sum()
    ss_tot = ((y - gm) ** 2).sum()

    assert out.loc["A", "sum_sq"] == pytest.approx(ss_a)
    assert out.loc["B", "sum_sq"] == pytest.approx(ss_b)
    assert out.loc["A:B", "sum_sq"] == pytest.approx(ss_ab)
    assert out.loc["Residual", "sum_sq"] == pytest.approx(ss_res)
    assert out["sum_sq"].sum() == pytest.approx(ss_tot)  # balanced: additive decomposition
    assert list(out["df"]) == [ka - 1, kb - 1, (ka - 1) * (kb - 1), ka * kb * (r - 1)]

    ms_res = ss_res / (ka * kb * (r - 1))
    F_a = (ss_a / (ka - 1)) / ms_res
    assert out.loc["A", "F"] == pytest.approx(F_a)
    assert out.loc["A", "p"] == pytest.approx(sps.f.sf(F_a, ka - 1, ka * kb * (r - 1)))
    assert out.loc["A", "eta_sq"] == pytest.approx(ss_a / ss_tot)
    assert out.loc["A", "partial_eta_sq"] == pytest.approx(ss_a / (ss_a + ss_res))
    assert out.loc["A", "omega_sq"] == pytest.approx((ss_a - (ka - 1) * ms_res) / (ss_tot + ms_res))
    assert out.loc["Residual", ["F", "p", "eta_sq"]].isna().all()


def test_anova_one_factor_consistency_with_scipy():
    # with B having no effect and no interaction the A effect F should be close to a
    # one-way ANOVA; exact check: A's SS equals the one-way between-group SS (balanced).
    rng = np.random.default_rng(11)
    df = _design(3, 2, 6, lambda i, j: float(i), 1.0, rng)
    out = S.two_way_anova(df, "A", "B", "y")
    groups = [g["y"].to_numpy() for _, g in df.groupby("A")]
    gm = df["y"].mean()
    ss_between = sum(len(g) * (g.mean() - gm) ** 2 for g in groups)
    assert out.loc["A", "sum_sq"] == pytest.approx(ss_between)
    assert sps.f_oneway(*groups).pvalue < 0.05 and out.loc["A", "p"] < 0.05


def test_anova_additive_design_no_interaction():
    rng = np.random.default_rng(12)
    ka, kb, r = 3, 3, 8
    df = _design(ka, kb, r, lambda i, j: 2.0 * i + 3.0 * j, 1e-3, rng)
    out = S.two_way_anova(df, "A", "B", "y")
    assert out.loc["A", "partial_eta_sq"] > 0.999
    assert out.loc["B", "partial_eta_sq"] > 0.999
    # interaction explains nothing of the total ...
    assert out.loc["A:B", "eta_sq"] < 1e-6
    assert out.loc["A:B", "omega_sq"] < 1e-6
    # ... and its partial eta^2 is only noise-vs-noise, whose expectation is
    # df_AB / (df_AB + df_res) = 4/67 ~ 0.06
    assert out.loc["A:B", "partial_eta_sq"] < 0.25


def test_anova_pure_interaction_design():
    rng = np.random.default_rng(13)
    # crossover: every marginal mean equal, all variation in the interaction
    df = _design(2, 2, 8, lambda i, j: 1.0 if i == j else -1.0, 1e-3, rng)
    out = S.two_way_anova(df, "A", "B", "y")
    assert out.loc["A:B", "partial_eta_sq"] > 0.999
    assert out.loc["A:B", "eta_sq"] > 0.999
    assert out.loc["A", "eta_sq"] < 1e-6 and out.loc["B", "eta_sq"] < 1e-6
    assert out.loc["A:B", "p"] < 1e-10


def test_anova_unbalanced_runs_nonnegative_and_invariant():
    rng = np.random.default_rng(14)
    counts = [[2, 5, 3], [7, 2, 4], [3, 3, 9]]
    df = _design(3, 3, None, lambda i, j: 0.4 * i - 0.2 * j + 0.3 * (i * j == 1), 0.5, rng, counts)
    out = S.two_way_anova(df, "A", "B", "y")
    assert (out["sum_sq"] >= 0).all()
    assert list(out["df"]) == [2, 2, 4, sum(map(sum, counts)) - 9]
    assert out[["p"]].iloc[:3].apply(lambda s: s.between(0, 1)).all().all()
    # invariant to row order and level coding; A/B swap gives swapped rows
    shuffled = df.sample(frac=1.0, random_state=0).replace({"A": {"a0": "z9"}})
    out2 = S.two_way_anova(shuffled, "A", "B", "y")
    np.testing.assert_allclose(out2["sum_sq"].to_numpy(), out["sum_sq"].to_numpy(), rtol=1e-9)
    out3 = S.two_way_anova(df, "B", "A", "y")
    assert out3.loc["B", "sum_sq"] == pytest.approx(out.loc["B", "sum_sq"])
    assert out3.loc["B:A", "sum_sq"] == pytest.approx(out.loc["A:B", "sum_sq"])
    # Type II check: SS_A is the gain of adding A to a model that already has B
    y = df["y"].to_numpy()
    XB = pd.get_dummies(df["B"], drop_first=False).to_numpy(float)
    XAB = np.hstack([XB, pd.get_dummies(df["A"], drop_first=True).to_numpy(float)])

    def rss(X):
        return float(np.sum((y - X @ np.linalg.lstsq(X, y, rcond=None)[0]) ** 2))

    assert out.loc["A", "sum_sq"] == pytest.approx(rss(XB) - rss(XAB))


def test_anova_needs_replication():
    df = pd.DataFrame({"A": ["x", "x", "y", "y"], "B": ["p", "q", "p", "q"], "y": [1.0, 2.0, 3.0, 5.0]})
    with pytest.raises(ValueError, match="replication"):
        S.two_way_anova(df, "A", "B", "y")


# --------------------------------------------------------------------------
# rank stability and pairwise significance
# --------------------------------------------------------------------------


def test_rank_stability_one_level_always_wins():
    rng = np.random.default_rng(20)
    rows = []
    for seed in range(8):
        vals = rng.uniform(0, 1, size=3)
        vals = np.r_[vals, vals.max() + 0.1]  # level "d" always best
        for lv, v in zip("abcd", vals):
            rows.append({"method": lv, "seed": seed, "ndcg": v})
    out = S.rank_stability(pd.DataFrame(rows), "method", "ndcg")
    assert out["top1"] == "d"
    assert out["top1_fraction"] == 1.0
    assert out["n_seeds"] == 8 and out["n_levels"] == 4
    assert -1.0 <= out["mean_kendall_tau"] <= 1.0


def test_rank_stability_identical_rankings_and_ties():
    rows = [
        {"m": m, "seed": s, "v": base + 0.01 * s} for s in range(5) for m, base in (("x", 3.0), ("y", 2.0), ("z", 1.0))
    ]
    out = S.rank_stability(pd.DataFrame(rows), ["m"], "v")
    assert out["top1"] == "x" and out["top1_fraction"] == 1.0
    assert out["mean_kendall_tau"] == pytest.approx(1.0)
    # a 2-way tie on a seed gives half credit
    rows = [
        {"m": "x", "seed": 0, "v": 1.0},
        {"m": "y", "seed": 0, "v": 1.0},
        {"m": "x", "seed": 1, "v": 2.0},
        {"m": "y", "seed": 1, "v": 0.0},
    ]
    out = S.rank_stability(pd.DataFrame(rows), "m", "v")
    assert out["top1"] == "x"
    assert out["top1_fraction"] == pytest.approx(0.75)


def test_pairwise_rank_significance():
    rng = np.random.default_rng(21)
    rows = []
    for seed in range(10):
        shared = rng.normal(0, 1.0)
        for lv, mu in (("best", 1.0), ("mid", 0.5), ("mid2", 0.5)):
            rows.append({"method": lv, "seed": seed, "v": mu + shared + rng.normal(0, 0.05)})
    df = pd.DataFrame(rows)
    out = S.pairwise_rank_significance(df, "method", "v", "seed", alpha=0.05)
    assert list(out.columns) == ["level_hi", "level_lo", "mean_diff", "t", "df", "p", "p_adj", "n", "significant"]
    assert len(out) == 3
    assert out.iloc[0]["level_hi"] == "best"
    sig = {(r.level_hi, r.level_lo): r.significant for r in out.itertuples()}
    assert sig[("best", "mid")] and sig[("best", "mid2")]
    pair = out[out["level_hi"].isin(["mid", "mid2"]) & out["level_lo"].isin(["mid", "mid2"])].iloc[0]
    assert not pair["significant"]
    # agrees with scipy's paired t-test
    w = df.pivot(index="seed", columns="method", values="v")
    row = out[(out.level_hi == "best") & (out.level_lo == "mid")].iloc[0]
    assert row["p"] == pytest.approx(sps.ttest_rel(w["best"], w["mid"]).pvalue)
    holm = S.pairwise_rank_significance(df, "method", "v", "seed", alpha=0.05, adjust="holm")
    assert (holm["p_adj"] >= holm["p"] - 1e-15).all()


# --------------------------------------------------------------------------
# correlations
# --------------------------------------------------------------------------


def test_pearson_ci_hand_computation():
    rng = np.random.default_rng(30)
    x = rng.normal(size=40)
    y = 0.6 * x + rng.normal(size=40)
    res = S.pearson_ci(x, y)
    r = np.corrcoef(x, y)[0, 1]
    z, se = np.arctanh(r), 1 / math.sqrt(37)
    assert res.r == pytest.approx(r)
    assert res.low == pytest.approx(np.tanh(z - 1.959963984540054 * se))
    assert res.high == pytest.approx(np.tanh(z + 1.959963984540054 * se))
    assert res.p == pytest.approx(sps.pearsonr(x, y).pvalue)
    assert res.n == 40 and res.low < r < res.high


def test_spearman_and_edge_cases():
    x = np.arange(10.0)
    res = S.spearman(x, x**3)
    assert res.r == pytest.approx(1.0) and res.low == res.high == res.r
    rng = np.random.default_rng(31)
    a, b = rng.normal(size=30), rng.normal(size=30)
    res = S.spearman(a, b)
    assert res.r == pytest.approx(sps.spearmanr(a, b).statistic)
    assert res.low < res.r < res.high
    assert math.isnan(S.pearson_ci([1.0, 1.0, 1.0, 1.0], [1.0, 2.0, 3.0, 4.0]).r)
    with pytest.raises(ValueError):
        S.pearson_ci([1.0, 2.0], [1.0, 2.0])


# --------------------------------------------------------------------------
# power and sample size
# --------------------------------------------------------------------------

SIM = 20_000  # Monte Carlo replications per power check; tolerance binom_tol(p, SIM, 4) ≤ 0.0142


def test_stats_doctests_pass():
    import doctest

    result = doctest.testmod(S, raise_on_error=False, verbose=False)
    assert result.attempted >= 9 and result.failed == 0


@pytest.mark.parametrize(("d", "n"), [(0.2, 199), (0.5, 34), (0.8, 15)])
def test_n_paired_t_matches_gpower(d, n):
    # G*Power 3.1, "Means: difference from constant (one sample case)", two-tailed, α = .05, power .80
    assert S.n_paired_t(d, 1.0) == n
    assert S.power_paired_t(d, 1.0, n) >= 0.8 > S.power_paired_t(d, 1.0, n - 1)
    # the effect is scale free: effect/sd is what counts
    assert S.n_paired_t(3 * d, 3.0) == n


def test_n_correlation_matches_cohen_table():
    # Cohen (1988), Table 3.4.1: r = .30, two-tailed α = .05, power .80 -> n = 85 (Fisher z formula)
    assert S.n_correlation(0.3) == 85
    assert S.n_correlation(-0.3) == 85
    assert S.power_correlation(0.3, 85) >= 0.8 > S.power_correlation(0.3, 84)


def test_anova_interaction_with_one_df_is_the_two_group_t_test():
    # 2×2 interaction with df1 = 1 at f = 0.25: G*Power's N = 128 for ANOVA main effects and interactions,
    # the same as Cohen's two-sample t-test table (d = 0.5: 64 per group).
    assert S.n_anova_interaction(0.25, 2, 2) * 4 == 128
    assert S.cohen_f(0.25**2 / (1 + 0.25**2)) == pytest.approx(0.25)


@pytest.mark.parametrize(
    ("effect", "n", "alternative"), [(0.3, 12, "two-sided"), (0.5, 8, "greater"), (0.0, 10, "two-sided")]
)
def test_power_paired_t_matches_simulation(effect, n, alternative):
    rng = np.random.default_rng(11)
    d = effect + rng.standard_normal((SIM, n))
    t = d.mean(1) / (d.std(1, ddof=1) / math.sqrt(n))
    if alternative == "greater":
        rejected = t > sps.t.ppf(0.95, n - 1)
    else:
        rejected = np.abs(t) > sps.t.ppf(0.975, n - 1)
    p = S.power_paired_t(effect, 1.0, n, alternative=alternative)
    assert rejected.mean() == pytest.approx(p, abs=binom_tol(p, SIM, 4))
    if effect == 0:
        assert p == pytest.approx(0.05, abs=1e-12)  # size of the test


@pytest.mark.parametrize(("true_diff", "n"), [(0.0, 8), (0.0, 40), (0.01, 30), (0.015, 60)])
def test_power_tost_paired_matches_simulation_of_tost(true_diff, n):
    rng = np.random.default_rng(12)
    sd, margin = 0.042, 0.02
    d = true_diff + sd * rng.standard_normal((SIM, n))
    m, se = d.mean(1), d.std(1, ddof=1) / math.sqrt(n)
    tcrit = sps.t.ppf(0.95, n - 1)
    declared = (m - tcrit * se > -margin) & (m + tcrit * se < margin)
    p = S.power_tost_paired(true_diff, sd, n, margin)
    assert declared.mean() == pytest.approx(p, abs=binom_tol(p, SIM, 4))
    # and it is the same decision as simrank.stats.tost on one replicate
    r = S.tost(d[0], np.zeros(n), margin, paired=True)
    assert r.equivalent == bool(declared[0])


def test_n_tost_paired_reaches_power_and_is_minimal():
    n = S.n_tost_paired(0.042, 0.02)
    assert S.power_tost_paired(0.0, 0.042, n, 0.02) >= 0.8 > S.power_tost_paired(0.0, 0.042, n - 1, 0.02)
    with pytest.raises(ValueError, match="true_diff"):
        S.n_tost_paired(0.042, 0.02, true_diff=0.03)


@pytest.mark.parametrize(("r", "n"), [(0.3, 40), (-0.5, 20)])
def test_power_correlation_matches_simulation(r, n):
    rng = np.random.default_rng(13)
    x = rng.standard_normal((SIM, n))
    y = r * x + math.sqrt(1 - r * r) * rng.standard_normal((SIM, n))
    xc, yc = x - x.mean(1, keepdims=True), y - y.mean(1, keepdims=True)
    rr = (xc * yc).sum(1) / np.sqrt((xc**2).sum(1) * (yc**2).sum(1))
    t = rr * np.sqrt((n - 2) / (1 - rr**2))
    rejected = np.abs(t) > sps.t.ppf(0.975, n - 2)  # the exact test of ρ = 0
    p = S.power_correlation(r, n)
    # Fisher z is an approximation that is conservative for the exact t test of ρ = 0 (it understates the power,
    # by 0.03 at r = .5, n = 20 and less as n grows): never above the simulated power beyond the Monte Carlo error,
    # and at most 0.035 below it.
    tol = binom_tol(p, SIM, 4)
    assert p - tol <= rejected.mean() <= p + tol + 0.035


def test_power_anova_interaction_matches_simulation():
    rng = np.random.default_rng(14)
    a, b, n, f = 2, 3, 6, 0.4
    gamma = np.array([[1.0, -0.5, -0.5], [-1.0, 0.5, 0.5]])  # rows and columns sum to 0: pure interaction
    gamma *= f / math.sqrt(np.mean(gamma**2))  # Cohen's f = sd of the cell effects / σ, σ = 1
    main = np.array([0.3, -0.3])[:, None] + np.array([0.5, 0.0, -0.5])[None, :]
    y = main + gamma + rng.standard_normal((SIM, n, a, b))
    cell = y.mean(1)
    resid = ((y - cell[:, None]) ** 2).sum((1, 2, 3))
    inter = cell - cell.mean(2, keepdims=True) - cell.mean(1, keepdims=True) + cell.mean((1, 2), keepdims=True)
    df1, df2 = (a - 1) * (b - 1), a * b * (n - 1)
    F = (n * (inter**2).sum((1, 2)) / df1) / (resid / df2)
    rejected = F > sps.f.ppf(0.95, df1, df2)
    p = S.power_anova_interaction(f, a, b, n)
    assert rejected.mean() == pytest.approx(p, abs=binom_tol(p, SIM, 4))


def test_power_functions_reject_bad_input():
    with pytest.raises(ValueError, match="sd"):
        S.power_paired_t(0.1, 0.0, 10)
    with pytest.raises(ValueError, match="n must be"):
        S.power_paired_t(0.1, 1.0, 1)
    with pytest.raises(ValueError, match="effect"):
        S.n_paired_t(0.0, 1.0)
    with pytest.raises(ValueError, match="alternative"):
        S.power_correlation(0.2, 10, alternative="less")
    with pytest.raises(ValueError, match="not reached"):
        S.n_paired_t(1e-6, 1.0, n_max=1000)


# ------------------------------------------------------------------ variance components (between worlds)


@settings(max_examples=40, deadline=None)
@given(
    groups=st.integers(2, 6),
    per_group=st.integers(2, 6),
    seed=st.integers(0, 2**31 - 1),
    spread=st.floats(0.0, 3.0),
)
def test_variance_components_f_matches_f_oneway(groups, per_group, seed, spread):
    """F and p from group summaries equal scipy's one-way ANOVA on the raw values."""
    x = np.random.default_rng(seed).normal(size=(groups, per_group)) + spread * np.arange(groups)[:, None]
    vc = S.variance_components(x.mean(1), x.var(1, ddof=1), per_group)
    ref = sps.f_oneway(*x)
    assert math.isclose(vc.f, ref.statistic, rel_tol=1e-9)
    assert math.isclose(vc.p, ref.pvalue, rel_tol=1e-7, abs_tol=1e-12)
    assert 0.0 <= vc.icc <= 1.0


def test_variance_components_recovers_known_components_monte_carlo():
    """σ_b = 0.5, σ_w = 1: the ANOVA estimator of σ²_b is unbiased before truncation at 0; with 2000 replicate
    designs of 40 groups × 5 its mean lies within 4 standard errors of 0.25 (SE from the replicates)."""
    rng = np.random.default_rng(11)
    reps, g, n = 2000, 40, 5
    x = rng.normal(0, 0.5, size=(reps, g, 1)) + rng.normal(size=(reps, g, n))
    est = np.array([S.variance_components(r.mean(1), r.var(1, ddof=1), n).between_sd ** 2 for r in x])
    se = est.std(ddof=1) / math.sqrt(reps)
    assert abs(est.mean() - 0.25) < 4 * se + 1e-3  # the truncation at 0 bias is < 1e-3 at this F
    within = np.array([S.variance_components(r.mean(1), r.var(1, ddof=1), n).within_sd ** 2 for r in x])
    assert abs(within.mean() - 1.0) < 4 * within.std(ddof=1) / math.sqrt(reps)


def test_variance_components_rejects_bad_shapes():
    with pytest.raises(ValueError, match="per_group >= 2"):
        S.variance_components([0.0], [1.0], 3)
    with pytest.raises(ValueError, match="per_group >= 2"):
        S.variance_components([0.0, 1.0], [1.0, 1.0], 1)
