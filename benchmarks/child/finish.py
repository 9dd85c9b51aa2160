"""The shape of a trades query applied in Polars to the rows read (for readers that only read)."""

from __future__ import annotations

import polars as pl


def finish(frame: pl.LazyFrame, shape: str, columns: list[str]) -> pl.LazyFrame:
    """``scan`` as read, ``group_by`` region and symbol, or ``top10`` by price (ties by trade_id); ``columns``: the scan's."""
    if shape == "group_by":
        return frame.group_by("region", "symbol").agg(
            pl.col("qty").sum().alias("volume"), pl.len().alias("trades"), pl.col("price").mean().alias("avg_price")
        )
    if shape == "top10":
        return frame.sort(["price", "trade_id"], descending=[True, False]).head(10).select(columns)
    return frame.select(columns)
