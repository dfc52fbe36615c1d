"""PJM's real-time probe: the newest unverified 5-minute interval, asked as one row.

What belongs here: the probe request (one pnode, newest first, one row of the last two hours of
`rt_unverified_fivemin_lmps`) and reading the newest interval's end from a Data Miner 2 answer.
"""

import json
from datetime import UTC, datetime, timedelta

from power_assets.errors import MalformedFileError
from power_assets.isos.base import DownloadRequest
from power_assets.isos.pjm.feeds import CURRENT_FEEDS, FIVE_MINUTES, ISO_ID, ept_filter

PROBE_DATASET = "lmp_rt5"
# PJM-RTO, the RTO-wide zone: priced in every interval.
PROBE_PNODE_ID = "1"
LOOKBACK = timedelta(hours=2)


def probe_request(now: datetime) -> DownloadRequest:
    """One row: the newest interval of the PJM-RTO node among the last two hours (UTC `now`)."""
    feed = CURRENT_FEEDS[PROBE_DATASET]
    start = (now - LOOKBACK).replace(second=0, microsecond=0)
    end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    params = (
        ("rowCount", "1"),
        ("startRow", "1"),
        ("sort", "datetime_beginning_utc"),
        ("order", "Desc"),
        ("fields", "datetime_beginning_utc,pnode_id"),
        ("pnode_id", PROBE_PNODE_ID),
        ("datetime_beginning_ept", ept_filter(start, end)),
    )
    return DownloadRequest(
        iso=ISO_ID, dataset=PROBE_DATASET, path=feed, params=params,
        file_name=f"{feed}_probe.json", window_start=start, window_end=end, needs_auth=True,
    )  # fmt: skip


def latest_interval_end(content: bytes, source: str) -> datetime | None:
    """UTC end of the newest interval in a Data Miner 2 answer of 5-minute LMPs (None: no rows)."""
    try:
        items = json.loads(content)["items"]
        starts = [item["datetime_beginning_utc"] for item in items]
    except (ValueError, KeyError, TypeError) as exc:
        raise MalformedFileError(
            f"{source}: not a Data Miner 2 answer with datetime_beginning_utc "
            f"({type(exc).__name__}: {exc})"
        ) from exc
    if not starts:
        return None
    try:
        newest = max(datetime.fromisoformat(text).replace(tzinfo=UTC) for text in starts)
    except (TypeError, ValueError) as exc:
        raise MalformedFileError(f"{source}: unreadable datetime_beginning_utc: {exc}") from exc
    # Some feeds stamp hh:mm:01; the interval starts on the 5-minute boundary.
    floored = newest - timedelta(
        minutes=newest.minute % 5, seconds=newest.second, microseconds=newest.microsecond
    )
    return floored + FIVE_MINUTES
