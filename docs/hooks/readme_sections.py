"""mkdocs hook: the site's index page is README.md's introduction and opening sections, so the two never drift.

Relative links in the README (to ``paper/`` and other files outside the site) become plain text.
"""

from __future__ import annotations

import re
from pathlib import Path

# README sections shown on the index page, in README order (those missing from the README are skipped).
SECTIONS = ("Quick start", "Use as a library", "The pipeline")

_RELATIVE_LINK = re.compile(r"\[([^\]]+)\]\((?!https?:|#)[^)]+\)")


def readme_sections(text: str, sections=SECTIONS) -> str:
    """The README's text before its first ``## `` heading plus the named ``## `` sections."""
    parts = re.split(r"(?m)^(?=## )", text)
    kept = [parts[0]] + [p for p in parts[1:] if p.splitlines()[0][3:].strip() in sections]
    if len(kept) == 1:
        raise ValueError(f"README.md has none of the sections {sections}")
    return _RELATIVE_LINK.sub(r"\1", "".join(kept))


def on_page_markdown(markdown: str, page, config, files) -> str:
    if page.file.src_uri != "index.md":
        return markdown
    readme = Path(config["config_file_path"]).parent / "README.md"
    return readme_sections(readme.read_text(encoding="utf-8"))
