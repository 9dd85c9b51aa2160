"""From SQL text to a checked, bound, time-folded sqlglot AST.

Only one read-only query is accepted (SELECT, WITH ... SELECT, set operations, and
``EXPLAIN`` or ``EXPLAIN ANALYZE`` of those); anything else raises :class:`NotSupportedError`
before any source is contacted. ``?`` parameters become literals in the AST, never by string
formatting. ``CURRENT_DATE``, ``NOW()`` and friends are folded once to literals, so
every fragment sees the same instant.

Example:
    >>> from datetime import datetime
    >>> st = parse_statement("explain select * from db.t where d >= current_date - interval '7' day",
    ...                      now=datetime(2024, 3, 10, 12, 0))
    >>> st.explain, st.analyze, st.query.sql("postgres")
    (True, False, "SELECT * FROM db.t WHERE d >= CAST('2024-03-03 00:00:00' AS TIMESTAMP)")
    >>> parse_statement("EXPLAIN ANALYZE select 1").analyze
    True
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from piot.errors import InterfaceError, NotSupportedError, ProgrammingError
from piot.sql.nesting import check_nesting, flatten_parentheses, make_room
from piot.sql.policy import check_query
from piot.sql.timefold import fold_time
from piot.sql.zones import zone_for

_BLANK = r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)"
#: EXPLAIN, or EXPLAIN ANALYZE (ANALYSE too, as PostgreSQL spells it), after any blanks and comments
_EXPLAIN = re.compile(rf"^{_BLANK}*(?P<word>explain\b(?:{_BLANK}*(?P<analyze>analy[sz]e)\b)?)", re.IGNORECASE | re.DOTALL)
_PARAMETER_PREFIX = "__piot_p"


@dataclass(frozen=True)
class Statement:
    """A parsed query: its AST; ``explain``: show its plan; ``analyze``: run it and measure each fragment."""

    query: exp.Query
    explain: bool
    dialect: str
    analyze: bool = False


def parse_statement(
    sql: str,
    *,
    dialect: str = "postgres",
    parameters: Sequence[Any] | None = None,
    now: dt.datetime | None = None,
    timezone: str = "UTC",
) -> Statement:
    """Parse ``sql``, check it is one read-only query, bind ``parameters`` and fold relative time.

    ``now`` (default: the clock) is the instant relative time is folded to, in the zone
    ``timezone`` (a naive ``now`` is wall time there): ``CURRENT_DATE`` is the date there.
    """
    match = _EXPLAIN.match(sql)
    # blank the EXPLAIN [ANALYZE] words out rather than cutting them off, so error positions stay those of the user's text
    body = sql[: match.start("word")] + _blanked(match.group("word")) + sql[match.end("word") :] if match else sql
    parsed, count = _checked_query(body, dialect)
    make_room()  # the nesting was checked when the text was first parsed; the room it needs is made every time
    query = flatten_parentheses(bind_parameters(parsed.copy(), parameters or (), expected=count, copy=False))
    # the tree is this call's own copy: folded in place
    query = fold_time(query, now or dt.datetime.now(dt.timezone.utc), dialect=dialect, zone=zone_for(timezone), copy=False)
    analyze = match is not None and match.group("analyze") is not None
    return Statement(query=query, explain=bool(match), dialect=dialect, analyze=analyze)


def _blanked(text: str) -> str:
    """``text`` with every character but line breaks turned into a space (line and column numbers stay).

    >>> _blanked("explain\\n  analyze")
    '       \\n         '
    """
    return "".join(c if c == "\n" else " " for c in text)


@lru_cache(maxsize=256)
def _checked_query(body: str, dialect: str) -> tuple[exp.Query, int]:
    """``body`` checked and parsed (``?`` placeholders named in text order), and how many placeholders it has.

    Parsing is a pure function of the text, so a text planned again (a dashboard's query, a
    prepared statement run with new parameters) is parsed once: callers bind and fold a copy of
    the tree, never the cached one. A text that fails is not cached; it fails again the same way.

    >>> _checked_query("select ? from t", "postgres")[0].sql(), _checked_query("select ? from t", "postgres")[1]
    ('SELECT :__piot_p0 FROM t', 1)
    """
    check_nesting(body, dialect)
    query = parse_read_only(body, dialect)
    named, count = _name_placeholders(body, dialect)
    if count:
        query = parse_read_only(named, dialect)
    return query, count


def _name_placeholders(sql: str, dialect: str) -> tuple[str, int]:
    """Rewrite each ``?`` token as ``:__piot_pN`` (N in text order), so binding follows the text.

    >>> _name_placeholders("select '?', ? from t limit ?", "postgres")
    ("select '?', :__piot_p0 from t limit :__piot_p1", 2)
    """
    try:
        tokens = sqlglot.Dialect.get_or_raise(dialect).tokenize(sql)
    except TokenError:
        return sql, 0
    pieces, last, count = [], 0, 0
    for token in tokens:
        if token.token_type == TokenType.PLACEHOLDER and token.text == "?":
            pieces.append(sql[last : token.start] + f":{_PARAMETER_PREFIX}{count}")
            last = token.end + 1
            count += 1
    return "".join(pieces) + sql[last:], count


def parse_read_only(sql: str, dialect: str) -> exp.Query:
    """Parse ``sql`` as one read-only query in ``dialect``: the check every door runs before any source is contacted.

    Syntax errors are ProgrammingErrors with line and column; anything but one query piot
    may run (see :func:`piot.sql.policy.check_query`) is a NotSupportedError.

    >>> parse_read_only("(select 1)", "postgres").sql()
    'SELECT 1'
    """
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except ParseError as e:
        first = e.errors[0] if e.errors else {}
        message = str(first.get("description") or e).split("\n")[0]
        near = first.get("highlight")
        detail = f"syntax error at or near {near!r}" if near else "syntax error"
        if "<class" not in message and "<Token" not in message:
            detail += f": {message}"
        line, col = first.get("line"), first.get("col")
        if col and near:  # sqlglot reports the column where the token ends; point at its start
            col = max(1, col - len(near) + 1)
        raise ProgrammingError(detail, line=line, col=col) from e
    except TokenError as e:
        line, col = _unterminated_quote(sql)
        what = "unterminated quoted text" if line else str(e).splitlines()[0]
        raise ProgrammingError(f"syntax error: {what}", line=line, col=col) from e
    if not statements:
        raise ProgrammingError("empty statement: write one SELECT query")
    if len(statements) > 1:
        raise NotSupportedError("only one statement at a time is accepted; send each query separately")
    statement = statements[0]
    while isinstance(statement, exp.Subquery) and not statement.alias and isinstance(statement.this, exp.Query):
        statement = statement.this  # "(SELECT ...)" is the query itself
    return check_query(statement, dialect)


def _unterminated_quote(sql: str) -> tuple[int | None, int | None]:
    """Line and column of a quote that is never closed, skipping comments.

    >>> _unterminated_quote("select 1\\nwhere b = 'abc")
    (2, 11)
    """
    index, length, opened = 0, len(sql), None
    while index < length:
        char = sql[index]
        if opened is None and sql.startswith("--", index):
            index = sql.find("\n", index)
            index = length if index < 0 else index
        elif opened is None and sql.startswith("/*", index):
            end = sql.find("*/", index + 2)
            index = length if end < 0 else end + 1
        elif opened is None and char in "'\"":
            opened = index
        elif opened is not None and char == sql[opened]:
            if sql.startswith(char * 2, index):
                index += 1  # a doubled quote inside the text
            else:
                opened = None
        index += 1
    if opened is None:
        return None, None
    line = sql.count("\n", 0, opened) + 1
    return line, opened - (sql.rfind("\n", 0, opened) + 1) + 1


def bind_parameters(query: exp.Query, parameters: Sequence[Any], *, expected: int | None = None, copy: bool = True) -> exp.Query:
    """Replace the placeholders ``:__piot_p0``, ``:__piot_p1``... (or bare ``?``, in tree order) by literals.

    The placeholders are replaced in a copy, unless ``copy`` is False (then in ``query`` itself).

    >>> bind_parameters(sqlglot.parse_one("select :__piot_p0 + 1, :__piot_p1"), [41, "it's"]).sql()
    "SELECT 41 + 1, 'it''s'"
    """
    named = {p.name: p for p in query.find_all(exp.Placeholder) if p.name.startswith(_PARAMETER_PREFIX)}
    bare = [p for p in query.find_all(exp.Placeholder, bfs=False) if p.this is None]
    count = expected if expected is not None else len(named) + len(bare)
    if count != len(parameters):
        raise InterfaceError(f"the query has {count} ? placeholder(s) but {len(parameters)} parameter(s) were given")
    if not parameters:
        return query
    query = query.copy() if copy else query
    targets = {p.name: p for p in query.find_all(exp.Placeholder) if p.name.startswith(_PARAMETER_PREFIX)}
    ordered = [targets[f"{_PARAMETER_PREFIX}{i}"] for i in range(len(targets))] if targets else [
        p for p in query.find_all(exp.Placeholder, bfs=False) if p.this is None
    ]
    for placeholder, value in zip(ordered, parameters):
        placeholder.replace(literal_for(value))
    return query


def literal_for(value: Any) -> exp.Expression:
    """The SQL literal for a Python value (None, bool, numbers, str, date, datetime, bytes).

    >>> literal_for(dt.date(2024, 2, 29)).sql("postgres")
    "CAST('2024-02-29' AS DATE)"
    >>> literal_for(dt.datetime(2024, 2, 29, 5, tzinfo=dt.timezone(dt.timedelta(hours=5)))).sql("postgres")
    "CAST('2024-02-29 05:00:00+05:00' AS TIMESTAMPTZ)"
    """
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, (float, decimal.Decimal)) and not math.isfinite(value):
        return exp.cast(exp.Literal.string(str(float(value))), exp.DataType.Type.DOUBLE)
    if isinstance(value, float):  # a bare 0.1 would be read back as an exact decimal
        return exp.cast(exp.Literal.number(repr(value)), exp.DataType.Type.DOUBLE)
    if isinstance(value, (int, decimal.Decimal)):
        return exp.Literal.number(value)
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:  # an instant: its offset is kept
        return exp.cast(exp.Literal.string(value.isoformat(" ")), exp.DataType.Type.TIMESTAMPTZ)
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(" ")), exp.DataType.Type.TIMESTAMP)
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.Type.DATE)
    if isinstance(value, dt.time):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.Type.TIME)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return exp.HexString(this=bytes(value).hex(), is_integer=False)
    raise InterfaceError(f"cannot bind a parameter of type {type(value).__name__}")
