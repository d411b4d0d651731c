"""Where the chunks of a sweep run: in this process, or on a Dask cluster.

An executor is a context manager with ``map_chunks(exp, todo)`` taking ``todo = [(index, jobs, width),
...]`` (chunks of :func:`simrank.runner.plan`) and yielding ``(index, rows)`` as each chunk finishes, in
any order; :func:`simrank.sweep.run_experiment` writes every part as it arrives and assembles the table
in plan order.  Every executor calls the same :func:`simrank.runner.run_chunk`, so results agree.

Every executor takes the chunk ``layout`` (:data:`simrank.runner.LAYOUTS`) the chunks were planned with.

* ``local``: chunks one after the other in this process (one compilation per group of chunks).
* ``reference``: the same, but the sweep plans width-1 chunks (one call per grid point and seed).
* ``dask``: chunks as tasks on a Dask cluster (``address`` of a running scheduler, or a
  ``distributed.LocalCluster`` on this machine); each worker process keeps its own compiled runners
  and data cache, and uses the persistent compilation cache as the sweep asks
  (:func:`simrank.runner.use_compile_cache`).  Needs the optional extra ``simrank[dask]``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from simrank.config import Experiment
from simrank.errors import ConfigError
from simrank.runner import run_chunk, use_compile_cache

__all__ = [
    "EXECUTORS",
    "DaskExecutor",
    "LocalExecutor",
    "make_executor",
]

EXECUTORS = ("local", "reference", "dask")

#: Compiled runners and built data of the worker process (Dask tasks in one process share them).
_WORKER_RUNNERS: dict = {}
_WORKER_DATA: dict = {}


class LocalExecutor:
    """Run chunks sequentially in this process, reusing compiled runners and built data across chunks."""

    def __init__(self, layout: str = "per_loss"):
        self.layout = layout
        self.runners: dict = {}
        self.data_cache: dict = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def map_chunks(self, exp: Experiment, todo: list) -> Iterator[tuple[int, pd.DataFrame]]:
        for index, jobs, width in todo:
            yield index, run_chunk(exp, jobs, width, self.runners, self.data_cache, self.layout)


def _run_on_worker(exp: Experiment, jobs: list, width: int, layout: str, compile_cache: bool | None) -> pd.DataFrame:
    use_compile_cache(compile_cache)
    return run_chunk(exp, jobs, width, _WORKER_RUNNERS, _WORKER_DATA, layout)


class DaskExecutor:
    """Submit every chunk to a Dask cluster and yield results as they complete.

    ``address``: a running scheduler (``tcp://host:8786``, ``inproc://...``); None starts a
    ``distributed.LocalCluster`` for the duration of the sweep.  ``compile_cache``: as
    :func:`simrank.runner.use_compile_cache` (None: the workers' ``SIMRANK_COMPILE_CACHE``).
    """

    def __init__(self, address: str | None = None, layout: str = "per_loss", compile_cache: bool | None = None):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ConfigError("--executor dask needs Dask: pip install 'simrank[dask]'") from None
        self.layout, self.compile_cache = layout, compile_cache
        self._cluster = LocalCluster() if address is None else None
        self.client = Client(address if address is not None else self._cluster)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()
        return False

    def map_chunks(self, exp: Experiment, todo: list) -> Iterator[tuple[int, pd.DataFrame]]:
        from distributed import as_completed

        exp_future = self.client.scatter(exp, broadcast=True)
        futures = {
            self.client.submit(
                _run_on_worker, exp_future, jobs, width, self.layout, self.compile_cache, pure=False
            ): index
            for index, jobs, width in todo
        }
        for future in as_completed(futures):
            yield futures[future], future.result()


def make_executor(
    kind: str, address: str | None = None, layout: str = "per_loss", compile_cache: bool | None = None
) -> LocalExecutor | DaskExecutor:
    """The executor named ``kind`` (one of :data:`EXECUTORS`) for chunks planned in ``layout``;
    ``address`` and ``compile_cache`` (the workers' setting) only apply to ``dask``."""
    if address is not None and kind != "dask":
        raise ConfigError(f"--address = {address!r} is only allowed with --executor dask (got --executor {kind})")
    return DaskExecutor(address, layout, compile_cache) if kind == "dask" else LocalExecutor(layout)
