"""ISO-NE's `IsoDefinition`: datasets, bounds, schedules, requests, payload checks, dispatch.

What belongs here: the `Isone` class, which file or web service serves each dataset and its
request (final or prelim real-time hourly file, the six 5-minute files, web services with an ISO
Express account), and the payload check. Parsers live with their report family: `express` (static
CSVs, read through `records`) and `webservices` (JSON); the real-time probe in `realtime`.

Prices come from ISO Express's static CSV reports (no account needed); fuel mix, system load and
real-time reserve prices come from the web services (JSON, HTTP basic auth with an ISO Express
account).
"""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import ClassVar

import polars as pl

from power_assets.errors import IsoNoDataError, MalformedFileError
from power_assets.isos.base import (
    NO_SECRETS,
    CombinedSources,
    DatasetKind,
    DatasetSpec,
    DayAheadSchedule,
    DownloadRequest,
    IntervalLabel,
    NamedRequests,
    RealtimeFeed,
    Secret,
    Secrets,
    ValueBound,
)
from power_assets.isos.isone import realtime
from power_assets.isos.isone.common import EASTERN, TIMEZONE
from power_assets.isos.isone.express import (
    RT5_BLOCKS,
    STATIC,
    parse_hourly_lmp,
    parse_rt5_lmp,
    rt5_windows,
)
from power_assets.isos.isone.webservices import (
    WEB_SERVICES,
    WEBSERVICES,
    check_json,
    parse_web_service,
)
from power_assets.market_time import market_day_bounds

USERNAME_ENV, PASSWORD_ENV = "POWER_ASSETS_ISONE_USERNAME", "POWER_ASSETS_ISONE_PASSWORD"
# RT hourly final LMPs appear some business days after the operating day; before this many days
# the prelim file is fetched (and labelled RTH_PRELIM) and refetched on every run until then.
RT_FINAL_LAG_DAYS = 7
NO_DATA_TEXT = (b"no data exists", b"not available", b"no data available")
HOUR, FIVE_MIN, DAY = timedelta(hours=1), timedelta(minutes=5), timedelta(days=1)


def _spec(id_: str, kind: DatasetKind, market: str, step: timedelta, text: str) -> DatasetSpec:
    window = timedelta(hours=4) if id_ == "lmp_rt5" else DAY
    return DatasetSpec(id_, kind, market, step, IntervalLabel.START, text, request_window=window)


class Isone(NamedRequests):
    id: ClassVar[str] = "ISONE"
    name: ClassVar[str] = "ISO New England (ISO Express)"
    timezone: ClassVar[str] = TIMEZONE
    default_base_url: ClassVar[str] = "https://www.iso-ne.com"
    extra_base_urls: ClassVar[dict[str, str]] = {
        WEBSERVICES: "https://webservices.iso-ne.com/api/v1.1"
    }
    min_request_spacing_s: ClassVar[float] = 1.0
    datasets: ClassVar[dict[str, DatasetSpec]] = {
        "lmp_da": _spec("lmp_da", DatasetKind.LMP, "DAM", HOUR,
            "Day-ahead hourly LMP, all locations (WW_DALMP_ISO)"),
        "lmp_rt_hourly": _spec("lmp_rt_hourly", DatasetKind.LMP, "RTH", HOUR,
            f"Real-time hourly LMP: the final file (market RTH_FINAL) for days at least "
            f"{RT_FINAL_LAG_DAYS} days old, else the preliminary one (market RTH_PRELIM)"),
        "lmp_rt5": _spec("lmp_rt5", DatasetKind.LMP, "RT5M", FIVE_MIN,
            "Real-time 5-minute preliminary LMP, six local 4-hour files a day; the files give "
            "location ids only: hub and load zones are named, other nodes keep their id"),
        "fuel_mix": _spec("fuel_mix", DatasetKind.FUEL_MIX, "RT", FIVE_MIN,
            "Generation by fine fuel category (web services genfuelmix), resampled to 5 minutes: "
            "a snapshot holds until the next one and a fuel it does not list is at 0 MW; an "
            "interval holding snapshots gets their mean, an interval without one the latest "
            "earlier snapshot (within the file's first and last snapshot)"),
        "load": _spec("load", DatasetKind.LOAD, "RT", HOUR,
            "Hourly system load (web services hourlysysload): Load, which includes ARD demand "
            "(NativeLoad excludes it), area as published (NEPOOL AREA)"),
        "as_rt": _spec("as_rt", DatasetKind.AS_PRICE, "RT5M", FIVE_MIN,
            "Real-time 5-minute final reserve clearing prices by reserve zone (web services "
            "fiveminutereserveprice): TMSR->SPIN_10, TMNSR->NON_SYNC_10, TMOR->OPERATING_30"),
    }  # fmt: skip
    combined: ClassVar[CombinedSources] = CombinedSources("lmp_da", "as_rt", "lmp_rt5")
    realtime: ClassVar[RealtimeFeed] = RealtimeFeed("lmp_rt5", ("lmp_rt5", "fuel_mix"))
    # ISO Express web services (fuel mix, load, reserve prices) need an account.
    secrets: ClassVar[tuple[Secret, ...]] = (
        Secret("username", USERNAME_ENV),
        Secret("password", PASSWORD_ENV),
    )
    day_ahead: ClassVar[DayAheadSchedule] = DayAheadSchedule(
        time(13, 45), time(16, 15), ("lmp_da",)
    )
    value_bounds: ClassVar[tuple[ValueBound, ...]] = (
        ValueBound(DatasetKind.LMP, 2000, 2100, -1_500.0, 5_000.0,
            "Offer floor -$150 and FERC 831 caps ($1,000 soft, $2,000 hard), widened for "
            "congestion, losses and reserve-constraint penalty factors added to energy prices"),
        ValueBound(DatasetKind.AS_PRICE, 2000, 2100, -1.0, 5_000.0,
            "Reserve prices are not negative (-1 allows rounding); the sum of reserve "
            "constraint penalty factors stays far below the upper bound"),
        ValueBound(DatasetKind.LOAD, 2000, 2100, 0.0, 35_000.0,
            "New England's record peak is about 28,000 MW (2006), with margin"),
        ValueBound(DatasetKind.FUEL_MIX, 2000, 2100, -2_000.0, 30_000.0,
            "Pumped storage and batteries are negative while charging; no fuel exceeds load"),
    )  # fmt: skip

    def requests_for_day(
        self, dataset_id: str, day: date, today: date | None = None
    ) -> list[DownloadRequest]:
        self.dataset(dataset_id)
        start, end = self.market_day_bounds(day)
        stamp = f"{day:%Y%m%d}"
        if dataset_id == "lmp_rt5":
            return [
                _request(dataset_id, f"{STATIC}/5min-rt-prelim/lmp_5min_{stamp}_{block}.csv", s, e)
                for block, (s, e) in zip(RT5_BLOCKS, rt5_windows(day), strict=True)
            ]
        if dataset_id in WEB_SERVICES:
            service = WEB_SERVICES[dataset_id]
            return [
                _request(dataset_id, f"{service.path}/day/{stamp}", start, end,
                    file_name=f"{service.path.replace('/', '_')}_{stamp}.json",
                    endpoint=WEBSERVICES, needs_auth=True,
                    headers=(("Accept", "application/json"),))
            ]  # fmt: skip
        if dataset_id == "lmp_da":
            return [_request(dataset_id, f"{STATIC}/da-lmp/WW_DALMP_ISO_{stamp}.csv", start, end)]
        today = today or datetime.now(EASTERN).date()
        if (today - day).days >= RT_FINAL_LAG_DAYS:
            return [_request(dataset_id, f"{STATIC}/rt-lmp/lmp_rt_final_{stamp}.csv", start, end)]
        # Prelim values are never final under this name; refetch until the final file is due.
        due = market_day_bounds(TIMEZONE, day + timedelta(days=RT_FINAL_LAG_DAYS))[0]
        path = f"{STATIC}/rt-lmp/lmp_rt_prelim_{stamp}.csv"
        return [_request(dataset_id, path, start, end, final_after=due)]

    def credentials(self, request: DownloadRequest, secrets: Secrets) -> tuple[str, str] | None:
        username, password = secrets.get("username"), secrets.get("password")
        if not (request.needs_auth and username and password):
            return None
        return username, password

    def unavailable_reason(self, dataset_id: str, secrets: Secrets = NO_SECRETS) -> str | None:
        if dataset_id not in WEB_SERVICES:
            return None
        if secrets.get("username") and secrets.get("password"):
            return None
        return (
            f"{self.id} {dataset_id} comes from ISO-NE web services, which need an ISO Express "
            f"account: set {USERNAME_ENV} and {PASSWORD_ENV}"
        )

    def check_payload(self, content: bytes, source: str) -> None:
        head = content[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
        lowered = head.lower()
        if not head:
            raise MalformedFileError(f"{source}: empty response from ISO-NE")
        if head[:3] in (b'"C"', b'"H"', b"C,", b"H,"):
            return
        if head[:1] in (b"{", b"["):
            check_json(content, source)
            return
        if any(text in lowered for text in NO_DATA_TEXT):
            message = head[:200].decode("utf-8", errors="replace").strip()
            raise IsoNoDataError(source, "no-data", message)
        what = "an HTML page (login or maintenance?)" if head[:1] == b"<" else "not a report"
        raise MalformedFileError(
            f"{source}: ISO-NE answered {what} instead of data: {len(content)} bytes starting "
            f"{content[:60]!r}"
        )

    def latest_interval_request(self, now: datetime) -> DownloadRequest:
        return realtime.probe_request(now)

    def latest_interval_end(self, dataset_id: str, content: bytes, source: str) -> datetime | None:
        if self.dataset(dataset_id).id != realtime.PROBE_DATASET:
            raise self.no_latest_interval(dataset_id)
        return realtime.latest_interval_end(content, source)

    def parse(self, dataset_id: str, paths: Iterable[Path]) -> pl.DataFrame:
        spec = self.dataset(dataset_id)
        paths = [Path(p) for p in paths]
        if not paths:
            raise MalformedFileError(f"{self.id} {dataset_id}: no data files to parse")
        if dataset_id in WEB_SERVICES:
            frames = [parse_web_service(dataset_id, path) for path in paths]
        elif dataset_id == "lmp_rt5":
            frames = [parse_rt5_lmp(path) for path in paths]
        else:
            frames = [parse_hourly_lmp(path, spec) for path in paths]
        return pl.concat(frames, how="vertical")


def _request(dataset: str, path: str, start: datetime, end: datetime, **extra) -> DownloadRequest:
    file_name = extra.pop("file_name", path.rsplit("/", 1)[-1])
    return DownloadRequest(
        iso="ISONE", dataset=dataset, path=path, params=(), file_name=file_name,
        window_start=start, window_end=end, **extra,
    )  # fmt: skip
