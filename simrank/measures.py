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

* ``ndcg_at``: ``DCG@c / IDCG@c`` with gain ``2^grade − 1`` and discount ``1/log₂(rank + 1)``;
* ``rr_at``: ``1/rank`` of the first document with ``grade ≥ 1`` within the top ``c`` (0 if none);
* ``recall_at``: ``|relevant ∩ top c| / |relevant|`` (0 when nothing is relevant);
* ``kendall_tau``: Kendall's τ-a between two score vectors over the last axis;
* ``corpus_kl``: ``KL(softmax(g/τ) ‖ softmax(f))`` over the corpus.

Correlation across queries (values ``[..., n]``):

* ``average_ranks``: rank of each value (1 = smallest), ties sharing the mean of their ranks;
* ``rank_correlation``: Spearman's ρ, the Pearson correlation of the average ranks (NaN if either is constant).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from simrank.losses import binary_entropy, kl_distill, pair_mask, softmax_entropy


def pairwise_distances(docs: jax.Array) -> jax.Array:
    """``‖x_i − x_j‖`` for all pairs of a group, ``[..., k, k]``."""
    sq = jnp.sum(docs**2, -1)
    d2 = sq[..., :, None] + sq[..., None, :] - 2 * jnp.einsum("...id,...jd->...ij", docs, docs)
    return jnp.sqrt(jnp.maximum(d2, 0.0))


def diameter(docs: jax.Array, where: jax.Array | None = None) -> jax.Array:
    """``Δ(G) = max_{i<j} ‖x_i − x_j‖`` over valid items, ``[...]``."""
    dist = pairwise_distances(docs)
    if where is not None:
        dist = jnp.where(where[..., :, None] & where[..., None, :], dist, 0.0)
    return dist.max(axis=(-2, -1))


def cosine_diameter(docs: jax.Array, where: jax.Array | None = None) -> jax.Array:
    """``max_{i<j} (1 − cos(x_i, x_j))`` over valid items."""
    unit = docs / jnp.maximum(jnp.linalg.norm(docs, axis=-1, keepdims=True), 1e-12)
    return 0.5 * diameter(unit, where) ** 2


def diameter_summary(deltas: np.ndarray, query_norms: np.ndarray) -> dict[str, float]:
    """Max, 0.99-quantile and RMS ``sqrt(mean ‖q‖² Δ²)`` of per-group diameters."""
    deltas = np.asarray(deltas, dtype=np.float64)
    return {
        "delta_max": float(deltas.max()),
        "delta_q99": float(np.quantile(deltas, 0.99)),
        "delta_rms": float(np.sqrt(np.mean(np.asarray(query_norms, np.float64) ** 2 * deltas**2))),
    }


def pairwise_entropy(teacher: jax.Array, tau, where: jax.Array | None = None) -> jax.Array:
    """``H_pair(G) = mean_{i<j} h(σ((g_i − g_j)/τ))`` in nats, ``[...]``."""
    if where is None:
        where = jnp.ones(teacher.shape, dtype=bool)
    pairs = pair_mask(where)
    h = binary_entropy(jax.nn.sigmoid((teacher[..., :, None] - teacher[..., None, :]) / tau))
    return jnp.sum(jnp.where(pairs, h, 0.0), (-2, -1)) / jnp.maximum(pairs.sum((-2, -1)), 1)


_mean_pairwise_entropy = jax.jit(lambda teacher, tau: jnp.mean(pairwise_entropy(teacher, tau)))


def temperature_for_entropy(
    teacher: np.ndarray, target: float, low: float = 1e-3, high: float = 1e3, tol: float = 1e-6
) -> float:
    """The τ at which the mean pairwise entropy of the groups ``mean_G H_pair(G; τ)`` equals ``target``
    (nats, in ``(0, log 2)``): bisection on ``log τ`` (``H_pair`` is non-decreasing in τ), clipped to [low, high]."""
    teacher = jnp.asarray(teacher)

    def h(log_tau):
        return float(_mean_pairwise_entropy(teacher, float(np.exp(log_tau))))

    a, b = np.log(low), np.log(high)
    while b - a > tol:
        mid = 0.5 * (a + b)
        a, b = (mid, b) if h(mid) < target else (a, mid)
    return float(np.exp(0.5 * (a + b)))


def listwise_entropy(teacher: jax.Array, tau, where: jax.Array | None = None) -> jax.Array:
    """``H_list(G) = H(softmax(g/τ))`` in nats, ``[...]``."""
    return softmax_entropy(teacher / tau, where=where)


def kappa(mu: np.ndarray, nu: np.ndarray) -> np.ndarray:
    """``κ_q = max_x μ_q(x)/ν_q(x)`` per row; ``inf`` where ``ν_q(x) = 0 < μ_q(x)``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(mu > 0, mu / nu, 0.0)
    return ratio.max(axis=-1)


def lipschitz(apply, params, queries: jax.Array, docs: jax.Array) -> jax.Array:
    """``max ‖∇_x f(q, x)‖`` over all query rows and document rows given (``[n, d]``, ``[m, d]``)."""

    def score(q, x):
        return apply(params, q, x[None, :])[0]

    grad_x = jax.vmap(jax.vmap(jax.grad(score, argnums=1), (None, 0)), (0, None))(queries, docs)
    return jnp.max(jnp.linalg.norm(grad_x, axis=-1))


def _ranked_grades(scores: jax.Array, grades: jax.Array, cutoff: int) -> jax.Array:
    _, top = jax.lax.top_k(scores, cutoff)
    return jnp.take_along_axis(grades, top, axis=-1)


def ndcg_at(scores: jax.Array, grades: jax.Array, cutoff: int = 10) -> jax.Array:
    """nDCG@cutoff per query row against graded relevance (0 when no document is relevant)."""
    grades = grades.astype(jnp.float32)
    discount = 1.0 / jnp.log2(jnp.arange(cutoff) + 2.0)
    dcg = jnp.sum((2.0 ** _ranked_grades(scores, grades, cutoff) - 1.0) * discount, -1)
    ideal = jnp.sum((2.0 ** jax.lax.top_k(grades, cutoff)[0] - 1.0) * discount, -1)
    return jnp.where(ideal > 0, dcg / jnp.where(ideal > 0, ideal, 1.0), 0.0)


def rr_at(scores: jax.Array, grades: jax.Array, cutoff: int = 10) -> jax.Array:
    """Reciprocal rank of the first document with grade ≥ 1 within the top ``cutoff`` (0 if none)."""
    relevant = _ranked_grades(scores, grades, cutoff) >= 1
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
    """
    _, top = jax.lax.top_k(scores, cutoff)
    hit = jnp.take_along_axis(relevance, top, axis=-1) > 0
    total = jnp.sum(relevance > 0, -1)
    return jnp.where(total > 0, hit.sum(-1) / jnp.maximum(total, 1), 0.0)


def kendall_tau(a: jax.Array, b: jax.Array) -> jax.Array:
    """Kendall's τ-a between ``a`` and ``b`` over the last axis: mean over pairs of sign agreement."""
    k = a.shape[-1]
    agree = jnp.sign(a[..., :, None] - a[..., None, :]) * jnp.sign(b[..., :, None] - b[..., None, :])
    return jnp.sum(jnp.triu(agree, 1), (-2, -1)) / (k * (k - 1) / 2)


def corpus_kl(student_scores: jax.Array, teacher_scores: jax.Array, tau) -> jax.Array:
    """``KL(softmax(g/τ) ‖ softmax(f))`` over the whole corpus, per query row."""
    return kl_distill(student_scores, teacher_scores, tau=tau)


def average_ranks(x: jax.Array) -> jax.Array:
    """Ranks over the last axis, 1 = smallest, ties given the mean of the ranks they span:
    ``r_i = 1 + #{j: x_j < x_i} + (#{j: x_j = x_i} − 1)/2``."""
    below = jnp.sum(x[..., None, :] < x[..., :, None], axis=-1)
    equal = jnp.sum(x[..., None, :] == x[..., :, None], axis=-1)
    return 1.0 + below + (equal - 1) / 2.0


def rank_correlation(a: jax.Array, b: jax.Array) -> jax.Array:
    """Spearman's ρ over the last axis: with ``r = average_ranks(a)``, ``s = average_ranks(b)``,
    ``ρ = Σ (r_i − r̄)(s_i − s̄) / sqrt(Σ (r_i − r̄)² · Σ (s_i − s̄)²)``; NaN when ``a`` or ``b`` is constant."""
    r = average_ranks(a)
    s = average_ranks(b)
    r = r - r.mean(-1, keepdims=True)
    s = s - s.mean(-1, keepdims=True)
    denom = jnp.sqrt(jnp.sum(r**2, -1) * jnp.sum(s**2, -1))
    return jnp.where(denom > 0, jnp.sum(r * s, -1) / jnp.where(denom > 0, denom, 1.0), jnp.nan)
