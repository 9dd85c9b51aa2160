"""``auto`` by rows: a scan's periods sized from the rows the source says each holds.

When the source gives a row estimate for the split column (see :mod:`piot.plan.statistics`),
``auto`` cuts the data's stretch of the query's range by this rule:

1. Each fragment should hold about ``fragment_rows`` rows (:data:`TARGET_ROWS` unless the
   connection says otherwise), fewer where ``min_fragments`` asks for more fragments than that.
2. The unit is the coarsest calendar unit (yearly, monthly, daily) whose periods hold on
   average no more than that.
3. A period estimated to hold more is cut at the next finer unit (a month into its days),
   down to days; a day is never cut.
4. Neighbouring periods are joined while together they stay within the target, so a
   stretch without rows rides along with its neighbour instead of being a task of its own.
5. If that still makes more than ``max_fragments`` periods, the target is raised until they fit.

Boundaries always fall on calendar boundaries; the caller keeps the query's own bounds (or
an open side) on the first and last period.

Example: one busy month among quiet ones, 100 rows a fragment:

    >>> from datetime import datetime as d
    >>> def rows(a, b):  # 10 rows a month in 2024, and 600 more spread over March
    ...     a, b = a or d(2024, 1, 1), b or d(2025, 1, 1)
    ...     months = sum(10 for m in range(1, 13) if a <= d(2024, m, 1) < b)
    ...     march = max(0, (min(b, d(2024, 4, 1)) - max(a, d(2024, 3, 1))).days) * 600 / 31
    ...     return months + march
    >>> sized = size_by_rows(d(2024, 1, 1), d(2024, 12, 31), rows, fragment_rows=100)
    >>> sized.unit, len(sized.boundaries), sized.finer, sized.joined
    ('monthly', 7, True, True)
    >>> [b.strftime("%b %d") for b in sized.boundaries]
    ['Mar 04', 'Mar 09', 'Mar 14', 'Mar 19', 'Mar 24', 'Mar 29', 'Aug 01']

    January, February and March's first days are one fragment, March is cut every five days,
    and its last days ride along with April to July, then August to December.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from piot.plan.periods import MAX_PERIODS, UNITS, Unit, count_periods, next_boundary

#: rows a fragment of ``auto`` aims at (about 64 MB for rows of a few numbers, a date and short text).
TARGET_ROWS = 1_000_000
#: the most calendar periods the rule looks at for one scan, however far its range.
MAX_CELLS = 20_000

#: ``(low, high) -> rows`` estimated with ``low <= value < high`` (None: no bound), inside the query's range.
RowsBetween = Callable[["dt.datetime | None", "dt.datetime | None"], float]


@dataclass(frozen=True)
class RowSizing:
    """Where ``auto`` cuts, and what it saw.

    Attributes:
        unit: the unit chosen for the stretch as a whole.
        boundaries: the cuts, ascending (the periods are ``[cut, next cut)``).
        rows: the rows estimated in the range.
        per_fragment: the rows a fragment was sized for (after the caps).
        finer: some period was cut at a finer unit, its rows being too many.
        joined: some neighbouring periods were joined into one fragment.
    """

    unit: Unit
    boundaries: tuple[dt.datetime, ...]
    rows: float
    per_fragment: float
    finer: bool
    joined: bool


_Cell = tuple["dt.datetime | None", "dt.datetime | None", Unit]


def size_by_rows(
    first: dt.datetime,
    last: dt.datetime,
    rows: RowsBetween,
    *,
    fragment_rows: int = TARGET_ROWS,
    min_fragments: int = 1,
    max_fragments: int = MAX_PERIODS,
) -> RowSizing:
    """Cut ``first..last`` (the data's stretch of the range) into periods of about ``fragment_rows`` rows (see the module's rule)."""
    total = rows(None, None)
    goal = max(1.0, min(float(fragment_rows), total / max(1, min_fragments)))
    unit = _unit(first, last, total, goal)
    cells = _cells(None, None, unit, first, last)
    budget = [MAX_CELLS - len(cells)]
    sized: list[tuple[dt.datetime | None, float]] = []
    for cell in cells:
        sized += _refined(cell, goal, rows, first, last, budget)
    groups = _joined(sized, goal)
    while len(groups) > max(1, max_fragments):
        goal *= max(1.25, len(groups) / max(1, max_fragments))
        groups = _joined(sized, goal)
    boundaries = tuple(start for start in groups[1:] if start is not None)
    return RowSizing(unit, boundaries, total, goal, len(sized) > len(cells), len(groups) < len(sized))


def _unit(first: dt.datetime, last: dt.datetime, total: float, goal: float) -> Unit:
    """The coarsest unit whose periods hold ``goal`` rows or fewer on average (the finest the cell budget allows, else).

    >>> _unit(dt.datetime(2024, 1, 1), dt.datetime(2024, 12, 31), 1200, 100)
    'monthly'
    """
    chosen: Unit = "yearly"
    for unit in reversed(UNITS):
        count = count_periods(first, last, unit)
        if count > MAX_CELLS:
            break
        chosen = unit
        if total / count <= goal:
            break
    return chosen


def _cells(start: dt.datetime | None, end: dt.datetime | None, unit: Unit, first: dt.datetime, last: dt.datetime) -> list[_Cell]:
    """``start..end`` (None: the data's own first or last value, and beyond) cut at every boundary of ``unit`` inside it.

    >>> [(a and a.day, b and b.day) for a, b, _ in _cells(None, None, "daily", dt.datetime(2024, 1, 1, 12), dt.datetime(2024, 1, 3))]
    [(None, 2), (2, 3), (3, None)]
    """
    cuts: list[dt.datetime] = []
    boundary = next_boundary(start if start is not None else first, unit)
    while boundary is not None and (boundary < end if end is not None else boundary <= last) and len(cuts) <= MAX_CELLS:
        cuts.append(boundary)
        boundary = next_boundary(boundary, unit)
    starts: list[dt.datetime | None] = [start, *cuts]
    ends: list[dt.datetime | None] = [*cuts, end]
    return [(a, b, unit) for a, b in zip(starts, ends)]


def _refined(
    cell: _Cell, goal: float, rows: RowsBetween, first: dt.datetime, last: dt.datetime, budget: list[int]
) -> list[tuple[dt.datetime | None, float]]:
    """The cell with its rows, or, holding more than ``goal``, its periods at the next finer unit (recursively)."""
    start, end, unit = cell
    count = rows(start, end)
    if count <= goal or unit == "daily" or budget[0] <= 0:
        return [(start, count)]
    finer = _cells(start, end, UNITS[UNITS.index(unit) - 1], first, last)
    if len(finer) < 2:
        return [(start, count)]
    budget[0] -= len(finer) - 1
    return [piece for sub in finer for piece in _refined(sub, goal, rows, first, last, budget)]


def _joined(cells: list[tuple[dt.datetime | None, float]], goal: float) -> list[dt.datetime | None]:
    """The starts of the fragments when neighbouring cells are joined while they stay within ``goal`` rows.

    A fragment is closed only once it holds rows, so cells without rows join the next ones.

    >>> _joined([(None, 0.0), (1, 5.0), (2, 0.0), (3, 4.0), (4, 9.0)], 10)
    [None, 4]
    """
    starts: list[dt.datetime | None] = []
    held = 0.0
    for index, (start, count) in enumerate(cells):
        if index == 0 or (held > 0 and held + count > goal):
            starts.append(start)
            held = 0.0
        held += count
    return starts
