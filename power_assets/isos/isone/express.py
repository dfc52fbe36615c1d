"""ISO-NE's ISO Express static CSV reports: hourly and 5-minute LMPs, their file names and parsers.

What belongs here: the static reports' paths, columns and known locations, the UTC spans of the
six 5-minute files of a day (`rt5_windows`), and the parsers of the hourly (day-ahead, real-time)
and 5-minute LMP files. Splitting a file into its "C"/"H"/"D"/"T" records is `records`'s work.

Hourly LMPs are stamped by `Date` + `Hour Ending` ("01".."24", "02X" the repeated hour of the
fall-back day, no "02" on the spring-forward day); real-time 5-minute LMPs come in six files per
day, stamped by local wall-clock `Local Time`, the date only in the file name.
"""

import itertools
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path

import polars as pl

from power_assets.errors import MalformedFileError
from power_assets.isos.base import DatasetSpec
from power_assets.isos.isone.common import (
    EASTERN,
    TIMEZONE,
    interval_columns,
    refuse_rows_without_time,
)
from power_assets.isos.isone.records import read_records
from power_assets.market_time import UTC, hour_ending_starts
from power_assets.schemas import LMP_COLUMNS

STATIC = "static-transform/csv/histRpts"
RT5_BLOCKS = ("00-04", "04-08", "08-12", "12-16", "16-20", "20-24")
HOURLY_LMP_COLUMNS = [
    "Date", "Hour Ending", "Location ID", "Location Name", "Location Type",
    "Locational Marginal Price", "Energy Component", "Congestion Component",
    "Marginal Loss Component",
]  # fmt: skip
# The 5-minute files carry no date and no location name: the date is in the file name.
RT5_LMP_COLUMNS = [
    "Location ID", "Local Time", "Energy Component", "Congestion Component", "Loss Component", "LMP",
]  # fmt: skip
# Names and types of the locations the 5-minute files identify by id only (hub and load zones).
KNOWN_LOCATIONS = {
    "4000": (".H.INTERNAL_HUB", "HUB"), "4001": (".Z.MAINE", "LOAD ZONE"),
    "4002": (".Z.NEWHAMPSHIRE", "LOAD ZONE"), "4003": (".Z.VERMONT", "LOAD ZONE"),
    "4004": (".Z.CONNECTICUT", "LOAD ZONE"), "4005": (".Z.RHODEISLAND", "LOAD ZONE"),
    "4006": (".Z.SEMASS", "LOAD ZONE"), "4007": (".Z.WCMASS", "LOAD ZONE"),
    "4008": (".Z.NEMASSBOST", "LOAD ZONE"),
}  # fmt: skip
LOCATION_NAMES = {loc_id: name for loc_id, (name, _) in KNOWN_LOCATIONS.items()}
LOCATION_TYPES = {loc_id: kind for loc_id, (_, kind) in KNOWN_LOCATIONS.items()}
COMPONENTS = {"Energy Component": "energy", "Congestion Component": "congestion"}
HOURLY_VALUES = {"Locational Marginal Price": "lmp", **COMPONENTS, "Marginal Loss Component": "loss"}  # fmt: skip
RT5_VALUES = {"LMP": "lmp", **COMPONENTS, "Loss Component": "loss"}
HOUR, FIVE_MIN, DAY = timedelta(hours=1), timedelta(minutes=5), timedelta(days=1)


def rt5_windows(day: date) -> list[tuple[datetime, datetime]]:
    """UTC spans of the six 5-minute files: local 00-04 ... 20-24, placed with zoneinfo, so on the
    DST days the 00-04 file spans 3 or 5 real hours."""
    edges = [datetime.combine(day, time(hour), tzinfo=EASTERN) for hour in range(0, 24, 4)]
    edges.append(datetime.combine(day + DAY, time(0), tzinfo=EASTERN))
    utc = [edge.astimezone(UTC) for edge in edges]
    return list(itertools.pairwise(utc))


def _location_id() -> pl.Expr:
    """ISO-NE's own numeric id of the location ("Location ID"), as text; an empty cell is null."""
    ids = pl.col("Location ID").str.strip_chars()
    return pl.when(ids != "").then(ids).alias("location_id")


def _lmp_frame(frame: pl.DataFrame, market: str, step: timedelta) -> pl.DataFrame:
    return frame.select(
        *interval_columns(step),
        pl.lit(market).alias("market"),
        pl.col("location", "location_type", "location_id"),
        pl.lit(None, pl.Utf8).alias("baa"),
        pl.col("lmp", "energy", "congestion", "loss"),
        pl.lit(None, pl.Float64).alias("ghg"),
    ).select(LMP_COLUMNS)


def parse_hourly_lmp(path: Path, spec: DatasetSpec) -> pl.DataFrame:
    """One hourly LMP file (day-ahead, or real-time final or prelim, told by its name)."""
    source = str(path)
    records = read_records(path.read_bytes(), source)
    records.check_header(HOURLY_LMP_COLUMNS)
    market = spec.market
    if spec.id == "lmp_rt_hourly":
        kind = re.search(r"lmp_rt_(final|prelim)_", path.name)
        if kind is None:
            raise MalformedFileError(
                f"{source}: cannot tell final from prelim; keep the served name lmp_rt_final_"
                "YYYYMMDD.csv or lmp_rt_prelim_YYYYMMDD.csv"
            )
        market = f"RTH_{kind.group(1).upper()}"
    hour = pl.col("Hour Ending").str.strip_chars()
    frame = records.numbers(HOURLY_VALUES).with_columns(
        hour_ending_starts(
            pl.col("Date").str.strip_chars().str.to_date("%m/%d/%Y", strict=False),
            hour.str.strip_suffix("X").cast(pl.Int64, strict=False),
            hour.str.ends_with("X"),
            TIMEZONE,
        ).alias("interval_start"),
        pl.col("Location Name").alias("location"),
        pl.col("Location Type").alias("location_type"),
        _location_id(),
    )
    refuse_rows_without_time(
        frame, pl.col("interval_start").is_null(), ["Date", "Hour Ending"], source
    )
    return _lmp_frame(frame, market, HOUR)


def parse_rt5_lmp(path: Path) -> pl.DataFrame:
    """One 5-minute prelim LMP file; its day comes from its served name."""
    source = str(path)
    found = re.search(r"lmp_5min_(\d{8})_\d\d-\d\d", path.name)
    if found is None:
        raise MalformedFileError(
            f"{source}: 5-minute LMP files carry no date; keep the served name "
            "lmp_5min_YYYYMMDD_HH-HH.csv"
        )
    records = read_records(path.read_bytes(), source)
    records.check_header(RT5_LMP_COLUMNS)
    day = datetime.strptime(found.group(1), "%Y%m%d").date()
    clock = pl.col("Local Time").str.strip_chars()
    wall = pl.coalesce(
        clock.str.to_time("%H:%M:%S", strict=False), clock.str.to_time("%H:%M", strict=False)
    )
    ids = pl.col("Location ID").str.strip_chars()
    frame = records.numbers(RT5_VALUES).with_columns(
        (pl.lit(day).cast(pl.Datetime("us")) + wall.cast(pl.Duration("us"))).alias("wall"),
        ids.replace_strict(LOCATION_NAMES, default=ids).alias("location"),
        ids.replace_strict(LOCATION_TYPES, default="NODE_ID").alias("location_type"),
        _location_id(),
    )
    # The fall-back day repeats 01:00-01:55 with no marker; each location lists the daylight
    # hour first, so a wall time's first occurrence per location is daylight time.
    first = pl.int_range(pl.len()).over(["Location ID", "wall"]) == 0
    ambiguous = pl.when(first).then(pl.lit("earliest")).otherwise(pl.lit("latest"))
    frame = frame.with_columns(
        pl.col("wall")
        .dt.replace_time_zone(TIMEZONE, ambiguous=ambiguous, non_existent="null")
        .dt.convert_time_zone("UTC")
        .alias("interval_start")
    )
    refuse_rows_without_time(
        frame, pl.col("interval_start").is_null(), ["Location ID", "Local Time"], source
    )
    return _lmp_frame(frame, "RT5M", FIVE_MIN)
