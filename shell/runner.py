"""Runs statements and backslash commands on one connection, and prints what they give.

Results go to ``out`` (or to the ``\\o`` file), messages and errors to ``err``. Errors are
one line (plus the SQL line and a caret when they point into the SQL), never a traceback.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import polars as pl

from piot.dbapi.connection import Connection, Cursor
from piot.errors import Error
from piot.shell import meta
from piot.shell.config import Preferences
from piot.shell.metadata import MetadataLoader
from piot.shell.output import hidden_notice, render
from piot.shell.progress import ProgressView
from piot.shell.query import QueryCancelled, QueryWorker, run_query
from piot.shell.raystart import RayStarter
from piot.shell.sink import write_frame
from piot.shell.statements import format_error, is_explain, one_line, split_script


@dataclass
class ShellState:
    """Settings the backslash commands change while the prompt runs."""

    format: str = "table"
    row_limit: int = 1000
    timing: bool = False
    expanded: bool = False
    explain: bool = False
    output: Path | None = None

    @classmethod
    def from_preferences(cls, preferences: Preferences, fmt: str | None = None) -> ShellState:
        """The starting state: the config file's preferences, ``--format`` over them."""
        return cls(
            format=fmt or preferences.format,
            row_limit=preferences.row_limit,
            timing=preferences.timing,
            expanded=preferences.expanded,
        )


class Runner:
    """Runs what the user typed, on one connection.

    Args:
        interactive: the prompt is running: results on screen stop at the row limit, and
            Ctrl-C cancels only the query (otherwise it also stops the script).
        show_progress: draw a progress bar while queries run (stdout is a terminal).
        ray: Ray starting in the background (the prompt starts it at once); queries that
            need it wait for it. When it was never started, the engine starts Ray on the
            query thread if a query needs it. :meth:`close` stops a Ray brought up here.
        metadata: the completion names loader, for ``\\refresh``.
        make_view: builds the progress bar (tests and non-terminal input pass their own).
    """

    def __init__(
        self,
        connection: Connection,
        state: ShellState,
        *,
        out: TextIO,
        err: TextIO,
        interactive: bool = False,
        show_progress: bool = False,
        ray: RayStarter | None = None,
        metadata: MetadataLoader | None = None,
        make_view: Callable[[Callable[[], None]], ProgressView] | None = None,
    ) -> None:
        self.connection = connection
        self.state = state
        self.out = out
        self.err = err
        self.interactive = interactive
        self.show_progress = show_progress
        self.ray = ray or RayStarter(connection.engine.options.ray_address)
        self.metadata = metadata
        self.make_view = make_view
        self.worker = QueryWorker()
        self.depth = 0
        #: whether any statement or command has failed so far (the exit code of a script).
        self.failed = False

    # -- printing -----------------------------------------------------------------------
    def say(self, text: str) -> None:
        """Print command output (help, table descriptions) on ``out``."""
        print(text, file=self.out, flush=True)

    def message(self, text: str) -> None:
        """Print a message on ``err``, without any secret of the catalog's sources."""
        print(self.connection.engine.catalog.redact(text), file=self.err, flush=True)

    def error(self, text: str) -> None:
        """Print ``ERROR: text`` on ``err``."""
        self.message(f"ERROR: {text}")

    def show(self, frame: pl.DataFrame) -> None:
        """Print a listing (``\\l``, ``\\d``...) on screen in the current format."""
        fmt = "vertical" if self.state.expanded and self.state.format == "table" else self.state.format
        self.say(render(frame, fmt))

    # -- running ------------------------------------------------------------------------
    def run_script(self, text: str) -> bool:
        """Run every statement and command of ``text``; True if all succeeded (``\\q`` raises Quit)."""
        ok = True
        for item in split_script(text):
            ok = self.run(item) and ok
        return ok

    def run(self, item: str) -> bool:
        """Run one statement or backslash command."""
        try:
            if item.lstrip().startswith("\\"):
                ok = meta.dispatch(self, item)
            else:
                ok = self.run_query(item)
        except (meta.Quit, BrokenPipeError):
            raise
        except Exception as e:  # a bug must still be one line, not a traceback
            self.error(f"internal error: {type(e).__name__}: {one_line(str(e))}")
            ok = False
        self.failed = self.failed or not ok
        return ok

    def run_query(self, sql: str) -> bool:
        """Run one SQL statement (as EXPLAIN when explain mode is on) and print its result."""
        text, offset = sql, 0
        if self.state.explain and not is_explain(sql):
            text, offset = "EXPLAIN\n" + sql, 1
        cursor = self.connection.cursor()
        started = time.monotonic()
        try:
            run_query(
                cursor,
                text,
                worker=self.worker,
                ray=None if self.ray.state == "idle" else self.ray,
                show_progress=self.show_progress,
                make_view=self.make_view,
            )
        except QueryCancelled as e:
            self.message("Query cancelled." + (" It is still finishing in the background." if e.abandoned else ""))
            if not self.interactive:  # Ctrl-C stops a script
                self.failed = True
                raise meta.Quit() from None
            return False
        except Error as e:
            self.message(format_error(e, sql, line_offset=offset))
            return False
        frame = cursor.fetch_polars()
        ok = self.emit(frame)
        for _, warning in cursor.messages:  # a source SHOW TABLES could not list
            self.message(f"WARNING: {warning}")
        if self.state.timing:
            self.message(timing_line(time.monotonic() - started, cursor))
        return ok

    def emit(self, frame: pl.DataFrame) -> bool:
        """Send a result to the ``\\o`` file or to the screen."""
        if self.state.output is not None:
            try:
                write_frame(frame, self.state.output)
            except (OSError, pl.exceptions.PolarsError) as e:
                self.error(f"cannot write {str(self.state.output)!r}: {one_line(getattr(e, 'strerror', None) or str(e))}")
                return False
            except Error as e:
                self.error(str(e))
                return False
            self.message(f"({frame.height} row{'' if frame.height == 1 else 's'} written to {self.state.output})")
            return True
        fmt = "vertical" if self.state.expanded and self.state.format == "table" else self.state.format
        limit = self.state.row_limit if self.interactive and self.state.row_limit > 0 else None
        print(render(frame, fmt, max_rows=limit), file=self.out, flush=True)
        if limit is not None and fmt in ("csv", "tsv", "json"):
            notice = hidden_notice(frame.height, min(limit, frame.height))
            if notice:
                self.message(notice)
        return True

    def close(self) -> None:
        """Stop the Ray this shell brought up (in the background, or through a query)."""
        self.ray.close()


def timing_line(seconds: float, cursor: Cursor) -> str:
    """``Time: 1.234 s`` and what the query did.

    >>> class C: progress = None
    >>> timing_line(0.5, C())  # type: ignore[arg-type]
    'Time: 0.500 s'
    """
    line = f"Time: {seconds:.3f} s"
    progress = cursor.progress
    if progress is not None and progress.fragments_total:
        line += f" ({progress.fragments_total} fragments, {progress.rows} rows read)"
    return line
