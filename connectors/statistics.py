"""Ask a source where a date column's rows are, cheaply, and keep the answer a short while per connection.

The planner asks for a :class:`~piot.connectors.profile.ColumnProfile` of a (table, column)
when it must close a one-sided bound, size ``auto`` periods by rows, or find where the rows of
a far range are. The cache builds it in the cheapest way the source allows, each statement
built from sqlglot ASTs, read-only, and stopped by the server after
:data:`STATISTICS_SECONDS`:

1. what the source keeps without reading the table (the kind's ``statistics_query``): the
   table's row estimate, whether an index leads with the column, PostgreSQL's ``pg_stats``;
2. PostgreSQL with planner statistics (the table was analysed): the profile is theirs (its
   histogram and most common values); if an index leads with the column, ``MIN`` and ``MAX``
   (two index lookups) replace the statistics' extremes, which are a sample's;
3. otherwise, unless the table's row estimate is above :data:`MAX_COUNTED_ROWS`, one count per
   day (``SELECT day, COUNT(*) ... GROUP BY day``), if the source answers within the timeout
   with at most :data:`MAX_DAYS` days: exact, and cheap on the tables where it finishes
   (MariaDB, SQLite, which keeps no estimate, PostgreSQL never analysed);
4. otherwise, where an index leads with the column, ``MIN`` and ``MAX``, the table's row
   estimate (MariaDB ``TABLE_ROWS``, PostgreSQL ``reltuples``) spread evenly between them;
5. otherwise no profile: the planner does without (a one-sided bound reads its table whole).

A profile is a hint for where to cut periods, never a condition on rows: a stale one costs
only balance. Each is kept :data:`PROFILE_SECONDS` (also when the source could not answer,
so a slow source is not asked again by every query); a cancelled or timed-out query stops
the asking.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator

from sqlglot import exp

from piot.connectors.introspect import TableInfo, catalog_rows
from piot.connectors.kind_sql import CatalogQuery
from piot.connectors.limits import ReadControl, controlled, current_control
from piot.connectors.profile import ColumnProfile, array_items, time_of
from piot.errors import OperationalError

#: seconds each statistics statement may run before the server stops it.
STATISTICS_SECONDS = 2.0
#: seconds a profile is kept for the connection before the source is asked again.
PROFILE_SECONDS = 60.0
#: a count per day with more days than this is not used (the table spans centuries day by day).
MAX_DAYS = 100_000
#: tables estimated to hold more rows than this are not counted per day (the count would read them all).
MAX_COUNTED_ROWS = 2_000_000
#: profiles kept per connection (least recently used dropped first).
MAX_CACHED = 256

_Key = tuple[str, "str | None", str, str]


class StatisticsCache:
    """The column profiles of one connection, each kept a short while."""

    def __init__(self, lifetime: float = PROFILE_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._lifetime = lifetime
        self._clock = clock
        self._profiles: OrderedDict[_Key, tuple[float, ColumnProfile | None]] = OrderedDict()
        self._lock = threading.Lock()

    def profile(self, table: TableInfo, column: str) -> ColumnProfile | None:
        """Where the rows of ``column`` (its name in the source) of ``table`` are; None if the source could not say cheaply."""
        key = (table.source.name, table.schema, table.name, column)
        now = self._clock()
        with self._lock:
            kept = self._profiles.get(key)
            if kept is not None and now - kept[0] < self._lifetime:
                self._profiles.move_to_end(key)
                return kept[1]
        found = measure(table, column)
        with self._lock:
            self._profiles[key] = (now, found)
            self._profiles.move_to_end(key)
            while len(self._profiles) > MAX_CACHED:
                self._profiles.popitem(last=False)
        return found


def measure(table: TableInfo, column: str) -> ColumnProfile | None:
    """Ask the source for the profile of ``column`` of ``table``, the cheapest way first (see the module's steps)."""
    source = table.source
    query = source.kind.sql.statistics_query(table.schema or source.kind.default_schema, table.name, column)
    if query is None:
        return None
    answer = _rows(table, query)
    if answer is None:
        return None  # the source did not answer its own catalog: ask it nothing more
    facts = dict(zip((n.lower() for n in answer[0]), answer[1][0])) if answer[1] else {}
    estimate = _number(facts.get("row_count"))
    indexed = bool(facts.get("indexed"))
    planner = _planner_profile(facts, estimate)
    if planner is not None:
        if not indexed:
            return planner
        span = _span(table, column)
        return planner.with_span(span[0], span[1], "MIN/MAX by index") if span is not None else planner
    counted = _day_counts(table, column) if estimate is None or estimate <= MAX_COUNTED_ROWS else None
    if counted is not None:
        return counted
    if not indexed:
        return None
    span = _span(table, column)
    if span is None:
        return None
    how = "MIN/MAX by index" + (", the table's row estimate spread evenly" if estimate is not None else "")
    return ColumnProfile.uniform(span[0], span[1], estimate, how)


# -- the statements ---------------------------------------------------------------------------
def _source_table(table: TableInfo) -> exp.Table:
    return exp.table_(table.name, db=table.schema or table.source.kind.default_schema, quoted=True)


def _text(node: exp.Expression) -> exp.Expression:
    return exp.cast(node, exp.DataType.build("TEXT"))


def span_sql(table: TableInfo, column: str) -> str:
    """``SELECT MIN(column), MAX(column) FROM table`` as text, in the source's dialect (index lookups where an index leads with it)."""
    ref = exp.column(column, quoted=True)
    select = exp.select(
        exp.alias_(_text(exp.func("MIN", ref.copy())), "first", quoted=True),
        exp.alias_(_text(exp.func("MAX", ref.copy())), "last", quoted=True),
    ).from_(_source_table(table))
    return select.sql(dialect=table.source.kind.dialect)


def day_counts_sql(table: TableInfo, column: str) -> str:
    """``SELECT day, COUNT(*) FROM table WHERE column IS NOT NULL GROUP BY day``, at most :data:`MAX_DAYS` + 1 days.

    A day is the column cast to DATE, as text (SQLite, which keeps dates as ISO text: its first ten characters).
    """
    ref = exp.column(column, quoted=True)
    kind = table.source.kind
    if kind.text_dates:
        day: exp.Expression = exp.Substring(this=ref.copy(), start=exp.Literal.number(1), length=exp.Literal.number(10))
    else:
        day = _text(exp.cast(ref.copy(), exp.DataType.build("DATE")))
    select = (
        exp.select(exp.alias_(day, "day", quoted=True), exp.alias_(exp.func("COUNT", exp.Star()), "rows_on_day", quoted=True))
        .from_(_source_table(table))
        .where(exp.Not(this=exp.Is(this=ref.copy(), expression=exp.null())))
        .group_by(day.copy())
        .limit(MAX_DAYS + 1)
    )
    return select.sql(dialect=kind.dialect)


# -- reading them ------------------------------------------------------------------------------
@contextlib.contextmanager
def _briefly() -> Iterator[ReadControl]:
    """Run the reads of the block under the query's control, cut to :data:`STATISTICS_SECONDS`; yield the query's own."""
    outer = current_control()
    deadline = time.monotonic() + STATISTICS_SECONDS
    if outer.deadline is not None and outer.deadline < deadline:
        deadline = outer.deadline
    with controlled(ReadControl(deadline, STATISTICS_SECONDS, outer.cancelled)):
        yield outer


def _rows(table: TableInfo, query: CatalogQuery) -> tuple[list[str], list[tuple[object, ...]]] | None:
    """The answer of one statistics statement; None if the source did not give it in time (the query's own stop is raised)."""
    with _briefly() as outer:
        try:
            return catalog_rows(table.source, query)
        except OperationalError:
            remaining = outer.remaining()
            if outer.cancelled() or (remaining is not None and remaining <= 0):
                raise  # the query itself is over: not a question of statistics
            return None


def _first_row(table: TableInfo, query: CatalogQuery) -> dict[str, object] | None:
    answer = _rows(table, query)
    if answer is None or not answer[1]:
        return None
    names, rows = answer
    return dict(zip((n.lower() for n in names), rows[0]))


def _span(table: TableInfo, column: str) -> tuple[dt.datetime | None, dt.datetime | None] | None:
    row = _first_row(table, CatalogQuery(span_sql(table, column)))
    if row is None:
        return None
    first, last = time_of(row.get("first")), time_of(row.get("last"))
    if (first is None) != (row.get("first") is None) or (last is None) != (row.get("last") is None):
        return None  # a value Python cannot hold (infinity, a year past 9999): no span to cut by
    return first, last


def _day_counts(table: TableInfo, column: str) -> ColumnProfile | None:
    answer = _rows(table, CatalogQuery(day_counts_sql(table, column)))
    if answer is None or len(answer[1]) > MAX_DAYS:
        return None
    days = [(time_of(day), int(n)) for day, n in answer[1] if n is not None]  # type: ignore[call-overload]
    return ColumnProfile.from_day_counts([(day, n) for day, n in days if day is not None])


def _planner_profile(facts: dict[str, object], estimate: float | None) -> ColumnProfile | None:
    """The profile PostgreSQL's statistics give, None without them (the table never analysed)."""
    bounds = [v for v in (time_of(t) for t in array_items(_str(facts.get("histogram")))) if v is not None]
    values = [time_of(t) for t in array_items(_str(facts.get("common_values")))]
    fractions = [_number(f) for f in array_items(_str(facts.get("common_freqs")))]
    common = [(v, f) for v, f in zip(values, fractions) if v is not None and f is not None]
    if estimate is None or (not bounds and not common):
        return None
    return ColumnProfile.from_planner_statistics(estimate, _number(facts.get("null_frac")) or 0.0, bounds, common)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _number(value: object) -> float | None:
    """A row estimate or fraction as a float; None when missing or negative (PostgreSQL's "never counted").

    >>> _number("0.25"), _number(-1.0), _number(None)
    (0.25, None, None)
    """
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None
