"""Run an experiment grid and write the results table durably.

:func:`simrank.runner.plan` cuts the grid into chunks of models trained in one vmapped call; an
executor (:mod:`simrank.executors`) computes the chunks; each finished chunk is written durably
(``parts/*.parquet``, temp file then rename) so an interrupted sweep resumes where it stopped, and
``results.parquet`` lists the chunks in plan order.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from simrank.config import Experiment
from simrank.errors import check_choice
from simrank.executors import EXECUTORS, make_executor
from simrank.runner import CHUNK_SIZE, PART_COLUMNS, RESULT_COLUMNS, Job, per_query_table, plan, use_compile_cache

__all__ = ["RESULT_COLUMNS", "SweepInterrupted", "run_experiment"]


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`run_experiment`: ``saved`` of the ``total`` chunks are written in ``parts_dir``
    (a run with ``resume=True`` keeps them). Still a :class:`KeyboardInterrupt` for callers that catch that."""

    def __init__(self, saved: int, total: int, parts_dir: Path) -> None:
        super().__init__(f"{saved} of {total} parts saved in {parts_dir}")
        self.saved, self.total, self.parts_dir = saved, total, parts_dir


def _chunk_id(jobs: list[Job]) -> str:
    payload = json.dumps([[j.point.json(), j.seed] for j in jobs])
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _write_atomic(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    df.to_parquet(tmp, index=False)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _read_part(path: Path, jobs: list[Job]) -> pd.DataFrame | None:
    """The finished part of ``jobs``, or None if it is missing, unreadable (truncated, corrupted) or
    does not hold exactly one row per job with the expected columns: such a part is recomputed."""
    try:
        df = pd.read_parquet(path)
    except Exception:  # noqa: BLE001 - any unreadable file means: recompute
        return None
    expected = [(j.point.json(), j.seed) for j in jobs]
    if list(df.columns) != PART_COLUMNS or list(zip(df["config"], df["seed"])) != expected:
        return None
    return df


def run_experiment(
    exp: Experiment,
    out: Path,
    resume: bool = False,
    progress: bool = True,
    *,
    executor: str = "local",
    address: str | None = None,
    chunk_size: int | None = None,
    compile_cache: bool | None = None,
    layout: str = "per_loss",
) -> pd.DataFrame:
    """Run every chunk (skipping finished parts when ``resume``) and write ``results.parquet`` and, beside it,
    ``per_query.parquet`` (:func:`simrank.runner.per_query_table`: one row per model × evaluation query).

    ``executor``: ``"local"`` (this process, ``chunk_size`` models per vmapped call), ``"reference"``
    (this process, one call per grid point and seed: the same maths without batching, for benchmarks
    and checks) or ``"dask"`` (chunks on a Dask cluster at ``address``, a local one if None).  Each
    finished chunk is written to ``parts/`` as soon as it arrives; the table lists chunks in plan order
    whichever executor computed them, so every executor and every resume gives the same table.

    ``compile_cache``: JAX's persistent compilation cache on/off (None: on unless
    ``SIMRANK_COMPILE_CACHE=0``; see :func:`simrank.runner.use_compile_cache`).  ``layout``: how chunks are
    formed (:data:`simrank.runner.LAYOUTS`); ``"switch"`` is the old layout, kept for benchmarks and checks.

    Raises:
      SweepInterrupted: on Ctrl-C, after the parts finished so far are written.
    """
    check_choice("executor", executor, EXECUTORS)
    if executor == "reference":
        chunk_size = 1
    parts_dir = Path(out) / "parts"
    parts_dir.mkdir(parents=True, exist_ok=True)
    for leftover in parts_dir.glob("*.tmp*"):  # half-written parts of a killed run: never read, so remove
        leftover.unlink()
    chunks = plan(exp, CHUNK_SIZE if chunk_size is None else chunk_size, layout)
    use_compile_cache(compile_cache)
    paths = [parts_dir / f"{_chunk_id(jobs)}.parquet" for jobs, _ in chunks]
    frames: dict[int, pd.DataFrame] = {}
    if resume:
        for i, ((jobs, _), path) in enumerate(zip(chunks, paths)):
            df = _read_part(path, jobs)
            if df is not None:
                frames[i] = df
    todo = [(i, *chunks[i]) for i in range(len(chunks)) if i not in frames]
    try:
        with make_executor(executor, address, layout, compile_cache) as pool:
            bar = tqdm(total=len(chunks), initial=len(frames), desc=exp.name, unit="chunk", disable=not progress)
            try:
                for i, df in pool.map_chunks(exp, todo):
                    _write_atomic(df, paths[i])
                    frames[i] = df
                    bar.update()
            finally:
                bar.close()
    except KeyboardInterrupt:
        raise SweepInterrupted(len(frames), len(chunks), parts_dir) from None
    parts = pd.concat([frames[i] for i in range(len(chunks))], ignore_index=True)
    _write_atomic(per_query_table(parts), Path(out) / "per_query.parquet")
    results = parts[RESULT_COLUMNS]
    _write_atomic(results, Path(out) / "results.parquet")
    return results
