"""ISO-NE for a day in progress: the probe of the 5-minute prelim LMP file now being written, and
the newest interval in its tail.

What belongs here: the free functions the `Isone` class calls for `latest_interval_request` and
`latest_interval_end`. Request building stays in `definition`, the parsers in `express`; the rows'
time rules are the 5-minute parser's: the date comes from the file name
(`lmp_5min_{YYYYMMDD}_{HH-HH}.csv`), each `"D"` record gives a location id and its interval's local
START wall time (`Local Time`), and on the fall-back day a location's first 01:xx row is the
daylight pass, a repeat the standard one.

A probe gets the last bytes of the file: its first line usually cut, its comments, header and
(while the block is open) trailer absent. Only whole `"D"` records are read. The real files list
every pricing node per interval, so a tail may hold part of one interval only: in the repeated
hour such a tail cannot show the first pass, and is then read as the first pass like the parser
reads a wall time it has not seen before.
"""

import re
from datetime import UTC, date, datetime, timedelta

import polars as pl

from power_assets.errors import MalformedFileError
from power_assets.isos.base import DownloadRequest
from power_assets.isos.file_tails import complete_lines, tail_headers
from power_assets.isos.isone.common import EASTERN, TIMEZONE
from power_assets.isos.isone.express import RT5_BLOCKS, STATIC, rt5_windows

PROBE_DATASET = "lmp_rt5"
FIVE_MINUTES = timedelta(minutes=5)
_FILE = re.compile(r"lmp_5min_(?P<day>\d{8})_(?P<block>\d\d-\d\d)")
# A whole data record: "D", location id, Local Time HH:MM[:SS], then the values.
_DATA = re.compile(r'^"?D"?,"?(?P<location>[^",]+)"?,"?(?P<time>\d{1,2}:\d{2}(?::\d{2})?)"?,')
_RECORD = re.compile(r'^"?[CHDT]"?(,|$)')


def probe_request(now: datetime) -> DownloadRequest:
    """The last bytes of the 5-minute prelim file of the local 4-hour block holding `now`."""
    if now.tzinfo is None:
        raise ValueError(f"{now}: give an aware instant (UTC), not a naive wall time")
    local = now.astimezone(EASTERN)
    day, index = local.date(), local.hour // 4
    start, end = rt5_windows(day)[index]
    name = f"lmp_5min_{day:%Y%m%d}_{RT5_BLOCKS[index]}.csv"
    return DownloadRequest(
        iso="ISONE", dataset=PROBE_DATASET, path=f"{STATIC}/5min-rt-prelim/{name}",
        params=(), headers=tail_headers(), file_name=name.replace(".csv", "_tail.csv"),
        window_start=start, window_end=end,
    )  # fmt: skip


def latest_interval_end(content: bytes, source: str) -> datetime | None:
    """UTC end of the newest interval in a 5-minute LMP file or its tail; None when it holds no
    data record. `source` (URL or file name) must name the file: the rows carry no date."""
    found = _FILE.search(source)
    if found is None:
        raise MalformedFileError(
            f"{source}: 5-minute LMP files carry no date; the probe's source must be named "
            "lmp_5min_YYYYMMDD_HH-HH.csv"
        )
    day = datetime.strptime(found["day"], "%Y%m%d").date()
    rows = [
        (match["location"], match["time"])
        for line in complete_lines(content, lambda line: bool(_RECORD.match(line)))
        if (match := _DATA.match(line))
    ]
    if not rows:
        return None
    starts = _interval_starts(day, rows).drop_nulls()
    if starts.is_empty():
        return None
    return starts.max().astimezone(UTC) + FIVE_MINUTES  # type: ignore[union-attr]


def _interval_starts(day: date, rows: list[tuple[str, str]]) -> pl.Series:
    """UTC starts of the rows, in file order; null for a wall time the day does not have."""
    frame = pl.DataFrame(rows, schema={"location": pl.String, "time": pl.String}, orient="row")
    clock = pl.coalesce(
        pl.col("time").str.to_time("%H:%M:%S", strict=False),
        pl.col("time").str.to_time("%H:%M", strict=False),
    )
    wall = pl.lit(day).cast(pl.Datetime("us")) + clock.cast(pl.Duration("us"))
    first = pl.int_range(pl.len()).over(["location", "wall"]) == 0
    ambiguous = pl.when(first).then(pl.lit("earliest")).otherwise(pl.lit("latest"))
    return (
        frame.with_columns(wall.alias("wall"))
        .select(
            pl.col("wall")
            .dt.replace_time_zone(TIMEZONE, ambiguous=ambiguous, non_existent="null")
            .dt.convert_time_zone("UTC")
        )
        .to_series()
    )
