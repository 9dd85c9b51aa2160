"""Ray for piot: start or join a cluster, and refuse work the cluster can never schedule.

This is the one module that starts Ray. On a laptop Ray starts locally by itself;
``ray_address=`` or the ``RAY_ADDRESS`` environment variable joins a cluster instead.
It also keeps the cancel board: a small actor that running tasks ask whether their query
was cancelled (tasks are never ``ray.cancel``-ed, see :func:`cancel_board`).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from piot.connectors.redact import redact_text, redact_url, url_secrets
from piot.errors import OperationalError, ProgrammingError

_STARTING = threading.Lock()  # two threads must not both start a local Ray


def ensure_ray(address: str | None = None) -> None:
    """Start a local Ray, or connect to ``address`` / ``$RAY_ADDRESS``, unless Ray is already initialised.

    Safe to call from several threads at once: only one of them starts Ray.
    """
    import ray

    if ray.is_initialized():
        return
    with _STARTING:
        if not ray.is_initialized():
            if threading.current_thread() is threading.main_thread():
                _start(address)
            else:
                _start_on_keeper_thread(address)


def _start_on_keeper_thread(address: str | None) -> None:
    """Start Ray from a thread that lives as long as the process.

    A local Ray's processes die with the thread that started them (Linux delivers their
    parent-death signal per thread), so a query run from a short-lived thread must not be
    the one that starts them.
    """
    started = threading.Event()
    failure: list[BaseException] = []

    def keep() -> None:
        try:
            _start(address)
        except BaseException as e:  # handed to the caller's thread below
            failure.append(e)
        finally:
            started.set()
        if not failure:
            threading.Event().wait()  # parked for the life of the process

    threading.Thread(target=keep, name="piot-ray-keeper", daemon=True).start()
    started.wait()
    if failure:
        raise failure[0]


def _start(address: str | None) -> None:
    import ray

    target = address or os.environ.get("RAY_ADDRESS") or None
    failure: str | None = None
    try:
        ray.init(address=target, include_dashboard=False, log_to_driver=False, configure_logging=False)
    except Exception as e:  # Ray raises ConnectionError, RuntimeError, ValueError...
        failure = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    if failure is not None:  # raised outside the except block: Ray's exception is not chained
        secrets = url_secrets(target or "")
        where = f"Ray at {redact_url(target, secrets)}" if target else "a local Ray"
        raise OperationalError(f"could not start or reach {where}: {redact_text(failure, secrets)}")


def task_place() -> tuple[str | None, int | None]:
    """Inside a Ray task: the id of the node it runs on, and which attempt of the task this is (1 the first time).

    Ray retries a task whose worker died (``max_retries``); its core worker knows the
    attempt number, though Ray 2.60 exposes it only on that internal object. Where it is not
    there, the attempt is None (unknown), never a guess. Outside Ray both are None.
    """
    import ray

    if not ray.is_initialized():
        return None, None
    try:
        node: str | None = ray.get_runtime_context().get_node_id()
    except Exception:  # noqa: BLE001 - a context without a node: say nothing rather than fail the task
        node = None
    try:
        attempt = ray._private.worker.global_worker.core_worker.get_current_task_attempt_number()
    except Exception:  # noqa: BLE001 - an internal of Ray that another version may not have
        attempt = None
    return node, attempt + 1 if isinstance(attempt, int) else None


def check_feasible(remote_options: Mapping[str, Any] | None, *, who: str = "piot") -> None:
    """Refuse options Ray rejects, and requests that no alive node of the cluster can ever hold.

    A task that no node can hold would wait forever; this says so at once instead.

    Raises:
        ProgrammingError: naming the request, the biggest node and what to change.
    """
    import ray

    options = dict(remote_options or {})
    try:
        ray.remote(_noop).options(**options)
    except (TypeError, ValueError) as e:
        raise ProgrammingError(f"{who}: remote_options is not valid for a Ray task: {e}") from e
    need = _requested_resources(options)
    try:
        nodes = [dict(node.get("Resources", {})) for node in ray.nodes() if node.get("Alive")]
    except Exception as e:  # the GCS may be gone
        raise OperationalError(f"{who}: cannot list the Ray cluster's nodes: {type(e).__name__}") from e
    if any(all(node.get(key, 0.0) >= amount for key, amount in need.items()) for node in nodes):
        return
    have = "; ".join(_describe(node, need) for node in nodes) or "no alive node"
    raise ProgrammingError(
        f"{who}: remote_options asks each task for {_describe(need, need)}, but no alive Ray node has "
        f"that much ({have}), so the tasks would wait forever; lower num_cpus/num_gpus/memory/resources "
        "in remote_options or add a node that large to the cluster"
    )


def _noop() -> None:
    """A task body used only to let Ray validate options."""


def _requested_resources(options: Mapping[str, Any]) -> dict[str, float]:
    """What one task asks for, in Ray's resource names (a task takes one CPU unless told otherwise).

    >>> _requested_resources({"num_cpus": 2, "resources": {"ssd": 1}})
    {'CPU': 2.0, 'ssd': 1.0}
    """
    need = {
        "CPU": float(options.get("num_cpus", 1) or 0),
        "GPU": float(options.get("num_gpus", 0) or 0),
        "memory": float(options.get("memory", 0) or 0),
    }
    need.update({str(k): float(v) for k, v in (options.get("resources") or {}).items()})
    return {key: amount for key, amount in need.items() if amount > 0}


def _describe(resources: Mapping[str, float], keys: Mapping[str, float]) -> str:
    return ", ".join(f"{key}={resources.get(key, 0.0):g}" for key in keys) or "nothing"


# -- the cancel board -----------------------------------------------------------------------
class CancelBoard:
    """The body of the cancel board actor: the ids of the queries cancelled lately.

    Tasks are told to stop through this board rather than with ``ray.cancel``: a cancel that
    races a task's completion aborts the whole driver process in Ray's core worker ("Tried to
    complete task that was not pending", ray-project/ray#54846). A task asks the board while
    it waits for its source and returns as soon as its query is on it.
    """

    KEPT = 4096  # ids remembered; a query's tasks end long before thousands of later cancels

    def __init__(self) -> None:
        self._cancelled: OrderedDict[str, None] = OrderedDict()

    def cancel(self, query_id: str) -> None:
        """Put ``query_id`` on the board."""
        self._cancelled[query_id] = None
        while len(self._cancelled) > self.KEPT:
            self._cancelled.popitem(last=False)

    def is_cancelled(self, query_id: str) -> bool:
        """Whether ``query_id`` was cancelled."""
        return query_id in self._cancelled


_BOARD: tuple[str, Any] | None = None  # (Ray job id, actor handle) of this driver


def cancel_board() -> Any:
    """This driver's cancel board actor (created on first use; it takes no CPU).

    Creating it does not wait for it to start: calls made before it is up wait in its queue.
    """
    import ray

    global _BOARD
    job = ray.get_runtime_context().get_job_id()
    with _STARTING:
        if _BOARD is None or _BOARD[0] != job:
            actor = ray.remote(num_cpus=0, max_concurrency=64, max_restarts=-1)(CancelBoard)
            _BOARD = (job, actor.remote())
        return _BOARD[1]
