"""Synthetic CAISO Today's Outlook CSVs and OASIS SLD_FCST answers, and a fake Outlook server.

What belongs here: deterministic generators of `fuelsource.csv`, `demand.csv` and SLD_FCST ZIPs in
the real formats, `sld_fcst_response` for FakeOasis to serve SLD_FCST, and `FakeOutlook`, a
loopback server for `history/YYYYMMDD/{fuelsource,demand}.csv`. The numbers are invented from
simple daily shapes, never taken from recorded CAISO data.

Outlook format (see `power_assets.isos.caiso.outlook`): header `Time,<columns>`, one row per local
wall-clock 5-minute slot `HH:MM`, integer MW, and by default a trailing `00:00` row holding the
next day's midnight. The DST days can be written each way public reports describe: the
spring-forward 02:xx rows blank or absent, the fall-back 01:xx hour repeated or collapsed.
"""

import math
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from power_assets.demo.loopback import LoopbackServer, QuietHandler
from power_assets.demo.oasis_fixtures import (
    PACIFIC,
    UTC,
    format_value,
    oasis_error_zip,
    zip_single,
)
from power_assets.demo.synthetic import bump, local_day_bounds

# The formats as CAISO publishes them, written out here (not taken from the parsers).
# Today's Outlook fuelsource.csv columns after "Time", as in 2024.
OUTLOOK_FUELS = (
    "Solar", "Wind", "Geothermal", "Biomass", "Biogas", "Small hydro", "Coal", "Nuclear",
    "Natural Gas", "Large Hydro", "Batteries", "Imports", "Other",
)  # fmt: skip
# demand.csv's forecast columns beside "Current demand" ("Demand response" from about 2023).
DEMAND_OTHER = ("Day ahead forecast", "Hour ahead forecast", "Demand response")
# OASIS SLD_FCST CSV header (resultformat=6).
SLD_FCST_HEADER = (
    "INTERVALSTARTTIME_GMT", "INTERVALENDTIME_GMT", "LOAD_TYPE", "OPR_DT", "OPR_HR",
    "OPR_INTERVAL", "MARKET_RUN_ID", "TAC_AREA_NAME", "LABEL", "XML_DATA_ITEM", "POS", "MW",
    "EXECUTION_TYPE", "GROUP",
)  # fmt: skip

FIVE_MINUTES = timedelta(minutes=5)
FallBack = Literal["repeated", "collapsed"]
SpringGap = Literal["blank", "absent"]
DEMO_TAC_AREAS = ("CA ISO-TAC", "PGE-TAC", "SCE-TAC", "SDGE-TAC", "VEA-TAC", "BPAT", "PACE")
_AREA_SHARE = {
    "CA ISO-TAC": 1.0, "PGE-TAC": 0.42, "SCE-TAC": 0.46, "SDGE-TAC": 0.11, "VEA-TAC": 0.004,
    "BPAT": 0.27, "PACE": 0.22,
}  # fmt: skip
# SLD_FCST per run: LOAD_TYPE, LABEL, XML_DATA_ITEM, leading POS digit, days published ahead.
_RUNS = {
    "7DA": ("0", "Demand Forecast 7-Day Ahead", "SYS_FCST_7DA_MW", 0, 7),
    "2DA": ("2", "Demand Forecast 2-Day Ahead", "SYS_FCST_2DA_MW", 1, 2),
    "DAM": ("1", "Demand Forecast Day Ahead", "SYS_FCST_DA_MW", 2, 1),
}
# RTM comes as two executions with their own interval, label, item and POS digit.
_RTM = {
    "RTPD": (timedelta(minutes=15), "RTM 15Min Load Forecast", "SYS_FCST_15MIN_MW", 4),
    "RTD": (timedelta(minutes=5), "RTM 5Min Load Forecast", "SYS_FCST_5MIN_MW", 5),
}
NOT_FOUND_HTML = b"<html><head><title>404 Not Found</title></head><body>Not Found</body></html>"


def _noise(*keys: object) -> float:
    """Deterministic number in [-0.5, 0.5) from the keys."""
    return zlib.crc32(repr(keys).encode()) / 2**32 - 0.5


def _demand(instant: datetime) -> float:
    local = instant.astimezone(PACIFIC)
    hour = local.hour + local.minute / 60
    base = 21_000 + 7_500 * bump(hour, 18.5, 10.0) + 2_500 * bump(hour, 8.0, 6.0)
    return base + 1_200 * math.sin(local.toordinal() * 0.7) + 150 * _noise("d", instant)


def _fuels(instant: datetime) -> dict[str, int]:
    local = instant.astimezone(PACIFIC)
    hour = local.hour + local.minute / 60
    solar = 16_000 * math.sin(math.pi * (hour - 6.5) / 13) if 6.5 < hour < 19.5 else 0.0
    mix = {
        "Solar": solar - (45 if solar <= 0 else 0),  # panels draw a little power at night
        "Wind": 3_000 + 1_500 * math.sin(instant.timestamp() / 40_000),
        "Geothermal": 800 + 20 * _noise("g", instant),
        "Biomass": 260.0, "Biogas": 160.0, "Small hydro": 240.0, "Coal": 3.0, "Nuclear": 2_250.0,
        "Large Hydro": 2_400 + 800 * bump(hour, 19.0, 8.0),
        # Batteries charge through the solar peak (negative) and discharge into the evening.
        "Batteries": -6_500 * bump(hour, 12.5, 8.0) + 7_500 * bump(hour, 19.5, 3.0),
        "Imports": 6_500 - 4_500 * bump(hour, 13.0, 12.0),
        "Other": 0.0,
    }  # fmt: skip
    mix["Natural Gas"] = max(1_200.0, _demand(instant) - sum(mix.values()))
    return {fuel: round(mix[fuel]) for fuel in OUTLOOK_FUELS}


def _outlook_rows(
    day: date, fall_back: FallBack, spring_gap: SpringGap, trailing_midnight: bool
) -> list[tuple[str, datetime | None]]:
    """(HH:MM, instant) in file order; instant None for a blank spring-forward row."""
    start, end = local_day_bounds("America/Los_Angeles", day)
    rows: list[tuple[str, datetime | None]] = []
    seen: set[str] = set()
    instant = start
    while instant < end:
        label = f"{instant.astimezone(PACIFIC):%H:%M}"
        if label == "03:00" and end - start < timedelta(hours=24) and spring_gap == "blank":
            # The Outlook keeps its 288-slot grid: 02:00-02:55 stay in the file, empty.
            rows.extend((f"02:{m:02d}", None) for m in range(0, 60, 5))
        if not (label in seen and fall_back == "collapsed"):
            rows.append((label, instant))
        seen.add(label)
        instant += FIVE_MINUTES
    if trailing_midnight:
        rows.append(("00:00", end))
    return rows


def _csv(header: list[str], lines: Iterable[list[str]]) -> bytes:
    return ("\n".join(",".join(cells) for cells in [header, *lines]) + "\n").encode()


def fuelsource_csv(
    day: date,
    *,
    fall_back: FallBack = "repeated",
    spring_gap: SpringGap = "blank",
    trailing_midnight: bool = True,
) -> bytes:
    """`history/YYYYMMDD/fuelsource.csv` for `day`."""
    lines = []
    for label, instant in _outlook_rows(day, fall_back, spring_gap, trailing_midnight):
        mix = _fuels(instant) if instant else {}
        lines.append([label, *(str(mix[f]) if mix else "" for f in OUTLOOK_FUELS)])
    return _csv(["Time", *OUTLOOK_FUELS], lines)


def demand_csv(
    day: date,
    *,
    fall_back: FallBack = "repeated",
    spring_gap: SpringGap = "blank",
    trailing_midnight: bool = True,
) -> bytes:
    """`history/YYYYMMDD/demand.csv` for `day`; "Demand response" is left empty, as usual."""
    header = ["Time", DEMAND_OTHER[0], DEMAND_OTHER[1], "Current demand", DEMAND_OTHER[2]]
    lines = []
    for label, instant in _outlook_rows(day, fall_back, spring_gap, trailing_midnight):
        if instant is None:
            lines.append([label, "", "", "", ""])
            continue
        actual = _demand(instant)
        day_ahead = actual * (1 + 0.03 * _noise("da", instant.hour))
        hour_ahead = actual * (1 + 0.01 * _noise("ha", instant))
        lines.append([label, *(str(round(v)) for v in (day_ahead, hour_ahead, actual)), ""])
    return _csv(header, lines)


# -- OASIS SLD_FCST ---------------------------------------------------------------------------


def _trading_days(start: datetime, end: datetime) -> tuple[date, date]:
    return start.astimezone(PACIFIC).date(), (end - FIVE_MINUTES).astimezone(PACIFIC).date()


def sld_publish_time(market_run_id: str, start: datetime, end: datetime) -> datetime:
    """A plausible build time (UTC): daily runs at 09:10 Pacific N days before the first day,
    RTM just after the window (OASIS names files by when it built them)."""
    jitter = timedelta(seconds=zlib.crc32(f"{market_run_id}{start}".encode()) % 300)
    if market_run_id not in _RUNS:
        return end.astimezone(UTC) + timedelta(seconds=95) + jitter
    first, _ = _trading_days(start, end)
    issued = first - timedelta(days=_RUNS[market_run_id][4])
    local = datetime(issued.year, issued.month, issued.day, 9, 10, tzinfo=PACIFIC)
    return local.astimezone(UTC) + jitter


def sld_fcst_member_name(market_run_id: str, start: datetime, end: datetime) -> str:
    """`20250219_20250227_SLD_FCST_7DA_20250221_01_09_58_v1.csv`: days, run, Pacific build time."""
    first, last = _trading_days(start, end)
    built = sld_publish_time(market_run_id, start, end).astimezone(PACIFIC)
    return f"{first:%Y%m%d}_{last:%Y%m%d}_SLD_FCST_{market_run_id}_{built:%Y%m%d_%H_%M_%S}_v1.csv"


def _executions(run: str) -> list[tuple[str, timedelta, str, str, str, int]]:
    """(EXECUTION_TYPE, interval, LOAD_TYPE, LABEL, XML_DATA_ITEM, POS digit) of a run."""
    if run == "RTM":
        return [(e, step, "0", label, item, pos) for e, (step, label, item, pos) in _RTM.items()]
    load_type, label, item, pos, _ = _RUNS[run]
    return [(run, timedelta(hours=1), load_type, label, item, pos)]


def sld_fcst_csv(
    market_run_id: str,
    start: datetime,
    end: datetime,
    *,
    areas: Iterable[str] = DEMO_TAC_AREAS,
    extra_column: str | None = None,
    missing_column: str | None = None,
) -> bytes:
    """The SLD_FCST CSV OASIS would answer for one run over the UTC window [start, end)."""
    columns = [c for c in SLD_FCST_HEADER if c != missing_column]
    columns += [extra_column] if extra_column else []
    lines, group = [], 0
    for rank, area in enumerate(sorted(areas)):
        for execution, step, load_type, label, item, pos in _executions(market_run_id):
            group += 1
            rows = []
            instant = start.astimezone(UTC)
            while instant < end:
                local_day = instant.astimezone(PACIFIC).date()
                offset = instant - local_day_bounds("America/Los_Angeles", local_day)[0]
                error = 0.04 * _noise(market_run_id, execution, area, instant)
                mw = round(_demand(instant) * _AREA_SHARE.get(area, 0.05) * (1 + error), 2)
                cells = {
                    "INTERVALSTARTTIME_GMT": f"{instant:%Y-%m-%dT%H:%M:%S}-00:00",
                    "INTERVALENDTIME_GMT": f"{instant + step:%Y-%m-%dT%H:%M:%S}-00:00",
                    "LOAD_TYPE": load_type, "OPR_DT": local_day.isoformat(),
                    "OPR_HR": str(offset // timedelta(hours=1) + 1),
                    "OPR_INTERVAL": str((offset % timedelta(hours=1)) // step + 1)
                    if step < timedelta(hours=1) else "0",
                    "MARKET_RUN_ID": market_run_id, "TAC_AREA_NAME": area, "LABEL": label,
                    "XML_DATA_ITEM": item, "POS": f"{pos}.{rank}" if rank else str(pos),
                    "MW": format_value(mw), "EXECUTION_TYPE": execution, "GROUP": str(group),
                }  # fmt: skip
                cells[extra_column or ""] = ""
                rows.append([cells[c] for c in columns])
                instant += step
            # OASIS lists each group's rows in no particular order.
            rows.sort(key=lambda r: zlib.crc32(",".join(r).encode()))
            lines.extend(rows)
    return _csv(columns, lines)


def sld_fcst_zip(market_run_id: str, start: datetime, end: datetime, **options: object) -> bytes:
    """`sld_fcst_csv` zipped and named as OASIS serves it (options as for `sld_fcst_csv`)."""
    content = sld_fcst_csv(market_run_id, start, end, **options)  # type: ignore[arg-type]
    member = sld_fcst_member_name(market_run_id, start, end)
    built = sld_publish_time(market_run_id, start, end).astimezone(PACIFIC)
    return zip_single(member, content, built)


def sld_fcst_response(
    params: Mapping[str, str], unpublished_days: Iterable[date] = ()
) -> bytes | None:
    """FakeOasis's answer to an SLD_FCST query (parameter names lower-cased), None for others."""
    if params.get("queryname") != "SLD_FCST":
        return None
    run = params.get("market_run_id", "")
    if params.get("resultformat") != "6" or params.get("version") != "1":
        return oasis_error_zip("1006", "SLD_FCST is served as version 1, resultformat 6 only")
    if run not in (*_RUNS, "RTM"):
        return oasis_error_zip("1006", f"market_run_id {run!r} invalid for SLD_FCST")
    try:
        start, end = (
            datetime.strptime(params[k], "%Y%m%dT%H:%M%z").astimezone(UTC)
            for k in ("startdatetime", "enddatetime")
        )
    except (KeyError, ValueError):
        return oasis_error_zip("1002", "Invalid or missing startdatetime/enddatetime")
    if not start < end <= start + timedelta(days=31):
        return oasis_error_zip("1004", "Date range must be 1 to 31 days")
    first, last = _trading_days(start, end)
    if any(first <= d <= last for d in unpublished_days):
        return oasis_error_zip("1000", "No data returned for the specified selection")
    return sld_fcst_zip(run, start, end)


# -- fake Today's Outlook ---------------------------------------------------------------------


@dataclass(frozen=True)
class OutlookRequest:
    path: str
    status: int


class FakeOutlook(LoopbackServer):
    """`history/YYYYMMDD/{fuelsource,demand}.csv` on 127.0.0.1, generated on request.

    `unpublished_days` answer 404 with an HTML page; `html_days` answer an HTML page under 200
    (what the payload check must catch). Use as a context manager.
    """

    def __init__(
        self,
        *,
        unpublished_days: Iterable[date] = (),
        html_days: Iterable[date] = (),
        fall_back: FallBack = "repeated",
        recordings_dir: Path | None = None,
    ):
        """With `recordings_dir`, serve only recorded files (`history/YYYYMMDD/<name>.csv`)."""
        self.recordings_dir = recordings_dir
        self.unpublished_days, self.html_days = set(unpublished_days), set(html_days)
        self.fall_back = fall_back
        self._init_loopback()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/outlook"

    def handle(self, path: str) -> tuple[int, str, bytes]:
        status, content_type, body = self._respond(path)
        self._log_request(OutlookRequest(path, status))
        return status, content_type, body

    def _respond(self, path: str) -> tuple[int, str, bytes]:
        parts = path.strip("/").split("/")
        generators = {"fuelsource.csv": fuelsource_csv, "demand.csv": demand_csv}
        if len(parts) != 4 or parts[:2] != ["outlook", "history"] or parts[3] not in generators:
            return 404, "text/html", NOT_FOUND_HTML
        try:
            day = datetime.strptime(parts[2], "%Y%m%d").date()
        except ValueError:
            return 404, "text/html", NOT_FOUND_HTML
        if day in self.unpublished_days:
            return 404, "text/html", NOT_FOUND_HTML
        if day in self.html_days:
            return 200, "text/html", b"<!DOCTYPE html><html><body>Today's Outlook</body></html>"
        if self.recordings_dir is not None:
            recorded = self.recordings_dir.joinpath(*parts[1:])
            if not recorded.is_file():
                return 404, "text/html", NOT_FOUND_HTML
            return 200, "text/csv", recorded.read_bytes()
        return 200, "text/csv", generators[parts[3]](day, fall_back=self.fall_back)


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        self.reply(*self.server.fake.handle(urlsplit(self.path).path))


FakeOutlook.handler = _Handler
FakeOutlook.thread_name = "fake-outlook"
