"""Read a Polars predicate expression into piot's neutral :mod:`predicate` form.

This is the one module that looks inside Polars expressions, and it does so only
through Polars' public ``Expr.meta`` API: ``meta.pop()`` gives a node's inputs, and a
node is recognised by rebuilding each shape piot knows (``a > b``, ``a & b``,
``a.is_between(b, c, closed=...)``, ...) from those inputs and asking Polars whether
the rebuilt expression is structurally equal (``meta.eq``). Literals are evaluated by
Polars itself, so their values and types are exactly what Polars would compare.

A node that matches no known shape becomes :class:`~piot.lazy.predicate.Opaque`: it is
not pushed anywhere, which can cost speed but never change an answer.

Example:
    >>> import polars as pl
    >>> read_predicate((pl.col("a") > 3) & pl.col("s").is_in(["x", None]))
    And(parts=(Compare(column='a', op='>', value=3), InList(column='s', values=('x',), has_null=True, nulls_equal=False)))
    >>> read_predicate(pl.date(2024, 1, 1) <= pl.col("d"))
    Compare(column='d', op='>=', value=datetime.date(2024, 1, 1))
    >>> read_predicate(pl.col("a").cum_sum() > 3)
    Opaque(text='[(col("a").cum_sum()) > (dyn int: 3)]')
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import polars as pl

from piot.lazy.predicate import (
    CLOSED,
    FLIPPED,
    OPERATORS,
    OPS,
    And,
    Between,
    Compare,
    InList,
    IsNull,
    Not,
    Opaque,
    Or,
    Predicate,
    Value,
)

__all__ = ["Constant", "read_constant", "read_predicate"]

_SCALAR_TYPES = (bool, int, float, Decimal, str, date, datetime)


@dataclass(frozen=True)
class Constant:
    """A column-free expression evaluated by Polars: its values (one for a scalar) and type."""

    values: tuple[object, ...]
    dtype: pl.DataType


def read_predicate(expr: pl.Expr) -> Predicate:
    """Translate a boolean Polars expression into a :data:`Predicate`.

    Args:
        expr: a predicate, as written by a user or as Polars hands it to an IO source.

    Returns:
        The predicate; parts that cannot be expressed are :class:`Opaque`.

    >>> import polars as pl
    >>> read_predicate(~pl.col("s").is_null() | pl.col("n").is_between(1, 5, closed="left"))
    Or(parts=(Not(part=IsNull(column='s', negated=False)), Between(column='n', low=1, high=5, closed='left')))
    """
    expr = expr.meta.undo_aliases()
    inputs = _inputs(expr)
    if len(inputs) == 1:
        found = _read_unary(expr, inputs[0])
    elif len(inputs) == 2:
        found = _read_binary(expr, *inputs)
    elif len(inputs) == 3:
        found = _read_between(expr, *inputs)
    else:
        found = None
    if found is None and len(inputs) >= 2:
        found = _read_horizontal(expr, inputs)
    return found if found is not None else Opaque(str(expr))


def read_constant(expr: pl.Expr) -> Constant | None:
    """Evaluate ``expr`` if it is built only of literals, casts and aliases; None otherwise.

    Nothing else is evaluated, so a user function hidden in a predicate is never called here.

    >>> import polars as pl
    >>> read_constant(pl.date(2024, 2, 29))
    Constant(values=(datetime.date(2024, 2, 29),), dtype=Date)
    >>> read_constant(pl.col("a")) is None
    True
    """
    expr = expr.meta.undo_aliases()
    if not _is_constant(expr):
        return None
    try:
        series = pl.select(expr).to_series()
    except Exception:  # noqa: BLE001 - a literal Polars cannot evaluate is simply not a constant
        return None
    return Constant(tuple(series.to_list()), series.dtype)


def _inputs(expr: pl.Expr) -> list[pl.Expr]:
    """The node's inputs in the order they were written (``meta.pop`` lists them last first)."""
    try:
        return list(reversed(expr.meta.pop()))
    except Exception:  # noqa: BLE001 - leaves and exotic nodes have no poppable inputs
        return []


def _is_constant(expr: pl.Expr) -> bool:
    if expr.meta.root_names():
        return False
    if expr.meta.is_literal(allow_aliasing=True):
        return True
    inputs = _inputs(expr)
    if len(inputs) != 1 or not _is_constant(inputs[0].meta.undo_aliases()):
        return False
    try:
        dtype = pl.LazyFrame().select(expr).collect_schema().dtypes()[0]
    except Exception:  # noqa: BLE001 - not resolvable means not a plain cast
        return False
    return any(expr.meta.eq(inputs[0].cast(dtype, strict=strict)) for strict in (True, False))


def _column(expr: pl.Expr) -> str | None:
    expr = expr.meta.undo_aliases()
    return expr.meta.output_name() if expr.meta.is_column() else None


def _scalar(expr: pl.Expr) -> Value | None:
    """The value of a one-row literal piot can write as SQL, or None."""
    constant = read_constant(expr)
    if constant is None or len(constant.values) != 1 or not _pushable_dtype(constant.dtype):
        return None
    value = constant.values[0]
    return value if isinstance(value, _SCALAR_TYPES) else None


def _pushable_dtype(dtype: pl.DataType) -> bool:
    """Types whose Python values are exact: nanosecond datetimes lose digits in ``datetime``."""
    return not (isinstance(dtype, pl.Datetime) and dtype.time_unit == "ns")


def _read_unary(expr: pl.Expr, a: pl.Expr) -> Predicate | None:
    if expr.meta.eq(~a):
        return Not(read_predicate(a))
    column = _column(a)
    if column is None:
        return None
    if expr.meta.eq(a.is_null()):
        return IsNull(column)
    if expr.meta.eq(a.is_not_null()):
        return IsNull(column, negated=True)
    return None


def _read_binary(expr: pl.Expr, a: pl.Expr, b: pl.Expr) -> Predicate | None:
    if expr.meta.eq(a & b):
        return And((read_predicate(a), read_predicate(b)))
    if expr.meta.eq(a | b):
        return Or((read_predicate(a), read_predicate(b)))
    for op in OPS:
        if expr.meta.eq(OPERATORS[op](a, b)):  # type: ignore[arg-type]
            return _read_compare(a, op, b)
    for nulls_equal in (False, True):
        if expr.meta.eq(a.is_in(b, nulls_equal=nulls_equal)):
            return _read_in_list(a, b, nulls_equal)
    return None


def _read_compare(a: pl.Expr, op: str, b: pl.Expr) -> Predicate | None:
    column, value = _column(a), _scalar(b)
    if column is not None and value is not None:
        return Compare(column, op, value)  # type: ignore[arg-type]
    column, value = _column(b), _scalar(a)
    if column is not None and value is not None:
        return Compare(column, FLIPPED[op], value)  # type: ignore[index]
    return None


def _read_in_list(a: pl.Expr, b: pl.Expr, nulls_equal: bool) -> Predicate | None:
    column, constant = _column(a), read_constant(b)
    if column is None or constant is None:
        return None
    values, dtype = list(constant.values), constant.dtype
    if isinstance(dtype, (pl.List, pl.Array)) and len(values) == 1 and isinstance(values[0], list):
        values, dtype = values[0], dtype.inner
    if not _pushable_dtype(dtype) or not all(v is None or isinstance(v, _SCALAR_TYPES) for v in values):
        return None
    kept = tuple(v for v in values if v is not None)
    return InList(column, kept, has_null=len(kept) < len(values), nulls_equal=nulls_equal)


def _read_between(expr: pl.Expr, a: pl.Expr, low: pl.Expr, high: pl.Expr) -> Predicate | None:
    for closed in CLOSED:
        if expr.meta.eq(a.is_between(low, high, closed=closed)):
            column, lo, hi = _column(a), _scalar(low), _scalar(high)
            if column is None or lo is None or hi is None:
                return None
            return Between(column, lo, hi, closed)
    return None


def _read_horizontal(expr: pl.Expr, inputs: list[pl.Expr]) -> Predicate | None:
    if expr.meta.eq(pl.all_horizontal(inputs)):
        return And(tuple(read_predicate(e) for e in inputs))
    if expr.meta.eq(pl.any_horizontal(inputs)):
        return Or(tuple(read_predicate(e) for e in inputs))
    return None
