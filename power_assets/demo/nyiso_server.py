"""A fake NYISO MIS on loopback: MIS's URL shapes in, generated daily CSVs and monthly ZIPs out.

What belongs here: the HTTP side of the fake (file-name validation, 404 for anything MIS would not
have, unpublished days, an HTML-under-200 knob, the publication clock, suffix byte ranges on daily
CSVs, a log of every request). Payloads come from `nyiso_fixtures`.

    GET /public/csv/{folder}/{YYYYMMDD}{folder}[_zone|_gen].csv      the day's CSV
    GET /public/csv/{folder}/{YYYYMM01}{folder}[_zone|_gen]_csv.zip  the month's CSVs, zipped

    python -m power_assets.demo.nyiso_server   # serve until Ctrl-C, printing the base URL
"""

import argparse
import contextlib
import io
import re
import threading
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from time import monotonic
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from power_assets.demo.loopback import LoopbackServer, QuietHandler, Response, suffix_range
from power_assets.demo.nyiso_fixtures import FOLDERS, Faults, nyiso_csv, nyiso_month_zip
from power_assets.demo.publication import PublicationClock
from power_assets.demo.synthetic import local_day_bounds

_FILE = re.compile(
    r"^(?P<date>\d{8})(?P<folder>[a-z]+)(?P<suffix>_zone|_gen)?(?P<kind>\.csv|_csv\.zip)$"
)
NOT_FOUND_HTML = b"<html><head><title>404 Not Found</title></head><body>Not Found</body></html>"
MAINTENANCE_HTML = (
    b"<!DOCTYPE html><html><body><h1>NYISO</h1><p>This page is temporarily unavailable."
    b"</p></body></html>"
)
# Folders published whole by the day-ahead market (isolf: the file dated D with it, at D-1 11:00);
# every other folder grows through its day, one interval at a time.
DAY_AHEAD_FOLDERS = frozenset({"damlbmp", "damasp", "isolf"})
DAY_AHEAD_PUBLISHED_AT = time(11, 0)


@dataclass(frozen=True)
class NyisoRequest:
    """One request the fake received: path, arrival (`time.monotonic()`), answer status and the
    Range header it carried."""

    path: str
    time: float
    status: int
    range: str | None = None


class FakeNyiso(PublicationClock, LoopbackServer):
    """MIS `csv/` files on 127.0.0.1, generated on demand.

    `faults` maps a folder (e.g. "realtime") to the Faults applied to its files;
    `unpublished_days` answer 404 as daily CSVs and are left out of monthly ZIPs;
    `html_with_200` lists file names answered with an HTML page under HTTP 200.

    `now` (aware, settable; None: every file whole) is the fake's clock: a real-time daily file
    exists once its first interval has ended (`publish_lag` later) and holds the intervals ended
    by then; a day-ahead file (DAY_AHEAD_FOLDERS) for D exists from `day_ahead_published_at`
    (New York) on D-1; monthly ZIPs hold the daily files as they exist. Daily CSVs answer
    `Range: bytes=-N` with their last N bytes (206).
    """

    clock_timezone = ZoneInfo("America/New_York")

    def __init__(
        self,
        *,
        unpublished_days: Iterable[date] = (),
        faults: Mapping[str, Faults] | None = None,
        html_with_200: Iterable[str] = (),
        now: datetime | None = None,
        publish_lag: timedelta = timedelta(0),
        day_ahead_published_at: time = DAY_AHEAD_PUBLISHED_AT,
        port: int = 0,
    ):
        self.unpublished_days: set[date] = set(unpublished_days)
        self.faults: dict[str, Faults] = dict(faults or {})
        self.html_with_200: set[str] = set(html_with_200)
        self._init_clock(now, publish_lag, day_ahead_published_at)
        self._init_loopback(port)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/public"

    def handle(self, path: str, range_header: str | None = None) -> Response:
        arrived = monotonic()
        response = self._respond(path)
        if response.status == 200 and response.content_type == "text/csv":
            partial = suffix_range(range_header, response.body)
            if partial is not None:
                response = Response(partial[0], response.content_type, partial[1], partial[2])
        with self._lock:
            self._requests.append(NyisoRequest(path, arrived, response.status, range_header))
        return response

    def _exists(self, folder: str, day: date, until: datetime | None) -> bool:
        """Whether the daily file of `folder` for `day` is published by the clock."""
        if day in self.unpublished_days:
            return False
        if folder in DAY_AHEAD_FOLDERS:
            return self.day_ahead_published(day)
        first_end = local_day_bounds("America/New_York", day)[0] + FOLDERS[folder].interval
        return until is None or first_end <= until

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
        until = self.published_until()
        # Day-ahead files are whole once published; real-time ones stop at the clock.
        rows_until = None if folder in DAY_AHEAD_FOLDERS else until
        if match["kind"] == ".csv":
            if not self._exists(folder, day, until):
                return _not_found()
            body = nyiso_csv(folder, day, suffix, faults=faults, published_until=rows_until)
            return Response(200, "text/csv", body)
        if day.day != 1:
            return _not_found()
        next_month = (day + timedelta(days=32)).replace(day=1)
        month = [day + timedelta(days=n) for n in range((next_month - day).days)]
        body = nyiso_month_zip(
            folder, day, suffix, faults=faults, published_until=rows_until,
            skip_days=[d for d in month if not self._exists(folder, d, until)],
        )  # fmt: skip
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
        response = self.server.fake.handle(urlsplit(self.path).path, self.headers.get("Range"))
        self.reply(response.status, response.content_type, response.body, response.headers)


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
