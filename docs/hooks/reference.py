"""mkdocs hook: the reference pages are generated at build time from the code, so they cannot drift from it.

* ``reference/cli.md``: every command of the typer app (``simrank.cli.app``), its usage line, help text, and each
  argument and option with its default (a path under ``simrank.paths.PROJECT_ROOT`` written relative to it, so the
  page does not depend on where it was built) and help.
* ``reference/config.md``: every TOML section (``simrank.config.SECTION_TYPES``) and field with its type, default,
  allowed values and meaning. The allowed values are what the dataclass's own checks say: each field is given
  out-of-range probes, and the ``is not allowed; ...`` part of the error it raises is quoted (a field no probe
  trips has no check beyond its type). The meaning is the field's entry under ``Attributes:`` in the class
  docstring, or its trailing ``#`` comment in the source. Then the kinds a config can name, from the registries
  ``SAMPLERS``, ``LOSS_SPECS`` and ``STUDENTS``.

A page's hand-written text stays; the generated part replaces the marker ``<!-- generated: NAME -->``.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import re
import sys
import types
import typing
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from rst import markdown  # noqa: E402  (docs/hooks is not a package)

MARKER = re.compile(r"<!-- generated: (\w+) -->")


def cell(text: object) -> str:
    """``text`` made safe for one Markdown table cell (pipes escaped, newlines folded)."""
    return " ".join(str(text).split()).replace("|", "\\|")


def table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows])


# ----------------------------------------------------------------------------------------------- the CLI


def _commands(group, ctx, path: str) -> Iterator[tuple[str, object, object]]:
    """(full name, command, context) for ``group`` and every command below it, depth first in listed order."""
    yield path, group, ctx
    if hasattr(group, "list_commands"):
        for name in group.list_commands(ctx):
            sub = group.get_command(ctx, name)
            if hasattr(group, "resolve_command") and sub is not None:  # a lazy group loads the command itself
                sub = group.resolve_command(ctx, [name])[1]
            if sub is None or getattr(sub, "hidden", False):
                continue
            sub_ctx = sub.make_context(name, [], parent=ctx, resilient_parsing=True)
            yield from _commands(sub, sub_ctx, f"{path} {name}")


def _default(param) -> str:
    if getattr(param, "required", False):
        return "required"
    default = param.default
    if getattr(param, "is_flag", False) and getattr(param, "secondary_opts", None):
        return f"`{(param.opts if default else param.secondary_opts)[0]}`"
    if getattr(param, "is_flag", False):
        return "on" if default else "off"
    if default is None or default == () or default == []:
        return "—"
    from simrank.paths import PROJECT_ROOT

    if isinstance(default, Path) and default.is_absolute() and default.is_relative_to(PROJECT_ROOT):
        return f"`PROJECT_ROOT/{default.relative_to(PROJECT_ROOT).as_posix()}`"
    return f"`{default}`"


def _unescape(text: str) -> str:
    return text.replace("\\[", "[")  # typer's rich markup escape of a literal [


def cli_reference(app) -> str:
    """Markdown for every command of a typer ``app``: usage, help, and a table of its arguments and options."""
    import typer.main

    root = typer.main.get_command(app)
    ctx = root.make_context("simrank", [], resilient_parsing=True)
    parts = []
    for name, command, command_ctx in _commands(root, ctx, "simrank"):
        level = "#" * min(2 + name.count(" "), 4)
        parts.append(f"{level} `{name}`\n")
        parts.append(f"```\n{command.get_usage(command_ctx).strip()}\n```\n")
        if command.help:
            parts.append(markdown(_unescape(inspect.cleandoc(command.help))) + "\n")
        rows = []
        for param in command.params:
            record = param.get_help_record(command_ctx)
            if record is None or getattr(param, "hidden", False):
                continue
            rows.append((f"`{record[0]}`", _default(param), markdown(_unescape(getattr(param, "help", None) or ""))))
        if rows:
            parts.append(table(("argument or option", "default", "help"), rows) + "\n")
        if hasattr(command, "list_commands"):
            subs = command.list_commands(command_ctx)
            parts.append("Commands: " + ", ".join(f"`{name} {s}`" for s in subs) + ".\n")
    return "\n".join(parts)


# -------------------------------------------------------------------------------------------- the config


def type_name(hint: object) -> str:
    """``int``, ``float | None``, ``tuple[str, ...]``: the annotation as written in the source."""
    if isinstance(hint, type) and not typing.get_args(hint):
        return hint.__name__
    if isinstance(hint, types.UnionType):
        return " | ".join("None" if a is type(None) else type_name(a) for a in typing.get_args(hint))
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    inner = ", ".join("..." if a is Ellipsis else type_name(a) for a in args)
    return f"{origin.__name__}[{inner}]" if origin is not None else str(hint)


def _probes(hint: object) -> list[object]:
    """Values that any range, sign or choice check of a field of type ``hint`` should reject."""
    if isinstance(hint, types.UnionType):
        return [p for a in typing.get_args(hint) if a is not type(None) for p in _probes(a)]
    if hint is bool:
        return []
    if hint is int:
        return [-(10**9), 0, 1, 10**9]
    if hint is float:
        return [-1e9, -1e-9, 0.0, 1e9, math.inf, math.nan]
    if hint is str:
        return ["\x00not-a-choice"]
    if typing.get_origin(hint) is tuple:
        (element, *_) = typing.get_args(hint)
        return [(p,) for p in _probes(element)]
    return []


def allowed_values(cls: type, field: str, hint: object, section: str, error: type[Exception]) -> list[str]:
    """What ``cls``'s own checks say is allowed for ``field``: the ``is not allowed; ...`` text of each distinct
    ``error`` that an out-of-range probe of this field raises, naming this field."""
    said = []
    for probe in _probes(hint):
        try:
            cls(**{field: probe})
        except error as err:
            message = str(err)
            if message.startswith(f"{section}.{field}") and "is not allowed; " in message:
                text = message.split("is not allowed; ", 1)[1]
                if text not in said:
                    said.append(text)
        except Exception:  # a probe of another type than the check expects: no statement about the range
            continue
    return said


def field_meanings(cls: type) -> dict[str, str]:
    """Field -> meaning: the ``Attributes:`` entries of ``cls``'s docstring, else each field's trailing comment."""
    meanings: dict[str, str] = {}
    doc = inspect.getdoc(cls) or ""
    block = re.search(r"^Attributes:\n((?:[ \t]+.*\n?|\n)+)", doc, re.MULTILINE)
    if block:
        current = None
        for line in block.group(1).splitlines():
            entry = re.match(r"^  (\w+): (.*)$", line)
            if entry:
                current = entry.group(1)
                meanings[current] = entry.group(2)
            elif current and line.startswith("    "):
                meanings[current] += " " + line.strip()
    source = inspect.getsource(cls)
    for name, comment in re.findall(r"^    (\w+): [^#\n]+#\s*(.+)$", source, re.MULTILINE):
        meanings.setdefault(name, comment)
    return {name: markdown(text) for name, text in meanings.items()}


def registry_rows(registry: dict, describe: Callable[[object], str]) -> list[tuple[str, str]]:
    return [(f"`{name}`", describe(entry)) for name, entry in registry.items()]


def config_reference() -> str:
    """Markdown with one table per config section: key, type, default, allowed values, meaning."""
    from simrank.config import SECTION_TYPES
    from simrank.errors import ConfigError

    parts = []
    for section, cls in SECTION_TYPES.items():
        hints = typing.get_type_hints(cls)
        meanings = field_meanings(cls)
        summary = markdown((inspect.getdoc(cls) or "").split("\n\n")[0])
        parts.append(f"### `[{section}]`\n\n{summary}\n\nTyped and checked by `{cls.__module__}.{cls.__name__}`.\n")
        rows = []
        for f in dataclasses.fields(cls):
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
            allowed = allowed_values(cls, f.name, hints[f.name], section, ConfigError)
            rows.append(
                (
                    f"`{f.name}`",
                    f"`{type_name(hints[f.name])}`",
                    f"`{default!r}`",
                    "; ".join(allowed) if allowed else "any value of its type",
                    meanings.get(f.name, summary if len(hints) == 1 else ""),
                )
            )
        parts.append(table(("key", "type", "default", "allowed", "meaning"), rows) + "\n")
    return "\n".join(parts)


def registries_reference() -> str:
    """The kinds a config can name: samplers, losses and students, from their registries."""
    from simrank.losses import LOSS_SPECS
    from simrank.samplers import SAMPLERS
    from simrank.students import STUDENTS

    def sampler(kind) -> str:
        needs = f" (needs {', '.join(f'`sampler.{n}`' for n in kind.needs)})" if kind.needs else ""
        return kind.description + needs + ("; accepts `sampler.offset`" if kind.skips else "")

    def loss(spec) -> str:
        floor = f"T1 floor: column `{spec.floor}`" if spec.floor else "T1 floor 0"
        return f"`{spec.fn.__module__}.{spec.fn.__name__}`; {floor}; " + (
            "reads the teacher's scores" if spec.needs_teacher else "one-hot: ignores the teacher's scores"
        )

    def student(kind) -> str:
        return kind.description + ("" if kind.scores_unseen else " (cannot score unseen queries: not in sweeps)")

    return "\n".join(
        [
            "### `sampler.kind`\n",
            table(("kind", "ν_q"), registry_rows(SAMPLERS, sampler)) + "\n",
            "### `loss.name`\n",
            table(("name", "function, floor, labels"), registry_rows(LOSS_SPECS, loss)) + "\n",
            "### `student.kind`\n",
            table(("kind", "scorer"), registry_rows(STUDENTS, student)) + "\n",
        ]
    )


# --------------------------------------------------------------------------------------------- the hook


def generated(name: str) -> str:
    if name == "cli":
        from simrank.cli import app

        return cli_reference(app)
    if name == "config":
        return config_reference()
    if name == "registries":
        return registries_reference()
    raise ValueError(f"unknown generated block {name!r}; known: cli, config, registries")


def on_page_markdown(markdown: str, page, config, files) -> str:
    return MARKER.sub(lambda m: generated(m.group(1)), markdown)
