"""Planning time: a ten-year daily split, its EXPLAIN, and TPC-H's 22 queries, in one run.

Run by hand (never in tests), with the PostgreSQL and MariaDB servers the tests use:

    .venv/bin/python benchmarks/planning.py --repeat 9 --tpch-repeat 51

Nothing is read but table columns: every table is created empty, in a database of this
benchmark's own on each server, ``piot_bench_planning``, dropped at the end (also on
failure), and in a temporary SQLite file. Ray is never started. Timed, each as the median of
its runs after one warm-up (the warm-up learns the table columns, once per connection):

1. ``Engine.plan`` of a query whose WHERE bounds one column over 2015-01-01 .. 2024-12-31
   (3,653 days) split daily (``time_unit="daily"``, ``max_fragments=4000``): one fragment per
   day, on a DATE, a TIMESTAMP and (PostgreSQL, MariaDB, SQLite) a TIMESTAMP WITH TIME ZONE
   column of each source; the query also filters ``amount > 0`` so each fragment carries a
   pushed condition beside its window;
2. ``EXPLAIN`` of the same query through the DB-API cursor (``execute`` then ``fetchall``);
3. ``Engine.plan`` of each TPC-H query over the placement the tests use (lineitem and orders
   split on their dates, the automatic unit), the tables created with the specification's types.

``--profile PREFIX`` also writes cProfiles of one plan of each daily query (``PREFIX-daily.prof``) and
of ten plans of each TPC-H query (``PREFIX-tpch.prof``), to see where the time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

import piot

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "engine"))
from corpus_data import run_cli
from harness.scratch import scratch_databases
from tpch_data import DATE_COLUMNS, PLACEMENT, SCHEMA, load_mysql, load_postgres, load_sqlite, placed, queries

DATABASE = "piot_bench_planning"

#: the daily table in each source: its columns in that source's own types
EVENTS_DDL = {
    "pg": "CREATE TABLE events (id INTEGER, d DATE, ts TIMESTAMP, tz TIMESTAMPTZ, amount NUMERIC(12,2), note VARCHAR(40))",
    "my": "CREATE TABLE events (id INTEGER, d DATE, ts DATETIME(6), tz TIMESTAMP(6) NULL, amount DECIMAL(12,2), note VARCHAR(40))",
    "lite": "CREATE TABLE events (id INTEGER, d DATE, ts TIMESTAMP, tz TIMESTAMP WITH TIME ZONE, amount REAL, note TEXT)",
}
SOURCE_NAMES = {"pg": "PostgreSQL", "my": "MariaDB", "lite": "SQLite"}
#: the split column and the type it has in each source, with its ten-year bounds
DAILY_COLUMNS = {
    "d": ("DATE", "d BETWEEN '2015-01-01' AND '2024-12-31'"),
    "ts": ("TIMESTAMP", "ts >= '2015-01-01' AND ts < '2025-01-01'"),
    "tz": ("TIMESTAMPTZ", "tz >= '2015-01-01' AND tz < '2025-01-01'"),
}
DAYS = 3653


@dataclass(frozen=True)
class Timing:
    """Median seconds of a timed call: on the clock, and of this process's CPU (steadier on a shared machine)."""

    wall: float
    cpu: float

    def __str__(self) -> str:
        return f"{self.wall * 1000:.1f} ({self.cpu * 1000:.1f})"

MAX_FRAGMENTS = 4000



def create_tables(pg_url: str, mysql_url: str, sqlite_path: Path) -> dict[str, str]:
    """The events table and the eight TPC-H tables, all empty, in their sources; the URL of each source."""
    import sqlite3

    empty = {table: pl.DataFrame(schema=[name for name, _ in columns]) for table, columns in SCHEMA.items()}
    on = {source: [t for t, s in PLACEMENT.items() if s == source] for source in set(PLACEMENT.values())}
    run_cli("postgres", pg_url, EVENTS_DDL["pg"] + ";")
    run_cli("mysql", mysql_url, EVENTS_DDL["my"] + ";")
    with sqlite3.connect(sqlite_path) as db:
        db.execute(EVENTS_DDL["lite"])
    load_postgres(pg_url, empty, on["pg"])
    load_mysql(mysql_url, empty, on["my"])
    load_sqlite(sqlite_path, empty, on["lite"])
    return {"pg": pg_url, "my": mysql_url, "lite": f"sqlite://{sqlite_path}"}


def catalog(urls: dict[str, str]) -> dict[str, Any]:
    """The catalog over the three sources; lineitem and orders split on their dates, events on what WHERE bounds."""
    sources: dict[str, Any] = {name: {"url": url} for name, url in urls.items()}
    for table, column in DATE_COLUMNS.items():
        sources[PLACEMENT[table]]["tables"] = {table: {"date_column": column}}
    return {"sources": sources}


def median_seconds(run: Callable[[], object], repeat: int) -> Timing:
    """Median wall and CPU seconds of ``repeat`` runs after one warm-up."""
    run()
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return Timing(statistics.median(walls), statistics.median(cpus))


def daily_queries() -> dict[str, str]:
    """``source, column type`` -> the ten-year daily query on that column of that source's events table."""
    return {
        f"{SOURCE_NAMES[source]}, {kind}": f"SELECT id, amount FROM {source}.events WHERE {bounds} AND amount > 0"
        for source in SOURCE_NAMES
        for kind, bounds in DAILY_COLUMNS.values()
    }


def time_daily(connection: piot.Connection, repeat: int) -> list[tuple[str, int, Timing, Timing]]:
    """Per daily query: its fragments, the median seconds of ``Engine.plan`` and of ``EXPLAIN``."""
    rows = []
    for name, sql in daily_queries().items():
        _, plan = connection.engine.plan(sql)
        fragments = len(plan.fragments)
        assert fragments == DAYS, f"{name}: {fragments} fragments, not {DAYS}: {plan.scans[0].split.reason}"
        planned = median_seconds(lambda sql=sql: connection.engine.plan(sql), repeat)
        explained = median_seconds(lambda sql=sql: connection.cursor().execute("EXPLAIN " + sql).fetchall(), repeat)
        rows.append((name, fragments, planned, explained))
    return rows


def time_tpch(connection: piot.Connection, repeat: int) -> list[tuple[str, int, Timing]]:
    """Per TPC-H query: its fragments and the median seconds of ``Engine.plan``."""
    rows = []
    for query in queries():
        text = placed(query.sql)
        _, plan = connection.engine.plan(text)
        rows.append((query.name, len(plan.fragments), median_seconds(lambda text=text: connection.engine.plan(text), repeat)))
    return rows


def profile(daily: piot.Connection | None, automatic: piot.Connection | None, prefix: Path) -> None:
    """cProfiles of the daily plans (one each) and of the TPC-H plans (ten each), written beside ``prefix``."""
    runs = {}
    if daily is not None:
        runs["daily"] = [(daily, sql) for sql in daily_queries().values()]
    if automatic is not None:
        runs["tpch"] = [(automatic, placed(query.sql)) for query in queries() for _ in range(10)]
    for name, plans in runs.items():
        profiler = cProfile.Profile()
        for connection, sql in plans:
            profiler.runcall(connection.engine.plan, sql)
        path = prefix.with_name(f"{prefix.name}-{name}.prof")
        profiler.dump_stats(path)
        print(f"profile of the {name} plans written to {path}", file=sys.stderr)


def print_daily(rows: list[tuple[str, int, Timing, Timing]], repeat: int) -> None:
    """The table of the daily plans."""
    print(f"Ten years split daily ({DAYS} fragments): median ms (CPU ms) of {repeat} runs after a warm-up\n")
    print("| source, split column | Engine.plan | EXPLAIN (execute + fetchall) |")
    print("| --- | ---: | ---: |")
    for name, _, planned, explained in rows:
        print(f"| {name} | {planned} | {explained} |")


def print_tpch(rows: list[tuple[str, int, Timing]], repeat: int) -> None:
    """The table of the TPC-H plans, then the median and the largest of the medians."""
    print(f"\nTPC-H planning (Engine.plan): median ms (CPU ms) of {repeat} runs after a warm-up\n")
    print("| query | fragments | Engine.plan |")
    print("| --- | ---: | ---: |")
    for name, fragments, timing in rows:
        print(f"| {name} | {fragments} | {timing} |")
    timings = [timing for _, _, timing in rows]
    median = Timing(statistics.median(t.wall for t in timings), statistics.median(t.cpu for t in timings))
    slowest = Timing(max(t.wall for t in timings), max(t.cpu for t in timings))
    print(f"| median of the 22 | | {median} |")
    print(f"| slowest | | {slowest} |")


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9, help="timed runs per daily plan and EXPLAIN (default 9)")
    parser.add_argument("--tpch-repeat", type=int, default=51, help="timed runs per TPC-H query (default 51)")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test", help="PostgreSQL admin URL")
    parser.add_argument("--mysql-url", default="mysql://root@127.0.0.1:3306/test", help="MariaDB admin URL")
    parser.add_argument("--parts", default="daily,tpch", help="what to time: daily (plans and EXPLAIN), tpch (default both)")
    parser.add_argument("--profile", type=Path, default=None, help="write cProfiles of the plans to PREFIX-daily.prof, PREFIX-tpch.prof")
    return parser.parse_args()


def main() -> None:
    """Create the tables, time the plans, print the tables."""
    args = parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="piot-planning-") as directory,
        scratch_databases(DATABASE, args.pg_url, args.mysql_url) as (pg_url, mysql_url),
    ):
        urls = create_tables(pg_url, mysql_url, Path(directory) / "bench.db")
        daily = piot.connect(catalog(urls), time_unit="daily", max_fragments=MAX_FRAGMENTS)
        automatic = piot.connect(catalog(urls))
        try:
            parts = set(args.parts.split(","))
            daily_rows = time_daily(daily, args.repeat) if "daily" in parts else []
            tpch_rows = time_tpch(automatic, args.tpch_repeat) if "tpch" in parts else []
            if args.profile is not None:
                profile(daily if "daily" in parts else None, automatic if "tpch" in parts else None, args.profile)
        finally:
            daily.close()
            automatic.close()
    if daily_rows:
        print_daily(daily_rows, args.repeat)
    if tpch_rows:
        print_tpch(tpch_rows, args.tpch_repeat)


if __name__ == "__main__":
    main()
