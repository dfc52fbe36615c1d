"""Span files in drop folders: one file holding any range of market days, cut into single days.

Some ISOs' exports are named after the dataset, not the day (PJM Data Miner's `da_hrl_lmps.csv`
holds whatever range the user asked for). The ISO recognizes such a name
(`IsoDefinition.dropped_span_dataset`); its days are read from the rows once per version of the
file (`span_file_days`, stored in the drop index with the file's size and mtime), and a day is
ingested by cutting its rows into a file of its own (`cut_span_day`) in the day's raw_downloads
folder, named `{stem}.{YYYY-MM-DD}{suffix}`, with the sidecar a copied file gets and the URL
`drop:{file}[!member...]#{YYYY-MM-DD}`.

A name the ISO reads as one day's file (`dropped_file_day`) is never a span file, and a day that
has any such per-day file takes no span file's rows (stages/drop.py): the more specific file wins.

The ISO reads a path: a plain file is read where it lies (after drop_zip.open_regular refused a
link or a non-regular file, and checked to be the same file afterwards); a ZIP member is first
streamed within `DropLimits` into a temporary folder in the spool directory, which is removed
after use (or by the next run, if the process was killed).

What belongs here: recognizing, indexing and cutting span files. Walking, the index file and
copying live in stages/drop.py.
"""

import contextlib
import hashlib
import os
import shutil
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import IO, Any, Protocol

from power_assets.errors import MalformedFileError, PowerAssetsError, UnsafeArchiveError
from power_assets.io.files import atomic_path, sweep_stale_temporaries, temporary_dir
from power_assets.isos.base import IsoDefinition
from power_assets.stages.drop_zip import DropLimits, DroppedZip, shown

_CHUNK = 1 << 20
# Temporary folders holding ZIP members while the ISO reads them: `.span_spool.{pid}.{random}`.
_SPOOL_NAME = "span_spool"


def span_dataset(iso: IsoDefinition, name: str) -> str | None:
    """The dataset of a span file's leaf name; None for other names, and for names the ISO
    reads as one day's file (those win)."""
    if iso.dropped_file_day(name) is not None:
        return None
    return iso.dropped_span_dataset(name)


def cut_name(name: str, day: date) -> str:
    """The name a day cut of span file `name` gets: `da_hrl_lmps.csv` -> `da_hrl_lmps.2025-05-01.csv`."""
    path = Path(name)
    return f"{path.stem}.{day.isoformat()}{path.suffix}" if path.suffix else f"{name}.{day}"


# -- indexing ------------------------------------------------------------------------------------


def index_plain_span(
    iso: IsoDefinition, file: Path, handle: IO[bytes], size: int
) -> tuple[list[list[Any]], list[str]]:
    """([[[], name, size, dataset, [days]]], problems) of the plain span file `file`, open as
    `handle`. Raises OSError for failures that are not the file's own (reading it, the file
    replaced while it was read)."""
    problems: list[str] = []
    dataset = span_dataset(iso, file.name)
    days = _days_or_problem(iso, dataset, file, str(file), problems)
    _check_same(file, handle)
    return ([[[], file.name, size, dataset, days]] if days is not None else []), problems


def index_zip_spans(
    iso: IsoDefinition,
    file: Path,
    handle: IO[bytes],
    listed: list[list[Any]],
    limits: DropLimits,
    spool: Path,
) -> tuple[list[list[Any]], list[list[Any]], list[str]]:
    """The members `listed` ([chain, name, size]) of the ZIP `file` the ISO recognizes, as
    (those it reads per day, [chain, name, size, dataset, [days]] of the span files, problems).

    A span member the ISO cannot read, or over a limit, is a problem and the others are read.
    Raises OSError for failures that are not the archive's own (reading it, spooling).
    """
    leaves = [leaf for leaf in listed if iso.dropped_file_day(leaf[1]) is not None]
    spans: list[list[Any]] = []
    problems: list[str] = []
    wanted = {
        tuple(chain): (chain, name, size)
        for chain, name, size in listed
        if span_dataset(iso, name) is not None
    }
    if not wanted:
        return leaves, spans, problems
    try:
        for (chain, name, size), stream in DroppedZip(file, limits, spool).open_leaves(
            handle, wanted
        ):
            where = f"{file}" + "".join(f"!{shown(member)}" for member in chain)
            dataset = span_dataset(iso, name)
            try:
                with _spooled(stream, name, spool) as path:
                    days = _days_or_problem(iso, dataset, path, where, problems)
            except (MalformedFileError, UnsafeArchiveError) as exc:  # decompressing it
                problems.append(str(exc))
                continue
            if days is not None:
                spans.append([list(chain), name, size, dataset, days])
    except (MalformedFileError, UnsafeArchiveError) as exc:
        # The archive's own (a nested ZIP gone bad since it was listed, a limit of the pass):
        # the members not read by then are left out.
        problems.append(str(exc))
    return leaves, spans, problems


def _days_or_problem(
    iso: IsoDefinition, dataset: str | None, path: Path, where: str, problems: list[str]
) -> list[str] | None:
    """The ISO dates of the span file at `path`, or None with a problem naming `where`."""
    if dataset is None:
        return None
    try:
        days = iso.span_file_days(dataset, path)
    except PowerAssetsError as exc:
        problems.append(f"{where}: {iso.id} {dataset} export: {_without_path(exc, path)}")
        return None
    return [day.isoformat() for day in sorted(set(days))]


# In-process memo: a backfill asks about every day; the index is grouped once per file version.
_memo_lock = threading.Lock()
_by_day_memo: dict[tuple[Any, ...], dict[tuple[str, date], list[tuple[Any, ...]]]] = {}


def spans_by_day(
    iso: IsoDefinition, archive: str, entry: dict[str, Any]
) -> dict[tuple[str, date], list[tuple[tuple[str, ...], str, int]]]:
    """An index entry's span leaves by (dataset, market day): (chain, name, size) each.

    The name rule is asked afresh per process: a leaf the ISO no longer reads as a span file of
    the dataset it was indexed for is left out.
    """
    key = (iso.id, archive, entry["mtime_ns"], entry["size"], entry.get("ctime_ns"),
           tuple(entry.get("limits", ())))  # fmt: skip
    with _memo_lock:
        grouped = _by_day_memo.get(key)
    if grouped is None:
        grouped = {}
        for chain, name, size, dataset, days in entry.get("spans", ()):
            if span_dataset(iso, name) != dataset:
                continue
            for day in days:
                found = (dataset, date.fromisoformat(day))
                grouped.setdefault(found, []).append((tuple(chain), name, size))
        with _memo_lock:
            _by_day_memo[key] = grouped
    return grouped


def valid_spans(spans: Any) -> bool:
    """Whether an index entry's "spans" has the layout index_spans writes (a torn index: no)."""
    try:
        for chain, name, size, dataset, days in spans:
            if not (
                isinstance(chain, list)
                and isinstance(name, str)
                and isinstance(size, int)
                and isinstance(dataset, str)
            ):
                return False
            for day in days:
                date.fromisoformat(day)
    except (ValueError, TypeError):
        return False
    return True


# -- cutting -------------------------------------------------------------------------------------


class SpanLeaf(Protocol):
    """What a cut needs of a dropped span leaf (stages/drop.py's DroppedFile)."""

    @property
    def archive(self) -> Path: ...
    @property
    def chain(self) -> tuple[str, ...]: ...
    @property
    def name(self) -> str: ...
    @property
    def dataset(self) -> str: ...
    @property
    def day(self) -> date: ...
    @property
    def file_name(self) -> str: ...


def cut_leaf(
    iso: IsoDefinition,
    dropped: "SpanLeaf",
    handle: IO[bytes],
    folder: Path,
    spool: Path,
    where: str,
) -> tuple[int, str]:
    """Cut the day's rows of the span leaf `dropped` into `folder` atomically; (bytes, sha256).

    `handle` reads the leaf: the plain file itself (opened by open_regular), or a ZIP member's
    metered stream, spooled first. `where` (the leaf and the day's context) starts every error.
    Nothing is left in `folder` when anything fails.
    """
    plain = None if dropped.chain else dropped.archive
    with contextlib.ExitStack() as stack:
        if plain is None:
            path = stack.enter_context(_spooled(handle, dropped.name, spool))
        else:
            path = plain
        with atomic_path(folder / dropped.file_name) as tmp:
            try:
                rows = iso.cut_span_day(dropped.dataset, path, dropped.day, tmp)
            except PowerAssetsError as exc:
                raise MalformedFileError(f"{where}: {_without_path(exc, path)}") from exc
            if plain is not None:
                _check_same(plain, handle)  # before the cut replaces `final`
            if not rows:
                raise MalformedFileError(
                    f"{where}: no rows of the day, though the drop index lists it; was the file "
                    "replaced?"
                )
            written = _hashed(tmp)
    return written


def _hashed(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
        os.fsync(handle.fileno())
    return size, digest.hexdigest()


# -- giving the ISO a path -----------------------------------------------------------------------


def _check_same(path: Path, handle: IO[bytes]) -> None:
    """The ISO reads `path` by name: afterwards, check it is still the file `handle` opened (not
    swapped for a link or another file meanwhile); OSError if not, so it is tried again later."""
    try:
        same = os.path.samestat(os.lstat(path), os.fstat(handle.fileno()))
    except OSError:
        same = False
    if not same:
        raise OSError(f"{path}: replaced while it was being read")


@contextlib.contextmanager
def _spooled(stream: IO[bytes], name: str, spool: Path) -> Iterator[Path]:
    """A ZIP member streamed into `{spool}/.span_spool.{pid}.{random}/{name}`, removed after use.

    `name` is a leaf base name (drop_zip.leaf_name): no folder part can lead elsewhere.
    """
    spool.mkdir(parents=True, exist_ok=True)
    sweep_stale_temporaries(spool, _SPOOL_NAME)  # folders of killed runs
    folder = temporary_dir(spool, _SPOOL_NAME)
    try:
        path = folder / name
        with open(path, "wb") as sink:
            while chunk := stream.read(_CHUNK):
                sink.write(chunk)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _without_path(exc: Exception, path: Path) -> str:
    """An ISO's message without the path it was given (a spool path means nothing to a user;
    the caller names the leaf instead)."""
    return str(exc).removeprefix(f"{path}: ")
