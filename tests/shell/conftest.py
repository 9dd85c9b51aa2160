"""Fixtures of the prompt tests: a small catalog, and a home directory of their own."""

from __future__ import annotations

from pathlib import Path

import pytest
from repl_kit import write_sources


@pytest.fixture(scope="session")
def small_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two tiny SQLite sources and their catalog (shared, never written to by tests)."""
    return write_sources(tmp_path_factory.mktemp("sources"))


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME points at an empty temporary folder, so no test reads or writes the user's config or history."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    monkeypatch.delenv("PIOT_CONFIG", raising=False)
    monkeypatch.delenv("PIOT_CATALOG", raising=False)
    return folder
