"""EXPLAIN: the plan as rows, without running anything.

One ``fragment`` row per fragment with the exact SQL sent to its source, then one
``merge`` row with the SQL Polars runs over the fragments' rows. A fragment's note says what
became of each condition on its table: sent exactly, widened (the source keeps more rows, and
the exact condition is applied to the rows read) or kept back (applied by the merge alone). A scan reading exactly
the rows of an earlier one (a table named twice) has no fragments of its own. URLs never
appear.
"""

from __future__ import annotations

import polars as pl

from piot.plan.exactness import Exactness
from piot.plan.fragments import Scan, first_alike
from piot.plan.planner import Plan

EXPLAIN_COLUMNS = ("step", "source", "period_start", "period_end", "sql", "note")


def explain_frame(plan: Plan) -> pl.DataFrame:
    """The rows of ``EXPLAIN`` for ``plan``."""
    rows: list[tuple[str, str | None, str | None, str | None, str, str]] = []
    reads = first_alike(plan.scans)
    for scan in plan.scans:
        if reads[scan.name] != scan.name:
            continue
        head = f"{scan.table_name}: {scan.split.reason}"
        tail = _pushdown_note(scan)  # the same for every fragment of the scan: written once
        task = f"; the task returns {scan.output.kind}: {scan.output.task_sql}" if scan.output.task_sql else ""
        for fragment in scan.fragments:
            period = fragment.period
            start = _edge_text(period.start.value) if period else None
            end = _edge_text(period.end.value) if period else None
            note = head + (f", period {period}" if period else "") + tail
            if fragment.exact_filter:
                note += "; the rows read are filtered again exactly after the read"
            rows.append(("fragment", fragment.source.name, start, end, fragment.sql, note + task))
    names = ", ".join(
        f"{scan.name} = {scan.table_name} "
        + (f"({len(scan.fragments)} fragment(s))" if reads[scan.name] == scan.name else f"(the rows of {reads[scan.name]})")
        for scan in plan.scans
    )
    rows.append(("merge", None, None, None, plan.merge_sql, f"Polars SQL over {names}" if names else "Polars SQL"))
    return pl.DataFrame(rows, schema=list(EXPLAIN_COLUMNS), orient="row")


def _pushdown_note(scan: Scan) -> str:
    """What became of the scan's conditions: how many are sent exactly, and each widened or kept-back one with why."""
    if not scan.pushdown:
        return ""
    exact = sum(d.exactness is Exactness.EXACT for d in scan.pushdown)
    others = [d.describe() for d in scan.pushdown if d.exactness is not Exactness.EXACT]
    return f"; conditions: {exact} exact" + "".join(f"; {text}" for text in others)


def _edge_text(value: object) -> str:
    text = str(value)
    return text[:10] if text.endswith(" 00:00:00") else text
