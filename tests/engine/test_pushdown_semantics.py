"""The semantics corpus: what a source keeps for a pushed condition is what the merge keeps.

For every condition of :mod:`semantics_corpus_data` and every source kind (SQLite, PostgreSQL,
MariaDB), the query ``SELECT id FROM t WHERE condition`` is planned, and:

- the merge's answer is computed on all the table's rows as read from that source;
- the source's answer is what it returns for the fragment SQL piot sends (the pushed form);
- a conjunct marked exact must give exactly the merge's rows, a widened one a superset, and
  the fragment's exact filter must bring a widened read back to the merge's rows;
- where the source raises on an exact condition, the merge raises too.

A second test checks the merge itself against PostgreSQL's own answer on the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import connectorx
import polars as pl
import pytest
from corpus_data import run_cli
from semantics_corpus_data import CONDITIONS, TABLE, create_script, write_sqlite

from piot.connectors.read import read_arrow
from piot.engine import Engine, EngineOptions
from piot.errors import Error
from piot.merge.finish import run_merge
from piot.plan.exactness import Exactness
from piot.plan.planner import Plan
from piot.run.task import read_fragment

KINDS = {"sqlite": "lite", "postgres": "pg", "mysql": "my"}


@pytest.fixture(scope="module")
def engine(pg_session_url: str, mysql_session_url: str, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    run_cli("postgres", pg_session_url, create_script("postgres"))
    run_cli("mysql", mysql_session_url, create_script("mysql"))
    path: Path = tmp_path_factory.mktemp("semantics") / "semantics.db"
    write_sqlite(path)
    catalog = {"sources": {"pg": {"url": pg_session_url}, "my": {"url": mysql_session_url}, "lite": {"url": f"sqlite://{path}"}}}
    return Engine(catalog, EngineOptions(split=False))


@pytest.fixture(scope="module")
def all_rows(engine: Engine) -> Callable[[str], pl.DataFrame]:
    """Every row of the corpus table as piot reads it from a source, in piot's types."""
    cache: dict[str, pl.DataFrame] = {}

    def rows(source: str) -> pl.DataFrame:
        if source not in cache:
            _, plan = engine.plan(f"select * from {source}.{TABLE}")
            (fragment,) = plan.fragments
            cache[source] = read_fragment(fragment, plan.scans[0].schema)
        return cache[source]

    return rows


def _merge_ids(plan: Plan, rows: pl.DataFrame) -> set[int] | Error:
    """What the merge keeps of ``rows`` (or the piot error it raises)."""
    scan = plan.scans[0]
    try:
        result = run_merge(plan.merge_sql, {scan.name: rows.select([name for name, _ in scan.schema])}, plan.columns)
    except Error as e:
        return e
    return set(result["id"].to_list())


def _ids(frame: Any) -> set[int]:
    return set(pl.from_arrow(frame)["id"].to_list())  # type: ignore[index]


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("condition", CONDITIONS)
def test_pushed_rows_match_the_merge(condition: str, kind: str, engine: Engine, all_rows: Callable[[str], pl.DataFrame]) -> None:
    source = KINDS[kind]
    try:
        _, plan = engine.plan(f"select id from {source}.{TABLE} where {condition}")
    except Error:
        return  # refused before anything is sent: nothing to compare
    (scan,) = plan.scans
    (fragment,) = scan.fragments
    merged = _merge_ids(plan, all_rows(source))
    decisions = {d.exactness for d in scan.pushdown}
    try:
        sent = _ids(read_arrow(fragment.source, fragment.sql))
    except Error as e:
        assert isinstance(merged, Error) and decisions == {Exactness.EXACT}, f"{kind} raised on {fragment.sql!r} ({e}) where the merge gives {merged}"
        return
    if isinstance(merged, Error):
        return  # the merge raises: the query fails, whatever the source kept
    if decisions <= {Exactness.EXACT}:
        assert sent == merged, f"exact on {kind}: {fragment.sql!r} keeps {sorted(sent)}, the merge {sorted(merged)}"
    else:
        assert sent >= merged, f"widened on {kind}: {fragment.sql!r} keeps {sorted(sent)}, fewer than the merge's {sorted(merged)}"
    filtered = set(read_fragment(fragment, scan.schema)["id"].to_list())
    if Exactness.KEPT_BACK in decisions:
        assert filtered >= merged, f"{kind}: the exact filter {fragment.exact_filter!r} loses rows"
    else:
        assert filtered == merged, f"{kind}: after the exact filter {fragment.exact_filter!r}: {sorted(filtered)}, the merge {sorted(merged)}"


#: where the merge does not (yet) mean what PostgreSQL means; each is a known difference.
MERGE_DIFFERS: dict[str, str] = {
    "cast(i as boolean)": "PostgreSQL casts only 32-bit integers to boolean and raises on a BIGINT; the merge casts any integer",
    "ts in (timestamptz '2024-02-01 10:30:00+00')": "the merge raises (DataError) on a TIMESTAMP compared with a TIMESTAMPTZ in IN",
}


@pytest.mark.parametrize("condition", CONDITIONS)
def test_merge_answers_as_postgresql(condition: str, engine: Engine, all_rows: Callable[[str], pl.DataFrame], pg_session_url: str) -> None:
    try:
        _, plan = engine.plan(f"select id from pg.{TABLE} where {condition}")
    except Error:
        return
    merged = _merge_ids(plan, all_rows("pg"))
    try:
        expected: set[int] | None = _ids(connectorx.read_sql(pg_session_url, f"select id from {TABLE} where {condition}", return_type="arrow"))
    except RuntimeError:
        expected = None
    if condition in MERGE_DIFFERS:
        pytest.xfail(MERGE_DIFFERS[condition])
    if expected is None:
        assert isinstance(merged, Error), f"PostgreSQL raises on {condition!r}; the merge answers {merged}"
    else:
        assert merged == expected, f"{condition!r}: the merge keeps {merged}, PostgreSQL {expected}"
