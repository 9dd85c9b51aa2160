"""Every output format, NULLs, dates and decimals, and the screen row limit."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from piot.errors import ProgrammingError
from piot.shell.output import FORMATS, render
from piot.shell.sink import write_frame

FRAME = pl.DataFrame(
    {
        "day": [dt.date(2024, 1, 31), None, dt.date(2024, 3, 1)],
        "symbol": ["ABC", "A|B", None],
        "price": [Decimal("10.50"), Decimal("2.00"), None],
        "n": [1, None, 300],
    },
    schema={"day": pl.Date, "symbol": pl.String, "price": pl.Decimal(10, 2), "n": pl.Int64},
)


def test_table_aligns_numbers_right_and_shows_nulls() -> None:
    assert render(FRAME, "table").splitlines() == [
        " day        | symbol | price | n",
        "------------+--------+-------+------",
        " 2024-01-31 | ABC    | 10.50 |    1",
        " NULL       | A|B    |  2.00 | NULL",
        " 2024-03-01 | NULL   | NULL  |  300",
        "(3 rows)",
    ]


def test_csv_and_tsv_leave_nulls_empty() -> None:
    assert render(FRAME, "csv") == "day,symbol,price,n\n2024-01-31,ABC,10.50,1\n,A|B,2.00,\n2024-03-01,,,300"
    assert render(FRAME, "tsv").splitlines()[1] == "2024-01-31\tABC\t10.50\t1"


def test_json_is_an_array_of_objects_with_null() -> None:
    assert json.loads(render(FRAME, "json"))[1] == {"day": None, "symbol": "A|B", "price": "2.00", "n": None}


def test_markdown_escapes_pipes_and_right_aligns_numbers() -> None:
    assert render(FRAME, "markdown").splitlines()[:4] == [
        "| day        | symbol | price | n    |",
        "| ---------- | ------ | ----: | ---: |",
        "| 2024-01-31 | ABC    | 10.50 | 1    |",
        "| NULL       | A\\|B   | 2.00  | NULL |",
    ]


def test_vertical_prints_one_block_per_row() -> None:
    text = render(FRAME.head(2), "vertical")
    assert text.split("\n-[ RECORD 2 ]")[0].splitlines() == [
        "-[ RECORD 1 ]------",
        "day    | 2024-01-31",
        "symbol | ABC",
        "price  | 10.50",
        "n      | 1",
    ]
    assert text.endswith("n      | NULL\n(2 rows)")


@pytest.mark.parametrize("fmt", ["table", "markdown", "vertical"])
def test_row_limit_says_how_many_rows_were_not_shown(fmt: str) -> None:
    text = render(FRAME, fmt, max_rows=1)
    assert text.endswith("(3 rows, 2 not shown)")
    assert "2024-03-01" not in text


def test_empty_results_keep_their_header() -> None:
    empty = FRAME.head(0)
    for fmt in FORMATS:
        assert render(empty, fmt) is not None
    assert render(empty, "table").splitlines() == [" day | symbol | price | n", "-----+--------+-------+---", "(0 rows)"]
    assert render(empty, "json") == "[]"


def test_files_follow_their_extension(tmp_path: Path) -> None:
    for name in ("r.csv", "r.tsv", "r.json", "r.parquet"):
        write_frame(FRAME, tmp_path / name)
    assert pl.read_csv(tmp_path / "r.csv").height == 3
    assert (tmp_path / "r.tsv").read_text().startswith("day\tsymbol")
    assert json.loads((tmp_path / "r.json").read_text())[2]["symbol"] is None
    assert pl.read_parquet(tmp_path / "r.parquet").equals(FRAME)
    with pytest.raises(ProgrammingError, match="cannot tell the format"):
        write_frame(FRAME, tmp_path / "r.txt")
