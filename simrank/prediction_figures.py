"""One figure per prediction P1-P12 (means over seeds with 95% CI bands, colour-blind palette).

``FIGURES[key] = (draw, caption)``; ``draw(tables) -> Figure`` reads the tables named by
``simrank.predictions.PREDICTIONS[key].experiments``, and :func:`make_figure` saves PNG + PDF + caption.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from simrank.figures import PALETTE, line_panel, save
from simrank.losses import floor_of
from simrank.paths import FIGURES_DIR
from simrank.predictions import PREDICTIONS, RESULTS_DIR, analyse_p8, analyse_p10, config_value, load_results
from simrank.stats import summarise
from simrank.theory import kappa_eta, t3_gap_bound

NDCG = "true nDCG@10 (fraction)"


def _legend(ax, title):
    ax.legend(title=title, fontsize=7, title_fontsize=8)


def draw_p1(t):
    df = t["p01-gap-vs-diameter"].copy()
    B = float(config_value(df, "student", "norm_bound").iloc[0])
    df["bound"] = [
        t3_gap_bound(B, r.delta_rms, r.delta_max, int(r.n_train), 0.05, data_dependent=True) for r in df.itertuples()
    ]
    df["pool"] = df["pool_size"].map(lambda p: f"pool {p:g}")
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    colours = sns.color_palette(PALETTE, df["pool_size"].nunique())
    for colour, (pool, part) in zip(colours, df.groupby("pool_size")):
        axes[0].scatter(part["delta_hat"], part["gap"], color=colour, s=14, label=f"{pool:g}")
    axes[0].set_xlabel("sampled diameter Δ̂ (0.99-quantile, embedding units)")
    axes[0].set_ylabel("generalisation gap (nats per pair)")
    _legend(axes[0], "pool size M")
    for y, colour, label in (("gap", 0, "measured gap"), ("bound", 1, "T3 bound (data-dependent)")):
        s = summarise(df, "pool_size", y).merge(summarise(df, "pool_size", "delta_hat"), on=["pool_size", "n"])
        c = sns.color_palette(PALETTE)[colour]
        axes[1].plot(s["delta_hat_mean"], s[f"{y}_mean"], "o-", color=c, ms=3, label=label)
        axes[1].fill_between(s["delta_hat_mean"], s[f"{y}_low"], s[f"{y}_high"], color=c, alpha=0.2, lw=0)
    axes[1].set_yscale("log")
    axes[1].set_xlabel("sampled diameter Δ̂ (embedding units)")
    axes[1].set_ylabel("nats per pair (log scale)")
    axes[1].legend(fontsize=7)
    for ax in axes:
        ax.grid(alpha=0.3)
    return fig


def draw_p2(t):
    df = t["p02-entropy-floor"].copy()
    df["floor"] = floor_of(df["loss"], df)
    df["train_excess"] = df["train_risk"] - df["floor"]
    losses = sorted(df["loss"].unique())
    fig, axes = plt.subplots(1, len(losses), figsize=(4 * len(losses), 3.2), squeeze=False)
    for ax, loss in zip(axes[0], losses):
        part = df[df["loss"] == loss]
        line_panel(ax, part, "n_train", "excess_risk", "tau")
        ax.set_xscale("log")
        ax.axhline(0, color="black", lw=0.8, ls="--")
        ax.set_title(f"{loss} (floor = {'H_list' if loss == 'listnet' else 'H_pair'})")
        ax.set_xlabel("training groups n (log scale)")
        ax.set_ylabel("test risk − H(g) (nats)")
    _legend(axes[0, -1], "τ")
    return fig


def draw_p3(t):
    raw = t["p03-additivity"]
    matched = t["p03-additivity-matched"].assign(entropy=lambda d: config_value(d, "data", "match_entropy"))
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2), sharey=True)
    line_panel(axes[0], raw, "pool_size", "gap", "tau")
    line_panel(axes[1], matched, "pool_size", "gap", "entropy")
    for ax, title, legend in ((axes[0], "raw: fixed τ", "τ"), (axes[1], "entropy-matched", "mean H_pair (nats)")):
        ax.set_xscale("log")
        ax.set_xlabel("negative pool size M (log scale; small = local)")
        ax.set_title(title)
        _legend(ax, legend)
    axes[0].set_ylabel("generalisation gap (nats)")
    return fig


def _by_world_loss(df, world_col, world_label, x, xlabel, y=("ndcg10", NDCG), hue="loss", hue_title="loss"):
    worlds = sorted(df[world_col].unique())
    fig, axes = plt.subplots(1, len(worlds), figsize=(4 * len(worlds), 3.2), sharey=True, squeeze=False)
    for ax, w in zip(axes[0], worlds):
        line_panel(ax, df[df[world_col] == w], x, y[0], hue)
        ax.set_title(f"{world_label} = {w:g}" if isinstance(w, float) else f"{world_label}: {w}")
        ax.set_xlabel(xlabel)
    axes[0, 0].set_ylabel(y[1])
    _legend(axes[0, -1], hue_title)
    return fig, axes


def draw_p4(t):
    df = t["p04-hard-negatives"].assign(nonbilinear=lambda d: config_value(d, "world", "nonbilinear", 0.0))
    fig, axes = _by_world_loss(
        df, "nonbilinear", "non-bilinear weight γ", "pool_size", "negative pool size M (log scale)"
    )
    for ax in axes[0]:
        ax.set_xscale("log")
    return fig


def draw_p5(t):
    df = t["p05-false-negatives"].assign(
        fn_share=lambda d: 1 - d["eta"],
        arm=lambda d: d["loss"] + np.where(d["sampler"].str.endswith("+filter"), " + filter", ""),
    )
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    line_panel(ax, df, "fn_share", "ndcg10", "arm")
    ax.set_xlabel("share of negatives from the true top-10 (false negatives)")
    ax.set_ylabel(NDCG)
    _legend(ax, "loss")
    return fig


def draw_p6(t):
    df = t["p06-entropy-quality"].assign(
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
    axes[1].set_xlabel("teacher listwise entropy H_list (nats)")
    axes[1].grid(alpha=0.3)
    axes[0].set_ylabel(NDCG)
    _legend(axes[1], "teacher / test")
    return fig


def draw_p7(t):
    df = t["p07-diameter-geometry"]
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    line_panel(ax, df, "pool_size", "delta_hat", "world")
    ax.set_xscale("log")
    ax.set_xlabel("negative pool size M (log scale; small = hard)")
    ax.set_ylabel("sampled diameter Δ̂ (embedding units)")
    _legend(ax, "geometry")
    return fig


def draw_p8(t):
    df = t["p08-augmentation"].assign(nonbilinear=lambda d: config_value(d, "world", "nonbilinear", 0.0))
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.3))
    base = df[df["eta"] == 0]
    line_panel(axes[0], df[df["beta"] == df["beta"].max()], "eta", "kappa", "nonbilinear")
    etas = np.linspace(0.01, 1, 100)
    k0 = base[base["beta"] == base["beta"].max()]["kappa"].mean()
    axes[0].plot(etas, kappa_eta(k0, etas), "k--", lw=0.8, label="κ_η formula")
    axes[0].plot(etas, 1 / etas, "k:", lw=0.8, label="1/η")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("mixing weight η")
    axes[0].set_ylabel(f"κ (β = {df['beta'].max():g}, log scale)")
    _legend(axes[0], "γ")
    stars = analyse_p8(t).table
    for ax, (w, part) in zip(axes[1:], df[df["beta"] > 0].groupby("nonbilinear")):
        line_panel(ax, part, "eta", "target_risk", "beta")
        for colour, star in zip(sns.color_palette(PALETTE), stars[stars["nonbilinear"] == w].itertuples()):
            ax.axvline(star.eta_star, color=colour, ls="--", lw=0.8)
        ax.set_title(f"non-bilinear weight γ = {w:g} (dashed: bound's η*)", fontsize=9)
        ax.set_xlabel("mixing weight η")
        ax.set_ylabel("target risk under μ (nats per pair)")
        _legend(ax, "β")
    return fig


def draw_p9(t):
    df = t["p09-extreme-entropy"].assign(selection=lambda d: config_value(d, "data", "train_queries", "all"))
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    line_panel(ax, df, "test_shift", "ndcg10", "selection")
    ax.set_xlabel("test-query domain shift (embedding units)")
    ax.set_ylabel(NDCG)
    _legend(ax, "training queries")
    return fig


def draw_p10(t):
    df = t["p10-kl-ndcg"]
    ci = analyse_p10(t).table.set_index("loss")
    losses = sorted(df["loss"].unique())
    colours = dict(zip(losses, sns.color_palette(PALETTE)))
    markers = dict(zip(losses, "osD^v"))  # shape as well as colour: two of the palette's oranges are close
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    jitter = np.random.default_rng(0)
    for i, loss in enumerate(losses):
        rho = df.loc[df["loss"] == loss, "kl_ndcg_corr"].dropna()
        axes[0].scatter(i + jitter.uniform(-0.15, 0.15, len(rho)), rho, s=10, alpha=0.6, color=colours[loss])
        r = ci.loc[loss]
        axes[0].errorbar(
            i + 0.3,
            r["per_query_rho"],
            yerr=[[r["per_query_rho"] - r["low"]], [r["high"] - r["per_query_rho"]]],
            fmt="o",
            color="black",
            ms=4,
            capsize=3,
        )
    axes[0].axhline(0, color="grey", lw=0.8, ls="--")
    axes[0].set_xticks(range(len(losses)), losses)
    axes[0].set_xlabel("loss")
    axes[0].set_ylabel("Spearman ρ across queries\n(per-query KL vs nDCG@10)")
    axes[0].set_title("per query (one dot per model)", fontsize=9)
    for loss in losses:
        part = df[df["loss"] == loss]
        axes[1].scatter(part["kl_corpus"], part["ndcg10"], s=14, color=colours[loss], marker=markers[loss], label=loss)
    axes[1].set_xscale("log")
    axes[1].set_xlabel("mean KL(teacher ‖ student) over the corpus (nats, log scale)")
    axes[1].set_ylabel(NDCG)
    axes[1].set_title("across models (means over queries)", fontsize=9)
    _legend(axes[1], "loss")
    for ax in axes:
        ax.grid(alpha=0.3)
    return fig


def draw_p11(t):
    df = t["p11-group-size"].assign(arm=lambda d: d["loss"] + ", pool " + d["pool_size"].map("{:g}".format))
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    line_panel(ax, df, "group_size", "ndcg10", "arm")
    ax.set_xscale("log", base=2)
    sizes = sorted(df["group_size"].unique())
    ax.set_xticks(sizes, [str(k) for k in sizes])
    ax.set_xlabel("group size k (log scale)")
    ax.set_ylabel(NDCG)
    _legend(ax, "loss, sampler")
    return fig


def draw_p12(t):
    df = t["p12-seed-noise"]
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    colours = sns.color_palette(PALETTE, df["seed"].nunique())
    for colour, (_, part) in zip(colours, df.groupby("seed")):
        part = part.sort_values("pool_size")
        axes[0].plot(part["pool_size"], part["ndcg10"], "o-", ms=2, lw=0.8, color=colour, alpha=0.8)
    axes[0].set_title("one line per seed", fontsize=9)
    line_panel(axes[1], df.assign(all="mean"), "pool_size", "ndcg10", "all")
    axes[1].set_title("mean over seeds, 95% CI", fontsize=9)
    for ax in axes:
        ax.set_xlabel("negative pool size M")
        ax.set_ylabel(NDCG)
        ax.grid(alpha=0.3)
    return fig


FIGURES = {
    "P1": (
        draw_p1,
        "P1. Left: generalisation gap of soft RankNet (bilinear student, ‖W‖_F ≤ B) against the sampled diameter Δ̂, one dot per model, colour = negative pool size. Right: mean gap and the data-dependent T3 bound (δ = 0.05) against Δ̂ per pool, log scale, bands 95% CIs over seeds.",
    ),
    "P2": (
        draw_p2,
        "P2. Test risk minus the teacher-entropy floor H(g) (T1) against the number of training groups, one line per teacher temperature τ, for soft RankNet (floor H_pair) and ListNet (floor H_list); dashed line = the floor; bands 95% CIs over seeds.",
    ),
    "P3": (
        draw_p3,
        "P3. Generalisation gap of listwise KL distillation against negative pool size. Left: one line per teacher temperature τ (raw factorial). Right: one line per target mean pairwise entropy, τ chosen per sampler and seed by bisection so the training groups' H_pair matches; bands 95% CIs. Parallel lines = no interaction.",
    ),
    "P4": (
        draw_p4,
        "P4. True nDCG@10 over the whole corpus against negative pool size (20 = local hard negatives, 1000 = uniform), LCE vs listwise KL; left well-specified world, right world with a non-bilinear relevance part; bands 95% CIs over 8 seeds.",
    ),
    "P5": (
        draw_p5,
        "P5. True nDCG@10 against the share of negatives drawn from the 10 truly most relevant documents (false negatives), for LCE and KL distillation, with and without the false-negative filter (margin 0); bands 95% CIs over seeds.",
    ),
    "P6": (
        draw_p6,
        "P6. True nDCG@10 of KL distillation against teacher temperature τ (left) and the resulting teacher listwise entropy (right), per teacher noise and test-query shift; bands 95% CIs over seeds.",
    ),
    "P7": (
        draw_p7,
        "P7. Sampled group diameter Δ̂ (0.99-quantile) against negative pool size in an isotropic and a cone world (unnormalised vectors, dot-product proxy); bands 95% CIs over seeds.",
    ),
    "P8": (
        draw_p8,
        "P8. Left: sampling bias κ = max μ/ν against the mixing weight η for the hardest tempered sampler, with the T4 formula κ_η and the cap 1/η. Middle/right: realised target risk under uniform negatives against η, one line per hardness β, in a well-specified and a misspecified world; dashed verticals: the bound-optimal η*. Bands 95% CIs over seeds.",
    ),
    "P9": (
        draw_p9,
        "P9. True nDCG@10 against the test-query domain shift for students trained on all queries or only on the lowest-, highest- or extreme-entropy (both tails) teacher queries (same number of queries); bands 95% CIs over seeds.",
    ),
    "P10": (
        draw_p10,
        "P10. Left: per model (losses × samplers × seeds), Spearman ρ across its evaluation queries between per-query KL(teacher ‖ student) over the corpus and per-query true nDCG@10; black: mean over the loss's models with its 95% CI (models with constant nDCG omitted). Right: mean nDCG@10 against mean corpus KL, one dot per model.",
    ),
    "P11": (
        draw_p11,
        "P11. True nDCG@10 against group size k for LCE and KL distillation with uniform (pool 1000) and local (pool 100) negatives; bands 95% CIs over seeds.",
    ),
    "P12": (
        draw_p12,
        "P12. True nDCG@10 of KL distillation for five near-equivalent samplers (pool sizes): left one line per seed (10 seeds), right the mean with its 95% CI; crossings on the left are orders a single seed would report.",
    ),
}


def make_figure(key: str, out_dir: Path = FIGURES_DIR, root: Path = RESULTS_DIR) -> list[Path]:
    """Draw prediction ``key``'s figure from the results under ``root`` into ``out_dir/<key>.{png,pdf,txt}``."""
    draw, caption = FIGURES[key]
    tables = {name: load_results(name, root) for name in PREDICTIONS[key].experiments}
    fig = draw(tables)
    fig.tight_layout()
    return save(fig, Path(out_dir) / key.lower(), caption)
