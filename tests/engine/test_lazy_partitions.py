"""The partition vocabulary of ``execute_on_ray``, without Ray: what partitions each spec makes.

Each partition set is checked against the rows themselves: over a frame holding the values
at and around every edge, the partitions' predicates must pick every row the filter keeps
exactly once (no row lost at a boundary, none read twice).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pytest

import piot
from piot.lazy.partitions import ReadPartition, parse_every, prune_keys, resolve_keys
from piot.plan.bounds import Range
from piot.plan.periods import Edge


def _stamps(start: dt.datetime, end: dt.datetime, step: dt.timedelta) -> list[dt.datetime]:
    values, moment = [], start
    while moment <= end:
        values += [moment - dt.timedelta(microseconds=1), moment, moment + dt.timedelta(microseconds=1)]
        moment += step
    return values


def _covers_once(frame: pl.DataFrame, keep: pl.Expr, partitions: list[ReadPartition]) -> None:
    """Every row ``keep`` selects is in exactly one partition; rows it drops may be anywhere."""
    counts = frame.select(pl.sum_horizontal([p.predicate.fill_null(False).cast(pl.Int32) for p in partitions]).alias("n"), keep.alias("keep"))
    kept = counts.filter(pl.col("keep"))
    assert kept.height > 0
    assert kept["n"].to_list() == [1] * kept.height


@pytest.mark.parametrize("every", ["1d", "1w", "1mo", "3mo", "1q", "1y", "6h", "month", 7])
@pytest.mark.parametrize("closed", ["both", "left", "right", "none"])
def test_time_windows_cover_every_row_once(every: Any, closed: str) -> None:
    lo, hi = dt.datetime(2024, 2, 27, 5), dt.datetime(2024, 4, 2)
    frame = pl.DataFrame({"t": _stamps(dt.datetime(2024, 2, 20), dt.datetime(2024, 4, 10), dt.timedelta(hours=6))})
    keep = pl.col("t").is_between(lo, hi, closed=closed)  # type: ignore[arg-type]
    partitions = piot.by_time("t", every).build(keep)
    assert partitions is not None
    _covers_once(frame, keep, partitions)
    starts = [p.key[0] for p in partitions]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)


def test_time_windows_are_calendar_aligned_and_half_open() -> None:
    keep = pl.col("d").is_between(dt.date(2024, 1, 3), dt.date(2024, 1, 15))
    weeks = piot.by_time("d", "1w").build(keep)
    assert [p.key for p in weeks] == [(dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 8)), (dt.datetime(2024, 1, 8), dt.datetime(2024, 1, 15)),
                                      (dt.datetime(2024, 1, 15), dt.datetime(2024, 1, 22))]  # fmt: skip
    exclusive = piot.by_time("d", "1mo").build((pl.col("d") >= dt.date(2024, 1, 1)) & (pl.col("d") < dt.date(2024, 3, 1)))
    assert [p.key[0].month for p in exclusive] == [1, 2]
    quarters = piot.by_time("d", "1q").build(pl.col("d").is_between(dt.date(2024, 2, 1), dt.date(2024, 8, 1)))
    assert [p.key[0].month for p in quarters] == [1, 4, 7]


def test_time_windows_in_the_column_zone_across_a_dst_change() -> None:
    zone = "Europe/Berlin"
    typed = piot.by_time("t", "1d").for_frame(pl.Schema({"t": pl.Datetime("us", zone)}))
    lo = dt.datetime(2024, 3, 30, tzinfo=dt.timezone.utc)
    hi = dt.datetime(2024, 4, 1, 12, tzinfo=dt.timezone.utc)
    keep = pl.col("t").is_between(lo.astimezone(ZoneInfo(zone)), hi.astimezone(ZoneInfo(zone)))
    partitions = typed.build(keep)
    assert [p.key[0].day for p in partitions] == [30, 31, 1]
    stamps = pl.Series(_stamps(lo.replace(tzinfo=None), hi.replace(tzinfo=None), dt.timedelta(minutes=30))).dt.replace_time_zone("UTC")
    _covers_once(pl.DataFrame({"t": stamps.dt.convert_time_zone(zone)}), keep, partitions)


def test_time_partitions_need_a_two_sided_range_and_keep_a_contradiction_empty() -> None:
    assert piot.by_time("d").build(None) is None
    assert piot.by_time("d").build(pl.col("d") >= dt.date(2024, 1, 1)) is None
    assert piot.by_time("d").build(pl.col("x").is_between(1, 2)) is None
    assert piot.by_time("d").build((pl.col("d") > dt.date(2024, 2, 1)) & (pl.col("d") < dt.date(2024, 1, 1))) == []
    before = Range(Edge(dt.datetime(2024, 1, 1), True), Edge(dt.datetime(2024, 2, 15), True))
    known = piot.by_time("d").for_frame(pl.Schema({"d": pl.Date}), before)
    assert len(known.build(None)) == 2  # the bounds from the plan before execute_on_ray


@pytest.mark.parametrize("every", ["6x", "-1d", "0d", "1d1h", 0, -3, True, 1.5, "daily"])
def test_unreadable_intervals_are_invalid_arguments(every: Any) -> None:
    with pytest.raises(piot.InvalidArgument) as raised:
        parse_every(every)
    assert isinstance(raised.value, ValueError) and isinstance(raised.value, piot.ProgrammingError)


def test_values_given_and_values_from_the_filter() -> None:
    frame = pl.DataFrame({"s": ["a", "b", "c", None, "a"], "x": [1.0, math.nan, 2.0, None, 1.0]})
    given = piot.by_value("s", ["a", ["b", None], "zz"]).build(None)
    assert [p.key for p in given] == ["a", ("b", None), "zz"]
    assert [frame.filter(p.predicate).height for p in given] == [2, 2, 0]
    derived = piot.by_value("s").build(pl.col("s").is_in(["c", "a", "a"]))
    assert [p.key for p in derived] == ["a", "c"]
    assert piot.by_value("s").build(pl.col("s") > "a") is None
    nan = piot.by_value("x", [math.nan]).build(None)
    assert frame.filter(nan[0].predicate).height == 1  # Polars' NaN equals NaN
    assert piot.by_value("s", []).build(None) == []


@pytest.mark.parametrize(("keep", "keys"), [
    (pl.col("x").is_between(0, 9), [(0, 3), (3, 6), (6, 9)]),
    ((pl.col("x") > 0) & (pl.col("x") < 7), [(0, 3), (3, 6), (6, 7)]),
    (pl.col("x").is_between(Decimal("0.5"), Decimal("2.0")), [(Decimal("0.5"), Decimal("2.0"))]),
])  # fmt: skip
def test_ranges_cover_every_row_once(keep: pl.Expr, keys: list[Any]) -> None:
    partitions = piot.by_range("x", 3).build(keep)
    assert [p.key for p in partitions] == keys
    values = [v / 4 for v in range(-8, 48)]
    _covers_once(pl.DataFrame({"x": values}), keep, partitions)


def test_key_partitions_one_per_key_pruned_by_the_filter() -> None:
    schema = pl.Schema({"id": pl.Int64, "region": pl.String, "v": pl.Float64})
    frame = pl.DataFrame({"id": [1, 2, 3, None], "region": ["eu", "us", "eu", None], "v": [1.0, 2.0, 3.0, 4.0]}, schema=schema)
    resolved = resolve_keys(piot.by_key([1, 2, 3, None], "id"), schema)
    assert [frame.filter(p.predicate).height for p in resolved.partitions] == [1, 1, 1, 1]
    assert [p.key for p in prune_keys(resolved, pl.col("id") >= 2)] == [2, 3]
    assert len(prune_keys(resolved, pl.col("v") > 1)) == 4  # not judged on the keys alone: all run
    both = resolve_keys(piot.by_key(pl.DataFrame({"id": [1, 3], "region": ["eu", "eu"]}), ["id", "region"]), schema)
    assert [p.key for p in both.partitions] == [(1, "eu"), (3, "eu")]
    hashed = resolve_keys(piot.by_key(range(3), pl.col("id") % 3), schema)
    assert sum(frame.filter(p.predicate).height for p in hashed.partitions) == 3  # the NULL id has no bucket


@pytest.mark.parametrize("keys", [[1, 1], [None, None], [math.nan, math.nan]])
def test_a_key_given_twice_is_refused(keys: list[Any]) -> None:
    with pytest.raises(piot.InvalidArgument, match="given twice"):
        resolve_keys(piot.by_key(keys, "x"), pl.Schema({"x": pl.Float64}))


def test_key_options_from_a_column_a_mapping_or_a_function() -> None:
    schema = pl.Schema({"id": pl.Int64})
    keys = pl.DataFrame({"id": [1, 2], "ray": [{"num_cpus": 1}, {"num_cpus": 2}]})
    assert [p.remote_options for p in resolve_keys(piot.by_key(keys, "id", partition_remote_options="ray"), schema).partitions] == [
        {"num_cpus": 1}, {"num_cpus": 2}
    ]  # fmt: skip
    mapped = resolve_keys(piot.by_key([1, 2], "id", partition_remote_options={2: {"num_cpus": 2}}), schema)
    assert [p.remote_options for p in mapped.partitions] == [None, {"num_cpus": 2}]
    called = resolve_keys(piot.by_key([1, 2], "id", partition_remote_options=lambda k: {"num_cpus": k}), schema)
    assert [p.remote_options for p in called.partitions] == [{"num_cpus": 1}, {"num_cpus": 2}]
    with pytest.raises(piot.InvalidArgument):
        resolve_keys(piot.by_key([1], "id", partition_remote_options=5), schema)


def test_discrete_and_cartesian_partitions() -> None:
    frame = pl.DataFrame({"d": [1, 1, 2, 2], "s": ["a", None, "b", "a"]})
    groups = piot.discrete_partitions("s", [["a"], ["b", None]])
    assert [frame.filter(p.predicate).height for p in groups] == [2, 2]
    crossed = piot.cartesian_partitions(date_windows=[(1, 2), (2, 3)], buckets={"a": ["a"], "rest": ["b", None]}, date_column="d", bucket="s")
    assert [p.key for p in crossed] == [((1, 2), "a"), ((1, 2), "rest"), ((2, 3), "a"), ((2, 3), "rest")]
    assert [frame.filter(p.predicate).height for p in crossed] == [1, 1, 1, 1]


def test_null_and_nan_keys_match_their_rows_and_are_never_pruned_wrongly() -> None:
    frame = pl.DataFrame({"id": [1, None, 3], "x": [1.0, math.nan, None]})
    ids = resolve_keys(piot.by_key([None, 1, 3], "id"), frame.schema)
    assert [frame.filter(p.predicate).height for p in ids.partitions] == [1, 1, 1]
    assert [p.key for p in prune_keys(ids, pl.col("id").is_null())] == [None]
    assert [p.key for p in prune_keys(ids, pl.col("id").is_null() | (pl.col("id") > 2))] == [None, 3]
    floats = resolve_keys(piot.by_key([math.nan, None, 1.0], "x"), frame.schema)
    assert [frame.filter(p.predicate).height for p in floats.partitions] == [1, 1, 1]
    assert len(prune_keys(floats, pl.col("x") > 5)) == 3  # float keys are never pruned (NaN ordering differs)
