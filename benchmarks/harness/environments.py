"""The interpreters contenders run in, and the ODBC data source polars-io-tools reads through.

polars-io-tools and Daft get virtualenvs of their own under ``benchmarks/`` (Daft pins an older
Ray and pyarrow than piot; polars-io-tools brings its own extras): created and filled with pip
on first use, and again whenever the package list below changes (a stamp file remembers it).
A venv that cannot be made is reported with the reason, and its contender is left out.

The ODBC files are the harness's own (``ODBCSYSINI`` and ``ODBCINI`` point at them): a driver
entry for Debian's ``odbc-postgresql`` and a data source ``piotbench_pg`` for the PostgreSQL URL.
Where the driver is missing and ``apt-get`` can run, ``odbc-postgresql`` and ``unixodbc`` are
installed.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

#: What each extra venv holds (pip requirement specifiers).
PACKAGES = {
    "pit": ("polars-io-tools[full]==0.2.6",),
    "daft": ("daft[ray,sql]>=0.7,<0.8", "psycopg2-binary>=2.9,<3", "pymysql>=1.1,<2"),
}
DSN = "piotbench_pg"
_DRIVER_GLOBS = ("/usr/lib/*/odbc/psqlodbcw.so", "/usr/lib/odbc/psqlodbcw.so", "/usr/lib64/psqlodbcw.so")


@dataclass(frozen=True)
class Interpreter:
    """A Python to run contenders with, or why there is none."""

    python: Path | None
    problem: str | None = None


def _base_python() -> str:
    """The interpreter this venv was made from (a new venv should not nest in ours)."""
    return getattr(sys, "_base_executable", None) or sys.executable


def ensure_venv(name: str, root: Path, install: bool = True) -> Interpreter:
    """``root/.venv-<name>`` with ``PACKAGES[name]`` installed, made when missing or stale."""
    venv = root / f".venv-{name}"
    python = venv / "bin" / "python"
    stamp = venv / ".bench-packages"
    wanted = "\n".join(PACKAGES[name])
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return Interpreter(python)
    if not install:
        return Interpreter(None, f"{venv.name} is not installed (run without --no-install)")
    print(f"setting up {venv.name}: pip install {' '.join(PACKAGES[name])} ...", file=sys.stderr, flush=True)
    try:
        if not python.exists():
            subprocess.run([_base_python(), "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
        command = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", *PACKAGES[name]]
        done = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
    except (OSError, subprocess.SubprocessError) as e:
        return Interpreter(None, f"could not create {venv.name}: {e}")
    if done.returncode != 0:
        tail = [line for line in done.stderr.strip().splitlines() if not line.startswith("WARNING")][-3:]
        return Interpreter(None, f"pip could not install {', '.join(PACKAGES[name])}: {' / '.join(tail)}")
    stamp.write_text(wanted)
    return Interpreter(python)


def _driver() -> str | None:
    for pattern in _DRIVER_GLOBS:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


def _install_driver() -> str | None:
    """apt-get install the PostgreSQL ODBC driver where we may; the problem, or None."""
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        return "the PostgreSQL ODBC driver is missing (apt-get install odbc-postgresql unixodbc)"
    print("installing odbc-postgresql and unixodbc with apt-get ...", file=sys.stderr, flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "odbc-postgresql", "unixodbc"]):
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900, check=False)
        if done.returncode != 0:
            return f"{' '.join(command[:2])} failed: {done.stderr.strip()[-300:]}"
    return None


def odbc_environment(pg_url: str, directory: Path) -> tuple[dict[str, str], str] | str:
    """The environment variables and connection string for ``pg_url`` through ODBC, or the problem."""
    driver = _driver()
    if driver is None:
        problem = _install_driver()
        driver = _driver()
        if driver is None:
            return problem or "the PostgreSQL ODBC driver is missing after installing it"
    directory.mkdir(parents=True, exist_ok=True)
    parts = urlsplit(pg_url)
    (directory / "odbcinst.ini").write_text(f"[PostgreSQL Unicode]\nDescription=PostgreSQL ODBC driver\nDriver={driver}\n")
    lines = [
        f"[{DSN}]",
        "Driver=PostgreSQL Unicode",
        f"Servername={parts.hostname or '127.0.0.1'}",
        f"Port={parts.port or 5432}",
        f"Database={parts.path.lstrip('/') or 'postgres'}",
        f"Username={unquote(parts.username or 'postgres')}",
    ]
    (directory / "odbc.ini").write_text("\n".join(lines) + "\n")
    connection = f"DSN={DSN}"
    if parts.password:
        connection += f";PWD={unquote(parts.password)}"
    env = {"ODBCSYSINI": str(directory.resolve()), "ODBCINI": str((directory / "odbc.ini").resolve())}
    return env, connection
