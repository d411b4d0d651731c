"""In-memory BM25 over a :class:`~simrank.real.data.beir.Collection` with ``bm25s``.

Tokens: ``bm25s.tokenize`` (lower-cased ``\\b\\w\\w+\\b`` words, English stopwords removed, no
stemming). Scoring: bm25s' default Lucene variant, ``k1 = 1.5``, ``b = 0.75``::

    score(q, d) = sum_{t in q} idf(t) * tf(t, d) / (tf(t, d) + k1 * (1 - b + b * |d| / avgdl))
    idf(t) = log(1 + (N - df(t) + 0.5) / (df(t) + 0.5))

(a query term repeated r times counts r times; terms absent from the corpus score 0).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import bm25s
import numpy as np

from simrank.real._util import top_k as _top_k
from simrank.real.data.beir import Collection

__all__ = [
    "BM25Index",
]


def _tokenize(texts: Sequence[str]) -> list[list[str]]:
    return bm25s.tokenize(list(texts), stopwords="en", return_ids=False, show_progress=False)


@dataclass(frozen=True)
class BM25Index:
    """A bm25s index of ``doc_texts``; document ``j`` of the scores is ``doc_ids[j]``."""

    retriever: bm25s.BM25
    doc_ids: tuple[str, ...]

    @classmethod
    def build(cls, collection: Collection) -> BM25Index:
        retriever = bm25s.BM25()
        retriever.index(_tokenize(collection.doc_texts), show_progress=False)
        return cls(retriever, collection.doc_ids)

    def _score_batches(self, query_texts: Sequence[str], batch_size: int) -> Iterator[np.ndarray]:
        """float32 ``[<= batch_size, n_docs]`` score blocks, in query order."""
        for start in range(0, len(query_texts), batch_size):
            tokens = _tokenize(query_texts[start : start + batch_size])
            yield np.stack([self.retriever.get_scores_from_ids(self.retriever.get_tokens_ids(t)) for t in tokens])

    def scores(self, query_texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
        """Dense BM25 scores, float32 ``[n_queries, n_docs]``."""
        out = np.empty((len(query_texts), len(self.doc_ids)), np.float32)
        for i, block in enumerate(self._score_batches(query_texts, batch_size)):
            out[i * batch_size : i * batch_size + len(block)] = block
        return out

    def top_k(self, query_texts: Sequence[str], k: int, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """Best ``k`` documents per query: ``(doc indices int64, scores float32)``, each ``[n_queries, k]``;
        memory ``O(batch_size * n_docs)``."""
        parts = [_top_k(block, k) for block in self._score_batches(query_texts, batch_size)]
        k = min(k, len(self.doc_ids))
        if not parts:
            return np.zeros((0, k), np.int64), np.zeros((0, k), np.float32)
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
