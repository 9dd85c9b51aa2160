"""The PEP 249 driver: ``piot.connect(...)`` returns a :class:`Connection`; cursors run queries.

Rows are turned into Python objects lazily, one Arrow batch at a time, as they are fetched.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import polars as pl
import pyarrow as pa

from piot import errors
from piot.connectors.catalog import Catalog
from piot.engine import Engine, EngineOptions
from piot.errors import InterfaceError, NotSupportedError
from piot.execute import Progress


class _TypeObject(frozenset[str]):
    """A PEP 249 type object: compares equal to every type code of its group."""

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return other in self
        return frozenset.__eq__(self, other)

    def __hash__(self) -> int:
        return frozenset.__hash__(self)


STRING = _TypeObject({"string"})
BINARY = _TypeObject({"binary"})
NUMBER = _TypeObject({"integer", "float", "decimal", "boolean"})
DATETIME = _TypeObject({"date", "timestamp", "time", "duration"})
ROWID = _TypeObject({"rowid"})

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


def type_code(dtype: pl.DataType) -> str:
    """The type code of a column in ``cursor.description``.

    >>> type_code(pl.Int64()), type_code(pl.Date())
    ('integer', 'date')
    """
    if dtype.is_integer():
        return "integer"
    if dtype.is_float():
        return "float"
    if isinstance(dtype, pl.Decimal):
        return "decimal"
    if isinstance(dtype, pl.Boolean):
        return "boolean"
    if isinstance(dtype, pl.Date):
        return "date"
    if isinstance(dtype, pl.Datetime):
        return "timestamp"
    if isinstance(dtype, pl.Time):
        return "time"
    if isinstance(dtype, pl.Duration):
        return "duration"
    if isinstance(dtype, pl.Binary):
        return "binary"
    return "string"


class Connection:
    """A connection to a catalog of sources. Read-only: ``commit`` and ``rollback`` do nothing."""

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

    def __repr__(self) -> str:
        return f"<piot.Connection catalog={self.engine.catalog.origin!r} sources={sorted(self.engine.catalog.sources)}>"

    def _check_open(self) -> None:
        if self.closed:
            raise InterfaceError("the connection is closed")

    def cursor(self) -> Cursor:
        """A new cursor on this connection."""
        self._check_open()
        return Cursor(self)

    def close(self) -> None:
        """Close the connection; its cursors can no longer run queries."""
        self.closed = True

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


class Cursor:
    """Runs queries and fetches their rows (PEP 249)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.arraysize = 1
        self.closed = False
        self.progress: Progress | None = None
        self._frame: pl.DataFrame | None = None
        self._batches: Iterator[pa.RecordBatch] = iter(())
        self._buffer: list[tuple[Any, ...]] = []
        self._position = 0
        self._lock = threading.Lock()

    # -- running ------------------------------------------------------------------------
    @property
    def description(self) -> list[tuple[str, str, None, None, None, None, bool]] | None:
        """Seven items per result column: name, type code, and five Nones/null_ok."""
        if self._frame is None:
            return None
        return [(name, type_code(dtype), None, None, None, None, True) for name, dtype in self._frame.schema.items()]

    @property
    def rowcount(self) -> int:
        """Rows in the last result, -1 before any query."""
        return -1 if self._frame is None else self._frame.height

    def execute(self, operation: str, parameters: Sequence[Any] | None = None) -> Cursor:
        """Run one read-only query; ``?`` placeholders take ``parameters`` in order."""
        self._check_open()
        if isinstance(parameters, Mapping):
            raise InterfaceError("piot uses qmark parameters (?): pass a sequence, not a mapping")
        self.progress = Progress()
        result = self.connection.engine.run(operation, parameters, progress=self.progress)
        self._set_result(result.frame)
        return self

    def executemany(self, operation: str, seq_of_parameters: Sequence[Sequence[Any]]) -> Cursor:
        """Run ``operation`` once per parameter sequence; the last result stays fetchable."""
        for parameters in seq_of_parameters:
            self.execute(operation, parameters)
        return self

    def cancel(self) -> None:
        """Ask the running query to stop; it raises OperationalError('query cancelled')."""
        if self.progress is not None:
            self.progress.cancelled.set()

    def _set_result(self, frame: pl.DataFrame) -> None:
        self._frame = frame
        self._batches = iter(frame.to_arrow().to_batches(max_chunksize=10_000))
        self._buffer = []
        self._position = 0

    # -- fetching -----------------------------------------------------------------------
    def _check_result(self) -> None:
        self._check_open()
        if self._frame is None:
            raise errors.ProgrammingError("no query has been run on this cursor: call execute() first")

    def _fill(self, wanted: int) -> None:
        while len(self._buffer) - self._position < wanted:
            batch = next(self._batches, None)
            if batch is None:
                return
            self._buffer = self._buffer[self._position :]
            self._position = 0
            columns = [column.to_pylist() for column in batch.columns]
            self._buffer.extend(zip(*columns) if columns else [() for _ in range(batch.num_rows)])

    def fetchone(self) -> tuple[Any, ...] | None:
        """The next row, or None when there are no more."""
        self._check_result()
        self._fill(1)
        if self._position >= len(self._buffer):
            return None
        row = self._buffer[self._position]
        self._position += 1
        return row

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        """Up to ``size`` rows (default ``arraysize``)."""
        self._check_result()
        size = self.arraysize if size is None else size
        self._fill(size)
        rows = self._buffer[self._position : self._position + size]
        self._position += len(rows)
        return rows

    def fetchall(self) -> list[tuple[Any, ...]]:
        """All remaining rows."""
        self._check_result()
        self._fill(self._frame.height if self._frame is not None else 0)
        rows = self._buffer[self._position :]
        self._position = len(self._buffer)
        return rows

    def fetch_polars(self) -> pl.DataFrame:
        """The whole result as a Polars DataFrame."""
        self._check_result()
        assert self._frame is not None
        return self._frame

    def fetch_arrow(self) -> pa.Table:
        """The whole result as an Arrow table."""
        return self.fetch_polars().to_arrow()

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        while (row := self.fetchone()) is not None:
            yield row

    # -- the rest of PEP 249 ------------------------------------------------------------
    def setinputsizes(self, sizes: Any) -> None:
        """Accepted and ignored, as PEP 249 allows."""

    def setoutputsize(self, size: Any, column: int | None = None) -> None:
        """Accepted and ignored, as PEP 249 allows."""

    def callproc(self, procname: str, parameters: Sequence[Any] = ()) -> None:
        """Stored procedures do not exist in piot."""
        raise NotSupportedError("piot has no stored procedures")

    def nextset(self) -> None:
        """piot returns one result set per query."""
        raise NotSupportedError("piot returns a single result set per query")

    def close(self) -> None:
        """Close the cursor and drop its result."""
        self.closed = True
        self._frame = None
        self._buffer = []

    def _check_open(self) -> None:
        if self.closed:
            raise InterfaceError("the cursor is closed")
        self.connection._check_open()

    def __enter__(self) -> Cursor:
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
    """
    options = EngineOptions(
        ray_address=ray_address,
        dialect=dialect,
        time_unit=time_unit,
        max_concurrency=max_concurrency,
        return_as=return_as,
        remote_options=dict(remote_options or {}),
        split=split,
    )
    return Connection(Engine(catalog, options))
