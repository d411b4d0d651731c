"""Teachers: the true relevance degraded by a controllable error, with a label temperature τ.

``g(q, x) = s · qᵀ (A + ε E_g) x + γ · s · (qᵀ C x)²``  (kind ``"map"``: a perturbed relevance map),
or the truth with a fraction ``ε`` of the coordinates of ``q`` hidden (kind ``"features"``).
``ε = noise`` is the strength knob (0 = the truth itself).  The listwise target over a group is
``softmax(g/τ)``, the pairwise target ``p_ij = σ((g_i − g_j)/τ)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simrank.errors import check_choice, check_nonnegative, check_positive
from simrank.world import World

__all__ = ["TEACHER_KINDS", "Teacher"]

TEACHER_KINDS = ("map", "features")


@dataclass(frozen=True)
class Teacher:
    """A teacher: the world's true relevance degraded by ``noise``, with label temperature ``tau``.

    Attributes:
      noise: error strength ``ε ≥ 0`` (0 = the truth itself).
      tau: label temperature ``τ > 0`` (targets ``softmax(g/τ)``, ``σ((g_i − g_j)/τ)``).
      kind: ``"map"`` (perturbed relevance map ``A + ε E_g``) or ``"features"`` (a fraction ``ε`` of the
        query's coordinates hidden).
      random_state: seed of the perturbation.

    Examples:
      >>> from simrank.world import WorldConfig
      >>> world = WorldConfig(n_docs=100, dim=4).generate()
      >>> queries = world.sample_queries(2, random_state=0)
      >>> Teacher(noise=0.3).scores(world, queries).shape
      (2, 100)
      >>> bool(np.allclose(Teacher(noise=0.0).scores(world, queries), world.relevance(queries)))  # ε = 0: the truth
      True
    """

    noise: float = 0.3
    tau: float = 1.0
    kind: str = "map"
    random_state: int = 1

    def __post_init__(self):
        check_choice("teacher.kind", self.kind, TEACHER_KINDS)
        check_positive("teacher.tau", self.tau)
        check_nonnegative("teacher.noise", self.noise)
        check_nonnegative("teacher.random_state", self.random_state)

    def scores(self, world: World, queries: np.ndarray, docs: np.ndarray | None = None) -> np.ndarray:
        """Teacher scores ``g(q, x)`` for every query and document.

        Args:
          world: the world whose relevance the teacher degrades.
          queries: ``[n, d]`` queries.
          docs: ``[m, d]`` documents (default: the corpus, ``m = N``).

        Returns:
          ``[n, m]`` float32 scores; the same ``random_state`` gives the same teacher.
        """
        rng = np.random.default_rng(self.random_state)
        d = world.dim
        if self.kind == "map":
            perturbation = rng.standard_normal((d, d)) / np.sqrt(d)
            teacher_world = _with_map(world, world.relevance_map + self.noise * perturbation)
            return teacher_world.relevance(queries, docs)
        hidden = rng.permutation(d)[: int(round(self.noise * d))]
        visible = queries.copy()
        visible[:, hidden] = 0.0
        return world.relevance(visible, docs)


def _with_map(world: World, relevance_map: np.ndarray) -> World:
    return World(**{**world.__dict__, "relevance_map": relevance_map})
