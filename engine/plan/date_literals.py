"""Untyped text next to a DATE/TIMESTAMP column takes the column's type, as PostgreSQL reads it.

``d >= '2024-03-10 12:00'`` on a DATE column means ``d >= DATE '2024-03-10'``; writing the
literal typed keeps that meaning in every source and in the merge. Against a TIMESTAMPTZ
column every time constant becomes an instant with an explicit offset, and an instant
compared with a DATE/TIMESTAMP column becomes wall time in the planning zone (see
:func:`piot.sql.timefold.column_literal`). A column of a derived table or CTE has the type of the
catalog column it passes on (or its cast to a time type, or its MIN/MAX), as has an explicit cast to one.

Example:
    >>> import sqlglot
    >>> from piot.sql.zones import UTC
    >>> dates = lambda table, name: "DATE" if name == "d" else None
    >>> typed_date_literals(sqlglot.parse_one("select t.d from t as t where t.d >= '2024-03-10 12:00'"), dates, UTC).sql()
    "SELECT t.d FROM t AS t WHERE t.d >= CAST('2024-03-10' AS DATE)"
    >>> wrapped = "select v.day from (select t.d as day from t as t limit 5) as v where v.day < '2024-03-10 12:00'"
    >>> typed_date_literals(sqlglot.parse_one(wrapped), dates, UTC).sql()
    "SELECT v.day FROM (SELECT t.d AS day FROM t AS t LIMIT 5) AS v WHERE v.day < CAST('2024-03-10' AS DATE)"
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, find_all_in_scope, traverse_scope

from piot.connectors.introspect import TableInfo
from piot.plan.output_names import outer_select
from piot.plan.tables import frame_columns
from piot.sql.literals import infinite_literal, invalid_literal, is_infinity_text
from piot.sql.timefold import column_literal, parse_time_text
from piot.sql.zones import zone_for

if TYPE_CHECKING:
    from piot.plan.state import PlanningState

#: the SQL type of a catalog column, or None: (table name as the query's FROM names it, column name)
ColumnTypeOf = Callable[[str, str], "str | None"]

_LITERAL_COMPARISONS = (
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between, exp.In, exp.Coalesce, exp.Nullif, exp.Greatest, exp.Least,
)  # fmt: skip


def type_date_literals(state: PlanningState) -> PlanningState:
    """Rule: type the text compared (or COALESCEd, ...) with the DATE/TIMESTAMP columns of the tables read."""
    return state.with_query(typed_date_literals(state.query, column_types(state.tables), zone_for(state.options.timezone)))


def typed_date_literals(query: exp.Query, column_type: ColumnTypeOf, zone: dt.tzinfo) -> exp.Query:
    """A copy of ``query`` with text compared with a DATE/TIMESTAMP/TIMESTAMPTZ column typed as that column."""
    query = query.copy()
    _type_in_place(traverse_scope(query), column_type, zone)
    return query


def column_types(tables: dict[str, TableInfo]) -> ColumnTypeOf:
    """``(scan name, column) -> SQL type`` of the columns of ``tables``."""

    def column_type(scan_name: str, name: str) -> str | None:
        table = tables.get(scan_name)
        found = frame_columns(table).get(name) if table is not None else None
        return found.type.sql if found is not None else None

    return column_type


def _type_in_place(scopes: Sequence[Scope], column_type: ColumnTypeOf, zone: dt.tzinfo) -> None:
    for scope in scopes:
        for column in scope.columns:
            type_sql = _type_through_scopes(scope, column, column_type)
            if type_sql in _TIME_TYPES:
                _type_operands(column, type_sql, zone)
        for cast in find_all_in_scope(scope.expression, exp.Cast):
            type_sql = _cast_type(cast)
            if type_sql is not None and cast.find(exp.Column):  # a typed constant types nothing (nor an IN list, once per item)
                _type_operands(cast, type_sql, zone)


_TIME_TYPES = ("DATE", "TIMESTAMP", "TIMESTAMPTZ")
_CAST_TYPES = {
    exp.DataType.Type.DATE: "DATE",
    exp.DataType.Type.TIMESTAMP: "TIMESTAMP",
    exp.DataType.Type.DATETIME: "TIMESTAMP",
    exp.DataType.Type.TIMESTAMPTZ: "TIMESTAMPTZ",
}


def _cast_type(cast: exp.Cast) -> str | None:
    """DATE, TIMESTAMP or TIMESTAMPTZ for a cast to that type, else None."""
    return _CAST_TYPES.get(cast.to.this) if isinstance(cast.to, exp.DataType) else None


def _type_through_scopes(scope: Scope, column: exp.Column, column_type: ColumnTypeOf, depth: int = 0) -> str | None:
    """The SQL type of the catalog column (or time cast) that ``column`` reads, through derived tables and CTEs.

    A derived table's column has a type here when it is a catalog column, a column of another
    such table, a cast to a time type or the MIN/MAX of one of these; a set operation's when every
    branch agrees.
    """
    source = scope.sources.get(column.table)
    if isinstance(source, exp.Table):
        return column_type(source.name, column.name)
    if not isinstance(source, Scope) or depth > 50:
        return None
    select = outer_select(source.expression)
    names = [s.alias_or_name for s in select.selects] if select is not None else []
    return _output_type(source, names.index(column.name), column_type, depth + 1) if column.name in names else None


def _output_type(scope: Scope, index: int, column_type: ColumnTypeOf, depth: int) -> str | None:
    """The time type of the ``index``-th output column of ``scope``, or None."""
    if isinstance(scope.expression, exp.SetOperation):
        types = {_output_type(branch, index, column_type, depth + 1) for branch in scope.set_operation_scopes}
        return types.pop() if len(types) == 1 else None
    if not isinstance(scope.expression, exp.Select) or index >= len(scope.expression.selects):
        return None
    projection = scope.expression.selects[index].unalias()
    if isinstance(projection, (exp.Min, exp.Max)) and not projection.expressions:  # the first or last value is one of them
        projection = projection.this
    if isinstance(projection, exp.Cast):
        return _cast_type(projection)
    if isinstance(projection, exp.Column):
        return _type_through_scopes(scope, projection, column_type, depth)
    return None


def _type_operands(node: exp.Expression, type_sql: str, zone: dt.tzinfo) -> None:
    """Type the text compared (or COALESCEd, ...) with ``node``, a value of type ``type_sql``."""
    parent = node.parent
    while isinstance(parent, exp.Paren):
        parent = parent.parent
    if not isinstance(parent, _LITERAL_COMPARISONS):
        return
    for operand in list(parent.iter_expressions()):
        if isinstance(operand, exp.Column) or operand is node:
            continue
        typed = column_literal(operand, type_sql, zone)
        if typed is not None:
            operand.replace(typed)
        elif isinstance(operand, exp.Literal) and operand.is_string and parse_time_text(operand.this) is None:
            if is_infinity_text(operand.this):
                operand.replace(infinite_literal(operand.this, is_date=type_sql == "DATE"))
            elif type_sql in ("DATE", "TIMESTAMP"):  # PostgreSQL reads the text as the column's type, and refuses it
                raise invalid_literal("date" if type_sql == "DATE" else "timestamp", operand)
