"""``simrank advise --empirical --budget MINUTES --data DIR``: choose the negatives by training on the data itself.

Successive halving (Jamieson & Talwalkar 2016; the inner loop of Hyperband, Li et al. 2018) over the candidate
choices ``C`` = samplers × losses × group sizes (a sampler ``NAME@ETA`` mixes a fraction η of uniform negatives into
``NAME``, :func:`simrank.real.confirm.design.sampler_spec`), with the real-data students, groups, trainer and
measurement of :mod:`simrank.real.confirm.training`:

* **Folds.** The queries with a relevant document (train and test qrels pooled) are split by
  :func:`simrank.real.splits.grouped_query_split` into ``F`` folds and a held-out *decide* part, so that queries
  sharing a relevant document are in one part.  The decide queries take no part in the halving.
* **Rungs.** Rung ``i = 0 … R−1`` (``R = ⌈log₂ |C|⌉``, at least 1) trains each of its ``n_i`` candidates ``F`` times
  for ``s_i = s₀ 2^i`` steps: model ``f`` on teacher-labelled groups (positive ``argmax g``) of the queries outside
  fold ``f``, scored by the per-query nDCG@10 of fold ``f``'s queries over the whole corpus.  A candidate's score is

      CV(c) = (1/|Q|) Σ_f Σ_{q ∈ fold f} nDCG@10(f̂_{c,f}; q),      Q = every non-decide query,

  and the ``⌈n_i/2⌉`` best go on (ties: the earlier candidate).
* **Budget.** A probe trains ``F`` models for :data:`PROBE_STEPS` steps twice and measures them: ``t_c`` (compile
  seconds per trainer), ``c`` (seconds per model-step) and ``e`` (seconds per model measurement).  ``s₀`` is the
  largest number of steps with

      elapsed + Σ_i [L_i t_c + n_i F (s_i c + e)] + L t_c + |C| (s_{R−1} c + e) ≤ 60 · MINUTES,

  ``L_i`` the losses of rung ``i`` and the last two terms the held-out check; ``s₀`` is capped so that
  ``s_{R−1} ≤ max_steps``, and a budget that gives ``s₀ < min_steps`` is refused (one line, exit 2).
* **The chosen set.** The last rung's candidates whose CV nDCG@10 is within ``margin`` (0.01) of the best, each with a
  query-bootstrap interval (:func:`simrank.stats.paired_bootstrap` over the non-decide queries) of its level and of
  its difference to the best of the rung it reached (the same steps).
* **Held-out check.** Every candidate is retrained on all non-decide queries for ``s_{R−1}`` steps and measured on the
  decide queries (not used for the choice): ``hit`` says whether the top choice's decide nDCG@10 is within ``margin``
  of the best candidate's there.

Beside each choice stand the theory's diagnostics of its training groups (:func:`~simrank.real.confirm.training.
group_diagnostics`: Δ̂, RMS diameter, pairwise teacher entropy, κ against uniform, locality; and the listwise
entropy at the training τ).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from simrank._version import __version__
from simrank.errors import ConfigError, check_positive
from simrank.groups import Groups, QuerySet, draw_groups
from simrank.losses import LOSS_SPECS
from simrank.real.confirm.design import SAMPLERS, RealConfig
from simrank.real.confirm.training import (
    _stack,
    group_diagnostics,
    make_measure,
    make_real_student,
    make_train_fn,
    mean_entropy,
    pad_groups,
    tau_for_entropy,
)
from simrank.real.data.beir import EMBEDDINGS_FILE, DataError, load_collection, load_embeddings
from simrank.real.data.bm25 import BM25Index
from simrank.real.data.queryset import teacher_query_set
from simrank.real.evalsets import EvalSet, eval_set
from simrank.real.splits import grouped_query_split
from simrank.samplers import make_sampler
from simrank.stats import paired_bootstrap

__all__ = [
    "DEFAULT_LOSSES",
    "DEFAULT_SAMPLERS",
    "MARGIN",
    "PROBE_STEPS",
    "Candidate",
    "EmpiricalConfig",
    "EmpiricalData",
    "advise_empirical",
    "load_empirical",
    "paper_section",
    "render_empirical",
    "rung_plan",
]

DEFAULT_SAMPLERS = ("random", "bm25", "bm25@0.5", "teacher")
DEFAULT_LOSSES = ("kl", "lce")
MARGIN = 0.01  # nDCG@10: choices within this of the best are reported as equally good
PROBE_STEPS = 20  # steps of the timing probe
TAU_SAMPLER = "bm25"  # the groups τ is solved on (the confirm design's tuning sampler)


@dataclass(frozen=True)
class Candidate:
    """One choice of negatives and loss: sampler spec name (``NAME`` or ``NAME@ETA``), loss and group size ``k``."""

    sampler: str
    loss: str
    group_size: int

    @property
    def name(self) -> str:
        return f"{self.sampler}/{self.loss}/k{self.group_size}"


@dataclass(frozen=True)
class EmpiricalConfig:
    """What ``--empirical`` tries and how (every value checked, one-line :class:`ConfigError`)."""

    budget_minutes: float = 8.0
    samplers: tuple[str, ...] = DEFAULT_SAMPLERS
    losses: tuple[str, ...] = DEFAULT_LOSSES
    group_sizes: tuple[int, ...] = (8,)
    pool_size: int = 100  # M of the top-M samplers
    student: str = "full"
    learning_rate: float = 1e-3  # the rate the grouped confirm design chose for the full student on SciFact
    entropy: float = 1.0  # nats: τ solved so the mean listwise teacher entropy on bm25 groups is this
    folds: int = 3
    decide_fraction: float = 0.2
    n_groups: int = 1024
    batch_size: int = 64
    min_steps: int = 10
    max_steps: int = 1600  # cap on the last rung's steps s_{R−1}
    margin: float = MARGIN
    n_resamples: int = 2000
    seed: int = 0

    def __post_init__(self) -> None:
        check_positive("--budget", self.budget_minutes)
        if not self.samplers or not self.losses or not self.group_sizes:
            raise ConfigError("--sampler, --loss and --group-size need at least one value each")
        for name in self.samplers:
            if name.partition("@")[0] not in SAMPLERS:
                raise ConfigError(
                    f"--sampler {name!r} is not allowed; choose one of {', '.join(SAMPLERS)}, or NAME@ETA with ETA in "
                    "[0, 1] (a fraction ETA of uniform negatives)"
                )
        for loss in self.losses:
            if loss not in LOSS_SPECS:
                raise ConfigError(f"--loss {loss!r} is not allowed; choose one of {', '.join(LOSS_SPECS)}")
        for k in self.group_sizes:
            if isinstance(k, bool) or not isinstance(k, int) or k < 2:
                raise ConfigError(f"--group-size {k!r} is not allowed; it must be an integer >= 2")
        if isinstance(self.folds, bool) or not isinstance(self.folds, int) or self.folds < 2:
            raise ConfigError(f"--folds {self.folds!r} is not allowed; it must be an integer >= 2")
        if not 0.0 < self.decide_fraction < 1.0:
            raise ConfigError(f"--decide-fraction {self.decide_fraction!r} is not allowed; it must be in (0, 1)")
        for name in (
            "pool_size",
            "learning_rate",
            "entropy",
            "n_groups",
            "batch_size",
            "min_steps",
            "max_steps",
            "margin",
        ):
            check_positive(name.replace("_", "-"), getattr(self, name))
        _ = self.design  # one-line ConfigError for a bad NAME@ETA or student

    @property
    def candidates(self) -> list[Candidate]:
        return [Candidate(s, loss, k) for s in self.samplers for loss in self.losses for k in self.group_sizes]

    @property
    def design(self) -> RealConfig:
        """The confirm design whose samplers, losses, teacher and optimiser the candidates are trained with."""
        return RealConfig(
            name="advise-empirical",
            split="grouped",
            supervised=False,
            query_sources=("train",),
            losses=self.losses,
            samplers=self.samplers,
            group_sizes=self.group_sizes,
            students=(self.student,),
            learning_rates={self.student: (self.learning_rate,)},
            tune_group_size=max(self.group_sizes),
            pool_size=self.pool_size,
            exclude_positive=True,
            pairs="positive",
            n_groups=self.n_groups,
            batch_size=self.batch_size,
        )


@dataclass
class EmpiricalData:
    """The folds, the teacher-labelled training pool and the two evaluation sets of ``--empirical``."""

    pool: QuerySet  # teacher-labelled, one row per non-decide query (in ``cv.query_ids`` order)
    fold: np.ndarray  # [n_cv] fold of each non-decide query
    cv: EvalSet  # the non-decide queries, gold qrels
    decide: EvalSet  # the held-out queries
    data_dir: str


def load_empirical(data_dir: Path, cfg: EmpiricalConfig, embeddings_file: str = EMBEDDINGS_FILE) -> EmpiricalData:
    """Read the collection, split its queries into ``cfg.folds`` grouped folds and a decide part, and build the
    teacher-labelled training pool and the evaluation sets.  Problems raise :class:`DataError` (one line).

    Args:
      data_dir: the BEIR folder (``qrels/train.tsv`` and/or ``qrels/test.tsv``, pooled).
      cfg: folds, decide fraction, seed, group sizes and pool size.
      embeddings_file: the vectors' file in ``data_dir``.
    """
    data_dir = Path(data_dir)
    splits = tuple(s for s in ("train", "test") if (data_dir / "qrels" / f"{s}.tsv").is_file())
    if not splits:
        raise DataError(f"--data {data_dir}: no qrels/train.tsv or qrels/test.tsv; --empirical needs judged queries")
    collection = load_collection(data_dir, splits=splits)
    embeddings = load_embeddings(data_dir / embeddings_file, collection)
    qrels = pd.concat([collection.qrels[s] for s in splits], ignore_index=True)
    parts = {f"fold{f}": (1 - cfg.decide_fraction) / cfg.folds for f in range(cfg.folds)}
    split = grouped_query_split(qrels, parts | {"decide": cfg.decide_fraction}, cfg.seed)
    if any(len(ids) == 0 for ids in split.values()):
        sizes = {name: len(ids) for name, ids in split.items()}
        raise DataError(
            f"--data {data_dir}: the queries with a relevant document give an empty part {sizes} under --folds "
            f"{cfg.folds} and --decide-fraction {cfg.decide_fraction}; use fewer folds or more queries"
        )
    cv_ids = [q for f in range(cfg.folds) for q in split[f"fold{f}"]]
    fold = np.concatenate([np.full(len(split[f"fold{f}"]), f) for f in range(cfg.folds)])
    for k in cfg.group_sizes:
        if k > len(collection.doc_ids):
            raise DataError(f"--group-size {k} is not allowed; it must be <= the corpus size {len(collection.doc_ids)}")
    if cfg.pool_size >= len(collection.doc_ids):
        raise DataError(
            f"--pool-size {cfg.pool_size} is not allowed; it must be < the corpus size {len(collection.doc_ids)}"
        )
    bm25 = BM25Index.build(collection)
    design = cfg.design
    vectors = embeddings.query_emb[[embeddings.query_row[q] for q in cv_ids]]
    pool = teacher_query_set(
        embeddings,
        bm25,
        vectors,
        collection.query_texts_for(cv_ids),
        label=design.label_source,
        teacher=design.teacher,
        teacher_weights=design.teacher_weights,
    )
    judged = qrels[qrels.relevance > 0]
    cv = eval_set("cv", collection, embeddings, bm25, cv_ids, judged[judged.query_id.isin(set(cv_ids))], design, False)
    decide_ids = split["decide"]
    decide_qrels = judged[judged.query_id.isin(set(decide_ids))]
    decide = eval_set("decide", collection, embeddings, bm25, decide_ids, decide_qrels, design, False)
    return EmpiricalData(pool, fold, cv, decide, str(data_dir))


def rung_plan(n_candidates: int) -> list[int]:
    """Candidates per rung of successive halving with factor 2: ``n, ⌈n/2⌉, …`` down to 2 (``[1]`` for one).

    Args:
      n_candidates: ``|C| ≥ 1``.

    Examples:
      >>> rung_plan(8), rung_plan(5), rung_plan(1)
      ([8, 4, 2], [5, 3, 2], [1])
    """
    plan = [n_candidates]
    while plan[-1] > 2:
        plan.append(math.ceil(plan[-1] / 2))
    return plan


class _Lab:
    """Trainers and measurements of one run: compiled once per (loss, steps), timed."""

    def __init__(self, data: EmpiricalData, cfg: EmpiricalConfig):
        self.data, self.cfg, self.design = data, cfg, cfg.design
        dim = data.pool.docs.shape[1]
        self.student = make_real_student(cfg.student, dim, self.design.lowrank_rank, self.design.lowrank_norm_bound)
        self.measure = make_measure(self.student, 10)
        self.trainers: dict[tuple[str, int], Callable] = {}
        self.sets = {"cv": {"cv": data.cv.arrays()}, "decide": {"decide": data.decide.arrays()}}
        self.k_max = max(cfg.group_sizes)
        self.compile_s = 0.0

    def trainer(self, loss: str, steps: int) -> Callable:
        if (loss, steps) not in self.trainers:
            self.trainers[(loss, steps)] = make_train_fn(self.student, loss, steps, self.design)
        return self.trainers[(loss, steps)]

    def groups(self, cand: Candidate, rows: np.ndarray, seed: list[int]) -> tuple[Groups, dict]:
        spec = self.design.sampler(cand.sampler)
        groups, nu = draw_groups(
            self.data.pool.subset(rows), make_sampler(**spec), self.cfg.n_groups, cand.group_size,
            np.random.default_rng(seed),
        )  # fmt: skip
        padded = cast(Groups, pad_groups(groups, self.k_max))  # Groups in, Groups out (EpochGroups only for redraws)
        return padded, group_diagnostics(groups, nu, 1.0) | {"_groups": groups}

    def train(self, loss: str, steps: int, groups: list[Groups], taus: list[float], seeds: list[int]):
        keys = jnp.stack([jax.random.PRNGKey(s) for s in seeds])
        lr = jnp.full(len(groups), self.cfg.learning_rate, jnp.float32)
        params, _, _ = self.trainer(loss, steps)(keys, _stack(groups), lr, jnp.asarray(taus, jnp.float32))
        return params

    def scores(self, params, where: str, n: int) -> np.ndarray:
        """Per-query nDCG@10 ``[models, queries]`` of ``n`` stacked models on ``cv`` or ``decide``."""
        return np.asarray(self.measure(params, self.sets[where], jnp.ones(n))[f"{where}_ndcg10"], np.float64)


def advise_empirical(
    data: EmpiricalData, cfg: EmpiricalConfig, progress: Callable[[str], None] = lambda s: None, start: float = 0.0
) -> dict[str, Any]:
    """Successive halving over ``cfg.candidates`` on ``data`` (the module docstring); the advice as a JSON-ready dict.

    Args:
      data: :func:`load_empirical`'s folds and sets.
      cfg: the candidates, budget and constants.
      progress: called with one line per rung.
      start: ``time.perf_counter()`` when the command started (the budget counts from it; 0: from now).
    """
    start = start or time.perf_counter()
    lab, cands, F = _Lab(data, cfg), cfg.candidates, cfg.folds
    train_rows = [np.flatnonzero(data.fold != f) for f in range(F)]
    all_rows = np.arange(len(data.fold))
    idx = {c: i for i, c in enumerate(cfg.samplers)}
    drawn = {
        (c.sampler, c.group_size, f): lab.groups(c, train_rows[f], [cfg.seed, f, idx[c.sampler], c.group_size])
        for c in cands
        for f in range(F)
    }
    tau_groups = lab.groups(Candidate(TAU_SAMPLER, cands[0].loss, lab.k_max), all_rows, [cfg.seed, 99])[1]["_groups"]
    tau = tau_for_entropy(tau_groups, cfg.entropy)

    # the probe: compile + run, run again, measure (per model-step, per measurement, per compile)
    probe = [drawn[(cands[0].sampler, cands[0].group_size, f)][0] for f in range(F)]
    t0 = time.perf_counter()
    lab.train(cands[0].loss, PROBE_STEPS, probe, [tau] * F, list(range(F)))
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    params = lab.train(cands[0].loss, PROBE_STEPS, probe, [tau] * F, list(range(F)))
    jax.block_until_ready(params)
    run = time.perf_counter() - t0
    lab.scores(params, "cv", F)
    t0 = time.perf_counter()
    lab.scores(params, "cv", F)
    per_eval = (time.perf_counter() - t0) / F
    per_step, compile_s = run / (F * PROBE_STEPS), max(first - run, 0.0)
    plan = rung_plan(len(cands))
    R = len(plan)
    losses_per_rung = min(len(cfg.losses), plan[-1])  # a bound for later rungs; rung 0 has every loss
    fixed = (
        (time.perf_counter() - start)
        + compile_s * (len(cfg.losses) * 2 + losses_per_rung * (R - 1))
        + F * per_eval * sum(plan)
        + len(cands) * per_eval * data.decide.grades.shape[0] / max(data.cv.grades.shape[0], 1)
    )
    model_steps = F * sum(n * 2**i for i, n in enumerate(plan)) + len(cands) * 2 ** (R - 1)
    s0_budget = (60 * cfg.budget_minutes - fixed) / (per_step * model_steps)
    if cfg.max_steps / 2 ** (R - 1) < cfg.min_steps:
        raise ConfigError(
            f"--max-steps {cfg.max_steps} is not allowed for {len(cands)} candidates ({R} rungs); it must be at least "
            f"{cfg.min_steps * 2 ** (R - 1)} (the first rung's {cfg.min_steps} steps doubled per rung)"
        )
    s0 = int(min(s0_budget, cfg.max_steps / 2 ** (R - 1)))
    if s0 < cfg.min_steps:
        need = (fixed + cfg.min_steps * per_step * model_steps) / 60
        raise ConfigError(
            f"--budget {cfg.budget_minutes:g} minutes is too small for {len(cands)} candidates × {F} folds on this "
            f"machine ({per_step * 1e3:.2f} ms per model-step); allowed: at least {math.ceil(need * 10) / 10:g} minutes"
        )
    timing = {
        "probe_per_model_step_s": per_step,
        "probe_per_measurement_s": per_eval,
        "probe_compile_s": compile_s,
        "s0": s0,
        "s0_from_budget": float(s0_budget),
        "capped": bool(s0_budget > s0 + 1),
    }
    progress(
        f"probe: {per_step * 1e3:.2f} ms per model-step, {per_eval:.2f} s per measurement, {compile_s:.1f} s per "
        f"compile; s0 = {s0} steps, {R} rungs {plan}"
    )

    alive = list(cands)
    records: dict[Candidate, dict] = {
        c: {"rung": -1, "cv_q": None, "diagnostics": _diagnostics(drawn[(c.sampler, c.group_size, 0)][1], tau)}
        for c in cands
    }
    rungs: list[dict] = []
    leaders: list[np.ndarray] = []  # per rung: the per-query CV nDCG@10 of its best candidate
    for i, n_keep in enumerate(plan):
        t0, steps = time.perf_counter(), s0 * 2**i
        for loss in dict.fromkeys(c.loss for c in alive):
            mine = [c for c in alive if c.loss == loss]
            groups = [drawn[(c.sampler, c.group_size, f)][0] for c in mine for f in range(F)]
            params = lab.train(loss, steps, groups, [tau] * len(groups), [f for _ in mine for f in range(F)])
            per_query = lab.scores(params, "cv", len(groups)).reshape(len(mine), F, -1)
            for j, c in enumerate(mine):  # query q's score from the model that did not train on q's fold
                records[c] |= {"rung": i, "steps": steps, "cv_q": per_query[j, data.fold, all_rows]}
        order = sorted(alive, key=lambda c: -records[c]["cv_q"].mean())
        leaders.append(records[order[0]]["cv_q"])
        rungs.append(
            {
                "rung": i,
                "steps": steps,
                "candidates": [c.name for c in order],
                "cv_ndcg10": [float(records[c]["cv_q"].mean()) for c in order],
                "seconds": round(time.perf_counter() - t0, 1),
            }
        )
        progress(f"rung {i}: {len(alive)} candidates × {F} folds at {steps} steps in {rungs[-1]['seconds']} s")
        alive = order[: math.ceil(n_keep / 2)] if i < R - 1 else order
    final_steps = s0 * 2 ** (R - 1)

    # held-out check: every candidate on all non-decide queries, measured on the decide queries
    t0 = time.perf_counter()
    for loss in cfg.losses:
        mine = [c for c in cands if c.loss == loss]
        groups = [lab.groups(c, all_rows, [cfg.seed, F, idx[c.sampler], c.group_size])[0] for c in mine]
        params = lab.train(loss, final_steps, groups, [tau] * len(mine), [F] * len(mine))
        for c, q in zip(mine, lab.scores(params, "decide", len(mine))):
            records[c]["decide_q"] = q
    init = jax.tree_util.tree_map(lambda a: a[None], lab.student.project(lab.student.init(jax.random.PRNGKey(0))))
    start_cv, start_decide = lab.scores(init, "cv", 1)[0], lab.scores(init, "decide", 1)[0]
    held_out_s = time.perf_counter() - t0
    progress(f"held-out check: {len(cands)} models at {final_steps} steps in {held_out_s:.1f} s")
    return _advice(
        cfg, data, records, rungs, leaders, alive, tau, final_steps, start_cv, start_decide, timing, held_out_s, start
    )


def _diagnostics(diag: dict, tau: float) -> dict[str, float | None]:
    out: dict[str, float | None] = {k: float(v) for k, v in diag.items() if not k.startswith("_")}
    out["locality"] = float(np.clip(diag["locality"], 0.0, 1.0))  # round-off gives -1e-16 for uniform
    if not math.isfinite(out["kappa"] or 0.0):
        out["kappa"] = None  # ν misses part of the uniform law's support: κ = ∞
    return out | {"entropy_list": mean_entropy(diag["_groups"], tau)}


def _interval(a: np.ndarray, b: np.ndarray | None, cfg: EmpiricalConfig) -> dict[str, float]:
    r = paired_bootstrap(a, np.zeros_like(a) if b is None else b, n_boot=cfg.n_resamples, random_state=cfg.seed)
    return {"mean": r.mean, "low": r.low, "high": r.high}


def _advice(
    cfg, data, records, rungs, leaders, final, tau, final_steps, start_cv, start_decide, timing, held_out_s, start
):
    best = final[0]
    best_q = records[best]["cv_q"]
    within = [c for c in final if best_q.mean() - records[c]["cv_q"].mean() <= cfg.margin]
    order = sorted(records, key=lambda c: (-records[c]["rung"], -records[c]["cv_q"].mean()))
    decide_best = max(records, key=lambda c: records[c]["decide_q"].mean())
    entries = []
    for rank, c in enumerate(order, 1):
        r = records[c]
        entries.append(
            {
                "rank": rank,
                "candidate": c.name,
                "sampler": c.sampler,
                "loss": c.loss,
                "group_size": c.group_size,
                "rung_reached": r["rung"],
                "steps": r["steps"],
                "cv_ndcg10": _interval(r["cv_q"], None, cfg),
                "cv_minus_best": _interval(r["cv_q"], leaders[r["rung"]], cfg),
                "within_margin": c in within,
                "decide_ndcg10": _interval(r["decide_q"], None, cfg),
                "diagnostics": r["diagnostics"],
            }
        )
    top_decide = records[best]["decide_q"]
    best_decide_q = records[decide_best]["decide_q"]
    held_out = {
        "queries": int(data.decide.grades.shape[0]),
        "steps": final_steps,
        "top_choice": best.name,
        "top_choice_ndcg10": float(top_decide.mean()),
        "best": decide_best.name,
        "best_ndcg10": float(best_decide_q.mean()),
        "top_minus_best": _interval(top_decide, best_decide_q, cfg),
        "hit": bool(best_decide_q.mean() - top_decide.mean() <= cfg.margin),
        "chosen_set_best_ndcg10": float(max(records[c]["decide_q"].mean() for c in within)),
        "start_ndcg10": float(start_decide.mean()),
        "seconds": round(held_out_s, 1),
    }
    settings = {
        "mode": "empirical",
        "simrank_version": __version__,
        "data": data.data_dir,
        "budget_minutes": cfg.budget_minutes,
        "student": cfg.student,
        "learning_rate": cfg.learning_rate,
        "tau": tau,
        "entropy": cfg.entropy,
        "folds": cfg.folds,
        "fold_sizes": [int(np.sum(data.fold == f)) for f in range(cfg.folds)],
        "decide_queries": int(data.decide.grades.shape[0]),
        "n_groups": cfg.n_groups,
        "batch_size": cfg.batch_size,
        "margin": cfg.margin,
        "n_resamples": cfg.n_resamples,
        "seed": cfg.seed,
        "start_cv_ndcg10": float(start_cv.mean()),
    }
    return {
        "settings": settings,
        "candidates": entries,
        "chosen": [c.name for c in within],
        "rungs": rungs,
        "held_out": held_out,
        "timing": timing | {"total_s": round(time.perf_counter() - start, 1)},
    }


def _kappa(k: float | None) -> str:
    return "∞" if k is None else f"{k:.3g}"


def _ci(x: dict, digits: int = 4) -> str:
    return f"{x['mean']:.{digits}f} [{x['low']:.{digits}f}, {x['high']:.{digits}f}]"


def render_empirical(advice: dict) -> str:
    """``report.md`` of the empirical mode: settings, the rungs, the ranked candidates with intervals and
    diagnostics, the chosen set and the held-out check.

    Args:
      advice: :func:`advise_empirical`'s output.
    """
    s, h, t = advice["settings"], advice["held_out"], advice["timing"]
    lines = [
        "# simrank advise --empirical",
        "",
        f"Data `{s['data']}`: {sum(s['fold_sizes'])} queries in {s['folds']} grouped folds {s['fold_sizes']} and "
        f"{s['decide_queries']} held-out decide queries (queries sharing a relevant document in one part). Student "
        f"`{s['student']}`, AdamW at {s['learning_rate']:g}, τ = {s['tau']:.3g} ({s['entropy']:g} nats on bm25 groups), "
        f"{s['n_groups']} groups per model. Budget {s['budget_minutes']:g} min; probe {t['probe_per_model_step_s'] * 1e3:.2f} "
        f"ms per model-step, s₀ = {t['s0']} steps{' (capped by --max-steps)' if t['capped'] else ''}; "
        f"{t['total_s']:.0f} s in all. simrank {s['simrank_version']}, seed {s['seed']}.",
        "",
        "## Successive halving",
        "",
        "| rung | steps | candidates (best first) | seconds |",
        "|---|---|---|---|",
    ]
    for r in advice["rungs"]:
        cands = ", ".join(f"{n} {v:.4f}" for n, v in zip(r["candidates"], r["cv_ndcg10"]))
        lines.append(f"| {r['rung']} | {r['steps']} | {cands} | {r['seconds']} |")
    lines += [
        "",
        f"## Candidates (cross-validated nDCG@10 at the last rung reached; start {s['start_cv_ndcg10']:.4f})",
        "",
        "| rank | candidate | rung | CV nDCG@10 [95% query bootstrap] | − the rung's best | within margin | held-out nDCG@10 "
        "| Δ̂ | H_pair | H_list(τ) | κ | locality |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in advice["candidates"]:
        d = e["diagnostics"]
        lines.append(
            f"| {e['rank']} | {e['candidate']} | {e['rung_reached']} | {_ci(e['cv_ndcg10'])} | {_ci(e['cv_minus_best'])} "
            f"| {'yes' if e['within_margin'] else 'no'} | {e['decide_ndcg10']['mean']:.4f} | {d['delta_hat']:.3f} "
            f"| {d['entropy_pair']:.3f} | {d['entropy_list']:.3f} | {_kappa(d['kappa'])} | {d['locality']:.3f} |"
        )
    lines += [
        "",
        f"**Chosen set** (within {s['margin']} nDCG@10 of the best at the last rung): {', '.join(advice['chosen'])}.",
        "",
        f"**Held-out check** ({h['queries']} decide queries, every candidate retrained on all other queries for "
        f"{h['steps']} steps; not used for the choice): the top choice {h['top_choice']} has {h['top_choice_ndcg10']:.4f}, "
        f"the best candidate {h['best']} {h['best_ndcg10']:.4f} (difference {_ci(h['top_minus_best'])}; start "
        f"{h['start_ndcg10']:.4f}): {'within' if h['hit'] else 'outside'} the margin {s['margin']}.",
        "",
        "Diagnostics of each candidate's fold-0 training groups: Δ̂ the 0.99-quantile of group diameters (T2), H_pair "
        "the mean pairwise teacher entropy at τ = 1 (T1), H_list the listwise entropy at the training τ, κ = max μ/ν "
        "against the uniform law (T4), locality 1 − H(ν)/log N.",
    ]
    return "\n".join(lines) + "\n"


def paper_section(advice: dict, where: str) -> list[str]:
    """The lines of ``paper/advise.md``'s empirical-mode section: timing, the rungs' choice and the held-out check.

    Args:
      advice: :func:`advise_empirical`'s output (``advice.json``).
      where: the folder the advice was read from, as the paper cites it.
    """
    s, h, t = advice["settings"], advice["held_out"], advice["timing"]
    lines = [
        f"## The empirical mode (`--empirical --budget {s['budget_minutes']:g}`) on {Path(s['data']).name}",
        "",
        f"Generated from `{where}/advice.json` (report: `{where}/report.md`). Successive halving over "
        f"{len(advice['candidates'])} candidates (sampler × loss, `{s['student']}` student) in {s['folds']} grouped "
        f"query folds ({sum(s['fold_sizes'])} queries), {len(advice['rungs'])} rungs at "
        f"{', '.join(str(r['steps']) for r in advice['rungs'])} steps"
        f"{' (capped by --max-steps; the budget allowed more)' if t['capped'] else ''}: **{t['total_s']:.0f} s** in "
        f"all on {s.get('cpu', 'this machine')} (probe {t['probe_per_model_step_s'] * 1e3:.2f} ms per model-step).",
        "",
        "| candidate | rung reached | CV nDCG@10 [95% CI] | within 0.01 | held-out nDCG@10 |",
        "|---|---|---|---|---|",
    ]
    for e in advice["candidates"]:
        lines.append(
            f"| {e['candidate']} | {e['rung_reached']} | {_ci(e['cv_ndcg10'])} | {'yes' if e['within_margin'] else 'no'} "
            f"| {e['decide_ndcg10']['mean']:.4f} |"
        )
    lines += [
        "",
        f"Chosen set: {', '.join(advice['chosen'])}. On the {h['queries']} held-out decide queries (not used for the "
        f"choice; every candidate retrained on the other queries for {h['steps']} steps) the top choice "
        f"{h['top_choice']} scores {h['top_choice_ndcg10']:.4f} and the best candidate, {h['best']}, "
        f"{h['best_ndcg10']:.4f} (start {h['start_ndcg10']:.4f}): the choice is **{'within' if h['hit'] else 'outside'}"
        f"** the margin {s['margin']} by the point estimate (difference {_ci(h['top_minus_best'])}; the interval "
        f"{'lies inside' if -s['margin'] <= h['top_minus_best']['low'] and h['top_minus_best']['high'] <= s['margin'] else 'is wider than'}"
        f" ±{s['margin']}). CV start (the dense retriever) "
        f"{s['start_cv_ndcg10']:.4f}.",
    ]
    return lines
