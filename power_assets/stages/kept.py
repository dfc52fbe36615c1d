"""Kept responses: what stage 1 records about each response it keeps, and how one is fetched and kept.

A response is kept byte-for-byte with a sidecar JSON (URL, fetch time, size, sha256) written last,
so a response without one is never trusted. A request the ISO answers in pages (`PagedResponses`)
is kept as one ZIP holding every page byte-for-byte, written only after the last page arrived. `stages.raw` (whole days), `stages.incremental` (pieces
of a window still open) and the drop folder all write these records; this module imports none of
them.
"""

import json
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

from power_assets.errors import IsoNoDataError, MalformedFileError, PagesChangedError
from power_assets.io.files import (
    atomic_path,
    atomic_write_bytes,
    atomic_write_json,
    sha256_bytes,
    sha256_file,
)
from power_assets.isos.base import (
    DownloadRequest,
    IsoDefinition,
    PagedResponses,
    Pager,
    Secrets,
)
from power_assets.layout import Layout


class Fetcher(Protocol):
    def fetch(self, iso: IsoDefinition, request: DownloadRequest) -> Any: ...

    def secrets_for(self, iso: IsoDefinition) -> Secrets:
        """The ISO's account secrets (planning needs to know which accounts exist)."""
        ...


@dataclass(frozen=True)
class DownloadRecord:
    file_name: str
    url: str
    status: str  # "ok" or "no_data"
    window_start: str
    window_end: str
    fetched_at: str | None = None
    bytes: int | None = None
    sha256: str | None = None
    reused: bool = False
    detail: str | None = None
    shared: bool = False  # kept once under _shared/ and used by several market days
    member: str | None = None  # the file inside a shared archive that holds this day
    # For a day in progress: the planned request this file is a piece of (see stages/incremental)
    piece_of: str | None = None


# What a sidecar records about the fetch itself; the rest of a record describes the request.
_FETCH_FIELDS = ("url", "status", "fetched_at", "bytes", "sha256")


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def kept_path(layout: Layout, iso: str, dataset: str, day: date, request: DownloadRequest) -> Path:
    """Where a response is kept: the day's folder, or _shared/ for archives serving many days."""
    folder = layout.raw_downloads(iso, dataset, day)
    return shared_path(folder, request.file_name) if request.shared else folder / request.file_name


def shared_path(day_folder: Path, file_name: str) -> Path:
    """A response kept once for many market days: `raw_downloads/{dataset}/_shared/{file_name}`."""
    return day_folder.parent / "_shared" / file_name


def make_record(request: DownloadRequest, fetch: dict[str, Any], reused: bool) -> DownloadRecord:
    return DownloadRecord(
        file_name=request.file_name,
        window_start=request.window_start.isoformat(),
        window_end=request.window_end.isoformat(),
        reused=reused,
        shared=request.shared,
        member=request.member,
        **{k: fetch.get(k) for k in _FETCH_FIELDS},
    )


def reusable(path: Path, request: DownloadRequest) -> DownloadRecord | None:
    """A kept response is reused when it is intact and was fetched once its content was final."""
    sidecar = sidecar_path(path)
    if not (path.is_file() and sidecar.is_file()):
        return None
    try:
        meta = json.loads(sidecar.read_text())
        fetched_at = datetime.fromisoformat(meta["fetched_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if meta.get("status") != "ok" or fetched_at < request.final_from:
        return None  # data fetched while its window was still open may have changed since
    if not kept_intact(path, meta):
        return None
    return make_record(request, meta, reused=True)


def kept_intact(path: Path, meta: dict[str, Any]) -> bool:
    """Whether a kept response still has the size and sha256 its sidecar recorded."""
    return path.stat().st_size == meta.get("bytes") and sha256_file(path) == meta.get("sha256")


def request_to_json(request: DownloadRequest) -> dict[str, Any]:
    out = asdict(request)
    for name in ("window_start", "window_end", "final_after"):
        out[name] = out[name].isoformat() if out[name] is not None else None
    return out


def request_from_json(data: dict[str, Any]) -> DownloadRequest:
    fields = dict(data)
    for name in ("window_start", "window_end", "final_after"):
        if fields.get(name) is not None:
            fields[name] = datetime.fromisoformat(fields[name])
    for name in ("params", "headers"):
        fields[name] = tuple(tuple(pair) for pair in fields.get(name) or ())
    return DownloadRequest(**fields)


def fetch_and_keep(
    iso: IsoDefinition,
    request: DownloadRequest,
    path: Path,
    http: Fetcher,
    clock: Callable[[], datetime],
    log: Callable[[str], None],
    piece_of: str | None = None,
) -> DownloadRecord:
    """Fetch one request and keep the body (sidecar last); a "no_data" record if the ISO has none."""
    window = (request.window_start.isoformat(), request.window_end.isoformat())
    paged = isinstance(iso, PagedResponses) and iso.pager(request) is not None
    new_pager = (lambda: iso.pager(request)) if paged else None
    try:
        result = http.fetch(iso, request)
        if new_pager is not None:
            fetched_at, digest, size = _keep_pages(iso, request, result, new_pager, path, http, log)
    except IsoNoDataError as exc:
        log(f"{iso.id} {request.dataset}: no data for {window[0]}..{window[1]}: {exc}")
        no_data = make_record(request, {"url": exc.source, "status": "no_data"}, reused=False)
        return replace(no_data, detail=str(exc), piece_of=piece_of)
    if new_pager is None:
        fetched_at, digest, size = (
            result.fetched_at,
            sha256_bytes(result.content),
            len(result.content),
        )
        atomic_write_bytes(path, result.content)
    fetch = {
        "url": result.url,
        "status": "ok",
        # The pipeline's clock, not the wall clock: under a pinned clock (a replayed day) a
        # response must not look fetched after windows that were still open at the time.
        "fetched_at": min(fetched_at, clock()).astimezone(UTC).isoformat(),
        "bytes": size,
        "sha256": digest,
    }
    # The sidecar is written last: a response without one is never trusted on a re-run.
    atomic_write_json(sidecar_path(path), fetch)
    return replace(make_record(request, fetch, reused=False), piece_of=piece_of)


# How often a page sequence is started again when the ISO's answer moved while paging.
PAGE_SEQUENCE_ATTEMPTS = 3


def _keep_pages(
    iso: IsoDefinition,
    request: DownloadRequest,
    first: Any,
    new_pager: Callable[[], Pager],
    path: Path,
    http: Fetcher,
    log: Callable[[str], None],
) -> tuple[datetime, str, int]:
    """Fetch the pages after `first` and keep all of them as one ZIP at `path`, atomically.

    One page is in memory at a time. The ZIP appears only once the last page has arrived, so
    an interrupted sequence leaves nothing behind; a sequence whose answer moved while paging
    (`PagesChangedError`) is started again. Returns (fetch time of the first page, sha256, size).
    """
    for attempt in range(1, PAGE_SEQUENCE_ATTEMPTS + 1):
        pager = new_pager()  # each attempt checks its own sequence
        try:
            # The ZIP is closed before atomic_path renames it into place.
            with (
                atomic_path(path) as tmp,
                zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
            ):
                page, result, number = request, first, 1
                while True:
                    archive.writestr(pager.member_name(number), result.content)
                    page = pager.next_page(page, result.content, result.url)
                    if page is None:
                        break
                    result, number = _next_page(iso, page, http, number), number + 1
            return first.fetched_at, sha256_file(path), path.stat().st_size
        except PagesChangedError as exc:
            if attempt == PAGE_SEQUENCE_ATTEMPTS:
                raise MalformedFileError(
                    f"{iso.id} {request.dataset} {request.file_name}: the answer changed while "
                    f"its pages were fetched, {attempt} times in a row ({exc}); nothing was kept"
                ) from exc
            log(f"{iso.id} {request.dataset}: {exc}; fetching its pages again")
            first = http.fetch(iso, request)
    raise AssertionError("unreachable")


def _next_page(iso: IsoDefinition, page: DownloadRequest, http: Fetcher, number: int) -> Any:
    """A later page; "no data" there means rows vanished after the first page: start again."""
    try:
        return http.fetch(iso, page)
    except IsoNoDataError as exc:
        raise PagesChangedError(
            f"page {number + 1} answered no data after page 1 had rows"
        ) from exc
