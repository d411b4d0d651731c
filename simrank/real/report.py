"""Tables, tests, verdicts, figures and the Markdown report of a ``simrank real confirm`` run, all rendered
from the files the run wrote (``results.parquet``, ``tuning.parquet``, ``baselines.parquet``,
``kappas.parquet``, ``meta.json``): no number is typed by hand.

Statistics (all from :mod:`simrank.stats`):

* a level or a difference between two systems gets a two-way percentile bootstrap interval over test
  queries and seeds (:func:`~simrank.stats.paired_bootstrap`, per-query nDCG@10 of every seed);
* a difference gets a two-sided sign-flip randomisation test over queries (per-query values averaged over
  seeds, :func:`~simrank.stats.paired_randomization_test`); "no change" is the paired TOST over queries
  (:func:`~simrank.stats.tost`) with the margin ``rule.margin``;
* multiplicity: **Holm** (:func:`~simrank.stats.holm`) across *every* difference test of one student
  (one family per student, zero-shot tests included), and separately across its equivalence tests;
  a test is significant when its Holm-adjusted p < ``rule.alpha``.

Learning rule (fixed before the run, :mod:`simrank.real.design`): a (student, arm) cell learns when its
validation nDCG@10 change from the start has a 95% interval above 0 and a mean of at least
``rule.learn_min``; verdicts use learning cells only.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from simrank.figures import line_panel, save
from simrank.real.design import HARD_SAMPLERS
from simrank.stats import holm, mean_ci, paired_bootstrap, randomization_tests, spearman, summarise, tost

__all__ = [
    "SYNTHETIC",
    "agreement",
    "blocks",
    "confirm_figure",
    "curves_figure",
    "learning_cells",
    "load_run",
    "render_markdown",
    "query_tests",
]

SYNTHETIC = {
    "P4": "hard negatives change nDCG@10 under LCE, not under distillation",
    "P5": "false negatives hurt LCE, not distillation; filtering helps LCE only",
    "P8": "κ grows with hardness, mixing caps it",
    "P10": "per-query KL(teacher‖student) correlates negatively with nDCG@10",
    "P11": "group size matters more under LCE with local negatives than under distillation",
}
CAPTION = (
    "Real-data confirm: test nDCG@10 over the whole corpus against the training group size, one panel per "
    "arm (loss and label source), one row per trained student, one line per negative sampler; lines are "
    "means over seeds, bands 95% t-intervals over seeds; dashed grey: the dense retriever every student "
    "starts from, dotted black: the hybrid teacher."
)
CURVES_CAPTION = (
    "Training curves: the training loss (mean over windows of steps, divided by its first window) of every "
    "arm at its chosen learning rate, one panel per student, at the reference group size; mean over the "
    "grid's samplers and seeds."
)


def load_run(out: Path) -> dict:
    """The files of a finished confirm run: results, tuning, baselines, kappas (DataFrames) and meta."""
    out = Path(out)
    run = {name: pd.read_parquet(out / f"{name}.parquet") for name in ("results", "tuning", "baselines", "kappas")}
    return run | {"meta": json.loads((out / "meta.json").read_text())}


def _rule(meta: dict, key: str):
    return meta["config"][key]


def _matrix(rows: pd.DataFrame, column: str = "ndcg10_q") -> np.ndarray:
    """Per-query values of the rows as ``[seeds, queries]`` (rows sorted by seed)."""
    return np.stack(rows.sort_values("seed")[column].to_numpy()).astype(np.float64)


def _baseline(run: dict, model: str, collection: str = "test") -> np.ndarray:
    b = run["baselines"]
    row = b[(b["set"] == collection) & (b["model"] == model) & (b["mode"] == "full")]
    return np.asarray(row["ndcg10_q"].iloc[0], np.float64)


def _pooled(part: pd.DataFrame, column: str) -> np.ndarray:
    """Per-query values of every (sampler, group size) cell of ``part`` side by side: ``[seeds, cells × queries]``."""
    return np.concatenate([_matrix(p, column) for _, p in part.groupby(["sampler", "group_size"])], axis=1)


def learning_cells(run: dict) -> pd.DataFrame:
    """Per (student, arm): chosen learning rate and steps, the change of validation and test nDCG@10 from the
    start (two-way bootstrap over queries and seeds, every sampler and group size pooled), and whether the
    cell learns: the validation change's 95% interval lies above 0 and its mean is at least ``rule.learn_min``."""
    results, meta = run["results"], run["meta"]
    n, learn_min = _rule(meta, "n_resamples"), _rule(meta, "learn_min")
    rows = []
    for (student, arm), part in results.groupby(["student", "arm"], sort=False):
        seeds = part.seed.nunique()
        val = _pooled(part, "val_ndcg10_q")
        start_val = np.tile(
            _baseline(run, f"start:{student}", "val"), val.shape[1] // len(_baseline(run, f"start:{student}", "val"))
        )
        test = _pooled(part, "ndcg10_q")
        start_test = np.tile(
            _baseline(run, f"start:{student}"), test.shape[1] // len(_baseline(run, f"start:{student}"))
        )
        dv = paired_bootstrap(val, np.broadcast_to(start_val, val.shape), n_boot=n)
        dt = paired_bootstrap(test, np.broadcast_to(start_test, test.shape), n_boot=n)
        rows.append(
            {
                "student": student,
                "arm": arm,
                "loss": part.loss.iloc[0],
                "label_source": part.label_source.iloc[0],
                "learning_rate": part.learning_rate.iloc[0],
                "steps": part.steps.iloc[0],
                "seeds": seeds,
                "d_val": dv.mean,
                "d_val_low": dv.low,
                "d_val_high": dv.high,
                "d_test": dt.mean,
                "d_test_low": dt.low,
                "d_test_high": dt.high,
                "learns": bool(dv.low > 0 and dv.mean >= learn_min),
            }
        )
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- the tests of one student


def _diff_test(name: str, family: str, a: np.ndarray, b: np.ndarray, n: tuple[int, int]) -> dict:
    """Bootstrap CI (``n[0]`` replicates) and randomisation p (``n[1]`` sign flips) of ``mean(a − b)``;
    ``b`` may be a per-query baseline vector."""
    b = np.broadcast_to(b, a.shape)
    ci = paired_bootstrap(a, b, n_boot=n[0])
    return {
        "family": family,
        "comparison": name,
        "diff": ci.mean,
        "low": ci.low,
        "high": ci.high,
        "per_query_diff": (a - b).mean(axis=0),  # for the batched randomisation test
        "seeds": ci.n_seeds,
        "queries": ci.n_queries,
    }


def _cell(rows: pd.DataFrame, arm: str, sampler: str, k: int) -> pd.DataFrame:
    return rows[(rows.arm == arm) & (rows.sampler == sampler) & (rows.group_size == k)]


def query_tests(run: dict, student: str) -> pd.DataFrame:
    """Every difference test of ``student`` at the reference group size (plus P11's group-size contrast),
    with Holm-adjusted p-values across all of them, and TOST p-values (Holm across the TOSTs)."""
    meta, rows = run["meta"], run["results"]
    rows = rows[rows.student == student]
    cfg = meta["config"]
    n, margin = (cfg["n_resamples"], cfg["n_permutations"]), cfg["margin"]
    k = max(cfg["group_sizes"])
    arms = list(dict.fromkeys(rows.arm))
    samplers = list(dict.fromkeys(rows.sampler))
    start, teacher = _baseline(run, f"start:{student}"), _baseline(run, "teacher")
    primary_lce = "lce" if "lce" in arms else None
    tests, equivalences = [], []

    def add(name, family, a, b, equivalence=False):
        tests.append(_diff_test(name, family, a, b, n) | {"student": student})
        if equivalence:
            t = tost(a.mean(0), np.broadcast_to(b, a.shape).mean(0), margin, paired=True)
            equivalences.append((len(tests) - 1, t.p))

    for arm in arms:
        for sampler in samplers:
            a = _matrix(_cell(rows, arm, sampler, k))
            add(f"{arm} {sampler} − start", "movement", a, start)
            add(f"{arm} {sampler} − teacher model", "vs teacher", a, teacher)
            if primary_lce and arm not in (primary_lce, "lce_gold"):
                add(
                    f"{arm} − lce {sampler}",
                    "loss vs LCE (teacher labels)",
                    a,
                    _matrix(_cell(rows, primary_lce, sampler, k)),
                )
            if arm == "lce_gold" and primary_lce:
                add(
                    f"lce_gold − lce {sampler}",
                    "gold vs teacher labels",
                    a,
                    _matrix(_cell(rows, primary_lce, sampler, k)),
                )
        if "random" in samplers:
            for hard in (s for s in samplers if s in HARD_SAMPLERS):
                a, b = _matrix(_cell(rows, arm, hard, k)), _matrix(_cell(rows, arm, "random", k))
                add(f"{arm} {hard} − random", "P4 hard negatives", a, b, equivalence=True)
        if {"teacher", "teacher+filter"} <= set(samplers):
            a, b = _matrix(_cell(rows, arm, "teacher+filter", k)), _matrix(_cell(rows, arm, "teacher", k))
            add(f"{arm} teacher+filter − teacher (filter gain)", "P5 false-negative filter", a, b, equivalence=True)
        if {"mixture", "bm25"} <= set(samplers):
            a, b = _matrix(_cell(rows, arm, "mixture", k)), _matrix(_cell(rows, arm, "bm25", k))
            add(f"{arm} mixture − bm25", "P8 benefit of η", a, b)
        for z in _zero_shot_names(meta):
            for sampler in samplers:
                a = _matrix(_cell(rows, arm, sampler, k), f"{z}_ndcg10_q")
                add(f"{arm} {sampler} − dense on {z[3:]}", "zero-shot vs dense", a, _baseline(run, "dense", z))
    d = _p11_matrix(rows)
    if d is not None:
        tests.append(_diff_test(d[0], "P11 group size", d[1], np.zeros_like(d[1]), n) | {"student": student})
        t = tost(d[1].mean(0), np.zeros(d[1].shape[1]), margin, paired=True)
        equivalences.append((len(tests) - 1, t.p))
    table = pd.DataFrame(tests)
    table["p"] = np.nan
    for _, part in table.groupby(table.per_query_diff.map(len)):  # one batched test per query count
        table.loc[part.index, "p"] = randomization_tests(np.stack(part.per_query_diff.to_numpy()), n[1])
    table = table.drop(columns="per_query_diff")
    table["p_holm"] = holm(table.p.to_numpy())
    table["p_tost"] = np.nan
    idx = [i for i, _ in equivalences]
    table.loc[idx, "p_tost"] = [p for _, p in equivalences]
    table["p_tost_holm"] = np.nan
    table.loc[idx, "p_tost_holm"] = holm(np.array([p for _, p in equivalences]))
    alpha = cfg["alpha"]
    table["significant"] = table.p_holm < alpha
    table["equivalent"] = table.p_tost_holm < alpha
    return table


def _zero_shot_names(meta: dict) -> list[str]:
    return list(meta.get("zero_shot", {}))


def _p11_matrix(rows: pd.DataFrame) -> tuple[str, np.ndarray] | None:
    """``D[s, q] = sign(ē_LCE) e_LCE − sign(ē_KL) e_KL`` with ``e = nDCG@10_q(k_max) − nDCG@10_q(k_min)`` under
    bm25 top-M negatives (the synthetic P11 statistic, per seed and query)."""
    ks = sorted(rows.group_size.unique())
    if len(ks) < 2 or not {"lce", "kl"} <= set(rows.arm) or "bm25" not in set(rows.sampler):
        return None
    e = {
        arm: _matrix(_cell(rows, arm, "bm25", ks[-1])) - _matrix(_cell(rows, arm, "bm25", ks[0]))
        for arm in ("lce", "kl")
    }
    d = np.sign(e["lce"].mean()) * e["lce"] - np.sign(e["kl"].mean()) * e["kl"]
    return f"|e_lce| − |e_kl| (bm25, k={ks[-1]} − k={ks[0]})", d


# ----------------------------------------------------------------------------- real-data rules, per prediction
# Each rule maps the tests of one student to supported / refuted / inconclusive.  They mirror the synthetic
# rules of simrank.predictions (analyse_p4, analyse_p5, analyse_p8, analyse_p10, analyse_p11); when the shared
# three-outcome rules land in simrank/predictions/, each function below should call its rule with the
# query-level tests instead of restating it.


def _rows(tests: pd.DataFrame, family: str, arm: str) -> pd.DataFrame:
    return tests[(tests.family == family) & tests.comparison.str.startswith(f"{arm} ")]


def _not_learning(learns: dict, arms: tuple[str, ...]) -> str | None:
    missing = [a for a in arms if a not in learns]
    if missing:
        return f"arm(s) {', '.join(missing)} not in the grid"
    still = [a for a in arms if not learns[a]]
    return f"{', '.join(still)} does not learn (validation gain not above 0 or below learn_min)" if still else None


def real_p4(tests: pd.DataFrame, learns: dict) -> tuple[str, str]:
    """supported: some LCE hard − random difference is significant and every KL one is TOST-equivalent to 0;
    refuted: every LCE one is equivalent to 0, or some KL one is significant; inconclusive otherwise."""
    if why := _not_learning(learns, ("lce", "kl")):
        return "inconclusive", why
    lce, kl = _rows(tests, "P4 hard negatives", "lce"), _rows(tests, "P4 hard negatives", "kl")
    if lce.empty or kl.empty:
        return "inconclusive", "needs the random sampler and a hard sampler"
    lce_changes, kl_same = bool(lce.significant.any()), bool(kl.equivalent.all())
    outcome = (
        "supported"
        if lce_changes and kl_same
        else "refuted"
        if lce.equivalent.all() or kl.significant.any()
        else "inconclusive"
    )
    return (
        outcome,
        f"LCE changed by a hard sampler: {lce_changes}; KL equivalent to random for every hard sampler: {kl_same}",
    )


def real_p5(tests: pd.DataFrame, learns: dict) -> tuple[str, str]:
    """supported: the filter's gain under LCE is significantly > 0 and under KL TOST-equivalent to 0;
    refuted: LCE's gain is significantly < 0 or equivalent to 0, or KL's is significant; inconclusive otherwise."""
    if why := _not_learning(learns, ("lce", "kl")):
        return "inconclusive", why
    lce, kl = _rows(tests, "P5 false-negative filter", "lce"), _rows(tests, "P5 false-negative filter", "kl")
    if lce.empty or kl.empty:
        return "inconclusive", "needs the teacher and teacher+filter samplers"
    lce, kl = lce.iloc[0], kl.iloc[0]
    helps = bool(lce.significant and lce["diff"] > 0)
    if helps and kl.equivalent:
        outcome = "supported"
    elif (lce.significant and lce["diff"] < 0) or lce.equivalent or kl.significant:
        outcome = "refuted"
    else:
        outcome = "inconclusive"
    return outcome, f"filter helps LCE: {helps}; no change under KL (TOST): {bool(kl.equivalent)}"


def real_p8(kappas: pd.DataFrame) -> tuple[str, str]:
    """supported: κ strictly increases with the hardness β and every η-mixture has κ ≤ 1/η; refuted otherwise."""
    base = kappas[kappas.eta == 0].sort_values("beta")
    mixed = kappas[kappas.eta > 0].sort_values("beta")
    grows = bool(np.all(np.diff(base.kappa.to_numpy()) > 0))
    eta = float(mixed.eta.iloc[0]) if len(mixed) else float("nan")
    capped = bool(len(mixed) and np.all(mixed.kappa.to_numpy() <= 1 / eta * (1 + 1e-9)))
    return (
        "supported" if grows and capped else "refuted"
    ), f"κ increasing in β: {grows}; mixture κ ≤ 1/η = {1 / eta:g}: {capped}"


def real_p10(results: pd.DataFrame, learns: dict) -> tuple[str, str]:
    """Per-model Spearman ρ(KL_q, nDCG@10_q) over test queries, learning arms only: supported when the mean's
    95% t-interval over models and that of every learning arm lie below 0; refuted when the overall interval
    lies above 0; inconclusive otherwise."""
    arms = [a for a, ok in learns.items() if ok]
    rho = results[results.arm.isin(arms)].dropna(subset=["kl_ndcg_spearman"])
    if len(rho) < 2:
        return "inconclusive", "no learning arm with a defined per-query correlation"
    overall = mean_ci(rho.kl_ndcg_spearman.to_numpy())
    per_arm = {a: mean_ci(p.kl_ndcg_spearman.to_numpy()) for a, p in rho.groupby("arm") if len(p) > 1}
    below = [a for a, r in per_arm.items() if r.high < 0]
    if overall.high < 0 and len(below) == len(per_arm):
        outcome = "supported"
    elif overall.low > 0:
        outcome = "refuted"
    else:
        outcome = "inconclusive"
    return (
        outcome,
        f"mean ρ over {overall.n} models {_ci(overall.mean, overall.low, overall.high)}; below 0 for {', '.join(below) or 'no arm'}",
    )


def real_p11(tests: pd.DataFrame, learns: dict) -> tuple[str, str]:
    """supported: D = |e_LCE| − |e_KL| is significantly > 0; refuted: significantly < 0 or TOST-equivalent to 0;
    inconclusive otherwise."""
    if why := _not_learning(learns, ("lce", "kl")):
        return "inconclusive", why
    d = tests[tests.family == "P11 group size"]
    if d.empty:
        return "inconclusive", "needs lce, kl and the bm25 sampler at two group sizes"
    d = d.iloc[0]
    if d.significant and d["diff"] > 0:
        outcome = "supported"
    elif (d.significant and d["diff"] < 0) or d.equivalent:
        outcome = "refuted"
    else:
        outcome = "inconclusive"
    return outcome, f"D = {_ci(d['diff'], d.low, d.high)} (Holm p = {d.p_holm:.3g})"


def synthetic_verdicts(keys: tuple[str, ...] = tuple(SYNTHETIC)) -> dict[str, str]:
    """The synthetic paper's verdict of each prediction, from the committed results (``results/paper``)."""
    from simrank.paths import RESULTS_DIR
    from simrank.predictions.base import load_results
    from simrank.predictions.paper import PREDICTIONS, registered_verdict

    out = {}
    for key in keys:
        p = PREDICTIONS[key]
        try:
            out[key] = registered_verdict(p, {name: load_results(name, RESULTS_DIR) for name in p.experiments}).outcome
        except FileNotFoundError:
            out[key] = "not available"
    return out


def agreement(run: dict, student: str, tests: pd.DataFrame) -> pd.DataFrame:
    """The agreement table of one student: prediction, synthetic claim and verdict, real outcome, numbers."""
    cells = learning_cells(run)
    learns = dict(cells[cells.student == student][["arm", "learns"]].values)
    rows = run["results"][run["results"].student == student]
    outcomes = {
        "P4": real_p4(tests, learns),
        "P5": real_p5(tests, learns),
        "P8": real_p8(run["kappas"]),
        "P10": real_p10(rows, learns),
        "P11": real_p11(tests, learns),
    }
    synthetic = synthetic_verdicts(tuple(outcomes))
    return pd.DataFrame(
        [
            {"prediction": k, "claim": SYNTHETIC[k], "synthetic": synthetic[k], "real": o, "why": why}
            for k, (o, why) in outcomes.items()
        ]
    )


# ----------------------------------------------------------------------------- figures


def confirm_figure(results: pd.DataFrame, baselines: pd.DataFrame, stem: Path) -> list[Path]:
    """nDCG@10 against group size, one panel per arm, one line per sampler, one row per student."""
    students = list(dict.fromkeys(results.student))
    arms = list(dict.fromkeys(results.arm))
    fig, axes = plt.subplots(
        len(students), len(arms), figsize=(2.8 * len(arms), 3.0 * len(students)), sharey=True, squeeze=False
    )
    full = baselines[(baselines["set"] == "test") & (baselines["mode"] == "full")].set_index("model")["nDCG@10"]
    for row, student in enumerate(students):
        df = results[results.student == student]
        for ax, arm in zip(axes[row], arms):
            line_panel(ax, df[df.arm == arm], "group_size", "ndcg10", "sampler")
            ax.axhline(full["dense"], color="grey", ls="--", lw=1)
            ax.axhline(full["teacher"], color="black", ls=":", lw=1)
            ks = sorted(df.group_size.unique())
            ax.set_xscale("log", base=2)
            ax.set_xticks(ks, [str(k) for k in ks])
            ax.set_title(f"{arm} ({student})", fontsize=9)
            ax.set_xlabel("group size k")
        axes[row, 0].set_ylabel("test nDCG@10 (whole corpus)")
    axes[0, -1].legend(title="sampler", fontsize=6, loc="lower right")
    fig.tight_layout()
    return save(fig, stem, CAPTION)


def curves_figure(results: pd.DataFrame, stem: Path) -> list[Path]:
    """Relative training loss against training progress, one line per arm, one panel per student."""
    students = list(dict.fromkeys(results.student))
    fig, axes = plt.subplots(1, len(students), figsize=(4.2 * len(students), 3.2), squeeze=False)
    k = results.group_size.max()
    for ax, student in zip(axes[0], students):
        df = results[(results.student == student) & (results.group_size == k)]
        for arm, part in df.groupby("arm", sort=False):
            curves = np.stack(part.curve.to_numpy())
            rel = (curves / curves[:, :1]).mean(axis=0)
            steps = int(part.steps.iloc[0])
            ax.plot(
                np.linspace(steps / len(rel), steps, len(rel)),
                rel,
                marker=".",
                label=f"{arm} (lr {part.learning_rate.iloc[0]:g})",
            )
        ax.set_xlabel("training step")
        ax.set_ylabel("training loss / first window")
        ax.set_title(f"{student} student, k = {k}", fontsize=9)
        ax.legend(fontsize=6)
    fig.tight_layout()
    return save(fig, stem, CURVES_CAPTION)


# ----------------------------------------------------------------------------- Markdown


def _ci(m: float, lo: float, hi: float, digits: int = 4) -> str:
    return f"{m:+.{digits}f} [{lo:+.{digits}f}, {hi:+.{digits}f}]"


def _level(m: float, lo: float, hi: float) -> str:
    return f"{m:.4f} [{lo:.4f}, {hi:.4f}]"


def _markdown_table(df: pd.DataFrame) -> str:
    header = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "---|" * len(df.columns)
    body = ["| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([header, rule, *body]) + "\n"


def _level_ci(values: np.ndarray, n: int) -> str:
    ci = paired_bootstrap(values, np.zeros_like(values), n_boot=n)
    return _level(ci.mean, ci.low, ci.high)


def _setup(run: dict) -> str:
    meta, cfg = run["meta"], run["meta"]["config"]
    t = meta["timings"]
    q = meta["queries"]
    arms = ", ".join(f"`{a['name']}` ({a['loss']}, labels {a['label_source']})" for a in meta["arms"])
    zs = "; ".join(
        f"{name[3:]} ({v['queries']} queries, {v['docs']} documents)" for name, v in meta["zero_shot"].items()
    )
    return (
        f"Generated by `simrank real confirm` on `{Path(meta['data']).name}` ({meta['n_models']} grid models and "
        f"{meta['n_tuning_models']} tuning models, simrank {meta['simrank_version']}). Arms: {arms}. Primary arms "
        f"train on {sum(q.get(s, 0) for s in ('train', 'unlabeled', 'titles'))} teacher-labelled queries "
        f"({', '.join(f'{s} {q[s]}' for s in ('train', 'unlabeled', 'titles') if s in q)}); `lce_gold` on the "
        f"{q.get('train', 0)} train queries with their gold qrels; {q['validation']} train-qrels queries are held "
        f"out for validation; {q['test']} test queries are used for measurement only. Samplers "
        f"{', '.join(cfg['samplers'])} (top-M with M = {cfg['pool_size']}, mixture η = {cfg['eta']}, filter margin "
        f"{cfg['filter_margin']}); group sizes {', '.join(map(str, cfg['group_sizes']))}; students "
        f"{', '.join(cfg['students'])}; {cfg['seeds']} seeds; {cfg['n_groups']} training groups, AdamW batch "
        f"{cfg['batch_size']}, weight decay {cfg['weight_decay']}; teacher {cfg['teacher']} (weights "
        f"{cfg['teacher_weights']}), τ = {cfg['tau']}. Zero-shot: {zs or 'none'}.\n\n"
        f"Wall time {t['total_s']:.0f} s (data {t['prepare_s']:.0f} s, learning-rate search {t['tune_s']:.0f} s, "
        f"grid {t['train_eval_s']:.0f} s) on {meta.get('cpu') or 'this machine'}, 1-min load average "
        f"{t.get('load_average_start', float('nan')):.1f} at the start and {t.get('load_average_end', float('nan')):.1f} "
        "at the end. In-jit measures agree with "
        f"`ir_measures` to {t['max_ir_measures_discrepancy']:.1e}.\n"
    )


def _maybe(x: float) -> str:
    return "–" if np.isnan(x) else f"{x:.4f}"


def _baselines_block(run: dict) -> str:
    b = run["baselines"]
    n = _rule(run["meta"], "n_resamples")
    rows = []
    for (collection, model, mode), part in b.groupby(["set", "model", "mode"], sort=False):
        rows.append(
            {
                "set": collection,
                "model": model,
                "mode": mode,
                "nDCG@10 [95% CI over queries]": _level_ci(np.asarray(part.ndcg10_q.iloc[0], np.float64), n),
                "RR@10": _maybe(part["RR@10"].iloc[0]),
                "R@100": _maybe(part["R@100"].iloc[0]),
            }
        )
    return _markdown_table(pd.DataFrame(rows))


def _tuning_block(run: dict) -> str:
    t = run["tuning"]
    mean = t.groupby(["student", "arm", "learning_rate", "steps"], sort=False).val_ndcg10.mean().reset_index()
    chosen = {(c["student"], c["arm"]): (c["learning_rate"], c["steps"]) for c in run["meta"]["chosen"]}
    mean["cell"] = [
        f"{v:.4f}{' ◀' if chosen.get((s, a)) == (lr, st) else ''}"
        for s, a, lr, st, v in zip(mean.student, mean.arm, mean.learning_rate, mean.steps, mean.val_ndcg10)
    ]
    mean["column"] = [f"lr {lr:g}, {st} steps" for lr, st in zip(mean.learning_rate, mean.steps)]
    parts = []
    for student, part in mean.groupby("student", sort=False):
        wide = part.pivot(index="arm", columns="column", values="cell").reindex(list(dict.fromkeys(part.arm)))
        wide = wide[list(dict.fromkeys(part.column))]
        start = t[t.student == student].val_start.iloc[0]
        parts.append(
            f"**{student}** (start {start:.4f}{'; demoted: no arm moves validation nDCG@10 by the rule' if student in run['meta']['demoted'] else ''}):\n\n"
            + _markdown_table(wide.reset_index())
        )
    return "\n".join(parts)


def _movement_block(run: dict) -> str:
    results, meta = run["results"], run["meta"]
    zs = _zero_shot_names(meta)
    rows = []
    for c in learning_cells(run).itertuples():
        part = results[(results.student == c.student) & (results.arm == c.arm)]
        row = {
            "student": c.student,
            "arm": c.arm,
            "labels": c.label_source,
            "lr": f"{c.learning_rate:g}",
            "steps": c.steps,
            "Δ validation [CI]": _ci(c.d_val, c.d_val_low, c.d_val_high),
            "Δ test [CI]": _ci(c.d_test, c.d_test_low, c.d_test_high),
        }
        for z in zs:
            row[f"Δ {z[3:]}"] = f"{part[f'd_{z}'].mean():+.4f}"
        row["learns"] = "yes" if c.learns else "no"
        rows.append(row)
    return _markdown_table(pd.DataFrame(rows))


def _primary_block(run: dict, tests: dict[str, pd.DataFrame]) -> str:
    results, meta = run["results"], run["meta"]
    n = _rule(meta, "n_resamples")
    k = max(meta["config"]["group_sizes"])
    rows = []
    for student, t in tests.items():
        df = results[(results.student == student) & (results.group_size == k)]
        by_name = t.set_index("comparison")
        for (arm, sampler), part in df.groupby(["arm", "sampler"], sort=False):
            mat = _matrix(part)
            vs = by_name.loc[f"{arm} − lce {sampler}"] if f"{arm} − lce {sampler}" in by_name.index else None
            if arm == "lce_gold":
                vs = by_name.loc[f"lce_gold − lce {sampler}"] if f"lce_gold − lce {sampler}" in by_name.index else None
            teach = by_name.loc[f"{arm} {sampler} − teacher model"]
            rows.append(
                {
                    "student": student,
                    "arm": arm,
                    "sampler": sampler,
                    "test nDCG@10 [CI]": _level_ci(mat, n),
                    "re-rank": f"{part.ndcg10_rerank.mean():.4f}",
                    "− lce (teacher labels)": ""
                    if vs is None
                    else f"{_ci(vs['diff'], vs.low, vs.high)} p̃={vs.p_holm:.2g}",
                    "− teacher": f"{_ci(teach['diff'], teach.low, teach.high)} p̃={teach.p_holm:.2g}",
                }
            )
    return _markdown_table(pd.DataFrame(rows))


def _tests_summary(tests: dict[str, pd.DataFrame]) -> str:
    rows = []
    for student, t in tests.items():
        for family, part in t.groupby("family", sort=False):
            rows.append(
                {
                    "student": student,
                    "family": family,
                    "tests": len(part),
                    "significant (Holm)": int(part.significant.sum()),
                    "of which > 0": int((part.significant & (part["diff"] > 0)).sum()),
                    "equivalent (TOST, Holm)": int(part.equivalent.sum()) if part.p_tost.notna().any() else "",
                }
            )
    return _markdown_table(pd.DataFrame(rows))


def _tests_detail(tests: dict[str, pd.DataFrame], families: tuple[str, ...]) -> str:
    t = pd.concat(tests.values())
    t = t[t.family.isin(families)]
    shown = pd.DataFrame(
        {
            "student": t.student,
            "comparison": t.comparison,
            "Δ nDCG@10 [CI]": [_ci(m, lo, hi) for m, lo, hi in zip(t["diff"], t.low, t.high)],
            "p": [f"{p:.2g}" for p in t.p],
            "p Holm": [f"{p:.2g}" for p in t.p_holm],
            "TOST p Holm": ["" if np.isnan(p) else f"{p:.2g}" for p in t.p_tost_holm],
        }
    )
    return _markdown_table(shown)


def _agreement_block(run: dict, tests: dict[str, pd.DataFrame]) -> str:
    tables = []
    for student, t in tests.items():
        a = agreement(run, student, t).assign(student=student)
        tables.append(a[["prediction", "student", "claim", "synthetic", "real", "why"]])
    return _markdown_table(pd.concat(tables))


def _zero_shot_block(run: dict, tests: dict[str, pd.DataFrame]) -> str:
    results, meta = run["results"], run["meta"]
    n = _rule(meta, "n_resamples")
    k = max(meta["config"]["group_sizes"])
    out = []
    for z in _zero_shot_names(meta):
        base = {m: _level_ci(_baseline(run, m, z), n) for m in ("dense", "bm25", "teacher")}
        rows = [
            {"model": f"{m} (baseline)", "sampler": "", f"nDCG@10 on {z[3:]} [CI]": v, "− dense [CI], Holm p": ""}
            for m, v in base.items()
        ]
        for student, t in tests.items():
            by_name = t.set_index("comparison")
            df = results[(results.student == student) & (results.group_size == k)]
            for (arm, sampler), part in df.groupby(["arm", "sampler"], sort=False):
                test = by_name.loc[f"{arm} {sampler} − dense on {z[3:]}"]
                rows.append(
                    {
                        "model": f"{student} {arm}",
                        "sampler": sampler,
                        f"nDCG@10 on {z[3:]} [CI]": _level_ci(_matrix(part, f"{z}_ndcg10_q"), n),
                        "− dense [CI], Holm p": f"{_ci(test['diff'], test.low, test.high)} p̃={test.p_holm:.2g}",
                    }
                )
        out.append(_markdown_table(pd.DataFrame(rows)))
    return "\n".join(out) if out else "No zero-shot collection (`--eval-data`) in this run.\n"


def _order(means: pd.Series) -> str:
    return " > ".join(means.sort_values(ascending=False).index)


def _transfer_block(run: dict) -> str:
    results, meta = run["results"], run["meta"]
    k = max(meta["config"]["group_sizes"])
    lines = []
    for z in _zero_shot_names(meta):
        for student, df in results[results.group_size == k].groupby("student", sort=False):
            for axis in ("arm", "sampler"):
                means = df.groupby(axis, sort=False)[["ndcg10", f"{z}_ndcg10"]].mean()
                rho = spearman(means["ndcg10"], means[f"{z}_ndcg10"]) if len(means) >= 3 else None
                lines.append(
                    f"* {student}, {axis}s (means over the other axis and seeds, k = {k}): SciFact test "
                    f"{_order(means['ndcg10'])}; {z[3:]} {_order(means[f'{z}_ndcg10'])}; Spearman ρ = "
                    + (
                        f"{rho.r:+.2f} (p = {rho.p:.2g}, {rho.n} levels)"
                        if rho is not None and not np.isnan(rho.r)
                        else "n/a"
                    )
                )
    return "\n".join(lines) + "\n" if lines else "No zero-shot collection in this run.\n"


def blocks(out: Path) -> dict[str, str]:
    """Every generated block of the report (and of ``paper/real.md``) from the run in ``out``."""
    run = load_run(out)
    students = list(dict.fromkeys(run["results"].student))
    tests = {s: query_tests(run, s) for s in students}
    return {
        "real-setup": _setup(run),
        "real-baselines": _baselines_block(run),
        "real-tuning": _tuning_block(run),
        "real-movement": _movement_block(run),
        "real-primary": _primary_block(run, tests),
        "real-tests": _tests_summary(tests),
        "real-predictions": _tests_detail(
            tests,
            (
                "P4 hard negatives",
                "P5 false-negative filter",
                "P8 benefit of η",
                "P11 group size",
                "gold vs teacher labels",
            ),
        ),
        "real-agreement": _agreement_block(run, tests),
        "real-zeroshot": _zero_shot_block(run, tests),
        "real-transfer": _transfer_block(run),
    }


SECTIONS = (
    ("real-setup", "Setup"),
    ("real-baselines", "Baselines (ir_measures; intervals: bootstrap over queries)"),
    ("real-tuning", "Learning-rate and step search (validation nDCG@10, mean over tuning seeds; ◀ chosen)"),
    ("real-movement", "Movement from the start and the learning rule"),
    (
        "real-primary",
        "Test nDCG@10 at the reference group size (CI: two-way bootstrap over queries and seeds; p̃: Holm)",
    ),
    ("real-tests", "Tests per family (Holm across every test of a student)"),
    ("real-predictions", "The tests behind the predictions"),
    ("real-agreement", "Agreement: synthetic verdict vs real outcome"),
    ("real-zeroshot", "Zero-shot"),
    ("real-transfer", "Does the SciFact ordering transfer?"),
)


def render_markdown(out: Path, heading: str = "##", generated: dict[str, str] | None = None) -> str:
    """The full report of the run in ``out`` as Markdown (every block of ``generated``, default
    :func:`blocks`, with headings)."""
    b = generated if generated is not None else blocks(out)
    lines = [f"{heading} Real-data confirmation", ""]
    for name, title in SECTIONS:
        lines += [f"{heading}# {title}", "", b[name]]
    return "\n".join(lines)


def summary_table(results: pd.DataFrame, value: str = "ndcg10") -> pd.DataFrame:
    """Mean and 95% t-interval over seeds of ``value`` per student × arm × sampler × group size."""
    return summarise(results, ["student", "arm", "sampler", "group_size"], value)
