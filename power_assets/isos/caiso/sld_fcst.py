"""CAISO load forecasts from OASIS SLD_FCST: requests (one per hourly run) and the parser.

What belongs here: the `load_forecast` dataset's requests, its parser and the note it gives for
rows without a publish time, as free functions the `Caiso` class (`definition`) dispatches to.
What SLD_FCST shares with every OASIS report (time formats, error documents) is `oasis`'s.

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
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import polars as pl

from power_assets.errors import MalformedFileError, SchemaDriftError
from power_assets.isos.base import PUBLISH_TIME_UNKNOWN, DownloadRequest
from power_assets.isos.caiso.oasis import (
    GMT_FORMAT,
    OASIS_TIME_FORMAT,
    raise_if_error_document,
)
from power_assets.isos.headers import header_line
from power_assets.schemas import LOAD_FORECAST_COLUMNS

ISO = "CAISO"
PACIFIC = ZoneInfo("America/Los_Angeles")

# Hourly runs only: RTM adds 5- and 15-minute rows that do not fit an hourly dataset's grid, and
# ACTUAL is metered load, not a forecast. The parser still reads both if given such files.
SLD_FCST_RUNS = ("7DA", "2DA", "DAM")
SLD_FCST_HEADER = (
    "INTERVALSTARTTIME_GMT", "INTERVALENDTIME_GMT", "LOAD_TYPE", "OPR_DT", "OPR_HR",
    "OPR_INTERVAL", "MARKET_RUN_ID", "TAC_AREA_NAME", "LABEL", "XML_DATA_ITEM", "POS", "MW",
    "EXECUTION_TYPE", "GROUP",
)  # fmt: skip

# OASIS member names end `_YYYYMMDD_HH_MM_SS_v1.csv`: when OASIS built the file, Pacific time.
_OASIS_STAMP = re.compile(r"_(\d{8})_(\d{2})_(\d{2})_(\d{2})_v\d+\.(?:csv|xml)$", re.IGNORECASE)


def sld_fcst_requests(
    iso_id: str, dataset_id: str, start: datetime, end: datetime
) -> list[DownloadRequest]:
    """One SingleZip request per hourly run (`SLD_FCST_RUNS`) for the UTC window [start, end)."""
    common = {"iso": iso_id, "dataset": dataset_id, "window_start": start, "window_end": end}
    window = (
        ("startdatetime", start.strftime(OASIS_TIME_FORMAT)),
        ("enddatetime", end.strftime(OASIS_TIME_FORMAT)),
    )
    base = (("resultformat", "6"), ("queryname", "SLD_FCST"), ("version", "1"))
    return [
        DownloadRequest(
            **common,
            path="SingleZip",
            params=(*base, ("market_run_id", run), *window),
            # The same shape as the price reports' names (`oasis_request`) and FakeOasis's
            # recording names.
            file_name=f"SLD_FCST_{run}_{start:%Y%m%dT%H%M}Z_{end:%Y%m%dT%H%M}Z.zip",
        )
        for run in SLD_FCST_RUNS
    ]


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
            pl.col("start").str.to_datetime(GMT_FORMAT, time_zone="UTC", time_unit="us")
            .alias("interval_start"),
            pl.col("end").str.to_datetime(GMT_FORMAT, time_zone="UTC", time_unit="us")
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
        raise_if_error_document(content, source)
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
        datetime.strptime(sent, GMT_FORMAT).astimezone(ZoneInfo("UTC"))
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
