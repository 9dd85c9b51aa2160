"""Read-only through every door: writes, locks, table functions and source functions never run.

Each hostile statement goes through every entry point (the DB-API cursor, EXPLAIN, EXPLAIN ANALYZE,
SQLAlchemy, ``scan_db``, the reads ``execute_on_ray`` runs on its workers, the ``piot-sql``
prompt, SHOW/DESCRIBE) against SQLite, PostgreSQL and MariaDB, and must be refused with a
piot error. The servers are reached only through a counting TCP relay on 127.0.0.1: a
refused statement opens no connection at all. Afterwards the rows are still there, the
sequence has not moved, and another connection locks the rows at once.
"""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import connectorx
import polars as pl
import pytest
from corpus_data import run_cli

import piot
from piot.lazy.scan import DbScan

TABLE = "piot_doors"
SEQUENCE = "piot_doors_seq"
ROWS = [(1, "2024-01-01", "a"), (2, "2024-01-02", "b"), (3, "2024-01-03", "c")]
KINDS = ("sqlite", "postgres", "mysql")
KIND_MARKS = {"sqlite": [], "postgres": [pytest.mark.postgres], "mysql": [pytest.mark.mariadb]}


# -- a counting relay in front of a server -------------------------------------------------------
class Relay:
    """A TCP relay on 127.0.0.1 that forwards to a server port and counts the connections it accepts.

    It stops by itself after ``lifetime`` seconds (or at :meth:`close`); each forwarding
    thread ends when either side closes.
    """

    def __init__(self, target_port: int, lifetime: float = 600.0) -> None:
        self.target_port = target_port
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._deadline = time.monotonic() + lifetime
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        try:
            while not self._stop.is_set() and time.monotonic() < self._deadline:
                try:
                    client, _ = self._listener.accept()
                except TimeoutError:
                    continue
                self.connections += 1
                try:
                    upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
                except OSError:
                    client.close()
                    continue
                upstream.settimeout(None)
                for a, b in ((client, upstream), (upstream, client)):
                    threading.Thread(target=_pipe, args=(a, b), daemon=True).start()
        finally:
            self._listener.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


# -- one table per kind ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Door:
    """A source under test: its real URL (for checks), the URL piot is given, and how to read it directly."""

    kind: str
    real_url: str
    piot_url: str
    relay: Relay | None
    dialect: str

    @property
    def contacts(self) -> int:
        """Connections opened to the server through piot's URL so far (SQLite: none to count)."""
        return self.relay.connections if self.relay is not None else 0

    def catalog(self) -> dict[str, Any]:
        return {"sources": {"db": {"url": self.piot_url, "tables": {TABLE: {"date_column": "d"}}}}}

    def read(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` read directly from the source (not through piot, not through the relay)."""
        if self.kind == "sqlite":
            with sqlite3.connect(urlsplit(self.real_url).path) as db:
                return [tuple(r) for r in db.execute(sql).fetchall()]
        table = connectorx.read_sql(self.real_url, sql, return_type="arrow")
        return [tuple(r.values()) for r in table.to_pylist()]

    def assert_untouched(self, sequence_before: Any) -> None:
        """The rows are all there and unchanged, the sequence has not moved, and no lock is held."""
        rows = self.read(f"SELECT id, CAST(d AS CHAR(10)), v FROM {TABLE} ORDER BY id" if self.kind == "mysql" else
                         f"SELECT id, CAST(d AS TEXT), v FROM {TABLE} ORDER BY id")  # fmt: skip
        assert [(int(i), str(d), str(v)) for i, d, v in rows] == ROWS
        assert self.sequence_value() == sequence_before
        if self.kind == "postgres":  # another connection locks every row at once (NOWAIT fails if one is held)
            run_cli("postgres", self.real_url, f"BEGIN; SELECT id FROM {TABLE} FOR UPDATE NOWAIT; COMMIT;")
        elif self.kind == "mysql":
            run_cli("mysql", self.real_url, f"START TRANSACTION; SELECT id FROM {TABLE} FOR UPDATE NOWAIT; COMMIT;")

    def sequence_value(self) -> Any:
        if self.kind == "postgres":
            return self.read(f"SELECT last_value, is_called FROM {SEQUENCE}")
        if self.kind == "mysql":
            return self.read(f"SELECT next_not_cached_value FROM {SEQUENCE}")
        return None


def _setup_sql(kind: str) -> str:
    values = ", ".join(f"({i}, '{d}', '{v}')" for i, d, v in ROWS)
    sequence = f"CREATE SEQUENCE {SEQUENCE};" if kind != "sqlite" else ""
    return (
        f"DROP TABLE IF EXISTS {TABLE}; CREATE TABLE {TABLE} (id INTEGER PRIMARY KEY, d DATE, v VARCHAR(10));"
        f"INSERT INTO {TABLE} VALUES {values}; {sequence}"
    )


@pytest.fixture(scope="module")
def door_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Door]:
    path = tmp_path_factory.mktemp("doors") / "doors.db"
    with sqlite3.connect(path) as db:
        db.executescript(_setup_sql("sqlite"))
    yield Door("sqlite", f"sqlite://{path}", f"sqlite://{path}", None, "sqlite")


def _server_door(kind: str, url: str) -> Iterator[Door]:
    run_cli(kind, url, _setup_sql(kind))
    parts = urlsplit(url)
    relay = Relay(parts.port or (5432 if kind == "postgres" else 3306))
    relayed = parts._replace(netloc=parts.netloc.replace(f":{parts.port}", f":{relay.port}")).geturl()
    try:
        yield Door(kind, url, relayed, relay, "postgres" if kind == "postgres" else "mysql")
    finally:
        relay.close()


@pytest.fixture(scope="module")
def door_postgres(pg_session_url: str) -> Iterator[Door]:
    yield from _server_door("postgres", pg_session_url)


@pytest.fixture(scope="module")
def door_mysql(mysql_session_url: str) -> Iterator[Door]:
    yield from _server_door("mysql", mysql_session_url)


@pytest.fixture
def door(kind: str, request: pytest.FixtureRequest) -> Door:
    return request.getfixturevalue(f"door_{kind}")


KIND_PARAMS = [pytest.param(k, marks=KIND_MARKS[k], id=k) for k in KINDS]


# -- the hostile statements -------------------------------------------------------------------------
#: writes, locks and statements other than a query; ``{t}`` is the table as the door names it.
WRITES = (
    "DELETE FROM {t}",
    "DELETE FROM {t} RETURNING *",
    "WITH d AS (DELETE FROM {t} RETURNING *) SELECT * FROM d",
    "WITH u AS (UPDATE {t} SET v = 'x' RETURNING *) SELECT * FROM u",
    "WITH i AS (INSERT INTO {t} VALUES (9, '2024-01-09', 'x') RETURNING *) SELECT * FROM i",
    "SELECT id FROM (WITH d AS (DELETE FROM {t} RETURNING id) SELECT id FROM d) AS s",
    "UPDATE {t} SET v = 'x'",
    "INSERT INTO {t} VALUES (9, '2024-01-09', 'x')",
    "SELECT * FROM {t} FOR UPDATE",
    "SELECT * FROM {t} FOR SHARE",
    "SELECT * FROM {t} FOR NO KEY UPDATE",
    "SELECT * FROM {t} FOR KEY SHARE",
    "SELECT * FROM {t} FOR UPDATE SKIP LOCKED",
    "SELECT * FROM {t} FOR UPDATE NOWAIT",
    "SELECT * FROM (SELECT id FROM {t} FOR UPDATE) AS s",
    "SELECT id FROM {t} WHERE id IN (SELECT id FROM {t} FOR UPDATE)",
    "SELECT * INTO piot_doors_copy FROM {t}",
    "SELECT id FROM {t}; DELETE FROM {t}",
    "SELECT id FROM {t}; SELECT 1",
    "TRUNCATE {t}",
    "DROP TABLE {t}",
    "CREATE TABLE piot_doors_new AS SELECT * FROM {t}",
    "CALL piot_doors_proc()",
    "SET search_path = x",
    "COPY {t} TO '/tmp/piot_doors_copy.csv'",
    "DO $$ BEGIN DELETE FROM piot_doors; END $$",
    "LOCK TABLE {t}",
    "BEGIN",
    "VALUES (1)",
)
#: MySQL/MariaDB's own forms (read in the mysql dialect).
MYSQL_WRITES = (
    "SELECT * FROM {t} LOCK IN SHARE MODE",
    "SELECT * FROM {t} INTO OUTFILE '/tmp/piot_doors_out'",
    "SELECT * FROM {t} INTO DUMPFILE '/tmp/piot_doors_dump'",
    "SELECT id INTO @piot_doors_v FROM {t} LIMIT 1",
    "SELECT id FROM {t} FOR UPDATE",
    "REPLACE INTO {t} VALUES (1, '2024-01-01', 'x')",
    "HANDLER {t} OPEN",
    "DO SLEEP(3)",
    "SELECT @@datadir AS x FROM {t}",
)
#: SQLite's own forms.
SQLITE_WRITES = (
    "PRAGMA writable_schema = 1",
    "ATTACH DATABASE '/tmp/piot_doors_attached.db' AS x",
    "VACUUM INTO '/tmp/piot_doors_vacuum.db'",
)
#: functions with side effects or costs in a source, in a SELECT list and in a WHERE clause.
SOURCE_FUNCTIONS = (
    "pg_sleep(3)", "pg_read_file('/etc/passwd')", "pg_ls_dir('.')", "lo_import('/etc/passwd')",
    "set_config('search_path', 'x', false)", f"nextval('{SEQUENCE}')", f"setval('{SEQUENCE}', 100)",
    "dblink('dbname=x', 'select 1')", "current_setting('data_directory')", "pg_terminate_backend(1)", "txid_current()",
    "sleep(3)", "benchmark(100000000, 1)", "load_file('/etc/passwd')", "get_lock('piot_doors', 10)",
    "release_lock('piot_doors')", "load_extension('/tmp/piot_doors_ext')", "readfile('/etc/passwd')",
    "writefile('/tmp/piot_doors_written', 'x')", "fts3_tokenizer('simple')", "version()", "random()",
)  # fmt: skip
#: functions that read files, the network or the environment from FROM.
TABLE_FUNCTIONS = (
    "SELECT * FROM read_csv('/etc/passwd', has_header => false)",
    "SELECT * FROM read_parquet('~/.ssh/id_rsa')",
    "SELECT * FROM read_ipc('/etc/passwd')",
    "SELECT * FROM read_json('/etc/passwd')",
    "SELECT * FROM read_ndjson('/etc/passwd')",
    "SELECT * FROM read_excel('/etc/passwd')",
    "SELECT * FROM read_delta('/tmp')",
    "SELECT * FROM scan_csv('/etc/passwd')",
    "SELECT * FROM generate_series(1, 1000000000)",
    "SELECT * FROM unnest(ARRAY[1, 2])",
    "SELECT * FROM pragma_table_info('piot_doors')",
    "SELECT t.id FROM {t} AS t JOIN read_csv('/etc/passwd') AS r ON TRUE",
    "SELECT * FROM (SELECT * FROM read_csv('/etc/passwd')) AS s",
    "WITH p AS (SELECT * FROM read_csv('/etc/passwd')) SELECT * FROM p",
    "SELECT id FROM {t} WHERE EXISTS (SELECT 1 FROM read_csv('/etc/passwd'))",
    "SELECT (SELECT COUNT(*) FROM read_parquet('/etc/passwd')) AS n",
    "SELECT t.id FROM {t} AS t, LATERAL read_csv('/etc/passwd') AS r",
)


def hostile(kind: str, table: str) -> list[str]:
    """Every hostile statement for a door of ``kind``, naming the table ``table``."""
    writes = WRITES + (MYSQL_WRITES if kind == "mysql" else ()) + (SQLITE_WRITES if kind == "sqlite" else ())
    functions = [f"SELECT {f} AS x FROM {{t}}" for f in SOURCE_FUNCTIONS]
    functions += [f"SELECT id FROM {{t}} WHERE d BETWEEN '2024-01-01' AND '2024-01-03' AND {f} IS NOT NULL" for f in SOURCE_FUNCTIONS]
    return [s.format(t=table) for s in (*writes, *functions, *TABLE_FUNCTIONS)]


def _refusals(door: Door, run: Callable[[str], Any], statements: list[str]) -> list[str]:
    """Run each statement through one door; return what went wrong (a statement that ran, or the wrong error)."""
    wrong = []
    for sql in statements:
        before = door.contacts
        try:
            run(sql)
        except piot.Error as e:
            if not isinstance(e, (piot.NotSupportedError, piot.ProgrammingError)):
                wrong.append(f"{sql!r}: {type(e).__name__}: {e}")
        else:
            wrong.append(f"{sql!r}: accepted")
        if door.contacts != before:
            wrong.append(f"{sql!r}: {door.contacts - before} connection(s) reached the server")
    return wrong


def _sql_path_statements(door: Door) -> list[str]:
    return hostile(door.kind, f"db.{TABLE}")


# -- the doors -------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_cursor_refuses_before_any_source_is_contacted(door: Door) -> None:
    connection = piot.connect(door.catalog(), dialect=door.dialect)
    sequence = door.sequence_value()
    wrong = _refusals(door, lambda sql: connection.cursor().execute(sql), _sql_path_statements(door))
    assert not wrong, "\n".join(wrong)
    door.assert_untouched(sequence)


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_explain_refuses_the_same(door: Door) -> None:
    connection = piot.connect(door.catalog(), dialect=door.dialect)
    statements = [f"EXPLAIN {sql}" for sql in _sql_path_statements(door)]
    wrong = _refusals(door, lambda sql: connection.cursor().execute(sql), statements)
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_explain_analyze_refuses_the_same(door: Door) -> None:
    """EXPLAIN ANALYZE runs what follows it: a hostile statement after it is refused as itself, before any connection."""
    connection = piot.connect(door.catalog(), dialect=door.dialect)
    sequence = door.sequence_value()
    prefixes = ("EXPLAIN ANALYZE", "explain /* x */ analyse")
    statements = [f"{prefix} {sql}" for prefix in prefixes for sql in _sql_path_statements(door)]
    statements += [f"EXPLAIN ANALYZE EXPLAIN ANALYZE DELETE FROM db.{TABLE}", f"ANALYZE db.{TABLE}"]
    wrong = _refusals(door, lambda sql: connection.cursor().execute(sql), statements)
    assert not wrong, "\n".join(wrong)
    door.assert_untouched(sequence)


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_sqlalchemy_refuses_the_same(door: Door) -> None:
    sa = pytest.importorskip("sqlalchemy")
    engine = sa.create_engine("piot://", connect_args={"catalog": door.catalog(), "dialect": door.dialect})
    sequence = door.sequence_value()

    def run(sql: str) -> None:
        with engine.connect() as connection:
            try:
                connection.exec_driver_sql(sql)
            except sa.exc.DBAPIError as e:
                assert isinstance(e.orig, piot.Error), repr(e.orig)
                raise e.orig from None

    try:
        wrong = _refusals(door, run, _sql_path_statements(door))
    finally:
        engine.dispose()
    assert not wrong, "\n".join(wrong)
    door.assert_untouched(sequence)


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_scan_db_refuses_before_reading_the_schema(door: Door) -> None:
    sequence = door.sequence_value()
    wrong = _refusals(door, lambda sql: piot.scan_db(sql, door.piot_url), hostile(door.kind, TABLE))
    assert not wrong, "\n".join(wrong)
    door.assert_untouched(sequence)
    assert piot.scan_db(f"SELECT id FROM {TABLE}", door.piot_url).collect().height == len(ROWS)
    assert door.kind == "sqlite" or door.contacts > 0, "the relay must count piot's connections"


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_the_read_a_worker_runs_is_checked_again(door: Door) -> None:
    """``execute_on_ray`` ships the scan to Ray workers; a scan whose query was altered on the way is refused there."""
    source = piot.connectors.load_catalog(door.catalog()).source("db")
    sequence = door.sequence_value()

    def run(sql: str) -> None:
        scan = DbScan(source=source, query_sql=sql, schema=(("id", pl.Int64()),))
        list(scan(None, pl.col("id") > 0, 10, None))

    wrong = _refusals(door, run, hostile(door.kind, TABLE))
    assert not wrong, "\n".join(wrong)
    door.assert_untouched(sequence)


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_prompt_refuses_each_statement_of_a_script(door: Door, tmp_path: Path) -> None:
    catalog = tmp_path / "piot.toml"
    catalog.write_text(f'[sources.db]\nurl = "{door.piot_url}"\n[sources.db.tables.{TABLE}]\ndate_column = "d"\n')
    statements = [s for s in _sql_path_statements(door) if "$$" not in s and ";" not in s]
    before, sequence = door.contacts, door.sequence_value()
    done = subprocess.run(
        [sys.executable, "-m", "piot.shell.main", "--catalog", str(catalog), "-c", ";\n".join(statements) + ";"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR: ")]
    assert len(errors) == len(statements), done.stderr[-3000:]
    assert all("not allowed" in line or "not supported" in line or "syntax error" in line for line in errors), errors
    assert "Traceback" not in done.stderr and door.contacts == before
    door.assert_untouched(sequence)


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_show_and_describe_do_not_carry_a_second_statement(door: Door) -> None:
    connection = piot.connect(door.catalog(), dialect=door.dialect)
    statements = [
        f"DESCRIBE db.{TABLE}; DELETE FROM db.{TABLE}",
        f"SHOW TABLES; DROP TABLE db.{TABLE}",
        f"SHOW TABLES FROM db; DELETE FROM db.{TABLE}",
        "SHOW SOURCES; SELECT pg_sleep(3)",
        "SHOW GRANTS",
        "SHOW VARIABLES",
        "DESCRIBE SELECT 1",
        f"DESC db.{TABLE} FOR UPDATE",
    ]
    wrong = _refusals(door, lambda sql: connection.cursor().execute(sql), statements)
    assert not wrong, "\n".join(wrong)
