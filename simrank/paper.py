"""The paper's generated parts: run missing prediction experiments, draw the figures, and rewrite the
marked blocks ``<!-- BEGIN generated:NAME -->`` … ``<!-- END generated:NAME -->`` of ``paper/paper.md``
(``verdicts``: the table of P1-P12; ``P1`` … ``P12``: each prediction's verdict and numbers) from the
committed results in ``results/paper/``.  Commands: ``simrank figures [--only P3]``, ``simrank paper``.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import typer

from simrank.errors import ConfigError, check_choice
from simrank.paths import PAPER_DIR, RESULTS_DIR

PAPER = PAPER_DIR / "paper.md"
BLOCK = re.compile(
    r"(<!-- BEGIN generated:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- END generated:(?P=name) -->)", re.S
)


def ensure_results(names: list[str], root: Path = RESULTS_DIR, progress: bool = True) -> dict[str, float]:
    """Run every experiment in ``names`` whose ``root/<name>/results.parquet`` is missing; seconds per run."""
    from simrank.config import load_experiment
    from simrank.sweep import run_experiment

    times = {}
    for name in names:
        if not (Path(root) / name / "results.parquet").exists():
            start = time.perf_counter()
            run_experiment(load_experiment(name), Path(root) / name, resume=True, progress=progress)
            times[name] = time.perf_counter() - start
    return times


def verdict_table(results: dict) -> str:
    """Markdown table: prediction, claim, verdict, key numbers."""
    from simrank.predictions import PREDICTIONS

    lines = ["| | prediction | verdict | key numbers |", "|---|---|---|---|"]
    for key, v in results.items():
        summary = v.summary.replace("|", "\\|")  # a literal bar inside a Markdown table cell
        lines.append(f"| {key} | {PREDICTIONS[key].claim} | **{v.verdict}** | {summary} |")
    return "\n".join(lines) + "\n"


def markdown_table(df) -> str:
    """A DataFrame as a Markdown table, numbers to 4 significant digits."""

    def cell(x) -> str:
        if isinstance(x, (bool, np.bool_)):
            return "yes" if x else "no"
        if isinstance(x, (float, np.floating)):
            return f"{x:.4g}"
        return str(x)

    rows = [" | ".join(map(str, df.columns)), " | ".join("---" for _ in df.columns)]
    rows += [" | ".join(cell(x) for x in r) for r in df.itertuples(index=False)]
    return "\n".join(f"| {r} |" for r in rows) + "\n"


def prediction_block(key: str, v) -> str:
    """One prediction's generated text: verdict, numbers, and its detail table."""
    detail = markdown_table(v.table) if v.table is not None else ""
    return f"**Verdict: {v.verdict}.** {v.summary}.\n\n{detail}"


def generated_blocks(root: Path = RESULTS_DIR) -> dict[str, str]:
    """Every generated block's text from the results under ``root``."""
    from simrank.predictions import verdicts

    results = verdicts(root)
    return {"verdicts": verdict_table(results), **{k: prediction_block(k, v) for k, v in results.items()}}


def render(text: str, blocks: dict[str, str]) -> str:
    """``text`` with the body of every marked block replaced by ``blocks[name]``; unknown names are an error."""

    def body(match: re.Match) -> str:
        name = match["name"]
        if name not in blocks:
            raise ConfigError(f"paper block {name!r} has no generator; known blocks: {', '.join(blocks)}")
        return match.group(1) + blocks[name] + match.group(4)

    return BLOCK.sub(body, text)


def figures_cmd(
    only: str = typer.Option(None, help="one prediction (P1 … P12) or experiment name; default: all"),
    out: Path = typer.Option(Path("figures"), help="output folder"),
) -> None:
    """Regenerate the prediction figures (PNG, PDF, caption), running any experiment whose results are missing."""
    from simrank.prediction_figures import make_figure
    from simrank.predictions import PREDICTIONS

    keys = list(PREDICTIONS)
    if only is not None:
        by_experiment = {name: k for k, p in PREDICTIONS.items() for name in p.experiments}
        check_choice("--only", only, keys + list(by_experiment))
        keys = [by_experiment.get(only, only)]
    for key in keys:
        for name, seconds in ensure_results(list(PREDICTIONS[key].experiments)).items():
            typer.echo(f"ran {name} in {seconds:.1f} s")
        typer.echo(f"{key}: {make_figure(key, out)[0]}")


def paper_cmd(path: Path = typer.Option(PAPER, help="the paper file with generated blocks")) -> None:
    """Rewrite the generated blocks of the paper (verdict table, per-prediction numbers) from the committed results."""
    from simrank.predictions import PREDICTIONS

    ensure_results([n for p in PREDICTIONS.values() for n in p.experiments])
    text = Path(path).read_text()
    new = render(text, generated_blocks())
    Path(path).write_text(new)
    typer.echo(f"{path}: {'updated' if new != text else 'already up to date'}")
