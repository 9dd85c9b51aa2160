"""The trades table: made once, the same rows in PostgreSQL, MariaDB and SQLite.

``rows`` trades spread evenly over 2023-01-01 .. 2024-12-31 (in date order, as an append-only
table fills), with a seeded random time of day, symbol (40), region (5), quantity and price.
Each database gets them only when its table does not already hold exactly ``rows`` rows:

- PostgreSQL: ``bench.trades`` in the given database (COPY from a CSV file, one transaction);
- MariaDB: ``trades`` in the database ``bench`` (LOAD DATA LOCAL INFILE);
- SQLite: ``trades`` in ``<data dir>/trades.db`` (dates and timestamps as ISO text).

Each has an index on ``trade_date`` and fresh statistics.
"""

from __future__ import annotations

import csv
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from harness.clients import run_script, scalar, with_database
from harness.queries import DATA_END, DATA_START

SEED = 20230101
REGIONS = ("AMER", "EMEA", "APAC", "LATAM", "MEA")
SYMBOL_COUNT = 40

_PG_DDL = """CREATE SCHEMA IF NOT EXISTS bench;
DROP TABLE IF EXISTS bench.trades;
CREATE TABLE bench.trades (trade_id BIGINT NOT NULL, trade_date DATE NOT NULL, ts TIMESTAMP NOT NULL, symbol TEXT NOT NULL,
  region TEXT NOT NULL, qty INTEGER NOT NULL, price NUMERIC(12, 2) NOT NULL);"""
_MY_DDL = """DROP TABLE IF EXISTS trades;
CREATE TABLE trades (trade_id BIGINT NOT NULL, trade_date DATE NOT NULL, ts DATETIME(6) NOT NULL, symbol VARCHAR(8) NOT NULL,
  region VARCHAR(8) NOT NULL, qty INT NOT NULL, price DECIMAL(12, 2) NOT NULL, KEY trades_trade_date (trade_date));"""
_LITE_DDL = """DROP TABLE IF EXISTS trades;
CREATE TABLE trades (trade_id BIGINT NOT NULL, trade_date DATE NOT NULL, ts TIMESTAMP NOT NULL, symbol TEXT NOT NULL,
  region TEXT NOT NULL, qty INTEGER NOT NULL, price NUMERIC(12, 2) NOT NULL);"""


@dataclass(frozen=True)
class TradesSources:
    """Where the trades are: a connectorx URL per database kind and the table name each reader uses."""

    urls: dict[str, str]
    tables: dict[str, str]


def symbols(rng: np.random.Generator) -> list[str]:
    """Forty distinct made-up tickers of three or four letters."""
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    found: list[str] = []
    while len(found) < SYMBOL_COUNT:
        ticker = "".join(rng.choice(letters, size=int(rng.integers(3, 5))))
        if ticker not in found:
            found.append(ticker)
    return found


def trades_frame(rows: int, seed: int = SEED) -> pl.DataFrame:
    """The ``rows`` trades, deterministic for a given ``rows`` and ``seed``; price as exact text with two decimals."""
    rng = np.random.default_rng(seed)
    days = (DATA_END - DATA_START).days
    index = np.arange(rows, dtype=np.int64)
    day = index * days // rows
    micros = rng.integers(0, 86_400_000_000, rows)
    cents = rng.integers(100, 100_000, rows)
    tickers = np.array(symbols(rng))
    frame = pl.DataFrame(
        {
            "trade_id": index + 1,
            "trade_date": pl.Series(day, dtype=pl.Int32),
            "micros": micros,
            "symbol": tickers[rng.integers(0, SYMBOL_COUNT, rows)],
            "region": np.array(REGIONS)[rng.integers(0, len(REGIONS), rows)],
            "qty": pl.Series(rng.integers(1, 1001, rows), dtype=pl.Int32),
            "cents": cents,
        }
    )
    start = pl.lit(DATA_START)
    return frame.select(
        "trade_id",
        (start + pl.duration(days=pl.col("trade_date"))).alias("trade_date"),
        (start.cast(pl.Datetime("us")) + pl.duration(days=pl.col("trade_date"), microseconds=pl.col("micros"))).alias("ts"),
        "symbol",
        "region",
        "qty",
        pl.format("{}.{}", pl.col("cents") // 100, (pl.col("cents") % 100).cast(pl.String).str.zfill(2)).alias("price"),
    )


def write_csv(frame: pl.DataFrame, path: Path) -> Path:
    """The rows as headerless CSV that all three loaders read (ISO dates, microsecond timestamps)."""
    frame.write_csv(path, include_header=False, date_format="%Y-%m-%d", datetime_format="%Y-%m-%d %H:%M:%S%.6f")
    return path


def load_postgres(url: str, path: Path) -> None:
    """``bench.trades`` from the CSV, with its index and statistics, in one transaction."""
    script = f"""{_PG_DDL}
\\copy bench.trades FROM '{path}' WITH (FORMAT csv)
CREATE INDEX trades_trade_date ON bench.trades (trade_date);
ANALYZE bench.trades;
"""
    run_script("postgres", url, script)


def load_mariadb(url: str, path: Path) -> None:
    """``bench.trades`` on MariaDB from the CSV."""
    script = f"""{_MY_DDL}
LOAD DATA LOCAL INFILE '{path}' INTO TABLE trades FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' LINES TERMINATED BY '\\n';
ANALYZE TABLE trades;
"""
    run_script("mysql", url, script)


def load_sqlite(path: Path, csv_path: Path) -> None:
    """``trades`` in the SQLite file from the CSV (text that SQLite's affinities turn into numbers)."""
    with sqlite3.connect(path) as db, csv_path.open(newline="") as rows:
        db.executescript(_LITE_DDL)
        db.executemany("INSERT INTO trades VALUES (?, ?, ?, ?, ?, ?, ?)", csv.reader(rows))
        db.execute("CREATE INDEX trades_trade_date ON trades (trade_date)")
        db.execute("ANALYZE")
    db.close()


def trades_sources(pg_url: str, mysql_url: str, data_dir: Path) -> TradesSources:
    """Where the trades live (MariaDB's database ``bench`` is created here if missing)."""
    lite_path = data_dir.resolve() / "trades.db"
    urls = {"postgres": pg_url, "mysql": with_database(mysql_url, "bench"), "sqlite": f"sqlite://{lite_path}"}
    return TradesSources(urls, {"postgres": "bench.trades", "mysql": "trades", "sqlite": "trades"})


def missing_trades(rows: int, sources: TradesSources, kinds: tuple[str, ...]) -> list[str]:
    """The kinds of database whose trades table does not hold exactly ``rows`` rows."""
    if "mysql" in kinds:  # connectorx retries a missing database for 30 s: make sure it is there
        run_script("mysql", with_database(sources.urls["mysql"], ""), "CREATE DATABASE IF NOT EXISTS bench;")
    return [kind for kind in kinds if _count(sources, kind) != rows]


def _count(sources: TradesSources, kind: str) -> object | None:
    """The rows of the trades table of ``kind``, or None when it is not there."""
    url = sources.urls[kind]
    if kind == "sqlite" and not Path(url[len("sqlite://") :]).exists():  # connectorx would retry opening it for 30 s
        return None
    return scalar(url, f"SELECT count(*) FROM {sources.tables[kind]}")


def ensure_trades(rows: int, sources: TradesSources, data_dir: Path, kinds: tuple[str, ...]) -> None:
    """The trades in every database of ``kinds`` (``postgres``, ``mysql``, ``sqlite``), loaded where missing."""
    missing = missing_trades(rows, sources, kinds)
    if not missing:
        print(f"trades: {rows:,} rows already in {', '.join(kinds)}", file=sys.stderr)
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    print(f"trades: generating {rows:,} rows ...", file=sys.stderr, flush=True)
    csv_path = write_csv(trades_frame(rows), data_dir.resolve() / f"trades-{rows}.csv")
    try:
        for kind in missing:
            print(f"trades: loading {rows:,} rows into {kind} ...", file=sys.stderr, flush=True)
            if kind == "postgres":
                load_postgres(sources.urls["postgres"], csv_path)
            elif kind == "mysql":
                load_mariadb(sources.urls["mysql"], csv_path)
            else:
                lite_path = Path(sources.urls["sqlite"][len("sqlite://") :])
                lite_path.unlink(missing_ok=True)
                load_sqlite(lite_path, csv_path)
    finally:
        csv_path.unlink(missing_ok=True)
    print(f"trades: made in {time.perf_counter() - started:.0f} s", file=sys.stderr)
