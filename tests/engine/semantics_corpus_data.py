"""The semantics corpus: rows where databases disagree, and every kind of condition pushdown can send.

The same rows are loaded into SQLite, PostgreSQL and MariaDB. Each condition is planned for each
source; the test compares what the source keeps for the pushed form with what the merge keeps.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

TABLE = "sem_corpus"

#: column name -> declared type per dialect (SQLite keeps dates as ISO text, MariaDB booleans as tinyint(1))
COLUMNS: dict[str, dict[str, str]] = {
    "id": {"postgres": "integer", "mysql": "integer", "sqlite": "integer"},
    "i": {"postgres": "bigint", "mysql": "bigint", "sqlite": "integer"},
    "f": {"postgres": "double precision", "mysql": "double", "sqlite": "real"},
    "n": {"postgres": "numeric(14,4)", "mysql": "decimal(14,4)", "sqlite": "numeric(14,4)"},
    "s": {"postgres": "varchar(20)", "mysql": "varchar(20)", "sqlite": "varchar(20)"},
    "d": {"postgres": "date", "mysql": "date", "sqlite": "date"},
    "ts": {"postgres": "timestamp", "mysql": "datetime(6)", "sqlite": "timestamp"},
    "b": {"postgres": "boolean", "mysql": "boolean", "sqlite": "boolean"},
}

#: x.5 and negative values, a value just under a rounding edge, integers beyond 2**53 and near
#: 2**63, text differing by case and trailing blanks, LIKE's special characters, NULLs.
ROWS: list[tuple[Any, ...]] = [
    (1, 3, 2.5, "2.5", "a", "2024-02-01", "2024-02-01 10:30:00", True),
    (2, -3, -2.5, "-2.5", "A", "2024-02-29", "2024-02-29 23:59:59.999999", False),
    (3, 9007199254740993, 2.4999, "2.4999", "a ", "2024-03-01", "2024-03-01 00:00:00", None),
    (4, -9223372036854775807, 3.5, "3.5", "b%", "2023-12-31", "2023-12-31 12:00:00", True),
    (5, 0, 0.1, "0.1", "B_c", "2024-01-15", "2024-01-15 00:00:00.5", False),
    (6, 2147483647, 1e15, "99999999.9999", "x\\y", "2024-02-02", "2024-02-02 00:00:00", True),
    (7, None, None, None, None, None, None, None),
    (8, 5, -0.5, "-0.5", "Éa", "2024-02-01", "2024-02-01 00:00:00", True),
    (9, 1, 2.675, "2.675", "", "2024-02-03", "2024-02-03 06:00:00", False),
    (10, 2, 1.5, "1.5", "ab", "2024-02-28", "2024-02-28 23:00:00", True),
]

#: The conditions, over the columns above (PostgreSQL syntax, as users write them).
CONDITIONS: list[str] = [
    # casts to each type, from each type
    *[
        f"cast({c} as {t}) = {v}"
        for c in ("i", "f", "n")
        for t, v in (
            ("integer", "3"),
            ("bigint", "-3"),
            ("integer", "-2"),
            ("numeric(5, 1)", "2.5"),
            ("numeric(10, 2)", "2.68"),
            ("numeric(10, 0)", "4"),
            ("double precision", "2.5"),
            ("real", "0.1"),
            ("text", "'2.5'"),
            ("varchar(2)", "'2.'"),
        )
    ],
    "cast(d as text) = '2024-02-01'",
    "cast(d as timestamp) = '2024-02-01 00:00:00'",
    "cast(ts as date) = '2024-02-29'",
    "cast(ts as text) like '2024-02%'",
    "cast(s as varchar(1)) = 'a'",
    "cast(b as integer) = 1",
    "cast(i as boolean)",
    # arithmetic
    "i + 1 > 3",
    "i * 2 = 6",
    "-i = 3",
    "i - 1 < 0",
    "i * 4611686018427387904 > 0",
    "i + 9223372036854775807 > 0",
    "f * 2 = 5",
    "f + 0.1 > 0.2",
    "f * 3 = 7.5",
    "n * 2 = 5",
    "n - 0.5 = 2",
    "i * 0.5 = 1.5",
    "i * f > 7",
    # comparisons on text: case, trailing blanks, order, LIKE, IN
    "s = 'a'",
    "s = 'A'",
    "s = 'a '",
    "s = ''",
    "s <> 'a'",
    "s < 'b'",
    "s >= 'B'",
    "s > 'a '",
    "s <= 'a'",
    "s > 'É'",
    "s < 'x\\z'",
    "not s < 'b'",
    "s between 'a' and 'b'",
    "s between 'A' and 'a '",
    "s in ('a', 'B_c')",
    "s not in ('a', 'ab')",
    "s like 'a%'",
    "s like 'A%'",
    "s like '_'",
    "s like 'b\\%'",
    "s like 'B\\_c'",
    "s like '%\\\\%'",
    "s not like 'a%'",
    "not (s = 'a' or s like 'b%')",
    "(s = 'a') = false",
    "s = 'a' or i > 1",
    # NULLs
    "s is null",
    "i is not null",
    "f = null",
    "not (i > 1)",
    "i not between 0 and 3",
    # x.5 and negative values
    "f > -0.5",
    "n >= -2.5",
    "f in (2.5, -2.5)",
    # large integers
    "i = 9007199254740993",
    "i = 9007199254740992",
    "i > 9223372036854775806",
    "i = 9223372036854775808",
    "i < -9223372036854775808",
    "i in (9007199254740993, 2147483647)",
    # dates, and dates as text
    "d = '2024-02-01'",
    "d < '2024-03-01'",
    "d between '2024-02-01' and '2024-02-29'",
    "ts >= '2024-02-29 12:00'",
    "ts = '2024-01-15 00:00:00.5'",
    "ts < date '2024-02-02'",
    "d in ('2024-02-01', '2024-02-29')",
    "d = ts",
    "d + 1 = '2024-02-02'",
    "d <> '2024-02-01'",
    "ts in (timestamptz '2024-02-01 10:30:00+00')",
    "d in (timestamptz '2024-02-01 00:00:00+05')",
    # infinities and NaN
    "f < 'inf'::float",
    "f > '-Infinity'::double precision",
    "f <> 'NaN'::float",
    "f = 'NaN'::float",
    "f < cast('1e400' as float)",
    # booleans
    "b",
    "not b",
    "b = true",
    "b is true",
    "b is not false",
]


def create_script(dialect: str) -> str:
    """The DDL and inserts of the corpus table in ``dialect`` (postgres, mysql)."""
    columns = ", ".join(f"{name} {types[dialect]}" for name, types in COLUMNS.items())
    values = ", ".join("(" + ", ".join(_literal(v, dialect) for v in row) + ")" for row in ROWS)
    return f"create table {TABLE} ({columns});\ninsert into {TABLE} values {values};\n"


def write_sqlite(path: Path) -> None:
    """The corpus table in a new SQLite file (dates as ISO text, as SQLite tables hold them)."""
    columns = ", ".join(f"{name} {types['sqlite']}" for name, types in COLUMNS.items())
    with sqlite3.connect(path) as handle:
        handle.execute(f"create table {TABLE} ({columns})")
        rows = [tuple(float(v) if k == 3 and v is not None else v for k, v in enumerate(row)) for row in ROWS]
        handle.executemany(f"insert into {TABLE} values ({', '.join('?' * len(COLUMNS))})", rows)


def _literal(value: Any, dialect: str) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE") if dialect == "postgres" else str(int(value))
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value).replace("'", "''")
    if dialect == "mysql":
        text = text.replace("\\", "\\\\")
    return f"'{text}'"
