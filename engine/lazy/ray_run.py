"""What ``execute_on_ray`` does when its LazyFrame is collected.

The LazyFrame it returns is a Polars IO plugin over a :class:`RayRun`. Polars pushes a
filter written after ``execute_on_ray`` into it as its predicate, so bounds on the date
column come from both sides: the plan before (read once, by :class:`RayJob`) and the
predicate after. The bounded range is cut into periods and each period becomes one
Ray task that collects the input plan filtered to its window.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from piot.errors import ProgrammingError
from piot.lazy.bounds import bounds_for
from piot.lazy.expr_reader import read_predicate
from piot.lazy.on_ray import PeriodTask, decode, require_ray, run_periods, serialize_plan
from piot.plan.bounds import Range
from piot.plan.periods import Edge, Period, Unit, choose_unit, fit_unit, split_range

__all__ = ["RayJob", "RayRun", "missing_bound_message"]


@dataclass(frozen=True)
class RayJob:
    """The validated arguments of one ``execute_on_ray`` call and what its plan told us.

    Attributes:
        lf: the input plan (row-wise, over one scan).
        column: the date column, and its Polars type.
        time_unit: daily, monthly, yearly or auto.
        return_as: arrow, ipc or parquet.
        remote_options: passed to each task's ``.options(...)``.
        max_concurrency: most tasks in flight at once.
        plan_bounds: bounds on the column found in the plan before ``execute_on_ray``.
    """

    lf: pl.LazyFrame = field(repr=False)
    column: str
    dtype: pl.DataType
    time_unit: str
    return_as: str
    remote_options: Mapping[str, Any]
    max_concurrency: int
    plan_bounds: Range

    @property
    def time_zone(self) -> str | None:
        """The date column's time zone, None for dates and naive datetimes."""
        return self.dtype.time_zone if isinstance(self.dtype, pl.Datetime) else None


def missing_bound_message(column: str, bounds: Range) -> str:
    """Say which side of the range is missing and how to bound it.

    >>> message = missing_bound_message("date", Range())
    >>> message[:80]
    "execute_on_ray needs a two-sided bound on 'date' to split the work, and the quer"
    >>> "pl.col('date').is_between(start, end)" in message
    True
    """
    if bounds.lower is None and bounds.upper is None:
        found = "the query has none"
    else:
        found = f"the query only bounds it {'from below' if bounds.upper is None else 'from above'}"
    return (
        f"execute_on_ray needs a two-sided bound on {column!r} to split the work, and {found}; "
        f"add one before or after execute_on_ray, e.g. .filter(pl.col({column!r}).is_between(start, end)) "
        "or a pair of >= / <= filters"
    )


def plan_periods(bounds: Range, time_unit: str) -> list[Period]:
    """The periods of a two-sided range, ``auto`` resolved by its length.

    >>> lo, hi = Edge(datetime(2024, 1, 1), True), Edge(datetime(2024, 3, 31), True)
    >>> [str(p) for p in plan_periods(Range(lo, hi), "monthly")]
    ['[2024-01-01, 2024-02-01)', '[2024-02-01, 2024-03-01)', '[2024-03-01, 2024-03-31]']
    """
    assert bounds.lower is not None and bounds.upper is not None
    if time_unit == "auto":
        unit: Unit = choose_unit(bounds.lower.value, bounds.upper.value)
    else:
        unit = time_unit  # type: ignore[assignment]
    # a far bound is cut coarser rather than into thousands of periods
    unit, every = fit_unit(bounds.lower.value, bounds.upper.value, unit)
    return split_range(bounds.lower, bounds.upper, unit, every=every)


def probe_period(bounds: Range) -> Period:
    """A one-day period inside ``bounds`` when they have a lower edge, else an arbitrary one."""
    start = bounds.lower.value if bounds.lower is not None else datetime(2000, 1, 1)
    return Period(Edge(start, True), Edge(start + timedelta(days=1), False))


@dataclass(frozen=True)
class RayRun:
    """The IO source behind the frame ``execute_on_ray`` returns."""

    job: RayJob

    def __call__(
        self,
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        batch_size: int | None,
    ) -> Iterator[pl.DataFrame]:
        """Split, run the tasks, and hand Polars the concatenated rows; called at collect."""
        del batch_size
        job = self.job
        require_ray()
        bounds = job.plan_bounds
        if predicate is not None:
            bounds = bounds.intersect(bounds_for(read_predicate(predicate), job.column, job.time_zone))
        if not bounds.two_sided:
            raise ProgrammingError(missing_bound_message(job.column, bounds))
        schema = job.lf.collect_schema()
        needed = set(with_columns if with_columns is not None else schema.names())
        if predicate is not None:
            needed |= set(predicate.meta.root_names())
        columns = tuple(name for name in schema.names() if name in needed)
        base = job.lf if predicate is None else job.lf.filter(predicate)
        tasks = [
            PeriodTask(i, period, job.column, job.dtype, columns, job.return_as)
            for i, period in enumerate(plan_periods(bounds, job.time_unit))
        ]
        results = run_periods(serialize_plan(base), tasks, job.remote_options, job.max_concurrency)
        frames = [decode(r.payload, job.return_as) for r in results]
        frame = pl.concat(frames, how="vertical_relaxed").select(
            [pl.col(name).cast(schema[name]) for name in columns]
        )
        if predicate is not None:
            frame = frame.filter(predicate)
        if n_rows is not None:
            frame = frame.head(n_rows)
        yield frame.select(with_columns) if with_columns is not None else frame
