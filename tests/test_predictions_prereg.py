"""The pre-registration (paper/preregistration.md) against the rules in code and the experiment configs."""

from __future__ import annotations

import importlib
import math

import pytest

from simrank.config import load_experiment
from simrank.paths import PAPER_DIR
from simrank.predictions.paper import PREDICTIONS

PREREG = PAPER_DIR / "preregistration.md"


def registered() -> dict[str, dict]:
    """The rows of the registered-parameters tables, by key (an addendum's later row supersedes an earlier one)."""
    rows = {}
    for line in PREREG.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 8 and cells[0] in PREDICTIONS:
            key, design, sesoi, alpha, seeds, params = cells[:6]
            rows[key] = {
                "design": tuple(d.strip() for d in design.split(",")),
                "sesoi": float(sesoi),
                "alpha": float(alpha),
                "seeds": int(seeds),
                "params": dict(p.strip().split("=") for p in params.split(",") if p.strip()),
            }
    return rows


def test_every_prediction_is_registered_once():
    assert set(registered()) == set(PREDICTIONS)


@pytest.mark.parametrize("key", list(PREDICTIONS))
def test_rule_constants_match_the_preregistration(key):
    row, pred = registered()[key], PREDICTIONS[key]
    assert pred.experiments == row["design"]
    assert math.isclose(pred.sesoi, row["sesoi"]) and math.isclose(pred.alpha, row["alpha"])
    assert pred.seeds == row["seeds"]
    module = importlib.import_module(f"simrank.predictions.p{int(key[1:]):02d}")
    assert module.PREDICTION is pred
    for name, value in row["params"].items():
        assert math.isclose(float(getattr(module, name)), float(value)), f"{key}.{name}"


@pytest.mark.parametrize("key", list(PREDICTIONS))
def test_configs_run_the_registered_seeds(key):
    for name in PREDICTIONS[key].experiments:
        assert load_experiment(name).seeds == PREDICTIONS[key].seeds, name


def test_a_changed_constant_is_caught(monkeypatch):
    from simrank.predictions import p04

    monkeypatch.setattr(p04, "PREDICTION", p04.PREDICTION.__class__(**{**p04.PREDICTION.__dict__, "sesoi": 0.03}))
    monkeypatch.setitem(PREDICTIONS, "P4", p04.PREDICTION)
    with pytest.raises(AssertionError):
        test_rule_constants_match_the_preregistration("P4")
