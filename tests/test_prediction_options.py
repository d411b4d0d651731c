"""The runner options the predictions added: entropy-matched τ, entropy-selected training queries, "none" in a grid."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simrank.config import DataConfig, load_experiment
from simrank.errors import ConfigError
from simrank.groups import select_queries, world_query_set
from simrank.losses import softmax_entropy
from simrank.measures import pairwise_entropy, temperature_for_entropy
from simrank.samplers import FalseNegativeFilter
from simrank.teacher import Teacher
from simrank.world import WorldConfig


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), target=st.floats(0.05, 0.65), scale=st.floats(0.5, 10.0))
def test_temperature_for_entropy_inverts_mean_pairwise_entropy(seed, target, scale):
    g = (scale * np.random.default_rng(seed).standard_normal((16, 6))).astype(np.float32)
    tau = temperature_for_entropy(g, target)
    # bisection stops when the log-τ bracket is < 1e-6; dH/dlogτ ≤ max over pairs of h'(σ(x))·|x| ≤ 0.23 nats,
    # so the entropy error from the bracket is < 1e-6; float32 sums add ~1e-6: 1e-5 is a safe bound.
    assert float(np.mean(pairwise_entropy(g, tau))) == pytest.approx(target, abs=1e-5)


def test_select_queries_by_teacher_entropy():
    world = WorldConfig(n_docs=200, dim=4, random_state=0).generate()
    qs = world_query_set(world, Teacher(), 40, 0)
    h = np.asarray(softmax_entropy(qs.teacher_scores / 1.0))
    order = np.sort(h)  # float32 entropies over 200 documents: the batch changes the summation order (rtol 1e-5)
    entropy = {
        k: np.sort(np.asarray(softmax_entropy(select_queries(qs, 10, k, 1.0).teacher_scores)))
        for k in ("all", "low_entropy", "high_entropy", "extreme_entropy")
    }
    np.testing.assert_allclose(entropy["all"], np.sort(h[:10]), rtol=1e-5)
    np.testing.assert_allclose(entropy["low_entropy"], order[:10], rtol=1e-5)
    np.testing.assert_allclose(entropy["high_entropy"], order[-10:], rtol=1e-5)
    np.testing.assert_allclose(entropy["extreme_entropy"], np.concatenate([order[:5], order[-5:]]), rtol=1e-5)


def test_data_options_reject_bad_values_with_one_line():
    with pytest.raises(ConfigError, match="data.train_queries"):
        DataConfig(train_queries="median")
    with pytest.raises(ConfigError, match="data.match_entropy"):
        DataConfig(match_entropy=math.log(2))


def test_grid_value_none_unsets_the_key():
    points = load_experiment("p05-false-negatives").points()
    samplers = {p.sections["sampler"]["filter_margin"]: p.sampler() for p in points}
    assert set(samplers) == {None, 0.0}
    assert isinstance(samplers[0.0], FalseNegativeFilter) and not isinstance(samplers[None], FalseNegativeFilter)
