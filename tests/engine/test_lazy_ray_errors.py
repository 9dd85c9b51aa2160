"""``execute_on_ray`` refuses what it cannot do, quickly, with a piot error that says what to do."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from test_lazy_support import TradesDb, sqlite_trades

from piot.errors import OperationalError, ProgrammingError
from piot.lazy import scan_db

__all__ = ["sqlite_trades"]  # fixture used here

pytestmark = [pytest.mark.usefixtures("ray_session"), pytest.mark.timeout(120)]

Q1 = pl.col("date").is_between(pl.date(2024, 1, 1), pl.date(2024, 3, 31))


@pytest.fixture
def lf(sqlite_trades: TradesDb) -> pl.LazyFrame:
    return scan_db(f"SELECT id, date, ts, symbol, price, qty FROM {sqlite_trades.table}", sqlite_trades.url)


def test_a_missing_bound_is_reported_at_collect(lf: pl.LazyFrame) -> None:
    run = lf.piot.execute_on_ray("date")
    with pytest.raises(ProgrammingError, match=r"two-sided bound on 'date'.*has none.*is_between"):
        run.collect()


def test_a_one_sided_bound_says_which_side(lf: pl.LazyFrame) -> None:
    run = lf.filter(pl.col("date") >= pl.date(2024, 1, 1)).piot.execute_on_ray("date")
    with pytest.raises(ProgrammingError, match="only bounds it from below"):
        run.collect()
    with pytest.raises(ProgrammingError, match="only bounds it from above"):
        lf.piot.execute_on_ray("ts").filter(pl.col("ts") < pl.datetime(2024, 1, 1)).collect()


def test_a_bound_on_another_column_is_not_a_bound(lf: pl.LazyFrame) -> None:
    with pytest.raises(ProgrammingError, match="two-sided bound on 'ts'"):
        lf.filter(Q1).piot.execute_on_ray("ts").collect()


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"date_column": "nope"}, r"'nope' is not a column of the frame \(it has: id, date, ts"),
        ({"date_column": "price"}, "'price' is Float64; it must be a Date or Datetime column"),
        ({"date_column": "date", "time_unit": "weekly"}, "time_unit must be one of daily, monthly, yearly, auto"),
        ({"date_column": "date", "return_as": "pandas"}, "return_as must be one of arrow, ipc, parquet"),
        ({"date_column": "date", "max_concurrency": 0}, "max_concurrency must be a positive integer"),
        ({"date_column": "date", "remote_options": ["num_cpus"]}, "remote_options must be a dict"),
        ({"date_column": "date", "remote_options": {"bogus_option": 1}}, "not valid for a Ray task"),
    ],
)
def test_bad_arguments(lf: pl.LazyFrame, kwargs: dict[str, Any], pattern: str) -> None:
    with pytest.raises(ProgrammingError, match=pattern):
        lf.filter(Q1).piot.execute_on_ray(**kwargs)


@pytest.mark.parametrize(
    "options",
    [{"num_cpus": 64}, {"num_gpus": 1}, {"memory": 10**15}, {"resources": {"piot_special_hardware": 1}}],
)
def test_remote_options_no_node_can_satisfy_fail_fast(lf: pl.LazyFrame, options: dict[str, Any]) -> None:
    started = time.monotonic()
    with pytest.raises(ProgrammingError, match="no alive Ray node has that much.*lower num_cpus"):
        lf.filter(Q1).piot.execute_on_ray("date", remote_options=options)
    assert time.monotonic() - started < 10


#: plans whose steps need more than a partition's rows: each task runs the whole plan and keeps its partition
WHOLE_PLANS = [
    lambda lf: lf.group_by("symbol").agg(pl.col("price").sum(), pl.col("date").max()),
    lambda lf: lf.sort("price"),
    lambda lf: lf.unique(),
    lambda lf: lf.sort("id").head(10),
    lambda lf: lf.join(lf.select("symbol").unique(), on="symbol"),
    lambda lf: lf.with_columns(pl.col("price").sum().over("symbol")),
    lambda lf: lf.with_columns(running=pl.col("qty").cum_sum()),
    lambda lf: lf.with_columns(pl.col("date").dt.offset_by("1d")),
]


@pytest.mark.parametrize("build", WHOLE_PLANS)
def test_plans_that_are_not_row_wise_give_the_same_rows(lf: pl.LazyFrame, build: Any) -> None:
    """Any plan runs, as in polars-io-tools: a partition of its output is its output filtered to the partition."""
    plan = build(lf.filter(Q1))
    split = plan.piot.execute_on_ray("date").filter(Q1).collect()
    whole = plan.filter(Q1).collect()
    assert split.height == whole.height
    assert sorted(split.rows(), key=repr) == sorted(whole.rows(), key=repr)


def test_a_failing_task_names_its_period(tmp_path: Path) -> None:
    path = tmp_path / "vanishing.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (d DATE, x INTEGER)")
        connection.execute("INSERT INTO t VALUES ('2024-01-15', 1)")
    run = scan_db("SELECT d, x FROM t", f"sqlite://{path}").filter(pl.col("d").is_between(pl.date(2024, 1, 1), pl.date(2024, 2, 29)))
    with sqlite3.connect(path) as connection:
        connection.execute("DROP TABLE t")
    with pytest.raises(OperationalError, match=r"the task for period \[2024-0[12]-01, .*no such table") as raised:
        run.piot.execute_on_ray("d").collect()
    assert raised.value.period is not None


def test_ray_not_initialised_says_to_call_ray_init(tmp_path: Path) -> None:
    """Run in a fresh interpreter: this session's Ray is already started."""
    path = tmp_path / "no_ray.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (d DATE, x INTEGER)")
    script = textwrap.dedent(
        f"""
        import polars as pl, ray
        from piot.errors import OperationalError
        from piot.lazy import scan_db
        assert not ray.is_initialized()
        lf = scan_db("SELECT d, x FROM t", "sqlite://{path}").filter(pl.col("d").is_between(pl.date(2024, 1, 1), pl.date(2024, 3, 31)))
        try:
            lf.piot.execute_on_ray("d")
        except RuntimeError as e:  # what code written for polars-io-tools catches
            assert isinstance(e, OperationalError)
            print("RAISED:", e)
        assert not ray.is_initialized()
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "RAISED: execute_on_ray needs Ray: call ray.init() first" in done.stdout
