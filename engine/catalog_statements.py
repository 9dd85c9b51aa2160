"""``SHOW SOURCES``, ``SHOW TABLES [FROM source]`` and ``DESCRIBE source.table`` as statements.

They answer from the catalog and the sources' own metadata, so every front-end (the
DB-API, SQLAlchemy, the prompt) has them. Passwords never appear: URLs are shown redacted.

Example:
    >>> parse_catalog_statement("show tables from markets;")
    CatalogStatement(kind='tables', argument='markets')
    >>> parse_catalog_statement("select 1") is None
    True
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from piot.connectors.catalog import Catalog
from piot.connectors.introspect import SchemaCache, TableInfo, list_tables
from piot.errors import ProgrammingError

_SHOW_SOURCES = re.compile(r"^\s*show\s+sources\s*;?\s*$", re.IGNORECASE)
_SHOW_TABLES = re.compile(r"^\s*show\s+tables(?:\s+(?:from|in)\s+(?P<source>[A-Za-z_][A-Za-z0-9_]*))?\s*;?\s*$", re.IGNORECASE)
_DESCRIBE = re.compile(r"^\s*(?:describe|desc)\s+(?P<table>[^\s;]+)\s*;?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class CatalogStatement:
    """One of the catalog statements: ``sources``, ``tables`` (argument: a source or None) or ``describe``."""

    kind: str
    argument: str | None = None


def parse_catalog_statement(sql: str) -> CatalogStatement | None:
    """The catalog statement ``sql`` is, or None for anything else (which goes to the planner)."""
    if _SHOW_SOURCES.match(sql):
        return CatalogStatement("sources")
    if match := _SHOW_TABLES.match(sql):
        return CatalogStatement("tables", match["source"])
    if match := _DESCRIBE.match(sql):
        return CatalogStatement("describe", match["table"])
    return None


def parse_table_name(text: str) -> tuple[str, str | None, str]:
    """``source.table`` or ``source.schema.table`` into its parts (quotes removed).

    >>> parse_table_name("markets.trades"), parse_table_name('pg.public."Orders"')
    (('markets', None, 'trades'), ('pg', 'public', 'Orders'))
    """
    parts = [p.strip().strip('"') for p in text.split(".")]
    if len(parts) == 2:
        return parts[0], None, parts[1]
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    raise ProgrammingError(f"name a table as source.table or source.schema.table, not {text!r}")


def written_name(schema: str | None, table: str, default_schema: str | None) -> str:
    """A table as written after its source: the default schema is left out.

    >>> written_name("public", "trades", "public"), written_name("sales", "orders", "public"), written_name(None, "t", None)
    ('trades', 'sales.orders', 't')
    """
    return table if schema is None or schema == default_schema else f"{schema}.{table}"


def sources_frame(catalog: Catalog) -> pl.DataFrame:
    """One row per source: its name, kind and URL without password."""
    sources = list(catalog.sources.values())
    return pl.DataFrame(
        {"source": [s.name for s in sources], "kind": [s.kind.name for s in sources], "url": [s.display_url for s in sources]},
        schema={"source": pl.String, "kind": pl.String, "url": pl.String},
    )


def tables_frame(catalog: Catalog, source_name: str | None = None) -> pl.DataFrame:
    """One row per table of one source (or of every source), with its split settings."""
    sources = [catalog.source(source_name)] if source_name else list(catalog.sources.values())
    rows = []
    for source in sources:
        for schema, table in list_tables(source):
            settings = source.settings_for(schema, table)
            name = f"{source.name}.{written_name(schema, table, source.kind.default_schema)}"
            rows.append((name, settings.date_column, settings.time_unit))
    return pl.DataFrame(rows, schema={"table": pl.String, "date_column": pl.String, "time_unit": pl.String}, orient="row")


def describe_frame(info: TableInfo) -> pl.DataFrame:
    """One row per column: its declared type, the type piot answers with, and whether the table splits on it."""
    date_column = (info.settings.date_column or "").lower()
    rows = [
        (c.name, c.type.declared or "(none)", c.type.sql, "date column" if c.name.lower() == date_column else None)
        for c in info.columns
    ]
    schema = {"column": pl.String, "type": pl.String, "piot type": pl.String, "split": pl.String}
    return pl.DataFrame(rows, schema=schema, orient="row")


def answer(statement: CatalogStatement, catalog: Catalog, schemas: SchemaCache) -> pl.DataFrame:
    """The rows of a catalog statement."""
    if statement.kind == "sources":
        return sources_frame(catalog)
    if statement.kind == "tables":
        return tables_frame(catalog, statement.argument)
    return describe_frame(schemas.table(*parse_table_name(statement.argument or "")))
