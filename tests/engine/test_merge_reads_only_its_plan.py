"""The merge reads only the fragments its plan gives it, and runs only the functions it knows.

Polars' SQL engine has table functions (``read_csv``, ``read_parquet``, ...) that read files
and URLs on the driver. A real HTTP server on 127.0.0.1 counts requests: Polars left alone
requests the file, piot makes no request, neither at statement-check time nor at merge time.
The function whitelist is honest: every function it accepts has an example that the
merge really computes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.server
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
import sqlglot
from sqlglot import exp

import piot
from piot.connectors import Column, TableInfo, load_catalog
from piot.connectors.types import declared_type
from piot.merge.finish import run_merge
from piot.plan.planner import plan_statement
from piot.sql.policy import CLOCK_FUNCTION_NAMES, MERGE_FUNCTION_NAMES, MERGE_FUNCTIONS
from piot.sql.statement import parse_statement
from source_stand_in import shipped


class CountingServer:
    """An HTTP server on 127.0.0.1 that serves a small CSV and counts requests; it stops itself after ``lifetime`` s."""

    def __init__(self, lifetime: float = 120.0) -> None:
        self.requests: list[str] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the name is http.server's
                owner.requests.append(self.path)
                body = b"a,b\n1,2\n"
                self.send_response(200)
                self.send_header("Content-Type", "text/csv")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_HEAD = do_GET  # noqa: N815

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.timeout = 0.2
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/x.csv"
        self._timer = threading.Timer(lifetime, self._server.shutdown)
        self._timer.daemon = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        self._timer.start()

    def close(self) -> None:
        self._timer.cancel()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def http_server() -> Iterator[CountingServer]:
    server = CountingServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def lite(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    path = tmp_path_factory.mktemp("merge_plan") / "m.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (id INTEGER, d DATE, v TEXT)")
        db.executemany("INSERT INTO t VALUES (?, ?, ?)", [(1, "2024-01-01", "a"), (2, "2024-01-02", "b")])
    return {"sources": {"db": {"url": f"sqlite://{path}", "tables": {"t": {"date_column": "d"}}}}}


def test_polars_alone_would_fetch_the_url(http_server: CountingServer) -> None:
    """The server and its counter work: Polars' own SQL, unchecked, does request the file from the driver."""
    with contextlib.suppress(pl.exceptions.PolarsError, OSError):  # the server answers no range requests
        pl.SQLContext(register_globals=False).execute(f"SELECT * FROM read_csv('{http_server.url}')", eager=True)
    assert http_server.requests


@pytest.mark.parametrize(
    "template",
    [
        "SELECT * FROM read_csv('{url}')",
        "SELECT * FROM read_csv('{url}', has_header => false)",
        "SELECT * FROM read_parquet('{url}')",
        "SELECT * FROM read_ipc('{url}')",
        "SELECT * FROM read_json('{url}')",
        "SELECT t.id, r.a FROM db.t AS t JOIN read_csv('{url}') AS r ON t.id = r.a",
        "SELECT * FROM db.t WHERE id IN (SELECT a FROM read_csv('{url}'))",
        "WITH r AS (SELECT * FROM read_csv('{url}')) SELECT * FROM db.t, r",
        "SELECT * FROM db.t WHERE d BETWEEN '2024-01-01' AND '2024-01-02' UNION SELECT * FROM read_csv('{url}')",
    ],
)
def test_the_driver_makes_no_request(template: str, http_server: CountingServer, lite: dict[str, object]) -> None:
    cursor = piot.connect(lite).cursor()
    with pytest.raises(piot.NotSupportedError, match=r"table function read_\w+\(\) is not allowed") as refused:
        cursor.execute(template.format(url=http_server.url))
    assert refused.value.line == 1 and refused.value.col is not None
    assert http_server.requests == []


def test_the_merge_checks_its_sql_again(http_server: CountingServer) -> None:
    """Defence in depth: merge SQL that reads anything but the plan's frames is refused before Polars sees it."""
    frames = {"__piot_t0": pl.DataFrame({"a": [1]})}
    for sql in (
        f"SELECT * FROM read_csv('{http_server.url}')",
        f'SELECT * FROM "__piot_t0" AS t JOIN read_csv(\'{http_server.url}\') AS r ON TRUE',
        'SELECT * FROM "__piot_t1"',
        "SELECT * FROM frames",
        'SELECT * FROM "__piot_t0"; SELECT 1',
        'DROP TABLE "__piot_t0"',
        'SELECT pg_sleep(1) FROM "__piot_t0"',
    ):
        with pytest.raises(piot.NotSupportedError):
            run_merge(sql, frames, ["a"])
    assert http_server.requests == []
    assert run_merge('WITH c AS (SELECT a FROM "__piot_t0") SELECT a FROM c', frames, ["a"])["a"].to_list() == [1]


def test_whether_a_file_exists_cannot_be_told(tmp_path: Path, lite: dict[str, object]) -> None:
    present = tmp_path / "id_rsa"
    present.write_text("secret")
    cursor = piot.connect(lite).cursor()
    messages = []
    for path in (present, tmp_path / "absent"):
        with pytest.raises(piot.NotSupportedError) as refused:
            cursor.execute(f"SELECT * FROM read_parquet('{path}')")
        messages.append(str(refused.value))
    assert messages[0] == messages[1]


def test_local_files_are_not_read(lite: dict[str, object]) -> None:
    cursor = piot.connect(lite).cursor()
    with pytest.raises(piot.NotSupportedError, match=r"read_csv\(\)") as refused:
        cursor.execute("SELECT * FROM read_csv('/etc/passwd', has_header => false)")
    assert "root" not in str(refused.value)


def test_a_source_function_is_named_with_its_position(lite: dict[str, object]) -> None:
    cursor = piot.connect(lite).cursor()
    with pytest.raises(piot.NotSupportedError, match=r"^function pg_sleep\(\) is not supported") as refused:
        cursor.execute("SELECT id\nFROM db.t\nWHERE d > '2024-01-01' AND  pg_sleep(5) IS NULL")
    assert (refused.value.line, refused.value.col) == (3, 29)


# -- the whitelist is what the merge computes --------------------------------------------------------
#: one example per accepted function, over t(x DOUBLE, n INTEGER, s TEXT, d DATE, ts TIMESTAMP, b BOOLEAN).
EXAMPLES = (
    "CASE WHEN b THEN 1 ELSE 2 END", "COALESCE(n, 0)", "NULLIF(n, 3)", "GREATEST(n, 2)", "LEAST(n, 2)", "CAST(n AS TEXT)",
    "EXISTS (SELECT 1 FROM db.t AS u WHERE u.n = t.n)",
    "ABS(x)", "SIGN(x)", "CEIL(x)", "FLOOR(x)", "ROUND(x, 1)", "TRUNC(x)", "SQRT(n)", "CBRT(x)", "POWER(x, 2)", "EXP(x)",
    "LN(n)", "LOG(10, n)", "LOG(n)", "PI()", "DEGREES(x)", "RADIANS(x)", "SIN(x)", "COS(x)", "TAN(x)", "COT(x)", "ASIN(x / 10)",
    "ACOS(x / 10)", "ATAN(x)", "ATAN2(x, n)",
    "UPPER(s)", "LOWER(s)", "LENGTH(s)", "BIT_LENGTH(s)", "TRIM(s)", "SUBSTRING(s, 1, 2)", "LEFT(s, 2)", "RIGHT(s, 2)",
    "REPLACE(s, 'a', 'b')", "REVERSE(s)", "CONCAT(s, 'x')", "CONCAT_WS('-', s, s)", "INITCAP(s)", "LPAD(s, 5, '0')",
    "STRPOS(s, 'b')", "SPLIT_PART(s, ',', 1)", "STARTS_WITH(s, 'a')", "ENDS_WITH(s, 'c')", "s ~ 'a'",
    "REGEXP_REPLACE(s, 'a', 'b')", "NORMALIZE(s)", "OCTET_LENGTH(s)", "STRFTIME(d, '%Y')",
    "EXTRACT(YEAR FROM d)", "DATE_TRUNC('month', d)", "YEAR(d)", "MONTH(d)", "DAY(d)", "WEEK(d)", "QUARTER(d)",
    "CURRENT_DATE", "CURRENT_TIMESTAMP", "LOCALTIMESTAMP", "NOW()",
    "COUNT(*)", "SUM(n)", "AVG(x)", "MIN(n)", "MAX(n)", "MEDIAN(x)", "STDDEV(x)", "STDDEV_SAMP(x)", "VARIANCE(x)",
    "STRING_AGG(s, ',')", "ARRAY_AGG(n)", "CORR(x, n)", "COVAR_SAMP(x, n)", "COVAR_POP(x, n)", "FIRST(n)", "LAST(n)",
    "COUNT_IF(b)", "QUANTILE_CONT(x, 0.5)", "QUANTILE_DISC(x, 0.5)",
    "ROW_NUMBER() OVER (ORDER BY n)", "RANK() OVER (ORDER BY n)", "DENSE_RANK() OVER (ORDER BY n)",
    "PERCENT_RANK() OVER (ORDER BY n)", "CUME_DIST() OVER (ORDER BY n)", "NTILE(2) OVER (ORDER BY n)",
    "LAG(n) OVER (ORDER BY n)", "LEAD(n) OVER (ORDER BY n)", "FIRST_VALUE(n) OVER (ORDER BY n)",
    "LAST_VALUE(n) OVER (ORDER BY n)", "NTH_VALUE(n, 1) OVER (ORDER BY n)",
)  # fmt: skip
#: functions sqlglot reads from other dialects' spellings (``DATE_ADD``) and the clock's other names.
MYSQL_EXAMPLES = ("DATE_ADD(d, INTERVAL 1 DAY)", "DATE_SUB(d, INTERVAL 1 DAY)", "DATE_TRUNC('month', ts)")

CATALOG = load_catalog({"sources": {"db": {"url": "sqlite:///tmp/piot-never-opened.db"}}})
COLUMNS = (("x", "DOUBLE"), ("n", "INTEGER"), ("s", "TEXT"), ("d", "DATE"), ("ts", "TIMESTAMP"), ("b", "BOOLEAN"))
FRAME = pl.DataFrame(
    {"x": [1.5, -2.25], "n": [3, 4], "s": ["abc", "a,b"], "d": [dt.date(2024, 1, 2)] * 2,
     "ts": [dt.datetime(2024, 1, 2, 3, 4, 5)] * 2, "b": [True, False]},
)  # fmt: skip


def _lookup(source: str, schema: str | None, table: str) -> TableInfo:
    columns = tuple(Column(name, declared_type(kind, text_dates=False)) for name, kind in COLUMNS)
    db = CATALOG.source(source)
    return TableInfo(db, schema, table, columns, db.settings_for(schema, table))


def _merged(expression: str, dialect: str) -> pl.DataFrame:
    plan = plan_statement(parse_statement(f"SELECT {expression} AS r FROM db.t", dialect=dialect), _lookup)
    frames = {
        scan.name: shipped(scan, FRAME) if scan.output.kind != "rows" else FRAME.select([name for name, _ in scan.schema])
        for scan in plan.scans
    }
    return run_merge(plan.merge_sql, frames, plan.columns)


def test_every_accepted_function_has_an_example() -> None:
    seen: set[type[exp.Func]] = set()
    named: set[str] = set()
    for expression, dialect in [(e, "postgres") for e in EXAMPLES] + [(e, "mysql") for e in MYSQL_EXAMPLES]:
        for node in sqlglot.parse_one(f"SELECT {expression}", read=dialect).find_all(exp.Func):
            if isinstance(node, exp.Anonymous):
                named.add(node.name.lower())
            else:
                seen.add(type(node))
    assert MERGE_FUNCTIONS - seen - {exp.CurrentDatetime} == set()
    assert MERGE_FUNCTION_NAMES - named == set() and "now" in CLOCK_FUNCTION_NAMES


@pytest.mark.parametrize("expression", EXAMPLES)
def test_the_merge_computes_every_accepted_function(expression: str) -> None:
    assert _merged(expression, "postgres").height >= 1


@pytest.mark.parametrize("expression", MYSQL_EXAMPLES)
def test_the_merge_computes_other_dialects_spellings(expression: str) -> None:
    assert _merged(expression, "mysql").height >= 1
