"""What a request does about an ISO that does not answer: a whole-request deadline, and failing
fast for the rest of the run once an ISO has not answered.

A server that accepts connections and then says nothing (or trickles a byte now and then, so no
read timeout fires) would otherwise cost every attempt's full timeout plus backoff, for every
request of every day of a backfill. `Deadline` bounds one request (attempts, backoff, body);
`read_within` reads a body within it however slowly the bytes come; `FailFast` remembers, per
ISO, that it did not answer, so the rest of the run fails at once instead of waiting again.
"""

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from power_assets.errors import DownloadError

DEFAULT_REQUEST_DEADLINE_S = 180.0


class NoAnswerError(DownloadError):
    """The ISO did not answer: its deadline passed, or the last attempt got no answer at all
    (a timeout, a refused or dropped connection). Not raised for answers, however unwelcome."""

    def __init__(self, iso_id: str, url: str, detail: str):
        self.iso_id, self.url, self.detail = iso_id, url, detail
        super().__init__(f"{iso_id} did not answer {url} {detail}")

    def __reduce__(self) -> tuple:  # the default would call __init__ with the message alone
        return type(self), (self.iso_id, self.url, self.detail)


def gave_up(
    iso_id: str,
    safe_url: str,
    attempts: int,
    last_error: str,
    *,
    answered: bool,
    deadline_s: float | None,
) -> DownloadError:
    """The error for a request that ended without a usable answer, after `attempts` attempts or
    (`deadline_s` given) at its deadline: `NoAnswerError` when the last attempt got no answer."""
    tally = f"{attempts} attempt{'' if attempts == 1 else 's'}; last error: {last_error}"
    within = f"within {deadline_s:g} s " if deadline_s is not None else ""
    if not answered:
        return NoAnswerError(iso_id, safe_url, f"{within}({tally})")
    if deadline_s is not None:
        return DownloadError(f"{iso_id}: {safe_url}: no usable answer {within}({tally})")
    return DownloadError(f"{iso_id}: {safe_url}: giving up after {tally}")


class BodyDeadlinePassed(Exception):
    """The deadline passed while the body was still arriving."""


class Deadline:
    """How long one request may still take, on a monotonic clock; `paused()` excludes a wait."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self._clock = clock
        self._ends_at = clock() + seconds

    def remaining(self) -> float:
        return max(0.0, self._ends_at - self._clock())

    def expired(self) -> bool:
        return self._clock() >= self._ends_at

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Time spent inside does not count against the deadline."""
        started = self._clock()
        try:
            yield
        finally:
            self._ends_at += self._clock() - started

    def cap(self, timeout: httpx.Timeout) -> httpx.Timeout:
        """`timeout` with each phase (connect, read, write, pool) at most the time remaining."""
        left = self.remaining()

        def capped(value: float | None) -> float:
            return left if value is None else min(value, left)

        return httpx.Timeout(
            connect=capped(timeout.connect),
            read=capped(timeout.read),
            write=capped(timeout.write),
            pool=capped(timeout.pool),
        )


class _Watchdog:
    """Shuts the response's socket when the deadline passes, so a read blocked on a server that
    trickled bytes and then stalled ends at the deadline rather than a whole read timeout later.

    Read timeouts alone cannot do this: httpcore fixes a body's read timeout when the body starts.
    Only sockets of real connections are reachable; a mock transport has none (nothing blocks).
    """

    def __init__(self, response: httpx.Response, seconds: float):
        stream = response.extensions.get("network_stream")
        self._socket = stream.get_extra_info("socket") if stream is not None else None
        self._lock = threading.Lock()
        self._finished = False
        self.fired = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> "_Watchdog":
        if self._socket is not None:
            self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:  # after this the socket is never touched: it may go back to the pool
            self._finished = True
        self._timer.cancel()

    def _fire(self) -> None:
        with self._lock:
            if self._finished:
                return
            self.fired = True
            # The plain-socket shutdown also works under TLS and leaves the SSL object alone while
            # the reading thread is inside it; the blocked read then sees the end of the stream.
            # OSError: the socket is already closed, so nothing is left to unblock.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(self._socket, socket.SHUT_RDWR)


def read_within(response: httpx.Response, deadline: Deadline, limit: int | None = None) -> bytes:
    """The body of a streamed `response` (its first `limit` bytes, if given), or
    `BodyDeadlinePassed` if the deadline passes first, however slowly the bytes arrive.

    httpx transport errors (a read timeout, a dropped connection) propagate.
    """
    chunks: list[bytes] = []
    received = 0
    cut_short = False
    watchdog = _Watchdog(response, deadline.remaining())
    try:
        with watchdog:
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                received += len(chunk)
                if limit is not None and received >= limit:
                    break
                if deadline.expired():
                    cut_short = True
                    break
    except httpx.TransportError:
        if not watchdog.fired:
            raise
    # A shut socket can look like a body that ended normally (no Content-Length), so a fired
    # watchdog means the body is incomplete whatever the stream said.
    if cut_short or watchdog.fired:
        raise BodyDeadlinePassed(f"the body was still arriving at the deadline ({received} bytes)")
    body = b"".join(chunks)
    return body if limit is None else body[:limit]


@dataclass(frozen=True)
class _Outage:
    error: NoAnswerError
    at: datetime  # UTC


class FailFast:
    """ISOs that did not answer earlier in this run; later requests to them fail at once.

    Lives as long as its owner (the HTTP resource, initialized per run), so a backfill pays for an
    unresponsive ISO once instead of once per day, and the next run tries again. Thread-safe.
    """

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._clock = clock
        self._lock = threading.Lock()
        self._outages: dict[str, _Outage] = {}

    def record(self, error: NoAnswerError) -> None:
        """Remember that `error.iso_id` did not answer; the first cause is the one reported."""
        with self._lock:
            self._outages.setdefault(error.iso_id, _Outage(error, self._clock()))

    @contextlib.contextmanager
    def guard(self, iso_id: str, safe_url: str) -> Iterator[None]:
        """Fail at once if `iso_id` did not answer earlier; remember it if it does not now."""
        self.check(iso_id, safe_url)
        try:
            yield
        except NoAnswerError as exc:
            self.record(exc)
            raise

    def check(self, iso_id: str, safe_url: str) -> None:
        """Raise `DownloadError` (without touching the network) if `iso_id` did not answer."""
        with self._lock:
            outage = self._outages.get(iso_id)
        if outage is None:
            return
        raise DownloadError(
            f"not requested: {outage.error} at {outage.at.astimezone(UTC):%H:%M:%S}Z; the "
            f"remaining requests to {iso_id} in this run fail fast; run again once it answers "
            f"(skipped: {safe_url})"
        )

    def clear(self) -> None:
        with self._lock:
            self._outages.clear()
