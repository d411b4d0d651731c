"""``simrank real semi`` and ``simrank real semi-report``: the semi-synthetic arm (:mod:`simrank.real.semisynthetic`)."""

from __future__ import annotations

from pathlib import Path

import typer

from simrank.paths import EMBEDDINGS_FILE

__all__ = ["semi", "semi_report"]


def semi(
    data: Path = typer.Option(
        None, help="BEIR folder with train and test qrels and cached embeddings (default: $SIMRANK_DATA)"
    ),
    out: Path = typer.Option(None, help="output folder (default: results/real-semi[-quick])"),
    config: Path = typer.Option(None, help="design TOML (default: experiments/real-semi.toml)"),
    quick: bool = typer.Option(False, "--quick", help="apply the config's [quick] table (smoke run)"),
    embeddings: str = typer.Option(EMBEDDINGS_FILE, help="the vectors' file in the data folder"),
) -> None:
    """Train and measure the semi-synthetic arm on DATA (teacher (1 − γ) z(qᵀM*x) + γ z(BM25)); write results and
    report.md."""
    from simrank.paths import data_folder
    from simrank.real.semisynthetic import load_semi_config, render_semi, run_semi

    cfg = load_semi_config(config, quick=quick)
    out = Path(out) if out is not None else Path("results") / ("real-semi-quick" if quick else "real-semi")
    _, meta = run_semi(data_folder(data), out, cfg, progress=typer.echo, embeddings_file=embeddings)
    report = render_semi(out)
    (out / "report.md").write_text(report)
    typer.echo("\n" + report)
    typer.echo(f"{meta['n_models']} models in {meta['timings']['total_s']:.1f} s -> {out / 'results.parquet'}")


def semi_report(
    out: Path = typer.Option(Path("results/real-semi"), help="folder of a finished semi run"),
    paper: Path = typer.Option(None, help="also rewrite the generated blocks of this file (e.g. paper/real-semi.md)"),
) -> None:
    """Re-render report.md of a finished semi run (and the generated blocks of --paper) from its files."""
    from simrank.errors import ConfigError
    from simrank.predictions.paper import render
    from simrank.real.semisynthetic import render_semi, semi_blocks

    if not (Path(out) / "results.parquet").is_file():
        raise ConfigError(f"--out {out}: no results.parquet; run `simrank real semi` first")
    generated = semi_blocks(out)
    text = render_semi(out, generated)
    (Path(out) / "report.md").write_text(text)
    if paper is not None:
        old = Path(paper).read_text()
        new = render(old, generated)
        Path(paper).write_text(new)
        typer.echo(f"{paper}: {'updated' if new != old else 'already up to date'}")
    typer.echo(text)
