"""``simrank advise --world CONFIG.toml``: the grid points of an experiment config ranked by the predicted excess.

An ordinary experiment config (the format of ``simrank run``, :mod:`simrank.config`) names the candidates: every grid
point is one choice of negatives (``sampler.*`` axes: kind, pool, β, proxy, η, …, and ``data.n_train``).  Nothing is
trained: each point gets the training-aware prediction of :func:`simrank.theory.predict_excess`,

    predicted_excess = Bias(ν_η) + (V(ν_η) + D(ν_η))/n,

the excess target risk ``E R_T(ŵ) − min R_T`` of the empirical minimiser over ``n = data.n_train`` groups of the
point's sampler, with the target law ``T`` uniform over the corpus (``target = "uniform"``, the registered rule of
:mod:`simrank.advise.validation`; ``"top10"``, the teacher's top 10, ordered the example config's candidates against
training), in the point's world (the world of seed ``s``, :func:`simrank.runner.seeded_world`, averaged
over the first ``worlds`` seeds), teacher, loss and τ.  Rank 1 is the smallest prediction.  Grid axes that only
replicate a world (``world.random_state``, ``teacher.random_state``) are not candidates: their points share the
candidate's rank and the prediction is averaged over them.

The prediction compares negatives for one student, loss and target, so a grid axis outside :data:`CANDIDATE_AXES`
(the loss, τ, the student, the world's shape) is refused with one line: predicted excesses of different losses or
worlds are in different units.  The student must be the full, unconstrained bilinear one the prediction is stated
for.

:func:`validate_world` runs the same config as a sweep (:func:`simrank.sweep.run_experiment`, the same
``results.parquet`` as ``simrank run``) and compares: ``spearman`` = Spearman(−rank, mean nDCG@10) over the
candidates (+1: the advice orders the choices as training does), and ``hit``: is the recommended choice's measured
nDCG@10 within the SESOI (0.01) of the best candidate's.  Every trained model's optimisation is checked against the
converged empirical minimiser of its own training groups (:func:`convergence_gap`).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simrank.config import Experiment, Point
from simrank.errors import ConfigError
from simrank.runner import build_data, config_hash, seeded_world
from simrank.stats import spearman
from simrank.theory.prediction import TARGETS, fit_linear_student, linear_features, predict_excess

__all__ = [
    "CANDIDATE_AXES",
    "REPLICATE_AXES",
    "SESOI",
    "advise_world",
    "candidate_key",
    "convergence_gap",
    "validate_world",
    "write_json",
]

SESOI = 0.01  # nDCG@10: the smallest difference of interest (a recommended choice within it of the best is a hit)
#: Grid axes that may vary between candidates (``sampler.<any field>`` and these).
CANDIDATE_AXES = ("data.n_train",)
#: Grid axes that replicate a world (not candidates: averaged over).
REPLICATE_AXES = ("world.random_state", "teacher.random_state")


def _check_grid(exp: Experiment) -> None:
    for key in exp.grid:
        if not (key.startswith("sampler.") or key in CANDIDATE_AXES or key in REPLICATE_AXES):
            raise ConfigError(
                f"grid axis {key!r} is not allowed in `simrank advise --world`; candidates may vary sampler.* and "
                f"{', '.join(CANDIDATE_AXES)} (replicates: {', '.join(REPLICATE_AXES)}): predicted excesses of "
                "different losses, temperatures, students or worlds are not comparable"
            )
    student = exp.points()[0].student
    if student.kind != "bilinear" or student.structure != "full" or student.norm_bound is not None:
        raise ConfigError(
            f"student = {student.kind}/{student.structure} (norm_bound {student.norm_bound}) is not allowed in "
            "`simrank advise --world`; the prediction is stated for the full unconstrained bilinear student"
        )


def candidate_key(point: Point) -> str:
    """The candidate a grid point belongs to: its coordinates without the replicate axes, as JSON.

    Args:
      point: a grid point of the config.
    """
    return json.dumps({k: v for k, v in point.coords.items() if k not in REPLICATE_AXES}, sort_keys=True)


def advise_world(
    exp: Experiment,
    *,
    target: str = "uniform",
    population: int = 5000,
    worlds: int = 1,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Predict every grid point of ``exp`` and rank the candidates (module docstring).

    Args:
      exp: the experiment config (:func:`simrank.config.load_experiment`).
      target: the target law, a key of :data:`simrank.theory.prediction.TARGETS`.
      population: Monte Carlo groups per population of :func:`~simrank.theory.predict_excess`.
      worlds: the prediction is averaged over the worlds of seeds ``0 … worlds − 1`` (at most ``exp.seeds``).
      progress: called with one line per predicted point.

    Returns:
      ``{"settings": {...}, "candidates": [entry, ...]}``, one entry per grid point, best first: the point's grid
      settings as dotted keys, ``config_hash`` (the ``config_hash`` column ``simrank run`` writes),
      ``predicted_excess``, ``rank`` (1 = recommended) and the diagnostics ``bias``, ``variance``, ``drift``,
      ``target_risk_min`` (means over the worlds).
    """
    if target not in TARGETS:
        raise ConfigError(f"--target = {target!r} is not allowed; choose one of {', '.join(TARGETS)}")
    if worlds < 1:
        raise ConfigError(f"--worlds = {worlds} is not allowed; it must be an integer >= 1")
    _check_grid(exp)
    start = time.perf_counter()
    entries = []
    for point in exp.points():
        parts = []
        for seed in range(min(worlds, exp.seeds)):
            world_config, teacher = seeded_world(point, seed)
            p = predict_excess(
                world_config.generate(),
                teacher,
                point.sampler(),
                loss=point.loss,
                n_groups=point.data.n_train,
                group_size=point.data.group_size,
                target=target,
                tau=point.tau,
                population=population,
                seed=seed,
            )
            parts.append(p)
        mean = {f: float(np.mean([getattr(p, f) for p in parts])) for f in ("bias", "variance", "drift")}
        mean["target_risk_min"] = float(np.mean([p.target_risk_min for p in parts]))
        excess = mean["bias"] + (mean["variance"] + mean["drift"]) / point.data.n_train
        entries.append({**point.coords, "config_hash": config_hash(point), "predicted_excess": excess, **mean})
        if progress is not None:
            progress(f"{candidate_key(point)}: predicted excess {excess:.4g}")
    by_candidate: dict[str, list[float]] = {}
    for point, entry in zip(exp.points(), entries):
        by_candidate.setdefault(candidate_key(point), []).append(entry["predicted_excess"])
    order = sorted(by_candidate, key=lambda k: float(np.mean(by_candidate[k])))
    rank = {k: i + 1 for i, k in enumerate(order)}
    for point, entry in zip(exp.points(), entries):
        entry["rank"] = rank[candidate_key(point)]
    entries.sort(key=lambda e: (e["rank"], e["config_hash"]))
    settings = {
        "experiment": exp.name,
        "experiment_hash": exp.hash,
        "target": target,
        "population": population,
        "worlds": min(worlds, exp.seeds),
        "candidates": len(rank),
        "seconds": round(time.perf_counter() - start, 1),
    }
    return {"settings": settings, "candidates": entries}


def convergence_gap(point: Point, seed: int, train_risk: float) -> float:
    """How far a trained model's empirical risk is from the converged minimum, as a share of the achievable decrease:
    ``(R̂(W_trained) − min R̂)/(R̂(0) − min R̂)`` on the model's own training groups (:func:`simrank.runner.build_data`),
    ``min R̂`` by :func:`~simrank.theory.prediction.fit_linear_student` (damped Newton, float64).

    Args:
      point: the trained model's grid point.
      seed: its seed (the training groups are rebuilt from it).
      train_risk: its final empirical risk (the ``train_risk`` column of the results).
    """
    from simrank.losses import get_loss

    train = build_data(point, seed)[0]["train"]
    phi = linear_features(np.asarray(train.query), np.asarray(train.docs))
    g = np.asarray(train.teacher_scores, np.float64)
    w, _ = fit_linear_student(phi, g, loss=point.loss, tau=point.tau)
    loss_fn = get_loss(point.loss)
    risk_min = float(np.mean(loss_fn(phi @ w, g, tau=point.tau)))
    risk_zero = float(np.mean(loss_fn(np.zeros_like(g), g, tau=point.tau)))
    return (train_risk - risk_min) / max(risk_zero - risk_min, 1e-300)


def validate_world(
    exp: Experiment, advice: dict[str, Any], results: pd.DataFrame, *, check_convergence: bool = True
) -> dict[str, Any]:
    """Compare the advice with the trained outcome of the same grid.

    Args:
      exp: the experiment config the advice was computed for.
      advice: :func:`advise_world`'s output.
      results: the sweep's ``results.parquet`` of ``exp`` (:func:`simrank.sweep.run_experiment`).
      check_convergence: compute :func:`convergence_gap` for every trained model (its largest value is reported).

    Returns:
      ``{"spearman", "spearman_low", "spearman_high", "hit", "recommended", "best", "recommended_ndcg10",
      "best_ndcg10", "sesoi", "candidates", "random_hit_rate", "max_convergence_gap", "table"}`` (``table``: one row
      per candidate with its rank, mean predicted excess, mean measured nDCG@10 and seeds).
    """
    entry_of = {e["config_hash"]: e for e in advice["candidates"]}
    points = {config_hash(p): p for p in exp.points()}
    missing = set(entry_of) - set(results["config_hash"])
    if missing:
        raise ConfigError(f"results lack the grid point(s) {sorted(missing)[:3]}; run the config of the advice")
    rows = []
    for h, df in results[results["config_hash"].isin(entry_of)].groupby("config_hash"):
        e = entry_of[str(h)]
        rows.append({"candidate": candidate_key(points[str(h)]), "rank": e["rank"],
                     "predicted_excess": e["predicted_excess"], "ndcg10_sum": float(df["ndcg10"].sum()),
                     "seeds": len(df)})  # fmt: skip
    per = pd.DataFrame(rows).groupby(["candidate", "rank"], as_index=False).sum()
    per = per.assign(
        predicted_excess=per["predicted_excess"] / per.groupby("candidate")["rank"].transform("size"),
        ndcg10=per["ndcg10_sum"] / per["seeds"],
    ).drop(columns="ndcg10_sum")
    per = per.sort_values("rank", ignore_index=True)
    best = per.loc[per["ndcg10"].idxmax()]
    top = per.iloc[0]
    within = per["ndcg10"] >= best["ndcg10"] - SESOI
    corr = spearman(-per["rank"].to_numpy(float), per["ndcg10"].to_numpy()) if len(per) >= 3 else None
    gap = math.nan
    if check_convergence:
        gap = max(
            convergence_gap(points[str(r.config_hash)], int(r.seed), float(r.train_risk))
            for r in results.itertuples()
            if str(r.config_hash) in entry_of
        )
    return {
        "spearman": None if corr is None else float(corr.r),
        "spearman_low": None if corr is None else float(corr.low),
        "spearman_high": None if corr is None else float(corr.high),
        "hit": bool(top["ndcg10"] >= best["ndcg10"] - SESOI),
        "recommended": top["candidate"],
        "best": best["candidate"],
        "recommended_ndcg10": float(top["ndcg10"]),
        "best_ndcg10": float(best["ndcg10"]),
        "sesoi": SESOI,
        "candidates": len(per),
        "random_hit_rate": float(within.mean()),
        "max_convergence_gap": None if math.isnan(gap) else float(gap),
        "table": per.to_dict(orient="records"),
    }


def write_json(obj: dict[str, Any], path: Path) -> Path:
    """Write ``obj`` as indented JSON (mode 0644, via :func:`simrank.real._util.atomic_write`).

    Args:
      obj: the JSON-able dict.
      path: the file to write.
    """
    from simrank.real._util import atomic_write

    with atomic_write(path) as fh:
        fh.write(json.dumps(obj, indent=2, default=float) + "\n")
    return Path(path)
