"""Synthetic query-document worlds with ground-truth relevance.

A world is a finite corpus ``X ∈ R^{N×d}``, a query law ``μ_Q`` and a true relevance

    r(q, x) = s · qᵀ A x + γ · s · (qᵀ C x)²,

the bilinear part ``qᵀAx`` (``A = I + a·E/√d``, ``E`` standard Gaussian) plus an optional
non-bilinear part of weight ``γ`` that no bilinear student can represent.  From ``r`` follow

* the positive distribution ``p_q(x) = softmax_x(r(q, x) / t_pos)`` over the corpus;
* graded labels: grade ``g ∈ {0,1,2,3}`` counts how many of the per-query relevance quantiles
  ``grade_quantiles`` the document's relevance reaches (grade 3 = top 0.1% by default).

Geometries (documents and queries drawn from the same law; ``N(0, I/d)`` noise so ‖x‖ ≈ 1):

* ``isotropic``: ``x ~ N(0, I/d)``;
* ``cone``: ``x = ‖z‖ · (c·u + z)/‖c·u + z‖``, ``z ~ N(0, I/d)``, with a shared unit direction ``u`` and
  strength ``c``: the norms of the isotropic world, directions concentrated around ``u``, so every pair has a
  high cosine similarity (like untuned BERT embeddings) and raw pairwise distances are smaller than
  isotropic ones (a genuine cone, closed under positive scaling; on the sphere it is the direction of
  ``c·u + z``);
* ``clustered``: ``x = m_t + σ·N(0, I/d)``, topic ``t`` uniform over ``n_topics``, centres
  ``m_t ~ N(0, I/d)``; queries sit nearer their centre (spread ``σ/2``).

With ``sphere=True`` every vector is projected on the unit sphere.  A *shift* moves the query
law: queries get an extra mean ``shift · v`` along a fixed unit direction ``v`` (domain shift).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simrank.errors import check_choice, check_nonnegative, check_positive, check_range

__all__ = ["GEOMETRIES", "World", "WorldConfig"]

GEOMETRIES = ("isotropic", "cone", "clustered")


@dataclass(frozen=True)
class WorldConfig:
    """Generator of a :class:`World` (scikit-learn style: all randomness from ``random_state``).

    Attributes:
      geometry: ``"isotropic"``, ``"cone"`` or ``"clustered"`` (see the module docstring).
      n_docs: corpus size ``N``.
      dim: embedding dimension ``d``.
      sphere: project every document and query on the unit sphere.
      signal: relevance scale ``s`` in ``r = s · qᵀAx``.
      map_noise: ``a`` in ``A = I + a·E/√d``.
      nonbilinear: weight ``γ`` of the non-bilinear part ``γ · s · (qᵀCx)²``.
      cone_strength: ``c`` of the cone geometry.
      n_topics: number of topics of the clustered geometry.
      topic_spread: ``σ``, the spread of documents around their topic centre.
      positive_temperature: ``t_pos`` in ``p_q = softmax(r(q, ·)/t_pos)``.
      grade_quantiles: per-query relevance quantiles that grades 1, 2, 3, ... must reach.
      random_state: seed of everything the world draws.

    Examples:
      >>> world = WorldConfig(n_docs=100, dim=4, random_state=0).generate()
      >>> world.docs.shape, world.docs.dtype
      ((100, 4), dtype('float32'))
    """

    geometry: str = "isotropic"
    n_docs: int = 1000
    dim: int = 16
    sphere: bool = False
    signal: float = 6.0
    map_noise: float = 0.5
    nonbilinear: float = 0.0
    cone_strength: float = 2.0
    n_topics: int = 8
    topic_spread: float = 0.5
    positive_temperature: float = 0.5
    grade_quantiles: tuple[float, ...] = (0.99, 0.995, 0.999)
    random_state: int = 0

    def __post_init__(self):
        check_choice("world.geometry", self.geometry, GEOMETRIES)
        for name in ("n_docs", "dim", "n_topics", "positive_temperature", "topic_spread"):
            check_positive(f"world.{name}", getattr(self, name))
        for name in ("signal", "map_noise", "nonbilinear", "cone_strength", "random_state"):
            check_nonnegative(f"world.{name}", getattr(self, name))
        for q in self.grade_quantiles:
            check_range("world.grade_quantiles", q, 0.0, 1.0)

    def generate(self) -> World:
        """Draw the relevance maps and the corpus.

        Returns:
          a :class:`World` with ``docs`` of shape ``[n_docs, dim]`` (float32); the same config gives the same world.
        """
        rng = np.random.default_rng(self.random_state)
        d = self.dim
        direction = _unit(rng.standard_normal(d))
        shift_direction = _unit(rng.standard_normal(d))
        centres = rng.standard_normal((self.n_topics, d)) / np.sqrt(d)
        relevance_map = np.eye(d) + self.map_noise * rng.standard_normal((d, d)) / np.sqrt(d)
        nonbilinear_map = rng.standard_normal((d, d)) / np.sqrt(d)
        world = World(
            config=self,
            docs=np.zeros((0, d)),
            relevance_map=relevance_map,
            nonbilinear_map=nonbilinear_map,
            cone_direction=direction,
            shift_direction=shift_direction,
            topic_centres=centres,
        )
        docs = world._draw(rng, self.n_docs, spread=self.topic_spread, shift=0.0)
        return World(**{**world.__dict__, "docs": docs.astype(np.float32)})


@dataclass(frozen=True, eq=False)
class World:
    """A generated world: corpus, relevance maps, and the query law.

    Attributes:
      config: the :class:`WorldConfig` it was generated from.
      docs: ``[N, d]`` float32 corpus ``X``.
      relevance_map: ``[d, d]`` bilinear map ``A``.
      nonbilinear_map: ``[d, d]`` map ``C`` of the non-bilinear part.
      cone_direction: ``[d]`` unit direction ``u`` of the cone geometry.
      shift_direction: ``[d]`` unit direction ``v`` of a query shift.
      topic_centres: ``[n_topics, d]`` centres ``m_t`` of the clustered geometry.
    """

    config: WorldConfig
    docs: np.ndarray
    relevance_map: np.ndarray
    nonbilinear_map: np.ndarray
    cone_direction: np.ndarray
    shift_direction: np.ndarray
    topic_centres: np.ndarray = field(repr=False)

    @property
    def n_docs(self) -> int:
        """Corpus size ``N``."""
        return self.docs.shape[0]

    @property
    def dim(self) -> int:
        """Embedding dimension ``d``."""
        return self.docs.shape[1]

    def _draw(self, rng: np.random.Generator, n: int, spread: float, shift: float) -> np.ndarray:
        c, d = self.config, self.dim
        noise = rng.standard_normal((n, d)) / np.sqrt(d)
        if c.geometry == "isotropic":
            v = noise
        elif c.geometry == "cone":
            v = c.cone_strength * self.cone_direction + noise
            if not c.sphere:  # rescale the direction to the noise's norm (the sphere keeps only the direction)
                v = np.linalg.norm(noise, axis=-1, keepdims=True) * v / np.linalg.norm(v, axis=-1, keepdims=True)
        else:
            topics = rng.integers(0, c.n_topics, size=n)
            v = self.topic_centres[topics] + spread * noise
        v = v + shift * self.shift_direction
        if c.sphere:
            v = v / np.linalg.norm(v, axis=-1, keepdims=True)
        return v

    def sample_queries(self, n: int, random_state: int | np.random.Generator, shift: float = 0.0) -> np.ndarray:
        """Draw ``n`` queries from ``μ_Q`` (shifted by ``shift`` along the world's shift direction).

        Args:
          n: number of queries.
          random_state: seed or numpy generator.
          shift: size of the extra query mean ``shift · v`` (0: no domain shift).

        Returns:
          ``[n, d]`` float32 queries.
        """
        rng = np.random.default_rng(random_state)
        spread = self.config.topic_spread / 2
        return self._draw(rng, n, spread=spread, shift=shift).astype(np.float32)

    def relevance(self, queries: np.ndarray, docs: np.ndarray | None = None) -> np.ndarray:
        """True relevance ``r(q, x) = s · qᵀAx + γ · s · (qᵀCx)²`` for every query (rows) and document (columns).

        Args:
          queries: ``[n, d]`` queries.
          docs: ``[m, d]`` documents (default: the corpus, ``m = N``).

        Returns:
          ``[n, m]`` float32 relevance.
        """
        docs = self.docs if docs is None else docs
        c = self.config
        bilinear = queries @ self.relevance_map @ docs.T
        r = c.signal * bilinear
        if c.nonbilinear:
            r = r + c.nonbilinear * c.signal * (queries @ self.nonbilinear_map @ docs.T) ** 2
        return r.astype(np.float32)

    def positive_distribution(self, queries: np.ndarray) -> np.ndarray:
        """The positive distribution ``p_q = softmax(r(q, ·) / t_pos)`` over the corpus.

        Args:
          queries: ``[n, d]`` queries.

        Returns:
          ``[n, N]`` rows summing to one.
        """
        z = self.relevance(queries) / self.config.positive_temperature
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def grades(self, queries: np.ndarray) -> np.ndarray:
        """Graded labels: ``grade(q, x) = #{j : r(q, x) ≥ quantile_{α_j}(r(q, ·))}`` over ``grade_quantiles`` α.

        Args:
          queries: ``[n, d]`` queries.

        Returns:
          ``[n, N]`` int8 grades in ``{0, …, len(grade_quantiles)}``.
        """
        r = self.relevance(queries)
        thresholds = np.quantile(r, self.config.grade_quantiles, axis=1).T  # [n, n_grades]
        return (r[:, :, None] >= thresholds[:, None, :]).sum(-1).astype(np.int8)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)
