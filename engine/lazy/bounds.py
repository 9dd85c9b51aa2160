"""Bounds on a date column: lifted from predicates, and written back as period windows.

Bounds are lifted only from the top-level AND chain of a predicate, so every row the
predicate keeps lies inside them. Values are naive datetimes in the column's own time
zone (a ``Date`` bound is midnight), the form :func:`piot.plan.periods.split_range` cuts.

Example:
    >>> from datetime import date
    >>> from piot.lazy.predicate import And, Between, Compare
    >>> q1 = Between("d", date(2024, 1, 1), date(2024, 3, 31))
    >>> b = bounds_for(And((q1, Compare("d", "<", date(2024, 3, 15)))), "d")
    >>> b.lower
    Edge(value=datetime.datetime(2024, 1, 1, 0, 0), inclusive=True)
    >>> b.upper
    Edge(value=datetime.datetime(2024, 3, 15, 0, 0), inclusive=False)
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import polars as pl
from sqlglot import exp

from piot.lazy.predicate import And, Between, Compare, Predicate, Value, conjuncts
from piot.plan.bounds import Range, column_range, tighter_edge
from piot.plan.periods import Edge, Period

__all__ = ["bounds_for", "merge_ranges", "window_expr", "zone"]

_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


def bounds_for(predicate: Predicate, column: str, time_zone: str | None = None) -> Range:
    """The tightest bounds on ``column`` the predicate implies, lifted by the SQL planner's own rules.

    The predicate is written as a condition (:mod:`piot.lazy.sql_pushdown`) and read by
    :func:`piot.plan.bounds.column_range`, so SQL and the Polars API find the same range in the
    same filter (ORs that form one range included). Edges are naive wall times (in the
    column's zone for an aware Datetime).

    Args:
        predicate: any predicate; parts that say nothing about ``column`` are ignored.
        column: the date column.
        time_zone: the column's time zone, for aware literals; None for naive columns.

    >>> from datetime import datetime
    >>> bounds_for(Compare("t", ">", datetime(2024, 5, 1, 12)), "t").lower
    Edge(value=datetime.datetime(2024, 5, 1, 12, 0), inclusive=False)
    """
    from piot.connectors.kinds import kind_for_url
    from piot.lazy.sql_pushdown import written_condition

    dtype = pl.Datetime("us", time_zone)
    parts = [c for part in conjuncts(predicate) if (c := written_condition(part, {column: dtype}, kind_for_url("postgresql://h/db")))]
    if not parts:
        return Range()
    condition = parts[0] if len(parts) == 1 else exp.and_(*parts)
    found = column_range(condition, column, is_date=False, zoned=time_zone is not None, zone=zone(time_zone or "UTC"))
    if time_zone is None:
        return found
    wall = zone(time_zone)
    return Range(*(None if e is None else Edge(e.value.astimezone(wall).replace(tzinfo=None), e.inclusive) for e in (found.lower, found.upper)))


def merge_ranges(predicate: Predicate) -> Predicate:
    """Keep only the tightest lower and upper date bound per column in a top-level AND chain.

    ``d >= a AND d >= b`` holds exactly where ``d >= max(a, b)`` does (null where d is
    null), so the merged predicate is equivalent; it only reads better as SQL. Naive and
    time-zone-aware bounds are merged separately (they cannot be compared).

    >>> from datetime import date
    >>> q1 = Between("d", date(2024, 1, 1), date(2024, 3, 31))
    >>> merged = merge_ranges(And((q1, Compare("d", ">=", date(2024, 2, 1)), Compare("d", "<", date(2024, 3, 1)))))
    >>> for part in merged.parts:
    ...     print(part)
    Compare(column='d', op='>=', value=datetime.date(2024, 2, 1))
    Compare(column='d', op='<', value=datetime.date(2024, 3, 1))
    """
    parts = [q for part in conjuncts(predicate) for q in _split_between(part)]
    best: dict[tuple[str, bool, bool], tuple[Edge, Compare]] = {}
    kept: list[Predicate] = []
    for part in parts:
        instant = _instant(part.value) if isinstance(part, Compare) and part.op not in ("==", "!=") else None
        if instant is None:
            kept.append(part)
            continue
        assert isinstance(part, Compare)
        lower = part.op in (">", ">=")
        key = (part.column, not lower, instant.tzinfo is not None)
        edge = Edge(instant, part.op in (">=", "<="))
        current = best.get(key)
        if current is None or tighter_edge(current[0], edge, lower=lower) is edge:
            best[key] = (edge, part)
    merged = kept + [compare for _, (_, compare) in sorted(best.items(), key=lambda item: item[0])]
    return merged[0] if len(merged) == 1 else And(tuple(merged))


def _instant(value: Value) -> datetime | None:
    """A date or datetime as a datetime (a date is its midnight); None for other values."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    return None


def _split_between(part: Predicate) -> tuple[Predicate, ...]:
    if not isinstance(part, Between) or _instant(part.low) is None or _instant(part.high) is None:
        return (part,)
    low_op = ">=" if part.closed in ("both", "left") else ">"
    high_op = "<=" if part.closed in ("both", "right") else "<"
    return (Compare(part.column, low_op, part.low), Compare(part.column, high_op, part.high))


def _part_bounds(part: Predicate, column: str, time_zone: str | None) -> Range:
    if isinstance(part, Compare) and part.column == column:
        value = _as_naive(part.value, time_zone)
        if value is None:
            return Range()
        if part.op == "==":
            return Range(Edge(value, True), Edge(value, True))
        if part.op in (">", ">="):
            return Range(lower=Edge(value, part.op == ">="))
        if part.op in ("<", "<="):
            return Range(upper=Edge(value, part.op == "<="))
    if isinstance(part, Between) and part.column == column:
        low, high = _as_naive(part.low, time_zone), _as_naive(part.high, time_zone)
        if low is None or high is None:
            return Range()
        return Range(Edge(low, part.closed in ("both", "left")), Edge(high, part.closed in ("both", "right")))
    return Range()


def _as_naive(value: Value, time_zone: str | None) -> datetime | None:
    """A date or datetime literal as a naive datetime in the column's zone; None otherwise."""
    if not isinstance(value, date):
        return None
    if not isinstance(value, datetime):
        return datetime.combine(value, time()) if time_zone is None else None
    if (value.tzinfo is None) != (time_zone is None):
        return None
    if value.tzinfo is None:
        return value
    return value.astimezone(zone(time_zone or "UTC")).replace(tzinfo=None)


def zone(name: str) -> tzinfo:
    """A tzinfo for a Polars time zone name: an IANA key or a fixed offset such as ``+02:00``.

    >>> zone("+02:00")
    datetime.timezone(datetime.timedelta(seconds=7200))
    """
    match = _OFFSET.match(name)
    if match:
        sign = 1 if match[1] == "+" else -1
        return timezone(sign * timedelta(hours=int(match[2]), minutes=int(match[3])))
    return ZoneInfo(name)


def window_expr(column: str, period: Period, dtype: pl.DataType) -> pl.Expr:
    """The filter for one period, with literals in the column's own type.

    A ``Date`` column gets date literals, a ``Datetime`` column datetime literals of its
    unit and zone, so Polars can push the window into the source's SQL unchanged.

    >>> p = Period(Edge(datetime(2024, 1, 1), True), Edge(datetime(2024, 2, 1), False))
    >>> print(window_expr("d", p, pl.Date()))
    [([(col("d")) >= (2024-01-01)]) & ([(col("d")) < (2024-02-01)])]
    """
    start = _literal(period.start.value, dtype)
    end = _literal(period.end.value, dtype)
    col = pl.col(column)
    lower = col >= start if period.start.inclusive else col > start
    upper = col <= end if period.end.inclusive else col < end
    return lower & upper


def _literal(value: datetime, dtype: pl.DataType) -> pl.Expr:
    if isinstance(dtype, pl.Date):
        return pl.lit(value.date(), dtype=pl.Date())
    if not isinstance(dtype, pl.Datetime):
        raise TypeError(f"a period window needs a Date or Datetime column, not {dtype}")
    if dtype.time_zone is None:
        return pl.lit(value, dtype=pl.Datetime(dtype.time_unit))
    return pl.lit(value.replace(tzinfo=zone(dtype.time_zone)), dtype=pl.Datetime(dtype.time_unit, dtype.time_zone))
