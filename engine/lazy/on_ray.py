"""Ray around ``execute_on_ray``: is it running, can the cluster hold the options, the plan as bytes for the workers.

The tasks themselves are fragments of a plan (:func:`piot.lazy.ray_run.frame_scan`) run by the
one scheduler, like SQL's.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from piot.errors import NotSupportedError, RayNotInitialised
from piot.run.runtime import check_feasible
from piot.run.task import RETURN_FORMATS

__all__ = ["RETURN_AS", "SerializedPlan", "check_remote_options", "require_ray", "serialize_plan"]

RETURN_AS = RETURN_FORMATS
_RAY_NOT_STARTED = (
    "execute_on_ray needs Ray: call ray.init() first (ray.init() starts a local Ray; ray.init(address=...) joins a cluster)"
)
_serialize_lock = threading.Lock()


@dataclass(frozen=True)
class SerializedPlan:
    """The plan as bytes; they may hold the sources' URLs, so its repr (seen in traceback locals) does not show them."""

    data: bytes = field(repr=False)


def require_ray() -> None:
    """Raise :class:`RayNotInitialised` (also a RuntimeError) telling the user to call ``ray.init()``."""
    import ray

    if not ray.is_initialized():
        raise RayNotInitialised(_RAY_NOT_STARTED)


def check_remote_options(options: Mapping[str, Any]) -> None:
    """Refuse options Ray rejects, and requests no alive node of the cluster can ever satisfy."""
    check_feasible(options, who="execute_on_ray")


def serialize_plan(lf: pl.LazyFrame) -> SerializedPlan:
    """The plan as bytes for the workers (Polars pickles the Python IO sources inside with cloudpickle)."""
    with _serialize_lock:
        try:
            return SerializedPlan(lf.serialize())
        except Exception as e:  # noqa: BLE001 - Polars raises ComputeError and friends
            raise NotSupportedError(f"execute_on_ray cannot send this plan to Ray workers: {e}") from e


