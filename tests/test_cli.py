"""The command line's contract, through the installed console script: exit status 0 / 1 / 2 / 130, one-line
usage errors without a traceback, ``-h`` and ``--version``, Ctrl-C that says how to resume, lazy start-up."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import typer

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
