"""The demo data: shape, types as connectorx sees them, determinism and the catalog."""

from __future__ import annotations

import hashlib
import inspect
import os
import sqlite3
from pathlib import Path
from typing import Any

import connectorx
import pyarrow as pa
import pytest

from piot.connectors import load_catalog
from piot.demo import LISTINGS, generate_demo

ROWS = 20_000


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo written once for the whole module."""
    directory = tmp_path_factory.mktemp("demo")
    generate_demo(directory, rows=ROWS)
    return directory


def _query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def _arrow(path: Path, sql: str) -> pa.Table:
    table = connectorx.read_sql("sqlite://" + str(path), sql, return_type="arrow")
    return table.read_all() if isinstance(table, pa.RecordBatchReader) else table


def _digest(directory: Path) -> str:
    digest = hashlib.sha256()
    for name, sql in (
        ("markets.db", "SELECT * FROM trades ORDER BY trade_id"),
        ("reference.db", "SELECT * FROM symbols ORDER BY symbol"),
        ("reference.db", "SELECT * FROM venues ORDER BY venue"),
    ):
        for row in _query(directory / name, sql):
            digest.update(repr(row).encode())
    return digest.hexdigest()


def test_writes_the_files_and_no_leftovers(demo_dir: Path) -> None:
    assert sorted(os.listdir(demo_dir)) == ["catalog.toml", "markets.db", "reference.db"]
    assert _query(demo_dir / "markets.db", "SELECT COUNT(*) FROM trades") == [(ROWS,)]


def test_connectorx_types(demo_dir: Path) -> None:
    table = _arrow(demo_dir / "markets.db", "SELECT * FROM trades WHERE trade_date < '2023-01-10'")
    assert table.num_rows > 0
    assert table.schema.field("trade_date").type == pa.date32()
    assert pa.types.is_timestamp(table.schema.field("ts").type)
    assert pa.types.is_floating(table.schema.field("price").type)
    assert pa.types.is_integer(table.schema.field("quantity").type)


def test_dates_cover_every_month_of_2023_and_2024(demo_dir: Path) -> None:
    table = _arrow(demo_dir / "markets.db", "SELECT trade_date FROM trades")
    months = {(day.year, day.month) for day in table.column("trade_date").to_pylist()}
    assert months == {(year, month) for year in (2023, 2024) for month in range(1, 13)}


def test_times_fall_in_the_trading_day_of_their_date(demo_dir: Path) -> None:
    rows = _query(
        demo_dir / "markets.db",
        "SELECT MIN(substr(ts, 12)), MAX(substr(ts, 12)), SUM(substr(ts, 1, 10) <> trade_date) FROM trades",
    )
    earliest, latest, mismatched = rows[0]
    assert earliest >= "09:30:00" and latest <= "16:00:00"
    assert mismatched == 0


def test_some_venues_are_null_and_sides_are_buy_or_sell(demo_dir: Path) -> None:
    [(nulls,)] = _query(demo_dir / "markets.db", "SELECT COUNT(*) FROM trades WHERE venue IS NULL")
    assert 0 < nulls < ROWS * 0.01
    sides = _query(demo_dir / "markets.db", "SELECT DISTINCT side FROM trades ORDER BY side")
    assert sides == [("buy",), ("sell",)]


def test_trade_date_is_indexed(demo_dir: Path) -> None:
    indexes = _query(demo_dir / "markets.db", "PRAGMA index_list(trades)")
    columns = [_query(demo_dir / "markets.db", f"PRAGMA index_info({row[1]})") for row in indexes]
    assert any(info and info[0][2] == "trade_date" for info in columns)


def test_reference_tables_match_the_trades(demo_dir: Path) -> None:
    symbols = {row[0] for row in _query(demo_dir / "reference.db", "SELECT symbol FROM symbols")}
    traded = {row[0] for row in _query(demo_dir / "markets.db", "SELECT DISTINCT symbol FROM trades")}
    assert traded == symbols and len(symbols) == len(LISTINGS) >= 15
    venues = {row[0] for row in _query(demo_dir / "reference.db", "SELECT venue FROM venues")}
    used = {
        row[0] for row in _query(demo_dir / "markets.db", "SELECT DISTINCT venue FROM trades WHERE venue IS NOT NULL")
    }
    assert used <= venues


def test_generation_is_deterministic(demo_dir: Path, tmp_path: Path) -> None:
    generate_demo(tmp_path / "again", rows=ROWS)
    assert _digest(tmp_path / "again") == _digest(demo_dir)


def test_catalog_resolves_relative_sqlite_paths(demo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(demo_dir.parent)
    catalog = load_catalog(Path(demo_dir.name) / "catalog.toml")
    assert catalog.source("markets").url == "sqlite://" + str((demo_dir / "markets.db").resolve())
    assert catalog.source("ref").url == "sqlite://" + str((demo_dir / "reference.db").resolve())
    settings = catalog.source("markets").settings_for(None, "trades")
    assert (settings.date_column, settings.time_unit) == ("trade_date", "monthly")


def test_rerun_keeps_complete_data_and_force_rebuilds(tmp_path: Path) -> None:
    catalog = generate_demo(tmp_path, rows=500)
    markets = tmp_path / "markets.db"
    backdated = markets.stat().st_mtime_ns - 10**9
    os.utime(markets, ns=(backdated, backdated))
    assert generate_demo(tmp_path, rows=500) == catalog
    assert markets.stat().st_mtime_ns == backdated
    generate_demo(tmp_path, rows=600)  # a different row count rebuilds
    assert _query(markets, "SELECT COUNT(*) FROM trades") == [(600,)]
    os.utime(markets, ns=(backdated, backdated))
    generate_demo(tmp_path, rows=600, force=True)
    assert markets.stat().st_mtime_ns != backdated


def test_default_is_at_least_a_million_rows() -> None:
    assert inspect.signature(generate_demo).parameters["rows"].default >= 1_000_000


def test_rejects_a_non_positive_row_count(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_demo(tmp_path, rows=0)
