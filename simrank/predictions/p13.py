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

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats as sps

from simrank.config import Point, load_experiment
from simrank.predictions.base import (
    ALPHA,
    Decision,
    Effect,
    Prediction,
    Tables,
    Verdict,
    by_seed,
    change_verdict,
    config_value,
    decide_conditions,
    decide_increase,
    deciding_test,
    fmt_effect,
    paired_effect,
    power_change,
    seeds_change,
)
from simrank.predictions.plots import LEVEL, design_note, effect_panel
from simrank.theory.prediction import rank_samplers

__all__ = [
    "EXPERIMENT",
    "PREDICTED",
    "PREDICTION",
    "RULE",
    "SEEDS",
    "SESOI",
    "analyse",
    "caption",
    "condition",
    "decide",
    "draw",
    "labelled",
    "margins",
    "pilot_seeds",
    "sampler_label",
    "theory_ranking",
]

EXPERIMENT = "p13-stratified"
SESOI = 0.02  # nDCG@10 (absolute), as P4, P5, P11: the non-inferiority margin of the predicted best sampler
SEEDS = 9  # one-sided paired t at the SESOI, largest pilot SD of a decided margin 0.0211 (stats.n_paired_t -> 9)
POPULATION = 5000  # groups per Monte Carlo population of the theory's prediction
THEORY_SEED = 0  # seed of those populations
#: The rule's parts: the predicted best sampler against the samplers the theory ranks 2nd, 3rd and 4th.
RULE = {"vs_2": decide_increase, "vs_3": decide_increase, "vs_4": decide_increase}
#: The theory's order of the samplers per condition, best first (:func:`theory_ranking`), as pre-registered.
_BEST_FIRST = ("stratified top-50", "top-50", "stratified", "uniform")
PREDICTED: dict[str, tuple[str, ...]] = {
    "isotropic kl": _BEST_FIRST,
    "isotropic margin_mse": _BEST_FIRST,
    "clustered kl": _BEST_FIRST,
    "clustered margin_mse": ("stratified top-50", "top-50", "uniform", "stratified"),
}


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


# ============================================================================ the rule


def labelled(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its rows' ``condition`` (``"<geometry> <loss>"``) and ``label`` (:func:`sampler_label`)."""
    strata = config_value(df, "sampler", "strata")
    labels = [sampler_label(int(s), p) for s, p in zip(strata, df["pool_size"])]
    return df.assign(condition=config_value(df, "world", "geometry") + " " + df["loss"], label=labels)


def margins(
    df: pd.DataFrame, predicted: Mapping[str, tuple[str, ...]], sesoi: float = SESOI
) -> dict[str, dict[str, Effect]]:
    """Per condition of ``predicted``, per part ``vs_i``: the non-inferiority margin of the predicted best sampler
    ``X`` (rank 1) over the one ranked ``i``, ``Y_i``, paired by seed: ``nDCG@10(X) − nDCG@10(Y_i) + sesoi``.

    Args:
      df: the results table.
      predicted: condition -> sampler labels, best first (a condition without rows in ``df`` is left out).
      sesoi: the margin.
    """
    df = labelled(df)
    out = {}
    for cond, order in predicted.items():
        if not (df["condition"] == cond).any():
            continue  # a condition the table does not hold is not decided
        s = {label: by_seed(df, (df["condition"] == cond) & (df["label"] == label), "ndcg10") for label in order}
        out[cond] = {f"vs_{i}": paired_effect(s[order[0]] + sesoi, s[y]) for i, y in enumerate(order[1:], start=2)}
    return out


def decide(effects: Mapping[Any, Mapping[str, Effect]], sesoi: float = SESOI, k: int = 1) -> Decision:
    """P13's rule.  Per condition (world family × loss), the theory's best sampler ``X`` is within ``sesoi`` of
    the best: for each other sampler ``Y`` the margin ``m = nDCG@10(X) − nDCG@10(Y) + sesoi`` (:func:`margins`) is
    decided by ``decide_increase`` at ``sesoi``: *supported* when its interval lies above 0 (``X`` is not worse than
    ``Y`` by ``sesoi``: non-inferiority), *refuted* when it lies below ``sesoi`` (``Y`` is shown better than ``X``,
    by any amount: ``X`` is then not the best);
    a condition is all_of its three parts, conditions combine by ``across_conditions``.

    Args:
      effects: condition -> {"vs_2", "vs_3", "vs_4"} -> :class:`Effect` of the margin.
      sesoi: SESOI (nDCG@10).
      k: decided tests for the multiplicity policy (``base.familywise``): ``len(RULE) · len(effects)``.
    """
    return decide_conditions(RULE, effects, sesoi, k)


def pilot_seeds(df: pd.DataFrame, predicted: Mapping[str, tuple[str, ...]] = PREDICTED) -> int:
    """The seeds of the design: the largest, over every decided part, of ``seeds_change(SESOI, sd)`` with the
    per-seed SD of the part's margin in ``df`` (the pilot): 80% power to support non-inferiority when ``X`` and
    ``Y`` are equal."""
    return max(seeds_change(SESOI, e.sd) for parts in margins(df, predicted).values() for e in parts.values())


def _trained(df: pd.DataFrame) -> pd.DataFrame:
    return labelled(df).groupby(["condition", "label"])["ndcg10"].mean().unstack("label")


def analyse(tables: Tables) -> Verdict:
    """Per condition: the margins of :data:`PREDICTED`'s best sampler over the others (:func:`margins`, 90%
    t-intervals, refutations on Bonferroni intervals over the 12 decided tests), decided by :func:`decide`; beside
    them, the trained best sampler (highest mean nDCG@10), whether the theory picked it (its hit rate against a
    random pick's 1/4), and Spearman's ρ between the predicted order and the mean nDCG@10."""
    df = tables[EXPERIMENT]
    e = margins(df, PREDICTED)
    decision = decide(e, k=len(RULE) * len(e))
    means = _trained(df)
    rows = []
    for cond in e:
        order = PREDICTED[cond]
        trained = means.loc[cond, list(order)]
        rho = float(sps.spearmanr(range(len(order)), -trained.to_numpy()).statistic)
        rows.append(
            {
                "condition": cond,
                "predicted_best": order[0],
                "trained_best": str(trained.idxmax()),
                "hit": order[0] == trained.idxmax(),
                "spearman": rho,
                **{f"ndcg10 {label}": float(v) for label, v in trained.items()},
                **{f"{p}_margin": x.mean for p, x in e[cond].items()},
                **{f"{p}_low": x.low for p, x in e[cond].items()},
                **{f"{p}_high": x.high for p, x in e[cond].items()},
                "outcome": decision.conditions[cond],
            }
        )
    table = pd.DataFrame(rows)
    tests = [
        ((cond, part), decision.parts[cond][part], power_change(SESOI, e[cond][part].sd, e[cond][part].n))
        for cond in e
        for part in RULE
    ]
    cond, part = deciding_test(decision.outcome, tests)
    hits = int(table["hit"].sum())
    summary = (
        f"margin nDCG@10(predicted best) − nDCG@10(other) + {SESOI}, paired by seed ({LEVEL} CIs; refutations on "
        f"Bonferroni intervals over the {len(tests)} decided tests): "
        + "; ".join(
            f"{r.condition}: predicted {r.predicted_best}, trained best {r.trained_best}; "
            + ", ".join(f"vs {PREDICTED[r.condition][int(p[3:]) - 1]} {fmt_effect(e[r.condition][p])}" for p in RULE)
            + f" → {r.outcome}"
            for r in table.itertuples()
        )
        + f"; the theory picked the trained best in {hits} of {len(table)} conditions (a random pick: "
        f"{len(table) / 4:g} expected), mean Spearman ρ {table['spearman'].mean():.2f}; the verdict rests on "
        f"{cond}'s {part}"
    )
    return change_verdict(decision.outcome, summary, e[cond][part], SESOI, df, table, hits=hits)


def draw(tables: Tables) -> Figure:
    e = margins(tables[EXPERIMENT], PREDICTED)
    fig, axes = plt.subplots(1, len(e), figsize=(3.0 * len(e), 3.4), sharey=True, squeeze=False)
    for ax, (cond, parts) in zip(axes[0], e.items()):
        order = PREDICTED[cond]
        effect_panel(ax, [(f"vs {order[int(p[3:]) - 1]}", x) for p, x in parts.items()], SESOI, "margin (nDCG@10)")
        ax.set_title(f"{cond}\npredicted best: {order[0]}", fontsize=8)
        ax.tick_params(axis="x", labelrotation=20)
    for ax in axes[0][1:]:
        ax.set_ylabel("")
    return fig


def caption(tables: Tables) -> str:
    return (
        f"P13. Per world family and loss, the margin nDCG@10(X) − nDCG@10(Y) + SESOI of the theory's predicted best "
        f"sampler X over each other sampler Y, paired by seed; above 0: X is within the SESOI of Y; below SESOI "
        f"(grey band [0, SESOI = {SESOI})): Y is better; bars: {LEVEL} t-intervals; {design_note(tables[EXPERIMENT])}."
    )


PREDICTION = Prediction(
    key="P13",
    claim="the theory's predicted best of uniform, top-M and stratified negatives is within the SESOI of the best",
    experiments=(EXPERIMENT,),
    sesoi=SESOI,
    alpha=ALPHA,
    seeds=SEEDS,
    test="per condition, one-sided paired t of the non-inferiority margin of the predicted best over each other sampler",
    rule="per (world, loss): supported iff the predicted best is within the SESOI of every other sampler, refuted if "
    "any is better; conditions combine",
    analyse=analyse,
    draw=draw,
    caption=caption,
)
