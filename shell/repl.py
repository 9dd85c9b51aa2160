"""The interactive prompt: multi-line statements ending with ``;``, highlighting, history,
suggestions from history, completion; Ctrl-C clears the line, Ctrl-D or ``\\q`` quits.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.completion import Completer
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.input import Input
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.lexers import PygmentsLexer
from prompt_toolkit.output import Output
from pygments.lexers.sql import PostgresLexer

import piot
from piot.shell import meta
from piot.shell.runner import Runner
from piot.shell.statements import is_complete

PROMPT = "piot> "


class BoundedFileHistory(FileHistory):
    """A history file that keeps only the newest ``size`` entries."""

    def __init__(self, filename: Path, size: int) -> None:
        super().__init__(str(filename))
        self.size = size
        self._trim()

    def load_history_strings(self) -> Iterable[str]:
        for count, entry in enumerate(super().load_history_strings()):
            if count >= self.size:
                return
            yield entry

    def _trim(self) -> None:
        entries = list(super().load_history_strings())  # newest first
        if len(entries) <= self.size:
            return
        path = Path(str(self.filename))
        path.write_text("", encoding="utf-8")
        for entry in reversed(entries[: self.size]):
            self.store_string(entry)


def open_history(path: Path, size: int) -> History:
    """The history file (created with its folder); in memory only when it cannot be written."""
    if size == 0:
        return InMemoryHistory()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
        return BoundedFileHistory(path, size)
    except OSError:
        return InMemoryHistory()


def _continuation(width: int, line_number: int, wrap_count: int) -> str:
    return "." * (width - 1) + " "


def key_bindings() -> KeyBindings:
    """Enter runs a finished statement (ending with ``;``) or a command; otherwise starts a new line."""
    bindings = KeyBindings()

    @bindings.add("enter")
    def _(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        state = buffer.complete_state
        if state is not None and state.current_completion is not None:
            buffer.complete_state = None  # Enter accepts the chosen completion
            return
        if is_complete(buffer.text):
            buffer.validate_and_handle()
        else:
            buffer.insert_text("\n")

    return bindings


def make_session(
    completer: Completer,
    history: History,
    *,
    input: Input | None = None,
    output: Output | None = None,
) -> PromptSession[str]:
    """A prompt session set up for SQL."""
    return PromptSession(
        history=history,
        auto_suggest=AutoSuggestFromHistory(),
        lexer=PygmentsLexer(PostgresLexer),
        completer=completer,
        complete_while_typing=True,
        multiline=True,
        key_bindings=key_bindings(),
        prompt_continuation=_continuation,
        input=input,
        output=output,
    )


def run_repl(runner: Runner, session: PromptSession[str]) -> int:
    """Read and run statements until ``\\q`` or Ctrl-D; the exit code is 0."""
    sources = ", ".join(sorted(runner.connection.engine.catalog.sources))
    runner.message(f"piot-sql {piot.__version__} — sources: {sources}. \\? for help, \\q to quit.")
    while True:
        try:
            text = session.prompt(PROMPT)
        except KeyboardInterrupt:
            continue
        except EOFError:
            return 0
        word = text.strip().rstrip(";").strip().lower()
        if word in ("quit", "exit", "help"):
            text = "\\?" if word == "help" else "\\q"
        try:
            runner.run_script(text)
        except meta.Quit:
            return 0
        except KeyboardInterrupt:
            runner.message("Cancelled.")
