"""SQL and the Polars API build the same plan objects and read the same rows per period.

For one table and one range, the SQL front-end's plan (split monthly, then daily) and the
plan of ``execute_on_ray`` (``by_time`` on the same column and unit) are both scans of
fragments, run by the same executor: the i-th fragments of the two hold exactly the same
rows, on SQLite (dates as text) and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from test_lazy_support import TradesDb, pg_trades, sqlite_trades

import piot
from piot.lazy.on_ray import serialize_plan
from piot.lazy.ray_run import frame_scan
from piot.plan.fragments import FramePlan, Scan
from piot.run.execute import execute_scans
from piot.run.scheduler import Progress

__all__ = ["pg_trades", "sqlite_trades"]  # fixtures used here

pytestmark = pytest.mark.usefixtures("ray_session")

RANGES = [("monthly", "1mo", dt.date(2024, 1, 1), dt.date(2024, 3, 31)), ("daily", "1d", dt.date(2024, 2, 27), dt.date(2024, 3, 2))]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest) -> TradesDb:
    return request.getfixturevalue("sqlite_trades" if request.param == "sqlite" else "pg_trades")


@pytest.mark.parametrize(("unit", "every", "start", "end"), RANGES, ids=[r[0] for r in RANGES])
def test_each_period_holds_the_same_rows_in_both_front_ends(db: TradesDb, unit: str, every: str, start: dt.date, end: dt.date) -> None:
    connection = piot.connect({"sources": {"db": {"url": db.url, "tables": {db.table: {"date_column": "date"}}}}}, time_unit=unit)
    _, plan = connection.engine.plan(f"SELECT id, date FROM db.{db.table} WHERE date BETWEEN '{start}' AND '{end}'")
    fragments = execute_scans(plan.scans)[plan.scans[0].name]

    lf = piot.scan_db(f"SELECT id, date FROM {db.table}", db.url).filter(pl.col("date").is_between(start, end))
    partitions = piot.by_time("date", every).for_frame(lf.collect_schema()).build(pl.col("date").is_between(start, end))
    scan = frame_scan(FramePlan(serialize_plan(lf).data), [piot.RayPartition(p.predicate, p.key) for p in partitions], lf.collect_schema(), ("id", "date"), "by_time")
    assert isinstance(scan, Scan) and isinstance(plan.scans[0], Scan)
    tasks = execute_scans([scan], max_concurrency=4)[scan.name]

    assert len(fragments) == len(tasks) == len(plan.scans[0].fragments) > 1
    assert [f.label for f in scan.fragments][1:-1] == [f.label for f in plan.scans[0].fragments][1:-1]  # inner periods alike
    for fragment, task in zip(fragments, tasks):
        assert sorted(fragment["id"].to_list()) == sorted(task["id"].to_list())  # type: ignore[index]


def test_a_limit_without_order_stops_reading_once_it_has_its_rows(db: TradesDb) -> None:
    """Over 97 daily fragments, LIMIT 5 reads a few and answers 5 rows the query selects; a kept-back condition reads all."""
    connection = piot.connect({"sources": {"db": {"url": db.url, "tables": {db.table: {"date_column": "date"}}}}}, time_unit="daily", max_concurrency=1)
    base = f"SELECT id, date FROM db.{db.table} WHERE date BETWEEN '2024-01-01' AND '2024-04-06'"
    _, whole = connection.engine.plan(base)
    oracle = {row[0] for row in connection.cursor().execute(base).fetchall()}
    for sql, stops in ((base + " LIMIT 5", True), (base + " LIMIT 2 OFFSET 3", True), (base + " AND upper(symbol) = 'AAA' LIMIT 5", False), (base + " ORDER BY id LIMIT 5", False)):
        _, plan = connection.engine.plan(sql)
        assert (plan.row_limit is not None) is stops, sql
        progress = Progress()
        frame = connection.engine.execute(plan, progress=progress)
        assert frame.height == (2 if "LIMIT 2" in sql else 5) and set(frame["id"].to_list()) <= oracle
        if stops:
            assert progress.fragments_done < len(whole.fragments) / 4, (sql, progress.fragments_done)
