"""Ray started in the background, so the prompt appears at once and queries wait for it.

The starting thread may end once Ray is up: :func:`piot.run.runtime.ensure_ray` starts a
local Ray from a thread that lives as long as the process. :meth:`RayStarter.close`
shuts down a Ray this shell brought up.
"""

from __future__ import annotations

import logging
import sys
import threading

from piot.errors import Error, OperationalError
from piot.run.runtime import ensure_ray


def quiet_ray_logs() -> None:
    """Keep Ray's own warnings (thread, token notices) off the terminal; failures still raise.

    Ray sets its logger's level when it is imported, so this imports it first.
    """
    import ray  # noqa: F401

    logging.getLogger("ray").setLevel(logging.ERROR)


class RayStarter:
    """Starts Ray once in a long-lived daemon thread; :meth:`wait` blocks until it is up."""

    def __init__(self, address: str | None = None) -> None:
        self.address = address
        self.error: Error | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._was_up = ray_is_up()
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        """``idle``, ``starting``, ``ready`` or ``failed``."""
        if self._thread is None:
            return "idle"
        if not self._ready.is_set():
            return "starting"
        return "failed" if self.error is not None else "ready"

    def start(self) -> None:
        """Begin starting Ray unless it is already starting or up (a failed start is retried)."""
        with self._lock:
            if self._thread is not None and self.state != "failed":
                return
            self.error = None
            self._ready = threading.Event()
            self._thread = threading.Thread(target=self._run, name="piot-ray", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        quiet_ray_logs()
        try:
            ensure_ray(self.address)
        except Error as e:
            self.error = e
        except Exception as e:  # anything else Ray raises while starting
            self.error = OperationalError(f"could not start Ray: {type(e).__name__}: {e}")
        finally:
            self._ready.set()

    def wait(self, cancelled: threading.Event | None = None) -> bool:
        """Start Ray if needed and wait until it is up; False if ``cancelled`` was set first.

        Raises:
            Error: why Ray could not start.
        """
        self.start()
        while not self._ready.wait(0.1):
            if cancelled is not None and cancelled.is_set():
                return False
        if self.error is not None:
            raise self.error
        return True

    def close(self) -> None:
        """Shut down Ray if it came up after this starter was made (here or by a query)."""
        thread = self._thread
        if thread is not None:
            self._ready.wait(60)
        if not self._was_up and ray_is_up():
            import ray

            try:
                ray.shutdown()
            except Exception:  # already gone: nothing left to stop
                pass
        if thread is not None:
            thread.join(5)


def ray_is_up() -> bool:
    """Whether Ray is initialised in this process (never imports it).

    >>> import sys; ray_is_up() if "ray" not in sys.modules else False
    False
    """
    is_initialized = getattr(sys.modules.get("ray"), "is_initialized", None)
    return is_initialized is not None and bool(is_initialized())
