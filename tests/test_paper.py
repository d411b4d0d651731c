"""The paper's generated blocks: rendering, and freshness of the committed paper against the committed results."""

from __future__ import annotations

import pytest

from simrank.errors import ConfigError
from simrank.paths import FIGURES_DIR, RESULTS_DIR
from simrank.predictions.paper import PAPER, PREDICTIONS, experiments_needed, generated_blocks, render


def test_render_replaces_only_the_marked_bodies():
    text = "intro\n<!-- BEGIN generated:a -->\nold\n<!-- END generated:a -->\nmiddle\n<!-- BEGIN generated:b -->\n<!-- END generated:b -->\n"
    out = render(text, {"a": "new a\n", "b": "new b\n"})
    assert (
        out
        == "intro\n<!-- BEGIN generated:a -->\nnew a\n<!-- END generated:a -->\nmiddle\n<!-- BEGIN generated:b -->\nnew b\n<!-- END generated:b -->\n"
    )
    assert render(out, {"a": "new a\n", "b": "new b\n"}) == out  # idempotent


def test_render_rejects_a_block_without_generator():
    with pytest.raises(ConfigError, match="'c'"):
        render("<!-- BEGIN generated:c -->\n<!-- END generated:c -->", {"a": ""})


def test_committed_paper_blocks_match_the_committed_results():
    missing = [n for n in experiments_needed() if not (RESULTS_DIR / n / "results.parquet").exists()]
    assert not missing, f"committed results missing: {missing}"
    text = PAPER.read_text()
    blocks = generated_blocks()
    assert set(blocks) == {"verdicts", "worlds", "deviations", *PREDICTIONS}
    assert all(f"<!-- BEGIN generated:{name} -->" in text for name in blocks)
    assert render(text, blocks) == text, "paper/paper.md is stale: run `simrank paper` (or `make paper`)"


def test_every_prediction_has_a_committed_figure_and_caption():
    for key in PREDICTIONS:
        for suffix in (".png", ".pdf", ".txt"):
            assert (FIGURES_DIR / f"{key.lower()}{suffix}").exists(), f"{key}{suffix}"
