"""Training-aware excess prediction (``paper/theory.md`` §10): what a trained linear student loses on a target law.

A student linear in its pair features, ``f_w(q, x) = qᵀ W P x = ⟨w, φ(q, x)⟩`` with ``φ = (P x) ⊗ q`` (the order of
:func:`~simrank.theory.bounds.pair_design`; ``P = I``: the full bilinear student), is fitted by empirical risk
minimisation of a convex loss on ``n`` i.i.d. groups from the mixture ``ν_η = (1 − η) ν + η μ`` (``μ`` uniform).
Its target risk ``R_T(w) = E_T ℓ`` (positives from ``p_q``, negatives from the target law ``T``) satisfies

    E R_T(ŵ_η) − min R_T = Bias(η) + (V(η) + D(η))/n + o(1/n),
    Bias(η) = R_T(w*_η) − min R_T,   V(η) = ½ tr(H_T Σ_η),   Σ_η = H_η⁺ G_η H_η⁺,
    D(η) = ∇R_T(w*_η)ᵀ β_η,          β_η = H_η⁺ (E[Ψ_i H_η⁺ ψ_i] − ½ ∇³R_η[Σ_η]),

with ``ψ_i``, ``Ψ_i`` the gradient and Hessian of group ``i``'s loss at ``w*_η``, ``G_η = Cov ψ_i``, ``H_η = E Ψ_i``,
``H_T = ∇²R_T(w*_η)``; ``β_η/n`` is the second-order bias of the M-estimator, so ``D`` vanishes where ``T`` is the
training law (or the model is well specified) and matters wherever ``∇R_T(w*_η) ≠ 0``.  ``⁺`` is the pseudo-inverse
(the identifiable subspace).  Every population expectation is a Monte Carlo mean over ``population`` fresh groups
(fixed seeds, stated in :class:`ExcessPrediction`).

Target laws (:data:`TARGETS`): ``"uniform"`` (``μ``, the target risk of P8) and ``"top10"``: uniform over the
teacher's 10 highest-scored documents of the query, the documents that compete for the top 10; its risk is the
loss on exactly the comparisons that decide the top of the ranking (for MarginMSE: the mean squared margin error
against the teacher's top 10).

A student on the ball ``‖w‖ ≤ B`` (``norm_bound``, P8's ``‖W‖_F ≤ B``): where the constraint binds at ``w*_η``, every
term is taken in the sphere's coordinates ``w = B u/‖u‖``, i.e. on its tangent space with the multiplier
``λ = −⟨∇R, w*⟩/B²`` added to each Hessian there (``V = ½ tr(G K J K)``, theory.md §10(d)).

MarginMSE (quadratic) also has an exact finite statement (:func:`margin_mse_transfer`):
``J_T(w) − min J_T ≤ (√(λ_η [J_η(w) − min J_η]) + √Bias(η))²``, ``λ_η = λ_max(M_η^{+½} M_T M_η^{+½}) ≤ κ(T ‖ ν_η)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from simrank.groups import sampling_distribution
from simrank.losses import get_loss
from simrank.measures import kappa
from simrank.samplers import Local, Mixture, Sampler, Tempered, Uniform
from simrank.teacher import Teacher
from simrank.theory.bounds import Check, bias, minimiser, moments, pair_design, pair_law, x64
from simrank.theory.monte_carlo import EmpiricalWorld, iid_groups, t6_setup
from simrank.world import World, WorldConfig

__all__ = [
    "TARGETS",
    "VALIDATION_ETAS",
    "ExcessPrediction",
    "EXCESS_RTOL",
    "ValidationWorld",
    "excess_exact_rows",
    "excess_monte_carlo_rows",
    "excess_paper_block",
    "excess_terms",
    "excess_curve",
    "fit_linear_student",
    "linear_features",
    "margin_mse_transfer",
    "measure_excess",
    "predict_excess",
    "predicted_eta_star",
    "rank_samplers",
    "transfer_constant",
    "validation_table",
    "validation_worlds",
]

#: Target laws by name: the law ``T`` of the negatives in the target risk ``R_T``.
TARGETS: dict[str, Sampler] = {"uniform": Uniform(), "top10": Local(10, "teacher")}
VALIDATION_ETAS = (0.0, 0.1, 0.3, 0.6, 1.0)
NEWTON_ITERS = 40  # damped Newton steps of every fit (quadratic convergence; the gradient norm is reported)
_STEPS = 0.5 ** np.arange(12)  # the line search's candidate step sizes


@dataclass(frozen=True)
class ExcessPrediction:
    """The predicted target excess of the empirical minimiser over ``n_groups`` groups from ``ν_η``.

    Attributes:
      excess: ``Bias + (variance + drift)/n_groups``.
      bias: ``R_T(w*_η) − min R_T``.
      variance: ``V(η) = ½ tr(H_T Σ_η)`` (the ``1/n`` coefficient of the estimator's spread).
      drift: ``D(η) = ∇R_T(w*_η)ᵀ β_η`` (the ``1/n`` coefficient of the estimator's second-order bias).
      target_risk_min: ``min R_T``.
      n_groups, eta, loss, target, tau: the inputs.
      population: groups per Monte Carlo population mean (training law and target law each).
      norm_bound: ``B`` of the student's ball ``‖w‖ ≤ B`` (None: unconstrained).
      active: the constraint binds at ``w*_η`` (the terms are then on the sphere's tangent space).
    """

    excess: float
    bias: float
    variance: float
    drift: float
    target_risk_min: float
    n_groups: int
    eta: float
    loss: str
    target: str
    tau: float
    population: int
    norm_bound: float | None = None
    active: bool = False

    def at(self, n_groups: int) -> float:
        """The prediction for another training-set size: ``Bias + (V + D)/n``."""
        return self.bias + (self.variance + self.drift) / n_groups

    def as_dict(self) -> dict:
        return asdict(self)


def linear_features(query: np.ndarray, docs: np.ndarray, projection: np.ndarray | None = None) -> np.ndarray:
    """``φ = (P x) ⊗ q`` per item, so ``⟨w, φ⟩ = qᵀ W P x`` with ``w = vec W`` column-major (``P = I`` if None).

    Args:
      query: ``[n, d]``; docs: ``[n, k, d]``; projection: ``[r, d]`` or None.

    Returns:
      ``[n, k, r d]`` features.

    Examples:
      >>> q, x = np.array([[1.0, 2.0]]), np.array([[[3.0, 5.0]]])
      >>> W = np.array([[1.0, 0.0], [0.0, 1.0]])
      >>> float(linear_features(q, x)[0, 0] @ W.T.reshape(-1)), float(q[0] @ W @ x[0, 0])
      (13.0, 13.0)
    """
    query, docs = np.asarray(query, np.float64), np.asarray(docs, np.float64)
    proj = docs if projection is None else docs @ np.asarray(projection, np.float64).T
    n, k = docs.shape[:2]
    return np.einsum("nkj,ni->nkji", proj, query).reshape(n, k, -1)


def _sample(world, teacher, sampler, n, group_size, seed, projection) -> tuple[np.ndarray, np.ndarray]:
    groups = iid_groups(world, teacher, sampler, n, group_size, np.random.default_rng(seed))
    return linear_features(groups.query, groups.docs, projection), np.asarray(groups.teacher_scores, np.float64)


def _weights(u, radius):
    """The student's ``w`` from its coordinates ``u``: ``u`` itself (``radius`` None) or ``B u/‖u‖`` on the sphere
    ``‖w‖ = B`` (``radius = B``; the loss is then constant along ``u``, an invariance the pseudo-inverses ignore)."""
    return u if radius is None else radius * u / jnp.linalg.norm(u)


def _risk(w, phi, g, tau, loss_fn, radius=None):
    return jnp.mean(loss_fn(phi @ _weights(w, radius), g, tau=tau))


def _saddle_free_inverse(h):
    """``V |Λ|⁺ Vᵀ`` of a symmetric ``h``: the Newton matrix on the sphere, where the chart's Hessian can be indefinite
    away from the minimiser (``|Λ|⁺``: the eigenvalues below ``pinv``'s cut-off are dropped, as ``pinv`` does)."""
    values, vectors = jnp.linalg.eigh(h)
    size = jnp.abs(values)
    keep = size > 10 * h.shape[0] * jnp.finfo(h.dtype).eps * size.max()
    return (vectors * jnp.where(keep, 1.0 / jnp.where(keep, size, 1.0), 0.0)) @ vectors.T


@partial(jax.jit, static_argnames=("loss_fn", "radius"))
def _fit(phi, g, tau, start, loss_fn, radius=None):
    def step(w, _):
        value, grad = jax.value_and_grad(_risk)(w, phi, g, tau, loss_fn, radius)
        hessian = jax.hessian(_risk)(w, phi, g, tau, loss_fn, radius)
        inverse = jnp.linalg.pinv(hessian, hermitian=True) if radius is None else _saddle_free_inverse(hessian)
        direction = -inverse @ grad
        steps = jnp.asarray(_STEPS)
        values = jax.vmap(lambda t: _risk(w + t * direction, phi, g, tau, loss_fn, radius))(steps)
        best = jnp.argmin(values)
        return w + jnp.where(values[best] <= value, steps[best], 0.0) * direction, None

    w, _ = jax.lax.scan(step, start, None, length=NEWTON_ITERS)
    return _weights(w, radius), jnp.linalg.norm(jax.grad(_risk)(w, phi, g, tau, loss_fn, radius))


def _fit_ball(phi, g, tau, loss_fn, norm_bound):
    """One fit: unconstrained; if its norm exceeds ``norm_bound``, the constrained minimiser on the sphere from there
    (for a convex loss the minimiser over the ball then lies on its boundary)."""
    w, norm = _fit(phi, g, tau, jnp.zeros(phi.shape[-1]), loss_fn)
    if norm_bound is None:
        return w, norm
    w_sphere, norm_sphere = _fit(phi, g, tau, w, loss_fn, norm_bound)
    inside = jnp.linalg.norm(w) <= norm_bound
    return jnp.where(inside, w, w_sphere), jnp.where(inside, norm, norm_sphere)


def fit_linear_student(
    phi: np.ndarray, g: np.ndarray, *, loss: str, tau: float = 1.0, norm_bound: float | None = None
) -> tuple[np.ndarray, float]:
    """The empirical minimiser ``ŵ = argmin_{‖w‖ ≤ B} (1/n) Σ_i ℓ(Φ_i w, g_i)`` by damped Newton (pseudo-inverse steps,
    the best of 12 halvings), in float64, and the final gradient norm ``‖∇R̂(ŵ)‖`` (the convergence check; on the
    sphere ``‖w‖ = B`` the gradient along it). Where the unconstrained minimiser lies outside the ball, Newton's method
    continues in the sphere's coordinates ``w = B u/‖u‖`` (saddle-free steps ``−V|Λ|⁺Vᵀ∇``).

    Args:
      phi: ``[n, k, D]`` features (:func:`linear_features`), or ``[reps, n, k, D]`` for ``reps`` independent fits.
      g: ``[n, k]`` (or ``[reps, n, k]``) teacher scores.
      loss: a name of :data:`simrank.losses.LOSSES` (convex in the scores).
      tau: label temperature.
      norm_bound: ``B`` of the ball ``‖w‖ ≤ B`` (``‖W‖_F ≤ B``); None: unconstrained.

    Returns:
      ``(ŵ [D] or [reps, D], gradient norm, or its maximum over the fits)``.
    """
    loss_fn = get_loss(loss)
    radius = None if norm_bound is None else float(norm_bound)
    with x64(True):
        phi64, g64 = jnp.asarray(phi, jnp.float64), jnp.asarray(g, jnp.float64)
        fit = partial(_fit_ball, loss_fn=loss_fn, norm_bound=radius)
        fit = fit if phi64.ndim == 3 else jax.vmap(fit, in_axes=(0, 0, None))
        w, norm = fit(phi64, g64, jnp.float64(tau))
        return np.asarray(w), float(np.max(np.asarray(norm)))


_risks = jax.jit(jax.vmap(_risk, in_axes=(0, None, None, None, None)), static_argnums=4)


def _active(w: np.ndarray, norm_bound: float | None) -> float | None:
    """The sphere's radius where the fit ``w`` lies on it (the constraint is active), else None."""
    if norm_bound is None or np.linalg.norm(w) < norm_bound * (1 - 1e-9):
        return None
    return float(norm_bound)


@partial(jax.jit, static_argnames=("loss_fn", "radius"))
def _sandwich(w, phi, g, phi_t, g_t, tau, loss_fn, radius=None):
    """``(V, D, R_T(w))`` at ``w = w*_η`` from the training sample ``(phi, g)`` and the target sample ``(phi_t, g_t)``;
    with ``radius`` in the sphere's coordinates ``u`` at ``u = w`` (the tangent-space terms, theory.md §10(d))."""

    def risk(v, phi_, g_):
        return _risk(v, phi_, g_, tau, loss_fn, radius)

    def group_loss(v, phi_i, g_i):
        return loss_fn(phi_i @ _weights(v, radius), g_i, tau=tau)

    H_plus = jnp.linalg.pinv(jax.hessian(risk)(w, phi, g), hermitian=True)
    psi = jax.vmap(jax.grad(group_loss), in_axes=(None, 0, 0))(w, phi, g)  # [n, D]
    psi_c = psi - psi.mean(0)
    sigma = H_plus @ (psi_c.T @ psi_c / psi.shape[0]) @ H_plus
    h_t = jax.hessian(risk)(w, phi_t, g_t)
    grad_t = jax.grad(risk)(w, phi_t, g_t)

    def hvp(phi_i, g_i, v):  # Ψ_i v
        return jax.jvp(lambda u: jax.grad(group_loss)(u, phi_i, g_i), (w,), (v,))[1]

    psi_h_psi = jax.vmap(hvp)(phi, g, psi @ H_plus).mean(0)
    third = jax.grad(lambda u: jnp.sum(jax.hessian(risk)(u, phi, g) * sigma))(w)
    beta = H_plus @ (psi_h_psi - third / 2)
    return jnp.sum(h_t * sigma) / 2, grad_t @ beta, risk(w, phi_t, g_t)


def excess_terms(
    phi: np.ndarray,
    g: np.ndarray,
    phi_t: np.ndarray,
    g_t: np.ndarray,
    *,
    loss: str,
    tau: float = 1.0,
    norm_bound: float | None = None,
) -> dict[str, Any]:
    """Theorem 7(b, d) from two samples: the fit ``w*`` on the training sample (:func:`fit_linear_student`) and, at it,
    ``V = ½ tr(H_T Σ)``, ``D = ∇R_Tᵀ β`` and ``R_T(w*)`` with ``R_T`` the target sample's mean loss.  Where the fit
    lies on the sphere ``‖w‖ = B`` every term is taken in the sphere's coordinates, i.e. on its tangent space with
    the multiplier ``λ = −⟨∇R, w⟩/B²`` added to each Hessian there (§10(d)).

    Args:
      phi: ``[m, k, D]`` training-law features.
      g: ``[m, k]`` their teacher scores.
      phi_t: ``[m', k, D]`` target-law features.
      g_t: ``[m', k]`` their teacher scores.
      loss: a loss of :data:`simrank.losses.LOSSES`.
      tau: label temperature.
      norm_bound: ``B`` of the student's ball (None: unconstrained).

    Returns:
      ``{"w", "variance", "drift", "target_risk", "active"}`` (``active``: the constraint binds at ``w*``).
    """
    w, _ = fit_linear_student(phi, g, loss=loss, tau=tau, norm_bound=norm_bound)
    radius = _active(w, norm_bound)
    with x64(True):
        args = (jnp.asarray(phi), jnp.asarray(g), jnp.asarray(phi_t), jnp.asarray(g_t), jnp.float64(tau))
        variance, drift, risk = (float(v) for v in _sandwich(jnp.asarray(w), *args, get_loss(loss), radius))
    return {"w": w, "variance": variance, "drift": drift, "target_risk": risk, "active": radius is not None}


@dataclass(frozen=True)
class _Target:
    """A target law's Monte Carlo population: features, teacher scores and the minimum ``min R_T``."""

    phi: np.ndarray
    g: np.ndarray
    risk_min: float


def _sample_minimum(phi, g, *, loss, tau, norm_bound=None) -> float:
    """``min R`` (over the ball ``‖w‖ ≤ B`` if ``norm_bound``) estimated from one sample of ``m`` groups:
    ``R̂(ŵ) + ½ tr(H⁺ G)/m``, the in-sample minimum plus its optimism (``E R̂(ŵ) = min R − ½ tr(H⁺G)/m + o(1/m)``,
    the ``V`` of the sample's own law at ``η``-free ``w*``)."""
    terms = excess_terms(phi, g, phi, g, loss=loss, tau=tau, norm_bound=norm_bound)
    return terms["target_risk"] + terms["variance"] / len(phi)


def _target(world, teacher, target, group_size, population, seed, projection, loss, tau, norm_bound) -> _Target:
    phi, g = _sample(world, teacher, TARGETS[target], population, group_size, seed, projection)
    return _Target(phi, g, _sample_minimum(phi, g, loss=loss, tau=tau, norm_bound=norm_bound))


def _mixture(sampler: Sampler, eta: float) -> Sampler:
    return sampler if eta == 0 else Mixture(sampler, float(eta))


def _predict(world, teacher, sampler, target_state, *, loss, n_groups, group_size, target, eta, tau, population, seed,
             projection, norm_bound) -> ExcessPrediction:  # fmt: skip
    phi, g = _sample(world, teacher, _mixture(sampler, eta), population, group_size, seed, projection)
    terms = excess_terms(phi, g, target_state.phi, target_state.g, loss=loss, tau=tau, norm_bound=norm_bound)
    variance, drift, risk = terms["variance"], terms["drift"], terms["target_risk"]
    # R_T at the population fit ŵ_η exceeds R_T(w*_η) by (V + D)/population in expectation: removed
    b = max(risk - (variance + drift) / population - target_state.risk_min, 0.0)
    return ExcessPrediction(
        excess=b + (variance + drift) / n_groups,
        bias=b,
        variance=variance,
        drift=drift,
        target_risk_min=target_state.risk_min,
        n_groups=int(n_groups),
        eta=float(eta),
        loss=loss,
        target=target,
        tau=float(tau),
        population=int(population),
        norm_bound=norm_bound,
        active=terms["active"],
    )


def predict_excess(
    world: World | EmpiricalWorld,
    teacher: Teacher | None,
    sampler: Sampler,
    *,
    loss: str,
    n_groups: int,
    group_size: int,
    target: str = "top10",
    eta: float = 0.0,
    tau: float = 1.0,
    projection: np.ndarray | None = None,
    population: int = 40_000,
    seed: int = 0,
    norm_bound: float | None = None,
) -> ExcessPrediction:
    """Predicted ``E R_T(ŵ_η) − min R_T`` for the empirical minimiser over ``n_groups`` groups from
    ``ν_η = (1 − η) ν + η μ`` (``ν`` = ``sampler``, any object with ``.distribution(ctx)``; ``μ`` uniform):
    ``Bias(η) + (V(η) + D(η))/n`` (module docstring), population means over ``population`` groups.

    Args:
      world: the world (queries drawn fresh from its law), or a collection's empirical laws
        (:class:`~simrank.theory.monte_carlo.EmpiricalWorld`: its training queries resampled uniformly).
      teacher: the teacher ``g`` (None with an :class:`~simrank.theory.monte_carlo.EmpiricalWorld`, which carries its
        teacher's scores).
      sampler: the base negative sampler ``ν``.
      loss: a loss of :data:`simrank.losses.LOSSES`, convex in the scores (``margin_mse``, ``kl``, ``ranknet_soft``,
        ``listnet``, ``lce``).
      n_groups: ``n``, the number of training groups.
      group_size: ``k``.
      target: a key of :data:`TARGETS`.
      eta: ``η``.
      tau: label temperature ``τ``.
      projection: ``P`` of the student ``qᵀ W P x`` (None: the full bilinear student).
      population: size of the Monte Carlo populations.
      seed: their seed (training law: ``seed``, target: ``seed + 1``).
      norm_bound: ``B`` of a student on the ball ``‖W‖_F ≤ B`` (None: unconstrained); where the constraint binds at
        ``w*_η`` the terms are taken on the sphere's tangent space (theory.md §10(d)), and ``min R_T`` is over the ball.

    Returns:
      :class:`ExcessPrediction`.
    """
    state = _target(world, teacher, target, group_size, population, seed + 1, projection, loss, tau, norm_bound)
    return _predict(world, teacher, sampler, state, loss=loss, n_groups=n_groups, group_size=group_size,
                    target=target, eta=eta, tau=tau, population=population, seed=seed, projection=projection,
                    norm_bound=norm_bound)  # fmt: skip


def excess_curve(
    world: World | EmpiricalWorld,
    teacher: Teacher | None,
    sampler: Sampler,
    *,
    loss: str,
    group_size: int,
    etas: Sequence[float] = VALIDATION_ETAS,
    target: str = "top10",
    tau: float = 1.0,
    projection: np.ndarray | None = None,
    population: int = 40_000,
    seed: int = 0,
    norm_bound: float | None = None,
) -> list[ExcessPrediction]:
    """:func:`predict_excess` at every ``η`` of ``etas`` (one target population shared; ``n_groups = 1``, so
    :meth:`ExcessPrediction.at` gives any ``n``)."""
    state = _target(world, teacher, target, group_size, population, seed + 1, projection, loss, tau, norm_bound)
    return [
        _predict(
            world,
            teacher,
            sampler,
            state,
            loss=loss,
            n_groups=1,
            group_size=group_size,
            target=target,
            eta=e,
            tau=tau,
            population=population,
            seed=seed,
            projection=projection,
            norm_bound=norm_bound,
        )  # fmt: skip
        for e in etas
    ]


def predicted_eta_star(curve: list[ExcessPrediction], n_groups: int) -> float:
    """The rule ``η*(n) = argmin_η Bias(η) + (V(η) + D(η))/n`` over the grid of ``curve`` (:func:`excess_curve`).

    Examples:
      >>> flat = dict(drift=0.0, target_risk_min=0.0, n_groups=1, loss="kl", target="top10", tau=1.0, population=1)
      >>> curve = [ExcessPrediction(0, 0.1, 1.0, eta=0.0, **flat), ExcessPrediction(0, 0.0, 50.0, eta=1.0, **flat)]
      >>> predicted_eta_star(curve, 100), predicted_eta_star(curve, 10_000)  # small n: variance wins; large n: bias
      (0.0, 1.0)
    """
    return curve[int(np.argmin([p.at(n_groups) for p in curve]))].eta


def rank_samplers(
    world: World,
    teacher: Teacher,
    samplers: dict[str, Sampler],
    *,
    loss: str,
    n_groups: int,
    group_size: int,
    etas: Sequence[float] = VALIDATION_ETAS,
    target: str = "top10",
    tau: float = 1.0,
    projection: np.ndarray | None = None,
    population: int = 40_000,
    seed: int = 0,
) -> pd.DataFrame:
    """The same comparison across samplers (any objects with ``.distribution(ctx)``): per sampler, ``η*(n)`` and the
    predicted excess there (:func:`excess_curve`, :func:`predicted_eta_star`), best first.

    Returns:
      a frame with columns ``sampler``, ``eta_star``, ``predicted_excess``, ``bias``, ``variance``, ``drift``, sorted by
      ``predicted_excess``.
    """
    rows = []
    for name, sampler in samplers.items():
        curve = excess_curve(world, teacher, sampler, loss=loss, group_size=group_size, etas=etas, target=target,
                             tau=tau, projection=projection, population=population, seed=seed)  # fmt: skip
        best = next(p for p in curve if p.eta == predicted_eta_star(curve, n_groups))
        rows.append({"sampler": name, "eta_star": best.eta, "predicted_excess": best.at(n_groups), "bias": best.bias,
                     "variance": best.variance, "drift": best.drift})  # fmt: skip
    return pd.DataFrame(rows).sort_values("predicted_excess", ignore_index=True)


def measure_excess(
    world: World,
    teacher: Teacher,
    sampler: Sampler,
    *,
    loss: str,
    n_groups: int,
    group_size: int,
    target: str = "top10",
    eta: float = 0.0,
    tau: float = 1.0,
    projection: np.ndarray | None = None,
    reps: int = 100,
    test: int = 40_000,
    seed: int = 1000,
    norm_bound: float | None = None,
) -> dict:
    """Measured ``E R_T(ŵ_η) − min R_T``: ``reps`` training sets of ``n_groups`` groups from ``ν_η``, each fitted to
    convergence (:func:`fit_linear_student`), evaluated on ``test`` independent target groups (seeds disjoint from
    :func:`predict_excess`'s), minus the minimum over that test sample (over the ball ``‖w‖ ≤ norm_bound`` if given,
    the class the students are fitted in).

    Returns:
      ``{"mean", "se", "grad_norm"}``: the mean excess (against the test sample's debiased minimum, see
      ``_sample_minimum``), its standard error over the ``reps`` fits, and the largest
      final gradient norm of the fits.
    """
    phi_t, g_t = _sample(world, teacher, TARGETS[target], test, group_size, seed, projection)
    risk_min = _sample_minimum(phi_t, g_t, loss=loss, tau=tau, norm_bound=norm_bound)
    mixed = _mixture(sampler, eta)
    samples = [_sample(world, teacher, mixed, n_groups, group_size, seed + 1 + r, projection) for r in range(reps)]
    w_hat, grad_norm = fit_linear_student(np.stack([s[0] for s in samples]), np.stack([s[1] for s in samples]),
                                          loss=loss, tau=tau, norm_bound=norm_bound)  # fmt: skip
    with x64(True):
        risks = _risks(jnp.asarray(w_hat), jnp.asarray(phi_t), jnp.asarray(g_t), jnp.float64(tau), get_loss(loss))
        excess = np.asarray(risks) - risk_min
    return {"mean": float(excess.mean()), "se": float(excess.std(ddof=1) / math.sqrt(reps)), "grad_norm": grad_norm}


# ============================================================================ MarginMSE: the exact transfer bound


def transfer_constant(M_eta: np.ndarray, M_target: np.ndarray, rtol: float = 1e-10) -> float:
    """``λ = λ_max(M_η^{+½} M_T M_η^{+½})``: the least ``λ`` with ``M_T ⪯ λ M_η``; ``inf`` when ``range M_T ⊄ range M_η``.

    Examples:
      >>> transfer_constant(np.diag([1.0, 2.0]), np.diag([3.0, 1.0]))
      3.0
      >>> transfer_constant(np.diag([1.0, 0.0]), np.diag([1.0, 1.0]))
      inf
    """
    values, vectors = np.linalg.eigh(np.asarray(M_eta, np.float64))
    keep = values > rtol * max(values.max(), 0.0)
    if keep.sum() == 0:
        return math.inf
    basis = vectors[:, keep]
    outside = np.asarray(M_target) - basis @ basis.T @ M_target @ basis @ basis.T
    if np.linalg.norm(outside) > 1e-8 * max(float(np.linalg.norm(M_target)), 1e-300):
        return math.inf
    root = basis / np.sqrt(values[keep])
    return float(np.linalg.eigvalsh(root.T @ M_target @ root)[-1])


def margin_mse_transfer(
    w: np.ndarray, eta_moments: tuple[np.ndarray, np.ndarray], target_moments: tuple[np.ndarray, np.ndarray]
) -> dict[str, float]:
    """Both sides of the MarginMSE transfer bound (theory.md §10, Theorem 7(a)), exact from pair moments:
    ``J_T(w) − min J_T ≤ (√(λ_η [J_η(w) − min J_η]) + √Bias(η))²``, ``Bias(η) = J_T(w_η) − min J_T``.

    Args:
      w: the student's ``vec W``; eta_moments, target_moments: ``(M, b)`` of ``ν_η`` and ``T``
        (:func:`~simrank.theory.bounds.moments`).

    Returns:
      ``{"excess", "bound", "train_excess", "bias", "lambda"}``.
    """
    (M_eta, b_eta), (M_t, b_t) = eta_moments, target_moments
    w_eta, w_t = minimiser(M_eta, b_eta), minimiser(M_t, b_t)
    lam = transfer_constant(M_eta, M_t)
    train_excess, b = bias(w, w_eta, M_eta), bias(w_eta, w_t, M_t)
    return {
        "excess": bias(w, w_t, M_t),
        "bound": (math.sqrt(lam * max(train_excess, 0.0)) + math.sqrt(max(b, 0.0))) ** 2,
        "train_excess": train_excess,
        "bias": b,
        "lambda": lam,
    }


# ============================================================================ validation against trained students


@dataclass(frozen=True)
class ValidationWorld:
    """One world of the validation: world, teacher, base sampler, student projection, loss and target law."""

    name: str
    world: WorldConfig
    teacher: Teacher
    sampler: Sampler
    loss: str
    target: str
    group_size: int = 4
    projection_rank: int | None = None  # None: full bilinear student; r: qᵀ W P x with a fixed random P [r, d]
    population: int = 20_000  # groups per Monte Carlo population (prediction) and per test sample (measurement)

    def projection(self) -> np.ndarray | None:
        """The student's fixed ``P`` (seeded by the world's seed), or None."""
        if self.projection_rank is None:
            return None
        d = self.world.dim
        return np.random.default_rng(self.world.random_state).standard_normal((self.projection_rank, d)) / np.sqrt(d)


def validation_worlds() -> tuple[ValidationWorld, ...]:
    """The four validation worlds (N = 64, d = 4, unit sphere, k = 4, hard negatives = dense top 8):

    * ``nonbilinear-kl``: truth and teacher not bilinear (γ = 0.5), listwise KL, target top10;
    * ``projected-mse``: bilinear teacher (map noise 0.5), rank-2 projected student, MarginMSE, target uniform
      (populations of 200,000 groups: its biases are large, and the Monte Carlo error of a bias grows with it);
    * ``clustered-kl``: clustered corpus, γ = 0.3, listwise KL, target uniform, tempered β = 4 negatives;
    * ``on-target-kl``: the world of ``nonbilinear-kl`` sampling from the target law itself (teacher top 10), where
      mixing can only add bias.
    """
    base: dict[str, Any] = dict(n_docs=64, dim=4, sphere=True, signal=3.0)
    hard = Local(8, "dense")
    return (
        ValidationWorld("nonbilinear-kl", WorldConfig(**base, nonbilinear=0.5), Teacher(0.3), hard, "kl", "top10"),
        ValidationWorld(
            "projected-mse",
            WorldConfig(**base, random_state=3),
            Teacher(0.5),
            hard,
            "margin_mse",
            "uniform",
            projection_rank=2,
            population=200_000,
        ),
        ValidationWorld(
            "clustered-kl",
            WorldConfig(**base, geometry="clustered", nonbilinear=0.3, random_state=5),
            Teacher(0.3),
            Tempered(4.0, "dense"),
            "kl",
            "uniform",
        ),
        ValidationWorld(
            "on-target-kl", WorldConfig(**base, nonbilinear=0.5), Teacher(0.3), TARGETS["top10"], "kl", "top10"
        ),
    )


def validation_table(
    worlds: Sequence[ValidationWorld] | None = None,
    etas: Sequence[float] = VALIDATION_ETAS,
    n_values: Sequence[int] = (200, 800, 3200),
    reps: int = 40,
    population: int | None = None,
    progress: Callable[[dict], None] | None = None,
) -> pd.DataFrame:
    """Predicted (:func:`excess_curve`) against measured (:func:`measure_excess`) target excess per world, ``η`` and
    ``n``; one row each with ``predicted``, its parts, ``measured``, ``se``, ``grad_norm``, ``rel_error`` and the
    control ``rel_error_no_variance`` (the prediction with ``V`` and ``D`` dropped: the bias alone).  ``population``
    (None: each world's own) sizes both the prediction's populations and the measurement's test sample."""
    rows = []
    for vw in validation_worlds() if worlds is None else worlds:
        world, projection = vw.world.generate(), vw.projection()
        common: dict[str, Any] = dict(loss=vw.loss, group_size=vw.group_size, target=vw.target, projection=projection)
        size = vw.population if population is None else population
        curve = excess_curve(world, vw.teacher, vw.sampler, etas=etas, population=size, **common)
        for n in n_values:
            for p in curve:
                m = measure_excess(world, vw.teacher, vw.sampler, n_groups=n, eta=p.eta, reps=reps, test=size, **common)
                rows.append(
                    {
                        "world": vw.name,
                        "loss": vw.loss,
                        "target": vw.target,
                        "eta": p.eta,
                        "n": n,
                        "predicted": p.at(n),
                        "bias": p.bias,
                        "variance": p.variance,
                        "drift": p.drift,
                        "measured": m["mean"],
                        "se": m["se"],
                        "grad_norm": m["grad_norm"],
                    }  # fmt: skip
                )
                if progress is not None:
                    progress(rows[-1])
    df = pd.DataFrame(rows)
    return df.assign(
        rel_error=df["predicted"] / df["measured"] - 1, rel_error_no_variance=df["bias"] / df["measured"] - 1
    )


# ============================================================================ rows of ``simrank theory check``

EXCESS_RTOL = 0.10  # the target: predicted within 10% of measured (plus 3 standard errors of the measurement)


def _transfer_world(eta: float):
    """T6's exact world (12 documents, rank-2 projected student) with ``ν`` = tempered β = 2 mixed with uniform at ``η``,
    and the target top10: pair design, moments of ``ν_η`` and ``T``, and ``κ(T ‖ ν_η)``."""
    qs, projection = t6_setup()
    rows, positives = np.arange(qs.n_queries), np.zeros(qs.n_queries, int)
    nu = sampling_distribution(qs, _mixture(Tempered(2.0, "dense"), eta), rows, positives)
    target = sampling_distribution(qs, TARGETS["top10"], rows, positives)
    z, y = pair_design(qs.queries, qs.docs, qs.teacher_scores, projection, 1.0)
    mom = [moments(z, y, pair_law(qs.positive_probs, law)) for law in (nu, target)]
    return mom, float(np.max(kappa(target, nu)))


def excess_exact_rows(rng: np.random.Generator, n_points: int = 200) -> list[Check]:
    """Theorem 7(a) on T6's exact world at ``η = 0.3``: the MarginMSE transfer bound at ``n_points`` random ``w`` (must
    hold) and ``λ_η ≤ κ(T ‖ ν_η)``; the control halves ``λ`` at ``w = w_η + s u`` (``u`` the top direction of
    ``M_η^{-½} M_T M_η^{-½}``, ``s`` large), where the bound must fail."""
    (eta_mom, target_mom), kappa_eta = _transfer_world(0.3)
    w_eta = minimiser(*eta_mom)
    scale = np.linalg.norm(w_eta) + 1.0
    slack = []
    for _ in range(n_points):
        sides = margin_mse_transfer(w_eta + rng.normal(0, scale, w_eta.shape), eta_mom, target_mom)
        slack.append((sides["bound"] - sides["excess"]) / max(sides["bound"], 1e-300))
    values, vectors = np.linalg.eigh(eta_mom[0])
    root = vectors / np.sqrt(values)
    top = root @ np.linalg.eigh(root.T @ target_mom[0] @ root)[1][:, -1]
    far = margin_mse_transfer(w_eta + 100 * scale * top / np.linalg.norm(top), eta_mom, target_mom)
    halved = (math.sqrt(far["lambda"] / 2 * far["train_excess"]) + math.sqrt(far["bias"])) ** 2
    lam = far["lambda"]
    return [
        Check(
            "T7 MSE bound",
            "min (bound − excess)/bound, J_T ≤ (√(λ ΔJ_η) + √Bias)², 200 w",
            min(slack),
            min(slack) >= -1e-9 and lam <= kappa_eta * (1 + 1e-9),
            f"λ_η = {lam:.3f} ≤ κ(T‖ν_η) = {kappa_eta:.3f}, η = 0.3, target top10",
        ),
        Check(
            "T7 MSE control",
            "excess / bound with λ/2 at the top direction (must exceed 1)",
            far["excess"] / halved,
            far["excess"] > halved,
            "the check detects a λ too small by 2",
        ),
    ]


def excess_monte_carlo_rows(
    n_groups: int = 100, etas: Sequence[float] = (0.0, 1.0), reps: int = 60, population: int = 10_000
) -> tuple[list[Check], pd.DataFrame]:
    """Theorem 7(b) against trained students in the first validation world (``nonbilinear-kl``) at ``n_groups``: every
    ``|predicted/measured − 1| ≤ EXCESS_RTOL + 3 se/measured``; the control (the bias alone, ``V`` and ``D`` dropped)
    must miss that tolerance somewhere."""
    table = validation_table(validation_worlds()[:1], etas, (n_groups,), reps, population)
    tol = EXCESS_RTOL + 3 * table["se"] / table["measured"]
    worst = float(table["rel_error"].abs().max())
    control = float(table["rel_error_no_variance"].abs().max())
    converged = float(table["grad_norm"].max())
    return [
        Check(
            "T7 excess MC",
            f"max |pred/meas − 1|, KL, top10, η∈{{{', '.join(f'{e:g}' for e in etas)}}}, n={n_groups}",
            worst,
            bool((table["rel_error"].abs() <= tol).all()) and converged < 1e-6,
            f"tolerance {EXCESS_RTOL:g} + 3 se ≤ {tol.max():.3f}; {reps} fits per cell, max ‖∇R̂‖ {converged:.1e}",
        ),
        Check(
            "T7 excess ctrl",
            "max |bias/meas − 1| (V, D dropped; must exceed tolerance)",
            control,
            bool((table["rel_error_no_variance"].abs() > tol).any()),
            "the check detects a prediction without the 1/n terms",
        ),
    ], table


def _eta_star_path(part: pd.DataFrame) -> str:
    """Where the predicted ``η*(n)`` changes, over ``n = 10 … 10⁶`` (from one world's bias, V and D per ``η``)."""
    curve = part.drop_duplicates("eta").sort_values("eta")
    ns = np.unique(np.round(np.logspace(1, 6, 2001)).astype(int))
    values = curve["bias"].to_numpy()[:, None] + (curve["variance"] + curve["drift"]).to_numpy()[:, None] / ns
    star = curve["eta"].to_numpy()[np.argmin(values, axis=0)]
    changes = [f"η* = {star[0]:g} from n = 10"]
    changes += [f"{star[i]:g} from n = {ns[i]}" for i in range(1, len(ns)) if star[i] != star[i - 1]]
    return ", ".join(changes)


def excess_paper_block(table: pd.DataFrame) -> str:
    """Markdown of the validation (theory.md §10, between ``<!-- T7-EXCESS -->`` markers) from :func:`validation_table`:
    per world the predicted/measured excess at every ``(η, n)``, the relative errors, and ``η*(n)`` predicted and
    measured."""
    lines = []
    for (world, loss, target), part in table.groupby(["world", "loss", "target"], sort=False):
        lines += [f"**{world}** ({loss}, target {target}): predicted / measured ± se (relative error)", ""]
        ns = sorted(part["n"].unique())
        lines += ["| η | " + " | ".join(f"n = {n}" for n in ns) + " |", "|---" * (len(ns) + 1) + "|"]
        for eta, row in part.groupby("eta"):
            cells = [
                f"{r.predicted:.4g} / {r.measured:.4g} ± {r.se:.2g} ({100 * r.rel_error:+.1f}%)"
                for r in row.sort_values("n").itertuples()
            ]
            lines.append(f"| {eta:g} | " + " | ".join(cells) + " |")
        stars = []
        for n in ns:
            cell = part[part["n"] == n]
            stars.append(
                f"n = {n}: η* = {cell.loc[cell['predicted'].idxmin(), 'eta']:g} predicted, "
                f"{cell.loc[cell['measured'].idxmin(), 'eta']:g} measured"
            )
        lines += ["", "; ".join(stars) + f". The rule over all n: {_eta_star_path(part)}.", ""]
    err, ctrl = table["rel_error"].abs(), table["rel_error_no_variance"].abs()
    within = (err <= EXCESS_RTOL).mean()
    lines.append(
        f"Over all {len(table)} cells: median |relative error| {100 * err.median():.1f}%, max {100 * err.max():.1f}%, "
        f"{100 * within:.0f}% of cells within {100 * EXCESS_RTOL:g}%; the bias alone (V and D dropped): median "
        f"{100 * ctrl.median():.1f}%, max {100 * ctrl.max():.1f}%. Largest final gradient norm of a fit: "
        f"{table['grad_norm'].max():.1e}."
    )
    return "\n".join(lines)
