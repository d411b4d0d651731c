"""``simrank bench``: how fast and how lean the sweep is, measured in one run.

1. The default bias sweep, each run in a fresh process: the per-loss layout (the default: one loss per
   chunk, one program per student) and the old ``lax.switch`` layout (every model evaluates every loss),
   each with a cold compilation cache (an empty cache folder) and then a warm one (the same folder
   again): wall seconds, CPU seconds, peak resident memory and the CPU seconds spent building data.
   ``speedup_vs_switch_{cold,warm}`` = switch CPU seconds / per-loss CPU seconds.
2. The same sweep by the reference executor (one jit-compiled call per grid point and seed, the same
   train/evaluate functions): compilation is timed once per static group, then a random subset of
   data groups (all grid points and seeds that share built data, so data caching is as in the full
   run) is timed and extrapolated linearly to the whole grid:
   ``T_ref ≈ T_compile + T_subset · n_models / n_subset``.  The subset's rows are compared with the
   vmapped run's.  ``floor_ratio`` = per-model CPU cost of the warm per-loss sweep / per-model CPU cost
   of this steady-state single-loss width-1 run.
3. Trainer throughput (groups/s = models · steps · batch / s) of one full-width chunk, and the achieved
   fraction of this machine's matmul throughput, with the bilinear student's training cost counted as
   ``3 · (2d² + 2kd)`` flop per group and step (forward ``qᵀW`` and ``k`` dot products; backward ≈ 2×),
   for the listwise-KL chunk of the bilinear student, in CPU seconds; ``matmul_fraction`` = its flop/s
   over the flop/s of a batched matmul of the trainer's shape.  ``speedup_vs_torch``: CPU ms per model
   of a PyTorch per-model loop of the same student, loss, data and schedule (Adam, one thread) over the
   CPU ms per model of that vmapped chunk, training only on both sides (needs ``torch``, from the
   optional extra ``simrank[encode]``; skipped with a message when it is missing).
   ``speedup_vs_torch_mlp``: the same for the MLP student (the JAX side: ``mlp_ms_per_model``).
4. Roofline: ``peak_gflops`` (a warm fp32 ``2048² @ 2048²`` matmul, GFLOP per CPU second, same run) and per
   student the training and evaluation GFLOP per CPU second and ``fraction_of_peak``, with the FLOP counted
   from the shapes (:func:`training_flops`, :func:`evaluation_flops`); ``mlp_ms_per_model`` (the runner's MLP
   training: first layer fused per group, hand-written backward, models in cache-sized blocks) next to the
   same student in one vmap and the autodiff reference layout in the same run (``mlp_speedup``, and the
   achieved GFLOP/s against the same-shape ceiling: :func:`mlp_layouts`); data building CPU
   seconds with the process's BLAS threads and with one (``data_build``); ``cold_over_warm`` = the first
   per-loss run's CPU seconds over the cached run's.
5. Large designs: the P4 design (``experiments/p04-hard-negatives.toml``) at 40 seeds, and the default
   grid with one seed on an N = 10,000, d = 32 world, each in a fresh process with a cold cache.
6. Scaling: steady-state time (data + training + evaluation, compiled beforehand) of one grid point
   against corpus size N, dimension d, group size k and number of seeds, one factor at a time, with
   fitted log-log slopes (1 = linear).
7. A world of N = 10⁵ documents at d = 128 in a fresh process: its peak memory against the size an
   N×N float32 matrix would take (which does not fit in this machine's memory at all).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import pandas as pd
import typer

if TYPE_CHECKING:
    from simrank.config import Experiment, Point

__all__ = [
    "BIG_WORLD",
    "COST_WIDTH",
    "data_build_timing",
    "evaluation_flops",
    "mlp_layouts",
    "roofline",
    "training_flops",
    "LARGE_DESIGNS",
    "QUICK_STEPS",
    "REFERENCE_SUBSET",
    "SCAN_DEFAULTS",
    "SCAN_LABELS",
    "SCAN_REPEATS",
    "SCANS",
    "TARGETS",
    "TORCH_MODELS",
    "bench_cmd",
    "Clock",
    "experiment",
    "GiB",
    "reference_timing",
    "scaling",
    "scaling_figure",
    "slopes",
    "torch_loop",
    "trainer_throughput",
    "training_costs",
]

GiB = 2**30
SCAN_DEFAULTS = {"world.n_docs": 1000, "world.dim": 8, "data.group_size": 8, "seeds": 4}
SCANS = {
    "full": {
        "world.n_docs": [1000, 3000, 10000, 30000, 100000],
        "world.dim": [16, 32, 64, 128, 256],
        "data.group_size": [2, 4, 8, 16, 32, 64],
        "seeds": [1, 4, 16, 64],
    },
    "quick": {"world.n_docs": [300, 1000], "world.dim": [8, 16], "data.group_size": [2, 4], "seeds": [1, 2]},
}
SCAN_LABELS = {
    "world.n_docs": "corpus size N",
    "world.dim": "dimension d",
    "data.group_size": "group size k",
    "seeds": "seeds",
}
BIG_WORLD = {"full": (100_000, 128), "quick": (10_000, 32)}


class _LargeDesign(TypedDict):
    p4_seeds: int
    world: tuple[int, int]  # (n_docs, dim)


LARGE_DESIGNS: dict[str, _LargeDesign] = {
    "full": {"p4_seeds": 40, "world": (10_000, 32)},
    "quick": {"p4_seeds": 2, "world": (3_000, 16)},
}
TORCH_MODELS = {"full": 8, "quick": 2}
COST_WIDTH = {
    "full": 24,
    "quick": 4,
}  # models per call when timing training by student and loss  # models trained by the PyTorch loop (its cost per model is flat)
QUICK_STEPS = 20
SCAN_REPEATS = 3  # best-of repeats: the machine is shared, the minimum is the least disturbed run
REFERENCE_SUBSET = 2  # data groups timed by the reference executor on the full grid


def experiment(spec: dict[str, Any]) -> Experiment:
    """The experiment of ``spec``: ``name`` (default ``bias-sweep``), ``quick`` (the config's [quick] plus
    ``QUICK_STEPS`` steps and one seed), ``single`` (one grid point: local top-50 sampler, τ = 1, KL,
    bilinear, η = 0) and ``set`` ("section.key" or "seeds" -> value)."""
    from simrank.config import load_experiment

    quick = spec.get("quick", False)
    exp = load_experiment(spec.get("name", "bias-sweep"), quick=quick, seeds=1 if quick else None)
    base = json.loads(json.dumps(exp.base))
    grid, seeds = dict(exp.grid), exp.seeds
    if spec.get("quick"):
        base["train"]["steps"] = QUICK_STEPS
    if spec.get("single"):
        grid = {}
        base["sampler"].update(pool_size=50, eta=0.0)
    for key, value in spec.get("set", {}).items():
        if key == "seeds":
            seeds = value
        else:
            section, field = key.split(".")
            base[section][field] = value
    return dataclasses.replace(exp, base=base, grid=grid, seeds=seeds)


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def _worker(task: dict) -> dict:
    """Run one experiment of ``task["spec"]`` in this (fresh) process, in ``task["layout"]`` (default
    per-loss), with the compilation cache of ``$XDG_CACHE_HOME``; CPU seconds spent building data are
    counted separately (``data_cpu_seconds``)."""
    from simrank import runner
    from simrank.sweep import run_experiment

    exp = experiment(task["spec"])
    build_data, data_cpu = runner.build_data, [0.0]

    def timed_build_data(point: Point, seed: int, single_blas_thread: bool = True) -> tuple[dict, dict]:
        start = time.process_time()
        try:
            return build_data(point, seed, single_blas_thread)
        finally:
            data_cpu[0] += time.process_time() - start

    runner.build_data = timed_build_data
    clock = Clock()
    results = run_experiment(exp, Path(task["out"]), progress=False, layout=task.get("layout", "per_loss"))
    return {**clock.read(), "data_cpu_seconds": data_cpu[0], "peak_rss": _peak_rss_bytes(), "models": len(results)}


class Clock:
    """Wall seconds and CPU seconds (all threads of this process) since construction.  On a shared
    machine CPU seconds are the stable measure: other people's load stretches wall time, not CPU time."""

    def __init__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def read(self) -> dict:
        return {"seconds": time.perf_counter() - self.wall, "cpu_seconds": time.process_time() - self.cpu}


def _in_fresh_process(task: dict, cache_home: Path) -> dict:
    """Run :func:`_worker` in a new Python process whose compilation cache lives under ``cache_home``."""
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home), "SIMRANK_COMPILE_CACHE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "simrank.bench", json.dumps(task)], capture_output=True, text=True, env=env
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark worker failed: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def reference_timing(exp: Experiment, vmapped: pd.DataFrame, n_groups: int | None, rng: np.random.Generator) -> dict:
    """Time the reference executor (see module docstring); ``n_groups=None`` times every data group."""
    from simrank.executors import LocalExecutor
    from simrank.runner import plan

    chunks = plan(exp, 1)
    by_data: dict[str, list[int]] = {}
    for i, (jobs, _) in enumerate(chunks):
        by_data.setdefault(jobs[0].data_key(), []).append(i)
    keys = list(by_data)
    chosen = (
        keys
        if n_groups is None or n_groups >= len(keys)
        else [keys[i] for i in rng.choice(len(keys), n_groups, replace=False)]
    )
    subset = sorted(i for k in chosen for i in by_data[k])
    pool = LocalExecutor()
    clock = Clock()
    firsts = {(chunks[i][0][0].static_key(), chunks[i][0][0].point.loss): i for i in reversed(range(len(chunks)))}
    for i in firsts.values():  # compile each (static group, loss) once (its data cache is thrown away)
        list(pool.map_chunks(exp, [(i, *chunks[i])]))
    compile_time = clock.read()
    pool.data_cache.clear()
    clock = Clock()
    rows = pd.concat([df for _, df in pool.map_chunks(exp, [(i, *chunks[i]) for i in subset])], ignore_index=True)
    subset_time = clock.read()
    merged = rows.merge(vmapped, on=["config", "seed"], suffixes=("_ref", ""))
    measures = ["train_risk", "test_risk", "gap", "ndcg10", "kl_corpus", "lipschitz"]
    diffs = {}  # max |reference − vmapped| / max(|vmapped|, 1e-3) per student
    for student, part in merged.groupby("student_ref"):
        ref_values, values = part[[f"{m}_ref" for m in measures]].to_numpy(), part[measures].to_numpy()
        diffs[student] = float(np.nanmax(np.abs(ref_values - values) / np.maximum(np.abs(values), 1e-3)))
    return {
        "compile": compile_time,
        "subset": subset_time,
        "subset_models": len(subset),
        "models": len(chunks),
        "data_groups": f"{len(chosen)} of {len(keys)}",
        **{
            f"estimate_{unit}": compile_time[unit] + subset_time[unit] * len(chunks) / len(subset)
            for unit in ("seconds", "cpu_seconds")
        },
        "max_rel_diff": diffs,
    }


def _kl_chunk(exp, student: str = "bilinear", width: int | None = None):
    """The first chunk of ``student`` with listwise KL (its jobs repeated or cut to ``width`` models; None:
    as planned): ``(point, width, keys, hyper, arrays, train)`` (one static loss)."""
    from simrank.runner import chunk_inputs, plan, point_trainer

    jobs, planned = next(
        (jobs, width)
        for jobs, width in plan(exp)
        if jobs[0].point.loss == "kl" and jobs[0].point.sections["student"]["kind"] == student
    )
    width = planned if width is None else width
    jobs, point = (jobs * width)[:width], jobs[0].point
    keys, hyper, arrays, _ = chunk_inputs(jobs, width, {}, ("kl",))
    return point, width, keys, hyper, arrays, point_trainer(point, ("kl",))[2]


def training_flops(point: Point) -> float:
    """FLOP of one training step on one group of ``k`` items, from the shapes (1 multiply-add = 2 FLOP):

    * bilinear ``qᵀWx``: ``3 · (2d² + 2kd)`` (forward ``qᵀW`` and ``k`` dot products; backward ≈ 2×);
    * MLP (hidden ``h``, first layer fused per group: :func:`simrank.students.mlp`): per item forward
      ``2dh + h² + h`` multiply-adds (``[x; q⊙x] [W_x; W_qx]``, ``a₁W₂``, ``a₂w₃``) and per group ``dh``
      (``q W_q``); backward per item ``2dh + 2h² + h`` (the weight gradients ``uᵀδ₁``, ``a₁ᵀδ₂``, ``a₂ᵀds``
      and the hidden cotangent ``δ₂W₂ᵀ``; none for the input) and per group ``dh`` (``qᵀ Σ_k δ₁``):
      ``2 · (k (4dh + 3h² + 2h) + 2dh)`` FLOP per group.
    Losses, ReLUs and the optimiser are not counted (``O(k)`` and ``O(#params)`` against ``O(k h²)``)."""
    d, k = point.world.dim, point.data.group_size
    if point.sections["student"]["kind"] == "mlp":
        h = point.sections["student"].get("hidden", 32)
        return 2.0 * (k * (4 * d * h + 3 * h * h + 2 * h) + 2 * d * h)
    return 3.0 * (2 * d * d + 2 * k * d)


def evaluation_flops(point: Point) -> float:
    """FLOP of one model's evaluation counted from the shapes: the forward scores of the corpus
    (``n_eval_queries × N`` items) and of the risk groups (train once, test twice, target once:
    ``(n_train + 3 n_test) · k`` items), per query ``2d²`` plus per item ``2d`` (bilinear); for the MLP
    per group item ``2(2dh + h² + h)`` plus ``2dh`` per group (the fused first layer) and, for the corpus (the first layer split, ``x W_x`` once per
    document: :func:`simrank.students.mlp`), ``2dh`` per document and per query plus ``2(dh + h² + h)``
    per (query, document).  Rank measures and the Lipschitz gradient are not counted: a lower bound."""
    d, k, data = point.world.dim, point.data.group_size, point.data
    corpus, group_items = data.n_eval_queries * point.world.n_docs, (data.n_train + 3 * data.n_test) * k
    items = corpus + group_items
    if point.sections["student"]["kind"] == "mlp":
        h = point.sections["student"].get("hidden", 32)
        shared = 2.0 * (point.world.n_docs + data.n_eval_queries) * d * h + 2.0 * corpus * (d * h + h * h + h)
        groups = data.n_train + 3 * data.n_test
        return 2.0 * group_items * (2 * d * h + h * h + h) + 2.0 * groups * d * h + shared
    queries = data.n_eval_queries + data.n_train + 3 * data.n_test
    return 2.0 * queries * d * d + 2.0 * items * d


def roofline(exp: Experiment, peak_flops_per_s: float, width: int) -> dict:
    """Per student: training and evaluation of ``width`` models of its listwise-KL chunk (compiled
    beforehand, best of 2, CPU seconds), their GFLOP per CPU second (:func:`training_flops`,
    :func:`evaluation_flops`) and ``fraction_of_peak`` = that over ``peak_flops_per_s`` (a large fp32
    matmul, same run).  Evaluation time = the runner's training + evaluation call minus training alone."""
    import jax

    from simrank.runner import compile_chunk_runner, plan, train_block

    out = {}
    for student in sorted({jobs[0].point.sections["student"]["kind"] for jobs, _ in plan(exp)}):
        point, _, keys, hyper, arrays, train = _kl_chunk(exp, student, width)
        train_s = _training_cpu_seconds(train, keys, arrays["train"], hyper, 2, train_block(point, width))
        run = compile_chunk_runner(point, ("kl",))
        jax.block_until_ready(run(keys, hyper, arrays))
        call = functools.partial(run, keys, hyper, arrays)
        eval_s = max(_best_of(lambda call=call: jax.block_until_ready(call()), 2) - train_s, 1e-9)
        cfg = point.train
        groups = width * cfg.steps * min(cfg.batch_size or point.data.n_train, point.data.n_train)
        train_flops, eval_flops = groups * training_flops(point), width * evaluation_flops(point)
        out[student] = {
            "models": width,
            "train_ms_per_model": 1000 * train_s / width,
            "eval_ms_per_model": 1000 * eval_s / width,
            "train_gflops": train_flops / train_s / 1e9,
            "eval_gflops": eval_flops / eval_s / 1e9,
            "train_fraction_of_peak": train_flops / train_s / peak_flops_per_s,
            "eval_fraction_of_peak": eval_flops / eval_s / peak_flops_per_s,
        }
    return out


def mlp_layouts(exp: Experiment, width: int) -> dict:
    """Training-only CPU ms per model of the MLP student's listwise-KL chunk (``width`` models, compiled
    beforehand, best of 2), same run, same data: ``manual_ms``, the runner's training (the first layer fused
    per group, the hand-written backward, the models trained in blocks of :func:`simrank.runner.train_block`);
    ``manual_vmap_ms``, the same student with all ``width`` models in one vmap; ``autodiff_ms``, the reference
    layout (feature rows ``[q; x; q⊙x]``, JAX's autodiff, one vmap); ``speedup`` = autodiff / manual.

    Also the corpus scores of evaluation (``n_eval_queries × N``, the runner's ``lax.map`` over models,
    best of 2): ``eval_shared_ms`` with the split first layer (``x W_x`` once per document, the default)
    and ``eval_rows_ms`` with the corpus copied into one group per query (the feature rows
    ``[q; x; q⊙x]`` of every pair, the old path); ``eval_speedup`` = rows / shared.

    The honest ceiling of that training: ``ceiling_gflops``, the GFLOP per CPU second of the MLP's dominant
    product at its own shape (one block's ``[b·k, h] @ [h, h]``, b groups of k items a step: three quarters of
    its multiply-adds, :func:`_batched_matmul_flops_per_s`), and ``ceiling_ms`` = one model's training FLOP
    (:func:`training_flops`) at that rate: the ms per model no layout of these products can beat;
    ``train_gflops`` = that FLOP over ``manual_ms`` and ``fraction_of_ceiling`` = ``ceiling_ms / manual_ms``."""
    import jax
    import jax.numpy as jnp

    from simrank.runner import eval_batch_size, static_loss, train_block
    from simrank.students import mlp
    from simrank.trainer import make_trainer

    point, _, keys, hyper, arrays, _ = _kl_chunk(exp, "mlp", width)
    hidden, block = point.sections["student"].get("hidden", 32), train_block(point, width)
    ms = {}
    for label, backward, blocked in (
        ("manual", "manual", block),
        ("manual_vmap", "manual", None),
        ("autodiff", "autodiff", None),
    ):
        train = make_trainer(mlp(point.world.dim, hidden, backward), static_loss("kl"), point.train)
        ms[label] = 1000 * _training_cpu_seconds(train, keys, arrays["train"], hyper, 2, blocked) / width
    student = mlp(point.world.dim, hidden)
    params = jax.vmap(student.init)(keys)
    n = arrays["eval_queries"].shape[1]
    for layout in ("shared", "rows"):

        def scores(p, queries, docs, layout=layout):
            docs = docs[None] if layout == "shared" else jnp.broadcast_to(docs, (n, *docs.shape))
            return student.apply(p, queries, docs)

        corpus = jax.jit(
            lambda p, q, x, scores=scores: jax.lax.map(
                lambda a: scores(*a), (p, q, x), batch_size=eval_batch_size(width)
            )
        )
        call = functools.partial(corpus, params, arrays["eval_queries"], arrays["docs"])
        jax.block_until_ready(call())
        ms[f"eval_{layout}"] = 1000 * _best_of(lambda call=call: jax.block_until_ready(call()), 2) / width
    cfg = point.train
    groups = min(cfg.batch_size or point.data.n_train, point.data.n_train)
    ceiling = _batched_matmul_flops_per_s(block or width, groups * point.data.group_size, hidden)
    flops = cfg.steps * groups * training_flops(point)  # one model's training
    return {
        "models": width,
        "block": block or width,
        **{f"{b}_ms": v for b, v in ms.items()},
        "ceiling_gflops": ceiling / 1e9,
        "ceiling_ms": 1000 * flops / ceiling,
        "train_gflops": flops / ms["manual"] / 1e6,
        "fraction_of_ceiling": 1000 * flops / ceiling / ms["manual"],
        "speedup": ms["autodiff"] / ms["manual"],
        "eval_speedup": ms["eval_rows"] / ms["eval_shared"],
    }


def data_build_timing(exp: Experiment, n_points: int) -> dict:
    """CPU seconds per :func:`simrank.runner.build_data` call (best of 2 over the first ``n_points`` grid
    points, seed 0) with the process's BLAS threads and with one BLAS thread (the default)."""
    from simrank.runner import build_data

    points = list(exp.points())[:n_points]
    seconds = {}
    for label, single in (("default_threads", False), ("one_thread", True)):
        seconds[label] = _best_of(lambda single=single: [build_data(p, 0, single) for p in points], 2) / len(points)
    return {**seconds, "speedup": seconds["default_threads"] / seconds["one_thread"]}


def trainer_throughput(exp: Experiment) -> dict:
    """CPU seconds, groups/s and flop/s of training one full-width listwise-KL chunk of the bilinear student
    (training only), against the flop/s of a batched matmul of the trainer's shape (both in CPU seconds)."""

    point, width, keys, hyper, arrays, train = _kl_chunk(exp)
    cpu_seconds = _training_cpu_seconds(train, keys, arrays["train"], hyper, 3)
    cfg, d, k = point.train, point.world.dim, point.data.group_size
    groups = width * cfg.steps * min(cfg.batch_size or point.data.n_train, point.data.n_train)
    flops = groups * 3 * (2 * d * d + 2 * k * d)
    peak = _matmul_flops_per_s(1024)
    small = _batched_matmul_flops_per_s(width, min(cfg.batch_size or 64, 64), d)
    return {
        "student": point.sections["student"]["kind"],
        "loss": point.loss,
        "models": width,
        "steps": cfg.steps,
        "d": d,
        "k": k,
        "cpu_seconds": cpu_seconds,
        "cpu_ms_per_model": 1000 * cpu_seconds / width,
        "groups_per_s": groups / cpu_seconds,
        "flops_per_s": flops / cpu_seconds,
        "matmul_peak_flops_per_s": peak,
        "matmul_small_flops_per_s": small,
    }


def training_costs(exp: Experiment, width: int) -> pd.DataFrame:
    """Training-only CPU ms per model for every (student, loss) of ``exp`` on ``width`` models of the
    loss's first chunk (compiled beforehand; the cost per model is flat in the width on a CPU), in three
    programs: ``per_loss`` (the default: one program per student, the chunk's loss chosen by an unbatched
    ``lax.switch``), ``static`` (one program per (student, loss), the loss fixed at trace time) and
    ``switch`` (a per-model loss index: every loss evaluated, one selected)."""

    from simrank.runner import chunk_inputs, chunk_losses, plan, point_trainer, train_block

    rows: list[dict] = []
    data_cache: dict = {}  # chunk_inputs' cache of built data
    for jobs, _ in plan(exp):
        point = jobs[0].point
        jobs = (jobs * width)[:width]
        row = {"student": point.sections["student"]["kind"], "loss": point.loss}
        for program, layout in (("per_loss", "per_loss"), ("static", "per_loss"), ("switch", "switch")):
            losses = (point.loss,) if program == "static" else chunk_losses(exp, jobs, layout)
            keys, hyper, arrays, _ = chunk_inputs(jobs, width, data_cache, losses, layout)
            train = point_trainer(point, losses)[2]
            seconds = _training_cpu_seconds(train, keys, arrays["train"], hyper, 2, train_block(point, width))
            row[f"{program}_ms"] = 1000 * seconds / width
        rows.append(row)
    table = pd.DataFrame(rows).drop_duplicates(["student", "loss"])
    return table.assign(ratio=table["switch_ms"] / table["per_loss_ms"])


def torch_loop(exp: Experiment, n_models: int, student: str = "bilinear") -> dict | None:
    """CPU ms per model of a PyTorch loop training ``student`` with listwise KL
    ``KL(softmax(g/τ) ‖ softmax(f))``, Adam (the config's learning rate), the config's steps and batch size
    (minibatches drawn uniformly with replacement), one thread, one model after the other, on the first
    ``n_models`` training sets of the student's KL chunk; None when torch is not installed.  The bilinear
    student ``f = qᵀWx`` starts at W = 0; the MLP ``w₃ᵀ relu(W₂ relu(W₁ [q; x; q⊙x] + b₁) + b₂)`` starts at
    the JAX trainer's own initial parameters of each model.  Also the mean final training loss of each
    side, as a check that both train the same model."""
    try:
        import torch
    except ImportError:
        return None
    import jax

    from simrank.runner import point_trainer
    from simrank.trainer import train_many

    point, width, keys, hyper, arrays, train = _kl_chunk(exp, student)
    cfg = point.train
    torch.set_num_threads(1)
    generator = torch.Generator().manual_seed(0)
    jax_student = point_trainer(point, ("kl",))[0]

    def initial(m: int) -> dict:
        if student == "bilinear":
            return {"w": torch.zeros(point.world.dim, point.world.dim)}
        params = jax_student.init(jax.random.split(keys[m])[0])  # the trainer's init key of model m
        return {k: torch.from_numpy(np.array(v)) for k, v in params.items()}

    def scores_of(p: dict, query, docs):
        if student == "bilinear":
            return torch.bmm(docs, (query @ p["w"]).unsqueeze(-1)).squeeze(-1)  # qᵀWx for each document
        q = query.unsqueeze(1).expand_as(docs)
        h = torch.relu(torch.cat([q, docs, q * docs], -1) @ p["w1"] + p["b1"])
        return torch.relu(h @ p["w2"] + p["b2"]) @ p["w3"]

    def train_one(m: int) -> float:
        query = torch.from_numpy(np.asarray(arrays["train"].query[m]))
        docs = torch.from_numpy(np.asarray(arrays["train"].docs[m]))
        target = torch.softmax(
            torch.from_numpy(np.asarray(arrays["train"].teacher_scores[m])) / float(hyper["tau"][m]), -1
        )
        params = {k: v.requires_grad_() for k, v in initial(m).items()}
        opt = torch.optim.Adam(list(params.values()), lr=cfg.learning_rate)
        for _ in range(cfg.steps):
            idx = torch.randint(0, query.shape[0], (cfg.batch_size,), generator=generator)
            scores = scores_of(params, query[idx], docs[idx])
            loss = torch.nn.functional.kl_div(torch.log_softmax(scores, -1), target[idx], reduction="batchmean")
            opt.zero_grad()
            loss.backward()
            opt.step()
        return loss.item()

    train_one(0)  # warm-up (torch's lazy initialisation), not timed
    start = time.process_time()
    losses = [train_one(m) for m in range(n_models)]
    torch_cpu = time.process_time() - start
    _, curves = jax.block_until_ready(train_many(train, keys, arrays["train"], hyper))
    return {
        "student": student,
        "torch_version": torch.__version__,
        "models": n_models,
        "cpu_ms_per_model": 1000 * torch_cpu / n_models,
        "final_loss_torch": float(np.mean(losses)),
        "final_loss_jax": float(np.asarray(curves)[:n_models, -1].mean()),
    }


def _training_cpu_seconds(train, keys, groups, hyper, repeats: int, block: int | None = None) -> float:
    """Least CPU seconds of ``repeats`` calls of ``jit(vmap_models(train, hyper, block))`` on the stacked inputs
    (``block`` models vmapped at once, None: all), compiled beforehand."""
    import jax

    from simrank.trainer import vmap_models

    train_many = jax.jit(vmap_models(train, hyper, block))
    jax.block_until_ready(train_many(keys, groups, hyper))  # compile
    return _best_of(lambda: jax.block_until_ready(train_many(keys, groups, hyper)), repeats)


def _best_of(fn, repeats: int) -> float:
    """The least CPU seconds (all threads of this process) of ``repeats`` calls of ``fn``."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def _matmul_flops_per_s(n: int) -> float:
    """Flop per CPU second of a warm float32 ``[n, n] @ [n, n]`` (2n³ flop)."""
    import jax
    import jax.numpy as jnp

    a = jax.random.normal(jax.random.PRNGKey(0), (n, n), jnp.float32)
    matmul = jax.jit(jnp.dot)
    jax.block_until_ready(matmul(a, a))
    return 2 * n**3 / _best_of(lambda: jax.block_until_ready(matmul(a, a)), 5)


def _batched_matmul_flops_per_s(models: int, rows: int, d: int) -> float:
    """Flop per CPU second of the trainer's shape: ``models`` independent ``[rows, d] @ [d, d]`` products, repeated."""
    import jax
    import jax.numpy as jnp

    x = jax.random.normal(jax.random.PRNGKey(0), (models, rows, d), jnp.float32)
    w = jax.random.normal(jax.random.PRNGKey(1), (models, d, d), jnp.float32)
    repeats = 1000
    loop = jax.jit(lambda x, w: jax.lax.fori_loop(0, repeats, lambda _, y: jnp.tanh(y @ w), x))
    jax.block_until_ready(loop(x, w))
    return repeats * 2 * models * rows * d * d / _best_of(lambda: jax.block_until_ready(loop(x, w)), 3)


def scaling(mode: str) -> pd.DataFrame:
    """Steady-state cost of one grid point per scanned setting: the best of ``SCAN_REPEATS`` runs (data
    rebuilt each time) after a first run that compiles, in CPU seconds and wall seconds."""
    from simrank.executors import LocalExecutor
    from simrank.runner import plan

    rows = []
    for factor, values in SCANS[mode].items():
        for value in values:
            settings = {**SCAN_DEFAULTS, factor: value}
            exp = experiment({"quick": mode == "quick", "single": True, "set": settings})
            todo = [(i, jobs, width) for i, (jobs, width) in enumerate(plan(exp))]
            pool = LocalExecutor()
            clock = Clock()
            list(pool.map_chunks(exp, todo))
            first = clock.read()
            runs = []
            for _ in range(SCAN_REPEATS):
                pool.data_cache.clear()
                clock = Clock()
                list(pool.map_chunks(exp, todo))
                runs.append(clock.read())
            cpu, wall = min(r["cpu_seconds"] for r in runs), min(r["seconds"] for r in runs)
            rows.append(
                {
                    "factor": factor,
                    "value": value,
                    "cpu_seconds": cpu,
                    "seconds": wall,
                    "compile_cpu_seconds": max(first["cpu_seconds"] - cpu, 0.0),
                }
            )
    return pd.DataFrame(rows)


def slopes(table: pd.DataFrame) -> dict[str, float]:
    """Least-squares slope of log(cpu_seconds) on log(value) per factor (1 = linear, < 1 = sub-linear)."""
    return {
        f: float(np.polyfit(np.log(p["value"]), np.log(p["cpu_seconds"]), 1)[0])
        for f, p in table.groupby("factor", sort=False)
    }


def scaling_figure(table: pd.DataFrame, fitted: dict, stem: Path) -> list[Path]:
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    from simrank.figures import save

    factors = list(dict.fromkeys(table["factor"]))
    fig, axes = plt.subplots(1, len(factors), figsize=(3.2 * len(factors), 3.0), squeeze=False)
    for ax, factor in zip(axes[0], factors):
        part = table[table["factor"] == factor].sort_values("value")
        x, y = part["value"].to_numpy(float), part["cpu_seconds"].to_numpy()
        ax.loglog(x, y, "o-", color="#0173b2", label=f"measured (slope {fitted[factor]:.2f})")
        ax.loglog(x, y[0] * x / x[0], "--", color="#de8f05", label="linear from first point")
        ax.set_xticks(x, [f"{v:g}" for v in x])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(SCAN_LABELS[factor])
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    axes[0, 0].set_ylabel("CPU seconds (steady state)")
    fig.tight_layout()
    caption = (
        "Sweep cost against corpus size N, dimension d, group size k and number of seeds (one factor at a "
        f"time; others N = {SCAN_DEFAULTS['world.n_docs']}, d = {SCAN_DEFAULTS['world.dim']}, "
        f"k = {SCAN_DEFAULTS['data.group_size']}, {SCAN_DEFAULTS['seeds']} seeds): steady-state CPU seconds of one "
        "grid point (data, training, evaluation; compilation excluded), log-log, with the fitted slope and a "
        "dashed line of slope 1 through the first point."
    )
    return save(fig, stem, caption)


TARGETS = {
    "speedup_vs_switch_warm": (">=", 4.0),
    "speedup_vs_switch_cold": (">=", 2.0),
    "speedup_vs_torch": (">=", 30.0),
    "speedup_vs_torch_mlp": (">=", 10.0),
    "floor_ratio": ("<=", 2.0),
    "matmul_fraction": (">=", 0.15),
    "cold_over_warm": ("<=", 1.3),
    "mlp_speedup": (">=", 2.0),
}


def _verdict(key: str, value: float | None) -> str:
    if value is None:
        return "skipped"
    op, target = TARGETS[key]
    met = value >= target if op == ">=" else value <= target
    return f"target {op} {target:g}: {'met' if met else 'NOT met'}"


def _sweep_line(run: dict) -> str:
    return (
        f"{run['models']} models, {run['seconds']:.1f} s wall, {run['cpu_seconds']:.1f} s CPU "
        f"(data {run['data_cpu_seconds']:.1f} s CPU), peak RSS {run['peak_rss'] / GiB:.2f} GiB"
    )


def bench_cmd(
    quick: bool = typer.Option(False, "--quick", help="a fast smoke version (tiny grids, few steps)"),
    out: Path = typer.Option(Path("results/bench"), help="folder for bench.json, scaling.csv and the figure"),
    json_file: Path = typer.Option(None, "--json", help="where to write the report (default OUT/bench.json)"),
    seed: int = typer.Option(0, help="seed of the random subset timed by the reference executor"),
) -> None:
    """Benchmark the sweep: layouts and compile cache, floor, PyTorch loop, throughput, large designs, scaling."""
    mode = "quick" if quick else "full"
    out.mkdir(parents=True, exist_ok=True)
    json_file = out / "bench.json" if json_file is None else json_file
    echo = typer.echo
    load = os.getloadavg()
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {_total_memory_gib():.0f} GiB"
    echo(
        f"simrank bench ({mode}) on {machine}; 1-min load average at start {load[0]:.1f} (shared machine: "
        "CPU seconds are the stable measure)"
    )
    report: dict = {"mode": mode, "machine": machine, "load_average": {"start": load}}

    def save_report() -> None:  # after every stage, so an interrupted bench keeps what it measured
        report["load_average"]["end"] = os.getloadavg()
        json_file.write_text(json.dumps(report, indent=2) + "\n")

    spec = {"quick": quick}
    sweeps: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        for layout in ("per_loss", "switch"):
            cache = Path(tmp) / f"cache-{layout}"  # empty: a cold compilation cache; the second run finds it warm
            for state in ("cold", "warm"):
                task = {"spec": spec, "out": str(Path(tmp) / f"{layout}-{state}"), "layout": layout}
                sweeps[f"{layout}_{state}"] = run = _in_fresh_process(task, cache)
                echo(
                    f"[sweep] bias-sweep{' --quick' if quick else ''}, {layout} layout, {state} cache: {_sweep_line(run)}"
                )
        vmapped = pd.read_parquet(Path(tmp) / "per_loss-warm" / "results.parquet")
    report["sweep"] = sweeps["per_loss_warm"]
    report["sweeps"] = sweeps
    for state in ("warm", "cold"):
        key = f"speedup_vs_switch_{state}"
        report[key] = sweeps[f"switch_{state}"]["cpu_seconds"] / sweeps[f"per_loss_{state}"]["cpu_seconds"]
        echo(f"[layout] {key} = switch / per-loss CPU seconds = {report[key]:.2f}x ({_verdict(key, report[key])})")
    report["cold_over_warm"] = sweeps["per_loss_cold"]["cpu_seconds"] / sweeps["per_loss_warm"]["cpu_seconds"]
    echo(
        f"[cold] cold_over_warm = first run / cached run CPU seconds = {report['cold_over_warm']:.2f} "
        f"({_verdict('cold_over_warm', report['cold_over_warm'])})"
    )
    save_report()

    exp = experiment(spec)
    ref = reference_timing(exp, vmapped, None if quick else REFERENCE_SUBSET, np.random.default_rng(seed))
    how = (
        "every model timed"
        if ref["subset_models"] == ref["models"]
        else f"random subset of {ref['data_groups']} data groups = {ref['subset_models']} models timed, "
        f"extrapolated linearly to {ref['models']}"
    )
    report["reference"] = ref
    report["speedup"] = {
        unit: ref[f"estimate_{unit}"] / sweeps["per_loss_warm"][unit] for unit in ("seconds", "cpu_seconds")
    }
    floor_ms = 1000 * ref["subset"]["cpu_seconds"] / ref["subset_models"]
    sweep_ms = 1000 * sweeps["per_loss_warm"]["cpu_seconds"] / sweeps["per_loss_warm"]["models"]
    report["floor_ratio"] = sweep_ms / floor_ms
    echo(
        f"[reference] one call per model (width 1, one static loss): {ref['estimate_seconds']:.1f} s wall, "
        f"{ref['estimate_cpu_seconds']:.1f} s CPU ({how}; compile {ref['compile']['cpu_seconds']:.1f} s CPU, included once)"
    )
    echo(
        f"[floor] per-model CPU cost: warm per-loss sweep {sweep_ms:.1f} ms, steady-state width-1 single-loss call "
        f"{floor_ms:.1f} ms: floor_ratio = {report['floor_ratio']:.2f} ({_verdict('floor_ratio', report['floor_ratio'])})"
    )
    echo(
        "[agreement] max relative |reference - vmapped| over train/test risk, gap, nDCG@10, KL, Lipschitz: "
        + ", ".join(f"{s} {v:.1e}" for s, v in ref["max_rel_diff"].items())
    )
    save_report()

    peak = _matmul_flops_per_s(2048)
    report["peak_gflops"] = peak / 1e9
    report["roofline"] = roof = roofline(exp, peak, COST_WIDTH[mode])
    echo(
        f"[roofline] peak {peak / 1e9:.1f} GFLOP per CPU second (fp32 2048² matmul); per student, "
        f"{COST_WIDTH[mode]} models: "
        + "; ".join(
            f"{st} training {r['train_ms_per_model']:.2f} ms/model {r['train_gflops']:.1f} GFLOP/s "
            f"({r['train_fraction_of_peak']:.0%} of peak), evaluation {r['eval_ms_per_model']:.2f} ms/model "
            f"{r['eval_gflops']:.1f} GFLOP/s ({r['eval_fraction_of_peak']:.0%})"
            for st, r in roof.items()
        )
    )
    if "mlp" in roof:
        report["mlp_layouts"] = layouts = mlp_layouts(exp, COST_WIDTH[mode])
        report["mlp_ms_per_model"] = layouts["manual_ms"]
        report["mlp_speedup"] = layouts["speedup"]
        report["mlp_eval_speedup"] = layouts["eval_speedup"]
        echo(
            f"[mlp] training CPU ms per model: fused first layer + hand-written backward in blocks of "
            f"{layouts['block']} models {layouts['manual_ms']:.2f} (all {layouts['models']} in one vmap "
            f"{layouts['manual_vmap_ms']:.2f}), autodiff reference (one vmap) {layouts['autodiff_ms']:.2f}: "
            f"mlp_speedup = {layouts['speedup']:.2f}x "
            f"({_verdict('mlp_speedup', layouts['speedup'])}); corpus scores of evaluation: x W_x once per "
            f"document {layouts['eval_shared_ms']:.2f}, feature rows per pair {layouts['eval_rows_ms']:.2f}: "
            f"mlp_eval_speedup = {layouts['eval_speedup']:.2f}x; same-shape ceiling: a batched [b·k, h] @ [h, h] "
            f"matmul of {layouts['block']} models reaches {layouts['ceiling_gflops']:.1f} GFLOP/s, so training "
            f"cannot beat {layouts['ceiling_ms']:.2f} ms per model; it reaches {layouts['train_gflops']:.1f} GFLOP/s "
            f"= {layouts['fraction_of_ceiling']:.0%} of that ceiling"
        )
    else:
        report["mlp_ms_per_model"] = report["mlp_speedup"] = report["mlp_eval_speedup"] = None
        echo("[mlp] skipped: no MLP student in this grid")
    report["data_build"] = build = data_build_timing(exp, 4)
    echo(
        f"[data] CPU s per build: process's BLAS threads {build['default_threads']:.3f}, one BLAS thread "
        f"{build['one_thread']:.3f} ({build['speedup']:.2f}x)"
    )
    save_report()

    tp = trainer_throughput(exp)
    report["trainer"] = tp
    report["matmul_fraction"] = tp["flops_per_s"] / tp["matmul_small_flops_per_s"]
    echo(
        f"[trainer] {tp['models']} {tp['student']} models, {tp['loss']}, {tp['steps']} steps (d={tp['d']}, k={tp['k']}), "
        f"training only: {tp['cpu_ms_per_model']:.2f} ms CPU per model, {tp['groups_per_s']:.3g} groups/s, "
        f"{tp['flops_per_s'] / 1e9:.2f} GFLOP/s = {tp['flops_per_s'] / tp['matmul_peak_flops_per_s']:.1%} of a 1024² "
        f"matmul ({tp['matmul_peak_flops_per_s'] / 1e9:.1f} GFLOP/s); matmul_fraction = {report['matmul_fraction']:.2f} "
        f"of a batched matmul of the trainer's shape ({tp['matmul_small_flops_per_s'] / 1e9:.1f} GFLOP/s; "
        f"{_verdict('matmul_fraction', report['matmul_fraction'])}) [per CPU second]"
    )
    costs = training_costs(exp, COST_WIDTH[mode])
    report["training_costs"] = costs.to_dict("records")
    counts = vmapped.groupby(["student", "loss"]).size().rename("models").reset_index()
    total = costs.merge(counts, on=["student", "loss"])
    bound = (total["switch_ms"] * total["models"]).sum() / (total["per_loss_ms"] * total["models"]).sum()
    report["training_speedup_bound"] = float(bound)
    echo(
        f"[costs] training-only CPU ms per model ({COST_WIDTH[mode]} models per call), per-loss vs switch layout:\n"
        + costs.round(2).to_string(index=False)
        + f"\n  -> training alone, weighted by the sweep's models: switch / per-loss = {bound:.2f}x (the most the "
        "layout can gain before data, evaluation and compilation are counted)"
    )
    save_report()
    for student, key in (("bilinear", "speedup_vs_torch"), ("mlp", "speedup_vs_torch_mlp")):
        jax_ms = tp["cpu_ms_per_model"] if student == "bilinear" else report["mlp_ms_per_model"]
        torch = None if jax_ms is None else torch_loop(exp, TORCH_MODELS[mode], student)
        report["torch" if student == "bilinear" else "torch_mlp"] = torch
        report[key] = None if torch is None else torch["cpu_ms_per_model"] / jax_ms
        if torch is None:
            echo(
                f"[torch] {student} skipped: PyTorch is not installed (pip install 'simrank[encode]' pins torch==2.13.0) or no such student"
            )
            continue
        echo(
            f"[torch] {student}: PyTorch {torch['torch_version']} loop, one thread, {torch['models']} models: "
            f"{torch['cpu_ms_per_model']:.1f} ms CPU per model (final train loss {torch['final_loss_torch']:.4f}; "
            f"vmapped JAX {jax_ms:.2f} ms, final loss {torch['final_loss_jax']:.4f}): "
            f"{key} = {report[key]:.1f}x ({_verdict(key, report[key])})"
        )
    save_report()

    large = LARGE_DESIGNS[mode]
    n_docs, dim = large["world"]
    designs = {
        "p4": {"name": "p04-hard-negatives", "set": {"seeds": large["p4_seeds"]}},
        "large_world": {"quick": quick, "set": {"world.n_docs": n_docs, "world.dim": dim, "seeds": 1}},
    }
    report["large"] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for key, design in designs.items():
            run = _in_fresh_process({"spec": design, "out": str(Path(tmp) / key)}, Path(tmp) / f"cache-{key}")
            report["large"][key] = {"spec": design, **run}
            what = (
                f"P4 design at {large['p4_seeds']} seeds"
                if key == "p4"
                else f"bias-sweep grid{' --quick' if quick else ''}, 1 seed, N = {n_docs:,}, d = {dim}"
            )
            echo(f"[large] {what}, cold cache: {_sweep_line(run)}")
    save_report()

    table = scaling(mode)
    table.to_csv(out / "scaling.csv", index=False)
    fitted = slopes(table)
    report["slopes"] = fitted
    echo(f"\n[scaling] steady-state cost of one grid point, best of {SCAN_REPEATS} runs (compilation excluded):")
    echo(table.round(3).to_string(index=False))
    echo(
        "log-log slopes: "
        + ", ".join(f"{SCAN_LABELS[f]} {s:.2f}" for f, s in fitted.items())
        + f" -> {'no worse than linear' if max(fitted.values()) <= 1.1 else 'SUPER-LINEAR somewhere'} (threshold 1.1)"
    )
    figure = scaling_figure(table, fitted, out / "scaling")
    save_report()

    n_docs, dim = BIG_WORLD[mode]
    with tempfile.TemporaryDirectory() as tmp:
        big_spec = {"quick": quick, "single": True, "set": {"world.n_docs": n_docs, "world.dim": dim, "seeds": 1}}
        big = _in_fresh_process({"spec": big_spec, "out": tmp}, Path(tmp) / "cache")
    square = n_docs * n_docs * 4
    report["big_world"] = {"n_docs": n_docs, "dim": dim, **big}
    echo(
        f"\n[memory] N = {n_docs:,} documents at d = {dim}: {big['seconds']:.1f} s wall, peak RSS {big['peak_rss'] / GiB:.2f} GiB; "
        f"an N×N float32 matrix alone would take {square / GiB:.1f} GiB ({'more than this machine has' if square > _total_memory_gib() * GiB else 'not excluded by memory alone'})"
    )
    save_report()
    echo(
        "\n[targets] "
        + ", ".join(
            f"{key} {'-' if report[key] is None else format(report[key], '.2f')} ({_verdict(key, report[key])})"
            for key in TARGETS
        )
    )
    echo(f"wrote {json_file}, {out / 'scaling.csv'}, {figure[0]}")


def _total_memory_gib() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GiB


if __name__ == "__main__":
    print(json.dumps(_worker(json.loads(sys.argv[1]))))
