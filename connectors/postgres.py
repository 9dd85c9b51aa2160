"""PostgreSQL sources: their dialect, catalog statements, types and read-only sessions.

Names reach PostgreSQL as hex digits it decodes itself
(``convert_from(decode('...', 'hex'), 'UTF8')``), so neither quotes nor backslashes
(whatever ``standard_conforming_strings`` says) can end a literal. Every session connectorx
opens is read-only (``default_transaction_read_only``), so a write fails in the server even
if one ever got past piot's own checks, and reads string literals as the SQL standard does
(``standard_conforming_strings``), so the literals of fragment conditions mean what they say
whatever the server, database or role has set.

Example:
    >>> SQL.columns_query(None, "x' OR 1=1 --").sql.split("WHERE ")[1]
    "table_schema = CONVERT_FROM(DECODE('7075626c6963', 'hex'), 'UTF8') AND table_name = CONVERT_FROM(DECODE('7827204f5220313d31202d2d', 'hex'), 'UTF8') ORDER BY ordinal_position"
    >>> SQL.system_object("pg_catalog", "pg_authid"), SQL.system_object(None, "trades")
    ("system schema 'pg_catalog'", None)
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import sqlglot
from sqlglot import exp

from piot.connectors.kind_sql import CatalogQuery, bind_names, hex_of
from piot.connectors.types import ColumnType, declared_type

DIALECT = "postgres"
DEFAULT_SCHEMA = "public"

#: what every session runs with: no transaction may write, and a backslash in a string literal
#: is a plain character (the literals piot writes into fragments are written for that reading).
SESSION_OPTIONS = "-c default_transaction_read_only=on -c standard_conforming_strings=on"

_COLUMNS = sqlglot.parse_one(
    "SELECT column_name AS name, CASE WHEN numeric_precision IS NOT NULL AND data_type IN ('numeric', 'decimal') "
    "THEN data_type || '(' || numeric_precision || ',' || COALESCE(numeric_scale, 0) || ')' ELSE data_type END AS type "
    "FROM information_schema.columns ORDER BY ordinal_position",
    read=DIALECT,
)
_STATISTICS = sqlglot.parse_one(
    "SELECT CAST(c.reltuples AS DOUBLE PRECISION) AS row_count, "
    "EXISTS (SELECT 1 FROM pg_index AS i JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
    "WHERE i.indrelid = c.oid AND a.attname = :column_name) AS indexed, "
    "CAST(s.null_frac AS DOUBLE PRECISION) AS null_frac, CAST(s.histogram_bounds AS TEXT) AS histogram, "
    "CAST(s.most_common_vals AS TEXT) AS common_values, CAST(s.most_common_freqs AS TEXT) AS common_freqs "
    "FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
    "LEFT JOIN pg_stats AS s ON s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = :column_name "
    "WHERE n.nspname = :schema_name AND c.relname = :table_name ORDER BY s.inherited DESC NULLS LAST LIMIT 1",
    read=DIALECT,
)
_TABLES = sqlglot.parse_one(
    "SELECT table_schema AS s, table_name AS name FROM information_schema.tables "
    "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY table_schema, table_name",
    read=DIALECT,
)


def text_value(value: str) -> exp.Expression:
    """``value`` as an expression PostgreSQL decodes from hex, whatever its string settings.

    >>> text_value("a'b").sql("postgres")
    "CONVERT_FROM(DECODE('612762', 'hex'), 'UTF8')"
    """
    decoded = exp.Decode(this=exp.Literal.string(hex_of(value)), charset=exp.Literal.string("hex"))
    return exp.Anonymous(this="CONVERT_FROM", expressions=[decoded, exp.Literal.string("UTF8")])


def is_system_schema(schema: str) -> bool:
    """``information_schema`` and every ``pg_`` schema (``pg_catalog``, ``pg_toast``, ``pg_temp_3``).

    >>> is_system_schema("pg_toast"), is_system_schema("Information_Schema"), is_system_schema("sales")
    (True, True, False)
    """
    lowered = schema.lower()
    return lowered == "information_schema" or lowered.startswith("pg_")


@dataclass(frozen=True)
class PostgresSql:
    """The :class:`~piot.connectors.kind_sql.KindSql` of PostgreSQL."""

    def columns_query(self, schema: str | None, table: str) -> CatalogQuery | None:
        """Columns of ``schema.table`` (``public`` by default) from ``information_schema.columns``."""
        schema = schema or DEFAULT_SCHEMA
        if "\x00" in schema or "\x00" in table:  # PostgreSQL names never hold NUL
            return None
        condition = exp.and_(
            exp.column("table_schema").eq(text_value(schema)), exp.column("table_name").eq(text_value(table))
        )
        return CatalogQuery(_COLUMNS.where(condition, copy=True).sql(dialect=DIALECT))

    def tables_query(self) -> CatalogQuery:
        """Tables and views of every schema but the system ones."""
        return CatalogQuery(_TABLES.sql(dialect=DIALECT))

    def column_type(self, declared: str) -> ColumnType:
        """See :func:`~piot.connectors.types.declared_type`."""
        return declared_type(declared)

    def system_object(self, schema: str | None, table: str) -> str | None:
        """The system schema ``schema`` is, if it is one."""
        return f"system schema {schema!r}" if schema is not None and is_system_schema(schema) else None

    def searched_schema(self, table: str) -> str | None:
        """``pg_catalog``, which PostgreSQL searches before any schema, for a name beginning with ``pg_``.

        >>> PostgresSql().searched_schema("pg_authid"), PostgresSql().searched_schema("trades")
        ('pg_catalog', None)
        """
        return "pg_catalog" if table.lower().startswith("pg_") else None

    def connectorx_url(self, url: str) -> str:
        """``url`` with :data:`SESSION_OPTIONS` after the user's own options, so that they win.

        >>> PostgresSql().connectorx_url("postgresql://u@h/db?sslmode=disable")
        'postgresql://u@h/db?sslmode=disable&options=-c%20default_transaction_read_only%3Don%20-c%20standard_conforming_strings%3Don'
        """
        parts = urlsplit(url)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "options"]
        given = [v for k, v in parse_qsl(parts.query, keep_blank_values=True) if k == "options"]
        query.append(("options", " ".join([*given, SESSION_OPTIONS])))
        return parts._replace(query=urlencode(query, quote_via=quote)).geturl()

    def session_statements(self) -> tuple[str, ...]:
        """None: the URL's options make the session read-only."""
        return ()

    def statistics_query(self, schema: str | None, table: str, column: str) -> CatalogQuery | None:
        """The table's row estimate (``pg_class.reltuples``), whether an index leads with the column, and its ``pg_stats``.

        >>> "a.attname = CONVERT_FROM(DECODE('64', 'hex'), 'UTF8')" in PostgresSql().statistics_query(None, "t", "d").sql
        True
        """
        schema = schema or DEFAULT_SCHEMA
        if "\x00" in schema + table + column:
            return None
        values = {"schema_name": schema, "table_name": table, "column_name": column}
        return CatalogQuery(bind_names(_STATISTICS, {k: text_value(v) for k, v in values.items()}).sql(dialect=DIALECT))


SQL = PostgresSql()
