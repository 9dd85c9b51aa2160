"""What a kind of source provides so that piot can read its catalog safely.

Each kind (:mod:`piot.connectors.postgres`, :mod:`piot.connectors.mysql`,
:mod:`piot.connectors.sqlite`) builds its catalog statements from sqlglot ASTs, never by
formatting text: a name the user typed reaches the source only as data, hex-encoded bytes
the server decodes, or a bound parameter. A name the kind cannot hold at all (a NUL
character, say) is a table that does not exist, and nothing is sent.

Example:
    >>> hex_of("x'\\\\")
    '78275c'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from sqlglot import exp

from piot.connectors.types import ColumnType


@dataclass(frozen=True)
class CatalogQuery:
    """One statement that reads a source's catalog.

    Attributes:
        sql: the statement in the source's dialect.
        parameters: values bound to its ``?`` placeholders (SQLite), empty otherwise.
    """

    sql: str
    parameters: tuple[str, ...] = ()


class KindSql(Protocol):
    """The catalog statements, type mapping and system names of one kind of source."""

    def columns_query(self, schema: str | None, table: str) -> CatalogQuery | None:
        """Columns (name, declared type) of ``schema.table`` in order; None if no such name can exist."""
        ...

    def tables_query(self) -> CatalogQuery:
        """The (schema, table) pairs of the source's own tables and views."""
        ...

    def column_type(self, declared: str) -> ColumnType:
        """The type piot answers with for a column declared ``declared``."""
        ...

    def system_object(self, schema: str | None, table: str) -> str | None:
        """How to name the system schema or table ``schema.table`` is in (``system schema 'pg_catalog'``), or None."""
        ...

    def searched_schema(self, table: str) -> str | None:
        """The system schema the source itself searches for an unqualified ``table``, if any (PostgreSQL: ``pg_catalog``)."""
        ...

    def connectorx_url(self, url: str) -> str:
        """The URL handed to connectorx, with what the kind adds to every session."""
        ...

    def session_statements(self) -> tuple[str, ...]:
        """Fixed statements connectorx runs on each session before the query (no user text in them)."""
        ...

    def statistics_query(self, schema: str | None, table: str, column: str) -> CatalogQuery | None:
        """What the source keeps about ``column`` without reading the table: at most one row.

        Its columns, where the kind has them: ``indexed`` (an index leads with the column, so
        ``MIN``/``MAX`` of it are index lookups), ``row_count`` (the table's row estimate;
        negative or NULL when unknown) and PostgreSQL's ``null_frac``, ``histogram``,
        ``common_values`` and ``common_freqs`` (its planner statistics, arrays as text).
        None if no such name can exist.
        """
        ...


def bind_names(template: exp.Expression, values: Mapping[str, exp.Expression]) -> exp.Expression:
    """A copy of ``template`` with each ``:name`` placeholder replaced by the expression ``values`` gives for it.

    >>> import sqlglot
    >>> bind_names(sqlglot.parse_one("SELECT 1 FROM t WHERE a = :x"), {"x": exp.Literal.string("q")}).sql()
    "SELECT 1 FROM t WHERE a = 'q'"
    """

    def bind(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder) and node.name in values:
            return values[node.name].copy()
        return node

    return template.transform(bind, copy=True)


def hex_of(value: str) -> str:
    """The UTF-8 bytes of ``value`` as hex digits: the only form in which a name reaches a server's SQL.

    >>> hex_of("é")
    'c3a9'
    """
    return value.encode("utf-8", "surrogatepass").hex()
