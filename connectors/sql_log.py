"""See the SQL that scans send to sources: a debugging and testing hook.

Polars runs IO sources on its own threads, so the log is process-wide rather than
tied to the caller's thread or context: while :func:`capture_sql` is open, every
statement any ``scan_db`` frame sends in this process is appended to its list. Ray
tasks started by ``execute_on_ray`` capture their own statements and hand them back,
so the driver's list also holds the SQL run on the workers.

Example:
    >>> with capture_sql() as statements:
    ...     record_sql("SELECT 1")
    >>> statements
    ['SELECT 1']
    >>> record_sql("SELECT 2")  # nobody is listening: dropped
    >>> statements
    ['SELECT 1']
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

__all__ = ["capture_sql", "record_sql"]

_lock = threading.Lock()
_listeners: list[list[str]] = []


@contextmanager
def capture_sql() -> Iterator[list[str]]:
    """Collect, in order, the SQL statements sent to sources while the block runs."""
    statements: list[str] = []
    with _lock:
        _listeners.append(statements)
    try:
        yield statements
    finally:
        with _lock:
            _listeners[:] = [s for s in _listeners if s is not statements]


def record_sql(*statements: str) -> None:
    """Hand statements to every open :func:`capture_sql` block (a no-op when none is open)."""
    record_many(statements)


def record_many(statements: Iterable[str]) -> None:
    """Like :func:`record_sql`, for statements already in a collection."""
    batch = list(statements)
    if not batch:
        return
    with _lock:
        for listener in _listeners:
            listener.extend(batch)
