"""Find the columns and their types of a source table, and the tables a source has.

Reads only catalogs (``information_schema``, SQLite's ``PRAGMA table_info`` on a
read-only handle). Results are cached per connection by :class:`SchemaCache`.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass

from piot.connectors.catalog import Catalog, Source, TableSettings
from piot.connectors.read import read_arrow
from piot.connectors.types import ColumnType, declared_type
from piot.errors import OperationalError, ProgrammingError


@dataclass(frozen=True)
class Column:
    """One column of a source table."""

    name: str
    type: ColumnType


@dataclass(frozen=True)
class TableInfo:
    """A source table as the planner sees it.

    Attributes:
        source: the catalog source it lives in.
        schema: the schema inside the source, None where the source has none.
        name: the table name inside the source.
        columns: the columns in their declared order.
        settings: date column and time unit from the catalog.
    """

    source: Source
    schema: str | None
    name: str
    columns: tuple[Column, ...]
    settings: TableSettings

    @property
    def qualified_name(self) -> str:
        """``source.schema.table`` or ``source.table``, as a user writes it."""
        return ".".join(p for p in (self.source.name, self.schema, self.name) if p)

    def column(self, name: str) -> Column | None:
        """The column called ``name`` (case-insensitive), or None."""
        lowered = name.lower()
        return next((c for c in self.columns if c.name.lower() == lowered), None)


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def read_columns(source: Source, schema: str | None, table: str) -> tuple[Column, ...]:
    """Ask ``source`` for the columns of ``schema.table``; empty if it has no such table."""
    kind = source.kind
    if kind.name == "sqlite":
        rows = _sqlite_rows(source, f"SELECT name, type FROM pragma_table_info({_sql_string(table)}) ORDER BY cid")
        return tuple(Column(name, declared_type(type_text or "", text_dates=True)) for name, type_text in rows)
    if kind.name == "mysql":
        schema_filter = f"table_schema = {_sql_string(schema)}" if schema else "table_schema = DATABASE()"
        sql = (
            "SELECT column_name AS name, column_type AS type FROM information_schema.columns "
            f"WHERE {schema_filter} AND table_name = {_sql_string(table)} ORDER BY ordinal_position"
        )
    else:
        schema_name = schema or kind.default_schema or ""
        sql = (
            "SELECT column_name AS name, CASE WHEN numeric_precision IS NOT NULL AND data_type IN ('numeric', 'decimal') "
            "THEN data_type || '(' || numeric_precision || ',' || coalesce(numeric_scale, 0) || ')' ELSE data_type END AS type "
            f"FROM information_schema.columns WHERE table_schema = {_sql_string(schema_name)} "
            f"AND table_name = {_sql_string(table)} ORDER BY ordinal_position"
        )
    data = read_arrow(source, sql).to_pydict()
    names = data.get("name") or data.get("NAME") or []
    types = data.get("type") or data.get("TYPE") or []
    return tuple(Column(str(n), declared_type(str(t))) for n, t in zip(names, types))


def list_tables(source: Source) -> list[tuple[str | None, str]]:
    """Every (schema, table) of ``source`` that a query can name."""
    kind = source.kind
    if kind.name == "sqlite":
        rows = _sqlite_rows(source, "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name")
        return [(None, name) for (name,) in rows]
    if kind.name == "mysql":
        sql = "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name"
        return [(None, str(n)) for n in read_arrow(source, sql).column(0).to_pylist()]
    sql = (
        "SELECT table_schema AS s, table_name AS name FROM information_schema.tables "
        "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY table_schema, table_name"
    )
    data = read_arrow(source, sql).to_pydict()
    return list(zip(data["s"], data["name"]))


def _sqlite_rows(source: Source, sql: str) -> list[tuple[object, ...]]:
    path = source.url.split("://", 1)[1]
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as handle:
            return handle.execute(sql).fetchall()
    except sqlite3.Error as e:
        raise OperationalError(f"source {source.name!r}: {e}", source=source.name) from None


class SchemaCache:
    """Table metadata per connection: each table is asked for once, on first use."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._tables: dict[tuple[str, str | None, str], TableInfo] = {}
        self._lock = threading.Lock()

    def table(self, source_name: str, schema: str | None, table: str) -> TableInfo:
        """The :class:`TableInfo` of ``source.schema.table``; ProgrammingError if it does not exist."""
        key = (source_name, schema, table)
        with self._lock:
            cached = self._tables.get(key)
        if cached is not None:
            return cached
        source = self.catalog.source(source_name)
        if schema is not None and not source.kind.has_schemas and source.kind.name != "mysql":
            raise ProgrammingError(f"source {source_name!r} ({source.kind.name}) has no schemas: write {source_name}.{table}")
        columns = read_columns(source, schema, table)
        if not columns:
            shown = ".".join(p for p in (source_name, schema, table) if p)
            raise ProgrammingError(f"table {shown!r} does not exist in source {source_name!r}")
        info = TableInfo(source, schema, table, columns, source.settings_for(schema, table))
        with self._lock:
            self._tables[key] = info
        return info
