"""CAISO fuel mix and load (Today's Outlook CSVs) and load forecasts (OASIS SLD_FCST).

What belongs here: the dataset specs, request building, payload checks and parsers of these three
datasets, as free functions the `Caiso` class dispatches to. OASIS price reports stay in `caiso`.

Today's Outlook (`https://www.caiso.com/outlook/history/YYYYMMDD/{fuelsource,demand}.csv`) is a
wide CSV of 5-minute rows stamped only with a local `HH:MM` "Time" (read as interval start, as
gridstatus does); the date is only in the URL, so requests keep it in the file name
(`fuelsource_YYYYMMDD.csv`) and the parsers read it back from there. Public code (gridstatus
caiso.py and its PR #354; other scrapers) reports a trailing next-day 00:00 row, blank 02:xx rows
on the spring-forward day, and a fall-back 01:xx hour listed once; the brief expected it twice.
All are accepted: the trailing midnight (the next file's first row) and blank rows are dropped, a
wall time that does not exist must be blank, a repeated 01:xx hour is placed by file order (PDT,
then PST), and a single 01:xx pass is read as PDT, leaving the PST hour as a visible gap.

SLD_FCST answers like every OASIS report (ZIP with one CSV, or an error XML); rows carry UTC
columns. One RTM run mixes RTD (5-minute) and RTPD (15-minute) rows under one MARKET_RUN_ID, so
`forecast_type` is MARKET_RUN_ID, or `MARKET_RUN_ID/EXECUTION_TYPE` when the two differ.
`publish_time` is when OASIS built the file (its member name, or an XML report's header): for a
past day that is the fetch time, not when the forecast was issued; OASIS keeps only the latest
forecast of each run. A CSV renamed after download no longer says it: its rows get a null
publish_time and the `rows_without_publish_time` note (the pipeline refuses null keys).
"""

import io
import re
import zipfile
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import polars as pl

from power_assets.errors import MalformedFileError, SchemaDriftError

# Attributes are read at call time, so caiso.py may import this module while it is loading.
from power_assets.isos import caiso as oasis
from power_assets.isos.base import (
    PUBLISH_TIME_UNKNOWN,
    DatasetKind,
    DatasetSpec,
    DownloadRequest,
    IntervalLabel,
    ValueBound,
)
from power_assets.isos.headers import header_line
from power_assets.market_time import localize_wall_times
from power_assets.schemas import FUEL_MIX_COLUMNS, LOAD_COLUMNS, LOAD_FORECAST_COLUMNS

ISO = "CAISO"
TIMEZONE = "America/Los_Angeles"
PACIFIC = ZoneInfo(TIMEZONE)
OUTLOOK_BASE_URL = "https://www.caiso.com/outlook"
FIVE_MINUTES, HOUR = timedelta(minutes=5), timedelta(hours=1)

EXTRA_DATASETS: dict[str, DatasetSpec] = {
    "fuel_mix": DatasetSpec(
        "fuel_mix", DatasetKind.FUEL_MIX, "RT5M", FIVE_MINUTES, IntervalLabel.START,
        "Generation by fuel, 5-minute, CAISO balancing area (Today's Outlook fuelsource.csv)",
    ),
    "load": DatasetSpec(
        "load", DatasetKind.LOAD, "RT5M", FIVE_MINUTES, IntervalLabel.START,
        "Current demand, 5-minute, CAISO balancing area (Today's Outlook demand.csv)",
    ),
    "load_forecast": DatasetSpec(
        "load_forecast", DatasetKind.LOAD_FORECAST, "DAM", HOUR, IntervalLabel.START,
        "Hourly load forecasts per TAC area: 7-day, 2-day and day-ahead runs (SLD_FCST)",
    ),
}  # fmt: skip

# Hourly runs only: RTM adds 5- and 15-minute rows that do not fit an hourly dataset's grid, and
# ACTUAL is metered load, not a forecast. The parser still reads both if given such files.
SLD_FCST_RUNS = ("7DA", "2DA", "DAM")
SLD_FCST_HEADER = (
    "INTERVALSTARTTIME_GMT", "INTERVALENDTIME_GMT", "LOAD_TYPE", "OPR_DT", "OPR_HR",
    "OPR_INTERVAL", "MARKET_RUN_ID", "TAC_AREA_NAME", "LABEL", "XML_DATA_ITEM", "POS", "MW",
    "EXECUTION_TYPE", "GROUP",
)  # fmt: skip
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

EXTRA_VALUE_BOUNDS: tuple[ValueBound, ...] = (
    ValueBound(
        DatasetKind.LOAD, 2000, 2100, 0.0, 70_000.0,
        "CAISO record peak about 52 GW (Sept. 2022); headroom for growth",
    ),
    ValueBound(
        DatasetKind.LOAD_FORECAST, 2000, 2100, -100.0, 70_000.0,
        "Largest TAC area is the CAISO total; small WEIM areas may forecast about zero",
    ),
    ValueBound(
        DatasetKind.FUEL_MIX, 2000, 2100, -20_000.0, 60_000.0,
        "Batteries charge and imports turn to exports (negative); no fuel exceeds total load",
    ),
)  # fmt: skip

_NAME_DATE = re.compile(r"(?<!\d)(\d{8})(?!\d)")
# OASIS member names end `_YYYYMMDD_HH_MM_SS_v1.csv`: when OASIS built the file, Pacific time.
_OASIS_STAMP = re.compile(r"_(\d{8})_(\d{2})_(\d{2})_(\d{2})_v\d+\.(?:csv|xml)$", re.IGNORECASE)


# -- requests ---------------------------------------------------------------------------------


def extra_requests_for_day(
    iso_id: str,
    dataset_id: str,
    day: date,
    market_day_bounds: Callable[[date], tuple[datetime, datetime]],
) -> list[DownloadRequest]:
    """The requests that fetch one market day of `fuel_mix`, `load` or `load_forecast`."""
    start, end = market_day_bounds(day)
    common = {"iso": iso_id, "dataset": dataset_id, "window_start": start, "window_end": end}
    if dataset_id in OUTLOOK_FILES:
        stem, folder = OUTLOOK_FILES[dataset_id], f"{day:%Y%m%d}"
        # The file name keeps the day: the CSV itself has only HH:MM (see outlook_day).
        name = f"{stem}_{folder}.csv"
        path = f"history/{folder}/{stem}.csv"
        return [DownloadRequest(**common, path=path, params=(), file_name=name, endpoint="outlook")]
    if dataset_id == "load_forecast":
        window = (
            ("startdatetime", start.strftime(oasis.OASIS_TIME_FORMAT)),
            ("enddatetime", end.strftime(oasis.OASIS_TIME_FORMAT)),
        )
        base = (("resultformat", "6"), ("queryname", "SLD_FCST"), ("version", "1"))
        return [
            DownloadRequest(
                **common,
                path="SingleZip",
                params=(*base, ("market_run_id", run), *window),
                # The same shape as caiso.py's names and FakeOasis's recording names.
                file_name=f"SLD_FCST_{run}_{start:%Y%m%dT%H%M}Z_{end:%Y%m%dT%H%M}Z.zip",
            )
            for run in SLD_FCST_RUNS
        ]
    raise KeyError(
        f"{iso_id} has no extra dataset {dataset_id!r}; known: {', '.join(EXTRA_DATASETS)}"
    )


# -- payload checks ---------------------------------------------------------------------------


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


# -- Today's Outlook parsers ------------------------------------------------------------------


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


# -- OASIS SLD_FCST ---------------------------------------------------------------------------


def parse_sld_fcst(paths: Iterable[Path]) -> pl.DataFrame:
    """SLD_FCST ZIPs (as served), extracted CSVs, or legacy XML reports into LoadForecastSchema."""
    paths, frames = [Path(p) for p in paths], []
    for path in paths:
        suffix = path.suffix.lower()
        if suffix == ".zip":
            try:
                with zipfile.ZipFile(path) as archive:
                    for name in archive.namelist():
                        frames.extend(_read_sld_member(archive.read(name), f"{path}!{name}"))
            except zipfile.BadZipFile as exc:
                raise MalformedFileError(f"{path}: not a readable ZIP: {exc}") from exc
        elif suffix in (".csv", ".xml"):
            frames.extend(_read_sld_member(path.read_bytes(), str(path)))
        else:
            raise MalformedFileError(
                f"{path}: SLD_FCST files are .zip, .csv or .xml, not {suffix!r}"
            )
    long = _concat(frames, "load_forecast")
    run, execution = pl.col("run"), pl.col("execution")
    forecast_type = (
        pl.when(execution.is_null() | (execution == "") | (execution == run))
        .then(run)
        .otherwise(pl.concat_str(run, pl.lit("/"), execution))
    )
    try:
        out = long.select(
            pl.col("start").str.to_datetime(oasis.GMT_FORMAT, time_zone="UTC", time_unit="us")
            .alias("interval_start"),
            pl.col("end").str.to_datetime(oasis.GMT_FORMAT, time_zone="UTC", time_unit="us")
            .alias("interval_end"),
            pl.lit(ISO).alias("iso"),
            pl.col("area"),
            forecast_type.alias("forecast_type"),
            pl.col("publish_time").dt.cast_time_unit("us").dt.convert_time_zone("UTC"),
            pl.col("value").alias("load_mw"),
        )  # fmt: skip
    except pl.exceptions.PolarsError as exc:
        raise MalformedFileError(f"{paths}: bad SLD_FCST timestamps: {exc}") from exc
    return out.sort("area", "forecast_type", "interval_start").select(LOAD_FORECAST_COLUMNS)


def oasis_publish_time(name: str) -> datetime | None:
    """When OASIS built a file, from its member name (`..._20250221_01_09_58_v1.csv`), in UTC;
    None when the name has no OASIS stamp (a CSV renamed after download says nothing else).

    The stamp is Pacific time: the 2016 SLD_FCST sample is named `..._20160520_07_29_37_v1.xml`
    and its header says `2016-05-20T14:29:37-00:00`. A stamp in the repeated fall-back hour is
    read as its first (PDT) occurrence.
    """
    match = _OASIS_STAMP.search(name)
    if not match:
        return None
    stamp = datetime.strptime("".join(match.groups()), "%Y%m%d%H%M%S")
    return stamp.replace(tzinfo=PACIFIC).astimezone(ZoneInfo("UTC"))


def unknown_publish_times(frame: pl.DataFrame) -> dict[str, int]:
    """The note `parse_with_notes` gives for forecast rows whose file did not say when OASIS
    built it (ZIP member names and XML headers do; a renamed CSV does not)."""
    unknown = frame.get_column("publish_time").null_count()
    return {PUBLISH_TIME_UNKNOWN: unknown} if unknown else {}


def _read_sld_member(content: bytes, source: str) -> list[pl.DataFrame]:
    lowered = source.lower()
    if lowered.endswith(".xml"):
        oasis._raise_if_error_document(content, source)
        return [_read_sld_xml(content, source)]
    if lowered.endswith(".csv"):
        return [_read_sld_csv(content, source)]
    return []  # OASIS ZIPs hold nothing else


def _read_sld_csv(content: bytes, source: str) -> pl.DataFrame:
    header = header_line(content, source).strip().split(",")
    missing = [c for c in SLD_FCST_HEADER if c not in header]
    unexpected = [c for c in header if c not in SLD_FCST_HEADER]
    if missing or unexpected:
        raise SchemaDriftError(source, missing, unexpected)
    published = oasis_publish_time(source)
    text = ["INTERVALSTARTTIME_GMT", "INTERVALENDTIME_GMT", "MARKET_RUN_ID", "TAC_AREA_NAME",
            "EXECUTION_TYPE"]  # fmt: skip
    try:
        frame = pl.read_csv(
            content, columns=[*text, "MW"],
            schema_overrides={**dict.fromkeys(text, pl.String), "MW": pl.Float64},
        )  # fmt: skip
    except pl.exceptions.PolarsError as exc:
        raise MalformedFileError(f"{source}: cannot read CSV (MW must be numeric): {exc}") from exc
    return frame.select(
        pl.col("INTERVALSTARTTIME_GMT").alias("start"),
        pl.col("INTERVALENDTIME_GMT").alias("end"),
        pl.col("TAC_AREA_NAME").alias("area"),
        pl.col("MARKET_RUN_ID").alias("run"),
        pl.col("EXECUTION_TYPE").alias("execution"),
        pl.lit(published, dtype=pl.Datetime("us", "UTC")).alias("publish_time"),
        pl.col("MW").alias("value"),
    )


def _read_sld_xml(content: bytes, source: str) -> pl.DataFrame:
    """Legacy OASISReport XML: REPORT_ITEMs whose header names the run (MKT_TYPE)."""
    rows: list[tuple[str | None, ...]] = []
    run = execution = sent = None
    fields = ("INTERVAL_START_GMT", "INTERVAL_END_GMT", "RESOURCE_NAME", "VALUE")
    try:
        for _, element in ElementTree.iterparse(io.BytesIO(content)):
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "TimeDate":  # the header's UTC build time beats the Pacific name stamp
                sent = (element.text or "").strip()
            elif tag == "MKT_TYPE":
                run = (element.text or "").strip()
            elif tag == "EXECUTION_TYPE":
                execution = (element.text or "").strip()
            elif tag == "REPORT_DATA":
                found = {c.tag.rsplit("}", 1)[-1]: c.text for c in element}
                if any(f not in found for f in fields):
                    raise MalformedFileError(f"{source}: REPORT_DATA record lacks a field")
                rows.append((*(found[f] for f in fields), run, execution))
                element.clear()
    except ElementTree.ParseError as exc:
        raise MalformedFileError(f"{source}: unreadable OASIS XML: {exc}") from exc
    published = (
        datetime.strptime(sent, oasis.GMT_FORMAT).astimezone(ZoneInfo("UTC"))
        if sent
        else oasis_publish_time(source)
    )
    names = ["start", "end", "area", "value", "run", "execution"]
    frame = pl.DataFrame(rows, schema=dict.fromkeys(names, pl.String), orient="row")
    try:
        value = frame.get_column("value").cast(pl.Float64)
    except pl.exceptions.PolarsError as exc:
        raise MalformedFileError(f"{source}: non-numeric VALUE in REPORT_DATA: {exc}") from exc
    return frame.select(
        "start",
        "end",
        "area",
        "run",
        "execution",
        pl.lit(published, dtype=pl.Datetime("us", "UTC")).alias("publish_time"),
    ).with_columns(value.alias("value"))


def _concat(frames: list[pl.DataFrame], dataset: str) -> pl.DataFrame:
    if not frames:
        raise MalformedFileError(f"{ISO} {dataset}: no data files to parse")
    return pl.concat(frames, how="vertical")


EXTRA_PARSERS: dict[str, Callable[[Iterable[Path]], pl.DataFrame]] = {
    "fuel_mix": parse_fuel_mix,
    "load": parse_demand,
    "load_forecast": parse_sld_fcst,
}
