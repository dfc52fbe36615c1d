"""Freshness: per ISO, a check that turns red when its newest real-time interval in DuckDB is older
than an allowed lag (default 30 minutes; `POWER_ASSETS_REALTIME_MAX_LAG_MINUTES`, or
`POWER_ASSETS_{ISO}_REALTIME_MAX_LAG_MINUTES` for one ISO).

"Normal operation" is an ISO whose real-time sensor is running: the `realtime_freshness` schedule
evaluates, every 5 minutes, the checks of exactly those ISOs. The checks read what the last
`warehouse/*` materializations of today's and yesterday's partitions recorded, so they measure
data a user can query, not merely that a run happened.
"""

import os
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from power_assets.automation.selection import AssetJob, realtime_sensor_name
from power_assets.isos import IsoDefinition
from power_assets.keys import (
    FRESHNESS_JOB,
    asset_group,
    freshness_check_key,
    freshness_check_name,
    freshness_run_key,
    partition_key,
    realtime_feed_key,
    stage_key,
    stage_keys,
)
from power_assets.resources import ClockResource

__all__ = ["FRESHNESS_JOB"]  # re-exported: the job's name, from keys

DEFAULT_MAX_LAG = timedelta(minutes=30)
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


def feed_specs(isos: list[IsoDefinition]) -> list[dg.AssetSpec]:
    """One external asset per ISO with real-time data: nothing materializes it; its check does.

    The freshness check hangs on this asset, not on the `warehouse/*` assets themselves: checks on
    those would run inside every stage run (and every backfill of old days) and be red there for
    ISOs that run no sensor.
    """
    return [
        dg.AssetSpec(
            realtime_feed_key(iso.id),
            deps=stage_keys(iso.realtime.datasets, stages=("warehouse",)),
            # its own box in the lineage graph, where the node reads just the ISO id
            group_name=asset_group(realtime_feed_key(iso.id)),
            description=f"{iso.id}'s real-time data as queryable in DuckDB, kept current by "
            f"the {realtime_sensor_name(iso)} sensor; its freshness check says how current.",
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
    partitions = [str(partition_key(day, iso.id)) for day in (today, today - timedelta(days=1))]
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=stage_key("warehouse", iso.realtime.probe_dataset),
            asset_partitions=partitions,
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
        asset=realtime_feed_key(iso.id),
        name=freshness_check_name(iso.id),
        description=f"{iso.id}'s newest real-time interval in DuckDB is at most the allowed lag "
        f"old (default {DEFAULT_MAX_LAG}; {LAG_ENV}).",
    )
    def freshness(context: dg.AssetCheckExecutionContext, clock: ClockResource):
        return evaluate_freshness(context.instance, iso, clock.now())

    return freshness


def freshness_checks(isos: list[IsoDefinition]) -> list[dg.AssetChecksDefinition]:
    return [build_freshness_check(iso) for iso in isos if iso.realtime is not None]


def freshness_job(isos: list[IsoDefinition]) -> AssetJob:
    checks = [freshness_check_key(iso.id) for iso in isos if iso.realtime is not None]
    return dg.define_asset_job(
        FRESHNESS_JOB,
        selection=dg.AssetSelection.checks(*checks),
        description="The real-time freshness checks (no data is materialized).",
    )


def running_realtime_isos(instance: dg.DagsterInstance, isos: list[IsoDefinition]) -> list[str]:
    """ISOs whose real-time sensor is switched on in this Dagster instance."""
    names = {realtime_sensor_name(iso): iso.id for iso in isos if iso.realtime is not None}
    running = set()
    # Dagster exports no way to ask which sensors are switched on; this instance method (not marked
    # public) is the only one. Its filter by instigator type takes an enum Dagster does not export,
    # so it goes unfiltered: the schedules it lists too never match, as Dagster refuses a schedule
    # named like a sensor of the same code location.
    for state in instance.all_instigator_state():
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
        return dg.RunRequest(
            run_key=freshness_run_key(context.scheduled_execution_time or datetime.now()),
            asset_check_keys=[freshness_check_key(iso.id) for iso in watched if iso.id in live],
            asset_selection=[],
        )

    return freshness_schedule
