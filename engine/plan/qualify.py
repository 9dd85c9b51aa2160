"""Qualify every column with its table and quote every name, with sqlglot's ``qualify`` over the catalog's schema.

A name that resolves to no column is a ProgrammingError pointing at the name in the user's SQL,
with the catalog's table names rather than the scans' internal ones.

Example:
    >>> import sqlglot
    >>> qualified(sqlglot.parse_one("select id from t where d > '2024-01-01'"), {"t": {"id": "INT", "d": "DATE"}}, "postgres").sql()
    'SELECT "t"."id" AS "id" FROM "t" AS "t" WHERE "t"."d" > \\'2024-01-01\\''
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlglot import exp
from sqlglot.errors import OptimizeError, SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import Schema

from piot.errors import NotSupportedError, ProgrammingError
from piot.plan.tables import TableReference, mapping_schema

if TYPE_CHECKING:
    from piot.plan.state import PlanningState


def qualified(query: exp.Query, schema: dict[str, dict[str, str]] | Schema, dialect: str) -> exp.Query:
    """A copy of ``query`` qualified and quoted; OptimizeError for a name it cannot resolve."""
    try:
        return qualify(query.copy(), schema=schema, dialect=dialect, validate_qualify_columns=True, quote_identifiers=True)
    except OptimizeError:
        raise
    except SqlglotError as e:
        raise NotSupportedError(f"cannot plan this query: {e}") from e


def qualify_columns(state: PlanningState) -> PlanningState:
    """Rule: qualify the tree's columns over the schema of its table references."""
    try:
        dialect = state.statement.dialect
        return state.with_query(qualified(state.query, mapping_schema(state.schema, dialect), dialect))
    except OptimizeError as e:
        raise qualify_error(str(e), state.statement.query, state.references) from e


_UNKNOWN_COLUMN = re.compile(r"(?:Unknown column: (?P<a>[^\s.]+)|column '(?P<b>[^']+)' could not be resolved)", re.IGNORECASE)
_POSITION = re.compile(r"Line: (\d+), Col: (\d+)")


def qualify_error(message: str, original: exp.Expression, references: tuple[TableReference, ...]) -> ProgrammingError:
    """A ProgrammingError for an unresolvable name, pointing at the name in the user's SQL.

    >>> import sqlglot
    >>> error = qualify_error("Column 'nme' could not be resolved. Line: 1, Col: 10", sqlglot.parse_one("select nme from t"), ())
    >>> str(error), error.line, error.col
    ("unknown column 'nme' (reading no table) (line 1, column 8)", 1, 8)
    """
    for ref in references:
        message = message.replace(ref.scan_name, ref.table.qualified_name)
    unknown = _UNKNOWN_COLUMN.search(message)
    if unknown is None:
        return ProgrammingError(message[:1].lower() + message[1:].rstrip("."))
    name = unknown["a"] or unknown["b"]
    tables = ", ".join(ref.table.qualified_name for ref in references) or "no table"
    position = _POSITION.search(message)
    if position is not None:
        line, col = int(position[1]), int(position[2])
    else:
        column = next((c for c in original.find_all(exp.Column) if c.name == name), None)
        meta = column.this.meta if column is not None and isinstance(column.this, exp.Identifier) else {}
        line, col = meta.get("line"), meta.get("col")
    if col:  # positions name the token's last character; point at its first
        col = max(1, col - len(name) + 1)
    return ProgrammingError(f"unknown column {name!r} (reading {tables})", line=line, col=col)
