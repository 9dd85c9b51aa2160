"""polars-io-tools 0.2.6 (its own venv): ``scan_db`` through ODBC, ``execute_on_ray`` by calendar month.

The frame is the same as piot's Polars API gets: every column of the table, split with the
calendar shortcut (``date_column=``, ``time_unit=``), the window filtered after
``execute_on_ray`` (filtered before it, 0.2.6 raises "Could not derive partitions" on a Date
column), the shape finished in Polars. The ODBC data source comes from the harness's own
``odbc.ini`` (``ODBCSYSINI``/``ODBCINI`` in the environment).

``max_text_size=255`` goes to arrow-odbc (``scan_db`` passes its keyword arguments on): psqlODBC
declares TEXT columns 8,190 bytes wide, and Polars asks for batches of 100,000 rows, so without
a cap every read first allocates and clears buffers of that size (measured: 4.1 s instead of
0.25 s for one month of 200,000 trades). The trades' texts are a few characters long.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

MAX_TEXT_SIZE = 255


class Runner:
    """Prepares each query for ``pit``."""

    def __init__(self, job: dict[str, Any]) -> None:
        import polars_io_tools

        self.pit = polars_io_tools

    def prepare(self, query: dict[str, Any]) -> Callable[[], Any]:
        """The run of ``query``."""
        import polars as pl
        from finish import finish

        start, end = dt.date.fromisoformat(query["start"]), dt.date.fromisoformat(query["end"])

        def run() -> Any:
            frame = self.pit.scan_db(query["table_sql"], query["odbc"], max_text_size=MAX_TEXT_SIZE)
            on_ray = frame.piot.execute_on_ray(date_column="trade_date", time_unit=query["unit"])
            window = on_ray.filter((pl.col("trade_date") >= start) & (pl.col("trade_date") < end))
            return finish(window, query["shape"], query["columns"]).collect()

        return run

    def close(self) -> None:
        """Nothing to close."""

    def peak_override(self) -> float | None:
        """The peak is this process's own."""
        return None
