"""What the planner may ask a source about a date column, and how it reads the answer for one query's range.

Planning touches no database: its caller provides a :class:`Statistics` (the connection's
:class:`piot.connectors.statistics.StatisticsCache`; in tests, any object with a ``profile``
method). The planner asks it for a column's :class:`~piot.connectors.profile.ColumnProfile`
when it must close a one-sided bound, size ``auto`` periods by rows, or find where the rows of a
far range are. An answer only decides where periods are cut: the query's own bounds stay on
the outer fragments, and an open side stays open.

Example:
    >>> from datetime import datetime as d
    >>> from piot.plan.periods import Edge
    >>> profile = ColumnProfile.uniform(d(2023, 1, 1), d(2024, 12, 31), 730)
    >>> data_within(profile, Edge(d(2024, 6, 1), True), None)
    (datetime.datetime(2024, 6, 1, 0, 0), datetime.datetime(2024, 12, 31, 0, 0))
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from piot.connectors.introspect import TableInfo
from piot.connectors.profile import ColumnProfile
from piot.plan.periods import Edge


class Statistics(Protocol):
    """Answers where a table's rows are on a date column."""

    def profile(self, table: TableInfo, column: str) -> ColumnProfile | None:
        """The profile of ``column`` (its name in the source) of ``table``; None when the source could not say."""
        ...


def data_within(profile: ColumnProfile, lower: Edge | None, upper: Edge | None) -> tuple[dt.datetime, dt.datetime] | None:
    """The first and last value the profile knows inside ``lower..upper`` (None: open); None when there is none.

    >>> profile = ColumnProfile.uniform(dt.datetime(2023, 1, 1), dt.datetime(2023, 12, 31), 365)
    >>> data_within(profile, Edge(dt.datetime(2024, 6, 1), True), None) is None
    True
    """
    if profile.empty or profile.first is None or profile.last is None:
        return None
    first = profile.first if lower is None else max(profile.first, lower.value)
    last = profile.last if upper is None else min(profile.last, upper.value)
    return (first, last) if first <= last else None


def rows_within(profile: ColumnProfile, lower: Edge | None, upper: Edge | None) -> float | None:
    """Estimated rows inside ``lower..upper`` (inclusivity aside: a hint); None when the profile has no row count.

    >>> rows_within(ColumnProfile.uniform(dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 11), 100), None, Edge(dt.datetime(2024, 1, 6), False))
    50.0
    """
    return profile.between(None if lower is None else lower.value, None if upper is None else upper.value)
