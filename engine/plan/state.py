"""What planning knows after each rule: the query tree and what earlier rules found in it.

Each rule of :mod:`piot.plan.pipeline` takes a :class:`PlanningState` and returns a new one;
a rule that rewrites the tree rewrites a copy, so an earlier state never changes under a
later rule. The last state holds everything :class:`Plan` is made of.

Example:
    >>> import sqlglot
    >>> from piot.sql.statement import parse_statement
    >>> state = PlanningState.start(parse_statement("select 1 as one"), lookup=None, options=PlanOptions())
    >>> state.query.sql(), state.references, state.scans
    ('SELECT 1 AS one', (), ())
    >>> state.with_query(sqlglot.parse_one("select 2 as two")).query.sql(), state.query.sql()
    ('SELECT 2 AS two', 'SELECT 1 AS one')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, traverse_scope

from piot.connectors.introspect import TableInfo
from piot.plan.fragments import Fragment, Scan
from piot.plan.periods import MAX_PERIODS
from piot.plan.split import SplitOptions
from piot.plan.statistics import Statistics
from piot.plan.tables import Lookup, TableReference, frame_columns, schema_key
from piot.sql.statement import Statement

if TYPE_CHECKING:
    from piot.plan.scan_reads import ScanRead


@dataclass(frozen=True)
class PlanOptions:
    """Connection-level planning settings.

    Attributes:
        time_unit: default unit for tables without one in the catalog (None means auto).
        split: False reads every table whole (one fragment per table reference).
        timezone: the zone wall times meet instants in (TIMESTAMPTZ columns, their periods).
        max_periods: the most fragments one scan is cut into (the unit is coarsened past it).
    """

    time_unit: str | None = None
    split: bool = True
    timezone: str = "UTC"
    max_periods: int = MAX_PERIODS

    @property
    def split_options(self) -> SplitOptions:
        """The settings the split of each scan needs."""
        return SplitOptions(self.time_unit, self.split, self.max_periods, self.timezone)


@dataclass(frozen=True)
class Plan:
    """What runs: the scans with their fragments, then the merge SQL over the scans' rows.

    ``row_limit``: once this many rows have arrived, the run may stop (see :mod:`piot.plan.row_limit`).
    """

    scans: tuple[Scan, ...]
    merge_sql: str
    columns: tuple[str, ...]
    row_limit: int | None = None

    @property
    def fragments(self) -> tuple[Fragment, ...]:
        """Every fragment of every scan."""
        return tuple(f for scan in self.scans for f in scan.fragments)


@dataclass(frozen=True, eq=False)
class PlanningState:
    """The statement being planned, its current tree, and what the rules so far found.

    Attributes:
        statement: the parsed statement (its query is never changed; error positions point into it).
        lookup: table metadata by ``(source, schema, table)``.
        options: the planning settings.
        statistics: answers where a far-bounded scan's rows are (None: cut coarser instead).
        query: the tree as the rules so far left it.
        references: one per catalog table of the query, in order (set by table resolution).
        columns: the output column names (set once they are distinct).
        reads: what each reference reads, before its fragments are written.
        scans: the scans with their fragments.
        merge_sql: the SQL the merge runs over the scans' rows.
        row_limit: the rows after which the run may stop, for a LIMIT that needs no more.
        output_types: per scan whose fragments ship something else than its rows (partial
            aggregates), the SQL types of what they ship: the merge's schema for that scan.
    """

    statement: Statement
    lookup: Lookup
    options: PlanOptions
    query: exp.Query
    statistics: Statistics | None = None
    references: tuple[TableReference, ...] = ()
    columns: tuple[str, ...] = ()
    reads: tuple[ScanRead, ...] = ()
    scans: tuple[Scan, ...] = ()
    merge_sql: str = ""
    row_limit: int | None = None
    output_types: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @classmethod
    def start(
        cls, statement: Statement, lookup: Lookup, options: PlanOptions, statistics: Statistics | None = None
    ) -> PlanningState:
        """The state before any rule: a copy of the statement's query."""
        return cls(statement, lookup, options, statement.query.copy(), statistics)

    def with_query(self, query: exp.Query) -> PlanningState:
        """The same state over another tree (its scopes are found anew)."""
        return replace(self, query=query)

    @cached_property
    def scopes(self) -> tuple[Scope, ...]:
        """The scopes of the current tree, innermost first (found once per tree)."""
        return tuple(traverse_scope(self.query))

    @property
    def tables(self) -> dict[str, TableInfo]:
        """Scan name -> the table it reads."""
        return {ref.scan_name: ref.table for ref in self.references}

    @property
    def schema(self) -> dict[str, dict[str, str]]:
        """Scan name -> column -> SQL type, the schema sqlglot qualifies and types the tree with (what fragments ship)."""
        return {
            ref.scan_name: (
                {schema_key(name): sql for name, sql in self.output_types[ref.scan_name].items()}
                if ref.scan_name in self.output_types
                else {schema_key(name): c.type.sql for name, c in frame_columns(ref.table).items()}
            )
            for ref in self.references
        }

    @property
    def plan(self) -> Plan:
        """The plan the state holds."""
        return Plan(scans=self.scans, merge_sql=self.merge_sql, columns=self.columns, row_limit=self.row_limit)
