"""The rows of ``simrank theory check``: every statement T1-T6 compared with code, each with a negative control.

A row is a function ``row(measured, control=False) -> Check``. The real row compares the statement's two sides
and holds only within the stated margin (round-off, a χ² quantile, the allowed number of violations of a
level-δ bound), so it can fail. With ``control=True`` the same comparison is made with one deliberately wrong
constant or perturbed quantity, named in :data:`CONTROLS`; a valid check must flag it (``holds`` is False), which
``tests/test_theory_check.py`` asserts for every row.

:func:`run_checks` measures once (the Monte Carlo runs are the expensive part) and judges every row, reporting
each one as it is ready (``on_row``); :func:`paper_blocks` writes the generated blocks of ``paper/theory.md``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TypedDict

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from simrank.errors import ConfigError
from simrank.groups import sampling_distribution
from simrank.paths import RESULTS_DIR
from simrank.samplers import Tempered
from simrank.theory import bounds as T
from simrank.theory import eta_star as ES
from simrank.theory import monte_carlo as MC
from simrank.theory import prediction as PR

__all__ = [
    "CONTROLS",
    "ETA_STAR_START",
    "EXCESS_START",
    "FLOOR_START",
    "LOWER_START",
    "MARKERS",
    "P8_START",
    "PAPER_START",
    "TIGHTNESS_START",
    "update_paper",
    "FORMULA_RTOL",
    "GLOBAL_CONTROL_FACTOR",
    "LOWER_BOUND_CHECK",
    "LOWER_BOUND_PAPER",
    "LowerBoundRun",
    "ROUND_OFF",
    "exact_measurements",
    "exact_rows",
    "monte_carlo_rows",
    "p8_block",
    "paper_blocks",
    "run_checks",
]

ROUND_OFF = 1e-9  # float64 identities: |difference| below this counts as equal


#: Proposition 3LB check: two cell counts D (D < n and D ≈ n) × three spacings s, 100 samples of n = 1000 pairs.
class LowerBoundRun(TypedDict):
    """Keyword arguments of :func:`simrank.theory.monte_carlo.lower_bound_monte_carlo` for one run."""

    spacings: tuple[float, ...]
    cells: tuple[int, ...]
    n: int
    reps: int


LOWER_BOUND_CHECK: LowerBoundRun = {"spacings": (0.5, 1.0, 2.0), "cells": (64, 1024), "n": 1000, "reps": 100}
#: The paper's run adds D = 40,000 (D ≫ n) and s = 4.
LOWER_BOUND_PAPER: LowerBoundRun = {
    "spacings": (0.25, 0.5, 1.0, 2.0, 4.0),
    "cells": (64, 1024, 40_000),
    "n": 1000,
    "reps": 200,
}
#: Proposition 3LB(b) is first order in A = BRs: it is checked where A ≤ 1 and D ≥ n (to FORMULA_RTOL).
FORMULA_RTOL = 0.05
#: The global bounds of Theorem 3 are 175-570× the mean gap here; their control divides them by this.
GLOBAL_CONTROL_FACTOR = 1000.0

#: Statement -> the deliberately wrong constant or perturbed quantity of its negative control.
CONTROLS = {
    "T1": "entropy term dropped: max |CE − KL|",
    "T2": "listwise constant log(1 + (k−1)e^a) replaced by log(k−1) + a, on the extremal group",
    "T4 κ_η": "wrong interpolation 1/((1−η)/κ + ηκ)",
    "T4 R_μ ≤ κR_ν": "κ replaced by 0.99 κ, with a loss concentrated on argmax μ/ν",
    "T5 LCE": "closed form without the −log ν term",
    "T5 KL": "closed form g instead of g/τ (τ = 0.5)",
    "T5 IW": "unweighted LCE optimum against log(p/u)",
    "T6 monotone": "the curve mixing with ρ ≠ μ",
    "T6 ρ≠μ": "the curve mixing with μ",
    "T6 identity": "bias measured with M_ν instead of M_μ",
    "T1 MC": "floor H(g) overstated by 10%",
    "T3 MC": f"global bounds divided by {GLOBAL_CONTROL_FACTOR:g}",
    "T3-local": "localised bound divided by the config's control_factor (20)",
    "T3-lower": "lower bound with constant 1 instead of ½ − p₀",
    "T5 MC": "χ² statistic and KL error against the closed forms without −log ν and without 1/τ",
    "T6 MC": "χ² statistic of ŵ against the uniform law's minimiser w_μ",
    "T7 MSE bound": "λ_η halved, at w far along the top direction of M_η^{-½} M_T M_η^{-½}",
    "T7 excess MC": "the bias alone as the prediction (the 1/n terms V and D dropped)",
    "T7 η*(n)": "the rule that ignores n (η* fixed at its largest-n value)",
    "T7 η* = 0": "the rule always η = 1",
}


def _row(statement: str, compared: str, value: float, holds: bool, detail: str, control: bool) -> T.Check:
    if control:
        detail = f"negative control: {CONTROLS[statement]}; {detail}"
    return T.Check(statement, compared, float(value), bool(holds), detail)


# ============================================================================ exact rows


def exact_measurements(seed: int = 0) -> dict:
    """The random draws of the exact rows (groups, laws and scorers), drawn once from ``seed``."""
    rng = np.random.default_rng(seed)
    t2_groups = []
    for _ in range(200):
        d, k = 3, int(rng.integers(2, 7))
        t2_groups.append(
            (
                rng.normal(size=(d, d)),
                rng.normal(size=(d, d)),
                rng.normal(size=d),
                rng.normal(size=(k, d)),
                float(rng.uniform(0.2, 3)),
            )
        )
    mu = np.full(5, 0.2)
    change = []
    for _ in range(100):
        p, nu = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(5))
        change.append((p, nu, T.excess_ranknet_pairs(rng.normal(size=5), rng.normal(size=5), 1.0)))
    return {
        "t1": (rng.normal(0, 3, (200, 6)), rng.normal(0, 3, (200, 6))),
        "t2": t2_groups,
        "mu": mu,
        "kappa_nu": rng.dirichlet(np.ones(5), 50),
        "change": change,
        "t5": (np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.3, 0.5])),
        "t7": PR.excess_exact_rows(rng),
    }


def _t1_row(m: dict, control: bool = False) -> T.Check:
    f, g = m["t1"]
    parts = T.entropy_decomposition(f, g, 0.7)
    entropy = 0.0 if control else 1.0  # the control drops H
    res = float(
        max(
            np.abs(parts["listwise_ce"] - entropy * parts["listwise_h"] - parts["listwise_kl"]).max(),
            np.abs(parts["pairwise_ce"] - entropy * parts["pairwise_h"] - parts["pairwise_kl"]).max(),
        )
    )
    return _row(
        "T1", "max |CE − H − KL| (listwise & pairwise), 200 groups", res, res < ROUND_OFF, "float64 round-off", control
    )


def _t2_row(m: dict, control: bool = False) -> T.Check:
    listwise: Callable[[int, float], ArrayLike] = (
        (lambda k, a: np.log(k - 1) + a) if control else T.sharp_listwise_bound
    )
    margins = [
        min(T.t2_margins(W, A, q, docs, tau, listwise_bound=listwise).values()) for W, A, q, docs, tau in m["t2"]
    ]
    tight = T.t2_margins(*T.t2_extremal_group(4, 1.0), 1.0, listwise_bound=listwise)["lce"]
    worst = min(*margins, tight)
    return _row(
        "T2",
        "min (bound − loss), 6 losses × 200 groups and the extremal group",
        worst,
        worst >= -ROUND_OFF,
        f"listwise bound on the extremal group (k=4, LΔ=1): slack {tight:.1e} (sharp: attained)",
        control,
    )


def _wrong_kappa_eta(kappa_value: ArrayLike, eta: float) -> np.ndarray:
    kappa_value = np.asarray(kappa_value)
    return 1.0 / ((1 - eta) / kappa_value + eta * kappa_value)


def _kappa_eta_row(m: dict, control: bool = False) -> T.Check:
    formula = _wrong_kappa_eta if control else T.kappa_eta
    errs = [T.kappa_eta_error(m["mu"][None], m["kappa_nu"], eta, formula=formula) for eta in (0.1, 0.5, 0.9)]
    return _row(
        "T4 κ_η",
        "max rel. error of 1/((1−η)/κ+η) vs measured κ(μ, ν_η)",
        max(errs),
        max(errs) < 1e-12,
        "150 random ν",
        control,
    )


def _change_of_measure_row(m: dict, control: bool = False) -> T.Check:
    mu = m["mu"]
    p, nu, _ = m["change"][0]
    worst_pair = np.zeros((5, 5))
    worst_pair[:, int(np.argmax(mu / nu))] = 1.0  # all the loss on the document where μ/ν is largest: equality
    cases = [*m["change"], (p, nu, worst_pair)]
    factor = 0.99 if control else 1.0
    margins = [T.change_of_measure_margin(p, nu, mu, loss, kappa_factor=factor) for p, nu, loss in cases]
    return _row(
        "T4 R_μ ≤ κR_ν",
        "min (κ R_ν − R_μ), excess soft RankNet on pairs and the extremal loss",
        min(margins),
        min(margins) >= -ROUND_OFF,
        f"100 random (p, ν, f, g); extremal margin {margins[-1]:.1e}",
        control,
    )


def _t5_lce_row(m: dict, control: bool = False) -> T.Check:
    p, nu = m["t5"]
    closed = (lambda p, nu: T.centred(np.log(p))) if control else T.lce_optimum
    err = max(T.t5_lce_error(p, nu, k, closed_form=closed) for k in (2, 3, 4))
    return _row(
        "T5 LCE",
        "max |argmin exact LCE risk − (log p − log ν)|, k=2,3,4",
        err,
        err < 1e-6,
        "BFGS + Newton on all N^k groups",
        control,
    )


def _t5_kl_row(m: dict, control: bool = False) -> T.Check:
    p, nu = m["t5"]
    closed = (lambda g, tau: T.centred(g)) if control else T.distill_optimum
    err = T.t5_distill_error(p, nu, np.array([1.0, 0.3, -2.0]), 0.5, 3, closed_form=closed)
    return _row("T5 KL", "max |argmin exact KL risk − g/τ|", err, err < 1e-6, "k=3, τ=0.5", control)


def _t5_iw_row(m: dict, control: bool = False) -> T.Check:
    p, nu = m["t5"]
    weights = None if control else (1 / 3) / nu
    found = T.lce_population_optimum(p, nu, 3, doc_weights=weights)[0]
    err = float(np.abs(found - T.centred(np.log(p * 3))).max())
    return _row("T5 IW", "all-terms weighted LCE optimum vs log(p/u)", err, err < 1e-6, "correction 10, k=3", control)


def _t6_monotone_row(m: dict, control: bool = False) -> T.Check:
    with_mu, with_rho = T.counterexample_curves(np.linspace(0, 1, 21))
    curve = with_rho if control else with_mu
    return _row(
        "T6 monotone",
        "B(η) mixing with μ non-increasing (max increase)",
        float(np.diff(curve).max()),
        T.is_non_increasing(curve),
        "correction 11: spec's non-monotonicity claim is false",
        control,
    )


def _t6_rho_row(m: dict, control: bool = False) -> T.Check:
    with_mu, with_rho = T.counterexample_curves(np.linspace(0, 1, 21))
    curve = with_mu if control else with_rho
    return _row(
        "T6 ρ≠μ",
        "B_μ(η) mixing with ρ ≠ μ is non-monotone (max increase > 0)",
        float(np.diff(curve).max()),
        not T.is_non_increasing(curve),
        f"B(0)={curve[0]:.6f}, B(1/2)={curve[10]:.6f}, B(1)={curve[-1]:.6f}",
        control,
    )


def _t6_identity_row(m: dict, control: bool = False) -> T.Check:
    qs, projection = MC.t6_setup()
    nu = sampling_distribution(qs, Tempered(2.0, "dense"), np.arange(qs.n_queries), np.zeros(qs.n_queries, int))
    mu = np.full(nu.shape, 1.0 / qs.n_docs)
    z, y = T.pair_design(qs.queries, qs.docs, qs.teacher_scores, projection, 1.0)
    law_mu = T.pair_law(qs.positive_probs, mu)
    M_mu, b_mu = T.moments(z, y, law_mu)
    M_nu, b_nu = T.moments(z, y, T.pair_law(qs.positive_probs, nu))
    w_mu, w_nu = T.minimiser(M_mu, b_mu), T.minimiser(M_nu, b_nu)

    def risk(w):
        return T.margin_mse_risk(w, qs.queries, qs.docs, qs.teacher_scores, projection, 1.0, law_mu)

    bias = T.bias(w_nu, w_mu, M_nu if control else M_mu)
    res = abs(risk(w_nu) - risk(w_mu) - bias)
    return _row(
        "T6 identity",
        "|J_μ(w_ν) − J_μ(w_μ) − (w_ν−w_μ)ᵀM_μ(w_ν−w_μ)|",
        res,
        res < ROUND_OFF,
        f"B(ν)={bias:.4f}, tempered β=2",
        control,
    )


def _from_pair(pair: list[T.Check], control: bool) -> T.Check:
    """A row from a ``[check, control check]`` pair whose control check holds when it detects the wrong quantity:
    the real row as it is, or the control as a row that holds only if that detection fails."""
    real, detect = pair
    if not control:
        return _row(real.statement, real.compared, real.value, real.holds, real.detail, False)
    return _row(real.statement, detect.compared, detect.value, not detect.holds, detect.detail, True)


def _t7_mse_row(m: dict, control: bool = False) -> T.Check:
    return _from_pair(m["t7"], control)


def _t7_mc_row(t7: list[T.Check], control: bool = False) -> T.Check:
    return _from_pair(t7, control)


def _t7_eta_moves_row(table: pd.DataFrame, control: bool = False) -> T.Check:
    row = ES.eta_moves_row(table, control=control)
    return _row(row.statement, row.compared, row.value, row.holds, row.detail, control)


def _t7_eta_zero_row(table: pd.DataFrame, control: bool = False) -> T.Check:
    row = ES.eta_zero_row(table, control=control)
    return _row(row.statement, row.compared, row.value, row.holds, row.detail, control)


EXACT_ROWS: tuple[Callable[..., T.Check], ...] = (
    _t1_row,
    _t2_row,
    _kappa_eta_row,
    _change_of_measure_row,
    _t5_lce_row,
    _t5_kl_row,
    _t5_iw_row,
    _t6_monotone_row,
    _t6_rho_row,
    _t6_identity_row,
    _t7_mse_row,
)


def exact_rows(measured: dict, control: bool = False) -> list[T.Check]:
    """Every exact row (T1, T2, T4, T5, T6 closed forms) judged on :func:`exact_measurements`."""
    return [row(measured, control) for row in EXACT_ROWS]


# ============================================================================ Monte Carlo rows


def _t1_mc_row(t1: list[dict], control: bool = False) -> T.Check:
    floor = 1.1 if control else 1.0
    full = [r for r in t1 if r["structure"] == "full" and r["n"] == max(x["n"] for x in t1)]
    worst = max((r["risk"] - floor * r["floor"]) / r["floor"] for r in full)
    above = min(r["risk"] - floor * r["floor"] for r in t1)
    # No sampling noise at the realisable optimum (every per-group gradient of CE vanishes at f = g/τ), so the
    # criterion is convergence: the full student's risk within 5% of H(g), and never below it (T1).
    return _row(
        "T1 MC",
        "max (R − H)/H, full bilinear, τ∈{0.5,1,2}",
        worst,
        worst < 0.05 and above > -1e-5,
        f"min excess over all students {above:.1e}",
        control,
    )


def _violations(gap: np.ndarray, bound: np.ndarray | float, factor: float) -> int:
    return int(np.sum(gap > np.asarray(bound) / factor))


def _t3_global_row(t3: dict, summary: dict, control: bool = False) -> T.Check:
    m, allowed = summary["n_sets"], summary["allowed"]
    factor = GLOBAL_CONTROL_FACTOR if control else 1.0
    bounds = {"3(a)": t3["bound_population"], "3(b)": t3["bound_data_dependent"], "spec": t3["bound_spec"]}
    worst = max(_violations(t3["gap_S"][row], b, factor) for row in range(len(MC.SCORERS)) for b in bounds.values())
    risk = max(float(np.max(t3["risk_S"][row] + t3["bound_population"] / factor)) for row in range(len(MC.SCORERS)))
    detects = min(
        MC.smallest_failing_factor(t3["gap_S"][row], t3["bound_population"], allowed) for row in range(len(MC.SCORERS))
    )
    return _row(
        "T3 MC",
        "violations of Thm 3(a), 3(b), spec (student & minimiser)",
        worst,
        worst <= allowed and risk < np.log(2),
        f"max {worst}/{m} (≤{allowed:.1f} allowed); R̂+bound ≤ {risk:.4f} < log 2; fails only for a bound "
        f"≥ {detects:.0f}× too small",
        control,
    )


def _t3_local_row(t3: dict, summary: dict, control: bool = False) -> T.Check:
    m, allowed = summary["n_sets"], summary["allowed"]
    factor = t3["config"]["control_factor"] if control else 1.0
    violations = {name: _violations(t3["gap_S2"][row], t3["bound"][row], factor) for row, name in enumerate(MC.SCORERS)}
    mn = summary["scorers"]["minimiser"]
    risk = float(np.max(t3["risk_S2"][1] + t3["bound"][1] / factor))
    detects = MC.smallest_failing_factor(t3["gap_S2"][1], t3["bound"][1], allowed)
    low, high = mn["tight_mean_ci"]
    return _row(
        "T3-local",
        "violations of Thm 3L (minimiser & student)",
        max(violations.values()),
        max(violations.values()) <= allowed and risk < np.log(2),
        f"minimiser {violations['minimiser']}/{m}, student {violations['student']}/{m} (≤{allowed:.1f} allowed); "
        f"bound/mean gap {mn['tight_mean']:.1f} [{low:.1f}, {high:.1f}], bound/q95 {mn['tight_q95']:.2f}; fails for "
        f"a bound ≥ {detects:.2f}× too small; R̂_S2+bound ≤ {risk:.4f} < log 2",
        control,
    )


def _t3_lower_row(rows: list[dict], control: bool = False) -> T.Check:
    constant = 1.0 / 0.4 if control else 1.0  # the control: constant 1 instead of ½ − p₀ = 0.4
    ratio = min(r["sup_gap"] / (constant * r["lower_bound"]) for r in rows)
    within = all(r["sup_gap"] + 3 * r["sup_gap_se"] >= constant * r["lower_bound"] for r in rows)
    first_order = [r for r in rows if r["spacing"] <= 1 and r["cells"] >= r["n"]]
    err = max(abs(r["minimiser_gap"] / r["minimiser_formula"] - 1) for r in first_order)
    slope = [r["sup_gap"] / r["scale"] for r in rows]
    return _row(
        "T3-lower",
        "min measured E sup gap / lower bound (Prop. 3LB(a))",
        ratio,
        within and err < FORMULA_RTOL,
        f"E sup gap = {min(slope):.3f}–{max(slope):.3f} × BRs/√n; (b) rel. error {err:.3f} (A ≤ 1, D ≥ n)",
        control,
    )


def _t5_mc_row(t5: list[dict], control: bool = False) -> T.Check:
    suffix = "_wrong_closed_form" if control else ""
    worst = max(r[f"lce_stat{suffix}"] / r["lce_limit"] for r in t5)
    kl = max(r[f"kl_max_error{suffix}"] for r in t5)
    return _row(
        "T5 MC",
        "max χ² stat / 0.999 quantile (LCE → log p/ν), 3 samplers",
        worst,
        worst < 1 and kl < 1e-3,
        f"KL → g/τ max error {kl:.1e}",
        control,
    )


def _t6_mc_row(t6: dict, control: bool = False) -> T.Check:
    stat = t6["stat_against_w_mu"] if control else t6["stat"]
    return _row(
        "T6 MC",
        "χ²_p stat / 0.999 quantile (GD on MarginMSE → w_ν)",
        stat / t6["limit"],
        stat < t6["limit"],
        f"{t6['steps']} GD steps",
        control,
    )


def monte_carlo_rows(results: dict, control: bool = False) -> list[T.Check]:
    """Every Monte Carlo row judged on :func:`run_checks`' results (``{"t1", "t3", "summary", "lower", "t5", "t6", "t7",
    "eta_moves", "eta_zero"}``; the last two: :func:`simrank.theory.eta_star.eta_star_table` of the registered designs)."""
    return [
        _t1_mc_row(results["t1"], control),
        _t3_global_row(results["t3"], results["summary"], control),
        _t3_local_row(results["t3"], results["summary"], control),
        _t3_lower_row(results["lower"], control),
        _t5_mc_row(results["t5"], control),
        _t6_mc_row(results["t6"], control),
        _t7_mc_row(results["t7"], control),
        _t7_eta_moves_row(results["eta_moves"], control),
        _t7_eta_zero_row(results["eta_zero"], control),
    ]


def run_checks(
    t3_config: MC.T3Config = MC.T3Config(n_sets=20, chunk=20),
    monte_carlo: bool = True,
    seed: int = 0,
    lower: LowerBoundRun = LOWER_BOUND_CHECK,
    on_row: Callable[[T.Check], None] | None = None,
) -> tuple[list[T.Check], dict | None]:
    """Every row of ``simrank theory check`` and the Monte Carlo results (None with ``monte_carlo=False``).

    ``on_row(row)`` is called as soon as each row is judged (the command line prints it with the time).
    """
    rows: list[T.Check] = []

    def judged(*new: T.Check) -> None:
        for row in new:
            rows.append(row)
            if on_row is not None:
                on_row(row)

    measured = exact_measurements(seed)
    for row in EXACT_ROWS:
        judged(row(measured))
    if not monte_carlo:
        return rows, None
    results: dict = {"t1": MC.t1_monte_carlo(n_train=(64, 512), steps=1500)}
    judged(_t1_mc_row(results["t1"]))
    results["t3"] = MC.t3_monte_carlo(t3_config)
    results["summary"] = MC.t3_summary(results["t3"])
    judged(_t3_global_row(results["t3"], results["summary"]), _t3_local_row(results["t3"], results["summary"]))
    results["lower"] = MC.lower_bound_monte_carlo(**lower)
    judged(_t3_lower_row(results["lower"]))
    results["t5"] = MC.t5_monte_carlo()
    judged(_t5_mc_row(results["t5"]))
    results["t6"] = MC.t6_monte_carlo()
    judged(_t6_mc_row(results["t6"]))
    results["t7"] = PR.excess_monte_carlo_rows()[0]
    judged(_t7_mc_row(results["t7"]))
    results["eta_moves"] = ES.eta_star_table(ES.ETA_MOVES)
    judged(_t7_eta_moves_row(results["eta_moves"]))
    results["eta_zero"] = ES.eta_star_table(ES.ETA_ZERO)
    judged(_t7_eta_zero_row(results["eta_zero"]))
    return rows, results


# ============================================================================ generated blocks of theory.md

PAPER_START, PAPER_END = "<!-- T3-NUMBERS -->", "<!-- /T3-NUMBERS -->"
LOWER_START, LOWER_END = "<!-- T3-LOWER -->", "<!-- /T3-LOWER -->"
P8_START, P8_END = "<!-- P8-ETA -->", "<!-- /P8-ETA -->"
FLOOR_START, FLOOR_END = "<!-- T3-FLOOR -->", "<!-- /T3-FLOOR -->"
EXCESS_START, EXCESS_END = "<!-- T7-EXCESS -->", "<!-- /T7-EXCESS -->"
ETA_STAR_START, ETA_STAR_END = "<!-- T7-ETA-STAR -->", "<!-- /T7-ETA-STAR -->"
TIGHTNESS_START, TIGHTNESS_END = "<!-- T3-TIGHTNESS -->", "<!-- /T3-TIGHTNESS -->"
#: The generated blocks of theory.md: start marker -> end marker.
MARKERS = {
    PAPER_START: PAPER_END,
    FLOOR_START: FLOOR_END,
    LOWER_START: LOWER_END,
    P8_START: P8_END,
    TIGHTNESS_START: TIGHTNESS_END,
    ETA_STAR_START: ETA_STAR_END,
}


def update_paper(path: Path, block: str, start: str = PAPER_START, end: str = PAPER_END) -> None:
    """Replace the block of ``path`` between the markers ``start`` and ``end`` (or the bare ``start``) with ``block``.

    Examples:
      >>> import tempfile
      >>> paper = Path(tempfile.mkdtemp()) / "p.md"
      >>> _ = paper.write_text("a\\n<!-- T3-NUMBERS -->\\nb\\n")
      >>> update_paper(paper, "new")
      >>> paper.read_text()
      'a\\n<!-- T3-NUMBERS -->\\nnew\\n<!-- /T3-NUMBERS -->\\nb\\n'
    """
    text = path.read_text()
    new = f"{start}\n{block}\n{end}"
    pattern = re.compile(re.escape(start) + r"(.*?" + re.escape(end) + r")?", re.S)
    if start not in text:
        raise ConfigError(f"{path} has no {start} marker; add it where the generated numbers belong")
    path.write_text(pattern.sub(lambda _: new, text, count=1))


def p8_block(root: Path = RESULTS_DIR) -> str:
    """The P8 block of theory.md (between ``P8_START`` and ``P8_END``) from the committed P8 results under ``root``."""
    p8 = MC.p8_eta_comparison(pd.read_parquet(root / "p08-augmentation" / "results.parquet"), reps=2)
    return MC.p8_paper_block(p8)


def paper_blocks(config: MC.T3Config, results: dict) -> tuple[dict[str, str], list[dict]]:
    """The generated blocks of theory.md by start marker (:data:`MARKERS`) from a full run's
    ``results`` (the P8 block from the committed P8 results), and the localised lower bounds of the figure."""
    floor = MC.t3_ball_floor(config)
    localised = [MC.lower_bound_localised(s) for s in LOWER_BOUND_PAPER["spacings"]]
    blocks = {
        PAPER_START: MC.t3_paper_block(results["t3"], results["summary"]),
        FLOOR_START: MC.t3_floor_block(floor, results["t3"], results["summary"]),
        LOWER_START: MC.lower_bound_paper_block(results["lower"], localised),
        P8_START: p8_block(),
    }
    return blocks, localised
