"""Corpus fixtures: the same trades and symbols tables in SQLite, PostgreSQL and MariaDB.

Each server gets a database of its own for the test session (so that concurrent sessions do
not drop each other's tables), created once and dropped at the end; every suite that
needs server tables (corpus, joins, TPC-H) creates them in that database under its own names.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import connectorx
import pytest
import sqlglot
from corpus_data import (
    SYMBOLS,
    TRADES,
    Answer,
    CliMissing,
    CorpusSource,
    answer_from_arrow,
    answer_from_rows,
    duckdb_oracle,
    load_script,
    process_alive,
    run_cli,
    write_sqlite,
)

import piot


def mysql_oracle_sql(sql: str) -> str:
    """The PostgreSQL-dialect ``sql`` for MariaDB, keeping microseconds in timestamp literals.

    sqlglot writes ``CAST(x AS DATETIME)``, which MariaDB truncates to whole seconds.
    """
    return re.sub(r"\bAS DATETIME\)", "AS DATETIME(6))", sqlglot.transpile(sql, read="postgres", write="mysql")[0])


def _with_database(url: str, database: str) -> str:
    return urlsplit(url)._replace(path="/" + database).geturl()


def _session_database() -> str:
    return f"piot_corpus_{os.getpid()}_{secrets.token_hex(3)}"


def _drop_orphans(kind: str, url: str) -> None:
    """Drop corpus databases left by test runs on this machine that were killed before cleaning up."""
    if kind == "postgres":
        sql = "SELECT datname AS name FROM pg_database WHERE datname LIKE 'piot_corpus_%'"
    else:
        sql = "SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name LIKE 'piot_corpus_%'"
    names = connectorx.read_sql(url, sql, return_type="arrow").column(0).to_pylist()
    for name in names:
        parts = str(name).split("_")
        if len(parts) == 4 and parts[2].isdigit() and not process_alive(int(parts[2])):
            run_cli(kind, url, _drop_sql(kind, str(name)))


def _drop_sql(kind: str, database: str) -> str:
    return f"DROP DATABASE IF EXISTS {database}" + (" WITH (FORCE);" if kind == "postgres" else ";")


def _own_database(kind: str, admin_url: str) -> Iterator[str]:
    """Create a database of this session's own on the server, yield its URL, drop it at the end."""
    database = _session_database()
    _cli_or_skip(kind, admin_url, f"CREATE DATABASE {database};")
    _drop_orphans(kind, admin_url)
    try:
        yield _with_database(admin_url, database)
    finally:
        run_cli(kind, admin_url, _drop_sql(kind, database))


def _cli_or_skip(kind: str, url: str, script: str) -> None:
    try:
        run_cli(kind, url, script)
    except CliMissing as e:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and {e}")
        pytest.skip(str(e))


@pytest.fixture(scope="session")
def corpus_sqlite(tmp_path_factory: pytest.TempPathFactory) -> CorpusSource:
    """The corpus in a SQLite file; DuckDB over the same rows is its oracle."""
    path: Path = tmp_path_factory.mktemp("corpus") / "corpus.db"
    write_sqlite(path)
    oracle = duckdb_oracle()

    def run(sql: str) -> Answer:
        cursor = oracle.execute(sql)
        return answer_from_rows([d[0] for d in cursor.description], cursor.fetchall())

    return CorpusSource("sqlite", "lite", f"sqlite://{path}", {"trades": "trades", "symbols": SYMBOLS}, run, "trades")


@pytest.fixture(scope="session")
def pg_session_url(pg_url: str) -> Iterator[str]:
    """A PostgreSQL database of this test session's own, dropped at the end."""
    yield from _own_database("postgres", pg_url)


@pytest.fixture(scope="session")
def mysql_session_url(mysql_url: str) -> Iterator[str]:
    """A MariaDB database of this test session's own, dropped at the end."""
    yield from _own_database("mysql", mysql_url)


@pytest.fixture(scope="session")
def corpus_postgres(pg_session_url: str) -> CorpusSource:
    """The corpus in the session's PostgreSQL database; PostgreSQL itself is its oracle."""
    url = pg_session_url
    run_cli("postgres", url, load_script("postgres", "public."))

    def run(sql: str) -> Answer:
        return answer_from_arrow(connectorx.read_sql(url, sql, return_type="arrow"))

    return CorpusSource("postgres", "pg", url, {"trades": TRADES, "symbols": SYMBOLS}, run, f"public.{TRADES}")


@pytest.fixture(scope="session")
def corpus_mysql(mysql_session_url: str) -> CorpusSource:
    """The corpus in the session's MariaDB database; MariaDB runs the transpiled query as oracle."""
    url = mysql_session_url
    run_cli("mysql", url, load_script("mysql", ""))

    def run(sql: str) -> Answer:
        return answer_from_arrow(connectorx.read_sql(url, mysql_oracle_sql(sql), return_type="arrow"))

    return CorpusSource("mysql", "my", url, {"trades": TRADES, "symbols": SYMBOLS}, run, TRADES)


@pytest.fixture
def corpus(kind: str, request: pytest.FixtureRequest) -> CorpusSource:
    """The corpus source of the test's ``kind`` parameter (sqlite, postgres or mysql)."""
    return request.getfixturevalue(f"corpus_{kind}")


@pytest.fixture(scope="session")
def corpus_connect() -> Callable[..., piot.Connection]:
    """``connect(source, split=..., time_unit=..., **options)``: piot connections, cached when plain."""
    cache: dict[tuple[Any, ...], piot.Connection] = {}

    def connect(source: CorpusSource, *, split: bool = True, time_unit: str | None = "monthly", **options: Any) -> piot.Connection:
        if options:
            return piot.connect(source.catalog(), split=split, time_unit=time_unit, **options)
        key = (source.kind, source.url, split, time_unit)
        if key not in cache:
            cache[key] = piot.connect(source.catalog(), split=split, time_unit=time_unit)
        return cache[key]

    return connect
