"""Plan to partial results: start or join Ray, schedule the fragments, read each one in a task.

Enters: the scans of a plan and the run options (concurrency, remote options, cancel, progress).
Leaves: each scan's fragment results as Polars frames (measured per fragment for EXPLAIN ANALYZE), or one redacted piot error.
"""
