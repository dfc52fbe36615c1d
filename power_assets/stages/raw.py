"""Stage 1: fetch a market day's responses as received, then extract them into plain files.

`download_day` keeps each response byte-for-byte under raw_downloads with a sidecar JSON (URL, fetch
time, size, sha256, the UTC window it covers) and a per-day manifest. `extract_day` unpacks every
kept response (ZIP in ZIP, gzip, tar; any depth) into csv_files with a metadata.json tracing each
file back to its response. Both are plain functions; the Dagster assets only wrap them.
"""

import json
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from power_assets.errors import (
    IncompleteDayError,
    IsoNoDataError,
    MalformedFileError,
    UnsafeArchiveError,
)
from power_assets.io.archives import extract_recursively
from power_assets.io.files import (
    atomic_path,
    atomic_write_json,
    retired_path,
    sweep_stale_temporaries,
    temporary_dir,
)
from power_assets.isos.base import DownloadRequest, IsoDefinition
from power_assets.keys import FORCE_DOWNLOAD_RUN_CONFIG
from power_assets.layout import Layout
from power_assets.stages.drop import ingest_dropped_day
from power_assets.stages.incremental import can_extend, extend_window, previous_pieces
from power_assets.stages.kept import (
    DownloadRecord,
    Fetcher,
    fetch_and_keep,
    kept_path,
    request_from_json,
    request_to_json,
    reusable,
    shared_path,
    sidecar_path,
)

MANIFEST = "manifest.json"
METADATA = "metadata.json"


_DROP_FIELDS = (
    "file_name",
    "url",
    "status",
    "window_start",
    "window_end",
    "fetched_at",
    "bytes",
    "sha256",
)


@dataclass(frozen=True)
class DayDownload:
    iso: str
    dataset: str
    day: date
    records: list[DownloadRecord]
    source: str = "iso"  # or "drop_folder": files a user dropped in, no request made

    @property
    def ok(self) -> list[DownloadRecord]:
        return [r for r in self.records if r.status == "ok"]

    @property
    def fetched(self) -> int:
        return sum(1 for r in self.ok if not r.reused)

    @property
    def no_data(self) -> list[DownloadRecord]:
        return [r for r in self.records if r.status == "no_data"]

    def coverage(self) -> dict[str, str]:
        """First and last instant the kept responses were asked to cover."""
        return {
            "first_interval": min(r.window_start for r in self.ok),
            "last_interval": max(r.window_end for r in self.ok),
        }


def _settled_plan(
    iso: IsoDefinition, dataset_id: str, day: date, folder: Path
) -> tuple[list[DownloadRequest], datetime] | None:
    """An earlier run's requests and when they were planned, if that was after the day settled.

    ISOs that must list documents first (ERCOT) would otherwise list again on every re-run; once
    no new document can appear for the day, the earlier plan stands and nothing is requested.
    """
    settled_at = iso.plan_final_after(dataset_id, day)
    path = folder / MANIFEST
    if settled_at is None or not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text())
        planned_at = datetime.fromisoformat(manifest["planned_at"])
        requests = [request_from_json(r) for r in manifest["requests"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return (requests, planned_at) if planned_at >= settled_at and requests else None


def download_day(
    iso: IsoDefinition,
    dataset_id: str,
    day: date,
    http: Fetcher,
    layout: Layout,
    *,
    force: bool = False,
    log: Callable[[str], None] = lambda _msg: None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    fetch_kept: Callable[[list[Path]], object] | None = None,
) -> DayDownload:
    """Fetch (or reuse) every response of one market day; raise IsoNoDataError if none has data.

    `fetch_kept` brings files kept elsewhere into the layout (the object store's copy, when the
    data lives there): an archive shared by many days is looked for there before it is asked of
    the ISO, so a month's archive is fetched once however many hosts cut days from it.

    Files the user dropped into the ISO's drop folders (bulk archives) take precedence: when any
    exist for this dataset and day they are ingested and nothing is requested from the ISO.

    For a day still in progress (per `clock`), windows that have not begun are not requested, and
    an open window the ISO can narrow is fetched from the end of what is already kept, so a run
    every five minutes downloads only the intervals published since the last one.
    """
    folder = layout.raw_downloads(iso.id, dataset_id, day)
    dropped = ingest_dropped_day(layout, iso, dataset_id, day)
    if dropped is not None:
        records = [DownloadRecord(**{k: d[k] for k in _DROP_FIELDS}) for d in dropped]
        # Said in the asset's metadata ("source"), not logged: a backfill of a dropped archive
        # would otherwise write one event per partition into Dagster's run history.
        atomic_write_json(
            folder / MANIFEST,
            {"iso": iso.id, "dataset": dataset_id, "day": day.isoformat(), "source": "drop_folder",
             "files": [asdict(r) for r in records]},
        )  # fmt: skip
        return DayDownload(iso.id, dataset_id, day, records, source="drop_folder")
    records: list[DownloadRecord] = []
    fetched_now: set[Path] = set()
    now = clock()
    settled = None if force else _settled_plan(iso, dataset_id, day, folder)
    if settled is not None:
        requests, planned_at = settled
    else:
        planned_at = now
        today = now.astimezone(ZoneInfo(iso.timezone)).date()
        requests = iso.plan_day(
            dataset_id,
            day,
            lambda listing: http.fetch(iso, listing).content,
            today,
            secrets=http.secrets_for(iso),
        )
    pieces = {} if force else previous_pieces(folder / MANIFEST)
    for request in requests:
        if _not_begun(iso, dataset_id, request, now):
            continue
        if not force and can_extend(iso, request, now, pieces):
            kept = extend_window(iso, dataset_id, request, pieces, http=http, folder=folder,
                                 clock=clock, log=log)  # fmt: skip
            records.extend(kept)
            continue
        path = kept_path(layout, iso.id, dataset_id, day, request)
        if request.shared and fetch_kept is not None and not force and path not in fetched_now:
            fetch_kept([path, sidecar_path(path)])
        # A shared archive fetched earlier in this same call is reused even under force.
        cached = None if force and path not in fetched_now else reusable(path, request)
        if cached is not None:
            records.append(cached)
            continue
        record = fetch_and_keep(iso, request, path, http, clock, log)
        if record.status == "ok":
            fetched_now.add(path)
        records.append(record)
    download = DayDownload(iso.id, dataset_id, day, records)
    if not download.ok:
        raise IsoNoDataError(
            f"{iso.id} {dataset_id} {day}",
            "no-data",
            f"the ISO has no data for any of the {len(records)} request(s) of this market day "
            "(not published yet, or not offered for this date)",
        )
    closed_at = iso.market_day_bounds(day)[1] + iso.publication_allowance(dataset_id)
    if download.no_data and now >= closed_at:
        raise _incomplete(iso, dataset_id, day, download, closed_at)
    atomic_write_json(
        folder / MANIFEST,
        {"iso": iso.id, "dataset": dataset_id, "day": day.isoformat(), "source": "iso",
         "planned_at": planned_at.isoformat(), "requests": [request_to_json(r) for r in requests],
         "files": [asdict(r) for r in records]},
    )  # fmt: skip
    return download


MISSING_WINDOWS_SHOWN = 6


def _incomplete(
    iso: IsoDefinition, dataset_id: str, day: date, download: DayDownload, closed_at: datetime
) -> IncompleteDayError:
    """The error for a closed day with windows the ISO has no data for; the kept responses of
    the other windows stay, so the re-run once the ISO publishes fetches only what is missing."""
    missing = sorted(download.no_data, key=lambda r: r.window_start)
    shown = ", ".join(f"{r.window_start}..{r.window_end}" for r in missing[:MISSING_WINDOWS_SHOWN])
    more = len(missing) - MISSING_WINDOWS_SHOWN
    return IncompleteDayError(
        f"{iso.id} {dataset_id} {day}: the market day has closed (all of it was due by "
        f'{closed_at.isoformat()}) but the ISO answered "no data" for {len(missing)} of its '
        f"{len(download.records)} window(s): {shown}{f' (+{more} more)' if more > 0 else ''} "
        "(UTC); the day is not loaded partially. Run it again once the ISO publishes them: the "
        "responses already kept are reused"
    )


def _not_begun(
    iso: IsoDefinition, dataset_id: str, request: DownloadRequest, now: datetime
) -> bool:
    """An intra-day window of real-time data that starts in the future: nothing can exist yet.

    Day-long windows are always requested: day-ahead data for a day is published before it begins.
    """
    intra_day = iso.dataset(dataset_id).request_window < timedelta(days=1)
    return intra_day and not request.shared and request.window_start >= now


def read_manifest(layout: Layout, iso: str, dataset: str, day: date) -> dict[str, Any]:
    path = layout.raw_downloads(iso, dataset, day) / MANIFEST
    if not path.is_file():
        raise MalformedFileError(f"{path}: no download manifest; materialize raw_download first")
    return json.loads(path.read_text())


@dataclass(frozen=True)
class DayExtract:
    iso: str
    dataset: str
    day: date
    folder: Path
    files: list[dict[str, Any]]

    @property
    def total_bytes(self) -> int:
        return sum(f["size"] for f in self.files)

    @property
    def data_rows(self) -> int:
        """Data lines of the extracted CSV files (header lines excluded)."""
        return sum(f.get("data_rows", 0) for f in self.files)

    def coverage(self) -> dict[str, str]:
        windows = [f["source"] for f in self.files]
        return {
            "first_interval": min(w["window_start"] for w in windows) if windows else "none",
            "last_interval": max(w["window_end"] for w in windows) if windows else "none",
        }


def count_csv_rows(path: Path) -> int:
    """Data lines of a CSV (non-empty lines after the header), counted in constant memory."""
    if path.suffix.lower() != ".csv":
        return 0
    lines = last = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1]
    if last and last != ord("\n"):
        lines += 1  # no newline after the last line
    return max(0, lines - 1)


def extract_day(
    iso: str, dataset: str, day: date, layout: Layout, *, spans: IsoDefinition | None = None
) -> DayExtract:
    """Extract every kept response of the day; the day's folder is replaced whole, never patched.

    A shared file that `spans` (the ISO) reads as holding many days of the dataset (SPP's year of
    fuel mix) is not copied whole into every day's folder: only the day's lines leave it, cut by
    the ISO's `cut_span_day` (as from a drop folder)."""
    manifest = read_manifest(layout, iso, dataset, day)
    source_dir = layout.raw_downloads(iso, dataset, day)
    final = layout.csv_files(iso, dataset, day)
    final.parent.mkdir(parents=True, exist_ok=True)
    # A killed extraction of this day leaves its staging and retired folders; clear them first.
    sweep_stale_temporaries(final.parent, final.name)
    staging = temporary_dir(final.parent, final.name)
    pulled = temporary_dir(final.parent, final.name, "members")
    try:
        files: list[dict[str, Any]] = []
        for record in manifest["files"]:
            if record["status"] != "ok":
                continue
            shared = record.get("shared", False)
            name = record["file_name"]
            raw = shared_path(source_dir, name) if shared else source_dir / name
            if not raw.is_file():
                raise MalformedFileError(
                    f"{raw}: listed in {MANIFEST} but missing; re-materialize raw_download"
                )
            stem = Path(record["file_name"]).stem
            if record.get("member"):
                # Only this day's file leaves the shared archive (not the whole month, daily).
                stem = f"{stem}/{Path(record['member']).stem}"
                raw = _pull_member(raw, record["member"], pulled / stem)
            try:
                if (
                    not record.get("member")
                    and shared
                    and spans is not None
                    and (spans.dropped_span_dataset(name) == dataset)
                ):
                    target = pulled / stem / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    spans.cut_span_day(dataset, raw, day, target)
                    raw = target
                extracted_files = extract_recursively(raw, staging / stem)
            except (MalformedFileError, UnsafeArchiveError) as exc:
                raise type(exc)(f"{exc}; {_refetch_hint(record)}") from exc
            for extracted in extracted_files:
                files.append(
                    {
                        "path": str(extracted.path.relative_to(staging)),
                        "member_chain": list(extracted.member_chain),
                        "size": extracted.size,
                        "sha256": extracted.sha256,
                        "data_rows": count_csv_rows(extracted.path),
                        "source": {k: record[k] for k in (
                            "file_name", "url", "fetched_at", "bytes", "sha256",
                            "window_start", "window_end",
                        )},
                    }
                )  # fmt: skip
        atomic_write_json(
            staging / METADATA,
            {"iso": iso, "dataset": dataset, "day": day.isoformat(), "files": files},
        )
        _replace_dir(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(pulled, ignore_errors=True)
    return DayExtract(iso, dataset, day, final, files)


def _refetch_hint(record: dict[str, Any]) -> str:
    """What to do about a kept response that cannot be extracted: it would be reused forever."""
    if record.get("url", "").startswith("drop:"):
        return "it came from a drop folder archive: replace or remove that archive"
    return (
        f"this response was kept from {record.get('url')} (fetched {record.get('fetched_at')}) and "
        "is reused on every run; fetch it again with `force_download`, run config "
        f"{json.dumps(FORCE_DOWNLOAD_RUN_CONFIG)}"
    )


def _pull_member(archive: Path, member: str, folder: Path) -> Path:
    """Copy one named member out of a ZIP archive (matched by its base name)."""
    if "/" in member or "\\" in member or member in ("", ".", ".."):
        raise MalformedFileError(f"{archive}: refusing member name {member!r}")
    try:
        with zipfile.ZipFile(archive) as handle:
            names = [n for n in handle.namelist() if n.rsplit("/", 1)[-1] == member]
            if len(names) != 1:
                found = "not found" if not names else f"found {len(names)} times"
                raise MalformedFileError(f"{archive}: member {member} {found}")
            target = folder / member
            target.parent.mkdir(parents=True, exist_ok=True)
            with (
                handle.open(names[0]) as source,
                atomic_path(target) as tmp,
                open(tmp, "wb") as sink,
            ):
                shutil.copyfileobj(source, sink, 1 << 20)
    except zipfile.BadZipFile as exc:
        raise MalformedFileError(f"{archive}: not a readable ZIP: {exc}") from exc
    return target


def _replace_dir(staging: Path, final: Path) -> None:
    retired = retired_path(final)
    shutil.rmtree(retired, ignore_errors=True)
    if final.exists():
        final.rename(retired)
    staging.rename(final)
    shutil.rmtree(retired, ignore_errors=True)


def read_extract_metadata(layout: Layout, iso: str, dataset: str, day: date) -> dict[str, Any]:
    path = layout.csv_files(iso, dataset, day) / METADATA
    if not path.is_file():
        raise MalformedFileError(f"{path}: no extraction metadata; materialize raw_csv first")
    return json.loads(path.read_text())


def shared_files_of(day_folder: Path) -> tuple[Path, ...]:
    """The shared archives (and their sidecars) a day's kept manifest says the day was cut from;
    () when the day has no manifest (yet) or uses none."""
    try:
        manifest = json.loads((day_folder / MANIFEST).read_text())
    except (FileNotFoundError, ValueError):
        return ()
    paths: list[Path] = []
    for record in manifest.get("files", []):
        if record.get("shared") and record.get("status") == "ok":
            path = shared_path(day_folder, record["file_name"])
            paths += [path, sidecar_path(path)]
    return tuple(paths)
