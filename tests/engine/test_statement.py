"""Tests of ``parse_statement``: the read-only check, syntax errors and qmark binding.

Fixture pairs: SQL in, SQL (or an error) out. Bound literals are checked twice: as
text in the expected form, and by running the generated SQL in DuckDB and SQLite to
see that the value comes back unchanged.
"""

from __future__ import annotations

import datetime as dt
import decimal
import doctest
import sqlite3
from typing import Any

import duckdb
import pytest
import sqlglot
from sqlglot import exp

import piot
import piot.sql.statement as statement_module
from piot.errors import InterfaceError, NotSupportedError, ProgrammingError
from piot.sql.statement import Statement, bind_parameters, literal_for, parse_statement

NOW = dt.datetime(2024, 3, 10, 12, 30)
DIALECTS = ["postgres", "mysql"]


def _duck_row(sql: str) -> tuple[Any, ...]:
    """The single row DuckDB returns for ``sql``."""
    (row,) = duckdb.sql(sql).fetchall()
    return row


def _parse(sql: str, dialect: str = "postgres", parameters: list[Any] | None = None) -> Statement:
    return parse_statement(sql, dialect=dialect, parameters=parameters, now=NOW)


# --- accepted read-only forms ---------------------------------------------------------

ACCEPTED: list[tuple[str, bool, type[exp.Expression], str]] = [
    ("select 1", False, exp.Select, "SELECT 1"),
    ("SELECT a FROM db.t WHERE a > 1", False, exp.Select, "SELECT a FROM db.t WHERE a > 1"),
    ("select 1;", False, exp.Select, "SELECT 1"),
    ("with x as (select 1 as a) select a from x", False, exp.Select, "WITH x AS (SELECT 1 AS a) SELECT a FROM x"),
    (
        "with recursive r as (select 1 as n union all select n + 1 from r where n < 3) select n from r",
        False,
        exp.Select,
        "WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT n FROM r",
    ),
    ("select 1 union select 2", False, exp.Union, "SELECT 1 UNION SELECT 2"),
    ("select 1 union all select 2 order by 1 limit 1", False, exp.Union, "SELECT 1 UNION ALL SELECT 2 ORDER BY 1 LIMIT 1"),
    ("select 1 intersect select 2", False, exp.Intersect, "SELECT 1 INTERSECT SELECT 2"),
    ("select 1 except select 2", False, exp.Except, "SELECT 1 EXCEPT SELECT 2"),
    ("(select 1) union (select 2)", False, exp.Union, "(SELECT 1) UNION (SELECT 2)"),
    ("select a from db.t where a in (select b from db.u)", False, exp.Select, "SELECT a FROM db.t WHERE a IN (SELECT b FROM db.u)"),
    ("EXPLAIN select 1", True, exp.Select, "SELECT 1"),
    ("explain select 1", True, exp.Select, "SELECT 1"),
    ("ExPlAiN SELECT 1", True, exp.Select, "SELECT 1"),
    ("  explain\n\tselect 1", True, exp.Select, "SELECT 1"),
    ("explain\tselect 1", True, exp.Select, "SELECT 1"),
    ("\n\nEXPLAIN\n\n  select 1 union select 2", True, exp.Union, "SELECT 1 UNION SELECT 2"),
    ("explain with x as (select 1 as a) select a from x", True, exp.Select, "WITH x AS (SELECT 1 AS a) SELECT a FROM x"),
]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(("sql", "explain", "kind", "expected"), ACCEPTED)
def test_accepted_read_only_forms(dialect: str, sql: str, explain: bool, kind: type[exp.Expression], expected: str) -> None:
    st = _parse(sql, dialect)
    assert st.explain is explain
    assert st.dialect == dialect
    assert isinstance(st.query, kind)
    assert st.query.sql(dialect) == expected


def test_explain_is_only_a_leading_keyword() -> None:
    """A column called ``explain_x`` or the word inside the query is not the EXPLAIN prefix."""
    st = _parse("select explain_x from db.t")
    assert st.explain is False
    assert st.query.sql() == "SELECT explain_x FROM db.t"


def test_parenthesised_select_is_accepted() -> None:
    assert _parse("(select 1)").query.sql() == "SELECT 1"


@pytest.mark.parametrize("sql", ["/* from a tool */ explain select 1", "-- note\nexplain select 1"])
def test_explain_after_a_leading_comment(sql: str) -> None:
    assert _parse(sql).explain is True


@pytest.mark.parametrize(
    "sql",
    [
        "EXPLAIN ANALYZE select 1",
        "explain analyse select 1",
        "  Explain\n  Analyze\tselect 1",
        "/* a */ explain /* b */ analyze select 1",
    ],
)
def test_explain_analyze_is_recognised(sql: str) -> None:
    st = _parse(sql)
    assert (st.explain, st.analyze, st.query.sql(comments=False)) == (True, True, "SELECT 1")


@pytest.mark.parametrize("sql", ["select 1", "explain select 1", "explain select analyze from db.t"])
def test_only_explain_analyze_analyzes(sql: str) -> None:
    assert _parse(sql).analyze is False


@pytest.mark.parametrize(
    "sql",
    [
        "explain analyze delete from t",
        "EXPLAIN ANALYZE insert into t values (1)",
        "explain analyze update t set a = 1",
        "explain analyze explain analyze select 1",
        "explain analyze with x as (delete from t returning *) select * from x",
        "explain analyze select pg_sleep(1)",
        "analyze t",
    ],
)
def test_explain_analyze_of_anything_but_a_read_only_query_is_refused(sql: str) -> None:
    with pytest.raises(NotSupportedError):
        _parse(sql)


def test_syntax_error_location_after_explain_analyze_on_two_lines() -> None:
    with pytest.raises(ProgrammingError) as info:
        _parse("explain\n  analyze select * frm t")
    _check_location(info.value, 2, 24, 24)


# --- rejected statements ---------------------------------------------------------------

REJECTED = [
    "insert into t values (1)",
    "insert into t select * from u",
    "update t set a = 1",
    "delete from t",
    "delete from t where a = 1",
    "merge into t using s on t.a = s.a when matched then delete",
    "create table t (a int)",
    "create table t as select 1 as a",
    "create view v as select 1 as a",
    "drop table t",
    "alter table t add column b int",
    "truncate t",
    "truncate table t",
    "grant select on t to u",
    "copy t from '/tmp/x.csv'",
    "set x = 1",
    "call p()",
    "select * into t2 from t",
    "select 1 into t2",
    "select 1; select 2",
    "select 1; delete from t",
    "with x as (delete from t returning *) select * from x",
    "with x as (insert into t values (1) returning *) select * from x",
    "with x as (update t set a = 1 returning *) select * from x",
    "select * from t for update",
    "select * from t for share",
    "select * from t for update skip locked",
    "select * from (select a from t for update) s",
    "select a from t where a in (select a from u for update)",
    "explain insert into t values (1)",
    "explain delete from t",
    "EXPLAIN update t set a = 1",
    "begin",
    "commit",
    "vacuum",
    "values (1)",
]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("sql", REJECTED)
def test_rejected_statements(dialect: str, sql: str) -> None:
    with pytest.raises(NotSupportedError) as info:
        _parse(sql, dialect)
    assert "not allowed" in str(info.value) or "one statement" in str(info.value)


@pytest.mark.parametrize(
    ("sql", "word"),
    [
        ("insert into t values (1)", "INSERT"),
        ("delete from t", "DELETE"),
        ("with x as (delete from t returning *) select * from x", "DELETE"),
        ("select * into t2 from t", "INTO"),
        ("select * from t for update", "LOCK"),
        ("drop table t", "DROP"),
    ],
)
def test_rejection_names_the_statement(sql: str, word: str) -> None:
    with pytest.raises(NotSupportedError, match=f"^{word} is not allowed: piot runs read-only queries only"):
        _parse(sql)


def test_two_statements_message() -> None:
    with pytest.raises(NotSupportedError, match="only one statement at a time"):
        _parse("select 1; select 2")


@pytest.mark.parametrize("sql", ["", "   ", ";", "\n\t;\n", "explain "])
def test_empty_statement(sql: str) -> None:
    with pytest.raises(ProgrammingError, match="empty statement"):
        _parse(sql)


def test_rejection_happens_before_binding() -> None:
    """A write is refused even when the parameters would not match."""
    with pytest.raises(NotSupportedError):
        _parse("delete from t where a = ?", parameters=[])


# --- syntax errors: line and column in the user's text --------------------------------

#: (sql, line, first column, last column) of the offending token, 1-based and inclusive.
SYNTAX_ERRORS: list[tuple[str, int, int, int]] = [
    ("select * frm t", 1, 14, 14),
    ("select 1 +", 1, 10, 10),
    ("select * from t where", 1, 17, 21),
    ("select (1", 1, 9, 9),
    ("selec 1", 1, 7, 7),
    ("select a,\n  b c d\n from t", 2, 7, 7),
    ("explain\nselect * frm t", 2, 14, 14),
    ("EXPLAIN\n  select *\n  from t where", 3, 10, 14),
    ("\n\nexplain\nselect 1 +", 4, 10, 10),
    ("  explain\n\n\nselect * frm t", 4, 14, 14),
]


def _check_location(error: ProgrammingError, line: int, first: int, last: int) -> None:
    assert error.line == line, str(error)
    assert error.col is not None and first <= error.col <= last, str(error)
    assert f"(line {line}, column {error.col})" in str(error)


@pytest.mark.parametrize(("sql", "line", "first", "last"), SYNTAX_ERRORS)
def test_syntax_error_location(sql: str, line: int, first: int, last: int) -> None:
    with pytest.raises(ProgrammingError) as info:
        _parse(sql)
    assert not isinstance(info.value, NotSupportedError)
    assert str(info.value).startswith("syntax error")
    _check_location(info.value, line, first, last)


def test_syntax_error_message_quotes_the_token() -> None:
    with pytest.raises(ProgrammingError, match="syntax error at or near 'where'"):
        _parse("select * from t where")


@pytest.mark.parametrize(
    ("sql", "line", "first", "last"),
    [("explain select * frm t", 1, 22, 22), ("  EXPLAIN select 1 +", 1, 20, 20), ("\nexplain select 1 +", 2, 18, 18)],
)
def test_syntax_error_location_after_explain_on_the_same_line(sql: str, line: int, first: int, last: int) -> None:
    with pytest.raises(ProgrammingError) as info:
        _parse(sql)
    _check_location(info.value, line, first, last)


def test_unterminated_string_is_a_programming_error() -> None:
    with pytest.raises(ProgrammingError, match="syntax error"):
        _parse("select 'abc")


def test_unterminated_string_has_a_location() -> None:
    with pytest.raises(ProgrammingError) as info:
        _parse("select 1,\n 'abc")
    assert info.value.line == 2


# --- parameters: count ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "parameters"),
    [
        ("select ?", []),
        ("select ?", None),
        ("select ?, ?", [1]),
        ("select ?", [1, 2]),
        ("select 1", [1]),
        ("select '?'", [1]),
        ("select a from t where a = ? and b = ?", [1, 2, 3]),
    ],
)
def test_parameter_count_mismatch(sql: str, parameters: list[Any] | None) -> None:
    with pytest.raises(InterfaceError, match="placeholder"):
        _parse(sql, parameters=parameters)


def test_parameter_count_message() -> None:
    with pytest.raises(InterfaceError, match=r"has 2 \? placeholder\(s\) but 3 parameter\(s\)"):
        _parse("select ?, ?", parameters=[1, 2, 3])


def test_no_parameters_no_placeholders() -> None:
    assert _parse("select 1", parameters=[]).query.sql() == "SELECT 1"
    assert _parse("select 1", parameters=()).query.sql() == "SELECT 1"


# --- parameters: the literal for every Python type --------------------------------------

#: (value, PostgreSQL text, MySQL text, SQLite text)
LITERALS: list[tuple[Any, str, str, str]] = [
    (None, "NULL", "NULL", "NULL"),
    (True, "TRUE", "TRUE", "TRUE"),
    (False, "FALSE", "FALSE", "FALSE"),
    (0, "0", "0", "0"),
    (42, "42", "42", "42"),
    (-5, "-5", "-5", "-5"),
    (2**70, "1180591620717411303424", "1180591620717411303424", "1180591620717411303424"),
    (1.5, "CAST(1.5 AS DOUBLE PRECISION)", "CAST(1.5 AS DOUBLE)", "CAST(1.5 AS REAL)"),  # floats stay floats
    (-0.25, "CAST(-0.25 AS DOUBLE PRECISION)", "CAST(-0.25 AS DOUBLE)", "CAST(-0.25 AS REAL)"),
    (decimal.Decimal("1.10"), "1.10", "1.10", "1.10"),
    (decimal.Decimal("-3.5"), "-3.5", "-3.5", "-3.5"),
    ("plain", "'plain'", "'plain'", "'plain'"),
    ("it's", "'it''s'", "'it''s'", "'it''s'"),
    ("", "''", "''", "''"),
    ("x'; drop table t; --", "'x''; drop table t; --'", "'x''; drop table t; --'", "'x''; drop table t; --'"),
    (dt.date(2024, 2, 29), "CAST('2024-02-29' AS DATE)", "CAST('2024-02-29' AS DATE)", "DATE('2024-02-29')"),
    (
        dt.datetime(2024, 2, 29, 13, 5, 6),
        "CAST('2024-02-29 13:05:06' AS TIMESTAMP)",
        "CAST('2024-02-29 13:05:06' AS DATETIME)",
        "DATETIME('2024-02-29 13:05:06')",
    ),
    (
        dt.datetime(2024, 2, 29, 13, 5, 6, 123),
        "CAST('2024-02-29 13:05:06.000123' AS TIMESTAMP)",
        "CAST('2024-02-29 13:05:06.000123' AS DATETIME)",
        "DATETIME('2024-02-29 13:05:06.000123')",
    ),
    (dt.time(1, 2, 3), "CAST('01:02:03' AS TIME)", "CAST('01:02:03' AS TIME)", "TIME('01:02:03')"),
]


@pytest.mark.parametrize(("value", "postgres", "mysql", "sqlite"), LITERALS)
def test_literal_text_per_dialect(value: Any, postgres: str, mysql: str, sqlite: str) -> None:
    literal = literal_for(value)
    assert literal.sql("postgres") == postgres
    assert literal.sql("mysql") == mysql
    assert literal.sql("sqlite") == sqlite


@pytest.mark.parametrize(("value", "postgres", "mysql", "sqlite"), LITERALS)
def test_bound_value_comes_back_from_duckdb(value: Any, postgres: str, mysql: str, sqlite: str) -> None:
    """The bound query, written for PostgreSQL, returns the very value in DuckDB."""
    st = _parse("select ? as v", parameters=[value])
    (got,) = _duck_row(st.query.sql("postgres"))
    assert got == value
    if not isinstance(value, (int, float, decimal.Decimal)):  # SQL reads 1.5 as NUMERIC, as PostgreSQL does
        assert type(got) is type(value)


STRINGS = ["it's", "''", "a\\b", "a\\'b", '"q"', "line\nbreak", "tab\there", "é😀", "?", "x'; drop table t; --", "%s", "$1"]


@pytest.mark.parametrize("value", STRINGS)
def test_strings_round_trip(value: str) -> None:
    """Quotes, backslashes and newlines survive binding in every dialect piot writes."""
    st = _parse("select ? as v", parameters=[value])
    (got,) = _duck_row(st.query.sql("postgres"))
    assert got == value
    with sqlite3.connect(":memory:") as handle:
        assert handle.execute(st.query.sql("sqlite")).fetchone() == (value,)
    # MySQL escapes backslashes: reading the text back as MySQL gives the same string
    reread = sqlglot.parse_one(st.query.sql("mysql"), read="mysql")
    literal = reread.find(exp.Literal)
    assert literal is not None and literal.this == value


def test_string_parameter_is_never_sql() -> None:
    st = _parse("select a from t where a = ?", parameters=["1 OR 1=1"])
    where = st.query.args["where"].this
    assert isinstance(where, exp.EQ)
    assert isinstance(where.expression, exp.Literal) and where.expression.is_string
    assert st.query.sql() == "SELECT a FROM t WHERE a = '1 OR 1=1'"


@pytest.mark.parametrize(
    ("sql", "value", "expected"),
    [("select -? as v", -5, 5), ("select 1 - ? as v", -5, 6), ("select ? * ? as v", -2, 4), ("select 2 - -? as v", 3, 5)],
)
def test_negative_numbers_keep_their_meaning(sql: str, value: int, expected: int) -> None:
    """A negative literal next to a minus sign must not become a ``--`` comment."""
    st = _parse(sql, parameters=[value] * sql.count("?"))
    assert _duck_row(st.query.sql("postgres")) == (expected,)
    with sqlite3.connect(":memory:") as handle:
        assert handle.execute(st.query.sql("sqlite")).fetchone() == (expected,)


@pytest.mark.parametrize("value", [[1], {"a": 1}, object(), {1, 2}])
def test_unsupported_parameter_type(value: Any) -> None:
    with pytest.raises(InterfaceError, match="cannot bind a parameter of type"):
        _parse("select ?", parameters=[value])


def test_binary_parameter_binds() -> None:
    st = _parse("select ? as v", parameters=[piot.Binary(b"\x00ab")])
    assert _duck_row(st.query.sql("postgres")) == (b"\x00ab",)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), decimal.Decimal("NaN")])
def test_non_finite_float_is_not_a_column(value: Any) -> None:
    st = _parse("select ? as v", parameters=[value])
    reread = sqlglot.parse_one(st.query.sql("postgres"), read="postgres")
    assert reread.find(exp.Column) is None


# --- parameters: placement ------------------------------------------------------------


def test_question_mark_in_strings_comments_and_identifiers_is_not_a_parameter() -> None:
    st = _parse("select '?' as a, ? as b, \"c?\" from t -- why?\n", parameters=[7])
    assert st.query.sql() == "SELECT '?' AS a, 7 AS b, \"c?\" FROM t /* why? */"
    st = _parse("select $$?$$, ? /* ? */", parameters=[8])
    assert st.query.sql().startswith("SELECT '?', 8")


#: queries whose placeholders are numbered 1, 2, ... in text order; bound with 1, 2, ...
ORDERED: list[tuple[str, str]] = [
    ("select ?, ?, ?", "SELECT 1, 2, 3"),
    ("select ? from t where a = ? and b in (?, ?)", "SELECT 1 FROM t WHERE a = 2 AND b IN (3, 4)"),
    ("select ? from t join u on u.a = ? where t.b = ?", "SELECT 1 FROM t JOIN u ON u.a = 2 WHERE t.b = 3"),
    (
        "select case when a = ? then ? else ? end from t where a between ? and ?",
        "SELECT CASE WHEN a = 1 THEN 2 ELSE 3 END FROM t WHERE a BETWEEN 4 AND 5",
    ),
    ("select ?, (select ?), ? from t", "SELECT 1, (SELECT 2), 3 FROM t"),
    ("select ? union all select ? order by 1 limit ?", "SELECT 1 UNION ALL SELECT 2 ORDER BY 1 LIMIT 3"),
    ("select * from (select ? as a) s where a = ?", "SELECT * FROM (SELECT 1 AS a) AS s WHERE a = 2"),
    (
        "select a from t where exists (select 1 from u where u.a = ?) and b = ?",
        "SELECT a FROM t WHERE EXISTS(SELECT 1 FROM u WHERE u.a = 1) AND b = 2",
    ),
    ("select a from t order by a limit ? offset ?", "SELECT a FROM t ORDER BY a LIMIT 1 OFFSET 2"),
    ("select ? from t where a = ? group by ? having ? > 0 order by ?", "SELECT 1 FROM t WHERE a = 2 GROUP BY 3 HAVING 4 > 0 ORDER BY 5"),
]


@pytest.mark.parametrize(("sql", "expected"), ORDERED)
def test_parameters_follow_text_order(sql: str, expected: str) -> None:
    st = _parse(sql, parameters=list(range(1, sql.count("?") + 1)))
    assert st.query.sql("postgres") == expected


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("with x as (select ? as a) select ?, a from x", "WITH x AS (SELECT 1 AS a) SELECT 2, a FROM x"),
        (
            "with x as (select ? as a), y as (select ? as b) select ? from x, y",
            "WITH x AS (SELECT 1 AS a), y AS (SELECT 2 AS b) SELECT 3 FROM x, y",
        ),
        ("select ? from t where a = ? limit ?", "SELECT 1 FROM t WHERE a = 2 LIMIT 3"),
        ("select a from t offset ? limit ?", "SELECT a FROM t LIMIT 2 OFFSET 1"),
    ],
)
def test_parameters_follow_text_order_with_ctes_and_limits(sql: str, expected: str) -> None:
    st = _parse(sql, parameters=list(range(1, sql.count("?") + 1)))
    assert st.query.sql("postgres") == expected


def test_bind_parameters_leaves_its_input_alone() -> None:
    query = sqlglot.parse_one("select ? + 1")
    bound = bind_parameters(query, [41])
    assert query.sql() == "SELECT ? + 1"
    assert bound.sql() == "SELECT 41 + 1"


def test_parse_statement_folds_time_after_binding() -> None:
    st = _parse("explain select * from db.t where d >= current_date - interval '7' day and d < ?", parameters=[dt.date(2024, 3, 11)])
    assert st.explain is True
    assert st.query.sql("postgres") == (
        "SELECT * FROM db.t WHERE d >= CAST('2024-03-03 00:00:00' AS TIMESTAMP) AND d < CAST('2024-03-11' AS DATE)"
    )


def test_doctests() -> None:
    assert doctest.testmod(statement_module).failed == 0
