"""A fake NYISO MIS on loopback: MIS's URL shapes in, generated daily CSVs and monthly ZIPs out.

What belongs here: the HTTP side of the fake (file-name validation, 404 for anything MIS would not
have, unpublished days, an HTML-under-200 knob, a log of every request). Payloads come from
`nyiso_fixtures`.

    GET /public/csv/{folder}/{YYYYMMDD}{folder}[_zone|_gen].csv      the day's CSV
    GET /public/csv/{folder}/{YYYYMM01}{folder}[_zone|_gen]_csv.zip  the month's CSVs, zipped

    python -m power_assets.demo.nyiso_server   # serve until Ctrl-C, printing the base URL
"""

import argparse
import contextlib
import io
import re
import threading
import time
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlsplit

from power_assets.demo.loopback import LoopbackServer, QuietHandler
from power_assets.demo.nyiso_fixtures import FOLDERS, Faults, nyiso_csv, nyiso_month_zip

_FILE = re.compile(
    r"^(?P<date>\d{8})(?P<folder>[a-z]+)(?P<suffix>_zone|_gen)?(?P<kind>\.csv|_csv\.zip)$"
)
NOT_FOUND_HTML = b"<html><head><title>404 Not Found</title></head><body>Not Found</body></html>"
MAINTENANCE_HTML = (
    b"<!DOCTYPE html><html><body><h1>NYISO</h1><p>This page is temporarily unavailable."
    b"</p></body></html>"
)


@dataclass(frozen=True)
class NyisoRequest:
    """One request the fake received: path, arrival (`time.monotonic()`) and answer status."""

    path: str
    time: float
    status: int


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: bytes


class FakeNyiso(LoopbackServer):
    """MIS `csv/` files on 127.0.0.1, generated on demand.

    `faults` maps a folder (e.g. "realtime") to the Faults applied to its files;
    `unpublished_days` answer 404 as daily CSVs and are left out of monthly ZIPs;
    `html_with_200` lists file names answered with an HTML page under HTTP 200.
    """

    def __init__(
        self,
        *,
        unpublished_days: Iterable[date] = (),
        faults: Mapping[str, Faults] | None = None,
        html_with_200: Iterable[str] = (),
        port: int = 0,
    ):
        self.unpublished_days: set[date] = set(unpublished_days)
        self.faults: dict[str, Faults] = dict(faults or {})
        self.html_with_200: set[str] = set(html_with_200)
        self._init_loopback(port)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/public"

    def handle(self, path: str) -> Response:
        arrived = time.monotonic()
        response = self._respond(path)
        with self._lock:
            self._requests.append(NyisoRequest(path, arrived, response.status))
        return response

    def _respond(self, path: str) -> Response:
        parts = path.split("/")
        # ["", "public", "csv", folder, file]
        if len(parts) != 5 or parts[:3] != ["", "public", "csv"]:
            return _not_found()
        folder, name = parts[3], parts[4]
        match = _FILE.match(name)
        if match is None or match["folder"] != folder or folder not in FOLDERS:
            return _not_found()
        suffix = match["suffix"] or ""
        if suffix not in FOLDERS[folder].suffixes:
            return _not_found()
        try:
            day = datetime.strptime(match["date"], "%Y%m%d").date()
        except ValueError:
            return _not_found()
        if name in self.html_with_200:
            return Response(200, "text/html", MAINTENANCE_HTML)
        faults = self.faults.get(folder)
        if match["kind"] == ".csv":
            if day in self.unpublished_days:
                return _not_found()
            return Response(200, "text/csv", nyiso_csv(folder, day, suffix, faults=faults))
        if day.day != 1:
            return _not_found()
        body = nyiso_month_zip(
            folder, day, suffix, skip_days=sorted(self.unpublished_days), faults=faults
        )
        if _empty_zip(body):
            return _not_found()
        return Response(200, "application/x-zip-compressed", body)


def _not_found() -> Response:
    return Response(404, "text/html", NOT_FOUND_HTML)


def _empty_zip(body: bytes) -> bool:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return not archive.namelist()


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        response = self.server.fake.handle(urlsplit(self.path).path)
        self.reply(response.status, response.content_type, response.body)


FakeNyiso.handler = _Handler
FakeNyiso.thread_name = "fake-nyiso"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    with FakeNyiso(port=args.port) as fake:
        print(fake.base_url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
