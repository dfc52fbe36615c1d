"""Reading SPP Marketplace CSVs: header matching, UTC interval ends, numbers, standardized tables.

What belongs here: everything that turns the bytes of SPP files into the standardized long tables
(LMP, AS prices, load, load forecast, fuel mix). Which file holds which day lives in `portal` and
`definition`.

Headers drift: names differ in case, spacing and underscores between years and re-saved copies
(`Settlement Location`, `SETTLEMENT_LOCATION`, the daily files' padded ` Settlement Location
Name`), and 2026 files add `BAA` (rows `SPP` and `SWPW`). Columns are matched on their name with
case, spaces and underscores ignored (`header_key`); a required column missing, or one no layout
knows, is schema drift and names the file.

Time: every file carries a UTC column (`GMTIntervalEnd`, the daily files' `GMT Interval`,
GenMix's `GMT MKT Interval`, hourly load's `MarketHour`) labelling the interval END; rows are
keyed on it, never on the local `Interval` column, whose fall-back hour repeats.
"""

import re
from dataclasses import dataclass, field
from datetime import timedelta

import polars as pl

from power_assets.errors import MalformedFileError, SchemaDriftError
from power_assets.isos.headers import header_line
from power_assets.isos.numbers import text_to_numbers

ISO_ID = "SPP"
TIMEZONE = "America/Chicago"
HOUR = timedelta(hours=1)
TIME_FORMATS = (
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",  # spreadsheet re-saves: 6/4/2026 1:00
    "%Y-%m-%dT%H:%M:%SZ",  # GenMix
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
)
# Hourly load files drop a midnight's 00:00 (`MarketHour` `11/04/2024`); only their layouts read
# a bare date, so a truncated stamp in any other file is an error, not a midnight.
LOAD_TIME_FORMATS = (*TIME_FORMATS, "%m/%d/%Y")
# SPP's two trading hubs and its interfaces (gridstatus's hard-coded list; SPP's own map service
# for them answered "Service not found" in 2026); every other name is a settlement location.
HUBS = frozenset({"SPPNORTH_HUB", "SPPSOUTH_HUB"})
INTERFACES = frozenset({
    "AECI", "ALTW", "AMRN", "BLKW", "CLEC", "DPC", "EDDY", "EES", "ERCOTE", "ERCOTN", "GRE",
    "LAM345", "MCWEST", "MDU", "MEC", "MISO", "NSP", "OTP", "RCEAST", "SCSE", "SGE", "SPA", "SPC",
})  # fmt: skip
BAAS = frozenset({"SPP", "SWPW"})
# gridstatus's rule for a forecast row whose BAA is blank: SWPW is ~2-3 GW, SPP ~20-30 GW.
BAA_SIZE_THRESHOLD_MW = 5_000.0
# SPP's reserve products (its own codes, as the header key reads them) -> (common name, SPP code).
AS_PRODUCTS = {
    "regup": ("REG_UP", "RegUP"),
    "regdn": ("REG_DOWN", "RegDN"),
    "regupservice": ("REG_UP", "RegUPService"),
    "regdnservice": ("REG_DOWN", "RegDNService"),
    "regupmile": ("REG_UP_MILEAGE", "RegUpMile"),
    "regdnmile": ("REG_DOWN_MILEAGE", "RegDNMile"),
    "spin": ("SPIN", "Spin"),
    "supp": ("NON_SPIN", "Supp"),
    "rampup": ("RAMP_UP", "RampUP"),
    "rampdn": ("RAMP_DOWN", "RampDN"),
    "uncup": ("UNCERTAINTY_UP", "UncUP"),
}
NOTE_BAA_INFERRED = "rows_baa_inferred_from_size"
NOTE_NO_FORECAST = "rows_without_forecast_value"
NOTE_NO_ACTUAL = "rows_without_actual_value"


def header_key(column: str) -> str:
    """`Settlement Location`, `SETTLEMENT_LOCATION` and ` settlementlocation ` all match."""
    return re.sub(r"[\s_]+", "", column.strip().strip('"')).lower()


@dataclass(frozen=True)
class Layout:
    """The columns of one kind of SPP CSV: header keys (any of several spellings) to internal
    names; `optional` internal names may be absent; `open_values` accepts any other column as
    a value column (wide load files: one column per zone, which change over the years)."""

    name: str
    columns: dict[str, str]
    optional: frozenset[str] = field(default_factory=frozenset)
    open_values: bool = False


_GMT = {"gmtintervalend": "gmt", "gmtinterval": "gmt"}
LMP = Layout(
    "lmp",
    {
        "interval": "interval", **_GMT, "baa": "baa",
        "settlementlocation": "location", "settlementlocationname": "location",
        "pnode": "pnode", "pnodename": "pnode",
        "lmp": "lmp", "mlc": "loss", "mcc": "congestion", "mec": "energy",
    },
    frozenset({"interval", "baa"}),
)  # fmt: skip
AS_PRICES = Layout(
    "mcp",
    {"interval": "interval", **_GMT, "baa": "baa", "reservezone": "zone",
     **{key: key for key in AS_PRODUCTS}},
    frozenset({"interval", "baa", *AS_PRODUCTS}),
)  # fmt: skip
LOAD_WIDE = Layout("hourly load (wide)", {"markethour": "gmt"}, open_values=True)
LOAD_LONG = Layout(
    "hourly load (long)",
    {"markethour": "gmt", "balancingareaname": "baa", "controlzonename": "zone",
     "forecastareatype": "area_type", "loadmw": "load"},
)  # fmt: skip
MTLF = Layout(
    "mtlf",
    {"interval": "interval", **_GMT, "baa": "baa", "mtlf": "forecast",
     "averagedactual": "actual"},
    frozenset({"interval", "baa", "actual"}),
)  # fmt: skip
GENMIX = Layout(
    "genmix", {"gmtmktinterval": "gmt", "gmttime": "gmt", "load": "load"},
    frozenset({"load"}), open_values=True,
)  # fmt: skip


def read_table(content: bytes, source: str, layout: Layout) -> pl.DataFrame:
    """The file's rows as stripped strings under internal names (open value columns keep their
    header as written, stripped). Schema drift names the missing and unknown columns."""
    header_line(content, source, skip_blank=True)  # an overlong first line is no header
    text = _decoded(content).lstrip("\r\n \t")
    if not text.strip():
        raise MalformedFileError(f"{source}: empty file")
    try:
        frame = pl.read_csv(
            text.encode(), has_header=True, infer_schema=False, truncate_ragged_lines=False
        )
    except pl.exceptions.PolarsError as exc:
        raise MalformedFileError(f"{source}: unreadable CSV: {exc}") from exc
    names, unexpected, seen = [], [], set()
    for column in frame.columns:
        name = layout.columns.get(header_key(column))
        if name is None and layout.open_values and column.strip():
            name = column.strip()
        if name is None or name in seen:
            unexpected.append(column)
        seen.add(name)
        names.append(name or f"_unexpected_{len(names)}")
    wanted = set(layout.columns.values()) - layout.optional
    missing = sorted(wanted - seen)
    if missing or unexpected:
        raise SchemaDriftError(source, missing, unexpected)
    frame = frame.rename(dict(zip(frame.columns, names, strict=True)))
    return frame.with_columns(pl.all().str.strip_chars())


def _decoded(content: bytes) -> str:
    """UTF-8 (SPP's files, with or without a BOM); a file that is not is read as Latin-1, which
    maps every byte to the character older Windows exports meant, rather than replacing bytes
    (a changed location name would join nothing)."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("latin-1")


def interval_ends(
    frame: pl.DataFrame, source: str, column: str = "gmt", formats: tuple[str, ...] = TIME_FORMATS
) -> pl.Series:
    """The UTC instants of a time column written in any of `formats`; a row that is none of
    them is an error naming it."""
    raw = frame.get_column(column)
    parsed = pl.select(
        pl.coalesce(raw.str.strptime(pl.Datetime("us"), fmt, strict=False) for fmt in formats)
    ).to_series()
    bad = parsed.is_null().arg_true()
    if len(bad):
        row = int(bad[0])
        raise MalformedFileError(
            f"{source}: row {row + 2}: time {raw[row]!r} is not a date-time SPP writes "
            f"(MM/DD/YYYY HH:MM:SS, YYYY-MM-DDTHH:MM:SSZ); {len(bad)} such row(s)"
        )
    return parsed.dt.replace_time_zone("UTC").alias("interval_end")


def to_numbers(frame: pl.DataFrame, columns: list[str], source: str) -> pl.DataFrame:
    """Value columns as numbers (see isos/numbers.py): an empty cell null, else an error."""
    return text_to_numbers(frame, columns, source)


def _placed(
    frame: pl.DataFrame, source: str, step: timedelta, formats: tuple[str, ...] = TIME_FORMATS
) -> pl.DataFrame:
    """Add interval_start/interval_end from the UTC END column; an end off the step's grid
    means the file is not the dataset it claims to be."""
    ends = interval_ends(frame, source, formats=formats)
    every = f"{int(step.total_seconds())}s"
    off = (ends != ends.dt.truncate(every)).arg_true()
    if len(off):
        row = int(off[0])
        raise MalformedFileError(
            f"{source}: row {row + 2}: interval end {ends[row]} is not on the {every} grid"
        )
    if "interval" in frame.columns:
        _check_local_column(frame, ends, step, source)
    return frame.with_columns(ends, (ends - step).alias("interval_start"))


def _check_local_column(frame: pl.DataFrame, ends: pl.Series, step: timedelta, source: str) -> None:
    """The local `Interval` must agree with the UTC end: a file whose two time columns disagree
    (a start-labelled or shifted UTC column) is not read at all.

    SPP writes the Central wall time of the end, except at the fall-back: there the interval
    ending 07:00 UTC (01:00 CST) is written as the wall time of its start plus the step
    (`02:00:00`, so local 02:00 appears twice, GMT 07:00 and 08:00, in real 2025 DA-MCP files).
    Either reading is accepted (in spring the end's wall time gives 01:00 then 03:00)."""
    local = interval_ends(frame, source, "interval").dt.replace_time_zone(None)
    wall_end = ends.dt.convert_time_zone(TIMEZONE).dt.replace_time_zone(None)
    wall_start = (ends - step).dt.convert_time_zone(TIMEZONE).dt.replace_time_zone(None)
    wrong = ((local != wall_end) & (local != wall_start + step)).arg_true()
    if len(wrong):
        row = int(wrong[0])
        raise MalformedFileError(
            f"{source}: row {row + 2}: Interval {frame.get_column('interval')[row]!r} is not the "
            f"Central time of GMT end {ends[row]}; {len(wrong)} such row(s)"
        )


def _check_baa(frame: pl.DataFrame, source: str) -> None:
    if "baa" not in frame.columns:
        return
    values = frame.get_column("baa")
    wrong = (values.is_not_null() & (values != "") & ~values.is_in(list(BAAS))).arg_true()
    if len(wrong):
        row = int(wrong[0])
        raise MalformedFileError(
            f"{source}: row {row + 2}: BAA {values[row]!r} is neither SPP nor SWPW"
        )


def lmp_table(content: bytes, source: str, market: str, step: timedelta) -> pl.DataFrame:
    """DA or RTBM LMPs by settlement location (interval, daily or latestInterval files)."""
    frame = read_table(content, source, LMP)
    _check_baa(frame, source)
    frame = to_numbers(
        _placed(frame, source, step), ["lmp", "energy", "congestion", "loss"], source
    )
    location = pl.col("location")
    kind = (
        pl.when(location.is_in(list(HUBS))).then(pl.lit("HUB"))
        .when(location.is_in(list(INTERFACES))).then(pl.lit("INTERFACE"))
        .otherwise(pl.lit("SETTLEMENT_LOCATION"))
    )  # fmt: skip
    # 2026 files name each row's balancing authority (SPP or SWPW, checked above); older ones
    # have no BAA column: null.
    baa = (
        pl.col("baa").str.strip_chars().replace("", None)
        if "baa" in frame.columns else pl.lit(None, pl.Utf8)
    )  # fmt: skip
    return frame.select(
        "interval_start", "interval_end", pl.lit(ISO_ID).alias("iso"),
        pl.lit(market).alias("market"), location, kind.alias("location_type"),
        pl.col("pnode").alias("location_id"), baa.alias("baa"), "lmp", "energy", "congestion",
        "loss", pl.lit(None, pl.Float64).alias("ghg"),
    )  # fmt: skip


def as_price_table(content: bytes, source: str, market: str, step: timedelta) -> pl.DataFrame:
    """Reserve clearing prices by reserve zone, one row per zone, product and interval."""
    frame = read_table(content, source, AS_PRICES)
    _check_baa(frame, source)
    products = [key for key in AS_PRODUCTS if key in frame.columns]
    if not products:
        raise SchemaDriftError(source, ["RegUP/RegUPService, Spin, Supp, ..."], [])
    frame = to_numbers(_placed(frame, source, step), products, source)
    long = frame.unpivot(
        index=["interval_start", "interval_end", "zone"], on=products,
        variable_name="key", value_name="price",
    )  # fmt: skip
    common = pl.col("key").replace_strict({k: v[0] for k, v in AS_PRODUCTS.items()})
    code = pl.col("key").replace_strict({k: v[1] for k, v in AS_PRODUCTS.items()})
    return long.select(
        "interval_start", "interval_end", pl.lit(ISO_ID).alias("iso"),
        pl.lit(market).alias("market"), pl.col("zone").alias("region"),
        common.alias("product"), code.alias("iso_product"), "price",
    )  # fmt: skip


def load_table(content: bytes, source: str) -> pl.DataFrame:
    """Hourly actual load by control zone: wide (`MarketHour,CSWS,...`, to 2026-03-23) or long
    (`Market Hour,Balancing Area Name,Control Zone Name,Forecast Area Type,Load MW`, after).
    `MarketHour` is the UTC hour END."""
    first = header_line(content, source, skip_blank=True)
    long = "balancingareaname" in {header_key(c) for c in first.split(",")}
    frame = read_table(content, source, LOAD_LONG if long else LOAD_WIDE)
    # Wholly empty lines are no rows (SPP's older files carry some); a row with values but no
    # time stays and fails below.
    frame = frame.filter(~pl.all_horizontal(pl.all().is_null() | (pl.all() == "")))
    frame = _placed(frame, source, timedelta(hours=1), LOAD_TIME_FORMATS)
    if long:
        frame = to_numbers(frame, ["load"], source)
        return frame.select(
            "interval_start", "interval_end", pl.lit(ISO_ID).alias("iso"),
            pl.col("zone").alias("area"), pl.col("load").alias("load_mw"),
        )  # fmt: skip
    zones = [c for c in frame.columns if c not in ("gmt", "interval_start", "interval_end")]
    if not zones:
        raise SchemaDriftError(source, ["a control-zone column"], [])
    frame = to_numbers(frame, zones, source)
    return frame.unpivot(
        index=["interval_start", "interval_end"], on=zones, variable_name="area",
        value_name="load_mw",
    ).select(
        "interval_start", "interval_end", pl.lit(ISO_ID).alias("iso"), "area", "load_mw"
    )  # fmt: skip


def load_forecast_table(
    content: bytes, source: str, publish_time: object
) -> tuple[pl.DataFrame, dict[str, int]]:
    """One MTLF vintage: hourly forecast by BAA (`SPP` where the file has no BAA column).

    Past hours of the file (the 24 before it was issued, gridstatus says and drops the same
    way) carry only `Averaged Actual`; their empty MTLF cells are no forecast and are left out
    (counted). A blank BAA is inferred from the forecast's size as gridstatus
    does (counted too)."""
    frame = read_table(content, source, MTLF)
    _check_baa(frame, source)
    frame = to_numbers(_placed(frame, source, HOUR), ["forecast"], source)
    notes: dict[str, int] = {}
    forecast = frame.filter(pl.col("forecast").is_not_null())
    if frame.height - forecast.height:
        notes[NOTE_NO_FORECAST] = frame.height - forecast.height
    area, inferred = _baa_area(forecast, "forecast")
    if inferred:
        notes[NOTE_BAA_INFERRED] = inferred
    table = forecast.select(
        "interval_start", "interval_end", pl.lit(ISO_ID).alias("iso"), area.alias("area"),
        pl.lit("MTLF").alias("forecast_type"),
        pl.lit(publish_time, pl.Datetime("us", "UTC")).alias("publish_time"),
        pl.col("forecast").alias("load_mw"),
    )  # fmt: skip
    return table, notes


def mtlf_actual_table(content: bytes, source: str) -> tuple[pl.DataFrame, dict[str, int]]:
    """Hourly actual load by BAA from an MTLF vintage's `Averaged Actual` (the hours before it
    was issued; SPP's source for a day whose hourly-load file is not out yet). Hours without
    an actual (the forecast hours) are left out and counted; a blank BAA is inferred from the
    load's size as for forecasts."""
    frame = read_table(content, source, MTLF)
    if "actual" not in frame.columns:
        raise SchemaDriftError(source, ["Averaged Actual"], [])
    _check_baa(frame, source)
    frame = to_numbers(_placed(frame, source, HOUR), ["actual"], source)
    actual = frame.filter(pl.col("actual").is_not_null())
    notes = {NOTE_NO_ACTUAL: frame.height - actual.height} if frame.height > actual.height else {}
    area, inferred = _baa_area(actual, "actual")
    if inferred:
        notes[NOTE_BAA_INFERRED] = inferred
    table = actual.select(
        "interval_start", "interval_end", pl.lit(ISO_ID).alias("iso"), area.alias("area"),
        pl.col("actual").alias("load_mw"),
    )  # fmt: skip
    return table, notes


def _baa_area(frame: pl.DataFrame, value: str) -> tuple[pl.Expr, int]:
    """The BAA of each row (`SPP` where the file has no BAA column); a blank one inferred from
    the size of `value` (gridstatus's rule), with the number of rows so inferred."""
    if "baa" not in frame.columns:
        return pl.lit("SPP"), 0
    blank = frame.get_column("baa").is_null() | (frame.get_column("baa") == "")
    guess = pl.when(pl.col(value) < BAA_SIZE_THRESHOLD_MW).then(pl.lit("SWPW"))
    area = pl.when(blank.not_()).then(pl.col("baa")).otherwise(guess.otherwise(pl.lit("SPP")))
    return area, int(blank.sum())


_FUEL_SUFFIX = re.compile(r"(market|self|mkt)$")


def fuel_mix_table(content: bytes, source: str) -> pl.DataFrame:
    """GenMix: 5-minute MW per fuel, market and self-scheduled as separate fuels
    (`Coal Market`, `Coal Self`; SPP's `Gas Self` named `Natural Gas Self` like its market
    twin). The `Load` column is no generation and is not read. Blank rows (DST days) stay as
    null MW: gaps, not zeros."""
    frame = read_table(content, source, GENMIX)
    fuels = [c for c in frame.columns if c not in ("gmt", "load")]
    unknown = [c for c in fuels if not _FUEL_SUFFIX.search(header_key(c))]
    if unknown or not fuels:
        raise SchemaDriftError(source, [] if fuels else ["fuel columns"], unknown)
    frame = to_numbers(_placed(frame, source, timedelta(minutes=5)), fuels, source)
    names = {c: "Natural Gas Self" if header_key(c) == "gasself" else c for c in fuels}
    return (
        frame.rename(names)
        .unpivot(
            index=["interval_start", "interval_end"],
            on=list(names.values()),
            variable_name="fuel",
            value_name="mw",
        )
        .select("interval_start", "interval_end", pl.lit(ISO_ID).alias("iso"), "fuel", "mw")
    )
