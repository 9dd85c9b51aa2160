"""What the merge's types can hold, checked on the query before anything runs.

The merge computes DECIMAL values with Polars, whose decimals have at most
:data:`MAX_DECIMAL_PRECISION` digits; a wider type (``CAST(x AS DECIMAL(39, 0))``,
``x::numeric(1000, 0)``) is refused by name with its position rather than left to fail
inside Polars.

Example:
    >>> import sqlglot
    >>> check_decimal_types(sqlglot.parse_one("select cast(1 as decimal(39, 0))"))
    Traceback (most recent call last):
    ...
    piot.errors.NotSupportedError: DECIMAL(39, 0): piot computes decimals of at most 38 digits; use DECIMAL(38, s) or DOUBLE PRECISION (line 1, column 26)
"""

from __future__ import annotations

from sqlglot import exp

from piot.errors import NotSupportedError, ProgrammingError

#: the most digits of a DECIMAL the merge (Polars) holds.
MAX_DECIMAL_PRECISION = 38
_DECIMALS = {exp.DataType.Type.DECIMAL, exp.DataType.Type.BIGDECIMAL, exp.DataType.Type.DECIMAL128, exp.DataType.Type.DECIMAL256}


def check_decimal_types(query: exp.Expression) -> exp.Expression:
    """Raise for a DECIMAL/NUMERIC type of ``query`` whose precision or scale the merge cannot hold; return ``query``.

    >>> import sqlglot
    >>> check_decimal_types(sqlglot.parse_one("select cast(1 as numeric(5, 2))")).sql()
    'SELECT CAST(1 AS DECIMAL(5, 2))'
    """
    for data_type in query.find_all(exp.DataType):
        if data_type.this not in _DECIMALS or not data_type.expressions:
            continue
        params = [p.this if isinstance(p, exp.DataTypeParam) else p for p in data_type.expressions]
        if not all(isinstance(p, exp.Literal) and p.is_int for p in params):
            continue
        precision = int(params[0].this)
        scale = int(params[1].this) if len(params) > 1 else 0
        first = params[0]
        line, col = first.meta.get("line"), first.meta.get("col")
        if col is not None and "start" in first.meta:
            col = max(1, col - (first.meta["end"] - first.meta["start"]))
        shown = f"DECIMAL({precision}" + (f", {scale})" if len(params) > 1 else ")")
        if precision < 1 or scale < 0 or scale > precision:
            raise ProgrammingError(f"{shown}: the precision must be at least 1 and the scale between 0 and the precision", line=line, col=col)
        if precision > MAX_DECIMAL_PRECISION:
            raise NotSupportedError(
                f"{shown}: piot computes decimals of at most {MAX_DECIMAL_PRECISION} digits; use DECIMAL({MAX_DECIMAL_PRECISION}, s) or DOUBLE PRECISION",
                line=line,
                col=col,
            )
    return query
