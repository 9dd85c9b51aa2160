"""TIMESTAMP WITH TIME ZONE, and the clock, against PostgreSQL itself.

The same rows (instants every 2 h 17 min from February to November 2024, plus instants on
UTC and Berlin midnights, on both DST changes of Europe/Berlin and on the queries' own bounds,
each one microsecond either side) sit in a PostgreSQL database of this module's own whose
session TimeZone is Europe/Berlin (``ALTER DATABASE ... SET timezone``), and in a MariaDB
database (TIMESTAMP column, written in a UTC session). PostgreSQL runs every query itself
and is the oracle: piot split daily, split monthly and unsplit must give its answer, on
both sources, for ranges with offsets, DST changes, bounds without offsets (read in the
connection's ``timezone``, as PostgreSQL reads them in its session zone), aware bound
parameters, and NOW()/CURRENT_DATE-relative bounds under several ``timezone`` options
(PostgreSQL's answer under ``TimeZone`` set to the same zone with the same frozen instant).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import connectorx
import pytest
from corpus_data import Answer, answer_from_arrow, assert_same, run_cli

import piot

UTC = dt.timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
pytestmark = pytest.mark.usefixtures("ray_session")


def _instants() -> list[dt.datetime]:
    values: list[dt.datetime] = []
    moment, step = dt.datetime(2024, 2, 20, tzinfo=UTC), dt.timedelta(hours=2, minutes=17, seconds=13, microseconds=250)
    while moment < dt.datetime(2024, 11, 10, tzinfo=UTC):
        values.append(moment)
        moment += step
    edges: list[dt.datetime] = []
    for day in ("2024-02-28", "2024-02-29", "2024-03-01", "2024-03-30", "2024-03-31", "2024-04-01", "2024-04-02",
                "2024-10-26", "2024-10-27", "2024-10-28", "2024-11-01"):  # fmt: skip
        midnight = dt.datetime.fromisoformat(day)
        edges += [midnight.replace(tzinfo=UTC), midnight.replace(tzinfo=BERLIN).astimezone(UTC)]
    edges += [dt.datetime.fromisoformat(t) for t in (
        "2024-03-31 01:00:00+00:00",  # Berlin jumps from 02:00 to 03:00
        "2024-10-27 00:00:00+00:00", "2024-10-27 00:30:00+00:00",  # 02:00 and 02:30 the first time
        "2024-10-27 01:00:00+00:00", "2024-10-27 01:30:00+00:00",  # 02:00 and 02:30 again (+01:00)
        "2024-02-29 00:00:00+00:00", "2024-03-15 15:00:00+00:00",  # the offset bounds of the queries
        "2024-03-31 22:30:00+00:00",  # the frozen clock
    )]  # fmt: skip
    for edge in edges:
        values += [edge - dt.timedelta(microseconds=1), edge, edge + dt.timedelta(microseconds=1)]
    return sorted(set(values))


ROWS = [(i, at, at.astimezone(BERLIN).replace(tzinfo=None), at.astimezone(BERLIN).date()) for i, at in enumerate(_instants())]
NULL_IDS = range(len(ROWS), len(ROWS) + 3)


def _values(instant_text: Any) -> str:
    rows = [f"({i}, '{instant_text(at)}', '{ts.isoformat(' ')}', '{d.isoformat()}')" for i, at, ts, d in ROWS]
    rows += [f"({i}, NULL, NULL, NULL)" for i in NULL_IDS]
    return ",\n".join(rows)


def _database_name() -> str:
    return f"piot_corpus_{os.getpid()}_tz{secrets.token_hex(3)}"  # dropped as an orphan if this run dies


def _with_database(url: str, database: str) -> str:
    return urlsplit(url)._replace(path="/" + database).geturl()


@pytest.fixture(scope="module")
def berlin_pg(pg_url: str) -> Iterator[str]:
    """A PostgreSQL database of this module's own, session TimeZone Europe/Berlin, with the events table."""
    database = _database_name()
    run_cli("postgres", pg_url, f"CREATE DATABASE {database};")
    try:
        run_cli("postgres", pg_url, f"ALTER DATABASE {database} SET timezone = 'Europe/Berlin';")
        url = _with_database(pg_url, database)
        run_cli(
            "postgres",
            url,
            "CREATE TABLE events (id integer PRIMARY KEY, at timestamptz, ts timestamp, d date);\n"
            f"INSERT INTO events VALUES\n{_values(lambda at: at.isoformat(' '))};",
        )
        zone = connectorx.read_sql(url, "SELECT current_setting('TimeZone') AS z", return_type="arrow").column(0)[0].as_py()
        assert zone == "Europe/Berlin"
        yield url
    finally:
        run_cli("postgres", pg_url, f"DROP DATABASE IF EXISTS {database} WITH (FORCE);")


@pytest.fixture(scope="module")
def events_mysql(mysql_url: str) -> Iterator[str]:
    """The same rows in MariaDB: ``at`` a TIMESTAMP (kept in UTC), ``ts`` a DATETIME, written in a UTC session."""
    database = _database_name()
    run_cli("mysql", mysql_url, f"CREATE DATABASE {database};")
    try:
        url = _with_database(mysql_url, database)
        run_cli(
            "mysql",
            url,
            "SET time_zone = '+00:00';\n"
            "CREATE TABLE events (id INTEGER PRIMARY KEY, at TIMESTAMP(6) NULL DEFAULT NULL, ts DATETIME(6), d DATE);\n"
            f"INSERT INTO events VALUES\n{_values(lambda at: at.astimezone(UTC).replace(tzinfo=None).isoformat(' '))};",
        )
        yield url
    finally:
        run_cli("mysql", mysql_url, f"DROP DATABASE IF EXISTS {database};")


def _catalog(pg: str, my: str) -> dict[str, Any]:
    return {"sources": {"pg": {"url": pg}, "my": {"url": my}}}


def _oracle(pg: str, sql: str, zone: str | None = None) -> Answer:
    """PostgreSQL's answer, in its database's session zone (Europe/Berlin) or under ``TimeZone`` = ``zone``."""
    url = pg if zone is None else f"{pg}?options={quote(f'-c TimeZone={zone}', safe='')}"
    return answer_from_arrow(connectorx.read_sql(url, sql, return_type="arrow"))


def _piot(catalog: dict[str, Any], sql: str, *, split: bool, time_unit: str | None, timezone: str,
          parameters: list[Any] | None = None, now: dt.datetime | None = None) -> tuple[Answer, int]:  # fmt: skip
    """piot's answer and the number of fragments it read."""
    with piot.connect(catalog, split=split, time_unit=time_unit, timezone=timezone) as connection:
        _, plan = connection.engine.plan(sql, parameters, now=now)
        frame = connection.engine.execute(plan)
    return answer_from_arrow(frame.to_arrow()), len(plan.fragments)


@dataclass(frozen=True)
class Case:
    """A query over ``{t}`` (the events table), in PostgreSQL's dialect.

    Attributes:
        daily: also run split daily (short ranges).
        splits: the range has calendar boundaries inside (an equality has none).
        timezone: piot's ``timezone`` option, the zone PostgreSQL's session has (Europe/Berlin).
    """

    name: str
    sql: str
    daily: bool = True
    timezone: str = "Europe/Berlin"
    splits: bool = True


CASES = [
    Case("offsets", "SELECT id, at FROM {t} WHERE at >= TIMESTAMPTZ '2024-02-29 05:00:00+05' AND at < TIMESTAMPTZ '2024-03-15 12:00:00-03'"),
    Case("offsets, piot in UTC", "SELECT id, at FROM {t} WHERE at >= TIMESTAMPTZ '2024-02-29 05:00:00+05' "
         "AND at < TIMESTAMPTZ '2024-03-15 12:00:00-03'", timezone="UTC"),
    Case("offsets, piot in Tokyo", "SELECT id FROM {t} WHERE at > '2024-02-29 05:00:00+05' AND at <= '2024-03-15 12:00:00-03'",
         timezone="Asia/Tokyo"),
    Case("untyped text with offsets", "SELECT id FROM {t} WHERE at >= '2024-02-29 05:00:00+05:00' AND at < '2024-03-10 00:00:00+00'"),
    Case("spring DST change", "SELECT count(*) AS n, min(at) AS first, max(at) AS last FROM {t} "
         "WHERE at >= '2024-03-30 00:00:00+01' AND at < '2024-04-02 00:00:00+02'"),
    Case("autumn DST change", "SELECT id, at FROM {t} WHERE at BETWEEN '2024-10-26 22:00:00+00' AND '2024-10-28 00:00:00+01'"),
    Case("wall times around the jump forward", "SELECT id FROM {t} WHERE at >= '2024-03-30 23:59:59.999999' AND at < '2024-03-31 03:00:00.000001'"),
    Case("a repeated wall time", "SELECT id FROM {t} WHERE at >= '2024-10-27 02:30:00' AND at < TIMESTAMP '2024-10-28 06:00:00'"),
    Case("date bounds on instants", "SELECT id FROM {t} WHERE at >= DATE '2024-03-30' AND at <= DATE '2024-04-01'"),
    Case("equality on an instant", "SELECT id FROM {t} WHERE at = TIMESTAMPTZ '2024-10-27 02:30:00+01'", splits=False),
    Case("months of instants", "SELECT count(*) AS n, min(id) AS lo, max(id) AS hi FROM {t} "
         "WHERE at >= '2024-02-25 00:00:00+00' AND at < '2024-11-03 00:00:00+01'", daily=False),
    Case("wall-time column against instants", "SELECT id FROM {t} WHERE ts >= TIMESTAMPTZ '2024-03-31 00:30:00+00' "
         "AND ts < TIMESTAMPTZ '2024-04-01 00:00:00+00'"),
    Case("date column against instants", "SELECT id FROM {t} WHERE d >= TIMESTAMPTZ '2024-03-30 23:30:00+00' "
         "AND d <= DATE '2024-04-03'"),
]  # fmt: skip
SOURCES = ["pg", "my"]


def _table(source: str) -> str:
    return "pg.public.events" if source == "pg" else "my.events"


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_split_unsplit_and_postgresql_agree(case: Case, source: str, berlin_pg: str, events_mysql: str) -> None:
    catalog = _catalog(berlin_pg, events_mysql)
    expected = _oracle(berlin_pg, case.sql.format(t="events"))
    assert expected.rows, "every case selects some rows"
    sql = case.sql.format(t=_table(source))
    runs = [(False, None), (True, "monthly")] + ([(True, "daily")] if case.daily else [])
    for split, unit in runs:
        actual, fragments = _piot(catalog, sql, split=split, time_unit=unit, timezone=case.timezone)
        assert_same(actual, expected, f"{source}, split={split} {unit or ''}, timezone={case.timezone}")
        if split and case.splits and (unit == "daily" or not case.daily):
            assert fragments > 1, "the case must split"


ZONES = ["UTC", "Europe/Berlin", "Asia/Tokyo", "America/New_York"]
FROZEN = dt.datetime(2024, 3, 31, 22, 30, tzinfo=UTC)  # already April 1st in Berlin and Tokyo, not in New York
RELATIVE = [
    "SELECT id FROM {t} WHERE at >= now() - interval '2 days' AND at < now()",
    "SELECT id FROM {t} WHERE at >= current_date - 1 AND at < current_date + interval '1 day'",
    "SELECT id FROM {t} WHERE ts > localtimestamp - interval '36 hours' AND ts <= localtimestamp",
    "SELECT id FROM {t} WHERE d BETWEEN current_date - 3 AND current_date",
    "SELECT id FROM {t} WHERE at >= current_timestamp - interval '1 month' AND at < current_timestamp - interval '1 day'",
]


def _frozen(sql: str) -> str:
    """The query as PostgreSQL runs it at the frozen instant: its clock functions replaced by that instant."""
    instant = f"TIMESTAMPTZ '{FROZEN.isoformat(' ')}'"
    for name, value in (("localtimestamp", f"({instant})::timestamp"), ("current_timestamp", instant),
                        ("current_date", f"({instant})::date"), ("now()", instant)):  # fmt: skip
        sql = sql.replace(name, value)
    return sql


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("template", RELATIVE)
def test_relative_bounds_follow_the_timezone_option(template: str, zone: str, source: str, berlin_pg: str, events_mysql: str) -> None:
    catalog = _catalog(berlin_pg, events_mysql)
    expected = _oracle(berlin_pg, _frozen(template.format(t="events")), zone=zone)
    assert expected.rows
    sql = template.format(t=_table(source))
    for split, unit in ((False, None), (True, "daily")):
        actual, _ = _piot(catalog, sql, split=split, time_unit=unit, timezone=zone, now=FROZEN)
        assert_same(actual, expected, f"{source}, timezone={zone}, split={split}")


#: the merge's date and time functions on instants work in the ``timezone`` option, as PostgreSQL's in its session zone
RANGE = "at >= '2024-03-29 20:00:00+00' AND at < '2024-04-02 04:00:00+00'"
AUTUMN = "at >= '2024-10-26 20:00:00+00' AND at < '2024-10-27 04:00:00+00'"  # Berlin's repeated hour
ZONE_FUNCTIONS = [
    "SELECT id, CAST(at AS DATE) AS day FROM {t} WHERE " + RANGE,
    "SELECT id, CAST(at AS TIMESTAMP) AS wall FROM {t} WHERE " + RANGE,
    "SELECT date_trunc('day', at) AS day, count(*) AS n FROM {t} WHERE " + RANGE + " GROUP BY 1",
    "SELECT date_trunc('hour', at) AS hour, min(id) AS first FROM {t} WHERE " + RANGE + " GROUP BY 1",
    "SELECT EXTRACT(HOUR FROM at) AS h, EXTRACT(DAY FROM at) AS dd, count(*) AS n FROM {t} WHERE " + RANGE + " GROUP BY 1, 2",
    "SELECT id FROM {t} WHERE " + RANGE + " AND CAST(at AS DATE) = DATE '2024-03-31'",
    "SELECT id, at FROM {t} WHERE " + RANGE + " AND at < TIMESTAMPTZ '2024-03-31 03:30:00+02'",
    "SELECT CAST(at AS DATE) AS day, count(*) AS n FROM {t} WHERE " + RANGE + " GROUP BY 1 ORDER BY 1",
    "SELECT id, date_trunc('hour', at) AS hour, date_trunc('minute', at) AS minute FROM {t} WHERE " + AUTUMN,
    "SELECT date_trunc('month', at) AS month, date_trunc('week', at) AS week, count(*) AS n FROM {t} WHERE " + AUTUMN + " GROUP BY 1, 2",
    "SELECT date_trunc('month', d) AS m, date_trunc('day', d) AS dd, count(*) AS n FROM {t} WHERE " + RANGE + " GROUP BY 1, 2",
    "SELECT id FROM {t} WHERE " + RANGE + " AND date_trunc('day', d) = '2024-03-31'",
    "SELECT id FROM {t} WHERE " + RANGE + " AND date_trunc('day', d) BETWEEN '2024-03-31' AND '2024-04-01 01:00:00+02'",
    "SELECT id FROM {t} WHERE " + RANGE + " AND date_trunc('day', d) < at AND at < date_trunc('day', d) + INTERVAL '1 day'",
    "SELECT id, CAST('2024-03-31 02:30:00' AS TIMESTAMPTZ) AS wall FROM {t} WHERE " + RANGE + " AND id < 450",
    "SELECT EXTRACT(EPOCH FROM at) AS e, EXTRACT(TIMEZONE FROM at) AS z, EXTRACT(TIMEZONE_HOUR FROM at) AS zh, "
    "EXTRACT(TIMEZONE_MINUTE FROM at) AS zm FROM {t} WHERE " + AUTUMN,
]


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("zone", [*ZONES, "Asia/Kolkata"])
@pytest.mark.parametrize("template", ZONE_FUNCTIONS)
def test_date_functions_on_instants_follow_the_timezone_option(
    template: str, zone: str, source: str, berlin_pg: str, events_mysql: str
) -> None:
    catalog = _catalog(berlin_pg, events_mysql)
    expected = _oracle(berlin_pg, template.format(t="events"), zone=zone)
    assert expected.rows
    sql = template.format(t=_table(source))
    for split, unit in ((False, None), (True, "daily")):
        actual, _ = _piot(catalog, sql, split=split, time_unit=unit, timezone=zone)
        assert_same(actual, expected, f"{source}, timezone={zone}, split={split}")


PARAMETERS = [
    [dt.datetime(2024, 3, 30, 12, tzinfo=BERLIN), dt.datetime(2024, 4, 1, 3, 15, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))],
    [dt.datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=BERLIN), dt.datetime(2024, 10, 28, 1, tzinfo=UTC)],
]


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("bounds", PARAMETERS, ids=["spring", "autumn"])
def test_aware_parameters_keep_their_offsets(bounds: list[dt.datetime], source: str, berlin_pg: str, events_mysql: str) -> None:
    catalog = _catalog(berlin_pg, events_mysql)
    low, high = (f"TIMESTAMPTZ '{b.isoformat(' ')}'" for b in bounds)
    expected = _oracle(berlin_pg, f"SELECT id, at FROM events WHERE at >= {low} AND at < {high}")
    assert expected.rows
    for zone in ("UTC", "Asia/Tokyo"):  # an aware parameter means the same instant in every zone
        for split, unit in ((False, None), (True, "daily")):
            actual, _ = _piot(catalog, f"SELECT id, at FROM {_table(source)} WHERE at >= ? AND at < ?", split=split,
                              time_unit=unit, timezone=zone, parameters=bounds)  # fmt: skip
            assert_same(actual, expected, f"{source}, timezone={zone}, split={split}")


def test_mariadb_fragments_do_not_depend_on_the_session_zone(events_mysql: str, berlin_pg: str) -> None:
    """The SQL piot sends to MariaDB answers the same whatever the session's time_zone is."""
    catalog = _catalog(berlin_pg, events_mysql)
    sql = "SELECT id, at FROM my.events WHERE at >= '2024-10-26 22:00:00+00' AND at < '2024-10-28 00:00:00+01'"
    with piot.connect(catalog, time_unit="daily") as connection:
        _, plan = connection.engine.plan(sql)
    program = shutil.which("mariadb") or shutil.which("mysql")
    if program is None:
        pytest.skip("the mysql command-line client is not installed")
    parts = urlsplit(events_mysql)
    answers = set()
    for session_zone in ("+00:00", "+05:00", "-09:30"):
        lines: list[str] = []
        for fragment in plan.fragments:
            args = [program, "--protocol=tcp", "-h", parts.hostname or "127.0.0.1", "-P", str(parts.port or 3306),
                    "-u", parts.username or "root", "-N", "-B", parts.path.lstrip("/")]  # fmt: skip
            script = f"SET time_zone = '{session_zone}';\n{fragment.sql};\n"
            done = subprocess.run(args, input=script, text=True, capture_output=True, timeout=60, check=True)
            lines += done.stdout.splitlines()
        answers.add(tuple(sorted(lines)))
    assert len(answers) == 1 and next(iter(answers))


def test_instants_are_read_as_instants_from_both_sources(berlin_pg: str, events_mysql: str) -> None:
    catalog = _catalog(berlin_pg, events_mysql)
    expected = _oracle(berlin_pg, "SELECT id, at, ts, d FROM events")
    for source in SOURCES:
        actual, _ = _piot(catalog, f"SELECT id, at, ts, d FROM {_table(source)}", split=False, time_unit=None, timezone="UTC")
        assert_same(actual, expected, source)


def test_explain_shows_periods_of_the_zone(berlin_pg: str, events_mysql: str) -> None:
    """Daily periods of a TIMESTAMPTZ column are days of the ``timezone`` option, with their offsets."""
    catalog = _catalog(berlin_pg, events_mysql)
    sql = "SELECT id FROM pg.events WHERE at >= '2024-03-30 12:00:00+00' AND at < '2024-04-01 12:00:00+00'"
    with piot.connect(catalog, time_unit="daily", timezone="Europe/Berlin") as connection:
        _, plan = connection.engine.plan(sql)
    labels = [f.label for f in plan.fragments]
    assert labels == [
        "[2024-03-30 13:00:00+01:00, 2024-03-31 00:00:00+01:00)",
        "[2024-03-31 00:00:00+01:00, 2024-04-01 00:00:00+02:00)",
        "[2024-04-01 00:00:00+02:00, 2024-04-01 14:00:00+02:00)",
    ]
    assert all("+" in f.sql and "TIMESTAMPTZ" in f.sql for f in plan.fragments)


def test_unknown_timezone_is_refused(berlin_pg: str, events_mysql: str) -> None:
    with pytest.raises(piot.ProgrammingError, match="unknown time zone 'Mars/Olympus'"):
        piot.connect(_catalog(berlin_pg, events_mysql), timezone="Mars/Olympus")
