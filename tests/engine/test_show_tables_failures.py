"""``SHOW TABLES`` and the prompt's ``\\dt`` with a source that cannot answer: it is named in one line, the others answer."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import piot


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two SQLite sources that answer and one whose file does not exist."""
    root = tmp_path_factory.mktemp("listing")
    for name in ("a", "b"):
        with sqlite3.connect(root / f"{name}.db") as db:
            db.execute(f"CREATE TABLE t_{name} (d DATE)")
    path = root / "piot.toml"
    path.write_text(
        '[sources.a]\nurl = "sqlite://a.db"\n[sources.broken]\nurl = "sqlite:///nonexistent/piot/broken.db"\n[sources.b]\nurl = "sqlite://b.db"\n'
    )
    return path


def test_show_tables_answers_for_the_sources_that_answer_and_names_the_one_that_fails(catalog: Path) -> None:
    with piot.connect(str(catalog)) as conn:
        cursor = conn.cursor()
        rows = cursor.execute("SHOW TABLES").fetchall()
        assert sorted(row[0] for row in rows) == ["a.t_a", "b.t_b"]
        assert [(cls, str(warning).split(":")[0]) for cls, warning in cursor.messages] == [(piot.Warning, "source 'broken'")]
        assert "\n" not in str(cursor.messages[0][1])
        cursor.execute("SHOW TABLES FROM a")
        assert cursor.messages == []
        cursor.execute("SHOW TABLES FROM broken")
        assert cursor.fetchall() == [] and len(cursor.messages) == 1


@pytest.mark.parametrize("command", ["SHOW TABLES", "\\dt"])
def test_the_prompt_lists_the_others_and_reports_the_failing_source_in_one_line(catalog: Path, command: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "piot.shell.main", "--catalog", str(catalog), "--format", "csv", "-c", command],
        capture_output=True, text=True, timeout=120,
    )
    assert "a.t_a" in done.stdout and "b.t_b" in done.stdout
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "source 'broken'" in lines[0], done.stderr
    assert "Traceback" not in done.stderr
