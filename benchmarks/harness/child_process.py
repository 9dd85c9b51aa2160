"""Running one contender's child process and collecting what it reports.

The child (``benchmarks/child/main.py``) gets its job as JSON on stdin and answers one
``@@bench {json}`` line per query; everything else it writes goes to a log file. A query that
reports nothing within ``query_timeout`` seconds stops the child: SIGTERM (it shuts its Ray
down), SIGKILL to its process group 30 s later, and the queries it did not reach are reported
as timed out.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHILD = Path(__file__).resolve().parents[1] / "child" / "main.py"
MARK = "@@bench "


@dataclass
class Outcome:
    """One contender on one query: its timings and peak, or why there are none."""

    seconds: list[float] | None = None
    peak_mib: float | None = None
    base_mib: float | None = None  # resident before the timed runs (0 where the peak is another process's)
    peak_exact: bool = True
    rows: int | None = None
    answer: Path | None = None
    error: str | None = None
    difference: str | None = None  # what differs from the reference answer
    compared: bool = False

    @property
    def median(self) -> float | None:
        """The median of the timed runs."""
        if not self.seconds:
            return None
        ordered = sorted(self.seconds)
        middle = len(ordered) // 2
        return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def outcome_from(line: dict[str, Any], out_dir: Path) -> Outcome:
    """The Outcome a child's report line describes.

    >>> o = outcome_from({"query": "q", "seconds": [0.3, 0.1, 0.2], "peak_mib": 80.5, "rows": 3}, Path("/x"))
    >>> o.median, o.answer
    (0.2, PosixPath('/x/q.arrow'))
    >>> outcome_from({"query": "q", "error": "boom"}, Path("/x")).error
    'boom'
    """
    if line.get("error"):
        return Outcome(error=str(line["error"]))
    answer = out_dir / f"{line['query']}.arrow" if line.get("rows") is not None else None
    return Outcome(
        seconds=line["seconds"],
        peak_mib=line.get("peak_mib"),
        base_mib=line.get("base_mib"),
        peak_exact=bool(line.get("peak_exact", True)),
        rows=line.get("rows"),
        answer=answer,
    )


def _pump(stream: Any, lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM, then SIGKILL to the child's process group if it is still there after 30 s."""
    try:
        process.terminate()
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def run_child(python: Path, job: dict[str, Any], env: dict[str, str], log: Path, query_timeout: float) -> dict[str, Outcome]:
    """Run ``job`` in a child of ``python``; an Outcome per query name of the job."""
    out_dir = Path(job["out_dir"])
    names = [query["name"] for query in job["queries"]]
    outcomes: dict[str, Outcome] = {}
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as errors:
        process = subprocess.Popen(
            [str(python), str(CHILD)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env={**os.environ, **env},
            start_new_session=True,
        )
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(json.dumps(job))
        process.stdin.close()
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
        while len(outcomes) < len(names):
            try:
                line = lines.get(timeout=query_timeout)
            except queue.Empty:
                _stop(process)
                waiting = next(name for name in names if name not in outcomes)
                outcomes[waiting] = Outcome(error=f"timed out after {query_timeout:g} s")
                break
            if line is None:
                break
            if line.startswith(MARK):
                report = json.loads(line[len(MARK) :])
                outcomes[report["query"]] = outcome_from(report, out_dir)
            else:
                errors.write(line)
        process.wait()
    for name in names:
        if name not in outcomes:
            outcomes[name] = Outcome(error=f"not run: the process stopped (exit {process.returncode}; see {log})")
    return outcomes
