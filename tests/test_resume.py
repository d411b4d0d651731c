"""Never lose finished work: a SIGKILLed sweep resumes from its durable parts, damaged parts are
recomputed rather than read, and the resumed table equals an uninterrupted run's."""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from simrank.config import load_experiment
from simrank.errors import ConfigError
from simrank.runner import RUN_COLUMNS, plan
from simrank.sweep import run_experiment

from tiny import SIMRANK, tiny_config

CHUNK = 2  # models per chunk: 8 chunks, so a kill lands between parts

TINY = tiny_config("tiny-resume", steps=60)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The config, and the table of one uninterrupted run with the same chunking."""
    root = tmp_path_factory.mktemp("resume")
    config = root / "tiny.toml"
    config.write_text(TINY)
    exp = load_experiment(str(config))
    reference = run_experiment(exp, root / "uninterrupted", progress=False, chunk_size=CHUNK)
    reference.attrs["out"] = str(root / "uninterrupted")
    return config, exp, reference


def _parts(out: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in (out / "parts").glob("*.parquet")}


def test_sigkill_mid_sweep_then_resume_equals_uninterrupted(tiny, tmp_path):
    config, exp, reference = tiny
    n_chunks = len(plan(exp, CHUNK))
    out = tmp_path / "killed"
    cmd = [*SIMRANK, "run", str(config), "--out", str(out), "--no-progress", "--chunk-size", str(CHUNK)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (out / "parts").exists() or not _parts(out):
        assert proc.poll() is None, f"the sweep ended before writing a part: {proc.stderr.read()}"
        assert time.monotonic() < deadline, "no part written within 120 s"
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    survived = _parts(out)
    assert 1 <= len(survived) < n_chunks and not (out / "results.parquet").exists()

    done = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    after = _parts(out)
    assert len(after) == n_chunks
    assert all(after[name] == mtime for name, mtime in survived.items())  # finished parts were kept, not redone
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "results.parquet").drop(columns=RUN_COLUMNS), reference.drop(columns=RUN_COLUMNS)
    )


def test_damaged_parts_are_recomputed_not_read(tiny, tmp_path):
    _, exp, reference = tiny
    clean = Path(reference.attrs["out"])
    out = tmp_path / "run"
    shutil.copytree(clean, out)
    truncated, garbage, misplaced, donor = sorted((out / "parts").glob("*.parquet"))[:4]
    data = truncated.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])  # a write cut short
    garbage.write_bytes(b"PAR1 this is not parquet")
    misplaced.write_bytes(donor.read_bytes())  # readable, but the rows of another chunk
    leftover = out / "parts" / f"{truncated.stem}.tmp12345"  # a temp file whose rename never happened
    leftover.write_bytes(b"half a parquet file")
    before = _parts(out)
    resumed = run_experiment(exp, out, resume=True, progress=False, chunk_size=CHUNK)
    after = _parts(out)
    assert {name for name in after if after[name] != before[name]} == {truncated.name, garbage.name, misplaced.name}
    assert not leftover.exists()
    for part in (truncated, garbage, misplaced):
        recomputed, original = (
            pd.read_parquet(p).drop(columns=RUN_COLUMNS) for p in (part, clean / "parts" / part.name)
        )
        pd.testing.assert_frame_equal(recomputed, original)
    pd.testing.assert_frame_equal(resumed.drop(columns=RUN_COLUMNS), reference.drop(columns=RUN_COLUMNS))


def test_bad_chunk_size_and_executor_are_one_line_errors(tiny, tmp_path):
    _, exp, _ = tiny
    with pytest.raises(ConfigError, match="chunk_size"):
        run_experiment(exp, tmp_path, progress=False, chunk_size=0)
    with pytest.raises(ConfigError, match="executor"):
        run_experiment(exp, tmp_path, progress=False, executor="spark")
    with pytest.raises(ConfigError, match="only allowed with --executor dask"):
        run_experiment(exp, tmp_path, progress=False, address="tcp://nowhere:8786")
