"""SQL text as the prompt sees it: cutting scripts into statements, and error messages with a caret."""

from __future__ import annotations

import re

import sqlglot
from sqlglot.errors import TokenError
from sqlglot.tokens import TokenType

from piot.errors import Error

#: EXPLAIN as the first word, after any blanks and comments (the engine reads it the same way).
_EXPLAIN = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*explain\b", re.IGNORECASE | re.DOTALL)
QUIT_WORDS = ("quit", "exit")
_COMMAND_AFTER_STATEMENT = re.compile(r";\s*(\\\S.*)$")


def split_statements(text: str) -> list[str]:
    """Cut SQL text into statements at semicolons outside strings and comments.

    >>> split_statements("select 1; select ';' ;\\n")
    ['select 1', "select ';'"]
    """
    statements, start = [], 0
    try:
        tokens = sqlglot.Tokenizer().tokenize(text)
    except TokenError:
        return [text.strip()] if text.strip() else []
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            statements.append(text[start : token.start].strip())
            start = token.end + 1
    statements.append(text[start:].strip())
    return [s for s in statements if s]


def _inside_string(text: str) -> bool:
    """Whether ``text`` ends inside a string literal or a block comment."""
    try:
        sqlglot.Tokenizer().tokenize(text)
    except TokenError:
        return True
    return False


def split_script(text: str) -> list[str]:
    """Cut a script into SQL statements and backslash commands (one per line, as in psql).

    A command starts a line, or follows the ``;`` of a statement on its line; it runs to the end
    of the line. A backslash inside a string is no command.

    >>> split_script("\\\\timing\\nselect 1;\\nselect\\n 2; \\\\x\\n\\\\T csv\\nselect '\\\\no'")
    ['\\\\timing', 'select 1', 'select\\n 2', '\\\\x', '\\\\T csv', "select '\\\\no'"]
    """
    items: list[str] = []
    pending: list[str] = []
    for line in text.splitlines():
        after_statement = _COMMAND_AFTER_STATEMENT.search(line)
        if after_statement and not _inside_string("\n".join([*pending, line[: after_statement.start() + 1]])):
            pending.append(line[: after_statement.start() + 1])
            line = after_statement.group(1)
        stripped = line.strip()
        if stripped.startswith("\\") and not _inside_string("\n".join(pending)):
            items.extend(split_statements("\n".join(pending)))
            pending = []
            items.append(stripped)
        else:
            pending.append(line)
    items.extend(split_statements("\n".join(pending)))
    return items


def is_complete(text: str) -> bool:
    """Whether the prompt should run ``text`` on Enter: it ends with ``;``, or is a command.

    >>> is_complete("select 1"), is_complete("select 1;"), is_complete("select ';"), is_complete("\\\\l")
    (False, True, False, True)
    >>> is_complete("select 1; -- done"), is_complete("select 1; \\\\x")
    (True, True)
    """
    stripped = text.strip()
    if not stripped or stripped.startswith("\\") or stripped.lower() in QUIT_WORDS:
        return True
    if split_script(stripped)[-1].startswith("\\"):
        return True
    try:
        tokens = sqlglot.Tokenizer().tokenize(stripped)
    except TokenError:
        return False
    return bool(tokens) and tokens[-1].token_type == TokenType.SEMICOLON


def is_explain(sql: str) -> bool:
    """Whether ``sql`` is an EXPLAIN or EXPLAIN ANALYZE (explain mode then runs it as written).

    >>> is_explain("  -- why\\nEXPLAIN select 1"), is_explain("explain analyze select 1"), is_explain("select 'explain'")
    (True, True, False)
    """
    return _EXPLAIN.match(sql) is not None


def format_error(error: Error, sql: str | None = None, *, line_offset: int = 0) -> str:
    """``ERROR: message``, and for errors at a place in the SQL, that line with a caret under it.

    ``line_offset`` is how many lines were put in front of the user's text before running it.

    >>> from piot.errors import ProgrammingError
    >>> print(format_error(ProgrammingError("unknown column 'nope'", line=2, col=3), "select\\n  nope from t"))
    ERROR: unknown column 'nope' (line 2, column 3)
        nope from t
        ^
    """
    line, col = error.line, error.col
    if line is not None and col is not None and line_offset:
        line -= line_offset
        error = type(error)(error.message, line=line, col=col, source=error.source, period=error.period)
    message = f"ERROR: {error}"
    if sql and line and col:
        lines = sql.splitlines()
        if 0 < line <= len(lines):
            shown, caret = around(lines[line - 1], col - 1)
            message += f"\n  {shown}\n  {' ' * caret}^"
    return message


def around(line: str, position: int, width: int = 100) -> tuple[str, int]:
    """At most ``width`` characters of ``line`` around ``position`` (0-based), ``...`` where cut, and the position in them.

    >>> around("select " + "9" * 300 + " from t", 307, width=30)
    ('...99999999999999999999 from t', 23)
    """
    position = max(position, 0)
    if len(line) <= width:
        return line, position
    start = max(0, min(position - width // 2, len(line) - width))
    shown = line[start : start + width]
    if start > 0:
        shown, position = "..." + shown[3:], position - start
    if start + width < len(line):
        shown = shown[:-3] + "..."
    return shown, position


def one_line(text: str) -> str:
    """The first line of a message, for errors that must fit on one line.

    >>> one_line("bad thing\\n  details")
    'bad thing'
    """
    return text.strip().splitlines()[0] if text.strip() else ""
