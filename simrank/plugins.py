"""Extension points: register your own samplers, losses and students, and use them from a TOML config.

The registries are :data:`simrank.samplers.SAMPLERS` (``[sampler] kind``), :data:`simrank.losses.LOSS_SPECS`
(``[loss] name``, ``"loss.name"`` in a grid) and :data:`simrank.students.STUDENTS` (``[student] kind``). A plugin
is a Python module that calls :func:`register_sampler`, :func:`register_loss` or :func:`register_student`
(or :func:`register`) when imported. The command line imports plugins given as ``simrank run --plugin MODULE``
(a module name importable from the working directory, or a ``.py`` file; repeatable) and every module
advertised under the entry-point group ``simrank.plugins`` (:data:`ENTRY_POINT_GROUP`) by an installed
package, before it reads the config. A worked example: ``docs/extending.md``.

Plugins register in the process that imports them: run them with ``--executor local`` or ``reference``
(Dask workers import only the entry-point plugins if they call :func:`load_plugins`).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Iterable
from importlib.metadata import entry_points
from pathlib import Path

from simrank.errors import ConfigError, check_choice

__all__ = [
    "ENTRY_POINT_GROUP",
    "KINDS",
    "load_plugins",
    "register",
    "register_loss",
    "register_sampler",
    "register_student",
]

#: The entry-point group an installed package uses to advertise its plugin modules (``pyproject.toml``:
#: ``[project.entry-points."simrank.plugins"] mine = "my_package.simrank_plugin"``).
ENTRY_POINT_GROUP = "simrank.plugins"
#: kind -> (module, registry name, the spec class a registered object must be).
KINDS = {
    "sampler": ("simrank.samplers", "SAMPLERS", "SamplerKind"),
    "loss": ("simrank.losses", "LOSS_SPECS", "LossSpec"),
    "student": ("simrank.students", "STUDENTS", "StudentKind"),
}


def register(kind: str, name: str, spec: object, *, replace: bool = False) -> object:
    """Add ``spec`` to the registry of ``kind`` under ``name``: ``REGISTRY[name] = spec``.

    Args:
      kind: ``"sampler"``, ``"loss"`` or ``"student"`` (:data:`KINDS`).
      name: the name a config uses (``[sampler] kind = name``, ``[loss] name = name``, ``[student] kind = name``).
      spec: a :class:`~simrank.samplers.SamplerKind`, :class:`~simrank.losses.LossSpec` or
        :class:`~simrank.students.StudentKind`.
      replace: allow replacing a different spec already registered under ``name`` (built-ins included).

    Returns:
      ``spec``.

    Raises:
      ConfigError: an unknown kind, a spec of the wrong type, or a name taken by another spec.

    Examples:
      >>> from simrank.samplers import SAMPLERS, SamplerKind, Uniform
      >>> spec = register("sampler", "my_uniform", SamplerKind(lambda c: Uniform(), description="ν = 1/N"))
      >>> SAMPLERS["my_uniform"] is spec
      True
      >>> register("sampler", "local", spec)
      Traceback (most recent call last):
      ...
      simrank.errors.ConfigError: sampler 'local' is already registered; pass replace=True to replace it
      >>> del SAMPLERS["my_uniform"]
    """
    check_choice("kind", kind, KINDS)
    module_name, registry_name, spec_name = KINDS[kind]
    module = importlib.import_module(module_name)
    registry, spec_type = getattr(module, registry_name), getattr(module, spec_name)
    if not isinstance(spec, spec_type):
        raise ConfigError(f"register({kind!r}, {name!r}, ...) needs a {spec_name}, got {type(spec).__name__}")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"register({kind!r}, {name!r}, ...): the name must be a non-empty string")
    if registry.get(name, spec) is not spec and not replace:
        raise ConfigError(f"{kind} {name!r} is already registered; pass replace=True to replace it")
    registry[name] = spec
    if kind == "loss":
        module.LOSSES[name] = spec.fn  # the name -> function view of LOSS_SPECS
    return spec


def register_sampler(
    name: str,
    build: Callable,
    needs: tuple[str, ...] = (),
    description: str = "",
    *,
    skips: bool = False,
    replace: bool = False,
) -> object:
    """Register a sampler kind: ``build(config: SamplerConfig) -> Sampler`` (an object with
    ``distribution(ctx) -> ν [n_queries, N]``); ``needs``: the ``[sampler]`` options it requires; ``skips``: it
    accepts ``sampler.offset``. Returns the :class:`~simrank.samplers.SamplerKind`."""
    from simrank.samplers import SamplerKind

    return register("sampler", name, SamplerKind(build, tuple(needs), description, skips), replace=replace)


def register_loss(
    name: str,
    fn: Callable,
    *,
    floor: str | None = None,
    needs_teacher: bool = True,
    pairwise: bool = False,
    replace: bool = False,
) -> object:
    """Register a loss ``fn(f, g, *, tau, where=None, weights=None, reduce_fn=None) -> [...]`` per list (student
    scores ``f``, teacher scores ``g``, item 0 the positive); ``floor``: the results column holding its T1 risk
    floor (one of :data:`simrank.losses.FLOOR_COLUMNS`). Returns the :class:`~simrank.losses.LossSpec`."""
    from simrank.losses import FLOOR_COLUMNS, LossSpec

    check_choice("floor", floor, FLOOR_COLUMNS)
    return register("loss", name, LossSpec(fn, floor, needs_teacher, pairwise), replace=replace)


def register_student(
    name: str, build: Callable, *, scores_unseen: bool = True, description: str = "", replace: bool = False
) -> object:
    """Register a student kind: ``build(config: StudentConfig, dim, n_queries, n_docs) -> Student``;
    ``scores_unseen``: it can score queries it was not trained on (needed in a sweep). Returns the
    :class:`~simrank.students.StudentKind`."""
    from simrank.students import StudentKind

    return register("student", name, StudentKind(build, scores_unseen, description), replace=replace)


def _import(plugin: str) -> None:
    if plugin.endswith(".py"):
        path = Path(plugin)
        if not path.is_file():
            raise ConfigError(f"--plugin {plugin}: file not found")
        spec = importlib.util.spec_from_file_location(f"simrank_plugin_{path.stem}", path)
        if spec is None or spec.loader is None:
            raise ConfigError(f"--plugin {plugin}: not importable as a Python file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        return
    if "" not in sys.path and str(Path.cwd()) not in sys.path:  # a module beside the config, as `python -m` finds it
        sys.path.insert(0, str(Path.cwd()))
    try:
        importlib.import_module(plugin)
    except ModuleNotFoundError as err:
        raise ConfigError(f"--plugin {plugin}: no module named {err.name!r} (a module name or a .py file)") from None


def load_plugins(modules: Iterable[str] = (), use_entry_points: bool = True) -> list[str]:
    """Import the plugin ``modules`` (names or ``.py`` paths), then every entry point of :data:`ENTRY_POINT_GROUP`
    (an entry point naming a callable is called with no arguments). Returns what was loaded, in order."""
    loaded = []
    for plugin in modules:
        _import(plugin)
        loaded.append(plugin)
    if use_entry_points:
        for point in entry_points(group=ENTRY_POINT_GROUP):
            obj = point.load()
            if callable(obj):
                obj()
            loaded.append(f"{point.name} = {point.value}")
    return loaded
