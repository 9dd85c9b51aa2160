"""TPC-H in PostgreSQL (schema ``tpch``), made once per scale factor with the generator the tests use.

``tpchgen-cli`` writes the eight tables as Parquet under ``<data dir>/tpch-sf<scale>/`` (kept: DuckDB
reads them there); they are loaded with the specification's types (``tests/engine/tpch_data.py``),
primary keys and the indexes a deployment would have (the split columns, and the keys the
correlated subqueries of Q2, Q17, Q20, Q21 and Q22 look up), in one transaction that ends by
writing the scale and lineitem's row count as the schema's comment. A schema whose comment and
lineitem count agree with the requested scale is used as it is.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import polars as pl
from tpch_data import SCHEMA, generate, placed

from harness.clients import run_script, scalar

SCHEMA_NAME = "tpch"

_KEYS = {
    "region": "r_regionkey",
    "nation": "n_nationkey",
    "part": "p_partkey",
    "supplier": "s_suppkey",
    "partsupp": "ps_partkey, ps_suppkey",
    "customer": "c_custkey",
    "orders": "o_orderkey",
    "lineitem": "l_orderkey, l_linenumber",
}
_INDEXES = {
    "lineitem": ("l_shipdate", "l_partkey, l_suppkey"),
    "orders": ("o_orderdate", "o_custkey"),
}


def qualify(sql: str, prefix: str) -> str:
    """``sql`` with each TPC-H table written ``prefix.table``, the rest of the text as the specification has it.

    >>> qualify("select 1 from lineitem l, nation", "src.tpch")
    'select 1 from src.tpch.lineitem l, src.tpch.nation'
    """
    return placed(sql, dict.fromkeys(SCHEMA, prefix))


def marker(scale: float, lineitem_rows: int) -> str:
    """The schema comment that says what was loaded.

    >>> marker(1.0, 6001215)
    'tpchgen-cli scale 1 lineitem 6001215'
    """
    return f"tpchgen-cli scale {scale:g} lineitem {lineitem_rows}"


def parquet_dir(data_dir: Path, scale: float) -> Path:
    """Where the Parquet files of ``scale`` live."""
    return data_dir.resolve() / f"tpch-sf{scale:g}"


def _generated(directory: Path, scale: float) -> dict[str, pl.DataFrame]:
    """The eight tables, generated unless their Parquet files are already there."""
    if all((directory / f"{table}.parquet").exists() for table in SCHEMA):
        return {table: pl.read_parquet(directory / f"{table}.parquet") for table in SCHEMA}
    directory.mkdir(parents=True, exist_ok=True)
    print(f"tpch: generating scale {scale:g} in {directory} ...", file=sys.stderr, flush=True)
    return generate(directory, scale)


def _load_script(directory: Path, tables: dict[str, pl.DataFrame], scale: float) -> str:
    """The psql script that replaces schema ``tpch`` by the CSV files in ``directory``."""
    lines = [
        f"DROP SCHEMA IF EXISTS {SCHEMA_NAME} CASCADE;",
        f"CREATE SCHEMA {SCHEMA_NAME};",
        f"SET search_path = {SCHEMA_NAME};",
    ]
    for table, columns in SCHEMA.items():
        body = ", ".join(f"{name} {sql} NOT NULL" for name, sql in columns)
        lines.append(f"CREATE TABLE {table} ({body}, PRIMARY KEY ({_KEYS[table]}));")
        lines.append(f"\\copy {table} FROM '{directory / (table + '.csv')}' WITH (FORMAT csv)")
        for number, columns_of_index in enumerate(_INDEXES.get(table, ())):
            lines.append(f"CREATE INDEX {table}_i{number} ON {table} ({columns_of_index});")
        lines.append(f"ANALYZE {table};")
    lines.append(f"COMMENT ON SCHEMA {SCHEMA_NAME} IS '{marker(scale, tables['lineitem'].height)}';")
    return "\n".join(lines) + "\n"


def present(scale: float, pg_url: str, data_dir: Path) -> int | None:
    """lineitem's row count when TPC-H at ``scale`` is in PostgreSQL and in Parquet, else None."""
    directory = parquet_dir(data_dir, scale)
    if not all((directory / f"{table}.parquet").exists() for table in SCHEMA):
        return None
    comment = scalar(pg_url, f"SELECT obj_description('{SCHEMA_NAME}'::regnamespace, 'pg_namespace')")
    have = scalar(pg_url, f"SELECT count(*) FROM {SCHEMA_NAME}.lineitem")
    if not isinstance(have, int) or comment != marker(scale, have):
        return None
    lineitem = pl.scan_parquet(directory / "lineitem.parquet").select(pl.len()).collect().item()
    return have if lineitem == have else None


def ensure_tpch(scale: float, pg_url: str, data_dir: Path) -> tuple[Path, int]:
    """TPC-H at ``scale`` in PostgreSQL's schema ``tpch``, loaded unless already there; the Parquet directory, lineitem rows."""
    directory = parquet_dir(data_dir, scale)
    have = present(scale, pg_url, data_dir)
    if have is not None:
        print(f"tpch: scale {scale:g} already in PostgreSQL ({have:,} lineitem rows)", file=sys.stderr)
        return directory, have
    started = time.perf_counter()
    tables = _generated(directory, scale)
    try:
        for table, frame in tables.items():
            frame.write_csv(directory / f"{table}.csv", include_header=False, date_format="%Y-%m-%d")
        print(f"tpch: loading scale {scale:g} into PostgreSQL ...", file=sys.stderr, flush=True)
        run_script("postgres", pg_url, _load_script(directory, tables, scale))
    finally:
        for table in SCHEMA:
            (directory / f"{table}.csv").unlink(missing_ok=True)
    print(f"tpch: made in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return directory, tables["lineitem"].height
