"""The corpus data: one deterministic trades table and a small symbols table, loaded alike everywhere.

The same Python rows are written to SQLite (ISO text under declared DATE/TIMESTAMP types),
PostgreSQL (DATE, TIMESTAMP), MariaDB (DATE, DATETIME(6)) and an in-memory DuckDB with real
types, which answers for SQLite as the typed oracle. The rows cover calendar edges on purpose:
first and last days of months, 2024-02-29, the turn of the year, timestamps at midnight, at
23:59:59.999999 and one microsecond after midnight, and NULL dates and timestamps.

This module also holds the helpers that compare results across engines.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import random
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pyarrow as pa
import pytest

KINDS = ("sqlite", "postgres", "mysql")
#: the pytest marks of tests on each kind of source (``-m "not mariadb"`` leaves MariaDB out)
KIND_MARKS: dict[str, list[pytest.MarkDecorator]] = {"sqlite": [], "postgres": [pytest.mark.postgres], "mysql": [pytest.mark.mariadb]}
#: ``KINDS`` as pytest parameters carrying those marks
KIND_PARAMS = [pytest.param(kind, marks=KIND_MARKS[kind], id=kind) for kind in KINDS]
TRADES = "piot_corpus_trades"
SYMBOLS = "symbols"
TRADE_COLUMNS = ("trade_id", "trade_date", "ts", "symbol", "side", "price", "quantity", "venue")
SYMBOL_COLUMNS = ("symbol", "sector", "listed_on")

#: the first and last day that ordinary rows are generated for (a little outside 2023-11..2024-04).
FIRST_DAY = dt.date(2023, 10, 29)
LAST_DAY = dt.date(2024, 5, 2)

_TRADED = ("AAPL", "MSFT", "GOOG", "AMZN", "TSLA", "NVDA", "META", "IBM", "ORCL")
_VENUES = ("XNYS", "XNAS", "BATS", "IEXG")
#: ORCL trades but is not listed; NFLX is listed but never trades (so joins drop and pad rows).
_LISTED = (
    ("AAPL", "TECH", dt.date(1980, 12, 12)),
    ("MSFT", "TECH", dt.date(1986, 3, 13)),
    ("GOOG", "COMM", dt.date(2004, 8, 19)),
    ("AMZN", "RETAIL", dt.date(1997, 5, 15)),
    ("TSLA", "AUTO", dt.date(2010, 6, 29)),
    ("NVDA", "TECH", dt.date(1999, 1, 22)),
    ("META", "COMM", dt.date(2012, 5, 18)),
    ("IBM", "TECH", None),
    ("NFLX", "COMM", dt.date(2002, 5, 23)),
)

Row = tuple[Any, ...]


def _month_edges() -> list[dt.date]:
    """First and last day of every month from 2023-10 to 2024-05."""
    days: list[dt.date] = []
    for year, month in ((2023, 10), (2023, 11), (2023, 12), (2024, 1), (2024, 2), (2024, 3), (2024, 4), (2024, 5)):
        first = dt.date(year, month, 1)
        following = dt.date(year + month // 12, month % 12 + 1, 1)
        days += [first, following - dt.timedelta(days=1)]
    return days


def _edge_timestamps() -> list[dt.datetime]:
    """Timestamps placed exactly on the boundaries a split can cut at."""
    stamps: list[dt.datetime] = []
    for day in _month_edges():
        midnight = dt.datetime.combine(day, dt.time())
        stamps += [midnight, midnight + dt.timedelta(microseconds=1), midnight + dt.timedelta(days=1, microseconds=-1)]
    stamps += [
        dt.datetime(2024, 2, 29, 0, 0),
        dt.datetime(2024, 2, 29, 12, 30, 15, 250000),
        dt.datetime(2024, 2, 29, 23, 59, 59, 999999),
        dt.datetime(2023, 12, 31, 23, 59, 59, 999999),
        dt.datetime(2024, 1, 1, 0, 0),
        dt.datetime(2024, 1, 1, 0, 0, 0, 1),
        dt.datetime(2024, 3, 1, 0, 0, 0, 1),
        dt.datetime(2024, 3, 31, 0, 0),
        dt.datetime(2024, 3, 31, 0, 0, 0, 1),
        dt.datetime(2024, 3, 31, 23, 59, 59, 999999),
        dt.datetime(2024, 3, 15, 12, 0, 0, 500000),
        dt.datetime(2024, 3, 15, 12, 0, 0),
    ]
    return stamps


def _price(rng: random.Random) -> float:
    """A price in cents that never ends in .50 (so ROUND(price) has no ties to break)."""
    cents = rng.randint(1_000, 60_000)
    if cents % 100 == 50:
        cents += 1
    return cents / 100


def trade_rows() -> list[Row]:
    """The trades rows, in a fixed shuffled order, ``trade_id`` 1..n.

    >>> rows = trade_rows()
    >>> len(rows) > 3000, rows == trade_rows()
    (True, True)
    """
    rng = random.Random(20240229)
    drafts: list[tuple[dt.date | None, dt.datetime | None]] = []
    day = FIRST_DAY
    while day <= LAST_DAY:
        for _ in range(rng.randint(14, 24)):
            seconds = rng.randrange(86_400)
            micros = rng.randrange(1_000_000) if rng.random() < 0.3 else 0
            stamp = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=seconds, microseconds=micros)
            if rng.random() < 0.04:  # booked on a neighbouring day
                stamp += dt.timedelta(days=rng.choice((-1, 1)))
            drafts.append((day, stamp))
        day += dt.timedelta(days=1)
    for stamp in _edge_timestamps():
        drafts += [(stamp.date(), stamp), (stamp.date(), stamp)]
    for day in _month_edges() + [dt.date(2024, 2, 29), dt.date(2023, 12, 31), dt.date(2024, 1, 1)]:
        drafts += [(day, None), (day, dt.datetime.combine(day, dt.time(23, 59, 59, 999999)))]
    for index in range(24):  # NULL trade_date, with and without a timestamp
        stamp = dt.datetime(2024, 1 + index % 4, 1 + index, 9, 30, 0, 0 if index % 2 else 123456)
        drafts.append((None, stamp if index % 3 else None))
    for index in range(16):  # NULL ts on ordinary days
        drafts.append((dt.date(2023, 11, 1) + dt.timedelta(days=11 * index), None))
    rng.shuffle(drafts)
    rows: list[Row] = []
    for trade_id, (day_value, stamp_value) in enumerate(drafts, start=1):
        venue = rng.choice(_VENUES) if rng.random() > 0.1 else None
        rows.append(
            (
                trade_id,
                day_value,
                stamp_value,
                rng.choice(_TRADED),
                rng.choice(("BUY", "SELL")),
                _price(rng),
                rng.randint(1, 1_000),
                venue,
            )
        )
    return rows


def symbol_rows() -> list[Row]:
    """The symbols rows (symbol, sector, listed_on)."""
    return list(_LISTED)


# -- SQL text for loading -------------------------------------------------------------------
def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, dt.datetime):
        return "'" + value.isoformat(" ") + "'"
    if isinstance(value, dt.date):
        return "'" + value.isoformat() + "'"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _inserts(table: str, rows: Sequence[Row], batch: int = 500) -> list[str]:
    statements = []
    for start in range(0, len(rows), batch):
        values = ",\n".join("(" + ", ".join(_literal(v) for v in row) + ")" for row in rows[start : start + batch])
        statements.append(f"INSERT INTO {table} VALUES\n{values};")
    return statements


def _ddl(dialect: str, prefix: str) -> list[str]:
    """CREATE TABLE statements for both tables (``prefix`` is ``schema.`` or empty)."""
    timestamp = {"postgres": "TIMESTAMP", "mysql": "DATETIME(6)", "sqlite": "TIMESTAMP"}[dialect]
    double = "DOUBLE PRECISION" if dialect == "postgres" else "DOUBLE"
    trades = "trades" if dialect == "sqlite" else TRADES
    return [
        f"CREATE TABLE {prefix}{trades} (trade_id INTEGER PRIMARY KEY, trade_date DATE, ts {timestamp}, "
        f"symbol VARCHAR(16), side VARCHAR(8), price {double}, quantity INTEGER, venue VARCHAR(16))",
        f"CREATE TABLE {prefix}{SYMBOLS} (symbol VARCHAR(16) PRIMARY KEY, sector VARCHAR(32), listed_on DATE)",
    ]


def load_script(dialect: str, prefix: str) -> str:
    """The whole SQL script creating and filling both tables in ``dialect``."""
    trades = "trades" if dialect == "sqlite" else TRADES
    statements = [s + ";" for s in _ddl(dialect, prefix)]
    statements += _inserts(prefix + trades, trade_rows()) + _inserts(prefix + SYMBOLS, symbol_rows())
    return "\n".join(statements) + "\n"


# -- loaders --------------------------------------------------------------------------------
def write_sqlite(path: Path) -> None:
    """Create ``trades`` and ``symbols`` in a new SQLite file, dates as ISO text."""
    with sqlite3.connect(path) as handle:
        handle.executescript(load_script("sqlite", ""))
    handle.close()


class CliMissing(RuntimeError):
    """The command-line client of a server is not installed."""


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (test runs name what they create by pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_cli(kind: str, url: str, script: str) -> None:
    """Run an SQL script on PostgreSQL (``psql``) or MariaDB (``mysql``) given by ``url``."""
    parts = urlsplit(url)
    env = dict(os.environ)
    if kind == "postgres":
        program = shutil.which("psql")
        args = [program or "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url]
    else:
        program = shutil.which("mariadb") or shutil.which("mysql")
        args = [program or "mysql", "--protocol=tcp", "-h", parts.hostname or "127.0.0.1", "-P", str(parts.port or 3306)]
        args += ["-u", unquote(parts.username or "root"), parts.path.lstrip("/")]
        if parts.password:
            env["MYSQL_PWD"] = unquote(parts.password)
    if program is None:
        raise CliMissing(f"the {kind} command-line client is not installed")
    done = subprocess.run(args, input=script, text=True, capture_output=True, env=env, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr.strip()[:2000]}")


def duckdb_oracle() -> Any:
    """An in-memory DuckDB with ``trades`` and ``symbols`` over the same rows, with real types."""
    import duckdb

    trades = pa.table(
        {name: list(column) for name, column in zip(TRADE_COLUMNS, zip(*trade_rows()))},
        schema=pa.schema(
            [
                ("trade_id", pa.int32()),
                ("trade_date", pa.date32()),
                ("ts", pa.timestamp("us")),
                ("symbol", pa.string()),
                ("side", pa.string()),
                ("price", pa.float64()),
                ("quantity", pa.int32()),
                ("venue", pa.string()),
            ]
        ),
    )
    symbols = pa.table(
        {name: list(column) for name, column in zip(SYMBOL_COLUMNS, zip(*symbol_rows()))},
        schema=pa.schema([("symbol", pa.string()), ("sector", pa.string()), ("listed_on", pa.date32())]),
    )
    handle = duckdb.connect(":memory:")
    handle.register("trades_rows", trades)
    handle.register("symbols_rows", symbols)
    handle.execute("CREATE TABLE trades AS SELECT * FROM trades_rows")
    handle.execute("CREATE TABLE symbols AS SELECT * FROM symbols_rows")
    handle.unregister("trades_rows")
    handle.unregister("symbols_rows")
    return handle


# -- comparing results ----------------------------------------------------------------------
@dataclass(frozen=True)
class Answer:
    """A query result reduced to what is compared: column names and plain Python rows."""

    columns: tuple[str, ...]
    rows: tuple[Row, ...]


def plain(value: Any) -> Any:
    """One value as compared: numbers as float, everything else as it is."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float, Decimal)):
        return float(value)
    return value


def answer_from_arrow(table: pa.Table | pa.RecordBatchReader) -> Answer:
    """An :class:`Answer` from an Arrow table (connectorx, Polars)."""
    if isinstance(table, pa.RecordBatchReader):
        table = table.read_all()
    columns = tuple(table.column_names)
    data = [table.column(i).to_pylist() for i in range(table.num_columns)]
    return Answer(columns, tuple(tuple(plain(v) for v in row) for row in zip(*data)))


def answer_from_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Answer:
    """An :class:`Answer` from DB-API style rows."""
    return Answer(tuple(columns), tuple(tuple(plain(v) for v in row) for row in rows))


def _key_part(value: Any) -> tuple[Any, ...]:
    if value is None:
        return (0,)
    if isinstance(value, float):
        return (1, float(f"{value:.9g}") if math.isfinite(value) else value)
    if isinstance(value, dt.datetime):
        return (2, value)
    if isinstance(value, dt.date):
        return (3, value)
    return (4, str(value))


def sort_key(row: Row) -> tuple[Any, ...]:
    """A total order on rows: NULLs first in every column, floats rounded to 9 digits."""
    return tuple(_key_part(v) for v in row)


def same_value(a: Any, b: Any, rel: float = 1e-9) -> bool:
    """Equal, with floats compared to a relative tolerance."""
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)
    return type(a) is type(b) and a == b if a is not None and b is not None else a is b


def differences(actual: Answer, expected: Answer, *, ordered: bool = False, limit: int = 8) -> list[str]:
    """What differs between two answers (empty when they agree)."""
    problems: list[str] = []
    if actual.columns != expected.columns:
        problems.append(f"columns {actual.columns} != {expected.columns}")
    if len(actual.rows) != len(expected.rows):
        problems.append(f"{len(actual.rows)} rows != {len(expected.rows)} rows")
    left = list(actual.rows) if ordered else sorted(actual.rows, key=sort_key)
    right = list(expected.rows) if ordered else sorted(expected.rows, key=sort_key)
    for index, (a, b) in enumerate(zip(left, right)):
        if len(a) != len(b) or not all(same_value(x, y) for x, y in zip(a, b)):
            problems.append(f"row {index}: {a!r} != {b!r}")
            if len(problems) >= limit:
                break
    if len(left) != len(right) and len(problems) < limit:
        extra = left[len(right) :] or right[len(left) :]
        problems.append(f"first unmatched rows: {extra[:3]!r}")
    return problems


def assert_same(actual: Answer, expected: Answer, what: str, *, ordered: bool = False) -> None:
    """Fail with a readable list of differences unless the answers agree."""
    problems = differences(actual, expected, ordered=ordered)
    assert not problems, f"{what}:\n  " + "\n  ".join(problems)


def sql_literal(value: Any) -> str:
    """A PostgreSQL literal for a parameter value, for the oracles (piot binds its own)."""
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP '{value.isoformat(' ')}'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    return _literal(value)


def inline_parameters(sql: str, parameters: Sequence[Any]) -> str:
    """Replace each ``?`` of ``sql`` (none may sit inside a string) by the literal of its parameter."""
    pieces = sql.split("?")
    assert len(pieces) == len(parameters) + 1, "one parameter per ? placeholder"
    out = pieces[0]
    for value, piece in zip(parameters, pieces[1:]):
        out += sql_literal(value) + piece
    return out


@dataclass(frozen=True)
class CorpusSource:
    """The corpus tables in one database, as piot names them and as the oracle names them.

    Attributes:
        kind: ``sqlite``, ``postgres`` or ``mysql``.
        name: the catalog source name whose trades table splits on ``trade_date``.
        url: the source URL.
        oracle_names: template name -> table name in the oracle's SQL.
        oracle_run: runs PostgreSQL-dialect SQL (with oracle names) on the oracle.
        table_key: the catalog key of the trades table.
    """

    kind: str
    name: str
    url: str
    oracle_names: dict[str, str]
    oracle_run: Callable[[str], Answer]
    table_key: str

    @property
    def names(self) -> dict[str, str]:
        """Template name -> table name in piot's SQL."""
        plain_trades = self.table_key.split(".")[-1]
        return {
            "trades": f"{self.name}.{plain_trades}",
            "trades_ts": f"{self.name}_ts.{plain_trades}",
            "symbols": f"{self.name}.{SYMBOLS}",
        }

    def catalog(self, url: str | None = None) -> dict[str, Any]:
        """A catalog with two sources on the same database: split on trade_date, and on ts."""
        url = url or self.url
        return {
            "sources": {
                self.name: {"url": url, "tables": {self.table_key: {"date_column": "trade_date"}}},
                f"{self.name}_ts": {"url": url, "tables": {self.table_key: {"date_column": "ts"}}},
            }
        }

    def sql(self, template: str) -> str:
        """The template with piot's table names."""
        return template.format(**self.names)

    def oracle(self, template: str, parameters: Sequence[Any] = ()) -> Answer:
        """The oracle's answer to the template."""
        names = dict(self.oracle_names, trades_ts=self.oracle_names["trades"])
        return self.oracle_run(inline_parameters(template.format(**names), parameters))


def answer_of(connection: Any, sql: str) -> Answer:
    """piot's answer to ``sql`` through a DB-API connection, ready to compare."""
    cursor = connection.cursor()
    cursor.execute(sql)
    return answer_from_arrow(cursor.fetch_arrow())


def split_modes(connect: Callable[..., Any], source: CorpusSource) -> list[tuple[str, Any]]:
    """The three ways a corpus query is run and compared: split monthly, split daily, unsplit."""
    return [
        ("split monthly", connect(source)),
        ("split daily", connect(source, time_unit="daily")),
        ("unsplit", connect(source, split=False)),
    ]
