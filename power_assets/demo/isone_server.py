"""A fake ISO-NE on loopback: ISO Express static CSVs and the JSON web services, same URL shapes.

What belongs here: the HTTP side of the fake (routing ISO-NE's URL shapes to the generator in
`isone_fixtures`, HTTP basic auth on the web services, unpublished days, outage and "no data"
simulation, the publication clock, suffix byte ranges on the static CSVs, and a log of every
request). Payload generation lives in `isone_fixtures`.

    python -m power_assets.demo.isone_server   # prints both base URLs, serves until Ctrl-C
"""

import argparse
import base64
import contextlib
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from time import monotonic
from urllib.parse import urlsplit

from power_assets.demo.isone_fixtures import (
    DEMO_LOCATIONS,
    EASTERN,
    FIVE_MINUTES,
    MAINTENANCE_HTML,
    NO_DATA_BODY,
    RT5_BLOCKS,
    TIMEZONE,
    Faults,
    genfuelmix_json,
    hourly_lmp_csv,
    hourlysysload_json,
    reserve_price_json,
    rt5_lmp_csv,
    rt5_windows,
)
from power_assets.demo.loopback import LoopbackServer, QuietHandler, Response, suffix_range
from power_assets.demo.publication import PublicationClock
from power_assets.demo.synthetic import local_day_bounds

STATIC = "/static-transform/csv/histRpts/"
API = "/api/v1.1/"
NOT_FOUND = b"<html><body><h1>404 Not Found</h1></body></html>"
UNAVAILABLE = b"<html><body><h1>503 Service Unavailable</h1></body></html>"
UNAUTHORIZED = b'{"error":"Unauthorized","status":401}'
# URL shapes (after STATIC or API) -> dataset id; groups: the day, then a report or block.
STATIC_ROUTES = {
    re.compile(r"da-lmp/WW_DALMP_ISO_(\d{8})\.csv"): "lmp_da",
    re.compile(r"rt-lmp/lmp_rt_(final|prelim)_(\d{8})\.csv"): "lmp_rt_hourly",
    re.compile(r"5min-rt-prelim/lmp_5min_(\d{8})_(\d\d-\d\d)\.csv"): "lmp_rt5",
}
API_ROUTES = {
    re.compile(r"genfuelmix/day/(\d{8})(?:\.json)?"): "fuel_mix",
    re.compile(r"hourlysysload/day/(\d{8})(?:\.json)?"): "load",
    re.compile(r"fiveminutereserveprice/final/day/(\d{8})(?:\.json)?"): "as_rt",
}
JSON_GENERATORS: dict[str, Callable[..., bytes]] = {
    "fuel_mix": genfuelmix_json, "load": hourlysysload_json, "as_rt": reserve_price_json,
}  # fmt: skip
JSON_WRAPPERS = {
    "fuel_mix": "GenFuelMixes",
    "load": "HourlySystemLoads",
    "as_rt": "FiveMinReservePrices",
}
DAY_AHEAD_PUBLISHED_AT = time(13, 30)


@dataclass(frozen=True)
class IsoneRequest:
    """One request the fake received: path, Accept header, the basic-auth user it presented (never
    the password), arrival time (`time.monotonic()`), the HTTP status it was answered with and the
    Range header it carried."""

    path: str
    accept: str | None
    user: str | None
    time: float
    status: int
    range: str | None = None


class FakeIsone(PublicationClock, LoopbackServer):
    """ISO Express and ISO-NE web services on 127.0.0.1; use as a context manager.

    `base_url` serves `/static-transform/csv/histRpts/...`, `webservices_base_url` the JSON
    endpoints under `/api/v1.1`, which demand HTTP basic auth with `username`/`password` (401
    otherwise). `unpublished_days` answer 404, `no_data_days` ISO Express's "No data exists for
    this period." (CSV) or an empty report (JSON), `maintenance` an HTML page under HTTP 200.
    `faults` is keyed by dataset id (lmp_da, lmp_rt_hourly, lmp_rt5, fuel_mix, load, as_rt).

    `now` (aware, settable; None: everything whole) is the fake's clock: a real-time CSV (a 5-minute
    4-hour block, the hourly prelim day) exists once its first interval has ended (`publish_lag`
    later) and holds the intervals ended by then; the hourly final file once its whole day has;
    WW_DALMP for D from `day_ahead_published_at` (New York) on D-1; the JSON services hold the
    intervals ended by then (an empty report before the first). Static CSVs answer
    `Range: bytes=-N` with their last N bytes (206).
    """

    clock_timezone = EASTERN

    def __init__(
        self,
        *,
        username: str = "demo@example.com",
        password: str = "demo-password",
        locations: Sequence[tuple[str, str, str]] = DEMO_LOCATIONS,
        unpublished_days: Iterable[date] = (),
        no_data_days: Iterable[date] = (),
        faults: Mapping[str, Faults] | None = None,
        maintenance: bool = False,
        fail_first_with_503: int = 0,
        now: datetime | None = None,
        publish_lag: timedelta = timedelta(0),
        day_ahead_published_at: time = DAY_AHEAD_PUBLISHED_AT,
        port: int = 0,
    ):
        self.username, self.password = username, password
        self.locations = list(locations)
        self.unpublished_days: set[date] = set(unpublished_days)
        self.no_data_days: set[date] = set(no_data_days)
        self.faults: dict[str, Faults] = dict(faults or {})
        self.maintenance = maintenance
        self.fail_first_with_503 = fail_first_with_503
        self._init_clock(now, publish_lag, day_ahead_published_at)
        self._init_loopback(port)
        self._count = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def webservices_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1.1"

    def handle(
        self,
        path: str,
        authorization: str | None,
        accept: str | None,
        range_header: str | None = None,
    ) -> Response:
        """The response to one GET; also records it. Called from the handler threads."""
        arrived = monotonic()
        with self._lock:
            self._count += 1
            number = self._count
        user = _basic_user(authorization)
        response = self._respond(number, path, authorization)
        if response.status == 200 and response.content_type == "text/csv":
            partial = suffix_range(range_header, response.body)
            if partial is not None:
                response = Response(partial[0], response.content_type, partial[1], partial[2])
        entry = IsoneRequest(path, accept, user, arrived, response.status, range_header)
        with self._lock:
            self._requests.append(entry)
        return response

    def _respond(self, number: int, path: str, authorization: str | None) -> Response:
        if number <= self.fail_first_with_503:
            return Response(503, "text/html", UNAVAILABLE)
        if path.startswith(API):
            if authorization != _basic(self.username, self.password):
                challenge = (("WWW-Authenticate", 'Basic realm="ISO-NE Web Services"'),)
                return Response(401, "application/json", UNAUTHORIZED, challenge)
            return self._route(path.removeprefix(API), API_ROUTES, self._json)
        if path.startswith(STATIC):
            return self._route(path.removeprefix(STATIC), STATIC_ROUTES, self._csv)
        return Response(404, "text/html", NOT_FOUND)

    def _route(self, rest: str, routes: Mapping[re.Pattern[str], str], answer) -> Response:
        for pattern, dataset in routes.items():
            found = pattern.fullmatch(rest)
            if found is None:
                continue
            groups = found.groups()
            stamp = next(g for g in groups if g.isdigit() and len(g) == 8)
            day = datetime.strptime(stamp, "%Y%m%d").date()
            if day in self.unpublished_days:
                return Response(404, "text/html", NOT_FOUND)
            if self.maintenance:
                return Response(200, "text/html", MAINTENANCE_HTML)
            return answer(dataset, day, [g for g in groups if g != stamp])
        return Response(404, "text/html", NOT_FOUND)

    def _csv(self, dataset: str, day: date, extra: list[str]) -> Response:
        until = self.published_until()
        # The first interval whose end makes the file exist, and whether its rows grow with it.
        day_start, day_end = local_day_bounds(TIMEZONE, day)
        if dataset == "lmp_da":
            exists, growing = self.day_ahead_published(day), False
        elif dataset == "lmp_rt5":
            block_start = rt5_windows(day)[RT5_BLOCKS.index(extra[0])][0]
            exists, growing = until is None or block_start + FIVE_MINUTES <= until, True
        elif extra[0] == "prelim":
            exists, growing = until is None or day_start + timedelta(hours=1) <= until, True
        else:  # the final file replaces the prelim one once the whole day is in
            exists, growing = until is None or day_end <= until, False
        if not exists:
            return Response(404, "text/html", NOT_FOUND)
        if day in self.no_data_days:
            return Response(200, "text/csv", NO_DATA_BODY)
        faults, rows_until = self.faults.get(dataset), until if growing else None
        if dataset == "lmp_rt5":
            body = rt5_lmp_csv(
                day, extra[0], locations=self.locations, faults=faults, published_until=rows_until
            )
        else:
            report = "da" if dataset == "lmp_da" else f"rt_{extra[0]}"
            body = hourly_lmp_csv(
                day, report, locations=self.locations, faults=faults, published_until=rows_until
            )
        return Response(200, "text/csv", body)

    def _json(self, dataset: str, day: date, extra: list[str]) -> Response:
        empty = Response(200, "application/json", f'{{"{JSON_WRAPPERS[dataset]}":""}}'.encode())
        if day in self.no_data_days:
            return empty
        until = self.published_until()
        body = JSON_GENERATORS[dataset](day, self.faults.get(dataset), published_until=until)
        if until is not None and not any(json.loads(body)[JSON_WRAPPERS[dataset]].values()):
            return empty  # nothing of the day published yet: the service's empty report
        return Response(200, "application/json", body)


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def _basic_user(authorization: str | None) -> str | None:
    if not authorization or not authorization.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(authorization.removeprefix("Basic ")).decode()
    except ValueError:
        return None
    return decoded.partition(":")[0]


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        response = self.server.fake.handle(
            path,
            self.headers.get("Authorization"),
            self.headers.get("Accept"),
            self.headers.get("Range"),
        )
        self.reply(response.status, response.content_type, response.body, response.headers)


FakeIsone.handler = _Handler
FakeIsone.thread_name = "fake-isone"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--username", default="demo@example.com")
    parser.add_argument("--password", default="demo-password")
    args = parser.parse_args(argv)
    with FakeIsone(username=args.username, password=args.password, port=args.port) as fake:
        print(f"POWER_ASSETS_ISONE_BASE_URL={fake.base_url}", flush=True)
        print(f"POWER_ASSETS_ISONE_WEBSERVICES_BASE_URL={fake.webservices_base_url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
