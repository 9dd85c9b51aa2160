"""Plan a query: one scan per table reference, its fragments, and the SQL the merge runs.

The plan is pure: it needs table metadata (through ``lookup``) but touches no
database, no Ray and no network, so it is tested with SQL in and SQL out. The steps are
the rules of :mod:`piot.plan.pipeline`, run in the order listed there.

Example:
    >>> from piot.connectors import Column, TableInfo, load_catalog
    >>> from piot.connectors.types import declared_type
    >>> from piot.sql.statement import parse_statement
    >>> source = load_catalog({"sources": {"db": {"url": "postgresql://reader@db.internal/markets"}}}).source("db")
    >>> def lookup(name, schema, table):
    ...     columns = (Column("id", declared_type("INTEGER")), Column("d", declared_type("DATE")))
    ...     return TableInfo(source, schema, table, columns, source.settings_for(schema, table))
    >>> statement = parse_statement("select count(*) from db.t where d >= '2024-01-01' and d < '2024-03-01'")
    >>> plan = plan_statement(statement, lookup, PlanOptions(time_unit="monthly"))
    >>> for fragment in plan.fragments:
    ...     print(fragment.sql)
    SELECT COUNT(*) AS "__piot_p0" FROM "public"."t" WHERE ("d" >= CAST('2024-01-01' AS DATE) AND "d" < CAST('2024-02-01' AS DATE)) AND "d" >= CAST('2024-01-01' AS DATE) AND "d" < CAST('2024-03-01' AS DATE)
    SELECT COUNT(*) AS "__piot_p0" FROM "public"."t" WHERE ("d" >= CAST('2024-02-01' AS DATE) AND "d" < CAST('2024-03-01' AS DATE)) AND "d" >= CAST('2024-01-01' AS DATE) AND "d" < CAST('2024-03-01' AS DATE)

    Each fragment's source counts its own rows; the merge adds the counts up:
    >>> plan.merge_sql, plan.columns
    ('SELECT COALESCE(CAST(SUM(CAST("t"."__piot_p0" AS DECIMAL(38, 0))) AS BIGINT), 0) AS "count(*)" FROM "__piot_t0" AS "t"', ('count(*)',))
"""

from __future__ import annotations

from piot.plan.merge_sql import MERGE_DIALECT
from piot.plan.pipeline import run_rules
from piot.plan.state import Plan, PlanningState, PlanOptions
from piot.plan.statistics import Statistics
from piot.plan.tables import Lookup
from piot.sql.statement import Statement

__all__ = ["MERGE_DIALECT", "Plan", "PlanOptions", "plan_statement"]


def plan_statement(
    statement: Statement, lookup: Lookup, options: PlanOptions = PlanOptions(), statistics: Statistics | None = None
) -> Plan:
    """Build the :class:`Plan` of a parsed statement.

    ``statistics`` says where a scan's rows are on its date column (see :mod:`piot.plan.statistics`):
    it closes one-sided bounds, sizes ``auto`` periods by rows and finds the rows of a far range.
    Without it a one-sided bound is not split, ``auto`` goes by the length of the range, and a far
    range is cut coarser.
    """
    # the started state's tree is a copy of the statement's that only the rules see
    return run_rules(PlanningState.start(statement, lookup, options, statistics), private=True).plan
