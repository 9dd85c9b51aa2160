"""System schemas and tables are closed unless the catalog opens them for a source, and refused before any contact.

Refusals are checked against sources that cannot be reached at all: had piot contacted one,
the error would be an OperationalError, not the refusal naming the schema. Opened with
``system_schemas = true``, each system table answers what the database itself answers.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import connectorx
import pytest
import sqlalchemy as sa

import piot

UNREACHABLE = {
    "pg": {"url": "postgresql://reader:s3cret@127.0.0.1:1/db"},
    "my": {"url": "mysql://root:s3cret@127.0.0.1:1/db"},
    "lite": {"url": "sqlite:///nonexistent/piot/none.db"},
}

CLOSED = [
    ("pg.pg_catalog.pg_authid", "pg_catalog"),
    ("pg.PG_CATALOG.pg_class", "PG_CATALOG"),
    ("pg.information_schema.tables", "information_schema"),
    ("pg.pg_toast.pg_toast_1262", "pg_toast"),
    ("pg.pg_temp_3.t", "pg_temp_3"),
    ("my.mysql.user", "mysql"),
    ("my.information_schema.columns", "information_schema"),
    ("my.performance_schema.threads", "performance_schema"),
    ("my.sys.version", "sys"),
    ("lite.sqlite_master", "sqlite_master"),
    ("lite.sqlite_schema", "sqlite_schema"),
    ("lite.sqlite_temp_master", "sqlite_temp_master"),
    ("lite.SQLITE_MASTER", "SQLITE_MASTER"),
    ("lite.sqlite_sequence", "sqlite_sequence"),
]


@pytest.fixture(scope="module")
def unreachable() -> piot.Connection:
    return piot.connect({"sources": UNREACHABLE})


@pytest.mark.parametrize(("name", "schema"), CLOSED)
def test_system_names_are_refused_before_any_source_is_contacted(name: str, schema: str, unreachable: piot.Connection) -> None:
    cursor = unreachable.cursor()
    for sql in (f"SELECT * FROM {name}", f"DESCRIBE {name}", f"EXPLAIN SELECT count(*) FROM {name}"):
        with pytest.raises(piot.NotSupportedError, match=f"system (schema|table) '{schema}'.*system_schemas = true") as caught:
            cursor.execute(sql)
        assert "s3cret" not in str(caught.value)


def test_a_system_name_is_refused_before_the_other_tables_of_the_query_are_looked_up(unreachable: piot.Connection) -> None:
    cursor = unreachable.cursor()
    with pytest.raises(piot.NotSupportedError, match="'pg_catalog'") as caught:
        cursor.execute("SELECT * FROM my.trades t JOIN pg.pg_catalog.pg_authid a ON a.rolname = t.sym")
    assert caught.value.line == 1 and caught.value.col is not None


def test_sqlalchemy_sees_no_system_table(unreachable: piot.Connection) -> None:
    engine = sa.create_engine("piot://", connect_args={"catalog": {"sources": UNREACHABLE}})
    try:
        inspector = sa.inspect(engine)
        assert not inspector.has_table("pg_authid", schema="pg.pg_catalog")
        assert not inspector.has_table("sqlite_master", schema="lite")
    finally:
        engine.dispose()


def test_another_database_of_a_mariadb_server_is_not_reachable_through_a_source(unreachable: piot.Connection) -> None:
    with pytest.raises(piot.ProgrammingError, match="has no schemas: it reads the database of its URL only"):
        unreachable.cursor().execute("SELECT * FROM my.otherdb.t")


def test_system_schemas_must_be_a_boolean() -> None:
    with pytest.raises(piot.ProgrammingError, match="system_schemas must be true or false"):
        piot.connect({"sources": {"pg": {"url": "postgresql://u@h/db", "system_schemas": "yes"}}})


# -- opened by the catalog: the database's own answers ------------------------------------------
@pytest.fixture(scope="module")
def lite_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path: Path = tmp_path_factory.mktemp("system") / "system.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE counted (id INTEGER PRIMARY KEY AUTOINCREMENT, d DATE)")
        db.executemany("INSERT INTO counted (d) VALUES (?)", [("2024-01-01",), ("2024-01-02",)])
    return path


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    table = connectorx.read_sql(url, sql, return_type="arrow")
    return sorted(zip(*(column.to_pylist() for column in table.columns)))


def test_opened_system_schemas_answer_as_the_database_does(
    lite_path: Path, pg_session_url: str, mysql_session_url: str, ray_session: None
) -> None:
    sources = {"lite": f"sqlite://{lite_path}", "pg": pg_session_url, "my": mysql_session_url}
    catalog = {"sources": {name: {"url": url, "system_schemas": True} for name, url in sources.items()}}
    with piot.connect(catalog) as conn:
        cursor = conn.cursor()
        got = sorted(cursor.execute("SELECT nspname FROM pg.pg_catalog.pg_namespace").fetchall())
        assert got == _rows(pg_session_url, "SELECT nspname::text FROM pg_catalog.pg_namespace")
        database = urlsplit(mysql_session_url).path.lstrip("/")
        got = sorted(cursor.execute(f"SELECT table_name FROM my.information_schema.tables WHERE table_schema = '{database}'").fetchall())
        assert got == _rows(mysql_session_url, "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()")
        got = sorted(cursor.execute("SELECT name FROM lite.sqlite_sequence").fetchall())  # seq is untyped: text
        with sqlite3.connect(lite_path) as db:
            assert got == sorted(db.execute("SELECT name FROM sqlite_sequence").fetchall()) == [("counted",)]
        assert [row[0] for row in cursor.execute("DESCRIBE pg.pg_catalog.pg_namespace").fetchall()][:2] == ["oid", "nspname"]


def test_listings_never_show_system_tables(lite_path: Path, pg_session_url: str) -> None:
    catalog = {"sources": {"lite": {"url": f"sqlite://{lite_path}", "system_schemas": True}, "pg": {"url": pg_session_url}}}
    with piot.connect(catalog) as conn:
        listed = [row[0] for row in conn.cursor().execute("SHOW TABLES").fetchall()]
    assert "lite.counted" in listed
    assert not [name for name in listed if name.lower().startswith(("lite.sqlite_", "pg.pg_", "pg.information_schema."))]


SCAN_DB_CLOSED = [
    ("postgresql://reader:s3cret@127.0.0.1:1/db", "SELECT rolname, rolpassword FROM pg_authid", "pg_catalog"),
    ("postgresql://reader:s3cret@127.0.0.1:1/db", "SELECT * FROM pg_catalog.pg_class", "pg_catalog"),
    ("postgresql://reader:s3cret@127.0.0.1:1/db", "SELECT * FROM t WHERE x IN (SELECT oid FROM information_schema.tables)", "information_schema"),
    ("mysql://root:s3cret@127.0.0.1:1/db", "SELECT user, password FROM mysql.user", "mysql"),
    ("mysql://root:s3cret@127.0.0.1:1/db", "SELECT * FROM t JOIN performance_schema.threads p ON 1 = 1", "performance_schema"),
    ("sqlite:///nonexistent/piot/none.db", "SELECT sql FROM sqlite_master", "sqlite_master"),
]


@pytest.mark.parametrize(("url", "sql", "schema"), SCAN_DB_CLOSED)
def test_scan_db_refuses_system_names_before_contacting_the_source(url: str, sql: str, schema: str) -> None:
    with pytest.raises(piot.NotSupportedError, match=f"system (schema|table) '{schema}'") as caught:
        piot.scan_db(sql, url)
    assert "s3cret" not in str(caught.value)


def test_scan_db_reads_its_own_tables_and_ctes_named_like_system_ones(lite_path: Path, ray_session: None) -> None:
    frame = piot.scan_db("WITH pg_x AS (SELECT d FROM counted) SELECT count(*) AS n FROM pg_x", f"sqlite://{lite_path}").collect()
    assert frame.to_dicts() == [{"n": 2}]
