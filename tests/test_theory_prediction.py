"""The training-aware excess prediction (theory.md §10, Theorem 7): the exact MarginMSE transfer bound, the
asymptotic expansion against trained students, the rule η*(n), and the committed validation table."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simrank.measures import kappa
from simrank.samplers import Local, Uniform
from simrank.teacher import Teacher
from simrank.theory import bounds as T
from simrank.theory import prediction as PR
from simrank.world import WorldConfig

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "results" / "theory" / "excess.parquet"


def _random_pair_world(seed: int, D: int = 3, Q: int = 2, N: int = 4):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(Q, N, N, D))
    y = rng.normal(size=(Q, N, N))
    p = rng.dirichlet(np.ones(N), Q)
    nu = rng.dirichlet(np.ones(N), Q)
    target = rng.dirichlet(np.ones(N), Q) * (rng.random((Q, N)) < 0.7)  # a target with holes in its support
    target[:, 0] += 1e-3
    target /= target.sum(1, keepdims=True)
    return rng, z, y, p, nu, target


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), eta=st.floats(0.05, 1.0))
def test_margin_mse_transfer_bound_holds_with_lambda_below_kappa_and_one_over_eta(seed, eta):
    rng, z, y, p, nu, target = _random_pair_world(seed)
    for mix in (Uniform, None):  # mixing with uniform, then with the target law itself
        mixed_in = np.full_like(nu, 1 / nu.shape[1]) if mix else target
        nu_eta = (1 - eta) * nu + eta * mixed_in
        eta_mom = T.moments(z, y, T.pair_law(p, nu_eta))
        target_mom = T.moments(z, y, T.pair_law(p, target))
        w = T.minimiser(*eta_mom) + rng.normal(0, 3, z.shape[-1])
        sides = PR.margin_mse_transfer(w, eta_mom, target_mom)
        assert sides["excess"] <= sides["bound"] * (1 + 1e-9) + 1e-12
        assert sides["lambda"] <= float(np.max(kappa(target, nu_eta))) * (1 + 1e-9)
        if mix is None:  # ν_η ≥ η T pointwise, so M_T ⪯ M_η/η
            assert sides["lambda"] <= (1 / eta) * (1 + 1e-9)


def test_margin_mse_transfer_bound_is_attained_along_the_top_direction_when_unbiased():
    # ν_η = T: Bias = 0 and λ = 1, so the bound is an identity J_T − min J_T = J_η − min J_η
    _, z, y, p, _, target = _random_pair_world(7)
    mom = T.moments(z, y, T.pair_law(p, target))
    sides = PR.margin_mse_transfer(T.minimiser(*mom) + 1.0, mom, mom)
    assert sides["bias"] == pytest.approx(0, abs=1e-20)
    assert sides["lambda"] == pytest.approx(1.0, rel=1e-9)
    assert sides["excess"] == pytest.approx(sides["bound"], rel=1e-9)


def test_transfer_constant_is_infinite_when_the_target_sees_a_direction_training_never_does():
    assert PR.transfer_constant(np.diag([1.0, 0.0]), np.diag([1.0, 1e-3])) == math.inf
    assert PR.transfer_constant(np.diag([2.0, 0.0]), np.diag([1.0, 0.0])) == pytest.approx(0.5)


def test_exact_rows_hold_and_their_control_fails_without_lambda():
    bound, control = PR.excess_exact_rows(np.random.default_rng(0), n_points=50)
    assert bound.holds and control.holds and control.value > 1.5  # the λ/2 bound is violated by ≈ 2×


def _tiny():
    world = WorldConfig(n_docs=16, dim=2, sphere=True, signal=3.0, nonbilinear=0.5, random_state=1).generate()
    return world, Teacher(0.3)


def test_prediction_parts_add_up_and_the_bias_vanishes_when_training_on_the_target_law():
    world, teacher = _tiny()
    on_target = PR.predict_excess(
        world, teacher, PR.TARGETS["top10"], loss="kl", n_groups=100, group_size=3, population=3000
    )
    assert on_target.bias == pytest.approx(0.0, abs=0.02 * on_target.variance / 100)
    # ∇R_T(w*) = 0 at the target's own w*: the Monte Carlo drift is a noisy zero (the two populations are independent)
    assert abs(on_target.drift) < 0.05 * on_target.variance
    assert on_target.excess == pytest.approx(on_target.at(100))
    hard = PR.predict_excess(world, teacher, Local(4, "dense"), loss="kl", n_groups=100, group_size=3, population=3000)
    assert hard.excess == pytest.approx(hard.bias + (hard.variance + hard.drift) / 100)
    assert hard.bias > 10 * on_target.bias + 1e-4  # a sampler far from the target law is biased
    ranked = PR.rank_samplers(world, teacher, {"hard": Local(4, "dense"), "target": PR.TARGETS["top10"]}, loss="kl",
                              n_groups=10_000, group_size=3, etas=(0.0, 1.0), population=3000)  # fmt: skip
    assert ranked["sampler"].tolist() == ["target", "hard"] and ranked["eta_star"].iloc[0] == 0.0


def test_prediction_matches_trained_students_and_the_bias_alone_does_not():
    # D = d² = 4 parameters, n = 60 groups: the 1/n expansion within EXCESS_RTOL + 3 standard errors of 200 fits
    world, teacher = _tiny()
    common = dict(loss="kl", group_size=3, target="uniform")
    (p,) = PR.excess_curve(world, teacher, Local(4, "dense"), etas=(0.3,), population=5000, **common)
    m = PR.measure_excess(world, teacher, Local(4, "dense"), n_groups=60, eta=0.3, reps=200, test=5000, **common)
    assert m["grad_norm"] < 1e-8  # converged fits
    tol = PR.EXCESS_RTOL + 3 * m["se"] / m["mean"]
    assert abs(p.at(60) / m["mean"] - 1) <= tol
    assert abs(p.bias / m["mean"] - 1) > tol


def test_fit_converges_to_the_normal_equations_for_margin_mse():
    rng = np.random.default_rng(0)
    phi, g = rng.normal(size=(200, 4, 3)), rng.normal(size=(200, 4))
    w, norm = PR.fit_linear_student(phi, g, loss="margin_mse")
    z, y = phi[:, :1] - phi[:, 1:], g[:, :1] - g[:, 1:]  # MarginMSE = mean over negatives of (wᵀz − y)²
    expected = np.linalg.lstsq(z.reshape(-1, 3), y.reshape(-1), rcond=None)[0]
    assert norm < 1e-10 and np.allclose(w, expected, atol=1e-9)


def test_eta_star_moves_from_variance_to_bias_as_n_grows():
    flat = dict(drift=0.0, target_risk_min=0.0, n_groups=1, loss="kl", target="top10", tau=1.0, population=1)
    curve = [
        PR.ExcessPrediction(0, bias=0.02, variance=1.0, eta=0.0, **flat),
        PR.ExcessPrediction(0, bias=0.01, variance=2.0, eta=0.5, **flat),
        PR.ExcessPrediction(0, bias=0.0, variance=4.0, eta=1.0, **flat),
    ]
    # crossings: η = 0 → 0.5 where 0.01 = 1/n (n = 100), 0.5 → 1 where 0.01 = 2/n (n = 200)
    assert [PR.predicted_eta_star(curve, n) for n in (50, 150, 1000)] == [0.0, 0.5, 1.0]


def _theory_block() -> str:
    text = (ROOT / "paper" / "theory.md").read_text()
    match = re.search(r"<!-- T7-EXCESS -->\n(.*?)\n<!-- /T7-EXCESS -->", text, re.S)
    assert match, "paper/theory.md has no T7-EXCESS block"
    return match.group(1)


def test_theory_md_validation_block_is_fresh():
    assert _theory_block() == PR.excess_paper_block(pd.read_parquet(TABLE)), (
        "paper/theory.md's T7-EXCESS block is stale: run simrank theory excess --paper paper/theory.md"
    )


@pytest.mark.slow
def test_committed_validation_table_is_reproduced():
    committed = pd.read_parquet(TABLE)
    fresh = PR.validation_table()
    pd.testing.assert_frame_equal(fresh, committed, rtol=1e-6)


@pytest.mark.slow
def test_monte_carlo_rows_hold_and_their_control_fails():
    (row, control), table = PR.excess_monte_carlo_rows()
    assert row.holds and control.holds, (row, control, table)


def test_theory_excess_rejects_a_missing_paper_file_in_one_line(tmp_path):
    missing = tmp_path / "nope.md"
    code = f"import sys; sys.argv = ['simrank', 'theory', 'excess', '--paper', {str(missing)!r}]\n"
    code += "from simrank.cli import main; main()"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"error: --paper {missing} is not a file"]


# ------------------------------------------------------------------ a student on the ball ‖w‖ ≤ B (theory.md §10(d))


def _gaussian_design(m: int, rng: np.random.Generator, a: np.ndarray, sigma: float):
    """MarginMSE with one negative whose features are 0: the loss is (zᵀw − y)², z ~ N(0, I), y = zᵀa + N(0, σ²)."""
    z = rng.normal(size=(m, a.size))
    phi = np.zeros((m, 2, a.size))
    phi[:, 0] = z
    return phi, np.stack([z @ a + rng.normal(0, sigma, m), np.zeros(m)], 1)


A_BALL, SIGMA_BALL, B_BALL = np.array([2.0, 0.0, 0.0, 0.0]), 0.5, 1.0  # ‖a‖ = 2B: the constraint binds


def test_ball_variance_is_the_tangent_sandwich_with_the_multiplier_and_not_the_unconstrained_one():
    # R(w) = ‖w − a‖² + σ², w* = B a/‖a‖, λ = 2(‖a‖/B − 1), c = w* − a: on the tangent space H + λI = 2‖a‖/B and
    # G = 4(‖c‖² + σ²), so V = ½ tr(K G) = (D − 1)(‖c‖² + σ²) B/‖a‖; without λ it would be (D − 1)(‖c‖² + σ²)
    m, D = 100_000, A_BALL.size
    phi, g = _gaussian_design(m, np.random.default_rng(0), A_BALL, SIGMA_BALL)
    terms = PR.excess_terms(phi, g, phi, g, loss="margin_mse", norm_bound=B_BALL)
    c2 = (np.linalg.norm(A_BALL) - B_BALL) ** 2
    closed = (D - 1) * (c2 + SIGMA_BALL**2) * B_BALL / np.linalg.norm(A_BALL)
    # Monte Carlo error of the plug-in: the tangent trace of Cov ψ is a mean of m terms ‖z_t‖²(zᵀc − ε)² (relative sd
    # √(15·3 − 9)/3 = 2: ‖z_t‖² ~ χ²₃, (zᵀc − ε)² a scaled χ²₁), the tangent Hessian's trace a mean of m terms ‖z_t‖²
    # (relative sd √6/3): 4 standard errors of each
    tol = 4 * (2 + math.sqrt(6) / 3) / math.sqrt(m)
    assert terms["active"] and np.linalg.norm(terms["w"]) == pytest.approx(B_BALL, rel=1e-9)
    assert terms["variance"] == pytest.approx(closed, rel=tol)
    assert abs(terms["variance"] / (closed * np.linalg.norm(A_BALL) / B_BALL) - 1) > 10 * tol  # the control
    assert abs(terms["drift"]) < 1e-8  # ∇R(w*) is normal to the sphere: no tangent gradient, no drift
    inside = PR.excess_terms(phi, g, phi, g, loss="margin_mse", norm_bound=10.0)  # an inactive ball: unconstrained
    assert not inside["active"] and inside["variance"] == pytest.approx(D * SIGMA_BALL**2, rel=tol)


def test_ball_prediction_matches_constrained_fits():
    # 400 fits of n = 200 on the ball against the exact excess ‖ŵ − a‖² − ‖w* − a‖²: V/n within EXCESS_RTOL + 3 se
    rng = np.random.default_rng(1)
    phi, g = _gaussian_design(100_000, rng, A_BALL, SIGMA_BALL)
    variance = PR.excess_terms(phi, g, phi, g, loss="margin_mse", norm_bound=B_BALL)["variance"]
    n, reps = 200, 400
    sets = [_gaussian_design(n, rng, A_BALL, SIGMA_BALL) for _ in range(reps)]
    w, grad_norm = PR.fit_linear_student(np.stack([s[0] for s in sets]), np.stack([s[1] for s in sets]),
                                         loss="margin_mse", norm_bound=B_BALL)  # fmt: skip
    assert grad_norm < 1e-9 and np.allclose(np.linalg.norm(w, axis=1), B_BALL)
    excess = ((w - A_BALL) ** 2).sum(1) - (np.linalg.norm(A_BALL) - B_BALL) ** 2
    mean, se = excess.mean(), excess.std(ddof=1) / math.sqrt(reps)
    assert abs(variance / n / mean - 1) <= PR.EXCESS_RTOL + 3 * se / mean
    unconstrained = A_BALL.size * SIGMA_BALL**2 / n  # the unconstrained student's V/n: the control misses
    assert abs(unconstrained / mean - 1) > PR.EXCESS_RTOL + 3 * se / mean


def test_ball_prediction_matches_trained_students_in_a_world():
    # the tiny world with ‖W‖_F ≤ 1 (the constraint binds): bias, tangent V and D against 200 fits on the ball
    world, teacher = _tiny()
    common = dict(loss="kl", group_size=3, target="uniform", norm_bound=1.0)
    (p,) = PR.excess_curve(world, teacher, Local(4, "dense"), etas=(0.3,), population=5000, **common)
    m = PR.measure_excess(world, teacher, Local(4, "dense"), n_groups=60, eta=0.3, reps=200, test=5000, **common)
    assert p.active and m["grad_norm"] < 1e-8
    tol = PR.EXCESS_RTOL + 3 * m["se"] / m["mean"]
    assert abs(p.at(60) / m["mean"] - 1) <= tol  # (the controls are the constructed case's, above)
