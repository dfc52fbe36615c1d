"""The real-time sensors: one per ISO, asking the ISO every 30 seconds whether a new interval exists.

Each tick sends the ISO's cheap probe (`RealtimeProbe.latest_interval_request`: one node, a file's
tail, or a document listing) with a 5-second timeout and no retry, and compares the newest
published interval with the JSON cursor. Only a newer interval requests a run, for the market day
that interval belongs to; its run key names the interval, so a repeated tick (or a cursor lost and
rebuilt) never runs the same update twice. When the newest interval belongs to a new market day,
the old day gets one last "closing" run first, so the intervals published just before midnight are
not left behind.
"""

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from power_assets.automation.selection import (
    realtime_combined_keys,
    realtime_job_name,
    realtime_sensor_name,
)
from power_assets.errors import PowerAssetsError
from power_assets.io.http import IsoHttpClient
from power_assets.isos import IsoDefinition, RealtimeProbe
from power_assets.keys import (
    ISO_TAG,
    PUBLISHED_THROUGH_TAG,
    TRIGGER_TAG,
    partition_key,
    realtime_run_key,
    stage_keys,
)
from power_assets.resources import ClockResource, StorageResource

PROBE_TIMEOUT_S = 5.0
# How long a tick may wait for the ISO's request spacing while downloads are running.
PROBE_SPACING_BUDGET_S = 2.0
TICK_SECONDS = 30
# A dataset whose first interval of the day ended this long ago is expected to have data.
PUBLICATION_GRACE = timedelta(minutes=10)


@dataclass(frozen=True)
class RealtimeCursor:
    """The newest interval end seen (UTC) and the market day it belongs to."""

    last_interval_end: datetime | None = None
    market_day: date | None = None

    @classmethod
    def parse(cls, text: str | None) -> "RealtimeCursor":
        if not text:
            return cls()
        data = json.loads(text)
        end = data.get("last_interval_end")
        day = data.get("market_day")
        return cls(
            datetime.fromisoformat(end) if end else None,
            date.fromisoformat(day) if day else None,
        )

    def serialize(self) -> str:
        return json.dumps(
            {
                "last_interval_end": self.last_interval_end.isoformat()
                if self.last_interval_end
                else None,
                "market_day": self.market_day.isoformat() if self.market_day else None,
            },
            sort_keys=True,
        )


def market_day_of(iso: IsoDefinition, interval_end: datetime) -> date:
    """The ISO-local market day an interval ending at `interval_end` belongs to."""
    assert iso.realtime is not None
    interval = iso.dataset(iso.realtime.probe_dataset).interval
    return (interval_end - interval).astimezone(ZoneInfo(iso.timezone)).date()


def run_selection(
    iso: IsoDefinition, day: date, now: datetime, storage: StorageResource, closing: bool
) -> list[dg.AssetKey]:
    """What a run for `day` refreshes: the real-time datasets that can have data by now, every
    stage, plus the combined DA+AS+RT files when the day's DA+AS file exists to combine with."""
    assert iso.realtime is not None
    day_start = iso.market_day_bounds(day)[0]
    datasets = [
        dataset
        for dataset in iso.realtime.datasets
        if closing
        or dataset == iso.realtime.probe_dataset
        or now >= day_start + iso.dataset(dataset).interval + PUBLICATION_GRACE
    ]
    keys = stage_keys(datasets)
    layout = storage.layout()
    if (
        iso.combined.real_time in datasets
        and storage.holds(layout.combined_daily(iso.id, "da_as_hourly", day))
    ):
        keys += realtime_combined_keys()
    return keys


def decide(
    iso: IsoDefinition,
    cursor: RealtimeCursor,
    latest: datetime | None,
    now: datetime,
    storage: StorageResource,
) -> tuple[list[dg.RunRequest], RealtimeCursor, str | None]:
    """Run requests, the next cursor, and a skip reason (when there is nothing to run)."""
    if latest is None:
        return [], cursor, f"{iso.id}: no interval of today published yet"
    if cursor.last_interval_end is not None and latest <= cursor.last_interval_end:
        return [], cursor, f"{iso.id}: nothing new since {cursor.last_interval_end.isoformat()}"
    day = market_day_of(iso, latest)
    requests = []
    if cursor.market_day is not None and cursor.market_day < day:
        requests.append(_run_request(iso, cursor.market_day, "closing", now, storage, closing=True))
    stamp = latest.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ")
    requests.append(_run_request(iso, day, stamp, now, storage, closing=False, latest=latest))
    return requests, RealtimeCursor(latest, day), None


def _run_request(
    iso: IsoDefinition,
    day: date,
    what: str,
    now: datetime,
    storage: StorageResource,
    *,
    closing: bool,
    latest: datetime | None = None,
) -> dg.RunRequest:
    tags = {ISO_TAG: iso.id, TRIGGER_TAG: "realtime"}
    if latest is not None:
        tags[PUBLISHED_THROUGH_TAG] = latest.isoformat()
    keys = run_selection(iso, day, now, storage, closing)
    return dg.RunRequest(
        run_key=realtime_run_key(iso.id, day, what),
        partition_key=str(partition_key(day, iso.id)),
        asset_selection=keys,
        tags=tags,
    )


def build_realtime_sensor(iso: IsoDefinition) -> dg.SensorDefinition:
    assert iso.realtime is not None
    name = realtime_sensor_name(iso)

    @dg.sensor(
        name=name,
        job_name=realtime_job_name(iso),
        minimum_interval_seconds=TICK_SECONDS,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=f"Every {TICK_SECONDS} s: asks {iso.id} for its newest "
        f"{iso.realtime.probe_dataset} interval and, when there is a new one, runs today's "
        f"real-time datasets ({', '.join(iso.realtime.datasets)}) through every stage.",
    )
    def realtime_sensor(
        context: dg.SensorEvaluationContext,
        iso_http: IsoHttpClient,
        clock: ClockResource,
        storage: StorageResource,
    ):
        now = clock.now()
        cursor = RealtimeCursor.parse(context.cursor)
        assert isinstance(iso, RealtimeProbe)  # the registry refuses a feed without a probe
        missing = iso.unavailable_reason(iso.realtime.probe_dataset, iso_http.secrets_for(iso))
        if missing:
            return dg.SkipReason(f"{iso.id}: not probing: {missing}")
        probe = iso.latest_interval_request(now)
        try:
            answer = iso_http.probe(
                iso, probe, timeout_s=PROBE_TIMEOUT_S, spacing_budget_s=PROBE_SPACING_BUDGET_S
            )
            if answer is None:
                return dg.SkipReason(
                    f"{iso.id}: requests are spaced for running downloads; probing next tick"
                )
            latest = iso.latest_interval_end(iso.realtime.probe_dataset, answer.content, answer.url)
        except PowerAssetsError as exc:
            # A missing file (before the day's first publication), a timeout, an ISO error page.
            return dg.SkipReason(f"{iso.id}: probe failed, trying again next tick: {exc}")
        requests, new_cursor, skip = decide(iso, cursor, latest, now, storage)
        if skip is not None:
            return dg.SkipReason(skip)
        context.update_cursor(new_cursor.serialize())
        return requests

    return realtime_sensor


def realtime_sensors(isos: list[IsoDefinition]) -> list[dg.SensorDefinition]:
    return [build_realtime_sensor(iso) for iso in isos if iso.realtime is not None]
