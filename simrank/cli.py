"""The ``simrank`` command line: ``simrank run NAME|FILE.toml``, ``simrank list`` and the command groups.

Exit status, for every command:

* 0: success (bare ``simrank`` prints this help and exits 0; so do ``-h`` and ``--help``);
* 1: a check or verdict that fails (a command raising ``typer.Exit(1)``);
* 2: bad input or usage: one line on stderr naming the bad value and what is allowed, no traceback;
* 130: interrupted (Ctrl-C); ``simrank run`` first says how many parts are saved and prints the exact
  ``--resume`` command that continues the run.

Start-up is fast: the commands' modules (and JAX) are imported only when that command runs (:class:`LazyGroup`).
"""

from __future__ import annotations

import importlib
import json
import shlex
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand, TyperGroup

from simrank._version import __version__

if TYPE_CHECKING:
    import pandas as pd

try:  # typer >= 0.29 bundles its own copy of click; older typer uses click itself
    from typer import _click as click_api
except ImportError:  # pragma: no cover - depends on the installed typer
    import click as click_api  # type: ignore[no-redef]  # the same API under its older home

__all__ = [
    "AVERAGED_IN_PRINT",
    "FACTOR_COLUMNS",
    "LAZY_COMMANDS",
    "SUMMARY_MEASURES",
    "LazyGroup",
    "app",
    "claim_out_folder",
    "command_line",
    "list_cmd",
    "main",
    "run",
    "summary_header",
    "summary_table",
    "varied_factors",
]

#: Commands whose modules load on first use: name -> ("module:attribute", one-line help). The attribute is a
#: command function or a ``typer.Typer`` group.
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "figures": ("simrank.predictions.paper:figures_cmd", "Regenerate the prediction figures (PNG, PDF, caption)."),
    "paper": ("simrank.predictions.paper:paper_cmd", "Rewrite the generated blocks of paper/paper.md (a checkout)."),
    "robustness": ("simrank.predictions.paper:robustness_cmd", "Run the robustness re-checks on one world."),
    "real": ("simrank.real.cli:real_app", "Real-data path (BEIR folders)."),
    "theory": ("simrank.theory.check:theory_app", "Theorem checks and theory figures."),
    "advise": ("simrank.advise.cli:advise_app", "Advice on negatives, predicted (--world) or measured (--data)."),
    "bench": ("simrank.bench:bench_cmd", "Benchmark the sweep against its baselines."),
}


def _load_command(name: str, target: str) -> click_api.Command:
    module, attribute = target.split(":")
    obj = getattr(importlib.import_module(module), attribute)
    command: click_api.Command
    if isinstance(obj, typer.Typer):
        command = typer.main.get_group(obj)
    else:
        single = typer.Typer(add_completion=False)
        single.command(name)(obj)
        command = typer.main.get_command(single)
    command.name = name
    return command


class LazyGroup(TyperGroup):
    """A typer group whose :data:`LAZY_COMMANDS` are listed (with their one-line help) without importing them;
    a command's module is imported when the command is invoked."""

    def list_commands(self, ctx: click_api.Context) -> list[str]:
        """The eagerly defined commands, then the lazy ones."""
        return [*self.commands, *(name for name in LAZY_COMMANDS if name not in self.commands)]

    def get_command(self, ctx: click_api.Context, cmd_name: str) -> click_api.Command | None:
        """A loaded command, or, for a lazy one not loaded yet, a stub carrying its help (for listings)."""
        if cmd_name in self.commands or cmd_name not in LAZY_COMMANDS:
            return self.commands.get(cmd_name)
        help_text = LAZY_COMMANDS[cmd_name][1]
        return TyperCommand(cmd_name, help=help_text, short_help=help_text)

    def resolve_command(
        self, ctx: click_api.Context, args: list[str]
    ) -> tuple[str | None, click_api.Command | None, list[str]]:
        """Import the invoked lazy command, then resolve as usual."""
        if args and args[0] in LAZY_COMMANDS and args[0] not in self.commands:
            self.commands[args[0]] = _load_command(args[0], LAZY_COMMANDS[args[0]][0])
        return super().resolve_command(ctx, args)


app = typer.Typer(
    cls=LazyGroup,
    add_completion=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Theory of ranking distillation, checked by code.",
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"simrank {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="print the version and exit"
    ),
) -> None:
    """Theory of ranking distillation, checked by code. Exit status: 0 success, 1 a failing check, 2 bad input
    or usage, 130 interrupted."""


@app.command("list")
def list_cmd() -> None:
    """List the named experiments in experiments/."""
    from simrank.paths import list_experiments

    for name, description in list_experiments():
        typer.echo(f"{name:28s} {description}")


def command_line(ctx: typer.Context, **changes: Any) -> str:
    """The shell command that reruns the current command with ``changes`` applied (``resume=True``): its
    arguments in order, then every option whose value differs from its default."""
    words = ctx.command_path.split()
    for param in ctx.command.params:
        value = changes.get(param.name, ctx.params.get(param.name))
        if param.param_type_name == "argument":
            words.append(str(value))
        elif value is None or value == param.default or (param.multiple and not value):
            continue
        elif getattr(param, "is_flag", False):
            words.append(param.opts[0] if value else param.secondary_opts[0])
        else:
            for item in value if param.multiple else [value]:
                words += [param.opts[0], str(item)]
    return shlex.join(words)


def claim_out_folder(out: Path, config_json: str, force: bool) -> None:
    """Make ``out`` ready for a run of the config ``config_json`` without losing another run's results.

    A folder holding results (``results.parquet`` or finished ``parts/``) of a different config (another
    ``config.json``, or none) is refused with one line naming ``--force`` and ``--resume``; with ``force`` its
    results and parts are removed first, so no stale part stays beside the new table. A folder of the same
    config is kept as it is (``--resume`` reuses its parts)."""
    import shutil

    from simrank.errors import ConfigError

    parts = sorted((out / "parts").glob("*.parquet"))
    if not ((out / "results.parquet").exists() or parts):
        out.mkdir(parents=True, exist_ok=True)
        return
    old = out / "config.json"
    if old.exists() and old.read_text() == config_json:
        return
    if not force:
        name = json.loads(old.read_text()).get("name", "?") if old.exists() else "unknown"
        raise ConfigError(
            f"--out {out} holds results of another config (experiment {name!r}, {len(parts)} parts); "
            "add --force to replace them, or choose another --out (--resume continues only the same config)"
        )
    (out / "results.parquet").unlink(missing_ok=True)
    shutil.rmtree(out / "parts", ignore_errors=True)


@app.command()
def run(
    ctx: typer.Context,
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
    force: bool = typer.Option(False, "--force", help="replace the results of another config already in OUT"),
    plugin: list[str] = typer.Option(
        [],
        "--plugin",
        help="module (or .py file) registering samplers, losses or students; repeatable (docs/extending.md)",
    ),
    no_compile_cache: bool = typer.Option(
        False,
        "--no-compile-cache",
        help="do not use JAX's persistent compilation cache (~/.cache/simrank/jax; also SIMRANK_COMPILE_CACHE=0)",
    ),
) -> None:
    """Run an experiment grid and write results.parquet, the resolved config and its figure.

    OUT holding another config's results is refused unless ``--force``. Ctrl-C stops after the chunk in flight: the finished parts stay in OUT/parts, the command prints how many
    and the ``--resume`` command that continues, and exits 130."""
    from simrank.config import load_experiment
    from simrank.figures import bias_sweep_figure
    from simrank.plugins import load_plugins
    from simrank.sweep import SweepInterrupted, run_experiment

    load_plugins(plugin)
    exp = load_experiment(experiment, quick=quick, seeds=seeds)
    if dry_run:
        n_points = len(exp.points())
        typer.echo(
            f"{exp.name}: {n_points} grid points x {exp.seeds} seeds = {n_points * exp.seeds} models (config valid)"
        )
        return
    out = Path(out) if out is not None else Path("results") / (exp.name + ("-quick" if quick else ""))
    config_json = json.dumps(exp.resolved(), indent=2, sort_keys=True, default=list) + "\n"
    claim_out_folder(out, config_json, force)
    (out / "config.json").write_text(config_json)
    (out / "config.toml").write_text(exp.source)
    start = time.perf_counter()
    try:
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
    except SweepInterrupted as stop:
        typer.echo(
            f"\ninterrupted: {stop.saved} of {stop.total} parts saved in {out / 'parts'}; "
            f"continue with: {command_line(ctx, out=out, resume=True)}",
            err=True,
        )
        raise typer.Exit(130) from None
    elapsed = time.perf_counter() - start
    figure = bias_sweep_figure(results, out / "figure")
    summary_table(results).to_csv(out / "summary.csv", index=False)
    shown = [c for c in varied_factors(results) if c not in AVERAGED_IN_PRINT]
    typer.echo(summary_header(results, shown))
    typer.echo(summary_table(results, shown).to_string(index=False))
    typer.echo(
        f"\n{len(results)} rows in {elapsed:.1f} s -> {out / 'results.parquet'}; every factor apart: "
        f"{out / 'summary.csv'}; figure {figure[0]}"
    )


#: Result columns that a grid can vary, in the order a summary lists them.
FACTOR_COLUMNS = (
    "loss",
    "student",
    "sampler",
    "pool_size",
    "beta",
    "tau",
    "eta",
    "teacher_noise",
    "group_size",
    "n_train",
    "test_shift",
    "world",
)
#: Factors the printed summary averages within each seed (they stay apart in summary.csv).
AVERAGED_IN_PRINT = ("tau", "eta")
#: Summarised measures: results column -> (printed name as in ir_measures, unit).
SUMMARY_MEASURES = {"gap": ("gap", "nats"), "ndcg10": ("nDCG@10", "exponential gain 2^g − 1, whole corpus")}


def varied_factors(results: pd.DataFrame) -> list[str]:
    """The :data:`FACTOR_COLUMNS` that take more than one value in ``results``."""
    return [c for c in FACTOR_COLUMNS if c in results and results[c].nunique(dropna=False) > 1]


def summary_table(results: pd.DataFrame, factors: list[str] | None = None) -> pd.DataFrame:
    """Gap and nDCG@10 per combination of ``factors`` (default: every varied factor), each as a mean with a
    95% t-interval **over seeds**: the seed is the unit, its rows at the other factors' levels (and any
    duplicate rows) averaged first (:func:`simrank.figures.seed_summary`). Columns: the factors, ``seeds``,
    then ``gap_mean/low/high`` (nats) and ``nDCG@10_mean/low/high`` (exponential gain).

    Examples:
      >>> import pandas as pd
      >>> rows = pd.DataFrame({"loss": ["kl"] * 3, "seed": [0, 1, 2], "gap": [1.0, 2.0, 3.0], "ndcg10": 0.5})
      >>> summary_table(pd.concat([rows, rows[:1]] * 3))[["seeds", "gap_mean", "gap_low", "gap_high"]].values.tolist()
      [[3.0, 2.0, -0.4841, 4.4841]]
    """
    from simrank.figures import seed_summary

    factors = varied_factors(results) if factors is None else list(factors)
    factors = factors or ["loss"]
    parts = [
        seed_summary(results, factors, column).rename(
            columns={"n": "seeds", **{f"{column}_{s}": f"{name}_{s}" for s in ("mean", "low", "high")}}
        )
        for column, (name, _) in SUMMARY_MEASURES.items()
    ]
    table = parts[0]
    for part in parts[1:]:
        table = table.merge(part, on=[*factors, "seeds"])
    if "pool_size" in table:
        table["pool_size"] = table["pool_size"].astype("Int64")
    measures = [c for c in table if c not in factors and c != "seeds"]
    return table[[*factors, "seeds", *measures]].round(4)


def summary_header(results: pd.DataFrame, factors: list[str]) -> str:
    """The sentence printed above :func:`summary_table`: the unit, what each seed's value averages over, the
    units and the nDCG convention."""
    averaged = [c for c in varied_factors(results) if c not in factors]
    levels = "; ".join(
        f"{c} ∈ {{{', '.join(f'{v:g}' if isinstance(v, float) else str(v) for v in sorted(results[c].unique()))}}}"
        for c in averaged
    )
    within = f"each seed's value is its mean over {levels}" if averaged else "one row per seed and cell"
    measures = "; ".join(f"{name}: {unit}" for name, unit in SUMMARY_MEASURES.values())
    return f"Mean and 95% t-interval over {results['seed'].nunique()} seeds ({within}). {measures}."


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _usage_message(err: click_api.ClickException, args: list[str]) -> str:
    """One line for a usage error; a bad option value is quoted from the command line (``--seeds = 'abc'``)
    when typer's message does not name it."""
    message = _one_line(err.format_message())
    param = getattr(err, "param", None)
    if isinstance(err, click_api.exceptions.BadParameter) and param is not None and param.opts:
        given = [b for a, b in zip(args, args[1:]) if a in param.opts]
        given += [a.split("=", 1)[1] for a in args if a.split("=", 1)[0] in param.opts and "=" in a]
        if given and repr(given[-1]) not in message:
            message = f"{param.opts[0]} = {given[-1]!r}: {message}"
    command = getattr(getattr(err, "ctx", None), "command_path", "simrank")
    return f"error: {message} (see '{command} --help')"


def main(args: list[str] | None = None) -> None:
    """Entry point: run the app and exit with the status of the contract in this module's docstring."""
    from simrank.errors import ConfigError

    try:
        code = app(args=args, prog_name="simrank", standalone_mode=False)
    except click_api.exceptions.NoArgsIsHelpError as err:  # bare `simrank` or `simrank real`: the help, status 0
        typer.echo(err.ctx.get_help())
        code = 0
    except click_api.exceptions.ClickException as err:
        typer.echo(_usage_message(err, sys.argv[1:] if args is None else args), err=True)
        code = 2
    except ConfigError as err:
        typer.echo(f"error: {_one_line(str(err))}", err=True)
        code = 2
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError) as err:
        typer.echo(f"error: {err.strerror}: {err.filename}", err=True)
        code = 2
    except typer.Abort:
        typer.echo("aborted", err=True)
        code = 1
    sys.exit(code if isinstance(code, int) else 0)
