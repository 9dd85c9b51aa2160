"""Completion typed through a real prompt (pipe input): keywords, sources, tables, and the columns
of the FROM tables after SELECT and WHERE, by alias too; names load in the background."""

from __future__ import annotations

from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from repl_kit import Driver, make_shell, running_repl

from piot.shell.completer import SqlCompleter, context, table_references
from piot.shell.metadata import Metadata, MetadataLoader


@pytest.fixture()
def driver(small_catalog: Path) -> Driver:
    shell = make_shell(small_catalog)
    with running_repl(shell) as running:
        yield running
        running.keys.send_text("\x03")  # Ctrl-C clears what is left on the line
        running.submit("\\q")


def test_keywords_follow_the_case_typed(driver: Driver) -> None:
    driver.type("sel")
    assert driver.tab() == "select"
    driver.type(" * fr")
    assert driver.tab() == "select * from"


def test_sources_then_their_tables_after_from(driver: Driver) -> None:
    driver.type("select * from r")
    assert driver.tab() == "select * from ref."
    driver.type("sym")
    assert driver.tab() == "select * from ref.symbols"


def test_tables_by_their_own_name_after_join(driver: Driver) -> None:
    driver.type("select * from m.trades t join symb")
    assert driver.tab() == "select * from m.trades t join ref.symbols"


def test_columns_by_alias_after_where(driver: Driver) -> None:
    driver.type("select * from m.trades t where t.pr")
    assert driver.tab() == "select * from m.trades t where t.price"


def test_columns_of_the_from_tables_after_select(driver: Driver) -> None:
    driver.type("select  from m.trades t join ref.symbols s on t.symbol = s.symbol")
    driver.type("\x1b[H")  # Home: back to the start of the line
    driver.type("\x1b[C" * len("select "))
    driver.type("s.")
    assert driver.tab().startswith("select s.symbol from")
    assert driver.completions() == ["symbol", "name"]


def test_unqualified_columns_come_from_every_from_table_once(driver: Driver) -> None:
    driver.type("select * from m.trades t, ref.symbols where na")
    assert driver.tab() == "select * from m.trades t, ref.symbols where name"
    driver.type(" and sym")
    assert driver.completions()[:1] == ["symbol"]


def test_backslash_commands_and_their_arguments(driver: Driver) -> None:
    driver.type("\\ti")
    assert driver.tab() == "\\timing"
    driver.keys.send_text("\x03")
    driver.type("\\T mark")
    assert driver.tab() == "\\T markdown"


def test_columns_of_a_table_load_on_demand(small_catalog: Path) -> None:
    shell = make_shell(small_catalog)
    loader = MetadataLoader(shell.runner.connection, eager_tables=0)
    loader.start()
    assert loader.wait()
    assert loader.metadata.tables == {"m": ("days", "trades"), "ref": ("symbols",)}
    assert loader.metadata.columns == {}
    completer = SqlCompleter(lambda: loader.metadata, loader.request)
    document = Document("select * from m.trades where pr")
    assert [c.text for c in completer.get_completions(document, CompleteEvent())] == []  # asking starts the load
    assert loader.wait()
    assert loader.metadata.columns["m.trades"] == ("id", "trade_date", "symbol", "price", "venue")
    assert [c.text for c in completer.get_completions(document, CompleteEvent())][:1] == ["price"]


def test_a_source_that_cannot_be_listed_is_remembered_not_raised(tmp_path: Path) -> None:
    (tmp_path / "piot.toml").write_text('[sources.gone]\nurl = "sqlite://missing/nowhere.db"\n')
    shell = make_shell(tmp_path / "piot.toml")
    loader = MetadataLoader(shell.runner.connection)
    loader.start()
    assert loader.wait()
    assert "gone" in loader.metadata.errors


@pytest.mark.parametrize(
    ("before", "expected"),
    [
        ("", "keyword"),
        ("select ", "column"),
        ("select a, ", "column"),
        ("select count(", "column"),
        ("select a from ", "table"),
        ("select a from m.t x join ", "table"),
        ("select a from m.t x ", "keyword"),
        ("select a from m.t x where a = 1 and ", "column"),
        ("select a from m.t x group by ", "column"),
        ("select a from m.t x order by a limit ", "keyword"),
        ("select a as ", "none"),
        ("select 'from ", "column"),
    ],
)
def test_context_of_the_cursor(before: str, expected: str) -> None:
    assert context(before) == expected


def test_aliases_with_and_without_as() -> None:
    refs = table_references('select * from m.trades as t left join ref."Symbols" s on t.a = s.a where x')
    assert refs["t"] == "m.trades" and refs["s"] == "ref.symbols" and refs["symbols"] == "ref.symbols"


def test_names_that_need_quotes_are_quoted() -> None:
    meta = Metadata(("m",), {"m": ("t",)}, {"m.t": ("Trade Date", "price")})
    completer = SqlCompleter(lambda: meta)
    texts = [c.text for c in completer.get_completions(Document("select x.tr from m.t x"[: len("select x.tr")]), CompleteEvent())]
    assert texts == []  # the FROM clause is not typed yet: no table, no columns
    document = Document("select x.tr from m.t x", cursor_position=len("select x.tr"))
    assert [c.text for c in completer.get_completions(document, CompleteEvent())] == ['"Trade Date"']
