"""``simrank bench``: how fast and how lean the sweep is, measured in one run.

1. The default bias sweep (vmapped chunks): wall time and peak resident memory, in a fresh process.
2. The same sweep by the reference executor (one jit-compiled call per grid point and seed, the same
   train/evaluate functions): compilation is timed once per static group, then a random subset of
   data groups (all grid points and seeds that share built data, so data caching is as in the full
   run) is timed and extrapolated linearly to the whole grid:
   ``T_ref ≈ T_compile + T_subset · n_models / n_subset``.  The subset's rows are compared with the
   vmapped run's.
3. Trainer throughput (groups/s = models · steps · batch / s) of one full-width chunk, and the achieved
   fraction of this machine's matmul throughput, with the bilinear student's training cost counted as
   ``3 · (2d² + 2kd)`` flop per group and step (forward ``qᵀW`` and ``k`` dot products; backward ≈ 2×).
4. Scaling: steady-state time (data + training + evaluation, compiled beforehand) of one grid point
   against corpus size N, dimension d, group size k and number of seeds, one factor at a time, with
   fitted log-log slopes (1 = linear).
5. A world of N = 10⁵ documents at d = 128 in a fresh process: its peak memory against the size an
   N×N float32 matrix would take (which does not fit in this machine's memory at all).
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import typer

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
QUICK_STEPS = 20
SCAN_REPEATS = 3  # best-of repeats: the machine is shared, the minimum is the least disturbed run
REFERENCE_SUBSET = 2  # data groups timed by the reference executor on the full grid


def experiment(spec: dict):
    """The bias-sweep experiment of ``spec``: ``quick`` (the config's [quick] plus ``QUICK_STEPS`` steps
    and one seed), ``single`` (one grid point: local top-50 sampler, τ = 1, KL, bilinear, η = 0) and
    ``set`` ("section.key" or "seeds" -> value)."""
    from simrank.config import load_experiment

    exp = load_experiment("bias-sweep", quick=spec.get("quick", False), seeds=1 if spec.get("quick") else None)
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
    """Run one measurement in this (fresh) process: ``sweep`` (the whole experiment) or ``big`` (one point)."""
    from simrank.sweep import run_experiment

    exp = experiment(task["spec"])
    clock = Clock()
    results = run_experiment(exp, Path(task["out"]), progress=False)
    return {**clock.read(), "peak_rss": _peak_rss_bytes(), "models": len(results)}


class Clock:
    """Wall seconds and CPU seconds (all threads of this process) since construction.  On a shared
    machine CPU seconds are the stable measure: other people's load stretches wall time, not CPU time."""

    def __init__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def read(self) -> dict:
        return {"seconds": time.perf_counter() - self.wall, "cpu_seconds": time.process_time() - self.cpu}


def _in_fresh_process(task: dict) -> dict:
    proc = subprocess.run([sys.executable, "-m", "simrank.bench", json.dumps(task)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark worker failed: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def reference_timing(exp, vmapped: pd.DataFrame, n_groups: int | None, rng: np.random.Generator) -> dict:
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
    firsts = {chunks[i][0][0].static_key(): i for i in reversed(range(len(chunks)))}
    for i in firsts.values():  # compile each static group once (its data cache is thrown away)
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


def trainer_throughput(exp) -> dict:
    """Groups/s of one full-width chunk of the first static group, and the achieved matmul fraction."""
    import jax

    from simrank.runner import chunk_inputs, chunk_losses, plan, point_trainer

    jobs, width = plan(exp)[0]
    loss_names = chunk_losses(exp, jobs, "per_loss")
    keys, hyper, arrays, _ = chunk_inputs(jobs, width, {}, loss_names)
    point = jobs[0].point
    _, _, train = point_trainer(point, loss_names)
    train_many = jax.jit(jax.vmap(train))
    jax.block_until_ready(train_many(keys, arrays["train"], hyper))  # compile
    seconds = _best_of(lambda: jax.block_until_ready(train_many(keys, arrays["train"], hyper)), 3)
    cfg, d, k = point.train, point.world.dim, point.data.group_size
    groups = width * cfg.steps * min(cfg.batch_size or point.data.n_train, point.data.n_train)
    flops = groups * 3 * (2 * d * d + 2 * k * d)
    peak = _matmul_flops_per_s(1024)
    small = _batched_matmul_flops_per_s(width, min(cfg.batch_size or 64, 64), d)
    return {
        "student": point.sections["student"]["kind"],
        "models": width,
        "steps": cfg.steps,
        "d": d,
        "k": k,
        "seconds": seconds,
        "groups_per_s": groups / seconds,
        "flops_per_s": flops / seconds,
        "matmul_peak_flops_per_s": peak,
        "matmul_small_flops_per_s": small,
    }


def _best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _matmul_flops_per_s(n: int) -> float:
    """Flop/s of a warm float32 ``[n, n] @ [n, n]`` (2n³ flop)."""
    import jax
    import jax.numpy as jnp

    a = jax.random.normal(jax.random.PRNGKey(0), (n, n), jnp.float32)
    matmul = jax.jit(jnp.dot)
    jax.block_until_ready(matmul(a, a))
    return 2 * n**3 / _best_of(lambda: jax.block_until_ready(matmul(a, a)), 5)


def _batched_matmul_flops_per_s(models: int, rows: int, d: int) -> float:
    """Flop/s of the trainer's shape: ``models`` independent ``[rows, d] @ [d, d]`` products, repeated."""
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


def bench_cmd(
    quick: bool = typer.Option(False, "--quick", help="a fast smoke version (tiny grids, few steps)"),
    out: Path = typer.Option(Path("results/bench"), help="folder for bench.json, scaling.csv and the figure"),
    seed: int = typer.Option(0, help="seed of the random subset timed by the reference executor"),
) -> None:
    """Benchmark the sweep: wall time, memory, speed-up over one-call-per-model, throughput, scaling."""
    mode = "quick" if quick else "full"
    out.mkdir(parents=True, exist_ok=True)
    echo = typer.echo
    load = os.getloadavg()
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {_total_memory_gib():.0f} GiB"
    echo(
        f"simrank bench ({mode}) on {machine}; 1-min load average at start {load[0]:.1f} (shared machine: "
        "CPU seconds are the stable measure)"
    )
    spec = {"quick": quick}
    with tempfile.TemporaryDirectory() as tmp:
        sweep = _in_fresh_process({"spec": spec, "out": str(Path(tmp) / "sweep")})
        vmapped = pd.read_parquet(Path(tmp) / "sweep" / "results.parquet")
    echo(
        f"\n[sweep] bias-sweep{f' --quick (1 seed, {QUICK_STEPS} steps)' if quick else ''}: {sweep['models']} models "
        f"in {sweep['seconds']:.1f} s wall, {sweep['cpu_seconds']:.1f} s CPU, peak RSS {sweep['peak_rss'] / GiB:.2f} GiB (target < 2 GiB)"
    )

    exp = experiment(spec)
    ref = reference_timing(exp, vmapped, None if quick else REFERENCE_SUBSET, np.random.default_rng(seed))
    how = (
        "every model timed"
        if ref["subset_models"] == ref["models"]
        else f"random subset of {ref['data_groups']} data groups = {ref['subset_models']} models timed, "
        f"extrapolated linearly to {ref['models']}"
    )
    speedup = {unit: ref[f"estimate_{unit}"] / sweep[unit] for unit in ("seconds", "cpu_seconds")}
    echo(
        f"[reference] one call per model: {ref['estimate_seconds']:.1f} s wall, {ref['estimate_cpu_seconds']:.1f} s CPU "
        f"({how}; compile {ref['compile']['seconds']:.1f} s wall, included once)"
    )
    echo(
        f"[speed-up] reference / vmapped = {speedup['cpu_seconds']:.1f}x in CPU time, {speedup['seconds']:.1f}x in wall "
        "time (target >= 10x)"
    )
    echo(
        "[agreement] max relative |reference - vmapped| over train/test risk, gap, nDCG@10, KL, Lipschitz: "
        + ", ".join(f"{s} {v:.1e}" for s, v in ref["max_rel_diff"].items())
    )

    tp = trainer_throughput(exp)
    echo(
        f"[trainer] {tp['models']} {tp['student']} models x {tp['steps']} steps (d={tp['d']}, k={tp['k']}): "
        f"{tp['groups_per_s']:.3g} groups/s, {tp['flops_per_s'] / 1e9:.2f} GFLOP/s = "
        f"{tp['flops_per_s'] / tp['matmul_peak_flops_per_s']:.1%} of a 1024² matmul "
        f"({tp['matmul_peak_flops_per_s'] / 1e9:.1f} GFLOP/s), "
        f"{tp['flops_per_s'] / tp['matmul_small_flops_per_s']:.0%} of a batched matmul of the trainer's shape "
        f"({tp['matmul_small_flops_per_s'] / 1e9:.1f} GFLOP/s)"
    )

    table = scaling(mode)
    table.to_csv(out / "scaling.csv", index=False)
    fitted = slopes(table)
    echo(f"\n[scaling] steady-state cost of one grid point, best of {SCAN_REPEATS} runs (compilation excluded):")
    echo(table.round(3).to_string(index=False))
    echo(
        "log-log slopes: "
        + ", ".join(f"{SCAN_LABELS[f]} {s:.2f}" for f, s in fitted.items())
        + f" -> {'no worse than linear' if max(fitted.values()) <= 1.1 else 'SUPER-LINEAR somewhere'} (threshold 1.1)"
    )
    figure = scaling_figure(table, fitted, out / "scaling")

    n_docs, dim = BIG_WORLD[mode]
    with tempfile.TemporaryDirectory() as tmp:
        big_spec = {"quick": quick, "single": True, "set": {"world.n_docs": n_docs, "world.dim": dim, "seeds": 1}}
        big = _in_fresh_process({"spec": big_spec, "out": tmp})
    square = n_docs * n_docs * 4
    echo(
        f"\n[memory] N = {n_docs:,} documents at d = {dim}: {big['seconds']:.1f} s wall, peak RSS {big['peak_rss'] / GiB:.2f} GiB; "
        f"an N×N float32 matrix alone would take {square / GiB:.1f} GiB ({'more than this machine has' if square > _total_memory_gib() * GiB else 'not excluded by memory alone'})"
    )

    report = {
        "mode": mode,
        "machine": machine,
        "load_average": {"start": load, "end": os.getloadavg()},
        "sweep": sweep,
        "reference": ref,
        "speedup": speedup,
        "trainer": tp,
        "slopes": fitted,
        "big_world": {"n_docs": n_docs, "dim": dim, **big},
    }
    (out / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    echo(f"\nwrote {out / 'bench.json'}, {out / 'scaling.csv'}, {figure[0]}")


def _total_memory_gib() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GiB


if __name__ == "__main__":
    print(json.dumps(_worker(json.loads(sys.argv[1]))))
