"""The examples in the shell modules' docstrings hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "completer", "config", "main", "meta", "metadata", "output", "progress", "query", "raystart", "repl",
    "runner", "sink", "statements", "vocabulary",
]  # fmt: skip


@pytest.mark.parametrize("name", MODULES)
def test_module_doctests(name: str) -> None:
    module = importlib.import_module(f"piot.shell.{name}")
    assert doctest.testmod(module).failed == 0
