"""Freshness: per ISO, a check that turns red when its newest real-time interval in DuckDB is older
than an allowed lag (default 30 minutes; `POWER_ASSETS_REALTIME_MAX_LAG_MINUTES`, or
`POWER_ASSETS_{ISO}_REALTIME_MAX_LAG_MINUTES` for one ISO).

"Normal operation" is an ISO whose real-time sensor is running: the `realtime_freshness` schedule
evaluates, every 5 minutes, the checks of exactly those ISOs. The checks read what the last
`warehouse__*` materializations of today's and yesterday's partitions recorded, so they measure
data a user can query, not merely that a run happened.
"""

import os
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition
from dagster._core.scheduler.instigation import InstigatorType

from power_assets.automation.selection import realtime_sensor_name
from power_assets.isos import IsoDefinition
from power_assets.resources import ClockResource

DEFAULT_MAX_LAG = timedelta(minutes=30)
FRESHNESS_JOB = "realtime_freshness"
LAG_ENV = "POWER_ASSETS_REALTIME_MAX_LAG_MINUTES"


def max_lag(iso: IsoDefinition) -> timedelta:
    """The allowed age of an ISO's newest real-time interval, from the environment."""
    for name in (f"POWER_ASSETS_{iso.id}_REALTIME_MAX_LAG_MINUTES", LAG_ENV):
        value = os.environ.get(name)
        if value:
            try:
                return timedelta(minutes=float(value))
            except ValueError:
                raise ValueError(f"{name}={value!r} is not a number of minutes") from None
    return DEFAULT_MAX_LAG


def check_name(iso: IsoDefinition) -> str:
    return f"realtime_fresh__{iso.id}"


def watched_asset(iso: IsoDefinition) -> str:
    """The asset a freshness check hangs on: the ISO's real-time feed as stored in DuckDB.

    Not the `warehouse__*` asset itself: checks on it would run inside every stage run (and every
    backfill of old days) and be red there for ISOs that run no sensor.
    """
    return f"realtime_feed__{iso.id}"


def stored_asset(iso: IsoDefinition) -> str:
    assert iso.realtime is not None
    return f"warehouse__{iso.realtime.probe_dataset}"


def feed_specs(isos: list[IsoDefinition]) -> list[dg.AssetSpec]:
    """One external asset per ISO with real-time data: nothing materializes it; its check does."""
    return [
        dg.AssetSpec(
            watched_asset(iso),
            deps=[f"warehouse__{dataset}" for dataset in iso.realtime.datasets],
            group_name="automation",
            description=f"{iso.id}'s real-time data as queryable in DuckDB, kept current by "
            f"the realtime__{iso.id} sensor; its freshness check says how current.",
        )
        for iso in isos
        if iso.realtime is not None
    ]


def newest_stored_interval_end(
    instance: dg.DagsterInstance, iso: IsoDefinition, now: datetime
) -> datetime | None:
    """End of the newest probe-dataset interval the store holds for today or yesterday (local)."""
    assert iso.realtime is not None
    today = now.astimezone(ZoneInfo(iso.timezone)).date()
    partitions = [f"{day.isoformat()}|{iso.id}" for day in (today, today - timedelta(days=1))]
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=dg.AssetKey(stored_asset(iso)), asset_partitions=partitions
        ),
        limit=10,
    ).records
    interval = iso.dataset(iso.realtime.probe_dataset).interval
    ends = []
    for record in records:
        materialization = record.asset_materialization
        value = materialization.metadata.get("last_interval") if materialization else None
        text = getattr(value, "value", value)
        if isinstance(text, str) and text != "none":
            ends.append(datetime.fromisoformat(text) + interval)
    return max(ends) if ends else None


def evaluate_freshness(
    instance: dg.DagsterInstance, iso: IsoDefinition, now: datetime
) -> dg.AssetCheckResult:
    allowed = max_lag(iso)
    newest = newest_stored_interval_end(instance, iso, now)
    if newest is None:
        return dg.AssetCheckResult(
            passed=False,
            metadata={
                "max_lag_minutes": allowed.total_seconds() / 60,
                "newest_interval_end": "none",
            },
            description=f"no {iso.id} real-time data stored for today or yesterday",
        )
    lag = max(timedelta(0), now - newest)  # ERCOT's newest SCED interval is still under way
    return dg.AssetCheckResult(
        passed=lag <= allowed,
        metadata={
            "newest_interval_end": newest.isoformat(),
            "lag_minutes": round(lag.total_seconds() / 60, 1),
            "max_lag_minutes": allowed.total_seconds() / 60,
        },
        description=f"{iso.id} newest real-time interval ended {lag} ago (allowed {allowed})",
    )


def build_freshness_check(iso: IsoDefinition) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=watched_asset(iso),
        name=check_name(iso),
        description=f"{iso.id}'s newest real-time interval in DuckDB is at most the allowed lag "
        f"old (default {DEFAULT_MAX_LAG}; {LAG_ENV}).",
    )
    def freshness(context: dg.AssetCheckExecutionContext, clock: ClockResource):
        return evaluate_freshness(context.instance, iso, clock.now())

    return freshness


def freshness_checks(isos: list[IsoDefinition]) -> list[dg.AssetChecksDefinition]:
    return [build_freshness_check(iso) for iso in isos if iso.realtime is not None]


def freshness_job(isos: list[IsoDefinition]) -> UnresolvedAssetJobDefinition:
    keys = [
        dg.AssetCheckKey(dg.AssetKey(watched_asset(iso)), check_name(iso))
        for iso in isos
        if iso.realtime is not None
    ]
    return dg.define_asset_job(
        FRESHNESS_JOB,
        selection=dg.AssetSelection.checks(*keys),
        description="The real-time freshness checks (no data is materialized).",
    )


def running_realtime_isos(instance: dg.DagsterInstance, isos: list[IsoDefinition]) -> list[str]:
    """ISOs whose real-time sensor is switched on in this Dagster instance."""
    names = {realtime_sensor_name(iso): iso.id for iso in isos if iso.realtime is not None}
    running = set()
    # Not in Dagster's public API: the only way to ask an instance which sensors are switched on.
    for state in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR):
        if state.name in names and state.is_running:
            running.add(names[state.name])
    return sorted(running)


def build_freshness_schedule(isos: list[IsoDefinition]) -> dg.ScheduleDefinition:
    watched = [iso for iso in isos if iso.realtime is not None]

    @dg.schedule(
        name=FRESHNESS_JOB,
        job_name=FRESHNESS_JOB,
        cron_schedule="*/5 * * * *",
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description="Every 5 minutes: the freshness checks of the ISOs whose real-time sensor runs.",
    )
    def freshness_schedule(context: dg.ScheduleEvaluationContext):
        live = running_realtime_isos(context.instance, watched)
        if not live:
            return dg.SkipReason("no real-time sensor is running; nothing is expected to be fresh")
        stamp = (context.scheduled_execution_time or datetime.now()).strftime("%Y%m%dT%H%M")
        return dg.RunRequest(
            run_key=f"freshness:{stamp}",
            asset_check_keys=[
                dg.AssetCheckKey(dg.AssetKey(watched_asset(iso)), check_name(iso))
                for iso in watched
                if iso.id in live
            ],
            asset_selection=[],
        )

    return freshness_schedule
