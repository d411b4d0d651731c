"""Where simrank's files live: the experiment configs (package data, so they ship with ``pip install``), and
the paper, figures and committed results of a source checkout.

``experiments/`` at the top of the repository is installed as the package ``simrank.experiments`` (see
``[tool.setuptools.package-dir]`` in ``pyproject.toml``), so :func:`experiments_dir` works from an editable
install, a wheel, and any working directory.
"""

from __future__ import annotations

import os
import tomllib
from importlib.resources import files
from pathlib import Path

__all__ = [
    "EMBEDDINGS_FILE",
    "FIGURES_DIR",
    "PAPER_DIR",
    "PROJECT_ROOT",
    "RESULTS_DIR",
    "data_folder",
    "default_data_dir",
    "experiments_dir",
    "list_experiments",
]

#: The source checkout holding ``paper/``, ``figures/`` and ``results/`` (the parent of the package).
PROJECT_ROOT = Path(__file__).resolve().parent.parent
PAPER_DIR = PROJECT_ROOT / "paper"
FIGURES_DIR = PROJECT_ROOT / "figures"
#: The default file of a data folder's document and query vectors (all-MiniLM-L6-v2, written by
#: ``simrank real encode``); ``--embeddings FILE`` reads another encoder's vectors in the same format.
EMBEDDINGS_FILE = "embeddings-all-MiniLM-L6-v2.npz"
#: The committed results of the paper's prediction experiments.
RESULTS_DIR = PROJECT_ROOT / "results" / "paper"


def experiments_dir() -> Path:
    """The folder of the named experiment configs (``NAME.toml``), wherever simrank is installed."""
    return Path(str(files("simrank.experiments")))


def list_experiments() -> list[tuple[str, str]]:
    """``(name, description)`` of every config in :func:`experiments_dir` (the TOML's ``description``)."""
    return [
        (p.stem, tomllib.loads(p.read_text()).get("description", "")) for p in sorted(experiments_dir().glob("*.toml"))
    ]


def default_data_dir() -> Path:
    """The real-data collection: ``$SIMRANK_DATA`` if set, else ``<checkout>/../shared/data/scifact``."""
    env = os.environ.get("SIMRANK_DATA")
    if env:
        return Path(env)
    return PROJECT_ROOT.parent / "shared" / "data" / "scifact"


def data_folder(given: Path | None) -> Path:
    """The real-data folder a command reads: ``given`` (its ``--data``) or :func:`default_data_dir`.

    Raises:
      ConfigError: when the folder does not exist, naming it and the two ways to set it.
    """
    from simrank.errors import ConfigError

    folder = Path(given) if given is not None else default_data_dir()
    if not folder.is_dir():
        source = "--data" if given is not None else ("$SIMRANK_DATA" if os.environ.get("SIMRANK_DATA") else "default")
        raise ConfigError(
            f"data folder {str(folder)!r} ({source}) does not exist; set it with --data DIR or the SIMRANK_DATA "
            "environment variable (a BEIR folder: corpus.jsonl, queries.jsonl, qrels/)"
        )
    return folder
