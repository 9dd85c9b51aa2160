"""SHOW SOURCES, SHOW TABLES [FROM source] and DESCRIBE source.table through the DB-API."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

import piot
from piot.dbapi.catalog_statements import CatalogStatement, parse_catalog_statement

PASSWORD = "not-shown-9f3"


@pytest.fixture()
def catalog(tmp_path: Path) -> dict[str, Any]:
    """Two SQLite sources, and a PostgreSQL-looking one whose URL carries a password (never contacted)."""
    with sqlite3.connect(tmp_path / "m.db") as db:
        db.execute("CREATE TABLE trades (id INTEGER, trade_date DATE, ts TIMESTAMP, price NUMERIC(10,2), note TEXT)")
        db.execute("CREATE TABLE quotes (id INTEGER, ts TIMESTAMP)")
    with sqlite3.connect(tmp_path / "r.db") as db:
        db.execute("CREATE TABLE symbols (symbol TEXT, listed_on DATE)")
    return {
        "sources": {
            "m": {"url": f"sqlite://{tmp_path / 'm.db'}", "tables": {"trades": {"date_column": "trade_date", "time_unit": "daily"}}},
            "r": {"url": f"sqlite://{tmp_path / 'r.db'}"},
            "pg": {"url": f"postgresql://reader:{PASSWORD}@db.invalid:5432/markets"},
        }
    }


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SHOW SOURCES", CatalogStatement("sources")),
        ("  show sources ;", CatalogStatement("sources")),
        ("SHOW TABLES", CatalogStatement("tables")),
        ("show tables from m", CatalogStatement("tables", "m")),
        ("SHOW TABLES IN r;", CatalogStatement("tables", "r")),
        ("DESCRIBE m.trades", CatalogStatement("describe", "m.trades")),
        ('desc pg.public."Orders";', CatalogStatement("describe", 'pg.public."Orders"')),
        ("select * from m.trades", None),
        ("show tables from", None),
    ],
)
def test_parse(sql: str, expected: CatalogStatement | None) -> None:
    assert parse_catalog_statement(sql) == expected


def test_show_sources_hides_passwords(catalog: dict[str, Any]) -> None:
    rows = piot.connect(catalog).cursor().execute("SHOW SOURCES").fetchall()
    assert [(name, kind) for name, kind, _ in rows] == [("m", "sqlite"), ("r", "sqlite"), ("pg", "postgres")]
    assert rows[2][2] == "postgresql://reader:***@db.invalid:5432/markets"
    assert all(PASSWORD not in str(row) for row in rows)


def test_show_tables_of_one_source_and_its_settings(catalog: dict[str, Any]) -> None:
    cursor = piot.connect(catalog).cursor()
    assert sorted(cursor.execute("SHOW TABLES FROM m").fetchall()) == [("m.quotes", None, None), ("m.trades", "trade_date", "daily")]
    assert [d[0] for d in cursor.description] == ["table", "date_column", "time_unit"]
    assert cursor.execute("show tables in r").fetchall() == [("r.symbols", None, None)]


def test_describe_gives_declared_and_answer_types(catalog: dict[str, Any]) -> None:
    rows = piot.connect(catalog).cursor().execute("DESCRIBE m.trades").fetchall()
    assert rows == [
        ("id", "INTEGER", "BIGINT", None),
        ("trade_date", "DATE", "DATE", "date column"),
        ("ts", "TIMESTAMP", "TIMESTAMP", None),
        ("price", "NUMERIC(10,2)", "DOUBLE", None),
        ("note", "TEXT", "TEXT", None),
    ]


@pytest.mark.parametrize(
    ("sql", "error", "text"),
    [
        ("SHOW TABLES FROM nope", piot.ProgrammingError, "unknown source 'nope'"),
        ("DESCRIBE m.nope", piot.ProgrammingError, "does not exist"),
        ("DESCRIBE trades", piot.ProgrammingError, "source.table"),
    ],
)
def test_errors(catalog: dict[str, Any], sql: str, error: type[Exception], text: str) -> None:
    with pytest.raises(error, match=text):
        piot.connect(catalog).cursor().execute(sql)


def test_parameters_are_refused(catalog: dict[str, Any]) -> None:
    with pytest.raises(piot.InterfaceError):
        piot.connect(catalog).cursor().execute("SHOW SOURCES", ["x"])
