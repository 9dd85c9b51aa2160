"""Ray for piot: start or join a cluster, and refuse work the cluster can never schedule.

This is the one module that starts Ray. On a laptop Ray starts locally by itself;
``ray_address=`` or the ``RAY_ADDRESS`` environment variable joins a cluster instead.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from piot.connectors.redact import redact_url
from piot.errors import OperationalError, ProgrammingError

_RESOURCE_KEYS = {"num_cpus": "CPU", "num_gpus": "GPU", "memory": "memory"}


def ensure_ray(address: str | None = None) -> None:
    """Start a local Ray, or connect to ``address`` / ``$RAY_ADDRESS``, unless Ray is already initialised."""
    import ray

    if ray.is_initialized():
        return
    target = address or os.environ.get("RAY_ADDRESS") or None
    try:
        ray.init(address=target, include_dashboard=False, log_to_driver=False, configure_logging=False)
    except Exception as e:  # Ray raises ConnectionError, RuntimeError, ValueError...
        where = f"Ray at {redact_url(target)}" if target else "a local Ray"
        raise OperationalError(f"could not start or reach {where}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from e


def check_feasible(remote_options: Mapping[str, Any] | None) -> None:
    """Raise if ``remote_options`` asks for more than any single alive node has.

    A task that no node can hold would wait forever; this says so at once instead.
    """
    if not remote_options:
        return
    import ray

    wanted: dict[str, float] = {}
    for key, resource in _RESOURCE_KEYS.items():
        if remote_options.get(key):
            wanted[resource] = float(remote_options[key])
    for name, amount in (remote_options.get("resources") or {}).items():
        wanted[str(name)] = float(amount)
    if not wanted:
        return
    nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
    if any(all(node.get(r, 0.0) >= amount for r, amount in wanted.items()) for node in nodes):
        return
    largest = {r: max((node.get(r, 0.0) for node in nodes), default=0.0) for r in wanted}
    asked = ", ".join(f"{r}={_show(a)}" for r, a in wanted.items())
    has = ", ".join(f"{r}={_show(a)}" for r, a in largest.items())
    raise ProgrammingError(
        f"remote_options asks for {asked} per task but the largest node of the Ray cluster has {has}; "
        "ask for less, or add nodes that are big enough"
    )


def _show(amount: float) -> str:
    if amount >= 1 << 20:
        return f"{amount / (1 << 30):.1f}GiB"
    return f"{amount:g}"
