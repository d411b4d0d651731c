"""P8: sampling bias κ grows with hardness, mixing with uniform caps it at 1/η, and η's benefit follows T4."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from simrank.figures import PALETTE, line_panel
from simrank.predictions.base import (
    ALPHA,
    Decision,
    Effect,
    Prediction,
    Tables,
    Verdict,
    across_conditions,
    almost_sure_rho_inf,
    by_seed,
    change_verdict,
    config_value,
    decide_increase,
    effect_of,
    familywise,
    fmt_effect,
    paired_effect,
    power_change,
)
from simrank.predictions.plots import design_note, legend
from simrank.theory.bounds import kappa_eta, optimal_eta

__all__ = [
    "EXPERIMENT",
    "KAPPA_RTOL",
    "PREDICTION",
    "SEEDS",
    "SESOI",
    "KappaChecks",
    "analyse",
    "caption",
    "decide",
    "draw",
    "kappa_checks",
]

EXPERIMENT = "p08-augmentation"
SESOI = 0.005  # nats of target risk: a lower risk by less than this is no benefit
SEEDS = 45  # one-sided paired t at the SESOI, pilot's largest SD of the gain 0.013 (stats.n_paired_t -> 45)
KAPPA_RTOL = 1e-6  # κ_η formula against the measured κ (float64 arithmetic on float32 proxies)
DELTA = 0.05


class KappaChecks(NamedTuple):
    """P8's exact statements about κ (:func:`kappa_checks`).

    Attributes:
      kappa_by_beta: mean κ at η = 0 per hardness β (index β, ascending).
      grows: κ at η = 0 strictly increases with β.
      rel_error: largest relative error of ``theory.kappa_eta(κ(η = 0), η)`` against the measured κ at η > 0.
      capped: every measured κ at η > 0 is ≤ 1/η (relative tolerance KAPPA_RTOL).
    """

    kappa_by_beta: pd.Series
    grows: bool
    rel_error: float
    capped: bool

    @property
    def passed(self) -> bool:
        """All three hold (the formula to relative error < KAPPA_RTOL)."""
        return self.grows and self.capped and self.rel_error < KAPPA_RTOL


def kappa_checks(kappa_by_beta: pd.Series, kappa0: ArrayLike, eta: ArrayLike, kappa: ArrayLike) -> KappaChecks:
    """The exact κ checks of P8 (synthetic and real data).

    Args:
      kappa_by_beta: mean κ at η = 0 per β.
      kappa0: ``[m]`` κ at η = 0 of the sampler (and world, seed) of each mixed measurement.
      eta: ``[m]`` mixing weights η > 0 of the mixed measurements.
      kappa: ``[m]`` measured κ of the η-mixtures.

    Returns:
      :class:`KappaChecks`.
    """
    kappa_by_beta = kappa_by_beta.sort_index()
    kappa, eta = np.asarray(kappa, np.float64), np.asarray(eta, np.float64)
    grows = bool(np.all(np.diff(np.log(kappa_by_beta.to_numpy())) > 0))
    rel_error = float(np.max(np.abs(kappa_eta(np.asarray(kappa0, np.float64), eta) - kappa) / kappa))
    capped = bool(np.all(kappa <= 1 / eta * (1 + KAPPA_RTOL)))
    return KappaChecks(kappa_by_beta, grows, rel_error, capped)


def decide(
    checks: KappaChecks, cells: Mapping[object, tuple[Effect, bool]], sesoi: float = SESOI, k: int = 1
) -> Decision:
    """P8's rule: refuted when an exact κ check fails (``checks.passed`` is False); else, per cell (the
    conditions; a (world, β > 0) pair): the realised gain = target risk(η = 0) − target risk(η T4 prescribes),
    ``decide_increase`` at sesoi, against the prediction "mixing helps iff T4's η* > 0": the cell is supported
    when the decided gain agrees, refuted when it disagrees, inconclusive when the gain is undecided; cells
    combine by ``across_conditions`` (no cell, e.g. a design without T4's η*: inconclusive).

    Args:
      checks: :func:`kappa_checks`.
      cells: cell -> (gain :class:`Effect`, predicted help η* > 0).
      sesoi: SESOI of the gain (nats of target risk).
      k: decided tests for the multiplicity policy (``base.familywise``): the number of cells on synthetic
        t-intervals, 1 for intervals taken as given.

    Returns:
      :class:`Decision`; ``parts[cell]["gain"]`` is the realised-gain decision.
    """
    gain_rule = familywise(decide_increase, k)
    parts = {c: {"gain": gain_rule(gain, sesoi)} for c, (gain, _) in cells.items()}
    conditions = {
        c: "inconclusive"
        if parts[c]["gain"] == "inconclusive"
        else "supported"
        if (parts[c]["gain"] == "supported") == predicted
        else "refuted"
        for c, (_, predicted) in cells.items()
    }
    outcome = across_conditions(list(conditions.values())) if checks.passed else "refuted"
    return Decision(outcome, conditions, parts)


def _prepare(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(
        nonbilinear=config_value(df, "world", "nonbilinear", 0.0), beta=config_value(df, "sampler", "beta")
    )


def _cells(df: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Per (world, β > 0) cell: T4's η*, the η tested and the gain (table), and cell -> (gain, η* > 0)."""
    B = float(config_value(df, "student", "norm_bound").iloc[0])
    rows, gains = [], {}
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
        gains[(world, beta)] = (gain, eta_star > 0)
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
                "predicted_help": eta_star > 0,
            }
        )
    return pd.DataFrame(rows), gains


def analyse(tables: Tables) -> Verdict:
    """(a) mean κ at η = 0 increases with β and (b) every measured κ at η > 0 equals κ_η(κ(η = 0), η) ≤ 1/η
    (:func:`kappa_checks`, κ(η = 0) of the same world, β and seed).  (c) per (world, β > 0) cell: T4's η*
    (``theory.optimal_eta``) and the realised gain = target risk(η = 0) − target risk(η nearest η*, or the
    largest η when η* = 0), paired by seed (90% t-interval).  Decided by :func:`decide`.
    """
    df = _prepare(tables[EXPERIMENT])
    base = df[df["eta"] == 0]
    ref = base.groupby(["nonbilinear", "beta", "seed"])["kappa"].first()
    mixed = df[df["eta"] > 0]
    checks = kappa_checks(
        base.groupby("beta")["kappa"].mean(),
        ref.loc[list(zip(mixed["nonbilinear"], mixed["beta"], mixed["seed"]))].to_numpy(),
        mixed["eta"].to_numpy(),
        mixed["kappa"].to_numpy(),
    )
    kappa_by_beta, grows, kappa_err, capped = checks
    table, gains = _cells(df)
    decision = decide(checks, gains, k=len(gains))
    table = table.assign(
        realised_help=[decision.parts[c]["gain"] for c in gains], outcome=[decision.conditions[c] for c in gains]
    )
    outcome = decision.outcome
    weakest = min((g for g, _ in gains.values()), key=lambda g: power_change(SESOI, g.sd, g.n), default=effect_of([]))
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


def draw(tables: Tables) -> Figure:
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


def caption(tables: Tables) -> str:
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
