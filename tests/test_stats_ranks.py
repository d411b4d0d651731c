"""Rank stability and pairwise rank significance (simrank.stats.ranks)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from simrank import stats as S


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
