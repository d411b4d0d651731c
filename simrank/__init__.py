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

Registries: :data:`LOSS_SPECS` (losses), :data:`SAMPLERS` (sampler kinds), :data:`STUDENTS` (student kinds); add
your own with :func:`register_sampler`, :func:`register_loss`, :func:`register_student` (``docs/extending.md``).

The names below are imported on first use (PEP 562), so ``import simrank`` and the command line start without
loading JAX; ``simrank.X`` is the same object as ``simrank.<module>.X``.
"""

from __future__ import annotations

import importlib

from simrank._version import __version__ as __version__

#: module -> the public names the package root re-exports from it (loaded on first access).
_EXPORTED_FROM: dict[str, tuple[str, ...]] = {
    "simrank.config": ("Experiment", "Point", "load_experiment"),
    "simrank.errors": ("ConfigError",),
    "simrank.groups": ("Groups", "QuerySet", "draw_groups", "world_query_set"),
    "simrank.losses": (
        "LOSS_SPECS",
        "LossSpec",
        "get_loss",
        "kl_distill",
        "lce",
        "listnet",
        "margin_mse",
        "ranknet_hard",
        "ranknet_soft",
    ),
    "simrank.measures": (
        "corpus_kl",
        "diameter",
        "kappa",
        "kendall_tau",
        "listwise_entropy",
        "ndcg_at",
        "pairwise_entropy",
        "rr_at",
    ),
    "simrank.plugins": ("register", "register_loss", "register_sampler", "register_student"),
    "simrank.samplers": (
        "SAMPLERS",
        "Ensemble",
        "FalseNegativeFilter",
        "Local",
        "Mixture",
        "SamplerConfig",
        "SamplingContext",
        "Tempered",
        "Uniform",
        "make_sampler",
        "sample_categorical",
    ),
    "simrank.students": ("STUDENTS", "Student", "StudentConfig", "bilinear", "make_student", "mlp", "tabular"),
    "simrank.sweep": ("run_experiment",),
    "simrank.teacher": ("Teacher",),
    "simrank.trainer": ("TrainConfig", "group_scores", "make_trainer", "mean_loss", "train_many"),
    "simrank.world": ("World", "WorldConfig"),
}
#: Submodules reachable as attributes of the root (``simrank.theory``).
_SUBMODULES = ("measures", "samplers", "stats", "theory")
_MODULE_OF = {name: module for module, names in _EXPORTED_FROM.items() for name in names}

__all__ = sorted(["__version__", *_SUBMODULES, *_MODULE_OF], key=lambda n: (not n.isupper(), n))


def __getattr__(name: str) -> object:
    """``simrank.NAME``: import the module that defines ``NAME`` on first use and cache the value here."""
    if name in _SUBMODULES:
        value = importlib.import_module(f"simrank.{name}")
    elif name in _MODULE_OF:
        value = getattr(importlib.import_module(_MODULE_OF[name]), name)
    else:
        raise AttributeError(f"module 'simrank' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
