"""The lock protocol around the DuckDB file, shared by writers (`store.warehouse.writer`) and
readers (`store.reader.reader`, exported as `power_assets.open_warehouse`).

DuckDB lets one process open a file read-write, or any number of processes open it read-only, but
never both at once: whoever comes second fails at once ("Conflicting lock is held"). So power_assets
processes first take an flock on `<database>.lock`, writers exclusively and readers shared, and keep
it until their connection is closed: a reader waits for the current write transaction instead of
failing, and a writer waits for open readers.

Linux grants a new shared flock even while an exclusive request waits, so a stream of readers could
starve a writer. A second lock, the gate (`<database>.lock.gate`), gives writers precedence:
everyone passes the gate to ask for the main lock, and a writer keeps the gate while it waits, so
readers arriving after it queue behind it.

Whoever holds the main lock leaves a line in `<database>.lock.holders` (pid, role, what it does,
since when) so that a waiter can say what it waits for. The notes only explain: whether to wait is
decided by the flock, which the kernel releases when a process dies, and notes of dead processes
are ignored and pruned.

Processes outside the protocol (the DuckDB CLI, a notebook's `duckdb.connect`) still hold DuckDB's
own lock on the database; a conflict with them is retried with a short backoff within the same
bound. Every wait of one open shares one bound; past it, `WarehouseBusyError` says what was
waiting, for which file, on whom, and which setting raises the bound.
"""

import contextlib
import fcntl
import json
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import duckdb

from power_assets.errors import WarehouseBusyError
from power_assets.settings import DUCKDB_WAIT_ENV

# Why fcntl.flock here, when the request spacing uses filelock (read in filelock 4.3.2's source):
# - `filelock.ReadWriteLock` is an SQLite database used as a lock (readers hold a read
#   transaction, a writer BEGIN EXCLUSIVE), opened O_RDWR|O_CREAT with mode 0600: a reader that
#   may not write the folder or the file, or another account sharing the store, could no longer
#   wait as a reader (`_lock_handle` falls back to a read-only descriptor and creates 0666). And a
#   writer keeps precedence over arriving readers only inside one blocking acquire without a
#   cancel check, while a bounded wait here returns at least every LOG_EVERY_S to say on whom it
#   waits (the gate below keeps writers first across those returns).
# - `filelock.SoftReadWriteLock` (markers with heartbeat threads) frees a killed holder's hold
#   only after its stale threshold (90 s by default) and evicts a live holder whose heartbeat
#   stalls that long; flock is released by the kernel the moment a holder dies, and never earlier.
# - Neither knows who holds it, so the notes (and a lock for them) would stay anyway.
# So this protocol stays POSIX-only.
LOG_EVERY_S = 60.0
_POLL_S = 0.05  # flock has no timeout, so a bounded wait polls
_BACKOFF_MAX_S = 1.0


class Role(StrEnum):
    READER = "reader"
    WRITER = "writer"


def lock_file(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


def gate_file(database: Path) -> Path:
    return database.with_name(database.name + ".lock.gate")


def notes_file(database: Path) -> Path:
    return database.with_name(database.name + ".lock.holders")


def _process_state(pid: int) -> tuple[str, str] | None:
    """(state, start time in ticks since boot) from /proc, None where /proc is not available."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses; the fields after it do not.
    fields = stat.rsplit(")", 1)[1].split()
    return fields[0], fields[19]


def _alive(note: dict) -> bool:
    """Whether the process that wrote a note still runs: its pid exists and is not a later process
    that reused the number (the start time differs) or an unreaped corpse (a zombie)."""
    pid = note.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, owned by another user
    state = _process_state(pid)
    if state is None:
        return True
    return state[0] != "Z" and note.get("started") in (None, state[1])


def _parse_notes(text: str) -> list[dict]:
    notes = []
    for line in text.splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            note = json.loads(line)
            if isinstance(note, dict):
                notes.append(note)
    return notes


def _edit_notes(database: Path, *, drop: str | None = None, add: dict | None = None) -> None:
    """Remove the note with token `drop`, add `add`, and prune notes of dead processes."""
    try:
        with open(notes_file(database), "a+", encoding="utf-8") as file:
            fcntl.flock(file, fcntl.LOCK_EX)  # held for a read and a write: never long
            file.seek(0)
            notes = [n for n in _parse_notes(file.read()) if n.get("token") != drop and _alive(n)]
            notes += [add] if add else []
            file.seek(0)
            file.truncate()
            file.write("".join(json.dumps(note) + "\n" for note in notes))
    except OSError:
        pass  # e.g. a reader in a directory it may not write: the notes only explain waits


def live_notes(database: Path) -> list[dict]:
    """Notes of the processes that hold the database, as far as they are still running."""
    try:
        with open(notes_file(database), encoding="utf-8") as file:
            fcntl.flock(file, fcntl.LOCK_SH)
            return [note for note in _parse_notes(file.read()) if _alive(note)]
    except OSError:
        return []


def _describe(note: dict) -> str:
    myself = " (this process)" if note["pid"] == os.getpid() else ""
    doing = f"{note.get('doing')}, since {note.get('since')}"
    return f"{note.get('role')} pid {note['pid']}{myself} ({doing})"


def describe_holders(database: Path) -> str:
    """Who holds the database, from the notes of live processes."""
    described = [_describe(note) for note in live_notes(database)]
    # No live note: the holder has not written it yet, or a writer queued at the gate holds it.
    return "; ".join(described) or "another power_assets process (queued, or just starting)"


class _Patience:
    """One bound for all the waiting of one open. Says what it waits for when it starts waiting,
    when the kind of obstacle changes, and every LOG_EVERY_S; raises past the bound."""

    def __init__(self, for_what: str, wait_s: float, log: Callable[[str], None]) -> None:
        self.for_what, self.wait_s, self.log = for_what, wait_s, log
        self.start = time.monotonic()
        self.logged_kind: str | None = None
        self.logged_at = self.start

    def wait(self, kind: str, reason: Callable[[], str], delay: float) -> None:
        now = time.monotonic()
        waited = now - self.start
        if kind != self.logged_kind or now - self.logged_at >= LOG_EVERY_S:
            so_far = f"waited {waited:.0f} s, " if waited >= 1 else ""
            self.log(
                f"{self.for_what} waits: {reason()} ({so_far}gives up after {self.wait_s:g} s, "
                f"set by {DUCKDB_WAIT_ENV})"
            )
            self.logged_kind, self.logged_at = kind, now
        if waited >= self.wait_s:
            raise WarehouseBusyError(
                f"{self.for_what}: gave up after {waited:.0f} s: {reason()}; "
                f"set {DUCKDB_WAIT_ENV} (now {self.wait_s:g} s) to wait longer"
            )
        time.sleep(min(delay, self.wait_s - waited))


def _acquire(handle: int, mode: int, patience: _Patience, database: Path) -> None:
    while True:
        try:
            fcntl.flock(handle, mode | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            patience.wait(
                "power_assets",
                lambda: f"{database} is held by {describe_holders(database)}",
                _POLL_S,
            )


def is_lock_conflict(error: duckdb.Error) -> bool:
    return "Conflicting lock" in str(error) or "Could not set lock" in str(error)


def _outside_holder(database: Path, error: duckdb.Error) -> str:
    held_in = re.search(r"held in (.*?\(PID \d+\))", str(error))
    detail = f"; DuckDB names {held_in.group(1)}" if held_in else ""
    return (
        f"another process outside power_assets holds {database} "
        f"(e.g. a DuckDB CLI or notebook{detail})"
    )


def _connect(
    connect: Callable[[], duckdb.DuckDBPyConnection], patience: _Patience, database: Path
) -> duckdb.DuckDBPyConnection:
    delay = _POLL_S
    while True:
        try:
            return connect()
        except duckdb.IOException as error:
            if not is_lock_conflict(error):
                raise
            patience.wait("outside", lambda error=error: _outside_holder(database, error), delay)
            delay = min(delay * 2, _BACKOFF_MAX_S)


@contextlib.contextmanager
def _lock_handle(path: Path) -> Iterator[int]:
    try:
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except PermissionError:
        handle = os.open(path, os.O_RDONLY)  # a reader in a directory it may not write
    try:
        yield handle
    finally:
        os.close(handle)


@contextlib.contextmanager
def hold(
    database: Path,
    role: Role,
    for_what: str,
    connect: Callable[[], duckdb.DuckDBPyConnection],
    *,
    wait_s: float,
    log: Callable[[str], None],
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection from `connect`, opened under the protocol, closed before the lock is let go."""
    patience = _Patience(for_what, wait_s, log)
    with _lock_handle(lock_file(database)) as main, _lock_handle(gate_file(database)) as gate:
        _acquire(gate, fcntl.LOCK_EX, patience, database)
        try:
            _acquire(
                main, fcntl.LOCK_EX if role is Role.WRITER else fcntl.LOCK_SH, patience, database
            )
        finally:
            fcntl.flock(gate, fcntl.LOCK_UN)
        try:
            token = uuid.uuid4().hex
            state = _process_state(os.getpid())
            note = {
                "pid": os.getpid(),
                "started": state[1] if state else None,
                "token": token,
                "role": str(role),
                "doing": for_what,
                "since": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            _edit_notes(database, add=note)
            try:
                con = _connect(connect, patience, database)
                try:
                    yield con
                finally:
                    con.close()
            finally:
                _edit_notes(database, drop=token)
        finally:
            fcntl.flock(main, fcntl.LOCK_UN)
