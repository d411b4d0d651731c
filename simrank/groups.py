"""Training groups: one positive at index 0 and ``k − 1`` negatives drawn i.i.d. from ``ν_q``.

A :class:`QuerySet` is everything the pipeline needs about a set of queries over one corpus:
query vectors, teacher scores ``g``, the positive distribution ``p_q``, graded true relevance for
evaluation, and proxy score matrices for the samplers.  The synthetic path builds it from a
:class:`~simrank.world.World` and :class:`~simrank.teacher.Teacher` (:func:`world_query_set`), the
real-data path from embeddings, BM25 and qrels; :func:`draw_groups` is shared by both.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
from threadpoolctl import ThreadpoolController

from simrank.errors import ConfigError
from simrank.losses import softmax_entropy
from simrank.samplers import Sampler, SamplingContext, categorical_cdf, sample_cdf
from simrank.teacher import Teacher
from simrank.world import World

__all__ = [
    "QUERY_SELECTIONS",
    "EpochGroups",
    "GroupIndex",
    "Groups",
    "QuerySet",
    "draw_epochs",
    "draw_groups",
    "one_blas_thread",
    "sampling_distribution",
    "select_queries",
    "world_query_set",
]


@lru_cache(maxsize=1)
def _blas_controller() -> ThreadpoolController:
    return ThreadpoolController()  # inspects the loaded BLAS libraries once per process


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with one BLAS thread, restoring the caller's BLAS thread counts afterwards.

    Data building multiplies tiny matrices (``[n, d] @ [d, N]`` with ``d`` = 8 in the default sweep), where
    a second BLAS thread only spins: 0.27 → 0.11 s CPU per build measured on 2 cores.  Outside this block
    the user's own BLAS settings (``OPENBLAS_NUM_THREADS``, ...) are untouched."""
    with _blas_controller().limit(limits=1, user_api="blas"):
        yield


@dataclass(frozen=True, eq=False)
class QuerySet:
    """Everything the pipeline needs about ``n`` queries over one corpus of ``N`` documents.

    Attributes:
      docs: ``[N, d]`` corpus.
      queries: ``[n, d]`` query vectors.
      teacher_scores: ``[n, N]`` teacher scores ``g``.
      positive_probs: ``[n, N]`` positive distribution ``p_q``.
      grades: ``[n, N]`` graded true relevance (for nDCG / RR); ``[n, 0]`` when not needed.
      proxies: proxy name -> ``[n, N]`` proxy scores for the samplers (``"dense"``, ``"teacher"``, ...).
    """

    docs: np.ndarray  # [N, d]
    queries: np.ndarray  # [n, d]
    teacher_scores: np.ndarray  # [n, N] teacher scores g
    positive_probs: np.ndarray  # [n, N] p_q
    grades: np.ndarray  # [n, N] graded true relevance (for nDCG / RR)
    proxies: dict[str, np.ndarray] = field(repr=False)  # name -> [n, N] proxy scores

    @property
    def n_queries(self) -> int:
        """Number of queries ``n``."""
        return self.queries.shape[0]

    @property
    def n_docs(self) -> int:
        """Corpus size ``N``."""
        return self.docs.shape[0]

    def subset(self, rows: np.ndarray) -> QuerySet:
        """The selected queries over the same corpus.

        Args:
          rows: an index or boolean array over the ``n`` queries.

        Returns:
          A :class:`QuerySet` of the selected rows (``docs`` shared).
        """
        return QuerySet(
            docs=self.docs,
            queries=self.queries[rows],
            teacher_scores=self.teacher_scores[rows],
            positive_probs=self.positive_probs[rows],
            grades=self.grades[rows],
            proxies={k: v[rows] for k, v in self.proxies.items()},
        )


class Groups(NamedTuple):
    """A batch of ``n`` groups of ``k`` items (a JAX pytree); the positive is item 0 of every group.

    Attributes:
      query: ``[n, d]`` query vector of each group.
      docs: ``[n, k, d]`` document vectors.
      query_id: ``[n]`` row of the :class:`QuerySet`.
      doc_id: ``[n, k]`` corpus indices.
      teacher_scores: ``[n, k]`` teacher scores ``g(q, x)``.
      log_nu: ``[n, k]`` ``log ν_q(x)`` of each item (for importance weights).
      where: ``[n, k]`` boolean mask of valid items.
    """

    query: np.ndarray  # [n, d]
    docs: np.ndarray  # [n, k, d]
    query_id: np.ndarray  # [n]   row of the QuerySet
    doc_id: np.ndarray  # [n, k] corpus index
    teacher_scores: np.ndarray  # [n, k] g(q, x)
    log_nu: np.ndarray  # [n, k] log ν_q(x) of each item
    where: np.ndarray  # [n, k] valid items


class GroupIndex(NamedTuple):
    """Groups without their vectors (a JAX pytree): the index and score tables of :class:`Groups`.

    Attributes:
      query_id: row of the :class:`QuerySet` of each group.
      doc_id: corpus indices of each group's items.
      teacher_scores: teacher scores ``g(q, x)``.
      log_nu: ``log ν_q(x)`` of each item.
      where: valid items.
    """

    query_id: np.ndarray
    doc_id: np.ndarray
    teacher_scores: np.ndarray
    log_nu: np.ndarray
    where: np.ndarray


class EpochGroups(NamedTuple):
    """Training groups redrawn every epoch, held by index (a JAX pytree): epoch ``e``'s groups are
    ``Groups(queries[query_id_e], corpus[doc_id_e], query_id_e, doc_id_e, teacher_scores_e, log_nu_e, where_e)``
    with ``·_e = epochs.·[e]``, so ``E`` epochs cost ``E`` index tables, not ``E`` copies of the vectors.

    Attributes:
      queries: ``[n_q, d]`` query vectors of the query set.
      corpus: ``[N, d]`` document vectors.
      epochs: a :class:`GroupIndex` whose arrays carry a leading epoch axis: ``query_id`` ``[E, n]``, ``doc_id``,
        ``teacher_scores``, ``log_nu`` and ``where`` ``[E, n, k]``.
    """

    queries: np.ndarray  # [n_q, d]
    corpus: np.ndarray  # [N, d]
    epochs: GroupIndex  # leaves [E, n, ...]

    @property
    def n_epochs(self) -> int:
        """Number of epochs ``E``."""
        return self.epochs.query_id.shape[0]

    @property
    def n_groups(self) -> int:
        """Groups per epoch ``n``."""
        return self.epochs.query_id.shape[1]

    def take(self, epoch: Any, rows: Any = None) -> Groups:
        """The groups ``rows`` (all when None) of epoch ``epoch`` with their vectors (numpy or traced indices).

        Args:
          epoch: the epoch index.
          rows: indices into the epoch's ``n`` groups, or None for all of them.

        Returns:
          the :class:`Groups` of those rows, vectors included.
        """
        part = GroupIndex(*(a[epoch] if rows is None else a[epoch, rows] for a in self.epochs))
        return Groups(self.queries[part.query_id], self.corpus[part.doc_id], *part)


def world_query_set(
    world: World,
    teacher: Teacher,
    n_queries: int,
    random_state: int | np.random.Generator,
    shift: float = 0.0,
    grades: bool = True,
) -> QuerySet:
    """Draw ``n_queries`` queries from the world and attach teacher scores, ``p_q``, grades and proxies.

    ``grades=False`` leaves the graded labels empty (``[n, 0]``) for uses that never rank the corpus.

    Args:
      world: the world to draw queries from.
      teacher: the teacher that scores them.
      n_queries: ``n``.
      random_state: seed or numpy generator of the queries.
      shift: query shift (domain shift) along the world's shift direction.
      grades: compute the graded labels ``[n, N]``.

    Returns:
      a :class:`QuerySet` with proxies ``"dense"`` (``qᵀx``), ``"teacher"`` (``g``) and ``"truth"`` (``r``).

    Examples:
      >>> from simrank.world import WorldConfig
      >>> world = WorldConfig(n_docs=100, dim=4).generate()
      >>> qs = world_query_set(world, Teacher(), n_queries=5, random_state=0)
      >>> qs.teacher_scores.shape, qs.grades.shape, sorted(qs.proxies)
      ((5, 100), (5, 100), ['dense', 'teacher', 'truth'])
    """
    queries = world.sample_queries(n_queries, random_state, shift=shift)
    g = teacher.scores(world, queries)
    return QuerySet(
        docs=world.docs,
        queries=queries,
        teacher_scores=g,
        positive_probs=world.positive_distribution(queries),
        grades=world.grades(queries) if grades else np.zeros((n_queries, 0), np.int8),
        proxies={"dense": queries @ world.docs.T, "teacher": g, "truth": world.relevance(queries)},
    )


QUERY_SELECTIONS = ("all", "low_entropy", "high_entropy", "extreme_entropy")


def select_queries(qs: QuerySet, n: int, keep: str, tau: float) -> QuerySet:
    """``n`` queries of ``qs`` chosen by the teacher's corpus entropy ``H_q = H(softmax(g_q/τ))``.

    ``all``: the first ``n`` (the query law itself); ``low_entropy`` / ``high_entropy``: the ``n`` with the
    lowest / highest ``H_q``; ``extreme_entropy``: the ``⌊n/2⌋`` lowest and the ``n − ⌊n/2⌋`` highest.

    Args:
      qs: the query set to choose from.
      n: number of queries kept (at most ``qs.n_queries``).
      keep: one of :data:`QUERY_SELECTIONS`.
      tau: label temperature ``τ`` of the entropy.

    Returns:
      a :class:`QuerySet` with ``n`` rows.
    """
    if n > qs.n_queries:
        raise ConfigError(f"cannot keep {n} queries out of {qs.n_queries}")
    order = np.argsort(np.asarray(softmax_entropy(qs.teacher_scores / tau)), kind="stable")
    rows = {
        "all": np.arange(n),
        "low_entropy": order[:n],
        "high_entropy": order[qs.n_queries - n :],
        "extreme_entropy": np.concatenate([order[: n // 2], order[qs.n_queries - (n - n // 2) :]]),
    }[keep]
    return qs.subset(rows)


def sampling_distribution(qs: QuerySet, sampler: Sampler, query_id: np.ndarray, positives: np.ndarray) -> np.ndarray:
    """The sampling distribution ``ν`` for each (query, positive) row.

    Args:
      qs: the query set whose proxies the sampler sees.
      sampler: the sampler.
      query_id: ``[m]`` rows of ``qs``.
      positives: ``[m]`` corpus index of each row's positive.

    Returns:
      ``[m, N]`` distributions.
    """
    ctx = SamplingContext(positives=positives, proxies={k: v[query_id] for k, v in qs.proxies.items()})
    return sampler.distribution(ctx)


def draw_groups(
    qs: QuerySet, sampler: Sampler, n_groups: int, group_size: int, rng: np.random.Generator
) -> tuple[Groups, np.ndarray]:
    """``n_groups`` groups: query ``i mod n``, positive ``x⁺ ~ p_q``, then ``k − 1`` negatives i.i.d. from ``ν_q``.

    Args:
      qs: the query set.
      sampler: the negative sampler ``ν``.
      n_groups: ``n``, the number of groups.
      group_size: ``k ≥ 2`` items per group (at most the corpus size).
      rng: the numpy random generator.

    Returns:
      the :class:`Groups` (``docs`` ``[n, k, d]``, ``teacher_scores`` ``[n, k]``, ...) and the sampling distribution
        ``ν`` of each group's row, ``[n, N]``.

    Examples:
      >>> from simrank.samplers import Uniform
      >>> from simrank.world import WorldConfig
      >>> world = WorldConfig(n_docs=100, dim=4).generate()
      >>> qs = world_query_set(world, Teacher(), n_queries=5, random_state=0)
      >>> groups, nu = draw_groups(qs, Uniform(), n_groups=8, group_size=4, rng=np.random.default_rng(0))
      >>> groups.docs.shape, groups.teacher_scores.shape, nu.shape
      ((8, 4, 4), (8, 4), (8, 100))
    """
    epochs, nu = draw_epochs(qs, sampler, n_groups, group_size, [rng])
    return epochs.take(0), nu


def draw_epochs(
    qs: QuerySet, sampler: Sampler, n_groups: int, group_size: int, rngs: list[np.random.Generator]
) -> tuple[EpochGroups, np.ndarray]:
    """One epoch of :func:`draw_groups` per generator: epoch ``e`` is exactly ``draw_groups(..., rngs[e])`` (its
    positives ``x⁺ ~ p_q``, then ``k − 1`` negatives i.i.d. from ``ν_q(· | x⁺)``), held by index.

    ``ν`` is a row-wise function of (query, positive), so it and its CDF are computed once and recomputed only for
    the rows whose positive changed since the previous epoch (none with deterministic positives).

    Args:
      qs: the query set.
      sampler: the negative sampler ``ν``.
      n_groups: ``n``, groups per epoch.
      group_size: ``k ≥ 2`` items per group (at most the corpus size).
      rngs: one numpy generator per epoch (at least one).

    Returns:
      the :class:`EpochGroups` (``E = len(rngs)`` epochs) and epoch 0's sampling distribution ``ν``, ``[n, N]``.
    """
    if group_size < 2:
        raise ConfigError(f"group_size = {group_size} is not allowed; it must be an integer >= 2")
    if group_size > qs.n_docs:
        raise ConfigError(f"group_size = {group_size} is not allowed; it must be <= the corpus size {qs.n_docs}")
    query_id = np.arange(n_groups) % qs.n_queries
    positive_cdf = categorical_cdf(qs.positive_probs[query_id])
    positives = sample_cdf(positive_cdf, 1, rngs[0])[:, 0]
    nu0 = nu = sampling_distribution(qs, sampler, query_id, positives)
    cdf = categorical_cdf(nu)
    doc_ids, log_nus = [], []
    for e, rng in enumerate(rngs):
        if e:
            fresh = sample_cdf(positive_cdf, 1, rng)[:, 0]
            if (changed := np.flatnonzero(fresh != positives)).size:
                nu = nu.copy() if nu is nu0 else nu  # epoch 0's ν is returned; later epochs update one copy in place
                nu[changed] = sampling_distribution(qs, sampler, query_id[changed], fresh[changed])
                cdf[changed] = categorical_cdf(nu[changed], changed)
            positives = fresh
        negatives = sample_cdf(cdf, group_size - 1, rng)
        doc_id = np.concatenate([positives[:, None], negatives], axis=1)
        doc_ids.append(doc_id)
        with np.errstate(divide="ignore"):
            log_nus.append(np.log(np.take_along_axis(nu, doc_id, axis=1)))
    doc_table = np.stack(doc_ids)
    epochs = GroupIndex(
        query_id=np.broadcast_to(query_id.astype(np.int32), (len(rngs), n_groups)).copy(),
        doc_id=doc_table.astype(np.int32),
        teacher_scores=qs.teacher_scores[query_id[None, :, None], doc_table],
        log_nu=np.stack(log_nus).astype(np.float32),
        where=np.ones(doc_table.shape, dtype=bool),
    )
    return EpochGroups(qs.queries, qs.docs, epochs), nu0
