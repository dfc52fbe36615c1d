"""Reading users' dropped ZIPs within limits: member names for the index, one day's leaves to copy.

A dropped archive is the user's own file but not necessarily a sane one: a 1 MB ZIP can hold a
1 GiB CSV of zeros, and a ZIP's headers can lie about sizes. Every byte decompressed here is
counted as it streams, against `DropLimits`; declared sizes only ever refuse early, never allow.
Nested ZIPs need random access, so each is spooled to a temporary file (only a few MiB stay in
memory) rather than read whole into memory. Indexing lists member names and never decompresses a
leaf: only nested archives are decompressed, to read their directories.

What belongs here: the limits and their settings, ZIP directory checks, metered member streams.
Walking drop folders and the index live in stages/drop.py.
"""

import contextlib
import os
import stat
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import IO, Any, NoReturn, TypeVar

from power_assets.errors import MalformedFileError, UnsafeArchiveError

# ZIPs opened along one chain, the outer file included: yearly > daily > document ZIP > CSV is 3.
MAX_ZIP_DEPTH = 4
_CHUNK = 1 << 20
# A nested ZIP beyond this many bytes moves from memory to a temporary file on disk.
_SPOOL_IN_MEMORY = 4 * 2**20
# Below this compressed size a ratio is meaningless (a tiny file compresses to a few bytes), so
# such members may expand to max_ratio * _SMALL_INPUT bytes.
_SMALL_INPUT = 1024
# What zipfile raises on damaged input (ValueError: a bad header's negative seek; NotImplementedError:
# an unknown compression method; struct.error: a short record). OSError is left out: a failing
# disk is not a corrupt archive.
CORRUPT = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError, struct.error)
_SHOWN_CHARS = 120

# ZIP end-of-directory records, as zipfile reads them (APPNOTE 4.3.14-4.3.16).
_END = struct.Struct("<4s4H2LH")
_END64_LOCATOR = struct.Struct("<4sLQL")
_END64 = struct.Struct("<4sQ2H2L4Q")
_ENTRY_FIXED = 46  # a central directory entry before its name, extra field and comment
_MAX_COMMENT = 0xFFFF

T = TypeVar("T")


@dataclass(frozen=True)
class DropLimits:
    """How far one dropped archive may expand while it is read; each field has its own setting.

    The defaults are the download path's ratio and looser sizes (users keep years in one archive).
    A pass is indexing one archive, or copying one market day's files out of it.
    """

    max_member_bytes: int = 8 * 2**30  # one member (a leaf or a nested ZIP), decompressed
    max_ratio: float = 200.0  # one member's decompressed bytes per compressed byte
    max_total_bytes: int = 64 * 2**30  # all bytes decompressed from one archive in one pass
    max_members: int = 1_000_000  # directory entries of one archive, its nested ZIPs included

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "DropLimits":
        """The defaults, each overridden by its variable (e.g. POWER_ASSETS_DROP_MAX_RATIO)."""
        values: dict[str, Any] = {}
        for field in fields(cls):
            raw = environ.get(limit_env_var(field.name), "").strip()
            if not raw:
                continue
            convert = float if field.name == "max_ratio" else int
            try:
                value = convert(raw.replace("_", ""))
            except ValueError:
                value = 0
            if not value > 0:
                raise ValueError(
                    f"{limit_env_var(field.name)}={raw[:_SHOWN_CHARS]!r}: not a positive "
                    f"{'number' if convert is float else 'whole number'}"
                )
            values[field.name] = value
        return cls(**values)

    def setting(self, name: str) -> str:
        """A limit as messages name it: `max_ratio=200.0 (POWER_ASSETS_DROP_MAX_RATIO)`."""
        return f"{name}={getattr(self, name)} ({limit_env_var(name)})"

    def as_list(self) -> list[float]:
        return list(astuple(self))


def limit_env_var(name: str) -> str:
    """The variable overriding one DropLimits field, e.g. POWER_ASSETS_DROP_MAX_MEMBER_BYTES."""
    return f"POWER_ASSETS_DROP_{name.upper()}"


def shown(text: str, limit: int = _SHOWN_CHARS) -> str:
    """Input as messages quote it: as is if short and printable, else escaped and cut short."""
    if len(text) <= limit and text.isprintable():
        return text
    return repr(text[:limit]) + ("..." if len(text) > limit else "")


def is_zip(name: str) -> bool:
    return name.lower().endswith(".zip")


def leaf_name(member: str) -> str | None:
    """A member's base name, the only part used on disk; None for folders and odd names."""
    name = member.replace("\\", "/").rsplit("/", 1)[-1]
    return None if name in ("", ".", "..") else name


def open_regular(path: Path) -> IO[bytes]:
    """Open a dropped file for reading, refusing a link swapped in after the walk checked the
    path (O_NOFOLLOW) and anything but a regular file (O_NONBLOCK: a FIFO must not hang us)."""
    extra = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    handle = open(path, "rb", opener=lambda name, flags: os.open(name, flags | extra))  # noqa: SIM115
    if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
        handle.close()
        raise MalformedFileError(f"{path}: not a regular file")
    return handle


class _Meter:
    """A member's decompressed stream that counts what it yields and refuses past its caps."""

    def __init__(
        self, raw: IO[bytes], cap: Callable[[int], None], corrupt: Callable[[Any], NoReturn]
    ):
        self._raw, self._cap, self._corrupt = raw, cap, corrupt

    def read(self, size: int = -1, /) -> bytes:
        if size < 0:  # everything: still taken chunk by chunk, so the caps apply as it grows
            return b"".join(iter(lambda: self.read(_CHUNK), b""))
        try:
            data = self._raw.read(size)
        except CORRUPT as exc:
            self._corrupt(exc)
        self._cap(len(data))
        return data

    def close(self) -> None:
        self._raw.close()


class DroppedZip:
    """One pass over one dropped ZIP and the ZIPs nested in it, within `limits`.

    `context` (ISO, dataset, market day) is said in every error; `spool_dir` takes nested
    archives too large to keep in memory, as temporary files without a name (tempfile's
    TemporaryFile) that vanish when closed, even if the process is killed.
    """

    def __init__(self, path: Path, limits: DropLimits, spool_dir: Path, context: str = ""):
        self.path, self.limits, self.spool_dir = path, limits, spool_dir
        self.context = f"{context}: " if context else ""
        self.total_bytes = self.members = 0

    # -- what a pass does ----------------------------------------------------------------------

    def index(
        self, handle: IO[bytes], recognized: Callable[[str], bool]
    ) -> tuple[list[list[Any]], list[str]]:
        """([chain, leaf name, declared size] of each recognized leaf, problems).

        A nested ZIP that is corrupt or over a per-member limit is a problem: its leaves are left
        out and the rest are listed. Errors of the whole archive (unreadable, a pass limit) raise.
        """
        leaves: list[list[Any]] = []
        problems: list[str] = []
        size = os.fstat(handle.fileno()).st_size
        try:
            with self._zip(handle, ()) as archive:
                self._index_zip(archive, (), size, recognized, leaves, problems)
        except _PassLimitError as exc:
            raise UnsafeArchiveError(f"{exc}; none of {self.path.name} is used") from exc
        return leaves, problems

    def open_leaves(
        self, handle: IO[bytes], by_chain: Mapping[tuple[str, ...], T]
    ) -> Iterator[tuple[T, IO[bytes]]]:
        """(item, metered stream) of each wanted leaf; each nested ZIP is spooled once."""
        size = os.fstat(handle.fileno()).st_size
        with self._zip(handle, ()) as archive:
            yield from self._leaves(archive, size, (), by_chain)

    # -- walking the tree ------------------------------------------------------------------------

    def _index_zip(
        self,
        archive: zipfile.ZipFile,
        chain: tuple[str, ...],
        size: int,
        recognized: Callable[[str], bool],
        leaves: list[list[Any]],
        problems: list[str],
    ) -> None:
        for info in archive.infolist():
            name = leaf_name(info.filename)
            if name is None:
                continue
            member = (*chain, info.filename)
            if is_zip(name) and len(member) < MAX_ZIP_DEPTH:
                try:
                    with self._nested(archive, info, member, size) as (inner, inner_size):
                        self._index_zip(inner, member, inner_size, recognized, leaves, problems)
                except _PassLimitError:
                    raise
                except (MalformedFileError, UnsafeArchiveError) as exc:
                    problems.append(str(exc))
            elif recognized(name):
                leaves.append([list(member), name, info.file_size])

    def _leaves(
        self,
        archive: zipfile.ZipFile,
        size: int,
        chain: tuple[str, ...],
        by_chain: Mapping[tuple[str, ...], T],
    ) -> Iterator[tuple[T, IO[bytes]]]:
        # Group the wanted chains by their member at this level: one spool per nested archive.
        groups: dict[str, dict[tuple[str, ...], T]] = {}
        for full, item in by_chain.items():
            groups.setdefault(full[len(chain)], {})[full] = item
        for member, chains in groups.items():
            here = (*chain, member)
            try:
                info = archive.getinfo(member)
            except KeyError:
                raise MalformedFileError(
                    f"{self._where(here)}: {self.context}member missing although indexed; "
                    "was the archive replaced?"
                ) from None
            if here in chains:
                with contextlib.closing(self._member(archive, info, here, size)) as stream:
                    yield chains[here], stream
                continue
            with self._nested(archive, info, here, size) as (inner, inner_size):
                yield from self._leaves(inner, inner_size, here, chains)

    # -- opening ---------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _zip(self, handle: IO[bytes], chain: tuple[str, ...]) -> Iterator[zipfile.ZipFile]:
        where = self._where(chain)
        try:
            self._check_directory(handle, chain)
            archive = zipfile.ZipFile(handle)
        except CORRUPT as exc:
            raise MalformedFileError(
                f"{where}: {self.context}not a readable ZIP: {shown(str(exc))}"
            ) from exc
        with archive:
            self._count_members(len(archive.infolist()), chain)
            yield archive

    @contextlib.contextmanager
    def _nested(
        self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, chain: tuple[str, ...], size: int
    ) -> Iterator[tuple[zipfile.ZipFile, int]]:
        """A nested ZIP, decompressed within the limits into a spool, opened."""
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY, dir=self.spool_dir) as spool:
            with contextlib.closing(self._member(archive, info, chain, size)) as stream:
                while chunk := stream.read(_CHUNK):
                    spool.write(chunk)
            spooled = spool.tell()
            with self._zip(spool, chain) as inner:  # type: ignore[arg-type]
                yield inner, spooled

    def _member(
        self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, chain: tuple[str, ...], size: int
    ) -> _Meter:
        """A member's stream, capped by ratio and size, counted against the pass's total."""
        where = f"{self._where(chain)}: {self.context}"
        if info.flag_bits & 0x1:
            raise MalformedFileError(f"{where}encrypted member; it cannot be read")
        # The compressed size comes from the header too: no more than the container holds.
        compressed = min(info.compress_size, size)
        by_ratio = self.limits.max_ratio * max(compressed, _SMALL_INPUT)
        # The tighter of the two caps applies, and is the one a refusal names.
        cap, limit = min(
            (by_ratio, "max_ratio"), (self.limits.max_member_bytes, "max_member_bytes")
        )

        def refuse(count: int, verb: str) -> NoReturn:
            reason = (
                f"from {compressed} compressed, beyond the expansion ratio limit"
                if limit == "max_ratio"
                else "beyond the member size limit"
            )
            raise UnsafeArchiveError(
                f"{where}{verb} {count} bytes {reason} {self.limits.setting(limit)}"
            )

        if info.file_size > cap:
            refuse(info.file_size, "declares")
        count = 0

        def account(read: int) -> None:
            nonlocal count
            count += read
            if count > cap:
                refuse(count, "expands to over")
            self.total_bytes += read
            if self.total_bytes > self.limits.max_total_bytes:
                raise _PassLimitError(
                    f"{where}over {self.limits.max_total_bytes} bytes decompressed from this "
                    f"archive, beyond the limit {self.limits.setting('max_total_bytes')}"
                )

        def corrupt(exc: Any) -> NoReturn:
            raise MalformedFileError(f"{where}unreadable member data: {shown(str(exc))}") from exc

        try:
            raw = archive.open(info)
        except CORRUPT as exc:
            corrupt(exc)
        return _Meter(raw, account, corrupt)

    # -- directory checks ------------------------------------------------------------------------

    def _count_members(self, count: int, chain: tuple[str, ...]) -> None:
        self.members += count
        if self.members > self.limits.max_members:
            raise _PassLimitError(
                f"{self._where(chain)}: {self.context}more than {self.limits.max_members} "
                f"directory entries in this archive, beyond the limit "
                f"{self.limits.setting('max_members')}"
            )

    def _check_directory(self, handle: IO[bytes], chain: tuple[str, ...]) -> None:
        """Refuse a ZIP with too many entries before zipfile parses them all into memory.

        The entries are counted in the central directory itself, as zipfile will read it: the
        count in the end record is not trusted (zipfile reads every entry the directory holds).
        """
        found = _directory(handle)
        if found is None:
            return  # no end record: zipfile says what is wrong
        start, size = found
        allowed = self.limits.max_members - self.members
        handle.seek(start)
        consumed = count = 0
        while consumed < size and count <= allowed:
            fixed = handle.read(_ENTRY_FIXED)
            if len(fixed) != _ENTRY_FIXED or fixed[:4] != b"PK\x01\x02":
                return  # damaged: zipfile says what is wrong
            variable = sum(struct.unpack_from("<3H", fixed, 28))  # name, extra, comment
            handle.seek(variable, os.SEEK_CUR)
            consumed += _ENTRY_FIXED + variable
            count += 1
        if count > allowed:
            self._count_members(count, chain)

    def _where(self, chain: tuple[str, ...]) -> str:
        return f"{self.path}" + "".join(f"!{shown(member)}" for member in chain)


class _PassLimitError(UnsafeArchiveError):
    """A limit of the whole pass (total bytes, members): the rest of the archive is not read."""


def _directory(handle: IO[bytes]) -> tuple[int, int] | None:
    """(offset, size) of the central directory as zipfile locates it, or None if it cannot."""
    handle.seek(0, os.SEEK_END)
    end = handle.tell()
    if end < _END.size:
        return None
    margin = _END64_LOCATOR.size + _END64.size
    tail_start = max(0, end - _MAX_COMMENT - 1 - _END.size - margin)
    handle.seek(tail_start)
    tail = handle.read()
    search_from = max(0, end - _MAX_COMMENT - 1 - _END.size) - tail_start
    last = len(tail) - _END.size
    # Without a comment the end record closes the file; otherwise the last signature counts.
    if tail[last : last + 4] == b"PK\x05\x06" and tail[-2:] == b"\0\0":
        at = last
    else:
        at = tail.rfind(b"PK\x05\x06", search_from)
        if at < 0 or at > last:
            return None
    size = _END.unpack_from(tail, at)[5]
    location = tail_start + at
    locator, record = at - _END64_LOCATOR.size, at - margin
    # zipfile uses the ZIP64 record only when both it and its locator are in place.
    zip64 = locator >= 0 and tail[locator : locator + 4] == b"PK\x06\x07"
    if zip64 and record >= 0 and tail[record : record + 4] == b"PK\x06\x06":
        size = _END64.unpack_from(tail, record)[8]
        location -= margin
    return (location - size, size) if location - size >= 0 else None
