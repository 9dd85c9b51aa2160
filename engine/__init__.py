"""piot: one SQL statement over time-partitioned tables in several databases.

The query is split into calendar-period fragments, each read from its source by a
Ray task, and merged with Polars. ``piot.connect`` is the PEP 249 entry point.
"""

from __future__ import annotations

from piot.dbapi.connection import (
    BINARY,
    DATETIME,
    NUMBER,
    ROWID,
    STRING,
    Binary,
    Connection,
    Cursor,
    Date,
    DateFromTicks,
    QueryProgress,
    Time,
    TimeFromTicks,
    Timestamp,
    TimestampFromTicks,
    apilevel,
    connect,
    paramstyle,
    threadsafety,
)
from piot.errors import (
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    InvalidArgument,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    RayNotInitialised,
    Warning,
)
from piot.lazy import (  # also registers the lf.piot LazyFrame namespace
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
    scan_db,
)

__version__ = "0.1.0"

__all__ = [
    # globals
    "apilevel",
    "threadsafety",
    "paramstyle",
    "connect",
    "scan_db",
    # partitions of lf.piot.execute_on_ray
    "by_time",
    "by_value",
    "by_range",
    "by_key",
    "discrete_partitions",
    "cartesian_partitions",
    "ReadPartition",
    "RayPartition",
    "Partitioner",
    "KeyPartitions",
    # exceptions
    "Warning",
    "Error",
    "InterfaceError",
    "DatabaseError",
    "DataError",
    "OperationalError",
    "IntegrityError",
    "InternalError",
    "ProgrammingError",
    "NotSupportedError",
    "InvalidArgument",
    "RayNotInitialised",
    # objects
    "Connection",
    "Cursor",
    "QueryProgress",
    # types
    "Date",
    "Time",
    "Timestamp",
    "DateFromTicks",
    "TimeFromTicks",
    "TimestampFromTicks",
    "Binary",
    "STRING",
    "BINARY",
    "NUMBER",
    "DATETIME",
    "ROWID",
]
