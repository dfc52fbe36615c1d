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
from power_assets.isos.ercot.csv_files import (
    Layout,
    Source,
    add_ranks,
    read_all,
    require,
    sources_of,
)
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
    notes = {"files_without_dst_flag": without_flag, "rows_superseded": 0}
    if dataset.by_position is not None:
        placed = dataset.by_position(raw, iso_id, sources)
        if placed is not None:
            return placed, notes
    raw = add_ranks(raw, sources).with_columns(pl.col(pl.Categorical).cast(pl.String))
    frame = dataset.build(raw, iso_id, sources)
    superseded = 0
    if dataset.supersede_key:
        frame, superseded = supersede(frame, dataset.supersede_key)
    if dataset_id == "lmp_rt5":
        frame = average_runs(frame)
    out = frame.sort([*dataset.sort, "_rank"], maintain_order=True).select(dataset.columns)
    return out, notes | {"rows_superseded": superseded}


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

    Dates, hours and instants are worked out once per distinct (file, date, hour, flag): a day
    of 96 files x 1,000 points has only ~100 of them, and parsing and time-zone arithmetic on
    every row would dominate the whole parse. Rows sharing them come in runs (a file's hour),
    so each run's first row stands for its run, and the runs' instants are spread back by run.
    """
    # `_rank` stands for the file (an integer compares faster than its path); `_source` names it.
    raw_keys = ["_rank", date_column, hour_column, flag]
    run = frame.select(pl.struct(raw_keys).rle_id()).to_series()
    runs = frame.select(*raw_keys, "_source")[_first_of_runs(run)]
    distinct = runs.unique(raw_keys, keep="first", maintain_order=True)
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
        (_hours_in_day(pl.col("_day")) == 25)
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
    per_run = runs.join(
        placed.select(*raw_keys, "interval_start"),
        on=raw_keys,
        how="left",
        nulls_equal=True,
        maintain_order="left",
    )
    return frame.with_columns(per_run.get_column("interval_start").gather(run))


def _first_of_runs(run: pl.Series) -> pl.Series:
    """The first row of each run, given each row's run number (`rle_id`: 0, 0, 1, 2, 2, ...)."""
    count = int(run.max()) + 1 if len(run) else 0  # type: ignore[arg-type]
    return run.search_sorted(pl.int_range(count, dtype=run.dtype, eager=True), side="left")


def _hours_in_day(day: pl.Expr) -> pl.Expr:
    """Hours (23, 24 or 25) of a market day in ERCOT's zone, as `hour_ending_starts` counts
    them: from local midnight to the next (US transitions are at 02:00, never at midnight)."""

    def midnight(local_day: pl.Expr) -> pl.Expr:
        wall = local_day.cast(pl.Datetime("us")).dt.replace_time_zone(TIMEZONE)
        return wall.dt.convert_time_zone("UTC")

    return (midnight(day + pl.duration(days=1)) - midnight(day)).dt.total_minutes() // 60


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
        pl.lit(None, pl.Utf8).alias("baa"),
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
    frame = _rt15_starts(raw)
    kind = pl.col("SettlementPointType")
    name = pl.col("SettlementPointName")
    # ERCOT publishes a load zone twice (LZ and energy-weighted LZEW) under one name.
    location = pl.when(kind == "LZEW").then(name + "_LZEW").otherwise(name)
    frame = frame.with_columns(
        location.alias("location"),
        kind.alias("location_type"),
        pl.col("SettlementPointPrice").alias("lmp"),
    )
    return _lmp_columns(frame, iso, "RTM", "15m")


def _rt15_starts(frame: pl.DataFrame) -> pl.DataFrame:
    """`interval_start` of RT settlement point price rows: the start of the hour ending plus 15
    minutes per DeliveryInterval (1..4) before theirs."""
    interval = pl.col("DeliveryInterval").cast(pl.Int64, strict=False)
    frame = frame.with_columns(interval.alias("_interval"))
    bad = pl.col("_interval").is_null() | ~pl.col("_interval").is_between(1, 4)
    require(frame, bad, "DeliveryInterval {DeliveryInterval!r} is not 1..4")
    frame = _hour_ending_starts(frame, "DeliveryDate", "DeliveryHour")
    return frame.with_columns(
        pl.col("interval_start") + pl.duration(minutes=(pl.col("_interval") - 1) * 15)
    )


def _lmp_rt15_by_position(
    raw: pl.DataFrame, iso: str, sources: list[Source]
) -> pl.DataFrame | None:
    """The lmp_rt15 table as `parse_ercot` makes it (built, superseded, sorted), the fast way
    for a day as ERCOT publishes it: every (location, interval) once, so nothing to supersede.
    None otherwise, or when a row is bad: the general way then names it.

    Times are worked out by `_rt15_starts` once per run of rows sharing file and interval (a
    15-minute file is one run); locations once per distinct settlement point and LZ/LZEW. A
    row's place in the sorted table is arithmetic on the ranks of its location and interval:
    no sort, group-by or join of the ~100,000 rows of a day.
    """
    if not raw.height:
        return None
    time_keys = ["_source", "DeliveryDate", "DeliveryHour", "DeliveryInterval", "DSTFlag"]
    run = raw.select(pl.struct(time_keys).rle_id()).to_series()
    runs = add_ranks(raw.select(time_keys)[_first_of_runs(run)], sources)
    try:
        starts = _rt15_starts(runs.with_columns(pl.col(pl.Categorical).cast(pl.String)))
    except MalformedFileError:
        return None
    times = starts.get_column("interval_start").unique().sort()
    time_rank = _index_of(starts.get_column("interval_start"), times).gather(run)

    # Locations: a settlement point's name, or name_LZEW for its energy-weighted zone price. A
    # categorical's code indexes its text in the (shared) categories.
    name, kind = raw.get_column("SettlementPointName"), raw.get_column("SettlementPointType")
    texts = name.dtype.categories.to_series()  # polars 2 removed cat.get_categories()
    if len(texts) > 2 * raw.height + 4096:
        return None  # categories shared with much other data: lookups by code would be large
    point = name.to_physical() * 2 + (kind == "LZEW").cast(pl.UInt32)
    seen = _marks(point, 2 * len(texts)).arg_true()
    locations = (
        pl.DataFrame({"point": seen, "name": texts.gather(seen // 2), "lzew": seen % 2})
        .select(
            "point",
            pl.when(pl.col("lzew") == 1)
            .then(pl.col("name") + "_LZEW")
            .otherwise("name")
            .alias("location"),
        )
        .sort("location")
    )
    location_rank = _index_of(point, locations.get_column("point"))

    slots = locations.height * len(times)
    if slots > 2 * raw.height + 4096:
        return None  # sparse: few locations in each interval
    slot = location_rank * len(times) + time_rank
    filled = _marks(slot, slots)
    if filled.sum() < raw.height:
        return None  # some (location, interval) twice: supersede, keep duplicates visible
    row = pl.repeat(None, slots, dtype=pl.UInt32, eager=True)
    row = row.scatter(slot, pl.int_range(raw.height, dtype=pl.UInt32, eager=True))
    at = pl.int_range(slots, dtype=pl.UInt32, eager=True)
    if raw.height < slots:
        row, at = row.filter(filled), at.filter(filled)
    frame = pl.DataFrame(
        [
            times.gather(at % len(times)).alias("interval_start"),
            locations.get_column("location").gather(at // len(times)),
            texts.gather(kind.to_physical().gather(row)).alias("location_type"),
            raw.get_column("SettlementPointPrice").gather(row).alias("lmp"),
        ]
    )
    return _lmp_columns(frame, iso, "RTM", "15m").select(LMP_COLUMNS)


def _index_of(values: pl.Series, keys: pl.Series) -> pl.Series:
    """Per element of `values`, its place in `keys` (distinct; every value is one), UInt32: by a
    table indexed by value for small non-negative integers, else by hash."""
    index = pl.int_range(len(keys), dtype=pl.UInt32, eager=True)
    largest = int(keys.max() or 0) if keys.dtype.is_integer() else None  # type: ignore[arg-type]
    if largest is not None and largest < 4 * len(values) + 4096:
        table = pl.repeat(None, largest + 1, dtype=pl.UInt32, eager=True)
        return table.scatter(keys, index).gather(values)
    return values.replace_strict(keys, index, return_dtype=pl.UInt32)


def _marks(slots: pl.Series, size: int) -> pl.Series:
    """`size` booleans, true at the given slots."""
    return pl.repeat(False, size, eager=True).scatter(slots, True)


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
    # The whole table from the raw rows (identity columns categorical) when they are regular,
    # faster than build + supersede + sort; None to take that way.
    by_position: Callable[[pl.DataFrame, str, list[Source]], pl.DataFrame | None] | None = None


_LMP, _AS, _AREA = (
    ["location", "interval_start"],
    ["product", "interval_start"],
    ["area", "interval_start"],
)
_DATASETS = {
    "lmp_da": _Dataset(_lmp_da, LMP_COLUMNS, _LMP, _LMP),
    "lmp_rt15": _Dataset(_lmp_rt15, LMP_COLUMNS, _LMP, _LMP, _lmp_rt15_by_position),
    # A SCED correction re-posts a run: supersede per run, then average the runs per interval.
    "lmp_rt5": _Dataset(_lmp_rt5, LMP_COLUMNS, ["location", "_instant"], _LMP),
    "as_da": _Dataset(_as_da, AS_PRICE_COLUMNS, _AS, _AS),
    "load": _Dataset(_load, LOAD_COLUMNS, _AREA, _AREA),
    "load_forecast": _Dataset(
        _load_forecast, LOAD_FORECAST_COLUMNS, [], ["area", "publish_time", "interval_start"]
    ),
}
