"""The kinds of database piot reads, keyed by URL scheme.

Adding a connectorx source is one module (its dialect, catalog statements built from
sqlglot ASTs, type mapping: see :mod:`piot.connectors.kind_sql`) and one entry in
:data:`SOURCE_KINDS`: the URL schemes it answers to and the scheme connectorx wants.
PostgreSQL, MySQL/MariaDB and SQLite are the kinds piot reads and tests.

Example:
    >>> kind_for_url("postgresql://u@h/db").dialect
    'postgres'
    >>> kind_for_url("mariadb://root@127.0.0.1/test").connectorx_scheme
    'mysql'
"""

from __future__ import annotations

from dataclasses import dataclass

from piot.connectors import mysql, postgres, sqlite
from piot.connectors.kind_sql import KindSql
from piot.errors import ProgrammingError


@dataclass(frozen=True)
class SourceKind:
    """What piot needs to know about one kind of database.

    Attributes:
        name: a short name shown to users (``postgres``, ``mysql``, ``sqlite``).
        schemes: URL schemes that select this kind.
        dialect: the sqlglot dialect fragment SQL is written in.
        connectorx_scheme: the scheme connectorx expects in the URL it is given.
        has_schemas: whether ``source.schema.table`` names are meaningful.
        sql: the kind's catalog statements, type mapping and system names.
        catalog_driver: what runs :attr:`sql`'s statements: ``connectorx``, or ``sqlite3`` (with bound parameters).
        default_schema: the schema a bare ``source.table`` lives in, if the kind has one.
        text_dates: dates and timestamps are stored as ISO text and compared as text.
        pads_char: CHAR(n) values come back padded with blanks to n (they are read right-trimmed,
            so that they compare in the merge as they do in the source and as other sources return them).
    """

    name: str
    schemes: tuple[str, ...]
    dialect: str
    connectorx_scheme: str
    has_schemas: bool
    sql: KindSql
    catalog_driver: str = "connectorx"
    default_schema: str | None = None
    text_dates: bool = False
    pads_char: bool = False


SOURCE_KINDS: tuple[SourceKind, ...] = (
    SourceKind(
        "postgres", ("postgresql", "postgres"), postgres.DIALECT, "postgresql", True, postgres.SQL,
        default_schema=postgres.DEFAULT_SCHEMA, pads_char=True,
    ),
    SourceKind("mysql", ("mysql", "mariadb"), mysql.DIALECT, "mysql", False, mysql.SQL),
    SourceKind("sqlite", ("sqlite",), sqlite.DIALECT, "sqlite", False, sqlite.SQL, catalog_driver="sqlite3", text_dates=True),
)


def kind_for_url(url: str) -> SourceKind:
    """Find the :class:`SourceKind` for a connection URL by its scheme."""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    for kind in SOURCE_KINDS:
        if scheme in kind.schemes:
            return kind
    known = ", ".join(s for k in SOURCE_KINDS for s in k.schemes)
    raise ProgrammingError(f"unsupported URL scheme {scheme!r}: use one of {known}")
