"""Run fragments as Ray tasks: each reads its SQL with connectorx and finishes it with Polars.

Only small picklable values cross the Ray boundary: a :class:`TaskSpec` in, and the
rows out as an Arrow table, Arrow IPC bytes or Parquet bytes (``return_as``). At most
``max_concurrency`` tasks are in flight. Many tiny fragments of one scan share a task
(at most :data:`MAX_TASKS_PER_SCAN` tasks per scan), each still reading only its window.

A query that is cancelled, times out or fails puts its id on the cancel board
(:func:`piot.run.runtime.cancel_board`); its tasks still running or queued see it while they wait
for their source and return at once, so they stop holding the cluster. A task hands piot's
own errors back as a value (:class:`TaskFailure`), never as a raised task error.
"""

from __future__ import annotations

import io
import math
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from piot.connectors.limits import ReadControl, controlled, current_control
from piot.connectors.read import read_arrow
from piot.errors import DataError, Error, NotSupportedError, OperationalError, redact_error
from piot.plan.fragments import Fragment, Scan

RETURN_FORMATS = ("arrow", "ipc", "parquet")
#: a scan with more fragments than this runs several fragments per task.
MAX_TASKS_PER_SCAN = 256
#: how often the driver looks at the query's cancel flag and deadline while tasks run, in seconds.
WAIT_SECONDS = 0.1
#: how often a task asks the cancel board about its query while it waits for a source, in seconds.
BOARD_POLL_SECONDS = 0.2


@dataclass(frozen=True)
class TaskLimits:
    """What a task needs to stop in time: its query's id and cancel board, and the time left."""

    query_id: str = ""
    board: Any = None
    seconds_left: float | None = None
    query_timeout: float | None = None


@dataclass(frozen=True)
class TaskSpec:
    """The work of one Ray task: some fragments of one scan, and how to send rows back."""

    fragments: tuple[Fragment, ...]
    schema: tuple[tuple[str, pl.DataType], ...]
    return_as: str = "arrow"
    limits: TaskLimits = TaskLimits()


@dataclass(frozen=True)
class TaskFailure:
    """A piot error a task returns instead of raising (it reaches the driver as it is)."""

    error: Error


@dataclass
class Progress:
    """Counters a front-end can watch while a query runs (updated by the driver)."""

    fragments_total: int = 0
    fragments_done: int = 0
    rows: int = 0
    started: float = field(default_factory=time.monotonic)
    cancelled: threading.Event = field(default_factory=threading.Event)

    @property
    def elapsed(self) -> float:
        """Seconds since the query started."""
        return time.monotonic() - self.started


def read_fragment(fragment: Fragment, schema: Sequence[tuple[str, pl.DataType]]) -> pl.DataFrame:
    """Read one fragment and give it the scan's declared schema (then its exact filter, if any)."""
    table = read_arrow(fragment.source, fragment.sql, period=fragment.label)
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


def run_task(spec: TaskSpec) -> Any:
    """The body of one Ray task: read its fragments and encode the rows per ``return_as``.

    Reads stop at the query's deadline or once the query is on the cancel board. A failure
    comes back as a :class:`TaskFailure` holding a piot error already redacted with the
    source's secrets and with no chain, so what Ray pickles back to the driver holds none; it
    is returned rather than raised, so that tasks the driver has dropped leave no unhandled
    task error behind.
    """
    source = spec.fragments[0].source
    limits = spec.limits
    cancelled = _BoardPoll(limits.board, limits.query_id) if limits.board is not None else _never
    deadline = None if limits.seconds_left is None else time.monotonic() + limits.seconds_left
    control = ReadControl(deadline, limits.query_timeout, cancelled)
    failure: Error | None = None
    try:
        with controlled(control):
            frames = [read_fragment(f, spec.schema) for f in spec.fragments]
        return encode(pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0], spec.return_as)
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


def task_specs(scan: Scan, return_as: str, limits: TaskLimits = TaskLimits()) -> list[TaskSpec]:
    """Group a scan's fragments into tasks: one each, or consecutive batches past the task limit.

    >>> from piot.plan.fragments import SplitDecision
    >>> scan = Scan("t", "t", "db.t", (), tuple(range(600)), SplitDecision(None, None, ""))  # type: ignore[arg-type]
    >>> [len(s.fragments) for s in task_specs(scan, "arrow")][:3], len(task_specs(scan, "arrow"))
    ([3, 3, 3], 200)
    """
    size = max(1, math.ceil(len(scan.fragments) / MAX_TASKS_PER_SCAN))
    return [
        TaskSpec(tuple(scan.fragments[i : i + size]), scan.schema, return_as, limits)
        for i in range(0, len(scan.fragments), size)
    ]


_REMOTE: Any = None


def _remote_task() -> Any:
    global _REMOTE
    if _REMOTE is None:
        import ray

        _REMOTE = ray.remote(run_task)
    return _REMOTE


def execute_scans(
    scans: Sequence[Scan],
    *,
    max_concurrency: int = 100,
    return_as: str = "arrow",
    remote_options: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> dict[str, list[pl.DataFrame]]:
    """Run every fragment of ``scans`` on Ray; return each scan's frames in period order.

    The current :class:`~piot.connectors.limits.ReadControl` (set by the cursor) gives the
    query's deadline; ``progress.cancelled`` stops it. Either way, and on any failure, the
    tasks still running are told to stop through the cancel board.
    """
    import ray

    from piot.run.runtime import cancel_board

    progress = progress or Progress()
    control = current_control()
    reads = first_alike(scans)
    distinct = distinct_scans(scans)
    specs = [(scan.name, spec) for scan in distinct for spec in task_specs(scan, return_as)]
    progress.fragments_total = sum(len(scan.fragments) for scan in distinct)
    remote = _remote_task().options(**dict(remote_options or {}))
    board, query_id = cancel_board(), uuid.uuid4().hex
    results: dict[int, pl.DataFrame] = {}
    in_flight: dict[Any, int] = {}

    def collect(ready: list[Any]) -> None:
        for ref in ready:
            index = in_flight.pop(ref)
            frame = decode(_get(ref, specs[index][1]), return_as)
            results[index] = frame
            progress.fragments_done += len(specs[index][1].fragments)
            progress.rows += frame.height
            if on_progress is not None:
                on_progress(progress)

    def wait_one() -> None:
        ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=WAIT_SECONDS)
        waiting = [specs[index][1] for ref, index in in_flight.items() if ref not in ready]
        _check_cancel(progress, control, waiting[0] if waiting else None)
        collect(ready)

    try:
        for index, (_, spec) in enumerate(specs):
            while len(in_flight) >= max(1, max_concurrency):
                wait_one()
            _check_cancel(progress, control)
            limits = TaskLimits(query_id, board, control.remaining(), control.query_timeout)
            in_flight[remote.remote(TaskSpec(spec.fragments, spec.schema, spec.return_as, limits))] = index
        while in_flight:
            wait_one()
    except BaseException:
        # Tell the tasks still in flight to stop (they return at their next look at the board)
        # and drop them. They are not ray.cancel()ed, because a cancel that races a task's
        # completion aborts the whole driver process in Ray's core worker ("Tried to complete
        # task that was not pending", ray-project/ray#54846).
        if in_flight:
            board.cancel.remote(query_id)
        in_flight.clear()
        raise
    by_scan: dict[str, list[pl.DataFrame]] = {scan.name: [] for scan in distinct}
    for index in sorted(results):
        by_scan[specs[index][0]].append(results[index])
    return {scan.name: by_scan[reads[scan.name]] for scan in scans}


def distinct_scans(scans: Sequence[Scan]) -> list[Scan]:
    """The scans that are read: one of each group of scans reading exactly the same rows."""
    reads = first_alike(scans)
    return [scan for scan in scans if reads[scan.name] == scan.name]


def first_alike(scans: Sequence[Scan]) -> dict[str, str]:
    """For each scan, the first scan that reads exactly the same rows (itself if none): those are read once.

    A table named twice with the same filters (``nation n1, nation n2``) needs one read.
    """
    seen: dict[Any, str] = {}
    first: dict[str, str] = {}
    for scan in scans:
        reads = tuple((f.source.name, f.sql, f.period, f.exact_filter) for f in scan.fragments)
        key = (tuple((name, repr(dtype)) for name, dtype in scan.schema), reads)
        first[scan.name] = seen.setdefault(key, scan.name)
    return first


def _check_cancel(progress: Progress, control: ReadControl, waiting: TaskSpec | None = None) -> None:
    """Raise if the query was cancelled or is past its deadline (naming a fragment it still waits for)."""
    if progress.cancelled.is_set() or control.cancelled():
        raise OperationalError("query cancelled")
    remaining = control.remaining()
    if remaining is not None and remaining <= 0:
        message = f"query timeout of {control.query_timeout:g} s exceeded"
        if waiting is None:
            raise OperationalError(message)
        first = waiting.fragments[0]
        raise OperationalError(
            f"source {first.source.name!r}, period {first.label}: {message}", source=first.source.name, period=first.label
        )


def _get(ref: Any, spec: TaskSpec) -> Any:
    """The task's result; its failure as a piot error with no chain back to Ray's exception.

    A task's exception arrives pickled (piot errors cross as message and fields only, already
    redacted where they were raised); anything else is redacted here with the source's secrets.
    """
    import ray

    first = spec.fragments[0]
    failure: Error | None = None
    try:
        payload = ray.get(ref)
    except ray.exceptions.RayTaskError as e:
        cause = e.cause if isinstance(getattr(e, "cause", None), BaseException) else None
        if isinstance(cause, Error):
            failure = type(cause)(
                first.source.redact(cause.message), line=cause.line, col=cause.col, source=cause.source, period=cause.period
            )
        else:
            detail = first.source.redact(str(cause or e).strip().splitlines()[-1])
            failure = OperationalError(
                f"source {first.source.name!r}, period {first.label}: the task failed: {detail}",
                source=first.source.name,
                period=first.label,
            )
    except ray.exceptions.RayError as e:
        failure = OperationalError(
            f"source {first.source.name!r}, period {first.label}: the Ray task was lost: {type(e).__name__}",
            source=first.source.name,
            period=first.label,
        )
    if failure is not None:
        raise failure  # outside the except blocks: Ray's exception (and its remote traceback text) is not chained
    if isinstance(payload, TaskFailure):
        raise redact_error(payload.error, first.source.redact)
    return payload
