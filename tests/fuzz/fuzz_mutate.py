"""A seeded SQL mutator: one integer seed gives one fuzzed query, the same on every machine.

The seed picks a corpus template, the sources its tables are read from, the split, and one
to three mutations applied to the template's tokens: dropped, doubled and swapped tokens,
stray quotes and parentheses, deep nesting, huge literals and IN lists, odd dates, reversed
BETWEEN, hostile identifiers, tables and functions, swapped operators, casts and overflowing
arithmetic. Tokens keep their whitespace, so an unmutated template renders unchanged.

Example:
    >>> case = make_case(7, ("SELECT trade_id FROM {trades} WHERE trade_date BETWEEN '2024-01-01' AND '2024-01-31'",))
    >>> case == make_case(7, ("SELECT trade_id FROM {trades} WHERE trade_date BETWEEN '2024-01-01' AND '2024-01-31'",))
    True
    >>> tokens("a.b >= 'x''y'")
    ['a', '.', 'b', ' ', '>=', ' ', "'x''y'"]
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""(\s+)
    |('(?:[^']|'')*'?)
    |("(?:[^"]|"")*"?)
    |(\{[a-z_]+\})
    |(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)
    |([A-Za-z_][A-Za-z_0-9$]*)
    |(::|<=|>=|<>|!=|\|\||.)""",
    re.X | re.S,
)
KINDS = ("sqlite", "postgres", "mysql")
TIME_UNITS = ("monthly", "monthly", "monthly", "monthly", "monthly", "monthly", "daily", "auto", "yearly", "unsplit")
_COLUMNS = ("trade_id", "trade_date", "ts", "symbol", "side", "price", "quantity", "venue", "sector", "listed_on")
_NUMERIC = ("trade_id", "price", "quantity")
_COMPARISONS = ("=", "<>", "<", "<=", ">", ">=", "!=")
_ARITHMETIC = ("+", "-", "*", "/", "%")
_ODD_DATES = (
    "2024-02-30", "2023-02-29", "2024-04-31", "0000-01-01", "0001-01-01", "9999-12-31", "10000-01-01", "infinity",
    "-infinity", "2024-13-01", "2024-00-01", "2024-01-32", "2024-1-5", "20240105", "2024-01-01 24:00:00",
    "2024-01-01 23:59:60", "2024-01-01T10:00:00", "2024-01-01 10:00:00+05", "2024-01-31 23:00:00-11:30", "epoch",
    "today", "now", "", " ", "0001-01-01 BC", "294277-01-01", "1970-01-01", "2024-02-29 12:00:00.9999995",
    "4714-11-24 BC", "5874897-12-31", "1900-02-29", "2000-02-29", "2024-03-31 02:30:00", "not a date",
)  # fmt: skip
_HUGE_NUMBERS = (
    "9223372036854775807", "9223372036854775808", "-9223372036854775808", "2147483648", "32768", "1e308", "1e309",
    "1" + "0" * 40, "1" + "0" * 400, "0." + "0" * 400 + "1", "99999999999999999999999999999999999999.99", "-0",
    "1.0000000000000000000000000001", "4294967296",
)  # fmt: skip
_HOSTILE_IDENTIFIERS = (
    '"A"', '"Trade_ID"', '"TRADE_ID"', '"x\' UNION SELECT 1 --"', '"x\\\' UNION SELECT SLEEP(3), 0x696e74 -- "', '"a""b"',
    '"tr\u00e4de_\u00efd"', '"\u65e5\u4ed8"', '"nul\x00x"', '"new\nline"', '"back\\"', '""', '`trade_id`', '[trade_id]',
    '"; DROP TABLE symbols; --"', '"/*"', "trade_id--", '"select"', '"' + "w" * 300 + '"',
)  # fmt: skip
_HOSTILE_TABLES = (
    "pg_catalog.pg_roles", "pg_catalog.pg_authid", "information_schema.tables", "mysql.user", "lite.sqlite_master",
    "read_csv('/etc/hostname')", "read_parquet('~/.ssh/id_rsa')", "pg.\"x' OR '1'='1\"", "my.\"x\\' UNION SELECT 1 -- \"",
    "nope.trades", "pg.nothing", "generate_series(1, 3)", "(SELECT 1 AS trade_id) AS x", "pg.pg_user", "my.information_schema",
    "pg_read_file('/etc/hostname')", "lite.sqlite_schema", "pg.pg_stat_activity",
)  # fmt: skip
_HOSTILE_FUNCTIONS = (
    "pg_sleep(0.01)", "nextval('fuzz_seq')", "set_config('fuzz.x', 'y', false)", "pg_read_file('/etc/hostname')",
    "current_setting('data_directory')", "version()", "load_file('/etc/passwd')", "sleep(0)", "load_extension('x')",
    "inet_server_addr()", "current_user", "txid_current()", "lo_import('/etc/hostname')", "random()", "now()",
    "current_date", "localtimestamp",
)  # fmt: skip
_OVERFLOWS = (
    "{c} * 9223372036854775", "2147483647::int + 1", "power(10, 400)", "{c}::smallint * 1000", "-(-9223372036854775807 - 1)",
    "{c} * 1e308 * 10", "CAST(1 AS DECIMAL(39, 0))", "1::numeric(1000, 0)", "sum({c} * 9223372036854775)",
    "{c} / 0", "{c} % 0", "abs(-9223372036854775807 - 1)", "2 ^ 1024", "exp(1000)", "ln(0)", "sqrt(-1)",
)  # fmt: skip
_CAST_TYPES = (
    "INTEGER", "SMALLINT", "BIGINT", "NUMERIC(5,1)", "DECIMAL(39,0)", "NUMERIC(1000,0)", "REAL", "DOUBLE PRECISION", "TEXT",
    "VARCHAR(2)", "CHAR(3)", "DATE", "TIMESTAMP", "TIMESTAMPTZ", "BOOLEAN", "INTERVAL", "NUMERIC", "TIME", "BYTEA",
)  # fmt: skip
_SPECIAL_FLOATS = ("'NaN'::float", "'inf'::float", "'-Infinity'::float8", "CAST('nan' AS DOUBLE PRECISION)", "'1e400'::float")
_INSERTS = (
    "--", "/*", "/* x */", ";", "; SELECT 1", "\n", "\x00", "\u00a0", "\\", "NULL", "NOT", "DISTINCT", "ALL", "AS", "ON",
    "UNION", "SELECT", "FROM", "WHERE", "JOIN", "GROUP BY", "ORDER BY", "HAVING", "CASE", "END", "OVER ()", "WITH", "LATERAL",
    "INTO x", "FOR UPDATE", "DELETE", "RETURNING *", ",", "*", ".", "?", "$1", "%s", ":x", "@x", "::date", "::int", "||", "ESCAPE",
)  # fmt: skip


@dataclass(frozen=True)
class Case:
    """One fuzzed query.

    Attributes:
        seed: the seed that regenerates it (``make_case(seed, seeds)``).
        template: the mutated template, over ``{trades}``, ``{trades_ts}`` and ``{symbols}``.
        origin: the template before mutation.
        mutations: the names of the mutations applied, in order.
        trades_kind: the kind of source the trades tables are read from.
        symbols_kind: the kind of source the symbols table is read from.
        time_unit: piot's split (``unsplit`` reads each table in one fragment).
    """

    seed: int
    template: str
    origin: str
    mutations: tuple[str, ...]
    trades_kind: str
    symbols_kind: str
    time_unit: str

    def render(self, names: dict[str, str]) -> str:
        """The query with each placeholder replaced by its table name."""
        text = self.template
        for placeholder, name in names.items():
            text = text.replace(placeholder, name)
        return text


def tokens(text: str) -> list[str]:
    """Split SQL text into tokens, whitespace included (joining them gives the text back).

    >>> "".join(tokens("SELECT 'a''b' FROM t")) == "SELECT 'a''b' FROM t"
    True
    """
    return [m.group(0) for m in _TOKEN.finditer(text)]


# -- mutations: each takes the token list and returns a new one, or None when it does not apply --
Tokens = list[str]
Mutation = Callable[[random.Random, Tokens], Tokens | None]


def _solid(toks: Tokens) -> list[int]:
    return [i for i, t in enumerate(toks) if not t.isspace()]


def _pick(rng: random.Random, toks: Tokens, test: Callable[[str], bool]) -> int | None:
    found = [i for i, t in enumerate(toks) if not t.isspace() and test(t)]
    return rng.choice(found) if found else None


def _replace(toks: Tokens, index: int, text: str) -> Tokens:
    return toks[:index] + [text] + toks[index + 1 :]


def _insert(toks: Tokens, index: int, text: str) -> Tokens:
    return toks[:index] + [" ", text, " "] + toks[index:]


def _is_number(t: str) -> bool:
    return t[0].isdigit() or (t[0] == "." and len(t) > 1)


def _is_column(t: str) -> bool:
    return t.lower() in _COLUMNS


def _is_date_string(t: str) -> bool:
    return re.match(r"'\d{4}-\d{2}-\d{2}", t) is not None


def drop(rng: random.Random, toks: Tokens) -> Tokens | None:
    index = rng.choice(_solid(toks))
    return toks[:index] + toks[index + 1 :]


def double(rng: random.Random, toks: Tokens) -> Tokens | None:
    index = rng.choice(_solid(toks))
    return _insert(toks, index, toks[index])


def swap(rng: random.Random, toks: Tokens) -> Tokens | None:
    solid = _solid(toks)
    if len(solid) < 2:
        return None
    first = rng.randrange(len(solid) - 1)
    second = first + 1 if rng.random() < 0.7 else rng.randrange(len(solid))
    a, b = solid[first], solid[second]
    out = list(toks)
    out[a], out[b] = out[b], out[a]
    return out


def stray_quote(rng: random.Random, toks: Tokens) -> Tokens | None:
    return _insert(toks, rng.randrange(len(toks) + 1), rng.choice(("'", '"', "`", "''", "\\'", "E'\\'")))


def stray_paren(rng: random.Random, toks: Tokens) -> Tokens | None:
    return _insert(toks, rng.randrange(len(toks) + 1), rng.choice(("(", ")", "()", "((", "))")))


def deep_nest(rng: random.Random, toks: Tokens) -> Tokens | None:
    depth = rng.choice((2, 8, 30, 45, 46, 64, 100, 300, 1000))
    style = rng.randrange(3)
    if style == 0:  # an operand in many parentheses
        index = _pick(rng, toks, lambda t: _is_number(t) or _is_column(t) or t.startswith("'"))
        if index is None:
            return None
        return _replace(toks, index, "(" * depth + toks[index] + ")" * depth)
    if style == 1:  # the whole query as a derived table, nested
        depth = min(depth, 120)
        text = "".join(toks)
        for level in range(depth):
            text = f"SELECT * FROM ({text}) AS fz{level}"
        return tokens(text)
    where = [i for i, t in enumerate(toks) if t.upper() == "WHERE"]  # the first WHERE's condition under NOT NOT ...
    if not where:
        return None
    prefix = "NOT " * (2 * min(depth, 200) // 2)
    return toks[: where[0] + 1] + [" ", prefix] + toks[where[0] + 1 :]


def huge_literal(rng: random.Random, toks: Tokens) -> Tokens | None:
    if rng.random() < 0.7:
        index = _pick(rng, toks, _is_number)
        if index is not None:
            return _replace(toks, index, rng.choice(_HUGE_NUMBERS))
    index = _pick(rng, toks, lambda t: t.startswith("'"))
    if index is None:
        return None
    return _replace(toks, index, "'" + rng.choice(("x", "AAPL", "2024-01-01 ", "\u00e9")) * rng.choice((1000, 100_000)) + "'")


def huge_in(rng: random.Random, toks: Tokens) -> Tokens | None:
    where = [i for i, t in enumerate(toks) if t.upper() == "WHERE"]
    if not where:
        return None
    size = rng.choice((100, 1000, 5000, 20000))
    column = rng.choice(("quantity", "trade_id", "symbol", "trade_date", "price"))
    if column in ("quantity", "trade_id"):
        items = [str(rng.randrange(-5, 5000)) for _ in range(size)]
    elif column == "price":
        items = [f"{rng.randrange(1000, 60000) / 100}" for _ in range(size)]
    elif column == "symbol":
        items = [rng.choice(("'AAPL'", "'MSFT'", "'x'", "NULL", "'IBM'")) + "" for _ in range(size)]
    else:
        items = [f"DATE '2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}'" for _ in range(size)]
    negated = "NOT " if rng.random() < 0.3 else ""
    return toks[: where[0] + 1] + [f" {column} {negated}IN ({', '.join(items)}) AND"] + toks[where[0] + 1 :]


def odd_date(rng: random.Random, toks: Tokens) -> Tokens | None:
    index = _pick(rng, toks, _is_date_string)
    if index is None:
        return None
    return _replace(toks, index, "'" + rng.choice(_ODD_DATES) + "'")


def reversed_between(rng: random.Random, toks: Tokens) -> Tokens | None:
    solid = _solid(toks)
    starts = [k for k, i in enumerate(solid) if toks[i].upper() == "BETWEEN"]
    if not starts:
        return None
    start = rng.choice(starts)
    ands = [k for k in range(start + 2, min(start + 8, len(solid))) if toks[solid[k]].upper() == "AND"]
    if not ands:
        return None
    low = solid[start + 1 : ands[0]]
    high = solid[ands[0] + 1 : ands[0] + 1 + len(low)]
    if len(high) != len(low):
        return None
    out = list(toks)
    for a, b in zip(low, high):
        out[a], out[b] = toks[b], toks[a]
    return out


def hostile_identifier(rng: random.Random, toks: Tokens) -> Tokens | None:
    index = _pick(rng, toks, _is_column)
    return None if index is None else _replace(toks, index, rng.choice(_HOSTILE_IDENTIFIERS))


def hostile_table(rng: random.Random, toks: Tokens) -> Tokens | None:
    index = _pick(rng, toks, lambda t: t.startswith("{"))
    return None if index is None else _replace(toks, index, rng.choice(_HOSTILE_TABLES))


def hostile_function(rng: random.Random, toks: Tokens) -> Tokens | None:
    index = _pick(rng, toks, _is_column)
    return None if index is None else _replace(toks, index, rng.choice(_HOSTILE_FUNCTIONS))


def swap_operator(rng: random.Random, toks: Tokens) -> Tokens | None:
    groups = (_COMPARISONS, _ARITHMETIC, ("AND", "OR"), ("ASC", "DESC"), ("MIN", "MAX", "SUM", "AVG", "COUNT"))
    index = _pick(rng, toks, lambda t: any(t.upper() in g for g in groups))
    if index is None:
        return None
    group = next(g for g in groups if toks[index].upper() in g)
    return _replace(toks, index, rng.choice(group))


def retype_literal(rng: random.Random, toks: Tokens) -> Tokens | None:
    index = _pick(rng, toks, lambda t: _is_number(t) or t.startswith("'"))
    if index is None:
        return None
    old = toks[index]
    choices = ["NULL", "TRUE", "''", "'1'", "1", "-1", "0", "1.5", "'abc'", "DATE '2024-01-01'", "TIMESTAMPTZ '2024-01-01 00:00:00+05'"]
    if _is_number(old):
        choices += [f"'{old}'", "'NaN'"]
    return _replace(toks, index, rng.choice(choices))


def special_float(rng: random.Random, toks: Tokens) -> Tokens | None:
    index = _pick(rng, toks, _is_number)
    return None if index is None else _replace(toks, index, rng.choice(_SPECIAL_FLOATS))


def overflow(rng: random.Random, toks: Tokens) -> Tokens | None:
    index = _pick(rng, toks, lambda t: t.lower() in _NUMERIC)
    if index is None:
        return None
    return _replace(toks, index, "(" + rng.choice(_OVERFLOWS).replace("{c}", toks[index]) + ")")


def cast_wrap(rng: random.Random, toks: Tokens) -> Tokens | None:
    index = _pick(rng, toks, lambda t: _is_column(t) or _is_number(t) or t.startswith("'"))
    if index is None:
        return None
    kind = rng.choice(_CAST_TYPES)
    text = f"CAST({toks[index]} AS {kind})" if rng.random() < 0.6 else f"{toks[index]}::{kind}"
    return _replace(toks, index, text)


def stray_text(rng: random.Random, toks: Tokens) -> Tokens | None:
    return _insert(toks, rng.randrange(len(toks) + 1), rng.choice(_INSERTS))


def limit_offset(rng: random.Random, toks: Tokens) -> Tokens | None:
    clause = rng.choice(("LIMIT", "OFFSET", "LIMIT 5 OFFSET", "FETCH FIRST"))
    value = rng.choice(("0", "1", "-1", "9223372036854775807", "9223372036854775808", "'a'", "NULL", "ALL", "1.5", "(SELECT 2)"))
    suffix = " ROWS ONLY" if clause == "FETCH FIRST" else ""
    return toks + [f" {clause} {value}{suffix}"]


MUTATIONS: dict[str, tuple[Mutation, int]] = {
    # name -> (mutation, weight)
    "drop": (drop, 6),
    "double": (double, 4),
    "swap": (swap, 5),
    "stray_quote": (stray_quote, 2),
    "stray_paren": (stray_paren, 2),
    "deep_nest": (deep_nest, 3),
    "huge_literal": (huge_literal, 3),
    "huge_in": (huge_in, 3),
    "odd_date": (odd_date, 10),
    "reversed_between": (reversed_between, 5),
    "hostile_identifier": (hostile_identifier, 4),
    "hostile_table": (hostile_table, 3),
    "hostile_function": (hostile_function, 3),
    "swap_operator": (swap_operator, 12),
    "retype_literal": (retype_literal, 7),
    "special_float": (special_float, 4),
    "overflow": (overflow, 5),
    "cast_wrap": (cast_wrap, 8),
    "stray_text": (stray_text, 3),
    "limit_offset": (limit_offset, 3),
}


def make_case(seed: int, seeds: Sequence[str]) -> Case:
    """The fuzzed query of ``seed``: a template from ``seeds``, its sources, its split and its mutations."""
    rng = random.Random(seed)
    origin = seeds[rng.randrange(len(seeds))]
    trades_kind = rng.choice(KINDS)
    symbols_kind = trades_kind if rng.random() < 0.7 else rng.choice(KINDS)
    time_unit = rng.choice(TIME_UNITS)
    toks = tokens(origin)
    applied: list[str] = []
    wanted = 0 if rng.random() < 0.04 else rng.choice((1, 1, 1, 2, 2, 3))
    names = list(MUTATIONS)
    weights = [MUTATIONS[n][1] for n in names]
    for _ in range(wanted * 4):
        if len(applied) >= wanted:
            break
        name = rng.choices(names, weights)[0]
        mutated = MUTATIONS[name][0](rng, toks)
        if mutated is not None:
            toks = mutated
            applied.append(name)
    return Case(seed, "".join(toks), origin, tuple(applied), trades_kind, symbols_kind, time_unit)
