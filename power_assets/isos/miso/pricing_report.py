"""MISO's pricing reports before 2023: the daily `.xls` members of `{YYYYMM}_{da|rt}_pr_xls.zip`.

What belongs here: reading one member workbook (`YYYYMMDD_da_pr.xls`, `YYYYMMDD_rt_pr.xls`) into
the standardized LMP table, and the market day a member's name stands for. MISO published its
LMP history for 2015-2022 only in these monthly archives (the daily all-node CSVs start on
2023-01-01); they carry hub prices only, LMP without its congestion and loss components.

The layout, as third-party readers of these files describe it (not checked against a real file
here; see the report of the change that added this module):
- one sheet; a `Market Date:  MM/DD/YYYY` cell among the first rows (title above it);
- a header row whose second cell is `MISO System`, then one column per hub named for display
  (`Arkansas Hub`, ..., `Minnesota Hub`, `MS.HUB`, `Texas Hub`); the preamble's length varies
  (DA and RT differ), so the row is found by its content;
- 24 rows `Hour  01` .. `Hour  24` below it: hour ending n, EST (MISO's clock, no DST);
- an hour published as exactly 0.0 at every hub at once is MISO's "missing" mark: those prices
  are null here, never $0.
- the DA member is named for its market day; the RT member for its publication day, the day
  after the market day it holds (so a month's last RT day is in the next month's archive).
The market day is read from the sheet and must agree with the name's.
"""

import re
from datetime import date, timedelta
from pathlib import PurePath

import polars as pl

from power_assets.errors import MalformedFileError, SchemaDriftError, excerpt
from power_assets.isos.miso.common import HOUR, ISO, hour_ending_start, numbers, require
from power_assets.isos.miso.load_report import read_sheet
from power_assets.isos.miso.reports import report_day
from power_assets.schemas import LMP_COLUMNS

# Member report id -> (dataset, market, days from the name's date back to the market day).
MEMBERS = {"da_pr.xls": ("lmp_da", "DAM", 0), "rt_pr.xls": ("lmp_rt_hourly", "RTH", 1)}
ARCHIVES = {"lmp_da": "da_pr_xls.zip", "lmp_rt_hourly": "rt_pr_xls.zip"}
SYSTEM = "MISO System"
# Display names of the hub columns -> the CPnode names the daily CSVs use for the same hubs.
HUB_NODES = {
    "ARKANSAS HUB": "ARKANSAS.HUB", "ILLINOIS HUB": "ILLINOIS.HUB", "INDIANA HUB": "INDIANA.HUB",
    "LOUISIANA HUB": "LOUISIANA.HUB", "MICHIGAN HUB": "MICHIGAN.HUB", "MINNESOTA HUB": "MINN.HUB",
    "MS.HUB": "MS.HUB", "TEXAS HUB": "TEXAS.HUB",
}  # fmt: skip
_MARKET_DATE = re.compile(r"market\s*date\s*:?\s*(\d{1,2})/(\d{1,2})/(\d{4})", re.IGNORECASE)
_HOUR = r"(?i)^\s*(?:hour|he)\s*0?(\d{1,2})\s*$"
_DATE_ROWS = 12  # the market date is in the preamble


def member_report(name: str) -> str | None:
    """`da_pr.xls` / `rt_pr.xls` for a member name (`20220615_rt_pr.xls`), else None."""
    found = re.match(r"^\d{8}_(?P<report>(?:da|rt)_pr\.xls)$", PurePath(name).name, re.IGNORECASE)
    return found["report"].lower() if found else None


def member_day(name: str) -> tuple[str, date] | None:
    """(dataset, market day) a member's name stands for: an RT member holds the day before."""
    report, named = member_report(name), report_day(name)
    if report is None or named is None:
        return None
    dataset, _market, back = MEMBERS[report]
    return dataset, named - timedelta(days=back)


def member_for(dataset: str, day: date) -> tuple[str, str]:
    """(monthly archive name, member name) holding market `day` of `dataset`."""
    back = next(b for d, _m, b in MEMBERS.values() if d == dataset)
    named = day + timedelta(days=back)
    report = next(r for r, (d, _m, _b) in MEMBERS.items() if d == dataset)
    return f"{named:%Y%m}_{ARCHIVES[dataset]}", f"{named:%Y%m%d}_{report}"


def _market_day(sheet: pl.DataFrame, source: str) -> date:
    first = sheet.head(_DATE_ROWS)
    text = pl.concat_str(
        [pl.col(c).fill_null("") for c in first.columns if c != "row"][:3], separator=" "
    )
    for cell in first.select(text).to_series().to_list():
        if found := _MARKET_DATE.search(cell):
            month, dom, year = (int(g) for g in found.groups())
            try:
                return date(year, month, dom)
            except ValueError:
                problem = f"`Market Date:` {excerpt(cell)} is no date"
                raise MalformedFileError(f"{source}: {problem}") from None
    raise MalformedFileError(
        f"{source}: no `Market Date: MM/DD/YYYY` in the first {_DATE_ROWS} rows"
    )


def _hour_block(sheet: pl.DataFrame, source: str) -> tuple[list[str], pl.DataFrame]:
    """(column labels from `MISO System` on, the 24 hour rows: `he` and those columns)."""
    require("column_2" in sheet.columns, source, f"no header row with `{SYSTEM}` (one column only)")
    second = sheet.get_column("column_2").str.strip_chars().str.to_uppercase()
    headers = (second == SYSTEM.upper()).arg_true()
    require(len(headers) > 0, source, f"no header row with `{SYSTEM}` in its second cell")
    at = int(headers[0])
    cells = [c for c in sheet.columns if c not in ("row", "column_1")]
    labels = [(c, (sheet[c][at] or "").strip()) for c in cells]
    labels = [(c, label) for c, label in labels if label]
    below = sheet.slice(at + 1)
    first = below.get_column("column_1").fill_null("").str.strip_chars()
    hours = first.str.extract(_HOUR, 1).cast(pl.Int64, strict=False)
    # The block runs from the header to the first row that is neither blank nor an hour.
    other = ((first != "") & hours.is_null()).arg_true()
    block = below.with_columns(hours.alias("he")).head(
        int(other[0]) if len(other) else below.height
    )
    block = block.filter(pl.col("he").is_not_null())
    found = block.get_column("he").to_list()
    if found != list(range(1, 25)):
        raise MalformedFileError(
            f"{source}: rows below the `{SYSTEM}` header are hours {excerpt(str(found))}, not "
            "Hour 01 .. Hour 24 in order"
        )
    names = [label for _c, label in labels]
    if len(set(n.upper() for n in names)) != len(names):
        raise SchemaDriftError(source, [], [f"repeated column label in {names}"])
    frame = block.select(
        "he", "row", *[pl.col(c).alias(label) for c, label in labels]
    )  # fmt: skip
    return names, frame


def hub_lmp_table(content: bytes, source: str) -> pl.DataFrame:
    """One daily pricing-report workbook as hourly LMPs of MISO System and the hubs."""
    report = member_report(source.split("!")[-1])
    require(report is not None, source, "not a `YYYYMMDD_{da|rt}_pr.xls` pricing report")
    _dataset, market, back = MEMBERS[report]  # type: ignore[index]
    sheet = read_sheet(content, source)
    day = _market_day(sheet, source)
    named = report_day(source.split("!")[-1])
    if named is not None and named - timedelta(days=back) != day:
        raise MalformedFileError(
            f"{source}: the sheet's Market Date is {day}, but a {report} named for {named} "
            f"holds market day {named - timedelta(days=back)}"
        )
    names, frame = _hour_block(sheet, source)
    typed = numbers(frame, names, source, row_of="row")
    hubs = [n for n in names if n.upper() != SYSTEM.upper()]
    # Exactly 0.0 at every hub in one hour is MISO's mark for a missing hour, not a price.
    missing = pl.all_horizontal(pl.col(h) == 0.0 for h in hubs) if hubs else pl.lit(False)
    typed = typed.with_columns(
        pl.when(missing).then(None).otherwise(pl.col(n)).alias(n) for n in names
    )
    long = typed.unpivot(index=["he", "row"], on=names, variable_name="label", value_name="lmp")
    label = pl.col("label").str.to_uppercase()
    start = hour_ending_start(pl.lit(day), pl.col("he"))
    return long.with_columns(
        start.alias("interval_start"),
    ).with_columns(
        (pl.col("interval_start") + HOUR).alias("interval_end"),
        pl.lit(ISO).alias("iso"),
        pl.lit(market).alias("market"),
        label.replace_strict(HUB_NODES, default=pl.col("label")).alias("location"),
        pl.when(label == SYSTEM.upper()).then(pl.lit("System")).otherwise(pl.lit("Hub"))
        .alias("location_type"),
        pl.lit(None, pl.Utf8).alias("location_id"),
        pl.lit(None, pl.Utf8).alias("baa"),
        pl.lit(None, pl.Float64).alias("energy"),
        pl.lit(None, pl.Float64).alias("congestion"),
        pl.lit(None, pl.Float64).alias("loss"),
        pl.lit(None, pl.Float64).alias("ghg"),
    ).select(LMP_COLUMNS)  # fmt: skip
