"""The merge: run the user's query with Polars over the rows every scan read.

Each scan's fragments are concatenated in period order and registered under the
scan's name; Polars' SQL engine then runs the planned merge SQL (joins, grouping,
HAVING, DISTINCT, ORDER BY, LIMIT/OFFSET, expressions) over them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import polars as pl

from piot.errors import DataError, NotSupportedError
from piot.fragments import Scan


def concat_fragments(scan: Scan, frames: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """One frame of a scan's rows, in the scan's declared schema.

    >>> from piot.fragments import SplitDecision
    >>> scan = Scan("t", "t", "db.t", (("x", pl.Int64()),), (), SplitDecision(None, None, ""))
    >>> concat_fragments(scan, [pl.DataFrame({"x": [1]}), pl.DataFrame({"x": [2]})])["x"].to_list()
    [1, 2]
    """
    if not frames:
        return pl.DataFrame(schema=dict(scan.schema))
    try:
        return pl.concat(list(frames), how="vertical")
    except pl.exceptions.PolarsError as e:
        raise DataError(f"fragments of {scan.table_name} disagree on their columns or types: {e}") from e


def run_merge(merge_sql: str, frames: Mapping[str, pl.DataFrame], columns: Sequence[str]) -> pl.DataFrame:
    """Run ``merge_sql`` over ``frames`` (registered by scan name) and name the result ``columns``."""
    context = pl.SQLContext(frames={name: frame.lazy() for name, frame in frames.items()})
    try:
        result = context.execute(merge_sql, eager=True)
    except pl.exceptions.SQLInterfaceError as e:
        raise NotSupportedError(f"the merge cannot run this query: {_first_line(e)}") from e
    except pl.exceptions.SQLSyntaxError as e:
        raise NotSupportedError(f"the merge cannot run this query: {_first_line(e)}") from e
    except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError, pl.exceptions.SchemaError) as e:
        raise DataError(f"the merge failed: {_first_line(e)}") from e
    except pl.exceptions.ColumnNotFoundError as e:
        raise NotSupportedError(f"the merge cannot resolve a column: {_first_line(e)}") from e
    if columns and len(columns) == result.width and list(columns) != result.columns:
        result = result.rename(dict(zip(result.columns, columns)))
    return result


def _first_line(error: Exception) -> str:
    """The error's first line, without the parser's dump of the statement that Polars appends to some.

    >>> _first_line(ValueError("EXISTS subquery is not supported in this position: Query { with: None }"))
    'EXISTS subquery is not supported in this position'
    """
    text = str(error).strip()
    line = text.splitlines()[0] if text else type(error).__name__
    return re.split(r":\s+(?:Query|Select|Expr|BinaryOp|Statement)\s*\{", line, maxsplit=1)[0]
