"""theory.tightness: the sandwich trace, the variance split, the skewness s.e., a small run against d_eff, the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import skew

from simrank.theory import monte_carlo as MC
from simrank.theory import tightness as TT

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "results" / "theory" / "tightness"

finite = st.floats(-3, 3, allow_nan=False)


def _spd(a: np.ndarray) -> np.ndarray:
    return a @ a.T + np.eye(len(a))


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, (4, 4), elements=finite), st.floats(0.1, 10), arrays(np.float64, 4, elements=finite))
def test_sandwich_trace_is_the_parameter_count_when_the_covariance_is_the_hessian(a, c, w):
    """``K = cJ``: ``tr(J⁻¹K) = c·D`` and, on the tangent space of a sphere, ``c·(D − 1)``."""
    J = _spd(a)
    assert TT.sandwich_trace(J, c * J) == pytest.approx(4 * c, rel=1e-9)
    if np.linalg.norm(w) > 0.1:
        assert TT.sandwich_trace(J, c * J, w) == pytest.approx(3 * c, rel=1e-7)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, (4, 4), elements=finite), arrays(np.float64, (4, 4), elements=finite))
def test_sandwich_trace_is_invariant_to_the_sphere_direction_of_k(a, b):
    """Only the tangent part of ``K`` counts: adding ``s·wwᵀ`` to ``K`` leaves the tangent trace unchanged,
    while the unconstrained trace grows by ``s·wᵀJ⁻¹w``."""
    J, K, w = _spd(a), _spd(b), np.array([1.0, 2.0, 0.0, -1.0])
    bumped = K + 5.0 * np.outer(w, w)
    assert TT.sandwich_trace(J, bumped, w) == pytest.approx(TT.sandwich_trace(J, K, w), rel=1e-7)
    grow = 5.0 * w @ np.linalg.solve(J, w)
    assert TT.sandwich_trace(J, bumped) == pytest.approx(TT.sandwich_trace(J, K) + grow, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    arrays(np.float64, 12, elements=finite), arrays(np.float64, 12, elements=finite), st.floats(-2, 2, allow_nan=False)
)
def test_variance_split_shares_add_to_one_and_r2_is_a_fraction(a, b, mix):
    b = b + mix * a  # correlated terms
    gap = a + b
    if gap.var() < 1e-6 or a.var() < 1e-6 or b.var() < 1e-6:
        return
    split = TT.variance_split(gap, a=a, b=b)
    assert split["a"]["covariance_share"] + split["b"]["covariance_share"] == pytest.approx(1.0, abs=1e-9)
    assert all(0.0 <= t["r2"] <= 1.0 + 1e-12 for t in split.values())
    # Var(a) + Var(b) + 2 Cov(a, b) = Var(gap)
    cov = np.cov(a, b)[0, 1] / gap.var(ddof=1)
    assert split["a"]["variance_share"] + split["b"]["variance_share"] + 2 * cov == pytest.approx(1.0, abs=1e-9)


def test_variance_split_rejects_terms_that_do_not_add_up():
    with pytest.raises(ValueError, match="do not add up"):
        TT.variance_split(np.array([1.0, 2.0, 4.0]), a=np.array([1.0, 2.0, 3.0]))


def test_skewness_se_matches_the_spread_of_gaussian_sample_skewness():
    """2000 samples of 200 Gaussians: the sd of their skewness estimates has relative s.e. ≈ 1/√(2·2000) = 1.6%;
    allow 4 s.e. (6.3%)."""
    rng = np.random.default_rng(0)
    sd = skew(rng.standard_normal((2000, 200)), axis=1, bias=False).std(ddof=1)
    assert sd == pytest.approx(TT.skewness_se(200), rel=4 / np.sqrt(2 * 2000))


@pytest.fixture(scope="module")
def small_run() -> tuple[pd.DataFrame, dict]:
    config = TT.TightnessConfig(pool=5_000, sizes=(1_000,), n_sets=(40,), shell_sample=1_000, check_sets=20, chunk=40)
    return TT.tightness_run(config)


def test_small_run_mean_gap_is_d_eff_over_n(small_run):
    """``n ×`` the control-variate mean gap matches ``tr((PJP)⁺PKP)`` within 4 s.e. of the 40 sets' mean (its
    second-order remainder is ``O(1/n)`` relative, ≈ 0.5% at ``n = 1000``), and does not match the parameter count."""
    table, scalars = small_run
    n_cv = 1_000 * (table.gap_S - table.star_S).to_numpy()
    se = n_cv.std(ddof=1) / np.sqrt(len(n_cv))
    assert abs(n_cv.mean() - scalars["d_eff"]) <= 4 * se
    assert abs(n_cv.mean() - (scalars["parameters"] - 1)) > 4 * se  # negative control: dim/n is far off
    assert scalars["tangent_residual"] < 1e-10 and scalars["multiplier"] > 0  # the constraint binds at W*


def test_small_run_gap_at_the_pool_minimiser_has_mean_zero(small_run):
    """``W*`` does not depend on the set and ``R`` is exact for the pool's law: ``E[R(W*) − R̂_S(W*)] = 0``."""
    table, _ = small_run
    star = table.star_S.to_numpy()
    assert abs(star.mean()) <= 4 * star.std(ddof=1) / np.sqrt(len(star))


def test_small_run_localised_bound_holds_and_its_terms_add_up(small_run):
    table, scalars = small_run
    assert np.allclose(table.variance + table.range + table.uniform, table.bound)
    assert (table.gap_S2 > table.bound).sum() <= MC.allowed_violations(len(table), 0.05)
    summary = TT.gap_summary(table, scalars)
    assert summary["factors"][20]["bound"] > 1 and summary["violations"] == (
        int((table.gap_S2 > table.bound).sum()),
        40,
    )


def test_gap_summary_floor_on_constructed_data():
    """Gaps 1..100 with zero control variate: q95 = 95.05 (linear interpolation), mean 50.5."""
    gap = np.arange(1.0, 101.0)
    table = pd.DataFrame({"gap_S": gap, "gap_S2": gap, "star_S": 0.0, "star_S2": 0.0})
    per = TT.size_summary(table, 10, np.random.default_rng(0))
    assert per["floor_gap_S2"] == pytest.approx(95.05 / 50.5)
    assert per["n_mean_gap"][0] == pytest.approx(505.0)


def test_write_and_read_run_round_trip(tmp_path, small_run):
    table, scalars = small_run
    TT.write_run(table, scalars, tmp_path / "run")
    back, back_scalars = TT.read_run(tmp_path / "run")
    pd.testing.assert_frame_equal(back, table)
    assert TT.tightness_block(back, back_scalars) == TT.tightness_block(table, scalars)


def test_theory_tightness_rejects_a_missing_paper_file_in_one_line(tmp_path):
    missing = tmp_path / "nope.md"
    code = f"import sys; sys.argv = ['simrank', 'theory', 'tightness', '--paper', {str(missing)!r}]\n"
    code += "from simrank.cli import main; main()"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"error: --paper {missing} is not a file"]


@pytest.mark.slow
def test_committed_tightness_run_is_reproduced():
    committed, scalars = TT.read_run(RUN)
    fresh, fresh_scalars = TT.tightness_run()
    pd.testing.assert_frame_equal(fresh, committed, rtol=1e-6)
    assert fresh_scalars["d_eff"] == pytest.approx(scalars["d_eff"], rel=1e-9)
