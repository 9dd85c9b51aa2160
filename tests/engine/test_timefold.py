"""Tests of relative-time folding and constant date arithmetic (``piot.sql.timefold``).

Fixture pairs (SQL in, SQL out) for the forms users write, then a property test that
folds random constant arithmetic and compares the literal with DuckDB evaluating the
original expression (DuckDB follows PostgreSQL's month-end rule).
"""

from __future__ import annotations

import datetime as dt
import doctest

import duckdb
import pytest
import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

import piot.sql.timefold as timefold_module
from piot.sql.timefold import TimeValue, constant_time, fold_time, parse_time_text, shift, time_literal
from piot.sql.zones import zone_for

NOW = dt.datetime(2024, 3, 10, 12, 30, 45, 123456)
TODAY_SQL = "CAST('2024-03-10' AS DATE)"
INSTANT_SQL = "CAST('2024-03-10 12:30:45.123456+00:00' AS TIMESTAMPTZ)"  # NOW(): an instant, in PostgreSQL's dialect
WALL_SQL = "CAST('2024-03-10 12:30:45.123456' AS TIMESTAMP)"  # LOCALTIMESTAMP, and MySQL's NOW(): wall time


def _fold(sql: str, dialect: str = "postgres", now: dt.datetime = NOW) -> str:
    return fold_time(sqlglot.parse_one(sql, read=dialect), now, dialect=dialect).sql("postgres")


# --- relative time becomes one instant ------------------------------------------------


@pytest.mark.parametrize(
    ("dialect", "expression", "expected"),
    [
        ("postgres", "current_date", TODAY_SQL),
        ("postgres", "CURRENT_DATE", TODAY_SQL),
        ("postgres", "current_timestamp", INSTANT_SQL),
        ("postgres", "current_timestamp(3)", INSTANT_SQL),
        ("postgres", "now()", INSTANT_SQL),
        ("postgres", "NOW()", INSTANT_SQL),
        ("postgres", "localtimestamp", WALL_SQL),
        ("postgres", "localtimestamp(2)", WALL_SQL),
        ("mysql", "current_date", TODAY_SQL),
        ("mysql", "current_date()", TODAY_SQL),
        ("mysql", "curdate()", TODAY_SQL),
        ("mysql", "current_timestamp", WALL_SQL),
        ("mysql", "current_timestamp()", WALL_SQL),
        ("mysql", "localtimestamp()", WALL_SQL),
    ],
)
def test_relative_time_is_folded(dialect: str, expression: str, expected: str) -> None:
    assert _fold(f"select {expression}", dialect) == f"SELECT {expected}"


@pytest.mark.parametrize("expression", ["now()", "date_sub(now(), interval 2 hour)"])
def test_mysql_now_is_folded(expression: str) -> None:
    assert "NOW" not in _fold(f"select {expression}", "mysql").upper()


def test_every_occurrence_sees_the_same_instant() -> None:
    sql = "select current_timestamp, now(), localtimestamp from t where ts > now() - interval '1 hour' and d = current_date"
    assert _fold(sql) == (
        f"SELECT {INSTANT_SQL}, {INSTANT_SQL}, {WALL_SQL} FROM t "
        f"WHERE ts > CAST('2024-03-10 11:30:45.123456+00:00' AS TIMESTAMPTZ) AND d = {TODAY_SQL}"
    )


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("UTC", "SELECT CAST('2024-03-11' AS DATE), CAST('2024-03-11 04:00:00+00:00' AS TIMESTAMPTZ)"),
        ("-05:00", "SELECT CAST('2024-03-10' AS DATE), CAST('2024-03-10 23:00:00-05:00' AS TIMESTAMPTZ)"),
        ("America/New_York", "SELECT CAST('2024-03-11' AS DATE), CAST('2024-03-11 00:00:00-04:00' AS TIMESTAMPTZ)"),
        ("Asia/Tokyo", "SELECT CAST('2024-03-11' AS DATE), CAST('2024-03-11 13:00:00+09:00' AS TIMESTAMPTZ)"),
    ],
)
def test_now_is_read_in_the_connection_zone(zone: str, expected: str) -> None:
    aware = dt.datetime(2024, 3, 10, 23, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    query = sqlglot.parse_one("select current_date, now()", read="postgres")
    assert fold_time(query, aware, zone=zone_for(zone)).sql("postgres") == expected


def test_relative_time_inside_subqueries_and_ctes() -> None:
    sql = "with x as (select current_date as a) select a from x where a in (select current_date - 1)"
    assert _fold(sql) == (
        f"WITH x AS (SELECT {TODAY_SQL} AS a) SELECT a FROM x WHERE a IN (SELECT CAST('2024-03-09' AS DATE))"
    )


def test_fold_time_leaves_its_input_alone() -> None:
    query = sqlglot.parse_one("select current_date + 1")
    _ = fold_time(query, NOW)
    assert query.sql() == "SELECT CURRENT_DATE + 1"


# --- constant arithmetic, PostgreSQL forms -------------------------------------------

POSTGRES_ARITHMETIC: list[tuple[str, str]] = [
    ("current_date - interval '7 days'", "CAST('2024-03-03 00:00:00' AS TIMESTAMP)"),
    ("current_date - interval '7' day", "CAST('2024-03-03 00:00:00' AS TIMESTAMP)"),
    ("current_date - interval '7' DAY", "CAST('2024-03-03 00:00:00' AS TIMESTAMP)"),
    ("current_date - interval '7 day'", "CAST('2024-03-03 00:00:00' AS TIMESTAMP)"),
    ("current_date + interval '+7 days'", "CAST('2024-03-17 00:00:00' AS TIMESTAMP)"),
    ("current_date - interval '-7 days'", "CAST('2024-03-17 00:00:00' AS TIMESTAMP)"),
    ("current_date + interval '1 year'", "CAST('2025-03-10 00:00:00' AS TIMESTAMP)"),
    ("current_date - interval '1' year", "CAST('2023-03-10 00:00:00' AS TIMESTAMP)"),
    ("current_date - interval '1 month'", "CAST('2024-02-10 00:00:00' AS TIMESTAMP)"),
    ("current_date + interval '1 mon'", "CAST('2024-04-10 00:00:00' AS TIMESTAMP)"),
    ("current_date - interval '2 weeks'", "CAST('2024-02-25 00:00:00' AS TIMESTAMP)"),
    ("current_date - interval '1' week", "CAST('2024-03-03 00:00:00' AS TIMESTAMP)"),
    ("now() - interval '2 hours'", "CAST('2024-03-10 10:30:45.123456+00:00' AS TIMESTAMPTZ)"),
    ("now() - interval '90 minutes'", "CAST('2024-03-10 11:00:45.123456+00:00' AS TIMESTAMPTZ)"),
    ("now() - interval '30 seconds'", "CAST('2024-03-10 12:30:15.123456+00:00' AS TIMESTAMPTZ)"),
    ("current_timestamp + interval '1' day", "CAST('2024-03-11 12:30:45.123456+00:00' AS TIMESTAMPTZ)"),
    ("current_date + interval '36 hours'", "CAST('2024-03-11 12:00:00' AS TIMESTAMP)"),
    ("current_date + 7", "CAST('2024-03-17' AS DATE)"),
    ("current_date - 7", "CAST('2024-03-03' AS DATE)"),
    ("current_date + 1 + 1", "CAST('2024-03-12' AS DATE)"),
    ("(current_date - interval '7' day)", "(CAST('2024-03-03 00:00:00' AS TIMESTAMP))"),
    ("date '2024-01-01' + interval '7 days' + interval '1 month'", "CAST('2024-02-08 00:00:00' AS TIMESTAMP)"),
    ("'2024-01-01'::date + 1", "CAST('2024-01-02' AS DATE)"),
    ("'2024-01-01'::timestamp + interval '90 minutes'", "CAST('2024-01-01 01:30:00' AS TIMESTAMP)"),
    ("timestamp '2024-01-31 10:00' + interval '1 month'", "CAST('2024-02-29 10:00:00' AS TIMESTAMP)"),
    ("cast('2024-03-01' as date) - interval '1' day", "CAST('2024-02-29 00:00:00' AS TIMESTAMP)"),
]


@pytest.mark.parametrize(("expression", "expected"), POSTGRES_ARITHMETIC)
def test_postgres_interval_forms(expression: str, expected: str) -> None:
    assert _fold(f"select {expression}") == f"SELECT {expected}"


# --- constant arithmetic, MySQL forms ---------------------------------------------------

MYSQL_ARITHMETIC: list[tuple[str, str]] = [
    ("date_add(current_date, interval 7 day)", "CAST('2024-03-17' AS DATE)"),
    ("date_sub(current_date, interval 7 day)", "CAST('2024-03-03' AS DATE)"),
    ("date_add(current_date, interval '7' day)", "CAST('2024-03-17' AS DATE)"),
    ("current_date - interval 7 day", "CAST('2024-03-03' AS DATE)"),
    ("current_date + interval 1 month", "CAST('2024-04-10' AS DATE)"),
    ("date_add('2024-01-31', interval 1 month)", "CAST('2024-02-29' AS DATE)"),
    ("date_add(date '2024-02-29', interval 1 year)", "CAST('2025-02-28' AS DATE)"),
    ("date_sub(current_timestamp, interval 2 hour)", "CAST('2024-03-10 10:30:45.123456' AS TIMESTAMP)"),
    ("date_add(current_timestamp(), interval 15 minute)", "CAST('2024-03-10 12:45:45.123456' AS TIMESTAMP)"),
]


@pytest.mark.parametrize(("expression", "expected"), MYSQL_ARITHMETIC)
def test_mysql_interval_forms(expression: str, expected: str) -> None:
    assert _fold(f"select {expression}", "mysql") == f"SELECT {expected}"


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("date_add(current_date, interval 7 day)", "CAST('2024-03-17' AS DATE)"),
        ("date_sub(current_date, interval '7' day)", "CAST('2024-03-03' AS DATE)"),
    ],
)
def test_mysql_forms_read_as_postgres(expression: str, expected: str) -> None:
    assert _fold(f"select {expression}") == f"SELECT {expected}"


# --- month ends and leap years ---------------------------------------------------------

CALENDAR: list[tuple[str, str]] = [
    ("date '2024-01-31' + interval '1 month'", "2024-02-29"),
    ("date '2023-01-31' + interval '1 month'", "2023-02-28"),
    ("date '2024-03-31' - interval '1 month'", "2024-02-29"),
    ("date '2023-03-31' - interval '1' month", "2023-02-28"),
    ("date '2024-01-31' + interval '13 months'", "2025-02-28"),
    ("date '2023-12-31' + interval '2 months'", "2024-02-29"),
    ("date '2024-05-31' + interval '1 month'", "2024-06-30"),
    ("date '2024-02-29' + interval '1 year'", "2025-02-28"),
    ("date '2024-02-29' - interval '4 years'", "2020-02-29"),
    ("date '2024-02-29' + interval '4 years'", "2028-02-29"),
    ("date '2000-02-29' + interval '100 years'", "2100-02-28"),
    ("date '1900-02-28' + 1", "1900-03-01"),
    ("date '2000-02-28' + 1", "2000-02-29"),
    ("date '2024-02-28' + interval '1 day'", "2024-02-29"),
    ("date '2023-02-28' + interval '1 day'", "2023-03-01"),
    ("date '2024-12-31' + 1", "2025-01-01"),
    ("date '2024-01-01' - 1", "2023-12-31"),
    ("date '2024-03-01' - interval '1 week'", "2024-02-23"),
]


@pytest.mark.parametrize(("expression", "day"), CALENDAR)
def test_month_end_clipping_and_leap_years(expression: str, day: str) -> None:
    typed = f"CAST('{day} 00:00:00' AS TIMESTAMP)" if "interval" in expression else f"CAST('{day}' AS DATE)"
    assert _fold(f"select {expression}") == f"SELECT {typed}"


@pytest.mark.parametrize(
    ("value", "count", "unit", "expected"),
    [
        (dt.datetime(2024, 1, 31, 23, 59, 59, 999999), 1, "month", dt.datetime(2024, 2, 29, 23, 59, 59, 999999)),
        (dt.datetime(2024, 2, 29), -12, "month", dt.datetime(2023, 2, 28)),
        (dt.datetime(2024, 12, 15), 1, "month", dt.datetime(2025, 1, 15)),
        (dt.datetime(2024, 1, 15), -1, "month", dt.datetime(2023, 12, 15)),
        (dt.datetime(2024, 3, 10, 1, 30), 1, "hour", dt.datetime(2024, 3, 10, 2, 30)),  # no DST: naive time
        (dt.datetime(2024, 2, 28, 23), 2, "hour", dt.datetime(2024, 2, 29, 1)),
        (dt.datetime(2024, 1, 1), -1, "second", dt.datetime(2023, 12, 31, 23, 59, 59)),
        (dt.datetime(2024, 1, 1), 2, "week", dt.datetime(2024, 1, 15)),
    ],
)
def test_shift(value: dt.datetime, count: int, unit: str, expected: dt.datetime) -> None:
    assert shift(value, count, unit) == expected


# --- what is not folded -----------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "d + interval '1 day'",  # a column
        "date '2024-01-01' + interval '1.5 days'",
        "date '2024-01-01' + interval '1 day 2 hours'",
        "date '2024-01-01' + interval '3 qtr'",
        "date '2024-01-01' + interval '1 day' * 3",
        "date '2024-03-10' - date '2024-03-01'",  # an integer, not a date
        "timestamp '2024-01-01 10:00' + 1",  # not valid in PostgreSQL: left for the database to refuse
        "date '2024-01-01' + 1.5",
        "'March' + interval '1 day'",
        "1 + 2",
    ],
)
def test_non_constant_or_unknown_arithmetic_is_left_alone(expression: str) -> None:
    query = sqlglot.parse_one(f"select {expression}", read="postgres")
    assert fold_time(query, NOW).sql("postgres") == query.sql("postgres")


# --- constant_time: every literal form ---------------------------------------------------

D = dt.datetime

CONSTANTS: list[tuple[str, str, TimeValue | None]] = [
    ("postgres", "'2024-03-01'", TimeValue(D(2024, 3, 1), True)),
    ("postgres", "'  2024-03-01 '", TimeValue(D(2024, 3, 1), True)),
    ("postgres", "'2024-03-01 10:00'", TimeValue(D(2024, 3, 1, 10), False)),
    ("postgres", "'2024-03-01 10:00:00.5'", TimeValue(D(2024, 3, 1, 10, 0, 0, 500000), False)),
    ("postgres", "'2024-03-01T10:00:00.123456'", TimeValue(D(2024, 3, 1, 10, 0, 0, 123456), False)),
    ("postgres", "date '2024-03-01'", TimeValue(D(2024, 3, 1), True)),
    ("postgres", "DATE '2024-02-29'", TimeValue(D(2024, 2, 29), True)),
    ("postgres", "timestamp '2024-03-01 10:00:00'", TimeValue(D(2024, 3, 1, 10), False)),
    ("postgres", "timestamp '2024-03-01'", TimeValue(D(2024, 3, 1), False)),
    ("postgres", "cast('2024-03-01' as date)", TimeValue(D(2024, 3, 1), True)),
    ("postgres", "cast('2024-03-01 23:59' as date)", TimeValue(D(2024, 3, 1), True)),
    ("postgres", "cast('2024-03-01' as timestamp)", TimeValue(D(2024, 3, 1), False)),
    ("postgres", "'2024-03-01'::date", TimeValue(D(2024, 3, 1), True)),
    ("postgres", "'2024-03-01 10:00'::date", TimeValue(D(2024, 3, 1), True)),
    ("postgres", "'2024-03-01'::timestamp", TimeValue(D(2024, 3, 1), False)),
    ("postgres", "'2024-03-01 10:00'::timestamp", TimeValue(D(2024, 3, 1, 10), False)),
    ("postgres", "(('2024-03-01'))", TimeValue(D(2024, 3, 1), True)),
    ("postgres", "'2024-03-01'::date + interval '1 day'", TimeValue(D(2024, 3, 2), False)),
    ("postgres", "date '2024-03-01' - interval '1 hour'", TimeValue(D(2024, 2, 29, 23), False)),
    ("mysql", "cast('2024-03-01' as datetime)", TimeValue(D(2024, 3, 1), False)),
    ("mysql", "cast('2024-03-01' as date)", TimeValue(D(2024, 3, 1), True)),
    # not constants, or not dates
    ("postgres", "'2024-3-1'", None),
    ("postgres", "'March 1st'", None),
    ("postgres", "'2024-02-30'", None),
    ("postgres", "20240301", None),
    ("postgres", "'2024-03-01'::varchar", None),
    ("postgres", "cast('2024-03-01' as int)", None),
    ("postgres", "d", None),
    ("postgres", "to_date('2024-03-01', 'YYYY-MM-DD')", None),
    ("postgres", "current_date", None),  # folded by fold_time first, not here
    ("postgres", "null", None),
]


@pytest.mark.parametrize(("dialect", "sql", "expected"), CONSTANTS)
def test_constant_time(dialect: str, sql: str, expected: TimeValue | None) -> None:
    assert constant_time(sqlglot.parse_one(sql, read=dialect)) == expected


def test_mysql_timestamp_literal_is_a_constant() -> None:
    node = sqlglot.parse_one("timestamp '2024-03-01 10:00:00'", read="mysql")
    assert constant_time(node) == TimeValue(D(2024, 3, 1, 10), False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01", D(2024, 3, 1)),
        ("2024-03-01 10:00", D(2024, 3, 1, 10)),
        ("2024-03-01T10:00:00.5", D(2024, 3, 1, 10, 0, 0, 500000)),
        ("2024-03-01 10:00:00+02:00", D(2024, 3, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=2)))),  # kept: its reader decides
        (" 2024-03-01 ", D(2024, 3, 1)),
        ("March", None),
        ("", None),
        ("2024-13-01", None),
    ],
)
def test_parse_time_text(text: str, expected: dt.datetime | None) -> None:
    assert parse_time_text(text) == expected


def test_time_literal_round_trips_through_constant_time() -> None:
    for value in (TimeValue(D(2024, 2, 29), True), TimeValue(D(2024, 2, 29, 13, 5, 6, 7), False), TimeValue(D(2024, 2, 29), False)):
        assert constant_time(time_literal(value)) == value
    assert time_literal(TimeValue(D(2024, 2, 29, 13), True)).sql("postgres") == "CAST('2024-02-29' AS DATE)"


# --- property: folded arithmetic equals DuckDB ----------------------------------------

UNITS = ["year", "month", "week", "day", "hour", "minute", "second"]


@st.composite
def arithmetic(draw: st.DrawFn) -> tuple[str, str]:
    """A constant date/timestamp +/- interval expression, as PostgreSQL text and as DuckDB text."""
    day = draw(st.dates(min_value=dt.date(1901, 1, 1), max_value=dt.date(2099, 12, 31)))
    day = draw(st.sampled_from([day, day.replace(day=28), _month_end(day)]))
    if draw(st.booleans()):
        base = f"date '{day.isoformat()}'"
    else:
        moment = dt.datetime.combine(day, draw(st.times()))
        base = f"timestamp '{moment.isoformat(' ')}'"
    count = draw(st.integers(min_value=-400, max_value=400))
    unit = draw(st.sampled_from(UNITS))
    op = draw(st.sampled_from(["+", "-"]))
    form = draw(st.sampled_from(["'{n} {u}s'", "'{n} {u}'", "'{n}' {u}"]))
    interval = "interval " + form.format(n=count, u=unit)
    duck_interval = f"interval '{count} {unit}'"
    return f"{base} {op} {interval}", f"{base} {op} {duck_interval}"


def _month_end(day: dt.date) -> dt.date:
    following = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


@settings(max_examples=300, deadline=None)
@given(pair=arithmetic())
def test_folded_arithmetic_equals_duckdb(pair: tuple[str, str]) -> None:
    sql, duck_sql = pair
    folded = fold_time(sqlglot.parse_one(f"select {sql}", read="postgres"), NOW)
    value = constant_time(folded.expressions[0])
    assert value is not None, folded.sql()
    (expected,) = duckdb.sql(f"select cast({duck_sql} as timestamp)").fetchall()[0]
    assert value.value == expected, (sql, folded.sql("postgres"))
    if value.is_date:
        assert expected.time() == dt.time()


@settings(max_examples=200, deadline=None)
@given(now=st.datetimes(min_value=D(1901, 1, 1), max_value=D(2099, 12, 31)), days=st.integers(-1000, 1000))
def test_current_date_arithmetic_equals_duckdb(now: dt.datetime, days: int) -> None:
    plus = f"+ {days}" if days >= 0 else f"- {-days}"
    folded = fold_time(sqlglot.parse_one(f"select current_date - interval '{days} days', current_date {plus}"), now)
    first, second = (constant_time(e) for e in folded.expressions)
    today = f"date '{now.date().isoformat()}'"
    expected = duckdb.sql(f"select cast({today} - interval '{days} days' as timestamp), cast({today} {plus} as timestamp)").fetchall()[0]
    assert first is not None and second is not None
    assert (first.value, second.value) == expected
    assert not first.is_date and second.is_date  # date - interval is a timestamp, date - integer a date


def test_doctests() -> None:
    assert doctest.testmod(timefold_module).failed == 0


def test_interval_node_is_replaced_not_kept() -> None:
    folded = fold_time(sqlglot.parse_one("select d from t where d >= current_date - interval '7' day"), NOW)
    assert folded.find(exp.Interval) is None
    assert folded.find(exp.CurrentDate) is None
