"""Reading Polars expressions into predicates, checked against Polars itself."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.io.plugins import register_io_source
from polars.testing import assert_frame_equal

from piot.lazy.expr_reader import read_constant, read_predicate
from piot.lazy.predicate import (
    And,
    Between,
    Compare,
    InList,
    IsNull,
    Not,
    Opaque,
    Or,
    Predicate,
    columns_of,
    conjuncts,
    to_polars,
)

FRAME = pl.DataFrame(
    {
        "i": [1, -5, None, 7, 3, 3, 0, 2**40],
        "f": [1.5, float("nan"), None, -0.0, 2.25, 1e-5, 3.0, -7.5],
        "s": ["a", "A", None, "b ", "", "ß", "a'b", "zz"],
        "d": [date(2024, 1, 1), date(2024, 2, 29), None, date(2023, 12, 31), date(2024, 3, 1), date(2024, 1, 1), date(2024, 4, 1), date(2024, 1, 31)],
        "t": [
            datetime(2024, 1, 1),
            datetime(2024, 1, 1, 0, 0, 0, 1),
            None,
            datetime(2024, 2, 29, 23, 59, 59, 999999),
            datetime(2024, 3, 1, 12),
            datetime(2023, 12, 31, 23, 59),
            datetime(2024, 1, 31, 8, 30),
            datetime(2024, 4, 1),
        ],
        "b": [True, False, None, True, False, True, None, False],
    }
)
POOLS: dict[str, list[Any]] = {
    "i": [0, 1, 3, -5, 2**40, 100],
    "f": [0.0, 1.5, -7.5, 1e-5, 2.0],
    "s": ["a", "A", "b", "b ", "", "zz", "a'b"],
    "d": [date(2024, 1, 1), date(2024, 2, 29), date(2024, 3, 1), date(2023, 12, 31)],
    "t": [datetime(2024, 1, 1), datetime(2024, 1, 1, 0, 0, 0, 1), datetime(2024, 3, 1, 12), datetime(2024, 2, 1)],
    "b": [True, False],
}
OPS = ("==", "!=", "<", "<=", ">", ">=")


def _as_literal(draw: st.DrawFn, column: str, value: Any) -> Any:
    """The same literal written the ways users write it."""
    choice = draw(st.integers(0, 2))
    if choice == 1:
        return pl.lit(value)
    if choice == 2 and column == "d":
        return pl.date(value.year, value.month, value.day)
    if choice == 2 and column == "t":
        return pl.datetime(value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond)
    return value


@st.composite
def leaf(draw: st.DrawFn) -> tuple[pl.Expr, bool]:
    """A leaf predicate and whether piot should understand it."""
    column = draw(st.sampled_from(sorted(POOLS)))
    col = pl.col(column)
    value = draw(st.sampled_from(POOLS[column]))
    shape = draw(st.integers(0, 6))
    if shape == 0:
        op = draw(st.sampled_from(OPS))
        literal = _as_literal(draw, column, value)
        exprs = {"==": col == literal, "!=": col != literal, "<": col < literal, "<=": col <= literal, ">": col > literal, ">=": col >= literal}
        return exprs[op], True
    if shape == 1:
        literal = pl.lit(value)
        return (literal < col if draw(st.booleans()) else literal >= col), True
    if shape == 2:
        low, high = sorted([value, draw(st.sampled_from(POOLS[column]))])
        closed = draw(st.sampled_from(["both", "left", "right", "none"]))
        lo, hi = (pl.lit(low), pl.lit(high)) if column == "s" else (_as_literal(draw, column, low), _as_literal(draw, column, high))
        return col.is_between(lo, hi, closed=closed), True  # bare strings would name columns
    if shape == 3:
        values = draw(st.lists(st.sampled_from(POOLS[column]), min_size=1, max_size=3))
        if draw(st.booleans()):
            values.append(None)
        return col.is_in(values, nulls_equal=draw(st.booleans())), True
    if shape == 4:
        return (col.is_null() if draw(st.booleans()) else col.is_not_null()), True
    if shape == 5:
        return col.cast(pl.String).str.len_chars() > 1, False
    return col.shift(1).is_null(), False


def combine(children: st.SearchStrategy[tuple[pl.Expr, bool]]) -> st.SearchStrategy[tuple[pl.Expr, bool]]:
    """AND, OR, NOT and all_horizontal over generated predicates."""
    pair = st.tuples(children, children)
    return st.one_of(
        pair.map(lambda p: (p[0][0] & p[1][0], p[0][1] and p[1][1])),
        pair.map(lambda p: (p[0][0] | p[1][0], p[0][1] and p[1][1])),
        children.map(lambda c: (~c[0], c[1])),
        pair.map(lambda p: (pl.all_horizontal(p[0][0], p[1][0]), p[0][1] and p[1][1])),
    )


PREDICATES = st.recursive(leaf(), combine, max_leaves=6)


def has_opaque(predicate: Predicate) -> bool:
    """Whether any part of ``predicate`` was not understood."""
    if isinstance(predicate, Opaque):
        return True
    if isinstance(predicate, (And, Or)):
        return any(has_opaque(p) for p in predicate.parts)
    if isinstance(predicate, Not):
        return has_opaque(predicate.part)
    return False


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PREDICATES)
def test_read_predicate_means_what_polars_means(case: tuple[pl.Expr, bool]) -> None:
    expr, readable = case
    predicate = read_predicate(expr)
    assert has_opaque(predicate) != readable, (expr, predicate)
    if readable:
        assert_frame_equal(FRAME.filter(to_polars(predicate)), FRAME.filter(expr))


@pytest.mark.parametrize(
    ("expr", "wanted"),
    [
        (pl.col("d").is_between(pl.date(2024, 1, 1), pl.date(2024, 3, 31)), Between("d", date(2024, 1, 1), date(2024, 3, 31))),
        (pl.col("t") >= datetime(2024, 1, 1), Compare("t", ">=", datetime(2024, 1, 1))),
        (5 > pl.col("i"), Compare("i", "<", 5)),
        (pl.col("s").is_in(["x", None], nulls_equal=True), InList("s", ("x",), has_null=True, nulls_equal=True)),
        (~pl.col("s").is_not_null(), Not(IsNull("s", negated=True))),
        (pl.col("i").alias("renamed") > 1, Compare("i", ">", 1)),
        ((pl.col("i") > 1) | (pl.col("i") < -1), Or((Compare("i", ">", 1), Compare("i", "<", -1)))),
    ],
)
def test_read_predicate_shapes(expr: pl.Expr, wanted: Predicate) -> None:
    assert read_predicate(expr) == wanted


@pytest.mark.parametrize(
    "expr",
    [
        pl.col("i") > pl.col("f"),  # column against column
        pl.col("i") == pl.lit(None),  # comparison with null is not modelled
        pl.col("t") > pl.lit(datetime(2024, 1, 1), dtype=pl.Datetime("ns")),  # nanoseconds do not fit datetime
        pl.col("i") > pl.lit(1).map_elements(lambda x: x, return_dtype=pl.Int64),  # never evaluated
        pl.col("i").cum_sum() > 3,
        pl.lit(True),
    ],
)
def test_read_predicate_leaves_the_rest_opaque(expr: pl.Expr) -> None:
    assert isinstance(read_predicate(expr), Opaque)


def test_read_constant_never_calls_user_functions() -> None:
    calls: list[int] = []
    assert read_constant(pl.lit(1).map_elements(lambda x: calls.append(x) or x, return_dtype=pl.Int64)) is None
    assert calls == []
    assert read_constant(pl.lit([1, 2])) is not None


def _pushed_predicates(lf_factory: Any) -> list[pl.Expr]:
    """The predicates Polars hands an IO source for the plan built by ``lf_factory``."""
    seen: list[pl.Expr] = []

    def source(with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None, batch_size: int | None) -> Iterator[pl.DataFrame]:
        if predicate is not None:
            seen.append(predicate)
        yield FRAME.filter(predicate) if predicate is not None else FRAME

    lf_factory(register_io_source(source, schema=FRAME.schema)).collect()
    return seen


@pytest.mark.parametrize(
    "build",
    [
        lambda lf: lf.filter(pl.col("d").is_between(pl.date(2024, 1, 1), pl.date(2024, 3, 31))),
        lambda lf: lf.filter(pl.col("t") >= date(2024, 1, 1), pl.col("t") < date(2024, 2, 1)),
        lambda lf: lf.filter(pl.col("s").is_in(["a", "b"]) & pl.col("i").is_not_null()).select("s"),
        lambda lf: lf.rename({"d": "day"}).filter(pl.col("day") > pl.date(2024, 1, 1)),
        lambda lf: lf.drop_nulls("i"),
    ],
)
def test_predicates_polars_pushes_into_a_scan_are_understood(build: Any) -> None:
    pushed = _pushed_predicates(build)
    assert pushed
    for predicate in pushed:
        read = read_predicate(predicate)
        assert not has_opaque(read), (predicate, read)
        assert_frame_equal(FRAME.filter(to_polars(read)), FRAME.filter(predicate))


def test_conjuncts_and_columns() -> None:
    predicate = And((Compare("a", ">", 1), And((IsNull("b"), Opaque("x")))))
    assert conjuncts(predicate) == (Compare("a", ">", 1), IsNull("b"), Opaque("x"))
    assert columns_of(predicate) == {"a", "b"}


def test_to_polars_refuses_opaque() -> None:
    with pytest.raises(ValueError, match="opaque"):
        to_polars(Opaque("f(x)"))
