# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Tutorial: from a world to a checked theorem
#
# This notebook walks the simrank pipeline once, by hand, without the CLI:
#
# **world → teacher → sampler → groups → student → trainer → measures → a theorem checked.**
#
# It trains a bilinear student on a small synthetic world twice, once with uniformly sampled
# negatives and once with *local* (hard) negatives, measures both, and then checks two statements of
# `paper/theory.md` on the numbers: the entropy decomposition T1 (ListNet risk = teacher entropy + KL)
# and the contrastive optimum T5(a) (`f* = log p − log ν`). It runs in well under a minute on two CPU
# cores. The file is a [jupytext](https://jupytext.readthedocs.io) notebook in percent format: run it
# as a script (`python docs/tutorial.py`), or open it in Jupyter.

# %%
import jax
import jax.numpy as jnp
import numpy as np

from simrank import (
    Local,
    Teacher,
    TrainConfig,
    Uniform,
    WorldConfig,
    bilinear,
    corpus_kl,
    diameter,
    draw_groups,
    listnet,
    listwise_entropy,
    make_trainer,
    mean_loss,
    ndcg_at,
    rr_at,
    stats,
    theory,
    world_query_set,
)
from simrank.losses import softmax_entropy

# %% [markdown]
# ## 1. A world
#
# A world is a corpus `X ∈ R^{N×d}`, a query law and a true relevance `r(q, x) = s · qᵀAx`.
# `WorldConfig` is a generator in the scikit-learn style: all randomness comes from `random_state`,
# so the same config gives the same world.

# %%
world = WorldConfig(geometry="isotropic", n_docs=500, dim=8, sphere=True, random_state=0).generate()
queries = world.sample_queries(3, random_state=0)
print("corpus:", world.docs.shape, " queries:", queries.shape)
print("true relevance r(q, x):", world.relevance(queries).shape)
print("graded labels per query (grade >= 1):", (world.grades(queries) >= 1).sum(axis=1))

# %% [markdown]
# ## 2. A teacher
#
# The teacher sees the truth through a perturbed relevance map, `g = s · qᵀ(A + εE)x`; `noise = ε`
# sets how wrong it is, and `tau` is the label temperature: the listwise target over a group is
# `softmax(g/τ)`.

# %%
teacher = Teacher(noise=0.3, tau=1.0)
g = teacher.scores(world, queries)
print("teacher scores:", g.shape)
print("correlation with the truth:", np.corrcoef(g.ravel(), world.relevance(queries).ravel())[0, 1].round(3))

# %% [markdown]
# ## 3. Queries, samplers and groups
#
# A `QuerySet` bundles what the pipeline needs about a set of queries: their vectors, teacher scores,
# the positive distribution `p_q`, graded labels and the proxy score matrices a sampler may rank by.
# A sampler is a *distribution* `ν_q` over the corpus. `Uniform` is `ν_q(x) = 1/N`; `Local(M)` is
# uniform over the `M` documents nearest the query (by the dense proxy `qᵀx`). `draw_groups` then
# draws groups of `k` documents: the positive at index 0 (from `p_q`), `k − 1` negatives from `ν_q`.

# %%
train_qs = world_query_set(world, teacher, n_queries=128, random_state=1)
test_qs = world_query_set(world, teacher, n_queries=128, random_state=2)
samplers = {"uniform": Uniform(), "local M=25": Local(pool_size=25)}

groups = {}
for name, sampler in samplers.items():
    train_groups, nu = draw_groups(train_qs, sampler, n_groups=1024, group_size=8, rng=np.random.default_rng(3))
    test_groups, _ = draw_groups(test_qs, sampler, n_groups=1024, group_size=8, rng=np.random.default_rng(4))
    groups[name] = (train_groups, test_groups)
    entropy_nu = softmax_entropy(jnp.log(nu), where=nu > 0)  # H(ν_q) per group row
    locality = max(0.0, 1 - float(entropy_nu.mean()) / np.log(world.n_docs))  # 0 uniform, 1 - log M/log N top-M
    print(
        f"{name:>11}: groups {train_groups.docs.shape}, locality {locality:.2f}, "
        f"mean diameter {float(diameter(jnp.asarray(train_groups.docs)).mean()):.3f}, "
        f"mean teacher entropy {float(listwise_entropy(jnp.asarray(train_groups.teacher_scores), teacher.tau).mean()):.3f} nats"
    )

# %% [markdown]
# Local negatives make tighter groups (smaller diameter `Δ(G)`) and harder labels (higher teacher
# entropy, since the teacher's scores are closer together inside a tight group).
#
# ## 4. A student and the trainer
#
# Students are `(init, apply, project)` triples in the style of optax. `bilinear(d)` scores
# `f(q, x) = qᵀWx`. `make_trainer` returns a pure function `train(key, groups, hyper)` that runs the
# optax optimiser on minibatches; it is jit-compiled here, and `jax.vmap` over keys trains several
# seeds in one call. The loss is ListNet, `−Σ_i p_i log q_i` with `p = softmax(g/τ)`, `q = softmax(f)`.

# %%
student = bilinear(world.dim)
config = TrainConfig(steps=300, batch_size=64, learning_rate=0.05)
train = make_trainer(student, listnet, config)
train_seeds = jax.jit(jax.vmap(train, in_axes=(0, None, None)))
hyper = {"tau": jnp.float32(teacher.tau)}
keys = jax.random.split(jax.random.key(0), 3)  # three seeds

params = {}
for name, (train_groups, _) in groups.items():
    params[name], curves = train_seeds(keys, train_groups, hyper)
    print(f"{name:>11}: loss {float(curves[:, :10].mean()):.3f} -> {float(curves[:, -10:].mean()):.3f}")

# %% [markdown]
# ## 5. Measures
#
# Ranking quality is measured over the *whole corpus* against the true graded relevance (nDCG@10,
# RR@10), and fidelity to the teacher by the corpus KL `KL(softmax(g/τ) ‖ softmax(f))`. With one
# number per seed, `simrank.stats.mean_ci` gives a mean with its 95% t-interval.

# %%
docs = jnp.asarray(world.docs)


def seed_params(stacked, seed):
    """One model's parameters out of the seed-stacked ones."""
    return jax.tree_util.tree_map(lambda a: a[seed], stacked)


for name in groups:
    ndcg, rr, kl = [], [], []
    for seed in range(len(keys)):
        p = seed_params(params[name], seed)
        scores = student.apply(p, jnp.asarray(test_qs.queries), docs[None])  # [n_queries, N]
        ndcg.append(float(ndcg_at(scores, jnp.asarray(test_qs.grades), 10).mean()))
        rr.append(float(rr_at(scores, jnp.asarray(test_qs.grades), 10).mean()))
        kl.append(float(corpus_kl(scores, jnp.asarray(test_qs.teacher_scores), teacher.tau).mean()))
    m = stats.mean_ci(ndcg)
    print(
        f"{name:>11}: nDCG@10 {m.mean:.3f} [{m.low:.3f}, {m.high:.3f}], RR@10 {np.mean(rr):.3f}, "
        f"corpus KL {np.mean(kl):.3f} nats"
    )

# %% [markdown]
# ## 6. A theorem checked: T1, the entropy floor
#
# For every group, ListNet's cross-entropy splits exactly into the teacher's entropy and the
# student's divergence from it:
#
# `CE(p, softmax f) = H(p) + KL(p ‖ softmax f)`, with `p = softmax(g/τ)`.
#
# So the risk can never go below the mean teacher entropy (the *floor*), and the excess risk is the
# KL. `simrank.theory.entropy_decomposition` computes both sides (in float64) for the trained
# student's scores on held-out groups; the residual is zero up to round-off, and the test risk sits
# above the floor by exactly the mean KL.

# %%
for name, (_, test_groups) in groups.items():
    p = seed_params(params[name], 0)
    f = student.apply(p, test_groups.query, test_groups.docs)  # [n_groups, k]
    parts = theory.entropy_decomposition(f, test_groups.teacher_scores, teacher.tau)
    residual = theory.t1_residual(f, test_groups.teacher_scores, teacher.tau)
    risk = float(mean_loss(student, listnet, p, test_groups, hyper))
    floor = parts["listwise_h"].mean()
    print(
        f"{name:>11}: test risk {risk:.4f} = floor {floor:.4f} + KL {parts['listwise_kl'].mean():.4f}; "
        f"max |CE - H - KL| = {residual:.1e}"
    )
    assert residual < 1e-9
    assert risk >= floor - 1e-6

# %% [markdown]
# ## 7. A theorem checked: T5(a), what one-hot contrastive training learns
#
# With one-hot labels (`lce`, InfoNCE) and negatives from `ν`, the population risk over all groups
# is minimised by `f*(x) = log p(x) − log ν(x) + c`: the student learns the positive distribution
# *divided by the sampler*. `theory.lce_population_optimum` enumerates all `N^k` groups of a small
# corpus, minimises the exact risk over free scores (BFGS, then Newton), and we compare with the
# closed form `theory.lce_optimum`.

# %%
p_pos = np.array([0.5, 0.3, 0.15, 0.05])  # positive distribution p over N = 4 documents
nu_neg = np.array([0.1, 0.2, 0.3, 0.4])  # sampler ν
found, risk = theory.lce_population_optimum(p_pos, nu_neg, k=3)
closed = theory.lce_optimum(p_pos, nu_neg)
print("optimum found:", found.round(6))
print("log p - log nu:", closed.round(6))
print(f"max error {np.max(np.abs(found - closed)):.1e}")
assert np.max(np.abs(found - closed)) < 1e-6

# %% [markdown]
# A sampler that over-samples a document (large `ν(x)`) pushes its learned score *down* by `log ν(x)`:
# the bias that distillation (`kl`, `listnet`: optimum `g/τ + c`, whatever the sampler) does not have.
# `simrank theory check` runs every statement T1-T6 this way; `simrank run bias-sweep` trains the
# full grid of samplers, temperatures, losses and students.
