"""ERCOT's 2-Day Ancillary Services Reports (NP3-911-ER): DAM AS quantities per product and hour.

One document per operating day, posted two days later, is a ZIP of small CSVs named
`2d_{report}_{PRODUCT}-{DD-MON-YY}.csv` (the date is the posting day): `Cleared_DAM_AS` (MW
awarded in the DAM), `Self_Arranged_AS` (MW self-arranged by load-serving entities), and
`Agg_AS_Offers` (aggregated offer curves, a different shape, not read here). Each CSV is
`Delivery Date,Hour Ending,Total {Cleared|Self-Arranged} AS - {Product}`. These files carry no
DSTFlag: the fall-back day is numbered 1..25 and hours are simply the n-th hour of the day.
"""

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl

from power_assets.errors import MalformedFileError, SchemaDriftError
from power_assets.isos.ercot.csv_files import zip_csvs
from power_assets.isos.ercot.reports import TIMEZONE
from power_assets.isos.headers import header_line
from power_assets.market_time import hours_in_market_day, market_day_bounds
from power_assets.schemas import AS_QUANTITY_COLUMNS

MEMBER = re.compile(
    r"2d_(?P<report>Cleared_DAM_AS|Self_Arranged_AS|Agg_AS_Offers)_(?P<product>[A-Za-z]+)"
    r"-(?P<posted>\d{2}-[A-Za-z]{3}-\d{2})\.csv$",
    re.IGNORECASE,
)
QUANTITY_TYPES = {"cleared_dam_as": "cleared", "self_arranged_as": "self_arranged"}
VALUE_PREFIXES = {"cleared": "Total Cleared AS - ", "self_arranged": "Total Self-Arranged AS - "}
PRODUCTS = {"REGUP": "REG_UP", "REGDN": "REG_DOWN", "NSPIN": "NON_SPIN"}
# Posted two days after the operating day.
DISCLOSURE_LAG = timedelta(days=2)


def member_day(name: str) -> date | None:
    """The operating day of a quantity CSV of the report, from its name; None for other files
    (offer curves included)."""
    match = MEMBER.search(name.replace("\\", "/").rsplit("/", 1)[-1])
    if match is None or match["report"].lower() not in QUANTITY_TYPES:
        return None
    return datetime.strptime(match["posted"].title(), "%d-%b-%y").date() - DISCLOSURE_LAG


def _members(paths: Sequence[Path]) -> list[tuple[str, str, bytes]]:
    """(source name, member name, bytes) of every CSV, from files or (nested) ZIPs."""
    found: list[tuple[str, str, bytes]] = []
    for path in paths:
        content = Path(path).read_bytes()
        if content[:4] != b"PK\x03\x04":
            found.append((str(path), Path(path).name, content))
            continue
        for label, data in zip_csvs(content, str(path)):
            found.append((label, label.rsplit("!", 1)[-1], data))
    return found


def _hour_starts(day: pl.Expr, hour: pl.Expr, days: list[date]) -> pl.Expr:
    """UTC start of hour ending `hour` of market day `day`, counting hours from local midnight.

    The report numbers hours 1..N for an N-hour day (25 on the fall-back day), so HE n starts
    n-1 hours after midnight; no wall-clock arithmetic is needed.
    """
    starts = {d: market_day_bounds(TIMEZONE, d)[0] for d in days}
    midnight = day.replace_strict(starts, return_dtype=pl.Datetime("us", "UTC"))
    return midnight + pl.duration(hours=hour - 1)


def parse_as_disclosure(paths: Sequence[Path], iso_id: str) -> tuple[pl.DataFrame, dict[str, int]]:
    """Cleared and self-arranged DAM AS MW per product and hour from the report's CSVs or ZIPs.

    Notes: `offer_curve_files_skipped`, the `Agg_AS_Offers` files present but not read.
    """
    frames, skipped = [], 0
    for label, name, content in _members(paths):
        match = MEMBER.search(name.rsplit("/", 1)[-1])
        if match is None:
            continue
        quantity = QUANTITY_TYPES.get(match["report"].lower())
        if quantity is None:
            skipped += 1
            continue
        frames.append(_read_member(label, content, quantity, match["product"].upper()))
    if not frames:
        raise MalformedFileError(
            f"{', '.join(str(p) for p in paths[:3])}: no 2d_Cleared_DAM_AS_* or "
            "2d_Self_Arranged_AS_* CSV found (ERCOT 2-Day AS Reports)"
        )
    raw = pl.concat(frames, how="vertical")
    days = raw.get_column("_day").unique().to_list()
    hours = {d: hours_in_market_day(TIMEZONE, d) for d in days}
    limit = pl.col("_day").replace_strict(hours, return_dtype=pl.Int64)
    bad = raw.filter(~pl.col("_hour").is_between(1, limit))
    if bad.height:
        row = bad.row(0, named=True)
        raise MalformedFileError(
            f"{row['_source']}: hour ending {row['_hour']} does not exist on {row['_day']} "
            f"({hours[row['_day']]} hours in {TIMEZONE}; {bad.height} such row(s))"
        )
    start = _hour_starts(pl.col("_day"), pl.col("_hour"), days)
    out = raw.with_columns(
        start.alias("interval_start"),
        (start + pl.duration(hours=1)).alias("interval_end"),
        pl.lit(iso_id).alias("iso"),
        pl.lit("DAM").alias("market"),
        pl.lit(iso_id).alias("region"),
        pl.col("iso_product").replace(PRODUCTS).alias("product"),
    )
    out = out.sort("product", "quantity_type", "interval_start").select(AS_QUANTITY_COLUMNS)
    return out, {"offer_curve_files_skipped": skipped}


def _read_member(label: str, content: bytes, quantity: str, product: str) -> pl.DataFrame:
    first = header_line(content, label).strip()
    header = [h.strip() for h in first.split(",")]
    prefix = VALUE_PREFIXES[quantity]
    known = ["Delivery Date", "Hour Ending"]
    values = [h for h in header if h.lower().startswith(prefix.lower())]
    if len(header) != 3 or header[:2] != known or len(values) != 1:
        missing = [c for c in known if c not in header] + ([] if values else [f"{prefix}..."])
        unexpected = [h for h in header if h not in known and h not in values]
        raise SchemaDriftError(label, missing, unexpected)
    try:
        frame = pl.read_csv(
            content, has_header=True, new_columns=["date", "hour", "mw"], infer_schema=False
        )
        frame = frame.select(
            pl.col("date").str.strip_chars().str.strptime(pl.Date, "%m/%d/%Y").alias("_day"),
            pl.col("hour").str.strip_chars().cast(pl.Int64).alias("_hour"),
            pl.col("mw").str.strip_chars().replace("", None).cast(pl.Float64).alias("mw"),
        )
    except pl.exceptions.PolarsError as exc:
        raise MalformedFileError(f"{label}: unreadable 2-Day AS report CSV: {exc}") from None
    return frame.with_columns(
        pl.lit(label).alias("_source"),
        pl.lit(product).alias("iso_product"),
        pl.lit(quantity).alias("quantity_type"),
    )
