"""Rewrite the user's query into the forms every later stage understands, or refuse what cannot run.

- Row values are spelled out: ``(a, b) = (1, 2)`` is ``a = 1 AND b = 2``, ``(a, b) IN ((1, 2),
  (3, 4))`` an OR of such ANDs (the merge cannot compare rows, and pushdown then sees plain
  conjuncts);
- ``x BETWEEN SYMMETRIC a AND b`` is ``x BETWEEN a AND b OR x BETWEEN b AND a``;
- ``TABLESAMPLE`` is refused: the merge reads every row it is given, so a sample would
  silently become the whole table; so are row values compared with a subquery and
  parenthesised joins (``a LEFT JOIN (b JOIN c ON ...) ON ...``), which the merge cannot run.

Example:
    >>> import sqlglot
    >>> normalize(sqlglot.parse_one("select 1 from t where (a, b) in ((1, 2), (3, 4))")).sql()
    'SELECT 1 FROM t WHERE ((a = 1 AND b = 2) OR (a = 3 AND b = 4))'
"""

from __future__ import annotations

from sqlglot import exp

from piot.errors import NotSupportedError

_ROW_ORDER = (exp.GT, exp.GTE, exp.LT, exp.LTE)


def normalize(query: exp.Expression) -> exp.Expression:
    """The rewritten query (``query`` itself is changed)."""
    sample = query.find(exp.TableSample)
    if sample is not None:
        raise NotSupportedError(f"TABLESAMPLE is not supported ({sample.sql()}): piot would read every row of the table")
    for group in query.find_all(exp.Subquery):
        if isinstance(group.this, exp.Table) and group.this.args.get("joins"):
            raise NotSupportedError(
                f"a parenthesised join is not supported ({group.sql()}): write it as a subquery with its own alias, "
                "(SELECT ... FROM a JOIN b ON ...) AS g, or join the tables one after another"
            )
    for node in reversed(list(query.walk())):
        if isinstance(node, exp.Between) and node.args.get("symmetric"):
            node.replace(_symmetric(node))
        elif isinstance(node, (exp.EQ, exp.NEQ, *_ROW_ORDER)) and _is_row(node.left) and _is_row(node.right):
            node.replace(_row_comparison(node))
        elif isinstance(node, exp.In) and _is_row(node.this) and node.args.get("query"):
            raise NotSupportedError(
                f"a row value IN (subquery) is not supported ({node.this.sql()} IN (SELECT ...)): write it as EXISTS or a join"
            )
        elif isinstance(node, exp.In) and _is_row(node.this) and node.expressions:
            node.replace(_row_in(node))
    return query


def _is_row(node: exp.Expression) -> bool:
    return isinstance(node, exp.Tuple) and len(node.expressions) > 1


def _symmetric(node: exp.Between) -> exp.Expression:
    value, low, high = node.this, node.args["low"], node.args["high"]
    forward = exp.Between(this=value.copy(), low=low.copy(), high=high.copy())
    backward = exp.Between(this=value.copy(), low=high.copy(), high=low.copy())
    return exp.Paren(this=exp.or_(forward, backward))


def _pairwise_equal(left: exp.Tuple, right: exp.Tuple) -> exp.Expression:
    if len(left.expressions) != len(right.expressions):
        raise NotSupportedError(f"row values of different sizes cannot be compared: {left.sql()} and {right.sql()}")
    pairs = [exp.EQ(this=a.copy(), expression=b.copy()) for a, b in zip(left.expressions, right.expressions)]
    return exp.Paren(this=exp.and_(*pairs))


def _row_comparison(node: exp.Binary) -> exp.Expression:
    if isinstance(node, _ROW_ORDER):
        raise NotSupportedError(f"row-value ordering comparisons are not supported: {node.sql()}")
    equal = _pairwise_equal(node.left, node.right)  # type: ignore[arg-type]
    return exp.Not(this=equal) if isinstance(node, exp.NEQ) else equal


def _row_in(node: exp.In) -> exp.Expression:
    row = node.this
    options = []
    for item in node.expressions:
        if not _is_row(item):
            raise NotSupportedError(f"IN compares a row value with a single value: {node.sql()}")
        options.append(_pairwise_equal(row, item))  # type: ignore[arg-type]
    return exp.Paren(this=exp.or_(*options))
