"""Which WHERE conjuncts run inside a source, and how: exactly, widened, or not at all.

A conjunct is considered for a table's scan when it reads only that table, has no subquery,
and is built from comparisons, BETWEEN, IN, LIKE, IS [NOT] NULL, AND, OR, NOT, casts and
``+ - *``. What the source does with it is judged against the merge's meaning, per source
kind and per type family, by the table in :mod:`piot.plan.exactness`:

- **exact** when every cast, operator and comparison in it is exact on that kind for those
  types (``CAST(price AS INTEGER)`` is on PostgreSQL, which rounds as the merge does; not on
  SQLite, which truncates, nor on MariaDB, which rounds halves away from zero);
- **widened** when the source keeps a superset of the rows: text equality and LIKE where the
  source ignores case or trailing blanks (MariaDB; SQLite's LIKE), and date comparisons on
  dates held as ISO text (SQLite), rewritten as whole-day text bounds. A widened condition
  only sits under AND / OR: under NOT, or compared as a value, it would lose rows, so it is
  kept back there. The exact condition runs on the rows read, in the task;
- **kept back** otherwise: division (integer division differs between databases), text
  ordering (collations differ), functions, parameters, casts and arithmetic a kind computes
  differently (SQLite's integer overflow turns into a float), ``'inf'``/``'NaN'`` where the
  source reads them as 0, integers beyond 64 bits where the source rounds them.

The merge runs the whole query again over the rows read, so a widened or kept-back conjunct
costs only rows read, never a row of the answer. The nullable side of an outer join gets
nothing (see :mod:`piot.plan.filters`).

Example:
    >>> import sqlglot
    >>> from piot.connectors.types import declared_type
    >>> from piot.plan.exactness import semantics_of
    >>> q = sqlglot.parse_one("select * from t where t.d >= '2024-01-01 10:00' and cast(t.p as int) = 3")
    >>> conj = list(q.args["where"].this.flatten())
    >>> types = {"d": declared_type("TIMESTAMP"), "p": declared_type("DOUBLE")}
    >>> decide(conj[0], types, semantics_of("sqlite"))
    Pushdown(condition="t.d >= '2024-01-01'", exactness=<Exactness.WIDENED: 'widened'>, reason='dates are compared as text, by whole days')
    >>> decide(conj[1], types, semantics_of("sqlite")).exactness
    <Exactness.KEPT_BACK: 'kept back'>
    >>> decide(conj[1], types, semantics_of("postgres")).condition
    'CAST(t.p AS INT) = 3'
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cached_property

from sqlglot import exp

from piot.connectors.types import ColumnType
from piot.plan.exactness import Exactness, KindSemantics, family_of, semantics_of
from piot.sql.timefold import TimeValue, constant_time, time_literal

_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
_ORDERINGS = (exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between)
_PREDICATES = (*_COMPARISONS, exp.Between, exp.In, exp.Like, exp.Is)
_ALLOWED = (
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren, exp.Cast, exp.DataType,
    exp.DataTypeParam, exp.And, exp.Or, exp.Not, exp.Between, exp.In, exp.Is, exp.Like, exp.Add,
    exp.Sub, exp.Mul, exp.Neg, exp.Tuple, *_COMPARISONS,
)  # fmt: skip
_NUMBERS = ("integer", "decimal", "float")
_TEMPORAL = ("date", "timestamp", "timestamptz")
_PLAIN_NUMBER = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$")
_INT64 = range(-(2**63), 2**63)


@dataclass(frozen=True)
class Pushdown:
    """The decision on one conjunct.

    Attributes:
        condition: the form sent to the source (frame column names, PostgreSQL syntax), None when kept back.
        exactness: exact, widened or kept back.
        reason: why it is not exact (empty when it is).
    """

    condition: str | None
    exactness: Exactness
    reason: str = ""

    @cached_property
    def tree(self) -> exp.Expression | None:
        """The condition as a sqlglot tree (parsed once; copy it before changing it)."""
        return exp.condition(self.condition, dialect="postgres") if self.condition is not None else None


def conjuncts(condition: exp.Expression | None) -> list[exp.Expression]:
    """The top-level AND terms of a condition (none for None)."""
    if condition is None:
        return []
    return [c.unnest() if isinstance(c, exp.Paren) else c for c in condition.flatten()] if isinstance(condition, exp.And) else [condition]


def decide(conjunct: exp.Expression, types: dict[str, ColumnType], semantics: KindSemantics) -> Pushdown:
    """What to send to a source of kind ``semantics`` for ``conjunct``, and how exact it is.

    Args:
        conjunct: one AND term, over columns of a single table.
        types: that table's column types by frame column name.
        semantics: what the source's kind computes exactly.
    """
    odd = next((node for node in conjunct.walk() if not isinstance(node, _ALLOWED)), None)
    if odd is not None:
        return Pushdown(None, Exactness.KEPT_BACK, f"{_construct(odd)} is evaluated by the merge only")
    temporal = any(_column_type(c, types).is_temporal for c in conjunct.find_all(exp.Column))
    judge = _Judge(types, semantics, dates_widened=temporal and not semantics.typed_dates)
    exactness = judge.condition(conjunct, positive=True)
    if exactness is Exactness.KEPT_BACK:
        return Pushdown(None, exactness, judge.reason)
    if judge.dates_widened:
        widened = _widened_for_text_dates(conjunct, types)
        if widened is None:
            return Pushdown(None, Exactness.KEPT_BACK, "dates are held as text: only comparisons with constants are pushed")
        judge.weaken(Exactness.WIDENED, "dates are compared as text, by whole days")
        return Pushdown(widened.sql(dialect="postgres"), judge.exactness, judge.reason)
    pushed = _collated(_typed_literals(conjunct.copy(), types), types, semantics)
    return Pushdown(pushed.sql(dialect="postgres", copy=False), judge.exactness, judge.reason)  # pushed is a copy of its own


_VALUE_NODES = (exp.Column, exp.Identifier, exp.Literal, exp.Paren, exp.Cast, exp.DataType, exp.DataTypeParam, exp.Add, exp.Sub, exp.Mul, exp.Neg)


def exact_value(value: exp.Expression, types: dict[str, ColumnType], semantics: KindSemantics) -> str | None:
    """The type family of a value a source of kind ``semantics`` computes exactly as the merge does, else None.

    Only columns, literals, casts and ``+ - *`` are judged; the source then computes the value
    itself (an aggregate's argument).

    >>> from piot.connectors.types import declared_type
    >>> from piot.plan.exactness import semantics_of
    >>> import sqlglot
    >>> types = {"p": declared_type("numeric(12,2)"), "q": declared_type("integer")}
    >>> exact_value(sqlglot.parse_one("p * (1 - q)"), types, semantics_of("postgres")), exact_value(sqlglot.parse_one("q * 2"), types, semantics_of("sqlite"))
    ('decimal', None)
    """
    if any(not isinstance(node, _VALUE_NODES) for node in value.walk()):
        return None
    judge = _Judge(types, semantics)
    judge.value(value)
    family = judge.family(value)
    return family if judge.exactness is Exactness.EXACT and family != "unknown" else None


def _collated(condition: exp.Expression, types: dict[str, ColumnType], semantics: KindSemantics) -> exp.Expression:
    """``condition`` with each text column compared by order put under the kind's byte-order collation.

    >>> import sqlglot
    >>> from piot.connectors.types import declared_type
    >>> _collated(sqlglot.parse_one("s < 'b'"), {"s": declared_type("text")}, semantics_of("postgres")).sql("postgres")
    's COLLATE "C" < \\'b\\''
    """
    collation = semantics.text_order_collation
    if collation is None:
        return condition
    name = exp.to_identifier(collation.strip('"'), quoted=True) if collation.startswith('"') else exp.var(collation)
    for node in list(condition.find_all(*_ORDERINGS)):
        for column in [c for c in node.find_all(exp.Column) if family_of(_column_type(c, types).sql) == "text"]:
            column.replace(exp.Collate(this=column.copy(), expression=name.copy()))
    return condition


def pushable(conjunct: exp.Expression, types: dict[str, ColumnType], *, text_dates: bool) -> exp.Expression | None:
    """The form of ``conjunct`` sent to SQLite (``text_dates``) or PostgreSQL, or None if it is kept back."""
    return decide(conjunct, types, semantics_of("sqlite" if text_dates else "postgres")).tree


def _construct(node: exp.Expression) -> str:
    if isinstance(node, exp.Func):
        return f"function {node.sql_name().lower()}()"
    return node.key.upper() if not isinstance(node, (exp.Placeholder, exp.Parameter)) else "a parameter"


class _Judge:
    """Walks a conjunct and keeps the weakest exactness met, with the reason for it."""

    def __init__(self, types: dict[str, ColumnType], semantics: KindSemantics, *, dates_widened: bool = False) -> None:
        self.types = types
        self.semantics = semantics
        self.dates_widened = dates_widened  # date comparisons are rewritten as text bounds, judged by that rewrite
        self.exactness = Exactness.EXACT
        self.reason = ""

    def weaken(self, to: Exactness, reason: str) -> None:
        if (self.exactness | to) is not self.exactness:
            self.exactness, self.reason = to, reason

    def condition(self, node: exp.Expression, *, positive: bool) -> Exactness:
        """Judge a boolean ``node``; ``positive`` when only AND / OR stand above it (a widening holds there)."""
        if isinstance(node, exp.Paren):
            return self.condition(node.this, positive=positive)
        if isinstance(node, (exp.And, exp.Or)):
            self.condition(node.left, positive=positive)
            return self.condition(node.right, positive=positive)
        if isinstance(node, exp.Not):
            return self.condition(node.this, positive=False)
        if isinstance(node, _PREDICATES):
            found = self.predicate(node)
            if found is Exactness.WIDENED and (not positive or node.args.get("negate")):
                self.weaken(Exactness.KEPT_BACK, f"a loose {node.key.upper()} cannot be negated")
            return self.exactness
        if self.family(node) != "boolean":
            self.weaken(Exactness.KEPT_BACK, f"{node.sql()} is not a condition")
        self.value(node)
        return self.exactness

    def predicate(self, node: exp.Expression) -> Exactness:
        """Judge one comparison, BETWEEN, IN, LIKE or IS; return its own exactness."""
        operands = [v for k, v in node.args.items() if k in ("this", "expression", "low", "high") and isinstance(v, exp.Expression)]
        operands += list(node.expressions) if isinstance(node, exp.In) else []
        if isinstance(node, exp.In) and node.args.get("query") is not None:
            self.weaken(Exactness.KEPT_BACK, "IN (subquery) is evaluated by the merge only")
            return Exactness.KEPT_BACK
        for operand in operands:
            self.value(operand)
        if isinstance(node, exp.Is):
            return Exactness.EXACT
        families = {self.family(o) for o in operands} - {"null", "literal"}
        if families & set(_TEMPORAL) and families - set(_TEMPORAL):
            self.weaken(Exactness.KEPT_BACK, f"{node.sql()} compares a date with another kind of value")
            return Exactness.KEPT_BACK
        if "timestamptz" in families and families & {"date", "timestamp"}:
            self.weaken(Exactness.KEPT_BACK, "a TIMESTAMP WITH TIME ZONE compared with a date or timestamp depends on the time zone")
            return Exactness.KEPT_BACK
        if "text" in families and families - {"text"}:
            self.weaken(Exactness.KEPT_BACK, f"{node.sql()} compares text with another kind of value")
            return Exactness.KEPT_BACK
        if "text" in families:
            return self._text_predicate(node)
        if isinstance(node, exp.Like):
            self.weaken(Exactness.KEPT_BACK, "LIKE on a value that is not text")
            return Exactness.KEPT_BACK
        return Exactness.EXACT

    def _text_predicate(self, node: exp.Expression) -> Exactness:
        semantics = self.semantics
        negated = isinstance(node, exp.NEQ) or bool(node.args.get("negate"))
        if isinstance(node, _ORDERINGS) and semantics.text_order_collation is None:
            found, reason = Exactness.KEPT_BACK, f"{semantics.name} orders text by collations that differ from the merge's"
        elif isinstance(node, _ORDERINGS):
            found, reason = Exactness.EXACT, ""  # compared under the kind's byte-order collation (see _collated)
        elif isinstance(node, exp.Like) and not semantics.like_backslash_escapes and "\\" in node.expression.sql():
            found, reason = Exactness.KEPT_BACK, f"{semantics.name} does not read a backslash in a LIKE pattern as an escape"
        elif isinstance(node, exp.Like):
            found, reason = semantics.text_like, f"{semantics.name} matches LIKE without regard to case"
        else:
            found, reason = semantics.text_equality, f"{semantics.name} compares text without regard to case or trailing blanks"
            padded = any(_column_type(c, self.types).fixed_width for c in node.find_all(exp.Column))
            if found is Exactness.EXACT and padded and not isinstance(node, exp.Like):
                found, reason = Exactness.WIDENED, "CHAR(n) values compare without their trailing blanks"
        if negated and found is not Exactness.EXACT:
            found, reason = Exactness.KEPT_BACK, f"{reason}, so the negation would lose rows"
        self.weaken(found, reason)
        return found

    def value(self, node: exp.Expression) -> None:
        """Judge every cast, operator and literal of a value expression."""
        for inner in node.walk():
            if isinstance(inner, exp.Cast):
                self._cast(inner)
            elif isinstance(inner, (exp.Add, exp.Sub, exp.Mul, exp.Neg)):
                family = self.family(inner)
                if family in _NUMBERS and family not in self.semantics.exact_arithmetic:
                    self.weaken(Exactness.KEPT_BACK, f"{self.semantics.name} computes {family} arithmetic differently (overflow)")
                elif family not in _NUMBERS and not (family in _TEMPORAL and self.semantics.typed_dates):
                    self.weaken(Exactness.KEPT_BACK, f"arithmetic on {family} values is evaluated by the merge only")
            elif isinstance(inner, exp.Literal) and inner.is_number and not self.semantics.big_integers:
                if inner.is_int and int(inner.this) not in _INT64:
                    self.weaken(Exactness.KEPT_BACK, f"{self.semantics.name} does not hold the integer {inner.this} exactly")
            elif isinstance(inner, (exp.Predicate, exp.Connector, exp.Not)) and inner is not node:
                self.weaken(Exactness.KEPT_BACK, f"a condition used as a value ({inner.sql()})")

    def _cast(self, cast: exp.Cast) -> None:
        target = family_of(cast.to.sql())
        value = cast.this
        if isinstance(value, exp.Literal) and value.is_string:
            text = value.this
            if target in _TEMPORAL and (self.semantics.typed_dates or self.dates_widened) and constant_time(cast) is not None:
                return
            if target in ("float", "decimal") and _PLAIN_NUMBER.match(text):
                return
            if target == "float" and self.semantics.special_floats and text.strip().lower() in _SPECIAL_FLOATS:
                return
            if target == "text" and not cast.to.expressions:
                return
            self.weaken(Exactness.KEPT_BACK, f"{self.semantics.name} reads {cast.sql()} differently")
            return
        source = self.family(value)
        if target == "text" and cast.to.expressions:
            self.weaken(Exactness.KEPT_BACK, f"a cast to text of a given length ({cast.to.sql()}) is evaluated by the merge only")
        elif self.semantics.cast_exactness(source, target) is not Exactness.EXACT:
            self.weaken(Exactness.KEPT_BACK, f"{self.semantics.name} computes CAST({source} AS {cast.to.sql()}) differently")

    def family(self, node: exp.Expression) -> str:
        """The type family of a value (``literal`` for untyped text, ``null`` for NULL)."""
        if isinstance(node, exp.Paren):
            return self.family(node.this)
        if isinstance(node, exp.Column):
            return family_of(_column_type(node, self.types).sql)
        if isinstance(node, exp.Literal):
            if node.is_string:
                return "literal"
            return "integer" if node.is_int else "float" if "e" in node.this.lower() else "decimal"
        if isinstance(node, exp.Null):
            return "null"
        if isinstance(node, exp.Boolean) or isinstance(node, (exp.Predicate, exp.Connector, exp.Not)):
            return "boolean"
        if isinstance(node, exp.Cast):
            return family_of(node.to.sql())
        if isinstance(node, exp.Neg):
            return self.family(node.this)
        if isinstance(node, (exp.Add, exp.Sub, exp.Mul)):
            left, right = self.family(node.left), self.family(node.right)
            if left in _TEMPORAL or right in _TEMPORAL:
                return left if left in _TEMPORAL else right
            for family in ("float", "decimal", "integer"):
                if family in (left, right):
                    return family
        return "unknown"


_SPECIAL_FLOATS = {"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "nan"}


def _is_null_test(node: exp.Expression) -> bool:
    inner = node.this if isinstance(node, exp.Not) else node
    return isinstance(inner, exp.Is)


def _column_type(column: exp.Column, types: dict[str, ColumnType]) -> ColumnType:
    found = types.get(column.name)
    return found if found is not None else ColumnType("", "TEXT", None)  # type: ignore[arg-type]


def _typed_literals(condition: exp.Expression, types: dict[str, ColumnType]) -> exp.Expression:
    """Write constants compared with a DATE/TIMESTAMP column as typed literals of that column's type.

    Only where the other side is the column itself, or date arithmetic on it: ``CAST(d AS TEXT) =
    '2024-02-01'`` compares text.
    """
    for node in list(condition.find_all(*_COMPARISONS, exp.Between)):
        operands = [node.args.get(k) for k in ("this", "expression", "low", "high")]
        columns = [c for o in operands if o is not None and _temporal_value(o, types) for c in o.find_all(exp.Column)]
        if not columns:
            continue
        is_date = _column_type(columns[0], types).sql == "DATE"
        for operand in operands:
            value = constant_time(operand) if operand is not None and not operand.find(exp.Column) else None
            if value is not None:
                instant = value.as_date_operand() if is_date else value.value
                midnight = instant.time() == dt.time()
                operand.replace(time_literal(TimeValue(instant, is_date=is_date and (value.is_date or midnight))))
    return condition


def _temporal_value(node: exp.Expression, types: dict[str, ColumnType]) -> bool:
    """A date/timestamp column, possibly in parentheses or with something added or subtracted."""
    node = node.unnest()
    if isinstance(node, exp.Column):
        return _column_type(node, types).is_temporal
    if isinstance(node, (exp.Add, exp.Sub)):
        return _temporal_value(node.left, types) or _temporal_value(node.right, types)
    return False


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
    text = exp.Literal.string(day_text(value, lower=lower, inclusive=inclusive))
    return exp.GTE(this=column.copy(), expression=text) if lower else exp.LT(this=column.copy(), expression=text)


def day_text(value: dt.datetime, *, lower: bool, inclusive: bool = False) -> str:
    """The ISO day :func:`day_bound` compares with: ``column >= day_text`` for a lower bound, ``column < day_text`` for an upper one.

    >>> day_text(dt.datetime(2024, 2, 1, 9), lower=True), day_text(dt.datetime(2024, 2, 1, 9), lower=False)
    ('2024-02-01', '2024-02-02')
    """
    day = value.date()
    if lower or (value.time() == dt.time() and not inclusive):  # an exclusive midnight is compared exactly
        return day.isoformat()
    if day == dt.date.max:
        return "9999-12-32"  # after every text of that day, where there is no next day to name
    return (day + dt.timedelta(days=1)).isoformat()
