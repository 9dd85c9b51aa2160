"""End to end: piot's answer is PostgreSQL's own answer on the same rows, split and unsplit.

The rows hold what sources disagree on: x.5 and negative prices, a value just under a
rounding edge, infinities, NaN, large quantities, text differing by case and trailing blanks,
NULLs, and a PostgreSQL table whose columns differ only by case. The same rows live in
SQLite and MariaDB (without the special floats, which they cannot hold); PostgreSQL over
those rows is the oracle for every source. Where PostgreSQL raises, piot raises a piot error.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import connectorx
import pytest
from corpus_data import answer_from_arrow, answer_from_rows, run_cli

import piot
from piot.errors import DataError, Error, ProgrammingError

#: (id, price, qty, d, name): price and name are what the casts and comparisons are about.
ROWS: list[tuple[Any, ...]] = [
    (1, 2.7, 10, dt.date(2024, 2, 1), "a"),
    (2, 2.4999, 20, dt.date(2024, 2, 2), "A "),
    (3, 3.2, 30, dt.date(2024, 3, 1), "b"),
    (4, -2.5, 40, dt.date(2024, 2, 1), None),
    (5, 2.5, 1000000, dt.date(2024, 2, 15), "a "),
    (6, 3.5, 2000000, dt.date(2024, 2, 29), "B"),
    (7, -0.5, -30, dt.date(2024, 1, 31), "ab"),
    (8, None, None, None, None),
]
#: rows only PostgreSQL can hold
SPECIAL = [(9, float("inf"), 1, dt.date(2024, 2, 3), "inf"), (10, float("nan"), 2, dt.date(2024, 2, 4), "nan"), (11, float("-inf"), 3, dt.date(2024, 2, 5), "-inf")]
DDL = "create table {t} (id integer, price double precision, qty bigint, d date, name varchar(10))"


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return f"'{value!r}'".replace("'inf'", "'Infinity'").replace("'-inf'", "'-Infinity'").replace("'nan'", "'NaN'")
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value) + "'"


def _inserts(table: str, rows: list[tuple[Any, ...]]) -> str:
    values = ", ".join("(" + ", ".join(_literal(v) for v in row) + ")" for row in rows)
    return f"insert into {table} values {values};"


@pytest.fixture(scope="module")
def sources(pg_session_url: str, mysql_session_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The rows in all three databases; the catalog's source names point at them."""
    run_cli(
        "postgres",
        pg_session_url,
        f"{DDL.format(t='sem_t')}; {_inserts('sem_t', ROWS)}"
        f"{DDL.format(t='sem_special')}; {_inserts('sem_special', ROWS + SPECIAL)}"
        'create table sem_case ("A" integer, a integer, "Mixed" text, ab_c integer); insert into sem_case values (1, 2, \'m\', 3);',
    )
    run_cli("mysql", mysql_session_url, f"{DDL.format(t='sem_t')}; {_inserts('sem_t', ROWS)}")
    path: Path = tmp_path_factory.mktemp("sem") / "sem.db"
    with sqlite3.connect(path) as handle:
        handle.execute(DDL.format(t="sem_t").replace("double precision", "real"))
        handle.executemany("insert into sem_t values (?, ?, ?, ?, ?)", [(*r[:3], r[3].isoformat() if r[3] else None, r[4]) for r in ROWS])
    return {"pg": pg_session_url, "my": mysql_session_url, "lite": f"sqlite://{path}"}


@pytest.fixture(scope="module")
def connect(sources: dict[str, str]) -> Callable[[bool], piot.Connection]:
    cache: dict[bool, piot.Connection] = {}

    def get(split: bool) -> piot.Connection:
        if split not in cache:
            catalog = {"sources": {name: {"url": url, "tables": {"sem_t": {"date_column": "d"}}} for name, url in sources.items()}}
            cache[split] = piot.connect(catalog, split=split, time_unit="monthly")
        return cache[split]

    return get


def _piot(connection: piot.Connection, sql: str) -> Any:
    cursor = connection.cursor()
    cursor.execute(sql)
    return answer_from_rows([d[0] for d in cursor.description], cursor.fetchall())


def _postgres(url: str, sql: str) -> Any:
    return answer_from_arrow(connectorx.read_sql(url, sql, return_type="arrow"))


def _sorted(answer: Any) -> Any:
    return (answer.columns, sorted(answer.rows, key=repr))


# --- column names keep their case where PostgreSQL's do -----------------------------------

CASE_QUERIES = [
    "select * from {t}",
    'select "A", a, "Mixed" from {t}',
    "select A, MIXED_or_not from {t}",
    "select ab from {t}",
    'select "a" from {t} where "A" = 1',
    "select mixed from {t}",
    'select "AB_C" from {t}',
    "select AB_C from {t}",
]


@pytest.mark.parametrize("template", CASE_QUERIES)
def test_postgres_column_names_keep_their_case(template: str, sources: dict[str, str], connect: Callable[[bool], piot.Connection]) -> None:
    try:
        expected = _postgres(sources["pg"], template.format(t="sem_case"))
    except RuntimeError:
        with pytest.raises(ProgrammingError, match="unknown column"):
            _piot(connect(False), template.format(t="pg.sem_case"))
        return
    assert _sorted(_piot(connect(False), template.format(t="pg.sem_case"))) == _sorted(expected)


# --- every source answers as PostgreSQL does on the same rows -------------------------------

#: queries over ``{t}``; each runs on every source, unsplit and split on d (see ``_split``).
QUERIES = [
    "select id from {t} where cast(price as integer) = 3",
    "select id from {t} where cast(price as integer) = -2",
    "select id from {t} where cast(price as numeric(5, 1)) = 2.5",
    "select id from {t} where cast(price as numeric(5, 1)) = -2.5",
    "select id from {t} where cast(qty as double precision) * 0.5 = 5",
    "select id from {t} where cast(d as text) = '2024-02-01'",
    "select id from {t} where cast(d as text) like '2024-02%'",
    "select id from {t} where price < 'inf'::float",
    "select id from {t} where price > '-Infinity'::float",
    "select id from {t} where price <> 'NaN'::float",
    "select id from {t} where price = 'NaN'::float",
    "select id from {t} where name = 'a'",
    "select id from {t} where name = 'A'",
    "select id from {t} where name = 'a '",
    "select id from {t} where name <> 'a'",
    "select id from {t} where name in ('a', 'B', 'x')",
    "select id from {t} where name like 'a%'",
    "select id from {t} where name not like 'a%'",
    "select id from {t} where not (name = 'a' or name like 'b%')",
    "select id from {t} where name is null",
    "select id from {t} where price * 2 > 5",
    "select id from {t} where -qty < -15",
    "select id from {t} where qty * 4611686018427387904 > 0",
    "select id from {t} where qty + 1 > 20",
    "select id from {t} where qty = 9223372036854775808",
    "select id from {t} where d = '2024-02-01'",
    "select id from {t} where log(abs(qty) + 1) > 1.5",
    "select id from {t} where log(2, abs(qty) + 1) > 4.5",
    "select id from {t} where price * 1e307 > 1e307",
    "select id, price::text as pt, (price * 2)::text as p2 from {t} where price is not null",
    "select id from {t} where d in ('2024-02-01', '2024-02-29')",
]


def _split(template: str) -> str:
    return template.replace("where", "where d between '2024-01-01' and '2024-03-31' and", 1)


@pytest.mark.parametrize("split", [False, True], ids=["unsplit", "split"])
@pytest.mark.parametrize("source", ["pg", "my", "lite"])
@pytest.mark.parametrize("template", QUERIES)
def test_answers_are_postgresql_answers(
    template: str, source: str, split: bool, sources: dict[str, str], connect: Callable[[bool], piot.Connection]
) -> None:
    if split:
        template = _split(template)
    try:
        expected = _postgres(sources["pg"], template.format(t="sem_t"))
    except RuntimeError:
        with pytest.raises(Error):
            _piot(connect(split), template.format(t=f"{source}.sem_t"))
        return
    assert _sorted(_piot(connect(split), template.format(t=f"{source}.sem_t"))) == _sorted(expected)


@pytest.mark.parametrize("split", [False, True], ids=["unsplit", "split"])
@pytest.mark.parametrize("template", [q for q in QUERIES if "price" in q or "name" in q])
def test_special_floats_answer_as_postgresql(
    template: str, split: bool, sources: dict[str, str], connect: Callable[[bool], piot.Connection]
) -> None:
    """On rows holding infinities and NaN (only PostgreSQL holds them)."""
    if split:
        template = _split(template)
    try:
        expected = _postgres(sources["pg"], template.format(t="sem_special"))
    except RuntimeError:  # a cast of infinity to an integer or a numeric is out of range
        with pytest.raises(Error):
            _piot(connect(split), template.format(t="pg.sem_special"))
        return
    assert _sorted(_piot(connect(split), template.format(t="pg.sem_special"))) == _sorted(expected)


#: where PostgreSQL raises, piot raises the error class given; where it answers, piot answers the same.
OVERFLOWS = [
    ("select 2147483647::int + 1", DataError),
    ("select 9223372036854775807 + 1", DataError),
    ("select -9223372036854775807 - 2", DataError),
    ("select power(10, 400)", DataError),
    ("select power(2, 10)", None),
    ("select ln(0)", DataError),
    ("select ln(qty - qty) from {t}", DataError),
    ("select sqrt(-1)", DataError),
    ("select sqrt(4)", None),
    ("select exp(1000)", DataError),
    ("select exp(2)", None),
    ("select '1e400'::float", DataError),
    ("select sum(qty * 9223372036854775) from {t}", DataError),
    ("select sum(qty * 46116860184)::bigint from {t}", None),
    ("select id, qty * 4611686018427387 from {t} where id = 1", None),
    ("select max(qty * 4611686018427387904) from {t}", DataError),
    ("select log(2, 8), log(100), log(10)", None),
    ("select round(log(2, qty)::numeric, 9), round(log(qty)::numeric, 9) from {t} where qty > 0", None),
    ("select log(0)", DataError),
    ("select log(-2, 8)", DataError),
    ("select log(1, 10)", DataError),
    ("select log(2, qty - qty) from {t}", DataError),
    ("select log(qty - qty) from {t}", DataError),
    ("select id, price * 2, price / 4 from {t} where id = 1", None),
    ("select price * 1e308 from {t}", DataError),
    ("select 1e300::float8 * 1e300::float8", DataError),
    ("select -1e308::float8 - 1e308::float8", DataError),
    ("select price / 1e-308::float8 from {t}", DataError),
    ("select 1e-200::float8 * 1e-200::float8", DataError),
    ("select price * 1e-320::float8 * 1e-10::float8 from {t}", DataError),
    ("select 3000000000 + 1, (3000000000 * 2) - 1, -3000000000 - 1", None),
    ("select 2147483647 + 1", DataError),
    ("select 9223372036854775807 + '1'", DataError),
    ("select '1' + 2, 2 * '3', 2.5 * '2'", None),
    ("select '1.5' + 2", DataError),
    ("select 1 - 'x'", DataError),
    ("select 'a' + 'b'", ProgrammingError),
    ("select name + 1 from {t}", ProgrammingError),
    ("select id + '1' from {t} where id = 1", None),
    ("select abs(-9223372036854775807 - 1)", DataError),
    ("select -(-9223372036854775807 - 1)", DataError),
    ("select abs(qty), -qty, abs(-qty) from {t} where id = 7", None),
    ("select avg(d) from {t}", ProgrammingError),
    ("select sum(name) from {t}", ProgrammingError),
    ("select id from {t} where cast(d as char(3)) = '202'", None),
    ("select id from {t} where cast(d as char(3)) between '2024-02-01' and '2024-02-02'", None),
    ("select id from {t} where cast(name as char(5)) = 'a' and id < 8", None),
    ("select power(0, -1)", DataError),
    ("select power(-8, 0.5)", DataError),
    ("select power(qty - qty, -1) from {t}", DataError),
    ("select power(-qty, 0.5) from {t} where qty > 0", DataError),
    ("select id from {t} where qty = 123456 order by power(10, 400)", DataError),
    ("select id from {t} where qty = 123456 and abs(-9223372036854775807 - 1) > 100", DataError),
    ("select id from {t} where qty = 123456 and 2147483647 + 1 > 0", DataError),
    ("select id, 2147483647 + 0, -9223372036854775807 - 1 from {t} where id = 1", None),
    ("select id from {t} where d < '2024-04-01'::char(3)::date", DataError),
]


@pytest.mark.parametrize("split", [False, True], ids=["unsplit", "split"])
@pytest.mark.parametrize("source", ["pg", "my", "lite"])
@pytest.mark.parametrize(("template", "error"), OVERFLOWS)
def test_overflow_raises_as_in_postgresql(
    template: str, error: type[Error] | None, source: str, split: bool, sources: dict[str, str], connect: Callable[[bool], piot.Connection]
) -> None:
    if split and "where" in template:
        template = _split(template)
    elif split and "{t}" in template:
        template += " where d between '2024-01-01' and '2024-03-31'"
    if error is not None:
        with pytest.raises(RuntimeError):
            _postgres(sources["pg"], template.format(t="sem_t"))
        with pytest.raises(error):
            _piot(connect(split), template.format(t=f"{source}.sem_t"))
        return
    expected = _postgres(sources["pg"], template.format(t="sem_t"))
    assert [tuple(map(float, r)) for r in _sorted(_piot(connect(split), template.format(t=f"{source}.sem_t")))[1]] == [
        tuple(map(float, r)) for r in _sorted(expected)[1]
    ]
