"""Split one scan: choose its date column, lift the column's range from WHERE and cut it into periods.

A scan is cut into at most ``max_periods`` periods (:data:`piot.plan.periods.MAX_PERIODS`). When its
range would need more, the source is asked where its rows are (MIN and MAX of the column within
the range, see :mod:`piot.plan.statistics`) and only that stretch is cut; the first and last fragments
keep the query's own bounds, so no row is lost if the data moved meanwhile. If the rows still
span too much, the unit is coarsened (daily, monthly, yearly, then several years per period).
EXPLAIN says which of these happened and why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlglot import exp

from piot.connectors.introspect import TableInfo
from piot.connectors.types import ColumnType
from piot.errors import ProgrammingError
from piot.plan.bounds import Range, column_range
from piot.plan.fragments import SplitDecision
from piot.plan.periods import MAX_PERIODS, UNITS, Period, Unit, choose_unit, count_periods, fit_unit, split_range, split_within
from piot.plan.statistics import Statistics, read_span, span_sql
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
    """

    time_unit: str | None = None
    split: bool = True
    max_periods: int = MAX_PERIODS
    timezone: str = "UTC"


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
            if found.two_sided:
                ranges[name] = found
    if not ranges:
        what = f"{configured}" if configured else "any DATE or TIMESTAMP column"
        return SplitDecision(None, None, f"not split: WHERE has no two-sided bound on {what}"), [None]
    if len(ranges) > 1:
        both = ", ".join(ranges)
        return SplitDecision(None, None, f"not split: several date columns are bounded ({both}); set date_column in the catalog"), [None]
    column, found = next(iter(ranges.items()))
    assert found.lower is not None and found.upper is not None
    unit = settings.time_unit or options.time_unit or "auto"
    if unit != "auto" and unit not in UNITS:
        raise ProgrammingError(f"time_unit must be daily, monthly, yearly or auto, not {unit!r}")
    lower, upper = found.lower, found.upper
    chosen: Unit = choose_unit(lower.value, upper.value) if unit == "auto" else unit  # type: ignore[assignment]
    reason = f"split {chosen} on {column}" + (" (auto)" if unit == "auto" else "")
    limit = max(1, options.max_periods)
    if found.empty or count_periods(lower.value, upper.value, chosen) <= limit:
        return SplitDecision(column, chosen, reason), list(split_range(lower, upper, chosen, zone))
    # a far bound: cut only where the rows are, and never into more than `limit` periods
    measured, note = _data_span(table, column, Period(lower, upper), types[column].sql == "DATE", statistics)
    span = measured if measured is not None else (lower.value, upper.value)
    if unit == "auto":
        chosen = choose_unit(*span)
    fitted, every = fit_unit(*span, chosen, limit)
    if fitted != chosen or every > 1:
        note += f"; {chosen} would make more than {limit} fragments, so {fitted}" + (f" every {every} years" if every > 1 else "")
    reason = f"split {fitted} on {column}" + (" (auto)" if unit == "auto" else "") + f"; {note}"
    if note == _NO_ROWS:
        periods = split_within(lower, upper, fitted, None)
    elif measured is not None:
        periods = split_within(lower, upper, fitted, measured, every)
    else:
        periods = split_range(lower, upper, fitted, zone, every)
    return SplitDecision(column, fitted, reason), list(periods)


_NO_ROWS = "no row in the range (MIN/MAX of the source): one fragment"


def _data_span(
    table: TableInfo, column: str, window: Period, is_date: bool, statistics: Statistics | None
) -> tuple[tuple[dt.datetime, dt.datetime] | None, str]:
    """The first and last value the source holds in ``window`` (None when unknown, or no row), and the EXPLAIN note saying so."""
    if statistics is None:
        return None, "the range is far and no statistics were asked"
    if window.start.value.tzinfo is not None:
        return None, "the range is far (statistics are not asked for TIMESTAMP WITH TIME ZONE columns)"
    real = frame_columns(table)[column].name
    source_table = exp.table_(table.name, db=table.schema or table.source.kind.default_schema, quoted=True)
    kind = table.source.kind
    sql = span_sql(source_table, real, window, is_date=is_date, dialect=kind.dialect, text_dates=kind.text_dates)
    span = read_span(statistics(table.source, sql))
    if span is None:
        return None, "the range is far and the source gave no statistics"
    if not span.rows:
        return None, _NO_ROWS
    first = span.first or window.start.value
    last = span.last or window.end.value
    note = f"rows from {_shown(first)} to {_shown(last)} (MIN/MAX of the source): cut there only, the outer fragments keep the query's bounds"
    return (first, last), note


def _shown(value: dt.datetime) -> str:
    """A bound as EXPLAIN's note shows it: a date at midnight, else date and time.

    >>> _shown(dt.datetime(2024, 2, 29)), _shown(dt.datetime(2024, 2, 29, 13, 5))
    ('2024-02-29', '2024-02-29 13:05:00')
    """
    return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
