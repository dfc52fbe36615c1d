"""Reading NYISO MIS CSVs: header matching, numbers, local time stamps, standardized tables.

What belongs here: everything that turns the bytes of one NYISO daily CSV into one of the
standardized long tables (LMP, AS prices, load, load forecast, fuel mix). Which dataset uses which
layout, and how files are requested, lives in `definition`.

Headers are matched on the part of a column name before its unit, case-insensitively, because
NYISO has written the same column several ways over the years (`LBMP ($/MWHr)`, the truncated
`LBMP ($/MWH`, `Gen MW` vs `Gen MWh`, quoted or not). A required column that is missing, or a
column no layout knows, is schema drift and names the file.
"""

import csv
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import PurePath
from zoneinfo import ZoneInfo

import polars as pl

from power_assets.errors import MalformedFileError, SchemaDriftError
from power_assets.isos.base import DatasetSpec, IntervalLabel
from power_assets.isos.headers import header_line
from power_assets.isos.numbers import text_to_numbers
from power_assets.market_time import localize_wall_times
from power_assets.schemas import (
    AS_PRICE_COLUMNS,
    FUEL_MIX_COLUMNS,
    LMP_COLUMNS,
    LOAD_COLUMNS,
    LOAD_FORECAST_COLUMNS,
)

TIMEZONE = "America/New_York"
# The zone file's external proxies (Hydro-Quebec, ISO-NE, Ontario, PJM); every other name in a
# zone file is one of the 11 NYCA load zones.
EXTERNAL_ZONES = frozenset({"H Q", "NPX", "O H", "PJM"})
# isolf's wide columns: the 11 zones as NYISO spells them there, and the NYCA total "NYISO".
ISOLF_AREAS = (
    "Capitl", "Centrl", "Dunwod", "Genese", "Hud Vl", "Longil",
    "Mhk Vl", "Millwd", "N.Y.C.", "North", "West", "NYISO",
)  # fmt: skip
# AS price columns (by header key) to standardized products. NYISO's regulation is one
# symmetric product (no up/down split), so it is REGULATION rather than REG_UP/REG_DOWN; the
# real-time files add the regulation movement price ($/MW), kept as its own product.
AS_PRODUCTS = {
    "10 min spinning reserve": "SPIN_10",
    "10 min non-synchronous reserve": "NON_SYNC_10",
    "30 min operating reserve": "OPERATING_30",
    "nyca regulation capacity": "REGULATION",
    "nyca regulation movement": "REGULATION_MOVEMENT",
}
_TIME_FORMATS = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M")
_FILE_DATE = re.compile(r"^(\d{8})")


@dataclass(frozen=True)
class Layout:
    """The columns of one kind of NYISO CSV: header key (name before its unit, lower-case) to
    the internal column name. `optional` keys may be absent; `values` are the numeric columns."""

    name: str
    columns: dict[str, str]
    values: tuple[str, ...]
    optional: frozenset[str] = field(default_factory=frozenset)


_TIME = {"time stamp": "time", "time zone": "tz"}
_NAMED = {**_TIME, "name": "name", "ptid": "ptid"}
LAYOUTS = {
    "lbmp": Layout(
        "lbmp",
        {
            **_NAMED,
            "lbmp": "lbmp",
            "marginal cost losses": "loss",
            "marginal cost congestion": "congestion",
        },
        ("lbmp", "loss", "congestion"),
        frozenset({"time zone"}),
    ),
    "asp": Layout(
        "asp",
        {**_NAMED, **{key: key for key in AS_PRODUCTS}},
        tuple(AS_PRODUCTS),
        # Movement is published in real time only; "Time Zone" is tolerated where absent.
        frozenset({"time zone", "nyca regulation movement"}),
    ),
    "pal": Layout("pal", {**_NAMED, "load": "value"}, ("value",), frozenset({"time zone"})),
    "fuelmix": Layout(
        "fuelmix",
        # Old monthly archives say "Gen MWh" for the same 5-minute MW value.
        {**_TIME, "fuel category": "fuel", "gen mw": "value", "gen mwh": "value"},
        ("value",),
        frozenset({"time zone", "gen mw", "gen mwh"}),
    ),
    "isolf": Layout(
        "isolf",
        {"time stamp": "time", **{a.lower(): a.upper() for a in ISOLF_AREAS}},
        tuple(a.upper() for a in ISOLF_AREAS),
    ),
}


def header_key(column: str) -> str:
    """`"LBMP ($/MWHr)"`, `LBMP ($/MWH` and `lbmp` all give `lbmp`."""
    return column.split("(", 1)[0].strip().strip('"').strip().lower()


def read_table(content: bytes, source: str, layout: Layout) -> tuple[pl.DataFrame, list[str]]:
    """The file's rows as strings under internal column names, plus its header as written.

    Leading empty lines (some realtime files) and a UTF-8 BOM are skipped.
    """
    header_line(content, source, skip_blank=True)  # an overlong first line is no header
    text = content.decode("utf-8-sig", errors="replace")
    offset = len(text) - len(text.lstrip("\r\n \t"))
    body = text[offset:]
    if not body:
        raise MalformedFileError(f"{source}: empty file")
    first_line = body.split("\n", 1)[0].rstrip("\r")
    header = [h.strip() for h in next(csv.reader([first_line]))]
    names, unexpected, seen = [], [], set()
    for column in header:
        name = layout.columns.get(header_key(column))
        if name is None or name in seen:
            unexpected.append(column)
        seen.add(name)
        names.append(name or f"_unexpected_{len(names)}")
    found = {header_key(c) for c in header}
    missing = [
        key for key, name in layout.columns.items()
        if key not in layout.optional and key not in found
    ]  # fmt: skip
    if layout.name == "fuelmix" and not found & {"gen mw", "gen mwh"}:
        missing.append("gen mw")
    if missing or unexpected:
        raise SchemaDriftError(source, missing, unexpected)
    try:
        frame = pl.read_csv(body.encode(), has_header=True, new_columns=names, infer_schema=False)
    except pl.exceptions.PolarsError as exc:
        raise MalformedFileError(f"{source}: unreadable CSV: {exc}") from exc
    return frame, header


def to_numbers(frame: pl.DataFrame, columns: tuple[str, ...], source: str) -> pl.DataFrame:
    """The value columns the file has, as numbers (see isos/numbers.py)."""
    return text_to_numbers(frame, [c for c in columns if c in frame.columns], source)


def _wall_times(frame: pl.DataFrame, source: str) -> pl.Series:
    raw = frame.get_column("time").str.strip_chars()
    parsed = pl.select(
        pl.coalesce(raw.str.strptime(pl.Datetime("us"), fmt, strict=False) for fmt in _TIME_FORMATS)
    ).to_series()
    bad = parsed.is_null().arg_true()
    if len(bad):
        row = int(bad[0])
        raise MalformedFileError(
            f"{source}: row {row + 2}: time stamp {raw[row]!r} is not MM/DD/YYYY HH:MM[:SS]"
        )
    return parsed.alias("wall")


def instants(frame: pl.DataFrame, source: str, by: list[str]) -> pl.DataFrame:
    """Add `instant` (UTC) from the local `time` column (and `tz` where the file has one).

    Without a "Time Zone" column the repeated fall-back hour is told apart by file order: per
    `by` group, a wall time at or before one already seen means the clock went back, so it is
    the standard-time occurrence. Unlike matching exact repeats, this also places irregular RTD
    stamps (e.g. 01:02:48 seen only once, in the second 01:xx hour) in the right hour.
    """
    frame = frame.with_columns(_wall_times(frame, source))
    if "tz" in frame.columns:
        labels = frame.get_column("tz").str.strip_chars().str.to_uppercase()
        wrong = (~labels.is_in(["EST", "EDT"])).arg_true()
        if len(wrong):
            row = int(wrong[0])
            raise MalformedFileError(
                f"{source}: row {row + 2}: Time Zone {labels[row]!r} is neither EST nor EDT"
            )
        frame = frame.with_columns(labels.alias("tz"))
        label = pl.col("tz")
    else:
        seen = pl.col("wall").cum_max().shift(1)
        if by:
            seen = seen.over(by)
        label = pl.when(seen >= pl.col("wall")).then(pl.lit("EST")).otherwise(pl.lit("EDT"))
    try:
        return frame.with_columns(
            localize_wall_times(pl.col("wall"), TIMEZONE, by, dst_label=label).alias("instant")
        )
    except pl.exceptions.PolarsError as exc:
        raise MalformedFileError(
            f"{source}: a time stamp does not exist in {TIMEZONE} (spring-forward gap?): {exc}"
        ) from exc


def intervals(frame: pl.DataFrame, spec: DatasetSpec, source: str) -> pl.DataFrame:
    """Add interval_start/interval_end from `instant` and the dataset's label.

    Five-minute data: an irregular RTD stamp (e.g. 01:57:48) goes to the 5-minute interval that
    contains it, i.e. for END-labelled files the interval whose end is the stamp rounded UP to
    the grid (01:55-02:00), for START-labelled files the one whose start is the stamp rounded
    down; `average_irregular` then folds it with the interval's other readings. Hourly data has
    no irregular stamps: one off the hour means the file is not what it claims to be.
    """
    step = spec.interval
    every = f"{int(step.total_seconds())}s"
    floor = pl.col("instant").dt.truncate(every)
    if step >= timedelta(hours=1):
        off = frame.filter(pl.col("instant") != floor)
        if off.height:
            raise MalformedFileError(
                f"{source}: time stamp {off.get_column('time')[0]!r} is not on the hour for "
                f"hourly dataset {spec.id} ({off.height} such row(s))"
            )
    irregular = (pl.col("instant") != floor).alias("_irregular")
    if spec.label is IntervalLabel.END:
        end = pl.when(floor == pl.col("instant")).then(floor).otherwise(floor + step)
        return frame.with_columns(
            (end - step).alias("interval_start"), end.alias("interval_end"), irregular
        )
    return frame.with_columns(
        floor.alias("interval_start"), (floor + step).alias("interval_end"), irregular
    )


def average_irregular(frame: pl.DataFrame, keys: list[str], values: list[str]) -> pl.DataFrame:
    """One row per interval where RTD/PAL published off-schedule readings: their mean.

    NYISO sometimes stamps extra runs off the 5-minute grid (01:57:48); those readings and the
    regular one of the same interval become one row holding their mean, so an irregular run
    neither vanishes nor duplicates the interval's key. Intervals without an irregular stamp
    are left alone, so genuinely repeated rows still reach the duplicate check.
    """
    group = [*keys, "interval_start"]
    touched = pl.col("_irregular").any().over(group)
    regular = frame.filter(~touched)
    merged = (
        frame.filter(touched)
        .group_by(group, maintain_order=True)
        .agg(pl.col("interval_end").first(), *(pl.col(v).mean() for v in values))
    )
    columns = [*group, "interval_end", *values]
    return pl.concat([regular.select(columns), merged.select(columns)]).sort(group)


def file_date(source: str, frame: pl.DataFrame) -> date:
    """The date in a NYISO file name (`20250219isolf.csv`), else the date of its first stamp."""
    match = _FILE_DATE.match(PurePath(source.rsplit("!", 1)[-1]).name)
    if match:
        try:
            return datetime.strptime(match.group(1), "%Y%m%d").date()
        except ValueError:
            pass
    if frame.is_empty():
        raise MalformedFileError(f"{source}: no rows and no date in the file name")
    return frame.get_column("wall")[0].date()


def is_generator_file(source: str) -> bool:
    """Gen files are named `..._gen.csv`; everything else in an LBMP folder is zonal."""
    return "_gen" in PurePath(source.rsplit("!", 1)[-1]).name.lower()


def ptid_text(frame: pl.DataFrame, source: str) -> pl.DataFrame:
    """The `ptid` column as integer text ("61757"), also where a file wrote it as "61757.0".

    An empty PTID is null; one that is not an integer is an error naming the row.
    """
    raw = frame.get_column("ptid").str.strip_chars()
    number = raw.cast(pl.Float64, strict=False)
    whole = number.is_not_null() & number.is_finite() & (number == number.floor())
    bad = (raw.is_not_null() & (raw != "") & ~whole).arg_true()
    if len(bad):
        row = int(bad[0])
        raise MalformedFileError(
            f"{source}: row {row + 2}: PTID {raw[row]!r} is not an integer ({len(bad)} such row(s))"
        )
    # Float64 holds every integer below 2**53 exactly, far above NYISO's PTIDs.
    text = pl.Series("ptid", number).cast(pl.Int64, strict=False).cast(pl.Utf8)
    return frame.with_columns(text.alias("ptid"))


def lmp_table(content: bytes, source: str, spec: DatasetSpec, iso: str) -> pl.DataFrame:
    """NYISO LBMP file to LmpSchema rows. NYISO's LBMP = energy + losses - published congestion,
    so standardized congestion = -published, energy = LBMP - losses - standardized congestion.
    `location_id` is the row's PTID."""
    frame, _ = read_table(content, source, LAYOUTS["lbmp"])
    frame = to_numbers(frame, LAYOUTS["lbmp"].values, source)
    frame = ptid_text(frame, source)
    frame = intervals(instants(frame, source, ["name"]), spec, source)
    # PTID rides along as a key: one location has one PTID, so this groups exactly as by name.
    frame = average_irregular(frame, ["name", "ptid"], ["lbmp", "loss", "congestion"])
    name = pl.col("name").str.strip_chars()
    if is_generator_file(source):
        kind = pl.lit("GENERATOR")
    else:
        kind = pl.when(name.is_in(list(EXTERNAL_ZONES))).then(pl.lit("EXTERNAL"))
        kind = kind.otherwise(pl.lit("ZONE"))
    published = pl.col("congestion")
    # Flip the sign without writing -0.0 for the (usual) uncongested 0.00.
    congestion = pl.when(published == 0).then(pl.lit(0.0)).otherwise(-published)
    out = frame.select(
        "interval_start", "interval_end",
        pl.lit(iso).alias("iso"), pl.lit(spec.market).alias("market"),
        name.alias("location"), kind.alias("location_type"), pl.col("ptid").alias("location_id"),
        pl.lit(None, pl.Utf8).alias("baa"),
        pl.col("lbmp").alias("lmp"),
        (pl.col("lbmp") - pl.col("loss") - congestion).alias("energy"),
        congestion.alias("congestion"), pl.col("loss"),
        pl.lit(None, pl.Float64).alias("ghg"),
    )  # fmt: skip
    return out.select(LMP_COLUMNS)


def as_table(content: bytes, source: str, spec: DatasetSpec, iso: str) -> pl.DataFrame:
    """damasp/rtasp (one row per zone, one column per product) to AsPriceSchema rows."""
    layout = LAYOUTS["asp"]
    frame, header = read_table(content, source, layout)
    frame = to_numbers(frame, layout.values, source)
    frame = intervals(instants(frame, source, ["name"]), spec, source)
    published = {header_key(c): c for c in header}
    products = [key for key in AS_PRODUCTS if key in frame.columns]
    frame = average_irregular(frame, ["name"], products)
    long = frame.with_row_index("_row").unpivot(
        on=products,
        index=["_row", "interval_start", "interval_end", "name"],
        variable_name="key",
        value_name="price",
    )
    out = long.sort("_row", maintain_order=True).select(
        "interval_start", "interval_end",
        pl.lit(iso).alias("iso"), pl.lit(spec.market).alias("market"),
        pl.col("name").str.strip_chars().alias("region"),
        pl.col("key").replace_strict(AS_PRODUCTS, return_dtype=pl.String).alias("product"),
        pl.col("key").replace_strict(published, return_dtype=pl.String).alias("iso_product"),
        "price",
    )  # fmt: skip
    return out.select(AS_PRICE_COLUMNS)


def load_table(content: bytes, source: str, spec: DatasetSpec, iso: str) -> pl.DataFrame:
    """pal (5-minute actual load per zone) to LoadSchema rows; zones only, no made-up total."""
    frame, _ = read_table(content, source, LAYOUTS["pal"])
    frame = to_numbers(frame, ("value",), source)
    frame = intervals(instants(frame, source, ["name"]), spec, source)
    frame = average_irregular(frame, ["name"], ["value"])
    out = frame.select(
        "interval_start", "interval_end", pl.lit(iso).alias("iso"),
        pl.col("name").str.strip_chars().alias("area"), pl.col("value").alias("load_mw"),
    )  # fmt: skip
    return out.select(LOAD_COLUMNS)


def fuel_mix_table(content: bytes, source: str, spec: DatasetSpec, iso: str) -> pl.DataFrame:
    frame, _ = read_table(content, source, LAYOUTS["fuelmix"])
    frame = to_numbers(frame, ("value",), source)
    frame = intervals(instants(frame, source, ["fuel"]), spec, source)
    frame = average_irregular(frame, ["fuel"], ["value"])
    out = frame.select(
        "interval_start", "interval_end", pl.lit(iso).alias("iso"),
        pl.col("fuel").str.strip_chars().alias("fuel"), pl.col("value").alias("mw"),
    )  # fmt: skip
    return out.select(FUEL_MIX_COLUMNS)


def publish_instant(day: date) -> datetime:
    """Local midnight of an isolf file's date, in UTC: NYISO publishes no time of day."""
    local = datetime.combine(day, time(0), tzinfo=ZoneInfo(TIMEZONE))
    return local.astimezone(ZoneInfo("UTC"))


def load_forecast_table(content: bytes, source: str, spec: DatasetSpec, iso: str) -> pl.DataFrame:
    """isolf (wide: one column per zone plus the NYISO total) to LoadForecastSchema rows.

    One file holds the forecast published on its date for that day and the following days;
    every row is kept, stage 2 keeps the market day's. Area = column name upper-cased.
    """
    layout = LAYOUTS["isolf"]
    frame, _ = read_table(content, source, layout)
    frame = to_numbers(frame, layout.values, source)
    # One time series per file, so file order alone tells the repeated fall-back hour apart.
    frame = intervals(instants(frame, source, []), spec, source)
    published = publish_instant(file_date(source, frame))
    long = frame.with_row_index("_row").unpivot(
        on=list(layout.values),
        index=["_row", "interval_start", "interval_end"],
        variable_name="area",
        value_name="load_mw",
    )
    out = long.sort("_row", maintain_order=True).select(
        "interval_start", "interval_end", pl.lit(iso).alias("iso"), "area",
        pl.lit("ISO").alias("forecast_type"),
        pl.lit(published).dt.cast_time_unit("us").alias("publish_time"),
        "load_mw",
    )  # fmt: skip
    return out.select(LOAD_FORECAST_COLUMNS)
