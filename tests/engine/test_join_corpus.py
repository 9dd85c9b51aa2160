"""Joins across databases: every join type on every pair of sources, split == unsplit == DuckDB.

Three small tables with awkward rows (see ``join_corpus_data``) live in SQLite, PostgreSQL and
MariaDB alike. Each case is written once as a template whose tables sit on side ``a`` or ``b``
(and ``c`` for three-way joins). The join types (``CASES``) run for the pairs sqlite-postgres,
postgres-mysql, mysql-sqlite (every join crosses two databases; ``c`` is the third one) and
postgres-postgres (the same source on both sides); the edge cases (``EDGE_CASES``: NULL
semantics, keys of mixed types, subqueries as values, ORs over both tables) run on the three
pairs across databases. piot answers split monthly (and daily for short ranges) and unsplit;
DuckDB answers the same SQL over the same rows with real types (and PostgreSQL's NULL order).
The answers must agree after sorting (in order where ORDER BY fixes it), floats to a relative
tolerance.

A case that piot gets wrong or cannot run is listed in ``KNOWN_BUGS`` and expected to fail
(strictly, so that a fix shows).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from corpus_data import KIND_MARKS, Answer, answer_from_arrow, answer_from_rows, assert_same, run_cli
from join_corpus_data import DATE_COLUMNS, DIM, FACTS, ORDERS, TABLES, duckdb_oracle, load_script, write_sqlite

import piot

#: catalog source name of each kind of database
SOURCE_NAMES = {"sqlite": "lite", "postgres": "pg", "mysql": "my"}
#: (side a, side b, side c): three pairs across databases (c is the remaining one) and one same-source pair
PAIRS = (
    ("sqlite", "postgres", "mysql"),
    ("postgres", "mysql", "sqlite"),
    ("mysql", "sqlite", "postgres"),
    ("postgres", "postgres", "sqlite"),
)
CROSS_PAIRS = PAIRS[:3]


@dataclass(frozen=True)
class Case:
    """One join query (PostgreSQL dialect); ``{a_facts}``, ``{b_dim}``, ``{c_orders}``... name a table on a side.

    ``{b_facts_ts}`` is the facts table of side b split on its timestamp ``ts`` instead of ``d``.

    Attributes:
        name: the test id.
        sql: the query template.
        daily: also run split daily (short ranges only).
        ordered: ORDER BY fixes the row order, which is then compared too.
        empty: the answer has no rows (otherwise an empty answer is a mistake in the corpus).
        split_both: every dated table of the query must split in more than one fragment (the
            date bound is written on one side and carried over ``a.d = b.d``).
        whole: tables that must be read whole (one fragment) however the connection splits: their
            only date bounds must not filter their rows (an outer join's ON, a condition on the
            NULL-padded side).
    """

    name: str
    sql: str
    daily: bool = False
    ordered: bool = False
    empty: bool = False
    split_both: bool = False
    whole: tuple[str, ...] = ()


CASES: tuple[Case, ...] = (
    # -- INNER JOIN ... ON and the comma join ------------------------------------------------
    Case(
        "inner_on",
        "SELECT f.fact_id, f.d, f.k, x.label, x.weight FROM {a_facts} AS f JOIN {b_dim} AS x ON f.k = x.k "
        "WHERE f.d BETWEEN '2024-01-20' AND '2024-03-10'",
    ),
    Case(
        "inner_on_dim_first",
        "SELECT x.grp, f.fact_id, f.cust, f.amount FROM {a_dim} AS x INNER JOIN {b_facts} AS f ON x.k = f.k "
        "WHERE f.d >= '2024-02-26' AND f.d < '2024-03-04'",
        daily=True,
    ),
    Case(
        "inner_on_whole_tables_grouped",
        "SELECT f.k, COUNT(*) AS n, SUM(f.qty * o.qty) AS w, MIN(o.d) AS first_d, MAX(f.ts) AS last_ts "
        "FROM {a_facts} AS f JOIN {b_orders} AS o ON f.k = o.k GROUP BY f.k",
    ),
    Case(
        "comma_where",
        "SELECT f.fact_id, o.order_id, f.cust, o.price FROM {a_facts} AS f, {b_orders} AS o WHERE f.k = o.k AND f.d = o.d",
    ),
    Case(
        "comma_where_bounded",
        "SELECT f.fact_id, o.order_id, o.d FROM {a_facts} AS f, {b_orders} AS o "
        "WHERE f.k = o.k AND f.d = o.d AND o.d BETWEEN '2024-02-01' AND '2024-03-31'",
        split_both=True,
    ),
    Case(
        "comma_three_sources",
        "SELECT f.fact_id, o.order_id, x.label FROM {a_facts} AS f, {b_orders} AS o, {c_dim} AS x "
        "WHERE f.k = o.k AND f.d = o.d AND x.k = f.k AND f.d BETWEEN '2024-01-15' AND '2024-04-15'",
        split_both=True,
    ),
    Case(
        "null_keys_never_match",
        "SELECT f.fact_id, x.label FROM {a_facts} AS f JOIN {b_dim} AS x ON f.k = x.k WHERE f.k IS NULL",
        empty=True,
    ),
    # -- outer joins -------------------------------------------------------------------------
    Case(
        "left_join_dim",
        "SELECT f.fact_id, f.k, x.label, x.grp FROM {a_facts} AS f LEFT JOIN {b_dim} AS x ON f.k = x.k "
        "WHERE f.d BETWEEN '2024-03-01' AND '2024-04-30'",
    ),
    Case(
        "left_join_two_keys",
        "SELECT f.fact_id, o.order_id, o.price FROM {a_facts} AS f LEFT JOIN {b_orders} AS o ON f.k = o.k AND f.d = o.d "
        "WHERE f.d BETWEEN '2024-01-01' AND '2024-02-15'",
    ),
    Case(
        "left_join_dim_preserved_grouped",
        "SELECT x.k, x.label, COUNT(o.order_id) AS n, SUM(o.qty) AS qty FROM {a_dim} AS x LEFT JOIN {b_orders} AS o ON o.k = x.k "
        "GROUP BY x.k, x.label",
    ),
    Case(
        "left_join_is_null_anti",
        "SELECT f.fact_id, f.k FROM {a_facts} AS f LEFT JOIN {b_dim} AS x ON f.k = x.k "
        "WHERE x.k IS NULL AND f.d BETWEEN '2024-01-01' AND '2024-02-29'",
    ),
    Case(
        "left_where_filters_right_side",
        "SELECT f.fact_id, x.label FROM {a_facts} AS f LEFT JOIN {b_dim} AS x ON f.k = x.k "
        "WHERE x.grp = 'A' AND f.d BETWEEN '2024-01-01' AND '2024-02-29'",
    ),
    Case(
        "left_on_filters_right_side",
        "SELECT f.fact_id, f.k, x.label FROM {a_facts} AS f LEFT JOIN {b_dim} AS x ON f.k = x.k AND x.grp = 'A' "
        "WHERE f.d BETWEEN '2024-01-01' AND '2024-02-29'",
    ),
    Case(
        "left_on_condition_on_left_side",
        "SELECT f.fact_id, x.label FROM {a_facts} AS f LEFT JOIN {b_dim} AS x ON f.k = x.k AND f.qty > 50 "
        "WHERE f.d BETWEEN '2024-01-01' AND '2024-02-29'",
    ),
    Case(
        "left_on_date_bound_of_right_side",
        "SELECT f.fact_id, o.order_id FROM {a_facts} AS f LEFT JOIN {b_orders} AS o ON f.k = o.k "
        "AND o.d BETWEEN '2024-03-01' AND '2024-03-10' WHERE f.d BETWEEN '2024-03-05' AND '2024-03-12'",
        daily=True,
        whole=(ORDERS,),
    ),
    Case(
        "left_on_date_bound_of_left_side",
        "SELECT f.fact_id, o.order_id FROM {a_facts} AS f LEFT JOIN {b_orders} AS o ON f.k = o.k AND f.d = o.d "
        "AND f.d BETWEEN '2024-02-01' AND '2024-02-10'",
        whole=(FACTS, ORDERS),
    ),
    Case(
        "right_join_facts_preserved",
        "SELECT f.fact_id, x.label FROM {a_dim} AS x RIGHT JOIN {b_facts} AS f ON x.k = f.k WHERE f.d BETWEEN '2024-04-01' AND '2024-04-30'",
    ),
    Case(
        "right_join_dim_padded",
        "SELECT x.k, x.label, o.order_id FROM {a_orders} AS o RIGHT JOIN {b_dim} AS x ON o.k = x.k AND o.d = '2024-02-29'",
        whole=(ORDERS,),
    ),
    Case(
        "full_outer",
        "SELECT x.k AS dim_k, o.k AS order_k, o.order_id, x.label FROM {a_dim} AS x FULL OUTER JOIN {b_orders} AS o ON x.k = o.k",
    ),
    Case(
        "full_outer_of_bounded_subqueries",
        "SELECT f.fact_id, o.order_id, COALESCE(f.k, o.k) AS k FROM "
        "(SELECT fact_id, k, d FROM {a_facts} WHERE d BETWEEN '2024-01-20' AND '2024-02-29') AS f FULL JOIN "
        "(SELECT order_id, k, d FROM {b_orders} WHERE d BETWEEN '2024-02-15' AND '2024-03-15') AS o ON f.k = o.k AND f.d = o.d",
        split_both=True,
    ),
    Case(
        "full_outer_where_on_both_sides",
        "SELECT f.fact_id, o.order_id, COALESCE(f.d, o.d) AS day FROM {a_facts} AS f FULL JOIN {b_orders} AS o "
        "ON f.k = o.k AND f.d = o.d WHERE COALESCE(f.d, o.d) BETWEEN '2024-03-01' AND '2024-03-15'",
        whole=(FACTS, ORDERS),
    ),
    # -- CROSS JOIN ------------------------------------------------------------------------------
    Case(
        "cross_join_small_inputs",
        "SELECT x.label, o.order_id, o.qty * x.weight AS w FROM {a_dim} AS x CROSS JOIN {b_orders} AS o "
        "WHERE x.grp = 'A' AND o.d BETWEEN '2024-02-28' AND '2024-03-01'",
        daily=True,
    ),
    # -- semi and anti joins -----------------------------------------------------------------------
    Case(
        "semi_in_subquery",
        "SELECT f.fact_id, f.k, f.amount FROM {a_facts} AS f WHERE f.k IN (SELECT x.k FROM {b_dim} AS x WHERE x.grp = 'A') "
        "AND f.d BETWEEN '2024-01-10' AND '2024-03-20'",
    ),
    Case(
        "semi_in_dated_subquery",
        "SELECT x.k, x.label FROM {a_dim} AS x WHERE x.k IN (SELECT o.k FROM {b_orders} AS o WHERE o.d BETWEEN '2024-03-28' AND '2024-04-03')",
        daily=True,
    ),
    Case(
        "semi_exists_correlated",
        "SELECT f.fact_id, f.d FROM {a_facts} AS f WHERE EXISTS (SELECT 1 FROM {b_orders} AS o WHERE o.k = f.k AND o.d = f.d) "
        "AND f.d BETWEEN '2024-02-01' AND '2024-04-10'",
    ),
    Case(
        "anti_not_in_subquery_with_null",
        "SELECT f.fact_id FROM {a_facts} AS f WHERE f.k NOT IN (SELECT x.k FROM {b_dim} AS x) AND f.d BETWEEN '2024-01-01' AND '2024-04-30'",
        empty=True,
    ),
    Case(
        "anti_not_in_count_with_null",
        "SELECT COUNT(*) AS n FROM {a_facts} AS f WHERE f.k NOT IN (SELECT x.k FROM {b_dim} AS x)",
    ),
    Case(
        "anti_not_in_subquery_without_null",
        "SELECT f.fact_id, f.k FROM {a_facts} AS f WHERE f.k NOT IN (SELECT x.k FROM {b_dim} AS x WHERE x.k IS NOT NULL) "
        "AND f.d BETWEEN '2024-01-01' AND '2024-04-30'",
    ),
    Case(
        "anti_not_in_dated_subquery",
        "SELECT x.k, x.label FROM {a_dim} AS x WHERE x.k NOT IN "
        "(SELECT o.k FROM {b_orders} AS o WHERE o.k IS NOT NULL AND o.d BETWEEN '2024-01-01' AND '2024-02-29')",
    ),
    Case(
        "anti_not_exists",
        "SELECT f.fact_id, f.k FROM {a_facts} AS f WHERE NOT EXISTS (SELECT 1 FROM {b_dim} AS x WHERE x.k = f.k) "
        "AND f.d BETWEEN '2024-02-01' AND '2024-03-31'",
    ),
    Case(
        "anti_not_exists_two_keys",
        "SELECT o.order_id, o.k, o.d FROM {a_orders} AS o WHERE NOT EXISTS (SELECT 1 FROM {b_facts} AS f WHERE f.k = o.k AND f.d = o.d)",
    ),
    # -- USING -------------------------------------------------------------------------------------
    Case(
        "using_one_column",
        "SELECT k, f.fact_id, x.label FROM {a_facts} AS f JOIN {b_dim} AS x USING (k) WHERE f.d BETWEEN '2024-01-25' AND '2024-02-05'",
        daily=True,
    ),
    Case("using_two_columns", "SELECT k, d, f.fact_id, o.order_id FROM {a_facts} AS f JOIN {b_orders} AS o USING (k, d)"),
    Case(
        "using_two_columns_bounded",
        "SELECT f.d, COUNT(*) AS n, SUM(o.price) AS price FROM {a_facts} AS f JOIN {b_orders} AS o USING (k, d) "
        "WHERE f.d BETWEEN '2024-03-01' AND '2024-04-30' GROUP BY f.d",
        split_both=True,
    ),
    Case(
        "using_unqualified_column_bounded",
        "SELECT d, COUNT(*) AS n FROM {a_facts} AS f JOIN {b_orders} AS o USING (k, d) "
        "WHERE d BETWEEN '2024-02-10' AND '2024-03-20' GROUP BY d",
    ),
    Case("full_join_using", "SELECT k, x.label, o.order_id FROM {a_dim} AS x FULL JOIN {b_orders} AS o USING (k)"),
    Case(
        "using_select_star",
        "SELECT * FROM {a_dim} AS x JOIN {b_orders} AS o USING (k) WHERE o.d BETWEEN '2024-04-01' AND '2024-04-10'",
    ),
    # -- several keys, and conditions beyond equality -------------------------------------------------
    Case(
        "multi_key_bound_on_left",
        "SELECT f.fact_id, o.order_id, f.cust, o.cust AS order_cust FROM {a_facts} AS f JOIN {b_orders} AS o "
        "ON f.k = o.k AND f.d = o.d WHERE f.d BETWEEN '2024-01-15' AND '2024-03-15'",
        split_both=True,
    ),
    Case(
        "non_equality_extra_condition",
        "SELECT f.fact_id, o.order_id, f.qty, o.qty AS order_qty FROM {a_facts} AS f JOIN {b_orders} AS o ON f.k = o.k AND o.qty > f.qty "
        "WHERE f.d BETWEEN '2024-03-01' AND '2024-03-31' AND o.d BETWEEN '2024-03-01' AND '2024-04-30'",
    ),
    Case(
        "decimal_against_double_in_on",
        "SELECT f.fact_id, x.label FROM {a_facts} AS f JOIN {b_dim} AS x ON f.k = x.k AND f.amount > x.weight * 200 "
        "WHERE f.d BETWEEN '2024-02-01' AND '2024-02-29'",
    ),
    Case(
        "text_keys_case_and_blanks",
        "SELECT f.fact_id, o.order_id, f.cust FROM {a_facts} AS f JOIN {b_orders} AS o ON f.cust = o.cust AND f.k = o.k "
        "WHERE f.d BETWEEN '2024-01-01' AND '2024-01-31'",
    ),
    Case(
        "text_filter_loose_at_the_source",
        "SELECT f.fact_id, f.cust, x.label FROM {a_facts} AS f JOIN {b_dim} AS x ON f.k = x.k "
        "WHERE f.cust = 'bob' AND x.label LIKE 'item1%' AND f.d BETWEEN '2024-01-01' AND '2024-04-30'",
    ),
    Case(
        "timestamp_cast_to_date_key",
        "SELECT f.fact_id, o.order_id FROM {a_facts} AS f JOIN {b_orders} AS o ON CAST(f.ts AS DATE) = o.d AND f.k = o.k "
        "WHERE o.d BETWEEN '2024-02-01' AND '2024-02-29'",
    ),
    # -- three sources, self joins --------------------------------------------------------------------
    Case(
        "three_way_inner",
        "SELECT f.fact_id, o.order_id, x.label FROM {a_facts} AS f JOIN {b_orders} AS o ON f.k = o.k AND f.d = o.d "
        "JOIN {c_dim} AS x ON x.k = o.k WHERE o.d BETWEEN '2024-02-10' AND '2024-04-20'",
        split_both=True,
    ),
    Case(
        "three_way_left",
        "SELECT f.fact_id, x.label, o.order_id FROM {a_facts} AS f LEFT JOIN {c_dim} AS x ON x.k = f.k "
        "LEFT JOIN {b_orders} AS o ON o.k = f.k AND o.d = f.d WHERE f.d BETWEEN '2024-04-01' AND '2024-04-07'",
        daily=True,
    ),
    Case(
        "three_way_grouped",
        "SELECT x.grp, COUNT(DISTINCT f.fact_id) AS facts, COUNT(o.order_id) AS orders, SUM(o.price) AS revenue "
        "FROM {c_dim} AS x JOIN {a_facts} AS f ON f.k = x.k LEFT JOIN {b_orders} AS o ON o.k = f.k AND o.d = f.d GROUP BY x.grp",
    ),
    Case(
        "self_join",
        "SELECT f1.fact_id, f2.fact_id AS other_id FROM {a_facts} AS f1 JOIN {a_facts} AS f2 "
        "ON f1.k = f2.k AND f1.d = f2.d AND f1.fact_id < f2.fact_id WHERE f1.d BETWEEN '2024-01-01' AND '2024-03-31'",
        split_both=True,
    ),
    Case(
        "self_join_across_sources",
        "SELECT f1.k, COUNT(*) AS pairs, SUM(f2.qty) AS qty FROM {a_facts} AS f1 JOIN {b_facts} AS f2 ON f1.k = f2.k AND f1.cust = f2.cust "
        "WHERE f1.d BETWEEN '2024-01-01' AND '2024-01-31' AND f2.d BETWEEN '2024-02-01' AND '2024-03-31' GROUP BY f1.k",
    ),
    # -- a date bound carried across a.d = b.d --------------------------------------------------------
    Case(
        "bound_carried_from_right",
        "SELECT f.fact_id, o.order_id FROM {a_facts} AS f JOIN {b_orders} AS o ON f.d = o.d AND f.k = o.k "
        "WHERE o.d > '2024-01-31' AND o.d <= '2024-03-20'",
        split_both=True,
    ),
    Case(
        "bound_carried_daily",
        "SELECT f.d, COUNT(*) AS n, SUM(f.amount) AS amount, SUM(o.price) AS price FROM {a_facts} AS f JOIN {b_orders} AS o "
        "ON o.d = f.d WHERE f.d >= '2024-02-27' AND f.d < '2024-03-03' GROUP BY f.d",
        daily=True,
        split_both=True,
    ),
    Case(
        "cte_bounded_joined",
        "WITH recent AS (SELECT k, d, qty FROM {b_orders} WHERE d BETWEEN '2024-03-15' AND '2024-04-15') "
        "SELECT f.fact_id, r.qty FROM {a_facts} AS f JOIN recent AS r ON r.k = f.k AND r.d = f.d",
    ),
    Case(
        "derived_aggregate_joined",
        "SELECT f.fact_id, s.n FROM {a_facts} AS f JOIN (SELECT k, COUNT(*) AS n FROM {b_orders} GROUP BY k) AS s ON s.k = f.k "
        "WHERE f.d BETWEEN '2024-04-20' AND '2024-05-01'",
        daily=True,
    ),
    # -- aggregates, HAVING, ORDER BY, LIMIT over a join ------------------------------------------------
    Case(
        "group_having_order_limit",
        "SELECT x.grp, COUNT(*) AS n, SUM(f.amount) AS amount, AVG(f.qty) AS avg_qty FROM {a_facts} AS f JOIN {b_dim} AS x ON f.k = x.k "
        "WHERE f.d BETWEEN '2024-01-01' AND '2024-03-31' GROUP BY x.grp HAVING COUNT(*) > 10 ORDER BY n DESC, x.grp NULLS LAST LIMIT 3",
        ordered=True,
    ),
    Case(
        "order_by_aggregate_limit",
        "SELECT f.k, SUM(o.qty) AS qty FROM {a_facts} AS f JOIN {b_orders} AS o ON f.k = o.k WHERE f.d BETWEEN '2024-02-01' AND '2024-03-31' "
        "GROUP BY f.k ORDER BY qty DESC, f.k LIMIT 5",
        ordered=True,
    ),
    Case(
        "order_limit_offset_rows",
        "SELECT f.fact_id, o.order_id, o.price FROM {a_facts} AS f JOIN {b_orders} AS o ON f.k = o.k "
        "WHERE f.d BETWEEN '2024-03-01' AND '2024-03-31' ORDER BY o.price DESC, f.fact_id, o.order_id LIMIT 12 OFFSET 3",
        ordered=True,
    ),
    Case(
        "count_distinct_per_text_key",
        "SELECT o.cust, COUNT(DISTINCT f.k) AS keys, COUNT(*) AS n FROM {a_orders} AS o JOIN {b_facts} AS f ON f.k = o.k AND f.d = o.d "
        "GROUP BY o.cust",
    ),
)

EDGE_CASES: tuple[Case, ...] = (
    # -- NULLs on the padded side, in NOT IN, in ordering ---------------------------------------------
    Case(
        "left_where_right_or_is_null",
        "SELECT f.fact_id, x.label, x.grp FROM {a_facts} AS f LEFT JOIN {b_dim} AS x ON f.k = x.k "
        "WHERE (x.grp = 'A' OR x.grp IS NULL) AND f.d BETWEEN '2024-02-01' AND '2024-03-31'",
    ),
    Case(
        "left_join_of_parenthesised_inner_join",
        "SELECT f.fact_id, o.order_id, x.grp FROM {a_facts} AS f LEFT JOIN ({b_orders} AS o JOIN {c_dim} AS x ON o.k = x.k) "
        "ON f.k = o.k AND f.d = o.d WHERE (x.grp = 'A' OR x.grp IS NULL) AND f.d BETWEEN '2024-01-01' AND '2024-03-31'",
    ),
    Case(
        "anti_not_in_empty_subquery_keeps_null_keys",
        "SELECT f.fact_id, f.k FROM {a_facts} AS f WHERE f.k NOT IN (SELECT x.k FROM {b_dim} AS x WHERE x.grp = 'Z') "
        "AND f.d BETWEEN '2024-01-01' AND '2024-01-31'",
    ),
    Case(
        "anti_not_in_two_columns",
        "SELECT o.order_id FROM {a_orders} AS o WHERE (o.k, o.d) NOT IN "
        "(SELECT f.k, f.d FROM {b_facts} AS f WHERE f.k IS NOT NULL AND f.d IS NOT NULL) AND o.k IS NOT NULL AND o.d IS NOT NULL",
    ),
    Case(
        "order_by_padded_column_default_nulls",
        "SELECT f.fact_id, x.label FROM {a_facts} AS f LEFT JOIN {b_dim} AS x ON f.k = x.k "
        "WHERE f.d BETWEEN '2024-03-01' AND '2024-03-31' ORDER BY x.label DESC, f.fact_id LIMIT 15",
        ordered=True,
    ),
    Case(
        "order_by_padded_column_ascending",
        "SELECT o.order_id, f.fact_id FROM {a_orders} AS o LEFT JOIN {b_facts} AS f ON f.k = o.k AND f.d = o.d "
        "WHERE o.d BETWEEN '2024-04-01' AND '2024-05-10' ORDER BY f.fact_id, o.order_id",
        ordered=True,
    ),
    Case(
        "null_safe_equality_join",
        "SELECT f.fact_id, x.label FROM {a_facts} AS f JOIN {b_dim} AS x ON f.k IS NOT DISTINCT FROM x.k "
        "WHERE f.d BETWEEN '2024-01-01' AND '2024-04-30' AND f.k IS NULL",
    ),
    # -- join keys whose types differ between the sides ------------------------------------------------
    Case(
        "decimal_key_across_sources",
        "SELECT f1.fact_id, f2.fact_id AS other_id FROM {a_facts} AS f1 JOIN {b_facts} AS f2 ON f1.amount = f2.amount "
        "WHERE f1.d BETWEEN '2024-03-01' AND '2024-03-31'",
    ),
    Case(
        "timestamp_equals_date_key",
        "SELECT f.fact_id, o.order_id FROM {a_facts} AS f JOIN {b_orders} AS o ON f.ts = o.d AND f.k = o.k "
        "WHERE o.d BETWEEN '2024-01-01' AND '2024-04-30'",
    ),
    Case(
        "integer_key_against_double",
        "SELECT f.fact_id, x.label FROM {a_facts} AS f JOIN {b_dim} AS x ON f.qty = x.k * 1.0 WHERE f.d BETWEEN '2024-01-01' AND '2024-01-31'",
    ),
    # -- join conditions that are not a conjunction of equalities ----------------------------------
    Case(
        "exists_with_range_correlation",
        "SELECT f.fact_id FROM {a_facts} AS f WHERE EXISTS (SELECT 1 FROM {b_orders} AS o WHERE o.k = f.k AND o.d > f.d) "
        "AND f.d BETWEEN '2024-04-01' AND '2024-04-30'",
    ),
    Case(
        "or_in_on",
        "SELECT f.fact_id, x.label FROM {a_facts} AS f JOIN {b_dim} AS x ON f.k = x.k OR f.qty = x.k "
        "WHERE f.d BETWEEN '2024-01-01' AND '2024-01-15'",
    ),
    Case(
        "on_true",
        "SELECT x.label, o.order_id FROM {a_dim} AS x JOIN {b_orders} AS o ON TRUE WHERE x.grp = 'B' AND o.d = '2024-03-01'",
    ),
    # -- bounds on both sides --------------------------------------------------------------------------
    Case(
        "half_bounds_on_each_side",
        "SELECT f.fact_id, o.order_id FROM {a_facts} AS f JOIN {b_orders} AS o ON f.d = o.d AND f.k = o.k "
        "WHERE f.d >= '2024-02-01' AND o.d < '2024-04-01'",
        split_both=True,
    ),
    Case(
        "overlapping_bounds_on_each_side",
        "SELECT f.d, COUNT(*) AS n FROM {a_facts} AS f JOIN {b_orders} AS o ON f.d = o.d "
        "WHERE f.d BETWEEN '2024-02-20' AND '2024-03-05' AND o.d > '2024-02-25' AND o.d <= '2024-03-10' GROUP BY f.d",
        daily=True,
        split_both=True,
    ),
    Case(
        "alias_reused_inside_subquery",
        "SELECT f.fact_id FROM {a_facts} AS f WHERE f.k IN (SELECT f.k FROM {b_orders} AS f WHERE f.d BETWEEN '2024-03-01' AND '2024-03-05') "
        "AND f.d BETWEEN '2024-01-01' AND '2024-01-31'",
    ),
    # -- more shapes over a join --------------------------------------------------------------------------
    Case(
        "distinct_over_join",
        "SELECT DISTINCT x.grp, f.cust FROM {a_facts} AS f JOIN {b_dim} AS x ON f.k = x.k WHERE f.d BETWEEN '2024-02-01' AND '2024-03-31'",
    ),
    Case(
        "union_of_joins",
        "SELECT f.k, x.label FROM {a_facts} AS f JOIN {b_dim} AS x ON f.k = x.k WHERE f.d = '2024-02-29' "
        "UNION SELECT o.k, x.label FROM {b_orders} AS o JOIN {a_dim} AS x ON o.k = x.k WHERE o.d = '2024-02-29'",
    ),
    Case(
        "window_over_join",
        "SELECT f.fact_id, x.grp, SUM(f.qty) OVER (PARTITION BY x.grp) AS grp_qty FROM {a_facts} AS f JOIN {b_dim} AS x ON f.k = x.k "
        "WHERE f.d BETWEEN '2024-01-01' AND '2024-02-29'",
    ),
    Case(
        "right_on_condition_on_preserved_side",
        "SELECT x.k, x.label, o.order_id FROM {a_orders} AS o RIGHT JOIN {b_dim} AS x ON o.k = x.k AND x.grp = 'A' "
        "AND o.d BETWEEN '2024-04-01' AND '2024-04-30'",
        whole=(ORDERS,),
    ),
    Case(
        "count_distinct_with_padded_nulls",
        "SELECT f.cust, COUNT(DISTINCT x.grp) AS groups, COUNT(DISTINCT f.k) AS keys, MIN(x.label) AS first_label "
        "FROM {a_facts} AS f LEFT JOIN {b_dim} AS x ON f.k = x.k GROUP BY f.cust",
    ),
    Case(
        "concat_with_padded_nulls",
        "SELECT f.fact_id, f.cust || '/' || x.label AS tag, CASE WHEN x.k IS NULL THEN 'none' ELSE x.grp END AS grp "
        "FROM {a_facts} AS f LEFT JOIN {b_dim} AS x ON f.k = x.k WHERE f.d BETWEEN '2024-01-01' AND '2024-01-10'",
        daily=True,
    ),
    Case(
        "timestamp_bound_carried_to_date",
        "SELECT f.fact_id, o.order_id FROM {a_facts} AS f JOIN {b_orders} AS o ON f.ts = o.d AND f.k = o.k "
        "WHERE f.ts > '2024-01-31' AND f.ts < '2024-03-15 06:00'",
    ),
    Case(
        "intersect_keys_with_null",
        "SELECT k FROM {a_facts} WHERE d BETWEEN '2024-01-01' AND '2024-01-31' "
        "INTERSECT SELECT k FROM {b_orders} WHERE d BETWEEN '2024-01-01' AND '2024-02-29'",
    ),
    Case("except_keys_with_null", "SELECT k FROM {a_orders} EXCEPT SELECT k FROM {b_dim}"),
    # -- subqueries as values: three-valued IN, COUNT over no rows --------------------------------------
    Case(
        "in_subquery_as_a_value",
        "SELECT f.fact_id, f.k IN (SELECT x.k FROM {b_dim} AS x) AS listed, f.k IN (SELECT x.k FROM {b_dim} AS x WHERE x.k IS NOT NULL) "
        "AS listed_no_null FROM {a_facts} AS f WHERE f.d BETWEEN '2024-01-01' AND '2024-01-31'",
    ),
    Case(
        "correlated_count_is_zero_not_null",
        "SELECT f.fact_id, (SELECT COUNT(*) FROM {b_orders} AS o WHERE o.k = f.k AND o.d = f.d) AS n, "
        "(SELECT SUM(o.qty) FROM {b_orders} AS o WHERE o.k = f.k) AS qty FROM {a_facts} AS f WHERE f.d BETWEEN '2024-01-01' AND '2024-01-31'",
    ),
    Case(
        "exists_as_a_value",
        "SELECT f.fact_id, EXISTS (SELECT 1 FROM {b_orders} AS o WHERE o.k = f.k AND o.d = f.d) AS has_order FROM {a_facts} AS f "
        "WHERE f.d BETWEEN '2024-02-01' AND '2024-02-29'",
    ),
    Case(
        "compared_with_correlated_count",
        "SELECT f.fact_id FROM {a_facts} AS f WHERE f.qty > (SELECT COUNT(*) FROM {b_orders} AS o WHERE o.k = f.k) * 10 "
        "AND f.d BETWEEN '2024-01-01' AND '2024-02-29'",
    ),
    Case(
        "correlated_decimal_keys_across_sources",
        "SELECT f.fact_id FROM {a_facts} AS f WHERE EXISTS (SELECT 1 FROM {b_facts} AS g WHERE g.amount = f.amount AND g.fact_id <> f.fact_id)",
    ),
    Case(
        "in_subquery_decimal_keys_across_sources",
        "SELECT f.fact_id FROM {a_facts} AS f WHERE f.amount IN (SELECT g.amount FROM {b_facts} AS g WHERE g.d BETWEEN '2024-03-01' AND '2024-03-31')",
    ),
    # -- filters carried over key equalities -------------------------------------------------------------
    Case(
        "carried_in_list_between_key_columns",
        "SELECT f.fact_id, o.order_id FROM {a_facts} AS f JOIN {b_orders} AS o ON f.qty = o.k WHERE o.k IN (3, 5) "
        "AND f.d BETWEEN '2024-01-01' AND '2024-01-31'",
    ),
    Case(
        "carried_text_and_number_filters",
        "SELECT f.fact_id, o.order_id, f.cust FROM {a_facts} AS f JOIN {b_orders} AS o ON f.cust = o.cust AND f.k = o.k "
        "WHERE o.cust LIKE 'b%' AND o.k <> 7",
    ),
    Case(
        "carried_over_a_chain_of_keys",
        "SELECT f.fact_id, o.order_id, x.label FROM {a_facts} AS f JOIN {b_orders} AS o ON f.k = o.k JOIN {c_dim} AS x ON x.k = o.k "
        "WHERE x.k BETWEEN 5 AND 9 AND f.d BETWEEN '2024-02-01' AND '2024-03-31'",
    ),
    Case(
        "not_exists_with_outer_bound_inside",
        "SELECT f.fact_id FROM {a_facts} AS f WHERE NOT EXISTS "
        "(SELECT 1 FROM {b_orders} AS o WHERE o.k = f.k AND o.d = f.d AND f.d BETWEEN '2024-02-01' AND '2024-02-10')",
    ),
    # -- an OR over both tables: each side may read only what its part of every branch allows -----------------
    Case(
        "or_across_tables_with_nulls",
        "SELECT f.fact_id, o.order_id FROM {a_facts} AS f JOIN {b_orders} AS o ON o.k = f.k "
        "WHERE (f.cust = 'bob' AND o.qty > 50) OR (f.cust IS NULL AND o.qty < 20)",
    ),
    Case(
        "or_over_a_left_join_and_its_padding",
        "SELECT f.fact_id, x.label FROM {a_facts} AS f LEFT JOIN {b_dim} AS x ON f.k = x.k "
        "WHERE (f.qty > 90 AND x.grp = 'A') OR (f.qty < 10 AND x.grp IS NULL)",
    ),
    Case(
        "or_of_adjacent_date_ranges_across_tables",
        "SELECT f.fact_id, o.order_id FROM {a_facts} AS f JOIN {b_orders} AS o ON o.k = f.k "
        "WHERE (f.d BETWEEN '2024-01-01' AND '2024-01-31' AND o.qty > 50) OR (f.d BETWEEN '2024-02-01' AND '2024-02-29' AND o.qty < 20)",
    ),
    Case(
        "or_in_on_with_timestamps",
        "SELECT f.fact_id, o.order_id FROM {a_facts} AS f JOIN {b_orders} AS o ON f.k = o.k "
        "AND (f.ts >= '2024-02-29 12:00' AND o.d = '2024-02-29' OR f.ts < '2024-01-01 06:00' AND o.d = '2023-12-31')",
    ),
    # -- dates computed in the join condition ---------------------------------------------------------------
    Case(
        "next_day_equality",
        "SELECT f.fact_id, o.order_id FROM {a_facts} AS f JOIN {b_orders} AS o ON o.k = f.k AND o.d = f.d + 1 "
        "WHERE f.d BETWEEN '2024-02-01' AND '2024-02-29'",
    ),
    Case(
        "within_a_week_band_join",
        "SELECT f.fact_id, o.order_id FROM {a_facts} AS f JOIN {b_orders} AS o ON o.k = f.k AND o.d >= f.d "
        "AND o.d < f.d + INTERVAL '7 days' WHERE f.d BETWEEN '2024-02-01' AND '2024-02-29'",
    ),
    Case(
        "using_columns_of_mixed_numeric_types",
        "SELECT amount, f1.fact_id, f2.fact_id AS other_id FROM {a_facts} AS f1 JOIN {b_facts} AS f2 USING (amount, qty) "
        "WHERE f1.d BETWEEN '2024-03-01' AND '2024-03-31'",
    ),
    Case(
        "top_n_subquery_joined",
        "SELECT f.fact_id, t.order_id FROM {a_facts} AS f JOIN (SELECT order_id, k FROM {b_orders} ORDER BY price DESC, order_id LIMIT 10) AS t "
        "ON t.k = f.k",
    ),
    Case(
        "sum_distinct_over_join",
        "SELECT x.grp, SUM(DISTINCT o.qty) AS qty, COUNT(DISTINCT o.d) AS days FROM {a_dim} AS x JOIN {b_orders} AS o ON o.k = x.k "
        "GROUP BY x.grp",
    ),
    Case(
        "correlated_count_with_outer_condition",
        "SELECT f.fact_id, (SELECT COUNT(*) FROM {b_orders} AS o WHERE o.k = f.k AND f.qty > 50) AS n FROM {a_facts} AS f "
        "WHERE f.d BETWEEN '2024-03-01' AND '2024-03-31'",
    ),
    Case(
        "distinct_on_first_per_key",
        "SELECT DISTINCT ON (f.k) f.k, o.order_id FROM {a_facts} AS f JOIN {b_orders} AS o ON o.k = f.k "
        "WHERE f.d BETWEEN '2024-01-01' AND '2024-02-29' ORDER BY f.k, o.price DESC, o.order_id",
        ordered=True,
    ),
    Case(
        "row_number_first_per_key",
        "SELECT k, order_id FROM (SELECT f.k, o.order_id, ROW_NUMBER() OVER (PARTITION BY f.k ORDER BY o.price DESC, o.order_id) AS rn "
        "FROM {a_facts} AS f JOIN {b_orders} AS o ON o.k = f.k AND o.d = f.d WHERE f.d BETWEEN '2024-01-01' AND '2024-02-29') AS t "
        "WHERE rn = 1",
    ),
    # -- dates meeting timestamps across the join, one side split on each --------------------------------------
    Case(
        "date_bound_carried_to_a_timestamp_split",
        "SELECT f.fact_id, g.fact_id AS other_id, g.ts FROM {a_facts} AS f JOIN {b_facts_ts} AS g ON g.ts = f.d "
        "WHERE f.d BETWEEN '2024-01-15' AND '2024-03-10'",
        split_both=True,
    ),
    Case(
        "timestamp_bound_carried_to_a_date_split",
        "SELECT f.d, COUNT(*) AS n FROM {a_facts} AS f JOIN {b_facts_ts} AS g ON g.ts = f.d "
        "WHERE g.ts > '2024-01-31' AND g.ts <= '2024-03-01' GROUP BY f.d",
        split_both=True,
    ),
    Case(
        "range_past_the_data_daily",
        "SELECT f.fact_id, o.order_id, o.d FROM {a_facts} AS f JOIN {b_orders} AS o ON o.d = f.d AND o.k = f.k "
        "WHERE f.d BETWEEN '2024-04-28' AND '2024-05-06'",
        daily=True,
        split_both=True,
    ),
    Case(
        "having_on_aggregate_not_selected",
        "SELECT f.k, COUNT(*) AS n FROM {a_facts} AS f JOIN {b_orders} AS o ON f.k = o.k WHERE o.d BETWEEN '2024-01-01' AND '2024-03-31' "
        "GROUP BY f.k HAVING SUM(o.price) > 3000",
    ),
)

ALL_CASES = CASES + EDGE_CASES

CASES_BY_NAME = {case.name: case for case in ALL_CASES}
assert len(CASES_BY_NAME) == len(ALL_CASES), "case names must be unique"

#: (case, pair id or "*") -> the piot bug that makes it fail; each is an xfail(strict=True).
KNOWN_BUGS: dict[tuple[str, str], str] = {
    ("left_join_of_parenthesised_inner_join", "*"): (
        "the merge (Polars SQL) cannot join a parenthesised join group ('cannot JOIN on unnamed relation'): piot refuses "
        "it with NotSupportedError naming the parenthesised join"
    ),
    ("not_exists_with_outer_bound_inside", "*"): (
        "the merge (Polars SQL) cannot decorrelate a subquery condition that reads only the outer table: piot refuses it "
        "with NotSupportedError 'correlated subquery: the outer column ... is used in ...'"
    ),
    ("correlated_count_with_outer_condition", "*"): (
        "the merge (Polars SQL) cannot decorrelate a subquery condition that reads only the outer table: piot refuses it "
        "with NotSupportedError 'correlated subquery: the outer column ... is used in ...'"
    ),
    ("distinct_on_first_per_key", "*"): (
        "the merge (Polars SQL) resolves ORDER BY of a DISTINCT ON query against its output only: "
        "NotSupportedError 'unable to find column \"price\"'"
    ),
    ("anti_not_in_two_columns", "*"): (
        "the merge (Polars SQL) does not run a row-value IN subquery: piot refuses it with NotSupportedError 'a row value "
        "IN (subquery) is not supported'"
    ),
}


def _pair_id(pair: tuple[str, str, str]) -> str:
    return f"{pair[0]}-{pair[1]}"


def _sides(template: str) -> set[str]:
    """The sides (``a``, ``b``, ``c``) a template names tables on."""
    return {field[0] for _, field, _, _ in string.Formatter().parse(template) if field}


def _kinds(case: Case, pair: tuple[str, str, str]) -> set[str]:
    return {pair["abc".index(side)] for side in _sides(case.sql)}


def _params(cases: tuple[Case, ...]) -> list[Any]:
    """(case, pair) parameters: the join types on every pair, the edge cases across databases only (to keep the module quick)."""
    params = []
    for case in cases:
        for pair in PAIRS if case not in EDGE_CASES else CROSS_PAIRS:
            reason = KNOWN_BUGS.get((case.name, _pair_id(pair))) or KNOWN_BUGS.get((case.name, "*"))
            marks = [mark for kind in sorted(_kinds(case, pair)) for mark in KIND_MARKS[kind]]
            if reason:
                marks.append(pytest.mark.xfail(strict=True, reason=reason))
            params.append(pytest.param(case, pair, marks=marks, id=f"{case.name}-{_pair_id(pair)}"))
    return params


# -- the tables in each database, the oracle, and cached piot connections ----------------------------
@pytest.fixture(scope="module")
def jc_sqlite(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The three tables in a SQLite file of their own."""
    path: Path = tmp_path_factory.mktemp("join_corpus") / "joins.db"
    write_sqlite(path)
    return f"sqlite://{path}"


@pytest.fixture(scope="module")
def jc_postgres(pg_session_url: str) -> str:
    """The three tables in the session's PostgreSQL database."""
    run_cli("postgres", pg_session_url, "DROP TABLE IF EXISTS " + ", ".join(TABLES) + ";\n" + load_script("postgres"))
    return pg_session_url


@pytest.fixture(scope="module")
def jc_mysql(mysql_session_url: str) -> str:
    """The three tables in the session's MariaDB database."""
    run_cli("mysql", mysql_session_url, "DROP TABLE IF EXISTS " + ", ".join(TABLES) + ";\n" + load_script("mysql"))
    return mysql_session_url


@pytest.fixture(scope="module")
def oracle() -> Iterator[Any]:
    """DuckDB over the same rows."""
    handle = duckdb_oracle()
    handle.execute("SET default_null_order = 'nulls_last_on_asc_first_on_desc'")  # PostgreSQL's NULL order
    yield handle
    handle.close()


Connect = Callable[..., piot.Connection]


@pytest.fixture(scope="module")
def jc_connect() -> Iterator[Connect]:
    """``connect(urls, split=..., time_unit=...)``: one piot connection per set of sources and mode, reused."""
    cache: dict[tuple[Any, ...], piot.Connection] = {}

    def connect(urls: dict[str, str], *, split: bool = True, time_unit: str = "monthly") -> piot.Connection:
        key = (tuple(sorted(urls.items())), split, time_unit)
        if key not in cache:
            tables = {table: {"date_column": column} for table, column in DATE_COLUMNS.items()}
            sources = {SOURCE_NAMES[kind]: {"url": url, "tables": tables} for kind, url in urls.items()}
            # the same database once more, its facts split on the timestamp column
            sources |= {
                SOURCE_NAMES[kind] + "_ts": {"url": url, "tables": {FACTS: {"date_column": "ts"}}} for kind, url in urls.items()
            }
            cache[key] = piot.connect({"sources": sources}, split=split, time_unit=time_unit)
        return cache[key]

    yield connect
    for connection in cache.values():
        connection.close()


def _urls(case: Case, pair: tuple[str, str, str], request: pytest.FixtureRequest) -> dict[str, str]:
    return {kind: request.getfixturevalue(f"jc_{kind}") for kind in _kinds(case, pair)}


def _piot_sql(template: str, pair: tuple[str, str, str]) -> str:
    names = {
        f"{side}_{short}": f"{SOURCE_NAMES[kind]}.jc_{short}"
        for side, kind in zip("abc", pair)
        for short in ("facts", "orders", "dim")
    }
    names |= {f"{side}_facts_ts": f"{SOURCE_NAMES[kind]}_ts.jc_facts" for side, kind in zip("abc", pair)}
    return template.format(**names)


def _oracle_sql(template: str) -> str:
    names = {f"{side}_{short}": f"jc_{short}" for side in "abc" for short in ("facts", "orders", "dim")}
    return template.format(**names, **{f"{side}_facts_ts": FACTS for side in "abc"})


def _run(connection: piot.Connection, sql: str) -> Answer:
    cursor = connection.cursor()
    cursor.execute(sql)
    return answer_from_arrow(cursor.fetch_arrow())


def _scan_fragments(connection: piot.Connection, sql: str) -> list[tuple[str, int]]:
    """(table, fragments) for every scan of the plan, read from EXPLAIN's merge row.

    A scan that reads exactly the rows of an earlier one is shown as ``(the rows of __piot_tN)``
    and counts that scan's fragments.
    """
    cursor = connection.cursor()
    cursor.execute("EXPLAIN " + sql)
    rows = cursor.fetchall()
    merge_note = next(row[5] for row in rows if row[0] == "merge")
    found = re.findall(r"(__piot_t\d+) = (\S+) \((?:(\d+) fragment|the rows of (__piot_t\d+))", merge_note)
    counts = {name: int(n) for name, _, n, _ in found if n}
    assert sum(counts.values()) == sum(1 for row in rows if row[0] == "fragment"), merge_note
    return [(table.rsplit(".", 1)[-1], counts[name if n else same]) for name, table, n, same in found]


# -- tests ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("case", "pair"), _params(ALL_CASES))
def test_join_split_equals_unsplit_equals_duckdb(
    case: Case, pair: tuple[str, str, str], request: pytest.FixtureRequest, oracle: Any, jc_connect: Connect, ray_session: None
) -> None:
    """A join across databases gives DuckDB's rows whether split or not; a planner or merge mistake in joins shows here."""
    cursor = oracle.execute(_oracle_sql(case.sql))
    expected = answer_from_rows([d[0] for d in cursor.description], cursor.fetchall())
    assert (len(expected.rows) == 0) == case.empty, f"DuckDB gave {len(expected.rows)} rows"
    urls = _urls(case, pair, request)
    sql = _piot_sql(case.sql, pair)
    modes = [("split monthly", jc_connect(urls)), ("unsplit", jc_connect(urls, split=False))]
    if case.daily:
        modes.append(("split daily", jc_connect(urls, time_unit="daily")))
    for label, connection in modes:
        assert_same(_run(connection, sql), expected, f"{label}, {_pair_id(pair)}: {sql}", ordered=case.ordered)


@pytest.mark.parametrize(("case", "pair"), _params(tuple(c for c in ALL_CASES if c.split_both)))
def test_bound_on_one_side_splits_both(
    case: Case, pair: tuple[str, str, str], request: pytest.FixtureRequest, jc_connect: Connect
) -> None:
    """Every dated scan of a join bounded on one side splits; the dimension is read once; unsplit reads each once."""
    urls = _urls(case, pair, request)
    sql = _piot_sql(case.sql, pair)
    modes = [jc_connect(urls)] + ([jc_connect(urls, time_unit="daily")] if case.daily else [])
    for connection in modes:
        scans = _scan_fragments(connection, sql)
        dated = [(table, n) for table, n in scans if table in DATE_COLUMNS]
        assert len(dated) >= 2 and all(n > 1 for _, n in dated), scans
        assert all(n == 1 for table, n in scans if table == DIM), scans
    assert all(n == 1 for _, n in _scan_fragments(jc_connect(urls, split=False), sql))


@pytest.mark.parametrize(("case", "pair"), _params(tuple(c for c in ALL_CASES if c.whole)))
def test_outer_join_conditions_do_not_split(
    case: Case, pair: tuple[str, str, str], request: pytest.FixtureRequest, jc_connect: Connect
) -> None:
    """A date bound that must not filter a table (outer join ON, padded side) never splits its read: that would drop or pad rows."""
    urls = _urls(case, pair, request)
    sql = _piot_sql(case.sql, pair)
    for connection in (jc_connect(urls), jc_connect(urls, time_unit="daily")):
        scans = _scan_fragments(connection, sql)
        assert all(n == 1 for table, n in scans if table in case.whole), scans


SMALL_SIDE = (
    "SELECT x.grp, COUNT(*) AS n, SUM(f.qty * x.weight) AS w FROM {a_facts} AS f JOIN {b_dim} AS x ON f.k = x.k "
    "WHERE f.d BETWEEN '2024-01-01' AND '2024-04-30' GROUP BY x.grp"
)


@pytest.mark.parametrize(("case", "pair"), _params((Case("small_side", SMALL_SIDE),)))
def test_undated_side_is_read_once(
    case: Case, pair: tuple[str, str, str], request: pytest.FixtureRequest, jc_connect: Connect, oracle: Any, ray_session: None
) -> None:
    """A dimension joined to a split fact table is read in one fragment, not once per period of the facts."""
    urls = _urls(case, pair, request)
    sql = _piot_sql(case.sql, pair)
    assert _scan_fragments(jc_connect(urls), sql) == [(FACTS, 4), (DIM, 1)]
    assert _scan_fragments(jc_connect(urls, time_unit="daily"), sql) == [(FACTS, 121), (DIM, 1)]
    cursor = oracle.execute(_oracle_sql(case.sql))
    expected = answer_from_rows([d[0] for d in cursor.description], cursor.fetchall())
    assert_same(_run(jc_connect(urls), sql), expected, f"split monthly, {_pair_id(pair)}")
