"""Ray mechanics of ``execute_on_ray``: one task per period, results shipped back, errors translated.

This is the one module of :mod:`piot.lazy` that calls Ray. Only small picklable values
cross the boundary: the serialised plan (put in the object store once), a
:class:`PeriodTask` per task, and a :class:`PeriodResult` back (an Arrow table, or
Arrow IPC / Parquet bytes, as ``return_as`` asks), with the SQL the task sent.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from piot.errors import NotSupportedError, OperationalError
from piot.lazy.bounds import window_expr
from piot.lazy.sql_log import capture_sql, record_many
from piot.plan.periods import Period
from piot.run.runtime import check_feasible
from piot.run.scheduler import TaskItem, TaskLimits, run_tasks
from piot.run.task import RETURN_FORMATS, decode, encode

__all__ = [
    "RETURN_AS",
    "PeriodResult",
    "SerializedPlan",
    "PeriodTask",
    "check_remote_options",
    "decode",
    "encode",
    "require_ray",
    "run_period",
    "run_periods",
    "serialize_plan",
]

RETURN_AS = RETURN_FORMATS
_RAY_NOT_STARTED = (
    "execute_on_ray needs Ray: call ray.init() first (ray.init() starts a local Ray; "
    "ray.init(address=...) joins a cluster)"
)
_serialize_lock = threading.Lock()


@dataclass(frozen=True)
class SerializedPlan:
    """The plan as bytes; they hold the sources' URLs, so its repr (seen in traceback locals) does not show them."""

    data: bytes = field(repr=False)


@dataclass(frozen=True)
class PeriodTask:
    """What one Ray task needs besides the plan: its window and how to ship the result."""

    index: int
    period: Period
    column: str
    dtype: pl.DataType
    columns: tuple[str, ...]
    return_as: str


@dataclass(frozen=True)
class PeriodResult:
    """One task's rows (as ``return_as`` asked) and the SQL statements it sent."""

    index: int
    payload: Any
    statements: tuple[str, ...]


def run_period(task: PeriodTask, limits: TaskLimits, plan: SerializedPlan) -> PeriodResult:
    """Collect the plan filtered to the task's window; runs on a Ray worker."""
    del limits
    with capture_sql() as statements:
        lf = pl.LazyFrame.deserialize(io.BytesIO(plan.data))
        window = window_expr(task.column, task.period, task.dtype)
        frame = lf.filter(window).select(list(task.columns)).collect()
    return PeriodResult(task.index, encode(frame, task.return_as), tuple(statements))


def require_ray() -> None:
    """Raise :class:`OperationalError` telling the user to call ``ray.init()`` when Ray is not running."""
    import ray

    if not ray.is_initialized():
        raise OperationalError(_RAY_NOT_STARTED)


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


def run_periods(
    plan: SerializedPlan, tasks: Sequence[PeriodTask], remote_options: Mapping[str, Any], max_concurrency: int
) -> list[PeriodResult]:
    """Run one task per period through the scheduler, at most ``max_concurrency`` at a time; results in period order.

    Raises:
        OperationalError: naming the period of the first task that failed; no further tasks are sent.
    """

    def arrived(index: int, result: PeriodResult) -> int:
        record_many(result.statements)
        return 0

    items = [TaskItem(task, f"execute_on_ray: the task for period {task.period}", period=str(task.period)) for task in tasks]
    return run_tasks(run_period, items, shared=plan, max_concurrency=max_concurrency, remote_options=remote_options, on_result=arrived)
