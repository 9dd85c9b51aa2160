"""Demo data: two SQLite databases and a catalog to try piot on.

``python -m piot.demo --dir .demo`` writes, always the same for the same row count:

* ``markets.db`` with a ``trades`` table spread over every day of 2023 and 2024,
  about twenty symbols whose prices follow a random walk, and a few NULL venues;
* ``reference.db`` with the ``symbols`` and ``venues`` the trades refer to;
* ``catalog.toml`` naming both, with ``trades`` split monthly on ``trade_date``.

Files are written under temporary names and renamed at the end, so an interrupted
run never leaves a half-written database behind.

Example:
    >>> sum(rows_per_day(trading_days(FIRST_DAY, LAST_DAY), 5000))
    5000
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sqlite3
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

DEFAULT_ROWS = 1_000_000
SEED = 20_230_101
FIRST_DAY = date(2023, 1, 1)
LAST_DAY = date(2024, 12, 31)
#: Trades happen between 09:30:00 and 16:00:00, both included.
OPEN_SECOND = 9 * 3600 + 30 * 60
CLOSE_SECOND = 16 * 3600
#: A weekday gets this many times the trades of a Saturday or Sunday.
WEEKDAY_WEIGHT = 4
NULL_VENUE_RATE = 0.001
#: Trade prices scatter this far (as a fraction) around the symbol's price of the day.
INTRADAY_SPREAD = 0.006
LOT_SIZES = (1, 5, 10, 20, 25, 50, 100, 100, 100, 200, 250, 500, 1000)

CATALOG_TEXT = """\
[sources.markets]
url = "sqlite://markets.db"          # relative to this file
[sources.markets.tables.trades]
date_column = "trade_date"
time_unit = "monthly"
[sources.ref]
url = "sqlite://reference.db"
"""


@dataclass(frozen=True)
class Listing:
    """One demo symbol: reference data plus how its price starts and moves.

    Attributes:
        symbol: the ticker.
        name: the (invented) company name.
        sector: the industry sector.
        currency: the currency prices are quoted in.
        listed_on: the listing date, ISO text.
        price: the price on the first demo day.
        volatility: standard deviation of the daily log return.
        popularity: relative share of all trades.
    """

    symbol: str
    name: str
    sector: str
    currency: str
    listed_on: str
    price: float
    volatility: float
    popularity: int


LISTINGS: tuple[Listing, ...] = (
    Listing("ALDR", "Alder Robotics", "Industrials", "USD", "1998-05-12", 142.10, 0.018, 9),
    Listing("BRKW", "Brookwater Utilities", "Utilities", "USD", "1985-03-04", 61.35, 0.008, 4),
    Listing("CPSN", "Capstone Networks", "Technology", "USD", "2004-08-19", 318.40, 0.021, 12),
    Listing("DLTA", "Delta Harbor Shipping", "Industrials", "USD", "1992-11-02", 27.80, 0.024, 5),
    Listing("EMBR", "Ember Energy", "Energy", "USD", "1979-06-21", 88.65, 0.017, 8),
    Listing("FJRD", "Fjord Biotech", "Health Care", "USD", "2015-02-10", 54.20, 0.032, 7),
    Listing("GLNT", "Gallant Foods", "Consumer Staples", "USD", "1988-09-14", 73.05, 0.009, 4),
    Listing("HLXS", "Helix Semiconductors", "Technology", "USD", "2001-04-27", 211.75, 0.026, 11),
    Listing("IRVN", "Irvine Mutual Bank", "Financials", "USD", "1990-01-16", 39.90, 0.015, 6),
    Listing("JNPR", "Juniper Outdoor", "Consumer Discretionary", "USD", "2010-07-07", 18.45, 0.028, 5),
    Listing("KSTL", "Kestrel Aerospace", "Industrials", "EUR", "1996-10-01", 96.30, 0.016, 6),
    Listing("LMNA", "Lumina Pharma", "Health Care", "EUR", "1999-12-03", 121.60, 0.013, 5),
    Listing("MRDN", "Meridian Telecom", "Communication Services", "EUR", "1995-05-29", 14.72, 0.012, 6),
    Listing("NRDS", "Nordsee Wind", "Utilities", "EUR", "2012-03-22", 33.18, 0.022, 4),
    Listing("OKMT", "Oakmont Insurance", "Financials", "EUR", "1987-02-18", 47.55, 0.011, 3),
    Listing("PRSM", "Prism Retail", "Consumer Discretionary", "GBP", "2003-09-09", 8.64, 0.019, 5),
    Listing("QRTZ", "Quartz Mining", "Materials", "GBP", "1976-04-13", 42.30, 0.023, 4),
    Listing("RVNS", "Ravenscroft Media", "Communication Services", "GBP", "2007-11-26", 5.21, 0.027, 3),
    Listing("SLTE", "Slate Chemicals", "Materials", "GBP", "1983-08-30", 23.95, 0.014, 3),
    Listing("TMBR", "Timberline Homes", "Real Estate", "GBP", "2009-06-15", 11.37, 0.018, 3),
)

#: (venue, name, country, currency traded there)
VENUES: tuple[tuple[str, str, str, str], ...] = (
    ("XNYS", "New York Stock Exchange", "US", "USD"),
    ("XNAS", "Nasdaq", "US", "USD"),
    ("BATS", "Cboe BZX", "US", "USD"),
    ("IEXG", "Investors Exchange", "US", "USD"),
    ("XETR", "Xetra", "DE", "EUR"),
    ("XPAR", "Euronext Paris", "FR", "EUR"),
    ("XAMS", "Euronext Amsterdam", "NL", "EUR"),
    ("XLON", "London Stock Exchange", "GB", "GBP"),
    ("AQXE", "Aquis Exchange", "GB", "GBP"),
)

TradeRow = tuple[int, str, str, str, str, float, int, str | None]


def trading_days(first: date, last: date) -> list[date]:
    """Every calendar day from ``first`` to ``last``, both included.

    >>> len(trading_days(date(2024, 2, 1), date(2024, 2, 29)))
    29
    """
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def rows_per_day(days: Sequence[date], rows: int) -> list[int]:
    """Share ``rows`` out over ``days``; weekdays get :data:`WEEKDAY_WEIGHT` times a weekend day.

    >>> rows_per_day([date(2024, 1, 5), date(2024, 1, 6)], 10)  # a Friday and a Saturday
    [8, 2]
    """
    weights = [WEEKDAY_WEIGHT if day.weekday() < 5 else 1 for day in days]
    total = sum(weights)
    counts: list[int] = []
    running = given = 0
    for weight in weights:
        running += weight
        target = rows * running // total
        counts.append(target - given)
        given = target
    return counts


def clock_labels() -> list[str]:
    """``HH:MM:SS`` for every second of the trading day.

    >>> labels = clock_labels()
    >>> labels[0], labels[-1], len(labels)
    ('09:30:00', '16:00:00', 23401)
    """
    return [
        f"{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}"
        for second in range(OPEN_SECOND, CLOSE_SECOND + 1)
    ]


def _venues_by_listing() -> list[list[str]]:
    return [[venue for venue, _, _, currency in VENUES if currency == listing.currency] for listing in LISTINGS]


def trade_rows(rows: int, seed: int = SEED) -> Iterator[TradeRow]:
    """Yield ``rows`` trades in date and time order, the same ones for the same arguments.

    >>> first = next(trade_rows(10_000))
    >>> first[0], first[1]
    (1, '2023-01-01')
    """
    rng = random.Random(seed)
    prices = [listing.price for listing in LISTINGS]
    venues = _venues_by_listing()
    clock = clock_labels()
    popularity = [listing.popularity for listing in LISTINGS]
    trade_id = 0
    days = trading_days(FIRST_DAY, LAST_DAY)
    for day, count in zip(days, rows_per_day(days, rows)):
        for index, listing in enumerate(LISTINGS):
            prices[index] *= math.exp(rng.gauss(0.0, listing.volatility))
        picks = rng.choices(range(len(LISTINGS)), weights=popularity, k=count)
        seconds = sorted(int(rng.random() * len(clock)) for _ in range(count))
        label = day.isoformat()
        for pick, second in zip(picks, seconds):
            trade_id += 1
            yield _trade(rng, trade_id, label, clock[second], pick, prices[pick], venues[pick])


def _trade(
    rng: random.Random, trade_id: int, day: str, clock: str, pick: int, price: float, venues: list[str]
) -> TradeRow:
    """One trade of symbol number ``pick`` near ``price``."""
    traded_at = round(price * (1.0 + INTRADAY_SPREAD * (rng.random() - 0.5)), 2)
    side = "buy" if rng.random() < 0.5 else "sell"
    quantity = LOT_SIZES[int(rng.random() * len(LOT_SIZES))]
    venue = None if rng.random() < NULL_VENUE_RATE else venues[int(rng.random() * len(venues))]
    return (trade_id, day, f"{day} {clock}", LISTINGS[pick].symbol, side, traded_at, quantity, venue)


def _fast_connection(path: Path) -> sqlite3.Connection:
    """A connection for bulk loading a fresh file: no journal, no fsync."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=OFF")
    connection.execute("PRAGMA synchronous=OFF")
    return connection


def _write_markets(path: Path, rows: int) -> None:
    connection = _fast_connection(path)
    try:
        connection.execute(
            "CREATE TABLE trades (trade_id INTEGER PRIMARY KEY, trade_date DATE NOT NULL,"
            " ts TIMESTAMP NOT NULL, symbol TEXT NOT NULL, side TEXT NOT NULL,"
            " price REAL NOT NULL, quantity INTEGER NOT NULL, venue TEXT)"
        )
        connection.execute("BEGIN")
        connection.executemany("INSERT INTO trades VALUES (?, ?, ?, ?, ?, ?, ?, ?)", trade_rows(rows))
        connection.execute("CREATE INDEX trades_trade_date ON trades (trade_date)")
        connection.commit()
    finally:
        connection.close()


def _write_reference(path: Path) -> None:
    connection = _fast_connection(path)
    try:
        connection.execute(
            "CREATE TABLE symbols (symbol TEXT PRIMARY KEY, name TEXT, sector TEXT, currency TEXT, listed_on DATE)"
        )
        connection.execute("CREATE TABLE venues (venue TEXT PRIMARY KEY, name TEXT, country TEXT)")
        connection.execute("BEGIN")
        connection.executemany(
            "INSERT INTO symbols VALUES (?, ?, ?, ?, ?)",
            [(item.symbol, item.name, item.sector, item.currency, item.listed_on) for item in LISTINGS],
        )
        connection.executemany("INSERT INTO venues VALUES (?, ?, ?)", [venue[:3] for venue in VENUES])
        connection.commit()
    finally:
        connection.close()


def _trade_count(path: Path) -> int | None:
    """Rows in ``path``'s trades table, or None when the file is missing or not a demo database."""
    if not path.is_file():
        return None
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            return int(connection.execute("SELECT COUNT(*) FROM trades").fetchone()[0])
        finally:
            connection.close()
    except sqlite3.Error:
        return None


def _is_complete(directory: Path, rows: int) -> bool:
    """Whether ``directory`` already holds the demo for ``rows`` trades."""
    names = ("reference.db", "catalog.toml")
    return all((directory / name).is_file() for name in names) and _trade_count(directory / "markets.db") == rows


def _build(directory: Path, rows: int) -> None:
    """Write all three files under temporary names, then rename them into place."""
    suffix = f".{os.getpid()}.tmp"
    targets = [directory / name for name in ("markets.db", "reference.db", "catalog.toml")]
    temporaries = [target.with_name(f".{target.name}{suffix}") for target in targets]
    try:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)
        _write_markets(temporaries[0], rows)
        _write_reference(temporaries[1])
        temporaries[2].write_text(CATALOG_TEXT, encoding="utf-8")
        for temporary, target in zip(temporaries, targets):
            os.replace(temporary, target)  # the catalog goes last: it marks a finished run
    finally:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)


def generate_demo(directory: Path, rows: int = DEFAULT_ROWS, force: bool = False) -> Path:
    """Write the demo databases and catalog into ``directory``; return the catalog's path.

    Nothing is rewritten when the files are already there with ``rows`` trades,
    unless ``force`` is set.
    """
    if rows < 1:
        raise ValueError(f"rows must be at least 1, not {rows}")
    directory = Path(directory)
    catalog = directory / "catalog.toml"
    if not force and _is_complete(directory, rows):
        print(f"piot.demo: {directory} already holds {rows:,} trades (--force rebuilds)", file=sys.stderr)
        return catalog
    directory.mkdir(parents=True, exist_ok=True)
    print(f"piot.demo: writing {rows:,} trades to {directory} ...", end=" ", file=sys.stderr, flush=True)
    started = time.perf_counter()
    _build(directory, rows)
    print(f"done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return catalog


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry: ``python -m piot.demo --dir DIR [--rows N] [--force]``."""
    parser = argparse.ArgumentParser(prog="python -m piot.demo", description="Write piot's demo data.")
    parser.add_argument("--dir", type=Path, default=Path(".demo"), help="where to write (default: .demo)")
    parser.add_argument(
        "--rows", type=int, default=DEFAULT_ROWS, help=f"trades to generate (default: {DEFAULT_ROWS:,})"
    )
    parser.add_argument("--force", action="store_true", help="rebuild even when the data is already there")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    generate_demo(args.dir, rows=args.rows, force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
