"""The SQLAlchemy dialect without any database: compiled SQL, URLs, types, registration."""

from __future__ import annotations

import datetime as dt
import decimal
import doctest
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.dialects import registry
from sqlalchemy.engine import make_url

import piot
from piot.connectors.types import declared_type
from piot.sqlalchemy import PiotDialect
from piot.sqlalchemy import compiler as compiler_module
from piot.sqlalchemy import types as types_module
from piot.sqlalchemy import url as url_module
from piot.sqlalchemy.types import sqlalchemy_type

DIALECT = PiotDialect()
METADATA = sa.MetaData()
TRADES = sa.Table(
    "trades",
    METADATA,
    sa.Column("trade_date", sa.Date),
    sa.Column("ts", sa.DateTime),
    sa.Column("symbol", sa.String),
    sa.Column("side", sa.String(4)),
    sa.Column("price", sa.Numeric(10, 2)),
    sa.Column("quantity", sa.BigInteger),
    sa.Column("active", sa.Boolean),
    schema="markets",
)
PG_TRADES = sa.Table("trades", METADATA, sa.Column("symbol", sa.String), sa.Column("user", sa.String), schema="pg.public")
ODD = sa.Table("Odd Name", METADATA, sa.Column("Qty", sa.Integer), sa.Column("select", sa.Integer), schema="pg.Sales")


def sql(statement: Any, **compile_kwargs: Any) -> str:
    """The statement compiled for piot, on one line."""
    compiled = statement.compile(dialect=DIALECT, compile_kwargs=compile_kwargs)
    return " ".join(str(compiled).split())


def literal_sql(statement: Any) -> str:
    return sql(statement, literal_binds=True)


# -- statements ---------------------------------------------------------------------------
def test_select_with_where_group_by_order_by_limit_offset_and_bound_parameters() -> None:
    statement = (
        sa.select(TRADES.c.symbol, sa.func.count().label("trades"), sa.func.sum(TRADES.c.quantity).label("volume"))
        .where(TRADES.c.trade_date >= dt.date(2024, 1, 1), TRADES.c.side == "buy")
        .group_by(TRADES.c.symbol)
        .order_by(sa.desc("volume"), TRADES.c.symbol)
        .limit(5)
        .offset(10)
    )
    compiled = statement.compile(dialect=DIALECT)
    assert " ".join(str(compiled).split()) == (
        "SELECT trades.symbol, count(*) AS trades, sum(trades.quantity) AS volume FROM markets.trades "
        "WHERE trades.trade_date >= ? AND trades.side = ? GROUP BY trades.symbol "
        "ORDER BY volume DESC, trades.symbol LIMIT ? OFFSET ?"
    )
    assert [compiled.params[name] for name in compiled.positiontup or []] == [dt.date(2024, 1, 1), "buy", 5, 10]


def test_offset_alone_writes_no_limit() -> None:
    assert sql(sa.select(TRADES.c.symbol).offset(3)) == "SELECT trades.symbol FROM markets.trades OFFSET ?"
    assert sql(sa.select(TRADES.c.symbol).limit(3)) == "SELECT trades.symbol FROM markets.trades LIMIT ?"


def test_count_and_sum() -> None:
    statement = sa.select(sa.func.count(), sa.func.count(TRADES.c.symbol.distinct()), sa.func.sum(TRADES.c.price))
    assert sql(statement) == (
        "SELECT count(*) AS count_1, count(DISTINCT trades.symbol) AS count_2, sum(trades.price) AS sum_1 FROM markets.trades"
    )


@pytest.mark.parametrize(
    ("type_", "name"),
    [
        (sa.Numeric(10, 2), "NUMERIC(10, 2)"),
        (sa.Numeric(), "NUMERIC"),
        (sa.Double(), "DOUBLE PRECISION"),
        (sa.Float(), "FLOAT"),
        (sa.BigInteger(), "BIGINT"),
        (sa.Integer(), "INTEGER"),
        (sa.String(), "VARCHAR"),
        (sa.String(12), "VARCHAR(12)"),
        (sa.Text(), "TEXT"),
        (sa.Date(), "DATE"),
        (sa.DateTime(), "TIMESTAMP"),
        (sa.DateTime(timezone=True), "TIMESTAMP WITH TIME ZONE"),
        (sa.TIMESTAMP(), "TIMESTAMP"),
        (sa.Time(), "TIME"),
        (sa.Boolean(), "BOOLEAN"),
        (sa.LargeBinary(), "BYTEA"),
    ],
)
def test_cast_writes_postgresql_type_names(type_: sa.types.TypeEngine[Any], name: str) -> None:
    assert sql(sa.select(sa.cast(TRADES.c.quantity, type_))) == (
        f"SELECT CAST(trades.quantity AS {name}) AS quantity FROM markets.trades"
    )


def test_between_and_in() -> None:
    statement = sa.select(TRADES.c.symbol).where(
        TRADES.c.trade_date.between(dt.date(2024, 1, 1), dt.date(2024, 3, 31)),
        TRADES.c.symbol.in_(["AAA", "BBB", "CCC"]),
        TRADES.c.side.not_in(["sell"]),
    )
    assert sql(statement, render_postcompile=True) == (
        "SELECT trades.symbol FROM markets.trades WHERE trades.trade_date BETWEEN ? AND ? "
        "AND trades.symbol IN (?, ?, ?) AND (trades.side NOT IN (?))"
    )


def test_literal_binds_write_typed_literals() -> None:
    statement = (
        sa.select(TRADES.c.symbol)
        .where(
            TRADES.c.trade_date.between(dt.date(2024, 1, 1), dt.date(2024, 3, 31)),
            TRADES.c.ts < dt.datetime(2024, 3, 1, 9, 30),
            TRADES.c.symbol.in_(["A'B", "C"]),
            TRADES.c.price > decimal.Decimal("1.50"),
            TRADES.c.active.is_(True),
        )
        .limit(10)
    )
    assert literal_sql(statement) == (
        "SELECT trades.symbol FROM markets.trades WHERE trades.trade_date BETWEEN CAST('2024-01-01' AS DATE) "
        "AND CAST('2024-03-31' AS DATE) AND trades.ts < CAST('2024-03-01 09:30:00' AS TIMESTAMP) "
        "AND trades.symbol IN ('A''B', 'C') AND trades.price > 1.50 AND trades.active IS true LIMIT 10"
    )


def test_literal_binds_of_times_booleans_and_zoned_timestamps() -> None:
    zoned = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    values = [sa.literal(zoned), sa.literal(dt.time(10, 30)), sa.literal(False), sa.null()]
    assert literal_sql(sa.select(*values)) == (
        "SELECT CAST('2024-01-02 03:04:05+00:00' AS TIMESTAMPTZ) AS anon_1, "
        "CAST('10:30:00' AS TIME) AS anon_2, false AS anon_3, NULL AS anon_4"
    )


def test_ilike_is_written_as_ilike() -> None:
    statement = sa.select(TRADES.c.symbol).where(TRADES.c.symbol.ilike("a%"), TRADES.c.side.not_ilike("s!_%", escape="!"))
    assert sql(statement) == (
        "SELECT trades.symbol FROM markets.trades WHERE trades.symbol ILIKE ? AND trades.side NOT ILIKE ? ESCAPE '!'"
    )


# -- table names: schema is the source ------------------------------------------------------
def test_schema_is_the_source_and_columns_name_only_their_table() -> None:
    assert sql(sa.select(PG_TRADES)) == 'SELECT trades.symbol, trades."user" FROM pg.public.trades'


def test_names_that_need_quotes_are_quoted_part_by_part() -> None:
    assert sql(sa.select(ODD).where(ODD.c.Qty > 1)) == (
        'SELECT "odd name"."Qty", "odd name"."select" FROM pg."Sales"."Odd Name" AS "odd name" WHERE "odd name"."Qty" > ?'
    )


def test_a_table_name_with_capitals_gets_its_lower_case_name_as_alias() -> None:
    capitals = sa.Table("Trades", sa.MetaData(), sa.Column("symbol", sa.String), schema="lite")
    assert sql(sa.select(capitals.c.symbol).order_by(capitals.c.symbol)) == (
        'SELECT trades.symbol FROM lite."Trades" AS trades ORDER BY trades.symbol'
    )
    assert sql(sa.select(capitals.alias("t").c.symbol)) == 'SELECT t.symbol FROM lite."Trades" AS t'
    with pytest.raises(exc.CompileError, match="lite.Trades and markets.trades are both called 'trades'"):
        sql(sa.select(capitals.c.symbol, TRADES.c.side))


def test_a_table_without_schema_is_written_as_is() -> None:
    bare = sa.table("trades", sa.column("symbol"))
    assert sql(sa.select(bare.c.symbol)) == "SELECT trades.symbol FROM trades"


def test_aliases_and_subqueries() -> None:
    other = PG_TRADES.alias("pt")
    joined = sa.select(TRADES.c.symbol, other.c.user).join_from(TRADES, other, TRADES.c.symbol == other.c.symbol)
    assert sql(joined) == (
        'SELECT trades.symbol, pt."user" FROM markets.trades JOIN pg.public.trades AS pt ON trades.symbol = pt.symbol'
    )
    inner = sa.select(TRADES.c.symbol, sa.func.sum(TRADES.c.quantity).label("q")).group_by(TRADES.c.symbol).subquery()
    assert sql(sa.select(inner.c.symbol).where(inner.c.q > 10)) == (
        "SELECT anon_1.symbol FROM (SELECT trades.symbol AS symbol, sum(trades.quantity) AS q "
        "FROM markets.trades GROUP BY trades.symbol) AS anon_1 WHERE anon_1.q > ?"
    )


def test_two_sources_tables_of_one_name_need_an_alias() -> None:
    with pytest.raises(exc.CompileError, match=r"markets.trades and pg.public.trades .* \.alias\(\)"):
        sql(sa.select(TRADES.c.symbol, PG_TRADES.c.user))
    union = sa.union_all(sa.select(TRADES.c.symbol), sa.select(PG_TRADES.c.symbol))
    assert sql(union) == "SELECT trades.symbol FROM markets.trades UNION ALL SELECT trades.symbol FROM pg.public.trades"


def test_a_cached_compiled_form_holds_no_values() -> None:
    statement = sa.select(TRADES.c.symbol).where(TRADES.c.trade_date >= sa.bindparam("start")).limit(sa.bindparam("n"))
    first = statement.compile(dialect=DIALECT)
    again = statement.compile(dialect=DIALECT)
    assert str(first) == str(again)
    assert "2024" not in str(statement.params(start=dt.date(2024, 1, 1), n=3).compile(dialect=DIALECT))


# -- URLs -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("piot:///catalog.toml", {"catalog": "catalog.toml"}),
        ("piot:////srv/piot/catalog.toml", {"catalog": "/srv/piot/catalog.toml"}),
        ("piot://?catalog=/srv/piot/catalog.toml", {"catalog": "/srv/piot/catalog.toml"}),
        (
            "piot:///c.toml?ray_address=ray://head:10001&time_unit=daily&max_concurrency=8&split=false&dialect=duckdb&return_as=ipc",
            {
                "catalog": "c.toml",
                "ray_address": "ray://head:10001",
                "time_unit": "daily",
                "max_concurrency": 8,
                "split": False,
                "dialect": "duckdb",
                "return_as": "ipc",
            },
        ),
        ("piot:///c.toml?split=Yes", {"catalog": "c.toml", "split": True}),
        ("piot://", {}),
    ],
)
def test_url_to_connect_arguments(url: str, expected: dict[str, Any]) -> None:
    cargs, cparams = DIALECT.create_connect_args(make_url(url))
    assert (list(cargs), cparams) == ([], expected)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("piot:///c.toml?timeunit=daily", "unknown piot URL option 'timeunit'"),
        ("piot:///c.toml?max_concurrency=many", "expected an integer"),
        ("piot:///c.toml?max_concurrency=0", "max_concurrency must be a positive integer"),
        ("piot:///c.toml?split=maybe", "expected true or false"),
        ("piot:///c.toml?time_unit=weekly", "time_unit must be one of"),
        ("piot:///c.toml?dialect=nosuch", "unknown SQL dialect"),
        ("piot:///c.toml?dialect=mysql", "does not read double-quoted identifiers"),
        ("piot:///c.toml?split=true&split=false", "given more than once"),
        ("piot:///c.toml?catalog=d.toml", "the catalog is given twice"),
        ("piot://user@host/c.toml", "names a catalog file, not a server"),
    ],
)
def test_bad_urls_are_refused_when_the_engine_is_created(url: str, message: str) -> None:
    with pytest.raises(exc.ArgumentError, match=message):
        sa.create_engine(url)


def test_an_engine_without_catalog_says_how_to_give_one() -> None:
    engine = sa.create_engine("piot://")
    with pytest.raises(exc.InterfaceError, match="no catalog"):
        engine.connect()


# -- registration and dialect settings ------------------------------------------------------
def test_the_entry_point_registers_the_dialect() -> None:
    assert registry.load("piot") is PiotDialect
    engine = sa.create_engine("piot:///catalog.toml?time_unit=monthly")  # connects only when used
    assert isinstance(engine.dialect, PiotDialect)
    assert engine.dialect.loaded_dbapi is piot
    assert PiotDialect.import_dbapi() is piot
    assert engine.dialect.paramstyle == "qmark" == piot.paramstyle
    assert engine.dialect.positional


def test_statement_cache_is_declared_on_the_dialect_itself() -> None:
    assert PiotDialect.__dict__["supports_statement_cache"] is True
    assert DIALECT._supports_statement_cache


# -- reflected types ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("declared", "text_dates", "expected"),
    [
        ("bigint", False, sa.BigInteger()),
        ("INTEGER", True, sa.BigInteger()),
        ("double precision", False, sa.Double()),
        ("REAL", True, sa.Double()),
        ("numeric(12,4)", False, sa.Numeric(12, 4)),
        ("numeric", False, sa.Numeric(38, 10)),
        ("NUMERIC(10,2)", True, sa.Double()),
        ("character varying(8)", False, sa.String(8)),
        ("character varying", False, sa.String()),
        ("text", False, sa.Text()),
        ("uuid", False, sa.Text()),
        ("date", False, sa.Date()),
        ("timestamp without time zone", False, sa.DateTime()),
        ("timestamp with time zone", False, sa.DateTime(timezone=True)),
        ("boolean", False, sa.Boolean()),
        ("bytea", False, sa.LargeBinary()),
        ("BLOB", True, sa.LargeBinary()),
        ("time without time zone", False, sa.Time()),
    ],
)
def test_reflected_types(declared: str, text_dates: bool, expected: sa.types.TypeEngine[Any]) -> None:
    assert repr(sqlalchemy_type(declared_type(declared, text_dates=text_dates))) == repr(expected)


@pytest.mark.parametrize("module", [compiler_module, types_module, url_module], ids=lambda m: m.__name__)
def test_module_doctests(module: ModuleType) -> None:
    result = doctest.testmod(module, verbose=False)
    assert result.attempted > 0 and result.failed == 0
