"""Starting Ray: once, from any thread, and alive after the starting thread ends."""

from __future__ import annotations

import subprocess
import sys
import textwrap

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
