"""Robustness re-checks: a prediction's pre-registered experiment on another world, same rule.

``large``: N = 10,000 documents in d = 32 dimensions, with every pool size scaled by N/1000 (so a pool keeps
its share of the corpus, and pool N is still uniform; a pool's ``offset`` scales with it); ``clustered``: the clustered geometry (topics) instead of
the isotropic one; ``worlds``: the registered world, with ``SEEDS_PER_WORLD`` seeds per world (for
:mod:`simrank.predictions.worlds`).  Results go to ``RESULTS_DIR/robustness-<label>/<name>/`` and are read by
:func:`simrank.predictions.paper.robustness` (``large``, ``clustered``: the verdict table's columns) and
:func:`simrank.predictions.paper.generated_blocks` (``worlds``).  Run: ``python -m simrank.predictions.robustness LABEL NAME ...``.
"""

from __future__ import annotations

import copy
import dataclasses
import sys
from pathlib import Path

from simrank.config import Experiment, load_experiment
from simrank.errors import check_choice
from simrank.paths import RESULTS_DIR
from simrank.predictions.worlds import SEEDS_PER_WORLD
from simrank.sweep import run_experiment

__all__ = ["FOLDERS", "LARGE_DIM", "LARGE_DOCS", "ROBUSTNESS", "robustness_experiment", "run"]

LARGE_DOCS, LARGE_DIM = 10_000, 32
#: label -> results folder under RESULTS_DIR.
ROBUSTNESS = {"large": "robustness-large", "clustered": "robustness-clustered"}
#: every label -> results folder (the verdict-table re-checks and the between-world design).
FOLDERS = ROBUSTNESS | {"worlds": "robustness-worlds"}


def _scale_pools(values, factor: float):
    return [None if v in (None, "none") else round(v * factor) for v in values]


def robustness_experiment(name: str, label: str, seeds: int | None = None) -> Experiment:
    """The registered experiment ``name`` moved to the ``label`` world (see the module docstring).

    Args:
      name: an experiment config name.
      label: ``"large"``, ``"clustered"`` or ``"worlds"``.
      seeds: seeds to run (default: the registered ones).

    Returns:
      The modified :class:`simrank.config.Experiment` (its name gets ``@label``).
    """
    check_choice("robustness label", label, list(FOLDERS))
    exp = load_experiment(name)
    base, grid = copy.deepcopy(exp.base), copy.deepcopy(exp.grid)
    if label == "large":
        factor = LARGE_DOCS / base["world"]["n_docs"]
        base["world"].update(n_docs=LARGE_DOCS, dim=LARGE_DIM)
        for key in ("pool_size", "offset"):
            if key in base.get("sampler", {}):
                base["sampler"][key] = round(base["sampler"][key] * factor)
            if f"sampler.{key}" in grid:
                grid[f"sampler.{key}"] = _scale_pools(grid[f"sampler.{key}"], factor)
    elif label == "worlds":
        base.setdefault("data", {})["seeds_per_world"] = SEEDS_PER_WORLD
    else:
        base["world"]["geometry"] = "clustered"
        grid.pop("world.geometry", None)
    return dataclasses.replace(
        exp, name=f"{name}@{label}", base=base, grid=grid, seeds=seeds if seeds is not None else exp.seeds
    )


def run(label: str, names: list[str], seeds: int | None = None, root: Path = RESULTS_DIR) -> None:
    """Run the ``label`` re-check of every experiment in ``names`` into ``root/robustness-<label>/<name>``."""
    for name in names:
        run_experiment(robustness_experiment(name, label, seeds), Path(root) / FOLDERS[label] / name, resume=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    n = int(args.pop(0)[len("--seeds=") :]) if args and args[0].startswith("--seeds=") else None
    run(args[0], args[1:], n)
