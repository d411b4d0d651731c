"""``simrank advise --data DIR --negatives RUN…``: the candidate negatives ranked by the predicted excess on real data.

The training-aware prediction :func:`simrank.theory.predict_excess` needs a world; on a practitioner's collection it
gets the collection's empirical laws through :class:`simrank.theory.monte_carlo.EmpiricalWorld`
(:func:`empirical_world`):

* **query law**: the judged training queries of the data mode (:func:`simrank.advise.analysis.load_inputs`),
  resampled uniformly;
* **corpus and student**: the collection's document embeddings seen through ``P``, the top-``r`` right singular
  vectors of the document matrix (``--rank``): the student is the bilinear ``(P q)ᵀ W (P x)`` with ``r²``
  parameters (the full ``d × d`` student of 384-dimensional embeddings would need Hessians with ``d⁴ ≈ 2·10¹⁰``
  entries); the real students' residual cosine term ``α₀ qᵀx`` is not modelled;
* **teacher**: the data mode's teacher scores (the built-in hybrid teacher of the confirm and empirical designs, or a
  ``--teacher`` run scoring every document), the target of distillation; the positive of a group is the teacher's
  top document (``teacher_top1``, the label source of the confirm and empirical designs);
* **candidates**: every source ``ν`` (its TREC run, uniform over the run's documents of the query, or a built-in
  sampler) mixed with a fraction ``η < 1`` of uniform negatives, ``ν_η = (1 − η) ν + η μ`` (``η = 1`` is uniform
  negatives for every source: list ``random`` to include it).

Each candidate gets

    predicted_excess(ν, η) = Bias(η) + (V(η) + D(η))/n,

the excess target risk ``E R_T(ŵ_η) − min R_T`` of the student fitted to convergence on ``n`` i.i.d. training groups
of ``k`` items (``--n-train``, default the number of (query, positive) pairs; ``--group-size``), for the loss
``--loss`` at label temperature ``--label-tau``, with the target law ``T`` of ``--target-law`` (``uniform``: uniform
negatives over the corpus; ``top10``: the teacher's top 10 of the query); "true" here is over the training queries'
empirical law.  Rank 1 is the smallest prediction.  Beside it stands the T3/T4 certificate of
:func:`simrank.advise.analysis.advise` at the source's τ and the same η, labelled the *guarantee on the μ-risk*
(``vacuous`` where it is ∞ or at least the starting scorer's μ-risk: it then certifies nothing, and no recommendation
is made from it).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from simrank.advise.analysis import AdviceConfig, AdviceInput
from simrank.errors import ConfigError, check_positive
from simrank.groups import QuerySet
from simrank.real.confirm.design import RealConfig
from simrank.real.data.beir import DataError
from simrank.real.data.queryset import teacher_positives
from simrank.stats import spearman
from simrank.theory.monte_carlo import EmpiricalWorld
from simrank.theory.prediction import TARGETS, excess_curve

__all__ = [
    "PREDICTION_LOSSES",
    "PredictionConfig",
    "empirical_agreement",
    "empirical_world",
    "predict_data",
    "principal_projection",
]

#: Losses the prediction is stated for (convex in the scores, paper/theory.md §10).
PREDICTION_LOSSES = ("kl", "lce", "margin_mse", "ranknet_soft", "listnet")


@dataclass(frozen=True)
class PredictionConfig:
    """The prediction's loss, label temperature, student rank, target law and Monte Carlo size (checked: one-line
    :class:`~simrank.errors.ConfigError`).

    Attributes:
      loss: the training loss of every candidate, one of :data:`PREDICTION_LOSSES`.
      tau: the label temperature ``τ`` of the loss.
      rank: ``r``, the number of principal coordinates the student sees (``r²`` parameters).
      target: the target law, a key of :data:`simrank.theory.prediction.TARGETS`.
      population: Monte Carlo groups per population of :func:`~simrank.theory.predict_excess`.
      seed: the populations' seed.
    """

    loss: str = "kl"
    tau: float = 1.0
    rank: int = 8
    target: str = "uniform"
    population: int = 5000
    seed: int = 0

    def __post_init__(self) -> None:
        if self.loss not in PREDICTION_LOSSES:
            raise ConfigError(
                f"--loss {self.loss!r} is not allowed in the data mode; choose one of {', '.join(PREDICTION_LOSSES)} "
                "(the losses convex in the scores that the prediction is stated for)"
            )
        if self.target not in TARGETS:
            raise ConfigError(f"--target-law {self.target!r} is not allowed; choose one of {', '.join(TARGETS)}")
        if isinstance(self.rank, bool) or not isinstance(self.rank, int) or self.rank < 1:
            raise ConfigError(f"--rank {self.rank!r} is not allowed; it must be an integer >= 1")
        check_positive("--label-tau", self.tau)
        check_positive("--population", self.population)


def principal_projection(docs: np.ndarray, rank: int) -> np.ndarray:
    """``P [r, d]``: the top-``r`` right singular vectors of the document matrix ``X [N, d]`` (uncentred; the top
    eigenvectors of ``XᵀX``), so that ``‖X Pᵀ‖_F²`` is the largest share of ``‖X‖_F²`` any ``r`` orthonormal
    directions keep.

    Args:
      docs: ``[N, d]`` document embeddings.
      rank: ``r ≤ d``.

    Returns:
      ``[r, d]`` orthonormal rows, the direction of the largest singular value first.

    Examples:
      >>> X = np.array([[3.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 1.0]])
      >>> np.abs(principal_projection(X, 2)).round(6).tolist()
      [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
    docs = np.asarray(docs, np.float64)
    if rank > docs.shape[1]:
        raise DataError(f"--rank {rank} is not allowed; it must be <= the embedding dimension {docs.shape[1]}")
    vectors = np.linalg.eigh(docs.T @ docs)[1]  # ascending eigenvalues of XᵀX: its last columns are the top ones
    return vectors[:, ::-1][:, :rank].T


def empirical_world(qs: QuerySet, projection: np.ndarray) -> EmpiricalWorld:
    """The data mode's training queries as an :class:`~simrank.theory.monte_carlo.EmpiricalWorld`: queries and
    documents in the coordinates ``P q``, ``P x`` (``projection``, e.g. :func:`principal_projection`), the teacher's
    scores, the teacher's top document as the positive (:func:`simrank.real.data.queryset.teacher_positives` with the
    confirm design's label source), every proxy (BM25, dense, teacher, runs) as it was.

    Args:
      qs: the data mode's query set (:attr:`simrank.advise.analysis.AdviceInput.qs`).
      projection: ``P [r, d]``.

    Returns:
      the :class:`~simrank.theory.monte_carlo.EmpiricalWorld` whose pool has ``[n, r]`` queries and ``[N, r]``
      documents.

    Raises:
      DataError: the teacher has no score for some (query, document) pair (the target law needs every document).
    """
    g = np.asarray(qs.teacher_scores)
    if not np.isfinite(g).all():
        raise DataError(
            f"the teacher scores {int(np.isfinite(g).sum())} of the {g.size} (query, document) pairs; the prediction "
            "needs every document's score (its target law is over the whole corpus)"
        )
    P = np.asarray(projection, np.float64)
    pool = QuerySet(
        docs=np.asarray(qs.docs, np.float64) @ P.T,
        queries=np.asarray(qs.queries, np.float64) @ P.T,
        teacher_scores=g,
        positive_probs=teacher_positives(g, RealConfig.label_source),
        grades=np.zeros((qs.n_queries, 0), np.int8),
        proxies=qs.proxies,
    )
    return EmpiricalWorld(pool)


def predict_data(
    inp: AdviceInput, advice: dict[str, Any], config: AdviceConfig, pcfg: PredictionConfig
) -> dict[str, Any]:
    """Rank every (source, η < 1) candidate of the data mode by the predicted excess (module docstring).

    Args:
      inp: :func:`~simrank.advise.analysis.load_inputs`' output (sources and query set).
      advice: :func:`~simrank.advise.analysis.advise`'s output on ``inp`` (the certificate of each source and η).
      config: the data mode's settings (``etas``, ``group_size``, ``n_train``).
      pcfg: the prediction's settings.

    Returns:
      ``{"settings": {...}, "candidates": [...]}``: the candidates best first, each with ``source``, ``eta``,
      ``rank``, ``predicted_excess``, ``bias``, ``variance``, ``drift``, ``target_risk_min``, ``guarantee`` (the
      certificate F on the μ-risk; None: ∞) and ``vacuous``; or ``{"settings": {...}, "unavailable": reason}``.
    """
    start = time.perf_counter()
    n = config.n_train or int(np.count_nonzero(inp.qs.positive_probs > 0))
    group_size = min(config.group_size, inp.qs.n_docs)
    settings = asdict(pcfg) | {"n_train": n, "group_size": group_size, "n_queries": inp.qs.n_queries}
    etas = sorted({float(e) for e in config.etas if e < 1.0})
    if not etas:
        return {"settings": settings, "unavailable": "no --eta below 1 (η = 1 is uniform negatives: list random)"}
    projection = principal_projection(inp.qs.docs, pcfg.rank)  # a bad --rank: DataError, exit 2
    try:
        world = empirical_world(inp.qs, projection)
    except DataError as exc:
        return {"settings": settings, "unavailable": str(exc)}
    certificate = {e["source"]: e for e in advice["sources"]}
    candidates = []
    for name, sampler in inp.sources.items():
        curve = excess_curve(world, None, sampler, loss=pcfg.loss, group_size=group_size, etas=etas,
                             target=pcfg.target, tau=pcfg.tau, population=pcfg.population,
                             seed=pcfg.seed)  # fmt: skip
        entry = certificate[name]
        for p in curve:
            bound = entry["bound_by_eta"].get(str(p.eta))
            candidates.append(
                {
                    "source": name,
                    "eta": p.eta,
                    "predicted_excess": p.at(n),
                    "bias": p.bias,
                    "variance": p.variance,
                    "drift": p.drift,
                    "target_risk_min": p.target_risk_min,
                    "guarantee": bound,
                    "vacuous": bool(bound is None or bound >= entry["t3"]["risk_mu"]),
                }
            )
    candidates.sort(key=lambda c: (c["predicted_excess"], c["eta"], c["source"]))  # ties: the smaller η, the name
    for rank, c in enumerate(candidates, 1):
        c["rank"] = rank
    settings["seconds"] = round(time.perf_counter() - start, 1)
    return {"settings": settings, "candidates": candidates}


def _empirical_name(source: str, eta: float) -> str:
    """The ``--empirical`` mode's sampler name of a data-mode candidate (``bm25`` at η = 0.5: ``bm25@0.5``)."""
    return source if eta == 0 else f"{source}@{eta:g}"


def empirical_agreement(prediction: dict[str, Any], empirical: dict[str, Any]) -> dict[str, Any]:
    """The prediction against the ``--empirical`` mode's trained outcome for the candidates both have: Spearman
    ``ρ(−rank, held-out nDCG@10)`` over the empirical candidates of the prediction's loss (the ranks re-counted
    among them).

    Args:
      prediction: the ``prediction`` part of a data-mode ``advice.json`` (:func:`predict_data`).
      empirical: an ``--empirical`` mode's ``advice.json`` (:func:`simrank.advise.empirical.advise_empirical`).

    Returns:
      ``{"loss", "table", "spearman", "spearman_low", "spearman_high", "n"}``; ``table``: per shared candidate its
      name, predicted excess, rank among the shared ones and held-out nDCG@10 (best predicted first).

    Examples:
      >>> pred = {"settings": {"loss": "kl"}, "candidates": [
      ...     {"source": s, "eta": e, "predicted_excess": x} for s, e, x in
      ...     [("bm25", 0.0, 1.0), ("random", 0.0, 2.0), ("bm25", 0.5, 3.0), ("dense", 0.0, 0.5)]]}
      >>> emp = {"candidates": [{"sampler": s, "loss": "kl", "decide_ndcg10": {"mean": v}} for s, v in
      ...     [("bm25", 0.7), ("random", 0.6), ("bm25@0.5", 0.5), ("teacher", 0.9)]]}
      >>> agree = empirical_agreement(pred, emp)
      >>> agree["n"], agree["spearman"], [row["candidate"] for row in agree["table"]]
      (3, 1.0, ['bm25', 'random', 'bm25@0.5'])
    """
    loss = prediction["settings"]["loss"]
    measured = {c["sampler"]: c["decide_ndcg10"]["mean"] for c in empirical["candidates"] if c["loss"] == loss}
    shared = [c for c in prediction["candidates"] if _empirical_name(c["source"], c["eta"]) in measured]
    shared.sort(key=lambda c: c["predicted_excess"])
    table = [
        {
            "candidate": _empirical_name(c["source"], c["eta"]),
            "predicted_excess": c["predicted_excess"],
            "rank": i + 1,
            "ndcg10": measured[_empirical_name(c["source"], c["eta"])],
        }
        for i, c in enumerate(shared)
    ]
    ranks, ndcg = [-r["rank"] for r in table], [r["ndcg10"] for r in table]
    corr = spearman(ranks, ndcg) if len(table) >= 3 else None

    def _num(x: float | None) -> float | None:
        return None if x is None or math.isnan(x) else float(x)

    return {
        "loss": loss,
        "table": table,
        "spearman": None if corr is None else _num(corr.r),
        "spearman_low": None if corr is None else _num(corr.low),
        "spearman_high": None if corr is None else _num(corr.high),
        "n": len(table),
    }
