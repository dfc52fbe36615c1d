"""Stage 1 for a day still in progress: fetch only the intervals not kept yet.

A real-time run every five minutes would otherwise download the whole open request window (a full
hour of every CAISO node) each time. For ISOs whose API can ask for part of a window
(`RequestNarrowing`), an open window is kept as consecutive pieces: each run reuses the
pieces already on disk and asks only from the end of the last one. A piece is recorded as covering
exactly the intervals its answer holds (`latest_interval_end`), so the next piece starts where the
data stopped, never where the clock was: an interval published late is fetched next time, not lost.

Once the window is closed and covered, its pieces are final and reused like any other response.
"""

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from power_assets.errors import IsoNoDataError
from power_assets.isos.base import DownloadRequest, IsoDefinition, RequestNarrowing
from power_assets.stages.kept import (
    DownloadRecord,
    Fetcher,
    fetch_and_keep,
    kept_intact,
    sidecar_path,
)

Pieces = dict[str, list[DownloadRecord]]  # planned request file name -> its kept pieces


def previous_pieces(manifest: Path) -> Pieces:
    """The pieces an earlier run of the day kept, by the planned request they belong to."""
    try:
        files = json.loads(manifest.read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    out: Pieces = {}
    for entry in files:
        if entry.get("piece_of") and entry.get("status") == "ok":
            record = DownloadRecord(**{k: v for k, v in entry.items() if k != "reused"})
            out.setdefault(entry["piece_of"], []).append(record)
    return out


def can_extend(iso: IsoDefinition, request: DownloadRequest, now: datetime, pieces: Pieces) -> bool:
    """Whether this window is fetched piecewise: it is open (or was), and the ISO can narrow it."""
    if not isinstance(iso, RequestNarrowing) or request.shared:
        return False
    if iso.narrow_request(request, request.window_start) is None:
        return False
    return request.window_end > now or request.file_name in pieces


def extend_window(
    iso: RequestNarrowing,
    dataset_id: str,
    request: DownloadRequest,
    pieces: Pieces,
    *,
    http: Fetcher,
    folder: Path,
    clock: Callable[[], datetime],
    log: Callable[[str], None],
) -> list[DownloadRecord]:
    """The kept pieces of `request`'s window, plus one new piece from where they end (if the ISO
    has published anything since)."""
    chain = _intact_chain(request, pieces.get(request.file_name, []), folder)
    covered = datetime.fromisoformat(chain[-1].window_end) if chain else request.window_start
    kept = [replace(record, reused=True) for record in chain]
    if covered >= request.window_end:
        return kept
    piece = iso.narrow_request(request, covered)
    assert piece is not None  # can_extend checked that this ISO narrows this request
    # "No data" for the rest of an open window is the normal answer between publications.
    quiet = (lambda _msg: None) if request.window_end > clock() else log
    record = fetch_and_keep(
        iso, piece, folder / piece.file_name, http, clock, quiet, request.file_name
    )
    if record.status != "ok":
        return kept
    path = folder / piece.file_name
    try:
        latest = iso.latest_interval_end(dataset_id, path.read_bytes(), record.url)
    except IsoNoDataError:
        latest = None
    if latest is None or latest <= covered:
        # Nothing new was published since the last piece; the empty answer is not kept.
        _discard(path)
        return kept
    # The piece covers exactly what it holds, so the next one starts where the data stopped.
    end = min(latest, request.window_end).isoformat()
    return [*kept, replace(record, window_end=end)]


def _intact_chain(
    request: DownloadRequest, records: list[DownloadRecord], folder: Path
) -> list[DownloadRecord]:
    """Kept pieces that follow each other from the window's start, with intact files."""
    by_start = {r.window_start: r for r in records}
    chain: list[DownloadRecord] = []
    cursor = request.window_start.isoformat()
    while cursor in by_start and _intact(folder / by_start[cursor].file_name, by_start[cursor]):
        chain.append(by_start[cursor])
        cursor = by_start[cursor].window_end
    return chain


def _intact(path: Path, record: DownloadRecord) -> bool:
    sidecar = sidecar_path(path)
    if not (path.is_file() and sidecar.is_file()):
        return False
    try:
        meta: dict[str, Any] = json.loads(sidecar.read_text())
    except (OSError, ValueError):
        return False
    return meta.get("sha256") == record.sha256 and kept_intact(path, meta)


def _discard(path: Path) -> None:
    path.unlink(missing_ok=True)
    sidecar_path(path).unlink(missing_ok=True)
