"""The filters a table scan may use: its own conjuncts, and filters carried over join equalities.

A conjunct filters a table's rows when it sits in the WHERE clause, or in the ON clause of
an inner join, and reads only that table. Through equalities between columns (``a.d = b.d``,
also chained: ``a.k = b.k AND b.k = c.k``), a filter on one column (``b.d BETWEEN ...``,
``c.k IN (1, 2)``) holds for the others too, so every scan can split on it and push it.
Tables on the NULL-padded side of an outer join get nothing: a filter there would change
which rows are padded.

Example:
    >>> import sqlglot
    >>> q = sqlglot.parse_one(
    ...     "select 1 from f as a join d as b on a.d = b.d where b.d between cast('2024-01-01' as date) and cast('2024-03-31' as date)"
    ... )
    >>> [c.sql() for c in scan_filters(q, "a")]
    ["a.d BETWEEN CAST('2024-01-01' AS DATE) AND CAST('2024-03-31' AS DATE)"]
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from piot.plan.pushdown import conjuncts

_BOUNDS = (exp.GT, exp.GTE, exp.LT, exp.LTE, exp.EQ, exp.Between)
_TEMPORAL_TYPES = {exp.DataType.Type.DATE, exp.DataType.Type.TIMESTAMP}


def nullable_aliases(select: exp.Expression) -> set[str]:
    """Aliases on the NULL-padded side of an outer join in this SELECT, inside parenthesised joins too.

    >>> import sqlglot
    >>> sorted(nullable_aliases(sqlglot.parse_one("select 1 from f left join (o join x on o.k = x.k) on f.k = o.k")))
    ['o', 'x']
    """
    if not isinstance(select, exp.Select) or not select.args.get("from_"):
        return set()
    return _nullable(select.args["from_"].this, select.args.get("joins") or [])


def _group(node: exp.Expression) -> exp.Expression:
    """The first table of a parenthesised join (``(a JOIN b ON ...)``), or the node itself."""
    return node.this if isinstance(node, exp.Subquery) and isinstance(node.this, exp.Table) else node


def _names(node: exp.Expression) -> list[str]:
    """Every alias a FROM item brings in: one, or all of a parenthesised join's."""
    node = _group(node)
    names = [node.alias_or_name] if node.alias_or_name else []
    for join in node.args.get("joins") or []:
        names += _names(join.this)
    return names


def _nullable(first: exp.Expression, joins: list[exp.Expression]) -> set[str]:
    """Nullable aliases of ``first`` joined with ``joins`` (a parenthesised first item's own joins come first)."""
    group = _group(first)
    joins = [*(group.args.get("joins") or []), *joins]
    nullable: set[str] = set()
    earlier = [group.alias_or_name]
    for join in joins:
        inner = _group(join.this)
        if inner.args.get("joins"):
            nullable |= _nullable(inner, [])
        names = _names(join.this)
        side = (join.side or "").upper()
        if side in ("LEFT", "FULL"):
            nullable.update(names)
        if side in ("RIGHT", "FULL"):
            nullable.update(earlier)
        earlier += names
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


#: ``(table alias, column name) -> declared type`` (sqlglot's vocabulary) for base-table columns, else None.
TypeOf = Callable[[str, str], "str | None"]


def scan_filters(select: exp.Expression, alias: str, type_of: TypeOf | None = None) -> list[exp.Expression]:
    """The conjuncts that may filter the rows read for ``alias``: its own, then filters carried over equalities.

    Columns joined by equalities (``a.k = b.k``, ``b.k = c.k``) hold the same value in every
    result row, so a filter on one of them (``c.k IN (1, 2)``) holds for all. It is carried
    when it is a typed date bound (what splitting needs), or when ``type_of`` says both
    columns have the same kind of type (numbers, text, dates), so that the comparison means
    the same for both.
    """
    if alias in nullable_aliases(select):
        return []
    terms = filter_conjuncts(select)
    own = [t for t in terms if _reads_only(t, alias) and not t.find(exp.Subquery, exp.Select, exp.Exists)]
    own += [derived for t in terms if (derived := _or_part(t, alias)) is not None]
    carried: list[exp.Expression] = []
    for group in _equal_groups(terms):
        for mine in (c for c in group if c.table == alias):
            for theirs in (c for c in group if _key(c) != _key(mine)):
                for term in terms:
                    if _carries(term, theirs, mine, type_of):
                        copy = term.transform(lambda n, to=mine: to.copy() if isinstance(n, exp.Column) else n, copy=True)
                        if all(copy != t for t in own + carried):
                            carried.append(copy)
    return own + carried


def _or_part(term: exp.Expression, alias: str) -> exp.Expression | None:
    """What an OR of several tables' conditions says about ``alias`` alone, if every branch says something.

    A row satisfies one branch, so it satisfies that branch's conjuncts on ``alias``:
    ``(a.x = 1 AND b.y = 2) OR (a.x = 3 AND b.y = 4)`` gives ``a.x = 1 OR a.x = 3``.

    >>> import sqlglot
    >>> _or_part(sqlglot.parse_one("(a.x = 1 and b.y = 2) or (a.x = 3 and b.y = 4)"), "a").sql()
    'a.x = 1 OR a.x = 3'
    >>> _or_part(sqlglot.parse_one("(a.x = 1 and b.y = 2) or b.y = 4"), "a") is None
    True
    """
    if not isinstance(term, exp.Or) or _reads_only(term, alias):
        return None
    branches = []
    for branch in term.flatten():
        branch = branch.unnest() if isinstance(branch, exp.Paren) else branch
        mine = [c for c in conjuncts(branch) if _reads_only(c, alias) and not c.find(exp.Subquery, exp.Select, exp.Exists)]
        if not mine:
            return None
        branches.append(exp.and_(*(c.copy() for c in mine)) if len(mine) > 1 else mine[0].copy())
    return exp.or_(*branches)


def _reads_only(term: exp.Expression, alias: str) -> bool:
    return {c.table for c in term.find_all(exp.Column)} == {alias}


def _key(column: exp.Column) -> tuple[str, str]:
    return (column.table, column.name)


def _equal_groups(terms: list[exp.Expression]) -> list[list[exp.Column]]:
    """Columns tied together by ``x = y`` terms, each group listed once per column."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}
    nodes: dict[tuple[str, str], exp.Column] = {}

    def root(key: tuple[str, str]) -> tuple[str, str]:
        while parent[key] != key:
            key = parent[key]
        return key

    for term in terms:
        if isinstance(term, exp.EQ) and isinstance(term.left, exp.Column) and isinstance(term.right, exp.Column):
            if not term.left.table or not term.right.table:
                continue
            for column in (term.left, term.right):
                nodes.setdefault(_key(column), column)
                parent.setdefault(_key(column), _key(column))
            parent[root(_key(term.left))] = root(_key(term.right))
    groups: dict[tuple[str, str], list[exp.Column]] = {}
    for key, column in nodes.items():
        groups.setdefault(root(key), []).append(column)
    return [group for group in groups.values() if len(group) > 1]


def _carries(term: exp.Expression, theirs: exp.Column, mine: exp.Column, type_of: TypeOf | None) -> bool:
    """Whether ``term``, a filter on ``theirs`` alone, may be copied onto ``mine``."""
    columns = list(term.find_all(exp.Column))
    if len(columns) != 1 or _key(columns[0]) != _key(theirs):
        return False
    if _is_typed_date_bound(term, theirs):
        return True
    if type_of is None or not _simple_filter(term):
        return False
    kinds = {_type_kind(type_of(*_key(c))) for c in (theirs, mine)}
    return len(kinds) == 1 and None not in kinds


_CONSTANT_NODES = (exp.Literal, exp.Cast, exp.DataType, exp.DataTypeParam, exp.Neg, exp.Paren, exp.Boolean, exp.Tuple)


def _simple_filter(term: exp.Expression) -> bool:
    """``column OP constant``, BETWEEN, IN (constants) or LIKE 'pattern', the column bare on its side."""
    if isinstance(term, (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Like)):
        operands = [term.left, term.right]
    elif isinstance(term, exp.Between):
        operands = [term.this, term.args["low"], term.args["high"]]
    elif isinstance(term, exp.In) and not term.args.get("query") and not term.args.get("unnest"):
        operands = [term.this, *term.expressions]
    else:
        return False
    bare = [o for o in operands if isinstance(o, exp.Column)]
    constants = [o for o in operands if not isinstance(o, exp.Column)]
    return len(bare) == 1 and all(all(isinstance(n, _CONSTANT_NODES) for n in c.walk()) for c in constants)


def _type_kind(sql: str | None) -> str | None:
    """``number``, ``text``, ``date``, ``timestamp``, ... for a declared type (None when unknown).

    >>> [_type_kind(t) for t in ("BIGINT", "DECIMAL(15, 2)", "TEXT", "DATE", None)]
    ['number', 'number', 'text', 'date', None]
    """
    if sql is None:
        return None
    if sql in ("BIGINT", "DOUBLE") or sql.startswith("DECIMAL"):
        return "number"
    return sql.lower()


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
