"""Fold relative time to literals, and read constant dates and timestamps out of SQL.

``CURRENT_DATE``, ``NOW()``, ``CURRENT_TIMESTAMP`` and ``LOCALTIMESTAMP`` are replaced
by typed literals of one instant, and constant arithmetic such as
``DATE '2024-01-01' + INTERVAL '1' YEAR`` is folded, with PostgreSQL's month-end rule
(``'2024-01-31' + 1 month = '2024-02-29'``).

Relative time is read in one zone, the connection's ``timezone`` option (UTC unless set):
``CURRENT_DATE`` is the date there, ``LOCALTIMESTAMP`` the wall time there, and ``NOW()`` /
``CURRENT_TIMESTAMP`` the instant, written with its explicit UTC offset (a TIMESTAMP WITH
TIME ZONE, as in PostgreSQL; in MySQL's dialect ``NOW()`` is the wall time). Days, weeks,
months and years added to an instant move its wall time in that zone (``+ 1 day`` across a
DST change is 23 or 25 hours), hours, minutes and seconds are elapsed time, as in PostgreSQL.

Example:
    >>> import sqlglot
    >>> q = sqlglot.parse_one("select date '2024-01-31' + interval '1' month", read="postgres")
    >>> fold_time(q, dt.datetime(2024, 1, 1)).sql("postgres")
    "SELECT CAST('2024-02-29 00:00:00' AS TIMESTAMP)"
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import zoneinfo  # noqa: F401 - used by the examples
from dataclasses import dataclass, field

from sqlglot import exp

from piot.sql.zones import UTC, in_zone, instant_text, localize, wall_time

_DATE_TYPES = {exp.DataType.Type.DATE, exp.DataType.Type.DATE32}
_TIMESTAMP_TYPES = {
    exp.DataType.Type.TIMESTAMP,
    exp.DataType.Type.DATETIME,
    exp.DataType.Type.TIMESTAMPNTZ,
    exp.DataType.Type.DATETIME64,
    exp.DataType.Type.TIMESTAMP_S,
    exp.DataType.Type.TIMESTAMP_MS,
    exp.DataType.Type.TIMESTAMP_NS,
}
#: types of instants: their text is read in the connection's zone unless it has an offset
_INSTANT_TYPES = {exp.DataType.Type.TIMESTAMPTZ, exp.DataType.Type.TIMESTAMPLTZ}
_NOW_FUNCTIONS = {"now", "sysdate", "getdate", "localtimestamp", "current_timestamp"}
_TODAY_FUNCTIONS = {"curdate", "current_date", "today"}
_INTERVAL_TEXT = re.compile(r"^\s*([+-]?\d+)\s*([a-zA-Z]+)?\s*$")
_UNIT_ALIASES = {
    "year": "year", "years": "year", "y": "year",
    "month": "month", "months": "month", "mon": "month", "mons": "month",
    "week": "week", "weeks": "week", "w": "week",
    "day": "day", "days": "day", "d": "day",
    "hour": "hour", "hours": "hour", "h": "hour",
    "minute": "minute", "minutes": "minute", "min": "minute", "mins": "minute",
    "second": "second", "seconds": "second", "s": "second", "sec": "second", "secs": "second",
}  # fmt: skip


@dataclass(frozen=True)
class TimeValue:
    """A constant from SQL: the value, whether it was typed as a DATE, and whether it was bare text.

    ``value`` is aware when the constant names an instant: text with a UTC offset, a
    TIMESTAMP WITH TIME ZONE, ``NOW()``. ``zoned`` marks a TIMESTAMP WITH TIME ZONE typed
    without an offset: its naive value is wall time in the connection's zone.

    Bare text takes the type of what it is compared with: against a DATE column,
    ``'2024-03-10 12:00'`` means the date 2024-03-10, as in PostgreSQL, and against a
    TIMESTAMP (without time zone) column its offset is ignored, as PostgreSQL ignores it.
    """

    value: dt.datetime
    is_date: bool
    untyped: bool = field(default=False, compare=False, repr=False)
    zoned: bool = field(default=False, compare=False, repr=False)

    def as_date_operand(self, zone: dt.tzinfo = UTC) -> dt.datetime:
        """The value when compared with a DATE: bare text is cut to its date, typed values stay as they are (instants as wall time in ``zone``)."""
        if self.untyped:
            return dt.datetime.combine(self.value.date(), dt.time())
        return wall_time(self.value, zone)

    def for_column(self, kind: str, zone: dt.tzinfo = UTC) -> dt.datetime:
        """The value compared with a column of ``kind`` (``DATE``, ``TIMESTAMP``, ``TIMESTAMPTZ``) in a session of ``zone``.

        A TIMESTAMPTZ column compares instants: wall time without an offset is read in ``zone``
        (aware result); DATE and TIMESTAMP columns compare wall times in ``zone`` (naive result).

        >>> v = TimeValue(dt.datetime(2024, 2, 29, 5, tzinfo=dt.timezone(dt.timedelta(hours=5))), is_date=False)
        >>> v.for_column("TIMESTAMPTZ").isoformat(" "), v.for_column("TIMESTAMP")
        ('2024-02-29 00:00:00+00:00', datetime.datetime(2024, 2, 29, 0, 0))
        """
        if kind == "TIMESTAMPTZ":
            return localize(self.value, zone)
        if kind == "DATE":
            return self.as_date_operand(zone)
        return self.value.replace(tzinfo=None) if self.untyped else wall_time(self.value, zone)


def parse_time_text(text: str) -> dt.datetime | None:
    """Read ISO text (``2024-03-01``, ``2024-03-01 10:00:00.5``, ``2024-03-01T10:00``) as a datetime.

    >>> parse_time_text("2024-03-01 10:00")
    datetime.datetime(2024, 3, 1, 10, 0)
    >>> parse_time_text("2024-03-01 10:00+05")
    datetime.datetime(2024, 3, 1, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(seconds=18000)))
    >>> parse_time_text("March") is None
    True
    """
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    # an offset is kept (aware result): what it means depends on the type the text is read as
    return value.astimezone(dt.timezone(value.utcoffset())) if value.tzinfo is not None else value


def constant_time(node: exp.Expression, *, zone: dt.tzinfo = UTC) -> TimeValue | None:
    """The instant a constant expression denotes, or None if it is not one.

    ``zone`` is the connection's: it places the wall time of arithmetic on instants.

    >>> import sqlglot
    >>> constant_time(sqlglot.parse_one("'2024-03-01'::date", read="postgres"))
    TimeValue(value=datetime.datetime(2024, 3, 1, 0, 0), is_date=True)
    """
    if isinstance(node, exp.Paren):
        return constant_time(node.this, zone=zone)
    if isinstance(node, exp.Literal) and node.is_string:
        value = parse_time_text(node.this)
        return TimeValue(value, is_date=len(node.this.strip()) == 10, untyped=True) if value else None
    if isinstance(node, (exp.Cast, exp.TryCast)) and isinstance(node.this, exp.Literal) and node.this.is_string:
        value = parse_time_text(node.this.this)
        if value is None:
            return None
        if node.to.this in _DATE_TYPES:
            return TimeValue(dt.datetime.combine(value.date(), dt.time()), is_date=True)
        if node.to.this in _TIMESTAMP_TYPES:  # an offset is ignored, as PostgreSQL ignores it in a TIMESTAMP
            return TimeValue(value.replace(tzinfo=None), is_date=False)
        if node.to.this in _INSTANT_TYPES:
            return TimeValue(value, is_date=False, zoned=value.tzinfo is None)
        return None
    if isinstance(node, (exp.Add, exp.Sub, exp.DateAdd, exp.DateSub)):
        return _fold_arithmetic(node, zone=zone)
    return None


def time_literal(value: TimeValue) -> exp.Expression:
    """The typed SQL literal for ``value``: ``CAST('...' AS DATE)``, ``... AS TIMESTAMP)``, or for an
    aware value ``CAST('...+00:00' AS TIMESTAMPTZ)`` with its explicit offset.

    >>> time_literal(TimeValue(dt.datetime(2024, 3, 31, 1, tzinfo=UTC), is_date=False)).sql("postgres")
    "CAST('2024-03-31 01:00:00+00:00' AS TIMESTAMPTZ)"
    """
    text = literal_text(value.value, is_date=value.is_date)
    if value.value.tzinfo is not None:
        return exp.cast(exp.Literal.string(text), exp.DataType.Type.TIMESTAMPTZ)
    return exp.cast(exp.Literal.string(text), exp.DataType.Type.DATE if value.is_date else exp.DataType.Type.TIMESTAMP)


def literal_text(value: dt.datetime, *, is_date: bool) -> str:
    """The text inside the literal :func:`time_literal` writes for ``TimeValue(value, is_date)`` (fragment windows write it without a tree).

    >>> literal_text(dt.datetime(2024, 3, 31, 1, 0, 0, 5), is_date=False), literal_text(dt.datetime(2024, 3, 31), is_date=True)
    ('2024-03-31 01:00:00.000005', '2024-03-31')
    """
    if value.tzinfo is not None:
        return instant_text(value)
    if is_date:
        return value.date().isoformat()
    return value.isoformat(" ")


def column_literal(operand: exp.Expression, kind: str, zone: dt.tzinfo = UTC) -> exp.Expression | None:
    """The typed literal a constant compared with a ``kind`` column stands for, or None to leave it as it is.

    Against a TIMESTAMPTZ column every time constant becomes an instant with an explicit
    offset (wall time read in ``zone``); against DATE and TIMESTAMP columns bare text takes
    the column's type and an instant becomes wall time in ``zone`` (PostgreSQL compares a
    TIMESTAMP with a TIMESTAMPTZ by reading the TIMESTAMP in its session zone).

    >>> import sqlglot
    >>> column_literal(sqlglot.parse_one("'2024-02-29 05:00+05'"), "TIMESTAMPTZ").sql("postgres")
    "CAST('2024-02-29 00:00:00+00:00' AS TIMESTAMPTZ)"
    >>> column_literal(sqlglot.parse_one("'2024-02-29 05:00+05'"), "TIMESTAMP").sql("postgres")
    "CAST('2024-02-29 05:00:00' AS TIMESTAMP)"
    """
    value = constant_time(operand, zone=zone)
    if value is None:
        return None
    if kind == "TIMESTAMPTZ":
        return time_literal(TimeValue(localize(value.value, zone), is_date=False))
    if value.untyped:
        return time_literal(TimeValue(value.for_column(kind, zone), is_date=kind == "DATE"))
    if value.value.tzinfo is not None or value.zoned:
        return time_literal(TimeValue(wall_time(localize(value.value, zone), zone), is_date=False))
    return None


#: dialects where ``date - INTERVAL n DAY`` is still a DATE (in PostgreSQL it is a TIMESTAMP)
_DATE_ARITHMETIC_KEEPS_DATES = {"mysql", "doris", "starrocks", "singlestore"}


#: dialects whose NOW() is the session's wall time (a DATETIME), not an instant
_WALL_CLOCK_DIALECTS = _DATE_ARITHMETIC_KEEPS_DATES | {"sqlite", "tsql"}


def fold_time(
    query: exp.Expression, now: dt.datetime, *, dialect: str = "postgres", zone: dt.tzinfo = UTC, copy: bool = True
) -> exp.Expression:
    """Replace relative time by literals of ``now`` and fold constant date arithmetic the way ``dialect`` types it.

    The result is a new tree, unless ``copy`` is False: then ``query`` is rewritten in place.

    ``now`` is an instant (a naive ``now`` is wall time in ``zone``); dates and wall times
    are taken in ``zone``. TIMESTAMPTZ text without an offset is given the offset ``zone``
    has then, so no later reader (a source, the merge) reads it in a zone of its own.

    >>> import sqlglot
    >>> q = sqlglot.parse_one("select current_date, now(), localtimestamp", read="postgres")
    >>> moment = dt.datetime(2024, 3, 30, 23, 30, tzinfo=UTC)
    >>> print(fold_time(q, moment, zone=zoneinfo.ZoneInfo("Europe/Berlin")).sql("postgres"))
    SELECT CAST('2024-03-31' AS DATE), CAST('2024-03-31 00:30:00+01:00' AS TIMESTAMPTZ), CAST('2024-03-31 00:30:00' AS TIMESTAMP)
    """
    keeps_dates = dialect.lower() in _DATE_ARITHMETIC_KEEPS_DATES
    moment = localize(now, zone)
    wall = wall_time(moment, zone)
    today = TimeValue(dt.datetime.combine(wall.date(), dt.time()), is_date=True)
    local = TimeValue(wall, is_date=False)
    instant = local if dialect.lower() in _WALL_CLOCK_DIALECTS else TimeValue(moment, is_date=False)

    def replace_relative(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.CurrentDate):
            return time_literal(today)
        if isinstance(node, exp.Localtimestamp):
            return time_literal(local)
        if isinstance(node, (exp.CurrentTimestamp, exp.CurrentDatetime)):
            return time_literal(instant)
        if isinstance(node, exp.Anonymous) and not node.expressions:
            name = node.name.lower()
            if name == "localtimestamp":
                return time_literal(local)
            if name in _NOW_FUNCTIONS:
                return time_literal(instant)
            if name in _TODAY_FUNCTIONS:
                return time_literal(today)
        if isinstance(node, exp.Cast) and node.to.this in _INSTANT_TYPES and isinstance(node.this, exp.Literal):
            value = parse_time_text(node.this.this) if node.this.is_string else None
            if value is not None and keeps_dates:  # MySQL's TIMESTAMP '...' is wall time, a DATETIME
                return time_literal(TimeValue(wall_time(value, zone), is_date=False))
            if value is not None:
                return time_literal(TimeValue(localize(value, zone), is_date=False))
        return node

    def fold_constant(node: exp.Expression) -> exp.Expression:
        if isinstance(node, (exp.Add, exp.Sub, exp.DateAdd, exp.DateSub)):
            folded = _fold_arithmetic(node, keeps_dates=keeps_dates, zone=zone)
            if folded is not None:
                return time_literal(folded)
        return node

    return query.transform(replace_relative, copy=copy).transform(fold_constant, copy=False)


def _fold_arithmetic(node: exp.Expression, *, keeps_dates: bool = False, zone: dt.tzinfo = UTC) -> TimeValue | None:
    base = constant_time(node.this, zone=zone)
    if base is None:
        return None
    # the result type follows PostgreSQL: date +/- integer is a date, date +/- interval a timestamp;
    # MySQL's DATE_ADD(date, INTERVAL n DAY) stays a date
    stays_date = False
    if isinstance(node.expression, exp.Interval):
        amount = _interval_amount(node.expression)
        stays_date = keeps_dates or isinstance(node, (exp.DateAdd, exp.DateSub))
    elif isinstance(node, (exp.DateAdd, exp.DateSub)):
        amount = _interval_amount(exp.Interval(this=node.expression, unit=node.args.get("unit")))
        stays_date = True
    elif base.is_date and isinstance(node.expression, exp.Literal) and not node.expression.is_string:
        amount = (int(node.expression.this), "day") if node.expression.this.lstrip("-").isdigit() else None
        stays_date = True
    else:
        amount = None
    if amount is None:
        return None
    count, unit = amount
    if isinstance(node, (exp.Sub, exp.DateSub)):
        count = -count
    try:
        start = localize(base.value, zone) if base.zoned else base.value
        value = shift(start, count, unit, zone=zone)
    except (OverflowError, ValueError):
        return None  # past year 9999 or before year 1: left for the source and the merge to compute
    return TimeValue(value, is_date=base.is_date and stays_date and unit in ("year", "month", "week", "day"))


def _interval_amount(interval: exp.Interval) -> tuple[int, str] | None:
    unit_node = interval.args.get("unit")
    unit_text = (unit_node.name if unit_node is not None else "").lower()
    this = interval.this
    text = this.this if isinstance(this, exp.Literal) else None
    if text is None:
        return None
    match = _INTERVAL_TEXT.match(str(text))
    if not match:
        return None
    unit = _UNIT_ALIASES.get((match[2] or unit_text).lower())
    return (int(match[1]), unit) if unit else None


def shift(value: dt.datetime, count: int, unit: str, *, zone: dt.tzinfo = UTC) -> dt.datetime:
    """Move ``value`` by ``count`` units, clipping to the month's last day as PostgreSQL does.

    An aware ``value`` (an instant) moves its wall time in ``zone`` by years, months, weeks
    and days, and moves by elapsed time for hours, minutes and seconds, as PostgreSQL's
    ``timestamptz + interval`` does in its session zone.

    >>> shift(dt.datetime(2024, 2, 29), 1, "year")
    datetime.datetime(2025, 2, 28, 0, 0)
    >>> berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    >>> shift(dt.datetime(2024, 3, 30, 12, tzinfo=dt.timezone(dt.timedelta(hours=1))), 1, "day", zone=berlin).isoformat(" ")
    '2024-03-31 12:00:00+02:00'
    """
    if value.tzinfo is not None:
        if unit in ("hour", "minute", "second"):
            return in_zone(shift(value.astimezone(UTC).replace(tzinfo=None), count, unit).replace(tzinfo=UTC), zone)
        return localize(shift(wall_time(value, zone), count, unit), zone)
    if unit in ("year", "month"):
        months = value.year * 12 + value.month - 1 + (count * 12 if unit == "year" else count)
        year, month = divmod(months, 12)
        day = min(value.day, calendar.monthrange(year, month + 1)[1])
        return value.replace(year=year, month=month + 1, day=day)
    seconds = {"week": 7 * 86400, "day": 86400, "hour": 3600, "minute": 60, "second": 1}[unit]
    return value + dt.timedelta(seconds=count * seconds)
