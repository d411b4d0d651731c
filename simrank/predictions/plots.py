"""Figure pieces shared by the prediction figures: per-seed paired effects drawn with the interval the
decision uses, and captions generated from the results' configs."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from simrank.figures import PALETTE
from simrank.predictions.base import ALPHA, Effect

__all__ = ["NDCG", "LEVEL", "design_note", "did_panels", "effect_panel", "legend"]

NDCG = "true nDCG@10 (fraction)"
LEVEL = f"{1 - 2 * ALPHA:.0%}"  # the decision interval: two one-sided tests at α


def legend(ax: Axes, title: str) -> None:
    """A small legend with a title."""
    ax.legend(title=title, fontsize=7, title_fontsize=8)


def effect_panel(
    ax: Axes, effects: Sequence[tuple[str, Effect]], sesoi: float | None, ylabel: str, equivalence: bool = False
) -> None:
    """One point per labelled per-seed effect with its decision interval; grey band ±SESOI (or [0, SESOI)
    for a predicted increase when ``equivalence`` is False), dashed line at 0.

    Args:
      ax: the matplotlib axes.
      effects: ``(label, Effect)`` pairs, drawn left to right.
      sesoi: the SESOI (band half-width), or None for no band.
      ylabel: the effect's name and unit.
      equivalence: draw the band as ``(−sesoi, sesoi)`` (the equivalence region) instead of ``[0, sesoi)``.
    """
    colours = sns.color_palette(PALETTE, len(effects))
    for i, ((_, e), colour) in enumerate(zip(effects, colours)):
        ax.errorbar(i, e.mean, yerr=[[e.mean - e.low], [e.high - e.mean]], fmt="o", color=colour, capsize=4, ms=5)
    if sesoi is not None:
        ax.axhspan(-sesoi if equivalence else 0, sesoi, color="grey", alpha=0.2, lw=0)
    ax.axhline(0, color="black", lw=0.8, ls="--")
    ax.set_xticks(range(len(effects)), [label for label, _ in effects], fontsize=7)
    ax.set_xlim(-0.6, len(effects) - 0.4)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, axis="y")


def did_panels(
    conditions: dict[str, dict[str, Effect]], sesoi: float, ylabel: str, equivalence: bool = False, width: float = 3.6
) -> Figure:
    """One :func:`effect_panel` per condition (title -> its ``"lce"``, ``"kl"`` and ``"did"`` effects): LCE, KL
    and their difference-in-differences LCE − KL side by side, sharing the y axis.

    Returns:
      The matplotlib figure.
    """
    fig, axes = plt.subplots(1, len(conditions), figsize=(width * len(conditions), 3.2), sharey=True, squeeze=False)
    for ax, (title, e) in zip(axes[0], conditions.items()):
        effect_panel(ax, [("LCE", e["lce"]), ("KL", e["kl"]), ("LCE − KL", e["did"])], sesoi, ylabel, equivalence)
        ax.set_title(title, fontsize=9)
    for ax in axes[0][1:]:
        ax.set_ylabel("")  # the shared y axis is labelled once
    return fig


def design_note(df: pd.DataFrame) -> str:
    """``n seeds, W worlds`` of a results table (worlds from the ``world_seed`` column when present)."""
    seeds = df["seed"].nunique()
    worlds = df["world_seed"].nunique() if "world_seed" in df else 1
    return f"{seeds} seeds, {worlds} world{'s' if worlds != 1 else ''}"
