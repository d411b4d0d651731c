"""P6: distillation quality is an inverted U in teacher entropy, and lowest under domain shift."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from simrank.figures import PALETTE, line_panel
from simrank.predictions.base import (
    ALPHA,
    UNTESTED,
    Effect,
    Prediction,
    Tables,
    Verdict,
    across_conditions,
    all_of,
    by_seed,
    change_verdict,
    config_value,
    decide_increase,
    familywise,
    fmt_effect,
    paired_effect,
    power_change,
)
from simrank.predictions.plots import LEVEL, NDCG, design_note, legend
from simrank.stats import summarise

__all__ = ["EXPERIMENT", "PREDICTION", "SEEDS", "SESOI", "analyse", "caption", "draw", "halves", "manipulation_works"]

EXPERIMENT = "p06-entropy-quality"
SESOI = 0.02  # nDCG@10 (absolute): rise to and fall from the peak, and the shift's cost, must reach this
SEEDS = 47  # one-sided paired t at the SESOI, largest SD of the fall/shift effects in the 5-seed pilot of this world (0.054 -> 47)


def halves(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows of the seeds that choose the peak τ (every other seed in sorted order, from the first) and of the
    held-out seeds the effects are tested on (the others), so a peak is never tested on the data that chose it."""
    seeds = sorted(df["seed"].unique())
    choose = df["seed"].isin(seeds[::2])
    return df[choose], df[~choose]


def _effects(df: pd.DataFrame) -> tuple[pd.DataFrame, dict[tuple, Effect]]:
    """Per (noise, shift) cell: τ* = argmax of mean nDCG@10 over τ on the choosing half (:func:`halves`); rise and
    fall paired by seed on the held-out half.  Per noise: the shift cost at the unshifted τ* (held-out half), and
    the manipulation check: the shift's cost averaged over every τ (all seeds)."""
    taus = sorted(df["tau"].unique())
    choose, test = halves(df)
    rows: list[dict] = []
    effects: dict[tuple, Effect] = {}
    shifts = sorted(df["test_shift"].unique())
    for noise, by_noise in test.groupby("teacher_noise"):
        for shift in shifts:
            cell = by_noise[by_noise["test_shift"] == shift]
            picked = choose[(choose["teacher_noise"] == noise) & (choose["test_shift"] == shift)]
            peak = float(picked.groupby("tau")["ndcg10"].mean().idxmax())
            at = {t: by_seed(cell, cell["tau"] == t, "ndcg10") for t in (taus[0], peak, taus[-1])}
            rise, fall = paired_effect(at[peak], at[taus[0]]), paired_effect(at[peak], at[taus[-1]])
            effects[(noise, shift, "rise")], effects[(noise, shift, "fall")] = rise, fall
            rows.append(
                {
                    "teacher_noise": noise,
                    "test_shift": shift,
                    "peak_tau": peak,
                    "peak_ndcg": at[peak].mean(),
                    "peak_entropy": cell[cell["tau"] == peak]["entropy_list"].mean(),
                    "rise": rise.mean,
                    "rise_low": rise.low,
                    "fall": fall.mean,
                    "fall_low": fall.low,
                }
            )
        peak = [r["peak_tau"] for r in rows if r["teacher_noise"] == noise and r["test_shift"] == shifts[0]][0]
        at_peak = by_noise[by_noise["tau"] == peak]
        effects[(noise, "shift")] = paired_effect(
            by_seed(at_peak, at_peak["test_shift"] == shifts[0], "ndcg10"),
            by_seed(at_peak, at_peak["test_shift"] == shifts[-1], "ndcg10"),
        )
        every = df[df["teacher_noise"] == noise]
        effects[(noise, "manipulation")] = paired_effect(
            by_seed(every, every["test_shift"] == shifts[0], "ndcg10"),
            by_seed(every, every["test_shift"] == shifts[-1], "ndcg10"),
        )
    return pd.DataFrame(rows), effects


def manipulation_works(e: Effect) -> bool:
    """The manipulation check: the shift lowers quality averaged over every τ (its 90% interval lies above 0).  A
    shift that does not lower quality is no domain shift in the claim's sense: its cost part is then untested."""
    return e.low > 0


def analyse(tables: Tables) -> Verdict:
    """Per (noise, shift) cell: the peak τ* maximises mean nDCG@10 over τ on half of the seeds (:func:`halves`);
    on the other half, rise = nDCG(τ*) − nDCG(τ_min) and fall = nDCG(τ*) − nDCG(τ_max), paired by seed, must both be
    supported increases (an end τ cannot be the peak).  Per noise level: shift cost = nDCG(no shift) − nDCG(shift)
    at the unshifted τ* (held-out half), a supported increase -- tested only when the manipulation check passes
    (:func:`manipulation_works`), else ``UNTESTED`` (it can refute nothing and support nothing).  Per noise level
    (the conditions): all_of(inverted U without shift, inverted U with shift, shift cost); every part under the
    multiplicity policy over the 5 tests per noise level (``base.familywise``).
    """
    df = tables[EXPERIMENT]
    table, e = _effects(df)
    noises = sorted(df["teacher_noise"].unique())
    decide = familywise(decide_increase, 5 * len(noises))
    table["inverted_u"] = [
        all_of(
            [
                decide(e[(r.teacher_noise, r.test_shift, "rise")], SESOI),
                decide(e[(r.teacher_noise, r.test_shift, "fall")], SESOI),
            ]
        )
        for r in table.itertuples()
    ]
    outcomes, shift_outcome = [], {}
    for noise in noises:
        tested = manipulation_works(e[(noise, "manipulation")])
        shift_outcome[noise] = decide(e[(noise, "shift")] if tested else UNTESTED, SESOI)
        outcomes.append(all_of([*table.loc[table["teacher_noise"] == noise, "inverted_u"], shift_outcome[noise]]))
    table["shift_cost"] = table["teacher_noise"].map(lambda n: e[(n, "shift")].mean)
    table["shift_cost_low"] = table["teacher_noise"].map(lambda n: e[(n, "shift")].low)
    table["manipulation"] = table["teacher_noise"].map(lambda n: e[(n, "manipulation")].mean)
    table["manipulation_low"] = table["teacher_noise"].map(lambda n: e[(n, "manipulation")].low)
    table["shift_part"] = table["teacher_noise"].map(
        lambda n: shift_outcome[n] if manipulation_works(e[(n, "manipulation")]) else "untested"
    )
    critical = [v for k, v in e.items() if k[-1] in ("fall", "shift")]  # what separates an inverted U from a ramp
    weakest = min(critical, key=lambda x: power_change(SESOI, x.sd, x.n) if x.sd > 0 else 1.0)
    choose, test = halves(df)
    summary = (
        f"peak τ* chosen on {choose['seed'].nunique()} seeds, effects tested on the other {test['seed'].nunique()} "
        f"({LEVEL} CIs; refutations on Bonferroni intervals over the {5 * len(noises)} decided tests): "
        + "; ".join(
            f"noise {r.teacher_noise:g}/shift {r.test_shift:g}: τ* = {r.peak_tau:g} (H = {r.peak_entropy:.2f} nats), "
            f"rise {r.rise:.3f} (low {r.rise_low:.3f}), fall {r.fall:.3f} (low {r.fall_low:.3f}) → {r.inverted_u}"
            for r in table.itertuples()
        )
        + "; manipulation check, the shift's cost over every τ (all seeds): "
        + ", ".join(
            f"noise {n:g} {fmt_effect(e[(n, 'manipulation')])}"
            + (
                ""
                if manipulation_works(e[(n, "manipulation")])
                else " (the shift does not lower quality: its part is untested)"
            )
            for n in noises
        )
        + "; shift cost at τ*: "
        + ", ".join(f"noise {n:g} {fmt_effect(e[(n, 'shift')])} → {shift_outcome[n]}" for n in noises)
    )
    return change_verdict(across_conditions(outcomes), summary, weakest, SESOI, df, table)


def draw(tables: Tables) -> Figure:
    df = tables[EXPERIMENT].assign(
        cell=lambda d: (
            "noise " + d["teacher_noise"].map("{:g}".format) + ", shift " + d["test_shift"].map("{:g}".format)
        )
    )
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2), sharey=True)
    line_panel(axes[0], df, "tau", "ndcg10", "cell")
    axes[0].set_xscale("log")
    axes[0].set_xlabel("teacher temperature τ (log scale)")
    s = summarise(df, ["cell", "tau"], "ndcg10").merge(
        summarise(df, ["cell", "tau"], "entropy_list"), on=["cell", "tau", "n"]
    )
    for colour, (cell, part) in zip(sns.color_palette(PALETTE), s.groupby("cell")):
        axes[1].plot(part["entropy_list_mean"], part["ndcg10_mean"], "o-", ms=3, color=colour, label=cell)
        axes[1].fill_between(
            part["entropy_list_mean"], part["ndcg10_low"], part["ndcg10_high"], color=colour, alpha=0.2, lw=0
        )
    axes[1].set_xlabel("teacher listwise entropy H_list over the training group (nats)")
    axes[1].grid(alpha=0.3)
    axes[0].set_ylabel(NDCG)
    legend(axes[1], "teacher / test")
    return fig


def caption(tables: Tables) -> str:
    df = tables[EXPERIMENT]
    k = int(df["group_size"].iloc[0])
    gamma = config_value(df, "world", "nonbilinear", 0.0).iloc[0]
    return (
        f"P6. True nDCG@10 of {df['loss'].iloc[0]} distillation against teacher temperature τ (left) and the teacher's "
        f"listwise entropy over the training group of k = {k} (right; at most log {k}), per teacher noise and test-query "
        f"shift, in a world with non-bilinear relevance weight γ = {gamma:g}; bands: 95% t-intervals over seeds (the "
        f"verdict pairs τ and shift by seed); {design_note(df)}."
    )


PREDICTION = Prediction(
    key="P6",
    claim="distillation quality is an inverted U in teacher entropy and lowest under domain shift",
    experiments=(EXPERIMENT,),
    sesoi=SESOI,
    alpha=ALPHA,
    seeds=SEEDS,
    test="one-sided paired t (90% CI): peak − each end τ, and no-shift − shift at the peak τ, the peak chosen on the "
    "other half of the seeds; manipulation check: the shift's cost over every τ",
    rule="per noise level: inverted U with and without shift and a shift cost, all ≥ SESOI (the cost untested when the "
    "shift does not lower quality); noise levels are conditions",
    analyse=analyse,
    draw=draw,
    caption=caption,
)
