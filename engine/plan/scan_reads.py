"""What each table reference reads: the columns it needs, its filters and what each source does with them, its periods.

For each reference this finds the scope that reads it, the columns used there (and by the
subqueries correlated with it), the conjuncts that filter only it (:mod:`piot.plan.filters`),
what becomes of each in its source (:mod:`piot.plan.pushdown`) and how its range is cut
(:mod:`piot.plan.split`). The fragments are written later, once references that read the same
rows have shared their column lists (:mod:`piot.plan.column_sharing`).

Example:
    >>> import sqlglot
    >>> condition = sqlglot.parse_one("select 1 from t where t.Price > 1 and t.d = DATE '2024-01-01'").args["where"].this
    >>> for_frame(condition).sql()
    '"Price" > 1 AND "d" = CAST(\\'2024-01-01\\' AS DATE)'
    >>> for_source(condition, {"Price": "price"}).sql()
    '"price" > 1 AND "d" = CAST(\\'2024-01-01\\' AS DATE)'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sqlglot import exp
from sqlglot.optimizer.scope import Scope

from piot.connectors.introspect import TableInfo
from piot.errors import NotSupportedError
from piot.plan.exactness import semantics_of
from piot.plan.filters import scan_filters
from piot.plan.fragments import FragmentOutput, SourceAggregation, SourceOrder, SplitDecision
from piot.plan.periods import Period
from piot.plan.pushdown import Pushdown, decide
from piot.plan.split import split_scan
from piot.plan.tables import TableReference, frame_columns

if TYPE_CHECKING:
    from piot.plan.state import PlanningState


@dataclass(frozen=True)
class ScanRead:
    """What one table reference reads, before its column list is final.

    Attributes:
        ref: the table reference.
        alias: the query's name for the table in the scope that reads it.
        needed: the columns read, in the order the query uses them.
        decisions: each conjunct filtering only this table, with what its source does with it.
        split: how the scan is split, and why.
        periods: the periods the fragments read, ``[None]`` for a whole-table read.
        output: what each fragment ships (its rows, or partial aggregates).
        source_aggregation: the partial aggregates the source computes itself, if it does.
        source_order: the ORDER BY and LIMIT the source runs itself, if it does.
    """

    ref: TableReference
    alias: str
    needed: tuple[str, ...]
    decisions: tuple[tuple[exp.Expression, Pushdown], ...]
    split: SplitDecision
    periods: tuple[Period | None, ...]
    output: FragmentOutput = FragmentOutput()
    source_aggregation: SourceAggregation | None = None
    source_order: SourceOrder | None = None

    @property
    def rows_key(self) -> tuple[object, ...]:
        """Equal for references that read the same rows (same table, filters and periods)."""
        filters = tuple((d.condition, d.exactness, for_frame(c).sql(copy=False)) for c, d in self.decisions if d.condition is not None)
        return (self.ref.table.qualified_name, filters, self.split.column, self.periods)


def read_scans(state: PlanningState) -> PlanningState:
    """Rule: find what every table reference of the tree reads."""
    reads = tuple(_scan_read(ref, state.scopes, state) for ref in state.references)
    return replace(state, reads=reads)


def _scan_read(ref: TableReference, scopes: Sequence[Scope], state: PlanningState) -> ScanRead:
    scope, alias = _scope_of(ref.scan_name, scopes)
    table = ref.table
    types = {name: c.type for name, c in frame_columns(table).items()}
    needed = _needed_columns(alias, scope, scopes) or [next(iter(types))]
    own_conjuncts = scan_filters(scope.expression, alias, _type_of(scope, state.tables))
    semantics = semantics_of(table.source.kind.name)
    decisions = tuple((c, decide(c, types, semantics)) for c in own_conjuncts)
    split, periods = split_scan(table, types, own_conjuncts, alias, state.options.split_options, state.statistics)
    return ScanRead(ref, alias, tuple(needed), decisions, split, tuple(periods))


def _scope_of(scan_name: str, scopes: Sequence[Scope]) -> tuple[Scope, str]:
    """The scope whose FROM/JOIN names the scan, and the alias it goes by there.

    A derived table (a VALUES list, a subquery) joined after a table also lists that table
    among its sources (it could be LATERAL); the table belongs to the enclosing SELECT.
    """
    for scope in scopes:
        for alias, source in scope.sources.items():
            if isinstance(source, exp.Table) and source.name == scan_name and source.find_ancestor(exp.Select) is scope.expression:
                return scope, alias
    raise NotSupportedError(f"cannot place table reference {scan_name} in the query")


def _within(inner: Scope, outer: Scope) -> bool:
    """Whether ``inner`` is ``outer`` or nested inside it."""
    scope: Scope | None = inner
    while scope is not None:
        if scope is outer:
            return True
        scope = scope.parent
    return False


def _needed_columns(alias: str, scope: Scope, scopes: Sequence[Scope]) -> list[str]:
    """The columns of ``alias`` used in its scope and in the subqueries correlated with it, in order of use."""
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


def for_source(condition: exp.Expression, real_names: dict[str, str]) -> exp.Expression:
    """A copy of ``condition`` over the source's own column names, unqualified and quoted."""

    def rename(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column):
            return exp.column(real_names.get(node.name, node.name), quoted=True)
        return node

    return condition.transform(rename, copy=True)


def for_frame(condition: exp.Expression) -> exp.Expression:
    """A copy of ``condition`` over the frame's column names, unqualified and quoted."""
    return condition.transform(lambda n: exp.column(n.name, quoted=True) if isinstance(n, exp.Column) else n, copy=True)
