"""Rule: a ``LIMIT`` without ``ORDER BY`` over one exactly filtered scan may stop reading early.

``SELECT ... FROM t WHERE ... LIMIT n OFFSET m`` may answer with any ``n`` rows past the first
``m``: once ``n + m`` rows have arrived from the fragments, the rest need not be read. That
holds only when the rows a fragment ships are exactly the query's rows (every WHERE conjunct
exact at the source, or widened and filtered again in the task: none kept back for the merge)
and nothing after the read needs all of them (no ORDER BY, GROUP BY, DISTINCT, aggregate,
window, join, set operation or subquery).

Example:
    >>> import sqlglot
    >>> limit_of(sqlglot.parse_one("select a from t where d > 1 limit 5 offset 2"))
    7
    >>> limit_of(sqlglot.parse_one("select a from t order by a limit 5")) is None
    True
"""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from piot.plan.exactness import Exactness
from piot.plan.pushdown import conjuncts
from piot.plan.state import PlanningState

_NEEDS_ALL_ROWS = (exp.Order, exp.Group, exp.Having, exp.Distinct, exp.Window, exp.AggFunc, exp.Join, exp.Subquery, exp.With, exp.Qualify)


def early_limit(state: PlanningState) -> PlanningState:
    """Rule: the rows after which the run may stop (None: it reads every fragment)."""
    limit = limit_of(state.query)
    if limit is None or len(state.reads) != 1:
        return replace(state, row_limit=None)
    read = state.reads[0]
    where = state.query.args.get("where")
    terms = conjuncts(where.this) if where is not None else []
    exact = len(terms) == len(read.decisions) and all(d.exactness is not Exactness.KEPT_BACK for _, d in read.decisions)
    return replace(state, row_limit=limit if exact else None)


def limit_of(query: exp.Expression) -> int | None:
    """``n + m`` for a plain ``SELECT ... LIMIT n [OFFSET m]`` over one table, else None."""
    if not isinstance(query, exp.Select) or any(query.find(kind) for kind in _NEEDS_ALL_ROWS):
        return None
    tables = list(query.find_all(exp.Table))
    limit, offset = query.args.get("limit"), query.args.get("offset")
    count = limit.expression if isinstance(limit, exp.Limit) else None
    if len(tables) != 1 or not (isinstance(count, exp.Literal) and count.is_int):
        return None
    skipped = offset.expression if isinstance(offset, exp.Offset) else exp.Literal.number(0)
    if not (isinstance(skipped, exp.Literal) and skipped.is_int):
        return None
    return int(count.this) + int(skipped.this)
