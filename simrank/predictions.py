"""Verdicts for the predictions P1-P12 of theory.md section 4, computed from results tables.

Each prediction names the experiments it needs (``experiments/<name>.toml``) and an analysis function
``analyse(tables) -> Verdict`` over ``{experiment name: results DataFrame}``.  A verdict is
``confirmed`` / ``refuted`` / ``conditional`` (holds in some of the tested conditions only), decided
here by fixed rules and constants (stated next to each prediction), with the numbers behind it.
All statistics come from :mod:`simrank.stats` (95% t-intervals over seeds, paired where the seeds
share their data), all bounds from :mod:`simrank.theory`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from simrank.losses import floor_of
from simrank.paths import RESULTS_DIR
from simrank.stats import mean_ci, pairwise_rank_significance, pearson_ci, rank_stability, spearman, tost, two_way_anova
from simrank.theory import kappa_eta, optimal_eta, t3_gap_bound

ALPHA = 0.05
DELTA = 0.05  # confidence parameter δ of the T3/T4 bounds


@dataclass(frozen=True)
class Verdict:
    verdict: str  # "confirmed" | "refuted" | "conditional"
    summary: str  # one sentence with the key numbers
    numbers: dict = field(default_factory=dict)  # every number the summary quotes, and more
    table: pd.DataFrame | None = None  # per-condition detail for the paper


@dataclass(frozen=True)
class Prediction:
    key: str
    claim: str
    experiments: tuple[str, ...]
    analyse: Callable[[dict[str, pd.DataFrame]], Verdict]


def load_results(name: str, root: Path = RESULTS_DIR) -> pd.DataFrame:
    """The committed results table ``results/paper/<name>/results.parquet``."""
    return pd.read_parquet(Path(root) / name / "results.parquet")


def config_value(df: pd.DataFrame, section: str, key: str, default=None) -> pd.Series:
    """``section.key`` of each row's resolved config (for settings that are not result columns)."""
    return df["config"].map(lambda c: json.loads(c)[section].get(key, default))


def by_seed(df: pd.DataFrame, mask: pd.Series, value: str) -> pd.Series:
    """Mean of ``value`` per seed over the rows in ``mask`` (index: seed)."""
    return df[mask].groupby("seed")[value].mean()


def paired(a: pd.Series, b: pd.Series):
    """Mean of the per-seed differences ``a − b`` (seeds present in both) with its 95% CI."""
    d = (a - b).dropna()
    return mean_ci(d.to_numpy())


def _fmt(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}f}" if math.isfinite(x) else str(x)


def _ci(r) -> str:
    return f"{_fmt(r.mean)} [{_fmt(r.low)}, {_fmt(r.high)}]"


# ------------------------------------------------------------------------------------------ P1
P1_MIN_R2 = 0.8  # "linear": a straight line through the per-locality means explains >= 80% of their variance


def analyse_p1(tables: dict[str, pd.DataFrame]) -> Verdict:
    """Gap against the sampled diameter Δ̂ (0.99-quantile) and the data-dependent T3 bound (Theorem 3′).

    confirmed: Pearson r(Δ̂, gap) over models has CI above 0 and R² of the line through the
    per-pool means ≥ P1_MIN_R2; conditional: r > 0 significantly but not linear; refuted otherwise.
    """
    df = tables["p01-gap-vs-diameter"].copy()
    B = float(config_value(df, "student", "norm_bound").iloc[0])
    # sphere worlds: ‖q‖ = 1, so ρ_∞ = Δ_max and ρ̂₂ = delta_rms
    df["bound"] = [
        t3_gap_bound(B, r.delta_rms, r.delta_max, int(r.n_train), DELTA, data_dependent=True) for r in df.itertuples()
    ]
    means = df.groupby("pool_size")[["delta_hat", "gap", "bound", "train_risk"]].mean()
    slope, intercept = np.polyfit(means["delta_hat"], means["gap"], 1)
    r2 = 1 - np.sum((means["gap"] - (slope * means["delta_hat"] + intercept)) ** 2) / np.sum(
        (means["gap"] - means["gap"].mean()) ** 2
    )
    corr = pearson_ci(df["delta_hat"], df["gap"])
    holds = float(np.mean(df["gap"] <= df["bound"]))
    tightness = means["bound"] / means["gap"]
    non_vacuous = float(np.mean(df["train_risk"] + df["bound"] < math.log(2)))
    if corr.low > 0 and r2 >= P1_MIN_R2:
        verdict = "confirmed"
    elif corr.low > 0:
        verdict = "conditional"
    else:
        verdict = "refuted"
    numbers = {
        "r": corr.r,
        "r_low": corr.low,
        "r_high": corr.high,
        "r2_means": float(r2),
        "slope": float(slope),
        "bound_holds": holds,
        "tightness_min": float(tightness.min()),
        "tightness_max": float(tightness.max()),
        "non_vacuous": non_vacuous,
    }
    summary = (
        f"r(Δ̂, gap) = {_fmt(corr.r)} [{_fmt(corr.low)}, {_fmt(corr.high)}] over {len(df)} models; a line through "
        f"the {len(means)} locality means has R² = {_fmt(r2, 2)} (slope {_fmt(slope)} nats per unit Δ̂); the T3 bound "
        f"holds in {holds:.0%} of models, is {_fmt(tightness.min(), 1)}-{_fmt(tightness.max(), 1)}× the mean gap, "
        f"and R̂ + bound < log 2 in {non_vacuous:.0%}"
    )
    table = means.assign(tightness=tightness).reset_index()
    return Verdict(verdict, summary, numbers, table)


# ------------------------------------------------------------------------------------------ P2
P2_FLOOR_TOL = 1e-4  # float32 round-off on a mean of ~10⁴ per-pair terms, far below any excess we report


def analyse_p2(tables: dict[str, pd.DataFrame]) -> Verdict:
    """T1: train risk − H(g) on the training groups must be ≥ 0 (up to round-off) for every model, and
    the test excess risk must fall from the smallest to the largest n_train (paired by seed).

    confirmed: floor never violated and the excess falls significantly in every (loss, τ) cell;
    conditional: floor holds, excess falls in some cells only; refuted: floor violated or never falls.
    """
    df = tables["p02-entropy-floor"].copy()
    df["train_excess"] = df["train_risk"] - floor_of(df["loss"], df)
    min_excess = float(min(df["train_excess"].min(), df["excess_risk"].min()))
    n_lo, n_hi = df["n_train"].min(), df["n_train"].max()
    rows = []
    for (loss, tau), cell in df.groupby(["loss", "tau"]):
        drop = paired(
            by_seed(cell, cell["n_train"] == n_lo, "excess_risk"), by_seed(cell, cell["n_train"] == n_hi, "excess_risk")
        )
        at_hi = cell[cell["n_train"] == n_hi]
        rows.append(
            {
                "loss": loss,
                "tau": tau,
                "floor": floor_of(at_hi["loss"], at_hi).mean(),
                "excess_small_n": cell[cell["n_train"] == n_lo]["excess_risk"].mean(),
                "excess_large_n": at_hi["excess_risk"].mean(),
                "drop_low": drop.low,
                "drop_high": drop.high,
            }
        )
    table = pd.DataFrame(rows)
    falls = int((table["drop_low"] > 0).sum())
    rel = float((table["excess_large_n"] / table["floor"]).max())
    if min_excess < -P2_FLOOR_TOL or falls == 0:
        verdict = "refuted"
    elif falls == len(table):
        verdict = "confirmed"
    else:
        verdict = "conditional"
    numbers = {"min_excess": min_excess, "cells_falling": falls, "cells": len(table), "max_relative_excess": rel}
    summary = (
        f"the smallest risk − H(g) over {len(df)} models is {min_excess:.2e} nats (never below the floor); from "
        f"n = {n_lo} to {n_hi} training groups the test excess falls significantly in {falls}/{len(table)} (loss, τ) "
        f"cells, and at n = {n_hi} it is at most {rel:.1%} of H(g)"
    )
    return Verdict(verdict, summary, numbers, table)


# ------------------------------------------------------------------------------------------ P3
P3_NEGLIGIBLE = 0.1  # interaction negligible: its η² is at most 10% of the larger main-effect η²


def _anova_row(df: pd.DataFrame, a: str, b: str) -> dict:
    aov = two_way_anova(df, a, b, "gap")
    inter = aov.loc[f"{a}:{b}"]
    main = max(aov.loc[a, "eta_sq"], aov.loc[b, "eta_sq"])
    return {
        "eta_sq_locality": aov.loc[a, "eta_sq"],
        "eta_sq_entropy": aov.loc[b, "eta_sq"],
        "eta_sq_interaction": inter["eta_sq"],
        "partial_eta_sq_interaction": inter["partial_eta_sq"],
        "p_interaction": inter["p"],
        "negligible": bool(inter["eta_sq"] <= P3_NEGLIGIBLE * main),
    }


def analyse_p3(tables: dict[str, pd.DataFrame]) -> Verdict:
    """Two-way ANOVA (Type II) of the gap on locality (pool size) × entropy, raw (factor τ) and
    entropy-matched (factor: target pairwise entropy, τ chosen per sampler and seed).

    confirmed: interaction negligible (η²_AB ≤ P3_NEGLIGIBLE · max main η²) in both designs;
    conditional: in one; refuted: in neither.
    """
    raw = _anova_row(tables["p03-additivity"], "pool_size", "tau")
    matched_df = tables["p03-additivity-matched"].assign(entropy=lambda d: config_value(d, "data", "match_entropy"))
    matched = _anova_row(matched_df, "pool_size", "entropy")
    table = pd.DataFrame(
        [{"design": "raw (pool × τ)", **raw}, {"design": "entropy-matched (pool × H_pair)", **matched}]
    )
    n_ok = int(raw["negligible"]) + int(matched["negligible"])
    verdict = {2: "confirmed", 1: "conditional", 0: "refuted"}[n_ok]
    numbers = {f"{d}_{k}": v for d, row in (("raw", raw), ("matched", matched)) for k, v in row.items()}
    summary = (
        f"raw design: interaction η² = {raw['eta_sq_interaction']:.3f} (p = {raw['p_interaction']:.2g}) against main "
        f"effects {raw['eta_sq_locality']:.3f} (locality) and {raw['eta_sq_entropy']:.3f} (τ); entropy-matched: "
        f"interaction η² = {matched['eta_sq_interaction']:.3f} (p = {matched['p_interaction']:.2g}) against "
        f"{matched['eta_sq_locality']:.3f} and {matched['eta_sq_entropy']:.3f}"
    )
    return Verdict(verdict, summary, numbers, table)


# ------------------------------------------------------------------------------------------ P4
P4_MARGIN = 0.02  # TOST equivalence margin on nDCG@10 (absolute)


def analyse_p4(tables: dict[str, pd.DataFrame]) -> Verdict:
    """Paired by seed: nDCG@10(local) − nDCG@10(uniform), per world (non-bilinear weight) and loss.

    Per world, the prediction holds when LCE's difference has a CI excluding 0 and KL's is TOST-
    equivalent to 0 within ±P4_MARGIN (both one-sided p < α).  confirmed: in every world;
    conditional: in some; refuted: in none.
    """
    df = tables["p04-hard-negatives"]
    hard, easy = df["pool_size"].min(), df["pool_size"].max()
    nonbilinear = config_value(df, "world", "nonbilinear", 0.0)
    rows = []
    for world in sorted(nonbilinear.unique()):
        row = {"nonbilinear": world}
        for loss in ("lce", "kl"):
            cell = (nonbilinear == world) & (df["loss"] == loss)
            a, b = (
                by_seed(df, cell & (df["pool_size"] == hard), "ndcg10"),
                by_seed(df, cell & (df["pool_size"] == easy), "ndcg10"),
            )
            d = paired(a, b)
            t = tost(a.sort_index(), b.sort_index(), P4_MARGIN, ALPHA, paired=True)
            row.update(
                {
                    f"{loss}_diff": d.mean,
                    f"{loss}_low": d.low,
                    f"{loss}_high": d.high,
                    f"{loss}_tost_p": t.p,
                    f"{loss}_equivalent": t.equivalent,
                }
            )
        row["holds"] = bool((row["lce_low"] > 0 or row["lce_high"] < 0) and row["kl_equivalent"])
        rows.append(row)
    table = pd.DataFrame(rows)
    n = int(table["holds"].sum())
    verdict = "confirmed" if n == len(table) else "conditional" if n else "refuted"
    parts = [
        f"γ = {r.nonbilinear:g}: LCE Δ = {_fmt(r.lce_diff)} [{_fmt(r.lce_low)}, {_fmt(r.lce_high)}], KL Δ = "
        f"{_fmt(r.kl_diff)} [{_fmt(r.kl_low)}, {_fmt(r.kl_high)}] (TOST p = {r.kl_tost_p:.2g}, "
        f"{'equivalent' if r.kl_equivalent else 'not equivalent'})"
        for r in table.itertuples()
    ]
    numbers = {"worlds_holding": n, "worlds": len(table), "margin": P4_MARGIN, "seeds": int(df["seed"].nunique())}
    summary = f"nDCG@10(pool {hard:g}) − nDCG@10(uniform), ±{P4_MARGIN} margin, {numbers['seeds']} seeds: " + "; ".join(
        parts
    )
    return Verdict(verdict, summary, numbers, table)


# ------------------------------------------------------------------------------------------ P5
P5_MARGIN = 0.02  # TOST margin on nDCG@10 for "does not hurt" / "does not help"


def analyse_p5(tables: dict[str, pd.DataFrame]) -> Verdict:
    """False-negative share ρ = 1 − η. Per loss, paired by seed: harm = nDCG(ρ = 0) − nDCG(ρ_max), both
    unfiltered; filter gain = nDCG(ρ_max, filtered) − nDCG(ρ_max, unfiltered).

    confirmed: LCE harm and gain > 0 (CI) and KL harm and gain TOST-equivalent to 0 (±P5_MARGIN);
    conditional: the LCE part holds but not the KL part; refuted: LCE harm not > 0.
    """
    df = tables["p05-false-negatives"]
    rho = 1 - df["eta"]
    clean, dirty = rho == rho.min(), rho == rho.max()
    filtered = df["sampler"].str.endswith("+filter")
    rows = []
    for loss in ("lce", "kl"):
        m = df["loss"] == loss
        base = by_seed(df, m & dirty & ~filtered, "ndcg10")
        harm_a, gain_a = by_seed(df, m & clean & ~filtered, "ndcg10"), by_seed(df, m & dirty & filtered, "ndcg10")
        harm, gain = paired(harm_a, base), paired(gain_a, base)
        eq_harm = tost(harm_a.sort_index(), base.sort_index(), P5_MARGIN, ALPHA, paired=True)
        eq_gain = tost(gain_a.sort_index(), base.sort_index(), P5_MARGIN, ALPHA, paired=True)
        rows.append(
            {
                "loss": loss,
                "harm": harm.mean,
                "harm_low": harm.low,
                "harm_high": harm.high,
                "harm_equivalent_0": eq_harm.equivalent,
                "gain": gain.mean,
                "gain_low": gain.low,
                "gain_high": gain.high,
                "gain_equivalent_0": eq_gain.equivalent,
            }
        )
    table = pd.DataFrame(rows).set_index("loss")
    lce, kl = table.loc["lce"], table.loc["kl"]
    lce_ok = lce["harm_low"] > 0 and lce["gain_low"] > 0
    kl_ok = bool(kl["harm_equivalent_0"] and kl["gain_equivalent_0"])
    verdict = "refuted" if lce["harm_low"] <= 0 else "confirmed" if lce_ok and kl_ok else "conditional"
    numbers = {f"{loss}_{k}": float(v) for loss, r in table.iterrows() for k, v in r.items()}
    summary = (
        f"with {rho.max():.0%} false negatives in the pool: LCE loses {_fmt(lce['harm'])} nDCG@10 "
        f"[{_fmt(lce['harm_low'])}, {_fmt(lce['harm_high'])}] and the filter gives back {_fmt(lce['gain'])} "
        f"[{_fmt(lce['gain_low'])}, {_fmt(lce['gain_high'])}]; KL loses {_fmt(kl['harm'])} [{_fmt(kl['harm_low'])}, "
        f"{_fmt(kl['harm_high'])}] ({'equivalent to 0' if kl['harm_equivalent_0'] else 'not equivalent to 0'} at "
        f"±{P5_MARGIN}) and the filter changes it by {_fmt(kl['gain'])} [{_fmt(kl['gain_low'])}, {_fmt(kl['gain_high'])}]"
    )
    return Verdict(verdict, summary, numbers, table.reset_index())


# ------------------------------------------------------------------------------------------ P6


def analyse_p6(tables: dict[str, pd.DataFrame]) -> Verdict:
    """Per (teacher noise, test shift): nDCG@10 over τ (i.e. over teacher entropy) is an inverted U when
    its maximum is at an interior τ and both end τs are below the peak (paired CIs above 0); the shift
    effect is nDCG(shift) − nDCG(no shift) at each cell's peak τ (paired).

    confirmed: inverted U in every cell and the shift lowers the peak in every noise level;
    conditional: inverted U in some cells; refuted: in none.
    """
    df = tables["p06-entropy-quality"]
    taus = sorted(df["tau"].unique())
    rows = []
    for (noise, shift), cell in df.groupby(["teacher_noise", "test_shift"]):
        means = cell.groupby("tau")["ndcg10"].mean()
        peak = float(means.idxmax())
        at = {t: by_seed(cell, cell["tau"] == t, "ndcg10") for t in (taus[0], peak, taus[-1])}
        rise, fall = paired(at[peak], at[taus[0]]), paired(at[peak], at[taus[-1]])
        interior = taus[0] < peak < taus[-1]
        rows.append(
            {
                "teacher_noise": noise,
                "test_shift": shift,
                "peak_tau": peak,
                "peak_ndcg": means.max(),
                "peak_entropy": cell[cell["tau"] == peak]["entropy_list"].mean(),
                "rise_low": rise.low,
                "fall_low": fall.low,
                "inverted_u": bool(interior and rise.low > 0 and fall.low > 0),
            }
        )
    table = pd.DataFrame(rows)
    shifts = sorted(df["test_shift"].unique())
    shift_effects = []
    for noise, cell in df.groupby("teacher_noise"):
        peak = table[(table["teacher_noise"] == noise) & (table["test_shift"] == shifts[0])]["peak_tau"].iloc[0]
        at_peak = cell[cell["tau"] == peak]
        shift_effects.append(
            paired(
                by_seed(at_peak, at_peak["test_shift"] == shifts[-1], "ndcg10"),
                by_seed(at_peak, at_peak["test_shift"] == shifts[0], "ndcg10"),
            )
        )
    n_u = int(table["inverted_u"].sum())
    shift_worse = all(e.high < 0 for e in shift_effects)
    verdict = "confirmed" if n_u == len(table) and shift_worse else "conditional" if n_u else "refuted"
    numbers = {
        "cells_inverted_u": n_u,
        "cells": len(table),
        "shift_effect_max": max(e.mean for e in shift_effects),
        "shift_worse": shift_worse,
    }
    peaks = ", ".join(
        f"noise {r.teacher_noise:g}/shift {r.test_shift:g}: τ* = {r.peak_tau:g} (H = {r.peak_entropy:.2f} nats)"
        for r in table.itertuples()
    )
    summary = (
        f"inverted U in {n_u}/{len(table)} (noise, shift) cells ({peaks}); the shift of {shifts[-1]:g} changes the "
        f"peak nDCG@10 by " + " and ".join(_ci(e) for e in shift_effects) + " (noise levels in increasing order)"
    )
    return Verdict(verdict, summary, numbers, table)


# ------------------------------------------------------------------------------------------ P7
P7_HARDLY = 0.5  # "hardly": the cone world's relative shrinkage is at most half the isotropic one's


def analyse_p7(tables: dict[str, pd.DataFrame]) -> Verdict:
    """Relative shrinkage 1 − Δ̂(hardest pool)/Δ̂(uniform), per seed, per geometry and normalisation.

    Per normalisation (raw vectors / unit sphere) the prediction holds when the isotropic shrinkage has
    a CI above 0 and the cone's mean is ≤ P7_HARDLY × the isotropic one; it fails when the isotropic
    world does not shrink or the cone shrinks at least as much.  confirmed: holds for every
    normalisation; refuted: fails for every normalisation; conditional otherwise.
    """
    df = tables["p07-diameter-geometry"]
    hard, easy = df["pool_size"].min(), df["pool_size"].max()
    rows = []
    for world, cell in df.groupby("world"):
        ratio = by_seed(cell, cell["pool_size"] == hard, "delta_hat") / by_seed(
            cell, cell["pool_size"] == easy, "delta_hat"
        )
        r = mean_ci((1 - ratio).to_numpy())
        geometry, _, sphere = world.partition("-")
        rows.append(
            {
                "geometry": geometry,
                "vectors": "unit sphere" if sphere else "raw",
                "shrink": r.mean,
                "low": r.low,
                "high": r.high,
            }
        )
    table = pd.DataFrame(rows)
    outcomes, parts = [], []
    for vectors, cell in table.groupby("vectors"):
        iso, cone = cell.set_index("geometry").loc["isotropic"], cell.set_index("geometry").loc["cone"]
        holds = iso["low"] > 0 and cone["shrink"] <= P7_HARDLY * iso["shrink"]
        fails = iso["low"] <= 0 or cone["shrink"] >= iso["shrink"]
        outcomes.append("holds" if holds else "fails" if fails else "partial")
        parts.append(
            f"{vectors} vectors: isotropic {iso['shrink']:.3f} [{iso['low']:.3f}, {iso['high']:.3f}], cone "
            f"{cone['shrink']:.3f} [{cone['low']:.3f}, {cone['high']:.3f}] ({cone['shrink'] / iso['shrink']:.2f}×)"
        )
    verdict = "confirmed" if set(outcomes) == {"holds"} else "refuted" if set(outcomes) == {"fails"} else "conditional"
    numbers = {f"shrink_{r.geometry}_{r.vectors.replace(' ', '_')}": r.shrink for r in table.itertuples()}
    summary = f"pool {hard:g} instead of the whole corpus shrinks Δ̂ by (relative, 95% CI) " + "; ".join(parts)
    return Verdict(verdict, summary, numbers, table)


# ------------------------------------------------------------------------------------------ P8
P8_KAPPA_RTOL = 1e-6  # κ_η formula against measured κ (float64 arithmetic on float32 proxies)


def analyse_p8(tables: dict[str, pd.DataFrame]) -> Verdict:
    """(a) κ at η = 0 grows with β; (b) measured κ at η > 0 equals κ_η(κ(η = 0), η) ≤ 1/η (T4, exact);
    (c) per (world, β > 0): the bound's η* (``theory.optimal_eta`` with the measured κ, train and target
    risk at η = 0, ρ̂₂ and ρ_∞ from the groups) predicts help iff η* > 0; realised help iff some η > 0
    has target risk below η = 0 (paired CI).

    confirmed: (a), (b) and (c) agree in every cell; conditional: (a), (b) and (c) in some cells;
    refuted otherwise.
    """
    df = tables["p08-augmentation"].assign(
        nonbilinear=lambda d: config_value(d, "world", "nonbilinear", 0.0),
        beta=lambda d: config_value(d, "sampler", "beta"),
    )
    B = float(config_value(df, "student", "norm_bound").iloc[0])
    base = df[df["eta"] == 0]
    kappa_by_beta = base.groupby("beta")["kappa"].mean()
    grows = bool(np.all(np.diff(np.log(kappa_by_beta.to_numpy())) > 0))
    ref = base.groupby(["nonbilinear", "beta", "seed"])["kappa"].first()
    mixed = df[df["eta"] > 0]
    predicted = kappa_eta(
        ref.loc[list(zip(mixed["nonbilinear"], mixed["beta"], mixed["seed"]))].to_numpy(), mixed["eta"].to_numpy()
    )
    kappa_err = float(np.max(np.abs(predicted - mixed["kappa"].to_numpy()) / mixed["kappa"].to_numpy()))
    capped = bool(np.all(mixed["kappa"] <= 1 / mixed["eta"] * (1 + P8_KAPPA_RTOL)))
    rows = []
    for (world, beta), cell in df[df["beta"] > 0].groupby(["nonbilinear", "beta"]):
        at0, at1 = cell[cell["eta"] == 0], cell[cell["eta"] == cell["eta"].max()]
        eta_star, _ = optimal_eta(
            at0["kappa"].mean(),
            at0["train_risk"].mean(),
            at0["target_risk"].mean(),
            B=B,
            rho2_nu=at0["delta_rms"].mean(),
            rho2_mu=at1["delta_rms"].mean(),
            rho_inf=at1["delta_max"].max(),
            n=int(cell["n_train"].iloc[0]),
            delta=DELTA,
        )
        r0 = by_seed(cell, cell["eta"] == 0, "target_risk")
        gains = {
            e: paired(r0, by_seed(cell, cell["eta"] == e, "target_risk")) for e in sorted(cell["eta"].unique()) if e > 0
        }
        best = max(gains, key=lambda e: gains[e].mean)
        helps = any(g.low > 0 for g in gains.values())
        rows.append(
            {
                "nonbilinear": world,
                "beta": beta,
                "kappa": at0["kappa"].mean(),
                "eta_star": eta_star,
                "best_eta": best,
                "gain": gains[best].mean,
                "gain_low": gains[best].low,
                "gain_high": gains[best].high,
                "predicted_help": eta_star > 0,
                "realised_help": helps,
                "match": (eta_star > 0) == helps,
            }
        )
    table = pd.DataFrame(rows)
    n_match = int(table["match"].sum())
    ok = grows and capped and kappa_err < P8_KAPPA_RTOL
    verdict = "confirmed" if ok and n_match == len(table) else "conditional" if ok and n_match else "refuted"
    numbers = {
        "kappa_grows": grows,
        "kappa_capped": capped,
        "kappa_eta_rel_error": kappa_err,
        "cells_matching": n_match,
        "cells": len(table),
    }
    cells = "; ".join(
        f"γ = {r.nonbilinear:g}, β = {r.beta:g}: κ = {r.kappa:.3g}, η* = {r.eta_star:.2f}, best η = {r.best_eta:g} lowers "
        f"the target risk by {_fmt(r.gain)} [{_fmt(r.gain_low)}, {_fmt(r.gain_high)}]"
        for r in table.itertuples()
    )
    summary = (
        f"κ at η = 0 is {', '.join(f'{k:.3g}' for k in kappa_by_beta)} for β = {', '.join(f'{b:g}' for b in kappa_by_beta.index)}; "
        f"κ_η matches the formula to {kappa_err:.1e} and never exceeds 1/η; the bound's prescription matches the "
        f"realised benefit in {n_match}/{len(table)} cells ({cells})"
    )
    return Verdict(verdict, summary, numbers, table)


# ------------------------------------------------------------------------------------------ P9


def analyse_p9(tables: dict[str, pd.DataFrame]) -> Verdict:
    """Harm of a training-query selection = nDCG(all) − nDCG(selection), paired by seed, per test shift.

    confirmed: extreme-entropy harm under shift > 0 (CI) and larger than without shift (paired CI of
    the difference > 0); conditional: harm under shift > 0 but not larger than without; refuted otherwise.
    """
    df = tables["p09-extreme-entropy"]
    sel = config_value(df, "data", "train_queries", "all")
    shifts = sorted(df["test_shift"].unique())
    harms, rows = {}, []
    for shift in shifts:
        at = df["test_shift"] == shift
        ref = by_seed(df, at & (sel == "all"), "ndcg10")
        for choice in ("low_entropy", "high_entropy", "extreme_entropy"):
            h = ref - by_seed(df, at & (sel == choice), "ndcg10")
            harms[(choice, shift)] = h
            r = mean_ci(h.dropna().to_numpy())
            rows.append({"selection": choice, "test_shift": shift, "harm": r.mean, "low": r.low, "high": r.high})
    table = pd.DataFrame(rows)
    shifted = mean_ci(harms[("extreme_entropy", shifts[-1])].to_numpy())
    more = paired(harms[("extreme_entropy", shifts[-1])], harms[("extreme_entropy", shifts[0])])
    verdict = "confirmed" if shifted.low > 0 and more.low > 0 else "conditional" if shifted.low > 0 else "refuted"
    numbers = {
        "harm_shifted": shifted.mean,
        "harm_shifted_low": shifted.low,
        "harm_increase": more.mean,
        "harm_increase_low": more.low,
        "harm_increase_high": more.high,
    }
    summary = (
        f"training only on extreme-entropy queries costs {_ci(shifted)} nDCG@10 under a shift of {shifts[-1]:g}, "
        f"{_ci(more)} more than without shift"
    )
    return Verdict(verdict, summary, numbers, table)


# ------------------------------------------------------------------------------------------ P10


def analyse_p10(tables: dict[str, pd.DataFrame]) -> Verdict:
    """Per-query correlation, as theory.md states P10: each model's ``kl_ndcg_corr`` is Spearman's ρ across
    its evaluation queries between per-query KL(teacher‖student) over the corpus and per-query nDCG@10;
    the statistic is its mean with a 95% t-interval over the models of a loss (samplers × seeds; models
    whose ρ is NaN because nDCG or KL is constant across queries are left out and counted).

    confirmed: the CI over all models and every loss's CI lie below 0; conditional: some loss's CI lies
    below 0; refuted otherwise.  Secondary: Spearman ρ of the per-model means (kl_corpus, ndcg10) across
    models, overall and within each loss, reported but not used for the verdict.
    """
    df = tables["p10-kl-ndcg"]
    groups = [("all", df), *df.groupby("loss")]
    rows, per_query = [], {}
    for loss, part in groups:
        corr = part["kl_ndcg_corr"].dropna()
        r = per_query[loss] = mean_ci(corr.to_numpy())
        across = spearman(part["kl_corpus"], part["ndcg10"])
        rows.append(
            {
                "loss": loss,
                "per_query_rho": r.mean,
                "low": r.low,
                "high": r.high,
                "models": r.n,
                "nan_models": len(part) - len(corr),
                "across_model_rho": across.r,
            }
        )
    table = pd.DataFrame(rows)
    by_loss = {k: r for k, r in per_query.items() if k != "all"}
    negative = [k for k, r in by_loss.items() if r.high < 0]
    overall = per_query["all"]
    verdict = (
        "confirmed" if overall.high < 0 and len(negative) == len(by_loss) else "conditional" if negative else "refuted"
    )
    numbers = {
        "rho": overall.mean,
        "rho_low": overall.low,
        "rho_high": overall.high,
        **{f"rho_{k}": r.mean for k, r in by_loss.items()},
        **{f"across_model_rho_{row['loss']}": row["across_model_rho"] for row in rows},
    }
    summary = (
        f"per-query Spearman ρ(KL, nDCG@10) averaged over {overall.n} models = {_ci(overall)}; per loss "
        + ", ".join(f"{k} {_ci(r)}" for k, r in by_loss.items())
        + f"; CI below 0 for {', '.join(negative) or 'no loss'}, above 0 for "
        + (", ".join(k for k, r in by_loss.items() if r.low > 0) or "no loss")
        + f"; across models (secondary) ρ = {_fmt(rows[0]['across_model_rho'])}"
    )
    return Verdict(verdict, summary, numbers, table)


# ------------------------------------------------------------------------------------------ P11


def analyse_p11(tables: dict[str, pd.DataFrame]) -> Verdict:
    """Group-size effect e = nDCG(k_max) − nDCG(k_min) per seed, per (loss, sampler); under local
    negatives D = |e_LCE| − |e_KL| per seed (signs taken from the seed means).

    confirmed: D's CI above 0; refuted: D's CI does not lie above 0.
    """
    df = tables["p11-group-size"]
    k_lo, k_hi = df["group_size"].min(), df["group_size"].max()
    effects, rows = {}, []
    for (loss, pool), cell in df.groupby(["loss", "pool_size"]):
        e = by_seed(cell, cell["group_size"] == k_hi, "ndcg10") - by_seed(cell, cell["group_size"] == k_lo, "ndcg10")
        effects[(loss, pool)] = e
        r = mean_ci(e.to_numpy())
        rows.append({"loss": loss, "pool_size": pool, "effect": r.mean, "low": r.low, "high": r.high})
    table = pd.DataFrame(rows)
    local = df["pool_size"].min()
    e_lce, e_kl = effects[("lce", local)], effects[("kl", local)]
    d = mean_ci((np.sign(e_lce.mean()) * e_lce - np.sign(e_kl.mean()) * e_kl).dropna().to_numpy())
    verdict = "confirmed" if d.low > 0 else "refuted"
    numbers = {"d": d.mean, "d_low": d.low, "d_high": d.high}
    summary = (
        f"with local negatives (pool {local:g}) going from k = {k_lo} to {k_hi} changes nDCG@10 by "
        f"{_ci(mean_ci(e_lce.to_numpy()))} under LCE and {_ci(mean_ci(e_kl.to_numpy()))} under KL; |LCE| − |KL| = {_ci(d)}"
    )
    return Verdict(verdict, summary, numbers, table)


# ------------------------------------------------------------------------------------------ P12


def analyse_p12(tables: dict[str, pd.DataFrame]) -> Verdict:
    """Rank samplers by nDCG@10: single-seed agreement with the all-seed ranking (``rank_stability``) and
    paired, Holm-adjusted significance of every pairwise order (``pairwise_rank_significance``).

    confirmed: single seeds disagree with the all-seed ranking (mean Kendall τ < 1) and some pairwise
    orders are not significant, i.e. a one-seed ranking would report noise; conditional: every order is
    significant though single seeds disagree; refuted: every seed reproduces the ranking.
    """
    df = tables["p12-seed-noise"]
    stab = rank_stability(df, "pool_size", "ndcg10")
    pairs = pairwise_rank_significance(df, "pool_size", "ndcg10", alpha=ALPHA, adjust="holm")
    n_sig = int(pairs["significant"].sum())
    disagree = stab["mean_kendall_tau"] < 1
    verdict = "refuted" if not disagree else "confirmed" if n_sig < len(pairs) else "conditional"
    numbers = {
        "top1": float(stab["top1"]),
        "top1_fraction": stab["top1_fraction"],
        "mean_kendall_tau": stab["mean_kendall_tau"],
        "significant_pairs": n_sig,
        "pairs": len(pairs),
        "seeds": stab["n_seeds"],
    }
    summary = (
        f"over {stab['n_seeds']} seeds the best pool ({stab['top1']:g}) wins on {stab['top1_fraction']:.0%} of single "
        f"seeds, a single seed's ranking has mean Kendall τ = {stab['mean_kendall_tau']:.2f} with the all-seed one, and "
        f"only {n_sig}/{len(pairs)} pairwise orders are significant (paired t, Holm, α = {ALPHA})"
    )
    return Verdict(verdict, summary, numbers, pairs)


PREDICTIONS = {
    p.key: p
    for p in [
        Prediction("P1", "the gap grows linearly in Δ_Q at fixed τ; T3 is tight", ("p01-gap-vs-diameter",), analyse_p1),
        Prediction("P2", "trained risk floors at H(g)", ("p02-entropy-floor",), analyse_p2),
        Prediction(
            "P3",
            "locality × entropy interaction on the gap is negligible",
            ("p03-additivity", "p03-additivity-matched"),
            analyse_p3,
        ),
        Prediction(
            "P4", "hard negatives change nDCG@10 under LCE, not under distillation", ("p04-hard-negatives",), analyse_p4
        ),
        Prediction(
            "P5",
            "false negatives hurt LCE, not distillation; filtering helps LCE only",
            ("p05-false-negatives",),
            analyse_p5,
        ),
        Prediction(
            "P6",
            "quality is inverted-U in teacher entropy, worst under domain shift",
            ("p06-entropy-quality",),
            analyse_p6,
        ),
        Prediction(
            "P7",
            "hard sampling shrinks Δ̂ in isotropic worlds, hardly in cone worlds",
            ("p07-diameter-geometry",),
            analyse_p7,
        ),
        Prediction(
            "P8", "κ grows with hardness, mixing caps it, η's benefit matches T4", ("p08-augmentation",), analyse_p8
        ),
        Prediction(
            "P9",
            "extreme-entropy training queries hurt shifted-domain quality most",
            ("p09-extreme-entropy",),
            analyse_p9,
        ),
        Prediction(
            "P10", "per-query KL(teacher‖student) correlates negatively with nDCG@10", ("p10-kl-ndcg",), analyse_p10
        ),
        Prediction(
            "P11",
            "group size matters more under LCE with local negatives than under distillation",
            ("p11-group-size",),
            analyse_p11,
        ),
        Prediction("P12", "sampler rankings that do not survive ≥ 5 seeds are noise", ("p12-seed-noise",), analyse_p12),
    ]
}


def experiments_needed() -> list[str]:
    """Every experiment the predictions read, in order."""
    return [name for p in PREDICTIONS.values() for name in p.experiments]


def verdicts(root: Path = RESULTS_DIR) -> dict[str, Verdict]:
    """Every prediction's verdict from the results tables under ``root``."""
    out = {}
    for key, p in PREDICTIONS.items():
        out[key] = p.analyse({name: load_results(name, root) for name in p.experiments})
    return out
