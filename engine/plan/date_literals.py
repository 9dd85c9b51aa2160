"""Untyped text next to a DATE/TIMESTAMP column takes the column's type, as PostgreSQL reads it.

``d >= '2024-03-10 12:00'`` on a DATE column means ``d >= DATE '2024-03-10'``; writing the
literal typed keeps that meaning in every source and in the merge. Against a TIMESTAMPTZ
column every time constant becomes an instant with an explicit offset, and an instant
compared with a DATE/TIMESTAMP column becomes wall time in the planning zone (see
:func:`piot.sql.timefold.column_literal`).

Example:
    >>> import sqlglot
    >>> from piot.sql.zones import UTC
    >>> dates = lambda table, name: "DATE" if name == "d" else None
    >>> typed_date_literals(sqlglot.parse_one("select t.d from t as t where t.d >= '2024-03-10 12:00'"), dates, UTC).sql()
    "SELECT t.d FROM t AS t WHERE t.d >= CAST('2024-03-10' AS DATE)"
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, traverse_scope

from piot.connectors.introspect import TableInfo
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
            source = scope.sources.get(column.table)
            type_sql = column_type(source.name, column.name) if isinstance(source, exp.Table) else None
            if type_sql not in ("DATE", "TIMESTAMP", "TIMESTAMPTZ"):
                continue
            parent = column.parent
            while isinstance(parent, exp.Paren):
                parent = parent.parent
            if not isinstance(parent, _LITERAL_COMPARISONS):
                continue
            for operand in list(parent.iter_expressions()):
                if not isinstance(operand, exp.Column):
                    typed = column_literal(operand, type_sql, zone)
                    if typed is not None:
                        operand.replace(typed)
                    elif isinstance(operand, exp.Literal) and operand.is_string and parse_time_text(operand.this) is None:
                        if is_infinity_text(operand.this):
                            operand.replace(infinite_literal(operand.this, is_date=type_sql == "DATE"))
                        elif type_sql in ("DATE", "TIMESTAMP"):  # PostgreSQL reads the text as the column's type, and refuses it
                            raise invalid_literal("date" if type_sql == "DATE" else "timestamp", operand)
