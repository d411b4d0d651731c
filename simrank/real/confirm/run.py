"""``simrank real confirm``: train students on real BEIR data with the synthetic pipeline's samplers,
groups, losses, students and trainer (:mod:`.training`), choose each arm's learning rate and steps on a
validation split, and measure every model per query on the test split and on zero-shot collections
(:mod:`simrank.real.evalsets`); inputs in :mod:`.inputs`, the design in :mod:`.design`.

Each model's movement from its start (validation, test and zero-shot nDCG@10) is recorded.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from simrank._version import __version__
from simrank.groups import QuerySet
from simrank.losses import LOSS_SPECS
from simrank.measures import kappa, rank_correlation
from simrank.real.confirm.design import DEPTH, Arm, RealConfig, extend_grid
from simrank.real.confirm.inputs import Prepared, prepare
from simrank.real.confirm.memorisation import prior_baseline, query_flags, seen_documents
from simrank.real.confirm.training import (
    POOLS,
    _curve_points,
    _draw,
    _stack,
    arm_pool,
    first_epoch,
    make_measure,
    make_real_student,
    make_train_fn,
    mean_entropy,
    tau_for_entropy,
    tune_batch,
    tuning_groups,
)
from simrank.real.data.beir import EMBEDDINGS_FILE, data_checksums
from simrank.real.evalsets import EvalSet
from simrank.real.evaluate import evaluate, run_from_scores, write_trec_run
from simrank.runner import code_commit
from simrank.samplers import SamplingContext, make_sampler

__all__ = ["choose", "evaluate_baselines", "run_confirm", "tempered_kappas"]

TREC_SEED = 0  # models whose runs are written and re-scored with ir_measures (at the reference group size)


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
    ``baselines.parquet`` (with the document prior, :mod:`simrank.real.confirm.memorisation`), ``queries.parquet`` (which
    test and validation queries have a relevant document seen in training), ``kappas.parquet``, ``meta.json`` and
    TREC runs (seed 0) into ``out``.

    Every input is loaded and checked before anything is written.  Returns ``(results, meta)``."""
    commit = code_commit()  # at the start: the code that runs, whatever the checkout holds when the run ends
    timings: dict[str, float] = {"load_average_start": os.getloadavg()[0]}
    start, cpu_start = time.perf_counter(), time.process_time()
    data = prepare(data_dir, cfg, eval_dirs, embeddings_file)
    timings["prepare_s"] = time.perf_counter() - start
    out = Path(out)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    dim = data.test.docs.shape[1]
    sets = {ev.name: ev.arrays() for ev in data.eval_sets}
    val_only = {"val": sets["val"]}
    students = {name: make_real_student(name, dim, cfg.lowrank_rank, cfg.lowrank_norm_bound) for name in cfg.students}
    # every compiled call takes the grid's models per (seed, arm): one compilation per (student, loss, steps)
    width, query_rows = len(cfg.samplers) * len(cfg.group_sizes), max(p.n_queries for p in data.pools.values())
    measures = {name: make_measure(s, min(DEPTH, data.test.docs.shape[0]), width) for name, s in students.items()}
    trainers: dict[tuple, Callable] = {}

    def trainer(student: str, loss: str, steps: int) -> Callable:
        key = (student, loss, steps)
        if key not in trainers:
            trainers[key] = make_train_fn(students[student], loss, steps, cfg, width, query_rows)
        return trainers[key]

    # the start of every student (h = 0 for the bilinear ones): per-query measures on every set
    starts = {}
    for name, model in students.items():
        init = jax.tree_util.tree_map(lambda a: a[None], model.project(model.init(jax.random.PRNGKey(0))))
        starts[name] = jax.tree_util.tree_map(
            lambda a: np.asarray(a[0]), measures[name](init, sets, jnp.ones(1) * cfg.tau)
        )

    # 1. learning rate, steps and τ per (student, arm) on the validation (tune) split
    t0 = time.perf_counter()
    drawn_tuning: dict[tuple[str, int, int], object] = {}

    def tune_groups(pool: str, steps: int) -> dict:
        """Seed -> the tuning groups of ``pool`` for a run of ``steps`` steps (its epochs), drawn once each."""
        for s in range(cfg.tune_seeds):
            if (pool, s, cfg.epochs(steps)) not in drawn_tuning:
                drawn_tuning[(pool, s, cfg.epochs(steps))] = tuning_groups(data.pools[pool], cfg, s, steps)
        return {s: drawn_tuning[(pool, s, cfg.epochs(steps))] for s in range(cfg.tune_seeds)}

    tau_groups = first_epoch(tune_groups("teacher", max(cfg.tune_steps))[0])
    solved = tuple(tau_for_entropy(tau_groups, h) for h in cfg.entropies)
    entropies = {tau: mean_entropy(tau_groups, tau) for tau in (cfg.tau, *solved)}
    tuning_rows: list[dict] = []
    for student in cfg.students:
        for arm in cfg.arms:
            pool, taus = arm_pool(arm), cfg.taus(arm.loss, solved)
            lrs, steps_grid = tuple(cfg.learning_rates[student]), tuple(cfg.tune_steps)
            tried: set[tuple[float, int]] = set()
            for _ in range(cfg.tune_extend + 1):
                for steps in steps_grid:
                    batch = [(lr, tau, s) for s in range(cfg.tune_seeds) for lr in lrs for tau in taus]
                    batch = [b for b in batch if (b[0], steps) not in tried]
                    if not batch:
                        continue
                    val, risk = tune_batch(
                        trainer(student, arm.loss, steps), measures[student], val_only, tune_groups(pool, steps), batch
                    )
                    tuning_rows += [
                        {
                            "student": student,
                            "arm": arm.name,
                            "loss": arm.loss,
                            "label_source": arm.label_source,
                            "learning_rate": rate,
                            "steps": steps,
                            "tau": tau,
                            "entropy": entropies[tau],
                            "seed": s,
                            "val_ndcg10": float(val[i]),
                            "val_start": float(starts[student]["val_ndcg10"].mean()),
                            "train_risk": float(risk[i]),
                        }
                        for i, (rate, tau, s) in enumerate(batch)
                    ]
                tried |= {(lr, st) for lr in lrs for st in steps_grid}
                lr, steps, _ = best_setting(pd.DataFrame(tuning_rows), student, arm.name)
                new_lr, new_steps = extend_grid(lrs, lr), extend_grid(steps_grid, steps, integer=True)
                if new_lr is None and new_steps is None:
                    break
                lrs += (new_lr,) if new_lr is not None else ()
                steps_grid += (int(new_steps),) if new_steps is not None else ()
            progress(f"tuned {student} {arm.name}")
    tuning = pd.DataFrame(tuning_rows)
    chosen, demoted = choose(tuning, cfg)
    timings["tune_s"] = time.perf_counter() - t0

    # 2. the grid, at the chosen learning rate and steps: seeds × samplers × group sizes per arm
    t0 = time.perf_counter()
    rows, trec_checks = [], []
    cells = [(sampler, k) for sampler in cfg.samplers for k in cfg.group_sizes]
    trained = [s for s in cfg.students if s not in demoted]
    epochs = max(cfg.epochs(chosen[(s, a.name)][1]) for s in trained for a in cfg.arms) if trained else 1
    for seed in range(cfg.seeds):
        drawn = {
            pool: [
                _draw(data.pools[pool], cfg, sampler, k, [seed, k, cfg.samplers.index(sampler)], epochs)
                for sampler, k in cells
            ]
            for pool in POOLS
            if any(arm_pool(a) == pool for a in cfg.arms)
        }
        for student in trained:
            for arm in cfg.arms:
                t1 = time.perf_counter()
                pool = arm_pool(arm)
                lr, steps, arm_tau = chosen[(student, arm.name)]
                arm_tau = cfg.tau if np.isnan(arm_tau) else arm_tau
                groups = _stack([g for g, _ in drawn[pool]])
                keys = jax.random.split(jax.random.PRNGKey(seed), len(cells))
                tau = jnp.full(len(cells), arm_tau, jnp.float32)
                params, curve, risk = trainer(student, arm.loss, steps)(keys, groups, jnp.full(len(cells), lr), tau)
                m = jax.tree_util.tree_map(np.asarray, measures[student](params, sets, tau))
                curve = np.asarray(curve)
                for i, (sampler, k) in enumerate(cells):
                    mi = {key: v[i] for key, v in m.items()}
                    rows.append(
                        _row(cfg, data, student, arm, sampler, k, seed, lr, steps, arm_tau, mi, starts[student])
                        | drawn[pool][i][1]
                        | {"entropy_list": mean_entropy(first_epoch(drawn[pool][i][0]), arm_tau)}
                        | {"train_risk": float(risk[i]), "curve": _curve_points(curve[i], steps)}
                    )
                    if seed == TREC_SEED and k == cfg.reference_k:
                        trec_checks.append(_write_runs(data.test, out, f"{student}-{arm.name}-{sampler}-k{k}", mi))
                progress(f"seed={seed} {student} {arm.name}: {len(cells)} models in {time.perf_counter() - t1:.1f} s")
    timings["train_eval_s"] = time.perf_counter() - t0
    results = pd.DataFrame(rows)
    baselines, discrepancy = evaluate_baselines(data, out, starts)
    seen = seen_documents(data.pools["gold"].grades)
    if cfg.split == "grouped":  # also the teacher-labelled pool's positives (title pseudo-queries are documents)
        seen |= seen_documents(data.pools["teacher"].positive_probs)
    baselines = pd.concat([baselines, pd.DataFrame(prior_baseline(data.val, data.test, seen, DEPTH, out)[1])])
    query_flags([data.test, data.val], seen).to_parquet(out / "queries.parquet", index=False)
    timings["total_s"] = time.perf_counter() - start
    timings["cpu_s"] = time.process_time() - cpu_start
    timings["load_average_end"] = os.getloadavg()[0]
    timings["max_ir_measures_discrepancy"] = float(max(trec_checks + [discrepancy]))
    results.to_parquet(out / "results.parquet", index=False)
    tuning.to_parquet(out / "tuning.parquet", index=False)
    baselines.to_parquet(out / "baselines.parquet", index=False)
    tempered_kappas(data.pools["teacher"], cfg).to_parquet(out / "kappas.parquet", index=False)
    meta = {
        "config": cfg.as_dict(),
        "arms": [a._asdict() for a in cfg.arms],
        "chosen": [
            {"student": s, "arm": a, "learning_rate": lr, "steps": st, "tau": tau}
            for (s, a), (lr, st, tau) in chosen.items()
        ],
        "taus": {f"{h:g}": tau for h, tau in zip(cfg.entropies, solved)},
        "demoted": demoted,
        "queries": data.pool_sizes | {"test": len(data.test.query_ids)},
        "zero_shot": {z.name: {"queries": len(z.query_ids), "docs": len(z.doc_ids)} for z in data.zero_shot},
        "timings": timings,
        "data": str(data_dir),
        "n_models": len(results),
        "n_tuning_models": len(tuning),
        "eval_data": [str(d) for d in eval_dirs],
        "simrank_version": __version__,
        "code_commit": commit,
        "config_hash": cfg.hash,
        "data_checksums": {str(d): data_checksums(d) for d in (data_dir, *eval_dirs)},
        "cpu": cpu,
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return results, meta


def best_setting(tuning: pd.DataFrame, student: str, arm: str) -> tuple[float, int, float]:
    """The (learning rate, steps, τ) of ``student`` × ``arm`` with the highest mean validation nDCG@10 over the
    tuning seeds (ties: the smaller rate, then fewer steps, then the smaller τ)."""
    part = tuning[(tuning.student == student) & (tuning.arm == arm)]
    if "tau" not in part:  # tuning tables written before τ was tuned
        part = part.assign(tau=np.nan)
    mean = part.groupby(["learning_rate", "steps", "tau"], sort=True, dropna=False).val_ndcg10.mean()
    lr, steps, tau = mean.idxmax()
    return float(lr), int(steps), float(tau)


def choose(tuning: pd.DataFrame, cfg: RealConfig) -> tuple[dict, list[str]]:
    """Per (student, arm) the :func:`best_setting` (learning rate, steps, τ); and (with ``cfg.demote``) the
    demoted students, for which no arm's chosen setting improves validation nDCG@10 on the start by
    ``cfg.learn_min``."""
    chosen, demoted = {}, []
    for student in cfg.students:
        moved = []
        for arm in cfg.arms:
            lr, steps, tau = best_setting(tuning, student, arm.name)
            chosen[(student, arm.name)] = (lr, steps, tau)
            part = tuning[(tuning.student == student) & (tuning.arm == arm.name)]
            at = part[np.isclose(part.learning_rate, lr) & (part.steps == steps)]
            if "tau" in at:
                at = at[np.isclose(at.tau, tau)]
            moved.append(at.val_ndcg10.mean() - part.val_start.iloc[0])
        if cfg.demote and max(moved) < cfg.learn_min:
            demoted.append(student)
    return chosen, demoted


def _row(cfg, data, student, arm: Arm, sampler, k, seed, lr, steps, tau, m: dict, start: dict) -> dict:
    config = {
        "student": student,
        "arm": arm.name,
        "loss": arm.loss,
        "label_source": arm.label_source,
        "sampler": cfg.sampler(sampler),
        "group_size": k,
        "tau": tau,
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
        "tau": tau,
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
        "agree10": float(np.mean(m["test_agree10"])),
        "d_agree10": float(np.mean(m["test_agree10"]) - np.mean(start["test_agree10"])),
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
