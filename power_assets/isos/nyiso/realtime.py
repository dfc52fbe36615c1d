"""NYISO for a day in progress: the newest interval in the tail of a growing MIS daily CSV.

What belongs here: reading the answer of NYISO's real-time probe (the last bytes of today's
`realtime_zone.csv`, or the whole file when MIS ignores the Range) for its newest interval. The
request itself is built in `definition`; the time rules are `parsing`'s, reused here so the probe
and the parser always agree.

Tail lines are `"MM/DD/YYYY HH:MM:SS",["EST"|"EDT",]"Name",...`; lines that do not start with such a
stamp (the cut first line, the header) are skipped. Without a `Time Zone` column the repeated
fall-back hour is told apart by file order per name, as the parser does: a tail of the zone file
spans well over an hour, so in the repeated hour it still holds the first pass before the second.
"""

import csv
from datetime import UTC, datetime

import polars as pl

from power_assets.isos.base import DatasetSpec
from power_assets.isos.file_tails import complete_lines
from power_assets.isos.nyiso.parsing import instants, intervals

_TIME_FORMATS = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M")
_ZONE_LABELS = frozenset({"EST", "EDT"})


def latest_interval_end(content: bytes, source: str, spec: DatasetSpec) -> datetime | None:
    """UTC end of the newest interval in a NYISO daily CSV of a dataset keyed by its column
    after the stamp (name, fuel), whole or a tail of it; None when it holds no data row."""
    stamps, zones, keys = [], [], []
    lines = complete_lines(content, lambda line: "time stamp" in line.lower())
    for fields in csv.reader(lines):
        if len(fields) < 2 or not _is_stamp(fields[0].strip()):
            continue
        labelled = fields[1].strip().upper() in _ZONE_LABELS
        if labelled and len(fields) < 3:
            continue
        stamps.append(fields[0].strip())
        zones.append(fields[1].strip().upper() if labelled else None)
        keys.append(fields[2 if labelled else 1].strip())
    if not stamps:
        return None
    frame = pl.DataFrame(
        {"time": stamps, "name": keys}, schema={"time": pl.String, "name": pl.String}
    )
    if all(zone is not None for zone in zones):
        frame = frame.with_columns(pl.Series("tz", zones, dtype=pl.String))
    placed = intervals(instants(frame, source, ["name"]), spec, source)
    latest = placed.get_column("interval_end").max()
    return latest.astimezone(UTC)  # type: ignore[union-attr]


def _is_stamp(text: str) -> bool:
    for fmt in _TIME_FORMATS:
        try:
            datetime.strptime(text, fmt)
        except ValueError:
            continue
        return True
    return False
