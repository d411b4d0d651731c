"""Figures from results tables: seed means with 95% confidence bands, colour-blind-safe palette.

Every figure is written as PNG and PDF and comes with a caption (``CAPTIONS``) saying what it shows.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from simrank.stats import summarise  # noqa: E402

__all__ = [
    "CAPTIONS",
    "LABELS",
    "PALETTE",
    "bias_sweep_figure",
    "line_panel",
    "save",
    "seed_summary",
]

PALETTE = "colorblind"
LABELS = {
    "gap": "generalisation gap (nats)",
    "ndcg10": "true nDCG@10",
    "locality": "sampler locality 1 − H(ν)/log N",
    "tau": "teacher temperature τ",
}
CAPTIONS = {
    "bias-sweep": (
        "Bias sweep (bilinear student, η = 0): generalisation gap (top) and true nDCG@10 over the whole "
        "corpus (bottom) against sampler locality, one column per loss, one line per teacher temperature τ; "
        "lines are means over seeds, bands 95% t-intervals. LCE ignores the teacher, so its three τ lines "
        "coincide."
    ),
}


def seed_summary(df: pd.DataFrame, by: list[str], value: str, confidence: float = 0.95) -> pd.DataFrame:
    """Mean of ``value`` per group of ``by`` with a Student-t interval in which **the seed is the unit**.

    The rows of one seed in a group (other grid axes such as τ or η, or duplicated rows) are averaged first,
    ``x_s = mean{value : rows of seed s}``; then over the ``S`` seeds of the group
    ``mean = (1/S) Σ_s x_s`` and ``mean ∓ t_{S−1, (1+confidence)/2} · sd(x)/√S``. Rows that share a seed are
    never counted as independent observations, so repeating rows cannot narrow the interval.

    Args:
      df: results with a ``seed`` column, the ``by`` columns and ``value``.
      by: the factors kept apart.
      value: the measured column.
      confidence: two-sided level of the interval.

    Returns:
      ``by + [value_mean, value_low, value_high, n]``, ``n`` the number of seeds, groups sorted by ``by``.

    Examples:
      >>> df = pd.DataFrame({"loss": ["kl"] * 4, "seed": [0, 0, 1, 1], "tau": [1, 3, 1, 3], "gap": [1.0, 3, 4, 6]})
      >>> seed_summary(df, ["loss"], "gap").round(3).values.tolist()  # seeds give 2 and 5
      [['kl', 3.5, -15.559, 22.559, 2]]
    """
    per_seed = df.groupby([*by, "seed"], sort=True, observed=True, dropna=False)[value].mean().reset_index()
    return summarise(per_seed, by, value, confidence)


def line_panel(ax, df: pd.DataFrame, x: str, y: str, hue: str) -> None:
    """Mean of ``y`` against ``x`` per ``hue`` level, with a 95% confidence band over seeds (:func:`seed_summary`:
    one value per seed, the seed's other rows averaged)."""
    summary = seed_summary(df, [hue, x], y)
    colours = sns.color_palette(PALETTE, summary[hue].nunique())
    for colour, (level, part) in zip(colours, summary.groupby(hue)):
        part = part.sort_values(x)
        ax.plot(
            part[x],
            part[f"{y}_mean"],
            marker="o",
            ms=3,
            color=colour,
            label=f"{level:g}" if isinstance(level, float) else str(level),
        )
        ax.fill_between(part[x], part[f"{y}_low"], part[f"{y}_high"], color=colour, alpha=0.2, lw=0)
    ax.set_xlabel(LABELS.get(x, x))
    ax.grid(alpha=0.3)


def save(fig, stem: Path, caption: str) -> list[Path]:
    """Write ``stem.png``, ``stem.pdf`` and the caption ``stem.txt``."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".pdf")]
    fig.savefig(paths[0], dpi=150, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight", metadata={"CreationDate": None})  # reproducible bytes
    plt.close(fig)
    stem.with_suffix(".txt").write_text(caption + "\n")
    return paths


def bias_sweep_figure(results: pd.DataFrame, stem: Path) -> list[Path]:
    """Gap and nDCG@10 over locality × τ, one column per loss (bilinear student, η = 0 if present)."""
    df = results
    if "bilinear" in set(df["student"]):
        df = df[df["student"] == "bilinear"]
    df = df[df["eta"] == df["eta"].min()]
    losses = sorted(df["loss"].unique())
    fig, axes = plt.subplots(2, len(losses), figsize=(3.2 * len(losses), 5.6), sharex=True, squeeze=False)
    for col, loss in enumerate(losses):
        part = df[df["loss"] == loss]
        for row, y in enumerate(["gap", "ndcg10"]):
            ax = axes[row, col]
            line_panel(ax, part, "locality", y, "tau")
            if row == 0:
                ax.set_title(loss)
            if col == 0:
                ax.set_ylabel(LABELS[y])
            if row == 0:
                ax.set_xlabel("")
    axes[0, -1].legend(title="τ", fontsize=8)
    fig.tight_layout()
    return save(fig, stem, CAPTIONS["bias-sweep"])
