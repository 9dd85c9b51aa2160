"""Read a ``piot://`` URL into the arguments of :func:`piot.connect`.

The URL names the catalog file the way SQLAlchemy's SQLite URLs name a database file:
``piot:///catalog.toml`` is relative to the working directory, ``piot:////etc/piot.toml``
is absolute (and ``piot:///etc/piot.toml`` too, when no ``etc/piot.toml`` exists here); ``piot://?catalog=PATH`` takes the path as written. Connection options are
query arguments, converted to the types :func:`piot.connect` takes.

Example:
    >>> from sqlalchemy.engine import make_url
    >>> connect_arguments(make_url("piot:////srv/piot.toml?max_concurrency=8&split=false"))
    {'catalog': '/srv/piot.toml', 'max_concurrency': 8, 'split': False}
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlglot
from sqlalchemy import exc
from sqlalchemy.engine import URL

from piot.engine import EngineOptions
from piot.errors import ProgrammingError

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def _boolean(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE | _FALSE:
        return lowered in _TRUE
    raise ValueError(f"expected true or false, not {value!r}")


def _integer(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"expected an integer, not {value!r}") from None


OPTIONS: dict[str, Callable[[str], Any]] = {
    "ray_address": str,
    "dialect": str,
    "time_unit": str,
    "max_concurrency": _integer,
    "return_as": str,
    "split": _boolean,
    "timezone": str,
}


def connect_arguments(url: URL) -> dict[str, Any]:
    """The keyword arguments of :func:`piot.connect` that ``url`` asks for.

    Raises:
        sqlalchemy.exc.ArgumentError: a server part in the URL, an unknown or repeated
            option, a value of the wrong type, or a value piot refuses.
    """
    if url.host or url.username or url.password or url.port:
        raise exc.ArgumentError(
            "a piot URL names a catalog file, not a server: write piot:///relative/catalog.toml, "
            "piot:////absolute/catalog.toml or piot://?catalog=PATH"
        )
    arguments: dict[str, Any] = {}
    query = dict(url.query)
    catalog = query.pop("catalog", None)
    if catalog is not None and url.database:
        raise exc.ArgumentError("the catalog is given twice: in the URL path and as ?catalog=")
    if catalog is None and url.database:
        catalog = _catalog_path(url.database)
    if isinstance(catalog, tuple):
        raise exc.ArgumentError("the catalog option is given more than once")
    if catalog:
        arguments["catalog"] = catalog
    for name, value in query.items():
        convert = OPTIONS.get(name)
        if convert is None:
            known = ", ".join(["catalog", *OPTIONS])
            raise exc.ArgumentError(f"unknown piot URL option {name!r} (known: {known})")
        if isinstance(value, tuple):
            raise exc.ArgumentError(f"piot URL option {name!r} is given more than once")
        try:
            arguments[name] = convert(value)
        except ValueError as e:
            raise exc.ArgumentError(f"piot URL option {name!r}: {e}") from None
    check_options(arguments)
    return arguments


def check_options(arguments: dict[str, Any]) -> None:
    """Refuse, before any connection is made, the option values piot would refuse.

    The ``dialect`` must be one that reads double-quoted identifiers, because that is
    how the compiled statements quote them.
    """
    options = {key: value for key, value in arguments.items() if key in OPTIONS}
    try:
        EngineOptions(**options)
    except ProgrammingError as e:
        raise exc.ArgumentError(f"piot URL option: {e.message}") from None
    dialect = options.get("dialect")
    if dialect is not None and '"' not in sqlglot.Dialect.get_or_raise(dialect).tokenizer_class.IDENTIFIERS:
        raise exc.ArgumentError(
            f"piot URL option 'dialect': {dialect!r} does not read double-quoted identifiers, which is how "
            "SQLAlchemy statements are written for piot (use postgres, duckdb, trino, sqlite, ...)"
        )


def _catalog_path(database: str) -> str:
    """The catalog file a URL path names: relative as in SQLite URLs, else absolute if only that exists.

    >>> _catalog_path("no/such/dir/catalog.toml")
    'no/such/dir/catalog.toml'
    """
    relative = Path(database)
    absolute = Path("/" + database.lstrip("/"))
    if not relative.is_absolute() and not relative.exists() and absolute.exists():
        return str(absolute)
    return database
