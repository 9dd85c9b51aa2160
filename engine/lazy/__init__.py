"""The Polars API: ``scan_db`` and the ``lf.piot.execute_on_ray`` LazyFrame namespace.

Importing this package registers the ``piot`` namespace on every Polars LazyFrame.

Example:
    >>> import polars as pl
    >>> hasattr(pl.LazyFrame(), "piot")
    True
"""

from __future__ import annotations

from piot.connectors.sql_log import capture_sql
from piot.lazy.namespace import PiotFrame
from piot.lazy.partitions import (
    KeyPartitions,
    Partitioner,
    RayPartition,
    ReadPartition,
    by_key,
    by_range,
    by_time,
    by_value,
    cartesian_partitions,
    discrete_partitions,
)
from piot.lazy.scan import scan_db

__all__ = [
    "KeyPartitions",
    "Partitioner",
    "PiotFrame",
    "RayPartition",
    "ReadPartition",
    "by_key",
    "by_range",
    "by_time",
    "by_value",
    "capture_sql",
    "cartesian_partitions",
    "discrete_partitions",
    "scan_db",
]
