"""One-sided bounds and ``auto`` by rows on PostgreSQL, MariaDB and SQLite, against each source's oracle.

A bound such as ``d >= '2023-06-01'`` is closed with the column's largest value from the source
(an index lookup, the planner's statistics or a count per day) and cut into periods; the last
period stays open, so a row written after the statistics were taken, past the largest value
they saw, still comes back. ``auto`` sizes periods by the rows the source says each holds: a
busy month is cut into days, quiet and empty months join their neighbours, and the cap holds.
Every answer equals the oracle (the source itself; DuckDB over the same rows for SQLite),
compared after sorting.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import connectorx
import pyarrow as pa
import pytest
import sqlglot
from corpus_data import KIND_PARAMS, Answer, answer_from_arrow, answer_from_rows, assert_same, run_cli

import piot
import piot.connectors.statistics as statistics_module

TABLE = "piot_open_bounds"
Row = tuple[int, "dt.date | None", "dt.datetime | None"]


def _skewed_rows() -> list[Row]:
    """2 rows a month over 2023-2024 (none in June to August 2024), 20 a day over March 2024, and NULLs."""
    rows: list[Row] = []
    for year in (2023, 2024):
        for month in range(1, 13):
            if year == 2024 and month in (6, 7, 8):
                continue
            day = dt.date(year, month, 15)
            rows += [(0, day, dt.datetime(year, month, 15, 10)), (0, day, dt.datetime(year, month, 15, 22, 30))]
    for day in range(1, 31):
        rows += [(0, dt.date(2024, 3, day), dt.datetime(2024, 3, day, hour, 7)) for hour in range(20)]
    rows += [(0, None, None)] * 3
    return [(i + 1, d, ts) for i, (_, d, ts) in enumerate(rows)]


def _literal(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, dt.datetime):
        return f"'{value.isoformat(' ')}'"
    if isinstance(value, dt.date):
        return f"'{value.isoformat()}'"
    return str(value)


def _values(rows: list[Row]) -> str:
    return ", ".join("(" + ", ".join(_literal(v) for v in row) + ")" for row in rows)


def _create_sql(kind: str, table: str, rows: list[Row]) -> str:
    timestamp = {"postgres": "TIMESTAMP", "mysql": "DATETIME(6)", "sqlite": "TIMESTAMP"}[kind]
    script = f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, d DATE, ts {timestamp});\n"
    script += f"CREATE INDEX {table}_d ON {table} (d);\n"
    script += f"INSERT INTO {table} VALUES {_values(rows)};\n"
    if kind == "postgres":
        script += f"ANALYZE {table};\n"  # the planner's statistics, as a maintained table has them
    return script


@dataclass
class Stand:
    """One table in one database: how to change it, its piot catalog, and its oracle."""

    kind: str
    url: str
    table: str
    rows: list[Row] = field(default_factory=list)
    path: Path | None = None

    def run(self, script: str) -> None:
        if self.path is not None:
            with sqlite3.connect(self.path) as handle:
                handle.executescript(script)
            handle.close()
        else:
            run_cli(self.kind, self.url, script)

    def insert(self, row: Row) -> None:
        self.run(f"INSERT INTO {self.table} VALUES {_values([row])};\n")
        self.rows.append(row)

    def catalog(self) -> dict[str, Any]:
        key = f"public.{self.table}" if self.kind == "postgres" else self.table
        return {
            "sources": {
                "ob": {"url": self.url, "tables": {key: {"date_column": "d"}}},
                "ob_ts": {"url": self.url, "tables": {key: {"date_column": "ts"}}},
            }
        }

    def piot_sql(self, template: str) -> str:
        return template.format(t=f"ob.{self.table}", t_ts=f"ob_ts.{self.table}")

    def oracle(self, template: str) -> Answer:
        sql = template.format(t=self.table, t_ts=self.table)
        if self.kind == "postgres":
            return answer_from_arrow(connectorx.read_sql(self.url, sql, return_type="arrow"))
        if self.kind == "mysql":
            mysql = re.sub(r"\bAS DATETIME\)", "AS DATETIME(6))", sqlglot.transpile(sql, read="postgres", write="mysql")[0])
            return answer_from_arrow(connectorx.read_sql(self.url, mysql, return_type="arrow"))
        import duckdb

        with duckdb.connect() as oracle:
            data = pa.table(
                {"id": [r[0] for r in self.rows], "d": [r[1] for r in self.rows], "ts": [r[2] for r in self.rows]},
                schema=pa.schema([("id", pa.int32()), ("d", pa.date32()), ("ts", pa.timestamp("us"))]),
            )
            oracle.register(self.table, data)
            cursor = oracle.execute(sql)
            return answer_from_rows([c[0] for c in cursor.description], cursor.fetchall())


def _stand(kind: str, name: str, rows: list[Row], request: pytest.FixtureRequest, tmp: Path) -> Stand:
    if kind == "sqlite":
        path = tmp / f"{name}.db"
        stand = Stand(kind, f"sqlite://{path}", name, list(rows), path)
    else:
        url = request.getfixturevalue("pg_session_url" if kind == "postgres" else "mysql_session_url")
        stand = Stand(kind, url, name, list(rows))
    stand.run(_create_sql(kind, name, rows))
    return stand


@pytest.fixture(scope="module")
def skewed_stands() -> Iterator[dict[str, Stand]]:
    """The skewed table per kind, filled on first use (a kind whose server is missing skips alone), dropped at the end."""
    made: dict[str, Stand] = {}
    yield made
    for stand in made.values():
        if stand.path is None:
            stand.run(f"DROP TABLE IF EXISTS {stand.table};")


@pytest.fixture
def skewed(
    kind: str, skewed_stands: dict[str, Stand], request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Stand:
    if kind not in skewed_stands:
        skewed_stands[kind] = _stand(kind, TABLE, _skewed_rows(), request, tmp_path_factory.mktemp("open_bounds"))
    return skewed_stands[kind]


@pytest.fixture
def late_stand(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stand]:
    """A small table of its own per test (rows are added to it): one row a day over 2024-01 .. 2024-03."""
    rows: list[Row] = [(i + 1, dt.date(2024, 1, 1) + dt.timedelta(days=i), None) for i in range(91)]
    stand = _stand(kind, "piot_late_rows", rows, request, tmp_path)
    yield stand
    if stand.path is None:
        stand.run("DROP TABLE IF EXISTS piot_late_rows;")


@pytest.fixture(scope="module")
def connections() -> Iterator[Callable[..., piot.Connection]]:
    """``connect(stand, **options)``: one connection per table and options, closed at the end."""
    made: dict[tuple[Any, ...], piot.Connection] = {}

    def connect(stand: Stand, **options: Any) -> piot.Connection:
        key = (stand.kind, stand.table, stand.url, tuple(sorted(options.items())))
        if key not in made:
            made[key] = piot.connect(stand.catalog(), **options)
        return made[key]

    yield connect
    for connection in made.values():
        connection.close()


def _answer(connection: piot.Connection, sql: str) -> Answer:
    cursor = connection.cursor()
    cursor.execute(sql)
    return answer_from_arrow(cursor.fetch_arrow())


def _fragments(connection: piot.Connection, sql: str) -> list[tuple[Any, ...]]:
    return [row for row in connection.cursor().execute("EXPLAIN " + sql).fetchall() if row[0] == "fragment"]


def _day(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text[:10])


#: (name, query, the open side: "end" when the last period has no end, "start" when the first has no start)
ONE_SIDED: list[tuple[str, str, str]] = [
    ("from_a_day_on", "SELECT id, d FROM {t} WHERE d >= '2023-06-01'", "end"),
    ("up_to_a_day", "SELECT id, d FROM {t} WHERE d <= '2024-03-10'", "start"),
    (
        "q1_style_arithmetic",
        "SELECT COUNT(*) AS n, MIN(d) AS lo, MAX(d) AS hi FROM {t} WHERE d <= DATE '2024-12-01' - INTERVAL '300' DAY",
        "start",
    ),
    ("after_a_time_of_day", "SELECT id, ts FROM {t_ts} WHERE ts > '2024-03-15 12:00'", "end"),
    ("grouped_before", "SELECT EXTRACT(MONTH FROM d) AS m, COUNT(*) AS n FROM {t} WHERE d < '2024-05-01' GROUP BY 1", "start"),
]
#: an explicit unit, and auto by rows with a target small enough for these few rows
SPLIT_OPTIONS = [{"time_unit": "monthly"}, {"fragment_rows": 10}]


@pytest.mark.parametrize("kind", KIND_PARAMS)
@pytest.mark.parametrize(("name", "template", "open_side"), ONE_SIDED, ids=[c[0] for c in ONE_SIDED])
def test_one_sided_bounds_split_and_equal_the_source(
    kind: str, name: str, template: str, open_side: str, skewed: Stand,
    connections: Callable[..., piot.Connection], ray_session: None,
) -> None:  # fmt: skip
    expected = skewed.oracle(template)
    sql = skewed.piot_sql(template)
    for options in SPLIT_OPTIONS:
        connection = connections(skewed, **options)
        fragments = _fragments(connection, sql)
        assert len(fragments) > 1, f"{name} on {kind} with {options}: {fragments[0][5]}"
        if open_side == "end":
            assert fragments[-1][3] is None and all(f[3] is not None for f in fragments[:-1])
        else:
            assert fragments[0][2] is None and all(f[2] is not None for f in fragments[1:])
        assert "open-ended" in fragments[0][5]
        assert_same(_answer(connection, sql), expected, f"{name} split with {options} on {kind}")
    assert_same(_answer(connections(skewed, split=False), sql), expected, f"{name} unsplit on {kind}")


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_auto_cuts_where_the_rows_are(
    kind: str, skewed: Stand, connections: Callable[..., piot.Connection], ray_session: None
) -> None:
    """600 of 645 rows fall in March 2024: March is cut into days, the quiet and empty months are joined."""
    template = "SELECT id, d, ts FROM {t} WHERE d >= '2023-01-01'"
    connection = connections(skewed, fragment_rows=100)
    fragments = _fragments(connection, skewed.piot_sql(template))
    windows = [(_day(f[2]), _day(f[3])) for f in fragments]
    march = [(a, b) for a, b in windows if a and b and dt.date(2024, 3, 1) <= a and b <= dt.date(2024, 4, 1)]
    assert len(march) >= 4, fragments[0][5]
    assert len(fragments) - len(march) <= 3, windows  # the 21 quiet months ride along with their neighbours
    empty = (dt.date(2024, 6, 1), dt.date(2024, 9, 1))
    assert not [(a, b) for a, b in windows if a and b and empty[0] <= a and b <= empty[1]], windows
    assert "auto by rows" in fragments[0][5] and "busy periods cut finer" in fragments[0][5]
    # PostgreSQL's planner statistics (the table is analysed) with the ends from the index; elsewhere a count per day
    how = "(planner statistics, MIN/MAX by index)" if kind == "postgres" else "(a count per day)"
    assert how in fragments[0][5], fragments[0][5]
    assert_same(_answer(connection, skewed.piot_sql(template)), skewed.oracle(template), f"skewed auto on {kind}")


@pytest.mark.parametrize("kind", KIND_PARAMS)
@pytest.mark.parametrize("cap", [1, 3])
def test_the_fragment_cap_holds(
    kind: str, cap: int, skewed: Stand, connections: Callable[..., piot.Connection], ray_session: None
) -> None:
    template = "SELECT id, d FROM {t} WHERE d > '2023-01-01'"
    connection = connections(skewed, fragment_rows=10, max_fragments=cap)
    assert len(_fragments(connection, skewed.piot_sql(template))) <= cap
    assert_same(_answer(connection, skewed.piot_sql(template)), skewed.oracle(template), f"cap {cap} on {kind}")


@pytest.mark.parametrize("kind", KIND_PARAMS)
@pytest.mark.parametrize("options", SPLIT_OPTIONS, ids=["monthly", "auto"])
def test_a_row_written_past_the_largest_value_seen_is_read(
    kind: str, options: dict[str, Any], late_stand: Stand, connections: Callable[..., piot.Connection], ray_session: None
) -> None:
    """The statistics are taken (and kept) by the first query; rows added then beyond them still come back."""
    connection = connections(late_stand, **options)
    later = "SELECT id, d FROM {t} WHERE d >= '2024-02-01'"
    earlier = "SELECT id, d FROM {t} WHERE d <= '2024-02-15'"
    for template in (later, earlier):
        assert_same(_answer(connection, late_stand.piot_sql(template)), late_stand.oracle(template), f"before on {kind}")
    late_stand.insert((1001, dt.date(2031, 5, 5), None))  # past the largest value the statistics saw
    late_stand.insert((1002, dt.date(1999, 1, 1), None))  # before the smallest
    for template, edge, late_id in ((later, "up to 2024-03-31", 1001), (earlier, "from 2024-01-01", 1002)):
        sql = late_stand.piot_sql(template)
        fragments = _fragments(connection, sql)
        assert len(fragments) > 1 and edge in fragments[0][5]  # still the statistics taken before the rows were added
        assert fragments[-1][3] is None if late_id == 1001 else fragments[0][2] is None  # the open side
        answer = _answer(connection, sql)
        assert late_id in {row[0] for row in answer.rows}, f"the row added beyond the statistics is missing on {kind}"
        assert_same(answer, late_stand.oracle(template), f"after on {kind}")


@pytest.mark.parametrize("kind", [p for p in KIND_PARAMS if p.id == "mysql"])
def test_a_table_too_big_to_count_is_closed_by_its_index(
    kind: str, skewed: Stand, monkeypatch: pytest.MonkeyPatch, ray_session: None
) -> None:
    """Past MAX_COUNTED_ROWS (made tiny here) MariaDB's days are not counted: MIN/MAX by index and TABLE_ROWS spread evenly."""
    monkeypatch.setattr(statistics_module, "MAX_COUNTED_ROWS", 10)
    template = "SELECT id, d FROM {t} WHERE d >= '2023-06-01'"
    with piot.connect(skewed.catalog(), fragment_rows=50) as connection:
        fragments = _fragments(connection, skewed.piot_sql(template))
        assert len(fragments) > 1 and fragments[-1][3] is None
        assert "(MIN/MAX by index, the table's row estimate spread evenly)" in fragments[0][5], fragments[0][5]
        assert_same(_answer(connection, skewed.piot_sql(template)), skewed.oracle(template), "counted by index on mysql")
