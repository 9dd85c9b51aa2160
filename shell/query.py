"""Running one query so the terminal stays responsive: Ctrl-C cancels, a bar shows progress.

The query runs on a long-lived worker thread (Ray started from it lives on), the
calling thread watches it: it draws the progress bar and turns Ctrl-C into
``cursor.cancel()``. A second Ctrl-C stops waiting for a query that does not stop.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import ExitStack
from typing import Any

from piot.dbapi.connection import Cursor, QueryProgress
from piot.errors import OperationalError
from piot.shell.progress import ProgressView, Snapshot
from piot.shell.raystart import RayStarter, quiet_ray_logs

#: seconds a query runs before the bar appears (quick queries never flash one).
BAR_DELAY = 0.3
POLL = 0.1


class QueryCancelled(Exception):
    """The user cancelled the query with Ctrl-C."""

    def __init__(self, abandoned: bool = False) -> None:
        super().__init__("query cancelled")
        self.abandoned = abandoned


class QueryWorker:
    """One daemon thread that runs the queries of a session, one after another."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Callable[[], Any], Future[Any]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def submit(self, job: Callable[[], Any]) -> Future[Any]:
        """Run ``job`` on the worker thread; its result or exception lands in the future."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, args=(self._jobs,), name="piot-query", daemon=True)
            self._thread.start()
        future: Future[Any] = Future()
        self._jobs.put((job, future))
        return future

    @staticmethod
    def _loop(jobs: queue.Queue[tuple[Callable[[], Any], Future[Any]] | None]) -> None:
        while (item := jobs.get()) is not None:
            job, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(job())
            except BaseException as e:  # handed to the waiting thread
                future.set_exception(e)

    def abandon(self) -> None:
        """Leave a stuck query to finish on its own; later queries get a fresh thread."""
        self._jobs.put(None)
        self._jobs = queue.Queue()
        self._thread = None


class _Watch:
    """Cancellation state shared by the watching thread, the bar's thread and the worker."""

    def __init__(self, cursor: Cursor) -> None:
        self.cursor = cursor
        self.cancelled = threading.Event()
        self.presses = 0
        self.status = ""  # what the query waits for, when the cursor cannot tell
        self.waited_for_ray = False

    def cancel(self) -> None:
        self.presses += 1
        self.cancelled.set()
        self.cursor.cancel()


def run_query(
    cursor: Cursor,
    sql: str,
    *,
    worker: QueryWorker,
    ray: RayStarter | None,
    show_progress: bool,
    make_view: Callable[[Callable[[], None]], ProgressView] | None = None,
) -> None:
    """Run ``sql`` on ``cursor``; return when its result is ready.

    Args:
        ray: Ray starting in the background: once the query is planned (so mistakes show
            at once, and EXPLAIN never waits) it waits for Ray, and Ctrl-C stops the wait.
            None lets the engine start Ray itself (on the worker thread, which lives on).
        show_progress: draw a progress bar (only on a terminal).
        make_view: builds the bar from a cancel callback; default :class:`ProgressView`.

    Raises:
        QueryCancelled: the user pressed Ctrl-C.
        piot.Error: whatever the query raised.
    """
    watch = _Watch(cursor)

    def planned(progress: QueryProgress) -> None:
        """Called by the cursor once planning is over (and after each task): wait for Ray here."""
        if ray is None or watch.waited_for_ray:
            return
        watch.waited_for_ray = True
        if ray.state != "ready":
            watch.status = "starting Ray"
            if not ray.wait(watch.cancelled):
                raise QueryCancelled()
            watch.status = ""

    def job() -> None:
        quiet_ray_logs()  # the engine may start Ray itself
        if watch.cancelled.is_set():
            raise QueryCancelled()
        cursor.execute(sql, on_progress=planned)

    started = time.monotonic()
    future = worker.submit(job)
    with ExitStack() as stack:
        view: ProgressView | None = None
        while True:
            try:
                try:
                    future.result(timeout=POLL)
                    break
                except FutureTimeout:
                    pass
                if watch.cancelled.is_set():
                    cursor.cancel()  # the cursor may have begun its query after the first request
                if watch.presses >= 2:
                    worker.abandon()
                    raise QueryCancelled(abandoned=True)
                if view is None and show_progress and time.monotonic() - started >= BAR_DELAY:
                    view = stack.enter_context((make_view or ProgressView)(watch.cancel))
                if view is not None:
                    view.update(_snapshot(watch, started))
            except KeyboardInterrupt:
                watch.cancel()
            except OperationalError:
                if watch.cancelled.is_set():
                    raise QueryCancelled() from None
                raise


def _snapshot(watch: _Watch, started: float) -> Snapshot:
    progress = watch.cursor.progress
    elapsed = time.monotonic() - started
    if watch.cancelled.is_set():
        status = "cancelling"
    else:
        status = watch.status or (progress.state if progress is not None else "planning")
    if progress is None or progress.fragments_total == 0:
        return Snapshot(status, elapsed=elapsed)
    return Snapshot(status, progress.fragments_done, progress.fragments_total, progress.rows, elapsed)
