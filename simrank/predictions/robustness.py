"""Robustness re-checks: a prediction's pre-registered experiment on another world, same rule.

Labels: every world family of :data:`simrank.predictions.families.FAMILIES` (``main``: the registered world and
budget, run to audit convergence; ``large``, ``clustered``, ``cone``: the experiment moved to that world with the
family's converging budget), and ``worlds``: the registered world, with ``SEEDS_PER_WORLD`` seeds per world (for
:mod:`simrank.predictions.worlds`).  Results go to ``RESULTS_DIR/robustness-<label>/<name>/`` and are read by
:func:`simrank.predictions.paper.family_outcomes` (the families: the per-family verdict table) and
:func:`simrank.predictions.paper.generated_blocks` (``worlds``).  Run: ``python -m simrank.predictions.robustness
[--seeds=N] LABEL NAME ...``.
"""

from __future__ import annotations

import copy
import dataclasses
import sys
from pathlib import Path

from simrank.config import Experiment, load_experiment
from simrank.errors import check_choice
from simrank.paths import RESULTS_DIR
from simrank.predictions.families import FAMILIES, family_experiment
from simrank.predictions.worlds import SEEDS_PER_WORLD
from simrank.sweep import run_experiment

__all__ = ["FOLDERS", "robustness_experiment", "run"]

#: every label -> results folder under RESULTS_DIR (the world families and the between-world design).
FOLDERS = {name: fam.folder for name, fam in FAMILIES.items()} | {"worlds": "robustness-worlds"}


def robustness_experiment(name: str, label: str, seeds: int | None = None) -> Experiment:
    """The registered experiment ``name`` moved to the ``label`` world (see the module docstring).

    Args:
      name: an experiment config name.
      label: a world family (:data:`~simrank.predictions.families.FAMILIES`) or ``"worlds"``.
      seeds: seeds to run (default: the registered ones).

    Returns:
      The modified :class:`simrank.config.Experiment` (its name gets ``@label``).
    """
    check_choice("robustness label", label, list(FOLDERS))
    if label in FAMILIES:
        return family_experiment(name, label, seeds)
    exp = load_experiment(name)
    base = copy.deepcopy(exp.base)
    base.setdefault("data", {})["seeds_per_world"] = SEEDS_PER_WORLD
    return dataclasses.replace(exp, name=f"{name}@{label}", base=base, seeds=seeds if seeds is not None else exp.seeds)


def run(label: str, names: list[str], seeds: int | None = None, root: Path = RESULTS_DIR) -> None:
    """Run the ``label`` re-check of every experiment in ``names`` into ``root/robustness-<label>/<name>``.

    Args:
      label: a world family or ``"worlds"``.
      names: experiment config names.
      seeds: seeds to run (default: the registered ones).
      root: the prediction results folder.
    """
    for name in names:
        run_experiment(robustness_experiment(name, label, seeds), Path(root) / FOLDERS[label] / name, resume=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    n = int(args.pop(0)[len("--seeds=") :]) if args and args[0].startswith("--seeds=") else None
    run(args[0], args[1:], n)
