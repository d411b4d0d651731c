"""Query splits that keep queries sharing a relevant document together.

Two queries are *linked* when some document is relevant (relevance > 0) to both; the connected components of
this relation are the units of the split, so no relevant document is relevant to queries of two splits (the
memorisation artefact of issue 21: a student that memorises a training query's relevant abstract cannot use it
on a held-out query).  Components are shuffled with a seeded generator and each is given, in that order, to the
split whose filled share is furthest below its target: ``argmax_s (f_s · n − n_s)`` with ``n`` the number of
queries, ``f_s`` the target fraction and ``n_s`` the queries already in split ``s`` (ties: the earlier split).
Each split then holds ``f_s · n`` queries up to the size of the largest component.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from simrank.errors import ConfigError

__all__ = ["grouped_query_split", "query_components"]


def query_components(qrels: pd.DataFrame) -> list[list[str]]:
    """The connected components of "shares a relevant document" over the queries with a relevant document.

    Args:
      qrels: judgments with columns ``query_id``, ``doc_id``, ``relevance``; rows with relevance ≤ 0 are ignored.

    Returns:
      the components, each a list of query ids in first-appearance order, ordered by their first query's
      first appearance.
    """
    positive = qrels[qrels.relevance > 0]
    queries = list(dict.fromkeys(positive.query_id))
    parent = {q: q for q in queries}

    def find(q: str) -> str:
        while parent[q] != q:
            parent[q] = parent[parent[q]]
            q = parent[q]
        return q

    for linked in positive.groupby("doc_id", sort=False).query_id:
        members = list(dict.fromkeys(linked[1]))
        root = find(members[0])
        for q in members[1:]:
            other = find(q)
            if other != root:
                parent[other] = root
    components: dict[str, list[str]] = {}
    for q in queries:
        components.setdefault(find(q), []).append(q)
    return list(components.values())


def grouped_query_split(qrels: pd.DataFrame, fractions: Mapping[str, float], seed: int) -> dict[str, list[str]]:
    """Split the queries with a relevant document into named parts of the given fractions, keeping every
    component of :func:`query_components` in one part (greedy fill, see the module docstring).

    Args:
      qrels: judgments with columns ``query_id``, ``doc_id``, ``relevance`` (every split's qrels together).
      fractions: part name -> target fraction, each > 0, summing to 1 (e.g. train 0.6, tune 0.2, decide 0.2).
      seed: seed of the component shuffle.

    Returns:
      part name -> its query ids in first-appearance order.

    Raises:
      ConfigError: a fraction ≤ 0 or fractions not summing to 1 (one line).
    """
    if not fractions or any(f <= 0 for f in fractions.values()) or abs(sum(fractions.values()) - 1.0) > 1e-9:
        raise ConfigError(f"split fractions {dict(fractions)} are not allowed; each must be > 0 and they must sum to 1")
    components = query_components(qrels)
    n = sum(len(c) for c in components)
    names = list(fractions)
    filled = dict.fromkeys(names, 0)
    chosen: dict[str, set[str]] = {name: set() for name in names}
    for i in np.random.default_rng(seed).permutation(len(components)):
        part = max(names, key=lambda s: fractions[s] * n - filled[s])
        chosen[part].update(components[i])
        filled[part] += len(components[i])
    order = dict.fromkeys(qrels[qrels.relevance > 0].query_id)
    return {name: [q for q in order if q in chosen[name]] for name in names}
