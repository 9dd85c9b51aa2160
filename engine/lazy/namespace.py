"""The ``piot`` LazyFrame namespace: ``lf.piot.execute_on_ray(...)``.

Importing this module registers the namespace with Polars. Arguments are checked when
``execute_on_ray`` is called, so a mistake surfaces before anything runs; the work itself
happens when the returned LazyFrame is collected.

Example:
    >>> import polars as pl
    >>> lf = pl.LazyFrame({"date": [], "price": []}, schema={"date": pl.Date, "price": pl.Float64})
    >>> lf.piot.execute_on_ray("price")
    Traceback (most recent call last):
    ...
    piot.errors.ProgrammingError: execute_on_ray: date_column 'price' is Float64; it must be a Date or Datetime column
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl
from polars.io.plugins import register_io_source

from piot.errors import NotSupportedError, ProgrammingError
from piot.lazy.bounds import window_expr
from piot.lazy.on_ray import RETURN_AS, check_remote_options, require_ray
from piot.lazy.plan_reader import read_plan
from piot.lazy.ray_run import RayJob, RayRun, probe_period
from piot.plan.bounds import Range
from piot.plan.periods import Period

__all__ = ["PiotFrame"]

TIME_UNITS = ("daily", "monthly", "yearly", "auto")


@pl.api.register_lazyframe_namespace("piot")
class PiotFrame:
    """piot's methods on every LazyFrame, under ``lf.piot``."""

    def __init__(self, lf: pl.LazyFrame) -> None:
        self._lf = lf

    def execute_on_ray(
        self,
        date_column: str,
        time_unit: str = "monthly",
        return_as: str = "arrow",
        remote_options: dict[str, Any] | None = None,
        max_concurrency: int = 100,
    ) -> pl.LazyFrame:
        """Run this LazyFrame on Ray, one task per calendar period of ``date_column``.

        The plan before this call must be row-wise (filters, selects, with_columns over one
        scan); aggregations, joins, sorts, unique and slices go after it, where they run on
        the concatenated result. A two-sided bound on ``date_column`` must be given by a
        filter before or after this call.

        Args:
            date_column: the Date or Datetime column the work is split on.
            time_unit: ``daily``, ``monthly``, ``yearly`` or ``auto`` (by the range's length).
            return_as: how tasks ship rows back: ``arrow``, ``ipc`` or ``parquet``.
            remote_options: passed to each Ray task's ``.options(...)``.
            max_concurrency: at most this many tasks in flight.

        Returns:
            A LazyFrame; collecting it runs the tasks and concatenates their rows in period order.

        Raises:
            ProgrammingError: an argument is invalid, or no node could run a task.
            OperationalError: Ray is not initialised.
            NotSupportedError: the plan is not row-wise, or its window cannot reach the source.
        """
        options = _check_arguments(time_unit, return_as, remote_options, max_concurrency)
        dtype = _date_column_type(self._lf, date_column)
        require_ray()
        check_remote_options(options)
        job = _plan_job(self._lf, date_column, dtype, time_unit, return_as, options, max_concurrency)
        return register_io_source(
            RayRun(job),
            schema=self._lf.collect_schema(),
            explain_name="piot.execute_on_ray",
            explain_detail=f"split on {date_column} {time_unit}, results as {return_as}",
        )


def _check_arguments(
    time_unit: Any, return_as: Any, remote_options: Any, max_concurrency: Any
) -> dict[str, Any]:
    if time_unit not in TIME_UNITS:
        raise ProgrammingError(f"execute_on_ray: time_unit must be one of {', '.join(TIME_UNITS)}, not {time_unit!r}")
    if return_as not in RETURN_AS:
        raise ProgrammingError(f"execute_on_ray: return_as must be one of {', '.join(RETURN_AS)}, not {return_as!r}")
    if remote_options is not None and not isinstance(remote_options, Mapping):
        raise ProgrammingError("execute_on_ray: remote_options must be a dict of Ray task options, e.g. {'num_cpus': 2}")
    if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) or max_concurrency < 1:
        raise ProgrammingError(f"execute_on_ray: max_concurrency must be a positive integer, not {max_concurrency!r}")
    return dict(remote_options or {})


def _date_column_type(lf: pl.LazyFrame, column: Any) -> pl.DataType:
    try:
        schema = lf.collect_schema()
    except pl.exceptions.PolarsError as e:
        raise ProgrammingError(f"execute_on_ray: the LazyFrame's schema cannot be resolved: {e}") from e
    if not isinstance(column, str) or column not in schema:
        known = ", ".join(schema.names())
        raise ProgrammingError(f"execute_on_ray: date_column {column!r} is not a column of the frame (it has: {known})")
    dtype = schema[column]
    if not isinstance(dtype, (pl.Date, pl.Datetime)):
        raise ProgrammingError(
            f"execute_on_ray: date_column {column!r} is {dtype}; it must be a Date or Datetime column"
        )
    return dtype


def _plan_job(
    lf: pl.LazyFrame,
    column: str,
    dtype: pl.DataType,
    time_unit: str,
    return_as: str,
    options: dict[str, Any],
    max_concurrency: int,
) -> RayJob:
    time_zone = dtype.time_zone if isinstance(dtype, pl.Datetime) else None
    view = read_plan(lf, column, time_zone)
    if view.blocking is not None:
        raise NotSupportedError(
            f"execute_on_ray: the plan before it contains {view.blocking}, which would be computed per "
            "period; put that step after execute_on_ray, where it runs on the concatenated result"
        )
    if view.scans != 1:
        raise NotSupportedError("execute_on_ray: the plan before it must read from exactly one scan")
    window = probe_period(view.bounds)
    probe = read_plan(lf.filter(window_expr(column, window, dtype)), column, time_zone).scan_bounds
    if not (probe.two_sided and _inside(probe, window)):
        raise NotSupportedError(
            f"execute_on_ray: a filter on {column!r} cannot be pushed down to the source through the plan "
            f"before it (a step such as cum_sum, shift, rank or a redefinition of {column!r} blocks it), "
            "so every task would read the whole range; put those steps after execute_on_ray"
        )
    return RayJob(lf, column, dtype, time_unit, return_as, options, max_concurrency, view.bounds)


def _inside(bounds: Range, period: Period) -> bool:
    assert bounds.lower is not None and bounds.upper is not None
    return bounds.lower.value >= period.start.value and bounds.upper.value <= period.end.value
