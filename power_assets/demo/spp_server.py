"""A fake SPP Marketplace file browser on loopback: SPP's listing and download URLs, generated files.

What belongs here: the HTTP side of the fake (which paths exist for the days it serves, folder
listings, 404 with an empty body for anything SPP would not have, the publication clock, suffix
byte ranges, an HTML-under-200 knob, a log of every request). Payloads come from `spp_fixtures`.

    GET /file-browser-api/?fsName={fs}&path={folder}&type=folder    a JSON list of entries
    GET /file-browser-api/download/{fs}?path={file}                 the file

    python -m power_assets.demo.spp_server   # serve until Ctrl-C, printing the base URL
"""

import argparse
import contextlib
import json
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic
from urllib.parse import parse_qsl, urlsplit

from power_assets.demo import spp_fixtures as fx
from power_assets.demo.loopback import LoopbackServer, QuietHandler, Response, suffix_range
from power_assets.demo.publication import PublicationClock

ROOT = "/file-browser-api/"
DOWNLOAD = "/file-browser-api/download/"
DAY_AHEAD_PUBLISHED_AT = time(14, 0)  # DA results for D by 14:00 CT on D-1
NEXT_DAY_PUBLISHED_AT = time(1, 0)  # RTBM daily files for D at 01:00 CT on D+1
LOAD_PUBLISHED_AT = time(10, 0)  # hourly load for D at 10:00 CT on D+1
MAINTENANCE_HTML = (
    b"<!DOCTYPE html><html><body>SPP Marketplace is down for maintenance</body></html>"
)
FILE_SYSTEMS = (
    "da-lmp-by-settlement-location", "rtbm-lmp-by-location", "da-mcp", "rtbm-mcp", "hourly-load",
    "mtlf-vs-actual", "generation-mix-historical",
)  # fmt: skip


@dataclass(frozen=True)
class SppRequest:
    """One request the fake received: `kind` ("list" or "download"), file system, path, status,
    arrival (`time.monotonic()`) and the Range header it carried."""

    kind: str
    fs: str
    path: str
    status: int
    time: float
    range: str | None = None


class FakeSpp(PublicationClock, LoopbackServer):
    """SPP's file browser on 127.0.0.1 for the Central market `days` it serves.

    `now` (aware, settable; None: everything of `days` is published) is the fake's clock: DA
    files for D exist from `day_ahead_published_at` on D-1; 5-minute RTBM files once their
    interval has ended (plus `publish_lag`); RTBM daily files at 01:00 and hourly load at 10:00
    on D+1; an MTLF vintage once issued; GenMix rows once their interval has ended. Without
    `daily_rt_files` the RTBM By_Day files never appear (only the 5-minute files do).
    `missing_intervals` are UTC interval ends whose 5-minute files SPP never wrote (as on
    2024-11-03); `html_with_200` lists paths answered with a maintenance page.
    """

    clock_timezone = fx.CENTRAL

    def __init__(
        self,
        days: Iterable[date],
        *,
        location_count: int = 6,
        now: datetime | None = None,
        publish_lag: timedelta = timedelta(0),
        day_ahead_published_at: time = DAY_AHEAD_PUBLISHED_AT,
        daily_rt_files: bool = True,
        missing_intervals: Iterable[datetime] = (),
        html_with_200: Iterable[str] = (),
        port: int = 0,
    ):
        self.days = sorted(set(days))
        self.places = fx.locations(location_count)
        self.daily_rt_files = daily_rt_files
        self.missing_intervals = {m.astimezone(UTC) for m in missing_intervals}
        self.html_with_200 = set(html_with_200)
        self._init_clock(now, publish_lag, day_ahead_published_at)
        self._init_loopback(port)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file-browser-api"

    # -- what exists ----------------------------------------------------------------------------

    def _at(self, day: date, clock: time, days_later: int) -> datetime:
        local = datetime.combine(day + timedelta(days=days_later), clock, tzinfo=fx.CENTRAL)
        return local.astimezone(UTC)

    def _published(self, when: datetime) -> bool:
        until = self.published_until()
        return until is None or when <= until

    def files(self, fs: str) -> dict[str, Callable[[], bytes]]:
        """Every file of a file system published by the clock: path -> its content."""
        out: dict[str, Callable[[], bytes]] = {}
        for day in self.days:
            out.update(self._day_files(fs, day))
        if fs == "generation-mix-historical":
            for year in sorted({d.year for d in self.days}):
                mine = [d for d in self.days if d.year == year]
                if self._published(fx.interval_ends(mine[0], fx.FIVE_MINUTES)[0]):
                    out[fx.genmix_path(year)] = lambda m=mine: fx.genmix_csv(
                        m, self.published_until()
                    )
        if fs in ("rtbm-lmp-by-location", "rtbm-mcp"):
            latest = self._latest(fs)
            if latest is not None:
                product = "lmp" if fs == "rtbm-lmp-by-location" else "mcp"
                name = "/RTBM-LMP-SL-latestInterval.csv" if product == "lmp" else (
                    "/RTBM-MCP-latestInterval.csv")  # fmt: skip
                day = (latest - fx.FIVE_MINUTES).astimezone(fx.CENTRAL).date()
                out[name] = lambda: self._rt_file(product, [latest], day)
        return out

    def _day_files(self, fs: str, day: date) -> dict[str, Callable[[], bytes]]:
        hours, fives = fx.interval_ends(day, fx.HOUR), fx.interval_ends(day, fx.FIVE_MINUTES)
        if fs in ("da-lmp-by-settlement-location", "da-mcp"):
            if not self.day_ahead_published(day):
                return {}
            if fs == "da-mcp":
                return {fx.da_mcp_path(day): lambda: fx.mcp_csv("DAM", hours, day)}
            return {fx.da_lmp_path(day): lambda: fx.lmp_csv("DAM", hours, self.places, day)}
        if fs in ("rtbm-lmp-by-location", "rtbm-mcp"):
            product = "lmp" if fs == "rtbm-lmp-by-location" else "mcp"
            out = {
                fx.rt_interval_path(product, end): (lambda e=end: self._rt_file(product, [e], day))
                for end in fives
                if end not in self.missing_intervals and self._published(end)
            }
            if self.daily_rt_files and self._published(self._at(day, NEXT_DAY_PUBLISHED_AT, 1)):
                out[fx.rt_daily_path(product, day)] = lambda: self._rt_file(
                    product, fives, day, daily=True
                )
            return out
        if fs == "hourly-load" and self._published(self._at(day, LOAD_PUBLISHED_AT, 1)):
            return {fx.hourly_load_path(day): lambda: fx.hourly_load_csv(day)}
        if fs == "mtlf-vs-actual":  # the vintages issued on the day before and on the day
            issues = [*fx.mtlf_issues(day - timedelta(days=1)), *fx.mtlf_issues(day)]
            return {
                fx.mtlf_path(issued): (lambda i=issued: fx.mtlf_csv(i))
                for issued in issues
                if self._published(issued)
            }
        return {}

    def _rt_file(
        self, product: str, ends: Sequence[datetime], day: date, *, daily: bool = False
    ) -> bytes:
        if product == "lmp":
            return fx.lmp_csv("RTBM", ends, self.places, day, daily=daily)
        return fx.mcp_csv("RTBM", ends, day)

    def _latest(self, fs: str) -> datetime | None:
        ends = [
            end
            for day in self.days
            for end in fx.interval_ends(day, fx.FIVE_MINUTES)
            if self._published(end) and end not in self.missing_intervals
        ]
        return max(ends) if ends else None

    # -- answering --------------------------------------------------------------------------------

    def handle(self, path: str, query: Sequence[tuple[str, str]], range_header: str | None):
        arrived = monotonic()
        params = dict(query)
        if path == ROOT or path == ROOT.rstrip("/"):
            kind, fs, target = "list", params.get("fsName", ""), params.get("path", "")
            response = self._listing(fs, target, params.get("type", ""))
        elif path.startswith(DOWNLOAD):
            kind, fs, target = "download", path.removeprefix(DOWNLOAD), params.get("path", "")
            response = self._download(fs, target, range_header)
        else:
            kind, fs, target = "other", "", path
            response = Response(404, "text/plain", b"")
        self._log_request(SppRequest(kind, fs, target, response.status, arrived, range_header))
        return response

    def _listing(self, fs: str, folder: str, kind: str) -> Response:
        if fs not in FILE_SYSTEMS:
            return Response(404, "text/plain", b"")
        if kind != "folder" or not folder:
            return _json([])  # SPP's own first call (path empty) lists nothing
        folder = "/" + folder.strip("/")
        entries: dict[str, dict] = {}
        for file_path, _ in self.files(fs).items():
            parent, name = file_path.rsplit("/", 1)
            parent = parent or "/"
            if parent == folder:
                entries[name] = {"name": name, "path": file_path, "size": 1, "modified": ""}
            elif parent.startswith(folder.rstrip("/") + "/"):
                child = parent[len(folder.rstrip("/")) + 1 :].split("/", 1)[0]
                sub = f"{folder.rstrip('/')}/{child}"
                entries.setdefault(child, {"name": child, "path": sub, "size": 0, "modified": ""})
        return _json([entries[name] for name in sorted(entries)])

    def _download(self, fs: str, file_path: str, range_header: str | None) -> Response:
        if fs not in FILE_SYSTEMS:
            return Response(404, "text/plain", b"")
        if file_path in self.html_with_200:
            return Response(200, "text/html", MAINTENANCE_HTML)
        make = self.files(fs).get(file_path)
        if make is None:
            return Response(404, "text/plain", b"")  # SPP: 404 with an empty body
        body = make()
        partial = suffix_range(range_header, body)
        if partial is not None:
            return Response(partial[0], "text/csv", partial[1], partial[2])
        return Response(200, "text/csv", body)


def _json(payload: object) -> Response:
    return Response(200, "application/json", json.dumps(payload).encode())


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qsl(parts.query, keep_blank_values=True)
        response = self.server.fake.handle(parts.path, query, self.headers.get("Range"))
        self.reply(response.status, response.content_type, response.body, response.headers)


FakeSpp.handler = _Handler
FakeSpp.thread_name = "fake-spp"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--day", action="append", type=date.fromisoformat, default=[])
    args = parser.parse_args(argv)
    with FakeSpp(args.day or [date(2024, 11, 3)], port=args.port) as fake:
        print(f"POWER_ASSETS_SPP_BASE_URL={fake.base_url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
