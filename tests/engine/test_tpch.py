"""TPC-H's 22 queries over tables spread across PostgreSQL, MariaDB and SQLite.

Every query runs through piot split (the automatic unit: daily up to 62 days, monthly
beyond) and unsplit, and both answers must equal DuckDB's over the same data, row for row
in the query's own ORDER BY. Queries whose date predicates bound l_shipdate or o_orderdate
on both sides must split the bounded table (checked through EXPLAIN).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from corpus_data import Answer, answer_from_rows, assert_same
from tpch_data import (
    DATE_COLUMNS,
    PLACEMENT,
    GeneratorMissing,
    TpchQuery,
    duckdb_oracle,
    generate,
    load_mysql,
    load_postgres,
    load_sqlite,
    placed,
    queries,
)

import piot

pytestmark = [pytest.mark.postgres, pytest.mark.mariadb]

#: How many fragments each query's split table gets (auto unit): the date predicates that must split.
SPLITS: dict[int, dict[str, int]] = {
    4: {"orders": 3},  # 1993-07-01 + 3 months: 92 days, monthly
    5: {"orders": 12},  # one year, monthly
    6: {"lineitem": 12},
    7: {"lineitem": 24},  # 1995-01-01 .. 1996-12-31
    8: {"orders": 24},
    10: {"orders": 3},
    14: {"lineitem": 30},  # one month, daily
    15: {"lineitem": 3},
    20: {"lineitem": 12},  # the bound sits in a correlated subquery
}


@dataclass(frozen=True)
class Tpch:
    """The loaded data: a piot catalog over the three sources, and the DuckDB oracle."""

    catalog: dict[str, Any]
    oracle: Any

    def expected(self, query: TpchQuery) -> Answer:
        cursor = self.oracle.execute(query.sql)
        return answer_from_rows([d[0] for d in cursor.description], cursor.fetchall())


@pytest.fixture(scope="module")
def tpch(pg_session_url: str, mysql_session_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tpch]:
    root: Path = tmp_path_factory.mktemp("tpch")
    try:
        tables = generate(root)
    except GeneratorMissing as e:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and {e}")
        pytest.skip(str(e))
    on = {source: [t for t, s in PLACEMENT.items() if s == source] for source in set(PLACEMENT.values())}
    load_postgres(pg_session_url, tables, on["pg"])
    load_mysql(mysql_session_url, tables, on["my"])
    load_sqlite(root / "tpch.db", tables, on["lite"])
    catalog: dict[str, Any] = {
        "sources": {
            "pg": {"url": pg_session_url},
            "my": {"url": mysql_session_url},
            "lite": {"url": f"sqlite://{root / 'tpch.db'}"},
        }
    }
    for table, column in DATE_COLUMNS.items():
        catalog["sources"][PLACEMENT[table]]["tables"] = {table: {"date_column": column}}
    oracle = duckdb_oracle(tables)
    yield Tpch(catalog, oracle)
    oracle.close()


@pytest.fixture(scope="module")
def split_cursor(tpch: Tpch) -> piot.Cursor:
    return piot.connect(tpch.catalog).cursor()


@pytest.fixture(scope="module")
def unsplit_cursor(tpch: Tpch) -> piot.Cursor:
    return piot.connect(tpch.catalog, split=False).cursor()


def _answer(cursor: piot.Cursor, sql: str) -> Answer:
    cursor.execute(sql)
    return answer_from_rows([d[0] for d in cursor.description], cursor.fetchall())


QUERIES = [pytest.param(q, id=q.name) for q in queries()]


@pytest.mark.parametrize("query", QUERIES)
def test_query_answers_as_duckdb(
    query: TpchQuery, tpch: Tpch, split_cursor: piot.Cursor, unsplit_cursor: piot.Cursor, ray_session: None
) -> None:
    """Split == unsplit == DuckDB, in ORDER BY order: a wrong join, filter, split or merge shows here."""
    expected = tpch.expected(query)
    assert expected.rows, f"{query.name} has no rows at this scale; the comparison would prove little"
    sql = placed(query.sql)
    assert_same(_answer(split_cursor, sql), expected, f"{query.name} split", ordered=True)
    assert_same(_answer(unsplit_cursor, sql), expected, f"{query.name} unsplit", ordered=True)


@pytest.mark.parametrize("number", sorted(SPLITS))
def test_date_predicates_split(number: int, split_cursor: piot.Cursor) -> None:
    """``date '1994-01-01' + interval '1' year`` and friends bound the split column: the table is read in periods."""
    query = queries()[number - 1]
    split_cursor.execute("EXPLAIN " + placed(query.sql))
    rows = split_cursor.fetchall()
    for table, count in SPLITS[number].items():
        source = PLACEMENT[table]
        fragments = [r for r in rows if r[0] == "fragment" and r[1] == source and f"FROM {_quoted(table, source)}" in r[4]]
        assert len(fragments) == count, f"{query.name}: {table} read in {len(fragments)} fragments, expected {count}"


def _quoted(table: str, source: str) -> str:
    return f'"public"."{table}"' if source == "pg" else f"`{table}`" if source == "my" else f'"{table}"'


def test_a_table_named_twice_is_read_once(split_cursor: piot.Cursor, tpch: Tpch, ray_session: None) -> None:
    """Two names for one table under the same filters: one read of the columns either needs serves both."""
    sql = (
        "select n1.n_name, count(*) as neighbours from nation n1, nation n2, lineitem "
        "where n1.n_regionkey = n2.n_regionkey and n1.n_name = n2.n_name and l_suppkey = n1.n_nationkey "
        "and l_shipdate between date '1995-03-01' and date '1995-03-03' group by n1.n_name"
    )
    split_cursor.execute("EXPLAIN " + placed(sql))
    rows = split_cursor.fetchall()
    assert len([r for r in rows if r[0] == "fragment" and '"nation"' in r[4]]) == 1
    assert "lite.nation (the rows of __piot_t" in rows[-1][5]
    assert_same(_answer(split_cursor, placed(sql)), tpch.expected(TpchQuery(0, sql)), "self join")
    assert split_cursor.progress.fragments_total == len([r for r in rows if r[0] == "fragment"]) == 1 + 3
