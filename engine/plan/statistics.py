"""Where a scan's rows really are: the first and last value of its date column within the query's bounds.

A far bound (``d > DATE '0001-01-01'``) would cut thousands of empty periods. When a
scan's range needs more than :data:`piot.plan.periods.MAX_PERIODS` periods, the planner asks
the source, through a :data:`Statistics` callable its caller provides (planning itself
touches no database), for ``MIN`` and ``MAX`` of the column inside the range, and cuts
only between them (:func:`piot.plan.periods.split_within`). The statement is built from
sqlglot ASTs, read-only, in the source's dialect.

Example:
    >>> from datetime import datetime as d
    >>> from piot.plan.periods import Edge, Period
    >>> span_sql(exp.table_("t", quoted=True), "d", Period(Edge(d(1, 1, 1), False), Edge(d(2024, 2, 29), False)),
    ...          is_date=True, dialect="postgres", text_dates=False)
    'SELECT CAST(MIN("d") AS TEXT) AS "first", CAST(MAX("d") AS TEXT) AS "last" FROM "t" WHERE "d" > CAST(\\'0001-01-01\\' AS DATE) AND "d" < CAST(\\'2024-02-29\\' AS DATE)'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from piot.connectors.catalog import Source
from piot.plan.fragments import fragment_sql, window_condition
from piot.plan.periods import Period
from piot.sql.timefold import parse_time_text

#: ``(source, sql) -> (first, last)`` as text, the first row of a statistics query; None when the
#: source could not answer (the plan then does without).
Statistics = Callable[[Source, str], "tuple[object, object] | None"]


@dataclass(frozen=True)
class ColumnSpan:
    """The values a source holds of a column within a range.

    Attributes:
        rows: whether any row has a value there.
        first: the smallest value, None where it is not readable (``infinity``, a year past 9999).
        last: the largest value, None likewise.
    """

    rows: bool
    first: dt.datetime | None
    last: dt.datetime | None


def span_sql(table: exp.Table, column: str, window: Period, *, is_date: bool, dialect: str, text_dates: bool) -> str:
    """``SELECT MIN(column), MAX(column) FROM table WHERE <window>`` as text, in ``dialect``."""
    ref = exp.column(column, quoted=True)
    text = exp.DataType.build("TEXT")
    items: list[exp.Expression] = [
        exp.alias_(exp.cast(exp.func("MIN", ref.copy()), text), "first", quoted=True),
        exp.alias_(exp.cast(exp.func("MAX", ref.copy()), text), "last", quoted=True),
    ]
    condition = window_condition(ref, window, is_date=is_date, text_dates=text_dates)
    return fragment_sql(table, items, [condition], dialect)


def read_span(values: tuple[object, object] | None) -> ColumnSpan | None:
    """The :class:`ColumnSpan` of a statistics row, None when there is none.

    >>> read_span(("2024-01-05", "294276-12-31"))
    ColumnSpan(rows=True, first=datetime.datetime(2024, 1, 5, 0, 0), last=None)
    >>> read_span((None, None))
    ColumnSpan(rows=False, first=None, last=None)
    """
    if values is None:
        return None
    first, last = values
    if first is None and last is None:
        return ColumnSpan(False, None, None)
    return ColumnSpan(True, _instant(first), _instant(last))


def _instant(value: object) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    return parse_time_text(value) if isinstance(value, str) else None
