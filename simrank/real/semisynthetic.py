"""``simrank real semi``: the semi-synthetic arm (issue 21, item 4) -- real geometry, a controlled teacher.

The documents, queries and BM25 are the collection's; the teacher is built so that a known share of it is in the
student class.  For a query ``q`` and a document ``x`` (unit MiniLM vectors; ``z`` the per-query z-score over
the corpus, :func:`simrank.real.data.teacher.zscore_rows`):

    g_γ(q, x) = (1 − γ) · z(qᵀ M* x) + γ · z(BM25(q, x)),      M* = I + λ C,   C = (1/m) Σ_{(q', x') ∈ R} q' x'ᵀ

with ``R`` the ``m`` relevant (query, document) pairs of the *train* split's gold qrels and
``λ = c · mean_q std_x(qᵀx) / mean_q std_x(qᵀ C x)`` over the training pool's queries (``c = semi.correction``;
``c = 1``: the correction moves scores as much as the dense score does).  ``qᵀ M* x`` raises the documents
relevant to training claims similar to ``q``, fitted on train-split qrels only so that no tune or decide judgment
enters it (on the decide split it ranks the gold qrels below the dense retriever: the grouped split leaves no
relevant document shared with training to carry over).  The ``full`` student
``f(q, x) = α qᵀx + qᵀ W x`` represents ``qᵀ M* x`` exactly (``α = s``, ``W = s λ C``), so at ``γ = 0`` the
teacher's ranking is in the student class (its per-query scale ``1/std_x`` is not: softmax targets are, up to a
per-query temperature); ``γ`` is the teacher's unlearnable (lexical) share, ``γ = 1`` the BM25 teacher alone.
(A random rotation of the dense space is also representable, but its ranking has nothing to do with relevance.)

``τ_γ``: the temperature at which the mean listwise entropy ``H(softmax(g/τ))`` of the ``tune.group_size``
groups of ``tune.sampler`` drawn on the training pool equals ``semi.entropy`` nats
(:func:`simrank.measures.temperature_for_entropy`); every cell's mean group entropy is recorded.

Queries: every query with a relevant document in the train or test qrels, split by
:func:`simrank.real.splits.grouped_query_split` into ``train`` / ``tune`` / ``decide`` (queries sharing a
relevant document stay together).  Training pool: the train split's queries and the unlabelled claims,
teacher-labelled (positive = the teacher's top document, :func:`simrank.real.data.queryset.teacher_positives`);
``tune`` chooses each (γ, loss)'s learning rate and decides "learns"; ``decide`` gives every reported number.

Measures per decide query (the student's full-corpus ranking):

* ``agree`` = |top10(f) ∩ top10(g)| / 10, the agreement with the teacher's ranking;
* ``ndcg`` = nDCG@10 against teacher-derived labels (``rel = 1`` on the teacher's top 10): what distillation
  targets; the predictions P4, P5, P10 and P11 are decided on it (the teacher is this arm's truth);
* ``gold`` = nDCG@10 against the gold qrels; ``kl`` = KL(softmax(g/τ) ‖ softmax(f/τ)) over the corpus.

Gap share of a measure ``m``: ``(m_student − m_start) / (m_teacher − m_start)`` (``m_teacher = 1`` for
``agree`` and ``ndcg``), the start being the untrained student (the dense retriever).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from simrank._version import __version__
from simrank.config import _read_toml
from simrank.errors import ConfigError, check_positive, check_range
from simrank.groups import QuerySet, draw_groups
from simrank.measures import listwise_entropy, ndcg_at, rank_correlation, temperature_for_entropy
from simrank.paths import experiments_dir
from simrank.predictions.base import Effect, markdown_table
from simrank.real._util import top_k
from simrank.real.confirm.design import DEPTH, RealConfig, load_real_config
from simrank.real.confirm.run import choose
from simrank.real.confirm.stats import RealVerdict, learning_cells, query_effect, real_p4, real_p5, real_p10, real_p11
from simrank.real.confirm.training import (
    group_diagnostics,
    make_measure,
    make_real_student,
    make_train_fn,
    pad_groups,
    tune_batch,
    tuning_groups,
)
from simrank.real.data.beir import EMBEDDINGS_FILE, data_checksums, load_collection, load_embeddings
from simrank.real.data.bm25 import BM25Index
from simrank.real.data.queryset import grade_matrix, teacher_positives
from simrank.real.data.teacher import hybrid_teacher_scores
from simrank.real.splits import grouped_query_split
from simrank.runner import code_commit
from simrank.samplers import make_sampler

__all__ = [
    "SECTIONS",
    "render_semi",
    "semi_blocks",
    "share_outcome",
    "MEASURES",
    "SemiConfig",
    "agreement_at",
    "gap_shares",
    "load_semi_config",
    "run_semi",
    "semi_verdicts",
    "teacher_labels",
    "teacher_map",
]

STUDENT = "full"  # the student class M* is representable in
CUTOFF = 10
MEASURES = ("agree", "ndcg", "gold")  # per-query measures on the decide split (see the module docstring)


@dataclass(frozen=True)
class SemiConfig:
    """The semi-synthetic design: the shared real-data settings and the ``[semi]`` table.

    Attributes:
      real: training, grid, tuning and rule settings (:class:`~simrank.real.confirm.design.RealConfig`).
      gammas: the teacher's unlearnable shares γ ∈ [0, 1].
      entropy: target mean listwise group entropy (nats) that sets τ_γ.
      correction: ``c`` in λ (the correction's strength relative to the dense score).
      fractions: train / tune / decide query fractions.
      split_seed: seed of the grouped split.
      share_target: the registered gap-share target at γ = 0.
      share_k: group size of the registered gap-share cells (all samplers at that k, averaged per query).
    """

    real: RealConfig
    gammas: tuple[float, ...] = (0.0, 0.5, 1.0)
    entropy: float = 1.0
    correction: float = 1.0
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)
    split_seed: int = 0
    share_target: float = 0.5
    share_k: int = 8

    def __post_init__(self):
        if not self.gammas:
            raise ConfigError("semi.gammas must be non-empty")
        for g in self.gammas:
            check_range("semi.gammas", g, 0.0, 1.0)
        check_range("semi.entropy", self.entropy, 1e-3, float(np.log(self.real.tune_group_size)) - 1e-3)
        check_positive("semi.correction", self.correction)
        check_range("semi.share_target", self.share_target, 0.0, 1.0)
        if self.share_k not in self.real.group_sizes:
            raise ConfigError(f"semi.share_k = {self.share_k} is not allowed; it must be one of grid.group_sizes")
        if len(self.fractions) != 3:
            raise ConfigError(f"semi.fractions = {list(self.fractions)} is not allowed; give train, tune, decide")

    @property
    def split_fractions(self) -> dict[str, float]:
        return dict(zip(("train", "tune", "decide"), self.fractions, strict=True))

    def as_dict(self) -> dict:
        return {
            "real": self.real.as_dict(),
            "gammas": list(self.gammas),
            "entropy": self.entropy,
            "correction": self.correction,
            "fractions": list(self.fractions),
            "split_seed": self.split_seed,
            "share_target": self.share_target,
            "share_k": self.share_k,
        }


def load_semi_config(path: str | Path | None = None, quick: bool = False) -> SemiConfig:
    """Read ``experiments/real-semi.toml`` (or ``path``): the real-data sections by
    :func:`~simrank.real.confirm.design.load_real_config` (``[quick]`` applied with ``quick``), ``[semi]`` here.

    Args:
      path: the TOML file (default ``experiments/real-semi.toml``).
      quick: apply its ``[quick]`` table.

    Raises:
      ConfigError: an unknown or invalid key (one line).
    """
    path = Path(path) if path is not None else experiments_dir() / "real-semi.toml"
    real = load_real_config(path, quick=quick, own=("semi",))
    semi = _read_toml(path).get("semi", {})
    fields = {"gammas", "entropy", "correction", "fractions", "split_seed", "share_target", "share_k"}
    if unknown := sorted(set(semi) - fields):
        raise ConfigError(f"unknown key semi.{unknown[0]} in {path.name}; allowed: {', '.join(sorted(fields))}")
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in semi.items()}
    return SemiConfig(real, **values)


# ----------------------------------------------------------------------------- the teacher and its labels


def teacher_map(queries: np.ndarray, positives: np.ndarray, pool: np.ndarray, docs: np.ndarray, c: float) -> np.ndarray:
    """``M* = I + λ C`` with ``C = (1/m) Σ_i q_i x_iᵀ`` over the relevant pairs and
    ``λ = c · mean_q std_x(qᵀx) / mean_q std_x(qᵀ C x)`` over the ``pool`` queries (module docstring).

    Args:
      queries: ``[m, d]`` query vectors of the relevant pairs.
      positives: ``[m, d]`` their relevant documents' vectors.
      pool: ``[n, d]`` the training pool's query vectors (sets the scale λ).
      docs: ``[N, d]`` the corpus vectors.
      c: the correction's strength relative to the dense score.

    Returns:
      ``[d, d]`` float64 matrix.
    """
    q, x = np.asarray(queries, np.float64), np.asarray(positives, np.float64)
    corr = q.T @ x / len(q)
    p, d = np.asarray(pool, np.float64), np.asarray(docs, np.float64)
    lam = c * (p @ d.T).std(axis=1).mean() / (p @ corr @ d.T).std(axis=1).mean()
    return np.eye(q.shape[1]) + lam * corr


def teacher_labels(g: np.ndarray, cutoff: int = CUTOFF) -> np.ndarray:
    """Binary labels of the teacher's own ranking: ``rel(q, x) = 1`` on the ``cutoff`` top documents of ``g_q``
    (ties by column index, :func:`simrank.real._util.top_k`), int32 ``[n, N]``.

    Args:
      g: ``[n, N]`` teacher scores.
      cutoff: how many top documents are labelled relevant.
    """
    labels = np.zeros(g.shape, np.int32)
    np.put_along_axis(labels, top_k(g, cutoff)[0], 1, axis=1)
    return labels


def agreement_at(student_top: np.ndarray, labels: np.ndarray, cutoff: int = CUTOFF) -> np.ndarray:
    """``|top_c(f) ∩ top_c(g)| / c`` per query from the student's ranked document ids ``[..., n, ≥ c]`` and the
    teacher's :func:`teacher_labels` ``[n, N]``; float64 ``[..., n]``.

    Args:
      student_top: ``[..., n, ≥ cutoff]`` document ids, best first.
      labels: ``[n, N]`` the teacher's top-``cutoff`` labels.
      cutoff: ``c``.
    """
    hits = np.take_along_axis(np.broadcast_to(labels, (*student_top.shape[:-1], labels.shape[1])), student_top, -1)
    return hits[..., :cutoff].sum(axis=-1) / cutoff


# ----------------------------------------------------------------------------- the run


@dataclass
class _Data:
    docs: np.ndarray
    pool_vectors: np.ndarray
    pool_bm25: np.ndarray
    pool_dense: np.ndarray
    eval_vectors: dict[str, np.ndarray]  # tune, decide
    eval_bm25: dict[str, np.ndarray]
    eval_dense: dict[str, np.ndarray]
    gold: dict[str, np.ndarray]
    splits: dict[str, list[str]]
    m_star: np.ndarray


def _load(data_dir: Path, cfg: SemiConfig, embeddings_file: str) -> _Data:
    collection = load_collection(data_dir, splits=("train", "test"))
    emb = load_embeddings(Path(data_dir) / embeddings_file, collection)
    bm25 = BM25Index.build(collection)
    qrels = pd.concat([collection.qrels["train"], collection.qrels["test"]], ignore_index=True)
    splits = grouped_query_split(qrels, cfg.split_fractions, cfg.split_seed)
    if any(len(ids) < 2 for ids in splits.values()):
        raise ConfigError(
            f"--data {data_dir}: too few judged queries for three splits ({ {k: len(v) for k, v in splits.items()} })"
        )

    def vectors(ids):
        return emb.query_emb[[emb.query_row[q] for q in ids]].reshape(len(ids), -1)

    pool_ids = splits["train"] + (list(collection.unlabeled_query_ids) if "unlabeled" in cfg.real.query_sources else [])
    pool = vectors(pool_ids)
    train = qrels[(qrels.relevance > 0) & qrels.query_id.isin(set(splits["train"]))]
    col = {d: j for j, d in enumerate(collection.doc_ids)}
    m_star = teacher_map(
        vectors(list(train.query_id)), emb.doc_emb[train.doc_id.map(col).to_numpy()], pool, emb.doc_emb, cfg.correction
    )

    def mapped(v):
        return (v.astype(np.float64) @ m_star @ emb.doc_emb.T.astype(np.float64)).astype(np.float32)

    sets = ("tune", "decide")
    return _Data(
        docs=emb.doc_emb,
        pool_vectors=pool,
        pool_bm25=bm25.scores(collection.query_texts_for(pool_ids)),
        pool_dense=mapped(pool),
        eval_vectors={s: vectors(splits[s]) for s in sets},
        eval_bm25={s: bm25.scores(collection.query_texts_for(splits[s])) for s in sets},
        eval_dense={s: mapped(vectors(splits[s])) for s in sets},
        gold={s: grade_matrix(qrels, splits[s], collection.doc_ids) for s in sets},
        splits=splits,
        m_star=m_star,
    )


def _teacher(bm25: np.ndarray, mapped: np.ndarray, gamma: float) -> np.ndarray:
    """``g_γ = γ z(BM25) + (1 − γ) z(qᵀ M* x)`` (:func:`~simrank.real.data.teacher.hybrid_teacher_scores`)."""
    return hybrid_teacher_scores(bm25, mapped, (gamma, 1.0 - gamma))


def _pool(data: _Data, gamma: float) -> QuerySet:
    g = _teacher(data.pool_bm25, data.pool_dense, gamma)
    dense = data.pool_vectors @ data.docs.T
    return QuerySet(
        docs=data.docs,
        queries=data.pool_vectors,
        teacher_scores=g,
        positive_probs=teacher_positives(g, "teacher_top1"),
        grades=np.zeros((len(g), 0), np.int8),
        proxies={"bm25": data.pool_bm25, "dense": dense, "teacher": g},
    )


def _sets(data: _Data, gamma: float) -> tuple[dict, dict]:
    """The measurement sets (``val`` = tune, ``decide`` with the teacher for KL and the ranking, ``gold``) and the
    teacher's own scores per split."""
    g = {s: _teacher(data.eval_bm25[s], data.eval_dense[s], gamma) for s in ("tune", "decide")}
    docs = data.docs
    sets = {
        "val": {"queries": data.eval_vectors["tune"], "docs": docs, "grades": teacher_labels(g["tune"])},
        "decide": {
            "queries": data.eval_vectors["decide"],
            "docs": docs,
            "grades": teacher_labels(g["decide"]),
            "candidate_mask": np.ones(g["decide"].shape, bool),
            "teacher": g["decide"],
        },
        "gold": {"queries": data.eval_vectors["decide"], "docs": docs, "grades": data.gold["decide"]},
    }
    return sets, g


def _per_query(m: dict, labels: np.ndarray) -> dict[str, np.ndarray]:
    """The decide split's per-query measures of a batch of models ``[m, n]`` from :func:`make_measure` output."""
    return {
        "tune_q": np.asarray(m["val_ndcg10"]),
        "agree_q": agreement_at(np.asarray(m["decide_top"]), labels),
        "ndcg_q": np.asarray(m["decide_ndcg10"]),
        "gold_q": np.asarray(m["gold_ndcg10"]),
        "kl_q": np.asarray(m["decide_kl"]),
    }


def run_semi(
    data_dir: Path,
    out: Path,
    cfg: SemiConfig,
    progress: Callable[[str], None] = lambda s: None,
    embeddings_file: str = EMBEDDINGS_FILE,
) -> tuple[pd.DataFrame, dict]:
    """Per γ: build the teacher, set τ_γ, tune each loss's learning rate on the tune split, train the grid
    (seeds × samplers × group sizes per loss) and measure every model on the decide split; write
    ``results.parquet`` (one row per model, per-query arrays), ``baselines.parquet`` (start, teacher, BM25 per
    γ), ``tuning.parquet``, ``splits.parquet`` and ``meta.json`` into ``out``.  Returns ``(results, meta)``.

    Args:
      data_dir: BEIR folder with train and test qrels and cached embeddings.
      out: output folder.
      cfg: the design.
      progress: called with one line per finished step.
      embeddings_file: the vectors' file in ``data_dir``.
    """
    start_time = time.perf_counter()
    timings: dict[str, float] = {"load_average_start": os.getloadavg()[0]}
    rc = replace(cfg.real, students=(STUDENT,), supervised=False, demote=False)
    data = _load(Path(data_dir), cfg, embeddings_file)
    timings["prepare_s"] = time.perf_counter() - start_time
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    student = make_real_student(STUDENT, data.docs.shape[1])
    measure = make_measure(student, min(DEPTH, data.docs.shape[0]))
    trainers: dict[tuple, Callable] = {}

    def trainer(loss: str, steps: int) -> Callable:
        if (loss, steps) not in trainers:
            trainers[(loss, steps)] = make_train_fn(student, loss, steps, rc)
        return trainers[(loss, steps)]

    init = jax.tree_util.tree_map(lambda a: a[None], student.project(student.init(jax.random.PRNGKey(0))))
    cells = [(sampler, k) for sampler in rc.samplers for k in rc.group_sizes]
    rows, baselines, tuning_rows, taus = [], [], [], {}
    for gi, gamma in enumerate(cfg.gammas):
        pool = _pool(data, gamma)
        calib, _ = draw_groups(
            pool, make_sampler(**rc.sampler(rc.tune_sampler)), rc.n_groups, rc.tune_group_size,
            np.random.default_rng([20_000, gi]),
        )  # fmt: skip
        tau = temperature_for_entropy(calib.teacher_scores, cfg.entropy, kind="listwise")
        taus[gamma] = tau
        sets, g = _sets(data, gamma)
        labels = sets["decide"]["grades"]
        start = _per_query(jax.tree_util.tree_map(np.asarray, measure(init, sets, jnp.full(1, tau))), labels)
        teacher_gold = np.asarray(ndcg_at(jnp.asarray(g["decide"]), jnp.asarray(data.gold["decide"]), CUTOFF))
        bm25_gold = np.asarray(ndcg_at(jnp.asarray(data.eval_bm25["decide"]), jnp.asarray(data.gold["decide"]), CUTOFF))
        for model, values in (
            ("start", {k: v[0] for k, v in start.items()}),
            ("teacher", {"agree_q": np.ones_like(teacher_gold), "ndcg_q": np.ones_like(teacher_gold), "gold_q": teacher_gold}),
            ("bm25", {"gold_q": bm25_gold}),
        ):  # fmt: skip
            baselines.append(
                {"gamma": gamma, "tau": tau, "model": model} | {k: np.asarray(v, np.float32) for k, v in values.items()}
            )

        # 1. the learning rate per loss on the tune split (teacher-label nDCG@10)
        t0 = time.perf_counter()
        groups = {s: tuning_groups(pool, rc, s) for s in range(rc.tune_seeds)}
        tuning = []
        for arm in rc.arms:
            for steps in rc.tune_steps:
                batch = [(lr, tau, s) for s in range(rc.tune_seeds) for lr in rc.learning_rates[STUDENT]]
                val, risk = tune_batch(trainer(arm.loss, steps), measure, {"val": sets["val"]}, groups, batch)
                tuning += [
                    {
                        "gamma": gamma,
                        "student": STUDENT,
                        "arm": arm.name,
                        "loss": arm.loss,
                        "learning_rate": lr,
                        "steps": steps,
                        "seed": s,
                        "val_ndcg10": float(val[i]),
                        "val_start": float(start["tune_q"].mean()),
                        "train_risk": float(risk[i]),
                    }
                    for i, (lr, _, s) in enumerate(batch)
                ]
        tuning = pd.DataFrame(tuning)
        chosen, _ = choose(tuning, rc)
        tuning_rows.append(tuning)
        timings[f"tune_s_gamma{gamma:g}"] = time.perf_counter() - t0
        progress(f"γ = {gamma:g}: τ = {tau:.3f}, chosen {chosen}")

        # 2. the grid on the decide split
        t0 = time.perf_counter()
        for seed in range(rc.seeds):
            drawn = []
            for sampler, k in cells:
                grp, nu = draw_groups(
                    pool, make_sampler(**rc.sampler(sampler)), rc.n_groups, k,
                    np.random.default_rng([seed, k, rc.samplers.index(sampler), gi]),
                )  # fmt: skip
                entropy = float(np.mean(listwise_entropy(jnp.asarray(grp.teacher_scores), tau)))
                drawn.append((pad_groups(grp, rc.k_max), group_diagnostics(grp, nu, tau) | {"entropy_list": entropy}))
            stacked = jax.tree_util.tree_map(lambda *xs: np.stack(xs), *[d[0] for d in drawn])
            for arm in rc.arms:
                lr, steps, _ = chosen[(STUDENT, arm.name)]
                taus_b = jnp.full(len(cells), tau, jnp.float32)
                keys = jax.random.split(jax.random.PRNGKey(seed), len(cells))
                params, _, risk = trainer(arm.loss, steps)(keys, stacked, jnp.full(len(cells), lr), taus_b)
                per_query = _per_query(jax.tree_util.tree_map(np.asarray, measure(params, sets, taus_b)), labels)
                for i, (sampler, k) in enumerate(cells):
                    q = {name: v[i].astype(np.float32) for name, v in per_query.items()}
                    rows.append(
                        {
                            "gamma": gamma,
                            "tau": tau,
                            "student": STUDENT,
                            "arm": arm.name,
                            "loss": arm.loss,
                            "label_source": arm.label_source,
                            "sampler": sampler,
                            "group_size": k,
                            "seed": seed,
                            "learning_rate": lr,
                            "steps": steps,
                            **{f"{name}": float(q[f"{name}_q"].mean()) for name in (*MEASURES, "kl")},
                            "kl_ndcg_spearman": float(
                                rank_correlation(jnp.asarray(q["kl_q"]), jnp.asarray(q["ndcg_q"]))
                            ),
                            "train_risk": float(risk[i]),
                            **drawn[i][1],
                            **q,
                        }
                    )
            progress(f"γ = {gamma:g} seed {seed}: {len(cells) * len(rc.arms)} models")
        timings[f"train_eval_s_gamma{gamma:g}"] = time.perf_counter() - t0
    results = pd.DataFrame(rows)
    timings["total_s"] = time.perf_counter() - start_time
    timings["load_average_end"] = os.getloadavg()[0]
    results.to_parquet(out / "results.parquet", index=False)
    pd.DataFrame(baselines).to_parquet(out / "baselines.parquet", index=False)
    pd.concat(tuning_rows).to_parquet(out / "tuning.parquet", index=False)
    pd.DataFrame([{"query_id": q, "split": s} for s, ids in data.splits.items() for q in ids]).to_parquet(
        out / "splits.parquet", index=False
    )
    meta = {
        "config": cfg.as_dict(),
        "taus": {f"{g:g}": t for g, t in taus.items()},
        "splits": {s: len(ids) for s, ids in data.splits.items()},
        "pool_queries": len(data.pool_vectors),
        "m_star_fro": float(np.linalg.norm(data.m_star - np.eye(len(data.m_star)))),
        "timings": timings,
        "n_models": len(results),
        "simrank_version": __version__,
        "code_commit": code_commit(),
        "data_checksums": data_checksums(data_dir),
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return results, meta


# ----------------------------------------------------------------------------- analysis (from the written files)


def _confirm_view(results: pd.DataFrame, baselines: pd.DataFrame, cfg: dict, gamma: float) -> dict:
    """γ's results in the layout the real-confirm rules read (``val`` = the tune split, ``test`` = decide, both
    on teacher-label nDCG@10): the inputs are adapted, the rules are the synthetic ones."""
    rows = results[results.gamma == gamma].rename(columns={"tune_q": "val_ndcg10_q", "ndcg_q": "ndcg10_q"})
    start = baselines[(baselines.gamma == gamma) & (baselines.model == "start")].iloc[0]
    base = pd.DataFrame(
        [
            {"set": "val", "model": f"start:{STUDENT}", "mode": "full", "ndcg10_q": start.tune_q},
            {"set": "test", "model": f"start:{STUDENT}", "mode": "full", "ndcg10_q": start.ndcg_q},
        ]
    )
    return {"results": rows, "baselines": base, "meta": {"config": cfg}}


def semi_verdicts(results: pd.DataFrame, baselines: pd.DataFrame, cfg: dict) -> dict[float, dict[str, RealVerdict]]:
    """Per γ: P4, P5, P10 and P11 decided by the real-data adapters of their synthetic rules
    (:func:`simrank.real.confirm.stats.real_p4` …, which call ``simrank.predictions.pNN.decide``) on teacher-label
    nDCG@10 of the decide split, with "learns" from the tune split (:func:`~simrank.real.confirm.stats.learning_cells`).

    Args:
      results: ``results.parquet`` of a semi run.
      baselines: its ``baselines.parquet``.
      cfg: the run's ``meta["config"]["real"]`` (margin, alpha, n_resamples, learn_min, group_sizes).
    """
    out = {}
    for gamma in sorted(results.gamma.unique()):
        run = _confirm_view(results, baselines, cfg, gamma)
        cells = learning_cells(run)
        learns = dict(cells[["arm", "learns"]].values)
        rows = run["results"]
        out[float(gamma)] = {
            "P4": real_p4(rows, cfg, learns),
            "P5": real_p5(rows, cfg, learns),
            "P10": real_p10(rows, cfg, learns),
            "P11": real_p11(rows, cfg, learns),
        }
    return out


def gap_shares(results: pd.DataFrame, baselines: pd.DataFrame, cfg: dict, k: int | None = None) -> pd.DataFrame:
    """Per γ, loss and measure (``agree``, ``ndcg``, ``gold``): the student's gap share on the decide split,
    ``(m_student − m_start) / (m_teacher − m_start)``, on the cells at group size ``k`` (all of them when None)
    averaged per query within a seed; the numerator's 90% two-way bootstrap interval
    (:func:`~simrank.real.confirm.stats.query_effect`) divided by the fixed denominator gives the share's interval.

    Args:
      results: ``results.parquet`` of a semi run.
      baselines: its ``baselines.parquet``.
      cfg: the run's ``meta["config"]["real"]`` (alpha, n_resamples).
      k: the group size of the cells, or None for every cell.
    """
    rows = []
    for (gamma, loss), part in results.groupby(["gamma", "loss"], sort=True):
        if k is not None:
            part = part[part.group_size == k]
        base = baselines[baselines.gamma == gamma].set_index("model")
        for name in MEASURES:
            cell = np.stack(
                [
                    np.stack(p.sort_values(["sampler", "group_size"])[f"{name}_q"]).mean(0)
                    for _, p in part.groupby("seed")
                ]
            ).astype(np.float64)
            start, teacher = np.asarray(base.loc["start", f"{name}_q"]), np.asarray(base.loc["teacher", f"{name}_q"])
            e: Effect = query_effect(cell, start, cfg["n_resamples"], cfg["alpha"])
            gap = float(teacher.mean() - start.mean())
            low, high = sorted((e.low / gap, e.high / gap)) if gap != 0 else (np.nan, np.nan)
            rows.append(
                {
                    "gamma": gamma,
                    "loss": loss,
                    "measure": name,
                    "start": float(start.mean()),
                    "student": float(cell.mean()),
                    "teacher": float(teacher.mean()),
                    "share": e.mean / gap if gap != 0 else np.nan,
                    "share_low": low,
                    "share_high": high,
                }
            )
    return pd.DataFrame(rows)


def share_outcome(low: float, high: float, target: float) -> str:
    """The registered gap-share rule: ``met`` iff the share's interval ``[low, high]`` lies at or above ``target``,
    ``not met`` iff it lies below, else ``inconclusive``.

    Args:
      low: the interval's lower end.
      high: its upper end.
      target: the registered share (``semi.share_target``).

    Examples:
      >>> share_outcome(0.6, 0.8, 0.5), share_outcome(0.2, 0.4, 0.5), share_outcome(0.4, 0.6, 0.5)
      ('met', 'not met', 'inconclusive')
    """
    if low >= target:
        return "met"
    if high < target:
        return "not met"
    return "inconclusive"


# ----------------------------------------------------------------------------- the report


#: Generated blocks of ``paper/real-semi.md`` and ``report.md``: name -> heading.
SECTIONS = (
    ("semi-design", "Design as run"),
    ("semi-shares", "Gap shares on the decide split"),
    ("semi-predictions", "P4, P5, P10, P11 by the synthetic rules, per γ"),
)


def _load_run(out: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    out = Path(out)
    return (
        pd.read_parquet(out / "results.parquet"),
        pd.read_parquet(out / "baselines.parquet"),
        pd.read_parquet(out / "tuning.parquet"),
        json.loads((out / "meta.json").read_text()),
    )


def _ci(mean: float, low: float, high: float) -> str:
    return f"{mean:.3f} [{low:.3f}, {high:.3f}]"


def semi_blocks(out: Path) -> dict[str, str]:
    """The Markdown of every :data:`SECTIONS` block, from the files of a finished semi run in ``out``.

    Args:
      out: the run's folder (``results.parquet``, ``baselines.parquet``, ``tuning.parquet``, ``meta.json``).
    """
    results, baselines, tuning, meta = _load_run(out)
    cfg, real = meta["config"], meta["config"]["real"]
    chosen = tuning.groupby(["gamma", "arm", "learning_rate", "steps"]).val_ndcg10.mean()
    picks = {(g, a): chosen.loc[(g, a)].idxmax() for g, a in dict.fromkeys(zip(tuning.gamma, tuning.arm, strict=True))}
    entropy = results.groupby(["gamma", "sampler", "group_size"]).entropy_list.mean().unstack(["sampler", "group_size"])
    entropy.columns = [f"H {s} k={k}" for s, k in entropy.columns]
    design = pd.DataFrame(
        {
            "γ": [float(g) for g in entropy.index],
            "τ_γ": [meta["taus"][f"{g:g}"] for g in entropy.index],
            **{c: entropy[c].to_numpy() for c in entropy.columns},
            **{
                f"{a}: lr, steps": [f"{picks[(g, a)][0]:g}, {picks[(g, a)][1]}" for g in entropy.index]
                for a in dict.fromkeys(tuning.arm)
            },
        }
    )
    split = meta["splits"]
    design_text = (
        f"Queries: grouped split (`simrank.real.splits.grouped_query_split`, seed {cfg['split_seed']}) into train "
        f"{split['train']}, tune {split['tune']} and decide {split['decide']} queries; training pool {meta['pool_queries']} "
        f"teacher-labelled queries. M* = I + λC fitted on the train split's qrels, ‖M* − I‖_F = {meta['m_star_fro']:.3f}. "
        f"τ_γ sets the mean listwise entropy of {real['tune_sampler']} k = {real['tune_group_size']} groups to "
        f"{cfg['entropy']:g} nats (log {real['tune_group_size']} = {np.log(real['tune_group_size']):.2f}); H columns: "
        f"each cell's measured mean listwise group entropy (nats). {real['seeds']} seeds, {meta['n_models']} models, "
        f"{meta['timings']['total_s']:.0f} s wall (load average {meta['timings']['load_average_start']:.1f} → "
        f"{meta['timings']['load_average_end']:.1f}), commit {meta['code_commit']}.\n\n"
    ) + markdown_table(design)

    shares = gap_shares(results, baselines, real, cfg["share_k"])
    shares["share [90% CI]"] = [_ci(r.share, r.share_low, r.share_high) for r in shares.itertuples()]
    target = shares[
        (shares.gamma == min(cfg["gammas"])) & (shares.loss == "kl") & shares.measure.isin(["agree", "ndcg"])
    ]
    verdict = "; ".join(
        f"{r.measure}: {_ci(r.share, r.share_low, r.share_high)} → {share_outcome(r.share_low, r.share_high, cfg['share_target'])}"
        for r in target.itertuples()
    )
    shares_text = (
        f"KL and LCE students at k = {cfg['share_k']} (samplers averaged per query within a seed) against their start "
        f"(the dense retriever) and the teacher, on the {split['decide']} decide queries. `agree`: agreement@10 with the "
        "teacher's top 10; `ndcg`: nDCG@10 against the teacher's top-10 labels; `gold`: nDCG@10 against the gold "
        "qrels (the teacher's own gold nDCG@10 in `teacher`). Share = (student − start) / (teacher − start), "
        "interval: the numerator's 90% two-way bootstrap over queries and seeds over the fixed denominator.\n\n"
        f"**Registered target** (KL, γ = {min(cfg['gammas']):g}, share ≥ {cfg['share_target']:g}): {verdict}.\n\n"
    ) + markdown_table(
        shares[["gamma", "loss", "measure", "start", "student", "teacher", "share [90% CI]"]].rename(
            columns={"gamma": "γ"}
        )
    )

    verdicts = semi_verdicts(results, baselines, real)
    table = pd.DataFrame(
        [
            {"γ": g, "prediction": key, "outcome": v.outcome, "why": v.why}
            for g, vs in verdicts.items()
            for key, v in vs.items()
        ]
    )
    cells = pd.concat(
        [
            learning_cells(_confirm_view(results, baselines, real, g)).assign(gamma=g)
            for g in sorted(results.gamma.unique())
        ]
    )
    learn = pd.DataFrame(
        {
            "γ": cells.gamma,
            "arm": cells.arm,
            "tune gain [95% CI]": [_ci(r.d_val, r.d_val_low, r.d_val_high) for r in cells.itertuples()],
            "decide gain [95% CI]": [_ci(r.d_test, r.d_test_low, r.d_test_high) for r in cells.itertuples()],
            "learns": cells.learns,
        }
    )
    predictions_text = (
        "Teacher-label nDCG@10 plays the synthetic worlds' true nDCG@10 (the teacher is this arm's truth). A rule is "
        "applied only where its arms learn (tune-split gain on the start, 95% interval above 0 and ≥ "
        f"{real['learn_min']:g}).\n\n" + markdown_table(learn) + "\n" + markdown_table(table)
    )
    return {"semi-design": design_text, "semi-shares": shares_text, "semi-predictions": predictions_text}


def render_semi(out: Path, generated: dict[str, str] | None = None) -> str:
    """``report.md`` of a semi run: every :data:`SECTIONS` block under its heading.

    Args:
      out: the run's folder.
      generated: the blocks (default: :func:`semi_blocks` of ``out``).
    """
    generated = semi_blocks(out) if generated is None else generated
    parts = ["# The semi-synthetic arm (real geometry, controlled teacher)\n"]
    for name, heading in SECTIONS:
        parts.append(
            f"\n## {heading}\n\n<!-- BEGIN generated:{name} -->\n{generated[name]}<!-- END generated:{name} -->\n"
        )
    return "".join(parts)
