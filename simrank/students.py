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
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from simrank.errors import ConfigError, check_choice, check_positive

BILINEAR_STRUCTURES = ("full", "diagonal", "low_rank", "projected")
STUDENT_KINDS = ("bilinear", "mlp", "tabular")


class Student(NamedTuple):
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
    """Bilinear student ``qᵀ W_eff x``; ``W_eff`` is ``W``, ``diag(w)``, ``U Vᵀ`` or ``W P``."""
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


def mlp(dim: int, hidden: int = 32) -> Student:
    """Two-hidden-layer ReLU scorer on the interaction features ``[q; x; q⊙x]``."""

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
        shape = jnp.broadcast_shapes(query[..., None, :].shape, docs.shape)
        q, x = jnp.broadcast_to(query[..., None, :], shape), jnp.broadcast_to(docs, shape)
        h = jnp.concatenate([q, x, q * x], axis=-1)
        h = jax.nn.relu(h @ params["w1"] + params["b1"])
        h = jax.nn.relu(h @ params["w2"] + params["b2"])
        return h @ params["w3"]

    return Student(init, apply, lambda p: p)


def tabular(n_queries: int, n_docs: int) -> Student:
    """One free score per (query row, corpus document); ignores the vectors."""

    def init(key):
        return {"table": jnp.zeros((n_queries, n_docs))}

    def apply(params, query, docs, query_id, doc_id):
        return params["table"][query_id[..., None], doc_id]

    return Student(init, apply, lambda p: p)


def make_student(kind: str, dim: int, *, n_queries: int = 0, n_docs: int = 0, **options) -> Student:
    """Build a student from a flat spec (the ``[student]`` table of an experiment config)."""
    check_choice("student.kind", kind, STUDENT_KINDS)
    if kind == "bilinear":
        return bilinear(dim, **options)
    if kind == "mlp":
        return mlp(dim, **options)
    return tabular(n_queries, n_docs)
