"""Read SQL results from a source as Arrow with connectorx: the one place connectorx is called.

Every failure becomes a :class:`piot.OperationalError` that names the source and,
when given, the fragment's period, with the source's secrets scrubbed from the driver's
text; a value that did not fit in what the source computed (an integer out of range, a
division by zero) is a :class:`piot.DataError`, as the merge reports it. The error carries no chained exception and no frame that held the URL: connectorx
is given the URL inside :func:`_connectorx_read`, whose frame (like connectorx's own, whose
``conn`` argument is the URL) belongs only to the driver's exception, of which only the
scrubbed text is kept.

Reads are bounded: connectorx runs in a thread of its own (it releases the GIL) while
the caller waits, watching the query's deadline and cancel check (:mod:`piot.connectors.limits`).
A read that has not finished shortly after it started has its source checked
(:mod:`piot.connectors.probe`), so a source that is down, silent or refusing the login is
reported within its ``connect_timeout`` instead of after the pool's 30 s of retries.
Where the server has one, a statement timeout is set for the read's session too, so that
the server stops the work when the deadline passes.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

import pyarrow as pa
from sqlglot import exp

from piot.connectors.catalog import Source
from piot.connectors.driver import connectorx
from piot.connectors.limits import ReadControl, current_control
from piot.connectors.probe import diagnose
from piot.errors import DataError, OperationalError

#: how often a waiting read looks at its deadline and cancel check, in seconds.
POLL_SECONDS = 0.05
#: a read still running after this long (or half the connect timeout, if shorter) has its source checked.
CHECK_AFTER_SECONDS = 0.5
#: driver messages that mean the server stopped the statement at its timeout.
_SERVER_TIMEOUT_MARKERS = ("statement timeout", "max_statement_time exceeded", "maximum statement execution time exceeded")


def read_arrow(source: Source, sql: str, *, period: str | None = None) -> pa.Table:
    """Run one read-only ``sql`` on ``source`` and return its rows as an Arrow table.

    Honours the current query's :class:`~piot.connectors.limits.ReadControl` and the
    source's ``connect_timeout`` and ``query_timeout``.

    Args:
        source: the catalog source to read from.
        sql: a single SELECT in the source's own dialect.
        period: the fragment's period, used only in error messages.
    """
    limit = _ReadLimit.of(source, current_control())
    where = f"source {source.name!r}" + (f", period {period}" if period else "")
    pre = _server_timeout_sql(source, limit, where, period)
    table = _bounded_read(source, sql, pre, limit, where, period)
    if isinstance(table, pa.RecordBatchReader):  # newer connectorx versions may stream
        table = table.read_all()
    return table


class _ReadLimit:
    """The deadline of one read: the query's, or the source's query_timeout if that comes first."""

    def __init__(self, deadline: float | None, timeout: float | None, by_source: bool, cancelled: Callable[[], bool]):
        self.deadline, self.timeout, self.by_source, self.cancelled = deadline, timeout, by_source, cancelled

    @classmethod
    def of(cls, source: Source, control: ReadControl) -> _ReadLimit:
        deadline, timeout, by_source = control.deadline, control.query_timeout, False
        if source.query_timeout is not None:
            own = time.monotonic() + source.query_timeout
            if deadline is None or own < deadline:
                deadline, timeout, by_source = own, source.query_timeout, True
        return cls(deadline, timeout, by_source, control.cancelled)

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def message(self) -> str:
        if self.by_source:
            return f"the read ran longer than the source's query_timeout of {self.timeout:g} s"
        return f"query timeout of {self.timeout:g} s exceeded"


#: a server's data exception (PostgreSQL's SQLSTATE class 22, MariaDB's out-of-range errors) in a read's error text
_DATA_EXCEPTION = re.compile(r"(?i)\b(?:out of range|numeric field overflow|division by zero)\b")


def _bounded_read(
    source: Source, sql: str, pre: list[str], limit: _ReadLimit, where: str, period: str | None
) -> Any:
    """Run connectorx in a thread and wait for it, its deadline, its cancel check or its source check."""

    def failure(text: str) -> OperationalError:
        return OperationalError(f"{where}: {text}", source=source.name, period=period)

    if limit.cancelled():
        raise failure("query cancelled")
    remaining = limit.remaining()
    if remaining is not None and remaining <= 0:
        raise failure(limit.message())
    read = _Call(lambda: _connectorx_read(source, sql, pre))
    started = time.monotonic()
    connect_timeout = source.connect_timeout
    check_at = started + min(CHECK_AFTER_SECONDS, connect_timeout / 2) if connect_timeout else None
    check: _Call | None = None
    while not read.finished.wait(POLL_SECONDS):
        now = time.monotonic()
        if limit.cancelled():
            raise failure("query cancelled")
        if limit.deadline is not None and now >= limit.deadline:
            raise failure(limit.message())
        if check is None and check_at is not None and connect_timeout and now >= check_at:
            budget = max(0.1, connect_timeout - (now - started))
            check = _Call(lambda: diagnose(source, budget))
        if check is not None and check.finished.is_set() and check.value is not None:
            raise failure(str(check.value))
    if read.error is None:
        return read.value
    detail = read.error_text(source)
    read.error = None  # nothing of the driver's exception (its frames hold the URL) is kept
    if any(marker in detail for marker in _SERVER_TIMEOUT_MARKERS) and limit.deadline is not None:
        raise failure(limit.message())
    if _DATA_EXCEPTION.search(detail):  # the source computed what it was sent and a value did not fit: as in the merge
        raise DataError(f"{where}: {detail}", source=source.name, period=period)
    raise failure(detail)


class _Call:
    """One call run in a daemon thread: its value, or the text of what it raised."""

    def __init__(self, function: Callable[[], Any]) -> None:
        self.value: Any = None
        self.error: BaseException | None = None
        self.finished = threading.Event()
        self._function = function
        threading.Thread(target=self._run, name="piot-read", daemon=True).start()

    def _run(self) -> None:
        try:
            self.value = self._function()
        except BaseException as e:  # connectorx raises RuntimeError, and Rust panics as PanicException
            self.error = e
        finally:
            self.finished.set()

    def error_text(self, source: Source) -> str:
        text = str(self.error).strip()
        return source.redact(text.splitlines()[0] if text else type(self.error).__name__)


def _connectorx_read(source: Source, sql: str, pre: list[str]) -> pa.Table | pa.RecordBatchReader:
    """The connectorx call itself; only this frame and connectorx's ever hold the URL."""
    setup = list(source.kind.sql.session_statements()) + pre  # MariaDB: a read-only session; then the timeout
    return connectorx().read_sql(source.connectorx_url, sql, return_type="arrow", pre_execution_query=setup or None)


# -- server-side statement timeouts -----------------------------------------------------------
_MYSQL_FLAVOURS: dict[str, str] = {}  # source URL -> "mariadb" or "mysql", learnt once per process


def _server_timeout_sql(source: Source, limit: _ReadLimit, where: str, period: str | None) -> list[str]:
    """The statements that make the server itself stop the read at its deadline (none without one)."""
    remaining = limit.remaining()
    if remaining is None or source.kind.name not in ("postgres", "mysql"):
        return []
    if source.kind.name == "postgres":
        setting, value = "statement_timeout", exp.Literal.number(max(1, int(remaining * 1000)))
        return [_set_sql(setting, value, source.kind.dialect, session=False)]
    flavour = _MYSQL_FLAVOURS.get(source.url)
    if flavour is None:
        version_sql = exp.select(exp.alias_(exp.func("VERSION"), "v")).sql(dialect=source.kind.dialect)
        version = _bounded_read(source, version_sql, [], limit, where, period).column(0).to_pylist()[0]
        flavour = _MYSQL_FLAVOURS.setdefault(source.url, "mariadb" if "mariadb" in str(version).lower() else "mysql")
        remaining = max(0.001, limit.remaining() or 0.001)
    if flavour == "mariadb":  # seconds, with microseconds
        return [_set_sql("max_statement_time", exp.Literal.number(max(0.001, round(remaining, 3))), source.kind.dialect)]
    return [_set_sql("max_execution_time", exp.Literal.number(max(1, int(remaining * 1000))), source.kind.dialect)]


def _set_sql(setting: str, value: exp.Expression, dialect: str, *, session: bool = True) -> str:
    """``SET [SESSION] setting = value`` in ``dialect``, built as an AST.

    >>> _set_sql("statement_timeout", exp.Literal.number(1500), "postgres", session=False)
    'SET statement_timeout = 1500'
    """
    item = exp.SetItem(this=exp.EQ(this=exp.column(setting), expression=value), kind="SESSION" if session else None)
    return exp.Set(expressions=[item]).sql(dialect=dialect)
