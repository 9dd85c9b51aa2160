"""Daft (its own venv: it pins an older Ray and pyarrow) reading with ``read_sql`` on the Ray runner.

``daft.read_sql`` of the window's rows (every column), ``partition_col="trade_date"`` cut into as
many partitions as the calendar split has periods (Daft splits the column's MIN..MAX evenly),
the shape finished by Daft. On SQLite, whose dates are text, Daft cannot compute date bounds, so
it partitions on ``trade_id`` (which follows the date). Daft reads with connectorx and computes
the bounds through SQLAlchemy: psycopg2 for PostgreSQL, PyMySQL standing in for MySQLdb.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Runner:
    """Prepares each query for ``daft``."""

    def __init__(self, job: dict[str, Any]) -> None:
        import pymysql

        pymysql.install_as_MySQLdb()
        import daft

        daft.set_runner_ray(noop_if_initialized=True)
        self.daft = daft

    def prepare(self, query: dict[str, Any]) -> Callable[[], Any]:
        """The run of ``query``."""
        col = self.daft.col
        partition = "trade_id" if query["kind"] == "sqlite" else "trade_date"

        def run() -> Any:
            frame = self.daft.read_sql(
                query["window_sql"], query["url"], partition_col=partition, num_partitions=query["periods"]
            )
            if query["shape"] == "group_by":
                frame = frame.groupby("region", "symbol").agg(
                    col("qty").sum().alias("volume"), col("qty").count().alias("trades"), col("price").mean().alias("avg_price")
                )
            elif query["shape"] == "top10":
                frame = frame.sort([col("price"), col("trade_id")], desc=[True, False]).limit(10).select(*query["columns"])
            else:
                frame = frame.select(*query["columns"])
            return frame.to_arrow()

        return run

    def close(self) -> None:
        """Nothing to close."""

    def peak_override(self) -> float | None:
        """The peak is this process's own."""
        return None
