"""Power and sample size: paired t, paired TOST, correlation and the two-way interaction F test."""

from __future__ import annotations

import math

from scipy import stats as _st

from simrank.stats._common import _check_prob

__all__ = [
    "power_paired_t",
    "n_paired_t",
    "power_tost_paired",
    "n_tost_paired",
    "power_correlation",
    "n_correlation",
    "cohen_f",
    "power_anova_interaction",
    "n_anova_interaction",
]


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
