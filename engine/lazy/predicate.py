"""A small, neutral form of row predicates: what piot reads out of Polars and writes as SQL.

Only the shapes that can be pushed to a database are modelled: a column compared
with a literal, ``is_between``, ``is_in``, ``is_null`` and the boolean connectives.
Anything else is :class:`Opaque`: it is never pushed, and Polars applies it itself.

Example:
    >>> from datetime import date
    >>> p = And((Compare("d", ">=", date(2024, 1, 1)), Opaque("f(x)")))
    >>> conjuncts(p)
    (Compare(column='d', op='>=', value=datetime.date(2024, 1, 1)), Opaque(text='f(x)'))
    >>> columns_of(p)
    frozenset({'d'})
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, Union

import polars as pl

#: A literal a predicate can hold; never None (comparisons with null are not modelled).
Value = Union[bool, int, float, Decimal, str, date, datetime]
Op = Literal["==", "!=", "<", "<=", ">", ">="]
Closed = Literal["both", "left", "right", "none"]

OPS: tuple[Op, ...] = ("==", "!=", "<", "<=", ">", ">=")
#: ``lit op col`` is ``col FLIPPED[op] lit``.
FLIPPED: dict[Op, Op] = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
#: The Python operator Polars overloads for each comparison.
OPERATORS: dict[Op, Callable[[object, object], object]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
CLOSED: tuple[Closed, ...] = ("both", "left", "right", "none")


@dataclass(frozen=True)
class Compare:
    """``column op value``, with the column always on the left."""

    column: str
    op: Op
    value: Value


@dataclass(frozen=True)
class Between:
    """``column.is_between(low, high, closed=closed)``."""

    column: str
    low: Value
    high: Value
    closed: Closed = "both"


@dataclass(frozen=True)
class InList:
    """``column.is_in(values + [None] * has_null, nulls_equal=nulls_equal)``."""

    column: str
    values: tuple[Value, ...]
    has_null: bool = False
    nulls_equal: bool = False


@dataclass(frozen=True)
class IsNull:
    """``column.is_null()``, or ``column.is_not_null()`` when negated."""

    column: str
    negated: bool = False


@dataclass(frozen=True)
class And:
    """All parts hold (Kleene logic, as in SQL and Polars)."""

    parts: tuple[Predicate, ...]


@dataclass(frozen=True)
class Or:
    """At least one part holds (Kleene logic)."""

    parts: tuple[Predicate, ...]


@dataclass(frozen=True)
class Not:
    """The part does not hold; null stays null."""

    part: Predicate


@dataclass(frozen=True)
class Opaque:
    """A predicate piot does not understand; ``text`` is how Polars prints it."""

    text: str


Predicate = Union[Compare, Between, InList, IsNull, And, Or, Not, Opaque]


def conjuncts(predicate: Predicate) -> tuple[Predicate, ...]:
    """The parts of a top-level AND chain (the predicate itself when it is not an AND).

    >>> conjuncts(And((IsNull("a"), And((IsNull("b"), IsNull("c"))))))
    (IsNull(column='a', negated=False), IsNull(column='b', negated=False), IsNull(column='c', negated=False))
    """
    if isinstance(predicate, And):
        return tuple(part for inner in predicate.parts for part in conjuncts(inner))
    return (predicate,)


def columns_of(predicate: Predicate) -> frozenset[str]:
    """Every column a predicate mentions (Opaque parts mention none that piot knows of).

    >>> sorted(columns_of(Or((IsNull("a"), Not(Compare("b", "<", 1))))))
    ['a', 'b']
    """
    if isinstance(predicate, (And, Or)):
        return frozenset().union(*(columns_of(p) for p in predicate.parts))
    if isinstance(predicate, Not):
        return columns_of(predicate.part)
    if isinstance(predicate, Opaque):
        return frozenset()
    return frozenset({predicate.column})


def to_polars(predicate: Predicate) -> pl.Expr:
    """Write a predicate back as a Polars expression (used to check readers against Polars).

    Raises:
        ValueError: for :class:`Opaque`, which has no expression.

    >>> print(to_polars(Compare("a", ">", 3)))
    [(col("a")) > (dyn int: 3)]
    """
    if isinstance(predicate, Compare):
        return OPERATORS[predicate.op](pl.col(predicate.column), pl.lit(predicate.value))  # type: ignore[return-value]
    if isinstance(predicate, Between):
        return pl.col(predicate.column).is_between(pl.lit(predicate.low), pl.lit(predicate.high), closed=predicate.closed)
    if isinstance(predicate, InList):
        values = [*predicate.values, *([None] if predicate.has_null else [])]
        return pl.col(predicate.column).is_in(values, nulls_equal=predicate.nulls_equal)
    if isinstance(predicate, IsNull):
        column = pl.col(predicate.column)
        return column.is_not_null() if predicate.negated else column.is_null()
    if isinstance(predicate, And):
        return pl.all_horizontal([to_polars(p) for p in predicate.parts])
    if isinstance(predicate, Or):
        return pl.any_horizontal([to_polars(p) for p in predicate.parts])
    if isinstance(predicate, Not):
        return ~to_polars(predicate.part)
    raise ValueError(f"an opaque predicate has no Polars expression: {predicate.text}")
