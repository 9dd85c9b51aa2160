"""Give both sides of a column equality one type, so that Polars can join on it.

Tables of different sources rarely agree on key types: an INTEGER in one database is
a DECIMAL or a REAL in another, a DATE is a TIMESTAMP elsewhere. Polars joins only keys
of one type, so every equality between two column expressions of different numeric
(or date/timestamp) types is written with both sides cast to a common type:

- an integer, a decimal and a float meet as DOUBLE when a float is involved;
- otherwise as DECIMAL(38, s) with the larger scale (exact, as the sources compare);
- a DATE and a TIMESTAMP meet as TIMESTAMP (the date at midnight, as SQL compares them).

Example:
    >>> import sqlglot
    >>> from sqlglot.optimizer.annotate_types import annotate_types
    >>> schema = {"a": {"k": "BIGINT"}, "b": {"k": "DECIMAL(15, 2)"}}
    >>> tree = annotate_types(sqlglot.parse_one("select 1 from a join b on a.k = b.k"), schema=schema)
    >>> align_equality_types(tree).sql()
    'SELECT 1 FROM a JOIN b ON CAST(a.k AS DECIMAL(38, 2)) = CAST(b.k AS DECIMAL(38, 2))'
"""

from __future__ import annotations

from sqlglot import exp

_INTEGERS = exp.DataType.INTEGER_TYPES
_FLOATS = {exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT}
_DECIMALS = {exp.DataType.Type.DECIMAL}
_TEMPORAL = {exp.DataType.Type.DATE, exp.DataType.Type.TIMESTAMP, exp.DataType.Type.DATETIME}


def align_equality_types(tree: exp.Expression) -> exp.Expression:
    """Cast both sides of each ``x = y`` between columns of different key types (``tree`` annotated, changed in place)."""
    for equality in list(tree.find_all(exp.EQ)):
        left, right = equality.left, equality.right
        if not (left.find(exp.Column) and right.find(exp.Column)) or left.find(exp.Select) or right.find(exp.Select):
            continue
        if _correlated(equality):
            continue  # Polars decorrelates ``inner.k = outer.k`` itself, and only in that bare form
        common = common_key_type(left.type, right.type)
        if common is not None:
            left.replace(exp.Cast(this=left.copy(), to=common.copy()))
            right.replace(exp.Cast(this=right.copy(), to=common.copy()))
    return tree


def _correlated(equality: exp.EQ) -> bool:
    """Whether the equality reads a column of a table outside its own SELECT (a correlated subquery)."""
    select = equality.find_ancestor(exp.Select)
    if select is None:
        return False
    sources = [select.args.get("from_"), *(select.args.get("joins") or [])]
    local = {source.this.alias_or_name for source in sources if source is not None}
    return any(column.table and column.table not in local for column in equality.find_all(exp.Column))


def common_key_type(left: exp.DataType | None, right: exp.DataType | None) -> exp.DataType | None:
    """The type two different key types meet in, or None when they are alike or not comparable here.

    >>> common_key_type(exp.DataType.build("BIGINT"), exp.DataType.build("DOUBLE")).sql()
    'DOUBLE'
    >>> common_key_type(exp.DataType.build("DATE"), exp.DataType.build("TIMESTAMP")).sql()
    'TIMESTAMP'
    >>> common_key_type(exp.DataType.build("BIGINT"), exp.DataType.build("BIGINT")) is None
    True
    """
    if left is None or right is None or left == right:
        return None
    kinds = {left.this, right.this}
    numeric = _INTEGERS | _FLOATS | _DECIMALS
    if kinds <= numeric:
        if kinds & _FLOATS:
            return exp.DataType.build("DOUBLE")
        if kinds & _DECIMALS:
            scales = [decimal_scale(t) for t in (left, right) if t.this in _DECIMALS]
            if any(s is None for s in scales):
                return exp.DataType.build("DOUBLE")
            return exp.DataType.build(f"DECIMAL(38, {max(s for s in scales if s is not None)})")
        return exp.DataType.build("BIGINT") if left.this != right.this else None
    if kinds <= _TEMPORAL and len(kinds) > 1:
        return exp.DataType.build("TIMESTAMP")
    return None


def decimal_scale(decimal: exp.DataType) -> int | None:
    """The scale of ``DECIMAL(p, s)`` (0 for ``DECIMAL(p)``), None when the type does not say.

    >>> decimal_scale(exp.DataType.build("DECIMAL(15, 2)")), decimal_scale(exp.DataType.build("DECIMAL"))
    (2, None)
    """
    params = decimal.expressions
    if len(params) < 2:
        return 0 if len(params) == 1 else None
    value = params[1].this
    return int(value.this) if isinstance(value, exp.Literal) and value.is_int else None
