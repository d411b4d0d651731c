"""The validation of ``simrank advise``: its choice grid trains through ``run_confirm`` on the tiny collection,
the advice table ranks by the bound, and ``paper/advise.md`` matches the committed tables."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from simrank.errors import ConfigError
from simrank.real.advise import AdviceConfig, advise, load_inputs
from simrank.real.advise_validate import _advice_table, _advice_tables, choice_config, render_paper
from simrank.real.confirm import run_confirm
from simrank.real.design import sampler_spec

ROOT = Path(__file__).resolve().parents[2]


def test_choice_sampler_specs():
    assert sampler_spec("random@0", 50, 0.5, 1.0) == {"kind": "uniform", "eta": 0.0}
    assert sampler_spec("bm25@0.25", 50, 0.5, 1.0) == {"kind": "local", "proxy": "bm25", "pool_size": 50, "eta": 0.25}
    with pytest.raises(ConfigError, match="bm25@x"):
        sampler_spec("bm25@x", 50, 0.5, 1.0)
    with pytest.raises(ConfigError, match="eta"):
        sampler_spec("bm25@1.5", 50, 0.5, 1.0)


def test_choices_train_through_confirm(tiny_beir, tmp_path):
    design = choice_config(
        ("random@0", "bm25@0", "bm25@0.5"),
        losses=("kl",),
        group_sizes=(4,),
        tune_group_size=4,
        seeds=1,
        tune_seeds=1,
        pool_size=10,
        n_groups=32,
        tune_steps=(10,),
        batch_size=16,
        n_titles=0,
        n_resamples=10,
        n_permutations=10,
    )
    results, _ = run_confirm(tiny_beir, tmp_path, design)
    assert sorted(results.sampler) == ["bm25@0", "bm25@0.5", "random@0"]
    kappa = results.set_index("sampler").kappa
    # κ against uniform: 1 for uniform, ∞ for a top-10 of 30, 1/((1−η)/∞ + η) = 2 for the η = 0.5 mixture (T4(b))
    assert kappa["random@0"] == 1.0 and math.isinf(kappa["bm25@0"]) and kappa["bm25@0.5"] == pytest.approx(2.0)


def test_advice_table_ranks_by_bound(tiny_beir):
    config = AdviceConfig(taus=(1.0,), etas=(0.0, 0.5), group_size=4, pool_size=10)
    advice = advise(load_inputs(tiny_beir, ["random", "bm25"], config=config), config)
    table = _advice_table(advice, (0.0, 0.5))
    assert list(zip(table.source, table.eta))[0] == ("random", 0.0)  # the uniform target law itself: κ = 1
    assert len(table) == 3 and np.isinf(table.bound.iloc[-1])  # bm25 at η = 0 has κ = ∞
    assert (np.diff(table.bound.to_numpy()) >= 0).all() and table.advice_rank.tolist() == [1, 2, 3]


@pytest.mark.skipif(not (ROOT / "results/advise/meta.json").is_file(), reason="no committed validation tables")
def test_paper_advise_is_current():
    """``paper/advise.md`` is what ``simrank advise validate`` renders from ``results/advise/``."""
    assert (ROOT / "paper/advise.md").read_text() == render_paper(ROOT / "results/advise")


def test_advice_tables_carry_both_bounds(tiny_beir):
    """One row per choice with the rank under each T3 form; the default columns are the default form's."""
    config = AdviceConfig(taus=(1.0,), etas=(0.0, 0.5), group_size=4, pool_size=10)
    table = _advice_tables(load_inputs(tiny_beir, ["random", "bm25"], config=config), config, (0.0, 0.5))
    assert len(table) == 3
    for kind in ("localised", "ess_sup"):
        assert sorted(table[f"advice_rank_{kind}"]) == [1, 2, 3]
    assert (table.advice_rank == table.advice_rank_localised).all() and (table.bound == table.bound_localised).all()
    # the localised Γ at r = B against the ess-sup Γ on ‖W‖ ≤ B: different numbers, both finite for κ < ∞
    uniform = table.set_index("source").loc["random"]
    assert np.isfinite(uniform.bound_localised) and np.isfinite(uniform.bound_ess_sup)
    assert uniform.bound_localised != uniform.bound_ess_sup
