"""The frozen registration (paper/registration/) against the rules in code, the experiment configs and the decided
conditions, with every difference logged in paper/deviations.toml.

The registration is flattened into ``{key: value}`` (``P5.sesoi``, ``P7.HARDLY``, ``P11.conditions``, ``P4.parts``,
``p04-hard-negatives.grid.sampler.pool_size``, ...); the deviations, applied in order, turn it into what the code
must show now; the code is flattened the same way from the prediction modules, the configs in ``experiments/`` and
the verdicts on the committed results.  The check functions return the differing keys, so the mutation tests at the
end call them on mutated objects (a dropped condition, a flipped comparison) and require a difference.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import math
import subprocess
import tomllib
from collections.abc import Callable, Mapping
from functools import cache
from types import ModuleType

import pandas as pd
import pytest

from simrank.config import Experiment, load_experiment
from simrank.paths import PAPER_DIR, PROJECT_ROOT, RESULTS_DIR
from simrank.predictions import base
from simrank.predictions.base import Effect, Verdict
from simrank.predictions.paper import (
    BLOCK,
    DEVIATIONS,
    PAPER,
    PREDICTIONS,
    deviations_block,
    prediction_block,
    registered_verdict,
)

REGISTRATION = PAPER_DIR / "registration"
MANIFEST = REGISTRATION / "MANIFEST.sha256"
SOURCES = tomllib.loads((REGISTRATION / "registration.toml").read_text())
ORIGINAL, ADDENDUM = "preregistration-648deb6.md", "preregistration-ec9c0f3.md"
#: P13's registration (an addendum registered on its own, before P13's deciding run) and its heading.
P13_REGISTRATION, P13_HEADING = "preregistration-8b28cdb.md", "## Addendum 2026-12-07"
MISSING = "<missing>"  # the flattened value of a key that one side does not have
KINDS = {"change": base.decide_change, "increase": base.decide_increase, "equivalence": base.decide_equivalence}


def module(key: str) -> ModuleType:
    return importlib.import_module(f"simrank.predictions.p{int(key[1:]):02d}")


# ------------------------------------------------------------------------------------------- frozen files


def manifest() -> dict[str, str]:
    """Frozen file (relative to paper/registration/) -> its sha256, from MANIFEST.sha256 (``sha256sum`` format)."""
    return {path: digest for digest, path in (line.split() for line in MANIFEST.read_text().splitlines() if line)}


def test_the_frozen_files_have_their_manifest_hashes():
    listed = manifest()
    frozen = {p.relative_to(REGISTRATION).as_posix() for p in REGISTRATION.rglob("*") if p.is_file()}
    assert frozen - {"MANIFEST.sha256"} == set(listed), "every frozen file is in the manifest, and only those"
    for path, digest in listed.items():
        assert hashlib.sha256((REGISTRATION / path).read_bytes()).hexdigest() == digest, f"{path} was edited"
    assert set(SOURCES["sources"]) == set(listed) - {"registration.toml"}


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(PROJECT_ROOT), *args], capture_output=True)


def test_the_frozen_files_are_what_the_registration_commits_hold():
    """Cross-check against git; needs the history (a shallow CI clone lacks the registration commits)."""
    missing = [c for c, _ in SOURCES["sources"].values() if _git("cat-file", "-e", f"{c}^{{commit}}").returncode]
    if missing:
        pytest.skip(f"git history without the registration commits {sorted(set(missing))} (shallow clone or no git)")
    for frozen, (commit, path) in SOURCES["sources"].items():
        shown = _git("show", f"{commit}:{path}")
        assert shown.returncode == 0 and shown.stdout == (REGISTRATION / frozen).read_bytes(), frozen


# ------------------------------------------------------------------------------------ registered values


def _table_rows(text: str) -> dict[str, dict]:
    """The rows of the registered-parameters tables in ``text``, by key, flattened."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 8 and cells[0] in PREDICTIONS:
            key, design, sesoi, alpha, seeds, params = cells[:6]
            rows[key] = {
                f"{key}.design": [d.strip() for d in design.split(",")],
                f"{key}.sesoi": float(sesoi),
                f"{key}.alpha": float(alpha),
                f"{key}.seeds": int(seeds),
                **{f"{key}.{n.strip()}": float(v) for n, v in (p.split("=") for p in params.split(",") if p.strip())},
            }
    return rows


def _flat_config(name: str, exp: Experiment) -> dict[str, object]:
    flat: dict[str, object] = {f"{name}.seeds": exp.seeds}
    for section, values in exp.base.items():
        flat |= {f"{name}.{section}.{k}": v for k, v in values.items()}
    return flat | {f"{name}.grid.{axis}": list(values) for axis, values in exp.grid.items()}


@cache
def registration() -> dict[str, object]:
    """The frozen registration, flattened: the 648deb6 table with the addendum's rows for P5 and P7, the frozen
    configs, and the transcribed conditions and rule parts."""
    rows = _table_rows((REGISTRATION / ORIGINAL).read_text())
    addendum = (REGISTRATION / ADDENDUM).read_text()
    rows |= _table_rows(addendum[addendum.index("## Addendum") :])
    rows |= _table_rows(p13_addendum())
    flat: dict[str, object] = {k: v for row in rows.values() for k, v in row.items()}
    for frozen in SOURCES["sources"]:
        if frozen.startswith("experiments/"):
            name = frozen.removeprefix("experiments/").removesuffix(".toml")
            flat |= _flat_config(name, load_experiment(str(REGISTRATION / frozen)))
    flat |= {f"{k}.conditions": sorted(v) for k, v in SOURCES["conditions"].items()}
    return flat | {f"{k}.parts": v for k, v in SOURCES["parts"].items()}


def p13_addendum() -> str:
    """The P13 addendum of the frozen P13 registration (from its heading on)."""
    text = (REGISTRATION / P13_REGISTRATION).read_text()
    return text[text.index(P13_HEADING) :]


def deviations() -> list[dict]:
    return tomllib.loads(DEVIATIONS.read_text())["deviation"]


def registered_now(devs: list[dict] | None = None) -> dict[str, object]:
    """The registration with every logged deviation applied in order: what the code must show."""
    flat = dict(registration())
    for d in deviations() if devs is None else devs:
        for key, value in d.get("overrides", {}).items():
            flat[key] = sorted(value) if key.endswith(".conditions") else value
        for key in d.get("removed", []):
            flat.pop(key)
    return flat


# ------------------------------------------------------------------------------------------- the code


def code_constants(predictions: Mapping = PREDICTIONS, modules: Callable[[str], ModuleType] = module) -> dict:
    """Each prediction's design, SESOI, α, seeds, and the value of every rule constant the registration names."""
    names = {k.split(".", 1)[1] for k in registration() if k.startswith("P") and k.split(".", 1)[1].isupper()}
    flat: dict[str, object] = {}
    for key, pred in predictions.items():
        flat |= {f"{key}.design": list(pred.experiments), f"{key}.sesoi": pred.sesoi}
        flat |= {f"{key}.alpha": pred.alpha, f"{key}.seeds": pred.seeds}
        flat |= {f"{key}.{n}": float(getattr(modules(key), n)) for n in names if hasattr(modules(key), n)}
    return flat


def code_configs(experiments: Mapping[str, Experiment] | None = None) -> dict:
    """The design configs in experiments/, flattened."""
    if experiments is None:
        experiments = {n: load_experiment(n) for p in PREDICTIONS.values() for n in p.experiments}
    return {k: v for name, exp in experiments.items() for k, v in _flat_config(name, exp).items()}


def _label(x: float) -> str:
    return f"{x:g}"


#: Per prediction, the conditions its verdict decided, read from the verdict's table.
DECIDED: dict[str, Callable[[pd.DataFrame], list[str]]] = {
    "P1": lambda t: [f"without pool={_label(p)}" for p in t.loc[t["r_without_pool"].notna(), "pool_size"]],
    "P2": lambda t: [f"{r.loss} tau={_label(r.tau)}" for r in t.itertuples()],
    "P3": lambda t: [f"{r.design}: {r.contrast}" for r in t.itertuples() if not r.contrast.startswith("ANOVA")],
    "P4": lambda t: [f"nonbilinear={_label(g)}" for g in t["nonbilinear"]],
    "P5": lambda t: [],
    "P6": lambda t: [f"teacher_noise={_label(n)}" for n in t["teacher_noise"].unique()],
    "P7": lambda t: [f"{r.vectors} {r.measure}" for r in t[t["outcome"].notna()].itertuples()],
    "P8": lambda t: [f"nonbilinear={_label(r.nonbilinear)} beta={_label(r.beta)}" for r in t.itertuples()],
    "P9": lambda t: [],
    "P10": lambda t: list(t.loc[t["outcome"] != "not decided", "loss"]),
    "P11": lambda t: [f"pool={_label(p)}" for p in t.loc[t["outcome"] != "not decided", "pool_size"]],
    "P12": lambda t: [],
    "P13": lambda t: list(t["condition"]),
}


@cache
def committed_tables(key: str) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(RESULTS_DIR / name / "results.parquet") for name in PREDICTIONS[key].experiments}


@cache
def committed_verdict(key: str) -> Verdict:
    return registered_verdict(PREDICTIONS[key], committed_tables(key))


def code_conditions(verdicts: Mapping[str, Verdict]) -> dict:
    return {f"{k}.conditions": sorted(DECIDED[k](v.table)) for k, v in verdicts.items()}


def _kind(decide: Callable) -> str:
    return next((name for name, f in KINDS.items() if f is decide), f"{decide.__module__}.{decide.__qualname__}")


def code_parts(modules: Callable[[str], ModuleType] = module) -> dict:
    """The named parts of every rule written as a dictionary (``RULE``), with their decision kind."""
    return {
        f"{k}.parts": {p: _kind(f) for p, f in modules(k).RULE.items()}
        for k in PREDICTIONS
        if hasattr(module(k), "RULE")
    }


def differences(expected: Mapping[str, object], actual: Mapping[str, object], keys=None) -> list[str]:
    """The keys (of ``keys``, default all) whose values differ, with both values."""

    def same(a, b) -> bool:
        if isinstance(a, float) or isinstance(b, float):
            return isinstance(a, int | float) and isinstance(b, int | float) and math.isclose(a, b)
        return a == b

    keys = sorted(set(expected) | set(actual)) if keys is None else keys
    return [
        f"{k}: registered {expected.get(k, MISSING)!r}, code {actual.get(k, MISSING)!r}"
        for k in keys
        if not same(expected.get(k, MISSING), actual.get(k, MISSING))
    ]


def _scope(prefixes: tuple[str, ...]) -> Callable[[str], bool]:
    return lambda k: k.startswith(prefixes)


def check_constants(actual: Mapping | None = None) -> list[str]:
    actual = code_constants() if actual is None else actual
    expected = {k: v for k, v in registered_now().items() if k.split(".")[0] in PREDICTIONS}
    expected = {k: v for k, v in expected.items() if not k.endswith((".conditions", ".parts"))}
    return differences(expected, actual)


def check_configs(actual: Mapping | None = None) -> list[str]:
    actual = code_configs() if actual is None else actual
    expected = {k: v for k, v in registered_now().items() if k.split(".")[0] not in PREDICTIONS}
    return differences(expected, actual)


def check_conditions(actual: Mapping) -> list[str]:
    return differences({k: v for k, v in registered_now().items() if k.endswith(".conditions")}, actual)


def check_parts(actual: Mapping | None = None) -> list[str]:
    actual = code_parts() if actual is None else actual
    return differences({k: v for k, v in registered_now().items() if k.endswith(".parts")}, actual)


def committed_block(key: str) -> str:
    return {m["name"]: m["body"] for m in BLOCK.finditer(PAPER.read_text())}[key]


def check_verdict(key: str, tables: Mapping[str, pd.DataFrame]) -> list[str]:
    """The paper's block of ``key`` against the block the rule gives on ``tables`` (the freshness check of one
    prediction): ``[]`` when they agree."""
    block = prediction_block(key, registered_verdict(PREDICTIONS[key], tables))
    return [] if block == committed_block(key) else [f"{key}: the rule's block differs from paper/paper.md"]


# --------------------------------------------------------------------------------------------- the tests


def test_every_prediction_is_registered_once():
    keys = {k.split(".")[0] for k in registration() if k.endswith(".sesoi")}
    assert keys == set(PREDICTIONS)
    assert set(SOURCES["conditions"]) == set(PREDICTIONS) == set(DECIDED)


def test_rule_constants_match_the_registration():
    assert not check_constants()


def test_configs_match_the_registered_grids():
    assert not check_configs()


@pytest.mark.parametrize("key", list(PREDICTIONS))
def test_configs_run_the_registered_seeds(key):
    for name in PREDICTIONS[key].experiments:
        assert load_experiment(name).seeds == PREDICTIONS[key].seeds, name


def test_rule_parts_match_the_registration():
    assert not check_parts()


def test_decided_conditions_match_the_registration():
    assert not check_conditions(code_conditions({k: committed_verdict(k) for k in PREDICTIONS}))


def test_every_deviation_is_complete_and_needed():
    """Each entry has the required fields and real commits; each override or removal names a registered key and
    changes its value (an override that restates the registration is no deviation)."""
    frozen = registration()
    for d in deviations():
        assert {"id", "date", "prediction", "commit", "stage", "change", "reason"} <= set(d), d.get("id")
        assert d["commit"] and all(len(c) >= 7 for c in d["commit"]), d["id"]
        for key, value in d.get("overrides", {}).items():
            assert key in frozen and differences({key: frozen[key]}, {key: value}), f"{d['id']}: {key}"
        assert all(key in frozen for key in d.get("removed", [])), d["id"]
    assert len({d["id"] for d in deviations()}) == len(deviations())


def test_deviation_commits_exist_in_git():
    commits = sorted({c for d in deviations() for c in d["commit"]})
    if _git("rev-parse", "--is-shallow-repository").stdout.strip() != b"false":
        pytest.skip("no full git history (shallow clone or no git): commits cannot be looked up")
    unknown = [c for c in commits if _git("cat-file", "-e", f"{c}^{{commit}}").returncode]
    assert not unknown, f"deviation commits not in git: {unknown}"


def test_paper_deviations_table_is_generated_from_the_toml():
    assert committed_block("deviations") == deviations_block()
    assert all(f"| {d['id']} |" in committed_block("deviations") for d in deviations())


def test_a_deviation_covers_a_difference_only_exactly():
    """The logged removal of P11's UNIFORM is what lets the code pass: without it the code differs, and an
    override to any other value than the code's is a difference too."""
    devs = deviations()
    assert any("P11.UNIFORM" in d.get("removed", []) for d in devs)
    without = [d | {"removed": [k for k in d.get("removed", []) if k != "P11.UNIFORM"]} for d in devs]
    assert "P11.UNIFORM" in registered_now(without) and "P11.UNIFORM" not in code_constants()
    wrong = [*devs, {"overrides": {"P4.sesoi": 0.03}}]
    assert differences(registered_now(wrong), code_constants(), ["P4.sesoi"])


# ------------------------------------------------------------------------------------ mutation checks


def _flipped(kind: str) -> Callable[[Effect, float], str]:
    """``decide_<kind>`` with its first comparison reversed (``<`` ↔ ``>``)."""

    def increase(e: Effect, sesoi: float) -> str:
        return "refuted" if e.high > sesoi else "supported" if e.low > 0 else "inconclusive"

    def change(e: Effect, sesoi: float) -> str:
        if -sesoi > e.low and e.high < sesoi:
            return "refuted"
        return "supported" if e.low > 0 or e.high < 0 else "inconclusive"

    def equivalence(e: Effect, margin: float) -> str:
        if -margin > e.low and e.high < margin:
            return "supported"
        return "refuted" if e.low >= margin or e.high <= -margin else "inconclusive"

    return {"increase": increase, "change": change, "equivalence": equivalence}[kind]


#: Per prediction, a level of its design to drop: (experiment, grid axis, value); where the prediction decides over
#: conditions, the level is one condition's (P5, P9, P12 decide one conjunction: a level of the design).
DROPPED_LEVEL = {
    "P1": ("p01-gap-vs-diameter", "sampler.pool_size", 10),
    "P2": ("p02-entropy-floor", "teacher.tau", 3.0),
    "P3": ("p03-additivity", "teacher.tau", 3.0),
    "P4": ("p04-hard-negatives", "world.nonbilinear", 0.5),
    "P5": ("p05-false-negatives", "sampler.offset", 10),
    "P6": ("p06-entropy-quality", "teacher.noise", 0.6),
    "P7": ("p07-diameter-geometry", "world.sphere", True),
    "P8": ("p08-augmentation", "world.nonbilinear", 1.0),
    "P9": ("p09-extreme-entropy", "data.test_shift", 0.0),
    "P10": ("p10-kl-ndcg", "loss.name", "ranknet_soft"),
    "P11": ("p11-group-size", "sampler.pool_size", 20),
    "P12": ("p12-seed-noise", "sampler.pool_size", 250),
    "P13": ("p13-stratified", "world.geometry", "clustered"),
}


def _without_level(df: pd.DataFrame, axis: str, value) -> pd.DataFrame:
    """The rows of ``df`` whose resolved config does not have ``axis`` (``section.key``) equal to ``value``."""
    section, key = axis.split(".", 1)
    return df[df["config"].map(lambda c: json.loads(c)[section].get(key) != value)]


@pytest.mark.parametrize("key", list(PREDICTIONS))
def test_mutation_drop_one_condition_fails_a_registration_test(key):
    """Drop one level of the design from its grid: the config check fails; where the prediction decides over
    conditions, its verdict on the committed results without that level's rows fails the conditions check."""
    name, axis, value = DROPPED_LEVEL[key]
    exp = load_experiment(name)
    mutated = dataclasses.replace(exp, grid={**exp.grid, axis: [v for v in exp.grid[axis] if v != value]})
    assert len(mutated.grid[axis]) == len(exp.grid[axis]) - 1
    assert check_configs(code_configs({**{n: load_experiment(n) for n in PREDICTIONS[key].experiments}, name: mutated}))
    if SOURCES["conditions"][key]:
        tables = {**committed_tables(key), name: _without_level(committed_tables(key)[name], axis, value)}
        verdict = PREDICTIONS[key].analyse(tables)
        others = {k: committed_verdict(k) for k in PREDICTIONS if k != key}
        assert check_conditions(code_conditions(others | {key: verdict}))


def _flip_rule(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    """Reverse the first comparison of every decision the prediction's module uses (its ``RULE`` included)."""
    mod = module(key)
    for kind, original in KINDS.items():
        if getattr(mod, f"decide_{kind}", None) is original:
            monkeypatch.setattr(mod, f"decide_{kind}", _flipped(kind))
    if hasattr(mod, "RULE"):
        monkeypatch.setattr(mod, "RULE", {p: _flipped(_kind(f)) for p, f in mod.RULE.items()})


#: Per prediction, its tests on constructed data with a known answer (tests/test_predictions.py).
KNOWN_ANSWER_TESTS = {
    "P1": ["test_p1_a_linear_rise_is_supported_and_a_fall_refuted"],
    "P6": ["test_p6_a_shift_that_does_not_lower_quality_leaves_its_part_untested"],
    "P3": ["test_p3_additive_is_supported_and_interaction_refutes_even_with_unequal_variances"],
    "P4": ["test_p4_supported_refuted_and_conditional"],
    "P5": ["test_p5_supported_and_refuted_when_the_filter_helps_kl"],
    "P7": ["test_p7_cone_must_shrink_at_most_half_on_raw_and_sphere_vectors"],
    "P9": ["test_p9_harm_growing_under_shift_is_supported_and_no_harm_refuted"],
    "P10": ["test_p10_decides_on_distillation_losses_only"],
    "P11": ["test_p11_difference_in_differences_decides_per_local_pool"],
    "P12": ["test_p12_noise_ranking_is_supported_and_unequal_samplers_are_untested"],
    "P13": ["test_p13_the_predicted_best_within_the_sesoi_is_supported_a_better_other_refutes"],
}


def failing_checks(key: str) -> list[str]:
    """The registration and verdict checks of ``key`` that fail now: the paper block (freshness), the rule's
    parts, and its known-answer tests."""
    import test_predictions

    failed = ["paper block"] if check_verdict(key, committed_tables(key)) else []
    failed += ["rule parts"] if any(k.startswith(f"{key}.") for k in check_parts()) else []
    for name in KNOWN_ANSWER_TESTS.get(key, []):
        try:
            getattr(test_predictions, name)()
        except AssertionError:
            failed.append(name)
    return failed


@pytest.mark.parametrize("key", list(PREDICTIONS))
def test_mutation_flip_one_comparison_fails_a_verdict_test(key, monkeypatch):
    """With the first comparison of every decision the rule uses reversed, some check of the prediction fails."""
    assert failing_checks(key) == []
    _flip_rule(monkeypatch, key)
    assert failing_checks(key)


@pytest.mark.parametrize(
    ("change", "value"),
    [("P4.sesoi", 0.03), ("P11.seeds", 13), ("P7.HARDLY", 0.6), ("P1.alpha", 0.1), ("P3.design", ["p03-additivity"])],
)
def test_mutation_changed_constant_fails_the_constants_check(change, value):
    assert check_constants(code_constants() | {change: value})


def test_mutation_dropped_pool_20_condition_fails(monkeypatch):
    """The issue's example: P11 without its pool-20 condition is supported; the conditions check catches it."""
    tables = {n: df[df["pool_size"] != 20] for n, df in committed_tables("P11").items()}
    verdict = PREDICTIONS["P11"].analyse(tables)
    assert verdict.outcome == "supported" and committed_verdict("P11").outcome == "conditional"
    others = {k: committed_verdict(k) for k in PREDICTIONS if k != "P11"}
    assert check_conditions(code_conditions(others | {"P11": verdict})) == [
        "P11.conditions: registered ['pool=100', 'pool=20'], code ['pool=100']"
    ]


# ------------------------------------------------------------------------------------------- pilots

PILOTS = PROJECT_ROOT / "results" / "pilots"


def test_the_committed_pilots_give_the_registered_seeds():
    """The addendum's seeds are the largest sample size at 80% power over the decided parts, with the SDs of the
    committed 5-seed pilots (results/pilots/): P5 over its six parts, P7 over its four conditions' two parts."""
    from simrank.predictions import p05, p07
    from simrank.predictions.base import effect_of, seeds_change, seeds_equivalence

    p5 = pd.read_parquet(PILOTS / p05.EXPERIMENT / "results.parquet")
    p7 = pd.read_parquet(PILOTS / p07.EXPERIMENT / "results.parquet")
    assert p5["seed"].nunique() == p7["seed"].nunique() == 5
    e = p05._effects(p5)
    need = {
        k: (seeds_equivalence if KINDS[v] is base.decide_equivalence else seeds_change)(p05.SESOI, e[k].sd)
        for k, v in SOURCES["parts"]["P5"].items()
    }
    assert max(need.values()) == p05.SEEDS == registration()["P5.seeds"]
    assert round(e["lce_gain"].sd, 4) == 0.0363  # the SD the addendum quotes for the deciding part
    shrinks, need7 = p07._shrinks(p7), []
    for suffix in p07.VECTORS.values():
        for measure in ("absolute", "relative"):
            iso, cone = shrinks[f"isotropic{suffix}"][measure], shrinks[f"cone{suffix}"][measure]
            need7.append(seeds_change(p07.HARDLY * p07.SESOI, effect_of((p07.HARDLY * iso - cone).to_numpy()).sd))
            need7.append(seeds_change(p07.SESOI, effect_of(iso.to_numpy()).sd))
    assert max(need7) == p07.SEEDS == registration()["P7.seeds"]
    for df in (p5, p7):
        assert df["code_commit"].str.fullmatch(r"[0-9a-f]{40}").all()  # produced by committed, clean code


def test_p13_predicted_order_is_the_registered_one():
    """The order of the samplers per condition in ``p13.PREDICTED`` is the theory's table of the frozen P13
    registration (rows ``| condition | rank | sampler | ...``), rank by rank."""
    from simrank.predictions import p13

    frozen: dict[str, list[str]] = {}
    for line in p13_addendum().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0] in p13.PREDICTED and cells[1].isdigit():
            frozen.setdefault(cells[0], []).append(cells[2])
    assert {c: tuple(v) for c, v in frozen.items()} == p13.PREDICTED
    assert sorted(p13.PREDICTED) == registration()["P13.conditions"]


def test_the_committed_p13_pilot_gives_the_registered_seeds():
    """P13's seeds: the largest sample size at 80% power over the 12 decided margins, with the per-seed SDs of the
    committed 5-seed pilot (results/pilots/p13-stratified/)."""
    from simrank.predictions import p13

    pilot = pd.read_parquet(PILOTS / p13.EXPERIMENT / "results.parquet")
    assert pilot["seed"].nunique() == 5 and pilot["code_commit"].str.fullmatch(r"[0-9a-f]{40}").all()
    assert p13.pilot_seeds(pilot) == p13.SEEDS == registration()["P13.seeds"]
