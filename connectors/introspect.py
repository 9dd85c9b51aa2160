"""Find the columns and their types of a source table, and the tables a source has.

Reads only catalogs, with the statements each kind of source builds for itself
(:mod:`piot.connectors.kind_sql`): a name the user typed reaches a source only as data.
System schemas and tables are refused before any source is contacted, unless the catalog
allows them for that source. Results are cached per connection by :class:`SchemaCache`.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from dataclasses import dataclass
from urllib.parse import quote

from sqlglot import exp

from piot.connectors.catalog import Catalog, Source, TableSettings
from piot.connectors.kind_sql import CatalogQuery
from piot.connectors.limits import current_control
from piot.connectors.read import read_arrow
from piot.connectors.types import ColumnType
from piot.errors import NotSupportedError, OperationalError, ProgrammingError


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


def read_columns(source: Source, schema: str | None, table: str) -> tuple[Column, ...]:
    """Ask ``source`` for the columns of ``schema.table``; empty if it has no such table."""
    query = source.kind.sql.columns_query(schema, table)
    if query is None:  # a name this kind of source cannot hold
        return ()
    return tuple(Column(str(name), source.kind.sql.column_type(str(declared or ""))) for name, declared, *_ in _rows(source, query))


def list_tables(source: Source) -> list[tuple[str | None, str]]:
    """Every (schema, table) of ``source`` that a query can name (system schemas and tables left out)."""
    rows = _rows(source, source.kind.sql.tables_query())
    pairs = [(None, str(row[0])) if len(row) == 1 else (str(row[0]), str(row[1])) for row in rows]
    return [(schema, table) for schema, table in pairs if source.kind.sql.system_object(schema, table) is None]


def check_table_name(source: Source, schema: str | None, table: str) -> None:
    """Refuse a name ``source`` cannot answer for, without contacting it.

    Raises:
        ProgrammingError: a schema on a source without schemas (a MariaDB source is the
            database of its URL: ``my.otherdb.t`` is refused).
        NotSupportedError: a system schema or table, unless the catalog allows them for ``source``.
    """
    shown = ".".join(p for p in (source.name, schema, table) if p)
    system = source.kind.sql.system_object(schema, table)
    if system is not None and not source.system_schemas:
        raise NotSupportedError(
            f"{shown!r} is in the {system} of source {source.name!r}, which queries may not read "
            f"(set system_schemas = true for source {source.name!r} in the catalog to allow it)"
        )
    if schema is not None and not source.kind.has_schemas and system is None:
        raise ProgrammingError(
            f"source {source.name!r} ({source.kind.name}) has no schemas: it reads the database of its URL only; "
            f"write {source.name}.{table} (for another database, add a source for it to the catalog)"
        )


def check_source_sql(source: Source, query: exp.Expression) -> None:
    """Refuse system schemas and tables named in SQL written for ``source`` itself (``scan_db``), contacting nothing.

    An unqualified name counts as the system schema the source would search for it first
    (PostgreSQL finds ``pg_authid`` in ``pg_catalog``); CTE names are the query's own.

    >>> import sqlglot
    >>> from piot.connectors.catalog import load_catalog
    >>> pg = load_catalog({"sources": {"pg": {"url": "postgresql://u@h/db"}}}).source("pg")
    >>> check_source_sql(pg, sqlglot.parse_one("WITH pg_x AS (SELECT 1) SELECT * FROM trades, pg_x", read="postgres"))
    >>> check_source_sql(pg, sqlglot.parse_one("SELECT * FROM pg_authid", read="postgres"))
    Traceback (most recent call last):
    ...
    piot.errors.NotSupportedError: 'pg_authid' is in the system schema 'pg_catalog' of source 'pg', which queries may not read (set system_schemas = true for source 'pg' in the catalog to allow it)
    """
    if source.system_schemas:
        return
    ctes = {cte.alias_or_name.lower() for cte in query.find_all(exp.CTE)}
    for table in query.find_all(exp.Table):
        if not table.name or isinstance(table.this, exp.Func) or (not table.db and table.name.lower() in ctes):
            continue
        schema = table.db or source.kind.sql.searched_schema(table.name)
        system = source.kind.sql.system_object(schema, table.name)
        if system is not None:
            shown = ".".join(p for p in (table.db, table.name) if p)
            raise NotSupportedError(
                f"{shown!r} is in the {system} of source {source.name!r}, which queries may not read "
                f"(set system_schemas = true for source {source.name!r} in the catalog to allow it)"
            )


def _rows(source: Source, query: CatalogQuery) -> list[tuple[object, ...]]:
    return catalog_rows(source, query)[1]


def catalog_rows(source: Source, query: CatalogQuery) -> tuple[list[str], list[tuple[object, ...]]]:
    """The column names and rows of a catalog (or statistics) statement, read the way the source's kind reads its catalog.

    Honours the current query's :class:`~piot.connectors.limits.ReadControl` (its deadline and cancel check).
    """
    if source.kind.catalog_driver == "sqlite3":
        return _sqlite_rows(source, query)
    table = read_arrow(source, query.sql)
    return list(table.column_names), list(zip(*(column.to_pylist() for column in table.columns)))


#: SQLite virtual machine steps between two looks at the deadline and cancel check.
_SQLITE_STEPS = 10_000


def _sqlite_rows(source: Source, query: CatalogQuery) -> tuple[list[str], list[tuple[object, ...]]]:
    path = source.url.split("://", 1)[1]
    control = current_control()
    failure: str | None = None

    def stop() -> int:  # a non-zero answer interrupts the statement
        remaining = control.remaining()
        return int(control.cancelled() or (remaining is not None and remaining <= 0))

    try:
        with contextlib.closing(sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True)) as handle:
            handle.set_progress_handler(stop, _SQLITE_STEPS)
            cursor = handle.execute(query.sql, query.parameters)
            rows = cursor.fetchall()
            return [d[0] for d in cursor.description or ()], rows
    except sqlite3.Error as e:
        if control.cancelled():
            failure = "query cancelled"
        elif stop():
            failure = "the read ran past its deadline" if control.query_timeout is None else f"query timeout of {control.query_timeout:g} s exceeded"
        else:
            failure = source.redact(str(e))
    # raised after the except block, so that it chains nothing (as connectorx reads do)
    raise OperationalError(f"source {source.name!r}: {failure}", source=source.name)


class SchemaCache:
    """Table metadata per connection: each table is asked for once, on first use."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._tables: dict[tuple[str, str | None, str], TableInfo] = {}
        self._lock = threading.Lock()

    def __call__(self, source_name: str, schema: str | None, table: str) -> TableInfo:
        """:meth:`table`: a cache is the planner's lookup."""
        return self.table(source_name, schema, table)

    def check_name(self, source_name: str, schema: str | None, table: str) -> None:
        """Refuse an unknown source, a misplaced schema or a system schema, contacting no source."""
        check_table_name(self.catalog.source(source_name), schema, table)

    def table(self, source_name: str, schema: str | None, table: str) -> TableInfo:
        """The :class:`TableInfo` of ``source.schema.table``; ProgrammingError if it does not exist."""
        key = (source_name, schema, table)
        with self._lock:
            cached = self._tables.get(key)
        if cached is not None:
            return cached
        source = self.catalog.source(source_name)
        check_table_name(source, schema, table)
        columns = read_columns(source, schema, table)
        if not columns:
            shown = ".".join(p for p in (source_name, schema, table) if p)
            raise ProgrammingError(f"table {shown!r} does not exist in source {source_name!r}")
        info = TableInfo(source, schema, table, columns, source.settings_for(schema, table))
        with self._lock:
            self._tables[key] = info
        return info
