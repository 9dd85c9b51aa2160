"""Who runs: each contender, the interpreter it runs in, the sources and query families it answers.

Example:
    >>> [c.key for c in CONTENDERS if "tpch" in c.families]
    ['piot_sql', 'piot_sql_unsplit', 'source', 'duckdb']
    >>> label(by_key("source"), "mysql")
    'MariaDB runs the query'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KIND_NAMES = {"postgres": "PostgreSQL", "mysql": "MariaDB", "sqlite": "SQLite"}
ALL_KINDS = ("postgres", "mysql", "sqlite")


@dataclass(frozen=True)
class Contender:
    """One way of answering.

    Attributes:
        key: its name on the command line and in the results.
        runner: the child's runner of it (``main.MODULES``).
        title: its column heading (``{db}`` becomes the database's name).
        venv: ``main`` (piot's own), ``pit`` or ``daft``: the interpreter it runs in.
        ray: whether its process starts a local Ray.
        kinds: the database kinds it reads.
        families: ``trades`` and/or ``tpch``.
        options: passed to the runner.
        default: run unless named (``--contenders all``); the others only when named or with ``every``.
    """

    key: str
    runner: str
    title: str
    venv: str
    ray: bool
    kinds: tuple[str, ...]
    families: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)
    default: bool = True


CONTENDERS = (
    Contender("connectorx", "connectorx", "connectorx, one read", "main", False, ALL_KINDS, ("trades",)),
    Contender("piot_sql", "piot_sql", "piot SQL", "main", True, ALL_KINDS, ("trades", "tpch")),
    Contender("piot_sql_unsplit", "piot_sql", "piot SQL, unsplit", "main", True, ("postgres",), ("tpch",), {"split": False}),
    Contender("piot_polars", "piot_polars", "piot Polars API", "main", True, ALL_KINDS, ("trades",)),
    Contender("pit", "pit", "polars-io-tools 0.2.6 (ODBC)", "pit", False, ("postgres",), ("trades",), {"mode": "partitions"}),
    Contender(
        "pit_ray",
        "pit_ray",
        "polars-io-tools 0.2.6 execute_on_ray",
        "pit",
        True,
        ("postgres",),
        ("trades",),
        {"mode": "ray"},
        default=False,
    ),
    Contender("daft", "daft", "Daft read_sql on Ray", "daft", True, ALL_KINDS, ("trades",)),
    Contender("source", "source", "{db} runs the query", "main", False, ALL_KINDS, ("trades", "tpch")),
    Contender("copy", "copy", "binary COPY (transfer limit)", "main", False, ("postgres",), ("trades",)),
    Contender("duckdb", "duckdb", "DuckDB in memory", "main", False, ("postgres",), ("tpch",)),
)

#: The contender every trades ratio is taken against, and the one for TPC-H.
BASELINE = {"trades": "connectorx", "tpch": "source"}
#: Whose answer the others are compared with, in order of preference.
REFERENCES = {"trades": ("connectorx", "source", "piot_sql"), "tpch": ("source", "duckdb", "piot_sql")}


def by_key(key: str) -> Contender:
    """The contender named ``key``."""
    for contender in CONTENDERS:
        if contender.key == key:
            return contender
    raise KeyError(f"unknown contender {key!r} (known: {', '.join(c.key for c in CONTENDERS)})")


def label(contender: Contender, kind: str) -> str:
    """The contender's heading for a database of ``kind``."""
    return contender.title.format(db=KIND_NAMES[kind])


def selected(keys: str) -> list[Contender]:
    """The contenders ``--contenders`` names: ``all`` (the default ones), ``every``, or keys separated by commas.

    >>> [c.key for c in selected("pit,copy")]
    ['pit', 'copy']
    >>> "pit_ray" in [c.key for c in selected("all")], "pit_ray" in [c.key for c in selected("every")]
    (False, True)
    """
    if keys == "all":
        return [c for c in CONTENDERS if c.default]
    if keys == "every":
        return list(CONTENDERS)
    return [by_key(key.strip()) for key in keys.split(",") if key.strip()]
