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
    Effect,
    Prediction,
    Tables,
    Verdict,
    all_of,
    almost_sure_rho_inf,
    config_value,
    decide_increase,
    deciding_test,
    effect_of,
    familywise,
    fmt,
    fmt_effect,
    power_change,
)
from simrank.predictions.plots import LEVEL, design_note, legend
from simrank.stats import summarise
from simrank.theory.bounds import t3_bound_as_proved

__all__ = [
    "EXPERIMENT",
    "MIN_R2",
    "PREDICTION",
    "SEEDS",
    "SESOI",
    "analyse",
    "caption",
    "decide_r2",
    "draw",
    "r2_bootstrap",
]

EXPERIMENT = "p01-gap-vs-diameter"
SESOI = 0.3  # per-seed Pearson r(Δ̂, gap) across the pools: a relation weaker than r = 0.3 is not "growth"
SEEDS = 28  # one-sided t at r = 0.3, pilot SD 0.62 of the per-seed r without the uniform pool (the LOO check) -> 28
MIN_R2 = 0.8  # "linear": a line through the per-pool means explains >= 80% of their variance
DELTA = 0.05  # confidence parameter of the T3 bound
BOOTSTRAP = 4000  # resamples of seeds for the R² interval (fixed generator seed 0)


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


def r2_bootstrap(
    df: pd.DataFrame, levels: tuple[float, ...], draws: int = BOOTSTRAP
) -> tuple[float, list[tuple[float, float]], float]:
    """R² of a line through the per-pool means with percentile intervals from a bootstrap clustered by seed: each
    draw resamples whole seeds with replacement (a seed's pools stay together, as the seed is the unit), recomputes
    the per-pool means of Δ̂ and the gap and their R² (the squared correlation of the means).

    Args:
      df: rows with ``seed``, ``pool_size``, ``delta_hat``, ``gap``.
      levels: α per one-sided end of each interval wanted.
      draws: number of resamples (generator seed 0, so the interval is reproducible).

    Returns:
      (R² of the means, ``[(low, high)]`` per level, the bootstrap SD of R²).
    """
    cells = df.groupby(["seed", "pool_size"])[["delta_hat", "gap"]].mean()
    x, y = (cells[c].unstack("pool_size").to_numpy() for c in ("delta_hat", "gap"))  # seeds × pools
    pick = np.random.default_rng(0).integers(0, x.shape[0], size=(draws, x.shape[0]))
    mx, my = x[pick].mean(axis=1), y[pick].mean(axis=1)  # draws × pools
    mx, my = mx - mx.mean(axis=1, keepdims=True), my - my.mean(axis=1, keepdims=True)
    r2 = (mx * my).sum(axis=1) ** 2 / ((mx**2).sum(axis=1) * (my**2).sum(axis=1))
    intervals = [(float(np.quantile(r2, a)), float(np.quantile(r2, 1 - a))) for a in levels]
    return _r2_of_means(df), intervals, float(r2.std(ddof=1))


def decide_r2(e_plain: Effect, e_family: Effect) -> str:
    """The linearity part: supported when the ``1 − 2α`` interval of R² lies at or above MIN_R2, refuted when the
    Bonferroni interval (multiplicity policy, ``base.familywise``) lies below it, else inconclusive: a point
    estimate below MIN_R2 whose interval reaches it refutes nothing."""
    if e_family.high < MIN_R2:
        return "refuted"
    return "supported" if e_plain.low >= MIN_R2 else "inconclusive"


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
    """Effect: per-seed Pearson r(Δ̂, gap) across the pools (a continuum of localities), mean with 90% CI.

    supported iff the r effect is supported (``decide_increase`` at SESOI), it stays supported when any single
    pool is left out (leverage), and R² of a line through the per-pool means has its 90% seed-bootstrap interval
    at or above MIN_R2 (:func:`r2_bootstrap`, :func:`decide_r2`); refuted iff the r effect or a left-one-pool-out
    version is refuted, or the R² interval lies below MIN_R2 (growth, not linear).  Refutations use Bonferroni
    intervals over the 2 + number of pools decided tests (``base.familywise``).  The primary effect is the test
    the verdict rests on (``base.deciding_test``).
    """
    df = tables[EXPERIMENT]
    r = effect_of(_per_seed_r(df))
    pools = sorted(df["pool_size"].unique())
    loo = {p: effect_of(_per_seed_r(df[df["pool_size"] != p])) for p in pools}
    k = 2 + len(pools)
    r2, (plain, family), r2_sd = r2_bootstrap(df, (ALPHA, ALPHA / k))
    n_seeds = int(df["seed"].nunique())
    r2_effect = Effect(r2, *plain, n_seeds, r2_sd)
    decide = familywise(decide_increase, k)
    tests = [("r", r, decide(r, SESOI)), *((p, e, decide(e, SESOI)) for p, e in loo.items())]
    tests.append(("R²", r2_effect, decide_r2(r2_effect, Effect(r2, *family, n_seeds, r2_sd))))
    outcome = all_of([o for _, _, o in tests])
    power = {name: power_change(SESOI, e.sd, e.n) if name != "R²" else math.nan for name, e, _ in tests}
    deciding = deciding_test(outcome, [(name, o, power[name]) for name, _, o in tests])
    primary = {name: e for name, e, _ in tests}[deciding]
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
        f"R² = {fmt_effect(r2_effect, 2)} ({LEVEL} bootstrap interval, seeds resampled; needed ≥ {MIN_R2}) → "
        f"{tests[-1][2]}; refutations on Bonferroni intervals over the {k} decided tests; the verdict rests on "
        f"{'R²' if deciding == 'R²' else 'r' if deciding == 'r' else f'r without pool {deciding:g}'}; the T3 bound "
        f"holds in {holds:.0%} of models at {fmt(tightness.min(), 1)}-{fmt(tightness.max(), 1)}× the mean gap, "
        f"R̂ + bound < log 2 in {non_vacuous:.0%}"
    )
    return Verdict(
        outcome=outcome,
        summary=summary,
        effect=primary,
        sesoi=MIN_R2 if deciding == "R²" else SESOI,
        seeds=n_seeds,
        power=power[deciding],
        numbers={"primary": fmt_effect(primary), "r2_means": r2, "bound_holds": holds, "loo_min_low": loo[weakest].low},
        table=table,
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
    test="one-sided t on the per-seed Pearson r(Δ̂, gap) across pools (90% CI), leave-one-pool-out, R² of means with "
    "a seed-bootstrap interval",
    rule="supported: r > 0 and not < SESOI, also without any single pool, and the R² interval ≥ 0.8; refuted: r < SESOI "
    "or the R² interval < 0.8",
    analyse=analyse,
    draw=draw,
    caption=caption,
)
