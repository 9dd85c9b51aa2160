"""Timing and memory of one contender's runs, in the process that runs them (stdlib only).

Peak memory is the process's resident high-water mark (``VmHWM``) over a query's timed runs:
reset after its warm-up run by writing 5 to ``/proc/self/clear_refs`` (Linux), so each query
reports its own warm peak. Where that reset is refused the peak is the process's (``ru_maxrss``)
and says so.
"""

from __future__ import annotations

import json
import re
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


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def first_line(error: BaseException) -> str:
    """The error's type and first line, and its last line naming an error when there are several (Ray wraps causes).

    >>> first_line(ValueError("bad"))
    'ValueError: bad'
    >>> first_line(RuntimeError("\\x1b[36mray::Scan()\\x1b[39m (pid=1)\\nTraceback\\n  1: error: Invalid column type Real\\n"))
    'RuntimeError: ray::Scan() (pid=1) … error: Invalid column type Real'
    """
    lines = [line.strip() for line in _ANSI.sub("", str(error)).splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    shown = f"{type(error).__name__}: {lines[0][:200]}"
    if len(lines) > 1:
        cause = next((line for line in reversed(lines) if "error" in line.lower()), lines[-1])
        at = cause.lower().rfind("error:")
        shown += f" … {(cause[at:] if at > 0 else cause)[-300:]}"
    return shown


def measure(run: Callable[[], Any], repeat: int, warm: Callable[[], None]) -> tuple[list[float], Any]:
    """One warm-up run, ``warm()``, then ``repeat`` timed ones; their seconds and the last answer.

    The previous answer is let go before each run, so a run's peak holds one answer, not two.
    """
    answer = run()
    answer = None
    warm()
    seconds = []
    for _ in range(repeat):
        answer = None
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
