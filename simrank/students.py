"""Students: scoring functions ``f(q, x)`` as (init, apply, project) triples, in the style of optax.

``apply(params, query [..., d], docs [..., k, d], query_id [...], doc_id [..., k]) -> scores [..., k]``;
``project(params)`` enforces the constraint set after every optimiser step (identity if none).

* :func:`bilinear`: ``f_W(q, x) = qᵀ W x`` with ``W`` full, diagonal, low-rank ``U Vᵀ``, or through a
  fixed projection ``W P``; optional ball ``‖W_eff‖_F ≤ B`` enforced by rescaling.
* :func:`mlp`: ``f(q, x) = w₃ᵀ relu(W₂ relu(W₁ [q; x; q⊙x] + b₁) + b₂)``.
* :func:`tabular`: one free score per (query, document): ``f(q_i, x_j) = T_ij`` (for exact optima).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from simrank.errors import ConfigError, check_choice, check_positive

__all__ = [
    "BILINEAR_STRUCTURES",
    "MLP_BACKWARDS",
    "STUDENTS",
    "STUDENT_KINDS",
    "Student",
    "StudentConfig",
    "StudentKind",
    "bilinear",
    "make_student",
    "mlp",
    "tabular",
]

BILINEAR_STRUCTURES = ("full", "diagonal", "low_rank", "projected")


class Student(NamedTuple):
    """A scoring function ``f(q, x)`` as pure functions (optax style).

    Attributes:
      init: ``init(key) -> params``.
      apply: ``apply(params, query [..., d], docs [..., k, d], query_id [...], doc_id [..., k]) -> scores [..., k]``.
      project: ``project(params) -> params``, the projection ``Π`` onto the constraint set (identity if none).
      matrix: ``matrix(params) -> [d, d]`` effective bilinear map ``W_eff``, for bilinear students; else None.
    """

    init: Callable[[jax.Array], Any]
    apply: Callable[..., jax.Array]
    project: Callable[[Any], Any]
    matrix: Callable[[Any], jax.Array] | None = None  # effective bilinear map, when there is one


def bilinear(
    dim: int,
    structure: str = "full",
    *,
    rank: int | None = None,
    projection: np.ndarray | None = None,
    norm_bound: float | None = None,
) -> Student:
    """Bilinear student ``f(q, x) = qᵀ W_eff x``; ``W_eff`` is ``W``, ``diag(w)``, ``U Vᵀ`` or ``W P``.

    ``project`` rescales ``W_eff`` onto the ball ``‖W_eff‖_F ≤ B`` when ``norm_bound = B`` is given.
    Parameters start at zero (``U``, ``V`` of ``low_rank`` at small random values).

    Args:
      dim: dimension ``d`` of queries and documents.
      structure: ``"full"`` (``W`` ``[d, d]``), ``"diagonal"`` (``w`` ``[d]``), ``"low_rank"`` (``U``, ``V``
        ``[d, rank]``) or ``"projected"`` (``W`` ``[d, p]`` times a fixed ``P`` ``[p, d]``).
      rank: rank of ``low_rank``.
      projection: the fixed ``[p, d]`` matrix ``P`` of ``projected``.
      norm_bound: radius ``B > 0`` of the Frobenius ball (None: unconstrained).

    Returns:
      a :class:`Student` with ``matrix``.

    Examples:
      >>> student = bilinear(2)
      >>> params = {"w": jnp.array([[1.0, 0.0], [0.0, 2.0]])}
      >>> student.apply(params, jnp.array([1.0, 1.0]), jnp.array([[1.0, 0.0], [0.0, 1.0]])).tolist()  # qᵀWx
      [1.0, 2.0]
      >>> ball = bilinear(2, norm_bound=1.0)
      >>> float(jnp.linalg.norm(ball.matrix(ball.project({"w": jnp.full((2, 2), 3.0)}))))  # rescaled to ‖W‖_F = B
      1.0
    """
    check_choice("student.structure", structure, BILINEAR_STRUCTURES)
    if norm_bound is not None:
        check_positive("student.norm_bound", norm_bound)
    if structure == "low_rank" and not rank:
        raise ConfigError("student.structure = 'low_rank' needs student.rank (an integer >= 1)")
    if structure == "projected" and projection is None:
        raise ConfigError("student.structure = 'projected' needs a projection matrix P of shape [p, d]")

    def init(key):
        if structure == "full":
            return {"w": jnp.zeros((dim, dim))}
        if structure == "diagonal":
            return {"w": jnp.zeros((dim,))}
        if structure == "projected":
            return {"w": jnp.zeros((dim, projection.shape[0]))}
        ku, kv = jax.random.split(key)
        scale = 0.1 / np.sqrt(dim)
        return {"u": scale * jax.random.normal(ku, (dim, rank)), "v": scale * jax.random.normal(kv, (dim, rank))}

    def matrix(params):
        if structure == "full":
            return params["w"]
        if structure == "diagonal":
            return jnp.diag(params["w"])
        if structure == "projected":
            return params["w"] @ jnp.asarray(projection)
        return params["u"] @ params["v"].T

    def apply(params, query, docs, query_id=None, doc_id=None):
        return jnp.einsum("...d,de,...ke->...k", query, matrix(params), docs)

    def project(params):
        if norm_bound is None:
            return params
        scale = jnp.minimum(1.0, norm_bound / (jnp.linalg.norm(matrix(params)) + 1e-12))
        if structure == "low_rank":  # U Vᵀ scales by the product of the two factors' scales
            return jax.tree_util.tree_map(lambda p: p * jnp.sqrt(scale), params)
        return jax.tree_util.tree_map(lambda p: p * scale, params)

    return Student(init, apply, project, matrix)


MLP_BACKWARDS = ("manual", "autodiff")


def _mlp_features(query: jax.Array, docs: jax.Array) -> jax.Array:
    """The interaction features ``[q; x; q⊙x]`` of every (query, document) pair: ``[..., k, 3d]``."""
    shape = jnp.broadcast_shapes(query[..., None, :].shape, docs.shape)
    q, x = jnp.broadcast_to(query[..., None, :], shape), jnp.broadcast_to(docs, shape)
    return jnp.concatenate([q, x, q * x], axis=-1)


def _mlp_head(params: dict, pre1: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Scores ``s = a₂ w₃`` from the first layer's pre-activations ``pre1 = z W₁ + b₁`` ``[..., h]``, with
    ``a₁ = relu(pre1)``, ``a₂ = relu(a₁ W₂ + b₂)``; returns ``(s [...], a₁ [..., h], a₂ [..., h])``."""
    a1 = jax.nn.relu(pre1)
    a2 = jax.nn.relu(a1 @ params["w2"] + params["b2"])
    return a2 @ params["w3"], a1, a2


def _mlp_forward(params: dict, z: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Scores ``s = a₂ w₃`` of feature rows ``z`` ``[n, 3d]`` with ``a₁ = relu(z W₁ + b₁)``,
    ``a₂ = relu(a₁ W₂ + b₂)``; returns ``(s [n], a₁ [n, h], a₂ [n, h])``."""
    return _mlp_head(params, z @ params["w1"] + params["b1"])


def _mlp_shared_docs(params: dict, query: jax.Array, docs: jax.Array) -> jax.Array:
    """Scores of ``n`` queries ``[n, d]`` against one shared document set ``[N, d]``: ``[n, N]``.

    The first layer is split by feature block, ``[q; x; q⊙x] W₁ = q W_q + x W_x + x (diag(q) W_qx)``
    (``W₁ = [W_q; W_x; W_qx]``), so the document half ``x W_x`` is formed once per document, not once per
    (query, document) pair, and the ``[n, N, 3d]`` features are never built: one ``[N, d] × [d, (n+1) h]``
    product gives ``x W_x`` and every query's ``x (diag(q) W_qx)``.  The same scores as :func:`_mlp_forward`
    on the features, to float32 round-off (the sums are ordered differently)."""
    d, h = docs.shape[-1], params["w1"].shape[-1]
    w_q, w_x, w_qx = params["w1"][:d], params["w1"][d : 2 * d], params["w1"][2 * d :]
    right = jnp.concatenate([w_x[None], query[:, :, None] * w_qx[None]], axis=0)  # [n + 1, d, h]
    products = (docs @ right.transpose(1, 0, 2).reshape(d, -1)).reshape(docs.shape[0], -1, h)  # [N, n + 1, h]
    pre1 = (query @ w_q + params["b1"])[:, None, :] + products[None, :, 0] + products[:, 1:].transpose(1, 0, 2)
    return _mlp_head(params, pre1)[0]


@jax.custom_vjp
def _mlp_groups(params: dict, query: jax.Array, docs: jax.Array) -> jax.Array:
    """The scores ``[G, k]`` of ``G`` groups (queries ``[G, d]``, documents ``[G, k, d]``) with the first layer
    fused per group and a hand-written backward pass (:func:`_mlp_groups_forward`, :func:`_mlp_groups_backward`)."""
    return _mlp_groups_forward(params, query, docs)[0]


def _mlp_groups_forward(params: dict, query: jax.Array, docs: jax.Array) -> tuple[jax.Array, tuple]:
    """Forward pass of :func:`_mlp_groups`: the first layer split by feature block (``W₁ = [W_q; W_x; W_qx]``),

    ``[q; x; q⊙x] W₁ + b₁ = (q W_q + b₁) + [x; q⊙x] [W_x; W_qx]``,

    so the query part ``q W_q + b₁`` is formed once per group (not once per item) and the ``[G·k, 3d]`` feature
    rows are never built: only the ``[G·k, 2d]`` rows ``u = [x; q⊙x]``.  Then :func:`_mlp_head`.  The same
    scores as :func:`_mlp_forward` on the feature rows, to float32 round-off (the ``3d`` products are summed in
    another order); returns ``(scores [G, k], residuals)``."""
    g, k, d = docs.shape
    w1 = params["w1"]
    u = jnp.concatenate([docs, query[:, None, :] * docs], axis=-1).reshape(g * k, 2 * d)
    pre1 = (u @ w1[d:]).reshape(g, k, -1) + (query @ w1[:d] + params["b1"])[:, None, :]
    scores, a1, a2 = _mlp_head(params, pre1.reshape(g * k, -1))
    return scores.reshape(g, k), (params, query, docs, u, a1, a2)


def _mlp_groups_backward(residuals: tuple, ds: jax.Array) -> tuple[dict, jax.Array, jax.Array]:
    """Reverse mode of :func:`_mlp_groups_forward`, the chain rule written out for the ``G·k`` rows:

    ``δ₂ = 1[a₂ > 0] ⊙ (ds w₃ᵀ)``, ``δ₁ = 1[a₁ > 0] ⊙ (δ₂ W₂ᵀ)``, ``Σ_k δ₁`` per group ``[G, h]``;
    ``∂w₃ = a₂ᵀ ds``, ``∂W₂ = a₁ᵀ δ₂``, ``∂b₂ = Σ δ₂``, ``∂[W_x; W_qx] = uᵀ δ₁``, ``∂W_q = qᵀ Σ_k δ₁``,
    ``∂b₁ = Σ_G Σ_k δ₁``; inputs (the Lipschitz measure needs ``∂f/∂x``; XLA drops them when only the
    parameters are differentiated), with ``∂u = δ₁ [W_x; W_qx]ᵀ = [∂u_x, ∂u_qx]``: ``∂x = ∂u_x + q ⊙ ∂u_qx``,
    ``∂q = (Σ_k δ₁) W_qᵀ + Σ_k x ⊙ ∂u_qx``.  The score cotangent ``ds`` is materialised once (an
    optimisation barrier) instead of XLA fusing the loss's backward into every ``[G·k, h]`` loop, and every
    product is a plain 2-D matmul."""
    params, query, docs, u, a1, a2 = residuals
    g, k, d = docs.shape
    w1 = params["w1"]
    ds = jax.lax.optimization_barrier(ds).reshape(-1)
    d2 = jnp.where(a2 > 0, ds[:, None] * params["w3"], 0.0)
    d1 = jnp.where(a1 > 0, d2 @ params["w2"].T, 0.0)
    d1_group = d1.reshape(g, k, -1).sum(1)
    grads = {
        "w1": jnp.concatenate([query.T @ d1_group, u.T @ d1]),
        "b1": d1_group.sum(0),
        "w2": a1.T @ d2,
        "b2": d2.sum(0),
        "w3": ds @ a2,
    }
    du = (d1 @ w1[d:].T).reshape(g, k, 2 * d)
    d_docs = du[..., :d] + query[:, None, :] * du[..., d:]
    d_query = d1_group @ w1[:d].T + (docs * du[..., d:]).sum(1)
    return grads, d_query, d_docs


_mlp_groups.defvjp(_mlp_groups_forward, _mlp_groups_backward)


def mlp(dim: int, hidden: int = 32, backward: str = "manual") -> Student:
    """Two-hidden-layer ReLU scorer on the interaction features:
    ``f(q, x) = w₃ᵀ relu(W₂ relu(W₁ [q; x; q⊙x] + b₁) + b₂)`` (Gaussian initialisation scaled by fan-in, unconstrained).

    The scores of both ``backward`` options are the same computation; their gradients agree to float32
    round-off: ``"manual"`` (the default) fuses the first layer per group, ``(q W_q + b₁) + [x; q⊙x] [W_x;
    W_qx]`` with ``W₁ = [W_q; W_x; W_qx]`` (the query part once per group, no ``[n·k, 3d]`` feature rows:
    :func:`_mlp_groups_forward`) and differentiates by the hand-written chain rule of
    :func:`_mlp_groups_backward`; ``"autodiff"`` (the reference it is tested and benchmarked against) runs the
    feature rows ``[q; x; q⊙x]`` through the network and lets JAX differentiate the forward pass.  Queries ``[n, d]``
    against one shared document set ``[1, N, d]`` (a corpus, as in evaluation) are scored by
    :func:`_mlp_shared_docs`: the first layer split as ``q W_q + x W_x + x (diag(q) W_qx)``, with the
    document half ``x W_x`` formed once per document instead of once per (query, document) pair.

    Args:
      dim: dimension ``d`` of queries and documents.
      hidden: width of both hidden layers.
      backward: one of :data:`MLP_BACKWARDS`.

    Returns:
      a :class:`Student` (``matrix`` is None).

    Examples:
      >>> student = mlp(3, hidden=4)
      >>> params = student.init(jax.random.key(0))
      >>> student.apply(params, jnp.ones((5, 3)), jnp.ones((5, 7, 3))).shape  # 5 queries, groups of 7
      (5, 7)
    """
    check_choice("backward", backward, MLP_BACKWARDS)

    def init(key):
        k1, k2, k3 = jax.random.split(key, 3)
        return {
            "w1": jax.random.normal(k1, (3 * dim, hidden)) * np.sqrt(2.0 / (3 * dim)),
            "b1": jnp.zeros(hidden),
            "w2": jax.random.normal(k2, (hidden, hidden)) * np.sqrt(2.0 / hidden),
            "b2": jnp.zeros(hidden),
            "w3": jax.random.normal(k3, (hidden,)) / np.sqrt(hidden),
        }

    def apply(params, query, docs, query_id=None, doc_id=None):
        if query.ndim == 2 and docs.ndim == 3 and docs.shape[0] == 1 < query.shape[0]:
            return _mlp_shared_docs(params, query, docs[0])  # one corpus for every query: x W_x formed once
        if backward == "autodiff":
            return _mlp_forward(params, _mlp_features(query, docs))[0]
        shape = jnp.broadcast_shapes(query[..., None, :].shape, docs.shape)  # [..., k, d]
        query = jnp.broadcast_to(query, (*shape[:-2], shape[-1])).reshape(-1, shape[-1])
        docs = jnp.broadcast_to(docs, shape).reshape(-1, *shape[-2:])
        return _mlp_groups(params, query, docs).reshape(shape[:-1])

    return Student(init, apply, lambda p: p)


def tabular(n_queries: int, n_docs: int) -> Student:
    """One free score per (query row, corpus document): ``f(q_i, x_j) = T_ij``; ignores the vectors.

    Used for exact optima (every score is a free parameter); ``apply`` needs ``query_id`` and ``doc_id``.

    Args:
      n_queries: rows of the table (queries of the :class:`~simrank.groups.QuerySet`).
      n_docs: columns (corpus size ``N``).

    Returns:
      a :class:`Student` with ``params = {"table": [n_queries, n_docs]}``, initialised at zero.

    Examples:
      >>> student = tabular(2, 3)
      >>> student.apply(student.init(None), None, None, jnp.array([0, 1]), jnp.array([[0, 2], [1, 1]])).shape
      (2, 2)
    """

    def init(key):
        return {"table": jnp.zeros((n_queries, n_docs))}

    def apply(params, query, docs, query_id, doc_id):
        return params["table"][query_id[..., None], doc_id]

    return Student(init, apply, lambda p: p)


@dataclass(frozen=True)
class StudentKind:
    """A registered student kind: ``build(config, dim, n_queries, n_docs) -> Student``, and whether it can
    score queries it has not seen (only such students can be trained in an experiment sweep)."""

    build: Callable[..., Student]
    scores_unseen: bool = True
    description: str = ""


#: The student registry: ``[student] kind`` -> :class:`StudentKind`.
STUDENTS: dict[str, StudentKind] = {
    "bilinear": StudentKind(
        lambda c, dim, n_queries, n_docs: bilinear(dim, c.structure, rank=c.rank, norm_bound=c.norm_bound),
        description="f(q, x) = qᵀ W x (full, diagonal, low-rank)",
    ),
    "mlp": StudentKind(
        lambda c, dim, n_queries, n_docs: mlp(dim, c.hidden), description="two-layer ReLU net on [q; x; q⊙x]"
    ),
    "tabular": StudentKind(
        lambda c, dim, n_queries, n_docs: tabular(n_queries, n_docs),
        scores_unseen=False,
        description="one free score per (query, document)",
    ),
}
STUDENT_KINDS = tuple(STUDENTS)


@dataclass(frozen=True)
class StudentConfig:
    """The ``[student]`` table of an experiment.

    Attributes:
      kind: a key of :data:`STUDENTS`.
      structure: bilinear structure, one of :data:`BILINEAR_STRUCTURES` (``projected`` needs a matrix, so
        it is built with :func:`bilinear` directly, not from a config).
      rank: rank of the ``low_rank`` structure, an integer >= 1.
      norm_bound: radius ``B > 0`` of the ball ``‖W‖_F <= B`` (None: unconstrained).
      hidden: width of the MLP's hidden layers, an integer >= 1.
    """

    kind: str = "bilinear"
    structure: str = "full"
    rank: int | None = None
    norm_bound: float | None = None
    hidden: int = 32

    def __post_init__(self):
        check_choice("student.kind", self.kind, STUDENTS)
        check_choice("student.structure", self.structure, [s for s in BILINEAR_STRUCTURES if s != "projected"])
        if self.rank is not None:
            check_positive("student.rank", self.rank)
        if self.norm_bound is not None:
            check_positive("student.norm_bound", self.norm_bound)
        check_positive("student.hidden", self.hidden)

    def build(self, dim: int, n_queries: int = 0, n_docs: int = 0) -> Student:
        """The student for ``dim``-dimensional vectors (``n_queries``, ``n_docs``: sizes of a tabular student)."""
        return STUDENTS[self.kind].build(self, dim, n_queries, n_docs)


def make_student(kind: str, dim: int, *, n_queries: int = 0, n_docs: int = 0, **options: Any) -> Student:
    """Build a student from a flat spec: ``StudentConfig(kind, **options).build(dim, n_queries, n_docs)``.

    Args:
      kind: a key of :data:`STUDENTS`.
      dim: dimension ``d`` of query and document vectors.
      n_queries: rows of the ``tabular`` student's table.
      n_docs: columns of the ``tabular`` student's table.
      **options: the other :class:`StudentConfig` fields.

    Returns:
      A :class:`Student` ``(init, apply, project, matrix)``.
    """
    return StudentConfig(kind, **options).build(dim, n_queries, n_docs)
