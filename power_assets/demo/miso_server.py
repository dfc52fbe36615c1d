"""A fake MISO on loopback: market reports and the public API with MISO's URL shapes.

What belongs here: the HTTP side (which names exist, 404 for anything MISO would not have, the
publication clock, the request log). Payloads come from `miso_fixtures`.

    GET /marketreports/{YYYYMMDD}_{da_expost_lmp|da_exante_lmp|rt_lmp_final|rt_lmp_prelim}.csv
    GET /marketreports/{YYYYMMDD}_{asm_expost_damcp|asm_rtmcp_final|asm_rtmcp_prelim}.csv
    GET /marketreports/{YYYYMMDD}_df_al.xls          GET /marketreports/{Monday}_5MIN_LMP.zip
    GET /marketreports/{YYYYMM}_{da|rt}_pr_xls.zip (2015-2022)
    GET /api/MarketPricing/GetRealTimeFiveMinExPost/{Current|Rolling|Previous}
    GET /api/FuelMix/{Today|Yesterday}               GET /api/RealTimeTotalLoad
    GET /pricing/v1/real-time/{yyyy-mm-dd}/lmp-expost?timeResolution=5min&pageNumber=n
        (Data Exchange: header Ocp-Apim-Subscription-Key, 401 without the fake's key)

    python -m power_assets.demo.miso_server   # serve until Ctrl-C, printing the base URLs
"""

import argparse
import contextlib
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit

from power_assets.demo import miso_fixtures as gen
from power_assets.demo import miso_history_fixtures as history
from power_assets.demo.loopback import LoopbackServer, QuietHandler

_REPORT = re.compile(r"^(?P<day>\d{8})_(?P<report>[A-Za-z0-9_]+)\.(?P<ext>csv|xls|zip)$")
# Monthly pricing archives of daily hub-LMP workbooks: MISO serves 2015-2022 (404 from 2023).
_MONTHLY = re.compile(r"^(?P<year>\d{4})(?P<month>\d{2})_(?P<market>da|rt)_pr_xls\.zip$")
DAY_AHEAD_AT = time(14, 0)  # EST, the day before
REAL_TIME_AT = time(6, 0)  # EST, the day after (preliminary)
NOT_FOUND = b"<html><body><h1>404 - File or directory not found.</h1></body></html>"
_EXCHANGE = re.compile(r"^/pricing/v1/real-time/(?P<day>\d{4}-\d{2}-\d{2})/lmp-expost$")
EXCHANGE_AT = time(7, 0)  # EST, the day after
DENIED = (b'{"statusCode": 401, "message": "Access denied due to invalid subscription key. '
          b'Make sure to provide a valid key for an active subscription."}')  # fmt: skip


@dataclass(frozen=True)
class MisoRequest:
    path: str
    status: int
    query: str = ""
    key_present: bool = False  # whether a Data Exchange key came along (never the key itself)


def _est(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=gen.EST)


class FakeMiso(LoopbackServer):
    """MISO's reports and public API on 127.0.0.1, generated on demand.

    `now` (aware, settable; default: the wall clock) decides what is published: day-ahead
    reports of D from D-1 14:00 EST, preliminary real-time reports from D+1 06:00, final ones
    `final_lag` later, df_al of P from P 00:30, the weekly ZIP of Monday M from M 08:00; the
    public API serves today so far (Rolling, Today) and yesterday (Previous, Yesterday).
    """

    def __init__(
        self, *, now: datetime | None = None, final_lag: timedelta = timedelta(days=4),
        pricing_key: str | None = None, page_size: int = 1000, port: int = 0,
    ):  # fmt: skip
        self.now = now
        self.final_lag = final_lag
        self.pricing_key = pricing_key
        self.page_size = page_size
        self._init_loopback(port)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/marketreports"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def exchange_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/pricing/v1"

    def clock(self) -> datetime:
        return (self.now or datetime.now(UTC)).astimezone(gen.EST)

    def handle(self, path: str, query: str = "", key: str | None = None) -> tuple[int, str, bytes]:
        if path.startswith("/pricing/"):
            status, kind, body = self._exchange(path, query, key, self.clock())
        else:
            status, kind, body = self._respond(path)
        self._log_request(MisoRequest(path, status, query, key is not None))
        return status, kind, body

    def _exchange(
        self, path: str, query: str, key: str | None, now: datetime
    ) -> tuple[int, str, bytes]:
        """Data Exchange: a day's `Preliminary` rows from 07:00 EST the day after, its `Final`
        ones `final_lag` later (`preliminaryFinal` is required), in pages, labelled as MISO
        served it on the fake's date (interval end before 2026-05-06, start since)."""
        if self.pricing_key is None or key != self.pricing_key:
            return 401, "application/json", DENIED
        match = _EXCHANGE.match(path)
        params = parse_qs(query)
        version = params.get("preliminaryFinal", [""])[0]
        if match is None or params.get("timeResolution") != ["5min"]:
            return 404, "application/json", b'{"statusCode": 404, "message": "Resource not found"}'
        if version not in ("Preliminary", "Final"):
            return 400, "application/json", b'{"statusCode": 400, "message": "preliminaryFinal"}'
        day = date.fromisoformat(match["day"])
        out = _est(day + timedelta(days=1), EXCHANGE_AT)
        if (out + self.final_lag if version == "Final" else out) > now:
            return 404, "application/json", b'{"statusCode": 404, "message": "Date not found"}'
        number = int(params.get("pageNumber", ["1"])[0])
        rows = gen.exchange_rows(day, now.date(), version)
        return 200, "application/json", gen.exchange_page(rows, number, self.page_size)

    def _respond(self, path: str) -> tuple[int, str, bytes]:
        now = self.clock()
        if path.startswith("/marketreports/"):
            return self._report(path.removeprefix("/marketreports/"), now)
        if path.startswith("/api/"):
            return self._api(path.removeprefix("/api/"), now)
        return 404, "text/html", NOT_FOUND

    def _report(self, name: str, now: datetime) -> tuple[int, str, bytes]:
        monthly = _MONTHLY.match(name)
        if monthly is not None and 2015 <= int(monthly["year"]) <= 2022:
            year, month = int(monthly["year"]), int(monthly["month"])
            if 1 <= month <= 12:
                body = history.monthly_pricing_zip(monthly["market"], year, month)
                return 200, "application/x-zip-compressed", body
        match = _REPORT.match(name)
        if match is None:
            return 404, "text/html", NOT_FOUND
        try:
            day = datetime.strptime(match["day"], "%Y%m%d").date()
        except ValueError:
            return 404, "text/html", NOT_FOUND
        report, ext = match["report"], match["ext"]
        after = timedelta(days=1)
        published = {
            "da_expost_lmp": _est(day - after, DAY_AHEAD_AT),
            "da_exante_lmp": _est(day - after, DAY_AHEAD_AT),
            "asm_expost_damcp": _est(day - after, DAY_AHEAD_AT),
            "rt_lmp_prelim": _est(day + after, REAL_TIME_AT),
            "asm_rtmcp_prelim": _est(day + after, REAL_TIME_AT),
            "rt_lmp_final": _est(day + after, REAL_TIME_AT) + self.final_lag,
            "asm_rtmcp_final": _est(day + after, REAL_TIME_AT) + self.final_lag,
            "df_al": _est(day, time(0, 30)),
            "5MIN_LMP": _est(day, time(8, 0)),
        }.get(report)
        if published is None or published > now or (report == "5MIN_LMP" and day.weekday() != 0):
            return 404, "text/html", NOT_FOUND
        if ext == "csv" and "lmp" in report and report in gen.TITLES:
            return 200, "text/csv", gen.lmp_csv(report, day)
        if ext == "csv" and report in gen.TITLES:
            return 200, "text/csv", gen.asm_csv(report, day)
        if ext == "xls" and report == "df_al":
            return 200, "application/vnd.ms-excel", gen.df_al(day)
        if ext == "zip" and report == "5MIN_LMP":
            return 200, "application/x-zip-compressed", gen.weekly_five_minute_zip(day)
        return 404, "text/html", NOT_FOUND

    def _api(self, path: str, now: datetime) -> tuple[int, str, bytes]:
        today, yesterday = now.date(), now.date() - timedelta(days=1)
        answers = {
            "MarketPricing/GetRealTimeFiveMinExPost/Current": lambda: gen.five_minute_api(today, now, last_only=True),
            "MarketPricing/GetRealTimeFiveMinExPost/Rolling": lambda: gen.five_minute_api(today, now),
            "MarketPricing/GetRealTimeFiveMinExPost/Previous": lambda: gen.five_minute_api(yesterday, None),
            "FuelMix/Today": lambda: gen.fuel_mix_api(today, now),
            "FuelMix/Yesterday": lambda: gen.fuel_mix_api(yesterday, None),
            "RealTimeTotalLoad": lambda: gen.total_load_api(today, now),
        }  # fmt: skip
        answer = answers.get(path)
        if answer is None:
            return 404, "application/json", b'{"statusCode": 404, "message": "Resource not found"}'
        return 200, "application/json", answer()


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        key = self.headers.get("Ocp-Apim-Subscription-Key")
        status, kind, body = self.server.fake.handle(url.path, url.query, key)
        self.reply(status, kind, body)


FakeMiso.handler = _Handler
FakeMiso.thread_name = "fake-miso"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    with FakeMiso(port=args.port) as fake:
        print(fake.base_url, fake.api_url, fake.exchange_url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
