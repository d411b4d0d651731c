"""The paper's generated blocks: rendering, and freshness of the committed paper against the committed results."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simrank.errors import ConfigError
from simrank.paths import FIGURES_DIR, RESULTS_DIR
from simrank.predictions.base import load_results
from simrank.predictions.families import FAMILIES
from simrank.predictions.paper import (
    BLOCK,
    PAPER,
    PREDICTIONS,
    experiments_needed,
    generated_blocks,
    render,
)


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
    assert set(blocks) == {"verdicts", "families", "worlds", "deviations", *PREDICTIONS}
    assert all(f"<!-- BEGIN generated:{name} -->" in text for name in blocks)
    assert render(text, blocks) == text, "paper/paper.md is stale: run `simrank paper` (or `make paper`)"


def test_every_prediction_has_a_committed_figure_and_caption():
    for key in PREDICTIONS:
        for suffix in (".png", ".pdf", ".txt"):
            assert (FIGURES_DIR / f"{key.lower()}{suffix}").exists(), f"{key}{suffix}"


# ------------------------------------------------------------------ every generated block of every paper/*.md

THEORY = PAPER.parent / "theory.md"


def theory_block(start: str) -> str:
    """The committed body of the theory.md block that opens with ``start``."""
    from simrank.theory.rows import MARKERS

    text = THEORY.read_text()
    body = text[text.index(start) + len(start) : text.index(MARKERS[start])]
    return body.removeprefix("\n").removesuffix("\n")


def test_every_paper_file_with_generated_blocks_has_a_freshness_test():
    """paper.md (this file), real.md (tests/real/test_paper_real.py), real-semi.md (tests/real/test_semisynthetic.py),
    advise.md (tests/test_advise_world.py) and theory.md (below): a new file with generated blocks needs its own
    test here."""
    from simrank.theory.rows import MARKERS

    marked = {
        p.name
        for p in PAPER.parent.glob("*.md")
        if "<!-- BEGIN generated:" in p.read_text() or any(m in p.read_text() for m in MARKERS)
    }
    assert marked <= {"paper.md", "real.md", "real-semi.md", "theory.md"}, marked
    assert "theory.md" in marked and "paper.md" in marked


def test_theory_p8_block_matches_the_committed_results():
    from simrank.theory.rows import P8_START, p8_block

    assert theory_block(P8_START) == p8_block(), "paper/theory.md's P8 block is stale: run simrank theory check --paper"


def test_theory_tightness_block_matches_the_committed_run():
    """The T3-TIGHTNESS block against the committed run (``simrank theory tightness`` writes both; the run itself is
    reproduced by the slow test in tests/test_theory_tightness.py)."""
    from simrank.theory.rows import TIGHTNESS_START
    from simrank.theory.tightness import read_run, tightness_block

    run = read_run(THEORY.parent.parent / "results" / "theory" / "tightness")
    assert theory_block(TIGHTNESS_START) == tightness_block(*run), (
        "paper/theory.md's T3-TIGHTNESS block is stale: run simrank theory tightness --paper paper/theory.md"
    )


@pytest.mark.slow
def test_theory_t3_blocks_match_a_fresh_full_run():
    """The T3 numbers, floor and lower-bound blocks of theory.md against the full run that writes them (minutes)."""
    from simrank.theory import monte_carlo as MC
    from simrank.theory.rows import LOWER_BOUND_PAPER, paper_blocks, run_checks

    config = MC.T3Config()
    _, results = run_checks(config, monte_carlo=True, lower=LOWER_BOUND_PAPER)
    blocks, _ = paper_blocks(config, results)
    stale = [start for start, block in blocks.items() if theory_block(start) != block]
    assert not stale, f"stale theory.md blocks: {stale} (run simrank theory check --paper paper/theory.md)"


def robustness_summaries() -> dict[str, dict[str, str]]:
    """Per robustness world, per prediction run there, the summary of the rule's verdict on those results."""
    out: dict[str, dict[str, str]] = {}
    for label, fam in FAMILIES.items():
        base = Path(RESULTS_DIR) / fam.folder
        out[label] = {
            key: p.analyse({n: load_results(n, base) for n in p.experiments}).summary
            for key, p in PREDICTIONS.items()
            if all((base / n / "results.parquet").exists() for n in p.experiments)
        }
    return out


def _decimals(text: str) -> list[str]:
    """Decimal numbers (not section numbers such as §8.5) and ranges of factors such as ``90-250×``."""
    return re.findall(r"\d+(?:\.\d+)?-\d+(?:\.\d+)?×|(?<![\w.§])-?\d+\.\d+", text)


def test_prose_number_pattern():
    assert _decimals("is 90-250× loose, r = 0.592 (§8.5), 175.5-568.4×") == ["90-250×", "0.592", "175.5-568.4×"]


def test_numbers_in_the_paper_prose_are_generated():
    """Every decimal number in paper.md's prose (outside the generated blocks) is quoted from a generated block or
    from the summary of a robustness re-check's verdict (the prose cites both).  Exempt: the deviations table's
    reasons (numbers of superseded runs) and *Reproducing* (time, memory and round-off measured on one run)."""
    text = PAPER.read_text()
    generated = "\n".join(m["body"] for m in BLOCK.finditer(text))
    generated += "\n".join(v for per in robustness_summaries().values() for v in per.values())
    prose = BLOCK.sub("", text)
    prose = prose[: prose.index("## Deviations")]
    missing = sorted({n for n in _decimals(prose) if n not in generated})
    assert not missing, f"numbers in paper.md's prose that no generated text shows: {missing}"
