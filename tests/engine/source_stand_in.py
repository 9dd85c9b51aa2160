"""DuckDB standing in for a source in tests that plan without a server: it runs a fragment's SQL over a frame."""

from __future__ import annotations

import duckdb
import polars as pl

from piot.plan.fragments import Fragment, Scan
from piot.run.task import finish_fragment


def read_like_the_source(fragment: Fragment, scan: Scan, table: pl.DataFrame) -> pl.DataFrame:
    """One fragment's rows as its source would send them (``table`` is the source's table), exactly filtered."""
    con = duckdb.connect()
    con.register("piot_table", table)
    con.execute("create schema public")
    for schema in ("public", "main"):
        con.execute(f"create table {schema}.t as select * from piot_table")
    read = con.sql(fragment.sql).pl().cast(dict(scan.schema))
    if fragment.exact_filter:
        read = pl.SQLContext(fragment=read).execute(f"SELECT * FROM fragment WHERE {fragment.exact_filter}", eager=True)
    return read


def shipped(scan: Scan, table: pl.DataFrame) -> pl.DataFrame:
    """What every fragment of ``scan`` ships to the merge, concatenated: read by DuckDB, finished as its task would."""
    frames = [finish_fragment(read_like_the_source(f, scan, table), f, scan.output.task_sql) for f in scan.fragments]
    return pl.concat(frames, how="vertical") if frames else pl.DataFrame(schema=dict(scan.output_schema))
