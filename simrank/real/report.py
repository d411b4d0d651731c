"""Tables, tests, verdicts, figures and the Markdown report of a ``simrank real confirm`` run, all rendered
from the files the run wrote (``results.parquet``, ``tuning.parquet``, ``baselines.parquet``,
``kappas.parquet``, ``meta.json``): no number is typed by hand.

Statistics (all from :mod:`simrank.stats`):

* a level or a difference between two systems gets a two-way percentile bootstrap interval over test
  queries and seeds (:func:`~simrank.stats.paired_bootstrap`, per-query nDCG@10 of every seed);
* every interval resamples queries and seeds, never cells that share queries: a (student, arm) summary over the
  grid's sampler × group-size cells first averages the cells of a seed per query (:func:`query_matrix`);
* a descriptive difference (:func:`query_tests`) gets a two-sided sign-flip randomisation test over queries
  (per-query values averaged over seeds, :func:`~simrank.stats.paired_randomization_test`), with **Holm**
  (:func:`~simrank.stats.holm`) within one family per question (:data:`FAMILIES`, per student): a test is
  significant when its Holm-adjusted p < ``rule.alpha``;
* the predictions P4, P5, P8, P10, P11 are decided by the synthetic rules themselves
  (``simrank.predictions.pNN.decide``, :func:`real_verdicts`) on Effects whose intervals are two-way bootstrap
  intervals at the synthetic level ``1 − 2α`` (:func:`query_effect`), with the design's ``margin`` as SESOI.

Learning rule (fixed before the run, :mod:`simrank.real.design`): a (student, arm) cell learns when its
validation nDCG@10 change from the start has a 95% interval above 0 and a mean of at least
``rule.learn_min``; verdicts use learning cells only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from simrank.figures import line_panel, save
from simrank.measures import ir_name
from simrank.predictions import p04, p05, p08, p10, p11
from simrank.predictions.base import UNTESTED, Decision, Effect, effect_of, fmt_effect
from simrank.real.design import HARD_SAMPLERS
from simrank.stats import holm, paired_bootstrap, randomization_tests, spearman, summarise

__all__ = [
    "FAMILIES",
    "SYNTHETIC",
    "RealVerdict",
    "agreement",
    "blocks",
    "confirm_figure",
    "per_query_table",
    "zero_shot_query_ids",
    "redraw",
    "curves_figure",
    "learning_cells",
    "load_run",
    "query_effect",
    "query_matrix",
    "query_tests",
    "real_p4",
    "real_p5",
    "real_p8",
    "real_p10",
    "real_p11",
    "real_verdicts",
    "render_markdown",
    "seen_split",
]

SYNTHETIC = {
    "P4": "hard negatives change nDCG@10 under LCE, not under distillation",
    "P5": "false negatives hurt LCE, not distillation; filtering helps LCE only",
    "P8": "κ grows with hardness, mixing caps it",
    "P10": "per-query KL(teacher‖student) correlates negatively with nDCG@10",
    "P11": "group size matters more under LCE with local negatives than under distillation",
}
CAPTION = (
    "Real-data confirm: test nDCG@10 (exponential gain 2^g − 1, the ndcg10 column) over the whole corpus "
    "against the training group size k, one panel per trained student × arm (loss and label source), one line "
    "per negative sampler; lines are "
    "means over seeds, bands 95% t-intervals over seeds; dashed grey: the dense retriever every student "
    "starts from, dotted black: the hybrid teacher."
)
CURVES_CAPTION = (
    "Training curves: the training loss (mean over windows of steps, divided by its first window) of every "
    "arm at its chosen learning rate, one panel per student, at the reference group size; mean over the "
    "grid's samplers and seeds."
)


def load_run(out: Path) -> dict:
    """The files of a finished confirm run: results, tuning, baselines, kappas, queries (DataFrames) and meta."""
    out = Path(out)
    tables = ("results", "tuning", "baselines", "kappas", "queries")
    run = {name: pd.read_parquet(out / f"{name}.parquet") for name in tables}
    return run | {"meta": json.loads((out / "meta.json").read_text())}


def seen_split(run: dict, collection: str = "test") -> dict[str, np.ndarray]:
    """Boolean masks over the per-query order of ``collection`` (``test`` or ``val``): ``seen``, the queries with a
    relevant document that is also relevant to a training query (``queries.parquet``, :mod:`simrank.real.memorisation`),
    and ``unseen``, the others."""
    q = run["queries"]
    seen = q[q["set"] == collection].seen.to_numpy(bool)
    return {"seen": seen, "unseen": ~seen}


def _split_levels(run: dict, values: np.ndarray, collection: str = "test") -> dict[str, str]:
    """``{"seen (n)": level [CI], "unseen (n)": ...}`` of per-query ``values`` (``[queries]`` or ``[seeds, queries]``)."""
    n = _rule(run["meta"], "n_resamples")
    return {
        f"{label} (n = {mask.sum()})": _level_ci(values[..., mask], n) if mask.sum() >= 2 else "–"
        for label, mask in seen_split(run, collection).items()
    }


def _rule(meta: dict, key: str):
    return meta["config"][key]


def _matrix(rows: pd.DataFrame, column: str = "ndcg10_q") -> np.ndarray:
    """Per-query values of the rows as ``[seeds, queries]`` (rows sorted by seed)."""
    return np.stack(rows.sort_values("seed")[column].to_numpy()).astype(np.float64)


def _baseline(run: dict, model: str, collection: str = "test") -> np.ndarray:
    b = run["baselines"]
    row = b[(b["set"] == collection) & (b["model"] == model) & (b["mode"] == "full")]
    return np.asarray(row["ndcg10_q"].iloc[0], np.float64)


def query_matrix(part: pd.DataFrame, column: str = "ndcg10_q") -> np.ndarray:
    """Per-query values of ``part`` as ``[seeds, queries]``, every (sampler, group size) cell of a seed averaged per
    query: ``v[s, i] = mean_c v_c[s, i]``.

    The cells of one seed are evaluated on the same queries, so they are not independent units: an interval over
    ``v`` resamples queries and seeds (:func:`~simrank.stats.paired_bootstrap`), never cells, and presenting the
    same data as more cells (a cell duplicated) cannot narrow it.

    Args:
      part: result rows (one per seed and cell) whose ``column`` holds each model's per-query values.
      column: the per-query column (``ndcg10_q``, ``val_ndcg10_q``, ...).

    Returns:
      ``[seeds, queries]`` float64 array, seeds in increasing order.
    """
    return np.stack([_matrix(p, column).mean(axis=0) for _, p in part.groupby("seed", sort=True)])


def learning_cells(run: dict) -> pd.DataFrame:
    """Per (student, arm): chosen learning rate and steps, the change of validation and test nDCG@10 from the
    start (two-way bootstrap over queries and seeds of :func:`query_matrix`: the sampler × group-size cells of a
    seed averaged per query), and whether the cell learns: the validation change's 95% interval lies above 0 and
    its mean is at least ``rule.learn_min``."""
    results, meta = run["results"], run["meta"]
    n, learn_min = _rule(meta, "n_resamples"), _rule(meta, "learn_min")
    rows = []
    for (student, arm), part in results.groupby(["student", "arm"], sort=False):
        seeds = part.seed.nunique()
        val, test = query_matrix(part, "val_ndcg10_q"), query_matrix(part, "ndcg10_q")
        dv = paired_bootstrap(val, np.broadcast_to(_baseline(run, f"start:{student}", "val"), val.shape), n_boot=n)
        dt = paired_bootstrap(test, np.broadcast_to(_baseline(run, f"start:{student}"), test.shape), n_boot=n)
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


#: The descriptive questions: one Holm family each (per student), the family -> the question it answers.
FAMILIES = {
    "movement": "does training move test nDCG@10 from the start (each arm × sampler)?",
    "vs teacher": "does the student reach the teacher (each arm × sampler)?",
    "loss vs LCE (teacher labels)": "does a distillation loss beat LCE on the same labels and groups?",
    "gold vs teacher labels": "do gold labels beat teacher labels under LCE?",
    "benefit of η (mixture − bm25)": "does mixing uniform negatives into BM25's pool help?",
    "zero-shot vs dense": "does the trained student transfer better than the dense retriever?",
}


def query_tests(run: dict, student: str) -> pd.DataFrame:
    """Every descriptive difference test of ``student`` at the reference group size, with Holm-adjusted p-values
    within its family (:data:`FAMILIES`: one family per question, per student; ``p_holm`` adjusts over the tests
    of that family only).  (The predictions are not decided here: see :func:`real_verdicts`.)"""
    meta, rows = run["meta"], run["results"]
    rows = rows[rows.student == student]
    cfg = meta["config"]
    n = (cfg["n_resamples"], cfg["n_permutations"])
    k = max(cfg["group_sizes"])
    arms = list(dict.fromkeys(rows.arm))
    samplers = list(dict.fromkeys(rows.sampler))
    start, teacher = _baseline(run, f"start:{student}"), _baseline(run, "teacher")
    primary_lce = "lce" if "lce" in arms else None
    tests = []

    def add(name, family, a, b):
        tests.append(_diff_test(name, family, a, b, n) | {"student": student})

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
        if {"mixture", "bm25"} <= set(samplers):
            a, b = _matrix(_cell(rows, arm, "mixture", k)), _matrix(_cell(rows, arm, "bm25", k))
            add(f"{arm} mixture − bm25", "benefit of η (mixture − bm25)", a, b)
        for z in _zero_shot_names(meta):
            for sampler in samplers:
                a = _matrix(_cell(rows, arm, sampler, k), f"{z}_ndcg10_q")
                add(f"{arm} {sampler} − dense on {z[3:]}", "zero-shot vs dense", a, _baseline(run, "dense", z))
    table = pd.DataFrame(tests)
    table["p"] = np.nan
    for _, part in table.groupby(table.per_query_diff.map(len)):  # one batched test per query count
        table.loc[part.index, "p"] = randomization_tests(np.stack(part.per_query_diff.to_numpy()), n[1])
    table = table.drop(columns="per_query_diff")
    table["p_holm"] = np.nan
    for _, part in table.groupby("family", sort=False):  # one Holm family per question
        table.loc[part.index, "p_holm"] = holm(part.p.to_numpy())
    table["significant"] = table.p_holm < cfg["alpha"]
    return table


def _zero_shot_names(meta: dict) -> list[str]:
    return list(meta.get("zero_shot", {}))


# ----------------------------------------------------------------------------- the synthetic rules on real data
# Each prediction is decided by its synthetic rule (``simrank.predictions.pNN.decide``) on Effects built from
# one student's query-level data; nothing below decides anything itself.


class RealVerdict(NamedTuple):
    """A prediction's synthetic rule applied to one student's real-data Effects.

    Attributes:
      outcome: supported / refuted / inconclusive (conditional where the rule's conditions disagree).
      why: the decided parts, the untested ones and the reason for any precondition that failed.
      effects: condition -> part -> :class:`~simrank.predictions.base.Effect`, what the rule read (and reported
        parts, e.g. P11's uniform sampler).
      decision: the rule's :class:`~simrank.predictions.base.Decision`; None when the rule was not applied.
    """

    outcome: str
    why: str
    effects: dict
    decision: Decision | None


def query_effect(a: np.ndarray, b: np.ndarray | float, n_resamples: int, alpha: float) -> Effect:
    """``mean(a − b)`` over seeds and queries as the :class:`~simrank.predictions.base.Effect` a synthetic rule
    reads.

    The interval is the two-way percentile bootstrap (queries and seeds resampled,
    :func:`~simrank.stats.paired_bootstrap`) at level ``1 − 2α``, the level of the synthetic t-intervals, so that
    ``decide_equivalence`` on it is a TOST at α and ``decide_increase`` a one-sided test at α, exactly as in the
    synthetic paper; no multiplicity adjustment (the synthetic rules have none: a rule combines its parts as a
    conjunction).  ``n`` is the number of test queries and ``sd`` the SD over queries of the per-query
    difference (mean over seeds), for reference only (no power is computed on real data).

    Args:
      a: ``[seeds, queries]`` per-query values of one system.
      b: the same shape, or a ``[queries]`` baseline.
      n_resamples: bootstrap replicates.
      alpha: level of each one-sided test.

    Returns:
      :class:`~simrank.predictions.base.Effect`.
    """
    d = a - np.broadcast_to(b, a.shape)
    ci = paired_bootstrap(d, np.zeros_like(d), n_boot=n_resamples, confidence=1 - 2 * alpha)
    return Effect(ci.mean, ci.low, ci.high, ci.n_queries, float(d.mean(axis=0).std(ddof=1)))


def _not_learning(learns: dict, arms: tuple[str, ...]) -> str | None:
    missing = [a for a in arms if a not in learns]
    if missing:
        return f"arm(s) {', '.join(missing)} not in the grid"
    still = [a for a in arms if not learns[a]]
    return f"{', '.join(still)} does not learn (validation gain not above 0 or below learn_min)" if still else None


def _parts(decision: Decision, effects: dict) -> str:
    """``condition: part outcome, … → condition outcome`` for every decided condition."""
    return "; ".join(
        f"{c}: {', '.join(f'{p} {o}' for p, o in decision.parts[c].items() if effects[c][p] is not UNTESTED)}"
        f" → {decision.conditions[c]}"
        for c in decision.conditions
    )


def _local_contrasts(rows: pd.DataFrame, cfg: dict, contrast) -> dict:
    """Per sampler: ``{"lce", "kl", "did"}`` Effects of ``contrast(arm, sampler) -> [seeds, queries]`` per arm
    and of LCE's minus KL's (the difference-in-differences); samplers whose contrast is None are left out."""
    n, alpha = cfg["n_resamples"], cfg["alpha"]
    out = {}
    for sampler in dict.fromkeys(rows.sampler):
        d = {arm: contrast(arm, sampler) for arm in ("lce", "kl")}
        if any(x is None for x in d.values()):
            continue
        out[sampler] = {
            "lce": query_effect(d["lce"], 0.0, n, alpha),
            "kl": query_effect(d["kl"], 0.0, n, alpha),
            "did": query_effect(d["lce"], d["kl"], n, alpha),
        }
    return out


def real_p4(rows: pd.DataFrame, cfg: dict, learns: dict) -> RealVerdict:
    """P4's rule (:func:`simrank.predictions.p04.decide`, SESOI = the design's ``margin``) with one condition per
    hard sampler of the grid (``design.HARD_SAMPLERS``, the synthetic local pool) against random negatives (the
    uniform pool): Δ = nDCG@10_q(hard) − nDCG@10_q(random) at the reference group size for LCE and KL, and
    Δ_LCE − Δ_KL, as :func:`query_effect`.  Applied only when LCE and KL both learn."""
    if why := _not_learning(learns, ("lce", "kl")):
        return RealVerdict("inconclusive", why, {}, None)
    k = max(cfg["group_sizes"])

    def contrast(arm, sampler):
        if sampler not in HARD_SAMPLERS or "random" not in set(rows.sampler):
            return None
        return _matrix(_cell(rows, arm, sampler, k)) - _matrix(_cell(rows, arm, "random", k))

    effects = _local_contrasts(rows, cfg, contrast)
    if not effects:
        return RealVerdict("inconclusive", "needs the random sampler and a hard sampler", {}, None)
    decision = p04.decide(effects, cfg["margin"])
    return RealVerdict(decision.outcome, _parts(decision, effects), effects, decision)


def real_p5(rows: pd.DataFrame, cfg: dict, learns: dict) -> RealVerdict:
    """P5's rule (:func:`simrank.predictions.p05.decide`, SESOI = ``margin``).  Decided: the filter parts,
    ``lce_gain``, ``kl_gain`` and ``gain_did`` with gain = nDCG@10_q(teacher+filter) − nDCG@10_q(teacher) at the
    reference group size (:func:`query_effect`).  Untested: the harm parts (``lce_harm``, ``kl_harm``,
    ``harm_did``) need negatives without false negatives, which the real design has no control for; they enter
    the rule as ``UNTESTED``, so P5 can be refuted on real data but never supported.  Applied only when LCE and
    KL both learn."""
    if why := _not_learning(learns, ("lce", "kl")):
        return RealVerdict("inconclusive", why, {}, None)
    k = max(cfg["group_sizes"])
    if not {"teacher", "teacher+filter"} <= set(rows.sampler):
        return RealVerdict("inconclusive", "needs the teacher and teacher+filter samplers", {}, None)
    n, alpha = cfg["n_resamples"], cfg["alpha"]
    gain = {
        arm: _matrix(_cell(rows, arm, "teacher+filter", k)) - _matrix(_cell(rows, arm, "teacher", k))
        for arm in ("lce", "kl")
    }
    parts = {
        "lce_gain": query_effect(gain["lce"], 0.0, n, alpha),
        "kl_gain": query_effect(gain["kl"], 0.0, n, alpha),
        "gain_did": query_effect(gain["lce"], gain["kl"], n, alpha),
    } | {name: UNTESTED for name in ("lce_harm", "kl_harm", "harm_did")}
    effects = {"all": parts}
    decision = p05.decide(parts, cfg["margin"])
    why = _parts(decision, effects) + "; untested: harm parts (no clean-negative control) → never supported"
    return RealVerdict(decision.outcome, why, effects, decision)


def real_p8(kappas: pd.DataFrame) -> RealVerdict:
    """P8's rule (:func:`simrank.predictions.p08.decide`) on the tempered samplers' κ over the real teacher pool:
    the exact κ checks (:func:`simrank.predictions.p08.kappa_checks`: κ at η = 0 increases with β, the mixture's κ
    equals κ_η(κ(η = 0), η) ≤ 1/η) are decided; the η-benefit part needs T4's η* per cell, which the real design
    does not compute, so it has no cell: P8 is refuted when a κ check fails and inconclusive otherwise."""
    base = kappas[kappas.eta == 0].groupby("beta").kappa.mean()
    mixed = kappas[kappas.eta > 0]
    checks = p08.kappa_checks(base, base.loc[mixed.beta].to_numpy(), mixed.eta.to_numpy(), mixed.kappa.to_numpy())
    decision = p08.decide(checks, {})
    why = (
        f"κ increasing in β: {checks.grows}; mixture κ = κ_η formula to {checks.rel_error:.1e}, ≤ 1/η: "
        f"{checks.capped}; η-benefit part untested (no T4 η* on real data)"
    )
    return RealVerdict(decision.outcome, why, {}, decision)


def real_p10(rows: pd.DataFrame, cfg: dict, learns: dict) -> RealVerdict:
    """P10's rule (:func:`simrank.predictions.p10.decide` at P10's SESOI on ρ; the design's ``margin`` is in
    nDCG units) with one condition per *learning* distillation arm (``p10.distillation_losses``): −ρ with ρ the
    per-seed mean over the arm's models (samplers, group sizes) of each model's per-query Spearman
    ρ(KL, nDCG@10) over test queries (``p10.per_seed_rho``), a ``1 − 2α`` t-interval over seeds as in the
    synthetic paper."""
    distill = set(p10.distillation_losses(rows.loss))
    arms = [a for a in dict.fromkeys(rows.arm) if rows[rows.arm == a].loss.iloc[0] in distill]
    learning = [a for a in arms if learns.get(a)]
    if not learning:
        return RealVerdict("inconclusive", "no distillation arm learns", {}, None)
    effects = {
        a: {"neg_rho": effect_of(-p10.per_seed_rho(rows[rows.arm == a], "kl_ndcg_spearman").to_numpy(), cfg["alpha"])}
        for a in learning
    }
    decision = p10.decide(effects)
    skipped = [a for a in arms if a not in learning]
    why = _parts(decision, effects) + (f"; not learning, not decided: {', '.join(skipped)}" if skipped else "")
    return RealVerdict(decision.outcome, why, effects, decision)


def real_p11(rows: pd.DataFrame, cfg: dict, learns: dict) -> RealVerdict:
    """P11's rule (:func:`simrank.predictions.p11.decide`, SESOI = ``margin``) with one condition per hard sampler
    (the local pools): e = nDCG@10_q(k_max) − nDCG@10_q(k_min) for LCE and KL and e_LCE − e_KL
    (:func:`query_effect`); random negatives (the uniform pool) are reported, not decided, as in the synthetic
    paper.  Applied only when LCE and KL both learn and the grid has two group sizes."""
    if why := _not_learning(learns, ("lce", "kl")):
        return RealVerdict("inconclusive", why, {}, None)
    ks = sorted(rows.group_size.unique())
    if len(ks) < 2:
        return RealVerdict("inconclusive", "needs two group sizes", {}, None)

    def contrast(arm, sampler):
        if sampler not in (*HARD_SAMPLERS, "random"):
            return None
        return _matrix(_cell(rows, arm, sampler, ks[-1])) - _matrix(_cell(rows, arm, sampler, ks[0]))

    effects = _local_contrasts(rows, cfg, contrast)
    local = {s: e for s, e in effects.items() if s in HARD_SAMPLERS}
    if not local:
        return RealVerdict("inconclusive", "needs a hard sampler", {}, None)
    decision = p11.decide(local, cfg["margin"])
    return RealVerdict(decision.outcome, _parts(decision, local), effects, decision)


def real_verdicts(run: dict, student: str) -> dict[str, RealVerdict]:
    """P4, P5, P8, P10 and P11 decided by their synthetic rules on ``student``'s results (learning cells only)."""
    cells = learning_cells(run)
    learns = dict(cells[cells.student == student][["arm", "learns"]].values)
    rows = run["results"][run["results"].student == student]
    cfg = run["meta"]["config"]
    return {
        "P4": real_p4(rows, cfg, learns),
        "P5": real_p5(rows, cfg, learns),
        "P8": real_p8(run["kappas"]),
        "P10": real_p10(rows, cfg, learns),
        "P11": real_p11(rows, cfg, learns),
    }


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


def agreement(verdicts: dict[str, RealVerdict]) -> pd.DataFrame:
    """The agreement table of one student's :func:`real_verdicts`: prediction, claim, synthetic verdict, real
    outcome and why."""
    synthetic = synthetic_verdicts(tuple(verdicts))
    return pd.DataFrame(
        [
            {"prediction": k, "claim": SYNTHETIC[k], "synthetic": synthetic[k], "real": v.outcome, "why": v.why}
            for k, v in verdicts.items()
        ]
    )


# ----------------------------------------------------------------------------- figures


def confirm_figure(results: pd.DataFrame, baselines: pd.DataFrame, stem: Path, columns: int = 3) -> list[Path]:
    """Test nDCG@10 (exponential gain, whole corpus) against group size: a grid of ``columns`` panels a row, one
    panel per student × arm, one line per sampler (mean over seeds, 95% band over seeds), the dense start and
    the teacher as reference lines; one shared legend under the grid, fonts at least 8 pt at the saved size."""
    students = list(dict.fromkeys(results.student))
    arms = list(dict.fromkeys(results.arm))
    cells = [(student, arm) for student in students for arm in arms]
    rows = -(-len(cells) // columns)
    with plt.rc_context({"font.size": 8, "axes.titlesize": 8, "axes.labelsize": 8, "legend.fontsize": 8}):
        fig, axes = plt.subplots(
            rows, columns, figsize=(2.4 * columns, 1.9 * rows), sharex=True, sharey=True, squeeze=False
        )
        full = baselines[(baselines["set"] == "test") & (baselines["mode"] == "full")].set_index("model")["nDCG@10"]
        ks = sorted(results.group_size.unique())
        for i, (ax, (student, arm)) in enumerate(zip(axes.flat, cells)):
            part = results[(results.student == student) & (results.arm == arm)]
            line_panel(ax, part, "group_size", "ndcg10", "sampler")
            ax.axhline(full["dense"], color="grey", ls="--", lw=1, label="dense (every student's start)")
            ax.axhline(full["teacher"], color="black", ls=":", lw=1, label="teacher")
            ax.set_xscale("log", base=2)
            ax.set_xticks(ks, [str(k) for k in ks])
            ax.minorticks_off()
            ax.set_title(f"{arm}, {student} student")
            ax.set_xlabel("group size k" if i + columns >= len(cells) else "")
            ax.set_ylabel("test nDCG@10 (exp. gain)" if i % columns == 0 else "")
        for ax in axes.flat[len(cells) :]:
            ax.set_visible(False)
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.tight_layout(rect=(0, 0.07, 1, 1))
        fig.legend(handles, labels, loc="lower center", ncol=3, frameon=False, title="sampler / reference")
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
    judged = set(run["queries"]["set"])
    b = b.iloc[np.argsort(pd.factorize(b["set"])[0], kind="stable")]  # each set's rows together, in run order
    for (collection, model, mode), part in b.groupby(["set", "model", "mode"], sort=False):
        per_query = np.asarray(part.ndcg10_q.iloc[0], np.float64)
        split = _split_levels(run, per_query, collection) if collection in judged else {}
        prior = part["prior_c"].iloc[0] if "prior_c" in part else np.nan
        rows.append(
            {
                "set": collection,
                "model": model if np.isnan(prior) else f"{model} (c = {prior:g})",
                "mode": mode,
                "nDCG@10 [95% CI over queries]": _level_ci(per_query, n),
                "seen": next((v for k, v in split.items() if k.startswith("seen")), "–"),
                "unseen": next((v for k, v in split.items() if k.startswith("unseen")), "–"),
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
    n = _rule(meta, "n_resamples")
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
        test = query_matrix(part) - _baseline(run, f"start:{c.student}")
        for label, mask in seen_split(run).items():
            if mask.sum() < 2:  # a bootstrap over queries needs two
                row[f"Δ test {label} [CI]"] = "–"
                continue
            ci = paired_bootstrap(test[:, mask], np.zeros_like(test[:, mask]), n_boot=n)
            row[f"Δ test {label} [CI]"] = _ci(ci.mean, ci.low, ci.high)
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
                    **_split_levels(run, mat),
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
                    "question": FAMILIES[family],
                    "tests": len(part),
                    "significant (Holm)": int(part.significant.sum()),
                    "of which > 0": int((part.significant & (part["diff"] > 0)).sum()),
                }
            )
    return _markdown_table(pd.DataFrame(rows))


def _rule_effects_block(verdicts: dict[str, dict[str, RealVerdict]]) -> str:
    """Every Effect a synthetic rule read on real data, with its part's and its condition's outcome."""
    rows = []
    for student, by_key in verdicts.items():
        for key, v in by_key.items():
            if v.decision is None:  # the rule was not applied, so it read no effects
                continue
            for condition, parts in v.effects.items():
                decided = v.decision.parts.get(condition, {})
                for part, e in parts.items():
                    rows.append(
                        {
                            "student": student,
                            "prediction": key,
                            "condition": condition,
                            "part": part,
                            "effect [90% CI]": "untested" if e is UNTESTED else fmt_effect(e, 4),
                            "part outcome": decided.get(part, "reported"),
                            "condition outcome": v.decision.conditions.get(condition, "not decided"),
                        }
                    )
    if not rows:
        return "No rule read an effect: each needs its arms to learn (see the agreement table for why).\n"
    return _markdown_table(pd.DataFrame(rows))


def _agreement_block(verdicts: dict[str, dict[str, RealVerdict]]) -> str:
    tables = [agreement(v).assign(student=student) for student, v in verdicts.items()]
    return _markdown_table(pd.concat(tables)[["prediction", "student", "claim", "synthetic", "real", "why"]])


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
    verdicts = {s: real_verdicts(run, s) for s in students}
    return {
        "real-setup": _setup(run),
        "real-baselines": _baselines_block(run),
        "real-tuning": _tuning_block(run),
        "real-movement": _movement_block(run),
        "real-primary": _primary_block(run, tests),
        "real-tests": _tests_summary(tests),
        "real-predictions": _rule_effects_block(verdicts),
        "real-agreement": _agreement_block(verdicts),
        "real-zeroshot": _zero_shot_block(run, tests),
        "real-transfer": _transfer_block(run),
    }


SECTIONS = (
    ("real-setup", "Setup"),
    (
        "real-baselines",
        "Baselines (ir_measures; intervals: bootstrap over queries; seen / unseen: queries with / without a relevant "
        "document that is relevant to a training query; dense+prior: the document prior, c chosen on validation; "
        "nDCG@10 here and below: ir_measures' linear gain for the baselines, exponential gain 2^g − 1 for the "
        "students, equal on the binary judgments of SciFact and the zero-shot collections)",
    ),
    ("real-tuning", "Learning-rate and step search (validation nDCG@10, mean over tuning seeds; ◀ chosen)"),
    ("real-movement", "Movement from the start and the learning rule"),
    (
        "real-primary",
        "Test nDCG@10 at the reference group size (CI: two-way bootstrap over queries and seeds; p̃: Holm)",
    ),
    ("real-tests", "Descriptive tests per family (Holm within each family: one family per question and student)"),
    ("real-predictions", "The Effects the synthetic rules decide (two-way bootstrap, 90% = 1 − 2α intervals)"),
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
    """Mean and 95% t-interval over seeds of ``value`` per student × arm × sampler × group size, the measure
    columns named by :func:`~simrank.measures.ir_name` (``nDCG@10_mean``, ...)."""
    table = summarise(results, ["student", "arm", "sampler", "group_size"], value)
    return table.rename(columns=ir_name)


#: The per-query columns of a confirm run's results and the evaluation set (``queries.parquet``) they are over.
PER_QUERY_SETS = {"test": "ndcg10_q", "val": "val_ndcg10_q"}
PER_QUERY_KEYS = ["student", "arm", "loss", "label_source", "sampler", "group_size", "seed"]


def zero_shot_query_ids(meta: dict) -> dict[str, list[str]]:
    """The query ids of each zero-shot collection of a confirm run, in its per-query order: ``zs_<folder>`` → the
    test queries with a relevant document, as :func:`simrank.real.confirm.load_zero_shot` chose and ordered them,
    read again from the collection folders of ``meta["eval_data"]``.

    Args:
      meta: the run's ``meta.json``.

    Raises:
      DataError: when a zero-shot collection's folder cannot be read.
    """
    from simrank.real.beir import load_collection
    from simrank.real.confirm import _positive_queries

    folders = {f"zs_{Path(d).name}": d for d in meta.get("eval_data", [])}
    return {
        name: _positive_queries(load_collection(folders[name], splits=("test",)).qrels["test"])
        for name in _zero_shot_names(meta)
    }


def per_query_table(
    results: pd.DataFrame, queries: pd.DataFrame, zero_shot: dict[str, list[str]] | None = None
) -> pd.DataFrame:
    """The long per-query table of a confirm run: one row per trained model × evaluation set × query, with the
    model's keys (:data:`PER_QUERY_KEYS`), ``set`` (``test``, ``val`` or a zero-shot ``zs_<collection>``), the BEIR
    ``query_id`` and the query's ``nDCG@10`` (exponential gain). The mean over a model's ``test`` rows is its
    ``ndcg10`` column, over its ``val`` rows its ``val_ndcg10``, over its ``zs_<collection>`` rows its
    ``zs_<collection>_ndcg10``.

    Args:
      results: the run's ``results.parquet`` (per-query arrays in :data:`PER_QUERY_SETS` columns, and
        ``zs_<collection>_ndcg10_q``).
      queries: the run's ``queries.parquet`` (``set``, ``query_id`` in the per-query order).
      zero_shot: each zero-shot set's query ids in its per-query order (:func:`zero_shot_query_ids`); None: none.
    """
    sets = {
        name: (column, queries.loc[queries["set"] == name, "query_id"].to_numpy())
        for name, column in PER_QUERY_SETS.items()
    }
    sets |= {name: (f"{name}_ndcg10_q", np.asarray(ids, dtype=object)) for name, ids in (zero_shot or {}).items()}
    parts = []
    for name, (column, ids) in sets.items():
        values = np.stack(results[column].to_numpy())
        if values.shape[1] != len(ids):
            raise ValueError(f"{column}: {values.shape[1]} values a model, but there are {len(ids)} {name} query ids")
        keys = results[PER_QUERY_KEYS].loc[results.index.repeat(len(ids))].reset_index(drop=True)
        parts.append(keys.assign(set=name, query_id=np.tile(ids, len(results)), **{ir_name("ndcg10"): values.ravel()}))
    return pd.concat(parts, ignore_index=True)


def redraw(out: Path) -> list[Path]:
    """Rewrite the figures (:func:`confirm_figure`, :func:`curves_figure`) and ``per_query.parquet``
    (:func:`per_query_table`) of the finished confirm run in ``out`` from its files; the written paths."""
    out = Path(out)
    run = load_run(out)
    paths = confirm_figure(run["results"], run["baselines"], out / "figure") + curves_figure(
        run["results"], out / "curves"
    )
    table = per_query_table(run["results"], run["queries"], zero_shot_query_ids(run["meta"]))
    table.to_parquet(out / "per_query.parquet", index=False)
    return [*paths, out / "per_query.parquet"]
