"""Tests, intervals and verdicts of a ``simrank real confirm`` run, computed from the files the run wrote
(:func:`load_run`).

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

Learning rule (fixed before the run, :mod:`simrank.real.confirm.design`): a (student, arm) cell learns when its
validation nDCG@10 change from the start has a 95% interval above 0 and a mean of at least
``rule.learn_min``; verdicts use learning cells only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from simrank.predictions import p04, p05, p08, p10, p11
from simrank.predictions.base import UNTESTED, Decision, Effect, effect_of
from simrank.real.confirm.design import HARD_SAMPLERS
from simrank.stats import holm, paired_bootstrap, randomization_tests

__all__ = [
    "agreement",
    "FAMILIES",
    "learning_cells",
    "load_run",
    "query_effect",
    "query_matrix",
    "query_tests",
    "real_p10",
    "real_p11",
    "real_p4",
    "real_p5",
    "real_p8",
    "real_verdicts",
    "RealVerdict",
    "seen_split",
    "SYNTHETIC",
]

SYNTHETIC = {
    "P4": "hard negatives change nDCG@10 under LCE, not under distillation",
    "P5": "false negatives hurt LCE, not distillation; filtering helps LCE only",
    "P8": "κ grows with hardness, mixing caps it",
    "P10": "per-query KL(teacher‖student) correlates negatively with nDCG@10",
    "P11": "group size matters more under LCE with local negatives than under distillation",
}


def load_run(out: Path) -> dict:
    """The files of a finished confirm run: results, tuning, baselines, kappas, queries (DataFrames) and meta."""
    out = Path(out)
    tables = ("results", "tuning", "baselines", "kappas", "queries")
    run = {name: pd.read_parquet(out / f"{name}.parquet") for name in tables}
    return run | {"meta": json.loads((out / "meta.json").read_text())}


def seen_split(run: dict, collection: str = "test") -> dict[str, np.ndarray]:
    """Boolean masks over the per-query order of ``collection`` (``test`` or ``val``): ``seen``, the queries with a
    relevant document that is also relevant to a training query (``queries.parquet``, :mod:`simrank.real.confirm.memorisation`),
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
    seed averaged per query), and whether the cell learns: the ``rule.learn_on`` split's change (``val``: tune,
    ``test``: decide) has a 95% interval above 0 and a mean of at least ``rule.learn_min``."""
    results, meta = run["results"], run["meta"]
    n, learn_min = _rule(meta, "n_resamples"), _rule(meta, "learn_min")
    rows = []
    for (student, arm), part in results.groupby(["student", "arm"], sort=False):
        seeds = part.seed.nunique()
        val, test = query_matrix(part, "val_ndcg10_q"), query_matrix(part, "ndcg10_q")
        dv = paired_bootstrap(val, np.broadcast_to(_baseline(run, f"start:{student}", "val"), val.shape), n_boot=n)
        dt = paired_bootstrap(test, np.broadcast_to(_baseline(run, f"start:{student}"), test.shape), n_boot=n)
        rule = dt if meta["config"].get("learn_on", "val") == "test" else dv
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
                "learns": bool(rule.low > 0 and rule.mean >= learn_min),
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
    return (
        f"{', '.join(still)} does not learn (gain on the learning-rule split not above 0 or below learn_min)"
        if still
        else None
    )


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


def _ci(m: float, lo: float, hi: float, digits: int = 4) -> str:
    return f"{m:+.{digits}f} [{lo:+.{digits}f}, {hi:+.{digits}f}]"


def _level(m: float, lo: float, hi: float) -> str:
    return f"{m:.4f} [{lo:.4f}, {hi:.4f}]"


def _level_ci(values: np.ndarray, n: int) -> str:
    ci = paired_bootstrap(values, np.zeros_like(values), n_boot=n)
    return _level(ci.mean, ci.low, ci.high)
