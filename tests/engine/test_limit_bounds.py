"""LIMIT, OFFSET and FETCH counts at and past the edges answer as PostgreSQL does (PostgreSQL is the oracle)."""

from __future__ import annotations

import connectorx
import pytest
from corpus_data import answer_from_arrow, answer_from_rows

import piot
from piot.errors import DataError

ROWS = "(values (1), (2), (3)) v(a)"
QUERIES = [
    f"select a from {ROWS} order by a limit 9223372036854775807",
    f"select a from {ROWS} order by a limit 4294967296",
    f"select a from {ROWS} order by a offset 9223372036854775807",
    f"select a from {ROWS} order by a limit 1 offset 4294967296",
    f"select a from {ROWS} order by a limit 9223372036854775808",
    f"select a from {ROWS} order by a offset 99999999999999999999999",
    f"select a from {ROWS} order by a limit -1",
    f"select a from {ROWS} order by a offset -1",
    f"select a from {ROWS} order by a limit 1.5",
    f"select a from {ROWS} order by a limit 2 offset 1.4",
    f"select a from {ROWS} union select 7 order by 1 limit 9223372036854775807",
    f"select a from {ROWS} union all select 7 order by 1 limit 1 offset 9223372036854775807",
    f"select a from {ROWS} union select 7 order by 1 offset 9223372036854775808",
    f"select a from {ROWS} order by a offset 1 rows fetch first 9223372036854775807 rows only",
]


@pytest.fixture(scope="module")
def connection(pg_session_url: str) -> piot.Connection:
    return piot.connect({"sources": {"pg": {"url": pg_session_url}}})


@pytest.mark.parametrize("sql", QUERIES)
def test_counts_answer_as_in_postgresql(sql: str, pg_session_url: str, connection: piot.Connection) -> None:
    cursor = connection.cursor()
    try:
        expected = answer_from_arrow(connectorx.read_sql(pg_session_url, sql, return_type="arrow"))
    except RuntimeError:
        with pytest.raises(DataError):
            cursor.execute(sql)
        return
    cursor.execute(sql)
    assert answer_from_rows([d[0] for d in cursor.description], cursor.fetchall()).rows == expected.rows
