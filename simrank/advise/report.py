"""Outputs of ``simrank advise``: ``advice.json``, ``report.md`` and three figures (PNG, caption ``.txt``).

* ``kappa_eta.png``: κ_η against η per source (left) and the T4(c) bound F(η) with η* marked (right);
* ``entropy_tau.png``: the teacher's mean pairwise and listwise entropy on each source's groups against τ;
* ``diameters.png``: histograms of the group diameters Δ(G) per source, Δ̂ (0.99-quantile) marked.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import seaborn as sns  # noqa: E402

from simrank.advise.analysis import ETA_GRID, TARGET_SOURCE  # noqa: E402
from simrank.real._util import atomic_write  # noqa: E402

__all__ = ["CAPTIONS", "advice_figures", "render_report", "write_outputs"]

CAPTIONS = {
    "kappa_eta": (
        "Left: κ_η = 1/((1−η)/κ + η) against the mixing weight η for each negative source (T4(b); log scale, "
        "κ = ∞ gives 1/η). Right: the T4(c) bound F(η) = κ_η(A(η) + Γ(η)) on the target-law risk, η* marked."
    ),
    "entropy_tau": (
        "Mean teacher entropy on each source's training groups against the temperature τ: pairwise "
        "(solid, the T1 floor of soft RankNet, at most log 2) and listwise (dashed, at most log k). The grey "
        "line is the target pairwise entropy used to choose τ."
    ),
    "diameters": (
        "Histogram of the group diameters Δ(G) = max ‖x_i − x_j‖ of each source's k-groups (positive plus "
        "k − 1 negatives); the dashed line is Δ̂, the 0.99-quantile (T2, T3)."
    ),
}


def _colours(names):
    return dict(zip(names, sns.color_palette("colorblind", len(names))))


def _save(fig, out: Path, name: str) -> Path:
    fig.tight_layout()
    png = out / f"{name}.png"
    fig.savefig(png, dpi=130)
    plt.close(fig)
    (out / f"{name}.txt").write_text(CAPTIONS[name] + "\n")
    return png


def advice_figures(advice: dict, out: Path) -> list[Path]:
    """Draw the three figures of ``advice`` into ``out``; return the PNG paths."""
    curves, settings = advice["curves"], advice["settings"]
    names = list(curves)
    colour = _colours(names)
    paths = []

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for name in names:
        k_eta = curves[name]["kappa_eta"]
        left.plot(ETA_GRID[1:], k_eta[1:], color=colour[name], label=name)
        bound = curves[name]["bound"]
        right.plot(ETA_GRID[1:], bound[1:], color=colour[name], label=name)
        entry = next(e for e in advice["sources"] if e["source"] == name)
        right.scatter([entry["eta_star"]], [entry["bound_eta_star"]], color=colour[name], zorder=3)
    left.plot(ETA_GRID[1:], 1 / ETA_GRID[1:], color="grey", ls=":", label="1/η")
    left.set(xlabel="mixing weight η of the target law", ylabel="κ_η", yscale="log", title="κ_η (T4(b))")
    right.set(
        xlabel="mixing weight η",
        ylabel="F(η) = κ_η (A + Γ)",
        yscale="log",
        title=f"T4(c) bound (B = {settings['B']:.3g}, n = {settings['n']})",
    )
    left.legend()
    right.legend()
    paths.append(_save(fig, out, "kappa_eta"))

    fig, ax = plt.subplots(figsize=(6, 4))
    taus = settings["taus"]
    for name in names:
        ax.plot(taus, [curves[name]["h_pair"][t] for t in taus], color=colour[name], marker="o", label=f"{name} pair")
        ax.plot(taus, [curves[name]["h_list"][t] for t in taus], color=colour[name], ls="--", marker="s")
    ax.axhline(settings["target_entropy"], color="grey", lw=1)
    ax.axhline(math.log(2), color="grey", ls=":", lw=1)
    ax.set(
        xscale="log",
        xlabel="teacher temperature τ",
        ylabel="mean teacher entropy (nats)",
        title="pairwise (solid) and listwise (dashed) entropy",
    )
    ax.legend()
    paths.append(_save(fig, out, "entropy_tau"))

    fig, axes = plt.subplots(len(names), 1, figsize=(6, 1.8 * len(names) + 0.6), sharex=True, squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        deltas = curves[name]["deltas"]
        ax.hist(deltas, bins=50, color=colour[name])
        ax.axvline(np.quantile(deltas, 0.99), color="black", ls="--", lw=1)
        ax.set_ylabel(name)
    axes[-1, 0].set_xlabel(f"group diameter Δ(G), k = {settings['group_size']}")
    paths.append(_save(fig, out, "diameters"))
    return paths


def _fmt(x, digits: int = 3) -> str:
    if x is None:
        return "∞"
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    return str(x)


def render_report(advice: dict) -> str:
    """``report.md``: inputs, one row per source, the ranked choices with their reasons, the figures."""
    s = advice["settings"]
    lines = [
        "# simrank advise",
        "",
        f"Data `{s['data']}`, split `{s['split']}`: {s['n_queries']} training queries, {s['n_pairs']} "
        f"(query, positive) pairs, {s['n_docs']} documents. Teacher: {s['teacher']}. Target law μ: {s['target']}. "
        f"Starting scorer {s['scorer']}. simrank {s['simrank_version']}, seed {s['seed']}.",
        "",
        f"Groups: {s['n_groups']} groups of k = {s['group_size']} per source; T3 with B = {s['B']:.4g} (‖W₀‖_F of "
        f"the starting scorer unless given), n = {s['n']} pairs, δ = {s['delta']} split over {len(ETA_GRID)} "
        "values of η; "
        + (
            f"Γ is Theorem 3L's localised bound, for every student within ‖W − W₀‖_F ≤ r = {s['radius']:.4g} of the "
            "start (`--radius`, default B; it holds for all radii at once, so re-run with the distance your trained "
            "student moved)."
            if s["bound"] == "localised"
            else "Γ is Theorem 3(a)'s ess-sup bound, for every student with ‖W‖_F ≤ B."
        ),
        "",
    ]
    lines += [f"- note: {n}" for n in s["notes"]]
    lines += _prediction_section(advice.get("prediction"))
    lines += [
        "## Sources",
        "",
        "| source | locality | Δ̂ | Δ median | κ | τ | H_pair(τ) | H_list(τ) | teacher ≥ positive | judged relevant "
        "| A_ν | Γ(0) | η* | F(η*) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in advice["sources"]:
        lines.append(
            f"| {e['source']} | {e['locality']:.3f} | {e['delta_hat']:.3f} | {e['delta_quantiles']['0.5']:.3f} "
            f"| {_fmt(e['kappa'])} | {e['tau']:g} | {e['entropy_pair']:.3f} | {e['entropy_list']:.3f} "
            f"| {100 * e['false_negative_rate']:.2f}% | {100 * e['judged_negative_rate']:.2f}% "
            f"| {e['t3']['risk_nu']:.4f} | {e['t3']['gap_eta0']:.3g} | {e['eta_star']:.2f} "
            f"| {e['bound_eta_star']:.4g} |"
        )
    lines += [
        "",
        "Locality `1 − mean H(ν_q)/log N`; Δ̂ the 0.99-quantile of group diameters; κ = max_q max_x μ_q(x)/ν_q(x) "
        "(∞: ν misses part of μ's support); τ chosen so that the pairwise entropy H_pair is nearest "
        f"{s['target_entropy']:.3f} nats; false negatives as shares of the negative law on (query, positive) "
        "pairs; A_ν the soft-RankNet excess ℓ^KL_RN of the starting scorer on ν's pairs at τ; Γ the T3 term.",
        "",
        "## Guarantee on the μ-risk (the T4(c) bound F at each source's τ)",
        "",
        "| rank | source | τ | η | guarantee on the μ-risk F | vacuous |",
        "|---|---|---|---|---|---|",
    ]
    shown = advice["recommendations"][:10]
    for r in shown:
        lines.append(
            f"| {r['rank']} | {r['source']} | {r['tau']:g} | {r['eta']:g} | {_fmt(r['bound'], 5)} "
            f"| {'yes' if r['vacuous'] else 'no'} |"
        )
    best = shown[0]
    what = "the target law itself (η = 1 of any source)" if best["source"] == TARGET_SOURCE else best["source"]
    if best["vacuous"]:
        lines += [
            "",
            "**No recommendation from the guarantee**: every guarantee is vacuous (F is at least the μ-risk the "
            "starting scorer already has), so it certifies nothing about training with any of these sources; the "
            "ranking of the prediction section is the advice.",
        ]
    else:
        lines += ["", f"The guarantee is lowest for {what} with τ = {best['tau']:g} and η = {best['eta']:g}:", ""]
        lines += [f"- {reason}" for reason in best["reasons"]]
    ratios = [e["t3"]["gap_eta0"] / e["t3"]["risk_nu"] for e in advice["sources"] if e["t3"]["risk_nu"] > 0]
    if ratios:
        lines += [
            "",
            f"The T3 term Γ(0) is {min(ratios):.3g}-{max(ratios):.3g}× the risk term A_ν, so the ranking is driven by "
            "κ_η and the diameters more than by how well the starting scorer fits the teacher; pass `--radius` "
            "(localised) or `--norm-bound` (ess-sup) for your own student, and `--n-train` with your number of "
            "training pairs.",
        ]
    lines += [
        "",
        "The bound is an upper bound on the target-law risk, not a prediction of nDCG: where κ = ∞ it always "
        "prefers η = 1 (T4(e)). See `paper/advise.md` for how its ordering compares with trained outcomes.",
        "",
        "## Figures",
        "",
    ]
    for name, caption in CAPTIONS.items():
        lines += [f"![{name}]({name}.png)", "", caption, ""]
    return "\n".join(lines)


def _prediction_section(prediction: dict | None) -> list[str]:
    """The report's first section: the candidates ranked by the predicted excess, the guarantee beside each, and the
    recommendation (the prediction's; none where the prediction is unavailable)."""
    if prediction is None:
        return []
    lines = ["", "## Prediction: the candidates ranked by the predicted excess", ""]
    if "unavailable" in prediction:
        return lines + [f"**No prediction**: {prediction['unavailable']}.", ""]
    p = prediction["settings"]
    lines += [
        f"Each candidate (source, η) trains the bilinear student (P q)ᵀ W (P x) on the top {p['rank']} principal "
        f"coordinates of the document embeddings to convergence on n = {p['n_train']} groups of k = "
        f"{p['group_size']} ({p['loss']} loss, label τ = {p['tau']:g}) drawn from the {p['n_queries']} training "
        "queries (resampled uniformly), the teacher's top document as the positive and ν_η = (1 − η) ν + η · uniform "
        "as the negatives. The prediction is its excess target risk E R_T(Ŵ) − min R_T = Bias + (V + D)/n "
        f"(`simrank.theory.predict_excess`, paper/theory.md §10) with target law T = {p['target']} "
        f"({p['population']} Monte Carlo groups per population, seed {p['seed']}; {p['seconds']} s). The "
        "guarantee on the μ-risk is the T3/T4 certificate F at the source's τ and the same η (∞: none).",
        "",
        "| rank | source | η | predicted excess | Bias | (V + D)/n | guarantee on the μ-risk | vacuous |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in prediction["candidates"]:
        lines.append(
            f"| {c['rank']} | {c['source']} | {c['eta']:g} | {c['predicted_excess']:.4g} | {c['bias']:.4g} "
            f"| {(c['variance'] + c['drift']) / p['n_train']:.4g} | {_fmt(c['guarantee'], 5)} "
            f"| {'yes' if c['vacuous'] else 'no'} |"
        )
    top = prediction["candidates"][0]
    lines += [
        "",
        f"**The prediction recommends {top['source']} with η = {top['eta']:g}**: of these candidates it predicts the "
        f"smallest excess {p['target']}-target {p['loss']} risk (against the teacher) of the trained student, "
        f"{top['predicted_excess']:.4g}. It predicts how well the student fits the teacher, not nDCG directly; "
        "`paper/advise.md` reports how its order compares with trained outcomes.",
        "",
    ]
    return lines


def write_outputs(advice: dict, out: Path) -> list[Path]:
    """Write ``advice.json``, ``report.md`` and the figures into ``out`` (created)."""
    out.mkdir(parents=True, exist_ok=True)
    public = {k: v for k, v in advice.items() if k != "curves"}
    with atomic_write(out / "advice.json") as f:
        f.write(json.dumps(public, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    with atomic_write(out / "report.md") as f:
        f.write(render_report(advice))
    return [out / "advice.json", out / "report.md", *advice_figures(advice, out)]
