"""``simrank real confirm`` by concern: the design and its config loader (:mod:`.design`), the inputs
(:mod:`.inputs`), the compiled students, groups, trainer and measurement (:mod:`.training`), the run
(:mod:`.run`), the memorisation split and document prior (:mod:`.memorisation`), and the report: tests and
verdicts (:mod:`.stats`), figures (:mod:`.figures`) and Markdown (:mod:`.report`).

The names the single module ``simrank.real.confirm`` had are re-exported here on first use (PEP 562), so that
importing the package (e.g. for :mod:`.design` alone) does not load JAX.
"""

from __future__ import annotations

import importlib

#: Submodule -> the names re-exported from it (the old ``simrank.real.confirm`` module's API).
EXPORTS: dict[str, tuple[str, ...]] = {
    "design": ("ALPHA_INIT", "DEPTH", "LOWRANK_RANK"),
    "inputs": ("Prepared", "prepare"),
    "run": ("choose", "evaluate_baselines", "run_confirm", "tempered_kappas"),
    "training": (
        "POOLS",
        "arm_pool",
        "group_diagnostics",
        "make_measure",
        "make_real_student",
        "make_train_fn",
        "pad_groups",
        "residual_student",
        "tune_batch",
        "tuning_groups",
    ),
}
__all__ = sorted([n for names in EXPORTS.values() for n in names], key=str.lower)
_WHERE = {name: f"simrank.real.confirm.{module}" for module, names in EXPORTS.items() for name in names}


def __getattr__(name: str) -> object:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
