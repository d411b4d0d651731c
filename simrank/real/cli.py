"""``simrank real``: ``confirm`` (train and measure students on a BEIR folder) and ``encode``."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import typer

real_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Real-data path (BEIR folders).")


@real_app.command()
def confirm(
    data: Path = typer.Option(None, help="BEIR folder with cached embeddings (default: $SIMRANK_DATA)"),
    out: Path = typer.Option(None, help="output folder (default: results/real-confirm[-quick])"),
    quick: bool = typer.Option(False, "--quick", help="the small grid (~1-2 min)"),
    full: bool = typer.Option(False, "--full", help="the full grid: every student (see docs for its time)"),
    seeds: int = typer.Option(None, help="override the number of seeds"),
    eval_data: list[Path] = typer.Option([], "--eval-data", help="another BEIR folder for zero-shot evaluation"),
) -> None:
    """Train the grid on DATA, write results.parquet, TREC runs, figure and report; print table and verdicts."""
    from simrank.errors import ConfigError, check_positive
    from simrank.paths import default_data_dir
    from simrank.real.confirm import GRIDS, run_confirm
    from simrank.real.report import confirm_figure, format_table, load_run, render_markdown, summary_table

    if quick and full:
        raise ConfigError("--quick and --full are not allowed together; choose one")
    name = "quick" if quick else "full" if full else "default"
    grid = GRIDS[name]
    if seeds is not None:
        check_positive("--seeds", seeds)
        grid = replace(grid, seeds=seeds)
    data = Path(data) if data is not None else default_data_dir()
    out = (
        Path(out) if out is not None else Path("results") / ("real-confirm" + ("" if name == "default" else f"-{name}"))
    )
    run_confirm(data, out, grid, progress=typer.echo, eval_dirs=tuple(eval_data), cpu=f"{os.cpu_count()} CPU cores")
    results, _, baselines, meta = load_run(out)
    typer.echo(format_table(summary_table(results)))
    figure = confirm_figure(results, baselines, out / "figure")
    report = render_markdown(out)
    (out / "report.md").write_text(report)
    typer.echo("\n" + report)
    typer.echo(
        f"{meta['n_models']} models in {meta['timings']['total_s']:.1f} s -> {out / 'results.parquet'}; figure {figure[0]}"
    )


@real_app.command()
def encode(
    data: Path = typer.Option(None, help="BEIR folder (default: $SIMRANK_DATA)"),
    batch_size: int = typer.Option(64, help="encoder batch size"),
    device: str = typer.Option(None, help="torch device (default: automatic)"),
) -> None:
    """Compute embeddings-all-MiniLM-L6-v2.npz for DATA (needs the `encode` extra)."""
    from simrank.errors import ConfigError
    from simrank.real.encode import encode_collection

    try:
        path = encode_collection(data, batch_size=batch_size, device=device)
    except ImportError as err:  # the optional encoder is not installed: one line, exit 2
        raise ConfigError(str(err)) from None
    typer.echo(f"wrote {path}")


@real_app.command()
def report(
    out: Path = typer.Option(Path("results/real-confirm"), help="folder of a finished confirm run"),
    paper: Path = typer.Option(None, help="also write the Markdown section here (e.g. paper/real.md)"),
) -> None:
    """Re-render the report (Markdown) of a finished confirm run from its results files."""
    from simrank.real.report import render_markdown

    text = render_markdown(out)
    if paper is not None:
        paper.write_text(render_markdown(out, heading="#"))
    typer.echo(text)
