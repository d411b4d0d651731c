"""Verdict rules of simrank.predictions on small synthetic results tables with known answers.

Synthetic tables: one row per (condition, seed), ``value = effect + noise`` with noise N(0, σ²) from a
fixed seed.  With S seeds the 95% CI half-width of a paired mean is about t_{S-1} · σ√2/√S; every effect
planted below is ≥ 10× that half-width (and every "no effect" ≤ 1/10 of the TOST margin), so each verdict
is determined by the planted structure, not by the noise draw.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest

from simrank.predictions import (
    P4_MARGIN,
    analyse_p3,
    analyse_p4,
    analyse_p5,
    analyse_p7,
    analyse_p10,
    analyse_p11,
    analyse_p12,
)

SEEDS = 8
SIGMA = 1e-3  # paired CI half-width ≈ 2.36 · 1e-3 · √2/√8 ≈ 1.2e-3


def table(factors: dict[str, list], value: str, fn, sigma: float = SIGMA, config=None, seed: int = 0) -> pd.DataFrame:
    """Rows for every combination of ``factors`` × seed with ``value = fn(**levels, seed) + N(0, σ²)``."""
    rng = np.random.default_rng(seed)
    rows = []
    for levels in itertools.product(*factors.values()):
        lv = dict(zip(factors, levels))
        for s in range(SEEDS):
            cfg = config(lv) if config else {}
            rows.append(
                {**lv, "seed": s, value: fn(**lv, seed=s) + sigma * rng.standard_normal(), "config": json.dumps(cfg)}
            )
    return pd.DataFrame(rows)


def p4_table(kl_effect: float) -> pd.DataFrame:
    def ndcg(pool_size, loss, world, seed):
        hard = pool_size == 20
        return 0.5 + (0.1 if loss == "lce" and hard else 0.0) + (kl_effect if loss == "kl" and hard else 0.0)

    df = table(
        {"pool_size": [20.0, 1000.0], "loss": ["lce", "kl"], "world": [0.0, 0.5]},
        "ndcg10",
        ndcg,
        config=lambda lv: {"world": {"nonbilinear": lv["world"]}},
    )
    return df


def test_p4_confirmed_when_only_lce_moves_and_flips_when_kl_moves_too():
    assert analyse_p4({"p04-hard-negatives": p4_table(0.0)}).verdict == "confirmed"
    moved = analyse_p4({"p04-hard-negatives": p4_table(5 * P4_MARGIN)})
    assert moved.verdict == "refuted"
    assert not moved.table["kl_equivalent"].any()


def test_p4_conditional_when_kl_moves_in_one_world_only():
    df = p4_table(0.0)
    shifted = (df["loss"] == "kl") & (df["pool_size"] == 20.0) & (df["world"] == 0.5)
    df.loc[shifted, "ndcg10"] += 0.1
    v = analyse_p4({"p04-hard-negatives": df})
    assert v.verdict == "conditional"
    assert v.table.set_index("nonbilinear")["holds"].to_dict() == {0.0: True, 0.5: False}


def p5_table(kl_harm: float) -> pd.DataFrame:
    def ndcg(eta, filtered, loss, seed):
        dirty = eta < 1
        if loss == "lce":
            return 0.6 - (0.1 if dirty and not filtered else 0.0)
        return 0.6 - (kl_harm if dirty and not filtered else 0.0)

    df = table({"eta": [1.0, 0.5], "filtered": [False, True], "loss": ["lce", "kl"]}, "ndcg10", ndcg)
    df["sampler"] = np.where(df["filtered"], "local+filter", "local")
    return df


def test_p5_confirmed_and_flip_to_conditional_when_kl_is_hurt():
    assert analyse_p5({"p05-false-negatives": p5_table(0.0)}).verdict == "confirmed"
    assert analyse_p5({"p05-false-negatives": p5_table(0.1)}).verdict == "conditional"


def test_p3_additive_is_confirmed_and_interaction_refutes():
    def additive(pool_size, tau, seed):
        return 0.01 * np.log(pool_size) + 0.05 / tau

    def interacting(pool_size, tau, seed):
        return additive(pool_size, tau, seed) + 0.2 * np.log(pool_size / 100) * np.log(tau)  # a crossing interaction

    factors = {"pool_size": [20.0, 100.0, 1000.0], "tau": [0.3, 1.0, 3.0]}
    for fn, expected in ((additive, "confirmed"), (interacting, "refuted")):
        raw = table(factors, "gap", fn)
        matched = table(
            {"pool_size": factors["pool_size"], "h": [0.2, 0.4, 0.6]},
            "gap",
            lambda pool_size, h, seed: fn(pool_size, h, seed),
            config=lambda lv: {"data": {"match_entropy": lv["h"]}},
        )
        assert analyse_p3({"p03-additivity": raw, "p03-additivity-matched": matched}).verdict == expected


def test_p7_shrink_ratios():
    def delta(world, pool_size, seed, cone_shrink):
        shrink = 0.3 if world == "isotropic" else cone_shrink
        return 2.0 * (1 - shrink) if pool_size == 10 else 2.0

    for cone, expected in ((0.05, "confirmed"), (0.25, "conditional"), (0.35, "refuted")):
        df = table(
            {"world": ["isotropic", "cone"], "pool_size": [10.0, 1000.0]},
            "delta_hat",
            lambda world, pool_size, seed: delta(world, pool_size, seed, cone),
        )
        v = analyse_p7({"p07-diameter-geometry": df})
        assert v.verdict == expected
        assert v.numbers["shrink_isotropic_raw"] == pytest.approx(0.3, abs=0.01)


def test_p10_per_query_correlation_decides_per_loss():
    # per-model ρ = planted value ± σ = 1e-3 noise: the CI half-width over 8 models is ≈ 2.4 · 1e-3/√8 ≈ 8e-4,
    # far below the planted |ρ| = 0.3; a NaN row (constant nDCG) must be left out, not poison the mean
    for rho, expected in (
        ({"lce": -0.3, "kl": -0.3}, "confirmed"),
        ({"lce": -0.3, "kl": 0.3}, "conditional"),
        ({"lce": 0.3, "kl": 0.3}, "refuted"),
    ):
        df = table({"loss": ["lce", "kl"]}, "kl_ndcg_corr", lambda loss, seed: rho[loss])
        df["kl_corpus"] = 1.0 + df["seed"] + 0.5 * (df["loss"] == "kl")
        df["ndcg10"] = 0.5 - 0.01 * df["kl_corpus"]  # across-model ρ is always −1: it must not decide
        df.loc[0, "kl_ndcg_corr"] = np.nan
        v = analyse_p10({"p10-kl-ndcg": df})
        assert v.verdict == expected
        assert v.numbers["rho_lce"] == pytest.approx(rho["lce"], abs=0.01)
        assert v.table.set_index("loss").loc["lce", "nan_models"] == 1


def test_p11_group_size_effect_only_under_lce_with_local_negatives():
    def ndcg(group_size, loss, pool_size, seed, kl_slope):
        slope = 0.01 if (loss == "lce" and pool_size == 20) else kl_slope
        return 0.5 + slope * np.log2(group_size)

    for kl_slope, expected in ((0.0, "confirmed"), (0.02, "refuted")):
        df = table(
            {"group_size": [4, 8, 16], "loss": ["lce", "kl"], "pool_size": [20.0, 1000.0]},
            "ndcg10",
            lambda **kw: ndcg(**kw, kl_slope=kl_slope),
        )
        assert analyse_p11({"p11-group-size": df}).verdict == expected


def test_p12_noise_ranking_is_confirmed_and_a_clean_ranking_refutes():
    levels = {"pool_size": [250.0, 500.0, 1000.0]}
    noisy = table(levels, "ndcg10", lambda pool_size, seed: 0.5, sigma=0.01)
    v = analyse_p12({"p12-seed-noise": noisy})
    assert v.verdict == "confirmed"
    assert v.numbers["mean_kendall_tau"] < 1
    clean = table(levels, "ndcg10", lambda pool_size, seed: pool_size / 1000, sigma=0.0)
    assert analyse_p12({"p12-seed-noise": clean}).verdict == "refuted"
