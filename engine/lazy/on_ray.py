"""What one ``execute_on_ray`` task does, and how the driver runs them all through the scheduler.

Only small picklable values cross the Ray boundary: the serialised plan (put in the object
store once and shared by every task), a :class:`PartitionTask` per task, and a
:class:`PartitionResult` back (an Arrow table, or Arrow IPC / Parquet bytes, as ``return_as``
asks), with the SQL the task sent.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from piot.errors import NotSupportedError, RayNotInitialised
from piot.lazy.partitions import ReadPartition
from piot.lazy.sql_log import capture_sql, record_many
from piot.run.runtime import check_feasible
from piot.run.scheduler import TaskItem, TaskLimits, run_tasks
from piot.run.task import RETURN_FORMATS, decode, encode

__all__ = [
    "RETURN_AS",
    "PartitionResult",
    "PartitionTask",
    "SerializedPlan",
    "check_remote_options",
    "decode",
    "require_ray",
    "run_partition",
    "run_partitions",
    "serialize_plan",
]

RETURN_AS = RETURN_FORMATS
_RAY_NOT_STARTED = (
    "execute_on_ray needs Ray: call ray.init() first (ray.init() starts a local Ray; ray.init(address=...) joins a cluster)"
)
_serialize_lock = threading.Lock()


@dataclass(frozen=True)
class SerializedPlan:
    """The plan as bytes; they may hold the sources' URLs, so its repr (seen in traceback locals) does not show them."""

    data: bytes = field(repr=False)


@dataclass(frozen=True)
class PartitionTask:
    """What one Ray task needs besides the plan: its partition's predicate, the columns to keep, how to ship rows."""

    index: int
    predicate: pl.Expr
    columns: tuple[str, ...]
    return_as: str


@dataclass(frozen=True)
class PartitionResult:
    """One task's rows (as ``return_as`` asked) and the SQL statements it sent."""

    index: int
    payload: Any
    rows: int
    statements: tuple[str, ...]


def run_partition(task: PartitionTask, limits: TaskLimits, plan: SerializedPlan) -> PartitionResult:
    """Collect the plan filtered to the task's partition; runs on a Ray worker."""
    del limits
    with capture_sql() as statements:
        lf = pl.LazyFrame.deserialize(io.BytesIO(plan.data))
        frame = lf.filter(task.predicate).select(list(task.columns)).collect()
    return PartitionResult(task.index, encode(frame, task.return_as), frame.height, tuple(statements))


def require_ray() -> None:
    """Raise :class:`RayNotInitialised` (also a RuntimeError) telling the user to call ``ray.init()``."""
    import ray

    if not ray.is_initialized():
        raise RayNotInitialised(_RAY_NOT_STARTED)


def check_remote_options(options: Mapping[str, Any]) -> None:
    """Refuse options Ray rejects, and requests no alive node of the cluster can ever satisfy."""
    check_feasible(options, who="execute_on_ray")


def serialize_plan(lf: pl.LazyFrame) -> SerializedPlan:
    """The plan as bytes for the workers (Polars pickles the Python IO sources inside with cloudpickle)."""
    with _serialize_lock:
        try:
            return SerializedPlan(lf.serialize())
        except Exception as e:  # noqa: BLE001 - Polars raises ComputeError and friends
            raise NotSupportedError(f"execute_on_ray cannot send this plan to Ray workers: {e}") from e


def partition_label(index: int, key: Any) -> str:
    """How errors name a partition: its period for a time window, else its position and key.

    >>> import datetime as dt
    >>> partition_label(0, (dt.datetime(2024, 1, 1), dt.datetime(2024, 2, 1)))
    'execute_on_ray: the task for period [2024-01-01, 2024-02-01)'
    >>> partition_label(2, "EU")
    "execute_on_ray: the task for partition 2 (key='EU')"
    """
    if isinstance(key, tuple) and len(key) == 2 and all(hasattr(k, "isoformat") for k in key):
        return f"execute_on_ray: the task for period [{_shown(key[0])}, {_shown(key[1])})"
    return f"execute_on_ray: the task for partition {index} (key={key!r})"


def _shown(value: Any) -> str:
    text = value.isoformat(" ")
    return text[:10] if text.endswith("00:00:00") else text


def run_partitions(
    plan: SerializedPlan,
    partitions: Sequence[ReadPartition],
    columns: tuple[str, ...],
    *,
    return_as: str,
    remote_options: Mapping[str, Any],
    max_concurrency: int,
    enough: Callable[[dict[int, int]], bool] | None = None,
) -> tuple[dict[int, PartitionResult], list[int]]:
    """Run one task per partition through the scheduler.

    Returns the results by partition index and the indexes in the order they arrived.
    ``enough(rows_by_index)`` may stop the run early (a ``head(n)`` that has its rows): no
    more tasks are sent and those in flight are told to stop.
    """
    results: dict[int, PartitionResult] = {}
    arrival: list[int] = []
    rows: dict[int, int] = {}

    def arrived(index: int, result: PartitionResult) -> int:
        results[index] = result
        arrival.append(index)
        rows[index] = result.rows
        record_many(result.statements)
        return result.rows

    items = [
        TaskItem(
            PartitionTask(i, p.predicate, columns, return_as),
            partition_label(i, p.key),
            period=partition_label(i, p.key).removeprefix("execute_on_ray: the task for "),
            options=dict(getattr(p, "remote_options", None) or {}),
        )
        for i, p in enumerate(partitions)
    ]
    run_tasks(
        run_partition,
        items,
        shared=plan,
        max_concurrency=max_concurrency,
        remote_options=remote_options,
        on_result=arrived,
        until=(lambda: enough(rows)) if enough is not None else None,
    )
    return results, arrival
