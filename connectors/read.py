"""Read SQL results from a source as Arrow with connectorx: the one place connectorx is called.

Every failure becomes a :class:`piot.OperationalError` that names the source and,
when given, the fragment's period, with the source's secrets scrubbed from the driver's
text. The error carries no chained exception and no frame that held the URL: connectorx
is given the URL inside :func:`_connectorx_read`, whose frame (like connectorx's own, whose
``conn`` argument is the URL) belongs only to the driver's exception, which is dropped
before the piot error is raised.
"""

from __future__ import annotations

import connectorx
import pyarrow as pa

from piot.connectors.catalog import Source
from piot.errors import OperationalError


def read_arrow(source: Source, sql: str, *, period: str | None = None) -> pa.Table:
    """Run one read-only ``sql`` on ``source`` and return its rows as an Arrow table.

    Args:
        source: the catalog source to read from.
        sql: a single SELECT in the source's own dialect.
        period: the fragment's period, used only in error messages.
    """
    failure: str | None = None
    interrupted: BaseException | None = None
    try:
        table = _connectorx_read(source, sql)
    except (KeyboardInterrupt, SystemExit) as e:
        interrupted = type(e)(*e.args)  # the same interrupt, without the traceback through connectorx
    except BaseException as e:  # connectorx raises RuntimeError, and Rust panics as PanicException
        text = str(e).strip()
        failure = source.redact(text.splitlines()[0] if text else type(e).__name__)
    # Raised here, after the except blocks: the driver's exception (whose traceback holds the
    # URL in connectorx's frame) is neither the __context__ nor the __cause__ of what we raise.
    if interrupted is not None:
        raise interrupted
    if failure is not None:
        where = f"source {source.name!r}" + (f", period {period}" if period else "")
        raise OperationalError(f"{where}: {failure}", source=source.name, period=period)
    if isinstance(table, pa.RecordBatchReader):  # newer connectorx versions may stream
        table = table.read_all()
    return table


def _connectorx_read(source: Source, sql: str) -> pa.Table | pa.RecordBatchReader:
    """The connectorx call itself; only this frame and connectorx's ever hold the URL."""
    setup = list(source.kind.sql.session_statements()) or None  # MariaDB: a read-only session
    return connectorx.read_sql(source.connectorx_url, sql, return_type="arrow", pre_execution_query=setup)
