"""P5: false negatives hurt LCE but not distillation; the false-negative filter helps LCE only."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import pandas as pd

from simrank.predictions.base import (
    ALPHA,
    Decision,
    Effect,
    Prediction,
    Verdict,
    by_seed,
    decide_conditions,
    decide_equivalence,
    decide_increase,
    diff_in_diff,
    fmt_effect,
    paired_effect,
    power_equivalence,
)
from simrank.predictions.plots import LEVEL, design_note, effect_panel

__all__ = ["EXPERIMENT", "PREDICTION", "RULE", "SEEDS", "SESOI", "analyse", "caption", "decide", "draw"]

EXPERIMENT = "p05-false-negatives"
SESOI = 0.02  # nDCG@10 (absolute)
SEEDS = 20  # paired TOST at 0 for KL's harm, pilot SD 0.029 of the per-seed difference (stats.n_tost_paired -> 20)
RULE = {
    "lce_harm": decide_increase,
    "lce_gain": decide_increase,
    "kl_harm": decide_equivalence,
    "kl_gain": decide_equivalence,
    "harm_did": decide_increase,
    "gain_did": decide_increase,
}


def decide(effects: Mapping[str, Effect], sesoi: float = SESOI) -> Decision:
    """P5's rule (one condition): with harm = nDCG@10(clean negatives) − nDCG@10(false negatives) and gain =
    nDCG@10(false negatives, filtered) − nDCG@10(false negatives), per loss, and their differences-in-differences
    LCE − KL: supported iff ``lce_harm``, ``lce_gain``, ``harm_did`` and ``gain_did`` are supported increases
    (``decide_increase``) and ``kl_harm``, ``kl_gain`` are equivalent to 0 within ±sesoi; refuted iff any part
    is refuted (a conjunction, ``all_of``).

    Args:
      effects: the six parts of :data:`RULE` -> :class:`Effect` (an unmeasured part: ``UNTESTED``).
      sesoi: SESOI and equivalence margin (nDCG@10).

    Returns:
      :class:`Decision` with the single condition ``"all"``.
    """
    return decide_conditions(RULE, {"all": effects}, sesoi)


def _arms(df: pd.DataFrame) -> dict:
    rho = 1 - df["eta"]
    clean, dirty = rho == rho.min(), rho == rho.max()
    filtered = df["sampler"].str.endswith("+filter")
    out = {}
    for loss in ("lce", "kl"):
        m = df["loss"] == loss
        out[loss] = {
            "clean": by_seed(df, m & clean & ~filtered, "ndcg10"),
            "dirty": by_seed(df, m & dirty & ~filtered, "ndcg10"),
            "filtered": by_seed(df, m & dirty & filtered, "ndcg10"),
        }
    return out


def _effects(df: pd.DataFrame) -> dict:
    a = _arms(df)
    e = {}
    for loss in ("lce", "kl"):
        e[f"{loss}_harm"] = paired_effect(a[loss]["clean"], a[loss]["dirty"])
        e[f"{loss}_gain"] = paired_effect(a[loss]["filtered"], a[loss]["dirty"])
    e["harm_did"] = diff_in_diff(a["lce"]["clean"], a["lce"]["dirty"], a["kl"]["clean"], a["kl"]["dirty"])
    e["gain_did"] = diff_in_diff(a["lce"]["filtered"], a["lce"]["dirty"], a["kl"]["filtered"], a["kl"]["dirty"])
    return e


def analyse(tables) -> Verdict:
    """Paired by seed, ρ = false-negative share: harm = nDCG(ρ_min) − nDCG(ρ_max), gain = nDCG(ρ_max, filter)
    − nDCG(ρ_max), per loss, and their differences-in-differences LCE − KL, as 90% t-interval Effects, decided
    by :func:`decide`.
    """
    df = tables[EXPERIMENT]
    e = _effects(df)
    decision = decide(e)
    decisions = decision.parts["all"]
    table = pd.DataFrame(
        [{"effect": k, "mean": v.mean, "low": v.low, "high": v.high, "outcome": decisions[k]} for k, v in e.items()]
    )
    kl = min(("kl_harm", "kl_gain"), key=lambda k: power_equivalence(SESOI, e[k].sd, e[k].n))
    rho = 1 - df["eta"]
    summary = f"false-negative share {rho.min():.0%} → {rho.max():.0%}, paired by seed ({LEVEL} CIs): " + "; ".join(
        f"{k.replace('_', ' ')} {fmt_effect(v)} ({decisions[k]})" for k, v in e.items()
    )
    return Verdict(
        outcome=decision.outcome,
        summary=summary,
        effect=e[kl],
        sesoi=SESOI,
        seeds=int(df["seed"].nunique()),
        power=power_equivalence(SESOI, e[kl].sd, e[kl].n),
        numbers={"primary": f"{kl}: {fmt_effect(e[kl])}"},
        table=table,
    )


def draw(tables):
    e = _effects(tables[EXPERIMENT])
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2), sharey=True)
    for ax, what, title in ((axes[0], "harm", "harm of false negatives"), (axes[1], "gain", "gain of the filter")):
        effects = [("LCE", e[f"lce_{what}"]), ("KL", e[f"kl_{what}"]), ("LCE − KL", e[f"{what}_did"])]
        effect_panel(ax, effects, SESOI, "nDCG@10 difference", equivalence=True)
        ax.set_title(title, fontsize=9)
    return fig


def caption(tables) -> str:
    df = tables[EXPERIMENT]
    rho = 1 - df["eta"]
    pool = df["pool_size"].min()
    return (
        f"P5. Left: loss of true nDCG@10 when {rho.max():.0%} of the negatives come from the {pool:g} truly most relevant "
        f"documents (false negatives) instead of {rho.min():.0%}; right: what the false-negative filter gives back; per "
        f"loss and LCE − KL (difference-in-differences), paired by seed; bars: {LEVEL} t-intervals (the decision "
        f"interval), grey: ±SESOI = ±{SESOI}; {design_note(df)}."
    )


PREDICTION = Prediction(
    key="P5",
    claim="false negatives hurt LCE but not listwise KL distillation, and filtering them helps LCE only",
    experiments=(EXPERIMENT,),
    sesoi=SESOI,
    alpha=ALPHA,
    seeds=SEEDS,
    test="paired t (90% CI) of harm and filter gain per loss and LCE − KL; TOST for KL",
    rule="supported: LCE harm, gain and both LCE − KL > 0 (not < SESOI), KL's equivalent to 0; refuted: any part refuted",
    analyse=analyse,
    draw=draw,
    caption=caption,
)
