"""ISO-NE's web services (JSON, ISO Express account): fuel mix, system load, reserve prices.

What belongs here: each report's path and JSON shape (`WEB_SERVICES`), telling an error or "no
data" answer from data (`check_json`), and the parsers of genfuelmix, hourlysysload and
fiveminutereserveprice. `BeginDate` carries its UTC offset, so these times are never ambiguous.
"""

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import polars as pl

from power_assets.errors import (
    IsoErrorResponse,
    IsoNoDataError,
    MalformedFileError,
    SchemaDriftError,
)
from power_assets.isos.isone.common import interval_columns, refuse_rows_without_time
from power_assets.schemas import AS_PRICE_COLUMNS, FUEL_MIX_COLUMNS, LOAD_COLUMNS

# The name of the web services' base URL among the ISO's endpoints.
WEBSERVICES = "webservices"
# Reserve price columns of fiveminutereserveprice -> (ISO product, standardized product).
AS_PRODUCTS = {
    "TmsrClearingPrice": ("TMSR", "SPIN_10"),
    "TmnsrClearingPrice": ("TMNSR", "NON_SYNC_10"),
    "TmorClearingPrice": ("TMOR", "OPERATING_30"),
}
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

HOUR, FIVE_MIN = timedelta(hours=1), timedelta(minutes=5)
BEGIN_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%z"


def parse_web_service(dataset_id: str, path: Path) -> pl.DataFrame:
    """One web-services JSON file of `fuel_mix`, `load` or `as_rt` as standardized rows."""
    parser = {"fuel_mix": _fuel_mix, "load": _load, "as_rt": _reserve_prices}[dataset_id]
    return parser(_records(path, WEB_SERVICES[dataset_id]), str(path))


def check_json(content: bytes, source: str) -> None:
    """Raise the error, or the "no data", a web-services JSON answer holds; return for data."""
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
    refuse_rows_without_time(frame, pl.col("begin").is_null(), ["BeginDate"], source)
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
        return records.select(*interval_columns(FIVE_MIN, "begin"), "fuel", "mw").select(
            FUEL_MIX_COLUMNS
        )
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
    out = held.select(*interval_columns(FIVE_MIN, "start"), "fuel", "mw")
    return out.sort("fuel", "interval_start").select(FUEL_MIX_COLUMNS)


def _load(frame: pl.DataFrame, source: str) -> pl.DataFrame:
    location = frame.schema["Location"]
    if not isinstance(location, pl.Struct) or "$" not in {f.name for f in location.fields}:
        raise MalformedFileError(f"{source}: Location is not an object with a '$' name")
    return frame.select(
        *interval_columns(HOUR, "begin"),
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
            *interval_columns(FIVE_MIN),
            pl.lit("RT5M").alias("market"),
            pl.col("ReserveZoneName").cast(pl.String).alias("region"),
            column.replace_strict({k: v[1] for k, v in AS_PRODUCTS.items()}).alias("product"),
            column.replace_strict({k: v[0] for k, v in AS_PRODUCTS.items()}).alias("iso_product"),
            pl.col("price"),
        )
        .sort("region", "product", "interval_start")
        .select(AS_PRICE_COLUMNS)
    )
