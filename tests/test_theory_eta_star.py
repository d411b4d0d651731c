"""The rows ``T7 η*(n)`` and ``T7 η* = 0`` (theory.md §10(e)): the criterion, the rows on tables built to pass and to
fail, their controls, the power calculation, the committed deciding runs and theory.md's generated block."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simrank.theory import eta_star as ES
from simrank.theory import rows as R

ROOT = Path(__file__).resolve().parents[1]
TABLES = {name: ROOT / "results" / "theory" / f"eta-star-{name}.parquet" for name in ("moves", "zero")}
ETAS = (0.0, 0.1, 0.3, 0.6, 1.0)


def _table(predicted: dict[int, list[float]], measured: dict[int, list[float]], rel_se: float = 0.02) -> pd.DataFrame:
    """A deciding-run table from predicted and measured excess per ``n`` (over :data:`ETAS`)."""
    rows = []
    for n, pred in predicted.items():
        star = ETAS[int(np.argmin(pred))]
        for eta, p, m in zip(ETAS, pred, measured[n]):
            rows.append({"n": n, "eta": eta, "eta_star": star, "predicted": p, "measured": m, "se": rel_se * m,
                         "grad_norm": 1e-12})  # fmt: skip
    return pd.DataFrame(rows)


# excess per η at n = 100, 400, 1600: the small-n choice 0.3, then 0.6, then 1 (the shape the moves design predicts)
MOVING = {100: [8.4, 8.4, 8.2, 8.6, 14.5], 400: [4.4, 4.2, 3.6, 3.0, 3.7], 1600: [3.4, 3.2, 2.5, 1.6, 0.95]}
RISING = {100: [5.0, 6.5, 9.0, 15.0, 27.0], 400: [1.3, 2.4, 6.0, 13.0, 23.0], 1600: [0.4, 1.4, 5.5, 12.0, 22.0]}


@settings(max_examples=80, deadline=None)
@given(
    measured=st.lists(st.floats(0.01, 10.0), min_size=5, max_size=5),
    se=st.floats(0.0, 1.0),
    pick=st.integers(0, 4),
    sesoi=st.floats(0.0, 0.5),
)
def test_rule_gaps_is_the_gap_to_the_measured_minimum_against_sesoi_plus_z_se(measured, se, pick, sesoi):
    table = pd.DataFrame({"n": 10, "eta": ETAS, "measured": measured, "se": se})
    gaps = ES.rule_gaps(table, {10: ETAS[pick]}, sesoi, 2.5).iloc[0]
    best = min(measured)
    assert gaps["gap"] == pytest.approx(measured[pick] - best) and gaps["gap"] >= 0
    assert gaps["tol"] == pytest.approx(sesoi * best + 2.5 * math.hypot(se, se))
    assert gaps["within"] == (gaps["gap"] <= gaps["tol"])
    assert ES.rule_gaps(table, {10: ETAS[int(np.argmin(measured))]}, sesoi, 2.5).iloc[0]["within"]


def test_moves_row_holds_where_training_follows_the_prediction_and_the_n_blind_control_fails():
    table = _table(MOVING, MOVING)
    real, control = ES.eta_moves_row(table), ES.eta_moves_row(table, control=True)
    assert real.holds and real.value <= 0.0, real  # the rule picks the measured argmin at every n
    assert not control.holds and control.value > 1, control  # η = 1 at n = 100: 14.5 against 8.2


def test_moves_row_fails_where_training_does_not_move_or_the_prediction_does_not():
    flat = {n: [8.0, 8.0, 8.0, 8.0, 4.0] for n in MOVING}  # measured: η = 1 best at every n
    assert not ES.eta_moves_row(_table(MOVING, flat)).holds
    still = {n: MOVING[1600] for n in MOVING}  # the prediction itself does not move
    row = ES.eta_moves_row(_table(still, still))
    assert all(ES.rule_gaps(_table(still, still), {n: 1.0 for n in MOVING}, 0.1, 2.5)["within"]) and not row.holds


def test_zero_row_holds_where_mixing_hurts_and_always_one_fails():
    table = _table(RISING, RISING)
    real, control = ES.eta_zero_row(table), ES.eta_zero_row(table, control=True)
    assert real.holds and not control.holds, (real, control)


def test_zero_row_fails_when_training_shows_no_rise_or_the_prediction_is_not_zero():
    flat = {n: [5.0, 5.0, 5.1, 5.2, 5.3] for n in RISING}  # η = 0 best but the rise is inside the tolerance
    assert not ES.eta_zero_row(_table(RISING, flat)).holds
    assert not ES.eta_zero_row(_table(MOVING, RISING)).holds  # predicted η* ≠ 0


@settings(max_examples=60, deadline=None)
@given(delta=st.floats(0.01, 1.0), sd_a=st.floats(0.01, 1.0), sd_b=st.floats(0.01, 1.0), frac=st.floats(0.0, 0.9))
def test_power_reps_is_the_least_r_whose_gap_clears_the_tolerance_by_z_beta_se(delta, sd_a, sd_b, frac):
    floor, z, zb = frac * delta, 2.5, 1.2816
    reps = ES.power_reps(delta, sd_a, sd_b, floor, z)

    def margin(r: int) -> float:
        return delta - floor - (z + zb) * math.hypot(sd_a, sd_b) / math.sqrt(r)

    assert margin(reps) >= -1e-12 and (reps == 1 or margin(reps - 1) < 1e-12)


def test_power_reps_rejects_a_gap_below_the_sesoi():
    with pytest.raises(ValueError, match="cannot be detected"):
        ES.power_reps(0.001, 0.1, 0.1, 0.002, 2.5)


def test_designs_are_the_registered_ones():
    assert ES.ETA_MOVES.n_values == ES.ETA_ZERO.n_values == (100, 400, 1600)
    assert ES.ETA_MOVES.etas == ES.ETA_ZERO.etas == ETAS
    assert (ES.ETA_MOVES.reps, ES.ETA_ZERO.reps, ES.ETA_MOVES.sesoi, ES.ETA_MOVES.z) == (60, 40, 0.10, 2.5)


@pytest.fixture(scope="module")
def committed() -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(path) for name, path in TABLES.items()}


def test_committed_runs_hold_and_their_controls_fail(committed):
    for name, row in (("moves", R._t7_eta_moves_row), ("zero", R._t7_eta_zero_row)):
        real, control = row(committed[name]), row(committed[name], control=True)
        assert real.holds, real
        assert not control.holds and control.detail.startswith("negative control: " + R.CONTROLS[real.statement])
        assert committed[name]["grad_norm"].max() < 1e-6  # converged fits


def _block() -> str:
    match = re.search(
        r"<!-- T7-ETA-STAR -->\n(.*?)\n<!-- /T7-ETA-STAR -->", (ROOT / "paper" / "theory.md").read_text(), re.S
    )
    assert match, "paper/theory.md has no filled T7-ETA-STAR block"
    return match.group(1)


def test_theory_md_eta_star_block_is_fresh(committed):
    assert _block() == ES.eta_star_block(committed["moves"], committed["zero"]), (
        "paper/theory.md's T7-ETA-STAR block is stale: run simrank theory eta-star --paper paper/theory.md"
    )


def test_theory_eta_star_rejects_a_missing_paper_file_in_one_line(tmp_path):
    missing = tmp_path / "nope.md"
    code = f"import sys; sys.argv = ['simrank', 'theory', 'eta-star', '--paper', {str(missing)!r}]\n"
    code += "from simrank.cli import main; main()"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"error: --paper {missing} is not a file"]


@pytest.mark.slow
@pytest.mark.parametrize("design", [ES.ETA_MOVES, ES.ETA_ZERO], ids=lambda d: d.name)
def test_committed_deciding_runs_are_reproduced(design, committed):
    pd.testing.assert_frame_equal(ES.eta_star_table(design), committed[design.name], rtol=1e-6)
