"""The SQLAlchemy dialect on real sources: reflection from the catalog, execution, pandas, caching.

The same rows are written to a SQLite file and, under names no other test uses, to
PostgreSQL (a schema of their own and one table in ``public``); each answer piot gives
through SQLAlchemy is compared with the source database's own answer to the same question.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import connectorx
import pandas as pd
import pytest
import sqlalchemy as sa
from corpus_data import CliMissing, run_cli
from sqlalchemy import exc
from sqlalchemy.engine import Engine

import piot

SYMBOLS = ("AAA", "BBB", "CCC", "DDD")
COLUMNS = ("trade_id", "trade_date", "ts", "symbol", "side", "price", "quantity", "active", "payload", "at")
JANUARY = (dt.date(2024, 1, 1), dt.date(2024, 1, 31))
SPRING = (dt.date(2024, 3, 10), dt.date(2024, 4, 20))


def trade_rows() -> list[tuple[Any, ...]]:
    """240 trades over 2024-01-01..2024-04-29, and one without a date."""
    rows = []
    for i in range(240):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=(i * 7) % 120)
        ts = dt.datetime.combine(day, dt.time(9 + i % 8, (i * 13) % 60))
        price = Decimal(100 + (i * 37) % 900) / 100
        side = "buy" if i % 3 else "sell"
        rows.append((i, day, ts, SYMBOLS[i % 4], side, price, 1 + (i * 11) % 50, i % 2 == 0, bytes([i % 256]), ts.time()))
    rows.append((240, None, None, "AAA", "buy", Decimal("1.00"), 5, None, None, None))
    return rows


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat(" ") if isinstance(value, dt.datetime) else value.isoformat()
    return float(value) if isinstance(value, Decimal) else value


def write_sqlite(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE trades (trade_id INTEGER, trade_date DATE, ts TIMESTAMP, symbol TEXT, side VARCHAR(4), "
            "price REAL, quantity BIGINT, active BOOLEAN, payload BLOB, at TIME)"
        )
        rows = [tuple(map(_sqlite_value, row)) for row in trade_rows()]
        db.executemany(f"INSERT INTO trades VALUES ({', '.join('?' * len(COLUMNS))})", rows)
        db.execute('CREATE TABLE "Mixed" ("TradeQty" INTEGER, "Symbol" TEXT)')
        db.executemany('INSERT INTO "Mixed" VALUES (?, ?)', [(3, "AAA"), (4, "AAA"), (5, "BBB")])


def _pg_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return f"'\\x{value.hex()}'::bytea"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.time, str)):
        return f"'{value}'"
    return str(value)


def pg_script(table: str, public_table: str) -> str:
    values = ",\n".join("(" + ", ".join(map(_pg_literal, row)) + ")" for row in trade_rows())
    return (
        f"CREATE TABLE {table} (trade_id integer, trade_date date, ts timestamp, symbol text, side varchar(4), "
        f"price numeric(10,2), quantity bigint, active boolean, payload bytea, at time, "
        f"ts_utc timestamptz, ratio double precision);\n"
        f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES\n{values};\n"
        f"UPDATE {table} SET ts_utc = ts AT TIME ZONE 'UTC', ratio = quantity / 4.0;\n"
        f"CREATE TABLE {public_table} AS SELECT trade_id, trade_date, symbol FROM {table} WHERE trade_id < 50;\n"
    )


def write_catalog(path: Path, sources: dict[str, str]) -> Path:
    path.write_text("".join(f'[sources.{name}]\nurl = "{url}"\n' for name, url in sources.items()), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def sqlite_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sa_sqlite") / "trades.db"
    write_sqlite(path)
    return path


@pytest.fixture(scope="module")
def lite_engine(sqlite_path: Path) -> Iterator[Engine]:
    """An engine on a catalog with one SQLite source, ``lite``."""
    catalog = write_catalog(sqlite_path.parent / "catalog.toml", {"lite": f"sqlite://{sqlite_path}"})
    engine = sa.create_engine(f"piot:///{os.path.relpath(catalog)}?time_unit=monthly")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def pg_names(pg_url: str, sqlite_path: Path) -> Iterator[dict[str, Any]]:
    """A schema and a public table of this module's own in PostgreSQL, and an engine on ``pg`` and ``lite``."""
    suffix = f"{os.getpid()}_{secrets.token_hex(3)}"
    schema, public_table = f"piot_sa_{suffix}", f"piot_sa_{suffix}"
    try:
        run_cli("postgres", pg_url, f"CREATE SCHEMA {schema};\n" + pg_script(f"{schema}.trades", f"public.{public_table}"))
    except CliMissing as e:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and {e}")
        pytest.skip(str(e))
    catalog = write_catalog(sqlite_path.parent / "pg_catalog.toml", {"pg": pg_url, "lite": f"sqlite://{sqlite_path}"})
    engine = sa.create_engine("piot://", connect_args={"catalog": str(catalog), "time_unit": "monthly"})
    try:
        yield {"engine": engine, "schema": schema, "public_table": public_table, "url": pg_url}
    finally:
        engine.dispose()
        run_cli("postgres", pg_url, f"DROP SCHEMA IF EXISTS {schema} CASCADE; DROP TABLE IF EXISTS public.{public_table};")


def sqlite_answer(path: Path, sql: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(sql, parameters).fetchall()


def pg_answer(url: str, sql: str) -> list[tuple[Any, ...]]:
    table = connectorx.read_sql(url, sql, return_type="arrow")
    return [tuple(row.values()) for row in table.to_pylist()]


def volume_query(trades: sa.Table) -> sa.Select[Any]:
    """Trades, volume and turnover per symbol for one side over a date range given by bound parameters."""
    return (
        sa.select(
            trades.c.symbol,
            sa.func.count().label("trades"),
            sa.func.sum(trades.c.quantity).label("volume"),
            sa.func.sum(trades.c.price).label("turnover"),
        )
        .where(trades.c.trade_date.between(sa.bindparam("start"), sa.bindparam("end")), trades.c.side == sa.bindparam("side"))
        .group_by(trades.c.symbol)
        .order_by(trades.c.symbol)
    )


VOLUME_SQL = (
    "SELECT symbol, count(*) AS n, sum(quantity) AS volume, sum(price) AS turnover FROM {table} "
    "WHERE trade_date BETWEEN {start} AND {end} AND side = {side} GROUP BY symbol ORDER BY symbol"
)


# -- SQLite -------------------------------------------------------------------------------
def test_sqlite_reflection(lite_engine: Engine) -> None:
    inspector = sa.inspect(lite_engine)
    assert inspector.get_schema_names() == ["lite"]
    assert inspector.default_schema_name is None
    assert inspector.get_table_names(schema="lite") == ["Mixed", "trades"]
    assert inspector.get_table_names() == []
    assert inspector.get_view_names(schema="lite") == []
    assert inspector.has_table("trades", schema="lite")
    assert not inspector.has_table("nope", schema="lite")
    assert not inspector.has_table("trades")
    columns = [(c["name"], repr(c["type"]), c["nullable"]) for c in inspector.get_columns("trades", schema="lite")]
    assert columns == [
        ("trade_id", "BigInteger()", True),
        ("trade_date", "Date()", True),
        ("ts", "DateTime()", True),
        ("symbol", "Text()", True),
        ("side", "String(length=4)", True),
        ("price", "Double()", True),
        ("quantity", "BigInteger()", True),
        ("active", "Boolean()", True),
        ("payload", "LargeBinary()", True),
        ("at", "Time()", True),
    ]
    assert inspector.get_pk_constraint("trades", schema="lite") == {"constrained_columns": [], "name": None}
    for empty in (inspector.get_foreign_keys, inspector.get_indexes, inspector.get_unique_constraints, inspector.get_check_constraints):
        assert empty("trades", schema="lite") == []


def test_unknown_sources_and_tables(lite_engine: Engine) -> None:
    with pytest.raises(piot.ProgrammingError, match=r"unknown source 'nope' \(the catalog has: lite\)"):
        sa.inspect(lite_engine).get_table_names(schema="nope")
    with pytest.raises(exc.NoSuchTableError):
        sa.Table("nope", sa.MetaData(), schema="lite", autoload_with=lite_engine)
    assert not sa.inspect(lite_engine).has_table("trades", schema="nope")


def test_autoloaded_table_is_written_source_dot_table(lite_engine: Engine) -> None:
    trades = sa.Table("trades", sa.MetaData(), schema="lite", autoload_with=lite_engine)
    assert [c.name for c in trades.columns] == list(COLUMNS)
    compiled = sa.select(trades.c.symbol).where(trades.c.quantity > 3).compile(lite_engine)
    assert " ".join(str(compiled).split()) == "SELECT trades.symbol FROM lite.trades WHERE trades.quantity > ?"


def test_select_over_a_date_range_matches_sqlite(lite_engine: Engine, sqlite_path: Path, ray_session: None) -> None:
    trades = sa.Table("trades", sa.MetaData(), schema="lite", autoload_with=lite_engine)
    with lite_engine.connect() as conn:
        rows = conn.execute(volume_query(trades), {"start": SPRING[0], "end": SPRING[1], "side": "buy"}).all()
    expected = sqlite_answer(sqlite_path, VOLUME_SQL.format(table="trades", start="?", end="?", side="?"), (*map(str, SPRING), "buy"))
    assert [tuple(row[:3]) for row in rows] == [row[:3] for row in expected]
    assert [row[3] for row in rows] == pytest.approx([row[3] for row in expected])
    assert len(rows) == 4


def test_values_come_back_typed(lite_engine: Engine, ray_session: None) -> None:
    trades = sa.Table("trades", sa.MetaData(), schema="lite", autoload_with=lite_engine)
    with lite_engine.connect() as conn:
        row = conn.execute(sa.select(trades).where(trades.c.trade_id == 7)).one()
    assert row._asdict() == {
        "trade_id": 7,
        "trade_date": dt.date(2024, 2, 19),
        "ts": dt.datetime(2024, 2, 19, 16, 31),
        "symbol": "DDD",
        "side": "buy",
        "price": 3.59,
        "quantity": 28,
        "active": False,
        "payload": b"\x07",
        "at": dt.time(16, 31),
    }


def test_mixed_case_names_are_reflected_as_piot_reads_them(lite_engine: Engine, ray_session: None) -> None:
    mixed = sa.Table("Mixed", sa.MetaData(), schema="lite", autoload_with=lite_engine)
    assert [c.name for c in mixed.columns] == ["tradeqty", "symbol"]
    statement = sa.select(mixed.c.symbol, sa.func.sum(mixed.c.tradeqty).label("qty")).group_by(mixed.c.symbol).order_by(mixed.c.symbol)
    with lite_engine.connect() as conn:
        assert conn.execute(statement).all() == [("AAA", 7), ("BBB", 5)]


def test_pandas_read_sql_of_text_and_of_select(lite_engine: Engine, sqlite_path: Path, ray_session: None) -> None:
    text = (
        "SELECT symbol, sum(quantity) AS volume FROM lite.trades "
        "WHERE trade_date BETWEEN '2024-01-01' AND '2024-01-31' GROUP BY symbol ORDER BY symbol"
    )
    frame = pd.read_sql(text, lite_engine)
    expected = sqlite_answer(sqlite_path, text.replace("lite.trades", "trades"))
    assert list(frame.columns) == ["symbol", "volume"]
    assert list(frame.itertuples(index=False, name=None)) == expected

    trades = sa.Table("trades", sa.MetaData(), schema="lite", autoload_with=lite_engine)
    statement = volume_query(trades).params(start=JANUARY[0], end=JANUARY[1], side="sell")
    frame = pd.read_sql(statement, lite_engine)
    expected = sqlite_answer(sqlite_path, VOLUME_SQL.format(table="trades", start="?", end="?", side="?"), (*map(str, JANUARY), "sell"))
    assert list(frame.columns) == ["symbol", "trades", "volume", "turnover"]
    assert [tuple(r[:3]) for r in frame.itertuples(index=False, name=None)] == [r[:3] for r in expected]
    assert frame["turnover"].tolist() == pytest.approx([r[3] for r in expected])


def test_statement_cache_reuses_one_compiled_form_with_new_values(
    lite_engine: Engine, sqlite_path: Path, ray_session: None
) -> None:
    trades = sa.Table("trades", sa.MetaData(), schema="lite", autoload_with=lite_engine)
    statement = volume_query(trades)
    source_sql = VOLUME_SQL.format(table="trades", start="?", end="?", side="?")
    cache: dict[Any, Any] = {}
    results = []
    with lite_engine.connect().execution_options(compiled_cache=cache) as conn:
        for start, end, side in [(*JANUARY, "buy"), (*SPRING, "sell"), (*JANUARY, "sell")]:
            result = conn.execute(statement, {"start": start, "end": end, "side": side})
            rows = [tuple(row[:3]) for row in result]
            assert rows == [row[:3] for row in sqlite_answer(sqlite_path, source_sql, (str(start), str(end), side))]
            results.append(result)
    assert len(cache) == 1
    assert [r.context.cache_hit.name for r in results] == ["CACHE_MISS", "CACHE_HIT", "CACHE_HIT"]
    assert results[0].context.compiled is results[1].context.compiled is results[2].context.compiled
    assert results[0].context.parameters != results[1].context.parameters


def explain_fragments(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return sum(1 for row in conn.exec_driver_sql("EXPLAIN " + sql) if row[0] == "fragment")


def test_url_options_reach_piot(sqlite_path: Path) -> None:
    catalog = sqlite_path.parent / "catalog.toml"
    three_days = "SELECT count(*) FROM lite.trades WHERE trade_date BETWEEN '2024-01-01' AND '2024-01-03'"
    daily = sa.create_engine(f"piot:///{os.path.relpath(catalog)}?time_unit=daily&max_concurrency=2")
    unsplit = sa.create_engine(f"piot://?catalog={catalog}&time_unit=daily&split=false")
    try:
        assert explain_fragments(daily, three_days) == 3
        assert explain_fragments(unsplit, three_days) == 1
    finally:
        daily.dispose()
        unsplit.dispose()


def test_transactions_are_no_ops_and_pre_ping_replaces_a_closed_connection(sqlite_path: Path) -> None:
    engine = sa.create_engine(f"piot:///{os.path.relpath(sqlite_path.parent / 'catalog.toml')}", pool_pre_ping=True, pool_size=1)
    try:
        with engine.begin() as conn:
            raw = conn.connection.dbapi_connection
            assert engine.dialect.do_ping(raw)
            conn.exec_driver_sql("EXPLAIN SELECT count(*) FROM lite.trades")
        with engine.connect() as conn:
            assert conn.connection.dbapi_connection is raw  # the pooled connection, pinged and reused
            conn.rollback()
            raw.close()
        with engine.connect() as conn:
            fresh = conn.connection.dbapi_connection
            assert fresh is not raw and not fresh.closed
            assert conn.exec_driver_sql("EXPLAIN SELECT count(*) FROM lite.trades").all()
    finally:
        engine.dispose()


def test_dbapi_errors_come_back_as_sqlalchemy_errors(lite_engine: Engine) -> None:
    with lite_engine.connect() as conn, pytest.raises(exc.ProgrammingError, match="unknown column 'nope'"):
        conn.exec_driver_sql("SELECT nope FROM lite.trades")


# -- PostgreSQL ------------------------------------------------------------------------------
@pytest.mark.postgres
def test_postgres_schema_and_table_names(pg_names: dict[str, Any]) -> None:
    inspector = sa.inspect(pg_names["engine"])
    names = inspector.get_schema_names()
    assert names[0] == "lite" and names[1] == "pg"
    assert {"pg.public", f"pg.{pg_names['schema']}"} <= set(names)
    assert inspector.get_table_names(schema=f"pg.{pg_names['schema']}") == ["trades"]
    assert pg_names["public_table"] in inspector.get_table_names(schema="pg")
    assert pg_names["public_table"] in inspector.get_table_names(schema="pg.public")
    assert inspector.has_schema("pg") and inspector.has_schema(f"pg.{pg_names['schema']}")
    assert not inspector.has_schema("pg.no_such_schema")


@pytest.mark.postgres
def test_postgres_columns(pg_names: dict[str, Any]) -> None:
    columns = sa.inspect(pg_names["engine"]).get_columns("trades", schema=f"pg.{pg_names['schema']}")
    assert [(c["name"], repr(c["type"])) for c in columns] == [
        ("trade_id", "BigInteger()"),
        ("trade_date", "Date()"),
        ("ts", "DateTime()"),
        ("symbol", "Text()"),
        ("side", "String()"),  # information_schema's data_type carries no length
        ("price", "Numeric(precision=10, scale=2)"),
        ("quantity", "BigInteger()"),
        ("active", "Boolean()"),
        ("payload", "LargeBinary()"),
        ("at", "Time()"),
        ("ts_utc", "DateTime(timezone=True)"),
        ("ratio", "Double()"),
    ]


@pytest.mark.postgres
def test_postgres_select_over_a_date_range_matches_postgres(pg_names: dict[str, Any], ray_session: None) -> None:
    engine, schema = pg_names["engine"], pg_names["schema"]
    trades = sa.Table("trades", sa.MetaData(), schema=f"pg.{schema}", autoload_with=engine)
    assert "FROM pg.{}.trades".format(schema) in " ".join(str(volume_query(trades).compile(engine)).split())
    with engine.connect() as conn:
        for start, end, side in [(*SPRING, "buy"), (*JANUARY, "sell")]:
            rows = [tuple(row) for row in conn.execute(volume_query(trades), {"start": start, "end": end, "side": side})]
            sql = VOLUME_SQL.format(table=f"{schema}.trades", start=f"'{start}'", end=f"'{end}'", side=f"'{side}'")
            assert rows == pg_answer(pg_names["url"], sql)
            assert all(isinstance(row[3], Decimal) for row in rows)


@pytest.mark.postgres
def test_postgres_timestamps_and_pandas(pg_names: dict[str, Any], ray_session: None) -> None:
    engine, schema = pg_names["engine"], pg_names["schema"]
    trades = sa.Table("trades", sa.MetaData(), schema=f"pg.{schema}", autoload_with=engine)
    start, end = dt.datetime(2024, 2, 1, 12), dt.datetime(2024, 2, 20, 9, 30)
    statement = (
        sa.select(trades.c.trade_id, trades.c.ts, trades.c.ts_utc, trades.c.ratio)
        .where(trades.c.ts >= start, trades.c.ts < end)
        .order_by(trades.c.trade_id)
    )
    frame = pd.read_sql(statement, engine)
    expected = pg_answer(
        pg_names["url"],
        f"SELECT trade_id, ts, ts_utc, ratio FROM {schema}.trades WHERE ts >= '{start}' AND ts < '{end}' ORDER BY trade_id",
    )
    assert len(frame) == len(expected) > 0
    assert frame["trade_id"].tolist() == [row[0] for row in expected]
    assert [t.to_pydatetime() for t in frame["ts"]] == [row[1] for row in expected]
    assert [t.to_pydatetime() for t in frame["ts_utc"]] == [row[2] for row in expected]
    assert frame["ratio"].tolist() == [row[3] for row in expected]

    text = f"SELECT count(*) AS n FROM pg.{pg_names['public_table']}"
    assert pd.read_sql(text, engine)["n"].tolist() == [50]


@pytest.mark.postgres
def test_a_bare_source_is_its_default_schema(pg_names: dict[str, Any], ray_session: None) -> None:
    engine = pg_names["engine"]
    public = sa.Table(pg_names["public_table"], sa.MetaData(), schema="pg", autoload_with=engine)
    assert [c.name for c in public.columns] == ["trade_id", "trade_date", "symbol"]
    with engine.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(public).where(public.c.symbol.in_(["AAA", "BBB"]))).scalar()
    source_sql = f"SELECT count(*) FROM public.{pg_names['public_table']} WHERE symbol IN ('AAA', 'BBB')"
    assert count == pg_answer(pg_names["url"], source_sql)[0][0]


@pytest.mark.postgres
def test_a_join_across_sources(pg_names: dict[str, Any], ray_session: None) -> None:
    engine = pg_names["engine"]
    metadata = sa.MetaData()
    lite = sa.Table("trades", metadata, schema="lite", autoload_with=engine)
    pg = sa.Table("trades", metadata, schema=f"pg.{pg_names['schema']}", autoload_with=engine).alias("pg_trades")
    statement = (
        sa.select(lite.c.symbol, sa.func.count().label("matched"))
        .join_from(lite, pg, (lite.c.trade_id == pg.c.trade_id) & (lite.c.quantity == pg.c.quantity))
        .where(lite.c.trade_date.between(*JANUARY))
        .group_by(lite.c.symbol)
        .order_by(lite.c.symbol)
    )
    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(statement)]
    in_january = [r for r in trade_rows() if r[1] is not None and JANUARY[0] <= r[1] <= JANUARY[1]]
    assert rows == [(s, sum(1 for r in in_january if r[3] == s)) for s in SYMBOLS]
