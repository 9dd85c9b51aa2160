"""Where the catalog and the preferences come from, and one-line errors when they are broken."""

from __future__ import annotations

from pathlib import Path

import pytest

from piot.shell.config import Preferences, load_preferences
from piot.shell.main import main
from piot.shell.repl import BoundedFileHistory, open_history

EXPLAIN = "explain select id from m.trades"


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_preferences_come_from_the_config_file_in_home(home: Path, small_catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert load_preferences() == Preferences()
    config = home / ".config" / "piot" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('format = "csv"\nrow_limit = 5\ntiming = true\nhistory_size = 10\n')
    assert load_preferences() == Preferences(format="csv", row_limit=5, timing=True, history_size=10)
    code, out, _ = run_main(capsys, "--catalog", str(small_catalog), "-c", EXPLAIN)
    assert code == 0 and out.startswith("step,source,period_start,period_end,sql,note,task\n")
    code, out, _ = run_main(capsys, "--catalog", str(small_catalog), "--format", "markdown", "-c", EXPLAIN)
    assert code == 0 and out.startswith("| step     | source |")


def test_piot_config_points_elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "prefs.toml"
    config.write_text('expanded = true\nhistory_file = "~/h.txt"\n')
    monkeypatch.setenv("PIOT_CONFIG", str(config))
    preferences = load_preferences()
    assert preferences.expanded and preferences.history_path == Path.home() / "h.txt"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("format = ", "is not valid TOML"),
        ('colour = "red"', "unknown setting 'colour'"),
        ('format = "yaml"', "format must be one of table, csv, tsv, json, markdown, vertical, not 'yaml'"),
        ("row_limit = -1", "row_limit must be 0 or more"),
        ('timing = "yes"', "timing must be a bool, not 'yes'"),
    ],
)
def test_a_broken_config_is_one_line_naming_the_file(
    text: str, message: str, home: Path, small_catalog: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = home / "bad.toml"
    config.write_text(text)
    monkeypatch.setenv("PIOT_CONFIG", str(config))
    code, out, err = run_main(capsys, "--catalog", str(small_catalog), "-c", EXPLAIN)
    assert code == 1 and out == ""
    assert err.startswith(f"ERROR: config file '{config}'") and message in err
    assert err.count("\n") == 1


def test_catalog_search_order(
    home: Path, tmp_path: Path, small_catalog: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run_main(capsys, "-c", EXPLAIN)
    assert code == 1 and err.startswith("ERROR: no catalog: pass --catalog FILE, set PIOT_CATALOG")
    user = home / ".config" / "piot" / "catalog.toml"
    user.parent.mkdir(parents=True)
    user.write_text("[sources.m]\n")
    code, _, err = run_main(capsys, "-c", EXPLAIN)
    assert code == 1 and err == f"ERROR: catalog {user}, source 'm': needs url = \"...\"\n"
    (tmp_path / "piot.toml").write_text(small_catalog.read_text().replace("sqlite://", f"sqlite://{small_catalog.parent}/"))
    assert run_main(capsys, "-c", EXPLAIN)[0] == 0  # ./piot.toml comes before the user's catalog
    monkeypatch.setenv("PIOT_CATALOG", str(tmp_path / "nowhere.toml"))
    code, _, err = run_main(capsys, "-c", EXPLAIN)
    assert code == 1 and err == f"ERROR: catalog file '{tmp_path / 'nowhere.toml'}' does not exist\n"


def test_a_broken_catalog_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = tmp_path / "c.toml"
    catalog.write_text("[sources.m\nurl = 1\n")
    code, out, err = run_main(capsys, "--catalog", str(catalog), "-c", EXPLAIN)
    assert code == 1 and out == ""
    assert err.startswith(f"ERROR: catalog file '{catalog}' is not valid TOML") and err.count("\n") == 1


def test_history_keeps_the_newest_entries(tmp_path: Path) -> None:
    path = tmp_path / "share" / "history"
    history = open_history(path, 3)
    for number in range(5):
        history.store_string(f"select {number};")
    assert list(open_history(path, 3).load_history_strings()) == ["select 4;", "select 3;", "select 2;"]
    BoundedFileHistory(path, 2)  # trims the file itself
    assert path.read_text().count("+select") == 2


def _today_in(capsys: pytest.CaptureFixture[str], catalog: Path, *flags: str) -> str:
    code, out, err = run_main(capsys, "--catalog", str(catalog), "--format", "csv", *flags, "-c", "explain select current_date as d")
    assert code == 0, err
    return out.split("CAST('")[1][:10]  # the merge's folded literal: no query runs


def test_timezone_comes_from_the_flag_over_the_config(
    home: Path, small_catalog: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = home / "tz.toml"
    config.write_text('timezone = "+14:00"\n')
    monkeypatch.setenv("PIOT_CONFIG", str(config))
    east = _today_in(capsys, small_catalog)
    west = _today_in(capsys, small_catalog, "--timezone=-11:00")  # 25 hours apart: never the same date
    assert east > west
    code, out, err = run_main(capsys, "--catalog", str(small_catalog), "--timezone", "Mars/Olympus", "-c", EXPLAIN)
    assert code == 1 and out == "" and "unknown time zone 'Mars/Olympus'" in err
    config.write_text('timezone = "Mars/Olympus"\n')
    code, out, err = run_main(capsys, "--catalog", str(small_catalog), "-c", EXPLAIN)
    assert code == 1 and err.startswith(f"ERROR: config file '{config}': unknown time zone")
