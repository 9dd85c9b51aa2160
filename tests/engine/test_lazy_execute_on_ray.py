"""``lf.piot.execute_on_ray`` as polars-io-tools 0.2.6 has it, on a real local Ray.

Every result is compared with the same pipeline collected without Ray, over in-memory frames,
Parquet / CSV / IPC files and a database source (``scan_db``).
"""

from __future__ import annotations

import datetime as dt
import os
import pickle
from pathlib import Path
from typing import Any

import cloudpickle
import polars as pl
import pytest
from test_lazy_support import TradesDb, assert_same_rows, expected, sqlite_trades

import piot
from piot.lazy import capture_sql, scan_db

__all__ = ["sqlite_trades"]  # fixture used here

pytestmark = [pytest.mark.usefixtures("ray_session"), pytest.mark.timeout(180)]

Q1 = pl.col("date").is_between(dt.date(2024, 1, 1), dt.date(2024, 3, 31))


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, sqlite_trades: TradesDb) -> dict[str, pl.LazyFrame]:
    """The trades as an in-memory frame, as Parquet (hive-partitioned by month), CSV and IPC files, and in a database."""
    root = tmp_path_factory.mktemp("files")
    frame = expected()
    frame.with_columns(month=pl.col("date").dt.strftime("%Y-%m")).write_parquet(root / "parquet", partition_by="month")
    frame.write_csv(root / "trades.csv")
    frame.write_ipc(root / "trades.ipc")
    return {
        "memory": frame.lazy(),
        "parquet": pl.scan_parquet(root / "parquet" / "**" / "*.parquet", hive_partitioning=True).drop("month"),
        "csv": pl.scan_csv(root / "trades.csv", schema=frame.schema),
        "ipc": pl.scan_ipc(root / "trades.ipc"),
        "database": scan_db(f"SELECT id, date, ts, symbol, price, qty FROM {sqlite_trades.table}", sqlite_trades.url),
    }


KINDS = ["memory", "parquet", "csv", "ipc", "database"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("partitions", "covers"),
    [
        (piot.by_time("date", "1w"), pl.lit(True)),
        (piot.by_time("ts", "6h"), pl.lit(True)),
        (piot.by_value("symbol", ["AAA", ["BBB", None], "été"]), pl.col("symbol").is_in(["AAA", "BBB", "été"]) | pl.col("symbol").is_null()),
        (piot.by_key(range(4), pl.col("id").hash() % 4), pl.lit(True)),
        ([piot.ReadPartition(pl.col("qty") < 250, "low"), piot.RayPartition(pl.col("qty") >= 250, "high", {"num_cpus": 0.5})], pl.lit(True)),
    ],
    ids=["by_time-1w", "by_time-6h", "by_value", "by_key-hash", "list"],
)
def test_any_lazyframe_gives_the_rows_of_the_pipeline_without_ray(
    kind: str, partitions: Any, covers: pl.Expr, files: dict[str, pl.LazyFrame]
) -> None:
    """``covers``: the rows the partitions hold (a value list holds only its values)."""
    lf = files[kind]
    after = Q1 & pl.col("ts").is_between(dt.datetime(2024, 1, 1), dt.datetime(2024, 3, 31, 23, 59))
    split = lf.piot.execute_on_ray(partitions, max_concurrency=3).filter(after).select("id", "date", "symbol", "qty").collect()
    whole = lf.filter(after & covers).select("id", "date", "symbol", "qty").collect()
    assert split.height > 0
    assert_same_rows(split, whole)


def test_a_database_source_reads_each_window_in_its_sql(sqlite_trades: TradesDb) -> None:
    lf = scan_db(f"SELECT id, date, ts, symbol, price, qty FROM {sqlite_trades.table}", sqlite_trades.url)
    with capture_sql() as statements:
        split = lf.piot.execute_on_ray(piot.by_time("date", "1mo")).filter(Q1).collect()
    assert len(statements) == 3 and all("'2024-0" in sql for sql in statements)
    assert_same_rows(split, lf.filter(Q1).collect())


def test_values_from_the_filter_after_and_keys_pruned_by_it(files: dict[str, pl.LazyFrame]) -> None:
    lf = files["memory"]
    picked = lf.piot.execute_on_ray(piot.by_value("symbol")).filter(pl.col("symbol").is_in(["AAA", "ZZ "])).collect()
    assert_same_rows(picked, lf.filter(pl.col("symbol").is_in(["AAA", "ZZ "])).collect())
    with capture_sql():
        keyed = lf.piot.execute_on_ray(piot.by_key([1, 2, 3, 4], "id")).filter(pl.col("id") >= 3).collect()
    assert sorted(keyed["id"].to_list()) == [3, 4]


def test_order_of_rows(sqlite_trades: TradesDb) -> None:
    lf = scan_db(f"SELECT id, date FROM {sqlite_trades.table}", sqlite_trades.url)
    ordered = lf.piot.execute_on_ray(piot.by_time("date", "1d"), preserve_partition_order=True).filter(Q1).collect()
    assert ordered["date"].to_list() == sorted(ordered["date"].to_list())
    shortcut = lf.piot.execute_on_ray(date_column="date", time_unit="daily").filter(Q1).collect()
    assert shortcut["date"].to_list() == sorted(shortcut["date"].to_list())  # the calendar shortcut keeps time order
    assert_same_rows(lf.piot.execute_on_ray(piot.by_time("date", "1d")).filter(Q1).collect(), lf.filter(Q1).collect())


def test_head_stops_sending_tasks_once_it_has_its_rows(sqlite_trades: TradesDb) -> None:
    lf = scan_db(f"SELECT id, date FROM {sqlite_trades.table}", sqlite_trades.url)
    # the range comes from the filter before: a filter after would keep Polars from passing the row limit on
    run = lf.filter(Q1).piot.execute_on_ray(piot.by_time("date", "1d"), preserve_partition_order=True, max_concurrency=1)
    with capture_sql() as statements:
        first = run.head(5).collect()
    assert first.height == 5 and len(statements) < 5  # three rows a day: two days hold five rows
    assert first["id"].to_list() == lf.filter(Q1).sort("id").head(5).collect()["id"].to_list()
    assert run.head(0).collect().height == 0


def test_empty_results_keep_the_schema(files: dict[str, pl.LazyFrame]) -> None:
    lf = files["memory"]
    none = lf.piot.execute_on_ray(piot.by_value("symbol", [])).collect()
    assert none.height == 0 and none.schema == lf.collect_schema()
    contradiction = lf.piot.execute_on_ray(piot.by_time("date")).filter((pl.col("date") > dt.date(2024, 3, 1)) & (pl.col("date") < dt.date(2024, 1, 1)))
    assert contradiction.select("id", "price").collect().schema == pl.Schema({"id": pl.Int64, "price": pl.Float64})
    nothing = lf.piot.execute_on_ray(piot.by_time("date", "1mo")).filter(Q1 & (pl.col("qty") < 0)).collect()
    assert nothing.height == 0 and nothing.schema == lf.collect_schema()


def test_a_partitions_own_options_reach_its_task(files: dict[str, pl.LazyFrame]) -> None:
    env = lambda value: {"runtime_env": {"env_vars": {"PIOT_PARTITION": value}}}  # noqa: E731
    lf = files["memory"].with_columns(seen=pl.col("id").map_batches(lambda s: pl.Series([os.environ.get("PIOT_PARTITION", "")] * len(s)), return_dtype=pl.String))
    parts = [piot.RayPartition(pl.col("id") <= 10, "a", env("first")), piot.RayPartition(pl.col("id").is_between(11, 20), "b", env("second"))]
    seen = lf.piot.execute_on_ray(parts).collect()
    assert dict(seen.group_by("seen").len().iter_rows()) == {"first": 10, "second": 10}
    with pytest.raises(piot.ProgrammingError, match="no alive Ray node has that much"):
        lf.piot.execute_on_ray([piot.RayPartition(pl.col("id") < 3, "huge", {"num_cpus": 64})]).collect()


def test_the_frame_pickles_and_runs_after_unpickling(files: dict[str, pl.LazyFrame]) -> None:
    run = files["memory"].piot.execute_on_ray(piot.by_time("date", "1mo")).filter(Q1)
    for dumps, loads in ((pickle.dumps, pickle.loads), (cloudpickle.dumps, cloudpickle.loads)):
        assert_same_rows(loads(dumps(run)).collect(), files["memory"].filter(Q1).collect())


def test_generators_are_read_once_and_the_frame_collects_twice(files: dict[str, pl.LazyFrame]) -> None:
    parts = (piot.ReadPartition(pl.col("id") % 2 == r, r) for r in (0, 1))
    run = files["memory"].piot.execute_on_ray(parts)
    assert run.collect().height == run.collect().height == expected().height


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda lf: lf.piot.execute_on_ray(piot.by_time("date"), date_column="date", time_unit="daily"), "either partitions or"),
        (lambda lf: lf.piot.execute_on_ray(), "give partitions"),
        (lambda lf: lf.piot.execute_on_ray(date_column="date", time_unit="weekly"), "time_unit must be one of"),
        (lambda lf: lf.piot.execute_on_ray(piot.by_time("nope")), "'nope' is not a column"),
        (lambda lf: lf.piot.execute_on_ray(piot.by_time("price")), "must be a Date or Datetime column"),
        (lambda lf: lf.piot.execute_on_ray([pl.col("id") > 1]), "ReadPartition"),
        (lambda lf: lf.piot.execute_on_ray(piot.by_key([1, 1], "id")), "given twice"),
        (lambda lf: lf.piot.execute_on_ray(piot.by_time("date"), return_as="pandas"), "return_as must be one of"),
        (lambda lf: lf.piot.execute_on_ray(piot.by_time("date"), max_concurrency=0), "max_concurrency must be a positive integer"),
        (lambda lf: lf.piot.execute_on_ray(piot.by_time("date"), remote_options=["x"]), "remote_options must be a dict"),
        (lambda lf: piot.by_time("date", "6x"), "cannot read every"),
    ],
)
def test_invalid_arguments_are_value_errors_and_piot_errors(call: Any, pattern: str, files: dict[str, pl.LazyFrame]) -> None:
    with pytest.raises(ValueError, match=pattern) as raised:
        call(files["memory"])
    assert isinstance(raised.value, piot.ProgrammingError)


def test_a_partitioner_without_its_range_says_what_is_missing(files: dict[str, pl.LazyFrame]) -> None:
    with pytest.raises(ValueError, match="two-sided bound on 'date'.*only bounds it from below"):
        files["memory"].piot.execute_on_ray(piot.by_time("date")).filter(pl.col("date") > dt.date(2024, 1, 1)).collect()
    with pytest.raises(ValueError, match="needs the values of 'symbol'"):
        files["memory"].piot.execute_on_ray(piot.by_value("symbol")).collect()
    with pytest.raises(ValueError, match="bounded range of 'qty'"):
        files["memory"].piot.execute_on_ray(piot.by_range("qty", 50)).filter(pl.col("qty") > 3).collect()


def test_code_written_for_polars_io_tools_runs_after_changing_its_import(tmp_path: Path, files: dict[str, pl.LazyFrame]) -> None:
    """The documented calls of polars-io-tools, written as its users write them, with ``import piot``."""
    lf = files["memory"]
    mid = dt.date(2024, 2, 15)
    calls = [
        lf.piot.execute_on_ray(piot.by_time("date", "1mo")).filter(pl.col("date").is_between(dt.date(2024, 1, 1), dt.date(2024, 6, 30))),
        lf.piot.execute_on_ray(date_column="date", time_unit="daily").filter(pl.col("date").is_between(dt.date(2024, 1, 1), dt.date(2024, 1, 9))),
        lf.piot.execute_on_ray(piot.by_value("symbol", ["AAA", "BBB", ["ZZ ", "été"]])),
        lf.piot.execute_on_ray(piot.by_key(range(8), pl.col("id").hash() % 8)),
        lf.piot.execute_on_ray(
            [piot.ReadPartition(pl.col("date") < mid, key="lo"), piot.RayPartition(pl.col("date") >= mid, key="hi", remote_options={"num_cpus": 1})],
            remote_options={"num_cpus": 1}, max_concurrency=4, return_as="ipc",
        ),
    ]  # fmt: skip
    wanted = [
        lf.filter(pl.col("date").is_between(dt.date(2024, 1, 1), dt.date(2024, 6, 30))),
        lf.filter(pl.col("date").is_between(dt.date(2024, 1, 1), dt.date(2024, 1, 9))),
        lf.filter(pl.col("symbol").is_in(["AAA", "BBB", "ZZ ", "été"])),
        lf.filter(pl.col("id").is_not_null()),
        lf.filter(pl.col("date").is_not_null()),
    ]
    for call, want in zip(calls, wanted):
        assert_same_rows(call.collect(), want.collect())
