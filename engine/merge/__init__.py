"""Partial results to answer: the merge SQL with PostgreSQL's meaning, run by Polars over the fragments' rows.

Enters: merge SQL written by the planner (through :mod:`piot.merge.semantics` and :mod:`piot.merge.dialect`) and each scan's frames.
Leaves: the answer as one Polars frame, or a piot error.
"""
