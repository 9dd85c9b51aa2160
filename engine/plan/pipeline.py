"""The planning rules, in the order they run, and the loop that runs them.

Like sqlglot's ``optimizer.RULES``, :data:`RULES` is the one place that says what planning
does and in which order. Each rule takes a :class:`~piot.plan.state.PlanningState` and returns
a new one (a rule that rewrites the tree rewrites a copy):

1. ``type_values``: untyped quoted constants of a VALUES column take the column's type.
2. ``check_time_literals``: typed DATE/TIMESTAMP literals are real dates, written in ISO form.
3. ``check_decimal_types``: every NUMERIC(p, s) fits what the merge holds.
4. ``normalize``: row comparisons and symmetric BETWEEN become plain SQL; what piot cannot
   read whole (TABLESAMPLE, parenthesised joins, row IN subquery) is refused.
5. ``resolve_references``: catalog tables become scan names (``__piot_t0``); the references
   and their table metadata are recorded (:mod:`piot.plan.tables`).
6. ``name_outputs``: computed output columns are named by their SQL text (:mod:`piot.plan.output_names`).
7. ``qualify_columns``: sqlglot's ``qualify`` over the references' schema; unknown names are
   ProgrammingErrors pointing into the user's SQL (:mod:`piot.plan.qualify`).
8. ``dedupe_outputs``: output names made distinct, recorded as the plan's columns.
9. ``check_correlated_subqueries``: only correlations the merge decorrelates (:mod:`piot.plan.correlation`).
10. ``check_opaque``: columns read as text are only shown (:mod:`piot.plan.opaque_columns`).
11. ``unfold_subqueries``: derived tables and CTEs are merged into the SELECT that reads them, or its
    conditions are copied into them, so their tables' scans get bounds (:mod:`piot.plan.subqueries`).
12. ``type_date_literals``: text next to a DATE/TIMESTAMP(TZ) column takes its type (:mod:`piot.plan.date_literals`).
13. ``replace_infinite_times``: comparisons with an infinite date are resolved.
14. ``read_scans``: per reference, the columns, filters, pushdown decisions and periods (:mod:`piot.plan.scan_reads`).
15. ``share_columns``: references reading the same rows read one column list (:mod:`piot.plan.column_sharing`).
16. ``fold_aggregates``: an aggregation over one exactly read table ships partial results per
    fragment, computed by the source or the task, which the merge folds (:mod:`piot.plan.partial_aggregates`).
17. ``keep_first_rows``: ORDER BY ... LIMIT over one exactly read table ships each fragment's
    first rows only, ordered by the source or the task (:mod:`piot.plan.top_rows`).
18. ``build_scans``: each read's fragments, in its source's dialect (:mod:`piot.plan.scans`).
19. ``early_limit``: a LIMIT that needs no more rows may stop the run early (:mod:`piot.plan.row_limit`).
20. ``write_merge_sql``: the typed tree written for Polars with PostgreSQL's meaning (:mod:`piot.plan.merge_sql`).

Example:
    >>> [rule.__name__ for rule in RULES][:5]
    ['type_values', 'check_time_literals', 'check_decimal_types', 'normalize', 'resolve_references']
    >>> from piot.sql.statement import parse_statement
    >>> from piot.plan.state import PlanOptions
    >>> state = run_rules(PlanningState.start(parse_statement("select pi(), 2 as x, 3 as x"), None, PlanOptions()))
    >>> state.columns, state.merge_sql
    (('pi()', 'x', 'x_1'), 'SELECT PI() AS "pi()", 2 AS "x", 3 AS "x_1"')
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlglot import exp

from piot.plan.column_sharing import share_columns
from piot.plan.correlation import check_correlated_subqueries
from piot.plan.date_literals import type_date_literals
from piot.plan.merge_sql import write_merge_sql
from piot.plan.opaque_columns import check_opaque
from piot.plan.output_names import dedupe_outputs, name_outputs
from piot.plan.partial_aggregates import fold_aggregates
from piot.plan.qualify import qualify_columns
from piot.plan.row_limit import early_limit
from piot.plan.scan_reads import read_scans
from piot.plan.scans import build_scans
from piot.plan.state import PlanningState
from piot.plan.subqueries import unfold_subqueries
from piot.plan.tables import resolve_references
from piot.plan.top_rows import keep_first_rows
from piot.sql.literals import check_time_literals, replace_infinite_times
from piot.sql.normalize import normalize
from piot.sql.type_limits import check_decimal_types
from piot.sql.values_types import type_values

#: a planning rule: the state before it in, the state after it out
Rule = Callable[[PlanningState], PlanningState]


def on_a_copy(rewrite: Callable[[exp.Expression], exp.Expression]) -> Rule:
    """The rule applying ``rewrite``, an in-place tree rewrite of :mod:`piot.sql`, to a copy of the state's tree."""

    def rule(state: PlanningState) -> PlanningState:
        return state.with_query(rewrite(state.query.copy()))  # type: ignore[arg-type]

    rule.__name__ = rule.__qualname__ = rewrite.__name__
    rule.__doc__ = rewrite.__doc__
    rule.rewrite = rewrite  # type: ignore[attr-defined]  # run_rules chains consecutive rewrites on one copy
    return rule


RULES: tuple[Rule, ...] = (
    on_a_copy(type_values),
    on_a_copy(check_time_literals),
    on_a_copy(check_decimal_types),
    on_a_copy(normalize),
    resolve_references,
    name_outputs,
    qualify_columns,
    dedupe_outputs,
    check_correlated_subqueries,
    check_opaque,
    unfold_subqueries,
    type_date_literals,
    on_a_copy(replace_infinite_times),
    read_scans,
    share_columns,
    fold_aggregates,
    keep_first_rows,
    build_scans,
    early_limit,
    write_merge_sql,
)


def run_rules(state: PlanningState, rules: Sequence[Rule] = RULES, *, private: bool = False) -> PlanningState:
    """The state after every rule of ``rules`` ran, in order.

    Consecutive :func:`on_a_copy` rules rewrite one copy of the tree between them: the states
    in between are never seen outside this loop, so only the tree handed in (and any tree a
    state the caller can see holds) must stay as it was. A copy of a TPC-H query's tree costs
    about as much as the rewrite itself. ``private``: no one but this loop will look at the tree of
    ``state`` (a state just started from its statement), so a first rewrite may change it in place.
    """
    for rule in rules:
        rewrite = getattr(rule, "rewrite", None)
        if rewrite is not None:
            state = state.with_query(rewrite(state.query if private else state.query.copy()))
            private = True  # the state's tree is a copy made here, held by no state the caller sees
        else:
            state = rule(state)
            private = False
    return state
