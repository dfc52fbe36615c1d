"""Stage 4: day-ahead, ancillary-service and real-time prices side by side, and their roll-ups.

Columns are prefixed by their source so one file can hold them all: `da__{location}`,
`as__{region}__{product}`, `rt__{location}` (native interval) and `rt_{mean,max,min,std}__{location}`
(hourly statistics of the real-time values actually published, not of forward-filled ones).
Monthly and yearly files are streamed from the daily ones without holding a year in memory.
"""

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from power_assets.io.files import atomic_path

TIME_COLUMNS = ["interval_start", "interval_end"]
RT_STATS = ("mean", "max", "min", "std")


def _prefixed(wide: pl.DataFrame, prefix: str) -> pl.DataFrame:
    return wide.rename({c: f"{prefix}__{c}" for c in wide.columns if c not in TIME_COLUMNS})


def hourly_mean(wide: pl.DataFrame) -> pl.DataFrame:
    """A sub-hourly wide table averaged per hour (start-labelled), e.g. 5-minute reserve prices."""
    values = [c for c in wide.columns if c not in TIME_COLUMNS]
    return (
        wide.group_by(pl.col("interval_start").dt.truncate("1h"), maintain_order=True)
        .agg(pl.col(values).mean())
        .with_columns((pl.col("interval_start") + pl.duration(hours=1)).alias("interval_end"))
        .select(*TIME_COLUMNS, *values)
    )


def da_as_hourly(da_wide: pl.DataFrame, as_wide: pl.DataFrame | None) -> pl.DataFrame:
    """Hourly DA LMPs and AS prices on the DA grid; without AS prices, DA alone."""
    joined = _prefixed(da_wide, "da")
    if as_wide is not None:
        joined = joined.join(
            _prefixed(as_wide, "as").drop("interval_end"), on="interval_start", how="left"
        )
    return joined.sort("interval_start")


def rt_hourly_stats(
    rt_long: pl.DataFrame, value: str = "lmp", by: str = "location"
) -> pl.DataFrame:
    """Mean, max, min and standard deviation per location and hour of the published RT values."""
    hourly = (
        rt_long.lazy()
        .filter(pl.col(value).is_not_null())
        .group_by(pl.col("interval_start").dt.truncate("1h").alias("hour"), by)
        .agg(
            pl.col(value).mean().alias("mean"),
            pl.col(value).max().alias("max"),
            pl.col(value).min().alias("min"),
            pl.col(value).std().alias("std"),
        )
        # Polars 2 collects on the streaming engine by default; its group sums (so means) can
        # differ from the in-memory engine's in the last bit. In-memory keeps 1.x's values.
        .collect(engine="in-memory")
    )
    if hourly.is_empty():
        return pl.DataFrame(schema={"interval_start": rt_long.schema["interval_start"]})
    wide = hourly.pivot(on=by, index="hour", values=list(RT_STATS), sort_columns=True)
    # polars names multi-value pivots "{value}_{column}"; rename to "rt_{stat}__{location}".
    renames = {}
    for column in wide.columns:
        for stat in RT_STATS:
            if column.startswith(f"{stat}_"):
                renames[column] = f"rt_{stat}__{column[len(stat) + 1 :]}"
    return wide.rename({"hour": "interval_start", **renames})


def da_as_rt_hourly(da_as: pl.DataFrame, rt_stats: pl.DataFrame) -> pl.DataFrame:
    stats_columns = sorted(c for c in rt_stats.columns if c != "interval_start")
    return da_as.join(
        rt_stats.select("interval_start", *stats_columns), on="interval_start", how="left"
    ).sort("interval_start")


def da_as_rt_native(da_as: pl.DataFrame, rt_wide: pl.DataFrame) -> pl.DataFrame:
    """RT at its native interval with the hour's DA and AS prices repeated on every interval."""
    hourly = da_as.drop("interval_end").rename({"interval_start": "hour"})
    native = _prefixed(rt_wide, "rt").with_columns(
        pl.col("interval_start").dt.truncate("1h").alias("hour")
    )
    joined = native.join(hourly, on="hour", how="left").drop("hour")
    da_as_columns = [c for c in hourly.columns if c != "hour"]
    rt_columns = [c for c in native.columns if c.startswith("rt__")]
    return joined.select(*TIME_COLUMNS, *da_as_columns, *rt_columns).sort("interval_start")


def union_schema(paths: Sequence[Path]) -> dict[str, pl.DataType]:
    """Column union of several parquet files, time columns first, others in sorted order."""
    schema: dict[str, pl.DataType] = {}
    for path in paths:
        for name, dtype in pl.read_parquet_schema(path).items():
            schema.setdefault(name, dtype)
    ordered = [c for c in TIME_COLUMNS if c in schema]
    ordered += sorted(c for c in schema if c not in TIME_COLUMNS)
    return {name: schema[name] for name in ordered}


def roll_up(sources: Sequence[Path], target: Path) -> dict[str, int]:
    """Concatenate daily (or monthly) files into one, streaming; a location that appears
    mid-period gets nulls before it appeared rather than breaking the concatenation."""
    schema = union_schema(sources)
    frames = []
    for path in sources:  # callers pass them in time order, so no (blocking) sort is needed
        present = pl.read_parquet_schema(path)
        frames.append(
            pl.scan_parquet(path).select(
                pl.col(name).cast(dtype) if name in present else pl.lit(None, dtype).alias(name)
                for name, dtype in schema.items()
            )
        )
    with atomic_path(target) as tmp:
        pl.concat(frames, how="vertical").sink_parquet(tmp, compression="zstd", statistics=True)
    rows = pl.scan_parquet(target).select(pl.len()).collect().item()
    return {"rows": rows, "columns": len(schema), "source_files": len(sources)}
