"""Stage 1 from the user's own archives: find a market day's files in drop folders, copy them in.

Users keep years of downloads (ZIPs of daily ZIPs of CSVs, nested a few levels). Dropped into
`data/{ISO}/raw_downloads/` (outside the pipeline's per-dataset folders) or a folder listed in
`POWER_ASSETS_{ISO}_DROP_DIR`, they are indexed by leaf name: the ISO says which (dataset, market
day) a name is (`IsoDefinition.dropped_file_day`). `ingest_dropped_day` copies one day's leaves,
bytes unchanged, into the day's raw_downloads folder with the same sidecars a download gets, so
the later stages cannot tell a dropped file from a fetched one. No network access happens here.

What belongs here: walking drop folders, the cached leaf index, reading (nested) ZIP members.
"""

import hashlib
import io
import json
import os
import threading
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from power_assets.errors import MalformedFileError
from power_assets.io.files import atomic_path, atomic_write_json
from power_assets.isos.base import IsoDefinition
from power_assets.layout import Layout

INDEX_NAME = ".drop_index.json"
# Bump when the index layout changes; an index of another version is rebuilt.
INDEX_VERSION = 1
# ZIPs opened along one chain, the outer file included: yearly > daily > document ZIP > CSV is 3.
MAX_ZIP_DEPTH = 4
_CHUNK = 1 << 20
# What zipfile raises on damaged input (ValueError: a bad header's negative seek; NotImplementedError:
# an unknown compression method). OSError is left out: a failing disk is not a corrupt archive.
_CORRUPT = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError)


@dataclass(frozen=True)
class DroppedFile:
    """One leaf file found in a drop folder and what its name says it holds."""

    archive: Path  # the file on disk (a ZIP, or a plain CSV)
    chain: tuple[str, ...]  # member names from the archive down to the leaf ((), for a plain file)
    name: str  # leaf base name
    size: int
    dataset: str
    day: date

    @property
    def url(self) -> str:
        return "drop:" + str(self.archive) + "".join("!" + member for member in self.chain)


def drop_env_var(iso_id: str) -> str:
    """The variable listing extra drop folders (os.pathsep-separated), e.g. POWER_ASSETS_ERCOT_DROP_DIR."""
    return f"POWER_ASSETS_{iso_id.upper()}_DROP_DIR"


def _downloads_root(layout: Layout, iso: IsoDefinition) -> Path:
    return layout.iso_dir(iso.id) / "raw_downloads"


def drop_folders(layout: Layout, iso: IsoDefinition) -> list[Path]:
    """The existing folders to scan: the ISO's raw_downloads root, then those of the env variable."""
    listed = os.environ.get(drop_env_var(iso.id), "")
    candidates = [_downloads_root(layout, iso)]
    candidates += [Path(entry).expanduser() for entry in listed.split(os.pathsep) if entry.strip()]
    folders: list[Path] = []
    for folder in candidates:
        resolved = folder.resolve()
        if resolved.is_dir() and resolved not in folders:
            folders.append(resolved)
    return folders


def find_dropped(
    layout: Layout, iso: IsoDefinition, dataset_id: str, day: date
) -> list[DroppedFile]:
    """The dropped files of one dataset and market day, one per leaf name, as the ISO chooses."""
    by_name: dict[str, tuple[tuple[int, str], DroppedFile]] = {}
    for archive, entry in _refreshed_index(layout, iso).items():
        for chain, name, size in _classified(iso, archive, entry).get((dataset_id, day), []):
            found = DroppedFile(Path(archive), tuple(chain), name, size, dataset_id, day)
            # The same leaf in two archives: the most recently modified archive wins.
            rank = (entry["mtime_ns"], archive)
            if name not in by_name or rank > by_name[name][0]:
                by_name[name] = (rank, found)
    chosen = iso.choose_dropped_files(dataset_id, day, sorted(by_name))
    return [by_name[name][1] for name in chosen if name in by_name]


def ingest_dropped_day(
    layout: Layout, iso: IsoDefinition, dataset_id: str, day: date
) -> list[dict[str, Any]] | None:
    """Copy the day's dropped files into its raw_downloads folder; None when none were dropped.

    Each file gets the sidecar a download gets, and one record per file is returned with the
    fields of stages.raw's download records. Every archive (and nested archive) is opened once.
    """
    files = find_dropped(layout, iso, dataset_id, day)
    if not files:
        return None
    folder = layout.raw_downloads(iso.id, dataset_id, day)
    start, end = iso.market_day_bounds(day)
    wanted: dict[Path, dict[tuple[str, ...], DroppedFile]] = {}
    for dropped in files:
        wanted.setdefault(dropped.archive, {})[dropped.chain] = dropped
    records: list[dict[str, Any]] = []
    for archive, by_chain in wanted.items():
        for dropped, handle in _open_leaves(archive, by_chain):
            size, digest = _copy(handle, folder / dropped.name, dropped.url)
            fetch = {
                "url": dropped.url,
                "status": "ok",
                "fetched_at": datetime.now(UTC).isoformat(),
                "bytes": size,
                "sha256": digest,
            }
            atomic_write_json(folder / f"{dropped.name}.json", fetch)
            records.append(
                {
                    "file_name": dropped.name,
                    "window_start": start.isoformat(),
                    "window_end": end.isoformat(),
                    **fetch,
                }
            )
    return records


# -- the index -----------------------------------------------------------------------------------

# In-process memos: a single-run backfill asks about hundreds of days; a year of ERCOT archives is
# over 100,000 leaves, too many to re-read and re-classify for each of them. Keyed by what the
# files on disk look like, so a changed archive or index is read again.
_memo_lock = threading.Lock()
_index_memo: dict[Path, tuple[tuple[int, int], dict[str, dict[str, Any]]]] = {}
_classified_memo: dict[tuple[str, str, int, int], dict[tuple[str, date], list[Any]]] = {}


def _classified(
    iso: IsoDefinition, archive: str, entry: dict[str, Any]
) -> dict[tuple[str, date], list[Any]]:
    """An archive's leaves grouped by (dataset, market day), as the ISO names them today (the
    rule is asked afresh per process, not stored in the index, so a changed rule applies)."""
    key = (iso.id, archive, entry["mtime_ns"], entry["size"])
    with _memo_lock:
        grouped = _classified_memo.get(key)
    if grouped is None:
        grouped = {}
        for leaf in entry["leaves"]:
            found = iso.dropped_file_day(leaf[1])
            if found is not None:
                grouped.setdefault(found, []).append(leaf)
        with _memo_lock:
            _classified_memo[key] = grouped
    return grouped


def _refreshed_index(layout: Layout, iso: IsoDefinition) -> dict[str, dict[str, Any]]:
    """Every drop-folder file's matching leaves; only new or changed files are opened."""
    path = layout.iso_dir(iso.id) / INDEX_NAME
    old = _read_index(path)
    fresh: dict[str, dict[str, Any]] = {}
    try:
        for file in _walk(layout, iso):
            stat = file.stat()
            seen_as = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
            entry = old.get(str(file))
            if entry is None or {k: entry[k] for k in seen_as} != seen_as:
                entry = {**seen_as, "leaves": _index_file(file, iso)}
            fresh[str(file)] = entry
    except Exception:
        # Keep the archives read so far, so fixing one corrupt archive does not mean re-reading
        # all the others; entries not yet re-checked are checked again next time.
        _write_index(path, old, old | fresh)
        raise
    _write_index(path, old, fresh)
    return fresh


def _write_index(path: Path, old: dict[str, Any], new: dict[str, Any]) -> None:
    if new != old and (new or path.is_file()):
        atomic_write_json(path, {"version": INDEX_VERSION, "archives": new})
        stat = path.stat()
        with _memo_lock:
            _index_memo[path] = ((stat.st_mtime_ns, stat.st_size), new)


def _read_index(path: Path) -> dict[str, dict[str, Any]]:
    """The cached index, or {} when it is missing, torn, or of another layout (then rebuilt)."""
    try:
        stat = path.stat()
    except OSError:
        return {}
    seen_as = (stat.st_mtime_ns, stat.st_size)
    with _memo_lock:
        memo = _index_memo.get(path)
    if memo is not None and memo[0] == seen_as:
        return memo[1]
    archives = _parse_index(path)
    with _memo_lock:
        _index_memo[path] = (seen_as, archives)
    return archives


def _parse_index(path: Path) -> dict[str, dict[str, Any]]:
    try:
        payload = json.loads(path.read_text())
        if payload["version"] != INDEX_VERSION:
            return {}
        archives = payload["archives"]
        for entry in archives.values():
            int(entry["size"]), int(entry["mtime_ns"])
            for chain, name, size in entry["leaves"]:
                if not (
                    isinstance(chain, list) and isinstance(name, str) and isinstance(size, int)
                ):
                    return {}
        return archives
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _walk(layout: Layout, iso: IsoDefinition) -> Iterator[Path]:
    """Every non-hidden file of the drop folders (the index is hidden), skipping pipeline folders."""
    downloads = _downloads_root(layout, iso).resolve()
    iso_dir = layout.iso_dir(iso.id).resolve()
    pipeline = {downloads / dataset for dataset in iso.datasets}

    def skipped(folder: Path) -> bool:
        # Inside the ISO's data dir only raw_downloads holds drops: csv_files holds extracted
        # copies of the very same names, and must not be read back as drops.
        return folder in pipeline or (
            folder.is_relative_to(iso_dir)
            and not (folder.is_relative_to(downloads) or downloads.is_relative_to(folder))
        )

    seen: set[Path] = set()
    for folder in drop_folders(layout, iso):
        for root, dirs, names in os.walk(folder):
            here = Path(root)
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not skipped(here / d))
            for name in sorted(names):
                file = here / name
                if not name.startswith(".") and file not in seen and file.is_file():
                    seen.add(file)
                    yield file


def _is_zip(name: str) -> bool:
    return name.lower().endswith(".zip")


def _index_file(file: Path, iso: IsoDefinition) -> list[list[Any]]:
    """[chain, leaf name, size] of each leaf of a file the ISO recognizes (a plain file: itself)."""
    if not _is_zip(file.name):
        return [[[], file.name, file.stat().st_size]] if iso.dropped_file_day(file.name) else []
    leaves: list[list[Any]] = []
    try:
        with zipfile.ZipFile(file) as handle:
            _index_zip(handle, (), 1, iso, leaves, file)
    except _CORRUPT as exc:
        raise MalformedFileError(f"{file}: not a readable ZIP: {exc}") from exc
    return leaves


def _index_zip(
    handle: zipfile.ZipFile,
    chain: tuple[str, ...],
    depth: int,
    iso: IsoDefinition,
    leaves: list[list[Any]],
    file: Path,
) -> None:
    for info in handle.infolist():
        name = _leaf_name(info.filename)
        if name is None:
            continue
        member = (*chain, info.filename)
        if _is_zip(name) and depth < MAX_ZIP_DEPTH:
            where = f"{file}!" + "!".join(member)
            try:
                with zipfile.ZipFile(io.BytesIO(handle.read(info))) as inner:
                    _index_zip(inner, member, depth + 1, iso, leaves, file)
            except _CORRUPT as exc:
                raise MalformedFileError(f"{where}: not a readable ZIP: {exc}") from exc
        elif iso.dropped_file_day(name) is not None:
            leaves.append([list(member), name, info.file_size])


def _leaf_name(member: str) -> str | None:
    """A member's base name, the only part used on disk; None for folders and odd names."""
    name = member.replace("\\", "/").rsplit("/", 1)[-1]
    return None if name in ("", ".", "..") else name


# -- copying -------------------------------------------------------------------------------------


def _open_leaves(
    archive: Path, by_chain: dict[tuple[str, ...], DroppedFile]
) -> Iterator[tuple[DroppedFile, IO[bytes]]]:
    """(file, readable) for each wanted leaf of one archive, each nested ZIP opened once."""
    if () in by_chain:
        with open(archive, "rb") as handle:
            yield by_chain[()], handle
        return
    try:
        with zipfile.ZipFile(archive) as handle:
            yield from _zip_leaves(handle, str(archive), by_chain, 0)
    except _CORRUPT as exc:
        raise MalformedFileError(f"{archive}: not a readable ZIP: {exc}") from exc


def _zip_leaves(
    handle: zipfile.ZipFile,
    where: str,
    by_chain: dict[tuple[str, ...], DroppedFile],
    level: int,
) -> Iterator[tuple[DroppedFile, IO[bytes]]]:
    # Group the wanted chains by their member at this level: one read per nested archive.
    groups: dict[str, dict[tuple[str, ...], DroppedFile]] = {}
    for chain, dropped in by_chain.items():
        groups.setdefault(chain[level], {})[chain] = dropped
    for member, chains in groups.items():
        inner_where = f"{where}!{member}"
        try:
            if (leaf := next((c for c in chains if len(c) == level + 1), None)) is not None:
                with handle.open(member) as stream:
                    yield chains[leaf], stream
                continue
            with zipfile.ZipFile(io.BytesIO(handle.read(member))) as inner:
                yield from _zip_leaves(inner, inner_where, chains, level + 1)
        except KeyError as exc:
            raise MalformedFileError(
                f"{inner_where}: member missing although indexed; was the archive replaced?"
            ) from exc
        except _CORRUPT as exc:
            raise MalformedFileError(f"{inner_where}: unreadable archive member: {exc}") from exc


def _copy(source: IO[bytes], final: Path, where: str) -> tuple[int, str]:
    """Stream `source` to `final` atomically; (bytes, sha256) of what was written."""
    digest, size = hashlib.sha256(), 0
    try:
        with atomic_path(final) as tmp, open(tmp, "wb") as sink:
            while chunk := source.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                sink.write(chunk)
            sink.flush()
            os.fsync(sink.fileno())
    except _CORRUPT as exc:
        raise MalformedFileError(f"{where}: unreadable archive member: {exc}") from exc
    return size, digest.hexdigest()
