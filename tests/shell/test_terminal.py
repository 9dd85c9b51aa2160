"""The prompt in a real pseudo-terminal: a query shows its table, Ctrl-C during a long query
cancels it and gives the prompt back, \\q leaves, and no Ray process is left behind."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

#: rows of the slow table: every daily fragment of a year reads all of them (no index).
SLOW_ROWS = 200_000


def write_slow_source(root: Path) -> Path:
    """A table split daily whose every fragment scans it whole, and a tiny one."""
    first = dt.date(2000, 1, 1)
    with sqlite3.connect(root / "s.db") as db:
        db.execute("CREATE TABLE ticks (id INTEGER, day DATE, v REAL)")
        db.executemany(
            "INSERT INTO ticks VALUES (?, ?, ?)",
            ((i, (first + dt.timedelta(days=i % 3653)).isoformat(), i * 0.5) for i in range(SLOW_ROWS)),
        )
        db.execute("CREATE TABLE small (id INTEGER, name TEXT)")
        db.executemany("INSERT INTO small VALUES (?, ?)", [(1, "one"), (2, None)])
    catalog = root / "piot.toml"
    catalog.write_text('[sources.s]\nurl = "sqlite://s.db"\n[sources.s.tables.ticks]\ndate_column = "day"\ntime_unit = "daily"\n')
    return catalog


def ray_processes_of(pid: int) -> list[str]:
    """Ray's GCS and raylet processes whose session belongs to driver ``pid``."""
    listing = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True).stdout
    return [line for line in listing.splitlines() if ("raylet" in line or "gcs_server" in line) and f"_{pid}/" in line]


def test_query_then_ctrl_c_cancels_a_long_query_and_the_prompt_comes_back(tmp_path: Path, home: Path) -> None:
    catalog = write_slow_source(tmp_path)
    env = dict(os.environ, HOME=str(home), TERM="xterm-256color", PROMPT_TOOLKIT_NO_CPR="1")
    child = pexpect.spawn(
        sys.executable,
        ["-m", "piot.shell.main", "--catalog", str(catalog), "--max-concurrency", "1"],
        env=env,
        encoding="utf-8",
        dimensions=(30, 120),
        timeout=90,
    )
    try:
        child.expect_exact("piot>")
        child.send("select id, name from s.small order by id;\r")
        child.expect(r" id \| name\s+-+\+-+\s+1 \| one\s+2 \| NULL\s+\(2 rows\)")
        child.expect_exact("piot>")

        child.send("select count(*) from s.ticks where day between '2000-01-01' and '2000-12-31';\r")
        child.expect(r"\d+/366 fragments")  # the progress bar
        started = time.monotonic()
        child.sendintr()
        child.expect_exact("Query cancelled.")
        assert time.monotonic() - started < 10
        child.expect_exact("piot>")

        child.send("\\q\r")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert (home / ".local" / "share" / "piot" / "history").read_text().count("+select") == 2
    deadline = time.monotonic() + 15
    while ray_processes_of(child.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert ray_processes_of(child.pid) == []
