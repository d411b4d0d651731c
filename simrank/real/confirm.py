"""``simrank real confirm``: train students on real BEIR data with the synthetic pipeline's samplers,
groups, losses, students and trainer, choose each arm's learning rate on a validation split, and
measure every model per query on the test split and on zero-shot collections.

Student (all kinds): the dense cosine plus a learned correction,

    f(q, x) = α · qᵀx + h_θ(q, x),      α learned (init ``ALPHA_INIT``), h_θ a :mod:`simrank.students`
    student (``diag``: qᵀ diag(w) x; ``full``: qᵀ W x; ``lowrank``: qᵀ U Vᵀ x with ‖U Vᵀ‖_F ≤ α₀ √rank (``student.norm_bound``);
    ``mlp``: 2-layer ReLU on [q; x; q⊙x]); AdamW with the config's weight decay.

With h_θ = 0 at initialisation the bilinear students start as the dense retriever; each model's
movement from its start (validation, test and zero-shot nDCG@10) is recorded.

Data (see :mod:`simrank.real.design` for the arms):

* the train-qrels queries are split once (seeded) into *fit* and *validation* queries; validation keeps
  its gold qrels and is used only to choose learning rates and steps and to measure movement;
* primary arms train on the teacher-labelled pool: the fit queries (judgments ignored), the unlabelled
  claims and title pseudo-queries (``queries.sources``); the supervised arm ``lce_gold`` on the fit
  queries with their gold positives;
* the test qrels are used for measurement only.

One compiled trainer per (student, loss, steps) (the loss is static; learning rates are a traced
``lr_scale``) trains a batch of models with ``vmap``; one compiled measurement per student scores them.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from simrank._version import __version__
from simrank.groups import Groups, QuerySet, draw_groups
from simrank.losses import LOSS_SPECS
from simrank.measures import (
    corpus_kl,
    diameter,
    diameter_summary,
    kappa,
    ndcg_at,
    pairwise_entropy,
    rank_correlation,
    recall_at,
    rr_at,
)
from simrank.real.beir import (
    EMBEDDINGS_FILE,
    Collection,
    DataError,
    data_checksums,
    load_collection,
    load_embeddings,
)
from simrank.real.bm25 import BM25Index
from simrank.real.design import ALPHA_INIT, DEPTH, LOWRANK_RANK, Arm, RealConfig, lowrank_norm_bound
from simrank.real.evaluate import evaluate, run_from_scores, write_trec_run
from simrank.real.memorisation import prior_baseline, query_flags, seen_documents
from simrank.real.queryset import judged_queries, real_query_set, teacher_query_set
from simrank.runner import code_commit
from simrank.samplers import SamplingContext, make_sampler
from simrank.students import Student, bilinear, mlp
from simrank.trainer import TrainConfig, make_trainer, mean_loss

__all__ = ["EvalSet", "Prepared", "make_real_student", "prepare", "residual_student", "run_confirm"]

SCORE_CHUNK = 16  # queries scored at once (bounds the MLP's [chunk, N, 3d] activations)
CURVE_POINTS = 20  # training-loss curve stored as the means of this many equal windows of steps
TREC_SEED = 0  # models whose runs are written and re-scored with ir_measures (at the reference group size)


def residual_student(base: Student) -> Student:
    """``f(q, x) = α qᵀx + base(q, x)`` with ``α`` learned from ``ALPHA_INIT``; projection acts on ``base``."""

    def init(key):
        return {"alpha": jnp.asarray(ALPHA_INIT), "base": base.init(key)}

    def apply(params, query, docs, query_id=None, doc_id=None):
        if base.matrix is not None:  # qᵀ(αI + W)x: map the query first, never W through every document
            mapped = params["alpha"] * query + query @ base.matrix(params["base"])
            return jnp.einsum("...d,...kd->...k", mapped, docs)
        cosine = jnp.einsum("...d,...kd->...k", query, docs)
        return params["alpha"] * cosine + base.apply(params["base"], query, docs, query_id, doc_id)

    def project(params):
        return {"alpha": params["alpha"], "base": base.project(params["base"])}

    return Student(init, apply, project)


def make_real_student(name: str, dim: int, rank: int = LOWRANK_RANK, norm_bound: float | None = None) -> Student:
    """The residual student ``name`` (``diag``, ``full``, ``lowrank`` or ``mlp``).

    ``lowrank``'s correction ``U Vᵀ`` (rank ``rank``) lives in the ball ``‖U Vᵀ‖_F ≤ B`` with ``B = norm_bound``, by
    default :func:`simrank.real.design.lowrank_norm_bound` ``= α₀ √rank``: the norm of the cosine term ``α₀ I``
    restricted to a rank-``rank`` subspace, so the correction can re-weight that subspace as strongly as the
    dense score itself (a cap of 1 against ``α₀ = 20`` could move scores by 5% of the cosine term at most)."""
    bound = lowrank_norm_bound(rank) if norm_bound is None else norm_bound
    bases = {
        "diag": lambda: bilinear(dim, "diagonal"),
        "full": lambda: bilinear(dim, "full"),
        "lowrank": lambda: bilinear(dim, "low_rank", rank=rank, norm_bound=bound),
        "mlp": lambda: mlp(dim, hidden=32),
    }
    if name not in bases:
        raise DataError(f"student {name!r} is not allowed; choose one of {', '.join(bases)}")
    return residual_student(bases[name]())


@dataclass
class EvalSet:
    """Queries ranked over a whole corpus: vectors, graded judgments and baseline score matrices."""

    name: str  # "test", "val" or "zs_<collection>"
    query_ids: list[str]
    doc_ids: tuple[str, ...]
    queries: np.ndarray  # [n, d]
    docs: np.ndarray  # [N, d]
    grades: np.ndarray  # [n, N]
    qrels: pd.DataFrame
    proxies: dict[str, np.ndarray] = field(repr=False)  # bm25, dense, teacher: [n, N]
    candidates: np.ndarray | None = None  # [n, DEPTH] BM25 top-100 (re-ranking), test only

    def arrays(self) -> dict:
        out = {"queries": self.queries, "docs": self.docs, "grades": self.grades}
        if self.candidates is not None:
            mask = np.zeros(self.grades.shape, bool)
            np.put_along_axis(mask, self.candidates, True, axis=1)
            out |= {"candidate_mask": mask, "teacher": self.proxies["teacher"]}
        return out


@dataclass
class Prepared:
    """Everything a confirm run reads: training pools, validation, test and zero-shot sets."""

    collection: Collection
    pools: dict[str, QuerySet]  # "teacher" (primary arms) and "gold" (supervised arm)
    pool_sizes: dict[str, int]  # training queries per source
    test: EvalSet
    val: EvalSet
    zero_shot: list[EvalSet]

    @property
    def eval_sets(self) -> list[EvalSet]:
        return [self.test, self.val, *self.zero_shot]


def _eval_set(name, collection, embeddings, bm25, query_ids, qrels, cfg: RealConfig, rerank: bool) -> EvalSet:
    qs = real_query_set(
        collection,
        embeddings,
        bm25,
        query_ids,
        qrels,
        teacher=cfg.teacher,
        teacher_weights=cfg.teacher_weights,
        teacher_positive=True,
    )
    candidates = None
    if rerank:
        candidates, _ = bm25.top_k(collection.query_texts_for(query_ids), min(DEPTH, qs.n_docs))
    return EvalSet(
        name, list(query_ids), collection.doc_ids, qs.queries, qs.docs, qs.grades, qrels, qs.proxies, candidates
    )


def _positive_queries(qrels: pd.DataFrame) -> list[str]:
    return judged_queries(qrels[qrels.relevance > 0])


def load_zero_shot(data_dir: Path, cfg: RealConfig, dim: int, embeddings_file: str = EMBEDDINGS_FILE) -> EvalSet:
    """A zero-shot collection: its ``test`` qrels (queries with a relevant document), embeddings and BM25."""
    collection = load_collection(data_dir, splits=("test",))
    embeddings = load_embeddings(Path(data_dir) / embeddings_file, collection)
    if embeddings.doc_emb.shape[1] != dim:
        raise DataError(
            f"--eval-data {data_dir}: embedding dim {embeddings.doc_emb.shape[1]}, expected {dim} (the training data's)"
        )
    qrels = collection.qrels["test"]
    ids = _positive_queries(qrels)
    if not ids:
        raise DataError(
            f"--eval-data {data_dir}: qrels/test.tsv has no judged query with a relevant document (relevance > 0); "
            "a zero-shot collection needs test judgments"
        )
    qrels = qrels[qrels.query_id.isin(set(ids))]
    return _eval_set(
        f"zs_{Path(data_dir).name}", collection, embeddings, BM25Index.build(collection), ids, qrels, cfg, False
    )


def prepare(
    data_dir: Path, cfg: RealConfig, eval_dirs: tuple[Path, ...] = (), embeddings_file: str = EMBEDDINGS_FILE
) -> Prepared:
    """Load and check every input (nothing is written): training pools, validation, test and zero-shot sets.
    ``embeddings_file``: the vectors' file in each data folder (any encoder's, in :func:`load_embeddings`' format)."""
    data_dir = Path(data_dir)
    if not (data_dir / "qrels" / "train.tsv").is_file() and (data_dir / "corpus.jsonl").is_file():
        raise DataError(
            f"--data {data_dir}: no qrels/train.tsv; confirm needs a collection with a training split "
            "(use this one with --eval-data for zero-shot evaluation)"
        )
    collection = load_collection(data_dir, splits=("train", "test"))
    embeddings = load_embeddings(data_dir / embeddings_file, collection)
    bm25 = BM25Index.build(collection)
    train_qrels, test_qrels = collection.qrels["train"], collection.qrels["test"]
    labelled = judged_queries(train_qrels)
    if missing := sorted(set(labelled) - set(_positive_queries(train_qrels))):
        raise DataError(
            f"--data {data_dir}: train queries {missing[:5]}{' ...' if len(missing) > 5 else ''} have no positive "
            "(relevance > 0) in qrels/train.tsv; the gold LCE arm and validation need one per training query"
        )
    rng = np.random.default_rng(20240601)
    n_val = max(1, round(cfg.validation_fraction * len(labelled)))
    order = rng.permutation(len(labelled))
    val_ids = [labelled[i] for i in sorted(order[:n_val])]
    fit_ids = [labelled[i] for i in sorted(order[n_val:])]
    if not fit_ids or not _positive_queries(train_qrels[train_qrels.query_id.isin(set(val_ids))]):
        raise DataError(f"--data {data_dir}: too few training queries ({len(labelled)}) to split off a validation set")
    options = {"teacher": cfg.teacher, "teacher_weights": cfg.teacher_weights}
    gold = real_query_set(collection, embeddings, bm25, fit_ids, train_qrels, **options)
    vectors, texts, sizes = [], [], {}
    if "train" in cfg.query_sources:
        vectors.append(gold.queries)
        texts += collection.query_texts_for(fit_ids)
        sizes["train"] = len(fit_ids)
    if "unlabeled" in cfg.query_sources:
        ids = list(collection.unlabeled_query_ids)
        vectors.append(embeddings.query_emb[[embeddings.query_row[q] for q in ids]].reshape(len(ids), -1))
        texts += collection.query_texts_for(ids)
        sizes["unlabeled"] = len(ids)
    if "titles" in cfg.query_sources:
        titled = [j for j, t in enumerate(collection.doc_titles) if t.strip()]
        rows = sorted(np.random.default_rng(7).permutation(titled)[: cfg.n_titles].tolist())
        vectors.append(embeddings.doc_emb[rows])
        texts += [collection.doc_titles[j] for j in rows]
        sizes["titles"] = len(rows)
    if not texts:
        raise DataError(f"queries.sources = {list(cfg.query_sources)} gives no training query on {data_dir}")
    teacher_pool = teacher_query_set(
        embeddings, bm25, np.concatenate(vectors), texts, label=cfg.label_source, tau=cfg.tau, **options
    )
    test = _eval_set("test", collection, embeddings, bm25, judged_queries(test_qrels), test_qrels, cfg, True)
    val_qrels = train_qrels[train_qrels.query_id.isin(set(val_ids))]
    val = _eval_set("val", collection, embeddings, bm25, val_ids, val_qrels, cfg, False)
    zero_shot = [load_zero_shot(d, cfg, embeddings.doc_emb.shape[1], embeddings_file) for d in eval_dirs]
    names = [z.name for z in zero_shot]
    if len(set(names)) < len(names):
        raise DataError(f"--eval-data folders must have distinct names, got {names}")
    for k in (*cfg.group_sizes, cfg.tune_group_size):
        if k > gold.n_docs:
            raise DataError(f"group size {k} is not allowed; it must be <= the corpus size {gold.n_docs}")
    return Prepared(
        collection, {"teacher": teacher_pool, "gold": gold}, sizes | {"validation": len(val_ids)}, test, val, zero_shot
    )


# ----------------------------------------------------------------------------- groups


def pad_groups(groups: Groups, k: int) -> Groups:
    """Groups of size ``k' <= k`` padded to ``k`` items with masked (``where = False``) zero items."""
    extra = k - groups.doc_id.shape[1]
    if extra == 0:
        return groups

    def pad(a, value=0):
        widths = [(0, 0), (0, extra)] + [(0, 0)] * (a.ndim - 2)
        return np.pad(a, widths, constant_values=value)

    return groups._replace(
        docs=pad(groups.docs),
        doc_id=pad(groups.doc_id),
        teacher_scores=pad(groups.teacher_scores),
        log_nu=pad(groups.log_nu),
        where=pad(groups.where, False),
    )


def group_diagnostics(groups: Groups, nu: np.ndarray, tau: float) -> dict[str, float]:
    """Δ̂ (0.99-quantile of group diameters), RMS diameter, mean pairwise entropy, κ and locality."""
    summary = diameter_summary(np.asarray(diameter(groups.docs)), np.linalg.norm(groups.query, axis=1))
    entropy_nu = -np.sum(np.where(nu > 0, nu * np.log(np.where(nu > 0, nu, 1.0)), 0.0), axis=1)
    return {
        "delta_hat": summary["delta_hat"],
        "delta_rms": summary["delta_rms"],
        "entropy_pair": float(np.mean(pairwise_entropy(groups.teacher_scores, tau))),
        "kappa": float(kappa(np.full_like(nu, 1.0 / nu.shape[1]), nu).max()),
        "locality": float(1.0 - entropy_nu.mean() / np.log(nu.shape[1])),
    }


POOLS = ("teacher", "gold")  # training pools: teacher-labelled queries (primary arms), gold qrels (lce_gold)


def arm_pool(arm: Arm) -> str:
    """The training pool of an arm: ``"gold"`` for the supervised arm, ``"teacher"`` for the primary arms."""
    return "gold" if arm.label_source == "gold" else "teacher"


def tuning_groups(pool: QuerySet, cfg: RealConfig, seed: int) -> Groups:
    """The training groups of tuning seed ``seed``: ``tune.sampler`` at ``tune.group_size``, rng ``[10000 + seed, k]``."""
    return _draw(pool, cfg, cfg.tune_sampler, cfg.tune_group_size, [10_000 + seed, cfg.tune_group_size])[0]


def tune_batch(
    train_fn: Callable, measure: Callable, val_only: dict, groups: dict, batch: list[tuple[float, int]], tau: float
) -> tuple[np.ndarray, np.ndarray]:
    """Train one tuning model per ``(learning rate, seed)`` of ``batch`` (key ``PRNGKey(10000 + seed)``, the seed's
    ``groups[seed]``) with :func:`make_train_fn`'s ``train_fn``; return each model's mean validation nDCG@10 and
    final training risk, ``[len(batch)]`` each."""
    stacked = _stack([groups[s] for _, s in batch])
    keys = jnp.stack([jax.random.PRNGKey(10_000 + s) for _, s in batch])
    lr = jnp.asarray([b[0] for b in batch], jnp.float32)
    taus = jnp.full(len(batch), tau, jnp.float32)
    params, _, risk = train_fn(keys, stacked, lr, taus)
    val = np.asarray(measure(params, val_only, taus)["val_ndcg10"]).mean(axis=1)
    return val, np.asarray(risk)


def _draw(pool: QuerySet, cfg: RealConfig, sampler: str, k: int, seed: list[int]) -> tuple[Groups, dict]:
    groups, nu = draw_groups(pool, make_sampler(**cfg.sampler(sampler)), cfg.n_groups, k, np.random.default_rng(seed))
    return pad_groups(groups, cfg.k_max), group_diagnostics(groups, nu, cfg.tau)


def _stack(trees: list):
    return jax.tree_util.tree_map(lambda *xs: np.stack(xs), *trees)


# ----------------------------------------------------------------------------- compiled pieces


def _corpus_scores(student: Student, params, queries, docs) -> jax.Array:
    """``f(q_i, x_j)`` for every query and corpus document, ``[n, N]``, in query chunks."""
    n = queries.shape[0]
    pad = -n % SCORE_CHUNK
    blocks = jnp.pad(queries, ((0, pad), (0, 0))).reshape(-1, SCORE_CHUNK, queries.shape[1])
    scores = jax.lax.map(lambda q: student.apply(params, q, docs[None]), blocks)
    return scores.reshape(-1, docs.shape[0])[:n]


def make_train_fn(student: Student, loss: str, steps: int, cfg: RealConfig) -> Callable:
    """Jitted ``train(keys [m], groups [m, ...], lr [m], tau [m]) -> (params [m], curve [m, steps], risk [m])``
    for one static loss: AdamW at base learning rate 1 scaled by ``lr`` (exactly AdamW at ``lr``)."""
    fn = cfg.loss_fn(loss)
    train = make_trainer(student, fn, TrainConfig(steps, cfg.batch_size, 1.0, "adam", cfg.weight_decay))

    def one(key, groups, lr, tau):
        params, curve = train(key, groups, {"tau": tau, "lr_scale": lr})
        return params, curve, mean_loss(student, fn, params, groups, {"tau": tau})

    return jax.jit(jax.vmap(one))


def make_measure(student: Student, depth: int) -> Callable:
    """Jitted ``measure(params [m], sets, tau) -> per-query measures [m, n]`` on every evaluation set."""

    def one(params, sets, tau):
        out = {"alpha": params["alpha"]}
        for name, ev in sets.items():
            scores = _corpus_scores(student, params, ev["queries"], ev["docs"])
            out[f"{name}_ndcg10"] = ndcg_at(scores, ev["grades"], 10)
            if "candidate_mask" not in ev:
                continue
            rerank = jnp.where(ev["candidate_mask"], scores, -jnp.inf)
            for suffix, s in (("", scores), ("_rerank", rerank)):
                top_scores, top = jax.lax.top_k(s, depth)
                out |= {
                    f"{name}_ndcg10{suffix}": ndcg_at(s, ev["grades"], 10),
                    f"{name}_rr10{suffix}": rr_at(s, ev["grades"], 10),
                    f"{name}_r100{suffix}": recall_at(s, ev["grades"], depth),
                    f"{name}_top{suffix}": top,
                    f"{name}_top_scores{suffix}": top_scores,
                }
            out[f"{name}_kl"] = corpus_kl(scores, ev["teacher"], tau)
        return out

    @jax.jit
    def measure(params, sets, tau):
        return jax.lax.map(lambda a: one(a[0], sets, a[1]), (params, tau))

    return measure


def _curve_points(curve: np.ndarray, steps: int) -> list[float]:
    return [float(w.mean()) for w in np.array_split(curve[:steps], min(CURVE_POINTS, steps))]


# ----------------------------------------------------------------------------- the run


def run_confirm(
    data_dir: Path,
    out: Path,
    cfg: RealConfig,
    progress: Callable[[str], None] = lambda s: None,
    eval_dirs: tuple[Path, ...] = (),
    cpu: str = "",
    embeddings_file: str = EMBEDDINGS_FILE,
) -> tuple[pd.DataFrame, dict]:
    """Tune, train and measure the design ``cfg``; write ``results.parquet``, ``tuning.parquet``,
    ``baselines.parquet`` (with the document prior, :mod:`simrank.real.memorisation`), ``queries.parquet`` (which
    test and validation queries have a relevant document seen in training), ``kappas.parquet``, ``meta.json`` and
    TREC runs (seed 0) into ``out``.

    Every input is loaded and checked before anything is written.  Returns ``(results, meta)``."""
    timings: dict[str, float] = {"load_average_start": os.getloadavg()[0]}
    start = time.perf_counter()
    data = prepare(data_dir, cfg, eval_dirs, embeddings_file)
    timings["prepare_s"] = time.perf_counter() - start
    out = Path(out)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    dim = data.test.docs.shape[1]
    sets = {ev.name: ev.arrays() for ev in data.eval_sets}
    val_only = {"val": sets["val"]}
    students = {name: make_real_student(name, dim, cfg.lowrank_rank, cfg.lowrank_norm_bound) for name in cfg.students}
    measures = {name: make_measure(s, min(DEPTH, data.test.docs.shape[0])) for name, s in students.items()}
    trainers: dict[tuple, Callable] = {}

    def trainer(student: str, loss: str, steps: int) -> Callable:
        key = (student, loss, steps)
        if key not in trainers:
            trainers[key] = make_train_fn(students[student], loss, steps, cfg)
        return trainers[key]

    # the start of every student (h = 0 for the bilinear ones): per-query measures on every set
    starts = {}
    for name, student in students.items():
        init = jax.tree_util.tree_map(lambda a: a[None], student.project(student.init(jax.random.PRNGKey(0))))
        starts[name] = jax.tree_util.tree_map(
            lambda a: np.asarray(a[0]), measures[name](init, sets, jnp.ones(1) * cfg.tau)
        )

    # 1. learning rate and steps per (student, arm) on the validation split
    t0 = time.perf_counter()
    tuning = []
    tune_groups = {pool: {s: tuning_groups(data.pools[pool], cfg, s) for s in range(cfg.tune_seeds)} for pool in POOLS}
    for student in cfg.students:
        lrs = cfg.learning_rates[student]
        for arm in cfg.arms:
            pool = arm_pool(arm)
            for steps in cfg.tune_steps:
                batch = [(lr, s) for s in range(cfg.tune_seeds) for lr in lrs]
                val, risk = tune_batch(
                    trainer(student, arm.loss, steps), measures[student], val_only, tune_groups[pool], batch, cfg.tau
                )
                for i, (rate, s) in enumerate(batch):
                    tuning.append(
                        {
                            "student": student,
                            "arm": arm.name,
                            "loss": arm.loss,
                            "label_source": arm.label_source,
                            "learning_rate": rate,
                            "steps": steps,
                            "seed": s,
                            "val_ndcg10": float(val[i]),
                            "val_start": float(starts[student]["val_ndcg10"].mean()),
                            "train_risk": float(risk[i]),
                        }
                    )
            progress(f"tuned {student} {arm.name}")
    tuning = pd.DataFrame(tuning)
    chosen, demoted = choose(tuning, cfg)
    timings["tune_s"] = time.perf_counter() - t0

    # 2. the grid, at the chosen learning rate and steps: seeds × samplers × group sizes per arm
    t0 = time.perf_counter()
    rows, trec_checks = [], []
    cells = [(sampler, k) for sampler in cfg.samplers for k in cfg.group_sizes]
    trained = [s for s in cfg.students if s not in demoted]
    for seed in range(cfg.seeds):
        drawn = {
            pool: [
                _draw(data.pools[pool], cfg, sampler, k, [seed, k, cfg.samplers.index(sampler)]) for sampler, k in cells
            ]
            for pool in POOLS
            if any(arm_pool(a) == pool for a in cfg.arms)
        }
        for student in trained:
            for arm in cfg.arms:
                t1 = time.perf_counter()
                pool = arm_pool(arm)
                lr, steps = chosen[(student, arm.name)]
                groups = _stack([g for g, _ in drawn[pool]])
                keys = jax.random.split(jax.random.PRNGKey(seed), len(cells))
                tau = jnp.full(len(cells), cfg.tau, jnp.float32)
                params, curve, risk = trainer(student, arm.loss, steps)(keys, groups, jnp.full(len(cells), lr), tau)
                m = jax.tree_util.tree_map(np.asarray, measures[student](params, sets, tau))
                curve = np.asarray(curve)
                for i, (sampler, k) in enumerate(cells):
                    mi = {key: v[i] for key, v in m.items()}
                    rows.append(
                        _row(cfg, data, student, arm, sampler, k, seed, lr, steps, mi, starts[student])
                        | drawn[pool][i][1]
                        | {"train_risk": float(risk[i]), "curve": _curve_points(curve[i], steps)}
                    )
                    if seed == TREC_SEED and k == cfg.reference_k:
                        trec_checks.append(_write_runs(data.test, out, f"{student}-{arm.name}-{sampler}-k{k}", mi))
                progress(f"seed={seed} {student} {arm.name}: {len(cells)} models in {time.perf_counter() - t1:.1f} s")
    timings["train_eval_s"] = time.perf_counter() - t0
    results = pd.DataFrame(rows)
    baselines, discrepancy = evaluate_baselines(data, out, starts)
    seen = seen_documents(data.pools["gold"].grades)
    baselines = pd.concat([baselines, pd.DataFrame(prior_baseline(data.val, data.test, seen, DEPTH, out)[1])])
    query_flags([data.test, data.val], seen).to_parquet(out / "queries.parquet", index=False)
    timings["total_s"] = time.perf_counter() - start
    timings["load_average_end"] = os.getloadavg()[0]
    timings["max_ir_measures_discrepancy"] = float(max(trec_checks + [discrepancy]))
    results.to_parquet(out / "results.parquet", index=False)
    tuning.to_parquet(out / "tuning.parquet", index=False)
    baselines.to_parquet(out / "baselines.parquet", index=False)
    tempered_kappas(data.pools["teacher"], cfg).to_parquet(out / "kappas.parquet", index=False)
    meta = {
        "config": cfg.as_dict(),
        "arms": [a._asdict() for a in cfg.arms],
        "chosen": [{"student": s, "arm": a, "learning_rate": lr, "steps": st} for (s, a), (lr, st) in chosen.items()],
        "demoted": demoted,
        "queries": data.pool_sizes | {"test": len(data.test.query_ids)},
        "zero_shot": {z.name: {"queries": len(z.query_ids), "docs": len(z.doc_ids)} for z in data.zero_shot},
        "timings": timings,
        "data": str(data_dir),
        "n_models": len(results),
        "n_tuning_models": len(tuning),
        "eval_data": [str(d) for d in eval_dirs],
        "simrank_version": __version__,
        "code_commit": code_commit(),
        "config_hash": cfg.hash,
        "data_checksums": {str(d): data_checksums(d) for d in (data_dir, *eval_dirs)},
        "cpu": cpu,
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return results, meta


def choose(tuning: pd.DataFrame, cfg: RealConfig) -> tuple[dict, list[str]]:
    """Per (student, arm) the (learning rate, steps) with the highest mean validation nDCG@10 over the tuning
    seeds (ties: the smaller rate, then fewer steps); and (with ``cfg.demote``) the demoted students, for which
    no arm's chosen setting improves validation nDCG@10 on the start by ``cfg.learn_min``."""
    mean = tuning.groupby(["student", "arm", "learning_rate", "steps"], sort=True).agg(
        val=("val_ndcg10", "mean"), start=("val_start", "first")
    )
    chosen, demoted = {}, []
    for student in cfg.students:
        moved = []
        for arm in cfg.arms:
            part = mean.loc[(student, arm.name)]
            lr, steps = part["val"].idxmax()
            chosen[(student, arm.name)] = (float(lr), int(steps))
            moved.append(part["val"].max() - part["start"].iloc[0])
        if cfg.demote and max(moved) < cfg.learn_min:
            demoted.append(student)
    return chosen, demoted


def _row(cfg, data, student, arm: Arm, sampler, k, seed, lr, steps, m: dict, start: dict) -> dict:
    config = {
        "student": student,
        "arm": arm.name,
        "loss": arm.loss,
        "label_source": arm.label_source,
        "sampler": cfg.sampler(sampler),
        "group_size": k,
        "tau": cfg.tau,
        "teacher": cfg.teacher,
        "teacher_weights": list(cfg.teacher_weights),
        "n_groups": cfg.n_groups,
        "steps": steps,
        "batch_size": cfg.batch_size,
        "learning_rate": lr,
        "weight_decay": cfg.weight_decay,
        "query_sources": list(cfg.query_sources) if arm.label_source != "gold" else ["train"],
    } | ({"pairs": cfg.pairs} if LOSS_SPECS[arm.loss].pairwise else {})
    row = {
        "experiment": cfg.name,
        "student": student,
        "arm": arm.name,
        "loss": arm.loss,
        "label_source": arm.label_source,
        "sampler": sampler,
        "group_size": k,
        "seed": seed,
        "learning_rate": lr,
        "steps": steps,
        "tau": cfg.tau,
        "teacher": cfg.teacher,
        **{
            key: float(np.mean(m[f"test_{key}"]))
            for key in ("ndcg10", "rr10", "r100", "ndcg10_rerank", "rr10_rerank", "r100_rerank")
        },
        "val_ndcg10": float(np.mean(m["val_ndcg10"])),
        "val_ndcg10_q": np.asarray(m["val_ndcg10"], np.float32),
        "d_val": float(np.mean(m["val_ndcg10"]) - np.mean(start["val_ndcg10"])),
        "d_test": float(np.mean(m["test_ndcg10"]) - np.mean(start["test_ndcg10"])),
        "kl_corpus": float(np.mean(m["test_kl"])),
        "kl_ndcg_spearman": float(rank_correlation(jnp.asarray(m["test_kl"]), jnp.asarray(m["test_ndcg10"]))),
        "alpha": float(m["alpha"]),
        "ndcg10_q": np.asarray(m["test_ndcg10"], np.float32),
    }
    for z in data.zero_shot:
        row[f"{z.name}_ndcg10"] = float(np.mean(m[f"{z.name}_ndcg10"]))
        row[f"d_{z.name}"] = row[f"{z.name}_ndcg10"] - float(np.mean(start[f"{z.name}_ndcg10"]))
        row[f"{z.name}_ndcg10_q"] = np.asarray(m[f"{z.name}_ndcg10"], np.float32)
    return row | {"config": json.dumps(config, sort_keys=True), "simrank_version": __version__}


def _write_runs(test: EvalSet, out: Path, tag: str, m: dict) -> float:
    """Write the full-corpus and re-ranking TREC runs of one model; return the largest difference
    between its in-jit measures and ``ir_measures`` on the written runs."""
    diffs = []
    for mode, suffix in (("full", ""), ("rerank", "_rerank")):
        top, top_scores = m[f"test_top{suffix}"], m[f"test_top_scores{suffix}"]
        keep = np.isfinite(top_scores).ravel()
        run = pd.DataFrame(
            {
                "query_id": np.repeat(np.asarray(test.query_ids, dtype=object), top.shape[1])[keep],
                "doc_id": np.asarray(test.doc_ids, dtype=object)[top.ravel()][keep],
                "score": top_scores.ravel()[keep].astype(np.float64),
            }
        )
        write_trec_run(out / "runs" / f"{tag}-{mode}.trec", run, tag)
        ev = evaluate(run, test.qrels).mean
        diffs += [abs(ev[name] - float(np.mean(m[f"test_{key}{suffix}"]))) for name, key in MEASURE_KEYS]
    return max(diffs)


MEASURE_KEYS = (("nDCG@10", "ndcg10"), ("RR@10", "rr10"), ("R@100", "r100"))


def evaluate_baselines(data: Prepared, out: Path, starts: dict) -> tuple[pd.DataFrame, float]:
    """Per-query nDCG@10 of BM25, dense, the teacher and each student's start on every evaluation set
    (``ir_measures`` on the written runs; re-ranking too on test), and the largest difference between a
    start's in-jit per-query nDCG@10 and ``ir_measures``'s for the dense run (same ranking)."""
    rows, discrepancy = [], 0.0
    for ev in data.eval_sets:
        for name in ("bm25", "dense", "teacher"):
            modes = [("full", None)] + ([("rerank", ev.candidates)] if ev.candidates is not None else [])
            for mode, candidates in modes:
                run = run_from_scores(ev.proxies[name], ev.query_ids, ev.doc_ids, DEPTH, candidates)
                write_trec_run(out / "runs" / f"baseline-{ev.name}-{name}-{mode}.trec", run, f"baseline-{name}")
                result = evaluate(run, ev.qrels)
                per_query = result.per_query["nDCG@10"].reindex(ev.query_ids).to_numpy(np.float32)
                rows.append(_baseline_row(ev.name, name, mode, result.mean, per_query))
                if name == "dense" and mode == "full":
                    for start in starts.values():
                        discrepancy = max(discrepancy, float(np.abs(per_query - start[f"{ev.name}_ndcg10"]).max()))
        for student, start in starts.items():
            rows.append(_baseline_row(ev.name, f"start:{student}", "full", {}, start[f"{ev.name}_ndcg10"]))
    return pd.DataFrame(rows), discrepancy


def _baseline_row(collection: str, model: str, mode: str, means: dict, per_query: np.ndarray) -> dict:
    return {
        "set": collection,
        "model": model,
        "mode": mode,
        "nDCG@10": float(np.mean(per_query)),
        "RR@10": means.get("RR@10", np.nan),
        "R@100": means.get("R@100", np.nan),
        "ndcg10_q": np.asarray(per_query, np.float32),
    }


def tempered_kappas(pool: QuerySet, cfg: RealConfig) -> pd.DataFrame:
    """κ of the tempered dense sampler ``ν ∝ exp(β <q, x>)`` (hardness β) and of its η-mixture, per β:
    the data-only check of P8 (κ grows with hardness; mixing caps it at ``1/((1−η)/κ + η) ≤ 1/η``)."""
    rows = []
    mu = np.full_like(pool.proxies["dense"], 1.0 / pool.n_docs, dtype=np.float64)
    ctx = SamplingContext(np.zeros(pool.n_queries, np.int64), pool.proxies)
    for beta in cfg.tempered_betas:
        for eta in (0.0, cfg.eta):
            nu = make_sampler("tempered", beta=beta, proxy="dense", eta=eta).distribution(ctx)
            rows.append({"beta": beta, "eta": eta, "kappa": float(kappa(mu, nu).max())})
    return pd.DataFrame(rows)
