"""Measured quantities of theory.md section 2, as pure JAX/numpy functions over groups and scores.

Group geometry and labels (shapes ``[..., k, d]`` / ``[..., k]``):

* ``diameter``: ``Δ(G) = max_{i<j} ‖x_i − x_j‖``; ``cosine_diameter`` with ``1 − cos`` instead;
* ``diameter_summary``: max, 0.99-quantile and RMS ``sqrt(mean ‖q‖² Δ(G)²)`` over groups;
* ``pairwise_entropy``: ``H_pair(G) = mean_{i<j} h(σ((g_i − g_j)/τ))`` (``temperature_for_entropy``
  inverts its mean over groups in τ); ``listwise_entropy``:
  ``H(softmax(g/τ))`` (nats);
* ``kappa``: ``κ_q = max_x μ_q(x)/ν_q(x)`` (∞ where ν misses μ's support);
* ``lipschitz``: ``max ‖∇_x f(q, x)‖`` over the given points (exactly ``‖Wᵀq‖`` for bilinear students).

Ranking quality over a whole corpus (scores ``[n, N]``, grades ``[n, N]``):

* ``ndcg_at``: ``DCG@c / IDCG@c`` with discount ``1/log₂(rank + 1)`` and gain ``2^grade − 1`` (``gain="exponential"``,
  the default, as in rax and Burges et al.) or ``grade`` (``gain="linear"``, as trec_eval's and ir_measures'
  ``nDCG@c``); the results column ``ndcg10`` is the exponential one (the two agree on binary labels);
* ``rr_at``: ``1/rank`` of the first document with ``grade ≥ 1`` within the top ``c`` (0 if none);
* ``recall_at``: ``|relevant ∩ top c| / |relevant|`` (0 when nothing is relevant);
* ``kendall_tau``: Kendall's τ-a between two score vectors over the last axis;
* ``corpus_kl``: ``KL(softmax(g/τ) ‖ softmax(f))`` over the corpus.

Correlation across queries (values ``[..., n]``):

* ``average_ranks``: rank of each value (1 = smallest), ties sharing the mean of their ranks;
* ``rank_correlation``: Spearman's ρ, the Pearson correlation of the average ranks (NaN if either is constant).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from simrank.errors import check_choice
from simrank.losses import binary_entropy, kl_distill, pair_mask, softmax_entropy

__all__ = [
    "IR_NAMES",
    "average_ranks",
    "corpus_kl",
    "cosine_diameter",
    "ir_name",
    "diameter",
    "diameter_summary",
    "kappa",
    "kendall_tau",
    "lipschitz",
    "listwise_entropy",
    "NDCG_GAINS",
    "ndcg_at",
    "pairwise_distances",
    "pairwise_entropy",
    "rank_correlation",
    "recall_at",
    "rr_at",
    "temperature_for_entropy",
]


def pairwise_distances(docs: jax.Array) -> jax.Array:
    """Euclidean distances ``‖x_i − x_j‖`` between all items of a group.

    Args:
      docs: ``[..., k, d]`` document vectors.

    Returns:
      ``[..., k, k]`` distances (0 on the diagonal).

    Examples:
      >>> docs = jnp.array([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]])
      >>> pairwise_distances(docs)[0].tolist()
      [0.0, 5.0, 1.0]
    """
    sq = jnp.sum(docs**2, -1)
    d2 = sq[..., :, None] + sq[..., None, :] - 2 * jnp.einsum("...id,...jd->...ij", docs, docs)
    return jnp.sqrt(jnp.maximum(d2, 0.0))


def diameter(docs: jax.Array, where: jax.Array | None = None) -> jax.Array:
    """Group diameter ``Δ(G) = max_{i<j} ‖x_i − x_j‖`` over valid items.

    Args:
      docs: ``[..., k, d]`` document vectors of each group.
      where: optional boolean ``[..., k]`` mask of valid items.

    Returns:
      ``[...]`` diameters.

    Examples:
      >>> docs = jnp.array([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]])
      >>> float(diameter(docs)), float(diameter(docs, where=jnp.array([True, False, True])))
      (5.0, 1.0)
    """
    dist = pairwise_distances(docs)
    if where is not None:
        dist = jnp.where(where[..., :, None] & where[..., None, :], dist, 0.0)
    return dist.max(axis=(-2, -1))


def cosine_diameter(docs: jax.Array, where: jax.Array | None = None) -> jax.Array:
    """Cosine diameter ``max_{i<j} (1 − cos(x_i, x_j))`` over valid items.

    Args:
      docs: ``[..., k, d]`` document vectors (need not be normalised).
      where: optional boolean ``[..., k]`` mask of valid items.

    Returns:
      ``[...]`` values in ``[0, 2]``.

    Examples:
      >>> float(cosine_diameter(jnp.array([[1.0, 0.0], [0.0, 2.0]])))  # orthogonal: 1 − 0
      1.0
    """
    unit = docs / jnp.maximum(jnp.linalg.norm(docs, axis=-1, keepdims=True), 1e-12)
    return 0.5 * diameter(unit, where) ** 2


def diameter_summary(deltas: np.ndarray, query_norms: np.ndarray) -> dict[str, float]:
    """Max, 0.99-quantile and RMS ``sqrt(mean ‖q‖² Δ²)`` of per-group diameters.

    Args:
      deltas: ``[n]`` group diameters ``Δ(G)``.
      query_norms: ``[n]`` norms ``‖q‖`` of each group's query.

    Returns:
      ``{"delta_hat", "delta_max", "delta_rms"}`` (``delta_hat``: the 0.99-quantile Δ̂) as floats.

    Examples:
      >>> diameter_summary(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 2.0]))["delta_rms"]  # sqrt((1+4+36)/3)
      3.696846
    """
    deltas = np.asarray(deltas, dtype=np.float64)
    return {
        "delta_max": float(deltas.max()),
        "delta_hat": float(np.quantile(deltas, 0.99)),
        "delta_rms": float(np.sqrt(np.mean(np.asarray(query_norms, np.float64) ** 2 * deltas**2))),
    }


def pairwise_entropy(teacher: jax.Array, tau: ArrayLike, where: jax.Array | None = None) -> jax.Array:
    """Pairwise teacher entropy ``H_pair(G) = mean_{i<j} h(σ((g_i − g_j)/τ))`` in nats, ``h`` the binary entropy.

    Args:
      teacher: ``[..., k]`` teacher scores ``g``.
      tau: label temperature ``τ > 0`` (scalar or broadcastable to ``[...]`` with a trailing axis).
      where: optional boolean ``[..., k]`` mask of valid items.

    Returns:
      ``[...]`` entropies in ``[0, log 2]``.

    Examples:
      >>> float(pairwise_entropy(jnp.array([1.0, 0.0, -1.0]), 1.0))  # mean of h(σ(1)), h(σ(2)), h(σ(1))
      0.509913
    """
    if where is None:
        where = jnp.ones(teacher.shape, dtype=bool)
    pairs = pair_mask(where)
    h = binary_entropy(jax.nn.sigmoid((teacher[..., :, None] - teacher[..., None, :]) / tau))
    return jnp.sum(jnp.where(pairs, h, 0.0), (-2, -1)) / jnp.maximum(pairs.sum((-2, -1)), 1)


_MEAN_ENTROPY = {
    "pairwise": jax.jit(lambda teacher, tau: jnp.mean(pairwise_entropy(teacher, tau))),
    "listwise": jax.jit(lambda teacher, tau: jnp.mean(listwise_entropy(teacher, tau))),
}


def temperature_for_entropy(
    teacher: np.ndarray,
    target: float,
    low: float = 1e-3,
    high: float = 1e3,
    tol: float = 1e-6,
    kind: str = "pairwise",
) -> float:
    """The τ at which the mean entropy of the groups ``mean_G H(G; τ)`` equals ``target`` nats: ``H_pair``
    (:func:`pairwise_entropy`, target in ``(0, log 2)``) or ``H_list`` (:func:`listwise_entropy`, target in
    ``(0, log k)``); bisection on ``log τ`` (both are non-decreasing in τ), clipped to [low, high].

    Args:
      teacher: ``[n, k]`` teacher scores of ``n`` groups.
      target: the wanted mean entropy in nats.
      low: smallest τ searched.
      high: largest τ searched.
      tol: stopping width of the bracket in ``log τ``.
      kind: ``"pairwise"`` or ``"listwise"``.

    Returns:
      τ as a float.

    Examples:
      >>> g = np.array([[1.0, 0.0, -1.0]])
      >>> round(temperature_for_entropy(g, float(pairwise_entropy(g, 2.0)[0])), 4)  # recovers τ = 2
      2.0
    """
    if kind not in _MEAN_ENTROPY:
        raise ValueError(f"kind = {kind!r} is not allowed; choose one of {', '.join(_MEAN_ENTROPY)}")
    g, mean_entropy = jnp.asarray(teacher), _MEAN_ENTROPY[kind]

    def h(log_tau: float) -> float:
        return float(mean_entropy(g, float(np.exp(log_tau))))

    a, b = np.log(low), np.log(high)
    while b - a > tol:
        mid = 0.5 * (a + b)
        a, b = (mid, b) if h(mid) < target else (a, mid)
    return float(np.exp(0.5 * (a + b)))


def listwise_entropy(teacher: jax.Array, tau: ArrayLike, where: jax.Array | None = None) -> jax.Array:
    """Listwise teacher entropy ``H_list(G) = H(softmax(g/τ))`` in nats.

    Args:
      teacher: ``[..., k]`` teacher scores ``g``.
      tau: label temperature ``τ > 0``.
      where: optional boolean ``[..., k]`` mask of valid items.

    Returns:
      ``[...]`` entropies in ``[0, log k]``.

    Examples:
      >>> float(listwise_entropy(jnp.zeros(4), 1.0))  # log 4
      1.386294
    """
    return softmax_entropy(teacher / tau, where=where)


def kappa(mu: np.ndarray, nu: np.ndarray) -> np.ndarray:
    """Density-ratio bound ``κ_q = max_x μ_q(x)/ν_q(x)`` per row; ``inf`` where ``ν_q(x) = 0 < μ_q(x)``.

    Args:
      mu: ``[..., N]`` target distributions ``μ_q``.
      nu: ``[..., N]`` sampling distributions ``ν_q``.

    Returns:
      ``[...]`` values ``κ_q ≥ 1`` (for distributions).

    Examples:
      >>> mu = np.full((1, 4), 0.25)
      >>> kappa(mu, np.array([[0.1, 0.2, 0.3, 0.4]])).tolist()  # 0.25 / 0.1
      [2.5]
      >>> kappa(mu, np.array([[0.5, 0.5, 0.0, 0.0]])).tolist()  # ν misses half of μ's support
      [inf]
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(mu > 0, mu / nu, 0.0)
    return ratio.max(axis=-1)


def lipschitz(apply: Callable[..., jax.Array], params: Any, queries: jax.Array, docs: jax.Array) -> jax.Array:
    """Lipschitz constant of the student in the document, ``max_{q, x} ‖∇_x f(q, x)‖``, over the points given.

    Args:
      apply: a student's ``apply(params, query [d], docs [k, d]) -> [k]``.
      params: the student's parameters.
      queries: ``[n, d]`` query rows.
      docs: ``[m, d]`` document rows.

    Returns:
      scalar maximum gradient norm (exactly ``max_q ‖Wᵀq‖`` for a bilinear student).

    Examples:
      >>> from simrank.students import bilinear
      >>> params = {"w": jnp.array([[2.0, 0.0], [0.0, 1.0]])}
      >>> float(lipschitz(bilinear(2).apply, params, jnp.array([[1.0, 1.0]]), jnp.zeros((3, 2))))  # ‖(2, 1)‖
      2.236068
    """

    def score(q, x):
        return apply(params, q, x[None, :])[0]

    grad_x = jax.vmap(jax.vmap(jax.grad(score, argnums=1), (None, 0)), (0, None))(queries, docs)
    return jnp.max(jnp.linalg.norm(grad_x, axis=-1))


def _top(scores: jax.Array, cutoff: int, measure: str) -> jax.Array:
    """Indices of the ``cutoff`` best-scored documents per row; a cutoff beyond the list is a clear error."""
    n_docs = scores.shape[-1]
    if not isinstance(cutoff, (int, np.integer)) or not 1 <= cutoff <= n_docs:
        raise ValueError(
            f"{measure}: cutoff = {cutoff!r} must be an integer in [1, {n_docs}] (the list has {n_docs} documents)"
        )
    return jax.lax.top_k(scores, cutoff)[1]


def _ranked_grades(scores: jax.Array, grades: jax.Array, cutoff: int, measure: str) -> jax.Array:
    return jnp.take_along_axis(grades, _top(scores, cutoff, measure), axis=-1)


#: nDCG gain functions ``gain(grade)``: ``exponential`` ``2^g − 1`` (rax, Burges et al. 2005; the default and the
#: results column ``ndcg10``), ``linear`` ``g`` (trec_eval ``ndcg_cut``, ir_measures ``nDCG@k``).
NDCG_GAINS = {"exponential": lambda g: 2.0**g - 1.0, "linear": lambda g: g}


#: ir_measures-style display names of the stored measure columns, one name per measure in synthetic and real
#: tables: nDCG@10 is the exponential-gain ``ndcg10`` column; the per-query Spearman ρ between KL(teacher ‖ student)
#: and nDCG@10 is stored as ``kl_ndcg_corr`` (synthetic) and ``kl_ndcg_spearman`` (real).
IR_NAMES = {
    "kl_ndcg_spearman": "Spearman(KL, nDCG@10)",
    "kl_ndcg_corr": "Spearman(KL, nDCG@10)",
    "ndcg10": "nDCG@10",
    "rr10": "RR@10",
    "r100": "R@100",
}
_IR_NAME = re.compile(r"(?<![A-Za-z0-9])(" + "|".join(IR_NAMES) + r")(?![A-Za-z0-9])")


def ir_name(column: str) -> str:
    """``column`` with every stored measure name replaced by its :data:`IR_NAMES` name, prefixes and suffixes kept
    (``ndcg10`` → ``nDCG@10``, ``val_ndcg10_q`` → ``val_nDCG@10_q``, ``kl_ndcg_corr_mean`` →
    ``Spearman(KL, nDCG@10)_mean``); other columns unchanged. Applying it twice changes nothing.

    Args:
      column: a results column name.

    Returns:
      The display name.

    Examples:
      >>> [ir_name(c) for c in ("ndcg10", "zs_vaswani_ndcg10_q", "rr10_rerank", "kl_ndcg_corr", "seed")]
      ['nDCG@10', 'zs_vaswani_nDCG@10_q', 'RR@10_rerank', 'Spearman(KL, nDCG@10)', 'seed']
    """
    return _IR_NAME.sub(lambda m: IR_NAMES[m.group(1)], column)


def ndcg_at(scores: jax.Array, grades: jax.Array, cutoff: int = 10, gain: str = "exponential") -> jax.Array:
    """nDCG@c per query row: ``DCG@c / IDCG@c`` with ``DCG@c = Σ_{r=1..c} gain(grade at rank r) / log₂(r + 1)``
    and IDCG the DCG of the ideal order.

    ``gain = "exponential"`` (default): ``2^grade − 1``, as in rax; the ``ndcg10`` column of every results table.
    ``gain = "linear"``: ``grade``, as trec_eval and ir_measures (``nDCG@10``). They agree on binary labels.

    Args:
      scores: ``[n, N]`` scores of every document for each query.
      grades: ``[n, N]`` graded relevance (0 = not relevant).
      cutoff: ``c``, the number of top documents counted (``1 ≤ c ≤ N``).
      gain: a key of :data:`NDCG_GAINS`.

    Returns:
      ``[n]`` values in ``[0, 1]`` (0 when no document is relevant).

    Raises:
      ValueError: ``cutoff`` outside ``[1, N]`` or an unknown ``gain``, in one line.

    Examples:
      >>> scores, grades = jnp.array([[3.0, 2.0, 1.0, 0.0]]), jnp.array([[0, 1, 0, 2]])
      >>> ndcg_at(scores, grades, cutoff=2).tolist()  # ranked (0, 1), ideal (2, 1): (1/log₂3) / (3 + 1/log₂3)
      [0.173765]
      >>> ndcg_at(scores, grades, cutoff=2, gain="linear").tolist()  # (1/log₂3) / (2 + 1/log₂3)
      [0.239812]
    """
    check_choice("gain", gain, NDCG_GAINS)
    gain_of = NDCG_GAINS[gain]
    grades = grades.astype(jnp.float32)
    discount = 1.0 / jnp.log2(jnp.arange(cutoff) + 2.0)
    dcg = jnp.sum(gain_of(_ranked_grades(scores, grades, cutoff, "ndcg_at")) * discount, -1)
    ideal = jnp.sum(gain_of(jax.lax.top_k(grades, cutoff)[0]) * discount, -1)
    return jnp.where(ideal > 0, dcg / jnp.where(ideal > 0, ideal, 1.0), 0.0)


def rr_at(scores: jax.Array, grades: jax.Array, cutoff: int = 10) -> jax.Array:
    """RR@c: ``1/rank`` of the first document with grade ≥ 1 within the top ``c`` (0 if none).

    Args:
      scores: ``[n, N]`` scores of every document for each query.
      grades: ``[n, N]`` graded relevance.
      cutoff: ``c``, the number of top documents looked at.

    Returns:
      ``[n]`` reciprocal ranks in ``{0} ∪ {1/r : 1 ≤ r ≤ c}``.

    Examples:
      >>> scores, grades = jnp.array([[3.0, 2.0, 1.0, 0.0]]), jnp.array([[0, 1, 0, 2]])
      >>> rr_at(scores, grades, cutoff=2).tolist(), rr_at(scores, grades, cutoff=1).tolist()
      ([0.5], [0.0])
    """
    relevant = _ranked_grades(scores, grades, cutoff, "rr_at") >= 1
    first = jnp.argmax(relevant, axis=-1)
    return jnp.where(relevant.any(-1), 1.0 / (first + 1.0), 0.0)


def recall_at(scores: jax.Array, relevance: jax.Array, cutoff: int = 100) -> jax.Array:
    """Recall@cutoff per row: ``|{x in top cutoff : rel(x) > 0}| / |{x : rel(x) > 0}|`` (0 when none is relevant).

    Args:
      scores: ``[..., N]`` scores (higher ranks first).
      relevance: ``[..., N]`` graded or binary relevance; a document counts as relevant when ``> 0``.
      cutoff: how many top-ranked documents are retrieved (``<= N``).

    Returns:
      ``[...]`` recall in [0, 1].

    Examples:
      >>> scores, relevance = jnp.array([[3.0, 2.0, 1.0, 0.0]]), jnp.array([[0, 1, 0, 2]])
      >>> recall_at(scores, relevance, cutoff=2).tolist()  # one of the two relevant documents in the top 2
      [0.5]
    """
    hit = _ranked_grades(scores, relevance, cutoff, "recall_at") > 0
    total = jnp.sum(relevance > 0, -1)
    return jnp.where(total > 0, hit.sum(-1) / jnp.maximum(total, 1), 0.0)


def kendall_tau(a: jax.Array, b: jax.Array) -> jax.Array:
    """Kendall's τ-a over the last axis: ``mean_{i<j} sign(a_i − a_j) sign(b_i − b_j)``.

    Args:
      a: ``[..., k]`` scores.
      b: ``[..., k]`` scores.

    Returns:
      ``[...]`` values in ``[−1, 1]`` (ties count 0).

    Examples:
      >>> float(kendall_tau(jnp.array([1.0, 2.0, 3.0]), jnp.array([1.0, 3.0, 2.0])))  # (1 + 1 − 1) / 3
      0.333333
    """
    k = a.shape[-1]
    agree = jnp.sign(a[..., :, None] - a[..., None, :]) * jnp.sign(b[..., :, None] - b[..., None, :])
    return jnp.sum(jnp.triu(agree, 1), (-2, -1)) / (k * (k - 1) / 2)


def corpus_kl(student_scores: jax.Array, teacher_scores: jax.Array, tau: ArrayLike) -> jax.Array:
    """``KL(softmax(g/τ) ‖ softmax(f))`` over the whole corpus, per query row.

    Args:
      student_scores: ``[n, N]`` student scores ``f``.
      teacher_scores: ``[n, N]`` teacher scores ``g``.
      tau: label temperature ``τ > 0``.

    Returns:
      ``[n]`` divergences in nats.

    Examples:
      >>> g = jnp.array([[1.0, 0.0, -1.0]])
      >>> corpus_kl(g / 2.0, g, 2.0).tolist()  # f = g/τ: zero
      [0.0]
    """
    return kl_distill(student_scores, teacher_scores, tau=tau)


def average_ranks(x: jax.Array) -> jax.Array:
    """Ranks over the last axis, 1 = smallest, ties given the mean of the ranks they span:
    ``r_i = 1 + #{j: x_j < x_i} + (#{j: x_j = x_i} − 1)/2``.

    Args:
      x: ``[..., n]`` values.

    Returns:
      ``[..., n]`` ranks in ``[1, n]``.

    Examples:
      >>> average_ranks(jnp.array([3.0, 1.0, 3.0, 2.0])).tolist()
      [3.5, 1.0, 3.5, 2.0]
    """
    below = jnp.sum(x[..., None, :] < x[..., :, None], axis=-1)
    equal = jnp.sum(x[..., None, :] == x[..., :, None], axis=-1)
    return 1.0 + below + (equal - 1) / 2.0


def rank_correlation(a: jax.Array, b: jax.Array) -> jax.Array:
    """Spearman's ρ over the last axis: with ``r = average_ranks(a)``, ``s = average_ranks(b)``,
    ``ρ = Σ (r_i − r̄)(s_i − s̄) / sqrt(Σ (r_i − r̄)² · Σ (s_i − s̄)²)``; NaN when ``a`` or ``b`` is constant.

    Args:
      a: ``[..., n]`` values.
      b: ``[..., n]`` values.

    Returns:
      ``[...]`` correlations in ``[−1, 1]``, or NaN.

    Examples:
      >>> x = jnp.array([1.0, 2.0, 3.0, 4.0])
      >>> float(rank_correlation(x, x**2)), float(rank_correlation(x, -x))  # monotone: ±1
      (1.0, -1.0)
    """
    r = average_ranks(a)
    s = average_ranks(b)
    r = r - r.mean(-1, keepdims=True)
    s = s - s.mean(-1, keepdims=True)
    denom = jnp.sqrt(jnp.sum(r**2, -1) * jnp.sum(s**2, -1))
    return jnp.where(denom > 0, jnp.sum(r * s, -1) / jnp.where(denom > 0, denom, 1.0), jnp.nan)
