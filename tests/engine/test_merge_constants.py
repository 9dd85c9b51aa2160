"""Constants the merge computes alone answer as PostgreSQL does; PostgreSQL runs each query as the oracle.

- A VALUES list types its columns as PostgreSQL does: a quoted constant takes the type of its
  column's other values and fails where it does not read as one, and values of kinds that
  cannot be matched (a boolean and a number) fail.
- LIMIT, OFFSET and FETCH counts at and past the edges of 32 and 64 bits, negative and
  fractional, answer or fail as in PostgreSQL.
"""

from __future__ import annotations

import connectorx
import pytest
from corpus_data import answer_from_arrow, answer_from_rows

import piot
from piot.errors import DataError, Error, ProgrammingError

VALUES = [
    "select * from (values (1, 'a'), (2, true)) v(a, b)",
    "select * from (values (1, 'a'), (2, 'b')) v(a, b)",
    "select * from (values ('x'), (1)) v(a)",
    "select * from (values ('1'), (2)) v(a)",
    "select * from (values (' -7 '), (2)) v(a)",
    "select * from (values (1), (2.5)) v(a)",
    "select * from (values (1.5), ('1e3')) v(a)",
    "select * from (values (1.5e0), ('2.25')) v(a)",
    "select * from (values (true), ('t'), ('yes'), (' OFF '), ('n'), ('1'), (null)) v(a)",
    "select * from (values (true), ('o')) v(a)",
    "select * from (values (true), (1)) v(a)",
    "select * from (values (date '2024-01-01'), ('2024-01-02')) v(a)",
    "select * from (values (date '2024-01-01'), ('2024-02-30')) v(a)",
    "select * from (values (timestamp '2024-01-01 10:00'), ('2024-01-02 03:04:05')) v(a)",
    "select a + 1 from (values ('1'), (2), (null)) v(a)",
    "select a from (values (date '2024-01-01'), ('2024-01-02')) v(a) where a > date '2024-01-01'",
]

ROWS = "(values (1), (2), (3)) v(a)"
COUNTS = [
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


@pytest.mark.parametrize("sql", VALUES + COUNTS)
def test_constants_answer_as_in_postgresql(sql: str, pg_session_url: str, connection: piot.Connection) -> None:
    cursor = connection.cursor()
    try:
        expected = answer_from_arrow(connectorx.read_sql(pg_session_url, sql, return_type="arrow"))
    except RuntimeError as e:
        kind = ProgrammingError if "cannot be matched" in str(e) else DataError
        with pytest.raises(kind):
            cursor.execute(sql)
        return
    try:
        cursor.execute(sql)
    except Error as e:  # pragma: no cover - shown when it fails
        pytest.fail(f"piot raised {e!r} where PostgreSQL answered {expected}")
    got = answer_from_rows([d[0] for d in cursor.description], cursor.fetchall())
    ordered = " order by " in sql
    assert (got.rows if ordered else sorted(got.rows, key=repr)) == (expected.rows if ordered else sorted(expected.rows, key=repr))
