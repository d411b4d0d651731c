"""``simrank theory check``: every statement T1-T6 as a row (name, what was compared, value, holds/fails).

The rows, their negative controls and the generated blocks of ``paper/theory.md`` are :mod:`simrank.theory.rows`;
this module holds the command and imports only typer and the standard library at module level, so that
``simrank --help`` does not load JAX.

``--json FILE`` writes ``[{"statement", "compared", "value", "holds", "detail"}, …]``; ``--paper FILE`` runs the
full Monte Carlo (200 T3 training sets; the lower bound up to D = 40,000 cells), regenerates the blocks between
``<!-- T3-NUMBERS -->``, ``<!-- T3-FLOOR -->`` (the largest gap over the ball), ``<!-- T3-LOWER -->`` and
``<!-- P8-ETA -->`` (η* from Theorem 3L against the committed P8 results; each block closed by ``<!-- /NAME -->``)
and draws ``figures/t3-lower``. Each row is printed as soon as it is judged, with the seconds since the start.
The exit status is 1 if any row fails.

``simrank theory eta-star`` runs the two registered tests of the rule ``η*(n)`` (:mod:`simrank.theory.eta_star`),
writes their tables under ``--out`` and, with ``--paper``, the ``<!-- T7-ETA-STAR -->`` block.

``simrank theory tightness`` simulates how tight Theorem 3L can be (:mod:`simrank.theory.tightness`), writes the
per-set table and scalars under ``--out`` and, with ``--paper``, the ``<!-- T3-TIGHTNESS -->`` block.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from simrank.errors import ConfigError

__all__ = ["check_cmd", "theory_app"]

theory_app = typer.Typer(add_completion=False, no_args_is_help=True, help="The theorems T1-T6 checked by code.")


@theory_app.command("check")
def check_cmd(
    json_file: Path = typer.Option(None, "--json", help="write the rows as a JSON list to this file"),
    paper: Path = typer.Option(
        None,
        "--paper",
        help="full runs (200 T3 training sets, lower bound up to D = 40,000, P8's η*): regenerate the T3, "
        "lower-bound and P8 blocks of this markdown file and the figure figures/t3-lower",
    ),
    quick: bool = typer.Option(False, "--quick", help="exact checks only (no Monte Carlo)"),
) -> None:
    """Run every check of T1-T6 and print one row per statement as it is judged; exit 1 if any fails."""
    if paper is not None and not paper.is_file():
        raise ConfigError(f"--paper {paper} is not a file")
    from simrank.paths import FIGURES_DIR
    from simrank.theory import monte_carlo as MC
    from simrank.theory import rows as R

    full = paper is not None and not quick
    config = MC.T3Config() if full else MC.T3Config(n_sets=20, chunk=20)
    start = time.perf_counter()
    typer.echo(f"{'time':>7s}  {'statement':14s} {'compared':62s} {'value':>10s}  result")

    def show(row) -> None:
        typer.echo(
            f"{time.perf_counter() - start:6.1f}s  {row.statement:14s} {row.compared[:62]:62s} {row.value:10.3g}  "
            f"{'holds' if row.holds else 'FAILS'}  ({row.detail})"
        )

    rows, results = R.run_checks(
        config, monte_carlo=not quick, lower=R.LOWER_BOUND_PAPER if full else R.LOWER_BOUND_CHECK, on_row=show
    )
    if json_file is not None:
        json_file.write_text(json.dumps([r.as_dict() for r in rows], indent=2, ensure_ascii=False) + "\n")
    if full:
        assert results is not None, "a full run (not --quick) includes the Monte Carlo"
        blocks, localised = R.paper_blocks(config, results)
        for marker, block in blocks.items():
            R.update_paper(paper, block, marker, R.MARKERS[marker])
        MC.lower_bound_figure(results["lower"], localised, FIGURES_DIR / "t3-lower")
        typer.echo(f"T3 numbers written to {paper}, figure to {FIGURES_DIR / 't3-lower'}.png/.pdf/.txt")
    failed = [r.statement for r in rows if not r.holds]
    typer.echo(f"{len(rows) - len(failed)}/{len(rows)} rows hold" + (f"; FAILS: {', '.join(failed)}" if failed else ""))
    if failed:
        raise typer.Exit(1)


@theory_app.command("excess")
def excess_cmd(
    out: Path = typer.Option(
        Path("results") / "theory" / "excess.parquet",
        "--out",
        help="where to write the table (under the working directory)",
    ),
    paper: Path = typer.Option(None, "--paper", help="regenerate the T7-EXCESS block of this markdown file"),
) -> None:
    """Validate the excess prediction (Theorem 7) against trained students in the validation worlds: write the
    predicted-vs-measured table (parquet) and, with --paper, theory.md's generated block; exit 1 if a cell misses."""
    from simrank.theory import prediction as PR
    from simrank.theory import rows as R

    if paper is not None and not paper.is_file():
        raise ConfigError(f"--paper {paper} is not a file")
    table = PR.validation_table(progress=lambda r: typer.echo(f"{r['world']:15s} η = {r['eta']:<4g} n = {r['n']:<5d} "
                                f"predicted {r['predicted']:.4g} measured {r['measured']:.4g} ± {r['se']:.2g}"))  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_parquet(out)
    block = PR.excess_paper_block(table)
    typer.echo(block)
    if paper is not None:
        R.update_paper(paper, block, R.EXCESS_START, R.EXCESS_END)
    if not (table["rel_error"].abs() <= PR.EXCESS_RTOL + 3 * table["se"] / table["measured"]).all():
        raise typer.Exit(1)


@theory_app.command("eta-star")
def eta_star_cmd(
    out: Path = typer.Option(
        Path("results") / "theory",
        "--out",
        help="folder of the tables eta-star-moves.parquet and eta-star-zero.parquet (under the working directory)",
    ),
    paper: Path = typer.Option(None, "--paper", help="regenerate the T7-ETA-STAR block of this markdown file"),
) -> None:
    """Run the registered tests of the rule η*(n) (theory.md §10(e): η*(n) moves with n; η* = 0): write both tables
    and, with --paper, theory.md's generated block; exit 1 if a row fails or a control is not detected."""
    if paper is not None and not paper.is_file():
        raise ConfigError(f"--paper {paper} is not a file")
    from simrank.theory import eta_star as ES
    from simrank.theory import rows as R

    start = time.perf_counter()
    tables = {}

    def show(row: dict) -> None:
        typer.echo(f"{time.perf_counter() - start:7.1f}s  n = {row['n']:<5d} η = {row['eta']:<4g} predicted "
                   f"{row['predicted']:.4g} measured {row['measured']:.4g} ± {row['se']:.2g}")  # fmt: skip

    for design in (ES.ETA_MOVES, ES.ETA_ZERO):
        typer.echo(f"design {design.name}")
        tables[design.name] = ES.eta_star_table(design, progress=show)
        out.mkdir(parents=True, exist_ok=True)
        tables[design.name].to_parquet(out / f"eta-star-{design.name}.parquet")
    block = ES.eta_star_block(tables["moves"], tables["zero"])
    typer.echo(block)
    if paper is not None:
        R.update_paper(paper, block, R.ETA_STAR_START, R.ETA_STAR_END)
    rows = [
        row(tables[name], control=control)
        for name, row in (("moves", ES.eta_moves_row), ("zero", ES.eta_zero_row))
        for control in (False, True)
    ]
    if not (rows[0].holds and not rows[1].holds and rows[2].holds and not rows[3].holds):
        raise typer.Exit(1)


@theory_app.command("tightness")
def tightness_cmd(
    out: Path = typer.Option(
        Path("results") / "theory" / "tightness",
        "--out",
        help="where to write the per-set table (OUT.parquet) and the scalars (OUT.json)",
    ),
    paper: Path = typer.Option(None, "--paper", help="regenerate the T3-TIGHTNESS block of this markdown file"),
) -> None:
    """Simulate the tightness of Theorem 3L (d_eff as a trace, the gap's skewness and q95/mean floor at n = 10k, 40k,
    60k, its variance split, the smallest failing factor over hundreds of sets; tens of minutes) and write the results."""
    if paper is not None and not paper.is_file():
        raise ConfigError(f"--paper {paper} is not a file")
    from simrank.theory import rows as R
    from simrank.theory import tightness as TT

    start = time.perf_counter()
    table, scalars = TT.tightness_run(progress=lambda line: typer.echo(f"{time.perf_counter() - start:7.1f}s  {line}"))
    TT.write_run(table, scalars, out)
    block = TT.tightness_block(table, scalars)
    typer.echo(block)
    if paper is not None:
        R.update_paper(paper, block, R.TIGHTNESS_START, R.TIGHTNESS_END)
