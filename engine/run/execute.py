"""Run the scans of a plan: each scan's fragments become tasks for the scheduler.

Many tiny fragments of one scan share a task (at most :data:`MAX_TASKS_PER_SCAN` tasks per
scan), each still reading only its window; scans that read exactly the same rows are read
once. The scheduler (:mod:`piot.run.scheduler`) runs the tasks; a task
(:mod:`piot.run.task`) reads its fragments.
"""

from __future__ import annotations

import math
from pathlib import Path
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import polars as pl

from piot.connectors.sql_log import record_many
from piot.errors import NotSupportedError
from piot.merge.finish import fold_partials
from piot.plan.fragments import Scan, distinct_scans, first_alike
from piot.run.measures import MeasuredResult, RunMeasures
from piot.run.scheduler import Progress, TaskItem, run_tasks
from piot.run.spill import Spill
from piot.run.task import RETURN_FORMATS, FrameResult, TaskSpec, decode, run_task

__all__ = ["MAX_TASKS_PER_SCAN", "RETURN_FORMATS", "Progress", "execute_scans", "task_specs"]

#: the driver folds a scan's partial aggregates once it holds this many frames of them, or this many rows
FOLD_FRAMES, FOLD_ROWS = 32, 500_000
#: a scan with more fragments than this runs several fragments per task.
MAX_TASKS_PER_SCAN = 256


def task_specs(scan: Scan, return_as: str, *, measure: bool = False) -> list[TaskSpec]:
    """Group a scan's fragments into tasks: one each, or consecutive batches past the task limit.

    ``measure``: each task also ships what each of its fragments did (EXPLAIN ANALYZE).

    >>> from piot.plan.fragments import SplitDecision
    >>> scan = Scan("t", "t", "db.t", (), tuple(range(600)), SplitDecision(None, None, ""))  # type: ignore[arg-type]
    >>> [len(s.fragments) for s in task_specs(scan, "arrow")][:3], len(task_specs(scan, "arrow"))
    ([3, 3, 3], 200)
    """
    # a Polars read is one partition per task: each may carry its own Ray options
    size = 1 if scan.frame_plan is not None else max(1, math.ceil(len(scan.fragments) / MAX_TASKS_PER_SCAN))
    return [
        TaskSpec(tuple(scan.fragments[i : i + size]), scan.schema, return_as, scan.output.task_sql, measure)
        for i in range(0, len(scan.fragments), size)
    ]


def task_item(spec: TaskSpec) -> TaskItem:
    """The scheduler's view of a task: how its errors name it, its own Ray options, and whose secrets it hides."""
    first = spec.fragments[0]
    if first.frame_read is not None:
        what = f"period {first.label}" if first.label.startswith("[") else first.label
        return TaskItem(spec, f"execute_on_ray: the task for {what}", period=first.label, options=dict(first.frame_read.options or {}))
    assert first.source is not None
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
    ordered: bool = True,
    enough: Callable[[dict[int, int]], bool] | None = None,
    measures: RunMeasures | None = None,
    spill: Spill | None = None,
) -> dict[str, list[pl.DataFrame | Path]]:
    """Run every fragment of ``scans`` on Ray; return each scan's frames in period order (or as they arrived).

    ``enough(rows by task index)`` may stop the run early (a ``head(n)`` that has its rows).
    A scan of the Polars API (``frame_plan``) has its plan shipped once to every task.
    ``measures`` (EXPLAIN ANALYZE) is filled with what each fragment did, by scan and index.
    With ``spill``, raw rows past its memory budget are written to disk: such a frame comes
    back as the path of its Arrow IPC file.
    """
    reads = first_alike(scans)
    distinct = distinct_scans(scans)
    specs: list[tuple[str, int, TaskSpec]] = []  # (scan name, index of the task's first fragment in its scan, task)
    for scan in distinct:
        first = 0
        for spec in task_specs(scan, return_as, measure=measures is not None):
            specs.append((scan.name, first, spec))
            first += len(spec.fragments)
    frames: dict[int, pl.DataFrame | Path] = {}
    rows: dict[int, int] = {}
    arrival: list[int] = []
    by_name = {scan.name: scan for scan in distinct}

    def arrived(index: int, payload: Any) -> int:
        if isinstance(payload, FrameResult):
            record_many(payload.statements)
            payload = payload.payload
        if isinstance(payload, MeasuredResult):
            if measures is not None:
                measures.record(specs[index][0], specs[index][1], payload.measures)
            payload = payload.payload
        frame = decode(payload, return_as)
        rows[index] = frame.height
        arrival.append(index)
        scan = by_name[specs[index][0]]
        frames[index] = spill.keep(frame) if spill is not None and scan.output.combine_sql is None else frame
        if scan.output.combine_sql is not None:
            _fold_arrived(frames, specs, scan)
        height = frame.height
        return height

    plans = {id(scan.frame_plan): scan.frame_plan for scan in distinct if scan.frame_plan is not None}
    if len(plans) > 1:
        raise NotSupportedError("one run holds at most one plan of the Polars API")
    run_tasks(
        run_task,
        [task_item(spec) for _, _, spec in specs],
        shared=next(iter(plans.values()), None),
        max_concurrency=max_concurrency,
        remote_options=remote_options,
        progress=progress,
        on_result=arrived,
        on_progress=on_progress,
        until=(lambda: enough(rows)) if enough is not None else None,
    )
    by_scan: dict[str, list[pl.DataFrame | Path]] = {scan.name: [] for scan in distinct}
    for index in sorted(frames) if ordered else [i for i in arrival if i in frames]:
        by_scan[specs[index][0]].append(frames[index])
    return {scan.name: by_scan[reads[scan.name]] for scan in scans}


def _fold_arrived(frames: dict[int, pl.DataFrame | Path], specs: Sequence[tuple[str, int, TaskSpec]], scan: Scan) -> None:
    """Fold the partial aggregates ``scan``'s tasks have shipped so far into one frame, once they are many.

    The driver then holds about one partial row per group, not one per group and fragment.
    """
    combine_sql = scan.output.combine_sql
    if combine_sql is None:
        return
    held = [i for i in frames if specs[i][0] == scan.name]
    if len(held) < FOLD_FRAMES and sum(f.height for i in held if isinstance(f := frames[i], pl.DataFrame)) < FOLD_ROWS:
        return
    folded = fold_partials([frames.pop(i) for i in held], combine_sql, scan.output_schema)  # type: ignore[misc]
    frames[min(held)] = folded
