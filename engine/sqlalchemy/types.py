"""Types: what a reflected piot column is in SQLAlchemy, and how CAST and literals are written.

piot reports each source column as a :class:`~piot.connectors.types.ColumnType` whose
``sql`` name (``BIGINT``, ``DECIMAL(10, 2)``, ``TIMESTAMPTZ``...) is the type every
answer has, whatever the source. :func:`sqlalchemy_type` turns that into the
SQLAlchemy type a reflected :class:`~sqlalchemy.schema.Column` gets.

Example:
    >>> from piot.connectors.types import declared_type
    >>> sqlalchemy_type(declared_type("numeric(12,4)"))
    Numeric(precision=12, scale=4)
    >>> sqlalchemy_type(declared_type("timestamp with time zone"))
    DateTime(timezone=True)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import types as sqltypes
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.sql.compiler import GenericTypeCompiler

from piot.connectors.types import ColumnType

_DECIMAL = re.compile(r"DECIMAL\((\d+), (\d+)\)")
_CHAR_LENGTH = re.compile(r"char[a-z ]*\(\s*(\d+)\s*\)")

_SIMPLE: dict[str, Callable[[], sqltypes.TypeEngine[Any]]] = {
    "BIGINT": sqltypes.BigInteger,
    "DOUBLE": sqltypes.Double,
    "DATE": sqltypes.Date,
    "TIMESTAMP": sqltypes.DateTime,
    "TIMESTAMPTZ": lambda: sqltypes.DateTime(timezone=True),
    "BOOLEAN": sqltypes.Boolean,
    "VARBINARY": sqltypes.LargeBinary,
    "TIME": sqltypes.Time,
}


def sqlalchemy_type(column_type: ColumnType) -> sqltypes.TypeEngine[Any]:
    """The SQLAlchemy type of a column piot reports as ``column_type``.

    Text columns declared with a length (``varchar(8)``, ``character(3)``) become
    ``String(length)``; other text becomes ``Text``. Types piot answers as text
    (enums, JSON, UUIDs...) are ``Text`` too.

    >>> from piot.connectors.types import declared_type
    >>> sqlalchemy_type(declared_type("varchar(8)")), sqlalchemy_type(declared_type("bigint"))
    (String(length=8), BigInteger())
    """
    simple = _SIMPLE.get(column_type.sql)
    if simple is not None:
        return simple()
    decimal = _DECIMAL.fullmatch(column_type.sql)
    if decimal:
        return sqltypes.Numeric(int(decimal[1]), int(decimal[2]))
    declared = column_type.declared.strip().lower()
    if "char" in declared:
        length = _CHAR_LENGTH.search(declared)
        return sqltypes.String(int(length[1]) if length else None)
    return sqltypes.Text()


class PiotTypeCompiler(GenericTypeCompiler):
    """Type names for ``CAST(... AS type)``, as PostgreSQL spells them."""

    def visit_DOUBLE(self, type_: sqltypes.Double[Any], **kw: Any) -> str:
        return "DOUBLE PRECISION"

    def visit_DATETIME(self, type_: sqltypes.DateTime, **kw: Any) -> str:
        return "TIMESTAMP WITH TIME ZONE" if type_.timezone else "TIMESTAMP"

    def visit_TIMESTAMP(self, type_: sqltypes.TIMESTAMP, **kw: Any) -> str:
        return self.visit_DATETIME(type_, **kw)

    def visit_BLOB(self, type_: sqltypes.LargeBinary, **kw: Any) -> str:
        return "BYTEA"

    def visit_BINARY(self, type_: sqltypes.BINARY, **kw: Any) -> str:
        return "BYTEA"

    def visit_VARBINARY(self, type_: sqltypes.VARBINARY, **kw: Any) -> str:
        return "BYTEA"

    def visit_NVARCHAR(self, type_: sqltypes.NVARCHAR, **kw: Any) -> str:
        return self.visit_VARCHAR(type_, **kw)

    def visit_NCHAR(self, type_: sqltypes.NCHAR, **kw: Any) -> str:
        return self.visit_CHAR(type_, **kw)


def _cast_literal(text: str, type_name: str) -> str:
    return f"CAST('{text}' AS {type_name})"


class PiotDate(sqltypes.Date):
    """A date whose literal is ``CAST('2024-01-31' AS DATE)``, never bare text."""

    def literal_processor(self, dialect: Dialect) -> Callable[[dt.date], str]:
        return lambda value: _cast_literal(value.isoformat(), "DATE")


class PiotDateTime(sqltypes.DateTime):
    """A timestamp whose literal is ``CAST('...' AS TIMESTAMP)`` (``TIMESTAMPTZ`` when it has a zone)."""

    def literal_processor(self, dialect: Dialect) -> Callable[[dt.datetime], str]:
        def render(value: dt.datetime) -> str:
            return _cast_literal(value.isoformat(" "), "TIMESTAMPTZ" if value.tzinfo else "TIMESTAMP")

        return render


class PiotTime(sqltypes.Time):
    """A time of day whose literal is ``CAST('10:30:00' AS TIME)``."""

    def literal_processor(self, dialect: Dialect) -> Callable[[dt.time], str]:
        return lambda value: _cast_literal(value.isoformat(), "TIME")


COLSPECS: dict[type[sqltypes.TypeEngine[Any]], type[sqltypes.TypeEngine[Any]]] = {
    sqltypes.Date: PiotDate,
    sqltypes.DateTime: PiotDateTime,
    sqltypes.Time: PiotTime,
}
