"""MISO's public real-time API (`public-api.misoenergy.org/api/...`, JSON, no key) and the weekly
`YYYYMMDD_5MIN_LMP.zip` market report: today's and recent data as standardized tables.

What belongs here: reading these payloads.
- `FuelMix` (and `/Today`, `/Yesterday`): `{"RefId", "TotalMW", "Fuel": {"Type": [{"INTERVALEST":
  "2026-07-27 8:10:00 AM", "CATEGORY", "ACT"}]}}`, 5-minute MW by fuel, text values that may be
  negative (storage charging).
- `RealTimeTotalLoad`: `LoadInfo.FiveMinTotalLoad[{"Load": {"Time": "HH:MM", "Value"}}]` for the
  market day named by `RefId` ("27-Jul-2026 - Interval 08:10 EST"): 5-minute readings, averaged
  per EST hour into the hourly load of the day so far.
- `MarketPricing/GetRealTimeFiveMinExPost/{Current|Rolling|Previous}`: `{"headers": [...],
  "data": [[...]]}` with `INTERVAL` (ISO text, EST), `CPNODE`, `LMP`, `MLC`, `MCC`.
- `YYYYMMDD_5MIN_LMP.zip`: one CSV, 4 preamble lines, `MKTHOUR_EST,PNODENAME,LMP,CON_LMP,LOSS_LMP`
  (`MM/DD/YYYY HH:MM`), then 1-2 footer lines.

Both 5-minute LMP stamps are taken as interval START (as gridstatus reads MKTHOUR_EST), in EST.

No Python loop over items or rows: the JSON answers are read by polars (`read_json` with the
fields wanted, every leaf as text), the weekly CSV by `pl.read_csv` from its bytes as published.
"""

import csv
import io
import re

import polars as pl

from power_assets.errors import MalformedFileError, SchemaDriftError, excerpt
from power_assets.isos.miso.common import (
    FIVE_MINUTES,
    HOUR,
    ISO,
    decode,
    est_to_utc,
    numbers,
    require,
    utf8,
)
from power_assets.schemas import FUEL_MIX_COLUMNS, LMP_COLUMNS, LOAD_COLUMNS

RT5_MARKET = "RT5M"
MISO_AREA = "MISO"
_REF_DAY = re.compile(r"(\d{1,2}-[A-Za-z]{3}-\d{4})")
_FIVE_MIN_COLUMNS = {"INTERVAL": "time", "CPNODE": "location", "LMP": "lmp", "MLC": "loss",
                     "MCC": "congestion"}  # fmt: skip
# The weekly CSV's header is within its first 50 lines (4 preamble lines today).
_HEAD_CHARS = 20_000
_STAMP = r"^\s*\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}"
_FOOTER_TAIL = 2  # lines that may follow the footer line
_ZIP_COLUMNS = {"MKTHOUR_EST": "time", "PNODENAME": "location", "LMP": "lmp",
                "CON_LMP": "congestion", "LOSS_LMP": "loss"}  # fmt: skip


_FUEL = pl.Struct({"INTERVALEST": pl.Utf8, "CATEGORY": pl.Utf8, "ACT": pl.Utf8})
_FUEL_SCHEMA = {"Fuel": pl.Struct({"Type": pl.List(_FUEL)})}
_LOAD = pl.Struct({"Load": pl.Struct({"Time": pl.Utf8, "Value": pl.Utf8})})
_LOAD_SCHEMA = {"LoadInfo": pl.Struct({"RefId": pl.Utf8, "FiveMinTotalLoad": pl.List(_LOAD)})}
_FIVE_MIN_SCHEMA = {"headers": pl.List(pl.Utf8), "data": pl.List(pl.List(pl.Utf8))}


def read_json(content: bytes, source: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """A JSON object answer as one row of `schema`'s fields (leaves as text, numbers too; a
    field the answer lacks is null). Anything else (not JSON, an array, an item of the wrong
    shape) is an error naming the file."""
    head = content[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    require(head.startswith(b"{"), source, f"not a JSON object; starts {excerpt(head[:40])}")
    try:
        frame = pl.read_json(io.BytesIO(content), schema=schema)
    except (pl.exceptions.PolarsError, ValueError) as exc:
        raise MalformedFileError(f"{source}: not the JSON expected: {excerpt(str(exc))}") from exc
    require(frame.height == 1, source, "not one JSON object")
    return frame


def _items(frame: pl.DataFrame, field: pl.Expr, path: str, source: str) -> pl.DataFrame:
    """The items of the list at `field` (`path` names it), one row each, in a column `item`;
    the list missing or an item null is an error."""
    items = frame.select(field.alias("item"))
    require(items["item"].null_count() == 0, source, f"no {path} list in the answer")
    rows = items.explode("item").with_row_index("index")
    empty = rows.filter(pl.col("item").is_null())
    if frame.select(field.list.len()).item() and empty.height:
        raise MalformedFileError(f"{source}: {path}[{empty['index'][0]}] is not an object")
    return rows.filter(pl.col("item").is_not_null())


def _strict_times(
    frame: pl.DataFrame, column: str, formats: tuple[str, ...], source: str
) -> pl.Series:
    raw = frame.get_column(column).str.strip_chars()
    parsed = pl.select(
        pl.coalesce(raw.str.strptime(pl.Datetime("us"), f, strict=False) for f in formats)
    ).to_series()
    bad = parsed.is_null().arg_true()
    if len(bad):
        raise MalformedFileError(
            f"{source}: time {excerpt(str(raw[int(bad[0])]))} is not {' or '.join(formats)}"
        )
    return parsed


def fuel_mix_table(content: bytes, source: str) -> pl.DataFrame:
    body = read_json(content, source, _FUEL_SCHEMA)
    items = _items(body, pl.col("Fuel").struct.field("Type"), "Fuel.Type", source)
    frame = items.select(pl.col("item").struct.unnest())
    missing = frame.filter(pl.col("INTERVALEST").is_null() | pl.col("CATEGORY").is_null())
    require(missing.height == 0, source, "a fuel entry without INTERVALEST or CATEGORY")
    wall = _strict_times(
        frame, "INTERVALEST", ("%Y-%m-%d %I:%M:%S %p", "%Y-%m-%dT%H:%M:%S"), source
    )
    typed = numbers(frame, ["ACT"], source)
    return (
        typed.with_columns(
            est_to_utc(pl.lit(wall)).alias("interval_start"),
        )
        .with_columns(
            (pl.col("interval_start") + FIVE_MINUTES).alias("interval_end"),
            pl.lit(ISO).alias("iso"),
            pl.col("CATEGORY").str.strip_chars().alias("fuel"),
            pl.col("ACT").alias("mw"),
        )
        .select(FUEL_MIX_COLUMNS)
    )


def load_table(content: bytes, source: str) -> pl.DataFrame:
    """Hourly MISO-wide load of the day so far: the mean of the hour's 5-minute readings."""
    body = read_json(content, source, _LOAD_SCHEMA)
    info = pl.col("LoadInfo")
    require(body["LoadInfo"].null_count() == 0, source, "no LoadInfo in the answer")
    ref = body.select(info.struct.field("RefId")).item()
    found = _REF_DAY.search(ref or "")
    require(found is not None, source, f"RefId {excerpt(str(ref))} names no day (DD-Mon-YYYY)")
    items = _items(body, info.struct.field("FiveMinTotalLoad"), "LoadInfo.FiveMinTotalLoad", source)
    loads = items.select("index", pl.col("item").struct.field("Load"))
    if (missing := loads.filter(pl.col("Load").is_null())).height:
        raise MalformedFileError(f"{source}: FiveMinTotalLoad[{missing['index'][0]}] has no Load")
    frame = loads.select(pl.col("Load").struct.unnest())
    day = pl.lit(found[1]).str.strptime(pl.Date, "%d-%b-%Y")
    clock = frame.get_column("Time").fill_null("").str.strip_chars()
    bad = (~clock.str.contains(r"^\d{1,2}:\d{2}$")).arg_true()
    if len(bad):
        raise MalformedFileError(f"{source}: Load Time {excerpt(clock[int(bad[0])])} is not HH:MM")
    typed = numbers(frame, ["Value"], source).with_columns(
        (day.cast(pl.Datetime("us")) + pl.duration(
            hours=clock.str.split(":").list.get(0).cast(pl.Int64),
            minutes=clock.str.split(":").list.get(1).cast(pl.Int64),
        )).alias("wall")
    )  # fmt: skip
    hourly = typed.group_by(pl.col("wall").dt.truncate("1h").alias("hour")).agg(
        pl.col("Value").mean().alias("load_mw")
    )
    return (
        hourly.sort("hour")
        .with_columns(
            est_to_utc(pl.col("hour")).alias("interval_start"),
        )
        .with_columns(
            (pl.col("interval_start") + HOUR).alias("interval_end"),
            pl.lit(ISO).alias("iso"),
            pl.lit(MISO_AREA).alias("area"),
        )
        .select(LOAD_COLUMNS)
    )


def _lmp_long(frame: pl.DataFrame, formats: tuple[str, ...], source: str) -> pl.DataFrame:
    wall = _strict_times(frame, "time", formats, source)
    typed = numbers(frame, ["lmp", "congestion", "loss"], source)
    return (
        typed.with_columns(
            est_to_utc(pl.lit(wall)).alias("interval_start"),
        )
        .with_columns(
            (pl.col("interval_start") + FIVE_MINUTES).alias("interval_end"),
            pl.lit(ISO).alias("iso"),
            pl.lit(RT5_MARKET).alias("market"),
            pl.col("location").str.strip_chars(),
            pl.lit("CPNODE").alias("location_type"),
            pl.lit(None, pl.Utf8).alias("location_id"),
            pl.lit(None, pl.Utf8).alias("baa"),
            (pl.col("lmp") - pl.col("congestion") - pl.col("loss")).alias("energy"),
            pl.lit(None, pl.Float64).alias("ghg"),
        )
        .select(LMP_COLUMNS)
    )


def _renamed(header: list[str], names: dict[str, str], source: str) -> list[str]:
    keys = [h.strip().upper() for h in header]
    missing = [n for n in names if n not in keys]
    unexpected = [h for h, k in zip(header, keys, strict=True) if k not in names]
    if missing or unexpected:
        raise SchemaDriftError(source, missing, unexpected)
    return [names[k] for k in keys]


def five_minute_api_table(content: bytes, source: str) -> pl.DataFrame:
    """GetRealTimeFiveMinExPost (Current, Rolling or Previous) as 5-minute LMPs."""
    body = read_json(content, source, _FIVE_MIN_SCHEMA)
    require(
        body["headers"].null_count() == 0 and body["data"].null_count() == 0,
        source, "no headers/data lists",
    )  # fmt: skip
    names = _renamed(body["headers"][0].to_list(), _FIVE_MIN_COLUMNS, source)
    rows = body.select(pl.col("data").explode().alias("row")).with_row_index("index")
    if body["data"][0].len() == 0:
        rows = rows.clear()
    wrong = rows.filter(pl.col("row").list.len().fill_null(-1) != len(names))
    if wrong.height:
        raise MalformedFileError(
            f"{source}: data row {wrong['index'][0]} does not have the {len(names)} header fields"
        )
    frame = rows.select(pl.col("row").list.get(i).alias(n) for i, n in enumerate(names))
    return _lmp_long(frame, ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M"), source)


def five_minute_csv_table(content: bytes, source: str) -> pl.DataFrame:
    """The CSV of a weekly `_5MIN_LMP.zip`: rows after the `MKTHOUR_EST,...` header up to the
    footer (the first row after the data that is not a data row; at most two lines may follow
    it). A week of every node is millions of rows: polars reads them, no loop over rows."""
    head = decode(content[:_HEAD_CHARS], source).splitlines()[:50]
    starts = [i for i, line in enumerate(head) if line.strip().upper().startswith("MKTHOUR_EST")]
    require(bool(starts), source, "no `MKTHOUR_EST,PNODENAME,...` header in the first 50 lines")
    header = next(csv.reader([head[starts[0]]]))
    names = _renamed(header, _ZIP_COLUMNS, source)
    # The bytes as published go to polars (no decoded copy of a week of every node); a file
    # that is not UTF-8 is read as Latin-1, as `decode` reads MISO's text.
    if not utf8(content):
        content = content.decode("latin-1").encode()
    try:
        table = pl.read_csv(
            content, skip_lines=starts[0], has_header=True, new_columns=names,
            infer_schema=False,
        ).with_row_index("row")  # fmt: skip
    except pl.exceptions.PolarsError as exc:  # e.g. a row with more fields than the header
        raise MalformedFileError(f"{source}: unreadable CSV: {excerpt(str(exc))}") from exc
    stamped = pl.col("time").fill_null("").str.contains(_STAMP)
    # The footer is the first row that does not start with a time; at most _FOOTER_TAIL lines
    # may follow it, none of them a data row. Every row before it must be whole.
    footer = table.select(pl.col("row").filter(~stamped).first()).item()
    data = table if footer is None else table.head(footer)
    broken = data.filter(~pl.all_horizontal(pl.col(names).is_not_null())).head(1)
    if broken.height:
        raise MalformedFileError(
            f"{source}: data row {broken['row'][0] + 1} after the header has an empty field: "
            f"{excerpt(','.join(str(v) for v in broken.drop('row').row(0)))}"
        )
    if footer is not None:
        tail = table.slice(footer)
        if tail.height > 1 + _FOOTER_TAIL or tail.select(stamped.any()).item():
            raise MalformedFileError(
                f"{source}: rows after the footer at data row {footer + 1} (the footer is "
                f"followed by at most {_FOOTER_TAIL} lines and no data)"
            )
    table = data
    return _lmp_long(table.drop("row"), ("%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S"), source)
