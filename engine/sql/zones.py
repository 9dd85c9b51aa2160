"""Time zones: the connection's zone, and instants written with explicit UTC offsets.

A TIMESTAMP WITH TIME ZONE value is an instant. piot keeps such values as aware
datetimes whose tzinfo is a *fixed* offset (the offset the connection's zone has at
that instant), so that comparing two of them always compares instants, and writing
one gives text with an explicit offset that no server reads in its session zone.

Wall-clock text without an offset (``TIMESTAMPTZ '2024-03-31 02:30'``, a naive bound
parameter, ``CURRENT_DATE``) is read in the connection's ``timezone`` option, as
PostgreSQL reads it in its session TimeZone: a time skipped by a DST jump forward takes
the offset before the jump, a repeated time after a jump back the offset after it.

Example:
    >>> berlin = zone_for("Europe/Berlin")
    >>> localize(dt.datetime(2024, 3, 31, 2, 30), berlin).isoformat(" ")  # skipped: read as 02:30+01:00
    '2024-03-31 03:30:00+02:00'
    >>> localize(dt.datetime(2024, 10, 27, 2, 30), berlin).isoformat(" ")
    '2024-10-27 02:30:00+01:00'
    >>> wall_time(dt.datetime(2024, 2, 29, 5, tzinfo=dt.timezone(dt.timedelta(hours=5))), berlin)
    datetime.datetime(2024, 2, 29, 1, 0)
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

from piot.errors import ProgrammingError

UTC = dt.timezone.utc
_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)


def zone_for(name: str) -> dt.tzinfo:
    """The tzinfo of a ``timezone`` option: an IANA name (``Europe/Berlin``), ``UTC`` or a fixed offset (``+05:30``).

    >>> zone_for("+05:30")
    datetime.timezone(datetime.timedelta(seconds=19800))
    >>> zone_for("Mars/Olympus")
    Traceback (most recent call last):
    ...
    piot.errors.ProgrammingError: unknown time zone 'Mars/Olympus': use an IANA name such as 'Europe/Berlin', 'UTC' or an offset such as '+02:00'
    """
    if not isinstance(name, str) or not name.strip():
        raise ProgrammingError(f"timezone must be a time zone name such as 'UTC' or 'Europe/Berlin', not {name!r}")
    text = name.strip()
    if text.upper() in ("UTC", "Z", "GMT"):
        return UTC
    match = _OFFSET.match(text)
    if match:
        hours, minutes = int(match[2]), int(match[3] or 0)
        if hours > 15 or minutes > 59:
            raise ProgrammingError(f"time zone offset {name!r} is out of range")
        sign = -1 if match[1] == "-" else 1
        return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    try:
        return zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ProgrammingError(
            f"unknown time zone {name!r}: use an IANA name such as 'Europe/Berlin', 'UTC' or an offset such as '+02:00'"
        ) from None


def in_zone(value: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """The aware ``value`` as wall time in ``zone``, with that instant's fixed offset as tzinfo.

    >>> in_zone(dt.datetime(2024, 7, 1, tzinfo=UTC), zone_for("Europe/Berlin")).isoformat(" ")
    '2024-07-01 02:00:00+02:00'
    """
    local = value.astimezone(UTC).astimezone(zone)
    offset = local.utcoffset()
    return local.replace(tzinfo=dt.timezone(offset) if offset else UTC)


def localize(value: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """The instant a wall time (naive) has in ``zone``; an aware ``value`` is only re-expressed in ``zone``.

    A skipped time takes the offset before the jump, a repeated one the offset after it (as PostgreSQL).
    """
    if value.tzinfo is not None:
        return in_zone(value, zone)
    first = value.replace(tzinfo=zone, fold=0)
    if wall_time(first, zone) != value:  # skipped by a jump forward: the offset before it
        return in_zone(first, zone)
    return in_zone(value.replace(tzinfo=zone, fold=1), zone)


def wall_time(value: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """The naive wall time an aware ``value`` shows in ``zone`` (a naive value is returned as it is)."""
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).astimezone(zone).replace(tzinfo=None, fold=0)


def instant_text(value: dt.datetime) -> str:
    """ISO text of an aware value with its explicit offset, as every source and Polars read it.

    >>> instant_text(dt.datetime(2024, 3, 31, 1, 0, 0, 5, tzinfo=UTC))
    '2024-03-31 01:00:00.000005+00:00'
    """
    return value.isoformat(" ")
