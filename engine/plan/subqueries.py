"""Open derived tables and CTEs, so that the bounds and filters written around them reach their tables' scans.

A BI tool wraps the user's query (``SELECT ... FROM (SELECT * FROM t) AS virtual_table WHERE d >= ...``),
and people write CTEs: the bound then sits in a SELECT that reads no catalog table, and the scan
of ``t`` would read the table whole. On the qualified tree, in three steps:

1. A CTE named more than once whose body is a plain SELECT (no grouping, DISTINCT, LIMIT, window
   or volatile function) is written out as a derived table at each use. Each copy reads its table
   under a scan name of its own; copies that read the same rows are still read once
   (:mod:`piot.plan.column_sharing`).
2. sqlglot's ``merge_subqueries`` merges derived tables and CTEs into the SELECT that reads them.
   It already refuses LIMIT/OFFSET, DISTINCT, GROUP BY, aggregates, windows under a filter, set
   operations and recursive CTEs; piot also holds back what it does not check: a computed column on
   the NULL-padded side of an outer join (padding must still give NULL), a volatile function
   (it would run once per use), a computed column that a correlated subquery compares (the merge
   decorrelates only ``inner.x = outer.y``), and a subquery correlated with it that names one of
   its own tables like one of the merged tables (the correlation would read the wrong table).
3. Into a derived table or CTE that stays (GROUP BY, DISTINCT, ...), each outer conjunct on it
   (WHERE and inner-join ON, never on a NULL-padded side) is copied, written over the inner
   columns: into its WHERE when every column it reads is a grouping key or the SELECT does not
   aggregate. Never through LIMIT/OFFSET, DISTINCT ON, window functions, set operations, a CTE
   read twice, or a volatile function. The outer conjunct is kept: bounds are added, never moved.

Example:
    >>> import sqlglot
    >>> from sqlglot.optimizer.qualify import qualify
    >>> def unfold(sql):
    ...     schema = {"t": {"id": "INT", "d": "DATE", "region": "TEXT"}}
    ...     return unfolded(qualify(sqlglot.parse_one(sql), schema=schema, quote_identifiers=False))[0].sql()
    >>> unfold("select region from (select * from t) as v where v.d >= date '2024-01-01'")
    "SELECT t.region AS region FROM t AS t WHERE t.d >= CAST('2024-01-01' AS DATE)"
    >>> unfold("select n from (select d, count(*) as n from t group by d) as v where v.d >= date '2024-01-01'")
    "SELECT v.n AS n FROM (SELECT t.d AS d, COUNT(*) AS n FROM t AS t WHERE t.d >= CAST('2024-01-01' AS DATE) GROUP BY t.d) AS v WHERE v.d >= CAST('2024-01-01' AS DATE)"
    >>> unfold("select id from (select * from t limit 5) as v where v.d >= date '2024-01-01'")
    "SELECT v.id AS id FROM (SELECT t.id AS id, t.d AS d, t.region AS region FROM t AS t LIMIT 5) AS v WHERE v.d >= CAST('2024-01-01' AS DATE)"
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlglot import exp
from sqlglot.optimizer.merge_subqueries import merge_subqueries
from sqlglot.optimizer.pushdown_predicates import replace_aliases
from sqlglot.optimizer.qualify_columns import quote_identifiers
from sqlglot.optimizer.scope import Scope, build_scope, traverse_scope

from piot.plan.filters import filter_conjuncts, nullable_aliases
from piot.plan.tables import TableReference

if TYPE_CHECKING:
    from piot.plan.state import PlanningState

#: functions whose value may differ between two calls (an unknown function may be one)
_VOLATILE = (exp.Rand, exp.Randn, exp.Randstr, exp.Uuid, exp.NextValueFor, exp.Anonymous)
#: SELECT parts that choose rows before an outer condition runs, or that sqlglot does not merge
_NOT_PLAIN = ("distinct", "group", "having", "qualify", "windows", "limit", "offset", "sample", "connect", "laterals", "pivots")


def unfold_subqueries(state: PlanningState) -> PlanningState:
    """Rule: merge derived tables and CTEs into the query that reads them, or copy its conditions into them."""
    query, references = unfolded(state.query, state.references)
    query = quote_identifiers(query, dialect=state.statement.dialect)  # names the merge made up (``t_2``) too
    return replace(state, query=query, references=references)


def unfolded(query: exp.Query, references: Sequence[TableReference] = ()) -> tuple[exp.Query, tuple[TableReference, ...]]:
    """A copy of the qualified ``query`` with its subqueries opened (see the module), and the references it reads.

    A CTE written out at several uses adds a reference per extra copy, reading the same table.
    """
    query = query.copy()
    references = _inline_shared_ctes(query, tuple(references))
    with _held_back(_unmergeable(query)):
        query = merge_subqueries(query)
    _copy_conditions(query)
    return query, references


# -- 1. CTEs read more than once --------------------------------------------------------------------------------
def _inline_shared_ctes(query: exp.Query, references: tuple[TableReference, ...]) -> tuple[TableReference, ...]:
    """Write out each plain CTE read more than once as a derived table at every use; return the references then read.

    One CTE at a time, the scopes found anew after each: a CTE may read another.
    """
    while (shared := _shared_cte(query)) is not None:
        cte, tables = shared
        body = cte.this
        for index, table in enumerate(tables):
            copy = body.copy()
            if index:
                references = _renamed_scans(copy, references)
            alias = exp.TableAlias(this=exp.to_identifier(table.alias_or_name, quoted=True))
            table.replace(exp.Subquery(this=copy, alias=alias))
        with_ = cte.parent
        cte.pop()
        if isinstance(with_, exp.With) and not with_.expressions:
            with_.pop()
    return references


def _shared_cte(query: exp.Query) -> tuple[exp.CTE, list[exp.Table]] | None:
    """The first plain, non-recursive CTE read more than once, and the tables that read it."""
    root = build_scope(query)
    uses: dict[int, tuple[Scope, list[exp.Table]]] = {}
    for scope in root.traverse() if root is not None else ():
        for node, source in scope.selected_sources.values():
            if isinstance(source, Scope) and source.is_cte and isinstance(node, exp.Table):
                uses.setdefault(id(source), (source, []))[1].append(node)
    for source, tables in uses.values():
        cte = source.expression.parent
        if len(tables) > 1 and isinstance(cte, exp.CTE) and not _recursive(cte) and _plain(source.expression):
            return cte, tables
    return None


def _recursive(cte: exp.CTE) -> bool:
    with_ = cte.parent
    return isinstance(with_, exp.With) and bool(with_.args.get("recursive"))


def _plain(select: exp.Expression) -> bool:
    """A SELECT ... FROM ... [JOIN] [WHERE] without grouping, DISTINCT, LIMIT, window or volatile function."""
    if not isinstance(select, exp.Select) or select.args.get("from_") is None:
        return False
    if any(select.args.get(part) for part in _NOT_PLAIN):
        return False
    return not select.find(exp.AggFunc, exp.Window, *_VOLATILE)


def _renamed_scans(body: exp.Expression, references: tuple[TableReference, ...]) -> tuple[TableReference, ...]:
    """Give each scan that ``body`` (a copy) reads a new scan name and reference; return the references then."""
    by_name = {ref.scan_name: ref for ref in references}
    added: list[TableReference] = []
    for table in body.find_all(exp.Table):
        ref = by_name.get(table.name)
        if ref is None or table.args.get("db") or table.args.get("catalog"):
            continue
        scan_name = _scan_name(ref.scan_name, len(references) + len(added))
        table.set("this", exp.to_identifier(scan_name, quoted=True))
        added.append(TableReference(scan_name, ref.alias, ref.table))
    return references + tuple(added)


def _scan_name(existing: str, number: int) -> str:
    """The scan name numbered ``number``, in the form of ``existing``.

    >>> _scan_name("__piot_t0", 3)
    '__piot_t3'
    """
    return existing.rstrip("0123456789") + str(number)


# -- 2. merging, with what sqlglot does not check held back ------------------------------------------------------
def _unmergeable(query: exp.Query) -> list[exp.Select]:
    """The SELECTs of derived tables and CTEs whose merge would change the answer, in ways sqlglot does not check."""
    scopes = traverse_scope(query)
    return [
        source.expression
        for scope in scopes
        for alias, (_, source) in scope.selected_sources.items()
        if isinstance(source, Scope)
        and isinstance(source.expression, exp.Select)
        and _merge_changes(scope, alias, source, scopes)
    ]


def _merge_changes(outer: Scope, alias: str, inner: Scope, scopes: Sequence[Scope]) -> bool:
    """Whether merging ``inner`` (read as ``alias`` by ``outer``) would change the answer.

    - a volatile function would run once per use instead of once per row;
    - on the NULL-padded side of an outer join, a computed column would no longer be NULL on padding;
    - a correlated subquery comparing a computed column could no longer be decorrelated;
    - a correlated subquery naming one of its own tables like a table of ``inner`` would read its
      own table where it read ``inner``'s (sqlglot renames only the clashes within ``outer``).
    """
    select = inner.expression
    if select.find(*_VOLATILE):
        return True
    computed = {s.alias_or_name for s in select.selects if not isinstance(s.unalias(), exp.Column)}
    if computed and alias in nullable_aliases(outer.expression):
        return True
    nested = [s for s in scopes if _within(s, outer) and s is not inner and not _within(s, inner)]
    correlated = {c.name for s in nested for c in s.external_columns if c.table == alias}
    if computed & correlated:
        return True
    inner_names = {name for s in scopes if s is inner or _within(s, inner) for name in s.selected_sources}
    return bool(correlated) and any(inner_names & set(s.selected_sources) for s in nested)


def _within(inner: Scope, outer: Scope) -> bool:
    """Whether ``inner`` is nested (at any depth) inside ``outer``."""
    scope: Scope | None = inner.parent
    while scope is not None:
        if scope is outer:
            return True
        scope = scope.parent
    return False


@contextmanager
def _held_back(selects: list[exp.Select]) -> Iterator[None]:
    """While inside, sqlglot's merge leaves ``selects`` alone (a QUALIFY, which it never merges, marks them)."""
    marked = [s for s in selects if s.args.get("qualify") is None]
    for select in marked:
        select.set("qualify", exp.Qualify(this=exp.true()))
    try:
        yield
    finally:
        for select in marked:
            select.set("qualify", None)


# -- 3. conditions copied into what stays ------------------------------------------------------------------------
def _copy_conditions(query: exp.Query) -> None:
    """Copy each outer conjunct on a derived table or CTE into it where that keeps the answer, outermost first."""
    root = build_scope(query)
    if root is None:
        return
    reads = root.ref_count()
    for scope in reversed(list(root.traverse())):
        select = scope.expression
        if not isinstance(select, exp.Select):
            continue
        terms = filter_conjuncts(select)
        nullable = nullable_aliases(select)
        for alias, (_, source) in scope.selected_sources.items():
            if alias in nullable or not isinstance(source, Scope) or reads[id(source)] != 1 or not _open_to_conditions(source):
                continue
            inner = source.expression
            present = {c.sql() for c in filter_conjuncts(inner)}
            for term in terms:
                inner_term = _inner_condition(term, alias, inner)
                if inner_term is not None and inner_term.sql() not in present:
                    inner.where(inner_term, copy=False)
                    present.add(inner_term.sql())
            source.clear_cache()


def _open_to_conditions(source: Scope) -> bool:
    """Whether a condition on the rows of ``source`` may filter the rows it reads instead."""
    inner = source.expression
    if not isinstance(inner, exp.Select) or inner.args.get("from_") is None:
        return False
    if isinstance(inner.parent, exp.CTE) and _recursive(inner.parent):
        return False
    if any(inner.args.get(part) for part in ("limit", "offset", "qualify", "windows", "sample", "connect", "laterals", "pivots")):
        return False
    distinct = inner.args.get("distinct")
    if distinct is not None and distinct.args.get("on") is not None:
        return False
    group = inner.args.get("group")
    if group is not None and any(group.args.get(k) for k in ("grouping_sets", "cube", "rollup", "totals", "all")):
        return False
    aggregates = any(s.find(exp.AggFunc) for s in inner.selects) or inner.args.get("having") is not None
    if aggregates and group is None:
        return False  # one row from all the rows: a condition on it is no condition on them
    return not any(s.find(exp.Window, *_VOLATILE) for s in inner.selects)


def _inner_condition(term: exp.Expression, alias: str, inner: exp.Select) -> exp.Expression | None:
    """``term``, a condition on ``alias`` alone, written over the columns ``inner`` reads; None where it may not go in."""
    columns = list(term.find_all(exp.Column))
    if not columns or {c.table for c in columns} != {alias} or term.find(exp.Subquery, exp.Select, exp.Exists, *_VOLATILE):
        return None
    projections = {s.alias_or_name: s.unalias() for s in inner.selects}
    group = inner.args.get("group")
    keys = list(group.expressions) if group is not None else None
    for column in columns:
        projection = projections.get(column.name)
        if projection is None or projection.find(exp.AggFunc, exp.Window):
            return None
        if keys is not None and all(projection != key for key in keys):
            return None  # not a grouping key: its rows are not the group's rows
    return replace_aliases(inner, term.copy())
