"""TPC-H data spread over three databases, and DuckDB over the same data as the oracle.

``tpchgen-cli`` (a test dependency) writes the eight tables as Parquet at a small scale
factor. They are loaded with the types of the TPC-H specification (CHAR(n) included, which
PostgreSQL pads) into three sources, so that every query joins tables of different
databases:

- PostgreSQL: lineitem (split on l_shipdate), partsupp, region;
- MariaDB: orders (split on o_orderdate), supplier;
- SQLite: customer, part, nation.

The 22 queries live in ``tpch/qNN.sql`` as the specification writes them (with its
validation parameters; Q15's view is a CTE), with bare table names; :func:`placed` adds
each table's source for piot.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import sqlglot
from corpus_data import run_cli
from sqlglot import exp

QUERY_DIR = Path(__file__).parent / "tpch"

#: Scale factor of the test data: 60,175 lineitem rows, enough for every query to answer with rows.
SCALE = 0.01

#: Each table's columns with the specification's types, in the order tpchgen-cli writes them.
SCHEMA: dict[str, tuple[tuple[str, str], ...]] = {
    "region": (("r_regionkey", "INTEGER"), ("r_name", "CHAR(25)"), ("r_comment", "VARCHAR(152)")),
    "nation": (("n_nationkey", "INTEGER"), ("n_name", "CHAR(25)"), ("n_regionkey", "INTEGER"), ("n_comment", "VARCHAR(152)")),
    "part": (
        ("p_partkey", "INTEGER"),
        ("p_name", "VARCHAR(55)"),
        ("p_mfgr", "CHAR(25)"),
        ("p_brand", "CHAR(10)"),
        ("p_type", "VARCHAR(25)"),
        ("p_size", "INTEGER"),
        ("p_container", "CHAR(10)"),
        ("p_retailprice", "DECIMAL(15,2)"),
        ("p_comment", "VARCHAR(23)"),
    ),
    "supplier": (
        ("s_suppkey", "INTEGER"),
        ("s_name", "CHAR(25)"),
        ("s_address", "VARCHAR(40)"),
        ("s_nationkey", "INTEGER"),
        ("s_phone", "CHAR(15)"),
        ("s_acctbal", "DECIMAL(15,2)"),
        ("s_comment", "VARCHAR(101)"),
    ),
    "partsupp": (
        ("ps_partkey", "INTEGER"),
        ("ps_suppkey", "INTEGER"),
        ("ps_availqty", "INTEGER"),
        ("ps_supplycost", "DECIMAL(15,2)"),
        ("ps_comment", "VARCHAR(199)"),
    ),
    "customer": (
        ("c_custkey", "INTEGER"),
        ("c_name", "VARCHAR(25)"),
        ("c_address", "VARCHAR(40)"),
        ("c_nationkey", "INTEGER"),
        ("c_phone", "CHAR(15)"),
        ("c_acctbal", "DECIMAL(15,2)"),
        ("c_mktsegment", "CHAR(10)"),
        ("c_comment", "VARCHAR(117)"),
    ),
    "orders": (
        ("o_orderkey", "INTEGER"),
        ("o_custkey", "INTEGER"),
        ("o_orderstatus", "CHAR(1)"),
        ("o_totalprice", "DECIMAL(15,2)"),
        ("o_orderdate", "DATE"),
        ("o_orderpriority", "CHAR(15)"),
        ("o_clerk", "CHAR(15)"),
        ("o_shippriority", "INTEGER"),
        ("o_comment", "VARCHAR(79)"),
    ),
    "lineitem": (
        ("l_orderkey", "INTEGER"),
        ("l_partkey", "INTEGER"),
        ("l_suppkey", "INTEGER"),
        ("l_linenumber", "INTEGER"),
        ("l_quantity", "DECIMAL(15,2)"),
        ("l_extendedprice", "DECIMAL(15,2)"),
        ("l_discount", "DECIMAL(15,2)"),
        ("l_tax", "DECIMAL(15,2)"),
        ("l_returnflag", "CHAR(1)"),
        ("l_linestatus", "CHAR(1)"),
        ("l_shipdate", "DATE"),
        ("l_commitdate", "DATE"),
        ("l_receiptdate", "DATE"),
        ("l_shipinstruct", "CHAR(25)"),
        ("l_shipmode", "CHAR(10)"),
        ("l_comment", "VARCHAR(44)"),
    ),
}

#: The source (catalog name) each table lives in.
PLACEMENT = {
    "lineitem": "pg",
    "partsupp": "pg",
    "region": "pg",
    "orders": "my",
    "supplier": "my",
    "customer": "lite",
    "part": "lite",
    "nation": "lite",
}

#: The split column of each dated table, as the catalog declares it.
DATE_COLUMNS = {"lineitem": "l_shipdate", "orders": "o_orderdate"}

#: Indexes a real deployment would have: the split columns, and the keys the queries join on.
INDEXES = {"lineitem": ("l_shipdate", "l_orderkey"), "orders": ("o_orderdate", "o_orderkey")}


class GeneratorMissing(RuntimeError):
    """tpchgen-cli is not installed in this environment."""


def generator() -> str:
    """The ``tpchgen-cli`` executable: next to this Python first (a venv's bin), then on PATH."""
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which("tpchgen-cli", path=search)
    if found is None:
        raise GeneratorMissing("tpchgen-cli is not installed (pip install -e '.[test]' installs it)")
    return found


def generate(directory: Path, scale: float = SCALE) -> dict[str, pl.DataFrame]:
    """Generate the eight tables as Parquet in ``directory`` and read them with the specification's types."""
    subprocess.run(
        [generator(), "parquet", "-s", str(scale), f"--output-dir={directory}"], check=True, capture_output=True, timeout=300
    )
    return {table: _typed(pl.read_parquet(directory / f"{table}.parquet"), table) for table in SCHEMA}


def _typed(frame: pl.DataFrame, table: str) -> pl.DataFrame:
    names = [name for name, _ in SCHEMA[table]]
    assert frame.columns == names, f"tpchgen-cli wrote {frame.columns} for {table}"
    return frame.with_columns(pl.col(name).cast(pl.Int64) for name, sql in SCHEMA[table] if sql == "INTEGER")


def _ddl(table: str, dialect: str) -> str:
    columns = ", ".join(f"{name} {sql}" for name, sql in SCHEMA[table])
    indexes = "".join(f" CREATE INDEX {table}_{column} ON {table} ({column});" for column in INDEXES.get(table, ()))
    return sqlglot.transpile(f"CREATE TABLE {table} ({columns})", read="postgres", write=dialect)[0] + ";" + indexes


def _csv(frame: pl.DataFrame) -> str:
    return frame.write_csv(include_header=False, date_format="%Y-%m-%d")


def _value(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"
    return f"'{value}'" if not isinstance(value, (int, float)) else str(value)


def _inserts(table: str, frame: pl.DataFrame, batch: int = 2000) -> Iterator[str]:
    rows = frame.rows()
    for start in range(0, len(rows), batch):
        values = ",".join("(" + ",".join(_value(v) for v in row) + ")" for row in rows[start : start + batch])
        yield f"INSERT INTO {table} VALUES {values};"


def load_postgres(url: str, tables: dict[str, pl.DataFrame], names: Sequence[str]) -> None:
    """Create and fill ``names`` in the PostgreSQL database at ``url`` (COPY from the script)."""
    script = []
    for table in names:
        script.append(_ddl(table, "postgres"))
        script.append(f"COPY {table} FROM STDIN WITH (FORMAT csv);\n{_csv(tables[table])}\\.\n")
        script.append(f"ANALYZE {table};")
    run_cli("postgres", url, "\n".join(script))


def load_mysql(url: str, tables: dict[str, pl.DataFrame], names: Sequence[str]) -> None:
    """Create and fill ``names`` in the MariaDB database at ``url``."""
    script = []
    for table in names:
        script.append(_ddl(table, "mysql"))
        script.extend(_inserts(table, tables[table]))
    run_cli("mysql", url, "\n".join(script))


def load_sqlite(path: Path, tables: dict[str, pl.DataFrame], names: Sequence[str]) -> None:
    """Create and fill ``names`` in the SQLite file at ``path`` (dates as ISO text, decimals as REAL)."""
    with sqlite3.connect(path) as db:
        for table in names:
            db.executescript(_ddl(table, "sqlite"))
            frame = tables[table].with_columns(
                [pl.col(c).cast(pl.Float64) for c, t in tables[table].schema.items() if isinstance(t, pl.Decimal)]
                + [pl.col(c).dt.to_string("%Y-%m-%d") for c, t in tables[table].schema.items() if t == pl.Date]
            )
            db.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * frame.width)})", frame.rows())


def duckdb_oracle(tables: dict[str, pl.DataFrame]) -> Any:
    """An in-memory DuckDB holding the eight tables with their exact types."""
    import duckdb

    handle = duckdb.connect()
    for table, frame in tables.items():
        handle.register(f"{table}_frame", frame.to_arrow())
        handle.execute(f"CREATE TABLE {table} AS SELECT * FROM {table}_frame")
        handle.unregister(f"{table}_frame")
    return handle


@dataclass(frozen=True)
class TpchQuery:
    """One of the 22 queries: its number and its text as the specification writes it."""

    number: int
    sql: str

    @property
    def name(self) -> str:
        """``q01`` ... ``q22``."""
        return f"q{self.number:02d}"


def queries() -> list[TpchQuery]:
    """The 22 queries in order."""
    return [TpchQuery(n, (QUERY_DIR / f"q{n:02d}.sql").read_text()) for n in range(1, 23)]


def placed(sql: str, placement: dict[str, str] = PLACEMENT) -> str:
    """``sql`` as written, with each TPC-H table named through its source (``lineitem`` -> ``pg.lineitem``).

    >>> placed("select nation from lineitem l, nation where l_suppkey = 1")
    'select nation from pg.lineitem l, lite.nation where l_suppkey = 1'
    """
    tree = sqlglot.parse_one(sql, read="postgres")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    starts = sorted(
        table.this.meta["start"]
        for table in tree.find_all(exp.Table)
        if table.name in placement and not table.db and table.name not in ctes
    )
    for start in reversed(starts):
        name = sql[start:].split(None, 1)[0].rstrip(",)")
        sql = f"{sql[:start]}{placement[name]}.{sql[start:]}"
    return sql
