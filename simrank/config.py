"""Experiment configs: TOML files with one table per pipeline stage, a ``[grid]`` and ``[quick]`` overrides.

```toml
name = "bias-sweep"
seeds = 5
[world]    # simrank.world.WorldConfig fields
[teacher]  # simrank.teacher.Teacher fields (tau is the label temperature)
[sampler]  # simrank.samplers.SamplerConfig: kind (a key of SAMPLERS), pool_size, beta, proxy, proxies, eta, filter_margin, offset, strata, exclude_positive
[student]  # simrank.students.StudentConfig: kind (a key of STUDENTS), structure, rank, norm_bound, hidden
[loss]     # simrank.losses.LossConfig: name (a key of LOSS_SPECS), pairs ("all" or "positive", pairwise losses)
[train]    # simrank.trainer.TrainConfig fields
[data]     # DataConfig fields
[grid]     # "section.key" = [values, ...]  (Cartesian product; the value "none" leaves the key unset)
[quick]    # "section.key" = value  (applied by --quick; "grid.section.key" replaces a grid axis)
```
Every section and every key is optional: an absent key takes the default of its dataclass field (so a
config with only ``[world]`` runs). Each value is type-checked against the field's annotation and
range-checked by the dataclass (:func:`build_section`), and every grid point is validated before
anything is computed.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import itertools
import json
import math
import tomllib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simrank.errors import ConfigError, check_choice, check_nonnegative, check_positive, check_range
from simrank.losses import LossConfig
from simrank.paths import experiments_dir, list_experiments
from simrank.samplers import Sampler, SamplerConfig
from simrank.students import STUDENTS, StudentConfig
from simrank.teacher import Teacher
from simrank.trainer import TrainConfig
from simrank.world import WorldConfig

__all__ = [
    "SECTIONS",
    "SECTION_TYPES",
    "TOP_LEVEL",
    "DataConfig",
    "Experiment",
    "Point",
    "build_section",
    "list_experiments",
    "load_experiment",
    "validate",
]


@dataclass(frozen=True)
class DataConfig:
    """The ``[data]`` table: how many groups and queries are drawn for training, testing and evaluation.

    Attributes:
      group_size: documents per training group ``k`` (the positive and ``k − 1`` negatives), an integer >= 2.
      n_train: training groups.
      n_queries: distinct training queries (group ``i`` uses query ``i mod n_queries``).
      n_test: held-out groups from the same sampler, on fresh queries.
      n_eval_queries: fresh queries ranked over the whole corpus (nDCG@10, RR@10, corpus KL).
      kendall_docs: corpus documents (a fixed random subset) for Kendall τ with the teacher.
      test_shift: domain shift of the test and evaluation query law (the world's ``shift``).
      train_queries: training queries kept by teacher corpus entropy (``groups.QUERY_SELECTIONS``).
      entropy_fraction: fraction of candidate queries kept when ``train_queries != "all"``.
      match_entropy: if > 0, τ per (point, seed) is chosen so that the training groups' mean ``H_pair`` equals it
        (nats; 0 = off).
      world_per_seed: each seed draws its own world and teacher perturbation (False: one fixed world).
      seeds_per_world: with ``world_per_seed``, seeds ``s`` share world ``s // seeds_per_world`` (between-world
        designs).
    """

    group_size: int = 8
    n_train: int = 512
    n_queries: int = 128
    n_test: int = 512
    n_eval_queries: int = 32
    kendall_docs: int = 64
    test_shift: float = 0.0
    train_queries: str = "all"
    entropy_fraction: float = 0.25
    match_entropy: float = 0.0
    world_per_seed: bool = True
    seeds_per_world: int = 1

    def __post_init__(self):
        from simrank.groups import QUERY_SELECTIONS

        for name in (
            "group_size",
            "n_train",
            "n_queries",
            "n_test",
            "n_eval_queries",
            "kendall_docs",
            "seeds_per_world",
        ):
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


#: The config sections, in pipeline order: ``[section]`` -> the dataclass that types and checks it.
SECTION_TYPES: dict[str, type] = {
    "world": WorldConfig,
    "teacher": Teacher,
    "sampler": SamplerConfig,
    "student": StudentConfig,
    "loss": LossConfig,
    "train": TrainConfig,
    "data": DataConfig,
}
SECTIONS = {name: {f.name for f in dataclasses.fields(cls)} for name, cls in SECTION_TYPES.items()}
TOP_LEVEL = {"name", "description", "seeds", "grid", "quick", *SECTIONS}


def build_section(section: str, table: dict) -> Any:
    """The typed, checked config object of one ``[section]`` table; every absent key takes its default.

    Each value is checked against the field's annotation (``int``, ``float``, ``bool``, ``str``,
    ``tuple[...]``, ``X | None``) before the dataclass's own range checks run.

    Returns:
      An instance of ``SECTION_TYPES[section]`` (``Any``: the class depends on the section's name).

    Raises:
      ConfigError: one line naming the bad key or value and what is allowed.
    """
    cls = SECTION_TYPES[section]
    hints = typing.get_type_hints(cls)
    values = {}
    for key, value in table.items():
        if key not in hints:
            allowed = ", ".join(sorted(SECTIONS[section]))
            raise ConfigError(f"unknown key {section}.{key!s}; allowed keys in [{section}]: {allowed}")
        values[key] = _typed(f"{section}.{key}", value, hints[key])
    return cls(**values)


def _typed(name: str, value, hint):
    """``value`` checked against (and converted to) the type ``hint``; ConfigError if it does not fit."""
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _typed(name, value, inner)
    if typing.get_origin(hint) is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{name} = {value!r} is not allowed; it must be a list")
        return tuple(_typed(f"{name}[{i}]", v, args[0]) for i, v in enumerate(value))
    expected = {bool: "true or false", int: "an integer", float: "a finite number", str: "a string"}[hint]
    ok = isinstance(value, hint) and not (hint is int and isinstance(value, bool))
    if hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok:
        raise ConfigError(f"{name} = {value!r} is not allowed; it must be {expected}")
    return float(value) if hint is float else value


@dataclass(frozen=True)
class Point:
    """One fully resolved grid point: the typed config of every section, built once.

    ``sections`` may leave keys (or whole sections) out; after construction it holds every field of every
    section (defaults filled in), and ``coords`` the grid coordinates that define the point.
    """

    sections: dict
    coords: dict
    world: WorldConfig = dataclasses.field(init=False, repr=False, compare=False)
    teacher: Teacher = dataclasses.field(init=False, repr=False, compare=False)
    sampler_config: SamplerConfig = dataclasses.field(init=False, repr=False, compare=False)
    student: StudentConfig = dataclasses.field(init=False, repr=False, compare=False)
    train: TrainConfig = dataclasses.field(init=False, repr=False, compare=False)
    data: DataConfig = dataclasses.field(init=False, repr=False, compare=False)
    loss: str = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self):
        built = {name: build_section(name, self.sections.get(name) or {}) for name in SECTION_TYPES}
        for name, obj in built.items():
            object.__setattr__(self, "sampler_config" if name == "sampler" else name, obj)
        object.__setattr__(self, "loss", built["loss"].name)
        object.__setattr__(self, "sections", {name: dataclasses.asdict(obj) for name, obj in built.items()})

    @property
    def loss_options(self) -> dict:
        """The loss function's options beyond its name (``{"pairs": ...}`` for pairwise losses)."""
        return LossConfig(**self.sections["loss"]).options

    @property
    def tau(self) -> float:
        """The teacher's label temperature τ."""
        return float(self.teacher.tau)

    def sampler(self) -> Sampler:
        """The sampler of this point (``SamplerConfig.build()``)."""
        return self.sampler_config.build()

    def json(self) -> str:
        """The resolved config as canonical JSON (the ``config`` column of a results row)."""
        return json.dumps(self.sections, sort_keys=True, default=list)


@dataclass(frozen=True)
class Experiment:
    """A named experiment: the base sections, the grid axes (``"section.key" -> [values]``) and the seeds."""

    name: str
    description: str
    seeds: int
    base: dict
    grid: dict
    source: str

    @property
    def hash(self) -> str:
        """12 hex digits identifying the seeds, base config and grid."""
        payload = json.dumps({"seeds": self.seeds, "base": self.base, "grid": self.grid}, sort_keys=True, default=list)
        return hashlib.sha256(payload.encode()).hexdigest()[:12]

    def resolved(self) -> dict:
        """The experiment as a dict (written to ``OUT/config.json``)."""
        return {"name": self.name, "description": self.description, "seeds": self.seeds, **self.base, "grid": self.grid}

    def points(self) -> list[Point]:
        """Every grid point (the Cartesian product of the axes), validated."""
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
    if raw.get("command", "run") != "run":  # e.g. the real-data design experiments/real-confirm.toml
        raise ConfigError(f"{path.name} is not a synthetic experiment; run it with `simrank {raw['command']}`")
    unknown = set(raw) - TOP_LEVEL
    if unknown:
        raise ConfigError(
            f"unknown config key {sorted(unknown)[0]!r}; allowed top-level keys: {', '.join(sorted(TOP_LEVEL))}"
        )
    for section in SECTIONS:
        if not isinstance(raw.get(section, {}), dict):
            raise ConfigError(f"{section} = {raw[section]!r} is not allowed; it must be a table [{section}]")
    base = {s: dict(raw.get(s, {})) for s in SECTIONS}
    for top in ("grid", "quick"):
        if not isinstance(raw.get(top, {}), dict):
            raise ConfigError(f"{top} = {raw[top]!r} is not allowed; it must be a table [{top}]")
    for key in ("name", "description"):
        if not isinstance(raw.get(key, ""), str):
            raise ConfigError(f"{key} = {raw[key]!r} is not allowed; it must be a string")
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
    if not isinstance(n_seeds, int) or isinstance(n_seeds, bool) or n_seeds < 1:
        raise ConfigError(f"seeds = {n_seeds!r} is not allowed; it must be an integer >= 1")
    exp = Experiment(raw.get("name", path.stem), raw.get("description", ""), n_seeds, base, grid, path.read_text())
    exp.points()  # validate every grid point now
    return exp


def validate(point: Point) -> None:
    """Cross-section checks of a grid point (each section checked its own fields when the point was built)."""
    world, data = point.world, point.data
    kind = point.student.kind
    sweepable = [k for k, spec in STUDENTS.items() if spec.scores_unseen]  # a table cannot score unseen queries
    if kind not in sweepable:
        raise ConfigError(
            f"student.kind = {kind!r} is not allowed in an experiment; choose one of {', '.join(sweepable)}"
        )
    if data.group_size > world.n_docs:
        raise ConfigError(
            f"data.group_size = {data.group_size} is not allowed; it must be <= world.n_docs = {world.n_docs}"
        )
    pool, offset = point.sampler_config.pool_size, point.sampler_config.offset
    if pool is not None and pool + offset > world.n_docs:
        raise ConfigError(
            f"sampler.pool_size = {pool} is not allowed with sampler.offset = {offset}; "
            f"offset + pool_size must be <= world.n_docs = {world.n_docs}"
        )


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
