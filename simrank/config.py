"""Experiment configs: TOML files with one table per pipeline stage, a ``[grid]`` and ``[quick]`` overrides.

```toml
name = "bias-sweep"
seeds = 5
[world]    # WorldConfig fields
[teacher]  # Teacher fields (tau is the label temperature)
[sampler]  # make_sampler options: kind, pool_size, beta, proxy, eta, filter_margin
[student]  # make_student options: kind, structure, rank, norm_bound, hidden
[loss]     # name
[train]    # TrainConfig fields
[data]     # DataConfig fields
[grid]     # "section.key" = [values, ...]  (Cartesian product; the value "none" leaves the key unset)
[quick]    # "section.key" = value  (applied by --quick; "grid.section.key" replaces a grid axis)
```
Every grid point is validated before anything is computed.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import itertools
import json
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

from simrank.errors import ConfigError, check_choice, check_nonnegative, check_positive, check_range
from simrank.losses import LOSSES
from simrank.paths import experiments_dir
from simrank.samplers import make_sampler
from simrank.students import STUDENT_KINDS
from simrank.teacher import Teacher
from simrank.trainer import TrainConfig
from simrank.world import WorldConfig


@dataclass(frozen=True)
class DataConfig:
    group_size: int = 8
    n_train: int = 512  # training groups
    n_queries: int = 128  # distinct training queries (group i uses query i mod n_queries)
    n_test: int = 512  # held-out groups from the same sampler, on fresh queries
    n_eval_queries: int = 32  # fresh queries ranked over the whole corpus
    kendall_docs: int = 64  # corpus documents (fixed random subset) for Kendall τ with the teacher
    test_shift: float = 0.0  # domain shift of the test/eval query law
    train_queries: str = "all"  # training queries kept by teacher corpus entropy (groups.QUERY_SELECTIONS)
    entropy_fraction: float = 0.25  # fraction of candidate queries kept when train_queries != "all"
    match_entropy: float = 0.0  # > 0: τ per (point, seed) chosen so the train groups' mean H_pair equals it
    world_per_seed: bool = True  # each seed draws its own world and teacher perturbation (False: one fixed world)

    def __post_init__(self):
        from simrank.groups import QUERY_SELECTIONS

        for name in ("group_size", "n_train", "n_queries", "n_test", "n_eval_queries", "kendall_docs"):
            check_positive(f"data.{name}", getattr(self, name))
        check_choice("data.train_queries", self.train_queries, QUERY_SELECTIONS)
        check_range("data.entropy_fraction", self.entropy_fraction, 1e-3, 1.0)
        if not 0.0 <= self.match_entropy < math.log(2):
            raise ConfigError(
                f"data.match_entropy = {self.match_entropy!r} is not allowed; it must lie in [0, log 2) nats (0 = off)"
            )
        if self.group_size < 2:
            raise ConfigError(f"data.group_size = {self.group_size} is not allowed; it must be an integer >= 2")
        check_nonnegative("data.test_shift", abs(self.test_shift))


SECTIONS = {
    "world": {f.name for f in dataclasses.fields(WorldConfig)},
    "teacher": {f.name for f in dataclasses.fields(Teacher)},
    "sampler": {"kind", "pool_size", "beta", "proxy", "proxies", "eta", "filter_margin"},
    "student": {"kind", "structure", "rank", "norm_bound", "hidden"},
    "loss": {"name"},
    "train": {f.name for f in dataclasses.fields(TrainConfig)},
    "data": {f.name for f in dataclasses.fields(DataConfig)},
}
TOP_LEVEL = {"name", "description", "seeds", "grid", "quick", *SECTIONS}


@dataclass(frozen=True)
class Point:
    """One fully resolved grid point (every section filled), plus the grid coordinates that define it."""

    sections: dict
    coords: dict

    @property
    def world(self) -> WorldConfig:
        return WorldConfig(**_tuples(self.sections["world"]))

    @property
    def teacher(self) -> Teacher:
        return Teacher(**self.sections["teacher"])

    @property
    def train(self) -> TrainConfig:
        return TrainConfig(**self.sections["train"])

    @property
    def data(self) -> DataConfig:
        return DataConfig(**self.sections["data"])

    @property
    def loss(self) -> str:
        return self.sections["loss"]["name"]

    @property
    def tau(self) -> float:
        return float(self.sections["teacher"]["tau"])

    def sampler(self):
        return make_sampler(**self.sections["sampler"])

    def json(self) -> str:
        return json.dumps(self.sections, sort_keys=True, default=list)


@dataclass(frozen=True)
class Experiment:
    name: str
    description: str
    seeds: int
    base: dict
    grid: dict
    source: str

    @property
    def hash(self) -> str:
        payload = json.dumps({"seeds": self.seeds, "base": self.base, "grid": self.grid}, sort_keys=True, default=list)
        return hashlib.sha256(payload.encode()).hexdigest()[:12]

    def resolved(self) -> dict:
        return {"name": self.name, "description": self.description, "seeds": self.seeds, **self.base, "grid": self.grid}

    def points(self) -> list[Point]:
        axes = list(self.grid.items())
        out = []
        for values in itertools.product(*(v for _, v in axes)):
            sections = copy.deepcopy(self.base)
            coords = {}
            for (key, _), value in zip(axes, values):
                section, field = key.split(".", 1)
                sections[section][field] = None if value == "none" else value  # "none": unset (e.g. no filter)
                coords[key] = value
            point = Point(sections, coords)
            validate(point)
            out.append(point)
        return out


DEFAULTS = {
    "world": {},
    "teacher": {},
    "sampler": {"kind": "uniform"},
    "student": {"kind": "bilinear"},
    "loss": {"name": "kl"},
    "train": {},
    "data": {},
}


def list_experiments() -> list[tuple[str, str]]:
    """``(name, description)`` of every config in ``experiments/``."""
    return [(p.stem, _read_toml(p).get("description", "")) for p in sorted(experiments_dir().glob("*.toml"))]


def load_experiment(name_or_path: str, quick: bool = False, seeds: int | None = None) -> Experiment:
    """Load ``experiments/NAME.toml`` or a TOML file path, apply ``--quick`` overrides, validate."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = experiments_dir() / f"{name_or_path}.toml"
        if not path.exists():
            known = ", ".join(n for n, _ in list_experiments())
            raise ConfigError(
                f"experiment {name_or_path!r} not found; known experiments: {known} (or give a .toml path)"
            )
    if not path.exists():
        raise ConfigError(f"config file {str(path)!r} does not exist")
    raw = _read_toml(path)
    unknown = set(raw) - TOP_LEVEL
    if unknown:
        raise ConfigError(
            f"unknown config key {sorted(unknown)[0]!r}; allowed top-level keys: {', '.join(sorted(TOP_LEVEL))}"
        )
    base = {s: {**DEFAULTS[s], **raw.get(s, {})} for s in SECTIONS}
    grid = dict(raw.get("grid", {}))
    n_seeds = raw.get("seeds", 5)
    if quick:
        for key, value in raw.get("quick", {}).items():
            if key == "seeds":
                n_seeds = value
            elif key.startswith("grid."):
                grid[key[5:]] = value
            else:
                section, field = _split_key(key)
                base[section][field] = value
    if seeds is not None:
        n_seeds = seeds
    for section, table in base.items():
        _check_fields(section, table)
    for key, values in grid.items():
        section, field = _split_key(key)
        _check_fields(section, {field: None})
        if not isinstance(values, list) or not values:
            raise ConfigError(f"grid axis {key!r} = {values!r} is not allowed; it must be a non-empty list")
    if not isinstance(n_seeds, int) or n_seeds < 1:
        raise ConfigError(f"seeds = {n_seeds!r} is not allowed; it must be an integer >= 1")
    exp = Experiment(raw.get("name", path.stem), raw.get("description", ""), n_seeds, base, grid, path.read_text())
    exp.points()  # validate every grid point now
    return exp


def validate(point: Point) -> None:
    """Construct every object of a grid point so that bad values fail before any computation."""
    world = point.world
    point.teacher, point.train, point.sampler()
    data = point.data
    if point.loss not in LOSSES:
        raise ConfigError(f"loss.name = {point.loss!r} is not allowed; choose one of {', '.join(LOSSES)}")
    kind = point.sections["student"].get("kind")
    sweepable = [k for k in STUDENT_KINDS if k != "tabular"]  # a table cannot score unseen queries
    if kind not in sweepable:
        raise ConfigError(
            f"student.kind = {kind!r} is not allowed in an experiment; choose one of {', '.join(sweepable)}"
        )
    if data.group_size > world.n_docs:
        raise ConfigError(
            f"data.group_size = {data.group_size} is not allowed; it must be <= world.n_docs = {world.n_docs}"
        )
    pool = point.sections["sampler"].get("pool_size")
    if pool is not None and pool > world.n_docs:
        raise ConfigError(f"sampler.pool_size = {pool} is not allowed; it must be <= world.n_docs = {world.n_docs}")


def _split_key(key: str) -> tuple[str, str]:
    section, _, field = key.partition(".")
    if section not in SECTIONS or not field:
        raise ConfigError(
            f"config key {key!r} is not allowed; use 'section.field' with section one of {', '.join(SECTIONS)}"
        )
    return section, field


def _check_fields(section: str, table: dict) -> None:
    for field in table:
        if field not in SECTIONS[section]:
            raise ConfigError(
                f"unknown key {section}.{field!s}; allowed keys in [{section}]: {', '.join(sorted(SECTIONS[section]))}"
            )


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"config file {str(path)!r} is not valid TOML: {err}") from None


def _tuples(table: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in table.items()}
