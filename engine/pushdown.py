"""Which WHERE conjuncts can run inside a source, and how they are written there.

A conjunct is pushed into a table's scan when it reads only that table, has no
subquery, and is built from comparisons, BETWEEN, IN, LIKE, IS [NOT] NULL, AND, OR,
NOT, casts and simple arithmetic. Pushing is only ever an optimisation: the merge
runs the whole query again over the rows read, so a source may return more rows than
needed but never fewer. Hence the exclusions:

- division (integer division differs between databases), range comparisons on text
  (collations differ) and negated text conditions (``<>``, ``NOT IN``, ``NOT LIKE``: MySQL
  compares text without case, SQLite's LIKE too, so a negation there would drop rows) are
  not pushed;
- the nullable side of an outer join gets nothing (a filter there changes which rows
  are padded with NULLs);
- where dates are ISO text compared as text (SQLite), a date comparison is widened to
  whole days, and any other use of a date column is not pushed.

Example:
    >>> import sqlglot
    >>> from piot.connectors.types import declared_type
    >>> q = sqlglot.parse_one("select * from t where t.d >= '2024-01-01 10:00' and t.x / 2 > 1")
    >>> conj = list(q.args["where"].this.flatten())
    >>> types = {"d": declared_type("TIMESTAMP"), "x": declared_type("INTEGER")}
    >>> pushable(conj[0], types, text_dates=True).sql()
    "t.d >= '2024-01-01'"
    >>> pushable(conj[1], types, text_dates=False) is None
    True
"""

from __future__ import annotations

import datetime as dt

from sqlglot import exp

from piot.connectors.types import ColumnType
from piot.timefold import TimeValue, constant_time, time_literal

_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
_RANGE_COMPARISONS = (exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between)
_ALLOWED = (
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren, exp.Cast, exp.DataType,
    exp.DataTypeParam, exp.And, exp.Or, exp.Not, exp.Between, exp.In, exp.Is, exp.Like, exp.Add,
    exp.Sub, exp.Mul, exp.Neg, exp.Tuple, *_COMPARISONS,
)  # fmt: skip


def conjuncts(condition: exp.Expression | None) -> list[exp.Expression]:
    """The top-level AND terms of a condition (none for None)."""
    if condition is None:
        return []
    return [c.unnest() if isinstance(c, exp.Paren) else c for c in condition.flatten()] if isinstance(condition, exp.And) else [condition]


def pushable(
    conjunct: exp.Expression, types: dict[str, ColumnType], *, text_dates: bool
) -> exp.Expression | None:
    """The form of ``conjunct`` to send to the source, or None if it stays in the merge.

    Args:
        conjunct: one AND term, over columns of a single table.
        types: that table's column types by lower-case name.
        text_dates: the source compares dates as text (SQLite): widen and restrict.
    """
    if any(not isinstance(node, _ALLOWED) for node in conjunct.walk()):
        return None
    for node in conjunct.walk():
        negated = isinstance(node, (exp.NEQ, exp.Not)) or bool(node.args.get("negate"))  # NOT LIKE is Like(negate=True)
        if not (negated or isinstance(node, _RANGE_COMPARISONS)) or _is_null_test(node):
            continue  # IS [NOT] NULL means the same everywhere
        if any(_column_type(c, types).sql == "TEXT" for c in node.find_all(exp.Column)):
            return None
    if not text_dates or not any(_column_type(c, types).is_temporal for c in conjunct.find_all(exp.Column)):
        return _typed_literals(conjunct.copy(), types)
    return _widened_for_text_dates(conjunct, types)


def _is_null_test(node: exp.Expression) -> bool:
    inner = node.this if isinstance(node, exp.Not) else node
    return isinstance(inner, exp.Is)


def _column_type(column: exp.Column, types: dict[str, ColumnType]) -> ColumnType:
    found = types.get(column.name)
    return found if found is not None else ColumnType("", "TEXT", None)  # type: ignore[arg-type]


def _typed_literals(condition: exp.Expression, types: dict[str, ColumnType]) -> exp.Expression:
    """Write constants compared with a DATE/TIMESTAMP column as typed literals of that column's type."""
    for node in list(condition.find_all(*_COMPARISONS, exp.Between)):
        columns = [c for c in node.find_all(exp.Column) if _column_type(c, types).is_temporal]
        if not columns:
            continue
        is_date = _column_type(columns[0], types).sql == "DATE"
        for key in ("this", "expression", "low", "high"):
            operand = node.args.get(key)
            value = constant_time(operand) if operand is not None and not isinstance(operand, exp.Column) else None
            if value is not None:
                instant = value.as_date_operand() if is_date else value.value
                midnight = instant.time() == dt.time()
                operand.replace(time_literal(TimeValue(instant, is_date=is_date and (value.is_date or midnight))))
    return condition


def _widened_for_text_dates(condition: exp.Expression, types: dict[str, ColumnType]) -> exp.Expression | None:
    """Rewrite date comparisons as whole-day text comparisons; None where that is not safe."""
    if isinstance(condition, exp.Paren):
        inner = _widened_for_text_dates(condition.this, types)
        return exp.paren(inner) if inner is not None else None
    if isinstance(condition, (exp.And, exp.Or)):
        left = _widened_for_text_dates(condition.left, types)
        right = _widened_for_text_dates(condition.right, types)
        if left is None or right is None:
            return None
        return type(condition)(this=left, expression=right)
    temporal = [c for c in condition.find_all(exp.Column) if _column_type(c, types).is_temporal]
    if not temporal:
        return _typed_literals(condition.copy(), types)
    if isinstance(condition, exp.Is) and isinstance(condition.this, exp.Column):
        return condition.copy()
    if isinstance(condition, exp.Between) and isinstance(condition.this, exp.Column):
        low, high = constant_time(condition.args["low"]), constant_time(condition.args["high"])
        if low is None or high is None or condition.args.get("symmetric"):
            return None
        column = condition.this
        return exp.and_(day_bound(column, low.value, lower=True), day_bound(column, high.value, lower=False, inclusive=True))
    if isinstance(condition, (exp.GT, exp.GTE, exp.LT, exp.LTE, exp.EQ)):
        column, other, op = condition.left, condition.right, type(condition)
        if not isinstance(column, exp.Column):
            column, other = other, column
            op = {exp.GT: exp.LT, exp.GTE: exp.LTE, exp.LT: exp.GT, exp.LTE: exp.GTE, exp.EQ: exp.EQ}[op]
        value = constant_time(other) if isinstance(column, exp.Column) else None
        if value is None:
            return None
        if op is exp.EQ:
            return exp.and_(day_bound(column, value.value, lower=True), day_bound(column, value.value, lower=False, inclusive=True))
        if op in (exp.GT, exp.GTE):
            return day_bound(column, value.value, lower=True)
        return day_bound(column, value.value, lower=False, inclusive=op is exp.LTE)
    return None


def day_bound(column: exp.Column, value: dt.datetime, *, lower: bool, inclusive: bool = False) -> exp.Expression:
    """A text comparison on ISO dates that admits at least every row the typed bound admits.

    Lower bounds start at the value's day; upper bounds end before the next day, or at
    the value's day itself when the bound is an exclusive midnight, which text compares exactly.

    >>> day_bound(exp.column("d"), dt.datetime(2024, 2, 1), lower=False).sql()
    "d < '2024-02-01'"
    >>> day_bound(exp.column("d"), dt.datetime(2024, 2, 1), lower=False, inclusive=True).sql()
    "d < '2024-02-02'"
    """
    day = value.date()
    if lower:
        return exp.GTE(this=column.copy(), expression=exp.Literal.string(day.isoformat()))
    exact_midnight = value.time() == dt.time() and not inclusive
    end = day if exact_midnight else day + dt.timedelta(days=1)
    return exp.LT(this=column.copy(), expression=exp.Literal.string(end.isoformat()))
