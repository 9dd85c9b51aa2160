"""What ``execute_on_ray`` does when its LazyFrame is collected.

The LazyFrame it returns is a Polars IO plugin over a :class:`RayRun`. Polars pushes the
filter written after ``execute_on_ray`` into it as its predicate, and the columns and row
limit asked for. At collect the partitions are made (a partitioner reads that predicate;
``by_key`` partitions it cannot match are dropped), the plan filtered by the predicate is
shipped once, and each partition becomes one Ray task that collects it filtered to the
partition. Rows come back in partition order or as tasks finish; a ``head(n)`` stops
sending tasks once it has its rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from piot.errors import InvalidArgument
from piot.lazy.bounds import bounds_for
from piot.lazy.expr_reader import read_predicate
from piot.lazy.on_ray import serialize_plan
from piot.lazy.partitions import (
    MOST_WINDOWS,
    Partitioner,
    RayPartition,
    ReadPartition,
    ResolvedKeys,
    TimePartitioner,
    ValuePartitioner,
    prune_keys,
)
from piot.plan.fragments import Fragment, FramePlan, FrameRead, Scan, SplitDecision
from piot.run.execute import execute_scans

__all__ = ["RayJob", "RayRun", "missing_bound_message"]


@dataclass(frozen=True)
class RayJob:
    """The checked arguments of one ``execute_on_ray`` call.

    Attributes:
        lf: the plan before ``execute_on_ray`` (any plan: it runs in each task, filtered to the partition).
        partitions: a partitioner, ``by_key`` partitions resolved against the frame, or a fixed list.
        return_as: arrow, ipc or parquet.
        remote_options: every task's Ray options (a partition's own win over them).
        max_concurrency: the most tasks in flight at once.
        ordered: rows in partition order (else in the order tasks finish).
    """

    lf: pl.LazyFrame = field(repr=False)
    partitions: Partitioner | ResolvedKeys | tuple[RayPartition, ...]
    return_as: str
    remote_options: Mapping[str, Any]
    max_concurrency: int
    ordered: bool


def missing_bound_message(spec: Partitioner, predicate: pl.Expr | None) -> str:
    """Say what a partitioner needs from the filters and which part is missing.

    >>> from piot.lazy.partitions import by_time
    >>> print(missing_bound_message(by_time("date"), None))
    execute_on_ray needs a two-sided bound on 'date' to split the work, and the query has none; add one before or after execute_on_ray, e.g. .filter(pl.col('date').is_between(start, end)) or a pair of >= / <= filters
    """
    column = spec.on
    if isinstance(spec, TimePartitioner):
        bounds = spec.before
        if predicate is not None:
            zone = spec.dtype.time_zone if isinstance(spec.dtype, pl.Datetime) else None
            bounds = bounds.intersect(bounds_for(read_predicate(predicate), column, zone))
        if bounds.lower is None and bounds.upper is None:
            found = "the query has none"
        elif bounds.two_sided:
            found = f"it spans more than {MOST_WINDOWS:,} windows of {spec.every}; choose a longer interval"
        else:
            found = f"the query only bounds it {'from below' if bounds.upper is None else 'from above'}"
        return (
            f"execute_on_ray needs a two-sided bound on {column!r} to split the work, and {found}; "
            f"add one before or after execute_on_ray, e.g. .filter(pl.col({column!r}).is_between(start, end)) "
            "or a pair of >= / <= filters"
        )
    if isinstance(spec, ValuePartitioner):
        return (
            f"execute_on_ray needs the values of {column!r} to split the work: give them to by_value, or filter "
            f"after execute_on_ray with == or is_in on {column!r}"
        )
    return (
        f"execute_on_ray needs a bounded range of {column!r} to split the work; filter after execute_on_ray, "
        f"e.g. .filter(pl.col({column!r}).is_between(low, high))"
    )


def partitions_for(job: RayJob, predicate: pl.Expr | None) -> list[RayPartition]:
    """The partitions of one collect: built from the pushed predicate, pruned, or as given."""
    spec = job.partitions
    if isinstance(spec, ResolvedKeys):
        return prune_keys(spec, predicate)
    if isinstance(spec, tuple):
        return list(spec)
    built = spec.build(predicate)
    if built is None:
        raise InvalidArgument(missing_bound_message(spec, predicate))
    return [as_ray_partition(p) for p in built]


def as_ray_partition(partition: Any) -> RayPartition:
    """A list item as a :class:`RayPartition`, or an InvalidArgument saying what a partition is."""
    if isinstance(partition, RayPartition):
        return partition
    if isinstance(partition, ReadPartition):
        return RayPartition(partition.predicate, partition.key)
    raise InvalidArgument(
        "execute_on_ray: partitions must be a partitioner (piot.by_time, by_value, by_range, by_key) or ReadPartition / "
        f"RayPartition items, not {type(partition).__name__}"
    )


def frame_scan(plan: FramePlan, partitions: list[RayPartition], schema: pl.Schema, columns: tuple[str, ...], split: str) -> Scan:
    """The plan object of one ``execute_on_ray`` collect: a scan of the Polars plan, one fragment per partition.

    >>> scan = frame_scan(FramePlan(b""), [RayPartition(pl.col("x") > 1, "big")], pl.Schema({"x": pl.Int64}), ("x",), "2 partitions")
    >>> scan.fragments[0].label, scan.schema
    ("partition key='big'", (('x', Int64),))
    """
    fragments = tuple(
        Fragment(FRAME_SCAN, None, str(p.predicate), None, frame_read=FrameRead(p.predicate, p.key, p.remote_options)) for p in partitions
    )
    return Scan(
        FRAME_SCAN, "execute_on_ray", "execute_on_ray", tuple((c, schema[c]) for c in columns), fragments,
        SplitDecision(None, None, split), frame_plan=plan,
    )  # fmt: skip


#: the scan name of an ``execute_on_ray`` plan
FRAME_SCAN = "__piot_frame"


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
        """Make the partitions, run their tasks, and hand Polars their rows; called at collect."""
        del batch_size
        from piot.lazy.on_ray import require_ray

        job = self.job
        schema = job.lf.collect_schema()
        wanted = list(with_columns) if with_columns is not None else schema.names()
        partitions = partitions_for(job, predicate)
        if not partitions or n_rows == 0:
            yield pl.DataFrame(schema={name: schema[name] for name in wanted})
            return
        require_ray()
        columns = _needed_columns(schema, wanted, predicate, partitions)
        base = job.lf if predicate is None else job.lf.filter(predicate)
        scan = frame_scan(FramePlan(serialize_plan(base).data), partitions, schema, columns, f"{len(partitions)} partitions")
        frames = execute_scans(
            [scan],
            max_concurrency=job.max_concurrency,
            return_as=job.return_as,
            remote_options=job.remote_options,
            ordered=job.ordered,
            enough=None if n_rows is None else _enough(n_rows, job.ordered),
        )[scan.name]
        left = n_rows
        for frame in frames:
            frame = frame.select(wanted)
            frame = frame.cast({name: schema[name] for name in wanted})  # type: ignore[arg-type]
            if left is not None:
                frame = frame.head(left)
                left -= frame.height
            yield frame
            if left == 0:
                return


def _needed_columns(schema: pl.Schema, wanted: list[str], predicate: pl.Expr | None, partitions: list[RayPartition]) -> tuple[str, ...]:
    """The columns the tasks return: those asked for, plus any a predicate needs (all when one cannot tell)."""
    needed = set(wanted)
    for expr in [predicate, *(p.predicate for p in partitions)]:
        if expr is None:
            continue
        roots = expr.meta.root_names()
        if not roots and expr.meta.has_multiple_outputs():
            return tuple(schema.names())
        needed |= set(roots)
    return tuple(name for name in schema.names() if name in needed)


def _enough(n_rows: int, ordered: bool) -> Any:
    """Whether the rows that arrived already give the first ``n_rows`` in the output's order."""

    def check(rows: dict[int, int]) -> bool:
        if not ordered:
            return sum(rows.values()) >= n_rows
        total, index = 0, 0
        while index in rows:  # only an unbroken run from the first partition counts
            total += rows[index]
            index += 1
        return total >= n_rows

    return check

