"""P9: training only on extreme-entropy queries hurts quality most under a domain shift."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from simrank.predictions.base import (
    ALPHA,
    Prediction,
    Tables,
    Verdict,
    all_of,
    by_seed,
    change_verdict,
    config_value,
    decide_increase,
    diff_in_diff,
    familywise,
    fmt_effect,
    paired_effect,
)
from simrank.predictions.plots import LEVEL, design_note, effect_panel

__all__ = ["EXPERIMENT", "PREDICTION", "SEEDS", "SESOI", "analyse", "caption", "draw"]

EXPERIMENT = "p09-extreme-entropy"
SESOI = 0.02  # nDCG@10 (absolute)
SEEDS = 41  # one-sided paired t at the SESOI, pilot SD 0.051 of the difference-in-differences (stats.n_paired_t -> 41)
SELECTIONS = ("low_entropy", "high_entropy", "extreme_entropy")


def _series(df: pd.DataFrame) -> tuple[dict, list]:
    sel = config_value(df, "data", "train_queries", "all")
    shifts = sorted(df["test_shift"].unique())
    s = {
        (choice, shift): by_seed(df, (df["test_shift"] == shift) & (sel == choice), "ndcg10")
        for choice in ("all", *SELECTIONS)
        for shift in shifts
    }
    return s, shifts


def analyse(tables: Tables) -> Verdict:
    """harm(selection, shift) = nDCG(all queries) − nDCG(selection), paired by seed.  supported iff the
    extreme-entropy harm under the largest shift and its increase over no shift (difference-in-differences)
    are both supported increases at SESOI; refuted iff either is refuted.  Other selections are reported.
    """
    df = tables[EXPERIMENT]
    s, shifts = _series(df)
    lo, hi = shifts[0], shifts[-1]
    rows = []
    for choice in SELECTIONS:
        for shift in shifts:
            h = paired_effect(s[("all", shift)], s[(choice, shift)])
            rows.append({"selection": choice, "test_shift": shift, "harm": h.mean, "low": h.low, "high": h.high})
    table = pd.DataFrame(rows)
    harm = paired_effect(s[("all", hi)], s[("extreme_entropy", hi)])
    more = diff_in_diff(s[("all", hi)], s[("extreme_entropy", hi)], s[("all", lo)], s[("extreme_entropy", lo)])
    decide = familywise(decide_increase, 2)  # the multiplicity policy over the two decided parts (base)
    outcome = all_of([decide(harm, SESOI), decide(more, SESOI)])
    summary = (
        f"training only on extreme-entropy queries costs {fmt_effect(harm)} nDCG@10 under a shift of {hi:g} and "
        f"{fmt_effect(more)} more than without shift ({LEVEL} CIs, paired by seed)"
    )
    return change_verdict(outcome, summary, more, SESOI, df, table, harm=fmt_effect(harm))


def draw(tables: Tables) -> Figure:
    s, shifts = _series(tables[EXPERIMENT])
    fig, ax = plt.subplots(figsize=(6, 3.2))
    effects = [
        (f"{c.split('_')[0]}\nshift {sh:g}", paired_effect(s[("all", sh)], s[(c, sh)]))
        for c in SELECTIONS
        for sh in shifts
    ]
    effect_panel(ax, effects, SESOI, "nDCG@10(all) − nDCG@10(selection)")
    return fig


def caption(tables: Tables) -> str:
    df = tables[EXPERIMENT]
    return (
        f"P9. Cost in true nDCG@10 of training only on the lowest-, highest- or both-tail (extreme) entropy teacher "
        f"queries instead of all (same number of queries), per test-query domain shift, paired by seed; bars: "
        f"{LEVEL} t-intervals (the decision interval), grey: [0, SESOI = {SESOI}); {design_note(df)}."
    )


PREDICTION = Prediction(
    key="P9",
    claim="training only on extreme-entropy queries hurts shifted-domain quality most",
    experiments=(EXPERIMENT,),
    sesoi=SESOI,
    alpha=ALPHA,
    seeds=SEEDS,
    test="one-sided paired t (90% CI) of the extreme-entropy harm under shift and of its increase over no shift",
    rule="supported: both ≥ 0 and not < SESOI; refuted: either interval below SESOI",
    analyse=analyse,
    draw=draw,
    caption=caption,
)
