"""paper/real.md: its generated blocks must match the committed confirm results (results/real-confirm)."""

from __future__ import annotations

from simrank.paths import PAPER_DIR, PROJECT_ROOT
from simrank.predictions.paper import render
from simrank.real.confirm.report import SECTIONS, blocks

RESULTS = PROJECT_ROOT / "results" / "real-confirm"


def test_committed_real_paper_blocks_match_the_committed_results():
    for name in ("results", "tuning", "baselines", "kappas"):
        assert (RESULTS / f"{name}.parquet").is_file(), f"committed results/real-confirm/{name}.parquet missing"
    text = (PAPER_DIR / "real.md").read_text()
    generated = blocks(RESULTS)
    assert set(generated) == {name for name, _ in SECTIONS}
    assert all(f"<!-- BEGIN generated:{name} -->" in text for name in generated)
    assert render(text, generated) == text, (
        "paper/real.md is stale: run `simrank real report --out results/real-confirm --paper paper/real.md`"
    )
