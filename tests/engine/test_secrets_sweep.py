"""No secret leaves piot: every failure mode, through every front-end, searched for every form of the password.

A PostgreSQL role and a MariaDB user with passwords of their own (random names, passwords
full of URL syntax: ``@``, ``/``, ``?``) are created for the module and dropped after it.
The catalog gives the PostgreSQL password through ``${ENV}`` (percent-encoded), as a
query parameter and in the userinfo; MariaDB gets a wrong password, since it checks them
(PostgreSQL here trusts every local connection: checked below).

Every scenario runs at once, in threads and subprocesses, with Python logging at DEBUG,
the process's stderr (file descriptor 2, where connectorx's Rust side writes) and warnings
captured. Then everything is searched for the passwords as written, percent-decoded and
re-encoded: messages, ``str``/``repr``, ``traceback.format_exception`` of each exception of
the chain (suppressed contexts included), ``TracebackException(capture_locals=True)``
(what an error reporter that captures locals would send), the pickled exceptions (what a
Ray task sends back), the logs, stderr, the prompt's stdout and stderr, and the worker logs
of the session's Ray.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import pickle
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import quote, quote_plus

import connectorx
import polars as pl
import pytest
import sqlalchemy as sa

import piot

pytestmark = [pytest.mark.postgres, pytest.mark.mariadb]

TAG = secrets.token_hex(4)
NAME = f"piot_secret_{TAG}"
PG_PASSWORD = f"S3cret@PW/x?y-{TAG}"
MY_PASSWORD = f"My$ecret@PW/x?y-{TAG}"  # the MariaDB user's real password
MY_WRONG = f"Wr0ng@PW/x?y-{TAG}"  # what the catalog gives it instead
ENV = f"PIOT_SWEEP_PASSWORD_{TAG.upper()}"
WINDOW = "d >= DATE '2024-01-01' AND d < DATE '2024-04-01'"


def forms(secret: str) -> set[str]:
    """How a driver might print ``secret``, written here apart from piot's own list of forms."""
    encoded = quote(secret, safe="")
    lower = re.sub(r"%[0-9A-F]{2}", lambda m: m[0].lower(), encoded)
    return {secret, encoded, quote(secret), quote_plus(secret), lower, repr(secret)[1:-1]}


FORBIDDEN = forms(PG_PASSWORD) | forms(MY_PASSWORD) | forms(MY_WRONG)


def leaks(text: str) -> list[str]:
    """The forbidden forms found in ``text``."""
    return sorted(form for form in FORBIDDEN if form in text)


# -- the world: role, user, databases, catalog ---------------------------------------------
def _psql(database: str, script: str) -> None:
    subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", f"postgresql://postgres@127.0.0.1:5432/{database}"],
        input=script, text=True, capture_output=True, check=True, timeout=60,
    )  # fmt: skip


def _mariadb(script: str) -> None:
    program = shutil.which("mariadb") or shutil.which("mysql") or "mysql"
    subprocess.run(
        [program, "--protocol=tcp", "-h", "127.0.0.1", "-P", "3306", "-u", "root"],
        input=script, text=True, capture_output=True, check=True, timeout=60,
    )  # fmt: skip


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class World:
    """Where the scenarios run; its repr shows nothing (it sits in the frames searched)."""

    catalog: Path
    urls: dict[str, str] = field(repr=False)

    def __repr__(self) -> str:
        return "World(...)"

    def url(self, name: str) -> str:
        return self.urls[name]


@pytest.fixture(scope="module")
def world(pg_url: str, mysql_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    del pg_url, mysql_url  # only their checks that the servers run
    if shutil.which("psql") is None or not (shutil.which("mariadb") or shutil.which("mysql")):
        pytest.skip("the psql and mariadb command-line clients are needed")
    sql_pw = PG_PASSWORD.replace("'", "''")
    try:
        _psql("test", f"CREATE ROLE {NAME} LOGIN PASSWORD '{sql_pw}';\nCREATE DATABASE {NAME} OWNER {NAME};")
        _psql(
            NAME,
            f"SET ROLE {NAME};\n"
            "CREATE TABLE t (d date, x integer);\n"
            "INSERT INTO t VALUES ('2024-01-05', 1), ('2024-02-05', 2), ('2024-03-05', 3);\n"
            "CREATE VIEW boom AS SELECT d, x / (x - x) AS v FROM t;\n"
            "CREATE VIEW slow AS SELECT d, x FROM t, pg_sleep(2);\n",
        )
        _mariadb(f"CREATE USER '{NAME}'@'%' IDENTIFIED BY '{MY_PASSWORD}';")
        pg = quote(PG_PASSWORD, safe="")
        urls = {
            "good": f"postgresql://{NAME}:${{{ENV}}}@127.0.0.1:5432/{NAME}",
            "nodb": f"postgresql://127.0.0.1:5432/{NAME}_missing?user={NAME}&password={pg}",
            "closed": f"postgresql://{NAME}:{pg}@127.0.0.1:{_closed_port()}/{NAME}",
            "badport": f"postgresql://{NAME}:{pg}@127.0.0.1:99999/{NAME}",
            "myauth": f"mysql://{NAME}:{quote(MY_WRONG, safe='')}@127.0.0.1:3306/information_schema",
        }
        lines = []
        for name, url in urls.items():
            lines.append(f'[sources.{name}]\nurl = "{url}"')
            if name == "good":
                lines += [f'[sources.good.tables."public.{t}"]\ndate_column = "d"\ntime_unit = "monthly"' for t in ("t", "boom", "slow")]
        catalog = tmp_path_factory.mktemp("secrets") / "piot.toml"
        catalog.write_text("\n".join(lines) + "\n")
        os.environ[ENV] = pg
        yield World(catalog, urls)
    finally:
        os.environ.pop(ENV, None)
        _psql("test", f"DROP DATABASE IF EXISTS {NAME} WITH (FORCE);\nDROP ROLE IF EXISTS {NAME};")
        _mariadb(f"DROP USER IF EXISTS '{NAME}'@'%';")


def test_the_servers_are_what_the_sweep_assumes(world: World) -> None:
    """PostgreSQL trusts local connections (a wrong password connects); MariaDB checks passwords."""
    wrong = world.url("good").replace(f"${{{ENV}}}", "not-the-password")
    assert connectorx.read_sql(wrong, "SELECT current_user AS u", return_type="arrow").column(0).to_pylist() == [NAME]
    right = f"mysql://{NAME}:{quote(MY_PASSWORD, safe='')}@127.0.0.1:3306/information_schema"
    assert connectorx.read_sql(right, "SELECT 1 AS one", return_type="arrow").column(0).to_pylist() == [1]


def test_the_search_finds_each_form() -> None:
    for url in (f"postgresql://u:{quote(PG_PASSWORD, safe='')}@h/db", f"password {PG_PASSWORD!r}", quote_plus(MY_WRONG)):
        assert leaks(url)


# -- scenarios -----------------------------------------------------------------------------
QUERIES = {
    "unreachable": "SELECT x FROM closed.public.t",
    "missing_database": "SELECT x FROM nodb.public.t",
    "bad_port": "SELECT x FROM badport.public.t",
    "auth": "SELECT x FROM myauth.t",
    "syntax": "SELECT x FROM good.public.t WHERE",
    "source_error": f"SELECT d, v FROM good.public.boom WHERE {WINDOW}",
}
OUTPUTS = {"show_sources": "SHOW SOURCES", "show_tables": "SHOW TABLES", "explain": f"EXPLAIN SELECT d, v FROM good.public.boom WHERE {WINDOW}"}


def _dbapi(sql: str) -> Callable[[World], str]:
    def run(world: World) -> str:
        connection = piot.connect(str(world.catalog))
        cursor = connection.cursor().execute(sql)
        return f"{cursor.fetchall()!r} {cursor.messages!r} {connection!r} {connection.engine.catalog!r}"

    return run


def _sqlalchemy(sql: str) -> Callable[[World], str]:
    def run(world: World) -> str:
        engine = sa.create_engine("piot://", connect_args={"catalog": str(world.catalog)})
        with engine.connect() as connection:
            return repr(connection.exec_driver_sql(sql).fetchall())

    return run


def _prompt(*statements: str) -> Callable[[World], str]:
    """``piot-sql -c SQL``, or ``-f`` a script of several statements (each runs, failing or not)."""

    def run(world: World) -> str:
        if len(statements) == 1:
            args = ["-c", statements[0]]
        else:
            script = world.catalog.parent / f"script-{abs(hash(statements))}.sql"
            script.write_text(";\n".join(statements) + ";\n")
            args = ["-f", str(script)]
        done = subprocess.run(
            [sys.executable, "-m", "piot.shell.main", "--catalog", str(world.catalog), *args],
            capture_output=True, text=True, timeout=300, env=dict(os.environ, HOME=str(world.catalog.parent)),
        )  # fmt: skip
        text = f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
        if done.returncode != 0:
            raise PromptFailed(text)
        return text

    return run


class PromptFailed(Exception):
    """The prompt exited with 1; its message is everything it printed."""


def _cancelled(world: World) -> str:
    cursor = piot.connect(str(world.catalog), max_concurrency=1).cursor()
    threading.Timer(1.0, cursor.cancel).start()
    cursor.execute(f"SELECT d, x FROM good.public.slow WHERE {WINDOW}")
    return "not cancelled"


def _scan(url_name: str, sql: str, then: Callable[[pl.LazyFrame], object] | None = None) -> Callable[[World], str]:
    def run(world: World) -> str:
        lf = piot.scan_db(sql, world.url(url_name))
        return f"{lf.explain()}\n{then(lf) if then else ''}"

    return run


def _on_ray(lf: pl.LazyFrame) -> object:
    window = (pl.col("d") >= date(2024, 1, 1)) & (pl.col("d") < date(2024, 4, 1))
    return lf.piot.execute_on_ray("d", time_unit="monthly").filter(window).collect()


SCENARIOS: dict[str, Callable[[World], str]] = {
    **{f"dbapi-{k}": _dbapi(sql) for k, sql in {**QUERIES, **OUTPUTS}.items()},
    "dbapi-cancel": _cancelled,
    **{f"sqlalchemy-{k}": _sqlalchemy(sql) for k, sql in QUERIES.items()},
    # one interpreter for the failures that come at once (starting many at a time is slow on 2 cores)
    "prompt-fast": _prompt(*OUTPUTS.values(), *(QUERIES[k] for k in ("syntax", "bad_port", "source_error"))),
    **{f"prompt-{k}": _prompt(QUERIES[k]) for k in ("unreachable", "missing_database", "auth")},
    "polars-unreachable": _scan("closed", "SELECT x FROM t"),
    "polars-missing_database": _scan("nodb", "SELECT x FROM t"),
    "polars-bad_port": _scan("badport", "SELECT x FROM t"),
    "polars-auth": _scan("myauth", "SELECT 1 AS one"),
    "polars-syntax": _scan("good", "SELECT x FROM t WHERE"),
    "polars-source_syntax": _scan("good", "SELECT nosuch FROM t"),
    "polars-source_error": _scan("good", "SELECT d, v FROM boom", lambda lf: lf.collect()),
    "polars-on_ray_source_error": _scan("good", "SELECT d, v FROM boom", _on_ray),
    "polars-explain": _scan("good", "SELECT d, x FROM t"),
}
SUCCEEDS = {"dbapi-show_sources", "dbapi-show_tables", "dbapi-explain", "polars-explain"}


@dataclass
class Outcome:
    """What a scenario left: its output or its exception, and the texts to search."""

    output: str | None = None
    error: BaseException | None = None
    seconds: float = 0.0


@dataclass
class Sweep:
    """Every scenario's outcome, and what the process logged and printed meanwhile."""

    outcomes: dict[str, Outcome]
    logs: str
    stderr: str


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))  # formatted, with any exc_info traceback


@contextlib.contextmanager
def _captured_stderr() -> Iterator[list[str]]:
    """File descriptor 2 and ``sys.stderr`` into one text, appended to the list at exit."""
    out: list[str] = []
    sink = Path(os.environ.get("TMPDIR", "/tmp")) / f"piot-sweep-{TAG}.err"
    saved = os.dup(2)
    python_side = io.StringIO()
    with open(sink, "w+b") as handle:
        os.dup2(handle.fileno(), 2)
        try:
            with contextlib.redirect_stderr(python_side):
                yield out
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            handle.seek(0)
            out.append(handle.read().decode("utf-8", "replace") + python_side.getvalue())
    sink.unlink()


def _run(scenario: Callable[[World], str], world: World) -> Outcome:
    started = time.monotonic()
    try:
        outcome = Outcome(output=scenario(world))
    except BaseException as e:  # noqa: BLE001 - everything is searched
        outcome = Outcome(error=e)
    outcome.seconds = time.monotonic() - started
    return outcome


@pytest.fixture(scope="module")
def sweep(world: World, ray_session: None) -> Sweep:
    records = _Records()
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(records)
    try:
        with _captured_stderr() as stderr, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with ThreadPoolExecutor(max_workers=len(SCENARIOS)) as pool:
                futures = {name: pool.submit(_run, scenario, world) for name, scenario in SCENARIOS.items()}
                outcomes = {name: future.result(timeout=400) for name, future in futures.items()}
    finally:
        root.removeHandler(records)
        root.setLevel(level)
    logs = "\n".join(records.lines + [str(w.message) for w in caught])
    return Sweep(outcomes, logs, "".join(stderr))


# -- what is searched ------------------------------------------------------------------------
def chain(error: BaseException) -> list[BaseException]:
    """``error`` and every exception reachable from it: causes, contexts (suppressed too), wrapped originals."""
    seen: list[BaseException] = []
    todo = [error]
    while todo:
        current = todo.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        todo += [current.__cause__, current.__context__, getattr(current, "orig", None), getattr(current, "cause", None)]
        todo = [e for e in todo if isinstance(e, BaseException)]
    return seen


def searched_texts(error: BaseException) -> dict[str, str]:
    """Everything a program, a log or an error reporter could make of ``error``."""
    texts: dict[str, str] = {}
    for i, exc in enumerate(chain(error)):
        name = f"{i}:{type(exc).__name__}"
        texts[f"{name} str"] = str(exc)
        texts[f"{name} repr"] = repr(exc)
        texts[f"{name} args"] = repr(exc.args)
        texts[f"{name} format_exception"] = "".join(traceback.format_exception(exc))
        texts[f"{name} locals"] = "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())
        with contextlib.suppress(Exception):
            texts[f"{name} pickle"] = pickle.dumps(exc).decode("latin-1")
    return texts


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_no_secret_in_what_a_failure_leaves(sweep: Sweep, name: str) -> None:
    outcome = sweep.outcomes[name]
    if name in SUCCEEDS:
        assert outcome.error is None, "".join(traceback.format_exception(outcome.error)) if outcome.error else ""
        assert outcome.output
        texts = {"output": outcome.output}
    else:
        assert outcome.error is not None, f"{name} did not fail: {outcome.output}"
        texts = searched_texts(outcome.error)
        if isinstance(outcome.error, PromptFailed):
            assert "ERROR" in str(outcome.error) and "Traceback" not in str(outcome.error)
        else:
            piot_errors = [e for e in chain(outcome.error) if isinstance(e, piot.Error)]
            assert piot_errors and not isinstance(piot_errors[0], piot.InternalError), texts
    found = {where: leaks(text) for where, text in texts.items() if leaks(text)}
    assert not found, f"{name}: secrets in {sorted(found)}"


def test_failures_are_the_expected_ones(sweep: Sweep) -> None:
    """The sweep exercised what it says: sources failing for their reason, a query cancelled."""
    expected = {
        "dbapi-unreachable": "source 'closed'",
        "dbapi-missing_database": "source 'nodb'",
        "dbapi-bad_port": "port",
        "dbapi-auth": "source 'myauth'",
        "dbapi-syntax": "syntax",
        "dbapi-source_error": "division by zero",
        "dbapi-cancel": "cancelled",
        "polars-source_syntax": "nosuch",
        "prompt-fast": "division by zero",
        "prompt-auth": "source 'myauth'",
        "polars-source_error": "division by zero",
        "polars-on_ray_source_error": "division by zero",
    }
    for name, words in expected.items():
        assert words in str(sweep.outcomes[name].error), (name, sweep.outcomes[name].error)
    assert isinstance(sweep.outcomes["dbapi-unreachable"].error, piot.OperationalError)
    assert "Access denied" in str(sweep.outcomes["dbapi-auth"].error) or "password" in str(sweep.outcomes["dbapi-auth"].error)
    assert "***" in (sweep.outcomes["dbapi-show_sources"].output or "")
    assert "'myauth'" in (sweep.outcomes["dbapi-show_tables"].output or "")  # a warning names the failing source
    prompt = str(sweep.outcomes["prompt-fast"].error)
    assert "127.0.0.1:99999" in prompt and "| good " in prompt and "fragment" in prompt  # SHOW SOURCES, EXPLAIN ran


def test_no_secret_in_logs_or_stderr(sweep: Sweep) -> None:
    assert not leaks(sweep.logs)
    assert not leaks(sweep.stderr)


def test_no_secret_in_the_ray_workers_logs(sweep: Sweep) -> None:
    import ray

    node = ray._private.worker._global_node  # the session's own Ray, started by the test session
    if node is None:
        pytest.skip("no local Ray node in this process")
    logs = Path(node.get_session_dir_path()) / "logs"
    found = [p.name for p in logs.glob("*") if p.is_file() and leaks(p.read_text(errors="replace"))]
    assert not found
