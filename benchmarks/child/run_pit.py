"""polars-io-tools 0.2.6 (its own venv): ``scan_db`` through ODBC, split by calendar month (or day).

Two ways, the same frame code as piot's Polars API gets (every column of the table, the window
filtered, the shape finished in Polars):

- ``pit`` (``options.mode = "partitions"``): ``scan_db(..., partitions=by_time("trade_date", "1mo"))``,
  polars-io-tools' own split: each period is one query on its own connection, read in threads of
  this process (no Ray), its bounds in the SQL.
- ``pit_ray`` (``options.mode = "ray"``): ``lf.piot.execute_on_ray(date_column=, time_unit=)`` with the
  window filtered after it. Filtered before it, 0.2.6 raises "Could not derive partitions" on a
  Date column; filtered after it, every task sends the whole window's SQL and keeps its period in
  Polars (seen in PostgreSQL's statement log), so the rows read grow with the square of the range.

The ODBC data source is the harness's own ``odbc.ini`` (``ODBCSYSINI``/``ODBCINI``).
``max_text_size=255`` goes to arrow-odbc (``scan_db`` passes its keyword arguments on): psqlODBC
declares TEXT columns 8,190 bytes wide, and Polars asks for batches of 100,000 rows, so without a
cap every read first allocates and clears buffers of that size (measured: 4.1 s instead of 0.25 s
for one month of 200,000 trades). The trades' texts are a few characters long.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

MAX_TEXT_SIZE = 255
EVERY = {"monthly": "1mo", "daily": "1d", "yearly": "1y"}


class Runner:
    """Prepares each query for ``pit`` or ``pit_ray``."""

    def __init__(self, job: dict[str, Any]) -> None:
        import polars_io_tools

        self.pit = polars_io_tools
        self.mode = job.get("options", {}).get("mode", "partitions")

    def prepare(self, query: dict[str, Any]) -> Callable[[], Any]:
        """The run of ``query``."""
        import polars as pl
        from finish import finish

        start, end = dt.date.fromisoformat(query["start"]), dt.date.fromisoformat(query["end"])
        window = (pl.col("trade_date") >= start) & (pl.col("trade_date") < end)

        def run() -> Any:
            if self.mode == "ray":
                frame = self.pit.scan_db(query["table_sql"], query["odbc"], max_text_size=MAX_TEXT_SIZE)
                rows = frame.piot.execute_on_ray(date_column="trade_date", time_unit=query["unit"]).filter(window)
            else:
                split = self.pit.by_time("trade_date", EVERY[query["unit"]])
                frame = self.pit.scan_db(query["table_sql"], query["odbc"], partitions=split, max_text_size=MAX_TEXT_SIZE)
                rows = frame.filter(window)
            return finish(rows, query["shape"], query["columns"]).collect()

        return run

    def close(self) -> None:
        """Nothing to close."""

    def peak_override(self) -> float | None:
        """The peak is this process's own."""
        return None
