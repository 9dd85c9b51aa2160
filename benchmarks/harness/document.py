"""The whole markdown report of a run, from its results."""

from __future__ import annotations

from collections.abc import Sequence

from harness.contenders import BASELINE, KIND_NAMES, Contender, label
from harness.plot import Series
from harness.queries import TradesQuery
from harness.report import Results, machine_lines, markdown_table, peak_table, problems, time_table, total_row

NOTES = """\
How each contender answers (every one in a process of its own, warm: one run before the timed ones):

- **connectorx, one read**: one connectorx read of the rows and columns the query needs, finished
  in Polars (group-by, sort and head). Every trades ratio is to this.
- **piot SQL**: `piot.connect(catalog, time_unit=...)` and `cursor.execute(sql).fetch_polars()`, split
  by the query's unit (monthly; daily for the one-month daily query); TPC-H with the automatic unit,
  and once more with `split=False`.
- **piot Polars API**: `piot.scan_db(all columns)`, then `.piot.execute_on_ray(date_column="trade_date",
  time_unit=...)`, the window filtered after it, the shape finished in Polars: the same code as
  polars-io-tools gets.
- **polars-io-tools 0.2.6 (ODBC)**: its `scan_db` through PostgreSQL's ODBC driver (in its own
  virtualenv) with `partitions=by_time("trade_date", "1mo")` (`"1d"` for the daily query): one query
  per period with its bounds, read in threads of the process, no Ray; `max_text_size=255` for
  arrow-odbc (psqlODBC declares TEXT 8,190 bytes wide). Its `execute_on_ray` is the opt-in contender
  `pit_ray` (`--contenders every`): filtered before it, 0.2.6 raises "Could not derive partitions" on
  a Date column, and filtered after it every task reads the whole window, so its rows read grow with
  the square of the range.
- **Daft read_sql on Ray**: `daft.read_sql(window, url, partition_col="trade_date", num_partitions=<periods>)`
  (`trade_id` on SQLite, whose dates are text), the shape finished by Daft, in its own virtualenv
  (Daft pins an older Ray and pyarrow).
- **<database> runs the query**: the database runs the whole query; connectorx fetches only its result.
- **binary COPY**: `psql -c "COPY (rows) TO STDOUT (FORMAT binary)"` into /dev/null: the rows a reader
  must transfer, at the protocol's limit (psql's start, about 10 ms, included; its peak is psql's).
- **DuckDB in memory**: DuckDB over the same TPC-H data loaded into memory from Parquet: a floor.

Driver peak is the contender process's resident high-water mark over the query's timed runs, in MiB
(reset after the warm-up run, so it counts what the process holds anyway, its imports and Ray's
driver, plus what the query needs; Ray workers and database servers are not counted). Answers are compared after sorting, with
numbers as Float64 to a relative 1e-6 and text right-trimmed; **≠** marks an answer that differs."""


def _columns(contenders: Sequence[Contender], kind: str, family: str) -> list[tuple[str, str]]:
    return [(c.key, label(c, kind)) for c in contenders if kind in c.kinds and family in c.families]


def trades_section(
    kind: str, rows: int, results: Results, queries: Sequence[TradesQuery], contenders: Sequence[Contender], repeat: int
) -> str:
    """The trades tables of one database."""
    columns = _columns(contenders, kind, "trades")
    listed = [(q.name, f"{q.title} ({q.periods} period{'s' if q.periods != 1 else ''})") for q in queries]
    base = (
        label(next(c for c in contenders if c.key == BASELINE["trades"]), kind)
        if any(k == BASELINE["trades"] for k, _ in columns)
        else "–"
    )
    return "\n\n".join(
        [
            f"## Trades in {KIND_NAMES[kind]} ({rows:,} rows over 2023-01-01 .. 2024-12-31)",
            f"Median seconds of {repeat} runs after a warm-up, and the ratio to {base}:",
            time_table(results, listed, columns, BASELINE["trades"]),
            peak_table(results, listed, columns),
        ]
    )


def range_section(series: Series, plotted: str | None) -> str:
    """Median seconds against months read, as tables (the plot shows the same)."""
    parts = ["## Time against range length", plotted or "![time against range length](range.png)"]
    for db, lines in series.items():
        months = sorted({m for _, _, points in lines for m, _ in points})
        if not months:
            continue
        rows = [
            [name, *(f"{dict(points)[m]:.3f}" if m in dict(points) else "fails" for m in months)] for _, name, points in lines
        ]
        parts.append(f"{db}, median seconds:\n\n" + markdown_table(["contender", *(f"{m} mo" for m in months)], rows))
    return "\n\n".join(parts)


def tpch_section(scale: float, lineitem: int | None, results: Results, contenders: Sequence[Contender], repeat: int) -> str:
    """The TPC-H tables."""
    columns = _columns(contenders, "postgres", "tpch")
    listed = [(name, name.replace("tpch_", "").upper()) for name in results]
    table = time_table(results, listed, columns, BASELINE["tpch"])
    table += "\n| " + " | ".join(total_row(results, list(results), columns, BASELINE["tpch"])) + " |"
    size = f", {lineitem:,} lineitem rows" if lineitem else ""
    return "\n\n".join(
        [
            f"## TPC-H at scale factor {scale:g} in PostgreSQL{size}",
            f"Median seconds of {repeat} runs after a warm-up, and the ratio to PostgreSQL running the query:",
            table,
            peak_table(results, listed, columns),
        ]
    )


def document(
    command: str, info: dict[str, str], sections: Sequence[str], all_results: Sequence[tuple[Results, dict[str, str]]]
) -> str:
    """The report: how it was made, the machine, the sections, what failed or differed, how contenders read."""
    trouble = [line for results, headings in all_results for line in problems(results, headings)]
    parts = [
        "# piot-sql side by side",
        f"Made by `{command}`.",
        "## Machine\n\n" + machine_lines(info),
        *sections,
        "## Failures and differing answers\n\n"
        + ("\n".join(trouble) if trouble else "None: every contender answered, and every answer agrees."),
        "## How to read this\n\n" + NOTES,
    ]
    return "\n\n".join(parts) + "\n"
