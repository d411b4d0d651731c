"""A jit-compiled optax trainer, vectorised over seeds and grid points with ``jax.vmap``.

``train(key, groups, hyper) -> (params, loss_curve)`` runs ``steps`` optimiser steps of

    θ ← Π(θ − opt(∇_θ (1/b) Σ_{groups in batch} ℓ(f_θ(group), g(group); hyper)))

with minibatches drawn uniformly with replacement (``batch_size=None``: the full training set) and
``Π`` the student's projection.  ``hyper`` is a dict of (traced) loss keyword arguments such as
``{"tau": τ}``; its optional key ``"lr_scale"`` (a scalar or a ``[steps]`` schedule, not passed to the
loss) multiplies step t's update, so one compiled trainer serves several learning rates (for Adam(W)
and SGD the scaled update is exactly that of learning rate ``lr_scale · learning_rate``) and a schedule
that is 0 after step n stops training there.  With :class:`~simrank.groups.EpochGroups` (groups redrawn every
epoch) step ``t`` draws its minibatch from epoch ``min(⌊t b / n⌋, E − 1)``, an epoch being ``n`` groups' worth of
draws (:func:`epoch_of_steps`).  Everything is a pure function of its arguments, so ``jax.vmap(train)`` over stacked
keys, groups and hyperparameters trains many models in one call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import optax
from jax.typing import ArrayLike

from simrank.errors import check_choice, check_nonnegative, check_positive
from simrank.groups import EpochGroups, Groups
from simrank.students import Student

__all__ = [
    "OPTIMIZERS",
    "TrainConfig",
    "epoch_of_steps",
    "group_scores",
    "hyper_axes",
    "make_trainer",
    "mean_loss",
    "n_epochs",
    "train_many",
    "vmap_models",
]

OPTIMIZERS = ("adam", "sgd")


@dataclass(frozen=True)
class TrainConfig:
    """The ``[train]`` table: optimiser and schedule.

    Attributes:
      steps: number of optimiser steps.
      batch_size: groups per minibatch, drawn uniformly with replacement (None: the full training set).
      learning_rate: step size.
      optimizer: ``"adam"`` (AdamW) or ``"sgd"``.
      weight_decay: decoupled weight decay ``≥ 0``.
    """

    steps: int = 300
    batch_size: int | None = 64
    learning_rate: float = 0.05
    optimizer: str = "adam"
    weight_decay: float = 0.0

    def __post_init__(self):
        check_positive("train.steps", self.steps)
        check_positive("train.learning_rate", self.learning_rate)
        check_choice("train.optimizer", self.optimizer, OPTIMIZERS)
        check_nonnegative("train.weight_decay", self.weight_decay)
        if self.batch_size is not None:
            check_positive("train.batch_size", self.batch_size)

    def optimizer_transform(self) -> optax.GradientTransformation:
        """The optax transformation: ``adamw(lr, weight_decay)`` or ``add_decayed_weights`` then ``sgd(lr)``."""
        if self.optimizer == "adam":
            return optax.adamw(self.learning_rate, weight_decay=self.weight_decay)
        return optax.chain(optax.add_decayed_weights(self.weight_decay), optax.sgd(self.learning_rate))


def n_epochs(config: TrainConfig, n_groups: int) -> int:
    """Epochs a run of ``config`` reads on ``n`` groups per epoch: ``E = ⌊(steps − 1) · b / n⌋ + 1`` with ``b =
    min(batch_size, n)`` (``steps`` for full-batch training), the epoch of the last step (:func:`epoch_of_steps`) + 1.

    Args:
      config: steps and batch size.
      n_groups: ``n``, groups per epoch.

    Returns:
      the number of epochs ``E``.

    Examples:
      >>> n_epochs(TrainConfig(steps=400, batch_size=64), 2048), n_epochs(TrainConfig(steps=5, batch_size=None), 10)
      (13, 5)
    """
    batch = n_groups if config.batch_size is None else min(config.batch_size, n_groups)
    return (config.steps - 1) * batch // n_groups + 1


def epoch_of_steps(steps: int, batch_size: int, n_groups: int, epochs: int) -> jax.Array:
    """The epoch of each step, ``e_t = min(⌊t · b / n⌋, E − 1)`` for ``t = 0, ..., steps − 1`` (``[steps]`` int32).

    Args:
      steps: number of optimiser steps.
      batch_size: ``b``, groups per minibatch (at most ``n``).
      n_groups: ``n``, groups per epoch.
      epochs: ``E``, epochs available.

    Returns:
      ``[steps]`` epoch indices.
    """
    return jnp.minimum(jnp.arange(steps) * batch_size // n_groups, epochs - 1).astype(jnp.int32)


def group_scores(student: Student, params: Any, groups: Groups) -> jax.Array:
    """Student scores ``f(q, x)`` of every item of every group.

    Args:
      student: the student.
      params: its parameters.
      groups: ``n`` groups of ``k`` items.

    Returns:
      ``[n, k]`` scores.
    """
    return student.apply(params, groups.query, groups.docs, groups.query_id, groups.doc_id)


def mean_loss(
    student: Student,
    loss_fn: Callable[..., jax.Array],
    params: Any,
    groups: Groups,
    hyper: dict[str, ArrayLike],
    weights: jax.Array | None = None,
) -> jax.Array:
    """Empirical risk ``(1/n) Σ_groups ℓ(f(group), g(group); hyper)``.

    Args:
      student: the student.
      loss_fn: a loss of :mod:`simrank.losses` (``loss(f, g, *, where, weights, **hyper) -> [n]``).
      params: the student's parameters.
      groups: ``n`` groups of ``k`` items.
      hyper: loss keyword arguments, e.g. ``{"tau": τ}``.
      weights: optional ``[n, k]`` per-item loss weights.

    Returns:
      scalar mean loss.
    """
    scores = group_scores(student, params, groups)
    return jnp.mean(loss_fn(scores, groups.teacher_scores, where=groups.where, weights=weights, **hyper))


def make_trainer(
    student: Student,
    loss_fn: Callable[..., jax.Array],
    config: TrainConfig,
    weights_fn: Callable[[Groups], jax.Array] | None = None,
    snapshot_step: int | None = None,
) -> Callable[[jax.Array, Groups | EpochGroups, dict[str, ArrayLike]], tuple[Any, ...]]:
    """Return ``train(key, groups, hyper) -> (params, loss_curve[steps])``; pure, jit- and vmap-able.

    ``groups``: a :class:`~simrank.groups.Groups`, or :class:`~simrank.groups.EpochGroups` redrawn every epoch (step
    ``t`` reads epoch ``min(⌊t b / n⌋, E − 1)``; :func:`n_epochs` gives the ``E`` a run uses).
    ``weights_fn(groups) -> [n, k]`` optionally gives per-item loss weights (e.g. importance weights).
    Each step: ``θ ← Π(θ − opt(∇_θ mean_loss(θ; batch)))`` on a minibatch (see the module docstring).

    Args:
      student: the student to train (initialised from the key, projected after every step).
      loss_fn: a loss of :mod:`simrank.losses`.
      config: steps, batch size and optimiser.
      weights_fn: optional ``groups -> [n, k]`` per-item loss weights.
      snapshot_step: with a step ``s`` (``1 ≤ s ≤ steps``), ``train`` also returns the parameters after the first
        ``s`` steps of the same run (the loop runs as two scans, ``[0, s)`` and ``[s, steps)``: no second training).

    Returns:
      ``train(key, groups, hyper) -> (params, loss_curve)``, with ``loss_curve`` of shape ``[steps]`` (the
        minibatch loss before each step); ``(params, loss_curve, params_at_s)`` with ``snapshot_step``.

    Examples:
      >>> import numpy as np
      >>> from simrank.losses import listnet
      >>> from simrank.students import bilinear
      >>> rng = np.random.default_rng(0)
      >>> n, k, d = 16, 4, 3
      >>> groups = Groups(
      ...     query=rng.normal(size=(n, d)), docs=rng.normal(size=(n, k, d)), query_id=np.arange(n),
      ...     doc_id=np.tile(np.arange(k), (n, 1)), teacher_scores=rng.normal(size=(n, k)),
      ...     log_nu=np.zeros((n, k)), where=np.ones((n, k), bool),
      ... )
      >>> train = make_trainer(bilinear(d), listnet, TrainConfig(steps=50, batch_size=None))
      >>> params, curve = jax.jit(train)(jax.random.key(0), groups, {"tau": 1.0})
      >>> params["w"].shape, curve.shape, bool(curve[-1] < curve[0])
      ((3, 3), (50,), True)
    """
    if snapshot_step is not None and not 1 <= snapshot_step <= config.steps:
        raise ValueError(f"snapshot_step = {snapshot_step} is not allowed; it must lie in [1, {config.steps}]")
    opt = config.optimizer_transform()

    def objective(params, batch, hyper):
        weights = None if weights_fn is None else weights_fn(batch)
        return mean_loss(student, loss_fn, params, batch, hyper, weights)

    def train(key, groups: Groups | EpochGroups, hyper: dict):
        init_key, batch_key = jax.random.split(key)
        params = student.project(student.init(init_key))
        n = groups.n_groups if isinstance(groups, EpochGroups) else groups.query.shape[0]
        hyper = dict(hyper)
        lr_scale = jnp.broadcast_to(jnp.asarray(hyper.pop("lr_scale", 1.0), jnp.float32), (config.steps,))

        batch_size = n if config.batch_size is None else config.batch_size
        full_batch = batch_size >= n
        # every step's minibatch indices drawn up front in one call ([steps, b]; step t's are exactly those
        # of its own key), not one small random-number call per step inside the loop
        draw = jax.vmap(lambda k: jax.random.randint(k, (batch_size,), 0, n))
        batch_idx = None if full_batch else draw(jax.random.split(batch_key, config.steps))
        epoch_idx = (
            epoch_of_steps(config.steps, min(batch_size, n), n, groups.n_epochs)
            if isinstance(groups, EpochGroups)
            else None
        )

        def step(carry, inputs):
            idx, scale, epoch = inputs
            params, opt_state = carry
            if isinstance(groups, EpochGroups):
                batch = groups.take(epoch, idx)
            else:
                batch = groups if full_batch else jax.tree_util.tree_map(lambda a: a[idx], groups)
            value, grads = jax.value_and_grad(objective)(params, batch, hyper)
            updates, opt_state = opt.update(grads, opt_state, params)
            updates = jax.tree_util.tree_map(lambda u: scale * u, updates)
            params = student.project(optax.apply_updates(params, updates))
            return (params, opt_state), value

        carry = (params, opt.init(params))
        xs = (batch_idx, lr_scale, epoch_idx)
        if snapshot_step is None:
            (params, _), curve = jax.lax.scan(step, carry, xs)
            return params, curve
        head = jax.tree_util.tree_map(lambda a: a[:snapshot_step], xs)
        tail = jax.tree_util.tree_map(lambda a: a[snapshot_step:], xs)
        carry, first = jax.lax.scan(step, carry, head)
        snapshot = carry[0]
        (params, _), rest = jax.lax.scan(step, carry, tail, length=config.steps - snapshot_step)
        return params, jnp.concatenate([first, rest]), snapshot

    return train


def hyper_axes(hyper: dict) -> dict:
    """``vmap`` axes of a stacked ``hyper``: 0 for per-model entries (``[m]``), None for scalars shared by
    every model (such as one chunk's loss index, so that ``lax.switch`` on it stays one branch).

    Args:
      hyper: name -> a ``[m]`` array (one value per model) or a scalar.

    Returns:
      name -> ``0`` or ``None``, the ``in_axes`` of ``jax.vmap`` for ``hyper``.
    """
    return {k: None if jnp.ndim(v) == 0 else 0 for k, v in hyper.items()}


def vmap_models(
    train: Callable[..., Any], hyper: dict[str, ArrayLike], block: int | None = None
) -> Callable[[jax.Array, Groups, dict[str, ArrayLike]], Any]:
    """``train`` over stacked models (leading axis ``m``): ``jax.vmap`` over all ``m`` at once (``block=None``),
    or ``jax.lax.map`` over ``m / block`` consecutive blocks of ``block`` models, each block vmapped, so that
    one block's per-step arrays (``block`` models' activations) stay in the CPU's cache for all its steps.
    Scalar entries of ``hyper`` are shared by every model (:func:`hyper_axes`).  The same models either way.

    Args:
      train: a function from :func:`make_trainer`.
      hyper: the stacked loss keyword arguments (their shapes give the vmap axes).
      block: models vmapped at once, a divisor of ``m`` (None: all ``m``).

    Returns:
      ``(keys [m], groups, hyper) -> train's outputs stacked along a leading axis m``.
    """
    axes = hyper_axes(hyper)
    if block is None:
        return jax.vmap(train, in_axes=(0, 0, axes))

    def blocked(keys, groups, hyper):
        if keys.shape[0] % block:
            raise ValueError(f"block = {block} does not divide the {keys.shape[0]} models")
        shared = {k: v for k, v in hyper.items() if axes[k] is None}
        per_model = {k: v for k, v in hyper.items() if axes[k] is not None}
        return jax.lax.map(lambda a: train(a[0], a[1], {**a[2], **shared}), (keys, groups, per_model), batch_size=block)

    return blocked


def train_many(
    train: Callable[[jax.Array, Groups, dict[str, ArrayLike]], tuple[Any, jax.Array]],
    keys: jax.Array,
    groups: Groups,
    hyper: dict[str, ArrayLike],
    block: int | None = None,
) -> tuple[Any, jax.Array]:
    """Train one model per row of the stacked inputs (leading axis = seeds × grid points) in one call:
    ``jit(vmap_models(train, hyper, block))``, with scalar entries of ``hyper`` shared by every model.

    Args:
      train: a function from :func:`make_trainer`.
      keys: ``[m]`` PRNG keys.
      groups: :class:`~simrank.groups.Groups` whose arrays carry a leading axis ``m``.
      hyper: loss keyword arguments, each ``[m]`` or a scalar shared by every model.
      block: models vmapped at once (:func:`vmap_models`; None: all ``m``).

    Returns:
      parameters stacked along a leading axis ``m`` and loss curves ``[m, steps]``.
    """
    return jax.jit(vmap_models(train, hyper, block))(keys, groups, hyper)
