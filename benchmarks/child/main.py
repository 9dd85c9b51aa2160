"""One contender's process: read the job (JSON on stdin), run its queries, report each as a JSON line.

Run by the harness with the contender's own interpreter (piot's venv, or the venvs of
polars-io-tools and Daft), so it imports only the standard library and that contender's libraries.
For each query: one warm-up run, the resident high-water mark is reset, ``repeat`` timed runs
follow, the peak is read, and the last answer is written as Arrow IPC to ``out_dir/<query>.arrow``
for the parent to compare. A query that fails is reported with its error; the next one still runs.
Contenders on Ray get a local Ray of their own (``num_cpus`` of the job), shut down at the end;
its workers are started and have imported the contender's libraries before the first query.
"""

from __future__ import annotations

import importlib
import json
import signal
import sys
from pathlib import Path
from typing import Any

from measure import first_line, measure, peak_mib, report, reset_peak, resident_mib

MODULES = {
    "connectorx": "run_plain",
    "source": "run_plain",
    "copy": "run_plain",
    "duckdb": "run_plain",
    "piot_sql": "run_piot",
    "piot_polars": "run_piot",
    "pit": "run_pit",
    "pit_ray": "run_pit",
    "daft": "run_daft",
}


#: What a Ray worker of each contender imports for its tasks: loaded in every worker before timing.
WORKER_IMPORTS = {
    "piot_sql": ("polars", "pyarrow", "connectorx", "piot"),
    "piot_polars": ("polars", "pyarrow", "connectorx", "piot"),
    "pit_ray": ("polars", "pyarrow", "arrow_odbc", "polars_io_tools"),
    "daft": ("pyarrow", "connectorx", "daft"),
}


def _import_all(names: tuple[str, ...]) -> int:
    import importlib as lib
    import os
    import time

    for name in names:
        lib.import_module(name)
    time.sleep(0.5)  # hold the worker so the next task starts another one
    return os.getpid()


def warm_workers(names: tuple[str, ...], num_cpus: int) -> None:
    """Start ``num_cpus`` Ray workers and import ``names`` in each: a query's first fragments must not pay for it."""
    import ray

    task = ray.remote(num_cpus=1)(_import_all)
    ray.get([task.remote(names) for _ in range(2 * num_cpus)])


def write_answer(answer: Any, path: Path) -> int | None:
    """The answer as an Arrow IPC file; its row count (None when the contender gives no rows back)."""
    if answer is None:
        return None
    import pyarrow as pa
    import pyarrow.ipc

    table = answer if isinstance(answer, pa.Table) else answer.to_arrow()
    with pa.OSFile(str(path), "wb") as sink, pyarrow.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return table.num_rows


def start_ray(num_cpus: int) -> None:
    """A new local Ray for this process alone."""
    import ray

    ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, log_to_driver=False, configure_logging=False)


def run_job(job: dict[str, Any]) -> None:
    """Every query of the job, reported one by one."""
    out_dir = Path(job["out_dir"])
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        if job.get("ray"):
            start_ray(int(job.get("num_cpus", 2)))
        runner = importlib.import_module(MODULES[job["contender"]]).Runner(job)
        if job.get("ray") and job["contender"] in WORKER_IMPORTS:
            warm_workers(WORKER_IMPORTS[job["contender"]], int(job.get("num_cpus", 2)))
    except Exception as e:  # noqa: BLE001 - a contender that cannot start is reported, not raised
        for query in job["queries"]:
            report(query=query["name"], error=f"could not start: {first_line(e)}")
        return
    try:
        for query in job["queries"]:
            peak_state: dict[str, Any] = {}

            def warm(state: dict[str, Any] = peak_state) -> None:
                getattr(runner, "reset_peak", lambda: None)()
                state["exact"] = reset_peak()
                state["before"] = resident_mib()

            try:
                seconds, answer = measure(runner.prepare(query), int(job["repeat"]), warm)
                override = runner.peak_override()
                peak = override if override is not None else peak_mib()
                base = 0.0 if override is not None else peak_state.get("before")
                rows = write_answer(answer, out_dir / f"{query['name']}.arrow")
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as e:  # noqa: BLE001 - Polars panics are BaseException; report and go on
                report(query=query["name"], error=first_line(e))
                continue
            report(
                query=query["name"],
                seconds=seconds,
                peak_mib=round(peak, 1),
                base_mib=None if base is None else round(base, 1),
                peak_exact=peak_state.get("exact", False),
                rows=rows,
            )
    finally:
        runner.close()


def main() -> None:
    """Read the job, run it, stop Ray if this process started one."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    job = json.load(sys.stdin)
    try:
        run_job(job)
    finally:
        if job.get("ray"):
            import ray

            ray.shutdown()


if __name__ == "__main__":
    main()
