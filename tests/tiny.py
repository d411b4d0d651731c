"""Shared test helpers (imported by the tests, not a conftest): a tiny experiment config that runs in seconds, and the CLI command."""

import sys

SIMRANK = [sys.executable, "-m", "simrank"]


def tiny_config(name: str = "tiny", seeds: int = 2, steps: int = 40, losses: tuple[str, ...] = ("kl", "lce")) -> str:
    """TOML of a 2 localities × 2 τ × len(losses) grid on a 120-document world."""
    loss_list = ", ".join(f'"{loss}"' for loss in losses)
    return f"""
name = "{name}"
seeds = {seeds}
[world]
n_docs = 120
dim = 4
sphere = true
[sampler]
kind = "local"
pool_size = 120
[train]
steps = {steps}
[data]
group_size = 4
n_train = 64
n_queries = 16
n_test = 64
n_eval_queries = 8
kendall_docs = 16
[grid]
"sampler.pool_size" = [120, 10]
"teacher.tau" = [0.5, 2.0]
"loss.name" = [{loss_list}]
"""
