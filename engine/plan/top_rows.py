"""Rule: ``ORDER BY ... LIMIT n OFFSET m`` over one exactly read table ships each fragment's first ``n + m`` rows.

The query's first ``n + m`` rows are among the first ``n + m`` rows of the fragment they come
from, so each fragment need ship no more; the merge then orders the union and applies LIMIT and
OFFSET as before. It holds when a fragment's rows are exactly the query's rows (no conjunct
kept back for the merge) and nothing between the read and the ORDER BY changes the rows (no
GROUP BY, aggregate, DISTINCT, window, join or subquery).

The task orders and cuts with Polars, with the merge's meaning. The source does it itself
(``ORDER BY ... LIMIT`` in the fragment's SQL) where it orders exactly as the merge does: every
key a plain column of numbers, dates or timestamps (text only where the source has a collation
that orders by bytes), with NULLS FIRST or LAST written out, and every condition exact there.

Example:
    >>> import sqlglot
    >>> query = sqlglot.parse_one('SELECT "t"."a" AS "a", "t"."p" * 2 AS "dbl" FROM "__piot_t0" AS "t" ORDER BY "dbl" DESC, "t"."a" LIMIT 3 OFFSET 2')
    >>> top = first_rows(query, "__piot_t0")
    >>> top.count, [key.sql() for key in top.keys]
    (5, ['"t"."p" * 2 DESC', '"t"."a"'])
    >>> first_rows(sqlglot.parse_one('SELECT "t"."a" AS "a" FROM "__piot_t0" AS "t" ORDER BY "t"."a"')) is None
    True
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sqlglot import exp

from piot.connectors.types import ColumnType
from piot.plan.exactness import Exactness, semantics_of
from piot.plan.fragments import FragmentOutput, SourceOrder
from piot.plan.merge_sql import merge_query
from piot.plan.partial_aggregates import FRAGMENT_FRAME
from piot.plan.pushdown import conjuncts
from piot.plan.scan_reads import ScanRead
from piot.plan.tables import frame_columns, schema_key

if TYPE_CHECKING:
    from piot.plan.state import PlanningState

#: what each fragment of a top-N query ships (shown by EXPLAIN)
TOP_ROWS = "its first rows in order"

_CHANGES_ROWS = (exp.Group, exp.Having, exp.AggFunc, exp.Window, exp.Join, exp.Subquery, exp.Exists, exp.With, exp.Qualify, exp.Lateral, exp.Unnest)
_ORDERED_EXACTLY = ("BIGINT", "DOUBLE", "DATE", "TIMESTAMP", "TIMESTAMPTZ", "BOOLEAN")


@dataclass(frozen=True)
class FirstRows:
    """The ordering keys (over the scan's columns) and how many rows each fragment keeps."""

    keys: tuple[exp.Ordered, ...]
    count: int


def keep_first_rows(state: PlanningState) -> PlanningState:
    """Rule: each fragment of an ordered, limited read over one table ships only its first ``n + m`` rows."""
    if len(state.reads) != 1 or not isinstance(state.query, exp.Select) or state.reads[0].output.kind != "rows":
        return state
    read = state.reads[0]
    where = state.query.args.get("where")
    terms = conjuncts(where.this) if where is not None else []
    if len(terms) != len(read.decisions) or any(d.exactness is Exactness.KEPT_BACK for _, d in read.decisions):
        return state
    top = first_rows(state.query, read.ref.scan_name)
    if top is None:
        return state
    columns = frame_columns(read.ref.table)
    types = {name: columns[name].type for name in read.needed}
    alias = state.query.args["from_"].this.alias_or_name
    task = exp.select(*(exp.column(name, table=alias, quoted=True) for name in read.needed))
    task = task.from_(exp.alias_(exp.table_(FRAGMENT_FRAME, quoted=True), alias, quoted=True))
    task = task.order_by(*(key.copy() for key in top.keys)).limit(top.count)
    frame_types = {schema_key(name): t.sql for name, t in types.items()}
    task_sql = merge_query(task, {FRAGMENT_FRAME: frame_types}, state.statement.dialect, state.options.timezone)
    in_source = source_order(top, read, types, alias)
    # the same query keeps the first rows of several fragments' first rows: the driver folds them as they arrive
    output = FragmentOutput(TOP_ROWS, None if in_source else task_sql, None, in_source=in_source is not None, combine_sql=task_sql)
    return replace(state, reads=(replace(read, output=output, source_order=in_source),))


def first_rows(query: exp.Select, scan_name: str | None = None) -> FirstRows | None:
    """The keys and ``n + m`` of a plain ``SELECT ... FROM scan ORDER BY ... LIMIT n [OFFSET m]``, output names resolved; else None."""
    from_ = query.args.get("from_")
    table = from_.this if from_ is not None else None
    order, limit, offset = query.args.get("order"), query.args.get("limit"), query.args.get("offset")
    if not isinstance(table, exp.Table) or (scan_name is not None and table.name != scan_name) or order is None:
        return None
    if query.args.get("distinct") or any(query.find(kind) for kind in _CHANGES_ROWS):
        return None
    count = limit.expression if isinstance(limit, exp.Limit) else None
    skipped = offset.expression if isinstance(offset, exp.Offset) else exp.Literal.number(0)
    if not (isinstance(count, exp.Literal) and count.is_int and isinstance(skipped, exp.Literal) and skipped.is_int):
        return None
    outputs = {e.alias_or_name: e.this if isinstance(e, exp.Alias) else e for e in query.expressions}
    keys = []
    for key in order.expressions:
        value = key.this
        if isinstance(value, exp.Column) and not value.table:
            if value.name not in outputs:
                return None
            value = outputs[value.name]
        resolved = key.copy()
        resolved.set("this", value.copy())
        keys.append(resolved)
    return FirstRows(tuple(keys), int(count.this) + int(skipped.this))


def source_order(top: FirstRows, read: ScanRead, types: dict[str, ColumnType], alias: str) -> SourceOrder | None:
    """The ORDER BY and LIMIT the source runs itself, or None when only the task orders as the merge does."""
    kind = read.ref.table.source.kind
    if kind.text_dates or any(d.exactness is not Exactness.EXACT for _, d in read.decisions):
        return None
    collation = semantics_of(kind.name).text_order_collation
    keys: list[tuple[str, bool, bool]] = []
    for key in top.keys:
        value = key.this
        if not (isinstance(value, exp.Column) and value.table == alias and value.name in types):
            return None
        column_type = types[value.name]
        text = column_type.sql == "TEXT" and collation is not None and not column_type.read_as_text and not column_type.fixed_width
        if not (column_type.sql in _ORDERED_EXACTLY or column_type.sql.startswith("DECIMAL") or text):
            return None
        if column_type.sql == "DOUBLE":
            return None  # NaN sorts above every number in PostgreSQL, and among them nowhere in particular elsewhere
        descending = bool(key.args.get("desc"))
        nulls_first = key.args.get("nulls_first")
        nulls_first = descending if nulls_first is None else bool(nulls_first)  # PostgreSQL's default: NULLs are largest
        keys.append((value.name, descending, nulls_first))
    return SourceOrder(tuple(keys), top.count, collation)
