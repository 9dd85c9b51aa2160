"""Timing and memory of one contender's runs, in the process that runs them (stdlib only).

Peak memory is the process's resident high-water mark (``VmHWM``), reset before each query by
writing 5 to ``/proc/self/clear_refs`` (Linux), so each query reports its own peak. Where that
reset is refused the peak is the process's (``ru_maxrss``) and says so.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

#: Lines the parent reads start with this; everything else a library prints is left alone.
MARK = "@@bench "


def reset_peak() -> bool:
    """Make the resident high-water mark the current resident size; False where Linux refuses."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def _status_mib(field: str) -> float | None:
    """A ``/proc/self/status`` size field in MiB, or None off Linux."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_mib() -> float:
    """The resident high-water mark of this process in MiB."""
    peak = _status_mib("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def resident_mib() -> float | None:
    """What this process holds in memory now, in MiB."""
    return _status_mib("VmRSS")


def first_line(error: BaseException) -> str:
    """The error's type and first line, shortened.

    >>> first_line(ValueError("bad\\nmore"))
    'ValueError: bad'
    """
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0][:300] if lines else ''}"


def measure(run: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    """One warm-up run, then ``repeat`` timed ones; their seconds and the last answer."""
    answer = run()
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        answer = run()
        seconds.append(time.perf_counter() - started)
    return seconds, answer


def report(**fields: Any) -> None:
    """One result line for the parent."""
    if fields.get("seconds"):
        fields["median"] = statistics.median(fields["seconds"])
    sys.stdout.write(MARK + json.dumps(fields, default=str) + "\n")
    sys.stdout.flush()
