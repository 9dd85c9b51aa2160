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
- a TIMESTAMP cast to text drops trailing zeros of the fraction (``22:48:51``, ``22:48:51.5``);
- an integer constant past 32 bits is a BIGINT (past 64 bits a NUMERIC), and arithmetic on it
  is computed in that type (``3000000000 + 1`` is no 32-bit overflow);
- integer ``+ - *`` fail on overflow instead of wrapping around: the operands meet as
  ``DECIMAL(38, 0)`` (which holds any product of two 64-bit integers) and the result is cast
  back, which raises when it does not fit; ``SUM`` of integers adds as ``DECIMAL(38, 0)`` and
  raises past 64 bits (PostgreSQL would widen the sum to NUMERIC; the merge keeps BIGINT and
  says so rather than give another number);
- a float cast to text is written as PostgreSQL writes it (``166``, not ``166.0``; ``Infinity``);
- ``POWER`` computes in floats and raises where PostgreSQL raises (overflow, zero to a negative
  power, a negative number to a fractional power; at planning for constants) (Polars' integer power
  wraps around, ``power(10, 400)`` gave 0);
- a cast to ``VARCHAR(n)`` or ``CHAR(n)`` keeps the first ``n`` characters; a cast to ``REAL`` compared with
  a number is compared as PostgreSQL does, in double precision;
- ``LIKE`` patterns with a backslash escape (``'b\\%'``: a literal ``%``) are matched as PostgreSQL
  matches them, as an anchored regular expression;
- a text constant cast to a float that overflows (``'1e400'::float``) raises;
- float ``+ - * /`` raise where PostgreSQL raises: an infinite result of finite operands
  (overflow), and a zero product or quotient of non-zero finite operands (underflow);
- a ``LIMIT`` or ``OFFSET`` past 64 bits or below zero raises; one the merge's row count can
  never reach (2^32 - 1 and above) is written as 2^32 - 1, which Polars reads;
- a cast of a TIMESTAMP WITH TIME ZONE to DATE, TIME or TIMESTAMP, its ``EXTRACT`` and its
  ``date_trunc`` read the wall time of the session's zone (the ``timezone`` option), not UTC;
- ``SUM`` and ``AVG`` of dates, times, booleans and text raise; ``-x`` and ``abs(x)`` of an
  integer raise where they overflow;
- arithmetic on text raises (``'a' + 'b'`` is no concatenation), and a quoted constant met by a
  number is read as that number's type (``'1' + 2`` is 3; ``'1.5' + 2`` fails on an integer);
- ``date_trunc`` of a DATE is an instant (TIMESTAMP WITH TIME ZONE), midnight in the session's zone;
- ``LN`` of zero or a negative number, ``SQRT`` of a negative number and ``EXP`` that
  overflows raise instead of answering -inf, NaN or inf.

Errors raised on purpose by the merge carry the marker :data:`FAILURE_MARK`, which
``merge.run_merge`` turns into a DataError with the message alone.

Example:
    >>> import sqlglot
    >>> from sqlglot.optimizer.annotate_types import annotate_types
    >>> schema = {"t": {"x": "DOUBLE", "n": "BIGINT", "b": "BOOLEAN"}}
    >>> query = sqlglot.parse_one("select t.n / t.n, cast(t.x as int), t.b is not true from t", read="postgres")
    >>> postgres_semantics(annotate_types(query, schema=schema)).sql(dialect="postgres")
    'SELECT t.n / NULLIF(t.n, 0), CAST(ROUND(t.x) AS INT), NOT COALESCE(t.b, FALSE) FROM t'
"""

from __future__ import annotations

import decimal
import math
import re
import sys

from sqlglot import exp

from piot.errors import DataError, ProgrammingError
from piot.merge.join_keys import decimal_scale
from piot.sql.values_types import typed_constant

_T = exp.DataType.Type
_FLOATS = {_T.DOUBLE, _T.FLOAT}
_INTEGERS = exp.DataType.INTEGER_TYPES
_TEXT = {_T.TEXT, _T.VARCHAR, _T.CHAR, _T.NCHAR, _T.NVARCHAR}
_STAMPS = {_T.TIMESTAMP, _T.DATETIME}


#: Input dialects where ``date + interval`` is a TIMESTAMP (in MySQL it stays a DATE).
TIMESTAMP_INTERVAL_DIALECTS = {"postgres", "redshift", "duckdb"}


#: the prefix of a text whose failed cast is the merge's way to raise an error of its own.
FAILURE_MARK = "piot-error: "


def postgres_semantics(tree: exp.Expression, dialect: str = "postgres", timezone: str = "UTC") -> exp.Expression:
    """Apply every rewrite to an annotated ``tree`` written in ``dialect`` (changed in place; returned for chaining).

    ``timezone`` is the zone instants are read in, as PostgreSQL's session zone.
    """
    for node in reversed(list(tree.walk())):
        if _reads_wall_time(node) and (timezone != "UTC" or _offset_field(node)):
            node = _in_zone(node, timezone)
        elif isinstance(node, (exp.TimestampTrunc, exp.DateTrunc)) and _is(node.this, {_T.DATE}):
            node = _truncated_date(node, timezone)
        elif isinstance(node, exp.Cast) and timezone != "UTC" and _wall_time_text(node):
            node = _text_instant(node, timezone)
        if isinstance(node, (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between)):
            _instants_compared(node, timezone)
        _widen_integer_type(node)
        _fail_on_constant_overflow(node)
        if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod)):
            _text_operand(node)
        if isinstance(node, exp.Is) and isinstance(node.expression, exp.Boolean):
            _truth_test(node)
        elif isinstance(node, exp.Div):
            _null_on_zero(node)
        elif isinstance(node, (exp.Add, exp.Sub, exp.Mul)) and _is(node, set(_INTEGERS)):
            _checked_integer(node)
        elif isinstance(node, (exp.Neg, exp.Abs)) and _is(node, set(_INTEGERS)) and not isinstance(node.this.unnest(), exp.Literal):
            _checked_sign(node)
        elif isinstance(node, (exp.Sum, exp.Avg)) and _is(node.this, _NOT_SUMMABLE):
            raise ProgrammingError(f"function {node.key}({node.this.type.sql(dialect='postgres').lower()}) does not exist")
        elif isinstance(node, exp.Sum) and _is(node.this, set(_INTEGERS)):
            _checked_sum(node)
        elif isinstance(node, exp.Pow):
            node.replace(_checked_power(node))
        elif isinstance(node, (exp.Ln, exp.Log, exp.Sqrt, exp.Exp)):
            node.replace(_checked_domain(node))
        elif isinstance(node, exp.Like) and not node.args.get("escape"):
            _escaped_like(node)
        elif isinstance(node, exp.Cast):
            _constant_float(node)
            _sized_text(node) or _single_float(node) or _rounding_cast(node)
        elif isinstance(node, exp.Extract):
            _fractional_second(node)
        elif isinstance(node, (exp.Limit, exp.Offset, exp.Fetch)):
            _bounded_count(node)
        elif isinstance(node, exp.Sub) and _is(node.this, {_T.DATE}) and _is(node.expression, {_T.DATE}):
            node.set("this", exp.cast(node.this, "INT"))
            node.set("expression", exp.cast(node.expression, "INT"))
        if isinstance(node, (exp.Add, exp.Sub)) and dialect in TIMESTAMP_INTERVAL_DIALECTS:
            _timestamp_date_arithmetic(node)
    _check_float_arithmetic(tree)
    return tree


def _is(node: exp.Expression | None, kinds: set[exp.DataType.Type]) -> bool:
    return node is not None and node.type is not None and node.type.this in kinds


_WALL_TIME_CASTS = {_T.DATE, _T.TIME, _T.TIMESTAMP, _T.DATETIME}
#: ``EXTRACT`` fields that do not depend on the zone
_ZONELESS_FIELDS = {"EPOCH"}
_OFFSET_FIELDS = {"TIMEZONE", "TIMEZONE_HOUR", "TIMEZONE_MINUTE"}
#: ``date_trunc`` units below a day keep the instant's own offset, as PostgreSQL's do
_SUB_DAY_UNITS = {"MICROSECOND", "MICROSECONDS", "MILLISECOND", "MILLISECONDS", "SECOND", "MINUTE", "HOUR"}


def _reads_wall_time(node: exp.Expression) -> bool:
    """Whether ``node`` reads the wall time of an instant (a TIMESTAMP WITH TIME ZONE)."""
    if isinstance(node, exp.Cast):
        return _is(node.this, {_T.TIMESTAMPTZ}) and node.to.this in _WALL_TIME_CASTS
    if isinstance(node, exp.Extract):
        return _is(node.expression, {_T.TIMESTAMPTZ}) and node.name.upper() not in _ZONELESS_FIELDS
    if isinstance(node, (exp.TimestampTrunc, exp.DateTrunc, exp.Year, exp.Month, exp.Day, exp.Week, exp.Quarter)):
        return _is(node.this, {_T.TIMESTAMPTZ})
    return False


def _truncated_date(node: exp.TimestampTrunc | exp.DateTrunc, timezone: str) -> exp.Expression:
    """``date_trunc(unit, date)``: an instant, midnight of the truncated day in ``timezone``, as PostgreSQL answers it.

    >>> import sqlglot
    >>> from sqlglot.optimizer.annotate_types import annotate_types
    >>> query = annotate_types(sqlglot.parse_one("select date_trunc('month', t.d) from t", read="postgres"), schema={"t": {"d": "DATE"}})
    >>> _truncated_date(query.expressions[0], "UTC").sql(dialect="postgres")
    "DATE_TRUNC('MONTH', CAST(t.d AS TIMESTAMP)) AT TIME ZONE 'UTC'"
    """
    truncated = node.copy()
    truncated.set("this", exp.cast(node.this.copy(), "TIMESTAMP"))
    truncated.type = exp.DataType.build("TIMESTAMP")
    result = exp.AtTimeZone(this=truncated, zone=exp.Literal.string(timezone))
    result.type = exp.DataType.build("TIMESTAMPTZ")
    node.replace(result)
    return result


#: a time followed by an offset (``10:00+05``, ``10:00:00.5-03:30``, ``10:00Z``) ends the text
_OFFSET_AT_END = re.compile(r"\d:\d{2}(?::\d{2}(?:\.\d*)?)?\s*(?:[+-]\d{1,2}(?::?\d{2})?|Z|UTC)$", re.IGNORECASE)


def _wall_time_text(node: exp.Cast) -> bool:
    """Whether ``node`` casts a text without an offset to TIMESTAMP WITH TIME ZONE (a wall time, read in the session's zone)."""
    text = node.this
    return (
        node.to.this == _T.TIMESTAMPTZ
        and isinstance(text, exp.Literal)
        and text.is_string
        and not _OFFSET_AT_END.search(text.this.strip())
        and text.this.strip().lower() not in ("infinity", "-infinity", "now")
    )


def _text_instant(node: exp.Cast, timezone: str) -> exp.Expression:
    """``CAST('2024-02-01' AS TIMESTAMPTZ)``: that wall time in ``timezone``, as PostgreSQL reads it in its session zone.

    >>> import sqlglot
    >>> _text_instant(sqlglot.parse_one("CAST('2024-02-01' AS TIMESTAMPTZ)"), "Asia/Tokyo").sql()
    "CAST('2024-02-01' AS TIMESTAMP) AT TIME ZONE 'Asia/Tokyo'"
    """
    result = exp.AtTimeZone(this=exp.cast(node.this.copy(), "TIMESTAMP"), zone=exp.Literal.string(timezone))
    result.type = exp.DataType.build("TIMESTAMPTZ")
    node.replace(result)
    return result


def _instants_compared(node: exp.Binary | exp.Between, timezone: str) -> None:
    """An instant compared with a date, a wall time or a text: the other side read as an instant in ``timezone``, as PostgreSQL does.

    >>> import sqlglot
    >>> from sqlglot.optimizer.annotate_types import annotate_types
    >>> query = annotate_types(sqlglot.parse_one("select t.at > t.d from t"), schema={"t": {"at": "TIMESTAMPTZ", "d": "DATE"}})
    >>> _instants_compared(query.expressions[0], "Asia/Tokyo"); query.sql()
    "SELECT t.at > CAST(t.d AS TIMESTAMP) AT TIME ZONE 'Asia/Tokyo' FROM t"
    """
    keys = ("this", "low", "high") if isinstance(node, exp.Between) else ("this", "expression")
    sides = {key: node.args.get(key) for key in keys}
    if not any(_is(side, {_T.TIMESTAMPTZ}) for side in sides.values()):
        return
    for key, side in sides.items():
        if side is None or _is(side, {_T.TIMESTAMPTZ}):
            continue
        quoted = isinstance(side, exp.Literal) and side.is_string
        if quoted and _OFFSET_AT_END.search(side.this.strip()):
            instant: exp.Expression = exp.cast(side.copy(), "TIMESTAMPTZ")
        elif quoted or _is(side, {_T.DATE, _T.TIMESTAMP, _T.DATETIME}):
            instant = exp.AtTimeZone(this=exp.cast(side.copy(), "TIMESTAMP"), zone=exp.Literal.string(timezone))
        else:
            continue
        instant.type = exp.DataType.build("TIMESTAMPTZ")
        node.set(key, instant)


def _offset_field(node: exp.Expression) -> bool:
    return isinstance(node, exp.Extract) and node.name.upper() in _OFFSET_FIELDS


def _in_zone(node: exp.Expression, timezone: str) -> exp.Expression:
    """``node`` reading the instant's wall time in ``timezone`` (replaces ``node`` in its tree; returns the new node).

    >>> import sqlglot
    >>> from sqlglot.optimizer.annotate_types import annotate_types
    >>> query = annotate_types(sqlglot.parse_one("select cast(t.at as date) from t"), schema={"t": {"at": "TIMESTAMPTZ"}})
    >>> _in_zone(query.expressions[0], "Asia/Tokyo").sql()
    "CAST(t.at AT TIME ZONE 'Asia/Tokyo' AS DATE)"
    """
    zone = exp.Literal.string(timezone)
    key = "expression" if isinstance(node, exp.Extract) else "this"
    instant = node.args[key]
    wall = exp.AtTimeZone(this=instant.copy(), zone=zone.copy())
    wall.type = exp.DataType.build("TIMESTAMP")
    if _offset_field(node):
        return _zone_offset(node, instant, wall)
    if not isinstance(node, (exp.TimestampTrunc, exp.DateTrunc)):
        node.set(key, wall)
        return node
    truncated = node.copy()
    truncated.set("this", wall.copy())
    truncated.type = exp.DataType.build("TIMESTAMP")
    if node.text("unit").upper() in _SUB_DAY_UNITS:  # the same offset: step back from the instant by what truncation removed
        result: exp.Expression = exp.Sub(this=instant.copy(), expression=exp.Paren(this=exp.Sub(this=wall.copy(), expression=truncated)))
    else:  # the truncated wall time read in the zone again, where the offset may differ (a DST change inside the unit)
        result = exp.AtTimeZone(this=truncated, zone=zone.copy())
    result.type = exp.DataType.build("TIMESTAMPTZ")
    node.replace(result)
    return result


def _zone_offset(node: exp.Extract, instant: exp.Expression, wall: exp.Expression) -> exp.Expression:
    """``EXTRACT(TIMEZONE[_HOUR|_MINUTE] FROM instant)``: the zone's offset at that instant, the wall time's epoch minus the instant's."""
    offset = exp.Paren(
        this=exp.Sub(
            this=exp.Extract(this=exp.var("EPOCH"), expression=wall.copy()),
            expression=exp.Extract(this=exp.var("EPOCH"), expression=instant.copy()),
        )
    )

    def whole(seconds: int) -> exp.Expression:
        return exp.Trunc(this=exp.Div(this=offset.copy(), expression=exp.Literal.number(seconds)))

    field = node.name.upper()
    if field == "TIMEZONE":
        result: exp.Expression = offset
    elif field == "TIMEZONE_HOUR":
        result = whole(3600)
    else:
        result = exp.Sub(this=whole(60), expression=exp.Mul(this=exp.Literal.number(60), expression=whole(3600)))
    result.type = exp.DataType.build("DOUBLE")
    node.replace(result)
    return result


_INTEGER_RANK = {_T.TINYINT: 0, _T.SMALLINT: 1, _T.INT: 2, _T.BIGINT: 3}


def _widen_integer_type(node: exp.Expression) -> None:
    """Type an integer constant by its value, as PostgreSQL does, and carry a wider integer type up through arithmetic.

    >>> import sqlglot
    >>> from sqlglot.optimizer.annotate_types import annotate_types
    >>> query = annotate_types(sqlglot.parse_one("select (3000000000 + 1) * 2"))
    >>> for n in reversed(list(query.walk())): _widen_integer_type(n)
    >>> query.expressions[0].type.sql()
    'BIGINT'
    """
    if isinstance(node, exp.Literal) and not node.is_string and node.this.isdigit():
        value = int(node.this)
        if value > 2**31 - 1:
            node.type = exp.DataType.build("BIGINT" if value <= 2**63 - 1 else "DECIMAL(38, 0)")
        return
    if not isinstance(node, (exp.Paren, exp.Neg, exp.Abs, exp.Add, exp.Sub, exp.Mul, exp.Mod)) or not _is(node, set(_INTEGERS)):
        return
    operands = [o for o in (node.this, node.args.get("expression")) if isinstance(o, exp.Expression) and o.type is not None]
    if any(o.type.this == _T.DECIMAL for o in operands):
        node.type = exp.DataType.build("DECIMAL(38, 0)")
        return
    widest = max((o.type.this for o in operands if o.type.this in _INTEGER_RANK), key=_INTEGER_RANK.get, default=None)
    if widest is not None and _INTEGER_RANK[widest] > _INTEGER_RANK.get(node.type.this, 3):
        node.type = exp.DataType.build(widest)


#: types SUM and AVG do not take, as in PostgreSQL
_NOT_SUMMABLE = {_T.DATE, _T.TIMESTAMP, _T.TIMESTAMPTZ, _T.DATETIME, _T.TIME, _T.BOOLEAN, *_TEXT}


def _checked_sign(node: exp.Neg | exp.Abs) -> None:
    """``-x`` and ``abs(x)`` on integers fail where they overflow (the smallest BIGINT has no positive twin), as in PostgreSQL.

    >>> import sqlglot
    >>> from sqlglot.optimizer.annotate_types import annotate_types
    >>> query = annotate_types(sqlglot.parse_one("select abs(t.n) from t"), schema={"t": {"n": "BIGINT"}})
    >>> _checked_sign(query.expressions[0]); query.sql()
    'SELECT CAST(ABS(CAST(t.n AS DECIMAL(38, 0))) AS BIGINT) FROM t'
    """
    wide = type(node)(this=exp.cast(node.this, _WIDE))
    checked = exp.Cast(this=wide, to=node.type.copy())
    checked.type = node.type
    node.replace(checked)


_RANGES = {_T.TINYINT: 2**7, _T.SMALLINT: 2**15, _T.INT: 2**31, _T.BIGINT: 2**63}
_RANGE_NAMES = {_T.TINYINT: "tinyint", _T.SMALLINT: "smallint", _T.INT: "integer", _T.BIGINT: "bigint"}


def _fail_on_constant_overflow(node: exp.Expression) -> None:
    """Integer arithmetic on constants that overflows raises at planning, as PostgreSQL folds it, even over no rows.

    >>> import sqlglot
    >>> from sqlglot.optimizer.annotate_types import annotate_types
    >>> query = annotate_types(sqlglot.parse_one("select abs(-9223372036854775807 - 1)"))
    >>> for n in reversed(list(query.walk())): _widen_integer_type(n); _fail_on_constant_overflow(n)
    Traceback (most recent call last):
    piot.errors.DataError: bigint out of range
    """
    if not isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Neg, exp.Abs)) or node.type is None or node.type.this not in _RANGES:
        return
    value = _integer_value(node)
    limit = _RANGES[node.type.this]
    if value is not None and not -limit <= value < limit:
        raise DataError(f"{_RANGE_NAMES[node.type.this]} out of range")


def _integer_value(node: exp.Expression) -> int | None:
    """The value of integer arithmetic on integer constants, else None."""
    node = node.unnest()
    if isinstance(node, exp.Literal) and not node.is_string and node.this.isdigit():
        return int(node.this)
    if isinstance(node, exp.Cast) and (node.to.this in _INTEGERS or node.to.this == _T.DECIMAL):  # the checks' own casts
        return _integer_value(node.this)
    if isinstance(node, (exp.Neg, exp.Abs)):
        inner = _integer_value(node.this)
        return None if inner is None else (-inner if isinstance(node, exp.Neg) else abs(inner))
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul)):
        left, right = _integer_value(node.this), _integer_value(node.expression)
        if left is None or right is None:
            return None
        return left + right if isinstance(node, exp.Add) else left - right if isinstance(node, exp.Sub) else left * right
    return None


_OPERATORS = {exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/", exp.Mod: "%"}
#: the kind a quoted constant is read as when it meets a number of each type
_NUMBER_KINDS = {**{t: "integer" for t in _INTEGERS}, _T.DECIMAL: "numeric", _T.DOUBLE: "double precision", _T.FLOAT: "double precision"}


def _text_operand(node: exp.Add | exp.Sub | exp.Mul | exp.Div | exp.Mod) -> None:
    """Arithmetic with text: raise as PostgreSQL does, or read a quoted constant as the other operand's number type.

    >>> import sqlglot
    >>> from sqlglot.optimizer.annotate_types import annotate_types
    >>> query = annotate_types(sqlglot.parse_one("select '1' + 2"))
    >>> _text_operand(query.expressions[0]); query.sql()
    'SELECT 1 + 2'
    >>> _text_operand(annotate_types(sqlglot.parse_one("select 'a' + 'b'")).expressions[0])
    Traceback (most recent call last):
    piot.errors.ProgrammingError: operator does not exist: text + text
    """
    left, right = node.this, node.expression
    texts = [_is(side, _TEXT) for side in (left, right)]
    if not any(texts):
        return
    operator = _OPERATORS[type(node)]
    if all(texts):
        raise ProgrammingError(f"operator does not exist: text {operator} text")
    text, other = (left, right) if texts[0] else (right, left)
    other_kind = _NUMBER_KINDS.get(other.type.this) if other.type is not None else None
    if not (isinstance(text, exp.Literal) and text.is_string):
        if other_kind is not None:
            shown = (other_kind, "text") if text is right else ("text", other_kind)
            raise ProgrammingError(f"operator does not exist: {shown[0]} {operator} {shown[1]}")
        return
    if other_kind is not None:
        constant = typed_constant(text.this, other_kind)
        constant.type = other.type.copy()
        text.replace(constant)


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
    elif target.this in _TEXT and value.type.this in _FLOATS:
        node.replace(_float_text(value))
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


_WIDE = "DECIMAL(38, 0)"


def _checked_integer(node: exp.Add | exp.Sub | exp.Mul) -> None:
    """``a op b`` on integers, computed without wrapping around: a failing cast where it overflows."""
    if node.type is None or node.find_ancestor(exp.Interval) is not None:
        return
    wide = type(node)(this=exp.cast(node.this, _WIDE), expression=exp.cast(node.expression, _WIDE))
    checked = exp.Cast(this=exp.Paren(this=wide), to=node.type.copy())
    checked.type = node.type
    node.replace(checked)


#: the meta key marking float arithmetic that can neither overflow nor underflow (an average's sum over its count)
CANNOT_OVERFLOW = "piot_cannot_overflow"


def _check_float_arithmetic(tree: exp.Expression) -> None:
    """Wrap every float ``+ - * /`` in :func:`_checked_float`, but those marked :data:`CANNOT_OVERFLOW`.

    Each check reads copies of the operation as it was before its operands were checked, so
    nested arithmetic grows the query by the square of its depth, not exponentially.
    """
    operations = [
        n for n in tree.walk() if isinstance(n, (exp.Add, exp.Sub, exp.Mul, exp.Div)) and _is(n, _FLOATS) and not n.meta.get(CANNOT_OVERFLOW)
    ]
    unchecked = {id(n): n.copy() for n in operations}
    for node in reversed(operations):
        node.replace(_checked_float(node.copy(), unchecked[id(node)]))


def _checked_float(value: exp.Add | exp.Sub | exp.Mul | exp.Div, unchecked: exp.Expression) -> exp.Expression:
    """``value`` failing as PostgreSQL's float arithmetic fails, judged on its ``unchecked`` form.

    >>> import sqlglot
    >>> sql = _checked_float(sqlglot.parse_one("x * y"), sqlglot.parse_one("x * y")).sql()
    >>> "overflow" in sql and "underflow" in sql
    True
    """
    infinity = exp.cast(exp.Literal.string("inf"), "DOUBLE")
    zero = exp.Literal.number(0)

    def finite(node: exp.Expression) -> exp.Expression:
        return exp.LT(this=exp.Abs(this=node.copy()), expression=infinity.copy())

    left, right = unchecked.this, unchecked.expression
    overflow = exp.and_(exp.EQ(this=exp.Abs(this=unchecked.copy()), expression=infinity.copy()), finite(left), finite(right))
    checked = fail_when(overflow, "value out of range: overflow", value, "DOUBLE")
    if isinstance(unchecked, (exp.Mul, exp.Div)):
        underflow = exp.and_(
            exp.EQ(this=unchecked.copy(), expression=zero.copy()),
            exp.NEQ(this=left.copy(), expression=zero.copy()),
            finite(right) if isinstance(unchecked, exp.Div) else exp.NEQ(this=right.copy(), expression=zero.copy()),
        )
        checked = fail_when(underflow, "value out of range: underflow", checked, "DOUBLE")
    return checked


#: the most rows a frame of the merge holds (Polars counts rows in 32 bits)
MOST_ROWS = 2**32 - 1


def _bounded_count(node: exp.Limit | exp.Offset | exp.Fetch) -> None:
    """Check a constant LIMIT / OFFSET / FETCH count as PostgreSQL does, and bring it within what Polars reads.

    >>> import sqlglot
    >>> query = sqlglot.parse_one("select 1 limit 9223372036854775807")
    >>> _bounded_count(query.args["limit"]); query.sql()
    'SELECT 1 LIMIT 4294967295'
    """
    key = "count" if isinstance(node, exp.Fetch) else "expression"
    if isinstance(node, exp.Fetch) and node.args.get(key) is None:
        node.set(key, exp.Literal.number(1))  # FETCH FIRST ROW ONLY: one row, as PostgreSQL reads it
    count = node.args.get(key)
    number = _integer_constant(count) if count is not None else None
    if number is None:
        return
    clause = "OFFSET" if isinstance(node, exp.Offset) else "LIMIT"
    if not -(2**63) <= number < 2**63:
        raise DataError(f"{clause} {count.sql()} is out of range for bigint")
    if number < 0:
        raise DataError(f"{clause} must not be negative")
    node.set(key, exp.Literal.number(min(number, MOST_ROWS)))


def _integer_constant(node: exp.Expression) -> int | None:
    """A number constant (negated or parenthesised) rounded to an integer as PostgreSQL rounds it into a bigint, else None.

    >>> import sqlglot
    >>> _integer_constant(sqlglot.parse_one("-(2.5)")), _integer_constant(sqlglot.parse_one("9223372036854775808"))
    (-3, 9223372036854775808)
    """
    node = node.unnest()
    if isinstance(node, exp.Neg):
        inner = _integer_constant(node.this)
        return -inner if inner is not None else None
    if not (isinstance(node, exp.Literal) and not node.is_string):
        return None
    try:
        return int(decimal.Decimal(node.this).to_integral_value(decimal.ROUND_HALF_UP))
    except (decimal.InvalidOperation, ValueError, OverflowError):
        return None


def _checked_sum(node: exp.Sum) -> None:
    """``SUM`` of integers added as DECIMAL(38, 0) and cast back to BIGINT (also with FILTER / OVER), which fails past 64 bits."""
    value = node.this
    if isinstance(value, exp.Distinct):  # SUM(DISTINCT x): the distinct values are the same as decimals
        value.set("expressions", [exp.cast(e, _WIDE) for e in value.expressions])
    else:
        node.set("this", exp.cast(value, _WIDE))
    whole: exp.Expression = node
    while isinstance(whole.parent, (exp.Window, exp.Filter)):
        whole = whole.parent
    result = exp.Cast(this=whole.copy(), to=exp.DataType.build("BIGINT"))
    result.type = exp.DataType.build("BIGINT")
    whole.replace(result)


def _float_text(value: exp.Expression) -> exp.Expression:
    """A float as PostgreSQL writes it: whole numbers without ``.0``, ``Infinity`` and ``-Infinity`` by name.

    >>> import sqlglot
    >>> "'Infinity'" in _float_text(sqlglot.parse_one("x")).sql()
    True
    """
    infinity = exp.cast(exp.Literal.string("inf"), "DOUBLE")
    whole = exp.and_(
        exp.EQ(this=value.copy(), expression=exp.func("TRUNC", value.copy())),
        exp.LT(this=exp.Abs(this=value.copy()), expression=exp.Literal.number("1e15")),
    )
    text = exp.Case(
        ifs=[
            exp.If(this=exp.EQ(this=value.copy(), expression=infinity.copy()), true=exp.Literal.string("Infinity")),
            exp.If(this=exp.EQ(this=value.copy(), expression=exp.Neg(this=infinity.copy())), true=exp.Literal.string("-Infinity")),
            exp.If(this=whole, true=exp.cast(exp.cast(value.copy(), "BIGINT"), "TEXT")),
        ],
        default=exp.cast(value.copy(), "TEXT"),
    )
    text.type = exp.DataType.build("TEXT")
    return text


def _checked_power(node: exp.Pow) -> exp.Expression:
    """``POWER(a, b)`` in double precision, failing where PostgreSQL fails (at planning for constants, as it folds them).

    An infinite result of a finite base and exponent overflows; zero to a negative power is
    undefined; a negative base to a fractional power would be complex.

    >>> import sqlglot
    >>> _checked_power(sqlglot.parse_one("power(0, -1)"))
    Traceback (most recent call last):
    piot.errors.DataError: zero raised to a negative power is undefined
    """
    base, exponent = exp.cast(node.this, "DOUBLE"), exp.cast(node.expression, "DOUBLE")
    value = exp.Pow(this=base, expression=exponent)
    infinity = exp.cast(exp.Literal.string("inf"), "DOUBLE")
    zero = exp.Literal.number(0)
    overflow = exp.and_(
        exp.EQ(this=exp.Abs(this=value.copy()), expression=infinity.copy()),
        exp.LT(this=exp.Abs(this=base.copy()), expression=infinity.copy()),
        exp.LT(this=exp.Abs(this=exponent.copy()), expression=infinity.copy()),
    )
    failures = [
        (overflow, "value out of range: overflow"),
        (exp.and_(exp.EQ(this=base.copy(), expression=zero.copy()), exp.LT(this=exponent.copy(), expression=zero.copy())),
         "zero raised to a negative power is undefined"),
        (exp.and_(exp.LT(this=base.copy(), expression=zero.copy()), exp.NEQ(this=exponent.copy(), expression=exp.func("FLOOR", exponent.copy()))),
         "a negative number raised to a non-integer power yields a complex result"),
    ]  # fmt: skip
    constants = (_numeric_constant(node.this), _numeric_constant(node.expression))
    if constants[0] is not None and constants[1] is not None:
        _fail_on_constant_power(*constants)
    checked: exp.Expression = value
    for condition, message in failures:
        checked = fail_when(condition, message, checked, "DOUBLE")
    return checked


def _fail_on_constant_power(base: float, exponent: float) -> None:
    """Raise where PostgreSQL raises for ``power(base, exponent)`` of two constants.

    >>> _fail_on_constant_power(10, 400)
    Traceback (most recent call last):
    piot.errors.DataError: value out of range: overflow
    """
    if base == 0 and exponent < 0:
        raise DataError("zero raised to a negative power is undefined")
    if base < 0 and not float(exponent).is_integer():
        raise DataError("a negative number raised to a non-integer power yields a complex result")
    try:
        result = math.pow(base, exponent)
    except OverflowError:
        result = math.inf
    if math.isinf(result) and math.isfinite(base) and math.isfinite(exponent):
        raise DataError("value out of range: overflow")


def _checked_domain(node: exp.Ln | exp.Log | exp.Sqrt | exp.Exp) -> exp.Expression:
    """``LN``, ``LOG``, ``SQRT`` and ``EXP`` failing where PostgreSQL fails, instead of answering -inf, NaN or inf.

    >>> import sqlglot
    >>> "cannot take square root of a negative number" in _checked_domain(sqlglot.parse_one("sqrt(x)")).sql()
    True
    """
    argument = node.this
    zero = exp.Literal.number(0)
    if isinstance(node, exp.Exp):
        infinity = exp.cast(exp.Literal.string("inf"), "DOUBLE")
        failures = [
            (
                exp.and_(
                    exp.EQ(this=exp.Abs(this=node.copy()), expression=infinity.copy()),
                    exp.LT(this=exp.Abs(this=exp.cast(argument.copy(), "DOUBLE")), expression=infinity.copy()),
                ),
                "value out of range: overflow",
            )
        ]
    elif isinstance(node, exp.Sqrt):
        failures = [(exp.LT(this=argument.copy(), expression=zero), "cannot take square root of a negative number")]
    else:  # LN(x), LOG(x), LOG(b, x): the number and the base must be positive, and a base of 1 divides by zero
        numbers = [node.expression, node.this] if isinstance(node, exp.Log) and node.expression else [argument]
        failures = [
            failure
            for number in numbers
            for failure in (
                (exp.EQ(this=number.copy(), expression=zero.copy()), "cannot take logarithm of zero"),
                (exp.LT(this=number.copy(), expression=zero.copy()), "cannot take logarithm of a negative number"),
            )
        ]
        if len(numbers) == 2:
            failures.append((exp.EQ(this=numbers[1].copy(), expression=exp.Literal.number(1)), "division by zero"))
    _fail_on_constant(node)
    value: exp.Expression = node.copy()
    for condition, message in failures:
        value = fail_when(condition, message, value, "DOUBLE")
    return value


def _numeric_constant(node: exp.Expression) -> float | None:
    """The value of a number literal, negated or parenthesised, else None.

    >>> import sqlglot
    >>> _numeric_constant(sqlglot.parse_one("-(2.5)")), _numeric_constant(sqlglot.parse_one("x"))
    (-2.5, None)
    """
    node = node.unnest()
    if isinstance(node, exp.Neg):
        inner = _numeric_constant(node.this)
        return -inner if inner is not None else None
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            return float(node.this)
        except ValueError:
            return None
    return None


def _fail_on_constant(node: exp.Ln | exp.Log | exp.Sqrt | exp.Exp) -> None:
    """Raise where PostgreSQL raises, when every argument of ``node`` is a number constant.

    PostgreSQL folds such a call when it plans the query, so it fails even over no rows.

    >>> import sqlglot
    >>> _fail_on_constant(sqlglot.parse_one("log(1, x)"))
    >>> _fail_on_constant(sqlglot.parse_one("log(1, 10)"))
    Traceback (most recent call last):
    piot.errors.DataError: division by zero
    """
    arguments = [a for key in ("this", "expression") if isinstance(a := node.args.get(key), exp.Expression)]
    values = [_numeric_constant(a) for a in arguments]
    if not values or any(v is None for v in values):
        return
    if isinstance(node, exp.Sqrt) and values[0] < 0:
        raise DataError("cannot take square root of a negative number")
    if isinstance(node, exp.Exp) and math.isfinite(values[0]) and values[0] > math.log(sys.float_info.max):
        raise DataError("value out of range: overflow")
    if isinstance(node, (exp.Ln, exp.Log)):
        if any(v == 0 for v in values):
            raise DataError("cannot take logarithm of zero")
        if any(v < 0 for v in values):
            raise DataError("cannot take logarithm of a negative number")
        if len(values) == 2 and values[0] == 1:
            raise DataError("division by zero")


def fail_when(condition: exp.Expression, message: str, value: exp.Expression, type_sql: str) -> exp.Expression:
    """``value``, except that the query fails with ``message`` on rows where ``condition`` holds.

    Polars SQL has no RAISE: the failure is a cast of the marked message to ``type_sql``,
    which only rows meeting the condition attempt.
    """
    failing = exp.Case(ifs=[exp.If(this=condition, true=exp.Literal.string(FAILURE_MARK + message))])
    result = exp.Coalesce(this=exp.cast(failing, type_sql), expressions=[value])
    result.type = exp.DataType.build(type_sql)
    return result


_LIKE_SPECIAL = {"%": ".*", "_": "."}


def _escaped_like(node: exp.Like) -> None:
    """A LIKE whose literal pattern has a backslash escape: an anchored regular expression with PostgreSQL's meaning."""
    pattern = node.expression
    if not (isinstance(pattern, exp.Literal) and pattern.is_string and "\\" in pattern.this):
        return
    regex, text, escaped = ["(?s)^"], pattern.this, False
    for char in text:
        if escaped:
            regex.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            regex.append(_LIKE_SPECIAL.get(char) or re.escape(char))
    if escaped:
        raise DataError(f"LIKE pattern must not end with escape character: {text!r}")
    regex.append("$")
    node.replace(exp.RegexpLike(this=node.this.copy(), expression=exp.Literal.string("".join(regex))))


def _constant_float(node: exp.Cast) -> None:
    """A text constant cast to a float must be a float: ``'1e400'::float`` raises in PostgreSQL."""
    value = node.this
    if node.to.this in _FLOATS and isinstance(value, exp.Literal) and value.is_string:
        text = value.this.strip().lower().lstrip("+-")
        try:
            number = float(text)
        except ValueError:
            return  # not a number: the merge's own cast fails on it
        if math.isinf(number) and text not in ("inf", "infinity"):
            raise DataError(f"value out of range: {value.this!r} is out of range for type double precision")


def _sized_text(node: exp.Cast) -> bool:
    """``CAST(x AS VARCHAR(n))`` and ``CAST(x AS CHAR(n))`` keep the first n characters, as PostgreSQL's explicit cast does.

    A CHAR(n) is also right-trimmed: PostgreSQL pads it to n and ignores the padding when it compares.
    """
    target = node.to
    if not (target.this in {_T.VARCHAR, _T.NVARCHAR, _T.CHAR, _T.NCHAR} and target.expressions):
        return False
    size = target.expressions[0].this
    if not (isinstance(size, exp.Literal) and size.is_int):
        return False
    unsized = exp.Cast(this=node.this.copy(), to=exp.DataType.build("VARCHAR"))
    kept: exp.Expression = exp.Left(this=unsized, expression=exp.Literal.number(int(size.this)))
    if target.this in {_T.CHAR, _T.NCHAR}:
        kept = exp.Trim(this=kept, position="TRAILING")
    node.replace(kept)
    return True


def _single_float(node: exp.Cast) -> bool:
    """A REAL compared with something is compared in double precision, as PostgreSQL compares it."""
    if not node.to.is_type(_T.FLOAT):
        return False
    parent = node.parent
    while isinstance(parent, exp.Paren):
        parent = parent.parent
    if not isinstance(parent, (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between, exp.In)):
        return False
    _rounding_cast(node)
    node.replace(exp.Cast(this=node.copy(), to=exp.DataType.build("DOUBLE")))
    return True
