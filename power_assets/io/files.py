"""Atomic file writes, the temporaries they leave behind, and content hashes.

Every file a stage produces goes through here: written to a temporary sibling, flushed, then renamed,
so a crash never leaves a partial file at a final path and re-runs overwrite whole files.

Every temporary carries its writer's pid (`.{name}.{pid}.…`), so that a process killed mid-write
(SIGKILL runs no cleanup) leaves something the next writer of the same name can recognise as
abandoned: `sweep_stale_temporaries` removes those whose pid no longer runs, and never touches a
live process's. Pids are only meaningful on one host: writers sharing a data folder across hosts or
containers with separate pid namespaces would see each other's temporaries as abandoned.
"""

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

# The shapes a temporary for final name N takes (tempfile's random part is 8 of [a-z0-9_]):
#   .N.{pid}.{random}.part           a file being written by atomic_path
#   .N.{pid}.{random}                a staging directory (temporary_dir)
#   .N.{pid}.{label}.{random}        a labelled staging directory (temporary_dir with a label)
#   .N.{pid}.old                     a retired directory about to be deleted (retired_path)
_TEMPORARY_TAIL = re.compile(r"(\d+)\.(?:(?:[a-z]+\.)?[a-z0-9_]{8}(?:\.part)?|old)")


def _temporary_prefix(name: str) -> str:
    return f".{name}.{os.getpid()}."


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host (signal 0 checks without sending)."""
    if pid <= 0:
        return False  # 0 and negatives address process groups, never one writer
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by another user
    return True


def sweep_stale_temporaries(folder: Path, name: str) -> list[Path]:
    """Remove the temporaries for final name `name` in `folder` whose writer process is gone.

    Only names of the shapes this module creates are considered; a live pid's (this process's
    included) are left alone, as are files that merely look similar. Returns what was removed.
    """
    prefix = f".{name}."
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        match = _TEMPORARY_TAIL.fullmatch(entry.name, len(prefix))
        if match is None or pid_alive(int(match.group(1))):
            continue
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def current_umask() -> int:
    """The process's umask, read without changing it (os.umask can only set it, and setting it
    to read it would race with other threads creating files)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    with _UMASK_LOCK:  # no /proc (not Linux): set and restore, at least serialized here
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


_UMASK_LOCK = threading.Lock()


def _as_umask_allows(path: Path, mode: int) -> None:
    """Give a temporary the permissions a plain open() or mkdir() would have: tempfile makes them
    owner-only, which would hide a shared data folder's files from its team."""
    os.chmod(path, mode & ~current_umask())


def temporary_dir(parent: Path, name: str, label: str = "") -> Path:
    """A new directory in `parent` for building what will become `parent / name`."""
    if label and not label.isalpha():
        raise ValueError(f"temporary_dir label must be letters only, not {label!r}")
    prefix = _temporary_prefix(name) + (f"{label.lower()}." if label else "")
    staging = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    _as_umask_allows(staging, 0o777)
    return staging


def retired_path(final: Path) -> Path:
    """Where this process moves the old `final` directory before deleting it."""
    return final.with_name(f"{_temporary_prefix(final.name)}old")


@contextlib.contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temporary path beside `final`; rename it onto `final` only if the block succeeds.

    Temporaries of `final` abandoned by killed writers are swept first.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_temporaries(final.parent, final.name)
    fd, tmp_name = tempfile.mkstemp(
        prefix=_temporary_prefix(final.name), suffix=".part", dir=final.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        _as_umask_allows(tmp, 0o666)
        yield tmp
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(final: Path, data: bytes) -> None:
    with atomic_path(final) as tmp, open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def atomic_write_json(final: Path, payload: Any) -> None:
    atomic_write_bytes(final, json.dumps(payload, indent=2, sort_keys=True, default=str).encode())


def atomic_write_parquet(final: Path, frame: pl.DataFrame | pl.LazyFrame) -> None:
    """Write parquet atomically; a LazyFrame is streamed to disk without collecting it whole."""
    with atomic_path(final) as tmp:
        if isinstance(frame, pl.LazyFrame):
            frame.sink_parquet(tmp, compression="zstd", statistics=True)
        else:
            frame.write_parquet(tmp, compression="zstd", statistics=True)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
