"""Tests of the merge: ``concat_fragments`` and ``run_merge`` (frames in, frame out).

The decomposition property: a query over the fragments of a scan, concatenated, is
the query over the unsplit frame, and both equal DuckDB over the same rows. Then the
merge SQL the planner writes for grouped, filtered, ordered and limited queries runs
in Polars and equals DuckDB running the user's SQL over the same frame.
"""

from __future__ import annotations

import datetime as dt
import doctest
import math
from collections.abc import Sequence
from typing import Any

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import piot.merge.finish as merge_module
from piot.connectors import Column, TableInfo, load_catalog
from piot.connectors.types import declared_type
from piot.errors import DataError, NotSupportedError
from piot.merge.finish import concat_fragments, run_merge
from piot.plan.fragments import Scan, SplitDecision
from piot.plan.planner import Plan, plan_statement
from piot.sql.statement import parse_statement
from source_stand_in import shipped

NOW = dt.datetime(2024, 3, 10, 12, 0)
SCHEMA = (("g", pl.String()), ("x", pl.Int64()), ("y", pl.Float64()), ("d", pl.Date()))
SCAN = Scan("__piot_t0", "t", "pg.t", SCHEMA, (), SplitDecision(None, None, "not split"))


def _frame(rows: Sequence[tuple[Any, ...]]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=dict(SCHEMA), orient="row")


# --- concat_fragments ------------------------------------------------------------------


def test_concat_keeps_period_order() -> None:
    frames = [_frame([("a", 1, 1.0, dt.date(2024, 1, 1))]), _frame([]), _frame([("b", 2, None, None), ("c", 3, 3.5, dt.date(2024, 1, 3))])]
    result = concat_fragments(SCAN.table_name, SCAN.schema, frames)
    assert result.schema == pl.Schema(dict(SCHEMA))
    assert result["g"].to_list() == ["a", "b", "c"]


def test_concat_of_no_fragments_is_empty_with_the_declared_schema() -> None:
    result = concat_fragments(SCAN.table_name, SCAN.schema, [])
    assert result.height == 0
    assert result.schema == pl.Schema(dict(SCHEMA))


@pytest.mark.parametrize(
    "other",
    [
        pl.DataFrame({"g": ["b"], "x": pl.Series([2], dtype=pl.Int32()), "y": [2.0], "d": [dt.date(2024, 1, 2)]}),
        pl.DataFrame({"g": ["b"], "x": [2.5], "y": [2.0], "d": [dt.date(2024, 1, 2)]}),
        pl.DataFrame({"g": ["b"], "x": ["2"], "y": [2.0], "d": [dt.date(2024, 1, 2)]}),
        pl.DataFrame({"g": ["b"], "z": [2], "y": [2.0], "d": [dt.date(2024, 1, 2)]}),
        pl.DataFrame({"x": [2], "g": ["b"], "y": [2.0], "d": [dt.date(2024, 1, 2)]}),
        pl.DataFrame({"g": ["b"], "x": [2], "y": [2.0]}),
        pl.DataFrame({"g": ["b"], "x": [2], "y": [2.0], "d": [dt.datetime(2024, 1, 2)]}),
    ],
    ids=["int32", "float", "string", "other name", "other order", "missing column", "datetime for date"],
)
def test_schema_mismatch_between_fragments_is_a_data_error(other: pl.DataFrame) -> None:
    first = _frame([("a", 1, 1.0, dt.date(2024, 1, 1))])
    with pytest.raises(DataError, match="fragments of pg.t disagree on their columns or types"):
        concat_fragments(SCAN.table_name, SCAN.schema, [first, other])


# --- run_merge ---------------------------------------------------------------------------


def test_result_columns_follow_columns() -> None:
    frames = {"__piot_t0": _frame([("a", 1, 1.0, None)])}
    result = run_merge('select x as "sum(x)", g from __piot_t0', frames, ["sum(x)", "g"])
    assert result.columns == ["sum(x)", "g"]
    result = run_merge("select x as a, g as a2 from __piot_t0", frames, ["x", "x_1"])
    assert result.columns == ["x", "x_1"]
    assert run_merge("select x, g from __piot_t0", frames, ["only one"]).columns == ["x", "g"]
    assert run_merge("select x, g from __piot_t0", frames, []).columns == ["x", "g"]


@pytest.mark.parametrize(
    ("sql", "error", "message"),
    [
        ("select nosuch(x) from t", NotSupportedError, r"function nosuch\(\) is not supported"),
        ("select * from nosuch", NotSupportedError, "the merge may read only the tables of its plan"),
        ("selec x from t", NotSupportedError, "the merge cannot run this query"),
        ("select zz from t", NotSupportedError, "the merge cannot resolve a column"),
        ("select x + g from t", DataError, "the merge failed"),
    ],
)
def test_merge_errors(sql: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        run_merge(sql, {"t": _frame([("a", 1, 1.0, None)])}, [])


def test_doctests() -> None:
    assert doctest.testmod(merge_module).failed == 0


# --- decomposition: fragments concatenated == unsplit == DuckDB ----------------------------

AGGREGATES = (
    "select g, sum(x) as s, count(x) as c, count(*) as n, min(x) as lo, max(x) as hi, avg(x) as mean, "
    "count(distinct x) as k, min(d) as first_day, max(y) as top from t group by g order by g nulls last"
)
GLOBAL_AGGREGATES = "select sum(x) as s, count(x) as c, count(*) as n, min(x) as lo, max(x) as hi, avg(y) as mean, count(distinct g) as k from t"

rows_strategy = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", None]),
        st.one_of(st.none(), st.integers(-1000, 1000)),
        st.one_of(st.none(), st.integers(-10**6, 10**6).map(lambda v: v / 64)),
        st.one_of(st.none(), st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2024, 12, 31))),
    ),
    max_size=60,
)


def _cut(rows: list[tuple[Any, ...]], cuts: list[int]) -> list[pl.DataFrame]:
    points = sorted({min(c, len(rows)) for c in cuts} | {0, len(rows)})
    return [_frame(rows[a:b]) for a, b in zip(points, points[1:], strict=False)] or [_frame([])]


def _same(left: list[tuple[Any, ...]], right: list[tuple[Any, ...]]) -> bool:
    if len(left) != len(right):
        return False
    for a_row, b_row in zip(left, right, strict=True):
        for a, b in zip(a_row, b_row, strict=True):
            if isinstance(a, float) or isinstance(b, float):
                if a is None or b is None or not math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9):
                    return False
            elif a != b:
                return False
    return True


def _duckdb(sql: str, frame: pl.DataFrame) -> list[tuple[Any, ...]]:
    t = frame  # noqa: F841 - read by DuckDB
    return duckdb.sql(sql).fetchall()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows_strategy, cuts=st.lists(st.integers(0, 60), max_size=6), sql=st.sampled_from([AGGREGATES, GLOBAL_AGGREGATES]))
def test_aggregates_over_fragments_equal_unsplit_and_duckdb(rows: list[tuple[Any, ...]], cuts: list[int], sql: str) -> None:
    fragments = _cut(rows, cuts)
    merged = run_merge(sql, {"t": concat_fragments(SCAN.table_name, SCAN.schema, fragments)}, [])
    whole = run_merge(sql, {"t": _frame(rows)}, [])
    assert merged.rows() == whole.rows()
    assert _same(merged.rows(), _duckdb(sql, _frame(rows))), (merged.rows(), _duckdb(sql, _frame(rows)))


# --- the planner's merge SQL runs in Polars and equals DuckDB -------------------------------

CATALOG = load_catalog({"sources": {"pg": {"url": "postgresql://reader@db.internal/markets"}, "lite": {"url": "sqlite:///tmp/piot-merge-never-opened.db"}}})
COLUMNS = [("id", "INTEGER"), ("d", "DATE"), ("ts", "TIMESTAMP"), ("name", "TEXT"), ("price", "DOUBLE"), ("qty", "INTEGER")]


def _lookup(source: str, schema: str | None, table: str) -> TableInfo:
    src = CATALOG.source(source)
    columns = tuple(Column(n, declared_type(t, text_dates=src.kind.text_dates)) for n, t in COLUMNS)
    return TableInfo(src, schema, table, columns, src.settings_for(schema, table))


def _table() -> pl.DataFrame:
    rows = []
    for i in range(240):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=(i * 37) % 91)
        moment = dt.datetime.combine(day, dt.time((i * 5) % 24, (i * 13) % 60))
        name = [None, "a", "b", "c", "A"][i % 5]
        price = None if i % 11 == 0 else round(((i * 7919) % 10000) / 100, 2)
        rows.append((i, None if i % 17 == 0 else day, moment, name, price, (i * 31) % 23 - 5))
    schema = {"id": pl.Int64(), "d": pl.Date(), "ts": pl.Datetime("us"), "name": pl.String(), "price": pl.Float64(), "qty": pl.Int64()}
    return pl.DataFrame(rows, schema=schema, orient="row")


TABLE = _table()


def _plan(sql: str) -> Plan:
    return plan_statement(parse_statement(sql, now=NOW), _lookup)


def _merge(sql: str, *, split_into: int = 3) -> pl.DataFrame:
    """Plan ``sql``, hand each scan its needed columns cut into a few fragments, run the merge.

    A scan whose fragments ship partial results reads each of its fragments (DuckDB stands for
    the source, running the fragment's SQL, partial aggregates included) and finishes it as its
    task would.
    """
    plan = _plan(sql)
    frames = {}
    for scan in plan.scans:
        if scan.output.kind != "rows":
            frames[scan.name] = shipped(scan, TABLE)
            continue
        needed = TABLE.select([name for name, _ in scan.schema])
        size = max(1, needed.height // split_into)
        pieces = [needed.slice(i, size) for i in range(0, needed.height, size)]
        frames[scan.name] = concat_fragments(scan.table_name, scan.schema, pieces)
    result = run_merge(plan.merge_sql, frames, plan.columns)
    assert result.columns == list(plan.columns)
    return result


def _duckdb_answer(sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect()
    for schema in ("pg", "lite"):
        con.execute(f"create schema {schema}")
        frame = TABLE  # noqa: F841 - read by DuckDB
        con.execute(f"create table {schema}.t as select * from frame")
        con.execute(f"create table {schema}.u as select * from frame")
    return con.execute(sql.replace("current_date", "date '2024-03-10'")).fetchall()


#: (query, whether ORDER BY fixes the order of every row)
MERGE_QUERIES: list[tuple[str, bool]] = [
    (
        "select name, sum(price), count(*), count(price), min(d), max(ts), avg(qty), count(distinct qty) "
        "from pg.t where d >= '2024-01-15' and d < '2024-03-01' group by name having count(*) > 1 order by name nulls first",
        True,
    ),
    ("select name, sum(qty) as s from pg.t group by name order by s desc, name limit 2 offset 1", True),
    ("select id, price from pg.t where ts between '2024-02-01' and '2024-02-10 12:00' order by price desc nulls last, id limit 5", True),
    ("select d, count(*) from pg.t where d = '2024-01-10' group by d", False),
    ("select count(*) from pg.t where d >= current_date - interval '30' day", True),
    ("select name, avg(price) from pg.t where name ilike 'a' group by name order by 1", True),
    ("select id from pg.t where name not like 'a%' and qty between 0 and 5 order by id limit 7", True),
    ("select extract(month from d) as m, count(*) from pg.t where d is not null group by m order by m", True),
    ("select coalesce(name, 'z') as n, count(*) from pg.t group by n order by n", True),
    ("select distinct name from pg.t order by name", True),
    ("select name, count(*) from pg.t group by name having sum(price) > 100 order by name", True),
    ("select id, qty from pg.t order by qty desc, id limit 10", True),
    ("select id from pg.t where price is null order by id", True),
    ("select count(*), count(distinct name), sum(qty) from pg.t where ts >= '2024-02-01' and ts < '2024-03-01'", True),
    ("select a.id, b.qty from pg.t a join lite.t b on a.id = b.id where a.qty > 10 and b.d < '2024-02-01' order by a.id", True),
    ("select a.name, count(b.id) from pg.t a left join pg.u b on a.id = b.id and b.qty > 5 group by a.name order by a.name", True),
    ("with x as (select name, sum(qty) as s from pg.t group by name) select max(s) from x", True),
    ("select id from pg.t where id in (select id from pg.u where qty = 3) order by id", True),
    ("select name from pg.t where d >= '2024-03-01' union select name from pg.u where qty < -3 order by name", True),
    ("select id, row_number() over (partition by name order by id) from pg.t order by id limit 5", True),
    ("select count(*) filter (where qty > 3), sum(case when qty > 0 then 1 else 0 end) from pg.t", True),
    ("select name, max(price) - min(price) from pg.t group by name order by name", True),
]


@pytest.mark.parametrize(("sql", "ordered"), MERGE_QUERIES)
def test_merge_sql_equals_duckdb(sql: str, ordered: bool) -> None:
    got = _merge(sql).rows()
    expected = _duckdb_answer(sql)
    if not ordered:
        got, expected = sorted(got, key=repr), sorted(expected, key=repr)
    assert _same(got, expected), (got, expected)


def test_merge_sql_does_not_depend_on_the_split() -> None:
    sql = MERGE_QUERIES[0][0]
    assert _same(_merge(sql, split_into=1).rows(), _merge(sql, split_into=7).rows())


def test_median_in_the_merge() -> None:
    got = _merge("select name, median(price) from pg.t group by name order by name").rows()
    assert _same(got, _duckdb_answer("select name, median(price) from pg.t group by name order by name"))


def test_date_column_against_a_time_of_day_string_in_the_merge() -> None:
    sql = "select count(*) from pg.t where d >= '2024-01-10 12:00' and d < '2024-02-01'"
    assert _merge(sql).rows() == _duckdb_answer(sql)
