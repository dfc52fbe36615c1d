"""Day-ahead schedules: one per ISO, shortly after its day-ahead market publishes (ISO-local time).

The first tick materializes tomorrow's partition of the ISO's day-ahead datasets. The retry tick,
later the same afternoon, runs again only if tomorrow's day-ahead prices are still not stored (the
ISO published late, or the first run failed); otherwise it skips and says why.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from power_assets.automation.selection import day_ahead_job_name
from power_assets.isos import IsoDefinition
from power_assets.keys import (
    ISO_TAG,
    TRIGGER_TAG,
    day_ahead_run_key,
    day_ahead_schedule_name,
    partition_key,
    stage_key,
)
from power_assets.resources import ClockResource


def _cron(at: time) -> str:
    return f"{at.minute} {at.hour} * * *"


def tomorrow_of(iso: IsoDefinition, now: datetime) -> date:
    return now.astimezone(ZoneInfo(iso.timezone)).date() + timedelta(days=1)


def is_retry_tick(iso: IsoDefinition, now: datetime) -> bool:
    """Whether `now` (a tick) is at or after the retry time rather than the first publication."""
    assert iso.day_ahead is not None
    return now.astimezone(ZoneInfo(iso.timezone)).time() >= iso.day_ahead.retry


def day_ahead_stored(instance: dg.DagsterInstance, iso: IsoDefinition, day: date) -> bool:
    """Whether every day-ahead dataset of `day` reached the DuckDB store (a successful run)."""
    assert iso.day_ahead is not None
    partition = str(partition_key(day, iso.id))
    for dataset in iso.day_ahead.datasets:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(
                asset_key=stage_key("warehouse", dataset), asset_partitions=[partition]
            ),
            limit=1,
        ).records
        if not records:
            return False
    return True


def build_day_ahead_schedule(iso: IsoDefinition) -> dg.ScheduleDefinition:
    plan = iso.day_ahead
    assert plan is not None

    @dg.schedule(
        name=day_ahead_schedule_name(iso.id),
        job_name=day_ahead_job_name(iso),
        cron_schedule=[_cron(plan.publish), _cron(plan.retry)],
        execution_timezone=iso.timezone,
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=f"{iso.id} day-ahead ({', '.join(plan.datasets)}) for tomorrow at "
        f"{plan.publish:%H:%M} {iso.timezone}, retried at {plan.retry:%H:%M} if not stored yet.",
    )
    def day_ahead_schedule(context: dg.ScheduleEvaluationContext, clock: ClockResource):
        # The tick's own time, so a late evaluation still targets the right day; the clock
        # resource stands in for it when a test evaluates the schedule directly.
        now = context.scheduled_execution_time or clock.now()
        tomorrow = tomorrow_of(iso, now)
        retry = is_retry_tick(iso, now)
        if retry and day_ahead_stored(context.instance, iso, tomorrow):
            return dg.SkipReason(f"{iso.id} day-ahead for {tomorrow} is already stored")
        attempt = "retry" if retry else "first"
        return dg.RunRequest(
            run_key=day_ahead_run_key(iso.id, tomorrow, attempt),
            partition_key=str(partition_key(tomorrow, iso.id)),
            tags={ISO_TAG: iso.id, TRIGGER_TAG: f"day_ahead_{attempt}"},
        )

    return day_ahead_schedule


def day_ahead_schedules(isos: list[IsoDefinition]) -> list[dg.ScheduleDefinition]:
    return [build_day_ahead_schedule(iso) for iso in isos if iso.day_ahead is not None]
