"""The PEP 249 cursor of piot: runs queries, tracks their progress, fetches their rows.

Rows are turned into Python tuples lazily, :data:`FETCH_BATCH_ROWS` at a time, as they are
fetched; ``fetch_arrow``/``fetch_polars`` hand over the remaining rows without converting.
The decisions PEP 249 leaves to a driver are listed in :mod:`piot.dbapi.connection`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa

from piot.connectors.limits import ReadControl, controlled
from piot.dbapi.catalog_statements import answer as answer_catalog_statement
from piot.dbapi.catalog_statements import parse_catalog_statement
from piot.dbapi.explain import analyze_frame, explain_frame
from piot.errors import (
    Error,
    InterfaceError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    Warning,
    redact_error,
    unexpected_error,
)
from piot.plan.fragments import distinct_scans
from piot.run.measures import RunMeasures
from piot.run.runtime import ensure_ray
from piot.run.scheduler import Progress

if TYPE_CHECKING:
    from piot.dbapi.connection import Connection

#: rows converted to Python tuples at a time by fetchone/fetchmany/iteration.
FETCH_BATCH_ROWS = 4096

_FIXED_WIDTH = frozenset({"integer", "float", "decimal", "boolean", "date", "timestamp", "time", "duration"})


# -- result columns ---------------------------------------------------------------------
_CODES = {
    pl.Decimal: "decimal", pl.Boolean: "boolean", pl.Date: "date", pl.Datetime: "timestamp", pl.Time: "time",
    pl.Duration: "duration", pl.Binary: "binary", pl.String: "string", pl.Categorical: "string", pl.Enum: "string",
    pl.List: "list", pl.Array: "list", pl.Struct: "struct", pl.Null: "null",
}  # fmt: skip
_BYTES = {"Int8": 1, "UInt8": 1, "Boolean": 1, "Int16": 2, "UInt16": 2, "Float16": 2, "Int32": 4, "UInt32": 4}
_BYTES |= {"Float32": 4, "Date": 4, "Int128": 16, "UInt128": 16, "Decimal": 16}  # other fixed widths: 8


def type_code(dtype: pl.DataType) -> str:
    """The type code of a column in ``cursor.description`` (compare it with the type objects).

    >>> type_code(pl.Int64()), type_code(pl.Decimal(10, 2)), type_code(pl.Datetime("us", "UTC"))
    ('integer', 'decimal', 'timestamp')
    """
    if dtype.is_integer():
        return "integer"
    if dtype.is_float():
        return "float"
    return _CODES.get(dtype.base_type(), "object")


def column_description(name: str, column: pl.Series) -> tuple[Any, ...]:
    """The seven items PEP 249 gives a result column; sizes that do not apply are None.

    Integers give their byte width and decimal digits, decimals their precision and scale,
    text its longest value in characters (display_size) and bytes (internal_size).

    >>> column_description("price", pl.Series([1.5], dtype=pl.Decimal(10, 2)))
    ('price', 'decimal', None, 16, 10, 2, True)
    >>> column_description("name", pl.Series(["héllo", None]))
    ('name', 'string', 5, 6, None, None, True)
    >>> column_description("n", pl.Series([1], dtype=pl.Int32))
    ('n', 'integer', None, 4, 10, 0, True)
    """
    dtype, code = column.dtype, type_code(column.dtype)
    display: int | None = None
    internal: int | None = _BYTES.get(type(dtype).__name__, 8) if code in _FIXED_WIDTH else None
    precision: int | None = None
    scale: int | None = None
    if code == "integer":
        precision, scale = len(str(2 ** (8 * (internal or 8) - dtype.is_signed_integer()) - 1)), 0
    elif isinstance(dtype, pl.Decimal):
        precision, scale = dtype.precision, dtype.scale
    elif code == "string":
        text = column.cast(pl.String)
        display, internal = text.str.len_chars().max(), text.str.len_bytes().max()
    elif code == "binary":
        internal = column.bin.size().max()
    return (name, code, display, internal, precision, scale, True)


# -- per-query stats --------------------------------------------------------------------
@dataclass
class QueryProgress(Progress):
    """What a running or finished query has done; ``cursor.progress`` of the last ``execute``.

    Written only by the thread running the query; any thread may read it.

    Attributes:
        fragments_total: fragments in the plan (known once planning is over; 0 for EXPLAIN).
        fragments_done: fragments whose rows have reached the driver.
        rows: rows received from fragments so far (before the merge; ``cursor.rowcount``
            is the size of the answer).
        started: ``time.monotonic()`` when ``execute`` began.
        finished: ``time.monotonic()`` when it returned or raised, None while it runs.
        state: ``planning``, ``running``, ``merging``, then ``finished``, ``failed`` or
            ``cancelled``.
        cancelled: set by :meth:`Cursor.cancel`; the query stops at its next check.
    """

    state: str = "planning"
    finished: float | None = None

    @property
    def elapsed(self) -> float:
        """Seconds the query has run (frozen once it is over)."""
        end = self.finished if self.finished is not None else time.monotonic()
        return end - self.started

    @property
    def fraction(self) -> float:
        """Share of the fragments done, from 0.0 to 1.0 (1.0 once finished)."""
        if self.state == "finished":
            return 1.0
        return self.fragments_done / self.fragments_total if self.fragments_total else 0.0

    @property
    def done(self) -> bool:
        """True once the query has finished, failed or been cancelled."""
        return self.finished is not None

    def _end(self, state: str) -> None:
        self.state = state
        self.finished = time.monotonic()


ProgressCallback = Callable[[QueryProgress], None]


# -- cursor -----------------------------------------------------------------------------
class Cursor:
    """Runs queries and fetches their rows (PEP 249).

    Attributes:
        arraysize: rows ``fetchmany()`` returns when given no size (default 1).
        progress: the :class:`QueryProgress` of the last ``execute``, None before.
        on_progress: called with ``progress`` in the executing thread when planning is
            over, after each finished Ray task, and at the end; ``execute(on_progress=)``
            overrides it for one query. An exception it raises stops the query.
        messages: ``(piot.Warning, warning)`` pairs of the last ``execute`` (PEP 249's
            extension), such as a source that ``SHOW TABLES`` could not list.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.arraysize = 1
        self.progress: QueryProgress | None = None
        self.on_progress: ProgressCallback | None = None
        self.lastrowid = None
        self.messages: list[tuple[type[Warning], Warning]] = []
        self._closed = False
        self._frame: pl.DataFrame | None = None
        self._description: list[tuple[Any, ...]] | None = None
        self._converted = 0  # rows of _frame already turned into tuples
        self._rows: list[tuple[Any, ...]] = []  # converted rows, fetched up to _index
        self._index = 0

    @property
    def closed(self) -> bool:
        """True once this cursor or its connection is closed."""
        return self._closed or self.connection.closed

    # -- running ------------------------------------------------------------------------
    @property
    def description(self) -> list[tuple[Any, ...]] | None:
        """Per result column: name, type_code, display_size, internal_size, precision, scale, null_ok."""
        if self._frame is not None and self._description is None:
            self._description = [column_description(name, column) for name, column in self._frame.to_dict().items()]
        return self._description

    @property
    def rowcount(self) -> int:
        """Rows in the last result, -1 when there is none."""
        return -1 if self._frame is None else self._frame.height

    @property
    def rownumber(self) -> int | None:
        """0-based index of the next row to fetch, None when there is no result."""
        return None if self._frame is None else self._converted - (len(self._rows) - self._index)

    def execute(
        self, operation: str, parameters: Sequence[Any] | None = None, *, on_progress: ProgressCallback | None = None
    ) -> Cursor:
        """Run one read-only query (or EXPLAIN, or EXPLAIN ANALYZE); ``?`` placeholders take ``parameters`` in order.

        ``EXPLAIN`` returns the plan without running it; ``EXPLAIN ANALYZE`` runs the query as
        ``execute`` would and returns, instead of its answer, one row per fragment with what it
        did (rows, bytes, seconds in the source and in the task, Ray node, attempts) and a merge row.

        Returns the cursor, so ``cursor.execute(sql).fetchall()`` works.

        Raises:
            InterfaceError: closed cursor, a mapping, or the wrong number of parameters.
            OperationalError: ``query cancelled`` after :meth:`cancel`, ``query timeout of N s
                exceeded`` past the connection's ``query_timeout``, or a source failing (down,
                silent or refusing the login past its ``connect_timeout``) named in the message.
        """
        self._check_open()
        bound = _parameter_sequence(parameters)
        self._drop_result()
        progress = self.progress = QueryProgress()
        callback = on_progress or self.on_progress
        control = ReadControl.starting(self.connection.engine.options.query_timeout, progress.cancelled.is_set)
        try:
            with controlled(control):
                frame = self._run(operation, bound, progress, callback)
        except BaseException as e:
            stopped = progress.cancelled.is_set() or isinstance(e, KeyboardInterrupt)
            progress._end("cancelled" if stopped else "failed")
            raise
        progress._end("finished")
        self._frame = frame
        if callback is not None:
            callback(progress)
        return self

    def _run(
        self, sql: str, parameters: Sequence[Any], progress: QueryProgress, callback: ProgressCallback | None
    ) -> pl.DataFrame:
        engine = self.connection.engine
        failed: list[BaseException] = []  # an exception raised by the caller's callback

        def notify(_: Progress) -> None:
            if progress.fragments_total and progress.fragments_done >= progress.fragments_total:
                progress.state = "merging"
            if callback is not None:
                try:
                    callback(progress)
                except BaseException as e:
                    failed.append(e)
                    raise

        failure: Error | None = None
        try:
            catalog_statement = parse_catalog_statement(sql)
            if catalog_statement is not None:
                if parameters:
                    raise InterfaceError("SHOW and DESCRIBE take no ? parameters")
                answered = answer_catalog_statement(catalog_statement, engine.catalog, engine.schemas, engine.options.dialect)
                self.messages = [(Warning, Warning(engine.catalog.redact(str(w)))) for w in answered.warnings]
                return answered.frame
            statement, plan = engine.plan(sql, parameters)
            if statement.explain and not statement.analyze:
                return explain_frame(plan)
            progress.fragments_total = sum(len(scan.fragments) for scan in distinct_scans(plan.scans))
            progress.state = "running"
            _raise_if_cancelled(progress)
            notify(progress)
            ensure_ray(engine.options.ray_address)
            measures = RunMeasures() if statement.analyze else None
            frame = engine.execute(plan, progress=progress, on_progress=notify, measures=measures)
            if measures is not None:  # EXPLAIN ANALYZE: the query ran as any other; its answer gives way to its figures
                frame = analyze_frame(plan, measures)
        except Error as e:
            failure = redact_error(e, engine.catalog.redact)
        except (Exception, pl.exceptions.PanicException) as e:  # a Rust panic is a BaseException
            if failed and e is failed[0]:
                raise
            failure = unexpected_error(e, engine.catalog.redact)
        # Raised outside the except blocks, so that a bug's exception (whose frames may hold
        # anything) is not chained to what the caller sees.
        _raise_if_cancelled(progress)  # a cancel that came during the merge, or made the query fail
        if failure is not None:
            raise failure
        return frame

    def executemany(self, operation: str, seq_of_parameters: Sequence[Sequence[Any]]) -> Cursor:
        """Run ``operation`` once per parameter sequence; the last result stays fetchable."""
        self._check_open()
        self._drop_result()
        for parameters in seq_of_parameters:
            self.execute(operation, parameters)
        return self

    def cancel(self) -> None:
        """Stop the running query from any thread: its ``execute`` raises OperationalError('query cancelled').

        Works at every stage: while a source is being connected to or read for planning, and
        while fragments run. No more Ray tasks are submitted, and the tasks in flight stop
        waiting for their sources and return at once (a source may still finish the statement
        it was sent, up to its statement timeout). Nothing happens when no query is running.
        """
        progress = self.progress
        if progress is not None and not progress.done:
            progress.cancelled.set()

    # -- fetching -----------------------------------------------------------------------
    def _result(self) -> pl.DataFrame:
        self._check_open()
        if self._frame is None:
            raise ProgrammingError("no result to fetch: call execute() with a query first")
        return self._frame

    def _take(self, limit: int | None) -> list[tuple[Any, ...]]:
        """Up to ``limit`` rows (all remaining when None), converting one batch at a time."""
        frame = self._result()
        taken: list[tuple[Any, ...]] = []
        while limit is None or len(taken) < limit:
            if self._index >= len(self._rows):
                if self._converted >= frame.height:
                    break
                size = frame.height - self._converted if limit is None else FETCH_BATCH_ROWS
                self._rows = frame.slice(self._converted, size).rows()
                self._converted += len(self._rows)
                self._index = 0
            end = len(self._rows) if limit is None else min(len(self._rows), self._index + limit - len(taken))
            taken.extend(self._rows[self._index : end])
            self._index = end
        return taken

    def fetchone(self) -> tuple[Any, ...] | None:
        """The next row, or None when there are no more."""
        rows = self._take(1)
        return rows[0] if rows else None

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        """Up to ``size`` rows (default ``arraysize``); an empty list when there are no more."""
        size = self.arraysize if size is None else size
        if not isinstance(size, int) or size < 0:
            raise ProgrammingError(f"fetchmany size must be a non-negative integer, not {size!r}")
        return self._take(size)

    def fetchall(self) -> list[tuple[Any, ...]]:
        """All remaining rows."""
        return self._take(None)

    def fetch_polars(self) -> pl.DataFrame:
        """The remaining rows (all of them right after ``execute``) as a Polars DataFrame, without conversion."""
        frame = self._result()
        start = self.rownumber or 0
        self._rows, self._index, self._converted = [], 0, frame.height
        return frame if start == 0 else frame.slice(start)

    def fetch_arrow(self) -> pa.Table:
        """The remaining rows (all of them right after ``execute``) as an Arrow table."""
        return self.fetch_polars().to_arrow()

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return self

    def __next__(self) -> tuple[Any, ...]:
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row

    # -- the rest of PEP 249 ------------------------------------------------------------
    def setinputsizes(self, sizes: Any) -> None:
        """Accepted and ignored, as PEP 249 allows."""
        self._check_open()

    def setoutputsize(self, size: Any, column: int | None = None) -> None:
        """Accepted and ignored, as PEP 249 allows."""
        self._check_open()

    def callproc(self, procname: str, parameters: Sequence[Any] = ()) -> None:
        """Stored procedures do not exist in piot."""
        self._check_open()
        raise NotSupportedError("piot has no stored procedures: run a SELECT with execute()")

    def nextset(self) -> None:
        """piot returns one result set per query."""
        self._check_open()
        raise NotSupportedError("piot returns a single result set per query")

    def close(self) -> None:
        """Close the cursor (again is harmless): cancel its running query and drop its result."""
        self._closed = True
        self.cancel()
        self._drop_result()

    def _drop_result(self) -> None:
        self._frame, self._description = None, None
        self._rows, self._index, self._converted = [], 0, 0
        self.messages = []

    def _check_open(self) -> None:
        if self._closed:
            raise InterfaceError("the cursor is closed: open a new one with connection.cursor()")
        self.connection._check_open()

    def __enter__(self) -> Cursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _raise_if_cancelled(progress: QueryProgress) -> None:
    if progress.cancelled.is_set():
        raise OperationalError("query cancelled") from None


def _parameter_sequence(parameters: Any) -> Sequence[Any]:
    """Check ``execute``'s parameters: None or a sequence (not text), never a mapping.

    >>> _parameter_sequence(None), _parameter_sequence([1, "a"])
    ((), [1, 'a'])
    """
    if parameters is None:
        return ()
    if isinstance(parameters, Mapping):
        raise InterfaceError("piot uses qmark parameters (?): pass a list or tuple of values, not a mapping")
    if isinstance(parameters, (str, bytes, bytearray)) or not isinstance(parameters, Sequence):
        raise InterfaceError(f"parameters must be a list or tuple of values, not {type(parameters).__name__}")
    return parameters
