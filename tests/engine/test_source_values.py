"""Values come back the same whatever way a source stores them.

- SQLite keeps a DECIMAL/NUMERIC column's whole numbers as INTEGER and the rest as REAL;
  such a column must still read as one Float64 column, in every fragment.
- PostgreSQL pads CHAR(n) values with blanks to n; they are read right-trimmed (as MariaDB
  returns them), so that comparisons in the merge agree with the source's own.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from corpus_data import run_cli

import piot


def test_sqlite_decimal_column_with_mixed_storage(tmp_path: Path, ray_session: None) -> None:
    """Whole and fractional values in one DECIMAL column: without a cast connectorx fails on the first REAL."""
    path = tmp_path / "prices.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE prices (d DATE, amount DECIMAL(15,2), plain NUMERIC)")
        rows = [("2024-01-01", 900.0, 3), ("2024-01-01", 900.25, 1.5), ("2024-01-02", 12.0, 7)]
        db.executemany("INSERT INTO prices VALUES (?, ?, ?)", rows)
    stored = sqlite3.connect(path).execute("SELECT typeof(amount) FROM prices").fetchall()
    assert stored == [("integer",), ("real",), ("integer",)]
    cursor = piot.connect({"sources": {"lite": {"url": f"sqlite://{path}"}}}, time_unit="daily").cursor()
    cursor.execute(
        "SELECT d, amount, plain, amount * 2 AS twice FROM lite.prices "
        "WHERE d BETWEEN '2024-01-01' AND '2024-01-02' ORDER BY amount"
    )
    assert cursor.fetchall() == [
        (dt.date(2024, 1, 2), 12.0, 7.0, 24.0),
        (dt.date(2024, 1, 1), 900.0, 3.0, 1800.0),
        (dt.date(2024, 1, 1), 900.25, 1.5, 1800.5),
    ]


@pytest.mark.postgres
def test_postgres_char_columns_compare_in_the_merge_as_in_the_source(
    pg_session_url: str, tmp_path: Path, ray_session: None
) -> None:
    """A CHAR(10) value joined and compared with text from another source: padding would make every match fail."""
    run_cli(
        "postgres",
        pg_session_url,
        "CREATE TABLE sv_codes (code CHAR(10), label VARCHAR(20));"
        "INSERT INTO sv_codes VALUES ('AB', 'first'), ('CD  ', 'second'), (NULL, 'none');",
    )
    lite = tmp_path / "names.db"
    with sqlite3.connect(lite) as db:
        db.execute("CREATE TABLE names (code TEXT, owner TEXT)")
        db.executemany("INSERT INTO names VALUES (?, ?)", [("AB", "ann"), ("CD", "bob"), ("EF", "cy")])
    catalog = {"sources": {"pg": {"url": pg_session_url}, "lite": {"url": f"sqlite://{lite}"}}}
    cursor = piot.connect(catalog).cursor()
    cursor.execute(
        "SELECT c.code, c.label, n.owner, length(c.code) AS width FROM pg.sv_codes AS c JOIN lite.names AS n ON c.code = n.code "
        "WHERE c.code = 'AB' OR n.owner = 'bob' ORDER BY c.code"
    )
    assert cursor.fetchall() == [("AB", "first", "ann", 2), ("CD", "second", "bob", 2)]
    cursor.execute("SELECT code FROM pg.sv_codes WHERE code = 'CD' AND label LIKE 's%'")
    assert cursor.fetchall() == [("CD",)]


#: PostgreSQL types piot has no Polars type for: read as PostgreSQL's text of the value
OPAQUE_PG = "span interval, ints integer[], ip inet, cash money, spot point, bits bit(3), doc xml, tags text[]"
OPAQUE_PG_ROW = "'1 day 2 hours', '{1,2}', '10.0.0.1/8', 12.5, '(1,2)', B'101', '<a/>', '{x,\"y z\"}'"


@pytest.mark.postgres
def test_postgres_types_without_a_polars_type_read_as_their_text(pg_session_url: str, ray_session: None) -> None:
    run_cli(
        "postgres",
        pg_session_url,
        f"CREATE TABLE sv_opaque (id integer, {OPAQUE_PG}); INSERT INTO sv_opaque VALUES (1, {OPAQUE_PG_ROW}), (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);",
    )
    columns = [c.split()[0] for c in OPAQUE_PG.split(", ")]
    expected = connectorx_rows(
        pg_session_url, "SELECT id, " + ", ".join(f"{c}::text AS {c}" for c in columns) + " FROM sv_opaque ORDER BY id"
    )
    cursor = piot.connect({"sources": {"pg": {"url": pg_session_url}}}).cursor()
    cursor.execute("SELECT * FROM pg.sv_opaque ORDER BY id")
    assert cursor.fetchall() == expected
    cursor.execute("SELECT count(span) AS n, count(*) FILTER (WHERE ip IS NULL) AS no_ip FROM pg.sv_opaque")
    assert cursor.fetchall() == [(1, 1)]
    cursor.execute("SELECT id FROM pg.sv_opaque WHERE CAST(span AS TEXT) = '1 day 02:00:00'")
    assert cursor.fetchall() == [(1,)]


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "SELECT id FROM pg.sv_opaque2 WHERE span = '26 hours'",
        "SELECT id FROM pg.sv_opaque2 ORDER BY span",
        "SELECT span, count(*) FROM pg.sv_opaque2 GROUP BY span",
        "SELECT s.id FROM (SELECT id, span AS s_span FROM pg.sv_opaque2) AS s WHERE s.s_span > '1 day'",
        "WITH w AS (SELECT span FROM pg.sv_opaque2) SELECT max(span) FROM w",
    ],
)
def test_comparing_a_column_read_as_text_is_refused_by_name(sql: str, pg_session_url: str, ray_session: None) -> None:
    """As text, '1 day 02:00:00' = '26 hours' would be false where PostgreSQL says true: refused, never answered differently."""
    run_cli(
        "postgres",
        pg_session_url,
        "CREATE TABLE IF NOT EXISTS sv_opaque2 (id integer, span interval); INSERT INTO sv_opaque2 SELECT 1, '1 day 2 hours' WHERE NOT EXISTS (SELECT 1 FROM sv_opaque2);",
    )
    cursor = piot.connect({"sources": {"pg": {"url": pg_session_url}}}).cursor()
    with pytest.raises(piot.NotSupportedError, match="is interval, which piot reads as text"):
        cursor.execute(sql)


@pytest.mark.postgres
def test_a_citext_column_is_shown_but_not_compared_as_text(pg_session_url: str, ray_session: None) -> None:
    """citext ignores case where the merge would not: comparing it would answer differently from PostgreSQL, so it is refused."""
    run_cli("postgres", pg_session_url, "CREATE EXTENSION IF NOT EXISTS citext; CREATE TABLE sv_ci (id integer, s citext); INSERT INTO sv_ci VALUES (1, 'a'), (2, 'A'), (3, 'b');")
    cursor = piot.connect({"sources": {"pg": {"url": pg_session_url}}}).cursor()
    cursor.execute("SELECT id, s FROM pg.sv_ci ORDER BY id")
    assert cursor.fetchall() == connectorx_rows(pg_session_url, "SELECT id, s::text AS s FROM sv_ci ORDER BY id")
    for sql in ("SELECT id FROM pg.sv_ci WHERE s = 'a'", "SELECT id FROM pg.sv_ci ORDER BY s", "SELECT s, count(*) FROM pg.sv_ci GROUP BY s"):
        with pytest.raises(piot.NotSupportedError, match="column s is .*, which piot reads as text"):
            cursor.execute(sql)


@pytest.mark.mariadb
def test_mariadb_types_without_a_polars_type_read_as_their_text(mysql_session_url: str, ray_session: None) -> None:
    run_cli(
        "mysql",
        mysql_session_url,
        "CREATE TABLE sv_opaque (id integer, y year, b bit(3)); INSERT INTO sv_opaque VALUES (1, 2024, b'101'), (2, NULL, NULL);",
    )
    expected = connectorx_rows(
        mysql_session_url, "SELECT id, CAST(y AS CHAR) AS y, CAST(b AS CHAR) AS b FROM sv_opaque ORDER BY id"
    )
    cursor = piot.connect({"sources": {"my": {"url": mysql_session_url}}}).cursor()
    cursor.execute("SELECT * FROM my.sv_opaque ORDER BY id")
    assert cursor.fetchall() == expected


def connectorx_rows(url: str, sql: str) -> list[tuple[object, ...]]:
    """The source's own answer, as rows."""
    import connectorx

    table = connectorx.read_sql(url, sql, return_type="arrow")
    return list(zip(*(table.column(i).to_pylist() for i in range(table.num_columns))))
