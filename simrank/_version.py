"""The package version, importable by every module without touching the package root."""

__version__ = "0.2.0"
