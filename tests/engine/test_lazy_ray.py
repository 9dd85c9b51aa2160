"""``lf.piot.execute_on_ray`` on a real local Ray, over SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest
from test_lazy_support import TradesDb, assert_same_rows, expected, mysql_trades, pg_trades, quote, sqlite_trades, trades

from piot.lazy import capture_sql, scan_db

__all__ = ["mysql_trades", "pg_trades", "sqlite_trades", "trades"]  # fixtures used here

pytestmark = [pytest.mark.usefixtures("ray_session"), pytest.mark.timeout(180)]

COLUMNS = "id, date, ts, symbol, price, qty"
Q1_DATES = pl.col("date").is_between(pl.date(2024, 1, 1), pl.date(2024, 3, 31))
Q1_TIMES = (pl.col("ts") >= datetime(2024, 1, 1)) & (pl.col("ts") < datetime(2024, 4, 1))
MONTHS = (("2024-01-01", "2024-02-01"), ("2024-02-01", "2024-03-01"), ("2024-03-01", "2024-04-01"))


def _scan(db: TradesDb) -> pl.LazyFrame:
    return scan_db(f"SELECT {COLUMNS} FROM {db.table}", db.url)


def _run(lf: pl.LazyFrame) -> tuple[pl.DataFrame, list[str]]:
    with capture_sql() as statements:
        frame = lf.collect()
    return frame, statements


def _where(statements: list[str]) -> set[str]:
    return {sql.split(" WHERE ", 1)[1] for sql in statements}


def _date_windows(kind: str) -> set[str]:
    col = quote("date", kind)
    if kind == "sqlite":  # ISO text: the inclusive end 2024-03-31 becomes < the next day
        return {f"{col} >= '{start}' AND {col} < '{end}'" for start, end in MONTHS}
    typed = lambda day: f"CAST('{day}' AS DATE)"  # noqa: E731
    windows = {f"{col} >= {typed(start)} AND {col} < {typed(end)}" for start, end in MONTHS[:2]}
    return windows | {f"{col} >= {typed('2024-03-01')} AND {col} <= {typed('2024-03-31')}"}


def _time_windows(kind: str) -> set[str]:
    col = quote("ts", kind)
    if kind == "sqlite":
        return {f"{col} >= '{start}' AND {col} < '{end}'" for start, end in MONTHS}
    cast = "DATETIME(6)" if kind == "mysql" else "TIMESTAMP"
    typed = lambda day: f"CAST('{day} 00:00:00' AS {cast})"  # noqa: E731
    return {f"{col} >= {typed(start)} AND {col} < {typed(end)}" for start, end in MONTHS}


def test_the_documented_example_runs_one_task_per_month(trades: TradesDb) -> None:
    lf = _scan(trades)
    split, statements = _run(lf.filter(Q1_DATES).piot.execute_on_ray(date_column="date", time_unit="monthly"))
    assert len(statements) == 3
    assert _where(statements) == _date_windows(trades.kind)
    unsplit = lf.filter(Q1_DATES).collect()
    assert_same_rows(split, unsplit)
    oracle = trades.sql(f"SELECT {COLUMNS} FROM {trades.table} WHERE date BETWEEN '2024-01-01' AND '2024-03-31'")
    assert_same_rows(split, oracle)
    assert split.height == expected().filter(Q1_DATES).height > 0


def test_a_datetime_column_filtered_after_execute_on_ray(trades: TradesDb) -> None:
    lf = _scan(trades)
    run = lf.piot.execute_on_ray(date_column="ts", time_unit="monthly").filter(Q1_TIMES)
    split, statements = _run(run)
    assert _where(statements) == _time_windows(trades.kind)
    assert_same_rows(split, lf.filter(Q1_TIMES).collect())
    assert_same_rows(split, expected().filter(Q1_TIMES))
    if trades.kind != "sqlite":  # SQLite compares text; the typed rows above are its oracle
        oracle = trades.sql(f"SELECT {COLUMNS} FROM {trades.table} WHERE ts >= '2024-01-01' AND ts < '2024-04-01'")
        assert_same_rows(split, oracle)


def test_bounds_from_both_sides_and_filters_after_reach_the_tasks(trades: TradesDb) -> None:
    lf = _scan(trades).filter(pl.col("date") >= date(2024, 2, 10))
    run = lf.select("date", "symbol", "price").piot.execute_on_ray("date").filter(pl.col("date") < date(2024, 3, 5), pl.col("symbol") == "BBB")
    split, statements = _run(run)
    assert len(statements) == 2 and all("'BBB'" in sql for sql in statements)
    wanted = expected().filter(pl.col("date") >= date(2024, 2, 10), pl.col("date") < date(2024, 3, 5), pl.col("symbol") == "BBB")
    assert_same_rows(split, wanted.select("date", "symbol", "price"))


def test_datetime_filter_before_with_a_date_column_after(sqlite_trades: TradesDb) -> None:
    lf = _scan(sqlite_trades).filter(Q1_TIMES).with_columns(notional=pl.col("price") * pl.col("qty"))
    split, statements = _run(lf.piot.execute_on_ray("ts", time_unit="monthly"))
    assert len(statements) == 3
    assert_same_rows(split, lf.collect())


def test_sqlite_first_day_of_month_rows_are_not_lost(tmp_path: pytest.TempPathFactory) -> None:
    import sqlite3

    path = tmp_path / "first_days.db"  # type: ignore[operator]
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (id INTEGER, d DATE, ts TIMESTAMP)")
        rows = []
        for month in (1, 2, 3, 4):
            day = f"2024-{month:02d}-01"
            rows += [(len(rows), day, f"{day} 00:00:00"), (len(rows) + 1, day, f"{day} 00:00:00.000000"), (len(rows) + 2, day, f"{day} 00:00:00.000001")]
        connection.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    lf = scan_db("SELECT id, d, ts FROM t", f"sqlite://{path}")
    by_ts = lf.piot.execute_on_ray("ts").filter(pl.col("ts") >= datetime(2024, 1, 1), pl.col("ts") <= datetime(2024, 4, 1)).collect()
    assert sorted(by_ts["id"].to_list()) == list(range(11))  # Jan-Mar's first-day rows and April's two at midnight
    by_day = lf.filter(pl.col("d").is_between(date(2024, 2, 1), date(2024, 3, 1))).piot.execute_on_ray("d").collect()
    assert sorted(by_day["id"].to_list()) == list(range(3, 9))


@pytest.mark.parametrize("return_as", ["ipc", "parquet"])
def test_results_shipped_as_bytes(sqlite_trades: TradesDb, return_as: str) -> None:
    lf = _scan(sqlite_trades).filter(Q1_DATES)
    split, _ = _run(lf.piot.execute_on_ray("date", return_as=return_as, max_concurrency=1))
    assert_same_rows(split, lf.collect())


@pytest.mark.parametrize(
    ("time_unit", "start", "end", "tasks"),
    [
        ("daily", date(2024, 2, 27), date(2024, 3, 2), 5),  # one task per calendar day, the inclusive end day included
        ("yearly", date(2023, 12, 1), date(2024, 1, 31), 2),
        ("auto", date(2024, 1, 1), date(2024, 1, 10), 10),  # auto picks daily for ten days
    ],
)
def test_time_units(sqlite_trades: TradesDb, time_unit: str, start: date, end: date, tasks: int) -> None:
    lf = _scan(sqlite_trades).filter(pl.col("date").is_between(start, end))
    split, statements = _run(lf.piot.execute_on_ray("date", time_unit=time_unit, remote_options={"num_cpus": 1}))
    assert len(statements) == tasks
    assert_same_rows(split, lf.collect())


def test_steps_after_execute_on_ray_run_on_the_result(trades: TradesDb) -> None:
    lf = _scan(trades).filter(Q1_DATES)
    totals = lf.piot.execute_on_ray("date").group_by("symbol").agg(pl.col("qty").sum(), pl.len()).sort("symbol", nulls_last=True)
    wanted = lf.group_by("symbol").agg(pl.col("qty").sum(), pl.len()).sort("symbol", nulls_last=True)
    assert_same_rows(totals.collect(), wanted.collect())
    top = lf.piot.execute_on_ray("date").sort("price", "id", descending=True, nulls_last=True).head(5).collect()
    assert top["id"].to_list() == lf.sort("price", "id", descending=True, nulls_last=True).head(5).collect()["id"].to_list()


def test_a_time_zone_aware_column_on_postgres(pg_trades: TradesDb) -> None:
    from datetime import timezone

    lf = scan_db(f"SELECT id, price, ts AT TIME ZONE 'UTC' AS z FROM {pg_trades.table}", pg_trades.url)
    start, end = datetime(2024, 1, 1, tzinfo=timezone.utc), datetime(2024, 4, 1, tzinfo=timezone.utc)
    run = lf.piot.execute_on_ray("z").filter(pl.col("z") >= start, pl.col("z") < end)
    split, statements = _run(run)
    assert len(statements) == 3
    assert all(sql.count("AS TIMESTAMPTZ)") == 2 for sql in statements)
    assert any("'2024-02-01 00:00:00+00:00'" in sql for sql in statements)
    assert_same_rows(split, lf.filter(pl.col("z") >= start, pl.col("z") < end).collect())
    assert split.height == expected().filter(Q1_TIMES).height
