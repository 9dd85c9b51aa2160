"""What a measured run (EXPLAIN ANALYZE) records: each fragment in its task, and the merge on the driver.

A task asked to measure (``TaskSpec.measure``) ships a :class:`MeasuredResult`: its usual
payload and one :class:`FragmentMeasure` per fragment, each taken inside the task around that
fragment's own read and Polars work, so fragments sharing a task keep their own figures. The
normal path ships its payload alone. Nothing here imports Ray or a database driver.

Example:
    >>> measures = RunMeasures()
    >>> measures.record("__piot_t0", 1, (FragmentMeasure(10, 4, 64, 0.2, 0.01, "node-a", 1),))
    >>> measures.fragment("__piot_t0", 1).rows, measures.fragment("__piot_t0", 0)
    (4, None)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FragmentMeasure:
    """What one fragment did in its task.

    Attributes:
        rows_read: rows the source returned.
        rows: rows the task ships for the fragment (after the exact filter and the task's SQL).
        bytes: the Arrow size of those rows.
        source_seconds: time spent waiting on the source's read (the SQL sent, the rows back as Arrow).
        task_seconds: Polars work in the task after the read (types, exact filter, the task's SQL).
        node: the Ray node id the task ran on (None outside Ray).
        attempts: how many times Ray ran the task (1 unless it was retried; None where Ray does not tell).
    """

    rows_read: int
    rows: int
    bytes: int
    source_seconds: float
    task_seconds: float
    node: str | None
    attempts: int | None


@dataclass(frozen=True)
class MeasuredResult:
    """What a measuring task returns: the payload the merge would get anyway, and one measure per fragment."""

    payload: Any
    measures: tuple[FragmentMeasure, ...]


@dataclass
class RunMeasures:
    """Filled in by a measured run: each fragment's measure by (scan name, index in its scan), then the merge's.

    Attributes:
        fragments: the measures of the fragments that ran (a run stopped early leaves some out).
        merge_seconds: the merge's time on the driver (joining each scan's rows, then its SQL).
        result_rows: rows of the answer.
        result_bytes: the Arrow size of the answer.
    """

    fragments: dict[tuple[str, int], FragmentMeasure] = field(default_factory=dict)
    merge_seconds: float | None = None
    result_rows: int | None = None
    result_bytes: int | None = None

    def record(self, scan_name: str, first: int, measures: Sequence[FragmentMeasure]) -> None:
        """Keep the measures of a task whose fragments are ``first``, ``first + 1``, ... of ``scan_name``."""
        for offset, measure in enumerate(measures):
            self.fragments[(scan_name, first + offset)] = measure

    def fragment(self, scan_name: str, index: int) -> FragmentMeasure | None:
        """The measure of fragment ``index`` of ``scan_name``, None if it did not run."""
        return self.fragments.get((scan_name, index))
