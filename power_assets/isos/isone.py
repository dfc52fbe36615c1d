"""ISO-NE: request building, payload checks and parsers for ISO Express CSVs and web services.

Prices come from ISO Express's static CSV reports (no account needed), in its "C"/"H"/"D"/"T"
record format (see `isone_records`): day-ahead and real-time hourly LMPs by `Date` + `Hour Ending`
("01".."24", "02X" the repeated hour of the fall-back day, no "02" on the spring-forward day), and
real-time 5-minute LMPs in six files per day by local wall-clock `Local Time`. Fuel mix, system load
and real-time reserve prices come from the web services (JSON, HTTP basic auth with an ISO Express
account), whose `BeginDate` carries its UTC offset, so those times are never ambiguous.
"""

import itertools
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

import polars as pl

from power_assets.errors import (
    IsoErrorResponse,
    IsoNoDataError,
    MalformedFileError,
    SchemaDriftError,
)
from power_assets.isos import isone_realtime as realtime
from power_assets.isos.base import (
    CombinedSources,
    DatasetKind,
    DatasetSpec,
    DayAheadSchedule,
    DownloadRequest,
    IntervalLabel,
    IsoDefinition,
    RealtimeFeed,
    ValueBound,
)
from power_assets.isos.isone_records import read_records
from power_assets.market_time import UTC, hour_ending_starts, market_day_bounds
from power_assets.schemas import AS_PRICE_COLUMNS, FUEL_MIX_COLUMNS, LMP_COLUMNS, LOAD_COLUMNS

TIMEZONE = "America/New_York"
EASTERN = ZoneInfo(TIMEZONE)
STATIC = "static-transform/csv/histRpts"
WEBSERVICES = "webservices"
USERNAME_ENV, PASSWORD_ENV = "POWER_ASSETS_ISONE_USERNAME", "POWER_ASSETS_ISONE_PASSWORD"
# RT hourly final LMPs appear some business days after the operating day; before this many days
# the prelim file is fetched (and labelled RTH_PRELIM) and refetched on every run until then.
RT_FINAL_LAG_DAYS = 7
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
# Reserve price columns of fiveminutereserveprice -> (ISO product, standardized product).
AS_PRODUCTS = {
    "TmsrClearingPrice": ("TMSR", "SPIN_10"),
    "TmnsrClearingPrice": ("TMNSR", "NON_SYNC_10"),
    "TmorClearingPrice": ("TMOR", "OPERATING_30"),
}
NO_DATA_TEXT = (b"no data exists", b"not available", b"no data available")
ERROR_KEYS = ("error", "errors", "fault", "message")


@dataclass(frozen=True)
class WebService:
    """One web-services report: path before `/day/{YYYYMMDD}` and its JSON shape
    `{wrapper: {record: [...]}}`; fields beyond `required | optional` are schema drift."""

    path: str
    wrapper: str
    record: str
    required: frozenset[str]
    optional: frozenset[str] = frozenset()


WEB_SERVICES = {
    "fuel_mix": WebService(
        "genfuelmix", "GenFuelMixes", "GenFuelMix",
        frozenset({"BeginDate", "GenMw", "FuelCategory"}),
        frozenset({"FuelCategoryRollup", "MarginalFlag"}),
    ),
    "load": WebService(
        "hourlysysload", "HourlySystemLoads", "HourlySystemLoad",
        frozenset({"BeginDate", "Location", "Load"}), frozenset({"NativeLoad", "ArdDemand"}),
    ),
    "as_rt": WebService(
        "fiveminutereserveprice/final", "FiveMinReservePrices", "FiveMinReservePrice",
        frozenset({"BeginDate", "ReserveZoneId", "ReserveZoneName", *AS_PRODUCTS}),
        # Only the system zone (ROS) carries the ten-minute requirements.
        frozenset({
            "TenMinSpinRequirement", "Total10MinRequirement", "Total30MinRequirement",
            "TmsrDesignatedMw", "TmnsrDesignatedMw", "TmorDesignatedMw",
        }),
    ),
}  # fmt: skip

HOUR, FIVE_MIN, DAY = timedelta(hours=1), timedelta(minutes=5), timedelta(days=1)
BEGIN_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%z"


def _spec(id_: str, kind: DatasetKind, market: str, step: timedelta, text: str) -> DatasetSpec:
    window = timedelta(hours=4) if id_ == "lmp_rt5" else DAY
    return DatasetSpec(id_, kind, market, step, IntervalLabel.START, text, request_window=window)


class Isone(IsoDefinition):
    id: ClassVar[str] = "ISONE"
    name: ClassVar[str] = "ISO New England (ISO Express)"
    timezone: ClassVar[str] = TIMEZONE
    default_base_url: ClassVar[str] = "https://www.iso-ne.com"
    extra_base_urls: ClassVar[dict[str, str]] = {
        WEBSERVICES: "https://webservices.iso-ne.com/api/v1.1"
    }
    min_request_spacing_s: ClassVar[float] = 1.0
    datasets: ClassVar[dict[str, DatasetSpec]] = {
        "lmp_da": _spec("lmp_da", DatasetKind.LMP, "DAM", HOUR,
            "Day-ahead hourly LMP, all locations (WW_DALMP_ISO)"),
        "lmp_rt_hourly": _spec("lmp_rt_hourly", DatasetKind.LMP, "RTH", HOUR,
            f"Real-time hourly LMP: the final file (market RTH_FINAL) for days at least "
            f"{RT_FINAL_LAG_DAYS} days old, else the preliminary one (market RTH_PRELIM)"),
        "lmp_rt5": _spec("lmp_rt5", DatasetKind.LMP, "RT5M", FIVE_MIN,
            "Real-time 5-minute preliminary LMP, six local 4-hour files a day; the files give "
            "location ids only: hub and load zones are named, other nodes keep their id"),
        "fuel_mix": _spec("fuel_mix", DatasetKind.FUEL_MIX, "RT", FIVE_MIN,
            "Generation by fine fuel category (web services genfuelmix), resampled to 5 minutes: "
            "a snapshot holds until the next one and a fuel it does not list is at 0 MW; an "
            "interval holding snapshots gets their mean, an interval without one the latest "
            "earlier snapshot (within the file's first and last snapshot)"),
        "load": _spec("load", DatasetKind.LOAD, "RT", HOUR,
            "Hourly system load (web services hourlysysload): Load, which includes ARD demand "
            "(NativeLoad excludes it), area as published (NEPOOL AREA)"),
        "as_rt": _spec("as_rt", DatasetKind.AS_PRICE, "RT5M", FIVE_MIN,
            "Real-time 5-minute final reserve clearing prices by reserve zone (web services "
            "fiveminutereserveprice): TMSR->SPIN_10, TMNSR->NON_SYNC_10, TMOR->OPERATING_30"),
    }  # fmt: skip
    combined: ClassVar[CombinedSources] = CombinedSources("lmp_da", "as_rt", "lmp_rt5")
    realtime: ClassVar[RealtimeFeed] = RealtimeFeed("lmp_rt5", ("lmp_rt5", "fuel_mix"))
    day_ahead: ClassVar[DayAheadSchedule] = DayAheadSchedule(
        time(13, 45), time(16, 15), ("lmp_da",)
    )
    value_bounds: ClassVar[tuple[ValueBound, ...]] = (
        ValueBound(DatasetKind.LMP, 2000, 2100, -1_500.0, 5_000.0,
            "Offer floor -$150 and FERC 831 caps ($1,000 soft, $2,000 hard), widened for "
            "congestion, losses and reserve-constraint penalty factors added to energy prices"),
        ValueBound(DatasetKind.AS_PRICE, 2000, 2100, -1.0, 5_000.0,
            "Reserve prices are not negative (-1 allows rounding); the sum of reserve "
            "constraint penalty factors stays far below the upper bound"),
        ValueBound(DatasetKind.LOAD, 2000, 2100, 0.0, 35_000.0,
            "New England's record peak is about 28,000 MW (2006), with margin"),
        ValueBound(DatasetKind.FUEL_MIX, 2000, 2100, -2_000.0, 30_000.0,
            "Pumped storage and batteries are negative while charging; no fuel exceeds load"),
    )  # fmt: skip

    def requests_for_day(
        self, dataset_id: str, day: date, today: date | None = None
    ) -> list[DownloadRequest]:
        self.dataset(dataset_id)
        start, end = self.market_day_bounds(day)
        stamp = f"{day:%Y%m%d}"
        if dataset_id == "lmp_rt5":
            return [
                _request(dataset_id, f"{STATIC}/5min-rt-prelim/lmp_5min_{stamp}_{block}.csv", s, e)
                for block, (s, e) in zip(RT5_BLOCKS, rt5_windows(day), strict=True)
            ]
        if dataset_id in WEB_SERVICES:
            service = WEB_SERVICES[dataset_id]
            return [
                _request(dataset_id, f"{service.path}/day/{stamp}", start, end,
                    file_name=f"{service.path.replace('/', '_')}_{stamp}.json",
                    endpoint=WEBSERVICES, needs_auth=True,
                    headers=(("Accept", "application/json"),))
            ]  # fmt: skip
        if dataset_id == "lmp_da":
            return [_request(dataset_id, f"{STATIC}/da-lmp/WW_DALMP_ISO_{stamp}.csv", start, end)]
        today = today or datetime.now(EASTERN).date()
        if (today - day).days >= RT_FINAL_LAG_DAYS:
            return [_request(dataset_id, f"{STATIC}/rt-lmp/lmp_rt_final_{stamp}.csv", start, end)]
        # Prelim values are never final under this name; refetch until the final file is due.
        due = market_day_bounds(TIMEZONE, day + timedelta(days=RT_FINAL_LAG_DAYS))[0]
        path = f"{STATIC}/rt-lmp/lmp_rt_prelim_{stamp}.csv"
        return [_request(dataset_id, path, start, end, final_after=due)]

    def credentials(self, request: DownloadRequest) -> tuple[str, str] | None:
        username, password = os.environ.get(USERNAME_ENV), os.environ.get(PASSWORD_ENV)
        if not (request.needs_auth and username and password):
            return None
        return username, password

    def unavailable_reason(self, dataset_id: str) -> str | None:
        if dataset_id not in WEB_SERVICES:
            return None
        if os.environ.get(USERNAME_ENV) and os.environ.get(PASSWORD_ENV):
            return None
        return (
            f"{self.id} {dataset_id} comes from ISO-NE web services, which need an ISO Express "
            f"account: set {USERNAME_ENV} and {PASSWORD_ENV}"
        )

    def check_payload(self, content: bytes, source: str) -> None:
        head = content[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
        lowered = head.lower()
        if not head:
            raise MalformedFileError(f"{source}: empty response from ISO-NE")
        if head[:3] in (b'"C"', b'"H"', b"C,", b"H,"):
            return
        if head[:1] in (b"{", b"["):
            _check_json(content, source)
            return
        if any(text in lowered for text in NO_DATA_TEXT):
            message = head[:200].decode("utf-8", errors="replace").strip()
            raise IsoNoDataError(source, "no-data", message)
        what = "an HTML page (login or maintenance?)" if head[:1] == b"<" else "not a report"
        raise MalformedFileError(
            f"{source}: ISO-NE answered {what} instead of data: {len(content)} bytes starting "
            f"{content[:60]!r}"
        )

    def latest_interval_request(self, now: datetime) -> DownloadRequest:
        return realtime.probe_request(now)

    def latest_interval_end(self, dataset_id: str, content: bytes, source: str) -> datetime | None:
        if self.dataset(dataset_id).id != realtime.PROBE_DATASET:
            return super().latest_interval_end(dataset_id, content, source)
        return realtime.latest_interval_end(content, source)

    def parse(self, dataset_id: str, paths: Iterable[Path]) -> pl.DataFrame:
        spec = self.dataset(dataset_id)
        paths = [Path(p) for p in paths]
        if not paths:
            raise MalformedFileError(f"{self.id} {dataset_id}: no data files to parse")
        if dataset_id in WEB_SERVICES:
            parser = {"fuel_mix": _fuel_mix, "load": _load, "as_rt": _reserve_prices}[dataset_id]
            frames = [parser(_records(path, WEB_SERVICES[dataset_id]), str(path)) for path in paths]
        elif dataset_id == "lmp_rt5":
            frames = [_rt5_lmp(path) for path in paths]
        else:
            frames = [_hourly_lmp(path, spec) for path in paths]
        return pl.concat(frames, how="vertical")


def _request(dataset: str, path: str, start: datetime, end: datetime, **extra) -> DownloadRequest:
    file_name = extra.pop("file_name", path.rsplit("/", 1)[-1])
    return DownloadRequest(
        iso="ISONE", dataset=dataset, path=path, params=(), file_name=file_name,
        window_start=start, window_end=end, **extra,
    )  # fmt: skip


def rt5_windows(day: date) -> list[tuple[datetime, datetime]]:
    """UTC spans of the six 5-minute files: local 00-04 ... 20-24, placed with zoneinfo, so on the
    DST days the 00-04 file spans 3 or 5 real hours."""
    edges = [datetime.combine(day, time(hour), tzinfo=EASTERN) for hour in range(0, 24, 4)]
    edges.append(datetime.combine(day + DAY, time(0), tzinfo=EASTERN))
    utc = [edge.astimezone(UTC) for edge in edges]
    return list(itertools.pairwise(utc))


def _check_json(content: bytes, source: str) -> None:
    try:
        body = json.loads(content)
    except ValueError as exc:
        raise MalformedFileError(f"{source}: unreadable JSON from ISO-NE: {exc}") from exc
    if not isinstance(body, dict):
        return
    keys = {key.lower(): key for key in body}
    for name in ERROR_KEYS:
        if name in keys and len(body) <= 3:
            detail = body[keys[name]]
            code = str(body.get("status", body.get("code", "error")))
            raise IsoErrorResponse(source, code, json.dumps(detail)[:300])
    # "No data" is the report's wrapper holding nothing: {"GenFuelMixes": ""} or {..: {..: []}}.
    if len(body) == 1:
        ((wrapper, value),) = body.items()
        if not value or (isinstance(value, dict) and not any(value.values())):
            raise IsoNoDataError(source, "no-data", f"empty {wrapper} for the selection")


def _impossible(frame: pl.DataFrame, mask: pl.Expr, columns: list[str], source: str) -> None:
    bad = frame.with_row_index("row", offset=1).filter(mask)
    if bad.height:
        sample = bad.select("row", *columns).head(5).rows()
        raise MalformedFileError(
            f"{source}: {bad.height} row(s) with no valid time on that market day "
            f"(data row, {', '.join(columns)}): {sample}"
        )


def _interval(step: timedelta, start: str = "interval_start") -> list[pl.Expr]:
    """interval_start, interval_end and iso: the leading columns of every standardized table."""
    begin = pl.col(start).alias("interval_start")
    return [begin, (begin + step).alias("interval_end"), pl.lit("ISONE").alias("iso")]


def _lmp_frame(frame: pl.DataFrame, market: str, step: timedelta) -> pl.DataFrame:
    return frame.select(
        *_interval(step),
        pl.lit(market).alias("market"),
        pl.col("location", "location_type", "lmp", "energy", "congestion", "loss"),
        pl.lit(None, pl.Float64).alias("ghg"),
    ).select(LMP_COLUMNS)


def _hourly_lmp(path: Path, spec: DatasetSpec) -> pl.DataFrame:
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
    )
    _impossible(frame, pl.col("interval_start").is_null(), ["Date", "Hour Ending"], source)
    return _lmp_frame(frame, market, HOUR)


def _rt5_lmp(path: Path) -> pl.DataFrame:
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
    _impossible(frame, pl.col("interval_start").is_null(), ["Location ID", "Local Time"], source)
    return _lmp_frame(frame, "RT5M", FIVE_MIN)


def _records(path: Path, service: WebService) -> pl.DataFrame:
    """A web-services JSON file's records as a frame; unknown or missing fields are schema drift."""
    source = str(path)
    try:
        body = json.loads(path.read_bytes())
        records = body[service.wrapper][service.record]
    except (ValueError, KeyError, TypeError) as exc:
        raise MalformedFileError(
            f"{source}: expected JSON {{{service.wrapper!r}: {{{service.record!r}: [...]}}}}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if isinstance(records, dict):  # a single record is sent as an object, not a list
        records = [records]
    if not records:
        raise MalformedFileError(f"{source}: no {service.record} records")
    try:
        frame = pl.DataFrame(records, infer_schema_length=None)
    except (pl.exceptions.PolarsError, TypeError, ValueError) as exc:
        raise MalformedFileError(f"{source}: inconsistent {service.record} records: {exc}") from exc
    missing = sorted(service.required - set(frame.columns))
    unexpected = [c for c in frame.columns if c not in service.required | service.optional]
    if missing or unexpected:
        raise SchemaDriftError(source, missing, unexpected)
    begin = (
        pl.col("BeginDate")
        .cast(pl.String)
        .str.to_datetime(BEGIN_FORMAT, time_zone="UTC", time_unit="us", strict=False)
    )
    frame = frame.with_columns(begin.alias("begin"))
    _impossible(frame, pl.col("begin").is_null(), ["BeginDate"], source)
    return frame


def _float(column: str, frame: pl.DataFrame, source: str) -> pl.Expr:
    if frame.schema[column] == pl.String:
        raise MalformedFileError(f"{source}: {column} holds text, not numbers")
    return pl.col(column).cast(pl.Float64)


def _fuel_mix(frame: pl.DataFrame, source: str) -> pl.DataFrame:
    # genfuelmix publishes a snapshot of the whole mix whenever it changes (irregular times). A
    # snapshot stays true until the next one, and a fuel the snapshot does not list generates 0 MW
    # at that moment (the day's other snapshots name it, so it is a known fuel, not an unknown).
    # An interval holding snapshots gets their mean; an interval without one holds the latest
    # earlier snapshot (not the mean of its interval), between the file's first and last snapshot.
    records = frame.select(
        "begin",
        pl.col("FuelCategory").cast(pl.String).alias("fuel"),
        _float("GenMw", frame, source).alias("mw"),
    ).unique()
    twice = records.filter(pl.struct("begin", "fuel").is_duplicated())
    if not twice.is_empty():
        first = twice.sort("begin", "fuel").row(0, named=True)
        raise MalformedFileError(
            f"{source}: {twice.height} records give one fuel two different values in one "
            f"snapshot, first {first['fuel']!r} at {first['begin']:%Y-%m-%dT%H:%M:%SZ}"
        )
    if records.is_empty():
        return records.select(*_interval(FIVE_MIN, "begin"), "fuel", "mw").select(FUEL_MIX_COLUMNS)
    snapshots = (
        records.select("begin").unique()
        .join(records.select("fuel").unique(), how="cross")
        .join(records, on=["begin", "fuel"], how="left")
        .with_columns(pl.col("mw").fill_null(0.0), pl.col("begin").dt.truncate("5m").alias("start"))
    )  # fmt: skip
    per_interval = snapshots.group_by("start", "fuel").agg(
        pl.col("mw").mean(), pl.col("mw").sort_by("begin").last().alias("latest")
    )
    first, last = per_interval["start"].min(), per_interval["start"].max()
    grid = pl.DataFrame(
        {"start": pl.datetime_range(first, last, "5m", time_zone="UTC", eager=True)}
    ).with_columns(pl.col("start").dt.cast_time_unit(per_interval["start"].dtype.time_unit))
    held = (
        per_interval.select("fuel").unique().join(grid, how="cross")
        .join(per_interval, on=["fuel", "start"], how="left")
        .sort("fuel", "start")
        .with_columns(pl.coalesce("mw", pl.col("latest").forward_fill().over("fuel")).alias("mw"))
    )  # fmt: skip
    out = held.select(*_interval(FIVE_MIN, "start"), "fuel", "mw")
    return out.sort("fuel", "interval_start").select(FUEL_MIX_COLUMNS)


def _load(frame: pl.DataFrame, source: str) -> pl.DataFrame:
    location = frame.schema["Location"]
    if not isinstance(location, pl.Struct) or "$" not in {f.name for f in location.fields}:
        raise MalformedFileError(f"{source}: Location is not an object with a '$' name")
    return frame.select(
        *_interval(HOUR, "begin"),
        pl.col("Location").struct.field("$").cast(pl.String).alias("area"),
        _float("Load", frame, source).alias("load_mw"),
    ).select(LOAD_COLUMNS)


def _reserve_prices(frame: pl.DataFrame, source: str) -> pl.DataFrame:
    # BeginDate sometimes carries stray seconds (:01, :02): floor to the 5-minute interval.
    frame = frame.with_columns(
        pl.col("begin").dt.truncate("5m").alias("interval_start"),
        *(_float(column, frame, source).alias(column) for column in AS_PRODUCTS),
    )
    long = frame.unpivot(
        on=list(AS_PRODUCTS), index=["interval_start", "ReserveZoneName"], variable_name="column",
        value_name="price",
    )  # fmt: skip
    column = pl.col("column")
    return (
        long.select(
            *_interval(FIVE_MIN),
            pl.lit("RT5M").alias("market"),
            pl.col("ReserveZoneName").cast(pl.String).alias("region"),
            column.replace_strict({k: v[1] for k, v in AS_PRODUCTS.items()}).alias("product"),
            column.replace_strict({k: v[0] for k, v in AS_PRODUCTS.items()}).alias("iso_product"),
            pl.col("price"),
        )
        .sort("region", "product", "interval_start")
        .select(AS_PRICE_COLUMNS)
    )
