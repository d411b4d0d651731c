"""A tiny BEIR-layout collection generated in tmp_path (no shared data, no torch)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from simrank.real.data.beir import EMBEDDINGS_FILE

N_DOCS, N_LABELLED, N_UNLABELLED, DIM = 30, 8, 2, 16
COMMON = "cell protein gene cancer patient risk dose trial effect study".split()


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def write_qrels(path: Path, rows: list[tuple[str, str, int]]) -> None:
    path.write_text("query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{s}\n" for q, d, s in rows))


def rewrite_npz(root: Path, **changes: np.ndarray) -> None:
    """Replace some arrays of the embeddings file."""
    path = root / EMBEDDINGS_FILE
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files} | changes
    np.savez(path, **arrays)


def unit_rows(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def tiny_beir(tmp_path: Path) -> Path:
    """The tiny collection of :func:`make_tiny_beir` in ``tmp_path``."""
    return make_tiny_beir(tmp_path)


def make_tiny_beir(tmp_path: Path) -> Path:
    """30 docs (doc ``d{i}`` alone contains the word ``zeta{i}``), 8 labelled queries ``q0..q7``
    (``q{j}`` asks for ``zeta{3j}``, judged relevant to ``d{3j}``), 2 unlabelled ``u0, u1``,
    train qrels for q0-q3, test for q4-q7, and random unit embeddings stored in shuffled order."""
    rng = np.random.default_rng(0)
    root = tmp_path / "tiny"
    (root / "qrels").mkdir(parents=True)
    write_jsonl(
        root / "corpus.jsonl",
        [
            {"_id": f"d{i}", "title": f"Title {i}", "text": " ".join(rng.choice(COMMON, 5 + i % 7)) + f" zeta{i}"}
            for i in range(N_DOCS)
        ],
    )
    write_jsonl(
        root / "queries.jsonl",
        [{"_id": f"q{j}", "text": f"the {COMMON[j]} of zeta{3 * j}", "metadata": {}} for j in range(N_LABELLED)],
    )
    write_jsonl(
        root / "queries-unlabeled.jsonl",
        [{"_id": f"u{j}", "text": f"{COMMON[j]} and zeta{j + 1}"} for j in range(N_UNLABELLED)],
    )
    judged = [(f"q{j}", f"d{3 * j}", 1) for j in range(N_LABELLED)]
    write_qrels(root / "qrels" / "train.tsv", judged[:4])
    write_qrels(root / "qrels" / "test.tsv", judged[4:] + [("q4", "d1", 1)])
    doc_order = rng.permutation(N_DOCS)
    query_ids = [f"q{j}" for j in range(N_LABELLED)] + [f"u{j}" for j in range(N_UNLABELLED)]
    np.savez(
        root / EMBEDDINGS_FILE,
        doc_ids=np.array([f"d{i}" for i in doc_order]),
        doc_emb=unit_rows(rng, N_DOCS),
        query_ids=np.array(query_ids),
        query_emb=unit_rows(rng, len(query_ids)),
    )
    return root


def run_advise(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run ``simrank advise ARGS`` in-process; return (exit code, stdout, stderr)."""
    from simrank.cli import main

    monkeypatch.setattr(sys, "argv", ["simrank", "advise", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err
