"""Between-world variation of the paired effects: how much of their spread over seeds is the world's.

The deciding runs draw one world per seed, so a per-seed effect's spread mixes two sources: the world
(corpus, relevance map, teacher perturbation) and everything else a seed draws (queries, groups,
initialisation).  The ``worlds`` re-check (``python -m simrank.predictions.robustness --seeds=40 worlds NAME``)
runs a registered experiment with ``[data] seeds_per_world = SEEDS_PER_WORLD``, W = seeds / S worlds of S seeds
each, and :func:`between_worlds` splits each paired effect's variance into between- and within-world parts
(:func:`simrank.stats.variance_components`).
"""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd

from simrank.predictions.base import config_value, effect_of, fmt
from simrank.stats import variance_components

__all__ = ["CONTRASTS", "SEEDS_PER_WORLD", "Contrast", "between_worlds", "worlds_table"]

SEEDS_PER_WORLD = 5


class Contrast(NamedTuple):
    """A paired effect: ``value`` at the ``axis`` level ``first`` minus at ``second`` (``"min"``/``"max"`` of the
    axis), per seed, within each cell of the ``by`` columns (``"section.key"``: a setting of the row's config)."""

    value: str
    axis: str
    first: str
    second: str
    by: tuple[str, ...]

    def label(self) -> str:
        return f"{self.value}({self.axis} {self.first}) − {self.value}({self.axis} {self.second})"


#: experiment -> the paired effects its prediction tests.
CONTRASTS = {
    "p04-hard-negatives": Contrast("ndcg10", "pool_size", "min", "max", ("world.nonbilinear", "loss")),
    "p11-group-size": Contrast("ndcg10", "group_size", "max", "min", ("pool_size", "loss")),
}


def between_worlds(df: pd.DataFrame, contrast: Contrast) -> pd.DataFrame:
    """Per cell of ``contrast.by``: the paired effect over all seeds (mean, 90% t-interval) and its variance split
    into between-world and within-world SDs, ICC and the one-way F test of "no world effect".

    Args:
      df: a results table with ``seed``, ``world_seed`` and the contrast's columns; seeds nested in worlds with the
        same number of seeds per world.
      contrast: the paired effect.

    Returns:
      One row per cell: the ``by`` columns, ``effect``, ``low``, ``high``, ``worlds``, ``seeds_per_world``,
      ``between_sd``, ``within_sd``, ``icc``, ``p_world``.
    """
    df = df.assign(**{c: config_value(df, *c.split(".")) for c in contrast.by if "." in c})
    levels = df[contrast.axis]
    pick = {"min": levels.min(), "max": levels.max()}
    rows = []
    for cell, part in df.groupby(list(contrast.by)):
        per_seed = part.groupby(["seed", contrast.axis])[contrast.value].mean().unstack()
        diff = (per_seed[pick[contrast.first]] - per_seed[pick[contrast.second]]).dropna()
        world = part.groupby("seed")["world_seed"].first().loc[diff.index]
        by_world = diff.groupby(world)
        sizes = by_world.size()
        if sizes.nunique() != 1 or len(sizes) < 2:
            raise ValueError(f"{contrast.label()}: need >= 2 worlds with equal seeds each, got sizes {sizes.tolist()}")
        vc = variance_components(by_world.mean(), by_world.var(ddof=1), int(sizes.iloc[0]))
        e = effect_of(diff.to_numpy())
        rows.append(
            dict(zip(contrast.by, cell if isinstance(cell, tuple) else (cell,)))
            | {
                "effect": e.mean,
                "low": e.low,
                "high": e.high,
                "worlds": vc.groups,
                "seeds_per_world": vc.per_group,
                "between_sd": vc.between_sd,
                "within_sd": vc.within_sd,
                "icc": vc.icc,
                "p_world": vc.p,
            }
        )
    return pd.DataFrame(rows)


def worlds_table(tables: dict[str, pd.DataFrame]) -> str:
    """Markdown: for every experiment in ``tables`` (``{name: results}``) with a registered contrast, its
    :func:`between_worlds` rows."""
    lines = [
        "| experiment | effect | cell | effect [90% CI] | worlds × seeds | between-world SD | within-world SD | ICC "
        "| p (no world effect) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, df in tables.items():
        contrast = CONTRASTS[name]
        for r in between_worlds(df, contrast).to_dict("records"):
            cell = ", ".join(
                f"{c.split('.')[-1]} = {r[c]:g}" if isinstance(r[c], float) else f"{c} = {r[c]}" for c in contrast.by
            )
            lines.append(
                f"| {name} | {contrast.label()} | {cell} | {fmt(r['effect'])} [{fmt(r['low'])}, {fmt(r['high'])}] "
                f"| {r['worlds']} × {r['seeds_per_world']} | {fmt(r['between_sd'])} | {fmt(r['within_sd'])} "
                f"| {fmt(r['icc'], 2)} | {r['p_world']:.2g} |"
            )
    return "\n".join(lines) + "\n"
