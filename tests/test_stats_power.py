"""Power and sample size (simrank.stats.power) and the doctests of every simrank.stats module."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from tolerances import binom_tol

from simrank import stats as S

SIM = 20_000  # Monte Carlo replications per power check; tolerance binom_tol(p, SIM, 4) ≤ 0.0142


def test_stats_doctests_pass():
    """The examples in every module's docstrings run and give the printed results."""
    import doctest
    import importlib
    import pkgutil

    attempted = 0
    for info in pkgutil.iter_modules(S.__path__):
        result = doctest.testmod(importlib.import_module(f"simrank.stats.{info.name}"), raise_on_error=False)
        assert result.failed == 0, info.name
        attempted += result.attempted
    assert attempted >= 9


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
