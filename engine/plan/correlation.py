"""Correlated subqueries the merge can run: Polars decorrelates only ``inner.x OP outer.y``.

Any other use of an outer column inside a subquery is refused by name before anything is read.

Example:
    >>> import sqlglot
    >>> from sqlglot.optimizer.scope import traverse_scope
    >>> ok = sqlglot.parse_one("select a.x from a where a.y > (select max(b.y) from b where b.x = a.x)")
    >>> check_correlations(list(traverse_scope(ok)))
    >>> bad = sqlglot.parse_one("select a.x from a where a.y > (select max(b.y) from b where b.x = a.x + 1)")
    >>> check_correlations(list(traverse_scope(bad)))
    Traceback (most recent call last):
    piot.errors.NotSupportedError: correlated subquery: the outer column a.x is used in a.x + 1; the merge runs correlated subqueries only when they compare an inner column with an outer one (inner.x = outer.y)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlglot import exp
from sqlglot.optimizer.scope import Scope

from piot.errors import NotSupportedError

if TYPE_CHECKING:
    from piot.plan.state import PlanningState

_CORRELATIONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)


def check_correlations(scopes: Sequence[Scope]) -> None:
    """Raise NotSupportedError for an outer column used otherwise than compared with an inner column."""
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


def check_correlated_subqueries(state: PlanningState) -> PlanningState:
    """Rule: refuse the correlated subqueries the merge cannot run (the state is returned unchanged)."""
    check_correlations(state.scopes)
    return state
