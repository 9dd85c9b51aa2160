"""Contenders without Ray: one connectorx read, the database answering, binary COPY, DuckDB in memory.

- ``connectorx``: one connectorx read of the rows the query needs, finished in Polars (the baseline).
- ``source``: the database runs the whole query; connectorx fetches only its result.
- ``copy``: ``psql`` runs ``COPY (rows) TO STDOUT (FORMAT binary)`` into /dev/null: the transfer
  limit of those rows (timed with psql's start, about 10 ms; its peak is psql's own).
- ``duckdb``: DuckDB over the Parquet files loaded into memory once (TPC-H only).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

from measure import first_line


class Runner:
    """Prepares each query of one of the contenders above."""

    def __init__(self, job: dict[str, Any]) -> None:
        self.name = job["contender"]
        self.options = job.get("options", {})
        self.duck: Any = None
        self.copy_peak_mib = 0.0

    def prepare(self, query: dict[str, Any]) -> Callable[[], Any]:
        """The run of ``query``: a function that answers it once."""
        if self.name == "connectorx":
            return self._connectorx(query)
        if self.name == "source":
            return lambda: _read(query["url"], query["sql"])
        if self.name == "copy":
            return self._copy(query)
        if self.name == "duckdb":
            return self._duckdb(query)
        raise ValueError(f"unknown contender {self.name}")

    def _connectorx(self, query: dict[str, Any]) -> Callable[[], Any]:
        import polars as pl
        from finish import finish

        def run() -> Any:
            frame = pl.from_arrow(_read(query["url"], query["rows_sql"]))
            return finish(frame.lazy(), query["shape"], query["columns"]).collect()

        return run

    def _copy(self, query: dict[str, Any]) -> Callable[[], Any]:
        psql = shutil.which("psql")
        if psql is None:
            raise RuntimeError("psql is not installed")
        command = f"COPY ({query['rows_sql']}) TO STDOUT (FORMAT binary)"

        def run() -> None:
            with open(os.devnull, "wb") as sink:
                argv = [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", query["url"], "-c", command]
                process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.PIPE)
                _, status, usage = os.wait4(process.pid, 0)
                process.returncode = os.waitstatus_to_exitcode(status)
                error = process.stderr.read().decode(errors="replace") if process.stderr else ""
                if process.stderr:
                    process.stderr.close()
                if process.returncode != 0:
                    raise RuntimeError(f"psql failed: {error.strip()[:300]}")
            self.copy_peak_mib = max(self.copy_peak_mib, usage.ru_maxrss / 1024)

        return run

    def _duckdb(self, query: dict[str, Any]) -> Callable[[], Any]:
        if self.duck is None:
            import duckdb

            self.duck = duckdb.connect()
            for table, path in self.options["parquet"].items():
                self.duck.execute(f"CREATE TABLE {table} AS SELECT * FROM read_parquet('{path}')")
        return lambda: self.duck.sql(query["sql"]).pl()

    def reset_peak(self) -> None:
        """Forget psql's peak so far (called after the warm-up run)."""
        self.copy_peak_mib = 0.0

    def peak_override(self) -> float | None:
        """For ``copy`` the peak is psql's, not this process's."""
        if self.name != "copy":
            return None
        peak, self.copy_peak_mib = self.copy_peak_mib, 0.0
        return peak

    def close(self) -> None:
        """Close DuckDB."""
        if self.duck is not None:
            self.duck.close()


def _read(url: str, sql: str) -> Any:
    """``sql`` read as Arrow with connectorx."""
    import connectorx

    try:
        return connectorx.read_sql(url, sql, return_type="arrow")
    except Exception as e:  # noqa: BLE001 - any driver error becomes one line
        raise RuntimeError(first_line(e)) from None
