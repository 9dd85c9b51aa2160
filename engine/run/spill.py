"""Rows past a memory budget wait on local disk: the driver keeps raw rows in memory up to a budget, then writes them out.

Fragments that ship raw rows (a query that needs them all) can add up to more than the
driver should hold. Past ``budget`` bytes, each arriving frame is written to an Arrow IPC file
in a private temporary folder and the merge reads it back lazily, with Polars' streaming
engine, so what the merge keeps is bounded by what its query keeps. The folder goes when the
run ends, whatever happens.

Example:
    >>> import polars as pl
    >>> with Spill(budget=0) as spill:
    ...     kept = spill.keep(pl.DataFrame({"x": [1, 2]}))
    ...     kept.suffix, pl.read_ipc(kept).height
    ('.arrow', 2)
    >>> kept.exists()
    False
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from types import TracebackType

import polars as pl

#: the raw rows a driver holds before it writes further fragments to disk (bytes)
DEFAULT_MEMORY_BUDGET = 2 * 1024**3


class Spill:
    """Where one run keeps the frames that do not fit in its memory budget."""

    def __init__(self, budget: int | None = DEFAULT_MEMORY_BUDGET) -> None:
        self.budget = budget
        self.held = 0
        self.written = 0
        self._folder: Path | None = None

    def keep(self, frame: pl.DataFrame) -> pl.DataFrame | Path:
        """The frame itself while the budget allows, else the IPC file it was written to."""
        size = frame.estimated_size()
        if self.budget is None or self.held + size <= self.budget:
            self.held += size
            return frame
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="piot-spill-"))
        path = self._folder / f"{self.written:06d}.arrow"
        frame.write_ipc(path)
        self.written += 1
        return path

    def __enter__(self) -> Spill:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
