"""Rule: an aggregation over one scan runs in every fragment's task; the merge finishes it.

Instead of shipping its rows, each fragment ships one row per group with partial results,
and the merge folds them (design.md section 4):

========================  ====================================  ===============================
the query asks             each fragment ships                   the merge computes
========================  ====================================  ===============================
``COUNT(*)``, ``COUNT(x)``  the count                             ``COALESCE(SUM(count), 0)``
``SUM(x)``                  the sum                               ``SUM(sum)``
``MIN(x)``, ``MAX(x)``      the minimum, the maximum              ``MIN(min)``, ``MAX(max)``
``AVG(x)``                  ``SUM(x)`` and ``COUNT(x)``           ``SUM(sum) / SUM(count)``
``f(DISTINCT x)``           its distinct ``x`` (a grouping key)   ``f(DISTINCT x)``
``agg FILTER (WHERE c)``    the partial with the same filter      as above, without the filter
========================  ====================================  ===============================

GROUP BY keys become the partial rows' keys; HAVING, DISTINCT, ORDER BY and LIMIT run in the
merge over the folded groups. It applies only where a fragment's rows are exactly the query's
rows (every WHERE conjunct exact at the source, or widened and filtered again in the task; none
kept back for the merge) and the query has no join, subquery, window, set operation or grouping
set. Any other aggregate (``STRING_AGG``, ``MEDIAN``, ...) runs whole in each fragment where
no group crosses fragments (:mod:`piot.plan.local_groups`: a key is the split column or its
truncation at period edges); otherwise the fragments ship rows. The partial query runs in the task with Polars, with the merge's meaning,
so its answer is the one the merge would give over all the rows.

Example:
    >>> import sqlglot
    >>> query = sqlglot.parse_one('SELECT "t"."r" AS "r", AVG("t"."p") AS "a" FROM "__piot_t0" AS "t" WHERE "t"."p" > 0 GROUP BY "t"."r"')
    >>> split = split_aggregation(query, "__piot_t0", {"r": "TEXT", "p": "INT"})
    >>> split.partial.sql()
    'SELECT "t"."r" AS "__piot_k0", SUM("t"."p") AS "__piot_p0", COUNT("t"."p") AS "__piot_p1" FROM "fragment" AS "t" GROUP BY "t"."r"'
    >>> split.final.sql()
    'SELECT "t"."__piot_k0" AS "r", CAST(SUM("t"."__piot_p0") AS DOUBLE) / SUM("t"."__piot_p1") AS "a" FROM "__piot_t0" AS "t" GROUP BY "t"."__piot_k0"'
    >>> split.types
    {'__piot_k0': 'TEXT', '__piot_p0': 'BIGINT', '__piot_p1': 'BIGINT'}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import polars as pl
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.annotate_types import annotate_types

from piot.connectors.types import ColumnType, dtype_column_type
from piot.plan.exactness import Exactness, KindSemantics, family_of, semantics_of
from piot.plan.fragments import FragmentOutput, SourceAggregation
from piot.plan.local_groups import groups_stay_in_fragments, whole_in_fragments
from piot.merge.semantics import CANNOT_OVERFLOW
from piot.plan.merge_sql import merge_query
from piot.plan.pushdown import conjuncts, exact_value
from piot.plan.scan_reads import ScanRead
from piot.plan.tables import frame_columns, schema_key

if TYPE_CHECKING:
    from piot.plan.state import PlanningState

#: the frame name a task's SQL reads a fragment's rows under (see :func:`piot.run.task.finish_fragment`)
FRAGMENT_FRAME = "fragment"
#: what each fragment of an aggregated scan ships (shown by EXPLAIN)
PARTIAL_AGGREGATE = "partial aggregate"
#: what each fragment ships when its groups are whole: the query's own output rows, before ordering and LIMIT
WHOLE_GROUPS = "whole groups"
_GROUPING_SETS = ("rollup", "cube", "grouping_sets", "totals")

_NOT_FOLDABLE = (exp.Window, exp.Subquery, exp.Exists, exp.With, exp.Qualify, exp.Join, exp.Lateral, exp.Unnest)
_FOLDABLE = (exp.Count, exp.Sum, exp.Min, exp.Max, exp.Avg)
_T = exp.DataType.Type
_EXACT_NUMBERS = ("SMALLINT", "INT", "BIGINT")
_EXACT_KEYS = (*_EXACT_NUMBERS, "DATE", "TIMESTAMP", "BOOLEAN")
_NUMBERS = exp.DataType.INTEGER_TYPES | exp.DataType.REAL_TYPES | {_T.DECIMAL, _T.BIGDECIMAL}


@dataclass(frozen=True)
class AggregationSplit:
    """An aggregation cut in two.

    Attributes:
        partial: the query each fragment's task runs over its rows (the frame ``fragment``).
        final: the query the merge runs over the partial rows of every fragment.
        types: the SQL type of each partial column, for typing the final query.
    """

    partial: exp.Select
    final: exp.Select
    types: dict[str, str]


def fold_aggregates(state: PlanningState) -> PlanningState:
    """Rule: an aggregation over one read whose fragments hold exactly its rows is folded from partial results."""
    if len(state.reads) != 1 or not isinstance(state.query, exp.Select):
        return state
    read = state.reads[0]
    where = state.query.args.get("where")
    terms = conjuncts(where.this) if where is not None else []
    if len(terms) != len(read.decisions) or any(d.exactness is Exactness.KEPT_BACK for _, d in read.decisions):
        return state  # the merge must see the rows to apply what was kept back
    columns = frame_columns(read.ref.table)
    types = {name: columns[name].type for name in read.needed}
    split = split_aggregation(state.query, read.ref.scan_name, {n: t.sql for n, t in types.items()}, state.statement.dialect)
    frame_types = {schema_key(name): t.sql for name, t in types.items()}
    if split is None:
        return _whole_groups(state, read, types)
    task_sql = merge_query(split.partial, {FRAGMENT_FRAME: frame_types}, state.statement.dialect, state.options.timezone)
    output_schema = _partial_schema(task_sql, tuple((name, t.dtype) for name, t in types.items()))
    if output_schema is None:
        return state
    in_source = source_aggregation(split.partial, read, types)
    partial_types = {schema_key(name): sql for name, sql in split.types.items()}
    combine_sql = merge_query(combine_partials(split.partial), {FRAGMENT_FRAME: partial_types}, state.statement.dialect)
    output = FragmentOutput(
        PARTIAL_AGGREGATE, None if in_source else task_sql, output_schema, in_source=in_source is not None, combine_sql=combine_sql
    )
    folded = replace(read, output=output, source_aggregation=in_source)
    return replace(state, reads=(folded,), output_types={read.ref.scan_name: split.types}).with_query(split.final)


_COMBINED_BY: dict[type[exp.Expression], type[exp.AggFunc]] = {exp.Count: exp.Sum, exp.Sum: exp.Sum, exp.Min: exp.Min, exp.Max: exp.Max}


def combine_partials(partial: exp.Select) -> exp.Select:
    """The query folding partial rows into fewer partial rows of the same form (the driver runs it as fragments arrive).

    >>> import sqlglot
    >>> partial = sqlglot.parse_one('SELECT "t"."r" AS "__piot_k0", COUNT(*) AS "__piot_p0", MIN("t"."x") AS "__piot_p1" FROM "fragment" AS "t" GROUP BY "t"."r"')
    >>> combine_partials(partial).sql()
    'SELECT "__piot_k0" AS "__piot_k0", SUM("__piot_p0") AS "__piot_p0", MIN("__piot_p1") AS "__piot_p1" FROM "fragment" GROUP BY "__piot_k0"'
    """
    items, keys = [], []
    for item in partial.expressions:
        value = item.this.this if isinstance(item.this, exp.Filter) else item.this
        column = exp.column(item.alias, quoted=True)
        if isinstance(value, exp.AggFunc):
            items.append(exp.alias_(_COMBINED_BY[type(value)](this=column), item.alias, quoted=True))
        else:
            items.append(exp.alias_(column, item.alias, quoted=True))
            keys.append(column.copy())
    combined = exp.select(*items).from_(exp.table_(FRAGMENT_FRAME, quoted=True))
    return combined.group_by(*keys, copy=False) if keys else combined


def _whole_groups(state: PlanningState, read: ScanRead, types: Mapping[str, ColumnType]) -> PlanningState:
    """The state with the whole aggregation run in each fragment, where no group crosses fragments (else unchanged)."""
    query = state.query
    assert isinstance(query, exp.Select)
    group = query.args.get("group")
    table = query.args["from_"].this if query.args.get("from_") else None
    if not isinstance(table, exp.Table) or table.name != read.ref.scan_name or any(query.find(k) for k in _NOT_FOLDABLE):
        return state
    if (group is None and not query.find(exp.AggFunc)) or (group is not None and any(group.args.get(k) for k in _GROUPING_SETS)):
        return state
    split_kind = types[read.split.column].sql if read.split.column in types else ""
    keys = group.expressions if group is not None else []
    if not groups_stay_in_fragments(keys, read.split.column, split_kind, read.periods):
        return state
    halves = whole_in_fragments(query, table.alias_or_name)
    if halves is None:
        return state
    fragment_query, merge_query_tree = halves
    frame_types = {schema_key(name): t.sql for name, t in types.items()}
    task_sql = merge_query(fragment_query, {FRAGMENT_FRAME: frame_types}, state.statement.dialect, state.options.timezone)
    output_schema = _partial_schema(task_sql, tuple((name, t.dtype) for name, t in types.items()))
    if output_schema is None:
        return state
    shipped = {name: dtype_column_type(dtype) for name, dtype in output_schema}
    if any(t is None for t in shipped.values()):
        return state  # the merge could not type what the fragments ship (lists, structs)
    output_types = {name: t.sql for name, t in shipped.items() if t is not None}
    output = FragmentOutput(WHOLE_GROUPS, task_sql, output_schema)
    whole = replace(read, output=output)
    return replace(state, reads=(whole,), output_types={read.ref.scan_name: output_types}).with_query(merge_query_tree)


def source_aggregation(partial: exp.Select, read: ScanRead, types: Mapping[str, ColumnType]) -> SourceAggregation | None:
    """The partial query as the source computes it exactly, or None when only the task can.

    The source computes it when every condition of the read is exact there, every key is a
    plain column the source groups as the merge does (numbers, dates, timestamps; text where
    its equality is exact) and every partial is ``COUNT``, ``SUM`` of numbers or ``MIN``/``MAX``
    of numbers (not floats), dates or timestamps, of a column or of ``+ - *`` arithmetic the
    source computes exactly (:func:`piot.plan.pushdown.exact_value`), without FILTER. Only PostgreSQL so
    far: MariaDB and SQLite sum and type differently (DECIMAL sums, typeless columns).
    """
    kind = read.ref.table.source.kind
    if kind.name != "postgres" or any(d.exactness is not Exactness.EXACT for _, d in read.decisions):
        return None
    semantics = semantics_of(kind.name)
    items: list[exp.Expression] = []
    for item in partial.expressions:
        value = item.this
        if isinstance(value, exp.Column):
            if not _groups_exactly(types.get(value.name), semantics.text_equality):
                return None
            items.append(exp.alias_(exp.column(value.name, quoted=True), item.alias, quoted=True))
        elif isinstance(value, exp.Count) and isinstance(value.this, exp.Star):
            items.append(exp.alias_(exp.Count(this=exp.Star()), item.alias, quoted=True))
        elif isinstance(value, (exp.Count, exp.Sum, exp.Min, exp.Max)) and value.this is not None:
            argument = _unqualified(value.this)
            if not _computes_exactly(value, argument, dict(types), semantics):
                return None
            items.append(exp.alias_(type(value)(this=argument), item.alias, quoted=True))
        else:
            return None
    group = partial.args.get("group")
    keys = tuple(g.name for g in group.expressions) if group is not None else ()
    return SourceAggregation(tuple(items), keys)


def _groups_exactly(column_type: ColumnType | None, text_equality: Exactness) -> bool:
    """Whether the source puts two values of this column in one group exactly when the merge does."""
    if column_type is None or column_type.read_as_text or column_type.fixed_width:
        return False
    if column_type.sql == "TEXT":  # json has no equality in PostgreSQL; xml neither
        return text_equality is Exactness.EXACT and not any(word in column_type.declared.lower() for word in ("json", "xml"))
    return column_type.sql in _EXACT_KEYS or column_type.sql.startswith("DECIMAL")


def _computes_exactly(aggregate: exp.Expression, argument: exp.Expression, types: dict[str, ColumnType], semantics: KindSemantics) -> bool:
    """Whether the source's ``COUNT``/``SUM``/``MIN``/``MAX`` of ``argument`` is the merge's.

    The argument is a column or ``+ - *`` arithmetic the source computes exactly; a sum of
    floats is taken in any order, a minimum or maximum of floats never (NaN sorts differently).
    """
    columns = [types.get(c.name) for c in argument.find_all(exp.Column)]
    if any(t is None or t.read_as_text or t.fixed_width for t in columns):
        return False
    if isinstance(argument, exp.Column):
        family: str | None = family_of(types[argument.name].sql)
    else:
        family = exact_value(argument, types, semantics)
    if family is None:
        return False
    if isinstance(aggregate, exp.Count):
        return True
    if isinstance(aggregate, exp.Sum):
        return family in ("integer", "decimal", "float")
    return family in ("integer", "decimal", "date", "timestamp")


def _unqualified(value: exp.Expression) -> exp.Expression:
    """``value`` with its columns named by frame name alone, as a source's SQL reads them."""
    return value.transform(lambda n: exp.column(n.name, quoted=True) if isinstance(n, exp.Column) else n, copy=True)


def split_aggregation(
    query: exp.Select, scan_name: str, types: Mapping[str, str], dialect: str = "postgres"
) -> AggregationSplit | None:
    """Cut a qualified aggregation over ``scan_name`` (columns of ``types``) into partial and final queries; None when it cannot be.

    >>> import sqlglot
    >>> query = sqlglot.parse_one('SELECT MEDIAN("t"."p") AS "m" FROM "__piot_t0" AS "t"')
    >>> split_aggregation(query, "__piot_t0", {"p": "INT"}) is None
    True
    >>> query = sqlglot.parse_one('SELECT COUNT(DISTINCT "t"."p") AS "n", COUNT(*) AS "c" FROM "__piot_t0" AS "t"')
    >>> split = split_aggregation(query, "__piot_t0", {"p": "INT"})
    >>> split.partial.sql(), split.final.sql()
    ('SELECT "t"."p" AS "__piot_d0", COUNT(*) AS "__piot_p0" FROM "fragment" AS "t" GROUP BY "t"."p"', 'SELECT COUNT(DISTINCT "t"."__piot_d0") AS "n", COALESCE(SUM("t"."__piot_p0"), 0) AS "c" FROM "__piot_t0" AS "t"')
    """
    from_ = query.args.get("from_")
    table = from_.this if from_ is not None else None
    if not (isinstance(table, exp.Table) and table.name == scan_name) or any(query.find(kind) for kind in _NOT_FOLDABLE):
        return None
    group = query.args.get("group")
    if group is not None and any(group.args.get(k) for k in _GROUPING_SETS):
        return None
    if group is None and not query.find(exp.AggFunc):
        return None
    alias = table.alias_or_name
    try:
        typed = annotate_types(query.copy(), schema={scan_name: {schema_key(k): v for k, v in types.items()}}, dialect=dialect)
    except SqlglotError:
        return None
    builder = _Folding(alias)
    final = typed.copy()
    group = final.args.get("group")
    keys = [builder.key(g) for g in group.expressions] if group is not None else []
    if any(k is None for k in keys):
        return None
    for clause in ("expressions", "having", "order"):
        for node in _clause_nodes(final, clause):
            for aggregate in list(node.find_all(exp.AggFunc)):
                if aggregate.find_ancestor(exp.AggFunc) is not None:
                    return None  # an aggregate inside another
                folded = builder.fold(aggregate)
                if folded is None:
                    return None
                (aggregate.parent if isinstance(aggregate.parent, exp.Filter) else aggregate).replace(folded)
    for clause in ("expressions", "having", "order"):
        for node in _clause_nodes(final, clause):
            replaced = node.transform(builder.replace_key, copy=False)
            if replaced is not node:
                node.replace(replaced)
    final.set("where", None)
    final.set("group", exp.Group(expressions=[exp.column(k, table=alias, quoted=True) for k in keys]) if keys else None)
    if any(c.table == alias and c.name not in builder.types for c in final.find_all(exp.Column)):
        return None  # a column neither grouped nor aggregated: not foldable (PostgreSQL refuses most of these)
    partial = exp.select(*builder.partial_columns).from_(exp.alias_(exp.table_(FRAGMENT_FRAME, quoted=True), alias, quoted=True))
    grouped = [g.copy() for g in (group.expressions if group is not None else [])] + builder.distinct_values
    if grouped:
        partial = partial.group_by(*grouped, copy=False)
    for node in partial.walk():  # sqlglot's types on the copies must not leak into the task's typing
        if isinstance(node, exp.Expression):
            node.type = None
    return AggregationSplit(partial, final, dict(builder.types))


def _clause_nodes(query: exp.Select, clause: str) -> list[exp.Expression]:
    value = query.args.get(clause)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


class _Folding:
    """The partial columns of an aggregation being split, named in order: keys ``__piot_k``, distinct values ``__piot_d``, partials ``__piot_p``."""

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self.partial_columns: list[exp.Expression] = []
        self.types: dict[str, str] = {}
        self.distinct_values: list[exp.Expression] = []
        self._names: dict[str, str] = {}
        self._keys: dict[exp.Expression, str] = {}

    def _column(self, prefix: str, value: exp.Expression, type_sql: str) -> str:
        """The partial column computing ``value`` (the same one for the same SQL)."""
        text = prefix + value.sql()
        if text not in self._names:
            name = f"__piot_{prefix}{sum(n.startswith(f'__piot_{prefix}') for n in self.types)}"
            self._names[text] = name
            self.types[name] = type_sql
            self.partial_columns.append(exp.alias_(value.copy(), name, quoted=True))
            if prefix == "d":
                self.distinct_values.append(value.copy())
        return self._names[text]

    def _ref(self, name: str) -> exp.Column:
        return exp.column(name, table=self.alias, quoted=True)

    def key(self, value: exp.Expression) -> str | None:
        """The partial column holding GROUP BY key ``value``."""
        type_sql = _type_sql(value)
        if type_sql is None:
            return None
        name = self._column("k", value, type_sql)
        self._keys[value] = name
        return name

    def replace_key(self, node: exp.Expression) -> exp.Expression:
        """A GROUP BY key outside the aggregates as its partial column (for ``transform``)."""
        name = self._keys.get(node)
        return self._ref(name) if name is not None and not isinstance(node, exp.Literal) else node

    def fold(self, aggregate: exp.AggFunc) -> exp.Expression | None:
        """The merge's expression finishing ``aggregate`` (with its FILTER, if any); None when it does not fold."""
        if not isinstance(aggregate, _FOLDABLE):
            return None
        whole = aggregate.parent if isinstance(aggregate.parent, exp.Filter) else aggregate
        value = aggregate.this
        if isinstance(value, exp.Distinct):
            if len(value.expressions) != 1 or whole is not aggregate or isinstance(aggregate, exp.Avg | exp.Sum) and not _is_number(value.expressions[0]):
                return None
            inner = value.expressions[0]
            type_sql = _type_sql(inner)
            if type_sql is None or inner.find(exp.AggFunc):
                return None
            folded = aggregate.copy()
            folded.set("this", exp.Distinct(expressions=[self._ref(self._column("d", inner, type_sql))]))
            return folded
        if value is not None and value.find(exp.AggFunc):
            return None
        if isinstance(aggregate, exp.Count):
            return exp.func("COALESCE", exp.func("SUM", self._ref(self._column("p", whole, "BIGINT"))), exp.Literal.number(0))
        if isinstance(aggregate, exp.Sum | exp.Avg) and not _is_number(value):
            return None
        type_sql = _type_sql(value)
        if type_sql is None:
            return None
        if isinstance(aggregate, exp.Sum | exp.Avg) and value.type.this in exp.DataType.INTEGER_TYPES:
            type_sql = "BIGINT"
        if isinstance(aggregate, exp.Avg):
            total = self._column("p", _with_filter(exp.Sum(this=value.copy()), whole), type_sql)
            count = self._column("p", _with_filter(exp.Count(this=value.copy()), whole), "BIGINT")
            average = exp.Div(this=exp.cast(exp.func("SUM", self._ref(total)), "DOUBLE"), expression=exp.func("SUM", self._ref(count)))
            average.meta[CANNOT_OVERFLOW] = True  # a finite sum over a count of at least one stays finite
            return average
        name = self._column("p", whole, type_sql)
        return type(aggregate)(this=self._ref(name))


def _with_filter(aggregate: exp.AggFunc, whole: exp.Expression) -> exp.Expression:
    """``aggregate`` under the FILTER clause of ``whole`` (the aggregate it stands for), if it has one."""
    if isinstance(whole, exp.Filter):
        return exp.Filter(this=aggregate, expression=whole.expression.copy())
    return aggregate


def _type_sql(value: exp.Expression) -> str | None:
    """The SQL type sqlglot gave ``value``, or None when it does not know it."""
    found = value.type
    if found is None or found.this in (_T.UNKNOWN, _T.NULL):
        return None
    return found.sql()


def _is_number(value: exp.Expression | None) -> bool:
    return value is not None and value.type is not None and value.type.this in _NUMBERS


def _partial_schema(task_sql: str, schema: tuple[tuple[str, pl.DataType], ...]) -> tuple[tuple[str, pl.DataType], ...] | None:
    """The columns and Polars types the task's SQL ships, found by running it over no rows; None when Polars refuses it."""
    empty = pl.DataFrame(schema=dict(schema))
    try:
        shipped = pl.SQLContext(frames={FRAGMENT_FRAME: empty.lazy()}, register_globals=False).execute(task_sql).collect_schema()
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException):
        return None
    return tuple(shipped.items())
