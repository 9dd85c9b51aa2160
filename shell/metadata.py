"""Names for completion — sources, tables, columns — loaded by a background thread.

The completer only ever reads the latest :class:`Metadata` snapshot, so typing never
waits for a database. Columns come through the connection's schema cache, which also
saves the planner that trip when the table is queried.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from piot.connectors.introspect import list_tables
from piot.dbapi.catalog_statements import written_name
from piot.dbapi.connection import Connection
from piot.errors import Error
from piot.shell.statements import one_line

#: tables per source whose columns are loaded up front; others load when a query names them.
EAGER_TABLES = 200


@dataclass(frozen=True)
class Metadata:
    """What the completer knows, all names as a user writes them.

    Attributes:
        sources: the catalog's source names.
        tables: per source, its tables as written after ``source.`` (``trades``, ``sales.orders``).
        columns: per qualified table in lower case (``markets.trades``), its column names.
        errors: per source, why its tables could not be listed.
    """

    sources: tuple[str, ...] = ()
    tables: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)

    def qualified_tables(self) -> list[str]:
        """Every table as ``source.table``.

        >>> Metadata(("m",), {"m": ("a", "b")}).qualified_tables()
        ['m.a', 'm.b']
        """
        return [f"{source}.{table}" for source in self.sources for table in self.tables.get(source, ())]


class MetadataLoader:
    """Loads table lists, then columns, in a daemon thread; requested tables jump the queue."""

    def __init__(self, connection: Connection, *, eager_tables: int = EAGER_TABLES) -> None:
        self.connection = connection
        self.eager_tables = eager_tables
        catalog = connection.engine.catalog
        self._metadata = Metadata(sources=tuple(sorted(catalog.sources)))
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._todo: collections.deque[tuple[str, ...]] = collections.deque()
        self._busy = False
        self._thread: threading.Thread | None = None

    @property
    def metadata(self) -> Metadata:
        """The latest snapshot (never blocks)."""
        return self._metadata

    def start(self) -> None:
        """Queue every source's table list and start the thread."""
        with self._lock:
            self._todo.extend(("source", name) for name in self._metadata.sources)
            self._wake.notify()
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="piot-metadata", daemon=True)
                self._thread.start()

    def refresh(self) -> None:
        """Forget what was loaded and load it again (``\\refresh``)."""
        with self._lock:
            self._todo.clear()
            self._metadata = Metadata(sources=self._metadata.sources)
        self.start()

    def request(self, qualified: str) -> None:
        """Load the columns of ``source.table`` (as written) soon, if not known yet."""
        key = qualified.lower()
        source, _, rest = qualified.partition(".")
        if not rest or key in self._metadata.columns or source not in self._metadata.sources:
            return
        schema, _, table = rest.rpartition(".")
        with self._lock:
            self._todo.appendleft(("table", source, schema, table))
            self._wake.notify()

    def wait(self, timeout: float = 10.0) -> bool:
        """Block until nothing is left to load (for tests); False on timeout."""
        with self._lock:
            return self._wake.wait_for(lambda: not self._todo and not self._busy, timeout)

    def _loop(self) -> None:
        while True:
            with self._lock:
                self._busy = False
                self._wake.notify_all()
                self._wake.wait_for(lambda: bool(self._todo))
                task = self._todo.popleft()
                self._busy = True
            try:
                if task[0] == "source":
                    self._load_source(task[1])
                else:
                    self._load_table(task[1], task[2] or None, task[3])
            except Error as e:
                if task[0] == "source":
                    self._update(errors={**self._metadata.errors, task[1]: one_line(str(e))})
            except Exception:  # a completion list is never worth a crash
                pass

    def _load_source(self, name: str) -> None:
        source = self.connection.engine.catalog.source(name)
        default = source.kind.default_schema
        pairs = list_tables(source)
        names = tuple(written_name(schema, table, default) for schema, table in pairs)
        self._update(tables={**self._metadata.tables, name: names})
        with self._lock:
            for schema, table in pairs[: self.eager_tables]:
                shown = schema if schema is not None and schema != default else ""
                self._todo.append(("table", name, shown, table))

    def _load_table(self, source: str, schema: str | None, table: str) -> None:
        key = ".".join(p for p in (source, schema, table) if p).lower()
        if key in self._metadata.columns:
            return
        info = self.connection.engine.schemas.table(source, schema, table)
        self._update(columns={**self._metadata.columns, key: tuple(c.name for c in info.columns)})

    def _update(self, **changes: object) -> None:
        with self._lock:
            self._metadata = replace(self._metadata, **changes)  # type: ignore[arg-type]
