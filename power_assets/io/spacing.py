"""Request spacing per ISO that holds across threads and processes: the ISO's rate limit.

The time of the last request start lives in a small file per ISO, read and rewritten under an
exclusive `filelock.FileLock`, so every worker of every run on this machine takes its turn from the
same clock.
"""

import time
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock, Timeout


class RequestSpacer:
    """Enforces a minimum spacing between request starts for one ISO, across threads and processes.

    The time of the last request start (epoch seconds) lives in `{lock_dir}/{iso_id}.spacing`, read
    and rewritten while holding the file lock `{lock_dir}/{iso_id}.spacing.lock` (a file of its
    own: some filelock versions truncate the file they lock). The lock is held while waiting, so
    callers are served one at a time and each sees the time its predecessor actually started. A
    lock object is made per call: each one locks through a descriptor of its own, which also
    excludes other threads of the same process. With a spacing of 0 the spacer does nothing and
    touches no file.
    """

    def __init__(
        self,
        iso_id: str,
        min_spacing_s: float,
        lock_dir: Path,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.iso_id = iso_id
        self.min_spacing_s = max(0.0, float(min_spacing_s))
        self.path = Path(lock_dir) / f"{iso_id}.spacing"
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._clock, self._sleep = clock, sleep

    def wait_turn(self) -> None:
        """Block until `min_spacing_s` has passed since the last recorded start; record now."""
        if self.min_spacing_s <= 0:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(self.lock_path):
            self._take_turn(deadline=None)

    def try_turn(self, budget_s: float, poll_s: float = 0.05) -> bool:
        """Like `wait_turn`, but give up (False, nothing recorded) rather than wait past `budget_s`.

        For callers that must not block (a sensor tick): while a backfill holds the ISO's request
        budget, they skip a turn instead of queueing behind it.
        """
        if self.min_spacing_s <= 0:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = self._clock() + budget_s
        lock = FileLock(self.lock_path)
        try:
            lock.acquire(timeout=max(0.0, budget_s), poll_interval=poll_s)
        except Timeout:
            return False
        try:
            return self._take_turn(deadline)
        finally:
            lock.release()

    def _take_turn(self, deadline: float | None) -> bool:
        """Under the lock: wait out the spacing (unless that passes `deadline`) and record now."""
        now = self._clock()
        # Capped at one spacing so a clock stepped backwards cannot stall every worker.
        wait = min(self.min_spacing_s, _read_epoch(self.path) + self.min_spacing_s - now)
        if wait > 0:
            if deadline is not None and now + wait > deadline:
                return False
            self._sleep(wait)
            now = self._clock()
        self.path.write_text(repr(now))
        return True


def _read_epoch(path: Path) -> float:
    try:
        raw = path.read_bytes()[:64]
        return float(raw.decode().strip()) if raw.strip() else float("-inf")
    except (OSError, UnicodeDecodeError, ValueError):
        return float("-inf")  # a missing, torn or foreign file must not block downloads
