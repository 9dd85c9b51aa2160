"""The examples in the docstrings of the planning modules run, and say what the modules do."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "piot.filters",
    "piot.normalize",
    "piot.merge_semantics",
    "piot.merge_dialect",
    "piot.planner",
    "piot.tables",
    "piot.execute",
    "piot.zones",
    "piot.timefold",
    "piot.periods",
    "piot.fragments",
    "piot.statement",
    "piot.exactness",
    "piot.merge",
    "piot.policy",
    "piot.statistics",
    "piot.literals",
    "piot.nesting",
    "piot.type_limits",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), verbose=False)
    assert result.failed == 0
    assert result.attempted > 0, f"{name} has no examples"
