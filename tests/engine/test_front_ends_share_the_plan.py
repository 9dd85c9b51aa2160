"""SQL and the Polars API cut the same bounds into the same periods and read the same rows per period.

For one table and one range, the SQL front-end's fragments (split monthly, then daily) and
``execute_on_ray``'s tasks (``by_time`` on the same column and unit) are run side by side:
the i-th fragment and the i-th task hold exactly the same rows, on SQLite (dates as text)
and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from test_lazy_support import TradesDb, pg_trades, sqlite_trades

import piot
from piot.lazy.on_ray import run_partitions, serialize_plan
from piot.run.execute import execute_scans

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
    results, _ = run_partitions(serialize_plan(lf), partitions, ("id", "date"), return_as="arrow", remote_options={}, max_concurrency=4)
    tasks = [pl.from_arrow(results[i].payload) for i in sorted(results)]

    assert len(fragments) == len(tasks) == len(plan.scans[0].fragments) > 1
    for fragment, task in zip(fragments, tasks):
        assert sorted(fragment["id"].to_list()) == sorted(task["id"].to_list())  # type: ignore[index]
