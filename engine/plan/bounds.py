"""Lift the date bounds of one column out of WHERE conjuncts.

Understands ``BETWEEN``, ``>``, ``>=``, ``<``, ``<=``, ``=``, ``NOT`` of a comparison,
and their AND combinations; an OR splits only when its branches provably form one
range. Anything else says nothing about the column (the range stays open there).

On a TIMESTAMP WITH TIME ZONE column (``zoned``) the edges are instants (aware datetimes
with explicit offsets): wall times without an offset are read in the connection's zone.
On DATE and TIMESTAMP columns they are wall times (naive).

Example:
    >>> import sqlglot
    >>> where = sqlglot.parse_one("select 1 from t where d >= '2024-01-01' and d < date '2024-04-01' and x > 3")
    >>> r = column_range(where.args["where"].this, "d", is_date=True)
    >>> r.lower, r.upper
    (Edge(value=datetime.datetime(2024, 1, 1, 0, 0), inclusive=True), Edge(value=datetime.datetime(2024, 4, 1, 0, 0), inclusive=False))
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlglot import exp

from piot.plan.periods import Edge
from piot.sql.timefold import constant_time
from piot.sql.zones import UTC

_FLIPPED: dict[type[exp.Expression], type[exp.Expression]] = {exp.GT: exp.LT, exp.GTE: exp.LTE, exp.LT: exp.GT, exp.LTE: exp.GTE, exp.EQ: exp.EQ}
_NEGATED: dict[type[exp.Expression], type[exp.Expression]] = {exp.GT: exp.LTE, exp.GTE: exp.LT, exp.LT: exp.GTE, exp.LTE: exp.GT}


@dataclass(frozen=True)
class Range:
    """A set of values of one column: an interval whose ends may be open (None)."""

    lower: Edge | None = None
    upper: Edge | None = None

    @property
    def two_sided(self) -> bool:
        """Both ends are known: the range can be split into periods."""
        return self.lower is not None and self.upper is not None

    def intersect(self, other: Range) -> Range:
        """The values in both ranges."""
        return Range(tighter_edge(self.lower, other.lower, lower=True), tighter_edge(self.upper, other.upper, lower=False))

    @property
    def empty(self) -> bool:
        """No value fits (``d BETWEEN '2024-02-01' AND '2024-01-01'``).

        >>> Range(Edge(dt.datetime(2024, 2, 1), True), Edge(dt.datetime(2024, 1, 1), True)).empty
        True
        """
        if self.lower is None or self.upper is None:
            return False
        if self.lower.value != self.upper.value:
            return self.lower.value > self.upper.value
        return not (self.lower.inclusive and self.upper.inclusive)

    def union(self, other: Range) -> Range | None:
        """The values in either range, if that is one interval; None if there is a gap."""
        if self.empty or other.empty:
            return other if self.empty else self
        first, second = sorted((self, other), key=_lower_key)
        if first.upper is not None and second.lower is not None:
            gap = first.upper.value < second.lower.value or (
                first.upper.value == second.lower.value and not (first.upper.inclusive or second.lower.inclusive)
            )
            if gap:
                return None
        lower = None if first.lower is None or second.lower is None else first.lower
        upper = None if first.upper is None or second.upper is None else _looser_upper(first.upper, second.upper)
        return Range(lower, upper)


def _lower_key(r: Range) -> tuple[int, dt.datetime, int]:
    if r.lower is None:
        return (0, dt.datetime.min.replace(tzinfo=UTC), 0)
    value = r.lower.value if r.lower.value.tzinfo is not None else r.lower.value.replace(tzinfo=UTC)
    return (1, value, 0 if r.lower.inclusive else 1)


def _looser_upper(a: Edge, b: Edge) -> Edge:
    if a.value != b.value:
        return a if a.value > b.value else b
    return a if a.inclusive else b


def tighter_edge(a: Edge | None, b: Edge | None, *, lower: bool) -> Edge | None:
    """The edge that admits less: the later lower edge or the earlier upper edge (exclusive wins a tie).

    >>> tighter_edge(Edge(dt.datetime(2024, 1, 1), True), Edge(dt.datetime(2024, 1, 1), False), lower=True)
    Edge(value=datetime.datetime(2024, 1, 1, 0, 0), inclusive=False)
    """
    if a is None or b is None:
        return a or b
    if a.value != b.value:
        return (a if a.value > b.value else b) if lower else (a if a.value < b.value else b)
    return a if not a.inclusive else b


def column_range(
    condition: exp.Expression,
    column: str,
    *,
    is_date: bool,
    table: str | None = None,
    zoned: bool = False,
    zone: dt.tzinfo = UTC,
) -> Range:
    """The range of ``column`` that ``condition`` allows (open where it says nothing).

    Args:
        condition: a boolean expression (a WHERE clause or one conjunct).
        column: the column's name.
        is_date: the column is a DATE (bounds with a time of day are rounded to whole days).
        table: if given, only ``table.column`` counts (unqualified references too).
        zoned: the column is a TIMESTAMP WITH TIME ZONE: edges are instants.
        zone: the connection's time zone, where wall times and instants meet.
    """
    kind = "DATE" if is_date else "TIMESTAMPTZ" if zoned else "TIMESTAMP"
    return _range(condition, column, kind, table, zone)


def _range(condition: exp.Expression, column: str, kind: str, table: str | None, zone: dt.tzinfo) -> Range:
    if isinstance(condition, exp.Paren):
        return _range(condition.this, column, kind, table, zone)
    if isinstance(condition, exp.And):
        left = _range(condition.left, column, kind, table, zone)
        return left.intersect(_range(condition.right, column, kind, table, zone))
    if isinstance(condition, exp.Or):
        left = _range(condition.left, column, kind, table, zone)
        right = _range(condition.right, column, kind, table, zone)
        return left.union(right) or Range()
    if isinstance(condition, exp.Between) and _is_column(condition.this, column, table):
        low, high = constant_time(condition.args["low"], zone=zone), constant_time(condition.args["high"], zone=zone)
        if low is None or high is None:
            return Range()
        first, last = low.for_column(kind, zone), high.for_column(kind, zone)
        if condition.args.get("symmetric") and first > last:
            first, last = last, first
        is_date = kind == "DATE"
        return Range(_edge(exp.GTE, first, is_date), _edge(exp.LTE, last, is_date))
    if isinstance(condition, exp.Not) and type(_unparen(condition.this)) in _NEGATED:
        inner = _unparen(condition.this)
        return _comparison_range(_NEGATED[type(inner)], inner.left, inner.right, column, kind, table, zone)
    if type(condition) in _FLIPPED:
        return _comparison_range(type(condition), condition.left, condition.right, column, kind, table, zone)
    return Range()


def _unparen(node: exp.Expression) -> exp.Expression:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _comparison_range(
    op: type[exp.Expression],
    left: exp.Expression,
    right: exp.Expression,
    column: str,
    kind: str,
    table: str | None,
    zone: dt.tzinfo,
) -> Range:
    if not _is_column(left, column, table):
        if not _is_column(right, column, table):
            return Range()
        left, right, op = right, left, _FLIPPED[op]
    found = constant_time(right, zone=zone)
    if found is None:
        return Range()
    value, is_date = found.for_column(kind, zone), kind == "DATE"
    if op is exp.EQ:
        return Range(_edge(exp.GTE, value, is_date), _edge(exp.LTE, value, is_date))
    edge = _edge(op, value, is_date)
    return Range(lower=edge) if op in (exp.GT, exp.GTE) else Range(upper=edge)


def _is_column(node: exp.Expression, column: str, table: str | None) -> bool:
    node = _unparen(node)
    return isinstance(node, exp.Column) and node.name.lower() == column.lower() and (not table or not node.table or node.table == table)


def _edge(op: type[exp.Expression], value: dt.datetime, is_date: bool) -> Edge:
    """The edge ``column OP value`` sets; on a DATE column a time of day rounds to the day it admits.

    >>> _edge(exp.GT, dt.datetime(2024, 3, 10, 12), is_date=True)
    Edge(value=datetime.datetime(2024, 3, 11, 0, 0), inclusive=True)
    """
    inclusive = op in (exp.GTE, exp.LTE)
    if not is_date or value.time() == dt.time():
        return Edge(value, inclusive)
    day = dt.datetime.combine(value.date(), dt.time())
    if op in (exp.GT, exp.GTE):
        if day.date() == dt.date.max:
            return Edge(day, False)  # no later day to name: after the last one
        return Edge(day + dt.timedelta(days=1), True)
    return Edge(day, True)
