"""Rewrite the typed merge query so that Polars gives the answers PostgreSQL gives.

Polars' SQL engine reads PostgreSQL syntax but means something else by a few forms.
Each rewrite below uses the types sqlglot annotated on the query:

- ``x IS TRUE`` / ``IS FALSE`` are never NULL: ``COALESCE(x, FALSE)``, ``COALESCE(NOT x, FALSE)``;
- ``a / b`` with ``b = 0`` is NULL, as in MySQL and SQLite (Polars would give infinity, or
  fail on integers; PostgreSQL raises): ``a / NULLIF(b, 0)``;
- casts to an integer or to fewer decimal places round instead of truncating: a float
  rounds half to even (PostgreSQL's ``rint``), a decimal half away from zero;
- ``EXTRACT(SECOND ...)`` keeps the fraction of the second, and ``EXTRACT(EPOCH FROM ts1 - ts2)``
  is the seconds between two timestamps;
- ``date - date`` is a number of days, not a duration;
- ``date ± interval`` is a TIMESTAMP;
- a TIMESTAMP cast to text drops trailing zeros of the fraction (``22:48:51``, ``22:48:51.5``).

Example:
    >>> import sqlglot
    >>> from sqlglot.optimizer.annotate_types import annotate_types
    >>> schema = {"t": {"x": "DOUBLE", "n": "BIGINT", "b": "BOOLEAN"}}
    >>> query = sqlglot.parse_one("select t.x / t.n, cast(t.x as int), t.b is not true from t", read="postgres")
    >>> postgres_semantics(annotate_types(query, schema=schema)).sql(dialect="postgres")
    'SELECT t.x / NULLIF(t.n, 0), CAST(ROUND(t.x) AS INT), NOT COALESCE(t.b, FALSE) FROM t'
"""

from __future__ import annotations

from sqlglot import exp

from piot.join_keys import decimal_scale

_T = exp.DataType.Type
_FLOATS = {_T.DOUBLE, _T.FLOAT}
_INTEGERS = exp.DataType.INTEGER_TYPES
_TEXT = {_T.TEXT, _T.VARCHAR, _T.CHAR, _T.NCHAR, _T.NVARCHAR}
_STAMPS = {_T.TIMESTAMP, _T.DATETIME}


#: Input dialects where ``date + interval`` is a TIMESTAMP (in MySQL it stays a DATE).
TIMESTAMP_INTERVAL_DIALECTS = {"postgres", "redshift", "duckdb"}


def postgres_semantics(tree: exp.Expression, dialect: str = "postgres") -> exp.Expression:
    """Apply every rewrite to an annotated ``tree`` written in ``dialect`` (changed in place; returned for chaining)."""
    for node in reversed(list(tree.walk())):
        if isinstance(node, exp.Is) and isinstance(node.expression, exp.Boolean):
            _truth_test(node)
        elif isinstance(node, exp.Div):
            _null_on_zero(node)
        elif isinstance(node, exp.Cast):
            _rounding_cast(node)
        elif isinstance(node, exp.Extract):
            _fractional_second(node)
        elif isinstance(node, exp.Sub) and _is(node.this, {_T.DATE}) and _is(node.expression, {_T.DATE}):
            node.set("this", exp.cast(node.this, "INT"))
            node.set("expression", exp.cast(node.expression, "INT"))
        if isinstance(node, (exp.Add, exp.Sub)) and dialect in TIMESTAMP_INTERVAL_DIALECTS:
            _timestamp_date_arithmetic(node)
    return tree


def _is(node: exp.Expression | None, kinds: set[exp.DataType.Type]) -> bool:
    return node is not None and node.type is not None and node.type.this in kinds


def _truth_test(node: exp.Is) -> None:
    value = node.this
    if node.expression.this:  # IS TRUE
        node.replace(exp.Coalesce(this=value, expressions=[exp.false()]))
    else:  # IS FALSE
        node.replace(exp.Coalesce(this=exp.Not(this=exp.Paren(this=value)), expressions=[exp.false()]))


def _null_on_zero(node: exp.Div) -> None:
    divisor = node.expression
    if isinstance(divisor, exp.Literal) and divisor.is_number and float(divisor.this) != 0:
        return
    guarded = exp.Nullif(this=divisor, expression=exp.Literal.number(0))
    guarded.type = divisor.type  # keeps integer division recognisable to the generator
    node.set("expression", guarded)


def _rounding_cast(node: exp.Cast) -> None:
    value, target = node.this, node.to
    if value.type is None:
        return
    if target.is_type(*_INTEGERS):
        if value.type.this in _FLOATS:
            node.set("this", exp.func("ROUND", value))
        elif value.type.this == _T.DECIMAL:
            node.set("this", _round_half_away(value, 0))
    elif target.is_type(_T.DECIMAL) and target.expressions:
        scale = decimal_scale(target) or 0
        source_scale = (decimal_scale(value.type) or 0) if value.type.this == _T.DECIMAL else None
        if value.type.this in _FLOATS or (source_scale is not None and source_scale > scale):
            node.set("this", _round_half_away(value, scale))
    elif target.this in _TEXT and value.type.this == _T.TIMESTAMP:
        trimmed = exp.func("RTRIM", exp.func("RTRIM", node.copy(), exp.Literal.string("0")), exp.Literal.string("."))
        node.replace(trimmed)


def _round_half_away(value: exp.Expression, scale: int) -> exp.Expression:
    """``value`` rounded to ``scale`` places, halves away from zero (as PostgreSQL rounds numerics)."""
    factor = exp.Literal.number(10**scale)

    def shifted(node: exp.Expression) -> exp.Expression:
        return exp.Mul(this=exp.Paren(this=node.copy()), expression=factor.copy()) if scale else exp.Paren(this=node.copy())

    up = exp.func("FLOOR", exp.Add(this=shifted(value), expression=exp.Literal.number(0.5)))
    down = exp.func("CEIL", exp.Sub(this=shifted(value), expression=exp.Literal.number(0.5)))
    if scale:
        up = exp.Div(this=up, expression=factor.copy())
        down = exp.Div(this=down, expression=factor.copy())
    return exp.Case(ifs=[exp.If(this=exp.LT(this=value.copy(), expression=exp.Literal.number(0)), true=down)], default=up)


def _fractional_second(node: exp.Extract) -> None:
    part = node.this.name.upper() if isinstance(node.this, (exp.Var, exp.Identifier)) else ""
    value = node.expression.unnest()
    if part == "EPOCH" and isinstance(value, exp.Sub) and _is(value.this, _STAMPS) and _is(value.expression, _STAMPS):
        # the seconds between two timestamps: Polars holds the difference as microseconds
        microseconds = exp.cast(exp.cast(value.copy(), "BIGINT"), "DOUBLE")
        node.replace(exp.Paren(this=exp.Div(this=microseconds, expression=exp.Literal.number(1000000))))
    elif part in ("SECOND", "SECONDS") and _is(node.expression, {_T.TIMESTAMP, _T.DATETIME, _T.TIME}):
        microseconds = exp.Extract(this=exp.var("MICROSECOND"), expression=node.expression.copy())
        node.replace(exp.Paren(this=exp.Div(this=microseconds, expression=exp.Literal.number("1000000.0"))))


def _timestamp_date_arithmetic(node: exp.Add | exp.Sub) -> None:
    left, right = node.this, node.expression
    if isinstance(right, exp.Interval) and _is(left, {_T.DATE}):
        node.set("this", exp.cast(left, "TIMESTAMP"))
    elif isinstance(node, exp.Add) and isinstance(left, exp.Interval) and _is(right, {_T.DATE}):
        node.set("expression", exp.cast(right, "TIMESTAMP"))
