"""Read SQL results from a source as Arrow with connectorx: the one place connectorx is called.

Every failure becomes a :class:`piot.OperationalError` that names the source and,
when given, the fragment's period, with the password scrubbed from the driver's text.
"""

from __future__ import annotations

import connectorx
import pyarrow as pa

from piot.connectors.catalog import Source
from piot.connectors.redact import redact_text
from piot.errors import OperationalError


def read_arrow(source: Source, sql: str, *, period: str | None = None) -> pa.Table:
    """Run one read-only ``sql`` on ``source`` and return its rows as an Arrow table.

    Args:
        source: the catalog source to read from.
        sql: a single SELECT in the source's own dialect.
        period: the fragment's period, used only in error messages.
    """
    try:
        table = connectorx.read_sql(source.connectorx_url, sql, return_type="arrow")
    except BaseException as e:  # connectorx raises RuntimeError, and Rust panics as PanicException
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        detail = redact_text(str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__, [source.password or ""])
        where = f"source {source.name!r}" + (f", period {period}" if period else "")
        raise OperationalError(f"{where}: {detail}", source=source.name, period=period) from None
    if isinstance(table, pa.RecordBatchReader):  # newer connectorx versions may stream
        table = table.read_all()
    return table
