"""Tests of ``plan_statement``: SQL in, fragments (SQL per source and period) out.

Tables come from a fake ``lookup`` over a catalog with PostgreSQL, MariaDB and SQLite
sources; nothing is contacted. Fixture pairs pin the exact fragment SQL; property
tests run the fragments themselves (PostgreSQL fragments in DuckDB, SQLite fragments
in an in-memory SQLite over ISO text, then their exact filter in Polars) and check
that every row the query selects is read by exactly one fragment.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from typing import Any

import duckdb
import polars as pl
import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from piot.connectors import Column, TableInfo, load_catalog
from piot.connectors.types import declared_type
from piot.errors import NotSupportedError, ProgrammingError
from piot.plan.fragments import Scan
from piot.plan.periods import AUTO_DAILY_MAX_DAYS, AUTO_MONTHLY_MAX_DAYS
from piot.plan.planner import Plan, PlanOptions, plan_statement
from piot.sql.statement import parse_statement

NOW = dt.datetime(2024, 3, 10, 12, 0)

CATALOG = load_catalog(
    {
        "sources": {
            "pg": {
                "url": "postgresql://reader:s3cret@db.internal:5432/markets",
                "tables": {
                    "public.cfg": {"date_column": "d2"},
                    "daily": {"time_unit": "daily"},
                    "public.bad": {"date_column": "name"},
                    "public.ghost": {"date_column": "zz"},
                },
            },
            "my": {"url": "mysql://root@127.0.0.1:3306/test", "tables": {"cfg": {"date_column": "ts"}}},
            "lite": {
                "url": "sqlite:///tmp/piot-planner-never-opened.db",
                "tables": {"cfg": {"date_column": "d2", "time_unit": "yearly"}, "monthly": {"time_unit": "monthly"}},
            },
        }
    }
)

STANDARD = [("id", "INTEGER"), ("d", "DATE"), ("ts", "TIMESTAMP"), ("name", "TEXT"), ("price", "DOUBLE"), ("d2", "DATE"), ("qty", "INTEGER")]
TABLES: dict[str, list[tuple[str, str]]] = {
    "narrow": [("id", "INTEGER"), ("d", "DATE")],
    "mixed": [("Id", "INTEGER"), ("Trade_Date", "DATE"), ("Price", "DOUBLE")],
    "zoned": [("id", "INTEGER"), ("tz", "timestamp with time zone")],
}


class FakeLookup:
    """``lookup(source, schema, table)`` over made-up tables; remembers what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None, str]] = []

    def __call__(self, source: str, schema: str | None, table: str) -> TableInfo:
        self.calls.append((source, schema, table))
        src = CATALOG.source(source)
        if table.startswith("missing"):
            raise ProgrammingError(f"table {table!r} does not exist in source {source!r}")
        spec = TABLES.get(table, STANDARD)
        columns = tuple(Column(n, declared_type(t, text_dates=src.kind.text_dates)) for n, t in spec)
        return TableInfo(src, schema, table, columns, src.settings_for(schema, table))


def _plan(sql: str, lookup: Callable[..., TableInfo] | None = None, **options: Any) -> Plan:
    statement = parse_statement(sql, now=NOW)
    return plan_statement(statement, lookup or FakeLookup(), PlanOptions(**options))


def _only_scan(plan: Plan) -> Scan:
    assert len(plan.scans) == 1
    return plan.scans[0]


# --- exact fragment SQL per dialect ----------------------------------------------------

PG_MONTHLY = (
    "select name, sum(price) from pg.t where d between '2024-01-30' and '2024-02-02' and qty > 0 group by name",
    {"time_unit": "monthly"},
    [
        (
            '[2024-01-30, 2024-02-01)',
            'SELECT "name" AS "__piot_k0", SUM("price") AS "__piot_p0" FROM "public"."t" WHERE ("d" >= CAST(\'2024-01-30\' AS DATE) AND "d" < CAST(\'2024-02-01\' AS DATE)) AND "d" BETWEEN CAST(\'2024-01-30\' AS DATE) AND CAST(\'2024-02-02\' AS DATE) AND "qty" > 0 GROUP BY "name"',
            None,
        ),
        (
            '[2024-02-01, 2024-02-02]',
            'SELECT "name" AS "__piot_k0", SUM("price") AS "__piot_p0" FROM "public"."t" WHERE ("d" >= CAST(\'2024-02-01\' AS DATE) AND "d" <= CAST(\'2024-02-02\' AS DATE)) AND "d" BETWEEN CAST(\'2024-01-30\' AS DATE) AND CAST(\'2024-02-02\' AS DATE) AND "qty" > 0 GROUP BY "name"',
            None,
        ),
    ],
)

MYSQL_DAILY = (
    "select id from my.t where ts >= '2024-01-31 10:00' and ts < '2024-02-01 06:00' and name = 'x'",
    {},
    [
        (
            '[2024-01-31 10:00:00, 2024-02-01)',
            "SELECT `id`, `ts`, `name` FROM `t` WHERE (`ts` >= CAST('2024-01-31 10:00:00' AS DATETIME(6)) AND `ts` < CAST('2024-02-01 00:00:00' AS DATETIME(6))) AND `ts` >= CAST('2024-01-31 10:00:00' AS DATETIME(6)) AND `ts` < CAST('2024-02-01 06:00:00' AS DATETIME(6)) AND `name` = 'x'",
            '"name" = \'x\'',
        ),
        (
            '[2024-02-01, 2024-02-01 06:00:00)',
            "SELECT `id`, `ts`, `name` FROM `t` WHERE (`ts` >= CAST('2024-02-01 00:00:00' AS DATETIME(6)) AND `ts` < CAST('2024-02-01 06:00:00' AS DATETIME(6))) AND `ts` >= CAST('2024-01-31 10:00:00' AS DATETIME(6)) AND `ts` < CAST('2024-02-01 06:00:00' AS DATETIME(6)) AND `name` = 'x'",
            '"name" = \'x\'',
        ),
    ],
)

SQLITE_TEXT = (
    "select count(*) from lite.t where ts > '2024-02-28 12:00' and ts <= '2024-03-01' and price * 2 > 1",
    {},
    [
        (
            '(2024-02-28 12:00:00, 2024-02-29)',
            'SELECT "ts", "price" FROM "t" WHERE ("ts" >= \'2024-02-28\' AND "ts" < \'2024-02-29\') AND "ts" >= \'2024-02-28\' AND "ts" < \'2024-03-02\' AND "price" * 2 > 1',
            '("ts" > CAST(\'2024-02-28 12:00:00\' AS TIMESTAMP) AND "ts" < CAST(\'2024-02-29 00:00:00\' AS TIMESTAMP)) AND "ts" > CAST(\'2024-02-28 12:00:00\' AS TIMESTAMP) AND "ts" <= CAST(\'2024-03-01 00:00:00\' AS TIMESTAMP)',
        ),
        (
            '[2024-02-29, 2024-03-01)',
            'SELECT "ts", "price" FROM "t" WHERE ("ts" >= \'2024-02-29\' AND "ts" < \'2024-03-01\') AND "ts" >= \'2024-02-28\' AND "ts" < \'2024-03-02\' AND "price" * 2 > 1',
            '("ts" >= CAST(\'2024-02-29 00:00:00\' AS TIMESTAMP) AND "ts" < CAST(\'2024-03-01 00:00:00\' AS TIMESTAMP)) AND "ts" > CAST(\'2024-02-28 12:00:00\' AS TIMESTAMP) AND "ts" <= CAST(\'2024-03-01 00:00:00\' AS TIMESTAMP)',
        ),
        (
            '[2024-03-01, 2024-03-01]',
            'SELECT "ts", "price" FROM "t" WHERE ("ts" >= \'2024-03-01\' AND "ts" < \'2024-03-02\') AND "ts" >= \'2024-02-28\' AND "ts" < \'2024-03-02\' AND "price" * 2 > 1',
            '("ts" >= CAST(\'2024-03-01 00:00:00\' AS TIMESTAMP) AND "ts" <= CAST(\'2024-03-01 00:00:00\' AS TIMESTAMP)) AND "ts" > CAST(\'2024-02-28 12:00:00\' AS TIMESTAMP) AND "ts" <= CAST(\'2024-03-01 00:00:00\' AS TIMESTAMP)',
        ),
    ],
)

SQLITE_DATES = (
    "select id from lite.t where d >= '2024-02-28' and d < '2024-03-01'",
    {},
    [
        (
            '[2024-02-28, 2024-02-29)',
            'SELECT "id", "d" FROM "t" WHERE ("d" >= \'2024-02-28\' AND "d" < \'2024-02-29\') AND "d" >= \'2024-02-28\' AND "d" < \'2024-03-01\'',
            '("d" >= CAST(\'2024-02-28\' AS DATE) AND "d" < CAST(\'2024-02-29\' AS DATE)) AND "d" >= CAST(\'2024-02-28\' AS DATE) AND "d" < CAST(\'2024-03-01\' AS DATE)',
        ),
        (
            '[2024-02-29, 2024-03-01)',
            'SELECT "id", "d" FROM "t" WHERE ("d" >= \'2024-02-29\' AND "d" < \'2024-03-01\') AND "d" >= \'2024-02-28\' AND "d" < \'2024-03-01\'',
            '("d" >= CAST(\'2024-02-29\' AS DATE) AND "d" < CAST(\'2024-03-01\' AS DATE)) AND "d" >= CAST(\'2024-02-28\' AS DATE) AND "d" < CAST(\'2024-03-01\' AS DATE)',
        ),
    ],
)

PG_WHOLE = (
    "select count(*) from pg.public.t where name like 'a%'",
    {},
    [(None, "SELECT COUNT(*) AS \"__piot_p0\" FROM \"public\".\"t\" WHERE \"name\" LIKE 'a%'", None)],
)

PG_MIXED_CASE = (
    'select "Trade_Date", sum("Price") from pg.mixed where "Trade_Date" >= \'2024-01-01\' and "Trade_Date" < \'2024-01-03\' and "Price" > 1 group by "Trade_Date"',
    {},
    [
        (
            '[2024-01-01, 2024-01-02)',
            'SELECT "Trade_Date" AS "__piot_k0", SUM("Price") AS "__piot_p0" FROM "public"."mixed" WHERE ("Trade_Date" >= CAST(\'2024-01-01\' AS DATE) AND "Trade_Date" < CAST(\'2024-01-02\' AS DATE)) AND "Trade_Date" >= CAST(\'2024-01-01\' AS DATE) AND "Trade_Date" < CAST(\'2024-01-03\' AS DATE) AND "Price" > 1 GROUP BY "Trade_Date"',
            None,
        ),
        (
            '[2024-01-02, 2024-01-03)',
            'SELECT "Trade_Date" AS "__piot_k0", SUM("Price") AS "__piot_p0" FROM "public"."mixed" WHERE ("Trade_Date" >= CAST(\'2024-01-02\' AS DATE) AND "Trade_Date" < CAST(\'2024-01-03\' AS DATE)) AND "Trade_Date" >= CAST(\'2024-01-01\' AS DATE) AND "Trade_Date" < CAST(\'2024-01-03\' AS DATE) AND "Price" > 1 GROUP BY "Trade_Date"',
            None,
        ),
    ],
)

EXACT = {
    "postgres monthly": PG_MONTHLY,
    "mysql daily": MYSQL_DAILY,
    "sqlite timestamps": SQLITE_TEXT,
    "sqlite dates": SQLITE_DATES,
    "postgres whole table": PG_WHOLE,
    "postgres mixed-case columns": PG_MIXED_CASE,
}


@pytest.mark.parametrize("name", list(EXACT))
def test_exact_fragments(name: str) -> None:
    sql, options, expected = EXACT[name]
    scan = _only_scan(_plan(sql, **options))
    got = [(str(f.period) if f.period else None, f.sql, f.exact_filter) for f in scan.fragments]
    assert got == expected


def test_merge_sql_and_scan_fields() -> None:
    plan = _plan(PG_MONTHLY[0], **PG_MONTHLY[1])
    scan = _only_scan(plan)
    assert (scan.name, scan.alias, scan.table_name) == ("__piot_t0", "t", "pg.t")
    # PostgreSQL groups and sums in each fragment; the merge folds the partial sums
    assert scan.schema == (("__piot_k0", pl.String()), ("__piot_p0", pl.Float64()))
    assert scan.output.in_source and scan.output_schema == scan.schema
    assert plan.merge_sql == 'SELECT "t"."__piot_k0" AS "name", SUM("t"."__piot_p0") AS "sum(price)" FROM "__piot_t0" AS "t" GROUP BY "t"."__piot_k0"'
    assert plan.columns == ("name", "sum(price)")
    assert plan.fragments == scan.fragments
    assert all(f.source.name == "pg" and f.scan_name == "__piot_t0" for f in scan.fragments)
    assert "s3cret" not in repr(scan.fragments[0])


@pytest.mark.parametrize(
    ("sql", "table_sql"),
    [
        ("select id from pg.t", 'FROM "public"."t"'),
        ("select id from pg.public.t", 'FROM "public"."t"'),
        ("select id from pg.other.t", 'FROM "other"."t"'),
        ("select id from my.t", "FROM `t`"),
        ("select id from my.db2.t", "FROM `db2`.`t`"),
        ("select id from lite.t", 'FROM "t"'),
    ],
)
def test_source_table_names(sql: str, table_sql: str) -> None:
    assert table_sql in _only_scan(_plan(sql)).fragments[0].sql


# --- split decisions ---------------------------------------------------------------------

#: (query, options, split column, unit, reason, number of fragments)
SPLITS: list[tuple[str, dict[str, Any], str | None, str | None, str, int]] = [
    ("select id from pg.t", {}, None, None, "not split: WHERE has no two-sided bound on any DATE or TIMESTAMP column", 1),
    ("select id from pg.t where d >= '2024-01-01'", {}, None, None, "not split: WHERE has no two-sided bound on any DATE or TIMESTAMP column", 1),
    ("select id from pg.t where d < '2024-01-01'", {}, None, None, "not split: WHERE has no two-sided bound on any DATE or TIMESTAMP column", 1),
    ("select id from pg.t where d >= '2024-01-01' and ts < '2024-02-01'", {}, None, None, "not split: WHERE has no two-sided bound on any DATE or TIMESTAMP column", 1),
    # a closed range: the last period ends at the inclusive upper edge ([2024-01-02, 2024-01-03])
    ("select id from pg.t where d between '2024-01-01' and '2024-01-03'", {}, "d", "daily", "split daily on d (auto)", 3),
    ("select id from pg.t where ts >= '2024-01-01' and ts < '2024-01-03'", {}, "ts", "daily", "split daily on ts (auto)", 2),
    ("select id from pg.t where d >= '2024-01-01' and d < '2024-04-01'", {}, "d", "monthly", "split monthly on d (auto)", 3),
    (
        "select id from pg.t where d >= '2024-01-01' and d < '2024-04-01' and ts >= '2024-01-01' and ts < '2024-02-01'",
        {},
        None,
        None,
        "not split: several date columns are bounded (d, ts); set date_column in the catalog",
        1,
    ),
    ("select id from pg.t where d >= '2024-01-01' and d < '2024-01-03' and ts >= '2024-01-01'", {}, "d", "daily", "split daily on d (auto)", 2),
    # the configured date_column wins, and is the only one looked at
    ("select id from pg.cfg where d >= '2024-01-01' and d < '2024-04-01' and d2 >= '2024-01-01' and d2 < '2024-01-03'", {}, "d2", "daily", "split daily on d2 (auto)", 2),
    ("select id from pg.cfg where d >= '2024-01-01' and d < '2024-04-01'", {}, None, None, "not split: WHERE has no two-sided bound on d2", 1),
    ("select id from pg.public.cfg where d2 >= '2024-01-01' and d2 < '2024-01-03'", {}, "d2", "daily", "split daily on d2 (auto)", 2),
    ("select id from my.cfg where ts >= '2024-01-01' and ts < '2024-01-03' and d >= '2024-01-01' and d < '2024-05-01'", {}, "ts", "daily", "split daily on ts (auto)", 2),
    # OR and NOT
    ("select id from pg.t where (d >= '2024-01-01' and d < '2024-01-03') or (d >= '2024-01-03' and d < '2024-01-05')", {}, "d", "daily", "split daily on d (auto)", 4),
    ("select id from pg.t where (d >= '2024-01-01' and d < '2024-01-03') or (d >= '2024-01-04' and d < '2024-01-05')", {}, None, None, "not split: WHERE has no two-sided bound on any DATE or TIMESTAMP column", 1),
    ("select id from pg.t where d >= '2024-01-01' and d < '2024-01-03' or qty > 1", {}, None, None, "not split: WHERE has no two-sided bound on any DATE or TIMESTAMP column", 1),
    ("select id from pg.t where not d < '2024-01-01' and not d >= '2024-01-03'", {}, "d", "daily", "split daily on d (auto)", 2),
    ("select id from pg.t where not (d >= '2024-01-01' and d < '2024-01-03')", {}, None, None, "not split: WHERE has no two-sided bound on any DATE or TIMESTAMP column", 1),
    # an empty range is one fragment that reads nothing
    ("select id from pg.t where d >= '2024-01-05' and d < '2024-01-01'", {}, "d", "daily", "split daily on d (auto)", 1),
    # time_unit: table setting > connection setting > auto
    ("select id from pg.daily where d >= '2024-01-01' and d < '2024-03-01'", {"time_unit": "yearly"}, "d", "daily", "split daily on d", 60),
    ("select id from pg.t where d >= '2024-01-01' and d < '2024-03-01'", {"time_unit": "yearly"}, "d", "yearly", "split yearly on d", 1),
    ("select id from pg.t where d >= '2023-11-01' and d < '2024-03-01'", {"time_unit": "yearly"}, "d", "yearly", "split yearly on d", 2),
    ("select id from pg.t where d >= '2024-01-01' and d < '2024-01-03'", {"time_unit": "monthly"}, "d", "monthly", "split monthly on d", 1),
    ("select id from pg.t where d >= '2024-01-01' and d < '2024-01-03'", {"time_unit": "auto"}, "d", "daily", "split daily on d (auto)", 2),
    ("select id from lite.cfg where d2 >= '2022-01-01' and d2 < '2024-03-01'", {"time_unit": "monthly"}, "d2", "yearly", "split yearly on d2", 3),
    ("select id from lite.monthly where d >= '2024-01-01' and d < '2024-01-03'", {}, "d", "monthly", "split monthly on d", 1),
    # splitting turned off
    ("select id from pg.t where d >= '2024-01-01' and d < '2024-03-01'", {"split": False}, None, None, "splitting is turned off for this connection", 1),
]


@pytest.mark.parametrize(("sql", "options", "column", "unit", "reason", "count"), SPLITS)
def test_split_decision(sql: str, options: dict[str, Any], column: str | None, unit: str | None, reason: str, count: int) -> None:
    scan = _only_scan(_plan(sql, **options))
    assert (scan.split.column, scan.split.unit, scan.split.reason) == (column, unit, reason)
    assert len(scan.fragments) == count
    assert all((f.period is None) == (column is None) for f in scan.fragments)


@pytest.mark.parametrize(
    ("days", "unit", "count"),
    [
        (AUTO_DAILY_MAX_DAYS, "daily", AUTO_DAILY_MAX_DAYS + 1),  # BETWEEN includes its last day
        (AUTO_DAILY_MAX_DAYS + 1, "monthly", 3),
        (AUTO_MONTHLY_MAX_DAYS, "monthly", 73),
        (AUTO_MONTHLY_MAX_DAYS + 1, "yearly", 7),
    ],
)
def test_auto_thresholds(days: int, unit: str, count: int) -> None:
    upper = dt.date(2024, 1, 1) + dt.timedelta(days=days)
    scan = _only_scan(_plan(f"select id from pg.t where d between '2024-01-01' and '{upper.isoformat()}'"))
    assert (scan.split.unit, scan.split.reason) == (unit, f"split {unit} on d (auto)")
    assert len(scan.fragments) == count


def test_periods_cover_the_range_in_order() -> None:
    scan = _only_scan(_plan("select id from pg.t where ts > '2024-01-30 10:00' and ts <= '2024-03-02 00:00'", time_unit="monthly"))
    assert [str(f.period) for f in scan.fragments] == [
        "(2024-01-30 10:00:00, 2024-02-01)",
        "[2024-02-01, 2024-03-01)",
        "[2024-03-01, 2024-03-02]",
    ]


def test_bad_settings() -> None:
    with pytest.raises(ProgrammingError, match="time_unit must be daily, monthly, yearly or auto, not 'weekly'"):
        _plan("select id from pg.t where d >= '2024-01-01' and d < '2024-03-01'", time_unit="weekly")
    with pytest.raises(ProgrammingError, match="date_column 'name' of pg.bad is not a DATE or TIMESTAMP column"):
        _plan("select id from pg.bad")
    with pytest.raises(ProgrammingError, match="date_column 'zz' of pg.ghost"):
        _plan("select id from pg.ghost")


# --- every fragment keeps the pushed conjuncts and adds its window ---------------------


def _where_terms(fragment_sql: str, dialect: str) -> list[str]:
    select = sqlglot.parse_one(fragment_sql, read=dialect)
    where = select.args.get("where")
    if where is None:
        return []
    return [t.sql(dialect) for t in where.this.flatten(unnest=False)]


@pytest.mark.parametrize(
    ("sql", "dialect", "pushed"),
    [
        (
            "select id from pg.t where d >= '2024-01-01' and d < '2024-03-01' and qty > 1 and name in ('a', 'b') and price / 2 > 1",
            "postgres",
            ["\"d\" >= CAST('2024-01-01' AS DATE)", "\"d\" < CAST('2024-03-01' AS DATE)", '"qty" > 1', "\"name\" IN ('a', 'b')"],
        ),
        (
            "select id from my.t where ts between '2024-01-01' and '2024-01-05 12:00' and name like 'x%' and lower(name) = 'x'",
            "mysql",
            [
                "`ts` BETWEEN CAST('2024-01-01 00:00:00' AS DATETIME(6)) AND CAST('2024-01-05 12:00:00' AS DATETIME(6))",
                "`name` LIKE 'x%'",
            ],
        ),
        (
            "select id from lite.t where ts >= '2024-01-01 06:00' and ts < '2024-01-04' and qty <> 3",
            "sqlite",
            ["\"ts\" >= '2024-01-01'", "\"ts\" < '2024-01-04'", '"qty" <> 3'],
        ),
    ],
)
def test_fragments_keep_pushed_conjuncts_and_add_a_window(sql: str, dialect: str, pushed: list[str]) -> None:
    scan = _only_scan(_plan(sql))
    assert len(scan.fragments) > 1
    for fragment in scan.fragments:
        terms = _where_terms(fragment.sql, dialect)
        assert terms[1:] == pushed  # the window first (SQLite's planner uses the first range), then the query's own
        assert len(terms) == len(pushed) + 1  # the window, in parentheses
        window = terms[0]
        assert window.startswith("(") and window.endswith(")")
    windows = [_where_terms(f.sql, dialect)[0] for f in scan.fragments]
    assert len(set(windows)) == len(windows)


def test_relative_bounds_are_folded_once() -> None:
    sql = "select count(*) from pg.t where d >= current_date - interval '7' day and d < current_date and ts <= now()"
    first = _plan(sql)
    scan = _only_scan(first)
    assert scan.split.column == "d" and len(scan.fragments) == 7
    for fragment in scan.fragments:
        assert _where_terms(fragment.sql, "postgres")[1:4] == [
            "\"d\" >= CAST('2024-03-03' AS DATE)",
            "\"d\" < CAST('2024-03-10' AS DATE)",
            "\"ts\" <= CAST('2024-03-10 12:00:00' AS TIMESTAMP)",
        ]
    assert "CURRENT" not in first.merge_sql.upper() and "NOW" not in first.merge_sql.upper()
    assert [f.sql for f in _plan(sql).fragments] == [f.sql for f in first.fragments]


# --- projection ------------------------------------------------------------------------

PROJECTIONS: list[tuple[str, list[list[str]]]] = [
    ("select count(*) from lite.t", [["id"]]),
    ("select 1 from pg.t", [["id"]]),
    ("select count(*) from lite.t where qty > 1", [["qty"]]),
    ("select name from pg.t where qty > 1 order by price", [["name", "qty", "price"]]),
    ("select name, max(d) from lite.t group by name having sum(qty) > 1", [["name", "d", "qty"]]),
    ("select * from pg.narrow", [["id", "d"]]),
    ("select t.* from pg.narrow t", [["id", "d"]]),
    ("select count(*) from (select name from lite.t) s", [["id"]]),  # merged: counted like a plain table
    ("select count(*) from (select name from pg.t limit 5) s", [["name"]]),
    ("select a.id, b.name from pg.t a join my.t b on a.qty = b.qty", [["id", "qty"], ["name", "qty"]]),
    ("select id from pg.t t where exists (select 1 from my.t u where u.id = t.id and u.qty > t.qty)", [["id", "qty"], ["id", "qty"]]),
]


@pytest.mark.parametrize(("sql", "columns"), PROJECTIONS)
def test_only_needed_columns_are_read(sql: str, columns: list[list[str]]) -> None:
    plan = _plan(sql)
    assert [[name for name, _ in scan.schema] for scan in plan.scans] == columns
    for scan, names in zip(plan.scans, columns, strict=True):
        select = sqlglot.parse_one(scan.fragments[0].sql, read=scan.fragments[0].source.kind.dialect)
        assert [e.alias_or_name for e in select.expressions] == names


# --- joins: the NULL-padded side gets no filters ------------------------------------------

JOIN = "select a.id, b.name from pg.t a {join} my.t b on a.id = b.id where a.qty > 1 and b.price > 1"


@pytest.mark.parametrize(
    ("join", "left_filtered", "right_filtered"),
    [
        ("join", True, True),
        ("inner join", True, True),
        ("left join", True, False),
        ("left outer join", True, False),
        ("right join", False, True),
        ("full join", False, False),
        ("full outer join", False, False),
        ("cross join", True, True),
    ],
)
def test_outer_joins_push_nothing_to_the_nullable_side(join: str, left_filtered: bool, right_filtered: bool) -> None:
    sql = JOIN.format(join=join).replace("on a.id = b.id", "" if join == "cross join" else "on a.id = b.id")
    left, right = _plan(sql).scans
    assert ("WHERE" in left.fragments[0].sql) is left_filtered
    assert ("WHERE" in right.fragments[0].sql) is right_filtered


def test_nullable_side_is_not_split() -> None:
    sql = "select a.id from pg.t a left join pg.t b on a.id = b.id where b.d >= '2024-01-01' and b.d < '2024-01-05'"
    left, right = _plan(sql).scans
    assert right.split.column is None and len(right.fragments) == 1
    assert "WHERE" not in right.fragments[0].sql


def test_join_conditions_across_tables_are_not_pushed() -> None:
    sql = "select a.id from pg.t a join pg.t b on a.id = b.id where a.price > b.price and a.d = b.d"
    assert all("WHERE" not in f.sql for f in _plan(sql).fragments)


def test_subquery_scans_get_their_own_filters() -> None:
    sql = "select id from pg.t where id in (select id from my.t u where u.d >= '2024-01-01' and u.d < '2024-01-03')"
    outer, inner = _plan(sql).scans
    assert outer.split.column is None and "WHERE" not in outer.fragments[0].sql
    assert inner.split.column == "d" and len(inner.fragments) == 2


# --- names and errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "message", "line", "col_span"),
    [
        ("select * from nosrc.t", "unknown source 'nosrc' (the catalog has: lite, my, pg)", 1, (15, 21)),
        ("select *\nfrom pg.missing_table", "table 'missing_table' does not exist in source 'pg'", 2, (6, 21)),
        ("select * from t", "table 't' has no source: write source.t (see the catalog)", 1, (15, 15)),
        ("select id\n  from trades", "table 'trades' has no source: write source.trades", 2, (8, 13)),
        ("select\n  idd from pg.t", "unknown column 'idd' (reading pg.t)", 2, (3, 5)),
        ("select id from pg.t where nope > 1", "unknown column 'nope' (reading pg.t)", 1, (27, 30)),
        ("select id from pg.t group by nope", "unknown column 'nope'", 1, (30, 33)),
        ("select t.nope from pg.t", "unknown column 'nope'", 1, (10, 13)),
        ("select a.id from pg.t a join my.narrow b on a.id = b.qty", "unknown column 'qty' (reading pg.t, my.narrow)", 1, (54, 56)),
    ],
)
def test_unknown_names(sql: str, message: str, line: int, col_span: tuple[int, int]) -> None:
    with pytest.raises(ProgrammingError) as info:
        _plan(sql)
    error = info.value
    assert not isinstance(error, NotSupportedError)
    assert message in error.message
    assert error.line == line
    assert error.col is not None and col_span[0] <= error.col <= col_span[1], str(error)


def test_cte_names_are_not_looked_up() -> None:
    lookup = FakeLookup()
    plan = _plan("with t as (select id, qty from pg.t where qty > 1), u as (select id from t) select count(*) from u", lookup)
    assert lookup.calls == [("pg", None, "t")]
    assert len(plan.scans) == 1
    lookup = FakeLookup()
    _plan("with x as (select 1 as a) select a from x", lookup)
    assert lookup.calls == []


def test_each_reference_is_its_own_scan() -> None:
    plan = _plan("select a.id from pg.t a join pg.t b on a.id = b.id join lite.t c on c.id = a.id")
    assert [(s.name, s.alias, s.table_name) for s in plan.scans] == [
        ("__piot_t0", "a", "pg.t"),
        ("__piot_t1", "b", "pg.t"),
        ("__piot_t2", "c", "lite.t"),
    ]
    assert '"__piot_t0" AS "a"' in plan.merge_sql and '"__piot_t2" AS "c"' in plan.merge_sql


OUTPUT_NAMES: list[tuple[str, tuple[str, ...]]] = [
    ("select id, name as n from pg.t", ("id", "n")),
    ("select ID, Name from pg.t", ("id", "name")),
    ("select t.id from pg.t", ("id",)),
    ("select sum(price), count(*), max(d) from pg.t", ("sum(price)", "count(*)", "max(d)")),
    ("select SUM(price) from pg.t", ("sum(price)",)),
    ("select price * 2, upper(name), 1 + 1 from pg.t", ("price * 2", "upper(name)", "1 + 1")),
    ("select id, id, sum(price), sum(price) from pg.t group by id", ("id", "id_1", "sum(price)", "sum(price)_1")),
    ("select id as x, name as x, qty as x from pg.t", ("x", "x_1", "x_2")),
    ("select * from pg.narrow", ("id", "d")),
    ("select id from pg.t union all select qty from pg.t", ("id",)),
    ("select count(*) as n from pg.t", ("n",)),
    ("select (id) from pg.t", ("id",)),
]


@pytest.mark.parametrize(("sql", "columns"), OUTPUT_NAMES)
def test_output_column_names(sql: str, columns: tuple[str, ...]) -> None:
    assert _plan(sql).columns == columns


# --- known bugs ------------------------------------------------------------------------------


def test_four_part_names_are_refused() -> None:
    with pytest.raises(ProgrammingError):
        _plan("select id from pg.a.b.c")


def test_same_alias_in_two_union_branches() -> None:
    plan = _plan("select a.id from pg.narrow a union all select a.id from pg.t a where exists (select 1 from pg.t b where b.qty = a.qty)")
    # pg.t is named twice without filters: both names read id and qty, in one read
    assert [[n for n, _ in s.schema] for s in plan.scans] == [["id"], ["id", "qty"], ["id", "qty"]]
    assert plan.scans[1].fragments[0].sql == plan.scans[2].fragments[0].sql


def test_postgres_column_names_keep_their_case() -> None:
    """PostgreSQL tells ``"Trade_Date"`` from ``trade_date``: unquoted names fold to lower case, quoted ones keep theirs."""
    plan = _plan('select "Trade_Date" from pg.mixed')
    assert [n for n, _ in _only_scan(plan).schema] == ["Trade_Date"]
    with pytest.raises(ProgrammingError, match="unknown column 'trade_date'"):
        _plan("select trade_date from pg.mixed")


def test_case_insensitive_sources_fold_column_names() -> None:
    """MariaDB and SQLite find a column by its name in any case: the frame name is the lower-case one."""
    plan = _plan("select TRADE_DATE from lite.mixed")
    assert [n for n, _ in _only_scan(plan).schema] == ["trade_date"]


# --- property: every selected row is read by exactly one fragment ------------------------------

DAY0 = dt.date(2024, 1, 25)
N_DAYS = 45
TIMES = [dt.time(0), dt.time(0, 0, 0, 1), dt.time(6, 30), dt.time(12), dt.time(23, 59, 59, 999999)]


def _rows() -> pl.DataFrame:
    rows = []
    for i in range(N_DAYS * len(TIMES)):
        day = DAY0 + dt.timedelta(days=i // len(TIMES))
        moment = dt.datetime.combine(day + dt.timedelta(days=(i * 7) % 3 - 1), TIMES[i % len(TIMES)])
        rows.append((i, day, moment, "abc"[i % 3], float(i % 10), day, i % 5))
    rows.append((len(rows), None, None, None, None, None, None))
    schema = {"id": pl.Int64(), "d": pl.Date(), "ts": pl.Datetime("us"), "name": pl.String(), "price": pl.Float64(), "d2": pl.Date(), "qty": pl.Int64()}
    return pl.DataFrame(rows, schema=schema, orient="row")


ROWS = _rows()


def _duck_table() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema public")
    frame = ROWS  # noqa: F841 - read by DuckDB
    con.execute("create table public.t as select * from frame")
    return con


def _sqlite_handle(text_format: Callable[[dt.datetime], str]) -> sqlite3.Connection:
    handle = sqlite3.connect(":memory:")
    handle.execute("create table t (id INTEGER, d DATE, ts TIMESTAMP, name TEXT, price DOUBLE, d2 DATE, qty INTEGER)")
    rows = [
        (r["id"], None if r["d"] is None else r["d"].isoformat(), None if r["ts"] is None else text_format(r["ts"]), r["name"], r["price"], None if r["d2"] is None else r["d2"].isoformat(), r["qty"])
        for r in ROWS.iter_rows(named=True)
    ]
    handle.executemany("insert into t values (?, ?, ?, ?, ?, ?, ?)", rows)
    return handle


def _day_literal(draw: st.DrawFn, on: str) -> str:
    day = DAY0 + dt.timedelta(days=draw(st.integers(0, N_DAYS - 1)))
    if on == "ts" and draw(st.booleans()):
        moment = dt.datetime.combine(day, draw(st.sampled_from(TIMES)))
        text = moment.isoformat(" ")
        return draw(st.sampled_from([f"'{text}'", f"timestamp '{text}'"]))
    text = day.isoformat()
    return draw(st.sampled_from([f"'{text}'", f"date '{text}'"]))


@st.composite
def bounded_queries(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A query on the test table with a two-sided bound on d or ts (sometimes more), and options."""
    on = draw(st.sampled_from(["d", "ts"]))
    low, high = _day_literal(draw, on), _day_literal(draw, on)
    shape = draw(st.sampled_from(["between", "pair", "strict", "not", "or"]))
    if shape == "between":
        where = f"{on} between {low} and {high}"
    elif shape == "pair":
        where = f"{on} >= {low} and {on} < {high}"
    elif shape == "strict":
        where = f"{low} < {on} and {on} <= {high}"
    elif shape == "not":
        where = f"not {on} < {low} and not {on} > {high}"
    else:
        middle = _day_literal(draw, on)
        where = f"(({on} >= {low} and {on} < {middle}) or ({on} >= {middle} and {on} <= {high}))"
    extra = draw(st.sampled_from(["", " and qty > 1", " and name = 'a'", " and (qty < 2 or name = 'b')", " and ts is not null"]))
    options: dict[str, Any] = {"time_unit": draw(st.sampled_from([None, "daily", "monthly", "yearly"]))}
    return f"select id from {{source}}.t where {where}{extra}", options


def _selected(where_sql: str) -> set[int]:
    frame = ROWS  # noqa: F841 - read by DuckDB
    return {r[0] for r in duckdb.sql(f"select id from frame where {where_sql}").fetchall()}


def _user_where(sql: str) -> str:
    return sqlglot.parse_one(sql.format(source="pg"), read="postgres").args["where"].this.sql("duckdb")


def _assert_each_selected_row_once(selected: set[int], per_fragment: list[set[int]], sql: str) -> None:
    seen: dict[int, int] = {}
    for ids in per_fragment:
        for i in ids:
            seen[i] = seen.get(i, 0) + 1
    assert selected <= set(seen), f"{sql}: rows {sorted(selected - set(seen))} are read by no fragment"
    twice = sorted(i for i in selected if seen[i] > 1)
    assert not twice, f"{sql}: rows {twice} are read by several fragments"


DUCK = _duck_table()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=bounded_queries())
def test_postgres_fragments_read_each_row_once(case: tuple[str, dict[str, Any]]) -> None:
    sql, options = case
    scan = _only_scan(_plan(sql.format(source="pg"), **options))
    selected = _selected(_user_where(sql))
    per_fragment = [{r[0] for r in DUCK.execute(f.sql).fetchall()} for f in scan.fragments]
    _assert_each_selected_row_once(selected, per_fragment, sql)


TEXT_FORMATS: dict[str, Callable[[dt.datetime], str]] = {
    "seconds": lambda m: m.isoformat(" ", timespec="seconds"),
    "micros": lambda m: m.isoformat(" ", timespec="microseconds"),
    "T": lambda m: m.isoformat("T"),
    "date when midnight": lambda m: m.date().isoformat() if m.time() == dt.time() else m.isoformat(" "),
}
SQLITE = {name: _sqlite_handle(fmt) for name, fmt in TEXT_FORMATS.items()}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=bounded_queries(), text_format=st.sampled_from(list(TEXT_FORMATS)))
def test_sqlite_fragments_read_each_row_once_after_the_exact_filter(case: tuple[str, dict[str, Any]], text_format: str) -> None:
    sql, options = case
    scan = _only_scan(_plan(sql.format(source="lite"), **options))
    selected = _selected(_user_where(sql))
    per_fragment = []
    for fragment in scan.fragments:
        ids = [r[0] for r in SQLITE[text_format].execute(fragment.sql).fetchall()]
        frame = ROWS.filter(pl.col("id").is_in(ids)).select([name for name, _ in scan.schema])
        if fragment.exact_filter:
            frame = pl.SQLContext(frames={"fragment": frame}).execute(f"select * from fragment where {fragment.exact_filter}", eager=True)
        per_fragment.append(set(frame["id"].to_list()))
    _assert_each_selected_row_once(selected, per_fragment, sql)


# -- date bounds carried over join equalities ------------------------------------------------


def test_a_date_bound_crosses_an_inner_join_equality() -> None:
    plan = _plan(
        "select count(*) from pg.t as a join lite.t as b on a.d = b.d where b.d between '2024-01-01' and '2024-03-31'",
        time_unit="monthly",
    )
    by_alias = {scan.alias: scan for scan in plan.scans}
    assert by_alias["a"].split.column == "d" and len(by_alias["a"].fragments) == 3
    assert by_alias["b"].split.column == "d" and len(by_alias["b"].fragments) == 3
    assert "\"d\" BETWEEN CAST('2024-01-01' AS DATE) AND CAST('2024-03-31' AS DATE)" in by_alias["a"].fragments[0].sql


@pytest.mark.parametrize(
    "sql",
    [
        # an outer join's ON is no filter (kept conservative), and a NULL-padded side gets nothing
        "select count(*) from pg.t as a left join lite.t as b on a.d = b.d where b.d between '2024-01-01' and '2024-03-31'",
        "select count(*) from lite.t as b left join pg.t as a on a.d = b.d where b.d between '2024-01-01' and '2024-03-31'",
        # not an equality between the two tables' columns
        "select count(*) from pg.t as a join lite.t as b on a.d < b.d where b.d between '2024-01-01' and '2024-03-31'",
    ],
)
def test_no_bound_crosses_where_it_would_not_hold(sql: str) -> None:
    scan = next(s for s in _plan(sql, time_unit="monthly").scans if s.alias == "a")
    assert scan.split.column is None and len(scan.fragments) == 1


def test_an_in_list_on_the_split_column_sends_each_fragment_its_own_values() -> None:
    days = ["2024-01-05", "2024-02-07", "2024-02-09", "2024-05-01"]
    listed = ", ".join(f"DATE '{d}'" for d in days)
    plan = _plan(f"SELECT id FROM pg.public.trades WHERE d BETWEEN '2024-01-01' AND '2024-03-31' AND d IN ({listed})", time_unit="monthly")
    sent = [f.sql for f in plan.fragments]
    assert len(sent) == 3
    assert [[d for d in days if d in sql] for sql in sent] == [["2024-01-05"], ["2024-02-07", "2024-02-09"], []]
    assert "FALSE" in sent[2]  # March holds none of the days: its source answers nothing at once
    assert all(d in plan.merge_sql for d in days)  # the merge keeps the whole condition
