"""``--executor dask``: chunks computed on a Dask cluster give exactly the local executor's table."""

import subprocess
import sys

import pandas as pd
import pytest

from simrank.config import load_experiment
from simrank.runner import RUN_COLUMNS, plan
from simrank.sweep import run_experiment

distributed = pytest.importorskip("distributed")

CHUNK = 4

TINY = """
name = "tiny-dask"
seeds = 2
[world]
n_docs = 100
dim = 4
[teacher]
tau = 1.0
[sampler]
kind = "local"
pool_size = 100
[train]
steps = 30
[data]
group_size = 4
n_train = 32
n_queries = 8
n_test = 32
n_eval_queries = 4
kendall_docs = 8
[grid]
"sampler.pool_size" = [100, 10]
"loss.name" = ["kl", "ranknet_soft"]
"""


def test_dask_local_cluster_matches_local_executor(tmp_path):
    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    exp = load_experiment(str(config))
    assert len(plan(exp, CHUNK)) == 2  # two tasks on two workers: they may finish out of order
    local = run_experiment(exp, tmp_path / "local", progress=False, chunk_size=CHUNK)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        on_dask = run_experiment(
            exp, tmp_path / "dask", progress=False, executor="dask", address=cluster.scheduler_address, chunk_size=CHUNK
        )
    pd.testing.assert_frame_equal(on_dask.drop(columns=RUN_COLUMNS), local.drop(columns=RUN_COLUMNS), check_exact=True)
    assert len(list((tmp_path / "dask" / "parts").glob("*.parquet"))) == 2


def test_missing_dask_is_one_line_error(tmp_path):
    """With ``distributed`` unimportable the CLI prints one line naming the extra and exits 2."""
    code = (
        "import sys; sys.modules['distributed'] = None\n"
        "sys.argv = ['simrank', 'run', 'bias-sweep', '--quick', '--executor', 'dask', '--out', sys.argv[1]]\n"
        "from simrank.cli import main; main()"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["error: --executor dask needs Dask: pip install 'simrank[dask]'"]
