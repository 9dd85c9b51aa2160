"""Run the scans of a plan: each scan's fragments become tasks for the scheduler.

Many tiny fragments of one scan share a task (at most :data:`MAX_TASKS_PER_SCAN` tasks per
scan), each still reading only its window; scans that read exactly the same rows are read
once. The scheduler (:mod:`piot.run.scheduler`) runs the tasks; a task
(:mod:`piot.run.task`) reads its fragments.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import polars as pl

from piot.plan.fragments import Scan, distinct_scans, first_alike
from piot.run.scheduler import Progress, TaskItem, run_tasks
from piot.run.task import RETURN_FORMATS, TaskSpec, decode, run_task

__all__ = ["MAX_TASKS_PER_SCAN", "RETURN_FORMATS", "Progress", "execute_scans", "task_specs"]

#: a scan with more fragments than this runs several fragments per task.
MAX_TASKS_PER_SCAN = 256


def task_specs(scan: Scan, return_as: str) -> list[TaskSpec]:
    """Group a scan's fragments into tasks: one each, or consecutive batches past the task limit.

    >>> from piot.plan.fragments import SplitDecision
    >>> scan = Scan("t", "t", "db.t", (), tuple(range(600)), SplitDecision(None, None, ""))  # type: ignore[arg-type]
    >>> [len(s.fragments) for s in task_specs(scan, "arrow")][:3], len(task_specs(scan, "arrow"))
    ([3, 3, 3], 200)
    """
    size = max(1, math.ceil(len(scan.fragments) / MAX_TASKS_PER_SCAN))
    return [
        TaskSpec(tuple(scan.fragments[i : i + size]), scan.schema, return_as, scan.output.task_sql)
        for i in range(0, len(scan.fragments), size)
    ]


def task_item(spec: TaskSpec) -> TaskItem:
    """The scheduler's view of a task: how its errors name it, and whose secrets they hide."""
    first = spec.fragments[0]
    return TaskItem(
        spec,
        f"source {first.source.name!r}, period {first.label}",
        source=first.source.name,
        period=first.label,
        weight=len(spec.fragments),
        redact=first.source.redact,
    )


def execute_scans(
    scans: Sequence[Scan],
    *,
    max_concurrency: int = 100,
    return_as: str = "arrow",
    remote_options: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> dict[str, list[pl.DataFrame]]:
    """Run every fragment of ``scans`` on Ray; return each scan's frames in period order."""
    reads = first_alike(scans)
    distinct = distinct_scans(scans)
    specs = [(scan.name, spec) for scan in distinct for spec in task_specs(scan, return_as)]
    frames: dict[int, pl.DataFrame] = {}

    def arrived(index: int, payload: Any) -> int:
        frames[index] = decode(payload, return_as)
        return frames[index].height

    run_tasks(
        run_task,
        [task_item(spec) for _, spec in specs],
        max_concurrency=max_concurrency,
        remote_options=remote_options,
        progress=progress,
        on_result=arrived,
        on_progress=on_progress,
    )
    by_scan: dict[str, list[pl.DataFrame]] = {scan.name: [] for scan in distinct}
    for index in sorted(frames):
        by_scan[specs[index][0]].append(frames[index])
    return {scan.name: by_scan[reads[scan.name]] for scan in scans}
