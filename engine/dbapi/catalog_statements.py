"""``SHOW SOURCES``, ``SHOW TABLES [FROM source]`` and ``DESCRIBE source.table`` as statements.

They answer from the catalog and the sources' own metadata, so every front-end (the
DB-API, SQLAlchemy, the prompt) has them. Passwords never appear: URLs are shown redacted.
A source that cannot list its tables is reported in one line, and the others still answer.

Example:
    >>> parse_catalog_statement("show tables from markets;")
    CatalogStatement(kind='tables', argument='markets')
    >>> parse_catalog_statement("select 1") is None
    True
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import polars as pl
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from piot.connectors.catalog import Catalog, Source
from piot.connectors.introspect import SchemaCache, TableInfo, list_tables
from piot.errors import Error, ProgrammingError, Warning

_SHOW_SOURCES = re.compile(r"^\s*show\s+sources\s*;?\s*$", re.IGNORECASE)
_SHOW_TABLES = re.compile(r"^\s*show\s+tables(?:\s+(?:from|in)\s+(?P<source>[A-Za-z_][A-Za-z0-9_]*))?\s*;?\s*$", re.IGNORECASE)
_DESCRIBE = re.compile(r"^\s*(?:describe|desc)\s+(?P<table>\S.*?)\s*;?\s*$", re.IGNORECASE | re.DOTALL)

#: sources listed at once by ``SHOW TABLES`` (each may wait for its connect timeout).
LISTING_THREADS = 8
TABLES_SCHEMA = {"table": pl.String, "date_column": pl.String, "time_unit": pl.String}


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


def parse_table_name(text: str, dialect: str = "postgres") -> tuple[str, str | None, str]:
    """``source.table`` or ``source.schema.table`` into its parts, read as SQL names (quotes removed).

    >>> parse_table_name("markets.trades"), parse_table_name('pg.public."Or.ders"')
    (('markets', None, 'trades'), ('pg', 'public', 'Or.ders'))
    """
    try:
        table = sqlglot.parse_one(text, into=exp.Table, read=dialect)
    except SqlglotError:
        table = None
    if table is None or not isinstance(table.this, exp.Identifier) or not table.db or table.alias:
        raise ProgrammingError(f"name a table as source.table or source.schema.table, not {text!r}")
    if table.catalog:
        return table.catalog, table.db, table.name
    return table.db, None, table.name


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


@dataclass(frozen=True)
class TablesListing:
    """The answer to ``SHOW TABLES``.

    Attributes:
        frame: one row per table of the sources that answered, with its split settings.
        failures: one line per source that could not list its tables, naming it.
    """

    frame: pl.DataFrame
    failures: tuple[str, ...] = ()


def tables_listing(catalog: Catalog, source_name: str | None = None) -> TablesListing:
    """The tables of one source (or of every source, asked at once); a failing source is reported, not raised."""
    sources = [catalog.source(source_name)] if source_name else list(catalog.sources.values())
    with ThreadPoolExecutor(max_workers=max(1, min(LISTING_THREADS, len(sources)))) as pool:
        answers = list(pool.map(_source_tables, sources))
    rows = [row for listed in answers if isinstance(listed, list) for row in listed]
    failures = tuple(listed for listed in answers if isinstance(listed, str))
    return TablesListing(pl.DataFrame(rows, schema=TABLES_SCHEMA, orient="row"), failures)


def _source_tables(source: Source) -> list[tuple[str, str | None, str | None]] | str:
    """A source's rows for ``SHOW TABLES``, or the one line saying why it has none."""
    try:
        pairs = list_tables(source)
    except Error as e:
        return _one_line(source, e)
    rows = []
    for schema, table in pairs:
        settings = source.settings_for(schema, table)
        rows.append((f"{source.name}.{written_name(schema, table, source.kind.default_schema)}", settings.date_column, settings.time_unit))
    return rows


def _one_line(source: Source, error: Error) -> str:
    text = " ".join(str(error).split())
    prefix = f"source {source.name!r}"
    return text if text.startswith(prefix) else f"{prefix}: {text}"


def describe_frame(info: TableInfo) -> pl.DataFrame:
    """One row per column: its declared type, the type piot answers with, and whether the table splits on it."""
    date_column = (info.settings.date_column or "").lower()
    rows = [
        (c.name, c.type.declared or "(none)", c.type.sql, "date column" if c.name.lower() == date_column else None)
        for c in info.columns
    ]
    schema = {"column": pl.String, "type": pl.String, "piot type": pl.String, "split": pl.String}
    return pl.DataFrame(rows, schema=schema, orient="row")


@dataclass(frozen=True)
class CatalogAnswer:
    """The rows of a catalog statement, and warnings about sources that could not answer."""

    frame: pl.DataFrame
    warnings: tuple[Warning, ...] = ()


def answer(statement: CatalogStatement, catalog: Catalog, schemas: SchemaCache, dialect: str = "postgres") -> CatalogAnswer:
    """The answer to a catalog statement."""
    if statement.kind == "sources":
        return CatalogAnswer(sources_frame(catalog))
    if statement.kind == "tables":
        listing = tables_listing(catalog, statement.argument)
        return CatalogAnswer(listing.frame, tuple(Warning(line) for line in listing.failures))
    return CatalogAnswer(describe_frame(schemas.table(*parse_table_name(statement.argument or "", dialect))))
