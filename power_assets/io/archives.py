"""Safe, recursive extraction of ISO archives.

ISOs publish reports as ZIPs, gzips and tarballs, often nested (a month of daily ZIPs inside one
ZIP, a ZIP inside a .tar.gz). Everything that unpacks such a download belongs here: detecting an
archive by its magic bytes, recursing through nested archives, refusing path traversal, links and
decompression bombs, and all-or-nothing output, so a failed extraction leaves no files behind.
Office Open XML documents (.xlsx, .docx: ZIP packages) are data files, kept whole.
"""

import contextlib
import gzip
import hashlib
import math
import os
import re
import stat
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, NoReturn, Protocol

from power_assets.errors import MalformedFileError, UnsafeArchiveError
from power_assets.io.files import atomic_path, sha256_file

_CHUNK = 1 << 20
# Enough for every magic number we check, including a whole 512-byte tar header.
_HEAD = 8192
# Below this compressed size a ratio is meaningless (a tiny file can compress to a few bytes), so
# such members are capped at max_ratio * _SMALL_INPUT bytes instead.
_SMALL_INPUT = 1024
# Nested ZIPs need random access; up to this size they stay in memory, beyond it they go to disk.
_IN_MEMORY_LIMIT = 64 * 2**20
_ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".zip", ".tar", ".gz")
_DRIVE = re.compile(r"^[A-Za-z]:")
_SEPARATORS = re.compile(r"[\\/]")
# What the decoders raise on damaged input. OSError is deliberately absent: a full disk is not a
# corrupt archive. ValueError covers zipfile seeking to a negative offset read from a bad header.
_CORRUPT = (
    zipfile.BadZipFile,
    tarfile.TarError,
    gzip.BadGzipFile,
    EOFError,
    zlib.error,
    NotImplementedError,
    ValueError,
)


@dataclass(frozen=True)
class ExtractedFile:
    """One leaf written by extract_recursively."""

    path: Path  # final path under dest_dir
    member_chain: tuple[str, ...]  # source name, then each member name down the nesting
    size: int
    sha256: str


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _Replay:
    """Bytes already read to detect the type, followed by the rest of the stream."""

    def __init__(self, head: bytes, rest: _Readable):
        self._head, self._rest = head, rest

    def read(self, size: int = -1, /) -> bytes:
        if not self._head:
            return self._rest.read(size)
        if size < 0:
            data, self._head = self._head + self._rest.read(), b""
            return data
        data, self._head = self._head[:size], self._head[size:]
        return data


class _Meter:
    """Counts bytes read and, given a limit, refuses more: header sizes can lie, this cannot."""

    def __init__(
        self,
        raw: _Readable,
        limit: Callable[[], float] = lambda: math.inf,
        exceeded: Callable[[int], NoReturn] | None = None,
    ):
        self._raw, self._limit, self._exceeded, self.count = raw, limit, exceeded, 0

    def read(self, size: int = -1, /) -> bytes:
        data = self._raw.read(size)
        self.count += len(data)
        if self._exceeded and self.count > self._limit():
            self._exceeded(self.count)
        return data


def _read_upto(stream: _Readable, size: int) -> bytes:
    parts, got = [], 0
    while got < size and (chunk := stream.read(size - got)):
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _drain(stream: _Readable) -> None:
    # Decoders verify CRCs only at end of stream; a consumer that stops early (tar stops at its
    # end-of-archive blocks) would otherwise let a corrupt tail pass unnoticed.
    while stream.read(_CHUNK):
        pass


def _is_tar(head: bytes) -> bool:
    if len(head) < tarfile.BLOCKSIZE:
        return False
    try:
        tarfile.TarInfo.frombuf(head[: tarfile.BLOCKSIZE], tarfile.ENCODING, "surrogateescape")
    except tarfile.HeaderError:
        return False
    return True


def _kind(head: bytes) -> str | None:
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if _is_tar(head):
        return "tar"
    return None


_OFFICE_SUFFIXES = (".xlsx", ".xlsm", ".docx")


def _is_office_document(name: str, infos: list[zipfile.ZipInfo]) -> bool:
    """An Office Open XML document (a workbook, a Word file): a ZIP by format, one file by
    meaning. Known by its name or by the `[Content_Types].xml` part every such package has."""
    if name.lower().endswith(_OFFICE_SUFFIXES):
        return True
    return any(info.filename == "[Content_Types].xml" for info in infos)


def is_archive(data_or_path: bytes | Path) -> bool:
    """True if the bytes (or the file's first bytes) are a ZIP, gzip or tar, whatever the name."""
    if isinstance(data_or_path, bytes | bytearray | memoryview):
        return _kind(bytes(data_or_path[:_HEAD])) is not None
    with open(data_or_path, "rb") as handle:
        return _kind(handle.read(_HEAD)) is not None


def _without_archive_suffix(parts: tuple[str, ...]) -> tuple[str, ...]:
    last = parts[-1]
    for suffix in _ARCHIVE_SUFFIXES:
        if last.lower().endswith(suffix) and len(last) > len(suffix):
            return (*parts[:-1], last[: -len(suffix)])
    return parts


def _gunzipped_name(name: str) -> str:
    lower = name.lower()
    if lower.endswith(".tgz") and len(name) > 4:
        return name[:-4] + ".tar"
    if lower.endswith(".gz") and len(name) > 3:
        return name[:-3]
    return name


@dataclass(frozen=True)
class _Node:
    """One stream in the tree: the source, an archive member, or the content of a gzip."""

    parts: tuple[str, ...]  # its path inside the enclosing archive, already checked as safe
    chain: tuple[str, ...]
    prefix: tuple[str, ...]  # output directories contributed by the enclosing archives
    depth: int  # how many archives enclose it
    size: int | None  # its byte size where known: the compressed input size if it is a gzip
    top: bool = False  # the source (or its gunzipped content): members go straight to dest_dir

    def member(self, name: str, parts: tuple[str, ...], size: int | None) -> "_Node":
        inside = self.prefix if self.top else self.prefix + _without_archive_suffix(self.parts)
        return _Node(parts, (*self.chain, name), inside, self.depth + 1, size)


class _Extraction:
    """State of one extract_recursively call: limits, counters, and what to undo on failure."""

    def __init__(self, source: Path, dest_dir: Path, limits: tuple[int, float, int, int]):
        self.source, self.dest_dir = source, dest_dir
        self.max_depth, self.max_ratio, self.max_total_bytes, self.max_members = limits
        self.total_bytes = self.members = 0
        self.claimed: dict[Path, tuple[str, ...]] = {}
        self.claimed_dirs: dict[Path, tuple[str, ...]] = {}
        self.results: list[ExtractedFile] = []
        self.written: list[Path] = []
        self.created_dirs: list[Path] = []
        self.known_dirs: set[Path] = set()

    def run(self) -> list[ExtractedFile]:
        name = (self.source.name,)
        try:
            self._mkdirs(self.dest_dir)
            with open(self.source, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                self._node(handle, _Node(name, name, (), 0, size, top=True), seekable=handle)
        except BaseException:
            self._rollback()
            raise
        return sorted(self.results, key=lambda extracted: extracted.path)

    def _where(self, chain: tuple[str, ...]) -> str:
        return f"{self.source}: member chain {' > '.join(chain)}"

    def _unsafe(self, chain: tuple[str, ...], problem: str) -> NoReturn:
        raise UnsafeArchiveError(f"{self._where(chain)}: {problem}; nothing was extracted")

    def _node(self, stream: _Readable, node: _Node, seekable: IO[bytes] | None = None) -> None:
        """Write `stream` as a leaf, or unpack it if it is an archive.

        `seekable` is the open source file, the only input a ZIP can be read from in place.
        """
        kind = None
        try:
            head = _read_upto(stream, _HEAD)
            kind = _kind(head)
            data = _Replay(head, stream)
            if kind is not None and node.depth + 1 > self.max_depth:
                self._unsafe(node.chain, f"archives nested deeper than max_depth={self.max_depth}")
            if kind is None:
                self._leaf(data, node)
            elif kind == "zip":
                self._zip(data, node, seekable)
            elif kind == "tar":
                self._tar(data, node)
            else:
                self._gzip(data, node)
            if seekable is None:
                _drain(data)
        except _CORRUPT as exc:
            what = f"{kind} archive" if kind else "member data"
            raise MalformedFileError(f"{self._where(node.chain)}: corrupt {what}: {exc}") from exc

    def _zip(self, stream: _Readable, node: _Node, seekable: IO[bytes] | None) -> None:
        with contextlib.ExitStack() as stack:
            if seekable is None:
                # Spooled inside dest_dir so a large nested archive stays on the target volume.
                spool = stack.enter_context(
                    tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY_LIMIT, dir=self.dest_dir)
                )
                while chunk := stream.read(_CHUNK):
                    self._account(len(chunk), node.chain)
                    spool.write(chunk)
                seekable = spool  # type: ignore[assignment]
            seekable.seek(0)
            archive = stack.enter_context(zipfile.ZipFile(seekable))
            infos = archive.infolist()
            if _is_office_document(node.parts[-1], infos):
                # An .xlsx/.docx is a ZIP only as a container: its parsers read it whole.
                seekable.seek(0)
                self._leaf(seekable, node)
                return
            self._count_members(len(infos), node.chain)
            for info in infos:
                self._zip_member(archive, info, node)

    def _zip_member(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, node: _Node) -> None:
        chain = (*node.chain, info.filename)
        parts = self._member_parts(info.filename, chain)
        if info.is_dir() or info.filename.endswith("\\"):
            return
        if stat.S_ISLNK(info.external_attr >> 16):
            self._unsafe(chain, "symbolic link")
        if info.flag_bits & 0x1:
            raise MalformedFileError(f"{self._where(chain)}: encrypted member")
        cap = self.max_ratio * max(info.compress_size, _SMALL_INPUT)
        if info.file_size > cap:
            self._unsafe(
                chain,
                f"declares {info.file_size} bytes from {info.compress_size} compressed, "
                f"beyond the expansion ratio limit {self.max_ratio}",
            )

        def exceeded(count: int) -> NoReturn:
            self._unsafe(chain, f"expands to over {count} bytes, beyond ratio {self.max_ratio}")

        with archive.open(info) as member:
            capped = _Meter(member, lambda: cap, exceeded)
            self._node(capped, node.member(info.filename, parts, info.file_size))

    def _tar(self, stream: _Readable, node: _Node) -> None:
        # Stream mode ("r|") reads sequentially, so a .tar.gz is never decompressed to disk
        # first; the gzip cap beneath it bounds the expansion.
        with tarfile.open(fileobj=stream, mode="r|") as archive:  # type: ignore[call-overload]
            for member in archive:
                self._count_members(1, node.chain)
                chain = (*node.chain, member.name)
                parts = self._member_parts(member.name, chain)
                if member.isdir():
                    continue
                if member.issym() or member.islnk():
                    kind = "symbolic" if member.issym() else "hard"
                    self._unsafe(chain, f"{kind} link to {member.linkname!r}")
                if not member.isreg():
                    self._unsafe(chain, "device, fifo or other special file")
                reader = archive.extractfile(member)
                assert reader is not None  # regular members always have a reader
                self._node(reader, node.member(member.name, parts, member.size))

    def _gzip(self, stream: _Readable, node: _Node) -> None:
        compressed = _Meter(stream)

        def limit() -> float:
            # Only a gzip inside a gzip has no known size; then judge by what was consumed.
            size = compressed.count if node.size is None else node.size
            return self.max_ratio * max(size, _SMALL_INPUT)

        def exceeded(count: int) -> NoReturn:
            self._unsafe(
                node.chain,
                f"gzip expands to over {count} bytes from {node.size or compressed.count} "
                f"compressed, beyond the expansion ratio limit {self.max_ratio}",
            )

        with gzip.GzipFile(fileobj=compressed, mode="rb") as raw:  # type: ignore[arg-type]
            out = _Meter(raw, limit, exceeded)
            head = _read_upto(out, _HEAD)
            if _is_tar(head):
                self._tar(_Replay(head, out), node)
            else:
                # A lone gzipped file stands in for the .gz itself and keeps its place.
                self._count_members(1, node.chain)
                name = _gunzipped_name(node.parts[-1])
                parts, chain = (*node.parts[:-1], name), (*node.chain, name)
                inner = replace(node, parts=parts, chain=chain, depth=node.depth + 1, size=None)
                self._node(_Replay(head, out), inner)
            _drain(out)

    def _member_parts(self, name: str, chain: tuple[str, ...]) -> tuple[str, ...]:
        if "\x00" in name:
            self._unsafe(chain, "NUL byte in member name")
        if name.startswith(("/", "\\")):
            self._unsafe(chain, "absolute member name")
        segments = _SEPARATORS.split(name)
        if any(_DRIVE.match(segment) for segment in segments):
            self._unsafe(chain, "Windows drive in member name")
        if ".." in segments:
            self._unsafe(chain, "'..' path traversal in member name")
        parts = tuple(segment for segment in segments if segment not in ("", "."))
        if not parts and not name.endswith(("/", "\\")):
            self._unsafe(chain, "empty member name")
        return parts

    def _count_members(self, count: int, chain: tuple[str, ...]) -> None:
        self.members += count
        if self.members > self.max_members:
            self._unsafe(chain, f"more than max_members={self.max_members} members")

    def _account(self, count: int, chain: tuple[str, ...]) -> None:
        self.total_bytes += count
        if self.total_bytes > self.max_total_bytes:
            self._unsafe(chain, f"more than max_total_bytes={self.max_total_bytes} extracted")

    def _claim(self, final: Path, chain: tuple[str, ...]) -> None:
        def collision(other: tuple[str, ...]) -> NoReturn:
            raise MalformedFileError(
                f"{self.source}: member chains {' > '.join(other)} and {' > '.join(chain)} "
                f"both extract to {final.relative_to(self.dest_dir)}"
            )

        if final in self.claimed:
            collision(self.claimed[final])
        if final in self.claimed_dirs:
            collision(self.claimed_dirs[final])
        for parent in final.relative_to(self.dest_dir).parents:
            if (directory := self.dest_dir / parent) in self.claimed:
                collision(self.claimed[directory])
            self.claimed_dirs.setdefault(directory, chain)
        if final.name == self.source.name and final.resolve() == self.source.resolve():
            raise MalformedFileError(f"{self._where(chain)}: would overwrite the source archive")
        self.claimed[final] = chain

    def _mkdirs(self, directory: Path) -> None:
        if directory in self.known_dirs:
            return
        missing, probe = [], directory
        while not probe.exists():
            missing.append(probe)
            probe = probe.parent
        directory.mkdir(parents=True, exist_ok=True)
        self.created_dirs.extend(reversed(missing))
        self.known_dirs.add(directory)

    def _leaf(self, stream: _Readable, node: _Node) -> None:
        final = self.dest_dir.joinpath(*node.prefix, *node.parts)
        self._claim(final, node.chain)
        self._mkdirs(final.parent)
        digest, size = hashlib.sha256(), 0
        with atomic_path(final) as tmp, open(tmp, "wb") as out:
            while chunk := stream.read(_CHUNK):
                self._account(len(chunk), node.chain)
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        self.written.append(final)
        self.results.append(ExtractedFile(final, node.chain, size, digest.hexdigest()))

    def _rollback(self) -> None:
        for path in reversed(self.written):
            path.unlink(missing_ok=True)
        for directory in reversed(self.created_dirs):
            with contextlib.suppress(OSError):  # not empty: files that were there before
                directory.rmdir()


def extract_recursively(
    source: Path,
    dest_dir: Path,
    *,
    max_depth: int = 6,
    max_ratio: float = 200.0,
    max_total_bytes: int = 50 * 2**30,
    max_members: int = 500_000,
) -> list[ExtractedFile]:
    """Unpack `source` and every archive nested in it under `dest_dir`; return leaves by path.

    A leaf from the top-level archive lands at its member path; one from a nested archive lands
    under that archive's member path minus its archive suffix (outer.zip > 2024/day1.zip > a.csv
    gives dest_dir/2024/day1/a.csv). A single gzipped file takes the place of its .gz name. A
    source that is not an archive is copied to dest_dir/<source.name>.

    Raises UnsafeArchiveError for traversal, links, special files or exceeding a limit, and
    MalformedFileError for corrupt data or two members extracting to one path. On any error every
    file this call wrote is removed again (earlier outputs it had already rewritten included) and
    so is every directory it created, if empty. max_total_bytes counts leaf bytes plus nested
    ZIPs buffered for random access.
    """
    source, dest_dir = Path(source), Path(dest_dir)
    if not is_archive(source):
        target = dest_dir / source.name
        if target.exists() and target.samefile(source):
            size = source.stat().st_size
            return [ExtractedFile(target, (source.name,), size, sha256_file(source))]
    limits = (max_depth, max_ratio, max_total_bytes, max_members)
    return _Extraction(source, dest_dir, limits).run()
