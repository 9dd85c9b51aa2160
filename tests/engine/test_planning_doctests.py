"""The examples in the docstrings of piot's modules run, and say what the modules do.

Every module of the pure stages (sql, plan, merge) shows at least one example; the other
modules' examples, where they have some, run too.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import piot

PURE_STAGES = ("piot.sql.", "piot.plan.", "piot.merge.")
MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(piot.__path__, prefix="piot.")
    if not m.ispkg and not m.name.startswith(("piot.shell", "piot.connectors"))
)


def test_the_stages_are_found() -> None:
    assert {m.rsplit(".", 1)[0] for m in MODULES} >= {"piot.sql", "piot.plan", "piot.run", "piot.merge", "piot.dbapi"}


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), verbose=False)
    assert result.failed == 0
    if name.startswith(PURE_STAGES):
        assert result.attempted > 0, f"{name} has no examples"
