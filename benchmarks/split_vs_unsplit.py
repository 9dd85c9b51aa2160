"""Split vs unsplit vs a plain connectorx read, side by side in one run, on the demo data.

Run by hand (never in tests):

    .venv/bin/python -m piot.demo --dir .demo
    .venv/bin/python benchmarks/split_vs_unsplit.py --catalog .demo/catalog.toml --repeat 5

Each contender answers the same aggregation over one year of trades; the table printed
gives the median wall time and its ratio to the plain connectorx read + Polars group-by
(the floor any reader of this SQLite file has to pay). Ray is started once before timing.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import connectorx
import polars as pl
import ray
from polars.testing import assert_frame_equal

import piot
from piot.connectors import load_catalog

QUERY = (
    "SELECT symbol, count(*) AS trades, sum(quantity) AS volume, avg(price) AS avg_price "
    "FROM markets.trades WHERE trade_date BETWEEN '2024-01-01' AND '2024-12-31' GROUP BY symbol"
)
RAW_SQL = (
    "SELECT symbol, quantity, price FROM trades WHERE trade_date >= '2024-01-01' AND trade_date < '2025-01-01'"
)


def timed(run: Callable[[], pl.DataFrame], repeat: int) -> tuple[float, pl.DataFrame]:
    """Median seconds of ``repeat`` runs (after one warm-up) and the last answer."""
    answer = run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        answer = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), answer


def same_answer(answer: pl.DataFrame, reference: pl.DataFrame) -> bool:
    """Equal after sorting, floats to a relative 1e-9 (sums in another order round differently)."""
    try:
        assert_frame_equal(answer.sort("symbol").select(reference.columns), reference, check_dtypes=False, rel_tol=1e-9)
    except AssertionError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", default=".demo/catalog.toml")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    url = load_catalog(Path(args.catalog)).source("markets").connectorx_url
    ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)

    def plain() -> pl.DataFrame:
        frame = pl.from_arrow(connectorx.read_sql(url, RAW_SQL, return_type="arrow"))
        assert isinstance(frame, pl.DataFrame)
        return frame.group_by("symbol").agg(
            pl.len().alias("trades"), pl.col("quantity").sum().alias("volume"), pl.col("price").mean().alias("avg_price")
        )

    def through_piot(**options: object) -> Callable[[], pl.DataFrame]:
        connection = piot.connect(args.catalog, **options)  # type: ignore[arg-type]

        def run() -> pl.DataFrame:
            return connection.cursor().execute(QUERY).fetch_polars()

        return run

    contenders = {
        "connectorx + Polars, one read": plain,
        "piot, unsplit (1 fragment)": through_piot(split=False),
        "piot, monthly (12 fragments)": through_piot(time_unit="monthly"),
        "piot, daily (366 fragments)": through_piot(time_unit="daily"),
    }
    results = {name: timed(run, args.repeat) for name, run in contenders.items()}
    base = results["connectorx + Polars, one read"][0]
    reference = results["connectorx + Polars, one read"][1].sort("symbol")
    print("| contender | median s | ratio to one read | same answer |\n| --- | ---: | ---: | --- |")
    for name, (seconds, answer) in results.items():
        print(f"| {name} | {seconds:.3f} | {seconds / base:.2f} | {same_answer(answer, reference)} |")
    ray.shutdown()


if __name__ == "__main__":
    main()
