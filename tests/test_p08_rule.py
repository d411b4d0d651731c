"""P8's rule with the training-aware η* (deviation D40): the committed curves give η*, a cell without a curve is
untested, and the decision follows the sign of η* against the realised gain."""

from __future__ import annotations

import pandas as pd
import pytest

from simrank.paths import RESULTS_DIR
from simrank.predictions import p08
from simrank.predictions.base import effect_of, load_results
from simrank.predictions.families import FAMILIES

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


def test_every_family_with_p08_results_has_a_committed_curve_for_every_cell():
    curves = pd.read_parquet(p08.ETA_STAR_TABLE)
    checked = []
    for name, fam in FAMILIES.items():
        path = RESULTS_DIR / fam.folder / p08.EXPERIMENT / "results.parquet"
        if not path.exists():
            continue
        df = p08._prepare(pd.read_parquet(path))
        for key, cell in df[df["beta"] > 0].groupby(["nonbilinear", "beta"]):
            assert p08._training_aware_eta(curves, cell, p08._n_train(df)) is not None, (name, key)
        checked.append(name)
    assert {"main", "clustered", "cone"} <= set(checked) and set(checked) <= set(p08.CURVE_FAMILIES)


def test_writing_one_familys_curves_keeps_the_other_worlds_and_replaces_its_own(monkeypatch, tmp_path):
    def row(world: str, bias: float) -> dict:
        return {"world": world, "nonbilinear": 0.0, "beta": 5.0, "eta": 0.0, "bias": bias, "variance": 1.0,
                "drift": 0.0, "active": True, "population": 10}  # fmt: skip

    path = tmp_path / "curves.parquet"
    pd.DataFrame([row("kept", 1.0), row("redone", 2.0)]).to_parquet(path)
    monkeypatch.setattr(p08, "predicted_curves", lambda exp: pd.DataFrame([row("redone", 3.0), row("new", 4.0)]))
    p08._write_curves(path, ("cone",))
    out = pd.read_parquet(path).set_index("world")["bias"]
    assert out.to_dict() == {"kept": 1.0, "redone": 3.0, "new": 4.0}
