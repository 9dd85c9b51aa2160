"""The command-line clients the harness loads data with (psql, mariadb) and one-value reads.

Example:
    >>> with_database("postgresql://postgres@127.0.0.1:5432/test", "bench")
    'postgresql://postgres@127.0.0.1:5432/bench'
"""

from __future__ import annotations

import os
import shutil
import subprocess
from urllib.parse import unquote, urlsplit

import connectorx

#: Loading TPC-H at scale factor 1 takes a few minutes; no single script may take longer than this.
SCRIPT_TIMEOUT = 3600


class ClientMissing(RuntimeError):
    """The command-line client of a database is not installed."""


def with_database(url: str, database: str) -> str:
    """``url`` naming ``database`` instead of its own."""
    return urlsplit(url)._replace(path="/" + database).geturl()


def client_command(kind: str, url: str) -> tuple[list[str], dict[str, str]]:
    """The argv and environment that run an SQL script from standard input against ``url``."""
    parts = urlsplit(url)
    env = dict(os.environ)
    if kind == "postgres":
        program = shutil.which("psql")
        args = ["-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", url]
    else:
        program = shutil.which("mariadb") or shutil.which("mysql")
        args = ["--protocol=tcp", "--local-infile=1", "-h", parts.hostname or "127.0.0.1", "-P", str(parts.port or 3306)]
        args += ["-u", unquote(parts.username or "root")]
        args += [parts.path.lstrip("/")] if parts.path.lstrip("/") else []
        if parts.password:
            env["MYSQL_PWD"] = unquote(parts.password)
    if program is None:
        raise ClientMissing(f"the {kind} command-line client is not installed")
    return [program, *args], env


def run_script(kind: str, url: str, script: str, timeout: float = SCRIPT_TIMEOUT) -> None:
    """Run ``script`` with psql (one transaction) or the MariaDB client; raise with its stderr on failure."""
    argv, env = client_command(kind, url)
    done = subprocess.run(argv, input=script, text=True, capture_output=True, env=env, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{os.path.basename(argv[0])} failed ({done.returncode}): {done.stderr.strip()[:2000]}")


def scalar(url: str, sql: str) -> object | None:
    """The first value of the first row of ``sql``, or None when it fails (a missing table, for example)."""
    try:
        table = connectorx.read_sql(url, sql, return_type="arrow")
    except Exception:  # noqa: BLE001 - "not there" is all the caller needs to know
        return None
    if table.num_rows == 0:
        return None
    return table.column(0)[0].as_py()
