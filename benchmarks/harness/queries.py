"""What is asked: the trades queries and TPC-H's 22, as SQL built with sqlglot for each reader.

A trades query is a date window over ``trades`` and one of three shapes: ``scan`` (every
column of the window's rows), ``group_by`` (volume, count and average price per region and
symbol) and ``top10`` (the ten dearest trades, ties broken by ``trade_id`` so the answer is
one). Readers that finish in Polars (connectorx, the Polars APIs) read :meth:`rows_sql` and
apply the shape themselves; databases run :meth:`sql`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

#: The columns of the trades table, in order.
TRADE_COLUMNS = ("trade_id", "trade_date", "ts", "symbol", "region", "qty", "price")
#: The first day of the data and the day after its last (2023-01-01 .. 2024-12-31).
DATA_START = dt.date(2023, 1, 1)
DATA_END = dt.date(2025, 1, 1)
#: The range lengths (months from DATA_START) of the "time against range length" series.
RANGE_MONTHS = (1, 3, 6, 12, 24)
SHAPES = ("scan", "group_by", "top10")

_SHAPE_COLUMNS = {
    "scan": TRADE_COLUMNS,
    "group_by": ("region", "symbol", "qty", "price"),
    "top10": ("trade_id", "trade_date", "symbol", "price"),
}


def add_months(day: dt.date, months: int) -> dt.date:
    """The first of the month ``months`` after ``day``'s month (``day`` is a first of month).

    >>> add_months(dt.date(2023, 1, 1), 24)
    datetime.date(2025, 1, 1)
    >>> add_months(dt.date(2024, 11, 1), 3)
    datetime.date(2025, 2, 1)
    """
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_count(start: dt.date, end: dt.date, unit: str) -> int:
    """How many calendar periods of ``unit`` cover ``[start, end)``.

    >>> period_count(dt.date(2024, 1, 1), dt.date(2025, 1, 1), "monthly")
    12
    >>> period_count(dt.date(2024, 2, 1), dt.date(2024, 3, 1), "daily")
    29
    """
    if unit == "daily":
        return (end - start).days
    last = end - dt.timedelta(days=1)
    return (last.year - start.year) * 12 + last.month - start.month + 1


@dataclass(frozen=True)
class TradesQuery:
    """One trades query: its shape over the window ``[start, end)``, split by ``unit``.

    Example:
        >>> q = TradesQuery("top10_12m", "top 10", "top10", dt.date(2024, 1, 1), dt.date(2025, 1, 1), "monthly")
        >>> q.sql("bench.trades", "postgres")
        "SELECT trade_id, trade_date, symbol, price FROM bench.trades WHERE trade_date >= '2024-01-01' AND trade_date < '2025-01-01' ORDER BY price DESC, trade_id LIMIT 10"
        >>> q.rows_sql("trades", "mysql")
        "SELECT trade_id, trade_date, symbol, price FROM trades WHERE trade_date >= '2024-01-01' AND trade_date < '2025-01-01'"
        >>> q.periods
        12
    """

    name: str
    title: str
    shape: str
    start: dt.date
    end: dt.date
    unit: str
    months: int | None = None  # set on the points of the range-length series

    @property
    def periods(self) -> int:
        """The fragments a calendar split of the window makes."""
        return period_count(self.start, self.end, self.unit)

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns the shape needs from each row."""
        return _SHAPE_COLUMNS[self.shape]

    def window(self) -> exp.Expression:
        """``trade_date >= start AND trade_date < end`` (text literals every source compares as dates)."""
        column = exp.column("trade_date")
        low = exp.GTE(this=column, expression=exp.Literal.string(self.start.isoformat()))
        high = exp.LT(this=column.copy(), expression=exp.Literal.string(self.end.isoformat()))
        return exp.and_(low, high)

    def window_sql(self, table: str, dialect: str) -> str:
        """Every column of the window's rows (for readers that push their own projection)."""
        return exp.select(*TRADE_COLUMNS).from_(exp.to_table(table)).where(self.window()).sql(dialect=dialect)

    def rows_sql(self, table: str, dialect: str) -> str:
        """The rows and columns the shape needs, unfinished."""
        return exp.select(*self.columns).from_(exp.to_table(table)).where(self.window()).sql(dialect=dialect)

    def sql(self, table: str, dialect: str) -> str:
        """The whole query, for a database (or piot) to answer."""
        query = exp.select(*(self.columns if self.shape != "group_by" else ())).from_(exp.to_table(table)).where(self.window())
        if self.shape == "group_by":
            query = query.select(
                "region",
                "symbol",
                exp.alias_(exp.Sum(this=exp.column("qty")), "volume"),
                exp.alias_(exp.Count(this=exp.Star()), "trades"),
                exp.alias_(exp.Avg(this=exp.column("price")), "avg_price"),
            ).group_by("region", "symbol")
        elif self.shape == "top10":
            query = query.order_by("price DESC", "trade_id", dialect=dialect).limit(10)
        return query.sql(dialect=dialect)


def table_sql(table: str, dialect: str) -> str:
    """Every column of the whole table: what a Polars API scans before filtering.

    >>> table_sql("bench.trades", "postgres")
    'SELECT trade_id, trade_date, ts, symbol, region, qty, price FROM bench.trades'
    """
    return exp.select(*TRADE_COLUMNS).from_(exp.to_table(table)).sql(dialect=dialect)


def trades_queries() -> list[TradesQuery]:
    """The trades queries, in report order: the range-length scans, one month daily, a year grouped and its top 10.

    >>> [q.name for q in trades_queries()]
    ['scan_01m', 'scan_03m', 'scan_06m', 'scan_12m', 'scan_24m', 'scan_01m_daily', 'group_by_12m', 'top10_12m', 'scan_01d']
    """
    scans = [
        TradesQuery(
            f"scan_{n:02d}m", f"{n}-month scan, monthly split", "scan", DATA_START, add_months(DATA_START, n), "monthly", n
        )
        for n in RANGE_MONTHS
    ]
    year = (dt.date(2024, 1, 1), dt.date(2025, 1, 1))
    return scans + [
        TradesQuery("scan_01m_daily", "1-month scan, daily split", "scan", DATA_START, add_months(DATA_START, 1), "daily"),
        TradesQuery("group_by_12m", "year GROUP BY region, symbol", "group_by", *year, "monthly"),
        TradesQuery("top10_12m", "year top 10 by price", "top10", *year, "monthly"),
        TradesQuery("scan_01d", "a tiny query: one day's rows", "scan", DATA_START, DATA_START + dt.timedelta(days=1), "daily"),
    ]


@dataclass(frozen=True)
class TpchQuery:
    """One TPC-H query as each reader gets it: names bare (DuckDB), in a schema (PostgreSQL), in a source (piot)."""

    name: str
    bare_sql: str
    schema_sql: str
    piot_sql: str


def fraction_for_scale(sql: str, number: int, scale: float) -> str:
    """Q11's FRACTION, written 0.0001 for scale factor 1, is 0.0001 / SF at any other scale.

    >>> fraction_for_scale("sum(x) * 0.0001 from t", 11, 0.1)
    'sum(x) * 0.001 from t'
    >>> fraction_for_scale("sum(x) * 0.0001 from t", 11, 1)
    'sum(x) * 0.0001 from t'
    """
    if number != 11 or scale == 1:
        return sql
    if sql.count("* 0.0001") != 1:
        raise ValueError("q11 no longer writes its FRACTION as '* 0.0001'")
    return sql.replace("* 0.0001", f"* {0.0001 / scale:.10g}")


def tpch_queries(
    texts: dict[int, str], scale: float, qualify: Callable[[str, str], str], schema: str, source: str
) -> list[TpchQuery]:
    """TPC-H queries (number -> specification text with bare names) for every reader.

    ``qualify(sql, prefix)`` names each table as ``prefix.table`` and leaves the rest of the text as written.
    """
    out = []
    for number, text in sorted(texts.items()):
        sql = fraction_for_scale(text, number, scale)
        out.append(TpchQuery(f"tpch_q{number:02d}", sql, qualify(sql, schema), qualify(sql, f"{source}.{schema}")))
    return out
