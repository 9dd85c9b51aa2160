"""Statistics in planning, without a database: one-sided bounds closed, ``auto`` sized by rows, the caps.

The planner is given a fake :class:`~piot.plan.statistics.Statistics` whose profiles are built
from day counts drawn here, so the expected answers come from those counts (an independent
model), never from the code under test. The invariants: the periods cover the query's range
exactly once (an open side stays open, so a row past the largest value seen is still read),
no fragment holds more than its share of rows unless it is a single day, quiet stretches
join their neighbours, and a scan never has more than ``max_fragments`` fragments.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from piot.connectors import Column, TableInfo, load_catalog
from piot.connectors.profile import ColumnProfile
from piot.connectors.types import declared_type
from piot.plan.fragments import Scan
from piot.plan.periods import Period
from piot.plan.planner import PlanOptions, plan_statement
from piot.plan.sizing import size_by_rows
from piot.sql.statement import parse_statement

D = dt.datetime
CATALOG = load_catalog(
    {
        "sources": {
            "pg": {"url": "postgresql://reader@db.internal:5432/markets", "tables": {"t": {"date_column": "d"}}},
            "lite": {"url": "sqlite:///tmp/piot-sizing-never-opened.db", "tables": {"t": {"date_column": "d"}}},
        }
    }
)
COLUMNS = (("id", "INTEGER"), ("d", "DATE"), ("ts", "TIMESTAMP"), ("tz", "timestamp with time zone"))


def lookup(source: str, schema: str | None, table: str) -> TableInfo:
    src = CATALOG.source(source)
    columns = tuple(Column(n, declared_type(t, text_dates=src.kind.text_dates)) for n, t in COLUMNS)
    return TableInfo(src, schema, table, columns, src.settings_for(schema, table))


class FakeStatistics:
    """Profiles per column name; remembers what it was asked."""

    def __init__(self, **profiles: ColumnProfile | None) -> None:
        self.profiles = profiles
        self.asked: list[tuple[str, str]] = []

    def profile(self, table: TableInfo, column: str) -> ColumnProfile | None:
        self.asked.append((table.name, column))
        return self.profiles.get(column)


def scan_of(sql: str, statistics: FakeStatistics | None, **options: Any) -> Scan:
    plan = plan_statement(parse_statement(sql), lookup, PlanOptions(**options), statistics)
    assert len(plan.scans) == 1
    return plan.scans[0]


def periods_of(scan: Scan) -> list[Period]:
    periods = [f.period for f in scan.fragments]
    assert all(p is not None for p in periods)
    return periods  # type: ignore[return-value]


def day_counts(counts: dict[dt.date, int]) -> ColumnProfile:
    return ColumnProfile.from_day_counts([(D(d.year, d.month, d.day), n) for d, n in counts.items()])


#: 2023-01 .. 2024-12: 2 rows on the 15th of each month but June to August 2024, and 600 rows spread over March 2024
SKEWED: dict[dt.date, int] = {
    dt.date(y, m, 15): 2 for y in (2023, 2024) for m in range(1, 13) if not (y == 2024 and m in (6, 7, 8))
}
for _day in range(1, 32):
    SKEWED[dt.date(2024, 3, _day)] = SKEWED.get(dt.date(2024, 3, _day), 0) + (20 if _day <= 30 else 0)


def rows_in(counts: dict[dt.date, int], period: Period) -> int:
    return sum(n for d, n in counts.items() if period.contains(D(d.year, d.month, d.day)))


# --- one-sided bounds ------------------------------------------------------------------------
def test_without_statistics_a_one_sided_bound_is_not_split() -> None:
    scan = scan_of("select id from pg.t where d >= '2024-06-01'", None)
    assert scan.split.reason == "not split: WHERE has no two-sided bound on d"
    assert [f.period for f in scan.fragments] == [None]


def test_a_source_without_statistics_leaves_it_whole() -> None:
    statistics = FakeStatistics(d=None)
    scan = scan_of("select id from pg.t where d >= '2024-06-01'", statistics, time_unit="monthly")
    assert scan.split.reason == "not split: only a lower bound on d, and the source gave no statistics to close it"
    assert statistics.asked == [("t", "d")]


@pytest.mark.parametrize(
    ("condition", "first_start", "last_end", "count"),
    [
        ("d >= '2024-06-01'", "[2024-06-01", "infinity)", 7),  # June .. December 2024
        ("d > '2024-06-01'", "(2024-06-01", "infinity)", 7),
        ("d <= '2023-03-10'", "(-infinity", "2023-03-10]", 3),  # January .. March 2023
        ("d < date '2023-03-10' - interval '9' day", "(-infinity", "2023-03-01)", 2),
        ("not d < '2024-06-01'", "[2024-06-01", "infinity)", 7),
    ],
)
def test_a_one_sided_bound_is_closed_by_the_largest_or_smallest_value(
    condition: str, first_start: str, last_end: str, count: int
) -> None:
    profile = ColumnProfile.uniform(D(2023, 1, 15), D(2024, 12, 15), None, "MIN/MAX by index")
    scan = scan_of(f"select id from pg.t where {condition}", FakeStatistics(d=profile), time_unit="monthly")
    periods = periods_of(scan)
    assert len(periods) == count
    assert str(periods[0]).startswith(first_start) and str(periods[-1]).endswith(last_end)
    assert "(MIN/MAX by index)" in scan.split.reason and "open-ended" in scan.split.reason


def test_a_row_beyond_the_largest_value_seen_falls_in_the_open_last_fragment() -> None:
    profile = day_counts({dt.date(2024, 1, 5): 3, dt.date(2024, 3, 31): 4})
    scan = scan_of("select id from pg.t where d >= '2024-01-01'", FakeStatistics(d=profile), time_unit="daily")
    periods = periods_of(scan)
    for late in (D(2024, 4, 1), D(2030, 1, 1), D(9999, 12, 31)):
        assert [p for p in periods if p.contains(late)] == [periods[-1]]
    assert scan.fragments[-1].sql.endswith("WHERE \"d\" >= CAST('2024-03-31' AS DATE) AND \"d\" >= CAST('2024-01-01' AS DATE)")


def test_no_row_beyond_the_bound_is_one_open_fragment() -> None:
    profile = day_counts({dt.date(2023, 1, 5): 3})
    scan = scan_of("select id from pg.t where d >= '2024-01-01'", FakeStatistics(d=profile), time_unit="monthly")
    assert [str(p) for p in periods_of(scan)] == ["[2024-01-01, infinity)"]


def test_timestamp_with_time_zone_is_not_asked() -> None:
    statistics = FakeStatistics()
    scan = scan_of("select id from pg.u where tz >= '2024-01-01'", statistics)
    assert scan.split.reason.endswith("statistics are not asked for TIMESTAMP WITH TIME ZONE columns")
    assert statistics.asked == []


def test_a_two_sided_bound_prefers_itself_over_a_one_sided_one() -> None:
    statistics = FakeStatistics()
    scan = scan_of(
        "select id from pg.u where d >= '2024-01-01' and d < '2024-01-03' and ts >= '2024-01-01'", statistics, time_unit="daily"
    )
    assert (scan.split.column, len(scan.fragments)) == ("d", 2)
    assert statistics.asked == []  # an explicit unit over a near range needs no statistics


def test_several_one_sided_bounds_need_a_date_column() -> None:
    scan = scan_of("select id from pg.u where d >= '2024-01-01' and ts < '2024-02-01'", FakeStatistics())
    assert scan.split.reason == "not split: several date columns are bounded (d, ts); set date_column in the catalog"


# --- auto by rows ----------------------------------------------------------------------------
def test_auto_cuts_a_busy_month_finer_and_joins_quiet_ones() -> None:
    scan = scan_of("select id from pg.t where d >= '2023-01-01'", FakeStatistics(d=day_counts(SKEWED)), fragment_rows=100)
    periods = periods_of(scan)
    in_march = [
        p
        for p in periods
        if p.start is not None and p.end is not None and D(2024, 3, 1) <= p.start.value and p.end.value <= D(2024, 4, 1)
    ]
    assert len(in_march) >= 4  # 600 rows, 100 a fragment
    assert len(periods) < 24  # far fewer than the months
    assert all(rows_in(SKEWED, p) > 0 for p in periods)  # no fragment of quiet, empty months alone
    assert all(rows_in(SKEWED, p) <= 100 or _one_day(p) for p in periods)
    assert sum(rows_in(SKEWED, p) for p in periods) == sum(SKEWED.values())
    assert (
        scan.split.unit == "monthly"
        and "busy periods cut finer" in scan.split.reason
        and "quiet ones joined" in scan.split.reason
    )


def _one_day(period: Period) -> bool:
    start, end = period.start, period.end
    return start is not None and end is not None and end.value - start.value <= dt.timedelta(days=1)


def test_auto_keeps_a_small_table_in_one_fragment() -> None:
    scan = scan_of("select id from pg.t where d between '2023-01-01' and '2024-12-31'", FakeStatistics(d=day_counts(SKEWED)))
    assert len(scan.fragments) == 1
    total = sum(SKEWED.values())
    assert scan.split.reason == f"not cut on d (auto by rows: about {total} rows (a count per day), within {total} a fragment)"


@pytest.mark.parametrize("cap", [1, 2, 3, 7])
def test_the_cap_holds(cap: int) -> None:
    scan = scan_of(
        "select id from pg.t where d >= '2023-01-01'", FakeStatistics(d=day_counts(SKEWED)), fragment_rows=10, max_periods=cap
    )
    periods = periods_of(scan)
    assert len(periods) <= cap
    assert sum(rows_in(SKEWED, p) for p in periods) == sum(SKEWED.values())


def test_min_fragments_asks_for_more_where_the_rows_allow() -> None:
    statistics = FakeStatistics(d=day_counts(SKEWED))
    assert len(scan_of("select id from pg.t where d >= '2023-01-01'", statistics).fragments) == 1
    assert len(scan_of("select id from pg.t where d >= '2023-01-01'", statistics, min_fragments=8).fragments) >= 8


def test_auto_without_a_row_count_goes_by_the_calendar() -> None:
    profile = ColumnProfile.uniform(D(2024, 1, 1), D(2024, 12, 31), None, "MIN/MAX by index")
    scan = scan_of("select id from pg.t where d between '2024-01-01' and '2024-03-31'", FakeStatistics(d=profile))
    assert (scan.split.unit, scan.split.reason, len(scan.fragments)) == ("monthly", "split monthly on d (auto)", 3)


def test_text_dates_get_text_windows_on_an_open_period() -> None:
    profile = day_counts({dt.date(2024, 1, 5): 3, dt.date(2024, 3, 31): 4})
    scan = scan_of("select id from lite.t where d >= '2024-01-01'", FakeStatistics(d=profile), time_unit="monthly")
    assert "\"d\" >= '2024-03-01'" in scan.fragments[-1].sql and '"d" < \'' not in scan.fragments[-1].sql.split(" AND ")[0]


# --- size_by_rows against day counts -----------------------------------------------------------
_DAYS = st.dictionaries(
    st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2024, 12, 31)),
    st.integers(min_value=0, max_value=500),
    min_size=1,
    max_size=60,
)


@settings(deadline=None, max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(_DAYS, st.integers(min_value=1, max_value=2000), st.integers(min_value=1, max_value=40))
def test_size_by_rows_respects_the_target_and_the_cap(counts: dict[dt.date, int], target: int, cap: int) -> None:
    profile = day_counts(counts)
    if profile.empty:
        return
    assert profile.first is not None and profile.last is not None
    sized = size_by_rows(
        profile.first, profile.last, lambda a, b: profile.between(a, b) or 0.0, fragment_rows=target, max_fragments=cap
    )
    cuts = list(sized.boundaries)
    assert cuts == sorted(set(cuts)) and all(profile.first < c <= profile.last for c in cuts)
    assert all(c.time() == dt.time() for c in cuts)  # calendar boundaries
    assert len(cuts) + 1 <= cap
    edges: list[D | None] = [None, *cuts, None]
    held = [sum(n for d, n in counts.items() if _between(D(d.year, d.month, d.day), a, b)) for a, b in itertools.pairwise(edges)]
    assert sum(held) == sum(counts.values())
    for (a, b), rows in zip(itertools.pairwise(edges), held):
        days_with_rows = {d for d, n in counts.items() if n and _between(D(d.year, d.month, d.day), a, b)}
        assert rows <= sized.per_fragment or len(days_with_rows) == 1


def _between(value: D, low: D | None, high: D | None) -> bool:
    return (low is None or value >= low) and (high is None or value < high)


def test_profile_between_adds_up() -> None:
    profile = ColumnProfile.from_planner_statistics(
        1000, 0.0, [D(2024, 1, 1), D(2024, 2, 1), D(2024, 5, 1)], [(D(2024, 3, 3), 0.3), (D(2024, 7, 1), 0.1)]
    )
    cuts = [D(2023, 1, 1), D(2024, 1, 15), D(2024, 3, 3), D(2024, 3, 4), D(2024, 6, 1), D(2025, 1, 1)]
    parts = [profile.between(a, b) for a, b in itertools.pairwise(cuts)]
    assert sum(p or 0 for p in parts) == pytest.approx(profile.between(None, None))
    assert profile.between(None, None) == pytest.approx(1000)
    assert parts[2] == pytest.approx(300 + 300 / 90)  # the most common value, and a day of its bucket's 300 rows
