"""``scan_db`` on SQLite, PostgreSQL and MariaDB: what is pushed, and that answers stay right."""

from __future__ import annotations

from datetime import date, datetime, timezone

import polars as pl
import pytest
from test_lazy_support import TradesDb, assert_same_rows, expected, mysql_trades, pg_trades, quote, sqlite_trades, trades

from piot.connectors.catalog import load_catalog
from piot.errors import NotSupportedError, OperationalError, ProgrammingError
from piot.lazy import capture_sql, scan_db
from piot.lazy.scan import DbScan

__all__ = ["mysql_trades", "pg_trades", "sqlite_trades", "trades"]  # fixtures used here

COLUMNS = "id, date, ts, symbol, price, qty"


def _scan(db: TradesDb) -> pl.LazyFrame:
    return scan_db(f"SELECT {COLUMNS} FROM {db.table}", db.url)


def _collect(lf: pl.LazyFrame) -> tuple[pl.DataFrame, list[str]]:
    with capture_sql() as statements:
        frame = lf.collect()
    return frame, statements


def test_schema_is_read_once_with_a_no_rows_query(trades: TradesDb) -> None:
    with capture_sql() as statements:
        lf = _scan(trades)
    schema = lf.collect_schema()
    assert schema.names() == ["id", "date", "ts", "symbol", "price", "qty"]
    assert (schema["date"], schema["ts"], schema["symbol"], schema["price"]) == (pl.Date, pl.Datetime("us"), pl.String, pl.Float64)
    assert "WHERE 1 = 0" in statements[0]
    # SQLite types text-looking columns of an empty result as text: one row is read to refine them
    assert statements[1:] == ([statements[0].replace("WHERE 1 = 0", "LIMIT 1")] if trades.kind == "sqlite" else [])


def test_everything_read_equals_the_table(trades: TradesDb) -> None:
    frame, statements = _collect(_scan(trades))
    assert_same_rows(frame, expected())
    assert_same_rows(frame, trades.sql(f"SELECT {COLUMNS} FROM {trades.table}"))
    assert len(statements) == 1 and "WHERE" not in statements[0]


def test_projection_and_filter_are_pushed(trades: TradesDb) -> None:
    lf = _scan(trades).filter(
        pl.col("date").is_between(pl.date(2024, 1, 1), pl.date(2024, 3, 31)),
        pl.col("symbol").is_in(["BBB", "O'Neil"]),
        pl.col("price") > 120,
    )
    frame, statements = _collect(lf.select("symbol", "price"))
    q = lambda name: quote(name, trades.kind)  # noqa: E731
    (sql,) = statements
    assert sql.startswith(f"SELECT {q('date')}, {q('symbol')}, {q('price')} FROM (")
    assert f"{q('price')} > 120" in sql
    assert "O''Neil" in sql and "BBB" in sql
    assert ("'2024-01-01'" in sql) and ("2024-03-31" in sql or "2024-04-01" in sql)
    oracle = trades.sql(
        f"SELECT symbol, price FROM {trades.table} WHERE date BETWEEN '2024-01-01' AND '2024-03-31' "
        "AND symbol IN ('BBB', 'O''Neil') AND price > 120"
    )
    assert_same_rows(frame, oracle)
    typed = expected().filter(
        pl.col("date").is_between(date(2024, 1, 1), date(2024, 3, 31)), pl.col("symbol").is_in(["BBB", "O'Neil"]), pl.col("price") > 120
    )
    assert_same_rows(frame, typed.select("symbol", "price"))


def test_typed_literals_in_each_dialect(trades: TradesDb) -> None:
    lf = _scan(trades).filter(pl.col("ts") < datetime(2024, 2, 1, 13, 30, 0, 250001), pl.col("ts") >= datetime(2024, 2, 1, 13, 30))
    frame, (sql,) = _collect(lf)
    if trades.kind == "postgres":
        assert "CAST('2024-02-01 13:30:00.250001' AS TIMESTAMP)" in sql
    elif trades.kind == "mysql":
        assert "CAST('2024-02-01 13:30:00.250001' AS DATETIME(6))" in sql
    else:  # ISO text: whole days, the exact bound applied by Polars
        assert """"ts" >= '2024-02-01' AND "ts" < '2024-02-02'""" in sql
    assert frame["ts"].to_list() == [datetime(2024, 2, 1, 13, 30, 0, 250000)]


def test_sqlite_first_day_rows_are_not_lost(sqlite_trades: TradesDb) -> None:
    lf = _scan(sqlite_trades)
    for predicate in (
        (pl.col("ts") >= datetime(2024, 2, 1)) & (pl.col("ts") < datetime(2024, 3, 1)),
        pl.col("ts").is_between(datetime(2024, 2, 1), datetime(2024, 2, 29, 23, 59, 59, 999999)),
        pl.col("date") >= date(2024, 2, 1),
        pl.col("ts") <= datetime(2024, 2, 1),
    ):
        frame, _ = _collect(lf.filter(predicate))
        assert_same_rows(frame, expected().filter(predicate))


def test_limit_is_pushed_without_a_predicate(trades: TradesDb) -> None:
    frame, (sql,) = _collect(_scan(trades).head(5))
    assert sql.endswith("LIMIT 5") and frame.height == 5


def test_a_predicate_that_cannot_be_pushed_is_still_applied(trades: TradesDb) -> None:
    predicate = (pl.col("price") * 2 > 300) & (pl.col("symbol").str.len_chars() == 3)
    frame, (sql,) = _collect(_scan(trades).filter(predicate))
    assert "WHERE" not in sql
    assert_same_rows(frame, expected().filter(predicate))


def test_pushed_part_of_a_predicate_and_the_rest(trades: TradesDb) -> None:
    predicate = (pl.col("qty") >= 250) & (pl.col("symbol").str.starts_with("a"))
    frame, (sql,) = _collect(_scan(trades).filter(predicate))
    assert f"{quote('qty', trades.kind)} >= 250" in sql
    assert_same_rows(frame, expected().filter(predicate))


def test_empty_reads_keep_the_schema(trades: TradesDb) -> None:
    lf = _scan(trades)
    frame, _ = _collect(lf.filter(pl.col("date") > date(2030, 1, 1)))
    assert frame.height == 0 and frame.schema == lf.collect_schema()


def test_limit_is_sent_only_when_the_whole_predicate_is_pushed_exactly(sqlite_trades: TradesDb) -> None:
    source = load_catalog({"sources": {"db": {"url": sqlite_trades.url}}}).source("db")
    scan = DbScan(source, f"SELECT {COLUMNS} FROM {sqlite_trades.table}", tuple(_scan(sqlite_trades).collect_schema().items()))
    sql, columns = scan.plan_read(["symbol"], pl.col("qty") > 3, 5)
    assert sql.endswith("LIMIT 5") and columns == ["symbol", "qty"]
    sql, _ = scan.plan_read(None, (pl.col("qty") > 3) & (pl.col("price") * 2 > 1), 5)
    assert "LIMIT" not in sql and '"qty" > 3' in sql
    sql, _ = scan.plan_read(None, pl.col("date") > date(2024, 1, 1), 5)  # whole days on ISO text: not exact
    assert "LIMIT" not in sql


def test_aware_timestamps_on_postgres(pg_trades: TradesDb) -> None:
    lf = scan_db(f"SELECT id, ts AT TIME ZONE 'UTC' AS z FROM {pg_trades.table}", pg_trades.url)
    assert lf.collect_schema()["z"] == pl.Datetime("us", "UTC")
    moment = datetime(2024, 3, 1, 13, 30, tzinfo=timezone.utc)
    frame, (sql,) = _collect(lf.filter(pl.col("z") >= moment))
    assert "AS TIMESTAMPTZ)" in sql
    wanted = expected().filter(pl.col("ts") >= datetime(2024, 3, 1, 13, 30)).select("id")
    assert_same_rows(frame.select("id"), wanted)


def test_sql_errors_are_piot_errors(sqlite_trades: TradesDb) -> None:
    with pytest.raises(ProgrammingError, match="syntax error at or near 'WHERE'") as raised:
        scan_db("SELECT FROM WHERE (", sqlite_trades.url)
    assert (raised.value.line, raised.value.col) == (1, 13)
    with pytest.raises(ProgrammingError, match="unterminated quoted text"):
        scan_db("SELECT 'unterminated", sqlite_trades.url)
    with pytest.raises(NotSupportedError, match="DELETE"):
        scan_db(f"DELETE FROM {sqlite_trades.table}", sqlite_trades.url)
    with pytest.raises(NotSupportedError, match="only one statement"):
        scan_db("SELECT 1; SELECT 2", sqlite_trades.url)
    with pytest.raises(OperationalError, match="no_such_table"):
        scan_db("SELECT * FROM no_such_table", sqlite_trades.url)
    with pytest.raises(ProgrammingError, match="unsupported URL scheme"):
        scan_db("SELECT 1", "oops://nowhere/db")


def test_a_failing_source_is_an_operational_error_without_the_password(pg_url: str) -> None:
    url = pg_url.replace("://postgres@", "://postgres:s3cret@")  # trust auth: the password is ignored
    with pytest.raises(OperationalError) as raised:
        scan_db("SELECT * FROM piot_no_such_table", url)
    assert "piot_no_such_table" in str(raised.value) and "s3cret" not in str(raised.value)
