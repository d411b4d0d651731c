"""The statements T1-T6 of ``paper/theory.md`` as code: both sides of every identity and bound.

Every loss value comes from :mod:`simrank.losses`, every measured quantity (Δ, entropies, κ) from
:mod:`simrank.measures`; this module adds only the right-hand sides and the closed forms.

* **T1** ``CE(t, softmax f) = H(t) + KL(t ‖ softmax f)`` (listwise) and
  ``BCE(p_ij, σ(f_i − f_j)) = h(p_ij) + KL_B(p_ij ‖ σ(f_i − f_j))`` averaged over pairs (pairwise).
* **T2** with ``a = L Δ(G)``: RankNet ``≤ log(1 + e^a)``; listwise CE/KL/LCE ``≤ log(1 + (k−1) e^a)``
  (sharp); MarginMSE ``≤ ((L + Lip(g)/τ) Δ)²``.
* **T3** extra term of ``R ≤ R̂ + …``: population ``2Bρ₂/√n + c √(log(1/δ)/2n)``, data-dependent
  ``2Bρ̂₂/√n + 3c √(log(2/δ)/2n)``, listwise ``2√(2(k−1)) Bρ₂/√n + c_k √(…)``, with ranges
  ``c = log(1 + e^{Bρ_∞})``, ``c_k = log(1 + (k−1) e^{Bρ_∞})``; the spec's form with ``R_Q Δ_Q``.
* **T3L** (localised): ``R(W) ≤ R̂_{S₂}(W) + ε₀ + U_j`` on the shell ``‖W − W₀‖_F ≤ r_j``: empirical Bernstein
  at ``W₀`` plus Bousquet over the shell with local Lipschitz constants; **T3** as proved for P1/P8
  (almost-sure ``ρ_∞`` of the world, ``n`` = i.i.d. draws).
* **3LB** (lower bound): the world with ``Δ_Q = s`` and fixed corpus diameter, ``E sup gap ≥ (½ − p₀) t E‖ξ‖ −
  (t²/8) E max|ξ_c|``, and the first-order gap of the constrained minimiser.
* **T4** ``R_μ ≤ κ R_ν`` on pairs, ``κ_η = 1/((1−η)/κ + η)``, the combined bound
  ``F(η) = κ_η (A(η) + Γ(η))``, its minimiser η* and the marginal condition
  ``(κ−1)(A(0) + Γ(0)) > A'(0) + Γ'(0)``.
* **T5** LCE optimum ``log p − log ν + c``, distillation optimum ``g/τ + c``, checked against exact
  population risks over all ``N^k`` groups minimised by scipy; importance weighting (correction 10).
* **T6** MarginMSE minimiser ``M_ν w = b_ν`` with ``z = (Pδ) ⊗ q``, bias
  ``B(ν) = (w_ν − w_μ)ᵀ M_μ (w_ν − w_μ)``, mixture curves ``B(η)``.

Monte Carlo checks (T1, T3, T3L, 3LB, T5, T6) live in :mod:`simrank.theory.monte_carlo`; :func:`simrank.theory.check.run_checks`
collects all checks into :class:`Check` rows for ``simrank theory check``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import minimize

from simrank.losses import get_loss, kl_distill, lce, listnet, margin_mse, ranknet_soft
from simrank.measures import diameter, kappa, listwise_entropy, pairwise_distances, pairwise_entropy
from simrank.students import bilinear

#: A number or a numpy array of numbers: what the closed-form bounds compute with elementwise (a float in, a float out).
Real = float | np.ndarray

__all__ = [
    "NEWTON_STEPS",
    "augmentation_helps",
    "bias",
    "bousquet_deviation",
    "centred",
    "change_of_measure_margin",
    "Check",
    "combined_bound",
    "counterexample_curves",
    "counterexample_world",
    "distill_optimum",
    "distill_population_optimum",
    "draw_entropies",
    "draw_losses",
    "empirical_bernstein_deviation",
    "entropy_decomposition",
    "enumerate_groups",
    "enumerated_risk",
    "excess_ranknet_pairs",
    "gap_slope_at_zero",
    "is_non_increasing",
    "kappa_eta",
    "kappa_eta_error",
    "lce_optimum",
    "lce_population_optimum",
    "listwise_range",
    "local_lipschitz",
    "localised_t3_bound",
    "lower_bound_minimiser_gap",
    "lower_bound_sup_gap",
    "lower_bound_world",
    "margin_mse_bound",
    "margin_mse_risk",
    "minimise_risk",
    "minimiser",
    "mixture_bias_curve",
    "mixture_gap",
    "moments",
    "optimal_eta",
    "pair_design",
    "pair_features",
    "pair_law",
    "pairwise_excess",
    "ranknet_bound",
    "ranknet_range",
    "rms_query_diameter",
    "sharp_listwise_bound",
    "shell_deviation",
    "shell_index",
    "shell_moments",
    "t1_residual",
    "t2_extremal_group",
    "t2_margins",
    "t3_bound_as_proved",
    "t3_gap_bound",
    "t3_spec_bound",
    "t5_distill_error",
    "t5_lce_error",
    "world_rho_inf",
    "x64",
]

x64 = jax.enable_x64  # every closed-form comparison runs in float64 (``with x64(True): ...``)


@dataclass(frozen=True)
class Check:
    """One row of ``simrank theory check``: what was compared, the margin or tightness, holds/fails."""

    statement: str
    compared: str
    value: float
    holds: bool
    detail: str

    def as_dict(self) -> dict[str, str | float | bool]:
        row = asdict(self)
        row["value"] = float(self.value)
        row["holds"] = bool(self.holds)
        return row


# ============================================================================ T1: entropy floor


def pairwise_excess(f: ArrayLike, g: ArrayLike, tau: float) -> jax.Array:
    """``mean_{i<j} KL_B(p_ij ‖ σ(f_i − f_j))`` with ``p_ij = σ((g_i − g_j)/τ)``, computed from logs
    (independently of :func:`~simrank.losses.ranknet_soft`).

    Examples:
      >>> float(pairwise_excess(jnp.array([1.0, 0.0]), jnp.array([1.0, 0.0]), 1.0))  # f = g/τ: no excess
      0.0
    """
    f, g = jnp.asarray(f), jnp.asarray(g)
    k = f.shape[-1]
    d = f[..., :, None] - f[..., None, :]
    m = (g[..., :, None] - g[..., None, :]) / tau
    p = jax.nn.sigmoid(m)
    kl = p * (jax.nn.log_sigmoid(m) - jax.nn.log_sigmoid(d)) + (1 - p) * (
        jax.nn.log_sigmoid(-m) - jax.nn.log_sigmoid(-d)
    )
    upper = jnp.triu(jnp.ones((k, k), bool), 1)
    return jnp.sum(jnp.where(upper, kl, 0.0), (-2, -1)) / (k * (k - 1) / 2)


def entropy_decomposition(f: ArrayLike, g: ArrayLike, tau: float) -> dict[str, np.ndarray]:
    """Both sides of T1 per group: listwise ``CE = H + KL`` and pairwise ``RankNet = H_pair + KL_B``.

    Examples:
      >>> parts = entropy_decomposition(np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]]), 1.0)
      >>> bool(np.allclose(parts['listwise_ce'], parts['listwise_h'] + parts['listwise_kl']))
      True
    """
    with x64(True):
        parts = _decomposition(jnp.asarray(f, jnp.float64), jnp.asarray(g, jnp.float64), jnp.float64(tau))
        return {k: np.asarray(v) for k, v in parts.items()}


@jax.jit
def _decomposition(f, g, tau):
    return {
        "listwise_ce": listnet(f, g, tau=tau),
        "listwise_h": listwise_entropy(g, tau),
        "listwise_kl": kl_distill(f, g, tau=tau),
        "pairwise_ce": ranknet_soft(f, g, tau=tau),
        "pairwise_h": pairwise_entropy(g, tau),
        "pairwise_kl": pairwise_excess(f, g, tau),
    }


def t1_residual(f: ArrayLike, g: ArrayLike, tau: float) -> float:
    """``max |CE − H − KL|`` over groups, listwise and pairwise (0 up to float64 round-off).

    Examples:
      >>> t1_residual(np.array([[0.0, 1.0, 2.0]]), np.array([[2.0, 0.0, 1.0]]), 1.0) < 1e-12
      True
    """
    parts = entropy_decomposition(f, g, tau)
    listwise = parts["listwise_ce"] - parts["listwise_h"] - parts["listwise_kl"]
    pairwise = parts["pairwise_ce"] - parts["pairwise_h"] - parts["pairwise_kl"]
    return float(max(np.abs(listwise).max(), np.abs(pairwise).max()))


# ============================================================================ T2: locality bounds the losses


def ranknet_bound(a: ArrayLike) -> np.ndarray:
    """``log(1 + e^a)``: bound on soft/hard RankNet when every margin is at most ``a = LΔ``.

    Examples:
      >>> float(ranknet_bound(0.0))  # log 2 at zero margin
      0.6931471805599453
    """
    return np.logaddexp(0.0, a)


def sharp_listwise_bound(k: int, a: ArrayLike) -> np.ndarray:
    """``log(1 + (k−1) e^a)``: the sharp bound on listwise CE/KL/LCE when ``osc f ≤ a`` (Theorem 2(c)).

    Examples:
      >>> float(sharp_listwise_bound(4, 0.0))  # log k at a = 0
      1.3862943611198908
    """
    return np.logaddexp(0.0, np.log(k - 1) + a)


def margin_mse_bound(lipschitz_student: Real, lipschitz_teacher_scaled: Real, delta: Real) -> Real:
    """``((L + Lip(g)/τ) Δ)²`` (Theorem 2(d), correction 3).

    Examples:
      >>> float(margin_mse_bound(1.0, 0.5, 2.0))  # ((1 + 0.5)·2)²
      9.0
    """
    return ((lipschitz_student + lipschitz_teacher_scaled) * delta) ** 2


def t2_margins(
    W: ArrayLike,
    A: ArrayLike,
    q: ArrayLike,
    docs: ArrayLike,
    tau: float,
    listwise_bound: Callable[[int, float], ArrayLike] = sharp_listwise_bound,
) -> dict[str, float]:
    """``bound − loss`` for each loss on one group (``≥ 0`` iff T2 holds).

    Student ``f_i = qᵀ W x_i`` (``L = ‖Wᵀq‖``), teacher ``g_i = qᵀ A x_i`` (``Lip(g) = ‖Aᵀq‖``),
    ``Δ = diameter(docs)``; ``listwise_bound(k, a)`` is the listwise constant under test.
    """
    with x64(True):
        W, A, q, docs = (jnp.asarray(v, jnp.float64) for v in (W, A, q, docs))
        lip_f, lip_g, delta, losses = (np.asarray(v) for v in _t2_sides(W, A, q, docs, jnp.float64(tau)))
    k = docs.shape[0]
    a = float(lip_f * delta)
    loss = dict(zip(_T2_LOSSES, losses.tolist()))
    margins = {name: float(ranknet_bound(a)) - loss[name] for name in ("ranknet_soft", "ranknet_hard")}
    margins |= {name: float(np.asarray(listwise_bound(k, a))) - loss[name] for name in ("listnet", "kl", "lce")}
    margins["margin_mse"] = float(margin_mse_bound(lip_f, lip_g, delta)) - loss["margin_mse"]
    return margins


@jax.jit
def _t2_sides(W, A, q, docs, tau):
    f, g = docs @ (W.T @ q), docs @ (A.T @ q)
    losses = jnp.stack([fn(f, g, tau=tau) for fn in _T2_LOSSES.values()])
    return jnp.linalg.norm(W.T @ q), jnp.linalg.norm(A.T @ q) / tau, diameter(docs), losses


_T2_LOSSES = {name: get_loss(name) for name in ("ranknet_soft", "ranknet_hard", "listnet", "kl", "lce", "margin_mse")}


def t2_extremal_group(k: int, a: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The group attaining the sharp listwise bound: ``q = e₁``, ``W = I``, ``x₀ = 0``, ``x_j = a e₁``,
    so ``f = (0, a, …, a)`` with the positive (LCE's one-hot target) at the minimum and ``LΔ = a``.

    Examples:
      >>> W, A, q, docs = t2_extremal_group(3, 1.0)
      >>> docs.tolist()
      [[0.0, 0.0], [1.0, 0.0], [1.0, 0.0]]
    """
    docs = np.zeros((k, 2))
    docs[1:, 0] = a
    return np.eye(2), np.eye(2), np.array([1.0, 0.0]), docs


# ============================================================================ T3: generalisation gap


def ranknet_range(B: float | np.floating, rho_inf: float) -> float:
    """``c = log(1 + e^{B ρ_∞})``: almost-sure range of soft RankNet in the ball ``‖W‖_F ≤ B``.

    Examples:
      >>> round(ranknet_range(2.0, 1.0), 4)
      2.1269
    """
    return float(np.logaddexp(0.0, B * rho_inf))


def listwise_range(B: float, rho_inf: float, k: int) -> float:
    """``c_k = log(1 + (k−1) e^{B ρ_∞})``: range of listwise CE/KL in the ball.

    Examples:
      >>> round(listwise_range(2.0, 1.0, 4), 4)
      3.1427
    """
    return float(sharp_listwise_bound(k, B * rho_inf))


def t3_gap_bound(
    B: float,
    rho2: float,
    rho_inf: float,
    n: int,
    delta: float,
    *,
    k: int = 2,
    listwise: bool = False,
    data_dependent: bool = False,
) -> float:
    """The term added to ``R̂`` in Theorem 3 / 3′.

    Population (``rho2 = ρ₂(ν)``): ``C B ρ₂/√n + c √(log(1/δ)/(2n))``; data-dependent
    (``rho2 = ρ̂₂(S)``): ``C B ρ̂₂/√n + 3c √(log(2/δ)/(2n))``; ``C = 2`` and ``c = log(1 + e^{Bρ_∞})``
    pairwise, ``C = 2√(2(k−1))`` and ``c = c_k`` listwise.

    Examples:
      >>> round(t3_gap_bound(1.0, 1.0, 2.0, 10_000, 0.05), 4)
      0.046
      >>> round(t3_gap_bound(1.0, 1.0, 2.0, 10_000, 0.05, data_dependent=True), 4)
      0.1067
    """
    const = 2 * math.sqrt(2 * (k - 1)) if listwise else 2.0
    c = listwise_range(B, rho_inf, k) if listwise else ranknet_range(B, rho_inf)
    if data_dependent:
        deviation = 3 * c * math.sqrt(math.log(2 / delta) / (2 * n))
    else:
        deviation = c * math.sqrt(math.log(1 / delta) / (2 * n))
    return const * B * rho2 / math.sqrt(n) + deviation


def t3_spec_bound(B: float, radius_q: float, diameter_q: float, n: int, delta: float) -> float:
    """The spec's form: ``2 B R_Q Δ_Q/√n + (log 2 + B R_Q Δ_Q) √(log(1/δ)/(2n))``.

    Examples:
      >>> round(t3_spec_bound(1.0, 1.0, 2.0, 10_000, 0.05), 4)
      0.073
    """
    r = B * radius_q * diameter_q
    return 2 * r / math.sqrt(n) + (math.log(2) + r) * math.sqrt(math.log(1 / delta) / (2 * n))


def rms_query_diameter(queries: ArrayLike, docs: ArrayLike) -> float:
    """``ρ̂₂ = sqrt(mean_t ‖q_t‖² Δ(G_t)²)`` over groups ``docs [n, k, d]``.

    Examples:
      >>> rms_query_diameter(np.array([[1.0, 0.0]]), np.array([[[0.0, 0.0], [3.0, 4.0]]]))
      5.0
    """
    deltas = np.asarray(diameter(jnp.asarray(docs)), np.float64)
    return float(np.sqrt(np.mean(np.sum(np.asarray(queries, np.float64) ** 2, -1) * deltas**2)))


# ============================================================================ T4: change of measure, mixtures


def kappa_eta(kappa_value: ArrayLike, eta: Real) -> np.ndarray:
    """``κ_η = 1/((1−η)/κ + η)`` (``1/∞ = 0``), exact per query and for the ess sup (correction 7).

    Examples:
      >>> float(kappa_eta(4.0, 0.5))  # 1/(0.5/4 + 0.5)
      1.6
      >>> float(kappa_eta(np.inf, 0.25))  # 1/η when κ = ∞
      4.0
    """
    kappa_value = np.asarray(kappa_value, np.float64)
    with np.errstate(divide="ignore"):
        return 1.0 / ((1 - eta) / kappa_value + eta)


def kappa_eta_error(
    mu: np.ndarray, nu: np.ndarray, eta: float, formula: Callable[[np.ndarray, float], np.ndarray] = kappa_eta
) -> float:
    """Max relative error of ``formula(κ(μ, ν), η)`` against ``κ(μ, (1−η)ν + ημ)`` measured directly.

    Examples:
      >>> mu, nu = np.full((1, 3), 1 / 3), np.array([[0.5, 0.3, 0.2]])
      >>> kappa_eta_error(mu, nu, 0.5) < 1e-12
      True
    """
    measured = kappa(mu, (1 - eta) * nu + eta * mu)
    predicted = formula(kappa(mu, nu), eta)
    return float(np.max(np.abs(predicted - measured) / measured))


def excess_ranknet_pairs(f: ArrayLike, g: ArrayLike, tau: float) -> np.ndarray:
    """``ℓ[a, b] = RankNet((f_a, f_b); (g_a, g_b)) − H_pair ≥ 0`` for every (positive a, negative b).

    Examples:
      >>> excess_ranknet_pairs(np.array([1.0, 0.0]), np.array([1.0, 0.0]), 1.0).round(12).tolist()
      [[0.0, 0.0], [0.0, 0.0]]
    """
    with x64(True):
        f, g = jnp.asarray(f, jnp.float64), jnp.asarray(g, jnp.float64)
        n = f.shape[-1]
        a, b = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        pf, pg = jnp.stack([f[a], f[b]], -1), jnp.stack([g[a], g[b]], -1)
        return np.asarray(ranknet_soft(pf, pg, tau=tau) - pairwise_entropy(pg, tau))


def change_of_measure_margin(
    p: np.ndarray, nu: np.ndarray, mu: np.ndarray, pair_loss: np.ndarray, kappa_factor: float = 1.0
) -> float:
    """``c κ R_ν − R_μ`` on positive–negative pairs (``≥ 0`` at ``c = kappa_factor = 1`` by Theorem 4(a));
    ``R_π = Σ p(a) π(b) ℓ[a, b]``; ``c < 1`` is a constant too small (a negative control).

    Examples:
      >>> p, nu, mu = np.array([1.0, 0.0]), np.array([0.75, 0.25]), np.array([0.5, 0.5])
      >>> loss = np.array([[0.0, 1.0], [0.0, 0.0]])  # only the pair (0, 1) has loss
      >>> change_of_measure_margin(p, nu, mu, loss)  # κ = 2: 2 · 0.25 − 0.5 = 0
      0.0
      >>> change_of_measure_margin(p, nu, mu, loss, kappa_factor=0.5)
      -0.25
    """
    risk_nu, risk_mu = p @ pair_loss @ nu, p @ pair_loss @ mu
    return float(kappa_factor * kappa(mu, nu) * risk_nu - risk_mu)


def mixture_gap(eta: float, B: float, rho2_nu: float, rho2_mu: float, rho_inf: float, n: int, delta: float) -> float:
    """``Γ(ν_η, n)`` on pairs, with ``ρ₂(ν_η)² = (1−η) ρ₂(ν)² + η ρ₂(μ)²`` (Theorem 4(d)) and ``ρ_∞`` fixed.

    Examples:
      >>> mixture_gap(0.0, 1.0, 1.0, 0.5, 2.0, 10_000, 0.05) == t3_gap_bound(1.0, 1.0, 2.0, 10_000, 0.05)
      True
    """
    rho2 = math.sqrt((1 - eta) * rho2_nu**2 + eta * rho2_mu**2)
    return t3_gap_bound(B, rho2, rho_inf, n, delta)


def combined_bound(eta: float, kappa_value: float, risk_nu: float, risk_mu: float, **gap: Any) -> float:
    """``F(η) = κ_η (A(η) + Γ(η))`` with ``A(η) = (1−η) R_ν + η R_μ`` (fixed scorer, Theorem 4(c),(e)).

    Examples:
      >>> gap = dict(B=1.0, rho2_nu=1.0, rho2_mu=1.0, rho_inf=2.0, n=10_000, delta=0.05)
      >>> round(combined_bound(0.0, 4.0, 0.1, 0.2, **gap), 4)  # κ (R_ν + Γ)
      0.5841
    """
    risk = (1 - eta) * risk_nu + eta * risk_mu
    return float(kappa_eta(kappa_value, eta) * (risk + mixture_gap(eta, **gap)))


def optimal_eta(
    kappa_value: float, risk_nu: float, risk_mu: float, grid: np.ndarray = np.linspace(0, 1, 101), **gap: Any
) -> tuple[float, float]:
    """``η* = argmin_η F(η)`` over ``grid`` and the minimum.

    Examples:
      >>> gap = dict(B=1.0, rho2_nu=1.0, rho2_mu=1.0, rho_inf=2.0, n=10_000, delta=0.05)
      >>> optimal_eta(1e9, 0.1, 0.1, **gap)[0]  # κ huge: full mixing
      1.0
    """
    values = [combined_bound(e, kappa_value, risk_nu, risk_mu, **gap) for e in grid]
    i = int(np.argmin(values))
    return float(grid[i]), float(values[i])


def augmentation_helps(kappa_value: float, risk0: float, risk_slope: float, gap0: float, gap_slope: float) -> bool:
    """Marginal condition (Theorem 4(e)): ``(κ−1)(A(0) + Γ(0)) > A'(0) + Γ'(0)``.

    Examples:
      >>> augmentation_helps(4.0, 0.1, 0.0, 0.05, 0.0)  # (κ − 1)(A + Γ) > 0 = A' + Γ'
      True
      >>> augmentation_helps(1.0, 0.1, 0.0, 0.05, 0.0)  # κ = 1: nothing to gain
      False
    """
    return (kappa_value - 1) * (risk0 + gap0) > risk_slope + gap_slope


def gap_slope_at_zero(B: float, rho2_nu: float, rho2_mu: float, n: int) -> float:
    """``Γ'(0) = B (ρ₂(μ)² − ρ₂(ν)²)/(√n ρ₂(ν))`` for pairs (``ρ_∞`` constant when κ < ∞).

    Examples:
      >>> gap_slope_at_zero(1.0, 1.0, 1.0, 10_000)  # same ρ₂: Γ does not move
      0.0
    """
    return B * (rho2_mu**2 - rho2_nu**2) / (math.sqrt(n) * rho2_nu)


# ============================================================================ T5: contrastive vs distillation


def enumerate_groups(
    p: ArrayLike, neg: ArrayLike, k: int, exclude_positive: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Every group ``(x₁ = x⁺, x₂, …, x_k)`` over ``N`` documents with its probability
    ``p(x₁) Π_j ν(x_j)`` (negatives i.i.d.; with ``exclude_positive``, from ν restricted to ``x ≠ x⁺``).

    Examples:
      >>> docs, prob = enumerate_groups(np.array([1.0, 0.0]), np.array([0.5, 0.5]), 2)
      >>> docs.tolist(), prob.tolist()
      ([[0, 0], [0, 1]], [0.5, 0.5])
    """
    p, neg = np.asarray(p, np.float64), np.asarray(neg, np.float64)
    docs = np.array(list(itertools.product(range(len(p)), repeat=k)))
    prob = p[docs[:, 0]] * np.prod(neg[docs[:, 1:]], axis=1)
    if exclude_positive:
        clash = (docs[:, 1:] == docs[:, :1]).any(1)
        prob = np.where(clash, 0.0, prob / (1 - neg[docs[:, 0]]) ** (k - 1))
    keep = prob > 0
    return docs[keep], prob[keep]


def enumerated_risk(
    scores: ArrayLike,
    docs: ArrayLike,
    prob: ArrayLike,
    loss_fn: Callable[..., jax.Array],
    teacher: ArrayLike | None = None,
    tau: float = 1.0,
    weights: ArrayLike | None = None,
) -> jax.Array:
    """Exact population risk ``Σ_G P(G) ℓ(f(G), g(G))`` over enumerated groups (positive first);
    ``weights [G, k]`` are per-item loss weights."""
    f = jnp.asarray(scores)[docs]
    g = None if teacher is None else jnp.asarray(teacher)[docs]
    return jnp.sum(jnp.asarray(prob) * loss_fn(f, g, tau=tau, weights=weights))


NEWTON_STEPS = 50  # polishing steps after BFGS (quadratic convergence: a handful suffice)


@partial(jax.jit, static_argnames="loss_fn")
def _risk_value_and_grad(scores, docs, prob, teacher, weights, tau, loss_fn):
    return jax.value_and_grad(enumerated_risk)(scores, docs, prob, loss_fn, teacher, tau, weights)


@partial(jax.jit, static_argnames="loss_fn")
def _risk_hessian(scores, docs, prob, teacher, weights, tau, loss_fn):
    return jax.hessian(enumerated_risk)(scores, docs, prob, loss_fn, teacher, tau, weights)


def minimise_risk(
    docs: np.ndarray,
    prob: ArrayLike,
    loss_fn: Callable[..., jax.Array],
    *,
    teacher: ArrayLike | None = None,
    weights: ArrayLike | None = None,
    tau: float = 1.0,
) -> tuple[np.ndarray, float]:
    """Minimise the exact population risk over free document scores; returns ``f − f₁`` and the minimum.

    scipy BFGS (float64 JAX gradients) gets close; then Newton steps ``x ← x − H⁺∇`` on the scores with
    ``f₁ = 0`` fixed (the softmax risks are convex and invariant to a shared shift) converge in the scores
    themselves: near a saturated optimum (score gaps of 10+) the gradient falls below any useful ``gtol``
    long before the scores are accurate. No teacher = zeros; no weights = ones."""
    n_docs = int(docs.max()) + 1
    teacher = np.zeros(n_docs) if teacher is None else np.asarray(teacher, np.float64)
    weights = np.ones(docs.shape) if weights is None else np.asarray(weights, np.float64)
    with x64(True):
        args = tuple(jnp.asarray(a) for a in (docs, prob, teacher, weights)) + (jnp.float64(tau),)

        def fun(f):
            value, grad = _risk_value_and_grad(jnp.asarray(f), *args, loss_fn)
            return float(value), np.asarray(grad, np.float64)

        res = minimize(fun, np.zeros(n_docs), jac=True, method="BFGS", options={"gtol": 1e-12, "maxiter": 2000})
        f = centred(res.x)
        for _ in range(NEWTON_STEPS):
            _, grad = fun(f)
            hess = np.asarray(_risk_hessian(jnp.asarray(f), *args, loss_fn), np.float64)
            step = np.linalg.lstsq(hess[1:, 1:], grad[1:], rcond=1e-15)[0]
            f[1:] -= step
            if np.max(np.abs(step)) < 1e-12:
                break
        value, _ = fun(f)
    return f, value


def centred(f: ArrayLike) -> np.ndarray:
    """Scores up to the additive constant: ``f − f₁``.

    Examples:
      >>> centred([1.0, 2.0, 3.0]).tolist()
      [0.0, 1.0, 2.0]
    """
    f = np.asarray(f, np.float64)
    return f - f[..., :1]


def lce_optimum(p: ArrayLike, nu: ArrayLike) -> np.ndarray:
    """Theorem 5(a): ``f* = log p − log ν`` (centred).

    Examples:
      >>> lce_optimum(np.array([0.5, 0.25, 0.25]), np.full(3, 1 / 3)).round(4).tolist()
      [0.0, -0.6931, -0.6931]
    """
    return centred(np.log(p) - np.log(nu))


def distill_optimum(g: ArrayLike, tau: float) -> np.ndarray:
    """Theorem 5(b): ``f* = g/τ`` (centred).

    Examples:
      >>> distill_optimum(np.array([1.0, 0.0, -1.0]), 0.5).tolist()
      [0.0, -2.0, -4.0]
    """
    return centred(np.asarray(g) / tau)


def lce_population_optimum(
    p: ArrayLike,
    nu: ArrayLike,
    k: int,
    *,
    exclude_positive: bool = False,
    doc_weights: ArrayLike | None = None,
    weight_positive: bool = True,
) -> tuple[np.ndarray, float]:
    """Exact minimiser and minimum of the population LCE risk over all groups.

    ``doc_weights = ω`` weights the softmax terms (``ℓ = −log(ω₁e^{f₁}/Σ_l ω_l e^{f_l})``, all terms,
    correction 10); with ``weight_positive=False`` the positive's term keeps weight 1 (negatives only).
    """
    docs, prob = enumerate_groups(p, nu, k, exclude_positive)
    weights = None
    if doc_weights is not None:
        weights = np.asarray(doc_weights, np.float64)[docs]
        if not weight_positive:
            weights[:, 0] = 1.0
    return minimise_risk(docs, prob, lce, weights=weights)


def distill_population_optimum(
    p: ArrayLike, nu: ArrayLike, g: ArrayLike, tau: float, k: int, loss_fn: Callable[..., jax.Array] = kl_distill
) -> tuple[np.ndarray, float]:
    """Exact minimiser of the population distillation risk (listwise KL by default)."""
    docs, prob = enumerate_groups(p, nu, k)
    return minimise_risk(docs, prob, loss_fn, teacher=g, tau=tau)


def t5_lce_error(
    p: ArrayLike, nu: ArrayLike, k: int, closed_form: Callable[[ArrayLike, ArrayLike], np.ndarray] = lce_optimum
) -> float:
    """``max |f̂ − f*|`` (centred) between the scipy optimum of the exact LCE risk and ``closed_form(p, ν)``."""
    found, _ = lce_population_optimum(p, nu, k)
    return float(np.max(np.abs(found - closed_form(p, nu))))


def t5_distill_error(
    p: ArrayLike,
    nu: ArrayLike,
    g: ArrayLike,
    tau: float,
    k: int,
    closed_form: Callable[[ArrayLike, float], np.ndarray] = distill_optimum,
) -> float:
    """``max |f̂ − f*|`` (centred) for the listwise KL optimum against ``closed_form(g, τ)``."""
    found, _ = distill_population_optimum(p, nu, g, tau, k)
    return float(np.max(np.abs(found - closed_form(g, tau))))


# ============================================================================ T6: MarginMSE closed form


def pair_design(
    queries: ArrayLike, docs: ArrayLike, teacher: ArrayLike, projection: ArrayLike, tau: float
) -> tuple[np.ndarray, np.ndarray]:
    """``z[q, a, b] = (P(x_a − x_b)) ⊗ q`` and ``y[q, a, b] = (g(q, x_a) − g(q, x_b))/τ`` for all pairs."""
    queries, docs, projection = (np.asarray(v, np.float64) for v in (queries, docs, projection))
    proj = docs @ projection.T  # [N, r]
    diff = proj[:, None, :] - proj[None, :, :]  # [N, N, r]
    z = np.einsum("abj,qi->qabji", diff, queries).reshape(len(queries), len(docs), len(docs), -1)
    g = np.asarray(teacher, np.float64)
    return z, (g[:, :, None] - g[:, None, :]) / tau


def pair_law(positive_probs: ArrayLike, negative_probs: ArrayLike) -> np.ndarray:
    """``P(q, x⁺ = a, x⁻ = b) = p_q(a) ν_q(b)/Q`` with the query uniform over the ``Q`` rows.

    Examples:
      >>> pair_law(np.array([[1.0, 0.0]]), np.array([[0.25, 0.75]])).tolist()
      [[[0.25, 0.75], [0.0, 0.0]]]
    """
    p, nu = np.asarray(positive_probs, np.float64), np.asarray(negative_probs, np.float64)
    return p[:, :, None] * nu[:, None, :] / len(p)


def moments(z: np.ndarray, y: np.ndarray, law: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``M = E[z zᵀ]``, ``b = E[z y]`` under the pair law.

    Examples:
      >>> z = np.array([[[[1.0], [2.0]]]]); y = np.array([[[1.0, 4.0]]])
      >>> M, b = moments(z, y, np.array([[[0.5, 0.5]]]))
      >>> M.tolist(), b.tolist()
      ([[2.5]], [4.5])
    """
    return np.einsum("qab,qabi,qabj->ij", law, z, z), np.einsum("qab,qabi,qab->i", law, z, y)


def minimiser(M: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Minimum-norm solution of ``M w = b`` (unique when ``M ≻ 0``).

    Examples:
      >>> minimiser(np.array([[2.0, 0.0], [0.0, 4.0]]), np.array([2.0, 2.0])).tolist()
      [1.0, 0.5]
    """
    return np.linalg.lstsq(M, b, rcond=None)[0]


def margin_mse_risk(
    w: ArrayLike,
    queries: ArrayLike,
    docs: ArrayLike,
    teacher: ArrayLike,
    projection: ArrayLike,
    tau: float,
    law: np.ndarray,
) -> float:
    """``J(w) = E (f_W(q, x⁺) − f_W(q, x⁻) − (g⁺ − g⁻)/τ)²`` computed with the projected bilinear student
    and :func:`~simrank.losses.margin_mse` on every pair (``W = unvec(w)``, column-major)."""
    queries, docs, projection = (np.asarray(v, np.float64) for v in (queries, docs, projection))
    n_q, n_d = law.shape[:2]
    student = bilinear(queries.shape[1], "projected", projection=projection)
    with x64(True):
        W = jnp.asarray(np.asarray(w, np.float64).reshape(projection.shape[0], queries.shape[1]).T)
        f = student.apply({"w": W}, jnp.asarray(queries), jnp.asarray(docs)[None])  # [Q, N]
        a, b = np.meshgrid(np.arange(n_d), np.arange(n_d), indexing="ij")
        g = jnp.asarray(teacher, jnp.float64)
        pf, pg = jnp.stack([f[:, a], f[:, b]], -1), jnp.stack([g[:, a], g[:, b]], -1)
        return float(jnp.sum(jnp.asarray(law) * margin_mse(pf, pg, tau=tau)))


def bias(w: ArrayLike, w_mu: ArrayLike, M_mu: np.ndarray) -> float:
    """``B = (w − w_μ)ᵀ M_μ (w − w_μ)`` (Theorem 6(b)).

    Examples:
      >>> bias(np.array([1.0, 0.0]), np.zeros(2), np.array([[2.0, 0.0], [0.0, 1.0]]))
      2.0
    """
    e = np.asarray(w) - np.asarray(w_mu)
    return float(e @ M_mu @ e)


def mixture_bias_curve(
    nu_moments: tuple[np.ndarray, np.ndarray],
    mix_moments: tuple[np.ndarray, np.ndarray],
    mu_moments: tuple[np.ndarray, np.ndarray],
    etas: np.ndarray,
) -> np.ndarray:
    """``B_μ(η)`` for ``ν_η = (1−η) ν + η ρ`` (``mix_moments`` = ``(M_ρ, b_ρ)``; ρ = μ is Theorem 6(e))."""
    (M_nu, b_nu), (M_rho, b_rho), (M_mu, b_mu) = nu_moments, mix_moments, mu_moments
    w_mu = minimiser(M_mu, b_mu)
    return np.array([bias(minimiser((1 - e) * M_nu + e * M_rho, (1 - e) * b_nu + e * b_rho), w_mu, M_mu) for e in etas])


def counterexample_world() -> tuple[dict[str, Any], np.ndarray, dict[str, np.ndarray]]:
    """The world of correction 11: ``q = 1``, ``P = I₂``, ``x⁺ = 0``, negatives ``−e₁, −e₂, −e₁−e₂``,
    teacher margins ``y = (0, 0, 1)``; laws over the corpus ``(x⁺, −e₁, −e₂, −e₁−e₂)``."""
    world = {
        "queries": np.ones((1, 1)),
        "docs": np.array([[0.0, 0.0], [-1.0, 0.0], [0.0, -1.0], [-1.0, -1.0]]),
        "teacher": np.array([[0.0, 0.0, 0.0, -1.0]]),
        "projection": np.eye(2),
        "tau": 1.0,
    }
    positive = np.array([[1.0, 0.0, 0.0, 0.0]])
    laws = {
        "mu": np.array([[0, 1 / 3, 1 / 3, 1 / 3]]),
        "nu": np.array([[0, 0.5, 0, 0.5]]),
        "rho": np.array([[0, 0.5, 0.5, 0]]),
    }
    return world, positive, laws


def counterexample_curves(etas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``B_μ(η)`` of correction 11 mixing ν with μ (monotone) and with ρ (non-monotone).

    Examples:
      >>> with_mu, with_rho = counterexample_curves(np.array([0.0, 0.5, 1.0]))
      >>> with_mu.round(6).tolist(), with_rho.round(6).tolist()
      ([0.222222, 0.024691, 0.0], [0.222222, 0.008889, 0.222222])
    """
    world, positive, laws = counterexample_world()
    z, y = pair_design(world["queries"], world["docs"], world["teacher"], world["projection"], world["tau"])
    mom = {name: moments(z, y, pair_law(positive, law)) for name, law in laws.items()}
    return (
        mixture_bias_curve(mom["nu"], mom["mu"], mom["mu"], etas),
        mixture_bias_curve(mom["nu"], mom["rho"], mom["mu"], etas),
    )


def is_non_increasing(values: ArrayLike, tol: float = 1e-12) -> bool:
    """``True`` iff ``v[i+1] − v[i] ≤ tol`` for every ``i``.

    Examples:
      >>> is_non_increasing([3.0, 2.0, 2.0, 1.0]), is_non_increasing([1.0, 2.0])
      (True, False)
    """
    return bool(np.all(np.diff(values) <= tol))


# ============================================================================ T3 localised (Theorem 3L)


def pair_features(query: ArrayLike, docs: ArrayLike, teacher: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Every pair ``i < j`` of every draw as a linear feature of ``W``.

    ``u = vec(q (x_i − x_j)ᵀ)`` (row-major, so ``⟨vec W, u⟩ = qᵀ W (x_i − x_j)``) and the teacher margin
    ``y = g_i − g_j``.

    Args:
      query: ``[n, d]`` queries.
      docs: ``[n, k, d]`` documents of each draw.
      teacher: ``[n, k]`` teacher scores ``g``.

    Returns:
      ``U [n, P, d²]`` and ``y [n, P]`` with ``P = k(k−1)/2``.

    Examples:
      >>> U, y = pair_features(np.array([[1.0, 0.0]]), np.array([[[1.0, 0.0], [0.0, 1.0]]]), np.array([[2.0, 1.0]]))
      >>> U.tolist(), y.tolist()
      ([[[1.0, -1.0, 0.0, 0.0]]], [[1.0]])
    """
    query, docs, teacher = (np.asarray(a, np.float64) for a in (query, docs, teacher))
    n, k, d = docs.shape
    i, j = np.triu_indices(k, 1)
    v = docs[:, i] - docs[:, j]
    U = np.einsum("na,npb->npab", query, v).reshape(n, len(i), d * d)
    return U, teacher[:, i] - teacher[:, j]


def draw_losses(w: jax.Array | np.ndarray, U: ArrayLike, y: ArrayLike, tau: float) -> jax.Array:
    """Soft RankNet of each draw at ``W = unvec(w)``: the mean over its pairs of ``BCE(σ(y/τ), σ(⟨w, u⟩))``,
    computed by :func:`~simrank.losses.ranknet_soft` on the pair scores ``(⟨w, u⟩, 0)``. Returns ``[n]``.

    Examples:
      >>> round(float(draw_losses(jnp.zeros(1), np.array([[[1.0]]]), np.array([[0.0]]), 1.0)[0]), 4)
      0.6931
    """
    m = jnp.asarray(U) @ w
    f = jnp.stack([m, jnp.zeros_like(m)], -1)
    g = jnp.stack([jnp.asarray(y), jnp.zeros_like(m)], -1)
    return jnp.mean(ranknet_soft(f, g, tau=tau), -1)


def draw_entropies(y: ArrayLike, tau: float) -> jax.Array:
    """Pairwise teacher entropy of each draw, the mean over its pairs of ``h(σ(y/τ))``. Returns ``[n]``.

    Examples:
      >>> round(float(draw_entropies(np.array([[0.0]]), 1.0)[0]), 4)  # h(½) = log 2
      0.6931
    """
    y = jnp.asarray(y)
    return jnp.mean(pairwise_entropy(jnp.stack([y, jnp.zeros_like(y)], -1), tau), -1)


def empirical_bernstein_deviation(values: ArrayLike, value_range: float, delta: float) -> float:
    """Maurer–Pontil (2009, Thm 4): with probability ``≥ 1 − δ``, ``E X − mean ≤`` this, for i.i.d.
    ``X ∈ [0, c]``: ``√(2 V_n log(2/δ)/n) + 7 c log(2/δ)/(3(n − 1))`` with ``V_n`` the unbiased sample variance.

    Examples:
      >>> round(empirical_bernstein_deviation(np.tile([0.0, 1.0], 500), 1.0, 0.05), 4)
      0.0516
    """
    values = np.asarray(values, np.float64)
    n, x = len(values), math.log(2 / delta)
    return math.sqrt(2 * values.var(ddof=1) * x / n) + 7 * value_range * x / (3 * (n - 1))


def bousquet_deviation(mean_sup: float, variance: float, value_range: float, n: int, delta: float) -> float:
    """Bousquet (2002): with probability ``≥ 1 − δ``, ``sup_f (Pf − P_n f) ≤ E + √(2x(σ² + 2bE)/n) + bx/(3n)``,
    ``x = log(1/δ)``, for a class with ``Var f ≤ σ²``, ``Pf − f ≤ b``; ``E`` may be any upper bound on the
    expected supremum (the right-hand side increases in it).

    Examples:
      >>> round(bousquet_deviation(0.01, 0.1, 1.0, 10_000, 0.05), 4)
      0.0186
    """
    x = math.log(1 / delta)
    return mean_sup + math.sqrt(2 * x * (variance + 2 * value_range * mean_sup) / n) + value_range * x / (3 * n)


def local_lipschitz(p: ArrayLike, m0: ArrayLike, norm_u: ArrayLike, radius: float) -> np.ndarray:
    """``L = min(max(p, 1 − p), |σ(m₀) − p| + r‖u‖/4)``: Lipschitz constant of ``m ↦ BCE(p, σ(m))`` on
    ``|m − m₀| ≤ r‖u‖`` (``σ`` is ¼-Lipschitz, and ``σ(m) − p ∈ (−p, 1 − p)``).

    Examples:
      >>> float(local_lipschitz(0.5, 0.0, 1.0, 0.0))  # at the centre, σ(0) = p: slope 0
      0.0
      >>> float(local_lipschitz(0.5, 0.0, 1.0, 10.0))  # far away: the global max(p, 1 − p)
      0.5
    """
    p = np.asarray(p, np.float64)
    slope = np.abs(1 / (1 + np.exp(-np.asarray(m0, np.float64))) - p) + radius * np.asarray(norm_u) / 4
    return np.minimum(np.maximum(p, 1 - p), slope)


def shell_moments(U: ArrayLike, y: ArrayLike, tau: float, w0: ArrayLike, radius: float) -> tuple[float, float]:
    """Population constants of the shell ``‖W − W₀‖_F ≤ r`` from a sample independent of ``W₀``.

    Returns ``a² = E[mean_pairs L²‖u‖²]`` (Rademacher term) and ``Λ = λ_max(E[mean_pairs L² u uᵀ])``
    (variance term), with ``L`` from :func:`local_lipschitz` at ``m₀ = ⟨w₀, u⟩``.

    Args:
      U: ``[n, P, D]`` pair features (:func:`pair_features`).
      y: ``[n, P]`` teacher margins.
      tau: teacher temperature.
      w0: ``[D]`` the centre ``vec W₀``.
      radius: the shell radius ``r``.

    Returns:
      ``(a², Λ)``.
    """
    U = np.asarray(U, np.float64)
    norm_u = np.linalg.norm(U, axis=-1)
    L = local_lipschitz(1 / (1 + np.exp(-np.asarray(y, np.float64) / tau)), U @ np.asarray(w0), norm_u, radius)
    weight = L**2 / U.shape[1] / U.shape[0]
    second = float(np.sum(weight * norm_u**2))
    flat = U.reshape(-1, U.shape[-1]) * np.sqrt(weight.reshape(-1, 1))
    return second, float(np.linalg.eigvalsh(flat.T @ flat)[-1])


def shell_deviation(
    radius: float, second_moment: float, top_eigenvalue: float, rho_inf: float, n: int, delta: float
) -> float:
    """Uniform deviation over the shell ``‖W − W₀‖ ≤ r`` of ``ℓ_W − ℓ_{W₀}`` (Theorem 3L, step 2):
    Bousquet with ``E ≤ 2 r a/√n``, ``σ² = r² Λ`` and range ``b = 2 r ρ_∞``.

    Examples:
      >>> round(shell_deviation(0.1, 1.0, 0.5, 2.0, 10_000, 0.05), 4)
      0.004
    """
    mean_sup = 2 * radius * math.sqrt(second_moment / n)
    return bousquet_deviation(mean_sup, radius**2 * top_eigenvalue, 2 * radius * rho_inf, n, delta)


SHELL_R0, SHELL_GROWTH = 0.05, 1.25  # shells r_j = r₀ · 1.25^j, j ≥ 1, fixed before seeing data


def shell_index(distance: float, r0: float = SHELL_R0, growth: float = SHELL_GROWTH) -> int:
    """Smallest ``j ≥ 1`` with ``r₀ growth^j ≥ distance``.

    Examples:
      >>> shell_index(0.01), shell_index(0.1), shell_index(1.0)
      (1, 4, 14)
    """
    if distance <= r0 * growth:
        return 1
    return int(math.ceil(math.log(distance / r0) / math.log(growth) - 1e-12))


def localised_t3_bound(
    losses_at_w0: np.ndarray,
    range_at_w0: float,
    distance: float,
    moments: Callable[[float], tuple[float, float]],
    rho_inf: float,
    delta: float,
    r0: float = SHELL_R0,
    growth: float = SHELL_GROWTH,
) -> dict[str, float]:
    """Theorem 3L: with probability ``≥ 1 − δ`` over ``S₂`` (``W₀`` fitted on ``S₁``), simultaneously for all
    ``W`` with ``‖W − W₀‖_F ≤ r_j``: ``R(W) − R̂_{S₂}(W) ≤ ε₀ + U_j``.

    ``ε₀`` = :func:`empirical_bernstein_deviation` of the losses at ``W₀`` on ``S₂`` at level ``δ/2``;
    ``U_j`` = :func:`shell_deviation` at ``r_j = r₀ growth^j``, level ``δ_j = δ/(2j(j+1))``, ``j`` the
    first shell containing ``W`` (``distance = ‖W − W₀‖_F``); ``moments(r) -> (a², Λ)``
    (:func:`shell_moments`).  Returns the terms and their sum ``bound``.
    """
    n = len(losses_at_w0)
    at_w0 = empirical_bernstein_deviation(losses_at_w0, range_at_w0, delta / 2)
    j = shell_index(distance, r0, growth)
    radius = r0 * growth**j
    uniform = shell_deviation(radius, *moments(radius), rho_inf, n, delta / (2 * j * (j + 1)))
    return {"at_w0": at_w0, "shell": j, "radius": radius, "uniform": uniform, "bound": at_w0 + uniform}


def t3_bound_as_proved(
    B: float, rho2: float, rho_inf_as: float, n_iid: int, delta: float, *, data_dependent: bool = False
) -> float:
    """Theorem 3 applied as proved: ``rho_inf_as`` must be an almost-sure bound of the world (e.g.
    :func:`world_rho_inf`), not a sample maximum, and ``n_iid`` the number of i.i.d. draws (with several
    groups per query, the number of queries: a draw is a query and its groups, whose loss is their mean;
    ``ρ₂`` stays the RMS over groups by Jensen, see theory.md §4.2).

    Examples:
      >>> t3_bound_as_proved(1.0, 1.0, 2.0, 10_000, 0.05) == t3_gap_bound(1.0, 1.0, 2.0, 10_000, 0.05)
      True
    """
    return t3_gap_bound(B, rho2, rho_inf_as, n_iid, delta, data_dependent=data_dependent)


def world_rho_inf(docs: ArrayLike, query_radius: float) -> float:
    """Almost-sure ``ρ_∞ ≤ R_Q · diam(corpus)`` (``R_Q = 1`` on the unit sphere).

    Examples:
      >>> world_rho_inf(np.array([[0.0, 0.0], [3.0, 4.0]]), 1.0)
      5.0
    """
    return float(query_radius * np.max(np.asarray(pairwise_distances(jnp.asarray(docs)))))


# ============================================================================ T3 lower bound (Proposition 3LB)


def lower_bound_world(d: int, radius: float, spacing: float, far: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The world of Proposition 3LB: queries uniform on ``{R e_i}``, corpus ``{0} ∪ {s e_j} ∪ {L e_j}``,
    positive ``0``, negatives uniform on ``{s e_j}`` (the far documents are never sampled: the corpus
    diameter ``≥ L√2`` is fixed while ``Δ_Q = s`` varies). Returns queries ``[d, d]``, corpus ``[2d+1, d]``,
    and the negative law ``[2d+1]``.

    Examples:
      >>> queries, corpus, negatives = lower_bound_world(2, 1.0, 0.5, 3.0)
      >>> corpus.tolist(), negatives.tolist()
      ([[0.0, 0.0], [0.5, 0.0], [0.0, 0.5], [3.0, 0.0], [0.0, 3.0]], [0.0, 0.5, 0.5, 0.0, 0.0])
    """
    eye = np.eye(d)
    corpus = np.concatenate([np.zeros((1, d)), spacing * eye, far * eye])
    negatives = np.concatenate([[0.0], np.full(d, 1 / d), np.zeros(d)])
    return radius * eye, corpus, negatives


def lower_bound_sup_gap(
    B: float, radius: float, spacing: float, n: int, cells: int, p0: float, t: float | None = None
) -> float:
    """Proposition 3LB(a): ``E sup_{‖W‖_F ≤ B} (R − R̂_S) ≥ (½ − p₀) t E‖ξ‖ − (t²/8) E max|ξ_c|`` for every fixed
    ``t ≤ A = B R s``, with the multinomial moments ``E‖ξ‖ ≥ √((1−1/D)/n)/√(1 + 2(1−1/n)/(D−1))`` and
    ``E max|ξ_c| ≤ ((1−1/D)(1 + 3(n−2)(1−1/D)/D)/n³)^{1/4}``; ``t = None`` takes the best ``t ∈ [0, A]``.

    Examples:
      >>> round(lower_bound_sup_gap(1.0, 1.0, 1.0, 1000, 1024, 0.1), 5)
      0.01164
    """
    A = B * radius * spacing
    D = cells
    norm = math.sqrt((1 - 1 / D) / n) / math.sqrt(1 + 2 * (1 - 1 / n) / (D - 1))
    biggest = ((1 - 1 / D) * (1 + 3 * (n - 2) * (1 - 1 / D) / D) / n**3) ** 0.25
    slope = (0.5 - p0) * norm
    if t is None:
        t = min(A, 4 * slope / biggest)  # maximiser of slope·t − t²·biggest/8
    return slope * t - t**2 * biggest / 8


def lower_bound_minimiser_gap(B: float, radius: float, spacing: float, n: int, cells: int, p0: float) -> float:
    """Proposition 3LB(b), first order in ``A = BRs``: the gap of the constrained empirical minimiser is
    ``≈ (½ − p₀) A (1 − 1/D)/√(n(1 + (n−1)/D))``.

    Examples:
      >>> round(lower_bound_minimiser_gap(1.0, 1.0, 1.0, 1000, 40_000, 0.1), 5)  # ≈ 0.4 A/√n
      0.01249
    """
    D = cells
    return (0.5 - p0) * B * radius * spacing * (1 - 1 / D) / math.sqrt(n * (1 + (n - 1) / D))
