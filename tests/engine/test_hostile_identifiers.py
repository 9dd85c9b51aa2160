"""Names and values with quotes, backslashes, comment markers, NUL, newlines and unicode reach a source only as data.

Each database gets a real table whose name and columns hold such characters, with rows that
hold them too; piot must read, describe, list and reflect it exactly as the database itself
does. Names that are not tables but SQL in disguise (``x\\' UNION SELECT SLEEP(30) ...``)
must be tables that do not exist, and nothing they spell may run: the sequences they would
advance stay where they were, and the statement does not wait for the sleep.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import connectorx
import pytest
import sqlalchemy as sa
from corpus_data import run_cli
from sqlglot import exp

import piot
from piot.connectors import mysql, postgres
from piot.connectors.catalog import load_catalog
from piot.connectors.read import read_arrow

TABLE = "it's \"q\" `b` back\\slash -- x /*c*/ #h\nnl ünï€"
COLUMNS = ("qu'ote", "back\\slash", "da--sh", "sl/*ash*/", "ha#sh", "new\nline", "ünï€", 'dq"x', "bt`x", "se;mi")
VALUES = ("it's", "back\\slash", "\\'", "-- x", "/* c */", "# h", "new\nline", "ünï€😀", 'dq"x', "semi;colon", "x\\' UNION SELECT 1 -- ")
NUL_VALUE = "a\x00b"  # PostgreSQL text cannot hold NUL; MariaDB and SQLite can
SEQUENCE = "piot_probe_seq"
KINDS = ("sqlite", "postgres", "mysql")
SOURCE = {"sqlite": "lite", "postgres": "pg", "mysql": "my"}


def rows_for(kind: str) -> list[tuple[Any, ...]]:
    """Per value one row: its date, then the value in every hostile column."""
    values = VALUES + (() if kind == "postgres" else (NUL_VALUE,))
    return [(dt.date(2024, 1, 1) + dt.timedelta(days=9 * i), *([value] * len(COLUMNS))) for i, value in enumerate(values)]


def quoted_table(kind: str) -> str:
    return exp.table_(TABLE, quoted=True).sql(dialect=kind)


def create_script(kind: str) -> str:
    """The table, its rows and a sequence, written by sqlglot in the server's dialect."""
    columns = [exp.ColumnDef(this=exp.to_identifier("d", quoted=True), kind=exp.DataType.build("date"))]
    columns += [exp.ColumnDef(this=exp.to_identifier(c, quoted=True), kind=exp.DataType.build("text")) for c in COLUMNS]
    create = exp.Create(this=exp.Schema(this=exp.table_(TABLE, quoted=True), expressions=columns), kind="TABLE")
    values = [exp.Tuple(expressions=[exp.cast(exp.Literal.string(str(r[0])), "date"), *map(exp.Literal.string, r[1:])]) for r in rows_for(kind)]
    insert = exp.insert(exp.Values(expressions=values), exp.table_(TABLE, quoted=True))
    charset = " DEFAULT CHARSET=utf8mb4" if kind == "mysql" else ""
    sequence = f"CREATE SEQUENCE {SEQUENCE}" + (" NOCACHE" if kind == "mysql" else "")
    names = "SET NAMES utf8mb4;\n" if kind == "mysql" else ""
    return f"{names}{create.sql(dialect=kind)}{charset};\n{insert.sql(dialect=kind)};\n{sequence};\n"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> dict[str, str]:
    """URLs of the three databases, each holding the hostile table (and a sequence on the servers)."""
    path: Path = tmp_path_factory.mktemp("hostile") / "hostile.db"
    with sqlite3.connect(path) as db:
        names = ", ".join(exp.to_identifier(c, quoted=True).sql("sqlite") + (" DATE" if c == "d" else " TEXT") for c in ("d", *COLUMNS))
        db.execute(f"CREATE TABLE {quoted_table('sqlite')} ({names})")
        db.executemany(f"INSERT INTO {quoted_table('sqlite')} VALUES ({', '.join('?' * (len(COLUMNS) + 1))})", [(r[0].isoformat(), *r[1:]) for r in rows_for("sqlite")])
    urls = {"sqlite": f"sqlite://{path}"}
    for kind, fixture in (("postgres", "pg_session_url"), ("mysql", "mysql_session_url")):
        url = request.getfixturevalue(fixture)
        run_cli(kind, url, create_script(kind))
        urls[kind] = url
    return urls


@pytest.fixture(scope="module")
def connection(hostile: dict[str, str]) -> Iterator[piot.Connection]:
    conn = piot.connect({"sources": {SOURCE[kind]: {"url": url} for kind, url in hostile.items()}})
    yield conn
    conn.close()


def source_rows(kind: str, url: str, sql: str) -> list[tuple[Any, ...]]:
    """The database's own answer (the oracle), read without piot."""
    if kind == "sqlite":
        with sqlite3.connect(urlsplit(url).path) as db:
            return [tuple(row) for row in db.execute(sql).fetchall()]
    table = connectorx.read_sql(url, sql, return_type="arrow")
    return list(zip(*(column.to_pylist() for column in table.columns)))


def sequence_state(kind: str, url: str) -> tuple[Any, ...]:
    """Where the sequence stands, read without advancing it."""
    sql = f"SELECT next_not_cached_value FROM {SEQUENCE}" if kind == "mysql" else f"SELECT last_value, is_called FROM {SEQUENCE}"
    return source_rows(kind, url, sql)[0]


def piot_name(kind: str) -> str:
    return exp.table_(TABLE, db=SOURCE[kind], quoted=True).sql(dialect="postgres")


def canonical(rows: list[tuple[Any, ...]]) -> list[tuple[str, ...]]:
    return sorted(tuple(str(v) for v in row) for row in rows)


@pytest.mark.parametrize("kind", KINDS)
def test_select_reads_hostile_names_and_values_as_the_database_does(
    kind: str, hostile: dict[str, str], connection: piot.Connection, ray_session: None
) -> None:
    expected = source_rows(kind, hostile[kind], f"SELECT * FROM {quoted_table(kind)}")
    assert len(expected) == len(rows_for(kind))
    cursor = connection.cursor()
    got = cursor.execute(f"SELECT * FROM {piot_name(kind)}").fetchall()
    assert [d[0] for d in cursor.description] == ["d", *COLUMNS]
    assert canonical(got) == canonical(expected)
    split = cursor.execute(f"SELECT * FROM {piot_name(kind)} WHERE d >= '2024-01-01' AND d < '2024-12-31'").fetchall()
    assert canonical(split) == canonical(expected)


@pytest.mark.parametrize("kind", KINDS)
def test_a_hostile_value_filters_a_hostile_column_as_the_database_does(
    kind: str, hostile: dict[str, str], connection: piot.Connection, ray_session: None
) -> None:
    cursor = connection.cursor()
    column = exp.to_identifier("back\\slash", quoted=True).sql("postgres")
    for value in VALUES:
        got = cursor.execute(f"SELECT d FROM {piot_name(kind)} WHERE {column} = ?", [value]).fetchall()
        assert got == [(row[0],) for row in rows_for(kind) if row[2] == value], value


@pytest.mark.parametrize("kind", KINDS)
def test_describe_and_show_tables_name_hostile_tables_and_columns(kind: str, connection: piot.Connection) -> None:
    cursor = connection.cursor()
    described = cursor.execute(f"DESCRIBE {piot_name(kind)}").fetchall()
    assert [row[0] for row in described] == ["d", *COLUMNS]
    listed = [row[0] for row in cursor.execute(f"SHOW TABLES FROM {SOURCE[kind]}").fetchall()]
    assert f"{SOURCE[kind]}.{TABLE}" in listed


@pytest.mark.parametrize("kind", KINDS)
def test_sqlalchemy_reflects_hostile_names(kind: str, hostile: dict[str, str], ray_session: None) -> None:
    engine = sa.create_engine("piot://", connect_args={"catalog": {"sources": {SOURCE[kind]: {"url": hostile[kind]}}}})
    try:
        inspector = sa.inspect(engine)
        assert TABLE in inspector.get_table_names(schema=SOURCE[kind])
        assert [c["name"] for c in inspector.get_columns(TABLE, schema=SOURCE[kind])] == ["d", *COLUMNS]
        table = sa.Table(TABLE, sa.MetaData(), autoload_with=engine, schema=SOURCE[kind])
        with engine.connect() as conn:
            got = conn.execute(sa.select(table.c["qu'ote"]).where(table.c["new\nline"] == "new\nline")).fetchall()
        assert got == [("new\nline",)]
    finally:
        engine.dispose()


# -- names that are SQL in disguise ------------------------------------------------------------
PAYLOADS: dict[str, tuple[str, ...]] = {
    "mysql": (
        "x\\' UNION SELECT SLEEP(30), 0x696e74 -- ",
        f"x\\' UNION SELECT NEXTVAL({SEQUENCE}), 0x696e74 -- ",
        "x\\'/**/UNION/**/SELECT/**/SUBSTR(LOAD_FILE('/etc/passwd'),1,80),0x696e74#",
        f"x'' UNION SELECT NEXTVAL({SEQUENCE}), 'int' -- ",
        f"x\x00' UNION SELECT NEXTVAL({SEQUENCE}), 'int' -- ",
        f"😀' UNION SELECT NEXTVAL({SEQUENCE}), 'int' -- ",
        "x\\' UNION SELECT user, password FROM mysql.user#",
    ),
    "postgres": (
        "x' UNION SELECT pg_sleep(30)::text, 'int' -- ",
        f"x' UNION SELECT nextval('{SEQUENCE}')::text, 'int' -- ",
        f"x\\' UNION SELECT nextval($${SEQUENCE}$$)::text, $$int$$ -- ",
        f"x\x00' UNION SELECT nextval('{SEQUENCE}')::text, 'int' -- ",
        "x' UNION SELECT rolname, rolpassword FROM pg_authid -- ",
    ),
    "sqlite": (
        "x') UNION SELECT 'a', 'int' --",
        "x'); ATTACH DATABASE '/tmp/piot_pwn.db' AS pwn; --",
        "x\x00') UNION SELECT name, sql FROM sqlite_master --",
    ),
}


def _refused_as_missing(run: Callable[[], object]) -> None:
    with pytest.raises(piot.ProgrammingError, match="does not exist"):
        run()


@pytest.mark.parametrize("kind", KINDS)
def test_a_name_spelling_sql_is_a_missing_table_and_runs_nothing(kind: str, hostile: dict[str, str], connection: piot.Connection) -> None:
    before = sequence_state(kind, hostile[kind]) if kind != "sqlite" else None
    cursor = connection.cursor()
    engine = sa.create_engine("piot://", connect_args={"catalog": {"sources": {SOURCE[kind]: {"url": hostile[kind]}}}})
    try:
        for payload in PAYLOADS[kind]:
            name = exp.table_(payload, db=SOURCE[kind], quoted=True).sql(dialect="postgres")
            started = time.monotonic()
            _refused_as_missing(lambda: cursor.execute(f"SELECT * FROM {name}"))
            _refused_as_missing(lambda: cursor.execute(f"DESCRIBE {name}"))
            _refused_as_missing(lambda: cursor.execute(f"EXPLAIN SELECT * FROM {name}"))
            assert time.monotonic() - started < 20, f"{payload!r} waited as if a 30 s sleep had run"
            assert not sa.inspect(engine).has_table(payload, schema=SOURCE[kind])
    finally:
        engine.dispose()
    if before is not None:
        assert sequence_state(kind, hostile[kind]) == before, "a payload advanced the sequence"
    assert not Path("/tmp/piot_pwn.db").exists()


# -- the literal forms themselves, on the servers ------------------------------------------------
def _mysql_batch(url: str, sql_mode: str, sql: str) -> list[list[str]]:
    """Rows of ``sql`` run by the mariadb client in a session with ``sql_mode`` (raw, tab-separated)."""
    parts = urlsplit(url)
    program = shutil.which("mariadb") or shutil.which("mysql")
    if program is None:
        pytest.skip("the mariadb command-line client is not installed")
    args = [program, "--protocol=tcp", "-h", parts.hostname or "127.0.0.1", "-P", str(parts.port or 3306)]
    args += ["-u", unquote(parts.username or "root"), "--batch", "--raw", "--skip-column-names", parts.path.lstrip("/")]
    script = f"SET NAMES utf8mb4; SET SESSION sql_mode = '{sql_mode}'; {sql};"
    done = subprocess.run(args, input=script, capture_output=True, text=True, timeout=60, check=True)
    return [line.split("\t") for line in done.stdout.splitlines()]


@pytest.mark.parametrize("sql_mode", ["", "NO_BACKSLASH_ESCAPES"])
def test_mysql_names_reach_the_server_as_the_same_bytes_in_every_sql_mode(sql_mode: str, hostile: dict[str, str]) -> None:
    """Hex literals mean the same in both modes; sqlglot's own quoted literal only without NO_BACKSLASH_ESCAPES."""
    url = hostile["mysql"]
    hex_probe = exp.select(exp.func("HEX", mysql.text_value("a\\'b"))).sql("mysql")
    assert _mysql_batch(url, sql_mode, hex_probe) == [["a\\'b".encode().hex().upper()]]
    quoted_probe = exp.select(exp.func("HEX", exp.Literal.string("a\\'b"))).sql("mysql")
    same = _mysql_batch(url, sql_mode, quoted_probe) == [["a\\'b".encode().hex().upper()]]
    assert same == (sql_mode == ""), "sqlglot's string literals changed: revisit mysql.text_value"
    query = mysql.SQL.columns_query(None, TABLE) or pytest.fail("no query")
    assert query.sql.count("'") == 2  # one hex literal, nothing else quoted
    assert _mysql_batch(url, sql_mode, f"SELECT COUNT(*) FROM ({query.sql}) AS q") == [[str(len(COLUMNS) + 1)]]


def test_postgres_names_read_alike_without_standard_conforming_strings(hostile: dict[str, str]) -> None:
    """A server that reads backslashes as escapes (standard_conforming_strings=off) still gets names as data."""
    parts = urlsplit(hostile["postgres"])
    url = parts._replace(query="options=-c%20standard_conforming_strings%3Doff").geturl()
    assert source_rows("postgres", url, "SELECT current_setting('standard_conforming_strings') AS v") == [("off",)]
    before = sequence_state("postgres", hostile["postgres"])
    with piot.connect({"sources": {"pg": {"url": url}}}) as conn:
        cursor = conn.cursor()
        assert [row[0] for row in cursor.execute(f"DESCRIBE {piot_name('postgres')}").fetchall()] == ["d", *COLUMNS]
        for payload in (f"x\\' UNION SELECT nextval($${SEQUENCE}$$)::text, $$int$$ -- ", "x\\'' UNION SELECT 1 --"):
            name = exp.table_(payload, db="pg", quoted=True).sql(dialect="postgres")
            _refused_as_missing(lambda: cursor.execute(f"DESCRIBE {name}"))
    assert sequence_state("postgres", hostile["postgres"]) == before
    assert postgres.text_value("a\\'b").sql("postgres").count("\\") == 0


def test_postgres_fragment_literals_mean_what_they_say_whatever_the_server_set(
    hostile: dict[str, str], ray_session: None
) -> None:
    """Values pushed into fragments are sqlglot literals: piot's sessions read them with standard_conforming_strings on.

    With it off, ``'x\\'' OR ...`` would end the literal early and run the rest as SQL.
    """
    parts = urlsplit(hostile["postgres"])
    url = parts._replace(query="options=-c%20standard_conforming_strings%3Doff").geturl()
    source = load_catalog({"sources": {"pg": {"url": url}}}).source("pg")
    assert source_rows("postgres", source.connectorx_url, "SELECT current_setting('standard_conforming_strings') AS v") == [("on",)]
    column = exp.to_identifier("back\\slash", quoted=True).sql("postgres")
    before = sequence_state("postgres", hostile["postgres"])
    with piot.connect({"sources": {"pg": {"url": url}}}) as conn:
        cursor = conn.cursor()
        for value in (*VALUES, f"x\\' OR nextval('{SEQUENCE}') > 0 OR 'a' = '"):
            got = cursor.execute(f"SELECT d FROM {piot_name('postgres')} WHERE {column} = ?", [value]).fetchall()
            assert got == [(row[0],) for row in rows_for("postgres") if row[2] == value], value
    assert sequence_state("postgres", hostile["postgres"]) == before


def test_postgres_sessions_refuse_writes(hostile: dict[str, str]) -> None:
    """Defence in depth: every connectorx session piot opens on PostgreSQL is read-only."""
    url = hostile["postgres"]
    run_cli("postgres", url, "CREATE TABLE piot_ro_probe (x integer);")
    source = load_catalog({"sources": {"pg": {"url": url}}}).source("pg")
    assert source_rows("postgres", source.connectorx_url, "SELECT current_setting('default_transaction_read_only') AS v") == [("on",)]
    for write in (
        "WITH w AS (INSERT INTO piot_ro_probe VALUES (1) RETURNING x) SELECT x FROM w",
        "SELECT x FROM piot_ro_probe FOR UPDATE",
        f"SELECT nextval('{SEQUENCE}') AS v",
    ):
        with pytest.raises(piot.OperationalError, match="read-only transaction"):
            read_arrow(source, write)
    assert source_rows("postgres", url, "SELECT count(*) FROM piot_ro_probe") == [(0,)]


def test_mariadb_sessions_refuse_writes(hostile: dict[str, str]) -> None:
    """Defence in depth: every connectorx session piot opens on MariaDB starts read-only."""
    url = hostile["mysql"]
    run_cli("mysql", url, "CREATE TABLE piot_ro_probe (x integer);")
    source = load_catalog({"sources": {"my": {"url": url}}}).source("my")
    assert read_arrow(source, "SELECT @@tx_read_only AS ro").to_pydict() == {"ro": [1]}
    before = sequence_state("mysql", url)
    for write in ("INSERT INTO piot_ro_probe VALUES (1) RETURNING x", "SELECT x FROM piot_ro_probe FOR UPDATE", f"SELECT NEXTVAL({SEQUENCE}) AS v"):
        with pytest.raises(piot.OperationalError, match="READ ONLY transaction"):
            read_arrow(source, write)
    assert source_rows("mysql", url, "SELECT count(*) AS n FROM piot_ro_probe") == [(0,)]
    assert sequence_state("mysql", url) == before
