"""CAISO for a day in progress: the real-time probe, the newest interval of an OASIS answer, and
requests narrowed to the part of an hour window not fetched yet.

What belongs here: the free functions the `Caiso` class calls for `latest_interval_request`,
`latest_interval_end` and `narrow_request`. Building OASIS requests and checking their payloads
stays in `oasis`.

The probe asks PRC_INTVL_LMP (RTM) for one trading hub over the last hour, a few kilobytes where
the all-node hour is megabytes. Every OASIS CSV carries `INTERVALENDTIME_GMT` in UTC, so the
newest interval is the largest of those, whatever the DST state of the Pacific day. The all-node
real-time reports are asked one hour per request; OASIS takes any 5-minute start inside that
hour, which is what lets a run for today fetch only the intervals published since its last piece.
"""

import io
import zipfile
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import PurePath
from xml.etree import ElementTree

import polars as pl

from power_assets.errors import IsoNoDataError, MalformedFileError, excerpt
from power_assets.isos.base import DownloadRequest
from power_assets.isos.caiso import oasis
from power_assets.isos.headers import header_line

PROBE_DATASET = "lmp_rt5"
PROBE_NODE = "TH_NP15_GEN-APND"
PROBE_LOOKBACK = timedelta(hours=1)
FIVE_MINUTES = timedelta(minutes=5)
# The hour-windowed all-node reports, the only requests worth cutting into pieces.
NARROWABLE_DATASETS = frozenset({"lmp_rt5", "lmp_rt15"})
END_COLUMN = "INTERVALENDTIME_GMT"
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def floor_to_five_minutes(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError(f"{instant}: give an aware instant (UTC), not a naive wall time")
    instant = instant.astimezone(UTC)
    return instant - (instant - _EPOCH) % FIVE_MINUTES


def probe_request(iso_id: str, now: datetime) -> DownloadRequest:
    """PRC_INTVL_LMP for one node from an hour before `now` (floored to 5 minutes) to 5 minutes
    after: the newest published interval is in the answer unless OASIS is an hour behind."""
    mark = floor_to_five_minutes(now)
    start, end = mark - PROBE_LOOKBACK, mark + FIVE_MINUTES
    request = oasis.oasis_request(iso_id, PROBE_DATASET, start, end, (("node", PROBE_NODE),))
    query = oasis.OASIS_QUERIES[PROBE_DATASET]
    name = (
        f"{query.queryname}_{query.market_run_id}_{PROBE_NODE}_"
        f"{start:%Y%m%dT%H%M}Z_{end:%Y%m%dT%H%M}Z.zip"
    )
    return replace(request, file_name=name)


def latest_end(
    content: bytes, source: str, check_payload: Callable[[bytes, str], None]
) -> datetime | None:
    """The largest `INTERVALENDTIME_GMT` of an OASIS answer (a probe, an RT piece, any OASIS
    report); None when it holds no row, or is OASIS's "no data" ZIP. Other error documents
    raise what `check_payload` raises for them."""
    try:
        check_payload(content, source)
    except IsoNoDataError:
        return None
    # Checked: any XML left in the ZIP is a (legacy) data report, not an error document.
    ends: list[datetime] = []
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            for name in archive.namelist():
                member, where = archive.read(name), f"{source}!{name}"
                if name.lower().endswith(".csv"):
                    ends.extend(_csv_end(member, where))
                elif name.lower().endswith(".xml"):
                    ends.extend(_xml_end(member, where))
    except zipfile.BadZipFile as exc:
        raise MalformedFileError(f"{source}: corrupt ZIP from OASIS: {exc}") from exc
    return max(ends, default=None)


def _csv_end(content: bytes, source: str) -> list[datetime]:
    header = header_line(content, source).strip().split(",")
    if END_COLUMN not in header:
        raise MalformedFileError(
            f"{source}: OASIS CSV without {END_COLUMN}; header {excerpt(','.join(header))}"
        )
    try:
        ends = pl.read_csv(content, columns=[END_COLUMN], schema_overrides={END_COLUMN: pl.String})
        latest = (
            ends.get_column(END_COLUMN)
            .str.to_datetime(oasis.GMT_FORMAT, time_zone="UTC", time_unit="us")
            .max()
        )
    except pl.exceptions.PolarsError as exc:
        raise MalformedFileError(f"{source}: unreadable {END_COLUMN}: {exc}") from exc
    return [] if latest is None else [latest.astimezone(UTC)]  # type: ignore[union-attr]


def _xml_end(content: bytes, source: str) -> list[datetime]:
    """Legacy OASISReport XML: the largest INTERVAL_END_GMT (or INTERVALENDTIME_GMT) element."""
    try:
        root = ElementTree.fromstring(content)
    except ElementTree.ParseError as exc:
        raise MalformedFileError(f"{source}: unreadable OASIS XML: {exc}") from exc
    stamps = [
        element.text.strip()
        for element in root.iter()
        if element.tag.rsplit("}", 1)[-1] in ("INTERVAL_END_GMT", END_COLUMN) and element.text
    ]
    if not stamps:
        return []
    try:
        return [max(datetime.fromisoformat(stamp).astimezone(UTC) for stamp in stamps)]
    except ValueError as exc:
        raise MalformedFileError(f"{source}: unreadable interval end in OASIS XML: {exc}") from exc


def narrow(request: DownloadRequest, start: datetime) -> DownloadRequest | None:
    """`request` from `start` on, for the hour-windowed all-node RT reports; None for others.

    The piece keeps the window's end and gets its own file name (`…__from{YYYYMMDDTHHMM}.zip`),
    so the pieces of one window sit side by side in raw_downloads.
    """
    if request.dataset not in NARROWABLE_DATASETS or request.path != "SingleZip":
        return None
    if start.tzinfo is None:
        raise ValueError(f"{start}: give an aware instant (UTC), not a naive wall time")
    start = start.astimezone(UTC)
    if not request.window_start <= start < request.window_end:
        raise ValueError(
            f"{start} is outside the window {request.window_start}..{request.window_end} of "
            f"{request.file_name}"
        )
    if floor_to_five_minutes(start) != start:
        raise ValueError(f"{start}: OASIS windows start on a 5-minute mark")
    stamp = start.strftime(oasis.OASIS_TIME_FORMAT)
    params = tuple(
        (key, stamp if key == "startdatetime" else value) for key, value in request.params
    )
    original = PurePath(request.file_name)
    name = f"{original.stem}__from{start:%Y%m%dT%H%M}{original.suffix}"
    return replace(request, params=params, window_start=start, file_name=name)
