"""Random configs, as a careless user writes them: each either runs or exits 2 with one line, never a traceback.

The generator starts from a small valid config and applies random damage: missing sections, unknown keys,
values of the wrong type, out-of-range values and bad grid axes. Every example goes through the real CLI
entry point (``simrank.cli.main``) in-process; configs that validate are also trained (a few, tiny).
"""

from __future__ import annotations

import contextlib
import io
import sys

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simrank.cli import main
from simrank.config import SECTION_TYPES, SECTIONS

SMALL = {
    "world": {"n_docs": 40, "dim": 3, "sphere": True},
    "teacher": {"noise": 0.3, "tau": 1.0},
    "sampler": {"kind": "local", "pool_size": 10},
    "student": {"kind": "bilinear"},
    "loss": {"name": "kl"},
    "train": {"steps": 3, "batch_size": 8},
    "data": {"group_size": 3, "n_train": 16, "n_queries": 4, "n_test": 16, "n_eval_queries": 4, "kendall_docs": 8},
}
# --quick shrinks whatever the damage left at its default (e.g. a missing [train] means 300 steps otherwise).
QUICK = {"seeds": 1, "train.steps": 3, "data.n_train": 16, "data.n_test": 16, "data.n_eval_queries": 4}

WRONG_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(-3, 3, allow_nan=False),
    st.text(max_size=4),
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 2), max_size=1),
)
FIELDS = [(section, field) for section in SECTION_TYPES for field in sorted(SECTIONS[section])]


@st.composite
def damaged_configs(draw, damage: bool = True) -> dict:
    config = {"name": "fuzz", "seeds": 1, "quick": dict(QUICK), **{s: dict(t) for s, t in SMALL.items()}}
    for section in draw(st.sets(st.sampled_from(sorted(SMALL)), max_size=3)):  # missing sections
        del config[section]
    if not damage:
        return config
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["value", "unknown_key", "grid", "top_level"]))
        section, field = draw(st.sampled_from(FIELDS))
        if not isinstance(config.setdefault(section, {}), dict):  # an earlier damage replaced the whole table
            continue
        if kind == "value":  # wrong type or out of range
            value = draw(WRONG_VALUES)
            if value is not None:  # TOML has no null
                config.setdefault(section, {})[field] = value
        elif kind == "unknown_key":
            config.setdefault(section, {})[draw(st.sampled_from(["colour", "n_doc", "Tau"]))] = 1
        elif kind == "grid":
            axis = draw(st.sampled_from([f"{section}.{field}", f"{section}.nope", "nosuch.key", "plain"]))
            if not isinstance(config.setdefault("grid", {}), dict):
                continue
            config["grid"][axis] = draw(st.one_of(st.lists(WRONG_VALUES, max_size=3), WRONG_VALUES))
        else:
            config[draw(st.sampled_from(["seeds", "name", "grid", "quick", "extra", "world"]))] = draw(WRONG_VALUES)
    return config


def _strip_none(value):
    """TOML cannot hold None: drop such entries (nested)."""
    if isinstance(value, dict):
        return {k: _strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_none(v) for v in value if v is not None]
    return value


def run_cli(args: list[str]) -> tuple[int, str]:
    """``simrank ARGS`` in-process: (exit status, stderr). An unexpected exception propagates (= a traceback)."""
    err = io.StringIO()
    argv, sys.argv = sys.argv, ["simrank", *args]
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            main()
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    finally:
        sys.argv = argv
    return code, err.getvalue()


def check_one(tmp_path, config: dict, train: bool) -> int:
    path = tmp_path / "fuzz.toml"
    path.write_text(tomli_w.dumps(_strip_none(config)))
    args = ["run", str(path), "--quick", "--no-progress", "--out", str(tmp_path / "out"), "--force"]
    code, err = run_cli(args if train else [*args, "--dry-run"])
    assert code in (0, 2), (code, err)
    if code == 2:
        assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), err
        assert "Traceback" not in err
    return code


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(config=damaged_configs())
def test_damaged_configs_validate_or_exit_2(tmp_path, config):
    check_one(tmp_path, config, train=False)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(config=damaged_configs(damage=False))
def test_configs_with_missing_sections_train(tmp_path, config):
    assert check_one(tmp_path, config, train=True) == 0
    assert (tmp_path / "out" / "results.parquet").exists()


def test_negative_control_a_crashing_config_is_caught(tmp_path, monkeypatch):
    """The harness fails on a traceback: an unexpected error inside the run propagates out of run_cli."""
    import simrank.config

    monkeypatch.setattr(simrank.config, "validate", lambda point: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        check_one(tmp_path, {"name": "x", "seeds": 1, **SMALL}, train=False)


def test_world_only_config_is_valid(tmp_path):
    assert check_one(tmp_path, {"world": {"n_docs": 50, "dim": 3}}, train=False) == 0
