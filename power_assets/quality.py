"""Data-quality rules shared by every ISO: duplicates, interval gaps, price bounds, rows lost.

Pure functions over polars frames returning what is wrong (empty when all is well); the asset checks
turn them into Dagster check results. Gaps are measured against the market day's full interval grid,
per location, so one missing five-minute interval is seen, not only whole missing days.
"""

from datetime import date, datetime, timedelta

import polars as pl

from power_assets.isos.base import ValueBound
from power_assets.market_time import expected_interval_starts


def duplicate_keys(frame: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """Each key that occurs more than once, with its count."""
    return frame.group_by(key).agg(pl.len().alias("count")).filter(pl.col("count") > 1).sort(key)


def interval_gaps(
    frame: pl.DataFrame,
    by: str,
    timezone: str,
    day: date,
    interval: timedelta,
    through: datetime | None = None,
) -> pl.DataFrame:
    """Per location: the expected interval starts it lacks, and instants that are off the grid.

    `through` (a day still in progress) ends the expected grid at that interval start: intervals
    the ISO cannot have published yet are not gaps.
    """
    grid = pl.DataFrame(expected_interval_starts(timezone, day, interval))
    if through is not None:
        grid = grid.filter(pl.col("interval_start") <= through)
    present = frame.select(by, "interval_start").unique()
    locations = present.select(by).unique()
    missing = (
        locations.join(grid, how="cross")
        .join(present, on=[by, "interval_start"], how="anti")
        .group_by(by)
        .agg(pl.col("interval_start").sort().alias("missing"))
    )
    off_grid = (
        present.join(grid, on="interval_start", how="anti")
        .group_by(by)
        .agg(pl.col("interval_start").sort().alias("off_grid"))
    )
    return (
        missing.join(off_grid, on=by, how="full", coalesce=True)
        .with_columns(
            pl.col("missing").fill_null(pl.lit([], dtype=pl.List(grid.schema["interval_start"]))),
            pl.col("off_grid").fill_null(pl.lit([], dtype=pl.List(grid.schema["interval_start"]))),
        )
        .sort(by)
    )


def out_of_bounds(
    frame: pl.DataFrame, columns: list[str], bound: ValueBound, required: list[str] = ()
) -> pl.DataFrame:
    """Rows where any column is outside the bound or not a finite number, or where a `required`
    column is empty (null). Nulls in the other columns are left to `missing_values`."""
    bad = pl.any_horizontal(
        *(
            (pl.col(c) < bound.minimum) | (pl.col(c) > bound.maximum) | pl.col(c).is_nan()
            | pl.col(c).is_infinite()
            for c in columns
        ),
        *(pl.col(c).is_null() for c in required),
    )  # fmt: skip
    return frame.filter(bad.fill_null(False))


def missing_values(
    frame: pl.DataFrame, columns: list[str], value: str
) -> tuple[pl.DataFrame, dict]:
    """Rows with an empty (null) value in `columns`, and the count per column.

    A column other than `value` that is null in every row is one the ISO does not publish for
    this dataset (e.g. ERCOT's LMP components), not a missing value, and is not counted.
    """
    if not columns or frame.is_empty():
        return frame.clear(), {}
    nulls = frame.select(pl.col(c).null_count() for c in columns).row(0, named=True)
    counted = [c for c in columns if nulls[c] and (c == value or nulls[c] < frame.height)]
    if not counted:
        return frame.clear(), {}
    rows = frame.filter(pl.any_horizontal(pl.col(c).is_null() for c in counted))
    return rows, {c: nulls[c] for c in counted}
