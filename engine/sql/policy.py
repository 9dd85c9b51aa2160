"""What a query may contain: one read-only query over tables, with functions the merge computes.

Every door (the DB-API cursor and what is built on it, ``scan_db``, the reads of
``execute_on_ray``) and the merge itself check a query with :func:`check_query` before
anything runs. The check is a whitelist, so a construct nobody thought of is refused:

- every node of the tree must be of a kind listed here (a SELECT and its clauses,
  expressions, CTEs, subqueries, VALUES); a write, a lock, ``SELECT ... INTO``, a
  statement of any other kind, anywhere in the tree (a data-modifying CTE, say), is not;
- a function is accepted only if the merge computes it (Polars' SQL functions and piot's
  rewrites of them); anything else, a source's own function (``pg_sleep``, ``nextval``,
  ``LOAD_FILE``, ...) or a table function (``read_csv``, ``read_parquet``, ...), is refused
  by name, with its line and column;
- FROM may name tables, the query's own CTEs, subqueries and VALUES; at merge time the
  tables must be exactly the ones the plan registered.

Example:
    >>> import sqlglot
    >>> check_query(sqlglot.parse_one("select upper(name) from db.t where d > current_date")).sql()
    'SELECT UPPER(name) FROM db.t WHERE d > CURRENT_DATE'
    >>> check_query(sqlglot.parse_one("select pg_sleep(10)"))
    Traceback (most recent call last):
    ...
    piot.errors.NotSupportedError: function pg_sleep() is not supported: piot runs only the functions its merge computes (line 1, column 8)
"""

from __future__ import annotations

from collections.abc import Collection

from sqlglot import exp

from piot.errors import NotSupportedError

__all__ = ["CLOCK_FUNCTION_NAMES", "MERGE_FUNCTIONS", "MERGE_FUNCTION_NAMES", "ROOTS", "check_query", "function_name"]

#: the statements piot runs: a SELECT or a set operation of SELECTs.
ROOTS = (exp.Select, exp.Union, exp.Intersect, exp.Except)

#: the node kinds of a read-only query, other than function calls.
_CLAUSES: frozenset[type[exp.Expression]] = frozenset({
    exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery, exp.With, exp.CTE,
    exp.From, exp.Join, exp.Where, exp.Group, exp.Having, exp.Qualify, exp.Order, exp.Ordered,
    exp.Limit, exp.LimitOptions, exp.Offset, exp.Fetch, exp.Distinct, exp.Window, exp.WindowSpec,
    exp.Filter, exp.WithinGroup, exp.Cube, exp.Rollup, exp.GroupingSets,
    exp.Table, exp.TableAlias, exp.Values, exp.Tuple, exp.TableSample, exp.Lateral,
    exp.Identifier, exp.Column, exp.Star, exp.Alias, exp.Dot, exp.Var,
    exp.Literal, exp.Boolean, exp.Null, exp.HexString, exp.ByteString, exp.BitString, exp.RawString, exp.National,
    exp.UnicodeString, exp.Placeholder,
    exp.DataType, exp.DataTypeParam, exp.Interval, exp.Paren, exp.Neg, exp.Not,
    exp.Add, exp.Sub, exp.Mul, exp.Div, exp.IntDiv, exp.Mod, exp.DPipe,
    exp.BitwiseAnd, exp.BitwiseOr, exp.BitwiseXor,
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ,
    exp.And, exp.Or, exp.Is, exp.In, exp.Between, exp.Like, exp.ILike, exp.Escape,
    exp.Any, exp.All, exp.Collate, exp.AtTimeZone,
})  # fmt: skip

#: function calls the merge computes, as sqlglot types them (any dialect spelling).
MERGE_FUNCTIONS: frozenset[type[exp.Func]] = frozenset({
    # conditionals and conversion
    exp.Case, exp.If, exp.Coalesce, exp.Nullif, exp.Greatest, exp.Least, exp.Cast, exp.Exists,
    # arithmetic
    exp.Abs, exp.Sign, exp.Ceil, exp.Floor, exp.Round, exp.Trunc, exp.Sqrt, exp.Cbrt, exp.Pow, exp.Exp,
    exp.Ln, exp.Log, exp.Pi, exp.Degrees, exp.Radians,
    exp.Sin, exp.Cos, exp.Tan, exp.Cot, exp.Asin, exp.Acos, exp.Atan, exp.Atan2,
    # text
    exp.Upper, exp.Lower, exp.Length, exp.BitLength, exp.Trim, exp.Substring, exp.Left, exp.Right,
    exp.Replace, exp.Reverse, exp.Concat, exp.ConcatWs, exp.Initcap, exp.Pad, exp.StrPosition,
    exp.SplitPart, exp.StartsWith, exp.EndsWith, exp.RegexpLike, exp.RegexpReplace, exp.Normalize,
    # dates and times (CURRENT_DATE and friends are folded to literals before anything runs)
    exp.Extract, exp.TimestampTrunc, exp.DateTrunc, exp.Year, exp.Month, exp.Day, exp.Week, exp.Quarter,
    exp.DateAdd, exp.DateSub, exp.CurrentDate, exp.CurrentTimestamp, exp.Localtimestamp, exp.CurrentDatetime,
    # aggregates
    exp.Count, exp.Sum, exp.Avg, exp.Min, exp.Max, exp.Median, exp.Stddev, exp.StddevSamp, exp.Variance,
    exp.GroupConcat, exp.ArrayAgg, exp.Corr, exp.CovarSamp, exp.CovarPop, exp.First, exp.Last, exp.CountIf,
    # window functions
    exp.RowNumber, exp.Rank, exp.DenseRank, exp.PercentRank, exp.CumeDist, exp.Ntile, exp.Lag, exp.Lead,
    exp.FirstValue, exp.LastValue, exp.NthValue,
})  # fmt: skip

#: functions sqlglot leaves untyped that the merge computes (the clock ones take no argument).
MERGE_FUNCTION_NAMES = frozenset({"octet_length", "strftime", "quantile_cont", "quantile_disc"})
CLOCK_FUNCTION_NAMES = frozenset({"now", "sysdate", "getdate", "localtimestamp", "current_timestamp", "curdate", "current_date", "today"})

#: node kinds that write, lock or are statements of their own: named as "not allowed".
_WRITES = (exp.DML, exp.DDL, exp.Drop, exp.Command, exp.Into, exp.Lock, exp.Set, exp.Pragma, exp.Attach, exp.Detach,
           exp.Transaction, exp.Commit, exp.Rollback, exp.Use, exp.Describe, exp.Show, exp.Kill, exp.Returning)  # fmt: skip
_READ_ONLY_ONLY = "piot runs read-only queries only"
_SPELLED = {exp.SimilarTo: "SIMILAR TO", exp.RegexpILike: "~*", exp.Unnest: "UNNEST"}


def check_query(tree: exp.Expression, dialect: str = "postgres", *, tables: Collection[str] | None = None) -> exp.Query:
    """``tree`` itself if it is one read-only query piot may run; else NotSupportedError naming what is not.

    Args:
        tree: a parsed statement.
        dialect: the dialect it was written in (to name functions as the user spelled them).
        tables: at merge time, the only table names FROM may read besides the query's CTEs.

    >>> import sqlglot
    >>> check_query(sqlglot.parse_one("with d as (delete from t returning *) select * from d"))
    Traceback (most recent call last):
    ...
    piot.errors.NotSupportedError: DELETE is not allowed: piot runs read-only queries only
    """
    if not isinstance(tree, ROOTS):
        allowed = "(SELECT, WITH ... SELECT, EXPLAIN [ANALYZE] of those)"
        raise NotSupportedError(f"{_statement_word(tree)} is not allowed: {_READ_ONLY_ONLY} {allowed}")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    for node in tree.walk():
        kind = type(node)
        if isinstance(node, exp.Table) and not isinstance(node.this, (exp.Identifier, exp.Dot)):
            _refuse_table_function(node, dialect)
        elif isinstance(node, exp.Table) and tables is not None and node.name not in ctes and node.name not in tables:
            raise NotSupportedError(f"the merge may read only the tables of its plan, not {node.sql(dialect=dialect)!r}")
        if kind in _CLAUSES or kind in MERGE_FUNCTIONS:
            continue
        if isinstance(node, exp.Anonymous) and _named_function_allowed(node):
            continue
        if isinstance(node, _WRITES):
            raise NotSupportedError(f"{_statement_word(node)} is not allowed: {_READ_ONLY_ONLY}")
        if isinstance(node, exp.Func):
            raise _located(
                f"function {function_name(node, dialect)}() is not supported: piot runs only the functions its merge computes",
                node,
            )
        raise NotSupportedError(f"{_SPELLED.get(kind, kind.key.upper())} is not supported in a piot query")
    return tree


def function_name(node: exp.Func, dialect: str = "postgres") -> str:
    """The name of a function call as ``dialect`` spells it.

    >>> import sqlglot
    >>> [function_name(f) for f in sqlglot.parse_one("select bool_and(b), pg_sleep(1) from t").find_all(exp.Func)]
    ['bool_and', 'pg_sleep']
    """
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    try:
        text = node.sql(dialect=dialect)
    except Exception:  # noqa: BLE001 - a generator that cannot write the node: fall back to its class's name
        text = ""
    head = text.split("(", 1)[0].strip()
    return (head if head.replace("_", "").isalnum() else node.sql_name()).lower()


def _named_function_allowed(node: exp.Anonymous) -> bool:
    name = str(node.name).lower()
    return name in MERGE_FUNCTION_NAMES or (name in CLOCK_FUNCTION_NAMES and not node.expressions)


def _refuse_table_function(table: exp.Table, dialect: str) -> None:
    function = table.this
    name = function_name(function, dialect) if isinstance(function, exp.Func) else table.sql(dialect=dialect)
    raise _located(
        f"table function {name}() is not allowed: FROM may read only catalog tables, the query's CTEs, subqueries and VALUES",
        function if isinstance(function, exp.Expression) else table,
    )


def _statement_word(node: exp.Expression) -> str:
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    return {exp.Into: "INTO", exp.Lock: "LOCK"}.get(type(node), node.key.upper())


def _located(message: str, node: exp.Expression) -> NotSupportedError:
    """The error at the node's first character (sqlglot records where its name ends)."""
    meta = node.meta or (node.this.meta if isinstance(node.this, exp.Expression) else {})
    line, col, start, end = (meta.get(k) for k in ("line", "col", "start", "end"))
    if col and start is not None and end is not None:
        col = max(1, col - (end - start))
    return NotSupportedError(message, line=line, col=col)
