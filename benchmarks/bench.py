"""piot-sql side by side with other ways of reading the same rows: ``make bench``, never in tests.

    .venv/bin/python benchmarks/bench.py                       # the full run (4M trades, TPC-H SF 1)
    .venv/bin/python benchmarks/bench.py --rows 200000 --scale 0.01 --repeat 2
    .venv/bin/python benchmarks/bench.py --only range --contenders connectorx,piot_sql,pit
    .venv/bin/python benchmarks/bench.py --dry-run             # what would run, and for about how long

Data is made once and reused while it has the requested size: a trades table (``--rows`` over
2023-01-01 .. 2024-12-31, indexed on trade_date) in PostgreSQL (``test``, schema ``bench``),
MariaDB (database ``bench``) and SQLite (``benchmarks/.data/trades.db``), and TPC-H at
``--scale`` in PostgreSQL (schema ``tpch``). Each contender runs in a process of its own; the
medians, ratios, driver peaks and answer checks are printed as markdown and written to
``benchmarks/results/latest.md`` with the machine's description; the time against range
length is plotted to ``benchmarks/results/range.png``. See ``harness/document.py`` for what each
contender does.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT / "tests" / "engine")]

from harness import data_tpch, data_trades
from harness.contenders import ALL_KINDS, KIND_NAMES, Contender, label, selected
from harness.document import document, range_section, tpch_section, trades_section
from harness.environments import PACKAGES, Interpreter, ensure_venv, odbc_environment
from harness.estimate import estimate
from harness.machine import describe
from harness.plot import Series, plot_ranges
from harness.queries import RANGE_MONTHS, TpchQuery, TradesQuery, tpch_queries, trades_queries
from harness.report import Results, as_json
from harness.runs import Settings, run_tpch, run_trades

GROUPS = {"trades": "scan_*,group_by_*,top10_*", "range": ",".join(f"scan_{m:02d}m" for m in RANGE_MONTHS), "tpch": "tpch_q*"}


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=4_000_000, help="trades rows (default 4,000,000)")
    parser.add_argument("--scale", type=float, default=1.0, help="TPC-H scale factor (default 1)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per query after one warm-up (default 3)")
    parser.add_argument("--only", default="all", help="queries: names, patterns or groups (trades, range, tpch), comma-separated")
    parser.add_argument(
        "--contenders", default="all", help="contender keys, comma-separated; all (default: all but pit_ray) or every"
    )
    parser.add_argument("--sources", default=",".join(ALL_KINDS), help="databases for the trades queries (default all three)")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--mysql-url", default="mysql://root@127.0.0.1:3306/test", help="MariaDB (database bench is made there)")
    parser.add_argument("--data-dir", type=Path, default=HERE / ".data")
    parser.add_argument("--results-dir", type=Path, default=HERE / "results")
    parser.add_argument("--num-cpus", type=int, default=2, help="CPUs of each contender's local Ray (default 2)")
    parser.add_argument("--query-timeout", type=float, default=1800, help="seconds one query (all its runs) may take")
    parser.add_argument("--no-install", action="store_true", help="do not create the venvs of polars-io-tools and Daft")
    parser.add_argument("--keep-answers", action="store_true", help="keep every answer (Arrow files) under --data-dir")
    parser.add_argument("--dry-run", action="store_true", help="say what would run and for about how long, then stop")
    return parser.parse_args(argv)


def wanted(name: str, only: str) -> bool:
    """Whether ``--only`` selects the query ``name``.

    >>> wanted("tpch_q06", "range,tpch_q0[16]"), wanted("scan_03m", "range"), wanted("top10_12m", "tpch")
    (True, True, False)
    """
    if only == "all":
        return True
    patterns = [p.strip() for token in only.split(",") for p in GROUPS.get(token.strip(), token.strip()).split(",")]
    return any(fnmatch.fnmatchcase(name, p) for p in patterns if p)


def tpch_texts() -> dict[int, str]:
    """The 22 queries as the tests keep them."""
    from tpch_data import queries

    return {query.number: query.sql for query in queries()}


def plan_estimate(
    args: argparse.Namespace,
    trades: list[TradesQuery],
    tpch: list[TpchQuery],
    contenders: list[Contender],
    kinds: tuple[str, ...],
    loads: tuple[int, bool],
) -> float:
    """Rough seconds for this run (see harness/estimate.py)."""
    trades_runs, processes = [], []
    for kind in kinds:
        for contender in contenders:
            if kind in contender.kinds and "trades" in contender.families and trades:
                processes.append(contender.ray)
                for q in trades:
                    share = (q.end - q.start).days / 731
                    trades_runs.append((contender.key, int(args.rows * share), q.periods))
    tpch_runs = [c.key for c in contenders if "tpch" in c.families for _ in tpch]
    processes += [c.ray for c in contenders if "tpch" in c.families and tpch]
    return estimate(trades_runs, tpch_runs, processes, args.repeat, args.scale, *loads)


def venvs_for(contenders: list[Contender], install: bool) -> dict[str, Interpreter]:
    """The interpreters: piot's own, and the extra venvs the selected contenders need."""
    interpreters = {"main": Interpreter(Path(sys.executable))}
    for name in PACKAGES:
        if any(c.venv == name for c in contenders):
            interpreters[name] = ensure_venv(name, HERE, install)
    return interpreters


def range_series(results: dict[str, Results], contenders: list[Contender]) -> Series:
    """Per database, per contender: (months, median) of the range-length scans."""
    series: Series = {}
    for kind, by_query in results.items():
        lines = []
        for contender in contenders:
            if kind not in contender.kinds or "trades" not in contender.families:
                continue
            points = []
            for months in RANGE_MONTHS:
                outcome = by_query.get(f"scan_{months:02d}m", {}).get(contender.key)
                if outcome is not None and outcome.median is not None:
                    points.append((months, outcome.median))
            if any(f"scan_{m:02d}m" in by_query for m in RANGE_MONTHS):
                lines.append((contender.key, label(contender, kind), points))
        if lines:
            series[KIND_NAMES[kind]] = lines
    return series


def main(argv: list[str] | None = None) -> None:
    """Make the data, run every contender, write the report and the plot."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started = time.perf_counter()
    kinds = tuple(k.strip() for k in args.sources.split(",") if k.strip())
    trades = [q for q in trades_queries() if wanted(q.name, args.only)]
    tpch = [
        q
        for q in tpch_queries(tpch_texts(), args.scale, data_tpch.qualify, data_tpch.SCHEMA_NAME, "src")
        if wanted(q.name, args.only)
    ]
    contenders = selected(args.contenders)
    sources = data_trades.trades_sources(args.pg_url, args.mysql_url, args.data_dir)
    missing = data_trades.missing_trades(args.rows, sources, kinds) if trades else []
    tpch_missing = bool(tpch) and data_tpch.present(args.scale, args.pg_url, args.data_dir) is None
    seconds = plan_estimate(args, trades, tpch, contenders, kinds if trades else (), (args.rows * len(missing), tpch_missing))
    print(
        f"bench: {len(trades)} trades queries on {', '.join(kinds) if trades else 'no database'} ({args.rows:,} rows), "
        f"{len(tpch)} TPC-H queries (scale {args.scale:g}), {len(contenders)} contenders, {args.repeat} timed runs each; "
        f"expected duration about {seconds / 60:.0f} min"
        + (
            f" (loading data included: {', '.join(missing + (['tpch'] if tpch_missing else []))})"
            if missing or tpch_missing
            else ""
        )
        + ", not counting first-time venv installs",
        file=sys.stderr,
        flush=True,
    )
    if args.dry_run:
        return
    interpreters = venvs_for(contenders, not args.no_install)
    odbc = odbc_environment(args.pg_url, args.data_dir / "odbc") if any(c.venv == "pit" for c in contenders) else "not needed"
    if trades:
        data_trades.ensure_trades(args.rows, sources, args.data_dir, kinds)
    parquet, lineitem = data_tpch.ensure_tpch(args.scale, args.pg_url, args.data_dir) if tpch else (None, None)
    info = describe(
        args.pg_url, sources.urls["mysql"] if "mysql" in kinds else None, {k: v.python for k, v in interpreters.items()}
    )
    work = args.data_dir / "run"
    shutil.rmtree(work / "answers", ignore_errors=True)
    settings = Settings(args.repeat, args.num_cpus, args.query_timeout, work, interpreters, odbc, args.keep_answers)
    trades_results: dict[str, Results] = {}
    for number, kind in enumerate(kinds if trades else (), 1):
        step = f"[trades {number}/{len(kinds)}]"
        trades_results[kind] = run_trades(trades, kind, sources.urls[kind], sources.tables[kind], contenders, settings, step)
    tpch_results = (
        run_tpch(tpch, args.pg_url, data_tpch.SCHEMA_NAME, parquet, contenders, settings, "[tpch]") if tpch and parquet else {}
    )

    series = range_series(trades_results, contenders)
    png = args.results_dir / "range.png"
    why_not = (
        plot_ranges(series, png, f"{args.rows:,} trades, median of {args.repeat}") if series else "no range-length queries ran"
    )
    sections = [trades_section(k, args.rows, r, trades, contenders, args.repeat) for k, r in trades_results.items()]
    if series:
        sections.append(range_section(series, f"(no plot: {why_not})" if why_not else None))
    if tpch_results:
        sections.append(tpch_section(args.scale, lineitem, tpch_results, contenders, args.repeat))
    everything = [(r, {c.key: f"{KIND_NAMES[k]}, {label(c, k)}" for c in contenders}) for k, r in trades_results.items()]
    if tpch_results:
        everything.append((tpch_results, {c.key: f"TPC-H, {label(c, 'postgres')}" for c in contenders}))
    command = "benchmarks/bench.py" + ("" if not sys.argv[1:] else " " + " ".join(sys.argv[1:]))
    text = document(command, info, sections, everything)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    (args.results_dir / "latest.md").write_text(text)
    raw = {
        "command": command,
        "machine": info,
        "trades": {k: as_json(r) for k, r in trades_results.items()},
        "tpch": as_json(tpch_results),
    }
    (args.results_dir / "latest.json").write_text(json.dumps(raw, indent=1) + "\n")
    print(text)
    print(
        f"bench: done in {(time.perf_counter() - started) / 60:.1f} min; report in {args.results_dir / 'latest.md'}"
        + (f", plot in {png}" if not why_not else f"; no plot: {why_not}"),
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
