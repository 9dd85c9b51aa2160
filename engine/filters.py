"""The filters a table scan may use: its own conjuncts, and date bounds carried over join equalities.

A conjunct filters a table's rows when it sits in the WHERE clause, or in the ON clause of
an inner join, and reads only that table. Through an equality between two tables'
columns (``a.d = b.d``), a date bound on one side (``b.d BETWEEN ...``) holds for the
other side too, so both scans can split and push it. Tables on the NULL-padded side of
an outer join get nothing: a filter there would change which rows are padded.

Example:
    >>> import sqlglot
    >>> q = sqlglot.parse_one(
    ...     "select 1 from f as a join d as b on a.d = b.d where b.d between cast('2024-01-01' as date) and cast('2024-03-31' as date)"
    ... )
    >>> [c.sql() for c in scan_filters(q, "a")]
    ["a.d BETWEEN CAST('2024-01-01' AS DATE) AND CAST('2024-03-31' AS DATE)"]
"""

from __future__ import annotations

from sqlglot import exp

from piot.pushdown import conjuncts

_BOUNDS = (exp.GT, exp.GTE, exp.LT, exp.LTE, exp.EQ, exp.Between)
_TEMPORAL_TYPES = {exp.DataType.Type.DATE, exp.DataType.Type.TIMESTAMP}


def nullable_aliases(select: exp.Expression) -> set[str]:
    """Aliases on the NULL-padded side of an outer join in this SELECT."""
    if not isinstance(select, exp.Select):
        return set()
    nullable: set[str] = set()
    earlier = [select.args["from_"].this.alias_or_name] if select.args.get("from_") else []
    for join in select.args.get("joins") or []:
        side = (join.side or "").upper()
        name = join.this.alias_or_name
        if side in ("LEFT", "FULL"):
            nullable.add(name)
        if side in ("RIGHT", "FULL"):
            nullable.update(earlier)
        earlier.append(name)
    return nullable


def filter_conjuncts(select: exp.Expression) -> list[exp.Expression]:
    """The AND terms every result row of this SELECT satisfies: WHERE and inner-join ON clauses."""
    if not isinstance(select, exp.Select):
        return []
    where = select.args.get("where")
    terms = conjuncts(where.this if where is not None else None)
    for join in select.args.get("joins") or []:
        inner = not join.side and (join.kind or "").upper() in ("", "INNER")
        if inner and join.args.get("on") is not None:
            terms += conjuncts(join.args["on"])
    return terms


def scan_filters(select: exp.Expression, alias: str) -> list[exp.Expression]:
    """The conjuncts that may filter the rows read for ``alias``: its own, then date bounds carried over equalities."""
    if alias in nullable_aliases(select):
        return []
    terms = filter_conjuncts(select)
    own = [t for t in terms if _reads_only(t, alias) and not t.find(exp.Subquery, exp.Select, exp.Exists)]
    carried = []
    for term in terms:
        for mine, theirs in _equal_columns(term, alias):
            for bound in terms:
                if _is_typed_date_bound(bound, theirs):
                    copy = bound.transform(lambda n: mine.copy() if isinstance(n, exp.Column) else n, copy=True)
                    if all(copy != t for t in own + carried):
                        carried.append(copy)
    return own + carried


def _reads_only(term: exp.Expression, alias: str) -> bool:
    return {c.table for c in term.find_all(exp.Column)} == {alias}


def _equal_columns(term: exp.Expression, alias: str) -> list[tuple[exp.Column, exp.Column]]:
    """(column of ``alias``, column of another table) for ``a.x = b.y`` in either order."""
    if not isinstance(term, exp.EQ) or not isinstance(term.left, exp.Column) or not isinstance(term.right, exp.Column):
        return []
    pairs = [(term.left, term.right), (term.right, term.left)]
    return [(mine, theirs) for mine, theirs in pairs if mine.table == alias and theirs.table and theirs.table != alias]


def _is_typed_date_bound(term: exp.Expression, column: exp.Column) -> bool:
    """``column OP typed-date-constant`` (or BETWEEN two): the form a date bound takes after planning."""
    if not isinstance(term, _BOUNDS):
        return False
    columns = list(term.find_all(exp.Column))
    if len(columns) != 1 or columns[0].table != column.table or columns[0].name != column.name:
        return False
    operands = [v for k, v in term.args.items() if k in ("this", "expression", "low", "high") and not isinstance(v, exp.Column)]
    return bool(operands) and all(
        isinstance(o, exp.Cast) and isinstance(o.this, exp.Literal) and o.to.this in _TEMPORAL_TYPES for o in operands
    )
