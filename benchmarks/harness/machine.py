"""What the figures were measured on: CPUs, memory, load, and the versions of everything involved."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
import sqlite3
import subprocess
from pathlib import Path

from harness.clients import scalar

ROOT = Path(__file__).resolve().parents[2]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _venv_version(python: Path | None, package: str) -> str:
    """``package``'s version inside another interpreter."""
    if python is None:
        return "not installed"
    code = f"import importlib.metadata as m; print(m.version({package!r}))"
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=60, check=False)
    return done.stdout.strip() or "not installed"


def _commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=30, check=False)
        return done.stdout.strip()

    head = git("rev-parse", "--short=12", "HEAD") or "unknown"
    return head + (" (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else "")


def describe(pg_url: str, mysql_url: str | None, venvs: dict[str, Path | None]) -> dict[str, str]:
    """The machine and versions, as label -> text."""
    pg = scalar(pg_url, "SELECT version()")
    mariadb = scalar(mysql_url, "SELECT VERSION()") if mysql_url else None
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "CPUs": f"{os.cpu_count()} ({_cpu_model()})",
        "memory": _memory(),
        "load average at start (1, 5, 15 min)": load,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "PostgreSQL": str(pg).split(" on ")[0] if pg else "unreachable",
        "MariaDB": str(mariadb) if mariadb else "not used or unreachable",
        "SQLite": sqlite3.sqlite_version,
        "piot commit": _commit(),
        "Ray": _version("ray"),
        "Polars": _version("polars"),
        "connectorx": _version("connectorx"),
        "sqlglot": _version("sqlglot"),
        "DuckDB": _version("duckdb"),
        "polars-io-tools (its venv)": _venv_version(venvs.get("pit"), "polars-io-tools"),
        "Daft (its venv; Ray there)": f"{_venv_version(venvs.get('daft'), 'daft')} (Ray {_venv_version(venvs.get('daft'), 'ray')})",
    }
