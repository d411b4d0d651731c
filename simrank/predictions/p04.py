"""P4: hard (local) negatives change nDCG@10 under LCE but not under distillation (listwise KL)."""

from __future__ import annotations

from collections.abc import Mapping

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
    decide_change,
    decide_conditions,
    decide_equivalence,
    diff_in_diff,
    fmt_effect,
    paired_effect,
    power_equivalence,
)
from simrank.predictions.plots import LEVEL, design_note, did_panels

__all__ = ["EXPERIMENT", "PREDICTION", "RULE", "SEEDS", "SESOI", "analyse", "caption", "decide", "draw"]

EXPERIMENT = "p04-hard-negatives"
SESOI = 0.02  # nDCG@10 (absolute): LCE must change by more, KL by less (TOST margin), LCE − KL by more
SEEDS = 40  # paired TOST at the SESOI, pilot SD 0.042 of KL's per-seed difference (stats.n_tost_paired -> 40)
RULE = {"lce": decide_change, "kl": decide_equivalence, "did": decide_change}


def decide(effects: Mapping[object, Mapping[str, Effect]], sesoi: float = SESOI, k: int = 1) -> Decision:
    """P4's rule.  Per condition (a world; on real data a hard sampler), with Δ = nDCG@10(local negatives) −
    nDCG@10(uniform negatives): ``lce`` = Δ_LCE changes (``decide_change``), ``kl`` = Δ_KL is equivalent to 0
    within ±sesoi (``decide_equivalence``, the TOST) and ``did`` = Δ_LCE − Δ_KL changes; a condition is
    supported iff all three are, refuted iff any is refuted; conditions combine by ``across_conditions``.

    Args:
      effects: condition -> {"lce", "kl", "did"} -> :class:`Effect` (at the ``1 − 2α`` level).
      sesoi: SESOI and equivalence margin (nDCG@10).
      k: decided tests for the multiplicity policy (``base.familywise``): ``len(RULE) · len(effects)`` on
        synthetic t-intervals, 1 for intervals taken as given.
    """
    return decide_conditions(RULE, effects, sesoi, k)


def _cells(df: pd.DataFrame) -> tuple[dict, float, float]:
    """Per world (non-bilinear weight γ): per-seed nDCG@10 of each (loss, pool) arm."""
    hard, easy = df["pool_size"].min(), df["pool_size"].max()
    world = config_value(df, "world", "nonbilinear", 0.0)
    out = {}
    for w in sorted(world.unique()):
        at = world == w
        out[w] = {
            (loss, pool): by_seed(df, at & (df["loss"] == loss) & (df["pool_size"] == pool), "ndcg10")
            for loss in ("lce", "kl")
            for pool in (hard, easy)
        }
    return out, hard, easy


def _effects(cells: dict, hard, easy) -> dict:
    """Per world: the Effects P4's rule reads (:func:`decide`)."""
    return {
        w: {
            "lce": paired_effect(c[("lce", hard)], c[("lce", easy)]),
            "kl": paired_effect(c[("kl", hard)], c[("kl", easy)]),
            "did": diff_in_diff(c[("lce", hard)], c[("lce", easy)], c[("kl", hard)], c[("kl", easy)]),
        }
        for w, c in cells.items()
    }


def analyse(tables: Tables) -> Verdict:
    """Per world (the conditions), paired by seed: Δ_loss = nDCG@10(local pool) − nDCG@10(uniform) for LCE and
    KL, and the difference-in-differences Δ_LCE − Δ_KL, as 90% t-interval Effects, decided by :func:`decide`.
    """
    df = tables[EXPERIMENT]
    cells, hard, easy = _cells(df)
    effects = _effects(cells, hard, easy)
    decision = decide(effects, k=len(RULE) * len(effects))
    rows = []
    for w, e in effects.items():
        lce, kl, did, parts = e["lce"], e["kl"], e["did"], decision.parts[w]
        rows.append(
            {
                "nonbilinear": w,
                "lce_diff": lce.mean,
                "lce_low": lce.low,
                "lce_high": lce.high,
                "kl_diff": kl.mean,
                "kl_low": kl.low,
                "kl_high": kl.high,
                "did": did.mean,
                "did_low": did.low,
                "did_high": did.high,
                "lce": parts["lce"],
                "kl_equivalent": parts["kl"],
                "did_outcome": parts["did"],
                "kl_power": power_equivalence(SESOI, kl.sd, kl.n),
                "outcome": decision.conditions[w],
            }
        )
    table = pd.DataFrame(rows)
    worst = table.loc[table["kl_power"].idxmin()]
    kl_primary = effects[worst["nonbilinear"]]["kl"]
    summary = f"nDCG@10(pool {hard:g}) − nDCG@10(pool {easy:g}), paired by seed, {LEVEL} CIs: " + "; ".join(
        f"γ = {r.nonbilinear:g}: LCE {r.lce_diff:.3f} [{r.lce_low:.3f}, {r.lce_high:.3f}], KL {r.kl_diff:.3f} "
        f"[{r.kl_low:.3f}, {r.kl_high:.3f}] ({r.kl_equivalent} as equivalent within ±{SESOI}), LCE − KL {r.did:.3f} "
        f"[{r.did_low:.3f}, {r.did_high:.3f}] → {r.outcome}"
        for r in table.itertuples()
    )
    return Verdict(
        outcome=decision.outcome,
        summary=summary,
        effect=kl_primary,
        sesoi=SESOI,
        seeds=int(df["seed"].nunique()),
        power=float(worst["kl_power"]),
        numbers={"primary": f"KL equivalence at γ = {worst['nonbilinear']:g}: {fmt_effect(kl_primary)}"},
        table=table,
    )


def draw(tables: Tables) -> Figure:
    df = tables[EXPERIMENT]
    cells, hard, easy = _cells(df)
    effects = {f"non-bilinear weight γ = {w:g}": e for w, e in _effects(cells, hard, easy).items()}
    return did_panels(effects, SESOI, f"nDCG@10(pool {hard:g}) − nDCG@10(pool {easy:g})", equivalence=True, width=4)


def caption(tables: Tables) -> str:
    df = tables[EXPERIMENT]
    hard, easy = df["pool_size"].min(), df["pool_size"].max()
    return (
        f"P4. Per-seed paired change of true nDCG@10 when the negatives come from a local pool of {hard:g} instead of "
        f"uniformly from {easy:g} documents, for LCE, listwise KL distillation and their difference-in-differences, "
        f"per world (γ = weight of the non-bilinear relevance part); points: means, bars: {LEVEL} paired t-intervals "
        f"(the TOST/decision interval, α = {ALPHA}), grey: ±SESOI = ±{SESOI}; {design_note(df)}."
    )


PREDICTION = Prediction(
    key="P4",
    claim="local hard negatives change nDCG@10 under LCE but not under listwise KL distillation",
    experiments=(EXPERIMENT,),
    sesoi=SESOI,
    alpha=ALPHA,
    seeds=SEEDS,
    test="paired t (90% CI) per loss and for the difference-in-differences LCE − KL; TOST for KL",
    rule="per world: LCE changes, KL equivalent within ±SESOI, LCE − KL changes; worlds are conditions",
    analyse=analyse,
    draw=draw,
    caption=caption,
)
