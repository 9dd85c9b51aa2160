"""The central invariant: split execution == unsplit execution == the source answering itself.

Every query of the corpus runs on SQLite, PostgreSQL and MariaDB over the same rows: split
monthly (and daily for short ranges), unsplit, and by the oracle (the server itself; DuckDB
over the same rows for SQLite, whose text dates are not the typed answer). Results are
compared after sorting, with floats to a relative tolerance, column names and order included.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from corpus_data import KIND_MARKS, KIND_PARAMS, KINDS, CorpusSource, answer_from_arrow, assert_same

import piot


@dataclass(frozen=True)
class Case:
    """One corpus query (PostgreSQL dialect; ``{trades}`` splits on trade_date, ``{trades_ts}`` on ts).

    Attributes:
        name: the test id.
        sql: the query template.
        params: qmark parameters.
        daily: also run split daily (short ranges only).
        ordered: the query's ORDER BY makes the row order part of the answer.
        fragments: the number of fragments a monthly split must produce (checked via EXPLAIN).
        daily_fragments: the same for a daily split.
        empty: the answer has no rows (otherwise an empty answer is a mistake in the corpus).
        postgres_oracle: the query means something else to MariaDB (its collation ignores case,
            it compares a DATE with text as a DATETIME); piot answers as PostgreSQL does, so for
            MariaDB the oracle is PostgreSQL over the same rows.
    """

    name: str
    sql: str
    params: tuple[Any, ...] = ()
    daily: bool = False
    ordered: bool = False
    fragments: int | None = None
    daily_fragments: int | None = None
    empty: bool = False
    postgres_oracle: bool = False


ROWS = "SELECT trade_id, trade_date, ts, symbol, side, price, quantity, venue FROM "

CASES: tuple[Case, ...] = (
    # -- date bounds of every form -----------------------------------------------------
    Case("between_strings", ROWS + "{trades} WHERE trade_date BETWEEN '2023-11-01' AND '2024-04-30'", fragments=6),
    Case(
        "gte_lt_month_edges",
        "SELECT COUNT(*) AS n, SUM(quantity) AS qty FROM {trades} WHERE trade_date >= '2023-12-01' AND trade_date < '2024-03-01'",
        fragments=3,
    ),
    Case("gt_lte_leap_day", ROWS + "{trades} WHERE trade_date > '2023-11-30' AND trade_date <= '2024-02-29'", fragments=4),
    Case(
        "gt_lt_year_end",
        ROWS + "{trades} WHERE trade_date > '2023-12-31' AND trade_date < '2024-02-01'",
        fragments=2,
        daily=True,
        daily_fragments=32,
    ),
    Case("lte_gte_reversed_operands", ROWS + "{trades} WHERE '2024-01-31' >= trade_date AND '2023-12-31' <= trade_date", fragments=2),
    Case("equals_leap_day", ROWS + "{trades} WHERE trade_date = '2024-02-29'", fragments=1, daily=True, daily_fragments=1),
    Case(
        "date_literals",
        ROWS + "{trades} WHERE trade_date >= DATE '2024-01-01' AND trade_date <= DATE '2024-01-31'",
        fragments=1,
        daily=True,
        daily_fragments=31,
    ),
    Case(
        "timestamp_literals_on_date",
        ROWS + "{trades} WHERE trade_date >= TIMESTAMP '2024-02-01 00:00:00' AND trade_date < TIMESTAMP '2024-03-01 00:00:00'",
        fragments=1,
    ),
    Case(
        "cast_as_date",
        ROWS + "{trades} WHERE trade_date BETWEEN CAST('2023-12-15' AS DATE) AND CAST('2024-01-15' AS DATE)",
        fragments=2,
        daily=True,
        daily_fragments=32,
    ),
    Case(
        "pg_cast_date",
        ROWS + "{trades} WHERE trade_date >= '2024-03-01'::date AND trade_date < '2024-04-01'::date",
        fragments=1,
        daily=True,
        daily_fragments=31,
    ),
    Case(
        "ts_lte_date_means_midnight",
        ROWS + "{trades_ts} WHERE ts >= '2024-03-01' AND ts <= '2024-03-31'",
        fragments=1,
        daily=True,
        daily_fragments=31,  # the last one is the instant [03-31 00:00, 03-31 00:00]
    ),
    Case(
        "ts_fractional_bounds",
        ROWS + "{trades_ts} WHERE ts > '2024-02-29 23:59:59.999999' AND ts < '2024-03-31 00:00:00.000001'",
        fragments=2,
    ),
    Case(
        "ts_timestamp_literals_year_end",
        ROWS + "{trades_ts} WHERE ts >= TIMESTAMP '2023-12-31 23:59:59.999999' AND ts < TIMESTAMP '2024-01-01 00:00:00.000001'",
        fragments=2,
        daily=True,
        daily_fragments=2,
    ),
    Case("ts_between_dates", ROWS + "{trades_ts} WHERE ts BETWEEN DATE '2024-01-01' AND DATE '2024-02-01'", fragments=2),
    Case(
        "ts_cast_timestamp",
        ROWS + "{trades_ts} WHERE ts >= CAST('2024-01-31 12:00:00' AS TIMESTAMP) AND ts < CAST('2024-02-02' AS TIMESTAMP)",
        fragments=2,
        daily=True,
        daily_fragments=2,
    ),
    Case("ts_equals_midnight", ROWS + "{trades_ts} WHERE ts = '2024-03-31'", fragments=1),
    Case("ts_equals_fraction", ROWS + "{trades_ts} WHERE ts = '2024-03-01 00:00:00.000001'", fragments=1),
    Case(
        "ts_exclusive_month_edges",
        "SELECT COUNT(*) AS n, MIN(ts) AS first_ts, MAX(ts) AS last_ts FROM {trades_ts} "
        "WHERE ts > '2023-11-30 23:59:59.999999' AND ts < '2024-03-01'",
        fragments=4,
    ),
    Case(
        "or_adjacent_ranges",
        ROWS + "{trades} WHERE (trade_date >= '2023-12-01' AND trade_date < '2024-01-01') "
        "OR (trade_date >= '2024-01-01' AND trade_date <= '2024-01-31')",
        fragments=2,
    ),
    Case(
        "or_with_gap_unsplit",
        ROWS + "{trades} WHERE trade_date BETWEEN '2023-11-01' AND '2023-11-30' OR trade_date BETWEEN '2024-02-01' AND '2024-02-29'",
        fragments=1,
    ),
    Case(
        "not_comparisons",
        ROWS + "{trades} WHERE NOT (trade_date < '2024-01-01') AND NOT (trade_date >= '2024-03-01')",
        fragments=2,
    ),
    # closed with the largest value from the source (May 2024): April, then May onwards, open-ended
    Case("one_sided_closed_by_the_data", ROWS + "{trades} WHERE trade_date >= '2024-04-01'", fragments=2),
    Case(
        "no_where",
        "SELECT COUNT(*) AS n, COUNT(trade_date) AS dated, COUNT(ts) AS stamped, COUNT(venue) AS with_venue FROM {trades}",
        fragments=1,
    ),
    Case("empty_range_rows", ROWS + "{trades} WHERE trade_date >= '2024-03-01' AND trade_date < '2024-02-01'", empty=True),
    Case(
        "empty_range_aggregates",
        "SELECT COUNT(*) AS n, SUM(price) AS total, MIN(trade_date) AS first_day FROM {trades} "
        "WHERE trade_date > '2024-02-29' AND trade_date < '2024-03-01'",
    ),
    Case(
        "whole_data_monthly",
        "SELECT COUNT(*) AS n, SUM(price * quantity) AS notional FROM {trades} WHERE trade_date BETWEEN '2023-10-01' AND '2024-05-31'",
        fragments=8,
    ),
    Case(
        "not_equal_inside_range",
        ROWS + "{trades} WHERE trade_date <> '2024-02-29' AND trade_date BETWEEN '2024-02-28' AND '2024-03-01'",
        daily=True,
        daily_fragments=3,
    ),
    Case("in_list_of_dates_unsplit", ROWS + "{trades} WHERE trade_date IN ('2024-01-01', '2024-02-29', '2024-03-31')", fragments=1),
    Case(
        "both_columns_bounded",
        ROWS + "{trades} WHERE trade_date BETWEEN '2024-01-01' AND '2024-01-31' AND ts < '2024-01-15'",
        fragments=1,
    ),
    # -- aggregates ----------------------------------------------------------------------
    Case(
        "group_by_symbol",
        "SELECT symbol, COUNT(*) AS n, COUNT(venue) AS with_venue, SUM(quantity) AS qty, MIN(price) AS lo, "
        "MAX(price) AS hi, AVG(price) AS avg_price FROM {trades} WHERE trade_date BETWEEN '2023-11-15' AND '2024-03-15' GROUP BY symbol",
    ),
    Case(
        "min_max_dates",
        "SELECT side, MIN(trade_date) AS first_day, MAX(trade_date) AS last_day, MIN(ts) AS first_ts, MAX(ts) AS last_ts "
        "FROM {trades} WHERE trade_date >= '2023-11-01' AND trade_date < '2024-05-01' GROUP BY side",
    ),
    Case(
        "count_distinct",
        "SELECT venue, COUNT(DISTINCT symbol) AS symbols, COUNT(DISTINCT trade_date) AS days FROM {trades} "
        "WHERE trade_date BETWEEN '2023-12-01' AND '2024-02-29' GROUP BY venue",
    ),
    Case(
        "having",
        "SELECT symbol, side, SUM(quantity) AS qty, COUNT(*) AS n FROM {trades} WHERE trade_date BETWEEN '2024-01-01' AND '2024-03-31' "
        "GROUP BY symbol, side HAVING SUM(quantity) > 19000 AND COUNT(*) >= 30",
    ),
    Case("distinct", "SELECT DISTINCT symbol, side FROM {trades} WHERE trade_date >= '2024-02-01' AND trade_date < '2024-04-01'"),
    Case(
        "group_by_day",
        "SELECT trade_date, COUNT(*) AS n, SUM(price * quantity) AS notional, AVG(price) AS avg_price FROM {trades} "
        "WHERE trade_date BETWEEN '2024-02-25' AND '2024-03-05' GROUP BY trade_date",
        daily=True,
        daily_fragments=10,
    ),
    Case(
        "group_by_month_extract",
        "SELECT EXTRACT(YEAR FROM trade_date) AS y, EXTRACT(MONTH FROM trade_date) AS m, COUNT(*) AS n FROM {trades} "
        "WHERE trade_date BETWEEN '2023-11-01' AND '2024-04-30' GROUP BY EXTRACT(YEAR FROM trade_date), EXTRACT(MONTH FROM trade_date)",
    ),
    Case(
        "aggregates_on_ts_split",
        "SELECT symbol, COUNT(*) AS n, COUNT(trade_date) AS dated, MAX(ts) AS last_ts FROM {trades_ts} "
        "WHERE ts >= '2024-01-15' AND ts < '2024-03-15' GROUP BY symbol",
    ),
    # -- ORDER BY, LIMIT, OFFSET -----------------------------------------------------------
    Case(
        "top_n",
        "SELECT trade_id, trade_date, price FROM {trades} WHERE trade_date BETWEEN '2023-11-01' AND '2024-04-30' "
        "ORDER BY price DESC, trade_id LIMIT 10",
        ordered=True,
    ),
    Case(
        "limit_offset",
        "SELECT trade_id, trade_date, symbol FROM {trades} WHERE trade_date >= '2023-12-20' AND trade_date < '2024-01-10' "
        "ORDER BY trade_date, trade_id LIMIT 15 OFFSET 20",
        ordered=True,
        daily=True,
    ),
    Case(
        "order_by_ts_desc",
        "SELECT trade_id, ts FROM {trades_ts} WHERE ts BETWEEN '2024-02-28' AND '2024-03-02' ORDER BY ts DESC, trade_id LIMIT 25",
        ordered=True,
        daily=True,
    ),
    # -- expressions and functions ---------------------------------------------------------
    Case(
        "select_expressions",
        "SELECT trade_id, price * quantity AS notional, quantity + 1 AS q_plus, quantity - 5 AS q_minus, -price AS neg, "
        "CASE WHEN side = 'BUY' THEN quantity ELSE -quantity END AS signed_qty, COALESCE(venue, 'NONE') AS venue_or_none, "
        "LOWER(symbol) AS sym_lower, UPPER(LOWER(side)) AS side_upper, ROUND(price) AS rounded "
        "FROM {trades} WHERE trade_date BETWEEN '2024-01-20' AND '2024-02-10'",
    ),
    # -- other filters with date bounds ----------------------------------------------------
    Case("in_list", ROWS + "{trades} WHERE symbol IN ('AAPL', 'MSFT', 'ORCL') AND trade_date BETWEEN '2024-01-01' AND '2024-02-29'"),
    Case("not_in_list", ROWS + "{trades} WHERE venue NOT IN ('XNYS', 'BATS') AND trade_date BETWEEN '2024-03-01' AND '2024-03-31'"),
    Case("like", ROWS + "{trades} WHERE symbol LIKE 'A%' AND trade_date >= '2023-11-15' AND trade_date < '2024-01-15'"),
    Case("is_null_venue", ROWS + "{trades} WHERE venue IS NULL AND trade_date BETWEEN '2023-12-01' AND '2024-03-31'"),
    Case("is_null_ts", ROWS + "{trades} WHERE ts IS NULL AND trade_date BETWEEN '2023-11-01' AND '2024-04-30'"),
    Case("null_date_on_ts_split", ROWS + "{trades_ts} WHERE trade_date IS NULL AND ts >= '2024-01-01' AND ts < '2024-05-01'"),
    Case(
        "other_columns",
        ROWS + "{trades} WHERE price > 300 AND quantity <= 500 AND side = 'SELL' AND trade_date >= '2024-01-01' "
        "AND trade_date < '2024-04-01'",
    ),
    Case(
        "or_on_other_columns",
        ROWS + "{trades} WHERE (symbol = 'IBM' OR quantity > 990) AND trade_date BETWEEN '2023-11-01' AND '2024-04-30'",
    ),
    # -- parameters -------------------------------------------------------------------------
    Case(
        "params_dates",
        ROWS + "{trades} WHERE trade_date >= ? AND trade_date < ?",
        params=(dt.date(2024, 1, 1), dt.date(2024, 3, 1)),
        fragments=2,
    ),
    Case(
        "params_strings_and_value",
        "SELECT symbol, SUM(quantity) AS qty FROM {trades} WHERE trade_date BETWEEN ? AND ? AND quantity > ? GROUP BY symbol",
        params=("2023-12-01", "2024-01-15", 100),
        fragments=2,
    ),
    Case(
        "params_timestamps",
        ROWS + "{trades_ts} WHERE ts >= ? AND ts <= ?",
        params=(dt.datetime(2024, 2, 29), dt.datetime(2024, 3, 1, 0, 0, 0, 1)),
        fragments=2,
        daily=True,
        daily_fragments=2,
    ),
    # -- subqueries, CTEs, joins, set operations -------------------------------------------
    Case(
        "subquery_in_from",
        "SELECT band, COUNT(*) AS n, SUM(quantity) AS qty FROM (SELECT CASE WHEN price >= 300 THEN 'HIGH' ELSE 'LOW' END AS band, "
        "quantity FROM {trades} WHERE trade_date BETWEEN '2023-12-01' AND '2024-02-29') AS t GROUP BY band",
        fragments=3,
    ),
    Case(
        "cte",
        "WITH recent AS (SELECT symbol, price, quantity FROM {trades} WHERE trade_date >= '2024-02-01' AND trade_date < '2024-04-01') "
        "SELECT symbol, SUM(price * quantity) AS notional, COUNT(*) AS n FROM recent GROUP BY symbol",
        fragments=2,
    ),
    Case(
        "join_symbols",
        "SELECT s.sector, COUNT(*) AS n, SUM(t.quantity) AS qty FROM {trades} AS t JOIN {symbols} AS s ON t.symbol = s.symbol "
        "WHERE t.trade_date BETWEEN '2024-01-01' AND '2024-02-29' GROUP BY s.sector",
    ),
    Case(
        "left_join_symbols",
        "SELECT t.trade_id, t.symbol, s.sector, s.listed_on FROM {trades} AS t LEFT JOIN {symbols} AS s ON t.symbol = s.symbol "
        "WHERE t.trade_date >= '2024-03-30' AND t.trade_date < '2024-04-02'",
        daily=True,
    ),
    Case(
        "join_filter_on_dimension",
        "SELECT t.trade_id, t.trade_date, s.sector FROM {trades} AS t JOIN {symbols} AS s ON t.symbol = s.symbol "
        "WHERE s.listed_on < '2000-01-01' AND t.trade_date BETWEEN '2024-04-01' AND '2024-04-30'",
    ),
    Case(
        "union_all_two_ranges",
        "SELECT trade_id, trade_date FROM {trades} WHERE trade_date BETWEEN '2023-11-01' AND '2023-11-05' "
        "UNION ALL SELECT trade_id, trade_date FROM {trades} WHERE trade_date BETWEEN '2024-04-25' AND '2024-04-30'",
        daily=True,
    ),
    # -- more shapes of the same bounds --------------------------------------------------------
    Case(
        "redundant_bounds_intersect",
        ROWS + "{trades} WHERE trade_date >= '2024-01-01' AND trade_date < '2024-03-01' AND trade_date >= '2024-01-15' "
        "AND trade_date <= '2024-02-29'",
        fragments=2,
    ),
    Case("between_reversed_is_empty", ROWS + "{trades} WHERE trade_date BETWEEN '2024-03-01' AND '2024-02-01'", empty=True),
    Case(
        "interval_arithmetic",
        ROWS + "{trades} WHERE trade_date >= DATE '2024-01-31' + INTERVAL '1' MONTH AND trade_date < DATE '2024-03-01' + INTERVAL '2' DAY",
        fragments=2,
    ),
    Case(
        "table_alias_qualified",
        ROWS + "{trades} AS t WHERE t.trade_date BETWEEN '2024-04-01' AND '2024-04-30' AND t.side = 'BUY'",
        fragments=1,
    ),
    Case(
        "quoted_and_upper_case_names",
        'SELECT COUNT(*) AS n, SUM("quantity") AS qty FROM {trades} WHERE TRADE_DATE >= \'2023-11-01\' AND "trade_date" < \'2024-01-01\'',
        fragments=2,
    ),
    Case("ts_bound_on_date_split_source", ROWS + "{trades} WHERE ts >= '2024-01-01' AND ts < '2024-01-03'", fragments=1),
    Case(
        "ts_zero_fraction_and_t_separator",
        ROWS + "{trades_ts} WHERE ts >= '2024-03-01 00:00:00.000000' AND ts < '2024-03-02T00:00:00'",
        fragments=1,
        daily=True,
        daily_fragments=1,
    ),
    Case(
        "distinct_dates_on_ts_split",
        "SELECT DISTINCT trade_date FROM {trades_ts} WHERE ts >= '2024-01-01' AND ts < '2024-01-08'",
        daily=True,
    ),
    # -- more query shapes ----------------------------------------------------------------------
    Case(
        "bound_outside_the_subquery",
        "SELECT t.trade_id, t.trade_date FROM (SELECT trade_id, trade_date FROM {trades}) AS t "
        "WHERE t.trade_date BETWEEN '2024-02-27' AND '2024-03-02'",
    ),
    Case(
        "in_subquery",
        ROWS + "{trades} WHERE symbol IN (SELECT symbol FROM {symbols} WHERE sector = 'TECH') "
        "AND trade_date BETWEEN '2024-01-10' AND '2024-02-10'",
        daily=True,
    ),
    Case(
        "correlated_exists",
        ROWS + "{trades} AS t WHERE EXISTS (SELECT 1 FROM {symbols} AS s WHERE s.symbol = t.symbol AND s.sector = 'COMM') "
        "AND t.trade_date BETWEEN '2023-12-20' AND '2024-01-10'",
    ),
    Case(
        "nulls_first_limit",
        "SELECT trade_id, venue FROM {trades} WHERE trade_date BETWEEN '2024-01-01' AND '2024-03-31' "
        "ORDER BY venue NULLS FIRST, trade_id LIMIT 30",
        ordered=True,
    ),
    Case(
        "desc_nulls_last_limit",
        "SELECT trade_id, venue FROM {trades} WHERE trade_date BETWEEN '2024-01-01' AND '2024-03-31' "
        "ORDER BY venue DESC NULLS LAST, trade_id DESC LIMIT 30 OFFSET 5",
        ordered=True,
    ),
    Case(
        "string_concat_and_min_max_text",
        "SELECT symbol || '-' || side AS sym_side, MIN(venue) AS first_venue, MAX(venue) AS last_venue, COUNT(*) AS n FROM {trades} "
        "WHERE trade_date BETWEEN '2023-11-01' AND '2023-12-31' GROUP BY symbol || '-' || side",
    ),
    Case(
        "cte_used_twice",
        "WITH jan AS (SELECT symbol, quantity FROM {trades} WHERE trade_date >= '2024-01-01' AND trade_date < '2024-02-01') "
        "SELECT a.symbol, a.qty, b.n FROM (SELECT symbol, SUM(quantity) AS qty FROM jan GROUP BY symbol) AS a "
        "JOIN (SELECT symbol, COUNT(*) AS n FROM jan GROUP BY symbol) AS b ON a.symbol = b.symbol",
    ),
    Case(
        "ordered_groups",
        "SELECT side, symbol, COUNT(*) AS n FROM {trades} WHERE trade_date BETWEEN '2024-03-01' AND '2024-04-30' "
        "GROUP BY side, symbol ORDER BY side, symbol",
        ordered=True,
    ),
    Case(
        "window_function",
        "SELECT trade_id, symbol, SUM(quantity) OVER (PARTITION BY symbol) AS symbol_qty FROM {trades} "
        "WHERE trade_date BETWEEN '2024-02-01' AND '2024-02-29'",
    ),
    # -- bounds mixed with other logic -----------------------------------------------------------
    Case(
        "date_vs_fractional_timestamp_literals",
        ROWS + "{trades} WHERE trade_date > TIMESTAMP '2024-02-28 12:00:00' AND trade_date < TIMESTAMP '2024-03-02 00:00:00.5'",
        fragments=2,
        daily=True,
        daily_fragments=3,
    ),
    Case("date_equals_noon_is_empty", ROWS + "{trades} WHERE trade_date = TIMESTAMP '2024-02-29 12:00:00'", empty=True),
    Case(
        "not_between_inside_range",
        ROWS + "{trades} WHERE trade_date BETWEEN '2024-01-01' AND '2024-03-31' AND trade_date NOT BETWEEN '2024-02-01' AND '2024-02-29'",
        fragments=3,
    ),
    Case(
        "or_is_null_unsplit",
        ROWS + "{trades} WHERE trade_date BETWEEN '2024-01-01' AND '2024-01-31' OR trade_date IS NULL",
        fragments=1,
    ),
    Case(
        "or_other_column_unsplit",
        ROWS + "{trades} WHERE trade_date BETWEEN '2024-04-01' AND '2024-04-30' OR quantity = 999",
        fragments=1,
    ),
    Case(
        "or_three_overlapping_ranges",
        ROWS + "{trades} WHERE trade_date BETWEEN '2023-11-20' AND '2023-12-10' OR trade_date BETWEEN '2023-12-05' AND '2023-12-31' "
        "OR (trade_date > '2023-12-31' AND trade_date < '2024-01-05')",
        fragments=3,
    ),
    Case(
        "coalesce_on_date_unsplit",
        ROWS + "{trades} WHERE COALESCE(trade_date, DATE '2024-01-15') BETWEEN '2024-01-14' AND '2024-01-16'",
        fragments=1,
    ),
    Case(
        "not_of_or_unsplit",
        ROWS + "{trades} WHERE NOT (trade_date < '2024-01-01' OR trade_date >= '2024-02-01')",
        fragments=1,
    ),
    Case(
        "ts_with_date_casts",
        ROWS + "{trades_ts} WHERE ts >= '2023-12-31'::date AND ts < '2024-01-01'::date",
        fragments=1,
        daily=True,
        daily_fragments=1,
    ),
    Case(
        "cast_ts_to_date_grouped",
        "SELECT CAST(ts AS DATE) AS day, COUNT(*) AS n, SUM(CASE WHEN CAST(ts AS DATE) <> trade_date THEN 1 ELSE 0 END) AS moved "
        "FROM {trades_ts} WHERE ts BETWEEN '2024-01-30' AND '2024-02-02' GROUP BY CAST(ts AS DATE)",
        daily=True,
    ),
    Case("relative_upper_bound", ROWS + "{trades} WHERE trade_date BETWEEN '2024-04-20' AND CURRENT_DATE"),
    Case("select_star", "SELECT * FROM {trades} WHERE trade_date >= '2024-02-28' AND trade_date < '2024-03-02'", daily=True),
    Case(
        "limit_in_subquery",
        "SELECT symbol, COUNT(*) AS n FROM (SELECT symbol FROM {trades} WHERE trade_date BETWEEN '2023-11-01' AND '2024-04-30' "
        "ORDER BY price DESC, trade_id LIMIT 40) AS top GROUP BY symbol",
    ),
    Case(
        "order_and_group_by_ordinals",
        "SELECT symbol, SUM(quantity) AS qty FROM {trades} WHERE trade_date BETWEEN '2024-01-01' AND '2024-04-30' "
        "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5",
        ordered=True,
    ),
    Case(
        "scalar_subquery_in_select",
        "SELECT trade_id, (SELECT COUNT(*) FROM {symbols}) AS listed FROM {trades} WHERE trade_date = '2024-01-01'",
    ),
    Case(
        "params_in_list",
        ROWS + "{trades} WHERE symbol IN (?, ?) AND trade_date BETWEEN ? AND ?",
        params=("NVDA", "META", dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
        fragments=1,
    ),
    Case(
        "date_comparisons_in_select",
        "SELECT trade_id, CASE WHEN trade_date < '2024-01-01' THEN 'OLD' ELSE 'NEW' END AS era, "
        "COALESCE(ts, CAST(trade_date AS TIMESTAMP)) AS stamp FROM {trades} WHERE trade_date BETWEEN '2023-12-30' AND '2024-01-02'",
        daily=True,
    ),
    Case("ts_split_not_null_date", ROWS + "{trades_ts} WHERE trade_date IS NOT NULL AND ts BETWEEN '2024-01-01' AND '2024-01-01 12:00:00'"),
    # -- joins and set operations with bounds on both sides ---------------------------------------
    Case(
        "left_join_bound_in_on",
        "SELECT s.symbol, COUNT(t.trade_id) AS n FROM {symbols} AS s LEFT JOIN {trades} AS t "
        "ON s.symbol = t.symbol AND t.trade_date BETWEEN '2024-01-01' AND '2024-01-31' GROUP BY s.symbol",
    ),
    Case(
        "right_join_padded_side",
        "SELECT s.symbol, t.trade_id FROM {trades} AS t RIGHT JOIN {symbols} AS s ON t.symbol = s.symbol AND t.trade_date = '2024-02-29'",
    ),
    Case(
        "self_join_two_ranges",
        "SELECT a.trade_date, COUNT(*) AS pairs FROM {trades} AS a JOIN {trades} AS b ON a.symbol = b.symbol "
        "AND a.trade_date = b.trade_date "
        "WHERE a.trade_date BETWEEN '2024-01-30' AND '2024-02-02' AND b.trade_date >= '2024-01-31' AND b.trade_date < '2024-02-03' "
        "GROUP BY a.trade_date",
        daily=True,
    ),
    Case(
        "except_and_union",
        "SELECT trade_id FROM {trades} WHERE trade_date BETWEEN '2024-01-01' AND '2024-01-10' "
        "EXCEPT SELECT trade_id FROM {trades} WHERE venue IS NULL AND trade_date BETWEEN '2024-01-05' AND '2024-01-20' "
        "UNION SELECT trade_id FROM {trades} WHERE trade_date = '2024-02-29'",
    ),
    Case(
        "in_subquery_same_table",
        ROWS + "{trades} WHERE trade_id IN (SELECT trade_id FROM {trades} WHERE trade_date = '2024-02-29' AND side = 'BUY') "
        "AND trade_date BETWEEN '2024-02-01' AND '2024-03-31'",
    ),
    Case(
        "correlated_scalar_subquery",
        "SELECT t.trade_id, t.price FROM {trades} AS t WHERE t.trade_date BETWEEN '2024-03-01' AND '2024-03-10' "
        "AND t.price > (SELECT AVG(u.price) * 1.5 FROM {trades} AS u WHERE u.symbol = t.symbol "
        "AND u.trade_date BETWEEN '2024-03-01' AND '2024-03-31')",
    ),
    Case("having_without_group_by", "SELECT COUNT(*) AS n FROM {trades} WHERE trade_date = '2024-01-01' HAVING COUNT(*) > 0"),
    Case(
        "limit_zero",
        "SELECT trade_id FROM {trades} WHERE trade_date BETWEEN '2024-01-01' AND '2024-01-31' ORDER BY trade_id LIMIT 0",
        empty=True,
    ),
    Case(
        "offset_past_the_end",
        "SELECT trade_id FROM {trades} WHERE trade_date = '2024-01-01' ORDER BY trade_id LIMIT 10 OFFSET 1000",
        empty=True,
    ),
    Case(
        "order_by_expression_not_selected",
        "SELECT trade_id FROM {trades} WHERE trade_date BETWEEN '2023-11-01' AND '2024-04-30' "
        "ORDER BY price * quantity DESC, trade_id LIMIT 7",
        ordered=True,
    ),
    # -- PostgreSQL meanings that MariaDB itself does not share: PostgreSQL answers for it -------
    Case(
        "like_is_case_sensitive",
        ROWS + "{trades} WHERE (symbol LIKE 'A%' OR symbol LIKE 'n%') AND trade_date BETWEEN '2024-01-01' AND '2024-01-31'",
        postgres_oracle=True,
    ),
    Case(
        "not_like_is_case_sensitive",
        ROWS + "{trades} WHERE symbol NOT LIKE 'a%' AND trade_date BETWEEN '2024-01-01' AND '2024-01-05'",
        postgres_oracle=True,
        daily=True,
    ),
    Case(
        "equals_is_case_sensitive",
        "SELECT COUNT(*) AS n FROM {trades} WHERE side = 'buy' AND trade_date BETWEEN '2024-01-01' AND '2024-01-31'",
        postgres_oracle=True,
    ),
    Case(
        "not_equal_is_case_sensitive",
        "SELECT side, COUNT(*) AS n FROM {trades} WHERE side <> 'buy' AND trade_date BETWEEN '2024-01-01' AND '2024-02-29' GROUP BY side",
        postgres_oracle=True,
    ),
    Case(
        "in_lists_are_case_sensitive",
        ROWS + "{trades} WHERE symbol IN ('aapl', 'MSFT') AND venue NOT IN ('xnys') AND trade_date BETWEEN '2024-03-01' AND '2024-03-31'",
        postgres_oracle=True,
    ),
    Case(
        "ts_text_with_utc_offset",
        ROWS + "{trades_ts} WHERE ts >= '2024-03-01 00:00:00+02' AND ts < '2024-03-01 01:00:00+02'",
        postgres_oracle=True,
        fragments=1,
    ),
    Case(
        "date_vs_timestamp_text",
        ROWS + "{trades} WHERE trade_date >= '2024-03-10 12:00:00' AND trade_date < '2024-03-20'",
        postgres_oracle=True,
    ),
)

CASES_BY_NAME = {case.name: case for case in CASES}
assert len(CASES_BY_NAME) == len(CASES), "case names must be unique"

#: (case, kind) -> a known piot bug that makes it fail; each is an xfail(strict=True).
KNOWN_BUGS: dict[tuple[str, str], str] = {}


def _params(cases: tuple[Case, ...], known_bugs: dict[tuple[str, str], str] | None = None) -> list[Any]:
    params = []
    for case in cases:
        for kind in KINDS:
            reason = (known_bugs or {}).get((case.name, kind))
            marks = KIND_MARKS[kind] + ([pytest.mark.xfail(strict=True, reason=reason)] if reason else [])
            params.append(pytest.param(case, kind, marks=marks, id=f"{case.name}-{kind}"))
    return params


def _run(connection: piot.Connection, sql: str, params: tuple[Any, ...]) -> Any:
    cursor = connection.cursor()
    cursor.execute(sql, list(params) if params else None)
    return answer_from_arrow(cursor.fetch_arrow())


@pytest.mark.parametrize(("case", "kind"), _params(CASES, KNOWN_BUGS))
def test_split_equals_unsplit_equals_oracle(
    case: Case,
    kind: str,
    corpus: CorpusSource,
    corpus_connect: Callable[..., piot.Connection],
    request: pytest.FixtureRequest,
    ray_session: None,
) -> None:
    oracle = request.getfixturevalue("corpus_postgres") if case.postgres_oracle and kind == "mysql" else corpus
    expected = oracle.oracle(case.sql, case.params)
    assert (len(expected.rows) == 0) == case.empty, f"the oracle gave {len(expected.rows)} rows"
    sql = corpus.sql(case.sql)
    modes = [("split monthly", corpus_connect(corpus)), ("unsplit", corpus_connect(corpus, split=False))]
    if case.daily:
        modes.append(("split daily", corpus_connect(corpus, time_unit="daily")))
    for label, connection in modes:
        assert_same(_run(connection, sql, case.params), expected, f"{label} on {kind}", ordered=case.ordered)


def _fragment_rows(connection: piot.Connection, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    cursor = connection.cursor()
    cursor.execute("EXPLAIN " + sql, list(params) if params else None)
    return [row for row in cursor.fetchall() if row[0] == "fragment"]


COUNTED = tuple(c for c in CASES if c.fragments is not None or c.daily_fragments is not None)


@pytest.mark.parametrize(("case", "kind"), _params(COUNTED))
def test_explain_counts_fragments(
    case: Case, kind: str, corpus: CorpusSource, corpus_connect: Callable[..., piot.Connection]
) -> None:
    sql = corpus.sql(case.sql)
    if case.fragments is not None:
        rows = _fragment_rows(corpus_connect(corpus), sql, case.params)
        assert len(rows) == case.fragments, [r[2:4] for r in rows]
        assert all(row[1] in (corpus.name, f"{corpus.name}_ts") for row in rows)
    if case.daily_fragments is not None:
        rows = _fragment_rows(corpus_connect(corpus, time_unit="daily"), sql, case.params)
        assert len(rows) == case.daily_fragments, [r[2:4] for r in rows]
    assert len(_fragment_rows(corpus_connect(corpus, split=False), sql, case.params)) == 1


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_explain_periods_of_a_monthly_split(kind: str, corpus: CorpusSource, corpus_connect: Callable[..., piot.Connection]) -> None:
    rows = _fragment_rows(corpus_connect(corpus), corpus.sql(CASES_BY_NAME["gt_lte_leap_day"].sql), ())
    assert [(r[2], r[3]) for r in rows] == [
        ("2023-11-30", "2023-12-01"),
        ("2023-12-01", "2024-01-01"),
        ("2024-01-01", "2024-02-01"),
        ("2024-02-01", "2024-02-29"),
    ]
    assert "(2023-11-30, 2023-12-01)" in rows[0][5] and "[2024-02-01, 2024-02-29]" in rows[-1][5]
    assert all(r[4].upper().startswith("SELECT ") for r in rows)


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_unbounded_explains_why_it_is_not_split(
    kind: str, corpus: CorpusSource, corpus_connect: Callable[..., piot.Connection]
) -> None:
    rows = _fragment_rows(corpus_connect(corpus), corpus.sql(CASES_BY_NAME["no_where"].sql), ())
    assert len(rows) == 1 and rows[0][2] is None and rows[0][3] is None
    assert "not split: WHERE has no bound on trade_date" in rows[0][5]


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_a_one_sided_bound_is_closed_by_the_data_and_left_open(
    kind: str, corpus: CorpusSource, corpus_connect: Callable[..., piot.Connection]
) -> None:
    rows = _fragment_rows(corpus_connect(corpus), corpus.sql(CASES_BY_NAME["one_sided_closed_by_the_data"].sql), ())
    assert [(r[2], r[3]) for r in rows] == [("2024-04-01", "2024-05-01"), ("2024-05-01", None)]
    assert "cut up to 2024-05-31, the largest value" in rows[0][5] and "[2024-05-01, infinity)" in rows[-1][5]


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_daily_split_of_inclusive_date_range_has_one_fragment_per_day(
    kind: str, corpus: CorpusSource, corpus_connect: Callable[..., piot.Connection]
) -> None:
    rows = _fragment_rows(corpus_connect(corpus, time_unit="daily"), corpus.sql(CASES_BY_NAME["date_literals"].sql), ())
    assert len(rows) == 31
    assert (rows[-1][2], rows[-1][3]) == ("2024-01-31", "2024-01-31")
