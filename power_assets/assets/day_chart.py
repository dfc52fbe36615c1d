"""A chart of one market day's prices that the asset page shows as it is: a markdown table with
one sparkline per series (the ISO's hubs for LMPs, each product for AS prices), hour by hour.

The UI renders markdown metadata but no images or scripts inside it, so the chart is text: each
hour is one of eight block characters (`▁` at the series' lowest hourly mean, `█` at its highest,
a blank where the hour has no price), with the series' low and high beside it. Hours are the
market day's clock hours in the ISO's time zone, in time order, so a DST day reads 23 or 25 wide.
Sub-hourly prices are averaged over each hour. The Plots tab charts the day's figures across days
(see pages.py); this shows the shape of the day itself.
"""

from datetime import date

import dagster as dg
import polars as pl

from power_assets.assets.pages import is_hub
from power_assets.isos.base import DatasetKind
from power_assets.kinds import kind_spec

BLOCKS = "▁▂▃▄▅▆▇█"
MAX_SERIES = 8


def _series(frame: pl.DataFrame, kind: DatasetKind) -> tuple[pl.DataFrame, str] | None:
    """The rows charted and the column naming each series: LMPs at the hubs (or, where the day
    has no hub, every location's average as one series); AS prices averaged over regions per
    product."""
    spec = kind_spec(kind)
    value = pl.col(spec.value)
    if kind is DatasetKind.LMP:
        hubs = frame.filter(is_hub(pl.col("location_type")))
        if hubs.height:
            names = hubs.select(pl.col("location").unique().sort().head(MAX_SERIES))
            chosen = hubs.filter(pl.col("location").is_in(names["location"].to_list()))
            return chosen.select("interval_start", "location", value.alias("value")), "location"
        every = pl.lit("all locations (mean)").alias("location")
        return frame.select("interval_start", every, value.alias("value")), "location"
    if kind is DatasetKind.AS_PRICE:
        names = frame.select(pl.col("product").unique().sort().head(MAX_SERIES))
        chosen = frame.filter(pl.col("product").is_in(names["product"].to_list()))
        return chosen.select("interval_start", "product", value.alias("value")), "product"
    return None


def hourly_profile(frame: pl.DataFrame, kind: DatasetKind, timezone: str) -> pl.DataFrame:
    """Per series and clock hour of the market day (UTC hours in time order, each labelled with
    its local hour): the mean price. Columns: series, hour_utc, local_hour, mean."""
    chosen = _series(frame, kind)
    if chosen is None or frame.is_empty():
        return pl.DataFrame(
            schema={
                "series": pl.String,
                "hour_utc": pl.Datetime("us", "UTC"),
                "local_hour": pl.Int8,
                "mean": pl.Float64,
            }
        )
    rows, name = chosen
    # A price published empty (null) or not a number is no point on the chart (the day's checks
    # report it); a series or hour left without any value is drawn blank or not at all.
    rows = rows.with_columns(pl.col("value").fill_nan(None))
    return (
        rows.group_by(pl.col(name).alias("series"), pl.col("interval_start").dt.truncate("1h"))
        .agg(pl.col("value").mean().alias("mean"))
        .rename({"interval_start": "hour_utc"})
        .with_columns(
            pl.col("hour_utc")
            .dt.convert_time_zone(timezone)
            .dt.hour()
            .cast(pl.Int8)
            .alias("local_hour")
        )
        .sort("series", "hour_utc")
    )


def sparkline(values: list[float | None]) -> str:
    """One block per value, scaled from the lowest (`▁`) to the highest (`█`) of them; a blank
    for a missing value; a flat series is all `▄`."""
    present = [v for v in values if v is not None]
    if not present:
        return " " * len(values)
    low, high = min(present), max(present)
    span = high - low
    top = len(BLOCKS) - 1
    return "".join(
        " " if v is None else BLOCKS[3] if span == 0 else BLOCKS[round((v - low) / span * top)]
        for v in values
    )


def day_chart_markdown(
    frame: pl.DataFrame, kind: DatasetKind, timezone: str, day: date
) -> str | None:
    """The day's chart as markdown, or None when there is nothing to chart."""
    profile = hourly_profile(frame, kind, timezone)
    if profile.is_empty():
        return None
    hours = profile.select("hour_utc", "local_hour").unique().sort("hour_utc")
    grid = (
        profile.select(pl.col("series").unique())
        .join(hours, how="cross")
        .join(profile.drop("local_hour"), on=["series", "hour_utc"], how="left")
        .sort("series", "hour_utc")
        .group_by("series", maintain_order=True)
        .agg(pl.col("mean"))
        .filter(pl.col("mean").list.drop_nulls().list.len() > 0)
    )
    if grid.is_empty():
        return None
    labels = hours["local_hour"].to_list()
    unit = "$/MWh" if kind is DatasetKind.LMP else "$/MW"
    what = "location" if kind is DatasetKind.LMP else "product"
    lines = [
        f"Hourly mean price ({unit}) of {day.isoformat()}, {len(labels)} clock hours "
        f"({timezone}) from {labels[0]:02d}:00 to {labels[-1]:02d}:00",
        "",
        f"| {what} | low | day | high |",
        "|---|---:|---|---:|",
    ]
    for series, means in grid.iter_rows():  # one row per series (at most MAX_SERIES)
        present = [m for m in means if m is not None]
        line = sparkline(means).replace(" ", "\u2002")  # keep blanks visible in the table
        lines.append(f"| {series} | {min(present):,.2f} | `{line}` | {max(present):,.2f} |")
    return "\n".join(lines)


def day_chart_metadata(
    frame: pl.DataFrame, kind: DatasetKind, timezone: str, day: date
) -> dict[str, dg.MetadataValue]:
    """`day_chart` for the partition's materialization, when the day has prices to chart."""
    chart = day_chart_markdown(frame, kind, timezone, day)
    return {} if chart is None else {"day_chart": dg.MetadataValue.md(chart)}
