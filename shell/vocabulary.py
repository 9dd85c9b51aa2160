"""The SQL words the prompt completes: keywords and the functions a piot query can use."""

from __future__ import annotations

KEYWORDS: tuple[str, ...] = (
    "SELECT", "FROM", "WHERE", "GROUP BY", "ORDER BY", "HAVING", "LIMIT", "OFFSET",
    "JOIN", "INNER JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN", "CROSS JOIN", "ON", "USING",
    "AS", "AND", "OR", "NOT", "IN", "BETWEEN", "LIKE", "ILIKE", "IS", "NULL", "IS NULL", "IS NOT NULL",
    "DISTINCT", "ALL", "CASE", "WHEN", "THEN", "ELSE", "END", "WITH", "UNION", "UNION ALL",
    "INTERSECT", "EXCEPT", "EXPLAIN", "EXPLAIN ANALYZE", "ASC", "DESC", "NULLS FIRST", "NULLS LAST",
    "DATE", "TIMESTAMP", "INTERVAL", "TRUE", "FALSE", "CURRENT_DATE", "CURRENT_TIMESTAMP", "EXISTS",
)

FUNCTIONS: tuple[str, ...] = (
    "abs", "avg", "cast", "ceil", "coalesce", "concat", "count", "date_part", "date_trunc", "extract",
    "floor", "greatest", "least", "length", "ln", "log10", "lower", "ltrim", "max", "median", "min",
    "now", "nullif", "power", "replace", "round", "rtrim", "sqrt", "stddev", "strftime", "substr",
    "sum", "trim", "upper", "variance",
)

#: words after which the prompt offers column names.
COLUMN_CONTEXT = frozenset(
    {"select", "where", "and", "or", "on", "by", "having", "when", "then", "else", "not", "between",
     "distinct", "case", "in", "like", "ilike", "is", "using", "all"}
)
#: words after which the prompt offers tables.
TABLE_CONTEXT = frozenset({"from", "join"})
#: every single word the context rules treat as a keyword (lower case).
KEYWORD_WORDS = frozenset(word.lower() for keyword in KEYWORDS for word in keyword.split()) | {
    "left", "right", "full", "inner", "outer", "cross", "natural", "group", "order", "lateral", "over",
}
