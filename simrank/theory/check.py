"""``simrank theory check``: every statement T1-T6 as a row (name, what was compared, margin, holds/fails).

``--json FILE`` writes ``[{"statement", "holds", "value", "detail"}, …]``; ``--paper FILE`` runs the full
Monte Carlo (200 T3 training sets; the lower bound up to D = 40,000 cells), regenerates the blocks between
``<!-- T3-NUMBERS -->``, ``<!-- T3-FLOOR -->`` (the largest gap over the ball), ``<!-- T3-LOWER -->`` and
``<!-- P8-ETA -->`` (η* from Theorem 3L against the committed
P8 results; each block closed by ``<!-- /NAME -->``) and draws ``figures/t3-lower``.
The exit status is 1 if any check fails.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import typer

from simrank.errors import ConfigError
from simrank.paths import FIGURES_DIR, RESULTS_DIR
from simrank.theory import bounds as T
from simrank.theory import monte_carlo as MC
from simrank.theory import prediction as PR

__all__ = [
    "FORMULA_RTOL",
    "MARKERS",
    "LOWER_BOUND_CHECK",
    "LOWER_BOUND_PAPER",
    "ROUND_OFF",
    "check_cmd",
    "run_checks",
    "theory_app",
    "p8_block",
    "paper_blocks",
    "update_paper",
]

theory_app = typer.Typer(add_completion=False, no_args_is_help=True, help="The theorems T1-T6 checked by code.")

PAPER_START, PAPER_END = "<!-- T3-NUMBERS -->", "<!-- /T3-NUMBERS -->"
LOWER_START, LOWER_END = "<!-- T3-LOWER -->", "<!-- /T3-LOWER -->"
P8_START, P8_END = "<!-- P8-ETA -->", "<!-- /P8-ETA -->"
FLOOR_START, FLOOR_END = "<!-- T3-FLOOR -->", "<!-- /T3-FLOOR -->"
#: The generated blocks of theory.md: start marker -> end marker.
MARKERS = {PAPER_START: PAPER_END, FLOOR_START: FLOOR_END, LOWER_START: LOWER_END, P8_START: P8_END}
ROUND_OFF = 1e-9  # float64 identities: |difference| below this counts as equal


def _exact_checks(rng: np.random.Generator) -> list[T.Check]:
    rows = []
    f, g = rng.normal(0, 3, (200, 6)), rng.normal(0, 3, (200, 6))
    res = T.t1_residual(f, g, 0.7)
    rows.append(
        T.Check("T1", "max |CE − H − KL| (listwise & pairwise), 200 groups", res, res < ROUND_OFF, "float64 round-off")
    )

    margins = []
    for _ in range(200):
        d, k = 3, int(rng.integers(2, 7))
        margins.append(
            min(
                T.t2_margins(
                    rng.normal(size=(d, d)),
                    rng.normal(size=(d, d)),
                    rng.normal(size=d),
                    rng.normal(size=(k, d)),
                    float(rng.uniform(0.2, 3)),
                ).values()
            )
        )
    tight = T.t2_margins(*T.t2_extremal_group(4, 1.0), 1.0)["lce"]
    rows.append(
        T.Check(
            "T2",
            "min (bound − loss) over 6 losses × 200 groups",
            min(margins),
            min(margins) >= -ROUND_OFF,
            f"sharp listwise bound attained: slack {tight:.1e} at k=4, LΔ=1",
        )
    )

    mu = np.full(5, 0.2)
    errs = [T.kappa_eta_error(mu[None], rng.dirichlet(np.ones(5), 50), eta) for eta in (0.1, 0.5, 0.9)]
    rows.append(
        T.Check(
            "T4 κ_η",
            "max rel. error of 1/((1−η)/κ+η) vs measured κ(μ, ν_η)",
            max(errs),
            max(errs) < 1e-12,
            "150 random ν",
        )
    )
    cm = []
    for _ in range(100):
        p, nu = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(5))
        cm.append(
            T.change_of_measure_margin(p, nu, mu, T.excess_ranknet_pairs(rng.normal(size=5), rng.normal(size=5), 1.0))
        )
    rows.append(
        T.Check(
            "T4 R_μ ≤ κR_ν",
            "min (κ R_ν − R_μ), excess soft RankNet on pairs",
            min(cm),
            min(cm) >= -ROUND_OFF,
            "100 random (p, ν, f, g)",
        )
    )

    p, nu = np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.3, 0.5])
    lce_err = max(T.t5_lce_error(p, nu, k) for k in (2, 3, 4))
    rows.append(
        T.Check(
            "T5 LCE",
            "max |argmin exact LCE risk − (log p − log ν)|, k=2,3,4",
            lce_err,
            lce_err < 1e-6,
            "BFGS + Newton on all N^k groups",
        )
    )
    kl_err = T.t5_distill_error(p, nu, np.array([1.0, 0.3, -2.0]), 0.5, 3)
    rows.append(T.Check("T5 KL", "max |argmin exact KL risk − g/τ|", kl_err, kl_err < 1e-6, "k=3, τ=0.5"))
    iw = T.lce_population_optimum(p, nu, 3, doc_weights=(1 / 3) / nu)[0]
    iw_err = float(np.abs(iw - T.centred(np.log(p * 3))).max())
    rows.append(T.Check("T5 IW", "all-terms weighted LCE optimum vs log(p/u)", iw_err, iw_err < 1e-6, "correction 10"))

    etas = np.linspace(0, 1, 21)
    with_mu, with_rho = T.counterexample_curves(etas)
    rows.append(
        T.Check(
            "T6 monotone",
            "B(η) mixing with μ non-increasing (max increase)",
            float(np.diff(with_mu).max()),
            T.is_non_increasing(with_mu),
            "correction 11: spec's non-monotonicity claim is false",
        )
    )
    rise = float(np.diff(with_rho).max())
    rows.append(
        T.Check(
            "T6 ρ≠μ",
            "B_μ(η) mixing with ρ ≠ μ is non-monotone (max increase > 0)",
            rise,
            not T.is_non_increasing(with_rho),
            f"B(0)=B(1)={with_rho[0]:.6f}, B(1/2)={with_rho[10]:.6f}",
        )
    )
    rows += PR.excess_exact_rows(rng)
    return rows + [_t6_identity()]


def _t6_identity() -> T.Check:
    qs, projection = MC.t6_setup()
    nu = MC.sampling_distribution(qs, MC.Tempered(2.0, "dense"), np.arange(qs.n_queries), np.zeros(qs.n_queries, int))
    mu = np.full(nu.shape, 1.0 / qs.n_docs)
    z, y = T.pair_design(qs.queries, qs.docs, qs.teacher_scores, projection, 1.0)
    law_mu = T.pair_law(qs.positive_probs, mu)
    M_mu, b_mu = T.moments(z, y, law_mu)
    w_mu, w_nu = T.minimiser(M_mu, b_mu), T.minimiser(*T.moments(z, y, T.pair_law(qs.positive_probs, nu)))
    J = lambda w: T.margin_mse_risk(w, qs.queries, qs.docs, qs.teacher_scores, projection, 1.0, law_mu)  # noqa: E731
    res = abs(J(w_nu) - J(w_mu) - T.bias(w_nu, w_mu, M_mu))
    return T.Check(
        "T6 identity",
        "|J_μ(w_ν) − J_μ(w_μ) − (w_ν−w_μ)ᵀM_μ(w_ν−w_μ)|",
        res,
        res < ROUND_OFF,
        f"B(ν)={T.bias(w_nu, w_mu, M_mu):.4f}, tempered β=2",
    )


def _monte_carlo_checks(t3_config: MC.T3Config, lower: dict) -> tuple[list[T.Check], dict]:
    rows = []
    t1 = MC.t1_monte_carlo(n_train=(64, 512), steps=1500)
    full = [r for r in t1 if r["structure"] == "full" and r["n"] == 512]
    worst = max(r["excess"] / r["floor"] for r in full)
    above = min(r["excess"] for r in t1)
    # No sampling noise at the realisable optimum (every per-group gradient of CE vanishes at f = g/τ), so the
    # criterion is convergence: the full student's risk within 5% of H(g), and never below it (T1).
    rows.append(
        T.Check(
            "T1 MC",
            "max (R − H)/H, full bilinear, τ∈{0.5,1,2}",
            worst,
            worst < 0.05 and above > -1e-5,
            f"min excess over all students {above:.1e}",
        )
    )

    t3 = MC.t3_monte_carlo(t3_config)
    summary = MC.t3_summary(t3)
    rows += _t3_rows(t3, summary)
    lower_rows = MC.lower_bound_monte_carlo(**lower)
    rows.append(_t3_lower_row(lower_rows))

    t5 = MC.t5_monte_carlo()
    worst5 = max(r["lce_stat"] / r["lce_limit"] for r in t5)
    kl5 = max(r["kl_max_error"] for r in t5)
    rows.append(
        T.Check(
            "T5 MC",
            "max χ² stat / 0.999 quantile (LCE → log p/ν), 3 samplers",
            worst5,
            worst5 < 1 and kl5 < 1e-3,
            f"KL → g/τ max error {kl5:.1e}",
        )
    )

    t6 = MC.t6_monte_carlo()
    rows.append(
        T.Check(
            "T6 MC",
            "χ²_p stat / 0.999 quantile (SGD → w_ν)",
            t6["stat"] / t6["limit"],
            t6["stat"] < t6["limit"],
            f"{t6['steps']} GD steps",
        )
    )
    rows += PR.excess_monte_carlo_rows()[0]
    return rows, {"t3": t3, "summary": summary, "lower": lower_rows}


#: Proposition 3LB check: two cell counts D (D < n and D ≈ n) × three spacings s, 100 samples of n = 1000 pairs.
LOWER_BOUND_CHECK = {"spacings": (0.5, 1.0, 2.0), "cells": (64, 1024), "n": 1000, "reps": 100}
#: The paper's run adds D = 40,000 (D ≫ n) and s = 4.
LOWER_BOUND_PAPER = {"spacings": (0.25, 0.5, 1.0, 2.0, 4.0), "cells": (64, 1024, 40_000), "n": 1000, "reps": 200}
#: Proposition 3LB(b) is first order in A = BRs: it is checked where A ≤ 1 and D ≥ n (to FORMULA_RTOL).
FORMULA_RTOL = 0.05


def _t3_rows(t3: dict, summary: dict) -> list[T.Check]:
    m, allowed = summary["n_sets"], summary["allowed"]
    st, mn = summary["scorers"]["student"], summary["scorers"]["minimiser"]
    log2 = float(np.log(2))
    worst = max(
        sc[key] for sc in (st, mn) for key in ("global_violations", "global_dd_violations", "global_spec_violations")
    )
    global_risk = max(st["global_risk_bound"], mn["global_risk_bound"])
    local_ok = mn["violations"] <= allowed and st["violations"] <= allowed and mn["risk_bound"] < log2
    low, high = mn["tight_mean_ci"]
    return [
        T.Check(
            "T3 MC",
            "bound/mean gap, Thm 3(a), trained student",
            st["global_tight_mean"],
            worst <= allowed and global_risk < log2,
            f"max {worst}/{m} violations of 3(a), 3(b), spec (≤{allowed:.1f} allowed); R̂+bound ≤ {global_risk:.4f} "
            f"< log 2; bound/20 violated {st['global_control_violations']}/{m} times (cannot fail: see T3-local)",
        ),
        T.Check(
            "T3-local",
            "bound/mean gap, Thm 3L, converged minimiser",
            mn["tight_mean"],
            local_ok,
            f"95% CI [{low:.1f}, {high:.1f}]; bound/q95 {mn['tight_q95']:.2f}; {mn['violations']}/{m} violations "
            f"(student {st['violations']}/{m}, ≤{allowed:.1f} allowed); R̂_S2+bound ≤ {mn['risk_bound']:.4f} < log 2",
        ),
        T.Check(
            "T3-control",
            f"violations of Thm 3L bound/{t3['config']['control_factor']:g} (must exceed allowed)",
            float(mn["control_violations"]),
            mn["control_violations"] > allowed,
            f"{mn['control_violations']}/{m} > {allowed:.1f}: the check detects a bound "
            f"{t3['config']['control_factor']:g}× too small",
        ),
    ]


def _t3_lower_row(rows: list[dict]) -> T.Check:
    ratio = min(r["sup_gap"] / r["lower_bound"] for r in rows)
    within = all(r["sup_gap"] + 3 * r["sup_gap_se"] >= r["lower_bound"] for r in rows)
    first_order = [r for r in rows if r["spacing"] <= 1 and r["cells"] >= r["n"]]
    err = max(abs(r["minimiser_gap"] / r["minimiser_formula"] - 1) for r in first_order)
    slope = [r["sup_gap"] / r["scale"] for r in rows]
    return T.Check(
        "T3-lower",
        "min measured E sup gap / lower bound (Prop. 3LB(a))",
        ratio,
        within and err < FORMULA_RTOL,
        f"E sup gap = {min(slope):.3f}–{max(slope):.3f} × BRs/√n; (b) rel. error {err:.3f} (A ≤ 1, D ≥ n)",
    )


def run_checks(
    t3_config: MC.T3Config = MC.T3Config(n_sets=20, chunk=20),
    monte_carlo: bool = True,
    seed: int = 0,
    lower: dict = LOWER_BOUND_CHECK,
):
    """All checks as :class:`~simrank.theory.bounds.Check` rows, and the Monte Carlo results (``{"t3", "summary",
    "lower"}``, or None with ``monte_carlo=False``)."""
    rows = _exact_checks(np.random.default_rng(seed))
    if not monte_carlo:
        return rows, None
    mc_rows, results = _monte_carlo_checks(t3_config, lower)
    return rows + mc_rows, results


def p8_block(root: Path = RESULTS_DIR) -> str:
    """The P8 block of theory.md (between ``P8_START`` and ``P8_END``) from the committed P8 results under ``root``."""
    p8 = MC.p8_eta_comparison(pd.read_parquet(root / "p08-augmentation" / "results.parquet"), reps=2)
    return MC.p8_paper_block(p8)


def paper_blocks(config: MC.T3Config, results: dict) -> tuple[dict[str, str], list[dict]]:
    """The generated blocks of theory.md by start marker (:data:`MARKERS`) from a full run's ``results`` (the P8
    block from the committed P8 results), and the localised lower bounds of the figure."""
    floor = MC.t3_ball_floor(config)
    localised = [MC.lower_bound_localised(s) for s in LOWER_BOUND_PAPER["spacings"]]
    blocks = {
        PAPER_START: MC.t3_paper_block(results["t3"], results["summary"]),
        FLOOR_START: MC.t3_floor_block(floor, results["t3"], results["summary"]),
        LOWER_START: MC.lower_bound_paper_block(results["lower"], localised),
        P8_START: p8_block(),
    }
    return blocks, localised


def update_paper(path: Path, block: str, start: str = PAPER_START, end: str = PAPER_END) -> None:
    """Replace the block of ``path`` between the markers ``start`` and ``end`` (or the bare ``start``) with ``block``."""
    text = path.read_text()
    new = f"{start}\n{block}\n{end}"
    pattern = re.compile(re.escape(start) + r"(.*?" + re.escape(end) + r")?", re.S)
    if start not in text:
        raise ConfigError(f"{path} has no {start} marker; add it where the generated numbers belong")
    path.write_text(pattern.sub(lambda _: new, text, count=1))


@theory_app.command("check")
def check_cmd(
    json_file: Path = typer.Option(None, "--json", help="write the rows as a JSON list to this file"),
    paper: Path = typer.Option(
        None,
        "--paper",
        help="full runs (200 T3 training sets, lower bound up to D = 40,000, P8's η*): regenerate the T3, "
        "lower-bound and P8 blocks of this markdown file and the figure figures/t3-lower",
    ),
    quick: bool = typer.Option(False, "--quick", help="exact checks only (no Monte Carlo)"),
) -> None:
    """Run every check of T1-T6 and print one row per statement; exit 1 if any fails."""
    if paper is not None and not paper.is_file():
        raise ConfigError(f"--paper {paper} is not a file")
    full = paper is not None and not quick
    config = MC.T3Config() if full else MC.T3Config(n_sets=20, chunk=20)
    rows, results = run_checks(config, monte_carlo=not quick, lower=LOWER_BOUND_PAPER if full else LOWER_BOUND_CHECK)
    typer.echo(f"{'statement':16s} {'compared':62s} {'value':>11s}  result")
    for r in rows:
        typer.echo(
            f"{r.statement:16s} {r.compared[:62]:62s} {r.value:11.3g}  {'holds' if r.holds else 'FAILS'}  ({r.detail})"
        )
    if json_file is not None:
        json_file.write_text(json.dumps([r.as_dict() for r in rows], indent=2, ensure_ascii=False) + "\n")
    if full:
        blocks, localised = paper_blocks(config, results)
        for start, block in blocks.items():
            update_paper(paper, block, start, MARKERS[start])
        MC.lower_bound_figure(results["lower"], localised, FIGURES_DIR / "t3-lower")
        typer.echo(f"T3 numbers written to {paper}, figure to {FIGURES_DIR / 't3-lower'}.png/.pdf/.txt")
    if not all(r.holds for r in rows):
        raise typer.Exit(1)


EXCESS_START, EXCESS_END = "<!-- T7-EXCESS -->", "<!-- /T7-EXCESS -->"


@theory_app.command("excess")
def excess_cmd(
    out: Path = typer.Option(RESULTS_DIR / "theory" / "excess.parquet", "--out", help="where to write the table"),
    paper: Path = typer.Option(None, "--paper", help="regenerate the T7-EXCESS block of this markdown file"),
) -> None:
    """Validate the excess prediction (Theorem 7) against trained students in the three validation worlds: write the
    predicted-vs-measured table (parquet) and, with --paper, theory.md's generated block; exit 1 if a cell misses."""
    if paper is not None and not paper.is_file():
        raise ConfigError(f"--paper {paper} is not a file")
    table = PR.validation_table(progress=lambda r: typer.echo(f"{r['world']:15s} η = {r['eta']:<4g} n = {r['n']:<5d} "
                                f"predicted {r['predicted']:.4g} measured {r['measured']:.4g} ± {r['se']:.2g}"))  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_parquet(out)
    block = PR.excess_paper_block(table)
    typer.echo(block)
    if paper is not None:
        update_paper(paper, block, EXCESS_START, EXCESS_END)
    if not (table["rel_error"].abs() <= PR.EXCESS_RTOL + 3 * table["se"] / table["measured"]).all():
        raise typer.Exit(1)
