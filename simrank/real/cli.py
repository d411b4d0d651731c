"""``simrank real``: ``confirm`` (train and measure students on a BEIR folder) and ``encode``."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import typer

from simrank.paths import EMBEDDINGS_FILE
from simrank.real.semi_cli import semi, semi_report

__all__ = [
    "confirm",
    "encode",
    "real_app",
    "report",
]

real_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Real-data path (BEIR folders).")
real_app.command("semi")(semi)
real_app.command("semi-report")(semi_report)


@real_app.command()
def confirm(
    data: Path = typer.Option(
        None, help="BEIR folder with train and test qrels and cached embeddings (default: $SIMRANK_DATA)"
    ),
    out: Path = typer.Option(None, help="output folder (default: results/real-confirm[-quick])"),
    config: Path = typer.Option(None, help="design TOML (default: experiments/real-confirm.toml)"),
    quick: bool = typer.Option(False, "--quick", help="apply the config's [quick] table (smoke run, < 2 min)"),
    seeds: int = typer.Option(None, help="override the number of seeds"),
    queries: str = typer.Option(
        None, help="training-query sources of the teacher-labelled arms, comma-separated: train,unlabeled,titles"
    ),
    eval_data: list[Path] = typer.Option(
        [], "--eval-data", help="another BEIR folder for zero-shot evaluation (repeatable)"
    ),
    embeddings: str = typer.Option(
        EMBEDDINGS_FILE, help="the vectors' file in each data folder (any encoder, see `simrank real encode`)"
    ),
) -> None:
    """Tune, train and measure the design on DATA; write results, tuning and baseline tables, per_query.parquet,
    figures and report.md.  Compiled programs are kept in JAX's persistent compilation cache (a second run compiles
    nothing; ``SIMRANK_COMPILE_CACHE=0`` turns it off)."""
    from simrank.errors import check_positive
    from simrank.paths import data_folder
    from simrank.real.confirm.design import load_real_config
    from simrank.real.confirm.report import redraw, render_markdown
    from simrank.real.confirm.run import run_confirm
    from simrank.runner import use_compile_cache

    if seeds is not None:
        check_positive("--seeds", seeds)
    use_compile_cache()
    cfg = load_real_config(config, quick=quick, seeds=seeds)
    if queries is not None:
        cfg = replace(cfg, query_sources=tuple(q.strip() for q in queries.split(",") if q.strip()))
    data = data_folder(data)
    out = Path(out) if out is not None else Path("results") / ("real-confirm-quick" if quick else "real-confirm")
    _, meta = run_confirm(
        data,
        out,
        cfg,
        progress=typer.echo,
        eval_dirs=tuple(eval_data),
        cpu=f"{os.cpu_count()} CPU cores",
        embeddings_file=embeddings,
    )
    redraw(out)  # the figures and per_query.parquet
    report = render_markdown(out)
    (out / "report.md").write_text(report)
    typer.echo("\n" + report)
    typer.echo(
        f"{meta['n_models']} models in {meta['timings']['total_s']:.1f} s -> {out / 'results.parquet'}, {out / 'report.md'}"
    )


@real_app.command()
def encode(
    data: Path = typer.Option(None, help="BEIR folder (default: $SIMRANK_DATA)"),
    batch_size: int = typer.Option(64, help="encoder batch size"),
    device: str = typer.Option(None, help="torch device (default: automatic)"),
) -> None:
    """Compute embeddings-all-MiniLM-L6-v2.npz for DATA (needs the `encode` extra)."""
    from simrank.errors import ConfigError
    from simrank.paths import data_folder
    from simrank.real.data.encode import encode_collection

    try:
        path = encode_collection(data_folder(data), batch_size=batch_size, device=device)
    except ImportError as err:  # the optional encoder is not installed: one line, exit 2
        raise ConfigError(str(err)) from None
    typer.echo(f"wrote {path}")


@real_app.command()
def report(
    out: Path = typer.Option(Path("results/real-confirm"), help="folder of a finished confirm run"),
    paper: Path = typer.Option(
        None, help="also rewrite this file's generated blocks from the committed runs (paper/real.md: PAPER_RUNS)"
    ),
) -> None:
    """Re-render report.md, the figures and per_query.parquet of a finished confirm run (and the generated blocks of
    --paper) from its files."""
    from simrank.predictions.paper import render
    from simrank.real.confirm.report import blocks, paper_blocks, redraw, render_markdown

    redraw(out)
    generated = blocks(out)
    text = render_markdown(out, generated=generated)
    (Path(out) / "report.md").write_text(text)
    if paper is not None:  # paper/real.md holds the blocks of both committed runs (report.PAPER_RUNS)
        old = Path(paper).read_text()
        new = render(old, paper_blocks())
        Path(paper).write_text(new)
        typer.echo(f"{paper}: {'updated' if new != old else 'already up to date'}")
    typer.echo(text)
