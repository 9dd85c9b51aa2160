"""The benchmark harness's pure helpers (benchmarks/harness): answer checks, tables, query selection.

Nothing here measures anything or touches a database: ``make bench`` is run by hand only.
"""

from __future__ import annotations

import doctest
import importlib
import sys
from pathlib import Path

import polars as pl
import pytest
import sqlglot

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from harness.child_process import Outcome, outcome_from
from harness.compare import difference
from harness.queries import trades_queries
from harness.report import markdown_table, peak_cell, problems, time_cell, time_table, total_row

PURE = [
    "harness.queries",
    "harness.compare",
    "harness.report",
    "harness.contenders",
    "harness.jobs",
    "harness.estimate",
    "harness.child_process",
]


@pytest.mark.parametrize("name", PURE)
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0


def test_the_same_rows_in_other_dress_agree() -> None:
    reference = pl.DataFrame(
        {"region": ["EMEA", "AMER"], "trades": [3, 2], "avg_price": [10.5, 7.25]},
        schema={"region": pl.String, "trades": pl.Int64, "avg_price": pl.Float64},
    )
    other = pl.DataFrame(
        {"r": ["AMER  ", "EMEA"], "n": [2, 3], "avg": ["7.25", "10.50"]},
        schema={"r": pl.String, "n": pl.UInt32, "avg": pl.String},
    ).with_columns(pl.col("avg").cast(pl.Decimal(12, 2)))
    assert difference(other, reference) is None


def test_a_different_row_is_named() -> None:
    reference = pl.DataFrame({"k": [1, 2], "d": ["2024-01-01", "2024-01-02"]}).with_columns(pl.col("d").str.to_date())
    changed = reference.with_columns(pl.when(pl.col("k") == 2).then(pl.date(2024, 1, 3)).otherwise(pl.col("d")).alias("d"))
    assert difference(changed, reference) == "column 2 (d) differs"
    assert difference(reference.head(1), reference) == "shape (1, 2), expected (2, 2)"


def test_timestamps_compare_whatever_their_unit() -> None:
    stamps = pl.DataFrame({"ts": ["2024-02-29 12:00:00.000001"]}).with_columns(
        pl.col("ts").str.to_datetime("%Y-%m-%d %H:%M:%S%.f")
    )
    assert difference(stamps.with_columns(pl.col("ts").dt.cast_time_unit("ns")), stamps) is None


def test_tables_show_medians_ratios_failures_and_mismatches() -> None:
    results = {
        "q1": {"base": Outcome(seconds=[1.0, 2.0, 3.0]), "x": Outcome(seconds=[4.0], difference="column 1 (a) differs")},
        "q2": {"base": Outcome(seconds=[1.0]), "x": Outcome(error="timed out after 5 s")},
    }
    table = time_table(results, [("q1", "first"), ("q2", "second")], [("base", "Base"), ("x", "X")], "base")
    assert table.splitlines()[2] == "| first | 2.000 (1.00×) | 4.000 (2.00×) **≠** |"
    assert table.splitlines()[3] == "| second | 1.000 (1.00×) | fails |"
    assert total_row(results, ["q1", "q2"], [("base", "Base"), ("x", "X")], "base")[0] == "total of 1 answered by all"
    lines = problems(results, {"x": "X"})
    assert lines == [
        "- **q1, X: ANSWER DIFFERS from the reference: column 1 (a) differs**",
        "- q2, X: fails: timed out after 5 s",
    ]
    assert time_cell(None, 1.0) == "–" and peak_cell(None) == "–"
    assert markdown_table(["a"], []).count("\n") == 1


def test_child_lines_become_outcomes(tmp_path: Path) -> None:
    outcome = outcome_from(
        {"query": "scan_01m", "seconds": [0.2, 0.1], "peak_mib": 300.0, "base_mib": 250.0, "rows": 10}, tmp_path
    )
    assert outcome.median == pytest.approx(0.15)
    assert outcome.answer == tmp_path / "scan_01m.arrow"
    assert peak_cell(outcome) == "300"


@pytest.mark.parametrize("dialect", ["postgres", "mysql", "sqlite"])
def test_every_trades_query_parses_back_in_its_dialect(dialect: str) -> None:
    for query in trades_queries():
        for sql in (query.sql("trades", dialect), query.rows_sql("trades", dialect), query.window_sql("trades", dialect)):
            assert sqlglot.parse_one(sql, read=dialect).find(sqlglot.exp.Where) is not None


def test_only_selects_by_name_pattern_and_group() -> None:
    bench = importlib.import_module("bench")
    names = [q.name for q in trades_queries()]
    assert [n for n in names if bench.wanted(n, "range")] == ["scan_01m", "scan_03m", "scan_06m", "scan_12m", "scan_24m"]
    assert [n for n in names if bench.wanted(n, "top10_12m,scan_01m_daily")] == ["scan_01m_daily", "top10_12m"]
    assert bench.wanted("tpch_q06", "tpch") and not bench.wanted("tpch_q06", "trades")
