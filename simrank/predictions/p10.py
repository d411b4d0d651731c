"""P10: per query, KL(teacher ‖ student) correlates negatively with nDCG@10 for students trained to match the teacher."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from simrank.figures import PALETTE
from simrank.losses import LOSS_SPECS
from simrank.predictions.base import (
    ALPHA,
    Prediction,
    Verdict,
    across_conditions,
    change_verdict,
    decide_increase,
    effect_of,
    power_change,
)
from simrank.predictions.plots import LEVEL, design_note, legend

__all__ = ["EXPERIMENT", "PREDICTION", "SEEDS", "SESOI", "analyse", "caption", "distillation_losses", "draw"]

EXPERIMENT = "p10-kl-ndcg"
SESOI = 0.1  # Spearman ρ: a per-query correlation weaker than −0.1 is no relation
SEEDS = 10  # one-sided t on the per-seed mean −ρ at the SESOI, pilot's largest SD 0.117 (stats.n_paired_t -> 10)


def distillation_losses(losses) -> list[str]:
    """The losses the prediction is about: those that read the teacher's scores (``LOSS_SPECS[..].needs_teacher``)."""
    return sorted(loss for loss in set(losses) if LOSS_SPECS[loss].needs_teacher)


def _per_seed(df: pd.DataFrame, loss: str) -> pd.Series:
    """Per seed: mean over the loss's models (samplers) of the per-query Spearman ρ (NaN models left out)."""
    part = df[(df["loss"] == loss)].dropna(subset=["kl_ndcg_corr"])
    return part.groupby("seed")["kl_ndcg_corr"].mean()


def analyse(tables) -> Verdict:
    """Per distillation loss (the conditions; LCE, which never sees the teacher, is reported only): the per-seed
    mean of each model's per-query Spearman ρ(KL, nDCG@10); −ρ is a predicted increase (``decide_increase`` at
    SESOI).  Secondary (reported): Spearman ρ across models of (kl_corpus, ndcg10).
    """
    df = tables[EXPERIMENT]
    rows, outcomes, effects = [], [], {}
    for loss in sorted(df["loss"].unique()):
        rho = _per_seed(df, loss)
        e = effect_of(rho.to_numpy())
        neg = effect_of(-rho.to_numpy())
        about = loss in distillation_losses(df["loss"])
        outcome = decide_increase(neg, SESOI) if about else "not decided"
        if about:
            outcomes.append(outcome)
            effects[loss] = neg
        rows.append(
            {
                "loss": loss,
                "per_query_rho": e.mean,
                "low": e.low,
                "high": e.high,
                "seeds": e.n,
                "nan_models": int(df[df["loss"] == loss]["kl_ndcg_corr"].isna().sum()),
                "outcome": outcome,
            }
        )
    table = pd.DataFrame(rows)
    weakest = min(effects.values(), key=lambda x: power_change(SESOI, x.sd, x.n)) if effects else effect_of([])
    summary = f"per-seed mean per-query Spearman ρ(KL, nDCG@10) ({LEVEL} CIs, SESOI ρ ≤ −{SESOI}): " + "; ".join(
        f"{r.loss} {r.per_query_rho:.3f} [{r.low:.3f}, {r.high:.3f}] → {r.outcome}" for r in table.itertuples()
    )
    return change_verdict(across_conditions(outcomes), summary, weakest, SESOI, df, table)


def draw(tables):
    df = tables[EXPERIMENT]
    losses = sorted(df["loss"].unique())
    colours = dict(zip(losses, sns.color_palette(PALETTE)))
    markers = dict(zip(losses, "osD^v"))
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    jitter = np.random.default_rng(0)
    for i, loss in enumerate(losses):
        rho = _per_seed(df, loss)
        axes[0].scatter(i + jitter.uniform(-0.15, 0.15, len(rho)), rho, s=10, alpha=0.6, color=colours[loss])
        e = effect_of(rho.to_numpy())
        axes[0].errorbar(
            i + 0.3, e.mean, yerr=[[e.mean - e.low], [e.high - e.mean]], fmt="o", color="black", ms=4, capsize=3
        )
    axes[0].axhspan(-SESOI, 0, color="grey", alpha=0.2, lw=0)
    axes[0].axhline(0, color="grey", lw=0.8, ls="--")
    axes[0].set_xticks(range(len(losses)), losses)
    axes[0].set_ylabel("Spearman ρ across queries\n(per-query KL vs nDCG@10)")
    axes[0].set_title(f"one dot per seed (mean over samplers); black: mean, {LEVEL} CI", fontsize=8)
    for loss in losses:
        part = df[df["loss"] == loss]
        axes[1].scatter(part["kl_corpus"], part["ndcg10"], s=12, color=colours[loss], marker=markers[loss], label=loss)
    axes[1].set_xscale("log")
    axes[1].set_xlabel("mean KL(teacher ‖ student) over the corpus (nats, log)")
    axes[1].set_ylabel("true nDCG@10")
    axes[1].set_title("across models (secondary)", fontsize=8)
    legend(axes[1], "loss")
    for ax in axes:
        ax.grid(alpha=0.3)
    return fig


def caption(tables) -> str:
    df = tables[EXPERIMENT]
    return (
        f"P10. Left: per seed, the mean over samplers ({', '.join(f'{p:g}' for p in sorted(df['pool_size'].unique()))}) "
        f"of each model's Spearman ρ across evaluation queries between per-query KL(teacher ‖ student) and per-query "
        f"true nDCG@10; black: mean with its {LEVEL} t-interval; grey: (−SESOI, 0]; the verdict is on the losses that "
        f"read the teacher ({', '.join(distillation_losses(df['loss']))}), LCE is shown for reference. Right: mean "
        f"nDCG@10 against mean corpus KL, one dot per model; {design_note(df)}."
    )


PREDICTION = Prediction(
    key="P10",
    claim="per query, KL(teacher ‖ student) correlates negatively with nDCG@10 under distillation losses",
    experiments=(EXPERIMENT,),
    sesoi=SESOI,
    alpha=ALPHA,
    seeds=SEEDS,
    test="one-sided t (90% CI) on the per-seed mean per-query Spearman ρ, per distillation loss",
    rule="per distillation loss: supported if ρ < 0 and not > −SESOI, refuted if ρ > −SESOI; losses are conditions",
    analyse=analyse,
    draw=draw,
    caption=caption,
)
