"""SPP for a day in progress: the newest 5-minute interval, read from the tail of a file.

What belongs here: the probe request (the last bytes of `RTBM-LMP-SL-latestInterval.csv`, which
SPP rewrites every five minutes; the file browser honours `Range`) and reading the newest interval
end from such a tail, or from any whole RTBM file (interval, daily or latest).

Every RTBM row starts `Interval,GMTIntervalEnd,...` (local end, then UTC end), so the second field
of each whole line is read; the cut first line of a tail and the header are skipped because their
second field is no date-time.
"""

import csv
from datetime import UTC, datetime, timedelta

from power_assets.isos.base import DownloadRequest
from power_assets.isos.file_tails import complete_lines, tail_headers
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
    """UTC end of the newest interval in an RTBM CSV or its tail; None when it holds no row."""
    lines = complete_lines(content, lambda line: "gmt" in line.lower())
    newest = None
    for fields in csv.reader(lines):
        stamp = _instant(fields[1].strip()) if len(fields) > 1 else None
        if stamp is not None and (newest is None or stamp > newest):
            newest = stamp
    return newest


def _instant(text: str) -> datetime | None:
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None
