"""Stage 1 from the user's own archives: find a market day's files in drop folders, copy them in.

Users keep years of downloads (ZIPs of daily ZIPs of CSVs, nested a few levels). Dropped into
`data/{ISO}/raw_downloads/` (outside the pipeline's per-dataset folders) or a folder listed in
`POWER_ASSETS_{ISO}_DROP_DIR`, they are indexed by leaf name: the ISO says which (dataset, market
day) a name is (`IsoDefinition.dropped_file_day`). `ingest_dropped_day` copies one day's leaves,
bytes unchanged, into the day's raw_downloads folder with the same sidecars a download gets, so
the later stages cannot tell a dropped file from a fetched one. No network access happens here.
Exports named after a dataset but holding any range of days (PJM Data Miner's `da_hrl_lmps.csv`)
are read for their days and cut into one file per day: see stages/drop_spans.py. A day with any
per-day file takes none of the span files' rows (the more specific file wins).

A drop folder is read defensively: archives expand only within `DropLimits` (stages/drop_zip);
an unreadable archive, or a nested one over a limit, is warned about once, recorded in the index
and skipped, so the other archives and the downloads go on; a link whose target lies outside its
drop folder is refused the same way, and no link can redirect the copy out of raw_downloads.

What belongs here: walking drop folders, the cached leaf index, copying a day's leaves.
"""

import contextlib
import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from power_assets.errors import MalformedFileError, UnsafeArchiveError
from power_assets.io.files import atomic_path, atomic_write_json
from power_assets.isos.base import IsoDefinition
from power_assets.layout import Layout
from power_assets.stages.drop_spans import (
    cut_leaf,
    cut_name,
    index_plain_span,
    index_zip_spans,
    span_dataset,
    spans_by_day,
    valid_spans,
)
from power_assets.stages.drop_zip import DropLimits, DroppedZip, is_zip, open_regular, shown

logger = logging.getLogger(__name__)

INDEX_NAME = ".drop_index.json"
# Bump when the index layout changes; an index of another version is rebuilt.
# Bump too when an ISO learns to read files it ignored before (an index keeps a file's entry while
# its size and time are unchanged, so an old entry would hide the new days).
# 3: span files ("spans": [chain, name, size, dataset, [days]]).
# 4: MISO's weekly 5-minute ZIPs and monthly pricing archives, SPP's roll-ups, are read.
INDEX_VERSION = 4
_CHUNK = 1 << 20
# Paths a link leads to are quoted whole unless absurdly long (or not printable).
_PATH_CHARS = 1000


@dataclass(frozen=True)
class DroppedFile:
    """One leaf file found in a drop folder and what its name says it holds."""

    archive: Path  # the file on disk (a ZIP, or a plain CSV)
    chain: tuple[str, ...]  # member names from the archive down to the leaf ((), for a plain file)
    name: str  # leaf base name
    size: int
    dataset: str
    day: date
    cut: bool = False  # a span file: the day's rows are cut out (see stages/drop_spans.py)

    @property
    def url(self) -> str:
        url = "drop:" + str(self.archive) + "".join("!" + member for member in self.chain)
        return f"{url}#{self.day.isoformat()}" if self.cut else url

    @property
    def file_name(self) -> str:
        """Its name in the day's raw_downloads folder."""
        return cut_name(self.name, self.day) if self.cut else self.name


def drop_env_var(iso_id: str) -> str:
    """The variable listing extra drop folders (os.pathsep-separated), e.g. POWER_ASSETS_ERCOT_DROP_DIR."""
    return f"POWER_ASSETS_{iso_id.upper()}_DROP_DIR"


def _downloads_root(layout: Layout, iso: IsoDefinition) -> Path:
    return layout.iso_dir(iso.id) / "raw_downloads"


def _spool_dir(layout: Layout, iso: IsoDefinition) -> Path:
    """Where nested archives too large for memory are spooled: beside the index, on the data
    volume (not /tmp, often a RAM disk), as unnamed files that no walk or listing ever sees."""
    return layout.iso_dir(iso.id)


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
    """The dropped files of one dataset and market day, one per file name, as the ISO chooses:
    the per-day files naming the day, or else the span files holding rows of it."""
    index = _refreshed_index(layout, iso)
    by_name: dict[str, tuple[tuple[int, str], DroppedFile]] = {}

    def keep(found: DroppedFile, entry: dict[str, Any]) -> None:
        # The same leaf in two archives: the most recently modified archive wins.
        rank = (entry["mtime_ns"], str(found.archive))
        if found.file_name not in by_name or rank > by_name[found.file_name][0]:
            by_name[found.file_name] = (rank, found)

    for archive, entry in index.items():
        for chain, name, size in _classified(iso, archive, entry).get((dataset_id, day), []):
            keep(DroppedFile(Path(archive), tuple(chain), name, size, dataset_id, day), entry)
    if not by_name:
        for archive, entry in index.items():
            for chain, name, size in spans_by_day(iso, archive, entry).get((dataset_id, day), []):
                found = DroppedFile(Path(archive), chain, name, size, dataset_id, day, cut=True)
                keep(found, entry)
    chosen = iso.choose_dropped_files(dataset_id, day, sorted(by_name))
    return [by_name[name][1] for name in chosen if name in by_name]


def ingest_dropped_day(
    layout: Layout, iso: IsoDefinition, dataset_id: str, day: date
) -> list[dict[str, Any]] | None:
    """Copy the day's dropped files into its raw_downloads folder; None when none were dropped.

    Each file gets the sidecar a download gets, and one record per file is returned with the
    fields of stages.raw's download records. Every archive (and nested archive) is opened once.
    A leaf that cannot be read, or expands beyond `DropLimits`, fails this day only. A span
    file's day is cut out of it (stages/drop_spans.py), the others are copied.
    """
    files = find_dropped(layout, iso, dataset_id, day)
    if not files:
        return None
    context = f"{iso.id} {dataset_id} {day.isoformat()}"
    folder = _destination(layout, iso, dataset_id, day, context)
    limits = DropLimits.from_env()
    start, end = iso.market_day_bounds(day)
    wanted: dict[Path, dict[tuple[str, ...], DroppedFile]] = {}
    for dropped in files:
        wanted.setdefault(dropped.archive, {})[dropped.chain] = dropped
    records: list[dict[str, Any]] = []
    spool = _spool_dir(layout, iso)
    for archive, by_chain in wanted.items():
        leaves = _open_leaves(archive, by_chain, limits, spool, context)
        with contextlib.closing(leaves):
            for dropped, handle in leaves:
                if dropped.cut:
                    where = f"{dropped.url.removeprefix('drop:')}: {context}"
                    size, digest = cut_leaf(iso, dropped, handle, folder, spool, where)
                else:
                    size, digest = _copy(handle, folder / dropped.name)
                fetch = {
                    "url": dropped.url,
                    "status": "ok",
                    "fetched_at": datetime.now(UTC).isoformat(),
                    "bytes": size,
                    "sha256": digest,
                }
                atomic_write_json(folder / f"{dropped.file_name}.json", fetch)
                records.append(
                    {
                        "file_name": dropped.file_name,
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
_classified_memo: dict[tuple[Any, ...], dict[tuple[str, date], list[Any]]] = {}


def _classified(
    iso: IsoDefinition, archive: str, entry: dict[str, Any]
) -> dict[tuple[str, date], list[Any]]:
    """An archive's leaves grouped by (dataset, market day), as the ISO names them today (the
    rule is asked afresh per process, not stored in the index, so a changed rule applies)."""
    # ctime and limits too: an entry with problems is read again when they change (see
    # _still_holds), its size and mtime unchanged.
    key = (iso.id, archive, entry["mtime_ns"], entry["size"], entry.get("ctime_ns"),
           tuple(entry.get("limits", ())))  # fmt: skip
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
    """Every drop-folder file's matching leaves; only new or changed files are opened.

    An entry with "problems" (an unreadable archive or nested archive, a refused link) was
    warned about when recorded and is not read again until the file, or a limit, changes.
    """
    path = layout.iso_dir(iso.id) / INDEX_NAME
    old = _read_index(path)
    limits = DropLimits.from_env()
    spool = _spool_dir(layout, iso)
    fresh: dict[str, dict[str, Any]] = {}
    try:
        for found in _walk(layout, iso):
            entry = _current_entry(found, old.get(str(found.path)), iso, limits, spool)
            if entry is not None:
                fresh[str(found.path)] = entry
    except BaseException:
        # Keep the archives read so far (interrupted, say), so the next run does not re-read
        # them all; entries not yet re-checked are checked again next time.
        _write_index(path, old, old | fresh)
        raise
    _write_index(path, old, fresh)
    return fresh


def _current_entry(
    found: "_Found",
    old: dict[str, Any] | None,
    iso: IsoDefinition,
    limits: DropLimits,
    spool: Path,
) -> dict[str, Any] | None:
    """The index entry of one walked path: the old one while it still holds, else read anew."""
    try:
        stat = found.path.lstat() if found.refused else found.path.stat()
    except FileNotFoundError:
        return None  # removed since the walk listed it
    seen_as = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    if old is not None and _still_holds(old, seen_as, stat, limits):
        return old
    if found.refused:
        leaves, spans, problems = [], [], [found.refused]
    else:
        try:
            leaves, spans, problems = _index_file(found.path, iso, limits, spool)
        except OSError as exc:
            # Not the archive's fault (a failing disk, no room to spool): tried again next time.
            logger.warning(
                "%s drop folder: %s could not be read (%s); skipped for now",
                iso.id,
                found.path,
                exc,
            )
            return None
    entry: dict[str, Any] = {**seen_as, "leaves": leaves, "spans": spans, "problems": problems}
    if problems:
        # A problem can go away while size and mtime stay: permissions fixed (that changes the
        # ctime) or a limit raised. Either has the file read again.
        entry |= {"ctime_ns": stat.st_ctime_ns, "limits": limits.as_list()}
        for problem in problems:
            logger.warning(
                "%s drop folder: skipped %s; not read again until the file changes", iso.id, problem
            )
    return entry


def _still_holds(
    entry: dict[str, Any], seen_as: dict[str, int], stat: os.stat_result, limits: DropLimits
) -> bool:
    if any(entry[key] != value for key, value in seen_as.items()):
        return False
    return not entry["problems"] or (
        entry.get("ctime_ns") == stat.st_ctime_ns and entry.get("limits") == limits.as_list()
    )


def _index_file(
    file: Path, iso: IsoDefinition, limits: DropLimits, spool: Path
) -> tuple[list[list[Any]], list[list[Any]], list[str]]:
    """([chain, leaf name, size] of each per-day leaf the ISO recognizes (a plain file: itself),
    [chain, name, size, dataset, [days]] of each span leaf, problems).

    Raises OSError only for failures that are not the file's own (reading, spooling).
    """

    def recognized(name: str) -> bool:
        return iso.dropped_file_day(name) is not None or span_dataset(iso, name) is not None

    if not is_zip(file.name) and not recognized(file.name):
        return [], [], []
    try:
        handle = open_regular(file)
    except OSError as exc:
        return [], [], [f"{file}: cannot be opened: {exc.strerror or exc}"]
    except MalformedFileError as exc:
        return [], [], [str(exc)]
    with handle:
        if not is_zip(file.name):
            size = os.fstat(handle.fileno()).st_size
            if iso.dropped_file_day(file.name) is not None:
                return [[[], file.name, size]], [], []
            return [], *index_plain_span(iso, file, handle, size)
        try:
            listed, problems = DroppedZip(file, limits, spool).index(handle, recognized)
        except (MalformedFileError, UnsafeArchiveError) as exc:
            return [], [], [str(exc)]
        leaves, spans, more = index_zip_spans(iso, file, handle, listed, limits, spool)
        return leaves, spans, problems + more


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
            if not all(isinstance(problem, str) for problem in entry["problems"]):
                return {}
            for chain, name, size in entry["leaves"]:
                if not (
                    isinstance(chain, list) and isinstance(name, str) and isinstance(size, int)
                ):
                    return {}
            if not valid_spans(entry["spans"]):
                return {}
        return archives
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


# -- walking -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Found:
    """A walked path: a file to index, or a link (or folder) refused, and why."""

    path: Path
    refused: str | None = None


def _walk(layout: Layout, iso: IsoDefinition) -> Iterator[_Found]:
    """Every non-hidden file of the drop folders (the index is hidden), skipping pipeline folders.

    Links are followed only to targets inside the same drop folder; files are yielded by their
    resolved path (so a file and a link to it are one file), links that leave are refused.
    """
    downloads = _downloads_root(layout, iso).resolve()
    iso_dir = layout.iso_dir(iso.id).resolve()
    pipeline = [downloads / dataset for dataset in iso.datasets]

    def skipped(folder: Path) -> bool:
        # Inside the ISO's data dir only raw_downloads holds drops: csv_files holds extracted
        # copies of the very same names, and must not be read back as drops.
        return any(folder.is_relative_to(own) for own in pipeline) or (
            folder.is_relative_to(iso_dir)
            and not (folder.is_relative_to(downloads) or downloads.is_relative_to(folder))
        )

    seen_files: set[Path] = set()
    seen_folders: set[Path] = set()

    def walk(root: Path, folder: Path) -> Iterator[_Found]:
        if folder in seen_folders or skipped(folder):
            return
        seen_folders.add(folder)
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as exc:
            yield _Found(folder, f"{folder}: folder cannot be listed: {exc.strerror or exc}")
            return
        subfolders: list[Path] = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            if entry.is_symlink():
                target, refused = _link_target(path, root)
                if refused is not None:
                    yield _Found(path, refused)
                if target is None:
                    continue
                path, is_dir = target, target.is_dir()
            else:
                is_dir = entry.is_dir(follow_symlinks=False)
            if is_dir:
                subfolders.append(path)
            elif path.is_file() and path not in seen_files and not skipped(path.parent):
                seen_files.add(path)
                yield _Found(path)
        for subfolder in subfolders:
            yield from walk(root, subfolder)

    for root in drop_folders(layout, iso):
        yield from walk(root, root)


def _link_target(link: Path, root: Path) -> tuple[Path | None, str | None]:
    """(resolved target, None) for a link into `root`, (None, why) for one leaving it."""
    try:
        target = link.resolve()
    except (OSError, RuntimeError) as exc:  # a link loop: RuntimeError up to Python 3.12
        return None, f"{link}: link cannot be resolved ({type(exc).__name__}); not followed"
    if not target.is_relative_to(root):
        return None, (
            f"{link}: link to {shown(str(target), _PATH_CHARS)}, outside the drop folder {root}; not followed"
        )
    return (target if target.exists() else None), None


# -- copying -------------------------------------------------------------------------------------


def _destination(
    layout: Layout, iso: IsoDefinition, dataset_id: str, day: date, context: str
) -> Path:
    """The day's raw_downloads folder, refused if a link below raw_downloads sends it elsewhere.

    (raw_downloads itself may be a link, to a larger disk say; the file names written in the
    folder are replaced, never followed: see io.files.atomic_path.)
    """
    root = _downloads_root(layout, iso)
    folder = layout.raw_downloads(iso.id, dataset_id, day)
    if not folder.resolve().is_relative_to(root.resolve()):
        raise UnsafeArchiveError(
            f"{folder}: {context}: a link sends this folder to {shown(str(folder.resolve()), _PATH_CHARS)}, "
            f"outside {root}; dropped files are not copied through it"
        )
    return folder


def _open_leaves(
    archive: Path,
    by_chain: dict[tuple[str, ...], DroppedFile],
    limits: DropLimits,
    spool: Path,
    context: str,
) -> Iterator[tuple[DroppedFile, IO[bytes]]]:
    """(file, readable) for each wanted leaf of one archive, each nested ZIP opened once."""
    try:
        handle = open_regular(archive)
    except OSError as exc:
        raise MalformedFileError(
            f"{archive}: {context}: cannot be opened: {exc.strerror or exc}"
        ) from exc
    with handle:
        if () in by_chain:
            yield by_chain[()], handle
            return
        yield from DroppedZip(archive, limits, spool, context).open_leaves(handle, by_chain)


def _copy(source: IO[bytes], final: Path) -> tuple[int, str]:
    """Stream `source` to `final` atomically; (bytes, sha256) of what was written.

    Reading raises MalformedFileError or UnsafeArchiveError (drop_zip's metered streams); the
    partial copy is then removed.
    """
    digest, size = hashlib.sha256(), 0
    with atomic_path(final) as tmp, open(tmp, "wb") as sink:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            sink.write(chunk)
        sink.flush()
        os.fsync(sink.fileno())
    return size, digest.hexdigest()
