"""Columns read as text (intervals, arrays, network addresses, money...) may only be shown.

Their source casts them to text in the fragment's SELECT (see
:attr:`piot.connectors.types.ColumnType.read_as_text`), so the merge holds PostgreSQL's text
form of the value, not the value: ``'1 day 02:00:00' = '26 hours'`` is false as text and true
as intervals, and text orders and groups them differently too. Such a column may be selected,
counted, tested for NULL or cast to text (then it is text on purpose); any other use is
refused by name rather than answered differently.

Example:
    >>> import sqlglot
    >>> from sqlglot.optimizer.scope import traverse_scope
    >>> query = sqlglot.parse_one("select t.span from t as t where t.span = '26 hours'")
    >>> check_opaque_columns(list(traverse_scope(query)), lambda table, name: "interval" if name == "span" else None)
    Traceback (most recent call last):
    piot.errors.NotSupportedError: column span is interval, which piot reads as text: select it, or write CAST(span AS TEXT) to compare, sort or group its text
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from sqlglot import exp
from sqlglot.optimizer.scope import Scope

from piot.connectors.introspect import TableInfo
from piot.errors import NotSupportedError
from piot.plan.tables import frame_columns

if TYPE_CHECKING:
    from piot.plan.state import PlanningState

#: the declared type of a column read as text, or None: (table name as the query's FROM names it, column name)
OpaqueType = Callable[[str, str], "str | None"]

_TEXT_TYPES = {exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR, exp.DataType.Type.CHAR, exp.DataType.Type.NVARCHAR}


def check_opaque(state: PlanningState) -> PlanningState:
    """Rule: refuse any use of a column read as text but showing it (the state is returned unchanged)."""
    check_opaque_columns(state.scopes, opaque_types(state.tables))
    return state


def opaque_types(tables: dict[str, TableInfo]) -> OpaqueType:
    """``(scan name, column) -> declared type`` of the columns of ``tables`` read as text, else None."""

    def opaque_type(scan_name: str, name: str) -> str | None:
        table = tables.get(scan_name)
        column = frame_columns(table).get(name) if table is not None else None
        return column.type.declared if column is not None and column.type.read_as_text else None

    return opaque_type


def check_opaque_columns(scopes: Sequence[Scope], opaque_type: OpaqueType) -> None:
    """Raise NotSupportedError where a column read as text is used as anything but shown text."""
    for scope in scopes:
        for column in scope.columns:
            declared = _declared(scope, column, opaque_type)
            if declared is not None and not _only_shown(column):
                name = column.name
                raise NotSupportedError(
                    f"column {name} is {declared}, which piot reads as text: "
                    f"select it, or write CAST({name} AS TEXT) to compare, sort or group its text"
                )


def _declared(scope: Scope, column: exp.Column, opaque_type: OpaqueType, depth: int = 0) -> str | None:
    """The declared type of the opaque column ``column`` refers to, through derived tables and CTEs."""
    source = scope.sources.get(column.table)
    if isinstance(source, exp.Table):
        return opaque_type(source.name, column.name)
    if isinstance(source, Scope) and isinstance(source.expression, exp.Select) and depth < 50:
        for item in source.expression.expressions:
            inner = item.this if isinstance(item, exp.Alias) else item
            if item.alias_or_name == column.name and isinstance(inner, exp.Column):
                return _declared(source, inner, opaque_type, depth + 1)
    return None


def _only_shown(column: exp.Column) -> bool:
    """Whether ``column`` is a select-list item, a COUNT argument, a NULL test or cast to text."""
    parent = column.parent
    if isinstance(parent, exp.Alias):
        column, parent = parent, parent.parent
    if isinstance(parent, exp.Select) and column.arg_key == "expressions":
        return True
    if isinstance(parent, exp.Count) or (isinstance(parent, exp.Is) and isinstance(parent.expression, exp.Null)):
        return True
    return isinstance(parent, exp.Cast) and parent.to.this in _TEXT_TYPES
