"""The package ``simrank.theory`` re-exports every public name of its submodules, lazily."""

import importlib

import pytest

import simrank.theory as theory


@pytest.mark.parametrize("module", sorted(theory.EXPORTS))
def test_exports_are_the_submodules_public_names(module):
    """``EXPORTS`` lists exactly each submodule's ``__all__``, and ``simrank.theory.X`` is the submodule's ``X``."""
    sub = importlib.import_module(f"simrank.theory.{module}")
    assert sorted(theory.EXPORTS[module]) == sorted(sub.__all__)
    assert all(getattr(theory, name) is getattr(sub, name) for name in sub.__all__)


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'kappa_etta'"):
        theory.kappa_etta  # noqa: B018


def test_every_export_is_listed_once():
    names = [name for names in theory.EXPORTS.values() for name in names]
    assert len(names) == len(set(names)) and set(theory.__all__) == {"EXPORTS", *names}
