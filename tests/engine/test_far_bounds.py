"""Far date bounds: planned in a blink, answered exactly, on SQLite, PostgreSQL and MariaDB.

A bound such as ``d > DATE '0001-01-01'`` once cut 24,279 monthly fragments. Now a scan is cut
into at most ``max_fragments`` periods: the source is asked where its rows are (MIN/MAX within
the bounds) and only that stretch is cut, then the unit is coarsened if the rows still span too
much. Bounds at the ends of the calendar (year 1, 9999-12-31) just work. Every query runs split,
unsplit and on the oracle (the source itself; DuckDB over the same rows for SQLite), compared
after sorting.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import connectorx
import pyarrow as pa
import pytest
import sqlglot
from corpus_data import (
    KIND_PARAMS,
    Answer,
    CorpusSource,
    answer_from_arrow,
    answer_from_rows,
    assert_same,
    inline_parameters,
    run_cli,
)
from hypothesis import given, settings
from hypothesis import strategies as st

import piot
from piot.plan.periods import MAX_PERIODS, UNITS, Edge, count_periods, fit_unit, split_range, split_within

FAR = "piot_far_dates"

#: rows every server stores: the ends of MariaDB's DATE range, month ends around a leap day, NULL
_ROWS: list[tuple[int, dt.date | None, dt.datetime | None]] = [
    (1, dt.date(1000, 1, 1), dt.datetime(1000, 1, 1)),
    (2, dt.date(1969, 12, 31), dt.datetime(1969, 12, 31, 23, 59, 59, 999999)),
    (3, dt.date(2024, 1, 31), dt.datetime(2024, 1, 31, 12)),
    (4, dt.date(2024, 2, 28), dt.datetime(2024, 2, 28)),
    (5, dt.date(2024, 2, 29), dt.datetime(2024, 2, 29, 23, 59, 59)),
    (6, dt.date(2024, 3, 1), dt.datetime(2024, 3, 1, 0, 0, 0, 1)),
    (7, dt.date(9999, 12, 31), dt.datetime(9999, 12, 31, 23, 59, 59, 999999)),
    (8, None, None),
]
#: year 1 outside MariaDB's documented DATE range
_YEAR_ONE = (9, dt.date(1, 1, 1), dt.datetime(1, 1, 1))


def _rows(kind: str) -> list[tuple[Any, ...]]:
    return _ROWS + ([] if kind == "mysql" else [_YEAR_ONE])


def _load_sql(kind: str, table: str) -> str:
    timestamp = {"postgres": "TIMESTAMP", "mysql": "DATETIME(6)", "sqlite": "TIMESTAMP"}[kind]
    values = ", ".join(
        "(" + ", ".join("NULL" if v is None else f"'{v.isoformat(' ') if isinstance(v, dt.datetime) else v}'" if not isinstance(v, int) else str(v) for v in row) + ")"
        for row in _rows(kind)
    )
    return f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, d DATE, ts {timestamp});\nINSERT INTO {table} VALUES {values};\n"


@dataclass(frozen=True)
class FarSource:
    """The far-dates table in one database, its piot catalog and its oracle."""

    kind: str
    url: str
    table_key: str
    oracle_run: Callable[[str], Answer]

    def catalog(self) -> dict[str, Any]:
        return {
            "sources": {
                "far": {"url": self.url, "tables": {self.table_key: {"date_column": "d", "time_unit": "monthly"}}},
                "far_ts": {"url": self.url, "tables": {self.table_key: {"date_column": "ts", "time_unit": "daily"}}},
            }
        }

    def piot_sql(self, template: str) -> str:
        return template.format(far=f"far.{FAR}", far_ts=f"far_ts.{FAR}")

    def oracle(self, template: str, params: tuple[Any, ...]) -> Answer:
        return self.oracle_run(inline_parameters(template.format(far=FAR, far_ts=FAR), params))


@pytest.fixture(scope="module")
def far_sqlite(tmp_path_factory: pytest.TempPathFactory) -> FarSource:
    import duckdb

    path: Path = tmp_path_factory.mktemp("far") / "far.db"
    with sqlite3.connect(path) as handle:
        handle.executescript(_load_sql("sqlite", FAR))
    handle.close()
    oracle = duckdb.connect()
    rows = _rows("sqlite")
    oracle.register(
        FAR,
        pa.table(
            {"id": [r[0] for r in rows], "d": [r[1] for r in rows], "ts": [r[2] for r in rows]},
            schema=pa.schema([("id", pa.int32()), ("d", pa.date32()), ("ts", pa.timestamp("us"))]),
        ),
    )

    def run(sql: str) -> Answer:
        cursor = oracle.execute(sql)
        return answer_from_rows([c[0] for c in cursor.description], cursor.fetchall())

    return FarSource("sqlite", f"sqlite://{path}", FAR, run)


@pytest.fixture(scope="module")
def far_postgres(pg_session_url: str) -> FarSource:
    run_cli("postgres", pg_session_url, _load_sql("postgres", f"public.{FAR}"))
    return FarSource(
        "postgres", pg_session_url, f"public.{FAR}", lambda sql: answer_from_arrow(connectorx.read_sql(pg_session_url, sql, return_type="arrow"))
    )


@pytest.fixture(scope="module")
def far_mysql(mysql_session_url: str) -> FarSource:
    run_cli("mysql", mysql_session_url, _load_sql("mysql", FAR))

    def run(sql: str) -> Answer:
        mysql = re.sub(r"\bAS DATETIME\)", "AS DATETIME(6))", sqlglot.transpile(sql, read="postgres", write="mysql")[0])
        return answer_from_arrow(connectorx.read_sql(mysql_session_url, mysql, return_type="arrow"))

    return FarSource("mysql", mysql_session_url, FAR, run)


@pytest.fixture
def far(kind: str, request: pytest.FixtureRequest) -> FarSource:
    return request.getfixturevalue(f"far_{kind}")


@pytest.fixture(scope="module")
def far_connections() -> Iterator[Callable[..., piot.Connection]]:
    """``connect(source, **options)``, one connection per source and options."""
    cache: dict[tuple[Any, ...], piot.Connection] = {}

    def connect(source: FarSource, **options: Any) -> piot.Connection:
        key = (source.kind, tuple(sorted(options.items())))
        if key not in cache:
            cache[key] = piot.connect(source.catalog(), **options)
        return cache[key]

    yield connect
    for connection in cache.values():
        connection.close()


ROWS = "SELECT id, d, ts FROM "
FAR_CASES: list[tuple[str, str, tuple[Any, ...]]] = [
    ("year_one_to_leap_day", ROWS + "{far} WHERE d > DATE '0001-01-01' AND d < '2024-02-29'", ()),
    ("whole_calendar", ROWS + "{far} WHERE d BETWEEN '0001-01-01' AND '9999-12-31'", ()),
    ("python_extremes_as_parameters", ROWS + "{far} WHERE d >= ? AND d <= ?", (dt.date(1, 1, 1), dt.date(9999, 12, 31))),
    ("last_day_only", ROWS + "{far} WHERE d >= '9999-12-31' AND d <= DATE '9999-12-31'", ()),
    ("arithmetic_at_the_end", "SELECT COUNT(*) AS n FROM {far} WHERE d >= DATE '9999-12-31' - 3 AND d <= DATE '9999-12-31'", ()),
    ("nothing_in_a_far_range", "SELECT COUNT(*) AS n, MIN(d) AS lo FROM {far} WHERE d BETWEEN '2100-01-01' AND '9998-12-31'", ()),
    ("timestamps_daily_over_millennia", ROWS + "{far_ts} WHERE ts > '0001-01-01' AND ts <= '9999-12-31 23:59:59.999999'", ()),
    ("timestamps_to_the_last_instant", ROWS + "{far_ts} WHERE ts >= '2024-02-28' AND ts <= '9999-12-31 23:59:59.999999'", ()),
    ("grouped_by_year", "SELECT EXTRACT(YEAR FROM d) AS y, COUNT(*) AS n FROM {far} WHERE d < '9999-12-31' AND d > '1000-01-01' GROUP BY 1", ()),
]


def _answer(connection: piot.Connection, sql: str, params: tuple[Any, ...]) -> Answer:
    cursor = connection.cursor()
    cursor.execute(sql, params)
    return answer_from_arrow(cursor.fetch_arrow())


def _fragments(connection: piot.Connection, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    return [row for row in connection.cursor().execute("EXPLAIN " + sql, params).fetchall() if row[0] == "fragment"]


@pytest.mark.parametrize("kind", KIND_PARAMS)
@pytest.mark.parametrize(("name", "template", "params"), FAR_CASES, ids=[c[0] for c in FAR_CASES])
def test_far_bounds_split_equals_unsplit_equals_source(
    kind: str, name: str, template: str, params: tuple[Any, ...], far: FarSource,
    far_connections: Callable[..., piot.Connection], ray_session: None,
) -> None:  # fmt: skip
    expected = far.oracle(template, params)
    sql = far.piot_sql(template)
    for label, connection in (
        ("split", far_connections(far, max_fragments=40)),
        ("unsplit", far_connections(far, split=False)),
    ):
        assert_same(_answer(connection, sql, params), expected, f"{name} {label} on {kind}")
    assert len(_fragments(far_connections(far, max_fragments=40), sql, params)) <= 40


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_a_far_bound_is_cut_only_where_the_rows_are(kind: str, corpus: CorpusSource, ray_session: None) -> None:
    """The issue's query: monthly over two thousand years plans as many fragments as the data has months."""
    template = "SELECT trade_id, trade_date FROM {trades} WHERE trade_date > DATE '0001-01-01' AND trade_date < '2024-02-29'"
    connection = piot.connect(corpus.catalog(), time_unit="monthly")
    try:
        span = corpus.oracle(template.replace("trade_id, trade_date", "MIN(trade_date) AS lo, MAX(trade_date) AS hi")).rows[0]
        first, last = (dt.datetime.combine(v, dt.time()) for v in span)
        fragments = _fragments(connection, corpus.sql(template))
        assert len(fragments) == count_periods(first, last, "monthly")
        assert "cut there only, the outer fragments keep the query's bounds" in fragments[0][5]
        assert fragments[0][2] == "0001-01-01" and fragments[-1][3] == "2024-02-29"  # the outer fragments keep the query's bounds
        assert_same(_answer(connection, corpus.sql(template), ()), corpus.oracle(template), f"far bound on {kind}")
    finally:
        connection.close()


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_rows_spanning_millennia_coarsen_the_unit(kind: str, far: FarSource, far_connections: Callable[..., piot.Connection]) -> None:
    """With rows in year 1000 and 9999 the unit is coarsened, and EXPLAIN says why."""
    sql = far.piot_sql(ROWS + "{far} WHERE d BETWEEN '0001-01-01' AND '9999-12-31'")
    fragments = _fragments(far_connections(far), sql)
    assert len(fragments) <= MAX_PERIODS
    assert "monthly would make more than 1000 fragments, so yearly every" in fragments[0][5]


@pytest.mark.postgres
@pytest.mark.parametrize(
    "condition",
    [
        "d > '-infinity' AND d < 'infinity'",
        "d < 'infinity'::date AND d >= '2024-01-01'",
        "d > DATE '-infinity' AND d < '2024-03-01'",
        "ts < 'infinity'::timestamp AND ts > '1969-12-31'",
    ],
)
def test_infinite_bounds_are_answered_on_postgres(
    condition: str, far_postgres: FarSource, far_connections: Callable[..., piot.Connection], ray_session: None
) -> None:
    template = ROWS + "{far} WHERE " + condition
    expected = far_postgres.oracle(template, ())
    for options in ({}, {"split": False}):
        assert_same(_answer(far_connections(far_postgres, **options), far_postgres.piot_sql(template), ()), expected, condition)


# -- the pure parts: counting and fitting periods ---------------------------------------------------
_DAYS = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))


@settings(deadline=None, max_examples=60)
@given(_DAYS, _DAYS, st.sampled_from(UNITS))
def test_count_periods_counts_what_split_range_cuts(a: dt.date, b: dt.date, unit: str) -> None:
    lower, upper = sorted((dt.datetime.combine(a, dt.time()), dt.datetime.combine(b, dt.time())))
    if count_periods(lower, upper, unit) > 5000:  # type: ignore[arg-type]
        return
    cut = split_range(Edge(lower, True), Edge(upper, False), unit)  # type: ignore[arg-type]
    assert len(cut) <= count_periods(lower, upper, unit)  # type: ignore[arg-type]


@settings(deadline=None, max_examples=60)
@given(_DAYS, _DAYS, st.sampled_from(UNITS), st.integers(min_value=2, max_value=2000))
def test_fit_unit_keeps_within_the_limit(a: dt.date, b: dt.date, unit: str, limit: int) -> None:
    lower, upper = sorted((dt.datetime.combine(a, dt.time()), dt.datetime.combine(b, dt.time())))
    fitted, every = fit_unit(lower, upper, unit, limit)  # type: ignore[arg-type]
    assert UNITS.index(fitted) >= UNITS.index(unit)  # type: ignore[arg-type]
    assert len(split_range(Edge(lower, True), Edge(upper, True), fitted, every=every)) <= limit + 1


@settings(deadline=None, max_examples=60)
@given(_DAYS, _DAYS, _DAYS, _DAYS, st.sampled_from(UNITS), st.booleans(), st.booleans())
def test_split_within_covers_the_whole_range_once(
    a: dt.date, b: dt.date, c: dt.date, e: dt.date, unit: str, low_in: bool, high_in: bool
) -> None:
    lo, hi, first, last = (dt.datetime.combine(x, dt.time()) for x in (*sorted((a, b)), *sorted((c, e))))
    if count_periods(max(first, lo), min(last, hi), unit) > 3000:  # type: ignore[arg-type]
        return
    lower, upper = Edge(lo, low_in), Edge(hi, high_in)
    periods = split_within(lower, upper, unit, (first, last))  # type: ignore[arg-type]
    assert periods[0].start == lower and periods[-1].end == upper
    for left, right in zip(periods, periods[1:]):
        assert left.end.value == right.start.value and not left.end.inclusive and right.start.inclusive
    for probe in {lo, hi, first, last, first + dt.timedelta(hours=1)}:
        if lo <= probe <= hi:
            inside = (probe > lo or low_in) and (probe < hi or high_in)
            assert sum(p.contains(probe) for p in periods) == int(inside)
