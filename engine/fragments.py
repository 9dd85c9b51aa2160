"""Fragments: one SQL text per (table scan, period), written in the source's dialect.

Each fragment selects only the columns the query needs, keeps every pushed conjunct
of the query's WHERE and adds its own window on the split column.

Example:
    >>> from piot.periods import Period, Edge
    >>> from datetime import datetime as d
    >>> w = window_condition(exp.column("trade_date"), Period(Edge(d(2024, 1, 1), True), Edge(d(2024, 2, 1), False)), is_date=True)
    >>> w.sql("postgres")
    "trade_date >= CAST('2024-01-01' AS DATE) AND trade_date < CAST('2024-02-01' AS DATE)"
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from sqlglot import exp

from piot.connectors.catalog import Source
from piot.periods import Period
from piot.pushdown import day_bound
from piot.timefold import TimeValue, time_literal


@dataclass(frozen=True)
class Fragment:
    """One read: the SQL sent to one source for one period (or for the whole table).

    Attributes:
        scan_name: the scan the rows belong to.
        source: the catalog source (its URL is never shown; see ``Source.display_url``).
        sql: the exact SQL text sent, in the source's dialect.
        period: the window on the split column, None for an unsplit scan.
        exact_filter: a Polars SQL condition applied to the rows read, where the source
            compares loosely (dates as text); None when the source's own filter is exact.
    """

    scan_name: str
    source: Source
    sql: str
    period: Period | None
    exact_filter: str | None = None

    @property
    def label(self) -> str:
        """The period as text for messages, or ``whole table``."""
        return str(self.period) if self.period is not None else "whole table"


@dataclass(frozen=True)
class SplitDecision:
    """How a scan is split, and why (shown by EXPLAIN)."""

    column: str | None
    unit: str | None
    reason: str


@dataclass(frozen=True)
class Scan:
    """Everything read from one table reference.

    Attributes:
        name: the name the merge knows the rows by (``__piot_t0``).
        alias: the query's name for the table.
        table_name: ``source.schema.table`` for messages.
        schema: column name -> Polars type of the rows, in select order.
        fragments: the reads, in period order.
        split: the split decision.
    """

    name: str
    alias: str
    table_name: str
    schema: tuple[tuple[str, pl.DataType], ...]
    fragments: tuple[Fragment, ...]
    split: SplitDecision


def window_condition(column: exp.Column, period: Period, *, is_date: bool, text_dates: bool = False) -> exp.Expression:
    """``column >= start AND column < end``, each edge with the period's own inclusivity.

    With ``text_dates`` (SQLite) the window is written as whole-day text comparisons
    that admit every row of the typed window; rows are then filtered exactly in Polars.
    """
    if text_dates:
        lower = day_bound(column, period.start.value, lower=True)
        upper = day_bound(column, period.end.value, lower=False, inclusive=period.end.inclusive)
        return exp.and_(lower, upper)
    start = time_literal(TimeValue(period.start.value, is_date=is_date))
    end = time_literal(TimeValue(period.end.value, is_date=is_date))
    lower_op = exp.GTE if period.start.inclusive else exp.GT
    upper_op = exp.LTE if period.end.inclusive else exp.LT
    return exp.and_(lower_op(this=column.copy(), expression=start), upper_op(this=column.copy(), expression=end))


def fragment_sql(
    table: exp.Table, columns: list[exp.Expression], conditions: list[exp.Expression], dialect: str
) -> str:
    """``SELECT columns FROM table WHERE conditions`` in ``dialect``.

    >>> fragment_sql(exp.table_("trades", db="public"), [exp.column("price", quoted=True)], [exp.condition("price > 1")], "mysql")
    'SELECT `price` FROM public.trades WHERE price > 1'
    """
    select = exp.select(*columns).from_(table)
    if conditions:
        select = select.where(exp.and_(*conditions))
    if dialect == "mysql":  # a plain DATETIME cast drops the microseconds of the bound
        for cast in select.find_all(exp.Cast):
            if cast.to.is_type(exp.DataType.Type.TIMESTAMP):
                cast.set("to", exp.DataType.build("DATETIME(6)", dialect="mysql"))
    return select.sql(dialect=dialect)
