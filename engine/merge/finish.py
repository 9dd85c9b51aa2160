"""The merge: run the user's query with Polars over the rows every scan read.

Each scan's fragments are concatenated in period order and registered under the
scan's name; Polars' SQL engine then runs the planned merge SQL (joins, grouping,
HAVING, DISTINCT, ORDER BY, LIMIT/OFFSET, expressions) over them.

The merge reads nothing but those frames: before Polars sees the SQL, it is checked again
(:func:`piot.sql.policy.check_query`) with the registered names as the only tables, so no
table function of Polars' (``read_csv``, ``read_parquet``, ...) and no other table can run
on the driver, whatever the planner let through.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

import polars as pl
import sqlglot
from sqlglot.errors import SqlglotError

from piot.errors import DataError, InternalError, NotSupportedError
from piot.merge.dialect import PolarsSQL
from piot.merge.semantics import FAILURE_MARK
from piot.sql.policy import check_query


def concat_fragments(
    table_name: str, schema: Sequence[tuple[str, pl.DataType]], frames: Sequence[pl.DataFrame | Path]
) -> pl.DataFrame | pl.LazyFrame:
    """One frame of a scan's rows (``table_name`` as the user wrote it), in the scan's declared ``schema``.

    Frames written to disk (Arrow IPC files, see :mod:`piot.run.spill`) are read lazily: the
    result is then a LazyFrame, for the merge's streaming engine.

    >>> concat_fragments("db.t", [("x", pl.Int64())], [pl.DataFrame({"x": [1]}), pl.DataFrame({"x": [2]})])["x"].to_list()
    [1, 2]
    """
    if not frames:
        return pl.DataFrame(schema=dict(schema))
    if any(isinstance(f, Path) for f in frames):
        return pl.concat([pl.scan_ipc(f) if isinstance(f, Path) else f.lazy() for f in frames], how="vertical")
    try:
        return pl.concat(list(frames), how="vertical")  # type: ignore[arg-type]
    except pl.exceptions.PolarsError as e:
        raise DataError(f"fragments of {table_name} disagree on their columns or types: {e}") from e


def fold_partials(frames: Sequence[pl.DataFrame], combine_sql: str, schema: Sequence[tuple[str, pl.DataType]]) -> pl.DataFrame:
    """Fold fragments' partial aggregates into one frame of the same form (``combine_sql`` reads them as ``fragment``).

    >>> parts = [pl.DataFrame({"k": ["a", "b"], "n": [1, 2]}), pl.DataFrame({"k": ["a"], "n": [5]})]
    >>> fold_partials(parts, 'SELECT "k", SUM("n") AS "n" FROM "fragment" GROUP BY "k" ORDER BY "k"', [("k", pl.String()), ("n", pl.Int64())]).rows()
    [('a', 6), ('b', 2)]
    """
    whole = pl.concat(list(frames), how="vertical")
    context = pl.SQLContext(frames={"fragment": whole.lazy()}, register_globals=False)
    try:
        return context.execute(combine_sql, eager=True).cast(dict(schema))  # type: ignore[arg-type]
    except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError, pl.exceptions.SchemaError) as e:
        raise merge_failure(e) from e


def run_merge(merge_sql: str, frames: Mapping[str, pl.DataFrame | pl.LazyFrame], columns: Sequence[str]) -> pl.DataFrame:
    """Run ``merge_sql`` over ``frames`` (registered by scan name) and name the result ``columns``.

    Where some rows wait on disk (LazyFrames), Polars' streaming engine runs the query.

    >>> run_merge("SELECT * FROM read_csv('/etc/passwd')", {"__piot_t0": pl.DataFrame({"x": [1]})}, ["x"])
    Traceback (most recent call last):
    ...
    piot.errors.NotSupportedError: table function read_csv() is not allowed: FROM may read only catalog tables, the query's CTEs, subqueries and VALUES (line 1, column 15)
    """
    try:
        check_merge_sql(merge_sql, frames.keys())
    except RecursionError:
        raise NotSupportedError("query nested too deeply for the merge: write it with fewer nested expressions") from None
    context = pl.SQLContext(frames={name: frame.lazy() for name, frame in frames.items()}, register_globals=False)
    try:
        streamed = any(isinstance(frame, pl.LazyFrame) for frame in frames.values())
        result = context.execute(merge_sql).collect(engine="streaming") if streamed else context.execute(merge_sql, eager=True)
    except pl.exceptions.PanicException as e:  # a Rust panic: not an Exception subclass
        raise InternalError(f"the merge failed inside Polars (a bug in piot's checks or in Polars): {_first_line(e)}") from None
    except (pl.exceptions.SQLInterfaceError, pl.exceptions.SQLSyntaxError) as e:
        if "recursion limit exceeded" in str(e):
            raise NotSupportedError(
                "query nested too deeply for the merge: Polars' SQL reads expressions nested at most about 50 levels deep"
            ) from None
        raise NotSupportedError(f"the merge cannot run this query: {_first_line(e)}") from e
    except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError, pl.exceptions.SchemaError) as e:
        raise merge_failure(e) from e
    except pl.exceptions.ColumnNotFoundError as e:
        raise NotSupportedError(f"the merge cannot resolve a column: {_first_line(e)}") from e
    if columns and len(columns) == result.width and list(columns) != result.columns:
        result = result.rename(dict(zip(result.columns, columns)))
    return result


_MARKED = re.compile(re.escape(FAILURE_MARK) + r'([^"\]]*)')
_NARROWING = re.compile(r"conversion from `decimal\[38,0\]` to `(i\d+)` failed.*?values: \[([^\]]*)\]")


def merge_failure(error: Exception) -> DataError:
    """The DataError for a failure of Polars in the merge, naming what failed where the merge failed on purpose.

    >>> merge_failure(ValueError('conversion from `str` to `f64` failed in column "x" for 1 out of 1 values: ["piot-error: value out of range"]'))
    DataError('value out of range')
    >>> merge_failure(ValueError("conversion from `decimal[38,0]` to `i64` failed in column 'x' for 1 out of 1 values: [9223372036854775808]"))
    DataError('integer out of range: 9223372036854775808 does not fit in 64 bits')
    """
    line = _first_line(error)
    marked = _MARKED.search(line)
    if marked is not None:
        return DataError(marked[1])
    narrowing = _NARROWING.search(line)
    if narrowing is not None:
        return DataError(f"integer out of range: {narrowing[2]} does not fit in {narrowing[1][1:]} bits")
    return DataError(f"the merge failed: {line}")


def check_merge_sql(merge_sql: str, tables: Collection[str]) -> None:
    """Refuse merge SQL that reads anything but ``tables`` (and its own CTEs) or calls a function the merge must not run.

    >>> check_merge_sql('SELECT COUNT(*) FROM "__piot_t0" AS t', ["__piot_t0"])
    >>> check_merge_sql("SELECT * FROM passwords", ["__piot_t0"])
    Traceback (most recent call last):
    ...
    piot.errors.NotSupportedError: the merge may read only the tables of its plan, not 'passwords'
    """
    try:
        statements = sqlglot.parse(merge_sql, read=PolarsSQL)
    except SqlglotError as e:
        raise NotSupportedError(f"the merge cannot run this query: {_first_line(e)}") from e
    if len(statements) != 1 or statements[0] is None:
        raise NotSupportedError("the merge runs exactly one query")
    check_query(statements[0], tables=set(tables))


def _first_line(error: Exception) -> str:
    """The error's first line, without the parser's dump of the statement that Polars appends to some.

    >>> _first_line(ValueError("EXISTS subquery is not supported in this position: Query { with: None }"))
    'EXISTS subquery is not supported in this position'
    """
    text = str(error).strip()
    line = text.splitlines()[0] if text else type(error).__name__
    return re.split(r":\s+(?:Query|Select|Expr|BinaryOp|Statement)\s*\{", line, maxsplit=1)[0]
