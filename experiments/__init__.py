"""The named experiment configs, installed as package data ``simrank.experiments`` (see simrank.paths)."""
