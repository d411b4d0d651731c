"""Input checks and level-table helpers shared by the :mod:`simrank.stats` modules."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__: list[str] = []


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
