"""The databases a fuzz run queries: the corpus tables in SQLite, PostgreSQL and MariaDB.

The same rows as the engine corpus (tests/engine/corpus_data.py) are loaded into a SQLite file
and into databases of the run's own on both servers (named like the corpus suite's, so that an
interrupted run's leftovers are dropped by the next test session). PostgreSQL holds the rows
once more for the oracle: every fuzzed query is answered by PostgreSQL over the same rows,
whichever source piot reads them from, because piot's answers are PostgreSQL's (design.md,
section 3). The oracle's database is read-only and has a statement timeout, so a fuzzed query
cannot write or run forever there.

The PostgreSQL source's URL carries a password (the server trusts local connections and
ignores it), so that every error message can be searched for it.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))

import corpus_data as corpus  # noqa: E402 - the engine corpus's rows and comparisons, shared by the fuzz modules
from corpus_data import SYMBOLS, TRADES, load_script, run_cli, write_sqlite  # noqa: E402

PG_ADMIN_URL = os.environ.get("PIOT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
MYSQL_ADMIN_URL = os.environ.get("PIOT_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
#: a password only the PostgreSQL source's URL carries: no message may ever show it
SECRET = "Fuzz$ecret@pw"
#: statement timeout of the oracle's database (ms): a fuzzed query that PostgreSQL cannot answer
#: in this time is inconclusive and not run by piot
ORACLE_TIMEOUT_MS = 8000

#: source kind -> (catalog source name, table key of the trades table, its name in piot's SQL)
SOURCES = {
    "sqlite": ("lite", "trades"),
    "postgres": ("pg", f"public.{TRADES}"),
    "mysql": ("my", TRADES),
}


@dataclass(frozen=True)
class World:
    """Where the fuzzed queries read: the catalog for piot and the oracle's URL.

    Attributes:
        catalog: piot's catalog: per kind a source split on ``trade_date`` and one on ``ts``.
        oracle_url: the PostgreSQL database answering as oracle.
        secrets: the password as written in the catalog and decoded: neither may be shown.
    """

    catalog: dict[str, Any]
    oracle_url: str
    secrets: tuple[str, ...]

    def names(self, trades_kind: str, symbols_kind: str) -> dict[str, str]:
        """Template placeholder -> table name in piot's SQL, the trades and symbols tables from the given kinds."""
        source, key = SOURCES[trades_kind]
        table = key.split(".")[-1]
        return {
            "{trades}": f"{source}.{table}",
            "{trades_ts}": f"{source}_ts.{table}",
            "{symbols}": f"{SOURCES[symbols_kind][0]}.{SYMBOLS}",
        }

    @staticmethod
    def oracle_names() -> dict[str, str]:
        """Template placeholder -> table name in the oracle's SQL."""
        return {"{trades}": TRADES, "{trades_ts}": TRADES, "{symbols}": SYMBOLS}


def _with_database(url: str, database: str) -> str:
    return urlsplit(url)._replace(path="/" + database).geturl()


def _with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username}:{quote(password, safe='')}@{parts.hostname}:{parts.port or 5432}"
    return parts._replace(netloc=netloc).geturl()


def _drop(kind: str, admin_url: str, database: str) -> None:
    run_cli(kind, admin_url, f"DROP DATABASE IF EXISTS {database}" + (" WITH (FORCE);" if kind == "postgres" else ";"))


@contextmanager
def world() -> Iterator[World]:
    """Load the corpus everywhere, yield the :class:`World`, drop the databases at the end."""
    database = f"piot_corpus_{os.getpid()}_{secrets.token_hex(3)}"
    oracle_database = f"piot_corpus_{os.getpid()}_{secrets.token_hex(3)}"
    created: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="piot-fuzz-") as directory:
        try:
            sqlite_path = Path(directory) / "corpus.db"
            write_sqlite(sqlite_path)
            for kind, admin, name in (
                ("postgres", PG_ADMIN_URL, database),
                ("postgres", PG_ADMIN_URL, oracle_database),
                ("mysql", MYSQL_ADMIN_URL, database),
            ):
                run_cli(kind, admin, f"CREATE DATABASE {name};")
                created.append((kind, admin, name))
                run_cli(kind, _with_database(admin, name), load_script(kind, "public." if kind == "postgres" else ""))
            run_cli(
                "postgres",
                PG_ADMIN_URL,
                f"ALTER DATABASE {oracle_database} SET default_transaction_read_only = on;"
                f"ALTER DATABASE {oracle_database} SET statement_timeout = {ORACLE_TIMEOUT_MS};",
            )
            urls = {
                "sqlite": f"sqlite://{sqlite_path}",
                "postgres": _with_password(_with_database(PG_ADMIN_URL, database), SECRET),
                "mysql": _with_database(MYSQL_ADMIN_URL, database),
            }
            sources: dict[str, Any] = {}
            for kind, (name, key) in SOURCES.items():
                sources[name] = {"url": urls[kind], "tables": {key: {"date_column": "trade_date"}}}
                sources[f"{name}_ts"] = {"url": urls[kind], "tables": {key: {"date_column": "ts"}}}
            yield World({"sources": sources}, _with_database(PG_ADMIN_URL, oracle_database), (SECRET, quote(SECRET, safe="")))
        finally:
            for kind, admin, name in reversed(created):
                try:
                    _drop(kind, admin, name)
                except Exception as e:  # noqa: BLE001 - cleanup must try every database
                    print(f"could not drop {name}: {e}", file=sys.stderr)
