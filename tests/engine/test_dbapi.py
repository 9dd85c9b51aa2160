"""The PEP 249 driver, point by point, against a small SQLite catalog (and one PostgreSQL table).

Module globals, exceptions, type objects and constructors; connection and cursor life cycle;
``description`` type codes and sizes per column type; fetch sizes, iteration and lazy row
conversion; parameters of every Python type through a real query; per-query stats against
EXPLAIN; cancelling from another thread; sharing one connection between threads.
"""

from __future__ import annotations

import datetime as dt
import doctest
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pytest
from corpus_data import run_cli

import piot
import piot.dbapi.connection
import piot.dbapi.cursor

EXCEPTIONS = ("Warning", "Error", "InterfaceError", "DatabaseError", "DataError", "OperationalError",
              "IntegrityError", "InternalError", "ProgrammingError", "NotSupportedError")  # fmt: skip
BIG_ROWS = 20_000
START = dt.date(2022, 1, 1)
KINDS_ROWS = [
    (1, 1.5, "abc", "2024-01-02", "2024-01-02 03:04:05", 1, b"\x00\xff"),
    (2, -2.25, "héllo wörld", "2024-02-29", "2024-02-29 23:59:59.250000", 0, b""),
    (3, None, None, None, None, None, None),
]


# -- fixtures ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``lite.kinds`` (one column per type), ``lite.big`` (20,000 rows over 2024) and
    ``lite.events`` (5 rows a day over 2022-2023, split daily)."""
    path: Path = tmp_path_factory.mktemp("dbapi") / "lite.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE kinds (i INTEGER, f REAL, s TEXT, d DATE, ts TIMESTAMP, b BOOLEAN, bin BLOB)")
        db.executemany("INSERT INTO kinds VALUES (?, ?, ?, ?, ?, ?, ?)", KINDS_ROWS)
        db.execute("CREATE TABLE big (id INTEGER, d DATE, v REAL)")
        db.executemany(
            "INSERT INTO big VALUES (?, ?, ?)",
            [(i, (dt.date(2024, 1, 1) + dt.timedelta(days=i % 366)).isoformat(), i / 4) for i in range(BIG_ROWS)],
        )
        db.execute("CREATE TABLE events (d DATE, amount INTEGER)")
        days = [(START + dt.timedelta(days=i)).isoformat() for i in range(730)]
        db.executemany("INSERT INTO events VALUES (?, ?)", [(d, k) for d in days for k in range(5)])
    tables = {"big": {"date_column": "d", "time_unit": "monthly"}, "events": {"date_column": "d", "time_unit": "daily"}}
    return {"sources": {"lite": {"url": f"sqlite://{path}", "tables": tables}}}


@pytest.fixture(scope="module")
def conn(catalog: dict[str, Any]) -> Iterator[piot.Connection]:
    connection = piot.connect(catalog)
    yield connection
    connection.close()


@pytest.fixture
def cur(conn: piot.Connection, ray_session: None) -> Iterator[piot.Cursor]:
    cursor = conn.cursor()
    yield cursor
    cursor.close()


# -- module interface -------------------------------------------------------------------------
def test_module_globals_and_doctests() -> None:
    for module in (piot, piot.dbapi.connection):
        assert (module.apilevel, module.threadsafety, module.paramstyle) == ("2.0", 2, "qmark")
        assert module.connect is piot.dbapi.connection.connect
    assert doctest.testmod(piot.dbapi.connection).failed == 0
    assert doctest.testmod(piot.dbapi.cursor).failed == 0


def test_exceptions_on_module_and_connection(conn: piot.Connection) -> None:
    for name in EXCEPTIONS:
        cls = getattr(piot, name)
        assert getattr(piot.dbapi.connection, name) is cls is getattr(conn, name) is getattr(piot.errors, name)
    assert issubclass(piot.Warning, Exception) and issubclass(piot.Error, Exception)
    assert not issubclass(piot.Warning, piot.Error)
    assert issubclass(piot.InterfaceError, piot.Error) and issubclass(piot.DatabaseError, piot.Error)
    for name in ("DataError", "OperationalError", "IntegrityError", "InternalError", "ProgrammingError", "NotSupportedError"):
        assert issubclass(getattr(piot, name), piot.DatabaseError)


def test_type_objects_compare_with_codes() -> None:
    groups = {piot.STRING: {"string"}, piot.BINARY: {"binary"}, piot.NUMBER: {"integer", "float", "decimal", "boolean"},
              piot.DATETIME: {"date", "timestamp", "time", "duration"}, piot.ROWID: {"rowid"}}  # fmt: skip
    codes = set().union(*groups.values()) | {"list", "null"}
    for group, members in groups.items():
        for code in codes:
            assert (code == group) is (code in members) and (group == code) is (code in members)
            assert (code != group) is (code not in members) and (group != code) is (code not in members)
        assert group == group and all(group != other for other in groups if other is not group)
    assert len(set(groups)) == 5 and repr(piot.NUMBER) == "piot.NUMBER"


def test_constructors() -> None:
    assert piot.Date(2024, 2, 29) == dt.date(2024, 2, 29)
    assert piot.Time(13, 14, 15) == dt.time(13, 14, 15)
    assert piot.Timestamp(2024, 2, 29, 13, 14, 15) == dt.datetime(2024, 2, 29, 13, 14, 15)
    ticks = time.mktime((2024, 2, 29, 13, 14, 15, 0, 0, -1))  # local time
    assert piot.DateFromTicks(ticks) == dt.date(2024, 2, 29)
    assert piot.TimeFromTicks(ticks) == dt.time(13, 14, 15)
    assert piot.TimestampFromTicks(ticks) == dt.datetime(2024, 2, 29, 13, 14, 15)
    assert piot.Binary(bytearray(b"\x00\x01")) == b"\x00\x01" and type(piot.Binary(b"x")) is bytes


# -- connection -------------------------------------------------------------------------------
def test_closed_connection_refuses_everything(catalog: dict[str, Any], ray_session: None) -> None:
    connection = piot.connect(catalog)
    assert connection.commit() is None and connection.rollback() is None  # read-only: no-ops
    cursor = connection.cursor().execute("SELECT id FROM lite.big WHERE id < 3 ORDER BY id")
    assert cursor.fetchone() == (0,)
    connection.close()
    connection.close()  # again is harmless
    assert cursor.closed and "closed" in repr(connection)
    for call in (connection.cursor, connection.commit, connection.rollback, cursor.fetchone, cursor.fetchall,
                 cursor.fetchmany, cursor.fetch_polars, lambda: cursor.execute("SELECT 1")):  # fmt: skip
        with pytest.raises(piot.InterfaceError, match="connection is closed"):
            call()


def test_connection_and_cursor_context_managers(catalog: dict[str, Any], ray_session: None) -> None:
    with piot.connect(catalog) as connection:
        with connection.cursor() as cursor:
            assert cursor.execute("SELECT count(*) FROM lite.kinds").fetchall() == [(3,)]
        assert cursor.closed and not connection.closed
    assert connection.closed


def test_closing_the_connection_cancels_a_running_query(catalog: dict[str, Any], ray_session: None) -> None:
    connection = piot.connect(catalog, max_concurrency=1)
    cursor = connection.cursor()
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            cursor.execute("SELECT sum(amount) FROM lite.events WHERE d >= '2022-01-01' AND d < '2024-01-01'")
        except BaseException as e:
            outcome.append(e)

    worker = threading.Thread(target=run)
    worker.start()
    _wait_for(lambda: cursor.progress is not None and cursor.progress.fragments_done >= 1)
    connection.close()
    worker.join(30)
    assert not worker.is_alive()
    assert isinstance(outcome[0], piot.OperationalError) and str(outcome[0]) == "query cancelled"


# -- cursor life cycle ------------------------------------------------------------------------
def test_fetching_before_execute_or_after_failure_is_a_programming_error(cur: piot.Cursor) -> None:
    assert cur.description is None and cur.rowcount == -1 and cur.rownumber is None and cur.progress is None
    for call in (cur.fetchone, cur.fetchall, cur.fetchmany, cur.fetch_arrow, cur.fetch_polars):
        with pytest.raises(piot.ProgrammingError, match="call execute"):
            call()
    assert cur.execute("SELECT count(*) FROM lite.kinds") is cur
    with pytest.raises(piot.ProgrammingError, match="nope"):
        cur.execute("SELECT nope FROM lite.kinds")
    assert cur.description is None and cur.rowcount == -1  # the earlier result is gone
    with pytest.raises(piot.ProgrammingError):
        cur.fetchone()
    assert cur.progress is not None and cur.progress.state == "failed" and cur.progress.done


def test_closed_cursor_raises_interface_error(conn: piot.Connection, ray_session: None) -> None:
    cursor = conn.cursor().execute("SELECT count(*) FROM lite.kinds")
    cursor.close()
    cursor.close()  # again is harmless
    assert cursor.closed and cursor.description is None and cursor.rowcount == -1
    calls = (cursor.fetchone, cursor.fetchall, cursor.fetchmany, cursor.fetch_arrow, cursor.fetch_polars, cursor.nextset,
             lambda: cursor.execute("SELECT 1"), lambda: cursor.executemany("SELECT ?", [[1]]),
             lambda: cursor.callproc("p"), lambda: cursor.setinputsizes([1]), lambda: cursor.setoutputsize(1))  # fmt: skip
    for call in calls:
        with pytest.raises(piot.InterfaceError, match="cursor is closed"):
            call()
    assert not conn.closed and conn.cursor().execute("SELECT 1 AS one").fetchall() == [(1,)]


def test_optional_methods(cur: piot.Cursor) -> None:
    assert cur.setinputsizes([None, 10]) is None and cur.setoutputsize(100) is None and cur.setoutputsize(100, 0) is None
    assert cur.execute("SELECT i FROM lite.kinds WHERE i = 2").fetchall() == [(2,)]
    with pytest.raises(piot.NotSupportedError, match="stored procedures"):
        cur.callproc("refresh", [1])
    with pytest.raises(piot.NotSupportedError, match="single result set"):
        cur.nextset()
    with pytest.raises(piot.NotSupportedError):
        cur.execute("DELETE FROM lite.kinds")
    assert cur.connection is not None and cur.lastrowid is None


# -- description ------------------------------------------------------------------------------
def test_description_type_codes_and_sizes(cur: piot.Cursor) -> None:
    cur.execute("SELECT i, f, CAST(f AS DECIMAL(10, 2)) AS dec, s, d, ts, b, bin FROM lite.kinds ORDER BY i")
    description = cur.description
    assert description is not None and all(len(column) == 7 for column in description)
    assert [c[0] for c in description] == ["i", "f", "dec", "s", "d", "ts", "b", "bin"]
    expected = [("integer", piot.NUMBER), ("float", piot.NUMBER), ("decimal", piot.NUMBER), ("string", piot.STRING),
                ("date", piot.DATETIME), ("timestamp", piot.DATETIME), ("boolean", piot.NUMBER), ("binary", piot.BINARY)]  # fmt: skip
    for column, (code, group) in zip(description, expected):
        assert column[1] == code and column[1] == group and group == column[1]
        assert all(column[1] != other for other in (piot.STRING, piot.BINARY, piot.NUMBER, piot.DATETIME) if other != group)
        assert column[6] is True
    by_name = {c[0]: c for c in description}
    assert by_name["i"][2:6] == (None, 8, 19, 0)
    assert by_name["f"][3] == 8
    assert by_name["dec"][4:6] == (10, 2)
    assert by_name["s"][2:4] == (len("héllo wörld"), len("héllo wörld".encode()))
    assert by_name["bin"][3] == 2
    assert by_name["d"][3] == 4 and by_name["ts"][3] == 8
    rows = cur.fetchall()
    assert rows[0] == (1, 1.5, Decimal("1.50"), "abc", dt.date(2024, 1, 2), dt.datetime(2024, 1, 2, 3, 4, 5), True, b"\x00\xff")
    assert rows[1][5] == dt.datetime(2024, 2, 29, 23, 59, 59, 250000) and rows[1][6] is False
    assert rows[2] == (3, None, None, None, None, None, None, None)


def test_explain_through_the_cursor(cur: piot.Cursor) -> None:
    cur.execute("EXPLAIN SELECT id FROM lite.big WHERE d >= '2024-01-01' AND d < '2024-04-01'")
    assert [c[0] for c in cur.description or []] == ["step", "source", "period_start", "period_end", "sql", "note", "task"]
    assert all(c[1] == piot.STRING for c in cur.description or [])
    rows = cur.fetchall()
    assert [row[0] for row in rows] == ["fragment"] * 3 + ["merge"] and cur.rowcount == 4
    assert cur.progress is not None and cur.progress.state == "finished" and cur.progress.fragments_total == 0
    # SQLite keeps dates as text: its window is widened to whole days, and the task filters the rows read exactly
    assert all(row[6].startswith("filter exactly: ") and row[6].endswith("; ship the rows") for row in rows[:-1])
    assert rows[-1][6] == "the whole query over the fragments' rows"


def test_explain_analyze_through_the_cursor(cur: piot.Cursor, catalog: dict[str, Any]) -> None:
    """It runs the query and gives per fragment the rows SQLite itself counts in that window."""
    query = "SELECT id, v FROM lite.big WHERE d >= ? AND d < ?"
    cur.execute("EXPLAIN ANALYZE " + query, [dt.date(2024, 1, 15), dt.date(2024, 5, 1)])
    names = [c[0] for c in cur.description or []]
    rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    assert [row["step"] for row in rows] == ["fragment"] * 4 + ["merge"]
    assert cur.progress is not None and cur.progress.fragments_total == cur.progress.fragments_done == 4
    with sqlite3.connect(catalog["sources"]["lite"]["url"].removeprefix("sqlite://")) as db:
        for row in rows[:-1]:
            window = (row["period_start"], row["period_end"])
            (count,) = db.execute("SELECT count(*) FROM big WHERE d >= ? AND d < ?", window).fetchone()
            assert row["rows"] == count > 0 and row["attempts"] >= 1 and isinstance(row["task_seconds"], float)
        (total,) = db.execute("SELECT count(*) FROM big WHERE d >= '2024-01-15' AND d < '2024-05-01'").fetchone()
    assert rows[-1]["rows"] == rows[-1]["rows_read"] == total


# -- fetching ---------------------------------------------------------------------------------
def test_fetchmany_sizes_arraysize_and_rowcount(cur: piot.Cursor) -> None:
    cur.execute("SELECT id FROM lite.big WHERE id < 10 ORDER BY id")
    assert cur.rowcount == 10 and cur.arraysize == 1
    assert cur.fetchmany() == [(0,)]
    cur.arraysize = 3
    assert cur.fetchmany() == [(1,), (2,), (3,)]
    assert cur.fetchmany(4) == [(4,), (5,), (6,), (7,)] and cur.rownumber == 8
    assert cur.fetchone() == (8,)
    assert cur.fetchmany(5) == [(9,)]
    assert cur.fetchmany() == [] and cur.fetchone() is None and cur.fetchall() == []
    assert cur.rowcount == 10  # fetching does not change it
    with pytest.raises(piot.ProgrammingError, match="non-negative"):
        cur.fetchmany(-1)
    assert cur.execute("SELECT id FROM lite.big WHERE id < 0").rowcount == 0 and cur.fetchall() == []


def test_fetches_cross_conversion_batches_in_order(cur: piot.Cursor) -> None:
    cur.execute("SELECT id FROM lite.big ORDER BY id")
    batch = piot.dbapi.cursor.FETCH_BATCH_ROWS
    got = [cur.fetchone()] + cur.fetchmany(batch + 5) + cur.fetchmany(batch) + cur.fetchall()
    assert [row[0] for row in got if row is not None] == list(range(BIG_ROWS))


def test_iteration(cur: piot.Cursor) -> None:
    query = "SELECT id, v FROM lite.big WHERE id < 7 ORDER BY id"
    expected = cur.execute(query).fetchall()
    assert len(expected) == 7
    assert iter(cur.execute(query)) is cur and list(cur) == expected
    cur.execute(query)
    assert next(cur) == expected[0]
    assert [row for _, row in zip(range(2), cur)] == expected[1:3]
    assert cur.fetchall() == expected[3:]
    assert list(cur) == []


def test_rows_are_converted_lazily_batch_by_batch(cur: piot.Cursor, monkeypatch: pytest.MonkeyPatch) -> None:
    converted: list[int] = []
    original = pl.DataFrame.rows

    def counting_rows(self: pl.DataFrame, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        converted.append(self.height)
        return original(self, *args, **kwargs)

    cur.execute("SELECT id, d, v FROM lite.big")
    monkeypatch.setattr(pl.DataFrame, "rows", counting_rows)
    batch = piot.dbapi.cursor.FETCH_BATCH_ROWS
    assert cur.rowcount == BIG_ROWS > 3 * batch
    cur.fetchone()
    assert converted == [batch]
    cur.fetchmany(batch - 1)  # still inside the first batch
    assert converted == [batch]
    cur.fetchone()
    assert converted == [batch, batch] and cur.rownumber == batch + 1
    rest = cur.fetch_polars()  # no conversion at all
    assert converted == [batch, batch] and rest.height == BIG_ROWS - batch - 1


def test_fetch_arrow_and_polars_give_the_remaining_rows(cur: piot.Cursor) -> None:
    query = "SELECT id, d FROM lite.big WHERE id < 10 ORDER BY id"
    frame = cur.execute(query).fetch_polars()
    assert frame.columns == ["id", "d"] and frame["id"].to_list() == list(range(10))
    assert frame.schema["d"] == pl.Date and cur.fetchone() is None
    cur.execute(query)
    assert cur.fetchmany(3) == [(0, dt.date(2024, 1, 1)), (1, dt.date(2024, 1, 2)), (2, dt.date(2024, 1, 3))]
    table = cur.fetch_arrow()
    assert isinstance(table, pa.Table) and table.column("id").to_pylist() == list(range(3, 10))
    assert cur.fetch_arrow().num_rows == 0 and cur.fetchall() == []


def test_executemany_keeps_the_last_result(cur: piot.Cursor) -> None:
    assert cur.executemany("SELECT id, v FROM lite.big WHERE id = ?", [[1], (2,), [3]]) is cur
    assert cur.fetchall() == [(3, 0.75)] and cur.rowcount == 1
    cur.executemany("SELECT id FROM lite.big WHERE id = ?", [])
    assert cur.rowcount == -1 and cur.description is None
    with pytest.raises(piot.ProgrammingError):
        cur.fetchall()


# -- parameters -------------------------------------------------------------------------------
ROUND_TRIP = [
    None, True, False, 0, -7, 2**62, Decimal("12.345"), Decimal("-0.001"), "it's é ?", "",
    dt.date(2024, 2, 29), dt.datetime(2024, 1, 2, 3, 4, 5, 123456), dt.time(13, 14, 15, 16), b"\x00\xff'",
    0.1,
    dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2))),
]  # fmt: skip


@pytest.mark.parametrize("value", ROUND_TRIP, ids=repr)
def test_parameter_round_trips_through_a_query(cur: piot.Cursor, value: Any) -> None:
    cur.execute("SELECT ? AS v, i FROM lite.kinds WHERE i = ?", [value, 1])
    (got, i), = cur.fetchall()  # fmt: skip
    assert i == 1 and got == value and type(got) is type(value)


def test_parameters_filter_every_column_type(cur: piot.Cursor) -> None:
    where = "i = ? AND f = ? AND s = ? AND d = ? AND ts = ? AND b = ? AND bin = ?"
    row = (2, -2.25, "héllo wörld", dt.date(2024, 2, 29), dt.datetime(2024, 2, 29, 23, 59, 59, 250000), False, b"")
    assert cur.execute(f"SELECT i FROM lite.kinds WHERE {where}", row).fetchall() == [(2,)]
    assert cur.execute(f"SELECT i FROM lite.kinds WHERE {where}", (1, *row[1:])).fetchall() == []
    assert cur.execute("SELECT i FROM lite.kinds WHERE bin = ? OR i = ?", [bytearray(b"\x00\xff"), 3]).fetchall() == [(1,), (3,)]


def test_parameter_errors(cur: piot.Cursor) -> None:
    with pytest.raises(piot.InterfaceError, match="qmark.*not a mapping"):
        cur.execute("SELECT i FROM lite.kinds WHERE i = ?", {"i": 1})
    with pytest.raises(piot.InterfaceError, match="1 \\? placeholder.*2 parameter"):
        cur.execute("SELECT i FROM lite.kinds WHERE i = ?", [1, 2])
    with pytest.raises(piot.InterfaceError, match="2 \\? placeholder.*0 parameter"):
        cur.execute("SELECT i FROM lite.kinds WHERE i = ? OR i = ?")
    with pytest.raises(piot.InterfaceError, match="list or tuple"):
        cur.execute("SELECT i FROM lite.kinds WHERE s = ?", "a")
    with pytest.raises(piot.InterfaceError, match="cannot bind.*timedelta"):
        cur.execute("SELECT i FROM lite.kinds WHERE i = ?", [dt.timedelta(days=1)])
    assert cur.execute("SELECT '?' AS q FROM lite.kinds WHERE i = ?", [3]).fetchall() == [("?",)]


# -- stats, callbacks, cancelling -------------------------------------------------------------
def test_stats_after_a_split_query_match_explain(cur: piot.Cursor) -> None:
    query = "SELECT id FROM lite.big WHERE d >= ? AND d < ?"
    bounds = [dt.date(2024, 1, 15), dt.date(2024, 5, 1)]
    fragments = sum(row[0] == "fragment" for row in cur.execute("EXPLAIN " + query, bounds).fetchall())
    assert fragments == 4
    seen: list[tuple[str, int, int]] = []
    cur.on_progress = lambda p: seen.append((p.state, p.fragments_total, p.fragments_done))
    cur.execute(query, bounds)
    progress = cur.progress
    assert progress is not None and progress.state == "finished" and progress.done and progress.fraction == 1.0
    assert progress.fragments_total == progress.fragments_done == fragments
    assert progress.rows == cur.rowcount == len(cur.fetchall()) > 0
    assert progress.elapsed > 0 and progress.elapsed == progress.elapsed  # frozen once over
    assert seen[0] == ("running", fragments, 0) and seen[-1] == ("finished", fragments, fragments)
    assert [done for _, _, done in seen] == sorted(done for _, _, done in seen)
    assert ("merging", fragments, fragments) in seen
    own: list[str] = []
    calls = len(seen)
    cur.execute("SELECT count(*) FROM lite.kinds", on_progress=lambda p: own.append(p.state))
    assert own == ["running", "merging", "finished"] and len(seen) == calls  # the argument wins over the attribute


def test_a_failing_callback_stops_the_query(cur: piot.Cursor) -> None:
    def boom(progress: piot.QueryProgress) -> None:
        if progress.fragments_done:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        cur.execute("SELECT id FROM lite.big WHERE d >= '2024-01-01' AND d < '2024-04-01'", on_progress=boom)
    assert cur.progress is not None and cur.progress.state == "failed" and cur.rowcount == -1


def test_unexpected_exceptions_become_internal_errors(conn: piot.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> Any:
        raise KeyError("oops")

    monkeypatch.setattr(conn.engine, "plan", broken)
    with pytest.raises(piot.InternalError, match="unexpected KeyError.*a bug in piot") as caught:
        conn.cursor().execute("SELECT 1")
    # no chain (a bug's frames may hold secrets): the message names where it was raised instead
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    assert "test_dbapi.py" in caught.value.message and "in broken" in caught.value.message


def test_cancel_from_another_thread(catalog: dict[str, Any], ray_session: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import ray

    cursor = piot.connect(catalog, max_concurrency=1).cursor()
    cursor.cancel()  # nothing runs: no effect
    cancelled_refs: list[Any] = []
    real_cancel = ray.cancel

    def spy(ref: Any, **kwargs: Any) -> None:
        cancelled_refs.append(ref)
        real_cancel(ref, **kwargs)

    monkeypatch.setattr(ray, "cancel", spy)
    seen: dict[str, Any] = {}

    def watch_and_cancel() -> None:
        _wait_for(lambda: cursor.progress is not None and cursor.progress.fragments_done >= 2)
        progress = cursor.progress
        assert progress is not None
        seen.update(state=progress.state, total=progress.fragments_total, done=progress.fragments_done, elapsed=progress.elapsed)
        cursor.cancel()

    watcher = threading.Thread(target=watch_and_cancel)
    watcher.start()
    began = time.monotonic()
    with pytest.raises(piot.OperationalError) as caught:
        cursor.execute("SELECT sum(amount) FROM lite.events WHERE d >= '2022-01-01' AND d < '2024-01-01'")
    watcher.join(10)
    assert str(caught.value) == "query cancelled" and time.monotonic() - began < 20
    assert seen["state"] == "running" and seen["total"] == 730 and 2 <= seen["done"] < 730 and seen["elapsed"] > 0
    progress = cursor.progress
    assert progress is not None and progress.state == "cancelled" and progress.fragments_done < 730
    done_then = progress.fragments_done
    assert cancelled_refs == []  # in-flight tasks are dropped, not ray.cancel()ed (a cancel/complete race aborts Ray's driver)
    _wait_for(lambda: ray.available_resources().get("CPU") == ray.cluster_resources().get("CPU"))
    assert progress.fragments_done == done_then and cursor.rowcount == -1
    monkeypatch.undo()
    assert cursor.execute("SELECT count(*) FROM lite.events WHERE d = ?", [START]).fetchall() == [(5,)]


# -- threads ----------------------------------------------------------------------------------
def test_threads_share_one_connection(conn: piot.Connection, ray_session: None) -> None:
    results: dict[int, Any] = {}

    def work(n: int) -> None:
        with conn.cursor() as cursor:
            cursor.execute("SELECT count(*), min(id) FROM lite.big WHERE id >= ? AND d < '2024-03-01'", [n * 1000])
            results[n] = cursor.fetchone()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    frame = pl.DataFrame({"id": range(BIG_ROWS)}).with_columns(d=pl.col("id") % 366)
    for n in range(4):
        wanted = frame.filter((pl.col("id") >= n * 1000) & (pl.col("d") < 31 + 29))
        assert results[n] == (wanted.height, wanted["id"].min())


def test_threads_never_start_ray_at_the_same_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import ray

    import piot.run.runtime

    inside, most = [0], [0]

    def slow_start(address: str | None) -> None:
        inside[0] += 1
        most[0] = max(most[0], inside[0])
        time.sleep(0.05)
        inside[0] -= 1

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(piot.run.runtime, "_start", slow_start)
    threads = [threading.Thread(target=piot.run.runtime.ensure_ray) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert most == [1]


# -- PostgreSQL -------------------------------------------------------------------------------
@pytest.mark.postgres
def test_postgres_types_and_parameters(pg_url: str, ray_session: None) -> None:
    table = f"piot_dbapi_{secrets.token_hex(4)}"
    run_cli("postgres", pg_url, f"""
        CREATE TABLE {table} (i integer, n numeric(10,2), s varchar(20), d date, ts timestamp, tz timestamptz, b boolean, bin bytea);
        INSERT INTO {table} VALUES (1, 12.34, 'x', '2024-02-29', '2024-01-02 03:04:05.5', '2024-01-02 03:04:05+00', true, '\\x00ff'),
                                   (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    """)  # fmt: skip
    try:
        with piot.connect({"sources": {"pg": {"url": pg_url}}}) as connection:
            cursor = connection.cursor()
            where = "n = ? AND s = ? AND d = ? AND ts = ? AND b = ? AND bin = ?"
            params = [Decimal("12.34"), "x", dt.date(2024, 2, 29), dt.datetime(2024, 1, 2, 3, 4, 5, 500000), True, b"\x00\xff"]
            cursor.execute(f"SELECT * FROM pg.public.{table} WHERE {where}", params)
            description = cursor.description or []
            assert [c[1] for c in description] == ["integer", "decimal", "string", "date", "timestamp", "timestamp", "boolean", "binary"]
            assert description[1][4:6] == (10, 2) and description[1][1] == piot.NUMBER
            assert description[5][1] == piot.DATETIME and description[7][1] == piot.BINARY
            row = cursor.fetchone()
            assert row is not None and row[:5] == (1, Decimal("12.34"), "x", dt.date(2024, 2, 29), dt.datetime(2024, 1, 2, 3, 4, 5, 500000))
            assert row[5] == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc) and row[6:] == (True, b"\x00\xff")
            assert cursor.fetchone() is None and cursor.rowcount == 1
    finally:
        run_cli("postgres", pg_url, f"DROP TABLE IF EXISTS {table};")


def _wait_for(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.005)
