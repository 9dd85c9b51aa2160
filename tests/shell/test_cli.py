"""The piot-sql command run as a user runs it: -c, -f, stdin, exit codes, stdout vs stderr."""

from __future__ import annotations

import csv
import io
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from piot.shell.main import split_statements


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny SQLite source and a catalog naming it."""
    root = tmp_path_factory.mktemp("cli")
    with sqlite3.connect(root / "m.db") as db:
        db.execute("CREATE TABLE trades (id INTEGER, trade_date DATE, price REAL)")
        db.executemany(
            "INSERT INTO trades VALUES (?, ?, ?)",
            [(1, "2024-01-31", 10.0), (2, "2024-02-01", 20.0), (3, "2024-03-01", 30.0), (4, None, 40.0)],
        )
    path = root / "piot.toml"
    path.write_text('[sources.m]\nurl = "sqlite://m.db"\n[sources.m.tables.trades]\ndate_column = "trade_date"\n')
    return path


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "piot.shell.main", *args], input=stdin, capture_output=True, text=True, timeout=120
    )


def test_command_runs_a_split_query_and_prints_a_table(catalog: Path) -> None:
    done = run_cli("--catalog", str(catalog), "-c", "select count(*) as n, sum(price) as total from m.trades where trade_date between '2024-01-01' and '2024-03-01'")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].split() == ["n", "|", "total"]
    assert done.stdout.splitlines()[2].split() == ["3", "|", "60.0"]


def test_explain_names_each_fragment_without_running(catalog: Path) -> None:
    done = run_cli("--catalog", str(catalog), "--format", "csv", "--time-unit", "monthly", "-c", "explain select * from m.trades where trade_date >= '2024-01-15' and trade_date < '2024-03-15'")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "step,source,period_start,period_end,sql,note,task"
    assert [line.split(",")[0] for line in lines[1:]] == ["fragment", "fragment", "fragment", "merge"]


def test_file_and_stdin_run_every_statement(catalog: Path, tmp_path: Path) -> None:
    script = tmp_path / "q.sql"
    script.write_text("explain select 1 from m.trades;\nexplain select 2 from m.trades;\n")
    by_file = run_cli("--catalog", str(catalog), "--format", "csv", "-f", str(script))
    by_stdin = run_cli("--catalog", str(catalog), "--format", "csv", stdin=script.read_text())
    assert by_file.returncode == by_stdin.returncode == 0
    assert by_file.stdout == by_stdin.stdout
    assert by_file.stdout.count("step,source") == 2


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("delete from m.trades", "DELETE is not allowed"),
        ("select * from m.nope", "does not exist"),
        ("select * from m.trades where", "syntax error"),
        ("select nope from m.trades", "unknown column 'nope'"),
    ],
)
def test_errors_are_one_clear_message_on_stderr_and_exit_1(catalog: Path, sql: str, expected: str) -> None:
    done = run_cli("--catalog", str(catalog), "-c", sql)
    assert done.returncode == 1
    assert done.stdout == ""
    assert expected in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_catalog_says_which_file(tmp_path: Path) -> None:
    done = run_cli("--catalog", str(tmp_path / "absent.toml"), "-c", "select 1")
    assert done.returncode == 1
    assert "absent.toml" in done.stderr and "does not exist" in done.stderr


def test_split_statements_ignores_semicolons_in_strings() -> None:
    assert split_statements("select ';' as a; select 2;;") == ["select ';' as a", "select 2"]


def test_a_script_runs_on_after_an_error_and_exits_1_leaving_no_ray_behind(catalog: Path, tmp_path: Path) -> None:
    script = tmp_path / "mixed.sql"
    script.write_text(
        "\\T json\n"
        "select id, trade_date from m.trades where trade_date between '2024-02-01' and '2024-03-01' order by id;\n"
        "select nope from m.trades;\n"
        "\\T markdown\n"
        "select count(*) as n from m.trades; \\q\n"
        "select 'never run' from m.trades;\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-m", "piot.shell.main", "--catalog", str(catalog), "-f", str(script)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    out, err = child.communicate(timeout=120)
    assert child.returncode == 1
    assert out.splitlines() == [
        '[{"id": 2, "trade_date": "2024-02-01"}, {"id": 3, "trade_date": "2024-03-01"}]',
        "| n   |",
        "| --: |",
        "| 4   |",
        "",
        "(1 row)",
    ]
    assert err.splitlines() == [
        "Output format is json.",
        "ERROR: unknown column 'nope' (reading m.trades) (line 1, column 8)",
        "  select nope from m.trades",
        "         ^",
        "Output format is markdown.",
    ]
    assert "Traceback" not in err
    listing = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert not [line for line in listing.splitlines() if "raylet" in line and f"_{child.pid}/" in line]


def test_stdin_runs_commands_too_without_starting_ray(catalog: Path) -> None:
    done = run_cli("--catalog", str(catalog), stdin="\\T tsv\n\\explain on\nselect id from m.trades;\n\\dt\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("step\tsource\tperiod_start\tperiod_end\tsql\tnote\ttask\nfragment\tm\t")
    assert "m.trades\ttrade_date\t\n" in done.stdout  # NULL time_unit: an empty field
    assert done.stderr == "Output format is tsv.\nExplain mode is on.\n"


def test_explain_analyze_runs_even_in_explain_mode(catalog: Path) -> None:
    """In explain mode an EXPLAIN ANALYZE is run as written (not explained again): one row per fragment, then the merge."""
    query = "explain analyze select id from m.trades where trade_date >= '2024-01-01' and trade_date < '2024-03-15'"
    done = run_cli("--catalog", str(catalog), "--time-unit", "monthly", "--format", "csv", stdin=f"\\explain on\n{query};\n")
    assert done.returncode == 0, done.stderr
    table = list(csv.DictReader(io.StringIO(done.stdout)))
    assert list(table[0])[:6] == ["step", "source", "period_start", "period_end", "rows", "bytes"]
    assert [row["step"] for row in table] == ["fragment"] * 3 + ["merge"]
    with sqlite3.connect(catalog.parent / "m.db") as db:
        count = "SELECT count(*) FROM trades WHERE trade_date >= ? AND trade_date < ?"
        for row in table[:-1]:
            assert int(row["rows"]) == db.execute(count, (row["period_start"], row["period_end"])).fetchone()[0]
            assert int(row["attempts"]) >= 1 and row["node"]
        assert int(table[-1]["rows"]) == db.execute(count, ("2024-01-01", "2024-03-15")).fetchone()[0] > 0


def test_missing_script_file_is_one_line(catalog: Path, tmp_path: Path) -> None:
    done = run_cli("--catalog", str(catalog), "-f", str(tmp_path / "none.sql"))
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == f"ERROR: cannot read {tmp_path / 'none.sql'}: No such file or directory\n"
