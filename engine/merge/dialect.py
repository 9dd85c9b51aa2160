"""The SQL dialect the merge is written in: PostgreSQL's, adjusted to what Polars' SQL engine runs.

- ``/`` in Polars is true division, so integer division written for a typed-division
  dialect (PostgreSQL: ``7 / 2 = 3``) is written as a truncating cast;
- ``MEDIAN(x)`` stays ``MEDIAN`` (PostgreSQL would need ``PERCENTILE_CONT``, which Polars lacks);
- ``LOG(b, x)`` (base first, as in PostgreSQL and MySQL) is Polars' ``LOG(x, b)``, and ``LOG(x)``
  (base 10 in PostgreSQL) is ``LOG10(x)``.

Example:
    >>> import sqlglot
    >>> from sqlglot.optimizer.annotate_types import annotate_types
    >>> from sqlglot.optimizer.qualify import qualify
    >>> schema = {"t": {"a": "INT", "b": "INT"}}
    >>> q = qualify(sqlglot.parse_one("select a / b as q, median(a) as m from t", read="postgres"), schema=schema)
    >>> annotate_types(q, schema=schema).sql(dialect=PolarsSQL)
    'SELECT CAST("t"."a" / "t"."b" AS BIGINT) AS "q", MEDIAN("t"."a") AS "m" FROM "t" AS "t"'
    >>> sqlglot.parse_one("select log(2, a), log(a)", read="postgres").sql(dialect=PolarsSQL)
    'SELECT LOG(a, 2), LOG10(a)'
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.dialects.postgres import Postgres
from sqlglot.generators.postgres import PostgresGenerator


class PolarsSQLGenerator(PostgresGenerator):
    """PostgreSQL's generator with the few forms Polars spells differently."""

    TRANSFORMS = {
        **PostgresGenerator.TRANSFORMS,
        exp.Median: lambda self, e: self.func("MEDIAN", e.this),
        exp.Log: lambda self, e: self.func("LOG", e.expression, e.this) if e.expression else self.func("LOG10", e.this),
    }


class PolarsSQL(Postgres):
    """PostgreSQL syntax with Polars' untyped division."""

    TYPED_DIVISION = False
    Generator = PolarsSQLGenerator
