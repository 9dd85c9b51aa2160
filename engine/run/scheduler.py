"""The one place that submits Ray tasks and waits on them, for every front-end.

:func:`run_tasks` runs one function over a list of :class:`TaskItem` on Ray: at most
``max_concurrency`` in flight, each with the run's Ray options overlaid by its own (the seam
for locality, per-source caps and retries), a shared value put in the object store once,
progress counted as tasks finish, the query's cancel flag and deadline watched while it
waits, and every failure turned into one redacted piot error naming the task.

A run that is cancelled, times out or fails puts its id on the cancel board
(:func:`piot.run.runtime.cancel_board`); its tasks still running or queued see it while they
wait for their source and return at once, so they stop holding the cluster. Tasks are never
``ray.cancel()``ed: a cancel that races a task's completion aborts the whole driver process in
Ray's core worker ("Tried to complete task that was not pending", ray-project/ray#54846).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from piot.connectors.limits import ReadControl, current_control
from piot.errors import Error, OperationalError, redact_error

#: how often the driver looks at the query's cancel flag and deadline while tasks run, in seconds.
WAIT_SECONDS = 0.1


@dataclass(frozen=True)
class TaskLimits:
    """What a task needs to stop in time: its run's id and cancel board, and the time left."""

    query_id: str = ""
    board: Any = None
    seconds_left: float | None = None
    query_timeout: float | None = None


@dataclass(frozen=True)
class TaskFailure:
    """A piot error a task returns instead of raising (it reaches the driver as it is)."""

    error: Error


def _unchanged(text: str) -> str:
    return text


@dataclass(frozen=True)
class TaskItem:
    """One Ray task of a run.

    Attributes:
        payload: what the task function receives first (small and picklable).
        label: how an error names the task (``source 'pg', period [2024-01-01, 2024-02-01)``).
        source: the catalog source it reads, if any (carried by its errors).
        period: its period as text, if any (carried by its errors).
        weight: how many fragments it stands for, for progress.
        options: Ray options for this task over the run's (``resources``, ``max_retries``, ...).
        redact: hides the secrets of what it reads in anything said about it.
    """

    payload: Any
    label: str
    source: str | None = None
    period: str | None = None
    weight: int = 1
    options: Mapping[str, Any] = field(default_factory=dict)
    redact: Callable[[str], str] = _unchanged


@dataclass
class Progress:
    """Counters a front-end can watch while a run goes on (updated by the driver)."""

    fragments_total: int = 0
    fragments_done: int = 0
    rows: int = 0
    started: float = field(default_factory=time.monotonic)
    cancelled: threading.Event = field(default_factory=threading.Event)

    @property
    def elapsed(self) -> float:
        """Seconds since the run started."""
        return time.monotonic() - self.started


_REMOTES: dict[Callable[..., Any], Any] = {}


def _remote(function: Callable[..., Any]) -> Any:
    import ray

    if function not in _REMOTES:
        _REMOTES[function] = ray.remote(function)
    return _REMOTES[function]


def run_tasks(
    function: Callable[[Any, TaskLimits, Any], Any],
    items: Sequence[TaskItem],
    *,
    shared: Any = None,
    max_concurrency: int = 100,
    remote_options: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    on_result: Callable[[int, Any], int] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    until: Callable[[], bool] | None = None,
) -> list[Any]:
    """Run ``function(item.payload, limits, shared)`` on Ray for every item; return the results in item order.

    ``on_result(index, result)`` sees each result as it arrives (in completion order) and
    returns the rows it holds, for progress. Once ``until()`` is true (asked after each
    result) no more tasks are sent, those in flight are told to stop, and the results not
    arrived are None. The current
    :class:`~piot.connectors.limits.ReadControl` (set by the front-end) gives the deadline;
    ``progress.cancelled`` stops the run. Either way, and on any failure, the tasks still in
    flight are told to stop through the cancel board and the first error is raised.
    """
    import ray

    from piot.run.runtime import cancel_board, check_feasible

    progress = progress or Progress()
    progress.fragments_total = sum(item.weight for item in items)
    control = current_control()
    base_options = dict(remote_options or {})
    base = _remote(function).options(**base_options)
    for options in _distinct(item.options for item in items if item.options):  # a task no node can hold would wait forever
        check_feasible({**base_options, **options}, who="a task's remote_options")
    shared_ref = ray.put(shared) if shared is not None else None
    board, query_id = cancel_board(), uuid.uuid4().hex
    results: list[Any] = [None] * len(items)
    in_flight: dict[Any, int] = {}

    def wait_one() -> None:
        ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=WAIT_SECONDS)
        waiting = [items[index] for ref, index in in_flight.items() if ref not in ready]
        check_cancel(progress, control, waiting[0] if waiting else None)
        for ref in ready:
            index = in_flight.pop(ref)
            results[index] = _result(ref, items[index])
            progress.fragments_done += items[index].weight
            progress.rows += on_result(index, results[index]) if on_result is not None else 0
            if on_progress is not None:
                on_progress(progress)

    def done() -> bool:
        return until is not None and until()

    try:
        for index, item in enumerate(items):
            while len(in_flight) >= max(1, max_concurrency) and not done():
                wait_one()
            if done():
                break
            check_cancel(progress, control)
            limits = TaskLimits(query_id, board, control.remaining(), control.query_timeout)
            remote = _remote(function).options(**{**base_options, **item.options}) if item.options else base
            in_flight[remote.remote(item.payload, limits, shared_ref)] = index
        while in_flight and not done():
            wait_one()
        if in_flight:  # stopped early: the rest is not needed
            board.cancel.remote(query_id)
            in_flight.clear()
    except BaseException:
        if in_flight:
            board.cancel.remote(query_id)
        in_flight.clear()
        raise
    return results


def _distinct(options: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Each different options mapping once (they may hold unhashable values)."""
    seen: list[Mapping[str, Any]] = []
    for option in options:
        if option not in seen:
            seen.append(option)
    return seen


def check_cancel(progress: Progress, control: ReadControl, waiting: TaskItem | None = None) -> None:
    """Raise if the run was cancelled or is past its deadline (naming a task it still waits for)."""
    if progress.cancelled.is_set() or control.cancelled():
        raise OperationalError("query cancelled")
    remaining = control.remaining()
    if remaining is not None and remaining <= 0:
        message = f"query timeout of {control.query_timeout:g} s exceeded"
        if waiting is None:
            raise OperationalError(message)
        raise OperationalError(f"{waiting.label}: {message}", source=waiting.source, period=waiting.period)


def _result(ref: Any, item: TaskItem) -> Any:
    """The task's result; its failure as a piot error with no chain back to Ray's exception.

    A task's exception arrives pickled (piot errors cross as message and fields only, already
    redacted where they were raised); anything else is redacted here with the item's secrets.
    """
    import ray

    failure: Error | None = None
    try:
        payload = ray.get(ref)
    except ray.exceptions.RayTaskError as e:
        cause = e.cause if isinstance(getattr(e, "cause", None), BaseException) else None
        if isinstance(cause, Error):
            failure = _placed(type(cause)(item.redact(cause.message), line=cause.line, col=cause.col, source=cause.source, period=cause.period), item)
        else:
            detail = item.redact(str(cause or e).strip().splitlines()[-1])
            name = type(cause).__name__ if cause is not None else type(e).__name__
            failure = OperationalError(f"{item.label}: the task failed: {name}: {detail}", source=item.source, period=item.period)
    except ray.exceptions.RayError as e:
        failure = OperationalError(f"{item.label}: the Ray task was lost: {type(e).__name__}", source=item.source, period=item.period)
    if failure is not None:
        raise failure  # outside the except blocks: Ray's exception (and its remote traceback text) is not chained
    if isinstance(payload, TaskFailure):
        raise _placed(redact_error(payload.error, item.redact), item)
    return payload


def _placed(error: Error, item: TaskItem) -> Error:
    """``error``, named after the task it came from when it does not say its period itself."""
    if error.period is not None or item.period is None:
        return error
    return type(error)(f"{item.label}: {error.message}", line=error.line, col=error.col, source=error.source, period=item.period)
