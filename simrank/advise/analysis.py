"""``simrank advise``: the statements T1-T6 of ``paper/theory.md`` applied to a practitioner's training data.

Inputs: a BEIR folder (training split queries and qrels, cached embeddings), negative sources (TREC run
files, each read as ``ν_q`` = uniform over the run's documents for ``q``, or the built-in ``random``,
``bm25``, ``dense`` top-``M`` samplers), teacher scores (a TREC run, or the built-in hybrid teacher),
a target law ``μ`` (uniform over the corpus, or uniform over a ``--target`` run's documents) and the
temperatures τ and mixing weights η to consider. For each source ``ν`` it measures, on the training queries:

* locality ``1 − mean_q H(ν_q)/log N``; group diameters ``Δ(G)`` of ``k``-groups drawn with
  :func:`simrank.groups.draw_groups` (Δ̂ = 0.99-quantile, and the 0.5 / 0.9 quantiles and max);
* ``κ = max_q max_x μ_q(x)/ν_q(x)`` and ``κ_η = 1/((1−η)/κ + η)`` (T4(b));
* the teacher's mean pairwise and listwise entropy on the groups against τ (T1: the floor of the
  distillation risk);
* false negatives: ``E_q E_{x⁺∼p_q} ν_q({x : g(q, x) ≥ g(q, x⁺)})`` (the teacher scores the negative at
  or above the positive) and ``E_q ν_q({x : rel(q, x) > 0})`` (judged relevants drawn as negatives);
* on positive-negative pairs, exactly (no sampling): the risk ``A_π = E ℓ^KL_RN(f₀)`` of the starting
  scorer ``f₀`` under ``π = ν`` and ``π = μ``, ``ρ₂(π)² = E ‖q‖² ‖x⁺ − x⁻‖²`` and ``ρ_∞``; the T3 term
  ``Γ(η)`` (pairs, union bound over the η grid ``E``, :func:`gap_terms`): Theorem 3L, localised at ``f₀``
  (default), or Theorem 3(a)'s ess-sup form ``2Bρ₂(ν_η)/√n + c √(log(|E|/δ)/2n)``; the T4(c)
  bound ``F(η) = κ_η (A(η) + Γ(η))``, ``A(η) = (1−η) A_ν + η A_μ``, ``η* = argmin F``, and the T4(e)
  marginal condition (does a little of μ lower the bound at η = 0?).
Every problem with the inputs raises :class:`~simrank.real.data.beir.DataError` (one line, exit 2) before anything
is written.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from simrank._version import __version__
from simrank.errors import check_positive, check_range
from simrank.groups import QuerySet, draw_groups
from simrank.measures import diameter, kappa, listwise_entropy, pairwise_entropy
from simrank.real.confirm.design import ALPHA_INIT
from simrank.real.confirm.training import group_diagnostics
from simrank.real.data.beir import EMBEDDINGS_FILE, DataError, load_collection, load_embeddings
from simrank.real.data.queryset import judged_queries, real_query_set
from simrank.real.evaluate import read_trec_run
from simrank.samplers import Sampler, SamplingContext, Uniform, make_sampler
from simrank.theory.bounds import (
    SHELL_GROWTH,
    SHELL_R0,
    augmentation_helps,
    bousquet_deviation,
    gap_slope_at_zero,
    kappa_eta,
    local_lipschitz,
    mixture_gap,
    pairwise_excess,
    shell_deviation,
    shell_index,
)

__all__ = [
    "BUILTIN_SOURCES",
    "DEFAULT_SOURCES",
    "AdviceConfig",
    "AdviceInput",
    "BOUNDS",
    "Gap",
    "Covered",
    "Pool",
    "advise",
    "gap_terms",
    "mixture_bound",
    "load_inputs",
    "pair_terms",
    "run_matrix",
]

BUILTIN_SOURCES = ("random", "bm25", "dense", "teacher")  # teacher: the teacher's own top-M (built-in teacher)
DEFAULT_SOURCES = ("random", "bm25", "dense")  # the sources analysed when no --negatives is given
DEFAULT_TAUS = (0.1, 0.3, 1.0, 3.0, 10.0)
DEFAULT_ETAS = (0.0, 0.1, 0.25, 0.5, 1.0)
ETA_GRID = np.linspace(0.0, 1.0, 101)  # η* is searched here; Γ uses δ/|ETA_GRID| (union bound, T4(f))
MISSING_TEACHER = ("fatal", "skip")
TARGET_SOURCE = "target"  # the target law μ as a source of its own (η = 1 of any source)
PAIR_CHUNK = 512  # positive pairs per block of the exact [pairs, N] computations
BOUNDS = ("localised", "ess-sup")  # Γ of T3: Theorem 3L around f₀, or Theorem 3(a) on the ball ‖W‖_F ≤ B


@dataclass(frozen=True)
class AdviceConfig:
    """What ``advise`` considers, and the constants of the bounds."""

    taus: tuple[float, ...] = DEFAULT_TAUS
    etas: tuple[float, ...] = DEFAULT_ETAS
    group_size: int = 8  # k of the groups whose diameters and entropies are reported
    groups_per_query: int = 2
    pool_size: int = 100  # M of the built-in bm25 / dense top-M sources
    delta: float = 0.05  # confidence level of T3
    norm_bound: float | None = None  # B of T3; default: ‖W₀‖_F of the starting scorer
    bound: str = "localised"  # Γ: Theorem 3L (students with ‖W − W₀‖_F ≤ radius) or Theorem 3(a) ("ess-sup")
    radius: float | None = None  # r of Theorem 3L, how far training may move W from W₀; default: B
    n_train: int | None = None  # n of T3; default: the number of (query, positive) pairs
    target_entropy: float = math.log(2) / 2  # τ is chosen so that the pairwise entropy is nearest this
    false_negative_alert: float = 0.05  # a source above this share gets the false-negative reason
    seed: int = 0

    def __post_init__(self):
        for tau in self.taus:
            check_positive("--tau", tau)
        for eta in self.etas:
            check_range("--eta", eta, 0.0, 1.0)
        if not self.taus or not self.etas:
            raise DataError("--tau and --eta need at least one value each")
        check_range("--target-entropy", self.target_entropy, 1e-9, math.log(2) - 1e-9)
        check_range("--delta", self.delta, 1e-12, 1 - 1e-12)
        if self.bound not in BOUNDS:
            raise DataError(f"--bound = {self.bound!r} is not allowed; choose one of {', '.join(BOUNDS)}")
        if self.radius is not None:
            check_positive("--radius", self.radius)
        if self.group_size < 2:
            raise DataError(f"--group-size = {self.group_size} is not allowed; it must be an integer >= 2")


@dataclass(frozen=True)
class Pool:
    """``ν_q`` uniform over the documents where ``proxies[proxy]`` is finite (a run file's candidates)."""

    proxy: str

    def distribution(self, ctx: SamplingContext) -> np.ndarray:
        mask = np.isfinite(ctx.proxy(self.proxy))
        return mask / np.maximum(mask.sum(axis=1, keepdims=True), 1)


@dataclass(frozen=True)
class Covered:
    """``base`` restricted to documents with a finite teacher score, renormalised (``--missing-teacher skip``)."""

    base: Sampler
    proxy: str = "teacher"

    def distribution(self, ctx: SamplingContext) -> np.ndarray:
        nu = self.base.distribution(ctx) * np.isfinite(ctx.proxy(self.proxy))
        return nu / np.maximum(nu.sum(axis=1, keepdims=True), np.finfo(np.float64).tiny)


@dataclass
class AdviceInput:
    """Everything :func:`advise` needs. ``qs.teacher_scores`` may be NaN where the teacher has no score."""

    qs: QuerySet
    sources: dict[str, Sampler]
    target: Sampler
    scorer: np.ndarray  # [n, N] starting scores f₀
    scorer_norm: float  # ‖W₀‖_F of f₀ = qᵀ W₀ x (the default B)
    query_ids: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)


# ============================================================================ inputs


def run_matrix(
    run: pd.DataFrame, path: Path, query_ids: Sequence[str], doc_ids: Sequence[str], known_queries: set[str]
) -> np.ndarray:
    """Scores of ``run`` as a ``[len(query_ids), len(doc_ids)]`` matrix, NaN where the run has no line.

    Queries of the run outside ``query_ids`` (but in ``known_queries``) are ignored; a query or document
    the collection does not have raises :class:`DataError` naming the line of its first occurrence."""
    doc_col = {d: j for j, d in enumerate(doc_ids)}
    for what, column, known in (("queries", "query_id", known_queries), ("documents", "doc_id", doc_col)):
        bad = run[~run[column].isin(known)]
        if len(bad):
            n_bad, first = bad[column].nunique(), bad.iloc[0]
            raise DataError(
                f"{path}:{first.line}: {n_bad} {what} not in the collection, e.g. {first[column]!r}; "
                f"expected {what} of the collection"
            )
    row = {q: i for i, q in enumerate(query_ids)}
    mine = run[run.query_id.isin(row)]
    out = np.full((len(query_ids), len(doc_ids)), np.nan, np.float32)
    out[mine.query_id.map(row).to_numpy(), mine.doc_id.map(doc_col).to_numpy()] = mine.score.to_numpy()
    return out


def _context(qs: QuerySet) -> SamplingContext:
    return SamplingContext(np.argmax(qs.positive_probs, axis=1), qs.proxies)


def _source_name(path: Path, taken: set[str]) -> str:
    name = path.stem
    while name in taken or name in (*BUILTIN_SOURCES, TARGET_SOURCE):
        name = f"{name}'"
    return name


def load_inputs(
    data_dir: Path,
    negatives: Sequence[str],
    *,
    split: str = "train",
    teacher: str | Path | None = None,
    target: str | Path | None = None,
    missing_teacher: str = "fatal",
    config: AdviceConfig = AdviceConfig(),
    embeddings_file: str = EMBEDDINGS_FILE,
) -> AdviceInput:
    """Read the collection, embeddings, run files and teacher; build the sources and the target law.

    ``negatives`` holds built-in source names (:data:`BUILTIN_SOURCES`) or paths of TREC run files.
    A teacher run that misses some needed (query, document) pair (a positive, a source's or the target's
    candidate) raises :class:`DataError` unless ``missing_teacher == "skip"``: then every law is restricted
    to the pairs the teacher scores, and queries left without a positive or a candidate are dropped.
    ``embeddings_file``: the vectors' file in ``data_dir`` (any encoder's, in ``load_embeddings``' format)."""
    if missing_teacher not in MISSING_TEACHER:
        raise DataError(f"--missing-teacher = {missing_teacher!r} is not allowed; choose one of fatal, skip")
    from simrank.real.data.bm25 import BM25Index

    collection = load_collection(data_dir, splits=(split,))
    embeddings = load_embeddings(Path(data_dir) / embeddings_file, collection)
    qrels = collection.qrels[split]
    query_ids = judged_queries(qrels)
    if not query_ids:
        raise DataError(f"{Path(data_dir) / 'qrels' / f'{split}.tsv'}: no judgments; expected training qrels")
    known = set(collection.query_ids)
    runs = {}
    for spec in negatives:
        if spec in BUILTIN_SOURCES and not Path(spec).is_file():
            continue
        path = Path(spec)
        if not path.is_file():
            raise DataError(
                f"--negatives {spec!r} is neither a file nor a built-in source; choose a TREC run file or one of "
                f"{', '.join(BUILTIN_SOURCES)}"
            )
        runs[spec] = (path, read_trec_run(path))
    teacher_run = (Path(teacher), read_trec_run(teacher)) if teacher is not None else None
    target_run = (Path(target), read_trec_run(target)) if target is not None else None

    bm25 = BM25Index.build(collection)
    qs = real_query_set(collection, embeddings, bm25, query_ids, qrels)
    proxies = dict(qs.proxies)
    sources: dict[str, Sampler] = {}
    for spec in negatives:
        if spec in runs:
            path, run = runs[spec]
            name = _source_name(path, set(sources))
            proxies[f"run:{name}"] = run_matrix(run, path, query_ids, collection.doc_ids, known)
            covered = int(np.any(np.isfinite(proxies[f"run:{name}"]), axis=1).sum())
            if 2 * covered < len(query_ids):
                raise DataError(
                    f"{path}: the run covers {covered} of the {len(query_ids)} {split} queries; a negative source "
                    "must cover at least half of them"
                )
            sources[name] = Pool(f"run:{name}")
        elif spec == "random":
            sources[spec] = Uniform()
        elif spec == "teacher" and teacher_run is not None:
            raise DataError(
                "--negatives teacher is the built-in teacher's top-M; with --teacher RUN pass that run itself as a "
                "--negatives source"
            )
        else:
            sources[spec] = make_sampler("local", proxy=spec, pool_size=min(config.pool_size, qs.n_docs))
    target_law: Sampler = Uniform()
    if target_run is not None:
        proxies["target"] = run_matrix(target_run[1], target_run[0], query_ids, collection.doc_ids, known)
        target_law = Pool("target")
    g = qs.teacher_scores
    if teacher_run is not None:
        g = run_matrix(teacher_run[1], teacher_run[0], query_ids, collection.doc_ids, known)
        proxies["teacher"] = g
    qs = QuerySet(qs.docs, qs.queries, g, qs.positive_probs, qs.grades, proxies)
    notes = []
    ctx = _context(qs)
    laws = {name: s.distribution(ctx) for name, s in sources.items()} | {"target": target_law.distribution(ctx)}
    if teacher_run is not None:
        need = (qs.positive_probs > 0) | np.logical_or.reduce([law > 0 for law in laws.values()])
        missing = need & ~np.isfinite(g)
        if missing.any():
            i, j = np.argwhere(missing)[0]
            what = (
                f"{teacher_run[0]}: the teacher run misses {int(missing.sum())} of {int(need.sum())} needed "
                f"(query, document) pairs (positives and candidates), e.g. ({query_ids[i]!r}, "
                f"{collection.doc_ids[j]!r})"
            )
            if missing_teacher == "fatal":
                raise DataError(f"{what}; pass --missing-teacher skip to drop them")
            notes.append(f"{what}; they were skipped (--missing-teacher skip): every law is restricted to scored pairs")
            sources = {name: Covered(s) for name, s in sources.items()}
            target_law = Covered(target_law)
            covered_pos = qs.positive_probs * np.isfinite(g)
            qs = QuerySet(
                qs.docs,
                qs.queries,
                qs.teacher_scores,
                covered_pos / np.maximum(covered_pos.sum(1, keepdims=True), np.finfo(np.float64).tiny),
                qs.grades,
                proxies,
            )
            ctx = _context(qs)
            laws = {n: s.distribution(ctx) for n, s in sources.items()} | {"target": target_law.distribution(ctx)}
    keep = qs.positive_probs.sum(1) > 0.5
    for name, law in laws.items():
        empty = law.sum(1) < 0.5
        if (empty & keep).any():
            first = query_ids[int(np.argmax(empty & keep))]
            notes.append(
                f"{int((empty & keep).sum())} training queries have no candidate in {name} (e.g. {first!r}); "
                "they are left out for every source"
            )
        keep &= ~empty
    if not keep.any():
        raise DataError("no training query has both a positive and a candidate in every source; nothing to advise on")
    rows = np.flatnonzero(keep)
    qs = qs.subset(rows)
    dense = qs.proxies["dense"]
    return AdviceInput(
        qs=qs,
        sources=sources,
        target=target_law,
        scorer=ALPHA_INIT * dense,
        scorer_norm=ALPHA_INIT * math.sqrt(qs.docs.shape[1]),
        query_ids=[query_ids[i] for i in rows],
        notes=notes,
        meta={
            "data": str(data_dir),
            "split": split,
            "negatives": list(negatives),
            "teacher": str(teacher) if teacher is not None else "hybrid (built-in)",
            "target": str(target) if target is not None else "uniform over the corpus",
            "missing_teacher": missing_teacher,
            "scorer": f"f0 = {ALPHA_INIT:g} * cosine (the dense retriever, the confirm students' start)",
        },
    )


# ============================================================================ exact pair terms


@jax.jit
def _pair_block(f_pos, f_all, g_pos, g_all, tau):
    """``ℓ^KL_RN`` of the pair (positive, x) for every x: ``[b, N]`` (NaN teacher scores give NaN)."""
    f = jnp.stack([jnp.broadcast_to(f_pos[:, None], f_all.shape), f_all], -1)
    g = jnp.stack([jnp.broadcast_to(g_pos[:, None], g_all.shape), g_all], -1)
    return pairwise_excess(f, g, tau)


def _positive_pairs(qs: QuerySet) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, positive documents and weights ``p_q(x⁺)/n`` of every (query, positive) pair."""
    rows, pos = np.nonzero(qs.positive_probs > 0)
    return rows, pos, qs.positive_probs[rows, pos] / qs.n_queries


def pair_terms(
    qs: QuerySet, scorer: np.ndarray, laws: dict[str, np.ndarray], taus: Sequence[float], radius: float | None = None
) -> dict:
    """Exact expectations over ``q``, ``x⁺ ∼ p_q``, ``x⁻ ∼ π_q`` for every law ``π`` of ``laws``.

    Returns ``{name: {"risk": {τ: A_π(τ)}, "risk_sq", "loss_max", "shell_a2", "rho2": ρ₂(π), "rho_inf": ρ_∞(π),
    "fn_teacher", "fn_judged"}}`` with ``A_π(τ) = E ℓ^KL_RN(f₀; g/τ)``, ``risk_sq = {τ: E ℓ²}``, ``loss_max =
    {τ: max ℓ}`` over the support, ``ρ₂(π)² = E ‖q‖²‖x⁺ − x⁻‖²``, ``ρ_∞(π) = max ‖q‖‖x⁺ − x⁻‖`` over the
    support, ``fn_teacher = P(g(q, x⁻) ≥ g(q, x⁺))`` and ``fn_judged = P(rel(q, x⁻) > 0)``; with ``radius = r``,
    also ``shell_a2 = {τ: a²}``, ``a² = E L²‖u‖²`` of Theorem 3L (``‖u‖ = ‖q‖‖x⁺ − x⁻‖``, ``L`` the
    :func:`~simrank.theory.local_lipschitz` constant at ``m₀ = f₀(q, x⁺) − f₀(q, x⁻)``, ``p = σ((g⁺ − g⁻)/τ)``)."""
    rows, pos, weight = _positive_pairs(qs)
    docs = np.asarray(qs.docs, np.float64)
    sq = np.sum(docs**2, axis=1)
    q_norm2 = np.sum(np.asarray(qs.queries, np.float64) ** 2, axis=1)
    per_tau = ("risk", "risk_sq", "loss_max") + (("shell_a2",) if radius is not None else ())
    acc: dict[str, dict[str, Any]] = {
        name: {key: dict.fromkeys(taus, 0.0) for key in per_tau}
        | {"rho2": 0.0, "rho_inf": 0.0, "fn_teacher": 0.0, "fn_judged": 0.0}
        for name in laws
    }
    for start in range(0, len(rows), PAIR_CHUNK):
        r, a, w = rows[start : start + PAIR_CHUNK], pos[start : start + PAIR_CHUNK], weight[start : start + PAIR_CHUNK]
        dist2 = np.maximum(sq[a, None] + sq[None, :] - 2 * docs[a] @ docs.T, 0.0) * q_norm2[r, None]
        g = qs.teacher_scores[r].astype(np.float64)
        g_pos = g[np.arange(len(r)), a]
        above = g >= g_pos[:, None]
        judged = qs.grades[r] > 0
        f = np.asarray(scorer[r], np.float64)
        f_pos = f[np.arange(len(r)), a]
        losses = {
            tau: np.asarray(_pair_block(f_pos, f, np.nan_to_num(g_pos), np.nan_to_num(g), float(tau)), np.float64)
            for tau in taus
        }
        if radius is not None:  # L²‖u‖² of Theorem 3L per pair and τ
            margin = f_pos[:, None] - f
            shell = {
                tau: local_lipschitz(
                    1 / (1 + np.exp(-np.nan_to_num(g_pos[:, None] - g) / tau)), margin, np.sqrt(dist2), radius
                )
                ** 2
                * dist2
                for tau in taus
            }
        for name, law in laws.items():
            nu = law[r]
            out = acc[name]
            out["rho2"] += float(w @ np.sum(nu * dist2, 1))
            out["rho_inf"] = max(out["rho_inf"], float(np.sqrt(np.max(np.where(nu > 0, dist2, 0.0)))))
            out["fn_teacher"] += float(w @ np.sum(np.where(above, nu, 0.0), 1))
            out["fn_judged"] += float(w @ np.sum(np.where(judged, nu, 0.0), 1))
            for tau in taus:
                loss = np.where(nu > 0, losses[tau], 0.0)
                out["risk"][tau] += float(w @ np.sum(nu * loss, 1))
                out["risk_sq"][tau] += float(w @ np.sum(nu * loss**2, 1))
                out["loss_max"][tau] = max(out["loss_max"][tau], float(np.max(loss)))
                if radius is not None:
                    out["shell_a2"][tau] += float(w @ np.sum(np.where(nu > 0, nu * shell[tau], 0.0), 1))
    for out in acc.values():
        out["rho2"] = math.sqrt(out["rho2"])
    return acc


@dataclass(frozen=True)
class Gap:
    """The T3 term ``Γ(η)`` on pairs drawn with ``ν_η = (1−η) ν + η μ``, at confidence ``1 − δ`` per η.

    ``"ess-sup"`` (Theorem 3(a), every ``‖W‖_F ≤ B``): :func:`simrank.theory.mixture_gap`.
    ``"localised"`` (Theorem 3L with ``W₀ = f₀``, fixed before the data, so ``S₂`` is the whole sample; every
    ``W`` with ``‖W − W₀‖_F ≤ r``, no norm bound): ``Γ(η) = ε₀(η) + U_j(η)`` with ``ε₀`` Bernstein's deviation
    of ``ℓ_{W₀}`` at ``δ/2`` (:func:`~simrank.theory.bousquet_deviation` of the single function, variance
    ``V(η) = E_η ℓ² − A(η)²`` exact, range ``c = max ℓ_{W₀}`` on ``supp ν_η``) and ``U_j`` the shell term
    (:func:`~simrank.theory.shell_deviation`) at ``r_j ≥ r``, ``δ_j = δ/(2j(j+1))``, ``a²(η) = (1−η) a²_ν + η a²_μ``
    and ``Λ ≤ a²`` (``λ_max`` of a PSD matrix is at most its trace; the ``d² × d²`` matrix is not formed)."""

    kind: str
    terms: dict

    def __call__(self, eta: float) -> float:
        t = self.terms
        if self.kind == "ess-sup":
            return mixture_gap(eta, **{k: t[k] for k in ("B", "rho2_nu", "rho2_mu", "rho_inf", "n", "delta")})
        risk = (1 - eta) * t["risk_nu"] + eta * t["risk_mu"]
        variance = max((1 - eta) * t["risk_sq_nu"] + eta * t["risk_sq_mu"] - risk**2, 0.0)
        at_w0 = bousquet_deviation(0.0, variance, t["loss_max"], t["n"], t["delta"] / 2)
        a2 = (1 - eta) * t["a2_nu"] + eta * t["a2_mu"]
        j = t["shell"]
        return at_w0 + shell_deviation(t["radius"], a2, a2, t["rho_inf"], t["n"], t["delta"] / (2 * j * (j + 1)))

    def slope_at_zero(self) -> float:
        """``Γ'(0)``: :func:`~simrank.theory.gap_slope_at_zero` (ess-sup), a forward difference (localised)."""
        t = self.terms
        if self.kind == "ess-sup":
            return gap_slope_at_zero(t["B"], t["rho2_nu"], t["rho2_mu"], t["n"])
        step = 1e-6
        return (self(step) - self(0.0)) / step


def gap_terms(
    kappa_value: float,
    nu: dict,
    mu: dict,
    *,
    norm_bound: float,
    n: int,
    delta: float,
    tau: float = 1.0,
    bound: str = "ess-sup",
    radius: float | None = None,
) -> Gap:
    """The T3 term ``Γ(η)`` of source ``nu`` mixed with target ``mu`` (:func:`pair_terms` entries) as a :class:`Gap`.

    ``ρ_∞`` (and, localised, the loss range) is the value on ``supp ν_η``: ``ν``'s when ``κ < ∞``
    (``supp μ ⊆ supp ν``), else the larger of ``ν``'s and ``μ``'s (T4(d): the diameter jumps at ``η = 0⁺``);
    ``δ`` is split over the η grid. ``bound = "localised"`` needs ``pair_terms(..., radius=r)`` and ``radius``."""
    finite = math.isfinite(kappa_value)
    rho_inf = nu["rho_inf"] if finite else max(nu["rho_inf"], mu["rho_inf"])
    terms = {"B": norm_bound, "rho2_nu": nu["rho2"], "rho2_mu": mu["rho2"], "rho_inf": rho_inf, "n": n}
    terms["delta"] = delta / len(ETA_GRID)
    if bound == "localised":
        if radius is None:
            raise DataError("bound = 'localised' needs the radius r of Theorem 3L")
        j = shell_index(radius)
        terms |= {
            "radius": SHELL_R0 * SHELL_GROWTH**j,
            "shell": j,
            "risk_nu": nu["risk"][tau],
            "risk_mu": mu["risk"][tau],
            "risk_sq_nu": nu["risk_sq"][tau],
            "risk_sq_mu": mu["risk_sq"][tau],
            "loss_max": nu["loss_max"][tau] if finite else max(nu["loss_max"][tau], mu["loss_max"][tau]),
            "a2_nu": nu["shell_a2"][tau],
            "a2_mu": mu["shell_a2"][tau],
        }
    return Gap(bound, terms)


def mixture_bound(eta: float, kappa_value: float, risk_nu: float, risk_mu: float, gap: Gap) -> float:
    """T4(c): ``F(η) = κ_η (A(η) + Γ(η))``, ``A(η) = (1−η) A_ν + η A_μ`` (:func:`simrank.theory.combined_bound`
    with any :class:`Gap`)."""
    return float(kappa_eta(kappa_value, eta) * ((1 - eta) * risk_nu + eta * risk_mu + gap(eta)))


# ============================================================================ advice


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _group_stats(qs: QuerySet, sampler: Sampler, n_groups: int, group_size: int, taus, rng) -> dict:
    """Diameters, Δ̂ / locality (:func:`~simrank.real.confirm.group_diagnostics`) and mean teacher entropies
    per τ of ``n_groups`` groups drawn from ``sampler``."""
    groups, nu = draw_groups(qs, sampler, n_groups, group_size, rng)
    g = jnp.asarray(groups.teacher_scores)
    return {
        "deltas": np.asarray(diameter(jnp.asarray(groups.docs)), np.float64),
        "diag": group_diagnostics(groups, nu, taus[0]),
        "h_pair": {t: float(jnp.mean(pairwise_entropy(g, t))) for t in taus},
        "h_list": {t: float(jnp.mean(listwise_entropy(g, t))) for t in taus},
    }


def advise(inp: AdviceInput, config: AdviceConfig = AdviceConfig()) -> dict:
    """Measure every source and rank the (source, τ, η) choices by the T4(c) bound ``F(η)``.

    Returns ``{"sources": [...], "recommendations": [...], "curves": {...}, "settings": {...}}``: one
    JSON-ready entry per source (``source, locality, delta_hat, kappa, entropy_pair, false_negative_rate,
    eta_star`` and more; ``kappa = None`` means ∞), the ranked choices with their reasons, and the arrays
    the figures draw (not JSON)."""
    qs, taus = inp.qs, tuple(float(t) for t in config.taus)
    ctx = _context(qs)
    mu = inp.target.distribution(ctx)
    sources = dict(inp.sources)
    laws = {name: s.distribution(ctx) for name, s in sources.items()}
    if not any(np.allclose(nu, mu) for nu in laws.values()):
        sources[TARGET_SOURCE], laws[TARGET_SOURCE] = inp.target, mu
    n_pairs = int(np.count_nonzero(qs.positive_probs > 0))
    n = config.n_train or n_pairs
    norm_bound = config.norm_bound or inp.scorer_norm
    radius = (config.radius or norm_bound) if config.bound == "localised" else None
    rng = np.random.default_rng(config.seed)
    n_groups = config.groups_per_query * qs.n_queries
    group_size = min(config.group_size, qs.n_docs)
    measured = {name: _group_stats(qs, sampler, n_groups, group_size, taus, rng) for name, sampler in sources.items()}
    tau_rec = {
        name: min(taus, key=lambda t: (abs(m["h_pair"][t] - config.target_entropy), t)) for name, m in measured.items()
    }
    target_name = next(name for name, nu in laws.items() if np.allclose(nu, mu))
    terms = pair_terms(qs, inp.scorer, laws, sorted(set(tau_rec.values())), radius=radius)
    entries, curves, choices = [], {}, []
    for name in sources:
        nu, m, tau = laws[name], measured[name], tau_rec[name]
        is_target = bool(np.allclose(nu, mu))
        deltas, diag, h_pair, h_list = m["deltas"], m["diag"], m["h_pair"], m["h_list"]
        k_q = kappa(mu, nu)
        k_max = float(k_q.max())
        gap = gap_terms(
            k_max,
            terms[name],
            terms[target_name],
            norm_bound=norm_bound,
            n=n,
            delta=config.delta,
            tau=tau,
            bound=config.bound,
            radius=radius,
        )
        a_nu, a_mu = terms[name]["risk"][tau], terms[target_name]["risk"][tau]
        curve = np.array([mixture_bound(e, k_max, a_nu, a_mu, gap) for e in ETA_GRID])
        eta_star, bound_star = float(ETA_GRID[np.argmin(curve)]), float(curve.min())
        bound = {float(e): mixture_bound(e, k_max, a_nu, a_mu, gap) for e in config.etas}
        entry = {
            "source": name,
            "kind": "target" if name == TARGET_SOURCE else "builtin" if name in BUILTIN_SOURCES else "run",
            "is_target_law": is_target,
            "n_queries": qs.n_queries,
            "locality": float(np.clip(diag["locality"], 0.0, 1.0)),  # round-off can give -1e-16 for uniform
            "support_mean": float(np.mean(np.count_nonzero(nu > 0, axis=1))),
            "delta_hat": diag["delta_hat"],
            "delta_quantiles": {q: float(np.quantile(deltas, float(q))) for q in ("0.5", "0.9", "0.99")}
            | {"max": float(deltas.max())},
            "delta_rms": diag["delta_rms"],
            "kappa": _finite(k_max),
            "kappa_median": _finite(float(np.median(k_q))),
            "entropy_pair": h_pair[tau],
            "entropy_list": h_list[tau],
            "entropy_pair_by_tau": {str(t): h_pair[t] for t in taus},
            "entropy_list_by_tau": {str(t): h_list[t] for t in taus},
            "tau": tau,
            "false_negative_rate": terms[name]["fn_teacher"],
            "judged_negative_rate": terms[name]["fn_judged"],
            "t3": {
                "bound": config.bound,
                "risk_nu": a_nu,
                "risk_mu": a_mu,
                "rho2_nu": gap.terms["rho2_nu"],
                "rho2_mu": gap.terms["rho2_mu"],
                "rho_inf": gap.terms["rho_inf"],
                "B": norm_bound,
                "radius": radius,
                "shell_radius": gap.terms.get("radius"),
                "n": n,
                "delta": config.delta,
                "gap_eta0": gap(0.0),
                "gap_eta1": gap(1.0),
            },
            "bound_by_eta": {str(e): _finite(v) for e, v in bound.items()},
            "augmentation_helps": bool(
                not math.isfinite(k_max) or augmentation_helps(k_max, a_nu, a_mu - a_nu, gap(0.0), gap.slope_at_zero())
            ),
            "eta_star": eta_star,
            "bound_eta_star": bound_star,
        }
        entries.append(entry)
        curves[name] = {
            "deltas": deltas,
            "kappa_eta": kappa_eta(k_max, ETA_GRID),
            "bound": curve,
            "h_pair": h_pair,
            "h_list": h_list,
        }
        # η = 1 trains on μ alone, whatever the source: that choice is the target law's own entry
        etas = [0.0] if is_target else sorted(({float(e) for e in config.etas} | {eta_star}) - {1.0})
        choices += [(mixture_bound(e, k_max, a_nu, a_mu, gap), name, tau, e, entry) for e in etas]
    recommendations = _rank(choices, config)
    settings = {
        "simrank_version": __version__,
        "taus": list(taus),
        "etas": list(map(float, config.etas)),
        "group_size": group_size,
        "n_groups": n_groups,
        "pool_size": config.pool_size,
        "delta": config.delta,
        "B": norm_bound,
        "bound": config.bound,
        "radius": radius,
        "n": n,
        "target_entropy": config.target_entropy,
        "seed": config.seed,
        "n_queries": qs.n_queries,
        "n_docs": qs.n_docs,
        "n_pairs": n_pairs,
        **inp.meta,
        "notes": inp.notes,
    }
    return {"settings": settings, "sources": entries, "recommendations": recommendations, "curves": curves}


def _reasons(entry: dict, eta: float, config: AdviceConfig) -> list[str]:
    k = entry["kappa"]
    k_text = "∞" if k is None else f"{k:.3g}"
    k_eta = float(kappa_eta(np.inf if k is None else k, eta)) if eta > 0 or k is not None else math.inf
    reasons = [
        f"T4(b): κ = {k_text} against the target law; mixing η = {eta:g} of it gives κ_η = "
        f"{'∞' if not math.isfinite(k_eta) else f'{k_eta:.3g}'} (≤ 1/η)",
        f"T4(c),(f): the bound F(η) = κ_η(A(η) + Γ(η)) on the target-law risk is minimised at η* = "
        f"{entry['eta_star']:.2f} for this source"
        + (" (κ = ∞ and A affine: F is non-increasing, η* = 1, T4(e))" if k is None else ""),
        _t3_reason(entry, config),
        f"T1: at τ = {entry['tau']:g} the teacher's pairwise entropy on these groups is "
        f"{entry['entropy_pair']:.3f} nats (the floor of the soft RankNet risk), nearest the target "
        f"{config.target_entropy:.3f}",
    ]
    if k is not None and k > 1:
        verdict = "lowers" if entry["augmentation_helps"] else "does not lower"
        reasons.append(
            f"T4(e): at η = 0 the marginal condition (κ−1)(A(0) + Γ(0)) > A'(0) + Γ'(0) says mixing in the target "
            f"law {verdict} the bound"
        )
    if entry["false_negative_rate"] > config.false_negative_alert:
        reasons.append(
            f"T5(a): {100 * entry['false_negative_rate']:.1f}% of negatives score at or above the positive under "
            "the teacher (LCE learns log p − log ν, so these bias a contrastive student): prefer a distillation "
            "loss or a false-negative filter"
        )
    return reasons


def _t3_reason(entry: dict, config: AdviceConfig) -> str:
    t3 = entry["t3"]
    if t3["bound"] == "localised":
        return (
            f"T3L: Γ(0) = {t3['gap_eta0']:.3g} holds for every student within ‖W − W₀‖_F ≤ {t3['radius']:.3g} of the "
            f"start (shell {t3['shell_radius']:.3g}), with ρ_∞ = {t3['rho_inf']:.3g} (Δ̂ = {entry['delta_hat']:.3g} "
            f"on {config.group_size}-groups, T2)"
        )
    return (
        f"T3: Γ uses ρ₂(ν) = {t3['rho2_nu']:.3g}, ρ₂(μ) = {t3['rho2_mu']:.3g}, "
        f"ρ_∞ = {t3['rho_inf']:.3g} (Δ̂ = {entry['delta_hat']:.3g} on {config.group_size}-groups, T2)"
    )


def _rank(choices: list, config: AdviceConfig) -> list[dict]:
    """The choices ranked by the T4(c) bound ``F``, the guarantee on the μ-risk; ``vacuous``: ``F ≥ A_μ(f₀)``, the
    guarantee is weaker than the μ-risk the starting scorer already has (no recommendation is made from it)."""
    order = sorted(choices, key=lambda c: (c[0], c[3], c[1]))  # ties: the smaller η, then the name
    return [
        {
            "rank": i + 1,
            "source": name,
            "tau": tau,
            "eta": eta,
            "bound": _finite(value),
            "vacuous": bool(value >= entry["t3"]["risk_mu"]),
            "reasons": _reasons(entry, eta, config),
        }
        for i, (value, name, tau, eta, entry) in enumerate(order)
    ]
