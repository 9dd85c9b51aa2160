"""What a source says about one date column: its smallest and largest value, and how its rows spread.

The planner uses a profile to close a one-sided bound (``d >= '2024-06-01'`` is cut up to the
largest value, then left open) and to size ``auto`` periods by rows. A profile is a hint for
where to cut periods, never a condition on rows: a stale or rough one costs only balance.

Rows are either at single values (``points``: a day's count, PostgreSQL's most common
values) or spread evenly over a stretch (``spans``: a histogram bucket). Without either, the
known rows are taken as spread evenly between the first and the last value.

Example:
    >>> from datetime import datetime as d
    >>> p = ColumnProfile.from_day_counts([(d(2024, 1, 1), 10), (d(2024, 1, 3), 30)])
    >>> p.first, p.last, p.rows
    (datetime.datetime(2024, 1, 1, 0, 0), datetime.datetime(2024, 1, 3, 0, 0), 40.0)
    >>> p.between(d(2024, 1, 2), None), p.between(None, d(2024, 1, 3))
    (30.0, 10.0)
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class ColumnProfile:
    """The values of one date column in a source, as far as the source tells cheaply.

    Attributes:
        first: the smallest value (None when unknown or the column holds no value).
        last: the largest value, likewise.
        rows: how many rows have a value (an estimate; None when unknown).
        points: ``(value, rows)`` pairs, ascending: rows at exactly that value.
        spans: ``(start, end, rows)`` triples, ascending and not overlapping: rows spread evenly over ``[start, end)``.
        how: where the figures come from, for EXPLAIN (``a count per day``, ``planner statistics``).
    """

    first: dt.datetime | None
    last: dt.datetime | None
    rows: float | None
    points: tuple[tuple[dt.datetime, float], ...] = ()
    spans: tuple[tuple[dt.datetime, dt.datetime, float], ...] = ()
    how: str = ""

    @property
    def empty(self) -> bool:
        """The column holds no value (as far as the source knows)."""
        return self.first is None or self.last is None or self.rows == 0

    def between(self, low: dt.datetime | None, high: dt.datetime | None) -> float | None:
        """Estimated rows whose value is ``>= low`` and ``< high`` (None: no bound there); None when rows are unknown.

        >>> p = ColumnProfile.uniform(dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 11), 100)
        >>> p.between(dt.datetime(2024, 1, 2), dt.datetime(2024, 1, 4))
        20.0
        """
        if self.rows is None:
            return None
        below_high = self._below(high) if high is not None else self._total
        below_low = self._below(low) if low is not None else 0.0
        return max(0.0, below_high - below_low)

    def with_span(self, first: dt.datetime | None, last: dt.datetime | None, how: str) -> ColumnProfile:
        """The same spread with the exact first and last value (read from an index), ``how`` added to the source.

        >>> ColumnProfile(dt.datetime(2024, 1, 2), dt.datetime(2024, 1, 5), 3.0).with_span(None, dt.datetime(2024, 2, 1), "MIN/MAX").last
        datetime.datetime(2024, 2, 1, 0, 0)
        """
        return ColumnProfile(
            first or self.first, last or self.last, self.rows, self.points, self.spans, f"{self.how}, {how}" if self.how else how
        )

    @classmethod
    def uniform(cls, first: dt.datetime | None, last: dt.datetime | None, rows: float | None, how: str = "") -> ColumnProfile:
        """Rows spread evenly from ``first`` to ``last`` (a single value: all of them there)."""
        return cls(first, last, None if rows is None else float(rows), how=how)

    @classmethod
    def from_day_counts(cls, days: Sequence[tuple[dt.datetime, int]], how: str = "a count per day") -> ColumnProfile:
        """From ``(day, rows)`` pairs: each day's rows counted at its midnight."""
        ordered = sorted((day, float(n)) for day, n in days if n)
        if not ordered:
            return cls(None, None, 0.0, how=how)
        return cls(ordered[0][0], ordered[-1][0], sum(n for _, n in ordered), tuple(ordered), how=how)

    @classmethod
    def from_planner_statistics(
        cls,
        rows: float,
        null_fraction: float,
        bounds: Sequence[dt.datetime],
        common: Sequence[tuple[dt.datetime, float]],
        how: str = "planner statistics",
    ) -> ColumnProfile:
        """From a table's row estimate and a column's statistics as PostgreSQL keeps them.

        ``common`` are the most common values with the fraction of all rows each holds;
        ``bounds`` split the other rows into buckets of equal size (an equi-depth histogram).

        >>> d = dt.datetime
        >>> p = ColumnProfile.from_planner_statistics(1000, 0.1, [d(2024, 1, 1), d(2024, 2, 1), d(2024, 12, 1)], [(d(2024, 6, 1), 0.5)])
        >>> p.rows, p.between(None, d(2024, 2, 1)), round(p.between(d(2024, 6, 1), d(2024, 6, 2))), p.last == d(2024, 12, 1)
        (900.0, 200.0, 501, True)
        """
        total = max(0.0, float(rows))
        points = tuple(sorted((value, total * fraction) for value, fraction in common))
        in_points = sum(n for _, n in points)
        rest = max(0.0, total * (1.0 - null_fraction) - in_points)
        ordered = sorted(bounds)
        spans: tuple[tuple[dt.datetime, dt.datetime, float], ...] = ()
        if len(ordered) >= 2:
            each = rest / (len(ordered) - 1)
            spans = tuple((a, b, each) for a, b in itertools.pairwise(ordered))
        elif ordered:
            points = tuple(sorted((*points, (ordered[0], rest))))
        values = [v for v, _ in points] + ordered
        first, last = (min(values), max(values)) if values else (None, None)
        return cls(first, last, sum(n for _, n in points) + sum(n for *_, n in spans), points, spans, how)

    # -- the cumulative count -----------------------------------------------------------------
    @cached_property
    def _model(self) -> tuple[list[dt.datetime], list[float], list[dt.datetime], list[dt.datetime], list[float], list[float]]:
        points, spans = self.points, self.spans
        if not points and not spans and self.rows and self.first is not None and self.last is not None:
            if self.first < self.last:
                spans = ((self.first, self.last, self.rows),)
            else:
                points = ((self.first, self.rows),)
        point_values = [v for v, _ in points]
        point_sums = _running([n for _, n in points])
        starts = [s for s, _, _ in spans]
        ends = [e for _, e, _ in spans]
        span_rows = [n for _, _, n in spans]
        return point_values, point_sums, starts, ends, span_rows, _running(span_rows)

    @cached_property
    def _total(self) -> float:
        _, point_sums, _, _, _, span_sums = self._model
        return point_sums[-1] + span_sums[-1]

    def _below(self, value: dt.datetime) -> float:
        """Estimated rows whose value is ``< value``."""
        point_values, point_sums, starts, ends, span_rows, span_sums = self._model
        total = point_sums[bisect.bisect_left(point_values, value)]
        whole = bisect.bisect_right(ends, value)  # spans ending at or before value
        total += span_sums[whole]
        if whole < len(starts) and starts[whole] < value:
            start, end = starts[whole], ends[whole]
            total += span_rows[whole] * ((value - start) / (end - start))
        return total


def _running(values: list[float]) -> list[float]:
    """Prefix sums with a leading 0.

    >>> _running([1.0, 2.0])
    [0.0, 1.0, 3.0]
    """
    sums = [0.0]
    for value in values:
        sums.append(sums[-1] + value)
    return sums


def array_items(text: str | None) -> list[str]:
    """The items of a one-dimensional array as PostgreSQL writes it as text (quoted items unquoted).

    >>> array_items('{2024-01-01,"2024-01-02 10:00:00",NULL}')
    ['2024-01-01', '2024-01-02 10:00:00']
    >>> array_items(None), array_items("{}")
    ([], [])
    """
    if not text or not text.startswith("{") or not text.endswith("}"):
        return []
    items: list[tuple[str, bool]] = []
    current: list[str] = []
    quoted = escaped = was_quoted = False
    for char in text[1:-1] + ",":
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted, was_quoted = not quoted, True
        elif char == "," and not quoted:
            items.append(("".join(current), was_quoted))
            current, was_quoted = [], False
        else:
            current.append(char)
    return [item for item, was in items if was or item not in ("", "NULL")]


def time_of(value: object) -> dt.datetime | None:
    """A value a source returned for a date column as a naive datetime; None where Python cannot hold it.

    >>> time_of("2024-02-29 13:05:00"), time_of(dt.date(2024, 2, 29)), time_of("0044-03-15 BC"), time_of("infinity")
    (datetime.datetime(2024, 2, 29, 13, 5), datetime.datetime(2024, 2, 29, 0, 0), None, None)
    """
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip()).replace(tzinfo=None)
        except ValueError:
            return None
    return None
