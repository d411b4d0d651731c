"""Packaging: a non-editable ``pip install .`` into a fresh virtual environment works from any directory (the
experiment configs ship as package data, ``simrank list`` and a quick bias sweep run, and so does the README's library
example); the metadata a user cites or a type checker reads (LICENSE, CITATION.cff, CHANGELOG.md, the version,
``py.typed``, the setuptools floor) agree with each other."""

import datetime
import re
import subprocess
import tomllib
import venv
from pathlib import Path

import pytest
import yaml

from simrank._version import __version__

from test_readme import library_example

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# CFF 1.2.0 (https://github.com/citation-file-format/citation-file-format/blob/1.2.0/schema.json): the keys a
# citation file must have, the keys it may have, and the reference types used here (a subset of the schema's enum).
CFF_REQUIRED = {"cff-version", "message", "title", "authors"}
CFF_KEYS = CFF_REQUIRED | {
    "abstract", "commit", "contact", "date-released", "doi", "identifiers", "keywords", "license", "license-url",
    "preferred-citation", "references", "repository", "repository-artifact", "repository-code", "type", "url",
    "version",
}  # fmt: skip
CFF_REFERENCE_TYPES = {"article", "book", "conference-paper", "report", "software", "thesis", "unpublished"}


def citation() -> dict:
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def check_cff_person(entry: dict) -> None:
    """A CFF person has a family name (``family-names``) or is an entity (``name``)."""
    assert isinstance(entry, dict) and ("family-names" in entry or "name" in entry), entry


def test_citation_file_is_valid_cff_1_2_0():
    cff = citation()
    assert cff["cff-version"] == "1.2.0"
    assert CFF_REQUIRED <= set(cff) <= CFF_KEYS, set(cff) ^ CFF_KEYS
    assert cff["type"] in ("software", "dataset")
    assert isinstance(cff["message"], str) and isinstance(cff["title"], str)
    assert cff["authors"], "authors must not be empty"
    for author in cff["authors"]:
        check_cff_person(author)
    datetime.date.fromisoformat(str(cff["date-released"]))
    assert cff["license"] == PYPROJECT["project"]["license"] == "Apache-2.0"


def test_citation_references_the_paper_the_toolkit_implements():
    """The seed paper: the statements T1-T6 (paper/theory.md) and the predictions measured (paper/paper.md)."""
    (paper,) = citation()["references"]
    assert paper["type"] in CFF_REFERENCE_TYPES and paper["authors"]
    for author in paper["authors"]:
        check_cff_person(author)
    title = (ROOT / "paper" / "paper.md").read_text(encoding="utf-8").splitlines()[0]
    assert title.startswith(f"# {paper['title']}:"), (title, paper["title"])
    for page in re.findall(r"paper/\w+\.md", paper["notes"]):
        assert (ROOT / page).exists(), page


def test_one_version_everywhere():
    """pyproject, ``simrank.__version__``, CITATION.cff and the changelog's latest release name the same version."""
    releases = re.findall(r"(?m)^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d\d-\d\d)$", (ROOT / "CHANGELOG.md").read_text())
    assert releases, "CHANGELOG.md has no '## [X.Y.Z] - YYYY-MM-DD' release"
    latest, date = releases[0]
    assert PYPROJECT["project"]["version"] == __version__ == str(citation()["version"]) == latest == "0.2.0"
    assert str(citation()["date-released"]) == date


def test_license_is_the_apache_2_0_text():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.split()[:5] == ["Apache", "License", "Version", "2.0,", "January"]
    assert "END OF TERMS AND CONDITIONS" in text and len(text.splitlines()) == 202
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]


def test_setuptools_floor_reads_the_spdx_license_string():
    """PEP 639's ``license = "Apache-2.0"`` needs setuptools >= 77.0.1 (76.1 rejects the string)."""
    floors = [r for r in PYPROJECT["build-system"]["requires"] if r.startswith("setuptools")]
    assert floors == ["setuptools>=77.0.1"]


def test_package_ships_py_typed():
    assert (ROOT / "simrank" / "py.typed").exists()
    assert PYPROJECT["tool"]["setuptools"]["package-data"]["simrank"] == ["py.typed"]


@pytest.mark.slow
def test_non_editable_install_runs_from_any_directory(tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python, simrank = env_dir / "bin" / "python", env_dir / "bin" / "simrank"
    # a copy of the tracked tree, so no build artefacts or editable metadata of this checkout leak in
    src = tmp_path / "src"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(src)], check=True, capture_output=True)
    try:
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", str(src)], check=True, capture_output=True, timeout=900
        )
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(src)], capture_output=True)
    site = subprocess.run(
        [str(python), "-c", "import simrank, pathlib; print(pathlib.Path(simrank.__file__).parent)"],
        capture_output=True,
        text=True,
        check=True,
    )
    installed = Path(site.stdout.strip())
    installed_at = max(p.stat().st_mtime for p in (env_dir / "lib").rglob("*"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def cli(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
        return subprocess.run([str(simrank), *args], cwd=elsewhere, capture_output=True, text=True, timeout=timeout)

    for args in (["--help"], ["theory", "--help"]):
        shown = cli(*args)
        assert shown.returncode == 0 and "Usage: simrank" in shown.stdout, (args, shown.stderr[-2000:])
    version = cli("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"simrank {__version__}"
    listed = cli("list")
    assert listed.returncode == 0 and "bias-sweep" in listed.stdout and "p04-hard-negatives" in listed.stdout
    paper = cli("paper")  # outside a checkout: one line saying so, exit 2, nothing run
    assert paper.returncode == 2 and "needs a project checkout" in paper.stderr, paper.stderr[-2000:]
    assert len((paper.stdout + paper.stderr).strip().splitlines()) == 1
    figures = cli("figures", "--only", "P10", "--out", "f", timeout=900)
    assert figures.returncode == 0, figures.stderr[-2000:]
    assert (elsewhere / "f" / "p10.png").exists()
    assert (elsewhere / "results" / "paper" / "p10-kl-ndcg" / "results.parquet").exists()
    quick = subprocess.run(
        [str(simrank), "run", "bias-sweep", "--quick", "--no-progress", "--out", "q"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert quick.returncode == 0, quick.stderr[-2000:]
    assert (elsewhere / "q" / "results.parquet").exists()
    (elsewhere / "example.py").write_text(library_example())
    example = subprocess.run([str(python), "example.py"], cwd=elsewhere, capture_output=True, text=True, timeout=600)
    assert example.returncode == 0, example.stderr[-2000:]
    assert "nDCG@10" in example.stdout
    assert (installed / "py.typed").exists()
    written = [p for p in (env_dir / "lib").rglob("*") if p.stat().st_mtime > installed_at]
    assert not written, f"written into the installed environment: {written[:5]}"
