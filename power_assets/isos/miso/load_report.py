"""MISO's daily forecast and actual load report, `YYYYMMDD_df_al.xls`, as load and load forecast.

What belongs here: reading the one sheet of a df_al workbook. The sheet holds a title block
(`FORECASTED AND / ACTUAL LOAD REPORT`, `Published Date:`, `Reporting Period:`), a header row
`Market Day, HourEnding, LRZ1 MTLF (MWh), LRZ1 ActualLoad (MWh), ..., MISO ActualLoad (MWh)`, then
per market day the header again, a label row (`March 09, 2025`) and 24 hour-ending rows, and a
disclaimer row. The
header row moved from row 5 to row 7 on 2026-04-27, so it is found by its content (`Market Day`
in its first cell), never by position.

The file published on D holds actual load of D-1 only and the medium-term load forecast (MTLF)
of D-1 through D+5: actual load of day D comes from the file of D+1, every file published
D-5..D is a vintage of D's forecast, stamped with its `Published Date` (00:00 EST). Rows for
hours that had begun by then (the file's D-1) are no forecast: `forecasts_ahead` drops them,
counted under NOT_AHEAD, as gridstatus drops rows before the publish date.
"""

import io
import re
from datetime import datetime

import polars as pl

from power_assets.errors import MalformedFileError, SchemaDriftError, excerpt
from power_assets.isos.miso.common import HOUR, ISO, hour_ending_start, numbers, require
from power_assets.schemas import LOAD_COLUMNS, LOAD_FORECAST_COLUMNS

FORECAST_TYPE = "MTLF"
# parse_with_notes: MTLF rows for hours that began before their file's publish time, dropped.
NOT_AHEAD = "forecast_rows_before_publish_time"
_AREA_COLUMN = re.compile(r"^(?P<area>\S+)\s+(?P<what>MTLF|ActualLoad)\b", re.IGNORECASE)
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%m/%d/%Y", "%m/%d/%Y %H:%M:%S")


def read_sheet(content: bytes, source: str) -> pl.DataFrame:
    """Every cell of the first sheet as text (`column_1`..), row numbers (1-based) in `row`."""
    try:
        sheet = pl.read_excel(
            io.BytesIO(content), sheet_id=1, has_header=False, infer_schema_length=0,
            raise_if_empty=False,
        )  # fmt: skip
    except Exception as exc:  # fastexcel raises its own types for a broken workbook
        raise MalformedFileError(f"{source}: not a readable Excel workbook: {exc}") from exc
    require(sheet.height > 0, source, "the workbook's first sheet is empty")
    # Named by position here: polars 1 names headerless columns column_1.., polars 2 column_0..
    names = {old: f"column_{number}" for number, old in enumerate(sheet.columns, start=1)}
    return sheet.rename(names).with_row_index("row", offset=1)


def _parse_dates(values: pl.Expr) -> pl.Expr:
    text = values.str.strip_chars()
    return pl.coalesce(
        text.str.strptime(pl.Datetime("us"), fmt, strict=False) for fmt in _DATE_FORMATS
    )


def _published(sheet: pl.DataFrame, source: str) -> datetime:
    label = sheet.get_column("column_1").str.strip_chars().str.to_lowercase()
    found = sheet.filter(label.str.starts_with("published date"))
    require(found.height >= 1, source, "no `Published Date:` row")
    value = found.select(_parse_dates(pl.col("column_2"))).item(0, 0)
    require(
        value is not None,
        source,
        f"`Published Date:` {excerpt(str(found['column_2'][0]))} is no date",
    )
    return value


def _columns(sheet: pl.DataFrame, source: str) -> tuple[int, dict[str, str]]:
    """(row number of the header, {sheet column: header text})."""
    first = sheet.get_column("column_1").str.strip_chars().str.to_lowercase()
    rows = sheet.filter(first == "market day")
    require(rows.height >= 1, source, "no header row starting `Market Day`")
    cells = [c for c in sheet.columns if c.startswith("column_")]
    header = {c: (rows[c][0] or "").strip() for c in cells}
    # The header is repeated above every market day; a repeat that differs is schema drift.
    for index in range(1, rows.height):
        again = {c: (rows[c][index] or "").strip() for c in cells}
        if again != header:
            changed = [again[c] for c in cells if again[c] != header[c]]
            raise SchemaDriftError(source, [], [f"row {rows['row'][index]}: {changed[0]}"])
    if header.get("column_2", "").replace(" ", "").lower() != "hourending":
        raise SchemaDriftError(source, ["HourEnding"], [header.get("column_2", "")])
    return int(rows["row"][0]), header


def _hours(sheet: pl.DataFrame, source: str) -> pl.DataFrame:
    """The hour rows below the first header: a market-day date and an hour ending 1..24.
    Label rows (`March 09, 2025`) and the disclaimer have no hour ending and are not data."""
    header_row, _ = _columns(sheet, source)
    first = pl.col("column_1").str.strip_chars().str.to_lowercase()
    body = sheet.filter(
        pl.col("row") > header_row, pl.col("column_2").is_not_null(), first != "market day"
    )
    typed = body.with_columns(
        _parse_dates(pl.col("column_1")).dt.date().alias("day"),
        pl.col("column_2").str.strip_chars().cast(pl.Float64, strict=False).alias("he"),
    )
    bad = typed.filter(
        pl.col("day").is_null() | pl.col("he").is_null() | ~pl.col("he").is_between(1, 24)
        | (pl.col("he") != pl.col("he").round())
    )  # fmt: skip
    if bad.height:
        row = bad.row(0, named=True)
        raise MalformedFileError(
            f"{source}: row {row['row']}: market day {excerpt(str(row['column_1']))} hour ending "
            f"{excerpt(str(row['column_2']))} is not a date and an hour 1..24"
        )
    return typed.with_columns(
        hour_ending_start(pl.col("day"), pl.col("he").cast(pl.Int64)).alias("interval_start")
    ).with_columns((pl.col("interval_start") + HOUR).alias("interval_end"))


def _areas(header: dict[str, str], what: str, source: str) -> dict[str, str]:
    """{sheet column: area} of the `{area} MTLF` or `{area} ActualLoad` columns."""
    found = {}
    for column, text in header.items():
        if column in ("column_1", "column_2") or not text:
            continue
        match = _AREA_COLUMN.match(text)
        if match is None:
            raise SchemaDriftError(source, [], [text])
        if match["what"].lower() == what.lower():
            found[column] = match["area"].upper()
    require(bool(found), source, f"no `... {what} (MWh)` column")
    return found


def _long(sheet: pl.DataFrame, what: str, source: str) -> pl.DataFrame:
    hours = _hours(sheet, source)
    areas = _areas(_columns(sheet, source)[1], what, source)
    typed = numbers(hours, list(areas), source)
    long = typed.unpivot(
        index=["day", "interval_start", "interval_end"], on=list(areas),
        variable_name="column", value_name="load_mw",
    )  # fmt: skip
    return long.with_columns(pl.col("column").replace_strict(areas).alias("area"))


def load_table(content: bytes, source: str) -> pl.DataFrame:
    """Actual load by zone and MISO-wide: the market days of the file that carry actuals (the day
    before publication); an empty cell within such a day stays null."""
    sheet = read_sheet(content, source)
    long = _long(sheet, "ActualLoad", source)
    with_actuals = long.filter(pl.col("load_mw").is_not_null().any().over("day"))
    return with_actuals.with_columns(pl.lit(ISO).alias("iso")).select(LOAD_COLUMNS)


def load_forecast_table(content: bytes, source: str) -> pl.DataFrame:
    """Every MTLF hour of the file, stamped with its `Published Date` (00:00 EST of that day)."""
    sheet = read_sheet(content, source)
    published = _published(sheet, source)
    long = _long(sheet, "MTLF", source)
    publish = pl.lit(published).dt.replace_time_zone("Etc/GMT+5").dt.convert_time_zone("UTC")
    return long.with_columns(
        pl.lit(ISO).alias("iso"),
        pl.lit(FORECAST_TYPE).alias("forecast_type"),
        publish.alias("publish_time"),
    ).select(LOAD_FORECAST_COLUMNS)


def forecasts_ahead(frame: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """(the forecast rows whose interval starts at or after their publish time, how many others
    were dropped)."""
    ahead = frame.filter(pl.col("interval_start") >= pl.col("publish_time"))
    return ahead, frame.height - ahead.height
