"""P11: with local negatives, group size matters more under LCE than under distillation."""

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
    change_verdict,
    decide_change,
    decide_conditions,
    decide_increase,
    deciding_test,
    diff_in_diff,
    fmt_effect,
    paired_effect,
    power_change,
)
from simrank.predictions.plots import LEVEL, design_note, did_panels

__all__ = ["EXPERIMENT", "PREDICTION", "RULE", "SEEDS", "SESOI", "analyse", "caption", "decide", "draw"]

EXPERIMENT = "p11-group-size"
SESOI = 0.02  # nDCG@10 (absolute)
SEEDS = 14  # one-sided paired t at the SESOI on LCE − KL, pilot SD 0.028 at pool 100 (stats.n_paired_t -> 14)
RULE = {"lce": decide_change, "did": decide_increase}


def decide(effects: Mapping[object, Mapping[str, Effect]], sesoi: float = SESOI, k: int = 1) -> Decision:
    """P11's rule.  Per local pool (the conditions; on real data a local sampler), with the group-size effect
    e = nDCG@10(k_max) − nDCG@10(k_min): ``lce`` = e_LCE changes (``decide_change``) and ``did`` = e_LCE − e_KL
    is a supported increase at sesoi (``decide_increase``); a pool is supported iff both are, refuted iff either
    is refuted; pools combine by ``across_conditions``.  The uniform pool is reported, never passed here.

    Args:
      effects: local pool -> {"lce", "did"} -> :class:`Effect` (other names, e.g. ``"kl"``, are ignored).
      sesoi: SESOI (nDCG@10).
      k: decided tests for the multiplicity policy (``base.familywise``): ``len(RULE) · len(effects)`` on
        synthetic t-intervals, 1 for intervals taken as given.
    """
    return decide_conditions(RULE, effects, sesoi, k)


def _effects(df: pd.DataFrame) -> dict:
    k_lo, k_hi = df["group_size"].min(), df["group_size"].max()
    out = {}
    for pool in sorted(df["pool_size"].unique()):
        s = {
            (loss, k): by_seed(df, (df["loss"] == loss) & (df["pool_size"] == pool) & (df["group_size"] == k), "ndcg10")
            for loss in ("lce", "kl")
            for k in (k_lo, k_hi)
        }
        out[pool] = {
            "lce": paired_effect(s[("lce", k_hi)], s[("lce", k_lo)]),
            "kl": paired_effect(s[("kl", k_hi)], s[("kl", k_lo)]),
            "did": diff_in_diff(s[("lce", k_hi)], s[("lce", k_lo)], s[("kl", k_hi)], s[("kl", k_lo)]),
        }
    return out


def analyse(tables: Tables) -> Verdict:
    """Group-size effect e = nDCG(k_max) − nDCG(k_min) per seed, per (loss, pool), and e_LCE − e_KL, as 90%
    t-interval Effects.  The largest pool of the design is the uniform one (the whole corpus): its effects are
    reported beside them (not decided); every smaller pool is a local condition of :func:`decide`.
    """
    df = tables[EXPERIMENT]
    e = _effects(df)
    uniform = df["pool_size"].max()
    local = {pool: x for pool, x in e.items() if pool < uniform}
    decision = decide(local, k=len(RULE) * len(local))
    rows = []
    for pool, x in e.items():
        rows.append(
            {
                "pool_size": pool,
                **{f"{k}_effect": v.mean for k, v in x.items()},
                **{f"{k}_low": v.low for k, v in x.items()},
                **{f"{k}_high": v.high for k, v in x.items()},
                "outcome": decision.conditions.get(pool, "not decided"),
            }
        )
    table = pd.DataFrame(rows)
    tests = [
        ((pool, part), decision.parts[pool][part], power_change(SESOI, local[pool][part].sd, local[pool][part].n))
        for pool in local
        for part in RULE
    ]
    pool, part = deciding_test(decision.outcome, tests)
    k_lo, k_hi = df["group_size"].min(), df["group_size"].max()
    summary = (
        f"nDCG@10(k = {k_hi}) − nDCG@10(k = {k_lo}), paired by seed ({LEVEL} CIs; refutations on Bonferroni intervals over the {len(tests)} decided tests): "
        + "; ".join(
            f"pool {pool:g}: LCE {fmt_effect(x['lce'])}, KL {fmt_effect(x['kl'])}, LCE − KL {fmt_effect(x['did'])}"
            f" → {table.set_index('pool_size').loc[pool, 'outcome']}"
            for pool, x in e.items()
        )
        + f"; the verdict rests on pool {pool:g}'s {'LCE effect' if part == 'lce' else 'LCE − KL'}"
    )
    return change_verdict(decision.outcome, summary, local[pool][part], SESOI, df, table)


def draw(tables: Tables) -> Figure:
    e = _effects(tables[EXPERIMENT])
    titles = {pool: f"pool {pool:g}" + (" (uniform)" if pool == max(e) else " (local)") for pool in e}
    return did_panels({titles[p]: x for p, x in e.items()}, SESOI, "nDCG@10(k_max) − nDCG@10(k_min)", width=3.3)


def caption(tables: Tables) -> str:
    df = tables[EXPERIMENT]
    k_lo, k_hi = df["group_size"].min(), df["group_size"].max()
    return (
        f"P11. Change of true nDCG@10 from group size k = {k_lo} to k = {k_hi}, per loss and their "
        f"difference-in-differences LCE − KL, per negative pool (uniform = {df['pool_size'].max():g}, smaller = local), "
        f"paired by seed; "
        f"bars: {LEVEL} t-intervals (the decision interval), grey: [0, SESOI = {SESOI}); {design_note(df)}."
    )


PREDICTION = Prediction(
    key="P11",
    claim="with local negatives, group size changes nDCG@10 more under LCE than under listwise KL",
    experiments=(EXPERIMENT,),
    sesoi=SESOI,
    alpha=ALPHA,
    seeds=SEEDS,
    test="paired t (90% CI) of LCE's group-size effect and one-sided of the difference-in-differences LCE − KL",
    rule="per local pool: LCE changes and LCE − KL ≥ 0, not < SESOI; refuted if either is refuted; pools are conditions",
    analyse=analyse,
    draw=draw,
    caption=caption,
)
