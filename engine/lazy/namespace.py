"""The ``piot`` LazyFrame namespace: ``lf.piot.execute_on_ray(...)``, as polars-io-tools has it.

Importing this module registers the namespace with Polars. Arguments are checked when
``execute_on_ray`` is called, so a mistake surfaces before anything runs; the work itself
happens when the returned LazyFrame is collected. Ray must be running first; invalid
arguments raise :class:`~piot.errors.InvalidArgument` (also a ``ValueError`` and a
``TypeError``), a Ray that is not running :class:`~piot.errors.RayNotInitialised` (also a
``RuntimeError``), so code written for polars-io-tools catches them as it did.

Example:
    >>> import polars as pl
    >>> lf = pl.LazyFrame({"date": [], "price": []}, schema={"date": pl.Date, "price": pl.Float64})
    >>> _partitions_of(lf, lf.collect_schema(), None, "price", "monthly")
    Traceback (most recent call last):
    ...
    piot.errors.InvalidArgument: execute_on_ray: date_column 'price' is Float64; it must be a Date or Datetime column
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl
from polars.io.plugins import register_io_source

from piot.errors import InvalidArgument, NotSupportedError
from piot.lazy.on_ray import RETURN_AS, check_remote_options, require_ray
from piot.lazy.partitions import TIME_UNITS, KeyPartitions, Partitioner, TimePartitioner, by_time, resolve_keys
from piot.lazy.plan_reader import read_plan
from piot.lazy.ray_run import RayJob, RayRun, as_ray_partition
from piot.plan.bounds import Range

__all__ = ["PiotFrame"]

#: the ``time_unit`` shortcut's names (``auto``: days, months or years by the range's length)
SHORTCUT_UNITS = (*TIME_UNITS, "auto")


@pl.api.register_lazyframe_namespace("piot")
class PiotFrame:
    """piot's methods on every LazyFrame, under ``lf.piot``."""

    def __init__(self, lf: pl.LazyFrame) -> None:
        self._lf = lf

    def execute_on_ray(
        self,
        partitions: Any = None,
        *,
        date_column: str | None = None,
        time_unit: str | None = None,
        return_as: str = "arrow",
        remote_options: Mapping[str, Any] | None = None,
        max_concurrency: int | None = 100,
        preserve_partition_order: bool | None = None,
        description: str | None = None,
    ) -> pl.LazyFrame:
        """Run this LazyFrame on Ray, one task per partition.

        Each task collects the plan before this call filtered to its partition, so any plan
        works; what is cheap per partition (filters, selects, reads whose filter reaches the
        source's SQL, Parquet statistics or hive paths) should come before, what needs all rows
        (aggregations, sorts, joins of the whole) after, where it runs on the concatenated rows.

        Args:
            partitions: a partitioner (``piot.by_time``, ``by_value``, ``by_range``, ``by_key``)
                or a list (or generator, read once) of ``piot.ReadPartition`` / ``piot.RayPartition``.
                A column name stands for ``date_column=name``.
            date_column, time_unit: the calendar shortcut, ``by_time(date_column, unit)`` for
                ``daily``, ``monthly`` (the default), ``yearly`` or ``auto``; not together with ``partitions``.
            return_as: how tasks ship rows back: ``arrow``, ``ipc`` or ``parquet``.
            remote_options: every task's Ray ``.options(...)``; a RayPartition's own win.
            max_concurrency: at most this many tasks in flight (None: all at once).
            preserve_partition_order: rows in partition order (the default for the calendar
                shortcut and a column name) or as tasks finish (the default otherwise).
            description: shown by ``explain()``.

        Returns:
            A LazyFrame; collecting it runs the tasks.
        """
        require_ray()
        options = _remote_options(remote_options)
        schema = _schema(self._lf)
        shortcut = date_column is not None or time_unit is not None or isinstance(partitions, str)
        spec = _partitions_of(self._lf, schema, partitions, date_column, time_unit)
        if return_as not in RETURN_AS:
            raise InvalidArgument(f"execute_on_ray: return_as must be one of {', '.join(RETURN_AS)}, not {return_as!r}")
        if max_concurrency is not None and (isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) or max_concurrency < 1):
            raise InvalidArgument(f"execute_on_ray: max_concurrency must be a positive integer or None, not {max_concurrency!r}")
        check_remote_options(options)
        ordered = shortcut if preserve_partition_order is None else bool(preserve_partition_order)
        job = RayJob(self._lf, spec, return_as, options, max_concurrency or 1_000_000, ordered)
        return register_io_source(
            RayRun(job),
            schema=schema,
            explain_name="piot.execute_on_ray",
            explain_detail=description or _described(spec, return_as),
        )


def _remote_options(given: Any) -> dict[str, Any]:
    if not given:
        return {}
    if not isinstance(given, Mapping):
        raise InvalidArgument("execute_on_ray: remote_options must be a dict of Ray task options, e.g. {'num_cpus': 2}")
    return dict(given)


def _schema(lf: pl.LazyFrame) -> pl.Schema:
    try:
        return lf.collect_schema()
    except pl.exceptions.PolarsError as e:
        raise InvalidArgument(f"execute_on_ray: the LazyFrame's schema cannot be resolved: {e}") from e


def _with_plan_bounds(lf: pl.LazyFrame, partitioner: TimePartitioner, schema: pl.Schema) -> TimePartitioner:
    """The partitioner, told the bounds filters before ``execute_on_ray`` put on its column."""
    dtype = schema[partitioner.on]
    zone = dtype.time_zone if isinstance(dtype, pl.Datetime) else None
    try:
        before = read_plan(lf, partitioner.on, zone).bounds
    except NotSupportedError:  # a plan the reader cannot follow: only the filter after bounds the column
        before = Range()
    return partitioner.for_frame(schema, before)


def _partitions_of(lf: pl.LazyFrame, schema: pl.Schema, partitions: Any, date_column: Any, time_unit: Any) -> Any:
    """The checked partition spec: a partitioner, resolved ``by_key`` partitions, or a tuple of partitions."""
    if isinstance(partitions, str) and date_column is None:  # a column name: the calendar shortcut on it
        partitions, date_column = None, partitions
    if date_column is not None or time_unit is not None:
        if partitions is not None:
            raise InvalidArgument("execute_on_ray: pass either partitions or the date_column/time_unit shortcut, not both")
        if date_column is None:
            raise InvalidArgument("execute_on_ray: the calendar shortcut needs date_column (time_unit alone names no column)")
        time_unit = time_unit or "monthly"
        if time_unit not in SHORTCUT_UNITS:
            raise InvalidArgument(f"execute_on_ray: time_unit must be one of {', '.join(SHORTCUT_UNITS)}, not {time_unit!r}")
        _date_column(schema, date_column)
        return _with_plan_bounds(lf, by_time(date_column, TIME_UNITS.get(time_unit, "auto")), schema)
    if partitions is None:
        raise InvalidArgument("execute_on_ray: give partitions (a partitioner or a list of ReadPartition) or date_column and time_unit")
    if isinstance(partitions, KeyPartitions):
        return resolve_keys(partitions, schema)
    if isinstance(partitions, Partitioner):
        if partitions.on not in schema:
            raise InvalidArgument(f"execute_on_ray: {partitions.on!r} is not a column of the frame (it has: {', '.join(schema.names())})")
        if isinstance(partitions, TimePartitioner):
            _date_column(schema, partitions.on)
            return _with_plan_bounds(lf, partitions, schema)
        return partitions
    if isinstance(partitions, Iterable) and not isinstance(partitions, (bytes, Mapping)):
        return tuple(as_ray_partition(p) for p in partitions)
    raise InvalidArgument(
        "execute_on_ray: partitions must be a partitioner (piot.by_time, by_value, by_range, by_key) or a list of "
        f"ReadPartition, not {type(partitions).__name__}"
    )


def _date_column(schema: pl.Schema, column: Any) -> None:
    if not isinstance(column, str) or column not in schema:
        raise InvalidArgument(f"execute_on_ray: date_column {column!r} is not a column of the frame (it has: {', '.join(schema.names())})")
    dtype = schema[column]
    if not isinstance(dtype, (pl.Date, pl.Datetime)):
        raise InvalidArgument(f"execute_on_ray: date_column {column!r} is {dtype}; it must be a Date or Datetime column")


def _described(spec: Any, return_as: str) -> str:
    if isinstance(spec, TimePartitioner):
        what = f"by_time({spec.on!r}, {spec.every!r})"
    elif isinstance(spec, tuple):
        what = f"{len(spec)} partitions"
    elif hasattr(spec, "on"):
        what = f"{type(spec).__name__} on {spec.on!r}"
    else:
        what = f"{len(spec.partitions)} keys"
    return f"{what}, results as {return_as}"
