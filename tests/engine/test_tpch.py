"""TPC-H's 22 queries over tables spread across PostgreSQL, MariaDB and SQLite.

Every query runs through piot split (``auto``, sized by the rows the sources estimate, with a
target of :data:`FRAGMENT_ROWS` so that this small data splits) and unsplit, and both answers
must equal DuckDB's over the same data, row for row in the query's own ORDER BY. Queries whose
date predicates bound l_shipdate or o_orderdate must split the bounded table (checked through
EXPLAIN): on both sides into calendar periods, and on one side only (Q1, Q3) closed with the
column's smallest or largest value from the source, the open side left open.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
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

#: The rows an ``auto`` fragment aims at here: small enough that the scale-0.01 tables split by rows.
FRAGMENT_ROWS = 5000

#: How many fragments each query's split table gets with a given unit: the date predicates that must split.
SPLITS: dict[int, tuple[str, dict[str, int]]] = {
    4: ("monthly", {"orders": 3}),  # 1993-07-01 + 3 months
    5: ("monthly", {"orders": 12}),  # one year
    6: ("monthly", {"lineitem": 12}),
    7: ("monthly", {"lineitem": 24}),  # 1995-01-01 .. 1996-12-31
    8: ("monthly", {"orders": 24}),
    10: ("monthly", {"orders": 3}),
    14: ("daily", {"lineitem": 30}),  # one month
    15: ("monthly", {"lineitem": 3}),
    20: ("monthly", {"lineitem": 12}),  # the bound sits in a correlated subquery
}

#: One-sided bounds: per query, each table's bound and which side of it is open (its first or last fragment).
ONE_SIDED: dict[int, dict[str, tuple[str, str]]] = {
    1: {"lineitem": ("l_shipdate <= date '1998-12-01' - interval '90' day", "first")},
    3: {"orders": ("o_orderdate < date '1995-03-15'", "first"), "lineitem": ("l_shipdate > date '1995-03-15'", "last")},
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
    return piot.connect(tpch.catalog, fragment_rows=FRAGMENT_ROWS).cursor()


@pytest.fixture(scope="module")
def unit_cursor(tpch: Tpch) -> Iterator[Callable[[str], piot.Cursor]]:
    """``cursor(unit)``: a cursor of a connection splitting by ``unit``."""
    made: dict[str, piot.Connection] = {}
    yield lambda unit: made.setdefault(unit, piot.connect(tpch.catalog, time_unit=unit)).cursor()
    for connection in made.values():
        connection.close()


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
def test_date_predicates_split(number: int, unit_cursor: Callable[[str], piot.Cursor]) -> None:
    """``date '1994-01-01' + interval '1' year`` and friends bound the split column: the table is read in periods."""
    query = queries()[number - 1]
    unit, counts = SPLITS[number]
    rows = _explain(unit_cursor(unit), query)
    for table, count in counts.items():
        fragments = _fragments_of(rows, table)
        assert len(fragments) == count, f"{query.name}: {table} read in {len(fragments)} fragments, expected {count}"


@pytest.mark.parametrize("number", sorted(ONE_SIDED))
def test_one_sided_bounds_split(
    number: int, tpch: Tpch, split_cursor: piot.Cursor, unit_cursor: Callable[[str], piot.Cursor], ray_session: None
) -> None:
    """Q1's ``l_shipdate <= ...`` and Q3's bounds are closed with the column's smallest or largest value from the source.

    Monthly, a table is read in one fragment per month from that value to the bound (the
    value comes from an index: PostgreSQL's and MariaDB's MIN/MAX, or a count per day); by
    rows, in several. Either way the open side stays open, and the answer is DuckDB's.
    """
    query = queries()[number - 1]
    for table, (bound, open_side) in ONE_SIDED[number].items():
        column = DATE_COLUMNS[table]
        lo, hi = tpch.oracle.execute(f"select min({column}), max({column}) from {table} where {bound}").fetchone()
        months = (hi.year - lo.year) * 12 + hi.month - lo.month + 1
        for cursor, expected in ((unit_cursor("monthly"), months), (split_cursor, None)):
            fragments = _fragments_of(_explain(cursor, query), table)
            if expected is not None:
                assert len(fragments) == expected, f"{query.name}: {table} in {len(fragments)} monthly fragments, not {expected}"
            assert len(fragments) > 1, f"{query.name}: {table} not split: {fragments[0][5]}"
            opened = fragments[0][2] if open_side == "first" else fragments[-1][3]
            assert opened is None and "open-ended" in fragments[0][5], fragments[0][5]
    assert_same(_answer(unit_cursor("monthly"), placed(query.sql)), tpch.expected(query), f"{query.name} monthly", ordered=True)


def _explain(cursor: piot.Cursor, query: TpchQuery) -> list[tuple[Any, ...]]:
    cursor.execute("EXPLAIN " + placed(query.sql))
    return cursor.fetchall()


def _fragments_of(rows: list[tuple[Any, ...]], table: str) -> list[tuple[Any, ...]]:
    source = PLACEMENT[table]
    return [r for r in rows if r[0] == "fragment" and r[1] == source and f"FROM {_quoted(table, source)}" in r[4]]


def _quoted(table: str, source: str) -> str:
    return f'"public"."{table}"' if source == "pg" else f"`{table}`" if source == "my" else f'"{table}"'


def test_a_table_named_twice_is_read_once(unit_cursor: Callable[[str], piot.Cursor], tpch: Tpch, ray_session: None) -> None:
    """Two names for one table under the same filters: one read of the columns either needs serves both."""
    sql = (
        "select n1.n_name, count(*) as neighbours from nation n1, nation n2, lineitem "
        "where n1.n_regionkey = n2.n_regionkey and n1.n_name = n2.n_name and l_suppkey = n1.n_nationkey "
        "and l_shipdate between date '1995-03-01' and date '1995-03-03' group by n1.n_name"
    )
    cursor = unit_cursor("daily")
    cursor.execute("EXPLAIN " + placed(sql))
    rows = cursor.fetchall()
    assert len([r for r in rows if r[0] == "fragment" and '"nation"' in r[4]]) == 1
    assert "lite.nation (the rows of __piot_t" in rows[-1][5]
    assert_same(_answer(cursor, placed(sql)), tpch.expected(TpchQuery(0, sql)), "self join")
    assert cursor.progress.fragments_total == len([r for r in rows if r[0] == "fragment"]) == 1 + 3
