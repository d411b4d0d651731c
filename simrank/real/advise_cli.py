"""``simrank advise``: advice on negatives, τ and η for a BEIR folder (see :mod:`simrank.real.advise`);
``simrank advise bm25-run`` writes a BM25 TREC run to use as a negative source; ``simrank advise validate``
renders ``paper/advise.md`` from the committed validation tables (``--run`` recomputes them)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import typer

from simrank.errors import ConfigError
from simrank.paths import EMBEDDINGS_FILE

__all__ = ["advise_app"]

advise_app = typer.Typer(
    add_completion=False,
    invoke_without_command=True,
    help="Advice on negative sources, τ and η for your own training data (T1-T6 applied).",
)


@advise_app.callback()
def advise_cmd(
    ctx: typer.Context,
    data: Path = typer.Option(None, help="BEIR folder with cached embeddings (default: $SIMRANK_DATA)"),
    negatives: list[str] = typer.Option(
        [], "--negatives", help="TREC run file or built-in source (random, bm25, dense); repeatable"
    ),
    teacher: Path = typer.Option(None, help="teacher scores as a TREC run (default: the built-in hybrid teacher)"),
    target: Path = typer.Option(None, help="target law as a TREC run: uniform over its documents (default: corpus)"),
    split: str = typer.Option("train", help="qrels split of the training queries"),
    tau: list[float] = typer.Option([], "--tau", help="temperature to consider; repeatable (default 0.1 0.3 1 3 10)"),
    eta: list[float] = typer.Option([], "--eta", help="mixing weight to consider; repeatable (default 0 .1 .25 .5 1)"),
    missing_teacher: str = typer.Option("fatal", help="teacher run missing needed pairs: fatal | skip"),
    group_size: int = typer.Option(8, help="k of the groups whose diameters and entropies are measured"),
    pool_size: int = typer.Option(100, help="M of the built-in bm25 / dense top-M sources"),
    norm_bound: float = typer.Option(None, help="B of T3 (default: ‖W₀‖_F of the starting scorer)"),
    bound: str = typer.Option(
        "localised", help="Γ of T3: localised (Theorem 3L, ‖W − W₀‖_F ≤ radius) | ess-sup (Theorem 3(a), ‖W‖_F ≤ B)"
    ),
    radius: float = typer.Option(None, help="r of Theorem 3L: how far training may move W from W₀ (default: B)"),
    n_train: int = typer.Option(None, help="n of T3 (default: the number of (query, positive) pairs)"),
    seed: int = typer.Option(0, help="seed of the sampled groups"),
    out: Path = typer.Option(None, help="output folder for report.md, advice.json and figures"),
    embeddings: str = typer.Option(
        EMBEDDINGS_FILE, help="the vectors' file in DATA (any encoder, see `simrank real encode`)"
    ),
) -> None:
    """Measure each negative source and rank (source, τ, η) by the theory's bounds; write report.md,
    advice.json and figures into OUT."""
    if ctx.invoked_subcommand is not None:
        return
    from simrank.paths import data_folder
    from simrank.real.advise import BUILTIN_SOURCES, AdviceConfig, advise, load_inputs
    from simrank.real.advise_report import write_outputs

    if out is None:
        raise ConfigError("--out DIR is required (the folder for report.md, advice.json and the figures)")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; expected a folder")
    defaults = AdviceConfig()
    config = AdviceConfig(
        taus=tuple(tau) or defaults.taus,
        etas=tuple(eta) or defaults.etas,
        group_size=group_size,
        pool_size=pool_size,
        norm_bound=norm_bound,
        bound=bound,
        radius=radius,
        n_train=n_train,
        seed=seed,
    )
    start = time.perf_counter()
    inputs = load_inputs(
        data_folder(data),
        negatives or list(BUILTIN_SOURCES),
        split=split,
        teacher=teacher,
        target=target,
        missing_teacher=missing_teacher,
        config=config,
        embeddings_file=embeddings,
    )
    advice = advise(inputs, config)
    advice["settings"]["cpu"] = f"{os.cpu_count()} CPU cores"
    advice["settings"]["seconds"] = round(time.perf_counter() - start, 1)  # reading and measuring
    paths = write_outputs(advice, out)
    best = advice["recommendations"][0]
    typer.echo(f"{'source':>12s} {'locality':>8s} {'Δ̂':>6s} {'κ':>8s} {'τ':>5s} {'H_pair':>6s} {'FN':>6s} {'η*':>5s}")
    for e in advice["sources"]:
        k = "inf" if e["kappa"] is None else f"{e['kappa']:.3g}"
        typer.echo(
            f"{e['source']:>12s} {e['locality']:8.3f} {e['delta_hat']:6.3f} {k:>8s} {e['tau']:5g} "
            f"{e['entropy_pair']:6.3f} {e['false_negative_rate']:6.3f} {e['eta_star']:5.2f}"
        )
    typer.echo(f"recommended: {best['source']}, τ = {best['tau']:g}, η = {best['eta']:g}")
    typer.echo(f"wrote {', '.join(str(p) for p in paths[:2])} and {len(paths) - 2} figures in {out}")
    typer.echo(f"{time.perf_counter() - start:.1f} s (inputs and measures {advice['settings']['seconds']} s)")


@advise_app.command("bm25-run")
def bm25_run_cmd(
    data: Path = typer.Option(None, help="BEIR folder (default: $SIMRANK_DATA)"),
    split: str = typer.Option("train", help="qrels split whose queries are retrieved"),
    depth: int = typer.Option(1000, help="documents per query"),
    out: Path = typer.Option(..., help="TREC run file to write"),
) -> None:
    """Write the BM25 top-DEPTH of each query of SPLIT as a TREC run (simrank's bm25s index and TREC writer)."""
    from simrank.errors import check_positive
    from simrank.paths import data_folder
    from simrank.real.beir import load_collection
    from simrank.real.bm25 import BM25Index
    from simrank.real.evaluate import run_from_scores, write_trec_run
    from simrank.real.queryset import judged_queries

    check_positive("--depth", depth)
    collection = load_collection(data_folder(data), splits=(split,))
    query_ids = judged_queries(collection.qrels[split])
    scores = BM25Index.build(collection).scores(collection.query_texts_for(query_ids))
    write_trec_run(out, run_from_scores(scores, query_ids, collection.doc_ids, depth), "bm25")
    typer.echo(f"wrote {out}: {len(query_ids)} queries × top {min(depth, len(collection.doc_ids))}")


@advise_app.command("validate")
def validate_cmd(
    run: bool = typer.Option(False, "--run", help="recompute the tables in results/advise/ (SciFact and worlds)"),
    data: Path = typer.Option(None, help="BEIR folder for the SciFact validation (default: $SIMRANK_DATA)"),
    results: Path = typer.Option(Path("results/advise"), help="folder of the validation tables"),
    paper: Path = typer.Option(Path("paper/advise.md"), help="Markdown file to write"),
    quick: bool = typer.Option(False, "--quick", help="with --run: a smoke-size run"),
    advice_only: bool = typer.Option(
        False, "--advice-only", help="recompute only the advice columns of the tables (keeps the trained outcomes)"
    ),
) -> None:
    """Compare the advice's ordering with trained outcomes (SciFact; synthetic worlds) and write PAPER."""
    from simrank.paths import data_folder
    from simrank.real.advise_validate import refresh_advice, render_paper, run_validation

    if run:
        run_validation(data_folder(data), results, quick, typer.echo)
    elif advice_only:
        refresh_advice(data_folder(data), results)
    paper.write_text(render_paper(results))
    typer.echo(f"wrote {paper}")
