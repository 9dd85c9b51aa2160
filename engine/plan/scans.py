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

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.annotate_types import annotate_types

from piot.connectors.types import ColumnType
from piot.errors import NotSupportedError
from piot.merge.dialect import PolarsSQL
from piot.merge.semantics import postgres_semantics
from piot.plan.exactness import Exactness, PushDecision
from piot.plan.fragment_text import (
    InListText,
    Slots,
    TextWithSlots,
    WindowShape,
    edge_texts,
    shape_key,
    source_window,
    window_shape,
)
from piot.plan.fragments import (
    Fragment,
    Scan,
    fragment_select,
    in_list_by_period,
    in_list_picks,
    window_condition,
    write_fragment,
    write_tree,
)
from piot.plan.periods import Period
from piot.plan.scan_reads import ScanRead, for_frame, for_source
from piot.plan.tables import frame_columns, mapping_schema, schema_key

if TYPE_CHECKING:
    from piot.plan.state import PlanningState

_FRAME = "fragment"


def build_scans(state: PlanningState) -> PlanningState:
    """Rule: the scan of every read, with its fragments."""
    return replace(state, scans=tuple(build_scan(read) for read in state.reads))


def build_scan(read: ScanRead, *, fast: bool = True) -> Scan:
    """The :class:`Scan` of one read: its fragments, row schema, split and pushdown decisions.

    With ``fast`` (the default) the scan's SQL is rendered once and each period's window is
    written into it (:mod:`piot.plan.fragment_text`); the text is the same as rendering each
    fragment's own tree, which ``fast=False`` does (and the fast path does for what it cannot write).
    """
    ref, split, needed = read.ref, read.split, read.needed
    pushed = [(c, d) for c, d in read.decisions if d.tree is not None]
    table = ref.table
    types = {name: c.type for name, c in frame_columns(table).items()}
    sql_types = {name: t.sql for name, t in types.items()}
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
    holds_instants = any(t.sql == "TIMESTAMPTZ" for t in types.values())  # read them in a UTC session (MariaDB)
    # written once per scan, copied per fragment: a long IN list must not be parsed once per period
    source_conditions = [for_source(d.tree, real_names) for _, d in pushed]  # type: ignore[arg-type]
    frame_exact = [for_frame(c) for c, d in pushed if d.exactness is Exactness.WIDENED]
    column = split.column
    split_kind = types[column].sql if column else ""
    is_date = split_kind == "DATE"

    def select_of(conditions: list[exp.Expression]) -> exp.Select:
        """The tree of one fragment's SQL over ``conditions``: every fragment of the scan, and its template, is this tree."""
        return fragment_select(source_table, select_list, conditions, group_by=group_by, order_by=order_by, limit=limit)

    def tree_sql(period: Period | None) -> str:
        """The fragment's SQL rendered from its own tree."""
        # an IN list of times on the split column sends each fragment only the values inside its period
        by_period = [in_list_by_period(c, real_names[column], split_kind) if column and period else None for c in source_conditions]
        conditions = [f(period) if f is not None else c.copy() for c, f in zip(source_conditions, by_period)]
        if period is not None and column is not None:
            # the window goes first: SQLite's planner takes the first range it meets on an indexed column
            window = window_condition(exp.column(real_names[column], quoted=True), period, is_date=is_date, text_dates=text_dates)
            conditions.insert(0, window)
        return write_fragment(select_of(conditions), dialect, utc_session=holds_instants)

    def tree_exact(period: Period | None) -> str | None:
        """The fragment's exact filter written from its own tree."""
        exact = list(frame_exact)
        if period is not None and column is not None and text_dates:
            exact.insert(0, window_condition(exp.column(column, quoted=True), period, is_date=is_date))
        return _exact_filter(exact, sql_types) if exact else None

    write_sql = write_exact = None
    if fast and column is not None:
        write_sql = _fragment_template(select_of, source_conditions, real_names[column], split_kind, dialect, text_dates, holds_instants)
        write_exact = _exact_template(frame_exact, sql_types, column, is_date) if text_dates else None
    # without a window in it, the exact filter is the same for every fragment
    constant_exact = tree_exact(None) if fast and not (text_dates and column) else None
    fragments = []
    for period in read.periods:
        sql = write_sql(period) if write_sql is not None and period is not None else None
        if sql is None:
            sql = tree_sql(period)
        if fast and not (text_dates and column and period):
            exact_filter = constant_exact
        else:
            exact_filter = write_exact(period) if write_exact is not None and period is not None else None
            exact_filter = exact_filter if exact_filter is not None else tree_exact(period)
        fragments.append(Fragment(ref.scan_name, table.source, sql, period, exact_filter))
    schema = tuple((name, types[name].dtype) for name in needed)
    if read.source_aggregation is not None and read.output.schema is not None:
        schema = read.output.schema  # the source ships the partial rows themselves
    decisions = tuple(
        PushDecision(
            _shown(for_frame(c)),
            for_source(d.tree, real_names).sql(dialect=dialect, copy=False) if d.tree is not None else None,
            d.exactness,
            d.reason,
        )
        for c, d in read.decisions
    )
    return Scan(ref.scan_name, read.alias, table.qualified_name, schema, tuple(fragments), split, decisions, read.output)


def _fragment_template(
    select_of: Callable[[list[exp.Expression]], exp.Select],
    conditions: list[exp.Expression],
    column: str,
    kind: str,
    dialect: str,
    text_dates: bool,
    utc_session: bool,
) -> Callable[[Period], str | None] | None:
    """Each period's fragment SQL written into the scan's tree rendered once; None when the rendering cannot be used.

    The window stands first, in parentheses when other conditions follow (as ``exp.and_`` writes
    the fragment's own tree); each IN list on the split column has a slot of its own.
    """
    slots = Slots()
    template = [exp.Paren(this=slots.new()) if conditions else slots.new()]
    writers = []
    for condition in conditions:
        if in_list_picks(condition, column, kind) is None:
            template.append(condition.copy())
            continue
        listed = InListText.build(condition, column, kind, dialect)
        if listed is None:
            return None  # a list each period cuts, which cannot be written as text: every fragment from its tree
        writers.append(listed)
        template.append(slots.new())
    text = TextWithSlots.split(*write_tree(select_of(template), dialect), slots.marks(dialect))
    if text is None:
        return None
    if dialect == "mysql" and utc_session:
        text = replace(text, instants=True)
    is_date = kind == "DATE"

    def write(period: Period) -> str | None:
        filled = source_window(column, period, dialect, is_date=is_date, text_dates=text_dates)
        return None if filled is None else text.fill([filled, *(w.text(period) for w in writers)])

    return write


def _exact_template(conditions: list[exp.Expression], sql_types: dict[str, str], column: str, is_date: bool) -> Callable[[Period], str | None] | None:
    """Each period's exact filter (text dates: the typed window, then the widened conditions) from one rendering."""
    slots = Slots()
    window = slots.new()
    try:
        written = _write_exact_filter([exp.Paren(this=window) if conditions else window, *conditions], sql_types)
    except NotSupportedError:
        return None
    text = TextWithSlots.split(written, False, slots.marks(PolarsSQL))
    if text is None:
        return None
    shapes = {}

    def write(period: Period) -> str | None:
        if period.start is None or period.end is None:
            return None  # an open-ended period: written from its tree
        key = shape_key(period)
        if key not in shapes:
            shapes[key] = _frame_shape(column, sql_types[column], is_date, key)
        shape = shapes[key]
        return None if shape is None else text.fill([shape.fill(*edge_texts(period, is_date=is_date))])

    return write


@lru_cache(maxsize=512)
def _frame_shape(column: str, sql_type: str, is_date: bool, key: tuple[bool, bool, bool, bool]) -> WindowShape | None:
    """The shape of the typed window on frame column ``column`` in an exact filter."""

    def render(period: Period) -> str:
        return _exact_filter([window_condition(exp.column(column, quoted=True), period, is_date=is_date)], {column: sql_type})

    try:
        return window_shape(render, key, is_date=is_date)
    except NotSupportedError:
        return None


def _shown(condition: exp.Expression) -> str:
    """A condition as EXPLAIN shows it (PostgreSQL syntax; sqlglot's own where PostgreSQL's generator cannot write a value)."""
    try:
        return condition.sql(dialect="postgres")
    except (SqlglotError, ValueError):
        return condition.sql()


def _exact_filter(conditions: list[exp.Expression], sql_types: dict[str, str]) -> str:
    """The conditions a widened read must meet, as Polars SQL over the fragment's rows, with the merge's meaning.

    Typing them costs milliseconds, so each distinct list of conditions over the same column types
    is written once (a query planned again, a table read twice with the same filters).
    """
    key = _Conditions(tuple(repr(c) for c in conditions), tuple(conditions))
    return _cached_exact_filter(key, tuple(sql_types.items()))


@dataclass(frozen=True)
class _Conditions:
    """Conditions as a cache key: their whole structure (``repr`` shows every argument, type and comment), the trees beside it."""

    key: tuple[str, ...]
    trees: tuple[exp.Expression, ...] = field(compare=False, repr=False)


@lru_cache(maxsize=256)
def _cached_exact_filter(conditions: _Conditions, sql_types: tuple[tuple[str, str], ...]) -> str:
    return _write_exact_filter(list(conditions.trees), dict(sql_types))


def _write_exact_filter(conditions: list[exp.Expression], sql_types: dict[str, str]) -> str:
    """The exact filter of ``conditions``, written from their trees (see :func:`_exact_filter`)."""
    condition = exp.and_(*conditions).transform(
        lambda n: exp.column(n.name, table=_FRAME, quoted=True) if isinstance(n, exp.Column) else n, copy=True
    )
    schema = mapping_schema({_FRAME: {schema_key(name): sql for name, sql in sql_types.items()}}, "postgres")
    query = exp.select("*").from_(_FRAME).where(condition)
    try:
        typed = annotate_types(query, schema=schema, dialect="postgres")
    except SqlglotError as e:
        raise NotSupportedError(f"cannot write the exact filter of a widened read: {e}") from e
    exact = postgres_semantics(typed).args["where"].this
    for column in exact.find_all(exp.Column):
        column.set("table", None)
    return exact.sql(dialect=PolarsSQL, copy=False)


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
