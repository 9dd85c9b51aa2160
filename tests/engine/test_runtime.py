"""Starting Ray: once, from any thread, and alive after the starting thread ends."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from piot.run.runtime import _requested_resources


def test_ray_started_from_a_short_lived_thread_stays_up() -> None:
    """A local Ray started by a query on a worker thread must outlive that thread."""
    script = textwrap.dedent(
        """
        import threading, time
        import ray
        import piot.run.runtime

        thread = threading.Thread(target=piot.run.runtime.ensure_ray)
        thread.start()
        thread.join()
        time.sleep(1)

        @ray.remote
        def answer():
            return 42

        print("answer", ray.get(answer.remote(), timeout=60))
        ray.shutdown()
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert "answer 42" in done.stdout, done.stderr[-2000:]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, {"CPU": 1.0}),
        ({"num_cpus": 0}, {}),
        ({"num_cpus": 2, "num_gpus": 1}, {"CPU": 2.0, "GPU": 1.0}),
        ({"memory": 2**30, "resources": {"ssd": 1}}, {"CPU": 1.0, "memory": float(2**30), "ssd": 1.0}),
    ],
)
def test_requested_resources(options: dict[str, object], expected: dict[str, float]) -> None:
    assert _requested_resources(options) == expected


def test_a_scan_says_what_its_fragments_return_and_the_executor_does_it(tmp_path: Path) -> None:
    """The seam for work in the fragments: a plan whose scan returns something other than rows runs unchanged."""
    import dataclasses
    import sqlite3

    import polars as pl

    import piot
    from piot.plan.fragments import FragmentOutput

    path = tmp_path / "t.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (d DATE, x INTEGER)")
        db.executemany("INSERT INTO t VALUES (?, ?)", [(f"2024-0{m}-1{k}", m * 10 + k) for m in (1, 2, 3) for k in range(3)])
    db.close()
    connection = piot.connect({"sources": {"db": {"url": f"sqlite://{path}"}}}, time_unit="monthly")
    _, plan = connection.engine.plan("SELECT d, x FROM db.t WHERE d BETWEEN '2024-01-01' AND '2024-03-31'")
    assert [s.output.kind for s in plan.scans] == ["rows"]
    partial = FragmentOutput("partial sums", "SELECT sum(x) AS s, count(*) AS n FROM fragment", (("s", pl.Int64()), ("n", pl.UInt32())))
    scan = dataclasses.replace(plan.scans[0], output=partial)
    merged = dataclasses.replace(plan, scans=(scan,), merge_sql=f'SELECT sum(s) AS total, sum(n) AS rows FROM "{scan.name}"', columns=("total", "rows"))
    assert connection.engine.execute(merged).rows() == [(sum(m * 10 + k for m in (1, 2, 3) for k in range(3)), 9)]
    assert len(scan.fragments) == 3
