"""The design of ``simrank real confirm``: its config (``experiments/real-confirm.toml``, with a ``[quick]``
table), the training arms, the sampler specs and the constants that the run and its report share.

Arms: every loss in ``grid.losses`` trained on the *same* teacher-labelled training queries, with positives
``labels.primary`` (``teacher_top1``: ``p_q = δ(argmax_x g(q, x))``; ``teacher_softmax``: ``p_q =
softmax(g_q/τ)``), is a *primary* arm (``label_source`` = that value); with ``labels.supervised`` the
gold-qrels LCE (``label_source = "gold"``, training queries with judgments only) is a separate,
supervised reference arm ``lce_gold``.

Query splits (``split.kind``): ``"beir"`` splits the train-qrels queries into fit and validation
(``queries.validation_fraction``) and measures on the BEIR test qrels; ``"grouped"`` pools the train and test
qrels and splits their queries into *train* / *tune* / *decide* (``split.fractions``, seeded by ``split.seed``)
by connected components of the query–relevant-document graph (:func:`simrank.real.splits.grouped_query_split`), so that queries sharing a
relevant document stay in one split. In the files the tune split is the ``val`` set and the decide split the
``test`` set.

Teacher entropy (``teacher.entropies``, nats): when given, τ is not fixed but solved per target ``H`` so that
the mean listwise teacher entropy ``H(softmax(g/τ))`` over the tuning groups equals ``H``
(:func:`simrank.real.confirm.training.tau_for_entropy`), and each arm whose loss uses τ (not
:data:`TAU_FREE_LOSSES`) tunes τ among those values with its learning rate and steps.

Training groups (``train.redraw``): ``"once"`` draws each model's ``train.n_groups`` groups once (the BEIR design);
``"epoch"`` draws fresh groups (positives and negatives from the same sampler) for every epoch of ``n_groups``
groups' worth of minibatch draws, epoch ``e`` from the generator seeded ``[*seed, e]``
(:func:`simrank.groups.draw_epochs`).

Self-extending grids (``tune.extend`` rounds): when an arm's chosen learning rate (or number of steps) is the
smallest or largest tried, the next value beyond that edge, at the ratio of the two outermost values, is tried
(:func:`extend_grid`), until the choice is inside the grid or the rounds are spent.

Pre-registered rules (fixed in the config before the run): a (student, arm) cell *learns* when its
``rule.learn_on`` (``val``: tune; ``test``: decide) nDCG@10 change from the start (the grid's sampler × group-size cells of a seed averaged per
query) has a 95% two-way bootstrap interval over queries and seeds above 0 and a mean of at least ``rule.learn_min``; a student for which no
arm's chosen setting in the learning-rate search improves validation nDCG@10 by ``rule.learn_min`` is
demoted (reported in the search table, not trained on the grid); verdicts use learning cells only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from simrank.config import _read_toml
from simrank.errors import ConfigError, check_choice, check_nonnegative, check_positive, check_range
from simrank.losses import LOSS_SPECS, PAIRS, configured_loss
from simrank.paths import experiments_dir

__all__ = [
    "ALPHA_INIT",
    "LOWRANK_RANK",
    "Arm",
    "DEPTH",
    "LABEL_SOURCES",
    "QUERY_SOURCES",
    "RealConfig",
    "SAMPLERS",
    "STUDENTS",
    "SPLITS",
    "REDRAWS",
    "TAU_FREE_LOSSES",
    "extend_grid",
    "load_real_config",
    "lowrank_norm_bound",
    "sampler_spec",
]

ALPHA_INIT = 20.0  # cosine scale at init: softmax(20 cos) is the usual contrastive temperature 0.05
LOWRANK_RANK = 16  # rank of the lowrank student's correction (student.rank)
DEPTH = 100  # BM25 candidates re-ranked, and the depth of every run
LABEL_SOURCES = ("teacher_top1", "teacher_softmax")  # primary labels; "gold" is the supervised arm's
QUERY_SOURCES = ("train", "unlabeled", "titles")
SAMPLERS = ("random", "bm25", "dense", "teacher", "ensemble", "mixture", "teacher+filter")
STUDENTS = ("diag", "full", "lowrank", "mlp")
SPLITS = ("beir", "grouped")  # split.kind
REDRAWS = ("once", "epoch")  # train.redraw: training groups drawn once, or fresh negatives every epoch
TAU_FREE_LOSSES = ("lce", "ranknet_hard")  # losses whose value does not depend on the label temperature τ
HARD_SAMPLERS = ("bm25", "dense", "teacher", "ensemble")  # local (hard) negatives, against "random"


def lowrank_norm_bound(rank: int) -> float:
    """The default cap ``B = α₀ √r`` on the lowrank correction ``‖U Vᵀ‖_F`` (``α₀ = ALPHA_INIT``): the Frobenius norm
    of the initial cosine term ``α₀ I`` restricted to a rank-``r`` subspace, so the cap scales with the score.

    Examples:
      >>> lowrank_norm_bound(16)
      80.0
    """
    return ALPHA_INIT * math.sqrt(rank)


def sampler_spec(
    name: str, pool_size: int, eta: float, filter_margin: float, exclude_positive: bool = False
) -> dict[str, Any]:
    """The :func:`simrank.samplers.make_sampler` options of the named sampler.

    ``NAME@ETA`` (e.g. ``"bm25@0.25"``) is sampler ``NAME`` mixed with a fraction ``ETA`` ∈ [0, 1] of uniform
    negatives (``ν_η = (1 − η) ν + η μ``), whatever ``eta`` says.  With ``exclude_positive`` every top-M pool is
    built without the group's positive (``random`` stays uniform over the corpus).
    """
    base, at, mix = name.partition("@")
    check_choice("grid.samplers", base, SAMPLERS)
    specs: dict[str, dict[str, Any]] = {
        "random": {"kind": "uniform"},
        "bm25": {"kind": "local", "proxy": "bm25", "pool_size": pool_size},
        "dense": {"kind": "local", "proxy": "dense", "pool_size": pool_size},
        "teacher": {"kind": "teacher_top", "pool_size": pool_size},
        "ensemble": {"kind": "ensemble", "pool_size": pool_size},
        "mixture": {"kind": "local", "proxy": "bm25", "pool_size": pool_size, "eta": eta},
        "teacher+filter": {"kind": "teacher_top", "pool_size": pool_size, "filter_margin": filter_margin},
    }
    spec = specs[base]
    if exclude_positive and base != "random":
        spec = spec | {"exclude_positive": True}
    if at:
        try:
            spec = spec | {"eta": float(mix)}
        except ValueError:
            raise ConfigError(f"grid.samplers = {name!r} is not allowed; write NAME@ETA with ETA a number") from None
        check_range("grid.samplers eta", spec["eta"], 0.0, 1.0)
    return spec


class Arm(NamedTuple):
    """One trained arm: its name, loss and where its positives come from."""

    name: str
    loss: str
    label_source: str


#: TOML key ("section.key") -> RealConfig field
FIELDS = {
    "teacher.kind": "teacher",
    "teacher.weights": "teacher_weights",
    "teacher.tau": "tau",
    "teacher.entropies": "entropies",
    "split.kind": "split",
    "split.fractions": "split_fractions",
    "split.seed": "split_seed",
    "labels.primary": "label_source",
    "labels.supervised": "supervised",
    "queries.sources": "query_sources",
    "queries.n_titles": "n_titles",
    "queries.validation_fraction": "validation_fraction",
    "grid.losses": "losses",
    "grid.samplers": "samplers",
    "grid.group_sizes": "group_sizes",
    "grid.students": "students",
    "student.rank": "lowrank_rank",
    "student.norm_bound": "lowrank_norm_bound",
    "sampler.pool_size": "pool_size",
    "sampler.eta": "eta",
    "sampler.filter_margin": "filter_margin",
    "sampler.exclude_positive": "exclude_positive",
    "loss.pairs": "pairs",
    "train.n_groups": "n_groups",
    "train.batch_size": "batch_size",
    "train.weight_decay": "weight_decay",
    "train.redraw": "redraw",
    "tune.learning_rates": "learning_rates",
    "tune.steps": "tune_steps",
    "tune.seeds": "tune_seeds",
    "tune.sampler": "tune_sampler",
    "tune.group_size": "tune_group_size",
    "tune.extend": "tune_extend",
    "rule.learn_min": "learn_min",
    "rule.learn_on": "learn_on",
    "rule.demote": "demote",
    "rule.margin": "margin",
    "rule.alpha": "alpha",
    "rule.n_resamples": "n_resamples",
    "rule.n_permutations": "n_permutations",
    "kappa.betas": "tempered_betas",
}


@dataclass(frozen=True)
class RealConfig:
    """A resolved real-data confirm design (see ``experiments/real-confirm.toml`` for the meaning of each key)."""

    name: str = "real-confirm"
    seeds: int = 5
    teacher: str = "hybrid"
    teacher_weights: tuple[float, float] = (1.0, 1.0)
    tau: float = 1.0
    entropies: tuple[float, ...] = ()  # empty: τ = tau for every arm (the runs before the grouped design)
    split: str = "beir"
    split_fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)
    split_seed: int = 0
    label_source: str = "teacher_top1"
    supervised: bool = True
    query_sources: tuple[str, ...] = QUERY_SOURCES
    n_titles: int = 500
    validation_fraction: float = 0.2
    losses: tuple[str, ...] = ("lce", "kl", "margin_mse", "ranknet_soft", "ranknet_hard")
    samplers: tuple[str, ...] = ("random", "bm25", "teacher", "teacher+filter")
    group_sizes: tuple[int, ...] = (2, 8)
    students: tuple[str, ...] = ("full", "diag")
    lowrank_rank: int = LOWRANK_RANK
    lowrank_norm_bound: float | None = None  # None: lowrank_norm_bound(lowrank_rank) = ALPHA_INIT √rank
    pool_size: int = 100
    eta: float = 0.5
    filter_margin: float = 1.0
    exclude_positive: bool = False
    pairs: str = "all"
    n_groups: int = 2048
    batch_size: int = 64
    weight_decay: float = 1e-3
    redraw: str = "once"  # "epoch": fresh groups every epoch (the grouped design); "once": the runs before it
    learning_rates: dict = field(
        default_factory=lambda: {"full": (1e-3, 3e-3, 1e-2, 3e-2), "diag": (1e-2, 3e-2, 0.1, 0.3)}
    )
    tune_steps: tuple[int, ...] = (150, 400)
    tune_seeds: int = 2
    tune_sampler: str = "bm25"
    tune_group_size: int = 8
    tune_extend: int = 0
    learn_min: float = 0.005
    learn_on: str = "val"
    demote: bool = True
    margin: float = 0.02
    alpha: float = 0.05
    n_resamples: int = 2000
    n_permutations: int = 50_000
    tempered_betas: tuple[float, ...] = (0.0, 5.0, 10.0, 20.0, 40.0)

    def __post_init__(self):
        check_positive("seeds", self.seeds)
        check_choice("teacher.kind", self.teacher, ("hybrid", "bm25", "dense"))
        check_positive("teacher.tau", self.tau)
        for h in self.entropies:
            check_positive("teacher.entropies", h)
            if h >= math.log(self.tune_group_size):
                raise ConfigError(
                    f"teacher.entropies value {h!r} is not allowed; it must be < log(tune.group_size) = "
                    f"{math.log(self.tune_group_size):.3f} nats"
                )
        check_choice("split.kind", self.split, SPLITS)
        if len(self.split_fractions) != 3 or any(f <= 0 for f in self.split_fractions):
            raise ConfigError(
                f"split.fractions = {list(self.split_fractions)!r} is not allowed; it must be 3 positive numbers "
                "(train, tune, decide)"
            )
        if isinstance(self.split_seed, bool) or not isinstance(self.split_seed, int):
            raise ConfigError(f"split.seed = {self.split_seed!r} is not allowed; it must be an integer")
        if isinstance(self.tune_extend, bool) or not isinstance(self.tune_extend, int) or self.tune_extend < 0:
            raise ConfigError(f"tune.extend = {self.tune_extend!r} is not allowed; it must be an integer >= 0")
        check_choice("rule.learn_on", self.learn_on, ("val", "test"))
        check_choice("labels.primary", self.label_source, LABEL_SOURCES)
        for source in self.query_sources:
            check_choice("queries.sources", source, QUERY_SOURCES)
        check_nonnegative("queries.n_titles", self.n_titles)
        check_range("queries.validation_fraction", self.validation_fraction, 0.05, 0.5)
        for loss in self.losses:
            check_choice("grid.losses", loss, LOSS_SPECS)
        for name in (*self.samplers, self.tune_sampler):
            self.sampler(name)  # one-line ConfigError for an unknown NAME or a bad NAME@ETA
        for student in self.students:
            check_choice("grid.students", student, STUDENTS)
            if student not in self.learning_rates:
                raise ConfigError(f"tune.learning_rates has no entry for student {student!r}; add {student} = [...]")
            for lr in self.learning_rates[student]:
                check_positive(f"tune.learning_rates.{student}", lr)
        for k in (*self.group_sizes, self.tune_group_size):
            if not isinstance(k, int) or k < 2:
                raise ConfigError(f"group size {k!r} is not allowed; it must be an integer >= 2")
        for name in ("pool_size", "n_groups", "batch_size", "tune_seeds", "n_resamples", "n_permutations"):
            check_positive(name, getattr(self, name))
        for steps in self.tune_steps:
            check_positive("tune.steps", steps)
        check_range("sampler.eta", self.eta, 0.0, 1.0)
        check_nonnegative("sampler.filter_margin", self.filter_margin)
        if not isinstance(self.exclude_positive, bool):
            raise ConfigError(
                f"sampler.exclude_positive = {self.exclude_positive!r} is not allowed; it must be true or false"
            )
        check_choice("loss.pairs", self.pairs, PAIRS)
        if isinstance(self.lowrank_rank, bool) or not isinstance(self.lowrank_rank, int) or self.lowrank_rank < 1:
            raise ConfigError(f"student.rank = {self.lowrank_rank!r} is not allowed; it must be an integer >= 1")
        if self.lowrank_norm_bound is not None:
            check_positive("student.norm_bound", self.lowrank_norm_bound)
        check_nonnegative("train.weight_decay", self.weight_decay)
        check_choice("train.redraw", self.redraw, REDRAWS)
        check_nonnegative("rule.learn_min", self.learn_min)
        check_positive("rule.margin", self.margin)
        check_range("rule.alpha", self.alpha, 1e-6, 0.5)
        if not self.losses or not self.samplers or not self.group_sizes or not self.students:
            raise ConfigError("grid.losses, grid.samplers, grid.group_sizes and grid.students must be non-empty")

    @property
    def arms(self) -> tuple[Arm, ...]:
        primary = tuple(Arm(loss, loss, self.label_source) for loss in self.losses)
        return primary + ((Arm("lce_gold", "lce", "gold"),) if self.supervised else ())

    def taus(self, loss: str, solved: tuple[float, ...]) -> tuple[float, ...]:
        """The label temperatures an arm with ``loss`` tunes over: ``solved`` (the τ of ``teacher.entropies``)
        for a loss that uses τ when entropies are given, else ``(tau,)``."""
        return solved if self.entropies and loss not in TAU_FREE_LOSSES else (self.tau,)

    def epochs(self, steps: int) -> int:
        """Epochs of training groups a model trained for ``steps`` steps reads: 1 with ``train.redraw = "once"``,
        else :func:`simrank.trainer.n_epochs` ``= ⌈steps · b / n_groups⌉``."""
        if self.redraw == "once":
            return 1
        from simrank.trainer import TrainConfig, n_epochs  # JAX only when a run asks

        return n_epochs(TrainConfig(steps, self.batch_size), self.n_groups)

    @property
    def k_max(self) -> int:
        return max(*self.group_sizes, self.tune_group_size)

    @property
    def reference_k(self) -> int:
        """The group size of the per-sampler comparisons: the largest in the grid."""
        return max(self.group_sizes)

    def sampler(self, name: str) -> dict:
        return sampler_spec(name, self.pool_size, self.eta, self.filter_margin, self.exclude_positive)

    def loss_fn(self, loss: str) -> Callable:
        """The loss function ``loss`` with this design's options bound (``loss.pairs`` for the pairwise losses)."""
        return configured_loss(loss, **({"pairs": self.pairs} if LOSS_SPECS[loss].pairwise else {}))

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> RealConfig:
        """The design from :meth:`as_dict` output read back from JSON (lists become tuples); keys a design written
        before a field existed lacks take that field's default, which is the behaviour of the code that wrote it."""
        known = {f.name for f in dataclasses.fields(cls)}

        def tuples(v):
            if isinstance(v, dict):
                return {k: tuples(x) for k, x in v.items()}
            return tuple(v) if isinstance(v, list) else v

        return cls(**{k: tuples(v) for k, v in values.items() if k in known})

    @property
    def hash(self) -> str:
        """12 hex digits of ``sha256`` of the resolved design (canonical JSON of :meth:`as_dict`), recorded in
        ``meta.json`` as ``config_hash``."""
        payload = json.dumps(self.as_dict(), sort_keys=True, default=list)
        return hashlib.sha256(payload.encode()).hexdigest()[:12]


def load_real_config(
    path: str | Path | None = None, quick: bool = False, seeds: int | None = None, own: tuple[str, ...] = ()
) -> RealConfig:
    """Read a real-confirm TOML (default ``experiments/real-confirm.toml``), apply its ``[quick]`` table with
    ``quick`` (keys ``"section.key" = value``, ``seeds``) and ``seeds``; validate (one-line ConfigError).
    ``own``: sections the caller reads itself (e.g. ``semi`` of :mod:`simrank.real.semisynthetic`), skipped here."""
    path = Path(path) if path is not None else experiments_dir() / "real-confirm.toml"
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist")
    raw = _read_toml(path)
    values: dict = {}
    for key in raw:
        if key in ("name", "seeds", "description", "quick", "command", *own):
            continue
        if key not in {k.split(".")[0] for k in FIELDS} or not isinstance(raw[key], dict):
            raise ConfigError(f"unknown config key {key!r} in {path.name}; allowed sections: {_sections()}")
        for sub, value in raw[key].items():
            _set(values, f"{key}.{sub}", value, path)
    n_seeds = raw.get("seeds", RealConfig.seeds)
    if quick:
        for key, value in raw.get("quick", {}).items():
            if key == "seeds":
                n_seeds = value
            else:
                _set(values, key, value, path)
    if seeds is not None:
        n_seeds = seeds
    if not isinstance(n_seeds, int) or n_seeds < 1:
        raise ConfigError(f"seeds = {n_seeds!r} is not allowed; it must be an integer >= 1")
    return RealConfig(name=raw.get("name", path.stem), seeds=n_seeds, **values)


def _sections() -> str:
    return ", ".join(dict.fromkeys(k.split(".")[0] for k in FIELDS))


def _set(values: dict, key: str, value, path: Path) -> None:
    if key not in FIELDS:
        raise ConfigError(f"unknown config key {key!r} in {path.name}; allowed keys: {', '.join(FIELDS)}")
    if isinstance(value, dict):  # per-student learning rates
        value = {k: tuple(v) if isinstance(v, list) else v for k, v in value.items()}
    values[FIELDS[key]] = tuple(value) if isinstance(value, list) else value


def extend_grid(grid: tuple[float, ...], chosen: float, integer: bool = False) -> float | None:
    """The next value beyond the edge of ``grid`` that ``chosen`` sits on, or ``None`` when it is inside.

    With ``g_1 < g_2 < ... < g_m`` the sorted grid, a choice at ``g_1`` gives ``g_1 · g_1/g_2`` and at ``g_m``
    gives ``g_m · g_m/g_{m-1}`` (the grid's outermost ratio; factor 2 for a one-value grid, both edges then count
    as the upper one). ``integer``: rounded, and at least 1 (a number of steps); ``None`` when rounding gives a
    value already in the grid.

    Args:
      grid: the values tried so far (positive).
      chosen: the value chosen among them.
      integer: round the new value to a positive integer.
    """
    values = sorted(set(grid))
    if len(values) == 1:
        new = values[0] * 2.0
    elif chosen == values[0]:
        new = values[0] * values[0] / values[1]
    elif chosen == values[-1]:
        new = values[-1] * values[-1] / values[-2]
    else:
        return None
    if integer:
        new = float(max(1, round(new)))
        if new in values:
            return None
    return new
