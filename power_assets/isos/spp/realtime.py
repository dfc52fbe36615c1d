"""SPP for a day in progress: the newest 5-minute interval, read from the tail of a file.

What belongs here: the probe request (the last bytes of `RTBM-LMP-SL-latestInterval.csv`, which
SPP rewrites every five minutes; the file browser honours `Range`) and reading the newest interval
end from such a tail, or from any whole RTBM file (interval, daily or latest).

Every RTBM row starts `Interval,GMTIntervalEnd,...` (local end, then UTC end), so the second field
of each whole line is read; the header is skipped because its second field is no date-time.
"""

from datetime import UTC, datetime, timedelta

import polars as pl

from power_assets.isos.base import DownloadRequest
from power_assets.isos.file_tails import tail_headers
from power_assets.isos.spp.portal import download_request, latest_interval_path

PROBE_DATASET = "lmp_rt5"
_FORMATS = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M")
LOOKBACK = timedelta(hours=2)


def probe_request(now: datetime) -> DownloadRequest:
    """The last bytes of the latest-interval file (`now` is UTC; the window is the last two
    hours, what a probe may answer)."""
    end = now.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    return download_request(
        PROBE_DATASET, latest_interval_path(PROBE_DATASET), (end - LOOKBACK, end),
        headers=tail_headers(), file_name="RTBM-LMP-SL-latestInterval_tail.csv",
    )  # fmt: skip


def latest_interval_end(content: bytes, source: str) -> datetime | None:
    """UTC end of the newest interval in an RTBM CSV or its tail; None when it holds no row.

    Column work in polars (a whole daily file has ~300k rows). Of a tail, the cut first line is
    dropped unless it is the header, and an unterminated last line only when it is shorter than
    the line before it (cut inside a row), as `file_tails.complete_lines` does."""
    text = content.decode("utf-8-sig", errors="replace")  # only the time field is read
    lines = pl.Series("line", text.splitlines(), pl.String)
    lines = lines.filter(lines.str.strip_chars() != "")
    if lines.is_empty():
        return None
    if "gmt" not in lines[0].lower():
        lines = lines.slice(1)
    commas = lines.str.count_matches(",")
    cut_last = not text.endswith(("\n", "\r")) and len(lines) >= 2 and commas[-1] != commas[-2]
    if cut_last:
        lines = lines.slice(0, len(lines) - 1)
    field = lines.str.splitn(",", 3).struct.field("field_1").str.strip_chars().str.strip_chars('"')
    stamps = pl.select(
        pl.coalesce(field.str.strptime(pl.Datetime("us"), fmt, strict=False) for fmt in _FORMATS)
    ).to_series()
    newest = stamps.max()
    return None if newest is None else newest.replace(tzinfo=UTC)
