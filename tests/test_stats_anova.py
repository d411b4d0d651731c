"""Two-way ANOVA and variance components (simrank.stats.anova)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from simrank import stats as S


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
