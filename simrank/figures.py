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
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from simrank.stats import summarise  # noqa: E402

__all__ = [
    "LABELS",
    "LINESTYLES",
    "PALETTE",
    "bias_sweep_caption",
    "bias_sweep_figure",
    "line_panel",
    "save",
    "seed_summary",
]

PALETTE = "colorblind"
LABELS = {
    "gap": "generalisation gap (nats)",
    "ndcg10": "true nDCG@10 (exponential gain)",
    "locality": "sampler locality 1 − H(ν)/log N",
    "tau": "teacher temperature τ",
}
#: Line styles of the levels of a second factor drawn in one panel (``line_panel(..., style=...)``).
LINESTYLES = ("-", "--", ":", "-.")


def _level(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


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


def line_panel(ax: Axes, df: pd.DataFrame, x: str, y: str, hue: str, style: str | None = None) -> None:
    """Mean of ``y`` against ``x`` per ``hue`` level (colour) and, if given, ``style`` level (:data:`LINESTYLES`),
    with a 95% confidence band over seeds (:func:`seed_summary`: one value per seed, the seed's other rows
    averaged)."""
    summary = seed_summary(df, [hue, x] if style is None else [hue, style, x], y)
    colours = dict(zip(sorted(summary[hue].unique()), sns.color_palette(PALETTE, summary[hue].nunique())))
    styles = {None: "-"} if style is None else dict(zip(sorted(summary[style].unique()), LINESTYLES))
    for key, part in summary.groupby([hue] if style is None else [hue, style]):
        level, style_level = (key[0], None) if style is None else key
        part = part.sort_values(x)
        label = _level(level) if style is None else f"{_level(level)}, {_level(style_level)}"
        colour = colours[level]
        ax.plot(part[x], part[f"{y}_mean"], marker="o", ms=3, color=colour, ls=styles[style_level], label=label)
        ax.fill_between(part[x], part[f"{y}_low"], part[f"{y}_high"], color=colour, alpha=0.15, lw=0)
    ax.set_xlabel(LABELS.get(x, x))
    ax.grid(alpha=0.3)


def save(fig: Figure, stem: Path, caption: str) -> list[Path]:
    """Write ``stem.png``, ``stem.pdf`` and the caption ``stem.txt``."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".pdf")]
    fig.savefig(paths[0], dpi=150, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight", metadata={"CreationDate": None})  # reproducible bytes
    plt.close(fig)
    stem.with_suffix(".txt").write_text(caption + "\n")
    return paths


def bias_sweep_caption(results: pd.DataFrame) -> str:
    """The caption of :func:`bias_sweep_figure` for ``results``: every factor drawn and the seed count."""
    students = ", ".join(sorted(results["student"].unique()))
    etas = ", ".join(_level(e) for e in sorted(results["eta"].unique()))
    return (
        f"Bias sweep: generalisation gap (nats) and true nDCG@10 (exponential gain 2^g − 1) over the whole corpus "
        f"against sampler locality. Columns: loss. Rows: measure × student ({students}). Colour: teacher "
        f"temperature τ; line style: mixture weight η ({etas}; solid = {_level(results['eta'].min())}). Lines are "
        f"means over {results['seed'].nunique()} seeds, bands 95% t-intervals with the seed as the unit. "
        "LCE ignores the teacher, so its τ lines coincide."
    )


def bias_sweep_figure(results: pd.DataFrame, stem: Path) -> list[Path]:
    """Gap and nDCG@10 against locality: one column per loss, one row per measure × student, colour τ, line
    style η; the legend sits below the panels, off the data."""
    losses = sorted(results["loss"].unique())
    students = sorted(results["student"].unique())
    rows = [(y, student) for student in students for y in ("gap", "ndcg10")]
    fig, axes = plt.subplots(
        len(rows), len(losses), figsize=(3.0 * len(losses), 2.4 * len(rows)), sharex=True, squeeze=False
    )
    for col, loss in enumerate(losses):
        for row, (y, student) in enumerate(rows):
            ax = axes[row, col]
            line_panel(
                ax, results[(results["loss"] == loss) & (results["student"] == student)], "locality", y, "tau", "eta"
            )
            ax.set_title(f"{loss}, {student}", fontsize=9)
            if col == 0:
                ax.set_ylabel(LABELS[y], fontsize=8)
            if row < len(rows) - 1:
                ax.set_xlabel("")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(
        handles,
        [f"τ = {t}, η = {e}" for t, e in (label.split(", ") for label in labels)],
        loc="lower center",
        ncol=min(len(labels), 6),
        fontsize=8,
        frameon=False,
    )
    fig.tight_layout(rect=(0, 0.06 if len(rows) > 2 else 0.1, 1, 1))
    return save(fig, stem, bias_sweep_caption(results))
