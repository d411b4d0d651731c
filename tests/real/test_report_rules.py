"""The real-data report decides P4, P5, P8, P10 and P11 with the synthetic rules themselves: what is tested here
is the conversion of query-level data into the rules' Effects (interval level, names, signs), not the rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from simrank.predictions import p04, p05, p08, p10, p11
from simrank.predictions.base import UNTESTED, effect_of
from simrank.real.confirm.stats import query_effect, query_matrix, real_p4, real_p5, real_p8, real_p10, real_p11
from simrank.stats import paired_bootstrap

CFG = {"group_sizes": [2, 8], "n_resamples": 200, "alpha": 0.05, "margin": 0.02}
LEARNS = {"lce": True, "kl": True}


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 3).flatmap(
        lambda s: st.integers(2, 12).flatmap(
            lambda q: st.tuples(*(arrays(np.float64, (s, q), elements=st.floats(0, 1)) for _ in range(2)))
        )
    )
)
def test_query_effect_is_the_mean_difference_with_the_bootstrap_interval_at_1_minus_2_alpha(ab):
    a, b = ab
    e = query_effect(a, b, 300, 0.05)
    assert e.mean == pytest.approx((a - b).mean(), abs=1e-12) and e.n == a.shape[1]
    wide = paired_bootstrap(a, b, n_boot=300, confidence=0.95)  # same replicates (random_state 0)
    narrow = paired_bootstrap(a, b, n_boot=300, confidence=0.90)
    assert (e.low, e.high) == pytest.approx((narrow.low, narrow.high), abs=1e-12)
    assert wide.low <= e.low <= e.high <= wide.high
    assert e.sd == pytest.approx((a - b).mean(axis=0).std(ddof=1), abs=1e-12)


def test_query_effect_interval_has_the_synthetic_level():
    """One seed of 400 normal per-query differences: the bootstrap 90% half-width matches the synthetic rules'
    90% t-interval (``effect_of``) on the same values.  The percentile bootstrap's half-width is
    z·sd·√((n−1)/n)/√n, below t's by 0.4% at n = 400; the 5% quantiles of 20,000 replicates carry about 1%
    Monte Carlo error, so 4% is four such errors; α = 0.025 must widen to t's 95% interval the same way."""
    d = np.random.default_rng(3).normal(0.01, 0.1, (1, 400))
    for alpha in (0.05, 0.025):
        boot = query_effect(d, 0.0, 20_000, alpha)
        t = effect_of(d[0], alpha)
        assert (boot.high - boot.low) == pytest.approx(t.high - t.low, rel=0.04)
        assert boot.mean == pytest.approx(t.mean)


def _rows(ndcg, rho=None, seeds=2, queries=6) -> pd.DataFrame:
    """One student's results: ``ndcg(arm, sampler, k) -> per-query shift`` added to a common random base, the
    same for every seed (so every interval collapses to the shift)."""
    base = np.random.default_rng(0).uniform(0.3, 0.6, queries)
    rows = []
    for arm, loss in (("lce", "lce"), ("kl", "kl")):
        for sampler in ("random", "bm25", "teacher", "teacher+filter"):
            for k in CFG["group_sizes"]:
                for seed in range(seeds):
                    rows.append(
                        {
                            "arm": arm,
                            "loss": loss,
                            "sampler": sampler,
                            "group_size": k,
                            "seed": seed,
                            "ndcg10_q": base + ndcg(arm, sampler, k),
                            "kl_ndcg_spearman": np.nan if rho is None else rho(arm, seed),
                        }
                    )
    return pd.DataFrame(rows)


def test_p4_contrasts_hard_samplers_against_random_per_loss():
    lce_only = _rows(lambda arm, s, k: 0.05 if arm == "lce" and s in ("bm25", "teacher") else 0.0)
    v = real_p4(lce_only, CFG, LEARNS)
    assert set(v.effects) == {"bm25", "teacher"}  # the hard samplers; teacher+filter is not one
    assert v.effects["bm25"]["lce"].mean == pytest.approx(0.05) and v.effects["bm25"]["did"].mean == pytest.approx(0.05)
    assert v.outcome == "supported" and v.decision == p04.decide(v.effects, CFG["margin"])
    both = _rows(lambda arm, s, k: 0.05 if s in ("bm25", "teacher") else 0.0)
    assert real_p4(both, CFG, LEARNS).outcome == "refuted"  # KL changes as much as LCE
    assert real_p4(both, CFG, LEARNS | {"kl": False}).outcome == "inconclusive"  # a non-learning arm decides nothing


def test_p5_decides_the_filter_parts_and_never_supports_without_the_harm_parts():
    helps_lce = _rows(lambda arm, s, k: 0.05 if arm == "lce" and s == "teacher+filter" else 0.0)
    v = real_p5(helps_lce, CFG, LEARNS)
    assert v.decision.parts["all"] == {
        "lce_harm": "inconclusive",
        "lce_gain": "supported",
        "kl_harm": "inconclusive",
        "kl_gain": "supported",
        "harm_did": "inconclusive",
        "gain_did": "supported",
    }
    assert v.effects["all"]["lce_harm"] is UNTESTED and v.outcome == "inconclusive"
    assert v.decision == p05.decide(v.effects["all"], CFG["margin"])
    assert real_p5(_rows(lambda arm, s, k: 0.0), CFG, LEARNS).outcome == "refuted"  # the filter does not help LCE


def test_p11_contrasts_group_sizes_per_local_sampler_and_reports_random():
    lce_grows = _rows(lambda arm, s, k: 0.05 * (k == 8) if arm == "lce" and s != "random" else 0.0)
    v = real_p11(lce_grows, CFG, LEARNS)
    assert set(v.decision.conditions) == {"bm25", "teacher"} and "random" in v.effects
    assert v.effects["bm25"]["lce"].mean == pytest.approx(0.05) and v.effects["random"]["lce"].mean == 0
    assert v.outcome == "supported" and v.decision == p11.decide({s: v.effects[s] for s in ("bm25", "teacher")})
    kl_grows = _rows(lambda arm, s, k: 0.05 * (k == 8) if arm == "kl" else 0.0)
    assert real_p11(kl_grows, CFG, LEARNS).outcome == "refuted"


def test_p10_decides_learning_distillation_arms_on_minus_rho():
    rows = _rows(lambda arm, s, k: 0.0, rho=lambda arm, seed: -0.4 - 0.01 * seed)
    v = real_p10(rows, CFG, LEARNS)
    assert set(v.effects) == {"kl"}  # LCE never sees the teacher
    assert tuple(v.effects["kl"]["neg_rho"]) == pytest.approx(tuple(effect_of([0.4, 0.41])))
    assert v.outcome == "supported" and v.decision == p10.decide(v.effects)
    assert real_p10(rows, CFG, {"lce": True, "kl": False}).outcome == "inconclusive"


def test_p8_decides_the_kappa_checks_and_leaves_the_eta_part_inconclusive():
    k0 = np.array([1.0, 10.0, 1e6])
    good = pd.DataFrame(
        {"beta": [0.0, 5.0, 10.0] * 2, "eta": [0.0] * 3 + [0.5] * 3, "kappa": [*k0, *k0 / (0.5 * k0 + 0.5)]}
    )
    assert real_p8(good).outcome == "inconclusive"  # every κ check passes; η's benefit is not in the real design
    assert real_p8(good).decision == p08.decide(
        p08.kappa_checks(pd.Series(k0, [0.0, 5.0, 10.0]), k0, [0.5] * 3, good.kappa[3:]), {}
    )
    shrinking = good.assign(kappa=[*k0[::-1], *(k0 / (0.5 * k0 + 0.5))[::-1]])
    assert real_p8(shrinking).outcome == "refuted"  # κ does not grow with β


# ----------------------------------------------------------------------------- the bootstrap unit is the query


def _cells(values: np.ndarray, names: list[str]) -> pd.DataFrame:
    """Result rows of one (student, arm): ``values[c, s]`` the per-query vector of cell ``names[c]`` at seed ``s``."""
    return pd.DataFrame(
        [
            {"sampler": name, "group_size": 8, "seed": s, "val_ndcg10_q": values[c, s]}
            for c, name in enumerate(names)
            for s in range(values.shape[1])
        ]
    )


CELL_VALUES = st.integers(1, 4).flatmap(
    lambda c: st.integers(1, 3).flatmap(
        lambda s: st.integers(3, 10).flatmap(lambda q: arrays(np.float64, (c, s, q), elements=st.floats(0, 1)))
    )
)


@settings(max_examples=40, deadline=None)
@given(CELL_VALUES)
def test_duplicated_cells_do_not_narrow_the_query_level_interval(values):
    """The same data presented as twice as many cells (every cell duplicated under another name) gives exactly the
    same [seeds, queries] matrix and interval: cells that share queries are not independent units."""
    names = [f"s{c}" for c in range(values.shape[0])]
    once = query_matrix(_cells(values, names), "val_ndcg10_q")
    twice = query_matrix(_cells(np.concatenate([values, values]), names + [f"{n}-copy" for n in names]), "val_ndcg10_q")
    np.testing.assert_allclose(twice, once, atol=1e-12)
    assert once.shape == values.shape[1:]
    np.testing.assert_allclose(once, values.mean(axis=0), atol=1e-12)  # cells averaged per query within a seed
    a, b = (
        paired_bootstrap(once, np.zeros_like(once), n_boot=200),
        paired_bootstrap(twice, np.zeros_like(twice), n_boot=200),
    )
    assert (b.low, b.high) == pytest.approx((a.low, a.high), abs=1e-12)


def test_cells_side_by_side_would_narrow_the_interval():
    """Negative control: laying 8 copies of one cell side by side as if they were 8 × 40 queries (the old pooling)
    narrows the 95% interval by about √8; the query-level matrix keeps the single cell's width."""
    cell = np.random.default_rng(0).normal(0.01, 0.1, (1, 1, 40))  # one seed: the query term alone
    eight = np.repeat(cell, 8, axis=0)
    side_by_side = np.concatenate(list(eight), axis=1)  # [seeds, 8 × queries]
    pooled = paired_bootstrap(side_by_side, np.zeros_like(side_by_side), n_boot=2000)
    level = query_matrix(_cells(eight, [f"s{c}" for c in range(8)]), "val_ndcg10_q")
    query = paired_bootstrap(level, np.zeros_like(level), n_boot=2000)
    assert (query.high - query.low) > 2.0 * (pooled.high - pooled.low)


def test_holm_adjusts_within_each_family_only():
    """One Holm family per question: a family's adjusted p-values depend on its own tests only."""
    from simrank.real.confirm.stats import FAMILIES
    from simrank.stats import holm

    assert len(FAMILIES) == len(set(FAMILIES.values()))
    p = pd.DataFrame({"family": ["movement"] * 3 + ["vs teacher"] * 2, "p": [0.01, 0.02, 0.04, 0.01, 0.03]})
    adjusted = p.groupby("family", sort=False).p.transform(lambda x: holm(x.to_numpy()))
    assert adjusted.tolist() == pytest.approx([0.03, 0.04, 0.04, 0.02, 0.03])
