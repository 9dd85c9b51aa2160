"""Filters written on one side of a cross-source join equality reach every side, and the answer stays right.

A date bound splits both sides; other simple filters (``=``, IN, LIKE, ranges) are pushed
into every source whose column is tied to the filtered one by equalities, also chained
through a third table, as long as the columns have the same kind of type.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from pathlib import Path
from typing import Any

import duckdb
import pytest

import piot

QUERIES = [
    "SELECT a.sym, count(*) AS n, sum(a.qty * b.px) AS value FROM fa.t AS a JOIN fb.t AS b ON a.d = b.d AND a.sym = b.sym "
    "WHERE b.d BETWEEN '2024-01-15' AND '2024-03-01' GROUP BY a.sym",
    "SELECT a.d, b.px FROM fa.t AS a, fb.t AS b WHERE a.d = b.d AND a.sym = b.sym AND a.d >= '2024-02-28' AND a.d < '2024-03-02'",
    "SELECT a.sym, count(b.px) AS n FROM fa.t AS a LEFT JOIN fb.t AS b ON a.d = b.d AND a.sym = b.sym "
    "WHERE a.d BETWEEN '2024-01-30' AND '2024-02-02' GROUP BY a.sym",
    # chained: the bound sits on c, a reaches it through b
    "SELECT a.sym, count(*) AS n FROM fa.t AS a JOIN fb.t AS b ON a.d = b.d AND a.sym = b.sym JOIN fc.t AS c ON b.d = c.d "
    "AND b.sym = c.sym WHERE c.d >= '2024-02-01' AND c.d < '2024-02-10' AND c.sym IN ('A', 'B') AND c.qty > 3 GROUP BY a.sym",
    # an OR over both tables: each side reads what its part of every branch allows
    "SELECT a.sym, a.qty, b.px FROM fa.t AS a JOIN fb.t AS b ON a.d = b.d WHERE ((a.sym = 'A' AND b.qty > 5) "
    "OR (a.sym = 'B' AND a.qty < 3 AND b.qty < 3)) AND a.d BETWEEN '2024-02-01' AND '2024-02-20'",
    # a filter on a text column compared with a number column is not carried; the answer must not change
    "SELECT count(*) AS n FROM fa.t AS a JOIN fb.t AS b ON a.qty = b.px WHERE b.px = 3 AND a.d BETWEEN '2024-01-01' AND '2024-01-31'",
]
OR_ACROSS_TABLES = QUERIES[4]


def _rows(seed: int) -> list[tuple[Any, ...]]:
    chooser = random.Random(seed)
    days = [dt.date(2023, 12, 25) + dt.timedelta(days=i) for i in range(110)]
    return [(chooser.choice(days), chooser.choice("ABC"), chooser.randint(1, 9), round(chooser.uniform(1, 50), 2)) for _ in range(600)]


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], duckdb.DuckDBPyConnection]:
    root = tmp_path_factory.mktemp("joins")
    oracle = duckdb.connect()
    catalog: dict[str, Any] = {"sources": {}}
    for name, seed in (("fa", 1), ("fb", 2), ("fc", 3)):
        rows = _rows(seed)
        path: Path = root / f"{name}.db"
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE t (d DATE, sym TEXT, qty INTEGER, px REAL)")
            db.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", [(d.isoformat(), s, q, p) for d, s, q, p in rows])
        catalog["sources"][name] = {"url": f"sqlite://{path}"}
        oracle.execute(f"CREATE TABLE {name}_t (d DATE, sym VARCHAR, qty BIGINT, px DOUBLE)")
        oracle.executemany(f"INSERT INTO {name}_t VALUES (?, ?, ?, ?)", rows)
    return catalog, oracle


def _sorted(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted((tuple(round(v, 6) if isinstance(v, float) else v for v in row) for row in rows), key=repr)


@pytest.mark.parametrize("sql", QUERIES)
def test_split_equals_unsplit_equals_duckdb(sources: tuple[dict[str, Any], duckdb.DuckDBPyConnection], sql: str, ray_session: None) -> None:
    catalog, oracle = sources
    split = piot.connect(catalog, time_unit="daily").cursor().execute(sql).fetchall()
    unsplit = piot.connect(catalog, split=False).cursor().execute(sql).fetchall()
    expected = oracle.execute(sql.replace("fa.t", "fa_t").replace("fb.t", "fb_t").replace("fc.t", "fc_t")).fetchall()
    assert _sorted(split) == _sorted(unsplit) == _sorted(expected)


def test_both_sides_split_on_the_bound_written_once(sources: tuple[dict[str, Any], duckdb.DuckDBPyConnection]) -> None:
    catalog, _ = sources
    rows = piot.connect(catalog, time_unit="monthly").cursor().execute("EXPLAIN " + QUERIES[0]).fetchall()
    fragments = [(source, start, end) for step, source, start, end, *_ in rows if step == "fragment"]
    expected_periods = [("2024-01-15", "2024-02-01"), ("2024-02-01", "2024-03-01"), ("2024-03-01", "2024-03-01")]
    assert [(s, e) for source, s, e in fragments if source == "fa"] == expected_periods
    assert [(s, e) for source, s, e in fragments if source == "fb"] == expected_periods


def _fragment_sql(catalog: dict[str, Any], sql: str) -> dict[str, list[str]]:
    rows = piot.connect(catalog, time_unit="monthly").cursor().execute("EXPLAIN " + sql).fetchall()
    found: dict[str, list[str]] = {}
    for step, source, _start, _end, text, *_ in rows:
        if step == "fragment":
            found.setdefault(source, []).append(text)
    return found


def test_filters_follow_chained_equalities(sources: tuple[dict[str, Any], duckdb.DuckDBPyConnection]) -> None:
    """c's date bound, IN list and range reach b (one equality away) and a (two away): every source reads February 1-9 only."""
    catalog, _ = sources
    fragments = _fragment_sql(catalog, QUERIES[3])
    for source in ("fa", "fb", "fc"):
        (text,) = fragments[source]
        assert "'2024-02-01'" in text and "'2024-02-10'" in text, f"{source}: {text}"
        assert "IN ('A', 'B')" in text, f"{source}: {text}"
    assert '"qty" > 3' in fragments["fc"][0] and "qty" not in fragments["fa"][0].split("WHERE")[1]


def test_filters_do_not_cross_different_kinds_of_type(sources: tuple[dict[str, Any], duckdb.DuckDBPyConnection]) -> None:
    """An INTEGER tied to a REAL keeps its own filters: the carried copy would compare another kind of value."""
    catalog, _ = sources
    text = _fragment_sql(catalog, "SELECT a.sym FROM fa.t AS a JOIN fb.t AS b ON a.sym = b.px WHERE b.px = 3")["fa"][0]
    assert "WHERE" not in text


def test_outer_join_null_side_gets_no_carried_filter(sources: tuple[dict[str, Any], duckdb.DuckDBPyConnection]) -> None:
    """In a LEFT JOIN the right side keeps every row: a carried filter would change which left rows are padded."""
    catalog, _ = sources
    sql = "SELECT a.d FROM fa.t AS a LEFT JOIN fb.t AS b ON a.sym = b.sym WHERE a.sym = 'A'"
    fragments = _fragment_sql(catalog, sql)
    assert "'A'" in fragments["fa"][0] and "WHERE" not in fragments["fb"][0]


def test_each_side_reads_its_part_of_an_or(sources: tuple[dict[str, Any], duckdb.DuckDBPyConnection]) -> None:
    """``(a.x AND b.y) OR (a.z AND b.w)`` reads ``a.x OR a.z`` from a and ``b.y OR b.w`` from b, not everything."""
    catalog, _ = sources
    fragments = _fragment_sql(catalog, OR_ACROSS_TABLES)
    assert all("\"sym\" = 'A' OR (\"sym\" = 'B' AND \"qty\" < 3)" in text for text in fragments["fa"])
    assert all("\"qty\" > 5 OR \"qty\" < 3" in text for text in fragments["fb"])
