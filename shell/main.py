"""The ``piot-sql`` command: an interactive SQL prompt, or one-shot runs with -c, -f or stdin.

Exit code 0 on success and 1 on any error; results go to stdout, messages to stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path

import piot
from piot.connectors.catalog import TIME_UNITS
from piot.errors import Error
from piot.shell import meta
from piot.shell.config import Preferences, load_preferences
from piot.shell.output import FORMATS
from piot.shell.progress import ProgressView
from piot.shell.raystart import RayStarter
from piot.shell.runner import Runner, ShellState
from piot.shell.statements import format_error, one_line, split_statements

__all__ = ["find_catalog", "format_error", "main", "split_statements"]

USER_CATALOG = "~/.config/piot/catalog.toml"
DEMO_DIR = "~/.cache/piot/demo"


def find_catalog(explicit: str | None) -> Path:
    """The catalog to use: --catalog, else $PIOT_CATALOG, else ./piot.toml, else ~/.config/piot/catalog.toml."""
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get("PIOT_CATALOG"):
        return Path(os.environ["PIOT_CATALOG"]).expanduser()
    for candidate in (Path("piot.toml"), Path(USER_CATALOG).expanduser()):
        if candidate.exists():
            return candidate
    raise Error(f"no catalog: pass --catalog FILE, set PIOT_CATALOG, or create ./piot.toml or {USER_CATALOG} (or try --demo)")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="piot-sql", description="SQL over time-partitioned tables in several databases.")
    parser.add_argument("--catalog", help=f"catalog TOML file (default: $PIOT_CATALOG, ./piot.toml, {USER_CATALOG})")
    parser.add_argument("--demo", action="store_true", help=f"use the demo catalog (generated in {DEMO_DIR} on first use)")
    one_shot = parser.add_mutually_exclusive_group()
    one_shot.add_argument("-c", "--command", help="run this SQL and exit")
    one_shot.add_argument("-f", "--file", help="run the statements in this file and exit")
    parser.add_argument("--format", choices=FORMATS, help="output format (default: the config file's, else table)")
    parser.add_argument("--time-unit", choices=TIME_UNITS, help="default split unit for tables without one")
    parser.add_argument("--ray-address", help="Ray cluster address (default: $RAY_ADDRESS or a local Ray)")
    parser.add_argument("--max-concurrency", type=int, default=100, help="most Ray tasks in flight at once (default 100)")
    parser.add_argument(
        "--timezone", help="zone of CURRENT_DATE/NOW() and of TIMESTAMPTZ periods, e.g. Europe/Berlin (default: the config's, else UTC)"
    )
    parser.add_argument(
        "--query-timeout",
        type=float,
        metavar="SECONDS",
        help="stop a query that runs longer than this (default: the config file's query_timeout, else no limit)",
    )
    return parser.parse_args(argv)


def _connect(args: argparse.Namespace, preferences: Preferences) -> piot.Connection:
    if args.demo:
        from piot.demo import generate_demo

        catalog_path = generate_demo(Path(DEMO_DIR).expanduser())
    else:
        catalog_path = find_catalog(args.catalog)
    query_timeout = args.query_timeout if args.query_timeout is not None else preferences.query_timeout
    return piot.connect(
        str(catalog_path),
        time_unit=args.time_unit,
        ray_address=args.ray_address,
        max_concurrency=args.max_concurrency,
        timezone=args.timezone or preferences.timezone,
        query_timeout=query_timeout,
    )


def _read_script(args: argparse.Namespace) -> str:
    if args.command is not None:
        return str(args.command)
    if args.file is not None:
        try:
            return Path(args.file).read_text(encoding="utf-8")
        except OSError as e:
            raise Error(f"cannot read {args.file}: {e.strerror}") from None
        except UnicodeDecodeError:
            raise Error(f"cannot read {args.file}: not UTF-8 text") from None
    return sys.stdin.read()


def run_batch(connection: piot.Connection, state: ShellState, args: argparse.Namespace) -> int:
    """Run -c, -f or stdin without a prompt; 0 if every statement succeeded."""
    with ExitStack() as stack:
        make_view: Callable[[Callable[[], None]], ProgressView] | None = None
        if sys.stdout.isatty() and not sys.stdin.isatty():
            from prompt_toolkit.input import create_pipe_input

            keys = stack.enter_context(create_pipe_input())  # the bar must not read the script from stdin
            make_view = lambda cancel: ProgressView(cancel, input=keys)  # noqa: E731
        runner = Runner(
            connection, state, out=sys.stdout, err=sys.stderr, show_progress=sys.stdout.isatty(), make_view=make_view
        )
        stack.callback(runner.close)
        try:
            script = _read_script(args)
        except Error as e:
            runner.error(str(e))
            return 1
        try:
            runner.run_script(script)
        except meta.Quit:
            pass
        return 1 if runner.failed else 0


def run_interactive(connection: piot.Connection, state: ShellState, preferences: Preferences) -> int:
    """The prompt, with Ray and the completion names loading in the background."""
    from piot.shell.completer import SqlCompleter
    from piot.shell.metadata import MetadataLoader
    from piot.shell.repl import make_session, open_history, run_repl

    ray = RayStarter(connection.engine.options.ray_address)
    ray.start()
    metadata = MetadataLoader(connection)
    metadata.start()
    runner = Runner(
        connection,
        state,
        out=sys.stdout,
        err=sys.stderr,
        interactive=True,
        show_progress=sys.stdout.isatty(),
        ray=ray,
        metadata=metadata,
    )
    completer = SqlCompleter(lambda: metadata.metadata, metadata.request, meta.completions())
    session = make_session(completer, open_history(preferences.history_path, preferences.history_size))
    try:
        return run_repl(runner, session)
    finally:
        runner.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``piot-sql`` console script."""
    args = parse_args(argv)
    try:
        preferences = load_preferences()
        connection = _connect(args, preferences)
    except Error as e:
        print(f"ERROR: {one_line(str(e))}", file=sys.stderr)
        return 1
    except OSError as e:  # writing the demo data
        print(f"ERROR: {one_line(str(e))}", file=sys.stderr)
        return 1
    state = ShellState.from_preferences(preferences, args.format)
    try:
        if args.command is not None or args.file is not None or not sys.stdin.isatty():
            return run_batch(connection, state, args)
        return run_interactive(connection, state, preferences)
    except KeyboardInterrupt:
        print("Cancelled.", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader of stdout went away (| head): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as e:  # a bug must still be one line, not a traceback, and hold no secret
        text = connection.engine.catalog.redact(one_line(str(e)))
        print(f"ERROR: internal error: {type(e).__name__}: {text}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
