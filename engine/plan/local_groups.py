"""Groups that never cross fragments: the whole aggregation, medians and percentiles included, runs in each fragment.

When a GROUP BY key is the split column itself, or its truncation to a unit every period edge
falls on (``date_trunc('month', d)`` split monthly or coarser-aligned), all rows of a group are
in one fragment. Each fragment's task then runs the whole aggregation (HAVING too) over its rows;
the merge only orders, deduplicates and limits the groups that arrive.

Example:
    >>> import datetime as dt
    >>> aligned(dt.datetime(2024, 4, 1), "QUARTER"), aligned(dt.datetime(2024, 5, 1), "QUARTER")
    (True, False)
    >>> aligned(dt.datetime(2024, 1, 8), "WEEK"), aligned(dt.datetime(2024, 1, 8, 12), "DAY")
    (True, False)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlglot import exp

from piot.plan.periods import Period

_TRUNCATIONS = (exp.TimestampTrunc, exp.DateTrunc)


def aligned(edge: dt.datetime, unit: str) -> bool:
    """Whether ``edge`` is where a ``unit`` (PostgreSQL's date_trunc names) begins."""
    unit = unit.upper()
    midnight = edge.time() == dt.time(0)
    if unit in ("MICROSECOND", "MICROSECONDS"):
        return True
    if unit == "SECOND":
        return edge.microsecond == 0
    if unit == "MINUTE":
        return edge.second == edge.microsecond == 0
    if unit == "HOUR":
        return edge.minute == edge.second == edge.microsecond == 0
    checks = {
        "DAY": midnight,
        "WEEK": midnight and edge.weekday() == 0,
        "MONTH": midnight and edge.day == 1,
        "QUARTER": midnight and edge.day == 1 and edge.month in (1, 4, 7, 10),
        "YEAR": midnight and edge.day == 1 and edge.month == 1,
    }
    return checks.get(unit, False)


def groups_stay_in_fragments(keys: Sequence[exp.Expression], split_column: str | None, kind: str, periods: Sequence[Period | None]) -> bool:
    """Whether every group of ``keys`` lies in one period of ``periods`` (split on ``split_column`` of type ``kind``).

    >>> from piot.plan.periods import Edge
    >>> months = [Period(Edge(dt.datetime(2024, m, 1), True), Edge(dt.datetime(2024, m + 1, 1), False)) for m in (1, 2)]
    >>> key = exp.TimestampTrunc(this=exp.column("d"), unit=exp.var("MONTH"))
    >>> groups_stay_in_fragments([key], "d", "DATE", months), groups_stay_in_fragments([exp.column("x")], "d", "DATE", months)
    (True, False)
    """
    if len(periods) <= 1:
        return True
    if split_column is None:
        return False
    edges = [p.end.value for p in periods[:-1] if p is not None]
    for key in keys:
        if isinstance(key, exp.Column) and key.name == split_column:
            return True
        if isinstance(key, _TRUNCATIONS) and kind in ("DATE", "TIMESTAMP") and not key.args.get("zone"):
            target, unit = key.this, key.args.get("unit")
            if isinstance(target, exp.Column) and target.name == split_column and unit is not None:
                if all(aligned(edge, unit.name) for edge in edges):
                    return True
    return False


def whole_in_fragments(query: exp.Select, alias: str) -> tuple[exp.Select, exp.Select] | None:
    """The query each fragment runs (all of it but ordering, DISTINCT and LIMIT) and the merge's query over its outputs.

    None when ORDER BY names something else than an output.

    >>> import sqlglot
    >>> q = sqlglot.parse_one('SELECT "t"."d" AS "d", MEDIAN("t"."p") AS "m" FROM "s" AS "t" GROUP BY "t"."d" ORDER BY "m" DESC LIMIT 2')
    >>> fragment, merge = whole_in_fragments(q, "t")
    >>> fragment.sql()
    'SELECT "t"."d" AS "d", MEDIAN("t"."p") AS "m" FROM "fragment" AS "t" GROUP BY "t"."d"'
    >>> merge.sql()
    'SELECT "t"."d" AS "d", "t"."m" AS "m" FROM "s" AS "t" ORDER BY "m" DESC LIMIT 2'
    """
    outputs = {e.alias_or_name: e for e in query.expressions}
    if len(outputs) != len(query.expressions) or not all(isinstance(e, exp.Alias) for e in query.expressions):
        return None
    order = query.args.get("order")
    by_value = {e.this: name for name, e in outputs.items()}
    merge_order = []
    for key in order.expressions if order is not None else []:
        value = key.this
        if isinstance(value, exp.Column) and not value.table and value.name in outputs:
            merge_order.append(key.copy())
        elif value in by_value:
            ordered = key.copy()
            ordered.set("this", exp.column(by_value[value], quoted=True))
            merge_order.append(ordered)
        else:
            return None
    fragment = query.copy()
    for clause in ("order", "limit", "offset", "distinct", "where"):
        fragment.set(clause, None)
    fragment.set("from_", exp.From(this=exp.alias_(exp.table_("fragment", quoted=True), alias, quoted=True)))
    table = query.args["from_"].this.copy()
    merge = exp.select(*(exp.alias_(exp.column(name, table=alias, quoted=True), name, quoted=True) for name in outputs)).from_(table)
    merge.set("distinct", query.args.get("distinct"))
    if merge_order:
        merge = merge.order_by(*merge_order, copy=False)
    for clause in ("limit", "offset"):
        if query.args.get(clause) is not None:
            merge.set(clause, query.args[clause].copy())
    return fragment, merge
