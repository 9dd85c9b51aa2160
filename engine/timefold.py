"""Fold relative time to literals, and read constant dates and timestamps out of SQL.

``CURRENT_DATE``, ``NOW()``, ``CURRENT_TIMESTAMP`` and ``LOCALTIMESTAMP`` are replaced
by typed literals of one instant, and constant arithmetic such as
``DATE '2024-01-01' + INTERVAL '1' YEAR`` is folded, with PostgreSQL's month-end rule
(``'2024-01-31' + 1 month = '2024-02-29'``).

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
from dataclasses import dataclass, field

from sqlglot import exp

_DATE_TYPES = {exp.DataType.Type.DATE, exp.DataType.Type.DATE32}
_TIMESTAMP_TYPES = {
    exp.DataType.Type.TIMESTAMP,
    exp.DataType.Type.DATETIME,
    exp.DataType.Type.TIMESTAMPNTZ,
    exp.DataType.Type.DATETIME64,
    exp.DataType.Type.TIMESTAMP_S,
    exp.DataType.Type.TIMESTAMP_MS,
    exp.DataType.Type.TIMESTAMP_NS,
    exp.DataType.Type.TIMESTAMPTZ,  # MySQL reads TIMESTAMP '...' literals this way
    exp.DataType.Type.TIMESTAMPLTZ,
}
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
    """A constant instant from SQL: the value, whether it was typed as a DATE, and whether it was bare text.

    Bare text takes the type of what it is compared with: against a DATE column,
    ``'2024-03-10 12:00'`` means the date 2024-03-10, as in PostgreSQL.
    """

    value: dt.datetime
    is_date: bool
    untyped: bool = field(default=False, compare=False, repr=False)

    def as_date_operand(self) -> dt.datetime:
        """The value when compared with a DATE: bare text is cut to its date, typed values stay as they are."""
        return dt.datetime.combine(self.value.date(), dt.time()) if self.untyped else self.value


def parse_time_text(text: str) -> dt.datetime | None:
    """Read ISO text (``2024-03-01``, ``2024-03-01 10:00:00.5``, ``2024-03-01T10:00``) as a datetime.

    >>> parse_time_text("2024-03-01 10:00")
    datetime.datetime(2024, 3, 1, 10, 0)
    >>> parse_time_text("March") is None
    True
    """
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    # an offset is dropped, as PostgreSQL does when it reads such text as TIMESTAMP (without time zone)
    return value.replace(tzinfo=None) if value.tzinfo is not None else value


def constant_time(node: exp.Expression) -> TimeValue | None:
    """The instant a constant expression denotes, or None if it is not one.

    >>> import sqlglot
    >>> constant_time(sqlglot.parse_one("'2024-03-01'::date", read="postgres"))
    TimeValue(value=datetime.datetime(2024, 3, 1, 0, 0), is_date=True)
    """
    if isinstance(node, exp.Paren):
        return constant_time(node.this)
    if isinstance(node, exp.Literal) and node.is_string:
        value = parse_time_text(node.this)
        return TimeValue(value, is_date=len(node.this.strip()) == 10, untyped=True) if value else None
    if isinstance(node, (exp.Cast, exp.TryCast)) and isinstance(node.this, exp.Literal) and node.this.is_string:
        value = parse_time_text(node.this.this)
        if value is None:
            return None
        if node.to.this in _DATE_TYPES:
            return TimeValue(dt.datetime.combine(value.date(), dt.time()), is_date=True)
        if node.to.this in _TIMESTAMP_TYPES:
            return TimeValue(value, is_date=False)
        return None
    if isinstance(node, (exp.Add, exp.Sub, exp.DateAdd, exp.DateSub)):
        return _fold_arithmetic(node)
    return None


def time_literal(value: TimeValue) -> exp.Expression:
    """The typed SQL literal for ``value``: ``CAST('...' AS DATE)`` or ``CAST('...' AS TIMESTAMP)``."""
    if value.is_date:
        return exp.cast(exp.Literal.string(value.value.date().isoformat()), exp.DataType.Type.DATE)
    return exp.cast(exp.Literal.string(value.value.isoformat(" ")), exp.DataType.Type.TIMESTAMP)


#: dialects where ``date - INTERVAL n DAY`` is still a DATE (in PostgreSQL it is a TIMESTAMP)
_DATE_ARITHMETIC_KEEPS_DATES = {"mysql", "doris", "starrocks", "singlestore"}


def fold_time(query: exp.Expression, now: dt.datetime, *, dialect: str = "postgres") -> exp.Expression:
    """Replace relative time by literals of ``now`` and fold constant date arithmetic the way ``dialect`` types it."""
    keeps_dates = dialect.lower() in _DATE_ARITHMETIC_KEEPS_DATES
    today = TimeValue(dt.datetime.combine(now.date(), dt.time()), is_date=True)
    instant = TimeValue(now.replace(tzinfo=None), is_date=False)

    def replace_relative(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.CurrentDate):
            return time_literal(today)
        if isinstance(node, (exp.CurrentTimestamp, exp.Localtimestamp, exp.CurrentDatetime)):
            return time_literal(instant)
        if isinstance(node, exp.Anonymous) and not node.expressions:
            name = node.name.lower()
            if name in _NOW_FUNCTIONS:
                return time_literal(instant)
            if name in _TODAY_FUNCTIONS:
                return time_literal(today)
        return node

    def fold_constant(node: exp.Expression) -> exp.Expression:
        if isinstance(node, (exp.Add, exp.Sub, exp.DateAdd, exp.DateSub)):
            folded = _fold_arithmetic(node, keeps_dates=keeps_dates)
            if folded is not None:
                return time_literal(folded)
        return node

    return query.transform(replace_relative, copy=True).transform(fold_constant, copy=False)


def _fold_arithmetic(node: exp.Expression, *, keeps_dates: bool = False) -> TimeValue | None:
    base = constant_time(node.this)
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
    value = shift(base.value, count, unit)
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


def shift(value: dt.datetime, count: int, unit: str) -> dt.datetime:
    """Move ``value`` by ``count`` units, clipping to the month's last day as PostgreSQL does.

    >>> shift(dt.datetime(2024, 2, 29), 1, "year")
    datetime.datetime(2025, 2, 28, 0, 0)
    """
    if unit in ("year", "month"):
        months = value.year * 12 + value.month - 1 + (count * 12 if unit == "year" else count)
        year, month = divmod(months, 12)
        day = min(value.day, calendar.monthrange(year, month + 1)[1])
        return value.replace(year=year, month=month + 1, day=day)
    seconds = {"week": 7 * 86400, "day": 86400, "hour": 3600, "minute": 60, "second": 1}[unit]
    return value + dt.timedelta(seconds=count * seconds)
