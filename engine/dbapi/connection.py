"""The PEP 249 driver: ``piot.connect(...)`` returns a :class:`Connection`; cursors run queries.

Decisions (what PEP 249 leaves to the driver):

- ``threadsafety = 2``: threads may share the module and connections, not cursors. A
  connection keeps no per-query state (each cursor has its own), its table-schema cache is
  locked, and starting a local Ray is serialised here, so cursors of one connection can run
  queries in different threads at once. ``Cursor.cancel`` is the one cursor method meant
  to be called from another thread.
- Fetching from a closed cursor, or through a closed connection, raises ``InterfaceError``;
  fetching when no query has produced a result (before ``execute``, or after one failed)
  raises ``ProgrammingError``, as for any other misuse of a query.
- A parameter mapping raises ``InterfaceError`` (piot's paramstyle is ``qmark``), as does a
  parameter count that does not match the ``?`` placeholders.
- ``commit`` and ``rollback`` do nothing: piot only reads.
- Rows become Python tuples lazily, one batch at a time (:mod:`piot.dbapi.cursor`).
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from collections.abc import Mapping
from typing import Any

from piot import errors
from piot.connectors.catalog import Catalog
from piot.dbapi.cursor import FETCH_BATCH_ROWS, Cursor, QueryProgress, column_description, type_code  # noqa: F401 - re-exported
from piot.engine import Engine, EngineOptions
from piot.errors import (  # the PEP 249 exceptions are attributes of this module too
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    Warning,
)  # fmt: skip
from piot.plan.periods import MAX_PERIODS
from piot.run.spill import DEFAULT_MEMORY_BUDGET

__all__ = [
    # globals
    "apilevel", "threadsafety", "paramstyle", "connect",
    # exceptions
    "Warning", "Error", "InterfaceError", "DatabaseError", "DataError", "OperationalError",
    "IntegrityError", "InternalError", "ProgrammingError", "NotSupportedError",
    # objects
    "Connection", "Cursor", "QueryProgress",
    # types
    "Date", "Time", "Timestamp", "DateFromTicks", "TimeFromTicks", "TimestampFromTicks", "Binary",
    "STRING", "BINARY", "NUMBER", "DATETIME", "ROWID",
]  # fmt: skip

apilevel = "2.0"
threadsafety = 2  # see the module docstring
paramstyle = "qmark"


# -- types ------------------------------------------------------------------------------
class DBAPITypeObject:
    """A PEP 249 type object: equal to every type code of its group.

    >>> NUMBER == "decimal", "date" == DATETIME, STRING != "binary"
    (True, True, True)
    """

    def __init__(self, name: str, *codes: str) -> None:
        self.name = name
        self.codes = frozenset(codes)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DBAPITypeObject):
            return self.codes == other.codes
        if isinstance(other, str):
            return other in self.codes
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(self.codes)

    def __repr__(self) -> str:
        return f"piot.{self.name}"


STRING = DBAPITypeObject("STRING", "string")
BINARY = DBAPITypeObject("BINARY", "binary")
NUMBER = DBAPITypeObject("NUMBER", "integer", "float", "decimal", "boolean")
DATETIME = DBAPITypeObject("DATETIME", "date", "timestamp", "time", "duration")
ROWID = DBAPITypeObject("ROWID", "rowid")  # piot results have no row ids

Date = dt.date
Time = dt.time
Timestamp = dt.datetime
Binary = bytes


def DateFromTicks(ticks: float) -> dt.date:  # noqa: N802 - PEP 249 name
    """The local date of a POSIX timestamp."""
    return dt.date.fromtimestamp(ticks)


def TimeFromTicks(ticks: float) -> dt.time:  # noqa: N802 - PEP 249 name
    """The local time of day of a POSIX timestamp."""
    return dt.datetime.fromtimestamp(ticks).time()


def TimestampFromTicks(ticks: float) -> dt.datetime:  # noqa: N802 - PEP 249 name
    """The local date and time of a POSIX timestamp."""
    return dt.datetime.fromtimestamp(ticks)


# -- connection -------------------------------------------------------------------------
class Connection:
    """A connection to a catalog of sources. Read-only: ``commit`` and ``rollback`` do nothing.

    Used as a context manager it is closed on exit. Closing cancels the queries its cursors
    are running and makes every cursor unusable.
    """

    Warning = errors.Warning
    Error = errors.Error
    InterfaceError = errors.InterfaceError
    DatabaseError = errors.DatabaseError
    DataError = errors.DataError
    OperationalError = errors.OperationalError
    IntegrityError = errors.IntegrityError
    InternalError = errors.InternalError
    ProgrammingError = errors.ProgrammingError
    NotSupportedError = errors.NotSupportedError

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.closed = False
        self._cursors: weakref.WeakSet[Cursor] = weakref.WeakSet()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        state = "closed " if self.closed else ""
        return f"<piot.Connection {state}catalog={self.engine.catalog.origin!r} sources={sorted(self.engine.catalog.sources)}>"

    def _check_open(self) -> None:
        if self.closed:
            raise InterfaceError("the connection is closed: open a new one with piot.connect()")

    def cursor(self) -> Cursor:
        """A new cursor on this connection."""
        self._check_open()
        cursor = Cursor(self)
        with self._lock:
            self._cursors.add(cursor)
        return cursor

    def close(self) -> None:
        """Close the connection (again is harmless): cancel running queries, drop results."""
        self.closed = True
        with self._lock:
            cursors = list(self._cursors)
        for cursor in cursors:
            cursor.cancel()
            cursor._drop_result()

    def commit(self) -> None:
        """Nothing to commit: piot only reads."""
        self._check_open()

    def rollback(self) -> None:
        """Nothing to roll back: piot only reads."""
        self._check_open()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(
    catalog: str | Mapping[str, Any] | Catalog,
    *,
    ray_address: str | None = None,
    dialect: str = "postgres",
    time_unit: str | None = None,
    max_concurrency: int = 100,
    return_as: str = "arrow",
    remote_options: Mapping[str, Any] | None = None,
    split: bool = True,
    timezone: str = "UTC",
    max_fragments: int = MAX_PERIODS,
    query_timeout: float | None = None,
    memory_budget: int | None = DEFAULT_MEMORY_BUDGET,
) -> Connection:
    """Open a connection on a catalog (a TOML path or a dict).

    Args:
        catalog: the sources, as a TOML file path or the same structure as a dict.
        ray_address: a Ray cluster to use; default ``$RAY_ADDRESS`` or a local Ray
            started on the first query (an already initialised Ray is used as it is).
        dialect: the SQL dialect queries are written in.
        time_unit: split unit for tables without one in the catalog (daily, monthly,
            yearly, auto); None means auto.
        max_concurrency: most Ray tasks in flight at once.
        return_as: how tasks send rows back: arrow, ipc or parquet.
        remote_options: passed to each Ray task's ``.options(...)``.
        split: False reads each table in one fragment (useful to compare).
        timezone: the zone ``CURRENT_DATE`` and ``NOW()`` are read in, wall times without an
            offset meet TIMESTAMP WITH TIME ZONE values in, and the calendar periods of such
            columns are cut in: an IANA name (``Europe/Berlin``), ``UTC`` or an offset (``+05:30``).
        max_fragments: the most fragments one table reference is cut into; a range that
            would need more is closed to where the rows are, then split coarser.
        query_timeout: seconds a query may run, planning included; past it the query fails
            with OperationalError and its fragments stop (None or 0: no limit). A source's
            own ``query_timeout`` in the catalog bounds each of its reads too.
        memory_budget: bytes of raw rows the driver holds for one query (default 2 GiB);
            past it, arriving rows are written to a temporary folder and the merge streams
            them back (None: no limit).
    """
    options = EngineOptions(
        ray_address=ray_address,
        dialect=dialect,
        time_unit=time_unit,
        max_concurrency=max_concurrency,
        return_as=return_as,
        remote_options=dict(remote_options or {}),
        split=split,
        timezone=timezone,
        max_fragments=max_fragments,
        query_timeout=query_timeout,
        memory_budget=memory_budget,
    )
    return Connection(Engine(catalog, options))
