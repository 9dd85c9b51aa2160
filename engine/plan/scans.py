"""Write each read's fragments: one SQL text per period in the source's dialect, with its exact filter.

Every fragment selects the read's columns (renamed, cast or trimmed where the source needs
it), keeps every pushed conjunct and adds its own window on the split column; a widened
read also carries the conditions its rows must meet, as Polars SQL over the fragment.

Example:
    >>> _source_column("price", {"price": "Price"}, as_real=True).sql("sqlite")
    'CAST("Price" AS REAL) AS "price"'
    >>> _source_column("code", {"code": "code"}, trim=True).sql()
    'RTRIM("code") AS "code"'
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.annotate_types import annotate_types

from piot.connectors.types import ColumnType
from piot.errors import NotSupportedError
from piot.merge.dialect import PolarsSQL
from piot.merge.semantics import postgres_semantics
from piot.plan.exactness import Exactness, PushDecision
from piot.plan.fragments import Fragment, Scan, fragment_sql, in_list_by_period, window_condition
from piot.plan.scan_reads import ScanRead, for_frame, for_source
from piot.plan.tables import frame_columns, schema_key

if TYPE_CHECKING:
    from piot.plan.state import PlanningState

_FRAME = "fragment"


def build_scans(state: PlanningState) -> PlanningState:
    """Rule: the scan of every read, with its fragments."""
    return replace(state, scans=tuple(build_scan(read) for read in state.reads))


def build_scan(read: ScanRead) -> Scan:
    """The :class:`Scan` of one read: its fragments, row schema, split and pushdown decisions."""
    ref, split, needed = read.ref, read.split, read.needed
    pushed = [(c, d) for c, d in read.decisions if d.tree is not None]
    table = ref.table
    types = {name: c.type for name, c in frame_columns(table).items()}
    real_names = {name: c.name for name, c in frame_columns(table).items()}
    text_dates = table.source.kind.text_dates
    dialect = table.source.kind.dialect
    source_table = exp.table_(table.name, db=table.schema or table.source.kind.default_schema, quoted=True)
    pads_char = table.source.kind.pads_char
    select_list = [
        _source_column(
            name,
            real_names,
            as_real=text_dates and _numeric_affinity(types[name]),
            trim=pads_char and types[name].fixed_width,
            as_text=types[name].read_as_text and not text_dates,
        )
        for name in needed
    ]
    group_by: list[exp.Expression] = []
    if read.source_aggregation is not None:
        select_list = [for_source(item, real_names) for item in read.source_aggregation.select]
        group_by = [exp.column(real_names[name], quoted=True) for name in read.source_aggregation.group_by]
    order_by = read.source_order.order_by(real_names, frozenset(n for n, t in types.items() if t.sql == "TEXT")) if read.source_order else []
    limit = read.source_order.count if read.source_order else None
    date_column = exp.column(real_names[split.column], quoted=True) if split.column else None
    holds_instants = any(t.sql == "TIMESTAMPTZ" for t in types.values())  # read them in a UTC session (MariaDB)
    # written once per scan, copied per fragment: a long IN list must not be parsed once per period
    source_conditions = [for_source(d.tree, real_names) for _, d in pushed]  # type: ignore[arg-type]
    frame_exact = [for_frame(c) for c, d in pushed if d.exactness is Exactness.WIDENED]
    split_kind = types[split.column].sql if split.column else ""
    # an IN list of times on the split column sends each fragment only the values inside its period
    by_period = [in_list_by_period(c, real_names[split.column], split_kind) if split.column else None for c in source_conditions]
    fragments = []
    for period in read.periods:
        conditions = [f(period) if f is not None and period is not None else c.copy() for c, f in zip(source_conditions, by_period)]
        exact = list(frame_exact)
        if period is not None and date_column is not None:
            is_date = types[split.column].sql == "DATE"  # type: ignore[index]
            # the window goes first: SQLite's planner takes the first range it meets on an indexed column
            conditions.insert(0, window_condition(date_column, period, is_date=is_date, text_dates=text_dates))
            if text_dates:
                exact.insert(0, window_condition(exp.column(split.column, quoted=True), period, is_date=is_date))
        sql = fragment_sql(source_table, select_list, conditions, dialect, utc_session=holds_instants, group_by=group_by, order_by=order_by, limit=limit)
        exact_filter = _exact_filter(exact, types) if exact else None
        fragments.append(Fragment(ref.scan_name, table.source, sql, period, exact_filter))
    schema = tuple((name, types[name].dtype) for name in needed)
    if read.source_aggregation is not None and read.output.schema is not None:
        schema = read.output.schema  # the source ships the partial rows themselves
    decisions = tuple(
        PushDecision(
            _shown(for_frame(c)),
            for_source(d.tree, real_names).sql(dialect=dialect) if d.tree is not None else None,
            d.exactness,
            d.reason,
        )
        for c, d in read.decisions
    )
    return Scan(ref.scan_name, read.alias, table.qualified_name, schema, tuple(fragments), split, decisions, read.output)


def _shown(condition: exp.Expression) -> str:
    """A condition as EXPLAIN shows it (PostgreSQL syntax; sqlglot's own where PostgreSQL's generator cannot write a value)."""
    try:
        return condition.sql(dialect="postgres")
    except (SqlglotError, ValueError):
        return condition.sql()


def _exact_filter(conditions: list[exp.Expression], types: dict[str, ColumnType]) -> str:
    """The conditions a widened read must meet, as Polars SQL over the fragment's rows, with the merge's meaning."""
    condition = exp.and_(*conditions).transform(
        lambda n: exp.column(n.name, table=_FRAME, quoted=True) if isinstance(n, exp.Column) else n, copy=True
    )
    schema = {_FRAME: {schema_key(name): t.sql for name, t in types.items()}}
    query = exp.select("*").from_(_FRAME).where(condition)
    try:
        typed = annotate_types(query, schema=schema, dialect="postgres")
    except SqlglotError as e:
        raise NotSupportedError(f"cannot write the exact filter of a widened read: {e}") from e
    exact = postgres_semantics(typed).args["where"].this
    for column in exact.find_all(exp.Column):
        column.set("table", None)
    return exact.sql(dialect=PolarsSQL)


def _source_column(
    name: str, real_names: dict[str, str], *, as_real: bool = False, trim: bool = False, as_text: bool = False
) -> exp.Expression:
    """The select-list item reading column ``name``: renamed to its frame name, cast or trimmed where the source needs it."""
    column: exp.Expression = exp.column(real_names[name], quoted=True)
    if as_real:
        column = exp.cast(column, "REAL")
    if as_text:
        column = exp.cast(column, "TEXT")
    if trim:
        column = exp.func("RTRIM", column)
    return column if real_names[name] == name and not (as_real or trim or as_text) else exp.alias_(column, name, quoted=True)


def _numeric_affinity(column_type: ColumnType) -> bool:
    """A SQLite DECIMAL/NUMERIC column read as Float64: it keeps whole numbers as INTEGER and the rest as REAL.

    connectorx takes a column's storage class from its first value and fails on the
    first row stored otherwise, so such columns are read as ``CAST(x AS REAL)``.

    >>> from piot.connectors.types import declared_type
    >>> [_numeric_affinity(declared_type(t, text_dates=True)) for t in ("DECIMAL(15,2)", "REAL")]
    [True, False]
    """
    declared = column_type.declared.upper()
    return column_type.sql == "DOUBLE" and not any(word in declared for word in ("REAL", "FLOA", "DOUB"))
