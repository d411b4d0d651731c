"""The ``simrank`` command line: ``simrank run NAME|FILE.toml``, ``simrank list``.

Bad input prints one line naming the bad value and what is allowed, and exits with status 2.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import typer

from simrank.bench import bench_cmd
from simrank.errors import ConfigError
from simrank.predictions.paper import figures_cmd, paper_cmd, robustness_cmd
from simrank.real.advise_cli import advise_app
from simrank.real.cli import real_app
from simrank.theory.check import theory_app

__all__ = [
    "app",
    "list_cmd",
    "main",
    "run",
    "summary_table",
]

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Theory of ranking distillation, checked by code.")


@app.command("list")
def list_cmd() -> None:
    """List the named experiments in experiments/."""
    from simrank.config import list_experiments

    for name, description in list_experiments():
        typer.echo(f"{name:28s} {description}")


@app.command()
def run(
    experiment: str = typer.Argument(..., help="experiment name (see `simrank list`) or a path to a .toml config"),
    out: Path = typer.Option(None, help="output folder (default: results/NAME)"),
    quick: bool = typer.Option(False, "--quick", help="apply the config's \\[quick] overrides (smoke run)"),
    seeds: int = typer.Option(None, help="override the number of seeds"),
    resume: bool = typer.Option(False, "--resume", help="keep finished chunks of an interrupted run"),
    progress: bool = typer.Option(True, help="show a progress bar"),
    executor: str = typer.Option("local", help="where chunks run: local | dask | reference (one call per model)"),
    address: str = typer.Option(None, help="Dask scheduler address (default with --executor dask: a LocalCluster)"),
    chunk_size: int = typer.Option(None, help="models per vmapped call (default 128); small chunks = finer resume"),
    dry_run: bool = typer.Option(False, "--dry-run", help="validate the config, print the plan, train nothing"),
    no_compile_cache: bool = typer.Option(
        False,
        "--no-compile-cache",
        help="do not use JAX's persistent compilation cache (~/.cache/simrank/jax; also SIMRANK_COMPILE_CACHE=0)",
    ),
) -> None:
    """Run an experiment grid and write results.parquet, the resolved config and its figure."""
    from simrank.config import load_experiment
    from simrank.figures import bias_sweep_figure
    from simrank.sweep import run_experiment

    exp = load_experiment(experiment, quick=quick, seeds=seeds)
    if dry_run:
        n_points = len(exp.points())
        typer.echo(
            f"{exp.name}: {n_points} grid points x {exp.seeds} seeds = {n_points * exp.seeds} models (config valid)"
        )
        return
    out = Path(out) if out is not None else Path("results") / (exp.name + ("-quick" if quick else ""))
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(exp.resolved(), indent=2, sort_keys=True, default=list) + "\n")
    (out / "config.toml").write_text(exp.source)
    start = time.perf_counter()
    results = run_experiment(
        exp,
        out,
        resume=resume,
        progress=progress,
        executor=executor,
        address=address,
        chunk_size=chunk_size,
        compile_cache=False if no_compile_cache else None,
    )
    elapsed = time.perf_counter() - start
    figure = bias_sweep_figure(results, out / "figure")
    typer.echo(summary_table(results).to_string(index=False))
    typer.echo(f"\n{len(results)} rows in {elapsed:.1f} s -> {out / 'results.parquet'}; figure {figure[0]}")


app.command("figures")(figures_cmd)
app.command("paper")(paper_cmd)
app.command("robustness")(robustness_cmd)
app.add_typer(real_app, name="real")
app.add_typer(theory_app, name="theory")
app.add_typer(advise_app, name="advise")
app.command("bench")(bench_cmd)


def summary_table(results):
    """Gap and nDCG@10 (mean and 95% CI over seeds and the remaining axes) per varying grid factor."""
    from simrank.stats import summarise

    factors = [c for c in ("loss", "student", "sampler", "pool_size", "beta") if results[c].nunique(dropna=False) > 1]
    factors = factors or ["loss"]
    table = summarise(results, factors, "gap").merge(summarise(results, factors, "ndcg10"), on=[*factors, "n"])
    return table[[*factors, "n", "gap_mean", "gap_low", "gap_high", "ndcg10_mean", "ndcg10_low", "ndcg10_high"]].round(
        4
    )


def main() -> None:
    """Entry point: run the app, turning bad input into one line on stderr and exit status 2."""
    try:
        app(standalone_mode=False)
    except ConfigError as err:
        typer.echo(f"error: {err}", err=True)
        sys.exit(2)
    except (FileNotFoundError, NotADirectoryError, PermissionError) as err:
        typer.echo(f"error: {err.strerror}: {err.filename}", err=True)
        sys.exit(2)
    except Exception as err:  # click usage errors carry their own exit code
        import click

        if isinstance(err, click.exceptions.ClickException):
            err.show()
            sys.exit(err.exit_code)
        if isinstance(err, click.exceptions.Abort):
            typer.echo("aborted", err=True)
            sys.exit(130)
        raise
