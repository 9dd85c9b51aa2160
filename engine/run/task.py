"""What a Ray worker does with the fragments of one task: read each window, finish it with Polars, ship the rows.

Only small picklable values cross the Ray boundary: a :class:`TaskSpec` in, and the rows
out as an Arrow table, Arrow IPC bytes or Parquet bytes (``return_as``); a task that measures
(EXPLAIN ANALYZE) wraps them with each fragment's figures. A task hands
piot's own errors back as a value (:class:`~piot.run.scheduler.TaskFailure`), never as a
raised task error, and stops waiting for its source once its run is on the cancel board.
"""

from __future__ import annotations

import io
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
import pyarrow as pa

from piot.connectors.limits import ReadControl, controlled
from piot.connectors.read import read_arrow
from piot.connectors.sql_log import capture_sql
from piot.errors import DataError, Error, NotSupportedError, OperationalError, redact_error
from piot.plan.fragments import Fragment, FramePlan
from piot.run.measures import FragmentMeasure, MeasuredResult
from piot.run.runtime import task_place
from piot.run.scheduler import TaskFailure, TaskLimits

RETURN_FORMATS = ("arrow", "ipc", "parquet")
#: how often a task asks the cancel board about its query while it waits for a source, in seconds.
BOARD_POLL_SECONDS = 0.2


@dataclass(frozen=True)
class TaskSpec:
    """The work of one Ray task: some fragments of one scan, what to make of their rows, and how to send it back.

    ``task_sql`` (the scan's :class:`~piot.plan.fragments.FragmentOutput`) runs over each
    fragment's rows after the exact filter; None ships the rows. ``measure`` (EXPLAIN ANALYZE)
    ships a :class:`~piot.run.measures.MeasuredResult` instead of the bare payload.
    """

    fragments: tuple[Fragment, ...]
    schema: tuple[tuple[str, pl.DataType], ...]
    return_as: str = "arrow"
    task_sql: str | None = None
    measure: bool = False


def read_fragment(fragment: Fragment, schema: Sequence[tuple[str, pl.DataType]]) -> pl.DataFrame:
    """Read one fragment and give it the scan's declared schema (then its exact filter, if any)."""
    return shape_fragment(read_table(fragment), fragment, schema)


def read_table(fragment: Fragment) -> pa.Table:
    """The rows the source returns for one fragment's SQL, as Arrow (the only wait on the source)."""
    assert fragment.source is not None, "a Polars read is collected, not read"
    return read_arrow(fragment.source, fragment.sql, period=fragment.label)


def shape_fragment(table: pa.Table, fragment: Fragment, schema: Sequence[tuple[str, pl.DataType]]) -> pl.DataFrame:
    """The rows read for ``fragment`` with the scan's declared schema, then its exact filter (if any)."""
    assert fragment.source is not None, "a Polars read is collected, not read"
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    wanted = dict(schema)
    if frame.columns != list(wanted):
        raise DataError(
            f"source {fragment.source.name!r}, period {fragment.label}: expected columns {list(wanted)}, got {frame.columns}",
            source=fragment.source.name,
            period=fragment.label,
        )
    try:
        frame = frame.cast(wanted, strict=True)  # type: ignore[arg-type]
    except pl.exceptions.PolarsError as e:
        raise DataError(
            f"source {fragment.source.name!r}, period {fragment.label}: a value does not fit its declared type: {str(e).splitlines()[0]}",
            source=fragment.source.name,
            period=fragment.label,
        ) from None
    if fragment.exact_filter:
        try:
            frame = pl.SQLContext(fragment=frame).execute(f"SELECT * FROM fragment WHERE {fragment.exact_filter}", eager=True)
        except (pl.exceptions.PolarsError, pl.exceptions.PanicException) as e:  # a Rust panic is no Exception
            nested = "recursion limit exceeded" in str(e)
            cls = NotSupportedError if nested else DataError
            what = "the condition is nested too deeply for Polars' SQL (about 50 levels)" if nested else str(e).splitlines()[0]
            raise cls(
                f"source {fragment.source.name!r}, period {fragment.label}: the exact filter after the read failed: {what}",
                source=fragment.source.name,
                period=fragment.label,
            ) from None
    return frame


def finish_fragment(frame: pl.DataFrame, fragment: Fragment, task_sql: str | None) -> pl.DataFrame:
    """What the task ships for one fragment: its rows, or ``task_sql`` run over them (as the frame ``fragment``).

    >>> from piot.connectors.catalog import load_catalog
    >>> source = load_catalog({"sources": {"db": {"url": "sqlite:///x.db"}}}).source("db")
    >>> piece = Fragment("t", source, "SELECT x FROM t", None)
    >>> finish_fragment(pl.DataFrame({"x": [1, 2, 3]}), piece, "SELECT sum(x) AS s FROM fragment").item()
    6
    """
    if task_sql is None:
        return frame
    try:
        return pl.SQLContext(fragment=frame).execute(task_sql, eager=True)
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException) as e:
        raise DataError(
            f"source {fragment.source_name!r}, period {fragment.label}: the work after the read failed: {str(e).splitlines()[0]}",
            source=fragment.source_name,
            period=fragment.label,
        ) from None


def run_fragment(
    fragment: Fragment, spec: TaskSpec, place: tuple[str | None, int | None] = (None, None)
) -> tuple[pl.DataFrame, FragmentMeasure | None]:
    """Read one fragment of a task and finish it; with its measure when the task measures (``place``: node and attempt).

    The wait on the source and the Polars work after it are timed apart, for this fragment alone.
    """
    started = time.perf_counter()
    table = read_table(fragment)
    read = time.perf_counter()
    frame = finish_fragment(shape_fragment(table, fragment, spec.schema), fragment, spec.task_sql)
    if not spec.measure:
        return frame, None
    finished = time.perf_counter()
    node, attempts = place
    shipped = frame.to_arrow().nbytes
    return frame, FragmentMeasure(table.num_rows, frame.height, shipped, read - started, finished - read, node, attempts)


@dataclass(frozen=True)
class FrameResult:
    """What a task of the Polars API ships back: its rows (as ``return_as`` asked), how many, and the SQL its reads sent."""

    payload: Any
    rows: int
    statements: tuple[str, ...]


def collect_partition(fragment: Fragment, schema: Sequence[tuple[str, pl.DataType]], plan: FramePlan) -> pl.DataFrame:
    """A Polars read: the scan's plan filtered to the fragment's partition, with the scan's columns."""
    assert fragment.frame_read is not None
    lf = pl.LazyFrame.deserialize(io.BytesIO(plan.data))
    return lf.filter(fragment.frame_read.predicate).select([name for name, _ in schema]).collect()


def run_frame_task(spec: TaskSpec, plan: FramePlan, control: ReadControl) -> Any:
    """The body of a Polars API task: collect its partitions; piot errors come back as a :class:`TaskFailure`.

    The reads of ``scan_db`` sources inside the plan honour ``control``: they stop once the run
    is cancelled or stopped early (a ``head(n)`` that has its rows).
    """
    try:
        with capture_sql() as statements, controlled(control):
            frames = [finish_fragment(collect_partition(f, spec.schema, plan), f, spec.task_sql) for f in spec.fragments]
        frame = pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0]
        return FrameResult(encode(frame, spec.return_as), frame.height, tuple(statements))
    except Error as e:
        return TaskFailure(e)


def run_task(spec: TaskSpec, limits: TaskLimits, shared: Any = None) -> Any:
    """The body of one Ray task: read its fragments and encode the rows per ``return_as``.

    Reads stop at the query's deadline or once the query is on the cancel board. A failure
    comes back as a :class:`TaskFailure` holding a piot error already redacted with the
    source's secrets and with no chain, so what Ray pickles back to the driver holds none; it
    is returned rather than raised, so that tasks the driver has dropped leave no unhandled
    task error behind.
    """
    cancelled = _BoardPoll(limits.board, limits.query_id) if limits.board is not None else _never
    deadline = None if limits.seconds_left is None else time.monotonic() + limits.seconds_left
    control = ReadControl(deadline, limits.query_timeout, cancelled)
    if spec.fragments[0].frame_read is not None:
        return run_frame_task(spec, shared, control)
    source = spec.fragments[0].source
    assert source is not None
    failure: Error | None = None
    try:
        place = task_place() if spec.measure else (None, None)
        with controlled(control):
            done = [run_fragment(f, spec, place) for f in spec.fragments]
        frames = [frame for frame, _ in done]
        payload = encode(pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0], spec.return_as)
        if not spec.measure:
            return payload
        return MeasuredResult(payload, tuple(measure for _, measure in done if measure is not None))
    except Error as e:
        failure = redact_error(e, source.redact)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # Polars errors, and Rust panics (PanicException is no Exception)
        text = str(e).strip().splitlines()
        detail = source.redact(f"{type(e).__name__}: {text[-1]}" if text else type(e).__name__)
        label = spec.fragments[0].label
        failure = OperationalError(f"source {source.name!r}, period {label}: the task failed: {detail}", source=source.name, period=label)
    return TaskFailure(failure)


def _never() -> bool:
    return False


class _BoardPoll:
    """Whether a query is on the cancel board, asked at most every BOARD_POLL_SECONDS and never waited for.

    The first question goes out only after BOARD_POLL_SECONDS, so quick reads never ask.
    """

    def __init__(self, board: Any, query_id: str) -> None:
        self.board, self.query_id = board, query_id
        self.answer = False
        self.pending: Any = None
        self.asked = time.monotonic()

    def __call__(self) -> bool:
        import ray

        if self.answer:
            return True
        if self.pending is not None:
            ready, _ = ray.wait([self.pending], timeout=0)
            if ready:
                self.answer, self.pending = bool(ray.get(ready[0])), None
        if self.pending is None and time.monotonic() - self.asked >= BOARD_POLL_SECONDS:
            self.pending, self.asked = self.board.is_cancelled.remote(self.query_id), time.monotonic()
        return self.answer


def encode(frame: pl.DataFrame, return_as: str) -> Any:
    """A frame in its shipping form: an Arrow table, or Arrow IPC or Parquet bytes.

    >>> decode(encode(pl.DataFrame({"a": [1]}), "parquet"), "parquet").to_dict(as_series=False)
    {'a': [1]}
    """
    if return_as == "arrow":
        return frame.to_arrow()
    buffer = io.BytesIO()
    if return_as == "ipc":
        frame.write_ipc(buffer)
    else:
        frame.write_parquet(buffer)
    return buffer.getvalue()


def decode(payload: Any, return_as: str) -> pl.DataFrame:
    """The frame back from its shipping form."""
    if return_as == "arrow":
        frame = pl.from_arrow(payload)
        assert isinstance(frame, pl.DataFrame)
        return frame
    if return_as == "ipc":
        return pl.read_ipc(io.BytesIO(payload))
    return pl.read_parquet(io.BytesIO(payload))
