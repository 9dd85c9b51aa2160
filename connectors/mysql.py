"""MySQL and MariaDB sources: their dialect, catalog statements and types.

Names reach the server as hex literals with a character set introducer
(``_utf8mb4 x'...'``), which mean the same bytes whether ``NO_BACKSLASH_ESCAPES`` is on or
off: sqlglot's own string literals escape a backslash as ``\\\\``, which the server reads as
two backslashes when that mode is on. A source is the database of its URL; other
databases of the same server are not reachable through it, and its system databases
(``mysql``, ``information_schema``, ``performance_schema``, ``sys``) only where the catalog
allows them. Every session connectorx opens is made read-only first.

Example:
    >>> SQL.columns_query(None, "x\\\\' UNION SELECT SLEEP(3) -- ").sql.split("WHERE ")[1]
    "table_schema = DATABASE() AND table_name = _utf8mb4 x'785c2720554e494f4e2053454c45435420534c454550283329202d2d20' ORDER BY ordinal_position"
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from piot.connectors.kind_sql import CatalogQuery, bind_names, hex_of
from piot.connectors.types import ColumnType, declared_type

DIALECT = "mysql"

#: run on each session before the query: nothing it runs may write.
READ_ONLY_SESSION = "SET SESSION TRANSACTION READ ONLY"

#: the server's own databases, readable only with ``system_schemas = true``.
SYSTEM_SCHEMAS = frozenset({"mysql", "information_schema", "performance_schema", "sys"})

_COLUMNS = sqlglot.parse_one(
    "SELECT column_name AS name, column_type AS type FROM information_schema.columns ORDER BY ordinal_position",
    read=DIALECT,
)
_STATISTICS = sqlglot.parse_one(
    "SELECT CAST(t.table_rows AS BIGINT) AS row_count, EXISTS (SELECT 1 FROM information_schema.statistics AS s "
    "WHERE s.table_schema = t.table_schema AND s.table_name = t.table_name AND s.column_name = :column_name "
    "AND s.seq_in_index = 1) AS indexed FROM information_schema.tables AS t "
    "WHERE t.table_schema = :schema_name AND t.table_name = :table_name",
    read=DIALECT,
)
_TABLES = sqlglot.parse_one(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name",
    read=DIALECT,
)


def text_value(value: str) -> exp.Expression:
    """``value`` as a hex literal in utf8mb4, read alike in every SQL mode.

    >>> text_value("a\\\\b").sql("mysql")
    "_utf8mb4 x'615c62'"
    """
    return exp.Introducer(this="_utf8mb4", expression=exp.HexString(this=hex_of(value)))


def can_name(value: str) -> bool:
    """Whether a MySQL or MariaDB identifier can be ``value``: no NUL, nothing beyond the BMP, 64 characters at most.

    >>> can_name("tab\\nle"), can_name("a\\x00"), can_name("😀")
    (True, False, False)
    """
    return 0 < len(value) <= 64 and all(0 < ord(c) < 0x10000 for c in value)


@dataclass(frozen=True)
class MysqlSql:
    """The :class:`~piot.connectors.kind_sql.KindSql` of MySQL and MariaDB."""

    def columns_query(self, schema: str | None, table: str) -> CatalogQuery | None:
        """Columns of ``table`` in the URL's database (or in ``schema``, a system one) from ``information_schema``."""
        if not can_name(table) or (schema is not None and not can_name(schema)):
            return None
        where_schema = exp.func("DATABASE") if schema is None else text_value(schema)
        condition = exp.and_(exp.column("table_schema").eq(where_schema), exp.column("table_name").eq(text_value(table)))
        return CatalogQuery(_COLUMNS.where(condition, copy=True).sql(dialect=DIALECT))

    def tables_query(self) -> CatalogQuery:
        """Tables and views of the URL's database."""
        return CatalogQuery(_TABLES.sql(dialect=DIALECT))

    def column_type(self, declared: str) -> ColumnType:
        """See :func:`~piot.connectors.types.declared_type`; a TIMESTAMP is kept in UTC and shown in the session's zone: an instant."""
        return declared_type(declared, timestamp_instants=True)

    def system_object(self, schema: str | None, table: str) -> str | None:
        """The system database ``schema`` is, if it is one.

        >>> MysqlSql().system_object("MySQL", "user"), MysqlSql().system_object(None, "user")
        ("system schema 'MySQL'", None)
        """
        return f"system schema {schema!r}" if schema is not None and schema.lower() in SYSTEM_SCHEMAS else None

    def searched_schema(self, table: str) -> str | None:
        """None: an unqualified name is in the URL's database."""
        return None

    def connectorx_url(self, url: str) -> str:
        """``url`` as given."""
        return url

    def session_statements(self) -> tuple[str, ...]:
        """Make the session read-only: a write, a locking read or ``NEXTVAL`` fails in the server.

        (sqlglot writes ``SET TRANSACTION``, which lasts one transaction only; the text is fixed.)
        """
        return (READ_ONLY_SESSION,)

    def statistics_query(self, schema: str | None, table: str, column: str) -> CatalogQuery | None:
        """The table's row estimate (``TABLE_ROWS``, rough for InnoDB) and whether an index leads with the column.

        >>> MysqlSql().statistics_query(None, "t", "d").sql.endswith("t.table_schema = DATABASE() AND t.table_name = _utf8mb4 x'74'")
        True
        """
        if not can_name(table) or not can_name(column) or (schema is not None and not can_name(schema)):
            return None
        values = {
            "schema_name": exp.func("DATABASE") if schema is None else text_value(schema),
            "table_name": text_value(table),
            "column_name": text_value(column),
        }
        return CatalogQuery(bind_names(_STATISTICS, values).sql(dialect=DIALECT))


SQL = MysqlSql()
