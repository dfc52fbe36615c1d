"""The lifecycle every fake ISO shares: a threaded HTTP server on 127.0.0.1, started and stopped
as a context manager, with a thread-safe log of the requests it answered, and HTTP byte-range
(suffix) answers for the fakes that serve static files.

Only the plumbing lives here; what each fake answers stays in its own module.
"""

import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Self


@dataclass(frozen=True)
class Response:
    """One answer of a fake: status, content type, body and extra headers."""

    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


_SUFFIX_RANGE = re.compile(r"bytes=-(\d+)", re.IGNORECASE)


class LoopbackServer:
    """Base of the fake ISOs. Subclasses set `handler` (whose `self.server.fake` is the fake),
    `thread_name`, and call `_init_loopback(port)` from their `__init__`."""

    handler: ClassVar[type[BaseHTTPRequestHandler]]
    thread_name: ClassVar[str] = "fake-iso"

    def _init_loopback(self, port: int = 0) -> None:
        self._port = port
        self._lock = threading.Lock()
        self._requests: list[Any] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        server = ThreadingHTTPServer(("127.0.0.1", self._port), self.handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name=self.thread_name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not running")
        return self._server.server_address[1]

    @property
    def requests(self) -> list[Any]:
        """A snapshot of every request received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    def _log_request(self, entry: Any) -> None:
        with self._lock:
            self._requests.append(entry)


class QuietHandler(BaseHTTPRequestHandler):
    """Request handler base: one call writes a whole response; nothing is logged to stderr
    (tests read the fake's request log instead)."""

    def reply(self, status: int, content_type: str, body: bytes, headers=()) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def suffix_range(
    range_header: str | None, body: bytes
) -> tuple[int, bytes, tuple[tuple[str, str], ...]] | None:
    """(status, body, headers) answering `Range: bytes=-N` (the last N bytes) for a whole `body`:
    206 with the tail, `Content-Range` and `Accept-Ranges` (the whole body when N >= its length),
    416 when nothing can be returned (N = 0 or an empty body). None for no header or any other
    range form: the caller answers 200 with the whole body, which HTTP allows."""
    found = _SUFFIX_RANGE.fullmatch((range_header or "").strip())
    if found is None:
        return None
    total, wanted = len(body), int(found[1])
    if wanted == 0 or total == 0:
        headers = (("Content-Range", f"bytes */{total}"), ("Accept-Ranges", "bytes"))
        return 416, b"", headers
    first = max(total - wanted, 0)
    headers = (
        ("Content-Range", f"bytes {first}-{total - 1}/{total}"),
        ("Accept-Ranges", "bytes"),
    )
    return 206, body[first:], headers
