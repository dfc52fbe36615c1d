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
from power_assets.isos.ercot.hours import (
    first_of_runs,
    flags,
    hour_ending_starts,
    plain_rt15_starts,
    rt15_starts,
)
from power_assets.isos.ercot.reports import REPORTS, TIMEZONE
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
    # One file is one chunk or a few; expressions over thousands of tiny chunks are slow.
    raw = add_ranks(raw.rechunk(), sources).with_columns(pl.col(pl.Categorical).cast(pl.String))
    frame = dataset.build(raw, iso_id, sources)
    superseded = 0
    if dataset.supersede_key:
        frame, superseded = supersede(frame, dataset.supersede_key)
    if dataset_id == "lmp_rt5":
        frame = average_runs(frame)
    out = frame.sort([*dataset.sort, "_rank"], maintain_order=True).select(dataset.columns)
    return out, notes | {"rows_superseded": superseded}


# --- values ----------------------------------------------------------------------------------


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
    frame = hour_ending_starts(raw, "DeliveryDate", "HourEnding")
    frame = frame.with_columns(
        pl.col("SettlementPoint").alias("location"),
        location_type_from_name(pl.col("SettlementPoint")).alias("location_type"),
        pl.col("SettlementPointPrice").alias("lmp"),
    )
    return _lmp_columns(frame, iso, "DAM", "1h")


def _lmp_rt15(raw: pl.DataFrame, iso: str, sources: list[Source]) -> pl.DataFrame:
    frame = rt15_starts(raw)
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


def _lmp_rt15_by_position(
    raw: pl.DataFrame, iso: str, sources: list[Source]
) -> pl.DataFrame | None:
    """The lmp_rt15 table as `parse_ercot` makes it (built, superseded, sorted), the fast way
    for a day as ERCOT publishes it: every (location, interval) once, so nothing to supersede.
    None otherwise, or when a row is bad: the general way then names it.

    Times are worked out once per run of rows sharing the interval (a 15-minute file is one
    run): on a plain 24-hour day by `plain_rt15_starts`, otherwise by `rt15_starts` per file
    and interval. Locations once per distinct settlement point and LZ/LZEW. A row's place in
    the sorted table is arithmetic on the places of its location and interval (`_grid` when
    every file lists the same points in the same order, else `_slots`): no sort, group-by or
    join of the ~100,000 rows of a day.
    """
    if not raw.height:
        return None
    time_keys = ["DeliveryDate", "DeliveryHour", "DeliveryInterval", "DSTFlag"]
    # The columns used, contiguous (`read_all` leaves a chunk per file or two; `_source` is
    # only read on the way of `_file_runs`).
    columns = raw.select(
        *time_keys, "SettlementPointName", "SettlementPointType", "SettlementPointPrice"
    ).rechunk()
    kind = columns.get_column("SettlementPointType").to_physical()
    price = columns.get_column("SettlementPointPrice")
    # polars 2 removed cat.get_categories()
    texts = raw.schema["SettlementPointName"].categories.to_series()
    if len(texts) > 2 * raw.height + 4096:
        return None  # categories shared with much other data: lookups by code would be large
    # Runs of rows sharing the interval's columns, compared by categorical code (a code is its
    # text: every categorical column shares the categories).
    codes = columns.select(
        pl.struct(pl.col(time_keys).to_physical()).rle_id().alias("run"),
        # A location: a settlement point's name code, twice, plus 1 for its LZEW price.
        (pl.col("SettlementPointName").to_physical() * 2)
        .add((pl.col("SettlementPointType") == "LZEW").cast(pl.UInt32))
        .alias("point"),
    )
    run, point = codes.get_column("run"), codes.get_column("point")
    run_starts = plain_rt15_starts(columns.select(time_keys)[first_of_runs(run)])
    if run_starts is None:  # a DST day or odd values: by the full rules, per file
        by_file = _file_runs(raw, run, sources)
        if by_file is None:
            return None
        run, run_starts = by_file
    grid = _grid(point, run, run_starts, texts)
    if grid is None:
        grid = _slots(point, run, run_starts, texts)
        if grid is None:
            return None
    times, locations, time_index, location_index, row = grid
    frame = pl.DataFrame(
        [
            times.gather(time_index).alias("interval_start"),
            locations.gather(location_index),
            texts.gather(kind.gather(row)).alias("location_type"),
            price.gather(row).alias("lmp"),
        ]
    )
    return _lmp_columns(frame, iso, "RTM", "15m").select(LMP_COLUMNS)


# (times, locations, time index, location index, raw row): see `_grid`.
_Placed = tuple[pl.Series, pl.Series, pl.Series, pl.Series, pl.Series]


def _grid(
    point: pl.Series, run: pl.Series, run_starts: pl.Series, texts: pl.Series
) -> _Placed | None:
    """The sorted table's times and locations and, per row of it, the index of its time and
    location in them and the raw row it takes, when the rows are a grid: every run (a file's
    interval) lists the same locations in the same order, and no interval twice, as ERCOT's 96
    files of a day do. A row of the table is then arithmetic on the location's place in the
    first run and the run's place in time. None when the rows are not a grid."""
    count = len(run_starts)
    width = len(point) // count
    if width * count != len(point) or not width or run_starts.n_unique() != count:
        return None
    starts = pl.int_range(count, dtype=pl.UInt32, eager=True) * width
    if not (first_of_runs(run) == starts).all():
        return None  # runs of other lengths
    if not (point.slice(width) == point.slice(0, len(point) - width)).all():
        return None  # a run lists other locations, or in another order
    names = _location_names(point.slice(0, width), texts)
    if names.n_unique() != width:
        return None
    by_name, by_time = names.arg_sort(), run_starts.arg_sort()
    at = pl.int_range(len(point), dtype=pl.UInt32, eager=True)
    time_index, location_index = at % count, at // count
    row = by_name.gather(location_index) + by_time.gather(time_index) * width
    return run_starts.gather(by_time), names.gather(by_name), time_index, location_index, row


def _slots(
    point: pl.Series, run: pl.Series, run_starts: pl.Series, texts: pl.Series
) -> _Placed | None:
    """`_grid`'s answer for any rows: a row's slot in the sorted table is the rank of its
    location times the intervals plus the rank of its interval. None when some (location,
    interval) comes twice (supersede, keep duplicates visible) or the table would be mostly
    empty."""
    times = run_starts.unique().sort()
    time_rank = (run_starts.rank("dense") - 1).gather(run)
    seen = _marks(point, 2 * len(texts)).arg_true()
    locations = pl.DataFrame({"point": seen, "location": _location_names(seen, texts)}).sort(
        "location"
    )
    location_rank = _index_of(point, locations.get_column("point"))
    slots = locations.height * len(times)
    if slots > 2 * len(point) + 4096:
        return None  # sparse: few locations in each interval
    # A slot taken twice leaves fewer slots filled than rows.
    row = pl.repeat(None, slots, dtype=pl.UInt32, eager=True).scatter(
        location_rank * len(times) + time_rank,
        pl.int_range(len(point), dtype=pl.UInt32, eager=True),
    )
    filled = slots - row.null_count()
    if filled < len(point):
        return None
    at = pl.int_range(slots, dtype=pl.UInt32, eager=True)
    if filled < slots:
        keep = row.is_not_null()
        row, at = row.filter(keep), at.filter(keep)
    count = len(times)
    return times, locations.get_column("location"), at % count, at // count, row


def _location_names(point: pl.Series, texts: pl.Series) -> pl.Series:
    """A location's name from its code: a settlement point's name, or name_LZEW for its
    energy-weighted zone price. A categorical's code indexes its text in the categories."""
    name = texts.gather(point // 2)
    return pl.select(
        pl.when(point % 2 == 1).then(name + "_LZEW").otherwise(name).alias("location")
    ).to_series()


def _file_runs(
    raw: pl.DataFrame, run: pl.Series, sources: list[Source]
) -> tuple[pl.Series, pl.Series] | None:
    """Runs of rows sharing file and interval (the 1..25 numbering is per file), and
    `rt15_starts` of each; None when a row is bad. `run`: the runs by interval alone, which are
    these when none spans two files (a file's rows are contiguous, so a run whose first and
    last rows are of one file lies in that file)."""
    time_keys = ["DeliveryDate", "DeliveryHour", "DeliveryInterval", "DSTFlag"]
    first = first_of_runs(run)
    last = pl.concat([first.slice(1) - 1, pl.Series([raw.height - 1], dtype=first.dtype)])
    source = raw.get_column("_source")
    if not (source.gather(first) == source.gather(last)).all():
        run = raw.select(pl.struct("_source", *time_keys).rle_id()).to_series()
        first = first_of_runs(run)
    runs = add_ranks(raw.select(*time_keys, "_source")[first], sources)
    try:
        starts = rt15_starts(runs.with_columns(pl.col(pl.Categorical).cast(pl.String)))
    except MalformedFileError:
        return None
    return run, starts.get_column("interval_start")


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
    frame = flags(raw, "RepeatedHourFlag").with_columns(wall.alias("_wall"))
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
    frame = hour_ending_starts(raw, "DeliveryDate", "HourEnding")
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
    frame = hour_ending_starts(raw, "OperDay", "HourEnding")
    return _wide_to_long(frame, LOAD_AREAS, []).with_columns(pl.lit(iso).alias("iso"))


def _load_forecast(raw: pl.DataFrame, iso: str, sources: list[Source]) -> pl.DataFrame:
    unnamed = [source.name for source in sources if source.posted is None]
    if unnamed:
        raise MalformedFileError(
            f"{unnamed[0]}: no post time in the file name (expected an ERCOT cdr.* document "
            "name), so the forecast's publish time is unknown"
        )
    published = {source.name: source.posted for source in sources if source.posted is not None}
    frame = hour_ending_starts(raw, "DeliveryDate", "HourEnding")
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
