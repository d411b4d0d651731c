"""Ranking losses as pure JAX functions (``rax`` style).

Every loss has the signature::

    loss(student_scores, teacher_scores, *, tau=1.0, where=None, weights=None, reduce_fn=None)

Scores ``f`` (student) and ``g`` (teacher) have shape ``[..., k]``: one group of
``k`` documents per query with the POSITIVE at index 0. The result is the
per-list loss of shape ``[...]``; ``reduce_fn`` (e.g. ``jnp.mean``) is applied
to it if given.

Conventions:

* Student distribution ``q = softmax(f)`` (no temperature); teacher
  distribution ``p = softmax(g / tau)``.
* ``where``: boolean mask ``[..., k]``; False items are removed entirely (a
  pair counts only if both items are valid). Index 0 is assumed valid.
  Scores at masked positions may be arbitrary (even non-finite).
* ``pairs`` (pairwise losses only): ``"all"`` (the default) averages over every pair ``i < j``, ``k (k − 1)/2``
  of them, ``k (k − 1)/2 − (k − 1)`` between two negatives; ``"positive"`` over the ``k − 1`` pairs
  ``(0, j)`` of the positive with a negative (the IR default).
* ``weights``: non-negative per-item weights ``[..., k]``. A weight of 0 is the
  same as masking the item. How weights enter is stated in each docstring:
  softmax losses add ``log w_i`` to the logits of both distributions
  (importance-weighted InfoNCE); pairwise and MarginMSE losses take a weighted
  mean with pair weight ``w_i w_j`` (= ``w_j`` for a pair with the positive
  when ``w_0 = 1``) or negative weight ``w_j``.

All losses are finite, with finite gradients in ``f``, for float32 scores of
magnitude 1e4 and ``tau`` down to 1e-3, with or without masks.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt
from jax.scipy.special import xlogy
from jax.typing import ArrayLike

from simrank.errors import ConfigError, check_choice

Array = jax.Array

__all__ = [
    "FLOOR_COLUMNS",
    "LOSSES",
    "LOSS_SPECS",
    "LossConfig",
    "LossSpec",
    "PAIRS",
    "binary_entropy",
    "configured_loss",
    "floor_of",
    "get_loss",
    "get_loss_spec",
    "kl_distill",
    "lce",
    "listnet",
    "margin_mse",
    "pair_mask",
    "ranknet_hard",
    "ranknet_soft",
    "softmax_entropy",
]


# ----------------------------------------------------------------------------- helpers


def _as_float(x) -> Array:
    x = jnp.asarray(x)
    return x.astype(jnp.result_type(x, float))


def _prep(f, g, where, weights):
    """Return (f, g, valid, w) with invalid scores zeroed and w = 0 on invalid items.

    Items with weight 0 are folded into the mask. Zeroing the scores through
    ``jnp.where`` keeps both values and gradients finite at masked positions.
    """
    f = _as_float(f)
    valid = jnp.ones(f.shape, bool) if where is None else jnp.broadcast_to(jnp.asarray(where, bool), f.shape)
    w = jnp.ones_like(f) if weights is None else jnp.broadcast_to(_as_float(weights), f.shape)
    valid = valid & (w > 0)
    f = jnp.where(valid, f, 0.0)
    if g is not None:
        g = jnp.where(valid, _as_float(g), 0.0)
    return f, g, valid, jnp.where(valid, w, 0.0)


def _log_softmax(logits: Array, valid: Array, w: Array) -> tuple[Array, Array]:
    """Masked, weighted log-softmax: returns ``(log_pi, pi)`` with pi ∝ w_i exp(logits_i).

    Invalid items get ``log_pi = 0`` and ``pi = 0`` (so ``pi * log_pi`` terms vanish
    without NaN). Masking uses a large finite negative logit, never ``-inf``.
    """
    neg = jnp.asarray(jnp.finfo(logits.dtype).min / 2, logits.dtype)
    z = jnp.where(valid, logits + jnp.log(jnp.where(valid, w, 1.0)), neg)
    logp = jax.nn.log_softmax(z, axis=-1)
    return jnp.where(valid, logp, 0.0), jnp.where(valid, jnp.exp(logp), 0.0)


def pair_mask(where: Array) -> Array:
    """Boolean mask of unordered pairs ``i < j`` with both items valid: ``m_ij = [i < j] · v_i · v_j``.

    Args:
      where: boolean ``[..., k]`` validity mask ``v``.

    Returns:
      boolean ``[..., k, k]`` pair mask.

    Examples:
      >>> pair_mask(jnp.array([True, True, False])).astype(int).tolist()
      [[0, 1, 0], [0, 0, 0], [0, 0, 0]]
    """
    where = jnp.asarray(where, bool)
    k = where.shape[-1]
    return jnp.triu(jnp.ones((k, k), bool), 1) & where[..., :, None] & where[..., None, :]


def _weighted_mean(values: Array, w: Array, axis) -> Array:
    """``sum(w * values) / sum(w)`` over ``axis``; 0 when the total weight is 0."""
    num = jnp.sum(jnp.where(w > 0, w * values, 0.0), axis=axis)
    den = jnp.sum(w, axis=axis)
    return jnp.where(den > 0, num / jnp.where(den > 0, den, 1.0), 0.0)


def _finish(loss: Array, reduce_fn: Callable | None) -> Array:
    return loss if reduce_fn is None else reduce_fn(loss)


# ----------------------------------------------------------------------------- entropies


def binary_entropy(p: ArrayLike) -> Array:
    """Binary entropy in nats: ``h(p) = -p log p - (1-p) log(1-p)``; 0 at p in {0, 1}.

    Args:
      p: probabilities in ``[0, 1]``, any shape.

    Returns:
      float array of the same shape.

    Examples:
      >>> float(binary_entropy(0.5))  # log 2
      0.693147
      >>> float(binary_entropy(1.0))
      0.0
    """
    p = _as_float(p)
    return -(xlogy(p, p) + xlogy(1.0 - p, 1.0 - p))


def softmax_entropy(logits: ArrayLike, where: ArrayLike | None = None) -> Array:
    """Entropy in nats of ``π = softmax(logits)`` over the last axis, restricted to ``where``:
    ``H = -sum_i π_i log π_i``.

    Args:
      logits: ``[..., k]`` logits.
      where: optional boolean ``[..., k]`` mask; masked items are left out of the softmax.

    Returns:
      ``[...]`` entropies, between 0 and ``log(#valid items)``.

    Examples:
      >>> float(softmax_entropy(jnp.zeros(4)))  # uniform over 4 items: log 4
      1.386294
      >>> float(softmax_entropy(jnp.zeros(4), where=jnp.array([True, True, False, False])))  # log 2
      0.693147
    """
    f, _, valid, w = _prep(logits, None, where, None)
    logp, p = _log_softmax(f, valid, w)
    return -jnp.sum(p * logp, axis=-1)


# ----------------------------------------------------------------------------- listwise


def lce(
    student_scores: ArrayLike,
    teacher_scores: ArrayLike | None = None,
    *,
    tau: ArrayLike = 1.0,
    where: ArrayLike | None = None,
    weights: ArrayLike | None = None,
    reduce_fn: Callable[[Array], Array] | None = None,
) -> Array:
    """One-hot softmax cross-entropy (InfoNCE) with the positive at index 0.

    ``L = -f_0 + log sum_j w_j exp(f_j) - log w_0`` (plain ``-f_0 + logsumexp_j f_j``
    without weights; importance-weighted InfoNCE with weights). ``teacher_scores``
    and ``tau`` are ignored.

    Args:
      student_scores: ``[..., k]`` student scores ``f``; the positive is item 0.
      teacher_scores: ``[..., k]`` teacher scores ``g`` (ignored; may be None).
      tau: teacher label temperature ``τ > 0`` (ignored).
      where: optional boolean ``[..., k]`` mask of valid items (item 0 must be valid).
      weights: optional non-negative ``[..., k]`` item weights (0 acts as a mask).
      reduce_fn: optional reduction of the ``[...]`` per-list losses, e.g. ``jnp.mean``.

    Returns:
      ``[...]`` per-list loss (a scalar after ``reduce_fn``).

    Examples:
      >>> float(lce(jnp.array([2.0, 0.0, 0.0])))  # -2 + log(e^2 + 2)
      0.239545
      >>> float(lce(jnp.array([2.0, 0.0, 5.0]), where=jnp.array([True, True, False])))  # -2 + log(e^2 + 1)
      0.126928
      >>> float(lce(jnp.array([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]]), reduce_fn=jnp.mean))  # (0.2395 + log 3) / 2
      0.669079
    """
    f, _, valid, w = _prep(student_scores, None, where, weights)
    logq, _ = _log_softmax(f, valid, w)
    return _finish(-logq[..., 0], reduce_fn)


def kl_distill(
    student_scores: ArrayLike,
    teacher_scores: ArrayLike,
    *,
    tau: ArrayLike = 1.0,
    where: ArrayLike | None = None,
    weights: ArrayLike | None = None,
    reduce_fn: Callable[[Array], Array] | None = None,
) -> Array:
    """Listwise distillation ``KL(p || q) = sum_i p_i (log p_i - log q_i) >= 0``.

    ``p = softmax(g / tau + log w)``, ``q = softmax(f + log w)``. Zero iff
    ``f = g / tau + c`` on the valid items.

    Args:
      student_scores: ``[..., k]`` student scores ``f``; the positive is item 0.
      teacher_scores: ``[..., k]`` teacher scores ``g``.
      tau: teacher label temperature ``τ > 0``.
      where: optional boolean ``[..., k]`` mask of valid items (item 0 must be valid).
      weights: optional non-negative ``[..., k]`` item weights (0 acts as a mask).
      reduce_fn: optional reduction of the ``[...]`` per-list losses, e.g. ``jnp.mean``.

    Returns:
      ``[...]`` per-list loss (a scalar after ``reduce_fn``).

    Examples:
      >>> g = jnp.array([1.0, 0.0, -1.0])
      >>> float(kl_distill(g + 3.0, g))  # f = g/τ + c: zero
      0.0
      >>> float(kl_distill(jnp.array([2.0, 0.0, 0.0]), g))
      0.076667
    """
    f, g, valid, w = _prep(student_scores, teacher_scores, where, weights)
    logq, _ = _log_softmax(f, valid, w)
    logp, p = _log_softmax(g / tau, valid, w)
    return _finish(jnp.sum(p * (logp - logq), axis=-1), reduce_fn)


def listnet(
    student_scores: ArrayLike,
    teacher_scores: ArrayLike,
    *,
    tau: ArrayLike = 1.0,
    where: ArrayLike | None = None,
    weights: ArrayLike | None = None,
    reduce_fn: Callable[[Array], Array] | None = None,
) -> Array:
    """ListNet cross-entropy ``-sum_i p_i log q_i = H(p) + KL(p || q)``.

    ``p = softmax(g / tau + log w)``, ``q = softmax(f + log w)``. Its minimum over ``f`` is the
    teacher entropy ``H(p)`` (the T1 floor), reached at ``f = g / tau + c``.

    Args:
      student_scores: ``[..., k]`` student scores ``f``; the positive is item 0.
      teacher_scores: ``[..., k]`` teacher scores ``g``.
      tau: teacher label temperature ``τ > 0``.
      where: optional boolean ``[..., k]`` mask of valid items (item 0 must be valid).
      weights: optional non-negative ``[..., k]`` item weights (0 acts as a mask).
      reduce_fn: optional reduction of the ``[...]`` per-list losses, e.g. ``jnp.mean``.

    Returns:
      ``[...]`` per-list loss (a scalar after ``reduce_fn``).

    Examples:
      >>> g = jnp.array([1.0, 0.0, -1.0])
      >>> float(listnet(g, g)), float(softmax_entropy(g))  # at the optimum: the entropy floor
      (0.832396, 0.832396)
      >>> f = jnp.array([2.0, 0.0, 0.0])
      >>> float(listnet(f, g) - softmax_entropy(g) - kl_distill(f, g))  # H(p) + KL(p || q)
      0.0
    """
    f, g, valid, w = _prep(student_scores, teacher_scores, where, weights)
    logq, _ = _log_softmax(f, valid, w)
    _, p = _log_softmax(g / tau, valid, w)
    return _finish(-jnp.sum(p * logq, axis=-1), reduce_fn)


# ----------------------------------------------------------------------------- pairwise


def margin_mse(
    student_scores: ArrayLike,
    teacher_scores: ArrayLike,
    *,
    tau: ArrayLike = 1.0,
    where: ArrayLike | None = None,
    weights: ArrayLike | None = None,
    reduce_fn: Callable[[Array], Array] | None = None,
) -> Array:
    """MarginMSE: ``sum_{j>=1} w_j ((f_0 - f_j) - (g_0 - g_j) / tau)^2 / sum_{j>=1} w_j``.

    Mean over valid negatives ``j >= 1`` (weighted by ``w_j``); 0 when none are valid.

    Args:
      student_scores: ``[..., k]`` student scores ``f``; the positive is item 0.
      teacher_scores: ``[..., k]`` teacher scores ``g``.
      tau: teacher label temperature ``τ > 0``.
      where: optional boolean ``[..., k]`` mask of valid items (item 0 must be valid).
      weights: optional non-negative ``[..., k]`` item weights (0 acts as a mask).
      reduce_fn: optional reduction of the ``[...]`` per-list losses, e.g. ``jnp.mean``.

    Returns:
      ``[...]`` per-list loss (a scalar after ``reduce_fn``).

    Examples:
      >>> # margins f_0 - f_j = (2, 2), teacher margins g_0 - g_j = (1, 2): ((2-1)^2 + 0^2) / 2
      >>> float(margin_mse(jnp.array([2.0, 0.0, 0.0]), jnp.array([1.0, 0.0, -1.0])))
      0.5
    """
    f, g, valid, w = _prep(student_scores, teacher_scores, where, weights)
    err = (f[..., :1] - f[..., 1:]) - (g[..., :1] - g[..., 1:]) / tau
    return _finish(_weighted_mean(err**2, w[..., 1:], axis=-1), reduce_fn)


def _pair_index(k: int) -> tuple[np.ndarray, np.ndarray]:
    """Static indices ``(i, j)`` of the ``k (k - 1) / 2`` unordered pairs ``i < j``."""
    return np.triu_indices(k, 1)


def _pair_differences(x: Array) -> Array:
    """``x_i - x_j`` for every pair ``i < j``, shape ``[..., k (k - 1) / 2]`` (rows of ``np.triu_indices``).

    A product with a static ``[k, k (k - 1) / 2]`` matrix of ±1 (exact in float32: one ``+1`` and one
    ``-1`` per column): cheaper under ``vmap`` and ``grad`` than a ``[k, k]`` tensor and its mask.
    """
    k = x.shape[-1]
    i, j = _pair_index(k)
    pairs = np.arange(len(i))
    signs = np.zeros((k, len(i)), np.float32)
    signs[i, pairs], signs[j, pairs] = 1.0, -1.0
    return jnp.einsum("...k,kp->...p", x, jnp.asarray(signs, x.dtype), precision=jax.lax.Precision.HIGHEST)


#: The ``pairs`` option of the pairwise losses: every pair ``i < j``, or the positive's pairs ``(0, j)`` only.
PAIRS = ("all", "positive")


def _pairs(x: Array, pairs: str) -> Array:
    """``x_i − x_j`` over the chosen pairs: every ``i < j`` (rows of ``np.triu_indices``), or ``(0, j)``, ``j >= 1``."""
    check_choice("loss.pairs", pairs, PAIRS)
    return _pair_differences(x) if pairs == "all" else x[..., :1] - x[..., 1:]


def _pair_weights(w: Array, pairs: str) -> Array:
    """``w_i w_j`` over the chosen pairs (see :func:`_pairs`)."""
    if pairs == "all":
        i, j = _pair_index(w.shape[-1])
        return w[..., i] * w[..., j]
    return w[..., :1] * w[..., 1:]


def _ranknet(f: Array, target: Array, w: Array, pairs: str) -> Array:
    """Weighted mean over the chosen pairs (weight ``w_i w_j``, 0 when either item is invalid) of
    ``softplus(d) - p_ij d`` with ``d = f_i - f_j``; ``target`` holds ``p_ij`` per pair (as :func:`_pairs`)."""
    d = _pairs(f, pairs)
    return _weighted_mean(jax.nn.softplus(d) - target * d, _pair_weights(w, pairs), axis=-1)


def ranknet_soft(
    student_scores: ArrayLike,
    teacher_scores: ArrayLike,
    *,
    tau: ArrayLike = 1.0,
    where: ArrayLike | None = None,
    weights: ArrayLike | None = None,
    reduce_fn: Callable[[Array], Array] | None = None,
    pairs: str = "all",
) -> Array:
    """Soft-target RankNet: mean over pairs ``(i, j) ∈ P`` of BCE(p_ij, sigmoid(f_i - f_j)).

    ``p_ij = sigmoid((g_i - g_j) / tau)``, ``d = f_i - f_j``, pair loss
    ``softplus(d) - p_ij d``; pair weight ``w_i w_j``; ``P`` every pair ``i < j`` (``pairs="all"``) or the
    positive's ``(0, j)`` (``pairs="positive"``). Floor (at ``f = g / tau``): the mean binary entropy of
    ``p_ij`` over ``P``.

    Args:
      student_scores: ``[..., k]`` student scores ``f``; the positive is item 0.
      teacher_scores: ``[..., k]`` teacher scores ``g``.
      tau: teacher label temperature ``τ > 0``.
      where: optional boolean ``[..., k]`` mask of valid items (item 0 must be valid).
      weights: optional non-negative ``[..., k]`` item weights (0 acts as a mask).
      reduce_fn: optional reduction of the ``[...]`` per-list losses, e.g. ``jnp.mean``.
      pairs: ``"all"`` or ``"positive"`` (see above).

    Returns:
      ``[...]`` per-list loss (a scalar after ``reduce_fn``).

    Examples:
      >>> g = jnp.array([1.0, 0.0, -1.0])
      >>> p = jax.nn.sigmoid(jnp.array([1.0, 2.0, 1.0]))  # p_01, p_02, p_12
      >>> float(ranknet_soft(g, g)), float(binary_entropy(p).mean())  # the floor at f = g / τ
      (0.509913, 0.509913)
      >>> float(ranknet_soft(g, g, pairs="positive")), float(binary_entropy(p[:2]).mean())  # pairs (0, 1), (0, 2)
      (0.473769, 0.473769)
    """
    f, g, _, w = _prep(student_scores, teacher_scores, where, weights)
    target = jax.nn.sigmoid(_pairs(g, pairs) / tau)
    return _finish(_ranknet(f, target, w, pairs), reduce_fn)


def ranknet_hard(
    student_scores: ArrayLike,
    teacher_scores: ArrayLike,
    *,
    tau: ArrayLike = 1.0,
    where: ArrayLike | None = None,
    weights: ArrayLike | None = None,
    reduce_fn: Callable[[Array], Array] | None = None,
    pairs: str = "all",
) -> Array:
    """Hard-target RankNet: as :func:`ranknet_soft` with ``p_ij = 1[g_i > g_j]`` (0.5 on ties).

    ``tau > 0`` does not change the targets.

    Args:
      student_scores: ``[..., k]`` student scores ``f``; the positive is item 0.
      teacher_scores: ``[..., k]`` teacher scores ``g``.
      tau: teacher label temperature ``τ > 0`` (does not change the targets).
      where: optional boolean ``[..., k]`` mask of valid items (item 0 must be valid).
      weights: optional non-negative ``[..., k]`` item weights (0 acts as a mask).
      reduce_fn: optional reduction of the ``[...]`` per-list losses, e.g. ``jnp.mean``.
      pairs: ``"all"`` (every pair ``i < j``) or ``"positive"`` (the pairs ``(0, j)``).

    Returns:
      ``[...]`` per-list loss (a scalar after ``reduce_fn``).

    Examples:
      >>> # every pair in teacher order: mean of softplus(-d) over d = f_i - f_j = (2, 2, 0)
      >>> float(ranknet_hard(jnp.array([2.0, 0.0, 0.0]), jnp.array([1.0, 0.0, -1.0])))
      0.315668
      >>> # the positive's pairs only: softplus(-2)
      >>> float(ranknet_hard(jnp.array([2.0, 0.0, 0.0]), jnp.array([1.0, 0.0, -1.0]), pairs="positive"))
      0.126928
    """
    f, g, _, w = _prep(student_scores, teacher_scores, where, weights)
    target = 0.5 * (1.0 + jnp.sign(_pairs(g, pairs)))
    return _finish(_ranknet(f, target, w, pairs), reduce_fn)


# ----------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class LossSpec:
    """What the rest of simrank needs to know about a loss.

    Attributes:
      fn: the loss function ``fn(f, g, *, tau, where, weights, reduce_fn) -> [...]``.
      floor: the results column holding the loss's T1 risk floor (``"entropy_list"`` for ListNet, whose
        floor is ``H(softmax(g/τ))``; ``"entropy_pair"`` for soft RankNet, whose floor is the mean binary
        entropy of ``σ((g_i − g_j)/τ)``), or ``None`` when the floor is 0.
      needs_teacher: False when the loss ignores ``teacher_scores`` (one-hot contrastive ``lce``).
      pairwise: True when the loss averages over pairs of items.
    """

    fn: Callable[..., Array]
    floor: str | None = None
    needs_teacher: bool = True
    pairwise: bool = False


#: The single loss registry: name -> :class:`LossSpec`. Every layer (sweep, verdicts, theory, real data)
#: looks losses up here.
LOSS_SPECS: dict[str, LossSpec] = {
    "lce": LossSpec(lce, needs_teacher=False),
    "kl": LossSpec(kl_distill),
    "listnet": LossSpec(listnet, floor="entropy_list"),
    "margin_mse": LossSpec(margin_mse),
    "ranknet_soft": LossSpec(ranknet_soft, floor="entropy_pair", pairwise=True),
    "ranknet_hard": LossSpec(ranknet_hard, pairwise=True),
}

#: name -> loss function (a view of :data:`LOSS_SPECS`).
LOSSES: dict[str, Callable[..., Array]] = {name: spec.fn for name, spec in LOSS_SPECS.items()}

#: The entropy columns a loss's floor can name, in a fixed order (index 0: floor 0).
FLOOR_COLUMNS: tuple[str | None, ...] = (None, "entropy_pair", "entropy_list")


@dataclass(frozen=True)
class LossConfig:
    """The ``[loss]`` table of an experiment.

    Attributes:
      name: a key of :data:`LOSS_SPECS`.
      pairs: the pairs a pairwise loss averages over (:data:`PAIRS`): ``"all"`` (the default, every ``i < j``) or
        ``"positive"`` (the positive's ``(0, j)``); only pairwise losses accept ``"positive"``.
    """

    name: str = "kl"
    pairs: str = "all"

    def __post_init__(self):
        check_choice("loss.name", self.name, LOSS_SPECS)
        check_choice("loss.pairs", self.pairs, PAIRS)
        if self.pairs != "all" and not LOSS_SPECS[self.name].pairwise:
            pairwise = ", ".join(n for n, spec in LOSS_SPECS.items() if spec.pairwise)
            raise ConfigError(
                f"loss.pairs = {self.pairs!r} is not allowed with loss.name = {self.name!r}; only with {pairwise}"
            )

    @property
    def options(self) -> dict:
        """The keyword options the loss function takes beyond the common ones (``pairs`` for pairwise losses)."""
        return {"pairs": self.pairs} if LOSS_SPECS[self.name].pairwise else {}

    def fn(self) -> Callable[..., Array]:
        """The loss function with this config's options bound (the registered function itself when it has none
        beyond the defaults, so the default config runs exactly today's code)."""
        return configured_loss(self.name, **self.options)


def configured_loss(name: str, **options: object) -> Callable[..., Array]:
    """The loss ``name`` with keyword ``options`` bound (e.g. ``pairs="positive"``); the registered function
    itself when every option is at its default.

    Args:
      name: a key of :data:`LOSS_SPECS`.
      **options: keyword options of the loss (``pairs`` for the pairwise losses).

    Returns:
      ``fn(f, g, *, tau, where, weights, reduce_fn) -> [...]``.
    """
    fn = get_loss(name)
    if options.get("pairs", "all") == "all":
        options.pop("pairs", None)
    return functools.partial(fn, **options) if options else fn


def floor_of(losses: npt.ArrayLike, table: Mapping[str, npt.ArrayLike]) -> npt.NDArray[np.float64]:
    """Per-row T1 risk floor of a results table: the row's ``LOSS_SPECS[loss].floor`` column, 0 where none.

    Args:
      losses: ``[n]`` loss names.
      table: mapping of column name -> ``[n]`` values (a ``pandas.DataFrame`` works).

    Returns:
      ``[n]`` float array.
    """
    losses = np.asarray(losses)
    out = np.zeros(len(losses))
    for name in np.unique(losses):
        column = get_loss_spec(str(name)).floor
        if column is not None:
            rows = losses == name
            out[rows] = np.asarray(table[column], float)[rows]
    return out


def get_loss_spec(name: str) -> LossSpec:
    """The :class:`LossSpec` registered as ``name``; a one-line ``ValueError`` naming the allowed names otherwise."""
    try:
        return LOSS_SPECS[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; allowed: {', '.join(LOSS_SPECS)}") from None


def get_loss(name: str) -> Callable[..., Array]:
    """The loss function registered as ``name`` (see :data:`LOSS_SPECS`)."""
    return get_loss_spec(name).fn
