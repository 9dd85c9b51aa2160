"""The jobs handed to contender processes: each query as every kind of reader needs it.

Example:
    >>> from harness.queries import trades_queries
    >>> q = trades_job_query(trades_queries()[1], "sqlite", "sqlite:///d/trades.db", "trades", "daft", None)
    >>> q["url"], q["periods"], q["piot_sql"]
    ('sqlite:////d/trades.db', 3, "SELECT trade_id, trade_date, ts, symbol, region, qty, price FROM src.trades WHERE trade_date >= '2023-01-01' AND trade_date < '2023-04-01'")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.contenders import Contender
from harness.queries import TpchQuery, TradesQuery, table_sql

DIALECTS = {"postgres": "postgres", "mysql": "mysql", "sqlite": "sqlite"}
#: The name of the one source in the catalogs piot gets.
SOURCE = "src"


def trades_catalog(url: str, table: str) -> dict[str, Any]:
    """piot's catalog: one source holding the trades, split on trade_date (the unit is the connection's)."""
    return {"sources": {SOURCE: {"url": url, "tables": {table: {"date_column": "trade_date"}}}}}


def tpch_catalog(url: str, schema: str) -> dict[str, Any]:
    """piot's catalog over TPC-H in PostgreSQL, split on l_shipdate and o_orderdate."""
    tables = {f"{schema}.lineitem": {"date_column": "l_shipdate"}, f"{schema}.orders": {"date_column": "o_orderdate"}}
    return {"sources": {SOURCE: {"url": url, "tables": tables}}}


def reader_url(url: str, kind: str, contender_key: str) -> str:
    """Daft opens SQLite through SQLAlchemy too, which wants four slashes before an absolute path."""
    if contender_key == "daft" and kind == "sqlite" and url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        return "sqlite:////" + url[len("sqlite:///") :]
    return url


def trades_job_query(query: TradesQuery, kind: str, url: str, table: str, contender_key: str, odbc: str | None) -> dict[str, Any]:
    """Everything any trades contender needs for ``query`` on the database of ``kind``."""
    dialect = DIALECTS[kind]
    return {
        "name": query.name,
        "family": "trades",
        "kind": kind,
        "shape": query.shape,
        "start": query.start.isoformat(),
        "end": query.end.isoformat(),
        "unit": query.unit,
        "periods": query.periods,
        "columns": list(query.columns),
        "url": reader_url(url, kind, contender_key),
        "sql": query.sql(table, dialect),
        "rows_sql": query.rows_sql(table, dialect),
        "window_sql": query.window_sql(table, dialect),
        "table_sql": table_sql(table, dialect),
        "piot_sql": query.sql(f"{SOURCE}.{table}", "postgres"),
        "catalog": trades_catalog(url, table),
        "odbc": odbc,
    }


def tpch_job_query(query: TpchQuery, url: str, schema: str, contender_key: str) -> dict[str, Any]:
    """Everything a TPC-H contender needs: DuckDB gets the bare names, PostgreSQL the schema's, piot the source's."""
    return {
        "name": query.name,
        "family": "tpch",
        "kind": "postgres",
        "url": url,
        "sql": query.bare_sql if contender_key == "duckdb" else query.schema_sql,
        "piot_sql": query.piot_sql,
        "catalog": tpch_catalog(url, schema),
        "unit": None,
    }


def job(
    contender: Contender, queries: list[dict[str, Any]], repeat: int, out_dir: Path, num_cpus: int, **options: Any
) -> dict[str, Any]:
    """The job of one contender process."""
    return {
        "contender": contender.runner,
        "options": {**contender.options, **options},
        "repeat": repeat,
        "out_dir": str(out_dir),
        "ray": contender.ray,
        "num_cpus": num_cpus,
        "queries": queries,
    }
