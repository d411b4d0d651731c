"""Pearson and Spearman correlations with intervals (simrank.stats.correlation)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from simrank import stats as S


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
