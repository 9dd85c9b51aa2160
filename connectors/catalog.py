"""The catalog: which sources exist, where they are, and how their tables split.

A catalog is a TOML file or the same structure as a dict::

    [sources.pg]
    url = "postgresql://reader:${PG_PASSWORD}@db.internal:5432/markets"
    connect_timeout = 4           # seconds to connect and get an answer (0: no limit)
    query_timeout = 600           # seconds any one read of this source may run (0: no limit)
    [sources.pg.tables."public.trades"]
    date_column = "trade_date"
    time_unit = "monthly"

``${NAME}`` in a URL is replaced by the environment variable ``NAME``; such values are
secrets like the URL's password, and are never shown. A relative SQLite path is taken
relative to the catalog file. ``system_schemas = true`` in a source's table lets queries
read its system schemas (``pg_catalog``, ``information_schema``, ``mysql``,
``sqlite_master``...), which are refused otherwise.

Example:
    >>> cat = load_catalog({"sources": {"demo": {"url": "sqlite:///tmp/demo.db"}}})
    >>> cat.source("demo").kind.name
    'sqlite'
    >>> cat.source("demo")
    Source(name='demo', url='sqlite:///tmp/demo.db')
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from piot.connectors.kinds import SourceKind, kind_for_url
from piot.connectors.limits import DEFAULT_CONNECT_TIMEOUT, check_timeout_setting
from piot.connectors.redact import redact_text, url_secrets
from piot.errors import ProgrammingError

TIME_UNITS = ("daily", "monthly", "yearly", "auto")

_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class TableSettings:
    """Per-table settings from the catalog.

    Attributes:
        date_column: the column the table is split on.
        time_unit: daily, monthly, yearly or auto; None means the connection's default.
    """

    date_column: str | None = None
    time_unit: str | None = None


@dataclass(frozen=True)
class Source:
    """One database in the catalog. It knows its secrets, and its repr and :attr:`display_url` hide them.

    Attributes:
        name: the source's name in SQL (``pg`` in ``pg.public.trades``).
        url: the connection URL, secrets included: never put it in a message, use :meth:`redact`.
        kind: the kind of database.
        tables: per-table settings from the catalog.
        env_values: values substituted for ``${NAME}`` in the URL, hidden like passwords.
        system_schemas: queries may read the source's system schemas and tables.
        connect_timeout: seconds the source has to accept a connection and answer before
            a read fails with OperationalError; None waits as long as the driver does.
        query_timeout: seconds any one read of this source may run; None for no limit.
    """

    name: str
    url: str = field(repr=False)
    kind: SourceKind = field(repr=False)
    tables: Mapping[str, TableSettings] = field(default_factory=dict, repr=False)
    env_values: tuple[str, ...] = field(default=(), repr=False, compare=False)
    system_schemas: bool = field(default=False, repr=False)
    connect_timeout: float | None = field(default=DEFAULT_CONNECT_TIMEOUT, repr=False)
    query_timeout: float | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"Source(name={self.name!r}, url={self.display_url!r})"

    @property
    def secrets(self) -> frozenset[str]:
        """Every form of the URL's passwords and of the values taken from the environment."""
        return url_secrets(self.url) | frozenset(v for v in self.env_values if v)

    def redact(self, text: str) -> str:
        """``text`` with this source's secrets, in every form, and any URL password replaced by ``***``.

        >>> Source("pg", "postgresql://u:S3cret%40PW@h/db", kind_for_url("postgresql:")).redact("bad password S3cret@PW")
        'bad password ***'
        """
        return redact_text(text, self.secrets)

    @property
    def display_url(self) -> str:
        """The URL as it may be shown: passwords and values from the environment replaced by ``***``."""
        return self.redact(self.url)

    @property
    def connectorx_url(self) -> str:
        """The URL in the form connectorx expects (PostgreSQL sessions read-only)."""
        return self.kind.sql.connectorx_url(self.kind.connectorx_scheme + ":" + self.url.split(":", 1)[1])

    @property
    def password(self) -> str | None:
        """The password after ``user:`` in the URL, as written there (see :attr:`secrets` for all of them)."""
        match = re.match(r"[^:]+://[^:/@]*:(.*)@", self.url)
        return match[1] if match else None

    def settings_for(self, schema: str | None, table: str) -> TableSettings:
        """Settings of ``schema.table`` (or of ``table`` alone), defaults if none were given."""
        for key in (f"{schema}.{table}" if schema else None, table):
            if key and key in self.tables:
                return self.tables[key]
        if schema is None and self.kind.default_schema:
            return self.tables.get(f"{self.kind.default_schema}.{table}", TableSettings())
        return TableSettings()


@dataclass(frozen=True)
class Catalog:
    """All sources by name, plus where the catalog came from (for messages)."""

    sources: Mapping[str, Source]
    origin: str = "<dict>"

    def redact(self, text: str) -> str:
        """``text`` without any source's secrets (see :meth:`Source.redact`)."""
        return redact_text(text, frozenset().union(*(s.secrets for s in self.sources.values())))

    def source(self, name: str) -> Source:
        """The source called ``name``; a :class:`ProgrammingError` listing the known ones if none is."""
        try:
            return self.sources[name]
        except KeyError:
            known = ", ".join(sorted(self.sources)) or "none"
            raise ProgrammingError(f"unknown source {name!r} (the catalog has: {known})") from None


def load_catalog(catalog: str | os.PathLike[str] | Mapping[str, Any] | Catalog) -> Catalog:
    """Read a catalog from a TOML file path or a dict of the same shape.

    Raises:
        ProgrammingError: the file is missing or not valid, or a source is wrong; the error
            has no chained exception and no frame of this module holding the URLs.
    """
    if isinstance(catalog, Catalog):
        return catalog
    loaded = _load(catalog)
    del catalog  # a dict of URLs: the error's traceback must not keep it in this frame
    if isinstance(loaded, ProgrammingError):
        raise loaded
    return loaded


def _load(catalog: str | os.PathLike[str] | Mapping[str, Any]) -> Catalog | ProgrammingError:
    """The catalog, or the error to raise, fresh (no traceback, no chain): frames here hold URLs."""
    try:
        if isinstance(catalog, Mapping):
            return _catalog_from_mapping(catalog, origin="<dict>", base=Path.cwd())
        path = Path(catalog).expanduser()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ProgrammingError(f"catalog file {str(path)!r} does not exist") from None
        except OSError as e:
            raise ProgrammingError(f"catalog file {str(path)!r} cannot be read: {e.strerror}") from None
        except tomllib.TOMLDecodeError as e:
            raise ProgrammingError(f"catalog file {str(path)!r} is not valid TOML: {e}") from None
        return _catalog_from_mapping(data, origin=str(path), base=path.resolve().parent)
    except ProgrammingError as e:
        return ProgrammingError(e.message)


def _catalog_from_mapping(data: Mapping[str, Any], *, origin: str, base: Path) -> Catalog:
    sources_data = data.get("sources")
    if not isinstance(sources_data, Mapping) or not sources_data:
        raise ProgrammingError(f"catalog {origin}: needs a [sources.NAME] table with a url")
    sources = {name: _source(name, spec, origin, base) for name, spec in sources_data.items()}
    return Catalog(sources=sources, origin=origin)


def _source(name: str, spec: Any, origin: str, base: Path) -> Source:
    where = f"catalog {origin}, source {name!r}"
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ProgrammingError(f"{where}: a source name must be an SQL identifier (letters, digits, _)")
    if not isinstance(spec, Mapping) or not isinstance(spec.get("url"), str):
        raise ProgrammingError(f"{where}: needs url = \"...\"")
    url, env_values = _expand_env(spec["url"], where)
    try:
        kind = kind_for_url(url)
    except ProgrammingError as e:  # its message names the scheme only; load_catalog drops the chain
        raise ProgrammingError(f"{where}: {e.message}") from None
    if kind.name == "sqlite":
        url = _absolute_sqlite_url(url, base)
    tables_spec = spec.get("tables", {})
    if not isinstance(tables_spec, Mapping):
        raise ProgrammingError(f"{where}: tables must be a table of per-table settings")
    tables = {key: _table_settings(value, f"{where}, table {key!r}") for key, value in tables_spec.items()}
    system_schemas = spec.get("system_schemas", False)
    if not isinstance(system_schemas, bool):
        raise ProgrammingError(f"{where}: system_schemas must be true or false")
    try:
        connect_timeout = check_timeout_setting(spec.get("connect_timeout", DEFAULT_CONNECT_TIMEOUT), "connect_timeout")
        query_timeout = check_timeout_setting(spec.get("query_timeout"), "query_timeout")
    except ValueError as e:
        raise ProgrammingError(f"{where}: {e}") from None
    return Source(
        name=name,
        url=url,
        kind=kind,
        tables=tables,
        env_values=env_values,
        system_schemas=system_schemas,
        connect_timeout=connect_timeout,
        query_timeout=query_timeout,
    )


def _table_settings(spec: Any, where: str) -> TableSettings:
    if not isinstance(spec, Mapping):
        raise ProgrammingError(f"{where}: expected date_column and/or time_unit")
    unknown = set(spec) - {"date_column", "time_unit"}
    if unknown:
        raise ProgrammingError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    time_unit = spec.get("time_unit")
    if time_unit is not None and time_unit not in TIME_UNITS:
        raise ProgrammingError(f"{where}: time_unit must be one of {', '.join(TIME_UNITS)}")
    return TableSettings(date_column=spec.get("date_column"), time_unit=time_unit)


def _expand_env(url: str, where: str) -> tuple[str, tuple[str, ...]]:
    """The URL with ``${NAME}`` replaced by the environment's values, and those values (secrets)."""
    names = _ENV_REFERENCE.findall(url)
    missing = [name for name in names if os.environ.get(name) is None]
    if missing:
        raise ProgrammingError(f"{where}: environment variable {missing[0]} is not set")
    values = tuple(os.environ[name] for name in names)
    return _ENV_REFERENCE.sub(lambda m: os.environ[m[1]], url), values


def _absolute_sqlite_url(url: str, base: Path) -> str:
    """``sqlite://demo.db`` or ``sqlite:demo.db`` relative to the catalog; ``sqlite:///abs/path`` as is."""
    path = url.split(":", 1)[1]
    path = path[2:] if path.startswith("//") else path
    path = re.sub(r"^/+", "/", path)  # sqlite:////abs/path (SQLAlchemy's form) is /abs/path too
    resolved = Path(path) if Path(path).is_absolute() else (base / path).resolve()
    return f"sqlite://{resolved}"
