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
