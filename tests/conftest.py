"""Shared fixtures: one local Ray per session, and the real database servers.

PostgreSQL and MariaDB tests skip with a reason when the server is not running on
this machine; with ``CI=true`` a missing server fails the test instead.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

PG_URL = os.environ.get("PIOT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("PIOT_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")

_START_HINTS = {
    "PostgreSQL": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "MariaDB": "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd",
}


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def _require_server(name: str, port: int) -> None:
    if _reachable("127.0.0.1", port):
        return
    message = f"{name} is not running on 127.0.0.1:{port} (start it with: {_START_HINTS[name]})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {message}")
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_url() -> str:
    """URL of the test PostgreSQL database; skips (or fails on CI) when it is down."""
    _require_server("PostgreSQL", 5432)
    return PG_URL


@pytest.fixture(scope="session")
def mysql_url() -> str:
    """URL of the test MariaDB database; skips (or fails on CI) when it is down."""
    _require_server("MariaDB", 3306)
    return MYSQL_URL


@pytest.fixture(scope="session")
def ray_session() -> Iterator[None]:
    """One local Ray for the whole test session (2 CPUs), shut down at the end."""
    import ray

    started = False
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
        started = True
    yield
    if started:
        ray.shutdown()
