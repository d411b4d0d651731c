"""Monte Carlo checks of T1, T3, T5 and T6 with the existing world, samplers, groups, students and trainer.

Each function returns plain numbers; tolerances are derived from the sample sizes in the functions'
docstrings and applied by the callers (:func:`simrank.theory_cli.run_checks` and the tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from scipy.stats import chi2

from simrank import theory as T
from simrank.config import Point, load_experiment
from simrank.groups import Groups, draw_groups, sampling_distribution, world_query_set
from simrank.losses import kl_distill, lce, listnet, margin_mse, ranknet_soft
from simrank.measures import listwise_entropy, pairwise_distances
from simrank.samplers import Local, Mixture, Tempered, Uniform
from simrank.students import bilinear, tabular
from simrank.teacher import Teacher
from simrank.trainer import TrainConfig, group_scores, make_trainer, mean_loss, train_many
from simrank.world import WorldConfig


def default_world(experiment: str = "bias-sweep"):
    """World, teacher, sampler and group size of the main experiment's base configuration."""
    base = Point(load_experiment(experiment).base, {})
    return base.world.generate(), base.teacher, base.sampler(), base.data.group_size


def iid_groups(world, teacher, sampler, n: int, group_size: int, rng: np.random.Generator) -> Groups:
    """``n`` i.i.d. groups, each with its own fresh query (so the groups are independent draws of ``P^ν``).

    Graded labels are skipped (not used here; computing them dominates the cost).
    """
    qs = world_query_set(world, teacher, n, rng, grades=False)
    return draw_groups(qs, sampler, n, group_size, rng)[0]


def _concat(groups: list[Groups]) -> Groups:
    return Groups(*(np.concatenate(parts) for parts in zip(*groups)))


def _stack(groups: list[Groups]) -> Groups:
    return Groups(*(np.stack(parts) for parts in zip(*groups)))


# ============================================================================ T3


@dataclass(frozen=True)
class T3Config:
    """T3 Monte Carlo on the default world: ``n_sets`` training sets of ``n`` pairs, ball ``‖W‖_F ≤ B``."""

    n_sets: int = 200
    n: int = 10_000
    norm_bound: float = 4.0
    delta: float = 0.05
    group_size: int = 2
    n_test: int = 50_000
    steps: int = 100
    learning_rate: float = 0.05
    chunk: int = 50
    seed: int = 0


def t3_monte_carlo(config: T3Config = T3Config()) -> dict:
    """Train a constrained bilinear student with soft RankNet on each of ``n_sets`` independent training sets
    and compare its gap ``R(W) − R̂_S(W)`` with Theorem 3's bound.

    ``R(W)`` is estimated on ``n_test`` fresh groups (standard error ``sd(ℓ)/√n_test``, reported);
    ``ρ_∞ = R_Q · corpus diameter`` (``R_Q = 1`` on the sphere) is an almost-sure bound; ``ρ₂(ν)`` is
    estimated on the test groups.  Returns per-set arrays and the summary.
    """
    world, teacher, sampler, _ = default_world()
    k, tau, B = config.group_size, teacher.tau, config.norm_bound
    rng = np.random.default_rng(config.seed)
    test = _concat(
        [iid_groups(world, teacher, sampler, config.n, k, rng) for _ in range(-(-config.n_test // config.n))]
    )
    radius = 1.0 if world.config.sphere else float("inf")
    rho_inf = radius * float(pairwise_distances(jnp.asarray(world.docs)).max())
    rho2 = T.rms_query_diameter(test.query, test.docs)
    student = bilinear(world.dim, norm_bound=B)
    train = make_trainer(student, ranknet_soft, TrainConfig(config.steps, None, config.learning_rate))
    hyper = {"tau": tau}
    n_test = test.query.shape[0]
    risk_fn = jax.jit(jax.vmap(lambda p, g: mean_loss(student, ranknet_soft, p, g, hyper), (0, 0)))
    test_fn = jax.jit(jax.vmap(lambda p: ranknet_soft(group_scores(student, p, test), test.teacher, tau=tau)))
    train_risk, test_risk, test_se, rho2_hat = [], [], [], []
    for start in range(0, config.n_sets, config.chunk):
        sets = [
            iid_groups(world, teacher, sampler, config.n, k, rng)
            for _ in range(min(config.chunk, config.n_sets - start))
        ]
        stacked = _stack(sets)
        keys = jax.random.split(jax.random.PRNGKey(config.seed + start), len(sets))
        params, _ = train_many(train, keys, stacked, {"tau": jnp.full(len(sets), tau)})
        train_risk.append(np.asarray(risk_fn(params, stacked)))
        losses = np.asarray(test_fn(params), np.float64)
        test_risk.append(losses.mean(1))
        test_se.append(losses.std(1) / np.sqrt(n_test))
        rho2_hat += [T.rms_query_diameter(s.query, s.docs) for s in sets]
    train_risk, test_risk = np.concatenate(train_risk), np.concatenate(test_risk)
    gap = test_risk - train_risk
    n, delta = config.n, config.delta
    population = T.t3_gap_bound(B, rho2, rho_inf, n, delta)
    data_dependent = np.array([T.t3_gap_bound(B, r, rho_inf, n, delta, data_dependent=True) for r in rho2_hat])
    spec = T.t3_spec_bound(B, radius, rho_inf / radius, n, delta)
    m = len(gap)
    # Each set violates a valid bound with probability ≤ δ, so violations ~ Bin(m, ≤ δ); allow the mean
    # plus 3 binomial standard deviations (one-sided level ≈ 0.1%).
    allowed = m * delta + 3 * np.sqrt(m * delta * (1 - delta))
    return {
        "n_sets": m,
        "n": n,
        "group_size": k,
        "norm_bound": B,
        "delta": delta,
        "tau": tau,
        "rho_inf": rho_inf,
        "rho2": rho2,
        "train_risk": train_risk,
        "test_risk": test_risk,
        "test_se": float(np.max(np.concatenate(test_se))),
        "gap": gap,
        "bound_population": population,
        "bound_data_dependent": data_dependent,
        "bound_spec": spec,
        "violations_population": int(np.sum(gap > population)),
        "violations_data_dependent": int(np.sum(gap > data_dependent)),
        "violations_spec": int(np.sum(gap > spec)),
        "violations_allowed": float(allowed),
        "risk_bound": float(np.max(train_risk + population)),
        "tightness": float(population / gap.mean()) if gap.mean() > 0 else float("inf"),
    }


def t3_paper_block(result: dict) -> str:
    """Markdown paragraph with the T3 numbers (regenerated by ``simrank theory check --paper``)."""
    r = result
    return (
        f"*Numbers (generated by `simrank theory check --paper paper/theory.md`).* Default world of the bias sweep "
        f"(isotropic, unit sphere, $N=1000$, $d=8$; teacher noise 0.3, $\\tau={r['tau']:g}$; uniform sampler), "
        f"pairs ($k={r['group_size']}$), $n={r['n']}$ groups per training set, $B={r['norm_bound']:g}$, "
        f"$\\delta={r['delta']:g}$, {r['n_sets']} independent training sets. Measured $\\rho_\\infty={r['rho_inf']:.4f}$ "
        f"(corpus diameter), $\\rho_2={r['rho2']:.4f}$. The population bound (Theorem 3(a)) adds "
        f"${r['bound_population']:.4f}$ to $\\hat R$; the data-dependent one (3(b)) adds "
        f"${np.mean(r['bound_data_dependent']):.4f}$ on average; the spec's form adds ${r['bound_spec']:.4f}$. "
        f"Observed gap $R-\\hat R$: mean ${np.mean(r['gap']):.5f}$, max ${np.max(r['gap']):.5f}$ "
        f"(test-set standard error $\\le{r['test_se']:.5f}$). Violations: {r['violations_population']} (3(a)), "
        f"{r['violations_data_dependent']} (3(b)), {r['violations_spec']} (spec) of {r['n_sets']}. "
        f"Tightness bound/mean gap $={r['tightness']:.1f}$. The largest certified risk "
        f"$\\hat R+\\text{{bound}}={r['risk_bound']:.4f}$ is below $\\log2=0.6931$ (non-vacuous) for 3(a)."
    )


# ============================================================================ T1


def t1_monte_carlo(taus=(0.5, 1.0, 2.0), n_train=(64, 1024), steps=1500, n_test=2048, seed=0) -> list[dict]:
    """Trained test risk of bilinear students of growing capacity (diagonal ⊂ full) against the floor ``H(g)`` across τ.

    Teacher with no error (``noise = 0``), so ``g/τ`` is representable by the full bilinear student;
    listwise CE (ListNet), full-batch Adam.  Rows: τ, structure, n, test risk, test ``H``, excess.
    """
    world, _, sampler, k = default_world()
    rng = np.random.default_rng(seed)
    structures = {"diagonal": {}, "full": {}}
    rows = []
    for tau in taus:
        teacher = Teacher(noise=0.0, tau=tau)
        test = iid_groups(world, teacher, sampler, n_test, k, rng)
        floor = float(jnp.mean(listwise_entropy(jnp.asarray(test.teacher), tau)))
        for n in n_train:
            data = iid_groups(world, teacher, sampler, n, k, rng)
            for name, options in structures.items():
                student = bilinear(world.dim, name, **options)
                train = make_trainer(student, listnet, TrainConfig(steps, None, 0.05))
                params, _ = jax.jit(train)(jax.random.PRNGKey(seed), data, {"tau": tau})
                risk = float(mean_loss(student, listnet, params, test, {"tau": tau}))
                rows.append(
                    {"tau": tau, "structure": name, "n": n, "risk": risk, "floor": floor, "excess": risk - floor}
                )
    return rows


# ============================================================================ T5


def t5_world(n_docs=5, n_queries=2, seed=0):
    """A tiny enumerable world with a spread-out positive law (``t_pos = 20``) for the tabular checks."""
    world = WorldConfig(n_docs=n_docs, dim=4, sphere=True, positive_temperature=20.0, random_state=seed).generate()
    return world_query_set(world, Teacher(noise=0.3, tau=1.0), n_queries, seed + 1)


T5_SAMPLERS = {
    "uniform": Uniform(),
    "tempered": Tempered(2.0, "dense"),
    "teacher_top2_mix": Mixture(Local(2, "teacher"), 0.5),
}


def t5_monte_carlo(n_groups=6000, group_size=3, tau=2.0, steps=3000, seed=0) -> list[dict]:
    """Tabular student trained by full-batch Adam with LCE and with listwise KL under each sampler.

    LCE: ``e = f̂ − (log p − log ν)`` per query row; with ``H_q`` the Hessian of the exact population LCE
    risk at its optimum (= the Fisher information of this well-specified conditional model), ``n_q eᵀ H_q e``
    is asymptotically ``χ²_{N−1}``; summed over the ``Q`` rows it is ``χ²_{Q(N−1)}`` (returned with its
    0.999 quantile).  KL: at ``f = g/τ`` every per-group gradient vanishes, so the empirical minimiser is
    ``g/τ + c`` exactly and the only error is optimisation: ``max |f̂ − g/τ|`` (centred) is returned.
    """
    qs = t5_world(seed=seed)
    n_q, n_d = qs.n_queries, qs.n_docs
    student = tabular(n_q, n_d)
    rows = []
    for name, sampler in T5_SAMPLERS.items():
        groups, _ = draw_groups(qs, sampler, n_groups, group_size, np.random.default_rng(seed))
        nu = sampling_distribution(qs, sampler, np.arange(n_q), np.zeros(n_q, int))
        fitted = {}
        for loss_name, loss_fn in (("lce", lce), ("kl", kl_distill)):
            train = make_trainer(student, loss_fn, TrainConfig(steps, None, 0.05))
            params, _ = jax.jit(train)(jax.random.PRNGKey(seed), groups, {"tau": tau})
            fitted[loss_name] = np.asarray(params["table"], np.float64)
        stat, kl_error = 0.0, 0.0
        for q in range(n_q):
            docs, prob = T.enumerate_groups(qs.positive_probs[q], nu[q], group_size)
            optimum = np.log(qs.positive_probs[q]) - np.log(nu[q])
            with T.x64(True):
                hessian = np.asarray(jax.hessian(T.enumerated_risk)(jnp.asarray(optimum), docs, prob, lce))
            e = fitted["lce"][q] - optimum
            stat += n_groups / n_q * e @ hessian @ e
            kl_error = max(
                kl_error, float(np.abs(T.centred(fitted["kl"][q]) - T.distill_optimum(qs.teacher[q], tau)).max())
            )
        dof = n_q * (n_d - 1)
        rows.append(
            {
                "sampler": name,
                "lce_stat": float(stat),
                "lce_dof": dof,
                "lce_limit": float(chi2.ppf(0.999, dof)),
                "kl_max_error": kl_error,
            }
        )
    return rows


# ============================================================================ T6


def t6_setup(seed=3, n_docs=12, dim=4, rank=2, n_queries=16):
    """Finite world for T6: teacher with map noise (not representable through the rank-2 projection P)."""
    world = WorldConfig(n_docs=n_docs, dim=dim, sphere=True, random_state=seed).generate()
    qs = world_query_set(world, Teacher(noise=0.5, tau=1.0), n_queries, seed + 1)
    projection = np.random.default_rng(seed).standard_normal((rank, dim)) / np.sqrt(dim)
    return qs, projection


def t6_monte_carlo(n_groups=20_000, sampler=Tempered(2.0, "dense"), seed=3, tol=1e-9) -> dict:
    """Gradient descent (optax SGD, full batch) with MarginMSE on sampled pairs against ``w_ν``.

    ``ŵ − w_ν ≈ M_ν⁻¹ (1/n) Σ z_t ε_t`` with ``ε = y − w_νᵀ z``, so ``n eᵀ M_ν S⁻¹ M_ν e`` with
    ``S = E_ν[z zᵀ ε²]`` is asymptotically ``χ²_p`` (the query rows are stratified, which only lowers the
    variance).  The step size ``0.9/λ_max(M̂)`` (the Hessian is ``2M̂``) and the step count make the optimisation error
    below ``tol`` (linear rate ``1 − 1.8 λ_min/λ_max``).
    """
    qs, projection = t6_setup(seed)
    tau = 1.0
    n_q = qs.n_queries
    nu = sampling_distribution(qs, sampler, np.arange(n_q), np.zeros(n_q, int))
    z, y = T.pair_design(qs.queries, qs.docs, qs.teacher, projection, tau)
    law = T.pair_law(qs.positive_probs, nu)
    M, b = T.moments(z, y, law)
    w_nu = T.minimiser(M, b)
    resid = y - z @ w_nu
    S = np.einsum("qab,qabi,qabj->ij", law * resid**2, z, z)
    groups, _ = draw_groups(qs, sampler, n_groups, 2, np.random.default_rng(seed))
    z_sample = z[groups.query_id, groups.doc_id[:, 0], groups.doc_id[:, 1]]
    eig = np.linalg.eigvalsh(z_sample.T @ z_sample / n_groups)
    lr = 0.9 / eig[-1]
    steps = int(np.ceil(np.log(tol) / np.log(1 - 1.8 * eig[0] / eig[-1])))
    student = bilinear(qs.queries.shape[1], "projected", projection=projection)
    train = make_trainer(student, margin_mse, TrainConfig(steps, None, lr, "sgd"))
    with T.x64(True):
        params, _ = jax.jit(train)(jax.random.PRNGKey(seed), jax.tree_util.tree_map(jnp.asarray, groups), {"tau": tau})
    w_hat = np.asarray(params["w"], np.float64).T.reshape(-1)
    e = w_hat - w_nu
    stat = n_groups * e @ M @ np.linalg.solve(S, M @ e)
    p = len(w_nu)
    return {
        "stat": float(stat),
        "dof": p,
        "limit": float(chi2.ppf(0.999, p)),
        "steps": steps,
        "w_nu": w_nu,
        "w_hat": w_hat,
    }
