"""The package is laid out as its data flows, and the arrows between its stages point one way.

front-ends (dbapi, lazy, sqlalchemy) -> run -> plan -> sql, with merge beside run: nothing in
sql/, plan/ or merge/ imports Ray, connectorx or a later stage, and planning and explaining
a query load neither Ray nor connectorx.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parents[2] / "engine"

#: stage -> what its modules must not import (piot stages, and outside libraries)
FORBIDDEN = {
    "sql": ("piot.plan", "piot.run", "piot.merge", "piot.dbapi", "piot.lazy", "piot.sqlalchemy", "ray", "connectorx"),
    "plan": ("piot.run", "piot.dbapi", "piot.lazy", "piot.sqlalchemy", "ray", "connectorx", "piot.connectors.read"),
    "merge": ("piot.plan", "piot.run", "piot.dbapi", "piot.lazy", "piot.sqlalchemy", "ray", "connectorx"),
    "run": ("piot.dbapi", "piot.lazy", "piot.sqlalchemy"),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_stages_are_folders() -> None:
    assert {p.name for p in ENGINE.iterdir() if p.is_dir() and (p / "__init__.py").exists()} >= {
        "sql", "plan", "run", "merge", "dbapi", "lazy", "sqlalchemy"
    }  # fmt: skip


@pytest.mark.parametrize("stage", sorted(FORBIDDEN))
def test_arrows_point_down_the_flow(stage: str) -> None:
    wrong = {
        f"{path.name} imports {name}"
        for path in sorted((ENGINE / stage).glob("*.py"))
        for name in _imports(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[stage])
    }
    assert not wrong


def test_planning_and_explaining_load_neither_ray_nor_connectorx(tmp_path: Path) -> None:
    script = f"""
import sys
from piot.connectors.catalog import load_catalog
from piot.connectors.introspect import Column, TableInfo
from piot.connectors.types import declared_type
from piot.dbapi.explain import explain_frame
from piot.plan.planner import PlanOptions, plan_statement
from piot.sql.statement import parse_statement

catalog = load_catalog({{"sources": {{"db": {{"url": "sqlite:///{tmp_path}/never-opened.db"}}}}}})
source = catalog.source("db")

def lookup(name, schema, table):
    columns = tuple(Column(n, declared_type(t)) for n, t in (("id", "INTEGER"), ("d", "DATE")))
    return TableInfo(source, schema, table, columns, source.settings_for(schema, table))

statement = parse_statement("SELECT count(*) FROM db.t WHERE d BETWEEN '2024-01-01' AND '2024-03-31'")
frame = explain_frame(plan_statement(statement, lookup, PlanOptions(time_unit="monthly")))
assert frame.height == 4, frame
print(sorted(m for m in ("ray", "connectorx") if m in sys.modules))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
