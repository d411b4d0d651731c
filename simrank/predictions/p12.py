"""P12: with near-equivalent samplers, one seed's sampler ranking departs from the consensus of the others."""

from __future__ import annotations

import itertools
import math

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

__all__ = ["EXPERIMENT", "PREDICTION", "SEEDS", "SESOI", "analyse", "caption", "draw", "loo_kendall", "premise"]

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


def premise(m: pd.DataFrame) -> tuple[bool, float, tuple]:
    """The premise "the samplers differ by less than the seed spread": for every pair of samplers, the mean of the
    per-seed difference is smaller in size than its SD over seeds (a standardised paired difference |d_z| < 1).

    Args:
      m: seed × sampler mean nDCG@10.

    Returns:
      (premise holds, the largest |d_z|, the pair that gives it).
    """
    worst = 0.0
    pair: tuple[str, ...] = ()
    for a, b in itertools.combinations(m.columns, 2):
        d = (m[a] - m[b]).dropna()
        dz = abs(float(d.mean())) / float(d.std(ddof=1)) if d.std(ddof=1) > 0 else math.inf
        if dz > worst or not pair:
            worst, pair = dz, (a, b)
    return worst < 1.0, worst, pair


def analyse(tables: Tables) -> Verdict:
    """Premise first (:func:`premise`): when some pair of samplers differs by more than its seed spread, the
    samplers are not near-equivalent and the claim is untested (inconclusive).  Effect: per-seed disagreement
    1 − τ between one seed's ranking and the leave-one-out consensus; supported when the disagreement is a
    supported increase at SESOI, refuted when its interval lies below SESOI (single seeds reproduce the ranking).
    Reported: τ itself against pure noise (τ = 0, a one-sided t of τ > 0): a disagreement of SESOI or more is not
    noise unless 1 − τ reaches about 1; Friedman's test of any difference between samplers (blocks = seeds) and
    every sampler's paired difference to the uniform pool.
    """
    df = tables[EXPERIMENT]
    m = _matrix(df)
    tau = loo_kendall(df).dropna().to_numpy()
    disagreement, agreement = effect_of(1 - tau), effect_of(tau)
    noise_p = float(sps.ttest_1samp(tau, 0.0, alternative="greater").pvalue)
    holds, dz, pair = premise(m)
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
    premise_text = (
        f"premise: the largest paired difference between samplers (pools {pair[0]:g} and {pair[1]:g}) is "
        f"{dz:.2f} seed SDs, "
        + (
            "below 1: near-equivalent"
            if holds
            else "not below 1: the samplers are not near-equivalent, the claim is untested"
        )
    )
    summary = (
        f"{premise_text}; one seed's ranking of {m.shape[1]} samplers disagrees with the other {m.shape[0] - 1} seeds' "
        f"consensus by 1 − τ = {fmt_effect(disagreement)} ({LEVEL} CI), i.e. τ = {fmt_effect(agreement)}: "
        + ("more" if noise_p < ALPHA else "no more")
        + f" agreement than noise would give (noise: τ ≈ 0, 1 − τ ≈ 1; one-sided t of τ > 0: p = {noise_p:.2g}); Friedman χ² = {friedman.statistic:.2f}, p = {friedman.pvalue:.3g}; "
        f"paired difference to pool {ref:g}: "
        + ", ".join(
            f"{r.pool_size:g}: {r.minus_uniform:.3f} [{r.low:.3f}, {r.high:.3f}]"
            for r in table.itertuples()
            if r.pool_size != ref
        )
    )
    return Verdict(
        outcome=decide_increase(disagreement, SESOI) if holds else "inconclusive",
        summary=summary,
        effect=disagreement,
        sesoi=SESOI,
        seeds=int(m.shape[0]),
        power=power_change(SESOI, disagreement.sd, disagreement.n),
        numbers={"friedman_p": float(friedman.pvalue), "premise": holds, "largest_dz": dz, "noise_p": noise_p},
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
    claim="with near-equivalent samplers (paired differences below the seed spread), one seed's sampler ranking "
    "departs from the other seeds' consensus by 1 − Kendall τ ≥ 0.2",
    experiments=(EXPERIMENT,),
    sesoi=SESOI,
    alpha=ALPHA,
    seeds=SEEDS,
    test="premise: every pair of samplers differs by less than one seed SD; one-sided t (90% CI) on the per-seed "
    "1 − Kendall τ with the leave-one-out consensus; τ against noise (τ = 0) and Friedman reported",
    rule="untested (inconclusive) if the premise fails; supported if the disagreement is > 0 and not < SESOI; refuted "
    "if its interval lies below SESOI",
    analyse=analyse,
    draw=draw,
    caption=caption,
)
