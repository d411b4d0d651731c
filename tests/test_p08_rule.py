"""P8's rule with the training-aware η* (deviation D40): the committed curves give η*, a cell without a curve is
untested, and the decision follows the sign of η* against the realised gain."""

from __future__ import annotations

import pandas as pd
import pytest

from simrank.paths import RESULTS_DIR
from simrank.predictions import p08
from simrank.predictions.base import effect_of, load_results

PASSED = p08.KappaChecks(pd.Series([1.0, 2.0]), True, 0.0, True)


def test_a_cell_without_an_eta_star_is_inconclusive_and_the_others_decide():
    helps = effect_of([0.05, 0.06, 0.055, 0.052, 0.058])  # a gain well above the SESOI
    decision = p08.decide(PASSED, {"a": (helps, True), "b": None, "c": (helps, False)}, k=3)
    assert decision.conditions == {"a": "supported", "b": "inconclusive", "c": "refuted"}
    assert decision.parts["b"]["gain"] == "untested"


def test_the_committed_curves_give_the_verdicts_eta_star_and_a_missing_table_gives_none(monkeypatch):
    df = p08._prepare(load_results(p08.EXPERIMENT, RESULTS_DIR))
    cell = df[(df["beta"] == 5.0) & (df["nonbilinear"] == 0.0)]
    curves = pd.read_parquet(p08.ETA_STAR_TABLE)
    part = curves[(curves["beta"] == 5.0) & (curves["nonbilinear"] == 0.0) & curves["world"].str.contains("isotropic")]
    expected = part["eta"].iloc[(part["bias"] + (part["variance"] + part["drift"]) / 256).argmin()]
    assert p08._training_aware_eta(curves, cell, 256) == pytest.approx(expected)
    assert p08._training_aware_eta(curves[curves["beta"] != 5.0], cell, 256) is None
    assert p08._training_aware_eta(None, cell, 256) is None
