"""Reading ERCOT report CSVs (plain, in MIS document zips, or in nested archives) into tables.

What belongs here: everything that turns the files of one ERCOT dataset into its standardized
long table: header checks, value stripping and casting, hour-ending and SCED-timestamp time
rules, SCED run averaging, and corrections (a re-posted file supersedes the original's rows).
Which report feeds which dataset, and what a document name means, lives in `ercot_reports`;
requests live in `ercot`.

ERCOT publishes one small CSV per interval (96 RT SPP files, ~288 SCED files a day), so files
are read in as few polars scans as possible: grouped by their raw header line, one scan per
group, all columns as strings, then stripped and cast with expressions.
"""

import csv
import io
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from power_assets.errors import MalformedFileError, SchemaDriftError, UnknownDatasetError
from power_assets.isos.ercot_reports import REPORTS, ErcotDocument, parse_document_name
from power_assets.market_time import hour_ending_starts
from power_assets.schemas import (
    AS_PRICE_COLUMNS,
    LMP_COLUMNS,
    LOAD_COLUMNS,
    LOAD_FORECAST_COLUMNS,
)

TIMEZONE = "America/Chicago"
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


@dataclass(frozen=True)
class Layout:
    """The stripped header of one report; `flag` (DSTFlag/RepeatedHourFlag) may be absent.
    Only the numeric `values` may be empty; an empty name or time means a broken row."""

    columns: tuple[str, ...]
    values: tuple[str, ...]
    flag: str = "DSTFlag"


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


@dataclass(frozen=True)
class _Source:
    """One CSV to read: a file on disk, or a zip member held in memory."""

    name: str  # what errors call it: the path, or `archive!member`
    # (post time, position in paths, member index); a file without a cdr name counts as posted
    # before every named one, and among its kind by position.
    order: tuple[datetime, int, int]
    posted: datetime | None  # local wall time from the cdr name, if it has one
    path: Path | None = None
    content: bytes | None = None


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
    sources = _sources(paths, REPORTS[dataset_id].report_type_id)
    raw, without_flag = _read(sources, LAYOUTS[dataset_id])
    frame = dataset.build(raw, iso_id, sources)
    superseded = 0
    if dataset.supersede_key:
        frame, superseded = supersede(frame, dataset.supersede_key)
    if dataset_id == "lmp_rt5":
        frame = average_runs(frame)
    out = frame.sort([*dataset.sort, "_rank"], maintain_order=True).select(dataset.columns)
    return out, {"files_without_dst_flag": without_flag, "rows_superseded": superseded}


# --- reading ---------------------------------------------------------------------------------


def _sources(paths: Sequence[Path], report_type_id: int) -> list[_Source]:
    """Every CSV behind `paths`, oldest-posted first (files without a cdr name by position).

    Archives may mix reports (users' bulk archives): members named for another report are
    skipped; files passed directly are the caller's choice and always read.
    """
    found: list[_Source] = []
    seen: set[Path] = set()
    for position, path in enumerate(Path(p) for p in paths):
        if path in seen:
            continue
        seen.add(path)
        doc = parse_document_name(path.name)
        with path.open("rb") as handle:
            is_zip = handle.read(4) == b"PK\x03\x04"
        if not is_zip:
            posted = doc.posted if doc else None
            found.append(_Source(str(path), (posted or datetime.min, position, 0), posted, path))
            continue
        members = []
        for name, content in _zip_csvs(path.read_bytes(), str(path)):
            doc = _document(name)
            if doc is None or doc.report_type_id == report_type_id:
                members.append((name, content, doc.posted if doc else None))
        if not members:
            raise MalformedFileError(f"{path}: archive holds no CSV of report {report_type_id}")
        for index, (name, content, posted) in enumerate(members):
            order = (posted or datetime.min, position, index)
            found.append(_Source(name, order, posted, content=content))
    return sorted(found, key=lambda source: source.order)


def _document(name: str) -> ErcotDocument | None:
    """The innermost ERCOT document a (possibly `archive!member`) name is part of."""
    for part in reversed(name.split("!")):
        doc = parse_document_name(part)
        if doc is not None:
            return doc
    return None


def _zip_csvs(content: bytes, source: str) -> list[tuple[str, bytes]]:
    """(`source!member`, bytes) of the CSVs in a zip, descending into nested zips."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    except (zipfile.BadZipFile, OSError) as exc:
        raise MalformedFileError(f"{source}: unreadable zip archive: {exc}") from exc
    found = []
    for name, data in members:
        inner = f"{source}!{name}"
        if name.lower().endswith(".zip"):
            found.extend(_zip_csvs(data, inner))
        elif name.lower().endswith(".csv"):
            found.append((inner, data))
    return found


def _first_line(source: _Source) -> str:
    if source.path is not None:
        with source.path.open("rb") as handle:
            line = handle.readline()
    else:
        line = (source.content or b"").split(b"\n", 1)[0]
    return line.decode("utf-8-sig", errors="replace").rstrip("\r\n")


def check_header(line: str, layout: Layout, source: str) -> tuple[list[str], bool]:
    """The file's columns under their canonical names, and whether it has the DST flag.

    Names are compared stripped and case-insensitively; anything missing (except the flag) or
    extra is schema drift naming `source`.
    """
    if not line.strip():
        raise MalformedFileError(f"{source}: empty file (no header line)")
    canonical = {column.lower(): column for column in layout.columns}
    written = [name.strip() for name in next(csv.reader([line]))]
    names = [canonical.get(name.lower(), name) for name in written]
    unexpected = [w for w, n in zip(written, names, strict=True) if n not in layout.columns]
    unexpected += sorted({n for n in names if n in layout.columns and names.count(n) > 1})
    missing = [c for c in layout.columns if c not in names and c != layout.flag]
    if missing or unexpected:
        raise SchemaDriftError(source, missing, unexpected)
    return names, layout.flag in names


def _read(sources: list[_Source], layout: Layout) -> tuple[pl.DataFrame, int]:
    """All rows under canonical names (stripped strings, values as Float64), plus `_source`
    and `_rank` (the file's place in posting order)."""
    groups: dict[str, list[_Source]] = {}
    for source in sources:
        groups.setdefault(_first_line(source), []).append(source)
    ranks = {source.name: rank for rank, source in enumerate(sources)}
    frames, without_flag = [], 0
    for line, group in groups.items():
        others = f" (and {len(group) - 1} other file(s) with this header)" if len(group) > 1 else ""
        names, has_flag = check_header(line, layout, group[0].name + others)
        without_flag += 0 if has_flag else len(group)
        frame = _read_group(group, names)
        if not has_flag:
            frame = frame.with_columns(pl.lit("N").alias(layout.flag))
        frames.append(frame.select(*layout.columns, "_source"))
    if not frames:
        empty = {c: pl.String for c in (*layout.columns, "_source")}
        frames.append(pl.DataFrame(schema=empty))
    # One file is one chunk; expressions over thousands of tiny chunks are slow.
    raw = pl.concat(frames, how="vertical").rechunk()
    raw = raw.with_columns(
        pl.col(layout.columns).str.strip_chars(),
        pl.col("_source").replace_strict(ranks, return_dtype=pl.Int64).alias("_rank"),
    )
    identity = [c for c in layout.columns if c not in layout.values]
    # One pass to see whether any identity cell is empty; per column only to name it.
    if raw.select(pl.any_horizontal(pl.col(identity).fill_null("") == "").any()).item():
        for column in identity:
            empty = pl.col(column).is_null() | (pl.col(column) == "")
            _require(raw, empty, f"a row has no {column} (short or broken row)")
    raw = _numbers(raw, layout.values)
    return raw, without_flag


def _read_group(group: list[_Source], names: list[str]) -> pl.DataFrame:
    """One scan for the group's files on disk; zip members, already in memory, one by one."""
    options = {"has_header": True, "new_columns": names, "infer_schema": False}
    try:
        frames = [
            pl.read_csv(io.BytesIO(s.content), **options).with_columns(_source=pl.lit(s.name))
            for s in group
            if s.content is not None
        ]
        on_disk = [str(s.path) for s in group if s.path is not None]
        if on_disk:
            scan = pl.scan_csv(on_disk, include_file_paths="_source", glob=False, **options)
            frames.append(scan.collect())
        return pl.concat(frames, how="vertical")
    except pl.exceptions.PolarsError as exc:
        if len(group) > 1:  # name the culprit rather than the whole group
            for source in group:
                _read_group([source], names)
        raise MalformedFileError(f"{group[0].name}: unreadable CSV: {exc}") from exc


# --- values and times ------------------------------------------------------------------------


def _require(frame: pl.DataFrame, bad: pl.Expr, problem: str) -> None:
    """Raise MalformedFileError naming the file of the first row where `bad` holds; `problem`
    is formatted with that row (`{HourEnding!r}`)."""
    hits = frame.filter(bad.fill_null(False))
    if hits.height:
        row = hits.row(0, named=True)
        message = problem.format(**row, tz=TIMEZONE)
        raise MalformedFileError(f"{row['_source']}: {message} ({hits.height} such row(s))")


def _numbers(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """Cast value columns to Float64: an empty cell is null, anything unparsable an error."""
    out = frame.with_columns(
        pl.col(c).replace("", None).cast(pl.Float64, strict=False).alias(f"_{c}") for c in columns
    )
    for c in columns:
        bad = (pl.col(c) != "") & pl.col(f"_{c}").is_null()
        _require(out, bad, f"{c} value {{{c}!r}} is not a number")
    return out.drop(columns).rename({f"_{c}": c for c in columns})


def _flags(frame: pl.DataFrame, flag: str) -> pl.DataFrame:
    """`_repeated` from the DST flag: "Y" marks the repeated fall-back hour."""
    value = pl.col(flag).str.to_uppercase()
    _require(frame, ~value.is_in(["Y", "N"]), f"{flag} {{{flag}!r}} is neither Y nor N")
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
    _require(hours, pl.col("_day").is_null(), f"{date} is not a MM/DD/YYYY date")
    bad_hour = pl.col("_hour").is_null() | ~pl.col("_hour").is_between(1, 25)
    _require(hours, bad_hour, f"{he} is not an hour ending 1..25")
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
    _require(placed, pl.col("interval_start").is_null(), problem)
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
        # ERCOT's settlement point prices come without components.
        *(pl.lit(None, pl.Float64).alias(c) for c in ("energy", "congestion", "loss", "ghg")),
    )


# --- datasets --------------------------------------------------------------------------------


def _lmp_da(raw: pl.DataFrame, iso: str, sources: list[_Source]) -> pl.DataFrame:
    frame = _hour_ending_starts(raw, "DeliveryDate", "HourEnding")
    frame = frame.with_columns(
        pl.col("SettlementPoint").alias("location"),
        location_type_from_name(pl.col("SettlementPoint")).alias("location_type"),
        pl.col("SettlementPointPrice").alias("lmp"),
    )
    return _lmp_columns(frame, iso, "DAM", "1h")


def _lmp_rt15(raw: pl.DataFrame, iso: str, sources: list[_Source]) -> pl.DataFrame:
    interval = pl.col("DeliveryInterval").cast(pl.Int64, strict=False)
    frame = raw.with_columns(interval.alias("_interval"))
    bad = pl.col("_interval").is_null() | ~pl.col("_interval").is_between(1, 4)
    _require(frame, bad, "DeliveryInterval {DeliveryInterval!r} is not 1..4")
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


def _lmp_rt5(raw: pl.DataFrame, iso: str, sources: list[_Source]) -> pl.DataFrame:
    stamp, text = pl.col("SCEDTimestamp"), "SCEDTimestamp {SCEDTimestamp!r}"
    wall = pl.coalesce(
        stamp.str.strptime(pl.Datetime("us"), f, strict=False) for f in _TIME_FORMATS
    )
    frame = _flags(raw, "RepeatedHourFlag").with_columns(wall.alias("_wall"))
    _require(frame, pl.col("_wall").is_null(), f"{text} is not MM/DD/YYYY HH:MM:SS")

    first, second = (
        pl.col("_wall").dt.replace_time_zone(TIMEZONE, ambiguous=which, non_existent="null")
        for which in ("earliest", "latest")
    )
    instant = pl.when(pl.col("_repeated")).then(second).otherwise(first)
    frame = frame.with_columns(
        instant.dt.convert_time_zone("UTC").alias("_instant"),
        (first != second).alias("_ambiguous"),
    )
    _require(frame, pl.col("_instant").is_null(), f"{text} does not exist in {{tz}}")
    not_repeated = pl.col("_repeated") & ~pl.col("_ambiguous")
    _require(frame, not_repeated, f"RepeatedHourFlag Y on {text}, which is not a repeated hour")
    frame = frame.with_columns(
        pl.col("_instant").dt.truncate("5m").alias("interval_start"),
        pl.col("SettlementPoint").alias("location"),
        location_type_from_name(pl.col("SettlementPoint")).alias("location_type"),
        pl.col("LMP").alias("lmp"),
    )
    return _lmp_columns(frame, iso, "SCED", "5m")


def _as_da(raw: pl.DataFrame, iso: str, sources: list[_Source]) -> pl.DataFrame:
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


def _load(raw: pl.DataFrame, iso: str, sources: list[_Source]) -> pl.DataFrame:
    frame = _hour_ending_starts(raw, "OperDay", "HourEnding")
    return _wide_to_long(frame, LOAD_AREAS, []).with_columns(pl.lit(iso).alias("iso"))


def _load_forecast(raw: pl.DataFrame, iso: str, sources: list[_Source]) -> pl.DataFrame:
    unnamed = [source.name for source in sources if source.posted is None]
    if unnamed:
        raise MalformedFileError(
            f"{unnamed[0]}: no post time in the file name (expected an ERCOT cdr.* document "
            "name), so the forecast's publish time is unknown"
        )
    tz, utc = ZoneInfo(TIMEZONE), ZoneInfo("UTC")
    published = {
        source.name: source.posted.replace(tzinfo=tz).astimezone(utc)
        for source in sources
        if source.posted is not None
    }
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
    build: Callable[[pl.DataFrame, str, list[_Source]], pl.DataFrame]
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
