"""piot's two front-ends: SQL through the DB-API, and the Polars API (``scan_db`` + ``execute_on_ray``).

- ``piot_sql``: one connection per split unit (kept warm: the catalog's columns are read once),
  ``cursor.execute(sql).fetch_polars()``; ``options.split = false`` reads each table in one fragment.
- ``piot_polars``: ``piot.scan_db(all columns of the table)``, the window filtered before
  ``lf.piot.execute_on_ray(date_column=, time_unit=)``, the query's shape finished after it in
  Polars; the frame is built inside each run (``scan_db`` reads the schema when called).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any


class Runner:
    """Prepares each query for ``piot_sql`` or ``piot_polars``."""

    def __init__(self, job: dict[str, Any]) -> None:
        import piot

        self.piot = piot
        self.name = job["contender"]
        self.options = job.get("options", {})
        self.connections: dict[str, Any] = {}

    def prepare(self, query: dict[str, Any]) -> Callable[[], Any]:
        """The run of ``query``."""
        if self.name == "piot_sql":
            return self._sql(query)
        if self.name == "piot_polars":
            return self._polars(query)
        raise ValueError(f"unknown contender {self.name}")

    def _connection(self, catalog: dict[str, Any], unit: str | None) -> Any:
        key = unit or "auto"
        if key not in self.connections:
            split = bool(self.options.get("split", True))
            self.connections[key] = self.piot.connect(catalog, time_unit=unit, split=split)
        return self.connections[key]

    def _sql(self, query: dict[str, Any]) -> Callable[[], Any]:
        connection = self._connection(query["catalog"], query.get("unit"))

        def run() -> Any:
            cursor = connection.cursor()
            cursor.execute(query["piot_sql"])
            return cursor.fetch_polars()

        return run

    def _polars(self, query: dict[str, Any]) -> Callable[[], Any]:
        import polars as pl
        from finish import finish

        start, end = dt.date.fromisoformat(query["start"]), dt.date.fromisoformat(query["end"])

        def run() -> Any:
            frame = self.piot.scan_db(query["table_sql"], connection=query["url"])
            window = frame.filter((pl.col("trade_date") >= start) & (pl.col("trade_date") < end))
            on_ray = window.piot.execute_on_ray(date_column="trade_date", time_unit=query["unit"])
            return finish(on_ray, query["shape"], query["columns"]).collect()

        return run

    def close(self) -> None:
        """Close the connections."""
        for connection in self.connections.values():
            connection.close()

    def peak_override(self) -> float | None:
        """The peak is this process's own."""
        return None
