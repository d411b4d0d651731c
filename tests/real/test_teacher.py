from __future__ import annotations

import numpy as np
import pytest

from simrank.real.data.teacher import hybrid_teacher_scores, teacher_scores, zscore_rows


def test_zscore_rows_mean_zero_std_one():
    s = np.random.default_rng(1).gamma(2.0, 3.0, size=(5, 200)) + np.arange(5)[:, None] * 10
    z = zscore_rows(s)
    assert z.dtype == np.float32
    np.testing.assert_allclose(z.mean(axis=1), 0.0, atol=1e-6)
    np.testing.assert_allclose(z.std(axis=1), 1.0, atol=1e-5)


def test_constant_row_gives_zeros_not_nan():
    np.testing.assert_array_equal(zscore_rows(np.full((2, 4), 3.0)), 0.0)


def test_hybrid_is_weighted_sum_of_zscores():
    rng = np.random.default_rng(2)
    b, d = rng.random((3, 50)), rng.random((3, 50))
    np.testing.assert_allclose(
        hybrid_teacher_scores(b, d, (0.3, 2.0)), 0.3 * zscore_rows(b) + 2.0 * zscore_rows(d), rtol=1e-6
    )
    np.testing.assert_array_equal(teacher_scores("hybrid", b, d, (0.3, 2.0)), hybrid_teacher_scores(b, d, (0.3, 2.0)))
    np.testing.assert_array_equal(teacher_scores("bm25", b, d, (1, 1)), b.astype(np.float32))
    np.testing.assert_array_equal(teacher_scores("dense", b, d, (1, 1)), d.astype(np.float32))


def test_errors_name_the_bad_value():
    with pytest.raises(ValueError, match="unknown teacher kind 'splade'; expected one of hybrid, bm25, dense"):
        teacher_scores("splade", np.zeros((1, 2)), np.zeros((1, 2)), (1, 1))
    with pytest.raises(ValueError, match=r"\(1, 2\) != dense_scores shape \(1, 3\)"):
        hybrid_teacher_scores(np.zeros((1, 2)), np.zeros((1, 3)))
