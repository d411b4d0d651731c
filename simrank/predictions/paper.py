"""The registry of the predictions P1-P13 and the paper's generated parts.

Runs missing prediction experiments, draws the figures, and rewrites the marked blocks
``<!-- BEGIN generated:NAME -->`` … ``<!-- END generated:NAME -->`` of ``paper/paper.md`` (``verdicts``: the
table of P1-P13; ``P1`` … ``P13``: each prediction's verdict and numbers; ``deviations``: the table of
``paper/deviations.toml``) from the committed results in ``results/paper/``.  Results whose config differs from the pre-registered ``experiments/<name>.toml`` (or that
have fewer seeds than pre-registered) are *pilots*: reported as inconclusive with the pilot's own outcome.
Commands: ``simrank figures [--only P3]``, ``simrank paper``.
"""

from __future__ import annotations

import dataclasses
import math
import re
import time
import tomllib
from pathlib import Path
from typing import Annotated

import typer

from simrank.config import load_experiment
from simrank.errors import ConfigError, check_choice
from simrank.figures import save
from simrank.paths import FIGURES_DIR, PAPER_DIR, RESULTS_DIR
from simrank.predictions import p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13
from simrank.predictions.base import OUTCOMES, Prediction, Verdict, fmt, load_results, markdown_table
from simrank.predictions.families import FAMILIES, TRAINING_FREE, on_budget, unconverged_cells
from simrank.predictions.robustness import FOLDERS, run
from simrank.predictions.worlds import CONTRASTS, worlds_table
from simrank.sweep import run_experiment

__all__ = [
    "DEVIATIONS",
    "PAPER",
    "PREDICTIONS",
    "deviations_block",
    "ensure_results",
    "experiments_needed",
    "families_block",
    "family_outcomes",
    "headline",
    "figures_cmd",
    "generated_blocks",
    "is_pilot",
    "make_figure",
    "paper_cmd",
    "registered_verdict",
    "render",
    "robustness_cmd",
    "verdicts",
    "worlds_block",
]

PAPER = PAPER_DIR / "paper.md"
DEVIATIONS = PAPER_DIR / "deviations.toml"
PREDICTIONS: dict[str, Prediction] = {
    m.PREDICTION.key: m.PREDICTION for m in (p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13)
}
BLOCK = re.compile(
    r"(<!-- BEGIN generated:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- END generated:(?P=name) -->)", re.S
)


def experiments_needed() -> list[str]:
    """Every experiment the predictions read, in order."""
    return [name for p in PREDICTIONS.values() for name in p.experiments]


def is_pilot(pred: Prediction, tables: dict) -> bool:
    """True when any table is not the pre-registered design: another config hash, or fewer seeds."""
    for name in pred.experiments:
        df = tables[name]
        # tables written before the per-point config_hash column held the experiment's hash as config_hash
        hashes = df["experiment_hash"] if "experiment_hash" in df else df["config_hash"]
        if set(hashes) != {load_experiment(name).hash} or df["seed"].nunique() < pred.seeds:
            return True
    return False


def registered_verdict(pred: Prediction, tables: dict) -> Verdict:
    """``pred.analyse(tables)``, reported as inconclusive (with the pilot's outcome kept) when the tables are a pilot."""
    v = pred.analyse(tables)
    if is_pilot(pred, tables):
        return dataclasses.replace(v, outcome="inconclusive", pilot=True, pilot_outcome=v.outcome)
    return dataclasses.replace(v, pilot_outcome=v.outcome)


def _tables(pred: Prediction, root: Path) -> dict:
    return {name: load_results(name, root) for name in pred.experiments}


def verdicts(root: Path = RESULTS_DIR) -> dict[str, Verdict]:
    """Every prediction's registered verdict from the results tables under ``root``."""
    return {key: registered_verdict(p, _tables(p, root)) for key, p in PREDICTIONS.items()}


def family_outcomes(root: Path = RESULTS_DIR) -> dict[str, dict[str, str]]:
    """Per prediction, per world family: its outcome there, with the primary effect's mean.

    Every family, ``main`` included, is the prediction's rule on ``root/robustness-<family>/`` (the registered
    experiments moved to the family's world, trained with its converging budget); the registered verdicts are the
    main verdict table's (:func:`verdicts`), not this table's.  No verdict is given from an unconverged cell
    (:func:`simrank.predictions.families.unconverged_cells`): such a family reads ``unconverged`` (with the number of
    such cells), and a family's results that carry no convergence statistics read ``unconverged (not recorded)``
    (a :data:`~simrank.predictions.families.TRAINING_FREE` prediction needs no convergence).  ``n/a`` where the
    family's world setting is a factor of the design; ``not run`` where results are missing, ``not run at the family
    budget`` where they were trained with another budget (:func:`~simrank.predictions.families.on_budget`).

    Args:
      root: the prediction results folder.

    Returns:
      ``{prediction key: {family: outcome text}}``.
    """
    out: dict[str, dict[str, str]] = {}
    for key, p in PREDICTIONS.items():
        out[key] = {}
        for name, fam in FAMILIES.items():
            base = Path(root) / fam.folder
            if not all(fam.applies(load_experiment(n)) for n in p.experiments):
                out[key][name] = "n/a (a factor of the design)"
                continue
            if not all((base / n / "results.parquet").exists() for n in p.experiments):
                out[key][name] = "not run"
                continue
            tables = _tables(p, base)
            if key not in TRAINING_FREE and not all(on_budget(df, name) for df in tables.values()):
                out[key][name] = "not run at the family budget"
                continue
            bad = (0, 0) if key in TRAINING_FREE else unconverged_cells(tables)
            if bad and not bad[0]:
                v = p.analyse(tables)
                out[key][name] = f"{v.outcome} ({fmt(v.effect.mean)})"
            else:
                out[key][name] = f"unconverged{_cells(bad)}"
    return out


def _cells(bad: tuple[int, int] | None) -> str:
    return " (not recorded)" if bad is None else f" ({bad[0]} of {bad[1]} cells)"


def headline(per_family: dict[str, str]) -> str:
    """The outcome across families: ``holds in every family`` (one outcome, every applicable family decided),
    ``world-dependent`` (decided families disagree; each family's outcome listed), else the common outcome of the
    decided families with how many of the applicable ones it rests on.  *Inconclusive* is not a decision: an
    inconclusive family neither agrees nor disagrees with a decided one (it counts as undecided); when no family
    is decided but some are inconclusive, the headline is ``inconclusive`` with their count.

    Args:
      per_family: family -> outcome text (as :func:`family_outcomes` writes it).

    Returns:
      One cell of text.
    """
    applicable = {f: t for f, t in per_family.items() if not t.startswith("n/a")}
    outcomes = {f: t.split(" ")[0] for f, t in applicable.items() if t.split(" ")[0] in OUTCOMES}
    decided = {f: o for f, o in outcomes.items() if o != "inconclusive"}
    if not decided:
        if outcomes:
            return f"inconclusive in {len(outcomes)} of {len(applicable)} families ({', '.join(outcomes)})"
        return "no converged family"
    if len(set(decided.values())) > 1:
        return "world-dependent (" + ", ".join(f"{f}: {o}" for f, o in decided.items()) + ")"
    (outcome,) = set(decided.values())
    if len(decided) == len(applicable):
        return f"{outcome}: holds in every family"
    return f"{outcome} in {len(decided)} of {len(applicable)} families ({', '.join(decided)}; the others undecided)"


def families_block(outcomes: dict[str, dict[str, str]]) -> str:
    """Markdown table: per prediction, its outcome (primary effect) in every world family and the :func:`headline`."""
    lines = [
        "| | " + " | ".join(FAMILIES) + " | across families |",
        "|---|" + "---|" * (len(FAMILIES) + 1),
    ]
    for key, per in outcomes.items():
        lines.append(f"| {key} | " + " | ".join(per[f] for f in FAMILIES) + f" | {headline(per)} |")
    return "\n".join(lines) + "\n"


def verdict_table(results: dict[str, Verdict]) -> str:
    """Markdown table: prediction, claim, outcome, SESOI, seeds, achieved power, effect with interval."""
    lines = [
        "| | prediction | outcome | SESOI | seeds | power | primary effect [90% CI] |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, v in results.items():
        p = PREDICTIONS[key]
        outcome = f"**{v.outcome}**" + (f" (pilot: {v.pilot_outcome})" if v.pilot else "")
        outcome += f" (original registration: {v.original})" if v.original else ""
        seeds = f"{v.seeds}" + (f" (of {p.seeds})" if v.pilot else "")
        effect = f"{fmt(v.effect.mean)} [{fmt(v.effect.low)}, {fmt(v.effect.high)}]"
        power = fmt(v.power, 2) if math.isfinite(v.power) else "n/a"
        lines.append(f"| {key} | {p.claim} | {outcome} | {v.sesoi:g} | {seeds} | {power} | {effect} |")
    return "\n".join(lines) + "\n"


def prediction_block(key: str, v: Verdict) -> str:
    """One prediction's generated text: protocol, verdict, numbers, and its detail table."""
    p = PREDICTIONS[key]
    pilot = (
        f" Pilot results ({v.seeds} seeds, not the pre-registered design): the rule gives *{v.pilot_outcome}*."
        if v.pilot
        else ""
    )
    detail = markdown_table(v.table) if v.table is not None else ""
    power = (
        f"achieved power {fmt(v.power, 2)} at the SESOI"
        if math.isfinite(v.power)
        else "no t-test power: the deciding part is a bootstrap interval"
    )
    original = f" Under the original registration the rule gives *{v.original}*." if v.original else ""
    return (
        f"*Protocol.* Design `{'`, `'.join(p.experiments)}`; SESOI {p.sesoi:g}; α = {p.alpha} per one-sided test; "
        f"{p.seeds} seeds pre-registered; test: {p.test}; rule: {p.rule}.\n\n"
        f"**Verdict: {v.outcome}** ({power}).{pilot}{original} {v.summary}.\n\n{detail}"
    )


def worlds_block(root: Path = RESULTS_DIR) -> str:
    """The between-world variance table of every experiment with a ``worlds`` re-check under ``root``."""
    base = Path(root) / FOLDERS["worlds"]
    names = [name for name in CONTRASTS if (base / name / "results.parquet").exists()]
    if not names:
        return "*Not run.*\n"
    return worlds_table({name: load_results(name, base) for name in names})


def deviations_block(path: Path = DEVIATIONS) -> str:
    """The deviations table (id, commit and stage, prediction, change, reason) of every ``[[deviation]]`` in ``path``."""
    lines = ["| id | commit | prediction | change | reason |", "|---|---|---|---|---|"]
    for d in tomllib.loads(Path(path).read_text())["deviation"]:
        cells = [d["id"], f"{', '.join(d['commit'])} ({d['stage']})", d["prediction"], d["change"], d["reason"]]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def generated_blocks(root: Path = RESULTS_DIR, deviations: Path = DEVIATIONS) -> dict[str, str]:
    """Every generated block's text from the results under ``root`` (and the deviations from ``deviations``)."""
    results = verdicts(root)
    return {
        "verdicts": verdict_table(results),
        "families": families_block(family_outcomes(root)),
        "worlds": worlds_block(root),
        "deviations": deviations_block(deviations),
        **{k: prediction_block(k, v) for k, v in results.items()},
    }


def render(text: str, blocks: dict[str, str]) -> str:
    """``text`` with the body of every marked block replaced by ``blocks[name]``; unknown names are an error."""

    def body(match: re.Match) -> str:
        name = match["name"]
        if name not in blocks:
            raise ConfigError(f"paper block {name!r} has no generator; known blocks: {', '.join(blocks)}")
        return match.group(1) + blocks[name] + match.group(4)

    return BLOCK.sub(body, text)


def ensure_results(names: list[str], root: Path = RESULTS_DIR, progress: bool = True) -> dict[str, float]:
    """Run every experiment in ``names`` whose ``root/<name>/results.parquet`` is missing; seconds per run."""
    times = {}
    for name in names:
        if not (Path(root) / name / "results.parquet").exists():
            start = time.perf_counter()
            run_experiment(load_experiment(name), Path(root) / name, resume=True, progress=progress)
            times[name] = time.perf_counter() - start
    return times


def make_figure(key: str, out_dir: Path = FIGURES_DIR, root: Path = RESULTS_DIR) -> list[Path]:
    """Draw prediction ``key``'s figure from the results under ``root`` into ``out_dir/<key>.{png,pdf,txt}``."""
    p = PREDICTIONS[key]
    tables = _tables(p, root)
    fig = p.draw(tables)
    fig.tight_layout()
    return save(fig, Path(out_dir) / key.lower(), p.caption(tables))


#: The CLI's defaults, relative to the working directory (a project checkout for ``paper`` and ``robustness``):
#: outputs never go into the installed package.
CLI_RESULTS = Path("results") / "paper"
CLI_FIGURES = Path("figures")
CLI_PAPER = Path("paper") / "paper.md"


def figures_cmd(
    only: str = typer.Option(None, help="one prediction (P1 … P13) or experiment name; default: all"),
    out: Path = typer.Option(CLI_FIGURES, help="output folder (default: ./figures)"),
    results: Annotated[Path, typer.Option(help="prediction results folder; missing experiments are run into it")] = (
        CLI_RESULTS
    ),
) -> None:
    """Regenerate the prediction figures (PNG, PDF, caption), running any experiment whose results are missing."""
    keys = list(PREDICTIONS)
    if only is not None:
        by_experiment = {name: k for k, p in PREDICTIONS.items() for name in p.experiments}
        check_choice("--only", only, keys + list(by_experiment))
        keys = [by_experiment.get(only, only)]
    for key in keys:
        for name, seconds in ensure_results(list(PREDICTIONS[key].experiments), results).items():
            typer.echo(f"ran {name} in {seconds:.1f} s")
        typer.echo(f"{key}: {make_figure(key, out, results)[0]}")


def robustness_cmd(
    label: str = typer.Argument(..., help=f"a world family ({', '.join(FAMILIES)}) or worlds"),
    seeds: int = typer.Option(10, help="seeds per experiment (worlds: 40 = 8 worlds x 5 seeds; main: an audit)"),
    results: Annotated[Path, typer.Option(help="prediction results folder (default: ./results/paper)")] = CLI_RESULTS,
    only: Annotated[str, typer.Option(help="comma-separated predictions (P4,P5) or experiments; default: all")] = "",
) -> None:
    """Run the robustness re-checks of every prediction on one world (results already there are kept)."""
    check_choice("label", label, list(FOLDERS))
    if label == "worlds":
        names = list(CONTRASTS)
    else:
        fam = FAMILIES[label]
        names = [n for n in experiments_needed() if fam.applies(load_experiment(n))]
    if only:
        by_key = {n: k for k, p in PREDICTIONS.items() for n in p.experiments}
        wanted = [w.strip() for w in only.split(",")]
        for w in wanted:
            check_choice("--only", w, list(PREDICTIONS) + list(by_key))
        names = [n for n in names if n in wanted or by_key[n] in wanted]
    run(label, names, seeds, root=results)
    typer.echo(f"{label}: {len(names)} experiments in {Path(results) / FOLDERS[label]}")


def paper_cmd(
    path: Path = typer.Option(CLI_PAPER, help="the paper file with generated blocks (default: ./paper/paper.md)"),
    results: Annotated[Path, typer.Option(help="prediction results folder (default: ./results/paper)")] = CLI_RESULTS,
) -> None:
    """Rewrite the generated blocks of the paper (verdict table, per-prediction numbers) from the committed results.

    Needs a project checkout (``paper/paper.md`` and ``paper/deviations.toml``): run it from the checkout's root."""
    deviations = Path(path).parent / "deviations.toml"
    for needed in (Path(path), deviations):
        if not needed.is_file():
            raise ConfigError(
                f"simrank paper needs a project checkout: {needed} not found under {Path.cwd()} "
                "(run it from the root of a clone of simrank, or give --path PAPER.md)"
            )
    ensure_results(experiments_needed(), results)
    text = Path(path).read_text()
    new = render(text, generated_blocks(results, deviations))
    Path(path).write_text(new)
    typer.echo(f"{path}: {'updated' if new != text else 'already up to date'}")
