"""ERCOT report tables to standardized long tables: what each report's columns mean.

What belongs here: per dataset, turning the rows of its report into the standardized model:
hour-ending and SCED-timestamp time rules (DSTFlag, RepeatedHourFlag, hour ending 25, files
numbering the fall-back day 1..25), LZ vs LZEW locations, AS product names, wide load tables to
long, SCED run averaging, and corrections (a re-posted file supersedes the original's rows).
Reading the files (in few polars scans) lives in `csv_files`; which report feeds which dataset
and what a document name means in `reports`; requests in `definition`.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from power_assets.errors import MalformedFileError, UnknownDatasetError
from power_assets.isos.ercot.csv_files import Layout, Source, read_all, require, sources_of
from power_assets.isos.ercot.reports import REPORTS, TIMEZONE
from power_assets.market_time import hour_ending_starts
from power_assets.schemas import (
    AS_PRICE_COLUMNS,
    LMP_COLUMNS,
    LOAD_COLUMNS,
    LOAD_FORECAST_COLUMNS,
)

FORECAST_TYPE = "NP3-560-CD"
LOAD_AREAS = (
    "COAST", "EAST", "FAR_WEST", "NORTH", "NORTH_C", "SOUTHERN", "SOUTH_C", "WEST", "TOTAL",
)  # fmt: skip
FORECAST_AREAS = ("North", "South", "West", "Houston", "SystemTotal")
# ERCOT's AncillaryType codes; an unknown code is kept as its own product.
AS_PRODUCTS = {
    "REGUP": "REG_UP", "REGDN": "REG_DOWN", "RRS": "RRS", "NSPIN": "NON_SPIN", "ECRS": "ECRS",
}  # fmt: skip
_TIME_FORMATS = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M")


def _layout(header: str, values: Sequence[str], flag: str = "DSTFlag") -> Layout:
    return Layout(tuple(header.split(",")), tuple(values), flag)


# The reports' headers as published (names stripped).
LAYOUTS = {
    "lmp_da": _layout(
        "DeliveryDate,HourEnding,SettlementPoint,SettlementPointPrice,DSTFlag",
        ["SettlementPointPrice"],
    ),
    "lmp_rt15": _layout(
        "DeliveryDate,DeliveryHour,DeliveryInterval,SettlementPointName,SettlementPointType,"
        "SettlementPointPrice,DSTFlag",
        ["SettlementPointPrice"],
    ),
    "lmp_rt5": _layout(
        "SCEDTimestamp,RepeatedHourFlag,SettlementPoint,LMP", ["LMP"], "RepeatedHourFlag"
    ),
    "as_da": _layout("DeliveryDate,HourEnding,AncillaryType,MCPC,DSTFlag", ["MCPC"]),
    "load": _layout(f"OperDay,HourEnding,{','.join(LOAD_AREAS)},DSTFlag", LOAD_AREAS),
    "load_forecast": _layout(
        f"DeliveryDate,HourEnding,{','.join(FORECAST_AREAS)},DSTFlag", FORECAST_AREAS
    ),
}


def parse_ercot(
    dataset_id: str, paths: Sequence[Path], iso_id: str = "ERCOT"
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Standardized long table for one ERCOT dataset from many files, plus notes (counts).

    Notes: `files_without_dst_flag` (files from before ERCOT added DSTFlag, read as "N") and
    `rows_superseded` (rows replaced by the same key from a later-posted file). Rows are not
    cut to a market day.
    """
    dataset = _DATASETS.get(dataset_id)
    if dataset is None:
        raise UnknownDatasetError(
            f"ERCOT parser knows no dataset {dataset_id!r}; it reads {', '.join(_DATASETS)}"
        )
    sources = sources_of(paths, REPORTS[dataset_id].report_type_id)
    raw, without_flag = read_all(sources, LAYOUTS[dataset_id])
    frame = dataset.build(raw, iso_id, sources)
    superseded = 0
    if dataset.supersede_key:
        frame, superseded = supersede(frame, dataset.supersede_key)
    if dataset_id == "lmp_rt5":
        frame = average_runs(frame)
    out = frame.sort([*dataset.sort, "_rank"], maintain_order=True).select(dataset.columns)
    return out, {"files_without_dst_flag": without_flag, "rows_superseded": superseded}


# --- values and times ------------------------------------------------------------------------


def _flags(frame: pl.DataFrame, flag: str) -> pl.DataFrame:
    """`_repeated` from the DST flag: "Y" marks the repeated fall-back hour."""
    value = pl.col(flag).str.to_uppercase()
    require(frame, ~value.is_in(["Y", "N"]), f"{flag} {{{flag}!r}} is neither Y nor N")
    return frame.with_columns((value == "Y").alias("_repeated"))


def _hour_ending_starts(
    frame: pl.DataFrame, date_column: str, hour_column: str, flag: str = "DSTFlag"
) -> pl.DataFrame:
    """Add `interval_start` (UTC) from a MM/DD/YYYY day and an hour ending 1..25 ("01:00",
    "1:00", "24:00", "25"), placed by position in the day (see market_time).

    Dates, hours and instants are worked out once per distinct (file, date, hour, flag) and
    joined back: a day of 96 files x 1,000 points has only ~100 of them, and parsing and
    time-zone arithmetic on every row would dominate the whole parse.
    """
    # `_rank` stands for the file (an integer hashes faster than its path); `_source` names it.
    raw_keys = ["_rank", date_column, hour_column, flag]
    distinct = frame.group_by(raw_keys).agg(pl.col("_source").first())
    hours = _flags(distinct, flag).with_columns(
        pl.col(date_column).str.strptime(pl.Date, "%m/%d/%Y", strict=False).alias("_day"),
        pl.col(hour_column)
        .str.extract(r"^(\d{1,2})(?::00)?$")
        .cast(pl.Int64, strict=False)
        .alias("_hour"),
    )
    date, he = f"{date_column} {{{date_column}!r}}", f"{hour_column} {{{hour_column}!r}}"
    require(hours, pl.col("_day").is_null(), f"{date} is not a MM/DD/YYYY date")
    bad_hour = pl.col("_hour").is_null() | ~pl.col("_hour").is_between(1, 25)
    require(hours, bad_hour, f"{he} is not an hour ending 1..25")
    # A file that numbers the fall-back day 1..25 has no repeated HE 02: its HE n is simply
    # the n-th hour, i.e. HE 3 is the repeated 02 and HE n > 3 is HE n-1 of the flag scheme.
    day = ["_rank", "_day"]
    sequential = (
        hour_ending_starts(pl.col("_day"), pl.lit(25), pl.lit(False), TIMEZONE).is_not_null()
        & (pl.col("_hour").max().over(day) == 25)
        & ~pl.col("_repeated").any().over(day)
    )
    hour, repeated = pl.col("_hour"), pl.col("_repeated")
    placed = hours.with_columns(
        pl.when(sequential & (hour >= 3)).then(hour - 1).otherwise(hour).alias("_position"),
        (repeated | (sequential & (hour == 3))).alias("_repeated"),
    ).with_columns(
        hour_ending_starts(
            pl.col("_day"), pl.col("_position"), pl.col("_repeated"), TIMEZONE
        ).alias("interval_start")
    )
    problem = f"{he} with {flag} {{{flag}!r}} does not exist on that day in {{tz}} ({date})"
    require(placed, pl.col("interval_start").is_null(), problem)
    columns = ["_day", "_hour", "_position", "_repeated", "interval_start"]
    return frame.drop(columns, strict=False).join(
        placed.select(*raw_keys, *columns), on=raw_keys, how="left", nulls_equal=True
    )


def location_type_from_name(location: pl.Expr) -> pl.Expr:
    """Settlement point type for files that publish none: ERCOT's hub and zone prefixes, else
    a resource node (DAM and SCED settlement points are hubs, load zones and resource nodes)."""
    prefix = location.str.slice(0, 3).replace_strict({"HB_": "HU", "LZ_": "LZ"}, default="RN")
    return location.replace_strict({"HB_BUSAVG": "SH", "HB_HUBAVG": "AH"}, default=prefix)


def _lmp_columns(frame: pl.DataFrame, iso: str, market: str, step: str) -> pl.DataFrame:
    return frame.with_columns(
        pl.col("interval_start").dt.offset_by(step).alias("interval_end"),
        pl.lit(iso).alias("iso"),
        pl.lit(market).alias("market"),
        # ERCOT names settlement points and publishes no separate id for them.
        pl.lit(None, pl.Utf8).alias("location_id"),
        # ERCOT's settlement point prices come without components.
        *(pl.lit(None, pl.Float64).alias(c) for c in ("energy", "congestion", "loss", "ghg")),
    )


# --- datasets --------------------------------------------------------------------------------


def _lmp_da(raw: pl.DataFrame, iso: str, sources: list[Source]) -> pl.DataFrame:
    frame = _hour_ending_starts(raw, "DeliveryDate", "HourEnding")
    frame = frame.with_columns(
        pl.col("SettlementPoint").alias("location"),
        location_type_from_name(pl.col("SettlementPoint")).alias("location_type"),
        pl.col("SettlementPointPrice").alias("lmp"),
    )
    return _lmp_columns(frame, iso, "DAM", "1h")


def _lmp_rt15(raw: pl.DataFrame, iso: str, sources: list[Source]) -> pl.DataFrame:
    interval = pl.col("DeliveryInterval").cast(pl.Int64, strict=False)
    frame = raw.with_columns(interval.alias("_interval"))
    bad = pl.col("_interval").is_null() | ~pl.col("_interval").is_between(1, 4)
    require(frame, bad, "DeliveryInterval {DeliveryInterval!r} is not 1..4")
    frame = _hour_ending_starts(frame, "DeliveryDate", "DeliveryHour")
    kind = pl.col("SettlementPointType")
    name = pl.col("SettlementPointName")
    # ERCOT publishes a load zone twice (LZ and energy-weighted LZEW) under one name.
    location = pl.when(kind == "LZEW").then(name + "_LZEW").otherwise(name)
    frame = frame.with_columns(
        pl.col("interval_start") + pl.duration(minutes=(pl.col("_interval") - 1) * 15),
        location.alias("location"),
        kind.alias("location_type"),
        pl.col("SettlementPointPrice").alias("lmp"),
    )
    return _lmp_columns(frame, iso, "RTM", "15m")


def _lmp_rt5(raw: pl.DataFrame, iso: str, sources: list[Source]) -> pl.DataFrame:
    stamp, text = pl.col("SCEDTimestamp"), "SCEDTimestamp {SCEDTimestamp!r}"
    wall = pl.coalesce(
        stamp.str.strptime(pl.Datetime("us"), f, strict=False) for f in _TIME_FORMATS
    )
    frame = _flags(raw, "RepeatedHourFlag").with_columns(wall.alias("_wall"))
    require(frame, pl.col("_wall").is_null(), f"{text} is not MM/DD/YYYY HH:MM:SS")

    first, second = (
        pl.col("_wall").dt.replace_time_zone(TIMEZONE, ambiguous=which, non_existent="null")
        for which in ("earliest", "latest")
    )
    instant = pl.when(pl.col("_repeated")).then(second).otherwise(first)
    frame = frame.with_columns(
        instant.dt.convert_time_zone("UTC").alias("_instant"),
        (first != second).alias("_ambiguous"),
    )
    require(frame, pl.col("_instant").is_null(), f"{text} does not exist in {{tz}}")
    not_repeated = pl.col("_repeated") & ~pl.col("_ambiguous")
    require(frame, not_repeated, f"RepeatedHourFlag Y on {text}, which is not a repeated hour")
    frame = frame.with_columns(
        pl.col("_instant").dt.truncate("5m").alias("interval_start"),
        pl.col("SettlementPoint").alias("location"),
        location_type_from_name(pl.col("SettlementPoint")).alias("location_type"),
        pl.col("LMP").alias("lmp"),
    )
    return _lmp_columns(frame, iso, "SCED", "5m")


def _as_da(raw: pl.DataFrame, iso: str, sources: list[Source]) -> pl.DataFrame:
    frame = _hour_ending_starts(raw, "DeliveryDate", "HourEnding")
    code = pl.col("AncillaryType")
    return frame.with_columns(
        pl.col("interval_start").dt.offset_by("1h").alias("interval_end"),
        pl.lit(iso).alias("iso"),
        pl.lit("DAM").alias("market"),
        pl.lit("ERCOT").alias("region"),
        code.str.to_uppercase().replace_strict(AS_PRODUCTS, default=code).alias("product"),
        code.alias("iso_product"),
        pl.col("MCPC").alias("price"),
    )


def _wide_to_long(frame: pl.DataFrame, areas: Sequence[str], extra: list[str]) -> pl.DataFrame:
    frame = frame.with_columns(pl.col("interval_start").dt.offset_by("1h").alias("interval_end"))
    return frame.unpivot(
        on=list(areas),
        index=["interval_start", "interval_end", "_source", "_rank", *extra],
        variable_name="area",
        value_name="load_mw",
    )


def _load(raw: pl.DataFrame, iso: str, sources: list[Source]) -> pl.DataFrame:
    frame = _hour_ending_starts(raw, "OperDay", "HourEnding")
    return _wide_to_long(frame, LOAD_AREAS, []).with_columns(pl.lit(iso).alias("iso"))


def _load_forecast(raw: pl.DataFrame, iso: str, sources: list[Source]) -> pl.DataFrame:
    unnamed = [source.name for source in sources if source.posted is None]
    if unnamed:
        raise MalformedFileError(
            f"{unnamed[0]}: no post time in the file name (expected an ERCOT cdr.* document "
            "name), so the forecast's publish time is unknown"
        )
    published = {source.name: source.posted for source in sources if source.posted is not None}
    frame = _hour_ending_starts(raw, "DeliveryDate", "HourEnding")
    frame = frame.with_columns(
        pl.col("_source")
        .replace_strict(published, return_dtype=pl.Datetime("us", "UTC"))
        .alias("publish_time")
    )
    long = _wide_to_long(frame, FORECAST_AREAS, ["publish_time"])
    return long.with_columns(
        pl.lit(iso).alias("iso"),
        pl.col("area").str.to_uppercase(),
        pl.lit(FORECAST_TYPE).alias("forecast_type"),
    )


# --- corrections and SCED runs ---------------------------------------------------------------


def supersede(frame: pl.DataFrame, keys: list[str]) -> tuple[pl.DataFrame, int]:
    """Per key, keep only the rows of the latest-posted file (`_rank`); the count dropped.

    Rows sharing a key within one file all stay, for the downstream duplicate check.
    """
    time_key = next((k for k in keys if k.startswith("interval_") or k == "_instant"), None)
    if time_key is not None:
        # Usually every file covers its own intervals (one RT file per 15 minutes): then no
        # key can come from two files, which a cheap per-file look at the times shows.
        spans = frame.select("_rank", time_key).unique()
        if spans.get_column(time_key).is_unique().all():
            return frame, 0
    kept = frame.filter(pl.col("_rank") == pl.col("_rank").max().over(keys))
    return kept, frame.height - kept.height


def average_runs(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per location and 5-minute interval in which SCED ran more than once: the mean.

    Only intervals with several distinct run instants are merged, so a row repeated within one
    file still reaches the duplicate check.
    """
    group = ["location", "interval_start"]
    touched = pl.col("_instant").n_unique().over(group) > 1
    columns = [c for c in frame.columns if c not in ("lmp", *group)]
    merged = (
        frame.filter(touched)
        .group_by(group, maintain_order=True)
        .agg(pl.col("lmp").mean(), pl.col(columns).max())
    )
    return pl.concat([frame.filter(~touched), merged], how="diagonal")


@dataclass(frozen=True)
class _Dataset:
    build: Callable[[pl.DataFrame, str, list[Source]], pl.DataFrame]
    columns: list[str]
    supersede_key: list[str]  # empty: every vintage is kept
    sort: list[str]


_LMP, _AS, _AREA = (
    ["location", "interval_start"],
    ["product", "interval_start"],
    ["area", "interval_start"],
)
_DATASETS = {
    "lmp_da": _Dataset(_lmp_da, LMP_COLUMNS, _LMP, _LMP),
    "lmp_rt15": _Dataset(_lmp_rt15, LMP_COLUMNS, _LMP, _LMP),
    # A SCED correction re-posts a run: supersede per run, then average the runs per interval.
    "lmp_rt5": _Dataset(_lmp_rt5, LMP_COLUMNS, ["location", "_instant"], _LMP),
    "as_da": _Dataset(_as_da, AS_PRICE_COLUMNS, _AS, _AS),
    "load": _Dataset(_load, LOAD_COLUMNS, _AREA, _AREA),
    "load_forecast": _Dataset(
        _load_forecast, LOAD_FORECAST_COLUMNS, [], ["area", "publish_time", "interval_start"]
    ),
}
