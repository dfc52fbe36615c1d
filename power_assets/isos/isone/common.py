"""What every ISO-NE parser shares: the market's time zone, the leading columns of a standardized
table, and refusing rows that have no valid time.

What belongs here: only helpers both report families (`express` CSVs and `webservices` JSON) use;
anything one family alone needs stays in its module.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

import polars as pl

from power_assets.errors import MalformedFileError

TIMEZONE = "America/New_York"
EASTERN = ZoneInfo(TIMEZONE)


def refuse_rows_without_time(
    frame: pl.DataFrame, mask: pl.Expr, columns: list[str], source: str
) -> None:
    """Raise MalformedFileError quoting the first rows where `mask` holds (their time is none of
    the market day's), with the `columns` that gave the time."""
    bad = frame.with_row_index("row", offset=1).filter(mask)
    if bad.height:
        sample = bad.select("row", *columns).head(5).rows()
        raise MalformedFileError(
            f"{source}: {bad.height} row(s) with no valid time on that market day "
            f"(data row, {', '.join(columns)}): {sample}"
        )


def interval_columns(step: timedelta, start: str = "interval_start") -> list[pl.Expr]:
    """interval_start, interval_end and iso: the leading columns of every standardized table."""
    begin = pl.col(start).alias("interval_start")
    return [begin, (begin + step).alias("interval_end"), pl.lit("ISONE").alias("iso")]
