"""``scan_db``: a Polars LazyFrame over an SQL query, with projections, filters and limits pushed.

The frame is a Polars IO plugin. When it is collected, Polars hands the scan the
columns it needs, its predicate and a row limit; the scan turns them into one SQL
statement that wraps the user's query::

    SELECT "date", "price" FROM (<the user's query>) AS q WHERE "date" >= ... LIMIT 10

The predicate is pushed as far as :mod:`piot.lazy.sql_pushdown` can write it, and the
full Polars predicate is always applied again to the rows read, so pushing only ever
saves work. Every read is cast to the schema found once, when the frame is created.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import polars as pl
import pyarrow as pa
from polars.io.plugins import register_io_source
from sqlglot import exp

from piot.connectors.catalog import Source, load_catalog
from piot.connectors.introspect import check_source_sql
from piot.connectors.read import read_arrow
from piot.connectors.sql_log import record_sql
from piot.errors import DataError, Error, OperationalError, ProgrammingError, redact_error
from piot.lazy.bounds import merge_ranges
from piot.lazy.expr_reader import read_predicate
from piot.lazy.predicate import columns_of
from piot.lazy.sql_pushdown import Pushed, push_down
from piot.plan.fragments import UTC_SESSION, mysql_time_casts
from piot.sql.statement import parse_read_only

__all__ = ["DbScan", "scan_db"]

_ALIAS = "q"


def scan_db(sql: str, connection: str) -> pl.LazyFrame:
    """A LazyFrame over the rows of ``sql`` run on the database at ``connection``.

    Args:
        sql: one SELECT, written in the source's own dialect.
        connection: ``postgresql://``, ``mysql://``/``mariadb://`` or ``sqlite://`` URL.

    Returns:
        A LazyFrame whose schema was read from the source once, now; rows are read at collect.

    Raises:
        ProgrammingError: the URL or the SQL is not valid, or the columns are not unique.
        NotSupportedError: the SQL is not a query.
        OperationalError: the source could not answer.
    """
    if not isinstance(sql, str) or not isinstance(connection, str):
        raise ProgrammingError("scan_db(sql, connection) takes the query and the connection URL as strings")
    source = _source_of(connection)
    del connection  # from here on only the Source (whose repr hides secrets) is in this frame's locals
    if isinstance(source, ProgrammingError):
        raise source
    try:
        query = parse_query(sql, source)
        check_source_sql(source, query)
        schema = discover_schema(source, query)
    except Error as e:
        raise redact_error(e, source.redact)  # the same error, its text without the source's secrets
    scan = DbScan(source=source, query_sql=query.sql(dialect=source.kind.dialect), schema=tuple(schema.items()))
    return register_io_source(
        scan,
        schema=schema,
        explain_name="piot.scan_db",
        explain_detail=f"{source.display_url}: {' '.join(sql.split())[:120]}",
    )


def _source_of(connection: str) -> Source | ProgrammingError:
    """The source at ``connection``, or the error to raise once the URL is out of the caller's frame."""
    try:
        return load_catalog({"sources": {"db": {"url": connection}}}).source("db")
    except ProgrammingError as e:
        return ProgrammingError(e.message)


def parse_query(sql: str, source: Source) -> exp.Query:
    """Parse one read-only query in the source's dialect, with the check every door runs; else a piot error.

    Writes, locks, ``SELECT ... INTO``, several statements, table functions and functions the
    engine does not know are refused here, before the source is contacted.
    """
    return parse_read_only(sql, source.kind.dialect)


def select_sql(
    query: exp.Query,
    dialect: str,
    columns: Sequence[str] | None = None,
    where: exp.Expression | None = None,
    limit: int | None = None,
) -> str:
    """``SELECT <columns> FROM (<query>) AS q [WHERE ...] [LIMIT n]`` in ``dialect``.

    >>> import sqlglot
    >>> q = sqlglot.parse_one("SELECT a, b FROM t", read="postgres")
    >>> select_sql(q, "postgres", ["b"], exp.false(), 5)
    'SELECT "b" FROM (SELECT a, b FROM t) AS q WHERE FALSE LIMIT 5'
    """
    projection = [exp.column(c, quoted=True) for c in columns] if columns else [exp.Star()]
    statement = exp.select(*projection).from_(query.copy().subquery(_ALIAS))
    if where is not None:
        statement = statement.where(where)
    if limit is not None:
        statement = statement.limit(limit)
    if dialect == "mysql" and mysql_time_casts(statement):
        return UTC_SESSION + statement.sql(dialect=dialect)
    return statement.sql(dialect=dialect)


def discover_schema(source: Source, query: exp.Query) -> pl.Schema:
    """The query's columns and types, read with a ``WHERE 1 = 0`` wrapper (no rows).

    SQLite reports computed columns of an empty result as text; for those, the types of
    a one-row read are used when it has any (best effort: a NULL there keeps text).
    """
    dialect = source.kind.dialect
    never = exp.EQ(this=exp.Literal.number(1), expression=exp.Literal.number(0))
    schema = _schema_of(_read(source, select_sql(query, dialect, where=never)))
    if source.kind.text_dates and any(isinstance(t, pl.String) for t in schema.values()):
        try:
            sample = _schema_of(_read(source, select_sql(query, dialect, limit=1)))
        except OperationalError:  # a NULL in the first row: SQLite cannot type it; keep text
            return schema
        schema = pl.Schema(
            {name: sample.get(name, dtype) if isinstance(dtype, pl.String) else dtype for name, dtype in schema.items()}
        )
    return schema


def _read(source: Source, statement: str) -> pa.Table:
    parse_read_only(statement, source.kind.dialect)  # every statement sent passes the same check, wherever it was built
    record_sql(statement)
    return read_arrow(source, statement)


def _schema_of(table: pa.Table) -> pl.Schema:
    try:
        frame = pl.from_arrow(table)
    except pl.exceptions.DuplicateError as e:
        raise ProgrammingError(f"scan_db needs unique column names: {e}") from e
    assert isinstance(frame, pl.DataFrame)
    return pl.Schema({name: (pl.String() if isinstance(t, pl.Null) else t) for name, t in frame.schema.items()})


@dataclass(frozen=True)
class DbScan:
    """The IO source behind a ``scan_db`` frame: picklable, so plans can travel to Ray workers.

    Attributes:
        source: where to read (its repr hides any password).
        query_sql: the user's query, as parsed and written back in the source's dialect.
        schema: the columns and types every read is cast to.
    """

    source: Source
    query_sql: str
    schema: tuple[tuple[str, pl.DataType], ...] = field(repr=False)

    def __call__(
        self,
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        batch_size: int | None,
    ) -> Iterator[pl.DataFrame]:
        """Read the rows Polars asks for; called by Polars at collect time."""
        del batch_size  # one read, one frame
        schema = dict(self.schema)
        statement, columns = self.plan_read(with_columns, predicate, n_rows)
        try:
            frame = _conform(pl.from_arrow(_read(self.source, statement)), {c: schema[c] for c in columns})
        except Error as e:  # also what a Ray task of execute_on_ray sends back: redacted before it crosses
            raise redact_error(e, self.source.redact)
        if predicate is not None:
            frame = frame.filter(predicate)
        if n_rows is not None:
            frame = frame.head(n_rows)
        yield frame.select(with_columns) if with_columns is not None else frame

    def plan_read(
        self, with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None
    ) -> tuple[str, list[str]]:
        """The SQL statement for one read, and the columns it returns."""
        names = [name for name, _ in self.schema]
        wanted = set(with_columns if with_columns is not None else names)
        pushed: Pushed | None = None
        if predicate is not None:
            read = merge_ranges(read_predicate(predicate))
            wanted |= set(predicate.meta.root_names()) | columns_of(read)
            pushed = push_down(read, dict(self.schema), self.source.kind)
        columns = [name for name in names if name in wanted] or names[:1]
        exact = predicate is None or (pushed is not None and pushed.exact)
        limit = n_rows if n_rows is not None and exact else None
        where = pushed.condition if pushed is not None else None
        query = parse_read_only(self.query_sql, self.source.kind.dialect)  # checked again wherever the read runs
        return select_sql(query, self.source.kind.dialect, columns, where, limit), columns


def _conform(data: pl.DataFrame | pl.Series, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    frame = data.to_frame() if isinstance(data, pl.Series) else data
    try:
        return frame.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])
    except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError) as e:
        raise DataError(f"scan_db: a column read does not fit the type found when the scan was created: {e}") from e
