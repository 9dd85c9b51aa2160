"""EXPLAIN ANALYZE runs the query as execute does and answers with what each fragment did.

On real PostgreSQL and MariaDB, over the corpus' trades table split monthly: one row per
fragment of the plan EXPLAIN shows, each shipping exactly the rows the source itself counts
in that fragment's window (the oracle), run on a node of the running Ray, at least once. The
same through the prompt (``piot-sql -c``) and SQLAlchemy. Timings are only checked to be there
and to be numbers, never for their size. EXPLAIN ANALYZE of anything but a read-only query is
refused before any source is read.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from corpus_data import CorpusSource

import piot
from piot.dbapi.explain import ANALYZE_COLUMNS, EXPLAIN_COLUMNS
from piot.run.scheduler import TaskItem, run_tasks

KINDS = [pytest.param("postgres", marks=pytest.mark.postgres), pytest.param("mysql", marks=pytest.mark.mariadb)]
#: the query's range: five monthly fragments, the first and last clipped to it.
START, END = dt.date(2023, 11, 15), dt.date(2024, 3, 10)
QUERY = "SELECT trade_id, trade_date, price FROM {trades} WHERE trade_date >= ? AND trade_date < ?"
#: the oracle's count of a window [start, end) of trade_date, in the source itself.
WINDOW_COUNT = "SELECT count(*) AS n FROM {trades} WHERE trade_date >= DATE '%s' AND trade_date < DATE '%s'"


@pytest.fixture
def connection(corpus: CorpusSource, ray_session: None) -> Iterator[piot.Connection]:
    connection = piot.connect(corpus.catalog(), time_unit="monthly")
    yield connection
    connection.close()


def _as_dicts(cursor: piot.Cursor) -> list[dict[str, Any]]:
    names = [column[0] for column in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _source_count(corpus: CorpusSource, start: str, end: str) -> int:
    return int(corpus.oracle(WINDOW_COUNT % (start, end)).rows[0][0])


def _ray_nodes() -> set[str]:
    import ray

    return {node["NodeID"] for node in ray.nodes() if node.get("Alive")}


def _check_fragment_figures(row: dict[str, Any], expected_rows: int, nodes: set[str] | None) -> None:
    assert row["rows"] == expected_rows, row
    assert row["rows_read"] >= row["rows"], row
    assert isinstance(row["bytes"], int) and (row["bytes"] > 0) is (expected_rows > 0), row
    assert isinstance(row["source_seconds"], float) and row["source_seconds"] >= 0, row
    assert isinstance(row["task_seconds"], float) and row["task_seconds"] >= 0, row
    assert row["merge_seconds"] is None, row
    assert isinstance(row["attempts"], int) and row["attempts"] >= 1, row
    assert isinstance(row["node"], str) and (nodes is None or row["node"] in nodes), row


# -- through the cursor --------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_one_row_per_fragment_shipping_what_the_source_counts(corpus: CorpusSource, connection: piot.Connection) -> None:
    sql, bounds = corpus.sql(QUERY), [START, END]
    cursor = connection.cursor()
    planned = [(row[2], row[3]) for row in cursor.execute("EXPLAIN " + sql, bounds).fetchall() if row[0] == "fragment"]
    cursor.execute("EXPLAIN ANALYZE " + sql, bounds)
    assert [c[0] for c in cursor.description or []] == list(ANALYZE_COLUMNS)
    codes = {c[0]: c[1] for c in cursor.description or []}
    assert codes["rows"] == codes["attempts"] == piot.NUMBER and codes["source_seconds"] == piot.NUMBER
    assert codes["node"] == piot.STRING
    rows = _as_dicts(cursor)

    assert [row["step"] for row in rows] == ["fragment"] * len(planned) + ["merge"] and len(planned) == 5
    fragments, merge = rows[:-1], rows[-1]
    assert [(row["period_start"], row["period_end"]) for row in fragments] == planned  # the plan EXPLAIN shows
    assert all(row["source"] == corpus.name for row in fragments)
    nodes = _ray_nodes()
    for row in fragments:
        _check_fragment_figures(row, _source_count(corpus, row["period_start"], row["period_end"]), nodes)
    total = _source_count(corpus, START.isoformat(), END.isoformat())
    assert sum(row["rows"] for row in fragments) == total > 0
    assert merge["rows"] == total and merge["rows_read"] == total  # the query returns every row it read
    assert isinstance(merge["merge_seconds"], float) and merge["merge_seconds"] >= 0
    assert merge["source_seconds"] is None and merge["task_seconds"] is None and merge["node"] is None
    assert cursor.progress is not None and cursor.progress.fragments_total == 5 == cursor.progress.fragments_done


@pytest.mark.parametrize("kind", KINDS)
def test_fragments_sharing_a_task_keep_their_own_figures(
    corpus: CorpusSource, connection: piot.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("piot.run.execute.MAX_TASKS_PER_SCAN", 2)  # five fragments in two tasks: three and two
    cursor = connection.cursor().execute("EXPLAIN ANALYZE " + corpus.sql(QUERY), [START, END])
    fragments = [row for row in _as_dicts(cursor) if row["step"] == "fragment"]
    assert len(fragments) == 5
    for row in fragments:
        _check_fragment_figures(row, _source_count(corpus, row["period_start"], row["period_end"]), _ray_nodes())
    first, second = fragments[:3], fragments[3:]
    assert len({(row["node"], row["attempts"]) for row in first}) == len({(row["node"], row["attempts"]) for row in second}) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_join_measures_each_table_it_reads(corpus: CorpusSource, connection: piot.Connection) -> None:
    joined = "SELECT t.trade_id, s.sector FROM {trades} t JOIN {symbols} s ON s.symbol = t.symbol"
    sql = corpus.sql(joined + " WHERE t.trade_date >= ? AND t.trade_date < ?")
    rows = _as_dicts(connection.cursor().execute("EXPLAIN ANALYZE " + sql, [START, END]))
    unsplit = [row for row in rows if row["step"] == "fragment" and row["period_start"] is None]
    assert len(unsplit) == 1  # the symbols table, read whole
    assert unsplit[0]["rows"] == int(corpus.oracle("SELECT count(*) FROM {symbols}").rows[0][0])
    expected = corpus.oracle("SELECT count(*) FROM {trades} t JOIN {symbols} s ON s.symbol = t.symbol "
                             f"WHERE t.trade_date >= DATE '{START}' AND t.trade_date < DATE '{END}'")  # fmt: skip
    assert rows[-1]["step"] == "merge" and rows[-1]["rows"] == int(expected.rows[0][0])


@pytest.mark.parametrize("kind", KINDS)
def test_a_run_stopped_by_its_limit_says_which_fragments_never_ran(corpus: CorpusSource, connection: piot.Connection) -> None:
    rows = _as_dicts(connection.cursor().execute("EXPLAIN ANALYZE " + corpus.sql(QUERY) + " LIMIT 1", [START, END]))
    fragments, merge = rows[:-1], rows[-1]
    assert merge["step"] == "merge" and merge["rows"] == 1
    assert any(row["attempts"] >= 1 for row in fragments)
    for row in fragments:
        ran = row["attempts"] >= 1
        assert (row["rows"] is not None) is ran and (row["node"] is not None) is ran, row


@pytest.mark.postgres
@pytest.mark.mariadb
def test_explain_shows_what_runs_in_the_source_the_task_and_the_merge(
    corpus_postgres: CorpusSource, corpus_mysql: CorpusSource, ray_session: None
) -> None:
    """PostgreSQL keeps exactly the rows asked for (the task ships them as read).

    MariaDB compares text without regard to case, so the task filters the rows read again.
    """
    for corpus, task in ((corpus_postgres, "rows as read"), (corpus_mysql, "filter exactly: ")):
        connection = piot.connect(corpus.catalog(), time_unit="monthly")
        sql = corpus.sql("SELECT trade_id FROM {trades} WHERE trade_date >= ? AND trade_date < ? AND symbol = 'AAPL'")
        cursor = connection.cursor().execute("EXPLAIN " + sql, [START, END])
        assert [c[0] for c in cursor.description or []] == list(EXPLAIN_COLUMNS)
        rows = _as_dicts(cursor)
        for row in rows[:-1]:
            assert row["step"] == "fragment" and "SELECT" in row["sql"] and row["task"].startswith(task), row
        assert rows[-1]["step"] == "merge" and rows[-1]["task"] == "the whole query over the fragments' rows"
        connection.close()


# -- a retried task counts its attempts -----------------------------------------------------
def test_a_task_ray_retried_counts_two_attempts(tmp_path: Path, ray_session: None) -> None:
    def dies_the_first_time(marker: str, limits: Any, shared: Any) -> tuple[str | None, int | None]:
        """Its worker dies on the first attempt (so Ray runs it again); then it says where and at which attempt it ran.

        Defined here, so that Ray ships it by value to workers that cannot import this test module.
        """
        import os
        from pathlib import Path

        from piot.run.runtime import task_place

        if not os.path.exists(marker):
            Path(marker).touch()
            os._exit(1)
        return task_place()

    marker = str(tmp_path / "died-once")
    [(node, attempts)] = run_tasks(dies_the_first_time, [TaskItem(marker, "the retried task", options={"max_retries": 1})])
    assert attempts == 2 and node in _ray_nodes()


# -- the other front-ends -------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_through_sqlalchemy_text(corpus: CorpusSource, ray_session: None) -> None:
    sa = pytest.importorskip("sqlalchemy")
    engine = sa.create_engine("piot://", connect_args={"catalog": corpus.catalog(), "time_unit": "monthly"})
    try:
        with engine.connect() as connection:
            result = connection.execute(
                sa.text("EXPLAIN ANALYZE " + corpus.sql(QUERY).replace("?", ":start", 1).replace("?", ":end", 1)),
                {"start": START, "end": END},
            )
            assert tuple(result.keys()) == ANALYZE_COLUMNS
            rows = [dict(row._mapping) for row in result]
            with pytest.raises(sa.exc.DBAPIError) as refused:
                connection.execute(sa.text("EXPLAIN ANALYZE " + corpus.sql("DELETE FROM {trades}")))
            assert isinstance(refused.value.orig, piot.NotSupportedError)
    finally:
        engine.dispose()
    fragments = [row for row in rows if row["step"] == "fragment"]
    assert len(fragments) == 5 and rows[-1]["step"] == "merge"
    for row in fragments:
        _check_fragment_figures(row, _source_count(corpus, row["period_start"], row["period_end"]), _ray_nodes())


@pytest.mark.postgres
def test_through_the_prompt(corpus_postgres: CorpusSource, tmp_path: Path) -> None:
    """``piot-sql -c`` starts a Ray of its own: its node ids are not this session's, but each row has one."""
    corpus = corpus_postgres
    catalog = tmp_path / "catalog.toml"
    table = f'[sources.{corpus.name}.tables."{corpus.table_key}"]\ndate_column = "trade_date"\n'
    catalog.write_text(f'[sources.{corpus.name}]\nurl = "{corpus.url}"\n' + table)
    sql = corpus.sql(QUERY).replace("?", f"DATE '{START}'", 1).replace("?", f"DATE '{END}'", 1)
    done = _cli("--catalog", str(catalog), "--time-unit", "monthly", "--format", "csv", "-c", "EXPLAIN ANALYZE " + sql)
    assert done.returncode == 0, done.stderr
    table = list(csv.DictReader(io.StringIO(done.stdout)))
    assert tuple(table[0]) == ANALYZE_COLUMNS
    assert [row["step"] for row in table] == ["fragment"] * 5 + ["merge"]
    for row in table[:-1]:
        assert int(row["rows"]) == _source_count(corpus, row["period_start"], row["period_end"])
        assert int(row["attempts"]) >= 1 and len(row["node"]) > 0 and float(row["source_seconds"]) >= 0
    assert int(table[-1]["rows"]) == _source_count(corpus, START.isoformat(), END.isoformat())

    refused = _cli("--catalog", str(catalog), "-c", "EXPLAIN ANALYZE " + corpus.sql("DELETE FROM {trades}"))
    assert refused.returncode != 0 and refused.stderr.startswith("ERROR: DELETE is not allowed"), refused.stderr
    assert "Traceback" not in refused.stderr


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "piot.shell.main", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


# -- refusals --------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "template",
    [
        "DELETE FROM {trades}",
        "UPDATE {trades} SET price = 0",
        "INSERT INTO {trades} (trade_id) VALUES (-1)",
        "WITH gone AS (DELETE FROM {trades} RETURNING *) SELECT count(*) FROM gone",
        "SELECT * FROM {trades} FOR UPDATE",
        "EXPLAIN ANALYZE DELETE FROM {trades}",
    ],
)
def test_anything_but_a_read_only_query_is_refused(
    template: str, corpus: CorpusSource, connection: piot.Connection, count_rows: Callable[[CorpusSource], int]
) -> None:
    before = count_rows(corpus)
    with pytest.raises(piot.NotSupportedError, match="not allowed|not supported"):
        connection.cursor().execute("EXPLAIN ANALYZE " + corpus.sql(template))
    assert count_rows(corpus) == before


@pytest.fixture
def count_rows() -> Callable[[CorpusSource], int]:
    def count(corpus: CorpusSource) -> int:
        return int(corpus.oracle("SELECT count(*) FROM {trades}").rows[0][0])

    return count
