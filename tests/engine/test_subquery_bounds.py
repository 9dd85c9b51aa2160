"""Bounds reach the table through derived tables, CTEs and nested SELECTs, on SQLite, PostgreSQL and MariaDB.

Each query runs split on piot and on its oracle (the source database itself; DuckDB over the same
rows for SQLite), compared after sorting. Its plan must cut the trades table into periods with the
query's window in every fragment's SQL, as a query on the table itself would be cut. Where a
condition may not go into the subquery (LIMIT inside, a window function, a set operation, an
aggregate), the table is read whole and the answer must still be the source's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sqlglot
from corpus_data import KIND_PARAMS, CorpusSource, answer_from_arrow, assert_same
from sqlglot import exp
from sqlglot.optimizer.qualify import qualify

import piot
from piot.plan.planner import Plan
from piot.plan.subqueries import unfolded


@dataclass(frozen=True)
class Case:
    """A query over the corpus and the windows its trades scans must be split into.

    ``windows``: per trades scan that must be split, its first and last day (sorted); empty when
    no trades scan may be split (a condition that must not go into the subquery).
    """

    name: str
    template: str
    windows: tuple[tuple[str, str], ...]


SPLIT_CASES = [
    Case(
        "derived_table_between",
        "SELECT trade_id, symbol, price FROM (SELECT * FROM {trades}) s WHERE s.trade_date BETWEEN '2024-01-01' AND '2024-03-31'",
        (("2024-01-01", "2024-03-31"),),
    ),
    Case(
        "cte",
        "WITH x AS (SELECT trade_id, trade_date, price FROM {trades}) "
        "SELECT trade_id, price FROM x WHERE trade_date >= '2024-01-15' AND trade_date < '2024-03-10'",
        (("2024-01-15", "2024-03-10"),),
    ),
    Case(
        "superset_wrapper",
        "SELECT symbol, count(*) AS count FROM (SELECT * FROM {trades}) AS virtual_table "
        "WHERE trade_date >= '2024-01-01 00:00:00' AND trade_date < '2024-04-01 00:00:00' "
        "GROUP BY symbol ORDER BY 2 DESC LIMIT 100",
        (("2024-01-01", "2024-04-01"),),
    ),
    Case(
        "superset_wrapper_on_timestamps",
        "SELECT side, count(*) AS count, sum(quantity) AS quantity FROM (SELECT * FROM {trades_ts}) AS virtual_table "
        "WHERE ts >= '2024-02-01 00:00:00' AND ts < '2024-04-01 00:00:00' GROUP BY side ORDER BY 2 DESC LIMIT 100",
        (("2024-02-01", "2024-04-01"),),
    ),
    Case(
        "cte_used_twice",
        "WITH x AS (SELECT trade_id, trade_date, symbol, price FROM {trades}) "
        "SELECT 'winter' AS season, symbol, count(*) AS n, sum(price) AS p FROM x "
        "WHERE trade_date >= '2023-12-15' AND trade_date < '2024-02-15' GROUP BY symbol "
        "UNION ALL "
        "SELECT 'spring' AS season, symbol, count(*) AS n, sum(price) AS p FROM x "
        "WHERE trade_date BETWEEN '2024-03-01' AND '2024-04-30' GROUP BY symbol",
        (("2023-12-15", "2024-02-15"), ("2024-03-01", "2024-04-30")),
    ),
    Case(
        "cte_joined_with_itself",
        "WITH x AS (SELECT trade_id, trade_date, symbol, quantity FROM {trades}) "
        "SELECT a.symbol, count(*) AS n, sum(b.quantity) AS q FROM x a JOIN x b ON a.trade_id = b.trade_id AND a.trade_date = b.trade_date "
        "WHERE a.trade_date >= '2024-01-01' AND a.trade_date < '2024-03-01' AND b.quantity > 500 GROUP BY a.symbol",
        (("2024-01-01", "2024-03-01"), ("2024-01-01", "2024-03-01")),
    ),
    Case(
        "nested_two_levels",
        "SELECT symbol, sum(amount) AS amount, count(*) AS n FROM ("
        "SELECT * FROM (SELECT trade_date, symbol, price * quantity AS amount FROM {trades}) i1 WHERE i1.amount > 100000"
        ") i2 WHERE i2.trade_date >= '2023-12-15' AND i2.trade_date <= '2024-02-15' GROUP BY symbol",
        (("2023-12-15", "2024-02-15"),),
    ),
    Case(
        "computed_column_and_alias",
        "SELECT day, side, amount FROM (SELECT trade_date AS day, side, price * quantity AS amount FROM {trades}) s "
        "WHERE s.day >= '2024-02-01' AND s.day < '2024-04-01' AND s.amount > 300000",
        (("2024-02-01", "2024-04-01"),),
    ),
    Case(
        "grouped_derived_table",
        "SELECT trade_date, n FROM (SELECT trade_date, count(*) AS n FROM {trades} GROUP BY trade_date) g "
        "WHERE g.trade_date >= '2024-03-01' AND g.trade_date < '2024-05-01' AND g.n > 15",
        (("2024-03-01", "2024-05-01"),),
    ),
    Case(
        "derived_table_left_joined",
        "SELECT s.trade_id, s.symbol, y.sector FROM (SELECT * FROM {trades}) s LEFT JOIN {symbols} y ON s.symbol = y.symbol "
        "WHERE s.trade_date BETWEEN '2024-01-20' AND '2024-02-29'",
        (("2024-01-20", "2024-02-29"),),
    ),
    Case(
        "left_join_to_computed_columns",
        # padded rows must read -1 and 'missing' (COALESCE outside also keeps MariaDB's own answer readable)
        "SELECT t.trade_id, COALESCE(s.listed, -1) AS listed, COALESCE(s.sector, 'missing') AS sector FROM {trades} t "
        "LEFT JOIN (SELECT symbol, 1 AS listed, COALESCE(sector, 'none') AS sector FROM {symbols}) s ON t.symbol = s.symbol "
        "WHERE t.trade_date BETWEEN '2024-02-10' AND '2024-03-20'",
        (("2024-02-10", "2024-03-20"),),
    ),
    Case(
        "correlated_with_a_computed_column",
        "SELECT s.trade_id, s.k FROM (SELECT trade_id, trade_date, quantity + 1 AS k FROM {trades}) s "
        "WHERE s.trade_date BETWEEN '2024-01-01' AND '2024-02-29' AND EXISTS (SELECT 1 FROM {trades} u WHERE u.trade_id = s.k)",
        (("2024-01-01", "2024-02-29"),),
    ),
    Case(
        "correlated_subquery_naming_its_table_alike",
        "SELECT s.trade_id, s.symbol FROM (SELECT * FROM {trades} AS tr) s WHERE s.trade_date BETWEEN '2024-03-01' AND '2024-04-30' "
        "AND EXISTS (SELECT 1 FROM {symbols} AS tr WHERE tr.symbol = s.symbol AND tr.sector = 'TECH')",
        (("2024-03-01", "2024-04-30"),),
    ),
    Case(
        "left_join_to_a_derived_table",
        "SELECT y.symbol, y.sector, count(s.trade_id) AS n, max(s.listed) AS listed FROM {symbols} y "
        "LEFT JOIN (SELECT trade_id, symbol, 1 AS listed FROM {trades} WHERE trade_date BETWEEN '2024-01-20' AND '2024-02-29') s "
        "ON y.symbol = s.symbol GROUP BY y.symbol, y.sector",
        (("2024-01-20", "2024-02-29"),),
    ),
]

WHOLE_CASES = [
    Case(
        "limit_inside",
        "SELECT trade_id, trade_date FROM (SELECT trade_id, trade_date FROM {trades} ORDER BY trade_id LIMIT 700) s "
        "WHERE s.trade_date >= '2024-01-01' AND s.trade_date < '2024-03-01'",
        (),
    ),
    Case(
        "window_function_inside",
        "SELECT trade_id, rn FROM (SELECT trade_id, trade_date, row_number() OVER (PARTITION BY symbol ORDER BY trade_id) AS rn "
        "FROM {trades}) s WHERE s.trade_date >= '2024-01-01' AND s.trade_date < '2024-03-01' AND s.rn <= 40",
        (),
    ),
    Case(
        "set_operation_inside",
        "SELECT side, count(*) AS n FROM (SELECT trade_date, side FROM {trades} WHERE quantity > 800 "
        "UNION ALL SELECT trade_date, side FROM {trades} WHERE quantity < 100) s "
        "WHERE s.trade_date BETWEEN '2024-01-01' AND '2024-02-29' GROUP BY side",
        (),
    ),
    Case(
        "aggregate_inside",
        "SELECT last_day, n FROM (SELECT max(trade_date) AS last_day, count(*) AS n FROM {trades} WHERE side = 'BUY') s "
        "WHERE s.last_day > '2024-01-01'",
        (),
    ),
    Case(
        "aggregate_column_of_groups",
        "SELECT symbol, last_day FROM (SELECT symbol, max(trade_date) AS last_day FROM {trades} GROUP BY symbol) s "
        "WHERE s.last_day >= '2024-05-01' AND s.last_day < '2024-06-01'",
        (),
    ),
]


def _answer(connection: piot.Connection, sql: str) -> object:
    cursor = connection.cursor()
    cursor.execute(sql)
    return answer_from_arrow(cursor.fetch_arrow())


def _is_trades(table_name: str, corpus: CorpusSource) -> bool:
    return table_name.split(".")[-1] == corpus.table_key.split(".")[-1]


def _check_windows(plan: Plan, corpus: CorpusSource, windows: tuple[tuple[str, str], ...]) -> None:
    """The trades scans that split are cut into several periods spanning ``windows``, each in its fragment's SQL."""
    split = [scan for scan in plan.scans if _is_trades(scan.table_name, corpus) and scan.split.column is not None]
    found = sorted((str(s.fragments[0].period.start.value.date()), str(s.fragments[-1].period.end.value.date())) for s in split)  # type: ignore[union-attr]
    assert found == sorted(windows), [s.split.reason for s in plan.scans]
    for scan in split:
        assert len(scan.fragments) > 1, scan.split.reason
        for fragment in scan.fragments:
            assert fragment.period is not None
            assert fragment.period.start.value.date().isoformat() in fragment.sql
            end = fragment.period.end.value.date()  # an inclusive end over dates held as text is written as the next day
            assert end.isoformat() in fragment.sql or (end + dt.timedelta(days=1)).isoformat() in fragment.sql


@pytest.mark.parametrize("kind", KIND_PARAMS)
@pytest.mark.parametrize("case", SPLIT_CASES, ids=[c.name for c in SPLIT_CASES])
def test_bounds_reach_the_table_through_subqueries(
    kind: str, case: Case, corpus: CorpusSource, corpus_connect: Callable[..., piot.Connection], ray_session: None
) -> None:
    connection = corpus_connect(corpus)
    sql = corpus.sql(case.template)
    _, plan = connection.engine.plan(sql)
    _check_windows(plan, corpus, case.windows)
    assert_same(_answer(connection, sql), corpus.oracle(case.template), f"{case.name} on {kind}")  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", KIND_PARAMS)
@pytest.mark.parametrize("case", WHOLE_CASES, ids=[c.name for c in WHOLE_CASES])
def test_conditions_that_must_stay_outside_keep_the_answer(
    kind: str, case: Case, corpus: CorpusSource, corpus_connect: Callable[..., piot.Connection], ray_session: None
) -> None:
    connection = corpus_connect(corpus)
    sql = corpus.sql(case.template)
    _, plan = connection.engine.plan(sql)
    for scan in plan.scans:
        assert scan.split.column is None, f"{scan.table_name}: {scan.split.reason}"
        assert all("2024-0" not in fragment.sql for fragment in scan.fragments), "an outer bound went into the subquery"
    assert_same(_answer(connection, sql), corpus.oracle(case.template), f"{case.name} on {kind}")  # type: ignore[arg-type]


@pytest.mark.postgres
def test_distinct_on_keeps_the_outer_condition_outside(
    corpus_postgres: CorpusSource, corpus_connect: Callable[..., piot.Connection], ray_session: None
) -> None:
    """The latest trade per symbol, then those before March: filtering first would pick other rows."""
    template = (
        "SELECT symbol, trade_date, trade_id FROM (SELECT DISTINCT ON (symbol) symbol, trade_date, trade_id FROM {trades} "
        "WHERE trade_date IS NOT NULL ORDER BY symbol, trade_date DESC, trade_id) s "
        "WHERE s.trade_date >= '2024-01-01' AND s.trade_date < '2024-05-01'"
    )
    connection = corpus_connect(corpus_postgres)
    sql = corpus_postgres.sql(template)
    _, plan = connection.engine.plan(sql)
    (scan,) = plan.scans
    assert scan.split.column is None and "2024-01-01" not in scan.fragments[0].sql
    try:
        answer = _answer(connection, sql)
    except piot.NotSupportedError:
        pytest.skip("DISTINCT ON is not run by the merge")
    assert_same(answer, corpus_postgres.oracle(template), "distinct on")  # type: ignore[arg-type]


# -- the plan alone: what is held back from merging, and where errors point -----------------------------------


def _merge_sql(corpus: CorpusSource, connect: Callable[..., piot.Connection], template: str) -> str:
    _, plan = connect(corpus).engine.plan(corpus.sql(template))
    return plan.merge_sql


def test_a_volatile_column_is_not_copied() -> None:
    """piot refuses random() before planning; the rule alone still never runs it twice per row."""
    query = qualify(
        sqlglot.parse_one(
            "SELECT s.r FROM (SELECT random() AS r, t.d AS d FROM t) s WHERE s.r > 0.5 AND s.d >= DATE '2024-01-01'"
        ),
        schema={"t": {"d": "DATE"}},
    )
    merged, _ = unfolded(query)
    assert len(list(merged.find_all(exp.Rand))) == 1, merged.sql()


def test_a_computed_column_on_the_padded_side_stays_in_its_subquery(
    corpus_sqlite: CorpusSource, corpus_connect: Callable[..., piot.Connection]
) -> None:
    """Merged, ``1 AS listed`` would read 1 on a padded row instead of NULL."""
    merge = _merge_sql(
        corpus_sqlite,
        corpus_connect,
        "SELECT t.trade_id, s.listed FROM {trades} t LEFT JOIN (SELECT symbol, 1 AS listed FROM {symbols}) s ON t.symbol = s.symbol",
    )
    assert '1 AS "listed"' in merge and "LEFT JOIN (SELECT" in merge, merge


def test_a_computed_column_a_correlated_subquery_compares_stays(
    corpus_sqlite: CorpusSource, corpus_connect: Callable[..., piot.Connection]
) -> None:
    """The merge decorrelates only ``inner.x = outer.y``: ``s.k`` must stay a column."""
    merge = _merge_sql(
        corpus_sqlite,
        corpus_connect,
        "SELECT s.trade_id FROM (SELECT trade_id, quantity + 1 AS k FROM {trades}) s "
        "WHERE EXISTS (SELECT 1 FROM {trades} u WHERE u.trade_id = s.k)",
    )
    assert "(SELECT" in merge.split("EXISTS")[0], merge


def test_a_shared_cte_reads_its_table_once_when_the_bounds_agree(
    corpus_sqlite: CorpusSource, corpus_connect: Callable[..., piot.Connection]
) -> None:
    template = (
        "WITH x AS (SELECT trade_id, trade_date, side FROM {trades}) SELECT a.trade_id FROM x a JOIN x b ON a.trade_id = b.trade_id "
        "WHERE a.trade_date BETWEEN '2024-01-01' AND '2024-02-29' AND b.trade_date BETWEEN '2024-01-01' AND '2024-02-29'"
    )
    cursor = corpus_connect(corpus_sqlite).cursor()
    rows = cursor.execute("EXPLAIN " + corpus_sqlite.sql(template)).fetchall()
    fragments = [row for row in rows if row[0] == "fragment"]
    assert len(fragments) == 2 and "the rows of __piot_t0" in rows[-1][5], rows[-1][5]


@pytest.mark.parametrize(
    ("template", "name", "line", "col"),
    [
        ("SELECT nme FROM (SELECT * FROM {trades}) s", "nme", 1, 8),
        ("SELECT s.trade_id\nFROM (SELECT trade_id, prize FROM {trades}) s", "prize", 2, 24),
        ("WITH x AS (SELECT * FROM {trades})\nSELECT x.nme FROM x WHERE x.trade_date > '2024-01-01'", "nme", 2, 10),
    ],
)
def test_unknown_columns_are_reported_where_they_are_written(
    template: str, name: str, line: int, col: int, corpus_sqlite: CorpusSource, corpus_connect: Callable[..., piot.Connection]
) -> None:
    with pytest.raises(piot.ProgrammingError) as raised:
        corpus_connect(corpus_sqlite).engine.plan(corpus_sqlite.sql(template))
    assert f"unknown column {name!r}" in str(raised.value)
    assert (raised.value.line, raised.value.col) == (line, col)


def test_the_wrapper_of_a_bi_tool_plans_like_the_plain_query(
    corpus_sqlite: CorpusSource, corpus_connect: Callable[..., piot.Connection]
) -> None:
    """Superset's wrapper reads exactly what the query on the table itself reads."""
    bounds = "trade_date >= '2024-01-01 00:00:00' AND trade_date < '2024-04-01 00:00:00'"
    engine = corpus_connect(corpus_sqlite).engine
    _, wrapped = engine.plan(
        corpus_sqlite.sql(f"SELECT symbol, count(*) AS n FROM (SELECT * FROM {{trades}}) AS v WHERE {bounds} GROUP BY symbol")
    )
    _, plain = engine.plan(corpus_sqlite.sql(f"SELECT symbol, count(*) AS n FROM {{trades}} WHERE {bounds} GROUP BY symbol"))
    assert [f.sql for f in wrapped.fragments] == [f.sql for f in plain.fragments]
    assert dt.date(2024, 1, 1).isoformat() in wrapped.fragments[0].sql


@pytest.mark.parametrize(
    "template",
    [
        "SELECT trade_id FROM (SELECT * FROM {trades} LIMIT 5) s\nWHERE s.trade_date > 'garbage'",
        "SELECT trade_id FROM (SELECT * FROM {trades}) s\nWHERE s.trade_date > 'garbage'",
    ],
)
def test_text_that_is_no_date_beside_a_subquery_column_is_refused_where_written(
    template: str, corpus_sqlite: CorpusSource, corpus_connect: Callable[..., piot.Connection]
) -> None:
    with pytest.raises(piot.DataError) as raised:
        corpus_connect(corpus_sqlite).engine.plan(corpus_sqlite.sql(template))
    assert "invalid DATE value 'garbage'" in str(raised.value)
    assert (raised.value.line, raised.value.col) == (2, 22)
