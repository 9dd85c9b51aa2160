"""Fragments: one SQL text per (table scan, period), written in the source's dialect.

Each fragment selects only the columns the query needs, keeps every pushed conjunct
of the query's WHERE and adds its own window on the split column.

Example:
    >>> from piot.plan.periods import Period, Edge
    >>> from datetime import datetime as d
    >>> w = window_condition(exp.column("trade_date"), Period(Edge(d(2024, 1, 1), True), Edge(d(2024, 2, 1), False)), is_date=True)
    >>> w.sql("postgres")
    "trade_date >= CAST('2024-01-01' AS DATE) AND trade_date < CAST('2024-02-01' AS DATE)"

A window on a TIMESTAMP WITH TIME ZONE column has instants for edges and is written with
explicit UTC offsets, so no source reads it in its session zone:

    >>> from piot.sql.zones import UTC
    >>> w = window_condition(exp.column("at"), Period(Edge(d(2024, 3, 30, 23, tzinfo=UTC), True), Edge(d(2024, 3, 31, 22, tzinfo=UTC), False)), is_date=False)
    >>> w.sql("postgres")
    "at >= CAST('2024-03-30 23:00:00+00:00' AS TIMESTAMPTZ) AND at < CAST('2024-03-31 22:00:00+00:00' AS TIMESTAMPTZ)"

MariaDB reads no offset in literals: its fragments run with the session's ``time_zone`` set
to UTC for the one statement (its TIMESTAMP columns are then read and compared in UTC), and
instants are written as UTC wall time:

    >>> fragment_sql(exp.table_("t"), [exp.column("at")], [w], "mysql")
    "SET STATEMENT time_zone = '+00:00' FOR SELECT at FROM t WHERE at >= CAST('2024-03-30 23:00:00' AS DATETIME(6)) AND at < CAST('2024-03-31 22:00:00' AS DATETIME(6))"
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlglot import exp

from piot.connectors.catalog import Source
from piot.plan.exactness import PushDecision
from piot.plan.periods import Edge, Period
from piot.plan.pushdown import day_bound
from piot.sql.timefold import TimeValue, constant_time, parse_time_text, time_literal
from piot.sql.zones import UTC

#: prefix of a MariaDB fragment that reads or compares instants (TIMESTAMP columns, TIMESTAMPTZ bounds)
UTC_SESSION = "SET STATEMENT time_zone = '+00:00' FOR "


@dataclass(frozen=True)
class FramePlan:
    """A Polars plan serialised for the workers; it may hold sources' URLs, so its repr (seen in traceback locals) does not show it."""

    data: bytes = field(repr=False)


@dataclass(frozen=True)
class FrameRead:
    """A read of the Polars API: the scan's Polars plan filtered by ``predicate`` (a partition of ``execute_on_ray``).

    Attributes:
        predicate: the partition's filter.
        key: the partition's key (a ``(start, end)`` pair for a time window).
        options: Ray options of this read's task over the run's.
    """

    predicate: pl.Expr
    key: Any = None
    options: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Fragment:
    """One read: the SQL sent to one source for one period (or for the whole table), or one partition of a Polars plan.

    Attributes:
        scan_name: the scan the rows belong to.
        source: the catalog source (its URL is never shown; see ``Source.display_url``); None for a Polars read.
        sql: the exact SQL text sent, in the source's dialect (for a Polars read: its predicate, as Polars writes it).
        period: the window on the split column, None for an unsplit scan.
        exact_filter: a Polars SQL condition (over the frame ``fragment``) applied to the rows
            read, in the task: the widened conjuncts and, where dates are text, the window;
            None when everything sent to the source is exact.
        frame_read: for the Polars API, the partition this fragment collects of the scan's plan.
    """

    scan_name: str
    source: Source | None
    sql: str
    period: Period | None
    exact_filter: str | None = None
    frame_read: FrameRead | None = None

    @property
    def label(self) -> str:
        """The period as text for messages, ``whole table``, or a Polars partition's key.

        >>> Fragment("t", None, "", None, frame_read=FrameRead(pl.lit(True), "EU")).label
        "partition key='EU'"
        """
        if self.period is not None:
            return str(self.period)
        if self.frame_read is not None:
            key = self.frame_read.key
            if isinstance(key, tuple) and len(key) == 2 and all(isinstance(k, dt.date) for k in key):
                return str(Period(Edge(_as_datetime(key[0]), True), Edge(_as_datetime(key[1]), False)))
            return f"partition key={key!r}"
        return "whole table"

    @property
    def source_name(self) -> str:
        """The source's name in messages (``execute_on_ray`` for a Polars read)."""
        return self.source.name if self.source is not None else "execute_on_ray"

    def redact(self, text: str) -> str:
        """``text`` without the source's secrets."""
        return self.source.redact(text) if self.source is not None else text


def _as_datetime(value: dt.date) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())


@dataclass(frozen=True)
class SplitDecision:
    """How a scan is split, and why (shown by EXPLAIN)."""

    column: str | None
    unit: str | None
    reason: str


@dataclass(frozen=True)
class FragmentOutput:
    """What each fragment of a scan hands to the merge.

    Attributes:
        kind: ``rows``: the rows read, projected and filtered exactly; the merge runs the query
            over all of them. ``partial aggregate``: one row per group with partial results,
            which the merge folds (:mod:`piot.plan.partial_aggregates`).
        task_sql: Polars SQL the task runs over those rows (the frame ``fragment``) before it
            ships them; None ships the rows as they are.
        schema: the columns and types of what the task ships, when ``task_sql`` changes them.
        in_source: the source computes the fragment's output itself (its SQL holds it).
        combine_sql: Polars SQL folding several fragments' outputs (the frame ``fragment``) into
            one of the same form, so the driver may fold them as they arrive; None when they
            cannot be folded before the merge.
    """

    kind: str = "rows"
    task_sql: str | None = None
    schema: tuple[tuple[str, pl.DataType], ...] | None = None
    in_source: bool = False
    combine_sql: str | None = None


@dataclass(frozen=True)
class SourceOrder:
    """The first rows of each fragment, ordered by the source itself: its SQL's ORDER BY and LIMIT.

    Attributes:
        keys: (frame column, descending, NULLs first) per key.
        count: the rows each fragment keeps.
        collation: the collation text keys are ordered under (the source's byte order).
    """

    keys: tuple[tuple[str, bool, bool], ...]
    count: int
    collation: str | None = None

    def order_by(self, real_names: Mapping[str, str], text_columns: frozenset[str]) -> list[exp.Ordered]:
        """The ORDER BY items over the source's column names, NULL placement written out.

        >>> SourceOrder((("p", True, False), ("s", False, False)), 5, '"C"').order_by({"p": "Price", "s": "s"}, frozenset({"s"}))[0].sql("postgres")
        '"Price" DESC NULLS LAST'
        """
        items = []
        for name, descending, nulls_first in self.keys:
            column: exp.Expression = exp.column(real_names[name], quoted=True)
            if name in text_columns and self.collation is not None:
                column = exp.Collate(this=column, expression=exp.var(self.collation))
            items.append(exp.Ordered(this=column, desc=descending, nulls_first=nulls_first))
        return items


@dataclass(frozen=True)
class SourceAggregation:
    """Partial aggregates computed by the source itself: the fragment's SELECT list and GROUP BY.

    Attributes:
        select: the items, over the table's frame column names, each aliased to its partial column.
        group_by: the frame columns grouped by.
    """

    select: tuple[exp.Expression, ...]
    group_by: tuple[str, ...]


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
        pushdown: what became of each conjunct filtering this table: exact, widened or kept back.
            Work that needs exactly the query's rows in a fragment (partial aggregates, top-N)
            may rely on a fragment's rows only when every conjunct is exact, or widened (the
            fragment's ``exact_filter`` then restores them); a kept-back conjunct is applied
            by the merge alone.
        output: what each fragment hands to the merge (today: its rows).
        frame_plan: for the Polars API, the serialised plan each fragment collects a partition of.
    """

    name: str
    alias: str
    table_name: str
    schema: tuple[tuple[str, pl.DataType], ...]
    fragments: tuple[Fragment, ...]
    split: SplitDecision
    pushdown: tuple[PushDecision, ...] = ()
    output: FragmentOutput = FragmentOutput()
    frame_plan: FramePlan | None = field(default=None, repr=False)

    @property
    def output_schema(self) -> tuple[tuple[str, pl.DataType], ...]:
        """The columns and types the merge receives from each fragment."""
        return self.output.schema if self.output.schema is not None else self.schema


def in_list_by_period(condition: exp.Expression, column: str, kind: str, zone: dt.tzinfo = UTC) -> Callable[[Period], exp.Expression] | None:
    """For an ``IN`` list of times on the split column: a function giving each period's condition with only its values.

    The fragment's window is ANDed with the condition, so values outside it can never match
    there; a 5,000-date list cut daily then sends each day its own dates, not all 5,000. The
    values are read once; each period picks its own by bisection. None for any other condition
    (``kind`` is the column's type: ``DATE``, ``TIMESTAMP`` or ``TIMESTAMPTZ``).

    >>> import sqlglot
    >>> from piot.plan.periods import Edge
    >>> listed = sqlglot.parse_one("d IN (CAST('2024-02-07' AS DATE), CAST('2024-01-05' AS DATE))")
    >>> per_period = in_list_by_period(listed, "d", "DATE")
    >>> per_period(Period(Edge(dt.datetime(2024, 1, 1), True), Edge(dt.datetime(2024, 2, 1), False))).sql()
    "d IN (CAST('2024-01-05' AS DATE))"
    >>> per_period(Period(Edge(dt.datetime(2024, 3, 1), True), Edge(dt.datetime(2024, 4, 1), False))).sql()
    'FALSE'
    """
    picks = in_list_picks(condition, column, kind, zone)
    if picks is None:
        return None

    def for_period(period: Period) -> exp.Expression:
        kept = picks(period)
        if kept is None:
            return condition.copy()
        if not kept:
            return exp.false()
        return exp.In(this=condition.this.copy(), expressions=[condition.expressions[i].copy() for i in kept])

    return for_period


def in_list_picks(condition: exp.Expression, column: str, kind: str, zone: dt.tzinfo = UTC) -> Callable[[Period], list[int] | None] | None:
    """For an ``IN`` list of times on the split column: a function giving the positions of the values inside each period.

    The positions are in list order; None keeps the whole condition (naive values against an
    aware window are not comparable). None for any other condition (see :func:`in_list_by_period`).

    >>> import sqlglot
    >>> from piot.plan.periods import Edge
    >>> listed = sqlglot.parse_one("d IN ('2024-02-07', '2024-01-05', '2024-01-31')")
    >>> in_list_picks(listed, "d", "DATE")(Period(Edge(dt.datetime(2024, 1, 1), True), Edge(dt.datetime(2024, 2, 1), False)))
    [1, 2]
    """
    if not (isinstance(condition, exp.In) and not condition.args.get("query") and not condition.args.get("negate")):
        return None
    target = condition.this.unnest() if isinstance(condition.this, exp.Paren) else condition.this
    if not (isinstance(target, exp.Column) and target.name == column):
        return None
    values: list[tuple[dt.datetime, int]] = []
    for index, item in enumerate(condition.expressions):
        found = constant_time(item, zone=zone)
        if found is None:
            return None  # not a plain list of times: the condition goes whole to every fragment
        values.append((found.for_column(kind, zone), index))
    values.sort()
    keys = [value for value, _ in values]

    def for_period(period: Period) -> list[int] | None:
        start, end = period.start, period.end
        edge = start or end
        if edge is None or (edge.value.tzinfo is None) != (keys[0].tzinfo is None if keys else True):
            return None  # naive values against an aware window: not comparable, keep them all
        low = 0 if start is None else bisect.bisect_left(keys, start.value) if start.inclusive else bisect.bisect_right(keys, start.value)
        high = len(keys) if end is None else bisect.bisect_right(keys, end.value) if end.inclusive else bisect.bisect_left(keys, end.value)
        return sorted(index for _, index in values[low:high])

    return for_period


def window_condition(column: exp.Column, period: Period, *, is_date: bool, text_dates: bool = False) -> exp.Expression:
    """``column >= start AND column < end``, each edge with the period's own inclusivity; an open edge adds nothing.

    With ``text_dates`` (SQLite) the window is written as whole-day text comparisons
    that admit every row of the typed window; rows are then filtered exactly in Polars.
    Text of instants may carry any offset, so their window is widened by a day each side.

    >>> window_condition(exp.column("d"), Period(Edge(dt.datetime(2024, 9, 1), True), None), is_date=True).sql("postgres")
    "d >= CAST('2024-09-01' AS DATE)"
    """
    start, end = period.start, period.end
    parts: list[exp.Expression] = []
    if text_dates:
        aware = any(edge is not None and edge.value.tzinfo is not None for edge in (start, end))
        widen = dt.timedelta(days=1 if aware else 0)
        if start is not None:
            parts.append(day_bound(column, start.value - widen, lower=True))
        if end is not None:
            parts.append(day_bound(column, end.value + widen, lower=False, inclusive=aware or end.inclusive))
    else:
        if start is not None:
            op = exp.GTE if start.inclusive else exp.GT
            parts.append(op(this=column.copy(), expression=time_literal(TimeValue(start.value, is_date=is_date))))
        if end is not None:
            op = exp.LTE if end.inclusive else exp.LT
            parts.append(op(this=column.copy(), expression=time_literal(TimeValue(end.value, is_date=is_date))))
    if not parts:
        return exp.true()
    return exp.and_(*parts)


def text_window(period: Period) -> tuple[dt.datetime, dt.datetime, bool]:
    """The edges a whole-day text window is drawn from, and whether its end day is included.

    >>> text_window(Period(Edge(dt.datetime(2024, 1, 1, tzinfo=UTC), True), Edge(dt.datetime(2024, 1, 2, tzinfo=UTC), False)))[1:]
    (datetime.datetime(2024, 1, 3, 0, 0, tzinfo=datetime.timezone.utc), True)
    """
    start, end, inclusive = period.start.value, period.end.value, period.end.inclusive
    if start.tzinfo is not None:
        start, end, inclusive = start - dt.timedelta(days=1), end + dt.timedelta(days=1), True
    return start, end, inclusive


def fragment_sql(
    table: exp.Table,
    columns: list[exp.Expression],
    conditions: list[exp.Expression],
    dialect: str,
    *,
    utc_session: bool = False,
    group_by: Sequence[exp.Expression] = (),
    order_by: Sequence[exp.Ordered] = (),
    limit: int | None = None,
) -> str:
    """``SELECT columns FROM table WHERE conditions`` in ``dialect``.

    ``utc_session``: the table has columns holding instants (MariaDB TIMESTAMP), so a MySQL
    fragment runs in a UTC session and reads them as UTC wall time, whatever the server's zone.

    >>> fragment_sql(exp.table_("trades", db="public"), [exp.column("price", quoted=True)], [exp.condition("price > 1")], "mysql")
    'SELECT `price` FROM public.trades WHERE price > 1'
    """
    select = fragment_select(table, columns, conditions, group_by=group_by, order_by=order_by, limit=limit)
    return write_fragment(select, dialect, utc_session=utc_session)


def fragment_select(
    table: exp.Table,
    columns: Sequence[exp.Expression],
    conditions: Sequence[exp.Expression],
    *,
    group_by: Sequence[exp.Expression] = (),
    order_by: Sequence[exp.Ordered] = (),
    limit: int | None = None,
) -> exp.Select:
    """The tree of ``SELECT columns FROM table WHERE conditions [GROUP BY ...] [ORDER BY ... LIMIT n]``.

    The columns are copied; the conditions are taken as they are (the caller's own copies).

    >>> fragment_select(exp.table_("t"), [exp.column("a")], [exp.condition("a > 1"), exp.condition("a < 3 OR a = 9")]).sql()
    'SELECT a FROM t WHERE a > 1 AND (a < 3 OR a = 9)'
    """
    select = exp.select(*columns).from_(table)
    if conditions:  # the conditions are the caller's own copies: no need to copy them again
        select = select.where(exp.and_(*conditions, copy=False), copy=False)
    if group_by:
        select = select.group_by(*group_by, copy=False)
    if order_by:
        select = select.order_by(*order_by, copy=False)
    if limit is not None:
        select = select.limit(limit, copy=False)
    return select


def write_fragment(select: exp.Expression, dialect: str, *, utc_session: bool = False) -> str:
    """The text of a fragment's tree in ``dialect`` (a MySQL tree is changed in place by :func:`mysql_time_casts`).

    >>> write_fragment(exp.select("at").from_("t").where("at < CAST('2024-01-01 10:00:00+01:00' AS TIMESTAMPTZ)"), "mysql")
    "SET STATEMENT time_zone = '+00:00' FOR SELECT at FROM t WHERE at < CAST('2024-01-01 09:00:00' AS DATETIME(6))"
    """
    text, instants = write_tree(select, dialect)
    return (UTC_SESSION if dialect == "mysql" and (utc_session or instants) else "") + text


def write_tree(tree: exp.Expression, dialect: str) -> tuple[str, bool]:
    """``tree`` written in ``dialect``, and whether a MySQL source must read it in a UTC session (see :func:`mysql_time_casts`).

    A MySQL tree is changed in place (a cast at its root is written as it would be inside a statement).

    >>> write_tree(exp.condition("ts = CAST('2024-01-01 10:00:00' AS TIMESTAMP)"), "mysql")
    ("ts = CAST('2024-01-01 10:00:00' AS DATETIME(6))", False)
    >>> write_tree(exp.cast(exp.Literal.string("2024-01-01 10:00:00+01:00"), "TIMESTAMPTZ"), "mysql")
    ("CAST('2024-01-01 09:00:00' AS DATETIME(6))", True)
    """
    if dialect != "mysql":
        return tree.sql(dialect=dialect, copy=False), False
    if isinstance(tree, exp.Cast) and tree.parent is None:  # a root cannot be replaced: hold it
        holder = exp.Paren(this=tree)
        instants = mysql_time_casts(holder)
        return holder.this.sql(dialect=dialect, copy=False), instants
    instants = mysql_time_casts(tree)
    return tree.sql(dialect=dialect, copy=False), instants


def mysql_time_casts(statement: exp.Expression) -> bool:
    """Write a statement's time literals as MySQL/MariaDB reads them exactly (in place); True when it must run in a UTC session.

    A plain ``CAST(... AS DATETIME)`` drops the microseconds of a bound: it becomes
    ``DATETIME(6)``. An instant with an offset becomes its UTC wall time, read in a UTC session.

    >>> statement = exp.condition("ts < CAST('2024-02-01 13:30:00.25' AS TIMESTAMP)")
    >>> mysql_time_casts(statement), statement.sql("mysql")
    (False, "ts < CAST('2024-02-01 13:30:00.25' AS DATETIME(6))")
    """
    utc_session = False
    for cast in list(statement.find_all(exp.Cast)):
        if cast.to.is_type(exp.DataType.Type.TIMESTAMPTZ) and isinstance(cast.this, exp.Literal) and cast.this.is_string:
            instant = parse_time_text(cast.this.this)
            if instant is not None and instant.tzinfo is not None:
                utc_session = True
                wall = instant.astimezone(UTC).replace(tzinfo=None)
                cast.replace(time_literal(TimeValue(wall, is_date=False)))
    for cast in statement.find_all(exp.Cast):  # a plain DATETIME cast drops the microseconds of the bound
        if cast.to.is_type(exp.DataType.Type.TIMESTAMP):
            cast.set("to", exp.DataType.build("DATETIME(6)", dialect="mysql"))
    return utc_session


def distinct_scans(scans: Sequence[Scan]) -> list[Scan]:
    """The scans that are read: one of each group of scans reading exactly the same rows."""
    reads = first_alike(scans)
    return [scan for scan in scans if reads[scan.name] == scan.name]


def first_alike(scans: Sequence[Scan]) -> dict[str, str]:
    """For each scan, the first scan that reads exactly the same rows (itself if none): those are read once.

    A table named twice with the same filters (``nation n1, nation n2``) needs one read.
    """
    seen: dict[Any, str] = {}
    first: dict[str, str] = {}
    for scan in scans:
        reads = tuple((f.source_name, f.sql, f.period, f.exact_filter, repr(f.frame_read)) for f in scan.fragments)
        plan = hash(scan.frame_plan.data) if scan.frame_plan is not None else None
        key = (tuple((name, repr(dtype)) for name, dtype in scan.schema), reads, scan.output.kind, scan.output.task_sql, plan)
        first[scan.name] = seen.setdefault(key, scan.name)
    return first
