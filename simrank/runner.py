"""Train and measure one chunk of models: build data per (grid point, seed), stack the chunk along a
leading axis and run it through one jit-compiled, vmapped runner.

Layouts (:data:`LAYOUTS`) say which grid points share a chunk:

* ``per_loss`` (the default): grid points that share every *static* setting (student, training
  schedule, array shapes) **and the loss** are stacked along one leading axis (seeds, and data-only
  settings such as world, teacher, sampler and the temperature τ) and trained in one ``vmap``.  One
  program per static group serves every loss: the chunk's loss index is a scalar outside the ``vmap``,
  so ``lax.switch`` on it runs that loss's branch only (no model pays for a loss it does not use) and a
  first run compiles one program per student, not one per (student, loss).
* ``switch`` (kept for benchmarks): the loss is a traced index chosen by ``lax.switch``; under
  ``vmap`` that becomes a select that evaluates every loss of the experiment for every model.

:func:`plan` cuts an experiment into chunks; :func:`run_chunk` turns one chunk into its rows of the
results table.  The executors (:mod:`simrank.executors`) call :func:`run_chunk`; :mod:`simrank.sweep`
writes the parts and the table.  :func:`use_compile_cache` turns on JAX's persistent compilation cache
(a per-user folder, :func:`compile_cache_dir`), so a second run of an experiment compiles nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache, partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from jax.experimental.compilation_cache import compilation_cache

from simrank._version import __version__
from simrank.config import Experiment, Point
from simrank.errors import ConfigError, check_choice, check_positive
from simrank.groups import draw_groups, one_blas_thread, select_queries, world_query_set
from simrank.losses import FLOOR_COLUMNS, configured_loss, get_loss, get_loss_spec
from simrank.measures import (
    corpus_kl,
    diameter,
    diameter_summary,
    ir_name,
    kappa,
    kendall_tau,
    lipschitz,
    listwise_entropy,
    ndcg_at,
    pairwise_entropy,
    rank_correlation,
    rr_at,
    temperature_for_entropy,
)
from simrank.samplers import Uniform
from simrank.students import make_student
from simrank.teacher import Teacher
from simrank.trainer import group_scores, hyper_axes, make_trainer, mean_loss, vmap_models
from simrank.world import World, WorldConfig

__all__ = [
    "CHUNK_SIZE",
    "COMPILE_CACHE_ENV",
    "LAYOUTS",
    "RESULT_COLUMNS",
    "RUN_COLUMNS",
    "Job",
    "build_data",
    "chunk_inputs",
    "chunk_losses",
    "code_commit",
    "compile_cache_dir",
    "compile_chunk_runner",
    "config_hash",
    "eval_batch_size",
    "loss_plateau",
    "plateau_step",
    "plan",
    "point_trainer",
    "PART_COLUMNS",
    "PER_QUERY_COLUMNS",
    "per_query_table",
    "run_chunk",
    "seeded_world",
    "static_loss",
    "switch_loss",
    "teacher_entropies",
    "TRAIN_BLOCK_BYTES",
    "train_block",
    "use_compile_cache",
]

#: Columns every results table carries (documented in the README).
RESULT_COLUMNS = [
    "experiment",
    "world",
    "sampler",
    "pool_size",
    "beta",
    "locality",
    "tau",
    "eta",
    "teacher_noise",
    "loss",
    "student",
    "group_size",
    "n_train",
    "test_shift",
    "seed",
    "world_seed",
    "delta_hat",
    "delta_max",
    "delta_rms",
    "entropy_pair",
    "entropy_list",
    "kappa",
    "lipschitz",
    "train_risk",
    "test_risk",
    "gap",
    "excess_risk",
    "target_risk",
    "kl_teacher",
    "kl_corpus",
    "kl_ndcg_corr",
    "ndcg10",
    "rr10",
    "kendall_teacher",
    "loss_plateau",
    "ndcg_plateau",
    "converged",
    "simrank_version",
    "code_commit",
    "run_time",
    "experiment_hash",
    "config_hash",
    "config",
]
#: Per-query arrays (``[n_eval_queries]`` a model) kept in the parts beside :data:`RESULT_COLUMNS` and written by
#: :func:`per_query_table`, never into ``results.parquet``; their means are the ``ndcg10`` and ``rr10`` columns (up to
#: float32 summation order: ``rr10_q`` is computed apart from the ``rr10`` mean, so that returning it leaves that
#: column bit-identical).
PER_QUERY_COLUMNS = ["ndcg10_q", "rr10_q"]
#: The columns of one part (``parts/*.parquet``): every results column, then the per-query arrays.
PART_COLUMNS = [*RESULT_COLUMNS, *PER_QUERY_COLUMNS]
#: Provenance columns that differ between two runs of the same grid (compare tables without them).
RUN_COLUMNS = ["code_commit", "run_time"]

CHUNK_SIZE = 128
EVAL_BATCH = 16  # models evaluated at once (bounds the memory of corpus-wide measures)
#: Bytes of one block's activations in training (:func:`train_block`): a quarter of a 512 KiB L2 cache, room
#: for the few arrays of that size a step keeps live (measured on 2 EPYC cores: 2 MLP models a block train
#: 1.3x faster per model than 24 at once, 4 no faster than 24).
TRAIN_BLOCK_BYTES = 128 * 1024
LAYOUTS = ("per_loss", "switch")
#: The convergence criterion of every trained model (the ``converged`` column): with w = ``PLATEAU_SHARE`` · steps,
#: ``loss_plateau`` = (mean minibatch loss over the w steps before the last w − mean over the last w) / |mean over the
#: first w| (:func:`loss_plateau`)
#: and ``ndcg_plateau`` = nDCG@10 after the last step − nDCG@10 of the same run stopped after (1 − PLATEAU_SHARE) ·
#: steps (:func:`plateau_step`, kept during the one training run); converged iff |loss_plateau| ≤ ``LOSS_PLATEAU`` and |ndcg_plateau| ≤
#: ``NDCG_PLATEAU``.  The loss part says the optimiser has stopped descending; the nDCG part says the last fifth of
#: the budget no longer moves the measure the verdicts read by more than a quarter of the smallest nDCG SESOI (0.02).
PLATEAU_SHARE = 0.2
LOSS_PLATEAU = 0.01
NDCG_PLATEAU = 0.005
#: Environment variable: ``0`` turns the persistent compilation cache off, ``1`` (the default) on.
COMPILE_CACHE_ENV = "SIMRANK_COMPILE_CACHE"


def compile_cache_dir() -> Path:
    """The per-user folder of the persistent compilation cache: ``$XDG_CACHE_HOME/simrank/jax``
    (``~/.cache/simrank/jax`` when ``XDG_CACHE_HOME`` is unset)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "simrank" / "jax"


def use_compile_cache(enabled: bool | None = None) -> Path | None:
    """Turn JAX's persistent compilation cache on (in :func:`compile_cache_dir`) or off for this process.

    Every compiled program is cached, however small or quick to compile (minimum compile time 0 s, no
    minimum entry size), so a second run of an experiment pays tracing but no compilation.

    Args:
      enabled: True/False; None reads ``SIMRANK_COMPILE_CACHE`` (``0`` = off, ``1`` or unset = on).

    Returns:
      The cache folder, or None when the cache is off.
    """
    if enabled is None:
        setting = os.environ.get(COMPILE_CACHE_ENV, "1")
        if setting not in ("0", "1"):
            raise ConfigError(f"{COMPILE_CACHE_ENV} = {setting!r} is not allowed; use 0 (cache off) or 1 (on)")
        enabled = setting == "1"
    folder = compile_cache_dir() if enabled else None
    settings = {
        "jax_enable_compilation_cache": enabled,
        "jax_compilation_cache_dir": None if folder is None else str(folder),
        "jax_persistent_cache_min_compile_time_secs": 0.0,
        "jax_persistent_cache_min_entry_size_bytes": -1,
    }
    if any(getattr(jax.config, name) != value for name, value in settings.items()):
        for name, value in settings.items():
            jax.config.update(name, value)
        compilation_cache.reset_cache()  # the cache reads its settings once, at the first compilation
    return folder


@lru_cache(maxsize=16)
def _world(config: WorldConfig) -> World:
    return config.generate()


@dataclass
class Job:
    """One (grid point, seed): the unit of work and of a results row."""

    point: Point
    seed: int

    def static_key(self) -> str:
        s = self.point.sections
        w, d = self.point.world, self.point.data
        key = [
            s["student"],
            s["train"],
            {k: v for k, v in s["loss"].items() if k != "name"},  # loss options (pairs): one compiled loss each
            d.group_size,
            d.n_train,
            d.n_test,
            d.n_eval_queries,
            d.kendall_docs,
            w.n_docs,
            w.dim,
        ]
        return json.dumps(key, sort_keys=True, default=list)

    def data_key(self) -> str:
        s = self.point.sections
        by_entropy = s["data"].get("train_queries", "all") != "all"  # the query selection depends on τ
        teacher = {k: v for k, v in s["teacher"].items() if k != "tau" or by_entropy}
        return json.dumps([s["world"], teacher, s["sampler"], s["data"], self.seed], sort_keys=True, default=list)


def seeded_world(point: Point, seed: int) -> tuple[WorldConfig, Teacher]:
    """The world and teacher of one (grid point, seed).

    With ``data.world_per_seed`` (the default) every seed draws its own world (corpus, relevance map)
    and teacher perturbation: their ``random_state`` become the first word of
    ``np.random.SeedSequence([random_state, w])`` of the configured ones, with world index
    ``w = seed // data.seeds_per_world`` (so ``seeds_per_world = S`` gives worlds of S seeds each, for
    between-world variance components), and configs that set ``world.random_state`` /
    ``teacher.random_state`` keep choosing the family of worlds.  Otherwise every seed shares the
    configured world and teacher."""
    world, teacher = point.world, point.teacher
    if not point.data.world_per_seed:
        return world, teacher
    world_state, teacher_state = (
        int(np.random.SeedSequence([base, seed // point.data.seeds_per_world]).generate_state(1)[0])
        for base in (world.random_state, teacher.random_state)
    )
    return replace(world, random_state=world_state), replace(teacher, random_state=teacher_state)


def build_data(point: Point, seed: int, single_blas_thread: bool = True) -> tuple[dict, dict]:
    """Arrays one model needs (train/test/target groups, corpus evaluation set) and data-only measures
    (``stats``, including ``world_seed``: the ``random_state`` of the world actually drawn), built with one
    BLAS thread (:func:`~simrank.groups.one_blas_thread`; ``single_blas_thread=False``: the process's BLAS
    settings, for the benchmark's comparison; the numbers are the same)."""
    if not single_blas_thread:
        return _build_data(point, seed)
    with one_blas_thread():
        return _build_data(point, seed)


def _build_data(point: Point, seed: int) -> tuple[dict, dict]:
    world_config, teacher = seeded_world(point, seed)
    world, sampler, data = _world(world_config), point.sampler(), point.data
    train_seq, test_seq, target_seq, eval_seq = np.random.SeedSequence(seed).spawn(4)
    rng = np.random.default_rng
    if data.train_queries == "all":
        train_qs = world_query_set(world, teacher, data.n_queries, rng(train_seq))
    else:
        candidates = world_query_set(world, teacher, round(data.n_queries / data.entropy_fraction), rng(train_seq))
        train_qs = select_queries(candidates, data.n_queries, data.train_queries, point.tau)
    train, nu = draw_groups(train_qs, sampler, data.n_train, data.group_size, rng(train_seq))
    test_qs = world_query_set(world, teacher, data.n_queries, rng(test_seq), shift=data.test_shift)
    test, _ = draw_groups(test_qs, sampler, data.n_test, data.group_size, rng(test_seq))
    target, _ = draw_groups(test_qs, Uniform(), data.n_test, data.group_size, rng(target_seq))
    eval_rng = rng(eval_seq)
    eval_qs = world_query_set(world, teacher, data.n_eval_queries, eval_rng, shift=data.test_shift)
    kendall_idx = eval_rng.choice(world.n_docs, size=min(data.kendall_docs, world.n_docs), replace=False)
    arrays = {
        "train": train,
        "test": test,
        "target": target,
        "docs": world.docs,
        "eval_queries": eval_qs.queries,
        "eval_teacher_scores": eval_qs.teacher_scores,
        "eval_grades": eval_qs.grades,
        "kendall_idx": kendall_idx.astype(np.int32),
    }
    deltas = np.asarray(diameter(jnp.asarray(train.docs)))
    entropy_nu = -np.sum(np.where(nu > 0, nu * np.log(np.where(nu > 0, nu, 1.0)), 0.0), axis=1)
    stats = {
        "world_seed": world_config.random_state,
        **diameter_summary(deltas, np.linalg.norm(train.query, axis=1)),
        "kappa": float(kappa(np.full_like(nu, 1.0 / nu.shape[1]), nu).max()),
        "locality": float(1.0 - entropy_nu.mean() / np.log(nu.shape[1])),
    }
    if data.match_entropy:  # entropy-matched design: τ from the training groups, not from [teacher]
        stats["tau"] = temperature_for_entropy(train.teacher_scores, data.match_entropy)
    return arrays, stats


@partial(jax.jit, static_argnames="batch_size")
def teacher_entropies(train_scores: jax.Array, test_scores: jax.Array, tau: jax.Array, batch_size: int) -> jax.Array:
    """The teacher's entropies of m data sets, each at its temperature τ, ``[m, 4]``: the mean pairwise
    ``H_pair(G) = mean_{i<j} h(σ((g_i − g_j)/τ))`` and listwise ``H_list(G) = H(softmax(g/τ))`` entropies
    (:func:`~simrank.measures.pairwise_entropy`, :func:`~simrank.measures.listwise_entropy`) over the training
    groups (the ``entropy_pair`` and ``entropy_list`` columns), then the same two over the test groups (the
    risk floors of ``excess_risk``).  Data-only, so :func:`chunk_inputs` computes them once per (data set, τ)
    for every student and loss that shares it, in ``lax.map`` batches of ``batch_size`` data sets: the batches
    the chunk's evaluation runs in (:func:`eval_batch_size`), as XLA's float32 sums depend on the batch.

    Args:
      train_scores: ``[m, n_train, k]`` teacher scores of the training groups.
      test_scores: ``[m, n_test, k]`` teacher scores of the test groups.
      tau: ``[m]`` temperatures τ (float32).
      batch_size: data sets per ``lax.map`` batch (a divisor of m).

    Returns:
      ``[m, 4]``: ``H_pair(train), H_list(train), H_pair(test), H_list(test)`` in nats.
    """

    def one(args: tuple) -> jax.Array:
        train, test, t = args
        return jnp.stack(
            [jnp.mean(entropy(g, t)) for g in (train, test) for entropy in (pairwise_entropy, listwise_entropy)]
        )

    return jax.lax.map(one, (train_scores, test_scores, tau), batch_size=batch_size)


def static_loss(name: str, options: dict | None = None) -> Callable:
    """``loss(f, g, *, tau, loss_id, where, weights)``: the loss ``name`` with its config ``options`` bound
    (:meth:`simrank.losses.LossConfig.options`; ``loss_id`` is ignored)."""
    fn = configured_loss(name, **(options or {}))

    def loss(f, g, *, tau, loss_id=None, where=None, weights=None):
        return fn(f, g, tau=tau, where=where, weights=weights)

    return loss


def switch_loss(names: tuple[str, ...], options: dict | None = None) -> Callable:
    """``loss(f, g, *, tau, loss_id, where, weights)``: the loss ``names[loss_id]``, chosen by ``lax.switch``
    (``options`` bound to the pairwise losses)."""
    fns = [configured_loss(n, **(options or {}) if get_loss_spec(n).pairwise else {}) for n in names]
    branches = [lambda f, g, tau, where, fn=fn: fn(f, g, tau=tau, where=where) for fn in fns]

    def loss(f, g, *, tau, loss_id, where=None, weights=None):
        return jax.lax.switch(loss_id, branches, f, g, tau, where)

    return loss


def point_trainer(point: Point, loss_names: tuple[str, ...], snapshot_step: int | None = None) -> tuple:
    """``(student, loss_fn, train)`` of a grid point, the loss chosen among ``loss_names`` by ``hyper["loss_id"]``
    (a static loss when there is only one: nothing is selected at run time); ``snapshot_step``: see
    :func:`simrank.trainer.make_trainer`."""
    s = point.sections
    options = {k: v for k, v in s["student"].items() if k != "kind"}
    student = make_student(s["student"]["kind"], point.world.dim, **options)
    options = point.loss_options
    loss_fn = static_loss(loss_names[0], options) if len(loss_names) == 1 else switch_loss(loss_names, options)
    return student, loss_fn, make_trainer(student, loss_fn, point.train, snapshot_step=snapshot_step)


def eval_batch_size(width: int) -> int:
    """Models evaluated at once: the largest divisor of ``width`` up to :data:`EVAL_BATCH`, so that
    ``lax.map`` has no remainder batch (which it would trace and compile a second time)."""
    return max(b for b in range(1, min(width, EVAL_BATCH) + 1) if width % b == 0)


def train_block(point: Point, width: int) -> int | None:
    """Models trained at once in a chunk of ``width`` (:func:`simrank.trainer.vmap_models`): for the MLP student
    the largest divisor ``B`` of ``width`` whose activations ``B · b·k · h · 4`` bytes (``b`` minibatch groups of
    ``k`` items, ``h`` hidden units) fit :data:`TRAIN_BLOCK_BYTES`, so that each block's ``[B, b·k, h]`` arrays
    stay in a core's cache through its steps (at the default sweep's 64 · 8 · 32 floats a model: ``B = 2``);
    None (the whole chunk in one vmap) for the other students, whose per-model arrays are a few KiB, and where
    ``B`` would be the whole chunk."""
    if point.sections["student"]["kind"] != "mlp":
        return None
    rows = min(point.train.batch_size or point.data.n_train, point.data.n_train) * point.data.group_size
    per_model = 4 * rows * point.sections["student"].get("hidden", 32)
    block = max([b for b in range(1, width + 1) if width % b == 0 and b * per_model <= TRAIN_BLOCK_BYTES] or [1])
    return None if block == width else block


def plateau_step(steps: int) -> int:
    """The step ``round((1 − PLATEAU_SHARE) · steps)`` (at least 1) after which a run's parameters are kept for
    ``ndcg_plateau``: the same run (same minibatches), its last ``PLATEAU_SHARE`` of the steps not taken."""
    return max(1, round((1 - PLATEAU_SHARE) * steps))


def loss_plateau(curves: jax.Array) -> jax.Array:
    """``(mean(L[T−2w:T−w]) − mean(L[T−w:T])) / |mean(L[0:w])|`` of each loss curve ``L`` (``[m, T]``), w =
    ``max(1, round(PLATEAU_SHARE · T))``: how much the mean training loss still fell over the last w steps, as a
    share of the initial loss (scale-free, and it tends to 0 also for a loss whose floor is 0)."""
    w = max(1, round(PLATEAU_SHARE * curves.shape[-1]))
    first, before, last = curves[..., :w].mean(-1), curves[..., -2 * w : -w].mean(-1), curves[..., -w:].mean(-1)
    return (before - last) / jnp.abs(first)


def compile_chunk_runner(point: Point, loss_names: tuple[str, ...]) -> Callable:
    """Jitted ``run(keys, hyper, arrays) -> measures`` (dict of ``[m]`` arrays) for a stack of m models;
    ``hyper = {"tau": [m], "loss_id": [m] or a scalar}`` indexes ``loss_names``: a scalar loss index is
    shared by the chunk (unbatched, so ``lax.switch`` runs its one branch), an ``[m]`` one is per model
    (batched, so ``lax.switch`` becomes a select that evaluates every branch).

    Corpus measures are means over the evaluation queries, except ``kl_ndcg_corr``: Spearman's ρ (average
    ranks for ties, ``measures.rank_correlation``) across one model's evaluation queries between per-query
    ``KL(softmax(g/τ) ‖ softmax(f))`` and per-query nDCG@10, NaN when either is constant across queries.
    ``loss_plateau`` and ``ndcg_plateau`` are the convergence statistics (:data:`PLATEAU_SHARE`): the second
    evaluates the parameters each run had after :func:`plateau_step` steps (kept during its one training).  The
    teacher entropies are inputs (``arrays["teacher_entropies"]``, from :func:`chunk_inputs`), not computed here."""
    student, loss_fn, train = point_trainer(point, loss_names, plateau_step(point.train.steps))
    floor_of = jnp.asarray([FLOOR_COLUMNS.index(get_loss_spec(n).floor) for n in loss_names])

    def evaluate(params, early, hyper, a):
        tau, entropies = hyper["tau"], a["teacher_entropies"]
        train_risk = mean_loss(student, loss_fn, params, a["train"], hyper)
        test_risk = mean_loss(student, loss_fn, params, a["test"], hyper)
        floor = jnp.stack([0.0, entropies[2], entropies[3]])[floor_of[hyper["loss_id"]]]
        scores = student.apply(params, a["eval_queries"], a["docs"][None])
        idx = a["kendall_idx"]
        kl_per_query = corpus_kl(scores, a["eval_teacher_scores"], tau)
        ndcg_per_query = ndcg_at(scores, a["eval_grades"], 10)
        # Behind an optimisation barrier, so that XLA cannot fuse it into the rr10 mean (that changes the mean's
        # summation order, and the rr10 column in the last float32 bit).
        rr_per_query = rr_at(*jax.lax.optimization_barrier((scores, a["eval_grades"])), 10)
        return {
            "entropy_pair": entropies[0],
            "entropy_list": entropies[1],
            "train_risk": train_risk,
            "test_risk": test_risk,
            "gap": test_risk - train_risk,
            "excess_risk": test_risk - floor,
            "target_risk": mean_loss(student, loss_fn, params, a["target"], hyper),
            "kl_teacher": jnp.mean(
                get_loss("kl")(group_scores(student, params, a["test"]), a["test"].teacher_scores, tau=tau)
            ),
            "kl_corpus": jnp.mean(kl_per_query),
            "kl_ndcg_corr": rank_correlation(kl_per_query, ndcg_per_query),  # Spearman ρ across eval queries
            "ndcg10": jnp.mean(ndcg_per_query),
            "rr10": jnp.mean(rr_at(scores, a["eval_grades"], 10)),
            "ndcg10_q": ndcg_per_query,
            "rr10_q": rr_per_query,
            "kendall_teacher": jnp.mean(kendall_tau(scores[:, idx], a["eval_teacher_scores"][:, idx])),
            "ndcg_plateau": jnp.mean(ndcg_per_query)
            - jnp.mean(ndcg_at(student.apply(early, a["eval_queries"], a["docs"][None]), a["eval_grades"], 10)),
            "lipschitz": lipschitz(student.apply, params, a["eval_queries"], a["docs"][idx]),
        }

    @jax.jit
    def run(keys, hyper, arrays):
        axes = hyper_axes(hyper)
        block = train_block(point, keys.shape[0])
        params, curves, early = vmap_models(train, hyper, block)(keys, arrays["train"], hyper)
        shared = {k: v for k, v in hyper.items() if axes[k] is None}
        per_model = {k: v for k, v in hyper.items() if axes[k] is not None}
        batch = eval_batch_size(keys.shape[0])
        measures = jax.lax.map(
            lambda args: evaluate(args[0], args[1], {**args[2], **shared}, args[3]),
            (params, early, per_model, arrays),
            batch_size=batch,
        )
        return measures | {"loss_plateau": loss_plateau(curves)}

    return run


def _stack(trees: list) -> dict:
    return jax.tree_util.tree_map(lambda *xs: np.stack(xs), *trees)


def config_hash(point: Point) -> str:
    """12 hex digits of ``sha256(point.json())``: the resolved config of one grid point (the ``config_hash``
    column; the same for every seed of the point, and recomputable from the row's ``config`` column)."""
    return hashlib.sha256(point.json().encode()).hexdigest()[:12]


@lru_cache(maxsize=1)
def code_commit() -> str:
    """The commit of the code that runs (``git rev-parse HEAD`` in the package's folder), with ``+dirty`` when
    tracked files differ from it, or ``unknown`` outside a git checkout (an installed package, no git)."""
    folder = Path(__file__).parent

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, check=True).stdout.strip()

    try:
        head = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def _rows(exp: Experiment, jobs: list[Job], stats: list[dict], measures: dict) -> list[dict]:
    """One results row per job; provenance: package version, code commit, run time (UTC, ISO 8601), the
    experiment's hash, the point's :func:`config_hash` and its resolved config."""
    run_time = datetime.now(UTC).isoformat(timespec="seconds")
    rows = []
    for i, (job, st) in enumerate(zip(jobs, stats)):
        s, d = job.point.sections, job.point.data
        sampler = s["sampler"]
        row = {
            "experiment": exp.name,
            "world": s["world"].get("geometry", "isotropic") + ("-sphere" if s["world"].get("sphere") else ""),
            "sampler": sampler["kind"] + ("+filter" if sampler.get("filter_margin") is not None else ""),
            "pool_size": float(sampler.get("pool_size") or np.nan),
            "beta": float(np.nan if sampler.get("beta") is None else sampler["beta"]),
            "tau": st.get("tau", job.point.tau),
            "eta": float(sampler.get("eta", 0.0)),
            "teacher_noise": float(job.point.teacher.noise),
            "loss": job.point.loss,
            "student": s["student"]["kind"],
            "group_size": d.group_size,
            "n_train": d.n_train,
            "test_shift": d.test_shift,
            "seed": job.seed,
            "world_seed": st["world_seed"],
            "delta_hat": st["delta_hat"],
            "delta_max": st["delta_max"],
            "delta_rms": st["delta_rms"],
            "kappa": st["kappa"],
            "locality": st["locality"],
            **{k: float(v[i]) for k, v in measures.items() if k not in PER_QUERY_COLUMNS},
            **{k: np.asarray(measures[k][i], np.float32) for k in PER_QUERY_COLUMNS},
            "converged": bool(
                abs(measures["loss_plateau"][i]) <= LOSS_PLATEAU and abs(measures["ndcg_plateau"][i]) <= NDCG_PLATEAU
            ),
            "simrank_version": __version__,
            "code_commit": code_commit(),
            "run_time": run_time,
            "experiment_hash": exp.hash,
            "config_hash": config_hash(job.point),
            "config": job.point.json(),
        }
        rows.append(row)
    return rows


def plan(exp: Experiment, chunk_size: int = CHUNK_SIZE, layout: str = "per_loss") -> list[tuple[list[Job], int]]:
    """Chunks of jobs with identical static settings (and, in the ``per_loss`` layout, the same loss),
    each at most ``chunk_size`` models, with the width every chunk of its group is padded to (one
    compilation per group)."""
    check_positive("chunk_size", chunk_size)
    check_choice("layout", layout, LAYOUTS)
    by_static: dict[tuple, list[Job]] = {}
    for point in exp.points():
        for seed in range(exp.seeds):
            job = Job(point, seed)
            group = (job.static_key(), point.loss if layout == "per_loss" else "")
            by_static.setdefault(group, []).append(job)
    chunks = []
    for jobs in by_static.values():
        n_chunks = -(-len(jobs) // chunk_size)
        size = -(-len(jobs) // n_chunks)
        chunks += [(jobs[i : i + size], size) for i in range(0, len(jobs), size)]
    return chunks


def chunk_losses(exp: Experiment, jobs: list[Job], layout: str) -> tuple[str, ...]:
    """The losses the runner of a chunk is compiled for: every loss of the experiment, in both layouts (one
    program per static group serves every loss); a ``per_loss`` chunk holds one of them."""
    check_choice("layout", layout, LAYOUTS)
    if layout == "per_loss" and len({job.point.loss for job in jobs}) != 1:
        raise ValueError("a per_loss chunk holds one loss")
    return tuple(sorted({p.loss for p in exp.points()}))


def chunk_inputs(
    jobs: list[Job], width: int, data_cache: dict, loss_names: tuple[str, ...], layout: str = "per_loss"
) -> tuple:
    """``(keys, hyper, arrays, stats)`` of one chunk, padded to ``width`` models by repeating its last
    job; ``hyper["loss_id"]`` indexes ``loss_names``: one scalar for the chunk's one loss (``per_loss``) or
    ``[width]`` (``switch``); ``stats`` holds the data-only measures of the unpadded jobs.  ``arrays`` carries
    ``teacher_entropies`` ``[width, 4]`` (:func:`teacher_entropies`), kept in ``data_cache`` by (data set, τ), so
    the chunks of the other students and losses that share a data set do not compute them again."""
    built = []
    for job in jobs:
        key = job.data_key()
        if key not in data_cache:
            data_cache[key] = build_data(job.point, job.seed)
        arrays, stats = data_cache[key]
        tau = float(np.float32(stats.get("tau", job.point.tau)))
        built.append((arrays, stats, tau, ("teacher_entropies", key, tau)))  # the entropies' cache key
    padded = jobs + [jobs[-1]] * (width - len(jobs))  # equal widths: one compilation per static group
    padded_built = built + [built[-1]] * (width - len(jobs))
    if any(b[3] not in data_cache for b in built):  # once per (data set, τ), shared by every student and loss
        entropies = teacher_entropies(
            np.stack([b[0]["train"].teacher_scores for b in padded_built]),
            np.stack([b[0]["test"].teacher_scores for b in padded_built]),
            np.asarray([b[2] for b in padded_built], np.float32),
            eval_batch_size(width),
        )
        for b, row in zip(built, np.asarray(entropies)):
            data_cache.setdefault(b[3], row)
    arrays = _stack([{**b[0], "teacher_entropies": data_cache[b[3]]} for b in padded_built])
    keys = jnp.stack([jax.random.PRNGKey(j.seed) for j in padded])
    hyper = {
        "tau": jnp.asarray([b[2] for b in padded_built], dtype=jnp.float32),
        "loss_id": jnp.asarray([loss_names.index(j.point.loss) for j in padded], dtype=jnp.int32),
    }
    if layout == "per_loss":
        hyper["loss_id"] = hyper["loss_id"][0]  # the chunk's one loss: a shared, unbatched index
    return keys, hyper, arrays, [b[1] for b in built]


def run_chunk(
    exp: Experiment, jobs: list[Job], width: int, runners: dict, data_cache: dict, layout: str = "per_loss"
) -> pd.DataFrame:
    """Train and measure one chunk of models in a single vmapped call; return its rows.

    ``runners`` caches compiled runners by (static settings, losses), ``data_cache`` built data by
    :meth:`Job.data_key`; both are reused across the chunks of one process."""
    loss_names = chunk_losses(exp, jobs, layout)
    keys, hyper, arrays, stats = chunk_inputs(jobs, width, data_cache, loss_names, layout)
    static = (jobs[0].static_key(), loss_names)
    if static not in runners:
        runners[static] = compile_chunk_runner(jobs[0].point, loss_names)
    measures = {k: np.asarray(v)[: len(jobs)] for k, v in runners[static](keys, hyper, arrays).items()}
    return pd.DataFrame(_rows(exp, jobs, stats, measures), columns=PART_COLUMNS)


def per_query_table(parts: pd.DataFrame) -> pd.DataFrame:
    """The long per-query table of a sweep (``per_query.parquet``): one row per model × evaluation query with
    ``config_hash``, ``seed``, ``query_id`` (the query's index among the point's ``n_eval_queries`` fresh queries)
    and the query's ``nDCG@10`` (exponential gain) and ``RR@10`` (``1/rank`` of the first document with grade ≥ 1
    in the top 10, 0 if none); the mean over a model's rows is its ``ndcg10`` (``rr10``) column of
    ``results.parquet``, up to float32 summation order.

    Args:
      parts: rows with :data:`PART_COLUMNS` (the concatenated parts of a sweep).
    """
    sizes = parts[PER_QUERY_COLUMNS[0]].map(len).to_numpy()
    keys = parts[["config_hash", "seed"]].loc[parts.index.repeat(sizes)].reset_index(drop=True)
    query_id = np.concatenate([np.arange(n) for n in sizes])
    values = {ir_name(c.removesuffix("_q")): np.concatenate(parts[c].to_numpy()) for c in PER_QUERY_COLUMNS}
    return keys.assign(query_id=query_id, **values)
