"""How long a run will take, said before it starts (a rough model, calibrated on the 2-core machine).

Each contender process pays its start (a local Ray takes several seconds); each query costs
``repeat + 1`` runs of ``fixed + rows read × per-row cost``, with each contender's costs
measured at small scale here (see ``COSTS``); loading data that is not there yet adds its own
time. TPC-H queries are costed per lineitem row at the scale factor, an average over the 22.

Example:
    >>> round(run_seconds("connectorx", rows=1_000_000, periods=12))
    1
"""

from __future__ import annotations

from collections.abc import Iterable

#: contender key -> (seconds per run whatever the size, seconds per fragment, seconds per row read);
#: from the 200,000-row runs here (1 against 24 months), rounded towards an idle machine.
COSTS: dict[str, tuple[float, float, float]] = {
    "connectorx": (0.02, 0.0, 1.0e-6),
    "source": (0.02, 0.0, 1.0e-6),
    "copy": (0.06, 0.0, 0.6e-6),
    "piot_sql": (0.08, 0.004, 1.6e-6),
    "piot_polars": (0.10, 0.008, 2.4e-6),
    "pit": (0.10, 0.05, 4.0e-6),
    "pit_ray": (0.10, 0.35, 3.0e-6),
    "daft": (0.08, 0.03, 2.5e-6),
}
#: seconds a contender's process takes to start: with a local Ray, and without.
START_WITH_RAY, START_PLAIN = 12.0, 2.0
#: TPC-H, seconds per run per lineitem row, averaged over the 22 queries (piot from benchmarks/tpch.py at SF 0.1).
TPCH_PER_ROW = {"piot_sql": 0.95e-6, "piot_sql_unsplit": 0.75e-6, "source": 0.3e-6, "duckdb": 0.01e-6}
#: Loading when the data is missing: seconds per trades row per database, per lineitem row for TPC-H.
LOAD_TRADES_PER_ROW, LOAD_TPCH_PER_ROW = 15e-6, 40e-6
LINEITEM_PER_SF = 6_001_215


def run_seconds(contender: str, rows: int, periods: int) -> float:
    """One run of a trades query reading ``rows`` rows in ``periods`` fragments.

    >>> run_seconds("pit_ray", rows=100_000, periods=12) > 3 * run_seconds("pit", rows=100_000, periods=12)
    True
    """
    fixed, per_fragment, per_row = COSTS.get(contender, (0.5, 0.05, 3e-6))
    if contender == "pit_ray":  # every task reads the whole window (see child/run_pit.py)
        rows *= periods
    return fixed + per_fragment * periods + per_row * rows


def estimate(
    trades_runs: Iterable[tuple[str, int, int]],
    tpch_runs: Iterable[str],
    processes: Iterable[bool],
    repeat: int,
    scale: float,
    load_trades_rows: int,
    load_tpch: bool,
) -> float:
    """Seconds for the whole run.

    Args:
        trades_runs: (contender, rows read, fragments) per trades query and contender.
        tpch_runs: the contender of each TPC-H query and contender.
        processes: per contender process, whether it starts Ray.
        repeat: timed runs per query (one warm-up more).
        scale: TPC-H scale factor.
        load_trades_rows: trades rows to load (rows × databases missing them; 0 when all there).
        load_tpch: whether TPC-H must be generated and loaded.
    """
    lineitem = LINEITEM_PER_SF * scale
    total = sum(START_WITH_RAY if ray else START_PLAIN for ray in processes)
    total += (repeat + 1) * sum(run_seconds(c, rows, periods) for c, rows, periods in trades_runs)
    total += (repeat + 1) * sum(0.05 + TPCH_PER_ROW.get(c, 1e-6) * lineitem for c in tpch_runs)
    total += LOAD_TRADES_PER_ROW * load_trades_rows + (LOAD_TPCH_PER_ROW * lineitem if load_tpch else 0.0)
    return total
