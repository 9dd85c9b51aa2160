"""Result frames as text: aligned tables (psql style), CSV, TSV, JSON, Markdown, one block per row.

NULLs are always visible (``NULL`` in text formats, an empty field in CSV/TSV, ``null`` in
JSON). ``max_rows`` cuts what is shown; text formats then say how many rows were left out.

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

import json
from typing import Any

import polars as pl

FORMATS = ("table", "csv", "tsv", "json", "markdown", "vertical")
NULL_TEXT = "NULL"


def cell_text(value: Any) -> str:
    """One value as shown on screen.

    >>> cell_text(None), cell_text(0.1), cell_text("a\\nb"), cell_text(1e20)
    ('NULL', '0.1', 'a\\\\nb', '1e+20')
    """
    if value is None:
        return NULL_TEXT
    if isinstance(value, float):
        return repr(value) if abs(value) < 1e16 else f"{value:g}"
    return str(value).replace("\r", "\\r").replace("\n", "\\n")


def row_count(total: int, shown: int | None = None) -> str:
    """The footer under a result.

    >>> row_count(1), row_count(5), row_count(2500, 1000)
    ('(1 row)', '(5 rows)', '(2500 rows, 1500 not shown)')
    """
    text = f"({total} row{'' if total == 1 else 's'}"
    if shown is not None and shown < total:
        text += f", {total - shown} not shown"
    return text + ")"


def hidden_notice(total: int, shown: int) -> str | None:
    """What to say on stderr when a CSV/TSV/JSON result on screen was cut, else None.

    >>> hidden_notice(10, 10) is None, hidden_notice(10, 4)
    (True, '(10 rows, 6 not shown: \\\\o FILE writes them all)')
    """
    if shown >= total:
        return None
    return f"({total} rows, {total - shown} not shown: \\o FILE writes them all)"


def render(frame: pl.DataFrame, fmt: str = "table", *, max_rows: int | None = None) -> str:
    """The text of ``frame`` in format ``fmt``; at most ``max_rows`` rows (None: all)."""
    shown = frame if max_rows is None else frame.head(max_rows)
    if fmt == "csv":
        return shown.write_csv().rstrip("\n")
    if fmt == "tsv":
        return shown.write_csv(separator="\t").rstrip("\n")
    if fmt == "json":
        return json.dumps(shown.to_dicts(), default=str)
    if fmt == "markdown":
        return _markdown(shown, frame.height)
    if fmt == "vertical":
        return _vertical(shown, frame.height)
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r}")
    return _table(shown, frame.height)


def _numeric(frame: pl.DataFrame) -> list[bool]:
    return [dtype.is_numeric() for dtype in frame.dtypes]


def _table(shown: pl.DataFrame, total: int) -> str:
    numeric = _numeric(shown)
    rows = [[cell_text(v) for v in row] for row in shown.iter_rows()]
    widths = [max([len(name)] + [len(r[i]) for r in rows]) for i, name in enumerate(shown.columns)]
    header = " " + " | ".join(name.ljust(w) for name, w in zip(shown.columns, widths))
    rule = "-" + "-+-".join("-" * w for w in widths) + "-"
    body = [
        " " + " | ".join(c.rjust(w) if num and c != NULL_TEXT else c.ljust(w) for c, w, num in zip(r, widths, numeric))
        for r in rows
    ]
    return "\n".join([header.rstrip(), rule] + [b.rstrip() for b in body] + [row_count(total, shown.height)])


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _markdown(shown: pl.DataFrame, total: int) -> str:
    """GitHub-flavoured Markdown: numbers right-aligned.

    >>> print(_markdown(pl.DataFrame({"a": ["x|y"], "n": [None]}, schema={"a": pl.String, "n": pl.Int64}), 1))
    | a    | n    |
    | ---- | ---: |
    | x\\|y | NULL |
    <BLANKLINE>
    (1 row)
    """
    columns = [_markdown_cell(name) for name in shown.columns]
    rows = [[_markdown_cell(cell_text(v)) for v in row] for row in shown.iter_rows()]
    widths = [max([3, len(name)] + [len(r[i]) for r in rows]) for i, name in enumerate(columns)]
    rule = ["-" * (w - 1) + ":" if num else "-" * w for w, num in zip(widths, _numeric(shown))]
    lines = [
        "| " + " | ".join(cell.ljust(w) for cell, w in zip(cells, widths)) + " |"
        for cells in [columns, rule, *rows]
    ]
    return "\n".join([*lines, "", row_count(total, shown.height)])


def _vertical(shown: pl.DataFrame, total: int) -> str:
    """One block per row, as psql's expanded display.

    >>> print(_vertical(pl.DataFrame({"symbol": ["ABC"], "n": [1]}), 1))
    -[ RECORD 1 ]---
    symbol | ABC
    n      | 1
    (1 row)
    """
    width = max((len(name) for name in shown.columns), default=0)
    lines: list[str] = []
    for number, row in enumerate(shown.iter_rows(), start=1):
        cells = [cell_text(value) for value in row]
        title = f"-[ RECORD {number} ]"
        lines.append(title.ljust(max(len(title) + 3, width + 3 + max(map(len, cells), default=0)), "-"))
        lines.extend(f"{name.ljust(width)} | {cell}".rstrip() for name, cell in zip(shown.columns, cells))
    return "\n".join([*lines, row_count(total, shown.height)])
