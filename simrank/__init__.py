"""simrank: theory of ranking distillation, checked by code.

The public API follows the pipeline world -> teacher -> sampler -> groups -> loss -> student -> trainer ->
measures, with :mod:`simrank.theory` (closed forms and bounds) and :mod:`simrank.stats` beside it::

    import jax, numpy as np, simrank as sr

    world = sr.WorldConfig(n_docs=500, dim=8, sphere=True, random_state=0).generate()
    teacher = sr.Teacher(noise=0.3, tau=1.0)
    queries = sr.world_query_set(world, teacher, 64, np.random.default_rng(0))
    groups, nu = sr.draw_groups(queries, sr.make_sampler("local", pool_size=50), 256, 8, np.random.default_rng(1))
    student = sr.make_student("bilinear", world.dim)
    train = sr.make_trainer(student, sr.kl_distill, sr.TrainConfig(steps=200))
    params, curve = jax.jit(train)(jax.random.PRNGKey(0), groups, {"tau": 1.0})

Registries: :data:`LOSS_SPECS` (losses), :data:`SAMPLERS` (sampler kinds), :data:`STUDENTS` (student kinds).
"""

from simrank import measures, samplers, stats, theory
from simrank._version import __version__
from simrank.config import Experiment, Point, load_experiment
from simrank.errors import ConfigError
from simrank.groups import Groups, QuerySet, draw_groups, world_query_set
from simrank.losses import (
    LOSS_SPECS,
    LossSpec,
    get_loss,
    kl_distill,
    lce,
    listnet,
    margin_mse,
    ranknet_hard,
    ranknet_soft,
)
from simrank.measures import (
    corpus_kl,
    diameter,
    kappa,
    kendall_tau,
    listwise_entropy,
    ndcg_at,
    pairwise_entropy,
    rr_at,
)
from simrank.samplers import (
    SAMPLERS,
    Ensemble,
    FalseNegativeFilter,
    Local,
    Mixture,
    SamplerConfig,
    SamplingContext,
    Tempered,
    Uniform,
    make_sampler,
    sample_categorical,
)
from simrank.students import STUDENTS, Student, StudentConfig, bilinear, make_student, mlp, tabular
from simrank.sweep import run_experiment
from simrank.teacher import Teacher
from simrank.trainer import TrainConfig, group_scores, make_trainer, mean_loss, train_many
from simrank.world import World, WorldConfig

__all__ = [
    "LOSS_SPECS",
    "SAMPLERS",
    "STUDENTS",
    "ConfigError",
    "Ensemble",
    "Experiment",
    "FalseNegativeFilter",
    "Groups",
    "Local",
    "LossSpec",
    "Mixture",
    "Point",
    "QuerySet",
    "SamplerConfig",
    "SamplingContext",
    "Student",
    "StudentConfig",
    "Teacher",
    "Tempered",
    "TrainConfig",
    "Uniform",
    "World",
    "WorldConfig",
    "__version__",
    "bilinear",
    "corpus_kl",
    "diameter",
    "draw_groups",
    "get_loss",
    "group_scores",
    "kappa",
    "kendall_tau",
    "kl_distill",
    "lce",
    "listnet",
    "listwise_entropy",
    "load_experiment",
    "make_sampler",
    "make_student",
    "make_trainer",
    "margin_mse",
    "mean_loss",
    "measures",
    "mlp",
    "ndcg_at",
    "pairwise_entropy",
    "ranknet_hard",
    "ranknet_soft",
    "rr_at",
    "run_experiment",
    "sample_categorical",
    "samplers",
    "stats",
    "tabular",
    "theory",
    "train_many",
    "world_query_set",
]
