"""Property tests of T1-T6 (simrank.theory), negative controls, and the paper's counterexamples (§8)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from simrank.measures import kappa
from simrank.theory import bounds as T

ROUND_OFF = 1e-9
scores = lambda k: arrays(np.float64, k, elements=st.floats(-20, 20))  # noqa: E731
taus = st.floats(0.05, 5.0)


def simplex(n, floor=0.0):
    return arrays(np.float64, n, elements=st.floats(0.01, 1.0)).map(lambda w: (w + floor) / (w + floor).sum())


# ---------------------------------------------------------------- T1


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 8).flatmap(lambda k: st.tuples(scores(k), scores(k))), taus)
def test_t1_identity_to_round_off(fg, tau):
    f, g = fg
    assert T.t1_residual(f[None], g[None], tau) < ROUND_OFF * (1 + np.abs(f).max() + np.abs(g).max() / tau)


def test_t1_identity_detects_a_wrong_decomposition():
    f, g = np.array([[0.0, 2.0, -1.0]]), np.array([[1.0, 0.0, 3.0]])
    parts = T.entropy_decomposition(f, g, 1.0)
    # Negative control: dropping the entropy term (the "H(g) cancels" misreading) breaks the identity.
    assert abs(parts["listwise_ce"] - parts["listwise_kl"]).max() > 0.1


# ---------------------------------------------------------------- T2


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 5), st.integers(0, 2**31 - 1), taus)
def test_t2_bounds_always_hold(k, seed, tau):
    d = 3
    rng = np.random.default_rng(seed)
    W, A = rng.normal(0, 2, (d, d)), rng.normal(0, 2, (d, d))
    margins = T.t2_margins(W, A, rng.normal(size=d), rng.normal(size=(k, d)), tau)
    assert min(margins.values()) >= -ROUND_OFF


@pytest.mark.parametrize("k,a", [(2, 0.5), (4, 1.0), (8, 3.0)])
def test_t2_sharp_constant_is_attained_and_a_smaller_one_fails(k, a):
    group = T.t2_extremal_group(k, a)
    assert abs(T.t2_margins(*group, 1.0)["lce"]) < ROUND_OFF
    # Negative control: log k replaced by log(k − 1) (too small) is violated on the extremal group.
    wrong = T.t2_margins(*group, 1.0, listwise_bound=lambda k, a: np.log(k - 1) + a)
    assert wrong["lce"] < -1e-3


def test_t2_paper_numbers():  # correction 2
    assert T.sharp_listwise_bound(4, 1.0) == pytest.approx(2.214283, abs=1e-6)
    assert np.log(4) + 1 == pytest.approx(2.386294, abs=1e-6)


# ---------------------------------------------------------------- T3


def _ball_sup(U, sigma, B):
    """Exact ``sup_{‖W‖_F ≤ B} (1/n) Σ σ_t ⟨W, u_t⟩ = (B/n) ‖Σ σ_t u_t‖``."""
    return B * np.linalg.norm(sigma @ U, axis=-1) / U.shape[0]


def test_t3_rademacher_term_is_an_upper_bound_and_nearly_sharp():
    # Lemma 3.1 (the 2Bρ̂₂/√n of Theorem 3 is twice it): with X = Σ σ_t u_t the exact sup is (B/n)‖X‖, and
    # (B/n)√E‖X‖² = Bρ̂₂/√n ≥ E sup ≥ (B/n) (E‖X‖²)^{3/2}/(E‖X‖⁴)^{1/2} (Hölder), with
    # E‖X‖⁴ = Σ‖u_s‖⁴ + Σ_{s≠t} (‖u_s‖²‖u_t‖² + 2⟨u_s, u_t⟩²). Both sides are checked on 4000 sign vectors.
    rng = np.random.default_rng(0)
    n, d, B = 400, 3, 2.0
    q, docs = rng.normal(size=(n, d)), rng.normal(size=(n, 2, d))
    U = T.pair_features(q, docs, np.zeros((n, 2)))[0][:, 0]
    sigma = rng.choice([-1.0, 1.0], (4000, n))
    measured = _ball_sup(U, sigma, B)
    rho2_hat = T.rms_query_diameter(q, docs)
    half_term = (T.t3_gap_bound(B, rho2_hat, 1.0, n, 0.5) - T.t3_gap_bound(B, 0.0, 1.0, n, 0.5)) / 2
    gram = U @ U.T
    sq = np.diag(gram)
    second = sq.sum()
    fourth = np.sum(sq**2) + (second**2 - np.sum(sq**2)) + 2 * (np.sum(gram**2) - np.sum(sq**2))
    holder = B / n * second**1.5 / np.sqrt(fourth)
    se = measured.std() / np.sqrt(len(measured))
    assert half_term == pytest.approx(B / n * np.sqrt(second))
    assert holder - 3 * se <= measured.mean() <= half_term + 3 * se
    assert holder > 0.9 * half_term  # so the Rademacher term is within 10% of the exact value here


def test_t3_range_is_the_largest_loss_in_the_ball():
    # c = sp(Bρ_∞) bounds soft RankNet on every group in the ball, and W = B u/‖u‖ on the group with the largest
    # ‖q‖Δ and a hard teacher (p = 0) attains it.
    rng = np.random.default_rng(1)
    B, n = 1.5, 300
    q, docs = rng.normal(size=(n, 3)), rng.normal(size=(n, 2, 3))
    U, y = T.pair_features(q, docs, rng.normal(0, 3, (n, 2)))
    rho_inf = float(np.max(np.linalg.norm(U, axis=-1)))
    c = T.ranknet_range(B, rho_inf)
    for _ in range(50):
        w = rng.normal(size=9)
        w *= B / np.linalg.norm(w)
        assert np.max(np.asarray(T.draw_losses(w, U, y, 1.0))) <= c + 1e-9
    top = int(np.argmax(np.linalg.norm(U[:, 0], axis=-1)))
    w = B * U[top, 0] / np.linalg.norm(U[top, 0])
    hard = np.asarray(T.draw_losses(w, U[top : top + 1], np.array([[-200.0]]), 1.0))[0]
    assert hard == pytest.approx(c, rel=1e-6)


def test_t3_spec_form_dominates_theorem_3a():
    # ρ₂ ≤ ρ_∞ ≤ R_Q Δ_Q and c ≤ log 2 + Bρ_∞, so the spec's form is never smaller.
    rng = np.random.default_rng(2)
    for _ in range(200):
        B, rho_inf = rng.uniform(0.1, 5), rng.uniform(0.1, 4)
        rho2, n, delta = rho_inf * rng.uniform(0, 1), int(rng.integers(10, 10**5)), rng.uniform(0.001, 0.5)
        assert T.t3_gap_bound(B, rho2, rho_inf, n, delta) <= T.t3_spec_bound(B, 1.0, rho_inf, n, delta) + 1e-12


# ---------------------------------------------------------------- T3 localised (Theorem 3L)


def test_empirical_bernstein_covers_and_its_half_does_not():
    # 4000 samples of n = 200 Beta(0.5, 8) variables in [0, 1] (small variance): violations of the δ = 0.1 bound
    # are Bin(4000, ≤ 0.1); half the deviation is violated far more often (the bound is not vacuous).
    rng = np.random.default_rng(3)
    x = rng.beta(0.5, 8, (4000, 200))
    mean = 0.5 / 8.5
    dev = np.array([T.empirical_bernstein_deviation(row, 1.0, 0.1) for row in x])
    excess = mean - x.mean(1)
    assert np.mean(excess > dev) <= 0.1 + 3 * np.sqrt(0.1 * 0.9 / 4000)
    assert np.mean(excess > dev / 4) > 0.01
    # and it beats Hoeffding's √(log(1/δ)/(2n)) for this low-variance variable
    assert dev.mean() < np.sqrt(np.log(1 / 0.1) / 400)


@settings(max_examples=60, deadline=None)
@given(st.floats(0, 1), st.floats(-8, 8), st.floats(0.01, 3), st.floats(0, 2), st.integers(0, 2**31 - 1))
def test_local_lipschitz_constant_is_valid(p, m0, norm_u, radius, seed):
    # |φ(m) − φ(m')| ≤ L|m − m'| for φ(m) = BCE(p, σ(m)) on |m − m₀| ≤ r‖u‖ (Theorem 3L, step 2).
    L = float(T.local_lipschitz(p, m0, norm_u, radius))
    rng = np.random.default_rng(seed)
    m = m0 + radius * norm_u * rng.uniform(-1, 1, (2, 200))
    phi = np.logaddexp(0, m) - p * m
    assert np.all(np.abs(phi[0] - phi[1]) <= L * np.abs(m[0] - m[1]) + 1e-13)  # float64 round-off of φ
    assert L <= max(p, 1 - p) + 1e-12


def test_local_lipschitz_is_sharp_at_the_centre():
    # At r = 0 the constant is the derivative |σ(m₀) − p| itself.
    assert float(T.local_lipschitz(0.3, 1.0, 2.0, 0.0)) == pytest.approx(abs(1 / (1 + np.exp(-1.0)) - 0.3))


def test_shell_moments_match_a_direct_computation():
    rng = np.random.default_rng(4)
    U, y, w0 = rng.normal(size=(50, 3, 4)), rng.normal(size=(50, 3)), rng.normal(size=4)
    second, top = T.shell_moments(U, y, 1.0, w0, 0.3)
    L = T.local_lipschitz(1 / (1 + np.exp(-y)), U @ w0, np.linalg.norm(U, axis=-1), 0.3)
    M = sum(L[t, i] ** 2 * np.outer(U[t, i], U[t, i]) for t in range(50) for i in range(3)) / 150
    assert second == pytest.approx(np.trace(M))
    assert top == pytest.approx(np.linalg.eigvalsh(M)[-1])


def test_shell_index_picks_the_first_shell_containing_the_point():
    for distance in (1e-4, 0.0625, 0.07, 0.3, 2.6, 40.0):
        j = T.shell_index(distance)
        assert j >= 1 and T.SHELL_R0 * T.SHELL_GROWTH**j >= distance
        assert j == 1 or T.SHELL_R0 * T.SHELL_GROWTH ** (j - 1) < distance


def test_localised_bound_terms_add_up_and_grow_with_the_distance():
    rng = np.random.default_rng(5)
    losses = rng.uniform(0, 1, 5000)
    moments = lambda r: (0.2, 0.01)  # noqa: E731
    near = T.localised_t3_bound(losses, 2.0, 0.1, moments, 2.0, 0.05)
    far = T.localised_t3_bound(losses, 2.0, 1.0, moments, 2.0, 0.05)
    assert near["bound"] == pytest.approx(near["at_w0"] + near["uniform"])
    assert near["at_w0"] == far["at_w0"] and far["uniform"] > 5 * near["uniform"]


def test_ball_minimiser_is_optimal_in_the_ball():
    from simrank.theory.monte_carlo import ball_minimiser

    rng = np.random.default_rng(6)
    n, B = 2000, 1.0
    q, docs = rng.normal(size=(n, 3)), rng.normal(size=(n, 2, 3))
    teacher = np.einsum("na,ab,nkb->nk", q, 3 * rng.normal(size=(3, 3)), docs)  # ‖W*‖ ≫ B: constraint active
    U, y = T.pair_features(q, docs, teacher)
    w, residual = ball_minimiser(U, y, 1.0, B, np.ones(9))
    assert residual < 1e-10 and np.linalg.norm(w) == pytest.approx(B)
    risk = lambda v: float(np.mean(T.draw_losses(v, U, y, 1.0)))  # noqa: E731
    best = risk(w)
    for _ in range(100):
        v = w + rng.normal(0, 0.05, 9)
        v *= min(1.0, B / np.linalg.norm(v))
        assert risk(v) >= best - 1e-12


# ---------------------------------------------------------------- T3 lower bound (Proposition 3LB)


def test_lower_bound_multinomial_moments():
    # The two moment bounds of Proposition 3LB(a) against simulated multinomial counts.
    rng = np.random.default_rng(7)
    for n, D in ((200, 16), (1000, 64), (500, 2000)):
        xi = 1 / D - rng.multinomial(n, np.full(D, 1 / D), size=4000) / n
        norm, biggest = np.linalg.norm(xi, axis=1), np.abs(xi).max(1)
        lower = np.sqrt((1 - 1 / D) / n) / np.sqrt(1 + 2 * (1 - 1 / n) / (D - 1))
        upper = ((1 - 1 / D) * (1 + 3 * (n - 2) * (1 - 1 / D) / D) / n**3) ** 0.25
        assert norm.mean() + 3 * norm.std() / np.sqrt(4000) >= lower
        assert norm.mean() <= np.sqrt((1 - 1 / D) / n)  # Jensen, the other side
        assert biggest.mean() - 3 * biggest.std() / np.sqrt(4000) <= upper


def test_lower_bound_world_has_fixed_corpus_diameter_and_sampled_diameter_s():
    for s in (0.1, 1.0, 3.0):
        queries, corpus, negatives = T.lower_bound_world(4, 2.0, s, 10.0)
        assert np.allclose(np.linalg.norm(queries, axis=1), 2.0)
        sampled = corpus[negatives > 0]
        assert np.allclose(np.linalg.norm(sampled - corpus[0], axis=1), s)  # Δ(G) = s for every group
        assert T.world_rho_inf(corpus, 1.0) == pytest.approx(10.0 * np.sqrt(2))  # fixed by the far documents


def test_lower_bound_is_below_the_measured_sup_and_the_minimiser_formula_holds():
    from simrank.theory.monte_carlo import lower_bound_monte_carlo

    rows = lower_bound_monte_carlo((0.5, 2.0), (64, 4096), n=1000, reps=60)
    for r in rows:
        assert r["sup_gap"] + 3 * r["sup_gap_se"] >= r["lower_bound"], r
        assert r["sup_gap"] <= r["t3_bound"]  # and Theorem 3 holds above it
        assert 0.35 <= r["sup_gap"] / r["scale"] <= 0.4 + 1e-3  # ≈ (½ − p₀) BRs/√n
        if r["spacing"] <= 1 and r["cells"] >= r["n"]:
            assert r["minimiser_gap"] / r["minimiser_formula"] == pytest.approx(1, abs=0.05), r
    # Negative control: a lower bound with constant 1 instead of ½ − p₀ = 0.4 is above the measurement.
    assert all(r["sup_gap"] < r["lower_bound"] / 0.4 for r in rows)


# ---------------------------------------------------------------- T4


def wrong_kappa_eta(k, eta):
    return 1.0 / ((1 - eta) / k + eta * k)  # negative control: a plausible but wrong interpolation


@settings(max_examples=50, deadline=None)
@given(simplex(6), simplex(6), st.floats(1e-3, 1.0), st.integers(0, 5))
def test_t4_kappa_eta_formula_is_exact(mu, nu, eta, hole):
    nu = nu.copy()
    nu[hole] = 0.0  # κ = ∞ is allowed: κ_η = 1/η
    nu /= nu.sum()
    assert T.kappa_eta_error(mu[None], nu[None], eta) < 1e-12
    assert T.kappa_eta(kappa(mu[None], nu[None]), eta)[0] <= min(kappa(mu[None], nu[None])[0], 1 / eta) * (1 + 1e-12)


def test_t4_wrong_kappa_eta_is_detected():
    mu, nu = np.full((1, 4), 0.25), np.array([[0.7, 0.1, 0.1, 0.1]])
    assert T.kappa_eta_error(mu, nu, 0.3, formula=wrong_kappa_eta) > 0.1


@settings(max_examples=10, deadline=None)
@given(simplex(5), simplex(5), simplex(5), scores(5), scores(5), taus)
def test_t4_change_of_measure_on_pairs(p, nu, mu, f, g, tau):
    loss = T.excess_ranknet_pairs(f, g, tau)
    assert loss.min() >= -ROUND_OFF
    assert T.change_of_measure_margin(p, nu, mu, loss) >= -ROUND_OFF * (1 + loss.max())


def test_t4_group_loss_counterexample():  # correction 6: k = 3, ℓ = 1[x₂ = x₃ = ξ₂]
    nu, mu = np.array([0.9, 0.1]), np.array([0.5, 0.5])
    kap = float(kappa(mu[None], nu[None])[0])
    assert kap == pytest.approx(5.0)
    risk_nu, risk_mu = nu[1] ** 2, mu[1] ** 2
    assert (risk_nu, risk_mu) == pytest.approx((0.01, 0.25))
    assert risk_mu > kap * risk_nu and risk_mu == pytest.approx(kap**2 * risk_nu)


def _all_pairs_excess(f, g, tau=1.0, weights=None):
    from simrank.losses import ranknet_soft
    from simrank.measures import pairwise_entropy

    return ranknet_soft(f, g, tau=tau) - pairwise_entropy(g, tau)


@pytest.mark.parametrize("G,ratio_over_kappa", [(10.0, 92.8), (20.0, 99.0)])
def test_t4_all_pairs_ranknet_needs_kappa_squared(G, ratio_over_kappa):  # §8 item 6, soft RankNet over all pairs
    kap = 99.0
    p, nu, mu = np.array([1.0, 0, 0]), np.array([1 - 2 / 297, 1 / 297, 1 / 297]), np.full(3, 1 / 3)
    g = np.array([0.0, -G, -G])
    f = g + np.array([0.0, 1.0, -1.0])
    with T.x64(True):
        risk = {
            name: float(T.enumerated_risk(f, *T.enumerate_groups(p, law, 3), _all_pairs_excess, teacher=g))
            for name, law in (("nu", nu), ("mu", mu))
        }
    ratio = risk["mu"] / risk["nu"]
    assert kappa(mu[None], nu[None]) == pytest.approx(kap)
    assert kap < ratio <= kap**2 * (1 + 1e-12)  # more than κ, never more than κ²
    assert ratio / kap == pytest.approx(ratio_over_kappa, abs=0.05)
    if G == 10.0:
        assert ratio == pytest.approx(9187.2, abs=0.05)


def test_t4_lce_excess_over_bayes_counterexample():  # correction 6, second bullet
    p, nu, mu = np.array([0.8, 0.2]), np.array([0.2, 0.8]), np.array([0.5, 0.5])
    f = np.log(p / nu)
    docs, prob = T.enumerate_groups(p, mu, 2)
    from simrank.losses import lce

    with T.x64(True):
        risk_mu = float(T.enumerated_risk(f, docs, prob, lce))
    bayes_mu = T.lce_population_optimum(p, mu, 2)[1]
    assert (risk_mu, bayes_mu, risk_mu - bayes_mu) == pytest.approx((0.654145, 0.596775, 0.057370), abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    st.floats(1.01, 20),
    st.floats(0.0, 0.7),
    st.floats(-0.5, 0.5),
    st.floats(0.05, 3),
    st.floats(0.05, 3),
    st.integers(100, 10**5),
)
def test_t4_marginal_condition_matches_the_derivative(kap, risk_nu, d_risk, rho2_nu, rho2_mu, n):
    risk_mu = max(risk_nu + d_risk, 0.0)
    gap = dict(B=2.0, rho2_nu=rho2_nu, rho2_mu=rho2_mu, rho_inf=3.0, n=n, delta=0.05)
    h = 1e-6
    slope = (
        T.combined_bound(h, kap, risk_nu, risk_mu, **gap) - T.combined_bound(0.0, kap, risk_nu, risk_mu, **gap)
    ) / h
    helps = T.augmentation_helps(
        kap, risk_nu, risk_mu - risk_nu, T.mixture_gap(0.0, **gap), T.gap_slope_at_zero(2.0, rho2_nu, rho2_mu, n)
    )
    if abs(slope) > 1e-3:
        assert helps == (slope < 0)


def test_t4_spec_marginal_condition_is_wrong_when_the_risk_moves():
    # The spec drops A'(0): with R_μ ≫ R_ν augmentation hurts, but the spec's condition says it helps.
    kap, risk_nu, risk_mu = 2.0, 0.05, 0.6
    gap = dict(B=1.0, rho2_nu=1.0, rho2_mu=1.0, rho_inf=2.0, n=10**4, delta=0.05)
    g0, g1 = T.mixture_gap(0.0, **gap), T.gap_slope_at_zero(1.0, 1.0, 1.0, 10**4)
    assert T.augmentation_helps(kap, risk_nu, 0.0, g0, g1)  # spec's version (A'(0) = 0)
    assert not T.augmentation_helps(kap, risk_nu, risk_mu - risk_nu, g0, g1)  # corrected
    eta_star, _ = T.optimal_eta(kap, risk_nu, risk_mu, **gap)
    assert eta_star == 0.0


def test_t4_infinite_kappa_prescribes_full_mixing():  # correction 8, last bullet
    eta_star, _ = T.optimal_eta(np.inf, 0.1, 0.2, B=1.0, rho2_nu=0.5, rho2_mu=1.5, rho_inf=2.0, n=1000, delta=0.05)
    assert eta_star == 1.0


# ---------------------------------------------------------------- T5


@settings(max_examples=25, deadline=None)
@given(simplex(3, 0.1), simplex(3, 0.1), scores(3), st.integers(2, 4), taus)
def test_t5_exact_optima_on_enumerable_worlds(p, nu, g, k, tau):
    # The optimum g/τ is identifiable in float64 only while every softmax weight e^{-(gap)} is far above
    # round-off: beyond a score gap of ~30 the risk, its gradient and Hessian no longer depend on the
    # small scores, so no optimiser can recover them. 20 keeps the weakest weight at e^{-20} ≈ 2e-9.
    assume(np.ptp(g / 4 / tau) <= 20)
    assert T.t5_lce_error(p, nu, k) < 1e-6
    assert T.t5_distill_error(p, nu, g / 4, tau, k) < 1e-6


def test_t5_optimum_without_the_log_nu_term_is_rejected():
    p, nu = np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.3, 0.5])
    assert T.t5_lce_error(p, nu, 3, closed_form=lambda p, nu: T.centred(np.log(p))) > 0.5


PAPER_P, PAPER_NU = np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.3, 0.5])


def test_t5_paper_numbers():  # corrections 1 and 9
    for k, risk in ((2, 0.568631), (3, 0.926525), (4, 1.189275)):
        found, value = T.lce_population_optimum(PAPER_P, PAPER_NU, k)
        assert value == pytest.approx(risk, abs=1e-6)
        assert found == pytest.approx([0, -0.916291, -1.832581], abs=1e-6)


def test_t5_excluding_the_positive_changes_the_optimum():  # correction 9
    found, _ = T.lce_population_optimum(PAPER_P, PAPER_NU, 2, exclude_positive=True)
    assert found == pytest.approx([0, -0.782759, -1.362578], abs=1e-6)
    assert found == pytest.approx(T.centred(np.log(PAPER_P / (PAPER_NU * (1 - PAPER_NU)))), abs=1e-6)


def test_t5_importance_weighting_all_terms_vs_negatives_only():  # correction 10
    omega = (1 / 3) / PAPER_NU
    target = T.centred(np.log(PAPER_P * 3))
    assert target == pytest.approx([0, -0.510826, -0.916291], abs=1e-6)
    expected = {2: [0, -0.847305, -1.432320], 3: [0, -0.786108, -1.320468], 4: [0, -0.736813, -1.239407]}
    for k, numbers in expected.items():
        assert T.lce_population_optimum(PAPER_P, PAPER_NU, k, doc_weights=omega)[0] == pytest.approx(target, abs=1e-6)
        assert T.lce_population_optimum(PAPER_P, PAPER_NU, k, doc_weights=omega, weight_positive=False)[
            0
        ] == pytest.approx(numbers, abs=1e-6)


# ---------------------------------------------------------------- T6


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_t6_quadratic_identity_and_mixture_monotonicity(seed):
    rng = np.random.default_rng(seed)
    n_q, n_d, d, r = 2, 5, 3, 2
    queries, docs, proj = rng.normal(size=(n_q, d)), rng.normal(size=(n_d, d)), rng.normal(size=(r, d))
    teacher = rng.normal(size=(n_q, n_d))  # arbitrary: not representable
    p, nu, mu = (rng.dirichlet(np.ones(n_d), n_q) for _ in range(3))
    z, y = T.pair_design(queries, docs, teacher, proj, 0.7)
    law_mu = T.pair_law(p, mu)
    mom_nu, mom_mu = T.moments(z, y, T.pair_law(p, nu)), T.moments(z, y, law_mu)
    w_mu, w_nu = T.minimiser(*mom_mu), T.minimiser(*mom_nu)
    J = lambda w: T.margin_mse_risk(w, queries, docs, teacher, proj, 0.7, law_mu)  # noqa: E731
    assert abs(J(w_nu) - J(w_mu) - T.bias(w_nu, w_mu, mom_mu[0])) < ROUND_OFF * (1 + J(w_mu))
    curve = T.mixture_bias_curve(mom_nu, mom_mu, mom_mu, np.linspace(0, 1, 11))
    assert T.is_non_increasing(curve, tol=1e-9 * (1 + curve[0])) and abs(curve[-1]) < 1e-9


def test_t6_identity_fails_for_an_inexact_minimiser():  # correction 12: the identity needs M_μ w_μ = b_μ
    world, positive, laws = T.counterexample_world()
    z, y = T.pair_design(world["queries"], world["docs"], world["teacher"], world["projection"], 1.0)
    law = T.pair_law(positive, laws["mu"])
    M, b = T.moments(z, y, law)
    J = lambda w: T.margin_mse_risk(w, world["queries"], world["docs"], world["teacher"], world["projection"], 1.0, law)  # noqa: E731
    wrong_w_mu, w = np.array([0.5, 0.5]), np.array([0.0, 0.0])
    assert abs(J(w) - J(wrong_w_mu) - T.bias(w, wrong_w_mu, M)) > 0.01


def test_t6_representable_teacher_has_zero_bias():
    rng = np.random.default_rng(0)
    queries, docs, proj = rng.normal(size=(2, 3)), rng.normal(size=(5, 3)), rng.normal(size=(2, 3))
    W0 = rng.normal(size=(3, 2))
    teacher = queries @ W0 @ proj @ docs.T
    p, nu, mu = (rng.dirichlet(np.ones(5), 2) for _ in range(3))
    z, y = T.pair_design(queries, docs, teacher, proj, 1.0)
    mom_mu = T.moments(z, y, T.pair_law(p, mu))
    assert T.bias(T.minimiser(*T.moments(z, y, T.pair_law(p, nu))), T.minimiser(*mom_mu), mom_mu[0]) < 1e-12


def test_t6_paper_counterexample():  # correction 11
    with_mu, with_rho = T.counterexample_curves(np.array([0, 0.25, 0.5, 0.75, 1.0]))
    assert with_mu == pytest.approx([0.222222, 0.080000, 0.024691, 0.004535, 0.0], abs=1e-6)
    assert T.is_non_increasing(with_mu)
    assert with_rho == pytest.approx([2 / 9, 0.044937, 2 / 225, 0.044937, 2 / 9], abs=1e-6)
    assert not T.is_non_increasing(with_rho)
    world, positive, laws = T.counterexample_world()
    z, y = T.pair_design(world["queries"], world["docs"], world["teacher"], world["projection"], 1.0)
    ws = {name: T.minimiser(*T.moments(z, y, T.pair_law(positive, law))) for name, law in laws.items()}
    assert (
        ws["mu"] == pytest.approx([1 / 3, 1 / 3])
        and ws["nu"] == pytest.approx([0, 1])
        and ws["rho"] == pytest.approx([0, 0], abs=1e-12)
    )


def test_t3_monte_carlo_rows_on_a_small_run():
    # A small run (3 sets of 2,000 pairs) exercises the pipeline; the statistical checks are the slow tests.
    from simrank.theory import monte_carlo as MC

    r = MC.t3_monte_carlo(MC.T3Config(n_sets=3, n=2000, n_population=2000, steps=20, chunk=3))
    assert r["gap_S2"].shape == (2, 3) and r["kkt_residual"] < 1e-8
    assert np.allclose(r["bound"], r["at_w0"] + r["uniform"])
    assert np.all(r["distance"][1] < r["distance"][0])  # the converged minimiser is nearer W₀ than the student
