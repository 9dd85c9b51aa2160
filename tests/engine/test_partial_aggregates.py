"""Aggregations fold partial results: each fragment ships its groups, not its rows, and the answer stays the source's.

Every case runs split monthly, split daily and unsplit against the oracle (the source itself;
PostgreSQL where MariaDB's collation or syntax means something else), and its plan is checked:
a foldable aggregation ships partial aggregates from every fragment, any other ships rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from corpus_data import KIND_PARAMS, CorpusSource, answer_of, assert_same, split_modes

import piot
from piot.plan.partial_aggregates import PARTIAL_AGGREGATE, WHOLE_GROUPS
from piot.run.execute import FOLD_FRAMES, execute_scans

RANGE = "trade_date BETWEEN '2023-11-01' AND '2024-04-30'"


@dataclass(frozen=True)
class Fold:
    """One aggregation: its SQL template, whether it folds (and PostgreSQL computes the partials itself), and whether PostgreSQL answers for MariaDB."""

    name: str
    sql: str
    folds: bool = True
    in_source: bool = False
    unsplit_whole: bool = False
    postgres_oracle: bool = False
    ordered: bool = False


FOLDS = (
    Fold("count_star_sum_avg", in_source=True, sql=f"SELECT COUNT(*) AS n, SUM(quantity) AS q, AVG(quantity) AS a, AVG(price) AS ap FROM {{trades}} WHERE {RANGE}", postgres_oracle=True),
    Fold("arithmetic_arguments", in_source=True, sql=f"SELECT side, SUM(quantity * 2 - 1) AS s, MAX(quantity + trade_id) AS m, COUNT(quantity * 3) AS c, SUM(price * quantity) AS v FROM {{trades}} WHERE {RANGE} GROUP BY side", postgres_oracle=True),
    Fold("count_of_nullable", in_source=True, sql=f"SELECT COUNT(ts) AS n_ts, COUNT(trade_date) AS n_d, MIN(ts) AS lo, MAX(ts) AS hi FROM {{trades}} WHERE {RANGE}"),
    Fold("group_by_text", f"SELECT symbol, COUNT(*) AS n, SUM(price) AS s, MIN(price) AS lo, MAX(quantity) AS hi FROM {{trades}} WHERE {RANGE} GROUP BY symbol", postgres_oracle=True),
    Fold("min_max_text", f"SELECT side, MIN(symbol) AS lo, MAX(venue) AS hi FROM {{trades}} WHERE {RANGE} GROUP BY side", postgres_oracle=True),
    Fold("group_by_two_keys_order_limit", in_source=True, sql=f"SELECT side, venue, SUM(quantity) AS q FROM {{trades}} WHERE {RANGE} GROUP BY side, venue ORDER BY q DESC, side, venue LIMIT 3", postgres_oracle=True, ordered=True),
    Fold("having", f"SELECT symbol, COUNT(*) AS n FROM {{trades}} WHERE {RANGE} GROUP BY symbol HAVING COUNT(*) > 3 AND MAX(price) > 10", postgres_oracle=True),
    Fold("order_by_aggregate_not_selected", in_source=True, sql=f"SELECT symbol FROM {{trades}} WHERE {RANGE} GROUP BY symbol ORDER BY SUM(quantity) DESC, symbol LIMIT 4", postgres_oracle=True, ordered=True),
    Fold("count_distinct", in_source=True, sql=f"SELECT side, COUNT(DISTINCT symbol) AS symbols, COUNT(*) AS n, SUM(DISTINCT quantity) AS dq FROM {{trades}} WHERE {RANGE} GROUP BY side", postgres_oracle=True),
    Fold("count_distinct_without_group", in_source=True, sql=f"SELECT COUNT(DISTINCT venue) AS venues, AVG(DISTINCT quantity) AS aq FROM {{trades}} WHERE {RANGE}", postgres_oracle=True),
    Fold("filter_clause", f"SELECT side, COUNT(*) FILTER (WHERE quantity > 50) AS big, SUM(price) FILTER (WHERE venue = 'XNAS') AS nas, AVG(quantity) FILTER (WHERE price < 100) AS cheap FROM {{trades}} WHERE {RANGE} GROUP BY side", postgres_oracle=True),
    Fold("group_by_expression", f"SELECT EXTRACT(MONTH FROM trade_date) AS m, COUNT(*) AS n, SUM(quantity) AS q FROM {{trades}} WHERE {RANGE} GROUP BY EXTRACT(MONTH FROM trade_date)"),
    Fold("key_inside_an_expression", f"SELECT quantity % 7 + 1 AS k, COUNT(*) * 2 AS n2, MAX(price) - MIN(price) AS spread FROM {{trades}} WHERE {RANGE} GROUP BY quantity % 7"),
    Fold("group_without_aggregates", in_source=True, sql=f"SELECT venue FROM {{trades}} WHERE {RANGE} GROUP BY venue", postgres_oracle=True),
    Fold("distinct_over_groups", in_source=True, sql=f"SELECT DISTINCT COUNT(*) > 0 AS any_rows FROM {{trades}} WHERE {RANGE} GROUP BY symbol", postgres_oracle=True),
    Fold("empty_range", "SELECT COUNT(*) AS n, SUM(quantity) AS q, MAX(price) AS hi, COUNT(DISTINCT symbol) AS s FROM {trades} WHERE trade_date BETWEEN '1990-01-01' AND '1990-03-31'"),
    Fold("case_sensitive_filter_widened_on_mariadb", in_source=True, sql=f"SELECT COUNT(*) AS n, SUM(quantity) AS q FROM {{trades}} WHERE side = 'buy' AND {RANGE}", postgres_oracle=True),
    Fold("not_foldable_stddev", f"SELECT side, STDDEV_SAMP(quantity) AS sd, COUNT(*) AS n FROM {{trades}} WHERE {RANGE} GROUP BY side", folds=False, postgres_oracle=True, unsplit_whole=True),
    Fold("not_foldable_window", f"SELECT side, SUM(quantity) AS q, RANK() OVER (ORDER BY SUM(quantity)) AS r FROM {{trades}} WHERE {RANGE} GROUP BY side", folds=False, postgres_oracle=True),
    Fold("not_foldable_kept_back", f"SELECT COUNT(*) AS n FROM {{trades}} WHERE {RANGE} AND quantity IN (SELECT quantity FROM {{trades}} WHERE trade_date = '2024-01-02')", folds=False),
)



@pytest.mark.parametrize("kind", KIND_PARAMS)
@pytest.mark.parametrize("case", FOLDS, ids=[c.name for c in FOLDS])
def test_folded_equals_oracle(
    case: Fold,
    kind: str,
    corpus: CorpusSource,
    corpus_connect: Callable[..., piot.Connection],
    request: pytest.FixtureRequest,
    ray_session: None,
) -> None:
    oracle = request.getfixturevalue("corpus_postgres") if case.postgres_oracle and kind == "mysql" else corpus
    expected = oracle.oracle(case.sql)
    sql = corpus.sql(case.sql)
    for label, connection in split_modes(corpus_connect, corpus):
        _, plan = connection.engine.plan(sql)
        kinds = {scan.output.kind for scan in plan.scans}
        expected_kind = PARTIAL_AGGREGATE if case.folds else WHOLE_GROUPS if case.unsplit_whole and label == "unsplit" else "rows"
        assert kinds == {expected_kind}, f"{label}: fragments ship {kinds}"
        in_source = {scan.output.in_source for scan in plan.scans}
        assert in_source == {case.in_source and kind == "postgres"}, f"{label}: computed in the source: {in_source}"
        assert_same(answer_of(connection, sql), expected, f"{label} on {kind}", ordered=case.ordered)


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_explain_shows_the_partial_work(kind: str, corpus: CorpusSource, corpus_connect: Callable[..., piot.Connection]) -> None:
    cursor = corpus_connect(corpus).cursor()
    cursor.execute("EXPLAIN " + corpus.sql(f"SELECT symbol, SUM(quantity) AS q FROM {{trades}} WHERE {RANGE} GROUP BY symbol"))
    rows = cursor.fetchall()
    fragments = [row for row in rows if row[0] == "fragment"]
    assert len(fragments) == 6
    names = [d[0] for d in cursor.description]
    sql, task = names.index("sql"), names.index("task")
    if kind == "postgres":  # the source groups: its SQL holds the GROUP BY
        assert all("the source computed the partial aggregate" in row[task] and "GROUP BY" in row[sql] for row in fragments), fragments[0]
    else:
        assert all("partial aggregate in Polars" in row[task] and "GROUP BY" in row[task] for row in fragments), fragments[0]
    assert "__piot_p0" in rows[-1][sql]


@dataclass(frozen=True)
class Whole:
    """An aggregation with a non-decomposable aggregate; ``ships`` per mode: what its fragments ship."""

    name: str
    sql: str
    ships: dict[str, str]


WHOLE = (
    Whole(
        "median_by_split_column",
        f"SELECT trade_date, COUNT(*) AS n, STDDEV_SAMP(price) AS med FROM {{trades}} WHERE {RANGE} GROUP BY trade_date ORDER BY med DESC, trade_date LIMIT 9",
        {"split monthly": WHOLE_GROUPS, "split daily": WHOLE_GROUPS, "unsplit": WHOLE_GROUPS},
    ),
    Whole(
        "median_by_month",
        f"SELECT DATE_TRUNC('month', trade_date) AS m, STDDEV_SAMP(quantity) AS med FROM {{trades}} WHERE {RANGE} GROUP BY DATE_TRUNC('month', trade_date) HAVING COUNT(*) > 1",
        {"split monthly": WHOLE_GROUPS, "split daily": "rows", "unsplit": WHOLE_GROUPS},
    ),
    Whole(
        "median_by_other_key",
        f"SELECT side, STDDEV_SAMP(quantity) AS med FROM {{trades}} WHERE {RANGE} GROUP BY side",
        {"split monthly": "rows", "split daily": "rows", "unsplit": WHOLE_GROUPS},
    ),
)


@pytest.mark.parametrize("kind", KIND_PARAMS)
@pytest.mark.parametrize("case", WHOLE, ids=[c.name for c in WHOLE])
def test_whole_groups_equal_oracle(
    case: Whole,
    kind: str,
    corpus: CorpusSource,
    corpus_connect: Callable[..., piot.Connection],
    request: pytest.FixtureRequest,
    ray_session: None,
) -> None:
    """Where no group crosses fragments, each fragment runs the whole aggregation, whatever its aggregates."""
    # PostgreSQL answers for all (same rows): MariaDB gives STDDEV_SAMP fewer digits, DuckDB's date_trunc of a date has no zone
    oracle = request.getfixturevalue("corpus_postgres")
    expected = oracle.oracle(case.sql)
    sql = corpus.sql(case.sql)
    for label, connection in split_modes(corpus_connect, corpus):
        _, plan = connection.engine.plan(sql)
        assert {scan.output.kind for scan in plan.scans} == {case.ships[label]}, label
        assert_same(answer_of(connection, sql), expected, f"{label} on {kind}", ordered="ORDER BY" in case.sql)


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_the_driver_folds_partials_as_they_arrive(
    kind: str, corpus: CorpusSource, corpus_connect: Callable[..., piot.Connection], ray_session: None
) -> None:
    """182 daily fragments' partial groups are folded on arrival: the driver keeps a few frames, and the answer is the source's."""
    template = f"SELECT side, COUNT(*) AS n, SUM(quantity) AS q, MIN(trade_id) AS lo FROM {{trades}} WHERE {RANGE} GROUP BY side"
    connection = corpus_connect(corpus, time_unit="daily")
    _, plan = connection.engine.plan(corpus.sql(template))
    (scan,) = plan.scans
    assert scan.output.combine_sql is not None and len(scan.fragments) == 182
    held = execute_scans(plan.scans)[scan.name]
    assert len(held) < FOLD_FRAMES  # never more frames than the fold threshold, whatever the fragments
    assert sum(frame.height for frame in held) < sum(1 for _ in scan.fragments)
    expected = corpus.oracle(template)
    assert_same(answer_of(connection, corpus.sql(template)), expected, f"daily on {kind}")

