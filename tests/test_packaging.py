"""A non-editable ``pip install .`` into a fresh virtual environment works from any directory: the experiment
configs ship as package data, ``simrank list`` and a quick bias sweep run, and so does the README's library example."""

import subprocess
import venv
from pathlib import Path

import pytest

from test_readme import library_example

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_non_editable_install_runs_from_any_directory(tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python, simrank = env_dir / "bin" / "python", env_dir / "bin" / "simrank"
    # a copy of the tracked tree, so no build artefacts or editable metadata of this checkout leak in
    src = tmp_path / "src"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(src)], check=True, capture_output=True)
    try:
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", str(src)], check=True, capture_output=True, timeout=900
        )
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(src)], capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    listed = subprocess.run([str(simrank), "list"], cwd=elsewhere, capture_output=True, text=True, check=True)
    assert "bias-sweep" in listed.stdout and "p04-hard-negatives" in listed.stdout
    quick = subprocess.run(
        [str(simrank), "run", "bias-sweep", "--quick", "--no-progress", "--out", "q"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert quick.returncode == 0, quick.stderr[-2000:]
    assert (elsewhere / "q" / "results.parquet").exists()
    (elsewhere / "example.py").write_text(library_example())
    example = subprocess.run([str(python), "example.py"], cwd=elsewhere, capture_output=True, text=True, timeout=600)
    assert example.returncode == 0, example.stderr[-2000:]
    assert "nDCG@10" in example.stdout
