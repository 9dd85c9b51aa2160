"""Find out quickly why a source does not connect: unreachable, silent, or refusing the login.

connectorx's connection pool retries a failing connection for 30 s before it reports, and
a server that accepts and never answers holds it as long. A read that has not finished
shortly after it started is therefore checked here, with piot's own bounded steps:

1. a TCP connection with a socket timeout (refused, unreachable, unknown host);
2. the first bytes of the server's protocol (PostgreSQL answers an SSL request with one
   byte, MariaDB/MySQL greet first): a server that accepts and never answers is caught here;
3. one direct connection by the driver, outside the pool (connectorx's ``partition_sql``
   connects without retrying), which reports a wrong password or a missing database at once.
   It runs only once the server has answered step 2, because it holds the GIL while it waits.

SQLite files are opened read-only with :mod:`sqlite3` instead.
"""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import struct
import time
from urllib.parse import parse_qsl, urlencode, urlsplit

from sqlglot import exp

from piot.connectors.catalog import Source
from piot.connectors.driver import connectorx

#: the port a URL without one reaches, per source kind.
DEFAULT_PORTS = {"postgres": 5432, "mysql": 3306, "mssql": 1433, "oracle": 1521}
#: what opens the conversation with a server of each kind (None: the server speaks first).
_SSL_REQUEST = struct.pack("!ii", 8, 80877103)  # PostgreSQL's SSLRequest: answered by one byte
_OPENERS: dict[str, bytes | None] = {"postgres": _SSL_REQUEST, "mysql": None}
#: the driver-level connection check, per kind: extra URL parameters for the direct connection.
_DIRECT_PARAMETERS: dict[str, dict[str, str]] = {"postgres": {}, "mysql": {"pool_min": "1", "pool_max": "1"}}


def diagnose(source: Source, budget: float) -> str | None:
    """Why ``source`` cannot serve a read, found within about ``budget`` seconds; None if it can.

    Returns a short reason naming host and port but never the password, e.g.
    ``cannot connect to 127.0.0.1:1: connection refused``.
    """
    if source.kind.name == "sqlite":
        return _sqlite_reason(source)
    parts = urlsplit(source.url)
    host = parts.hostname
    try:
        port = parts.port or DEFAULT_PORTS.get(source.kind.name)
    except ValueError:
        return "the URL's port is not a number"
    if not host or not port:
        return None  # a Unix socket or a driver-specific address: nothing to check here
    deadline = time.monotonic() + budget
    reason = _network_reason(host, port, source.kind.name, budget, source.connect_timeout or budget)
    if reason is not None or source.kind.name not in _DIRECT_PARAMETERS:
        return reason
    return _login_reason(source, max(0.5, deadline - time.monotonic()))


def _network_reason(host: str, port: int, kind: str, budget: float, shown: float) -> str | None:
    where = f"{host}:{port}"
    try:
        connection = socket.create_connection((host, port), timeout=budget)
    except socket.gaierror:
        return f"cannot resolve the host name {host!r}"
    except TimeoutError:
        return f"cannot connect to {where}: no answer within the connect_timeout of {shown:g} s"
    except OSError as e:
        return f"cannot connect to {where}: {(e.strerror or type(e).__name__).lower()}"
    with connection:
        if kind not in _OPENERS:
            return None
        try:
            opener = _OPENERS[kind]
            if opener is not None:
                connection.sendall(opener)
            if not connection.recv(1):
                return f"{where} closed the connection without answering"
        except TimeoutError:
            return f"{where} accepted the connection but did not answer within the connect_timeout of {shown:g} s"
        except OSError as e:
            return f"{where} broke the connection: {(e.strerror or type(e).__name__).lower()}"
    return None


def _login_reason(source: Source, budget: float) -> str | None:
    parts = urlsplit(source.connectorx_url)
    parameters = dict(_DIRECT_PARAMETERS[source.kind.name])
    if source.kind.name == "postgres":
        parameters["connect_timeout"] = str(max(1, round(budget)))
    # appended to the URL's own parameters as they are written: decoding and re-encoding
    # them could change them (a ``+`` in ``options=-c+...``)
    given = {name for name, _ in parse_qsl(parts.query, keep_blank_values=True)}
    added = urlencode({name: value for name, value in parameters.items() if name not in given})
    url = parts._replace(query="&".join(q for q in (parts.query, added) if q)).geturl()
    probe = exp.select(exp.alias_(exp.Literal.number(1), "x")).sql(dialect=source.kind.dialect)
    try:
        connectorx().partition_sql(url, probe, "x", 1)
    except BaseException as e:  # connectorx raises RuntimeError, and Rust panics as PanicException
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        text = str(e).strip()
        reason = text.splitlines()[0] if text else type(e).__name__
    else:
        return None
    return source.redact(reason)


def _sqlite_reason(source: Source) -> str | None:
    path = source.url.split("://", 1)[1]
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0)) as handle:
            handle.execute("SELECT count(*) FROM sqlite_master").fetchall()
    except sqlite3.Error as e:
        return f"cannot open the SQLite file {path!r}: {e}"
    return None

