"""Cancelling a running query from the shell: Ctrl-C in the progress bar, Ctrl-C as a signal,
and a second Ctrl-C for a query that does not stop; the next query runs as usual."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import pytest
from test_terminal import write_slow_source

import piot
from piot.shell.progress import ProgressView, Snapshot
from piot.shell.query import QueryCancelled, QueryWorker, run_query
from piot.shell.runner import Runner, ShellState

SLOW = "select count(*) as n from s.ticks where day between '2000-01-01' and '2000-12-31'"


class FakeView(ProgressView):
    """A bar that records what it was shown and presses Ctrl-C (or raises it) after a few updates."""

    def __init__(self, on_cancel: Callable[[], None], *, signal: bool = False, presses: int = 1, after: int = 1) -> None:
        super().__init__(on_cancel)
        self.signal = signal
        self.presses = presses
        self.after = after
        self.seen: list[Snapshot] = []

    def __enter__(self) -> FakeView:
        return self

    def update(self, snapshot: Snapshot) -> None:
        self.seen.append(snapshot)
        if self.presses and snapshot.fragments_done >= self.after:
            self.presses -= 1
            if self.signal:
                raise KeyboardInterrupt
            self._on_cancel()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        pass


@pytest.fixture(scope="module")
def slow_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_slow_source(tmp_path_factory.mktemp("slow"))


@pytest.mark.parametrize("signal", [False, True], ids=["ctrl-c-in-the-bar", "sigint"])
def test_ctrl_c_cancels_and_the_next_query_runs(slow_catalog: Path, ray_session: None, signal: bool) -> None:
    views: list[FakeView] = []

    def make_view(cancel: Callable[[], None]) -> FakeView:
        views.append(FakeView(cancel, signal=signal))
        return views[-1]

    out, err = io.StringIO(), io.StringIO()
    connection = piot.connect(str(slow_catalog), max_concurrency=1)
    runner = Runner(connection, ShellState(), out=out, err=err, interactive=True, show_progress=True, make_view=make_view)
    assert not runner.run_script(SLOW)
    assert err.getvalue() == "Query cancelled.\n" and out.getvalue() == ""
    seen = views[0].seen
    assert seen[-1].fragments_total == 366 and 1 <= seen[-1].fragments_done < 366
    assert connection.cursor().execute("select count(*) from s.small").fetchone() == (2,)
    runner.close()


class StuckCursor:
    """A cursor whose query never ends by itself and ignores cancel."""

    def __init__(self) -> None:
        self.progress = None
        self.release = threading.Event()
        self.cancels = 0

    def execute(self, sql: str, on_progress: object = None) -> None:
        self.release.wait(30)

    def cancel(self) -> None:
        self.cancels += 1


def test_a_second_ctrl_c_stops_waiting_for_a_query_that_does_not_stop() -> None:
    cursor = StuckCursor()
    worker = QueryWorker()
    with pytest.raises(QueryCancelled) as raised:
        run_query(
            cursor,  # type: ignore[arg-type]
            "select 1",
            worker=worker,
            ray=None,
            show_progress=True,
            make_view=lambda cancel: FakeView(cancel, presses=2, signal=True, after=0),
        )
    assert raised.value.abandoned and cursor.cancels >= 2
    cursor.release.set()
    assert worker.submit(lambda: 42).result(timeout=10) == 42  # a fresh thread runs the next query
