"""Resolve the tables a query names through the catalog and give each reference a scan name.

``markets.trades`` (source.table) or ``pg.public.trades`` (source.schema.table) becomes
``__piot_t0 AS trades``: the name under which the merge registers that scan's rows.
Names of CTEs are left alone. Column names keep their case where the source tells names apart
by case (PostgreSQL), and are lower case elsewhere (see :func:`frame_column_name`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from sqlglot import exp
from sqlglot.schema import MappingSchema

from piot.connectors.introspect import Column, TableInfo
from piot.errors import DatabaseError, NotSupportedError, ProgrammingError
from piot.plan.exactness import semantics_of

if TYPE_CHECKING:
    from piot.plan.state import PlanningState

SCAN_PREFIX = "__piot_t"


@dataclass(frozen=True)
class TableReference:
    """One table reference of the query, resolved.

    Attributes:
        scan_name: the name the merge knows this reference's rows by.
        alias: the alias the query uses for it (its own alias or the table's name).
        table: the catalog table it reads.
    """

    scan_name: str
    alias: str
    table: TableInfo


class Lookup(Protocol):
    """``(source, schema, table) -> TableInfo``, raising ProgrammingError for unknown tables."""

    def __call__(self, source: str, schema: str | None, table: str, /) -> TableInfo: ...


@runtime_checkable
class CheckedLookup(Lookup, Protocol):
    """A lookup that can also refuse a name without contacting any source (system schemas)."""

    def check_name(self, source: str, schema: str | None, table: str, /) -> None: ...


def resolve_references(state: PlanningState) -> PlanningState:
    """Rule: name every catalog table of the tree by its scan name, and record the references."""
    query, references = resolve_tables(state.query, state.lookup)
    return replace(state, query=query, references=tuple(references))


def resolve_tables(query: exp.Query, lookup: Lookup) -> tuple[exp.Query, list[TableReference]]:
    """Replace every catalog table in ``query`` by its scan name; return the new query and the references.

    Args:
        query: the parsed query (it is not modified).
        lookup: ``(source, schema, table) -> TableInfo``, raising ProgrammingError for unknown ones;
            a :class:`CheckedLookup` first checks every name, so that a refused one (a system
            schema) is refused before any source is contacted.
    """
    query = query.copy()
    cte_names = {cte.alias_or_name.lower() for cte in query.find_all(exp.CTE)}
    named: list[tuple[exp.Table, str, str | None]] = []
    for table in list(query.find_all(exp.Table, bfs=False)):
        if not table.name or isinstance(table.this, exp.Func):
            continue
        if isinstance(table.this, exp.Dot):
            raise _located(ProgrammingError, f"{table.sql()!r} has too many parts: write source.table or source.schema.table", table)
        parts = [p for p in (table.catalog, table.db) if p]
        if not parts:
            if table.name.lower() in cte_names:
                continue
            raise _located(ProgrammingError, f"table {table.name!r} has no source: write source.{table.name} (see the catalog)", table)
        named.append((table, parts[0], parts[1] if len(parts) > 1 else None))
    if isinstance(lookup, CheckedLookup):  # every name is checked before any source is contacted
        for table, source, schema in named:
            try:
                lookup.check_name(source, schema, table.name)
            except (ProgrammingError, NotSupportedError) as e:
                raise _located(type(e), e.message, table) from None
    references: list[TableReference] = []
    for table, source, schema in named:
        try:
            info = lookup(source, schema, table.name)
        except (ProgrammingError, NotSupportedError) as e:
            raise _located(type(e), e.message, table) from None
        scan_name = f"{SCAN_PREFIX}{len(references)}"
        alias = table.alias or table.name
        alias_node = table.args["alias"].this if table.args.get("alias") else table.this  # keeps its quoting
        replacement = exp.Table(this=exp.to_identifier(scan_name), alias=exp.TableAlias(this=alias_node.copy()))
        if table.args.get("joins"):  # a parenthesised join, ``(a JOIN b ON ...)``, hangs its joins on its first table
            replacement.set("joins", table.args["joins"])
        table.replace(replacement)
        references.append(TableReference(scan_name, alias, info))
    return query, references


def _located(cls: type[DatabaseError], message: str, node: exp.Expression) -> DatabaseError:
    meta = node.this.meta if isinstance(node.this, exp.Identifier) else {}
    col = meta.get("col")
    if col:  # positions name the token's last character; point at its first
        col = max(1, col - len(node.name) + 1)
    return cls(message, line=meta.get("line"), col=col)


def frame_column_name(name: str, *, case_sensitive: bool = False) -> str:
    """The name a source column has in the rows piot reads.

    Where the source tells column names apart by case (PostgreSQL: ``"A"`` and ``a``), the
    name is kept as it is, and the query reaches it as PostgreSQL would: unquoted names fold
    to lower case, quoted ones keep theirs. Elsewhere names are compared in any case, so
    the frame name is the lower-case one, the way unquoted identifiers fold.

    >>> frame_column_name("Trade_Date"), frame_column_name("Trade_Date", case_sensitive=True)
    ('trade_date', 'Trade_Date')
    """
    return name if case_sensitive else name.lower()


def frame_columns(table: TableInfo) -> dict[str, Column]:
    """``frame name -> column`` for every column of ``table`` (see :func:`frame_column_name`)."""
    sensitive = semantics_of(table.source.kind.name).case_sensitive_names
    return {frame_column_name(c.name, case_sensitive=sensitive): c for c in table.columns}


def find_frame_column(table: TableInfo, name: str) -> str | None:
    """The frame name of the column a catalog setting names: written exactly, or else in any case if only one matches.

    Catalog settings (``date_column``) are plain names, not SQL identifiers.
    """
    columns = frame_columns(table)
    if name in columns:
        return name
    matches = [frame for frame, c in columns.items() if c.name.lower() == name.lower()]
    return matches[0] if len(matches) == 1 else None


@lru_cache(maxsize=8192)
def schema_key(frame_name: str, dialect: str = "postgres") -> str:
    """A frame column name as a key of sqlglot's schema mapping: quoted, so that its case is kept
    and no character of it is taken for SQL.

    >>> schema_key("A"), schema_key('x"y'), schema_key("da--sh")
    ('"A"', '"x""y"', '"da--sh"')
    """
    return exp.to_identifier(frame_name, quoted=True).sql(dialect=dialect)


def mapping_schema(schema: Mapping[str, Mapping[str, str]], dialect: str) -> MappingSchema:
    """sqlglot's schema over ``table -> column -> type``, built once for each distinct mapping and dialect.

    Building one normalises every name (parsing each); ``qualify`` and ``annotate_types`` take
    it as it is and only read it, so plans over the same tables share it.

    >>> a = mapping_schema({"t": {'"x"': "INT"}}, "postgres")
    >>> a is mapping_schema({"t": {'"x"': "INT"}}, "postgres"), a.column_names("t")
    (True, ['x'])
    """
    return _mapping_schema(tuple((table, tuple(columns.items())) for table, columns in schema.items()), dialect)


@lru_cache(maxsize=256)
def _mapping_schema(key: tuple[tuple[str, tuple[tuple[str, str], ...]], ...], dialect: str) -> MappingSchema:
    return MappingSchema({table: dict(columns) for table, columns in key}, dialect=dialect)
