"""P2: trained risk floors at the teacher entropy H(g): never below it, and the excess above it shrinks with data."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from simrank.figures import line_panel
from simrank.losses import LOSS_SPECS, floor_of
from simrank.predictions.base import (
    ALPHA,
    Prediction,
    Tables,
    Verdict,
    across_conditions,
    all_of,
    by_seed,
    change_verdict,
    config_value,
    decide_increase,
    effect_of,
    familywise,
    fmt_effect,
    power_change,
)
from simrank.predictions.plots import design_note, legend

__all__ = ["AT_FLOOR", "EXPERIMENT", "FLOOR_TOL", "PREDICTION", "SEEDS", "SESOI", "analyse", "caption", "draw"]

EXPERIMENT = "p02-entropy-floor"
SESOI = 0.2  # relative: the excess must fall by at least 20% of its value (from n_min to n_max; full vs restricted)
SEEDS = 6  # one-sided paired t at the SESOI with the pilot's largest per-seed SD of the relative drop
FLOOR_TOL = 1e-4  # float32 round-off on a mean of ~10⁴ per-pair terms: risk − H(g) ≥ −FLOOR_TOL
AT_FLOOR = 1e-3  # nats: a cell whose mean excess at the smallest n is below this is at the floor already: not decided
FULL = "full"  # the student structure with enough capacity; the others are the restricted arms


def _prepare(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(
        floor=floor_of(df["loss"], df),
        structure=config_value(df, "student", "structure", FULL),
    ).assign(train_excess=lambda d: d["train_risk"] - d["floor"])


def analyse(tables: Tables) -> Verdict:
    """(a) floor: every model's train risk − H(g) ≥ −FLOOR_TOL, else refuted.  (b) per (loss, τ) cell of the
    full student: relative drop = (excess(n_min) − excess(n_max)) / excess(n_min) per seed, ``decide_increase``
    at SESOI; cells already at the floor at n_min (mean excess < AT_FLOOR) are reported, not decided.
    (c) capacity, where the design has restricted students: (excess(restricted) − excess(full)) / excess(restricted)
    at n_max per seed, ``decide_increase``.  Cell outcome: all_of(b, c); the cells are the conditions.
    """
    df = _prepare(tables[EXPERIMENT])
    min_excess = float(min(df["train_excess"].min(), df["excess_risk"].min()))
    n_lo, n_hi = df["n_train"].min(), df["n_train"].max()
    structures = sorted(set(df["structure"]) - {FULL})
    rows, outcomes, drops, cell_tests = [], [], [], []
    for (loss, tau), cell in df.groupby(["loss", "tau"]):
        full = cell[cell["structure"] == FULL]
        lo, hi = (
            by_seed(full, full["n_train"] == n_lo, "excess_risk"),
            by_seed(full, full["n_train"] == n_hi, "excess_risk"),
        )
        at_floor = bool(lo.mean() < AT_FLOOR)
        drop = effect_of([] if at_floor else ((lo - hi) / lo).dropna().to_numpy())
        row = {"loss": loss, "tau": tau, "excess_small_n": lo.mean(), "excess_large_n": hi.mean(), "at_floor": at_floor}
        row.update({"drop": drop.mean, "drop_low": drop.low, "drop_high": drop.high})
        tests = [] if at_floor else [drop]
        if not at_floor:
            drops.append(drop)
        for s in structures:
            part = cell[(cell["structure"] == s) & (cell["n_train"] == n_hi)]
            restricted = by_seed(part, slice(None), "excess_risk")
            cap = effect_of(((restricted - hi) / restricted).dropna().to_numpy())
            row.update({f"{s}_minus_full": cap.mean, f"{s}_low": cap.low, f"{s}_high": cap.high})
            tests.append(cap)
        cell_tests.append((row, tests))
        rows.append(row)
    decide = familywise(decide_increase, sum(len(t) for _, t in cell_tests))  # the multiplicity policy (base)
    for row, tests in cell_tests:
        row["outcome"] = all_of([decide(e, SESOI) for e in tests]) if tests else "at floor"
        if tests:
            outcomes.append(row["outcome"])
    table = pd.DataFrame(rows)
    outcome = "refuted" if min_excess < -FLOOR_TOL else across_conditions(outcomes) if outcomes else "inconclusive"
    primary = min(drops, key=lambda e: power_change(SESOI, e.sd, e.n)) if drops else effect_of([])
    decided = table[~table["at_floor"]]
    summary = (
        f"smallest risk − H(g) over {len(df)} models: {min_excess:.1e} nats (tolerance −{FLOOR_TOL:g}); "
        f"{int(table['at_floor'].sum())}/{len(table)} (loss, τ) cells are at the floor already at n = {n_lo}; "
        f"in the others the excess falls from n = {n_lo} to {n_hi} by (relative) "
        + ", ".join(
            f"{r.loss}/τ={r.tau:g}: {r.drop:.2f} [{r.drop_low:.2f}, {r.drop_high:.2f}]" for r in decided.itertuples()
        )
        + (
            f"; restricted students ({', '.join(structures)}) vs full at n = {n_hi}: "
            if structures
            else "; no capacity axis"
        )
        + ", ".join(
            f"{r['loss']}/τ={r['tau']:g} {s}: {r[f'{s}_minus_full']:.2f} → {r['outcome']}"
            for _, r in table.iterrows()
            for s in structures
        )
    )
    return change_verdict(
        outcome, summary, primary, SESOI, df, table, min_excess=min_excess, primary=fmt_effect(primary, 4)
    )


def draw(tables: Tables) -> Figure:
    df = _prepare(tables[EXPERIMENT])
    panels = sorted({(loss, s) for loss, s in zip(df["loss"], df["structure"])})
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.2), squeeze=False, sharey=True)
    for ax, (loss, s) in zip(axes[0], panels):
        part = df[(df["loss"] == loss) & (df["structure"] == s)]
        line_panel(ax, part, "n_train", "excess_risk", "tau")
        ax.set_xscale("log")
        ax.set_yscale("symlog", linthresh=1e-3)
        ax.axhline(0, color="black", lw=0.8, ls="--")
        ax.set_title(f"{loss}, {s} W (floor {LOSS_SPECS[loss].floor})", fontsize=8)
        ax.set_xlabel("training groups n (log scale)")
    axes[0, 0].set_ylabel("test risk − H(g) (nats, symlog)")
    legend(axes[0, -1], "τ")
    return fig


def caption(tables: Tables) -> str:
    df = _prepare(tables[EXPERIMENT])
    return (
        f"P2. Test risk minus its T1 floor H(g) against the number of training groups n, one line per teacher "
        f"temperature τ, per loss (soft RankNet: floor H_pair, ListNet: floor H_list) and student capacity "
        f"({', '.join(sorted(df['structure'].unique()))} bilinear map); dashed: the floor; bands 95% t-intervals over "
        f"seeds (the verdict pairs n and capacity by seed); {design_note(df)}."
    )


PREDICTION = Prediction(
    key="P2",
    claim="trained risk never falls below H(g) and its excess above H(g) shrinks with data and capacity",
    experiments=(EXPERIMENT,),
    sesoi=SESOI,
    alpha=ALPHA,
    seeds=SEEDS,
    test="floor check per model; one-sided paired t (90% CI) of the excess drop n_min→n_max and restricted − full",
    rule="refuted if risk < H(g) − 1e-4 anywhere; per non-floor (loss, τ) cell: drop and capacity effects supported",
    analyse=analyse,
    draw=draw,
    caption=caption,
)
