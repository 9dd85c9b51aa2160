"""Each fragment reads exactly its window: run every fragment's SQL on the source itself.

For split queries on SQLite, PostgreSQL and MariaDB: every row a fragment returns lies in the
fragment's period (on SQLite, where dates are compared as text, edge fragments may read whole
days more and are filtered afterwards; interior windows are still exact), NULL dates are never
read, and the fragments together read exactly the rows of the unsplit read: none lost, none twice.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import connectorx
import pyarrow as pa
import pytest
from corpus_data import KIND_MARKS, KIND_PARAMS, KINDS, CorpusSource

import piot
from piot.plan.exactness import Exactness
from piot.plan.fragments import Fragment
from piot.plan.periods import Edge, Period


@dataclass(frozen=True)
class Window:
    """A split query: the WHERE (bounds only on the split column, besides plain columns) and the unit."""

    name: str
    where: str
    unit: str
    table: str = "trades"
    params: tuple[Any, ...] = ()
    fragments: int | None = None


WINDOWS: tuple[Window, ...] = (
    Window("monthly_between", "trade_date BETWEEN '2023-11-01' AND '2024-04-30'", "monthly", fragments=6),
    Window("monthly_open_start_leap_end", "trade_date > '2023-11-30' AND trade_date <= '2024-02-29'", "monthly", fragments=4),
    Window("yearly_across_new_year", "trade_date BETWEEN '2023-10-01' AND '2024-05-31'", "yearly", fragments=2),
    Window("daily_year_end", "trade_date >= '2023-12-28' AND trade_date < '2024-01-04'", "daily", fragments=7),
    Window(
        "monthly_with_other_filters",
        "side = 'BUY' AND quantity > 500 AND trade_date >= '2024-01-15' AND trade_date < '2024-03-15'",
        "monthly",
        fragments=3,
    ),
    Window("monthly_params", "trade_date >= ? AND trade_date <= ?", "monthly", params=(dt.date(2023, 12, 1), dt.date(2024, 1, 31))),
    Window("ts_monthly_midnights", "ts >= '2023-12-01' AND ts <= '2024-03-31'", "monthly", table="trades_ts", fragments=4),
    Window(
        "ts_monthly_fractional",
        "ts >= '2023-12-31 23:59:59.999999' AND ts < '2024-03-01 00:00:00.000001'",
        "monthly",
        table="trades_ts",
        fragments=4,
    ),
    Window(
        "ts_daily_fraction_of_a_second",
        "ts >= '2024-03-15 12:00:00.5' AND ts < '2024-03-17'",
        "daily",
        table="trades_ts",
        fragments=2,
    ),
    Window("daily_inclusive_end_day", "trade_date BETWEEN '2024-01-30' AND '2024-02-01'", "daily", fragments=3),
    Window("ts_daily_inclusive_midnight_end", "ts >= '2024-03-30' AND ts <= '2024-04-01'", "daily", table="trades_ts", fragments=3),
    Window("ts_daily_exclusive_edges", "ts > '2024-02-28' AND ts < '2024-03-02'", "daily", table="trades_ts", fragments=3),
)

KNOWN_BUGS: dict[tuple[str, str], str] = {}


def _params() -> list[Any]:
    params = []
    for window in WINDOWS:
        for kind in KINDS:
            reason = KNOWN_BUGS.get((window.name, kind))
            marks = KIND_MARKS[kind] + ([pytest.mark.xfail(strict=True, reason=reason)] if reason else [])
            params.append(pytest.param(window, kind, marks=marks, id=f"{window.name}-{kind}"))
    return params


def _read(source: CorpusSource, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run ``sql`` on the source itself: sqlite3 for SQLite (text as stored), connectorx otherwise."""
    if source.kind == "sqlite":
        with sqlite3.connect(f"file:{source.url.split('://', 1)[1]}?mode=ro", uri=True) as handle:
            cursor = handle.execute(sql)
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
        handle.close()
        return names, rows
    table = connectorx.read_sql(source.url, sql, return_type="arrow")
    if isinstance(table, pa.RecordBatchReader):
        table = table.read_all()
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    return list(table.column_names), list(zip(*columns))


def _typed(value: Any) -> dt.datetime | None:
    """A split-column value as a datetime (SQLite's ISO text parsed, dates at midnight)."""
    if value is None or isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    return dt.datetime.fromisoformat(value)


def _midnight(value: dt.datetime) -> bool:
    return value.time() == dt.time()


def _envelope(period: Period) -> Period:
    """Whole days around ``period``: what a text-compared (SQLite) edge window may read."""
    first = dt.datetime.combine(period.start.value.date(), dt.time())
    after = dt.datetime.combine(period.end.value.date() + dt.timedelta(days=1), dt.time())
    return Period(Edge(first, True), Edge(after, False))


def _interior(period: Period) -> bool:
    """A window SQLite compares exactly: from one midnight (included) to another (excluded)."""
    return period.start.inclusive and not period.end.inclusive and _midnight(period.start.value) and _midnight(period.end.value)


def _split_column_index(names: list[str], column: str) -> int:
    return [n.lower() for n in names].index(column)


@pytest.mark.parametrize(("window", "kind"), _params())
def test_fragments_read_exactly_their_windows(
    window: Window,
    kind: str,
    corpus: CorpusSource,
    corpus_connect: Callable[..., piot.Connection],
) -> None:
    sql = corpus.sql(f"SELECT trade_id, trade_date, ts, side, quantity FROM {{{window.table}}} WHERE {window.where}")
    params = list(window.params) or None
    _, plan = corpus_connect(corpus, time_unit=window.unit).engine.plan(sql, params)
    (scan,) = plan.scans
    column = scan.split.column
    assert column == ("ts" if window.table == "trades_ts" else "trade_date"), scan.split.reason
    fragments: tuple[Fragment, ...] = scan.fragments
    if window.fragments is not None:
        assert len(fragments) == window.fragments, [str(f.period) for f in fragments]

    kept: Counter[tuple[Any, ...]] = Counter()
    for fragment in fragments:
        assert fragment.period is not None and fragment.source.name in (corpus.name, f"{corpus.name}_ts")
        widened = any(d.exactness is Exactness.WIDENED for d in scan.pushdown)  # MariaDB's text comparisons
        assert (fragment.exact_filter is not None) == (kind == "sqlite" or widened)
        names, rows = _read(corpus, fragment.sql)
        index = _split_column_index(names, column)
        values = [_typed(row[index]) for row in rows]
        assert None not in values, f"{fragment.period}: a NULL {column} was read"
        exact = kind != "sqlite" or _interior(fragment.period)
        allowed = fragment.period if exact else _envelope(fragment.period)
        outside = sorted({v for v in values if v is not None and not allowed.contains(v)})
        assert not outside, f"fragment {fragment.period} read {column} values outside {allowed}: {outside[:5]}"
        kept.update(row for row, value in zip(rows, values) if value is not None and fragment.period.contains(value))

    whole = Period(fragments[0].period.start, fragments[-1].period.end)  # type: ignore[union-attr]
    _, unsplit_plan = corpus_connect(corpus, split=False).engine.plan(sql, params)
    (unsplit,) = unsplit_plan.fragments
    names, rows = _read(corpus, unsplit.sql)
    index = _split_column_index(names, column)
    expected = Counter(row for row in rows if (v := _typed(row[index])) is not None and whole.contains(v))
    lost, extra = list((expected - kept).elements()), list((kept - expected).elements())
    assert kept == expected, f"lost: {lost[:5]}, read twice or extra: {extra[:5]}"
    assert max(kept.values(), default=1) == 1, "a row was read by two fragments"

    oracle_count = corpus.oracle(f"SELECT COUNT(*) AS n FROM {{trades}} WHERE {window.where}", window.params)
    assert sum(kept.values()) == oracle_count.rows[0][0] > 0


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_null_dates_exist_but_a_bounded_split_never_reads_them(
    kind: str, corpus: CorpusSource, corpus_connect: Callable[..., piot.Connection]
) -> None:
    nulls = corpus.oracle("SELECT COUNT(*) AS n FROM {trades} WHERE trade_date IS NULL")
    assert nulls.rows[0][0] > 0
    sql = corpus.sql("SELECT trade_id, trade_date FROM {trades} WHERE trade_date BETWEEN '2023-01-01' AND '2025-12-31'")
    _, plan = corpus_connect(corpus).engine.plan(sql)
    assert len(plan.fragments) == 36
    for fragment in plan.fragments:
        names, rows = _read(corpus, fragment.sql)
        assert all(row[_split_column_index(names, "trade_date")] is not None for row in rows), fragment.period


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_fragment_sql_keeps_the_query_filters(
    kind: str, corpus: CorpusSource, corpus_connect: Callable[..., piot.Connection]
) -> None:
    """Bounds are added, predicates never removed: every fragment still filters on side and quantity."""
    sql = corpus.sql(
        "SELECT trade_id, side, quantity FROM {trades} WHERE side = 'SELL' AND quantity >= 900 "
        "AND trade_date >= '2024-01-01' AND trade_date < '2024-04-01'"
    )
    _, plan = corpus_connect(corpus).engine.plan(sql)
    assert len(plan.fragments) == 3
    for fragment in plan.fragments:
        names, rows = _read(corpus, fragment.sql)
        assert rows, fragment.period
        side, quantity = names.index("side"), names.index("quantity")
        assert all(row[side] == "SELL" and row[quantity] >= 900 for row in rows)
