"""The SQLAlchemy dialect: ``create_engine("piot:///catalog.toml")``.

The engine talks to piot through its PEP 249 driver (:func:`piot.connect`). Schemas
are the catalog's sources (``markets``) and, for sources with schemas of their own,
``source.schema`` (``pg.public``); tables and columns are reflected from the catalog
the way piot itself reads them. piot only reads: commit and rollback do nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from sqlalchemy import exc
from sqlalchemy.engine import URL, Connection, default, reflection
from sqlalchemy.engine.interfaces import (
    DBAPIConnection,
    ReflectedCheckConstraint,
    ReflectedColumn,
    ReflectedForeignKeyConstraint,
    ReflectedIndex,
    ReflectedPrimaryKeyConstraint,
    ReflectedTableComment,
    ReflectedUniqueConstraint,
)

from piot.connectors.catalog import Source
from piot.connectors.introspect import TableInfo, list_tables
from piot.engine import Engine
from piot.errors import Error, InterfaceError, NotSupportedError, ProgrammingError
from piot.plan.tables import frame_columns
from piot.sqlalchemy.compiler import PiotCompiler, PiotIdentifierPreparer
from piot.sqlalchemy.types import COLSPECS, PiotTypeCompiler, sqlalchemy_type
from piot.sqlalchemy.url import connect_arguments


class PiotDialect(default.DefaultDialect):
    """SQLAlchemy 2.x dialect for piot (``piot://`` URLs).

    ``supports_statement_cache`` is True: the compiler writes every value as a ``?``
    parameter and nothing it writes depends on a value or on the connection, so a
    statement compiled once is reused for all its executions.
    """

    name = "piot"
    driver = "piot"
    default_paramstyle = "qmark"
    supports_statement_cache = True

    statement_compiler = PiotCompiler
    type_compiler_cls = PiotTypeCompiler
    preparer = PiotIdentifierPreparer
    colspecs = COLSPECS

    max_identifier_length = 63
    supports_native_boolean = True
    supports_native_decimal = True
    returns_native_bytes = True
    div_is_floordiv = True  # integer / integer truncates, as in PostgreSQL

    supports_schemas = True
    supports_views = True
    supports_comments = False
    supports_alter = False
    supports_sequences = False
    supports_server_side_cursors = False
    supports_sane_rowcount = False
    supports_sane_multi_rowcount = False
    supports_default_values = False
    supports_empty_insert = False
    supports_multivalues_insert = False
    postfetch_lastrowid = False
    use_insertmanyvalues = False

    @classmethod
    def import_dbapi(cls) -> ModuleType:
        """The PEP 249 module: ``piot`` itself."""
        import piot

        return piot

    def create_connect_args(self, url: URL) -> tuple[Sequence[Any], dict[str, Any]]:
        """``piot.connect`` keyword arguments from the URL (see :mod:`piot.sqlalchemy.url`)."""
        return [], connect_arguments(url)

    def connect(self, *cargs: Any, **cparams: Any) -> DBAPIConnection:
        """Open a piot connection; the catalog comes from the URL or ``connect_args``."""
        if not cargs and "catalog" not in cparams:
            raise InterfaceError(
                "no catalog: write piot:///path/to/catalog.toml, piot://?catalog=PATH, "
                "or pass connect_args={'catalog': ...}"
            )
        return super().connect(*cargs, **cparams)

    # -- transactions and liveness: piot only reads ---------------------------------------
    def do_begin(self, dbapi_connection: DBAPIConnection) -> None:
        """Nothing to begin."""

    def do_commit(self, dbapi_connection: DBAPIConnection) -> None:
        """Nothing to commit."""

    def do_rollback(self, dbapi_connection: DBAPIConnection) -> None:
        """Nothing to roll back."""

    def do_ping(self, dbapi_connection: DBAPIConnection) -> bool:
        """True while the piot connection is open (sources are contacted per query, not held)."""
        dbapi_connection.cursor().close()
        return True

    def is_disconnect(self, e: Exception, connection: Any, cursor: Any) -> bool:
        """A closed piot connection is a lost connection: the pool opens a new one."""
        return isinstance(e, InterfaceError) and "closed" in str(e)

    def _get_server_version_info(self, connection: Connection) -> tuple[int, ...]:
        import piot

        return tuple(int(part) for part in re.findall(r"\d+", piot.__version__)[:3])

    def _get_default_schema_name(self, connection: Connection) -> str | None:
        # piot has no default source: every table is named with its source.
        return None

    # -- reflection -----------------------------------------------------------------------
    @staticmethod
    def _piot_engine(connection: Connection) -> Engine:
        engine = getattr(connection.connection.dbapi_connection, "engine", None)
        if not isinstance(engine, Engine):
            raise exc.InvalidRequestError("reflection needs a piot connection")
        return engine

    def _source(self, connection: Connection, schema: str) -> tuple[Source, str | None]:
        """The catalog source a SQLAlchemy schema names, and the schema inside it (if given)."""
        source_name, _, inner = schema.partition(".")
        return self._piot_engine(connection).catalog.source(source_name), inner or None

    def _table(self, connection: Connection, table_name: str, schema: str | None) -> TableInfo:
        if not schema:
            raise exc.NoSuchTableError(f"{table_name} (a piot table is named with its source: pass schema='source')")
        source_name, _, inner = schema.partition(".")
        try:
            return self._piot_engine(connection).schemas.table(source_name, inner or None, table_name)
        except (ProgrammingError, NotSupportedError):  # unknown, or a system schema the catalog keeps closed
            raise exc.NoSuchTableError(f"{schema}.{table_name}") from None

    @reflection.cache
    def get_schema_names(self, connection: Connection, **kw: Any) -> list[str]:
        """Every source, then ``source.schema`` for each schema of sources that have schemas.

        A source that cannot list its tables is still named; its inner schemas are left out.
        """
        names: list[str] = []
        for name, source in sorted(self._piot_engine(connection).catalog.sources.items()):
            names.append(name)
            if source.kind.has_schemas:
                try:
                    inner = sorted({schema for schema, _ in list_tables(source) if schema})
                except Error:
                    continue
                names.extend(f"{name}.{schema}" for schema in inner)
        return names

    def has_schema(self, connection: Connection, schema_name: str, **kw: Any) -> bool:
        """True for a source of the catalog, and for ``source.schema`` where that schema has tables."""
        if "." not in schema_name:
            return schema_name in self._piot_engine(connection).catalog.sources
        return schema_name in self.get_schema_names(connection, **kw)

    @reflection.cache
    def get_table_names(self, connection: Connection, schema: str | None = None, **kw: Any) -> list[str]:
        """Tables (and views) of a source; ``source`` alone means its default schema."""
        if not schema:
            return []
        source, inner = self._source(connection, schema)
        wanted = inner if inner is not None else source.kind.default_schema
        return [table for table_schema, table in list_tables(source) if table_schema == wanted]

    def get_view_names(self, connection: Connection, schema: str | None = None, **kw: Any) -> list[str]:
        """Views are listed with the tables, so none here."""
        return []

    def has_table(self, connection: Connection, table_name: str, schema: str | None = None, **kw: Any) -> bool:
        """Whether piot can read ``schema.table_name``."""
        self._ensure_has_table_connection(connection)
        try:
            self._table(connection, table_name, schema)
        except exc.NoSuchTableError:
            return False
        return True

    @reflection.cache
    def get_columns(
        self, connection: Connection, table_name: str, schema: str | None = None, **kw: Any
    ) -> list[ReflectedColumn]:
        """Columns as piot reads them: names as queries reach them (see ``frame_column_name``), the types of piot's answers, all nullable."""
        info = self._table(connection, table_name, schema)
        return [
            ReflectedColumn(
                name=name,
                type=sqlalchemy_type(column.type),
                nullable=True,
                default=None,
                autoincrement=False,
                comment=None,
            )
            for name, column in frame_columns(info).items()
        ]

    def get_pk_constraint(
        self, connection: Connection, table_name: str, schema: str | None = None, **kw: Any
    ) -> ReflectedPrimaryKeyConstraint:
        """piot does not report keys."""
        return ReflectedPrimaryKeyConstraint(constrained_columns=[], name=None)

    def get_foreign_keys(
        self, connection: Connection, table_name: str, schema: str | None = None, **kw: Any
    ) -> list[ReflectedForeignKeyConstraint]:
        """piot does not report keys."""
        return []

    def get_indexes(
        self, connection: Connection, table_name: str, schema: str | None = None, **kw: Any
    ) -> list[ReflectedIndex]:
        """piot does not report indexes."""
        return []

    def get_unique_constraints(
        self, connection: Connection, table_name: str, schema: str | None = None, **kw: Any
    ) -> list[ReflectedUniqueConstraint]:
        """piot does not report constraints."""
        return []

    def get_check_constraints(
        self, connection: Connection, table_name: str, schema: str | None = None, **kw: Any
    ) -> list[ReflectedCheckConstraint]:
        """piot does not report constraints."""
        return []

    def get_table_comment(
        self, connection: Connection, table_name: str, schema: str | None = None, **kw: Any
    ) -> ReflectedTableComment:
        """piot does not report comments."""
        return ReflectedTableComment(text=None)
