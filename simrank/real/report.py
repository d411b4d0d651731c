"""Tables, figure, prediction verdicts and the Markdown report of a ``simrank real confirm`` run,
all rendered from the files the run wrote (``results.parquet``, ``kappas.parquet``,
``baselines.parquet``, ``meta.json``): no number is typed by hand.

Statistics: means with 95% Student-t intervals over seeds (:func:`simrank.stats.summarise`),
paired differences by seed (:func:`simrank.stats.mean_ci`), equivalence by the correct TOST
(:func:`simrank.stats.tost`, equivalent only when both one-sided p < α = 0.05) with the margin
``EQ_MARGIN`` nDCG@10 points, fixed before the run.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from simrank.figures import line_panel, save
from simrank.real.confirm import GRIDS
from simrank.stats import equivalence_groups, mean_ci, summarise, tost

EQ_MARGIN = 0.01  # nDCG@10: differences below one point count as "no change"
HARD = ("bm25", "dense", "teacher", "ensemble")
REFERENCE_K = 8
CAPTION = (
    "Real-data confirm (SciFact-style BEIR folder): test nDCG@10 over the whole corpus against the training "
    "group size, one panel per loss, one row per student, one line per negative sampler; lines are means over "
    "seeds, bands 95% "
    "t-intervals; dashed grey: the dense retriever every student starts from, dotted black: the hybrid teacher."
)
SYNTHETIC = {
    "P4": "hard negatives change true nDCG@10 under LCE but not under distillation (TOST-equivalent)",
    "P5": "false negatives in the pool hurt LCE, not distillation; filtering helps LCE only",
    "P8": "κ grows with hardness; mixing caps it (κ_η = 1/((1−η)/κ + η) ≤ 1/η)",
    "P10": "per-query KL(teacher‖student) correlates negatively with nDCG",
    "P11": "group size matters more under LCE with local negatives than under distillation",
}


def load_run(out: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    out = Path(out)
    return (
        pd.read_parquet(out / "results.parquet"),
        pd.read_parquet(out / "kappas.parquet"),
        pd.read_parquet(out / "baselines.parquet"),
        json.loads((out / "meta.json").read_text()),
    )


def by_student(results: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """The rows of each student, in grid order (verdicts and figure rows are per student)."""
    return [(name, results[results.student == name]) for name in dict.fromkeys(results.student)]


def summary_table(results: pd.DataFrame, value: str = "ndcg10") -> pd.DataFrame:
    """Mean and 95% CI of ``value`` per student × loss × sampler × group size, with the TOST
    equivalence group of each (loss, sampler) among all of its student and group size."""
    keys = ["student", "group_size", "loss", "sampler"]
    table = summarise(results, keys, value)
    parts = []
    for (student, k), part in results.groupby(["student", "group_size"]):
        groups = equivalence_groups(part, ["loss", "sampler"], value, EQ_MARGIN)
        parts.append(groups.assign(student=student, group_size=k)[keys + ["group"]])
    return table.merge(pd.concat(parts), on=keys).sort_values(keys).reset_index(drop=True)


def format_table(table: pd.DataFrame, value: str = "ndcg10") -> str:
    """One line per row: ``mean [low, high] group``."""
    shown = table.assign(
        **{
            value: [
                f"{m:.4f} [{lo:.4f}, {hi:.4f}]"
                for m, lo, hi in zip(table[f"{value}_mean"], table[f"{value}_low"], table[f"{value}_high"])
            ]
        }
    )
    return shown[["student", "group_size", "loss", "sampler", value, "group", "n"]].to_string(index=False)


def _paired(df: pd.DataFrame, column: str, a, b, value: str = "ndcg10") -> np.ndarray | None:
    """Per-seed differences ``value(a) − value(b)`` between two levels of ``column`` (None if absent)."""
    x = df[df[column] == a].set_index("seed")[value]
    y = df[df[column] == b].set_index("seed")[value]
    seeds = x.index.intersection(y.index)
    return None if len(seeds) < 2 else (x[seeds] - y[seeds]).to_numpy()


def _effect(diff: np.ndarray) -> dict:
    """Mean paired difference, its 95% CI, and the TOST verdict against ±EQ_MARGIN."""
    ci = mean_ci(diff)
    eq = tost(diff, np.zeros_like(diff), EQ_MARGIN, paired=True)
    return {
        "diff": ci.mean,
        "low": ci.low,
        "high": ci.high,
        "changed": bool(ci.low > 0 or ci.high < 0),
        "equivalent": eq.equivalent,
        "p_tost": eq.p,
    }


def _fmt(e: dict) -> str:
    state = {
        (True, True): "changed, within the margin",
        (True, False): "changed",
        (False, True): "equivalent",
        (False, False): "undecided",
    }[(e["changed"], e["equivalent"])]
    return f"{e['diff']:+.4f} [{e['low']:+.4f}, {e['high']:+.4f}] ({state}, TOST p={e['p_tost']:.3f})"


def _reference_k(df: pd.DataFrame) -> int:
    ks = sorted(df.group_size.unique())
    return REFERENCE_K if REFERENCE_K in ks else ks[-1]


def verdict_p4(results: pd.DataFrame) -> dict:
    df = results
    df = df[df.group_size == _reference_k(df)]
    effects = {}
    for loss in sorted(df.loss.unique()):
        part = df[df.loss == loss]
        for hard in HARD:
            diff = _paired(part, "sampler", hard, "random")
            if diff is not None:
                effects[(loss, hard)] = _effect(diff)
    if not any(loss == "lce" for loss, _ in effects) or not any(loss == "kl" for loss, _ in effects):
        return _missing("P4", "needs LCE, KL, the random sampler and a hard sampler with >= 2 seeds")
    lce = [e for (loss, _), e in effects.items() if loss == "lce"]
    kl = [e for (loss, _), e in effects.items() if loss == "kl"]
    lce_changes, kl_equal = any(e["changed"] for e in lce), all(e["equivalent"] for e in kl)
    if lce_changes and kl_equal:
        verdict = "agrees"
    elif all(e["equivalent"] for e in lce) or any(e["changed"] for e in kl):
        verdict = "disagrees"
    else:
        verdict = "inconclusive"
    lines = [f"{loss} {hard} − random: {_fmt(e)}" for (loss, hard), e in effects.items()]
    return {
        "prediction": "P4",
        "synthetic": SYNTHETIC["P4"],
        "verdict": verdict,
        "details": lines,
        "summary": f"LCE changed by a hard sampler: {lce_changes}; KL equivalent to random for every hard sampler: {kl_equal}",
    }


def verdict_p5(results: pd.DataFrame) -> dict:
    df = results
    df = df[df.group_size == _reference_k(df)]
    effects = {}
    for loss in sorted(df.loss.unique()):
        diff = _paired(df[df.loss == loss], "sampler", "teacher+filter", "teacher")
        if diff is not None:
            effects[loss] = _effect(diff)
    if "lce" not in effects or "kl" not in effects:
        return _missing("P5", "needs LCE, KL, the teacher and teacher+filter samplers with >= 2 seeds")
    lce, kl = effects["lce"], effects["kl"]
    if lce["changed"] and lce["diff"] > 0 and kl["equivalent"]:
        verdict = "agrees"
    elif (lce["high"] < 0 or lce["equivalent"]) or (kl["changed"] and kl["diff"] > 0):
        verdict = "disagrees"
    else:
        verdict = "inconclusive"
    lines = [f"{loss} filter − no filter (teacher top-M): {_fmt(e)}" for loss, e in effects.items()]
    return {
        "prediction": "P5",
        "synthetic": SYNTHETIC["P5"],
        "verdict": verdict,
        "details": lines,
        "summary": f"filtering helps LCE: {lce['changed'] and lce['diff'] > 0}; no change under KL (TOST): {kl['equivalent']}",
    }


def verdict_p8(results: pd.DataFrame, kappas: pd.DataFrame) -> dict:
    base = kappas[kappas.eta == 0].sort_values("beta")
    mixed = kappas[kappas.eta > 0].sort_values("beta")
    grows = bool(np.all(np.diff(base.kappa.to_numpy()) > 0))
    eta = float(mixed.eta.iloc[0]) if len(mixed) else float("nan")
    capped = bool(len(mixed) and np.all(mixed.kappa.to_numpy() <= 1 / eta * (1 + 1e-9)))
    lines = [
        f"tempered dense β={b:g}: κ={k:.4g}, with η={eta:g}: κ={km:.4g}"
        for b, k, km in zip(base.beta, base.kappa, mixed.kappa)
    ]
    trained = results[results.group_size == _reference_k(results)]
    for sampler, kap in trained.groupby("sampler").kappa.max().items():
        lines.append(f"trained sampler {sampler}: κ = {kap:.4g}")
    for loss in sorted(trained.loss.unique()):
        diff = _paired(trained[trained.loss == loss], "sampler", "mixture", "bm25")
        if diff is not None:
            lines.append(f"{loss} benefit of η (mixture − bm25 top-M): {_fmt(_effect(diff))}")
    verdict = "agrees" if grows and capped else "disagrees"
    return {
        "prediction": "P8",
        "synthetic": SYNTHETIC["P8"],
        "verdict": verdict,
        "details": lines,
        "summary": f"κ strictly increasing in β: {grows}; mixture κ ≤ 1/η = {1 / eta:g}: {capped} "
        "(the benefit of η is reported, T4's marginal condition is not evaluated here)",
    }


def verdict_p10(results: pd.DataFrame) -> dict:
    rho = results.kl_ndcg_spearman.dropna().to_numpy()
    if len(rho) < 2:
        return _missing("P10", "needs >= 2 models with a defined per-query correlation")
    ci = mean_ci(rho)
    verdict = "agrees" if ci.high < 0 else ("disagrees" if ci.low > 0 else "inconclusive")
    by_loss = results.groupby("loss").kl_ndcg_spearman.mean()
    return {
        "prediction": "P10",
        "synthetic": SYNTHETIC["P10"],
        "verdict": verdict,
        "details": [f"{loss}: mean Spearman {r:+.3f}" for loss, r in by_loss.items()],
        "summary": f"Spearman(KL_q, nDCG@10_q) across test queries, mean over {ci.n} models: "
        f"{ci.mean:+.3f} [{ci.low:+.3f}, {ci.high:+.3f}]; negative for {np.mean(rho < 0):.0%} of models",
    }


def verdict_p11(results: pd.DataFrame) -> dict:
    """Agrees when, paired by seed, ``|effect_LCE| − |effect_KL|`` of the largest vs the smallest group size
    (bm25 top-M negatives) has a 95% CI above 0 (the synthetic P11 rule); disagrees when it lies below 0."""
    df = results[results.sampler == "bm25"]
    ks = sorted(df.group_size.unique())
    if len(ks) < 2 or not {"lce", "kl"} <= set(df.loss):
        return _missing("P11", "needs LCE, KL and the bm25 sampler at >= 2 group sizes")
    effects = {}
    for loss in sorted(df.loss.unique()):
        diff = _paired(df[df.loss == loss], "group_size", ks[-1], ks[0])
        if diff is not None:
            effects[loss] = _effect(diff)
    lce, kl = (_paired(df[df.loss == loss], "group_size", ks[-1], ks[0]) for loss in ("lce", "kl"))
    more = mean_ci(np.abs(lce) - np.abs(kl))
    verdict = "agrees" if more.low > 0 else "disagrees" if more.high < 0 else "inconclusive"
    lines = [f"{loss} k={ks[-1]} − k={ks[0]} (bm25 top-M): {_fmt(e)}" for loss, e in effects.items()]
    return {
        "prediction": "P11",
        "synthetic": SYNTHETIC["P11"],
        "verdict": verdict,
        "details": lines,
        "summary": f"|effect LCE| − |effect KL| = {more.mean:.4f} [{more.low:.4f}, {more.high:.4f}] over seeds "
        f"(|effect| LCE {abs(effects['lce']['diff']):.4f}, KL {abs(effects['kl']['diff']):.4f})",
    }


def _missing(name: str, why: str) -> dict:
    return {"prediction": name, "synthetic": SYNTHETIC[name], "verdict": "not measured", "details": [], "summary": why}


def verdicts(results: pd.DataFrame, kappas: pd.DataFrame) -> list[dict]:
    """The P4, P5, P8, P10 and P11 verdicts on the rows of one student."""
    return [
        verdict_p4(results),
        verdict_p5(results),
        verdict_p8(results, kappas),
        verdict_p10(results),
        verdict_p11(results),
    ]


def confirm_figure(results: pd.DataFrame, baselines: pd.DataFrame, stem: Path) -> list[Path]:
    """nDCG@10 against group size, one panel per loss, one line per sampler, one row per student."""
    students = by_student(results)
    losses = list(dict.fromkeys(results.loss))
    fig, axes = plt.subplots(
        len(students), len(losses), figsize=(3.0 * len(losses), 3.2 * len(students)), sharey=True, squeeze=False
    )
    full = baselines[baselines["mode"] == "full"].set_index("model")["nDCG@10"]
    for row, (student, df) in enumerate(students):
        for ax, loss in zip(axes[row], losses):
            line_panel(ax, df[df.loss == loss], "group_size", "ndcg10", "sampler")
            ax.axhline(full["dense"], color="grey", ls="--", lw=1)
            ax.axhline(full["teacher"], color="black", ls=":", lw=1)
            ax.set_xscale("log", base=2)
            ks = sorted(df.group_size.unique())
            ax.set_xticks(ks, [str(k) for k in ks])
            ax.set_title(f"{loss} ({student} student)", fontsize=9)
            ax.set_xlabel("group size k")
        axes[row, 0].set_ylabel("test nDCG@10 (whole corpus)")
    axes[0, -1].legend(title="sampler", fontsize=7, loc="lower right")
    fig.tight_layout()
    return save(fig, stem, CAPTION)


def render_markdown(out: Path, heading: str = "##") -> str:
    """The report of the run in ``out`` as Markdown (tables and verdicts from its files)."""
    results, kappas, baselines, meta = load_run(out)
    grid, timings = meta["grid"], meta["timings"]
    table = summary_table(results).merge(
        summarise(results, ["student", "group_size", "loss", "sampler"], "ndcg10_rerank"),
        on=["student", "group_size", "loss", "sampler", "n"],
    )
    lines = [
        f"{heading} Real-data confirmation on {Path(meta['data']).name}",
        "",
        f"Generated by `simrank real confirm` from `{Path(out) / 'results.parquet'}` ({meta['n_models']} models, "
        f"simrank {meta['simrank_version']}). Grid: losses {', '.join(grid['losses'])}; samplers "
        f"{', '.join(grid['samplers'])} (top-M with M = {grid['pool_size']}, mixture η = {grid['eta']}); group sizes "
        f"{', '.join(map(str, grid['group_sizes']))}; students {', '.join(grid['students'])}; {grid['seeds']} seeds; "
        f"{grid['n_groups']} training groups, {grid['steps']} Adam steps of batch {grid['batch_size']} at learning rate "
        f"{grid['learning_rate']}; teacher {grid['teacher']} (weights {grid['teacher_weights']}), τ = {grid['tau']}.",
        f"Wall time {timings['total_s']:.0f} s (data {timings['prepare_s']:.0f} s, training and evaluation "
        f"{timings['train_eval_s']:.0f} s) on {meta.get('cpu', 'this machine')}. In-jit measures agree with "
        f"`ir_measures` on the written TREC runs to {timings['max_ir_measures_discrepancy']:.1e}.",
        f"The full grid (`--full`: students {', '.join(GRIDS['full'].students)}, otherwise as the default) trains "
        f"{_n_models(GRIDS['full'])} models; extrapolated from this run's {meta['n_models'] / timings['train_eval_s']:.2f} "
        f"models/s: at least {_n_models(GRIDS['full']) / (meta['n_models'] / timings['train_eval_s']) / 60:.0f} min "
        "(a lower bound: the full and MLP students cost more per step than the diagonal one).",
        "",
        "Students: f(q, x) = α qᵀx + h(q, x), the dense cosine plus a learned correction (α learned from 20, h = 0 "
        "at the start, so every student starts as the dense retriever): `diag` h = qᵀ diag(w) x; `full` h = qᵀ W x "
        "with weight decay; `lowrank` h = qᵀ U Vᵀ x with ‖U Vᵀ‖_F ≤ 1; `mlp` a 2-layer ReLU scorer.",
        "",
        f"{heading}# Baselines (test split, ir_measures)",
        "",
        _markdown_table(baselines.round(4)),
        "",
        f"{heading}# Test nDCG@10 (whole corpus), mean [95% CI] over seeds; TOST groups (margin {EQ_MARGIN}) per "
        "group size; re-ranking nDCG@10 (mean)",
        "",
        _markdown_table(_table_for_markdown(table)),
        "",
        f"{heading}# Predictions: does the real data agree with the synthetic verdict?",
        "",
    ]
    for student, rows in by_student(results):
        lines += [f"{heading}## {student} student", ""]
        for v in verdicts(rows, kappas):
            lines += [f"* **{v['prediction']}** (synthetic: {v['synthetic']}): **{v['verdict']}**. {v['summary']}."]
            lines += [f"  * {d}" for d in v["details"]]
        lines += [""]
    return "\n".join(lines) + "\n"


def _n_models(grid) -> int:
    return len(grid.losses) * len(grid.samplers) * len(grid.group_sizes) * len(grid.students) * grid.seeds


def _table_for_markdown(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "student": table.student,
            "k": table.group_size,
            "loss": table.loss,
            "sampler": table.sampler,
            "nDCG@10": [
                f"{m:.4f} [{lo:.4f}, {hi:.4f}]"
                for m, lo, hi in zip(table.ndcg10_mean, table.ndcg10_low, table.ndcg10_high)
            ],
            "nDCG@10 re-ranking BM25 top-100": [f"{m:.4f}" for m in table.ndcg10_rerank_mean],
            "group": table.group,
            "seeds": table.n,
        }
    )


def _markdown_table(df: pd.DataFrame) -> str:
    header = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "---|" * len(df.columns)
    body = ["| " + " | ".join(map(str, row)) + " |" for row in df.itertuples(index=False)]
    return "\n".join([header, rule, *body])
