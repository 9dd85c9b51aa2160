"""Output column names: every computed output gets its SQL text as name, and the names are made distinct.

PostgreSQL names ``sum(price)`` ``sum``; piot names it by its text, so that two aggregates of a
query never share a name, and a name that still repeats (``select a.x, b.x``) gets ``_1``,
``_2``... as the merge's frames need distinct names.

Example:
    >>> import sqlglot
    >>> named_outputs(sqlglot.parse_one("select x, sum(p), 1 + 2 as three from t"), "postgres").sql()
    'SELECT x, SUM(p) AS "sum(p)", 1 + 2 AS three FROM t'
    >>> query, names = distinct_outputs(sqlglot.parse_one("select a.x, b.x, b.x from a, b"))
    >>> query.sql(), names
    ('SELECT a.x, b.x AS "x_1", b.x AS "x_2" FROM a, b', ('x', 'x_1', 'x_2'))
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from sqlglot import exp

if TYPE_CHECKING:
    from piot.plan.state import PlanningState


def outer_select(query: exp.Expression) -> exp.Select | None:
    """The SELECT whose list names the query's output (the first branch of a set operation).

    >>> import sqlglot
    >>> outer_select(sqlglot.parse_one("select a from t union select b from u")).sql()
    'SELECT a FROM t'
    """
    while isinstance(query, exp.SetOperation):
        query = query.this
    if isinstance(query, exp.Subquery):
        return outer_select(query.this)
    return query if isinstance(query, exp.Select) else None


def named_outputs(query: exp.Query, dialect: str) -> exp.Query:
    """A copy of ``query`` with each unnamed computed output column aliased with its own SQL text (``sum(price)``)."""
    query = query.copy()
    select = outer_select(query)
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


def distinct_outputs(query: exp.Query) -> tuple[exp.Query, tuple[str, ...]]:
    """A copy of ``query`` whose outer select has distinct output names (``x``, ``x_1``), and those names in order."""
    query = query.copy()
    select = outer_select(query)
    if select is None:
        return query, ()
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
    return query, tuple(names)


def name_outputs(state: PlanningState) -> PlanningState:
    """Rule: name every computed output column by its SQL text."""
    return state.with_query(named_outputs(state.query, state.statement.dialect))


def dedupe_outputs(state: PlanningState) -> PlanningState:
    """Rule: make the output names distinct and record them as the plan's columns."""
    query, columns = distinct_outputs(state.query)
    return replace(state, query=query, columns=columns)
