"""The rule ``η*(n)`` against trained students (``paper/theory.md`` §10(e)): two registered designs and their rows.

* :data:`ETA_MOVES`: a world where Theorem 7(c) predicts ``η*(n)`` to move with ``n`` (0.3 → 0.6 → 1 over
  ``n = 100, 400, 1600``); row ``T7 η*(n)``.
* :data:`ETA_ZERO`: a world where it predicts ``η* = 0`` at every ``n`` (the negatives already come from the target
  law); row ``T7 η* = 0``.

Both designs (world, sampler, loss, target, ``η`` grid, ``n`` grid, fits per cell, seeds, SESOI, ``z``) were committed
before the run that decides them (:func:`eta_star_table`, ``results/theory/eta-star-*.parquet``).  The measured
excess ``M(η, n)`` is the mean over ``reps`` converged fits (:func:`~simrank.theory.prediction.measure_excess`) and
``se`` its standard error; the tolerance of a gap at ``n`` is

    tol(n) = SESOI · min_η M(η, n) + z · √(se(η_a)² + se(η_b)²),

i.e. a choice counts as "the best" unless its measured excess exceeds the measured minimum by more than the SESOI
(relative) plus ``z`` standard errors of the difference.  The fits of different ``η`` are treated as independent;
they share their training seeds, so their errors are probably positively correlated, and then the tolerance is
too wide (easier for the row to pass, harder for its control to be detected).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from simrank.samplers import Local, Sampler
from simrank.teacher import Teacher
from simrank.theory.bounds import Check
from simrank.theory.prediction import TARGETS, excess_curve, measure_excess, predicted_eta_star, validation_worlds
from simrank.world import WorldConfig

__all__ = [
    "ETA_MOVES",
    "ETA_ZERO",
    "EtaStarDesign",
    "eta_moves_row",
    "eta_star_block",
    "eta_star_table",
    "eta_zero_row",
    "power_reps",
    "rule_gaps",
]


@dataclass(frozen=True)
class EtaStarDesign:
    """A registered test of the rule ``η*(n)``: world, student's data, grids, Monte Carlo sizes, seeds and criterion.

    Attributes:
      name: the design's name (``results/theory/eta-star-NAME.parquet``).
      world: the world's configuration.
      teacher: the teacher.
      sampler: the base negative sampler ``ν`` (mixed with uniform at ``η``).
      loss: the training loss.
      target: the target law (a key of :data:`~simrank.theory.prediction.TARGETS`).
      group_size: ``k``.
      etas: the ``η`` grid.
      n_values: the ``n`` grid.
      reps: converged fits per ``(η, n)`` cell.
      population: groups per Monte Carlo population of the prediction.
      test: independent target groups of the measurement.
      seed: the prediction's seed; the measurement uses ``seed + 5000`` (disjoint from every pilot run).
      sesoi: the smallest effect of interest, relative to the cell's measured minimum.
      z: standard errors of a difference allowed on top of the SESOI (one-sided; Bonferroni over 4 competitors × 3 n
        at family level 0.075).
    """

    name: str
    world: WorldConfig
    teacher: Teacher
    sampler: Sampler
    loss: str
    target: str
    group_size: int = 4
    etas: tuple[float, ...] = (0.0, 0.1, 0.3, 0.6, 1.0)
    n_values: tuple[int, ...] = (100, 400, 1600)
    reps: int = 60
    population: int = 40_000
    test: int = 20_000
    seed: int = 0
    sesoi: float = 0.10
    z: float = 2.5


#: η*(n) moves: signal 15, γ = 0.2 (a soft teacher that the bilinear student cannot represent), dense top-8
#: negatives, KL, target uniform. Chosen by the prediction alone (a scan of 85 configurations, 5,000 groups per
#: population); predicted (40,000 groups) η* = 0.3, 0.6, 1 at n = 100, 400, 1600, the control's rule (η* = 1)
#: 1.77× the minimum at n = 100.
ETA_MOVES = EtaStarDesign(
    name="moves",
    world=WorldConfig(n_docs=64, dim=4, sphere=True, signal=15.0, nonbilinear=0.2),
    teacher=Teacher(0.3),
    sampler=Local(8, "dense"),
    loss="kl",
    target="uniform",
)
_ON_TARGET = validation_worlds()[3]
#: η* = 0: the world of ``on-target-kl`` (γ = 0.5, signal 3), negatives from the target law itself (teacher top 10),
#: KL, target top10: Bias(0) = 0 and mixing in μ adds bias and variance.
ETA_ZERO = EtaStarDesign(
    name="zero",
    world=_ON_TARGET.world,
    teacher=_ON_TARGET.teacher,
    sampler=TARGETS["top10"],
    loss="kl",
    target="top10",
    reps=40,
    population=20_000,
)


def eta_star_table(design: EtaStarDesign, progress: Callable[[dict], None] | None = None) -> pd.DataFrame:
    """The deciding run of ``design``: per ``(η, n)`` the prediction (:func:`~simrank.theory.prediction.excess_curve`,
    ``Bias + (V + D)/n``) and the measured excess of ``reps`` converged fits on ``test`` independent target groups.

    Args:
      design: the registered design.
      progress: called with each row as it is measured.

    Returns:
      one row per cell: ``n``, ``eta``, ``eta_star`` (the rule's choice at ``n``), ``predicted``, ``bias``,
      ``variance``, ``drift``, ``measured``, ``se``, ``grad_norm``.
    """
    world = design.world.generate()
    common: dict[str, Any] = dict(loss=design.loss, group_size=design.group_size, target=design.target)
    curve = excess_curve(world, design.teacher, design.sampler, etas=design.etas, population=design.population,
                         seed=design.seed, **common)  # fmt: skip
    rows = []
    for n in design.n_values:
        for p in curve:
            m = measure_excess(world, design.teacher, design.sampler, n_groups=n, eta=p.eta, reps=design.reps,
                               test=design.test, seed=design.seed + 5000, **common)  # fmt: skip
            rows.append({"n": n, "eta": p.eta, "eta_star": predicted_eta_star(curve, n), "predicted": p.at(n),
                         "bias": p.bias, "variance": p.variance, "drift": p.drift, "measured": m["mean"],
                         "se": m["se"], "grad_norm": m["grad_norm"]})  # fmt: skip
            if progress is not None:
                progress(rows[-1])
    return pd.DataFrame(rows)


def _curve_rule(table: pd.DataFrame) -> dict[int, float]:
    """The predicted ``η*(n)`` per ``n`` of the table (its ``eta_star`` column:
    :func:`~simrank.theory.prediction.predicted_eta_star` at that ``n``)."""
    return {int(n): float(c["eta_star"].iloc[0]) for n, c in table.groupby("n")}


def rule_gaps(table: pd.DataFrame, rule: dict[int, float], sesoi: float, z: float) -> pd.DataFrame:
    """Per ``n``: the measured excess at the rule's ``η`` minus the measured minimum, and its tolerance
    ``SESOI · min M + z √(se_rule² + se_min²)``.

    Args:
      table: :func:`eta_star_table`'s frame.
      rule: ``n → η`` chosen by the rule under test.
      sesoi: the relative SESOI.
      z: standard errors of the difference allowed.

    Returns:
      one row per ``n``: ``n``, ``eta_rule``, ``eta_measured`` (the measured argmin), ``gap``, ``tol``, ``within``.

    Examples:
      >>> t = pd.DataFrame({"n": [10, 10], "eta": [0.0, 1.0], "measured": [1.0, 1.5], "se": [0.1, 0.1]})
      >>> rule_gaps(t, {10: 1.0}, 0.1, 2.0)[["gap", "within"]].round(3).values.tolist()
      [[0.5, False]]
    """
    rows = []
    for n, cell in table.groupby("n"):
        best = cell.loc[cell["measured"].idxmin()]
        chosen = cell.loc[np.isclose(cell["eta"], rule[int(n)])].iloc[0]
        gap = float(chosen["measured"] - best["measured"])
        tol = sesoi * float(best["measured"]) + z * math.hypot(float(chosen["se"]), float(best["se"]))
        rows.append({"n": int(n), "eta_rule": float(chosen["eta"]), "eta_measured": float(best["eta"]), "gap": gap,
                     "tol": tol, "within": gap <= tol})  # fmt: skip
    return pd.DataFrame(rows)


def _stars(gaps: pd.DataFrame) -> str:
    return ", ".join(f"n={r.n}: {r.eta_rule:g}/{r.eta_measured:g}" for r in gaps.itertuples())


def eta_moves_row(table: pd.DataFrame, design: EtaStarDesign = ETA_MOVES, control: bool = False) -> Check:
    """Row ``T7 η*(n)``: at every ``n`` the measured excess at the predicted ``η*(n)`` is within the tolerance of the
    measured minimum, and the predicted ``η*`` differs between the smallest and the largest ``n``.  The control is
    the rule that ignores ``n`` (``η*`` fixed at its largest-``n`` value): it must miss at some ``n``.

    Args:
      table: :func:`eta_star_table` of ``design``.
      design: the registered design (SESOI, ``z``).
      control: judge the control's rule instead (the returned row then holds only if the control is *not* detected).

    Returns:
      the row (``value``: the largest ``gap/tol`` over ``n``).
    """
    predicted = _curve_rule(table)
    ns = sorted(predicted)
    rule = {n: predicted[ns[-1]] for n in ns} if control else predicted
    gaps = rule_gaps(table, rule, design.sesoi, design.z)
    worst = float((gaps["gap"] / gaps["tol"]).max())
    moves = predicted[ns[0]] != predicted[ns[-1]]
    holds = bool(gaps["within"].all()) and moves
    if control:
        # the control holds (= is not detected) only if ignoring n passed every cell
        holds = bool(gaps["within"].all())
    kind = f"η* fixed at its n = {ns[-1]} value {predicted[ns[-1]]:g}" if control else "predicted η*(n)"
    return Check(
        "T7 η*(n)",
        f"max gap/tol of {kind} to the measured min, {design.loss}, target {design.target}",
        worst,
        holds,
        f"η* rule/measured {_stars(gaps)}; tol = {design.sesoi:g}·min + {design.z:g} se, {design.reps} fits per cell",
    )


def eta_zero_row(table: pd.DataFrame, design: EtaStarDesign = ETA_ZERO, control: bool = False) -> Check:
    """Row ``T7 η* = 0``: the predicted ``η*(n)`` is 0 at every ``n``, the measured excess at ``η = 0`` is within the
    tolerance of the measured minimum, and the measured excess at ``η = 1`` exceeds that at ``η = 0`` by more than
    the tolerance (training agrees that mixing hurts).  The control is the rule "always ``η = 1``": its gap to the
    measured minimum must exceed the tolerance at some ``n``.

    Args:
      table: :func:`eta_star_table` of ``design``.
      design: the registered design (SESOI, ``z``).
      control: judge the control's rule instead.

    Returns:
      the row (``value``: the largest ``gap/tol`` of the rule over ``n``).
    """
    predicted = _curve_rule(table)
    ns = sorted(predicted)
    top = max(design.etas)
    rule = {n: top for n in ns} if control else {n: 0.0 for n in ns}
    gaps = rule_gaps(table, rule, design.sesoi, design.z)
    by = table.set_index(["n", "eta"])
    rises = all(
        by.loc[(n, top), "measured"] - by.loc[(n, 0.0), "measured"]
        > design.sesoi * by.loc[(n, 0.0), "measured"]
        + design.z * math.hypot(by.loc[(n, top), "se"], by.loc[(n, 0.0), "se"])
        for n in ns
    )
    worst = float((gaps["gap"] / gaps["tol"]).max())
    holds = bool(gaps["within"].all()) if control else (bool(gaps["within"].all()) and rises and
                                                        all(v == 0.0 for v in predicted.values()))  # fmt: skip
    return Check(
        "T7 η* = 0",
        f"max gap/tol of {'η = 1' if control else 'η = 0'} to the measured min, {design.loss}, target {design.target}",
        worst,
        holds,
        f"η* predicted {sorted(set(predicted.values()))}, "
        f"measured {_stars(gaps)}; M(1)/M(0) {', '.join(f'{x:.2f}' for x in _ratio(table, top))}",
    )


def _ratio(table: pd.DataFrame, top: float) -> list[float]:
    by = table.set_index(["n", "eta"])["measured"]
    return [float(by[(n, top)] / by[(n, 0.0)]) for n in sorted(table["n"].unique())]


def power_reps(delta: float, sd_a: float, sd_b: float, floor: float, z: float, power_z: float = 1.2816) -> int:
    """Fits per cell for a gap ``delta`` between two cells (per-fit standard deviations ``sd_a``, ``sd_b``) to exceed
    the tolerance ``floor + z se`` with the power of ``power_z`` (0.9: 1.2816):
    ``R = ⌈((z + z_β) √(sd_a² + sd_b²) / (delta − floor))²⌉``; ``inf`` cannot be reached (``delta ≤ floor``).

    Args:
      delta: the predicted gap.
      sd_a: per-fit standard deviation of the first cell's excess.
      sd_b: the second cell's.
      floor: the SESOI part of the tolerance.
      z: standard errors allowed.
      power_z: the normal quantile of the power.

    Examples:
      >>> power_reps(0.0063, 0.0059, 0.0034, 0.0008, 2.5)
      22
    """
    if delta <= floor:
        raise ValueError(f"a gap {delta} at or below the SESOI floor {floor} cannot be detected")
    return math.ceil(((z + power_z) * math.hypot(sd_a, sd_b) / (delta - floor)) ** 2)


def eta_star_block(moves: pd.DataFrame, zero: pd.DataFrame) -> str:
    """Markdown of theory.md §10(e) (between ``<!-- T7-ETA-STAR -->`` markers) from the two deciding runs."""
    lines = []
    for design, table, row in ((ETA_MOVES, moves, eta_moves_row), (ETA_ZERO, zero, eta_zero_row)):
        lines += [f"**{design.name}** ({design.loss}, target {design.target}): predicted / measured ± se", ""]
        ns = sorted(table["n"].unique())
        lines += ["| η | " + " | ".join(f"n = {n}" for n in ns) + " |", "|---" * (len(ns) + 1) + "|"]
        for eta, part in table.groupby("eta"):
            cells = [f"{r.predicted:.4g} / {r.measured:.4g} ± {r.se:.2g}" for r in part.sort_values("n").itertuples()]
            lines.append(f"| {eta:g} | " + " | ".join(cells) + " |")
        real, ctrl = row(table, design), row(table, design, control=True)
        extra = ""
        if row is eta_moves_row:  # the other n-blind rule: η* fixed at its smallest-n value
            small = _curve_rule(table)[ns[0]]
            fixed = rule_gaps(table, {n: small for n in ns}, design.sesoi, design.z)
            worst = (fixed["gap"] / fixed["tol"]).max()
            extra = f"The rule fixed at its n = {ns[0]} value {small:g}: max gap/tol {worst:.2f}. "
        lines += ["", f"Row: {'holds' if real.holds else 'FAILS'} ({real.detail}; max gap/tol {real.value:.2f}). "
                  f"Control: {'not detected' if ctrl.holds else 'fails as it must'} (max gap/tol {ctrl.value:.2f}). "
                  f"{extra}Largest final gradient norm {table['grad_norm'].max():.1e}.", ""]  # fmt: skip
    return "\n".join(lines).rstrip()
