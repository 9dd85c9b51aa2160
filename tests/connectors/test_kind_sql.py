"""Each kind of source builds its catalog statements from ASTs: a name reaches the SQL only as hex digits or a parameter."""

from __future__ import annotations

import doctest
import importlib
import pickle

import pytest
import sqlglot
from sqlglot import exp

from piot.connectors.catalog import load_catalog
from piot.connectors.kinds import SOURCE_KINDS

HOSTILE = ("x' OR '1'='1", "x\\' UNION SELECT SLEEP(3) -- ", "a\"b`c", "new\nline", "-- /* #", "ünï€")


@pytest.mark.parametrize("name", ["kind_sql", "postgres", "mysql", "sqlite", "introspect", "profile", "statistics"])
def test_module_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(f"piot.connectors.{name}"), verbose=False)
    assert result.failed == 0 and result.attempted > 0


@pytest.mark.parametrize("kind", SOURCE_KINDS, ids=lambda k: k.name)
@pytest.mark.parametrize("name", HOSTILE)
def test_a_name_never_appears_in_the_statement_text(kind: object, name: str) -> None:
    sql = kind.sql  # type: ignore[attr-defined]
    query = sql.columns_query(None, name)
    assert query is not None
    assert name not in query.sql and "'" + name not in query.sql
    parsed = sqlglot.parse_one(query.sql, read=kind.dialect)  # type: ignore[attr-defined]
    assert isinstance(parsed, exp.Select) and len(sqlglot.parse(query.sql, read=kind.dialect)) == 1  # type: ignore[attr-defined]
    assert query.parameters in ((), (name,))


@pytest.mark.parametrize("kind", SOURCE_KINDS, ids=lambda k: k.name)
@pytest.mark.parametrize("name", HOSTILE)
def test_a_name_never_appears_in_the_statistics_statement(kind: object, name: str) -> None:
    query = kind.sql.statistics_query(None, name, name)  # type: ignore[attr-defined]
    assert query is not None
    assert name not in query.sql and "'" + name not in query.sql
    assert len(sqlglot.parse(query.sql, read=kind.dialect)) == 1  # type: ignore[attr-defined]
    assert query.parameters in ((), (name, name))


def test_names_a_kind_cannot_hold_ask_nothing() -> None:
    kinds = {k.name: k for k in SOURCE_KINDS}
    assert kinds["postgres"].sql.columns_query(None, "a\x00b") is None
    assert kinds["mysql"].sql.columns_query(None, "a\x00b") is None
    assert kinds["mysql"].sql.columns_query(None, "😀") is None
    assert kinds["mysql"].sql.columns_query(None, "x" * 65) is None


def test_only_the_kinds_piot_tests_are_offered() -> None:
    assert sorted(k.name for k in SOURCE_KINDS) == ["mysql", "postgres", "sqlite"]


def test_a_source_crosses_process_boundaries_with_its_kind() -> None:
    source = load_catalog({"sources": {"pg": {"url": "postgresql://u@h/db", "system_schemas": True}}}).source("pg")
    copy = pickle.loads(pickle.dumps(source))
    assert copy == source and copy.kind.sql.columns_query(None, "t") == source.kind.sql.columns_query(None, "t")
    assert copy.system_schemas
