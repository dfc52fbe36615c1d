"""A fake CAISO OASIS on loopback: OASIS's URL shapes in, OASIS's response formats out.

What belongs here: the HTTP side of the fake (request validation with OASIS-style error ZIPs,
recorded-response lookup, throttling and outage simulation, the publication clock, a log of every
request) and the tools that write and serve the demo recordings. Payload generation lives in
`oasis_fixtures`.

Error codes used for invalid requests (the pipeline only tells 1000 "no data" and 1015 "retry later"
apart from the rest): 1001 missing or unsupported parameter, 1002 bad date/time, 1004 range over
31 days, 1005 unknown report, 1006 version or market run not valid for the report, 1018 all-node
real-time request longer than one hour.

    python -m power_assets.demo.oasis_server --record power_assets/demo/recordings \\
        --days 2024-11-03 2024-11-04
    python -m power_assets.demo.oasis_server --serve
"""

import argparse
import contextlib
import io
import threading
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from time import monotonic
from urllib.parse import parse_qsl, urlsplit

from power_assets.demo.caiso_extra_fixtures import demand_csv, fuelsource_csv, sld_fcst_response
from power_assets.demo.loopback import LoopbackServer, QuietHandler
from power_assets.demo.oasis_fixtures import (
    DEMO_NODES,
    INTERVALS,
    OASIS_TIME_FORMAT,
    PACIFIC,
    QUERIES,
    THROTTLE_HTML,
    UTC,
    Faults,
    oasis_error_zip,
    oasis_zip,
)
from power_assets.demo.publication import PublicationClock
from power_assets.demo.synthetic import local_day_bounds

RECORDINGS_DIR = Path(__file__).with_name("recordings")
DEMO_DATASETS = ("lmp_da", "lmp_rt5", "lmp_rt15", "as_da")
MAX_RANGE = timedelta(days=31)
MAX_ALL_NODE_RT = timedelta(hours=1)
ALL_NODE_RT_REPORTS = frozenset({"PRC_INTVL_LMP", "PRC_RTPD_LMP"})
NO_DATA = ("1000", "No data returned for the specified selection")
UNAVAILABLE_HTML = b"<html><body><h1>503 Service Unavailable</h1></body></html>"
REQUIRED = ("resultformat", "queryname", "version", "market_run_id", "startdatetime", "enddatetime")
DAY_AHEAD_PUBLISHED_AT = time(13, 0)
# SLD_FCST daily runs: how many days before a trading day its forecast is published (RTM grows
# with the clock like the real-time prices, one RTPD interval at a time).
SLD_FCST_DAYS_AHEAD = {"DAM": 1, "2DA": 2, "7DA": 7}
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # the generator aligns intervals to multiples from it


@dataclass(frozen=True)
class OasisRequest:
    """One request the fake received: path, parameters (names lower-cased), arrival time
    (`time.monotonic()`) and the HTTP status it was answered with."""

    path: str
    params: dict[str, str]
    time: float
    status: int


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: bytes
    filename: str | None = None


class OasisRequestError(Exception):
    """A request OASIS would refuse: answered with an error ZIP holding INVALID_REQUEST.xml."""

    def __init__(self, code: str, desc: str):
        super().__init__(f"{code}: {desc}")
        self.code, self.desc = code, desc


def parse_oasis_time(value: str) -> datetime:
    """`20240310T08:00-0000` (any +-HHMM offset) as an aware UTC datetime."""
    try:
        return datetime.strptime(value, "%Y%m%dT%H:%M%z").astimezone(UTC)
    except ValueError:
        raise OasisRequestError(
            "1002", f"Invalid date/time {value!r}; use YYYYMMDDTHH24:MI-0000"
        ) from None


def _params(params: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    items = params.items() if isinstance(params, Mapping) else params
    return {key.lower(): value for key, value in items}


def recording_name(params: Mapping[str, str] | Iterable[tuple[str, str]]) -> str:
    """Stable file name of a recorded response, the same as the pipeline's raw-download name:
    `{queryname}_{market_run_id}_{start:%Y%m%dT%H%M}Z_{end:%Y%m%dT%H%M}Z.zip`, plus a checksum of
    the selection when the request names nodes, AS types or regions instead of ALL."""
    p = _params(params)
    start, end = parse_oasis_time(p["startdatetime"]), parse_oasis_time(p["enddatetime"])
    name = f"{p['queryname']}_{p['market_run_id']}_{start:%Y%m%dT%H%M}Z_{end:%Y%m%dT%H%M}Z"
    selection = [
        f"{k}={p[k]}" for k in ("node", "anc_type", "anc_region") if p.get(k, "ALL") != "ALL"
    ]
    if selection:
        name += f"_sel{zlib.crc32('&'.join(selection).encode()):08x}"
    return f"{name}.zip"


def _zip_filename(body: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return f"{Path(archive.namelist()[0]).stem}.zip"


class FakeOasis(PublicationClock, LoopbackServer):
    """OASIS `SingleZip` on 127.0.0.1, answered from recordings, the generator, or "no data".

    Use as a context manager; `base_url` is what the pipeline's base-URL setting takes.

    `now` (aware, settable; None: everything) is the fake's clock: real-time reports hold the
    intervals ended by then (`publish_lag` later); day-ahead reports (PRC_LMP, PRC_AS, SLD_FCST
    DAM) hold the trading days published by then, day D at `day_ahead_published_at` (Pacific) on
    D-1 (SLD_FCST 2DA and 7DA that many days before). A selection wholly unpublished answers the
    "no data" error ZIP (1000); one partly published is generated, never read from recordings.

    `faults` (by query name) spoil every generated answer of that report; `day_faults` (trading
    day -> query name -> faults) only the answers for that day, and win over `faults` there.
    """

    clock_timezone = PACIFIC

    def __init__(
        self,
        *,
        recordings_dir: Path | None = None,
        generate: bool = True,
        nodes: Sequence[str] = DEMO_NODES,
        unpublished_days: Iterable[date] = (),
        unpublished_windows: Iterable[tuple[datetime, datetime]] = (),
        faults: Mapping[str, Faults] | None = None,
        day_faults: Mapping[date, Mapping[str, Faults]] | None = None,
        throttle_every: int = 0,
        fail_first_with_503: int = 0,
        now: datetime | None = None,
        publish_lag: timedelta = timedelta(0),
        day_ahead_published_at: time = DAY_AHEAD_PUBLISHED_AT,
        port: int = 0,
    ):
        self.recordings_dir = Path(recordings_dir) if recordings_dir is not None else None
        self.generate = generate
        self.nodes = list(nodes)
        self.unpublished_days: set[date] = set(unpublished_days)
        # (start, end) in UTC: a selection overlapping one answers "no data", as OASIS does for
        # an hour it has not published (or lost).
        self.unpublished_windows: set[tuple[datetime, datetime]] = set(unpublished_windows)
        self.faults: dict[str, Faults] = dict(faults or {})
        self.day_faults: dict[date, dict[str, Faults]] = {
            day: dict(by_query) for day, by_query in (day_faults or {}).items()
        }
        self.throttle_every = throttle_every
        self.fail_first_with_503 = fail_first_with_503
        self._init_clock(now, publish_lag, day_ahead_published_at)
        self._init_loopback(port)
        self._count = 0

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/oasisapi"

    # -- answering ---------------------------------------------------------------------------

    def handle(self, path: str, params: dict[str, str]) -> Response:
        """The response to one GET; also records it. Called from the handler threads."""
        arrived = monotonic()
        with self._lock:
            self._count += 1
            number = self._count
        response = self._respond(number, path, params)
        with self._lock:
            self._requests.append(OasisRequest(path, params, arrived, response.status))
        return response

    def _respond(self, number: int, path: str, params: dict[str, str]) -> Response:
        if number <= self.fail_first_with_503:
            return Response(503, "text/html", UNAVAILABLE_HTML)
        if self.throttle_every and number % self.throttle_every == 0:
            return Response(429, "text/html", THROTTLE_HTML)
        if path.rstrip("/") != "/oasisapi/SingleZip":
            return Response(404, "text/html", b"<html><body><h1>404 Not Found</h1></body></html>")
        try:
            body = self._payload(params)
        except OasisRequestError as exc:
            body = oasis_error_zip(exc.code, exc.desc)
        return Response(200, "application/x-zip-compressed", body, _zip_filename(body))

    def _payload(self, params: dict[str, str]) -> bytes:
        if params.get("queryname") == "SLD_FCST":
            params = self._published_sld_fcst(params)
        if params.get("queryname") == "SLD_FCST" and self.recordings_dir is not None:
            recorded = self.recordings_dir / recording_name(params)
            if recorded.is_file():
                return recorded.read_bytes()
        if self.generate:
            forecast = sld_fcst_response(params, self.unpublished_days)
            if forecast is not None:
                return forecast
        queryname, start, end = self._validate(params)
        if _trading_days(start, end) & self.unpublished_days:
            raise OasisRequestError(*NO_DATA)
        if any(
            start < gone_end and gone_start < end
            for gone_start, gone_end in self.unpublished_windows
        ):
            raise OasisRequestError(*NO_DATA)
        step = INTERVALS[queryname]
        days_ahead = 1 if step >= timedelta(hours=1) else None
        published_end = self._published_end(start, end, step, _EPOCH, days_ahead)
        if published_end < end:  # recordings hold whole windows
            if not self.generate:
                raise OasisRequestError(*NO_DATA)
            end = published_end
        elif self.recordings_dir is not None:
            recorded = self.recordings_dir / recording_name(params)
            if recorded.is_file():
                return recorded.read_bytes()
        if not self.generate:
            raise OasisRequestError(*NO_DATA)
        nodes = self.nodes
        if "node" in params:
            wanted = set(params["node"].split(","))
            nodes = [n for n in self.nodes if n in wanted]
            if not nodes:
                raise OasisRequestError(*NO_DATA)
        return oasis_zip(
            queryname, start, end, nodes=nodes, faults=self._faults(queryname, start, end),
            anc_types=_selection(params.get("anc_type")),
            anc_regions=_selection(params.get("anc_region")),
        )  # fmt: skip

    def _faults(self, queryname: str, start: datetime, end: datetime) -> Faults | None:
        for day in sorted(_trading_days(start, end)):
            spoiled = self.day_faults.get(day, {}).get(queryname)
            if spoiled is not None:
                return spoiled
        return self.faults.get(queryname)

    def _published_end(
        self,
        start: datetime,
        end: datetime,
        step: timedelta,
        anchor: datetime,
        days_ahead: int | None,
    ) -> datetime:
        """How far [start, end) is published by the clock: `end` when all of it is, else the end
        of its published part (intervals of `step` aligned on `anchor`; for day-ahead reports,
        the trading days published `days_ahead` days before). Raises "no data" for none of it."""
        until = self.published_until()
        if until is None:
            return end
        published = end
        if days_ahead is not None:
            for trading_day in sorted(_trading_days(start, end)):
                if not self.day_ahead_published(trading_day, days_ahead):
                    published = local_day_bounds("America/Los_Angeles", trading_day)[0]
                    break
        else:
            published = min(end, anchor + (until - anchor) // step * step)
        if published <= start:
            raise OasisRequestError(*NO_DATA)
        return published

    def _published_sld_fcst(self, params: dict[str, str]) -> dict[str, str]:
        """`params` with `enddatetime` cut to what the clock has published; unchanged when the
        request is malformed (`sld_fcst_response` answers that) or wholly published."""
        try:
            start = parse_oasis_time(params["startdatetime"])
            end = parse_oasis_time(params["enddatetime"])
        except (KeyError, OasisRequestError):
            return params
        run = params.get("market_run_id", "")
        if run not in (*SLD_FCST_DAYS_AHEAD, "RTM") or end <= start:
            return params
        step = timedelta(minutes=15)  # RTM's longest interval, its RTD ones end on the same edges
        published = self._published_end(start, end, step, start, SLD_FCST_DAYS_AHEAD.get(run))
        if published == end:
            return params
        return {**params, "enddatetime": published.strftime(OASIS_TIME_FORMAT)}

    def _validate(self, params: dict[str, str]) -> tuple[str, datetime, datetime]:
        missing = [name for name in REQUIRED if not params.get(name)]
        if missing:
            raise OasisRequestError("1001", f"Missing required parameter(s): {', '.join(missing)}")
        if params["resultformat"] != "6":
            raise OasisRequestError("1001", "This server answers resultformat=6 (CSV) only")
        queryname = params["queryname"]
        if queryname not in QUERIES:
            raise OasisRequestError("1005", f"Invalid report name {queryname!r}")
        if params["version"] != QUERIES[queryname].version:
            raise OasisRequestError(
                "1006", f"Version {params['version']!r} invalid for {queryname}"
            )
        if params["market_run_id"] != QUERIES[queryname].market_run_id:
            raise OasisRequestError(
                "1006", f"market_run_id {params['market_run_id']!r} invalid for {queryname}"
            )
        all_nodes = queryname != "PRC_AS" and "node" not in params
        if all_nodes and params.get("grp_type") not in ("ALL_APNODES", "ALL"):
            raise OasisRequestError("1001", "Give node=... or grp_type=ALL_APNODES")
        start = parse_oasis_time(params["startdatetime"])
        end = parse_oasis_time(params["enddatetime"])
        if end <= start:
            raise OasisRequestError("1002", "enddatetime must be after startdatetime")
        if end - start > MAX_RANGE:
            raise OasisRequestError("1004", "Date range exceeds the maximum of 31 days")
        if all_nodes and queryname in ALL_NODE_RT_REPORTS and end - start > MAX_ALL_NODE_RT:
            raise OasisRequestError(
                "1018", f"{queryname} for all nodes is limited to one hour per request"
            )
        return queryname, start, end


def _selection(value: str | None) -> list[str] | None:
    return None if value in (None, "", "ALL") else value.split(",")


def _trading_days(start: datetime, end: datetime) -> set[date]:
    first = start.astimezone(PACIFIC).date()
    last = (end - timedelta(microseconds=1)).astimezone(PACIFIC).date()
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        params = _params(parse_qsl(url.query, keep_blank_values=True))
        response = self.server.fake.handle(url.path, params)
        disposition = f"inline; filename={response.filename};" if response.filename else None
        headers = [("Content-Disposition", disposition)] if disposition else []
        self.reply(response.status, response.content_type, response.body, headers)


FakeOasis.handler = _Handler
FakeOasis.thread_name = "fake-oasis"


def record_demo(recordings_dir: Path, days: Iterable[date]) -> list[Path]:
    """Write the generator's answers to every request the pipeline sends for the four CAISO demo
    datasets on `days`, under the names `FakeOasis` looks up. Same inputs, same bytes."""
    recordings_dir = Path(recordings_dir)
    recordings_dir.mkdir(parents=True, exist_ok=True)
    # The recordings must carry the names of the very requests the pipeline sends, so they are
    # planned by the pipeline's CAISO module (what they hold is the fake's own format).
    from power_assets.isos.caiso import Caiso

    caiso, written = Caiso(), []
    for dataset in DEMO_DATASETS:
        for day in days:
            for request in caiso.requests_for_day(dataset, day):
                params = dict(request.params)
                body = oasis_zip(params["queryname"], request.window_start, request.window_end)
                path = recordings_dir / recording_name(params)
                path.write_bytes(body)
                written.append(path)
    for day in days:
        for request in caiso.requests_for_day("load_forecast", day):
            body = sld_fcst_response(dict(request.params))
            path = recordings_dir / recording_name(dict(request.params))
            path.write_bytes(body)
            written.append(path)
        for name, generate in (("fuelsource.csv", fuelsource_csv), ("demand.csv", demand_csv)):
            path = recordings_dir / "outlook" / "history" / f"{day:%Y%m%d}" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(generate(day))
            written.append(path)
    return written


def oasis_params(
    queryname: str, start: datetime, end: datetime, **selection: str
) -> list[tuple[str, str]]:
    """Request parameters in OASIS's shape for a report and UTC window (for ad-hoc requests)."""
    query = QUERIES[queryname]
    return [
        ("resultformat", "6"),
        ("queryname", queryname),
        ("version", query.version),
        ("market_run_id", query.market_run_id),
        ("startdatetime", start.strftime(OASIS_TIME_FORMAT)),
        ("enddatetime", end.strftime(OASIS_TIME_FORMAT)),
        *(selection.items() or dict(query.selection).items()),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--record", type=Path, metavar="DIR", help="write recordings into DIR")
    action.add_argument("--serve", action="store_true", help="serve recordings until Ctrl-C")
    parser.add_argument("--days", nargs="+", type=date.fromisoformat, default=[])
    parser.add_argument("--recordings", type=Path, default=RECORDINGS_DIR)
    parser.add_argument("--generate", action="store_true", help="synthesize what is not recorded")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    if args.record is not None:
        if not args.days:
            parser.error("--record needs --days")
        paths = record_demo(args.record, args.days)
        size = sum(p.stat().st_size for p in paths)
        print(f"wrote {len(paths)} recordings ({size:,} bytes) to {args.record}")
        return 0
    with FakeOasis(recordings_dir=args.recordings, generate=args.generate, port=args.port) as fake:
        print(fake.base_url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
