"""A jit-compiled optax trainer, vectorised over seeds and grid points with ``jax.vmap``.

``train(key, groups, hyper) -> (params, loss_curve)`` runs ``steps`` optimiser steps of

    θ ← Π(θ − opt(∇_θ (1/b) Σ_{groups in batch} ℓ(f_θ(group), g(group); hyper)))

with minibatches drawn uniformly with replacement (``batch_size=None``: the full training set) and
``Π`` the student's projection.  ``hyper`` is a dict of (traced) loss keyword arguments such as
``{"tau": τ}``; its optional key ``"lr_scale"`` (a scalar or a ``[steps]`` schedule, not passed to the
loss) multiplies step t's update, so one compiled trainer serves several learning rates (for Adam(W)
and SGD the scaled update is exactly that of learning rate ``lr_scale · learning_rate``) and a schedule
that is 0 after step n stops training there.  Everything is a pure function of its arguments, so ``jax.vmap(train)`` over stacked
keys, groups and hyperparameters trains many models in one call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import optax

from simrank.errors import check_choice, check_nonnegative, check_positive
from simrank.groups import Groups
from simrank.students import Student

OPTIMIZERS = ("adam", "sgd")


@dataclass(frozen=True)
class TrainConfig:
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
        if self.optimizer == "adam":
            return optax.adamw(self.learning_rate, weight_decay=self.weight_decay)
        return optax.chain(optax.add_decayed_weights(self.weight_decay), optax.sgd(self.learning_rate))


def group_scores(student: Student, params, groups: Groups) -> jax.Array:
    """Student scores of every group, ``[n, k]``."""
    return student.apply(params, groups.query, groups.docs, groups.query_id, groups.doc_id)


def mean_loss(student: Student, loss_fn: Callable, params, groups: Groups, hyper: dict, weights=None) -> jax.Array:
    """Empirical risk ``(1/n) Σ_groups ℓ(f(group), g(group); hyper)``."""
    scores = group_scores(student, params, groups)
    return jnp.mean(loss_fn(scores, groups.teacher, where=groups.where, weights=weights, **hyper))


def make_trainer(student: Student, loss_fn: Callable, config: TrainConfig, weights_fn: Callable | None = None):
    """Return ``train(key, groups, hyper) -> (params, loss_curve[steps])``; pure, jit- and vmap-able.

    ``weights_fn(groups) -> [n, k]`` optionally gives per-item loss weights (e.g. importance weights).
    """
    opt = config.optimizer_transform()

    def objective(params, batch, hyper):
        weights = None if weights_fn is None else weights_fn(batch)
        return mean_loss(student, loss_fn, params, batch, hyper, weights)

    def train(key, groups: Groups, hyper: dict):
        init_key, batch_key = jax.random.split(key)
        params = student.project(student.init(init_key))
        n = groups.query.shape[0]
        hyper = dict(hyper)
        lr_scale = jnp.broadcast_to(jnp.asarray(hyper.pop("lr_scale", 1.0), jnp.float32), (config.steps,))

        def step(carry, inputs):
            step_key, scale = inputs
            params, opt_state = carry
            if config.batch_size is None or config.batch_size >= n:
                batch = groups
            else:
                idx = jax.random.randint(step_key, (config.batch_size,), 0, n)
                batch = jax.tree_util.tree_map(lambda a: a[idx], groups)
            value, grads = jax.value_and_grad(objective)(params, batch, hyper)
            updates, opt_state = opt.update(grads, opt_state, params)
            updates = jax.tree_util.tree_map(lambda u: scale * u, updates)
            params = student.project(optax.apply_updates(params, updates))
            return (params, opt_state), value

        keys = jax.random.split(batch_key, config.steps)
        (params, _), curve = jax.lax.scan(step, (params, opt.init(params)), (keys, lr_scale))
        return params, curve

    return train


def train_many(train: Callable, keys: jax.Array, groups: Groups, hyper: dict):
    """Train one model per row of the stacked inputs (leading axis = seeds × grid points) in one call."""
    return jax.jit(jax.vmap(train))(keys, groups, hyper)
