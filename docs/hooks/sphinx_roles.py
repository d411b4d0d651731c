"""Griffe extension for the API site: the docstrings' Sphinx roles and literal-block markers, as Markdown.

``:func:`~simrank.losses.lce``` becomes ```lce``` (inline code) and a line ending in ``::`` (reST's literal
block marker) ends in ``:``, so the Google-style docstrings read the same in the source and on the site.
"""

from __future__ import annotations

import re

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|class|data|mod|meth|attr|obj|exc|const):`(~?)([^`]+)`")
_LITERAL_MARKER = re.compile(r"(?<=\S)::$", re.MULTILINE)


def markdown(docstring: str) -> str:
    """The docstring with Sphinx roles as inline code (``~`` keeps the last name) and ``::`` as ``:``."""
    text = _ROLE.sub(lambda m: f"`{m.group(2).rsplit('.', 1)[-1] if m.group(1) else m.group(2)}`", docstring)
    return _LITERAL_MARKER.sub(":", text)


class SphinxRoles(griffe.Extension):
    def on_instance(self, *, node, obj, agent, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown(obj.docstring.value)
