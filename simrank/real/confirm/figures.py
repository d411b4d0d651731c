"""The figures of a ``simrank real confirm`` run: test nDCG@10 against the group size (:func:`confirm_figure`)
and the training curves (:func:`curves_figure`)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from simrank.figures import line_panel, save

__all__ = [
    "CAPTION",
    "confirm_figure",
    "CURVES_CAPTION",
    "curves_figure",
]

CAPTION = (
    "Real-data confirm: test nDCG@10 (exponential gain 2^g − 1, the ndcg10 column) over the whole corpus "
    "against the training group size k, one panel per trained student × arm (loss and label source), one line "
    "per negative sampler; lines are "
    "means over seeds, bands 95% t-intervals over seeds; dashed grey: the dense retriever every student "
    "starts from, dotted black: the hybrid teacher."
)
CURVES_CAPTION = (
    "Training curves: the training loss (mean over windows of steps, divided by its first window) of every "
    "arm at its chosen learning rate, one panel per student, at the reference group size; mean over the "
    "grid's samplers and seeds."
)


def confirm_figure(results: pd.DataFrame, baselines: pd.DataFrame, stem: Path, columns: int = 3) -> list[Path]:
    """Test nDCG@10 (exponential gain, whole corpus) against group size: a grid of ``columns`` panels a row, one
    panel per student × arm, one line per sampler (mean over seeds, 95% band over seeds), the dense start and
    the teacher as reference lines; one shared legend under the grid, fonts at least 8 pt at the saved size."""
    students = list(dict.fromkeys(results.student))
    arms = list(dict.fromkeys(results.arm))
    cells = [(student, arm) for student in students for arm in arms]
    rows = -(-len(cells) // columns)
    with plt.rc_context({"font.size": 8, "axes.titlesize": 8, "axes.labelsize": 8, "legend.fontsize": 8}):
        fig, axes = plt.subplots(
            rows, columns, figsize=(2.4 * columns, 1.9 * rows), sharex=True, sharey=True, squeeze=False
        )
        full = baselines[(baselines["set"] == "test") & (baselines["mode"] == "full")].set_index("model")["nDCG@10"]
        ks = sorted(results.group_size.unique())
        for i, (ax, (student, arm)) in enumerate(zip(axes.flat, cells)):
            part = results[(results.student == student) & (results.arm == arm)]
            line_panel(ax, part, "group_size", "ndcg10", "sampler")
            ax.axhline(full["dense"], color="grey", ls="--", lw=1, label="dense (every student's start)")
            ax.axhline(full["teacher"], color="black", ls=":", lw=1, label="teacher")
            ax.set_xscale("log", base=2)
            ax.set_xticks(ks, [str(k) for k in ks])
            ax.minorticks_off()
            ax.set_title(f"{arm}, {student} student")
            ax.set_xlabel("group size k" if i + columns >= len(cells) else "")
            ax.set_ylabel("test nDCG@10\n(exp. gain)" if i % columns == 0 else "")
        for ax in axes.flat[len(cells) :]:
            ax.set_visible(False)
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.tight_layout(rect=(0, 0.14, 1, 1))  # room below the panels for the titled two-row legend
        fig.legend(handles, labels, loc="lower center", ncol=3, frameon=False, title="sampler / reference")
        return save(fig, stem, CAPTION)


def curves_figure(results: pd.DataFrame, stem: Path) -> list[Path]:
    """Relative training loss against training progress, one line per arm, one panel per student."""
    students = list(dict.fromkeys(results.student))
    fig, axes = plt.subplots(1, len(students), figsize=(4.2 * len(students), 3.2), squeeze=False)
    k = results.group_size.max()
    for ax, student in zip(axes[0], students):
        df = results[(results.student == student) & (results.group_size == k)]
        for arm, part in df.groupby("arm", sort=False):
            curves = np.stack(part.curve.to_numpy())
            rel = (curves / curves[:, :1]).mean(axis=0)
            steps = int(part.steps.iloc[0])
            ax.plot(
                np.linspace(steps / len(rel), steps, len(rel)),
                rel,
                marker=".",
                label=f"{arm} (lr {part.learning_rate.iloc[0]:g})",
            )
        ax.set_xlabel("training step")
        ax.set_ylabel("training loss / first window")
        ax.set_title(f"{student} student, k = {k}", fontsize=9)
        ax.legend(fontsize=6)
    fig.tight_layout()
    return save(fig, stem, CURVES_CAPTION)


# ----------------------------------------------------------------------------- Markdown
