"""P5: false negatives hurt LCE but not distillation; the false-negative filter helps LCE only."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from simrank.predictions.base import (
    ALPHA,
    Decision,
    Effect,
    Prediction,
    Tables,
    Verdict,
    by_seed,
    config_value,
    decide_conditions,
    decide_equivalence,
    decide_increase,
    deciding_test,
    diff_in_diff,
    fmt_effect,
    paired_effect,
    power_change,
    power_equivalence,
)
from simrank.predictions.plots import LEVEL, design_note, effect_panel

__all__ = ["ADDED", "EXPERIMENT", "PREDICTION", "RULE", "SEEDS", "SESOI", "analyse", "caption", "decide", "draw"]

EXPERIMENT = "p05-false-negatives"
SESOI = 0.02  # nDCG@10 (absolute)
SEEDS = 22  # max over the decided parts at 80% power, 5-seed pilot: LCE gain SD 0.0363 (stats.n_paired_t -> 22)
LOSSES = ("lce", "kl")
RULE = {
    "lce_harm": decide_increase,
    "lce_gain": decide_increase,
    "kl_harm": decide_equivalence,
    "kl_gain": decide_equivalence,
    "harm_did": decide_increase,
    "gain_did": decide_increase,
    "kl_fn_gain": decide_equivalence,
}
ADDED = "kl_fn_gain"  # the part added after the registration (D14); designs without it leave it out


def decide(effects: Mapping[str, Effect], sesoi: float = SESOI, k: int = 1) -> Decision:
    """P5's rule (one condition): with harm = nDCG@10(clean negatives) − nDCG@10(false negatives) and gain =
    nDCG@10(false negatives, filtered) − nDCG@10(false negatives), per loss, and their differences-in-differences
    LCE − KL: supported iff ``lce_harm``, ``lce_gain``, ``harm_did`` and ``gain_did`` are supported increases
    (``decide_increase``) and ``kl_harm``, ``kl_gain`` and ``kl_fn_gain`` are equivalent to 0 within ±sesoi;
    refuted iff any part is refuted (a conjunction, ``all_of``).  ``kl_fn_gain`` = KL's filter gain on the dirty
    pool − its filter gain on the clean local pool: the part of the filter's gain that is about false negatives.

    Args:
      effects: the parts of :data:`RULE` -> :class:`Effect` (an unmeasured part: ``UNTESTED``); ``kl_fn_gain``,
        added after the registration (deviation D14), may be left out by a design without the clean pool with
        the filter (the real-data report), and is then not decided.
      sesoi: SESOI and equivalence margin (nDCG@10).
      k: decided tests for the multiplicity policy (``base.familywise``): ``len(RULE)`` on synthetic t-intervals,
        1 for intervals taken as given.

    Returns:
      :class:`Decision` with the single condition ``"all"``.
    """
    rule = {p: f for p, f in RULE.items() if p != ADDED or p in effects}
    return decide_conditions(rule, {"all": effects}, sesoi, k)


def _arms(df: pd.DataFrame) -> dict:
    """Per loss, per-seed nDCG@10 of the arms: ``uniform`` (η = 1), ``dirty`` (η = 0.5 of the true top 10),
    ``clean`` (η = 0.5 of true ranks offset+1 … offset+10: as local, no false negatives), ``filtered`` (dirty +
    filter), ``clean_filtered`` (clean + filter)."""
    offset = config_value(df, "sampler", "offset", 0)
    mixed, filtered = df["eta"] < 1, df["sampler"].str.endswith("+filter")
    arms = {
        "uniform": ~mixed & (offset == 0) & ~filtered,
        "dirty": mixed & (offset == 0) & ~filtered,
        "clean": mixed & (offset > 0) & ~filtered,
        "filtered": mixed & (offset == 0) & filtered,
        "clean_filtered": mixed & (offset > 0) & filtered,
    }
    return {loss: {arm: by_seed(df, (df["loss"] == loss) & m, "ndcg10") for arm, m in arms.items()} for loss in LOSSES}


def _effects(df: pd.DataFrame) -> dict:
    """Paired by seed, per loss and LCE − KL: ``harm`` = clean local − dirty (primary), ``gain`` = filtered − dirty,
    ``harm_uniform`` = uniform − dirty (secondary: confounds locality with false negatives, not decided); per loss,
    ``fn_gain`` = (filtered − dirty) − (clean_filtered − clean), the filter's gain beyond what it gives the clean
    pool (decided for KL)."""
    a = _arms(df)
    contrasts = {"harm": ("clean", "dirty"), "gain": ("filtered", "dirty"), "harm_uniform": ("uniform", "dirty")}
    e = {}
    for what, (arm, base) in contrasts.items():
        for loss in LOSSES:
            e[f"{loss}_{what}"] = paired_effect(a[loss][arm], a[loss][base])
        e[f"{what}_did"] = diff_in_diff(a["lce"][arm], a["lce"][base], a["kl"][arm], a["kl"][base])
    for loss in LOSSES:
        x = a[loss]
        e[f"{loss}_fn_gain"] = diff_in_diff(x["filtered"], x["dirty"], x["clean_filtered"], x["clean"])
    return e


def analyse(tables: Tables) -> Verdict:
    """Paired by seed, with the pool (1 − η)·local + η·uniform at η = 0.5: harm = nDCG(clean local: true ranks
    11-20) − nDCG(dirty: true top 10), gain = nDCG(dirty, filter) − nDCG(dirty), per loss, and their
    differences-in-differences LCE − KL.  supported iff LCE harm and gain are supported increases, KL harm and gain
    are equivalent to 0 within ±SESOI and both LCE − KL contrasts are supported increases; refuted iff any of these is
    refuted (a conjunction; :func:`decide` on 90% t-interval Effects, refutations on Bonferroni intervals over the
    decided parts, ``base.familywise``).  The false-negative-specific KL gain (``kl_fn_gain``: the filter's gain on
    the dirty pool minus its gain on the clean pool) is a decided part too.  The harm against the uniform pool and
    LCE's false-negative-specific gain are reported, not decided.  The primary effect is the part the verdict rests
    on (``base.deciding_test``), with its power at the SESOI (TOST for KL's, one-sided t for the others).
    """
    df = tables[EXPERIMENT]
    e = _effects(df)
    decision = decide(e, k=len(RULE))
    decisions = decision.parts["all"]
    table = pd.DataFrame(
        [
            {"effect": k, "mean": v.mean, "low": v.low, "high": v.high, "outcome": decisions.get(k, "reported")}
            for k, v in e.items()
        ]
    )
    power = {k: (power_equivalence if k.startswith("kl_") else power_change)(SESOI, e[k].sd, e[k].n) for k in decisions}
    primary = deciding_test(decision.outcome, [(k, decisions[k], power[k]) for k in RULE])
    summary = (
        f"false-negative share 0 → {1 - df['eta'].min():.0%}, paired by seed ({LEVEL} CIs; refutations on "
        f"Bonferroni intervals over the {len(RULE)} decided parts): "
        + "; ".join(f"{k.replace('_', ' ')} {fmt_effect(v)} ({decisions.get(k, 'reported')})" for k, v in e.items())
        + f"; the verdict rests on {primary.replace('_', ' ')}"
    )
    return Verdict(
        outcome=decision.outcome,
        summary=summary,
        effect=e[primary],
        sesoi=SESOI,
        seeds=int(df["seed"].nunique()),
        power=power[primary],
        numbers={"primary": f"{primary}: {fmt_effect(e[primary])}"},
        table=table,
    )


def draw(tables: Tables) -> Figure:
    e = _effects(tables[EXPERIMENT])
    panels = (
        ("harm", "harm of false negatives\n(vs clean local pool: decided)"),
        ("harm_uniform", "harm vs uniform pool\n(locality + false negatives: reported)"),
        ("gain", "gain of the filter\n(decided)"),
    )
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.4), sharey=True)
    for ax, (what, title) in zip(axes, panels):
        effects = [("LCE", e[f"lce_{what}"]), ("KL", e[f"kl_{what}"]), ("LCE − KL", e[f"{what}_did"])]
        effect_panel(ax, effects, SESOI, "nDCG@10 difference" if ax is axes[0] else "", equivalence=True)
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def caption(tables: Tables) -> str:
    df = tables[EXPERIMENT]
    eta = df["eta"].min()
    pool = df["pool_size"].min()
    offset = int(config_value(df, "sampler", "offset", 0).max())
    return (
        f"P5. Every pool but the uniform one is {1 - eta:.0%} local + {eta:.0%} uniform negatives. Left: loss of true "
        f"nDCG@10 when the local part is the {pool:g} truly most relevant documents (false negatives, 'dirty') instead "
        f"of true ranks {offset + 1}-{offset + pool:g} (as local, no false negatives, 'clean'): the decided harm; "
        f"middle: dirty against the uniform pool (locality and false negatives together; reported); right: what the "
        f"false-negative filter gives back on the dirty pool; per loss and LCE − KL (difference-in-differences), "
        f"paired by seed; bars: {LEVEL} t-intervals (the decision interval), grey: ±SESOI = ±{SESOI}; "
        f"{design_note(df)}."
    )


PREDICTION = Prediction(
    key="P5",
    claim="false negatives hurt LCE but not listwise KL distillation, and filtering them helps LCE only",
    experiments=(EXPERIMENT,),
    sesoi=SESOI,
    alpha=ALPHA,
    seeds=SEEDS,
    test="paired t (90% CI) of harm (clean local − dirty pool) and filter gain per loss and LCE − KL, and of KL's "
    "filter gain on the dirty minus the clean pool; TOST for KL; refutation on Bonferroni intervals over the 7 parts",
    rule="supported: LCE harm, gain and both LCE − KL > 0 (not < SESOI), KL's harm, gain and false-negative-specific "
    "gain equivalent to 0; refuted: any part refuted",
    analyse=analyse,
    draw=draw,
    caption=caption,
)
