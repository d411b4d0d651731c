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


def _summary_lines() -> dict[str, str]:
    text = (PAPER_DIR / "real.md").read_text()
    block = text.split("<!-- BEGIN generated:grouped-summary -->", 1)[1].split(
        "<!-- END generated:grouped-summary -->"
    )[0]
    return {m.group(1): line for line in block.splitlines() if (m := re.match(r"\* \*\*full (\w+)\*\*", line))}


def _intervals(line: str) -> dict[str, tuple[float, float]]:
    found = re.findall(r"(decide|seen|unseen) [+-]\d\.\d+ \[([+-]\d\.\d+), ([+-]\d\.\d+)\]", line)
    return {name: (float(lo), float(hi)) for name, lo, hi in found}


def test_the_corrected_design_prose_readings_hold_in_its_generated_summary():
    """The prose under the grouped summary says: no arm learns; every arm but MarginMSE has decide, seen and unseen
    intervals containing 0; MarginMSE's decide, seen and unseen intervals lie below 0; the gold arm's seen gain is
    larger than its unseen one, its interval containing 0; agreement with the teacher falls for every arm."""
    lines = _summary_lines()
    assert set(lines) == {"lce", "kl", "margin_mse", "ranknet_soft", "ranknet_hard", "lce_gold"}
    for arm, line in lines.items():
        assert line.rstrip().endswith("does not learn."), arm
        bounds = _intervals(line)
        assert set(bounds) == {"decide", "seen", "unseen"}, arm
        if arm == "margin_mse":
            assert all(hi < 0 for _, hi in bounds.values()), bounds
        else:
            assert all(lo <= 0 <= hi for lo, hi in bounds.values()), (arm, bounds)
        change = re.search(r"\(([+-]\d\.\d+) from the start\)", line)
        assert change is not None and float(change.group(1)) < 0, (arm, line)
    gold = lines["lce_gold"]
    seen, unseen = (float(re.search(rf"{s} ([+-]\d\.\d+) \[", gold).group(1)) for s in ("; seen", "; unseen"))
    assert seen > unseen
