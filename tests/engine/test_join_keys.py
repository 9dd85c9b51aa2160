"""Joins on keys whose types differ between sources: INTEGER with DECIMAL or REAL, DATE with TIMESTAMP.

Polars joins only keys of one type; without the casts these queries fail in the merge.
Answers are compared with DuckDB over the same rows.
"""

from __future__ import annotations

import doctest
import sqlite3
from pathlib import Path
from typing import Any

import duckdb
import pytest
from corpus_data import run_cli

import piot
from piot.merge import join_keys

ROWS = [(1, "2024-01-01", 10), (2, "2024-01-02", 20), (3, "2024-01-03", 30), (4, None, 40)]


def test_doctests() -> None:
    assert doctest.testmod(join_keys).failed == 0


@pytest.fixture(scope="module")
def sources(pg_session_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Any]:
    """The same keys as INTEGER/DATE in SQLite, as DECIMAL/REAL/TIMESTAMP in PostgreSQL."""
    path: Path = tmp_path_factory.mktemp("keys") / "ints.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE ints (k INTEGER, d DATE, v INTEGER)")
        db.executemany("INSERT INTO ints VALUES (?, ?, ?)", ROWS)
    run_cli(
        "postgres",
        pg_session_url,
        "CREATE TABLE jk_other (k NUMERIC(10,2), f DOUBLE PRECISION, ts TIMESTAMP, w INTEGER);"
        "INSERT INTO jk_other VALUES (1.00, 1, '2024-01-01 00:00', 100), (2.50, 2.5, '2024-01-02 12:00', 200),"
        "(3.00, 3, '2024-01-03 00:00', 300), (NULL, NULL, NULL, 400);",
    )
    oracle = duckdb.connect()
    oracle.execute("CREATE TABLE ints (k INTEGER, d DATE, v INTEGER)")
    oracle.executemany("INSERT INTO ints VALUES (?, ?, ?)", ROWS)
    oracle.execute("CREATE TABLE jk_other (k DECIMAL(10,2), f DOUBLE, ts TIMESTAMP, w INTEGER)")
    oracle.execute(
        "INSERT INTO jk_other VALUES (1.00, 1, '2024-01-01 00:00', 100), (2.50, 2.5, '2024-01-02 12:00', 200),"
        "(3.00, 3, '2024-01-03 00:00', 300), (NULL, NULL, NULL, 400)"
    )
    return {"sources": {"lite": {"url": f"sqlite://{path}"}, "pg": {"url": pg_session_url}}}, oracle


QUERIES = [
    "SELECT i.v, o.w FROM lite.ints AS i JOIN pg.jk_other AS o ON i.k = o.k",
    "SELECT i.v, o.w FROM lite.ints AS i LEFT JOIN pg.jk_other AS o ON i.k = o.f",
    "SELECT i.v, o.w FROM lite.ints AS i, pg.jk_other AS o WHERE o.k = i.k AND o.f = i.k",
    "SELECT i.v, o.w FROM lite.ints AS i FULL JOIN pg.jk_other AS o ON i.d = o.ts",
    "SELECT i.v FROM lite.ints AS i WHERE EXISTS (SELECT 1 FROM pg.jk_other AS o WHERE o.k = i.k)",
]


@pytest.mark.postgres
@pytest.mark.parametrize("sql", QUERIES)
def test_mixed_key_types_join_as_duckdb(sql: str, sources: tuple[dict[str, Any], Any], ray_session: None) -> None:
    """1 = 1.00 = 1.0 and DATE '2024-01-01' = TIMESTAMP '2024-01-01 00:00', as the databases compare them."""
    catalog, oracle = sources
    got = piot.connect(catalog).cursor().execute(sql).fetchall()
    expected = oracle.execute(sql.replace("lite.", "").replace("pg.", "")).fetchall()
    assert sorted(got, key=repr) == sorted(expected, key=repr)
    assert got, "the join matched nothing: the comparison proves little"
