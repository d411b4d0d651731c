"""The documentation's own checks: Args/Returns on the public API, the site's index built from the README, the
generated CLI and config references, the results schema against a real run, and an API page for every public
module."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
import sys
from pathlib import Path

import pandas as pd
import pytest
import typer.main
import yaml

from simrank.cli import app
from simrank.config import SECTION_TYPES, load_experiment
from simrank.sweep import run_experiment

from tiny import tiny_config

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "hooks"))
import reference  # noqa: E402  (docs/hooks/reference.py, the mkdocs hook that generates the reference pages)
import rst  # noqa: E402

sys.path.pop(0)
MODULES = ("world", "teacher", "samplers", "groups", "losses", "students", "measures", "trainer", "errors")

# Public functions still without an Args section (a ratchet: remove a name once its docstring has one).
MISSING_ARGS = {"losses.get_loss", "losses.get_loss_spec", "students.StudentConfig.build"}


def public_functions():
    """(qualified name, function) for every function and method exported by ``__all__`` of MODULES."""
    for module_name in MODULES:
        module = importlib.import_module(f"simrank.{module_name}")
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                yield f"{module_name}.{name}", obj
            elif inspect.isclass(obj):
                if not inspect.getdoc(obj):
                    yield f"{module_name}.{name}", obj
                for attr, member in vars(obj).items():
                    if not attr.startswith("_") and inspect.isfunction(member):
                        yield f"{module_name}.{name}.{attr}", member


@pytest.mark.parametrize("module_name", MODULES)
def test_every_module_declares_all(module_name):
    module = importlib.import_module(f"simrank.{module_name}")
    assert all(hasattr(module, name) for name in module.__all__)
    defined_here = {
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (inspect.isfunction(obj) or inspect.isclass(obj))
        and obj.__module__ == module.__name__
    }
    assert defined_here <= set(module.__all__), sorted(defined_here - set(module.__all__))


def test_public_functions_document_args_and_returns():
    missing = []
    for name, fn in public_functions():
        doc = inspect.getdoc(fn) or ""
        if not doc:
            missing.append(f"{name}: no docstring")
            continue
        if inspect.isclass(fn):
            continue
        signature = inspect.signature(fn)
        has_params = any(p not in ("self", "cls") for p in signature.parameters)
        if has_params and "Args:" not in doc and name not in MISSING_ARGS:
            missing.append(f"{name}: no Args section")
        if name in MISSING_ARGS and "Args:" in doc:
            missing.append(f"{name}: documented now, remove it from MISSING_ARGS")
    assert not missing, "\n".join(missing)


def test_functions_with_args_document_returns():
    """A documented function that returns something says what, with its shape, under Returns (or Raises)."""
    missing = []
    for name, fn in public_functions():
        doc = inspect.getdoc(fn) or ""
        returns_none = inspect.signature(fn).return_annotation in (None, "None")
        if "Args:" in doc and not returns_none and "Returns:" not in doc:
            missing.append(name)
    assert not missing, missing


def test_index_page_is_the_readme_opening():
    sys.path.insert(0, str(ROOT / "docs" / "hooks"))
    try:
        from readme_sections import readme_sections
    finally:
        sys.path.pop(0)
    readme = "# proj\n\nIntro, see [the paper](paper/x.md) and [rax](https://github.com/google/rax).\n\n"
    readme += "## Quick start\n\nrun it\n\n## Details\n\nlong\n\n## The pipeline\n\nworld -> measures\n"
    page = readme_sections(readme)
    assert page.startswith("# proj\n\nIntro, see the paper and [rax](https://github.com/google/rax).")
    assert "## Quick start\n\nrun it" in page and "## The pipeline" in page and "## Details" not in page
    with pytest.raises(ValueError, match="none of the sections"):
        readme_sections("# proj\n\n## Other\n")
    real = readme_sections((ROOT / "README.md").read_text(encoding="utf-8"))
    assert "## Quick start" in real and "## The pipeline" in real


# ------------------------------------------------------------------------------------------ reference pages


def all_commands():
    """(full name, click command, context) for every command of the app, the root included."""
    root = typer.main.get_command(app)
    yield from reference._commands(root, root.make_context("simrank", [], resilient_parsing=True), "simrank")


def test_cli_reference_lists_every_command_and_option():
    page = reference.cli_reference(app)
    names = [name for name, _, _ in all_commands()]
    assert {"simrank run", "simrank theory check", "simrank real confirm", "simrank advise validate"} <= set(names)
    for name, command, ctx in all_commands():
        heading = re.search(rf"^#+ `{re.escape(name)}`\n", page, re.MULTILINE)
        assert heading, name
        section = page[heading.end() :].split("\n#", 1)[0]
        for param in command.params:
            record = param.get_help_record(ctx)
            if record is not None:
                assert f"`{record[0]}`" in section, (name, record[0])


def test_cli_reference_states_defaults():
    page = reference.cli_reference(app)
    run = page.split("### `simrank run`")[1].split("\n#")[0]
    assert "| `--executor <str>` | `local` |" in run
    assert "| `--progress / --no-progress` | `--progress` |" in run
    assert "| `--quick` | off |" in run and "| `experiment <str>` | required |" in run
    assert "\\[" not in page, "typer's markup escape leaked into the page"


def config_rows() -> dict[str, dict[str, list[str]]]:
    """Section -> key -> the cells of its row, parsed back from the generated config reference."""
    page = reference.config_reference()
    rows: dict[str, dict[str, list[str]]] = {}
    for block in page.split("### ")[1:]:
        section = re.match(r"`\[(\w+)\]`", block).group(1)
        cells = [line.strip("|").split(" | ") for line in block.splitlines() if line.startswith("| `")]
        rows[section] = {c[0].strip(" `"): [x.strip() for x in c[1:]] for c in cells}
    return rows


def test_config_reference_has_every_section_and_field_with_a_meaning():
    rows = config_rows()
    assert list(rows) == list(SECTION_TYPES)
    for section, cls in SECTION_TYPES.items():
        fields = [f.name for f in dataclasses.fields(cls)]
        assert list(rows[section]) == fields, section
        for key, (type_, default, allowed, meaning) in rows[section].items():
            assert type_.startswith("`") and default.startswith("`") and allowed, (section, key)
            assert meaning, f"{section}.{key} has no meaning: add it under Attributes: in {cls.__name__}'s docstring"


def test_config_reference_quotes_the_checks():
    """Known answers: the allowed values are what the dataclasses' checks say, and an unchecked field says so."""
    rows = config_rows()
    assert rows["sampler"]["eta"][2] == "it must lie in [0.0, 1.0]"
    assert rows["world"]["geometry"][2] == "choose one of isotropic, cone, clustered"
    assert rows["teacher"]["tau"][2] == "it must be a finite number > 0"
    assert rows["data"]["match_entropy"][2] == "it must lie in [0, log 2) nats (0 = off)"
    assert "it must be an integer >= 2" in rows["data"]["group_size"][2]
    assert rows["world"]["sphere"][2] == "any value of its type"
    assert rows["world"]["grade_quantiles"][:2] == ["`tuple[float, ...]`", "`(0.99, 0.995, 0.999)`"]
    assert rows["sampler"]["pool_size"][:2] == ["`int \\| None`", "`None`"]


def test_config_page_documents_every_top_level_key():
    from simrank.config import SECTIONS, TOP_LEVEL

    page = (ROOT / "docs" / "reference" / "config.md").read_text(encoding="utf-8")
    for key in TOP_LEVEL - set(SECTIONS):
        assert f"| `{key}` |" in page or f"| `[{key}]` |" in page, key


def test_generated_markers_resolve():
    for page in (ROOT / "docs").rglob("*.md"):
        for name in reference.MARKER.findall(page.read_text(encoding="utf-8")):
            assert reference.generated(name).strip(), (page, name)
    with pytest.raises(ValueError, match="unknown generated block"):
        reference.generated("nope")


def schema_columns() -> list[str]:
    page = (ROOT / "docs" / "reference" / "results.md").read_text(encoding="utf-8")
    return re.findall(r"^\| `(\w+)` \|", page, re.MULTILINE)


def test_results_schema_is_what_a_real_run_writes(tmp_path):
    """Every column of a real (tiny) run's results.parquet is documented, in order, and nothing else is."""
    config = tmp_path / "tiny.toml"
    config.write_text(tiny_config(seeds=1, steps=2, losses=("kl",)))
    exp = load_experiment(str(config))
    run_experiment(exp, tmp_path / "out", progress=False)
    written = list(pd.read_parquet(tmp_path / "out" / "results.parquet").columns)
    assert schema_columns() == written


def test_readme_names_every_results_column_in_order():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    paragraph = readme.split("### Results schema")[1].split("\n\n")[1]
    named = [c for c in re.findall(r"`(\w+)`", paragraph) if c in schema_columns()]
    assert named == schema_columns()


# ------------------------------------------------------------------------------------------------ API pages


def public_modules() -> list[str]:
    """Every importable public module of simrank (no part of its dotted name starts with ``_``)."""
    modules = []
    for path in sorted((ROOT / "simrank").rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if not any(p.startswith("_") for p in parts):
            modules.append(".".join(parts))
    return modules


def test_every_public_module_has_an_api_page_in_the_nav():
    directives = set()
    pages = sorted((ROOT / "docs" / "api").glob("*.md"))
    for page in pages:
        directives |= set(re.findall(r"^::: ([\w.]+)$", page.read_text(encoding="utf-8"), re.MULTILINE))
    assert set(public_modules()) - directives == set()
    assert directives - set(public_modules()) == set()
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8").split("\nnav:")[1].split("\n\n")[0]
    listed = set(re.findall(r"(api/\w+\.md|reference/\w+\.md)", nav))
    assert {f"api/{p.name}" for p in pages} | {
        f"reference/{p.name}" for p in (ROOT / "docs/reference").glob("*.md")
    } == listed


def test_mkdocs_config_names_existing_hooks():
    config = yaml.safe_load(
        (ROOT / "mkdocs.yml").read_text(encoding="utf-8").replace("!ENV [SIMRANK_DOCS_EXECUTE, true]", "true")
    )
    for hook in config["hooks"]:
        assert (ROOT / hook).exists(), hook


def test_docstring_markdown():
    assert rst.markdown("see :func:`~simrank.losses.lce` and :math:`x_1..x_n`::") == "see `lce` and `x_1..x_n`:"
    assert rst.markdown(":class:`simrank.world.World`") == "`simrank.world.World`"


def test_returns_items_stay_free_text():
    """A ':' in a Returns item's first line would be read as 'type: description'; such lines are marked."""
    doc = "Sum.\n\nReturns:\n  ``{a}`` (``a``: the sum) as\n    floats: more.\n\nExamples:\n  >>> f(1): 2\n"
    assert rst.free_text_returns(doc) == doc.replace("  ``{a}``", "  : ``{a}``")
    plain = "Sum.\n\nReturns:\n  the sum.\n"
    assert rst.free_text_returns(plain) == plain
