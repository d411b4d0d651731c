"""The verdict protocol shared by the predictions P1-P12: outcomes, paired-by-seed effects, decision rules.

A prediction's *rule* is a pure function ``decide(effects, sesoi) -> Decision`` of named :class:`Effect` s
(usually :func:`decide_conditions` with the prediction's ``RULE``); ``analyse(tables) -> Verdict`` builds the
Effects from synthetic results tables (``{experiment name: DataFrame}``) and calls it, and the real-data report
(:mod:`simrank.real.confirm.stats`) builds the same named Effects from query-level tests and calls the same ``decide``.
Every effect is a per-seed difference (seeds are the unit of replication: a seed fixes the world, the
queries and the initialisation shared by the arms it compares) summarised by its mean and a ``1 − 2α``
Student-t interval: the interval of two one-sided tests at level α, used for every decision below.

Outcomes (``OUTCOMES``):

* ``supported`` / ``refuted``: the interval decides the effect against the smallest effect size of interest
  (SESOI) -- see :func:`decide_change`, :func:`decide_increase`, :func:`decide_equivalence`;
* ``inconclusive``: the interval cannot decide (too few seeds for the spread);
* ``conditional``: over a prediction's pre-declared conditions (worlds, losses, ...) the claim is
  supported in some and refuted in others (:func:`across_conditions`; inconclusive conditions never
  make a verdict conditional).

Multiplicity (one policy for every prediction with several decided tests, :func:`familywise`): a prediction
with k decided tests (every named part in every condition; P1's leave-one-pool-out versions count) decides each
test *refuted* on its Bonferroni interval ``1 − 2α/k`` (:func:`at_level`) and *supported* on its ``1 − 2α``
interval, else *inconclusive*.  A prediction is supported only when every test supports it -- an
intersection-union test, whose error rate is at most α without adjustment -- but refuted as soon as any one of
the k tests refutes, a union of k chances that Bonferroni holds at α.  This is the rule P3 registered
("refutation uses Bonferroni intervals"), with k counted over the whole prediction.  The real-data report
(:mod:`simrank.real.confirm.stats`) decides on its bootstrap intervals as given (k = 1).

A verdict computed from results whose design is not the pre-registered one (a *pilot*: a different config
hash, or fewer seeds than pre-registered) is reported as ``inconclusive`` with the pilot's own outcome
beside it, never as refuted.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from numpy.typing import ArrayLike
from scipy import stats as _st

from simrank.config import build_section
from simrank.paths import RESULTS_DIR
from simrank.stats import n_paired_t, n_tost_paired, power_paired_t, power_tost_paired
from simrank.theory.bounds import world_rho_inf

__all__ = [
    "ALPHA",
    "OUTCOMES",
    "POWER",
    "UNTESTED",
    "Decision",
    "Effect",
    "Prediction",
    "Tables",
    "Verdict",
    "across_conditions",
    "all_of",
    "at_level",
    "deciding_test",
    "familywise",
    "almost_sure_rho_inf",
    "by_seed",
    "change_verdict",
    "config_value",
    "decide_change",
    "decide_conditions",
    "decide_equivalence",
    "decide_increase",
    "diff_in_diff",
    "effect_of",
    "fmt",
    "fmt_effect",
    "load_results",
    "markdown_table",
    "paired_effect",
    "power_change",
    "power_equivalence",
    "seeds_change",
    "seeds_equivalence",
]

Tables = Mapping[str, pd.DataFrame]  # experiment name -> its results table (what analyse, draw and caption read)

ALPHA = 0.05  # level of each one-sided test; decisions use the 1 − 2α = 90% interval
POWER = 0.8  # the power every design is sized for, at its SESOI
OUTCOMES = ("supported", "refuted", "inconclusive", "conditional")


class Effect(NamedTuple):
    """A per-seed effect: mean with its ``1 − 2α`` t-interval, number of seeds and SD of the per-seed values."""

    mean: float
    low: float
    high: float
    n: int
    sd: float


UNTESTED = Effect(math.nan, -math.inf, math.inf, 0, math.nan)
"""A part of a rule that a design does not measure: its interval is the whole line, so every ``decide_*`` gives
``inconclusive`` on it, and a conjunction with an untested part can be refuted but never supported."""


class Decision(NamedTuple):
    """What a rule decides.

    Attributes:
      outcome: one of :data:`OUTCOMES`.
      conditions: per pre-declared condition, its outcome (supported / refuted / inconclusive).
      parts: per condition, per named part of the rule, that part's outcome.
    """

    outcome: str
    conditions: dict
    parts: dict


@dataclass(frozen=True)
class Verdict:
    """A prediction's verdict.

    Attributes:
      outcome: one of :data:`OUTCOMES`.
      summary: one sentence with the numbers behind the outcome.
      effect: the primary effect (the one the seeds were sized for) with its interval.
      sesoi: the smallest effect size of interest of the primary effect.
      seeds: seeds per arm in the results.
      power: achieved power of the primary test at the SESOI with the measured spread.
      numbers: every number the summary quotes, and more.
      table: per-condition detail for the paper.
      pilot: True when the results are not the pre-registered design (then ``outcome`` is inconclusive).
      pilot_outcome: the outcome the rule gives on the pilot results (``outcome`` when not a pilot).
      original: where a registered addendum changed the design after a first deciding run (P7), the outcome the
        original registration's rule gives on the same results (reported beside ``outcome``); else ``""``.
    """

    outcome: str
    summary: str
    effect: Effect
    sesoi: float
    seeds: int
    power: float
    numbers: dict = field(default_factory=dict)
    table: pd.DataFrame | None = None
    pilot: bool = False
    pilot_outcome: str = ""
    original: str = ""


@dataclass(frozen=True)
class Prediction:
    """A prediction's pre-registered protocol (each constant is checked against paper/preregistration.md).

    Attributes:
      key: ``"P1"`` … ``"P12"``.
      claim: the claim in one sentence.
      experiments: the experiment configs (``experiments/<name>.toml``) of its design.
      sesoi: the smallest effect size of interest of the primary effect (units in ``test``).
      alpha: level of each one-sided test.
      seeds: pre-registered seeds per arm (the configs' ``seeds``).
      test: the statistical test, in words.
      rule: the decision rule, in words.
      analyse: the rule, ``analyse(tables) -> Verdict``.
      draw: the figure, ``draw(tables) -> matplotlib Figure``.
      caption: the caption, ``caption(tables) -> str`` (generated from the configs).
    """

    key: str
    claim: str
    experiments: tuple[str, ...]
    sesoi: float
    alpha: float
    seeds: int
    test: str
    rule: str
    analyse: Callable[[Tables], Verdict]
    draw: Callable[[Tables], Figure]
    caption: Callable[[Tables], str]


# ----------------------------------------------------------------------------------------- tables


def load_results(name: str, root: Path = RESULTS_DIR) -> pd.DataFrame:
    """The results table ``root/<name>/results.parquet``."""
    return pd.read_parquet(Path(root) / name / "results.parquet")


def config_value(df: pd.DataFrame, section: str, key: str, default: Any = None) -> pd.Series:
    """``section.key`` of each row's resolved config (for settings that are not result columns)."""
    return df["config"].map(lambda c: json.loads(c)[section].get(key, default))


def almost_sure_rho_inf(df: pd.DataFrame) -> pd.Series:
    """Per row, an almost-sure ``ρ_∞`` of the row's world for Theorem 3 as proved: ``R_Q · diam(corpus)``
    (:func:`simrank.theory.world_rho_inf`; ``R_Q = 1`` on the unit sphere) of the world drawn for the row
    (``world_seed``), not the sample maximum ``delta_max`` of its training groups."""
    cache: dict[str, float] = {}

    def rho(config: str, world_seed: int) -> float:
        world = json.loads(config)["world"] | {"random_state": int(world_seed)}
        if not world.get("sphere"):
            raise ValueError("an almost-sure ρ_∞ needs a bounded query law: use a world with sphere = true")
        key = json.dumps(world, sort_keys=True)
        if key not in cache:
            cache[key] = world_rho_inf(build_section("world", world).generate().docs, 1.0)
        return cache[key]

    return pd.Series([rho(c, s) for c, s in zip(df["config"], df["world_seed"])], index=df.index)


def by_seed(df: pd.DataFrame, mask: pd.Series | np.ndarray, value: str) -> pd.Series:
    """Mean of ``value`` per seed over the rows in ``mask`` (index: seed)."""
    return df[mask].groupby("seed")[value].mean()


# ---------------------------------------------------------------------------------------- effects


def effect_of(values: ArrayLike, alpha: float = ALPHA) -> Effect:
    """Mean of per-seed ``values`` with its ``1 − 2α`` t-interval (``t_{n−1, 1−α} · sd/√n``).

    Args:
      values: ``[n]`` per-seed effects (NaN-free).
      alpha: level of each one-sided test.

    Returns:
      :class:`Effect`; with fewer than 2 values the interval is ``(−inf, inf)``.

    >>> e = effect_of([0.1, 0.2, 0.3])
    >>> round(e.mean, 3), round(e.low, 3), round(e.high, 3), e.n
    (0.2, 0.031, 0.369, 3)
    """
    x = np.asarray(values, float)
    if np.isnan(x).any():
        raise ValueError("effect_of: NaN among the per-seed values")
    n = int(x.size)
    if n < 2:
        return Effect(float(x.mean()) if n else math.nan, -math.inf, math.inf, n, math.nan)
    sd = float(x.std(ddof=1))
    half = float(_st.t.ppf(1 - alpha, n - 1)) * sd / math.sqrt(n)
    m = float(x.mean())
    return Effect(m, m - half, m + half, n, sd)


def at_level(e: Effect, alpha: float) -> Effect:
    """The t-interval Effect ``e`` (from :func:`effect_of`) at another level α per one-sided test:
    ``mean ∓ t_{n−1, 1−α} · sd/√n`` (fewer than 2 seeds or an untested part: ``e`` unchanged).

    >>> e = effect_of([0.1, 0.2, 0.3])
    >>> at_level(e, ALPHA) == e, round(at_level(e, ALPHA / 4).low, 3)
    (True, -0.158)
    """
    if not (e.n >= 2 and math.isfinite(e.sd)):
        return e
    half = float(_st.t.ppf(1 - alpha, e.n - 1)) * e.sd / math.sqrt(e.n)
    return Effect(e.mean, e.mean - half, e.mean + half, e.n, e.sd)


def paired_effect(a: pd.Series, b: pd.Series, alpha: float = ALPHA) -> Effect:
    """Per-seed difference ``a − b`` over the seeds present in both (indexed by seed), see :func:`effect_of`."""
    return effect_of((a - b).dropna().to_numpy(), alpha)


def diff_in_diff(a1: pd.Series, a0: pd.Series, b1: pd.Series, b0: pd.Series, alpha: float = ALPHA) -> Effect:
    """Difference-in-differences per seed, ``(a1 − a0) − (b1 − b0)``, e.g. LCE's effect minus KL's effect.

    >>> s = lambda *v: pd.Series(v, index=range(len(v)))
    >>> round(diff_in_diff(s(1.0, 1.2), s(0.5, 0.5), s(0.6, 0.6), s(0.5, 0.4)).mean, 3)
    0.45
    """
    return effect_of(((a1 - a0) - (b1 - b0)).dropna().to_numpy(), alpha)


# ---------------------------------------------------------------------------------------- decisions


def change_verdict(
    outcome: str,
    summary: str,
    effect: Effect,
    sesoi: float,
    df: pd.DataFrame,
    table: pd.DataFrame | None = None,
    **numbers: object,
) -> Verdict:
    """The verdict of a rule whose primary test is a paired change: seeds counted in ``df``, achieved power of
    that test at ``sesoi`` with the measured spread, ``numbers["primary"]`` the effect (override by keyword)."""
    return Verdict(
        outcome=outcome,
        summary=summary,
        effect=effect,
        sesoi=sesoi,
        seeds=int(df["seed"].nunique()),
        power=power_change(sesoi, effect.sd, effect.n),
        numbers={"primary": fmt_effect(effect)} | numbers,
        table=table,
    )


def decide_change(e: Effect, sesoi: float) -> str:
    """A predicted change of either sign: refuted when the interval lies inside ``(−sesoi, sesoi)``
    (no change of interest), supported when it excludes 0 (and is not inside), else inconclusive.

    >>> decide_change(Effect(0.3, 0.2, 0.4, 8, 0.1), 0.02), decide_change(Effect(0.0, -0.01, 0.01, 8, 0.01), 0.02)
    ('supported', 'refuted')
    """
    if -sesoi < e.low and e.high < sesoi:
        return "refuted"
    if e.low > 0 or e.high < 0:
        return "supported"
    return "inconclusive"


def decide_increase(e: Effect, sesoi: float) -> str:
    """A predicted effect ≥ ``sesoi`` > 0: refuted when the interval lies below the SESOI, supported when it
    lies above 0 (and not below the SESOI), else inconclusive.  (Predict a decrease by negating the effect.)

    >>> decide_increase(Effect(0.1, 0.05, 0.15, 8, 0.1), 0.02), decide_increase(Effect(-0.1, -0.2, 0.0, 8, 0.1), 0.02)
    ('supported', 'refuted')
    """
    if e.high < sesoi:
        return "refuted"
    if e.low > 0:
        return "supported"
    return "inconclusive"


def decide_equivalence(e: Effect, margin: float) -> str:
    """A predicted absence of effect: supported when the interval lies inside ``(−margin, margin)`` (TOST),
    refuted when it lies entirely outside ``[−margin, margin]``, else inconclusive.

    >>> decide_equivalence(Effect(0.0, -0.01, 0.01, 40, 0.04), 0.02), decide_equivalence(Effect(0.1, 0.05, 0.15, 8, 0.1), 0.02)
    ('supported', 'refuted')
    """
    if -margin < e.low and e.high < margin:
        return "supported"
    if e.low >= margin or e.high <= -margin:
        return "refuted"
    return "inconclusive"


def all_of(outcomes: Sequence[str]) -> str:
    """A conjunction of claims: supported when every part is, refuted when any part is, else inconclusive.

    >>> all_of(["supported", "inconclusive"]), all_of(["supported", "refuted"]), all_of(["supported"] * 2)
    ('inconclusive', 'refuted', 'supported')
    """
    outcomes = list(outcomes)
    if "refuted" in outcomes:
        return "refuted"
    if outcomes and all(o == "supported" for o in outcomes):
        return "supported"
    return "inconclusive"


def across_conditions(outcomes: Sequence[str]) -> str:
    """One outcome over pre-declared conditions: conditional when some are supported and some refuted;
    supported / refuted when all are; inconclusive otherwise (inconclusive conditions never make it conditional).

    >>> across_conditions(["supported", "refuted", "inconclusive"]), across_conditions(["supported", "inconclusive"])
    ('conditional', 'inconclusive')
    """
    s = set(outcomes)
    if {"supported", "refuted"} <= s:
        return "conditional"
    if s == {"supported"} or s == {"refuted"}:
        return s.pop()
    return "inconclusive"


def decide_conditions(
    rule: Mapping[str, Callable[[Effect, float], str]],
    effects: Mapping[Any, Mapping[str, Effect]],
    sesoi: float,
    k: int = 1,
) -> Decision:
    """A prediction's rule over pre-declared conditions: per condition, each part ``p`` of ``rule`` is decided by
    ``rule[p](effects[condition][p], sesoi)``; a condition's outcome is :func:`all_of` its parts, and the
    prediction's is :func:`across_conditions` of the conditions (no condition: inconclusive).

    Args:
      rule: part name -> decision (:func:`decide_change`, :func:`decide_increase`, :func:`decide_equivalence`).
      effects: condition -> part name -> :class:`Effect`; every part of ``rule`` must be present (a part the
        design does not measure is passed as :data:`UNTESTED`, never left out); other names are ignored.
      sesoi: the smallest effect size of interest (the margin of an equivalence part).
      k: the number of decided tests of the prediction for the multiplicity policy (:func:`familywise`; every
        part of every condition, ``len(rule) · len(effects)``); 1: the intervals decide as given (real data).

    Returns:
      :class:`Decision`.

    >>> rule = {"lce": decide_change, "kl": decide_equivalence}
    >>> d = decide_conditions(rule, {"a": {"lce": Effect(0.1, 0.05, 0.15, 8, 0.1), "kl": UNTESTED}}, 0.02)
    >>> d.outcome, d.parts["a"]
    ('inconclusive', {'lce': 'supported', 'kl': 'inconclusive'})
    """
    decides = {name: familywise(decide, k) for name, decide in rule.items()}
    parts = {c: {name: decide(e[name], sesoi) for name, decide in decides.items()} for c, e in effects.items()}
    conditions = {c: all_of(list(p.values())) for c, p in parts.items()}
    return Decision(across_conditions(list(conditions.values())), conditions, parts)


def familywise(decide: Callable[[Effect, float], str], k: int, alpha: float = ALPHA) -> Callable[[Effect, float], str]:
    """``decide`` (a ``decide_*``) under the multiplicity policy over ``k`` decided tests (module docstring):
    *refuted* when ``decide`` refutes the Bonferroni interval at α/k (:func:`at_level`), *supported* when it
    supports the ``1 − 2α`` interval, else *inconclusive*; ``k = 1``: ``decide`` itself.

    >>> e = effect_of([0.01, 0.012, 0.014, 0.016])  # [0.0097, 0.0163]: an increase below a SESOI of 0.0175
    >>> decide_increase(e, 0.0175), familywise(decide_increase, 1)(e, 0.0175), familywise(decide_increase, 10)(e, 0.0175)
    ('refuted', 'refuted', 'inconclusive')
    """
    if k <= 1:
        return decide

    def policy(e: Effect, sesoi: float) -> str:
        if decide(at_level(e, alpha / k), sesoi) == "refuted":
            return "refuted"
        return "supported" if decide(e, sesoi) == "supported" else "inconclusive"

    return policy


_Test = TypeVar("_Test")  # what names a test of a rule: a part, a condition, a (pool, part) pair


def deciding_test(outcome: str, tests: Sequence[tuple[_Test, str, float]]) -> _Test:
    """The test a verdict rests on (the table's *primary effect*), from ``(name, outcome, power)`` in the rule's
    order: *supported*: the test with the lowest power (every test had to pass); *refuted* or *conditional*: the
    first refuted test (what stops the claim from holding everywhere); *inconclusive*: the first undecided test.

    >>> deciding_test("refuted", [("a", "supported", 0.9), ("b", "refuted", 0.5), ("c", "refuted", 0.2)])
    'b'
    >>> deciding_test("supported", [("a", "supported", 0.9), ("b", "supported", 0.5)])
    'b'
    """
    if not tests:
        raise ValueError("deciding_test: no tests")
    if outcome == "supported":
        return min(tests, key=lambda t: t[2] if math.isfinite(t[2]) else -1.0)[0]
    wanted = "refuted" if outcome in ("refuted", "conditional") else "inconclusive"
    return next((name for name, o, _ in tests if o == wanted), tests[0][0])


# ------------------------------------------------------------------------------------ power, seeds


def power_change(sesoi: float, sd: float, n: int, alpha: float = ALPHA) -> float:
    """Power of :func:`decide_change` / :func:`decide_increase` to support a true effect of ``sesoi``
    with ``n`` seeds (one-sided paired t at level α; by symmetry also the power to refute a true 0)."""
    if not (sd > 0 and n >= 2):
        return math.nan
    return power_paired_t(sesoi, sd, n, alpha, alternative="greater")


def seeds_change(sesoi: float, sd: float, alpha: float = ALPHA, power: float = POWER) -> int:
    """Seeds at which :func:`power_change` reaches ``power`` (pilot ``sd`` of the per-seed effect)."""
    return n_paired_t(sesoi, sd, power, alpha, alternative="greater")


def power_equivalence(margin: float, sd: float, n: int, alpha: float = ALPHA) -> float:
    """Power of :func:`decide_equivalence` to support a true effect of 0 with ``n`` seeds (paired TOST)."""
    if not (sd > 0 and n >= 2):
        return math.nan
    return power_tost_paired(0.0, sd, n, margin, alpha)


def seeds_equivalence(margin: float, sd: float, alpha: float = ALPHA, power: float = POWER) -> int:
    """Seeds at which :func:`power_equivalence` reaches ``power`` (pilot ``sd`` of the per-seed effect)."""
    return n_tost_paired(sd, margin, 0.0, power, alpha)


# ---------------------------------------------------------------------------------------- formatting


def fmt(x: float, digits: int = 3) -> str:
    """``x`` to ``digits`` decimals (``inf``/``nan`` as words)."""
    return f"{x:.{digits}f}" if math.isfinite(x) else str(x)


def fmt_effect(e: Effect, digits: int = 3) -> str:
    """``mean [low, high]``."""
    return f"{fmt(e.mean, digits)} [{fmt(e.low, digits)}, {fmt(e.high, digits)}]"


def markdown_table(df: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table, numbers to 4 significant digits."""

    def cell(x) -> str:
        if isinstance(x, (bool, np.bool_)):
            return "yes" if x else "no"
        if isinstance(x, (float, np.floating)):
            return f"{x:.4g}"
        return str(x).replace("|", "\\|")

    rows = [" | ".join(map(str, df.columns)), " | ".join("---" for _ in df.columns)]
    rows += [" | ".join(cell(x) for x in r) for r in df.itertuples(index=False)]
    return "\n".join(f"| {r} |" for r in rows) + "\n"
