"""The ``piot-sql`` command: an interactive SQL prompt, or one-shot runs with -c, -f or stdin.

Exit code 0 on success and 1 on any error; results go to stdout, messages to stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import sqlglot
from sqlglot.tokens import TokenType

import piot
from piot.connectors.catalog import TIME_UNITS
from piot.errors import Error
from piot.shell.output import FORMATS, render

SCREEN_ROWS = 1000
HELP = """\
End each statement with ;  (it may span several lines).
  \\q        quit
  \\l        list the catalog's sources
  \\?        this help
Prefix a query with EXPLAIN to see its fragments without running it."""


def find_catalog(explicit: str | None) -> Path:
    """The catalog to use: --catalog, else $PIOT_CATALOG, else ./piot.toml, else ~/.config/piot/catalog.toml."""
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get("PIOT_CATALOG"):
        return Path(os.environ["PIOT_CATALOG"]).expanduser()
    for candidate in (Path("piot.toml"), Path("~/.config/piot/catalog.toml").expanduser()):
        if candidate.exists():
            return candidate
    raise Error("no catalog: pass --catalog FILE, set PIOT_CATALOG, or create ./piot.toml (try --demo)")


def split_statements(text: str) -> list[str]:
    """Cut a script into statements at semicolons outside strings and comments.

    >>> split_statements("select 1; select ';' ;\\n")
    ['select 1', "select ';'"]
    """
    statements, start = [], 0
    try:
        tokens = sqlglot.Tokenizer().tokenize(text)
    except sqlglot.errors.TokenError:
        return [text.strip()] if text.strip() else []
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            statements.append(text[start : token.start].strip())
            start = token.end + 1
    statements.append(text[start:].strip())
    return [s for s in statements if s]


def format_error(error: Error, sql: str | None = None) -> str:
    """One line (plus the SQL line and a caret for syntax errors) describing ``error``."""
    message = f"ERROR: {error}"
    if sql and error.line and error.col:
        lines = sql.splitlines()
        if 0 < error.line <= len(lines):
            line = lines[error.line - 1]
            message += f"\n  {line}\n  {' ' * max(error.col - 1, 0)}^"
    return message


class Runner:
    """Runs statements on one connection and prints their results."""

    def __init__(self, connection: piot.Connection, fmt: str, out: TextIO, err: TextIO) -> None:
        self.connection = connection
        self.fmt = fmt
        self.out = out
        self.err = err

    def run(self, sql: str, *, interactive: bool = False) -> bool:
        """Run one statement or meta-command; print the result or the error. True on success."""
        text = sql.strip().rstrip(";").strip()
        if not text:
            return True
        if text.startswith("\\"):
            return self.meta(text)
        cursor = self.connection.cursor()
        try:
            cursor.execute(text)
        except Error as e:
            print(format_error(e, text), file=self.err)
            return False
        except KeyboardInterrupt:
            cursor.cancel()
            print("cancelled", file=self.err)
            return False
        frame = cursor.fetch_polars()
        print(render(frame, self.fmt, max_rows=SCREEN_ROWS if interactive else None), file=self.out)
        return True

    def meta(self, command: str) -> bool:
        """The backslash commands of the prompt."""
        name = command.split()[0]
        if name in ("\\?", "\\h", "\\help"):
            print(HELP, file=self.out)
        elif name == "\\l":
            catalog = self.connection.engine.catalog
            for source in catalog.sources.values():
                print(f"{source.name}\t{source.kind.name}\t{source.display_url}", file=self.out)
        else:
            print(f"ERROR: unknown command {name} (\\? lists the commands)", file=self.err)
            return False
        return True


def interactive(runner: Runner) -> int:
    """The prompt: multi-line statements ending with ';', history, SQL highlighting."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
    from prompt_toolkit.history import FileHistory
    from prompt_toolkit.key_binding import KeyBindings
    from prompt_toolkit.lexers import PygmentsLexer
    from pygments.lexers.sql import PostgresLexer

    bindings = KeyBindings()

    @bindings.add("enter")
    def _(event) -> None:  # type: ignore[no-untyped-def]
        text = event.current_buffer.text.strip()
        if not text or text.endswith(";") or text.startswith("\\") or text.lower() in ("quit", "exit"):
            event.current_buffer.validate_and_handle()
        else:
            event.current_buffer.insert_text("\n")

    history_path = Path("~/.local/share/piot/history").expanduser()
    history_path.parent.mkdir(parents=True, exist_ok=True)
    session: PromptSession[str] = PromptSession(
        history=FileHistory(str(history_path)),
        auto_suggest=AutoSuggestFromHistory(),
        lexer=PygmentsLexer(PostgresLexer),
        multiline=True,
        key_bindings=bindings,
        prompt_continuation=lambda width, line, soft: "." * (width - 1) + " ",
    )
    sources = ", ".join(sorted(runner.connection.engine.catalog.sources))
    print(f"piot-sql {piot.__version__} — sources: {sources}. \\? for help, \\q to quit.", file=runner.err)
    while True:
        try:
            text = session.prompt("piot> ")
        except KeyboardInterrupt:
            continue
        except EOFError:
            return 0
        if text.strip() in ("\\q", "quit", "exit"):
            return 0
        for statement in split_statements(text) if not text.strip().startswith("\\") else [text]:
            runner.run(statement, interactive=True)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="piot-sql", description="SQL over time-partitioned tables in several databases.")
    parser.add_argument("--catalog", help="catalog TOML file (default: $PIOT_CATALOG, ./piot.toml, ~/.config/piot/catalog.toml)")
    parser.add_argument("--demo", action="store_true", help="use the demo catalog (generated on first use)")
    parser.add_argument("-c", "--command", help="run this SQL and exit")
    parser.add_argument("-f", "--file", help="run the statements in this file and exit")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format")
    parser.add_argument("--time-unit", choices=TIME_UNITS, help="default split unit for tables without one")
    parser.add_argument("--ray-address", help="Ray cluster address (default: $RAY_ADDRESS or a local Ray)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``piot-sql`` console script."""
    args = parse_args(argv)
    try:
        if args.demo:
            from piot.demo import generate_demo

            catalog_path = generate_demo(Path("~/.cache/piot/demo").expanduser())
        else:
            catalog_path = find_catalog(args.catalog)
        connection = piot.connect(str(catalog_path), time_unit=args.time_unit, ray_address=args.ray_address)
    except Error as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 1
    runner = Runner(connection, args.format, sys.stdout, sys.stderr)
    if args.command is not None:
        scripts = [args.command]
    elif args.file is not None:
        try:
            scripts = [Path(args.file).read_text(encoding="utf-8")]
        except OSError as e:
            print(f"ERROR: cannot read {args.file}: {e.strerror}", file=sys.stderr)
            return 1
    elif not sys.stdin.isatty():
        scripts = [sys.stdin.read()]
    else:
        return interactive(runner)
    ok = all([runner.run(statement) for script in scripts for statement in split_statements(script)])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
