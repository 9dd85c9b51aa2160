"""Give each column of a ``VALUES`` list one type, as PostgreSQL does.

In PostgreSQL a quoted constant in ``VALUES`` has no type of its own: it takes the type of
the column's other values (``VALUES (DATE '2024-01-01'), ('2024-01-02')`` is a DATE column)
and fails where it does not read as one (``VALUES (1), ('x')``: invalid input for an
integer). Values of different kinds (a boolean and a number) cannot be matched at all.
Polars would turn all of them into text instead. This rule rewrites each quoted constant to
a constant of the column's type, or raises PostgreSQL's error, before the query is typed.

Example:
    >>> import sqlglot
    >>> type_values(sqlglot.parse_one("select * from (values (1, 'yes'), ('2', false)) v(a, b)")).sql()
    'SELECT * FROM (VALUES (1, TRUE), (2, FALSE)) AS v(a, b)'
    >>> type_values(sqlglot.parse_one("select * from (values (1), ('x')) v(a)"))
    Traceback (most recent call last):
    piot.errors.DataError: invalid input syntax for type integer: "x"
"""

from __future__ import annotations

import decimal

from sqlglot import exp

from piot.errors import DataError, ProgrammingError

_T = exp.DataType.Type
_DATE_TIME = {_T.DATE, _T.TIMESTAMP, _T.TIMESTAMPTZ, _T.TIME}
#: PostgreSQL's spellings of a boolean (any case, surrounding blanks ignored; unique prefixes too).
_TRUE_WORDS = ("true", "yes", "on", "1")
_FALSE_WORDS = ("false", "no", "off", "0")


def type_values(tree: exp.Expression) -> exp.Expression:
    """Rewrite the untyped quoted constants of every ``VALUES`` column in ``tree`` (in place; returned)."""
    for values in tree.find_all(exp.Values):
        rows = [row.expressions for row in values.expressions if isinstance(row, exp.Tuple)]
        if not rows or len({len(r) for r in rows}) != 1:
            continue
        for column in zip(*rows):
            kind = _column_kind(column)
            if kind is None:
                continue
            for item in column:
                if isinstance(item, exp.Literal) and item.is_string:
                    item.replace(typed_constant(item.this, kind))
    return tree


def _kind(node: exp.Expression) -> str | None:
    """The type category of a typed constant: ``boolean``, ``integer``, ``numeric``, ``double precision``, a date/time type, or None."""
    if isinstance(node, exp.Boolean):
        return "boolean"
    if isinstance(node, exp.Neg):
        return _kind(node.this)
    if isinstance(node, exp.Literal) and not node.is_string:
        text = node.this.lower()
        return "double precision" if "e" in text else "numeric" if "." in text else "integer"
    if isinstance(node, exp.Cast) and node.to.this in _DATE_TIME:
        return node.to.sql(dialect="postgres").lower()
    return None


def _column_kind(column: tuple[exp.Expression, ...]) -> str | None:
    """The kind the quoted constants of a column take, or None to leave the column as it is.

    >>> import sqlglot
    >>> _column_kind(tuple(sqlglot.parse_one(s) for s in ("1", "2.5", "'3'")))
    'numeric'
    """
    quoted = [isinstance(i, exp.Literal) and i.is_string for i in column]
    if any(not q and not isinstance(i, exp.Null) and _kind(i) is None for q, i in zip(quoted, column)):
        return None  # an expression: its type is known only later; the merge types the column
    kinds = {k for i in column if (k := _kind(i))}
    if not kinds:
        return None  # only quoted constants (and NULLs): a text column, as in PostgreSQL
    numbers = kinds & {"integer", "numeric", "double precision"}
    if numbers and numbers != kinds or len(kinds - numbers) > 1:
        first, second = sorted(kinds)[:2]
        raise ProgrammingError(f"VALUES types {first} and {second} cannot be matched")
    if not any(quoted):
        return None
    for widest in ("double precision", "numeric", "integer"):
        if widest in numbers:
            return widest
    return kinds.pop()


def typed_constant(text: str, kind: str) -> exp.Expression:
    """``text`` read as a constant of ``kind``, as PostgreSQL reads a quoted constant.

    >>> typed_constant(" Of", "boolean").sql(), typed_constant("2.50", "numeric").sql()
    ('FALSE', '2.50')
    """
    word = text.strip().lower()
    if kind == "boolean":
        if word and any(w.startswith(word) for w in _TRUE_WORDS) and not any(w.startswith(word) for w in _FALSE_WORDS):
            return exp.true()
        if word and any(w.startswith(word) for w in _FALSE_WORDS) and not any(w.startswith(word) for w in _TRUE_WORDS):
            return exp.false()
    elif kind == "integer":
        try:
            return exp.Literal.number(int(word))
        except ValueError:
            pass
    elif kind in ("numeric", "double precision"):
        try:
            number = decimal.Decimal(word)
        except decimal.InvalidOperation:
            pass
        else:
            if number.is_finite():
                return exp.Literal.number(word if kind == "double precision" else format(number, "f"))
            if kind == "double precision":
                return exp.cast(exp.Literal.string(word), "DOUBLE PRECISION")
    else:
        return exp.cast(exp.Literal.string(text), kind, dialect="postgres")
    raise DataError(f'invalid input syntax for type {kind}: "{text}"')
