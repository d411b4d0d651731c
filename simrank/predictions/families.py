"""World families: the worlds every prediction's pre-registered experiment is decided on, each with its own budget.

A family (:class:`Family`) moves a registered experiment to another world (``[world]`` overrides, pools scaled
with the corpus where it says so) and gives it a training budget (``[train]`` overrides: ``steps``,
``learning_rate``, ``batch_size``) under which the models converge there.  :data:`FAMILIES` is the registry; adding
a family is one entry.  ``main`` is the registered world of each experiment with the converging budget; the registered
verdicts (the registered world at the registered budgets) stay the main verdict table's.

Convergence (:mod:`simrank.runner`: ``loss_plateau``, ``ndcg_plateau``, ``converged`` of every model): a *cell*
(one grid point, all its seeds) is converged when the seed means of both plateau statistics are within the
model-level tolerances (``LOSS_PLATEAU``, ``NDCG_PLATEAU``): seed noise averages out, a systematic drift does not.
:func:`family_outcome` gives ``unconverged`` instead of a verdict when any cell of a prediction's experiments is not
converged, or when the results carry no convergence statistics (except for :data:`TRAINING_FREE` predictions).
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from simrank.config import Experiment, load_experiment
from simrank.errors import check_choice
from simrank.runner import LOSS_PLATEAU, NDCG_PLATEAU

__all__ = [
    "BUDGETS",
    "FAMILIES",
    "GD_BUDGET",
    "TRAINING_FREE",
    "Family",
    "cell_convergence",
    "family_experiment",
    "on_budget",
    "unconverged_cells",
]


@dataclass(frozen=True)
class Family:
    """A world family.

    Attributes:
      name: its label (results go to ``robustness-<name>/``).
      description: one line for the paper.
      world: ``[world]`` overrides applied to every experiment.
      train: ``[train]`` overrides (the family's converging budget); empty: the registered budget.
      scale_pools: scale every ``pool_size`` and ``offset`` by new ``n_docs`` / registered ``n_docs`` (a pool keeps
        its share of the corpus; pool N stays uniform).
    """

    name: str
    description: str
    world: Mapping[str, Any] = field(default_factory=dict)
    train: Mapping[str, Any] = field(default_factory=dict)
    scale_pools: bool = False

    @property
    def folder(self) -> str:
        """The results folder under the prediction results: ``robustness-<name>``."""
        return f"robustness-{self.name}"

    def applies(self, exp: Experiment) -> bool:
        """False when the family overrides a ``[world]`` setting that ``exp`` varies (e.g. its geometry)."""
        return not any(f"world.{key}" in exp.grid for key in self.world)


#: The converging budget (pilots of P4's, P5's and P11's designs, 3 seeds each: ``results/pilots/README.md``;
#: deviation D38): full-batch gradient descent on the L2-regularised empirical risk,
#:
#:     θ ← Π(θ − η (∇L̂(θ) + λ θ)),   L̂(θ) = (1/n) Σ_groups ℓ(f_θ(group), g(group)),
#:
#: with η = 1 and λ = 1e-3 (``optimizer = "sgd"``, whose ``weight_decay`` adds λθ to the gradient).  Every student of
#: the designs is bilinear (scores linear in θ) and every loss convex in the scores, so L̂ + (λ/2)‖θ‖² is λ-strongly
#: convex: it has one minimiser and gradient descent reaches it at a linear rate (about 1 − ηλ a step), so the
#: convergence criterion's last-20% check can pass — and fails when the run is too short (λ = 1e-4 at 3,000 steps:
#: 4 of 8 P4 cells on the main world, 0 of 8 on the cone world).  Without λ the LCE risk on 256 separable groups has
#: no minimiser (it falls forever while nDCG@10 drifts), and AdamW's decoupled decay does not fix it (λ from 1e-4 to
#: 0.3 at 3,000 full-batch steps leaves 2-6 of 8 P4 cells unconverged; λ = 1 converges by collapsing the student to
#: nDCG@10 ≤ 0.22: AdamW's fixed point bounds ‖θ‖∞ by 1/λ instead of minimising the penalised risk).
#: λ = 1e-3 is the smallest tried decay that converges every pilot cell (1e-2 and 3e-3 converge too, at a larger
#: bias: the cone world's best cell falls from 0.34 to 0.24 and 0.18 nDCG@10); 5,000 steps are the fewest tried that
#: converge every pilot cell of every family at λ = 1e-3 (3,000 leave 1 of 8 P4 cells on the main world, 2 on the
#: cone world).  The decay's bias is the price of a minimiser: the large world's best P4 cell reaches 0.40 nDCG@10
#: (0.84 for unconverged AdamW), the clustered world's 0.57 (0.68), the cone world's 0.34 (0.53).
GD_BUDGET = {"optimizer": "sgd", "learning_rate": 1.0, "batch_size": None, "weight_decay": 1e-3}
BUDGETS: dict[str, dict[str, Any]] = {
    "main": GD_BUDGET | {"steps": 5000},
    "large": GD_BUDGET | {"steps": 5000},
    "clustered": GD_BUDGET | {"steps": 5000},
    "cone": GD_BUDGET | {"steps": 5000},
}

#: The registry: name -> family.  Every family, ``main`` included, trains with its converging budget
#: (:data:`BUDGETS`); the registered verdicts (the registered budgets) are the main table's, not this registry's.
FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("main", "the registered world (N = 1,000, d = 8, sphere)", train=BUDGETS["main"]),
        Family(
            "large",
            "N = 10,000, d = 32, pools scaled by 10",
            world={"n_docs": 10_000, "dim": 32},
            train=BUDGETS["large"],
            scale_pools=True,
        ),
        Family("clustered", "clustered (topic) geometry", world={"geometry": "clustered"}, train=BUDGETS["clustered"]),
        Family("cone", "cone geometry", world={"geometry": "cone"}, train=BUDGETS["cone"]),
    )
}


#: Predictions decided on data-only measures (P7: the sampled diameter Δ̂ of the training groups), which no training
#: budget changes: their cells need no convergence.
TRAINING_FREE = frozenset({"P7"})


def _scale_pools(values: list, factor: float) -> list:
    return [None if v in (None, "none") else round(v * factor) for v in values]


def family_experiment(
    name: str, family: str, seeds: int | None = None, train: Mapping[str, Any] | None = None
) -> Experiment:
    """The registered experiment ``name`` moved to the world family ``family``, with the family's budget.

    Args:
      name: an experiment config name.
      family: a key of :data:`FAMILIES`.
      seeds: seeds to run (default: the registered ones).
      train: ``[train]`` overrides replacing the family's budget (the pilots' candidate budgets).

    Returns:
      The modified :class:`simrank.config.Experiment` (its name gets ``@family``).
    """
    check_choice("world family", family, list(FAMILIES))
    fam = FAMILIES[family]
    exp = load_experiment(name)
    base, grid = copy.deepcopy(exp.base), copy.deepcopy(exp.grid)
    if fam.scale_pools:
        factor = fam.world["n_docs"] / base["world"]["n_docs"]
        for key in ("pool_size", "offset"):
            if key in base.get("sampler", {}):
                base["sampler"][key] = round(base["sampler"][key] * factor)
            if f"sampler.{key}" in grid:
                grid[f"sampler.{key}"] = _scale_pools(grid[f"sampler.{key}"], factor)
    base["world"].update(fam.world)
    base.setdefault("train", {}).update(fam.train if train is None else train)
    return dataclasses.replace(
        exp, name=f"{name}@{family}", base=base, grid=grid, seeds=seeds if seeds is not None else exp.seeds
    )


def cell_convergence(df: pd.DataFrame) -> pd.DataFrame:
    """Per cell (``config_hash``): the seed means of ``loss_plateau`` and ``ndcg_plateau``, the share of converged
    models, and ``converged`` = both means within ``LOSS_PLATEAU`` / ``NDCG_PLATEAU`` (see the module docstring).

    Args:
      df: a results table with the convergence columns.

    Returns:
      One row per cell, indexed by ``config_hash``.
    """
    cells = df.groupby("config_hash").agg(
        loss_plateau=("loss_plateau", "mean"), ndcg_plateau=("ndcg_plateau", "mean"), models=("converged", "mean")
    )
    ok = (cells["loss_plateau"].abs() <= LOSS_PLATEAU) & (cells["ndcg_plateau"].abs() <= NDCG_PLATEAU)
    return cells.assign(converged=ok)


def unconverged_cells(tables: Mapping[str, pd.DataFrame]) -> tuple[int, int] | None:
    """``(unconverged, all)`` cells of ``tables`` (``{experiment: results}``); None when a table carries no
    convergence statistics (results from before the ``converged`` column)."""
    if any("converged" not in df for df in tables.values()):
        return None
    cells = [cell_convergence(df)["converged"] for df in tables.values()]
    return int(sum((~c).sum() for c in cells)), sum(len(c) for c in cells)


def on_budget(df: pd.DataFrame, family: str) -> bool:
    """Whether every row of ``df`` was trained with ``family``'s budget: each ``[train]`` setting of
    :data:`FAMILIES` ``[family].train`` equals the one in the row's resolved ``config`` (results of an older budget
    are no evidence at this one).

    Args:
      df: a results table (with its ``config`` column).
      family: a key of :data:`FAMILIES`.

    Returns:
      True when every row's budget is the family's.
    """
    want = dict(FAMILIES[family].train)
    return all({k: json.loads(c)["train"].get(k) for k in want} == want for c in df["config"].drop_duplicates())
