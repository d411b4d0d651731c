"""One error type for bad user input, and the checks that raise it with a one-line message."""

from __future__ import annotations

import math
from collections.abc import Iterable


class ConfigError(ValueError):
    """Bad user input: the message is one line naming the bad value and what is allowed."""


def check_choice(name: str, value, allowed: Iterable) -> None:
    allowed = tuple(allowed)
    if value not in allowed:
        raise ConfigError(f"{name} = {value!r} is not allowed; choose one of {', '.join(map(str, allowed))}")


def check_positive(name: str, value) -> None:
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} = {value!r} is not allowed; it must be a finite number > 0")


def check_range(name: str, value, low: float, high: float) -> None:
    if not isinstance(value, (int, float)) or not (low <= value <= high):
        raise ConfigError(f"{name} = {value!r} is not allowed; it must lie in [{low}, {high}]")


def check_nonnegative(name: str, value) -> None:
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ConfigError(f"{name} = {value!r} is not allowed; it must be a finite number >= 0")
