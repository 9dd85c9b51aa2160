"""Tests of ``pushable``: which WHERE conjuncts go to a source, and in which form.

Fixture pairs (conjunct in, pushed SQL out) for typed sources and for SQLite, whose
dates are ISO text compared as text. Then brute force: for random ISO text
timestamps and random bounds, whenever the typed predicate holds (DuckDB over typed
values is the oracle) the widened text predicate must hold in SQLite too.
"""

from __future__ import annotations

import datetime as dt
import doctest
import sqlite3
from typing import Any

import duckdb
import polars as pl
import pytest
import sqlglot
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlglot import exp

import piot.plan.pushdown as pushdown_module
from piot.connectors.types import ColumnType, declared_type
from piot.plan.fragments import window_condition
from piot.plan.periods import Edge, Period
from piot.plan.pushdown import conjuncts, day_bound, pushable

D = dt.datetime

TYPES: dict[str, ColumnType] = {
    "d": declared_type("DATE"),
    "ts": declared_type("TIMESTAMP"),
    "tz": declared_type("timestamp with time zone"),
    "name": declared_type("TEXT"),
    "x": declared_type("INTEGER"),
    "p": declared_type("DOUBLE"),
    "b": declared_type("boolean"),
}


def _condition(sql: str) -> exp.Expression:
    return sqlglot.parse_one(f"select 1 from t where {sql}", read="postgres").args["where"].this


def _pushed(sql: str, *, text_dates: bool) -> str | None:
    result = pushable(_condition(sql), TYPES, text_dates=text_dates)
    return None if result is None else result.sql("postgres")


# --- conjuncts ----------------------------------------------------------------------


def test_conjuncts() -> None:
    assert conjuncts(None) == []
    assert [c.sql() for c in conjuncts(_condition("a = 1"))] == ["a = 1"]
    assert [c.sql() for c in conjuncts(_condition("a = 1 and (b = 2 and c = 3) and (d = 4 or e = 5)"))] == [
        "a = 1",
        "b = 2 AND c = 3",  # a parenthesised AND stays one term
        "d = 4 OR e = 5",
    ]
    assert [c.sql() for c in conjuncts(_condition("(a = 1 or b = 2)"))] == ["(a = 1 OR b = 2)"]


# --- what is pushed, and how, on typed sources and on SQLite ------------------------------

#: (conjunct, pushed to a typed source, pushed to SQLite); None means kept for the merge only.
PUSHED: list[tuple[str, str | None, str | None]] = [
    # arithmetic, comparisons, logic
    # integer arithmetic: SQLite turns an overflow into a float where PostgreSQL and the merge fail
    ("x * 2 > 1", "x * 2 > 1", None),
    ("x + 1 > 1 - x", "x + 1 > 1 - x", None),
    ("-x > 1", "-x > 1", None),
    ("p * 2 > 1", "p * 2 > 1", "p * 2 > 1"),
    ("p > 0.1", "p > 0.1", "p > 0.1"),
    ("x between 1 and 2", "x BETWEEN 1 AND 2", "x BETWEEN 1 AND 2"),
    ("x not between 1 and 2", "NOT x BETWEEN 1 AND 2", "NOT x BETWEEN 1 AND 2"),
    ("x in (1, 2)", "x IN (1, 2)", "x IN (1, 2)"),
    ("x not in (1, 2)", "NOT x IN (1, 2)", "NOT x IN (1, 2)"),
    ("x is null", "x IS NULL", "x IS NULL"),
    ("x is not null", "x IS NOT NULL", "x IS NOT NULL"),
    ("not x > 1", "NOT x > 1", "NOT x > 1"),
    ("x > 1 or x < 0", "x > 1 OR x < 0", "x > 1 OR x < 0"),
    ("(x > 1 or x < 0)", "(x > 1 OR x < 0)", "(x > 1 OR x < 0)"),
    ("cast(x as double) > 1.5", "CAST(x AS DOUBLE PRECISION) > 1.5", "CAST(x AS DOUBLE PRECISION) > 1.5"),
    ("b", "b", "b"),
    ("b = true", "b = TRUE", "b = TRUE"),
    ("b is true", "b IS TRUE", "b IS TRUE"),
    # text: equality, IN and LIKE are pushed; range comparisons under the byte-order collation the merge orders by
    ("name = 'a'", "name = 'a'", "name = 'a'"),
    ("name = 'it''s'", "name = 'it''s'", "name = 'it''s'"),
    ("name <> 'a'", "name <> 'a'", "name <> 'a'"),  # text equality is exact on both (not on MariaDB: see test_exactness)
    ("name not like 'a%'", "name NOT LIKE 'a%'", None),  # SQLite's LIKE ignores case: its negation would lose rows
    ("name in ('a', 'b')", "name IN ('a', 'b')", "name IN ('a', 'b')"),
    ("name like 'a%'", "name LIKE 'a%'", "name LIKE 'a%'"),
    ("name > 'a'", 'name COLLATE "C" > \'a\'', "name COLLATE BINARY > 'a'"),
    ("name <= 'a'", 'name COLLATE "C" <= \'a\'', "name COLLATE BINARY <= 'a'"),
    ("'a' < name", '\'a\' < name COLLATE "C"', "'a' < name COLLATE BINARY"),
    ("name between 'a' and 'b'", 'name COLLATE "C" BETWEEN \'a\' AND \'b\'', "name COLLATE BINARY BETWEEN 'a' AND 'b'"),
    ("name > x", None, None),
    ("x < 1 and name > 'a'", 'x < 1 AND name COLLATE "C" > \'a\'', "x < 1 AND name COLLATE BINARY > 'a'"),
    # never pushed
    ("x / 2 > 1", None, None),
    ("x % 2 = 0", None, None),
    ("name ilike 'a%'", None, None),
    ("name similar to 'a'", None, None),
    ("name ~ 'a'", None, None),
    ("name || 'a' = 'ba'", None, None),
    ("lower(name) = 'a'", None, None),
    ("abs(x) > 1", None, None),
    ("coalesce(x, 0) > 1", None, None),
    ("case when x > 1 then 1 end = 1", None, None),
    ("x in (select 1)", None, None),
    ("exists (select 1)", None, None),
    ("x > (select max(x) from u)", None, None),
    ("x = ?", None, None),
    ("d > current_date", None, None),
    ("d in ('2024-01-01', '2024-01-02')", "d IN ('2024-01-01', '2024-01-02')", None),
    ("d <> '2024-01-01'", "d <> CAST('2024-01-01' AS DATE)", None),
    ("not d > '2024-01-01'", "NOT d > CAST('2024-01-01' AS DATE)", None),
    ("ts >= d", "ts >= d", None),
    ("d + 1 > '2024-01-01'", "d + 1 > CAST('2024-01-01' AS DATE)", None),
    ("extract(year from d) = 2024", None, None),
    # dates: typed literals on typed sources, whole-day text bounds on SQLite
    ("d >= '2024-01-01'", "d >= CAST('2024-01-01' AS DATE)", "d >= '2024-01-01'"),
    ("d = date '2024-01-01'", "d = CAST('2024-01-01' AS DATE)", "d >= '2024-01-01' AND d < '2024-01-02'"),
    ("'2024-01-01' <= d", "CAST('2024-01-01' AS DATE) <= d", "d >= '2024-01-01'"),
    ("d is null", "d IS NULL", "d IS NULL"),
    ("d is not null", "d IS NOT NULL", "d IS NOT NULL"),
    ("ts < timestamp '2024-01-01 10:00'", "ts < CAST('2024-01-01 10:00:00' AS TIMESTAMP)", "ts < '2024-01-02'"),
    (
        "ts between '2024-01-01' and '2024-02-01'",
        "ts BETWEEN CAST('2024-01-01 00:00:00' AS TIMESTAMP) AND CAST('2024-02-01 00:00:00' AS TIMESTAMP)",
        "ts >= '2024-01-01' AND ts < '2024-02-02'",
    ),
    ("d > '2024-01-01' or x = 1", "d > CAST('2024-01-01' AS DATE) OR x = 1", "d >= '2024-01-01' OR x = 1"),
    (
        "d > '2024-01-01' or d < '2023-01-01'",
        "d > CAST('2024-01-01' AS DATE) OR d < CAST('2023-01-01' AS DATE)",
        "d >= '2024-01-01' OR d < '2023-01-01'",
    ),
    (
        "(ts >= '2024-01-01' and ts < '2024-01-02 06:00') or x = 1",
        "(ts >= CAST('2024-01-01 00:00:00' AS TIMESTAMP) AND ts < CAST('2024-01-02 06:00:00' AS TIMESTAMP)) OR x = 1",
        "(ts >= '2024-01-01' AND ts < '2024-01-03') OR x = 1",
    ),
    ("(d > '2024-01-01' or d <> '2023-01-01')", "(d > CAST('2024-01-01' AS DATE) OR d <> CAST('2023-01-01' AS DATE))", None),
]


@pytest.mark.parametrize(("sql", "typed", "sqlite"), PUSHED)
def test_pushable(sql: str, typed: str | None, sqlite: str | None) -> None:
    assert _pushed(sql, text_dates=False) == typed
    assert _pushed(sql, text_dates=True) == sqlite


def test_pushable_leaves_its_input_alone() -> None:
    condition = _condition("d >= '2024-01-01 10:00' and ts = '2024-01-01'")
    before = condition.sql()
    for text_dates in (False, True):
        for conjunct in conjuncts(condition):
            pushable(conjunct, TYPES, text_dates=text_dates)
    assert condition.sql() == before


def test_unknown_columns_count_as_text() -> None:
    assert _pushed("zz > 'a'", text_dates=False) == 'zz COLLATE "C" > \'a\''  # ordered as the merge orders text
    assert _pushed("zz = 'a'", text_dates=False) == "zz = 'a'"


# --- SQLite widening, rule by rule ---------------------------------------------------------

WIDENED: list[tuple[str, str]] = [
    # lower bounds start at the day of the value
    ("ts > '2024-03-10'", "ts >= '2024-03-10'"),
    ("ts >= '2024-03-10'", "ts >= '2024-03-10'"),
    ("ts > '2024-03-10 12:34:56.789'", "ts >= '2024-03-10'"),
    ("ts >= timestamp '2024-03-10 23:59:59.999999'", "ts >= '2024-03-10'"),
    # exclusive midnight: text compares exactly
    ("ts < '2024-03-10'", "ts < '2024-03-10'"),
    ("ts < timestamp '2024-03-10 00:00:00'", "ts < '2024-03-10'"),
    ("ts < date '2024-03-10'", "ts < '2024-03-10'"),
    # anything later in the day, or inclusive: up to the next day
    ("ts <= '2024-03-10'", "ts < '2024-03-11'"),
    ("ts < '2024-03-10 00:00:00.000001'", "ts < '2024-03-11'"),
    ("ts < '2024-03-10 12:00'", "ts < '2024-03-11'"),
    ("ts <= '2024-03-10 23:59:59.999999'", "ts < '2024-03-11'"),
    ("ts <= '2024-12-31 10:00'", "ts < '2025-01-01'"),
    ("ts <= '2024-02-28 10:00'", "ts < '2024-02-29'"),
    # equality and BETWEEN are a day window
    ("ts = '2024-03-10 12:00'", "ts >= '2024-03-10' AND ts < '2024-03-11'"),
    ("ts = '2024-03-10'", "ts >= '2024-03-10' AND ts < '2024-03-11'"),
    ("ts between '2024-03-01' and '2024-03-10'", "ts >= '2024-03-01' AND ts < '2024-03-11'"),
    ("ts between '2024-03-01 06:00' and '2024-03-10 06:00'", "ts >= '2024-03-01' AND ts < '2024-03-11'"),
    ("ts between '2024-03-10' and '2024-03-01'", "ts >= '2024-03-10' AND ts < '2024-03-02'"),
    # flipped operands
    ("'2024-03-10' < ts", "ts >= '2024-03-10'"),
    ("'2024-03-10' > ts", "ts < '2024-03-10'"),
    ("'2024-03-10' >= ts", "ts < '2024-03-11'"),
    # DATE columns too
    ("d < '2024-03-10'", "d < '2024-03-10'"),
    ("d <= '2024-03-10'", "d < '2024-03-11'"),
    ("d > timestamp '2024-03-10 12:00'", "d >= '2024-03-10'"),
]


@pytest.mark.parametrize(("sql", "expected"), WIDENED)
def test_sqlite_widening(sql: str, expected: str) -> None:
    assert _pushed(sql, text_dates=True) == expected


@pytest.mark.parametrize(
    "sql",
    [
        "ts <> '2024-03-10'",
        "not ts < '2024-03-10'",
        "ts in ('2024-03-10')",
        "ts between symmetric '2024-03-10' and '2024-03-01'",
        "ts > x",
        "ts >= d",
        "ts > 'yesterday'",
        "ts + 1 > '2024-03-10'",
        "(ts > '2024-03-10' or ts <> '2024-01-01')",
        "cast(ts as date) = '2024-03-10'",
    ],
)
def test_sqlite_other_uses_of_dates_are_not_pushed(sql: str) -> None:
    assert _pushed(sql, text_dates=True) is None


@pytest.mark.parametrize(
    ("value", "lower", "inclusive", "expected"),
    [
        (D(2024, 2, 1), True, False, "d >= '2024-02-01'"),
        (D(2024, 2, 1, 13), True, False, "d >= '2024-02-01'"),
        (D(2024, 2, 1), False, False, "d < '2024-02-01'"),
        (D(2024, 2, 1), False, True, "d < '2024-02-02'"),
        (D(2024, 2, 1, 0, 0, 0, 1), False, False, "d < '2024-02-02'"),
        (D(2024, 2, 29, 23, 59), False, True, "d < '2024-03-01'"),
        (D(2023, 12, 31, 1), False, False, "d < '2024-01-01'"),
    ],
)
def test_day_bound(value: D, lower: bool, inclusive: bool, expected: str) -> None:
    assert day_bound(exp.column("d"), value, lower=lower, inclusive=inclusive).sql() == expected


def test_doctests() -> None:
    assert doctest.testmod(pushdown_module).failed == 0


# --- known unsound pushes -------------------------------------------------------------


def _sqlite_ids(rows: list[tuple[Any, ...]], columns: str, where: str) -> set[int]:
    with sqlite3.connect(":memory:") as handle:
        handle.execute(f"create table t ({columns})")
        handle.executemany(f"insert into t values ({', '.join('?' * len(rows[0]))})", rows)
        return {r[0] for r in handle.execute(f"select id from t where {where}")}


def test_sqlite_like_is_a_superset() -> None:
    """SQLite's LIKE ignores ASCII case: pushed LIKE fetches more rows, never fewer."""
    rows = [(1, "abc"), (2, "Abc"), (3, "xyz"), (4, None)]
    frame = pl.DataFrame(rows, schema=["id", "name"], orient="row")  # noqa: F841 - read by DuckDB
    typed = {r[0] for r in duckdb.sql("select id from frame where name like 'a%'").fetchall()}
    pushed = _pushed("name like 'a%'", text_dates=True)
    assert pushed is not None
    assert typed <= _sqlite_ids(rows, "id integer, name text", pushed)


def test_sqlite_not_like_keeps_every_row() -> None:
    rows = [(1, "abc"), (2, "Abc"), (3, "xyz")]
    frame = pl.DataFrame(rows, schema=["id", "name"], orient="row")  # noqa: F841 - read by DuckDB
    typed = {r[0] for r in duckdb.sql("select id from frame where name not like 'a%'").fetchall()}
    assert typed == {2, 3}
    pushed = _pushed("name not like 'a%'", text_dates=True)
    assert pushed is None or typed <= _sqlite_ids(rows, "id integer, name text", pushed)


def test_timestamptz_offset_is_kept() -> None:
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute(
        "create table t as select * from (values (1, timestamptz '2024-01-01 07:00:00+00'), "
        "(2, timestamptz '2024-01-01 09:00:00+00'), (3, timestamptz '2024-01-01 11:00:00+00')) v(id, tz)"
    )
    original = "tz >= '2024-01-01 10:00+02'"
    typed = {r[0] for r in con.execute(f"select id from t where {original}").fetchall()}
    assert typed == {2, 3}
    pushed = _pushed(original, text_dates=False)
    assert pushed is not None
    assert typed <= {r[0] for r in con.execute(f"select id from t where {pushed}").fetchall()}


@pytest.mark.parametrize("sql", ["d >= '2024-03-10 12:00'", "d = '2024-03-10 12:00'"])
def test_untyped_time_of_day_on_a_date_column_is_pushed_soundly(sql: str) -> None:
    frame = pl.DataFrame({"id": [1, 2, 3], "d": [dt.date(2024, 3, 9), dt.date(2024, 3, 10), dt.date(2024, 3, 11)]})  # noqa: F841
    own = {r[0] for r in duckdb.sql(f"select id from frame where {sql}").fetchall()}
    assert 2 in own
    pushed = _pushed(sql, text_dates=False)
    assert pushed is not None
    assert own <= {r[0] for r in duckdb.sql(f"select id from frame where {pushed}").fetchall()}


# --- brute force: the widened text predicate never drops a row -------------------------

DAYS = st.dates(min_value=dt.date(2024, 2, 26), max_value=dt.date(2024, 3, 3))  # around a leap day and a month end
SPECIAL_TIMES = [dt.time(0), dt.time(0, 0, 0, 1), dt.time(0, 0, 1), dt.time(12), dt.time(23, 59, 59), dt.time(23, 59, 59, 999999)]
TIMES = st.one_of(st.sampled_from(SPECIAL_TIMES), st.times())
TEXT_FORMATS = ["date", "seconds", "minutes", "micros", "millis", "T seconds", "T micros"]


def _iso_text(moment: D, form: str) -> str:
    """``moment`` written in one of the ISO forms SQLite tables hold."""
    day = moment.date().isoformat()
    sep = "T" if form.startswith("T ") else " "
    form = form.removeprefix("T ")
    if form == "date":
        return day
    if form == "minutes":
        return f"{day}{sep}{moment:%H:%M}"
    if form == "seconds":
        return f"{day}{sep}{moment:%H:%M:%S}"
    if form == "millis":
        return f"{day}{sep}{moment:%H:%M:%S}.{moment.microsecond // 1000:03d}"
    return f"{day}{sep}{moment:%H:%M:%S.%f}"


@st.composite
def stored_texts(draw: st.DrawFn) -> str:
    return _iso_text(D.combine(draw(DAYS), draw(TIMES)), draw(st.sampled_from(TEXT_FORMATS)))


@st.composite
def bound_literals(draw: st.DrawFn, on_date_column: bool) -> tuple[str, D]:
    """A bound in SQL and its value; untyped time-of-day strings only on TIMESTAMP columns."""
    day = draw(DAYS)
    if draw(st.booleans()):
        text = day.isoformat()
        form = draw(st.sampled_from([f"'{text}'", f"date '{text}'", f"cast('{text}' as date)"]))
        return form, D.combine(day, dt.time())
    moment = D.combine(day, draw(TIMES))
    text = _iso_text(moment, draw(st.sampled_from(["seconds", "micros", "millis", "minutes"])))
    value = dt.datetime.fromisoformat(text)
    forms = [f"timestamp '{text}'", f"cast('{text}' as timestamp)"] + ([] if on_date_column else [f"'{text}'"])
    return draw(st.sampled_from(forms)), value


@st.composite
def temporal_predicates(draw: st.DrawFn, column: str, depth: int = 2) -> tuple[str, list[D]]:
    """A predicate of comparisons on ``column`` joined by AND/OR, and the bound values it uses."""
    on_date = column == "d"
    if depth == 0 or draw(st.booleans()):
        shape = draw(st.sampled_from(["cmp", "flipped", "between", "eq", "null", "other"]))
        lit, value = draw(bound_literals(on_date))
        op = draw(st.sampled_from(["<", "<=", ">", ">="]))
        if shape == "cmp":
            return f"{column} {op} {lit}", [value]
        if shape == "flipped":
            return f"{lit} {op} {column}", [value]
        if shape == "between":
            high, high_value = draw(bound_literals(on_date))
            return f"{column} between {lit} and {high}", [value, high_value]
        if shape == "eq":
            return f"{column} = {lit}", [value]
        if shape == "null":
            return f"{column} is null", []
        return "x > 1", []
    left, left_values = draw(temporal_predicates(column, depth - 1))
    right, right_values = draw(temporal_predicates(column, depth - 1))
    joiner = draw(st.sampled_from(["and", "or"]))
    return f"({left}) {joiner} ({right})", left_values + right_values


def _near(values: list[D], draw: st.DrawFn) -> list[str]:
    """Stored texts at and around each bound: its day at midnight, itself, one microsecond either side."""
    texts = []
    for value in values:
        for moment in (D.combine(value.date(), dt.time()), value, value - dt.timedelta(microseconds=1), value + dt.timedelta(microseconds=1)):
            texts.append(_iso_text(moment, draw(st.sampled_from(TEXT_FORMATS))))
    return texts


def _typed_ids(sql: str, values: list[D | None], xs: list[int], *, is_date: bool) -> set[int]:
    """The oracle: DuckDB over typed values."""
    kind = pl.Date() if is_date else pl.Datetime("us")
    column = "d" if is_date else "ts"
    typed = [(v.date() if is_date and v is not None else v) for v in values]
    frame = pl.DataFrame({"id": list(range(len(values))), column: typed, "x": xs}, schema={"id": pl.Int64(), column: kind, "x": pl.Int64()})  # noqa: F841
    return {r[0] for r in duckdb.sql(f"select id from frame where {sql}").fetchall()}


def _check_widening(sql: str, texts: list[str | None], xs: list[int], *, is_date: bool) -> None:
    pushed = pushable(_condition(sql), TYPES, text_dates=True)
    assert pushed is not None, f"{sql!r} was not pushed"
    values = [None if t is None else dt.datetime.fromisoformat(t) for t in texts]
    typed = _typed_ids(sql, values, xs, is_date=is_date)
    column = "d" if is_date else "ts"
    declared = "DATE" if is_date else "TIMESTAMP"
    rows = [(i, t, x) for i, (t, x) in enumerate(zip(texts, xs, strict=True))]
    widened = _sqlite_ids(rows, f"id integer, {column} {declared}, x integer", pushed.sql("sqlite"))
    missing = typed - widened
    assert not missing, f"{sql!r} pushed as {pushed.sql('sqlite')!r} drops {[texts[i] for i in missing]}"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_widening_never_drops_a_timestamp_row(data: st.DataObject) -> None:
    sql, values = data.draw(temporal_predicates("ts"), label="predicate")
    texts: list[str | None] = data.draw(st.lists(stored_texts(), min_size=1, max_size=25), label="texts")
    texts += _near(values, data.draw) + [None]
    xs = data.draw(st.lists(st.integers(0, 2), min_size=len(texts), max_size=len(texts)), label="xs")
    _check_widening(sql, texts, xs, is_date=False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_widening_never_drops_a_date_row(data: st.DataObject) -> None:
    sql, values = data.draw(temporal_predicates("d"), label="predicate")
    days = data.draw(st.lists(DAYS, min_size=1, max_size=10), label="days")
    texts: list[str | None] = [d.isoformat() for d in days] + [v.date().isoformat() for v in values]
    texts += [(v.date() + dt.timedelta(days=k)).isoformat() for v in values for k in (-1, 1)] + [None]
    xs = data.draw(st.lists(st.integers(0, 2), min_size=len(texts), max_size=len(texts)), label="xs")
    _check_widening(sql, texts, xs, is_date=True)


@settings(max_examples=300, deadline=None)
@given(
    start=st.builds(D.combine, DAYS, TIMES),
    length=st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=4)),
    start_inclusive=st.booleans(),
    end_inclusive=st.booleans(),
    texts=st.lists(stored_texts(), min_size=1, max_size=30),
)
def test_text_window_never_drops_a_row(
    start: D, length: dt.timedelta, start_inclusive: bool, end_inclusive: bool, texts: list[str]
) -> None:
    """A fragment's window written for SQLite admits every row its typed period holds."""
    period = Period(Edge(start, start_inclusive), Edge(start + length, end_inclusive))
    assume(start + length <= D(2024, 3, 5))
    around = [_iso_text(m, f) for m in (period.start.value, period.end.value) for f in ("date", "micros", "T seconds")]
    texts = texts + around
    window = window_condition(exp.column("ts"), period, is_date=False, text_dates=True).sql("sqlite")
    inside = {i for i, t in enumerate(texts) if period.contains(dt.datetime.fromisoformat(t))}
    rows = [(i, t, 0) for i, t in enumerate(texts)]
    assert inside <= _sqlite_ids(rows, "id integer, ts TIMESTAMP, x integer", window), window


def test_widening_fixed_examples() -> None:
    """Rows right at the edges, written every way SQLite may hold them."""
    texts: list[str | None] = [
        "2024-02-29",
        "2024-02-29 00:00:00",
        "2024-02-29 00:00:00.000000",
        "2024-02-29T00:00:00",
        "2024-02-29 00:00:00.000001",
        "2024-02-29 23:59:59.999999",
        "2024-02-29T23:59:59.999",
        "2024-03-01",
        "2024-03-01 00:00:00.000",
        "2024-02-28 23:59:59.999999",
        None,
    ]
    xs = [0] * len(texts)
    for sql in [
        "ts >= '2024-02-29'",
        "ts > '2024-02-29'",
        "ts > '2024-02-29 00:00:00'",
        "ts <= '2024-02-29'",
        "ts < '2024-03-01'",
        "ts <= '2024-02-29 23:59:59.999999'",
        "ts = '2024-02-29'",
        "ts = '2024-02-29 00:00:00.000001'",
        "ts between '2024-02-29' and '2024-03-01'",
        "ts between timestamp '2024-02-28 23:59:59.999999' and '2024-02-29 00:00:00'",
        "ts < '2024-02-29 00:00:00.000001' or ts >= date '2024-03-01'",
    ]:
        _check_widening(sql, texts, xs, is_date=False)
