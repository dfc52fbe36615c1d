"""PJM's `IsoDefinition`: datasets, bounds, schedules, planning, key, payload checks, dispatch.

What belongs here: the `Pjm` class: what PJM offers (every dataset's spec and value bounds), which
feed is asked for a day (`feeds`: verified history, today's current feeds, archive rules), the
subscription key, telling errors and "no data" from data, and dispatch to the parsers (`parsing`),
the drop-folder rules (`drops`) and the real-time probe (`realtime`).

Everything comes from Data Miner 2 (`api.pjm.com/api/v1`), which needs a free subscription key
(`POWER_ASSETS_PJM_SUBSCRIPTION_KEY`, sent as the `Ocp-Apim-Subscription-Key` header).
"""

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import ClassVar

import polars as pl

from power_assets.errors import (
    IsoErrorResponse,
    IsoNoDataError,
    MalformedFileError,
)
from power_assets.isos.base import (
    NO_SECRETS,
    AuthSession,
    CombinedSources,
    DatasetKind,
    DatasetSpec,
    DayAheadSchedule,
    DownloadRequest,
    IntervalLabel,
    IsoDefinition,
    Lister,
    RealtimeFeed,
    Secret,
    Secrets,
    ValueBound,
)
from power_assets.isos.pjm import drops, parsing, realtime
from power_assets.isos.pjm.feeds import (
    CURRENT_FEEDS,
    DAY,
    EASTERN,
    FEEDS,
    FIVE_MINUTES,
    HISTORY_FEEDS,
    HOUR,
    RESERVES_FIVE_MINUTE_FROM,
    TIMEZONE,
    DataMinerPager,
    is_archived,
    page_request,
    split_at_utc_years,
    total_rows,
)

SUBSCRIPTION_KEY_ENV = "POWER_ASSETS_PJM_SUBSCRIPTION_KEY"
KEY_HEADER = "Ocp-Apim-Subscription-Key"
# An hour of unverified 5-minute prices stands once this long past its end (the last interval's
# prices are posted within minutes); it is replaced whole when the verified day appears.
UNVERIFIED_SETTLES = timedelta(minutes=15)
# Verified and metered data (RT hourly LMPs, reserve results, metered load) post the next
# business day: a day counts as closed, missing parts and all, only after a long weekend.
VERIFIED_ALLOWANCE = timedelta(days=4)
NO_DATA_TEXT = ("no data", "no records")
# How long after a day ends a feed's answer for it can still change, so a response fetched
# earlier is fetched again: verified and metered feeds post (and re-post) over the next business
# days; the fuel mix's last hour posts after the hour. Day-ahead feeds are final at day end.
SETTLES = {
    "rt_hrl_lmps": VERIFIED_ALLOWANCE,
    "reserve_market_results": VERIFIED_ALLOWANCE,
    "hrl_load_metered": VERIFIED_ALLOWANCE,
    "load_frcstd_hist": timedelta(days=1),
    "gen_by_fuel": timedelta(hours=3),
}


def _spec(id_: str, kind: DatasetKind, market: str, step: timedelta, text: str) -> DatasetSpec:
    # lmp_rt5 is asked hour by hour while unverified, so a run for today fetches only new hours.
    window = HOUR if id_ == "lmp_rt5" else DAY
    return DatasetSpec(id_, kind, market, step, IntervalLabel.START, text, request_window=window)


class Pjm(IsoDefinition):
    id: ClassVar[str] = "PJM"
    name: ClassVar[str] = "PJM Interconnection (Data Miner 2)"
    timezone: ClassVar[str] = TIMEZONE
    default_base_url: ClassVar[str] = "https://api.pjm.com/api/v1"
    # PJM allows 600 requests a minute per key; one every 0.2 s stays well inside it.
    min_request_spacing_s: ClassVar[float] = 0.2
    secrets: ClassVar[tuple[Secret, ...]] = (Secret("subscription_key", SUBSCRIPTION_KEY_ENV),)
    datasets: ClassVar[dict[str, DatasetSpec]] = {
        "lmp_da": _spec("lmp_da", DatasetKind.LMP, "DAM", HOUR,
            "Day-ahead hourly LMP, every pnode (da_hrl_lmps); superseded versions dropped and counted"),
        "lmp_rt_hourly": _spec("lmp_rt_hourly", DatasetKind.LMP, "RTH", HOUR,
            "Real-time hourly verified LMP, every pnode (rt_hrl_lmps), posted the next business day"),
        "lmp_rt5": _spec("lmp_rt5", DatasetKind.LMP, "RT5M", FIVE_MINUTES,
            "Real-time 5-minute LMP, every pnode: verified (rt_fivemin_hrl_lmps, market RT5M) once "
            "PJM has verified the day, until then unverified (rt_unverified_fivemin_lmps, market "
            "RT5M_PRELIM, energy = total - congestion - loss), replaced when the day is verified"),
        "as_da": _spec("as_da", DatasetKind.AS_PRICE, "DAM", HOUR,
            "Day-ahead reserve clearing prices by locale (da_reserve_market_results): SR->SPIN_10, "
            "PR->PRIMARY_10, 30MIN->OPERATING_30"),
        "as_rt": _spec("as_rt", DatasetKind.AS_PRICE, "RT5M", FIVE_MINUTES,
            "Real-time reserve and regulation clearing prices by locale (reserve_market_results): "
            "hourly (market RTH) until 2022-08-31, 5-minute (RT5M) from 2022-09-01; REG with its "
            "capability (REG_CAPABILITY) and performance (REG_PERFORMANCE) prices"),
        "load": _spec("load", DatasetKind.LOAD, "RT", HOUR,
            "Hourly metered load by load area (hrl_load_metered); today: instantaneous load "
            "(inst_load) averaged over each hour so far"),
        "load_forecast": _spec("load_forecast", DatasetKind.LOAD_FORECAST, "DAM", HOUR,
            "Hourly 7-day load forecast by forecast area: past days every vintage "
            "(load_frcstd_hist), today and later the current vintage (load_frcstd_7_day)"),
        "fuel_mix": _spec("fuel_mix", DatasetKind.FUEL_MIX, "RT", HOUR,
            "Hourly generation by fuel type, RTO-wide (gen_by_fuel)"),
    }  # fmt: skip
    combined: ClassVar[CombinedSources] = CombinedSources("lmp_da", "as_da", "lmp_rt5")
    realtime: ClassVar[RealtimeFeed] = RealtimeFeed(realtime.PROBE_DATASET, ("lmp_rt5",))
    # Day-ahead results post between 12:00 and 13:30 EPT (since 2016-04-01).
    day_ahead: ClassVar[DayAheadSchedule] = DayAheadSchedule(
        time(13, 40), time(15, 30), ("lmp_da", "as_da")
    )
    value_bounds: ClassVar[tuple[ValueBound, ...]] = (
        ValueBound(DatasetKind.LMP, 2000, 2015, -1_500.0, 5_000.0,
            "Offer cap $1,000/MWh; transmission-constraint penalty factors, losses and reserve "
            "shortage adders push nodal prices well past it, negative under congestion"),
        ValueBound(DatasetKind.LMP, 2016, 2100, -2_500.0, 10_000.0,
            "FERC Order 831 (from 2015-12-14): cost-based offers set LMP up to $2,000/MWh; "
            "constraint penalty factors and reserve shortage pricing (ORDC) add on top at nodes"),
        ValueBound(DatasetKind.AS_PRICE, 2000, 2100, -1.0, 10_000.0,
            "Reserve and regulation prices are not negative (-1 allows rounding); shortage "
            "pricing penalty factors bound them far below the upper limit"),
        ValueBound(DatasetKind.LOAD, 2000, 2100, 0.0, 220_000.0,
            "RTO-wide record peak about 165 GW (2006); load areas are smaller"),
        ValueBound(DatasetKind.LOAD_FORECAST, 2000, 2100, 0.0, 220_000.0,
            "Forecasts stay within the range of metered load"),
        ValueBound(DatasetKind.FUEL_MIX, 2000, 2100, -15_000.0, 120_000.0,
            "Storage and pumped hydro are negative while charging; gas, the largest fuel, "
            "stays far below RTO peak load"),
    )  # fmt: skip

    # -- planning ----------------------------------------------------------------------------

    def plan_day(
        self,
        dataset_id: str,
        day: date,
        lister: Lister,
        today: date | None = None,
        secrets: Secrets = NO_SECRETS,
    ) -> list[DownloadRequest]:
        self.dataset(dataset_id)
        today = today or datetime.now(EASTERN).date()
        start, end = self.market_day_bounds(day)
        if dataset_id == "lmp_rt5" and not self._verified(day, today, lister):
            return _unverified_hours(start, end)
        feed = FEEDS[(HISTORY_FEEDS if day < today else CURRENT_FEEDS)[dataset_id]]
        if is_archived(feed, day, today):
            windows = split_at_utc_years(start, end)
            labels = [""] if len(windows) == 1 else [f"_{s:%Y%m%dT%H%M}Z" for s, _ in windows]
            return [
                page_request(dataset_id, feed, s, e, archived=True, label=label)
                for (s, e), label in zip(windows, labels, strict=True)
            ]
        settles = SETTLES.get(feed.name)
        final_after = end + settles if settles is not None else None
        return [page_request(dataset_id, feed, start, end, final_after=final_after)]

    def _verified(self, day: date, today: date, lister: Lister) -> bool:
        """Whether PJM has verified `day`'s 5-minute LMPs: its last interval is in the verified
        feed (asked for one row). Today and later are never verified; archived days always are."""
        feed = FEEDS[HISTORY_FEEDS["lmp_rt5"]]
        if day >= today:
            return False
        if is_archived(feed, day, today):
            return True
        end = self.market_day_bounds(day)[1]
        probe = page_request("lmp_rt5", feed, end - FIVE_MINUTES, end, row_count=1)
        try:
            return (total_rows(lister(probe)) or 0) > 0
        except IsoNoDataError:
            return False

    def dataset_on(self, dataset_id: str, day: date) -> DatasetSpec:
        spec = self.dataset(dataset_id)
        if dataset_id == "as_rt" and day < RESERVES_FIVE_MINUTE_FROM:
            return replace(spec, interval=HOUR, market="RTH")
        return spec

    def pager(self, request: DownloadRequest) -> DataMinerPager:
        return DataMinerPager()

    def publication_allowance(self, dataset_id: str) -> timedelta:
        if dataset_id in ("lmp_da", "as_da", "lmp_rt5"):
            return super().publication_allowance(dataset_id)
        return VERIFIED_ALLOWANCE

    # -- the key -----------------------------------------------------------------------------

    def unavailable_reason(self, dataset_id: str, secrets: Secrets = NO_SECRETS) -> str | None:
        if secrets.get("subscription_key"):
            return None
        return (
            f"{self.id} {dataset_id} comes from PJM Data Miner 2, which needs a subscription key: "
            f"set {SUBSCRIPTION_KEY_ENV} (free: PJM Account Manager -> Data Miner API)"
        )

    def auth_headers(
        self, request: DownloadRequest, session: AuthSession, secrets: Secrets
    ) -> dict[str, str]:
        key = secrets.get("subscription_key")
        return {KEY_HEADER: key} if key else {}

    def explain_refusal(self, status: int, body: str) -> str | None:
        lowered = body.lower()
        if status == 401:
            return (
                f"PJM refused the subscription key ({_messages(body) or 'unauthorized'}): set "
                f"{SUBSCRIPTION_KEY_ENV} to a valid Data Miner 2 API key"
            )
        if "invalid attribute" in lowered and "archived" in lowered:
            return (
                "PJM has archived this data (hourly LMPs after 731 days, 5-minute LMPs after 186) "
                "and archived queries accept only date, type, row_is_current and version_nbr "
                f"filters; PJM said: {_messages(body)}"
            )
        if "spans over archived and standard" in lowered:
            return (
                "the day straddles PJM's archive cutoff, which moves daily: materialize it again "
                f"tomorrow, when it is wholly archived; PJM said: {_messages(body)}"
            )
        if status == 404:
            return f"PJM has no such feed (or the base URL is wrong): {body[:200]!r}"
        return _messages(body) or None

    # -- payloads ----------------------------------------------------------------------------

    def check_payload(self, content: bytes, source: str) -> None:
        head = content[:200].lstrip(b"\xef\xbb\xbf \t\r\n")
        if not head.startswith(b"{"):
            what = "an HTML page" if head.startswith(b"<") else "not JSON"
            raise MalformedFileError(
                f"{source}: PJM answered {what} instead of data: {len(content)} bytes starting "
                f"{content[:60]!r}"
            )
        total = total_rows(content)
        if total == 0:
            raise IsoNoDataError(source, "no-data", "totalRows 0 for the selection")
        if total is not None:
            return
        try:
            body = json.loads(content)
        except ValueError as exc:
            raise MalformedFileError(f"{source}: unreadable JSON from PJM: {exc}") from exc
        said = _messages(json.dumps(body))
        if any(text in said.lower() for text in NO_DATA_TEXT):
            raise IsoNoDataError(source, "no-data", said[:300])
        if said:
            raise IsoErrorResponse(source, "error", said[:300])
        raise MalformedFileError(f"{source}: a PJM answer without totalRows or errors")

    def parse(self, dataset_id: str, paths: Iterable[Path]) -> pl.DataFrame:
        return self.parse_with_notes(dataset_id, list(paths))[0]

    def parse_with_notes(
        self, dataset_id: str, paths: Sequence[Path]
    ) -> tuple[pl.DataFrame, dict[str, int]]:
        self.dataset(dataset_id)
        paths = [Path(p) for p in paths]
        if not paths:
            raise MalformedFileError(f"{self.id} {dataset_id}: no data files to parse")
        return parsing.parse_files(dataset_id, paths)

    # -- drop folders ------------------------------------------------------------------------

    def dropped_file_day(self, name: str) -> tuple[str, date] | None:
        return drops.dropped_file_day(name)

    def dropped_span_dataset(self, name: str) -> str | None:
        return drops.dropped_span_dataset(name)

    def span_file_days(self, dataset_id: str, path: Path) -> list[date]:
        return drops.span_file_days(dataset_id, path)

    def cut_span_day(self, dataset_id: str, path: Path, day: date, target: Path) -> int:
        return drops.cut_span_day(dataset_id, path, day, target)

    # -- real time ---------------------------------------------------------------------------

    def latest_interval_request(self, now: datetime) -> DownloadRequest:
        return realtime.probe_request(now)

    def latest_interval_end(self, dataset_id: str, content: bytes, source: str) -> datetime | None:
        if self.dataset(dataset_id).id != realtime.PROBE_DATASET:
            raise self.no_latest_interval(dataset_id)
        return realtime.latest_interval_end(content, source)


def _unverified_hours(start: datetime, end: datetime) -> list[DownloadRequest]:
    """Hour windows of the unverified feed, asked by UTC (the fall-back day's two 01:00 hours
    are two windows); one stands once `UNVERIFIED_SETTLES` past its end."""
    feed = FEEDS[CURRENT_FEEDS["lmp_rt5"]]
    requests, cursor = [], start
    while cursor < end:
        nxt = min(cursor + HOUR, end)
        requests.append(
            page_request("lmp_rt5", feed, cursor, nxt, final_after=nxt + UNVERIFIED_SETTLES,
                         label=f"_{cursor:%Y%m%dT%H%M}Z", by_utc=True)
        )  # fmt: skip
        cursor = nxt
    return requests


def _messages(body: str) -> str:
    """The messages of a Data Miner 2 error body (`{"errors": [{"message": ...}]}`, or API
    Management's `{"statusCode", "message"}`), joined; "" when there are none."""
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    errors = data.get("errors")
    if isinstance(errors, list):
        said = [
            " ".join(str(e.get(k)) for k in ("message", "detail") if e.get(k))
            for e in errors
            if isinstance(e, dict)
        ]
        return "; ".join(s for s in said if s)
    return str(data.get("message") or "")
