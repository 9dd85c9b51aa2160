"""The valid queries the fuzzer mutates: the engine's corpora plus a few joins across sources.

Each seed is a PostgreSQL-dialect template over ``{trades}`` (split on trade_date),
``{trades_ts}`` (the same table split on ts) and ``{symbols}``; parameters of the corpus
cases are inlined as literals, so piot and the oracle read the same text.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))

from corpus_data import inline_parameters  # noqa: E402

_EXTRA = (
    "SELECT t.symbol, s.sector, COUNT(*) AS n FROM {trades} AS t JOIN {symbols} AS s ON s.symbol = t.symbol "
    "WHERE t.trade_date BETWEEN '2024-01-01' AND '2024-02-29' GROUP BY t.symbol, s.sector",
    "SELECT s.symbol, SUM(t.quantity) AS qty FROM {symbols} AS s LEFT JOIN {trades} AS t ON t.symbol = s.symbol "
    "AND t.trade_date >= DATE '2024-03-01' AND t.trade_date < DATE '2024-04-01' GROUP BY s.symbol",
    "SELECT trade_id, price * quantity AS notional FROM {trades} WHERE trade_date = '2024-02-29' AND price > 100.5",
    "SELECT venue, MIN(ts) AS first_ts, MAX(ts) AS last_ts FROM {trades_ts} WHERE ts >= '2024-01-01 00:00:00' "
    "AND ts < '2024-01-08 00:00:00' GROUP BY venue",
    "SELECT symbol, side, AVG(price) AS p FROM {trades} WHERE trade_date BETWEEN '2023-12-20' AND '2024-01-10' "
    "AND side IN ('BUY', 'SELL') AND venue IS NOT NULL GROUP BY symbol, side HAVING COUNT(*) > 2",
    "SELECT trade_id FROM {trades} WHERE trade_date BETWEEN '2024-01-01' AND '2024-01-31' AND symbol LIKE 'A%' "
    "AND quantity IN (1, 2, 3, 500, 999)",
    "SELECT COUNT(*) AS n FROM {trades} WHERE trade_date >= '2024-02-01' AND trade_date < '2024-03-01' "
    "AND CAST(price AS INTEGER) = 300",
    "SELECT trade_date, COUNT(*) AS n FROM {trades} WHERE trade_date BETWEEN '2024-02-25' AND '2024-03-05' "
    "GROUP BY trade_date ORDER BY trade_date",
    "SELECT symbol, quantity FROM {trades} WHERE trade_date BETWEEN '2024-04-01' AND '2024-04-30' AND "
    "quantity > (SELECT AVG(quantity) FROM {trades} WHERE trade_date BETWEEN '2024-04-01' AND '2024-04-30')",
    "SELECT a.trade_id, b.trade_id AS other FROM {trades} AS a JOIN {trades_ts} AS b ON a.trade_id = b.trade_id "
    "WHERE a.trade_date BETWEEN '2024-01-30' AND '2024-02-02' AND b.ts BETWEEN '2024-01-29' AND '2024-02-03'",
    "SELECT symbol FROM {trades} WHERE trade_date BETWEEN '2024-03-01' AND '2024-03-31' UNION "
    "SELECT symbol FROM {symbols} WHERE listed_on < DATE '2000-01-01'",
    "SELECT COALESCE(venue, 'none') AS v, SUM(CASE WHEN side = 'BUY' THEN quantity ELSE -quantity END) AS net "
    "FROM {trades} WHERE trade_date BETWEEN '2023-11-01' AND '2024-04-30' GROUP BY COALESCE(venue, 'none')",
    "SELECT * FROM {symbols} WHERE sector = 'TECH' AND listed_on IS NOT NULL",
    "SELECT EXTRACT(MONTH FROM trade_date) AS m, COUNT(DISTINCT symbol) AS k FROM {trades} WHERE trade_date "
    "BETWEEN '2023-11-15' AND '2024-02-15' GROUP BY EXTRACT(MONTH FROM trade_date)",
    "SELECT trade_id, ts FROM {trades_ts} WHERE ts > TIMESTAMP '2024-02-29 23:59:59.999999' AND ts <= "
    "TIMESTAMP '2024-03-01 00:00:00.000001'",
)


def _corpus_templates() -> list[str]:
    import test_corpus
    import test_sql_coverage

    templates = [inline_parameters(case.sql, case.params) for case in test_corpus.CASES]
    templates += [case.sql for case in test_sql_coverage.CASES]
    templates += [item.sql for item in test_sql_coverage.UNSUPPORTED]
    return templates


def seed_templates() -> tuple[str, ...]:
    """Every seed template, in a fixed order (the corpora's, then the extra joins and filters)."""
    return tuple(_corpus_templates()) + _EXTRA
