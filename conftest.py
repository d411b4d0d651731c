"""Collection settings for the doctests of the ``simrank`` package (pytest runs with ``--doctest-modules``)."""

from importlib.util import find_spec

# Importing __main__ runs the CLI.
collect_ignore = ["simrank/__main__.py"]

# The real-data modules import the `real` extra (bm25s, ir_measures) at module level; without it, skip their doctests.
if find_spec("bm25s") is None or find_spec("ir_measures") is None:
    collect_ignore_glob = ["simrank/real/*"]
