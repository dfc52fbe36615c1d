"""MISO's clock and the small readers every MISO parser shares.

What belongs here: the market time zone (fixed EST, UTC-5, all year: MISO never observes daylight
saving time, so every market day has 24 hours and 288 five-minute intervals), turning an EST wall
time or an (EST day, hour ending) pair into a UTC instant, and casting published text to numbers
with an error naming the file. Which file holds what lives in the parser modules.
"""

import codecs
from datetime import UTC, date, datetime, time, timedelta, timezone

import polars as pl

from power_assets.errors import MalformedFileError
from power_assets.isos.numbers import text_to_numbers

ISO = "MISO"
# "All Hours-Ending are Eastern Standard Time (EST)": a fixed offset, never EDT. Etc/GMT+5 is the
# IANA name of UTC-5 without DST (the sign is POSIX's, inverted).
TIMEZONE = "Etc/GMT+5"
EST = timezone(timedelta(hours=-5), "EST")
HOUR, FIVE_MINUTES = timedelta(hours=1), timedelta(minutes=5)


def est_midnight_utc(day: date) -> datetime:
    """UTC instant of 00:00 EST starting `day` (always 05:00 UTC)."""
    return datetime.combine(day, time(0), tzinfo=EST).astimezone(UTC)


def est_to_utc(wall: pl.Expr) -> pl.Expr:
    """Naive EST wall times (Datetime) to UTC instants: a fixed offset, so never ambiguous."""
    return wall.dt.replace_time_zone(TIMEZONE).dt.convert_time_zone("UTC")


def hour_ending_start(day: pl.Expr, hour_ending: pl.Expr) -> pl.Expr:
    """UTC start of hour ending n (1..24) of an EST market day: [n-1, n) EST."""
    wall = day.cast(pl.Datetime("us")) + pl.duration(hours=hour_ending.cast(pl.Int64) - 1)
    return est_to_utc(wall)


def numbers(
    frame: pl.DataFrame, columns: list[str], source: str, row_of: str | None = None
) -> pl.DataFrame:
    """Text columns as numbers (MISO writes `.92`, `-1.2`, thousands without separators; see
    isos/numbers.py). `row_of` names a column holding each row's line number in the file."""
    return text_to_numbers(frame, columns, source, first_row=1, row_of=row_of)


def utf8(content: bytes) -> bool:
    """Whether `content` is UTF-8, checked in pieces (no decoded copy of a large file)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    step = 1 << 20
    try:
        for at in range(0, len(content), step):
            decoder.decode(content[at : at + step])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def decode(content: bytes, source: str) -> str:
    """The text of a MISO CSV (UTF-8, perhaps with a BOM; Latin-1 tolerated for names)."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("latin-1")


def require(condition: bool, source: str, problem: str) -> None:
    if not condition:
        raise MalformedFileError(f"{source}: {problem}")
