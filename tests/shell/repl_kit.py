"""Helpers for the prompt tests: small SQLite sources, and a driver that types into the REPL
through a prompt-toolkit pipe, waiting for each key to be handled (completion is asynchronous).
"""

from __future__ import annotations

import io
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.application import create_app_session
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

import piot
from piot.shell import meta
from piot.shell.completer import SqlCompleter
from piot.shell.metadata import MetadataLoader
from piot.shell.repl import make_session, run_repl
from piot.shell.runner import Runner, ShellState

TRADES = [
    (1, "2024-01-31", "ABC", 10.5, "XNYS"),
    (2, "2024-02-01", "ABC", 20.0, None),
    (3, "2024-03-01", "XYZ", 30.0, "XNAS"),
]


def write_sources(root: Path) -> Path:
    """Two SQLite sources (``m``: trades, days; ``ref``: symbols) and a catalog; returns the catalog path."""
    with sqlite3.connect(root / "m.db") as db:
        db.execute("CREATE TABLE trades (id INTEGER, trade_date DATE, symbol TEXT, price REAL, venue TEXT)")
        db.executemany("INSERT INTO trades VALUES (?, ?, ?, ?, ?)", TRADES)
        db.execute("CREATE TABLE days (day DATE, note TEXT)")
    with sqlite3.connect(root / "ref.db") as db:
        db.execute("CREATE TABLE symbols (symbol TEXT, name TEXT)")
        db.executemany("INSERT INTO symbols VALUES (?, ?)", [("ABC", "Abc Corp"), ("XYZ", "Xyz Inc")])
    catalog = root / "piot.toml"
    catalog.write_text(
        '[sources.m]\nurl = "sqlite://m.db"\n[sources.m.tables.trades]\ndate_column = "trade_date"\ntime_unit = "monthly"\n'
        '[sources.ref]\nurl = "sqlite://ref.db"\n'
    )
    return catalog


@dataclass
class Shell:
    """A runner printing into strings, as the prompt would run it."""

    runner: Runner
    out: io.StringIO = field(default_factory=io.StringIO)
    err: io.StringIO = field(default_factory=io.StringIO)


def make_shell(catalog: Path, *, interactive: bool = True, **state: object) -> Shell:
    out, err = io.StringIO(), io.StringIO()
    connection = piot.connect(str(catalog))
    runner = Runner(connection, ShellState(**state), out=out, err=err, interactive=interactive)  # type: ignore[arg-type]
    return Shell(runner, out, err)


class Driver:
    """Types into a running REPL; each ``type``/``tab`` waits until the prompt has handled the keys."""

    def __init__(self, session: PromptSession[str], keys: PipeInput) -> None:
        self.session = session
        self.keys = keys
        self.prompts = 0
        self.result: list[int] = []
        original = session.prompt

        def counting_prompt(*args: object, **kwargs: object) -> str:
            self.prompts += 1
            return original(*args, **kwargs)  # type: ignore[arg-type]

        session.prompt = counting_prompt  # type: ignore[method-assign]

    @property
    def text(self) -> str:
        return self.session.default_buffer.text

    def _wait(self, condition: object, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():  # type: ignore[operator]
            if time.monotonic() > deadline:
                raise AssertionError(f"the prompt did not react in time (buffer: {self.text!r})")
            time.sleep(0.01)

    def _ready(self) -> None:
        self._wait(lambda: self.result or (self.session.app.is_running and self.prompts > 0))

    def type(self, chunk: str) -> None:
        """Send keys; plain text is waited for until it stands before the cursor, other keys until
        the buffer (text or cursor) changes."""
        self._ready()
        buffer = self.session.default_buffer
        before = (buffer.text, buffer.cursor_position)
        self.keys.send_text(chunk)
        if chunk.isprintable():
            self._wait(lambda: buffer.document.text_before_cursor.endswith(chunk))
        else:
            self._wait(lambda: (buffer.text, buffer.cursor_position) != before)

    def tab(self) -> str:
        """Press Tab; wait until the first completion is in the buffer and return the buffer's text."""
        self._ready()
        buffer = self.session.default_buffer
        self.keys.send_text("\t")
        self._wait(lambda: buffer.complete_state is not None and buffer.complete_state.current_completion is not None)
        return buffer.text

    def completions(self, timeout: float = 10.0) -> list[str]:
        """The texts of the completions the menu offers, once it has opened (completion runs in the background)."""
        buffer = self.session.default_buffer
        deadline = time.monotonic() + timeout
        while (buffer.complete_state is None or not buffer.complete_state.completions) and time.monotonic() < deadline:
            time.sleep(0.01)
        state = buffer.complete_state
        return [c.text for c in state.completions] if state is not None else []

    def enter(self) -> None:
        """Press Enter on a finished statement and wait for the next prompt (or the end)."""
        self._ready()
        count = self.prompts
        self.keys.send_text("\r")
        self._wait(lambda: self.result or (self.prompts > count and self.session.app.is_running))

    def submit(self, text: str) -> None:
        """Type ``text`` and press Enter."""
        self.type(text)
        self.enter()


@contextmanager
def running_repl(shell: Shell, loader: MetadataLoader | None = None) -> Iterator[Driver]:
    """Run the REPL of ``shell`` in a thread on a pipe; the block drives it and must end it with \\q."""
    with create_pipe_input() as keys, create_app_session(input=keys, output=DummyOutput()):
        if loader is None:
            loader = MetadataLoader(shell.runner.connection)
            loader.start()
            loader.wait()
        shell.runner.metadata = loader
        completer = SqlCompleter(lambda: loader.metadata, loader.request, meta.completions())
        session = make_session(completer, InMemoryHistory(), input=keys, output=DummyOutput())
        driver = Driver(session, keys)
        thread = threading.Thread(target=lambda: driver.result.append(run_repl(shell.runner, session)), daemon=True)
        thread.start()
        try:
            yield driver
        finally:
            thread.join(30)
            shell.runner.close()
        assert not thread.is_alive(), "the REPL did not stop"
