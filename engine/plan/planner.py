"""Plan a query: one scan per table reference, its fragments, and the SQL the merge runs.

The plan is pure: it needs table metadata (through ``lookup``) but touches no
database, no Ray and no network, so it is tested with SQL in and SQL out.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.errors import OptimizeError, SqlglotError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, traverse_scope

from piot.connectors.introspect import TableInfo
from piot.connectors.types import ColumnType
from piot.errors import NotSupportedError, ProgrammingError
from piot.merge.dialect import PolarsSQL
from piot.merge.join_keys import align_equality_types
from piot.merge.semantics import postgres_semantics
from piot.plan.exactness import Exactness, PushDecision, semantics_of
from piot.plan.filters import scan_filters
from piot.plan.fragments import Fragment, Scan, SplitDecision, fragment_sql, window_condition
from piot.plan.opaque_columns import OpaqueType, check_opaque_columns
from piot.plan.periods import Period
from piot.plan.pushdown import Pushdown, decide
from piot.plan.split import split_scan
from piot.plan.state import Plan, PlanOptions
from piot.plan.statistics import Statistics
from piot.plan.tables import Lookup, TableReference, find_frame_column, frame_columns, resolve_tables, schema_key
from piot.sql.literals import check_time_literals, infinite_literal, invalid_literal, is_infinity_text, replace_infinite_times
from piot.sql.normalize import normalize
from piot.sql.statement import Statement
from piot.sql.timefold import column_literal, parse_time_text
from piot.sql.type_limits import check_decimal_types
from piot.sql.values_types import type_values
from piot.sql.zones import zone_for

#: the dialect the merge SQL is written in: PostgreSQL's, as Polars' SQL engine reads it.
MERGE_DIALECT = PolarsSQL


def plan_statement(
    statement: Statement, lookup: Lookup, options: PlanOptions = PlanOptions(), statistics: Statistics | None = None
) -> Plan:
    """Build the :class:`Plan` of a parsed statement.

    ``statistics`` answers the queries that find where a far-bounded scan's rows are (see
    :mod:`piot.plan.statistics`); without it such a scan is cut coarser instead.
    """
    query, references = resolve_tables(normalize(check_decimal_types(check_time_literals(type_values(statement.query.copy())))), lookup)
    query = _name_outputs(query, statement.dialect)
    schema = {ref.scan_name: {schema_key(name): c.type.sql for name, c in frame_columns(ref.table).items()} for ref in references}
    try:
        qualified = qualify(query, schema=schema, dialect=statement.dialect, validate_qualify_columns=True, quote_identifiers=True)
    except OptimizeError as e:
        raise _qualify_error(str(e), statement.query, references) from e
    except SqlglotError as e:
        raise NotSupportedError(f"cannot plan this query: {e}") from e
    columns = _dedupe_outputs(qualified)
    scopes = list(traverse_scope(qualified))
    _check_correlations(scopes)
    tables = {ref.scan_name: ref.table for ref in references}
    check_opaque_columns(scopes, _opaque_type(tables))
    _type_date_literals(scopes, tables, zone_for(options.timezone))
    replace_infinite_times(qualified)
    reads = [_scan_read(ref, scopes, options, tables, statistics) for ref in references]
    _share_columns(reads)
    scans = tuple(_build_scan(read) for read in reads)
    try:
        typed = annotate_types(qualified, schema=schema, dialect=statement.dialect)
        merge_sql = postgres_semantics(align_equality_types(typed), statement.dialect, options.timezone).sql(dialect=MERGE_DIALECT)
    except SqlglotError as e:
        raise NotSupportedError(f"cannot write this query for the merge: {e}") from e
    return Plan(scans=scans, merge_sql=merge_sql, columns=columns)


_UNKNOWN_COLUMN = re.compile(r"(?:Unknown column: (?P<a>[^\s.]+)|column '(?P<b>[^']+)' could not be resolved)", re.IGNORECASE)
_POSITION = re.compile(r"Line: (\d+), Col: (\d+)")


def _qualify_error(message: str, original: exp.Expression, references: list[TableReference]) -> ProgrammingError:
    """A ProgrammingError for an unresolvable name, pointing at the name in the user's SQL."""
    for ref in references:
        message = message.replace(ref.scan_name, ref.table.qualified_name)
    unknown = _UNKNOWN_COLUMN.search(message)
    if unknown is None:
        return ProgrammingError(message[:1].lower() + message[1:].rstrip("."))
    name = unknown["a"] or unknown["b"]
    tables = ", ".join(ref.table.qualified_name for ref in references) or "no table"
    position = _POSITION.search(message)
    if position is not None:
        line, col = int(position[1]), int(position[2])
    else:
        column = next((c for c in original.find_all(exp.Column) if c.name == name), None)
        meta = column.this.meta if column is not None and isinstance(column.this, exp.Identifier) else {}
        line, col = meta.get("line"), meta.get("col")
    if col:  # positions name the token's last character; point at its first
        col = max(1, col - len(name) + 1)
    return ProgrammingError(f"unknown column {name!r} (reading {tables})", line=line, col=col)


def _outer_select(query: exp.Expression) -> exp.Select | None:
    while isinstance(query, exp.SetOperation):
        query = query.this
    if isinstance(query, exp.Subquery):
        return _outer_select(query.this)
    return query if isinstance(query, exp.Select) else None


def _name_outputs(query: exp.Query, dialect: str) -> exp.Query:
    """Alias each unnamed computed output column with its own SQL text (``sum(price)``)."""
    select = _outer_select(query)
    if select is None:
        return query
    named = []
    for expression in select.expressions:
        if isinstance(expression, (exp.Alias, exp.Column, exp.Star)) or isinstance(expression.unnest(), exp.Column):
            named.append(expression)
        else:
            named.append(exp.alias_(expression, expression.sql(dialect=dialect, normalize_functions="lower"), quoted=True))
    select.set("expressions", named)
    return query


def _dedupe_outputs(query: exp.Expression) -> tuple[str, ...]:
    """Give the outer select distinct output names (``x``, ``x_1``); return them in order."""
    select = _outer_select(query)
    if select is None:
        return ()
    seen: dict[str, int] = {}
    names = []
    for expression in select.expressions:
        name = expression.alias_or_name
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
            expression.replace(exp.alias_(expression.unalias(), name, quoted=True))
        seen.setdefault(name, 0)
        names.append(name)
    return tuple(names)


def _scope_of(scan_name: str, scopes: list[Scope]) -> tuple[Scope, str]:
    """The scope whose FROM/JOIN names the scan, and the alias it goes by there.

    A derived table (a VALUES list, a subquery) joined after a table also lists that table
    among its sources (it could be LATERAL); the table belongs to the enclosing SELECT.
    """
    for scope in scopes:
        for alias, source in scope.sources.items():
            if isinstance(source, exp.Table) and source.name == scan_name and source.find_ancestor(exp.Select) is scope.expression:
                return scope, alias
    raise NotSupportedError(f"cannot place table reference {scan_name} in the query")


_CORRELATIONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)


def _check_correlations(scopes: list[Scope]) -> None:
    """Refuse a correlated subquery the merge cannot run: Polars decorrelates only ``inner.x OP outer.y``."""
    for scope in scopes:
        for column in scope.external_columns:
            parent = column.parent
            while isinstance(parent, exp.Paren):
                parent = parent.parent
            if isinstance(parent, _CORRELATIONS) and all(isinstance(side.unnest(), exp.Column) for side in (parent.left, parent.right)):
                continue
            used_in = parent.sql(dialect="postgres") if parent is not None else column.sql()
            raise NotSupportedError(
                f"correlated subquery: the outer column {column.sql(dialect='postgres')} is used in {used_in}; "
                "the merge runs correlated subqueries only when they compare an inner column with an outer one (inner.x = outer.y)"
            )


def _within(inner: Scope, outer: Scope) -> bool:
    """Whether ``inner`` is ``outer`` or nested inside it."""
    scope: Scope | None = inner
    while scope is not None:
        if scope is outer:
            return True
        scope = scope.parent
    return False


def _needed_columns(alias: str, scope: Scope, scopes: list[Scope]) -> list[str]:
    names: list[str] = []
    own = [c for c in scope.columns if c.table == alias]
    correlated = [
        c
        for s in scopes
        if s is not scope and alias not in s.sources and _within(s, scope)
        for c in s.external_columns
        if c.table == alias
    ]
    for column in own + correlated:
        if column.name not in names:
            names.append(column.name)
    return names


def _type_of(scope: Scope, tables: dict[str, TableInfo]) -> Callable[[str, str], str | None]:
    """``(alias, column) -> declared type`` for the catalog tables of ``scope``."""

    def type_of(alias: str, name: str) -> str | None:
        source = scope.sources.get(alias)
        table = tables.get(source.name) if isinstance(source, exp.Table) else None
        column = frame_columns(table).get(name) if table is not None else None
        return column.type.sql if column is not None else None

    return type_of


def _opaque_type(tables: dict[str, TableInfo]) -> OpaqueType:
    """``(scan name, column) -> declared type`` of the columns read as text, else None."""

    def opaque_type(scan_name: str, name: str) -> str | None:
        table = tables.get(scan_name)
        column = frame_columns(table).get(name) if table is not None else None
        return column.type.declared if column is not None and column.type.read_as_text else None

    return opaque_type


@dataclass
class _ScanRead:
    """What one table reference reads, before its column list is final."""

    ref: TableReference
    alias: str
    needed: list[str]
    decisions: list[tuple[exp.Expression, Pushdown]]
    split: SplitDecision
    periods: list[Period | None]

    @property
    def rows_key(self) -> tuple[object, ...]:
        """Equal for references that read the same rows (same table, filters and periods)."""
        real_names = {name: c.name for name, c in frame_columns(self.ref.table).items()}
        filters = tuple((d.condition, d.exactness, _for_frame(c).sql()) for c, d in self.decisions if d.condition is not None)
        return (self.ref.table.qualified_name, filters, self.split.column, tuple(self.periods))


def _scan_read(
    ref: TableReference, scopes: list[Scope], options: PlanOptions, tables: dict[str, TableInfo], statistics: Statistics | None
) -> _ScanRead:
    scope, alias = _scope_of(ref.scan_name, scopes)
    table = ref.table
    types = {name: c.type for name, c in frame_columns(table).items()}
    needed = _needed_columns(alias, scope, scopes) or [next(iter(types))]
    own_conjuncts = scan_filters(scope.expression, alias, _type_of(scope, tables))
    semantics = semantics_of(table.source.kind.name)
    decisions = [(c, decide(c, types, semantics)) for c in own_conjuncts]
    split, periods = split_scan(table, types, own_conjuncts, alias, options.split_options, statistics)
    return _ScanRead(ref, alias, needed, decisions, split, periods)


def _share_columns(reads: list[_ScanRead]) -> None:
    """References reading the same rows read the union of their columns, so that one read serves them all."""
    groups: dict[tuple[object, ...], list[_ScanRead]] = {}
    for read in reads:
        groups.setdefault(read.rows_key, []).append(read)
    for group in groups.values():
        union = [name for read in group for name in read.needed]
        for read in group:
            read.needed = list(dict.fromkeys(union))


def _build_scan(read: _ScanRead) -> Scan:
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
    date_column = exp.column(real_names[split.column], quoted=True) if split.column else None
    holds_instants = any(t.sql == "TIMESTAMPTZ" for t in types.values())  # read them in a UTC session (MariaDB)
    # written once per scan, copied per fragment: a long IN list must not be parsed once per period
    source_conditions = [_for_source(d.tree, real_names) for _, d in pushed]  # type: ignore[arg-type]
    frame_exact = [_for_frame(c) for c, d in pushed if d.exactness is Exactness.WIDENED]
    fragments = []
    for period in read.periods:
        conditions = [c.copy() for c in source_conditions]
        exact = list(frame_exact)
        if period is not None and date_column is not None:
            is_date = types[split.column].sql == "DATE"  # type: ignore[index]
            # the window goes first: SQLite's planner takes the first range it meets on an indexed column
            conditions.insert(0, window_condition(date_column, period, is_date=is_date, text_dates=text_dates))
            if text_dates:
                exact.insert(0, window_condition(exp.column(split.column, quoted=True), period, is_date=is_date))
        sql = fragment_sql(source_table, select_list, conditions, dialect, utc_session=holds_instants)
        exact_filter = _exact_filter(exact, types) if exact else None
        fragments.append(Fragment(ref.scan_name, table.source, sql, period, exact_filter))
    schema = tuple((name, types[name].dtype) for name in needed)
    decisions = tuple(
        PushDecision(
            _shown(_for_frame(c)),
            _for_source(d.tree, real_names).sql(dialect=dialect) if d.tree is not None else None,
            d.exactness,
            d.reason,
        )
        for c, d in read.decisions
    )
    return Scan(ref.scan_name, read.alias, table.qualified_name, schema, tuple(fragments), split, decisions)


_FRAME = "fragment"


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
    return exact.sql(dialect=MERGE_DIALECT)


_LITERAL_COMPARISONS = (
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between, exp.In, exp.Coalesce, exp.Nullif, exp.Greatest, exp.Least,
)  # fmt: skip


def _type_date_literals(scopes: list[Scope], tables: dict[str, TableInfo], zone: dt.tzinfo) -> None:
    """Give untyped text compared (or COALESCEd, ...) with a DATE/TIMESTAMP column that column's type, as PostgreSQL does.

    ``d >= '2024-03-10 12:00'`` on a DATE column means ``d >= DATE '2024-03-10'``; writing the
    literal typed keeps that meaning in every source and in the merge. Against a TIMESTAMPTZ
    column every time constant becomes an instant with an explicit offset, and an instant
    compared with a DATE/TIMESTAMP column becomes wall time in ``zone`` (see ``column_literal``).
    """
    for scope in scopes:
        for column in scope.columns:
            source = scope.sources.get(column.table)
            table = tables.get(source.name) if isinstance(source, exp.Table) else None
            found = frame_columns(table).get(column.name) if table is not None else None
            if found is None or found.type.sql not in ("DATE", "TIMESTAMP", "TIMESTAMPTZ"):
                continue
            parent = column.parent
            while isinstance(parent, exp.Paren):
                parent = parent.parent
            if not isinstance(parent, _LITERAL_COMPARISONS):
                continue
            for operand in list(parent.iter_expressions()):
                if not isinstance(operand, exp.Column):
                    typed = column_literal(operand, found.type.sql, zone)
                    if typed is not None:
                        operand.replace(typed)
                    elif isinstance(operand, exp.Literal) and operand.is_string and parse_time_text(operand.this) is None:
                        if is_infinity_text(operand.this):
                            operand.replace(infinite_literal(operand.this, is_date=found.type.sql == "DATE"))
                        elif found.type.sql in ("DATE", "TIMESTAMP"):  # PostgreSQL reads the text as the column's type, and refuses it
                            raise invalid_literal("date" if found.type.sql == "DATE" else "timestamp", operand)


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


def _for_source(condition: exp.Expression, real_names: dict[str, str]) -> exp.Expression:
    def rename(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column):
            return exp.column(real_names.get(node.name, node.name), quoted=True)
        return node

    return condition.transform(rename, copy=True)


def _for_frame(condition: exp.Expression) -> exp.Expression:
    return condition.transform(lambda n: exp.column(n.name, quoted=True) if isinstance(n, exp.Column) else n, copy=True)
