"""P12: with near-equivalent samplers, a ranking from one seed is noise; only several seeds rank them."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from scipy import stats as sps

from simrank.figures import PALETTE
from simrank.predictions.base import (
    ALPHA,
    Prediction,
    Tables,
    Verdict,
    decide_increase,
    effect_of,
    fmt_effect,
    paired_effect,
    power_change,
)
from simrank.predictions.plots import LEVEL, NDCG, design_note, effect_panel

__all__ = ["EXPERIMENT", "PREDICTION", "SEEDS", "SESOI", "analyse", "caption", "draw", "loo_kendall"]

EXPERIMENT = "p12-seed-noise"
SESOI = 0.2  # disagreement 1 − τ (Kendall) of one seed's ranking with the other seeds' consensus
SEEDS = 41  # one-sided t at the SESOI, pilot SD 0.51 of the per-seed disagreement (stats.n_paired_t -> 41)


def _matrix(df: pd.DataFrame) -> pd.DataFrame:
    return df.groupby(["seed", "pool_size"])["ndcg10"].mean().unstack("pool_size")


def loo_kendall(df: pd.DataFrame) -> pd.Series:
    """Per seed s: Kendall τ-b between seed s's sampler ranking and the ranking of the mean over the other seeds
    (leave-one-out, so a seed is never compared with a consensus it is part of).

    Returns:
      ``[seeds]`` τ (NaN when either ranking is constant).
    """
    m = _matrix(df)
    out = {}
    for s in m.index:
        own, rest = m.loc[s].to_numpy(), m.drop(index=s).mean().to_numpy()
        out[s] = float(sps.kendalltau(own, rest).statistic) if np.ptp(own) > 0 and np.ptp(rest) > 0 else np.nan
    return pd.Series(out)


def analyse(tables: Tables) -> Verdict:
    """Effect: per-seed disagreement 1 − τ between one seed's ranking and the leave-one-out consensus; the claim
    "one seed ranks noise" is supported when the disagreement is a supported increase at SESOI and refuted when
    its interval lies below SESOI (single seeds reproduce the ranking).  Reported: Friedman's test of any
    difference between samplers (blocks = seeds) and every sampler's paired difference to the uniform pool.
    """
    df = tables[EXPERIMENT]
    m = _matrix(df)
    disagreement = effect_of(1 - loo_kendall(df).dropna().to_numpy())
    friedman = sps.friedmanchisquare(*[m[c].to_numpy() for c in m.columns])
    ref = m.columns.max()
    rows = []
    for c in m.columns:
        e = paired_effect(m[c], m[ref]) if c != ref else None
        wins = float((m.idxmax(axis=1) == c).mean())
        rows.append(
            {
                "pool_size": c,
                "mean_ndcg": m[c].mean(),
                "minus_uniform": e.mean if e else 0.0,
                "low": e.low if e else 0.0,
                "high": e.high if e else 0.0,
                "best_on_seeds": wins,
            }
        )
    table = pd.DataFrame(rows)
    summary = (
        f"one seed's ranking of {m.shape[1]} samplers disagrees with the other {m.shape[0] - 1} seeds' consensus by "
        f"1 − τ = {fmt_effect(disagreement)} ({LEVEL} CI); Friedman χ² = {friedman.statistic:.2f}, p = {friedman.pvalue:.3g}; "
        f"paired difference to pool {ref:g}: "
        + ", ".join(
            f"{r.pool_size:g}: {r.minus_uniform:.3f} [{r.low:.3f}, {r.high:.3f}]"
            for r in table.itertuples()
            if r.pool_size != ref
        )
    )
    return Verdict(
        outcome=decide_increase(disagreement, SESOI),
        summary=summary,
        effect=disagreement,
        sesoi=SESOI,
        seeds=int(m.shape[0]),
        power=power_change(SESOI, disagreement.sd, disagreement.n),
        numbers={"friedman_p": float(friedman.pvalue)},
        table=table,
    )


def draw(tables: Tables) -> Figure:
    df = tables[EXPERIMENT]
    m = _matrix(df)
    fig, axes = plt.subplots(1, 2, figsize=(8.5, 3.2))
    colours = sns.color_palette(PALETTE, m.shape[0])
    for colour, (_, row) in zip(colours, m.iterrows()):
        axes[0].plot(m.columns, row.to_numpy(), "o-", ms=2, lw=0.8, color=colour, alpha=0.8)
    axes[0].set_title("one line per seed", fontsize=9)
    axes[0].set_xlabel("negative pool size M")
    axes[0].set_ylabel(NDCG)
    axes[0].grid(alpha=0.3)
    ref = m.columns.max()
    effects = [(f"{c:g}", paired_effect(m[c], m[ref])) for c in m.columns if c != ref]
    effect_panel(axes[1], effects, None, f"nDCG@10(M) − nDCG@10(M = {ref:g})")
    axes[1].set_xlabel("negative pool size M")
    axes[1].set_title(f"paired by seed, {LEVEL} CIs", fontsize=9)
    return fig


def caption(tables: Tables) -> str:
    df = tables[EXPERIMENT]
    pools = ", ".join(f"{p:g}" for p in sorted(df["pool_size"].unique()))
    return (
        f"P12. True nDCG@10 of {df['loss'].iloc[0]} distillation for samplers with pool sizes {pools}: left one line per "
        f"seed (crossings are orders a single seed would report), right each pool's paired difference to the largest "
        f"pool with its {LEVEL} t-interval (the intervals the rankings are tested with); {design_note(df)}."
    )


PREDICTION = Prediction(
    key="P12",
    claim="a sampler ranking from one seed is noise when the samplers differ by less than the seed spread",
    experiments=(EXPERIMENT,),
    sesoi=SESOI,
    alpha=ALPHA,
    seeds=SEEDS,
    test="one-sided t (90% CI) on the per-seed 1 − Kendall τ with the leave-one-out consensus; Friedman reported",
    rule="supported if the disagreement is > 0 and not < SESOI; refuted if its interval lies below SESOI",
    analyse=analyse,
    draw=draw,
    caption=caption,
)
