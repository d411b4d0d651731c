"""P8: sampling bias κ grows with hardness, mixing with uniform caps it at 1/η, and η's benefit follows the rule.

The rule's η* per (world, β) cell is the training-aware ``η*(n) = argmin Bias(η) + (V(η) + D(η))/n`` of theory.md
§10 (:func:`simrank.theory.predicted_eta_star`, at ``n = data.n_train`` groups, for the design's student on its ball
``‖W‖_F ≤ B``, §10(d)), read from the committed curves :data:`ETA_STAR_TABLE` (``python -m simrank.predictions.p08``
writes them; deviation D40).  The registered rule's η* (Theorem 4's bound ``F(η)`` at the η = 0 model) and its
verdict are kept beside it in the table and the summary.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from simrank.config import Experiment
from simrank.figures import PALETTE, line_panel
from simrank.paths import PROJECT_ROOT
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
from simrank.predictions.families import family_experiment
from simrank.predictions.plots import design_note, legend
from simrank.runner import seeded_world
from simrank.theory.bounds import kappa_eta, optimal_eta
from simrank.theory.prediction import ExcessPrediction, excess_curve, predicted_eta_star

__all__ = [
    "CURVE_FAMILIES",
    "CURVE_POPULATION",
    "ETA_STAR_TABLE",
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
    "predicted_curves",
]

EXPERIMENT = "p08-augmentation"
SESOI = 0.005  # nats of target risk: a lower risk by less than this is no benefit
SEEDS = 45  # one-sided paired t at the SESOI, pilot's largest SD of the gain 0.013 (stats.n_paired_t -> 45)
KAPPA_RTOL = 1e-6  # κ_η formula against the measured κ (float64 arithmetic on float32 proxies)
DELTA = 0.05
#: The training-aware rule's curves (bias, V, D per η) of every (world, β > 0) cell, written by ``python -m
#: simrank.predictions.p08`` for the world families P8 has results in (:data:`CURVE_FAMILIES`).
ETA_STAR_TABLE = PROJECT_ROOT / "results" / "theory" / "p08-eta-star.parquet"
CURVE_FAMILIES = ("main", "clustered", "cone")
CURVE_POPULATION = 5000  # Monte Carlo groups per population of the prediction (world of seed 0)
_WORLD_KEY = ("geometry", "n_docs", "dim", "nonbilinear")


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
    checks: KappaChecks, cells: Mapping[object, tuple[Effect, bool] | None], sesoi: float = SESOI, k: int = 1
) -> Decision:
    """P8's rule: refuted when an exact κ check fails (``checks.passed`` is False); else, per cell (the
    conditions; a (world, β > 0) pair): the realised gain = target risk(η = 0) − target risk(η the rule
    prescribes), ``decide_increase`` at sesoi, against the prediction "mixing helps iff the rule's η* > 0": the cell
    is supported when the decided gain agrees, refuted when it disagrees, inconclusive when the gain is undecided or
    the cell has no η* (None); cells combine by ``across_conditions`` (no cell: inconclusive).

    Args:
      checks: :func:`kappa_checks`.
      cells: cell -> (gain :class:`Effect`, predicted help η* > 0), or None where the rule gives no η*.
      sesoi: SESOI of the gain (nats of target risk).
      k: decided tests for the multiplicity policy (``base.familywise``): the number of cells on synthetic
        t-intervals, 1 for intervals taken as given.

    Returns:
      :class:`Decision`; ``parts[cell]["gain"]`` is the realised-gain decision.
    """
    gain_rule = familywise(decide_increase, k)
    parts = {c: {"gain": gain_rule(cell[0], sesoi) if cell else "untested"} for c, cell in cells.items()}
    conditions = {
        c: "inconclusive"
        if cell is None or parts[c]["gain"] == "inconclusive"
        else "supported"
        if (parts[c]["gain"] == "supported") == cell[1]
        else "refuted"
        for c, cell in cells.items()
    }
    outcome = across_conditions(list(conditions.values())) if checks.passed else "refuted"
    return Decision(outcome, conditions, parts)


def _prepare(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(
        nonbilinear=config_value(df, "world", "nonbilinear", 0.0), beta=config_value(df, "sampler", "beta")
    )


def _world_key(config: Mapping[str, Any]) -> str:
    """A cell's world as the curves table keys it: the ``[world]`` settings that change the prediction."""
    return json.dumps({k: v if isinstance(v := config[k], str) else float(v) for k in _WORLD_KEY}, sort_keys=True)


def predicted_curves(exp: Experiment, population: int = CURVE_POPULATION, seed: int = 0) -> pd.DataFrame:
    """The training-aware rule's curve of every (world, β > 0) cell of ``exp``: :func:`simrank.theory.excess_curve`
    over the design's η grid in the world of seed ``seed`` (:func:`simrank.runner.seeded_world`), with the design's
    loss, group size, τ and ball ``‖W‖_F ≤ B``, target = uniform negatives (P8's target risk).

    Args:
      exp: the P8 design (or a world family's version of it).
      population: Monte Carlo groups per population.
      seed: the world's seed.

    Returns:
      one row per (cell, η): ``world`` (the key of :func:`_world_key`), ``nonbilinear``, ``beta``, ``eta``, ``bias``,
      ``variance``, ``drift``, ``active`` (the ball's constraint binds at ``w*_η``), ``population``.
    """
    etas = sorted(float(e) for e in exp.grid["sampler.eta"])
    rows = []
    for point in exp.points():
        if point.coords.get("sampler.eta", 0.0) != 0.0 or float(point.coords["sampler.beta"]) == 0.0:
            continue
        world, teacher = seeded_world(point, seed)
        curve = excess_curve(world.generate(), teacher, point.sampler(), loss=point.loss,
                             group_size=point.data.group_size, etas=etas, target="uniform", tau=point.tau,
                             population=population, seed=seed, norm_bound=point.student.norm_bound)  # fmt: skip
        key = _world_key({k: getattr(point.world, k) for k in _WORLD_KEY})
        for c in curve:
            rows.append({"world": key, "nonbilinear": float(point.world.nonbilinear), "beta": float(point.coords["sampler.beta"]),
                         "eta": c.eta, "bias": c.bias, "variance": c.variance, "drift": c.drift, "active": c.active,
                         "population": population})  # fmt: skip
    return pd.DataFrame(rows)


def _curves() -> pd.DataFrame | None:
    return pd.read_parquet(ETA_STAR_TABLE) if ETA_STAR_TABLE.exists() else None


def _training_aware_eta(curves: pd.DataFrame | None, cell: pd.DataFrame, n: int) -> float | None:
    """η*(n) of the cell's committed curve (None when the curves table has no curve for this world and β)."""
    if curves is None:
        return None
    world = _world_key(json.loads(cell["config"].iloc[0])["world"])
    part = curves[(curves["world"] == world) & (curves["beta"] == float(cell["beta"].iloc[0]))]
    if part.empty:
        return None
    curve = [
        ExcessPrediction(0.0, r.bias, r.variance, r.drift, 0.0, 1, r.eta, "", "uniform", 1.0, 1)
        for r in part.itertuples()
    ]
    return predicted_eta_star(curve, n)


def _tested_eta(cell: pd.DataFrame, eta_star: float) -> float:
    """The grid η nearest ``eta_star`` (> 0), or the largest η where ``eta_star = 0`` (then no η should help)."""
    etas = sorted(e for e in cell["eta"].unique() if e > 0)
    return min(etas, key=lambda e: abs(e - eta_star)) if eta_star > 0 else max(etas)


def _gain(cell: pd.DataFrame, eta: float) -> Effect:
    """Target risk(η = 0) − target risk(η), paired by seed."""
    return paired_effect(
        by_seed(cell, cell["eta"] == 0, "target_risk"), by_seed(cell, cell["eta"] == eta, "target_risk")
    )


def _cells(df: pd.DataFrame) -> tuple[pd.DataFrame, dict, dict]:
    """Per (world, β > 0) cell: the training-aware η* (None where no curve is committed), the registered rule's
    T4 η*, the η each tests and the gains (table), and cell -> (gain, η* > 0) under each rule (training-aware,
    registered T4)."""
    B = float(config_value(df, "student", "norm_bound").iloc[0])
    curves = _curves()
    rows, gains, gains_t4 = [], {}, {}
    for (world, beta), cell in df[df["beta"] > 0].groupby(["nonbilinear", "beta"]):
        at0, at1 = cell[cell["eta"] == 0], cell[cell["eta"] == cell["eta"].max()]
        eta_t4, _ = optimal_eta(
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
        eta_star = _training_aware_eta(curves, cell, _n_train(cell))
        chosen_t4 = _tested_eta(cell, eta_t4)
        gain_t4 = _gain(cell, chosen_t4)
        gains_t4[(world, beta)] = (gain_t4, eta_t4 > 0)
        chosen = None if eta_star is None else _tested_eta(cell, eta_star)
        gain = effect_of([]) if chosen is None else _gain(cell, chosen)
        gains[(world, beta)] = None if eta_star is None else (gain, eta_star > 0)
        rows.append(
            {
                "nonbilinear": world,
                "beta": beta,
                "kappa": at0["kappa"].mean(),
                "eta_star": np.nan if eta_star is None else eta_star,
                "eta_tested": np.nan if chosen is None else chosen,
                "gain": gain.mean,
                "gain_low": gain.low,
                "gain_high": gain.high,
                "predicted_help": eta_star is not None and eta_star > 0,
                "eta_star_t4": eta_t4,
                "eta_tested_t4": chosen_t4,
                "gain_t4": gain_t4.mean,
            }
        )
    return pd.DataFrame(rows), gains, gains_t4


def analyse(tables: Tables) -> Verdict:
    """(a) mean κ at η = 0 increases with β and (b) every measured κ at η > 0 equals κ_η(κ(η = 0), η) ≤ 1/η
    (:func:`kappa_checks`, κ(η = 0) of the same world, β and seed).  (c) per (world, β > 0) cell: the training-aware
    η*(n_train) (module docstring; D40) and the realised gain = target risk(η = 0) − target risk(η nearest η*, or the
    largest η when η* = 0), paired by seed (90% t-interval).  Decided by :func:`decide`; the registered rule (T4's
    η*, ``theory.optimal_eta``) is decided the same way and reported beside it (``outcome_t4``).
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
    table, gains, gains_t4 = _cells(df)
    decision = decide(checks, gains, k=len(gains))
    registered = decide(checks, gains_t4, k=len(gains_t4))
    table = table.assign(
        realised_help=[decision.parts[c]["gain"] for c in gains],
        outcome=[decision.conditions[c] for c in gains],
        outcome_t4=[registered.conditions[c] for c in gains],
    )
    outcome = decision.outcome
    tested = [g[0] for g in gains.values() if g is not None]
    weakest = min(tested, key=lambda g: power_change(SESOI, g.sd, g.n), default=effect_of([]))
    summary = (
        f"κ at η = 0: {', '.join(f'{k:.3g}' for k in kappa_by_beta)} for β = {', '.join(f'{b:g}' for b in kappa_by_beta.index)}"
        f" ({'increasing' if grows else 'NOT increasing'}); κ_η matches its formula to {kappa_err:.1e} and "
        f"{'never exceeds' if capped else 'EXCEEDS'} 1/η; training-aware η*(n = {_n_train(df)}) vs realised gain: "
        + "; ".join(
            f"γ = {r.nonbilinear:g}, β = {r.beta:g}: η* = {r.eta_star:.2f}, gain at η = {r.eta_tested:g} {r.gain:.4f} "
            f"[{r.gain_low:.4f}, {r.gain_high:.4f}] → {r.outcome}"
            if not np.isnan(r.eta_star)
            else f"γ = {r.nonbilinear:g}, β = {r.beta:g}: no committed curve → inconclusive"
            for r in table.itertuples()
        )
        + f". Registered rule (T4's η* = {', '.join(f'{e:.2f}' for e in table['eta_star_t4'])}): {registered.outcome}"
    )
    return change_verdict(
        outcome, summary, weakest, SESOI, df, table, kappa_eta_rel_error=kappa_err, primary=fmt_effect(weakest, 4)
    )


def _n_train(df: pd.DataFrame) -> int:
    return int(config_value(df, "data", "n_train").iloc[0])


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
    stars, _, _ = _cells(df)
    for ax, (w, part) in zip(axes[1:], df[df["beta"] > 0].groupby("nonbilinear")):
        line_panel(ax, part, "eta", "target_risk", "beta")
        for colour, star in zip(sns.color_palette(PALETTE), stars[stars["nonbilinear"] == w].itertuples()):
            ax.axvline(star.eta_star, color=colour, ls="--", lw=0.8)
        ax.set_title(f"non-bilinear weight γ = {w:g} (dashed: the training-aware η*)", fontsize=9)
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
        f"dashed verticals: the training-aware η*(n) of theory.md §10 (deviation D40). Bands 95% t-intervals over seeds (the verdict pairs η by seed); {design_note(df)}."
    )


PREDICTION = Prediction(
    key="P8",
    claim="κ grows with hardness, mixing caps it at 1/η, and mixing helps exactly where the rule's η* > 0",
    experiments=(EXPERIMENT,),
    sesoi=SESOI,
    alpha=ALPHA,
    seeds=SEEDS,
    test="exact checks of κ; one-sided paired t (90% CI) of the target-risk gain at the training-aware η* per (world, β)",
    rule="refuted if κ checks fail; per cell: supported if the decided gain agrees with η* > 0; cells are conditions",
    analyse=analyse,
    draw=draw,
    caption=caption,
)


def _write_curves(path: Path = ETA_STAR_TABLE, families: tuple[str, ...] = CURVE_FAMILIES) -> None:
    """Compute :func:`predicted_curves` of P8's design in every family of ``families`` and write them to ``path``;
    rows of other worlds already in ``path`` are kept (so one family's curves can be added without recomputing the
    others'), rows of the recomputed worlds are replaced."""
    parts = [] if not path.exists() else [pd.read_parquet(path)]
    for family in families:
        new = predicted_curves(family_experiment(EXPERIMENT, family))
        print(new.to_string(), flush=True)
        parts = [p[~p["world"].isin(new["world"])] for p in parts] + [new]
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.concat(parts, ignore_index=True).to_parquet(path)


if __name__ == "__main__":  # python -m simrank.predictions.p08 [PATH] [FAMILY ...]
    args = sys.argv[1:]
    names = tuple(a for a in args if a in CURVE_FAMILIES) or CURVE_FAMILIES
    paths = [a for a in args if a not in CURVE_FAMILIES]
    _write_curves(Path(paths[0]) if paths else ETA_STAR_TABLE, names)
