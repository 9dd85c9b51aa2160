"""What each kind of source computes exactly as the merge does: the knowledge pushdown decides by.

A conjunct of the query's WHERE is sent to a source in one of three ways, recorded per conjunct
in the plan (:class:`PushDecision`, shown by EXPLAIN):

- **exact**: the source keeps exactly the rows the merge would keep, for that source kind and
  those types;
- **widened**: the source keeps a superset of those rows (SQLite compares dates as text, MariaDB
  compares text without case and ignores trailing blanks); the exact condition runs on the rows
  read, in the task, before they leave it;
- **kept back**: nothing of it is sent; the merge alone applies it.

Which constructs are exact where is data (:data:`KIND_SEMANTICS`, keyed by the source kind's
name), proven by the semantics corpus (tests/engine/test_pushdown_semantics.py), which runs each
construct on each server and compares its rows with the merge's.

Example:
    >>> semantics_of("sqlite").cast_exactness("float", "integer")
    <Exactness.KEPT_BACK: 'kept back'>
    >>> semantics_of("postgres").cast_exactness("float", "integer")
    <Exactness.EXACT: 'exact'>
    >>> semantics_of("mysql").text_equality
    <Exactness.WIDENED: 'widened'>
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Exactness(enum.Enum):
    """How a pushed condition relates to the merge's: ordered from best to worst."""

    EXACT = "exact"
    WIDENED = "widened"
    KEPT_BACK = "kept back"

    def __or__(self, other: Exactness) -> Exactness:  # the weaker of two
        order = list(Exactness)
        return order[max(order.index(self), order.index(other))]


@dataclass(frozen=True)
class PushDecision:
    """What became of one conjunct of a scan's filters.

    Attributes:
        conjunct: the condition as the query states it (PostgreSQL dialect, frame column names).
        pushed: the condition sent to the source, in the source's dialect; None when kept back.
        exactness: exact, widened (re-applied exactly after the read) or kept back.
        reason: why it is not exact (empty when it is).
    """

    conjunct: str
    pushed: str | None
    exactness: Exactness
    reason: str = ""

    def describe(self) -> str:
        """One line for EXPLAIN.

        >>> PushDecision("t.x > 1", "x > 1", Exactness.EXACT).describe()
        'exact: t.x > 1'
        """
        return f"{self.exactness.value}: {self.conjunct}" + (f" ({self.reason})" if self.reason else "")


#: Type families conditions are judged by (a column's declared type, or a literal's).
FAMILIES = ("integer", "decimal", "float", "float4", "text", "boolean", "date", "timestamp", "timestamptz", "unknown")

_NUMBERS = ("integer", "decimal", "float")


def _pairs(*pairs: str) -> frozenset[tuple[str, str]]:
    """``"integer->float"`` strings as (from, to) pairs."""
    return frozenset(tuple(p.split("->")) for p in pairs)  # type: ignore[misc]


@dataclass(frozen=True)
class KindSemantics:
    """What one source kind computes exactly as the merge does.

    Attributes:
        name: the source kind (``SourceKind.name``).
        case_sensitive_names: column names differ by case (PostgreSQL: ``"A"`` and ``a`` are two
            columns); elsewhere a column is found by its name in any case.
        exact_casts: (from family, to family) casts of a value that give the merge's value.
        exact_arithmetic: families whose ``+ - *`` and unary minus give the merge's value (or fail
            where the merge fails: integer overflow raises in both).
        text_equality: ``=``, ``IN`` on text (exact only with case and trailing blanks significant).
        text_like: ``LIKE`` on text.
        special_floats: ``'inf'`` / ``'NaN'`` cast to a float give infinity / NaN (MariaDB and
            SQLite read them as 0).
        like_backslash_escapes: a backslash in a LIKE pattern escapes the next character, as in
            PostgreSQL (SQLite has no escape character unless told).
        big_integers: integer literals beyond 64 bits compare exactly.
        typed_dates: dates and timestamps are typed values; else ISO text (SQLite), where a date
            comparison is widened to whole days and any other use is kept back.
        text_order_collation: the collation that orders text by its bytes, as the merge does
            (``"C"`` on PostgreSQL, ``BINARY`` on SQLite); text comparisons by order are pushed
            with it, and kept back where there is none (MariaDB's collations ignore case).
    """

    name: str
    case_sensitive_names: bool = False
    exact_casts: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    exact_arithmetic: frozenset[str] = field(default_factory=frozenset)
    text_equality: Exactness = Exactness.KEPT_BACK
    text_like: Exactness = Exactness.KEPT_BACK
    special_floats: bool = False
    like_backslash_escapes: bool = True
    big_integers: bool = False
    typed_dates: bool = True
    text_order_collation: str | None = None

    def cast_exactness(self, source: str, target: str) -> Exactness:
        """Whether ``CAST(value of family source AS target family)`` is exact here (same family: exact)."""
        if source == target and source not in ("decimal", "integer"):
            return Exactness.EXACT
        return Exactness.EXACT if (source, target) in self.exact_casts else Exactness.KEPT_BACK


#: Every kind piot knows. Text comparisons by order (``<``, ``BETWEEN``) are pushed only with a collation
#: that orders by bytes, as the merge does. A kind missing here gets :data:`UNKNOWN_KIND`.
KIND_SEMANTICS: dict[str, KindSemantics] = {
    k.name: k
    for k in (
        KindSemantics(
            "postgres",
            case_sensitive_names=True,
            # float -> decimal is not: PostgreSQL rounds the float's 15-digit text, the merge its binary value
            exact_casts=_pairs(
                "integer->float", "integer->decimal", "integer->text", "decimal->float", "decimal->integer",
                "decimal->decimal", "float->integer", "date->timestamp", "date->text",
            ),  # fmt: skip
            exact_arithmetic=frozenset({"integer", "decimal", "float"}),
            text_equality=Exactness.EXACT,
            text_like=Exactness.EXACT,
            special_floats=True,
            big_integers=True,
            text_order_collation='"C"',
        ),
        KindSemantics(
            "mysql",
            # MariaDB casts a float to an integer rounding halves away from zero (the merge: to even)
            exact_casts=_pairs("integer->float", "integer->decimal", "decimal->decimal", "decimal->integer", "date->timestamp"),
            exact_arithmetic=frozenset({"integer", "decimal", "float"}),
            text_equality=Exactness.WIDENED,  # case-insensitive collations, trailing blanks ignored
            text_like=Exactness.WIDENED,
        ),
        KindSemantics(
            "sqlite",
            # SQLite truncates casts to integer; integer overflow turns into a float instead of failing
            exact_casts=_pairs("integer->float"),
            exact_arithmetic=frozenset({"float"}),
            text_equality=Exactness.EXACT,
            text_like=Exactness.WIDENED,  # LIKE ignores ASCII case
            like_backslash_escapes=False,
            typed_dates=False,
            text_order_collation="BINARY",
        ),
    )
}

#: What is assumed of a kind no corpus has checked: comparisons of plain values only.
UNKNOWN_KIND = KindSemantics("unknown")


def semantics_of(kind_name: str) -> KindSemantics:
    """The semantics of a source kind by name (:data:`UNKNOWN_KIND` for kinds no corpus covers).

    >>> semantics_of("oracle").name
    'unknown'
    """
    return KIND_SEMANTICS.get(kind_name, UNKNOWN_KIND)


def family_of(sql_type: str) -> str:
    """The family of a type in sqlglot's vocabulary (a ColumnType's ``sql``, a cast's target).

    >>> [family_of(t) for t in ("BIGINT", "INT", "DECIMAL(15, 2)", "DOUBLE", "REAL", "TEXT", "DATE", "TIMESTAMPTZ", "BLOB")]
    ['integer', 'integer', 'decimal', 'float', 'float4', 'text', 'date', 'timestamptz', 'unknown']
    """
    t = sql_type.upper().split("(")[0].strip()
    if t in ("BIGINT", "INT", "INTEGER", "SMALLINT", "TINYINT", "MEDIUMINT", "INT2", "INT4", "INT8", "SIGNED", "UBIGINT", "UINT"):
        return "integer"
    if t in ("DECIMAL", "NUMERIC", "BIGDECIMAL"):
        return "decimal"
    if t in ("DOUBLE", "DOUBLE PRECISION", "FLOAT8"):
        return "float"
    if t in ("FLOAT", "REAL", "FLOAT4"):  # sqlglot's FLOAT is single precision
        return "float4"
    if t in ("TEXT", "VARCHAR", "CHAR", "NCHAR", "NVARCHAR", "STRING", "BPCHAR", "CHARACTER VARYING", "CHARACTER"):
        return "text"
    if t in ("BOOLEAN", "BOOL"):
        return "boolean"
    if t == "DATE":
        return "date"
    if t in ("TIMESTAMP", "DATETIME", "TIMESTAMPNTZ"):
        return "timestamp"
    if t in ("TIMESTAMPTZ", "TIMESTAMPLTZ"):
        return "timestamptz"
    return "unknown"
