"""The PEP 249 exception hierarchy, shared by every front-end of piot.

Every error piot raises is one of these classes. They pickle across Ray (their
state is their message plus a few plain keyword fields, never a chained exception) and
their messages never hold a secret: text about a source goes through its
:meth:`~piot.connectors.catalog.Source.redact`, and every front door passes what it
raises through :func:`redact_error` with its catalog's secrets.

Example:
    >>> err = ProgrammingError("unknown column 'x'", line=1, col=8)
    >>> str(err)
    "unknown column 'x' (line 1, column 8)"
    >>> isinstance(err, DatabaseError)
    True
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

__all__ = [
    "Warning",
    "Error",
    "InterfaceError",
    "DatabaseError",
    "ProgrammingError",
    "NotSupportedError",
    "OperationalError",
    "DataError",
    "IntegrityError",
    "InternalError",
    "InvalidArgument",
    "RayNotInitialised",
]


class Warning(Exception):  # noqa: A001 - the name is fixed by PEP 249
    """Important warnings, such as data truncation (PEP 249)."""


class Error(Exception):
    """Base class of every piot error.

    Args:
        message: what happened and what to do about it.
        line: 1-based line of the offending SQL token, when the error is about SQL.
        col: 1-based column of that token.
        source: name of the catalog source involved, if any.
        period: the fragment's period as text (``2024-01-01..2024-02-01``), if any.
    """

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        col: int | None = None,
        source: str | None = None,
        period: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col
        self.source = source
        self.period = period

    def __str__(self) -> str:
        if self.line is not None and self.col is not None:
            return f"{self.message} (line {self.line}, column {self.col})"
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        fields = {"line": self.line, "col": self.col, "source": self.source, "period": self.period}
        return (_rebuild, (type(self), self.message, fields))


def _rebuild(cls: type[Error], message: str, fields: dict[str, Any]) -> Error:
    return cls(message, **fields)


class InterfaceError(Error):
    """Misuse of the interface: closed cursor or connection, wrong parameter count."""


class DatabaseError(Error):
    """Errors about the query or the data sources."""


class ProgrammingError(DatabaseError):
    """SQL syntax, unknown table or column, a bad catalog."""


class NotSupportedError(DatabaseError):
    """Anything but a read-only query, or a construct piot cannot run."""


class OperationalError(DatabaseError):
    """A source unreachable or failing, Ray unreachable, a task lost, cancelled."""


class DataError(DatabaseError):
    """Type conversion failures, fragments whose schemas disagree."""


class IntegrityError(DatabaseError):
    """Required by PEP 249; piot never writes, so it is never raised."""


class InternalError(DatabaseError):
    """A planner invariant was broken: a bug in piot."""


def redact_error(error: Error, redact: Callable[[str], str]) -> Error:
    """``error`` itself, its message passed through ``redact`` (a catalog's or a source's ``redact``), then :func:`shortened`.

    >>> redact_error(OperationalError("password pw rejected"), lambda t: t.replace("pw", "***")).message
    'password *** rejected'
    """
    error.message = shortened(redact(error.message))
    error.args = (error.message,)
    return error


#: the longest word (a literal, a name) an error message shows whole, and the longest message
LONGEST_WORD, LONGEST_MESSAGE = 120, 2000


def shortened(message: str) -> str:
    """``message`` with every word longer than :data:`LONGEST_WORD` cut in its middle and the whole cut at :data:`LONGEST_MESSAGE`.

    A 5,000-digit literal or a 100,000-item IN list is named, not echoed. Run it on redacted
    text only: a secret cut in two would no longer be recognised.

    >>> shortened("LIMIT " + "9" * 500 + " is out of range")
    'LIMIT 999999999999999999999999999999999999999999999999999999999999…(420 more characters)…99999999999999999999 is out of range'
    >>> len(shortened("x " * 5000)) <= LONGEST_MESSAGE + 40
    True
    """
    words = [
        word if len(word) <= LONGEST_WORD else f"{word[:60]}…({len(word) - 80} more characters)…{word[-20:]}"
        for word in message.split(" ")
    ]
    text = " ".join(words)
    if len(text) > LONGEST_MESSAGE:
        text = f"{text[:LONGEST_MESSAGE]}…({len(text) - LONGEST_MESSAGE} more characters)"
    return text


def unexpected_error(error: BaseException, redact: Callable[[str], str]) -> InternalError:
    """A bug reported as an :class:`InternalError`: its type, redacted text and where it was raised.

    The result is meant to be raised with no chain (the bug's frames may hold anything), so the
    place it came from is named in the message.

    >>> unexpected_error(KeyError("pw"), lambda t: t.replace("pw", "***")).message
    "unexpected KeyError while running the query (a bug in piot): '***'"
    """
    frames = traceback.extract_tb(error.__traceback__) if error.__traceback__ is not None else []
    where = f" at {frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name}" if frames else ""
    return InternalError(redact(f"unexpected {type(error).__name__} while running the query (a bug in piot): {error}{where}"))


class InvalidArgument(ProgrammingError, ValueError, TypeError):
    """An argument of a Python call is invalid: a ProgrammingError that is also a ValueError and a TypeError.

    Code written for Polars-style APIs catches ``ValueError`` / ``TypeError``; piot's own
    hierarchy catches it as a ProgrammingError.

    >>> isinstance(InvalidArgument("bad"), (ValueError, TypeError, ProgrammingError))
    True
    """


class RayNotInitialised(OperationalError, RuntimeError):
    """Ray is needed and not running: an OperationalError that is also a RuntimeError."""
