"""Bad input that is not a bug gets the error class that says so, through every front-end.

Each input is either answered (as PostgreSQL answers it, checked against the source) or refused
with one piot error of the class that names its cause (never InternalError, never a Rust panic,
a RecursionError or a traceback), before any fragment runs, with the position in the SQL where
the error is about SQL. The prompt (``piot-sql -c``) prints the same error as one line on stderr
(then the SQL line with a caret under the position).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import piot


@dataclass(frozen=True)
class Bad:
    """One bad input and the error it must raise.

    Attributes:
        name: the test id.
        sql: the query over ``lite.t``.
        error: the piot error class.
        says: text the message must contain.
        position: (line, column) the error points at, when it is about a place in the SQL.
    """

    name: str
    sql: str
    error: type[piot.Error]
    says: str
    position: tuple[int, int] | None = None


def _nested(levels: int, inner: str = "1") -> str:
    return "(" * levels + inner + ")" * levels


BAD: list[Bad] = [
    Bad("decimal_39", "SELECT CAST(1 AS DECIMAL(39, 0)) FROM lite.t", piot.NotSupportedError, "DECIMAL(39, 0)", (1, 26)),
    Bad("numeric_1000", "SELECT 1::numeric(1000, 0) FROM lite.t", piot.NotSupportedError, "at most 38 digits", (1, 19)),
    Bad("decimal_scale_past_precision", "SELECT CAST(price AS DECIMAL(5, 7)) FROM lite.t", piot.ProgrammingError, "DECIMAL(5, 7)", (1, 30)),
    Bad("date_february_30", "SELECT id FROM lite.t\nWHERE d = DATE '2024-02-30'", piot.DataError, "'2024-02-30'", (2, 16)),
    Bad("date_word", "SELECT id FROM lite.t WHERE d = DATE 'foo'", piot.DataError, "invalid DATE value 'foo'", (1, 38)),
    Bad("year_zero_as_text", "SELECT id FROM lite.t WHERE d > '0000-01-01'", piot.DataError, "'0000-01-01'", (1, 33)),
    Bad("timestamp_month_13", "SELECT id FROM lite.t WHERE ts < TIMESTAMP '2024-13-01'", piot.DataError, "invalid TIMESTAMP", (1, 44)),
    Bad("text_not_a_date", "SELECT id FROM lite.t WHERE d BETWEEN 'soon' AND '2024-03-01'", piot.DataError, "'soon'", (1, 39)),
    Bad("infinity_outside_a_comparison", "SELECT DATE 'infinity' AS x FROM lite.t", piot.NotSupportedError, "can only be compared"),
    Bad("nested_101", f"SELECT {_nested(101)} AS x FROM lite.t", piot.ProgrammingError, "nested too deeply", (1, 108)),
    Bad("nested_expressions_past_the_merge", f"SELECT {_nested(60, '1 +' * 1 + ' 1')} + {'(1 + ' * 60}1{')' * 60} AS x FROM lite.t",
        piot.NotSupportedError, "nested too deeply"),  # fmt: skip
]

#: inputs PostgreSQL answers, and so does piot: (name, piot SQL, the same question for the oracle)
ANSWERED: list[tuple[str, str, str]] = [
    ("date_with_midnight", "SELECT id FROM lite.t WHERE d = DATE '2024-01-05 00:00:00'", "SELECT id FROM t WHERE d = '2024-01-05'"),
    ("date_with_a_time", "SELECT id FROM lite.t WHERE d <= DATE '2024-02-28 23:00'", "SELECT id FROM t WHERE d <= '2024-02-28'"),
    ("nested_46", f"SELECT {_nested(46)} AS x FROM lite.t WHERE {_nested(46, 'id = 1')}", "SELECT 1 AS x FROM t WHERE id = 1"),
    ("nested_100", f"SELECT id FROM lite.t WHERE {_nested(100, 'id >= 2')}", "SELECT id FROM t WHERE id >= 2"),
    ("below_infinity", "SELECT id FROM lite.t WHERE d < 'infinity' AND d >= '-infinity'", "SELECT id FROM t WHERE d IS NOT NULL"),
]


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small SQLite table (dates as ISO text) and a catalog TOML naming it."""
    root = tmp_path_factory.mktemp("bad")
    with sqlite3.connect(root / "t.db") as db:
        db.execute("CREATE TABLE t (id INTEGER, d DATE, ts TIMESTAMP, price REAL)")
        db.executemany(
            "INSERT INTO t VALUES (?, ?, ?, ?)",
            [(1, "2024-01-05", "2024-01-05 10:00:00", 1.5), (2, "2024-02-28", "2024-02-28 00:00:00", 2.7), (3, None, None, 3.0)],
        )
    db.close()
    catalog = root / "piot.toml"
    catalog.write_text(f'[sources.lite]\nurl = "sqlite://{root / "t.db"}"\n[sources.lite.tables.t]\ndate_column = "d"\n')
    return root / "t.db", catalog


@pytest.fixture(scope="module")
def connection(source: tuple[Path, Path]) -> Any:
    conn = piot.connect(str(source[1]))
    yield conn
    conn.close()


@pytest.mark.parametrize("case", BAD, ids=[c.name for c in BAD])
def test_bad_input_raises_the_class_that_says_why(case: Bad, connection: piot.Connection, ray_session: None) -> None:
    with pytest.raises(piot.Error) as raised:
        connection.cursor().execute(case.sql).fetchall()
    assert type(raised.value) is case.error, f"{type(raised.value).__name__}: {raised.value}"
    assert case.says in str(raised.value)
    if case.position is not None:
        assert (raised.value.line, raised.value.col) == case.position


@pytest.mark.parametrize(("name", "sql", "oracle_sql"), ANSWERED, ids=[a[0] for a in ANSWERED])
def test_inputs_postgres_answers_are_answered(
    name: str, sql: str, oracle_sql: str, source: tuple[Path, Path], connection: piot.Connection, ray_session: None
) -> None:
    with sqlite3.connect(source[0]) as db:  # dates as ISO text compare as dates here
        expected = sorted(db.execute(oracle_sql).fetchall())
    db.close()
    assert sorted(connection.cursor().execute(sql).fetchall()) == expected
    assert expected, "the oracle finds rows"


HUGE = "9" * 20_000
#: errors about huge input name it without echoing it: (name, SQL)
HUGE_INPUTS = [
    ("huge_limit", f"SELECT id FROM lite.t LIMIT {HUGE}"),
    ("huge_number", f"SELECT {HUGE} AS x FROM lite.t"),
    ("huge_text_cast", f"SELECT CAST('{HUGE}' AS INTEGER) AS x FROM lite.t"),
    ("huge_name", f"SELECT x{'y' * 20_000} FROM lite.t"),
    ("huge_in_list_with_an_unknown_function", "SELECT id FROM lite.t WHERE id IN (" + ", ".join(["'zz'"] * 20_000) + ") AND nope(1) = 1"),
]


@pytest.mark.parametrize(("name", "sql"), HUGE_INPUTS, ids=[h[0] for h in HUGE_INPUTS])
def test_errors_about_huge_input_stay_short(name: str, sql: str, connection: piot.Connection, source: tuple[Path, Path], ray_session: None) -> None:
    with pytest.raises(piot.Error) as raised:
        connection.cursor().execute(sql).fetchall()
    assert len(str(raised.value)) < 2_100, str(raised.value)[:300]
    done = subprocess.run(
        [sys.executable, "-m", "piot.shell.main", "--catalog", str(source[1]), "-c", sql],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1 and done.stdout == ""
    assert len(done.stderr) < 2_400 and "Traceback" not in done.stderr, done.stderr[:300]


#: one input of each error class for the prompt (each run starts a Python process)
PROMPT = ("decimal_39", "decimal_scale_past_precision", "date_february_30", "nested_101")


@pytest.mark.parametrize("case", [c for c in BAD if c.name in PROMPT], ids=lambda c: c.name)
def test_the_prompt_prints_one_line_and_no_traceback(case: Bad, source: tuple[Path, Path]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "piot.shell.main", "--catalog", str(source[1]), "-c", case.sql],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stdout == ""
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines[0].startswith("ERROR: ") and case.says in lines[0], done.stderr
    assert len(lines) <= 3, done.stderr  # the message, then the SQL line and a caret under the position
    assert "Traceback" not in done.stderr and "panicked" not in done.stderr
