"""The theory of ``paper/theory.md`` as code, by concern; every public name is re-exported here (``simrank.theory.X``).

* :mod:`~simrank.theory.bounds`: the statements T1-T6, both sides of every identity and bound, closed forms.
* :mod:`~simrank.theory.monte_carlo`: the Monte Carlo checks of T1, T3 (global, localised, lower bound), T5, T6.
* :mod:`~simrank.theory.rows`: every statement as a row of ``simrank theory check`` that can fail, each with a
  negative control that does fail, and the generated blocks of ``paper/theory.md`` (markers, writer).
* :mod:`~simrank.theory.prediction`: the training-aware excess prediction (T7) and its validation.
* :mod:`~simrank.theory.eta_star`: the rule ``η*(n)`` against trained students: the registered designs of the rows
  ``T7 η*(n)`` and ``T7 η* = 0``, their criterion and controls.
* :mod:`~simrank.theory.tightness`: how tight Theorem 3L can be: ``d_eff`` as a trace, the gap's shape and q95/mean
  floor at several ``n``, its variance split, and the power of the violation check (theory.md §4.5).
* :mod:`~simrank.theory.check`: the ``simrank theory check`` command (typer and the standard library only).

The submodules are imported on first use of one of their names (PEP 562), so that importing the package (or the
command line, which only needs :data:`~simrank.theory.check.theory_app`) does not load JAX.
"""

from __future__ import annotations

import importlib

#: Submodule -> the public names it defines (each submodule's ``__all__``; a test keeps them equal).
EXPORTS: dict[str, tuple[str, ...]] = {
    "bounds": (
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
        "NEWTON_STEPS",
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
    ),
    "monte_carlo": (
        "allowed_violations",
        "ball_minimiser",
        "default_world",
        "EmpiricalWorld",
        "FLOOR_STEPS",
        "iid_groups",
        "lower_bound_figure",
        "lower_bound_localised",
        "lower_bound_monte_carlo",
        "lower_bound_paper_block",
        "p8_eta_comparison",
        "p8_localised_gap",
        "p8_paper_block",
        "SCORERS",
        "smallest_failing_factor",
        "t1_monte_carlo",
        "t3_ball_floor",
        "t3_floor_block",
        "t3_monte_carlo",
        "t3_paper_block",
        "t3_summary",
        "T3Config",
        "t5_monte_carlo",
        "T5_SAMPLERS",
        "t5_world",
        "t6_monte_carlo",
        "t6_setup",
    ),
    "rows": (
        "CONTROLS",
        "ETA_STAR_START",
        "EXCESS_START",
        "exact_measurements",
        "exact_rows",
        "FLOOR_START",
        "FORMULA_RTOL",
        "GLOBAL_CONTROL_FACTOR",
        "LOWER_BOUND_CHECK",
        "LOWER_BOUND_PAPER",
        "LowerBoundRun",
        "LOWER_START",
        "MARKERS",
        "monte_carlo_rows",
        "p8_block",
        "P8_START",
        "paper_blocks",
        "PAPER_START",
        "TIGHTNESS_START",
        "ROUND_OFF",
        "run_checks",
        "update_paper",
    ),
    "prediction": (
        "excess_curve",
        "excess_exact_rows",
        "excess_monte_carlo_rows",
        "excess_paper_block",
        "excess_terms",
        "EXCESS_RTOL",
        "ExcessPrediction",
        "fit_linear_student",
        "linear_features",
        "margin_mse_transfer",
        "measure_excess",
        "predict_excess",
        "predicted_eta_star",
        "rank_samplers",
        "TARGETS",
        "transfer_constant",
        "VALIDATION_ETAS",
        "validation_table",
        "validation_worlds",
        "ValidationWorld",
    ),
    "eta_star": (
        "ETA_MOVES",
        "eta_moves_row",
        "eta_star_block",
        "eta_star_table",
        "ETA_ZERO",
        "eta_zero_row",
        "EtaStarDesign",
        "power_reps",
        "rule_gaps",
    ),
    "tightness": (
        "chunks",
        "gap_summary",
        "population_pool",
        "read_run",
        "sandwich_trace",
        "simulate_gaps",
        "size_summary",
        "skewness_se",
        "tightness_block",
        "tightness_run",
        "TightnessConfig",
        "variance_split",
        "write_run",
    ),
    "check": (
        "check_cmd",
        "theory_app",
    ),
}
_SUBMODULE_OF = {name: module for module, names in EXPORTS.items() for name in names}

__all__ = ["EXPORTS", *sorted(_SUBMODULE_OF, key=str.lower)]


def __getattr__(name: str) -> object:
    """``simrank.theory.X``: import the submodule that defines ``X`` and cache the value in this namespace."""
    if name not in _SUBMODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_SUBMODULE_OF[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_SUBMODULE_OF])
