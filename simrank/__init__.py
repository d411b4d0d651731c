"""simrank: theory of ranking distillation, checked by code."""

__version__ = "0.1.0"
