"""Backslash commands and output settings, typed at a real prompt (pipe input) over small SQLite sources."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from repl_kit import Shell, make_shell, running_repl

from piot.shell import meta

QUERY = "select id, symbol, venue from m.trades where trade_date between '2024-01-01' and '2024-03-31' order by id;"


def session(shell: Shell, *lines: str) -> tuple[str, str]:
    """Type ``lines`` at the prompt, then \\q; return what went to stdout and stderr."""
    with running_repl(shell) as driver:
        for line in lines:
            driver.submit(line)
        driver.submit("\\q")
    assert driver.result == [0]
    return shell.out.getvalue(), shell.err.getvalue()


def test_help_lists_every_command(small_catalog: Path) -> None:
    out, _ = session(make_shell(small_catalog), "\\?")
    for name in ("\\q", "\\l", "\\dt", "\\d", "\\timing", "\\x", "\\T", "\\o", "\\i", "\\explain"):
        assert f"  {name} " in out
    assert set(meta.COMMANDS) >= {"\\q", "\\l", "\\dt", "\\d", "\\timing", "\\x", "\\T", "\\o", "\\i", "\\explain"}


def test_sources_tables_and_columns(small_catalog: Path) -> None:
    out, err = session(make_shell(small_catalog), "\\l", "\\dt", "\\dt ref", "\\d m.trades", "\\d ref.symbols")
    assert err.count("ERROR") == 0, err
    blocks = out.split(")\n")
    assert blocks[0].splitlines()[2].startswith(" m      | sqlite | sqlite:///") and blocks[0].endswith("(2 rows")
    assert blocks[1].splitlines() == [
        " table       | date_column | time_unit",
        "-------------+-------------+-----------",
        " m.days      | NULL        | NULL",
        " m.trades    | trade_date  | monthly",
        " ref.symbols | NULL        | NULL",
        "(3 rows",
    ]
    assert blocks[2].splitlines()[2:] == [" ref.symbols | NULL        | NULL", "(1 row"]
    assert blocks[3].splitlines()[:4] == [
        " column     | type    | piot type | split",
        "------------+---------+-----------+-------------",
        " id         | INTEGER | BIGINT    | NULL",
        " trade_date | DATE    | DATE      | date column",
    ]
    assert blocks[4].startswith("Split on trade_date (monthly).\n column | type")
    assert "No date column in the catalog" in out


def test_listing_errors_are_one_line(small_catalog: Path) -> None:
    _, err = session(make_shell(small_catalog), "\\d m.nope", "\\dt nope", "\\d nope", "\\nope")
    lines = err.splitlines()[1:]
    assert lines == [
        "ERROR: table 'm.nope' does not exist in source 'm'",
        "ERROR: unknown source 'nope' (the catalog has: m, ref)",
        "ERROR: name a table as source.table or source.schema.table, not 'nope'",
        "ERROR: unknown command \\nope (\\? lists the commands)",
    ]


def test_formats_expanded_and_timing(small_catalog: Path, ray_session: None) -> None:
    shell = make_shell(small_catalog)
    out, err = session(shell, "\\T csv", QUERY, "\\T json", QUERY, "\\T markdown", QUERY, "\\T table", "\\x", QUERY, "\\x off", "\\timing", QUERY, "\\T yaml")
    blocks = out.split("\n")
    assert "id,symbol,venue\n1,ABC,XNYS\n2,ABC,\n3,XYZ,XNAS\n" in out
    assert '[{"id": 1, "symbol": "ABC", "venue": "XNYS"}, {"id": 2, "symbol": "ABC", "venue": null}' in out
    assert "| id  | symbol | venue |\n| --: | ------ | ----- |\n| 1   | ABC    | XNYS  |\n| 2   | ABC    | NULL  |" in out
    assert "-[ RECORD 2 ]---\nid     | 2\nsymbol | ABC\nvenue  | NULL\n" in out
    assert " id | symbol | venue\n----+--------+-------\n  1 | ABC    | XNYS\n  2 | ABC    | NULL\n" in out
    assert blocks[-2] == "(3 rows)"
    assert "Expanded display is on." in err and "Timing is on." in err
    assert "Time: " in err and "(3 fragments, 3 rows read)" in err
    assert "ERROR: unknown format 'yaml': use one of table, csv, tsv, json, markdown, vertical" in err
    assert shell.runner.state.format == "table"


def test_results_to_files_by_extension(small_catalog: Path, tmp_path: Path, ray_session: None) -> None:
    shell = make_shell(small_catalog)
    out, err = session(
        shell,
        f"\\o {tmp_path / 'r.csv'}", QUERY,
        f"\\o {tmp_path / 'r.json'}", QUERY,
        f"\\o {tmp_path / 'r.parquet'}", QUERY,
        f"\\o {tmp_path / 'r.xlsx'}",
        f"\\o {tmp_path / 'no' / 'r.csv'}",
        "\\o", QUERY,
    )
    assert (tmp_path / "r.csv").read_text() == "id,symbol,venue\n1,ABC,XNYS\n2,ABC,\n3,XYZ,XNAS\n"
    assert json.loads((tmp_path / "r.json").read_text())[1] == {"id": 2, "symbol": "ABC", "venue": None}
    assert pl.read_parquet(tmp_path / "r.parquet").rows() == [(1, "ABC", "XNYS"), (2, "ABC", None), (3, "XYZ", "XNAS")]
    assert err.count("(3 rows written to ") == 3
    assert "cannot tell the format of" in err and "does not exist" in err
    assert out.count("(3 rows)") == 1  # only the query after \o alone reached the screen


def test_script_with_commands_and_explain_mode(small_catalog: Path, tmp_path: Path, ray_session: None) -> None:
    script = tmp_path / "s.sql"
    script.write_text("\\T csv\nselect count(*) as n\n  from m.trades;\n\\explain on\n" + QUERY + "\n\\explain off\n")
    shell = make_shell(small_catalog)
    out, err = session(shell, f"\\i {script}", "\\i nowhere.sql")
    assert "n\n3\n" in out
    assert "step,source,period_start,period_end,sql,note,task\nfragment,m,2024-01-01,2024-02-01," in out
    assert "Explain mode is on." in err and "Explain mode is off." in err
    assert "ERROR: cannot read 'nowhere.sql': No such file or directory" in err
    assert not shell.runner.state.explain


def test_sql_errors_point_at_the_place_without_traceback(small_catalog: Path) -> None:
    shell = make_shell(small_catalog)
    _, err = session(shell, "select id,\n  nope from m.trades;", "\\explain on", "select id,\n  nope from m.trades;")
    assert err.count("unknown column 'nope'") == 2
    assert err.count("(line 2, column 3)\n    nope from m.trades\n    ^\n") == 2
    assert "Traceback" not in err


def test_screen_row_limit_says_how_many_rows_are_hidden(small_catalog: Path, ray_session: None) -> None:
    shell = make_shell(small_catalog, row_limit=2)
    out, err = shell_run(shell, "select id from m.trades order by id; \\T csv\nselect id from m.trades order by id;")
    assert "  2\n(3 rows, 1 not shown)\n" in out
    assert out.endswith("id\n1\n2\n")
    assert "(3 rows, 1 not shown: \\o FILE writes them all)" in err


def shell_run(shell: Shell, script: str) -> tuple[str, str]:
    shell.runner.run_script(script)
    return shell.out.getvalue(), shell.err.getvalue()


def test_quit_words_and_end_of_input(small_catalog: Path) -> None:
    for word in ("quit", "exit;", "\\q"):
        shell = make_shell(small_catalog)
        with running_repl(shell) as driver:
            driver.submit(word)
        assert driver.result == [0]
    shell = make_shell(small_catalog)
    with running_repl(shell) as driver:
        driver.keys.send_text("\x04")  # Ctrl-D on an empty line
    assert driver.result == [0]


@pytest.mark.parametrize(("argument", "current", "expected"), [("", True, False), ("ON", False, True), ("x", False, None)])
def test_switch_arguments(argument: str, current: bool, expected: bool | None) -> None:
    assert meta.parse_switch(argument, current) is expected
