"""The SQL the merge runs over the scans' rows: the qualified query, typed, written for Polars with PostgreSQL's meaning.

sqlglot's ``annotate_types`` types the tree over the catalog's schema; then join keys of
different types are given one type (:mod:`piot.merge.join_keys`), the forms Polars reads
otherwise are rewritten (:mod:`piot.merge.semantics`), and the tree is written in the merge's
dialect (:mod:`piot.merge.dialect`).

Example:
    >>> import sqlglot
    >>> merge_query(sqlglot.parse_one('select "t"."x" is true as "b" from "t" as "t"'), {"t": {"x": "BOOLEAN"}}, "postgres")
    'SELECT COALESCE("t"."x", FALSE) AS "b" FROM "t" AS "t"'
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.schema import Schema

from piot.errors import NotSupportedError
from piot.merge.dialect import PolarsSQL
from piot.merge.join_keys import align_equality_types
from piot.merge.semantics import postgres_semantics
from piot.plan.tables import mapping_schema

if TYPE_CHECKING:
    from piot.plan.state import PlanningState

#: the dialect the merge SQL is written in: PostgreSQL's, as Polars' SQL engine reads it.
MERGE_DIALECT = PolarsSQL


def write_merge_sql(state: PlanningState) -> PlanningState:
    """Rule: write the merge SQL of the tree."""
    dialect = state.statement.dialect
    merge_sql = merge_query(state.query, mapping_schema(state.schema, dialect), dialect, state.options.timezone)
    return replace(state, merge_sql=merge_sql)


def merge_query(query: exp.Query, schema: dict[str, dict[str, str]] | Schema, dialect: str, timezone: str = "UTC") -> str:
    """The merge SQL of a qualified ``query`` over tables of ``schema`` (``query`` is not changed)."""
    try:
        typed = annotate_types(query.copy(), schema=schema, dialect=dialect)
        # the typed tree is this function's own copy: written without another one
        return postgres_semantics(align_equality_types(typed), dialect, timezone).sql(dialect=MERGE_DIALECT, copy=False)
    except SqlglotError as e:
        raise NotSupportedError(f"cannot write this query for the merge: {e}") from e
