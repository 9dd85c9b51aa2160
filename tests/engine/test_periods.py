"""Tests of calendar splitting: ``split_range``, ``next_boundary`` and ``choose_unit``.

The property tests compare ``split_range`` with a small independent model of calendar
boundaries (boundaries are numbered: day ordinals, month counts, years) so that the
code under test is never used to compute its own expected answer.
"""

from __future__ import annotations

import doctest
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import piot.plan.periods as periods
from piot.plan.periods import (
    AUTO_DAILY_MAX_DAYS,
    AUTO_MONTHLY_MAX_DAYS,
    UNITS,
    Edge,
    Period,
    Unit,
    choose_unit,
    next_boundary,
    split_range,
)

US = timedelta(microseconds=1)
MIN_VALUE = datetime(1890, 1, 1)
MAX_VALUE = datetime(2110, 12, 31)

#: Longest span drawn per unit, to keep the number of periods per example small.
MAX_SPAN_DAYS: dict[str, int] = {"daily": 120, "monthly": 3 * 366, "yearly": 60 * 366}

#: Calendar spots where off-by-one mistakes live: month ends, leap days, year ends.
ANCHOR_DAYS: list[date] = [
    date(y, m, d)
    for y, m, d in [
        (2024, 1, 31), (2024, 2, 1), (2024, 2, 28), (2024, 2, 29), (2024, 3, 1),
        (2023, 2, 28), (2023, 3, 1), (2023, 12, 31), (2024, 1, 1), (2024, 12, 31),
        (2025, 1, 1), (2000, 2, 28), (2000, 2, 29), (2000, 3, 1), (1900, 2, 28),
        (1900, 3, 1), (2024, 4, 30), (2024, 5, 1), (2024, 6, 30), (2024, 7, 31),
        (1999, 12, 31), (2000, 1, 1),
    ]
]


# --- an independent model of calendar boundaries -------------------------------------


def _midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day)


def _index(value: datetime, unit: str) -> int:
    """Number of the calendar unit that contains ``value``."""
    if unit == "daily":
        return value.toordinal()
    if unit == "monthly":
        return value.year * 12 + value.month - 1
    return value.year


def _boundary(index: int, unit: str) -> datetime:
    """Start of calendar unit number ``index``."""
    if unit == "daily":
        return _midnight(date.fromordinal(index))
    if unit == "monthly":
        return datetime(index // 12, index % 12 + 1, 1)
    return datetime(index, 1, 1)


def _is_boundary(value: datetime, unit: str) -> bool:
    return _boundary(_index(value, unit), unit) == value


def _ceil_index(value: datetime, unit: str) -> int:
    """Number of the first unit starting at or after ``value``."""
    i = _index(value, unit)
    return i if _is_boundary(value, unit) else i + 1


def _boundaries_inside(lower: datetime, upper: datetime, unit: str) -> list[datetime]:
    """Every calendar boundary of ``unit`` strictly between ``lower`` and ``upper``."""
    first = _index(lower, unit) + 1
    last = _ceil_index(upper, unit) - 1
    return [_boundary(i, unit) for i in range(first, last + 1)]


def _in_range(value: datetime, lower: Edge, upper: Edge) -> bool:
    above = value > lower.value or (lower.inclusive and value == lower.value)
    below = value < upper.value or (upper.inclusive and value == upper.value)
    return above and below


def test_model_agrees_with_calendar() -> None:
    """The model's own sanity: leap years and month ends as the calendar has them."""
    assert _boundaries_inside(datetime(2024, 2, 28), datetime(2024, 3, 2), "daily") == [
        datetime(2024, 2, 29),
        datetime(2024, 3, 1),
    ]
    assert _boundaries_inside(datetime(1900, 2, 28), datetime(1900, 3, 2), "daily") == [datetime(1900, 3, 1)]
    assert _boundaries_inside(datetime(2024, 1, 1), datetime(2024, 2, 1), "monthly") == []
    assert _ceil_index(datetime(2024, 2, 1), "monthly") == 2024 * 12 + 1
    assert _ceil_index(datetime(2024, 2, 1, 0, 0, 0, 1), "monthly") == 2024 * 12 + 2


# --- strategies ------------------------------------------------------------------------

midnights = st.dates(min_value=MIN_VALUE.date(), max_value=MAX_VALUE.date()).map(_midnight)
any_datetimes = st.datetimes(min_value=MIN_VALUE, max_value=MAX_VALUE)
near_anchor = st.builds(
    lambda d, offset: _midnight(d) + offset,
    st.sampled_from(ANCHOR_DAYS),
    st.sampled_from([timedelta(0), US, -US, timedelta(hours=12), timedelta(days=1) - US]),
)
edge_values = st.one_of(midnights, any_datetimes, near_anchor)


@st.composite
def ranges(draw: st.DrawFn, unit: str) -> tuple[Edge, Edge]:
    """A lower and an upper edge; sometimes empty (reversed, or equal values)."""
    lower_value = draw(edge_values)
    span = MAX_SPAN_DAYS[unit]
    shape = draw(st.sampled_from(["whole days", "any", "equal", "reversed", "independent anchor"]))
    if shape == "whole days":
        upper_value = lower_value + timedelta(days=draw(st.integers(0, span)))
    elif shape == "any":
        upper_value = lower_value + draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=span)))
    elif shape == "equal":
        upper_value = lower_value
    elif shape == "reversed":
        upper_value = lower_value - draw(st.timedeltas(min_value=US, max_value=timedelta(days=40)))
    else:
        upper_value = draw(near_anchor)
        if abs(upper_value - lower_value) > timedelta(days=span):
            upper_value = lower_value + (timedelta(days=span) if upper_value > lower_value else -timedelta(days=span))
    return Edge(lower_value, draw(st.booleans())), Edge(upper_value, draw(st.booleans()))


def _probe_values(draw: st.DrawFn, lower: Edge, upper: Edge, unit: str) -> list[datetime]:
    """Values to look up: near both edges, near every boundary around the range, and uniform."""
    lo, hi = sorted([lower.value, upper.value])
    spots = [lower.value, upper.value]
    first, last = _index(lo, unit), _ceil_index(hi, unit) + 1
    spots += [_boundary(i, unit) for i in range(first, min(last, first + 200) + 1)]
    values = [s + k * US for s in spots for k in (-1, 0, 1)]
    uniform = st.datetimes(min_value=lo - timedelta(days=2), max_value=hi + timedelta(days=2))
    values += draw(st.lists(uniform, max_size=20))
    return values


# --- properties --------------------------------------------------------------------


def _check_split(lower: Edge, upper: Edge, unit: Unit, values: list[datetime]) -> None:
    ps = split_range(lower, upper, unit)
    inside = _boundaries_inside(lower.value, upper.value, unit)
    if upper.inclusive and upper.value > lower.value and _is_boundary(upper.value, unit):
        inside.append(upper.value)  # an inclusive end on a boundary is a period of its own: [end, end]

    # (e) one period more than there are boundaries inside the range (the inclusive end counting)
    assert len(ps) == len(inside) + 1

    # (c) the outer edges are the range's own, with their inclusivity
    assert ps[0].start == lower
    assert ps[-1].end == upper

    # (b) interior edges are half-open at exactly the calendar boundaries of the unit
    for left, right, b in zip(ps, ps[1:], inside, strict=False):
        assert _is_boundary(b, unit)
        assert left.end == Edge(b, False)
        assert right.start == Edge(b, True)

    # (d) in order, without overlap
    for left, right in zip(ps, ps[1:], strict=False):
        assert left.start.value < left.end.value
        assert left.end.value <= right.start.value
        assert not (left.end.value == right.start.value and left.end.inclusive and right.start.inclusive)

    # (a) every value is in exactly one period iff it is in the range, else in none
    for v in values:
        hits = sum(p.contains(v) for p in ps)
        assert hits == (1 if _in_range(v, lower, upper) else 0), (v, [str(p) for p in ps])


@pytest.mark.parametrize("unit", UNITS)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_split_range_properties(unit: Unit, data: st.DataObject) -> None:
    """Properties (a) to (e) on mixed date, datetime and near-anchor bounds."""
    lower, upper = data.draw(ranges(unit), label="range")
    _check_split(lower, upper, unit, _probe_values(data.draw, lower, upper, unit))


@pytest.mark.parametrize("unit", UNITS)
@pytest.mark.parametrize("lower_inclusive", [True, False])
@pytest.mark.parametrize("upper_inclusive", [True, False])
@settings(max_examples=60, deadline=None)
@given(lower_day=midnights, days=st.integers(min_value=-3, max_value=800))
def test_split_range_on_dates_every_edge_kind(
    unit: Unit, lower_inclusive: bool, upper_inclusive: bool, lower_day: datetime, days: int
) -> None:
    """Date bounds (midnights), for each unit and each combination of edge kinds."""
    if unit == "daily":
        days = min(days, MAX_SPAN_DAYS["daily"])
    lower = Edge(lower_day, lower_inclusive)
    upper = Edge(lower_day + timedelta(days=days), upper_inclusive)
    steps = range(-2, 2 * max(days, 0) + 3, 7)
    probe = [lower.value + k * timedelta(hours=12) + j * US for k in steps for j in (-1, 0, 1)]
    probe += [b + j * US for b in _boundaries_inside(lower.value, upper.value, unit) for j in (-1, 0, 1)]
    probe += [upper.value + j * US for j in (-1, 0, 1)]
    _check_split(lower, upper, unit, probe)


@pytest.mark.parametrize("unit", UNITS)
@pytest.mark.parametrize("lower_inclusive", [True, False])
@pytest.mark.parametrize("upper_inclusive", [True, False])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_split_range_on_datetimes_every_edge_kind(
    unit: Unit, lower_inclusive: bool, upper_inclusive: bool, data: st.DataObject
) -> None:
    """Arbitrary datetime bounds (with microseconds), for each unit and each combination of edge kinds."""
    lower, upper = data.draw(ranges(unit))
    lower, upper = Edge(lower.value, lower_inclusive), Edge(upper.value, upper_inclusive)
    _check_split(lower, upper, unit, _probe_values(data.draw, lower, upper, unit))


@pytest.mark.parametrize("unit", UNITS)
@pytest.mark.parametrize("lower_inclusive", [True, False])
@pytest.mark.parametrize("upper_inclusive", [True, False])
@pytest.mark.parametrize(
    ("lower_value", "upper_value"),
    [
        (datetime(2024, 3, 1), datetime(2024, 3, 1)),  # equal
        (datetime(2024, 3, 2), datetime(2024, 3, 1)),  # reversed by a day
        (datetime(2025, 1, 1), datetime(2024, 12, 31, 23, 59, 59, 999999)),  # reversed by a microsecond
        (datetime(2024, 2, 29, 10), datetime(2024, 2, 29, 10)),
    ],
)
def test_empty_and_degenerate_ranges(
    unit: Unit, lower_inclusive: bool, upper_inclusive: bool, lower_value: datetime, upper_value: datetime
) -> None:
    """Reversed or single-point ranges are one period equal to the range."""
    lower, upper = Edge(lower_value, lower_inclusive), Edge(upper_value, upper_inclusive)
    ps = split_range(lower, upper, unit)
    assert ps == [Period(lower, upper)]
    single_point = lower_value == upper_value and lower_inclusive and upper_inclusive
    for v in (lower_value - US, lower_value, lower_value + US, upper_value - US, upper_value, upper_value + US):
        assert ps[0].contains(v) == (single_point and v == lower_value)


# --- explicit examples ---------------------------------------------------------------


def _strs(ps: list[Period]) -> list[str]:
    return [str(p) for p in ps]


def test_jan_31_to_feb_29_2024_monthly() -> None:
    ps = split_range(Edge(datetime(2024, 1, 31), True), Edge(datetime(2024, 2, 29), True), "monthly")
    assert _strs(ps) == ["[2024-01-31, 2024-02-01)", "[2024-02-01, 2024-02-29]"]
    assert ps[1].contains(datetime(2024, 2, 29, 23, 59)) is False  # inclusive at the upper *value* only
    assert ps[1].contains(datetime(2024, 2, 29)) is True


def test_last_microsecond_of_2023_daily() -> None:
    last = datetime(2023, 12, 31, 23, 59, 59, 999999)
    ps = split_range(Edge(last, True), Edge(datetime(2024, 1, 2), False), "daily")
    assert ps == [
        Period(Edge(last, True), Edge(datetime(2024, 1, 1), False)),
        Period(Edge(datetime(2024, 1, 1), True), Edge(datetime(2024, 1, 2), False)),
    ]
    assert str(ps[0]) == "[2023-12-31 23:59:59.999999, 2024-01-01)"
    assert ps[0].contains(last)
    assert not ps[0].contains(datetime(2024, 1, 1))
    assert ps[1].contains(datetime(2024, 1, 1))
    # ending on that microsecond: no boundary inside, one period
    ps = split_range(Edge(datetime(2023, 12, 31), True), Edge(last, True), "daily")
    assert ps == [Period(Edge(datetime(2023, 12, 31), True), Edge(last, True))]


@pytest.mark.parametrize(("year", "leap"), [(2024, True), (2000, True), (1900, False), (2023, False)])
def test_leap_day_daily(year: int, leap: bool) -> None:
    ps = split_range(Edge(datetime(year, 2, 28), True), Edge(datetime(year, 3, 2), False), "daily")
    if leap:
        assert _strs(ps) == [
            f"[{year}-02-28, {year}-02-29)",
            f"[{year}-02-29, {year}-03-01)",
            f"[{year}-03-01, {year}-03-02)",
        ]
    else:
        assert _strs(ps) == [f"[{year}-02-28, {year}-03-01)", f"[{year}-03-01, {year}-03-02)"]
    # ending on March 1st inclusive: March 1st is a day of its own, [03-01, 03-01]
    ps = split_range(Edge(datetime(year, 2, 28), True), Edge(datetime(year, 3, 1), True), "daily")
    assert len(ps) == (3 if leap else 2)
    assert ps[-1] == Period(Edge(datetime(year, 3, 1), True), Edge(datetime(year, 3, 1), True))


def test_leap_day_monthly_and_yearly() -> None:
    leap = datetime(2024, 2, 29, 13, 30)
    ps = split_range(Edge(leap, False), Edge(datetime(2024, 3, 31), False), "monthly")
    assert ps == [
        Period(Edge(leap, False), Edge(datetime(2024, 3, 1), False)),
        Period(Edge(datetime(2024, 3, 1), True), Edge(datetime(2024, 3, 31), False)),
    ]
    ps = split_range(Edge(datetime(2024, 2, 29), True), Edge(datetime(2025, 2, 28), True), "yearly")
    assert _strs(ps) == ["[2024-02-29, 2025-01-01)", "[2025-01-01, 2025-02-28]"]


def test_whole_year_monthly_gives_twelve_periods() -> None:
    ps = split_range(Edge(datetime(2024, 1, 1), True), Edge(datetime(2025, 1, 1), False), "monthly")
    assert len(ps) == 12
    assert [p.start.value for p in ps] == [datetime(2024, m, 1) for m in range(1, 13)]
    assert ps[-1] == Period(Edge(datetime(2024, 12, 1), True), Edge(datetime(2025, 1, 1), False))
    # and yearly, the same year is one period
    assert len(split_range(Edge(datetime(2024, 1, 1), True), Edge(datetime(2025, 1, 1), False), "yearly")) == 1


def test_year_end_yearly() -> None:
    ps = split_range(Edge(datetime(2023, 12, 31, 12), True), Edge(datetime(2026, 1, 1), True), "yearly")
    assert _strs(ps) == [
        "[2023-12-31 12:00:00, 2024-01-01)",
        "[2024-01-01, 2025-01-01)",
        "[2025-01-01, 2026-01-01)",
        "[2026-01-01, 2026-01-01]",
    ]


def test_module_docstring_example() -> None:
    ps = split_range(Edge(datetime(2024, 1, 15), True), Edge(datetime(2024, 3, 31), True), "monthly")
    assert _strs(ps) == ["[2024-01-15, 2024-02-01)", "[2024-02-01, 2024-03-01)", "[2024-03-01, 2024-03-31]"]


def test_period_str_shows_edge_kinds() -> None:
    p = Period(Edge(datetime(2024, 1, 1, 6), False), Edge(datetime(2024, 1, 2), True))
    assert str(p) == "(2024-01-01 06:00:00, 2024-01-02]"


# --- next_boundary -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (datetime(2024, 2, 29, 13), "monthly", datetime(2024, 3, 1)),
        (datetime(2024, 12, 31), "daily", datetime(2025, 1, 1)),
        (datetime(2024, 12, 1), "monthly", datetime(2025, 1, 1)),
        (datetime(2024, 11, 30, 23, 59, 59, 999999), "monthly", datetime(2024, 12, 1)),
        (datetime(2024, 1, 1), "yearly", datetime(2025, 1, 1)),
        (datetime(2024, 2, 28), "daily", datetime(2024, 2, 29)),
        (datetime(1900, 2, 28), "daily", datetime(1900, 3, 1)),
    ],
)
def test_next_boundary_examples(value: datetime, unit: Unit, expected: datetime) -> None:
    assert next_boundary(value, unit) == expected


@settings(max_examples=300)
@given(value=edge_values, unit=st.sampled_from(UNITS))
def test_next_boundary_is_the_first_boundary_after(value: datetime, unit: Unit) -> None:
    b = next_boundary(value, unit)
    assert b > value
    assert _is_boundary(b, unit)
    assert b == _boundary(_index(value, unit) + 1, unit)


def test_next_boundary_rejects_unknown_unit() -> None:
    with pytest.raises(ValueError, match="weekly"):
        next_boundary(datetime(2024, 1, 1), "weekly")  # type: ignore[arg-type]


# --- choose_unit ---------------------------------------------------------------------


def test_choose_unit_thresholds() -> None:
    assert AUTO_DAILY_MAX_DAYS == 62
    assert AUTO_MONTHLY_MAX_DAYS == 6 * 366
    start = datetime(2024, 1, 1)
    assert choose_unit(start, start) == "daily"
    assert choose_unit(start, start + timedelta(days=AUTO_DAILY_MAX_DAYS)) == "daily"
    assert choose_unit(start, start + timedelta(days=AUTO_DAILY_MAX_DAYS + 1)) == "monthly"
    assert choose_unit(start, start + timedelta(days=AUTO_MONTHLY_MAX_DAYS)) == "monthly"
    assert choose_unit(start, start + timedelta(days=AUTO_MONTHLY_MAX_DAYS + 1)) == "yearly"


def test_choose_unit_docstring_example() -> None:
    assert choose_unit(datetime(2024, 1, 1), datetime(2024, 12, 31)) == "monthly"


@given(lower=any_datetimes, days=st.integers(min_value=0, max_value=20000))
def test_choose_unit_is_monotonic(lower: datetime, days: int) -> None:
    order = {u: i for i, u in enumerate(UNITS)}
    assert order[choose_unit(lower, lower + timedelta(days=days))] <= order[
        choose_unit(lower, lower + timedelta(days=days + 1))
    ]


# --- doctests ------------------------------------------------------------------------


def test_module_doctests() -> None:
    result = doctest.testmod(periods, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0
