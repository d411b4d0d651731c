"""Griffe extension for the API site: the docstrings' Sphinx roles and literal-block markers as Markdown
(``rst.markdown``) and their Returns items as free text (``rst.free_text_returns``), so the Google-style docstrings
read the same in the source and on the site."""

from __future__ import annotations

import sys
from pathlib import Path

import griffe

sys.path.insert(0, str(Path(__file__).parent))
from rst import free_text_returns, markdown  # noqa: E402  (docs/hooks is not a package)


class SphinxRoles(griffe.Extension):
    def on_instance(self, *, node, obj, agent, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = free_text_returns(markdown(obj.docstring.value))
