"""TPC-H's 22 queries over PostgreSQL, MariaDB and SQLite: a naive federation, piot unsplit and split, and DuckDB.

Run by hand (never in tests), with the PostgreSQL and MariaDB servers the tests use:

    .venv/bin/python benchmarks/tpch.py --scale 0.1 --repeat 3

``tpchgen-cli`` generates the eight tables at ``--scale``; they are loaded the way the TPC-H
test loads them (``tests/engine/tpch_data.py``: the specification's types, and lineitem,
partsupp, region in PostgreSQL; orders, supplier in MariaDB; customer, part, nation in SQLite),
into a database of this benchmark's own on each server, ``piot_bench_tpch``, dropped at the end
(also on failure). Contenders, each answering every query:

1. connectorx + Polars, whole tables: the naive federation. Each table the query names is read
   whole (``SELECT *`` with connectorx from its source; PostgreSQL's blank-padded CHAR(n) values
   are right-trimmed after the read), the frames are registered in a ``polars.SQLContext`` and
   the query, transpiled once from PostgreSQL to piot's merge dialect, runs there. A query
   Polars cannot run this way is reported as ``fails``.
2. piot unsplit (``split=False``): one fragment per table, with the query's columns and filters.
3. piot split (the automatic unit): date-bounded lineitem and orders scans in calendar periods.
4. DuckDB, in memory: the same data in DuckDB, not federated; a reference floor.

Each cell is the median of ``--repeat`` runs after one warm-up; Ray is started once before
timing. Every answer is compared with DuckDB's (after sorting; numbers to a relative 1e-6).
A second table gives the rows each contender read from the sources: the baseline's is the sum
of the heights of the tables it read, piot's is ``cursor.progress.rows`` after ``execute``.

Q11's FRACTION is 0.0001 in ``tpch/q11.sql``, the value for scale factor 1; the specification
sets it to 0.0001 / SF, so at any other scale that literal is replaced (0.001 at 0.1).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import connectorx
import polars as pl
import ray
import sqlglot
from polars.testing import assert_frame_equal
from sqlglot import exp

import piot
from piot.merge.dialect import PolarsSQL

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "engine"))
from harness.scratch import scratch_databases  # noqa: E402
from tpch_data import (  # noqa: E402
    DATE_COLUMNS,
    PLACEMENT,
    SCHEMA,
    TpchQuery,
    duckdb_oracle,
    generate,
    load_mysql,
    load_postgres,
    load_sqlite,
    placed,
    queries,
)

DATABASE = "piot_bench_tpch"
BASELINE = "connectorx + Polars, whole tables"
UNSPLIT = "piot unsplit"
SPLIT = "piot split"
DUCKDB = "DuckDB, in memory"

#: A prepared query: run it once, get the answer and the rows read from the sources (None: not counted).
Run = Callable[[], tuple[pl.DataFrame, int | None]]
#: A contender: given a query's text (bare table names), the run that answers it.
Contender = Callable[[str], Run]


@dataclass
class Outcome:
    """One contender on one query: median seconds and answer, or the error that stopped it."""

    seconds: float | None = None
    answer: pl.DataFrame | None = None
    rows: int | None = None
    error: str | None = None
    same: bool = False


# -- data --------------------------------------------------------------------------------



def load(tables: dict[str, pl.DataFrame], pg_url: str, mysql_url: str, sqlite_path: Path) -> dict[str, str]:
    """Load every table into its source; the connectorx URL of each source name."""
    sqlite_path.unlink(missing_ok=True)
    on = {source: [t for t, s in PLACEMENT.items() if s == source] for source in set(PLACEMENT.values())}
    load_postgres(pg_url, tables, on["pg"])
    load_mysql(mysql_url, tables, on["my"])
    load_sqlite(sqlite_path, tables, on["lite"])
    return {"pg": pg_url, "my": mysql_url, "lite": f"sqlite://{sqlite_path}"}


def catalog(urls: dict[str, str]) -> dict[str, Any]:
    """The piot catalog over the three sources, with the split column of lineitem and orders."""
    sources: dict[str, Any] = {name: {"url": url} for name, url in urls.items()}
    for table, column in DATE_COLUMNS.items():
        sources[PLACEMENT[table]]["tables"] = {table: {"date_column": column}}
    return {"sources": sources}


def query_text(query: TpchQuery, scale: float) -> str:
    """The query with bare table names; Q11's FRACTION set to 0.0001 / SF."""
    if query.number != 11 or scale == 1:
        return query.sql
    assert query.sql.count("* 0.0001") == 1, "q11.sql no longer writes its FRACTION as '* 0.0001'"
    return query.sql.replace("* 0.0001", f"* {0.0001 / scale:.10g}")


# -- contenders --------------------------------------------------------------------------


def tables_named(sql: str) -> list[str]:
    """The TPC-H tables ``sql`` reads (CTE names left out), each once."""
    tree = sqlglot.parse_one(sql, read="postgres")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return sorted({t.name for t in tree.find_all(exp.Table) if t.name in SCHEMA and t.name not in ctes})


def read_whole(url: str, table: str) -> pl.DataFrame:
    """``SELECT *`` of ``table`` with connectorx; CHAR(n) right-trimmed where the source pads it."""
    frame = pl.from_arrow(connectorx.read_sql(url, f"SELECT * FROM {table}", return_type="arrow"))
    assert isinstance(frame, pl.DataFrame)
    if PLACEMENT[table] != "pg":
        return frame
    padded = [name for name, sql in SCHEMA[table] if sql.startswith("CHAR") and frame.schema[name] == pl.String]
    return frame.with_columns(pl.col(name).str.strip_chars_end(" ") for name in padded)


def whole_tables(urls: dict[str, str]) -> Contender:
    """The naive federation: whole tables read one after the other, the query run by Polars."""

    def prepare(sql: str) -> Run:
        polars_sql = sqlglot.transpile(sql, read="postgres", write=PolarsSQL)[0]
        names = tables_named(sql)

        def run() -> tuple[pl.DataFrame, int]:
            frames = {name: read_whole(urls[PLACEMENT[name]], name) for name in names}
            context = pl.SQLContext(frames={name: frame.lazy() for name, frame in frames.items()})
            return context.execute(polars_sql, eager=True), sum(frame.height for frame in frames.values())

        return run

    return prepare


def through_piot(connection: piot.Connection) -> Contender:
    """piot on ``connection``: the query with each table named through its source."""

    def prepare(sql: str) -> Run:
        text = placed(sql)

        def run() -> tuple[pl.DataFrame, int | None]:
            cursor = connection.cursor()
            cursor.execute(text)
            rows = cursor.progress.rows if cursor.progress is not None else None
            return cursor.fetch_polars(), rows

        return run

    return prepare


def in_duckdb(handle: Any) -> Contender:
    """The query as written, in the in-memory DuckDB."""

    def prepare(sql: str) -> Run:
        return lambda: (handle.sql(sql).pl(), None)

    return prepare


# -- timing and checking -----------------------------------------------------------------


def first_line(error: Exception) -> str:
    """The error's type and first line, shortened."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:200] if text else ''}"


def timed(run: Run, repeat: int) -> Outcome:
    """Median seconds of ``repeat`` runs after one warm-up, with the last answer, or the first error."""
    try:
        answer, rows = run()
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            answer, rows = run()
            times.append(time.perf_counter() - start)
    except Exception as e:  # noqa: BLE001 - any failure is reported in the table, not raised
        return Outcome(error=first_line(e))
    return Outcome(statistics.median(times), answer, rows)


def comparable(frame: pl.DataFrame) -> pl.DataFrame:
    """Columns named by position, numbers as Float64, rows sorted (floats rounded to 6 digits for the order)."""
    frame = frame.rename({name: f"c{i}" for i, name in enumerate(frame.columns)})
    numeric = [name for name, dtype in frame.schema.items() if dtype.is_numeric()]
    frame = frame.with_columns(pl.col(name).cast(pl.Float64) for name in numeric)
    keys = [pl.col(name).round_sig_figs(6) if name in numeric else pl.col(name) for name in frame.columns]
    return frame.sort(keys) if frame.width else frame


def same_answer(answer: pl.DataFrame, reference: pl.DataFrame) -> bool:
    """Equal after sorting, floats and decimals to a relative 1e-6."""
    if answer.shape != reference.shape:
        return False
    try:
        assert_frame_equal(comparable(answer), comparable(reference), check_dtypes=False, rel_tol=1e-6)
    except AssertionError:
        return False
    return True


def run_query(sql: str, contenders: dict[str, Contender], repeat: int) -> dict[str, Outcome]:
    """Every contender on one query, each answer checked against DuckDB's."""
    outcomes = {name: timed(prepare(sql), repeat) for name, prepare in contenders.items()}
    reference = outcomes[DUCKDB].answer
    for outcome in outcomes.values():
        outcome.same = reference is not None and outcome.answer is not None and same_answer(outcome.answer, reference)
    return outcomes


# -- report ------------------------------------------------------------------------------


def cell(outcome: Outcome) -> str:
    """Median seconds and whether the answer is DuckDB's, or ``fails``."""
    if outcome.seconds is None:
        return "fails"
    return f"{outcome.seconds:.3f}, " + ("same answer" if outcome.same else "**different answer**")


def ratio(numerator: float | None, denominator: float | None) -> str:
    """``numerator / denominator`` to two decimals, or a dash when either is missing."""
    return f"{numerator / denominator:.2f}" if numerator is not None and denominator else "–"


def print_times(results: dict[str, dict[str, Outcome]], names: list[str]) -> None:
    """The timing table: one row per query, then the sum of medians over the queries every contender answered."""
    print(f"| query | {' | '.join(f'{n} (s)' for n in names)} | piot split / baseline |")
    print(f"| --- | {' | '.join('---:' for _ in names)} | ---: |")
    for query, outcomes in results.items():
        row = " | ".join(cell(outcomes[n]) for n in names)
        print(f"| {query} | {row} | {ratio(outcomes[SPLIT].seconds, outcomes[BASELINE].seconds)} |")
    common = [q for q, outcomes in results.items() if all(o.seconds is not None for o in outcomes.values())]
    totals = {n: sum(results[q][n].seconds or 0.0 for q in common) for n in names}
    row = " | ".join(f"{totals[n]:.3f} ({ratio(totals[n], totals[BASELINE])}× baseline)" for n in names)
    print(f"| total ({len(common)} queries) | {row} | {ratio(totals[SPLIT], totals[BASELINE])} |")


def print_rows(results: dict[str, dict[str, Outcome]]) -> None:
    """The rows-read table: what the baseline reads whole against what piot's pushdown reads."""
    names = [BASELINE, UNSPLIT, SPLIT]
    print(f"| query | {' | '.join(f'rows read, {n}' for n in names)} | piot split / baseline |")
    print(f"| --- | {' | '.join('---:' for _ in names)} | ---: |")
    totals = dict.fromkeys(names, 0)
    for query, outcomes in results.items():
        rows = {n: outcomes[n].rows for n in names}
        for n in names:
            totals[n] += rows[n] or 0
        shown = " | ".join(f"{rows[n]:,}" if rows[n] is not None else "–" for n in names)
        print(f"| {query} | {shown} | {ratio(rows[SPLIT], rows[BASELINE])} |")
    shown = " | ".join(f"{totals[n]:,}" for n in names)
    print(f"| total | {shown} | {ratio(totals[SPLIT], totals[BASELINE])} |")


def print_failures(results: dict[str, dict[str, Outcome]]) -> None:
    """One line per contender and query that raised, with the error."""
    failures = [(q, n, o.error) for q, outcomes in results.items() for n, o in outcomes.items() if o.error]
    if failures:
        print("\nFailures:\n")
    for query, name, error in failures:
        print(f"- {query}, {name}: {error}")


# -- main --------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1, help="TPC-H scale factor (default 0.1)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per cell, after one warm-up (default 3)")
    parser.add_argument("--queries", default="all", help="query numbers, e.g. 1,3,6 (default all 22)")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test", help="PostgreSQL admin URL")
    parser.add_argument("--mysql-url", default="mysql://root@127.0.0.1:3306/test", help="MariaDB admin URL")
    parser.add_argument("--workdir", type=Path, default=None, help="where to generate the data (default a temp dir)")
    return parser.parse_args()


def selected(spec: str) -> list[TpchQuery]:
    """The queries ``--queries`` names, in order."""
    every = queries()
    if spec == "all":
        return every
    numbers = {int(part) for part in spec.split(",") if part.strip()}
    return [q for q in every if q.number in numbers]


def benchmark(args: argparse.Namespace, workdir: Path) -> None:
    """Generate, load, time every contender on every query, print the tables."""
    print(f"generating TPC-H at scale {args.scale:g} in {workdir}", file=sys.stderr)
    tables = generate(workdir, args.scale)
    with scratch_databases(DATABASE, args.pg_url, args.mysql_url) as (pg_url, mysql_url):
        urls = load(tables, pg_url, mysql_url, workdir / "tpch.db")
        oracle = duckdb_oracle(tables)
        unsplit, split = piot.connect(catalog(urls), split=False), piot.connect(catalog(urls))
        contenders = {BASELINE: whole_tables(urls), UNSPLIT: through_piot(unsplit), SPLIT: through_piot(split)}
        contenders[DUCKDB] = in_duckdb(oracle)
        ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
        try:
            results = {}
            for query in selected(args.queries):
                print(f"{query.name} ...", file=sys.stderr, flush=True)
                results[query.name] = run_query(query_text(query, args.scale), contenders, args.repeat)
        finally:
            ray.shutdown()
            unsplit.close()
            split.close()
            oracle.close()
    heights = ", ".join(f"{name} {frame.height:,}" for name, frame in tables.items())
    print(f"TPC-H scale {args.scale:g} ({heights}); median of {args.repeat} runs after a warm-up\n")
    print_times(results, list(contenders))
    print()
    print_rows(results)
    print_failures(results)


def main() -> None:
    """Run the benchmark in --workdir, or in a temporary directory removed afterwards."""
    args = parse_args()
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        benchmark(args, args.workdir)
        return
    with tempfile.TemporaryDirectory(prefix="piot-tpch-") as directory:
        benchmark(args, Path(directory))


if __name__ == "__main__":
    main()
