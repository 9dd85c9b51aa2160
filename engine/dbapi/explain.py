"""EXPLAIN: the plan as rows, without running anything; EXPLAIN ANALYZE: the same plan run and measured.

``EXPLAIN`` gives one ``fragment`` row per fragment, then one ``merge`` row, and says where
each part of the work runs:

- ``sql``: what runs in the source, the exact SQL sent to it (on the merge row: the SQL Polars
  runs over the fragments' results);
- ``task``: what the Ray task does with the rows read: ``rows as read``, or the exact filter
  applied after the read and the task's own Polars SQL (a partial aggregate, top-N);
- the ``merge`` row's ``task`` column: what the merge finishes over the fragments' results.

A fragment's ``note`` says how its table was split and what became of each condition on it:
sent exactly, widened (the source keeps more rows, the exact condition runs in the task) or
kept back (applied by the merge alone). A scan reading exactly the rows of an earlier one (a
table named twice) has no fragments of its own. URLs never appear.

``EXPLAIN ANALYZE`` gives the same rows with what each fragment did (see :func:`analyze_frame`).
"""

from __future__ import annotations

import polars as pl

from piot.plan.exactness import Exactness
from piot.plan.fragments import Fragment, Scan, first_alike
from piot.plan.planner import Plan
from piot.run.measures import RunMeasures

EXPLAIN_COLUMNS = ("step", "source", "period_start", "period_end", "sql", "note", "task")
ANALYZE_COLUMNS = (
    "step", "source", "period_start", "period_end", "rows", "bytes", "source_seconds", "task_seconds", "merge_seconds",
    "node", "attempts", "rows_read",
)  # fmt: skip
_ANALYZE_SCHEMA = {
    "step": pl.String, "source": pl.String, "period_start": pl.String, "period_end": pl.String,
    "rows": pl.Int64, "bytes": pl.Int64, "source_seconds": pl.Float64, "task_seconds": pl.Float64,
    "merge_seconds": pl.Float64, "node": pl.String, "attempts": pl.Int64, "rows_read": pl.Int64,
}  # fmt: skip
#: what the task column says of a fragment whose rows go to the merge untouched.
ROWS_AS_READ = "rows as read"


def explain_frame(plan: Plan) -> pl.DataFrame:
    """The rows of ``EXPLAIN`` for ``plan``."""
    rows: list[tuple[str | None, ...]] = []
    pushdown_notes: dict[str, str] = {}  # the same for every fragment of a scan: written once per scan
    for scan, _, fragment in read_fragments(plan):
        start, end = _period_texts(fragment)
        if scan.name not in pushdown_notes:
            pushdown_notes[scan.name] = _pushdown_note(scan)
        note = f"{scan.table_name}: {scan.split.reason}" + (f", period {fragment.period}" if fragment.period else "")
        note += pushdown_notes[scan.name]
        rows.append(("fragment", fragment.source_name, start, end, fragment.sql, note, task_text(scan, fragment)))
    rows.append(("merge", None, None, None, plan.merge_sql, merge_note(plan), merge_text(plan)))
    return pl.DataFrame(rows, schema=list(EXPLAIN_COLUMNS), orient="row")


def analyze_frame(plan: Plan, measures: RunMeasures) -> pl.DataFrame:
    """The rows of ``EXPLAIN ANALYZE``: per fragment what it shipped, its time in the source and in the task, where it ran.

    A fragment that never ran (the run stopped once a LIMIT had its rows) has no figures and
    0 attempts. The ``merge`` row gives the answer's rows and size, the merge's time, and in
    ``rows_read`` the rows it received from the fragments.
    """
    rows: list[dict[str, object]] = []
    for scan, index, fragment in read_fragments(plan):
        start, end = _period_texts(fragment)
        measure = measures.fragment(scan.name, index)
        row: dict[str, object] = {"step": "fragment", "source": fragment.source_name, "period_start": start, "period_end": end}
        if measure is None:
            row["attempts"] = 0
        else:
            row |= {
                "rows": measure.rows, "bytes": measure.bytes, "source_seconds": _seconds(measure.source_seconds),
                "task_seconds": _seconds(measure.task_seconds), "node": measure.node, "attempts": measure.attempts,
                "rows_read": measure.rows_read,
            }  # fmt: skip
        rows.append(row)
    received = sum(m.rows for m in measures.fragments.values())
    merge = {"step": "merge", "rows": measures.result_rows, "bytes": measures.result_bytes, "rows_read": received}
    rows.append(merge | {"merge_seconds": _seconds(measures.merge_seconds)})
    return pl.DataFrame([{name: row.get(name) for name in ANALYZE_COLUMNS} for row in rows], schema=_ANALYZE_SCHEMA)


def read_fragments(plan: Plan) -> list[tuple[Scan, int, Fragment]]:
    """Every fragment that is read, with its scan and index there, in plan order (a scan reading another's rows has none)."""
    reads = first_alike(plan.scans)
    read = [scan for scan in plan.scans if reads[scan.name] == scan.name]
    return [(scan, index, fragment) for scan in read for index, fragment in enumerate(scan.fragments)]


def task_text(scan: Scan, fragment: Fragment) -> str:
    """What the task does with one fragment's rows after the read.

    >>> from piot.plan.fragments import FragmentOutput, SplitDecision
    >>> scan = Scan("t0", "t", "db.t", (), (), SplitDecision(None, None, ""))
    >>> task_text(scan, Fragment("t0", None, "SELECT x FROM t", None))
    'rows as read'
    >>> task_text(scan, Fragment("t0", None, "SELECT x FROM t", None, exact_filter="x LIKE 'a%'"))
    "filter exactly: x LIKE 'a%'; ship the rows"
    >>> output = FragmentOutput("partial aggregate", "SELECT sum(x) AS s FROM fragment")
    >>> partial = Scan("t0", "t", "db.t", (), (), SplitDecision(None, None, ""), output=output)
    >>> task_text(partial, Fragment("t0", None, "SELECT x FROM t", None))
    'partial aggregate in Polars: SELECT sum(x) AS s FROM fragment'
    """
    kind, task_sql = scan.output.kind, scan.output.task_sql
    steps = [f"filter exactly: {fragment.exact_filter}"] if fragment.exact_filter else []
    if task_sql:
        return "; ".join([*steps, f"{kind} in Polars: {task_sql}"])
    shipped = "; ".join([*steps, "ship the rows"]) if steps else ROWS_AS_READ
    return shipped if kind == "rows" else f"{shipped} (the source computed the {kind})"


def merge_note(plan: Plan) -> str:
    """The merge row's note: the name each scan's results go by in the merge SQL, and how many fragments feed it."""
    reads = first_alike(plan.scans)
    names = ", ".join(
        f"{scan.name} = {scan.table_name} "
        + (f"({len(scan.fragments)} fragment(s))" if reads[scan.name] == scan.name else f"(the rows of {reads[scan.name]})")
        for scan in plan.scans
    )
    return f"Polars SQL over {names}" if names else "Polars SQL"


def merge_text(plan: Plan) -> str:
    """What the merge finishes: the whole query over the fragments' results, completing any partial results.

    >>> merge_text(Plan((), "SELECT 1 AS one", ("one",)))
    'the whole query (it reads no table)'
    """
    reads = first_alike(plan.scans)
    if not plan.scans:
        return "the whole query (it reads no table)"
    read = [scan for scan in plan.scans if reads[scan.name] == scan.name]
    partial = [f"{scan.output.kind} of {scan.name}" for scan in read if scan.output.kind != "rows"]
    if not partial:
        return "the whole query over the fragments' rows"
    return "the whole query over the fragments' results, finishing the " + ", the ".join(partial)


def _seconds(value: float | None) -> float | None:
    """Seconds to the microsecond, which is all a timing can tell.

    >>> _seconds(0.12345678), _seconds(None)
    (0.123457, None)
    """
    return None if value is None else round(value, 6)


def _period_texts(fragment: Fragment) -> tuple[str | None, str | None]:
    period = fragment.period
    if period is None:
        return None, None
    return (
        _edge_text(period.start.value) if period.start is not None else None,
        _edge_text(period.end.value) if period.end is not None else None,
    )


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
