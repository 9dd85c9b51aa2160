"""Split one scan: choose its date column, lift the column's range from WHERE and cut it into periods.

A range bounded on both sides is cut at calendar boundaries. Where the planner has statistics
(see :mod:`piot.plan.statistics`) it also:

- closes a one-sided bound (``d >= '2024-06-01'``) with the column's largest (or smallest)
  value: periods are cut up to it and the last one is left open (``[2024-09-01, infinity)``),
  so a row written after the statistics were taken, or one they missed, is still read;
- sizes ``auto`` periods by the rows the source says each holds (:mod:`piot.plan.sizing`);
- cuts a far range (more than ``max_periods`` periods) only where the rows are.

In every case the first and last fragments keep the query's own bounds (or stay open), and
every fragment keeps the query's WHERE, so statistics decide only where periods are cut. A scan
is never cut into more than ``max_periods`` periods: past it the unit is coarsened (daily,
monthly, yearly, then several years per period). EXPLAIN says which of these happened and why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlglot import exp

from piot.connectors.introspect import TableInfo
from piot.connectors.profile import ColumnProfile
from piot.connectors.types import ColumnType
from piot.errors import ProgrammingError
from piot.plan.bounds import Range, column_range
from piot.plan.fragments import SplitDecision
from piot.plan.periods import (
    MAX_PERIODS,
    UNITS,
    Edge,
    Period,
    Unit,
    choose_unit,
    count_periods,
    cut_at,
    fit_unit,
    split_range,
    split_within,
)
from piot.plan.sizing import TARGET_ROWS, size_by_rows
from piot.plan.statistics import Statistics, data_within
from piot.plan.tables import find_frame_column, frame_columns
from piot.sql.zones import zone_for


@dataclass(frozen=True)
class SplitOptions:
    """Connection-level split settings.

    Attributes:
        time_unit: default unit for tables without one in the catalog (None means auto).
        split: False reads every table whole.
        max_periods: the most fragments one scan is cut into.
        timezone: the zone whose calendar cuts TIMESTAMPTZ columns.
        fragment_rows: the rows ``auto`` aims at per fragment, where the source estimates rows.
        min_fragments: ``auto`` makes at least this many fragments where the rows allow.
    """

    time_unit: str | None = None
    split: bool = True
    max_periods: int = MAX_PERIODS
    timezone: str = "UTC"
    fragment_rows: int = TARGET_ROWS
    min_fragments: int = 1


@dataclass(frozen=True)
class _Column:
    """The split column of one scan and what is known of it."""

    table: TableInfo
    name: str
    aware: bool
    found: Range


def split_scan(
    table: TableInfo,
    types: dict[str, ColumnType],
    own_conjuncts: list[exp.Expression],
    alias: str,
    options: SplitOptions,
    statistics: Statistics | None = None,
) -> tuple[SplitDecision, list[Period | None]]:
    """Choose the split column and cut its range into periods, or explain why not."""
    settings = table.settings
    configured = (find_frame_column(table, settings.date_column) or settings.date_column) if settings.date_column else None
    if configured is not None and (configured not in types or not types[configured].is_temporal):
        raise ProgrammingError(
            f"catalog: date_column {settings.date_column!r} of {table.qualified_name} is not a DATE or TIMESTAMP column of that table"
        )
    if not options.split:
        return SplitDecision(None, None, "splitting is turned off for this connection"), [None]
    condition = exp.and_(*own_conjuncts) if own_conjuncts else None
    zone = zone_for(options.timezone)
    candidates = [configured] if configured else [name for name, t in types.items() if t.is_temporal]
    ranges: dict[str, Range] = {}
    for name in candidates:
        if condition is not None:
            kind = types[name].sql
            found = column_range(condition, name, is_date=kind == "DATE", table=alias, zoned=kind == "TIMESTAMPTZ", zone=zone)
            if found.lower is not None or found.upper is not None:
                ranges[name] = found
    chosen = {name: r for name, r in ranges.items() if r.two_sided} or (ranges if statistics is not None else {})
    what = f"{configured}" if configured else "any DATE or TIMESTAMP column"
    if not chosen:
        return SplitDecision(
            None, None, f"not split: WHERE has no {'' if statistics is not None else 'two-sided '}bound on {what}"
        ), [None]
    if len(chosen) > 1:
        both = ", ".join(chosen)
        return SplitDecision(
            None, None, f"not split: several date columns are bounded ({both}); set date_column in the catalog"
        ), [None]
    name, found = next(iter(chosen.items()))
    unit = settings.time_unit or options.time_unit or "auto"
    if unit != "auto" and unit not in UNITS:
        raise ProgrammingError(f"time_unit must be daily, monthly, yearly or auto, not {unit!r}")
    column = _Column(table, name, types[name].sql == "TIMESTAMPTZ", found)
    if found.two_sided:
        return _two_sided(column, unit, options, statistics)
    return _one_sided(column, unit, options, statistics)


def _two_sided(
    column: _Column, unit: str, options: SplitOptions, statistics: Statistics | None
) -> tuple[SplitDecision, list[Period | None]]:
    lower, upper = column.found.lower, column.found.upper
    assert lower is not None and upper is not None
    zone = zone_for(options.timezone)
    auto = unit == "auto"
    if not column.found.empty and auto and statistics is not None and not column.aware:
        profile = _profile(column, statistics)
        if profile is not None and profile.rows is not None:
            return _by_rows(column, profile, options)
    chosen: Unit = choose_unit(lower.value, upper.value) if auto else unit  # type: ignore[assignment]
    reason = f"split {chosen} on {column.name}" + (" (auto)" if auto else "")
    limit = max(1, options.max_periods)
    if column.found.empty or count_periods(lower.value, upper.value, chosen) <= limit:
        return SplitDecision(column.name, chosen, reason), list(split_range(lower, upper, chosen, zone))
    # a far bound: cut only where the rows are, and never into more than `limit` periods
    measured, note = _data_span(column, statistics)
    span = measured if measured is not None else (lower.value, upper.value)
    if auto:
        chosen = choose_unit(*span)
    fitted, every = fit_unit(*span, chosen, limit)
    if fitted != chosen or every > 1:
        note += f"; {chosen} would make more than {limit} fragments, so {fitted}" + (f" every {every} years" if every > 1 else "")
    reason = f"split {fitted} on {column.name}" + (" (auto)" if auto else "") + f"; {note}"
    if note.startswith(_NO_ROWS):
        periods = split_within(lower, upper, fitted, None)
    elif measured is not None:
        periods = split_within(lower, upper, fitted, measured, every)
    else:
        periods = split_range(lower, upper, fitted, zone, every)
    return SplitDecision(column.name, fitted, reason), list(periods)


def _one_sided(
    column: _Column, unit: str, options: SplitOptions, statistics: Statistics | None
) -> tuple[SplitDecision, list[Period | None]]:
    """A range open on one side: closed with the column's largest (smallest) value, the last (first) period left open."""
    lower, upper = column.found.lower, column.found.upper
    side = "lower" if upper is None else "upper"
    if column.aware:
        return SplitDecision(
            None,
            None,
            f"not split: only a {side} bound on {column.name}, and statistics are not asked for TIMESTAMP WITH TIME ZONE columns",
        ), [None]
    profile = _profile(column, statistics) if statistics is not None else None
    if profile is None:
        return SplitDecision(
            None, None, f"not split: only a {side} bound on {column.name}, and the source gave no statistics to close it"
        ), [None]
    if unit == "auto" and profile.rows is not None:
        return _by_rows(column, profile, options)
    data = data_within(profile, lower, upper)
    if data is None:
        note = f"no row beyond the bound ({profile.how}): one fragment, open-ended"
        return SplitDecision(column.name, None, f"not cut on {column.name}; {note}"), [Period(lower, upper)]
    chosen: Unit = choose_unit(*data) if unit == "auto" else unit  # type: ignore[assignment]
    fitted, every = fit_unit(*data, chosen, max(1, options.max_periods))
    note = _closed_note(lower, upper, data, profile)
    if fitted != chosen or every > 1:
        note += f"; {chosen} would make more than {options.max_periods} fragments, so {fitted}" + (
            f" every {every} years" if every > 1 else ""
        )
    reason = f"split {fitted} on {column.name}" + (" (auto)" if unit == "auto" else "") + f"; {note}"
    return SplitDecision(column.name, fitted, reason), list(split_within(lower, upper, fitted, data, every))


def _by_rows(column: _Column, profile: ColumnProfile, options: SplitOptions) -> tuple[SplitDecision, list[Period | None]]:
    """``auto`` with a row estimate: periods sized by rows (:mod:`piot.plan.sizing`)."""
    lower, upper = column.found.lower, column.found.upper
    data = data_within(profile, lower, upper)
    if data is None:
        note = f"no row in the range ({profile.how}): one fragment"
        return SplitDecision(column.name, None, f"not cut on {column.name} (auto); {note}"), [Period(lower, upper)]
    low, high = (None if lower is None else lower.value), (None if upper is None else upper.value)

    def rows(a: dt.datetime | None, b: dt.datetime | None) -> float:
        start = low if a is None else a if low is None else max(a, low)
        end = high if b is None else b if high is None else min(b, high)
        if start is not None and end is not None and start >= end:
            return 0.0
        return profile.between(start, end) or 0.0

    sized = size_by_rows(
        *data, rows, fragment_rows=options.fragment_rows, min_fragments=options.min_fragments, max_fragments=options.max_periods
    )
    periods = cut_at(lower, upper, list(sized.boundaries))
    if len(periods) == 1:
        seen = f"about {_count(sized.rows)} rows ({profile.how}), within {_count(sized.per_fragment)} a fragment"
        return SplitDecision(column.name, None, f"not cut on {column.name} (auto by rows: {seen})"), list(periods)
    how = [f"about {_count(sized.rows)} rows ({profile.how}), {_count(sized.per_fragment)} a fragment"]
    if sized.finer:
        how.append("busy periods cut finer")
    if sized.joined:
        how.append("quiet ones joined")
    reason = f"split {sized.unit} on {column.name} (auto by rows: {', '.join(how)})"
    if lower is None or upper is None:
        reason += "; " + _closed_note(lower, upper, data, profile)
    return SplitDecision(column.name, sized.unit, reason), list(periods)


def _profile(column: _Column, statistics: Statistics | None) -> ColumnProfile | None:
    if statistics is None:
        return None
    return statistics.profile(column.table, frame_columns(column.table)[column.name].name)


_NO_ROWS = "no row in the range"


def _data_span(column: _Column, statistics: Statistics | None) -> tuple[tuple[dt.datetime, dt.datetime] | None, str]:
    """The first and last value the source holds in the range (None when unknown, or no row), and the EXPLAIN note saying so."""
    if statistics is None:
        return None, "the range is far and no statistics were asked"
    if column.aware:
        return None, "the range is far (statistics are not asked for TIMESTAMP WITH TIME ZONE columns)"
    profile = _profile(column, statistics)
    if profile is None:
        return None, "the range is far and the source gave no statistics"
    data = data_within(profile, column.found.lower, column.found.upper)
    if data is None:
        return None, f"{_NO_ROWS} ({profile.how}): one fragment"
    note = f"rows from {_shown(data[0])} to {_shown(data[1])} ({profile.how}): cut there only, the outer fragments keep the query's bounds"
    return data, note


def _closed_note(lower: Edge | None, upper: Edge | None, data: tuple[dt.datetime, dt.datetime], profile: ColumnProfile) -> str:
    """What closed a one-sided bound, for EXPLAIN.

    >>> _closed_note(Edge(dt.datetime(2024, 6, 1), True), None, (dt.datetime(2024, 6, 1), dt.datetime(2024, 9, 30)), ColumnProfile.uniform(None, None, None, "a count per day"))
    'cut up to 2024-09-30, the largest value (a count per day); the last fragment is open-ended'
    """
    if upper is None and lower is not None:
        return f"cut up to {_shown(data[1])}, the largest value ({profile.how}); the last fragment is open-ended"
    if lower is None and upper is not None:
        return f"cut from {_shown(data[0])}, the smallest value ({profile.how}); the first fragment is open-ended"
    return f"rows from {_shown(data[0])} to {_shown(data[1])} ({profile.how}); the outer fragments keep the query's bounds"


def _count(rows: float) -> str:
    """A row estimate as EXPLAIN shows it.

    >>> _count(1234.6), _count(2_500_000)
    ('1,235', '2,500,000')
    """
    return f"{round(rows):,}"


def _shown(value: dt.datetime) -> str:
    """A bound as EXPLAIN's note shows it: a date at midnight, else date and time.

    >>> _shown(dt.datetime(2024, 2, 29)), _shown(dt.datetime(2024, 2, 29, 13, 5))
    ('2024-02-29', '2024-02-29 13:05:00')
    """
    return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
