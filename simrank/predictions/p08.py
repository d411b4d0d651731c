"""P8: sampling bias κ grows with hardness, mixing with uniform caps it at 1/η, and η's benefit follows T4."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from simrank.figures import PALETTE, line_panel
from simrank.predictions.base import (
    ALPHA,
    Prediction,
    Verdict,
    across_conditions,
    almost_sure_rho_inf,
    by_seed,
    change_verdict,
    config_value,
    decide_increase,
    effect_of,
    fmt_effect,
    paired_effect,
    power_change,
)
from simrank.predictions.plots import design_note, legend
from simrank.theory import kappa_eta, optimal_eta

__all__ = ["EXPERIMENT", "KAPPA_RTOL", "PREDICTION", "SEEDS", "SESOI", "analyse", "caption", "draw"]

EXPERIMENT = "p08-augmentation"
SESOI = 0.005  # nats of target risk: a lower risk by less than this is no benefit
SEEDS = 45  # one-sided paired t at the SESOI, pilot's largest SD of the gain 0.013 (stats.n_paired_t -> 45)
KAPPA_RTOL = 1e-6  # κ_η formula against the measured κ (float64 arithmetic on float32 proxies)
DELTA = 0.05


def _prepare(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(
        nonbilinear=config_value(df, "world", "nonbilinear", 0.0), beta=config_value(df, "sampler", "beta")
    )


def _cells(df: pd.DataFrame) -> tuple[pd.DataFrame, list]:
    B = float(config_value(df, "student", "norm_bound").iloc[0])
    rows, gains = [], []
    for (world, beta), cell in df[df["beta"] > 0].groupby(["nonbilinear", "beta"]):
        at0, at1 = cell[cell["eta"] == 0], cell[cell["eta"] == cell["eta"].max()]
        eta_star, _ = optimal_eta(
            at0["kappa"].mean(),
            at0["train_risk"].mean(),
            at0["target_risk"].mean(),
            B=B,
            rho2_nu=at0["delta_rms"].mean(),
            rho2_mu=at1["delta_rms"].mean(),
            rho_inf=float(almost_sure_rho_inf(at1).max()),  # Theorem 3 as proved: almost sure ρ_∞ ...
            n=int(config_value(cell, "data", "n_queries").iloc[0]),  # ... and n = i.i.d. draws (queries)
            delta=DELTA,
        )
        # the η the bound prescribes (the grid value nearest η*), against η = 0, paired by seed
        etas = sorted(e for e in cell["eta"].unique() if e > 0)
        chosen = min(etas, key=lambda e: abs(e - eta_star)) if eta_star > 0 else max(etas)
        gain = paired_effect(
            by_seed(cell, cell["eta"] == 0, "target_risk"), by_seed(cell, cell["eta"] == chosen, "target_risk")
        )
        gains.append(gain)
        realised = decide_increase(gain, SESOI)  # supported: mixing helps; refuted: it does not
        predicted = eta_star > 0
        outcome = (
            "inconclusive"
            if realised == "inconclusive"
            else "supported"
            if (realised == "supported") == predicted
            else "refuted"
        )
        rows.append(
            {
                "nonbilinear": world,
                "beta": beta,
                "kappa": at0["kappa"].mean(),
                "eta_star": eta_star,
                "eta_tested": chosen,
                "gain": gain.mean,
                "gain_low": gain.low,
                "gain_high": gain.high,
                "predicted_help": predicted,
                "realised_help": realised,
                "outcome": outcome,
            }
        )
    return pd.DataFrame(rows), gains


def analyse(tables) -> Verdict:
    """(a) mean κ at η = 0 increases with β and (b) every measured κ at η > 0 equals κ_η(κ(η = 0), η) ≤ 1/η
    (relative error < KAPPA_RTOL): otherwise refuted (these are exact statements).  (c) per (world, β > 0)
    cell: T4's η* (``theory.optimal_eta``) predicts help iff η* > 0; the realised gain = target risk(η = 0) −
    target risk(η nearest η*, or the largest η when η* = 0), paired by seed, decided by ``decide_increase``;
    the cell is supported when prediction and decided realisation agree, refuted when they disagree,
    inconclusive when the gain is undecided.  The cells are the conditions.
    """
    df = _prepare(tables[EXPERIMENT])
    base = df[df["eta"] == 0]
    kappa_by_beta = base.groupby("beta")["kappa"].mean()
    grows = bool(np.all(np.diff(np.log(kappa_by_beta.to_numpy())) > 0))
    ref = base.groupby(["nonbilinear", "beta", "seed"])["kappa"].first()
    mixed = df[df["eta"] > 0]
    predicted = kappa_eta(
        ref.loc[list(zip(mixed["nonbilinear"], mixed["beta"], mixed["seed"]))].to_numpy(), mixed["eta"].to_numpy()
    )
    kappa_err = float(np.max(np.abs(predicted - mixed["kappa"].to_numpy()) / mixed["kappa"].to_numpy()))
    capped = bool(np.all(mixed["kappa"] <= 1 / mixed["eta"] * (1 + KAPPA_RTOL)))
    table, gains = _cells(df)
    exact = grows and capped and kappa_err < KAPPA_RTOL
    outcome = across_conditions(list(table["outcome"])) if exact else "refuted"
    weakest = min(gains, key=lambda g: power_change(SESOI, g.sd, g.n)) if gains else effect_of([])
    summary = (
        f"κ at η = 0: {', '.join(f'{k:.3g}' for k in kappa_by_beta)} for β = {', '.join(f'{b:g}' for b in kappa_by_beta.index)}"
        f" ({'increasing' if grows else 'NOT increasing'}); κ_η matches its formula to {kappa_err:.1e} and "
        f"{'never exceeds' if capped else 'EXCEEDS'} 1/η; η* vs realised gain: "
        + "; ".join(
            f"γ = {r.nonbilinear:g}, β = {r.beta:g}: η* = {r.eta_star:.2f}, gain at η = {r.eta_tested:g} {r.gain:.4f} "
            f"[{r.gain_low:.4f}, {r.gain_high:.4f}] → {r.outcome}"
            for r in table.itertuples()
        )
    )
    return change_verdict(
        outcome, summary, weakest, SESOI, df, table, kappa_eta_rel_error=kappa_err, primary=fmt_effect(weakest, 4)
    )


def draw(tables):
    df = _prepare(tables[EXPERIMENT])
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.3))
    top = df[(df["beta"] == df["beta"].max()) & (df["eta"] > 0)]
    line_panel(axes[0], top, "eta", "kappa", "nonbilinear")
    etas = np.linspace(top["eta"].min(), 1, 100)
    k0 = df[(df["eta"] == 0) & (df["beta"] == df["beta"].max())]["kappa"].mean()
    axes[0].plot(etas, kappa_eta(k0, etas), "k--", lw=0.8, label="κ_η formula")
    axes[0].plot(etas, 1 / etas, "k:", lw=1.2, label="cap 1/η")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("mixing weight η (η > 0)")
    axes[0].set_ylabel(f"κ (β = {df['beta'].max():g}, log scale)")
    legend(axes[0], "γ")
    stars, _ = _cells(df)
    for ax, (w, part) in zip(axes[1:], df[df["beta"] > 0].groupby("nonbilinear")):
        line_panel(ax, part, "eta", "target_risk", "beta")
        for colour, star in zip(sns.color_palette(PALETTE), stars[stars["nonbilinear"] == w].itertuples()):
            ax.axvline(star.eta_star, color=colour, ls="--", lw=0.8)
        ax.set_title(f"non-bilinear weight γ = {w:g} (dashed: T4's η*)", fontsize=9)
        ax.set_xlabel("mixing weight η")
        ax.set_ylabel("target risk under μ (nats per pair)")
        legend(ax, "β")
    return fig


def caption(tables) -> str:
    df = _prepare(tables[EXPERIMENT])
    return (
        f"P8. Left: sampling bias κ = max μ/ν against the mixing weight η > 0 for the hardest tempered sampler "
        f"(β = {df['beta'].max():g}), with the T4 formula κ_η (dashed) and the cap 1/η (dotted); κ at η = 0 is "
        f"{df[(df['eta'] == 0) & (df['beta'] == df['beta'].max())]['kappa'].mean():.3g} and is left off the log axis; "
        f"with κ(0) that large κ_η ≈ 1/η, so the measured curves, the formula and the cap lie on top of each other. "
        f"Middle/right: realised target risk under uniform negatives against η, one line per hardness β, per world; "
        f"dashed verticals: T4's η*. Bands 95% t-intervals over seeds (the verdict pairs η by seed); {design_note(df)}."
    )


PREDICTION = Prediction(
    key="P8",
    claim="κ grows with hardness, mixing caps it at 1/η, and mixing helps exactly where T4's η* > 0",
    experiments=(EXPERIMENT,),
    sesoi=SESOI,
    alpha=ALPHA,
    seeds=SEEDS,
    test="exact checks of κ; one-sided paired t (90% CI) of the target-risk gain at T4's η per (world, β)",
    rule="refuted if κ checks fail; per cell: supported if the decided gain agrees with η* > 0; cells are conditions",
    analyse=analyse,
    draw=draw,
    caption=caption,
)
