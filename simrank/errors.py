"""One error type for bad user input, and the checks that raise it with a one-line message."""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = ["ConfigError", "check_choice", "check_nonnegative", "check_positive", "check_range"]


class ConfigError(ValueError):
    """Bad user input: the message is one line naming the bad value and what is allowed."""


def check_choice(name: str, value: object, allowed: Iterable) -> None:
    """Require ``value ∈ allowed``.

    Args:
      name: the setting's name as the user writes it (``"sampler.kind"``).
      value: the value given.
      allowed: the allowed values.

    Raises:
      ConfigError: naming the value and listing the allowed ones.

    Examples:
      >>> check_choice("train.optimizer", "adagrad", ("adam", "sgd"))
      Traceback (most recent call last):
      ...
      simrank.errors.ConfigError: train.optimizer = 'adagrad' is not allowed; choose one of adam, sgd
    """
    allowed = tuple(allowed)
    if value not in allowed:
        raise ConfigError(f"{name} = {value!r} is not allowed; choose one of {', '.join(map(str, allowed))}")


def check_positive(name: str, value: object) -> None:
    """Require a finite number ``value > 0`` (int or float).

    Args:
      name: the setting's name.
      value: the value given.

    Raises:
      ConfigError: naming the value and the rule.
    """
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} = {value!r} is not allowed; it must be a finite number > 0")


def check_range(name: str, value: object, low: float, high: float) -> None:
    """Require a number ``low ≤ value ≤ high``.

    Args:
      name: the setting's name.
      value: the value given.
      low: smallest allowed value.
      high: largest allowed value.

    Raises:
      ConfigError: naming the value and the interval.
    """
    if not isinstance(value, (int, float)) or not (low <= value <= high):
        raise ConfigError(f"{name} = {value!r} is not allowed; it must lie in [{low}, {high}]")


def check_nonnegative(name: str, value: object) -> None:
    """Require a finite number ``value ≥ 0`` (int or float).

    Args:
      name: the setting's name.
      value: the value given.

    Raises:
      ConfigError: naming the value and the rule.
    """
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ConfigError(f"{name} = {value!r} is not allowed; it must be a finite number >= 0")
