"""The statistics cache on a SQLite file: what it answers, how long it keeps it, and how a slow read is stopped.

PostgreSQL's and MariaDB's paths (planner statistics, row estimates, index lookups) are
exercised against the servers by ``tests/engine/test_one_sided_bounds.py``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from piot.connectors import Column, TableInfo, load_catalog
from piot.connectors.introspect import catalog_rows
from piot.connectors.kind_sql import CatalogQuery
from piot.connectors.limits import ReadControl, controlled
from piot.connectors.statistics import StatisticsCache, day_counts_sql, span_sql
from piot.connectors.types import declared_type
from piot.errors import OperationalError


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def table(tmp_path: Path) -> TableInfo:
    path = tmp_path / "stats.db"
    with sqlite3.connect(path) as handle:
        handle.executescript(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, d DATE, ts TIMESTAMP);"
            "INSERT INTO t VALUES (1, '2024-01-05', '2024-01-05 10:00:00'), (2, '2024-01-05', '2024-01-05 23:59:59.5'),"
            " (3, '2024-03-01', '2024-03-01 00:00:00'), (4, NULL, NULL);"
        )
    handle.close()
    source = load_catalog({"sources": {"lite": {"url": f"sqlite://{path}"}}}).source("lite")
    columns = (
        Column("id", declared_type("INTEGER")),
        Column("d", declared_type("DATE", text_dates=True)),
        Column("ts", declared_type("TIMESTAMP", text_dates=True)),
    )
    return TableInfo(source, None, "t", columns, source.settings_for(None, "t"))


def _add(table: TableInfo, row: str) -> None:
    path = table.source.url.split("://", 1)[1]
    with sqlite3.connect(path) as handle:
        handle.execute(f"INSERT INTO t VALUES {row}")
    handle.close()


def test_a_count_per_day_is_the_profile(table: TableInfo) -> None:
    profile = StatisticsCache().profile(table, "ts")
    assert profile is not None and profile.how == "a count per day"
    assert (profile.first, profile.last, profile.rows) == (dt.datetime(2024, 1, 5), dt.datetime(2024, 3, 1), 3.0)
    assert profile.between(dt.datetime(2024, 1, 5), dt.datetime(2024, 1, 6)) == 2.0


def test_profiles_are_kept_a_short_while(table: TableInfo) -> None:
    clock = Clock()
    cache = StatisticsCache(lifetime=60.0, clock=clock)
    first = cache.profile(table, "d")
    _add(table, "(5, '2031-05-05', NULL)")
    clock.now += 59.0
    assert cache.profile(table, "d") == first  # kept: the new row is not seen yet
    clock.now += 2.0
    later = cache.profile(table, "d")
    assert later is not None and later.last == dt.datetime(2031, 5, 5)


def test_the_statements_are_built_for_the_source(table: TableInfo) -> None:
    assert span_sql(table, "d") == 'SELECT CAST(MIN("d") AS TEXT) AS "first", CAST(MAX("d") AS TEXT) AS "last" FROM "t"'
    assert day_counts_sql(table, "d") == (
        'SELECT SUBSTRING("d", 1, 10) AS "day", COUNT(*) AS "rows_on_day" FROM "t" WHERE NOT "d" IS NULL '
        'GROUP BY SUBSTRING("d", 1, 10) LIMIT 100001'
    )


def test_a_sqlite_read_stops_at_its_deadline(table: TableInfo) -> None:
    endless = CatalogQuery("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT COUNT(*) FROM n")
    control = ReadControl(deadline=0.0, query_timeout=0.5)  # long past
    with controlled(control), pytest.raises(OperationalError, match="query timeout of 0.5 s exceeded"):
        catalog_rows(table.source, endless)
