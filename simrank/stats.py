"""Statistics for comparing experiments run over several random seeds.

Every experiment in ``simrank`` is repeated over a handful of seeds; this
module is the single place where the numbers from those seeds are turned into
intervals, tests and effect sizes.  Only numpy, scipy and pandas are used.

Conventions
-----------
* The *seed* is the unit of replication.  Where a function takes a data frame
  with a ``seed_col`` it first averages any repeated rows within one
  (level, seed) cell, so that every seed contributes exactly one number per
  level.
* Missing values are an error, never silently dropped: a NaN in the data is
  almost always a bug upstream, and dropping it would change ``n``.
* "Below alpha" means strictly below (``p < alpha``).

Public API
----------
``mean_ci``, ``summarise``, ``tost``, ``equivalence_groups``,
``two_way_anova``, ``rank_stability``, ``pairwise_rank_significance``,
``pearson_ci``, ``spearman``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats as _st

__all__ = [
    "MeanCI",
    "TOSTResult",
    "CorrResult",
    "mean_ci",
    "summarise",
    "tost",
    "equivalence_groups",
    "two_way_anova",
    "rank_stability",
    "pairwise_rank_significance",
    "pearson_ci",
    "spearman",
    "power_paired_t",
    "n_paired_t",
    "power_tost_paired",
    "n_tost_paired",
    "power_correlation",
    "n_correlation",
    "cohen_f",
    "power_anova_interaction",
    "n_anova_interaction",
    "VarianceComponents",
    "variance_components",
]


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def _as_1d(values: Any, name: str = "values") -> np.ndarray:
    """Return ``values`` as a 1-D float array, rejecting NaN/inf."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        arr = arr.ravel()
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains non-finite values (NaN or inf); clean them explicitly")
    return arr


def _check_prob(x: float, name: str) -> float:
    x = float(x)
    if not (0.0 < x < 1.0):
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {x!r}")
    return x


def _as_list(by: str | Sequence[str]) -> list[str]:
    if isinstance(by, str):
        return [by]
    by = list(by)
    if not by:
        raise ValueError("by must name at least one column")
    return by


def _check_columns(df: pd.DataFrame, cols: Sequence[str]) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise KeyError(f"columns not in data frame: {missing}")


def _group_label(i: int) -> str:
    """0 -> 'A', 25 -> 'Z', 26 -> 'AA', 27 -> 'AB', ... (bijective base 26)."""
    if i < 0:
        raise ValueError(f"group index must be >= 0, got {i}")
    out = ""
    i += 1
    while i > 0:
        i, r = divmod(i - 1, 26)
        out = chr(ord("A") + r) + out
    return out


def _level_table(
    df: pd.DataFrame, by: list[str], value: str, seed_col: str
) -> tuple[list[tuple], list[Hashable], np.ndarray]:
    """Per-(level, seed) means as a matrix.

    Returns ``(levels, seeds, M)`` where ``levels`` is the sorted list of level
    tuples, ``seeds`` the sorted seeds and ``M[s, l]`` the mean of ``value``
    over the rows with seed ``seeds[s]`` and level ``levels[l]`` (NaN where
    that cell is empty).
    """
    _check_columns(df, by + [seed_col, value])
    _as_1d(df[value].to_numpy(), name=f"column {value!r}")
    g = df.groupby(by + [seed_col], sort=True, observed=True, dropna=False)[value].mean()
    keys = [k if isinstance(k, tuple) else (k,) for k in g.index]
    levels = _sorted({k[:-1] for k in keys})
    seeds = _sorted({k[-1] for k in keys})
    li = {lv: i for i, lv in enumerate(levels)}
    si = {s: i for i, s in enumerate(seeds)}
    M = np.full((len(seeds), len(levels)), np.nan)
    for k, v in zip(keys, g.to_numpy(dtype=float)):
        M[si[k[-1]], li[k[:-1]]] = v
    return levels, seeds, M


def _sorted(items) -> list:
    """Natural order where the labels are comparable, else order by repr."""
    items = list(items)
    try:
        return sorted(items)
    except TypeError:
        return sorted(items, key=repr)


def _level_records(by: list[str], level: tuple) -> dict[str, Any]:
    return dict(zip(by, level))


# --------------------------------------------------------------------------
# 1. mean and Student-t confidence interval
# --------------------------------------------------------------------------


class MeanCI(NamedTuple):
    """Mean with a two-sided Student-t confidence interval."""

    mean: float
    low: float
    high: float
    n: int
    sem: float


def mean_ci(values: Any, confidence: float = 0.95) -> MeanCI:
    r"""Mean of ``values`` with a two-sided Student-t confidence interval.

    With ``n`` observations :math:`x_1..x_n` (typically one per seed)::

        mean = (1/n) * sum_i x_i
        s    = sqrt( sum_i (x_i - mean)^2 / (n - 1) )        # ddof = 1
        sem  = s / sqrt(n)
        t*   = t_{n-1}.ppf((1 + confidence) / 2)
        low, high = mean -/+ t* * sem

    ``n == 1`` gives ``low = high = sem = nan`` (no spread can be estimated).
    ``n == 0`` or non-finite values raise ``ValueError``.

    Examples:
      >>> r = mean_ci([1.0, 2.0, 3.0])  # sem = 1/sqrt(3), t*_2 = 4.303
      >>> r.mean, round(r.low, 4), round(r.high, 4), r.n
      (2.0, -0.4841, 4.4841, 3)
    """
    confidence = _check_prob(confidence, "confidence")
    x = _as_1d(values)
    n = int(x.size)
    if n == 0:
        raise ValueError("mean_ci needs at least one value")
    m = float(np.mean(x))
    if n == 1:
        return MeanCI(m, math.nan, math.nan, 1, math.nan)
    sem = float(np.std(x, ddof=1) / math.sqrt(n))
    half = float(_st.t.ppf(0.5 + confidence / 2.0, n - 1)) * sem
    return MeanCI(m, m - half, m + half, n, sem)


# --------------------------------------------------------------------------
# 2. grouped summary
# --------------------------------------------------------------------------


def summarise(df: pd.DataFrame, by: list[str] | str, value: str, confidence: float = 0.95) -> pd.DataFrame:
    """Group ``df`` by ``by`` and apply :func:`mean_ci` to ``value`` in each group.

    Each row of ``df`` is one observation (normally one seed).  For every group
    ``g`` the output row holds ``value_mean = mean(g)``, ``value_low/high =
    mean -/+ t_{n-1, (1+confidence)/2} * s/sqrt(n)`` and ``n``; a group with a
    single row has NaN bounds.  Columns are ``by + [f"{value}_mean",
    f"{value}_low", f"{value}_high", "n"]``, groups sorted by ``by``.

    Examples:
      >>> df = pd.DataFrame({"loss": ["kl"] * 3 + ["lce"] * 3, "ndcg": [0.80, 0.82, 0.81, 0.70, 0.73, 0.72]})
      >>> summarise(df, "loss", "ndcg").round(4).values.tolist()
      [['kl', 0.81, 0.7852, 0.8348, 3], ['lce', 0.7167, 0.6787, 0.7546, 3]]
    """
    by = _as_list(by)
    _check_columns(df, by + [value])
    _check_prob(confidence, "confidence")
    rows = []
    for key, grp in df.groupby(by, sort=True, observed=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        r = mean_ci(grp[value].to_numpy(), confidence)
        rows.append(
            {**dict(zip(by, key)), f"{value}_mean": r.mean, f"{value}_low": r.low, f"{value}_high": r.high, "n": r.n}
        )
    cols = by + [f"{value}_mean", f"{value}_low", f"{value}_high", "n"]
    out = pd.DataFrame(rows, columns=cols)
    out["n"] = out["n"].astype(int)
    return out


# --------------------------------------------------------------------------
# 3. TOST equivalence test
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class TOSTResult:
    """Result of :func:`tost`.  ``diff = mean(a) - mean(b)``."""

    diff: float
    p_lower: float
    p_upper: float
    p: float
    equivalent: bool
    margin: float
    alpha: float
    ci_low: float
    ci_high: float
    df: float = math.nan
    se: float = math.nan


def _tost_verdict(p_lower: float, p_upper: float, alpha: float) -> bool:
    """The TOST decision rule: equivalent iff BOTH one-sided p-values < alpha."""
    return bool(p_lower < alpha and p_upper < alpha)


def tost(a: Any, b: Any, margin: float, alpha: float = 0.05, paired: bool = False) -> TOSTResult:
    r"""Two one-sided t-tests (Schuirmann's TOST) for equivalence of two means.

    ``diff = mean(a) - mean(b)`` (for ``paired=True``: ``mean(a_i - b_i)``).

    * Unpaired (Welch, unequal variances)::

          se = sqrt(s_a^2/n_a + s_b^2/n_b)
          df = se^4 / ((s_a^2/n_a)^2/(n_a-1) + (s_b^2/n_b)^2/(n_b-1))

    * Paired: ``d_i = a_i - b_i``, ``se = sd(d, ddof=1)/sqrt(n)``, ``df = n-1``.

    The two one-sided nulls and their p-values (``T`` ~ Student t with ``df``)::

        H0_lower: diff <= -margin   t_lower = (diff + margin)/se   p_lower = P(T >= t_lower)
        H0_upper: diff >= +margin   t_upper = (diff - margin)/se   p_upper = P(T <= t_upper)

    ``p = max(p_lower, p_upper)`` and the means are declared **equivalent only
    when both one-sided p-values are below alpha**, i.e. ``p < alpha``.  (Not
    rejecting a difference test, or rejecting just one side, is *not*
    evidence of equivalence.)  Equivalently, the ``1 - 2*alpha`` confidence
    interval ``diff -/+ t_{df, 1-alpha} * se`` -- reported as
    ``ci_low, ci_high`` -- lies strictly inside ``(-margin, +margin)``.

    Degenerate case ``se == 0`` (no spread at all): the t statistics are
    +/-infinite, so ``p_lower = 0`` if ``diff > -margin`` else 1, ``p_upper =
    0`` if ``diff < margin`` else 1, and the CI is ``[diff, diff]``.

    Raises ``ValueError`` if ``margin <= 0`` (or not finite), if ``alpha`` is
    not in (0, 0.5), if a sample has fewer than 2 values, or if paired samples
    differ in length.

    Examples:
      >>> a, b = [0.80, 0.82, 0.81, 0.83], [0.81, 0.82, 0.80, 0.82]
      >>> r = tost(a, b, margin=0.05, paired=True)  # d = (-0.01, 0, 0.01, 0.01)
      >>> r.equivalent, round(r.diff, 4), round(r.p, 4), r.df
      (True, 0.0025, 0.0011, 3.0)
      >>> r = tost(a, [0.60, 0.62, 0.61, 0.60], margin=0.05)  # Welch: a difference of 0.21 is not within ±0.05
      >>> r.equivalent, round(r.diff, 4), round(r.p, 4)
      (False, 0.2075, 1.0)
    """
    margin_f = float(margin)
    if not (math.isfinite(margin_f) and margin_f > 0):
        raise ValueError(f"margin must be a finite number > 0, got margin={margin!r}")
    alpha = float(alpha)
    if not (0.0 < alpha < 0.5):
        raise ValueError(f"alpha must lie strictly between 0 and 0.5, got alpha={alpha!r}")
    x = _as_1d(a, "a")
    y = _as_1d(b, "b")

    if paired:
        if x.size != y.size:
            raise ValueError(f"paired samples must have equal length, got {x.size} and {y.size}")
        if x.size < 2:
            raise ValueError("paired TOST needs at least 2 pairs")
        d = x - y
        diff = float(np.mean(d))
        se = float(np.std(d, ddof=1) / math.sqrt(d.size))
        dof = float(d.size - 1)
    else:
        if x.size < 2 or y.size < 2:
            raise ValueError(f"unpaired TOST needs >= 2 values per sample, got {x.size} and {y.size}")
        diff = float(np.mean(x) - np.mean(y))
        va = float(np.var(x, ddof=1)) / x.size
        vb = float(np.var(y, ddof=1)) / y.size
        s = va + vb
        se = math.sqrt(s)
        if s > 0:
            wa, wb = va / s, vb / s  # scaled to avoid under/overflow in the 4th powers
            dof = 1.0 / (wa * wa / (x.size - 1) + wb * wb / (y.size - 1))
        else:
            dof = float(x.size + y.size - 2)

    if se > 0:
        t_lower = (diff + margin_f) / se
        t_upper = (diff - margin_f) / se
        p_lower = float(_st.t.sf(t_lower, dof))
        p_upper = float(_st.t.cdf(t_upper, dof))
        half = float(_st.t.ppf(1.0 - alpha, dof)) * se
    else:
        p_lower = 0.0 if diff > -margin_f else 1.0
        p_upper = 0.0 if diff < margin_f else 1.0
        half = 0.0
    p = max(p_lower, p_upper)
    return TOSTResult(
        diff=diff,
        p_lower=p_lower,
        p_upper=p_upper,
        p=p,
        equivalent=_tost_verdict(p_lower, p_upper, alpha),
        margin=margin_f,
        alpha=alpha,
        ci_low=diff - half,
        ci_high=diff + half,
        df=dof,
        se=se,
    )


# --------------------------------------------------------------------------
# 3b. power and sample size (paired t, paired TOST, correlation, two-way interaction)
# --------------------------------------------------------------------------


def _check_positive(x: float, name: str) -> float:
    x = float(x)
    if not (math.isfinite(x) and x > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {name}={x!r}")
    return x


def _check_alternative(alternative: str) -> str:
    if alternative not in ("two-sided", "greater"):
        raise ValueError(f"alternative must be 'two-sided' or 'greater', got alternative={alternative!r}")
    return alternative


def _smallest_n(power_at, target: float, n_min: int, n_max: int) -> int:
    """Smallest ``n`` in ``[n_min, n_max]`` with ``power_at(n) >= target`` (power is increasing in ``n``)."""
    _check_prob(target, "power")
    hi = n_min
    while power_at(hi) < target:  # doubling, so that no huge n (numerically fragile) is ever evaluated needlessly
        if hi >= n_max:
            raise ValueError(f"power {target} is not reached with n <= {n_max}")
        hi = min(2 * hi, n_max)
    lo = max(n_min, hi // 2)
    while lo < hi:
        mid = (lo + hi) // 2
        if power_at(mid) >= target:
            hi = mid
        else:
            lo = mid + 1
    return lo


def power_paired_t(effect: float, sd: float, n: int, alpha: float = 0.05, alternative: str = "two-sided") -> float:
    r"""Power of the paired (one-sample) t-test of ``mean(d) = 0`` when ``d ~ N(effect, sd²)``.

    With ``n`` pairs, ``df = n − 1`` and noncentrality ``λ = effect·√n / sd`` (``T'`` noncentral t)::

        two-sided: power = P(T' > t_{df,1−α/2}) + P(T' < −t_{df,1−α/2})
        greater:   power = P(T' > t_{df,1−α})

    Args:
      effect: true mean difference (same units as ``sd``).
      sd: standard deviation of the per-pair differences, > 0.
      n: number of pairs (seeds), ≥ 2.
      alpha: test level in (0, 1).
      alternative: ``"two-sided"`` or ``"greater"``.

    Returns:
      The power in [0, 1].

    >>> round(power_paired_t(0.5, 1.0, 34), 4)  # G*Power, one-sample t, d = 0.5, n = 34
    0.8078
    """
    sd = _check_positive(sd, "sd")
    alpha = _check_prob(alpha, "alpha")
    _check_alternative(alternative)
    if int(n) < 2:
        raise ValueError(f"n must be >= 2, got n={n!r}")
    df = int(n) - 1
    nc = float(effect) * math.sqrt(int(n)) / sd
    if alternative == "greater":
        return float(_st.nct.sf(_st.t.ppf(1 - alpha, df), df, nc))
    crit = float(_st.t.ppf(1 - alpha / 2, df))
    return float(_st.nct.sf(crit, df, nc) + _st.nct.cdf(-crit, df, nc))


def n_paired_t(
    effect: float,
    sd: float,
    power: float = 0.8,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    n_max: int = 100_000,
) -> int:
    """Smallest number of pairs (≥ 2) at which :func:`power_paired_t` reaches ``power``.

    Args:
      effect: the smallest effect of interest (SESOI), ≠ 0.
      sd: standard deviation of the per-pair differences (from a pilot).
      power: target power in (0, 1).
      alpha: as in :func:`power_paired_t`.
      alternative: as in :func:`power_paired_t`.
      n_max: give up (``ValueError``) above this many pairs.

    Returns:
      The number of pairs.

    >>> n_paired_t(0.5, 1.0), n_paired_t(0.2, 1.0), n_paired_t(0.8, 1.0)  # Cohen (1988) / G*Power
    (34, 199, 15)
    """
    if float(effect) == 0:
        raise ValueError("effect must be non-zero: no number of pairs detects a zero effect")
    return _smallest_n(lambda n: power_paired_t(effect, sd, n, alpha, alternative), power, 2, n_max)


def power_tost_paired(true_diff: float, sd: float, n: int, margin: float, alpha: float = 0.05) -> float:
    r"""Exact power of the paired TOST (:func:`tost` with ``paired=True``) at margin ``±margin``.

    With ``d̄ ~ N(θ, σ²/n)`` independent of ``s² ~ σ² χ²_{n−1}/(n−1)``, TOST declares equivalence iff
    ``−m + t*·s/√n < d̄ < m − t*·s/√n`` with ``t* = t_{n−1, 1−α}``; integrating over ``s``::

        power = ∫_0^{s_max} [Φ((m − t* s/√n − θ)√n/σ) − Φ((−m + t* s/√n − θ)√n/σ)] f_s(s) ds,
        s_max = m√n / t*

    (the same quantity as Owen's Q-function formulation).

    Args:
      true_diff: true mean difference θ.
      sd: standard deviation σ of the per-pair differences, > 0.
      n: number of pairs, ≥ 2.
      margin: equivalence margin m > 0.
      alpha: level of each one-sided test, in (0, 0.5).

    Returns:
      The probability that TOST declares equivalence.

    >>> round(power_tost_paired(0.0, 0.042, 8, 0.02), 3)  # P4's KL arm as committed: hopeless
    0.029
    """
    sd = _check_positive(sd, "sd")
    margin = _check_positive(margin, "margin")
    alpha = float(alpha)
    if not (0.0 < alpha < 0.5):
        raise ValueError(f"alpha must lie strictly between 0 and 0.5, got alpha={alpha!r}")
    if int(n) < 2:
        raise ValueError(f"n must be >= 2, got n={n!r}")
    from scipy import integrate

    n = int(n)
    df = n - 1
    tcrit = float(_st.t.ppf(1 - alpha, df))
    root_n = math.sqrt(n)
    s_max = margin * root_n / tcrit

    def integrand(s: float) -> float:
        half = margin - tcrit * s / root_n
        z_hi = (half - true_diff) * root_n / sd
        z_lo = (-half - true_diff) * root_n / sd
        density = _st.chi.pdf(s * math.sqrt(df) / sd, df) * math.sqrt(df) / sd  # s = σ·χ_df/√df
        return (_st.norm.cdf(z_hi) - _st.norm.cdf(z_lo)) * density

    value, _ = integrate.quad(integrand, 0.0, s_max, limit=200, epsabs=1e-10)
    return float(min(max(value, 0.0), 1.0))


def n_tost_paired(
    sd: float, margin: float, true_diff: float = 0.0, power: float = 0.8, alpha: float = 0.05, n_max: int = 100_000
) -> int:
    """Smallest number of pairs (≥ 2) at which :func:`power_tost_paired` reaches ``power``.

    Args:
      sd: standard deviation of the per-pair differences (from a pilot).
      margin: equivalence margin (the SESOI), > |true_diff|.
      true_diff: the true difference the design must declare equivalent (0: "no effect").
      power: as in :func:`n_paired_t`.
      alpha: as in :func:`n_paired_t`.
      n_max: as in :func:`n_paired_t`.

    Returns:
      The number of pairs.

    >>> n_tost_paired(0.042, 0.02)  # the issue's "80% power needs about 40 seeds"
    40
    """
    if abs(float(true_diff)) >= float(margin):
        raise ValueError(f"|true_diff| must be < margin, got true_diff={true_diff!r}, margin={margin!r}")
    return _smallest_n(lambda n: power_tost_paired(true_diff, sd, n, margin, alpha), power, 2, n_max)


def power_correlation(r: float, n: int, alpha: float = 0.05, alternative: str = "two-sided") -> float:
    r"""Power of the test of ``ρ = 0`` against a true correlation ``r`` (Fisher z approximation).

    ``z = atanh(r)·√(n − 3)``::

        two-sided: power = Φ(z − z_{1−α/2}) + Φ(−z − z_{1−α/2})
        greater:   power = Φ(z − z_{1−α})

    Args:
      r: true correlation in (−1, 1).
      n: number of pairs (observations), ≥ 4.
      alpha: as in :func:`power_paired_t`.
      alternative: as in :func:`power_paired_t`.

    Returns:
      The power in [0, 1].

    >>> round(power_correlation(0.3, 85), 3)
    0.8
    """
    alpha = _check_prob(alpha, "alpha")
    _check_alternative(alternative)
    if not -1 < float(r) < 1:
        raise ValueError(f"r must lie strictly between -1 and 1, got r={r!r}")
    if int(n) < 4:
        raise ValueError(f"n must be >= 4, got n={n!r}")
    z = math.atanh(float(r)) * math.sqrt(int(n) - 3)
    if alternative == "greater":
        return float(_st.norm.cdf(z - _st.norm.ppf(1 - alpha)))
    c = float(_st.norm.ppf(1 - alpha / 2))
    return float(_st.norm.cdf(z - c) + _st.norm.cdf(-z - c))


def n_correlation(r: float, power: float = 0.8, alpha: float = 0.05, alternative: str = "two-sided") -> int:
    r"""Pairs needed to detect a correlation ``r`` (Fisher z): ``n = ⌈((z_{1−α/2} + z_{power}) / atanh r)² + 3⌉``.

    (``z_{1−α}`` for ``alternative="greater"``.)

    Args:
      r: the smallest correlation of interest, ≠ 0.
      power: as in :func:`power_correlation`.
      alpha: as in :func:`power_correlation`.
      alternative: as in :func:`power_correlation`.

    Returns:
      The number of pairs.

    >>> n_correlation(0.3), n_correlation(0.5)  # Cohen (1988) Table 3.4.1 gives 85 for r = .3
    (85, 30)
    """
    _check_prob(power, "power")
    alpha = _check_prob(alpha, "alpha")
    _check_alternative(alternative)
    if not (-1 < float(r) < 1 and float(r) != 0):
        raise ValueError(f"r must be non-zero and strictly between -1 and 1, got r={r!r}")
    za = _st.norm.ppf(1 - (alpha if alternative == "greater" else alpha / 2))
    n = ((za + _st.norm.ppf(power)) / math.atanh(abs(float(r)))) ** 2 + 3
    return max(4, math.ceil(n - 1e-9))


def cohen_f(partial_eta_sq: float) -> float:
    """Cohen's effect size ``f = √(η²_p / (1 − η²_p))`` from a partial η² (e.g. ``two_way_anova``'s).

    >>> round(cohen_f(0.0588), 3)  # a "medium" effect, f = 0.25
    0.25
    """
    e = float(partial_eta_sq)
    if not 0 <= e < 1:
        raise ValueError(f"partial_eta_sq must lie in [0, 1), got {partial_eta_sq!r}")
    return math.sqrt(e / (1 - e))


def power_anova_interaction(f: float, a: int, b: int, n_per_cell: int, alpha: float = 0.05) -> float:
    r"""Power of the F test of the A×B interaction in a balanced two-way fixed-effects ANOVA.

    Cohen's ``f`` of the interaction, ``N = a·b·n`` observations, ``df1 = (a−1)(b−1)``, ``df2 = N − a·b``,
    noncentrality ``λ = f²·N`` (G*Power's convention)::

        power = P(F'(df1, df2, λ) > F_{df1, df2, 1−α})

    Args:
      f: Cohen's f of the interaction (:func:`cohen_f` of a partial η²).
      a: number of levels of the first factor, ≥ 2.
      b: number of levels of the second factor, ≥ 2.
      n_per_cell: observations (seeds) per cell, ≥ 2.
      alpha: test level.

    Returns:
      The power in [0, 1].

    >>> round(power_anova_interaction(0.25, 2, 2, 32), 3)  # df1 = 1, N = 128
    0.801
    """
    alpha = _check_prob(alpha, "alpha")
    if float(f) < 0:
        raise ValueError(f"f must be >= 0, got f={f!r}")
    if int(a) < 2 or int(b) < 2 or int(n_per_cell) < 2:
        raise ValueError(f"need a, b >= 2 and n_per_cell >= 2, got a={a!r}, b={b!r}, n_per_cell={n_per_cell!r}")
    total = int(a) * int(b) * int(n_per_cell)
    df1, df2 = (int(a) - 1) * (int(b) - 1), total - int(a) * int(b)
    crit = float(_st.f.ppf(1 - alpha, df1, df2))
    return float(_st.ncf.sf(crit, df1, df2, float(f) ** 2 * total))


def n_anova_interaction(f: float, a: int, b: int, power: float = 0.8, alpha: float = 0.05, n_max: int = 100_000) -> int:
    """Smallest observations per cell (≥ 2) at which :func:`power_anova_interaction` reaches ``power``.

    >>> n_anova_interaction(0.25, 2, 2)  # N = 128, the two-group t-test's 64 per group
    32
    """
    if float(f) <= 0:
        raise ValueError(f"f must be > 0, got f={f!r}")
    return _smallest_n(lambda n: power_anova_interaction(f, a, b, n, alpha), power, 2, n_max)


class VarianceComponents(NamedTuple):
    """One-way random-effects split of a per-seed statistic's variance into between- and within-group parts."""

    between_sd: float
    within_sd: float
    icc: float
    f: float
    p: float
    groups: int
    per_group: int


def variance_components(means: Any, variances: Any, per_group: int) -> VarianceComponents:
    r"""Between- and within-group variance of a balanced one-way random-effects design, from group summaries.

    With ``G`` groups (worlds) of ``n`` replicates (seeds) each, group means ``m_g`` and within-group sample
    variances ``v_g``::

        MS_within = mean_g v_g,   MS_between = n · var(m_g, ddof=1),
        σ²_within = MS_within,    σ²_between = max(0, (MS_between − MS_within) / n),
        ICC = σ²_between / (σ²_between + σ²_within),   F = MS_between / MS_within ~ F(G − 1, G(n − 1)) under σ²_between = 0

    (the ANOVA estimator; ``F`` and ``p`` are those of ``scipy.stats.f_oneway`` on the raw groups).

    Args:
      means: ``[G]`` group means, ``G ≥ 2``.
      variances: ``[G]`` within-group sample variances (ddof = 1).
      per_group: replicates per group ``n ≥ 2``.

    Returns:
      :class:`VarianceComponents` (SDs are square roots of the variance estimates).

    >>> vc = variance_components([0.0, 1.0, 2.0], [1.0, 1.0, 1.0], 4)  # MS_b = 4, MS_w = 1
    >>> round(vc.between_sd ** 2, 3), round(vc.icc, 3), round(vc.f, 3)
    (0.75, 0.429, 4.0)
    """
    m, v = _as_1d(means, "means"), _as_1d(variances, "variances")
    n = int(per_group)
    if len(m) < 2 or len(m) != len(v) or n < 2:
        raise ValueError(f"need >= 2 groups with a variance each and per_group >= 2, got {len(m)}, {len(v)}, {n}")
    ms_within, ms_between = float(v.mean()), n * float(m.var(ddof=1))
    between = max(0.0, (ms_between - ms_within) / n)
    f = ms_between / ms_within if ms_within > 0 else math.inf
    g = len(m)
    return VarianceComponents(
        between_sd=math.sqrt(between),
        within_sd=math.sqrt(ms_within),
        icc=between / (between + ms_within) if between + ms_within > 0 else 0.0,
        f=f,
        p=float(_st.f.sf(f, g - 1, g * (n - 1))),
        groups=g,
        per_group=n,
    )


# --------------------------------------------------------------------------
# 4. equivalence groups
# --------------------------------------------------------------------------


def equivalence_groups(
    df: pd.DataFrame,
    by: list[str] | str,
    value: str,
    margin: float,
    alpha: float = 0.05,
    seed_col: str | None = "seed",
    paired: bool | None = None,
) -> pd.DataFrame:
    """Greedy grouping of the levels of ``by`` into TOST-equivalence groups.

    Procedure (exactly):

    1. Observations per level.  If ``seed_col`` is a column of ``df``, rows are
       averaged within each (level, seed) cell, giving one observation per seed;
       otherwise (or with ``seed_col=None``) every row is one observation.
    2. Levels are sorted by their mean observation, descending (ties broken by
       the natural order of the level labels).
    3. Repeat until every level has a group: the best (highest mean) level that
       has no group yet becomes the *reference* of a new group, labelled
       ``"A"``, ``"B"``, ... ``"Z"``, ``"AA"``, ...  Every other level without a
       group, taken in descending order of mean, joins this group iff
       ``tost(reference, level, margin, alpha).equivalent``.
    4. Pairing: with ``paired=None`` (default) a pair is tested with the paired
       TOST when ``seed_col`` is used and both levels were run on exactly the
       same set of seeds (aligned by seed), otherwise with Welch's TOST.
       ``paired=True/False`` forces one or the other (``True`` raises if the seed
       sets differ).  A level with fewer than 2 observations is never declared
       equivalent to anything (its ``p`` is NaN) and ends up alone.

    Membership means "equivalent to the group's reference", not to every other
    member: equivalence is not transitive.

    Returns one row per level with columns ``by + [f"{value}_mean", "n",
    "group", "reference", "p_tost"]``, sorted by mean descending; ``reference``
    is True for the level that founded its group and ``p_tost`` is the TOST
    ``p = max(p_lower, p_upper)`` against the reference of its group (NaN for
    the reference itself).

    Examples:
      >>> df = pd.DataFrame({
      ...     "loss": ["kl"] * 3 + ["listnet"] * 3 + ["lce"] * 3,
      ...     "seed": [0, 1, 2] * 3,
      ...     "ndcg": [0.80, 0.82, 0.81, 0.81, 0.82, 0.80, 0.70, 0.73, 0.72],
      ... })
      >>> groups = equivalence_groups(df, "loss", "ndcg", margin=0.05)  # paired over the seeds
      >>> groups[["loss", "group", "reference"]].values.tolist()
      [['kl', 'A', True], ['listnet', 'A', False], ['lce', 'B', True]]
    """
    by = _as_list(by)
    _check_columns(df, by + [value])
    use_seeds = seed_col is not None and seed_col in df.columns
    if paired and not use_seeds:
        raise ValueError("paired=True needs a seed column present in the data frame")

    obs: dict[tuple, pd.Series] = {}
    if use_seeds:
        levels, seeds, M = _level_table(df, by, value, seed_col)
        for j, lv in enumerate(levels):
            col = M[:, j]
            keep = ~np.isnan(col)
            obs[lv] = pd.Series(col[keep], index=[s for s, k in zip(seeds, keep) if k])
    else:
        _as_1d(df[value].to_numpy(), name=f"column {value!r}")
        for key, grp in df.groupby(by, sort=True, observed=True, dropna=False):
            key = key if isinstance(key, tuple) else (key,)
            obs[key] = pd.Series(grp[value].to_numpy(dtype=float))
        levels = _sorted(obs)

    means = {lv: float(obs[lv].mean()) for lv in levels}
    # stable sort: descending mean, ties keep label order
    order = sorted(levels, key=lambda lv: -means[lv])

    def _test(ref: tuple, lv: tuple) -> float:
        x, y = obs[ref], obs[lv]
        if len(x) < 2 or len(y) < 2:
            return math.nan
        same_seeds = use_seeds and set(x.index) == set(y.index)
        do_pair = same_seeds if paired is None else bool(paired)
        if do_pair:
            if not same_seeds:
                raise ValueError(f"paired=True but levels {ref} and {lv} were run on different seeds")
            y = y.loc[x.index]
            return tost(x.to_numpy(), y.to_numpy(), margin, alpha, paired=True).p
        return tost(x.to_numpy(), y.to_numpy(), margin, alpha, paired=False).p

    # validate margin/alpha even if there is a single level
    if not (math.isfinite(float(margin)) and float(margin) > 0):
        raise ValueError(f"margin must be a finite number > 0, got margin={margin!r}")

    group: dict[tuple, str] = {}
    is_ref: dict[tuple, bool] = {}
    pval: dict[tuple, float] = {}
    k = 0
    for ref in order:
        if ref in group:
            continue
        label = _group_label(k)
        k += 1
        group[ref], is_ref[ref], pval[ref] = label, True, math.nan
        for lv in order:
            if lv in group:
                continue
            p = _test(ref, lv)
            if not math.isnan(p) and p < alpha:
                group[lv], is_ref[lv], pval[lv] = label, False, p

    rows = [
        {
            **_level_records(by, lv),
            f"{value}_mean": means[lv],
            "n": len(obs[lv]),
            "group": group[lv],
            "reference": is_ref[lv],
            "p_tost": pval[lv],
        }
        for lv in order
    ]
    return pd.DataFrame(rows, columns=by + [f"{value}_mean", "n", "group", "reference", "p_tost"])


# --------------------------------------------------------------------------
# 5. two-way ANOVA (Type II)
# --------------------------------------------------------------------------


def _dummies(codes: np.ndarray, k: int) -> np.ndarray:
    """Treatment (reference = first level) dummy coding: n x (k-1)."""
    D = np.zeros((codes.size, max(k - 1, 0)))
    for j in range(1, k):
        D[:, j - 1] = codes == j
    return D


def _rss_rank(X: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    beta, _, rank, _ = np.linalg.lstsq(X, y, rcond=None)
    r = y - X @ beta
    return float(r @ r), int(rank)


def two_way_anova(df: pd.DataFrame, a: str, b: str, value: str) -> pd.DataFrame:
    r"""Two-factor ANOVA with interaction, Type II sums of squares.

    Fitted by least squares on dummy-coded (treatment-coded) design matrices::

        M_A   : 1 + A          M_B : 1 + B
        M_AB  : 1 + A + B      M_F : 1 + A + B + A:B   (A:B = products of dummies)

        SS_A        = RSS(M_B)  - RSS(M_AB)     df_A  = a_levels - 1
        SS_B        = RSS(M_A)  - RSS(M_AB)     df_B  = b_levels - 1
        SS_AB       = RSS(M_AB) - RSS(M_F)      df_AB = rank(M_F) - rank(M_AB)
        SS_Residual = RSS(M_F)                  df_R  = N - rank(M_F)
        SS_total    = sum (y - mean(y))^2

    ``df_AB`` is ``(a-1)(b-1)`` when every cell is filled.  For a balanced
    design these are the classical sums of squares (and they add up to
    SS_total); for unbalanced data Type II SS need not add up.  Each effect row
    has ``F = (SS/df) / MS_resid``, ``p = P(F_{df, df_R} >= F)`` and::

        eta_sq         = SS_effect / SS_total
        partial_eta_sq = SS_effect / (SS_effect + SS_resid)
        omega_sq       = (SS_effect - df_effect * MS_resid) / (SS_total + MS_resid)

    (``omega_sq`` can be slightly negative for null effects; it is not
    clipped.)  The Residual row has NaN for F, p and the effect sizes.

    Returns a DataFrame indexed by ``[a, b, f"{a}:{b}", "Residual"]`` (the
    factor names) with columns ``sum_sq, df, F, p, eta_sq, partial_eta_sq,
    omega_sq``.  Needs >= 2 levels per factor and replication (``df_R > 0``).

    Examples:
      >>> df = pd.DataFrame({
      ...     "loss": ["kl", "kl", "lce", "lce"] * 2,
      ...     "sampler": ["local", "uniform"] * 4,
      ...     "ndcg": [0.80, 0.70, 0.60, 0.50, 0.82, 0.71, 0.61, 0.52],
      ... })
      >>> aov = two_way_anova(df, "loss", "sampler", "ndcg")
      >>> aov.index.tolist()
      ['loss', 'sampler', 'loss:sampler', 'Residual']
      >>> aov.loc["loss", ["sum_sq", "df", "F"]].round(4).tolist()  # 0.08 / (0.0005 / 4)
      [0.08, 1.0, 640.0]
    """
    _check_columns(df, [a, b, value])
    if a == b:
        raise ValueError("factors a and b must be different columns")
    y = _as_1d(df[value].to_numpy(), name=f"column {value!r}")
    if df[a].isna().any() or df[b].isna().any():
        raise ValueError("factor columns contain missing values")
    ca, la = pd.factorize(df[a], sort=True)
    cb, lb = pd.factorize(df[b], sort=True)
    ka, kb = len(la), len(lb)
    if ka < 2 or kb < 2:
        raise ValueError(f"each factor needs >= 2 levels, got {a}: {ka}, {b}: {kb}")

    n = y.size
    one = np.ones((n, 1))
    DA, DB = _dummies(ca, ka), _dummies(cb, kb)
    DAB = np.einsum("ni,nj->nij", DA, DB).reshape(n, -1)
    yc = y - y.mean()  # centring does not change any RSS (intercept in every model)

    rss_a, rank_a = _rss_rank(np.hstack([one, DA]), yc)
    rss_b, rank_b = _rss_rank(np.hstack([one, DB]), yc)
    rss_ab, rank_ab = _rss_rank(np.hstack([one, DA, DB]), yc)
    rss_f, rank_f = _rss_rank(np.hstack([one, DA, DB, DAB]), yc)

    df_a = float(rank_ab - rank_b)
    df_b = float(rank_ab - rank_a)
    df_int = float(rank_f - rank_ab)
    df_res = float(n - rank_f)
    if df_res <= 0:
        raise ValueError("no replication: the full model leaves no residual degrees of freedom")

    ss_tot = float(yc @ yc)
    ss = {
        a: max(rss_b - rss_ab, 0.0),
        b: max(rss_a - rss_ab, 0.0),
        f"{a}:{b}": max(rss_ab - rss_f, 0.0),
    }
    dfs = {a: df_a, b: df_b, f"{a}:{b}": df_int}
    ss_res = max(rss_f, 0.0)
    ms_res = ss_res / df_res

    rows = {}
    for name, s in ss.items():
        d = dfs[name]
        if d > 0 and ms_res > 0:
            F = (s / d) / ms_res
            p = float(_st.f.sf(F, d, df_res))
        elif d > 0:  # perfect fit: any non-zero effect is infinitely significant
            F = math.inf if s > 0 else math.nan
            p = 0.0 if s > 0 else math.nan
        else:
            F, p = math.nan, math.nan
        rows[name] = {
            "sum_sq": s,
            "df": d,
            "F": F,
            "p": p,
            "eta_sq": s / ss_tot if ss_tot > 0 else math.nan,
            "partial_eta_sq": s / (s + ss_res) if (s + ss_res) > 0 else math.nan,
            "omega_sq": (s - d * ms_res) / (ss_tot + ms_res) if (ss_tot + ms_res) > 0 else math.nan,
        }
    rows["Residual"] = {
        "sum_sq": ss_res,
        "df": df_res,
        "F": math.nan,
        "p": math.nan,
        "eta_sq": math.nan,
        "partial_eta_sq": math.nan,
        "omega_sq": math.nan,
    }
    out = pd.DataFrame.from_dict(rows, orient="index")
    return out[["sum_sq", "df", "F", "p", "eta_sq", "partial_eta_sq", "omega_sq"]]


# --------------------------------------------------------------------------
# 6. rank stability across seeds
# --------------------------------------------------------------------------


def _level_name(by: list[str], lv: tuple):
    return lv[0] if len(by) == 1 else lv


def rank_stability(df: pd.DataFrame, by: list[str] | str, value: str, seed_col: str = "seed") -> dict[str, Any]:
    """How well single seeds reproduce the ranking of the seed-averaged means.

    Let ``x[s, l]`` be the mean of ``value`` for level ``l`` on seed ``s``
    (rows in one (level, seed) cell are averaged) and ``m[l] = mean_s x[s, l]``
    the seed-averaged mean (over the seeds where ``l`` was run).  Higher is
    better.  The overall winner ``top1 = argmax_l m[l]`` (ties: first level in
    label order).

    * ``top1_fraction = (1/S) * sum_s c_s`` where ``c_s = 1/k_s`` if ``top1`` is
      among the ``k_s`` levels attaining ``max_l x[s, l]`` on seed ``s`` and 0
      otherwise (a ``k``-way tie counts as the probability of picking ``top1``
      by a fair tie-break).  Only seeds on which ``top1`` was run count.
    * ``mean_kendall_tau = mean_s tau_b(x[s, :], m)`` over the levels present on
      seed ``s``; seeds with fewer than 2 levels or a constant ranking (tau
      undefined) are skipped.

    Returns a dict with ``top1`` (the level label; a tuple if ``by`` has several
    columns), ``top1_fraction``, ``mean_kendall_tau``, ``n_seeds``,
    ``n_levels``, and ``per_seed`` (a DataFrame: seed, top1 credit, tau).

    Examples:
      >>> df = pd.DataFrame({
      ...     "loss": ["kl"] * 3 + ["listnet"] * 3 + ["lce"] * 3,
      ...     "seed": [0, 1, 2] * 3,
      ...     "ndcg": [0.80, 0.82, 0.81, 0.81, 0.82, 0.80, 0.70, 0.73, 0.72],
      ... })
      >>> r = rank_stability(df, "loss", "ndcg")  # kl wins seed 2, ties listnet on seed 1, loses seed 0
      >>> r["top1"], r["top1_fraction"], r["n_seeds"]
      ('kl', 0.5, 3)
    """
    by = _as_list(by)
    levels, seeds, M = _level_table(df, by, value, seed_col)
    if not levels:
        raise ValueError("no data")
    m = np.nanmean(M, axis=0)
    top = int(np.argmax(m))
    credits, taus, seed_ids = [], [], []
    for s, row in zip(seeds, M):
        present = ~np.isnan(row)
        tau = math.nan
        if present.sum() >= 2:
            xs, ms = row[present], m[present]
            if np.ptp(xs) > 0 and np.ptp(ms) > 0:
                tau = float(_st.kendalltau(xs, ms).statistic)
        c = math.nan
        if present[top]:
            best = np.nanmax(row)
            winners = np.flatnonzero(row == best)
            c = 1.0 / winners.size if top in winners else 0.0
        credits.append(c)
        taus.append(tau)
        seed_ids.append(s)
    credits_a = np.array(credits, dtype=float)
    taus_a = np.array(taus, dtype=float)
    return {
        "top1": _level_name(by, levels[top]),
        "top1_fraction": float(np.nanmean(credits_a)) if np.any(~np.isnan(credits_a)) else math.nan,
        "mean_kendall_tau": float(np.nanmean(taus_a)) if np.any(~np.isnan(taus_a)) else math.nan,
        "n_seeds": len(seeds),
        "n_levels": len(levels),
        "per_seed": pd.DataFrame({seed_col: seed_ids, "top1_credit": credits_a, "kendall_tau": taus_a}),
    }


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (NaNs stay NaN and are not counted)."""
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    m = q.size
    if m == 0:
        return out
    order = np.argsort(q, kind="stable")
    adj = np.empty(m)
    running = 0.0
    for rank, idx in enumerate(order):
        running = max(running, min(1.0, (m - rank) * q[idx]))
        adj[idx] = running
    out[ok] = adj
    return out


def pairwise_rank_significance(
    df: pd.DataFrame,
    by: list[str] | str,
    value: str,
    seed_col: str = "seed",
    alpha: float = 0.05,
    adjust: str | None = None,
) -> pd.DataFrame:
    """Paired t-test over seeds for every pair of levels: is their order significant?

    Levels are sorted by seed-averaged mean, descending; for each pair
    ``(hi, lo)`` with ``hi`` ranked above ``lo`` and over the ``n`` seeds on
    which both were run::

        d_s = x[s, hi] - x[s, lo]
        t   = mean(d) / (sd(d, ddof=1) / sqrt(n)),   df = n - 1
        p   = 2 * P(T_{n-1} >= |t|)                  (two-sided)

    If ``sd(d) == 0``: ``p = 0`` when ``mean(d) != 0`` (the same order on every
    seed) and ``p = 1`` otherwise; ``n < 2`` gives ``p = NaN``.  ``adjust``
    may be ``None`` (default), ``"holm"`` or ``"bonferroni"``; it fills
    ``p_adj`` (equal to ``p`` when ``None``).  ``significant = p_adj < alpha``
    and the order ``hi > lo`` is significant only if in addition
    ``mean(d) > 0``.

    Returns columns ``["level_hi", "level_lo", "mean_diff", "t", "df", "p",
    "p_adj", "n", "significant"]`` (a level is a tuple when ``by`` has several
    columns).

    Examples:
      >>> df = pd.DataFrame({
      ...     "loss": ["kl"] * 3 + ["listnet"] * 3 + ["lce"] * 3,
      ...     "seed": [0, 1, 2] * 3,
      ...     "ndcg": [0.80, 0.82, 0.81, 0.81, 0.82, 0.80, 0.70, 0.73, 0.72],
      ... })
      >>> r = pairwise_rank_significance(df, "loss", "ndcg")
      >>> r[["level_hi", "level_lo", "significant"]].values.tolist()
      [['kl', 'listnet', False], ['kl', 'lce', True], ['listnet', 'lce', True]]
    """
    by = _as_list(by)
    _check_prob(alpha, "alpha")
    if adjust not in (None, "holm", "bonferroni"):
        raise ValueError(f"adjust must be None, 'holm' or 'bonferroni', got {adjust!r}")
    levels, seeds, M = _level_table(df, by, value, seed_col)
    m = np.nanmean(M, axis=0)
    order = sorted(range(len(levels)), key=lambda j: -m[j])
    recs = []
    for i, j in itertools.combinations(order, 2):
        both = ~np.isnan(M[:, i]) & ~np.isnan(M[:, j])
        d = M[both, i] - M[both, j]
        n = int(d.size)
        md = float(d.mean()) if n else math.nan
        if n < 2:
            t, p = math.nan, math.nan
        else:
            sd = float(np.std(d, ddof=1))
            if sd > 0:
                t = md / (sd / math.sqrt(n))
                p = float(2.0 * _st.t.sf(abs(t), n - 1))
            else:
                t = math.copysign(math.inf, md) if md != 0 else math.nan
                p = 0.0 if md != 0 else 1.0
        recs.append(
            {
                "level_hi": _level_name(by, levels[i]),
                "level_lo": _level_name(by, levels[j]),
                "mean_diff": md,
                "t": t,
                "df": float(n - 1),
                "p": p,
                "n": n,
            }
        )
    cols = ["level_hi", "level_lo", "mean_diff", "t", "df", "p", "p_adj", "n", "significant"]
    out = pd.DataFrame(recs, columns=[c for c in cols if c not in ("p_adj", "significant")])
    p = out["p"].to_numpy(dtype=float)
    if adjust == "holm":
        padj = _holm(p)
    elif adjust == "bonferroni":
        k = int(np.sum(~np.isnan(p)))
        padj = np.minimum(1.0, p * k)
    else:
        padj = p.copy()
    out["p_adj"] = padj
    with np.errstate(invalid="ignore"):
        out["significant"] = (padj < alpha) & (out["mean_diff"].to_numpy(dtype=float) > 0)
    return out[cols]


# --------------------------------------------------------------------------
# 7. correlations
# --------------------------------------------------------------------------


class CorrResult(NamedTuple):
    """Correlation coefficient with Fisher-z confidence interval."""

    r: float
    low: float
    high: float
    p: float
    n: int


def _snap_unit(r: float) -> float:
    """Clip to [-1, 1] and snap values within 1e-12 of +/-1 (rounding error) to +/-1."""
    r = float(np.clip(r, -1.0, 1.0))
    return math.copysign(1.0, r) if 1.0 - abs(r) < 1e-12 else r


def _fisher_ci(r: float, n: int, se: float, confidence: float) -> tuple[float, float]:
    if not math.isfinite(r) or not math.isfinite(se):
        return math.nan, math.nan
    if abs(r) >= 1.0:
        return r, r
    z = math.atanh(r)
    zc = float(_st.norm.ppf(0.5 + confidence / 2.0))
    return math.tanh(z - zc * se), math.tanh(z + zc * se)


def _xy(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    xa, ya = _as_1d(x, "x"), _as_1d(y, "y")
    if xa.size != ya.size:
        raise ValueError(f"x and y must have equal length, got {xa.size} and {ya.size}")
    if xa.size < 3:
        raise ValueError("a correlation needs at least 3 pairs")
    return xa, ya


def pearson_ci(x: Any, y: Any, confidence: float = 0.95) -> CorrResult:
    """Pearson correlation with a Fisher-z confidence interval.

    ``r`` and the two-sided p-value are scipy's ``pearsonr`` (``t = r *
    sqrt((n-2)/(1-r^2))`` on ``n-2`` df).  The interval::

        z = atanh(r),  se = 1/sqrt(n-3),  z* = Phi^{-1}((1+confidence)/2)
        low, high = tanh(z -/+ z* * se)

    needs ``n >= 4`` (NaN bounds for ``n == 3``); ``|r| == 1`` (to within 1e-12) gives
    ``low = high = r``; a constant input gives ``r = NaN``.
    """
    return _correlation(x, y, confidence, _st.pearsonr, lambda r, n: 1.0 / math.sqrt(n - 3))


def spearman(x: Any, y: Any, confidence: float = 0.95) -> CorrResult:
    """Spearman rank correlation with a Fisher-z confidence interval.

    ``rho`` and the two-sided p-value are scipy's ``spearmanr`` (t
    approximation on ``n-2`` df).  The interval uses the Bonett & Wright
    (2000) standard error for Spearman's rho::

        z = atanh(rho),  se = sqrt((1 + rho^2/2) / (n-3))
        low, high = tanh(z -/+ z* * se),  z* = Phi^{-1}((1+confidence)/2)

    needs ``n >= 4``; ``|rho| == 1`` (to within 1e-12) gives ``low = high = rho``; constant input
    gives NaN.

    Examples:
      >>> r = spearman([1, 2, 3, 4, 5], [2, 4, 5, 4.5, 10])  # one swapped pair: 1 − 6·2/(5·24)
      >>> round(r.r, 4), round(r.low, 4), round(r.high, 4), r.n
      (0.9, -0.1689, 0.9961, 5)
    """
    return _correlation(x, y, confidence, _st.spearmanr, lambda rho, n: math.sqrt((1.0 + rho * rho / 2.0) / (n - 3)))


def _correlation(x: Any, y: Any, confidence: float, test, standard_error) -> CorrResult:
    """``test(x, y)``'s statistic and p-value with a Fisher-z interval of standard error
    ``standard_error(r, n)`` (NaN for ``n <= 3``); NaN throughout for a constant input."""
    confidence = _check_prob(confidence, "confidence")
    xa, ya = _xy(x, y)
    n = xa.size
    if np.ptp(xa) == 0 or np.ptp(ya) == 0:
        return CorrResult(math.nan, math.nan, math.nan, math.nan, n)
    res = test(xa, ya)
    r = _snap_unit(res.statistic)
    se = standard_error(r, n) if n > 3 else math.nan
    low, high = _fisher_ci(r, n, se, confidence)
    return CorrResult(r, low, high, float(res.pvalue), n)


# --------------------------------------------------------------------------
# query-level paired tests and multiplicity (real-data confirmation)
# --------------------------------------------------------------------------

__all__ += [
    "PairedQueryResult",
    "paired_bootstrap",
    "paired_randomization_test",
    "randomization_tests",
    "holm",
    "benjamini_hochberg",
]


class PairedQueryResult(NamedTuple):
    """Mean paired difference with a percentile bootstrap interval, over ``n_queries`` (and ``n_seeds``)."""

    mean: float
    low: float
    high: float
    n_queries: int
    n_seeds: int


def _paired_diffs(a: Any, b: Any) -> np.ndarray:
    """``a − b`` as a ``[seeds, queries]`` float array (a 1-D input is one seed)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim not in (1, 2) or a.shape[-1] < 2:
        raise ValueError(
            f"paired values need equal shapes [queries] or [seeds, queries] with >= 2 queries, got {a.shape}, {b.shape}"
        )
    d = (a - b).reshape(-1, a.shape[-1]) if a.ndim == 2 else (a - b)[None]
    if not np.all(np.isfinite(d)):
        raise ValueError("paired values contain NaN or inf")
    return d


def paired_bootstrap(
    a: Any, b: Any, n_boot: int = 10_000, confidence: float = 0.95, random_state: int = 0
) -> PairedQueryResult:
    r"""Percentile bootstrap interval of the mean paired difference ``mean(a − b)``.

    ``a``, ``b``: ``[queries]`` or ``[seeds, queries]``, paired element-wise (the same query, and the same
    seed, under two systems).  Each replicate resamples queries with replacement and, for 2-D input,
    independently seeds with replacement (a two-way bootstrap: the interval covers query and seed
    variation), and takes the mean of ``d = a − b`` over the resampled cells::

        d*_r = mean_{s in S*_r, i in Q*_r} d[s, i],   interval = quantiles (1 ± confidence)/2 of d*_r

    Returns:
      :class:`PairedQueryResult` ``(mean, low, high, n_queries, n_seeds)``.
    """
    confidence = _check_prob(confidence, "confidence")
    d = _paired_diffs(a, b)
    n_s, n_q = d.shape
    rng = np.random.default_rng(random_state)
    boot = np.empty(n_boot)
    for start in range(0, n_boot, 500):  # bounded memory: 500 replicates at a time
        r = min(500, n_boot - start)
        qi = rng.integers(0, n_q, (r, n_q))
        si = rng.integers(0, n_s, (r, n_s)) if n_s > 1 else np.zeros((r, 1), np.int64)
        per_seed = d[:, qi].mean(axis=-1)  # [n_s, r]: mean over resampled queries, per seed
        boot[start : start + r] = np.take_along_axis(per_seed.T, si, axis=1).mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(boot, [tail, 1.0 - tail])
    return PairedQueryResult(float(d.mean()), float(low), float(high), n_q, n_s)


def paired_randomization_test(a: Any, b: Any, n_perm: int = 10_000, random_state: int = 0) -> float:
    r"""Two-sided sign-flip randomisation test of ``mean(a − b) = 0`` over queries.

    With per-query differences ``d_i`` (averaged over seeds for ``[seeds, queries]`` input), under H0
    each ``d_i`` is symmetric about 0, so ``T = |mean_i ε_i d_i|`` with random signs ``ε_i = ±1`` is the
    null distribution of ``|mean d|``::

        p = (1 + #{r : T_r >= |mean d|}) / (1 + n_perm)

    (never 0; a tolerance of 1e-12 counts ties).  Returns the p-value.
    """
    return float(randomization_tests(_paired_diffs(a, b).mean(axis=0)[None], n_perm, random_state)[0])


def randomization_tests(diffs: Any, n_perm: int = 10_000, random_state: int = 0) -> np.ndarray:
    """:func:`paired_randomization_test` of many comparisons at once: ``diffs [tests, queries]`` holds each
    comparison's per-query differences; all share the same sign draws (so each p equals the single test's
    with the same ``random_state``).  Returns ``[tests]`` p-values."""
    d = np.asarray(diffs, dtype=np.float64)
    if d.ndim != 2 or d.shape[1] < 2 or not np.all(np.isfinite(d)):
        raise ValueError(f"diffs must be a finite [tests, queries] array with >= 2 queries, got shape {d.shape}")
    n = d.shape[1]
    observed = np.abs(d.mean(axis=1))
    total = d.sum(axis=1)
    rng = np.random.default_rng(random_state)
    hits = np.zeros(d.shape[0], np.int64)
    for start in range(0, n_perm, 2000):
        r = min(2000, n_perm - start)
        bytes_ = rng.integers(0, 256, size=(r, -(-n // 8)), dtype=np.uint8)
        plus = np.unpackbits(bytes_, axis=1)[:, :n].astype(np.float64)  # 1: ε_i = +1, 0: ε_i = −1
        hits += np.sum(np.abs((2.0 * (plus @ d.T) - total) / n) >= observed - 1e-12, axis=0)
    return (1 + hits) / (1 + n_perm)


def holm(pvalues: Any) -> np.ndarray:
    """Holm step-down adjusted p-values (family-wise error control): with ``p_(1) <= … <= p_(m)``,
    ``p̃_(i) = max_{j <= i} min(1, (m − j + 1) p_(j))``; NaNs stay NaN and are not counted."""
    return _holm(np.asarray(pvalues, dtype=np.float64))


def benjamini_hochberg(pvalues: Any) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (false discovery rate): with ``p_(1) <= … <= p_(m)``,
    ``p̃_(i) = min_{j >= i} min(1, m p_(j) / j)``; NaNs stay NaN and are not counted."""
    p = np.asarray(pvalues, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    if q.size == 0:
        return out
    order = np.argsort(q, kind="stable")
    scaled = q[order] * q.size / np.arange(1, q.size + 1)
    adj = np.empty(q.size)
    adj[order] = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    out[ok] = adj
    return out
