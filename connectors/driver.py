"""connectorx, imported on first use with its Rust logger silenced.

Importing piot, planning and EXPLAIN never load it; only a read of a source does.
connectorx starts Rust's env_logger when it is imported, which then writes each of the
pool's retries (``[... ERROR r2d2] ...``) to stderr; RUST_LOG=off during the import turns
that logger off for the life of the process without changing the caller's environment.
"""

from __future__ import annotations

import functools
import os
from typing import Any


@functools.cache
def connectorx() -> Any:
    """The connectorx module."""
    saved = os.environ.get("RUST_LOG")
    os.environ["RUST_LOG"] = "off"
    try:
        import connectorx as module
    finally:
        if saved is None:
            os.environ.pop("RUST_LOG", None)
        else:
            os.environ["RUST_LOG"] = saved
    return module
