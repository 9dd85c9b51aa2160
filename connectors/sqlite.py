"""SQLite sources: their dialect, catalog statements and types.

Names reach SQLite only as bound parameters of Python's ``sqlite3`` on a read-only
handle. Tables whose names begin with ``sqlite_`` (``sqlite_master``, ``sqlite_schema``,
``sqlite_temp_master``, ``sqlite_sequence``, ``sqlite_stat1``...) are SQLite's own.

Example:
    >>> query = SQL.columns_query(None, "x'); DROP TABLE t; --")
    >>> query.sql, query.parameters
    ('SELECT name, type FROM PRAGMA_TABLE_INFO(?) ORDER BY cid', ("x'); DROP TABLE t; --",))
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from piot.connectors.kind_sql import CatalogQuery
from piot.connectors.types import ColumnType, declared_type

DIALECT = "sqlite"

_COLUMNS = exp.select("name", "type").from_(exp.Table(this=exp.Anonymous(this="PRAGMA_TABLE_INFO", expressions=[exp.Placeholder()])))
_INDEXED = sqlglot.parse_one(
    "SELECT EXISTS (SELECT 1 FROM pragma_index_list(?) AS l, pragma_index_info(l.name) AS i "
    "WHERE i.seqno = 0 AND i.name = ? COLLATE NOCASE) AS indexed",
    read=DIALECT,
)
_TABLES = sqlglot.parse_one("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name", read=DIALECT)


def is_system_table(table: str) -> bool:
    """SQLite keeps the names beginning with ``sqlite_`` (in any case) for itself.

    >>> is_system_table("SQLITE_MASTER"), is_system_table("sqlite_temp_schema"), is_system_table("trades")
    (True, True, False)
    """
    return table.lower().startswith("sqlite_")


@dataclass(frozen=True)
class SqliteSql:
    """The :class:`~piot.connectors.kind_sql.KindSql` of SQLite."""

    def columns_query(self, schema: str | None, table: str) -> CatalogQuery | None:
        """Columns of ``table`` from ``pragma_table_info``, the name bound as a parameter."""
        return CatalogQuery(_COLUMNS.order_by("cid").sql(dialect=DIALECT), (table,))

    def tables_query(self) -> CatalogQuery:
        """Tables and views (SQLite's own are left out by :meth:`system_object`)."""
        return CatalogQuery(_TABLES.sql(dialect=DIALECT))

    def column_type(self, declared: str) -> ColumnType:
        """Declared types, with numbers kept loosely as SQLite keeps them."""
        return declared_type(declared, text_dates=True)

    def system_object(self, schema: str | None, table: str) -> str | None:
        """The system table ``table`` is, if it is one."""
        return f"system table {table!r}" if is_system_table(table) else None

    def searched_schema(self, table: str) -> str | None:
        """None: SQLite's own tables are told by their names."""
        return None

    def connectorx_url(self, url: str) -> str:
        """``url`` as given."""
        return url

    def session_statements(self) -> tuple[str, ...]:
        """None: connectorx runs no statement before a SQLite query."""
        return ()

    def statistics_query(self, schema: str | None, table: str, column: str) -> CatalogQuery | None:
        """Whether an index leads with the column (SQLite keeps no row estimate without ``ANALYZE``), names bound as parameters.

        >>> SqliteSql().statistics_query(None, "t", "d").parameters
        ('t', 'd')
        """
        return CatalogQuery(_INDEXED.sql(dialect=DIALECT), (table, column))


SQL = SqliteSql()
