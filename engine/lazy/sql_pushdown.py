"""Write a :data:`~piot.lazy.predicate.Predicate` as an SQL condition a source can run.

The condition sent to a source may keep more rows than the Polars predicate, never
fewer: Polars applies the exact predicate again to what is read. Each pushed piece is
either *exact* (true, false and null exactly where Polars says so) or *relaxed* (true
at least wherever Polars says true). Relaxed pieces appear where the source's notion
of order or equality is looser than Polars':

- SQLite keeps dates and timestamps as ISO text compared as text, so bounds on them are
  widened to whole days (``col >= 'YYYY-MM-DD'``, ``col < 'YYYY-MM-DD'`` of the next day);
- MySQL/MariaDB compare strings with case-insensitive, space-padding collations, so only
  string equality is pushed there, relaxed.

``NOT`` is pushed only over exact pieces, ``OR`` only when every branch is pushed, and
an ``AND`` keeps whichever branches can be pushed.

Example:
    >>> import polars as pl
    >>> from datetime import date
    >>> from piot.connectors.kinds import kind_for_url
    >>> p = Compare("d", "<=", date(2024, 3, 31))
    >>> pushed = push_down(p, {"d": pl.Date()}, kind_for_url("postgresql://h/db"))
    >>> pushed.condition.sql("postgres"), pushed.exact
    ('"d" <= CAST(\\'2024-03-31\\' AS DATE)', True)
    >>> pushed = push_down(p, {"d": pl.Date()}, kind_for_url("sqlite:///x.db"))
    >>> pushed.condition.sql("sqlite"), pushed.exact
    ('"d" < \\'2024-04-01\\'', False)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import polars as pl
from sqlglot import exp

from piot.connectors.kinds import SourceKind
from piot.lazy.predicate import And, Between, Compare, InList, IsNull, Not, Op, Or, Predicate, Value

__all__ = ["Pushed", "push_down"]

_SQL_OPS: dict[Op, type[exp.Binary]] = {
    "==": exp.EQ,
    "!=": exp.NEQ,
    "<": exp.LT,
    "<=": exp.LTE,
    ">": exp.GT,
    ">=": exp.GTE,
}
_FLOAT_EXACT_INT = 2**53


@dataclass(frozen=True)
class Pushed:
    """An SQL condition and whether it is exactly the predicate it came from.

    Attributes:
        condition: a sqlglot boolean expression over the scan's columns.
        exact: True when the condition agrees with Polars on every row (true, false and
            null); False when it only keeps at least the rows Polars keeps.
    """

    condition: exp.Expression
    exact: bool


@dataclass(frozen=True)
class _Context:
    schema: Mapping[str, pl.DataType]
    kind: SourceKind


def push_down(
    predicate: Predicate, schema: Mapping[str, pl.DataType | type[pl.DataType]], kind: SourceKind
) -> Pushed | None:
    """The SQL condition to send for ``predicate``, or None when nothing can be pushed.

    Args:
        predicate: the predicate read from Polars.
        schema: the Polars types (instances or classes) of the columns the condition may mention.
        kind: the source kind, which decides literal syntax and comparison rules.
    """
    types = {name: dtype() if isinstance(dtype, type) else dtype for name, dtype in schema.items()}
    return _push(predicate, _Context(types, kind))


def _push(predicate: Predicate, ctx: _Context) -> Pushed | None:
    if isinstance(predicate, Compare):
        return _compare(predicate.column, predicate.op, predicate.value, ctx)
    if isinstance(predicate, Between):
        return _between(predicate, ctx)
    if isinstance(predicate, InList):
        return _in_list(predicate, ctx)
    if isinstance(predicate, IsNull):
        return _is_null(predicate, ctx)
    if isinstance(predicate, And):
        return _all_of([_push(p, ctx) for p in predicate.parts])
    if isinstance(predicate, Or):
        return _any_of([_push(p, ctx) for p in predicate.parts])
    if isinstance(predicate, Not):
        inner = _push(predicate.part, ctx)
        if inner is None or not inner.exact:
            return None
        return Pushed(exp.Not(this=exp.Paren(this=inner.condition)), True)
    return None


def _all_of(parts: list[Pushed | None]) -> Pushed | None:
    kept = [p for p in parts if p is not None]
    if not kept:
        return None
    exact = len(kept) == len(parts) and all(p.exact for p in kept)
    condition = kept[0].condition if len(kept) == 1 else exp.and_(*(p.condition for p in kept))
    return Pushed(condition, exact)


def _any_of(parts: list[Pushed | None]) -> Pushed | None:
    if not parts or any(p is None for p in parts):
        return None
    pushed = [p for p in parts if p is not None]
    condition = pushed[0].condition if len(pushed) == 1 else exp.or_(*(p.condition for p in pushed))
    return Pushed(condition, all(p.exact for p in pushed))


def _column(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _compare(column: str, op: Op, value: Value, ctx: _Context) -> Pushed | None:
    dtype = ctx.schema.get(column)
    if dtype is None:
        return None
    if isinstance(dtype, (pl.Date, pl.Datetime)):
        if ctx.kind.text_dates:
            return _text_date_compare(column, op, value, dtype)
        literal = _temporal_literal(value, dtype, ctx.kind)
        return None if literal is None else Pushed(_SQL_OPS[op](this=_column(column), expression=literal), True)
    if isinstance(dtype, pl.String):
        return _string_compare(column, op, value, ctx.kind)
    literal = _plain_literal(value, dtype, ctx.kind)
    return None if literal is None else Pushed(_SQL_OPS[op](this=_column(column), expression=literal), True)


def _plain_literal(value: Value, dtype: pl.DataType, kind: SourceKind) -> exp.Expression | None:
    """Numbers and booleans compared the same way in Polars and in SQL."""
    if isinstance(value, bool):
        return exp.Boolean(this=value) if isinstance(dtype, pl.Boolean) and kind.name == "postgres" else None
    if isinstance(value, int):
        if dtype.is_integer() or isinstance(dtype, pl.Decimal):
            return exp.Literal.number(str(value))
        if isinstance(dtype, pl.Float64) and abs(value) <= _FLOAT_EXACT_INT:
            return exp.Literal.number(str(value))
        return None
    if isinstance(value, float):
        return exp.Literal.number(repr(value)) if isinstance(dtype, pl.Float64) and math.isfinite(value) else None
    if isinstance(value, Decimal):
        return exp.Literal.number(format(value, "f")) if isinstance(dtype, pl.Decimal) and value.is_finite() else None
    return None


def _string_compare(column: str, op: Op, value: Value, kind: SourceKind) -> Pushed | None:
    if not isinstance(value, str) or "\x00" in value:
        return None
    literal = exp.Literal.string(value)
    if kind.name == "sqlite":
        binary = exp.Collate(this=_column(column), expression=exp.var("BINARY"))
        return Pushed(_SQL_OPS[op](this=binary, expression=literal), True)
    if kind.name == "postgres":
        left: exp.Expression = _column(column)
        if op not in ("==", "!="):
            left = exp.Collate(this=left, expression=exp.to_identifier("C", quoted=True))
        return Pushed(_SQL_OPS[op](this=left, expression=literal), True)
    if op == "==":  # case-insensitive, space-padding collations: equality keeps more rows
        return Pushed(exp.EQ(this=_column(column), expression=literal), False)
    return None


def _temporal_literal(value: Value, dtype: pl.Date | pl.Datetime, kind: SourceKind) -> exp.Expression | None:
    """A typed date or timestamp literal with the value's full precision, or None."""
    if not isinstance(value, date):
        return None
    if not isinstance(value, datetime):
        if isinstance(dtype, pl.Date):
            return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("DATE"))
        value = datetime.combine(value, time())
    column_tz = dtype.time_zone if isinstance(dtype, pl.Datetime) else None
    if (value.tzinfo is None) != (column_tz is None):
        return None
    if value.tzinfo is not None:
        if kind.name != "postgres":
            return None
        text = value.isoformat(" ", timespec="microseconds")
        return exp.cast(exp.Literal.string(text), exp.DataType.build("TIMESTAMPTZ"))
    text = value.isoformat(" ", timespec="microseconds")
    type_name = "DATETIME(6)" if kind.dialect == "mysql" else "TIMESTAMP"
    return exp.cast(exp.Literal.string(text), exp.DataType.build(type_name, dialect=kind.dialect))


def _text_date_compare(column: str, op: Op, value: Value, dtype: pl.Date | pl.Datetime) -> Pushed | None:
    """Whole-day bounds on ISO text, which keep at least every row the typed comparison keeps."""
    if not isinstance(value, date) or op == "!=":
        return None
    if isinstance(value, datetime) and value.tzinfo is not None:
        return None
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        return None
    day = value.date() if isinstance(value, datetime) else value
    at_midnight = not isinstance(value, datetime) or value.time() == time()
    lower = exp.GTE(this=_column(column), expression=exp.Literal.string(day.isoformat()))
    end = day if op == "<" and at_midnight else day + timedelta(days=1)
    upper = exp.LT(this=_column(column), expression=exp.Literal.string(end.isoformat()))
    if op in (">", ">="):
        return Pushed(lower, False)
    if op in ("<", "<="):
        return Pushed(upper, False)
    return Pushed(exp.and_(lower, upper), False)


def _between(predicate: Between, ctx: _Context) -> Pushed | None:
    low_op: Op = ">=" if predicate.closed in ("both", "left") else ">"
    high_op: Op = "<=" if predicate.closed in ("both", "right") else "<"
    low = _compare(predicate.column, low_op, predicate.low, ctx)
    high = _compare(predicate.column, high_op, predicate.high, ctx)
    return _all_of([low, high])


def _in_list(predicate: InList, ctx: _Context) -> Pushed | None:
    if predicate.column not in ctx.schema:
        return None
    column = _column(predicate.column)
    if not predicate.values:
        if predicate.nulls_equal and predicate.has_null:
            return Pushed(exp.Is(this=column, expression=exp.Null()), True)
        return None
    parts = [_compare(predicate.column, "==", v, ctx) for v in predicate.values]
    if any(p is None for p in parts):
        return None
    pushed = [p for p in parts if p is not None]
    if all(isinstance(p.condition, exp.EQ) for p in pushed):
        left = pushed[0].condition.this
        condition: exp.Expression = exp.In(this=left, expressions=[p.condition.expression for p in pushed])
    else:
        condition = exp.or_(*(p.condition for p in pushed))
    exact = all(p.exact for p in pushed)
    if predicate.nulls_equal and predicate.has_null:
        condition = exp.or_(condition, exp.Is(this=column, expression=exp.Null()))
    elif predicate.nulls_equal:
        condition = exp.and_(condition, exp.Not(this=exp.Is(this=column.copy(), expression=exp.Null())))
    return Pushed(condition, exact)


def _is_null(predicate: IsNull, ctx: _Context) -> Pushed | None:
    if predicate.column not in ctx.schema:
        return None
    condition: exp.Expression = exp.Is(this=_column(predicate.column), expression=exp.Null())
    return Pushed(exp.Not(this=condition) if predicate.negated else condition, True)
