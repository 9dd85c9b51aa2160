"""How deeply a query may nest, and keeping nesting that means nothing out of the way.

sqlglot parses and walks queries recursively, so a query nested deeper than Python's
recursion allows would fail as a RecursionError deep inside a library. piot accepts up to
:data:`MAX_NESTING` levels of parentheses (each ``(`` of a subquery, call or expression), checks
that on the tokens before parsing, and raises the interpreter's recursion limit once, to what
that depth needs. Parentheses around parentheses are dropped after parsing: ``((x))`` is ``(x)``,
and Polars' SQL parser, which the merge uses, stops at about 50 levels.

Example:
    >>> check_nesting("select " + "(" * 101 + "1" + ")" * 101, "postgres")
    Traceback (most recent call last):
    ...
    piot.errors.ProgrammingError: query nested too deeply: more than 100 levels of parentheses (line 1, column 108)
"""

from __future__ import annotations

import sys

import sqlglot
from sqlglot import exp
from sqlglot.errors import TokenError
from sqlglot.tokens import TokenType

from piot.errors import ProgrammingError

#: the most levels of parentheses a query may nest.
MAX_NESTING = 100
#: Python frames that parsing and planning take per level of nesting, measured with room to spare.
_FRAMES_PER_LEVEL = 40


def check_nesting(sql: str, dialect: str, limit: int = MAX_NESTING) -> None:
    """Raise ProgrammingError at the first ``(`` nested deeper than ``limit``; make room for the rest.

    >>> check_nesting("select ((1))", "postgres")
    """
    try:
        tokens = sqlglot.Dialect.get_or_raise(dialect).tokenize(sql)
    except TokenError:
        return  # the parser reports it with its position
    depth = 0
    for token in tokens:
        if token.token_type == TokenType.L_PAREN:
            depth += 1
            if depth > limit:
                raise ProgrammingError(
                    f"query nested too deeply: more than {limit} levels of parentheses", line=token.line, col=token.col
                )
        elif token.token_type == TokenType.R_PAREN:
            depth = max(0, depth - 1)
    make_room(limit)


def make_room(limit: int = MAX_NESTING) -> None:
    """Raise the interpreter's recursion limit to what ``limit`` levels of nesting need (never lower it).

    >>> make_room(); sys.getrecursionlimit() >= 1000 + _FRAMES_PER_LEVEL * MAX_NESTING
    True
    """
    needed = 1000 + _FRAMES_PER_LEVEL * limit
    if sys.getrecursionlimit() < needed:
        sys.setrecursionlimit(needed)  # raised once, never lowered: other threads may be deep in a query too


def flatten_parentheses(query: exp.Expression) -> exp.Expression:
    """Drop parentheses directly around parentheses (in place; returns ``query``).

    >>> flatten_parentheses(sqlglot.parse_one("select (((1))) + ((a))")).sql()
    'SELECT (1) + (a)'
    """
    for paren in list(query.find_all(exp.Paren)):
        inner = paren.this
        while isinstance(inner, exp.Paren):
            inner = inner.this
        if inner is not paren.this:
            paren.set("this", inner)
    return query
