"""How SQLAlchemy statements are written for piot.

piot reads SQL in its input dialect (PostgreSQL by default), so statements are written
as PostgreSQL-flavoured standard SQL: double-quoted identifiers, ``LIMIT``/``OFFSET``,
``CAST``, ``true``/``false``, ``ILIKE``, ``?`` placeholders.

A table's SQLAlchemy ``schema`` is its piot source, optionally followed by the schema
inside that source: ``Table("trades", md, schema="markets")`` is ``markets.trades`` and
``schema="pg.public"`` is ``pg.public.trades``. Inside the statement a column is
qualified by its table's name alone (``trades.price``), because piot names each table
it reads by that name (or by the alias the statement gives it). A table whose name has
capitals is given its lower-case name as alias (``lite."Trades" AS trades``), which piot
reads the same way whether or not it folds the unquoted name.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exc
from sqlalchemy import types as sqltypes
from sqlalchemy.sql import compiler
from sqlalchemy.sql.elements import BinaryExpression, ColumnClause
from sqlalchemy.sql.schema import Table
from sqlalchemy.sql.selectable import Select

RESERVED_WORDS = compiler.RESERVED_WORDS | {
    "current_catalog",
    "current_schema",
    "fetch",
    "lateral",
    "qualify",
    "returning",
    "tablesample",
    "variadic",
    "window",
}

_FROM_NAMES = "piot_from_names"


def _row_name(table_name: str) -> str:
    """The name a source table's rows go by inside a statement: its name in lower case.

    >>> _row_name("Trades"), _row_name("trades")
    ('trades', 'trades')
    """
    return table_name.lower()


class PiotIdentifierPreparer(compiler.IdentifierPreparer):
    """Double-quoted identifiers; a dotted schema (``source.schema``) is quoted part by part."""

    reserved_words = RESERVED_WORDS

    def quote_schema(self, schema: str) -> str:  # type: ignore[override]
        """``pg.public`` stays two names: each part is quoted on its own when it needs to be.

        >>> from piot.sqlalchemy.dialect import PiotDialect
        >>> PiotDialect().identifier_preparer.quote_schema("pg.Sales")
        'pg."Sales"'
        """
        return ".".join(self.quote(part) for part in schema.split("."))


class PiotCompiler(compiler.SQLCompiler):
    """Compiles Core and ORM statements into SQL piot reads.

    Nothing here depends on the value of a bound parameter (values, LIMIT and OFFSET
    included, travel as ``?`` parameters), so one compiled form serves every execution
    of a statement: the dialect allows SQLAlchemy's statement cache.
    """

    def visit_column(
        self,
        column: ColumnClause[Any],
        add_to_result_map: Any = None,
        include_table: bool = True,
        **kw: Any,
    ) -> str:
        """A column of a source table is written ``table.column``, without its source."""
        table = column.table
        qualified = include_table and table is not None and table.named_with_column
        if not (qualified and self.preparer.schema_for_object(table)):  # type: ignore[union-attr]
            return super().visit_column(column, add_to_result_map, include_table, **kw)
        name = super().visit_column(column, add_to_result_map, False, **kw)
        return f"{self.preparer.quote(_row_name(table.name))}.{name}"  # type: ignore[union-attr]

    def visit_table(self, table: Table, asfrom: bool = False, **kw: Any) -> str:
        """``source.table``, with an alias if the name has capitals.

        Two source tables of one name side by side are refused: their columns would read alike.
        """
        text = super().visit_table(table, asfrom=asfrom, **kw)
        schema = self.preparer.schema_for_object(table)
        enclosing = kw.get("enclosing_alias")
        if not (text and schema) or (enclosing is not None and enclosing.element is table):
            return text
        row_name = _row_name(table.name)
        if row_name != table.name:
            text += " AS " + self.preparer.quote(row_name)
        if self.stack:
            seen: dict[str, str] = self.stack[-1].setdefault(_FROM_NAMES, {})  # type: ignore[typeddict-item]
            other = seen.setdefault(row_name, f"{schema}.{table.name}")
            if other != f"{schema}.{table.name}":
                raise exc.CompileError(
                    f"tables {other} and {schema}.{table.name} are both called {row_name!r} "
                    "in one FROM: give one of them another name with .alias()"
                )
        return text

    def limit_clause(self, select: Select[Any], **kw: Any) -> str:
        """``LIMIT n`` and/or ``OFFSET m``; an OFFSET alone needs no LIMIT."""
        text = ""
        if select._limit_clause is not None:
            text += "\n LIMIT " + self.process(select._limit_clause, **kw)
        if select._offset_clause is not None:
            text += "\n OFFSET " + self.process(select._offset_clause, **kw)
        return text

    def _like(self, binary: BinaryExpression[Any], keyword: str, **kw: Any) -> str:
        text = f"{self.process(binary.left, **kw)} {keyword} {self.process(binary.right, **kw)}"
        escape = binary.modifiers.get("escape")
        if escape is not None:
            text += " ESCAPE " + self.render_literal_value(escape, sqltypes.STRINGTYPE)
        return text

    def visit_ilike_op_binary(self, binary: BinaryExpression[Any], operator: Any, **kw: Any) -> str:
        """``ILIKE``, which piot reads as PostgreSQL does (rather than ``lower() LIKE lower()``)."""
        return self._like(binary, "ILIKE", **kw)

    def visit_not_ilike_op_binary(self, binary: BinaryExpression[Any], operator: Any, **kw: Any) -> str:
        """``NOT ILIKE``."""
        return self._like(binary, "NOT ILIKE", **kw)
