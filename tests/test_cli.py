"""The command line's contract, through the installed console script: exit status 0 / 1 / 2 / 130, one-line
usage errors without a traceback, ``-h`` and ``--version``, Ctrl-C that says how to resume, lazy start-up."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st

import simrank
from simrank import cli

from tiny import tiny_config

#: The console script pip installed beside this interpreter (pyproject's [project.scripts]).
SCRIPT = str(Path(sys.executable).parent / "simrank")


def simrank_script(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    assert Path(SCRIPT).exists(), f"console script {SCRIPT} not installed (pip install -e .)"
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, timeout=300, cwd=cwd)


@pytest.mark.parametrize("args", [[], ["-h"], ["--help"], ["run", "-h"], ["real", "-h"]])
def test_help_exits_0(args):
    proc = simrank_script(*args)
    assert proc.returncode == 0, proc.stderr
    assert "Usage" in proc.stdout and "Traceback" not in proc.stderr


def test_top_level_help_lists_every_command():
    proc = simrank_script("-h")
    for name in ["run", "list", *cli.LAZY_COMMANDS]:
        assert f" {name} " in proc.stdout, name


def test_version():
    proc = simrank_script("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"simrank {simrank.__version__}"


@pytest.mark.parametrize(
    "args, needle",
    [
        (["run", "bias-sweep", "--quik"], "--quik"),
        (["run", "bias-sweep", "--seeds", "abc"], "'abc'"),
        (["run", "bias-sweep", "--seeds=abc"], "'abc'"),
        (["run"], "Missing argument 'experiment'"),
        (["nope"], "'nope'"),
        (["run", "no-such-experiment"], "no-such-experiment"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args, needle):
    proc = simrank_script(*args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr


def test_exit_1_of_a_command_propagates(monkeypatch):
    """A command raising ``typer.Exit(1)`` (a failing check) makes the process exit 1, not 0."""

    def failing_check() -> None:
        typer.echo("FAILS")
        raise typer.Exit(1)

    monkeypatch.setattr(cli.app, "registered_commands", list(cli.app.registered_commands))
    cli.app.command("failing-check")(failing_check)
    with pytest.raises(SystemExit) as stop:
        cli.main(["failing-check"])
    assert stop.value.code == 1
    with pytest.raises(SystemExit) as stop:
        cli.main(["list"])
    assert stop.value.code == 0


def test_command_line_reproduces_the_options(tmp_path):
    ctx = typer.Context(typer.main.get_command(cli.app).get_command(None, "run"), info_name="run")
    ctx.params = {p.name: p.default for p in ctx.command.params} | {
        "experiment": "my exp.toml",
        "chunk_size": 4,
        "progress": False,
    }
    assert cli.command_line(ctx, out=tmp_path, resume=True) == (
        f"run 'my exp.toml' --out {tmp_path} --resume --no-progress --chunk-size 4"
    )


def test_ctrl_c_saves_parts_says_how_to_resume_and_exits_130(tmp_path):
    """A real SIGINT during a run: exit 130, stderr says how many parts are saved and prints the exact
    ``--resume`` command, which then finishes the run."""
    (tmp_path / "tiny.toml").write_text(tiny_config())
    out = tmp_path / "o"
    proc = subprocess.Popen(
        [SCRIPT, "run", "tiny.toml", "--out", str(out), "--chunk-size", "1", "--no-progress"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # even if this runner ignores Ctrl-C
    )
    deadline = time.monotonic() + 240
    while not list((out / "parts").glob("*.parquet")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    saved = len(list((out / "parts").glob("*.parquet")))
    assert 1 <= saved < 16
    message = stderr.strip().splitlines()[-1]
    assert f"interrupted: {saved} of 16 parts saved" in message
    resume = message.split("continue with: ")[1]
    assert resume == f"simrank run tiny.toml --out {out} --resume --no-progress --chunk-size 1"
    done = simrank_script(*resume.split()[1:], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(pd.read_parquet(out / "results.parquet")) == 16


@pytest.mark.parametrize("module", ["simrank.cli", "simrank"])
def test_start_up_imports_no_jax_numpy_or_pandas(module):
    """``simrank --help`` and ``simrank list`` stay fast: the CLI module and the package root load none of
    the heavy libraries (the commands import them when they run)."""
    code = f"import sys, {module}; print(sorted(m for m in ('jax', 'numpy', 'pandas') if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stdout + proc.stderr


def test_list_runs_without_loading_jax():
    code = (
        "import sys\nfrom simrank import cli\ntry:\n    cli.main(['list'])\nexcept SystemExit as stop:\n"
        "    print(stop.code, 'jax' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "bias-sweep" in proc.stdout and proc.stdout.strip().endswith("0 False"), proc.stdout + proc.stderr


# ---------------------------------------------------------------------------------------------- summaries


def _results(values_by_seed: dict[int, list[float]]) -> pd.DataFrame:
    """Rows of one loss at two τ per seed: ``gap`` and ``ndcg10`` the given values."""
    rows = [
        {"loss": "kl", "seed": seed, "tau": tau, "eta": 0.0, "gap": v, "ndcg10": v / 10, "pool_size": 12.0}
        for seed, values in values_by_seed.items()
        for tau, v in zip((0.3, 3.0), values)
    ]
    return pd.DataFrame(rows)


def test_duplicated_rows_do_not_narrow_the_summary_interval():
    """Ten copies of every row give the same interval as one copy: the seed, not the row, is the unit; pooling
    the rows as independent would have narrowed it."""
    from simrank.stats import mean_ci

    base = _results({0: [1.0, 1.2], 1: [2.0, 2.4], 2: [0.5, 0.9]})
    once = cli.summary_table(base)
    tenfold = cli.summary_table(pd.concat([base] * 10, ignore_index=True))
    pd.testing.assert_frame_equal(once, tenfold)
    per_seed = mean_ci([1.1, 2.2, 0.7])
    row = cli.summary_table(base, ["loss"]).iloc[0]
    assert row["seeds"] == 3 and row["gap_low"] == pytest.approx(per_seed.low, abs=1e-4)
    pooled = mean_ci(pd.concat([base] * 10)["gap"])
    assert pooled.high - pooled.low < (row["gap_high"] - row["gap_low"]) / 3  # what the old table printed


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.lists(st.floats(-5, 5), min_size=2, max_size=2), min_size=2, max_size=6),
    st.lists(st.integers(1, 4), min_size=6, max_size=6),
)
def test_repeating_a_seeds_rows_never_changes_the_summary(values, copies):
    """Property: repeating all rows of seed s ``copies[s]`` times leaves every mean and bound unchanged."""
    base = _results(dict(enumerate(values)))
    repeated = pd.concat([base[base.seed == s] for s in base.seed.unique() for _ in range(copies[s])])
    pd.testing.assert_frame_equal(cli.summary_table(base, ["loss"]), cli.summary_table(repeated, ["loss"]))


def test_summary_header_names_the_unit_and_the_averaged_factors():
    base = _results({0: [1.0, 1.2], 1: [2.0, 2.4]})
    header = cli.summary_header(base, ["loss"])
    assert "over 2 seeds" in header and "tau ∈ {0.3, 3}" in header and "exponential gain" in header
    assert "averaged" not in cli.summary_header(base, ["loss", "tau"]) and "one row per seed" in cli.summary_header(
        base, ["loss", "tau"]
    )
    table = cli.summary_table(base)
    assert list(table.columns[:2]) == ["tau", "seeds"] and str(table["seeds"].dtype).startswith("int")
    assert (
        "nDCG@10_mean" in table
        and str(cli.summary_table(_results({0: [1, 2]}), ["pool_size"]).pool_size.dtype) == "Int64"
    )


# ------------------------------------------------------------------------------------------ outputs kept


def _modes(folder: Path) -> dict[str, str]:
    return {p.name: oct(p.stat().st_mode & 0o777) for p in folder.rglob("*") if p.is_file()}


def test_out_holding_another_configs_results_is_refused_then_replaced_with_force(tmp_path):
    (tmp_path / "tiny.toml").write_text(tiny_config())
    out = tmp_path / "o"
    first = simrank_script("run", "tiny.toml", "--out", str(out), "--no-progress", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    before = (out / "results.parquet").read_bytes()
    refused = simrank_script("run", "tiny.toml", "--seeds", "1", "--out", str(out), "--no-progress", cwd=tmp_path)
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "--force" in refused.stderr and "--resume" in refused.stderr and "'tiny'" in refused.stderr
    assert (out / "results.parquet").read_bytes() == before  # nothing touched
    forced = simrank_script(
        "run", "tiny.toml", "--seeds", "1", "--out", str(out), "--no-progress", "--force", cwd=tmp_path
    )
    assert forced.returncode == 0, forced.stderr
    table = pd.read_parquet(out / "results.parquet")
    assert len(table) == 8 and table["seed"].nunique() == 1
    parts = pd.concat([pd.read_parquet(p) for p in (out / "parts").glob("*.parquet")])
    assert len(parts) == 8  # the old config's parts are gone, not left beside the new table
    assert set(_modes(out).values()) == {"0o644"}, _modes(out)  # the test runs under umask 022 (below)


@pytest.fixture(autouse=True)
def _usual_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_atomic_writes_respect_the_umask(tmp_path):
    """``atomic_write`` (TREC runs, embeddings, advice) gives ``open()``'s 0o666 & ~umask, not mkstemp's 0600."""
    from simrank.real._util import atomic_write

    for umask, expected in ((0o022, 0o644), (0o077, 0o600), (0o002, 0o664)):
        os.umask(umask)
        with atomic_write(tmp_path / f"f{umask}") as fh:
            fh.write("x")
        assert (tmp_path / f"f{umask}").stat().st_mode & 0o777 == expected


def test_paper_outside_a_checkout_says_so_in_one_line(tmp_path):
    proc = simrank_script("paper", cwd=tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "needs a project checkout" in proc.stderr and "--path" in proc.stderr
    assert not (tmp_path / "results").exists()  # nothing was run


def test_no_command_defaults_into_the_installed_package():
    """Every path option of every command defaults to a path relative to the working directory (or none)."""
    group = typer.main.get_command(cli.app)
    ctx = typer.Context(group)
    found = 0

    def walk(command):
        nonlocal found
        for param in command.params:
            if isinstance(param.default, Path):
                found += 1
                assert not param.default.is_absolute(), (command.name, param.name, param.default)
        for name in getattr(command, "list_commands", lambda ctx: [])(ctx):
            walk(command.get_command(ctx, name))

    for name in cli.LAZY_COMMANDS:
        group.resolve_command(ctx, [name])
    walk(group)
    assert found >= 5


@pytest.mark.parametrize("args", [["real", "confirm", "--quick"], ["advise", "--out", "advice"]])
def test_a_missing_data_folder_says_how_to_set_it(tmp_path, args):
    env = {**os.environ, "SIMRANK_DATA": str(tmp_path / "no-such-folder")}
    proc = subprocess.run([SCRIPT, *args], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "no-such-folder" in proc.stderr and "--data" in proc.stderr and "SIMRANK_DATA" in proc.stderr


# ------------------------------------------------------------------------------------------ plugins


def _doc_blocks(language: str) -> list[str]:
    text = (Path(__file__).resolve().parent.parent / "docs" / "extending.md").read_text()
    return [block.split("\n", 1)[1] for block in text.split("```")[1::2] if block.startswith(language + "\n")]


def test_the_extending_example_runs_through_the_cli_with_plugin(tmp_path):
    """docs/extending.md as printed: its plugin module and config, run with ``--plugin``; the new sampler, loss
    and student are in the results, and a misspelled name lists the registered ones."""
    (plugin,), (config,) = _doc_blocks("python"), _doc_blocks("toml")
    (tmp_path / "my_plugin.py").write_text(plugin)
    (tmp_path / "easy.toml").write_text(config)
    proc = simrank_script("run", "easy.toml", "--plugin", "my_plugin.py", "--out", "o", "--no-progress", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    df = pd.read_parquet(tmp_path / "o" / "results.parquet")
    assert set(df["loss"]) == {"softmax_l2", "kl"} and set(df["student"]) == {"diag"} and len(df) == 4
    assert set(df["sampler"]) == {"easiest"} and np.isfinite(df["gap"]).all()
    assert df["locality"].gt(0).all()  # 30 of 120 documents: a local (if easy) pool
    assert {"softmax_l2", "kl"} <= {line.split()[0] for line in proc.stdout.splitlines() if line.strip()}
    (tmp_path / "bad.toml").write_text(config.replace('kind = "easiest"', 'kind = "easyest"'))
    bad = simrank_script("run", "bad.toml", "--plugin", "my_plugin", "--out", "b", cwd=tmp_path)  # module name form
    assert (
        bad.returncode == 2 and "'easyest' is not allowed" in bad.stderr and "easiest" in bad.stderr.split("choose")[1]
    )


def test_plugin_errors_are_one_line(tmp_path):
    for plugin, needle in (("no_such_plugin_module", "no module named"), ("missing.py", "file not found")):
        proc = simrank_script("run", "bias-sweep", "--dry-run", "--plugin", plugin, cwd=tmp_path)
        assert proc.returncode == 2 and needle in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_register_refuses_wrong_types_and_taken_names():
    from simrank import plugins
    from simrank.errors import ConfigError
    from simrank.losses import LOSS_SPECS, LOSSES, kl_distill

    with pytest.raises(ConfigError, match="needs a LossSpec, got function"):
        plugins.register("loss", "x", kl_distill)
    with pytest.raises(ConfigError, match="kind = 'metric' is not allowed"):
        plugins.register("metric", "x", kl_distill)
    with pytest.raises(ConfigError, match="loss 'kl' is already registered"):
        plugins.register_loss("kl", kl_distill)
    try:
        spec = simrank.register_loss("kl_copy", kl_distill, floor=None)
        assert LOSS_SPECS["kl_copy"] is spec and LOSSES["kl_copy"] is kl_distill
        assert simrank.register_loss("kl_copy", kl_distill, replace=True) is LOSS_SPECS["kl_copy"]
    finally:
        LOSS_SPECS.pop("kl_copy", None)
        LOSSES.pop("kl_copy", None)


def test_entry_point_plugins_are_loaded(monkeypatch):
    from simrank import plugins

    class Point:
        name, value = "demo", "demo_module:setup"

        def load(self):
            return lambda: calls.append("called")

    calls = []
    monkeypatch.setattr(plugins, "entry_points", lambda group: [Point()] if group == plugins.ENTRY_POINT_GROUP else [])
    assert plugins.load_plugins() == ["demo = demo_module:setup"] and calls == ["called"]
