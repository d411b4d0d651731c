"""The per-loss chunk layout (one loss per chunk, one program per student) computes the same results table as the
old ``lax.switch`` layout, and the persistent compilation cache is on by default, off on request."""

import os
import subprocess
import sys

import jax
import numpy as np
import pandas as pd
import pytest

from simrank.config import load_experiment
from simrank.errors import ConfigError
from simrank.runner import COMPILE_CACHE_ENV, RUN_COLUMNS, chunk_losses, compile_cache_dir, plan, use_compile_cache
from simrank.sweep import run_experiment

from tiny import tiny_config

TINY = tiny_config("tiny-layout", seeds=2, losses=("kl", "lce", "ranknet_soft"))


def test_per_loss_layout_equals_switch_layout(tmp_path):
    """Same rows, same numbers to float32 rounding: the switch layout evaluates every loss and selects one,
    the per-loss layout evaluates only the selected one, so the trained models are the same maths; XLA may
    fuse the two programs differently (a few ulps per operation, amplified by 40 smooth optimiser steps far
    less than 1e3), hence rtol 1e-4 as in the reference-executor check."""
    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    exp = load_experiment(str(config))
    per_loss, switch = plan(exp), plan(exp, layout="switch")
    assert len(per_loss) == 3 and len(switch) == 1  # one chunk per loss, versus one chunk for all
    assert all(len({job.point.loss for job in jobs}) == 1 for jobs, _ in per_loss)  # a chunk holds one loss
    assert {chunk_losses(exp, jobs, "per_loss") for jobs, _ in per_loss} == {("kl", "lce", "ranknet_soft")}
    assert chunk_losses(exp, switch[0][0], "switch") == ("kl", "lce", "ranknet_soft")
    new = run_experiment(exp, tmp_path / "per_loss", progress=False)
    old = run_experiment(exp, tmp_path / "switch", progress=False, layout="switch")
    key = ["config", "seed"]
    new, old = (df.sort_values(key, ignore_index=True) for df in (new, old))
    assert len(new) == 2 * 2 * 3 * 2 and set(new["loss"]) == {"kl", "lce", "ranknet_soft"}
    floats = [c for c in new.columns if new[c].dtype.kind == "f"]
    others = [c for c in new.columns if c not in floats + RUN_COLUMNS]
    pd.testing.assert_frame_equal(new[others], old[others])
    np.testing.assert_allclose(new[floats].to_numpy(), old[floats].to_numpy(), rtol=1e-4, atol=1e-5)


def test_bad_layout_is_a_config_error(tmp_path):
    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    with pytest.raises(ConfigError, match="layout = 'rows'"):
        plan(load_experiment(str(config)), layout="rows")


def _cache_files(folder) -> int:
    return sum(len(files) for _, _, files in os.walk(folder))


@pytest.mark.parametrize("option", [None, "--no-compile-cache"])
def test_compile_cache_on_by_default_off_by_option(tmp_path, option):
    """A run fills $XDG_CACHE_HOME/simrank/jax unless --no-compile-cache."""
    config = tmp_path / "tiny.toml"
    config.write_text(tiny_config("tiny-cache", seeds=1, steps=5, losses=("kl",)))
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop(COMPILE_CACHE_ENV, None)
    args = [sys.executable, "-m", "simrank", "run", str(config), "--out", str(tmp_path / "out"), "--no-progress"]
    proc = subprocess.run(args + ([option] if option else []), capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    files = _cache_files(tmp_path / "cache" / "simrank" / "jax")
    assert files == 0 if option else files > 0


def test_compile_cache_variable_and_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv(COMPILE_CACHE_ENV, "0")
    assert use_compile_cache() is None and not jax.config.jax_enable_compilation_cache
    monkeypatch.delenv(COMPILE_CACHE_ENV)
    assert use_compile_cache() == tmp_path / "simrank" / "jax" == compile_cache_dir()
    assert jax.config.jax_enable_compilation_cache and jax.config.jax_compilation_cache_dir == str(
        tmp_path / "simrank" / "jax"
    )
    assert jax.config.jax_persistent_cache_min_compile_time_secs == 0  # small programs are cached too
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert compile_cache_dir() == tmp_path / "home" / ".cache" / "simrank" / "jax"


def test_bad_compile_cache_variable_is_one_line_exit_2(tmp_path):
    config = tmp_path / "tiny.toml"
    config.write_text(tiny_config("tiny-cache", seeds=1, steps=5, losses=("kl",)))
    env = {**os.environ, COMPILE_CACHE_ENV: "maybe"}
    proc = subprocess.run(
        [sys.executable, "-m", "simrank", "run", str(config), "--out", str(tmp_path / "out"), "--no-progress"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "error: SIMRANK_COMPILE_CACHE = 'maybe' is not allowed; use 0 (cache off) or 1 (on)"
    ]


def test_teacher_entropies_once_per_data_set_and_tau(tmp_path):
    """Every chunk of a data set reads the same cached teacher entropies: one entry per (data set, τ) however many
    losses share it, each equal to the measures' pairwise and listwise entropies of its training and test groups
    (float32 means of n_train values in [0, log k]: a few ulps of log k)."""
    from simrank.measures import listwise_entropy, pairwise_entropy
    from simrank.runner import chunk_inputs

    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    exp = load_experiment(str(config))
    cache: dict = {}
    chunks = [chunk_inputs(jobs, width, cache, chunk_losses(exp, jobs, "per_loss")) for jobs, width in plan(exp)]
    pairs = {(job.data_key(), job.point.tau) for jobs, _ in plan(exp) for job in jobs}
    entries = [key for key in cache if isinstance(key, tuple) and key[0] == "teacher_entropies"]
    assert len(chunks) == 3 and len(entries) == len(pairs)  # three losses' chunks, one entry per (data set, τ)
    first = np.asarray(chunks[0][2]["teacher_entropies"])
    for _, _, arrays, _ in chunks[1:]:
        np.testing.assert_array_equal(np.asarray(arrays["teacher_entropies"]), first)
    _, hyper, arrays, _ = chunks[0]
    k = arrays["train"].teacher_scores.shape[-1]
    for i, tau in enumerate(np.asarray(hyper["tau"])):
        expected = [
            float(np.mean(entropy(np.asarray(arrays[part].teacher_scores[i]), tau)))
            for part in ("train", "test")
            for entropy in (pairwise_entropy, listwise_entropy)
        ]
        np.testing.assert_allclose(first[i], expected, rtol=0, atol=8 * np.log(k) * np.finfo(np.float32).eps)
