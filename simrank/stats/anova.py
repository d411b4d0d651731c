"""Variance decompositions: the two-way ANOVA (Type II) and one-way random-effects variance components."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats as _st

from simrank.stats._common import _as_1d, _check_columns

__all__ = ["two_way_anova", "VarianceComponents", "variance_components"]


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
