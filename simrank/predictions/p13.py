"""P13: which negatives give the best nDCG@10 -- uniform, the teacher's top-M, or stratified over the teacher's score
range -- under listwise KL and MarginMSE, as the training-aware theory predicts per world (``paper/theory.md`` §10).

The design's four samplers are one kind, ``stratified`` (:class:`simrank.samplers.Stratified`, proxy the teacher):
``S`` equal-width strata of the teacher's score range within a pool, uniform over strata, then within a stratum.
``S = 1`` is uniform over the pool, so (strata, pool) = (1, corpus) is uniform ``μ``, (1, M) the teacher's top M,
(S, corpus) stratified over the whole spectrum and (S, M) stratified within the top M (arXiv 2604.04734).

The theory's prediction (:func:`theory_ranking`) orders the samplers of each condition (world family, loss) by
the predicted top-10 target excess ``Bias + (V + D)/n`` at the design's ``n`` and group size
(:func:`simrank.theory.rank_samplers` at ``η = 0``); :data:`PREDICTED` is that order as pre-registered.
"""

from __future__ import annotations

import pandas as pd

from simrank.config import Point, load_experiment
from simrank.theory import rank_samplers

EXPERIMENT = "p13-stratified"
POPULATION = 5000  # groups per Monte Carlo population of the theory's prediction
THEORY_SEED = 0  # seed of those populations


def sampler_label(strata: int, pool_size: float | None) -> str:
    """``uniform``, ``top-M``, ``stratified`` or ``stratified top-M`` for a stratified sampler's (strata, pool).

    >>> sampler_label(1, None), sampler_label(1, 50), sampler_label(8, None), sampler_label(8, 50.0)
    ('uniform', 'top-50', 'stratified', 'stratified top-50')
    """
    pool = None if pool_size is None or pool_size != pool_size else int(pool_size)  # NaN: no pool (a results column)
    if strata == 1:
        return "uniform" if pool is None else f"top-{pool}"
    return "stratified" if pool is None else f"stratified top-{pool}"


def condition(point: Point) -> str:
    """A grid point's condition: ``"<geometry> <loss>"`` (world family and loss)."""
    return f"{point.world.geometry} {point.loss}"


def theory_ranking(experiment: str = EXPERIMENT, population: int = POPULATION, seed: int = THEORY_SEED) -> pd.DataFrame:
    """The theory's order of the design's samplers per condition: :func:`simrank.theory.rank_samplers` on the
    condition's world (one fixed world: the config sets ``data.world_per_seed = false``) and teacher, loss, ``n`` =
    ``data.n_train``, group size, target ``"top10"``, ``η = 0``; rank 1 = the least predicted excess.

    Args:
      experiment: the experiment config.
      population: groups per Monte Carlo population.
      seed: the populations' seed.

    Returns:
      a frame with columns ``condition``, ``rank``, ``sampler``, ``predicted_excess``, ``bias``, ``variance``,
      ``drift``.
    """
    cells: dict[str, list[Point]] = {}
    for point in load_experiment(experiment).points():
        cells.setdefault(condition(point), []).append(point)
    frames = []
    for name, points in cells.items():
        p = points[0]
        samplers = {
            sampler_label(q.sampler_config.strata or 1, q.sampler_config.pool_size): q.sampler() for q in points
        }
        ranked = rank_samplers(p.world.generate(), p.teacher, samplers, loss=p.loss, n_groups=p.data.n_train,
                               group_size=p.data.group_size, etas=(0.0,), target="top10", tau=p.tau,
                               population=population, seed=seed)  # fmt: skip
        frames.append(ranked.drop(columns="eta_star").assign(condition=name, rank=range(1, len(ranked) + 1)))
    columns = ["condition", "rank", "sampler", "predicted_excess", "bias", "variance", "drift"]
    return pd.concat(frames, ignore_index=True)[columns]
