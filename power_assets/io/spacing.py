"""Request spacing per ISO that holds across threads and processes: the ISO's rate limit.

The time of the last request start lives in a small file per ISO, read and rewritten under an
exclusive `flock`, so every worker of every run on this machine takes its turn from the same clock.
"""

import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path


class RequestSpacer:
    """Enforces a minimum spacing between request starts for one ISO, across threads and processes.

    The time of the last request start (epoch seconds) lives in `{lock_dir}/{iso_id}.spacing`, read
    and rewritten under an exclusive `flock`. The lock is held while waiting, so callers are served
    one at a time and each sees the time its predecessor actually started. The file is opened per
    call: flock locks belong to the open file description, so this also excludes other threads of
    the same process. With a spacing of 0 the spacer does nothing and touches no file.
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
        self._clock, self._sleep = clock, sleep

    def wait_turn(self) -> None:
        """Block until `min_spacing_s` has passed since the last recorded start; record now."""
        if self.min_spacing_s <= 0:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            last = _read_epoch(fd)
            now = self._clock()
            # Capped at one spacing so a clock stepped backwards cannot stall every worker.
            wait = min(self.min_spacing_s, last + self.min_spacing_s - now)
            if wait > 0:
                self._sleep(wait)
                now = self._clock()
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, repr(now).encode())
        finally:
            os.close(fd)  # also releases the flock

    def try_turn(self, budget_s: float, poll_s: float = 0.05) -> bool:
        """Like `wait_turn`, but give up (False, nothing recorded) rather than wait past `budget_s`.

        For callers that must not block (a sensor tick): while a backfill holds the ISO's request
        budget, they skip a turn instead of queueing behind it.
        """
        if self.min_spacing_s <= 0:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = self._clock() + budget_s
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if self._clock() + poll_s > deadline:
                        return False
                    self._sleep(poll_s)
            now = self._clock()
            wait = min(self.min_spacing_s, _read_epoch(fd) + self.min_spacing_s - now)
            if wait > 0:
                if now + wait > deadline:
                    return False
                self._sleep(wait)
                now = self._clock()
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, repr(now).encode())
            return True
        finally:
            os.close(fd)


def _read_epoch(fd: int) -> float:
    os.lseek(fd, 0, os.SEEK_SET)
    raw = os.read(fd, 64)
    try:
        return float(raw.decode().strip()) if raw.strip() else float("-inf")
    except (UnicodeDecodeError, ValueError):
        return float("-inf")  # a torn or foreign file must not block downloads
