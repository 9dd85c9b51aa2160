"""Test data and database helpers shared by the ``test_lazy_*`` modules (this module has no tests).

One deterministic trades table (Dec 2023 to Apr 2024, three rows a day: at midnight,
mid-day with microseconds, and at 23:59:59.999999, plus rows with NULL dates) is loaded
alike into SQLite, PostgreSQL and MariaDB under a table name unique to the test session,
and dropped at the end. The Python rows themselves are the typed oracle.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import connectorx
import polars as pl
import pytest
from corpus_data import process_alive
from polars.testing import assert_frame_equal

from piot.connectors.catalog import load_catalog
from piot.connectors.read import read_arrow

COLUMNS = ("id", "date", "ts", "symbol", "price", "qty")
SCHEMA = {"id": pl.Int64, "date": pl.Date, "ts": pl.Datetime("us"), "symbol": pl.String, "price": pl.Float64, "qty": pl.Int64}
SYMBOLS = ("AAA", "aaa", "BBB", "O'Neil", None, "a\\b", "ZZ ", "été")
_DDL_TYPES = {
    "sqlite": ("INTEGER", "DATE", "TIMESTAMP", "TEXT", "REAL", "INTEGER"),
    "postgres": ("INTEGER", "DATE", "TIMESTAMP", "VARCHAR(20)", "DOUBLE PRECISION", "BIGINT"),
    "mysql": ("INTEGER", "DATE", "DATETIME(6)", "VARCHAR(20)", "DOUBLE", "BIGINT"),
}


def trade_rows() -> list[tuple[Any, ...]]:
    """The rows, as Python values: (id, date, ts, symbol, price, qty)."""
    rows: list[tuple[Any, ...]] = []
    day = date(2023, 12, 28)
    while day <= date(2024, 4, 3):
        for moment in (time(), time(13, 30, 0, 250000), time(23, 59, 59, 999999)):
            n = len(rows)
            price = None if n % 11 == 5 else round(100 + (n * 7919 % 1000) / 10, 2)
            rows.append((n + 1, day, datetime.combine(day, moment), SYMBOLS[n % len(SYMBOLS)], price, n * 37 % 500))
        day += timedelta(days=1)
    n = len(rows)
    rows.append((n + 1, None, None, "AAA", 1.0, 1))
    rows.append((n + 2, None, datetime(2024, 2, 1, 9), "BBB", 2.0, 2))
    return rows


def expected(rows: Sequence[tuple[Any, ...]] | None = None) -> pl.DataFrame:
    """The rows as a typed Polars frame."""
    return pl.DataFrame(list(rows if rows is not None else trade_rows()), schema=SCHEMA, orient="row")


def unique_table() -> str:
    """A table name no other concurrent test session uses."""
    return f"piot_lazy_trades_{os.getpid()}_{secrets.token_hex(3)}"


@dataclass(frozen=True)
class TradesDb:
    """The trades table in one database."""

    kind: str
    url: str
    table: str

    def sql(self, query: str) -> pl.DataFrame:
        """Run ``query`` on the database itself (the oracle), through piot's connectorx reader."""
        source = load_catalog({"sources": {"oracle": {"url": self.url}}}).source("oracle")
        frame = pl.from_arrow(read_arrow(source, query))
        assert isinstance(frame, pl.DataFrame)
        return frame


def sql_literal(value: Any, kind: str, *, zero_fraction: bool = False) -> str:
    """A test value as an SQL literal for ``kind``; ``zero_fraction`` writes ``.000000`` on whole seconds
    (the SQLite text-compare trap)."""
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        whole = not value.microsecond and not zero_fraction
        return f"'{value.isoformat(' ', timespec='seconds' if whole else 'microseconds')}'"
    if isinstance(value, date):
        return f"'{value.isoformat()}'"
    if isinstance(value, str):
        text = value.replace("\\", "\\\\") if kind == "mysql" else value
        return "'" + text.replace("'", "''") + "'"
    return repr(value)


def load_script(kind: str, table: str, rows: Sequence[tuple[Any, ...]]) -> str:
    """DDL and INSERTs for ``rows`` in ``kind``'s SQL."""
    columns = ", ".join(f"{name} {sql_type}" for name, sql_type in zip(COLUMNS, _DDL_TYPES[kind]))
    values = ",\n".join("(" + ", ".join(sql_literal(v, kind) for v in row) + ")" for row in rows)
    return f"DROP TABLE IF EXISTS {table};\nCREATE TABLE {table} ({columns});\nINSERT INTO {table} VALUES\n{values};\n"


def run_script(kind: str, url: str, script: str) -> None:
    """Run an SQL script on a SQLite file, PostgreSQL (psql) or MariaDB (mysql client)."""
    if kind == "sqlite":
        with sqlite3.connect(url.removeprefix("sqlite://")) as connection:
            connection.executescript(script)
        return
    parts = urlsplit(url)
    env = dict(os.environ)
    if kind == "postgres":
        args = [shutil.which("psql") or "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url]
    else:
        args = [shutil.which("mariadb") or shutil.which("mysql") or "mysql", "--protocol=tcp"]
        args += ["-h", parts.hostname or "127.0.0.1", "-P", str(parts.port or 3306), "-u", unquote(parts.username or "root")]
        args.append(parts.path.lstrip("/"))
        if parts.password:
            env["MYSQL_PWD"] = unquote(parts.password)
    if shutil.which(args[0]) is None:
        pytest.skip(f"the {kind} command-line client is not installed")
    done = subprocess.run(args, input=script, text=True, capture_output=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[:2000]


def drop_orphan_tables(kind: str, url: str) -> None:
    """Drop trades tables left by test runs on this machine that were killed before cleaning up."""
    where = "table_schema = current_schema()" if kind == "postgres" else "table_schema = DATABASE()"
    sql = f"SELECT table_name AS name FROM information_schema.tables WHERE {where} AND table_name LIKE 'piot_lazy_trades_%'"
    for name in connectorx.read_sql(url, sql, return_type="arrow").column(0).to_pylist():
        pid = str(name).split("_")[3]
        if pid.isdigit() and not process_alive(int(pid)):
            run_script(kind, url, f"DROP TABLE IF EXISTS {name};")


def make_db(kind: str, url: str, rows: Sequence[tuple[Any, ...]] | None = None) -> Iterator[TradesDb]:
    """Load the trades into a fresh table, yield it, drop it."""
    if kind != "sqlite":
        drop_orphan_tables(kind, url)
    db = TradesDb(kind, url, unique_table())
    run_script(kind, url, load_script(kind, db.table, rows if rows is not None else trade_rows()))
    try:
        yield db
    finally:
        run_script(kind, url, f"DROP TABLE IF EXISTS {db.table};")


@pytest.fixture(scope="session")
def sqlite_trades(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TradesDb]:
    """The trades in a SQLite file (ISO text under DATE / TIMESTAMP)."""
    path: Path = tmp_path_factory.mktemp("lazy") / "trades.db"
    yield from make_db("sqlite", f"sqlite://{path}")


@pytest.fixture(scope="session")
def pg_trades(pg_url: str) -> Iterator[TradesDb]:
    """The trades in PostgreSQL."""
    yield from make_db("postgres", pg_url)


@pytest.fixture(scope="session")
def mysql_trades(mysql_url: str) -> Iterator[TradesDb]:
    """The trades in MariaDB."""
    yield from make_db("mysql", mysql_url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), pytest.param("mysql", marks=pytest.mark.mariadb)])
def trades(request: pytest.FixtureRequest) -> TradesDb:
    """The trades table in each of the three databases in turn."""
    name = {"sqlite": "sqlite_trades", "postgres": "pg_trades", "mysql": "mysql_trades"}[request.param]
    return request.getfixturevalue(name)


def assert_same_rows(actual: pl.DataFrame, wanted: pl.DataFrame) -> None:
    """Equal up to row order and integer width: same columns, same rows."""
    assert actual.columns == wanted.columns
    by = list(actual.columns)
    left = actual.cast({c: wanted.schema[c] for c in by}).sort(by, nulls_last=True)
    right = wanted.sort(by, nulls_last=True)
    assert_frame_equal(left, right)


def quote(name: str, kind: str) -> str:
    """An identifier as piot writes it for ``kind``."""
    return f"`{name}`" if kind == "mysql" else f'"{name}"'
