"""Render result frames for the terminal: aligned tables (psql style), CSV, TSV, JSON.

Example:
    >>> import polars as pl
    >>> print(render(pl.DataFrame({"symbol": ["ABC", None], "n": [1, 20]}), "table"))
     symbol | n
    --------+----
     ABC    |  1
     NULL   | 20
    (2 rows)
"""

from __future__ import annotations

import io
import json
from typing import Any

import polars as pl

FORMATS = ("table", "csv", "tsv", "json")
NULL_TEXT = "NULL"


def _cell(value: Any) -> str:
    if value is None:
        return NULL_TEXT
    if isinstance(value, float):
        return repr(value) if abs(value) < 1e16 else f"{value:g}"
    return str(value)


def render(frame: pl.DataFrame, fmt: str = "table", *, max_rows: int | None = None) -> str:
    """The text of ``frame`` in format ``fmt``; ``max_rows`` limits a table on screen."""
    if fmt == "csv":
        return frame.write_csv().rstrip("\n")
    if fmt == "tsv":
        return frame.write_csv(separator="\t").rstrip("\n")
    if fmt == "json":
        buffer = io.StringIO()
        json.dump(frame.to_dicts(), buffer, default=str, indent=None)
        return buffer.getvalue()
    return _table(frame, max_rows)


def _table(frame: pl.DataFrame, max_rows: int | None) -> str:
    shown = frame if max_rows is None else frame.head(max_rows)
    numeric = [dtype.is_numeric() for dtype in frame.dtypes]
    rows = [[_cell(v) for v in row] for row in shown.iter_rows()]
    widths = [max([len(name)] + [len(r[i]) for r in rows]) for i, name in enumerate(frame.columns)]
    header = " " + " | ".join(name.ljust(w) for name, w in zip(frame.columns, widths))
    rule = "-" + "-+-".join("-" * w for w in widths) + "-"
    body = [" " + " | ".join(c.rjust(w) if num and c != NULL_TEXT else c.ljust(w) for c, w, num in zip(r, widths, numeric)) for r in rows]
    count = f"({frame.height} row{'s' if frame.height != 1 else ''})"
    if shown.height < frame.height:
        count += f", {frame.height - shown.height} not shown"
    return "\n".join([header.rstrip(), rule] + [b.rstrip() for b in body] + [count])
