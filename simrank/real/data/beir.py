"""Read a local dataset folder in BEIR layout, and its cached sentence embeddings.

Layout (as in BEIR; SciFact's copy lives in ``shared/data/scifact``)::

    corpus.jsonl              {"_id": str, "title": str, "text": str, ...} one per line
    queries.jsonl             {"_id": str, "text": str, ...}  (labelled queries)
    queries-unlabeled.jsonl   optional, same format: queries with no judgments
    qrels/<split>.tsv         header "query-id<TAB>corpus-id<TAB>score", then integer judgments
    embeddings-all-MiniLM-L6-v2.npz   optional, see :func:`load_embeddings`

A document's text is ``title + " " + text`` (the BEIR / sentence-transformers convention, used by
both BM25 and the encoder). Query order is queries.jsonl, then queries-unlabeled.jsonl.

Environment variable ``SIMRANK_DATA``: the dataset folder returned by :func:`default_data_dir`
(default: ``shared/data/scifact`` beside the repository checkout).

Every problem with the files raises :class:`DataError` with a one-line message naming the bad
value and what was expected.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simrank.errors import ConfigError
from simrank.paths import EMBEDDINGS_FILE, default_data_dir

__all__ = [
    "EMBEDDINGS_FILE",
    "NORM_TOL",
    "QRELS_HEADER",
    "Collection",
    "DataError",
    "Embeddings",
    "data_checksums",
    "load_collection",
    "load_embeddings",
]

QRELS_HEADER = ("query-id", "corpus-id", "score")
NORM_TOL = 1e-3


class DataError(ConfigError):
    """A dataset file is missing or malformed; the message is one line (the CLI prints it, exit 2)."""


@dataclass(frozen=True)
class Collection:
    """A corpus, its queries and relevance judgments.

    ``qrels[split]`` has columns ``query_id`` (str), ``doc_id`` (str), ``relevance`` (int).
    ``query_ids`` lists labelled then unlabelled queries; ``unlabeled_query_ids`` is the tail.
    """

    doc_ids: tuple[str, ...]
    doc_texts: tuple[str, ...]
    query_ids: tuple[str, ...]
    query_texts: tuple[str, ...]
    qrels: Mapping[str, pd.DataFrame]
    unlabeled_query_ids: tuple[str, ...]
    doc_titles: tuple[str, ...] = ()  # the ``title`` field of each document ("" when absent)

    def query_texts_for(self, query_ids: Iterable[str]) -> list[str]:
        """Texts of the given query ids, in that order."""
        text = dict(zip(self.query_ids, self.query_texts))
        return [text[q] for q in query_ids]


@dataclass(frozen=True)
class Embeddings:
    """Unit-norm float32 embeddings: ``doc_emb`` rows follow ``Collection.doc_ids``;
    ``query_emb`` row of query ``q`` is ``query_row[q]``."""

    doc_emb: np.ndarray
    query_emb: np.ndarray
    query_row: Mapping[str, int]

    def dense_scores(self, query_ids: Iterable[str]) -> np.ndarray:
        """Cosine scores ``s[i, j] = <q_i, d_j>``, float32 ``[n_queries, n_docs]``."""
        rows = [self.query_row[q] for q in query_ids]
        return self.query_emb[rows] @ self.doc_emb.T


def _require(path: Path) -> Path:
    if not path.is_file():
        raise DataError(f"missing file {path}")
    return path


def _ids_preview(ids: Iterable[object], n: int = 5) -> str:
    ids = list(ids)
    return f"{ids[:n]}{' ...' if len(ids) > n else ''} ({len(ids)} in all)"


def _read_jsonl(path: Path, fields: tuple[str, ...]) -> list[tuple[str, ...]]:
    """One tuple of string ``fields`` per non-blank line."""
    rows = []
    with _require(path).open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(f"{path}:{n}: invalid JSON ({e.msg}); expected one object per line") from None
            if not isinstance(rec, dict):
                raise DataError(f"{path}:{n}: got {type(rec).__name__}, expected a JSON object")
            for k in fields:
                if not isinstance(rec.get(k), str):
                    raise DataError(f"{path}:{n}: field {k!r} is {rec.get(k)!r}, expected a string")
            rows.append(tuple(rec[k] for k in fields))
    _check_unique([r[0] for r in rows], str(path))
    return rows


def _check_unique(ids: list[str], where: str) -> None:
    dup = [i for i, c in Counter(ids).items() if c > 1]
    if dup:
        raise DataError(f"{where}: duplicate ids {_ids_preview(dup)}; expected unique ids")


def _check_known(ids: Iterable[str], known: set[str], what: str, where: Path, source: str) -> None:
    unknown = [i for i in dict.fromkeys(ids) if i not in known]
    if unknown:
        raise DataError(f"{where}: {what} ids {_ids_preview(unknown)} are not in {source}; expected ids from {source}")


def _read_qrels(path: Path) -> pd.DataFrame:
    rows = []
    with _require(path).open(encoding="utf-8") as f:
        header = tuple(f.readline().rstrip("\r\n").split("\t"))
        if header != QRELS_HEADER:
            raise DataError(f"{path}:1: header {header}, expected {QRELS_HEADER} (tab-separated)")
        for n, line in enumerate(f, 2):
            if not line.strip():
                continue
            try:
                query_id, doc_id, score = line.rstrip("\r\n").split("\t")
                rows.append((query_id, doc_id, int(score)))
            except ValueError:
                expected = "expected 'query-id<TAB>corpus-id<TAB>integer score'"
                raise DataError(f"{path}:{n}: {line.strip()!r}, {expected}") from None
    df = pd.DataFrame(rows, columns=["query_id", "doc_id", "relevance"]).astype({"relevance": np.int64})
    dup = df[df.duplicated(["query_id", "doc_id"])]
    if len(dup):
        pairs = list(zip(dup.query_id, dup.doc_id))
        raise DataError(f"{path}: duplicate judgments {_ids_preview(pairs)}; expected one per (query-id, corpus-id)")
    return df


def data_checksums(data_dir: str | os.PathLike) -> dict[str, str]:
    """``sha256`` (hex) of every input file of a BEIR folder that simrank reads, by path relative to the folder:
    ``corpus.jsonl``, ``queries.jsonl``, ``queries-unlabeled.jsonl``, ``qrels/*.tsv`` and the embeddings file,
    those that exist (the provenance a run records in its ``meta.json``)."""
    root = Path(data_dir)
    names = ["corpus.jsonl", "queries.jsonl", "queries-unlabeled.jsonl", EMBEDDINGS_FILE]
    files = [root / n for n in names] + sorted((root / "qrels").glob("*.tsv"))
    return {str(f.relative_to(root)): hashlib.sha256(f.read_bytes()).hexdigest() for f in files if f.is_file()}


def load_collection(data_dir: str | os.PathLike | None = None, splits: Iterable[str] = ("train", "test")) -> Collection:
    """Read ``data_dir`` (default :func:`default_data_dir`) with the qrels of ``splits``."""
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    docs = _read_jsonl(root / "corpus.jsonl", ("_id", "title", "text"))
    labelled = _read_jsonl(root / "queries.jsonl", ("_id", "text"))
    unl_path = root / "queries-unlabeled.jsonl"
    unlabelled = _read_jsonl(unl_path, ("_id", "text")) if unl_path.exists() else []
    queries = labelled + unlabelled
    _check_unique([q for q, _ in queries], f"{root / 'queries.jsonl'} + {unl_path.name}")

    doc_known, query_known = {d[0] for d in docs}, {q for q, _ in labelled}
    qrels = {}
    for split in splits:
        path = root / "qrels" / f"{split}.tsv"
        df = _read_qrels(path)
        _check_known(df.query_id, query_known, "query", path, "queries.jsonl")
        _check_known(df.doc_id, doc_known, "corpus", path, "corpus.jsonl")
        qrels[split] = df
    return Collection(
        doc_ids=tuple(d[0] for d in docs),
        doc_texts=tuple(f"{title} {text}" for _, title, text in docs),
        query_ids=tuple(q for q, _ in queries),
        query_texts=tuple(t for _, t in queries),
        qrels=qrels,
        unlabeled_query_ids=tuple(q for q, _ in unlabelled),
        doc_titles=tuple(title for _, title, _ in docs),
    )


def _aligned_rows(file_ids: np.ndarray, want: tuple[str, ...], what: str, path: Path) -> np.ndarray:
    """Row of each id of ``want`` in ``file_ids``; the two id sets must be equal."""
    row = {i: r for r, i in enumerate(file_ids.tolist())}
    _check_unique(file_ids.tolist(), f"{path} {what}_ids")
    missing = [i for i in want if i not in row]
    extra = sorted(set(row) - set(want))
    if missing or extra:
        raise DataError(
            f"{path}: {what}_ids do not match the collection: missing {_ids_preview(missing)}, "
            f"extra {_ids_preview(extra)}; expected exactly the collection's {what} ids"
        )
    return np.fromiter((row[i] for i in want), dtype=np.int64, count=len(want))


def _check_vectors(emb: np.ndarray, ids: np.ndarray, name: str, path: Path) -> None:
    if emb.dtype != np.float32 or emb.ndim != 2 or emb.shape[0] != len(ids):
        raise DataError(f"{path}: {name} is {emb.dtype} {emb.shape}, expected float32 of shape ({len(ids)}, dim)")
    bad = ~np.isfinite(emb).all(axis=1)
    if bad.any():
        raise DataError(f"{path}: {name} vector of id {str(ids[bad.argmax()])!r} has NaN/inf; expected finite values")
    norms = np.linalg.norm(emb.astype(np.float64), axis=1)
    off = np.abs(norms - 1.0) > NORM_TOL
    if off.any():
        r = off.argmax()
        raise DataError(f"{path}: {name} vector of id {str(ids[r])!r} has norm {norms[r]:.6g}; expected 1 ± {NORM_TOL}")


def load_embeddings(path: str | os.PathLike, collection: Collection) -> Embeddings:
    """Read an ``.npz`` with ``doc_ids``, ``query_ids`` (str arrays) and ``doc_emb``, ``query_emb``
    (float32, L2-normalised); doc rows are reordered to ``collection.doc_ids``, and the query ids
    must be exactly ``collection.query_ids`` (in any order)."""
    path = _require(Path(path))
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except ValueError as e:
        raise DataError(f"{path}: unreadable npz ({e}); expected plain str/float32 arrays") from None
    need = ("doc_ids", "doc_emb", "query_ids", "query_emb")
    if missing := [k for k in need if k not in arrays]:
        raise DataError(f"{path}: missing arrays {missing}; expected {list(need)}")
    for k in ("doc_ids", "query_ids"):
        if arrays[k].dtype.kind != "U" or arrays[k].ndim != 1:
            raise DataError(f"{path}: {k} is {arrays[k].dtype} {arrays[k].shape}, expected a 1-D str array")
    for kind in ("doc", "query"):
        _check_vectors(arrays[f"{kind}_emb"], arrays[f"{kind}_ids"], f"{kind}_emb", path)
    if arrays["doc_emb"].shape[1] != arrays["query_emb"].shape[1]:
        raise DataError(
            f"{path}: doc_emb dim {arrays['doc_emb'].shape[1]} != query_emb dim {arrays['query_emb'].shape[1]}; "
            "expected equal dims"
        )
    doc_rows = _aligned_rows(arrays["doc_ids"], collection.doc_ids, "doc", path)
    _aligned_rows(arrays["query_ids"], collection.query_ids, "query", path)
    return Embeddings(
        doc_emb=arrays["doc_emb"][doc_rows],
        query_emb=arrays["query_emb"],
        query_row={q: r for r, q in enumerate(arrays["query_ids"].tolist())},
    )
