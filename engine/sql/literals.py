"""Typed date and timestamp literals: checked before anything runs, written one way, infinities resolved.

``DATE '2024-02-30'``, ``DATE 'foo'``, ``DATE '0000-01-01'`` and ``TIMESTAMP '2024-13-01'`` are
not dates: they raise :class:`DataError` pointing at the literal, as PostgreSQL refuses them.
``DATE '2024-01-01 00:00:00'`` is the date 2024-01-01 in PostgreSQL, and is written so for every
source and the merge. ``'infinity'`` and ``'-infinity'`` (PostgreSQL's endless dates) are
answered in comparisons, where their meaning needs no value: every date is before
``'infinity'``, so ``d < 'infinity'`` keeps each row whose ``d`` is not NULL.

Example:
    >>> import sqlglot
    >>> q = sqlglot.parse_one("select 1 from t where d < date '2024-01-01 00:00' and d < date 'infinity'", read="postgres")
    >>> replace_infinite_times(check_time_literals(q)).sql("postgres")
    "SELECT 1 FROM t WHERE d < CAST('2024-01-01' AS DATE) AND (d = d)"
"""

from __future__ import annotations

from sqlglot import exp

from piot.errors import DataError, NotSupportedError
from piot.sql.timefold import parse_time_text

_DATES = {exp.DataType.Type.DATE, exp.DataType.Type.DATE32}
_TIMESTAMPS = {exp.DataType.Type.TIMESTAMP, exp.DataType.Type.DATETIME, exp.DataType.Type.TIMESTAMPNTZ}
_INFINITE = {"infinity": 1, "+infinity": 1, "-infinity": -1}
#: ``x OP infinity`` for every x that is not NULL, by the sign of the infinity
_TRUTH: dict[tuple[type[exp.Expression], int], bool] = {
    (exp.LT, 1): True, (exp.LTE, 1): True, (exp.GT, 1): False, (exp.GTE, 1): False,
    (exp.LT, -1): False, (exp.LTE, -1): False, (exp.GT, -1): True, (exp.GTE, -1): True,
    (exp.EQ, 1): False, (exp.EQ, -1): False, (exp.NEQ, 1): True, (exp.NEQ, -1): True,
}  # fmt: skip
_FLIPPED: dict[type[exp.Expression], type[exp.Expression]] = {
    exp.LT: exp.GT, exp.LTE: exp.GTE, exp.GT: exp.LT, exp.GTE: exp.LTE, exp.EQ: exp.EQ, exp.NEQ: exp.NEQ,
}  # fmt: skip


def _typed_text(node: exp.Expression) -> tuple[str, exp.Literal] | None:
    """``('date' | 'timestamp', literal)`` for ``CAST('...' AS DATE/TIMESTAMP)``, else None."""
    if not isinstance(node, exp.Cast) or not isinstance(node.this, exp.Literal) or not node.this.is_string:
        return None
    if node.to.this in _DATES:
        return "date", node.this
    if node.to.this in _TIMESTAMPS:
        return "timestamp", node.this
    return None


def infinity_sign(node: exp.Expression) -> int:
    """1 for a typed ``'infinity'``, -1 for ``'-infinity'``, 0 for anything else.

    >>> import sqlglot
    >>> infinity_sign(sqlglot.parse_one("'-infinity'::date", read="postgres"))
    -1
    """
    typed = _typed_text(node)
    return _INFINITE.get(typed[1].this.strip().lower(), 0) if typed else 0


def invalid_literal(kind: str, literal: exp.Literal) -> DataError:
    """The DataError for text that is not a ``kind`` (``date`` or ``timestamp``), pointing at the text."""
    line, col = literal.meta.get("line"), literal.meta.get("col")
    start, end = literal.meta.get("start"), literal.meta.get("end")
    if col is not None and start is not None and end is not None:
        col = max(1, col - (end - start))
    shape = "YYYY-MM-DD" if kind == "date" else "YYYY-MM-DD HH:MM:SS[.ffffff]"
    return DataError(
        f"invalid {kind.upper()} value {literal.this!r}: write a real calendar {kind} as {shape} (or 'infinity', '-infinity')",
        line=line,
        col=col,
    )


def check_time_literals(query: exp.Expression) -> exp.Expression:
    """Check every typed DATE/TIMESTAMP literal of ``query`` and write it in ISO form (in place; returns ``query``).

    >>> import sqlglot
    >>> check_time_literals(sqlglot.parse_one("select date '2024-02-30'"))
    Traceback (most recent call last):
    ...
    piot.errors.DataError: invalid DATE value '2024-02-30': write a real calendar date as YYYY-MM-DD (or 'infinity', '-infinity') (line 1, column 13)
    """
    fold_sized_text(query)
    for cast in list(query.find_all(exp.Cast)):
        typed = _typed_text(cast)
        if typed is None:
            continue
        kind, literal = typed
        if literal.this.strip().lower() in _INFINITE:
            continue
        value = parse_time_text(literal.this)
        if value is None:
            raise invalid_literal(kind, literal)
        text = value.date().isoformat() if kind == "date" else value.isoformat(" ")
        if text != literal.this:
            literal.replace(exp.Literal.string(text))
    return query


_SIZED_TEXT = {exp.DataType.Type.CHAR, exp.DataType.Type.NCHAR, exp.DataType.Type.VARCHAR, exp.DataType.Type.NVARCHAR}


def fold_sized_text(query: exp.Expression) -> exp.Expression:
    """Write a text constant cast to ``CHAR(n)`` / ``VARCHAR(n)`` as the text it becomes (in place; returns ``query``).

    ``'2024-04-01'::CHAR(3)::date`` is ``'202'::date``, which is no date, as PostgreSQL says.

    >>> import sqlglot
    >>> fold_sized_text(sqlglot.parse_one("select '2024-04-01'::char(3)::date, 'ab  '::char(3)", read="postgres")).sql()
    "SELECT CAST('202' AS DATE), 'ab'"
    """
    for cast in reversed(list(query.find_all(exp.Cast))):
        text, target = cast.this, cast.to
        if not (isinstance(text, exp.Literal) and text.is_string and target.this in _SIZED_TEXT and target.expressions):
            continue
        size = target.expressions[0].this
        if not (isinstance(size, exp.Literal) and size.is_int):
            continue
        kept = text.this[: int(size.this)]
        if target.this in (exp.DataType.Type.CHAR, exp.DataType.Type.NCHAR):
            kept = kept.rstrip(" ")
        cast.replace(exp.Literal.string(kept))
    return query


def replace_infinite_times(query: exp.Expression) -> exp.Expression:
    """Resolve comparisons with an infinite DATE/TIMESTAMP (in place; returns ``query``).

    ``x < 'infinity'`` becomes ``x = x`` (true unless x is NULL), ``x > 'infinity'`` becomes
    ``x <> x`` (false unless NULL); BETWEEN is taken as its two comparisons. An infinity
    anywhere else raises NotSupportedError.
    """
    for between in list(query.find_all(exp.Between)):
        low, high = between.args["low"], between.args["high"]
        if (infinity_sign(low) or infinity_sign(high)) and not between.args.get("symmetric"):
            pair = exp.and_(exp.GTE(this=between.this.copy(), expression=low.copy()), exp.LTE(this=between.this.copy(), expression=high.copy()))
            between.replace(exp.paren(pair, copy=False))
    for comparison in list(query.find_all(*_FLIPPED)):
        op, left, right = type(comparison), comparison.left, comparison.right
        left_sign, right_sign = infinity_sign(left), infinity_sign(right)
        if not (left_sign or right_sign):
            continue
        if left_sign and right_sign:
            truth = {exp.LT: left_sign < right_sign, exp.LTE: left_sign <= right_sign, exp.GT: left_sign > right_sign,
                     exp.GTE: left_sign >= right_sign, exp.EQ: left_sign == right_sign, exp.NEQ: left_sign != right_sign}[op]  # fmt: skip
            comparison.replace(exp.true() if truth else exp.false())
            continue
        if left_sign:
            op, left, right, right_sign = _FLIPPED[op], right, left, left_sign
        truth = _TRUTH[(op, right_sign)]
        operand = left.copy()
        comparison.replace(exp.paren(exp.EQ(this=operand, expression=left.copy()) if truth else exp.NEQ(this=operand, expression=left.copy())))
    for cast in query.find_all(exp.Cast):
        if infinity_sign(cast):
            literal = cast.this
            line, col = literal.meta.get("line"), literal.meta.get("col")
            raise NotSupportedError(
                f"an infinite date or timestamp ({cast.sql('postgres')}) can only be compared (<, <=, =, >, BETWEEN): "
                "piot holds no value for it",
                line=line,
                col=col,
            )
    return query


def is_infinity_text(text: str) -> bool:
    """Whether ``text`` is PostgreSQL's ``infinity`` or ``-infinity``.

    >>> is_infinity_text(" -Infinity ")
    True
    """
    return text.strip().lower() in _INFINITE


def infinite_literal(text: str, *, is_date: bool) -> exp.Expression:
    """The typed literal for ``'infinity'``/``'-infinity'`` compared with a DATE or TIMESTAMP column."""
    to = exp.DataType.Type.DATE if is_date else exp.DataType.Type.TIMESTAMP
    return exp.cast(exp.Literal.string(text.strip().lower()), to)

