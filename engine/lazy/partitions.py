"""The partition vocabulary of ``execute_on_ray``: how a LazyFrame's rows are cut into Ray tasks.

Each task collects the frame filtered by one :class:`ReadPartition` predicate. The
partitions come from a list the user builds (``ReadPartition``, :class:`RayPartition` with its
own Ray options, :func:`discrete_partitions`, :func:`cartesian_partitions`), from a
partitioner that reads the filter written after ``execute_on_ray`` (:func:`by_time`,
:func:`by_value`, :func:`by_range`), or from a list of keys (:func:`by_key`).

Example:
    >>> import datetime as dt
    >>> import polars as pl
    >>> monthly = by_time("d", "1mo")
    >>> [p.key for p in monthly.build(pl.col("d").is_between(dt.date(2024, 1, 15), dt.date(2024, 3, 1)))]  # doctest: +NORMALIZE_WHITESPACE
    [(datetime.datetime(2024, 1, 1, 0, 0), datetime.datetime(2024, 2, 1, 0, 0)),
     (datetime.datetime(2024, 2, 1, 0, 0), datetime.datetime(2024, 3, 1, 0, 0)),
     (datetime.datetime(2024, 3, 1, 0, 0), datetime.datetime(2024, 4, 1, 0, 0))]
    >>> [str(p.predicate) for p in by_value("s", ["a", ["b", None]]).build(None)]
    ['[(col("s")) == ("a")]', '[(col("s").is_in([["b"]])) | (col("s").is_null())]']
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

import polars as pl

from piot.errors import InvalidArgument
from piot.lazy.bounds import bounds_for, window_expr
from piot.lazy.expr_reader import read_predicate
from piot.lazy.predicate import Between, Compare, InList, IsNull, Predicate, conjuncts
from piot.plan.bounds import Range
from piot.plan.periods import Edge, Period, Unit, choose_unit, count_periods, next_boundary

__all__ = [
    "KeyPartitions",
    "Partitioner",
    "RayPartition",
    "ReadPartition",
    "by_key",
    "by_range",
    "by_time",
    "by_value",
    "cartesian_partitions",
    "discrete_partitions",
]

#: the most windows a partitioner cuts a range into; past it the range cannot be partitioned.
MOST_WINDOWS = 100_000


@dataclass(frozen=True)
class ReadPartition:
    """One slice of the frame: the rows where ``predicate`` holds; ``key`` names it in errors and ordering."""

    predicate: pl.Expr
    key: Any = None


@dataclass(frozen=True)
class RayPartition(ReadPartition):
    """A partition with Ray options of its own, laid over the call's ``remote_options`` (its keys win)."""

    remote_options: Mapping[str, Any] | None = None


@runtime_checkable
class Partitioner(Protocol):
    """Builds the partitions of the column ``on`` from the predicate pushed after ``execute_on_ray``.

    ``build`` returns None when it cannot (no bounded range on ``on``), and an empty list for
    a range that holds no row (a contradiction such as ``d > '2024-02-01' AND d < '2024-01-01'``).
    """

    on: str

    def build(self, predicate: pl.Expr | None) -> list[ReadPartition] | None: ...


# --- by_time ----------------------------------------------------------------------------------

_WORDS = {"day": "1d", "week": "1w", "month": "1mo", "quarter": "1q", "year": "1y", "hour": "1h", "minute": "1m"}
_EVERY = re.compile(r"(\d+)(d|w|mo|q|y|h|m|s)")
#: the legacy ``time_unit`` names and the interval each stands for
TIME_UNITS = {"daily": "1d", "monthly": "1mo", "yearly": "1y"}


def parse_every(every: str | int) -> str:
    """An interval as Polars writes it: ``'1mo'``, ``'2w'``, ``'6h'``; an int is a number of days, ``'auto'`` stays.

    >>> parse_every(7), parse_every(" Month "), parse_every("mo"), parse_every("1q"), parse_every("6h")
    ('7d', '1mo', '1mo', '3mo', '6h')
    >>> parse_every("6x")
    Traceback (most recent call last):
    piot.errors.InvalidArgument: by_time: cannot read every='6x'; write e.g. '1mo', '2w', '5d', '1q', '1y', '6h' or a number of days
    """
    if isinstance(every, bool) or not isinstance(every, (int, str)):
        raise InvalidArgument(f"by_time: every must be an interval text or a number of days, not {every!r}")
    if isinstance(every, int):
        if every <= 0:
            raise InvalidArgument(f"by_time: every (days) must be positive, not {every}")
        return f"{every}d"
    text = every.strip().lower()
    if text == "auto":
        return text
    text = _WORDS.get(text, text)
    if text and not text[0].isdigit():
        text = "1" + text
    match = _EVERY.fullmatch(text)
    if match is None or int(match[1]) == 0:
        raise InvalidArgument(f"by_time: cannot read every={every!r}; write e.g. '1mo', '2w', '5d', '1q', '1y', '6h' or a number of days")
    count, unit = int(match[1]), match[2]
    if unit == "q":
        return f"{3 * count}mo"
    return f"{count}{unit}"


@dataclass(frozen=True)
class TimePartitioner:
    """Calendar windows of ``every`` on the Date/Datetime column ``on`` (see :func:`by_time`)."""

    on: str
    every: str
    dtype: pl.DataType | None = None
    before: Range = Range()

    def build(self, predicate: pl.Expr | None) -> list[ReadPartition] | None:
        """The windows meeting the range ``on`` has (filters before ``execute_on_ray`` and the predicate after), in time order.

        None without a two-sided range.
        """
        dtype = self.dtype or pl.Datetime("us")
        zone = dtype.time_zone if isinstance(dtype, pl.Datetime) else None
        bounds = self.before
        if predicate is not None:
            bounds = bounds.intersect(bounds_for(read_predicate(predicate), self.on, zone))
        if not bounds.two_sided:
            return None
        assert bounds.lower is not None and bounds.upper is not None
        if _empty(bounds.lower.value, bounds.lower.inclusive, bounds.upper.value, bounds.upper.inclusive):
            return []
        windows = time_windows(bounds, self.every, zone)
        if windows is None:
            return None
        typed = dtype if isinstance(dtype, (pl.Date, pl.Datetime)) else pl.Datetime("us")
        return [ReadPartition(window_expr(self.on, Period(Edge(lo, True), Edge(hi, False)), typed), (lo, hi)) for lo, hi in windows]

    def for_frame(self, schema: pl.Schema, before: Range = Range()) -> TimePartitioner:
        """The partitioner knowing its column's type (its zone, Date or Datetime) and the bounds the plan before gives it."""
        if self.on not in schema:
            return self
        return TimePartitioner(self.on, self.every, schema[self.on], before)


def by_time(column: str, every: str | int = "1mo") -> TimePartitioner:
    """Calendar windows of ``every`` on ``column``, over the range a filter after ``execute_on_ray`` gives it.

    ``every``: ``'1d'``, ``'1w'`` (Monday to Monday), ``'1mo'``, ``'3mo'`` or ``'1q'``, ``'1y'``,
    ``'6h'``, ``'30m'``, a word (``'month'``), a number of days, or ``'auto'`` (days, months or
    years by the range's length). Windows are half-open ``[start, end)``, aligned to the calendar
    (in the column's time zone for an aware Datetime), keyed by ``(start, end)``.

    >>> by_time("d", "week").every
    '1w'
    """
    if not isinstance(column, str):
        raise InvalidArgument(f"by_time: column must be a column name, not {column!r}")
    return TimePartitioner(column, parse_every(every))


def time_windows(bounds: Range, every: str, zone: str | None = None) -> list[tuple[dt.datetime, dt.datetime]] | None:
    """The ``every`` windows (naive wall times) meeting ``bounds``; None past :data:`MOST_WINDOWS`.

    >>> lo, hi = Edge(dt.datetime(2024, 1, 3), True), Edge(dt.datetime(2024, 1, 15), False)
    >>> [(a.day, b.day) for a, b in time_windows(Range(lo, hi), "1w")]
    [(1, 8), (8, 15)]
    """
    assert bounds.lower is not None and bounds.upper is not None
    lower, upper = bounds.lower.value, bounds.upper.value
    if every == "auto":
        every = {"daily": "1d", "monthly": "1mo", "yearly": "1y"}[choose_unit(lower, upper)]
    unit = _CALENDAR_UNITS.get(every)
    if unit is not None:  # days, months and years: the calendar periods SQL is cut into
        return _calendar_windows(lower, upper, bounds.upper.inclusive, unit)
    dtype = pl.Datetime("us", zone)
    first = pl.Series([lower]).cast(pl.Datetime("us"))
    if zone is not None:
        first = first.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null").fill_null(
            pl.Series([lower]).cast(pl.Datetime("us")).dt.replace_time_zone("UTC").dt.convert_time_zone(zone)
        )
    start = first.dt.truncate(every).cast(dtype)
    estimate = _estimate(lower, upper, every)
    if estimate > MOST_WINDOWS:
        return None
    edges = pl.datetime_range(start[0], _naive_to(upper, zone, every), every, closed="both", time_unit="us", time_zone=zone, eager=True)
    values = [_naive(v) for v in edges.to_list()]
    windows: list[tuple[dt.datetime, dt.datetime]] = []
    for lo, hi in zip(values, values[1:] + [None]):
        if hi is None:
            hi = _naive(edges.dt.offset_by(every)[-1])
        if hi <= lower or lo > upper or (lo == upper and not bounds.upper.inclusive):
            continue
        windows.append((lo, hi))
    return windows


#: the intervals cut by piot's own calendar periods (:mod:`piot.plan.periods`), as SQL is
_CALENDAR_UNITS: dict[str, Unit] = {"1d": "daily", "1mo": "monthly", "1y": "yearly"}


def _calendar_windows(lower: dt.datetime, upper: dt.datetime, upper_inclusive: bool, unit: Unit) -> list[tuple[dt.datetime, dt.datetime]] | None:
    """Whole calendar periods of ``unit`` (naive wall times) from the one holding ``lower`` to the one holding ``upper``.

    >>> [(a.month, b.month) for a, b in _calendar_windows(dt.datetime(2024, 1, 15), dt.datetime(2024, 3, 1), False, "monthly")]
    [(1, 2), (2, 3)]
    """
    if count_periods(lower, upper, unit) > MOST_WINDOWS:
        return None
    start = {"daily": dt.datetime(lower.year, lower.month, lower.day), "monthly": dt.datetime(lower.year, lower.month, 1)}.get(
        unit, dt.datetime(lower.year, 1, 1)
    )
    windows: list[tuple[dt.datetime, dt.datetime]] = []
    while start < upper or (start == upper and upper_inclusive):
        end = next_boundary(start, unit)
        if end is None:  # past year 9999
            break
        windows.append((start, end))
        start = end
    return windows


def _naive_to(value: dt.datetime, zone: str | None, every: str) -> dt.datetime:
    """The upper edge as a value of the range's type (aware in ``zone``)."""
    if zone is None:
        return value
    from zoneinfo import ZoneInfo

    return value.replace(tzinfo=ZoneInfo(zone))


def _naive(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=None) if isinstance(value, dt.datetime) and value.tzinfo is not None else value


def _estimate(lower: dt.datetime, upper: dt.datetime, every: str) -> float:
    """About how many windows of ``every`` lie between the edges (for the cap, before making them)."""
    match = re.fullmatch(r"(\d+)(d|w|mo|y|h|m|s)", every)
    assert match is not None
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "mo": 28 * 86400, "y": 365 * 86400}[match[2]]
    return (upper - lower).total_seconds() / (seconds * int(match[1]))


def _empty(low: Any, low_inclusive: bool, high: Any, high_inclusive: bool) -> bool:
    return low > high or (low == high and not (low_inclusive and high_inclusive))


# --- by_value -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValuePartitioner:
    """One partition per value (or group of values) of ``on`` (see :func:`by_value`)."""

    on: str
    values: tuple[Any, ...] | None = None

    def build(self, predicate: pl.Expr | None) -> list[ReadPartition] | None:
        """Partitions for the given values, or for the values an ``==`` / ``is_in`` filter on ``on`` names."""
        if self.values is not None:
            return [_value_partition(self.on, value) for value in self.values]
        if predicate is None:
            return None
        found = _named_values(read_predicate(predicate), self.on)
        if found is None:
            return None
        return [_value_partition(self.on, value) for value in found]


def by_value(column: str, values: Iterable[Any] | None = None) -> ValuePartitioner:
    """One partition per value of ``column``: ``values`` (a value, None, or a list standing for a group), or else the values a filter names.

    >>> [p.key for p in by_value("n").build(pl.col("n").is_in([2, 1, 1]))]
    [1, 2]
    """
    if not isinstance(column, str):
        raise InvalidArgument(f"by_value: column must be a column name, not {column!r}")
    return ValuePartitioner(column, None if values is None else tuple(values))


def _value_partition(column: str, value: Any) -> ReadPartition:
    col = pl.col(column)
    if value is None:
        return ReadPartition(col.is_null(), None)
    if isinstance(value, (list, tuple, set, frozenset)):
        members = list(value)
        present = [m for m in members if m is not None]
        predicate = col.is_in(present) if present else pl.lit(False)
        if len(present) != len(members):
            predicate = predicate | col.is_null()
        return ReadPartition(predicate, tuple(members))
    return ReadPartition(col == value, value)


def _named_values(predicate: Predicate, column: str) -> list[Any] | None:
    """The values an AND chain pins ``column`` to (``==``, ``is_in``, ``is_null``), sorted, or None."""
    for part in conjuncts(predicate):
        if isinstance(part, Compare) and part.column == column and part.op == "==":
            return [part.value]
        if isinstance(part, InList) and part.column == column:
            values: list[Any] = sorted(set(part.values), key=_sort_key)
            return values + ([None] if part.has_null and part.nulls_equal else [])
        if isinstance(part, IsNull) and part.column == column and not part.negated:
            return [None]
    return None


def _sort_key(value: Any) -> tuple[int, Any]:
    return (1, 0) if isinstance(value, float) and math.isnan(value) else (0, value)


# --- by_range -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RangePartitioner:
    """Buckets of width ``every`` over the numeric range a filter gives ``on`` (see :func:`by_range`)."""

    on: str
    every: float | int | Decimal

    def build(self, predicate: pl.Expr | None) -> list[ReadPartition] | None:
        """Buckets ``[lo, lo + every)`` from the range's lower edge; the last one ends at the range's upper edge."""
        if predicate is None:
            return None
        edges = _numeric_range(read_predicate(predicate), self.on)
        if edges is None:
            return None
        (low, low_inclusive), (high, high_inclusive) = edges
        if _empty(low, low_inclusive, high, high_inclusive):
            return []
        step = Decimal(str(self.every)) if isinstance(low, Decimal) or isinstance(high, Decimal) else self.every
        if (high - low) / step > MOST_WINDOWS:
            return None
        col, partitions, start = pl.col(self.on), [], low
        while start < high or (start == high and not partitions):
            end = start + step
            last = end >= high
            end = high if last else end
            first = not partitions
            lower = (col >= start) if (not first or low_inclusive) else (col > start)
            upper = ((col <= end) if high_inclusive else (col < end)) if last else (col < end)
            partitions.append(ReadPartition(lower & upper, (start, end)))
            start = end
            if last:
                break
        return partitions


def by_range(column: str, every: float | int | Decimal) -> RangePartitioner:
    """Buckets of ``every`` over the numeric range a filter after ``execute_on_ray`` gives ``column``.

    >>> [p.key for p in by_range("x", 3).build(pl.col("x").is_between(0, 9))]
    [(0, 3), (3, 6), (6, 9)]
    """
    if not isinstance(column, str):
        raise InvalidArgument(f"by_range: column must be a column name, not {column!r}")
    if isinstance(every, bool) or not isinstance(every, (int, float, Decimal)) or not every > 0:
        raise InvalidArgument(f"by_range: every must be a positive number, not {every!r}")
    return RangePartitioner(column, every)


def _numeric_range(predicate: Predicate, column: str) -> tuple[tuple[Any, bool], tuple[Any, bool]] | None:
    low: tuple[Any, bool] | None = None
    high: tuple[Any, bool] | None = None
    for part in conjuncts(predicate):
        edges: list[tuple[str, Any, bool]] = []
        if isinstance(part, Compare) and part.column == column and _is_number(part.value):
            if part.op in (">", ">="):
                edges.append(("low", part.value, part.op == ">="))
            elif part.op in ("<", "<="):
                edges.append(("high", part.value, part.op == "<="))
            elif part.op == "==":
                edges += [("low", part.value, True), ("high", part.value, True)]
        elif isinstance(part, Between) and part.column == column and _is_number(part.low) and _is_number(part.high):
            edges += [("low", part.low, part.closed in ("both", "left")), ("high", part.high, part.closed in ("both", "right"))]
        for side, value, inclusive in edges:
            if side == "low" and (low is None or value > low[0] or (value == low[0] and not inclusive)):
                low = (value, inclusive)
            if side == "high" and (high is None or value < high[0] or (value == high[0] and not inclusive)):
                high = (value, inclusive)
    if low is None or high is None:
        return None
    return low, high


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool) and not (isinstance(value, float) and math.isnan(value))


# --- explicit lists -------------------------------------------------------------------------------


def _group_predicate(column: str | pl.Expr, members: Any) -> pl.Expr:
    target = pl.col(column) if isinstance(column, str) else column
    if isinstance(members, (list, tuple, set, frozenset)):
        present = [m for m in members if m is not None]
        predicate = target.is_in(present) if present else pl.lit(False)
        return predicate | target.is_null() if len(present) != len(list(members)) else predicate
    return target.is_null() if members is None else target == members


def discrete_partitions(column: str, groups: Iterable[Sequence[Any]] | Mapping[Any, Sequence[Any]]) -> list[ReadPartition]:
    """One partition per group of values of ``column`` (``is_in``; None matches NULL), keyed by position or mapping key.

    >>> [p.key for p in discrete_partitions("s", {"ab": ["a", "b"], "rest": ["c", None]})]
    ['ab', 'rest']
    """
    items = groups.items() if isinstance(groups, Mapping) else enumerate(groups)
    return [ReadPartition(_group_predicate(column, list(members)), key) for key, members in items]


def cartesian_partitions(
    *, date_windows: Iterable[tuple[Any, Any]], buckets: Iterable[Any] | Mapping[Any, Any], date_column: str, bucket: str | pl.Expr
) -> list[ReadPartition]:
    """Every date window crossed with every bucket, window by window: keys ``((start, end), bucket key)``.

    >>> parts = cartesian_partitions(date_windows=[(1, 2), (2, 3)], buckets=["x", "y"], date_column="d", bucket="s")
    >>> [p.key for p in parts]
    [((1, 2), 0), ((1, 2), 1), ((2, 3), 0), ((2, 3), 1)]
    """
    bucket_items = list(buckets.items() if isinstance(buckets, Mapping) else enumerate(buckets))
    partitions = []
    for lo, hi in date_windows:
        window = (pl.col(date_column) >= lo) & (pl.col(date_column) < hi)
        for key, members in bucket_items:
            partitions.append(ReadPartition(window & _group_predicate(bucket, members), ((lo, hi), key)))
    return partitions


# --- by_key -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyPartitions:
    """One partition per key row of ``partitions``, matched on ``by`` (see :func:`by_key`)."""

    partitions: Any
    by: Any
    partition_remote_options: Any = None


def by_key(partitions: Any, by: Any, *, partition_remote_options: Any = None) -> KeyPartitions:
    """One partition per key: ``by`` is a column name, several names, or an expression (``pl.col('id').hash() % 8``).

    ``partitions`` holds the keys: values (a list, range or Series) for one column or an
    expression, a DataFrame or LazyFrame for several columns. ``partition_remote_options``
    gives a key its own Ray options: a struct column of ``partitions``, a ``{key: options}``
    mapping or a function of the key. Keys must be distinct (NULLs and NaNs count as equal).

    >>> spec = by_key([1, 2], "id")
    >>> spec.by
    'id'
    """
    return KeyPartitions(partitions, by, partition_remote_options)


@dataclass(frozen=True)
class ResolvedKeys:
    """:class:`KeyPartitions` checked against a frame: its partitions, and the key frame used to prune them."""

    partitions: tuple[RayPartition, ...]
    keys: pl.DataFrame | None = field(default=None, repr=False)
    prunable: bool = False


def resolve_keys(spec: KeyPartitions, schema: pl.Schema) -> ResolvedKeys:
    """The partitions of a ``by_key`` spec over a frame of ``schema``; raises on duplicate keys or a bad shape.

    >>> resolved = resolve_keys(by_key([2, 1], "id"), pl.Schema({"id": pl.Int64, "v": pl.Float64}))
    >>> [(p.key, str(p.predicate)) for p in resolved.partitions]
    [(2, '[(col("id")) == (2)]'), (1, '[(col("id")) == (1)]')]
    """
    by = spec.by
    if isinstance(by, pl.Expr) and not _is_plain_column(by):
        return _expression_keys(spec, by, schema)
    names = [by] if isinstance(by, str) else _selected_names(by, schema)
    missing = [n for n in names if n not in schema]
    if missing:
        raise InvalidArgument(f"by_key: {', '.join(map(repr, missing))} is not a column of the frame (it has: {', '.join(schema.names())})")
    frame = _key_frame(spec.partitions, names, multiple=not isinstance(by, str))
    options_of = _options_of(spec.partition_remote_options, frame)
    frame = frame.select(names)
    frame = frame.with_columns(pl.col(n).cast(schema[n]) for n in names)
    _check_distinct(frame)
    partitions = []
    for row in frame.iter_rows():
        key = row[0] if len(names) == 1 else tuple(row)
        parts = [pl.col(n).is_null() if v is None else pl.col(n) == pl.lit(v, dtype=schema[n]) for n, v in zip(names, row)]
        predicate = parts[0]
        for part in parts[1:]:
            predicate = predicate & part
        partitions.append(RayPartition(predicate, key, options_of(key)))
    prunable = not any(schema[n].is_float() for n in names)
    return ResolvedKeys(tuple(partitions), frame, prunable)


def _is_plain_column(expr: pl.Expr) -> bool:
    return expr.meta.is_column() if hasattr(expr.meta, "is_column") else False


def _selected_names(by: Any, schema: pl.Schema) -> list[str]:
    if isinstance(by, (list, tuple)) and all(isinstance(n, str) for n in by):
        return list(by)
    try:
        return list(pl.LazyFrame(schema=schema).select(by).collect_schema().names())
    except (pl.exceptions.PolarsError, TypeError) as e:
        raise InvalidArgument(f"by_key: by must be a column name, names, a selector or an expression, not {by!r}") from e


def _key_frame(partitions: Any, names: list[str], *, multiple: bool) -> pl.DataFrame:
    if isinstance(partitions, pl.LazyFrame):
        partitions = partitions.collect()
    if isinstance(partitions, pl.DataFrame):
        return partitions
    if multiple:
        raise InvalidArgument("by_key: partitions must be a DataFrame or LazyFrame when by selects several columns")
    if isinstance(partitions, pl.Series):
        return partitions.rename(names[0]).to_frame()
    if isinstance(partitions, (str, bytes)) or not isinstance(partitions, Iterable):
        raise InvalidArgument(f"by_key: partitions must be a list of keys, a Series or a frame, not {type(partitions).__name__}")
    return pl.DataFrame({names[0]: list(partitions)}, strict=False)


def _expression_keys(spec: KeyPartitions, by: pl.Expr, schema: pl.Schema) -> ResolvedKeys:
    try:
        dtype = pl.LazyFrame(schema=schema).select(by.alias("__key")).collect_schema()["__key"]
    except pl.exceptions.PolarsError as e:
        raise InvalidArgument(f"by_key: the key expression cannot be computed on the frame: {str(e).splitlines()[0]}") from e
    keys = spec.partitions.collect() if isinstance(spec.partitions, pl.LazyFrame) else spec.partitions
    if isinstance(keys, pl.DataFrame):
        if keys.width != 1:
            raise InvalidArgument("by_key: when by is an expression, partitions must be one column of keys")
        keys = keys.to_series()
    values = keys.to_list() if isinstance(keys, pl.Series) else list(keys)
    frame = pl.DataFrame({"__key": values}, strict=False).with_columns(pl.col("__key").cast(dtype))
    _check_distinct(frame)
    options_of = _options_of(spec.partition_remote_options, None)
    partitions = tuple(
        RayPartition(by.is_null() if v is None else by == pl.lit(v, dtype=dtype), v, options_of(v)) for v in frame["__key"].to_list()
    )
    return ResolvedKeys(partitions)


def _options_of(given: Any, frame: pl.DataFrame | None) -> Callable[[Any], Mapping[str, Any] | None]:
    if isinstance(given, str):
        if frame is None or given not in frame.columns:
            raise InvalidArgument(f"by_key: partition_remote_options column {given!r} is not in partitions")
        column = frame[given].to_list()
        keys = frame.drop(given)
        table = {(row[0] if keys.width == 1 else tuple(row)): options for row, options in zip(keys.iter_rows(), column)}
        return lambda key: table.get(key)
    if isinstance(given, Mapping):
        return lambda key: given.get(key)
    if callable(given):
        return given  # type: ignore[no-any-return]
    if given is not None:
        raise InvalidArgument(
            f"by_key: partition_remote_options must be a column name, a mapping or a function of the key, not {type(given).__name__}"
        )
    return lambda key: None


def _check_distinct(frame: pl.DataFrame) -> None:
    """Refuse a key given twice (NULLs equal each other, and so do NaNs)."""
    seen: set[Any] = set()
    for row in frame.iter_rows():
        marker = tuple("NaN" if isinstance(v, float) and math.isnan(v) else v for v in row)
        if marker in seen:
            shown = row[0] if len(row) == 1 else row
            raise InvalidArgument(f"by_key: partition key {shown!r} is given twice")
        seen.add(marker)


def prune_keys(resolved: ResolvedKeys, predicate: pl.Expr | None) -> list[RayPartition]:
    """The key partitions a filter after ``execute_on_ray`` can still match (all of them when it cannot be judged on the keys alone).

    >>> resolved = resolve_keys(by_key([1, 2, 3], "id"), pl.Schema({"id": pl.Int64}))
    >>> [p.key for p in prune_keys(resolved, pl.col("id") >= 2)]
    [2, 3]
    """
    partitions = list(resolved.partitions)
    if predicate is None or resolved.keys is None or not resolved.prunable:
        return partitions
    roots = set(predicate.meta.root_names())
    if not roots or not roots <= set(resolved.keys.columns):
        return partitions
    try:
        keep = resolved.keys.select(predicate.alias("__keep")).to_series().to_list()
    except pl.exceptions.PolarsError:
        return partitions
    return [p for p, k in zip(partitions, keep) if k is True]
