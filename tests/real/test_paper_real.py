"""paper/real.md: its generated blocks must match the committed confirm results (the BEIR design's run and the
corrected design's run, simrank.real.confirm.report.PAPER_RUNS)."""

from __future__ import annotations

import re

from simrank.paths import PAPER_DIR, PROJECT_ROOT
from simrank.predictions.paper import render
from simrank.real.confirm.report import GROUPED_SECTIONS, PAPER_RUNS, SECTIONS, paper_blocks

STALE = "paper/real.md is stale: run `simrank real report --out results/real-confirm --paper paper/real.md`"


def test_committed_real_paper_blocks_match_the_committed_results():
    for run in PAPER_RUNS.values():
        for name in ("results", "tuning", "baselines", "kappas"):
            assert (PROJECT_ROOT / run / f"{name}.parquet").is_file(), f"committed {run}/{name}.parquet missing"
    text = (PAPER_DIR / "real.md").read_text()
    generated = paper_blocks(PROJECT_ROOT)
    expected = {name for name, _ in SECTIONS} | {f"grouped-{s}" for s in GROUPED_SECTIONS} | {"grouped-summary"}
    assert set(generated) == expected
    assert all(f"<!-- BEGIN generated:{name} -->" in text for name in generated)
    assert render(text, generated) == text, STALE


def test_the_corrected_design_prose_names_its_run_and_no_stale_remark():
    """The corrected-design section reads the run PAPER_RUNS names, and no longer calls its numbers stale."""
    text = (PAPER_DIR / "real.md").read_text()
    section = text.split("## The corrected design", 1)[1].split("\n## Design", 1)[0]
    assert str(PAPER_RUNS["grouped"]) in section
    assert not re.search(r"predates|still to be made|stale", section)
