"""CAISO fuel mix and load from Today's Outlook CSVs: requests, payload check, parsers.

What belongs here: the `fuel_mix` and `load` datasets' requests, the check that an answer is an
Outlook CSV, and the parsers, as free functions the `Caiso` class (`definition`) dispatches to.
Today's Outlook lives on www.caiso.com, not on OASIS, and shares nothing with OASIS reports.

Today's Outlook (`https://www.caiso.com/outlook/history/YYYYMMDD/{fuelsource,demand}.csv`) is a
wide CSV of 5-minute rows stamped only with a local `HH:MM` "Time" (read as interval start, as
gridstatus does); the date is only in the URL, so requests keep it in the file name
(`fuelsource_YYYYMMDD.csv`) and the parsers read it back from there. Public code (gridstatus
caiso.py and its PR #354; other scrapers) reports a trailing next-day 00:00 row, blank 02:xx rows
on the spring-forward day, and a fall-back 01:xx hour listed once; the brief expected it twice.
All are accepted: the trailing midnight (the next file's first row) and blank rows are dropped, a
wall time that does not exist must be blank, a repeated 01:xx hour is placed by file order (PDT,
then PST), and a single 01:xx pass is read as PDT, leaving the PST hour as a visible gap.
"""

import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import polars as pl

from power_assets.errors import MalformedFileError, SchemaDriftError
from power_assets.isos.base import DownloadRequest
from power_assets.isos.headers import header_line
from power_assets.market_time import localize_wall_times
from power_assets.schemas import FUEL_MIX_COLUMNS, LOAD_COLUMNS

ISO = "CAISO"
TIMEZONE = "America/Los_Angeles"
OUTLOOK_BASE_URL = "https://www.caiso.com/outlook"
# The Outlook fuel columns as published in 2024; case varies in older files ("Natural gas").
OUTLOOK_FUELS = (
    "Solar", "Wind", "Geothermal", "Biomass", "Biogas", "Small hydro", "Coal", "Nuclear",
    "Natural Gas", "Large Hydro", "Batteries", "Imports", "Other",
)  # fmt: skip
DEMAND_VALUE = "Current demand"
# Forecast columns the Outlook also serves; the load dataset ignores them ("Demand response"
# appears from about 2023).
DEMAND_OTHER = ("Day ahead forecast", "Hour ahead forecast", "Demand response")
OUTLOOK_FILES = {"fuel_mix": "fuelsource", "load": "demand"}

_NAME_DATE = re.compile(r"(?<!\d)(\d{8})(?!\d)")


def outlook_request(
    iso_id: str, dataset_id: str, day: date, start: datetime, end: datetime
) -> DownloadRequest:
    """The Outlook CSV of `fuel_mix` or `load` for market day `day` ([start, end) in UTC)."""
    stem, folder = OUTLOOK_FILES[dataset_id], f"{day:%Y%m%d}"
    # The file name keeps the day: the CSV itself has only HH:MM (see outlook_day).
    name = f"{stem}_{folder}.csv"
    path = f"history/{folder}/{stem}.csv"
    return DownloadRequest(
        iso=iso_id,
        dataset=dataset_id,
        window_start=start,
        window_end=end,
        path=path,
        params=(),
        file_name=name,
        endpoint="outlook",
    )


def is_outlook_source(source: str) -> bool:
    """Whether a URL (or kept file name) is a Today's Outlook CSV rather than an OASIS answer."""
    name = urlsplit(source).path.rsplit("/", 1)[-1]
    return name in ("fuelsource.csv", "demand.csv") or bool(
        re.fullmatch(r"(fuelsource|demand)_\d{8}\.csv", name)
    )


def check_outlook_payload(content: bytes, source: str) -> None:
    """Raise MalformedFileError unless `content` looks like an Outlook CSV (header "Time,...")."""
    head = content[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise MalformedFileError(f"{source}: Today's Outlook answered an empty body, not a CSV")
    if head[:1] == b"<" or b"<html" in head.lower():
        # caiso.com answers unknown or unpublished days with a web page, sometimes under 200.
        raise MalformedFileError(
            f"{source}: Today's Outlook answered an HTML page instead of CSV (day not published, "
            f"or the URL moved); starts {head[:60]!r}"
        )
    if not head.startswith(b"Time,"):
        raise MalformedFileError(
            f"{source}: Today's Outlook CSV should start with a 'Time' column; starts {head[:60]!r}"
        )


# -- parsers ----------------------------------------------------------------------------------


def parse_fuel_mix(paths: Iterable[Path]) -> pl.DataFrame:
    """Outlook fuelsource.csv files into FuelMixSchema rows (fuel names kept as published)."""
    frames = []
    for path in paths:
        wide = _read_outlook(Path(path), OUTLOOK_FUELS, required=OUTLOOK_FUELS)
        fuels = [c for c in wide.columns if c not in ("interval_start", "interval_end")]
        long = wide.unpivot(
            on=fuels, index=["interval_start", "interval_end"], variable_name="fuel",
            value_name="mw",
        )  # fmt: skip
        frames.append(long.with_columns(pl.lit(ISO).alias("iso")))
    out = _concat(frames, "fuel_mix")
    return out.sort("fuel", "interval_start").select(FUEL_MIX_COLUMNS)


def parse_demand(paths: Iterable[Path]) -> pl.DataFrame:
    """Outlook demand.csv files into LoadSchema rows: the "Current demand" column, area CAISO."""
    frames = []
    for path in paths:
        wide = _read_outlook(
            Path(path), (DEMAND_VALUE, *DEMAND_OTHER), required=(DEMAND_VALUE,),
            value_columns=(DEMAND_VALUE,),
        )  # fmt: skip
        frames.append(
            wide.select(
                "interval_start",
                "interval_end",
                pl.lit(ISO).alias("iso"),
                pl.lit(ISO).alias("area"),
                pl.col(DEMAND_VALUE).alias("load_mw"),
            )
        )
    return _concat(frames, "load").sort("interval_start").select(LOAD_COLUMNS)


def outlook_day(path: Path) -> date:
    """The market day of an Outlook file, from the YYYYMMDD in its name (`demand_20241103.csv`)."""
    found = _NAME_DATE.findall(Path(path).name)
    if len(found) != 1:
        raise MalformedFileError(
            f"{path}: Outlook files carry no date inside; their name must hold exactly one "
            f"YYYYMMDD (e.g. fuelsource_20241103.csv), found {found or 'none'}"
        )
    try:
        return datetime.strptime(found[0], "%Y%m%d").date()
    except ValueError:
        raise MalformedFileError(f"{path}: {found[0]!r} in the name is not a date") from None


def _read_outlook(
    path: Path,
    known: Iterable[str],
    *,
    required: Iterable[str],
    value_columns: Iterable[str] | None = None,
) -> pl.DataFrame:
    """One Outlook CSV: UTC interval columns plus its value columns (Float64), blank rows gone."""
    content = path.read_bytes()
    check_outlook_payload(content, str(path))
    day = outlook_day(path)
    header = header_line(content, str(path)).strip().split(",")
    # Names compare case-blind: older files say "Natural gas" where 2024 files say "Natural Gas".
    present, known = {h.lower() for h in header}, {c.lower() for c in known} | {"time"}
    missing = [c for c in ("Time", *required) if c.lower() not in present]
    unexpected = [h for h in header if h.lower() not in known]
    if header[0] != "Time" and not missing:
        missing = ["Time (as the first column)"]
    if missing or unexpected:
        raise SchemaDriftError(str(path), missing, unexpected)
    values = list(value_columns) if value_columns is not None else header[1:]
    raw = pl.read_csv(content, infer_schema=False, columns=["Time", *values])
    frame = raw.with_columns(
        pl.col(c).str.strip_chars().cast(pl.Float64, strict=False) for c in values
    )
    for column in values:  # a non-numeric value is an error, not a silent null
        bad = raw.filter(frame[column].is_null() & (raw[column].str.strip_chars() != ""))
        if bad.height:
            raise MalformedFileError(
                f"{path}: column {column!r} holds non-numeric {bad[column][0]!r} at "
                f"Time {bad['Time'][0]}"
            )
    frame = _drop_trailing_midnight(frame, path)
    return _localize(frame, values, day, path)


def _drop_trailing_midnight(frame: pl.DataFrame, path: Path) -> pl.DataFrame:
    times = frame.get_column("Time").str.strip_chars()
    midnights = [i for i, t in enumerate(times) if t in ("00:00", "24:00") and i > 0]
    if not midnights:
        return frame
    if midnights != [frame.height - 1]:
        raise MalformedFileError(
            f"{path}: 'Time' 00:00 in the middle of the file (row {midnights[0] + 2})"
        )
    # The file closes with the next day's midnight, which is also the next file's first row.
    return frame.head(frame.height - 1)


def _localize(frame: pl.DataFrame, values: list[str], day: date, path: Path) -> pl.DataFrame:
    parts = pl.col("Time").str.strip_chars().str.extract_groups(r"^(\d{1,2}):(\d{2})$")
    frame = frame.with_columns(
        parts.struct.field("1").cast(pl.Int64).alias("_h"),
        parts.struct.field("2").cast(pl.Int64).alias("_m"),
    )
    bad = frame.filter(pl.col("_h").is_null() | (pl.col("_h") > 23) | (pl.col("_m") > 59))
    if bad.height:
        raise MalformedFileError(
            f"{path}: 'Time' must be HH:MM, got {bad['Time'].head(3).to_list()}"
        )
    midnight = datetime.combine(day, datetime.min.time())
    frame = frame.with_columns(
        (pl.lit(midnight) + pl.duration(hours=pl.col("_h"), minutes=pl.col("_m")))
        .dt.cast_time_unit("us")
        .alias("wall")
    )
    blank = pl.all_horizontal(pl.col(c).is_null() for c in values)
    exists = pl.col("wall").dt.replace_time_zone(
        TIMEZONE, ambiguous="earliest", non_existent="null"
    )
    phantom = frame.filter(exists.is_null())
    if phantom.filter(~blank).height:
        raise MalformedFileError(
            f"{path}: values at {phantom.filter(~blank)['Time'][0]}, a wall time that does not "
            f"exist on {day} (spring-forward gap)"
        )
    # Blank rows carry nothing (the spring gap, or the future part of today's file).
    kept = frame.filter(exists.is_not_null() & ~blank)
    kept = kept.with_columns(
        localize_wall_times(pl.col("wall"), TIMEZONE, by=[]).alias("interval_start")
    )
    steps = kept.get_column("interval_start").diff().drop_nulls()
    if steps.len() and steps.min() <= timedelta(0):
        raise MalformedFileError(
            f"{path}: 'Time' rows out of order or repeated beyond the fall-back hour"
        )
    return kept.select(
        "interval_start",
        (pl.col("interval_start") + pl.duration(minutes=5)).alias("interval_end"),
        *values,
    )


def _concat(frames: list[pl.DataFrame], dataset: str) -> pl.DataFrame:
    if not frames:
        raise MalformedFileError(f"{ISO} {dataset}: no data files to parse")
    return pl.concat(frames, how="vertical")
