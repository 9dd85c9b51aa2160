"""The progress bar drawn while a query runs: fragments done of total, rows read, time elapsed.

It is prompt-toolkit's progress bar (run in its own thread); Ctrl-C inside it calls back
to cancel the query instead of raising in the middle of the engine, and whatever else is
typed meanwhile waits for the next prompt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

from prompt_toolkit.formatted_text import AnyFormattedText
from prompt_toolkit.input import Input
from prompt_toolkit.input.typeahead import store_typeahead
from prompt_toolkit.key_binding import KeyBindings, KeyPress, KeyPressEvent
from prompt_toolkit.keys import Keys
from prompt_toolkit.layout.dimension import AnyDimension, D
from prompt_toolkit.output import Output
from prompt_toolkit.shortcuts import ProgressBar
from prompt_toolkit.shortcuts.progress_bar import formatters

if TYPE_CHECKING:
    from prompt_toolkit.shortcuts.progress_bar.base import ProgressBarCounter

STATUS_WIDTH = 12


@dataclass(frozen=True)
class Snapshot:
    """What the bar shows at one moment."""

    status: str = "planning"
    fragments_done: int = 0
    fragments_total: int = 0
    rows: int = 0
    elapsed: float = 0.0


def describe(snapshot: Snapshot) -> str:
    """The text right of the bar.

    >>> describe(Snapshot("running", 3, 40, 12345, 2.04))
    '3/40 fragments · 12,345 rows · 2.0 s'
    >>> describe(Snapshot("starting Ray", elapsed=0.5))
    '0.5 s'
    """
    parts = []
    if snapshot.fragments_total:
        parts.append(f"{snapshot.fragments_done}/{snapshot.fragments_total} fragments")
        parts.append(f"{snapshot.rows:,} rows")
    parts.append(f"{snapshot.elapsed:.1f} s")
    return " · ".join(parts)


class _Stats(formatters.Formatter):
    """The fragments/rows/time text, read from the view's latest snapshot."""

    def __init__(self, view: ProgressView) -> None:
        self.view = view

    def format(self, progress_bar: ProgressBar, progress: ProgressBarCounter[object], width: int) -> AnyFormattedText:
        return " " + describe(self.view.snapshot)

    def get_width(self, progress_bar: ProgressBar) -> AnyDimension:
        return D.exact(len(describe(self.view.snapshot)) + 1)


class ProgressView:
    """A one-line progress bar on the terminal for as long as the ``with`` block lasts.

    Args:
        on_cancel: called (from the bar's thread) when the user presses Ctrl-C.
        output: where to draw; default the terminal of the current prompt-toolkit session.
        input: where Ctrl-C is read from; default the session's terminal.
    """

    def __init__(self, on_cancel: Callable[[], None], *, output: Output | None = None, input: Input | None = None) -> None:
        self.snapshot = Snapshot()
        self._on_cancel = on_cancel
        self._output = output
        self._input = input
        self._bar: ProgressBar | None = None
        self._counter: ProgressBarCounter[object] | None = None
        self._typed: list[KeyPress] = []

    def __enter__(self) -> ProgressView:
        bar = ProgressBar(
            formatters=[formatters.Label(suffix=" "), formatters.Bar(sym_a="#", sym_b="#", sym_c="."), _Stats(self)],
            key_bindings=self._keep_typeahead(),
            cancel_callback=self._on_cancel,
            output=self._output,
            input=self._input,
        )
        bar.__enter__()
        bar.app.erase_when_done = True
        self._bar = bar
        self._counter = bar(label=lambda: self.snapshot.status.ljust(STATUS_WIDTH))
        return self

    def _keep_typeahead(self) -> KeyBindings:
        """Keys typed while the query runs (but Ctrl-C) are kept for the next prompt."""
        bindings = KeyBindings()

        @bindings.add(Keys.Any)
        def _(event: KeyPressEvent) -> None:
            self._typed.extend(event.key_sequence)

        return bindings

    def update(self, snapshot: Snapshot) -> None:
        """Show ``snapshot`` at the next redraw."""
        self.snapshot = snapshot
        if self._counter is not None and self._bar is not None:
            self._counter.total = snapshot.fragments_total or None
            self._counter.items_completed = snapshot.fragments_done
            self._bar.invalidate()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.__exit__(kind, value, tb)
            store_typeahead(self._bar.input, self._typed)
            self._bar = None
