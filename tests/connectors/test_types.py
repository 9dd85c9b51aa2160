"""Tests of ``declared_type``: the type texts SQLite, PostgreSQL and MariaDB report."""

from __future__ import annotations

import doctest

import polars as pl
import pytest

import piot.connectors.types as types_module
from piot.connectors.types import ColumnType, declared_type

TS = pl.Datetime("us")
TSTZ = pl.Datetime("us", "UTC")

#: (declared text, sql name, polars dtype, is_temporal)
Case = tuple[str, str, pl.DataType, bool]

POSTGRES: list[Case] = [
    ("timestamp without time zone", "TIMESTAMP", TS, True),
    ("timestamp with time zone", "TIMESTAMPTZ", TSTZ, True),
    ("timestamp(3) with time zone", "TIMESTAMPTZ", TSTZ, True),
    ("timestamptz", "TIMESTAMPTZ", TSTZ, True),
    ("timestamp", "TIMESTAMP", TS, True),
    ("double precision", "DOUBLE", pl.Float64(), False),
    ("real", "DOUBLE", pl.Float64(), False),
    ("numeric(10,2)", "DECIMAL(10, 2)", pl.Decimal(10, 2), False),
    ("numeric(18, 4)", "DECIMAL(18, 4)", pl.Decimal(18, 4), False),
    ("numeric(12)", "DECIMAL(12, 0)", pl.Decimal(12, 0), False),
    ("numeric", "DECIMAL(38, 10)", pl.Decimal(38, 10), False),
    ("character varying", "TEXT", pl.String(), False),
    ("character", "TEXT", pl.String(), False),
    ("integer", "BIGINT", pl.Int64(), False),
    ("bigint", "BIGINT", pl.Int64(), False),
    ("smallint", "BIGINT", pl.Int64(), False),
    ("boolean", "BOOLEAN", pl.Boolean(), False),
    ("date", "DATE", pl.Date(), True),
    ("text", "TEXT", pl.String(), False),
    ("bytea", "VARBINARY", pl.Binary(), False),
    ("time without time zone", "TIME", pl.Time(), False),
    ("interval", "TEXT", pl.String(), False),
    ("point", "TEXT", pl.String(), False),
    ("uuid", "TEXT", pl.String(), False),
]

MARIADB: list[Case] = [
    ("int(11)", "BIGINT", pl.Int64(), False),
    ("int(10) unsigned", "BIGINT", pl.Int64(), False),
    ("bigint(20)", "BIGINT", pl.Int64(), False),
    ("smallint(6)", "BIGINT", pl.Int64(), False),
    ("mediumint(9)", "BIGINT", pl.Int64(), False),
    ("decimal(10,2)", "DECIMAL(10, 2)", pl.Decimal(10, 2), False),
    ("decimal(10,2) unsigned", "DECIMAL(10, 2)", pl.Decimal(10, 2), False),
    ("datetime(6)", "TIMESTAMP", TS, True),
    ("datetime", "TIMESTAMP", TS, True),
    ("timestamp", "TIMESTAMP", TS, True),
    ("date", "DATE", pl.Date(), True),
    ("time", "TIME", pl.Time(), False),
    ("varchar(20)", "TEXT", pl.String(), False),
    ("char(3)", "TEXT", pl.String(), False),
    ("tinyint(1)", "BOOLEAN", pl.Boolean(), False),
    ("tinyint(4)", "BIGINT", pl.Int64(), False),
    ("double", "DOUBLE", pl.Float64(), False),
    ("float", "DOUBLE", pl.Float64(), False),
    ("text", "TEXT", pl.String(), False),
    ("longtext", "TEXT", pl.String(), False),
    ("tinytext", "TEXT", pl.String(), False),
    ("blob", "VARBINARY", pl.Binary(), False),
    ("longblob", "VARBINARY", pl.Binary(), False),
    ("varbinary(16)", "VARBINARY", pl.Binary(), False),
]

SQLITE: list[Case] = [
    ("INTEGER", "BIGINT", pl.Int64(), False),
    ("INT", "BIGINT", pl.Int64(), False),
    ("BIGINT", "BIGINT", pl.Int64(), False),
    ("REAL", "DOUBLE", pl.Float64(), False),
    ("DOUBLE PRECISION", "DOUBLE", pl.Float64(), False),
    ("FLOATING POINT", "DOUBLE", pl.Float64(), False),
    ("TEXT", "TEXT", pl.String(), False),
    ("VARCHAR(255)", "TEXT", pl.String(), False),
    ("CLOB", "TEXT", pl.String(), False),
    ("BLOB", "VARBINARY", pl.Binary(), False),
    ("DATE", "DATE", pl.Date(), True),
    ("TIMESTAMP", "TIMESTAMP", TS, True),
    ("DATETIME", "TIMESTAMP", TS, True),
    ("BOOLEAN", "BOOLEAN", pl.Boolean(), False),
    ("", "TEXT", pl.String(), False),
]


def _check(text: str, sql: str, dtype: pl.DataType, temporal: bool, *, text_dates: bool = False) -> None:
    col = declared_type(text, text_dates=text_dates)
    assert isinstance(col, ColumnType)
    assert col.declared == text
    assert col.sql == sql
    assert col.dtype == dtype
    assert type(col.dtype) is type(dtype)
    if isinstance(dtype, pl.Datetime):
        assert col.dtype.time_unit == dtype.time_unit
        assert col.dtype.time_zone == dtype.time_zone
    assert col.is_temporal is temporal


@pytest.mark.parametrize(("text", "sql", "dtype", "temporal"), POSTGRES)
def test_postgres_types(text: str, sql: str, dtype: pl.DataType, temporal: bool) -> None:
    _check(text, sql, dtype, temporal)


@pytest.mark.parametrize(("text", "sql", "dtype", "temporal"), MARIADB)
def test_mariadb_types(text: str, sql: str, dtype: pl.DataType, temporal: bool) -> None:
    _check(text, sql, dtype, temporal)


@pytest.mark.parametrize(("text", "sql", "dtype", "temporal"), SQLITE)
def test_sqlite_types(text: str, sql: str, dtype: pl.DataType, temporal: bool) -> None:
    _check(text, sql, dtype, temporal, text_dates=True)


@pytest.mark.parametrize(("text", "sql", "dtype", "temporal"), SQLITE)
def test_sqlite_type_texts_without_text_dates(text: str, sql: str, dtype: pl.DataType, temporal: bool) -> None:
    """text_dates only changes NUMERIC; every other SQLite text maps the same either way."""
    _check(text, sql, dtype, temporal)


@pytest.mark.parametrize(
    ("text", "text_dates", "sql", "dtype"),
    [
        ("NUMERIC", True, "DOUBLE", pl.Float64()),
        ("NUMERIC", False, "DECIMAL(38, 10)", pl.Decimal(38, 10)),
        ("NUMERIC(10,2)", True, "DOUBLE", pl.Float64()),
        ("NUMERIC(10,2)", False, "DECIMAL(10, 2)", pl.Decimal(10, 2)),
        ("DECIMAL(5, 1)", True, "DOUBLE", pl.Float64()),
        ("DECIMAL(5, 1)", False, "DECIMAL(5, 1)", pl.Decimal(5, 1)),
    ],
)
def test_numeric_depends_on_text_dates(text: str, text_dates: bool, sql: str, dtype: pl.DataType) -> None:
    _check(text, sql, dtype, False, text_dates=text_dates)


@pytest.mark.parametrize("text", ["INTEGER", "integer", "  Integer  ", "BigInt"])
def test_case_and_spaces_do_not_matter(text: str) -> None:
    col = declared_type(text)
    assert col.sql == "BIGINT" and col.dtype == pl.Int64()
    assert col.declared == text


@pytest.mark.parametrize("sql", ["DATE", "TIMESTAMP", "TIMESTAMPTZ"])
def test_is_temporal_for_temporal_sql_names(sql: str) -> None:
    assert ColumnType("x", sql, pl.Date()).is_temporal


@pytest.mark.parametrize("sql", ["TIME", "TEXT", "BIGINT", "DOUBLE", "DECIMAL(10, 2)", "BOOLEAN", "VARBINARY"])
def test_is_not_temporal_otherwise(sql: str) -> None:
    assert not ColumnType("x", sql, pl.String()).is_temporal


@pytest.mark.parametrize("text", ["enum('print','scan')", "set('mint','tea')", "enum('datetime','x')"])
def test_enum_and_set_are_text(text: str) -> None:
    assert declared_type(text).sql == "TEXT"


def test_module_doctests() -> None:
    result = doctest.testmod(types_module, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0
