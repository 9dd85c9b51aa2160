"""Backslash commands of the prompt, each registered with :func:`command` and listed by ``\\?``.

A handler takes the runner and the text after the command, and returns True on success.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from piot.dbapi.catalog_statements import describe_frame, parse_table_name, sources_frame, tables_listing
from piot.errors import Error
from piot.shell.output import FORMATS
from piot.shell.sink import file_format
from piot.shell.statements import one_line

if TYPE_CHECKING:
    from piot.shell.runner import Runner

Handler = Callable[["Runner", str], bool]
#: how deeply \i may run scripts that run scripts.
MAX_INCLUDE_DEPTH = 16


class Quit(Exception):
    """``\\q``: leave the prompt (or stop the script)."""


@dataclass(frozen=True)
class MetaCommand:
    """One backslash command."""

    name: str
    arguments: str
    help: str
    handler: Handler


COMMANDS: dict[str, MetaCommand] = {}
_ALIASES: dict[str, str] = {}


def command(name: str, arguments: str = "", *, help: str, aliases: tuple[str, ...] = ()) -> Callable[[Handler], Handler]:
    """Register the decorated function as the backslash command ``name``."""

    def register(handler: Handler) -> Handler:
        COMMANDS[name] = MetaCommand(name, arguments, help, handler)
        for alias in aliases:
            _ALIASES[alias] = name
        return handler

    return register


def parse_command(line: str) -> tuple[str, str]:
    """Split ``\\name argument`` into the command and its (stripped) argument.

    >>> parse_command("\\\\T  csv "), parse_command("\\\\x"), parse_command("\\\\dtmarkets")
    (('\\\\T', 'csv'), ('\\\\x', ''), ('\\\\dtmarkets', ''))
    """
    name, _, argument = line.strip().partition(" ")
    return name, argument.strip().rstrip(";").strip()


def dispatch(runner: Runner, line: str) -> bool:
    """Run one backslash command line; unknown commands are an error."""
    name, argument = parse_command(line)
    found = COMMANDS.get(_ALIASES.get(name, name))
    if found is None:
        runner.error(f"unknown command {name} (\\? lists the commands)")
        return False
    return found.handler(runner, argument)


def completions() -> list[tuple[str, str]]:
    """(command, help) pairs for the completer."""
    return [(c.name, c.help) for c in COMMANDS.values()]


def parse_switch(argument: str, current: bool) -> bool | None:
    """``on``/``off``, or the opposite of ``current`` when empty; None when neither.

    >>> parse_switch("", False), parse_switch("off", True), parse_switch("maybe", True)
    (True, False, None)
    """
    word = argument.lower()
    if not word:
        return not current
    return {"on": True, "off": False}.get(word)


def _toggle(runner: Runner, argument: str, field: str, label: str) -> bool:
    value = parse_switch(argument, getattr(runner.state, field))
    if value is None:
        runner.error(f"say on or off, not {argument!r}")
        return False
    setattr(runner.state, field, value)
    runner.message(f"{label} is {'on' if value else 'off'}.")
    return True


@command("\\?", help="show this help", aliases=("\\h", "\\help", "help"))
def show_help(runner: Runner, argument: str) -> bool:
    width = max(len(f"{c.name} {c.arguments}") for c in COMMANDS.values())
    lines = ["End each SQL statement with ; (it may span several lines). Tab completes; Ctrl-C cancels a query."]
    lines += [f"  {(c.name + ' ' + c.arguments).ljust(width)}  {c.help}" for c in COMMANDS.values()]
    runner.say("\n".join(lines))
    return True


@command("\\q", help="quit", aliases=("quit", "exit", "\\quit"))
def quit_(runner: Runner, argument: str) -> bool:
    raise Quit()


@command("\\l", help="list the catalog's sources")
def list_sources(runner: Runner, argument: str) -> bool:
    runner.show(sources_frame(runner.connection.engine.catalog))
    return True


@command("\\dt", "[source]", help="list the tables of every source, or of one")
def list_source_tables(runner: Runner, argument: str) -> bool:
    try:
        listing = tables_listing(runner.connection.engine.catalog, argument or None)
    except Error as e:
        runner.error(str(e))
        return False
    for failure in listing.failures:
        runner.error(failure)
    runner.show(listing.frame)
    return not listing.failures


@command("\\d", "TABLE", help="columns of a table, with their types and its date column")
def describe_table(runner: Runner, argument: str) -> bool:
    if not argument:
        return list_source_tables(runner, "")
    try:
        info = runner.connection.engine.schemas.table(*parse_table_name(argument, runner.connection.engine.options.dialect))
    except Error as e:
        runner.error(one_line(str(e)))
        return False
    runner.show(describe_frame(info))
    if info.settings.date_column:
        unit = info.settings.time_unit or runner.connection.engine.options.time_unit or "auto"
        runner.say(f"Split on {info.settings.date_column} ({unit}).")
    else:
        temporal = [c.name for c in info.columns if c.type.is_temporal]
        hint = f" (candidates: {', '.join(temporal)})" if temporal else ""
        runner.say(f"No date column in the catalog: a query splits on the one DATE/TIMESTAMP column it bounds on both sides{hint}.")
    return True


@command("\\timing", "[on|off]", help="show how long each query takes")
def timing(runner: Runner, argument: str) -> bool:
    return _toggle(runner, argument, "timing", "Timing")


@command("\\x", "[on|off]", help="expanded display: one block per row")
def expanded(runner: Runner, argument: str) -> bool:
    return _toggle(runner, argument, "expanded", "Expanded display")


@command("\\explain", "[on|off]", help="show every query's plan (as EXPLAIN) instead of running it")
def explain(runner: Runner, argument: str) -> bool:
    return _toggle(runner, argument, "explain", "Explain mode")


@command("\\T", "[FORMAT]", help=f"output format: {', '.join(FORMATS)}")
def set_format(runner: Runner, argument: str) -> bool:
    if not argument:
        runner.message(f"Output format is {runner.state.format} (one of {', '.join(FORMATS)}).")
        return True
    if argument.lower() not in FORMATS:
        runner.error(f"unknown format {argument!r}: use one of {', '.join(FORMATS)}")
        return False
    runner.state.format = argument.lower()
    runner.message(f"Output format is {runner.state.format}.")
    return True


@command("\\o", "[FILE]", help="send results to FILE (.csv, .tsv, .json, .parquet); alone: back to the screen")
def output_to(runner: Runner, argument: str) -> bool:
    if not argument:
        runner.state.output = None
        runner.message("Results go to the screen.")
        return True
    path = Path(argument).expanduser()
    try:
        fmt = file_format(path)
    except Error as e:
        runner.error(str(e))
        return False
    if not path.parent.is_dir():
        runner.error(f"cannot write {str(path)!r}: directory {str(path.parent)!r} does not exist")
        return False
    runner.state.output = path
    runner.message(f"Results go to {path} ({fmt}); \\o alone sends them back to the screen.")
    return True


@command("\\i", "FILE", help="run the statements and commands in FILE")
def include(runner: Runner, argument: str) -> bool:
    if not argument:
        runner.error("\\i needs a file name")
        return False
    path = Path(argument).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        runner.error(f"cannot read {str(path)!r}: {e.strerror}")
        return False
    except UnicodeDecodeError:
        runner.error(f"cannot read {str(path)!r}: not UTF-8 text")
        return False
    if runner.depth >= MAX_INCLUDE_DEPTH:
        runner.error(f"\\i {argument}: scripts include each other more than {MAX_INCLUDE_DEPTH} deep")
        return False
    runner.depth += 1
    try:
        return runner.run_script(text)
    finally:
        runner.depth -= 1


@command("\\refresh", help="reload the table and column names used for completion")
def refresh(runner: Runner, argument: str) -> bool:
    if runner.metadata is not None:
        runner.metadata.refresh()
    runner.message("Reloading table and column names in the background.")
    return True
