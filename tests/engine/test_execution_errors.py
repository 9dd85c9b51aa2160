"""Errors while planning and running: the right PEP 249 class, where it happened, and no secret.

A failing fragment surfaces as OperationalError naming its source and period; statements other
than one read-only query are refused before any source is contacted; syntax errors carry line
and column; unknown names are ProgrammingErrors; unschedulable Ray options fail at once; and
every ``return_as`` gives the same answer.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import connectorx
import polars as pl
import pytest
from corpus_data import KIND_PARAMS, CorpusSource, answer_from_arrow, assert_same, run_cli

import piot

PASSWORD = "fake-secret-pw"
UNREACHABLE = {"sources": {"pg": {"url": "postgresql://u:pw@127.0.0.1:9/x", "tables": {"public.t": {"date_column": "d"}}}}}
SPLIT_QUERY = "SELECT COUNT(*) AS n, SUM(quantity) AS qty FROM {t} WHERE trade_date >= '2024-01-01' AND trade_date < '2024-04-01'"
ERR_TABLE = "piot_err_trades"


def _with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    user, host = parts.netloc.rsplit("@", 1) if "@" in parts.netloc else ("", parts.netloc)
    return parts._replace(netloc=f"{user.split(':', 1)[0]}:{password}@{host}").geturl()


def _full_text(error: BaseException) -> str:
    """Everything a user could see of an error: message, repr, args and the whole traceback."""
    return "\n".join([str(error), repr(error), repr(error.args), "".join(traceback.format_exception(error))])


def _no_contact(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record any connectorx read (there must be none)."""
    calls: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        calls.append(str(args[1] if len(args) > 1 else kwargs.get("query")))
        raise AssertionError("a source was contacted")

    monkeypatch.setattr(connectorx, "read_sql", refuse)
    return calls


# -- a failing fragment -----------------------------------------------------------------------
@pytest.fixture
def err_table(corpus: CorpusSource, tmp_path: Path) -> Iterator[tuple[CorpusSource, Callable[[bool], None]]]:
    """A copy of the trades table that the test may hide (rename away) and restore.

    Yields the source to use and ``hide(gone)``; the table is dropped afterwards.
    """
    if corpus.kind == "sqlite":
        path = tmp_path / "errors.db"
        shutil.copy(corpus.url.split("://", 1)[1], path)
        with sqlite3.connect(path) as handle:
            handle.execute(f"ALTER TABLE trades RENAME TO {ERR_TABLE}")
        handle.close()
        source = CorpusSource("sqlite", "lite", f"sqlite://{path}", {}, corpus.oracle_run, ERR_TABLE)

        def hide(gone: bool) -> None:
            old, new = (ERR_TABLE, ERR_TABLE + "_gone") if gone else (ERR_TABLE + "_gone", ERR_TABLE)
            with sqlite3.connect(path) as handle:
                handle.execute(f"ALTER TABLE {old} RENAME TO {new}")
            handle.close()

        yield source, hide
        return
    key = f"public.{ERR_TABLE}" if corpus.kind == "postgres" else ERR_TABLE
    run_cli(corpus.kind, corpus.url, f"DROP TABLE IF EXISTS {ERR_TABLE}; CREATE TABLE {ERR_TABLE} AS SELECT * FROM piot_corpus_trades;")
    url = _with_password(corpus.url, PASSWORD) if corpus.kind == "postgres" else corpus.url  # trust auth ignores it
    source = CorpusSource(corpus.kind, corpus.name, url, {}, corpus.oracle_run, key)

    def hide_server(gone: bool) -> None:
        old, new = (ERR_TABLE, ERR_TABLE + "_gone") if gone else (ERR_TABLE + "_gone", ERR_TABLE)
        run_cli(corpus.kind, corpus.url, f"ALTER TABLE {old} RENAME TO {new};")

    try:
        yield source, hide_server
    finally:
        run_cli(corpus.kind, corpus.url, f"DROP TABLE IF EXISTS {ERR_TABLE}; DROP TABLE IF EXISTS {ERR_TABLE}_gone;")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_failing_fragment_names_source_and_period(
    kind: str, err_table: tuple[CorpusSource, Callable[[bool], None]], ray_session: None
) -> None:
    source, hide = err_table
    connection = piot.connect(source.catalog(), time_unit="monthly")
    sql = SPLIT_QUERY.format(t=f"{source.name}.{ERR_TABLE}")
    _, plan = connection.engine.plan(sql)
    labels = [f.label for f in plan.fragments]
    assert labels == ["[2024-01-01, 2024-02-01)", "[2024-02-01, 2024-03-01)", "[2024-03-01, 2024-04-01)"]
    explain = connection.cursor().execute("EXPLAIN " + sql).fetchall()
    assert PASSWORD not in repr(explain) and PASSWORD not in repr(connection)

    hide(True)
    try:
        started = time.monotonic()
        with pytest.raises(piot.OperationalError) as caught:
            connection.engine.execute(plan)
        assert time.monotonic() - started < 60
    finally:
        hide(False)
    error = caught.value
    assert error.source == source.name and f"'{source.name}'" in str(error)
    assert error.period in labels and error.period in str(error)
    assert PASSWORD not in _full_text(error)
    assert connection.engine.execute(plan).height == 1  # the same plan runs once the table is back


@pytest.mark.mariadb
def test_wrong_password_on_mariadb_is_operational_and_secret(corpus_mysql: CorpusSource, ray_session: None) -> None:
    url = _with_password(corpus_mysql.url, PASSWORD)
    connection = piot.connect(corpus_mysql.catalog(url), time_unit="monthly")
    with pytest.raises(piot.OperationalError) as caught:
        connection.cursor().execute(corpus_mysql.sql(SPLIT_QUERY.format(t="{trades}")))
    assert caught.value.source == corpus_mysql.name
    assert PASSWORD not in _full_text(caught.value)


# -- refused before any source is contacted ---------------------------------------------------
REFUSED = (
    "INSERT INTO pg.t VALUES (1)",
    "INSERT INTO pg.t SELECT * FROM pg.s",
    "UPDATE pg.t SET a = 1",
    "DELETE FROM pg.t WHERE d < '2024-01-01'",
    "MERGE INTO pg.t USING pg.s ON t.a = s.a WHEN MATCHED THEN DELETE",
    "CREATE TABLE pg.t2 (a INT)",
    "CREATE VIEW pg.v AS SELECT 1",
    "ALTER TABLE pg.t ADD COLUMN b INT",
    "DROP TABLE pg.t",
    "TRUNCATE pg.t",
    "GRANT SELECT ON pg.t TO bob",
    "SET search_path = x",
    "COPY pg.t FROM '/tmp/x'",
    "BEGIN",
    "SELECT * INTO pg.t2 FROM pg.t",
    "SELECT * FROM pg.t FOR UPDATE",
    "WITH x AS (DELETE FROM pg.t RETURNING *) SELECT * FROM x",
    "EXPLAIN DELETE FROM pg.t",
    "SELECT 1 FROM pg.t; SELECT 2 FROM pg.t",
    "SELECT a FROM pg.t WHERE d >= '2024-01-01';\nDROP TABLE pg.t",
)


@pytest.mark.parametrize("sql", REFUSED)
def test_only_one_read_only_query_is_accepted(sql: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _no_contact(monkeypatch)
    cursor = piot.connect(UNREACHABLE).cursor()
    started = time.monotonic()
    with pytest.raises(piot.NotSupportedError):
        cursor.execute(sql)
    assert time.monotonic() - started < 2
    assert calls == []


def test_a_trailing_semicolon_is_one_statement(corpus_sqlite: CorpusSource, ray_session: None) -> None:
    cursor = piot.connect(corpus_sqlite.catalog()).cursor()
    assert cursor.execute(corpus_sqlite.sql("SELECT COUNT(*) AS n FROM {trades};")).fetchall() == [(len(_trade_ids()),)]


def _trade_ids() -> list[int]:
    from corpus_data import trade_rows

    return [row[0] for row in trade_rows()]


# -- syntax errors ------------------------------------------------------------------------------
SYNTAX_ERRORS = (
    ("SELECT a FROM pg.t WHERE a >>= 2", 1, 29),
    ("SELEC 1 FROM pg.t", 1, 7),
    ("SELECT a FROM pg.t\nWHERE d BETWEEN '2024-01-01' AND", 2, 30),
    ("SELECT a,\n  b\nFROM pg.t\nWHERE (a = 1", 4, 12),
    ("EXPLAIN\nSELECT a\nFROM pg.t WHERE (", 3, 17),
)


@pytest.mark.parametrize(("sql", "line", "col"), SYNTAX_ERRORS)
def test_syntax_error_has_line_and_column(sql: str, line: int, col: int, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _no_contact(monkeypatch)
    with pytest.raises(piot.ProgrammingError) as caught:
        piot.connect(UNREACHABLE).cursor().execute(sql)
    assert (caught.value.line, caught.value.col) == (line, col)
    assert str(caught.value).endswith(f"(line {line}, column {col})")
    assert calls == []


def test_unterminated_string_has_line_and_column(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_contact(monkeypatch)
    with pytest.raises(piot.ProgrammingError) as caught:
        piot.connect(UNREACHABLE).cursor().execute("SELECT a\nFROM pg.t\nWHERE b = 'abc")
    assert caught.value.line == 3 and caught.value.col is not None


# -- unknown names ------------------------------------------------------------------------------
UNKNOWN_NAMES = (
    ("SELECT trade_id FROM {source}.no_such_table", "no_such_table"),
    ("SELECT no_such_column FROM {trades}", "no_such_column"),
    ("SELECT trade_id FROM {trades} WHERE trade_date BETWEEN '2024-01-01' AND '2024-02-01' AND no_such_column = 1", "no_such_column"),
    ("SELECT t.no_such_column FROM {trades} AS t JOIN {symbols} AS s ON t.symbol = s.symbol", "no_such_column"),
    ("SELECT trade_id FROM no_such_source.trades", "no_such_source"),
    ("SELECT trade_id FROM trades", "trades"),
)


@pytest.mark.parametrize("kind", KIND_PARAMS)
@pytest.mark.parametrize(("template", "name"), UNKNOWN_NAMES)
def test_unknown_names_are_programming_errors(kind: str, template: str, name: str, corpus: CorpusSource) -> None:
    connection = piot.connect(corpus.catalog(), time_unit="monthly")
    sql = template.replace("{source}", corpus.name).format(**corpus.names)
    with pytest.raises(piot.ProgrammingError) as caught:
        connection.cursor().execute(sql)
    assert name in str(caught.value)
    if "no_such_source" in sql:
        assert corpus.name in str(caught.value)  # the known sources are listed


# -- Ray options that can never be scheduled ---------------------------------------------------
@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "options",
    [{"num_cpus": 64}, {"num_gpus": 1}, {"resources": {"piot_no_such_resource": 1}}, {"memory": 1 << 50}],
    ids=["num_cpus", "num_gpus", "custom_resource", "memory"],
)
def test_unschedulable_remote_options_fail_at_once(options: dict[str, Any], corpus_sqlite: CorpusSource, ray_session: None) -> None:
    connection = piot.connect(corpus_sqlite.catalog(), time_unit="monthly", remote_options=options)
    started = time.monotonic()
    with pytest.raises(piot.Error) as caught:
        connection.cursor().execute(corpus_sqlite.sql(SPLIT_QUERY.format(t="{trades}")))
    assert time.monotonic() - started < 10
    assert isinstance(caught.value, piot.DatabaseError)


def test_schedulable_remote_options_run(corpus_sqlite: CorpusSource, ray_session: None) -> None:
    sql = SPLIT_QUERY.format(t="{trades}")
    connection = piot.connect(corpus_sqlite.catalog(), time_unit="monthly", remote_options={"num_cpus": 1})
    got = answer_from_arrow(connection.cursor().execute(corpus_sqlite.sql(sql)).fetch_arrow())
    assert_same(got, corpus_sqlite.oracle(sql), "remote_options num_cpus=1")


# -- return_as ------------------------------------------------------------------------------------
RETURN_AS_QUERIES = (
    "SELECT trade_id, trade_date, ts, symbol, price, quantity, venue FROM {trades} "
    "WHERE trade_date BETWEEN '2023-12-30' AND '2024-03-02' ORDER BY trade_id",
    "SELECT trade_date, COUNT(*) AS n, MIN(ts) AS first_ts, AVG(price) AS avg_price FROM {trades_ts} "
    "WHERE ts >= '2024-02-27' AND ts < '2024-03-03' GROUP BY trade_date ORDER BY trade_date NULLS FIRST",
)


@pytest.mark.parametrize("kind", KIND_PARAMS)
@pytest.mark.parametrize("template", RETURN_AS_QUERIES, ids=["rows", "aggregates"])
def test_every_return_as_gives_the_same_answer(kind: str, template: str, corpus: CorpusSource, ray_session: None) -> None:
    frames: dict[str, pl.DataFrame] = {}
    for return_as in ("arrow", "ipc", "parquet"):
        connection = piot.connect(corpus.catalog(), time_unit="daily", return_as=return_as, max_concurrency=3)
        frames[return_as] = connection.cursor().execute(corpus.sql(template)).fetch_polars()
    assert frames["arrow"].height > 0
    expected = corpus.oracle(template)
    for return_as, frame in frames.items():
        assert frame.schema == frames["arrow"].schema, return_as
        # floats only to a tolerance: Polars may sum a group in a different order from run to run
        assert_same(answer_from_arrow(frame.to_arrow()), expected, f"return_as={return_as} on {kind}", ordered=True)


def test_unknown_return_as_is_refused_at_connect(corpus_sqlite: CorpusSource) -> None:
    with pytest.raises(piot.ProgrammingError, match="return_as"):
        piot.connect(corpus_sqlite.catalog(), return_as="csv")


def test_four_slash_sqlite_url_reads_the_absolute_path(corpus_sqlite: CorpusSource, ray_session: None) -> None:
    path = corpus_sqlite.url.split("://", 1)[1]
    assert path.startswith("/")
    catalog = corpus_sqlite.catalog(f"sqlite:///{path}")
    cursor = piot.connect(catalog).cursor()
    assert cursor.execute(corpus_sqlite.sql("SELECT COUNT(*) AS n FROM {trades}")).fetchall() == [(len(_trade_ids()),)]
