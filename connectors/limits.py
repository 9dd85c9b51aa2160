"""How long a read may take and how it is told to stop: the query's deadline and cancel check.

A query sets a :class:`ReadControl` for the reads it makes (:func:`controlled`); every read
in that thread (introspection while planning, fragments inside a Ray task) honours it
without it being passed through each call. Outside a query nothing limits a read but the
source's own ``connect_timeout`` and ``query_timeout``.

Example:
    >>> control = ReadControl.starting(query_timeout=2.0)
    >>> 0 < control.remaining() <= 2.0, ReadControl().remaining()
    (True, None)
    >>> with controlled(control):
    ...     current_control() is control
    True
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

#: seconds a source has to accept a connection and answer, unless the catalog says otherwise.
DEFAULT_CONNECT_TIMEOUT = 4.0


def _never() -> bool:
    return False


@dataclass(frozen=True)
class ReadControl:
    """The limits of the reads of one query.

    Attributes:
        deadline: ``time.monotonic()`` by which the query must be over, None for no limit.
        query_timeout: the timeout the deadline came from, in seconds (for messages).
        cancelled: returns True once the query has been cancelled; polled while reads wait.
    """

    deadline: float | None = None
    query_timeout: float | None = None
    cancelled: Callable[[], bool] = field(default=_never, compare=False)

    @classmethod
    def starting(cls, query_timeout: float | None = None, cancelled: Callable[[], bool] = _never) -> ReadControl:
        """The control of a query that starts now and may run ``query_timeout`` seconds."""
        deadline = None if query_timeout is None else time.monotonic() + query_timeout
        return cls(deadline, query_timeout, cancelled)

    def remaining(self) -> float | None:
        """Seconds left before the deadline (0.0 once past), None without a deadline."""
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())


_CONTROL: contextvars.ContextVar[ReadControl] = contextvars.ContextVar("piot_read_control", default=ReadControl())


def current_control() -> ReadControl:
    """The control of the query this thread is running (no limits outside a query)."""
    return _CONTROL.get()


@contextlib.contextmanager
def controlled(control: ReadControl) -> Iterator[ReadControl]:
    """Run the reads of the ``with`` block under ``control``."""
    token = _CONTROL.set(control)
    try:
        yield control
    finally:
        _CONTROL.reset(token)


def check_timeout_setting(value: object, what: str) -> float | None:
    """A timeout in seconds as given by a user: a positive number, or None / 0 for no limit.

    >>> check_timeout_setting(1.5, "query_timeout"), check_timeout_setting(0, "query_timeout")
    (1.5, None)
    >>> check_timeout_setting("5", "query_timeout")
    Traceback (most recent call last):
    ...
    ValueError: query_timeout must be a number of seconds (0 or none for no limit), not '5'
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or value != value:
        raise ValueError(f"{what} must be a number of seconds (0 or none for no limit), not {value!r}")
    return float(value) or None
