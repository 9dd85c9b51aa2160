"""Reading optimised Polars plans: row-wise or not, and the bounds on the date column."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.io.plugins import register_io_source

from piot.lazy.bounds import bounds_for, merge_ranges, window_expr
from piot.lazy.plan_reader import read_plan
from piot.lazy.predicate import And, Between, Compare, to_polars
from piot.plan.bounds import Range
from piot.plan.periods import Edge, Period

SCHEMA = {"date": pl.Date(), "ts": pl.Datetime("us"), "symbol": pl.String(), "price": pl.Float64()}


def _source(with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None, batch_size: int | None) -> Iterator[pl.DataFrame]:
    yield pl.DataFrame(schema=SCHEMA)


def scan() -> pl.LazyFrame:
    """A scan Polars can push filters into, like scan_db."""
    return register_io_source(_source, schema=SCHEMA)


Q1 = pl.col("date").is_between(pl.date(2024, 1, 1), pl.date(2024, 3, 31))
JAN1, MAR31 = datetime(2024, 1, 1), datetime(2024, 3, 31)


def test_a_filter_before_bounds_the_column_at_the_scan() -> None:
    view = read_plan(scan().filter(Q1).select("date", "price"), "date")
    assert view.blocking is None and view.scans == 1
    assert view.bounds == Range(Edge(JAN1, True), Edge(MAR31, True)) == view.scan_bounds


def test_the_column_is_followed_through_renames() -> None:
    view = read_plan(scan().filter(Q1).rename({"date": "day"}).with_columns(x=pl.col("price") * 2), "day")
    assert view.bounds.two_sided and view.blocking is None


def test_bounds_from_before_a_redefinition_do_not_count() -> None:
    lf = scan().filter(Q1).with_columns(pl.col("date").dt.offset_by("1y"))
    view = read_plan(lf, "date")
    assert view.bounds == Range() and view.blocking is None


def test_a_filter_on_the_redefined_column_counts_but_does_not_reach_the_scan() -> None:
    lf = scan().with_columns(pl.col("date").dt.offset_by("1y")).filter(Q1)
    view = read_plan(lf, "date")
    assert view.bounds.two_sided and view.scan_bounds == Range()


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda lf: lf.group_by("symbol").agg(pl.col("price").sum()), "aggregation"),
        (lambda lf: lf.join(scan(), on="symbol"), "join"),
        (lambda lf: lf.sort("price"), "sort"),
        (lambda lf: lf.unique(), "unique"),
        (lambda lf: lf.head(10), "slice"),
        (lambda lf: pl.concat([lf, scan()]), "concat"),
        (lambda lf: lf.with_row_index(), "row_index"),
        (lambda lf: lf.select(pl.col("date"), pl.col("price").sum()), "aggregation"),
        (lambda lf: lf.with_columns(pl.col("price").mean().over("symbol")), "window"),
    ],
)
def test_steps_that_are_not_row_wise_are_named(build: object, words: str) -> None:
    view = read_plan(build(scan().filter(Q1)), "date")  # type: ignore[operator]
    assert view.blocking is not None and words in view.blocking


def test_order_dependent_expressions_block_the_window_from_the_scan() -> None:
    window = window_expr("date", Period(Edge(JAN1, True), Edge(datetime(2024, 2, 1), False)), pl.Date())
    row_wise = read_plan(scan().filter(Q1).with_columns(x=pl.col("price") * 2).filter(window), "date")
    assert row_wise.scan_bounds.upper == Edge(datetime(2024, 2, 1), False)
    ordered = read_plan(scan().filter(Q1).with_columns(x=pl.col("price").cum_sum()).filter(window), "date")
    assert ordered.scan_bounds.upper == Edge(MAR31, True)  # only the plan's own filter reached the scan


def test_windows_use_the_column_type() -> None:
    period = Period(Edge(JAN1, True), Edge(datetime(2024, 2, 1), False))
    assert "2024-01-01 00:00:00" not in str(window_expr("date", period, pl.Date()))
    frame = pl.DataFrame({"ts": [datetime(2023, 12, 31, 23), JAN1, datetime(2024, 2, 1)]})
    assert frame.filter(window_expr("ts", period, pl.Datetime("us")))["ts"].to_list() == [JAN1]
    zoned = pl.DataFrame({"z": [JAN1]}, schema={"z": pl.Datetime("us", "Europe/Paris")})
    assert zoned.filter(window_expr("z", period, pl.Datetime("us", "Europe/Paris"))).height == 1


def test_bounds_keep_the_tightest_edges() -> None:
    predicate = And((Between("d", date(2024, 1, 1), date(2024, 3, 31)), Compare("d", ">", date(2024, 1, 1))))
    assert bounds_for(predicate, "d").lower == Edge(JAN1, False)
    assert Range(upper=Edge(MAR31, True)).intersect(Range(upper=Edge(MAR31, False))).upper == Edge(MAR31, False)
    assert merge_ranges(predicate) == And((Compare("d", ">", date(2024, 1, 1)), Compare("d", "<=", date(2024, 3, 31))))


DAYS = [date(2024, 1, d) for d in (1, 2, 15, 31)]
MOMENTS = [datetime(2024, 1, 1), datetime(2024, 1, 1, 12), datetime(2024, 1, 15, 0, 0, 0, 1), datetime(2024, 2, 1)]
FRAME = pl.DataFrame({"d": DAYS + [None], "t": MOMENTS + [None]})
RANGE_PARTS = st.one_of(
    st.builds(Compare, st.just("d"), st.sampled_from(["<", "<=", ">", ">=", "=="]), st.sampled_from(DAYS)),
    st.builds(Compare, st.just("t"), st.sampled_from(["<", "<=", ">", ">="]), st.sampled_from(MOMENTS + DAYS)),
    st.builds(Between, st.just("t"), st.sampled_from(MOMENTS), st.sampled_from(MOMENTS), st.sampled_from(["both", "left", "right", "none"])),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(RANGE_PARTS, min_size=1, max_size=5))
def test_merged_ranges_keep_the_same_rows(parts: list[Compare | Between]) -> None:
    predicate = And(tuple(parts))
    assert FRAME.filter(to_polars(merge_ranges(predicate))).equals(FRAME.filter(to_polars(predicate)))
