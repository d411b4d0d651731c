"""The docstrings' reST as Markdown, shared by the API site's griffe extension (``sphinx_roles.py``) and the
generated reference pages (``reference.py``); plain Python, so the tests can import it without the docs extra.

``:func:`~simrank.losses.lce``` becomes ```lce``` (inline code; ``~`` keeps the last name), ``:math:`x_1..x_n``` becomes
```x_1..x_n```, and a line ending in ``::`` (reST's literal block marker) ends in ``:``. Double backquotes are already
a Markdown code span.

A ``Returns:``/``Yields:`` item is free text, but griffe (``returns_named_value: false``) reads whatever precedes the
first ``:`` of an item's first line as its type; :func:`free_text_returns` marks such lines so the whole line stays
description and the type comes from the signature.
"""

from __future__ import annotations

import re

ROLE = re.compile(r":(?:py:)?(?:func|class|data|mod|meth|attr|obj|exc|const|math):`(~?)([^`]+)`")
LITERAL_MARKER = re.compile(r"(?<=\S)::$", re.MULTILINE)
RETURNS_HEADER = re.compile(r"^(\s*)(?:Returns|Yields):\s*$")


def markdown(docstring: str) -> str:
    """The docstring with Sphinx roles as inline code (``~`` keeps the last name) and ``::`` as ``:``."""
    text = ROLE.sub(lambda m: f"`{m.group(2).rsplit('.', 1)[-1] if m.group(1) else m.group(2)}`", docstring)
    return LITERAL_MARKER.sub(":", text)


def free_text_returns(docstring: str) -> str:
    """Each first line of a ``Returns:``/``Yields:`` item that holds a ``:`` gets a leading ``": "``: griffe then
    reads an empty type (so it takes the signature's) and the whole line as the description."""
    lines = docstring.splitlines()
    header_indent = item_indent = None
    for i, line in enumerate(lines):
        header = RETURNS_HEADER.match(line)
        if header:
            header_indent, item_indent = len(header.group(1)), None
            continue
        if header_indent is None or not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if indent <= header_indent:
            header_indent = None
            continue
        item_indent = indent if item_indent is None else item_indent
        if indent == item_indent and ":" in line:
            lines[i] = f"{line[:indent]}: {line[indent:]}"
    return "\n".join(lines) + ("\n" if docstring.endswith("\n") else "")
