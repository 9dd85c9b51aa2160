"""A scan's fragment SQL written from one rendering of its tree is, byte for byte, what each fragment's own tree renders to.

``build_scan`` renders a scan's SELECT once with a placeholder for the window (and for each IN
list on the split column) and writes each period's text into it (:mod:`piot.plan.fragment_text`);
``build_scan(read, fast=False)`` renders every fragment's own tree, as planning did before.
Both are run on the same reads, over PostgreSQL, MariaDB and SQLite tables (fake lookups,
nothing is contacted), for DATE, TIMESTAMP and TIMESTAMP WITH TIME ZONE split columns, dates
held as text, IN lists cut per period, MariaDB's UTC sessions, microsecond and inclusive edges,
far edges and zones with DST, partial aggregates and top-N pushed into the source, and they must
write the same fragments: SQL, period and exact filter.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from piot.connectors import Column, TableInfo, load_catalog
from piot.plan import fragment_text, scans
from piot.plan.fragment_text import edge_texts, shape_key, source_window
from piot.plan.fragments import window_condition, write_tree
from piot.plan.periods import Edge, Period
from piot.plan.pipeline import RULES, run_rules
from piot.plan.scan_reads import ScanRead
from piot.plan.state import PlanningState, PlanOptions
from piot.sql.statement import parse_statement

CATALOG = load_catalog(
    {
        "sources": {
            "pg": {"url": "postgresql://reader@db.internal/markets"},
            "my": {"url": "mysql://root@127.0.0.1:3306/test"},
            "lite": {"url": "sqlite:///tmp/piot-fragment-text-never-opened.db"},
        }
    }
)
KINDS = ("pg", "my", "lite")

#: each table's columns with the types each kind of source reports for them
COLUMNS: dict[str, dict[str, list[tuple[str, str]]]] = {
    "events": {
        "pg": [
            ("id", "integer"), ("d", "date"), ("ts", "timestamp without time zone"), ("tz", "timestamp with time zone"),
            ("amount", "numeric(12,2)"), ("note", "character varying(40)"), ("code", "character(3)"), ('odd "day"', "date"),
        ],
        "my": [
            ("id", "int(11)"), ("d", "date"), ("ts", "datetime(6)"), ("tz", "timestamp(6)"),
            ("amount", "decimal(12,2)"), ("note", "varchar(40)"), ("code", "char(3)"), ('odd "day"', "date"),
        ],
        "lite": [
            ("id", "INTEGER"), ("d", "DATE"), ("ts", "TIMESTAMP"), ("tz", "TIMESTAMP WITH TIME ZONE"),
            ("amount", "NUMERIC"), ("note", "TEXT"), ("code", "CHAR(3)"), ('odd "day"', "DATE"),
        ],
    },
    # no column holding instants: a MariaDB fragment runs in a UTC session only when its own text holds one
    "plain": {
        "pg": [("id", "integer"), ("d", "date"), ("ts", "timestamp without time zone"), ("note", "text")],
        "my": [("id", "int(11)"), ("d", "date"), ("ts", "datetime(6)"), ("note", "varchar(40)")],
        "lite": [("id", "INTEGER"), ("d", "DATE"), ("ts", "TIMESTAMP"), ("note", "TEXT")],
    },
}  # fmt: skip


def lookup(source_name: str, schema: str | None, table: str) -> TableInfo:
    source = CATALOG.source(source_name)
    columns = tuple(Column(name, source.kind.sql.column_type(declared)) for name, declared in COLUMNS[table][source_name])
    return TableInfo(source, schema, table, columns, source.settings_for(schema, table))


@dataclass(frozen=True)
class Case:
    """A split query over one table of each kind: its WHERE, the unit and the connection's settings."""

    name: str
    where: str
    unit: str
    table: str = "events"
    timezone: str = "UTC"
    max_periods: int = 1000
    kinds: tuple[str, ...] = KINDS
    #: what the query asks besides ``SELECT id, note ... WHERE``: partial aggregates or top-N pushed into the fragments
    shape: str = "SELECT id, note FROM {table} WHERE {where}"


CASES = (
    Case("date_between_daily", "d BETWEEN '2024-01-30' AND '2024-03-02'", "daily"),
    Case("date_exclusive_monthly_with_filter", "d > '2023-11-30' AND d < '2024-03-01' AND amount > 5", "monthly"),
    Case("date_far_edges_coarsened", "d BETWEEN '0001-01-01' AND '9999-12-31' AND note = 'x'", "yearly", max_periods=40),
    Case("ts_microsecond_edges", "ts >= '2024-03-15 12:00:00.5' AND ts <= '2024-03-17 00:00:00.000001'", "daily"),
    Case("ts_exclusive_fractions", "ts > '2024-02-28 23:59:59.999999' AND ts < '2024-03-02'", "daily"),
    Case("ts_inclusive_midnight_end_or", "ts BETWEEN '2024-03-30' AND '2024-04-01' AND (note = 'a' OR id > 1)", "daily"),
    Case("ts_yearly_leap_day", "ts >= '2020-02-29 10:00' AND ts < '2024-02-29 10:00:00.000001' AND note LIKE 'a%'", "yearly"),
    Case("tz_dst_berlin_daily", "tz >= '2024-03-30 22:00+00' AND tz < '2024-04-01 05:00+02'", "daily", timezone="Europe/Berlin"),
    Case("tz_half_hour_zone_monthly", "tz BETWEEN '2024-01-15' AND '2024-04-15 12:30:00.25'", "monthly", timezone="+05:30"),
    Case("tz_far_edges", "tz > '0001-01-03 00:00+00' AND tz < '9999-12-29 10:00+00'", "yearly", max_periods=30, kinds=("pg", "my")),
    Case(
        "date_in_list_monthly",
        "d IN ('2024-01-05', '2024-02-07', '2024-02-08', '2023-01-01') AND d BETWEEN '2024-01-01' AND '2024-03-31' AND note LIKE 'a%'",
        "monthly",
    ),
    Case(
        "ts_in_list_microseconds",
        "ts IN ('2024-01-05 10:00:00.000001', '2024-01-06', '2024-01-06 00:00:00.5') AND ts >= '2024-01-05' AND ts < '2024-01-08'",
        "daily",
    ),
    Case("tz_in_list_offsets", "tz IN ('2024-01-05 10:00+01', '2024-01-06 23:30-05') AND tz BETWEEN '2024-01-01' AND '2024-01-09'", "daily"),
    Case("odd_column_name", "\"odd \"\"day\"\"\" BETWEEN '2024-01-30' AND '2024-02-02' AND code = 'x'", "daily"),
    Case("plain_table_date", "d BETWEEN '2024-01-30' AND '2024-02-02' AND note = 'x'", "daily", table="plain"),
    Case("plain_table_ts_offset_bound", "ts >= '2024-01-30 10:00+05' AND ts < '2024-02-02'", "daily", table="plain"),
    Case("plain_table_in_list", "d IN ('2024-01-31', '2024-02-01') AND d BETWEEN '2024-01-30' AND '2024-02-02'", "daily", table="plain"),
    Case(
        "partial_aggregates_in_the_source",
        "d BETWEEN '2024-01-30' AND '2024-02-02' AND id > 3",
        "daily",
        shape="SELECT note, count(*) AS n, sum(id) AS s, min(ts) AS first FROM {table} WHERE {where} GROUP BY note",
    ),
    Case("top_n_in_the_source", "ts >= '2024-01-30 10:00' AND ts < '2024-02-02'", "daily", shape="SELECT id, note FROM {table} WHERE {where} ORDER BY id DESC LIMIT 5"),
    Case("in_list_with_comments", "d /* a */ IN ('2024-01-05' /* b */, '2024-02-07') AND d BETWEEN '2024-01-01' AND '2024-03-31'", "monthly"),
)


def _reads(sql: str, **options: Any) -> tuple[ScanRead, ...]:
    """The reads of ``sql`` just before their fragments are written."""
    names = [rule.__name__ for rule in RULES]
    state = PlanningState.start(parse_statement(sql), lookup, PlanOptions(**options))
    return run_rules(state, RULES[: names.index("build_scans")]).reads


def _fragments(read: ScanRead, *, fast: bool) -> list[tuple[str, object, str | None]]:
    return [(f.sql, f.period, f.exact_filter) for f in scans.build_scan(read, fast=fast).fragments]


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], int]]:
    """How many fragment trees were rendered whole since the last call."""
    count = [0]
    original = scans.write_fragment

    def counting(*args: Any, **kwargs: Any) -> str:
        count[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(scans, "write_fragment", counting)

    def taken() -> int:
        seen, count[0] = count[0], 0
        return seen

    yield taken


def _params() -> list[Any]:
    return [pytest.param(case, kind, id=f"{case.name}-{kind}") for case in CASES for kind in case.kinds]


@pytest.mark.parametrize(("case", "kind"), _params())
def test_the_template_writes_what_each_tree_renders(case: Case, kind: str, renders: Callable[[], int]) -> None:
    sql = case.shape.format(table=f"{kind}.{case.table}", where=case.where)
    (read,) = _reads(sql, time_unit=case.unit, timezone=case.timezone, max_periods=case.max_periods)
    assert read.split.column is not None and len(read.periods) > 1, read.split.reason
    fast = _fragments(read, fast=True)
    from_trees = renders()
    assert fast == _fragments(read, fast=False)
    assert from_trees == 0


@pytest.mark.parametrize("kind", KINDS)
def test_a_window_alone_is_written_without_parentheses(kind: str, renders: Callable[[], int]) -> None:
    (read,) = _reads(f"SELECT id FROM {kind}.events WHERE ts >= '2024-01-30 10:00' AND ts < '2024-02-02'", time_unit="daily")
    alone = replace(read, decisions=())  # no pushed condition: the fragment's WHERE is its window alone
    fast = _fragments(alone, fast=True)
    assert renders() == 0
    assert fast == _fragments(alone, fast=False)
    assert fast[0][0].endswith("'2024-01-31'" if kind == "lite" else "AS DATETIME(6))" if kind == "my" else "AS TIMESTAMP)")


@pytest.mark.parametrize("kind", KINDS)
def test_a_placeholder_found_in_user_text_falls_back_to_the_trees(
    kind: str, renders: Callable[[], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fragment_text.secrets, "token_hex", lambda _: "feedfacefeedface")
    mark = "__piot_slot_feedfacefeedface_0"
    sql = f"SELECT id FROM {kind}.events WHERE d BETWEEN '2024-01-30' AND '2024-02-02' AND note = '\"{mark}\" `{mark}`'"
    (read,) = _reads(sql, time_unit="daily")
    fast = _fragments(read, fast=True)
    assert renders() == len(fast)
    assert fast == _fragments(read, fast=False)
    assert all(f'"{mark}" `{mark}`' in text for text, _, _ in fast)


@pytest.mark.parametrize("kind", ["pg", "my"])  # SQLite keeps date IN lists back: dates are text there
def test_an_in_list_holding_a_comment_is_written_from_the_trees(kind: str, renders: Callable[[], int]) -> None:
    sql = f"SELECT id FROM {kind}.events WHERE d IN ('2024-01-05', '2024-02-07') AND d BETWEEN '2024-01-01' AND '2024-03-31'"
    (read,) = _reads(sql, time_unit="monthly")
    listed, pushdown = read.decisions[0]
    assert pushdown.condition is not None and " IN (" in pushdown.condition
    commented = replace(pushdown, condition=pushdown.condition.replace(", ", " /* kept */, ", 1))
    read = replace(read, decisions=((listed, commented), *read.decisions[1:]))
    fast = _fragments(read, fast=True)
    assert renders() == len(fast)
    assert fast == _fragments(read, fast=False)
    assert "/* kept */" in fast[0][0]


def test_a_ten_year_daily_split_writes_every_fragment_from_one_rendering(renders: Callable[[], int]) -> None:
    (read,) = _reads("SELECT id FROM lite.events WHERE d BETWEEN '2015-01-01' AND '2024-12-31' AND note LIKE 'a%'", time_unit="daily", max_periods=4000)
    fast = _fragments(read, fast=True)
    assert len(fast) == 3653 and renders() == 0
    every_tenth = replace(read, periods=read.periods[::10])
    assert [f for f in fast[::10]] == _fragments(every_tenth, fast=False)


ZONES = (None, dt.UTC, dt.timezone(dt.timedelta(hours=5, minutes=30)), zoneinfo.ZoneInfo("Europe/Berlin"), zoneinfo.ZoneInfo("America/St_Johns"))


@st.composite
def periods(draw: st.DrawFn) -> Period:
    """A window as the planner cuts them: naive, or aware in one zone; any microseconds; each edge inclusive or not."""
    start = draw(st.datetimes(min_value=dt.datetime(1, 1, 3), max_value=dt.datetime(9999, 12, 20)))
    end = start + draw(st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=400)))
    end = min(end, dt.datetime(9999, 12, 29))
    zone = draw(st.sampled_from(ZONES))
    if zone is not None:
        start, end = start.replace(tzinfo=zone), end.replace(tzinfo=zone)
    return Period(Edge(start, draw(st.booleans())), Edge(end, draw(st.booleans())))


@settings(max_examples=300, deadline=None)
@given(period=periods(), dialect=st.sampled_from(["postgres", "mysql", "sqlite"]), is_date=st.booleans(), text_dates=st.booleans())
def test_a_window_written_as_text_is_the_rendered_window(period: Period, dialect: str, is_date: bool, text_dates: bool) -> None:
    tree = window_condition(exp.column('we"ird `day`', quoted=True), period, is_date=is_date, text_dates=text_dates)
    assert source_window('we"ird `day`', period, dialect, is_date=is_date, text_dates=text_dates) == write_tree(tree, dialect)


@settings(max_examples=200, deadline=None)
@given(period=periods(), kind=st.sampled_from(["DATE", "TIMESTAMP", "TIMESTAMPTZ"]))
def test_an_exact_filter_window_written_as_text_is_the_rendered_one(period: Period, kind: str) -> None:
    is_date = kind == "DATE"
    shape = scans._frame_shape("d", kind, is_date, shape_key(period))
    assert shape is not None
    rendered = scans._exact_filter([window_condition(exp.column("d", quoted=True), period, is_date=is_date)], {"d": kind})
    assert shape.fill(*edge_texts(period, is_date=is_date))[0] == rendered
