"""P10: per query, KL(teacher ‖ student) correlates negatively with nDCG@10 for students trained to match the teacher."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from simrank.figures import PALETTE
from simrank.losses import LOSS_SPECS
from simrank.predictions.base import (
    ALPHA,
    Decision,
    Effect,
    Prediction,
    Tables,
    Verdict,
    change_verdict,
    decide_conditions,
    decide_increase,
    deciding_test,
    effect_of,
    power_change,
)
from simrank.predictions.plots import LEVEL, design_note, legend

__all__ = [
    "EXPERIMENT",
    "PREDICTION",
    "RULE",
    "SEEDS",
    "SESOI",
    "analyse",
    "caption",
    "decide",
    "distillation_losses",
    "draw",
    "per_seed_rho",
]

EXPERIMENT = "p10-kl-ndcg"
SESOI = 0.1  # Spearman ρ: a per-query correlation weaker than −0.1 is no relation
SEEDS = 10  # one-sided t on the per-seed mean −ρ at the SESOI, pilot's largest SD 0.117 (stats.n_paired_t -> 10)
RULE = {"neg_rho": decide_increase}


def decide(effects: Mapping[str, Mapping[str, Effect]], sesoi: float = SESOI, k: int = 1) -> Decision:
    """P10's rule.  Per distillation loss (the conditions), ``neg_rho`` = −ρ, ρ the per-query Spearman
    correlation of KL(teacher ‖ student) with nDCG@10: supported when −ρ is a supported increase at sesoi
    (``decide_increase``: ρ < 0 and not > −sesoi), refuted when ρ > −sesoi; losses combine by ``across_conditions``.

    Args:
      effects: loss -> {"neg_rho": :class:`Effect` of −ρ}.
      sesoi: SESOI of |ρ|.
      k: decided tests for the multiplicity policy (``base.familywise``): the number of losses on synthetic
        t-intervals, 1 for intervals taken as given.
    """
    return decide_conditions(RULE, effects, sesoi, k)


def distillation_losses(losses: Iterable[str]) -> list[str]:
    """The losses the prediction is about: those that read the teacher's scores (``LOSS_SPECS[..].needs_teacher``)."""
    return sorted(loss for loss in set(losses) if LOSS_SPECS[loss].needs_teacher)


def per_seed_rho(models: pd.DataFrame, column: str = "kl_ndcg_corr") -> pd.Series:
    """Per seed: mean over ``models`` (the rows of one loss: its samplers, ...) of each model's per-query Spearman
    ρ(KL, nDCG@10) in ``column`` (NaN models left out).  Returns a Series indexed by seed."""
    part = models.dropna(subset=[column])
    return part.groupby("seed")[column].mean()


def analyse(tables: Tables) -> Verdict:
    """Per distillation loss (the conditions; LCE, which never sees the teacher, is reported only): the per-seed
    mean of each model's per-query Spearman ρ(KL, nDCG@10) (:func:`per_seed_rho`), −ρ as a 90% t-interval
    Effect, decided by :func:`decide`.  Secondary (reported): Spearman ρ across models of (kl_corpus, ndcg10).
    """
    df = tables[EXPERIMENT]
    rho = {loss: per_seed_rho(df[df["loss"] == loss]).to_numpy() for loss in sorted(df["loss"].unique())}
    effects = {loss: {"neg_rho": effect_of(-rho[loss])} for loss in distillation_losses(df["loss"])}
    decision = decide(effects, k=len(RULE) * len(effects))
    rows = []
    for loss, r in rho.items():
        e = effect_of(r)
        rows.append(
            {
                "loss": loss,
                "per_query_rho": e.mean,
                "low": e.low,
                "high": e.high,
                "seeds": e.n,
                "nan_models": int(df[df["loss"] == loss]["kl_ndcg_corr"].isna().sum()),
                "outcome": decision.conditions.get(loss, "not decided"),
            }
        )
    table = pd.DataFrame(rows)
    tests = [
        (loss, decision.conditions[loss], power_change(SESOI, e["neg_rho"].sd, e["neg_rho"].n))
        for loss, e in effects.items()
    ]
    primary = effects[deciding_test(decision.outcome, tests)]["neg_rho"] if tests else effect_of([])
    summary = (
        f"per-seed mean per-query Spearman ρ(KL, nDCG@10) ({LEVEL} CIs, SESOI ρ ≤ −{SESOI}; refutations on "
        f"Bonferroni intervals over the {len(effects)} decided losses): "
        + "; ".join(
            f"{r.loss} {r.per_query_rho:.3f} [{r.low:.3f}, {r.high:.3f}] → {r.outcome}" for r in table.itertuples()
        )
    )
    return change_verdict(decision.outcome, summary, primary, SESOI, df, table)


def draw(tables: Tables) -> Figure:
    df = tables[EXPERIMENT]
    losses = sorted(df["loss"].unique())
    colours = dict(zip(losses, sns.color_palette(PALETTE)))
    markers = dict(zip(losses, "osD^v"))
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    jitter = np.random.default_rng(0)
    for i, loss in enumerate(losses):
        rho = per_seed_rho(df[df["loss"] == loss])
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


def caption(tables: Tables) -> str:
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
