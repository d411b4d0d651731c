"""``simrank advise``: ``--world CONFIG.toml`` ranks an experiment config's grid points by the predicted excess
(:mod:`simrank.advise.worlds`); ``--data DIR --negatives RUN…`` ranks a BEIR folder's negative sources by the
predicted excess in the collection's empirical laws (:mod:`simrank.advise.prediction`), with each source's measures and
T3/T4 certificate beside it (:mod:`simrank.advise.analysis`); ``--empirical --budget MINUTES --data DIR`` trains the candidates by successive
halving (:mod:`simrank.advise.empirical`); ``simrank advise bm25-run`` writes a BM25 TREC run to use as a negative source;
``simrank advise validate`` renders ``paper/advise.md`` from the registry validation (``--run`` recomputes it)."""

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
    help="Advice on negatives: --world CONFIG.toml ranks its grid by the predicted excess; --data DIR ranks your runs.",
)


@advise_app.callback()
def advise_cmd(
    ctx: typer.Context,
    world: Path = typer.Option(
        None, "--world", help="experiment config (TOML): rank its grid points by the predicted excess (trains nothing)"
    ),
    validate: bool = typer.Option(False, "--validate", help="with --world: also train the grid and compare"),
    empirical: bool = typer.Option(
        False, "--empirical", help="with --data: successive halving with the real-data trainer over grouped folds"
    ),
    budget: float = typer.Option(None, "--budget", help="with --empirical: minutes of training (rungs sized from it)"),
    sampler: list[str] = typer.Option(
        [],
        "--sampler",
        help="with --empirical: candidate sampler NAME or NAME@ETA; repeatable (default random bm25 bm25@0.5 teacher)",
    ),
    loss: list[str] = typer.Option(
        [], "--loss", help="with --empirical: candidate loss; repeatable (default kl lce); with --data: the loss (kl)"
    ),
    folds: int = typer.Option(3, help="with --empirical: grouped query folds of the halving"),
    max_steps: int = typer.Option(1600, help="with --empirical: cap on the last rung's training steps"),
    quick: bool = typer.Option(False, "--quick", help="with --world: apply the config's [quick] overrides"),
    population: int = typer.Option(
        5000, help="with --world or --data: Monte Carlo groups per population (5000: the validated rule)"
    ),
    worlds: int = typer.Option(1, help="with --world: average the prediction over the worlds of the first seeds"),
    target_law: str = typer.Option(
        "uniform", help="with --world or --data: the prediction's target law: uniform | top10"
    ),
    label_tau: float = typer.Option(1.0, help="with --data: the label temperature τ of the prediction's loss"),
    rank: int = typer.Option(
        8, help="with --data: principal coordinates r of the predicted bilinear student (r² weights)"
    ),
    data: Path = typer.Option(None, help="BEIR folder with cached embeddings (default: $SIMRANK_DATA)"),
    negatives: list[str] = typer.Option(
        [], "--negatives", help="TREC run file or built-in source (random, bm25, dense, teacher); repeatable"
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
    """``--world CONFIG.toml``: rank the config's grid points by the predicted excess and write advice.json (with
    ``--validate`` also train them and write validation.json).  Otherwise: rank each (negative source, η) of a BEIR
    folder by the predicted excess, measure each source, with the theory's certificate beside it, and write
    report.md, advice.json and figures into OUT."""
    if ctx.invoked_subcommand is not None:
        return
    if world is not None:
        _world_mode(world, out, validate=validate, quick=quick, population=population, worlds=worlds,
                    target=target_law)  # fmt: skip
        return
    if validate:
        raise ConfigError("--validate needs --world CONFIG.toml")
    if empirical:
        if negatives:
            raise ConfigError(
                f"--negatives {negatives[0]!r} is not allowed with --empirical; name its candidates with --sampler "
                "(TREC run files as candidates are not supported yet)"
            )
        _empirical_mode(data, out, budget, sampler, loss, group_size, pool_size, folds, max_steps, seed, embeddings)
        return
    if budget is not None:
        raise ConfigError("--budget needs --empirical")
    from simrank.advise.analysis import DEFAULT_SOURCES, AdviceConfig, advise, load_inputs
    from simrank.advise.prediction import PredictionConfig, predict_data
    from simrank.advise.report import write_outputs
    from simrank.paths import data_folder

    if len(loss) > 1:
        raise ConfigError(
            f"--loss {loss[1]!r}: the data mode takes one --loss (predicted excesses of different losses are in "
            "different units); run it once per loss"
        )
    prediction = PredictionConfig(
        loss=loss[0] if loss else "kl", tau=label_tau, rank=rank, target=target_law, population=population, seed=seed
    )
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
        negatives or list(DEFAULT_SOURCES),
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
    advice["prediction"] = predict_data(inputs, advice, config, prediction)
    paths = write_outputs(advice, out)
    best = advice["recommendations"][0]
    typer.echo(f"{'source':>12s} {'locality':>8s} {'Δ̂':>6s} {'κ':>8s} {'τ':>5s} {'H_pair':>6s} {'FN':>6s} {'η*':>5s}")
    for e in advice["sources"]:
        k = "inf" if e["kappa"] is None else f"{e['kappa']:.3g}"
        typer.echo(
            f"{e['source']:>12s} {e['locality']:8.3f} {e['delta_hat']:6.3f} {k:>8s} {e['tau']:5g} "
            f"{e['entropy_pair']:6.3f} {e['false_negative_rate']:6.3f} {e['eta_star']:5.2f}"
        )
    if best["vacuous"]:
        typer.echo(
            "no recommendation from the guarantee: every guarantee on the μ-risk is vacuous (F ≥ the starting "
            "scorer's μ-risk); it certifies nothing"
        )
    else:
        typer.echo(
            f"guarantee on the μ-risk is lowest for {best['source']}, τ = {best['tau']:g}, η = {best['eta']:g} "
            f"(F = {best['bound']:.4g})"
        )
    _echo_prediction(advice["prediction"])
    typer.echo(f"wrote {', '.join(str(p) for p in paths[:2])} and {len(paths) - 2} figures in {out}")
    typer.echo(
        f"{time.perf_counter() - start:.1f} s (inputs and measures {advice['settings']['seconds']} s, prediction "
        f"{advice['prediction']['settings'].get('seconds', 0.0)} s)"
    )


def _echo_prediction(prediction: dict) -> None:
    """The data mode's prediction table and its recommendation (or why there is none)."""
    if "unavailable" in prediction:
        typer.echo(f"no prediction: {prediction['unavailable']}")
        return
    s = prediction["settings"]
    typer.echo(f"{'rank':>4s} {'source':>12s} {'η':>5s} {'predicted':>10s} {'guarantee on the μ-risk':>24s}")
    for c in prediction["candidates"]:
        guarantee = "∞" if c["guarantee"] is None else f"{c['guarantee']:.4g}"
        guarantee += " (vacuous)" if c["vacuous"] else ""
        typer.echo(f"{c['rank']:4d} {c['source']:>12s} {c['eta']:5g} {c['predicted_excess']:10.4g} {guarantee:>24s}")
    top = prediction["candidates"][0]
    typer.echo(
        f"predicted: {top['source']} with η = {top['eta']:g} gives the smallest excess {s['target']}-target "
        f"{s['loss']} risk of the trained student (n = {s['n_train']} groups)"
    )


def _world_mode(
    config: Path, out: Path | None, *, validate: bool, quick: bool, population: int, worlds: int, target: str
) -> None:
    from simrank.advise.worlds import advise_world, validate_world, write_json
    from simrank.config import load_experiment
    from simrank.errors import check_positive

    check_positive("--population", population)
    exp = load_experiment(str(config), quick=quick)
    out = Path("results") / "advise-world" / exp.name if out is None else out
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; expected a folder")
    start = time.perf_counter()
    advice = advise_world(exp, target=target, population=population, worlds=worlds)
    out.mkdir(parents=True, exist_ok=True)
    write_json(advice, out / "advice.json")
    axes = [k for k in exp.grid]
    typer.echo(f"{'rank':>4s} {'predicted':>10s}  " + "  ".join(axes))
    for e in advice["candidates"]:
        typer.echo(f"{e['rank']:4d} {e['predicted_excess']:10.4g}  " + "  ".join(str(e[k]) for k in axes))
    typer.echo(f"wrote {out / 'advice.json'} ({advice['settings']['seconds']} s)")
    if not validate:
        return
    from simrank.sweep import run_experiment

    results = run_experiment(exp, out / "sweep", resume=True)
    report = validate_world(exp, advice, results)
    write_json(report, out / "validation.json")
    rho = "n/a" if report["spearman"] is None else f"{report['spearman']:.2f}"
    typer.echo(
        f"Spearman(advice order, nDCG@10) = {rho} over {report['candidates']} candidates; recommended "
        f"{report['recommended']} {report['recommended_ndcg10']:.4f}, best {report['best']} "
        f"{report['best_ndcg10']:.4f}: {'within' if report['hit'] else 'outside'} the SESOI {report['sesoi']}"
    )
    typer.echo(f"wrote {out / 'validation.json'} and {out / 'sweep' / 'results.parquet'} "
               f"({time.perf_counter() - start:.0f} s)")  # fmt: skip


def _empirical_mode(
    data: Path | None,
    out: Path | None,
    budget: float | None,
    samplers: list[str],
    losses: list[str],
    group_size: int,
    pool_size: int,
    folds: int,
    max_steps: int,
    seed: int,
    embeddings: str,
) -> None:
    from simrank.advise.empirical import (
        DEFAULT_LOSSES,
        DEFAULT_SAMPLERS,
        EmpiricalConfig,
        advise_empirical,
        load_empirical,
        render_empirical,
    )
    from simrank.advise.worlds import write_json
    from simrank.paths import data_folder
    from simrank.real._util import atomic_write

    start = time.perf_counter()
    if budget is None:
        raise ConfigError("--empirical needs --budget MINUTES (the training time the halving may spend)")
    if out is None:
        raise ConfigError("--out DIR is required (the folder for report.md and advice.json)")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; expected a folder")
    cfg = EmpiricalConfig(
        budget_minutes=budget,
        samplers=tuple(samplers) or DEFAULT_SAMPLERS,
        losses=tuple(losses) or DEFAULT_LOSSES,
        group_sizes=(group_size,),
        pool_size=pool_size,
        folds=folds,
        max_steps=max_steps,
        seed=seed,
    )
    folder = data_folder(data)
    prepared = load_empirical(folder, cfg, embeddings)
    advice = advise_empirical(prepared, cfg, typer.echo, start)
    advice["settings"]["cpu"] = f"{os.cpu_count()} CPU cores"
    out.mkdir(parents=True, exist_ok=True)
    write_json(advice, out / "advice.json")
    with atomic_write(out / "report.md") as fh:
        fh.write(render_empirical(advice))
    h = advice["held_out"]
    typer.echo(f"chosen (within {cfg.margin} nDCG@10 of the best): {', '.join(advice['chosen'])}")
    typer.echo(
        f"held-out: top choice {h['top_choice']} {h['top_choice_ndcg10']:.4f}, best {h['best']} {h['best_ndcg10']:.4f}"
        f" on {h['queries']} decide queries: {'within' if h['hit'] else 'outside'} the margin"
    )
    typer.echo(f"wrote {out / 'advice.json'} and {out / 'report.md'} ({time.perf_counter() - start:.0f} s)")


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
    from simrank.real.data.beir import load_collection
    from simrank.real.data.bm25 import BM25Index
    from simrank.real.data.queryset import judged_queries
    from simrank.real.evaluate import run_from_scores, write_trec_run

    check_positive("--depth", depth)
    collection = load_collection(data_folder(data), splits=(split,))
    query_ids = judged_queries(collection.qrels[split])
    scores = BM25Index.build(collection).scores(collection.query_texts_for(query_ids))
    write_trec_run(out, run_from_scores(scores, query_ids, collection.doc_ids, depth), "bm25")
    typer.echo(f"wrote {out}: {len(query_ids)} queries × top {min(depth, len(collection.doc_ids))}")


@advise_app.command("validate")
def validate_cmd(
    run: bool = typer.Option(False, "--run", help="advise and train the 12 registry worlds (about 20 min, 2 cores)"),
    rerun: bool = typer.Option(
        False, "--rerun", help="advise and train the unconverged worlds again at their converging steps (RERUNS)"
    ),
    results: Path = typer.Option(Path("results/advise"), help="folder of the validation tables"),
    work: Path = typer.Option(Path(".cache/advise-validation"), help="with --run: folder of the worlds' sweeps"),
    paper: Path = typer.Option(Path("paper/advise.md"), help="Markdown file to write"),
) -> None:
    """Compare ``simrank advise --world`` with trained outcomes on the registry worlds and write PAPER."""
    from simrank.advise.validation import render_paper, run_validation

    if run:
        run_validation(results, work, typer.echo)
    if rerun:
        run_validation(results, work, typer.echo, rerun=True)
    paper.write_text(render_paper(results))
    typer.echo(f"wrote {paper}")
