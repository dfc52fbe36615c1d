"""Stage 3: a standardized long table becomes one column per location on the market day's full grid.

The grid is every interval of the ISO-local market day (23/24/25 hours), so missing intervals show
as rows of nulls rather than vanishing. Gaps shorter than one hour are forward-filled per location;
longer gaps stay null in full (never half-filled), so a user can tell a blip from an outage.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import polars as pl

from power_assets.isos.base import DatasetKind, DatasetSpec
from power_assets.kinds import kind_spec
from power_assets.market_time import expected_interval_starts

FILL_LIMIT = timedelta(hours=1)


@dataclass(frozen=True)
class FlattenReport:
    rows: int
    columns: int
    observed_cells: int
    filled_cells: int
    null_cells: int
    source_rows: int
    source_rows_with_value: int

    @property
    def rows_lost(self) -> int:
        """Source values that did not land in a cell (off-grid instants or collisions)."""
        return self.source_rows_with_value - self.observed_cells

    def metadata(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "location_columns": self.columns,
            "observed_cells": self.observed_cells,
            "forward_filled_cells": self.filled_cells,
            "null_cells": self.null_cells,
            "source_rows": self.source_rows,
        }


def latest_vintage(long: pl.DataFrame) -> pl.DataFrame:
    """For forecasts: per area and interval, only the most recently published value."""
    return long.sort("publish_time").group_by("area", "interval_start", maintain_order=True).last()


def market_day_grid(
    timezone: str, day: date, interval: timedelta, through: datetime | None = None
) -> pl.DataFrame:
    """The interval starts of the market day; of a day in progress, only those up to `through`."""
    grid = pl.DataFrame(expected_interval_starts(timezone, day, interval))
    return grid if through is None else grid.filter(pl.col("interval_start") <= through)


def flatten(
    long: pl.DataFrame,
    spec: DatasetSpec,
    timezone: str,
    day: date,
    through: datetime | None = None,
) -> tuple[pl.DataFrame, FlattenReport]:
    """Wide table on the market day's grid (up to `through` for a day still in progress: later
    intervals are not published yet, so they are not rows of nulls). Forecast datasets flatten
    their latest vintage."""
    kind = kind_spec(spec.kind)
    if spec.kind is DatasetKind.LOAD_FORECAST:
        long = latest_vintage(long)
    grid = market_day_grid(timezone, day, spec.interval, through)
    values = long.select(
        kind.series_name().alias("series"), "interval_start", pl.col(kind.value).alias("value")
    )
    series = values.select("series").unique().sort("series")
    if series.is_empty():
        empty = grid.with_columns((pl.col("interval_start") + spec.interval).alias("interval_end"))
        return empty, FlattenReport(empty.height, 0, 0, 0, 0, long.height, 0)
    on_grid = series.join(grid, how="cross").join(
        values, on=["series", "interval_start"], how="left"
    )
    if on_grid.height != series.height * grid.height:
        raise ValueError(
            f"{spec.id} {day}: several values for one location and interval; "
            "duplicates must be resolved before flattening"
        )
    # Runs strictly shorter than an hour: 11 five-minute intervals, 3 quarter hours, no hours.
    max_run = int(FILL_LIMIT / spec.interval) - 1
    missing = pl.col("value").is_null()
    run_id = missing.rle_id().over("series")
    run_length = pl.len().over("series", run_id)
    fillable = (
        missing
        & (run_length <= max_run)
        & pl.col("value").forward_fill().over("series").is_not_null()
    )
    filled = on_grid.sort("series", "interval_start").with_columns(
        pl.when(fillable)
        .then(pl.col("value").forward_fill().over("series"))
        .otherwise(pl.col("value"))
        .alias("filled"),
        fillable.alias("was_filled"),
    )
    stats = filled.select(
        pl.col("value").is_not_null().sum().alias("observed"),
        pl.col("was_filled").sum().alias("filled"),
        pl.col("filled").is_null().sum().alias("nulls"),
    ).row(0, named=True)
    wide = filled.pivot(on="series", index="interval_start", values="filled", sort_columns=True)
    wide = wide.sort("interval_start").select(
        "interval_start",
        (
            pl.col("interval_start")
            + pl.duration(microseconds=spec.interval // timedelta(microseconds=1))
        ).alias("interval_end"),
        pl.exclude("interval_start"),
    )
    report = FlattenReport(
        rows=wide.height,
        columns=series.height,
        observed_cells=stats["observed"],
        filled_cells=stats["filled"],
        null_cells=stats["nulls"],
        source_rows=long.height,
        source_rows_with_value=long.select(pl.col(kind.value).is_not_null().sum()).item(),
    )
    return wide, report
