"""Calendar periods: cut a bounded date range into daily, monthly or yearly pieces.

Periods are half-open ``[start, end)`` inside the range; the first and the last keep
the range's own edges, inclusive or exclusive. Together they cover the range exactly,
without overlap, so no row is lost or counted twice. A range closed on one side only by
the source's statistics (``d >= '2024-06-01'``) keeps that side open: its last period has no
end (``[2024-09-01, infinity)``), so a row beyond the largest value seen is still read.

On a TIMESTAMP WITH TIME ZONE column the edges are instants (aware datetimes) and the
periods are calendar days, months or years of the connection's ``timezone`` (UTC unless
set): a day in Europe/Berlin starts at its local midnight, so the day of a DST change
lasts 23 or 25 hours. Each boundary is written with its own UTC offset.

Example:
    >>> from datetime import datetime as dt
    >>> ps = split_range(Edge(dt(2024, 1, 15), True), Edge(dt(2024, 3, 31), True), "monthly")
    >>> [str(p) for p in ps]
    ['[2024-01-15, 2024-02-01)', '[2024-02-01, 2024-03-01)', '[2024-03-01, 2024-03-31]']
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Literal

from piot.sql.zones import UTC, localize, wall_time

Unit = Literal["daily", "monthly", "yearly"]
UNITS: tuple[Unit, ...] = ("daily", "monthly", "yearly")

#: ``auto`` picks daily for ranges up to this many days ...
AUTO_DAILY_MAX_DAYS = 62
#: ... monthly up to this many days (about six years, at most 74 fragments), yearly beyond.
AUTO_MONTHLY_MAX_DAYS = 6 * 366
#: the most periods one scan is cut into; past it the unit is coarsened (see :func:`fit_unit`).
MAX_PERIODS = 1000


@dataclass(frozen=True, order=True)
class Edge:
    """One end of a range: a value and whether the value itself belongs to the range."""

    value: datetime
    inclusive: bool


@dataclass(frozen=True)
class Period:
    """One fragment's window on the date column; a None edge is open (no bound on that side)."""

    start: Edge | None
    end: Edge | None

    def __str__(self) -> str:
        """The window as an interval.

        >>> str(Period(Edge(datetime(2024, 9, 1), True), None))
        '[2024-09-01, infinity)'
        """
        left = "(-infinity" if self.start is None else ("[" if self.start.inclusive else "(") + _show(self.start.value)
        right = "infinity)" if self.end is None else _show(self.end.value) + ("]" if self.end.inclusive else ")")
        return f"{left}, {right}"

    def contains(self, value: datetime) -> bool:
        """Whether ``value`` falls in this period.

        >>> Period(Edge(datetime(2024, 1, 1), True), Edge(datetime(2024, 2, 1), False)).contains(datetime(2024, 2, 1))
        False
        >>> Period(None, Edge(datetime(2024, 2, 1), False)).contains(datetime(1, 1, 1))
        True
        """
        start, end = self.start, self.end
        above = start is None or value > start.value or (start.inclusive and value == start.value)
        below = end is None or value < end.value or (end.inclusive and value == end.value)
        return above and below


def _show(value: datetime) -> str:
    """A naive midnight as its date, anything else (an instant included) in full.

    >>> _show(datetime(2024, 1, 1)), _show(datetime(2024, 1, 1, 0, 0, 0, 1)), _show(datetime(2024, 1, 1, tzinfo=UTC))
    ('2024-01-01', '2024-01-01 00:00:00.000001', '2024-01-01 00:00:00+00:00')
    """
    midnight = value.tzinfo is None and not (value.hour or value.minute or value.second or value.microsecond)
    return value.date().isoformat() if midnight else value.isoformat(" ")


def next_boundary(value: datetime, unit: Unit, zone: tzinfo = UTC, every: int = 1) -> datetime | None:
    """The first calendar boundary of ``unit`` strictly after ``value`` (for an aware value: in ``zone``); None past year 9999.

    With ``every`` > 1 (yearly only) the boundary is that many years on: periods of several years.

    >>> next_boundary(datetime(2024, 2, 29, 13), "monthly")
    datetime.datetime(2024, 3, 1, 0, 0)
    >>> next_boundary(datetime(2024, 12, 31), "daily")
    datetime.datetime(2025, 1, 1, 0, 0)
    >>> from zoneinfo import ZoneInfo
    >>> next_boundary(datetime(2024, 3, 30, 23, tzinfo=UTC), "daily", ZoneInfo("Europe/Berlin")).isoformat(" ")
    '2024-04-01 00:00:00+02:00'
    >>> next_boundary(datetime(9999, 12, 31), "daily") is None
    True
    """
    if value.tzinfo is not None:
        wall = next_boundary(wall_time(value, zone), unit, every=every)
        boundary = localize(wall, zone) if wall is not None else None
        while boundary is not None and boundary <= value:  # a zone whose midnight repeats: take the next one
            wall = next_boundary(wall_time(boundary, zone), unit, every=every)
            boundary = localize(wall, zone) if wall is not None else None
        return boundary
    if unit == "daily":
        day = datetime(value.year, value.month, value.day)
        return None if day.date() == datetime.max.date() else day + timedelta(days=1)
    if unit == "monthly":
        year = value.year + value.month // 12
        return datetime(year, value.month % 12 + 1, 1) if year <= datetime.max.year else None
    if unit == "yearly":
        year = value.year + max(1, every)
        return datetime(year, 1, 1) if year <= datetime.max.year else None
    raise ValueError(f"unknown time unit {unit!r}")


def count_periods(lower: datetime, upper: datetime, unit: Unit) -> int:
    """How many periods :func:`split_range` makes of ``lower..upper`` (an inclusive upper edge on a boundary aside), without cutting.

    >>> count_periods(datetime(1, 1, 1), datetime(2024, 2, 29), "monthly")
    24278
    """
    if upper <= lower:
        return 1
    if unit == "daily":
        return (upper.date() - lower.date()).days + 1
    if unit == "monthly":
        return (upper.year - lower.year) * 12 + upper.month - lower.month + 1
    return upper.year - lower.year + 1


def fit_unit(lower: datetime, upper: datetime, unit: Unit, limit: int = MAX_PERIODS) -> tuple[Unit, int]:
    """The unit, no finer than ``unit``, that cuts ``lower..upper`` into at most ``limit`` periods, and how many years per period.

    Daily gives way to monthly, monthly to yearly; yearly periods then span several years.

    >>> fit_unit(datetime(1, 1, 1), datetime(2024, 2, 29), "monthly")
    ('yearly', 3)
    >>> fit_unit(datetime(2020, 1, 1), datetime(2024, 2, 29), "daily")
    ('monthly', 1)
    """
    for candidate in UNITS[UNITS.index(unit) :]:
        count = count_periods(lower, upper, candidate)
        if count <= limit:
            return candidate, 1
    return "yearly", math.ceil(count / max(1, limit - 1))


def choose_unit(lower: datetime, upper: datetime) -> Unit:
    """The unit ``auto`` picks for a range: daily up to 62 days, monthly up to six years, else yearly.

    >>> choose_unit(datetime(2024, 1, 1), datetime(2024, 12, 31))
    'monthly'
    """
    days = (upper - lower).days
    if days <= AUTO_DAILY_MAX_DAYS:
        return "daily"
    if days <= AUTO_MONTHLY_MAX_DAYS:
        return "monthly"
    return "yearly"


def split_range(lower: Edge, upper: Edge, unit: Unit, zone: tzinfo = UTC, every: int = 1) -> list[Period]:
    """Cut ``lower..upper`` at every calendar boundary of ``unit`` inside it (calendar of ``zone`` for instants).

    Each period is one calendar period of ``unit`` intersected with the range, so an
    inclusive upper edge that falls on a boundary is a period of its own (``[end, end]``).
    A range with no boundary inside (or an empty one) is a single period equal to the range.
    ``every`` > 1 (yearly only) cuts every that many years.
    """
    periods: list[Period] = []
    start = lower
    boundary = next_boundary(lower.value, unit, zone, every)
    while boundary is not None and (boundary < upper.value or (boundary == upper.value and upper.inclusive)):
        periods.append(Period(start, Edge(boundary, False)))
        start = Edge(boundary, True)
        boundary = next_boundary(boundary, unit, zone, every)
    periods.append(Period(start, upper))
    return periods


def split_within(
    lower: Edge | None, upper: Edge | None, unit: Unit, data: tuple[datetime, datetime] | None, every: int = 1
) -> list[Period]:
    """Cut ``lower..upper`` only where rows are: at the boundaries inside ``data`` (the first and last value present).

    The first period still starts at ``lower`` and the last ends at ``upper`` (or is open where
    the range is: None), so rows that arrive outside ``data`` after it was measured are read all
    the same. ``data`` None (no row in the range) makes one period of the whole range.

    >>> ps = split_within(Edge(datetime(1, 1, 1), False), Edge(datetime(9999, 12, 31), True), "monthly",
    ...                   (datetime(2024, 1, 15), datetime(2024, 3, 2)))
    >>> [str(p) for p in ps]
    ['(0001-01-01, 2024-02-01)', '[2024-02-01, 2024-03-01)', '[2024-03-01, 9999-12-31]']
    >>> [str(p) for p in split_within(Edge(datetime(2024, 1, 15), True), None, "monthly", (datetime(2023, 5, 1), datetime(2024, 3, 2)))]
    ['[2024-01-15, 2024-02-01)', '[2024-02-01, 2024-03-01)', '[2024-03-01, infinity)']
    """
    if data is None:
        return [Period(lower, upper)]
    first = data[0] if lower is None else max(data[0], lower.value)
    last = data[1] if upper is None else min(data[1], upper.value)
    if first > last:
        return [Period(lower, upper)]
    inner = split_range(Edge(first, True), Edge(last, True), unit, every=every)
    return cut_at(lower, upper, [p.start.value for p in inner[1:] if p.start is not None])


def cut_at(lower: Edge | None, upper: Edge | None, boundaries: list[datetime]) -> list[Period]:
    """Cut ``lower..upper`` at ``boundaries`` (ascending); those not strictly inside the range are left out.

    Each period is ``[boundary, next boundary)``; the first starts at ``lower``, the last ends at
    ``upper``, each with its own inclusivity, or open where the edge is None.

    >>> [str(p) for p in cut_at(None, Edge(datetime(2024, 3, 1), True), [datetime(2024, 1, 1), datetime(2024, 3, 1)])]
    ['(-infinity, 2024-01-01)', '[2024-01-01, 2024-03-01]']
    """
    inside = [b for b in boundaries if (lower is None or b > lower.value) and (upper is None or b < upper.value)]
    starts: list[Edge | None] = [lower, *(Edge(b, True) for b in inside)]
    ends: list[Edge | None] = [*(Edge(b, False) for b in inside), upper]
    return [Period(start, end) for start, end in zip(starts, ends)]
