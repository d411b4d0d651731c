"""The compiled pieces of ``simrank real confirm``: the real-data students, the training groups and their
diagnostics, one jitted trainer per (student, loss, steps) and one jitted measurement per student.

Student (all kinds): the dense cosine plus a learned correction,

    f(q, x) = α · qᵀx + h_θ(q, x),      α learned (init ``ALPHA_INIT``), h_θ a :mod:`simrank.students`
    student (``diag``: qᵀ diag(w) x; ``full``: qᵀ W x; ``lowrank``: qᵀ U Vᵀ x with ‖U Vᵀ‖_F ≤ α₀ √rank (``student.norm_bound``);
    ``mlp``: 2-layer ReLU on [q; x; q⊙x]); AdamW with the config's weight decay.

With h_θ = 0 at initialisation the bilinear students start as the dense retriever.

One compiled trainer per (student, loss, steps) (the loss is static; learning rates are a traced
``lr_scale``) trains a batch of models with ``vmap``; one compiled measurement per student scores them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from simrank.groups import EpochGroups, Groups, QuerySet, draw_epochs, draw_groups
from simrank.measures import (
    corpus_kl,
    diameter,
    diameter_summary,
    kappa,
    listwise_entropy,
    ndcg_at,
    pairwise_entropy,
    recall_at,
    rr_at,
)
from simrank.real.confirm.design import ALPHA_INIT, LOWRANK_RANK, Arm, RealConfig, lowrank_norm_bound
from simrank.real.data.beir import DataError
from simrank.samplers import make_sampler
from simrank.students import Student, bilinear, mlp
from simrank.trainer import TrainConfig, make_trainer, mean_loss, n_epochs

__all__ = [
    "POOLS",
    "arm_pool",
    "first_epoch",
    "group_diagnostics",
    "in_width",
    "make_measure",
    "make_real_student",
    "make_train_fn",
    "pad_groups",
    "residual_student",
    "mean_entropy",
    "tau_for_entropy",
    "top_overlap",
    "tune_batch",
    "tuning_groups",
]

SCORE_CHUNK = 16  # queries scored at once (bounds the MLP's [chunk, N, 3d] activations)
CURVE_POINTS = 20  # training-loss curve stored as the means of this many equal windows of steps


def residual_student(base: Student) -> Student:
    """``f(q, x) = α qᵀx + base(q, x)`` with ``α`` learned from ``ALPHA_INIT``; projection acts on ``base``."""

    def init(key):
        return {"alpha": jnp.asarray(ALPHA_INIT), "base": base.init(key)}

    def apply(params, query, docs, query_id=None, doc_id=None):
        if base.matrix is not None:  # qᵀ(αI + W)x: map the query first, never W through every document
            mapped = params["alpha"] * query + query @ base.matrix(params["base"])
            return jnp.einsum("...d,...kd->...k", mapped, docs)
        cosine = jnp.einsum("...d,...kd->...k", query, docs)
        return params["alpha"] * cosine + base.apply(params["base"], query, docs, query_id, doc_id)

    def project(params):
        return {"alpha": params["alpha"], "base": base.project(params["base"])}

    return Student(init, apply, project)


def make_real_student(name: str, dim: int, rank: int = LOWRANK_RANK, norm_bound: float | None = None) -> Student:
    """The residual student ``name`` (``diag``, ``full``, ``lowrank`` or ``mlp``).

    ``lowrank``'s correction ``U Vᵀ`` (rank ``rank``) lives in the ball ``‖U Vᵀ‖_F ≤ B`` with ``B = norm_bound``, by
    default :func:`simrank.real.confirm.design.lowrank_norm_bound` ``= α₀ √rank``: the norm of the cosine term ``α₀ I``
    restricted to a rank-``rank`` subspace, so the correction can re-weight that subspace as strongly as the
    dense score itself (a cap of 1 against ``α₀ = 20`` could move scores by 5% of the cosine term at most)."""
    bound = lowrank_norm_bound(rank) if norm_bound is None else norm_bound
    bases = {
        "diag": lambda: bilinear(dim, "diagonal"),
        "full": lambda: bilinear(dim, "full"),
        "lowrank": lambda: bilinear(dim, "low_rank", rank=rank, norm_bound=bound),
        "mlp": lambda: mlp(dim, hidden=32),
    }
    if name not in bases:
        raise DataError(f"student {name!r} is not allowed; choose one of {', '.join(bases)}")
    return residual_student(bases[name]())


# ----------------------------------------------------------------------------- groups


def pad_groups(groups: Groups | EpochGroups, k: int) -> Groups | EpochGroups:
    """Groups of size ``k' <= k`` padded to ``k`` items with masked (``where = False``) zero items (every epoch of
    an :class:`~simrank.groups.EpochGroups`)."""
    if isinstance(groups, EpochGroups):
        return groups._replace(epochs=_pad(groups.epochs, k, axis=2))
    return _pad(groups, k, axis=1)


def _pad(groups, k: int, axis: int):
    """A :class:`~simrank.groups.Groups` or :class:`~simrank.groups.GroupIndex` padded along its item ``axis``."""
    extra = k - groups.doc_id.shape[axis]
    if extra == 0:
        return groups

    def pad(a, value=0):
        widths = [(0, 0)] * axis + [(0, extra)] + [(0, 0)] * (a.ndim - axis - 1)
        return np.pad(a, widths, constant_values=value)

    padded = {f: pad(getattr(groups, f)) for f in ("docs", "doc_id", "teacher_scores", "log_nu") if f in groups._fields}
    return groups._replace(**padded, where=pad(groups.where, False))


def group_diagnostics(groups: Groups, nu: np.ndarray, tau: float) -> dict[str, float]:
    """Δ̂ (0.99-quantile of group diameters), RMS diameter, mean pairwise entropy, κ and locality."""
    summary = diameter_summary(np.asarray(diameter(jnp.asarray(groups.docs))), np.linalg.norm(groups.query, axis=1))
    entropy_nu = -np.sum(np.where(nu > 0, nu * np.log(np.where(nu > 0, nu, 1.0)), 0.0), axis=1)
    return {
        "delta_hat": summary["delta_hat"],
        "delta_rms": summary["delta_rms"],
        "entropy_pair": float(np.mean(pairwise_entropy(jnp.asarray(groups.teacher_scores), tau))),
        "kappa": float(kappa(np.full_like(nu, 1.0 / nu.shape[1]), nu).max()),
        "locality": float(1.0 - entropy_nu.mean() / np.log(nu.shape[1])),
    }


POOLS = ("teacher", "gold")  # training pools: teacher-labelled queries (primary arms), gold qrels (lce_gold)


def arm_pool(arm: Arm) -> str:
    """The training pool of an arm: ``"gold"`` for the supervised arm, ``"teacher"`` for the primary arms."""
    return "gold" if arm.label_source == "gold" else "teacher"


def tuning_groups(pool: QuerySet, cfg: RealConfig, seed: int, steps: int | None = None) -> Groups | EpochGroups:
    """The training groups of tuning seed ``seed``: ``tune.sampler`` at ``tune.group_size``, rng ``[10000 + seed, k]``;
    with ``train.redraw = "epoch"`` the :meth:`RealConfig.epochs` of ``steps`` (default the largest of
    ``tune.steps``) epochs, epoch ``e`` from rng ``[10000 + seed, k, e]``."""
    epochs = cfg.epochs(max(cfg.tune_steps) if steps is None else steps)
    return _draw(pool, cfg, cfg.tune_sampler, cfg.tune_group_size, [10_000 + seed, cfg.tune_group_size], epochs)[0]


def tune_batch(
    train_fn: Callable, measure: Callable, val_only: dict, groups: dict, batch: list[tuple[float, float, int]]
) -> tuple[np.ndarray, np.ndarray]:
    """Train one tuning model per ``(learning rate, τ, seed)`` of ``batch`` (key ``PRNGKey(10000 + seed)``, the
    seed's ``groups[seed]``) with :func:`make_train_fn`'s ``train_fn``; return each model's mean validation
    nDCG@10 and final training risk, ``[len(batch)]`` each."""
    stacked = _stack([groups[s] for _, _, s in batch])
    keys = jnp.stack([jax.random.PRNGKey(10_000 + s) for _, _, s in batch])
    lr = jnp.asarray([b[0] for b in batch], jnp.float32)
    taus = jnp.asarray([b[1] for b in batch], jnp.float32)
    params, _, risk = train_fn(keys, stacked, lr, taus)
    val = np.asarray(measure(params, val_only, taus)["val_ndcg10"]).mean(axis=1)
    return val, np.asarray(risk)


def first_epoch(groups: Groups | EpochGroups) -> Groups:
    """The groups themselves, or epoch 0 of redrawn groups (the groups τ is solved on and diagnostics describe)."""
    return groups.take(0) if isinstance(groups, EpochGroups) else groups


def mean_entropy(groups: Groups, tau: float) -> float:
    """Mean listwise teacher entropy ``H(softmax(g/τ))`` (nats) over ``groups``' valid items."""
    return float(np.mean(listwise_entropy(jnp.asarray(groups.teacher_scores), tau, jnp.asarray(groups.where))))


def tau_for_entropy(groups: Groups, target: float, iterations: int = 60) -> float:
    """The label temperature ``τ`` at which the mean listwise teacher entropy over ``groups`` equals ``target``.

    ``H̄(τ) = mean_G H(softmax(g_G/τ))`` rises monotonically from ``H̄(0+)`` (ties only) to ``log k`` as τ grows;
    ``τ`` is found by bisection on ``log τ`` in ``[1e-4, 1e4]`` (``iterations`` halvings: relative error
    ``1e8^(2^-iterations)``).

    Args:
      groups: training groups (teacher scores and the mask of valid items).
      target: the mean entropy in nats, inside ``(H̄(1e-4), H̄(1e4))``.
      iterations: bisection steps.
    """
    lo, hi = math.log(1e-4), math.log(1e4)
    if not mean_entropy(groups, math.exp(lo)) < target < mean_entropy(groups, math.exp(hi)):
        raise ValueError(f"entropy {target} nats is outside the range these groups' teacher reaches")
    for _ in range(iterations):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if mean_entropy(groups, math.exp(mid)) < target else (lo, mid)
    return math.exp((lo + hi) / 2)


def _draw(
    pool: QuerySet, cfg: RealConfig, sampler: str, k: int, seed: list[int], epochs: int = 1
) -> tuple[Groups | EpochGroups, dict]:
    """``cfg.n_groups`` groups of ``sampler`` at size ``k`` padded to ``cfg.k_max``, and their diagnostics: drawn once
    from rng ``seed`` (``train.redraw = "once"``), or ``epochs`` epochs, epoch ``e`` from rng ``[*seed, e]``
    (diagnostics of epoch 0)."""
    spec = make_sampler(**cfg.sampler(sampler))
    if cfg.redraw == "once":
        groups, nu = draw_groups(pool, spec, cfg.n_groups, k, np.random.default_rng(seed))
        return pad_groups(groups, cfg.k_max), group_diagnostics(groups, nu, cfg.tau)
    rngs = [np.random.default_rng([*seed, e]) for e in range(epochs)]
    redrawn, nu = draw_epochs(pool, spec, cfg.n_groups, k, rngs)
    return pad_groups(redrawn, cfg.k_max), group_diagnostics(redrawn.take(0), nu, cfg.tau)


def _stack(trees: list):
    """Stack per-model inputs along a new leading axis; redrawn groups share their vectors (stacked: epochs only)."""
    if isinstance(trees[0], EpochGroups):
        return trees[0]._replace(epochs=_stack([t.epochs for t in trees]))
    return jax.tree_util.tree_map(lambda *xs: np.stack(xs), *trees)


def _model_axes(groups: Groups | EpochGroups):
    """``vmap`` axes of stacked groups: the index tables per model, the shared vectors of redrawn groups once."""
    return EpochGroups(None, None, 0) if isinstance(groups, EpochGroups) else 0  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- compiled pieces


def _corpus_scores(student: Student, params, queries, docs) -> jax.Array:
    """``f(q_i, x_j)`` for every query and corpus document, ``[n, N]``, in query chunks."""
    n = queries.shape[0]
    pad = -n % SCORE_CHUNK
    blocks = jnp.pad(queries, ((0, pad), (0, 0))).reshape(-1, SCORE_CHUNK, queries.shape[1])
    scores = jax.lax.map(lambda q: student.apply(params, q, docs[None]), blocks)
    return scores.reshape(-1, docs.shape[0])[:n]


def make_train_fn(
    student: Student, loss: str, steps: int, cfg: RealConfig, width: int | None = None, query_rows: int | None = None
) -> Callable:
    """Jitted ``train(keys [m], groups [m, ...], lr [m], tau [m]) -> (params [m], curve [m, steps], risk [m])``
    for one static loss: AdamW at base learning rate 1 scaled by ``lr`` (exactly AdamW at ``lr``).  ``groups``:
    stacked :class:`~simrank.groups.Groups`, or :class:`~simrank.groups.EpochGroups` whose index tables are stacked
    and vectors shared; the risk is the mean loss on the last epoch the run read.

    With ``width`` the models are trained ``width`` at a time (:func:`in_width`) and redrawn groups are cut to the
    ``E`` epochs a run of ``steps`` reads (later epochs are never read) with their query vectors padded by zero rows
    to ``query_rows`` (rows no index table points at): every call then has one shape, so the trainer compiles once
    per (loss, steps) whatever the number of models, the epochs drawn or the pool.

    Args:
      student: the student.
      loss: the loss name (static).
      steps: optimiser steps (static).
      cfg: the design (batch size, weight decay, loss options).
      width: models per compiled call (None: one call of whatever size is given).
      query_rows: with ``width``, the query-vector rows of redrawn groups (at least every pool's query count).
    """
    fn = cfg.loss_fn(loss)
    config = TrainConfig(steps, cfg.batch_size, 1.0, "adam", cfg.weight_decay)
    train = make_trainer(student, fn, config)

    def one(key, groups, lr, tau):
        params, curve = train(key, groups, {"tau": tau, "lr_scale": lr})
        if isinstance(groups, EpochGroups):
            groups = groups.take(min(n_epochs(config, groups.n_groups), groups.n_epochs) - 1)
        return params, curve, mean_loss(student, fn, params, groups, {"tau": tau})

    @jax.jit
    def train_models(keys, groups, lr, tau):
        return jax.vmap(one, in_axes=(0, _model_axes(groups), 0, 0))(keys, groups, lr, tau)

    if width is None:
        return train_models

    def fixed_shape(groups):
        if not isinstance(groups, EpochGroups):
            return groups
        used = n_epochs(config, groups.epochs.query_id.shape[2])  # stacked: [m, E, n]
        rows = max(query_rows or 0, groups.queries.shape[0]) - groups.queries.shape[0]
        return groups._replace(
            queries=np.pad(groups.queries, ((0, rows), (0, 0))),
            epochs=jax.tree_util.tree_map(lambda a: a[:, :used], groups.epochs),
        )

    def train_in_width(keys, groups, lr, tau):
        return in_width(train_models, width, (keys, fixed_shape(groups), lr, tau), (0, _model_axes(groups), 0, 0))

    train_in_width.compiled = train_models  # type: ignore[attr-defined]  # the jitted function (its cache: the compilations)
    return train_in_width


def in_width(fn: Callable, width: int, args: tuple, axes: tuple) -> Any:
    """``fn(*args)`` evaluated ``width`` models at a time: the model axis of the arguments (``axes``: 0 or None per
    argument, or an ``EpochGroups`` of them, as ``vmap``'s ``in_axes``) is cut into chunks of ``width`` rows, the
    last chunk padded by repeating its first row; the outputs (model axis first) are concatenated without the
    padding rows, as numpy arrays.  One compiled width then serves any number of models, and each model's outputs
    are those of its own inputs (the models of a call do not interact).

    Args:
      fn: a function of stacked models (jitted: one compilation for the one width).
      width: models per call.
      args: its arguments.
      axes: the model axis of each argument.
    """
    m = next(jax.tree_util.tree_leaves(a)[0].shape[0] for a, ax in zip(args, axes) if ax == 0)
    outs = []
    for start in range(0, m, width):
        rows = np.arange(start, min(start + width, m))
        idx = np.concatenate([rows, np.full(width - len(rows), start)])
        chunk = [_take_models(a, ax, idx) for a, ax in zip(args, axes)]
        outs.append(jax.tree_util.tree_map(lambda o, n=len(rows): np.asarray(o)[:n], fn(*chunk)))
    return jax.tree_util.tree_map(lambda *o: np.concatenate(o), *outs)


def _take_models(arg, axis, idx: np.ndarray):
    """The models ``idx`` of one argument of :func:`in_width` (model ``axis`` 0, None, or an ``EpochGroups`` of
    axes: the index tables per model, the vectors shared)."""
    if axis is None:
        return arg
    if isinstance(axis, EpochGroups):
        return arg._replace(epochs=jax.tree_util.tree_map(lambda a: np.asarray(a)[idx], arg.epochs))
    return jax.tree_util.tree_map(lambda a: np.asarray(a)[idx], arg)


def make_measure(student: Student, depth: int, width: int | None = None) -> Callable:
    """Jitted ``measure(params [m], sets, tau) -> per-query measures [m, n]`` on every evaluation set; with ``width``
    the models are measured ``width`` at a time (:func:`in_width`: one compilation per set of evaluation sets,
    whatever the number of models).

    Args:
      student: the student.
      depth: the depth of the stored top lists and of recall.
      width: models per compiled call (None: one call of whatever size is given).
    """

    def one(params, sets, tau):
        out = {"alpha": params["alpha"]}
        for name, ev in sets.items():
            scores = _corpus_scores(student, params, ev["queries"], ev["docs"])
            out[f"{name}_ndcg10"] = ndcg_at(scores, ev["grades"], 10)
            if "candidate_mask" not in ev:
                continue
            rerank = jnp.where(ev["candidate_mask"], scores, -jnp.inf)
            for suffix, s in (("", scores), ("_rerank", rerank)):
                top_scores, top = jax.lax.top_k(s, depth)
                out |= {
                    f"{name}_ndcg10{suffix}": ndcg_at(s, ev["grades"], 10),
                    f"{name}_rr10{suffix}": rr_at(s, ev["grades"], 10),
                    f"{name}_r100{suffix}": recall_at(s, ev["grades"], depth),
                    f"{name}_top{suffix}": top,
                    f"{name}_top_scores{suffix}": top_scores,
                }
            out[f"{name}_kl"] = corpus_kl(scores, ev["teacher"], tau)
            out[f"{name}_agree10"] = top_overlap(scores, ev["teacher"], 10)
        return out

    @jax.jit
    def measure(params, sets, tau):
        return jax.lax.map(lambda a: one(a[0], sets, a[1]), (params, tau))

    if width is None:
        return measure

    def measure_in_width(params, sets, tau):
        return in_width(measure, width, (params, sets, tau), (0, None, 0))

    measure_in_width.compiled = measure  # type: ignore[attr-defined]  # the jitted function (its cache: the compilations)
    return measure_in_width


def top_overlap(scores: jax.Array, teacher: jax.Array, k: int) -> jax.Array:
    """Agreement with the teacher: ``|top_k(f(q, ·)) ∩ top_k(g(q, ·))| / k`` per query, ``[n]``.

    Args:
      scores: ``[n, N]`` student scores over the corpus.
      teacher: ``[n, N]`` teacher scores.
      k: the depth.
    """
    mine, theirs = jax.lax.top_k(scores, k)[1], jax.lax.top_k(teacher, k)[1]
    return (mine[:, :, None] == theirs[:, None, :]).any(axis=2).sum(axis=1) / k


def _curve_points(curve: np.ndarray, steps: int) -> list[float]:
    return [float(w.mean()) for w in np.array_split(curve[:steps], min(CURVE_POINTS, steps))]


# ----------------------------------------------------------------------------- the run
