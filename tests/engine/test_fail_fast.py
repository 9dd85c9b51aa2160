"""Failing fast and clearly: sources that are down, silent or refuse the login, timeouts, cancel.

Every failure is an OperationalError naming the source within the source's connect_timeout
(under 5 s by default), where connectorx's pool alone retries for 30 s; a query timeout
stops the fragments on the server too; ``cancel()`` works while connecting and while
fragments run, and the next query then starts at once. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import dataclasses
import doctest
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import connectorx
import pytest
from corpus_data import CorpusSource, answer_from_arrow, assert_same, run_cli

import piot
from piot.connectors import limits as limits_module
from piot.connectors import read as read_module
from piot.connectors.limits import DEFAULT_CONNECT_TIMEOUT

#: the promise: a failing source is reported in under this many seconds by default.
DEFAULT_BOUND = 5.0
SLOW_VIEW = "piot_slow_trades"
#: seconds each read of the slow view sleeps on the server.
SLOW_SECONDS = 20
QUERY = "SELECT COUNT(*) AS n FROM {t} WHERE trade_date >= '2024-01-01' AND trade_date < '2024-04-01'"


# -- servers that fail ------------------------------------------------------------------------
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A server on 127.0.0.1 that accepts connections and never answers; it stops by itself after 40 s."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.1)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        end = time.monotonic() + 40
        while not stop.is_set() and time.monotonic() < end:
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                pass
        for connection in held:
            connection.close()
        server.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join(timeout=5)


def _catalog(name: str, url: str, **settings: Any) -> dict[str, Any]:
    return {"sources": {name: {"url": url, **settings}}}


def _fails_fast(
    catalog: dict[str, Any], sql: str, *, bound: float = DEFAULT_BOUND, warm_up: str | None = None, **options: Any
) -> piot.OperationalError:
    """Run ``sql`` and return its OperationalError, checking it names the one source and came within ``bound``.

    ``warm_up`` is run first, without a timeout, so that Ray's workers are started: what is
    timed is the source, not the start of a cold cluster on a loaded machine.
    """
    (name,) = catalog["sources"]
    if warm_up is not None:
        piot.connect(catalog).cursor().execute(warm_up)
    cursor = piot.connect(catalog, **options).cursor()
    started = time.monotonic()
    with pytest.raises(piot.OperationalError) as caught:
        cursor.execute(sql)
    elapsed = time.monotonic() - started
    assert elapsed < bound, f"took {elapsed:.1f} s: {caught.value}"
    assert caught.value.source == name and f"source {name!r}" in str(caught.value)
    return caught.value


@pytest.mark.parametrize("scheme", ["postgresql", "mysql"])
def test_a_closed_port_fails_at_once(scheme: str) -> None:
    error = _fails_fast(_catalog("down", f"{scheme}://u:pw@127.0.0.1:{closed_port()}/db"), "SELECT * FROM down.t")
    assert "connection refused" in str(error)


@pytest.mark.parametrize("scheme", ["postgresql", "mysql"])
def test_a_silent_server_fails_within_the_default_connect_timeout(scheme: str, silent_port: int) -> None:
    assert DEFAULT_CONNECT_TIMEOUT < DEFAULT_BOUND
    error = _fails_fast(_catalog("silent", f"{scheme}://u@127.0.0.1:{silent_port}/db"), "SELECT * FROM silent.t")
    assert "did not answer" in str(error) and "connect_timeout" in str(error)


def test_connect_timeout_in_the_catalog_sets_the_wait(silent_port: int) -> None:
    catalog = _catalog("silent", f"postgresql://u@127.0.0.1:{silent_port}/db", connect_timeout=1)
    error = _fails_fast(catalog, "SELECT * FROM silent.t", bound=2.5)
    assert "connect_timeout of 1 s" in str(error)


@pytest.mark.postgres
def test_a_missing_database_on_postgresql_fails_fast(pg_url: str) -> None:
    url = pg_url.rsplit("/", 1)[0] + f"/piot_missing_{os.getpid()}"
    error = _fails_fast(_catalog("nodb", url), "SELECT * FROM nodb.t")
    assert f"piot_missing_{os.getpid()}" in str(error) and "does not exist" in str(error)


@pytest.mark.mariadb
def test_a_missing_database_on_mariadb_fails_fast(mysql_url: str) -> None:
    url = mysql_url.rsplit("/", 1)[0] + f"/piot_missing_{os.getpid()}"
    error = _fails_fast(_catalog("nodb", url), "SELECT * FROM nodb.t")
    assert "Unknown database" in str(error)


@pytest.fixture
def mariadb_user(mysql_url: str) -> Iterator[str]:
    """A MariaDB user of this test's own with a password (dropped afterwards); yields its name."""
    user = f"piot_ff_{os.getpid()}"
    run_cli("mysql", mysql_url, f"CREATE USER '{user}'@'%' IDENTIFIED BY 'right-pw-{os.getpid()}';")
    try:
        yield user
    finally:
        run_cli("mysql", mysql_url, f"DROP USER IF EXISTS '{user}'@'%';")


@pytest.mark.mariadb
def test_a_wrong_password_on_mariadb_fails_fast(mysql_url: str, mariadb_user: str) -> None:
    host = mysql_url.split("@", 1)[1]
    error = _fails_fast(_catalog("my", f"mysql://{mariadb_user}:wrong-pw-9f3a@{host}"), "SELECT * FROM my.t")
    assert "Access denied" in str(error) and "wrong-pw-9f3a" not in str(error)


def test_a_missing_sqlite_file_fails_fast(tmp_path: Path) -> None:
    error = _fails_fast(_catalog("lite", f"sqlite://{tmp_path}/absent/missing.db"), "SELECT * FROM lite.t")
    assert "unable to open" in str(error)


@pytest.mark.postgres
def test_a_fragment_whose_source_went_down_fails_fast_in_its_task(corpus_postgres: CorpusSource, ray_session: None) -> None:
    """The read inside a Ray task is bounded the same way as the reads while planning."""
    connection = piot.connect(corpus_postgres.catalog(), time_unit="monthly")
    _, plan = connection.engine.plan(corpus_postgres.sql(QUERY.format(t="{trades}")))
    connection.engine.execute(plan)  # Ray's workers are warm: what is timed below is the source
    gone = dataclasses.replace(plan.scans[0].fragments[0].source, url=f"postgresql://u@127.0.0.1:{closed_port()}/db")
    scans = [dataclasses.replace(s, fragments=tuple(dataclasses.replace(f, source=gone) for f in s.fragments)) for s in plan.scans]
    started = time.monotonic()
    with pytest.raises(piot.OperationalError) as caught:
        connection.engine.execute(dataclasses.replace(plan, scans=scans))
    assert time.monotonic() - started < DEFAULT_BOUND
    assert caught.value.source == corpus_postgres.name and caught.value.period in str(caught.value)
    assert "connection refused" in str(caught.value)


# -- timeouts and cancel on slow fragments ----------------------------------------------------
def _slow_view_sql(kind: str) -> str:
    sleep = f"pg_sleep({SLOW_SECONDS})" if kind == "postgres" else f"SLEEP({SLOW_SECONDS})"
    return f"CREATE OR REPLACE VIEW {SLOW_VIEW} AS SELECT t.* FROM piot_corpus_trades t CROSS JOIN (SELECT {sleep} AS s) AS z;"


@pytest.fixture(scope="module")
def slow_postgres(corpus_postgres: CorpusSource) -> CorpusSource:
    """The corpus source with a view whose every read sleeps SLOW_SECONDS on the server."""
    run_cli("postgres", corpus_postgres.url, _slow_view_sql("postgres"))
    return dataclasses.replace(corpus_postgres, table_key=f"public.{SLOW_VIEW}")


@pytest.fixture(scope="module")
def slow_mysql(corpus_mysql: CorpusSource) -> CorpusSource:
    run_cli("mysql", corpus_mysql.url, _slow_view_sql("mysql"))
    return dataclasses.replace(corpus_mysql, table_key=SLOW_VIEW)


def _statements_running(kind: str, url: str) -> int:
    """How many statements on the slow view the server is still running."""
    if kind == "postgres":
        sql = (
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' "
            f"AND query LIKE '%{SLOW_VIEW}%' AND pid <> pg_backend_pid()"
        )
    else:
        sql = f"SELECT count(*) AS n FROM information_schema.processlist WHERE db = DATABASE() AND info LIKE '%{SLOW_VIEW}%' AND id <> CONNECTION_ID()"
    return int(connectorx.read_sql(url, sql, return_type="arrow").column(0)[0].as_py())


def _eventually_zero(count: Callable[[], int], within: float) -> int:
    end = time.monotonic() + within
    while (n := count()) and time.monotonic() < end:
        time.sleep(0.2)
    return n


@pytest.mark.parametrize("kind", [pytest.param("postgres", marks=pytest.mark.postgres), pytest.param("mysql", marks=pytest.mark.mariadb)])
def test_query_timeout_stops_the_fragments_on_the_server(kind: str, request: pytest.FixtureRequest, ray_session: None) -> None:
    slow: CorpusSource = request.getfixturevalue(f"slow_{kind}")
    catalog = {"sources": {slow.name: slow.catalog()["sources"][slow.name]}}
    warm_up = QUERY.format(t=f"{slow.name}.piot_corpus_trades")
    error = _fails_fast(
        catalog, slow.sql(QUERY.format(t="{trades}")), bound=1 + DEFAULT_BOUND, warm_up=warm_up, query_timeout=1, time_unit="monthly"
    )
    assert "query timeout of 1 s exceeded" in str(error)
    assert _eventually_zero(lambda: _statements_running(kind, slow.url), within=3.0) == 0


@pytest.mark.postgres
def test_query_timeout_of_a_source_bounds_each_of_its_reads(slow_postgres: CorpusSource, ray_session: None) -> None:
    catalog = slow_postgres.catalog()
    settings = dict(catalog["sources"][slow_postgres.name], query_timeout=1)
    warm_up = QUERY.format(t=f"{slow_postgres.name}.piot_corpus_trades")
    catalog = {"sources": {slow_postgres.name: settings}}
    error = _fails_fast(catalog, slow_postgres.sql(QUERY.format(t="{trades}")), bound=1 + DEFAULT_BOUND, warm_up=warm_up)
    assert "the source's query_timeout of 1 s" in str(error)


def _cancel_after(cursor: piot.Cursor, ready: Callable[[], bool]) -> threading.Thread:
    def cancel() -> None:
        end = time.monotonic() + 30
        while not ready() and time.monotonic() < end:
            time.sleep(0.05)
        cursor.cancel()

    thread = threading.Thread(target=cancel, daemon=True)
    thread.start()
    return thread


def test_cancel_while_connecting_returns_at_once(silent_port: int) -> None:
    catalog = _catalog("silent", f"postgresql://u@127.0.0.1:{silent_port}/db", connect_timeout=60)
    cursor = piot.connect(catalog).cursor()
    started = time.monotonic()
    _cancel_after(cursor, lambda: time.monotonic() - started > 1.0)
    with pytest.raises(piot.OperationalError, match="query cancelled"):
        cursor.execute("SELECT * FROM silent.t")
    assert time.monotonic() - started < 1.0 + DEFAULT_BOUND
    assert cursor.progress is not None and cursor.progress.state == "cancelled"


@pytest.mark.postgres
def test_cancel_while_fragments_run_frees_the_cluster_for_the_next_query(
    slow_postgres: CorpusSource, corpus_postgres: CorpusSource, ray_session: None
) -> None:
    """Cancelled fragments sleep SLOW_SECONDS on the server; the next query must not wait behind them."""
    connection = piot.connect(
        {"sources": {"slow": slow_postgres.catalog()["sources"][slow_postgres.name], **corpus_postgres.catalog()["sources"]}},
        time_unit="monthly",
    )
    cursor = connection.cursor()
    running = lambda: cursor.progress is not None and cursor.progress.state == "running"  # noqa: E731
    canceller = _cancel_after(cursor, running)
    started = time.monotonic()
    with pytest.raises(piot.OperationalError, match="query cancelled"):
        cursor.execute(QUERY.format(t=f"slow.{SLOW_VIEW}"))
    canceller.join()
    assert time.monotonic() - started < SLOW_SECONDS / 2

    sql = corpus_postgres.sql(QUERY.format(t="{trades}"))
    started = time.monotonic()
    got = answer_from_arrow(connection.cursor().execute(sql).fetch_arrow())
    assert time.monotonic() - started < SLOW_SECONDS / 2, "the next query waited behind the cancelled fragments"
    assert_same(got, corpus_postgres.oracle(QUERY.format(t="{trades}")), sql)


# -- settings and the prompt ------------------------------------------------------------------
@pytest.mark.parametrize("module", [limits_module, read_module])
def test_module_doctests(module: Any) -> None:
    result = doctest.testmod(module, verbose=False)
    assert result.failed == 0 and result.attempted > 0


@pytest.mark.parametrize("value", ["5", -1, True, float("nan")])
@pytest.mark.parametrize("key", ["connect_timeout", "query_timeout"])
def test_bad_timeouts_in_the_catalog_are_refused(key: str, value: Any) -> None:
    with pytest.raises(piot.ProgrammingError, match=key):
        piot.connect(_catalog("s", "sqlite:///tmp/x.db", **{key: value}))


@pytest.mark.parametrize("value", ["5", -1])
def test_a_bad_query_timeout_is_refused_at_connect(value: Any) -> None:
    with pytest.raises(piot.ProgrammingError, match="query_timeout"):
        piot.connect(_catalog("s", "sqlite:///tmp/x.db"), query_timeout=value)


def test_the_prompt_reports_a_down_source_in_one_line_without_driver_logs(tmp_path: Path) -> None:
    catalog = tmp_path / "piot.toml"
    catalog.write_text(f'[sources.down]\nurl = "postgresql://u:pw@127.0.0.1:{closed_port()}/db"\n')
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "piot.shell.main", "--catalog", str(catalog), "-c", "SELECT * FROM down.t"],
        capture_output=True, text=True, timeout=120, env={k: v for k, v in os.environ.items() if k != "RUST_LOG"},
    )  # fmt: skip
    assert done.returncode == 1
    assert "source 'down'" in done.stderr and "connection refused" in done.stderr
    assert "r2d2" not in done.stderr and "r2d2" not in done.stdout, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert time.monotonic() - started < 60
