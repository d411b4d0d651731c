"""P1: at fixed τ the generalisation gap grows linearly with the sampled diameter Δ̂; T3 bounds it."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from simrank.figures import PALETTE
from simrank.predictions.base import (
    ALPHA,
    Prediction,
    Tables,
    Verdict,
    all_of,
    almost_sure_rho_inf,
    change_verdict,
    config_value,
    decide_increase,
    effect_of,
    fmt,
    fmt_effect,
    power_change,
)
from simrank.predictions.plots import LEVEL, design_note, legend
from simrank.stats import summarise
from simrank.theory import t3_bound_as_proved

__all__ = ["EXPERIMENT", "MIN_R2", "PREDICTION", "SEEDS", "SESOI", "analyse", "caption", "draw"]

EXPERIMENT = "p01-gap-vs-diameter"
SESOI = 0.3  # per-seed Pearson r(Δ̂, gap) across the pools: a relation weaker than r = 0.3 is not "growth"
SEEDS = 28  # one-sided t at r = 0.3, pilot SD 0.62 of the per-seed r without the uniform pool (the LOO check) -> 28
MIN_R2 = 0.8  # "linear": a line through the per-pool means explains >= 80% of their variance
DELTA = 0.05  # confidence parameter of the T3 bound


def _per_seed_r(df: pd.DataFrame) -> np.ndarray:
    """Pearson r between Δ̂ and the gap across the pools, one per seed (NaN-free: constant seeds dropped)."""
    out = []
    for _, part in df.groupby("seed"):
        if part["delta_hat"].std() > 0 and part["gap"].std() > 0:
            out.append(float(np.corrcoef(part["delta_hat"], part["gap"])[0, 1]))
    return np.asarray(out)


def _r2_of_means(df: pd.DataFrame) -> float:
    means = df.groupby("pool_size")[["delta_hat", "gap"]].mean()
    slope, intercept = np.polyfit(means["delta_hat"], means["gap"], 1)
    resid = means["gap"] - (slope * means["delta_hat"] + intercept)
    return float(1 - np.sum(resid**2) / np.sum((means["gap"] - means["gap"].mean()) ** 2))


def _with_bound(df: pd.DataFrame) -> pd.DataFrame:
    """Theorem 3(b) as proved: ρ_∞ an almost-sure bound of each row's world, n the number of i.i.d. draws
    (the training queries: all groups of one query form one draw), ρ̂₂ = delta_rms (‖q‖ = 1 on the sphere)."""
    B = float(config_value(df, "student", "norm_bound").iloc[0])
    n_iid = config_value(df, "data", "n_queries").astype(int)
    rho_inf = almost_sure_rho_inf(df)
    bound = [
        t3_bound_as_proved(B, rms, r_inf, n, DELTA, data_dependent=True)
        for rms, r_inf, n in zip(df["delta_rms"], rho_inf, n_iid)
    ]
    return df.assign(bound=bound)


def analyse(tables: Tables) -> Verdict:
    """Effect: per-seed Pearson r(Δ̂, gap) across the pools (a continuum of localities), mean with 90% CI; the
    primary effect (power, table) is the least powered of r and its leave-one-pool-out versions.

    supported iff the r effect is supported (``decide_increase`` at SESOI), it stays supported when any single
    pool is left out (leverage), and a line through the per-pool means has R² ≥ MIN_R2; refuted iff the r effect
    is refuted, or left-one-pool-out refutes it, or R² < MIN_R2 while r is supported (growth, not linear).
    """
    df = tables[EXPERIMENT]
    r = effect_of(_per_seed_r(df))
    pools = sorted(df["pool_size"].unique())
    loo = {p: effect_of(_per_seed_r(df[df["pool_size"] != p])) for p in pools}
    r2 = _r2_of_means(df)
    parts = [decide_increase(r, SESOI), *(decide_increase(e, SESOI) for e in loo.values())]
    parts.append("supported" if r2 >= MIN_R2 else "refuted")
    outcome = all_of(parts)
    weakest = min(loo, key=lambda p: loo[p].low)
    b = _with_bound(df)
    holds = float(np.mean(b["gap"] <= b["bound"]))
    means = b.groupby("pool_size")[["delta_hat", "gap", "bound", "train_risk"]].mean()
    tightness = means["bound"] / means["gap"]
    non_vacuous = float(np.mean(b["train_risk"] + b["bound"] < math.log(2)))
    table = means.assign(tightness=tightness, r_without_pool=[loo[p].mean for p in means.index]).reset_index()
    summary = (
        f"per-seed r(Δ̂, gap) across {len(pools)} pools = {fmt_effect(r)} ({LEVEL} CI, {r.n} seeds); leaving out "
        f"pool {weakest:g} (the most influential) gives {fmt_effect(loo[weakest])}; a line through the pool means has "
        f"R² = {fmt(r2, 2)} (needed ≥ {MIN_R2}); the T3 bound holds in {holds:.0%} of models at "
        f"{fmt(tightness.min(), 1)}-{fmt(tightness.max(), 1)}× the mean gap, R̂ + bound < log 2 in {non_vacuous:.0%}"
    )
    primary = min([r, *loo.values()], key=lambda e: power_change(SESOI, e.sd, e.n) if e.sd > 0 else 1.0)
    return change_verdict(
        outcome, summary, primary, SESOI, df, table, r2_means=r2, bound_holds=holds, loo_min_low=loo[weakest].low
    )


def draw(tables: Tables) -> Figure:
    df = _with_bound(tables[EXPERIMENT])
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    colours = sns.color_palette(PALETTE, df["pool_size"].nunique())
    for colour, (pool, part) in zip(colours, df.groupby("pool_size")):
        axes[0].scatter(part["delta_hat"], part["gap"], color=colour, s=14, label=f"{pool:g}")
    axes[0].set_xlabel("sampled diameter Δ̂ (0.99-quantile)")
    axes[0].set_ylabel("generalisation gap (nats per pair)")
    legend(axes[0], "pool size M")
    for y, colour, label in (("gap", 0, "measured gap"), ("bound", 1, "T3 bound as proved (data-dependent)")):
        s = summarise(df, "pool_size", y).merge(summarise(df, "pool_size", "delta_hat"), on=["pool_size", "n"])
        c = sns.color_palette(PALETTE)[colour]
        axes[1].plot(s["delta_hat_mean"], s[f"{y}_mean"], "o-", color=c, ms=3, label=label)
        axes[1].fill_between(s["delta_hat_mean"], s[f"{y}_low"], s[f"{y}_high"], color=c, alpha=0.2, lw=0)
    axes[1].set_yscale("log")
    axes[1].set_xlabel("sampled diameter Δ̂")
    axes[1].set_ylabel("nats per pair (log scale)")
    axes[1].legend(fontsize=7)
    for ax in axes:
        ax.grid(alpha=0.3)
    return fig


def caption(tables: Tables) -> str:
    df = tables[EXPERIMENT]
    pools = ", ".join(f"{p:g}" for p in sorted(df["pool_size"].unique()))
    B = float(config_value(df, "student", "norm_bound").iloc[0])
    return (
        f"P1. Left: generalisation gap of {df['loss'].iloc[0]} (bilinear student, ‖W‖_F ≤ {B:g}) against the sampled "
        f"diameter Δ̂, one dot per model, colour = negative pool size M ∈ {{{pools}}}. Right: mean gap and the "
        f"data-dependent T3 bound as proved (δ = {DELTA}; ρ_∞ = corpus diameter, n = training queries) against the "
        f"mean Δ̂ per pool, log scale, bands 95% t-intervals over "
        f"seeds (the verdict uses the per-seed correlation); {design_note(df)}."
    )


PREDICTION = Prediction(
    key="P1",
    claim="at fixed τ the generalisation gap grows linearly with the sampled diameter Δ̂",
    experiments=(EXPERIMENT,),
    sesoi=SESOI,
    alpha=ALPHA,
    seeds=SEEDS,
    test="one-sided t on the per-seed Pearson r(Δ̂, gap) across pools (90% CI), leave-one-pool-out, R² of means",
    rule="supported: r > 0 and not < SESOI, also without any single pool, and R² ≥ 0.8; refuted: r < SESOI or R² < 0.8",
    analyse=analyse,
    draw=draw,
    caption=caption,
)
