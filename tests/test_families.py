"""World families and the convergence criterion: plateau statistics, cell convergence, no verdict unconverged."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simrank.predictions import paper
from simrank.predictions.families import FAMILIES, cell_convergence, family_experiment, unconverged_cells
from simrank.runner import LOSS_PLATEAU, NDCG_PLATEAU, PLATEAU_SHARE, loss_plateau, plateau_step


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 400))
def test_the_plateau_step_leaves_the_last_fifth_of_the_steps(steps):
    s = plateau_step(steps)
    assert 1 <= s <= steps and abs(s - (1 - PLATEAU_SHARE) * steps) <= 0.5 + (steps == 1)


@settings(max_examples=30, deadline=None)
@given(st.floats(0.1, 10.0), st.floats(-1.0, 1.0), st.integers(10, 200))
def test_loss_plateau_of_known_curves(level, slope, steps):
    """A flat curve has plateau 0; a linear one ``level + slope · t`` falls by ``−slope · w`` between the last two
    windows of w steps, over an initial window mean of ``level + slope · (w − 1) / 2``."""
    t = np.arange(steps, dtype=np.float64)
    assert float(loss_plateau(jnp.full((1, steps), level))[0]) == pytest.approx(0.0, abs=1e-6)
    w = max(1, round(PLATEAU_SHARE * steps))
    curve = level + slope * t / steps
    expected = -slope * w / steps / abs(level + slope * (w - 1) / 2 / steps)
    assert float(loss_plateau(jnp.asarray(curve[None]))[0]) == pytest.approx(expected, rel=1e-4, abs=1e-6)


def test_the_snapshot_is_the_run_after_its_first_steps_and_leaves_the_run_unchanged():
    """``snapshot_step = 8`` of 10: the kept parameters are those of an 8-step run (full batch: the same first 8
    steps), and the final parameters and loss curve are bit-identical to the run without a snapshot."""
    from simrank.groups import Groups
    from simrank.losses import listnet
    from simrank.students import bilinear
    from simrank.trainer import TrainConfig, make_trainer

    rng = np.random.default_rng(0)
    n, k, d = 16, 4, 3
    groups = Groups(
        query=rng.normal(size=(n, d)), docs=rng.normal(size=(n, k, d)), query_id=np.arange(n),
        doc_id=np.tile(np.arange(k), (n, 1)), teacher_scores=rng.normal(size=(n, k)),
        log_nu=np.zeros((n, k)), where=np.ones((n, k), bool),
    )  # fmt: skip
    key = jax.random.key(0)
    for batch_size in (None, 4):
        config = TrainConfig(steps=10, batch_size=batch_size)
        full, curve = jax.jit(make_trainer(bilinear(d), listnet, config))(key, groups, {"tau": 1.0})
        kept_full, kept_curve, snapshot = jax.jit(make_trainer(bilinear(d), listnet, config, snapshot_step=8))(
            key, groups, {"tau": 1.0}
        )
        np.testing.assert_array_equal(kept_full["w"], full["w"])
        np.testing.assert_array_equal(kept_curve, curve)
        assert not np.allclose(snapshot["w"], full["w"])
    short = jax.jit(make_trainer(bilinear(d), listnet, TrainConfig(steps=8, batch_size=None)))
    eight, _ = short(key, groups, {"tau": 1.0})
    _, _, snapshot = jax.jit(
        make_trainer(bilinear(d), listnet, TrainConfig(steps=10, batch_size=None), snapshot_step=8)
    )(key, groups, {"tau": 1.0})
    np.testing.assert_allclose(snapshot["w"], eight["w"], rtol=1e-6)
    with pytest.raises(ValueError, match="snapshot_step = 11"):
        make_trainer(bilinear(d), listnet, TrainConfig(steps=10), snapshot_step=11)


def _table(loss_plateaus, ndcg_plateaus, cell="c0", train=None):
    import json

    return pd.DataFrame(
        {
            "config_hash": cell,
            "config": json.dumps({"train": dict(FAMILIES["main"].train if train is None else train)}),
            "loss_plateau": loss_plateaus,
            "ndcg_plateau": ndcg_plateaus,
            "converged": [
                abs(a) <= LOSS_PLATEAU and abs(b) <= NDCG_PLATEAU for a, b in zip(loss_plateaus, ndcg_plateaus)
            ],
        }
    )


def test_a_cell_converges_on_its_seed_means():
    """Symmetric seed noise beyond the model tolerance averages out; a drift shared by the seeds does not."""
    noisy = _table([0.02, -0.02, 0.0], [0.008, -0.008, 0.0])
    drifting = _table([0.0, 0.0, 0.0], [0.006, 0.007, 0.008], cell="c1")
    cells = cell_convergence(pd.concat([noisy, drifting]))
    assert cells.loc["c0", "converged"] and not cells.loc["c1", "converged"]
    assert cells.loc["c0", "models"] == pytest.approx(1 / 3)
    assert unconverged_cells({"a": noisy}) == (0, 1) and unconverged_cells({"a": noisy, "b": drifting}) == (1, 2)
    assert unconverged_cells({"a": noisy.drop(columns="converged")}) is None


def test_family_experiment_applies_the_world_and_the_budget():
    exp = family_experiment("p04-hard-negatives", "cone", seeds=2, train={"steps": 7})
    assert (exp.name, exp.seeds, exp.base["world"]["geometry"], exp.base["train"]["steps"]) == (
        "p04-hard-negatives@cone",
        2,
        "cone",
        7,
    )
    assert family_experiment("p04-hard-negatives", "large").base["train"]["steps"] == FAMILIES["large"].train["steps"]
    with pytest.raises(Exception, match="world family"):
        family_experiment("p04-hard-negatives", "moon")


@pytest.mark.parametrize(
    ("per_family", "expected"),
    [
        ({"main": "refuted (-0.1)", "large": "refuted (0.2)"}, "refuted: holds in every family"),
        ({"main": "refuted (-0.1)", "large": "supported (0.2)"}, "world-dependent (main: refuted, large: supported)"),
        (
            {"main": "refuted (-0.1)", "large": "unconverged (2 cells)", "cone": "n/a (a factor of the design)"},
            "refuted in 1 of 2 families (main; the others undecided)",
        ),
        ({"main": "unconverged (not recorded) (registered: refuted (1))", "large": "not run"}, "no converged family"),
        (
            {"main": "inconclusive (0.06)", "cone": "refuted (-0.17)"},
            "refuted in 1 of 2 families (cone; the others undecided)",
        ),
        (
            {"main": "inconclusive (0.08)", "cone": "inconclusive (0.06)"},
            "inconclusive in 2 of 2 families (main, cone)",
        ),
    ],
)
def test_headline(per_family, expected):
    assert paper.headline(per_family) == expected


def test_no_verdict_from_an_unconverged_family(tmp_path, monkeypatch):
    """A family whose results have an unconverged cell reads ``unconverged`` and its rule is never called (main
    included: it is read from its converged-budget re-runs like every family); a converged family gets the rule's
    outcome; results without the statistics read ``not recorded``; results of another budget give no verdict."""
    import dataclasses

    verdict = type("V", (), {"outcome": "refuted", "effect": type("E", (), {"mean": -0.1})()})()
    called = []
    pred = dataclasses.replace(paper.PREDICTIONS["P4"], analyse=lambda tables: called.append(set(tables)) or verdict)
    (name,) = pred.experiments
    old = {"steps": 3000, "learning_rate": 0.02, "batch_size": 256, "optimizer": "adam", "weight_decay": 0.0}
    for fam, plateau in (("main", 0.5), ("large", None), ("clustered", 0.0), ("cone", 0.0)):
        folder = tmp_path / FAMILIES[fam].folder / name
        folder.mkdir(parents=True)
        table = _table([plateau or 0.0] * 2, [0.0, 0.0], train=old if fam == "cone" else None)
        (table if plateau is not None else table.drop(columns="converged")).to_parquet(folder / "results.parquet")
    monkeypatch.setattr(paper, "load_results", lambda n, root: pd.read_parquet(root / n / "results.parquet"))
    monkeypatch.setattr(paper, "PREDICTIONS", {"P4": pred})
    out = paper.family_outcomes(tmp_path)["P4"]
    assert out == {
        "main": "unconverged (1 of 1 cells)",
        "large": "unconverged (not recorded)",
        "clustered": "refuted (-0.100)",
        "cone": "not run at the family budget",  # converged, but at an older budget
    }
    assert called == [{name}]  # once: for clustered only


def test_a_training_free_prediction_needs_no_convergence(tmp_path, monkeypatch):
    """P7 is decided on Δ̂, a property of the sampled groups: results without convergence statistics still decide."""
    import dataclasses

    from simrank.predictions.families import TRAINING_FREE

    assert TRAINING_FREE == {"P7"}
    verdict = type("V", (), {"outcome": "conditional", "effect": type("E", (), {"mean": 0.25})()})()
    pred = dataclasses.replace(paper.PREDICTIONS["P7"], analyse=lambda tables: verdict)
    (name,) = pred.experiments
    for fam in ("main", "large"):
        folder = tmp_path / FAMILIES[fam].folder / name
        folder.mkdir(parents=True)
        pd.DataFrame({"config_hash": ["c0"], "delta_hat": [1.0]}).to_parquet(folder / "results.parquet")
    monkeypatch.setattr(paper, "load_results", lambda n, root: pd.read_parquet(root / n / "results.parquet"))
    monkeypatch.setattr(paper, "PREDICTIONS", {"P7": pred})
    out = paper.family_outcomes(tmp_path)["P7"]
    assert out["main"] == out["large"] == "conditional (0.250)"
    assert out["clustered"] == out["cone"] == "n/a (a factor of the design)"


@pytest.mark.parametrize(("args", "bad"), [(["moon"], "'moon'"), (["cone", "--only", "P4,P14"], "'P14'")])
def test_robustness_bad_family_or_prediction_is_one_line(args, bad, tmp_path):
    from tests.test_cli import simrank_script

    proc = simrank_script("robustness", *args, "--results", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert bad in proc.stderr and "not allowed" in proc.stderr
    assert not any(tmp_path.iterdir())  # nothing was run


def test_the_converging_budget_reaches_one_minimiser_and_a_short_run_is_flagged():
    """The families' budget (full-batch gradient descent on the L2-regularised risk, strongly convex for a bilinear
    student) on constructed separable groups (LCE, the memorising case): two initialisations end at the same
    parameters (the unique minimiser) and the loss plateau is within the tolerance; the same optimiser stopped
    after 20 steps, or without the decay (no minimiser: the risk keeps falling), is flagged."""
    from simrank.groups import Groups
    from simrank.losses import get_loss
    from simrank.predictions.families import BUDGETS, GD_BUDGET
    from simrank.students import bilinear
    from simrank.trainer import TrainConfig, make_trainer

    rng = np.random.default_rng(0)
    n, k, d = 32, 8, 4
    unit = lambda x: x / np.linalg.norm(x, axis=-1, keepdims=True)  # noqa: E731
    query, docs = unit(rng.normal(size=(n, d))), unit(rng.normal(size=(n, k, d)))
    docs[:, 0] = query  # the positive (item 0) is the query itself: W = c·I separates every group as c grows
    teacher = 5.0 * np.einsum("nd,nkd->nk", query, docs)
    groups = Groups(
        query=query, docs=docs, query_id=np.arange(n), doc_id=np.tile(np.arange(k), (n, 1)),
        teacher_scores=teacher, log_nu=np.zeros((n, k)), where=np.ones((n, k), bool),
    )  # fmt: skip
    lce = get_loss("lce")

    def fit(steps, key, weight_decay=GD_BUDGET["weight_decay"]):
        config = TrainConfig(**(GD_BUDGET | {"steps": steps, "weight_decay": weight_decay}))
        return jax.jit(make_trainer(bilinear(d), lce, config))(jax.random.key(key), groups, {"tau": 1.0})

    steps = BUDGETS["main"]["steps"]
    (a, curve), (b, _) = fit(steps, 0), fit(steps, 1)
    np.testing.assert_allclose(a["w"], b["w"], atol=1e-3)
    assert abs(float(loss_plateau(curve[None])[0])) <= LOSS_PLATEAU
    assert float(loss_plateau(fit(20, 0)[1][None])[0]) > LOSS_PLATEAU
    assert float(loss_plateau(fit(steps, 0, weight_decay=0.0)[1][None])[0]) > LOSS_PLATEAU
