"""Means with t-intervals and grouped summaries (simrank.stats.intervals)."""

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

_floats = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)


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


@settings(max_examples=200, deadline=None)
@given(x=st.lists(_floats, min_size=1, max_size=30), conf=st.floats(min_value=0.5, max_value=0.999))
def test_mean_ci_brackets_mean(x, conf):
    r = S.mean_ci(x, conf)
    assert r.n == len(x)
    if r.n >= 2:
        assert r.low <= r.mean <= r.high
    else:
        assert math.isnan(r.low) and math.isnan(r.high)
