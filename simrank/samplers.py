"""Negative samplers, each a *distribution* ``ν_q`` over the corpus.

Every sampler maps a :class:`SamplingContext` (queries, positives, and proxy score matrices
``s(q, x)`` such as the dense geometry, the teacher or BM25) to ``ν`` of shape ``[n_queries, N]``
whose rows sum to one; :func:`sample_categorical` draws i.i.d. negatives from it.  The synthetic and
the real-data paths differ only in which proxy matrices they put in the context.

The pool samplers (:class:`Local`, :class:`Ensemble`, :class:`Stratified`) take ``exclude_positive``: with it
the pool is built from the corpus without the row's positive ``x⁺`` (``top_M`` of ``s(q, ·)`` over ``x ≠ x⁺``),
so a negative is never the positive.  It is off by default: the synthetic theory draws negatives i.i.d. from
``ν_q`` over the whole corpus, positive included (on real data with teacher top-1 positives the teacher's
top-M pool always holds the positive, a contradictory label for LCE; turn it on there).

* :class:`Uniform`: ``ν_q(x) = 1/N`` (the default target ``μ_q``).
* :class:`Local`: uniform over the ``M`` documents with the highest proxy score (``M`` is the
  locality knob; ``proxy="teacher"`` is teacher top-M), or over proxy ranks ``offset+1 … offset+M``.
* :class:`Tempered`: ``ν_q(x) ∝ exp(β s(q, x))`` (β the hardness knob).
* :class:`Ensemble`: uniform over the union of the top-M sets of several proxies.
* :class:`Stratified`: uniform over strata of the proxy's score range (within an optional top-M pool),
  then uniform within a stratum.
* :class:`Mixture`: ``ν_η = (1 − η) ν + η μ`` (augmentation with target-distributed negatives).
* :class:`FalseNegativeFilter`: ``ν`` restricted to ``{x : g(q, x) < g(q, x⁺) − margin}``, renormalised.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np

from simrank.errors import ConfigError, check_choice, check_nonnegative, check_positive, check_range

__all__ = [
    "SAMPLERS",
    "SAMPLER_KINDS",
    "Ensemble",
    "FalseNegativeFilter",
    "Local",
    "Mixture",
    "Sampler",
    "SamplerConfig",
    "SamplerKind",
    "SamplingContext",
    "Stratified",
    "Tempered",
    "Uniform",
    "make_sampler",
    "categorical_cdf",
    "sample_categorical",
    "sample_cdf",
    "top_m_mask",
]


@dataclass(frozen=True)
class SamplingContext:
    """What a sampler may look at: ``proxies[name]`` is an ``[n, N]`` score matrix, ``positives`` ``[n]``.

    Attributes:
      positives: ``[n]`` corpus index of each row's positive.
      proxies: proxy name (``"dense"``, ``"teacher"``, ``"truth"``, ``"bm25"``, ...) -> ``[n, N]`` scores ``s(q, x)``.

    Examples:
      >>> ctx = SamplingContext(
      ...     positives=np.array([0]),
      ...     proxies={"dense": np.array([[0.9, 0.1, 0.5, 0.3]]), "teacher": np.array([[2.0, 1.9, 0.0, -1.0]])},
      ... )
      >>> ctx.shape
      (1, 4)
    """

    positives: np.ndarray
    proxies: dict[str, np.ndarray] = field(repr=False)

    @property
    def shape(self) -> tuple[int, int]:
        """``(n, N)``: rows (queries) and corpus size."""
        return next(iter(self.proxies.values())).shape

    def proxy(self, name: str) -> np.ndarray:
        """The proxy score matrix ``s(q, x)`` called ``name``.

        Args:
          name: a key of ``proxies``.

        Returns:
          ``[n, N]`` scores.

        Raises:
          ConfigError: naming the available proxies when ``name`` is not one of them.
        """
        check_choice("sampler.proxy", name, self.proxies)
        return self.proxies[name]


class Sampler(Protocol):
    """Anything with ``distribution(ctx) -> ν`` of shape ``[n, N]``, rows summing to one."""

    def distribution(self, ctx: SamplingContext) -> np.ndarray:
        """``ν_q`` for every row of ``ctx``.

        Args:
          ctx: the queries' proxy score matrices, ``[n, N]`` each, and positives ``[n]``.

        Returns:
          ``[n, N]`` sampling distributions (rows sum to 1).
        """
        ...


@dataclass(frozen=True)
class Uniform:
    """``ν_q(x) = 1/N``: the default target ``μ_q``.

    Examples:
      >>> ctx = SamplingContext(
      ...     positives=np.array([0]),
      ...     proxies={"dense": np.array([[0.9, 0.1, 0.5, 0.3]]), "teacher": np.array([[2.0, 1.9, 0.0, -1.0]])},
      ... )
      >>> Uniform().distribution(ctx).tolist()
      [[0.25, 0.25, 0.25, 0.25]]
    """

    def distribution(self, ctx: SamplingContext) -> np.ndarray:
        """``ν_q(x) = 1/N``.

        Args:
          ctx: the queries' proxy score matrices, ``[n, N]`` each, and positives ``[n]``.

        Returns:
          ``[n, N]`` sampling distributions ``ν_q`` (rows sum to 1).
        """
        n, n_docs = ctx.shape
        return np.full((n, n_docs), 1.0 / n_docs)


@dataclass(frozen=True)
class Local:
    """Uniform over the documents at proxy ranks ``offset+1 … offset+M``:
    ``ν_q(x) = 1[x ∈ top_{offset+M} s(q, ·) ∖ top_offset s(q, ·)] / M`` (``offset = 0``: the top ``M``).

    Attributes:
      pool_size: ``M``, the locality knob (``M = N`` is uniform sampling); ``offset + M`` is at most the corpus size.
      proxy: the proxy ranking the corpus (``"teacher"``: teacher top-M).
      offset: how many top-ranked documents the pool skips (e.g. the true top 10 with ``proxy="truth"``:
        a pool as local as the top ``M``, without its false negatives).
      exclude_positive: rank the corpus without the row's positive (a pool of ``M`` negatives that never holds it).

    Examples:
      >>> ctx = SamplingContext(
      ...     positives=np.array([0]),
      ...     proxies={"dense": np.array([[0.9, 0.1, 0.5, 0.3]]), "teacher": np.array([[2.0, 1.9, 0.0, -1.0]])},
      ... )
      >>> Local(pool_size=2).distribution(ctx).tolist()
      [[0.5, 0.0, 0.5, 0.0]]
      >>> Local(pool_size=2, proxy="teacher").distribution(ctx).tolist()
      [[0.5, 0.5, 0.0, 0.0]]
      >>> Local(pool_size=2, offset=1).distribution(ctx).tolist()  # dense ranks 2-3: documents 2 and 3
      [[0.0, 0.0, 0.5, 0.5]]
      >>> Local(pool_size=2, exclude_positive=True).distribution(ctx).tolist()  # x⁺ = 0 left out: {2, 3}
      [[0.0, 0.0, 0.5, 0.5]]
    """

    pool_size: int
    proxy: str = "dense"
    offset: int = 0
    exclude_positive: bool = False

    def distribution(self, ctx: SamplingContext) -> np.ndarray:
        """Uniform over each row's documents at proxy ranks ``offset+1 … offset+M``.

        Args:
          ctx: the queries' proxy score matrices, ``[n, N]`` each, and positives ``[n]``.

        Returns:
          ``[n, N]`` sampling distributions ``ν_q`` (rows sum to 1).
        """
        scores = _candidate_scores(ctx, self.proxy, self.exclude_positive)
        _check_pool(self.pool_size, scores.shape[1], self.offset, self.exclude_positive)
        mask = top_m_mask(scores, self.offset + self.pool_size)
        if self.offset:
            mask &= ~top_m_mask(scores, self.offset)
        return _uniform_over(mask)


@dataclass(frozen=True)
class Ensemble:
    """Uniform over the union of the top-M sets of several proxies: ``ν_q ∝ 1[x ∈ ∪_s top_M s(q, ·)]``.

    Attributes:
      pool_size: ``M`` per proxy.
      proxies: names of the proxies whose top-M sets are joined.
      exclude_positive: rank the corpus without the row's positive (the union never holds it).

    Examples:
      >>> ctx = SamplingContext(
      ...     positives=np.array([0]),
      ...     proxies={"dense": np.array([[0.9, 0.1, 0.5, 0.3]]), "teacher": np.array([[2.0, 1.9, 0.0, -1.0]])},
      ... )
      >>> Ensemble(pool_size=2, proxies=("dense", "teacher")).distribution(ctx).round(4).tolist()  # {0, 2} ∪ {0, 1}
      [[0.3333, 0.3333, 0.3333, 0.0]]
    """

    pool_size: int
    proxies: tuple[str, ...] = ("bm25", "dense")
    exclude_positive: bool = False

    def distribution(self, ctx: SamplingContext) -> np.ndarray:
        """Uniform over the union of each proxy's top ``M`` documents.

        Args:
          ctx: the queries' proxy score matrices, ``[n, N]`` each, and positives ``[n]``.

        Returns:
          ``[n, N]`` sampling distributions ``ν_q`` (rows sum to 1).
        """
        masks = [top_m_mask(_candidate_scores(ctx, p, self.exclude_positive), self.pool_size) for p in self.proxies]
        _check_pool(self.pool_size, masks[0].shape[1], exclude_positive=self.exclude_positive)
        return _uniform_over(np.logical_or.reduce(masks))


@dataclass(frozen=True)
class Stratified:
    """Uniform over the strata of the proxy's score range, then uniform within a stratum.

    With the pool ``P_q`` (the top ``M`` of ``s(q, ·)``, or the whole corpus when ``pool_size`` is None; without
    ``x⁺`` under ``exclude_positive``), its score range ``[lo_q, hi_q] = [min_{P_q} s, max_{P_q} s]`` cut into
    ``S`` equal-width strata, the stratum of ``x`` ``b(x) = min(⌊S (s(q, x) − lo_q) / (hi_q − lo_q)⌋, S − 1)``
    (``b = 0`` when ``hi_q = lo_q``), ``n_{q,b} = |{y ∈ P_q : b(y) = b}|`` and ``S_q⁺ = #{b : n_{q,b} > 0}``
    the non-empty strata::

        ν_q(x) = 1[x ∈ P_q] / (S_q⁺ · n_{q,b(x)})

    so every non-empty stratum gets mass ``1 / S_q⁺``, shared equally by its documents.  ``S = 1`` is uniform over
    the pool; with many strata the sparse extremes of the score spectrum (the few documents that score near the
    top) are drawn as often as its crowded middle.

    Attributes:
      strata: ``S >= 1``, the number of equal-width strata.
      proxy: the proxy score ``s`` (``"teacher"``: the teacher's score spectrum).
      pool_size: ``M``, the top-M pool the strata cover (None: the whole corpus).
      exclude_positive: build the pool without the row's positive.

    Examples:
      >>> ctx = SamplingContext(
      ...     positives=np.array([0]),
      ...     proxies={"dense": np.array([[0.9, 0.1, 0.5, 0.3]]), "teacher": np.array([[2.0, 1.9, 0.0, -1.0]])},
      ... )
      >>> # teacher range [-1, 2] in 2 strata: {2, 3} below 0.5, {0, 1} above
      >>> Stratified(strata=2, proxy="teacher").distribution(ctx).tolist()
      [[0.25, 0.25, 0.25, 0.25]]
      >>> # 3 strata of width 1: {3}, {2}, {0, 1}: 1/3 each, the top stratum shared by two documents
      >>> Stratified(strata=3, proxy="teacher").distribution(ctx).round(4).tolist()
      [[0.1667, 0.1667, 0.3333, 0.3333]]
      >>> Stratified(strata=3, proxy="teacher", pool_size=3, exclude_positive=True).distribution(ctx).round(4).tolist()
      [[0.0, 0.3333, 0.3333, 0.3333]]
    """

    strata: int
    proxy: str = "dense"
    pool_size: int | None = None
    exclude_positive: bool = False

    def distribution(self, ctx: SamplingContext) -> np.ndarray:
        """``ν_q(x) = 1[x ∈ P_q] / (S_q⁺ · n_{q,b(x)})`` per row.

        Args:
          ctx: the queries' proxy score matrices, ``[n, N]`` each, and positives ``[n]``.

        Returns:
          ``[n, N]`` sampling distributions ``ν_q`` (rows sum to 1).
        """
        scores = _candidate_scores(ctx, self.proxy, self.exclude_positive)
        n, n_docs = scores.shape
        if self.pool_size is None:
            pool = np.ones((n, n_docs), dtype=bool)
            pool[np.arange(n), ctx.positives] = not self.exclude_positive
        else:
            _check_pool(self.pool_size, n_docs, exclude_positive=self.exclude_positive)
            pool = top_m_mask(scores, self.pool_size)
        lo = np.where(pool, scores, np.inf).min(axis=1, keepdims=True)
        width = np.where(pool, scores, -np.inf).max(axis=1, keepdims=True) - lo
        # S (s − lo) / w, the product first: exact for integer-valued scores
        position = self.strata * np.where(pool, scores - lo, 0.0) / np.where(width > 0, width, 1.0)
        stratum = np.minimum(np.floor(position), self.strata - 1).astype(np.int64)
        rows = np.broadcast_to(np.arange(n)[:, None], (n, n_docs))
        counts = np.bincount((rows * self.strata + stratum)[pool], minlength=n * self.strata).reshape(n, -1)
        non_empty = (counts > 0).sum(axis=1, keepdims=True)
        per_doc = np.take_along_axis(counts, stratum, axis=1)
        return np.where(pool, 1.0 / (non_empty * np.maximum(per_doc, 1)), 0.0)


@dataclass(frozen=True)
class Tempered:
    """Softmax of the proxy: ``ν_q(x) = exp(β s(q, x)) / Σ_y exp(β s(q, y))``.

    Attributes:
      beta: ``β ≥ 0``, the hardness knob (0 is uniform sampling).
      proxy: the proxy score ``s``.

    Examples:
      >>> ctx = SamplingContext(
      ...     positives=np.array([0]),
      ...     proxies={"dense": np.array([[0.9, 0.1, 0.5, 0.3]]), "teacher": np.array([[2.0, 1.9, 0.0, -1.0]])},
      ... )
      >>> Tempered(beta=0.0).distribution(ctx).tolist()
      [[0.25, 0.25, 0.25, 0.25]]
      >>> nu = Tempered(beta=np.log(3) / 0.4).distribution(ctx)
      >>> float(nu[0, 0] / nu[0, 2])  # exp(β (0.9 − 0.5))
      3.0
    """

    beta: float
    proxy: str = "dense"

    def distribution(self, ctx: SamplingContext) -> np.ndarray:
        """``softmax(β s(q, ·))`` per row.

        Args:
          ctx: the queries' proxy score matrices, ``[n, N]`` each, and positives ``[n]``.

        Returns:
          ``[n, N]`` sampling distributions ``ν_q`` (rows sum to 1).
        """
        z = self.beta * ctx.proxy(self.proxy).astype(np.float64)
        z -= z.max(axis=1, keepdims=True)
        w = np.exp(z)
        return w / w.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Mixture:
    """``ν_η = (1 − η) ν + η μ``: the base sampler augmented with target-distributed negatives.

    Attributes:
      base: the sampler ``ν``.
      eta: mixing weight ``η ∈ [0, 1]``.
      target: the target ``μ`` (uniform by default).

    Examples:
      >>> ctx = SamplingContext(
      ...     positives=np.array([0]),
      ...     proxies={"dense": np.array([[0.9, 0.1, 0.5, 0.3]]), "teacher": np.array([[2.0, 1.9, 0.0, -1.0]])},
      ... )
      >>> Mixture(Local(pool_size=2), eta=0.5).distribution(ctx).tolist()  # 0.5 (½, 0, ½, 0) + 0.5 (¼, ¼, ¼, ¼)
      [[0.375, 0.125, 0.375, 0.125]]
    """

    base: Sampler
    eta: float
    target: Sampler = Uniform()

    def distribution(self, ctx: SamplingContext) -> np.ndarray:
        """``(1 − η) ν + η μ`` per row.

        Args:
          ctx: the queries' proxy score matrices, ``[n, N]`` each, and positives ``[n]``.

        Returns:
          ``[n, N]`` sampling distributions ``ν_q`` (rows sum to 1).
        """
        if self.eta == 0:
            return self.base.distribution(ctx)
        return (1 - self.eta) * self.base.distribution(ctx) + self.eta * self.target.distribution(ctx)


@dataclass(frozen=True)
class FalseNegativeFilter:
    """Drop documents whose teacher score is within ``margin`` of the positive's (the positive too).

    Rows where nothing survives fall back to the base distribution (a query with no safe negative).
    ``ν'_q(x) ∝ ν_q(x) · 1[g(q, x) < g(q, x⁺) − margin]``.

    Attributes:
      base: the sampler ``ν`` to filter.
      margin: documents scoring above ``g(q, x⁺) − margin`` are dropped.
      teacher_proxy: the proxy holding the teacher scores ``g``.

    Examples:
      >>> ctx = SamplingContext(
      ...     positives=np.array([0]),
      ...     proxies={"dense": np.array([[0.9, 0.1, 0.5, 0.3]]), "teacher": np.array([[2.0, 1.9, 0.0, -1.0]])},
      ... )
      >>> FalseNegativeFilter(Uniform(), margin=0.5).distribution(ctx).tolist()  # drops x⁺ = 0 and g = 1.9 > 2 − 0.5
      [[0.0, 0.0, 0.5, 0.5]]
    """

    base: Sampler
    margin: float = 0.0
    teacher_proxy: str = "teacher"

    def distribution(self, ctx: SamplingContext) -> np.ndarray:
        """The base ``ν`` restricted to safe negatives and renormalised.

        Args:
          ctx: the queries' proxy score matrices (including ``teacher_proxy``) and positives ``[n]``.

        Returns:
          ``[n, N]`` sampling distributions (rows sum to 1).
        """
        nu = self.base.distribution(ctx)
        g = ctx.proxy(self.teacher_proxy)
        g_pos = np.take_along_axis(g, ctx.positives[:, None], axis=1)
        kept = nu * (g < g_pos - self.margin)
        mass = kept.sum(axis=1, keepdims=True)
        return np.where(mass > 0, kept / np.where(mass > 0, mass, 1.0), nu)


@dataclass(frozen=True)
class SamplerKind:
    """A registered sampler kind: how to build it from a :class:`SamplerConfig`, and which options it needs."""

    build: Callable[[SamplerConfig], Sampler]
    needs: tuple[str, ...] = ()
    description: str = ""
    skips: bool = False  # accepts sampler.offset (skips the top-ranked documents)
    pools: bool = False  # draws from a pool of candidates: accepts sampler.exclude_positive


_Option = TypeVar("_Option")


def _needed(value: _Option | None) -> _Option:
    """An option a kind ``needs``: :class:`SamplerConfig` has already refused a config without it."""
    assert value is not None, "SamplerConfig checks a kind's needed options"
    return value


#: The sampler registry: ``[sampler] kind`` -> :class:`SamplerKind`.
SAMPLERS: dict[str, SamplerKind] = {
    "uniform": SamplerKind(lambda c: Uniform(), description="ν_q(x) = 1/N"),
    "local": SamplerKind(
        lambda c: Local(int(_needed(c.pool_size)), c.proxy, int(c.offset), c.exclude_positive),
        ("pool_size",),
        "uniform over proxy ranks offset+1 … offset+pool_size",
        skips=True,
        pools=True,
    ),
    "teacher_top": SamplerKind(
        lambda c: Local(int(_needed(c.pool_size)), "teacher", exclude_positive=c.exclude_positive),
        ("pool_size",),
        "uniform over the teacher's top pool_size",
        pools=True,
    ),
    "tempered": SamplerKind(lambda c: Tempered(float(_needed(c.beta)), c.proxy), ("beta",), "ν_q(x) ∝ exp(β s(q, x))"),
    "ensemble": SamplerKind(
        lambda c: Ensemble(int(_needed(c.pool_size)), tuple(c.proxies), c.exclude_positive),
        ("pool_size",),
        "uniform over the union of the proxies' top sets",
        pools=True,
    ),
    "stratified": SamplerKind(
        lambda c: Stratified(
            int(_needed(c.strata)), c.proxy, None if c.pool_size is None else int(c.pool_size), c.exclude_positive
        ),
        ("strata",),
        "uniform over strata of the proxy's score range (within the top pool_size, if set), then within a stratum",
        pools=True,
    ),
}
SAMPLER_KINDS = tuple(SAMPLERS)


@dataclass(frozen=True)
class SamplerConfig:
    """The ``[sampler]`` table of an experiment: a registered ``kind`` and its options.

    Attributes:
      kind: a key of :data:`SAMPLERS`.
      pool_size: ``M`` of the top-M kinds (``local``, ``teacher_top``, ``ensemble``; optional for ``stratified``),
        an integer >= 1.
      beta: hardness ``β >= 0`` of ``tempered``.
      proxy: proxy score matrix of ``local``, ``tempered`` and ``stratified`` (``"dense"``, ``"bm25"``,
        ``"teacher"``, ...).
      proxies: proxies whose top sets ``ensemble`` unites.
      eta: mixing weight ``η ∈ [0, 1]`` with the uniform target: ``ν_η = (1 − η) ν + η μ``.
      filter_margin: if set (>= 0), drop negatives with ``g(q, x) >= g(q, x⁺) − margin``.
      offset: top-ranked documents a ``local`` pool skips (an integer >= 0; pool = ranks offset+1 … offset+M).
      strata: number ``S >= 1`` of equal-width score strata of ``stratified``.
      exclude_positive: pool kinds only; build the pool without the row's positive (default off: the
        synthetic theory's i.i.d. negatives over the whole corpus).
    """

    kind: str = "uniform"
    pool_size: int | None = None
    beta: float | None = None
    proxy: str = "dense"
    proxies: tuple[str, ...] = ("bm25", "dense")
    eta: float = 0.0
    filter_margin: float | None = None
    offset: int = 0
    strata: int | None = None
    exclude_positive: bool = False

    def __post_init__(self):
        check_choice("sampler.kind", self.kind, SAMPLERS)
        for option in SAMPLERS[self.kind].needs:
            if getattr(self, option) is None:
                raise ConfigError(
                    f"sampler.kind = {self.kind!r} needs sampler.{option} (see simrank.samplers.SAMPLERS)"
                )
        if self.pool_size is not None:
            check_positive("sampler.pool_size", self.pool_size)
        if self.beta is not None:
            check_nonnegative("sampler.beta", self.beta)
        check_range("sampler.eta", self.eta, 0.0, 1.0)
        if self.filter_margin is not None:
            check_nonnegative("sampler.filter_margin", self.filter_margin)
        if not isinstance(self.offset, int) or self.offset < 0:
            raise ConfigError(f"sampler.offset = {self.offset!r} is not allowed; it must be an integer >= 0")
        if self.offset and not SAMPLERS[self.kind].skips:
            skipping = ", ".join(k for k, v in SAMPLERS.items() if v.skips)
            raise ConfigError(
                f"sampler.offset = {self.offset} is not allowed with sampler.kind = {self.kind!r}; only with {skipping}"
            )
        if self.strata is not None:
            if isinstance(self.strata, bool) or not isinstance(self.strata, int) or self.strata < 1:
                raise ConfigError(f"sampler.strata = {self.strata!r} is not allowed; it must be an integer >= 1")
            if self.kind != "stratified":
                raise ConfigError(
                    f"sampler.strata = {self.strata} is not allowed with sampler.kind = {self.kind!r}; only with stratified"
                )
        if not isinstance(self.exclude_positive, bool):
            raise ConfigError(
                f"sampler.exclude_positive = {self.exclude_positive!r} is not allowed; it must be true or false"
            )
        if self.exclude_positive and not SAMPLERS[self.kind].pools:
            pooled = ", ".join(k for k, v in SAMPLERS.items() if v.pools)
            raise ConfigError(
                f"sampler.exclude_positive = true is not allowed with sampler.kind = {self.kind!r}; only with {pooled}"
            )

    def build(self) -> Sampler:
        """The sampler: the registered kind, then :class:`Mixture` if ``eta > 0``, then the filter if set."""
        sampler = SAMPLERS[self.kind].build(self)
        if self.eta > 0:
            sampler = Mixture(sampler, float(self.eta))
        if self.filter_margin is not None:
            sampler = FalseNegativeFilter(sampler, float(self.filter_margin))
        return sampler


def make_sampler(kind: str = "uniform", **options: Any) -> Sampler:
    """Build a sampler from a flat spec: ``SamplerConfig(kind, **options).build()``.

    Args:
      kind: a key of :data:`SAMPLERS`.
      **options: the other :class:`SamplerConfig` fields.

    Returns:
      A :class:`Sampler` (``distribution(ctx) -> ν [n_queries, N]``).
    """
    return SamplerConfig(kind, **options).build()


def top_m_mask(scores: np.ndarray, m: int) -> np.ndarray:
    """Boolean mask of each row's ``m`` highest scores (``m`` is clipped to ``N``).

    Args:
      scores: ``[n, N]`` scores.
      m: how many documents to keep per row.

    Returns:
      boolean ``[n, N]`` mask with ``min(m, N)`` True entries per row.

    Examples:
      >>> top_m_mask(np.array([[0.9, 0.1, 0.5, 0.3]]), 2).tolist()
      [[True, False, True, False]]
    """
    n, n_docs = scores.shape
    m = min(int(m), n_docs)
    idx = np.argpartition(-scores, m - 1, axis=1)[:, :m]
    mask = np.zeros((n, n_docs), dtype=bool)
    np.put_along_axis(mask, idx, True, axis=1)
    return mask


def sample_categorical(nu: np.ndarray, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n_draws`` i.i.d. indices from each row of ``ν`` by inverse CDF: ``x = min{j : F_j > u}``, ``u ~ U[0, 1)``.

    Args:
      nu: ``[n, N]`` distributions (rows are normalised here).
      n_draws: draws per row.
      rng: the numpy random generator.

    Returns:
      ``[n, n_draws]`` integer corpus indices.

    Examples:
      >>> nu = np.array([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]])
      >>> draws = sample_categorical(nu, 1000, np.random.default_rng(0))
      >>> draws.shape, set(draws[0].tolist()), set(draws[1].tolist())
      ((2, 1000), {1}, {0, 2})
    """
    return sample_cdf(categorical_cdf(nu), n_draws, rng)


def categorical_cdf(nu: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """The row-normalised CDFs of ``ν`` shifted by the row index, ``F_ij + i`` (``[n, N]``): one increasing
    sequence, so that :func:`sample_cdf` draws every row with one ``searchsorted``; computed once, it serves any
    number of draws from the same ``ν``.

    Args:
      nu: ``[n, N]`` distributions (rows need not be normalised).
      rows: the row index ``i`` of each row of ``nu`` in the full table (default ``0, ..., n − 1``), to recompute
        some rows of a table exactly as the whole table computes them.

    Returns:
      ``[n, N]`` shifted CDFs ``F_ij + i``.
    """
    cdf = np.cumsum(nu, axis=1)
    cdf /= cdf[:, -1:]
    return cdf + (np.arange(nu.shape[0]) if rows is None else rows)[:, None]


def sample_cdf(cdf: np.ndarray, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """``n_draws`` i.i.d. indices per row from :func:`categorical_cdf` output: ``x = min{j : F_ij > u}``,
    ``u ~ U[0, 1)``, the draw of :func:`sample_categorical`.

    Args:
      cdf: ``[n, N]`` shifted CDFs from :func:`categorical_cdf`.
      n_draws: draws per row.
      rng: the numpy random generator (one ``rng.random((n, n_draws))`` call).

    Returns:
      ``[n, n_draws]`` integer corpus indices.
    """
    n, n_docs = cdf.shape
    offsets = np.arange(n)[:, None]
    u = rng.random((n, n_draws))
    flat = np.searchsorted(cdf.ravel(), (u + offsets).ravel(), side="right")
    return np.minimum(flat.reshape(n, n_draws) - offsets * n_docs, n_docs - 1)


def _candidate_scores(ctx: SamplingContext, proxy: str, exclude_positive: bool) -> np.ndarray:
    """The proxy scores ``s(q, ·)``, with ``−∞`` at each row's positive when ``exclude_positive`` (so no top-M
    pool holds it)."""
    scores = ctx.proxy(proxy)
    if not exclude_positive:
        return scores
    scores = scores.astype(np.float64, copy=True)
    scores[np.arange(scores.shape[0]), ctx.positives] = -np.inf
    return scores


def _uniform_over(mask: np.ndarray) -> np.ndarray:
    return mask / mask.sum(axis=1, keepdims=True)


def _check_pool(pool_size: int, n_docs: int, offset: int = 0, exclude_positive: bool = False) -> None:
    if offset + pool_size > n_docs - exclude_positive:
        skip = f" with sampler.offset = {offset}; offset + pool_size" if offset else "; it"
        size = f"the corpus size {n_docs}" + (" less the positive" if exclude_positive else "")
        raise ConfigError(f"sampler.pool_size = {pool_size} is not allowed{skip} must be <= {size}")
