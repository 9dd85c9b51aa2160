"""The join corpus data: a dated fact table, a dated orders table and an undated dimension, loaded alike everywhere.

The rows are made awkward on purpose, so that a join planned or merged a little wrong shows:

- ``jc_facts`` (about 500 rows, 2024-01-01 .. 2024-04-30, a few rows just outside): NULL join
  keys, keys repeated many times, keys (31..40) the dimension lacks, rows with a NULL date,
  NULL or midnight timestamps, timestamps booked on the next day, text keys that differ only
  by case or a trailing blank, empty strings, and DECIMAL amounts that are sometimes whole
  (SQLite then stores them as INTEGER);
- ``jc_orders`` (320 rows, 2023-12-20 .. 2024-05-10): about half copy the (k, d, cust) of a fact,
  so multi-key joins match, with keys 41..45 that no fact has and NULL keys and dates;
- ``jc_dim`` (38 rows, no date): keys 1..30 with two of them twice (a join fans out), keys
  100..103 that nothing references, and two NULL keys.

The same Python rows go to SQLite (ISO text under declared DATE/TIMESTAMP), PostgreSQL, MariaDB
and an in-memory DuckDB with real types, which is the oracle for every source pair.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

FACTS = "jc_facts"
ORDERS = "jc_orders"
DIM = "jc_dim"
TABLES = (FACTS, ORDERS, DIM)
#: the dated tables and the column the catalog splits them on
DATE_COLUMNS = {FACTS: "d", ORDERS: "d"}

_CUSTOMERS = ("ann", "Ann", "bob", "bob ", "", "cy", "dee", None)

Row = tuple[Any, ...]


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _amount(rng: random.Random) -> Decimal:
    cents = rng.randint(100, 99_999)
    if rng.random() < 0.15:  # whole amounts: SQLite keeps them as INTEGER in a DECIMAL column
        cents -= cents % 100
    return Decimal(cents) / 100


def _stamp(rng: random.Random, day: dt.date) -> dt.datetime | None:
    draw = rng.random()
    if draw < 0.08:
        return None
    midnight = dt.datetime.combine(day, dt.time())
    if draw < 0.14:
        return midnight
    stamp = midnight + dt.timedelta(seconds=rng.randrange(86_400), microseconds=rng.randrange(1_000_000) if draw < 0.4 else 0)
    return stamp + dt.timedelta(days=1) if draw > 0.95 else stamp


def fact_rows() -> list[Row]:
    """(fact_id, d, ts, k, cust, qty, amount), ``fact_id`` 1..n."""
    rng = random.Random(7_2024)
    drafts: list[tuple[dt.date | None, dt.datetime | None]] = []
    for day in _days(dt.date(2024, 1, 1), dt.date(2024, 4, 30)):
        drafts += [(day, _stamp(rng, day)) for _ in range(rng.randint(2, 6))]
    for day in (dt.date(2023, 12, 31), dt.date(2024, 5, 1)):
        drafts += [(day, _stamp(rng, day)) for _ in range(3)]
    drafts += [(None, dt.datetime(2024, 2, 10 + i, 8, 0)) for i in range(4)] + [(None, None), (None, None)]
    rows: list[Row] = []
    for fact_id, (day, stamp) in enumerate(drafts, start=1):
        key = None if rng.random() < 0.06 else rng.randint(1, 40)
        rows.append((fact_id, day, stamp, key, rng.choice(_CUSTOMERS), rng.randint(1, 100), _amount(rng)))
    return rows


def order_rows() -> list[Row]:
    """(order_id, d, k, cust, qty, price): half of them share (k, d, cust) with a fact."""
    rng = random.Random(11_2024)
    facts = [row for row in fact_rows() if row[1] is not None]
    days = _days(dt.date(2023, 12, 20), dt.date(2024, 5, 10))
    rows: list[Row] = []
    for order_id in range(1, 321):
        if order_id % 80 == 0:
            day, key, cust = None, rng.randint(1, 45), rng.choice(_CUSTOMERS)
        elif rng.random() < 0.5:
            _, day, _, key, cust, _, _ = rng.choice(facts)
        else:
            day, key, cust = rng.choice(days), None if rng.random() < 0.06 else rng.randint(1, 45), rng.choice(_CUSTOMERS)
        rows.append((order_id, day, key, cust, rng.randint(1, 100), round(rng.uniform(1, 500), 2)))
    return rows


def dim_rows() -> list[Row]:
    """(k, label, grp, weight): keys 1..30 (7 and 12 twice), 100..103 unreferenced, two NULL keys."""
    rng = random.Random(13_2024)
    keys: list[int | None] = [*range(1, 31), 7, 12, 100, 101, 102, 103, None, None]
    rows: list[Row] = []
    for index, key in enumerate(keys):
        group = ("A", "B", "C", None)[index % 4] if key != 7 else "A"
        label = f"item{key}" + ("b" if index >= 30 else "") if key is not None else f"orphan{index}"
        rows.append((key, label, group, round(rng.uniform(0.5, 3.0), 3)))
    return rows


ROWS = {FACTS: fact_rows, ORDERS: order_rows, DIM: dim_rows}

_COLUMNS = {
    FACTS: (("fact_id", "INTEGER"), ("d", "DATE"), ("ts", "{ts}"), ("k", "INTEGER"), ("cust", "VARCHAR(8)"), ("qty", "INTEGER"),
            ("amount", "DECIMAL(12,2)")),
    ORDERS: (("order_id", "INTEGER"), ("d", "DATE"), ("k", "INTEGER"), ("cust", "VARCHAR(8)"), ("qty", "INTEGER"), ("price", "{double}")),
    DIM: (("k", "INTEGER"), ("label", "VARCHAR(16)"), ("grp", "VARCHAR(4)"), ("weight", "{double}")),
}  # fmt: skip


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, (dt.date, dt.datetime)):
        return "'" + (value.isoformat(" ") if isinstance(value, dt.datetime) else value.isoformat()) + "'"
    return str(value)


def load_script(dialect: str) -> str:
    """CREATE TABLE and batched multi-row INSERT statements for the three tables in ``dialect``."""
    types = {
        "ts": {"postgres": "TIMESTAMP", "mysql": "DATETIME(6)", "sqlite": "TIMESTAMP"}[dialect],
        "double": "DOUBLE PRECISION" if dialect == "postgres" else "DOUBLE",
    }
    statements = []
    for table in TABLES:
        columns = ", ".join(f"{name} {kind.format(**types)}" for name, kind in _COLUMNS[table])
        statements.append(f"CREATE TABLE {table} ({columns});")
        rows = ROWS[table]()
        for start in range(0, len(rows), 200):
            values = ",\n".join("(" + ", ".join(_literal(v) for v in row) + ")" for row in rows[start : start + 200])
            statements.append(f"INSERT INTO {table} VALUES\n{values};")
    return "\n".join(statements) + "\n"


def write_sqlite(path: Path) -> None:
    """The three tables in a new SQLite file (dates and timestamps as ISO text)."""
    with sqlite3.connect(path) as handle:
        handle.executescript(load_script("sqlite"))
    handle.close()


_ARROW_TYPES = {
    "INTEGER": pa.int32(),
    "DATE": pa.date32(),
    "{ts}": pa.timestamp("us"),
    "VARCHAR(8)": pa.string(),
    "VARCHAR(16)": pa.string(),
    "VARCHAR(4)": pa.string(),
    "DECIMAL(12,2)": pa.decimal128(12, 2),
    "{double}": pa.float64(),
}


def duckdb_oracle() -> Any:
    """An in-memory DuckDB holding the three tables over the same rows, with real types."""
    import duckdb

    handle = duckdb.connect(":memory:")
    for table in TABLES:
        schema = pa.schema([(name, _ARROW_TYPES[kind]) for name, kind in _COLUMNS[table]])
        rows = ROWS[table]()
        arrow = pa.table({name: [row[i] for row in rows] for i, name in enumerate(schema.names)}, schema=schema)
        handle.register(f"{table}_rows", arrow)
        handle.execute(f"CREATE TABLE {table} AS SELECT * FROM {table}_rows")
        handle.unregister(f"{table}_rows")
    return handle
