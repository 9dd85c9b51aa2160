"""Map a column's declared SQL type to the type piot answers with.

Answers follow the declared column types, the same on every source: an ``INTEGER``
column is ``Int64`` whether it lives in SQLite, PostgreSQL or MariaDB, a ``DATE``
column is ``Date`` even where the source keeps ISO text.

Example:
    >>> declared_type("timestamp without time zone").sql
    'TIMESTAMP'
    >>> declared_type("decimal(10,2)").dtype
    Decimal(precision=10, scale=2)
    >>> declared_type("NUMERIC", text_dates=True).dtype
    Float64
    >>> declared_type("character(25)").fixed_width, declared_type("character varying").fixed_width
    (True, False)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class ColumnType:
    """A declared type as piot sees it.

    Attributes:
        declared: the type text the source reported.
        sql: the type in sqlglot's vocabulary, used to annotate the query.
        dtype: the Polars type of this column in every answer.
        fixed_width: a CHAR(n) column, which some sources pad with blanks to its width.
        read_as_text: a type piot has no Polars type for (``interval``, arrays, ``inet``,
            ``money``, geometries...): the source casts it to text in the fragment's SELECT.
    """

    declared: str
    sql: str
    dtype: pl.DataType
    fixed_width: bool = False
    read_as_text: bool = False

    @property
    def is_temporal(self) -> bool:
        """True for DATE and TIMESTAMP columns, the ones a query can be split on."""
        return self.sql in ("DATE", "TIMESTAMP", "TIMESTAMPTZ")


#: words of declared types read as text as they are (SQLite's rule for text affinity, and JSON and UUID);
#: any other type without a mapping is cast to text by its source
_TEXTUAL_WORDS = ("char", "text", "clob", "string", "json", "uuid")
_TEXTUAL_NAMES = ("", "name")
#: text types whose comparisons mean something else than the merge's (PostgreSQL's citext ignores case):
#: read as text, and guarded like types without a Polars type
_OTHER_TEXT = ("citext",)
_FIXED_CHAR = re.compile(r"(?:n?char|character|bpchar|nchar)\s*(?:\(\s*\d+\s*\))?$")
_DECIMAL = re.compile(r"(?:numeric|decimal|number)\s*\(\s*(\d+)\s*(?:,\s*(\d+))?\s*\)")


def declared_type(text: str, *, text_dates: bool = False, timestamp_instants: bool = False) -> ColumnType:
    """Translate a declared type (``bigint``, ``datetime(6)``, ``NUMERIC(10,2)``) to a :class:`ColumnType`.

    A TIMESTAMP WITH TIME ZONE holds instants: it answers ``Datetime(us, UTC)``.

    Args:
        text: the type as the source reports it; empty for untyped SQLite columns.
        text_dates: the source keeps numbers loosely (SQLite): plain NUMERIC becomes Float64.
        timestamp_instants: a plain ``TIMESTAMP`` holds instants too (MariaDB and MySQL keep it
            in UTC and show it in the session's zone; their DATETIME is wall time).

    >>> declared_type("timestamp(6)", timestamp_instants=True).sql, declared_type("datetime(6)", timestamp_instants=True).sql
    ('TIMESTAMPTZ', 'TIMESTAMP')
    >>> declared_type("interval").read_as_text, declared_type("character varying(20)").read_as_text, declared_type("TEXT(25)").read_as_text
    (True, False, False)
    >>> declared_type("citext").read_as_text  # its comparisons ignore case: guarded
    True
    """
    t = text.strip().lower()
    if t.startswith(("enum", "set(")):
        return ColumnType(text, "TEXT", pl.String())
    if "timestamp" in t and ("with time zone" in t or t.startswith("timestamptz")) and "without" not in t:
        return ColumnType(text, "TIMESTAMPTZ", pl.Datetime("us", "UTC"))
    if timestamp_instants and t.startswith("timestamp"):
        return ColumnType(text, "TIMESTAMPTZ", pl.Datetime("us", "UTC"))
    if "timestamp" in t or "datetime" in t:
        return ColumnType(text, "TIMESTAMP", pl.Datetime("us"))
    if t == "date":
        return ColumnType(text, "DATE", pl.Date())
    if t.startswith("bool") or t == "tinyint(1)":
        return ColumnType(text, "BOOLEAN", pl.Boolean())
    if "int" in t and "interval" not in t and "point" not in t:
        return ColumnType(text, "BIGINT", pl.Int64())
    if any(word in t for word in ("double", "float", "real")):
        return ColumnType(text, "DOUBLE", pl.Float64())
    match = _DECIMAL.match(t)
    if match and not text_dates:
        precision, scale = int(match[1]), int(match[2] or 0)
        return ColumnType(text, f"DECIMAL({precision}, {scale})", pl.Decimal(precision, scale))
    if t.startswith(("numeric", "decimal", "number")):
        if text_dates:
            return ColumnType(text, "DOUBLE", pl.Float64())
        return ColumnType(text, "DECIMAL(38, 10)", pl.Decimal(38, 10))
    if _FIXED_CHAR.match(t):
        return ColumnType(text, "TEXT", pl.String(), fixed_width=True)
    if any(word in t for word in ("blob", "bytea", "binary")):
        return ColumnType(text, "VARBINARY", pl.Binary())
    if t.startswith("time"):
        return ColumnType(text, "TIME", pl.Time())
    textual = (t in _TEXTUAL_NAMES or any(word in t for word in _TEXTUAL_WORDS)) and not t.startswith(_OTHER_TEXT)
    return ColumnType(text, "TEXT", pl.String(), read_as_text=not (textual or text_dates))


def dtype_column_type(dtype: pl.DataType) -> ColumnType | None:
    """The column type of a Polars type (what the planner types a frame's column as), or None for types it has none for.

    >>> dtype_column_type(pl.Datetime("us", "UTC")).sql, dtype_column_type(pl.Decimal(10, 2)).sql, dtype_column_type(pl.List(pl.Int64))
    ('TIMESTAMPTZ', 'DECIMAL(10, 2)', None)
    """
    if dtype.is_integer():
        return declared_type("bigint")
    if dtype.is_float():
        return declared_type("double precision")
    if isinstance(dtype, pl.Decimal):
        return declared_type(f"numeric({dtype.precision or 38},{dtype.scale or 0})")
    if isinstance(dtype, pl.Datetime):
        return declared_type("timestamp with time zone" if dtype.time_zone else "timestamp")
    names = {pl.String: "text", pl.Boolean: "boolean", pl.Date: "date"}
    name = next((n for t, n in names.items() if isinstance(dtype, t)), None)
    return declared_type(name) if name is not None else None
