"""``simrank real confirm``: train students on real BEIR data with the synthetic pipeline's samplers,
groups, losses, students and vmapped trainer, and measure them with the same diagnostics.

Student (all kinds): the dense cosine plus a learned correction,

    f(q, x) = α · qᵀx + h_θ(q, x),      α learned (init ``ALPHA_INIT``), h_θ a :mod:`simrank.students`
    student (``diag``: qᵀ diag(w) x; ``full``: qᵀ W x with weight decay; ``lowrank``: qᵀ U Vᵀ x with
    ‖U Vᵀ‖_F ≤ 1; ``mlp``: 2-layer ReLU on [q; x; q⊙x]).

With h_θ = 0 at initialisation every student starts as the dense retriever, so a change in nDCG is
what the loss and the sampler taught it.  One jit-compiled call per (student, group size, seed)
trains every (sampler, loss) pair: ``vmap`` over samplers (their groups) and, inside, over losses
(``lax.switch`` on the loss id, :func:`simrank.runner.switch_loss`).

Measures per model, on the test queries of the ``test`` qrels (never used in training):
nDCG@10, RR@10, R@100 over the whole corpus and re-ranking each query's BM25 top-100
(:mod:`simrank.measures`, cross-checked against ``ir_measures`` on the TREC runs written for seed 0),
per-query ``KL(softmax(g/τ) ‖ softmax(f))`` over the corpus (:func:`simrank.measures.corpus_kl`) and
its Spearman correlation with per-query nDCG@10; on the training groups: Δ̂ (0.99-quantile of the
group diameters), the mean pairwise teacher entropy at τ, κ = max_q max_x μ_q(x)/ν_q(x) with μ uniform,
and the sampler locality ``1 − H(ν)/log N``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from simrank import __version__
from simrank.groups import QuerySet, draw_groups
from simrank.losses import LOSS_SPECS
from simrank.measures import (
    corpus_kl,
    diameter,
    diameter_summary,
    kappa,
    ndcg_at,
    pairwise_entropy,
    rank_correlation,
    rr_at,
)
from simrank.real.beir import EMBEDDINGS_FILE, Collection, DataError, load_collection, load_embeddings
from simrank.real.bm25 import BM25Index
from simrank.real.evaluate import evaluate, run_from_scores, write_trec_run
from simrank.real.queryset import judged_queries, real_query_set
from simrank.runner import switch_loss
from simrank.samplers import SamplingContext, make_sampler
from simrank.students import Student, bilinear, mlp
from simrank.trainer import TrainConfig, make_trainer, mean_loss

ALPHA_INIT = 20.0  # cosine scale at init: softmax(20 cos) is the usual contrastive temperature 0.05
DEPTH = 100  # BM25 candidates re-ranked, and the depth of every run
SCORE_CHUNK = 16  # test queries scored at once (bounds the MLP's [chunk, N, 3d] activations)
TREC_SEED, TREC_GROUP_SIZE = 0, 8  # models whose runs are written and re-scored with ir_measures
LOSSES = tuple(name for name in LOSS_SPECS if name != "listnet")  # listnet = kl + a constant in f
DISTILLATION = ("kl", "margin_mse", "ranknet_soft", "ranknet_hard")


@dataclass(frozen=True)
class Grid:
    """What one confirm run trains: every loss × sampler × group size × student × seed."""

    losses: tuple[str, ...] = LOSSES
    samplers: tuple[str, ...] = ("random", "bm25", "dense", "teacher", "ensemble", "mixture", "teacher+filter")
    group_sizes: tuple[int, ...] = (2, 4, 8, 16)
    students: tuple[str, ...] = ("diag",)
    seeds: int = 5
    pool_size: int = 100  # M of the top-M samplers
    eta: float = 0.5  # mixture weight of uniform negatives
    filter_margin: float = 0.0  # drop negatives with g(q, x) >= g(q, x+) - margin
    n_groups: int = 512
    steps: int = 150
    batch_size: int = 64
    learning_rate: float = 0.05
    weight_decay: float = 1e-3  # used by the ``full`` student
    tau: float = 1.0
    teacher: str = "hybrid"
    teacher_weights: tuple[float, float] = (1.0, 1.0)
    tempered_betas: tuple[float, ...] = (0.0, 5.0, 10.0, 20.0, 40.0)  # κ-only (P8), not trained

    def sampler_spec(self, name: str) -> dict:
        specs = {
            "random": {"kind": "uniform"},
            "bm25": {"kind": "local", "proxy": "bm25", "pool_size": self.pool_size},
            "dense": {"kind": "local", "proxy": "dense", "pool_size": self.pool_size},
            "teacher": {"kind": "teacher_top", "pool_size": self.pool_size},
            "ensemble": {"kind": "ensemble", "pool_size": self.pool_size},
            "mixture": {"kind": "local", "proxy": "bm25", "pool_size": self.pool_size, "eta": self.eta},
            "teacher+filter": {"kind": "teacher_top", "pool_size": self.pool_size, "filter_margin": self.filter_margin},
        }
        if name not in specs:
            raise DataError(f"sampler {name!r} is not allowed; choose one of {', '.join(specs)}")
        return specs[name]


#: Named grids: ``default`` (the measured < 15 min run), ``quick`` (~1-2 min), ``full`` (all students).
GRIDS = {
    "default": Grid(students=("diag", "full")),
    "quick": Grid(samplers=("random", "bm25", "teacher", "teacher+filter"), group_sizes=(2, 8), seeds=3),
    "full": Grid(students=("diag", "full", "lowrank", "mlp")),
}


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


def make_real_student(name: str, dim: int) -> tuple[Student, float]:
    """The residual student ``name`` and its weight decay."""
    bases = {
        "diag": (lambda: bilinear(dim, "diagonal"), 0.0),
        "full": (lambda: bilinear(dim, "full"), None),
        "lowrank": (lambda: bilinear(dim, "low_rank", rank=16, norm_bound=1.0), 0.0),
        "mlp": (lambda: mlp(dim, hidden=32), 0.0),
    }
    if name not in bases:
        raise DataError(f"student {name!r} is not allowed; choose one of {', '.join(bases)}")
    build, decay = bases[name]
    return residual_student(build()), decay


@dataclass
class Prepared:
    """The loaded data a confirm run needs: training and test query sets, BM25 candidates."""

    collection: Collection
    train: QuerySet
    test: QuerySet
    test_ids: list[str]
    candidates: np.ndarray  # [n_test, DEPTH] BM25 top-100 corpus indices per test query


def prepare(data_dir: Path, grid: Grid) -> Prepared:
    """Load the collection and embeddings; the training set uses ``qrels/train.tsv`` only."""
    collection = load_collection(data_dir, splits=("train", "test"))
    embeddings = load_embeddings(Path(data_dir) / EMBEDDINGS_FILE, collection)
    bm25 = BM25Index.build(collection)
    options = {"teacher": grid.teacher, "teacher_weights": grid.teacher_weights}
    train_qrels, test_qrels = collection.qrels["train"], collection.qrels["test"]
    train = real_query_set(collection, embeddings, bm25, judged_queries(train_qrels), train_qrels, **options)
    test_ids = judged_queries(test_qrels)
    test = real_query_set(collection, embeddings, bm25, test_ids, test_qrels, teacher_positive=True, **options)
    candidates, _ = bm25.top_k(collection.query_texts_for(test_ids), DEPTH)
    return Prepared(collection, train, test, test_ids, candidates)


def _corpus_scores(student: Student, params, queries, docs) -> jax.Array:
    """``f(q_i, x_j)`` for every test query and corpus document, ``[n, N]``, in query chunks."""
    n = queries.shape[0]
    pad = -n % SCORE_CHUNK
    blocks = jnp.pad(queries, ((0, pad), (0, 0))).reshape(-1, SCORE_CHUNK, queries.shape[1])
    scores = jax.lax.map(lambda q: student.apply(params, q, docs[None]), blocks)
    return scores.reshape(-1, docs.shape[0])[:n]


def _recall_at(scores: jax.Array, grades: jax.Array, cutoff: int) -> jax.Array:
    """``|relevant in top cutoff| / |relevant|`` per row (0 when nothing is relevant)."""
    _, top = jax.lax.top_k(scores, cutoff)
    hit = jnp.take_along_axis(grades, top, axis=-1) > 0
    total = jnp.sum(grades > 0, -1)
    return jnp.where(total > 0, hit.sum(-1) / jnp.maximum(total, 1), 0.0)


def _ranking_measures(scores: jax.Array, grades: jax.Array, depth: int) -> dict:
    top_scores, top = jax.lax.top_k(scores, depth)
    return {
        "ndcg10": ndcg_at(scores, grades, 10),
        "rr10": rr_at(scores, grades, 10),
        "r100": _recall_at(scores, grades, depth),
        "top": top,
        "top_scores": top_scores,
    }


def make_runner(student: Student, config: TrainConfig, losses: tuple[str, ...], depth: int = DEPTH) -> Callable:
    """Jitted ``run(keys [S, L], groups (leading axis S), hyper [S, L], test) -> measures [S, L, ...]``:
    trains one model per (sampler s, loss l) and measures it on the test queries."""
    loss_fn = switch_loss(losses)
    train = make_trainer(student, loss_fn, config)

    def measure(params, hyper, groups, test):
        scores = _corpus_scores(student, params, test["queries"], test["docs"])
        rerank = jnp.where(test["candidate_mask"], scores, -jnp.inf)
        full, cand = _ranking_measures(scores, test["grades"], depth), _ranking_measures(rerank, test["grades"], depth)
        return {
            **full,
            **{f"{k}_rerank": v for k, v in cand.items()},
            "kl_query": corpus_kl(scores, test["teacher"], hyper["tau"]),
            "train_risk": mean_loss(student, loss_fn, params, groups, hyper),
            "alpha": params["alpha"],
        }

    def per_sampler(keys, groups, hyper, test):
        params, _ = jax.vmap(train, in_axes=(0, None, 0))(keys, groups, hyper)
        flat = jax.lax.map(lambda a: measure(a[0], a[1], groups, test), (params, hyper))
        return flat, params

    @jax.jit
    def run(keys, groups, hyper, test):
        return jax.vmap(per_sampler, in_axes=(0, 0, 0, None))(keys, groups, hyper, test)

    return run


def _stack(trees: list):
    return jax.tree_util.tree_map(lambda *xs: np.stack(xs), *trees)


def group_diagnostics(groups, nu: np.ndarray, tau: float) -> dict[str, float]:
    """Δ̂ (0.99-quantile of group diameters), RMS diameter, mean pairwise entropy, κ and locality."""
    summary = diameter_summary(np.asarray(diameter(groups.docs)), np.linalg.norm(groups.query, axis=1))
    entropy_nu = -np.sum(np.where(nu > 0, nu * np.log(np.where(nu > 0, nu, 1.0)), 0.0), axis=1)
    return {
        "delta_hat": summary["delta_q99"],
        "delta_rms": summary["delta_rms"],
        "entropy_pair": float(np.mean(pairwise_entropy(groups.teacher, tau))),
        "kappa": float(kappa(np.full_like(nu, 1.0 / nu.shape[1]), nu).max()),
        "locality": float(1.0 - entropy_nu.mean() / np.log(nu.shape[1])),
    }


def tempered_kappas(data: Prepared, grid: Grid) -> pd.DataFrame:
    """κ of the tempered dense sampler ``ν ∝ exp(β <q, x>)`` (hardness β) and of its η-mixture, per β:
    the data-only check of P8 (κ grows with hardness; mixing caps it at ``1/((1−η)/κ + η) ≤ 1/η``)."""
    rows = []
    mu = np.full_like(data.train.proxies["dense"], 1.0 / data.train.n_docs, dtype=np.float64)
    ctx = SamplingContext(np.zeros(data.train.n_queries, np.int64), data.train.proxies)
    for beta in grid.tempered_betas:
        for eta in (0.0, grid.eta):
            nu = make_sampler("tempered", beta=beta, proxy="dense", eta=eta).distribution(ctx)
            rows.append({"beta": beta, "eta": eta, "kappa": float(kappa(mu, nu).max())})
    return pd.DataFrame(rows)


def _test_arrays(data: Prepared) -> dict:
    mask = np.zeros(data.test.grades.shape, bool)
    np.put_along_axis(mask, data.candidates, True, axis=1)
    return {
        "queries": data.test.queries,
        "docs": data.test.docs,
        "grades": data.test.grades,
        "teacher": data.test.teacher,
        "candidate_mask": mask,
    }


def run_confirm(
    data_dir: Path,
    out: Path,
    grid: Grid,
    progress: Callable[[str], None] = lambda s: None,
    eval_dirs: tuple[Path, ...] = (),
    cpu: str = "",
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Train and measure the whole grid; write ``results.parquet``, TREC runs (seed 0) and baselines.

    Returns ``(results, kappas, timings)``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "runs").mkdir(exist_ok=True)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    data = prepare(data_dir, grid)
    timings["prepare_s"] = time.perf_counter() - start
    n_docs = data.train.n_docs
    for k in grid.group_sizes:
        if not 2 <= k <= n_docs:
            raise DataError(f"group size {k} is not allowed; it must lie in [2, {n_docs}] (the corpus size)")
    grid = replace(grid, pool_size=min(grid.pool_size, n_docs))
    samplers = {name: make_sampler(**grid.sampler_spec(name)) for name in grid.samplers}
    test_arrays = _test_arrays(data)
    baselines = evaluate_baselines(data, out)
    eval_sets = [prepare_zero_shot(d) for d in eval_dirs]
    check_dims(data.train.docs.shape[1], eval_sets)
    rows, trec_checks = [], []
    trec_k = TREC_GROUP_SIZE if TREC_GROUP_SIZE in grid.group_sizes else grid.group_sizes[-1]
    n_s, n_l = len(grid.samplers), len(grid.losses)
    train_start = time.perf_counter()
    for student_name in grid.students:
        student, decay = make_real_student(student_name, data.train.docs.shape[1])
        config = TrainConfig(
            grid.steps, grid.batch_size, grid.learning_rate, "adam", grid.weight_decay if decay is None else decay
        )
        runner = make_runner(student, config, grid.losses, min(DEPTH, n_docs))
        for k in grid.group_sizes:
            for seed in range(grid.seeds):
                t0 = time.perf_counter()
                built = []
                for s_i, name in enumerate(grid.samplers):
                    rng = np.random.default_rng([seed, k, s_i])
                    groups, nu = draw_groups(data.train, samplers[name], grid.n_groups, k, rng)
                    built.append((groups, group_diagnostics(groups, nu, grid.tau)))
                groups = _stack([b[0] for b in built])
                keys = jax.random.split(jax.random.PRNGKey(seed), n_s * n_l).reshape(n_s, n_l, -1)
                hyper = {
                    "tau": jnp.full((n_s, n_l), grid.tau, jnp.float32),
                    "loss_id": jnp.tile(jnp.arange(n_l, dtype=jnp.int32), (n_s, 1)),
                }
                measures, params = runner(keys, groups, hyper, test_arrays)
                measures = jax.tree_util.tree_map(np.asarray, measures)
                for s_i, name in enumerate(grid.samplers):
                    for l_i, loss in enumerate(grid.losses):
                        m = {key: v[s_i, l_i] for key, v in measures.items()}
                        model = jax.tree_util.tree_map(lambda p, i=s_i, j=l_i: p[i, j], params)
                        row = _row(grid, student_name, name, loss, k, seed, m, built[s_i][1])
                        for eval_set in eval_sets:
                            row.update(eval_set.measure(student, model))
                        rows.append(row)
                        if seed == TREC_SEED and k == trec_k:
                            trec_checks.append(_write_runs(data, out, f"{student_name}-{loss}-{name}-k{k}", m))
                progress(
                    f"student={student_name} k={k} seed={seed}: {n_s * n_l} models in {time.perf_counter() - t0:.1f} s"
                )
    timings["train_eval_s"] = time.perf_counter() - train_start
    results = pd.DataFrame(rows)
    results.to_parquet(out / "results.parquet", index=False)
    kappas = tempered_kappas(data, grid)
    kappas.to_parquet(out / "kappas.parquet", index=False)
    baselines.to_parquet(out / "baselines.parquet", index=False)
    timings["total_s"] = time.perf_counter() - start
    timings["max_ir_measures_discrepancy"] = float(max(trec_checks, default=0.0))
    meta = {
        "grid": asdict(grid),
        "timings": timings,
        "data": str(data_dir),
        "n_models": len(results),
        "eval_data": [str(d) for d in eval_dirs],
        "simrank_version": __version__,
        "cpu": cpu,
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return results, kappas, meta


def _row(grid: Grid, student: str, sampler: str, loss: str, k: int, seed: int, m: dict, diag: dict) -> dict:
    config = {
        "student": student,
        "sampler": grid.sampler_spec(sampler),
        "loss": loss,
        "group_size": k,
        "tau": grid.tau,
        "teacher": grid.teacher,
        "teacher_weights": list(grid.teacher_weights),
        "n_groups": grid.n_groups,
        "steps": grid.steps,
        "batch_size": grid.batch_size,
        "learning_rate": grid.learning_rate,
    }
    return {
        "experiment": "real-confirm",
        "student": student,
        "loss": loss,
        "sampler": sampler,
        "group_size": k,
        "seed": seed,
        "tau": grid.tau,
        "teacher": grid.teacher,
        **{
            key: float(np.mean(m[key]))
            for key in ("ndcg10", "rr10", "r100", "ndcg10_rerank", "rr10_rerank", "r100_rerank")
        },
        "kl_corpus": float(np.mean(m["kl_query"])),
        "kl_ndcg_spearman": float(rank_correlation(jnp.asarray(m["kl_query"]), jnp.asarray(m["ndcg10"]))),
        "train_risk": float(m["train_risk"]),
        "alpha": float(m["alpha"]),
        **diag,
        "config": json.dumps(config, sort_keys=True),
        "simrank_version": __version__,
    }


def _write_runs(data: Prepared, out: Path, tag: str, m: dict) -> float:
    """Write the full-corpus and re-ranking TREC runs of one model; return the largest difference
    between its in-jit measures and ``ir_measures`` on the written runs."""
    diffs = []
    for mode, suffix in (("full", ""), ("rerank", "_rerank")):
        run = _run_frame(data, m[f"top{suffix}"], m[f"top_scores{suffix}"])
        write_trec_run(out / "runs" / f"{tag}-{mode}.trec", run, tag)
        ev = evaluate(run, data.collection.qrels["test"]).mean
        diffs += [
            abs(ev["nDCG@10"] - float(np.mean(m[f"ndcg10{suffix}"]))),
            abs(ev["RR@10"] - float(np.mean(m[f"rr10{suffix}"]))),
            abs(ev["R@100"] - float(np.mean(m[f"r100{suffix}"]))),
        ]
    return max(diffs)


def _run_frame(data: Prepared, top: np.ndarray, top_scores: np.ndarray) -> pd.DataFrame:
    keep = np.isfinite(top_scores)
    return pd.DataFrame(
        {
            "query_id": np.repeat(np.asarray(data.test_ids, dtype=object), top.shape[1])[keep.ravel()],
            "doc_id": np.asarray(data.collection.doc_ids, dtype=object)[top.ravel()][keep.ravel()],
            "score": top_scores.ravel()[keep.ravel()].astype(np.float64),
        }
    )


def evaluate_baselines(data: Prepared, out: Path) -> pd.DataFrame:
    """nDCG@10, RR@10, R@100 (``ir_measures``) of the teacher and its two parts, full and re-ranking."""
    rows = []
    qrels = data.collection.qrels["test"]
    for name in ("bm25", "dense", "teacher"):
        scores = data.test.proxies[name]
        for mode, candidates in (("full", None), ("rerank", data.candidates)):
            run = run_from_scores(scores, data.test_ids, data.collection.doc_ids, DEPTH, candidates)
            write_trec_run(out / "runs" / f"baseline-{name}-{mode}.trec", run, f"baseline-{name}")
            rows.append({"model": name, "mode": mode, **evaluate(run, qrels).mean})
    return pd.DataFrame(rows)


@dataclass
class ZeroShot:
    """Another BEIR folder with its own embeddings: trained students are evaluated on it as they are."""

    name: str
    queries: np.ndarray
    docs: np.ndarray
    query_ids: list[str]
    doc_ids: tuple[str, ...]
    qrels: pd.DataFrame
    candidates: np.ndarray

    def measure(self, student: Student, params) -> dict[str, float]:
        scores = np.asarray(_corpus_scores(student, params, jnp.asarray(self.queries), jnp.asarray(self.docs)))
        out = {}
        for mode, candidates in (("", None), ("_rerank", self.candidates)):
            run = run_from_scores(scores, self.query_ids, self.doc_ids, DEPTH, candidates)
            ev = evaluate(run, self.qrels).mean
            out |= {f"zs_{self.name}_ndcg10{mode}": ev["nDCG@10"], f"zs_{self.name}_rr10{mode}": ev["RR@10"]}
        return out


def prepare_zero_shot(data_dir: Path) -> ZeroShot:
    """Load ``data_dir`` (its ``test`` qrels, embeddings and BM25 top-100 candidates)."""
    collection = load_collection(data_dir, splits=("test",))
    embeddings = load_embeddings(Path(data_dir) / EMBEDDINGS_FILE, collection)
    qrels = collection.qrels["test"]
    query_ids = judged_queries(qrels)
    candidates, _ = BM25Index.build(collection).top_k(collection.query_texts_for(query_ids), DEPTH)
    return ZeroShot(
        name=Path(data_dir).name,
        queries=embeddings.query_emb[[embeddings.query_row[q] for q in query_ids]],
        docs=embeddings.doc_emb,
        query_ids=query_ids,
        doc_ids=collection.doc_ids,
        qrels=qrels,
        candidates=candidates,
    )


def check_dims(train_dim: int, eval_sets: list[ZeroShot]) -> None:
    """Zero-shot folders must share the training embeddings' dimension."""
    for z in eval_sets:
        if z.docs.shape[1] != train_dim:
            raise DataError(
                f"--eval-data {z.name}: embedding dim {z.docs.shape[1]}, expected {train_dim} (the training data's)"
            )
