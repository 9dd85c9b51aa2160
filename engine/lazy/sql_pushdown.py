"""Write a :data:`~piot.lazy.predicate.Predicate` as an SQL condition a source can run.

The predicate is written once as a condition with the merge's meaning (literals typed as
the columns are), and each of its AND terms is then judged by the one pushdown policy of
the SQL path (:func:`piot.plan.pushdown.decide`): pushed exactly, pushed widened (the
source keeps at least Polars' rows; Polars filters again), or kept back. So the Polars API
and SQL push the same conditions to the same kinds of source, with the same exactness.

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
from datetime import date, datetime, time
from decimal import Decimal

import polars as pl
from sqlglot import exp

from piot.connectors.kinds import SourceKind
from piot.connectors.types import ColumnType, declared_type, dtype_column_type
from piot.lazy.predicate import And, Between, Compare, InList, IsNull, Not, Op, Or, Predicate, Value, conjuncts
from piot.plan.exactness import Exactness, semantics_of
from piot.plan.fragments import mysql_time_casts
from piot.plan.pushdown import decide

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
        kind: the source kind, which decides literal syntax and what it computes exactly.
    """
    types = {name: dtype() if isinstance(dtype, type) else dtype for name, dtype in schema.items()}
    column_types = {name: t for name, dtype in types.items() if (t := dtype_column_type(dtype)) is not None}
    ctx = _Context(types, kind)
    semantics = semantics_of(kind.name)
    pushed: list[exp.Expression] = []
    exact = True
    for part in conjuncts(predicate):
        condition = _condition(part, ctx)
        decision = decide(condition, column_types, semantics) if condition is not None else None
        if decision is None or decision.tree is None:
            exact = False
            continue
        pushed.append(_quoted(decision.tree))
        exact = exact and decision.exactness is Exactness.EXACT
    if not pushed:
        return None
    condition = pushed[0] if len(pushed) == 1 else exp.and_(*pushed)
    if kind.dialect == "mysql":
        mysql_time_casts(condition)
    return Pushed(condition, exact)


def written_condition(predicate: Predicate, schema: Mapping[str, pl.DataType], kind: SourceKind) -> exp.Expression | None:
    """The predicate as a condition with Polars' meaning (literals typed as the columns are), or None.

    >>> from datetime import date
    >>> from piot.connectors.kinds import kind_for_url
    >>> written_condition(Compare("d", ">=", date(2024, 1, 1)), {"d": pl.Date()}, kind_for_url("postgresql://h/db")).sql()
    '"d" >= CAST(\\'2024-01-01\\' AS DATE)'
    """
    return _condition(predicate, _Context(dict(schema), kind))


def _quoted(condition: exp.Expression) -> exp.Expression:
    """The pushed condition with its column names quoted, as the scan's SELECT names them."""
    for column in condition.find_all(exp.Column):
        column.set("this", exp.to_identifier(column.name, quoted=True))
    return condition


def _condition(predicate: Predicate, ctx: _Context) -> exp.Expression | None:
    """The predicate as a condition with Polars' meaning, or None where it holds something no source is asked for."""
    if isinstance(predicate, Compare):
        literal = _literal(predicate.column, predicate.value, ctx)
        return None if literal is None else _SQL_OPS[predicate.op](this=_column(predicate.column), expression=literal)
    if isinstance(predicate, Between):
        low, high = _literal(predicate.column, predicate.low, ctx), _literal(predicate.column, predicate.high, ctx)
        if low is None or high is None:
            return None
        column = _column(predicate.column)
        lower = exp.GTE(this=column, expression=low) if predicate.closed in ("both", "left") else exp.GT(this=column, expression=low)
        upper = exp.LTE(this=column.copy(), expression=high) if predicate.closed in ("both", "right") else exp.LT(this=column.copy(), expression=high)
        return exp.and_(lower, upper)
    if isinstance(predicate, InList):
        return _in_list(predicate, ctx)
    if isinstance(predicate, IsNull):
        if predicate.column not in ctx.schema:
            return None
        test = exp.Is(this=_column(predicate.column), expression=exp.Null())
        return exp.Not(this=test) if predicate.negated else test
    if isinstance(predicate, (And, Or)):
        parts = [_condition(p, ctx) for p in predicate.parts]
        if any(p is None for p in parts):
            return None
        joined = exp.and_ if isinstance(predicate, And) else exp.or_
        return exp.Paren(this=joined(*parts))  # type: ignore[arg-type]
    if isinstance(predicate, Not):
        inner = _condition(predicate.part, ctx)
        return None if inner is None else exp.Not(this=exp.Paren(this=inner))
    return None


def _column(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _literal(column: str, value: Value, ctx: _Context) -> exp.Expression | None:
    """``value`` as a literal of ``column``'s type, as Polars compares them; None where they would not compare alike."""
    dtype = ctx.schema.get(column)
    if dtype is None or dtype_column_type(dtype) is None:
        return None
    if isinstance(dtype, (pl.Date, pl.Datetime)):
        return _temporal_literal(value, dtype, ctx.kind)
    if isinstance(dtype, pl.String):
        return exp.Literal.string(value) if isinstance(value, str) and "\x00" not in value else None
    return _plain_literal(value, dtype)


def _plain_literal(value: Value, dtype: pl.DataType) -> exp.Expression | None:
    """Numbers and booleans compared the same way in Polars and in SQL."""
    if isinstance(value, bool):
        return exp.Boolean(this=value) if isinstance(dtype, pl.Boolean) else None
    if isinstance(value, int):
        if dtype.is_integer() or isinstance(dtype, pl.Decimal):
            return exp.Literal.number(str(value))
        if dtype.is_float() and abs(value) <= _FLOAT_EXACT_INT:
            return exp.Literal.number(str(value))
        return None
    if isinstance(value, float):
        return exp.Literal.number(repr(value)) if dtype.is_float() and math.isfinite(value) else None
    if isinstance(value, Decimal):
        return exp.Literal.number(format(value, "f")) if isinstance(dtype, pl.Decimal) and value.is_finite() else None
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
    text = value.isoformat(" ", timespec="microseconds")
    if value.tzinfo is not None:
        return exp.cast(exp.Literal.string(text), exp.DataType.build("TIMESTAMPTZ")) if kind.name == "postgres" else None
    return exp.cast(exp.Literal.string(text), exp.DataType.build("TIMESTAMP"))


def _in_list(predicate: InList, ctx: _Context) -> exp.Expression | None:
    if predicate.column not in ctx.schema:
        return None
    column = _column(predicate.column)
    null_test = exp.Is(this=column.copy(), expression=exp.Null())
    if not predicate.values:
        return null_test if predicate.nulls_equal and predicate.has_null else None
    literals = [_literal(predicate.column, v, ctx) for v in predicate.values]
    if any(literal is None for literal in literals):
        return None
    condition: exp.Expression = exp.In(this=column, expressions=literals)
    if predicate.nulls_equal and predicate.has_null:
        return exp.Paren(this=exp.or_(condition, null_test))
    if predicate.nulls_equal:  # a NULL is not in the list: false, not unknown
        return exp.Paren(this=exp.and_(condition, exp.Not(this=null_test)))
    return condition
