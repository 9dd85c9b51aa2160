"""The Polars API: ``scan_db`` and the ``lf.piot.execute_on_ray`` LazyFrame namespace.

Importing this package registers the ``piot`` namespace on every Polars LazyFrame.

Example:
    >>> import polars as pl
    >>> hasattr(pl.LazyFrame(), "piot")
    True
"""

from __future__ import annotations

from piot.lazy.namespace import PiotFrame
from piot.lazy.scan import scan_db
from piot.lazy.sql_log import capture_sql

__all__ = ["PiotFrame", "capture_sql", "scan_db"]
