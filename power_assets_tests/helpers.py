"""Small builders for standardized tables used by several test modules."""

from datetime import date, timedelta

import polars as pl

from power_assets.market_time import expected_interval_starts
from power_assets.schemas import LMP_COLUMNS

PACIFIC = "America/Los_Angeles"


def lmp_long(
    day: date,
    interval: timedelta,
    locations: list[str],
    market: str = "RT5M",
    timezone: str = PACIFIC,
) -> pl.DataFrame:
    """A complete standardized LMP table for a market day; lmp = index of the interval."""
    grid = expected_interval_starts(timezone, day, interval)
    frame = (
        pl.DataFrame({"location": locations})
        .join(pl.DataFrame(grid).with_row_index("i"), how="cross")
        .with_columns(
            (pl.col("interval_start") + interval).alias("interval_end"),
            pl.lit("CAISO").alias("iso"),
            pl.lit(market).alias("market"),
            pl.lit("APNODE").alias("location_type"),
            pl.lit(None, pl.Utf8).alias("location_id"),
            pl.lit(None, pl.Utf8).alias("baa"),
            pl.col("i").cast(pl.Float64).alias("lmp"),
            pl.col("i").cast(pl.Float64).alias("energy"),
            pl.lit(0.0).alias("congestion"),
            pl.lit(0.0).alias("loss"),
            pl.lit(None, pl.Float64).alias("ghg"),
        )
    )
    return frame.select(LMP_COLUMNS)
