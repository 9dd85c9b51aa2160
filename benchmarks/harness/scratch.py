"""A scratch database of the benchmark scripts' own on the PostgreSQL and MariaDB servers, dropped when they finish."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "engine"))
from corpus_data import run_cli  # noqa: E402 - the tests' own client calls


def with_database(url: str, database: str) -> str:
    """``url`` naming ``database`` instead of its own.

    >>> with_database("postgresql://postgres@127.0.0.1:5432/test", "piot_bench")
    'postgresql://postgres@127.0.0.1:5432/piot_bench'
    """
    return urlsplit(url)._replace(path="/" + database).geturl()


@contextmanager
def scratch_databases(database: str, pg_admin: str, mysql_admin: str) -> Iterator[tuple[str, str]]:
    """A fresh ``database`` on each server (URLs of both), dropped on the way out."""
    drop_pg = f"DROP DATABASE IF EXISTS {database} WITH (FORCE);"
    drop_my = f"DROP DATABASE IF EXISTS {database};"
    try:
        run_cli("postgres", pg_admin, f"{drop_pg}\nCREATE DATABASE {database};")
        run_cli("mysql", mysql_admin, f"{drop_my}\nCREATE DATABASE {database};")
        yield with_database(pg_admin, database), with_database(mysql_admin, database)
    finally:
        run_cli("postgres", pg_admin, drop_pg)
        run_cli("mysql", mysql_admin, drop_my)
