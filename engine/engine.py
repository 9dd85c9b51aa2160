"""The engine every front-end uses: plan a query, run its fragments on Ray, merge with Polars."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import sqlglot

from piot.connectors.catalog import TIME_UNITS, Catalog, load_catalog
from piot.connectors.introspect import SchemaCache
from piot.connectors.limits import check_timeout_setting
from piot.connectors.statistics import StatisticsCache
from piot.errors import ProgrammingError
from piot.merge.finish import concat_fragments, run_merge
from piot.plan.periods import MAX_PERIODS
from piot.plan.planner import Plan, PlanOptions, plan_statement
from piot.run.execute import RETURN_FORMATS, Progress, execute_scans
from piot.run.measures import RunMeasures
from piot.run.runtime import check_feasible, ensure_ray
from piot.run.spill import DEFAULT_MEMORY_BUDGET, Spill
from piot.sql.statement import Statement, parse_statement
from piot.sql.zones import zone_for


@dataclass(frozen=True)
class EngineOptions:
    """Settings of one connection (see :func:`piot.connect`)."""

    ray_address: str | None = None
    dialect: str = "postgres"
    time_unit: str | None = None
    max_concurrency: int = 100
    return_as: str = "arrow"
    remote_options: Mapping[str, Any] = field(default_factory=dict)
    split: bool = True
    timezone: str = "UTC"
    max_fragments: int = MAX_PERIODS
    query_timeout: float | None = None
    memory_budget: int | None = DEFAULT_MEMORY_BUDGET

    def __post_init__(self) -> None:
        zone_for(self.timezone)  # an unknown zone is refused when connecting
        try:
            object.__setattr__(self, "query_timeout", check_timeout_setting(self.query_timeout, "query_timeout"))
        except ValueError as e:
            raise ProgrammingError(str(e)) from None
        if self.time_unit is not None and self.time_unit not in TIME_UNITS:
            raise ProgrammingError(f"time_unit must be one of {', '.join(TIME_UNITS)}, not {self.time_unit!r}")
        if self.return_as not in RETURN_FORMATS:
            raise ProgrammingError(f"return_as must be one of {', '.join(RETURN_FORMATS)}, not {self.return_as!r}")
        if not isinstance(self.max_fragments, int) or isinstance(self.max_fragments, bool) or self.max_fragments < 1:
            raise ProgrammingError(f"max_fragments must be a positive integer, not {self.max_fragments!r}")
        if self.memory_budget is not None and (not isinstance(self.memory_budget, int) or isinstance(self.memory_budget, bool) or self.memory_budget < 0):
            raise ProgrammingError(f"memory_budget must be a number of bytes (0 or more) or None, not {self.memory_budget!r}")
        if not isinstance(self.max_concurrency, int) or self.max_concurrency < 1:
            raise ProgrammingError(f"max_concurrency must be a positive integer, not {self.max_concurrency!r}")
        try:
            sqlglot.Dialect.get_or_raise(self.dialect)
        except ValueError:
            raise ProgrammingError(f"unknown SQL dialect {self.dialect!r}") from None


class Engine:
    """Plans and runs queries over one catalog with one set of options."""

    def __init__(self, catalog: str | Mapping[str, Any] | Catalog, options: EngineOptions | None = None) -> None:
        self.catalog = load_catalog(catalog)
        self.options = options or EngineOptions()
        self.schemas = SchemaCache(self.catalog)
        self.statistics = StatisticsCache()

    def plan(
        self, sql: str, parameters: Sequence[Any] | None = None, *, now: dt.datetime | None = None
    ) -> tuple[Statement, Plan]:
        """Parse and plan ``sql``; touches sources only to learn table columns (once per table).

        ``now`` is the instant ``NOW()`` and ``CURRENT_DATE`` are folded to (default: the clock).
        """
        options = self.options
        try:
            statement = parse_statement(sql, dialect=options.dialect, parameters=parameters, now=now, timezone=options.timezone)
            plan_options = PlanOptions(
                time_unit=options.time_unit, split=options.split, timezone=options.timezone, max_periods=options.max_fragments
            )
            return statement, plan_statement(statement, self.schemas, plan_options, self.statistics.first_row)
        except RecursionError:
            raise ProgrammingError("query nested too deeply: write it with fewer nested expressions or subqueries") from None

    def execute(
        self,
        plan: Plan,
        *,
        progress: Progress | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        measures: RunMeasures | None = None,
    ) -> pl.DataFrame:
        """Run a plan's fragments on Ray and merge them.

        ``measures`` (EXPLAIN ANALYZE) is filled with what each fragment did in its task and
        with the merge's time and result; the run is otherwise the same.
        """
        ensure_ray(self.options.ray_address)
        check_feasible(self.options.remote_options)
        with Spill(self.options.memory_budget) as spill:  # rows past the budget wait on disk until the merge is done
            frames = execute_scans(
                plan.scans,
                max_concurrency=self.options.max_concurrency,
                return_as=self.options.return_as,
                remote_options=self.options.remote_options,
                progress=progress,
                on_progress=on_progress,
                enough=None if plan.row_limit is None else (lambda rows: sum(rows.values()) >= plan.row_limit),  # type: ignore[operator]
                measures=measures,
                spill=spill,
            )
            started = time.perf_counter()
            merged_inputs = {scan.name: concat_fragments(scan.table_name, scan.output_schema, frames[scan.name]) for scan in plan.scans}
            result = run_merge(plan.merge_sql, merged_inputs, plan.columns)
        if measures is not None:
            measures.merge_seconds = time.perf_counter() - started
            measures.result_rows, measures.result_bytes = result.height, result.to_arrow().nbytes
        return result
