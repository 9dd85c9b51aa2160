"""The SQL people really write, over the corpus tables: split == unsplit == the oracle.

test_corpus.py is about date bounds; this module is about query shapes and functions: CTEs,
subqueries of every kind, set operations, window functions, CASE/COALESCE/casts, string,
arithmetic and date functions, NULL ordering, LIMIT/OFFSET, DISTINCT and HAVING. Each query
runs on SQLite, PostgreSQL and MariaDB, split monthly (and daily for short ranges) and unsplit,
and must give the oracle's answer (DuckDB for SQLite, the server itself otherwise). Queries are
written in PostgreSQL's dialect and mean what PostgreSQL says they mean; where another oracle
reads them otherwise (DuckDB's ``/`` on integers, MariaDB's GROUP_CONCAT, DuckDB's default NULL
order, ...) PostgreSQL answers over the same rows instead.

The second half lists what piot cannot run: each must raise a PEP 249 error (mostly
``NotSupportedError``) whose message names the construct, never a wrong answer and never a
raw third-party exception.

Known piot bugs are ``xfail(strict=True)`` with the reason; each says what piot answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import pytest
from corpus_data import KIND_MARKS, KIND_PARAMS, KINDS, Answer, CorpusSource, answer_from_arrow, assert_same

import piot


@dataclass(frozen=True)
class Case:
    """One query template (PostgreSQL dialect; ``{trades}`` splits on trade_date, ``{trades_ts}`` on ts).

    Attributes:
        name: the test id.
        sql: the query template.
        daily: also run split daily (short ranges only: a daily split of months is slow).
        ordered: the ORDER BY determines the whole row order, which is compared too.
        pg_oracle: the kinds whose oracle reads this query otherwise than PostgreSQL does; for
            them PostgreSQL answers over the same rows.
        splits: the monthly (or daily) plan must have more fragments than the unsplit one, so
            that "split == unsplit" really compares two different executions.
        empty: the answer has no rows (otherwise an empty answer means the case tests nothing).
    """

    name: str
    sql: str
    daily: bool = False
    ordered: bool = False
    pg_oracle: tuple[str, ...] = ()
    splits: bool = True
    empty: bool = False


NOT_MARIADB = ("mysql",)
EVERY_KIND = KINDS

CASES: tuple[Case, ...] = (
    # -- CTEs ---------------------------------------------------------------------------------
    # the CTE body holds the bound: a planner that only looks at the outer WHERE would not split
    Case(
        "cte_plain_bound_inside",
        "WITH recent AS (SELECT symbol, quantity FROM {trades} WHERE trade_date BETWEEN '2024-01-10' AND '2024-03-20') SELECT "
        "symbol, SUM(quantity) AS qty, COUNT(*) AS n FROM recent GROUP BY symbol",
    ),
    # the same CTE on both sides of a join: both scans read the range, pairs within a day only
    Case(
        "cte_self_join",
        "WITH t AS (SELECT trade_id, symbol, trade_date FROM {trades} WHERE trade_date BETWEEN '2024-01-28' AND '2024-02-03') "
        "SELECT a.trade_date, COUNT(*) AS pairs FROM t AS a JOIN t AS b ON a.symbol = b.symbol AND a.trade_date = b.trade_date "
        "AND a.trade_id < b.trade_id GROUP BY a.trade_date",
        daily=True,
    ),
    # a CTE in FROM and again in a scalar subquery: the average must be over the whole range
    Case(
        "cte_in_from_and_subquery",
        "WITH t AS (SELECT trade_id, symbol, quantity FROM {trades} WHERE trade_date BETWEEN '2024-02-01' AND '2024-03-31') "
        "SELECT symbol, COUNT(*) AS above_avg FROM t WHERE quantity > (SELECT AVG(quantity) FROM t) GROUP BY symbol",
    ),
    # CTEs built on CTEs, with the month of the split column as a join key across fragments
    Case(
        "cte_chain",
        "WITH a AS (SELECT symbol, trade_date, quantity FROM {trades} WHERE trade_date BETWEEN '2023-12-01' AND "
        "'2024-02-29'), b AS (SELECT symbol, CAST(DATE_TRUNC('month', trade_date) AS DATE) AS m, SUM(quantity) AS qty FROM a "
        "GROUP BY symbol, CAST(DATE_TRUNC('month', trade_date) AS DATE)), c AS (SELECT m, MAX(qty) AS top FROM b GROUP BY m) "
        "SELECT b.m, b.symbol, b.qty FROM b JOIN c ON b.m = c.m AND b.qty = c.top",
    ),
    # a WITH inside a CTE body
    Case(
        "cte_nested_with",
        "WITH outer_cte AS (WITH inner_cte AS (SELECT symbol, price FROM {trades} WHERE trade_date BETWEEN '2024-03-01' AND "
        "'2024-04-30') SELECT symbol, MAX(price) AS hi, MIN(price) AS lo FROM inner_cte GROUP BY symbol) SELECT symbol, hi, lo "
        "FROM outer_cte WHERE hi > 590",
    ),
    # the bound is outside the CTE: the scan may only be split if the pushdown is sound
    Case(
        "cte_bound_outside",
        "WITH everything AS (SELECT * FROM {trades}) SELECT COUNT(*) AS n, SUM(quantity) AS qty, MIN(ts) AS first_ts FROM "
        "everything WHERE trade_date BETWEEN '2024-02-10' AND '2024-03-10'",
        splits=False,
    ),
    # a window inside an unbounded CTE, filtered outside: pushing the bound into the CTE would renumber rows
    Case(
        "cte_window_then_bound_outside",
        "WITH r AS (SELECT trade_id, trade_date, ROW_NUMBER() OVER (ORDER BY trade_date, trade_id) AS rn, LAG(trade_id) OVER "
        "(ORDER BY trade_date, trade_id) AS prev_id FROM {trades}) SELECT trade_id, rn, prev_id FROM r WHERE trade_date "
        "BETWEEN '2024-02-28' AND '2024-03-01'",
        splits=False,
    ),
    # a CTE named like the table's own name, next to a dimension CTE
    Case(
        "cte_shadowing_name_and_dimension",
        "WITH trades AS (SELECT trade_id, symbol FROM {trades} WHERE trade_date BETWEEN '2024-02-26' AND '2024-03-04'), s AS "
        "(SELECT symbol, sector FROM {symbols}) SELECT s.sector, COUNT(*) AS n FROM trades JOIN s ON s.symbol = trades.symbol "
        "GROUP BY s.sector",
        daily=True,
    ),
    # WITH RECURSIVE generating the calendar, LEFT JOINed to the split table (days without trades count 0)
    Case(
        "cte_recursive_calendar",
        "WITH RECURSIVE days(d) AS (SELECT DATE '2024-02-26' UNION ALL SELECT CAST(d + INTERVAL '1 day' AS DATE) FROM days "
        "WHERE d < DATE '2024-03-03') SELECT days.d, COUNT(t.trade_id) AS n FROM days LEFT JOIN (SELECT trade_id, trade_date "
        "FROM {trades} WHERE trade_date BETWEEN '2024-02-27' AND '2024-03-02') AS t ON t.trade_date = days.d GROUP BY days.d",
        daily=True,
    ),
    # -- subqueries --------------------------------------------------------------------------
    # an aggregate in FROM compared with the average of another aggregate in FROM
    Case(
        "subquery_in_from_vs_scalar",
        "SELECT m.symbol, m.qty FROM (SELECT symbol, SUM(quantity) AS qty FROM {trades} WHERE trade_date BETWEEN '2023-11-01' "
        "AND '2024-01-31' GROUP BY symbol) AS m WHERE m.qty > (SELECT AVG(x.qty) FROM (SELECT SUM(quantity) AS qty FROM "
        "{trades} WHERE trade_date BETWEEN '2023-11-01' AND '2024-01-31' GROUP BY symbol) AS x)",
    ),
    # a scalar subquery in WHERE over the same split range: the average of all months, not of one
    Case(
        "scalar_subquery_in_where",
        "SELECT trade_id, price FROM {trades} WHERE trade_date BETWEEN '2024-02-15' AND '2024-03-15' AND price > (SELECT "
        "AVG(price) + 200 FROM {trades} WHERE trade_date BETWEEN '2024-02-15' AND '2024-03-15')",
    ),
    # NOT IN a subquery (no NULLs in it) and IN a subquery over a different range of the same table
    Case(
        "in_and_not_in_subqueries",
        "SELECT trade_id, symbol FROM {trades} WHERE trade_date BETWEEN '2024-01-25' AND '2024-02-05' AND symbol NOT IN "
        "(SELECT symbol FROM {symbols} WHERE sector = 'TECH') AND venue IN (SELECT venue FROM {trades} WHERE trade_date "
        "BETWEEN '2024-03-01' AND '2024-03-02' AND quantity > 900)",
        daily=True,
    ),
    # NOT IN a subquery that yields a NULL: never true, so no rows (three-valued logic)
    Case(
        "not_in_subquery_with_null",
        "SELECT trade_id FROM {trades} WHERE trade_date BETWEEN '2024-01-01' AND '2024-02-29' AND venue NOT IN (SELECT venue "
        "FROM {trades} WHERE trade_date = '2024-02-29')",
        empty=True,
    ),
    # > ALL and = ANY over subqueries
    Case(
        "all_and_any_subqueries",
        "SELECT trade_id FROM {trades} WHERE trade_date BETWEEN '2024-01-15' AND '2024-02-15' AND quantity > ALL (SELECT "
        "quantity FROM {trades} WHERE trade_date = '2024-02-29' AND symbol = 'IBM') AND price < ANY (SELECT price FROM "
        "{trades} WHERE trade_date = '2024-02-29' AND side = 'SELL')",
    ),
    # uncorrelated scalar subquery in SELECT over a wider split range than the outer query
    Case(
        "scalar_subquery_in_select_uncorrelated",
        "SELECT trade_id, quantity, (SELECT MAX(quantity) FROM {trades} WHERE trade_date BETWEEN '2024-01-01' AND "
        "'2024-03-31') AS top FROM {trades} WHERE trade_date BETWEEN '2024-02-28' AND '2024-03-01'",
        daily=True,
    ),
    # correlated scalar subqueries in SELECT: a dimension lookup, and a count over the split table
    Case(
        "scalar_subquery_in_select_correlated",
        "SELECT s.symbol, (SELECT COUNT(*) FROM {trades} AS t WHERE t.symbol = s.symbol AND t.trade_date BETWEEN '2024-01-01' "
        "AND '2024-02-29') AS n, (SELECT MAX(t.price) FROM {trades} AS t WHERE t.symbol = s.symbol AND t.trade_date BETWEEN "
        "'2024-01-01' AND '2024-02-29') AS hi FROM {symbols} AS s",
    ),
    # a correlated lookup into the dimension for every trade of a split range (ORCL has no sector: NULL)
    Case(
        "scalar_subquery_in_select_lookup",
        "SELECT t.trade_id, (SELECT s.sector FROM {symbols} AS s WHERE s.symbol = t.symbol) AS sector FROM {trades} AS t "
        "WHERE t.trade_date BETWEEN '2024-02-27' AND '2024-03-02'",
        daily=True,
    ),
    # correlated NOT EXISTS from the dimension into the split table (NFLX never trades)
    Case(
        "correlated_not_exists",
        "SELECT s.symbol, s.sector FROM {symbols} AS s WHERE NOT EXISTS (SELECT 1 FROM {trades} AS t WHERE t.symbol = "
        "s.symbol AND t.trade_date BETWEEN '2024-01-01' AND '2024-03-31')",
    ),
    # correlated EXISTS whose inner query has its own filter and bound
    Case(
        "correlated_exists_into_split_table",
        "SELECT s.symbol FROM {symbols} AS s WHERE EXISTS (SELECT 1 FROM {trades} AS t WHERE t.symbol = s.symbol AND "
        "t.quantity > 995 AND t.trade_date BETWEEN '2023-11-01' AND '2024-04-30')",
    ),
    # correlated NOT EXISTS on the same table, same day: the most expensive trade of each symbol, side and day
    Case(
        "correlated_not_exists_same_table",
        "SELECT t.trade_id FROM {trades} AS t WHERE t.trade_date BETWEEN '2024-02-27' AND '2024-03-03' AND NOT EXISTS (SELECT "
        "1 FROM {trades} AS u WHERE u.symbol = t.symbol AND u.side = t.side AND u.price > t.price AND u.trade_date = "
        "t.trade_date)",
        daily=True,
    ),
    # correlated IN over another month of the same table
    Case(
        "correlated_in",
        "SELECT t.trade_id, t.symbol FROM {trades} AS t WHERE t.trade_date BETWEEN '2024-02-15' AND '2024-03-15' AND "
        "t.quantity IN (SELECT u.quantity FROM {trades} AS u WHERE u.symbol = t.symbol AND u.trade_date BETWEEN '2024-01-15' "
        "AND '2024-02-14')",
    ),
    # a correlated subquery whose correlation compares an outer column with an inner range
    Case(
        "correlated_scalar_with_inequality",
        "SELECT t.trade_id FROM {trades} AS t WHERE t.trade_date BETWEEN '2024-01-10' AND '2024-01-12' AND t.price > (SELECT "
        "MAX(u.price) * 0.9 FROM {trades} AS u WHERE u.symbol = t.symbol AND u.trade_date < t.trade_date AND u.trade_date >= "
        "'2024-01-01')",
        daily=True,
    ),
    # -- row values, spelled out before planning ----------------------------------------------------
    Case(
        "row_value_equality",
        "SELECT trade_id FROM {trades} WHERE (symbol, side) = ('AAPL', 'BUY') AND trade_date BETWEEN '2024-01-01' AND '2024-02-29'",
    ),
    Case(
        "row_value_in_and_not_in",
        "SELECT COUNT(*) AS n, SUM(CASE WHEN (venue, side) NOT IN (('XNYS', 'SELL')) THEN 1 ELSE 0 END) AS other FROM {trades} "
        "WHERE (venue, side) IN (('XNYS', 'BUY'), ('XNAS', 'SELL'), ('XNYS', 'SELL')) AND trade_date BETWEEN '2024-01-01' "
        "AND '2024-02-29'",
    ),
    # the bounds come in either order; the range must split as the ordered one
    Case(
        "between_symmetric",
        "SELECT trade_id FROM {trades} WHERE trade_date BETWEEN SYMMETRIC '2024-02-15' AND '2024-01-10'",
        pg_oracle=("sqlite", "mysql"),  # neither DuckDB nor MariaDB reads SYMMETRIC
    ),
    # -- set operations ---------------------------------------------------------------------
    Case(
        "union_overlapping_ranges",
        "SELECT trade_id FROM {trades} WHERE trade_date BETWEEN '2024-01-01' AND '2024-01-10' UNION SELECT trade_id FROM "
        "{trades} WHERE trade_date BETWEEN '2024-01-05' AND '2024-02-15'",
    ),
    # UNION ALL keeps the rows both branches read on 02-01 twice; a merge deduplicating fragments would not
    Case(
        "union_all_keeps_duplicates",
        "SELECT symbol, side FROM {trades} WHERE trade_date BETWEEN '2024-01-30' AND '2024-02-01' UNION ALL SELECT symbol, "
        "side FROM {trades} WHERE trade_date BETWEEN '2024-02-01' AND '2024-02-03'",
        daily=True,
    ),
    # INTERSECT of branches five months apart, each split on its own
    Case(
        "intersect_far_ranges",
        "SELECT symbol FROM {trades} WHERE trade_date BETWEEN '2023-11-01' AND '2023-12-15' AND quantity > 900 INTERSECT "
        "SELECT symbol FROM {trades} WHERE trade_date BETWEEN '2024-03-01' AND '2024-04-30' AND quantity < 10",
    ),
    # EXCEPT where the removed branch reaches past the kept one
    Case(
        "except_overlapping_ranges",
        "SELECT trade_id FROM {trades} WHERE trade_date BETWEEN '2024-02-01' AND '2024-02-29' EXCEPT SELECT trade_id FROM "
        "{trades} WHERE trade_date BETWEEN '2024-02-10' AND '2024-03-31' AND side = 'BUY'",
    ),
    # multiset INTERSECT ALL / EXCEPT ALL: counts of equal rows must survive the split
    Case(
        "intersect_all_and_except_all",
        "(SELECT trade_date, symbol FROM {trades} WHERE trade_date BETWEEN '2024-01-30' AND '2024-02-02' INTERSECT ALL SELECT "
        "trade_date, symbol FROM {trades} WHERE trade_date BETWEEN '2024-02-01' AND '2024-02-05') EXCEPT ALL SELECT "
        "trade_date, symbol FROM {trades} WHERE trade_date = '2024-02-02' AND side = 'BUY'",
        daily=True,
    ),
    # branches split on different columns (trade_date and ts), then ordered outside
    Case(
        "union_all_of_aggregates_ordered",
        "SELECT d, n FROM (SELECT trade_date AS d, COUNT(*) AS n FROM {trades} WHERE trade_date BETWEEN '2024-01-30' AND "
        "'2024-02-03' GROUP BY trade_date UNION ALL SELECT CAST(ts AS DATE) AS d, COUNT(*) AS n FROM {trades_ts} WHERE ts >= "
        "'2024-02-28' AND ts < '2024-03-03' GROUP BY CAST(ts AS DATE)) AS u ORDER BY d, n",
        daily=True,
        ordered=True,
    ),
    # per-branch ORDER BY ... LIMIT: each branch's top-N over its whole month, not per fragment
    Case(
        "union_all_of_top_n_branches",
        "(SELECT trade_id, price FROM {trades} WHERE trade_date BETWEEN '2024-01-15' AND '2024-02-14' ORDER BY price DESC, "
        "trade_id LIMIT 3) UNION ALL (SELECT trade_id, price FROM {trades} WHERE trade_date BETWEEN '2024-02-15' AND "
        "'2024-03-14' ORDER BY price, trade_id LIMIT 3)",
    ),
    # a date and a timestamp in one column: PostgreSQL's answer is a timestamp
    Case(
        "union_date_with_timestamp",
        "SELECT trade_date AS d FROM {trades} WHERE trade_date = '2024-01-31' UNION SELECT ts FROM {trades} WHERE "
        "trade_date BETWEEN '2024-02-01' AND '2024-02-02'",
        daily=True,
    ),
    # -- window functions ---------------------------------------------------------------------
    Case(
        "window_rankings",
        "SELECT trade_id, symbol, ROW_NUMBER() OVER (PARTITION BY symbol ORDER BY price DESC, trade_id) AS rn, RANK() OVER "
        "(PARTITION BY symbol ORDER BY quantity) AS rk, DENSE_RANK() OVER (PARTITION BY symbol ORDER BY quantity) AS drk FROM "
        "{trades} WHERE trade_date BETWEEN '2024-01-25' AND '2024-02-05'",
        daily=True,
    ),
    # a running sum over two months and a half: each fragment alone would restart the sum
    Case(
        "window_running_sum_across_months",
        "SELECT trade_id, symbol, trade_date, SUM(quantity) OVER (PARTITION BY symbol ORDER BY trade_date, trade_id) AS running "
        "FROM {trades} WHERE trade_date BETWEEN '2023-12-20' AND '2024-02-10'",
    ),
    # windows over GROUP BY results: the running total and moving average cross month fragments
    Case(
        "window_over_aggregate_running_total",
        "SELECT trade_date, SUM(quantity) AS qty, SUM(SUM(quantity)) OVER (ORDER BY trade_date) AS running, AVG(COUNT(*)) OVER "
        "(ORDER BY trade_date ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS moving_n FROM {trades} WHERE trade_date BETWEEN "
        "'2024-01-28' AND '2024-03-03' GROUP BY trade_date",
        pg_oracle=NOT_MARIADB,
    ),
    # LAG/LEAD across the month boundary and across daily fragments
    Case(
        "window_lag_lead",
        "SELECT trade_id, symbol, LAG(price) OVER (PARTITION BY symbol ORDER BY trade_date, trade_id) AS prev_price, "
        "LEAD(trade_date, 2) OVER (PARTITION BY symbol ORDER BY trade_date, trade_id) AS next2 FROM {trades} WHERE trade_date "
        "BETWEEN '2024-01-29' AND '2024-02-02'",
        daily=True,
    ),
    # FIRST_VALUE/LAST_VALUE with the default frame and with a whole-partition frame
    Case(
        "window_first_last_value",
        "SELECT trade_id, symbol, FIRST_VALUE(trade_id) OVER (PARTITION BY symbol ORDER BY trade_date, trade_id) AS first_id, "
        "LAST_VALUE(trade_id) OVER (PARTITION BY symbol ORDER BY trade_date, trade_id ROWS BETWEEN UNBOUNDED PRECEDING AND "
        "UNBOUNDED FOLLOWING) AS last_id, LAST_VALUE(trade_id) OVER (PARTITION BY symbol ORDER BY trade_date, trade_id) AS "
        "last_so_far FROM {trades} WHERE trade_date BETWEEN '2024-02-27' AND '2024-03-03'",
        daily=True,
    ),
    # whole-range windows: totals and edges seen by every row, whichever fragment it came from
    # (MariaDB itself answers 0 for price - AVG(price) OVER (...), so PostgreSQL answers for it)
    Case(
        "window_whole_range",
        "SELECT trade_id, COUNT(*) OVER () AS total, MIN(trade_date) OVER () AS first_day, MAX(trade_date) OVER () AS last_day, "
        "RANK() OVER (ORDER BY trade_date) AS day_rank, price - AVG(price) OVER (PARTITION BY symbol) AS from_avg FROM "
        "{trades} WHERE trade_date BETWEEN '2024-01-30' AND '2024-02-02'",
        daily=True,
        pg_oracle=NOT_MARIADB,
    ),
    # top 3 per symbol over six months, through a window in a derived table
    Case(
        "window_top_n_per_group",
        "SELECT symbol, trade_id, price FROM (SELECT symbol, trade_id, price, ROW_NUMBER() OVER (PARTITION BY symbol ORDER BY "
        "price DESC, trade_id) AS rn FROM {trades} WHERE trade_date BETWEEN '2023-11-01' AND '2024-04-30') AS r WHERE rn <= 3",
    ),
    # NTILE, PERCENT_RANK and CUME_DIST over the whole range, not over one fragment's rows
    Case(
        "window_ntile_and_distribution",
        "SELECT trade_id, NTILE(4) OVER (ORDER BY price, trade_id) AS quartile, PERCENT_RANK() OVER (ORDER BY price, trade_id) "
        "AS pr, CUME_DIST() OVER (ORDER BY price, trade_id) AS cd FROM {trades} WHERE trade_date BETWEEN '2024-01-30' AND "
        "'2024-02-02'",
        daily=True,
        pg_oracle=NOT_MARIADB,
    ),
    # -- CASE, COALESCE, NULLIF, casts ----------------------------------------------------------
    Case(
        "case_coalesce_nullif",
        "SELECT trade_id, CASE WHEN price < 100 THEN 'cheap' WHEN price < 400 THEN 'mid' ELSE 'dear' END AS band, CASE side "
        "WHEN 'BUY' THEN 1 WHEN 'SELL' THEN -1 ELSE 0 END AS sgn, CASE venue WHEN 'XNYS' THEN 'nyse' END AS nyse, "
        "COALESCE(venue, side) AS v, NULLIF(venue, 'XNAS') AS not_nas, NULLIF(quantity % 10, 0) AS q10, CASE WHEN side = 'BUY' "
        "THEN 1 ELSE 2.5 END AS mixed FROM {trades} WHERE trade_date BETWEEN '2024-01-29' AND '2024-02-03'",
        daily=True,
    ),
    # casts that must agree everywhere (numbers to text, text to numbers, dates to timestamps, exact NUMERIC)
    Case(
        "casts_between_types",
        "SELECT trade_id, CAST(quantity AS TEXT) AS qt, CAST(quantity AS DOUBLE PRECISION) / 4 AS qd, CAST(trade_date AS TEXT) "
        "AS dt, CAST(ts AS DATE) AS td, CAST(trade_date AS TIMESTAMP) AS tt, CAST('42' AS INTEGER) + quantity AS x, "
        "CAST(quantity AS NUMERIC(12, 2)) AS qn, CAST(quantity AS BIGINT) * 3 AS qb, CAST(trade_id AS VARCHAR) || '-' || symbol "
        "AS tag, price::numeric(12, 4) * 2 AS exact, ROUND(CAST(price AS NUMERIC), 1) AS r1, ROUND(price) AS r0, TRUNC(price) "
        "AS t0 FROM {trades} WHERE trade_date BETWEEN '2024-02-27' AND '2024-03-02'",
        daily=True,
        pg_oracle=NOT_MARIADB,
    ),
    # PostgreSQL rounds a float to the nearest integer when casting (184.55 -> 185)
    Case(
        "cast_float_to_integer_rounds",
        "SELECT trade_id, CAST(price AS INTEGER) AS p_int, price::bigint AS p_big FROM {trades} WHERE trade_date BETWEEN "
        "'2024-01-31' AND '2024-02-02'",
        daily=True,
    ),
    # ... and to the nearest step of the scale when casting to NUMERIC(p, s)
    Case(
        "cast_float_to_numeric_rounds",
        "SELECT trade_id, CAST(price AS NUMERIC(10, 1)) AS p1 FROM {trades} WHERE trade_date BETWEEN '2024-01-31' AND "
        "'2024-02-04'",
        daily=True,
    ),
    # a timestamp as text has no trailing zeros of fractions in PostgreSQL
    Case(
        "cast_timestamp_to_text",
        "SELECT trade_id, CAST(ts AS TEXT) AS t FROM {trades} WHERE trade_date BETWEEN '2024-02-29' AND '2024-03-01'",
        daily=True,
        pg_oracle=NOT_MARIADB,
    ),
    # COALESCE of a DATE with untyped text is a DATE
    Case(
        "coalesce_date_with_text",
        "SELECT trade_id, COALESCE(trade_date, '2024-01-01') AS d FROM {trades_ts} WHERE ts >= '2024-01-09' AND ts < "
        "'2024-01-12'",
        daily=True,
        pg_oracle=NOT_MARIADB,
    ),
    # IS [NOT] TRUE/FALSE never yield NULL: a NULL comparison IS NOT TRUE
    Case(
        "is_true_false_on_null",
        "SELECT trade_id, (venue = 'XNYS') IS TRUE AS t, (venue = 'XNYS') IS FALSE AS f, (venue = 'XNYS') IS NOT TRUE AS nt, "
        "(venue = 'XNYS') IS NOT FALSE AS nf, (venue = 'XNYS') IS UNKNOWN AS u FROM {trades} WHERE trade_date BETWEEN "
        "'2024-01-31' AND '2024-02-02'",
        daily=True,
        pg_oracle=NOT_MARIADB,
    ),
    # ... the same in WHERE: rows whose venue is NULL must be kept by IS NOT TRUE
    Case(
        "is_not_true_in_where",
        "SELECT COUNT(*) AS n, COUNT(venue) AS with_venue FROM {trades} WHERE trade_date BETWEEN '2024-01-15' AND "
        "'2024-02-15' AND (venue = 'XNYS') IS NOT TRUE",
    ),
    # IS [NOT] DISTINCT FROM treats NULL as a value, in SELECT and in WHERE
    Case(
        "is_distinct_from",
        "SELECT trade_id, venue IS DISTINCT FROM 'XNYS' AS d, venue IS NOT DISTINCT FROM NULL AS nd FROM {trades} WHERE "
        "trade_date BETWEEN '2024-01-31' AND '2024-02-01' AND symbol IS DISTINCT FROM 'AAPL'",
        daily=True,
        pg_oracle=NOT_MARIADB,
    ),
    # -- strings ------------------------------------------------------------------------------
    Case(
        "string_functions",
        "SELECT trade_id, UPPER(LOWER(symbol)) AS u, LOWER(side) AS l, LENGTH(symbol) AS n, SUBSTRING(symbol FROM 2 FOR 2) AS "
        "s, SUBSTR(symbol, 1, 3) AS s3, TRIM('  ' || symbol || ' ') AS t, LTRIM('  x') AS lt, RTRIM(side || '  ') AS rt, "
        "REPLACE(symbol, 'A', 'a') AS r, CONCAT(symbol, '-', venue) AS c, symbol || '/' || venue AS c2, LEFT(symbol, 2) AS lft, "
        "RIGHT(symbol, 2) AS rgt, POSITION('A' IN symbol) AS pos, STRPOS(symbol, 'A') AS sp, REVERSE(symbol) AS rv, "
        "LPAD(symbol, 6, '*') AS lp, RPAD(symbol, 6, '*') AS rp, CHAR_LENGTH(venue) AS cl FROM {trades} WHERE trade_date "
        "BETWEEN '2024-03-29' AND '2024-04-02'",
        daily=True,
    ),
    # PostgreSQL-only forms: negative LEFT/RIGHT lengths, SUBSTRING from 0, TRIM(... FROM), INITCAP, regex replace
    Case(
        "string_functions_postgres_forms",
        "SELECT trade_id, SUBSTRING(symbol, 0, 2) AS s0, SUBSTRING(symbol FROM 3) AS s3, LEFT(symbol, -1) AS lm, RIGHT(symbol, "
        "-1) AS rm, TRIM(BOTH 'A' FROM symbol) AS tb, TRIM(LEADING 'M' FROM symbol) AS tl, INITCAP(LOWER(side)) AS ic, "
        "REGEXP_REPLACE(symbol, 'A', 'x') AS first_a, SPLIT_PART(symbol || '.' || side, '.', 2) AS part FROM {trades} WHERE "
        "trade_date BETWEEN '2024-03-30' AND '2024-04-01'",
        daily=True,
        pg_oracle=EVERY_KIND,
    ),
    # LIKE with % and _ and NOT LIKE, pushed to the sources and run again in the merge
    Case(
        "like_patterns",
        "SELECT trade_id, symbol, venue FROM {trades} WHERE (symbol LIKE '%A%' OR venue LIKE 'X_Y_') AND symbol NOT LIKE "
        "'AM%' AND trade_date BETWEEN '2024-01-20' AND '2024-02-10'",
    ),
    # ILIKE, NOT ILIKE and a negated regular expression match (!~)
    Case(
        "ilike_and_regex_match",
        "SELECT trade_id, symbol FROM {trades} WHERE (symbol ILIKE 'a%' OR venue ILIKE '%s') AND side NOT ILIKE 'b%' AND "
        "symbol !~ 'L$' AND trade_date BETWEEN '2024-01-20' AND '2024-02-10'",
        pg_oracle=NOT_MARIADB,
    ),
    # -- arithmetic ---------------------------------------------------------------------------
    # integer division truncates toward zero and % keeps the dividend's sign (PostgreSQL)
    Case(
        "integer_division_and_modulo",
        "SELECT trade_id, quantity / 7 AS q7, quantity % 7 AS m7, -quantity / 7 AS nq7, -quantity % 7 AS nm7, MOD(quantity, 9) "
        "AS m9, (quantity + 3) / 2 * 2 AS even, price / 4 AS p4, quantity / 4.0 AS q4, ABS(500 - quantity) AS dist, "
        "FLOOR(price) AS f, CEIL(price) AS c, POWER(quantity, 2) AS sq, SQRT(quantity) AS rt, quantity / NULLIF(quantity % 3, "
        "0) AS safe_div FROM {trades} WHERE trade_date BETWEEN '2024-01-31' AND '2024-02-03'",
        daily=True,
        pg_oracle=EVERY_KIND,
    ),
    # GREATEST/LEAST skip NULLs in PostgreSQL (MariaDB answers NULL, so PostgreSQL answers for it)
    Case(
        "greatest_least",
        "SELECT trade_id, GREATEST(quantity, 500) AS g, LEAST(quantity, 500) AS l, GREATEST(venue, 'C') AS gv, "
        "GREATEST(quantity, NULL, 10) AS gn FROM {trades} WHERE trade_date BETWEEN '2024-01-31' AND '2024-02-02'",
        daily=True,
        pg_oracle=NOT_MARIADB,
    ),
    # -- dates ---------------------------------------------------------------------------------
    # months of the split column from mid-November to mid-March: partial months at both edges
    Case(
        "group_by_month_of_split_column",
        "SELECT CAST(DATE_TRUNC('month', trade_date) AS DATE) AS month, COUNT(*) AS n, SUM(quantity) AS qty, MIN(trade_date) AS "
        "first_day, MAX(trade_date) AS last_day FROM {trades} WHERE trade_date BETWEEN '2023-11-15' AND '2024-03-15' GROUP BY "
        "CAST(DATE_TRUNC('month', trade_date) AS DATE)",
    ),
    # the same months read off a timestamp split column, on a range starting at noon
    Case(
        "group_by_month_of_split_timestamp",
        "SELECT DATE_TRUNC('month', ts) AS month, COUNT(*) AS n FROM {trades_ts} WHERE ts >= '2023-11-30 12:00:00' AND ts < "
        "'2024-03-01 00:00:00.000001' GROUP BY DATE_TRUNC('month', ts)",
        pg_oracle=NOT_MARIADB,
    ),
    # weeks straddle month fragments: a week of late January is read by two fragments
    Case(
        "group_by_week",
        "SELECT CAST(DATE_TRUNC('week', trade_date) AS DATE) AS week, COUNT(*) AS n FROM {trades} WHERE trade_date BETWEEN "
        "'2024-01-15' AND '2024-03-10' GROUP BY 1",
        pg_oracle=NOT_MARIADB,
    ),
    # DATE_TRUNC of a DATE is a timestamp with time zone in PostgreSQL
    Case(
        "date_trunc_of_date_column",
        "SELECT DATE_TRUNC('month', trade_date) AS month, COUNT(*) AS n FROM {trades} WHERE trade_date BETWEEN '2024-01-15' "
        "AND '2024-03-15' GROUP BY 1",
        pg_oracle=EVERY_KIND,
    ),
    # DATE_TRUNC of a timestamp to year, quarter, day and hour across the turn of the year
    Case(
        "date_trunc_units_of_timestamp",
        "SELECT trade_id, DATE_TRUNC('year', ts) AS y, DATE_TRUNC('quarter', ts) AS q, DATE_TRUNC('day', ts) AS d, "
        "DATE_TRUNC('hour', ts) AS h FROM {trades} WHERE trade_date BETWEEN '2023-12-30' AND '2024-01-02'",
        daily=True,
        pg_oracle=NOT_MARIADB,
    ),
    # calendar parts around the turn of the year (ISO week 1 of 2024 starts on 2024-01-01)
    Case(
        "extract_parts",
        "SELECT EXTRACT(YEAR FROM trade_date) AS y, EXTRACT(MONTH FROM trade_date) AS m, EXTRACT(DOW FROM trade_date) AS dow, "
        "EXTRACT(ISODOW FROM trade_date) AS idow, EXTRACT(DOY FROM trade_date) AS doy, EXTRACT(QUARTER FROM trade_date) AS q, "
        "EXTRACT(WEEK FROM trade_date) AS w, COUNT(*) AS n FROM {trades} WHERE trade_date BETWEEN '2023-12-25' AND "
        "'2024-01-07' GROUP BY 1, 2, 3, 4, 5, 6, 7",
        daily=True,
        pg_oracle=NOT_MARIADB,
    ),
    # time-of-day parts and the epoch of a timestamp
    Case(
        "extract_time_parts",
        "SELECT trade_id, EXTRACT(HOUR FROM ts) AS h, EXTRACT(MINUTE FROM ts) AS mi, EXTRACT(EPOCH FROM ts) AS e FROM "
        "{trades} WHERE trade_date BETWEEN '2024-03-30' AND '2024-04-01'",
        daily=True,
        pg_oracle=NOT_MARIADB,
    ),
    # EXTRACT(SECOND ...) keeps the fraction in PostgreSQL (59.877082)
    Case(
        "extract_second_keeps_fraction",
        "SELECT trade_id, EXTRACT(SECOND FROM ts) AS sec FROM {trades} WHERE trade_date BETWEEN '2024-03-30' AND '2024-04-01'",
        daily=True,
        pg_oracle=EVERY_KIND,
    ),
    # date + integer and date arithmetic that ends as a DATE
    Case(
        "date_plus_days",
        "SELECT trade_id, trade_date + 7 AS week_later, trade_date - 1 AS day_before, CAST(trade_date + INTERVAL '3 days' AS "
        "DATE) AS plus3, ts + INTERVAL '90 minutes' AS later, ts - INTERVAL '1 month' AS month_before FROM {trades} WHERE "
        "trade_date BETWEEN '2024-01-30' AND '2024-02-01'",
        daily=True,
        pg_oracle=NOT_MARIADB,
    ),
    # date + interval is a TIMESTAMP in PostgreSQL (month arithmetic clamps 01-31 to 02-29)
    Case(
        "date_plus_interval_is_timestamp",
        "SELECT trade_id, trade_date + INTERVAL '1 month' AS next_month, trade_date - INTERVAL '1 year' AS last_year FROM "
        "{trades} WHERE trade_date BETWEEN '2024-01-30' AND '2024-02-01'",
        daily=True,
        pg_oracle=EVERY_KIND,
    ),
    # date - date is an integer number of days in PostgreSQL
    Case(
        "date_minus_date_is_days",
        "SELECT trade_id, trade_date - DATE '2024-01-01' AS days_in, DATE '2024-12-31' - trade_date AS days_left FROM "
        "{trades} WHERE trade_date BETWEEN '2024-02-27' AND '2024-03-02'",
        daily=True,
        pg_oracle=EVERY_KIND,
    ),
    # seconds between two timestamps, through EXTRACT(EPOCH FROM interval)
    Case(
        "epoch_of_timestamp_difference",
        "SELECT trade_id, EXTRACT(EPOCH FROM ts - CAST(trade_date AS TIMESTAMP)) AS secs FROM {trades} WHERE trade_date "
        "BETWEEN '2024-02-28' AND '2024-03-01'",
        daily=True,
        pg_oracle=EVERY_KIND,
    ),
    # date literals compared in SELECT, WHERE (through arithmetic and casts) and HAVING
    Case(
        "date_literal_comparisons",
        "SELECT trade_id, CASE WHEN ts >= '2024-02-29 12:00' THEN 'pm' WHEN trade_date = '2024-02-29' THEN 'am' ELSE 'other' "
        "END AS half, trade_date > '2024-02-29' AS late FROM {trades} WHERE trade_date BETWEEN '2024-02-28' AND '2024-03-01' "
        "AND (trade_date + 1 = '2024-03-01' OR CAST(ts AS DATE) = '2024-03-01' OR trade_date + INTERVAL '1 day' > DATE "
        "'2024-03-01')",
        daily=True,
        pg_oracle=NOT_MARIADB,
    ),
    # HAVING compares aggregates of the split column with text literals
    Case(
        "having_on_date_aggregates",
        "SELECT symbol, MIN(trade_date) AS first_day, MAX(trade_date) AS last_day FROM {trades} WHERE trade_date BETWEEN "
        "'2024-01-01' AND '2024-03-31' GROUP BY symbol HAVING MAX(trade_date) >= '2024-03-31' AND MIN(trade_date) < '2024-01-02'",
    ),
    # -- ORDER BY, LIMIT, DISTINCT, GROUP BY ----------------------------------------------------
    # PostgreSQL's default NULL order: last when ascending, first when descending
    Case(
        "order_by_default_null_order",
        "SELECT trade_id, venue, ts FROM {trades} WHERE trade_date BETWEEN '2024-01-30' AND '2024-02-02' ORDER BY venue DESC, "
        "ts, trade_id",
        daily=True,
        ordered=True,
        pg_oracle=EVERY_KIND,
    ),
    # NULLS FIRST / NULLS LAST written out, on two columns
    Case(
        "order_by_explicit_nulls",
        "SELECT trade_id, venue, ts FROM {trades} WHERE trade_date BETWEEN '2024-01-30' AND '2024-02-02' ORDER BY venue NULLS "
        "FIRST, ts DESC NULLS LAST, trade_id",
        daily=True,
        ordered=True,
    ),
    # LIMIT/OFFSET after an ordering that puts NULLs last: the fragments' rows must be merged before cutting
    Case(
        "order_desc_nulls_last_limit_offset",
        "SELECT trade_id, ts FROM {trades} WHERE trade_date BETWEEN '2023-12-01' AND '2024-03-31' ORDER BY ts DESC NULLS "
        "LAST, trade_id LIMIT 12 OFFSET 3",
        ordered=True,
    ),
    # the largest timestamps of a range: PostgreSQL puts the NULL ts first when descending
    Case(
        "order_desc_default_nulls_first_limit",
        "SELECT trade_id, ts FROM {trades} WHERE trade_date BETWEEN '2023-12-01' AND '2024-03-31' ORDER BY ts DESC, trade_id "
        "LIMIT 12",
        ordered=True,
        pg_oracle=EVERY_KIND,
    ),
    # an OFFSET deeper than any one month holds
    Case(
        "limit_offset_deep",
        "SELECT trade_id, ts FROM {trades} WHERE trade_date BETWEEN '2023-12-01' AND '2024-03-31' ORDER BY ts, trade_id LIMIT "
        "5 OFFSET 1000",
        ordered=True,
    ),
    # the SQL-standard spelling of LIMIT
    Case(
        "fetch_first_rows_only",
        "SELECT trade_id, price FROM {trades} WHERE trade_date BETWEEN '2024-01-15' AND '2024-02-15' ORDER BY price DESC, "
        "trade_id FETCH FIRST 4 ROWS ONLY",
        ordered=True,
    ),
    Case("distinct_with_null", "SELECT DISTINCT venue FROM {trades} WHERE trade_date BETWEEN '2023-12-01' AND '2024-03-31'"),
    # DISTINCT with the NULL group ordered first
    Case(
        "distinct_ordered",
        "SELECT DISTINCT venue, side FROM {trades} WHERE trade_date BETWEEN '2023-12-01' AND '2024-03-31' ORDER BY venue "
        "NULLS FIRST, side",
        ordered=True,
    ),
    # DISTINCT ON keeps the first row of each symbol by the ORDER BY, over all months
    Case(
        "distinct_on",
        "SELECT DISTINCT ON (symbol) symbol, trade_id, price FROM {trades} WHERE trade_date BETWEEN '2024-01-20' AND "
        "'2024-02-10' ORDER BY symbol, price DESC, trade_id",
        ordered=True,
    ),
    # COUNT(DISTINCT) must be over all months, not summed per fragment
    Case(
        "count_distinct_across_fragments",
        "SELECT COUNT(DISTINCT venue) AS venues, COUNT(DISTINCT trade_date) AS days, COUNT(DISTINCT symbol || side) AS pairs, "
        "COUNT(venue) AS with_venue, COUNT(*) AS n FROM {trades} WHERE trade_date BETWEEN '2023-11-15' AND '2024-02-15'",
    ),
    # HAVING on COUNT(DISTINCT) and SUM over six months, ordered by the aggregate
    Case(
        "having_with_count_distinct_ordered",
        "SELECT symbol, COUNT(*) AS n, SUM(quantity) AS qty FROM {trades} WHERE trade_date BETWEEN '2023-11-01' AND "
        "'2024-04-30' GROUP BY symbol HAVING COUNT(DISTINCT venue) = 4 AND SUM(quantity) > 200000 ORDER BY qty DESC",
        ordered=True,
    ),
    # HAVING that keeps the NULL group
    Case(
        "having_or_null_group",
        "SELECT venue, COUNT(*) AS n FROM {trades} WHERE trade_date BETWEEN '2024-01-01' AND '2024-03-31' GROUP BY venue "
        "HAVING MAX(price) > 599 OR venue IS NULL",
    ),
    # GROUP BY, HAVING, ORDER BY an aggregate and LIMIT together
    Case(
        "group_having_order_limit",
        "SELECT trade_date, COUNT(*) AS n FROM {trades} WHERE trade_date BETWEEN '2024-01-01' AND '2024-03-31' GROUP BY "
        "trade_date HAVING COUNT(*) >= 25 ORDER BY n DESC, trade_date LIMIT 5",
        ordered=True,
    ),
    # aggregate FILTER (WHERE ...)
    Case(
        "aggregate_filter_clause",
        "SELECT symbol, COUNT(*) FILTER (WHERE side = 'BUY') AS buys, SUM(quantity) FILTER (WHERE venue IS NULL) AS "
        "unknown_venue_qty FROM {trades} WHERE trade_date BETWEEN '2024-01-20' AND '2024-02-10' GROUP BY symbol",
        pg_oracle=NOT_MARIADB,
    ),
    # ordered STRING_AGG/ARRAY_AGG: the order must not follow the fragments
    Case(
        "ordered_string_and_array_agg",
        "SELECT symbol, ARRAY_AGG(trade_id ORDER BY trade_id) AS ids, STRING_AGG(side, '|' ORDER BY trade_id) AS sides, "
        "STRING_AGG(DISTINCT venue, ',' ORDER BY venue) AS venues FROM {trades} WHERE trade_date BETWEEN '2024-01-31' AND "
        "'2024-02-01' GROUP BY symbol",
        daily=True,
        pg_oracle=NOT_MARIADB,
    ),
    # ROLLUP subtotals and the grand total, over fragments of two months
    Case(
        "rollup",
        "SELECT symbol, side, COUNT(*) AS n, SUM(quantity) AS q FROM {trades} WHERE trade_date BETWEEN '2024-01-20' AND "
        "'2024-02-10' GROUP BY ROLLUP (symbol, side)",
        pg_oracle=NOT_MARIADB,
    ),
    # CUBE and GROUPING SETS (with the empty set) in one UNION ALL
    Case(
        "cube_and_grouping_sets",
        "SELECT symbol, side, COUNT(*) AS n FROM {trades} WHERE trade_date BETWEEN '2024-01-20' AND '2024-02-10' GROUP BY "
        "CUBE (symbol, side) UNION ALL SELECT venue, side, COUNT(*) AS n FROM {trades} WHERE trade_date BETWEEN '2024-01-20' "
        "AND '2024-02-10' GROUP BY GROUPING SETS ((venue, side), ())",
        pg_oracle=NOT_MARIADB,
    ),
    # sample standard deviation and variance (not decomposable per fragment)
    Case(
        "statistics_aggregates",
        "SELECT symbol, STDDEV(price) AS sd, VARIANCE(price) AS v, STDDEV_SAMP(quantity) AS sq FROM {trades} WHERE trade_date "
        "BETWEEN '2024-01-01' AND '2024-02-29' GROUP BY symbol",
        pg_oracle=NOT_MARIADB,
    ),
    # a VALUES list first in FROM, joined to the split table
    Case(
        "values_list_first_in_from",
        "SELECT v.label, COUNT(*) AS n FROM (VALUES ('BUY', 'b'), ('SELL', 's')) AS v(s, label) JOIN {trades} AS t ON t.side "
        "= v.s WHERE t.trade_date BETWEEN '2024-01-30' AND '2024-02-02' GROUP BY v.label",
        daily=True,
    ),
    # ... and the same VALUES list joined after the table
    Case(
        "values_list_joined_after_table",
        "SELECT v.label, COUNT(*) AS n FROM {trades} AS t JOIN (VALUES ('BUY', 'b'), ('SELL', 's')) AS v(s, label) ON t.side "
        "= v.s WHERE t.trade_date BETWEEN '2024-01-30' AND '2024-02-02' GROUP BY v.label",
        daily=True,
    ),
)

CASES_BY_NAME = {case.name: case for case in CASES}
assert len(CASES_BY_NAME) == len(CASES), "case names must be unique"

_MERGE = "engine/merge/dialect.py (the merge SQL as Polars reads it)"


class Bug(NamedTuple):
    """A known piot bug: the kinds of source it shows on, and what piot does instead."""

    kinds: tuple[str, ...]
    reason: str


#: case name -> (the kinds it fails on, why); each is an xfail(strict=True).
KNOWN_BUGS: dict[str, Bug] = {
}


def _answer_params() -> list[pytest.ParameterSet]:
    params = []
    for case in CASES:
        for kind in KINDS:
            marks = list(KIND_MARKS[kind])
            if kind in case.pg_oracle and kind != "postgres":
                marks.append(pytest.mark.postgres)
            bug = KNOWN_BUGS.get(case.name)
            if bug is not None and kind in bug.kinds:
                marks.append(pytest.mark.xfail(strict=True, reason=bug.reason))
            params.append(pytest.param(case, kind, marks=marks, id=f"{case.name}-{kind}"))
    return params


def _run(connection: piot.Connection, sql: str) -> Answer:
    cursor = connection.cursor()
    cursor.execute(sql)
    return answer_from_arrow(cursor.fetch_arrow())


def _fragment_count(connection: piot.Connection, sql: str) -> int:
    cursor = connection.cursor()
    cursor.execute("EXPLAIN " + sql)
    return sum(1 for row in cursor.fetchall() if row[0] == "fragment")


@pytest.mark.parametrize(("case", "kind"), _answer_params())
def test_query_shape_split_equals_unsplit_equals_oracle(
    case: Case,
    kind: str,
    corpus: CorpusSource,
    corpus_connect: Callable[..., piot.Connection],
    request: pytest.FixtureRequest,
    ray_session: None,
) -> None:
    """Split monthly (and daily), unsplit and the oracle agree; a wrong merge or a lost fragment shows here."""
    oracle = request.getfixturevalue("corpus_postgres") if kind in case.pg_oracle else corpus
    expected = oracle.oracle(case.sql)
    assert (len(expected.rows) == 0) == case.empty, f"the oracle gave {len(expected.rows)} rows"
    sql = corpus.sql(case.sql)
    monthly, unsplit = corpus_connect(corpus), corpus_connect(corpus, split=False)
    modes = [("split monthly", monthly), ("unsplit", unsplit)]
    daily = corpus_connect(corpus, time_unit="daily") if case.daily else None
    if daily is not None:
        modes.append(("split daily", daily))
    for label, connection in modes:
        assert_same(_run(connection, sql), expected, f"{label} on {kind}", ordered=case.ordered)
    if case.splits:
        whole = _fragment_count(unsplit, sql)
        split = max(_fragment_count(c, sql) for _, c in modes[:1] + modes[2:])
        assert split > whole, f"the query was not split ({split} fragments split, {whole} unsplit): the case compares nothing"


# -- what piot cannot run ----------------------------------------------------------------------


@dataclass(frozen=True)
class Unsupported:
    """A query piot cannot run, the PEP 249 error it must raise, and a pattern its message must match.

    Attributes:
        name: the test id.
        sql: the query template.
        names: a regular expression (case-insensitive) the message must match: the construct's name.
        error: the exception class expected.
    """

    name: str
    sql: str
    names: str
    error: type[piot.Error] = piot.NotSupportedError


_TWO_MONTHS = "trade_date BETWEEN '2024-01-01' AND '2024-02-29'"

UNSUPPORTED: tuple[Unsupported, ...] = (
    # ordered-set and boolean aggregates Polars' SQL lacks
    Unsupported(
        "percentile_disc",
        f"SELECT symbol, PERCENTILE_DISC(0.5) WITHIN GROUP (ORDER BY price) AS p FROM {{trades}} WHERE {_TWO_MONTHS} GROUP BY "
        "symbol",
        "percentile_disc",
    ),
    Unsupported(
        "percentile_cont",
        f"SELECT PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY price) AS p FROM {{trades}} WHERE {_TWO_MONTHS}",
        "percentile_cont",
    ),
    Unsupported("mode", f"SELECT MODE() WITHIN GROUP (ORDER BY venue) AS m FROM {{trades}} WHERE {_TWO_MONTHS}", r"\bmode\b"),
    Unsupported(
        "bool_and", f"SELECT symbol, BOOL_AND(quantity > 10) AS b FROM {{trades}} WHERE {_TWO_MONTHS} GROUP BY symbol", "bool_and"
    ),
    Unsupported("bool_or", f"SELECT BOOL_OR(quantity > 990) AS b FROM {{trades}} WHERE {_TWO_MONTHS}", "bool_or"),
    Unsupported("every", f"SELECT EVERY(quantity > 1) AS b FROM {{trades}} WHERE {_TWO_MONTHS}", "every"),
    Unsupported("bit_and", f"SELECT BIT_AND(quantity) AS b FROM {{trades}} WHERE {_TWO_MONTHS}", "bit_and"),
    Unsupported("var_pop", f"SELECT VAR_POP(price) AS v FROM {{trades}} WHERE {_TWO_MONTHS}", "var_pop"),
    Unsupported("stddev_pop", f"SELECT STDDEV_POP(price) AS v FROM {{trades}} WHERE {_TWO_MONTHS}", "stddev_pop"),
    Unsupported(
        "json_agg", f"SELECT symbol, JSON_AGG(trade_id) AS j FROM {{trades}} WHERE {_TWO_MONTHS} GROUP BY symbol", "json_agg"
    ),
    # scalar functions Polars' SQL lacks
    Unsupported("to_char", f"SELECT TO_CHAR(trade_date, 'YYYY-MM') AS m FROM {{trades}} WHERE {_TWO_MONTHS}", "to_char"),
    Unsupported("age", f"SELECT AGE(ts, CAST(trade_date AS TIMESTAMP)) AS a FROM {{trades}} WHERE {_TWO_MONTHS}", r"\bage\b"),
    Unsupported(
        "make_date", f"SELECT MAKE_DATE(2024, 1, quantity % 28 + 1) AS d FROM {{trades}} WHERE {_TWO_MONTHS}", "make_date"
    ),
    Unsupported("to_timestamp", f"SELECT TO_TIMESTAMP(quantity) AS t FROM {{trades}} WHERE {_TWO_MONTHS}", "to_timestamp"),
    Unsupported(
        "regexp_matches", f"SELECT REGEXP_MATCHES(symbol, 'A(.)') AS m FROM {{trades}} WHERE {_TWO_MONTHS}", "regexp_matches"
    ),
    Unsupported(
        "regexp_split_to_array",
        f"SELECT REGEXP_SPLIT_TO_ARRAY(symbol, 'A') AS m FROM {{trades}} WHERE {_TWO_MONTHS}",
        "regexp_split_to_array",
    ),
    Unsupported("substring_regex", f"SELECT SUBSTRING(symbol FROM 'A(.)') AS m FROM {{trades}} WHERE {_TWO_MONTHS}", "substring"),
    Unsupported("similar_to", f"SELECT trade_id FROM {{trades}} WHERE symbol SIMILAR TO 'A%' AND {_TWO_MONTHS}", r"similar\s*to"),
    Unsupported("md5", f"SELECT MD5(symbol) AS h FROM {{trades}} WHERE {_TWO_MONTHS}", "md5"),
    Unsupported("repeat", f"SELECT REPEAT(side, 2) AS r FROM {{trades}} WHERE {_TWO_MONTHS}", "repeat"),
    Unsupported("format", f"SELECT FORMAT('%s-%s', symbol, side) AS f FROM {{trades}} WHERE {_TWO_MONTHS}", "format"),
    Unsupported(
        "width_bucket", f"SELECT WIDTH_BUCKET(price, 0, 600, 6) AS b FROM {{trades}} WHERE {_TWO_MONTHS}", "width_bucket"
    ),
    Unsupported("random", f"SELECT trade_id, RANDOM() AS r FROM {{trades}} WHERE {_TWO_MONTHS}", "random"),
    # clauses
    Unsupported(
        "lateral",
        "SELECT s.symbol, x.n FROM {symbols} AS s, LATERAL (SELECT COUNT(*) AS n FROM {trades} AS t WHERE t.symbol = "
        f"s.symbol AND t.{_TWO_MONTHS}) AS x",
        "lateral",
    ),
    Unsupported(
        "window_range_interval_frame",
        "SELECT trade_id, SUM(quantity) OVER (ORDER BY trade_date RANGE BETWEEN INTERVAL '2 days' PRECEDING AND CURRENT ROW) AS "
        f"s FROM {{trades}} WHERE {_TWO_MONTHS}",
        r"range between interval",
    ),
    Unsupported(
        "correlated_exists_on_outer_expression",
        f"SELECT t.trade_id FROM {{trades}} AS t WHERE t.{_TWO_MONTHS} AND EXISTS (SELECT 1 FROM {{trades}} AS u WHERE u.symbol "
        "= t.symbol AND u.trade_date = t.trade_date AND u.quantity > t.quantity * 2)",
        "correlated subquery",
    ),
    # the correlation goes through an expression of the outer column (the previous day)
    Unsupported(
        "correlated_on_outer_expression",
        "SELECT t.trade_id FROM {trades} AS t WHERE t.trade_date BETWEEN '2024-01-10' AND '2024-01-12' AND t.price > (SELECT "
        "MAX(u.price) * 0.9 FROM {trades} AS u WHERE u.symbol = t.symbol AND u.trade_date = t.trade_date - 1)",
        "correlated subquery",
    ),
    Unsupported("for_update", f"SELECT trade_id FROM {{trades}} WHERE {_TWO_MONTHS} FOR UPDATE", r"lock|for update"),
    Unsupported(
        "count_distinct_row", f"SELECT COUNT(DISTINCT (symbol, side)) AS n FROM {{trades}} WHERE {_TWO_MONTHS}", r"tuple|row"
    ),
    # TABLESAMPLE must not be dropped silently (that answers every row)
    Unsupported("tablesample", f"SELECT trade_id FROM {{trades}} TABLESAMPLE SYSTEM (10) WHERE {_TWO_MONTHS}", "tablesample"),
)

UNSUPPORTED_BY_NAME = {u.name: u for u in UNSUPPORTED}
assert len(UNSUPPORTED_BY_NAME) == len(UNSUPPORTED), "unsupported names must be unique"

#: unsupported name -> (the kinds it fails on, why); each is an xfail(strict=True).
UNSUPPORTED_BUGS: dict[str, Bug] = {}


def _unsupported_params() -> list[pytest.ParameterSet]:
    params = []
    for item in UNSUPPORTED:
        for kind in KINDS:
            marks = list(KIND_MARKS[kind])
            bug = UNSUPPORTED_BUGS.get(item.name)
            if bug is not None and kind in bug.kinds:
                marks.append(pytest.mark.xfail(strict=True, reason=bug.reason))
            params.append(pytest.param(item, kind, marks=marks, id=f"{item.name}-{kind}"))
    return params


@pytest.mark.parametrize(("item", "kind"), _unsupported_params())
def test_unsupported_construct_raises_a_named_error(
    item: Unsupported, kind: str, corpus: CorpusSource, corpus_connect: Callable[..., piot.Connection], ray_session: None
) -> None:
    """A construct piot cannot run raises the PEP 249 error naming it; a wrong answer or a raw exception fails."""
    cursor = corpus_connect(corpus).cursor()
    with pytest.raises(piot.Error) as caught:
        cursor.execute(corpus.sql(item.sql))
        cursor.fetch_arrow()
    assert isinstance(caught.value, item.error), f"{type(caught.value).__name__}: {caught.value}"
    assert re.search(item.names, str(caught.value), re.IGNORECASE), f"the message does not name the construct: {caught.value}"


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_division_by_zero_is_null(
    kind: str, corpus: CorpusSource, corpus_connect: Callable[..., piot.Connection], ray_session: None
) -> None:
    """x / 0 is NULL for integers, decimals and floats alike (as MySQL and SQLite answer), never infinity or an error."""
    cursor = corpus_connect(corpus).cursor()
    cursor.execute(
        corpus.sql(
            "SELECT quantity / 0 AS i, price / 0 AS f, price / (quantity - quantity) AS e, quantity / 2 AS half, quantity "
            "FROM {trades} WHERE trade_date BETWEEN '2024-01-01' AND '2024-01-31' AND quantity IS NOT NULL"
        )
    )
    rows = cursor.fetchall()
    assert rows and all(row[:3] == (None, None, None) and row[3] == row[4] // 2 for row in rows)
