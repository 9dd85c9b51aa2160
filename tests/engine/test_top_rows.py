"""ORDER BY ... LIMIT ships each fragment's first rows only, ordered by the source where it orders as the merge does.

Every case runs split monthly, split daily and unsplit against the oracle (the source itself;
PostgreSQL, whose test database orders text by bytes, where MariaDB's collation orders text
otherwise), and its plan is checked: who orders (the source or the task) and how many rows
each fragment may ship.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from corpus_data import KIND_PARAMS, CorpusSource, answer_of, assert_same, split_modes

import piot
from piot.plan.top_rows import TOP_ROWS

RANGE = "trade_date BETWEEN '2023-11-01' AND '2024-04-30'"
COLUMNS = "SELECT trade_id, trade_date, ts, symbol, price, quantity FROM {trades}"


@dataclass(frozen=True)
class Top:
    """One ordered, limited query; ``in_source``: the kinds whose source orders it itself (None: the plan ships plain rows)."""

    name: str
    sql: str
    in_source: tuple[str, ...] | None = ()
    postgres_oracle: bool = False


TOPS = (
    Top("integers", f"{COLUMNS} WHERE {RANGE} ORDER BY quantity DESC, trade_id LIMIT 7", in_source=("postgres", "mysql")),
    Top("offset", f"{COLUMNS} WHERE {RANGE} ORDER BY trade_date, trade_id LIMIT 5 OFFSET 40", in_source=("postgres", "mysql")),
    Top("nulls_first", f"{COLUMNS} WHERE {RANGE} ORDER BY ts NULLS FIRST, trade_id DESC LIMIT 6", in_source=("postgres", "mysql")),
    Top("nulls_last_desc", f"{COLUMNS} WHERE {RANGE} ORDER BY ts DESC NULLS LAST, trade_id LIMIT 6", in_source=("postgres", "mysql")),
    Top("text_by_bytes", f"{COLUMNS} WHERE {RANGE} ORDER BY symbol DESC, trade_id LIMIT 9", in_source=("postgres",), postgres_oracle=True),
    Top("floats_in_the_task", f"{COLUMNS} WHERE {RANGE} ORDER BY price DESC, trade_id LIMIT 8"),
    Top("expression_in_the_task", f"SELECT trade_id, price * quantity AS value FROM {{trades}} WHERE {RANGE} ORDER BY value DESC, trade_id LIMIT 4"),
    Top("output_name_resolved", f"SELECT trade_id AS id, quantity AS q FROM {{trades}} WHERE {RANGE} ORDER BY q, id DESC LIMIT 3", in_source=("postgres", "mysql")),
    Top("widened_on_mariadb", f"{COLUMNS} WHERE side = 'buy' AND {RANGE} ORDER BY quantity, trade_id LIMIT 5", in_source=("postgres",), postgres_oracle=True),
    Top("limit_zero", f"{COLUMNS} WHERE {RANGE} ORDER BY trade_id LIMIT 0", in_source=("postgres", "mysql")),
    Top("kept_back_reads_rows", f"{COLUMNS} WHERE {RANGE} AND quantity IN (SELECT quantity FROM {{trades}} WHERE trade_date = '2024-01-02') ORDER BY trade_id LIMIT 5", in_source=None),
    Top("distinct_reads_rows", f"SELECT DISTINCT quantity FROM {{trades}} WHERE {RANGE} ORDER BY quantity LIMIT 5", in_source=None),
)



@pytest.mark.parametrize("kind", KIND_PARAMS)
@pytest.mark.parametrize("case", TOPS, ids=[c.name for c in TOPS])
def test_first_rows_equal_oracle(
    case: Top,
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
        scan = plan.scans[0]
        if case.in_source is None:
            assert scan.output.kind == "rows", label
        else:
            assert scan.output.kind == TOP_ROWS, label
            assert scan.output.in_source == (kind in case.in_source), f"{label}: ordered by the source: {scan.output.in_source}"
            if scan.output.in_source:
                assert all("LIMIT" in f.sql for f in scan.fragments), label
        assert_same(answer_of(connection, sql), expected, f"{label} on {kind}", ordered=True)
