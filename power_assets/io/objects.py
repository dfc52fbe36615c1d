"""Stage files on S3-compatible object storage: the bucket is the record, each worker works on a
local copy of what one partition's step reads and writes.

With `POWER_ASSETS_DATA_DIR=s3://bucket/prefix` every stage keeps reading and writing plain local
files (the parsers, the ZIP handling and polars' writers stay what they are), under a working
folder on the worker (`POWER_ASSETS_WORK_DIR`, see `settings.work_dir`). Around each (asset,
partition) the runner asks this module to

- `pull` the units the step reads and the ones it writes: the local copy is made equal to the
  bucket (objects that differ are downloaded, local files the bucket does not hold are removed, so
  nothing stale from an earlier run on this host is read);
- `push` the units it wrote once its work is done: the bucket is made equal to the local copy.

A unit is one partition's file (`CAISO/raw_parquet/lmp_da/2024-11-03.parquet`) or folder
(`CAISO/raw_downloads/lmp_da/2024-11-03/`), as `Layout` names it; its key in the bucket is its path
under the working folder. Each object is written by one PUT, which S3 makes visible whole or not at
all, so the local temp-and-rename becomes write-once: a reader never sees part of an object, and a
worker killed mid-push leaves whole objects of the old or the new result, which the next run of the
step replaces. A folder's bookkeeping files (`manifest.json`, `metadata.json`) go last, and an old
one is removed before the folder's other objects change, so a folder that has them is complete. Objects equal to the local file (same MD5 as the object's ETag) are not
sent again, which keeps a worker that runs consecutive stages of a day from re-reading its own work.

Only the object store itself belongs here: listing, comparing, copying and deleting objects, and
the readers' view of the bucket (polars storage options, DuckDB's filesystem).
"""

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from power_assets.errors import PowerAssetsError
from power_assets.settings import OBJECT_STORE_SCHEMES

# Written last in a folder: their presence says the folder's other files are there.
_LAST = ("manifest.json", "metadata.json")
_HASH_CHUNK = 1 << 20


class ObjectStoreError(PowerAssetsError):
    """The object store refused or failed an operation; names the object and the cause."""


def endpoint_url() -> str | None:
    """The S3 endpoint for a non-AWS server (MinIO, SeaweedFS, moto, R2...): the standard
    `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`; None means AWS itself. Credentials come from the
    usual AWS variables or profiles and are never read or logged here."""
    return os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None


def polars_storage_options() -> dict[str, str]:
    """What `pl.scan_parquet("s3://...", storage_options=...)` needs beyond the AWS variables
    polars reads itself: the endpoint, and leave to speak plain HTTP to one on loopback."""
    url = endpoint_url()
    if not url:
        return {}
    options = {"aws_endpoint_url": url}
    if url.startswith("http://"):
        options["aws_allow_http"] = "true"
    return options


def s3_filesystem() -> Any:
    """An fsspec S3 filesystem that lists afresh every time (another host may have just written)."""
    import s3fs  # only here: a local data folder needs none of it

    url = endpoint_url()
    return s3fs.S3FileSystem(
        use_listings_cache=False,
        skip_instance_cache=True,
        client_kwargs={"endpoint_url": url} if url else {},
    )


def register_with_duckdb(con: Any) -> None:
    """Let a DuckDB connection read `s3://` paths through fsspec (`read_parquet('s3://b/p/*/...')`);
    DuckDB's own httpfs extension is not used, as it must be downloaded at run time."""
    con.register_filesystem(s3_filesystem())


def md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class ObjectMirror:
    """The bucket prefix `url` mirrored, unit by unit, into the local folder `root`."""

    url: str
    root: Path
    _fs: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in OBJECT_STORE_SCHEMES or not parts.netloc:
            raise ObjectStoreError(f"{self.url!r} is not an object store URL (s3://bucket/prefix)")
        self.root = Path(self.root)

    @cached_property
    def fs(self) -> Any:
        return self._fs if self._fs is not None else s3_filesystem()

    @cached_property
    def _base(self) -> str:
        """`bucket/prefix` as fsspec names it (no scheme, no trailing slash)."""
        parts = urlsplit(self.url)
        return f"{parts.netloc}/{parts.path.strip('/')}".rstrip("/")

    def key(self, path: Path) -> str:
        """The object key of a local path under `root`."""
        try:
            relative = Path(path).relative_to(self.root)
        except ValueError:
            raise ObjectStoreError(f"{path} is outside the working folder {self.root}") from None
        return f"{self._base}/{relative.as_posix()}"

    def url_of(self, path: Path) -> str:
        return f"s3://{self.key(path)}"

    def _remote(self, path: Path) -> dict[str, dict[str, Any]]:
        """The objects of a unit: {local path: listing entry}; {} when there are none."""
        key = self.key(path)
        try:
            found = self.fs.find(key, detail=True)
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise ObjectStoreError(f"listing {self.url_of(path)} failed: {exc}") from exc
        return {self.root / name[len(self._base) + 1 :]: info for name, info in found.items()}

    def exists(self, path: Path) -> bool:
        """Whether the bucket holds this file (or any object of this folder)."""
        return bool(self._remote(path))

    def pull(self, units: Iterable[Path]) -> int:
        """Make each local unit equal to the bucket's; returns the bytes downloaded."""
        received = 0
        for unit in _distinct(units):
            remote = self._remote(unit)
            for local, info in sorted(remote.items()):
                if _same(local, info):
                    continue
                received += self._download(local)
            _remove_local_extras(unit, set(remote))
        return received

    def push(self, units: Iterable[Path], *, delete: bool = True) -> int:
        """Make the bucket's copy of each unit equal to the local one; returns the bytes sent.

        Single files go before folders (a day's manifest names the shared archives it used). In a
        folder whose bookkeeping changes, the old bookkeeping object is removed first and the new
        one written last, so a push cut short leaves a folder without bookkeeping (incomplete,
        refused downstream), never old bookkeeping beside new files. `delete=False` only adds:
        what a failed step had already written whole (kept responses) is saved for its re-run,
        without bookkeeping.
        """
        sent = 0
        for unit in sorted(_distinct(units), key=lambda u: (u.is_dir(), str(u))):
            remote = self._remote(unit)
            local = _local_files(unit)
            changed = sorted(
                (path for path in local if not (path in remote and _same(path, remote[path]))),
                key=lambda p: (p.name in _LAST, str(p)),
            )
            if not delete:
                changed = [path for path in changed if path.name not in _LAST]
            self._remove([path for path in changed if path.name in _LAST and path in remote])
            for path in changed:
                sent += self._upload(path)
            if delete:
                self._remove([path for path in remote if path not in local])
        return sent

    def _remove(self, paths: list[Path]) -> None:
        if not paths:
            return
        try:
            self.fs.rm([self.key(path) for path in paths])
        except OSError as exc:
            raise ObjectStoreError(f"removing {len(paths)} object(s) failed: {exc}") from exc

    def _download(self, local: Path) -> int:
        local.parent.mkdir(parents=True, exist_ok=True)
        # into a temporary sibling, then renamed: another process on this host never reads half
        handle, temporary = tempfile.mkstemp(dir=local.parent, prefix=f".{local.name}.pull.")
        os.close(handle)
        try:
            self.fs.get_file(self.key(local), temporary)
            os.replace(temporary, local)
        except OSError as exc:
            raise ObjectStoreError(f"downloading {self.url_of(local)} failed: {exc}") from exc
        finally:
            Path(temporary).unlink(missing_ok=True)
        return local.stat().st_size

    def _upload(self, local: Path) -> int:
        try:
            self.fs.put_file(str(local), self.key(local))
        except OSError as exc:
            raise ObjectStoreError(f"uploading {self.url_of(local)} failed: {exc}") from exc
        return local.stat().st_size


def _distinct(units: Iterable[Path]) -> list[Path]:
    return sorted({Path(unit) for unit in units}, key=str)


def _local_files(unit: Path) -> set[Path]:
    """The files of a unit on disk, without temporaries (names starting with '.')."""
    if unit.is_file():
        return {unit}
    if not unit.is_dir():
        return set()
    return {
        path
        for path in unit.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(unit).parts)
    }


def _remove_local_extras(unit: Path, keep: set[Path]) -> None:
    for path in _local_files(unit) - keep:
        path.unlink(missing_ok=True)
    if unit.is_dir() and not keep:
        shutil.rmtree(unit, ignore_errors=True)


def _same(local: Path, info: dict[str, Any]) -> bool:
    """Whether a local file equals an object: same size and, for a single-PUT object whose ETag is
    its MD5, same MD5 (a multipart ETag is not an MD5: such objects are always copied again)."""
    if not local.is_file() or local.stat().st_size != info.get("size"):
        return False
    etag = str(info.get("ETag") or info.get("etag") or "").strip('"')
    return bool(etag) and "-" not in etag and etag == md5_of(local)
